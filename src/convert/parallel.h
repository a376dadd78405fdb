/* SPDX-License-Identifier: Apache-2.0 */
/*
 * parallel — a parallel for over an index range, for the stages whose work splits into
 * independent ranges (BVH passes, vertex quantisation). Threads are started per call: the
 * ranges are large (hundreds of thousands of items), so the ~50 µs a thread costs is noise.
 * Threads: the caller runs one range itself; @p fn runs on up to rr_convert_threads() threads
 * at once and must only write what its range owns (or its worker's slot).
 */
#ifndef RR_CONVERT_PARALLEL_H
#define RR_CONVERT_PARALLEL_H

#include <stdbool.h>
#include <stddef.h>

#define RR_CONVERT_MAX_THREADS 16

/* CPUs this process may run on (affinity mask, so a container's limit counts), 1..MAX. */
unsigned rr_convert_threads(void);

/* fn(user, begin, end, worker) over [0, n) cut into at most rr_convert_threads() ranges of at
 * least @p min_range items; worker is 0..ranges-1, distinct per range. Returns false when any
 * call returned false. */
bool rr_convert_parallel_for(size_t n, size_t min_range,
                             bool (*fn)(void *user, size_t begin, size_t end, unsigned worker),
                             void *user);

#endif
