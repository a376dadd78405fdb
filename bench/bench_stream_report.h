/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench_stream_report — turns the three figures of bench_stream into one table (with the
 * issue's targets, for information) and one machine-readable BENCH line per row, in the same
 * format as bench_remoting's. Reporting only: it decides nothing about the exit status.
 * Threads: main thread.
 */
#ifndef OPENRR_BENCH_STREAM_REPORT_H
#define OPENRR_BENCH_STREAM_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "bench_stream_encode.h"
#include "bench_stream_run.h"

/* One size of the "highest resolution at 60 fps" sweep. */
struct bench_stream_size {
    uint32_t eye_width;
    uint32_t eye_height;
    bool ran;      /* measured (false: skipped or failed) */
    double fps;    /* new frames presented per second */
    double skip;   /* share of submitted frames the remote skipped */
    bool sustains; /* the rule of bench_stream.h */
};

struct bench_stream_report {
    const struct bench_stream_run_result *latency; /* figure 1 (and 3's first part); NULL: none */
    const struct bench_encode_result *encode;      /* figure 2; NULL: not run */
    const struct bench_stream_size *sizes;         /* figure 3's sweep, ascending */
    size_t size_count;
};

/* The largest swept size that sustains 60 fps; NULL when none did. */
const struct bench_stream_size *bench_stream_report_best(const struct bench_stream_report *r);

void bench_stream_report_print(FILE *out, const struct bench_stream_report *r);

#endif /* OPENRR_BENCH_STREAM_REPORT_H */
