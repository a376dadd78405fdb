/* SPDX-License-Identifier: Apache-2.0 */
/*
 * encoder — one libavcodec video encoder for the remote (libx264 / NVENC / libx265), tuned for
 * latency: no B-frames, no lookahead, one packet out per frame in, VBV-capped bitrate that can
 * change between frames, keyframe on demand. Input is NV12 (from the GPU converter) or RGBA
 * (converted with libswscale, BT.601 limited range). One owner thread; not thread-safe.
 */
#ifndef RR_STREAM_ENCODER_H
#define RR_STREAM_ENCODER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rr_encoder_config {
    const char *codec;   /* "h264" or "hevc" */
    const char *encoder; /* libavcodec name, or NULL / "auto" (NVENC first, then software) */
    uint32_t width;      /* even, ≤ 8192 */
    uint32_t height;     /* even, ≤ 8192 */
    uint32_t fps;
    uint32_t bitrate_kbps;      /* VBV cap (maxrate); buffer = two frames at that rate */
    uint32_t keyframe_interval; /* frames; 0 = only on demand */
};

/* One encoded frame; data owned by the encoder until its next call. */
struct rr_encoded {
    const uint8_t *data; /* Annex B bitstream */
    size_t size;
    bool keyframe;
};

struct rr_encoder;

/* Open the encoder. On failure returns false and @p err (never NULL) says why in words for a
 * user, naming the encoder tried (e.g. "h264_nvenc could not open: no NVIDIA GPU or driver
 * (Cannot load libcuda.so.1)"). */
bool rr_encoder_open(const struct rr_encoder_config *cfg, struct rr_encoder **out, char *err,
                     size_t err_size);
void rr_encoder_close(struct rr_encoder **enc_ptr);
const char *rr_encoder_name(const struct rr_encoder *enc); /* e.g. "libx264" */

/* Encode one frame. @p force_keyframe makes it an IDR frame. On success *out holds exactly one
 * packet. false on an encoder error (err says why). */
bool rr_encoder_encode_rgba(struct rr_encoder *enc, const uint8_t *rgba, size_t stride,
                            bool force_keyframe, struct rr_encoded *out, char *err,
                            size_t err_size);
bool rr_encoder_encode_nv12(struct rr_encoder *enc, const uint8_t *y, size_t y_stride,
                            const uint8_t *uv, size_t uv_stride, bool force_keyframe,
                            struct rr_encoded *out, char *err, size_t err_size);

/* Change the VBV cap (and target) from the next frame on; no keyframe needed. Exception:
 * libavcodec's libx265 wrapper cannot change it in place, so the next frame comes from a fresh
 * libx265 and is an IDR (a failure to reopen is reported by that frame's encode call). */
void rr_encoder_set_bitrate(struct rr_encoder *enc, uint32_t kbps);

/* libavcodec has one log callback per process; the codec layer installs its own on first use
 * (here or from the decoder). It stays silent unless OPENRR_LOG is debug or trace, then goes to
 * u_log. A capture collects the error lines libavcodec logs about one AVCodecContext, from any
 * of its threads: a failure is then explained in libavcodec's own words, and the decoder learns
 * of damage that libavcodec logs from its worker threads but does not return. Any thread. */
struct rr_codec_log_capture {
    const void *ctx; /* the AVCodecContext listened to */
    char *buf;       /* "; "-separated lines, always NUL-terminated */
    size_t size;
    size_t len;
    unsigned errors; /* error lines seen, including those that did not fit */
    struct rr_codec_log_capture *next;
};

/* Start collecting into caller-owned @p cap and @p buf (size ≥ 1), which must stay alive until
 * rr_codec_log_capture_end(). */
void rr_codec_log_capture_begin(struct rr_codec_log_capture *cap, const void *ctx, char *buf,
                                size_t size);
/* Stop collecting; returns the number of error lines seen. */
unsigned rr_codec_log_capture_end(struct rr_codec_log_capture *cap);

#endif
