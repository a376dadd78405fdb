/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The player's decode thread. The network thread copies each video message into a bounded
 * queue and returns at once (poses and clock answers must not wait behind a decoder); this
 * thread decodes every frame in order, since each references the one before, and keeps only the
 * newest picture for blit. Whatever goes wrong with a frame — a malformed header, a gap in the
 * frame ids, a decoder error, a queue overflow — ends the same way: discard until the next
 * keyframe and ask the remote for one (at most every 100 ms).
 */
#include "stream_internal.h"

#include "u_log.h"

#include <libavutil/frame.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KEYFRAME_REQUEST_GAP_US 100000u
#define SYNC_INTERVAL_US 1000000u

void rr_player_clear_queue_locked(struct rr_stream_player *p)
{
    struct rr_video_node *n = p->queue_head;
    while (n != NULL) {
        struct rr_video_node *next = n->next;
        free(n);
        n = next;
    }
    p->queue_head = p->queue_tail = NULL;
    p->queue_count = 0;
    p->queue_bytes = 0;
}

void rr_player_queue_video_locked(struct rr_stream_player *p, const uint8_t *data, size_t size)
{
    uint64_t now = rr_stream_player_now(p);
    p->totals.video_frames_received++;
    p->totals.video_bytes_received += size;
    p->since_received++;
    if (p->last_receive_us != 0) {
        float delta = (float)(now - p->last_receive_us) / 1000.0f;
        if (p->since_received == 1 || delta < p->since_min_delta) {
            p->since_min_delta = delta;
        }
        if (delta > p->since_max_delta) {
            p->since_max_delta = delta;
        }
        if (delta > p->totals.video_frame_max_delta_ms) {
            p->totals.video_frame_max_delta_ms = delta;
        }
    }
    if (p->queue_count >= RR_DECODE_QUEUE_FRAMES || p->queue_bytes + size > RR_DECODE_QUEUE_BYTES) {
        /* The decoder fell behind: what waits is already late, and dropping part of it would
         * break references. Drop all of it and start again at a keyframe. */
        p->totals.video_frames_discarded += p->queue_count + 1;
        p->since_discarded += (uint32_t)p->queue_count + 1;
        rr_player_clear_queue_locked(p);
        p->flush_decoder = true;
        pthread_cond_broadcast(&p->cond);
        return;
    }
    struct rr_video_node *n = malloc(sizeof(*n) + size);
    if (n == NULL) {
        p->totals.video_frames_discarded++;
        p->since_discarded++;
        p->flush_decoder = true;
        return;
    }
    n->next = NULL;
    n->received_us = now;
    n->generation = p->generation;
    n->size = size;
    memcpy(n->data, data, size);
    if (p->queue_tail != NULL) {
        p->queue_tail->next = n;
    } else {
        p->queue_head = n;
    }
    p->queue_tail = n;
    p->queue_count++;
    p->queue_bytes += size;
    pthread_cond_signal(&p->cond);
}

/* ---- decode thread ----------------------------------------------------------------------------
 */

static void discard(struct rr_stream_player *p, const char *why, uint64_t frame_id)
{
    uint64_t now = rr_stream_player_now(p);
    bool first = !p->wait_keyframe;
    p->wait_keyframe = true;
    pthread_mutex_lock(&p->lock);
    p->totals.video_frames_discarded++;
    p->since_discarded++;
    pthread_mutex_unlock(&p->lock);
    if (first) {
        U_LOG_W(RR_STREAM_LOG, "video frame %llu discarded (%s); waiting for a keyframe",
                (unsigned long long)frame_id, why);
    }
    if (now - p->keyframe_request_us >= KEYFRAME_REQUEST_GAP_US || first) {
        p->keyframe_request_us = now;
        rr_stream_player_request_keyframe(p);
    }
}

static bool decoder_ready(struct rr_stream_player *p, const struct rr_wire_video_header *h,
                          uint64_t generation)
{
    const char *codec = h->codec == RR_WIRE_CODEC_HEVC ? "hevc" : "h264";
    if (p->dec != NULL && p->dec_generation == generation && strcmp(p->dec_codec, codec) == 0) {
        return true;
    }
    rr_decoder_close(&p->dec);
    char err[256] = "";
    if (!rr_decoder_open(codec, &p->dec, err, sizeof(err))) {
        U_LOG_E(RR_STREAM_LOG, "cannot open a %s decoder: %s", codec, err);
        return false;
    }
    snprintf(p->dec_codec, sizeof(p->dec_codec), "%s", codec);
    p->dec_generation = generation;
    p->wait_keyframe = true;
    p->last_frame_id = 0;
    return true;
}

/* The frame's timing in the player's clock, and whether its pose is one we sent. */
static void frame_timing(struct rr_stream_player *p, const struct rr_wire_video_header *h,
                         uint64_t received_us, struct rr_stream_frame *f)
{
    pthread_mutex_lock(&p->lock);
    int64_t off = p->clock.offset_us;
    unsigned slot = (unsigned)(h->pose_id % RR_SENT_POSES);
    bool known = h->pose_id != 0 && p->sent[slot].id == h->pose_id;
    struct rr_stream_frame_timing *t = &f->timing;
    memset(t, 0, sizeof(*t));
    if (known) {
        t->pose_sampled_us = p->sent[slot].sample_us;
        t->predicted_display_us = p->sent[slot].predicted_us;
        t->pose_received_us = rr_clock_to_player(h->pose_received_us, off);
    } else if (h->pose_id != 0) {
        f->unknown_pose = true;
        p->totals.video_frames_unknown_pose++;
    }
    pthread_mutex_unlock(&p->lock);
    t->render_start_us = rr_clock_to_player(h->render_start_us, off);
    t->render_end_us = rr_clock_to_player(h->render_end_us, off);
    t->encode_start_us = rr_clock_to_player(h->encode_start_us, off);
    t->encode_end_us = rr_clock_to_player(h->encode_end_us, off);
    t->send_us = rr_clock_to_player(h->send_us, off);
    t->receive_us = received_us;
}

static void publish(struct rr_stream_player *p, struct AVFrame *frame,
                    const struct rr_wire_video_header *h, uint64_t received_us)
{
    struct rr_decoded d = {.frame = frame};
    struct rr_stream_frame *f = &d.info;
    f->frame_id = h->frame_id;
    f->pose_id = h->pose_id;
    f->keyframe = (h->flags & RR_WIRE_FLAG_KEYFRAME) != 0;
    f->width = (uint32_t)frame->width;
    f->height = (uint32_t)frame->height;
    for (int i = 0; i < 3; i++) {
        f->plane[i] = frame->data[i];
        f->stride[i] = frame->linesize[i];
    }
    frame_timing(p, h, received_us, f);
    f->timing.decode_end_us = rr_stream_player_now(p);
    pthread_mutex_lock(&p->lock);
    if (p->newest.frame != NULL) {
        /* Never blitted: a newer picture replaces it. */
        av_frame_free(&p->newest.frame);
        p->totals.video_frames_skipped++;
        p->since_skipped++;
    }
    p->newest = d;
    p->totals.video_frames_decoded++;
    p->totals.keyframes_received += f->keyframe ? 1 : 0;
    p->totals.width = f->width;
    p->totals.height = f->height;
    pthread_mutex_unlock(&p->lock);
}

static void decode_one(struct rr_stream_player *p, const struct rr_video_node *n)
{
    struct rr_wire_video_header h;
    const uint8_t *bits = NULL;
    size_t bits_size = 0;
    if (!rr_wire_decode_video(n->data, n->size, &h, &bits, &bits_size)) {
        discard(p, "malformed frame header", 0);
        return;
    }
    bool key = (h.flags & RR_WIRE_FLAG_KEYFRAME) != 0;
    if (!decoder_ready(p, &h, n->generation)) {
        discard(p, "no decoder", h.frame_id);
        return;
    }
    if (!key && (p->wait_keyframe || h.frame_id != p->last_frame_id + 1)) {
        discard(p, p->wait_keyframe ? "a reference is missing" : "gap in the frame ids",
                h.frame_id);
        return;
    }
    struct AVFrame *frame = NULL;
    char err[256] = "";
    enum rr_decode_status st = rr_decoder_decode(p->dec, bits, bits_size, &frame, err, sizeof(err));
    if (st == RR_DECODE_ERROR) {
        pthread_mutex_lock(&p->lock);
        p->totals.decoder_errors++;
        pthread_mutex_unlock(&p->lock);
        p->wait_keyframe = false; /* log this one, whatever came before */
        discard(p, err[0] != '\0' ? err : "decoder error", h.frame_id);
        return;
    }
    p->last_frame_id = h.frame_id;
    p->wait_keyframe = false;
    if (st == RR_DECODE_FRAME) {
        publish(p, frame, &h, n->received_us);
    }
}

/* Clock synchronisation keeps going once a second while connected. Lock held. */
static void maybe_sync_locked(struct rr_stream_player *p)
{
    uint64_t now = rr_stream_player_now(p);
    if (p->connected && now - p->sync_sent_us >= SYNC_INTERVAL_US) {
        rr_player_send_sync_locked(p);
    }
}

void *rr_player_decode_main(void *arg)
{
    struct rr_stream_player *p = arg;
    pthread_mutex_lock(&p->lock);
    while (!p->stop) {
        if (p->flush_decoder) {
            p->flush_decoder = false;
            pthread_mutex_unlock(&p->lock);
            discard(p, "the decoder fell behind", 0);
            pthread_mutex_lock(&p->lock);
            continue;
        }
        struct rr_video_node *n = p->queue_head;
        if (n == NULL) {
            maybe_sync_locked(p);
            struct timespec until;
            clock_gettime(CLOCK_MONOTONIC, &until);
            until.tv_nsec += 200000000L;
            if (until.tv_nsec >= 1000000000L) {
                until.tv_sec++;
                until.tv_nsec -= 1000000000L;
            }
            pthread_cond_timedwait(&p->cond, &p->lock, &until);
            continue;
        }
        p->queue_head = n->next;
        if (p->queue_head == NULL) {
            p->queue_tail = NULL;
        }
        p->queue_count--;
        p->queue_bytes -= n->size;
        pthread_mutex_unlock(&p->lock);
        decode_one(p, n);
        free(n);
        pthread_mutex_lock(&p->lock);
    }
    pthread_mutex_unlock(&p->lock);
    rr_decoder_close(&p->dec);
    return NULL;
}
