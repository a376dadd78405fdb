/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The inspector's JSON documents, built with jansson on the connection threads: the rings are
 * copied under their locks and formatted outside them, so the host's threads that log or
 * record timing events wait only for a memcpy.
 */
#include "inspector_internal.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

static const char *k_levels[] = {"trace", "debug", "info", "warn", "error"};

const char *rr_inspector_level_name(enum u_log_level level)
{
    return (int)level >= 0 && (int)level < 5 ? k_levels[level] : "unknown";
}

bool rr_inspector_parse_level(const char *name, enum u_log_level *out)
{
    for (int i = 0; i < 5; i++) {
        if (strcasecmp(name, k_levels[i]) == 0) {
            *out = (enum u_log_level)i;
            return true;
        }
    }
    return false;
}

/* jansson refuses NaN and infinities: they (and "unknown" negatives where asked) become null. */
static json_t *num(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

static json_t *stage_num(double v)
{
    return v >= 0 && isfinite(v) ? json_real(v) : json_null();
}

static json_t *uint_num(uint64_t v)
{
    return json_integer(v > (uint64_t)INT64_MAX ? INT64_MAX : (json_int_t)v);
}

/* json_dumps then json_decref; NULL when @p root is NULL or on out of memory. */
static char *dump(json_t *root)
{
    if (root == NULL) {
        return NULL;
    }
    char *text = json_dumps(root, JSON_COMPACT | JSON_ENSURE_ASCII | JSON_REAL_PRECISION(6));
    json_decref(root);
    return text;
}

static json_t *sample_object(const struct rr_inspector_sample *s)
{
    const struct rr_inspector_stats *st = &s->stats;
    json_t *stages = json_object();
    json_t *o = json_object();
    if (stages == NULL || o == NULL) {
        json_decref(stages);
        json_decref(o);
        return NULL;
    }
    for (int i = 0; i < RR_INSPECTOR_STAGE_COUNT; i++) {
        json_object_set_new(stages, rr_inspector_stage_name(i), stage_num(st->stage_ms[i]));
    }
    json_object_set_new(o, "seq", uint_num(s->seq));
    json_object_set_new(o, "t", uint_num(s->wall_ms));
    json_object_set_new(o, "frame_time_ms", num(st->frame_time_ms));
    json_object_set_new(o, "fps", num(st->fps));
    json_object_set_new(o, "stage_ms", stages);
    json_object_set_new(o, "bitrate_kbps", num(st->bitrate_kbps));
    json_object_set_new(o, "primitives", uint_num(st->primitives));
    json_object_set_new(o, "draws", uint_num(st->draws));
    json_object_set_new(o, "cpu_percent", num(st->cpu_percent));
    json_object_set_new(o, "resident_bytes", uint_num(st->resident_bytes));
    json_object_set_new(o, "client_connected", json_boolean(st->client_connected));
    json_object_set_new(o, "client", json_string(st->client));
    json_object_set_new(o, "codec", json_string(st->codec));
    json_object_set_new(o, "paused", json_boolean(st->paused));
    return o;
}

char *rr_inspector_json_sample(const struct rr_inspector_sample *s)
{
    return dump(sample_object(s));
}

/* The history as columns (one array per quantity): a fifth of the size of an array of
 * objects, and what the page's graphs want. */
static json_t *history_columns(const struct rr_inspector_sample *h, size_t n)
{
    static const char *cols[] = {"t",          "frame_time_ms", "fps",         "bitrate_kbps",
                                 "primitives", "draws",         "cpu_percent", "resident_bytes"};
    enum { NCOLS = sizeof(cols) / sizeof(cols[0]) };
    json_t *o = json_object();
    json_t *stages = json_object();
    json_t *arr[NCOLS];
    json_t *sarr[RR_INSPECTOR_STAGE_COUNT];
    /* json_object_set_new consumes the value even when it fails, so nothing leaks below. */
    bool ok = o != NULL && stages != NULL;
    for (int c = 0; c < NCOLS; c++) {
        arr[c] = json_array();
        ok = json_object_set_new(o, cols[c], arr[c]) == 0 && ok;
    }
    for (int i = 0; i < RR_INSPECTOR_STAGE_COUNT; i++) {
        sarr[i] = json_array();
        ok = json_object_set_new(stages, rr_inspector_stage_name(i), sarr[i]) == 0 && ok;
    }
    if (json_object_set_new(o, "stage_ms", stages) != 0 || !ok) {
        json_decref(o);
        return NULL;
    }
    for (size_t k = 0; k < n && ok; k++) {
        const struct rr_inspector_stats *st = &h[k].stats;
        json_t *v[NCOLS] = {
            uint_num(h[k].wall_ms), num(st->frame_time_ms),       num(st->fps),
            num(st->bitrate_kbps),  uint_num(st->primitives),     uint_num(st->draws),
            num(st->cpu_percent),   uint_num(st->resident_bytes),
        };
        for (int c = 0; c < NCOLS; c++) {
            ok = json_array_append_new(arr[c], v[c]) == 0 && ok;
        }
        for (int i = 0; i < RR_INSPECTOR_STAGE_COUNT; i++) {
            ok = json_array_append_new(sarr[i], stage_num(st->stage_ms[i])) == 0 && ok;
        }
    }
    if (!ok) {
        json_decref(o);
        return NULL;
    }
    return o;
}

char *rr_inspector_json_stats(struct rr_inspector *insp)
{
    pthread_mutex_lock(&insp->lock);
    size_t n = insp->history_len;
    struct rr_inspector_sample *h = malloc((n > 0 ? n : 1) * sizeof(*h));
    if (h != NULL) {
        size_t first = (insp->history_head + insp->history_cap - n) % insp->history_cap;
        for (size_t k = 0; k < n; k++) {
            h[k] = insp->history[(first + k) % insp->history_cap];
        }
    }
    pthread_mutex_unlock(&insp->lock);
    if (h == NULL) {
        return NULL;
    }
    json_t *root = json_object();
    json_t *stage_names = json_array();
    json_t *latest = n > 0 ? sample_object(&h[n - 1]) : json_null();
    json_t *history = history_columns(h, n);
    free(h);
    if (root == NULL || stage_names == NULL || latest == NULL || history == NULL) {
        json_decref(root);
        json_decref(stage_names);
        json_decref(latest);
        json_decref(history);
        return NULL;
    }
    for (int i = 0; i < RR_INSPECTOR_STAGE_COUNT; i++) {
        json_array_append_new(stage_names, json_string(rr_inspector_stage_name(i)));
    }
    json_object_set_new(root, "interval_ms", json_integer(insp->interval_ms));
    json_object_set_new(root, "stages", stage_names);
    json_object_set_new(root, "latest", latest);
    json_object_set_new(root, "history", history);
    return dump(root);
}

char *rr_inspector_json_log(struct rr_inspector *insp, enum u_log_level min_level)
{
    struct rr_inspector_log_line *lines = malloc(sizeof(insp->log));
    if (lines == NULL) {
        return NULL;
    }
    pthread_mutex_lock(&insp->log_lock);
    size_t n = insp->log_len;
    size_t first = (insp->log_head + RR_INSPECTOR_LOG_LINES - n) % RR_INSPECTOR_LOG_LINES;
    for (size_t k = 0; k < n; k++) {
        lines[k] = insp->log[(first + k) % RR_INSPECTOR_LOG_LINES];
    }
    pthread_mutex_unlock(&insp->log_lock);

    json_t *root = json_object();
    json_t *arr = json_array();
    bool ok = json_object_set_new(root, "lines", arr) == 0 && root != NULL;
    for (size_t k = 0; k < n && ok; k++) {
        if (lines[k].level < min_level) {
            continue;
        }
        json_t *l = json_object();
        ok = l != NULL && json_array_append_new(arr, l) == 0;
        if (ok) {
            json_object_set_new(l, "t", uint_num(lines[k].wall_ms));
            json_object_set_new(l, "level", json_string(rr_inspector_level_name(lines[k].level)));
            json_object_set_new(l, "module", json_string(lines[k].module));
            /* Log text is whatever a module formatted: not necessarily UTF-8. */
            json_t *msg = json_string(lines[k].message);
            json_object_set_new(l, "message", msg != NULL ? msg : json_string("(not UTF-8)"));
        }
    }
    free(lines);
    if (!ok) {
        json_decref(root);
        return NULL;
    }
    return dump(root);
}

char *rr_inspector_json_trace(struct rr_inspector *insp)
{
    pthread_mutex_lock(&insp->trace_lock);
    size_t n = insp->trace_len;
    struct rr_inspector_trace_entry *ev = malloc((n > 0 ? n : 1) * sizeof(*ev));
    if (ev != NULL) {
        size_t first = (insp->trace_head + insp->trace_cap - n) % insp->trace_cap;
        for (size_t k = 0; k < n; k++) {
            ev[k] = insp->trace[(first + k) % insp->trace_cap];
        }
    }
    pthread_mutex_unlock(&insp->trace_lock);
    if (ev == NULL) {
        return NULL;
    }
    json_int_t pid = (json_int_t)getpid();
    json_t *root = json_object();
    json_t *arr = json_array();
    bool ok = json_object_set_new(root, "traceEvents", arr) == 0 && root != NULL;
    /* Perfetto and chrome://tracing label the process with this metadata event. */
    ok = ok &&
         json_array_append_new(arr, json_pack("{s:s, s:s, s:I, s:I, s:{s:s}}", "name",
                                              "process_name", "ph", "M", "pid", pid, "tid",
                                              (json_int_t)0, "args", "name", "openrr-host")) == 0;
    for (size_t k = 0; k < n && ok; k++) {
        json_t *e = json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:I}", "name", ev[k].name, "cat",
                              ev[k].category, "ph", "X", "ts", (json_int_t)ev[k].start_us, "dur",
                              (json_int_t)ev[k].dur_us, "pid", pid, "tid", (json_int_t)ev[k].tid);
        ok = e != NULL && json_array_append_new(arr, e) == 0;
    }
    free(ev);
    if (ok) {
        ok = json_object_set_new(root, "displayTimeUnit", json_string("ms")) == 0;
    }
    if (!ok) {
        json_decref(root);
        return NULL;
    }
    return dump(root);
}

char *rr_inspector_json_scene(struct rr_inspector *insp, bool *out_invalid)
{
    *out_invalid = false;
    char *text = rr_inspector_source_scene_json(insp->source);
    json_t *tree = json_null();
    if (text != NULL) {
        json_error_t jerr;
        tree = json_loads(text, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &jerr);
        free(text);
        if (tree == NULL) {
            *out_invalid = true;
            return NULL;
        }
    }
    json_t *root = json_object();
    if (root == NULL || json_object_set_new(root, "scene", tree) != 0) {
        json_decref(root);
        return NULL;
    }
    return dump(root);
}
