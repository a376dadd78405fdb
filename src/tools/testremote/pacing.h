/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pacing — the frame clock of openrr-testremote: ticks at a fixed rate on absolute deadlines
 * (clock_nanosleep on CLOCK_MONOTONIC), so sleep overshoot does not add up. A tick that is late
 * by less than a period is taken at once and the schedule kept; after a stall (the process was
 * stopped, the machine was busy) the clock restarts from now instead of racing through the
 * missed ticks, which would only flood the encoder and the link.
 *
 * Threads: one thread owns a pacer.
 */
#ifndef TR_PACING_H
#define TR_PACING_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

struct pacer {
    uint32_t fps;
    uint64_t origin_ns; /* when tick 0 of the current schedule is due */
    uint64_t tick;      /* the next tick of the schedule */
    uint64_t missed;    /* ticks given up after stalls */
    uint64_t stalls;    /* times the schedule restarted */
    uint64_t gap_ns;    /* how late the last wait found the schedule when it restarted it; 0 when
                           it did not */
};

/* Start a schedule of @p fps (> 0) ticks per second whose first tick is due now. */
void pacer_start(struct pacer *p, uint32_t fps);

/* Sleep until the next tick is due. false when a signal interrupted the sleep and @p stop is
 * set (the tick stays due); true at the tick. */
bool pacer_wait(struct pacer *p, const volatile sig_atomic_t *stop);

#endif
