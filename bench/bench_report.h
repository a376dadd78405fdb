/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench_report — turns the two sides' figures into the comparison table (with the issue's
 * targets) and one machine-readable BENCH line per figure. Reporting only: it decides nothing
 * about the exit status.
 * Threads: main thread.
 */
#ifndef OPENRR_BENCH_REPORT_H
#define OPENRR_BENCH_REPORT_H

#include <stdio.h>

#include "bench.h"

/* Every field set to "not measured" (printed as n/a, null in the BENCH lines). */
void bench_figures_init(struct bench_figures *f);

void bench_report_print(FILE *out, const struct bench_figures *openrr,
                        const struct bench_figures *anchor);

#endif /* OPENRR_BENCH_REPORT_H */
