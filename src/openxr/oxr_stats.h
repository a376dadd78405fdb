/* SPDX-License-Identifier: Apache-2.0 */
/*
 * oxr_stats — what xrEndFrame costs, frame by frame, for OPENRR_STATS=1: the whole call, the
 * part spent waiting for the copy of the eyes on the GPU (the application's rendering ends
 * there too), and the part inside the stream's submit (colour conversion and encode). The
 * runtime's own overhead is the whole minus the encode. Printed at xrDestroySession.
 *
 * Threads: the thread calling xrEndFrame records; printing happens at session destroy.
 */
#ifndef OXR_STATS_H
#define OXR_STATS_H

#include <stdint.h>

#define OXR_STATS_SAMPLES 8192 /* the last 8192 frames (over two minutes at 60 Hz) */

struct oxr_stats {
    uint64_t frames; /* xrEndFrame calls with a projection layer */
    uint64_t streamed;
    uint64_t skipped; /* not submitted: not connected */
    uint32_t count;
    uint32_t next;
    uint32_t total_us[OXR_STATS_SAMPLES];
    uint32_t wait_us[OXR_STATS_SAMPLES];
    uint32_t encode_us[OXR_STATS_SAMPLES];
};

void oxr_stats_record(struct oxr_stats *s, uint64_t total_us, uint64_t wait_us, uint64_t encode_us);
/* One block of lines on stderr: medians and p99 of each part and of the overhead. */
void oxr_stats_print(const struct oxr_stats *s, const char *what);

#endif
