/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench_stream_run — one streaming session (see bench_stream_run.h).
 * Threads: the measuring thread plays the player (poses, blits, bookkeeping); one remote
 * thread waits for poses, renders and submits; the libraries add their network and decode
 * threads.
 */
#include "bench_stream_run.h"

#include "bench_stream_pattern.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NS_PER_S 1000000000ull
#define PERIOD_NS (NS_PER_S / BENCH_STREAM_FPS)
/* The player's pose moves 1 cm per tick; the remote turns it back into the pattern's phase,
 * so that what it renders really depends on the pose it was given. */
#define METRES_PER_TICK 0.01f
#define IPD_HALF 0.032f
#define FOV_HALF 0.8f

/* ---- remote thread ----------------------------------------------------------------------- */

struct remote_thread {
    struct rr_stream_remote *remote;
    struct bench_pattern pattern;
    uint8_t *rgba;
    size_t stride;
    atomic_bool stop;
    atomic_uint_fast64_t submit_errors;
    atomic_int first_error; /* enum rr_result of the first failed submit */
};

static void pause_ms(long ms)
{
    struct timespec ts = {.tv_sec = 0, .tv_nsec = ms * 1000000L};
    nanosleep(&ts, NULL);
}

/* Render for the newest pose as soon as one newer than the last rendered arrives: a remote
 * that renders on pose arrival, so that its pace follows the player's and "wait for render"
 * is the hand-off, not a phase difference between two clocks. */
static void *remote_main(void *arg)
{
    struct remote_thread *rt = arg;
    uint64_t last_pose = 0;
    while (!atomic_load(&rt->stop)) {
        struct rr_stream_pose pose;
        if (!rr_stream_remote_wait_pose(rt->remote, last_pose, 20, &pose)) {
            pause_ms(1); /* returns at once while disconnected: do not spin */
            continue;
        }
        last_pose = pose.pose_id;
        struct rr_stream_submit_info info = {.pose_id = pose.pose_id};
        info.render_start_us = rr_stream_now_us(0);
        uint64_t phase = (uint64_t)llroundf(pose.head.position[0] / METRES_PER_TICK);
        bench_pattern_render(&rt->pattern, phase, rt->rgba, rt->stride);
        info.render_end_us = rr_stream_now_us(0);
        enum rr_result r = rr_stream_remote_submit_rgba(rt->remote, &info, rt->rgba, rt->stride);
        /* Not connected is what a submit racing the end of the connection says; anything
         * else means the encoder or the transport could not take the frame. */
        if (r != RR_OK && r != RR_ERROR_NOT_CONNECTED &&
            atomic_fetch_add(&rt->submit_errors, 1) == 0)
            atomic_store(&rt->first_error, (int)r);
    }
    return NULL;
}

static bool remote_thread_init(struct remote_thread *rt, struct rr_stream_remote *remote,
                               uint32_t eye_width, uint32_t eye_height)
{
    rt->remote = remote;
    rt->stride = (size_t)eye_width * 2u * 4u;
    atomic_init(&rt->stop, false);
    atomic_init(&rt->submit_errors, 0);
    atomic_init(&rt->first_error, RR_OK);
    rt->rgba = malloc(rt->stride * eye_height);
    if (rt->rgba == NULL || !bench_pattern_init(&rt->pattern, eye_width, eye_height)) {
        fprintf(stderr, "bench_stream: out of memory for the remote's picture\n");
        return false;
    }
    return true;
}

static void remote_thread_fini(struct remote_thread *rt)
{
    bench_pattern_fini(&rt->pattern);
    free(rt->rgba);
    rt->rgba = NULL;
}

/* ---- player loop ------------------------------------------------------------------------- */

static void make_pose(struct rr_stream_pose *pose, uint64_t tick, uint64_t now_us)
{
    memset(pose, 0, sizeof(*pose));
    pose->predicted_display_us = now_us + 2u * PERIOD_NS / 1000u;
    pose->head.position[0] = (float)tick * METRES_PER_TICK;
    pose->head.position[1] = 1.6f;
    pose->head.orientation[3] = 1.0f;
    for (int eye = 0; eye < 2; eye++) {
        pose->view[eye] = pose->head;
        pose->view[eye].position[0] += eye == 0 ? -IPD_HALF : IPD_HALF;
        pose->fov[eye] = (struct rr_stream_fovf){-FOV_HALF, FOV_HALF, FOV_HALF, -FOV_HALF};
    }
}

static void sleep_until(uint64_t ns)
{
    struct timespec ts = {.tv_sec = (time_t)(ns / NS_PER_S), .tv_nsec = (long)(ns % NS_PER_S)};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR) {
    }
}

/* Every stamp of a frame rendered for one of our poses is there. */
static bool fully_timed(const struct rr_stream_frame *f)
{
    const struct rr_stream_frame_timing *t = &f->timing;
    return !f->unknown_pose && t->pose_sampled_us && t->pose_received_us && t->render_start_us &&
           t->render_end_us && t->encode_start_us && t->encode_end_us && t->send_us &&
           t->receive_us && t->decode_end_us && t->present_us;
}

static bool record(struct bench_stream_run_result *r, const struct rr_stream_frame_timing *t)
{
    /* The stage boundaries, in the order of enum bench_stage. */
    const uint64_t from[BENCH_STAGE_COUNT] = {
        t->pose_sampled_us, t->pose_sampled_us, t->pose_sampled_us, t->pose_received_us,
        t->render_start_us, t->render_end_us,   t->encode_start_us, t->encode_end_us,
        t->send_us,         t->receive_us,      t->decode_end_us,
    };
    const uint64_t to[BENCH_STAGE_COUNT] = {
        t->decode_end_us, t->present_us,      t->pose_received_us, t->render_start_us,
        t->render_end_us, t->encode_start_us, t->encode_end_us,    t->send_us,
        t->receive_us,    t->decode_end_us,   t->present_us,
    };
    bool ok = true;
    for (int i = 0; i < BENCH_STAGE_COUNT; i++) {
        /* Signed: a remote stamp converted with a clock offset of a few µs may come out
         * slightly before the player's. */
        ok = bench_samples_add(&r->stage[i], (double)((int64_t)to[i] - (int64_t)from[i])) && ok;
    }
    r->timed++;
    if ((double)(t->decode_end_us - t->pose_sampled_us) <= BENCH_STREAM_BUDGET_US)
        r->within_budget++;
    return ok;
}

struct counters {
    struct rr_stream_remote_stats remote;
    struct rr_stream_player_totals player;
};

static void snapshot(struct bench_stream_pair *pair, struct counters *c)
{
    rr_stream_remote_stats(pair->remote, &c->remote);
    rr_stream_player_totals(pair->player, &c->player);
}

static void take_deltas(struct bench_stream_run_result *r, const struct counters *a,
                        const struct counters *b)
{
    r->submitted = b->remote.frames_submitted - a->remote.frames_submitted;
    r->encoded = b->remote.frames_encoded - a->remote.frames_encoded;
    r->remote_skipped = b->remote.frames_skipped - a->remote.frames_skipped;
    r->keyframes = b->remote.keyframes - a->remote.keyframes;
    r->video_bytes = b->remote.video_bytes - a->remote.video_bytes;
    r->player_skipped = b->player.video_frames_skipped - a->player.video_frames_skipped;
    r->discarded = b->player.video_frames_discarded - a->player.video_frames_discarded;
    r->decoder_errors = b->player.decoder_errors - a->player.decoder_errors;
    snprintf(r->encoder, sizeof(r->encoder), "%s", b->remote.encoder);
    r->clock_offset_us = b->player.clock_offset_us;
}

enum phase { WAIT_FIRST, WARMUP, MEASURE };

/* The player: one pose and one blit per tick on an absolute 60 Hz schedule. */
static bool play(struct bench_stream_pair *pair, const struct bench_stream_run_params *p,
                 struct bench_stream_run_result *r)
{
    enum phase phase = WAIT_FIRST;
    uint64_t start = bench_now_ns(), next = start, phase_end = 0, window_start = 0;
    uint64_t last_frame_id = 0;
    struct counters c0, c1;
    bool ok = true;
    for (uint64_t tick = 1;; tick++) {
        sleep_until(next);
        uint64_t now = bench_now_ns();
        struct rr_stream_pose pose;
        make_pose(&pose, tick, now / 1000u);
        enum rr_result sr = rr_stream_player_send_pose(pair->player, &pose);
        const struct rr_stream_frame *f = NULL;
        rr_stream_player_blit(pair->player, &f);
        bool fresh = f != NULL && f->frame_id != last_frame_id;
        if (fresh)
            last_frame_id = f->frame_id;

        if (phase == WAIT_FIRST && fresh) {
            phase = WARMUP;
            phase_end = now + (uint64_t)(p->warmup_seconds * 1e9);
        } else if (phase == WAIT_FIRST && now - start > BENCH_STREAM_WAIT_MS * 1000000ull) {
            fprintf(stderr, "bench_stream: no frame presented within %d ms\n",
                    BENCH_STREAM_WAIT_MS);
            return false;
        }
        if (phase == WARMUP && now >= phase_end) {
            phase = MEASURE;
            window_start = now;
            phase_end = now + (uint64_t)(p->seconds * 1e9);
            snapshot(pair, &c0);
        }
        if (phase == MEASURE) {
            if (now >= phase_end)
                break;
            r->ticks++;
            r->late_ticks += now > next + PERIOD_NS / 2 ? 1 : 0;
            if (sr != RR_OK) {
                fprintf(stderr, "bench_stream: rr_stream_player_send_pose: %s\n",
                        rr_result_str(sr));
                ok = false;
                break;
            }
            if (fresh) {
                r->presented++;
                if (fully_timed(f) && !record(r, &f->timing)) {
                    fprintf(stderr, "bench_stream: out of memory for the samples\n");
                    ok = false;
                    break;
                }
            }
        }
        /* A player that fell a whole frame behind starts again from now rather than
         * firing a burst of ticks to catch up, as a display loop would. */
        next += PERIOD_NS;
        if (now > next + PERIOD_NS)
            next = now + PERIOD_NS;
    }
    uint64_t end = bench_now_ns();
    snapshot(pair, &c1);
    take_deltas(r, &c0, &c1);
    r->seconds = (double)(end - window_start) / 1e9;
    if (ok && !bench_stream_pair_connected(pair)) {
        fprintf(stderr, "bench_stream: the connection dropped during the run\n");
        ok = false;
    }
    return ok;
}

/* ---- the session ------------------------------------------------------------------------- */

static bool result_init(struct bench_stream_run_result *r, const struct bench_stream_run_params *p)
{
    memset(r, 0, sizeof(*r));
    size_t cap = (size_t)(p->seconds * BENCH_STREAM_FPS) + 64u;
    bool ok = true;
    for (int i = 0; i < BENCH_STAGE_COUNT; i++)
        ok = bench_samples_init(&r->stage[i], cap) && ok;
    if (!ok)
        fprintf(stderr, "bench_stream: out of memory for the samples\n");
    return ok;
}

void bench_stream_run_fini(struct bench_stream_run_result *r)
{
    for (int i = 0; i < BENCH_STAGE_COUNT; i++)
        bench_samples_fini(&r->stage[i]);
}

bool bench_stream_run(struct bench_stream_tls *tls, const struct bench_stream_run_params *p,
                      struct bench_stream_run_result *out)
{
    if (!result_init(out, p))
        return false;
    struct rr_stream_remote_config cfg = {
        .eye_width = p->eye_width,
        .eye_height = p->eye_height,
        .fps = BENCH_STREAM_FPS,
        .max_bitrate_kbps = BENCH_STREAM_KBPS,
        .encoder = BENCH_STREAM_ENCODER,
    };
    struct bench_stream_pair pair;
    struct remote_thread rt = {0};
    bool ok = bench_stream_pair_open(&pair, tls, &cfg) &&
              remote_thread_init(&rt, pair.remote, p->eye_width, p->eye_height);
    pthread_t thread;
    bool started = ok && pthread_create(&thread, NULL, remote_main, &rt) == 0;
    if (ok && !started)
        fprintf(stderr, "bench_stream: cannot start the remote thread\n");
    ok = started && play(&pair, p, out);
    if (started) {
        atomic_store(&rt.stop, true);
        pthread_join(thread, NULL);
        out->submit_errors = atomic_load(&rt.submit_errors);
        int first = atomic_load(&rt.first_error);
        if (out->submit_errors > 0) {
            fprintf(stderr, "bench_stream: %llu submits failed, the first with %s\n",
                    (unsigned long long)out->submit_errors, rr_result_str((enum rr_result)first));
            ok = false;
        }
    }
    remote_thread_fini(&rt);
    bench_stream_pair_close(&pair);
    return ok;
}

double bench_stream_run_fps(const struct bench_stream_run_result *r)
{
    return r->seconds > 0 ? (double)r->presented / r->seconds : 0.0;
}

double bench_stream_run_skip_share(const struct bench_stream_run_result *r)
{
    return r->submitted > 0 ? (double)r->remote_skipped / (double)r->submitted : 0.0;
}

bool bench_stream_run_sustains(const struct bench_stream_run_result *r)
{
    return r->submitted > 0 && bench_stream_run_fps(r) >= BENCH_STREAM_SUSTAIN_FPS &&
           bench_stream_run_skip_share(r) < BENCH_STREAM_SUSTAIN_SKIP;
}
