/* SPDX-License-Identifier: Apache-2.0 */
/*
 * noise — pseudo-random bytes fast enough to fill a whole stereo frame every tick (about a
 * millisecond for 2560×720 RGBA): openrr-testremote's "noise" scene, which no encoder can
 * compress, so the stream runs against its bitrate cap.
 *
 * Threads: any; the state is the caller's.
 */
#ifndef TR_NOISE_H
#define TR_NOISE_H

#include <stddef.h>
#include <stdint.h>

/* Four independent generators, so that the compiler can run them side by side in vector
 * registers. */
struct noise {
    uint64_t s[2][4];
};

void noise_init(struct noise *n, uint64_t seed);
/* Fill @p size bytes at @p buf (any alignment) and advance @p n. */
void noise_fill(struct noise *n, void *buf, size_t size);

#endif
