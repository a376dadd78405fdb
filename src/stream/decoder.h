/* SPDX-License-Identifier: Apache-2.0 */
/*
 * decoder — one libavcodec H.264 / HEVC decoder for the player, tuned for latency: slice
 * threads only (frame threads would hold frames back), low-delay output, strict error
 * recognition so a corrupt packet is reported instead of shown. One owner thread.
 */
#ifndef RR_STREAM_DECODER_H
#define RR_STREAM_DECODER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct AVFrame;
struct rr_decoder;

/* @p codec: "h264" or "hevc". false with @p err on failure. */
bool rr_decoder_open(const char *codec, struct rr_decoder **out, char *err, size_t err_size);
void rr_decoder_close(struct rr_decoder **dec_ptr);

enum rr_decode_status {
    RR_DECODE_FRAME = 0, /* *out_frame holds a new reference (av_frame_free it) */
    RR_DECODE_NONE = 1,  /* accepted, no picture yet (should not happen with our encoders) */
    RR_DECODE_ERROR = 2, /* corrupt or undecodable: wait for a keyframe (decoder flushed) */
};

/* Decode one whole access unit (Annex B). A frame that decodes with concealed errors counts
 * as RR_DECODE_ERROR. The output is YUV420P (or converted to it). */
enum rr_decode_status rr_decoder_decode(struct rr_decoder *dec, const uint8_t *data, size_t size,
                                        struct AVFrame **out_frame, char *err, size_t err_size);

#endif
