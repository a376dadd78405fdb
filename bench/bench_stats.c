/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench_stats — clock and order statistics shared by both sides of bench_remoting.
 * Threads: bench_now_ns() from any thread; a sample set belongs to one thread.
 */
#include "bench_stats.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

uint64_t bench_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

bool bench_samples_init(struct bench_samples *s, size_t cap)
{
    s->n = 0;
    s->cap = cap > 0 ? cap : 16;
    s->v = malloc(s->cap * sizeof(*s->v));
    return s->v != NULL;
}

void bench_samples_fini(struct bench_samples *s)
{
    free(s->v);
    s->v = NULL;
    s->n = 0;
    s->cap = 0;
}

bool bench_samples_add(struct bench_samples *s, double value)
{
    if (s->n == s->cap) {
        size_t cap = s->cap * 2;
        double *v = realloc(s->v, cap * sizeof(*v));
        if (v == NULL)
            return false;
        s->v = v;
        s->cap = cap;
    }
    s->v[s->n++] = value;
    return true;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a;
    double y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Sorted copy, so that summarising never reorders what the caller may still print. */
static double *sorted_copy(const struct bench_samples *s)
{
    if (s->n == 0)
        return NULL;
    double *v = malloc(s->n * sizeof(*v));
    if (v == NULL)
        return NULL;
    memcpy(v, s->v, s->n * sizeof(*v));
    qsort(v, s->n, sizeof(*v), cmp_double);
    return v;
}

double bench_samples_median(const struct bench_samples *s)
{
    double *v = sorted_copy(s);
    if (v == NULL)
        return -1;
    double m = (s->n % 2) ? v[s->n / 2] : (v[s->n / 2 - 1] + v[s->n / 2]) / 2;
    free(v);
    return m;
}

double bench_samples_p99(const struct bench_samples *s)
{
    double *v = sorted_copy(s);
    if (v == NULL)
        return -1;
    /* ceil(0.99 n) in integers; at least 1 since n > 0. */
    size_t rank = (99 * s->n + 99) / 100;
    double p = v[rank - 1];
    free(v);
    return p;
}
