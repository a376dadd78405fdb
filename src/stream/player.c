/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The player's side of the stream, except decoding (player_decode.c): poses out, clock
 * synchronisation, what the network thread receives, blit and the reference's frame
 * statistics.
 */
#include "stream_internal.h"

#include "u_log.h"

#include <libavutil/frame.h>
#include <libswscale/swscale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

uint64_t rr_stream_player_now(const struct rr_stream_player *p)
{
    return rr_stream_now_us(p->cfg.clock_skew_us);
}

static struct rr_stream_player *from_receiver(struct rr_builtin_receiver *self)
{
    return (struct rr_stream_player *)(void *)self;
}

void rr_player_send_sync_locked(struct rr_stream_player *p)
{
    struct rr_wire_stats m = {.type = RR_WIRE_SYNC_REQUEST};
    uint8_t buf[RR_WIRE_STATS_MAX_SIZE];
    m.u.sync.t0 = rr_stream_player_now(p);
    p->sync_sent_us = m.u.sync.t0;
    size_t n = rr_wire_encode_stats(&m, buf);
    rr_context_send_builtin(p->ctx, RR_BUILTIN_STATS, buf, n, RR_PRIORITY_HIGH, true);
}

/* ---- network thread ------------------------------------------------------------------------ */

static void player_on_connected(struct rr_builtin_receiver *self,
                                const struct rr_connection_info *info)
{
    struct rr_stream_player *p = from_receiver(self);
    pthread_mutex_lock(&p->lock);
    p->connected = true;
    p->generation++;
    snprintf(p->codec, sizeof(p->codec), "%s", info != NULL ? info->codec : "h264");
    snprintf(p->totals.codec, sizeof(p->totals.codec), "%s", p->codec);
    rr_clock_sync_reset(&p->clock);
    p->syncs_done = 0;
    rr_player_clear_queue_locked(p);
    rr_player_send_sync_locked(p);
    pthread_cond_broadcast(&p->cond);
    pthread_mutex_unlock(&p->lock);
}

static void player_on_disconnected(struct rr_builtin_receiver *self)
{
    struct rr_stream_player *p = from_receiver(self);
    pthread_mutex_lock(&p->lock);
    p->connected = false;
    pthread_cond_broadcast(&p->cond);
    pthread_mutex_unlock(&p->lock);
}

static void on_sync_response(struct rr_stream_player *p, const struct rr_wire_stats *m,
                             uint64_t now)
{
    if (!rr_clock_sync_add(&p->clock, m->u.sync.t0, m->u.sync.t1, m->u.sync.t2, now)) {
        return;
    }
    p->syncs_done++;
    p->totals.clock_offset_us = p->clock.offset_us;
    p->totals.clock_rtt_us = p->clock.rtt_us;
    struct rr_wire_stats c = {.type = RR_WIRE_CLOCK};
    c.u.clock.offset_us = p->clock.offset_us;
    c.u.clock.rtt_us = p->clock.rtt_us;
    uint8_t buf[RR_WIRE_STATS_MAX_SIZE];
    size_t n = rr_wire_encode_stats(&c, buf);
    rr_context_send_builtin(p->ctx, RR_BUILTIN_STATS, buf, n, RR_PRIORITY_MEDIUM, true);
    /* A quick burst first, so that the offset is good within the first frames. */
    if (p->syncs_done < RR_CLOCK_SAMPLES) {
        rr_player_send_sync_locked(p);
    }
}

static void player_on_message(struct rr_builtin_receiver *self, uint8_t channel,
                              const uint8_t *data, size_t size)
{
    struct rr_stream_player *p = from_receiver(self);
    uint64_t now = rr_stream_player_now(p);
    pthread_mutex_lock(&p->lock);
    if (channel == RR_BUILTIN_VIDEO) {
        rr_player_queue_video_locked(p, data, size);
        p->last_receive_us = now;
    } else if (channel == RR_BUILTIN_STATS) {
        struct rr_wire_stats m;
        if (rr_wire_decode_stats(data, size, &m) && m.type == RR_WIRE_SYNC_RESPONSE) {
            on_sync_response(p, &m, now);
        }
    }
    pthread_mutex_unlock(&p->lock);
}

/* ---- creation ---------------------------------------------------------------------------------
 */

enum rr_result rr_stream_player_create(struct rr_context *ctx,
                                       const struct rr_stream_player_config *cfg,
                                       struct rr_stream_player **out_player)
{
    if (ctx == NULL || out_player == NULL || rr_context_role(ctx) != RR_ROLE_PLAYER) {
        return RR_ERROR_INVALID_ARGUMENT;
    }
    *out_player = NULL;
    struct rr_stream_player_config c = {0};
    if (cfg != NULL) {
        c = *cfg;
    }
    if ((c.blit_timeout_ms > 0 && c.blit_timeout_ms < 100) || c.present_to_display_us > 1000000) {
        return RR_ERROR_INVALID_ARGUMENT;
    }
    struct rr_stream_player *p = calloc(1, sizeof(*p));
    if (p == NULL) {
        return RR_ERROR_OUT_OF_MEMORY;
    }
    p->ctx = ctx;
    p->cfg = c;
    p->next_pose_id = 1;
    p->receiver.on_connected = player_on_connected;
    p->receiver.on_message = player_on_message;
    p->receiver.on_disconnected = player_on_disconnected;
    pthread_mutex_init(&p->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&p->cond, &ca);
    pthread_condattr_destroy(&ca);
    enum rr_result res = RR_ERROR_SYSTEM;
    if (pthread_create(&p->thread, NULL, rr_player_decode_main, p) == 0) {
        res = rr_context_attach_builtin(ctx,
                                        RR_BUILTIN_BIT(RR_BUILTIN_POSE) |
                                            RR_BUILTIN_BIT(RR_BUILTIN_VIDEO) |
                                            RR_BUILTIN_BIT(RR_BUILTIN_STATS),
                                        &p->receiver);
        if (res != RR_OK) {
            pthread_mutex_lock(&p->lock);
            p->stop = true;
            pthread_cond_broadcast(&p->cond);
            pthread_mutex_unlock(&p->lock);
            pthread_join(p->thread, NULL);
        }
    }
    if (res != RR_OK) {
        pthread_cond_destroy(&p->cond);
        pthread_mutex_destroy(&p->lock);
        free(p);
        return res;
    }
    *out_player = p;
    return RR_OK;
}

void rr_stream_player_destroy(struct rr_stream_player **player_ptr)
{
    if (player_ptr == NULL || *player_ptr == NULL) {
        return;
    }
    struct rr_stream_player *p = *player_ptr;
    *player_ptr = NULL;
    rr_context_attach_builtin(p->ctx,
                              RR_BUILTIN_BIT(RR_BUILTIN_POSE) | RR_BUILTIN_BIT(RR_BUILTIN_VIDEO) |
                                  RR_BUILTIN_BIT(RR_BUILTIN_STATS),
                              NULL);
    pthread_mutex_lock(&p->lock);
    p->stop = true;
    pthread_cond_broadcast(&p->cond);
    pthread_mutex_unlock(&p->lock);
    pthread_join(p->thread, NULL);
    rr_player_clear_queue_locked(p);
    av_frame_free(&p->newest.frame);
    av_frame_free(&p->shown.frame);
    pthread_cond_destroy(&p->cond);
    pthread_mutex_destroy(&p->lock);
    free(p);
}

/* ---- poses -------------------------------------------------------------------------------------
 */

static bool pose_finite(const struct rr_stream_pose *pose)
{
    const float *f = (const float *)(const void *)&pose->head;
    size_t n = (sizeof(pose->head) + sizeof(pose->view) + sizeof(pose->fov)) / sizeof(float);
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(f[i])) {
            return false;
        }
    }
    return true;
}

enum rr_result rr_stream_player_send_pose(struct rr_stream_player *p, struct rr_stream_pose *pose)
{
    if (p == NULL || pose == NULL || !pose_finite(pose)) {
        return RR_ERROR_INVALID_ARGUMENT;
    }
    pthread_mutex_lock(&p->lock);
    if (!p->connected) {
        pthread_mutex_unlock(&p->lock);
        return RR_ERROR_NOT_CONNECTED;
    }
    pose->pose_id = p->next_pose_id++;
    if (pose->sample_time_us == 0) {
        pose->sample_time_us = rr_stream_player_now(p);
    }
    unsigned slot = (unsigned)(pose->pose_id % RR_SENT_POSES);
    p->sent[slot].id = pose->pose_id;
    p->sent[slot].sample_us = pose->sample_time_us;
    p->sent[slot].predicted_us = pose->predicted_display_us;
    p->totals.poses_sent++;
    pthread_mutex_unlock(&p->lock);
    uint8_t buf[RR_WIRE_POSE_SIZE];
    size_t n = rr_wire_encode_pose(pose, buf);
    /* Best effort: a pose that would wait behind congestion is stale; the next one is better. */
    enum rr_result r =
        rr_context_send_builtin(p->ctx, RR_BUILTIN_POSE, buf, n, RR_PRIORITY_HIGH, false);
    return r == RR_ERROR_QUEUE_FULL ? RR_OK : r;
}

/* ---- blit and statistics ------------------------------------------------------------------- */

static float ms_between(uint64_t from, uint64_t to)
{
    if (from == 0 || to == 0) {
        return 0.0f;
    }
    return (float)((double)((int64_t)to - (int64_t)from) / 1000.0);
}

static void take_counters_locked(struct rr_stream_player *p, struct rr_frame_statistics *s)
{
    s->video_frames_received = p->since_received;
    s->video_frame_reused_count = 0;
    s->video_frames_skipped = p->since_skipped;
    s->video_frames_discarded = p->since_discarded;
    s->video_frame_min_delta = p->since_min_delta;
    s->video_frame_max_delta = p->since_max_delta;
    p->since_received = p->since_skipped = p->since_discarded = 0;
    p->since_min_delta = p->since_max_delta = 0.0f;
}

static void present_newest_locked(struct rr_stream_player *p, uint64_t now)
{
    av_frame_free(&p->shown.frame);
    p->shown = p->newest;
    memset(&p->newest, 0, sizeof(p->newest));
    p->ever_shown = true;
    struct rr_stream_frame_timing *t = &p->shown.info.timing;
    t->present_us = now;
    struct rr_frame_statistics *s = &p->last_stats;
    uint64_t display = now + p->cfg.present_to_display_us;
    bool posed = !p->shown.info.unknown_pose && t->pose_sampled_us != 0;
    s->latency = posed ? ms_between(t->pose_sampled_us, display) : 0.0f;
    s->latency_pose_to_receive = posed ? ms_between(t->pose_sampled_us, t->receive_us) : 0.0f;
    s->latency_receive_to_present = ms_between(t->receive_us, now);
    s->latency_present_to_display = (float)p->cfg.present_to_display_us / 1000.0f;
    s->time_since_last_present = ms_between(p->last_present_us, now);
    p->last_present_us = now;
    take_counters_locked(p, s);
    /* The remote learns where its milliseconds went. */
    struct rr_wire_stats m = {.type = RR_WIRE_FRAME_REPORT};
    m.u.report.frame_id = p->shown.info.frame_id;
    m.u.report.timing = *t;
    uint8_t buf[RR_WIRE_STATS_MAX_SIZE];
    size_t n = rr_wire_encode_stats(&m, buf);
    if (p->connected) {
        rr_context_send_builtin(p->ctx, RR_BUILTIN_STATS, buf, n, RR_PRIORITY_MEDIUM, false);
    }
}

enum rr_blit_result rr_stream_player_blit(struct rr_stream_player *p,
                                          const struct rr_stream_frame **out_frame)
{
    if (out_frame != NULL) {
        *out_frame = NULL;
    }
    if (p == NULL) {
        return RR_BLIT_FAILED_NO_REMOTE_FRAME_AVAILABLE;
    }
    enum rr_blit_result res = RR_BLIT_SUCCESS_COLOR;
    pthread_mutex_lock(&p->lock);
    uint64_t now = rr_stream_player_now(p); /* under the lock: after any frame it may take */
    p->totals.blits++;
    if (p->newest.frame != NULL) {
        present_newest_locked(p, now);
    } else if (!p->ever_shown) {
        res = RR_BLIT_FAILED_NO_REMOTE_FRAME_AVAILABLE;
    } else if (p->cfg.blit_timeout_ms > 0 &&
               now - p->last_receive_us > (uint64_t)p->cfg.blit_timeout_ms * 1000u) {
        res = RR_BLIT_FAILED_REMOTE_FRAME_TOO_OLD;
    } else {
        p->last_stats.video_frame_reused_count++;
        p->totals.video_frame_reused_count++;
    }
    if (res == RR_BLIT_SUCCESS_COLOR && out_frame != NULL) {
        *out_frame = &p->shown.info;
    }
    pthread_mutex_unlock(&p->lock);
    return res;
}

void rr_stream_player_last_frame_statistics(struct rr_stream_player *p,
                                            struct rr_frame_statistics *out)
{
    if (p == NULL || out == NULL) {
        return;
    }
    pthread_mutex_lock(&p->lock);
    *out = p->last_stats;
    pthread_mutex_unlock(&p->lock);
}

void rr_stream_player_totals(struct rr_stream_player *p, struct rr_stream_player_totals *out)
{
    if (p == NULL || out == NULL) {
        return;
    }
    pthread_mutex_lock(&p->lock);
    *out = p->totals;
    pthread_mutex_unlock(&p->lock);
}

enum rr_result rr_stream_player_request_keyframe(struct rr_stream_player *p)
{
    if (p == NULL) {
        return RR_ERROR_INVALID_ARGUMENT;
    }
    struct rr_wire_stats m = {.type = RR_WIRE_KEYFRAME_REQUEST};
    uint8_t buf[RR_WIRE_STATS_MAX_SIZE];
    size_t n = rr_wire_encode_stats(&m, buf);
    pthread_mutex_lock(&p->lock);
    p->totals.keyframe_requests_sent++;
    pthread_mutex_unlock(&p->lock);
    return rr_context_send_builtin(p->ctx, RR_BUILTIN_STATS, buf, n, RR_PRIORITY_HIGH, true);
}

uint64_t rr_stream_player_remote_to_local(struct rr_stream_player *p, uint64_t remote_us)
{
    if (p == NULL) {
        return remote_us;
    }
    pthread_mutex_lock(&p->lock);
    int64_t off = p->clock.offset_us;
    pthread_mutex_unlock(&p->lock);
    return rr_clock_to_player(remote_us, off);
}

uint64_t rr_stream_player_local_to_remote(struct rr_stream_player *p, uint64_t local_us)
{
    if (p == NULL) {
        return local_us;
    }
    pthread_mutex_lock(&p->lock);
    int64_t off = p->clock.offset_us;
    pthread_mutex_unlock(&p->lock);
    return rr_clock_to_remote(local_us, off);
}

const char *rr_blit_result_str(enum rr_blit_result r)
{
    switch (r) {
    case RR_BLIT_SUCCESS_COLOR:
        return "Success_Color";
    case RR_BLIT_SUCCESS_COLOR_DEPTH:
        return "Success_Color_Depth";
    case RR_BLIT_FAILED_NO_REMOTE_FRAME_AVAILABLE:
        return "Failed_NoRemoteFrameAvailable";
    case RR_BLIT_FAILED_NO_CAMERA:
        return "Failed_NoCamera";
    case RR_BLIT_FAILED_REMOTE_FRAME_TOO_OLD:
        return "Failed_RemoteFrameTooOld";
    }
    return "Unknown";
}

enum rr_result rr_stream_frame_to_rgba(const struct rr_stream_frame *f, uint8_t *rgba,
                                       size_t stride)
{
    if (f == NULL || rgba == NULL || f->plane[0] == NULL || f->width == 0 ||
        stride < (size_t)f->width * 4u || stride > INT32_MAX) {
        return RR_ERROR_INVALID_ARGUMENT;
    }
    struct SwsContext *sws =
        sws_getContext((int)f->width, (int)f->height, AV_PIX_FMT_YUV420P, (int)f->width,
                       (int)f->height, AV_PIX_FMT_RGBA, SWS_POINT, NULL, NULL, NULL);
    if (sws == NULL) {
        return RR_ERROR_OUT_OF_MEMORY;
    }
    uint8_t *dst[4] = {rgba, NULL, NULL, NULL};
    int dst_stride[4] = {(int)stride, 0, 0, 0};
    sws_scale(sws, f->plane, f->stride, 0, (int)f->height, dst, dst_stride);
    sws_freeContext(sws);
    return RR_OK;
}
