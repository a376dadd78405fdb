/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench_report — the comparison table and the BENCH lines (see bench_report.h).
 * Threads: main thread.
 */
#include "bench_report.h"

#include <stdbool.h>
#include <stddef.h>

void bench_figures_init(struct bench_figures *f)
{
    f->connect_first_median_us = -1;
    f->connect_first_p99_us = -1;
    f->connect_cached_median_us = -1;
    f->connect_cached_p99_us = -1;
    f->bulk_mb_s = -1;
    f->rtt_median_us = -1;
    f->rtt_p99_us = -1;
    f->handshakes_per_s = -1;
}

enum target_kind {
    TARGET_NONE,      /* reported only */
    TARGET_RATIO_MAX, /* openrr / anchor <= limit (latencies) */
    TARGET_RATIO_MIN, /* openrr / anchor >= limit (throughput) */
    TARGET_ADDED_MAX, /* openrr - anchor <= limit, in the figure's unit */
};

struct row {
    const char *name;
    const char *unit;
    size_t offset; /* of the figure in struct bench_figures */
    enum target_kind kind;
    double limit;
    const char *target; /* the wording, for people */
};

/* The targets. Every ratio is openrr / anchor, whatever the direction of "better". */
static const struct row rows[] = {
    {"connect_first_median_us", "us", offsetof(struct bench_figures, connect_first_median_us),
     TARGET_RATIO_MAX, 1.5, "<= 1.5x A median"},
    {"connect_first_p99_us", "us", offsetof(struct bench_figures, connect_first_p99_us),
     TARGET_NONE, 0, "reported (vs A p99)"},
    {"connect_cached_median_us", "us", offsetof(struct bench_figures, connect_cached_median_us),
     TARGET_RATIO_MAX, 1.2, "<= 1.2x A median"},
    {"connect_cached_p99_us", "us", offsetof(struct bench_figures, connect_cached_p99_us),
     TARGET_NONE, 0, "reported (vs A p99)"},
    {"bulk_mb_s", "MB/s", offsetof(struct bench_figures, bulk_mb_s), TARGET_RATIO_MIN, 0.9,
     ">= 0.9x B"},
    {"small_rtt_median_us", "us", offsetof(struct bench_figures, rtt_median_us), TARGET_ADDED_MAX,
     20, "<= C median + 20 us"},
    {"small_rtt_p99_us", "us", offsetof(struct bench_figures, rtt_p99_us), TARGET_NONE, 0,
     "reported (vs C p99)"},
    {"handshakes_per_s", "1/s", offsetof(struct bench_figures, handshakes_per_s), TARGET_NONE, 0,
     "reported (vs D)"},
};

static double field(const struct bench_figures *f, size_t offset)
{
    return *(const double *)((const char *)f + offset);
}

/* "PASS", "MISS", or "-" when there is no target or a side was not measured. */
static const char *verdict(const struct row *r, double value, double anchor)
{
    if (r->kind == TARGET_NONE || value < 0 || anchor <= 0)
        return "-";
    bool pass = false;
    switch (r->kind) {
    case TARGET_RATIO_MAX:
        pass = value / anchor <= r->limit;
        break;
    case TARGET_RATIO_MIN:
        pass = value / anchor >= r->limit;
        break;
    case TARGET_ADDED_MAX:
        pass = value - anchor <= r->limit;
        break;
    case TARGET_NONE:
        break;
    }
    return pass ? "PASS" : "MISS";
}

static void print_value(FILE *out, double v)
{
    if (v < 0)
        fprintf(out, " %12s", "n/a");
    else
        fprintf(out, " %12.1f", v);
}

static void print_json_number(FILE *out, const char *key, double v, int decimals)
{
    if (v < 0)
        fprintf(out, "\"%s\":null", key);
    else
        fprintf(out, "\"%s\":%.*f", key, decimals, v);
}

void bench_report_print(FILE *out, const struct bench_figures *openrr,
                        const struct bench_figures *anchor)
{
    size_t n = sizeof(rows) / sizeof(rows[0]);
    fprintf(out, "\n%-26s %5s %12s %12s %8s  %-22s %s\n", "figure", "unit", "openrr", "anchor",
            "ratio", "target", "result");
    for (size_t i = 0; i < n; i++) {
        const struct row *r = &rows[i];
        double v = field(openrr, r->offset);
        double a = field(anchor, r->offset);
        fprintf(out, "%-26s %5s", r->name, r->unit);
        print_value(out, v);
        print_value(out, a);
        if (v >= 0 && a > 0)
            fprintf(out, " %7.2fx", v / a);
        else
            fprintf(out, " %8s", "n/a");
        fprintf(out, "  %-22s %s", r->target, verdict(r, v, a));
        if (r->kind == TARGET_ADDED_MAX && v >= 0 && a >= 0)
            fprintf(out, " (%+.1f %s)", v - a, r->unit);
        fputc('\n', out);
    }
    fputc('\n', out);
    for (size_t i = 0; i < n; i++) {
        const struct row *r = &rows[i];
        double v = field(openrr, r->offset);
        double a = field(anchor, r->offset);
        fprintf(out, "BENCH {\"name\":\"%s\",", r->name);
        print_json_number(out, "value", v, 3);
        fputc(',', out);
        print_json_number(out, "anchor", a, 3);
        fputc(',', out);
        print_json_number(out, "ratio", v >= 0 && a > 0 ? v / a : -1, 4);
        fprintf(out, ",\"unit\":\"%s\"}\n", r->unit);
    }
}
