/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The remote's video path: submit → (GPU) colour conversion → encode → one message on the
 * video channel, with the frame's stage timestamps in its header. The encoder opens for the
 * codec of each connection at its first frame. Congestion is handled before encoding: a frame
 * that would only wait behind queued video is not encoded at all (so the decoder never misses
 * a reference), and the bitrate follows the throughput the transport actually achieved.
 */
#include "stream_internal.h"

#include "u_log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ADAPT_WINDOW_US 500000u /* throughput is measured over this window */
#define RAISE_AFTER_US 2000000u /* an uncongested transport for this long → raise the rate */
#define MIN_BITRATE_KBPS 500u
#define QUEUE_FRAMES_MAX 3u /* encoded frames allowed to wait in the transport */
#define QUEUE_BYTES_MIN (256u * 1024u)

static bool encoder_for_connection(struct rr_stream_remote *r, uint64_t generation,
                                   const char *codec)
{
    if (r->enc != NULL && r->enc_generation == generation) {
        return true;
    }
    rr_encoder_close(&r->enc);
    struct rr_encoder_config ec = {
        .codec = codec,
        .encoder = r->cfg.encoder,
        .width = 2 * r->cfg.eye_width,
        .height = r->cfg.eye_height,
        .fps = r->cfg.fps,
        .bitrate_kbps = r->target_kbps,
        .keyframe_interval = r->cfg.keyframe_interval,
    };
    char err[256] = "";
    if (!rr_encoder_open(&ec, &r->enc, err, sizeof(err))) {
        U_LOG_E(RR_STREAM_LOG, "cannot open a %s encoder: %s", codec, err);
        return false;
    }
    if (strcmp(rr_encoder_name(r->enc), "libx265") == 0 &&
        (r->cfg.encoder == NULL || strcmp(r->cfg.encoder, "auto") == 0)) {
        U_LOG_W(RR_STREAM_LOG, "HEVC was negotiated and no hardware HEVC encoder opened: libx265 "
                               "is far from real time on a CPU; offer the codecs of "
                               "rr_stream_remote_codecs() in rr_context_config.codecs");
    }
    r->enc_generation = generation;
    r->next_frame_id = 1;
    r->frames_since_key = 0;
    pthread_mutex_lock(&r->lock);
    snprintf(r->stats.encoder, sizeof(r->stats.encoder), "%s", rr_encoder_name(r->enc));
    pthread_mutex_unlock(&r->lock);
    U_LOG_I(RR_STREAM_LOG, "encoding %s with %s at %ux%u, %u fps, up to %u kbps", codec,
            rr_encoder_name(r->enc), ec.width, ec.height, ec.fps, ec.bitrate_kbps);
    return true;
}

static size_t queue_limit(const struct rr_stream_remote *r)
{
    size_t per_frame = (size_t)r->target_kbps * 1000u / 8u / r->cfg.fps;
    size_t limit = per_frame * QUEUE_FRAMES_MAX;
    return limit > QUEUE_BYTES_MIN ? limit : QUEUE_BYTES_MIN;
}

static void set_target(struct rr_stream_remote *r, uint32_t kbps)
{
    if (kbps < MIN_BITRATE_KBPS) {
        kbps = MIN_BITRATE_KBPS;
    }
    if (kbps > r->cfg.max_bitrate_kbps) {
        kbps = r->cfg.max_bitrate_kbps;
    }
    if (kbps == r->target_kbps) {
        return;
    }
    U_LOG_D(RR_STREAM_LOG, "video bitrate %u → %u kbps", r->target_kbps, kbps);
    r->target_kbps = kbps;
    if (r->enc != NULL) {
        rr_encoder_set_bitrate(r->enc, kbps);
    }
    pthread_mutex_lock(&r->lock);
    r->stats.bitrate_kbps = kbps;
    pthread_mutex_unlock(&r->lock);
}

/* Once per window: what drained from the video queue is what the path carried. Growth of the
 * queue or skipped frames mean the encoder is faster than the path: go to 85 % of what the
 * path carried. A calm window after 2 s lets the rate climb back by 15 % towards the cap. */
static void adapt_bitrate(struct rr_stream_remote *r, uint64_t now, size_t queued)
{
    if (r->window_start_us == 0) {
        r->window_start_us = now;
        r->calm_since_us = now;
        r->window_start_queued = queued;
        return;
    }
    uint64_t span = now - r->window_start_us;
    if (span < ADAPT_WINDOW_US) {
        return;
    }
    int64_t drained =
        (int64_t)r->window_sent_bytes - ((int64_t)queued - (int64_t)r->window_start_queued);
    uint32_t throughput_kbps = drained > 0 ? (uint32_t)((uint64_t)drained * 8u * 1000u / span) : 0;
    bool congested = r->window_skipped > 0 || queued > queue_limit(r) / 2;
    pthread_mutex_lock(&r->lock);
    r->stats.throughput_kbps = throughput_kbps;
    pthread_mutex_unlock(&r->lock);
    if (!r->cfg.fixed_bitrate) {
        if (congested) {
            uint32_t next = throughput_kbps * 85u / 100u;
            set_target(r, next < r->target_kbps ? next : r->target_kbps * 3u / 4u);
            r->calm_since_us = now;
        } else if (now - r->calm_since_us >= RAISE_AFTER_US &&
                   r->target_kbps < r->cfg.max_bitrate_kbps) {
            set_target(r, r->target_kbps + r->target_kbps * 15u / 100u + 1u);
            r->calm_since_us = now;
        }
    }
    r->window_start_us = now;
    r->window_start_queued = queued;
    r->window_sent_bytes = 0;
    r->window_skipped = 0;
}

/* Header + bitstream into r->msg, then onto the video channel. */
static enum rr_result send_frame(struct rr_stream_remote *r, struct rr_wire_video_header *h,
                                 const struct rr_encoded *pkt)
{
    size_t need = RR_WIRE_VIDEO_HEADER_SIZE + pkt->size;
    if (need > RR_MAX_BUILTIN_MESSAGE) {
        U_LOG_W(RR_STREAM_LOG, "frame of %zu bytes exceeds the message limit: dropped", need);
        return RR_ERROR_MESSAGE_TOO_LARGE;
    }
    if (r->msg_cap < need) {
        uint8_t *n = realloc(r->msg, need);
        if (n == NULL) {
            return RR_ERROR_OUT_OF_MEMORY;
        }
        r->msg = n;
        r->msg_cap = need;
    }
    h->send_us = rr_stream_remote_now(r);
    rr_wire_encode_video_header(h, r->msg);
    memcpy(r->msg + RR_WIRE_VIDEO_HEADER_SIZE, pkt->data, pkt->size);
    return rr_context_send_builtin(r->ctx, RR_BUILTIN_VIDEO, r->msg, need, RR_PRIORITY_LOW, true);
}

struct submit_source {
    const uint8_t *rgba;
    size_t stride;
    unsigned int texture;
};

static bool encode_source(struct rr_stream_remote *r, const struct submit_source *src,
                          bool keyframe, struct rr_encoded *pkt)
{
    char err[256] = "";
    bool ok;
    if (src->rgba != NULL) {
        ok =
            rr_encoder_encode_rgba(r->enc, src->rgba, src->stride, keyframe, pkt, err, sizeof(err));
    } else {
        const uint8_t *y = NULL, *uv = NULL;
        if (r->glc == NULL && !rr_gl_convert_create(2 * r->cfg.eye_width, r->cfg.eye_height,
                                                    &r->glc, err, sizeof(err))) {
            U_LOG_E(RR_STREAM_LOG, "GPU colour conversion unavailable: %s", err);
            return false;
        }
        ok = rr_gl_convert_run(r->glc, src->texture, &y, &uv, err, sizeof(err)) &&
             rr_encoder_encode_nv12(r->enc, y, 2 * r->cfg.eye_width, uv, 2 * r->cfg.eye_width,
                                    keyframe, pkt, err, sizeof(err));
    }
    if (!ok) {
        U_LOG_E(RR_STREAM_LOG, "encoding failed: %s", err);
    }
    return ok;
}

static enum rr_result submit(struct rr_stream_remote *r, const struct rr_stream_submit_info *info,
                             const struct submit_source *src)
{
    pthread_mutex_lock(&r->lock);
    bool connected = r->connected;
    uint64_t generation = r->generation;
    char codec[16];
    snprintf(codec, sizeof(codec), "%s", r->codec);
    struct rr_wire_video_header h = {.pose_id = info != NULL ? info->pose_id : 0};
    const struct rr_pose_entry *pe = rr_stream_remote_find_pose_locked(r, h.pose_id);
    if (pe != NULL) {
        h.pose_sampled_us = pe->pose.sample_time_us;
        h.predicted_display_us = pe->pose.predicted_display_us;
        h.pose_received_us = pe->received_us;
    }
    r->stats.frames_submitted++;
    pthread_mutex_unlock(&r->lock);
    if (!connected) {
        return RR_ERROR_NOT_CONNECTED;
    }
    if (!encoder_for_connection(r, generation, codec)) {
        return RR_ERROR_SYSTEM;
    }
    uint64_t now = rr_stream_remote_now(r);
    size_t queued = rr_context_queued_bytes(r->ctx, RR_PRIORITY_LOW);
    adapt_bitrate(r, now, queued);
    if (queued > queue_limit(r)) {
        r->window_skipped++;
        pthread_mutex_lock(&r->lock);
        r->stats.frames_skipped++;
        pthread_mutex_unlock(&r->lock);
        return RR_OK;
    }
    pthread_mutex_lock(&r->lock);
    bool keyframe = r->keyframe_wanted || r->frames_since_key + 1 >= r->cfg.keyframe_interval;
    r->keyframe_wanted = false;
    pthread_mutex_unlock(&r->lock);

    h.render_start_us = info != NULL ? info->render_start_us : 0;
    h.render_end_us = info != NULL ? info->render_end_us : 0;
    h.encode_start_us = rr_stream_remote_now(r);
    struct rr_encoded pkt;
    if (!encode_source(r, src, keyframe, &pkt)) {
        rr_encoder_close(&r->enc); /* reopened, with a keyframe, at the next submit */
        return RR_ERROR_SYSTEM;
    }
    h.encode_end_us = rr_stream_remote_now(r);
    h.frame_id = r->next_frame_id++;
    h.flags = pkt.keyframe ? RR_WIRE_FLAG_KEYFRAME : 0;
    h.codec = strcmp(codec, "hevc") == 0 ? RR_WIRE_CODEC_HEVC : RR_WIRE_CODEC_H264;
    h.width = (uint16_t)(2 * r->cfg.eye_width);
    h.height = (uint16_t)r->cfg.eye_height;
    r->frames_since_key = pkt.keyframe ? 0 : r->frames_since_key + 1;
    enum rr_result res = send_frame(r, &h, &pkt);
    if (res == RR_ERROR_NOT_CONNECTED) {
        return res; /* the connection ended while this frame was encoded */
    }
    if (res != RR_OK) {
        /* The player would miss a reference: start again from a keyframe. */
        pthread_mutex_lock(&r->lock);
        r->keyframe_wanted = true;
        r->stats.frames_skipped++;
        pthread_mutex_unlock(&r->lock);
        return RR_OK;
    }
    r->window_sent_bytes += RR_WIRE_VIDEO_HEADER_SIZE + pkt.size;
    pthread_mutex_lock(&r->lock);
    r->stats.frames_encoded++;
    r->stats.keyframes += pkt.keyframe ? 1 : 0;
    r->stats.video_bytes += RR_WIRE_VIDEO_HEADER_SIZE + pkt.size;
    r->stats.last_encode_us = h.encode_end_us - h.encode_start_us;
    pthread_mutex_unlock(&r->lock);
    return RR_OK;
}

enum rr_result rr_stream_remote_submit_rgba(struct rr_stream_remote *r,
                                            const struct rr_stream_submit_info *info,
                                            const uint8_t *rgba, size_t stride)
{
    if (r == NULL || rgba == NULL || stride < (size_t)r->cfg.eye_width * 2u * 4u) {
        return RR_ERROR_INVALID_ARGUMENT;
    }
    struct submit_source src = {.rgba = rgba, .stride = stride};
    pthread_mutex_lock(&r->submit_lock);
    enum rr_result res = submit(r, info, &src);
    pthread_mutex_unlock(&r->submit_lock);
    return res;
}

enum rr_result rr_stream_remote_submit_gl(struct rr_stream_remote *r,
                                          const struct rr_stream_submit_info *info,
                                          unsigned int texture)
{
    if (r == NULL || texture == 0) {
        return RR_ERROR_INVALID_ARGUMENT;
    }
    struct submit_source src = {.texture = texture};
    pthread_mutex_lock(&r->submit_lock);
    enum rr_result res = submit(r, info, &src);
    pthread_mutex_unlock(&r->submit_lock);
    return res;
}

/* ---- encoder choice ------------------------------------------------------------------------- */

enum rr_result rr_stream_probe_encoder(const char *encoder, const char *codec, uint32_t width,
                                       uint32_t height, char *err, size_t err_size)
{
    char scratch[8];
    if (err == NULL || err_size == 0) {
        err = scratch;
        err_size = sizeof(scratch);
    }
    err[0] = '\0';
    if (codec == NULL || (strcmp(codec, "h264") != 0 && strcmp(codec, "hevc") != 0)) {
        snprintf(err, err_size, "unknown codec '%s' (use h264 or hevc)", codec ? codec : "");
        return RR_ERROR_INVALID_ARGUMENT;
    }
    struct rr_encoder_config ec = {.codec = codec,
                                   .encoder = encoder,
                                   .width = width,
                                   .height = height,
                                   .fps = 60,
                                   .bitrate_kbps = 20000};
    struct rr_encoder *enc = NULL;
    if (!rr_encoder_open(&ec, &enc, err, err_size)) {
        return RR_ERROR_SYSTEM;
    }
    rr_encoder_close(&enc);
    return RR_OK;
}

const char *rr_stream_remote_codecs(const char *encoder)
{
    if (encoder != NULL && strcmp(encoder, "auto") != 0) {
        bool hevc = strstr(encoder, "265") != NULL || strstr(encoder, "hevc") != NULL;
        return hevc ? "hevc" : "h264";
    }
    /* A hardware HEVC encoder makes HEVC the first choice, as the reference prefers it. */
    return rr_stream_probe_encoder("hevc_nvenc", "hevc", 256, 256, NULL, 0) == RR_OK ? "hevc,h264"
                                                                                     : "h264";
}
