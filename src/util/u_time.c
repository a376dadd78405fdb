/* SPDX-License-Identifier: Apache-2.0 */
/* Clock helpers; any thread. */
#include "u_time.h"

#include <time.h>

uint64_t u_time_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

uint64_t u_time_ms(void)
{
    return u_time_us() / 1000u;
}

uint64_t u_time_wall_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}
