/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench_interleave — the latency figures, taken one sample from each side in turn (A, A'
 * first, A' cached, A, …; C, C', C, …) so that the anchor and OpenRR see the same machine at
 * the same moments. Measured back to back instead, a build or a fuzzer starting on the other
 * core during one side's window would skew the ratio more than anything the library does.
 * Threads: the measuring (main) thread.
 */
#ifndef OPENRR_BENCH_INTERLEAVE_H
#define OPENRR_BENCH_INTERLEAVE_H

#include <stdbool.h>

#include "bench.h"
#include "bench_anchor.h"
#include "bench_openrr.h"

/*
 * Each side runs while its *ok is true and clears it on a functional error (printed); the
 * other side carries on alone. Fills the connect (resp. rtt) figures of the sides that
 * finished.
 */
void bench_interleave_connect(struct bench_anchor *a, struct bench_openrr *rr,
                              const struct bench_params *p, struct bench_figures *fa,
                              struct bench_figures *fo, bool *anchor_ok, bool *rr_ok);
void bench_interleave_rtt(struct bench_anchor *a, struct bench_openrr *rr,
                          const struct bench_params *p, struct bench_figures *fa,
                          struct bench_figures *fo, bool *anchor_ok, bool *rr_ok);

#endif /* OPENRR_BENCH_INTERLEAVE_H */
