/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench_interleave — latency figures sampled alternately from both sides (see
 * bench_interleave.h).
 * Threads: the measuring (main) thread.
 */
#include "bench_interleave.h"

#include "bench_stats.h"

#include <stdio.h>

/* Samples of one figure; only kept once the warm-up is over. */
static bool keep(struct bench_samples *s, unsigned i, unsigned warmup, double us)
{
    if (i < warmup)
        return true;
    if (!bench_samples_add(s, us)) {
        fprintf(stderr, "bench: out of memory\n");
        return false;
    }
    return true;
}

void bench_interleave_connect(struct bench_anchor *a, struct bench_openrr *rr,
                              const struct bench_params *p, struct bench_figures *fa,
                              struct bench_figures *fo, bool *anchor_ok, bool *rr_ok)
{
    unsigned n = p->connect_iterations;
    struct bench_samples anchor = {0}, first = {0}, cached = {0}, first_lib = {0}, cached_lib = {0};
    if (!bench_samples_init(&anchor, n) || !bench_samples_init(&first, n) ||
        !bench_samples_init(&cached, n) || !bench_samples_init(&first_lib, n) ||
        !bench_samples_init(&cached_lib, n)) {
        fprintf(stderr, "bench: out of memory\n");
        *anchor_ok = false;
        *rr_ok = false;
    }
    bool started = *anchor_ok && bench_anchor_connect_start(a);
    *anchor_ok = started;
    for (unsigned i = 0; i < p->connect_warmup + n && (*anchor_ok || *rr_ok); i++) {
        double us = 0;
        double lib_us = 0;
        if (*anchor_ok)
            *anchor_ok =
                bench_anchor_connect_once(a, &us) && keep(&anchor, i, p->connect_warmup, us);
        /* A new client context: its connect is a first one. The same context right after
         * holds the token that connect used, so its reconnect is a cached one. */
        if (*rr_ok)
            *rr_ok = bench_openrr_connect_once(rr, true, &us, &lib_us) &&
                     keep(&first, i, p->connect_warmup, us) &&
                     keep(&first_lib, i, p->connect_warmup, lib_us);
        if (*rr_ok)
            *rr_ok = bench_openrr_connect_once(rr, false, &us, &lib_us) &&
                     keep(&cached, i, p->connect_warmup, us) &&
                     keep(&cached_lib, i, p->connect_warmup, lib_us);
    }
    if (started && !bench_anchor_session_stop(a))
        *anchor_ok = false;
    if (*anchor_ok) {
        /* The anchor has no token to cache: both OpenRR connect figures are judged against A. */
        fa->connect_first_median_us = bench_samples_median(&anchor);
        fa->connect_first_p99_us = bench_samples_p99(&anchor);
        fa->connect_cached_median_us = fa->connect_first_median_us;
        fa->connect_cached_p99_us = fa->connect_first_p99_us;
    }
    if (*rr_ok) {
        fo->connect_first_median_us = bench_samples_median(&first);
        fo->connect_first_p99_us = bench_samples_p99(&first);
        fo->connect_cached_median_us = bench_samples_median(&cached);
        fo->connect_cached_p99_us = bench_samples_p99(&cached);
        rr->lib_first_median_us = bench_samples_median(&first_lib);
        rr->lib_cached_median_us = bench_samples_median(&cached_lib);
    }
    bench_samples_fini(&anchor);
    bench_samples_fini(&first);
    bench_samples_fini(&cached);
    bench_samples_fini(&first_lib);
    bench_samples_fini(&cached_lib);
}

void bench_interleave_rtt(struct bench_anchor *a, struct bench_openrr *rr,
                          const struct bench_params *p, struct bench_figures *fa,
                          struct bench_figures *fo, bool *anchor_ok, bool *rr_ok)
{
    unsigned n = p->rtt_iterations;
    struct bench_samples anchor = {0}, openrr = {0};
    if (!bench_samples_init(&anchor, n) || !bench_samples_init(&openrr, n)) {
        fprintf(stderr, "bench: out of memory\n");
        *anchor_ok = false;
        *rr_ok = false;
    }
    /* Both connections stay open for the whole figure; only the messages alternate. */
    bool a_started = *anchor_ok;
    *anchor_ok = *anchor_ok && bench_anchor_rtt_start(a);
    bool rr_started = *rr_ok;
    *rr_ok = *rr_ok && bench_openrr_rtt_start(rr);
    for (unsigned i = 0; i < p->rtt_warmup + n && (*anchor_ok || *rr_ok); i++) {
        double us = 0;
        if (*anchor_ok)
            *anchor_ok = bench_anchor_rtt_once(a, &us) && keep(&anchor, i, p->rtt_warmup, us);
        if (*rr_ok)
            *rr_ok = bench_openrr_rtt_once(rr, &us) && keep(&openrr, i, p->rtt_warmup, us);
    }
    if (a_started && !bench_anchor_session_stop(a))
        *anchor_ok = false;
    if (rr_started && !bench_openrr_rtt_stop(rr))
        *rr_ok = false;
    if (*anchor_ok) {
        fa->rtt_median_us = bench_samples_median(&anchor);
        fa->rtt_p99_us = bench_samples_p99(&anchor);
    }
    if (*rr_ok) {
        fo->rtt_median_us = bench_samples_median(&openrr);
        fo->rtt_p99_us = bench_samples_p99(&openrr);
    }
    bench_samples_fini(&anchor);
    bench_samples_fini(&openrr);
}
