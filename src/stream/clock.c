/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Clock synchronisation as NTP does it: from the four times of an exchange the offset is
 * ((t1 − t0) + (t2 − t3)) / 2 and the round trip (t3 − t0) − (t2 − t1). The sample with the
 * smallest round trip among the last few is the least disturbed by queueing, so it wins.
 */
#include "stream_internal.h"

#include <string.h>
#include <time.h>

uint64_t rr_stream_now_us(int64_t skew_us)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)((int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000 + skew_us);
}

void rr_clock_sync_reset(struct rr_clock_sync *c)
{
    memset(c, 0, sizeof(*c));
}

bool rr_clock_sync_add(struct rr_clock_sync *c, uint64_t t0, uint64_t t1, uint64_t t2, uint64_t t3)
{
    if (t3 < t0 || t2 < t1 || t3 - t0 < t2 - t1 || t3 - t0 > 10u * 1000u * 1000u) {
        return false;
    }
    int64_t offset = ((int64_t)(t1 - t0) + (int64_t)(t2 - t3)) / 2;
    uint32_t rtt = (uint32_t)((t3 - t0) - (t2 - t1));
    c->samples[c->next].offset_us = offset;
    c->samples[c->next].rtt_us = rtt;
    c->next = (c->next + 1) % RR_CLOCK_SAMPLES;
    if (c->count < RR_CLOCK_SAMPLES) {
        c->count++;
    }
    unsigned best = 0;
    for (unsigned i = 1; i < c->count; i++) {
        if (c->samples[i].rtt_us < c->samples[best].rtt_us) {
            best = i;
        }
    }
    c->offset_us = c->samples[best].offset_us;
    c->rtt_us = c->samples[best].rtt_us;
    c->valid = true;
    return true;
}

uint64_t rr_clock_to_player(uint64_t remote_us, int64_t offset_us)
{
    return remote_us == 0 ? 0 : (uint64_t)((int64_t)remote_us - offset_us);
}

uint64_t rr_clock_to_remote(uint64_t player_us, int64_t offset_us)
{
    return player_us == 0 ? 0 : (uint64_t)((int64_t)player_us + offset_us);
}
