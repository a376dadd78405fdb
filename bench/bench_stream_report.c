/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench_stream_report — the table and the BENCH lines of bench_stream (see
 * bench_stream_report.h).
 * Threads: main thread.
 */
#include "bench_stream_report.h"

#include <math.h>
#include <stdarg.h>

#define MAX_ROWS 64

enum verdict { VERDICT_NONE, VERDICT_PASS, VERDICT_MISS };

struct row {
    char name[64];
    const char *unit;
    double value;  /* NAN: not measured */
    double anchor; /* NAN: no anchor */
    double ratio;  /* NAN: none */
    int decimals;
    const char *target; /* the wording, for people; "reported" when none */
    enum verdict verdict;
};

struct rows {
    struct row v[MAX_ROWS];
    size_t n;
};

static struct row *add(struct rows *rs, const char *unit, int decimals, double value,
                       const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static struct row *add(struct rows *rs, const char *unit, int decimals, double value,
                       const char *fmt, ...)
{
    static struct row spare; /* absorbs rows beyond MAX_ROWS rather than writing past */
    struct row *r = rs->n < MAX_ROWS ? &rs->v[rs->n++] : &spare;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->name, sizeof(r->name), fmt, ap);
    va_end(ap);
    r->unit = unit;
    r->value = value;
    r->anchor = NAN;
    r->ratio = NAN;
    r->decimals = decimals;
    r->target = "reported";
    r->verdict = VERDICT_NONE;
    return r;
}

static enum verdict judge(bool measured, bool pass)
{
    return !measured ? VERDICT_NONE : pass ? VERDICT_PASS : VERDICT_MISS;
}

/* ---- the rows ---------------------------------------------------------------------------- */

/* BENCH names of enum bench_stage. */
static const char *const stage_names[BENCH_STAGE_COUNT] = {
    "pose_to_decoded",   "pose_to_present", "uplink",         "wait_render", "render",
    "render_to_encode",  "encode",          "encode_to_send", "transport",   "decode",
    "decode_to_present",
};

static double ms_median(const struct bench_samples *s)
{
    return s->n > 0 ? bench_samples_median(s) / 1000.0 : NAN;
}

static double ms_p99(const struct bench_samples *s)
{
    return s->n > 0 ? bench_samples_p99(s) / 1000.0 : NAN;
}

static void latency_rows(struct rows *rs, const struct bench_stream_run_result *l)
{
    for (int i = 0; i < BENCH_STAGE_COUNT; i++) {
        const struct bench_samples *s = l != NULL ? &l->stage[i] : NULL;
        double med = s != NULL ? ms_median(s) : NAN;
        struct row *r = add(rs, "ms", 3, med, "stream_%s_median_ms", stage_names[i]);
        if (i == BENCH_STAGE_TRANSPORT) {
            r->target = "<= 1 ms";
            r->verdict = judge(!isnan(med), med <= 1.0);
        }
        add(rs, "ms", 3, s != NULL ? ms_p99(s) : NAN, "stream_%s_p99_ms", stage_names[i]);
    }
}

static void encode_rows(struct rows *rs, const struct bench_encode_result *e)
{
    struct row *r = add(rs, "ms", 3, e != NULL ? e->subject_ms : NAN, "encode_ms_per_frame");
    r->anchor = e != NULL ? e->anchor_ms : NAN;
    r->ratio = e != NULL ? e->ratio : NAN;
    r->target = "<= 1.1x ffmpeg";
    r->verdict = judge(!isnan(r->ratio), r->ratio <= 1.1);
}

static void sustained_rows(struct rows *rs, const struct bench_stream_run_result *l)
{
    bool m = l != NULL && l->seconds > 0;
    struct row *r = add(rs, "1/s", 1, m ? bench_stream_run_fps(l) : NAN, "stream_presented_fps");
    r->target = ">= 57/s, skip < 2 %";
    r->verdict = judge(m, m && bench_stream_run_sustains(l));
    add(rs, "n", 0, m ? (double)l->remote_skipped : NAN, "stream_remote_skipped_frames");
    add(rs, "n", 0, m ? (double)l->player_skipped : NAN, "stream_player_skipped_frames");
    add(rs, "n", 0, m ? (double)l->discarded : NAN, "stream_discarded_frames");
    bool timed = m && l->timed > 0;
    add(rs, "%", 1, timed ? 100.0 * (double)l->within_budget / (double)l->timed : NAN,
        "stream_within_budget_pct");
}

const struct bench_stream_size *bench_stream_report_best(const struct bench_stream_report *r)
{
    const struct bench_stream_size *best = NULL;
    for (size_t i = 0; i < r->size_count; i++) {
        const struct bench_stream_size *s = &r->sizes[i];
        if (s->ran && s->sustains &&
            (best == NULL ||
             (uint64_t)s->eye_width * s->eye_height > (uint64_t)best->eye_width * best->eye_height))
            best = s;
    }
    return best;
}

static void sweep_rows(struct rows *rs, const struct bench_stream_report *rep)
{
    for (size_t i = 0; i < rep->size_count; i++) {
        const struct bench_stream_size *s = &rep->sizes[i];
        struct row *r = add(rs, "1/s", 1, s->ran ? s->fps : NAN, "stream_fps_%ux%u", s->eye_width,
                            s->eye_height);
        r->target = ">= 57/s, skip < 2 %";
        r->verdict = judge(s->ran, s->sustains);
    }
    const struct bench_stream_size *best = bench_stream_report_best(rep);
    bool any = rep->size_count > 0;
    add(rs, "px", 0, best != NULL ? best->eye_width : any ? 0 : NAN, "stream_max_60fps_eye_width");
    add(rs, "px", 0,
        best != NULL ? best->eye_height
        : any        ? 0
                     : NAN,
        "stream_max_60fps_eye_height");
}

/* ---- printing ---------------------------------------------------------------------------- */

static void print_value(FILE *out, double v, int decimals)
{
    if (isnan(v))
        fprintf(out, " %12s", "n/a");
    else
        fprintf(out, " %12.*f", decimals, v);
}

static void print_json_number(FILE *out, const char *key, double v, int decimals)
{
    if (isnan(v))
        fprintf(out, "\"%s\":null", key);
    else
        fprintf(out, "\"%s\":%.*f", key, decimals, v);
}

static const char *verdict_str(enum verdict v)
{
    return v == VERDICT_PASS ? "PASS" : v == VERDICT_MISS ? "MISS" : "-";
}

void bench_stream_report_print(FILE *out, const struct bench_stream_report *rep)
{
    static struct rows rs;
    rs.n = 0;
    latency_rows(&rs, rep->latency);
    encode_rows(&rs, rep->encode);
    sustained_rows(&rs, rep->latency);
    sweep_rows(&rs, rep);

    fprintf(out, "\n%-36s %5s %12s %12s %8s  %-20s %s\n", "figure", "unit", "openrr", "anchor",
            "ratio", "target", "result");
    for (size_t i = 0; i < rs.n; i++) {
        const struct row *r = &rs.v[i];
        fprintf(out, "%-36s %5s", r->name, r->unit);
        print_value(out, r->value, r->decimals);
        print_value(out, r->anchor, r->decimals);
        if (isnan(r->ratio))
            fprintf(out, " %8s", "n/a");
        else
            fprintf(out, " %7.2fx", r->ratio);
        fprintf(out, "  %-20s %s\n", r->target, verdict_str(r->verdict));
    }
    fputc('\n', out);
    for (size_t i = 0; i < rs.n; i++) {
        const struct row *r = &rs.v[i];
        fprintf(out, "BENCH {\"name\":\"%s\",", r->name);
        print_json_number(out, "value", r->value, 3);
        fputc(',', out);
        print_json_number(out, "anchor", r->anchor, 3);
        fputc(',', out);
        print_json_number(out, "ratio", r->ratio, 4);
        fprintf(out, ",\"unit\":\"%s\"}\n", r->unit);
    }
}
