/* SPDX-License-Identifier: Apache-2.0 */
/*
 * oxr_stats — per-frame xrEndFrame timings (see oxr_stats.h).
 *
 * Threads: record on the frame thread, print at session destroy.
 */
#include "oxr_stats.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint32_t clamp32(uint64_t v)
{
    return v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

void oxr_stats_record(struct oxr_stats *s, uint64_t total_us, uint64_t wait_us, uint64_t encode_us)
{
    s->total_us[s->next] = clamp32(total_us);
    s->wait_us[s->next] = clamp32(wait_us);
    s->encode_us[s->next] = clamp32(encode_us);
    s->next = (s->next + 1) % OXR_STATS_SAMPLES;
    if (s->count < OXR_STATS_SAMPLES) {
        s->count++;
    }
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* Median and p99 of @p v[0..n) in milliseconds (sorts a copy). */
static void percentiles(const uint32_t *v, uint32_t n, double *med, double *p99)
{
    uint32_t *c = malloc((size_t)n * sizeof *c);
    *med = *p99 = 0.0;
    if (c == NULL || n == 0) {
        free(c);
        return;
    }
    memcpy(c, v, (size_t)n * sizeof *c);
    qsort(c, n, sizeof *c, cmp_u32);
    *med = c[n / 2] / 1000.0;
    *p99 = c[(uint32_t)((uint64_t)(n - 1) * 99 / 100)] / 1000.0;
    free(c);
}

void oxr_stats_print(const struct oxr_stats *s, const char *what)
{
    uint32_t n = s->count;
    fprintf(stderr,
            "openrr_openxr: stats %s: %" PRIu64 " frames ended with a projection layer, %" PRIu64
            " streamed, %" PRIu64 " not streamed (no player)\n",
            what, s->frames, s->streamed, s->skipped);
    if (n == 0) {
        return;
    }
    uint32_t *over = malloc((size_t)n * sizeof *over);
    uint32_t *cpu = malloc((size_t)n * sizeof *cpu);
    if (over == NULL || cpu == NULL) {
        free(over);
        free(cpu);
        return;
    }
    for (uint32_t i = 0; i < n; i++) {
        uint32_t t = s->total_us[i], e = s->encode_us[i], w = s->wait_us[i];
        over[i] = t > e ? t - e : 0;
        cpu[i] = over[i] > w ? over[i] - w : 0;
    }
    double m, p;
    percentiles(s->total_us, n, &m, &p);
    fprintf(stderr,
            "openrr_openxr: stats xrEndFrame total       median %7.3f ms  p99 %7.3f ms (%" PRIu32
            " frames)\n",
            m, p, n);
    percentiles(s->encode_us, n, &m, &p);
    fprintf(stderr, "openrr_openxr: stats   submit (encode)      median %7.3f ms  p99 %7.3f ms\n",
            m, p);
    percentiles(over, n, &m, &p);
    fprintf(stderr, "openrr_openxr: stats   overhead (no encode) median %7.3f ms  p99 %7.3f ms\n",
            m, p);
    percentiles(s->wait_us, n, &m, &p);
    fprintf(stderr, "openrr_openxr: stats     GPU copy + wait    median %7.3f ms  p99 %7.3f ms\n",
            m, p);
    percentiles(cpu, n, &m, &p);
    fprintf(stderr, "openrr_openxr: stats     CPU (no GPU wait)  median %7.3f ms  p99 %7.3f ms\n",
            m, p);
    free(over);
    free(cpu);
}
