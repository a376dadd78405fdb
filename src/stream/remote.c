/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The remote's side of the stream, except encoding (remote_video.c): what arrives from the
 * player (poses, clock, keyframe requests, frame reports) on the network thread, the pose
 * history and its queries, statistics and clock conversion.
 */
#include "stream_internal.h"

#include "u_log.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

uint64_t rr_stream_remote_now(const struct rr_stream_remote *r)
{
    return rr_stream_now_us(r->cfg.clock_skew_us);
}

static struct rr_stream_remote *from_receiver(struct rr_builtin_receiver *self)
{
    return (struct rr_stream_remote *)(void *)self;
}

/* ---- network thread ------------------------------------------------------------------------ */

static void remote_on_connected(struct rr_builtin_receiver *self,
                                const struct rr_connection_info *info)
{
    struct rr_stream_remote *r = from_receiver(self);
    pthread_mutex_lock(&r->lock);
    r->connected = true;
    r->generation++;
    snprintf(r->codec, sizeof(r->codec), "%s", info != NULL ? info->codec : "h264");
    snprintf(r->stats.codec, sizeof(r->stats.codec), "%s", r->codec);
    r->have_pose = false;
    r->history_count = 0;
    r->history_next = 0;
    r->keyframe_wanted = true;
    r->stats.clock_offset_us = 0;
    r->stats.rtt_us = 0;
    pthread_mutex_unlock(&r->lock);
}

static void remote_on_disconnected(struct rr_builtin_receiver *self)
{
    struct rr_stream_remote *r = from_receiver(self);
    pthread_mutex_lock(&r->lock);
    r->connected = false;
    pthread_cond_broadcast(&r->pose_cond);
    pthread_mutex_unlock(&r->lock);
}

const struct rr_pose_entry *rr_stream_remote_find_pose_locked(const struct rr_stream_remote *r,
                                                              uint64_t id)
{
    for (unsigned i = 0; i < r->history_count; i++) {
        if (r->history[i].pose.pose_id == id) {
            return &r->history[i];
        }
    }
    return NULL;
}

static const struct rr_pose_entry *newest_locked(const struct rr_stream_remote *r)
{
    return &r->history[(r->history_next + RR_POSE_HISTORY - 1) % RR_POSE_HISTORY];
}

static void on_pose(struct rr_stream_remote *r, const uint8_t *data, size_t size, uint64_t now)
{
    struct rr_stream_pose pose;
    bool ok = rr_wire_decode_pose(data, size, &pose);
    pthread_mutex_lock(&r->lock);
    if (!ok) {
        r->stats.poses_invalid++;
    } else if (r->have_pose && pose.pose_id <= newest_locked(r)->pose.pose_id) {
        /* Poses travel best effort on one ordered stream, so an older id means a confused or
         * replaying peer: the newest pose stays. */
        if (rr_stream_remote_find_pose_locked(r, pose.pose_id) != NULL) {
            r->stats.poses_duplicate++;
        } else {
            r->stats.poses_out_of_order++;
        }
    } else {
        struct rr_pose_entry *e = &r->history[r->history_next];
        e->pose = pose;
        e->received_us = now;
        r->history_next = (r->history_next + 1) % RR_POSE_HISTORY;
        if (r->history_count < RR_POSE_HISTORY) {
            r->history_count++;
        }
        r->have_pose = true;
        r->stats.poses_received++;
        pthread_cond_broadcast(&r->pose_cond);
    }
    pthread_mutex_unlock(&r->lock);
}

static void answer_sync(struct rr_stream_remote *r, uint64_t t0, uint64_t t1)
{
    struct rr_wire_stats m = {.type = RR_WIRE_SYNC_RESPONSE};
    uint8_t buf[RR_WIRE_STATS_MAX_SIZE];
    m.u.sync.t0 = t0;
    m.u.sync.t1 = t1;
    m.u.sync.t2 = rr_stream_remote_now(r);
    size_t n = rr_wire_encode_stats(&m, buf);
    rr_context_send_builtin(r->ctx, RR_BUILTIN_STATS, buf, n, RR_PRIORITY_HIGH, true);
}

static void on_stats(struct rr_stream_remote *r, const uint8_t *data, size_t size, uint64_t now)
{
    struct rr_wire_stats m;
    if (!rr_wire_decode_stats(data, size, &m)) {
        U_LOG_D(RR_STREAM_LOG, "malformed statistics message ignored (%zu bytes)", size);
        return;
    }
    switch (m.type) {
    case RR_WIRE_SYNC_REQUEST:
        answer_sync(r, m.u.sync.t0, now);
        break;
    case RR_WIRE_CLOCK:
        pthread_mutex_lock(&r->lock);
        r->stats.clock_offset_us = m.u.clock.offset_us;
        r->stats.rtt_us = m.u.clock.rtt_us;
        pthread_mutex_unlock(&r->lock);
        break;
    case RR_WIRE_KEYFRAME_REQUEST:
        pthread_mutex_lock(&r->lock);
        r->keyframe_wanted = true;
        r->stats.keyframe_requests++;
        pthread_mutex_unlock(&r->lock);
        break;
    case RR_WIRE_FRAME_REPORT: {
        pthread_mutex_lock(&r->lock);
        struct rr_stream_frame_timing t = m.u.report.timing;
        int64_t off = r->stats.clock_offset_us;
        uint64_t *v[] = {&t.pose_sampled_us, &t.pose_received_us,    &t.render_start_us,
                         &t.render_end_us,   &t.encode_start_us,     &t.encode_end_us,
                         &t.send_us,         &t.receive_us,          &t.decode_end_us,
                         &t.present_us,      &t.predicted_display_us};
        for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
            *v[i] = rr_clock_to_remote(*v[i], off);
        }
        r->stats.last_reported = t;
        pthread_mutex_unlock(&r->lock);
        break;
    }
    default: /* a player's message type for the remote only */
        break;
    }
}

static void remote_on_message(struct rr_builtin_receiver *self, uint8_t channel,
                              const uint8_t *data, size_t size)
{
    struct rr_stream_remote *r = from_receiver(self);
    uint64_t now = rr_stream_remote_now(r);
    if (channel == RR_BUILTIN_POSE) {
        on_pose(r, data, size, now);
    } else if (channel == RR_BUILTIN_STATS) {
        on_stats(r, data, size, now);
    } else {
        U_LOG_D(RR_STREAM_LOG, "message on channel %u ignored: a player sends no video", channel);
    }
}

/* ---- creation ---------------------------------------------------------------------------------
 */

static bool config_valid(const struct rr_stream_remote_config *c)
{
    return c->eye_width >= 16 && c->eye_width <= 4096 && c->eye_height >= 16 &&
           c->eye_height <= 4096 && c->eye_width % 2 == 0 && c->eye_height % 2 == 0 &&
           c->fps >= 1 && c->fps <= 240 && c->max_bitrate_kbps >= 100 &&
           c->max_bitrate_kbps <= 1000000;
}

enum rr_result rr_stream_remote_create(struct rr_context *ctx,
                                       const struct rr_stream_remote_config *cfg,
                                       struct rr_stream_remote **out_remote)
{
    if (ctx == NULL || out_remote == NULL || rr_context_role(ctx) != RR_ROLE_REMOTE) {
        return RR_ERROR_INVALID_ARGUMENT;
    }
    *out_remote = NULL;
    struct rr_stream_remote_config c = {0};
    if (cfg != NULL) {
        c = *cfg;
    }
    c.eye_width = c.eye_width ? c.eye_width : 1280;
    c.eye_height = c.eye_height ? c.eye_height : 720;
    c.fps = c.fps ? c.fps : 60;
    c.max_bitrate_kbps = c.max_bitrate_kbps ? c.max_bitrate_kbps : 20000;
    c.keyframe_interval = c.keyframe_interval ? c.keyframe_interval : 5 * c.fps;
    if (!config_valid(&c)) {
        return RR_ERROR_INVALID_ARGUMENT;
    }
    struct rr_stream_remote *r = calloc(1, sizeof(*r));
    if (r == NULL) {
        return RR_ERROR_OUT_OF_MEMORY;
    }
    if (c.encoder != NULL && (r->cfg_encoder = strdup(c.encoder)) == NULL) {
        free(r);
        return RR_ERROR_OUT_OF_MEMORY;
    }
    c.encoder = r->cfg_encoder;
    r->cfg = c;
    r->ctx = ctx;
    r->target_kbps = c.max_bitrate_kbps;
    r->stats.bitrate_kbps = c.max_bitrate_kbps;
    r->receiver.on_connected = remote_on_connected;
    r->receiver.on_message = remote_on_message;
    r->receiver.on_disconnected = remote_on_disconnected;
    pthread_mutex_init(&r->lock, NULL);
    pthread_mutex_init(&r->submit_lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&r->pose_cond, &ca);
    pthread_condattr_destroy(&ca);
    enum rr_result res = rr_context_attach_builtin(ctx,
                                                   RR_BUILTIN_BIT(RR_BUILTIN_POSE) |
                                                       RR_BUILTIN_BIT(RR_BUILTIN_VIDEO) |
                                                       RR_BUILTIN_BIT(RR_BUILTIN_STATS),
                                                   &r->receiver);
    if (res != RR_OK) {
        pthread_cond_destroy(&r->pose_cond);
        pthread_mutex_destroy(&r->lock);
        pthread_mutex_destroy(&r->submit_lock);
        free(r->cfg_encoder);
        free(r);
        return res;
    }
    *out_remote = r;
    return RR_OK;
}

void rr_stream_remote_destroy(struct rr_stream_remote **remote_ptr)
{
    if (remote_ptr == NULL || *remote_ptr == NULL) {
        return;
    }
    struct rr_stream_remote *r = *remote_ptr;
    *remote_ptr = NULL;
    /* Returns once no callback runs: nothing touches r afterwards. */
    rr_context_attach_builtin(r->ctx,
                              RR_BUILTIN_BIT(RR_BUILTIN_POSE) | RR_BUILTIN_BIT(RR_BUILTIN_VIDEO) |
                                  RR_BUILTIN_BIT(RR_BUILTIN_STATS),
                              NULL);
    rr_encoder_close(&r->enc);
    /* GL objects belong to the caller's context, which may be gone: only a current one. */
    rr_gl_convert_destroy(&r->glc);
    free(r->msg);
    free(r->cfg_encoder);
    pthread_cond_destroy(&r->pose_cond);
    pthread_mutex_destroy(&r->lock);
    pthread_mutex_destroy(&r->submit_lock);
    free(r);
}

/* ---- poses --------------------------------------------------------------------------------------
 */

bool rr_stream_remote_latest_pose(struct rr_stream_remote *r, struct rr_stream_pose *out)
{
    if (r == NULL || out == NULL) {
        return false;
    }
    pthread_mutex_lock(&r->lock);
    bool have = r->have_pose;
    if (have) {
        *out = newest_locked(r)->pose;
    }
    pthread_mutex_unlock(&r->lock);
    return have;
}

bool rr_stream_remote_wait_pose(struct rr_stream_remote *r, uint64_t after_id, int timeout_ms,
                                struct rr_stream_pose *out)
{
    if (r == NULL || out == NULL) {
        return false;
    }
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    if (timeout_ms >= 0) {
        until.tv_sec += timeout_ms / 1000;
        until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
    }
    pthread_mutex_lock(&r->lock);
    bool got = false;
    for (;;) {
        if (r->have_pose && newest_locked(r)->pose.pose_id > after_id) {
            *out = newest_locked(r)->pose;
            got = true;
            break;
        }
        if (!r->connected && r->generation > 0) {
            break;
        }
        int e = timeout_ms < 0 ? pthread_cond_wait(&r->pose_cond, &r->lock)
                               : pthread_cond_timedwait(&r->pose_cond, &r->lock, &until);
        if (e == ETIMEDOUT) {
            break;
        }
    }
    pthread_mutex_unlock(&r->lock);
    return got;
}

/* q(t) on the great circle through a (t=0) and b (t=1); t > 1 extrapolates. */
static void quat_slerp(const float a[4], const float b[4], float t, float out[4])
{
    float d = a[0] * b[0] + a[1] * b[1] + a[2] * b[2] + a[3] * b[3];
    float bb[4] = {b[0], b[1], b[2], b[3]};
    if (d < 0) { /* the short way round */
        d = -d;
        for (int i = 0; i < 4; i++) {
            bb[i] = -bb[i];
        }
    }
    float wa, wb;
    if (d > 0.9995f) {
        wa = 1 - t;
        wb = t;
    } else {
        float th = acosf(d);
        wa = sinf((1 - t) * th) / sinf(th);
        wb = sinf(t * th) / sinf(th);
    }
    float len = 0;
    for (int i = 0; i < 4; i++) {
        out[i] = wa * a[i] + wb * bb[i];
        len += out[i] * out[i];
    }
    len = sqrtf(len);
    for (int i = 0; i < 4; i++) {
        out[i] = len > 0 ? out[i] / len : (i == 3 ? 1.0f : 0.0f);
    }
}

static void extrapolate(const struct rr_stream_posef *a, const struct rr_stream_posef *b, float t,
                        struct rr_stream_posef *out)
{
    for (int i = 0; i < 3; i++) {
        out->position[i] = a->position[i] + (b->position[i] - a->position[i]) * t;
    }
    quat_slerp(a->orientation, b->orientation, t, out->orientation);
}

bool rr_stream_remote_predict_pose(struct rr_stream_remote *r, uint64_t display_time_us,
                                   struct rr_stream_pose *out)
{
    if (r == NULL || out == NULL) {
        return false;
    }
    pthread_mutex_lock(&r->lock);
    bool have = r->have_pose;
    if (have) {
        const struct rr_pose_entry *b = newest_locked(r);
        *out = b->pose;
        if (r->history_count >= 2) {
            const struct rr_pose_entry *a =
                &r->history[(r->history_next + RR_POSE_HISTORY - 2) % RR_POSE_HISTORY];
            uint64_t s0 = a->pose.sample_time_us, s1 = b->pose.sample_time_us;
            if (s1 > s0 && display_time_us > s1) {
                uint64_t ahead = display_time_us - s1;
                ahead = ahead > 50000 ? 50000 : ahead; /* beyond that a guess is worse */
                float t = 1.0f + (float)ahead / (float)(s1 - s0);
                extrapolate(&a->pose.head, &b->pose.head, t, &out->head);
                extrapolate(&a->pose.view[0], &b->pose.view[0], t, &out->view[0]);
                extrapolate(&a->pose.view[1], &b->pose.view[1], t, &out->view[1]);
                out->predicted_display_us = display_time_us;
            }
        }
    }
    pthread_mutex_unlock(&r->lock);
    return have;
}

/* ---- the rest ----------------------------------------------------------------------------------
 */

void rr_stream_remote_request_keyframe(struct rr_stream_remote *r)
{
    if (r != NULL) {
        pthread_mutex_lock(&r->lock);
        r->keyframe_wanted = true;
        pthread_mutex_unlock(&r->lock);
    }
}

void rr_stream_remote_stats(struct rr_stream_remote *r, struct rr_stream_remote_stats *out)
{
    if (r == NULL || out == NULL) {
        return;
    }
    pthread_mutex_lock(&r->lock);
    *out = r->stats;
    pthread_mutex_unlock(&r->lock);
}

uint64_t rr_stream_remote_player_to_local(struct rr_stream_remote *r, uint64_t player_us)
{
    if (r == NULL) {
        return player_us;
    }
    pthread_mutex_lock(&r->lock);
    int64_t off = r->stats.clock_offset_us;
    pthread_mutex_unlock(&r->lock);
    return rr_clock_to_remote(player_us, off);
}

uint64_t rr_stream_remote_local_to_player(struct rr_stream_remote *r, uint64_t local_us)
{
    if (r == NULL) {
        return local_us;
    }
    pthread_mutex_lock(&r->lock);
    int64_t off = r->stats.clock_offset_us;
    pthread_mutex_unlock(&r->lock);
    return rr_clock_to_player(local_us, off);
}
