/* SPDX-License-Identifier: Apache-2.0 */
/*
 * player_stats — per-stage latencies, frame gaps and bitrate of one connection, and their
 * JSON. See player_stats.h. Threads: the owner's thread only.
 */
#include "player_stats.h"

#include <jansson.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The highest bitrate is averaged over this many seconds: long enough to hide one keyframe,
 * short enough to show a burst the average over a long run would hide. */
#define WINDOW_S 10u

struct stage_samples {
    float *ms;      /* ring of the last max_samples values */
    size_t next;    /* where the next value goes */
    size_t kept;    /* values in the ring (≤ max_samples) */
    uint64_t count; /* values ever added */
    double max_ms;
};

struct player_stats {
    size_t max_samples;
    struct stage_samples stage[PLAYER_STAGE_COUNT];

    bool begun;
    bool ended;
    uint64_t begin_us;
    uint64_t end_us;
    uint64_t latest_us; /* the latest time any call passed in */
    enum rr_disconnect_reason reason;

    uint64_t frames;
    uint64_t last_frame_us; /* when the previous new frame was taken; 0 = none yet */
    double stall_max_ms;

    bool have_delta;
    double min_delta_ms;
    double max_delta_ms;

    /* Bytes per second of the connection, for the highest 10 s average: a ring of the last
     * WINDOW_S seconds; second k of the connection is in window[k % WINDOW_S]. */
    uint64_t bytes_seen; /* the total of the previous call */
    uint64_t bytes_total;
    uint64_t second; /* the second of the connection being counted */
    uint64_t window[WINDOW_S];
    bool have_window_max;
    uint64_t window_max_bytes;
};

static const char *const k_stage_names[PLAYER_STAGE_COUNT] = {
    "poseToPresent", "poseToReceive",  "uplink",          "waitForRender",
    "render",        "renderToEncode", "encode",          "encodeToSend",
    "transport",     "decode",         "decodeToPresent",
};

const char *player_stage_name(enum player_stage stage)
{
    if ((unsigned)stage >= PLAYER_STAGE_COUNT) {
        return "";
    }
    return k_stage_names[stage];
}

bool player_stats_create(size_t max_samples, struct player_stats **out_stats)
{
    struct player_stats *ps;
    *out_stats = NULL;
    ps = calloc(1, sizeof *ps);
    if (ps == NULL) {
        return false;
    }
    ps->max_samples = max_samples != 0 ? max_samples : PLAYER_STATS_DEFAULT_SAMPLES;
    ps->reason = RR_REASON_NONE;
    for (int i = 0; i < PLAYER_STAGE_COUNT; i++) {
        ps->stage[i].ms = malloc(ps->max_samples * sizeof(float));
        if (ps->stage[i].ms == NULL) {
            player_stats_destroy(&ps);
            return false;
        }
    }
    *out_stats = ps;
    return true;
}

void player_stats_destroy(struct player_stats **stats_ptr)
{
    struct player_stats *ps = stats_ptr != NULL ? *stats_ptr : NULL;
    if (ps == NULL) {
        return;
    }
    for (int i = 0; i < PLAYER_STAGE_COUNT; i++) {
        free(ps->stage[i].ms);
    }
    free(ps);
    *stats_ptr = NULL;
}

static void note_time(struct player_stats *ps, uint64_t now_us)
{
    if (now_us > ps->latest_us) {
        ps->latest_us = now_us;
    }
}

void player_stats_begin(struct player_stats *ps, uint64_t now_us)
{
    ps->begun = true;
    ps->begin_us = now_us;
    note_time(ps, now_us);
}

/* A gap without new frames while connected; the wait for the first frame is start-up, not a
 * stall, so it is not counted. */
static void note_gap(struct player_stats *ps, uint64_t now_us)
{
    if (ps->last_frame_us != 0 && now_us > ps->last_frame_us) {
        double gap_ms = (double)(now_us - ps->last_frame_us) / 1000.0;
        if (gap_ms > ps->stall_max_ms) {
            ps->stall_max_ms = gap_ms;
        }
    }
}

/* Close the seconds before @p second: each completed window of WINDOW_S seconds is a
 * candidate for the highest average. */
static void advance_seconds(struct player_stats *ps, uint64_t second)
{
    /* A gap of more than a window clears the whole ring; no need to walk every second. */
    if (second > ps->second + WINDOW_S) {
        ps->second = second - WINDOW_S - 1;
    }
    while (ps->second < second) {
        if (ps->second + 1 >= WINDOW_S) {
            uint64_t sum = 0;
            for (unsigned i = 0; i < WINDOW_S; i++) {
                sum += ps->window[i];
            }
            if (!ps->have_window_max || sum > ps->window_max_bytes) {
                ps->window_max_bytes = sum;
                ps->have_window_max = true;
            }
        }
        ps->second++;
        ps->window[ps->second % WINDOW_S] = 0;
    }
}

void player_stats_add_bytes(struct player_stats *ps, uint64_t now_us, uint64_t total_bytes)
{
    note_time(ps, now_us);
    if (!ps->begun || ps->ended) {
        return;
    }
    /* A counter that went back belongs to a new stream: count it from zero. */
    uint64_t delta = total_bytes >= ps->bytes_seen ? total_bytes - ps->bytes_seen : total_bytes;
    ps->bytes_seen = total_bytes;
    ps->bytes_total += delta;
    if (now_us > ps->begin_us) {
        advance_seconds(ps, (now_us - ps->begin_us) / 1000000u);
    }
    ps->window[ps->second % WINDOW_S] += delta;
}

void player_stats_end(struct player_stats *ps, uint64_t now_us, enum rr_disconnect_reason reason)
{
    note_time(ps, now_us);
    ps->reason = reason;
    if (!ps->begun || ps->ended) {
        return;
    }
    note_gap(ps, now_us);
    if (now_us > ps->begin_us) {
        advance_seconds(ps, (now_us - ps->begin_us) / 1000000u);
    }
    ps->ended = true;
    ps->end_us = now_us;
}

static void add_sample(struct player_stats *ps, enum player_stage stage, uint64_t from_us,
                       uint64_t to_us)
{
    struct stage_samples *s = &ps->stage[stage];
    if (from_us == 0 || to_us == 0) {
        return;
    }
    /* Signed: a remote stage measured with a clock offset that is off by more than the stage
     * shows as negative rather than as a huge unsigned number. */
    double ms = ((double)to_us - (double)from_us) / 1000.0;
    s->ms[s->next] = (float)ms;
    s->next = (s->next + 1) % ps->max_samples;
    if (s->kept < ps->max_samples) {
        s->kept++;
    }
    if (s->count == 0 || ms > s->max_ms) {
        s->max_ms = ms;
    }
    s->count++;
}

void player_stats_add_frame(struct player_stats *ps, const struct rr_stream_frame *frame,
                            uint64_t now_us)
{
    const struct rr_stream_frame_timing *t = &frame->timing;
    uint64_t taken_us = t->present_us != 0 ? t->present_us : now_us;
    note_time(ps, now_us);
    if (ps->begun && !ps->ended) {
        note_gap(ps, taken_us);
    }
    ps->last_frame_us = taken_us;
    ps->frames++;
    /* A frame for a pose we never sent has no pose times of ours to measure from. */
    if (!frame->unknown_pose) {
        add_sample(ps, PLAYER_STAGE_POSE_TO_PRESENT, t->pose_sampled_us, t->present_us);
        add_sample(ps, PLAYER_STAGE_POSE_TO_RECEIVE, t->pose_sampled_us, t->receive_us);
        add_sample(ps, PLAYER_STAGE_UPLINK, t->pose_sampled_us, t->pose_received_us);
        add_sample(ps, PLAYER_STAGE_WAIT_FOR_RENDER, t->pose_received_us, t->render_start_us);
    }
    add_sample(ps, PLAYER_STAGE_RENDER, t->render_start_us, t->render_end_us);
    add_sample(ps, PLAYER_STAGE_RENDER_TO_ENCODE, t->render_end_us, t->encode_start_us);
    add_sample(ps, PLAYER_STAGE_ENCODE, t->encode_start_us, t->encode_end_us);
    add_sample(ps, PLAYER_STAGE_ENCODE_TO_SEND, t->encode_end_us, t->send_us);
    add_sample(ps, PLAYER_STAGE_TRANSPORT, t->send_us, t->receive_us);
    add_sample(ps, PLAYER_STAGE_DECODE, t->receive_us, t->decode_end_us);
    add_sample(ps, PLAYER_STAGE_DECODE_TO_PRESENT, t->decode_end_us, t->present_us);
}

void player_stats_add_frame_statistics(struct player_stats *ps,
                                       const struct rr_frame_statistics *fs)
{
    /* A blit that saw no received frame has no gap to report. */
    if (fs->video_frames_received == 0) {
        return;
    }
    double lo = fs->video_frame_min_delta;
    double hi = fs->video_frame_max_delta;
    if (!isfinite(lo) || !isfinite(hi) || hi <= 0.0) {
        return;
    }
    if (lo <= 0.0) {
        lo = hi;
    }
    if (!ps->have_delta || lo < ps->min_delta_ms) {
        ps->min_delta_ms = lo;
    }
    if (!ps->have_delta || hi > ps->max_delta_ms) {
        ps->max_delta_ms = hi;
    }
    ps->have_delta = true;
}

uint64_t player_stats_frames(const struct player_stats *ps)
{
    return ps->frames;
}

double player_stats_duration_s(const struct player_stats *ps)
{
    if (!ps->begun) {
        return 0.0;
    }
    uint64_t end = ps->ended ? ps->end_us : ps->latest_us;
    return end > ps->begin_us ? (double)(end - ps->begin_us) / 1e6 : 0.0;
}

static int compare_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

/* Linear interpolation between the closest ranks of sorted @p v. */
static double percentile(const float *v, size_t n, double q)
{
    double pos = q * (double)(n - 1);
    size_t lo = (size_t)pos;
    size_t hi = lo + 1 < n ? lo + 1 : lo;
    double frac = pos - (double)lo;
    return (double)v[lo] + ((double)v[hi] - (double)v[lo]) * frac;
}

bool player_stats_stage(const struct player_stats *ps, enum player_stage stage,
                        struct player_stage_summary *out)
{
    memset(out, 0, sizeof *out);
    if ((unsigned)stage >= PLAYER_STAGE_COUNT) {
        return true;
    }
    const struct stage_samples *s = &ps->stage[stage];
    out->count = s->count;
    out->samples = s->kept;
    if (s->kept == 0) {
        return true;
    }
    float *sorted = malloc(s->kept * sizeof *sorted);
    if (sorted == NULL) {
        return false;
    }
    memcpy(sorted, s->ms, s->kept * sizeof *sorted);
    qsort(sorted, s->kept, sizeof *sorted, compare_float);
    out->median_ms = percentile(sorted, s->kept, 0.50);
    out->p90_ms = percentile(sorted, s->kept, 0.90);
    out->p99_ms = percentile(sorted, s->kept, 0.99);
    out->max_ms = s->max_ms;
    free(sorted);
    return true;
}

bool player_stats_print_table(const struct player_stats *ps, FILE *out)
{
    fprintf(out, "%-16s %10s %10s %10s\n", "latency (ms)", "median", "p99", "frames");
    for (int i = 0; i < PLAYER_STAGE_COUNT; i++) {
        struct player_stage_summary sum;
        if (!player_stats_stage(ps, (enum player_stage)i, &sum)) {
            return false;
        }
        if (sum.count == 0) {
            fprintf(out, "%-16s %10s %10s %10d\n", k_stage_names[i], "-", "-", 0);
        } else {
            fprintf(out, "%-16s %10.2f %10.2f %10llu\n", k_stage_names[i], sum.median_ms,
                    sum.p99_ms, (unsigned long long)sum.count);
        }
    }
    fflush(out);
    return true;
}

/* ---- JSON ------------------------------------------------------------------------------ */

/* Milliseconds to three decimals: finer digits are noise, and NaN would make jansson refuse
 * the value (json_real() returns NULL for it). */
static json_t *ms_value(double ms)
{
    if (!isfinite(ms)) {
        return json_null();
    }
    return json_real(round(ms * 1000.0) / 1000.0);
}

static json_t *count_value(uint64_t n)
{
    return json_integer(n > (uint64_t)INT64_MAX ? INT64_MAX : (json_int_t)n);
}

/* json_object_set_new() takes the value even when it fails; a NULL value is a failed
 * allocation. */
static bool put(json_t *obj, const char *key, json_t *value)
{
    return value != NULL && json_object_set_new(obj, key, value) == 0;
}

static json_t *stage_json(const struct player_stage_summary *sum)
{
    json_t *o = json_object();
    if (o == NULL) {
        return NULL;
    }
    bool any = sum->count != 0;
    bool ok = put(o, "median", any ? ms_value(sum->median_ms) : json_null()) &&
              put(o, "p90", any ? ms_value(sum->p90_ms) : json_null()) &&
              put(o, "p99", any ? ms_value(sum->p99_ms) : json_null()) &&
              put(o, "max", any ? ms_value(sum->max_ms) : json_null()) &&
              put(o, "count", count_value(sum->count));
    if (!ok) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static json_t *latency_json(const struct player_stats *ps)
{
    json_t *o = json_object();
    if (o == NULL) {
        return NULL;
    }
    for (int i = 0; i < PLAYER_STAGE_COUNT; i++) {
        struct player_stage_summary sum;
        if (!player_stats_stage(ps, (enum player_stage)i, &sum) ||
            !put(o, k_stage_names[i], stage_json(&sum))) {
            json_decref(o);
            return NULL;
        }
    }
    return o;
}

/* Highest average over any WINDOW_S seconds; a shorter connection has only its average. */
static double max_window_kbps(const struct player_stats *ps, double average_kbps)
{
    if (!ps->have_window_max) {
        return average_kbps;
    }
    double kbps = (double)ps->window_max_bytes * 8.0 / 1000.0 / WINDOW_S;
    return kbps > average_kbps ? kbps : average_kbps;
}

static bool fill_counters(json_t *o, const struct player_stats *ps,
                          const struct rr_stream_player_totals *t)
{
    double max_delta = ps->max_delta_ms;
    if (t->video_frame_max_delta_ms > max_delta && isfinite(t->video_frame_max_delta_ms)) {
        max_delta = t->video_frame_max_delta_ms;
    }
    return put(o, "videoFramesReceived", count_value(t->video_frames_received)) &&
           put(o, "videoFrameReusedCount", count_value(t->video_frame_reused_count)) &&
           put(o, "videoFramesSkipped", count_value(t->video_frames_skipped)) &&
           put(o, "videoFramesDiscarded", count_value(t->video_frames_discarded)) &&
           put(o, "videoFrameMinDelta", ms_value(ps->have_delta ? ps->min_delta_ms : 0.0)) &&
           put(o, "videoFrameMaxDelta", ms_value(max_delta)) &&
           put(o, "videoFramesDecoded", count_value(t->video_frames_decoded)) &&
           put(o, "videoFramesUnknownPose", count_value(t->video_frames_unknown_pose)) &&
           put(o, "keyframesReceived", count_value(t->keyframes_received)) &&
           put(o, "keyframeRequestsSent", count_value(t->keyframe_requests_sent)) &&
           put(o, "decoderErrors", count_value(t->decoder_errors)) &&
           put(o, "posesSent", count_value(t->poses_sent)) &&
           put(o, "blits", count_value(t->blits)) &&
           put(o, "framesPresented", count_value(ps->frames));
}

static bool fill_run(json_t *o, const struct player_stats *ps,
                     const struct rr_stream_player_totals *t)
{
    double secs = player_stats_duration_s(ps);
    double fps = secs > 0.0 ? (double)ps->frames / secs : 0.0;
    double kbps = secs > 0.0 ? (double)ps->bytes_total * 8.0 / 1000.0 / secs : 0.0;
    char codec[sizeof t->codec + 1];
    snprintf(codec, sizeof codec, "%.*s", (int)sizeof t->codec, t->codec);
    return put(o, "fps", ms_value(fps)) && put(o, "bitrateKbps", ms_value(kbps)) &&
           put(o, "bitrateKbpsMax10s", ms_value(max_window_kbps(ps, kbps))) &&
           put(o, "durationS", ms_value(secs)) && put(o, "codec", json_string(codec)) &&
           put(o, "width", json_integer(t->width)) && put(o, "height", json_integer(t->height)) &&
           put(o, "clockOffsetUs", json_integer(t->clock_offset_us)) &&
           put(o, "clockRttUs", json_integer(t->clock_rtt_us)) &&
           put(o, "disconnectReason", json_string(rr_disconnect_reason_str(ps->reason))) &&
           put(o, "stallMaxMs", ms_value(ps->stall_max_ms));
}

bool player_stats_write_json(const struct player_stats *ps,
                             const struct rr_stream_player_totals *totals, FILE *out)
{
    json_t *root = json_object();
    bool ok = root != NULL && fill_counters(root, ps, totals) && fill_run(root, ps, totals) &&
              put(root, "latency", latency_json(ps));
    if (ok) {
        ok = json_dumpf(root, out, JSON_INDENT(2) | JSON_REAL_PRECISION(12)) == 0 &&
             fputc('\n', out) != EOF && fflush(out) == 0 && !ferror(out);
    }
    json_decref(root);
    return ok;
}
