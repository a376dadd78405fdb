/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench_stats — the clock and the order statistics every figure of bench_remoting uses, so
 * that the anchor and the OpenRR side are timed and summarised by the same code.
 * Threads: bench_now_ns() from any thread; a sample set belongs to one thread.
 */
#ifndef OPENRR_BENCH_STATS_H
#define OPENRR_BENCH_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t bench_now_ns(void);

/* A growable list of samples (microseconds, by convention). */
struct bench_samples {
    double *v;
    size_t n;
    size_t cap;
};

/* Reserve room for @p cap samples up front so that adding one never allocates mid-measurement.
 * Returns false when out of memory. */
bool bench_samples_init(struct bench_samples *s, size_t cap);
void bench_samples_fini(struct bench_samples *s);
/* Returns false when out of memory. */
bool bench_samples_add(struct bench_samples *s, double value);

/* Median (mean of the two middle samples when n is even); -1 when empty. */
double bench_samples_median(const struct bench_samples *s);
/* 99th percentile, nearest rank; -1 when empty. */
double bench_samples_p99(const struct bench_samples *s);

#endif /* OPENRR_BENCH_STATS_H */
