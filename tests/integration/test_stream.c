/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libopenrr_stream end to end, both sides in one process over loopback (one case over TLS):
 * poses out, frames back with their pictures and stage timestamps, clock synchronisation under
 * a configured skew, blit results, hostile poses and video from hand-made peers, disconnects
 * and reconnects, codec and encoder failures, HEVC, and misuse of the built-in channels.
 * Pictures are tiny (320×90) so that the whole file stays fast under ASan and TSan; nothing
 * asserts how fast anything is, every wait has a generous deadline instead.
 */
#include "rr_test.h"

#include "openrr/stream.h"

#include "encoder.h"
#include "wire.h"

#include <arpa/inet.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define EYE_W 160u
#define EYE_H 90u
#define IMG_W (2u * EYE_W)
#define IMG_H EYE_H
#define IMG_STRIDE (IMG_W * 4u)
/* Sanitizers and a loaded CI machine slow everything down; a deadline only bounds a hang. */
#define WAIT_MS 20000

/* ---- small helpers ------------------------------------------------------------------------ */

static void sleep_ms(int ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

#define assert_near(a, b, tol)                                                                     \
    do {                                                                                           \
        int64_t a_ = (int64_t)(a), b_ = (int64_t)(b), t_ = (int64_t)(tol);                         \
        if (llabs(a_ - b_) > t_) {                                                                 \
            fail_msg("%s = %lld is not within %lld of %s = %lld", #a, (long long)a_,               \
                     (long long)t_, #b, (long long)b_);                                            \
        }                                                                                          \
    } while (0)

/* a ≤ b + slack, all unsigned microseconds; says which stage broke the order. */
#define assert_le_us(a, b, slack)                                                                  \
    do {                                                                                           \
        uint64_t a_ = (a), b_ = (b), s_ = (slack);                                                 \
        if (a_ > b_ + s_) {                                                                        \
            fail_msg("%s = %llu is after %s = %llu (+%llu allowed)", #a, (unsigned long long)a_,   \
                     #b, (unsigned long long)b_, (unsigned long long)s_);                          \
        }                                                                                          \
    } while (0)

/* ---- the test picture ----------------------------------------------------------------------
 * Rows 0–39: eight grey blocks 40 px wide, bright where the tag byte has a 1 bit (the tag ties
 * a picture to the frame or pose it was made for). Rows 40–47: noise that changes every frame,
 * so that P-frames carry real data (a corrupted byte then lands in slice data). Rows 48–89:
 * four colour blocks 80 px wide that check the colour conversion both ways. */
static const uint8_t k_colours[4][3] = {
    {200, 40, 40}, {40, 200, 40}, {40, 40, 200}, {200, 200, 40}};
#define TAG_ON 220
#define TAG_OFF 30
#define PIXEL_TOLERANCE 32

static void draw_pattern(uint8_t *rgba, uint8_t tag, uint32_t seed)
{
    uint32_t x32 = seed * 2654435761u + 1u;
    for (uint32_t y = 0; y < IMG_H; y++) {
        for (uint32_t x = 0; x < IMG_W; x++) {
            uint8_t *p = rgba + (size_t)y * IMG_STRIDE + (size_t)x * 4u;
            if (y < 40) {
                uint8_t v = ((tag >> (x / 40u)) & 1u) ? TAG_ON : TAG_OFF;
                p[0] = p[1] = p[2] = v;
            } else if (y < 48) {
                x32 ^= x32 << 13;
                x32 ^= x32 >> 17;
                x32 ^= x32 << 5;
                p[0] = (uint8_t)x32;
                p[1] = (uint8_t)(x32 >> 8);
                p[2] = (uint8_t)(x32 >> 16);
            } else {
                memcpy(p, k_colours[x / 80u], 3);
            }
            p[3] = 255;
        }
    }
}

/* Mean of one channel over the 8×8 square centred on (cx, cy). */
static int mean8(const uint8_t *rgba, uint32_t cx, uint32_t cy, int ch)
{
    int sum = 0;
    for (uint32_t y = cy - 4; y < cy + 4; y++) {
        for (uint32_t x = cx - 4; x < cx + 4; x++) {
            sum += rgba[(size_t)y * IMG_STRIDE + (size_t)x * 4u + (size_t)ch];
        }
    }
    return sum / 64;
}

/* Decode @p f back to RGBA and compare block centres with the pattern for @p tag. */
static void assert_pattern(const struct rr_stream_frame *f, uint8_t tag)
{
    assert_int_equal(f->width, IMG_W);
    assert_int_equal(f->height, IMG_H);
    uint8_t *rgba = malloc(IMG_STRIDE * IMG_H);
    assert_non_null(rgba);
    assert_int_equal(rr_stream_frame_to_rgba(f, rgba, IMG_STRIDE), RR_OK);
    for (uint32_t i = 0; i < 8; i++) {
        int want = ((tag >> i) & 1u) ? TAG_ON : TAG_OFF;
        for (int ch = 0; ch < 3; ch++) {
            int got = mean8(rgba, i * 40u + 20u, 20u, ch);
            if (abs(got - want) > PIXEL_TOLERANCE) {
                free(rgba);
                fail_msg("frame %llu: tag block %u channel %d is %d, expected %d (tag %u)",
                         (unsigned long long)f->frame_id, i, ch, got, want, tag);
            }
        }
    }
    for (uint32_t i = 0; i < 4; i++) {
        for (int ch = 0; ch < 3; ch++) {
            int got = mean8(rgba, i * 80u + 40u, 69u, ch);
            if (abs(got - k_colours[i][ch]) > PIXEL_TOLERANCE) {
                free(rgba);
                fail_msg("frame %llu: colour block %u channel %d is %d, expected %d",
                         (unsigned long long)f->frame_id, i, ch, got, k_colours[i][ch]);
            }
        }
    }
    free(rgba);
}

/* ---- a connected pair: the player listens, the remote connects ------------------------------ */

struct duo {
    struct rr_context *player;
    struct rr_context *remote;
    bool secure;
    struct rr_test_cert_provider cert;
    struct rr_test_token_receiver tokens;
    struct rr_test_token_provider token;
};

/* On the heap: the contexts' threads use the providers, and a failed case leaks (rather than
 * frees) what it had running, so nothing may point into a dead stack frame. */
static struct duo *duo_new(const char *player_codecs, const char *remote_codecs, bool secure)
{
    struct duo *d = calloc(1, sizeof(*d));
    assert_non_null(d);
    d->secure = secure;
    struct rr_context_config pc = rr_test_config(RR_ROLE_PLAYER);
    pc.codecs = player_codecs;
    struct rr_context_config rc = rr_test_config(RR_ROLE_REMOTE);
    rc.codecs = remote_codecs;
    if (secure) {
        rc.ca_file = rr_test_pki("ca.pem");
        rc.no_system_trust = true;
        rc.no_revocation_fetch = true; /* revocation is test_validation's business */
        assert_true(
            rr_test_cert_provider_init(&d->cert, rr_test_pki("good.p12"), NULL, "test-pass"));
    }
    rr_test_token_receiver_init(&d->tokens, "stream-token", NULL);
    rr_test_token_provider_init(&d->token, "stream-token");
    assert_int_equal(rr_context_create(&pc, &d->player), RR_OK);
    assert_int_equal(rr_context_create(&rc, &d->remote), RR_OK);
    return d;
}

/* Listen, connect and wait until both sides report Connected. Usable again after a
 * disconnect (the player listens anew). */
static void duo_connect(struct duo *d)
{
    enum rr_result r = d->secure ? rr_context_listen_secure(d->player, "127.0.0.1", 0, 0,
                                                            &d->cert.base, &d->tokens.base)
                                 : rr_context_listen(d->player, "127.0.0.1", 0, 0);
    assert_int_equal(r, RR_OK);
    uint16_t port = rr_test_wait_listening(d->player, WAIT_MS);
    assert_int_not_equal(port, 0);
    r = d->secure ? rr_context_connect_secure(d->remote, "localhost", port, &d->token.base, NULL)
                  : rr_context_connect(d->remote, "127.0.0.1", port);
    assert_int_equal(r, RR_OK);
    assert_true(rr_test_wait_event(d->remote, RR_EVENT_CONNECTED, WAIT_MS, NULL));
    assert_true(rr_test_wait_event(d->player, RR_EVENT_CONNECTED, WAIT_MS, NULL));
}

static void duo_destroy(struct duo **d_ptr)
{
    struct duo *d = *d_ptr;
    *d_ptr = NULL;
    rr_context_destroy(&d->remote);
    rr_context_destroy(&d->player);
    rr_test_cert_provider_fini(&d->cert);
    free(d);
}

/* ---- a renderer thread: one frame for each new pose, as an application would -------------- */

struct renderer {
    struct rr_stream_remote *remote;
    int64_t skew_us;
    pthread_t thread;
    atomic_bool stop;
    atomic_int ok;
    atomic_int not_connected;
    atomic_int other;      /* any other result: always a failure */
    atomic_int last_other; /* which */
    uint8_t *rgba;
};

static void *renderer_main(void *arg)
{
    struct renderer *r = arg;
    uint64_t last = 0;
    while (!atomic_load(&r->stop)) {
        struct rr_stream_pose pose;
        if (!rr_stream_remote_wait_pose(r->remote, last, 50, &pose)) {
            sleep_ms(5); /* returns at once while disconnected */
            continue;
        }
        last = pose.pose_id;
        struct rr_stream_submit_info info = {.pose_id = pose.pose_id};
        info.render_start_us = rr_stream_now_us(r->skew_us);
        draw_pattern(r->rgba, (uint8_t)pose.pose_id, (uint32_t)pose.pose_id);
        info.render_end_us = rr_stream_now_us(r->skew_us);
        enum rr_result res = rr_stream_remote_submit_rgba(r->remote, &info, r->rgba, IMG_STRIDE);
        if (res == RR_OK) {
            atomic_fetch_add(&r->ok, 1);
        } else if (res == RR_ERROR_NOT_CONNECTED) {
            atomic_fetch_add(&r->not_connected, 1);
        } else {
            atomic_store(&r->last_other, (int)res);
            atomic_fetch_add(&r->other, 1);
        }
    }
    return NULL;
}

static struct renderer *renderer_start(struct rr_stream_remote *remote, int64_t skew_us)
{
    struct renderer *r = calloc(1, sizeof(*r));
    assert_non_null(r);
    r->remote = remote;
    r->skew_us = skew_us;
    r->rgba = malloc(IMG_STRIDE * IMG_H);
    assert_non_null(r->rgba);
    assert_int_equal(pthread_create(&r->thread, NULL, renderer_main, r), 0);
    return r;
}

static void renderer_stop(struct renderer **r_ptr)
{
    struct renderer *r = *r_ptr;
    *r_ptr = NULL;
    atomic_store(&r->stop, true);
    pthread_join(r->thread, NULL);
    int other = atomic_load(&r->other);
    int last = atomic_load(&r->last_other);
    free(r->rgba);
    free(r);
    if (other != 0) {
        fail_msg("submit failed %d times, last with %s", other,
                 rr_result_str((enum rr_result)last));
    }
}

/* ---- player helpers ------------------------------------------------------------------------ */

static struct rr_stream_pose make_pose(int64_t player_skew_us)
{
    struct rr_stream_pose pose;
    memset(&pose, 0, sizeof(pose));
    pose.sample_time_us = rr_stream_now_us(player_skew_us);
    pose.predicted_display_us = pose.sample_time_us + 30000;
    pose.head.position[1] = 1.6f;
    pose.head.orientation[3] = 1.0f;
    for (int e = 0; e < 2; e++) {
        pose.view[e] = pose.head;
        pose.view[e].position[0] = e == 0 ? -0.032f : 0.032f;
        pose.fov[e] = (struct rr_stream_fovf){-0.8f, 0.8f, 0.7f, -0.7f};
    }
    return pose;
}

/* Blit until the frame rendered for @p pose_id comes out; NULL after the deadline. */
static const struct rr_stream_frame *wait_frame_for_pose(struct rr_stream_player *p,
                                                         uint64_t pose_id, int timeout_ms)
{
    uint64_t end = rr_test_now_ms() + (uint64_t)timeout_ms;
    while (rr_test_now_ms() < end) {
        const struct rr_stream_frame *f = NULL;
        if (rr_stream_player_blit(p, &f) == RR_BLIT_SUCCESS_COLOR && f->pose_id == pose_id) {
            return f;
        }
        sleep_ms(2);
    }
    return NULL;
}

/* Every stage known and in order in the player's clock. Stages of one side are compared
 * exactly; across the two clocks the measured offset may be off by @p tol. */
static void assert_timing_ordered(const struct rr_stream_frame_timing *t, uint64_t tol)
{
    const uint64_t v[] = {t->pose_sampled_us, t->pose_received_us,    t->render_start_us,
                          t->render_end_us,   t->encode_start_us,     t->encode_end_us,
                          t->send_us,         t->receive_us,          t->decode_end_us,
                          t->present_us,      t->predicted_display_us};
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        if (v[i] == 0) {
            fail_msg("timing stage %zu is 0", i);
        }
    }
    /* remote clock */
    assert_le_us(t->pose_received_us, t->render_start_us, 0);
    assert_le_us(t->render_start_us, t->render_end_us, 0);
    assert_le_us(t->render_end_us, t->encode_start_us, 0);
    assert_le_us(t->encode_start_us, t->encode_end_us, 0);
    assert_le_us(t->encode_end_us, t->send_us, 0);
    /* player clock */
    assert_le_us(t->pose_sampled_us, t->receive_us, 0);
    assert_le_us(t->receive_us, t->decode_end_us, 0);
    assert_le_us(t->decode_end_us, t->present_us, 0);
    /* across */
    assert_le_us(t->pose_sampled_us, t->pose_received_us, tol);
    assert_le_us(t->send_us, t->receive_us, tol);
}

/* Wait until the player's measured offset is within 3 ms of @p want. */
static void wait_clock_offset(struct rr_stream_player *p, int64_t want)
{
    struct rr_stream_player_totals tot;
    uint64_t end = rr_test_now_ms() + WAIT_MS;
    do {
        rr_stream_player_totals(p, &tot);
        if (tot.clock_rtt_us != 0 && llabs(tot.clock_offset_us - want) <= 3000) {
            return;
        }
        sleep_ms(10);
    } while (rr_test_now_ms() < end);
    fail_msg("clock offset %lld µs (rtt %u) never came within 3 ms of %lld",
             (long long)tot.clock_offset_us, tot.clock_rtt_us, (long long)want);
}

/* ---- 1. end to end ------------------------------------------------------------------------- */

#define E2E_FRAMES 8

static void stream_end_to_end(bool secure)
{
    struct duo *d = duo_new("h264", "h264", secure);
    struct rr_stream_remote_config rc = {.eye_width = EYE_W,
                                         .eye_height = EYE_H,
                                         .fps = 30,
                                         .max_bitrate_kbps = 4000,
                                         .encoder = "libx264"};
    struct rr_stream_remote *remote = NULL;
    assert_int_equal(rr_stream_remote_create(d->remote, &rc, &remote), RR_OK);
    struct rr_stream_player_config pc = {.present_to_display_us = 5000};
    struct rr_stream_player *player = NULL;
    assert_int_equal(rr_stream_player_create(d->player, &pc, &player), RR_OK);
    struct rr_stream_remote_stats rs;
    rr_stream_remote_stats(remote, &rs);
    assert_string_equal(rs.encoder, "");
    assert_string_equal(rs.codec, "");

    duo_connect(d);
    struct renderer *ren = renderer_start(remote, 0);

    uint64_t last_frame_id = 0;
    struct rr_stream_pose sent[E2E_FRAMES];
    for (int i = 0; i < E2E_FRAMES; i++) {
        if (i == E2E_FRAMES - 1) {
            sleep_ms(20); /* sets the last pose's report apart from the one before */
        }
        sent[i] = make_pose(0);
        assert_int_equal(rr_stream_player_send_pose(player, &sent[i]), RR_OK);
        assert_int_equal(sent[i].pose_id, (uint64_t)i + 1);
        uint64_t before = rr_stream_now_us(0);
        const struct rr_stream_frame *f = wait_frame_for_pose(player, sent[i].pose_id, WAIT_MS);
        uint64_t after = rr_stream_now_us(0);
        assert_non_null(f);
        assert_true(f->frame_id > last_frame_id);
        if (last_frame_id == 0) {
            assert_int_equal(f->frame_id, 1);
            assert_true(f->keyframe); /* a connection starts with one */
        }
        last_frame_id = f->frame_id;
        assert_false(f->unknown_pose);
        assert_int_equal(f->timing.pose_sampled_us, sent[i].sample_time_us);
        assert_int_equal(f->timing.predicted_display_us, sent[i].predicted_display_us);
        assert_true(f->timing.present_us >= before && f->timing.present_us <= after);
        struct rr_stream_player_totals tot;
        rr_stream_player_totals(player, &tot);
        assert_timing_ordered(&f->timing, 5000u + tot.clock_rtt_us);
        assert_pattern(f, (uint8_t)sent[i].pose_id);

        struct rr_frame_statistics fs;
        rr_stream_player_last_frame_statistics(player, &fs);
        assert_true(fs.video_frames_received >= 1);
        assert_int_equal(fs.video_frames_discarded, 0);
        assert_int_equal(fs.video_frame_reused_count, 0);
        assert_true(fs.latency_present_to_display == 5.0f);
        assert_true(fs.latency >= fs.latency_present_to_display);
        assert_true(fs.latency_pose_to_receive >= 0.0f);
        assert_true(fs.latency_receive_to_present >= 0.0f);
        assert_true(fs.latency >= fs.latency_pose_to_receive);
        if (i > 0) {
            assert_true(fs.time_since_last_present > 0.0f);
        }
        assert_true(fs.video_frame_min_delta <= fs.video_frame_max_delta);
    }

    struct rr_stream_player_totals tot;
    rr_stream_player_totals(player, &tot);
    assert_true(tot.video_frames_received >= E2E_FRAMES);
    assert_true(tot.video_frames_decoded >= E2E_FRAMES);
    assert_int_equal(tot.video_frames_discarded, 0);
    assert_int_equal(tot.video_frames_unknown_pose, 0);
    assert_int_equal(tot.decoder_errors, 0);
    assert_true(tot.keyframes_received >= 1);
    assert_true(tot.video_bytes_received > 0);
    assert_int_equal(tot.poses_sent, E2E_FRAMES);
    assert_true(tot.blits >= E2E_FRAMES);
    assert_int_equal(tot.width, IMG_W);
    assert_int_equal(tot.height, IMG_H);
    assert_string_equal(tot.codec, "h264");
    assert_near(tot.clock_offset_us, 0, 5000);

    /* The remote hears about presented frames; wait for the report of the last one. */
    uint64_t end = rr_test_now_ms() + WAIT_MS;
    do {
        rr_stream_remote_stats(remote, &rs);
        /* in the remote's clock: the player's time plus the offset (≈ 0 here) */
        if (llabs((int64_t)(rs.last_reported.pose_sampled_us -
                            sent[E2E_FRAMES - 1].sample_time_us)) <= 5000) {
            break;
        }
        sleep_ms(5);
    } while (rr_test_now_ms() < end);
    assert_near(rs.last_reported.pose_sampled_us, sent[E2E_FRAMES - 1].sample_time_us, 5000);
    assert_near(rs.last_reported.predicted_display_us, sent[E2E_FRAMES - 1].predicted_display_us,
                5000);
    assert_true(rs.last_reported.present_us != 0);
    assert_le_us(rs.last_reported.send_us, rs.last_reported.present_us, 5000u + rs.rtt_us);
    assert_le_us(rs.last_reported.present_us, rr_stream_now_us(0), 5000u + rs.rtt_us);
    assert_true(rs.frames_encoded >= E2E_FRAMES);
    assert_true(rs.frames_submitted >= rs.frames_encoded);
    assert_int_equal(rs.frames_skipped, 0);
    assert_true(rs.poses_received >= E2E_FRAMES);
    assert_int_equal(rs.poses_invalid, 0);
    assert_int_equal(rs.poses_out_of_order, 0);
    assert_int_equal(rs.poses_duplicate, 0);
    assert_true(rs.keyframes >= 1);
    assert_true(rs.video_bytes > 0);
    assert_true(rs.bitrate_kbps > 0 && rs.bitrate_kbps <= 4000);
    assert_string_equal(rs.encoder, "libx264");
    assert_string_equal(rs.codec, "h264");

    struct rr_stream_pose latest;
    assert_true(rr_stream_remote_latest_pose(remote, &latest));
    assert_int_equal(latest.pose_id, E2E_FRAMES);
    assert_true(latest.head.position[1] == 1.6f);
    assert_true(latest.view[1].position[0] == 0.032f);
    assert_true(latest.fov[0].angle_left == -0.8f);
    /* Prediction from the last two samples: never behind the newest pose. */
    struct rr_stream_pose pred;
    assert_true(rr_stream_remote_predict_pose(remote, latest.sample_time_us + 10000, &pred));
    assert_int_equal(pred.pose_id, latest.pose_id);

    renderer_stop(&ren);
    if (secure) {
        struct rr_connection_info info;
        assert_int_equal(rr_context_connection_info(d->player, &info), RR_OK);
        assert_true(info.secure);
    }
    rr_stream_player_destroy(&player);
    assert_null(player);
    rr_stream_remote_destroy(&remote);
    assert_null(remote);
    duo_destroy(&d);
}

static void test_end_to_end_plain(void **state)
{
    stream_end_to_end(false);
}

static void test_end_to_end_tls(void **state)
{
    if (!rr_test_have_pki()) {
        skip(); /* RR_PKI_DIR: ctest provides it through the PKI fixture */
    }
    stream_end_to_end(true);
}

/* ---- 2. clock synchronisation under skew ----------------------------------------------------- */

static void clock_skew_run(int64_t remote_skew, int64_t player_skew)
{
    const int64_t want = remote_skew - player_skew; /* remote clock − player clock */
    struct duo *d = duo_new("h264", "h264", false);
    struct rr_stream_remote_config rc = {.eye_width = EYE_W,
                                         .eye_height = EYE_H,
                                         .fps = 30,
                                         .max_bitrate_kbps = 4000,
                                         .encoder = "libx264",
                                         .clock_skew_us = remote_skew};
    struct rr_stream_remote *remote = NULL;
    assert_int_equal(rr_stream_remote_create(d->remote, &rc, &remote), RR_OK);
    struct rr_stream_player_config pc = {.clock_skew_us = player_skew};
    struct rr_stream_player *player = NULL;
    assert_int_equal(rr_stream_player_create(d->player, &pc, &player), RR_OK);
    /* Identity until the first measurement. */
    assert_int_equal(rr_stream_player_remote_to_local(player, 123456789), 123456789);
    assert_int_equal(rr_stream_player_local_to_remote(player, 123456789), 123456789);
    /* 0 stays "unknown" */
    assert_int_equal(rr_stream_player_remote_to_local(player, 0), 0);
    duo_connect(d);
    wait_clock_offset(player, want);

    struct rr_stream_player_totals tot;
    rr_stream_player_totals(player, &tot);
    const uint64_t x = rr_stream_now_us(player_skew);
    assert_near(rr_stream_player_remote_to_local(player, x), (int64_t)x - want, 3000);
    assert_near(rr_stream_player_local_to_remote(player, x), (int64_t)x + want, 3000);

    struct renderer *ren = renderer_start(remote, remote_skew);
    for (int i = 0; i < 4; i++) {
        struct rr_stream_pose pose = make_pose(player_skew);
        assert_int_equal(rr_stream_player_send_pose(player, &pose), RR_OK);
        uint64_t before = rr_stream_now_us(player_skew);
        const struct rr_stream_frame *f = wait_frame_for_pose(player, pose.pose_id, WAIT_MS);
        uint64_t after = rr_stream_now_us(player_skew);
        assert_non_null(f);
        assert_int_equal(f->timing.pose_sampled_us, pose.sample_time_us);
        assert_true(f->timing.present_us >= before && f->timing.present_us <= after);
        rr_stream_player_totals(player, &tot);
        assert_timing_ordered(&f->timing, 5000u + tot.clock_rtt_us);
        assert_pattern(f, (uint8_t)pose.pose_id);
    }
    renderer_stop(&ren);

    /* The remote learns the offset from the player and converts with it. */
    struct rr_stream_remote_stats rs;
    uint64_t end = rr_test_now_ms() + WAIT_MS;
    do {
        rr_stream_remote_stats(remote, &rs);
        if (rs.rtt_us != 0 && llabs(rs.clock_offset_us - want) <= 3000 &&
            rs.last_reported.present_us != 0) {
            break;
        }
        sleep_ms(5);
    } while (rr_test_now_ms() < end);
    assert_near(rs.clock_offset_us, want, 3000);
    const uint64_t y = rr_stream_now_us(remote_skew);
    assert_near(rr_stream_remote_local_to_player(remote, y), (int64_t)y - want, 3000);
    assert_near(rr_stream_remote_player_to_local(remote, y), (int64_t)y + want, 3000);
    /* The report came back in the remote's clock: present is after send and not in future. */
    assert_true(rs.last_reported.present_us != 0);
    assert_le_us(rs.last_reported.send_us, rs.last_reported.present_us, 5000u + rs.rtt_us);
    assert_le_us(rs.last_reported.present_us, rr_stream_now_us(remote_skew), 5000u + rs.rtt_us);
    assert_le_us(rs.last_reported.pose_sampled_us, rs.last_reported.pose_received_us,
                 5000u + rs.rtt_us);

    rr_stream_player_destroy(&player);
    rr_stream_remote_destroy(&remote);
    duo_destroy(&d);
}

static void test_clock_skew(void **state)
{
    clock_skew_run(5000000, 0);
    clock_skew_run(0, -3000000);
}

/* ---- 3. blit results ------------------------------------------------------------------------- */

/* One frame for a new pose, returned by the blit that first sees it. */
static const struct rr_stream_frame *one_frame(struct rr_stream_player *player,
                                               struct rr_stream_remote *remote, uint64_t *pose_id)
{
    struct rr_stream_pose pose = make_pose(0);
    assert_int_equal(rr_stream_player_send_pose(player, &pose), RR_OK);
    struct rr_stream_pose got;
    assert_true(rr_stream_remote_wait_pose(remote, pose.pose_id - 1, WAIT_MS, &got));
    assert_int_equal(got.pose_id, pose.pose_id);
    uint8_t *rgba = malloc(IMG_STRIDE * IMG_H);
    assert_non_null(rgba);
    draw_pattern(rgba, (uint8_t)got.pose_id, 1);
    struct rr_stream_submit_info info = {.pose_id = got.pose_id,
                                         .render_start_us = rr_stream_now_us(0),
                                         .render_end_us = rr_stream_now_us(0)};
    assert_int_equal(rr_stream_remote_submit_rgba(remote, &info, rgba, IMG_STRIDE), RR_OK);
    free(rgba);
    *pose_id = pose.pose_id;
    return wait_frame_for_pose(player, pose.pose_id, WAIT_MS);
}

static void test_blit_results(void **state)
{
    struct rr_context_config cfg = rr_test_config(RR_ROLE_PLAYER);
    struct rr_context *lone = NULL;
    assert_int_equal(rr_context_create(&cfg, &lone), RR_OK);
    struct rr_stream_player *bad = (struct rr_stream_player *)(uintptr_t)1;
    struct rr_stream_player_config pc = {.blit_timeout_ms = 50};
    assert_int_equal(rr_stream_player_create(lone, &pc, &bad), RR_ERROR_INVALID_ARGUMENT);
    assert_null(bad);
    pc.blit_timeout_ms = 99;
    assert_int_equal(rr_stream_player_create(lone, &pc, &bad), RR_ERROR_INVALID_ARGUMENT);
    pc.blit_timeout_ms = 1;
    assert_int_equal(rr_stream_player_create(lone, &pc, &bad), RR_ERROR_INVALID_ARGUMENT);
    rr_context_destroy(&lone);
    /* NULL player: no frame, no crash. */
    const struct rr_stream_frame *f = (const struct rr_stream_frame *)(uintptr_t)1;
    assert_int_equal(rr_stream_player_blit(NULL, &f), RR_BLIT_FAILED_NO_REMOTE_FRAME_AVAILABLE);
    assert_null(f);
    assert_string_equal(rr_blit_result_str(RR_BLIT_FAILED_REMOTE_FRAME_TOO_OLD),
                        "Failed_RemoteFrameTooOld");

    struct rr_stream_remote_config rc = {
        .eye_width = EYE_W, .eye_height = EYE_H, .fps = 30, .encoder = "libx264"};
    /* Without a timeout, a frame is reused for as long as nothing newer comes. */
    {
        struct duo *d = duo_new("h264", "h264", false);
        struct rr_stream_remote *remote = NULL;
        struct rr_stream_player *player = NULL;
        assert_int_equal(rr_stream_remote_create(d->remote, &rc, &remote), RR_OK);
        assert_int_equal(rr_stream_player_create(d->player, NULL, &player), RR_OK);
        f = (const struct rr_stream_frame *)(uintptr_t)1;
        assert_int_equal(rr_stream_player_blit(player, &f),
                         RR_BLIT_FAILED_NO_REMOTE_FRAME_AVAILABLE);
        assert_null(f);
        duo_connect(d);
        assert_int_equal(rr_stream_player_blit(player, &f),
                         RR_BLIT_FAILED_NO_REMOTE_FRAME_AVAILABLE);
        assert_null(f);
        uint64_t pose_id = 0;
        f = one_frame(player, remote, &pose_id);
        assert_non_null(f);
        const uint64_t id = f->frame_id;
        struct rr_stream_player_totals t0;
        rr_stream_player_totals(player, &t0);
        for (uint32_t i = 1; i <= 3; i++) {
            if (i == 3) {
                sleep_ms(300); /* no timeout configured: age does not matter */
            }
            const struct rr_stream_frame *again = NULL;
            assert_int_equal(rr_stream_player_blit(player, &again), RR_BLIT_SUCCESS_COLOR);
            assert_non_null(again);
            assert_int_equal(again->frame_id, id);
            assert_int_equal(again->pose_id, pose_id);
            struct rr_frame_statistics fs;
            rr_stream_player_last_frame_statistics(player, &fs);
            assert_int_equal(fs.video_frame_reused_count, i);
        }
        struct rr_stream_player_totals t1;
        rr_stream_player_totals(player, &t1);
        assert_int_equal(t1.video_frame_reused_count, t0.video_frame_reused_count + 3);
        assert_int_equal(t1.blits, t0.blits + 3);
        /* A new frame starts the reuse count again. */
        f = one_frame(player, remote, &pose_id);
        assert_non_null(f);
        assert_true(f->frame_id > id);
        struct rr_frame_statistics fs;
        rr_stream_player_last_frame_statistics(player, &fs);
        assert_int_equal(fs.video_frame_reused_count, 0);
        rr_stream_player_destroy(&player);
        rr_stream_remote_destroy(&remote);
        duo_destroy(&d);
    }
    /* With a 100 ms timeout, a frame whose successor does not come goes stale. */
    {
        struct duo *d = duo_new("h264", "h264", false);
        struct rr_stream_remote *remote = NULL;
        struct rr_stream_player *player = NULL;
        assert_int_equal(rr_stream_remote_create(d->remote, &rc, &remote), RR_OK);
        pc.blit_timeout_ms = 100;
        assert_int_equal(rr_stream_player_create(d->player, &pc, &player), RR_OK);
        duo_connect(d);
        assert_int_equal(rr_stream_player_blit(player, &f),
                         RR_BLIT_FAILED_NO_REMOTE_FRAME_AVAILABLE);
        uint64_t pose_id = 0;
        f = one_frame(player, remote, &pose_id);
        assert_non_null(f);
        const uint64_t id = f->frame_id;
        sleep_ms(150);
        f = (const struct rr_stream_frame *)(uintptr_t)1;
        assert_int_equal(rr_stream_player_blit(player, &f), RR_BLIT_FAILED_REMOTE_FRAME_TOO_OLD);
        assert_null(f);
        assert_int_equal(rr_stream_player_blit(player, &f), RR_BLIT_FAILED_REMOTE_FRAME_TOO_OLD);
        f = one_frame(player, remote, &pose_id);
        assert_non_null(f);
        assert_true(f->frame_id > id);
        assert_pattern(f, (uint8_t)pose_id);
        rr_stream_player_destroy(&player);
        rr_stream_remote_destroy(&remote);
        duo_destroy(&d);
    }
}

/* ---- raw peers: a context with a hand-made receiver instead of a stream object --------------- */

struct raw_peer {
    struct rr_builtin_receiver base; /* first */
    atomic_int connected;
    atomic_int disconnected;
    atomic_int poses;
    atomic_ullong last_pose_id;
    atomic_int video;
    atomic_int keyframe_requests;
    atomic_int sync_requests;
    atomic_int stats_other;
    atomic_int other;
    atomic_ullong last_size;
    atomic_uint last_sum;
    char codec[16]; /* written in on_connected, read after the Connected event */
};

static void raw_connected(struct rr_builtin_receiver *self, const struct rr_connection_info *info)
{
    struct raw_peer *r = (struct raw_peer *)(void *)self;
    snprintf(r->codec, sizeof(r->codec), "%s", info->codec);
    atomic_fetch_add(&r->connected, 1);
}

static void raw_disconnected(struct rr_builtin_receiver *self)
{
    atomic_fetch_add(&((struct raw_peer *)(void *)self)->disconnected, 1);
}

static void raw_message(struct rr_builtin_receiver *self, uint8_t channel, const uint8_t *data,
                        size_t size)
{
    struct raw_peer *r = (struct raw_peer *)(void *)self;
    unsigned sum = 0;
    for (size_t i = 0; i < size; i++) {
        sum = sum * 31u + data[i];
    }
    atomic_store(&r->last_size, size);
    atomic_store(&r->last_sum, sum);
    if (channel == RR_BUILTIN_POSE) {
        struct rr_stream_pose pose;
        if (rr_wire_decode_pose(data, size, &pose)) {
            atomic_store(&r->last_pose_id, pose.pose_id);
        }
        atomic_fetch_add(&r->poses, 1);
    } else if (channel == RR_BUILTIN_VIDEO) {
        atomic_fetch_add(&r->video, 1);
    } else if (channel == RR_BUILTIN_STATS) {
        struct rr_wire_stats m;
        if (rr_wire_decode_stats(data, size, &m) && m.type == RR_WIRE_KEYFRAME_REQUEST) {
            atomic_fetch_add(&r->keyframe_requests, 1);
        } else if (rr_wire_decode_stats(data, size, &m) && m.type == RR_WIRE_SYNC_REQUEST) {
            atomic_fetch_add(&r->sync_requests, 1);
        } else {
            atomic_fetch_add(&r->stats_other, 1);
        }
    } else {
        atomic_fetch_add(&r->other, 1);
    }
}

static struct raw_peer *raw_new(void)
{
    struct raw_peer *r = calloc(1, sizeof(*r));
    assert_non_null(r);
    r->base.on_connected = raw_connected;
    r->base.on_message = raw_message;
    r->base.on_disconnected = raw_disconnected;
    return r;
}

#define STREAM_BITS                                                                                \
    (RR_BUILTIN_BIT(RR_BUILTIN_POSE) | RR_BUILTIN_BIT(RR_BUILTIN_VIDEO) |                          \
     RR_BUILTIN_BIT(RR_BUILTIN_STATS))

static bool wait_counter(atomic_int *c, int want, int timeout_ms)
{
    uint64_t end = rr_test_now_ms() + (uint64_t)timeout_ms;
    while (atomic_load(c) < want) {
        if (rr_test_now_ms() >= end) {
            return false;
        }
        sleep_ms(2);
    }
    return true;
}

/* ---- 4. poses out of order, duplicated and invalid ---------------------------------------- */

static void send_raw_pose(struct rr_context *ctx, const uint8_t *buf, size_t size)
{
    assert_int_equal(
        rr_context_send_builtin(ctx, RR_BUILTIN_POSE, buf, size, RR_PRIORITY_HIGH, true), RR_OK);
}

static void send_pose_id(struct rr_context *ctx, uint64_t id)
{
    struct rr_stream_pose pose = make_pose(0);
    pose.pose_id = id;
    uint8_t buf[RR_WIRE_POSE_SIZE];
    assert_int_equal(rr_wire_encode_pose(&pose, buf), RR_WIRE_POSE_SIZE);
    send_raw_pose(ctx, buf, sizeof(buf));
}

static void test_poses_hostile(void **state)
{
    struct duo *d = duo_new("h264", "h264", false);
    struct rr_stream_remote_config rc = {.eye_width = EYE_W, .eye_height = EYE_H};
    struct rr_stream_remote *remote = NULL;
    assert_int_equal(rr_stream_remote_create(d->remote, &rc, &remote), RR_OK);
    struct raw_peer *raw = raw_new();
    assert_int_equal(rr_context_attach_builtin(d->player, STREAM_BITS, &raw->base), RR_OK);
    duo_connect(d);
    struct rr_stream_pose got;
    assert_false(rr_stream_remote_latest_pose(remote, &got));
    assert_false(rr_stream_remote_predict_pose(remote, 1, &got));

    send_pose_id(d->player, 5);
    assert_true(rr_stream_remote_wait_pose(remote, 0, WAIT_MS, &got));
    assert_int_equal(got.pose_id, 5);
    send_pose_id(d->player, 3); /* older: out of order */
    send_pose_id(d->player, 5); /* again: duplicate */
    send_pose_id(d->player, 7);

    uint8_t buf[RR_WIRE_POSE_SIZE];
    struct rr_stream_pose pose = make_pose(0);
    pose.pose_id = 8;
    rr_wire_encode_pose(&pose, buf);
    const uint8_t nan_be[4] = {0x7f, 0xc0, 0x00, 0x00};
    memcpy(buf + 25, nan_be, 4); /* head.position[0] = NaN */
    send_raw_pose(d->player, buf, sizeof(buf));
    rr_wire_encode_pose(&pose, buf);
    send_raw_pose(d->player, buf, sizeof(buf) - 1); /* one byte short */
    pose.pose_id = 9;
    pose.head.orientation[3] = 2.0f; /* |q|² = 4 */
    rr_wire_encode_pose(&pose, buf);
    send_raw_pose(d->player, buf, sizeof(buf));
    pose = make_pose(0);
    pose.pose_id = 0; /* ids start at 1 */
    rr_wire_encode_pose(&pose, buf);
    send_raw_pose(d->player, buf, sizeof(buf));

    struct rr_stream_remote_stats rs;
    uint64_t end = rr_test_now_ms() + WAIT_MS;
    do {
        rr_stream_remote_stats(remote, &rs);
        if (rs.poses_invalid >= 4) {
            break;
        }
        sleep_ms(2);
    } while (rr_test_now_ms() < end);
    assert_int_equal(rs.poses_invalid, 4);
    assert_int_equal(rs.poses_out_of_order, 1);
    assert_int_equal(rs.poses_duplicate, 1);
    assert_int_equal(rs.poses_received, 2);
    assert_true(rr_stream_remote_latest_pose(remote, &got));
    assert_int_equal(got.pose_id, 7);
    assert_true(got.head.orientation[3] == 1.0f);
    assert_true(rr_stream_remote_wait_pose(remote, 0, 0, &got));
    assert_int_equal(got.pose_id, 7);
    assert_false(rr_stream_remote_wait_pose(remote, 7, 50, &got)); /* nothing newer */

    /* Still connected, and newer poses are taken again. */
    assert_int_equal(rr_context_state(d->player, NULL), RR_STATE_CONNECTED);
    assert_int_equal(rr_context_state(d->remote, NULL), RR_STATE_CONNECTED);
    send_pose_id(d->player, 10);
    assert_true(rr_stream_remote_wait_pose(remote, 7, WAIT_MS, &got));
    assert_int_equal(got.pose_id, 10);
    rr_stream_remote_stats(remote, &rs);
    assert_int_equal(rs.poses_received, 3);
    assert_int_equal(atomic_load(&raw->other), 0);

    rr_stream_remote_destroy(&remote);
    duo_destroy(&d);
    free(raw);
}

/* ---- 5. corrupt video from a hand-made remote ----------------------------------------------- */

struct raw_remote {
    struct rr_context *ctx;
    struct rr_encoder *enc;
    uint8_t *rgba;
    uint64_t seed;
};

/* Encode the next picture (tag @p tag); the packet stays valid until the next call. */
static struct rr_encoded encode_next(struct raw_remote *rr, uint8_t tag, bool key)
{
    draw_pattern(rr->rgba, tag, (uint32_t)++rr->seed);
    struct rr_encoded pkt;
    char err[256] = "";
    if (!rr_encoder_encode_rgba(rr->enc, rr->rgba, IMG_STRIDE, key, &pkt, err, sizeof(err))) {
        fail_msg("encoding failed: %s", err);
    }
    assert_true(pkt.size > 0);
    assert_int_equal(pkt.keyframe, key);
    return pkt;
}

static void send_video(struct raw_remote *rr, uint64_t frame_id, uint64_t pose_id, uint8_t flags,
                       const uint8_t *bits, size_t size)
{
    struct rr_wire_video_header h = {.frame_id = frame_id,
                                     .pose_id = pose_id,
                                     .flags = flags,
                                     .codec = RR_WIRE_CODEC_H264,
                                     .width = IMG_W,
                                     .height = IMG_H};
    h.pose_received_us = h.render_start_us = h.render_end_us = h.encode_start_us = h.encode_end_us =
        h.send_us = rr_stream_now_us(0);
    uint8_t *msg = malloc(RR_WIRE_VIDEO_HEADER_SIZE + size);
    assert_non_null(msg);
    rr_wire_encode_video_header(&h, msg);
    if (size > 0) {
        memcpy(msg + RR_WIRE_VIDEO_HEADER_SIZE, bits, size);
    }
    assert_int_equal(rr_context_send_builtin(rr->ctx, RR_BUILTIN_VIDEO, msg,
                                             RR_WIRE_VIDEO_HEADER_SIZE + size, RR_PRIORITY_LOW,
                                             true),
                     RR_OK);
    free(msg);
}

/* What the player has shown so far, by frame id (ids stay small in this test). */
struct shown_log {
    bool shown[64];
};

/* Blit until frame @p frame_id is shown (logging every frame seen); then check its picture. */
static struct rr_stream_frame wait_shown(struct rr_stream_player *p, struct shown_log *log,
                                         uint64_t frame_id)
{
    uint64_t end = rr_test_now_ms() + WAIT_MS;
    while (rr_test_now_ms() < end) {
        const struct rr_stream_frame *f = NULL;
        if (rr_stream_player_blit(p, &f) == RR_BLIT_SUCCESS_COLOR) {
            assert_true(f->frame_id < 64);
            log->shown[f->frame_id] = true;
            if (f->frame_id == frame_id) {
                assert_pattern(f, (uint8_t)frame_id);
                return *f;
            }
        }
        sleep_ms(2);
    }
    fail_msg("frame %llu was never shown", (unsigned long long)frame_id);
    return (struct rr_stream_frame){0};
}

static uint64_t discarded(struct rr_stream_player *p)
{
    struct rr_stream_player_totals t;
    rr_stream_player_totals(p, &t);
    return t.video_frames_discarded;
}

static void wait_discarded(struct rr_stream_player *p, uint64_t want)
{
    uint64_t end = rr_test_now_ms() + WAIT_MS;
    while (discarded(p) < want && rr_test_now_ms() < end) {
        sleep_ms(2);
    }
    assert_int_equal(discarded(p), want);
}

static void test_corrupt_video(void **state)
{
    struct duo *d = duo_new("h264", "h264", false);
    struct rr_stream_player *player = NULL;
    assert_int_equal(rr_stream_player_create(d->player, NULL, &player), RR_OK);
    struct raw_peer *raw = raw_new();
    assert_int_equal(rr_context_attach_builtin(d->remote, STREAM_BITS, &raw->base), RR_OK);
    duo_connect(d);
    assert_string_equal(raw->codec, "h264");

    struct raw_remote rr = {.ctx = d->remote};
    rr.rgba = malloc(IMG_STRIDE * IMG_H);
    assert_non_null(rr.rgba);
    struct rr_encoder_config ec = {.codec = "h264",
                                   .encoder = "libx264",
                                   .width = IMG_W,
                                   .height = IMG_H,
                                   .fps = 30,
                                   .bitrate_kbps = 2000};
    char err[256] = "";
    if (!rr_encoder_open(&ec, &rr.enc, err, sizeof(err))) {
        fail_msg("libx264: %s", err);
    }

    /* Poses 1–3 exist on the player; frames name them so that their timing is known. */
    for (int i = 0; i < 3; i++) {
        struct rr_stream_pose pose = make_pose(0);
        assert_int_equal(rr_stream_player_send_pose(player, &pose), RR_OK);
    }
    assert_true(wait_counter(&raw->poses, 3, WAIT_MS));

    struct shown_log log = {0};
    uint64_t id = 0;
    struct rr_encoded pkt;
    /* A keyframe and two good P-frames. */
    for (int i = 0; i < 3; i++) {
        bool key = i == 0;
        id++;
        pkt = encode_next(&rr, (uint8_t)id, key);
        send_video(&rr, id, 1 + (uint64_t)i, key ? RR_WIRE_FLAG_KEYFRAME : 0, pkt.data, pkt.size);
        struct rr_stream_frame f = wait_shown(player, &log, id);
        assert_int_equal(f.keyframe, key);
        assert_int_equal(f.pose_id, (uint64_t)i + 1);
        assert_false(f.unknown_pose);
    }
    assert_int_equal(discarded(player), 0);

    /* Damage that only the decoder can see: each one is discarded and never shown; a
     * keyframe brings the picture back. */
    for (int kind = 0; kind < 3; kind++) {
        uint64_t before = discarded(player);
        id++;
        const uint64_t bad_id = id;
        pkt = encode_next(&rr, (uint8_t)id, false);
        uint8_t *bits = malloc(pkt.size);
        assert_non_null(bits);
        memcpy(bits, pkt.data, pkt.size);
        size_t size = pkt.size;
        assert_true(size > 64); /* the noise band makes real slice data */
        if (kind == 0) {
            for (size_t i = size / 2 - 8; i < size / 2 + 8; i++) {
                bits[i] ^= 0xa5u;
            }
        } else if (kind == 1) {
            size /= 2;
        } else {
            uint32_t x32 = 0x9e3779b9u;
            for (size_t i = 0; i < size; i++) {
                x32 ^= x32 << 13;
                x32 ^= x32 >> 17;
                x32 ^= x32 << 5;
                bits[i] = (uint8_t)(1u + x32 % 255u); /* no zero byte: no start code */
            }
        }
        send_video(&rr, bad_id, 2, 0, bits, size);
        free(bits);
        wait_discarded(player, before + 1);
        id++;
        pkt = encode_next(&rr, (uint8_t)id, true);
        send_video(&rr, id, 3, RR_WIRE_FLAG_KEYFRAME, pkt.data, pkt.size);
        wait_shown(player, &log, id);
        assert_int_equal(discarded(player), before + 1);
        if (log.shown[bad_id]) {
            fail_msg("corrupt frame %llu (kind %d) was shown", (unsigned long long)bad_id, kind);
        }
    }
    struct rr_stream_player_totals tot;
    rr_stream_player_totals(player, &tot);
    assert_true(tot.decoder_errors >= 2);
    assert_true(wait_counter(&raw->keyframe_requests, 1, WAIT_MS));

    /* A message that is only a header, then a good P-frame: both discarded (the P-frame's
     * reference is gone as far as the player knows); the next keyframe is shown. */
    uint64_t base = discarded(player);
    id++;
    send_video(&rr, id, 1, 0, NULL, 0);
    wait_discarded(player, base + 1);
    id++;
    const uint64_t orphan = id;
    pkt = encode_next(&rr, (uint8_t)id, false);
    send_video(&rr, id, 1, 0, pkt.data, pkt.size);
    wait_discarded(player, base + 2);
    id++;
    pkt = encode_next(&rr, (uint8_t)id, true);
    send_video(&rr, id, 1, RR_WIRE_FLAG_KEYFRAME, pkt.data, pkt.size);
    wait_shown(player, &log, id);
    assert_false(log.shown[orphan]);

    /* A bad header (unknown flag), then a good P-frame: both discarded; keyframe shown. */
    base = discarded(player);
    id++;
    pkt = encode_next(&rr, (uint8_t)id, false);
    send_video(&rr, id, 1, 0x80, pkt.data, pkt.size);
    wait_discarded(player, base + 1);
    id++;
    const uint64_t orphan2 = id;
    pkt = encode_next(&rr, (uint8_t)id, false);
    send_video(&rr, id, 1, 0, pkt.data, pkt.size);
    wait_discarded(player, base + 2);
    id++;
    pkt = encode_next(&rr, (uint8_t)id, true);
    send_video(&rr, id, 1, RR_WIRE_FLAG_KEYFRAME, pkt.data, pkt.size);
    wait_shown(player, &log, id);
    assert_false(log.shown[orphan2]);

    /* A gap in the frame ids: the next two P-frames are discarded, the keyframe shown. */
    base = discarded(player);
    id += 2;
    const uint64_t gap1 = id;
    pkt = encode_next(&rr, (uint8_t)id, false);
    send_video(&rr, id, 2, 0, pkt.data, pkt.size);
    wait_discarded(player, base + 1);
    id++;
    const uint64_t gap2 = id;
    pkt = encode_next(&rr, (uint8_t)id, false);
    send_video(&rr, id, 2, 0, pkt.data, pkt.size);
    wait_discarded(player, base + 2);
    id++;
    pkt = encode_next(&rr, (uint8_t)id, true);
    send_video(&rr, id, 2, RR_WIRE_FLAG_KEYFRAME, pkt.data, pkt.size);
    wait_shown(player, &log, id);
    assert_false(log.shown[gap1]);
    assert_false(log.shown[gap2]);

    /* A frame for a pose this player never sent is shown, flagged, without pose timing. */
    id++;
    pkt = encode_next(&rr, (uint8_t)id, false);
    send_video(&rr, id, 999999, 0, pkt.data, pkt.size);
    struct rr_stream_frame f = wait_shown(player, &log, id);
    assert_true(f.unknown_pose);
    assert_int_equal(f.pose_id, 999999);
    assert_int_equal(f.timing.pose_sampled_us, 0);
    assert_int_equal(f.timing.pose_received_us, 0);
    assert_true(f.timing.receive_us != 0);
    struct rr_frame_statistics fs;
    rr_stream_player_last_frame_statistics(player, &fs);
    assert_true(fs.latency == 0.0f); /* no pose, no latency */
    id++;
    pkt = encode_next(&rr, (uint8_t)id, false);
    send_video(&rr, id, 3, 0, pkt.data, pkt.size);
    f = wait_shown(player, &log, id);
    assert_false(f.unknown_pose);
    assert_true(f.timing.pose_sampled_us != 0);

    rr_stream_player_totals(player, &tot);
    assert_int_equal(tot.video_frames_unknown_pose, 1);
    assert_int_equal(tot.video_frames_discarded, 3 + 6);
    assert_int_equal(tot.video_frames_skipped, 0);
    assert_true(tot.keyframe_requests_sent >= 1);
    assert_true(wait_counter(&raw->keyframe_requests, (int)tot.keyframe_requests_sent, WAIT_MS));
    assert_int_equal(rr_context_state(d->player, NULL), RR_STATE_CONNECTED);
    assert_int_equal(rr_context_state(d->remote, NULL), RR_STATE_CONNECTED);
    assert_int_equal(atomic_load(&raw->other), 0);

    rr_encoder_close(&rr.enc);
    free(rr.rgba);
    rr_stream_player_destroy(&player);
    rr_context_attach_builtin(d->remote, STREAM_BITS, NULL);
    duo_destroy(&d);
    free(raw);
}

/* ---- 6. disconnect mid-stream and reconnect ----------------------------------------------- */

static void test_disconnect_reconnect(void **state)
{
    struct duo *d = duo_new("h264", "h264", false);
    struct rr_stream_remote_config rc = {.eye_width = EYE_W,
                                         .eye_height = EYE_H,
                                         .fps = 30,
                                         .max_bitrate_kbps = 4000,
                                         .encoder = "libx264"};
    struct rr_stream_remote *remote = NULL;
    assert_int_equal(rr_stream_remote_create(d->remote, &rc, &remote), RR_OK);
    struct rr_stream_player *player = NULL;
    assert_int_equal(rr_stream_player_create(d->player, NULL, &player), RR_OK);
    duo_connect(d);
    struct renderer *ren = renderer_start(remote, 0);

    uint64_t last_id = 0;
    for (int i = 0; i < 3; i++) {
        struct rr_stream_pose pose = make_pose(0);
        assert_int_equal(rr_stream_player_send_pose(player, &pose), RR_OK);
        const struct rr_stream_frame *f = wait_frame_for_pose(player, pose.pose_id, WAIT_MS);
        assert_non_null(f);
        last_id = f->frame_id;
    }
    /* Mid-stream: a pose in flight while the remote hangs up. */
    struct rr_stream_pose pose = make_pose(0);
    assert_int_equal(rr_stream_player_send_pose(player, &pose), RR_OK);
    assert_int_equal(rr_context_disconnect(d->remote), RR_OK);
    assert_int_equal(rr_test_wait_disconnected(d->remote, WAIT_MS, NULL, 0),
                     RR_REASON_DISCONNECT_REQUEST);
    assert_int_equal(rr_test_wait_disconnected(d->player, WAIT_MS, NULL, 0),
                     RR_REASON_PEER_DISCONNECT_REQUEST);
    /* A renderer that took the last pose just before the hang-up may submit it only after
     * the reconnect, as frame 1 of the new connection: stop it so that frame ids are known. */
    renderer_stop(&ren);

    uint8_t *rgba = calloc(1, IMG_STRIDE * IMG_H);
    assert_non_null(rgba);
    struct rr_stream_submit_info info = {.pose_id = pose.pose_id};
    assert_int_equal(rr_stream_remote_submit_rgba(remote, &info, rgba, IMG_STRIDE),
                     RR_ERROR_NOT_CONNECTED);
    struct rr_stream_pose more = make_pose(0);
    assert_int_equal(rr_stream_player_send_pose(player, &more), RR_ERROR_NOT_CONNECTED);
    struct rr_stream_pose got;
    assert_false(rr_stream_remote_wait_pose(remote, UINT64_MAX - 1, WAIT_MS, &got));
    assert_int_equal(rr_stream_player_request_keyframe(player), RR_ERROR_NOT_CONNECTED);
    /* The last picture stays available (no timeout configured). */
    const struct rr_stream_frame *f = NULL;
    assert_int_equal(rr_stream_player_blit(player, &f), RR_BLIT_SUCCESS_COLOR);
    assert_non_null(f);
    assert_true(f->frame_id >= last_id);
    last_id = f->frame_id;
    assert_int_equal(rr_stream_player_blit(player, &f), RR_BLIT_SUCCESS_COLOR);
    assert_int_equal(f->frame_id, last_id);
    struct rr_frame_statistics fs;
    rr_stream_player_last_frame_statistics(player, &fs);
    assert_true(fs.video_frame_reused_count >= 1);

    /* The same contexts and stream objects connect again: a new stream from a keyframe,
     * frame ids from 1. */
    struct rr_stream_remote_stats rs0;
    rr_stream_remote_stats(remote, &rs0);
    duo_connect(d);
    ren = renderer_start(remote, 0);
    for (uint64_t want = 1; want <= 3; want++) {
        pose = make_pose(0);
        assert_int_equal(rr_stream_player_send_pose(player, &pose), RR_OK);
        f = wait_frame_for_pose(player, pose.pose_id, WAIT_MS);
        assert_non_null(f);
        assert_int_equal(f->frame_id, want);
        assert_int_equal(f->keyframe, want == 1);
        assert_false(f->unknown_pose);
        assert_pattern(f, (uint8_t)pose.pose_id);
    }
    renderer_stop(&ren);
    struct rr_stream_remote_stats rs;
    rr_stream_remote_stats(remote, &rs);
    assert_true(rs.keyframes >= rs0.keyframes + 1);
    assert_string_equal(rs.codec, "h264");
    struct rr_stream_player_totals tot;
    rr_stream_player_totals(player, &tot);
    assert_int_equal(tot.decoder_errors, 0);
    free(rgba);
    rr_stream_player_destroy(&player);
    rr_stream_remote_destroy(&remote);
    duo_destroy(&d);
}

/* ---- 7. no common codec -------------------------------------------------------------------- */

static void test_no_common_codec(void **state)
{
    struct duo *d = duo_new("hevc", "h264", false);
    struct rr_stream_remote *remote = NULL;
    struct rr_stream_player *player = NULL;
    struct rr_stream_remote_config rc = {.eye_width = EYE_W, .eye_height = EYE_H};
    assert_int_equal(rr_stream_remote_create(d->remote, &rc, &remote), RR_OK);
    assert_int_equal(rr_stream_player_create(d->player, NULL, &player), RR_OK);
    char detail[192];
    /* The player listens: its attempt fails, the remote's connect ends. */
    assert_int_equal(rr_context_listen(d->player, "127.0.0.1", 0, 0), RR_OK);
    uint16_t port = rr_test_wait_listening(d->player, WAIT_MS);
    assert_int_not_equal(port, 0);
    assert_int_equal(rr_context_connect(d->remote, "127.0.0.1", port), RR_OK);
    assert_int_equal(rr_test_wait_disconnected(d->remote, WAIT_MS, detail, sizeof(detail)),
                     RR_REASON_VIDEO_CODEC_NOT_AVAILABLE);
    assert_int_equal(rr_test_wait_attempt_failed(d->player, WAIT_MS, NULL, 0),
                     RR_REASON_VIDEO_CODEC_NOT_AVAILABLE);
    assert_int_equal(rr_context_disconnect(d->player), RR_OK);
    rr_test_wait_disconnected(d->player, WAIT_MS, NULL, 0);
    /* And the other way round: the remote listens. */
    assert_int_equal(rr_context_listen(d->remote, "127.0.0.1", 0, 0), RR_OK);
    port = rr_test_wait_listening(d->remote, WAIT_MS);
    assert_int_not_equal(port, 0);
    assert_int_equal(rr_context_connect(d->player, "127.0.0.1", port), RR_OK);
    assert_int_equal(rr_test_wait_disconnected(d->player, WAIT_MS, NULL, 0),
                     RR_REASON_VIDEO_CODEC_NOT_AVAILABLE);
    assert_int_equal(rr_test_wait_attempt_failed(d->remote, WAIT_MS, NULL, 0),
                     RR_REASON_VIDEO_CODEC_NOT_AVAILABLE);
    /* Never connected: the stream objects saw nothing. */
    struct rr_stream_remote_stats rs;
    rr_stream_remote_stats(remote, &rs);
    assert_string_equal(rs.codec, "");
    struct rr_stream_player_totals tot;
    rr_stream_player_totals(player, &tot);
    assert_string_equal(tot.codec, "");
    struct rr_stream_pose pose = make_pose(0);
    assert_int_equal(rr_stream_player_send_pose(player, &pose), RR_ERROR_NOT_CONNECTED);
    rr_stream_player_destroy(&player);
    rr_stream_remote_destroy(&remote);
    duo_destroy(&d);
}

/* ---- 8. an encoder that cannot open -------------------------------------------------------- */

/* ---- 12. bitrate adaptation to what the path carries ----------------------------------------- */

/* A slow link between the remote and the player: a loopback proxy that forwards the remote's
 * bytes at RATE_BYTES_PER_S (the player's replies unthrottled), with small socket buffers so
 * that little hides in the kernel. */
#define RATE_BYTES_PER_S (400u * 1024u)

struct slow_link {
    int listen_fd;
    uint16_t port;
    uint16_t target_port;
    atomic_int stop;
    pthread_t thread;
};

static int small_buffers(int fd)
{
    int size = 32 * 1024;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
    return fd;
}

static void *slow_link_main(void *arg)
{
    struct slow_link *l = arg;
    int from = accept(l->listen_fd, NULL, NULL);
    int to = small_buffers(socket(AF_INET, SOCK_STREAM, 0));
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(l->target_port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (from < 0 || to < 0 || connect(to, (struct sockaddr *)&a, sizeof(a)) != 0) {
        return NULL;
    }
    small_buffers(from);
    static uint8_t buf[65536];
    uint64_t budget_at = rr_test_now_ms();
    while (!atomic_load(&l->stop)) {
        struct pollfd p[2] = {{.fd = from, .events = POLLIN}, {.fd = to, .events = POLLIN}};
        if (poll(p, 2, 10) < 0) {
            break;
        }
        if (p[1].revents & (POLLIN | POLLHUP)) { /* the player's side: as fast as it comes */
            ssize_t n = read(to, buf, sizeof(buf));
            if (n <= 0 || write(from, buf, (size_t)n) != n) {
                break;
            }
        }
        uint64_t now = rr_test_now_ms();
        size_t allowed = (size_t)((now - budget_at) * RATE_BYTES_PER_S / 1000u);
        if ((p[0].revents & (POLLIN | POLLHUP)) && allowed > 0) {
            ssize_t n = read(from, buf, allowed < sizeof(buf) ? allowed : sizeof(buf));
            if (n <= 0 || write(to, buf, (size_t)n) != n) {
                break;
            }
            budget_at = now;
        }
    }
    close(from);
    close(to);
    return NULL;
}

static struct slow_link *slow_link_start(uint16_t target_port)
{
    struct slow_link *l = calloc(1, sizeof(*l));
    assert_non_null(l);
    l->target_port = target_port;
    l->listen_fd = small_buffers(socket(AF_INET, SOCK_STREAM, 0));
    struct sockaddr_in a = {.sin_family = AF_INET};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(a);
    assert_int_equal(bind(l->listen_fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(l->listen_fd, 1), 0);
    assert_int_equal(getsockname(l->listen_fd, (struct sockaddr *)&a, &len), 0);
    l->port = ntohs(a.sin_port);
    assert_int_equal(pthread_create(&l->thread, NULL, slow_link_main, l), 0);
    return l;
}

static void slow_link_stop(struct slow_link **l_ptr)
{
    struct slow_link *l = *l_ptr;
    *l_ptr = NULL;
    atomic_store(&l->stop, 1);
    pthread_join(l->thread, NULL);
    close(l->listen_fd);
    free(l);
}

static void test_bitrate_adapts(void **state)
{
    (void)state;
    struct duo *d = duo_new(NULL, "h264", false); /* libx264: real time here */
    struct rr_stream_player *player = NULL;
    assert_int_equal(rr_stream_player_create(d->player, NULL, &player), RR_OK);
    struct rr_stream_remote_config rc = {
        .eye_width = 320, .eye_height = 180, .fps = 60, .max_bitrate_kbps = 20000};
    struct rr_stream_remote *remote = NULL;
    assert_int_equal(rr_stream_remote_create(d->remote, &rc, &remote), RR_OK);
    assert_int_equal(rr_context_listen(d->player, "127.0.0.1", 0, 0), RR_OK);
    uint16_t port = rr_test_wait_listening(d->player, WAIT_MS);
    assert_int_not_equal(port, 0);
    struct slow_link *link = slow_link_start(port);
    assert_int_equal(rr_context_connect(d->remote, "127.0.0.1", link->port), RR_OK);
    assert_true(rr_test_wait_event(d->remote, RR_EVENT_CONNECTED, WAIT_MS, NULL));

    /* Noise: every frame costs the encoder's whole VBV budget (about 41 KB at 20 Mbit/s),
     * six times what the link carries. */
    size_t stride = 640u * 4u;
    uint8_t *img = malloc(stride * 180u);
    assert_non_null(img);
    uint64_t seed = 12345;
    struct rr_stream_remote_stats st = {0};
    /* Six seconds: the first windows fill the buffers, the later ones see the link itself. */
    uint64_t end = rr_test_now_ms() + 6000;
    while (rr_test_now_ms() < end) {
        for (size_t i = 0; i + 8 <= stride * 180u; i += 8) { /* xorshift64: cheap noise */
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            memcpy(img + i, &seed, 8);
        }
        assert_int_equal(rr_stream_remote_submit_rgba(remote, NULL, img, stride), RR_OK);
        sleep_ms(16);
    }
    rr_stream_remote_stats(remote, &st);
    print_message("# after %llu frames (%llu bytes): %llu skipped, target %u kbps, measured %u "
                  "kbps (link 3277 kbps)\n",
                  (unsigned long long)st.frames_encoded, (unsigned long long)st.video_bytes,
                  (unsigned long long)st.frames_skipped, st.bitrate_kbps, st.throughput_kbps);
    /* Frames were skipped rather than queued without bound, the measured throughput is the
     * link's (400 KiB/s ≈ 3.3 Mbit/s, with slack for the window edges), and the target came
     * down from 20000 kbps to near it. */
    assert_true(st.frames_skipped > 0);
    assert_true(st.throughput_kbps > 300 && st.throughput_kbps < 6000);
    assert_true(st.bitrate_kbps < 6000);
    assert_true(rr_context_queued_bytes(d->remote, RR_PRIORITY_LOW) < 1024u * 1024u);
    /* The player kept decoding what arrived. */
    struct rr_stream_player_totals pt;
    rr_stream_player_totals(player, &pt);
    assert_true(pt.video_frames_decoded > 0);
    free(img);
    rr_context_disconnect(d->remote);
    rr_stream_remote_destroy(&remote);
    rr_stream_player_destroy(&player);
    duo_destroy(&d);
    slow_link_stop(&link);
}

static void test_encoder_cannot_open(void **state)
{
    char err[256] = "";
    enum rr_result probe =
        rr_stream_probe_encoder("h264_nvenc", "h264", IMG_W, IMG_H, err, sizeof(err));
    if (probe != RR_OK) {
        assert_non_null(strstr(err, "h264_nvenc"));
    }
    err[0] = '\0';
    assert_int_not_equal(rr_stream_probe_encoder("nosuch", "h264", IMG_W, IMG_H, err, sizeof(err)),
                         RR_OK);
    assert_true(strlen(err) > 0);
    assert_non_null(strstr(err, "nosuch"));
    err[0] = '\0';
    assert_int_equal(rr_stream_probe_encoder("libx264", "vp9", IMG_W, IMG_H, err, sizeof(err)),
                     RR_ERROR_INVALID_ARGUMENT);
    assert_true(strlen(err) > 0);
    assert_int_equal(rr_stream_probe_encoder("libx264", "h264", IMG_W, IMG_H, err, sizeof(err)),
                     RR_OK);
    assert_int_equal(rr_stream_probe_encoder("libx264", "h264", IMG_W, IMG_H, NULL, 0), RR_OK);
    assert_string_equal(rr_stream_remote_codecs("libx264"), "h264");
    assert_string_equal(rr_stream_remote_codecs("libx265"), "hevc");
    assert_string_equal(rr_stream_remote_codecs("hevc_nvenc"), "hevc");
    const char *any = rr_stream_remote_codecs(NULL);
    assert_true(strcmp(any, "h264") == 0 || strcmp(any, "hevc,h264") == 0);

    struct duo *d = duo_new("h264", "h264", false);
    struct rr_stream_remote_config rc = {
        .eye_width = EYE_W, .eye_height = EYE_H, .encoder = "h264_nvenc"};
    struct rr_stream_remote *remote = NULL;
    assert_int_equal(rr_stream_remote_create(d->remote, &rc, &remote), RR_OK);
    struct rr_stream_player *player = NULL;
    assert_int_equal(rr_stream_player_create(d->player, NULL, &player), RR_OK);
    uint8_t *rgba = calloc(1, IMG_STRIDE * IMG_H);
    assert_non_null(rgba);
    assert_int_equal(rr_stream_remote_submit_rgba(remote, NULL, rgba, IMG_STRIDE),
                     RR_ERROR_NOT_CONNECTED);
    duo_connect(d);
    /* Where NVENC works (a GPU machine) the probe said so, and frames flow instead. */
    const enum rr_result want = probe == RR_OK ? RR_OK : RR_ERROR_SYSTEM;
    assert_int_equal(rr_stream_remote_submit_rgba(remote, NULL, rgba, IMG_STRIDE), want);
    assert_int_equal(rr_stream_remote_submit_rgba(remote, NULL, rgba, IMG_STRIDE), want);
    assert_int_equal(rr_stream_remote_submit_rgba(remote, NULL, rgba, IMG_STRIDE - 4),
                     RR_ERROR_INVALID_ARGUMENT);
    assert_int_equal(rr_stream_remote_submit_rgba(remote, NULL, NULL, IMG_STRIDE),
                     RR_ERROR_INVALID_ARGUMENT);
    struct rr_stream_remote_stats rs;
    rr_stream_remote_stats(remote, &rs);
    if (probe != RR_OK) {
        assert_int_equal(rs.frames_encoded, 0);
        assert_string_equal(rs.encoder, "");
    } else {
        assert_int_equal(rs.frames_encoded, 2);
        assert_string_equal(rs.encoder, "h264_nvenc");
    }
    assert_string_equal(rs.codec, "h264");
    assert_int_equal(rr_context_state(d->remote, NULL), RR_STATE_CONNECTED);
    assert_int_equal(rr_context_state(d->player, NULL), RR_STATE_CONNECTED);
    free(rgba);
    rr_stream_remote_destroy(&remote);
    rr_stream_player_destroy(&player);
    duo_destroy(&d);
}

/* ---- 9. HEVC ------------------------------------------------------------------------------- */

static void test_hevc(void **state)
{
    struct duo *d = duo_new("hevc", "hevc", false);
    struct rr_stream_remote_config rc = {.eye_width = EYE_W,
                                         .eye_height = EYE_H,
                                         .fps = 30,
                                         .max_bitrate_kbps = 4000,
                                         .encoder = "libx265"};
    struct rr_stream_remote *remote = NULL;
    assert_int_equal(rr_stream_remote_create(d->remote, &rc, &remote), RR_OK);
    struct rr_stream_player *player = NULL;
    assert_int_equal(rr_stream_player_create(d->player, NULL, &player), RR_OK);
    duo_connect(d);
    struct renderer *ren = renderer_start(remote, 0);
    for (int i = 0; i < 4; i++) {
        struct rr_stream_pose pose = make_pose(0);
        assert_int_equal(rr_stream_player_send_pose(player, &pose), RR_OK);
        const struct rr_stream_frame *f = wait_frame_for_pose(player, pose.pose_id, WAIT_MS);
        assert_non_null(f);
        assert_pattern(f, (uint8_t)pose.pose_id);
    }
    renderer_stop(&ren);
    struct rr_stream_player_totals tot;
    rr_stream_player_totals(player, &tot);
    assert_string_equal(tot.codec, "hevc");
    assert_int_equal(tot.video_frames_discarded, 0);
    assert_true(tot.keyframes_received >= 1);
    struct rr_stream_remote_stats rs;
    rr_stream_remote_stats(remote, &rs);
    assert_string_equal(rs.encoder, "libx265");
    assert_string_equal(rs.codec, "hevc");
    rr_stream_player_destroy(&player);
    rr_stream_remote_destroy(&remote);
    duo_destroy(&d);
}

/* ---- 10. built-in channels misused at the remoting level --------------------------------- */

static void test_builtin_misuse(void **state)
{
    struct duo *d = duo_new(NULL, NULL, false);
    struct raw_peer *a = raw_new();
    struct raw_peer *b = raw_new();
    struct rr_builtin_receiver silent = {0}; /* no on_message */
    assert_int_equal(rr_context_attach_builtin(d->player, 0, &a->base), RR_ERROR_INVALID_ARGUMENT);
    assert_int_equal(rr_context_attach_builtin(d->player, 1u << 5, &a->base),
                     RR_ERROR_INVALID_ARGUMENT);
    assert_int_equal(rr_context_attach_builtin(
                         d->player, RR_BUILTIN_BIT(RR_BUILTIN_STATS) | (1u << 31), &a->base),
                     RR_ERROR_INVALID_ARGUMENT);
    assert_int_equal(rr_context_attach_builtin(NULL, RR_BUILTIN_BIT(RR_BUILTIN_STATS), &a->base),
                     RR_ERROR_INVALID_ARGUMENT);
    assert_int_equal(
        rr_context_attach_builtin(d->player, RR_BUILTIN_BIT(RR_BUILTIN_STATS), &silent),
        RR_ERROR_INVALID_ARGUMENT);
    assert_int_equal(rr_context_attach_builtin(d->player,
                                               RR_BUILTIN_BIT(RR_BUILTIN_STATS) |
                                                   RR_BUILTIN_BIT(RR_BUILTIN_SCENE),
                                               &a->base),
                     RR_OK);
    /* SCENE is taken: the whole attach fails, POSE stays free. */
    assert_int_equal(rr_context_attach_builtin(d->player,
                                               RR_BUILTIN_BIT(RR_BUILTIN_SCENE) |
                                                   RR_BUILTIN_BIT(RR_BUILTIN_POSE),
                                               &b->base),
                     RR_ERROR_WRONG_STATE);
    assert_int_equal(
        rr_context_attach_builtin(d->player, RR_BUILTIN_BIT(RR_BUILTIN_POSE), &b->base), RR_OK);
    assert_int_equal(rr_context_attach_builtin(d->player, RR_BUILTIN_BIT(RR_BUILTIN_POSE), NULL),
                     RR_OK);
    assert_int_equal(
        rr_context_send_builtin(d->remote, RR_BUILTIN_VIDEO, "x", 1, RR_PRIORITY_LOW, true),
        RR_ERROR_NOT_CONNECTED);

    duo_connect(d);
    assert_int_equal(atomic_load(&a->connected), 1);
    assert_string_equal(a->codec, "hevc"); /* both default to "hevc,h264"; the remote's wins */
    assert_int_equal(atomic_load(&b->connected), 0);
    assert_int_equal(
        rr_context_attach_builtin(d->player, RR_BUILTIN_BIT(RR_BUILTIN_AUDIO), &b->base),
        RR_ERROR_WRONG_STATE);
    const uint8_t channels_bad[] = {0, 64, 127, 128, 134, 200, 255};
    for (size_t i = 0; i < sizeof(channels_bad); i++) {
        assert_int_equal(
            rr_context_send_builtin(d->remote, channels_bad[i], "x", 1, RR_PRIORITY_LOW, true),
            RR_ERROR_INVALID_ARGUMENT);
    }
    assert_int_equal(
        rr_context_send_builtin(d->remote, RR_BUILTIN_STATS, "x", 1, (enum rr_priority)3, true),
        RR_ERROR_INVALID_ARGUMENT);
    assert_int_equal(
        rr_context_send_builtin(d->remote, RR_BUILTIN_STATS, NULL, 1, RR_PRIORITY_LOW, true),
        RR_ERROR_INVALID_ARGUMENT);
    assert_int_equal(rr_context_send_builtin(NULL, RR_BUILTIN_STATS, "x", 1, RR_PRIORITY_LOW, true),
                     RR_ERROR_INVALID_ARGUMENT);
    uint8_t *big = malloc(RR_MAX_BUILTIN_MESSAGE + 1u);
    assert_non_null(big);
    unsigned want_sum = 0;
    for (size_t i = 0; i < RR_MAX_BUILTIN_MESSAGE; i++) {
        big[i] = (uint8_t)(i * 7u + (i >> 11));
        want_sum = want_sum * 31u + big[i];
    }
    assert_int_equal(rr_context_send_builtin(d->remote, RR_BUILTIN_SCENE, big,
                                             RR_MAX_BUILTIN_MESSAGE + 1u, RR_PRIORITY_LOW, true),
                     RR_ERROR_MESSAGE_TOO_LARGE);
    /* Exactly the limit goes through whole, whatever max_message_size says. */
    assert_int_equal(rr_context_send_builtin(d->remote, RR_BUILTIN_SCENE, big,
                                             RR_MAX_BUILTIN_MESSAGE, RR_PRIORITY_LOW, true),
                     RR_OK);
    assert_true(wait_counter(&a->other, 1, WAIT_MS));
    assert_int_equal(atomic_load(&a->last_size), RR_MAX_BUILTIN_MESSAGE);
    assert_int_equal(atomic_load(&a->last_sum), want_sum);
    free(big);
    /* An empty message is a message too. */
    assert_int_equal(
        rr_context_send_builtin(d->remote, RR_BUILTIN_STATS, NULL, 0, RR_PRIORITY_HIGH, true),
        RR_OK);
    assert_true(wait_counter(&a->stats_other, 1, WAIT_MS));
    assert_int_equal(atomic_load(&a->last_size), 0);
    /* Detaching is allowed while connected. */
    assert_int_equal(rr_context_attach_builtin(d->player, RR_BUILTIN_BIT(RR_BUILTIN_SCENE), NULL),
                     RR_OK);

    /* Nobody receives video on the player: the connection ends with a protocol error. */
    assert_int_equal(
        rr_context_send_builtin(d->remote, RR_BUILTIN_VIDEO, "frame", 5, RR_PRIORITY_LOW, true),
        RR_OK);
    char detail[192];
    assert_int_equal(rr_test_wait_disconnected(d->player, WAIT_MS, detail, sizeof(detail)),
                     RR_REASON_PROTOCOL_ERROR);
    assert_non_null(strstr(detail, "130"));
    enum rr_disconnect_reason why = rr_test_wait_disconnected(d->remote, WAIT_MS, NULL, 0);
    assert_int_not_equal(why, RR_REASON_NONE);
    assert_true(wait_counter(&a->disconnected, 1, WAIT_MS));
    assert_int_equal(rr_context_state(d->remote, NULL), RR_STATE_DISCONNECTED);
    assert_int_equal(rr_context_attach_builtin(d->player, RR_BUILTIN_BIT(RR_BUILTIN_STATS), NULL),
                     RR_OK);
    duo_destroy(&d);
    free(a);
    free(b);
}

/* ---- 11. creating and destroying stream objects ------------------------------------------- */

static void test_create_destroy(void **state)
{
    struct duo *d = duo_new("h264", "h264", false);
    struct rr_stream_remote *remote = NULL, *second = NULL;
    struct rr_stream_player *player = NULL;
    const struct rr_stream_remote_config good = {
        .eye_width = EYE_W, .eye_height = EYE_H, .encoder = "libx264"};
    struct rr_stream_remote_config c = good;
    assert_int_equal(rr_stream_remote_create(NULL, &c, &remote), RR_ERROR_INVALID_ARGUMENT);
    assert_int_equal(rr_stream_remote_create(d->remote, &c, NULL), RR_ERROR_INVALID_ARGUMENT);
    const struct {
        uint32_t w, h, fps, kbps;
    } bad[] = {{161, 90, 0, 0},  {160, 91, 0, 0},   {8, 90, 0, 0},   {160, 4098, 0, 0},
               {4098, 90, 0, 0}, {160, 90, 241, 0}, {160, 90, 0, 99}};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        c = good;
        c.eye_width = bad[i].w;
        c.eye_height = bad[i].h;
        c.fps = bad[i].fps;
        c.max_bitrate_kbps = bad[i].kbps;
        remote = (struct rr_stream_remote *)(uintptr_t)1;
        assert_int_equal(rr_stream_remote_create(d->remote, &c, &remote),
                         RR_ERROR_INVALID_ARGUMENT);
        assert_null(remote);
    }
    struct rr_stream_player_config pc = {.present_to_display_us = 1000001};
    assert_int_equal(rr_stream_player_create(d->player, &pc, &player), RR_ERROR_INVALID_ARGUMENT);
    assert_int_equal(rr_stream_player_create(NULL, NULL, &player), RR_ERROR_INVALID_ARGUMENT);

    /* Defaults (NULL config) are valid; one stream object per context. */
    assert_int_equal(rr_stream_remote_create(d->remote, NULL, &remote), RR_OK);
    assert_int_equal(rr_stream_remote_create(d->remote, &good, &second), RR_ERROR_WRONG_STATE);
    assert_null(second);
    /* A stream object of the other role does not fit the context at all. */
    assert_int_equal(rr_stream_player_create(d->remote, NULL, &player), RR_ERROR_INVALID_ARGUMENT);
    assert_null(player);
    assert_int_equal(rr_stream_remote_create(d->player, NULL, &second), RR_ERROR_INVALID_ARGUMENT);
    assert_null(second);
    rr_stream_remote_destroy(&remote);
    assert_null(remote);
    assert_int_equal(rr_stream_remote_create(d->remote, &good, &remote), RR_OK);

    /* Listening or connected: too late for the player's context. */
    assert_int_equal(rr_context_listen(d->player, "127.0.0.1", 0, 0), RR_OK);
    uint16_t port = rr_test_wait_listening(d->player, WAIT_MS);
    assert_int_not_equal(port, 0);
    assert_int_equal(rr_stream_player_create(d->player, NULL, &player), RR_ERROR_WRONG_STATE);
    assert_int_equal(rr_context_disconnect(d->player), RR_OK);
    rr_test_wait_disconnected(d->player, WAIT_MS, NULL, 0);
    assert_int_equal(rr_stream_player_create(d->player, NULL, &player), RR_OK);
    duo_connect(d);
    struct rr_stream_player *late = NULL;
    assert_int_equal(rr_stream_player_create(d->player, NULL, &late), RR_ERROR_WRONG_STATE);
    assert_null(late);
    struct rr_stream_remote *late_remote = NULL;
    assert_int_equal(rr_stream_remote_create(d->remote, &good, &late_remote), RR_ERROR_WRONG_STATE);

    /* Stream a little, then destroy both objects with the connection up and video possibly
     * still queued for decoding. */
    struct renderer *ren = renderer_start(remote, 0);
    struct rr_stream_pose pose = make_pose(0);
    assert_int_equal(rr_stream_player_send_pose(player, &pose), RR_OK);
    assert_non_null(wait_frame_for_pose(player, pose.pose_id, WAIT_MS));
    pose = make_pose(0);
    assert_int_equal(rr_stream_player_send_pose(player, &pose), RR_OK);
    struct rr_stream_remote_stats rs;
    uint64_t end = rr_test_now_ms() + WAIT_MS;
    do {
        rr_stream_remote_stats(remote, &rs);
        sleep_ms(1);
    } while (rs.frames_encoded < 2 && rr_test_now_ms() < end);
    assert_int_equal(rs.frames_encoded, 2);
    rr_stream_player_destroy(&player);
    assert_null(player);
    renderer_stop(&ren);
    rr_stream_remote_destroy(&remote);
    assert_null(remote);
    rr_stream_remote_destroy(&remote);
    rr_stream_remote_destroy(NULL);
    rr_stream_player_destroy(&player);
    rr_stream_player_destroy(NULL);
    duo_destroy(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_end_to_end_plain),     cmocka_unit_test(test_end_to_end_tls),
        cmocka_unit_test(test_clock_skew),           cmocka_unit_test(test_blit_results),
        cmocka_unit_test(test_poses_hostile),        cmocka_unit_test(test_corrupt_video),
        cmocka_unit_test(test_disconnect_reconnect), cmocka_unit_test(test_no_common_codec),
        cmocka_unit_test(test_encoder_cannot_open),  cmocka_unit_test(test_hevc),
        cmocka_unit_test(test_builtin_misuse),       cmocka_unit_test(test_create_destroy),
        cmocka_unit_test(test_bitrate_adapts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
