/* SPDX-License-Identifier: Apache-2.0 */
/* u_time — monotonic time in microseconds and milliseconds. Any thread. */
#ifndef U_TIME_H
#define U_TIME_H
#include <stdint.h>

/* Monotonic clock, microseconds. */
uint64_t u_time_us(void);
/* Monotonic clock, milliseconds. */
uint64_t u_time_ms(void);
/* Wall clock, microseconds since the Unix epoch. */
uint64_t u_time_wall_us(void);

#endif
