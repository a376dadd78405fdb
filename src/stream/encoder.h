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

/* Change the VBV cap (and target) from the next frame on; no keyframe needed. */
void rr_encoder_set_bitrate(struct rr_encoder *enc, uint32_t kbps);

#endif
