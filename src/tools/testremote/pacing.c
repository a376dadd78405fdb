/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pacing — absolute-deadline frame clock (see pacing.h).
 *
 * Threads: one thread owns a pacer.
 */
#include "pacing.h"

#include <errno.h>
#include <time.h>

#define NS_PER_S 1000000000ull

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

/* Deadlines from the tick number, not by adding a rounded period: 60 fps stays exact. */
static uint64_t due_ns(const struct pacer *p, uint64_t tick)
{
    return p->origin_ns + tick * NS_PER_S / p->fps;
}

void pacer_start(struct pacer *p, uint32_t fps)
{
    p->fps = fps;
    p->origin_ns = now_ns();
    p->tick = 0;
    p->missed = 0;
    p->stalls = 0;
    p->gap_ns = 0;
}

bool pacer_wait(struct pacer *p, const volatile sig_atomic_t *stop)
{
    uint64_t now = now_ns();
    uint64_t due = due_ns(p, p->tick);
    p->gap_ns = 0;
    if (now > due_ns(p, p->tick + 1)) {
        /* More than a whole period late: a stall. Start again from now. */
        p->missed += (now - due) * p->fps / NS_PER_S;
        p->stalls++;
        p->gap_ns = now - due;
        p->origin_ns = now;
        p->tick = 0;
        due = now;
    }
    struct timespec ts = {.tv_sec = (time_t)(due / NS_PER_S), .tv_nsec = (long)(due % NS_PER_S)};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR) {
        if (*stop) {
            return false;
        }
    }
    p->tick++;
    return true;
}
