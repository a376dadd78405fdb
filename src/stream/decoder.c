/* SPDX-License-Identifier: Apache-2.0 */
/*
 * decoder — the player's H.264 / HEVC decoder: one access unit in, its picture out at once.
 * Packets come from the network, so every one is bounded and a corrupt one is reported, after
 * which only a keyframe is decoded again (the stream asks the remote for one).
 * Threads: one owner thread. H.264 decodes on it; HEVC adds libavcodec's wavefront threads
 * inside each call.
 */
#include "decoder.h"

#include "encoder.h" /* rr_codec_log_capture_begin/_end */

#include <libavcodec/avcodec.h>
#include <libavutil/frame.h>
#include <libswscale/swscale.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Far above any frame the encoder makes at 8192×8192 and its bitrate cap. */
#define RR_DEC_MAX_PACKET (16u * 1024u * 1024u)
#define RR_DEC_MAX_DIM 8192

struct rr_decoder {
    AVCodecContext *ctx;
    AVPacket *pkt;
    struct SwsContext *sws; /* only for a stream that is not 8-bit 4:2:0 */
    bool hevc;
    /* Set at the start and after every error: decoding a P-frame without its reference
     * would only produce concealed garbage. */
    bool need_keyframe;
};

static void set_err(char *err, size_t err_size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t err_size, const char *fmt, ...)
{
    if (err != NULL && err_size > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, err_size, fmt, ap);
        va_end(ap);
    }
}

static const char *av_error_text(int code, char *buf, size_t size)
{
    if (av_strerror(code, buf, size) < 0) {
        snprintf(buf, size, "libavcodec error %d", code);
    }
    return buf;
}

static void configure(AVCodecContext *c, bool hevc)
{
    /* Frame threads would add a frame of delay per thread. Slice threads cost no delay, but
     * libavcodec's H.264 decoder turns its error resilience off under them, and with it the
     * only check that every macroblock was decoded: a slice whose header is damaged would
     * vanish unnoticed. H.264 therefore decodes on the calling thread; HEVC has no such check
     * to lose and keeps its wavefront threads. */
    c->thread_type = FF_THREAD_SLICE;
    c->thread_count = hevc ? 0 : 1;
    c->flags |= AV_CODEC_FLAG_LOW_DELAY;
    /* Report damage instead of concealing it: a concealed frame is shown garbage.
     * AGGRESSIVE also counts bits left over at the end of a slice, which our encoders never
     * leave. */
    c->err_recognition =
        AV_EF_CRCCHECK | AV_EF_BITSTREAM | AV_EF_BUFFER | AV_EF_EXPLODE | AV_EF_AGGRESSIVE;
    c->max_pixels = (int64_t)RR_DEC_MAX_DIM * RR_DEC_MAX_DIM;
}

bool rr_decoder_open(const char *codec, struct rr_decoder **out, char *err, size_t err_size)
{
    if (out == NULL) {
        set_err(err, err_size, "no place for the decoder");
        return false;
    }
    *out = NULL;
    bool hevc = codec != NULL && strcmp(codec, "hevc") == 0;
    if (codec == NULL || (!hevc && strcmp(codec, "h264") != 0)) {
        set_err(err, err_size, "unknown codec \"%s\" (h264 or hevc)", codec != NULL ? codec : "");
        return false;
    }
    const AVCodec *c = avcodec_find_decoder(hevc ? AV_CODEC_ID_HEVC : AV_CODEC_ID_H264);
    if (c == NULL) {
        set_err(err, err_size, "no %s decoder in this libavcodec build", codec);
        return false;
    }
    struct rr_decoder *dec = calloc(1, sizeof(*dec));
    if (dec == NULL) {
        set_err(err, err_size, "out of memory");
        return false;
    }
    dec->hevc = hevc;
    dec->need_keyframe = true;
    dec->ctx = avcodec_alloc_context3(c);
    dec->pkt = av_packet_alloc();
    if (dec->ctx == NULL || dec->pkt == NULL) {
        rr_decoder_close(&dec);
        set_err(err, err_size, "out of memory");
        return false;
    }
    configure(dec->ctx, hevc);
    char said[256];
    struct rr_codec_log_capture cap;
    rr_codec_log_capture_begin(&cap, dec->ctx, said, sizeof(said));
    int ret = avcodec_open2(dec->ctx, c, NULL);
    rr_codec_log_capture_end(&cap);
    if (ret < 0) {
        char e[AV_ERROR_MAX_STRING_SIZE];
        rr_decoder_close(&dec);
        set_err(err, err_size, "%s decoder could not open: %s", codec,
                said[0] != '\0' ? said : av_error_text(ret, e, sizeof(e)));
        return false;
    }
    *out = dec;
    return true;
}

void rr_decoder_close(struct rr_decoder **dec_ptr)
{
    if (dec_ptr == NULL || *dec_ptr == NULL) {
        return;
    }
    struct rr_decoder *dec = *dec_ptr;
    avcodec_free_context(&dec->ctx);
    av_packet_free(&dec->pkt);
    sws_freeContext(dec->sws);
    free(dec);
    *dec_ptr = NULL;
}

/* Whether the access unit starts a picture that needs no earlier one: parameter sets or an
 * IDR / IRAP slice come before any other slice. Stops at the first slice. */
static bool starts_with_keyframe(const uint8_t *p, size_t size, bool hevc)
{
    for (size_t i = 0; i + 3 < size; i++) {
        if (p[i] != 0 || p[i + 1] != 0 || p[i + 2] != 1) {
            continue;
        }
        uint8_t hdr = p[i + 3];
        if (hevc) {
            unsigned t = (hdr >> 1) & 0x3fu;
            if ((t >= 16 && t <= 21) || t == 32 || t == 33) {
                return true; /* IRAP slice, VPS, SPS */
            }
            if (t <= 9) {
                return false; /* a slice that depends on others */
            }
        } else {
            unsigned t = hdr & 0x1fu;
            if (t == 5 || t == 7) {
                return true; /* IDR slice, SPS */
            }
            if (t >= 1 && t <= 4) {
                return false;
            }
        }
        i += 3;
    }
    return false;
}

/* Any error leaves the decoder flushed and waiting for a keyframe. */
static enum rr_decode_status reject(struct rr_decoder *dec, char *err, size_t err_size,
                                    const char *what, int code, const char *said)
{
    avcodec_flush_buffers(dec->ctx);
    dec->need_keyframe = true;
    char e[AV_ERROR_MAX_STRING_SIZE] = "";
    if (code < 0) {
        av_error_text(code, e, sizeof(e));
    }
    bool has_said = said != NULL && said[0] != '\0';
    set_err(err, err_size, "%s%s%s%s%s%s", what, e[0] ? ": " : "", e, has_said ? " (" : "",
            has_said ? said : "", has_said ? ")" : "");
    return RR_DECODE_ERROR;
}

/* The stream is ours and 4:2:0 8-bit; anything else is converted rather than refused. */
static AVFrame *to_yuv420p(struct rr_decoder *dec, AVFrame *in)
{
    if (in->format == AV_PIX_FMT_YUV420P || in->format == AV_PIX_FMT_YUVJ420P) {
        return in;
    }
    AVFrame *out = av_frame_alloc();
    dec->sws = sws_getCachedContext(dec->sws, in->width, in->height, in->format, in->width,
                                    in->height, AV_PIX_FMT_YUV420P, SWS_BILINEAR, NULL, NULL, NULL);
    if (out == NULL || dec->sws == NULL) {
        av_frame_free(&out);
        av_frame_free(&in);
        return NULL;
    }
    out->format = AV_PIX_FMT_YUV420P;
    out->width = in->width;
    out->height = in->height;
    if (av_frame_get_buffer(out, 0) < 0 || av_frame_copy_props(out, in) < 0 ||
        sws_scale(dec->sws, (const uint8_t *const *)in->data, in->linesize, 0, in->height,
                  out->data, out->linesize) < 0) {
        av_frame_free(&out);
    }
    av_frame_free(&in);
    return out;
}

static enum rr_decode_status receive(struct rr_decoder *dec, AVFrame *f, char *err, size_t err_size,
                                     unsigned logged, const char *said)
{
    int ret = avcodec_receive_frame(dec->ctx, f);
    if (ret == AVERROR(EAGAIN)) {
        return logged > 0 ? reject(dec, err, err_size, "corrupt packet", 0, said) : RR_DECODE_NONE;
    }
    if (ret < 0) {
        return reject(dec, err, err_size, "decoding failed", ret, said);
    }
    /* With slice threads libavcodec neither returns a slice's error nor conceals it (its
     * error resilience is off then): the error lines it logged are the only sign. */
    if ((f->flags & AV_FRAME_FLAG_CORRUPT) != 0 || f->decode_error_flags != 0 || logged > 0) {
        av_frame_unref(f);
        return reject(dec, err, err_size, "the picture decoded with errors", 0, said);
    }
    return RR_DECODE_FRAME;
}

/* Send one padded packet and take its picture, listening to libavcodec's error lines about
 * this decoder from every thread it decodes on. */
static enum rr_decode_status decode_packet(struct rr_decoder *dec, AVFrame *f, char *err,
                                           size_t err_size)
{
    char said[256];
    struct rr_codec_log_capture cap;
    rr_codec_log_capture_begin(&cap, dec->ctx, said, sizeof(said));
    int ret = avcodec_send_packet(dec->ctx, dec->pkt);
    av_packet_unref(dec->pkt);
    if (ret < 0) {
        rr_codec_log_capture_end(&cap);
        return reject(dec, err, err_size, "corrupt packet", ret, said);
    }
    /* Decoding happens inside avcodec_send_packet: every line is in by now. */
    unsigned logged = rr_codec_log_capture_end(&cap);
    return receive(dec, f, err, err_size, logged, said);
}

enum rr_decode_status rr_decoder_decode(struct rr_decoder *dec, const uint8_t *data, size_t size,
                                        struct AVFrame **out_frame, char *err, size_t err_size)
{
    if (dec == NULL || out_frame == NULL) {
        set_err(err, err_size, "no decoder or no place for a frame");
        return RR_DECODE_ERROR;
    }
    *out_frame = NULL;
    /* The size is checked before the data is touched. */
    if (size > RR_DEC_MAX_PACKET) {
        return reject(dec, err, err_size, "packet larger than 16 MiB", 0, NULL);
    }
    if (data == NULL || size == 0) {
        return reject(dec, err, err_size, "empty packet", 0, NULL);
    }
    if (dec->need_keyframe && !starts_with_keyframe(data, size, dec->hevc)) {
        set_err(err, err_size, "waiting for a keyframe");
        return RR_DECODE_ERROR;
    }
    /* A copy with libavcodec's zeroed padding, which its bitstream readers may read into. */
    av_packet_unref(dec->pkt);
    if (av_new_packet(dec->pkt, (int)size) < 0) {
        return reject(dec, err, err_size, "out of memory for a packet", 0, NULL);
    }
    memcpy(dec->pkt->data, data, size);
    AVFrame *f = av_frame_alloc();
    if (f == NULL) {
        av_packet_unref(dec->pkt);
        return reject(dec, err, err_size, "out of memory for a picture", 0, NULL);
    }
    enum rr_decode_status st = decode_packet(dec, f, err, err_size);
    if (st == RR_DECODE_FRAME) {
        f = to_yuv420p(dec, f);
        if (f == NULL) {
            return reject(dec, err, err_size, "could not convert the picture to YUV420P", 0, NULL);
        }
        dec->need_keyframe = false;
        *out_frame = f;
        return st;
    }
    av_frame_free(&f);
    return st;
}
