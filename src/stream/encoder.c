/* SPDX-License-Identifier: Apache-2.0 */
/*
 * encoder — the remote's video encoder: libx264, libx265 or NVENC through libavcodec, set up so
 * that every frame in gives its packet back at once (no B-frames, no lookahead, slice threads).
 * Also owns the codec layer's libavcodec log hook, which the decoder shares.
 * Threads: an encoder runs on its one owner thread; the log hook runs on any thread libavcodec
 * logs from.
 */
#include "encoder.h"

#include "u_log.h"

#include <libavcodec/avcodec.h>
#include <libavutil/imgutils.h>
#include <libavutil/opt.h>
#include <libyuv/convert.h>
#include <libyuv/convert_from_argb.h>

#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MOD "encoder"

#define RR_ENC_MIN_DIM 16u
#define RR_ENC_MAX_DIM 8192u
#define RR_ENC_MAX_FPS 240u
#define RR_ENC_MIN_KBPS 100u
/* Keeps the VBV buffer (two frames at 1 fps) inside libavcodec's int field. */
#define RR_ENC_MAX_KBPS 1000000u
/* x264 clips any keyint above 2^30 to "infinite"; NVENC takes it as a GOP too long to end. */
#define RR_GOP_INFINITE (1 << 30)
/* CRF 23 is x264's and x265's default quality; the VBV cap is what bounds the size. */
#define RR_CRF "23"

/* ---- libavcodec's log ------------------------------------------------------------------- */

/* libavcodec has one log callback per process. Ours forwards to u_log only when OPENRR_LOG
 * asks for debug output (libavcodec is chatty), and hands error lines to the captures that
 * listen to the context they are about. Captures live in a list under a mutex, which only
 * error lines take, and only while some capture is listening. */
static pthread_once_t g_log_once = PTHREAD_ONCE_INIT;
static atomic_int g_log_forward = AV_LOG_QUIET;
static pthread_mutex_t g_capture_lock = PTHREAD_MUTEX_INITIALIZER;
static struct rr_codec_log_capture *g_captures;
static atomic_int g_capture_count;

static enum u_log_level log_level_from_av(int level)
{
    if (level <= AV_LOG_ERROR) {
        return U_LOG_ERROR;
    }
    if (level <= AV_LOG_WARNING) {
        return U_LOG_WARN;
    }
    if (level <= AV_LOG_VERBOSE) {
        return U_LOG_DEBUG;
    }
    return U_LOG_TRACE;
}

static void capture_append(struct rr_codec_log_capture *c, const char *line)
{
    c->errors++;
    if (c->len + 1 >= c->size || line[0] == '\0') {
        return;
    }
    const char *sep = c->len > 0 ? "; " : "";
    int n = snprintf(c->buf + c->len, c->size - c->len, "%s%s", sep, line);
    if (n > 0) {
        size_t add = (size_t)n;
        c->len = c->len + add < c->size ? c->len + add : c->size - 1;
    }
}

static void capture_line(const void *avcl, const char *line)
{
    pthread_mutex_lock(&g_capture_lock);
    for (struct rr_codec_log_capture *c = g_captures; c != NULL; c = c->next) {
        if (c->ctx == avcl) {
            capture_append(c, line);
        }
    }
    pthread_mutex_unlock(&g_capture_lock);
}

static void log_hook(void *avcl, int level, const char *fmt, va_list vl)
{
    int forward = atomic_load_explicit(&g_log_forward, memory_order_relaxed);
    bool capture = level <= AV_LOG_ERROR && avcl != NULL && atomic_load(&g_capture_count) > 0;
    if (level > forward && !capture) {
        return; /* most lines end here, before any formatting */
    }
    char line[512];
    if (vsnprintf(line, sizeof(line), fmt, vl) < 0) {
        return;
    }
    size_t len = strnlen(line, sizeof(line));
    while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == ' ' || line[len - 1] == '.')) {
        line[--len] = '\0';
    }
    if (capture) {
        capture_line(avcl, line);
    }
    if (level <= forward && len > 0) {
        const AVClass *cls = avcl != NULL ? *(const AVClass **)avcl : NULL;
        const char *who = cls != NULL && cls->item_name != NULL ? cls->item_name(avcl) : "av";
        u_log(log_level_from_av(level), "avcodec", "%s: %s", who, line);
    }
}

static void log_install(void)
{
    enum u_log_level ours = u_log_get_level();
    int forward = AV_LOG_QUIET;
    if (ours <= U_LOG_TRACE) {
        forward = AV_LOG_DEBUG;
    } else if (ours <= U_LOG_DEBUG) {
        forward = AV_LOG_VERBOSE;
    }
    atomic_store(&g_log_forward, forward);
    /* Some libavcodec code checks the level before building expensive dumps. */
    av_log_set_level(forward);
    av_log_set_callback(log_hook);
}

void rr_codec_log_capture_begin(struct rr_codec_log_capture *cap, const void *ctx, char *buf,
                                size_t size)
{
    pthread_once(&g_log_once, log_install);
    buf[0] = '\0';
    *cap = (struct rr_codec_log_capture){.ctx = ctx, .buf = buf, .size = size};
    pthread_mutex_lock(&g_capture_lock);
    cap->next = g_captures;
    g_captures = cap;
    atomic_fetch_add(&g_capture_count, 1);
    pthread_mutex_unlock(&g_capture_lock);
}

unsigned rr_codec_log_capture_end(struct rr_codec_log_capture *cap)
{
    pthread_mutex_lock(&g_capture_lock);
    for (struct rr_codec_log_capture **p = &g_captures; *p != NULL; p = &(*p)->next) {
        if (*p == cap) {
            *p = cap->next;
            atomic_fetch_sub(&g_capture_count, 1);
            break;
        }
    }
    unsigned errors = cap->errors;
    pthread_mutex_unlock(&g_capture_lock);
    cap->next = NULL;
    return errors;
}

/* ---- encoder choice --------------------------------------------------------------------- */

enum enc_family {
    FAMILY_X264,
    FAMILY_X265,
    FAMILY_NVENC,
};

struct enc_desc {
    const char *name;
    const char *codec;
    enum enc_family family;
    /* The encoder's own picture format: NV12 needs no conversion from the GPU converter;
     * libx265 takes planar 4:2:0 only. */
    enum AVPixelFormat pix_fmt;
};

/* NVENC first within each codec: "auto" tries them in this order. */
static const struct enc_desc g_encoders[] = {
    {"h264_nvenc", "h264", FAMILY_NVENC, AV_PIX_FMT_NV12},
    {"libx264", "h264", FAMILY_X264, AV_PIX_FMT_NV12},
    {"hevc_nvenc", "hevc", FAMILY_NVENC, AV_PIX_FMT_NV12},
    {"libx265", "hevc", FAMILY_X265, AV_PIX_FMT_YUV420P},
};
#define N_ENCODERS (sizeof(g_encoders) / sizeof(g_encoders[0]))

struct rr_encoder {
    const struct enc_desc *desc;
    uint32_t width;
    uint32_t height;
    uint32_t fps;
    uint32_t keyframe_interval;
    uint32_t bitrate_kbps;
    bool reopen; /* libx265 cannot change its VBV while open: start a fresh one */
    AVCodecContext *ctx;
    AVFrame *frame; /* encoder-format picture we own, allocated once */
    AVFrame *nv12;  /* the caller's NV12 planes, borrowed for one call (libx264) */
    AVPacket *pkt;
    int64_t pts;
};

static bool fail(char *err, size_t err_size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static bool fail(char *err, size_t err_size, const char *fmt, ...)
{
    if (err != NULL && err_size > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, err_size, fmt, ap);
        va_end(ap);
    }
    return false;
}

static const char *av_error_text(int code, char *buf, size_t size)
{
    if (av_strerror(code, buf, size) < 0) {
        snprintf(buf, size, "libavcodec error %d", code);
    }
    return buf;
}

static bool check_dim(const char *what, uint32_t v, char *err, size_t err_size)
{
    if (v < RR_ENC_MIN_DIM || v > RR_ENC_MAX_DIM) {
        return fail(err, err_size, "%s %u is outside %u..%u", what, v, RR_ENC_MIN_DIM,
                    RR_ENC_MAX_DIM);
    }
    if (v % 2 != 0) {
        return fail(err, err_size, "%s %u is odd (4:2:0 video needs even sizes)", what, v);
    }
    return true;
}

static bool check_config(const struct rr_encoder_config *cfg, char *err, size_t err_size)
{
    if (cfg == NULL || cfg->codec == NULL) {
        return fail(err, err_size, "no codec given (h264 or hevc)");
    }
    if (strcmp(cfg->codec, "h264") != 0 && strcmp(cfg->codec, "hevc") != 0) {
        return fail(err, err_size, "unknown codec \"%s\" (h264 or hevc)", cfg->codec);
    }
    if (!check_dim("width", cfg->width, err, err_size) ||
        !check_dim("height", cfg->height, err, err_size)) {
        return false;
    }
    if (cfg->fps < 1 || cfg->fps > RR_ENC_MAX_FPS) {
        return fail(err, err_size, "frame rate %u is outside 1..%u", cfg->fps, RR_ENC_MAX_FPS);
    }
    if (cfg->bitrate_kbps < RR_ENC_MIN_KBPS || cfg->bitrate_kbps > RR_ENC_MAX_KBPS) {
        return fail(err, err_size, "bitrate %u kbps is outside %u..%u", cfg->bitrate_kbps,
                    RR_ENC_MIN_KBPS, RR_ENC_MAX_KBPS);
    }
    if (cfg->keyframe_interval > INT_MAX) {
        return fail(err, err_size, "keyframe interval %u is too large", cfg->keyframe_interval);
    }
    return true;
}

/* The candidates to try, in order: one named encoder, or NVENC then software for "auto". */
static size_t pick_encoders(const struct rr_encoder_config *cfg, const struct enc_desc **out,
                            char *err, size_t err_size)
{
    size_t n = 0;
    bool any = cfg->encoder == NULL || strcmp(cfg->encoder, "auto") == 0;
    for (size_t i = 0; i < N_ENCODERS; i++) {
        const struct enc_desc *d = &g_encoders[i];
        if (any && strcmp(d->codec, cfg->codec) == 0) {
            out[n++] = d;
        } else if (!any && strcmp(d->name, cfg->encoder) == 0) {
            if (strcmp(d->codec, cfg->codec) != 0) {
                fail(err, err_size, "encoder %s makes %s, not %s", d->name, d->codec, cfg->codec);
                return 0;
            }
            out[n++] = d;
        }
    }
    if (n == 0) {
        fail(err, err_size,
             "unknown encoder \"%s\" (h264: libx264, h264_nvenc; hevc: libx265, hevc_nvenc)",
             cfg->encoder);
    }
    return n;
}

/* ---- opening ------------------------------------------------------------------------------ */

/* VBV buffer of two frames at the cap, in whole kbit because x264 and x265 count in kbit. */
static int vbv_buffer_bits(uint32_t kbps, uint32_t fps)
{
    uint64_t kbit = (uint64_t)kbps * 2u / fps;
    return (int)(kbit > 0 ? kbit * 1000u : 1000u);
}

static void set_rate_fields(AVCodecContext *c, uint32_t kbps, uint32_t fps)
{
    c->bit_rate = (int64_t)kbps * 1000;
    c->rc_max_rate = (int64_t)kbps * 1000;
    c->rc_buffer_size = vbv_buffer_bits(kbps, fps);
}

static bool set_opt(AVCodecContext *c, const char *name, const char *value, char *err,
                    size_t err_size)
{
    int ret = av_opt_set(c->priv_data, name, value, 0);
    if (ret < 0) {
        char e[AV_ERROR_MAX_STRING_SIZE];
        return fail(err, err_size, "%s refused option %s=%s (%s)", c->codec->name, name, value,
                    av_error_text(ret, e, sizeof(e)));
    }
    return true;
}

static bool setup_x264(struct rr_encoder *enc, AVCodecContext *c, char *err, size_t err_size)
{
    /* Slice threads split each frame across cores; frame threads would hold frames back. */
    c->thread_count = 0;
    c->thread_type = FF_THREAD_SLICE;
    /* CRF capped by VBV; the wrapper hands new rc_max_rate/rc_buffer_size to
     * x264_encoder_reconfig before the next frame, which is what set_bitrate relies on.
     * scenecut=0: keyframes only when asked for or at the interval. */
    return set_opt(c, "preset", "ultrafast", err, err_size) &&
           set_opt(c, "tune", "zerolatency", err, err_size) &&
           set_opt(c, "crf", RR_CRF, err, err_size) &&
           set_opt(c, "forced-idr", "1", err, err_size) &&
           set_opt(c, "x264-params", "scenecut=0", err, err_size);
}

static bool setup_x265(struct rr_encoder *enc, AVCodecContext *c, char *err, size_t err_size)
{
    /* libavcodec's libx265 wrapper does not pass every generic field on, so the GOP, the VBV
     * and the low-latency settings go through x265-params, which it applies last. x265 prints
     * to stderr itself: log-level=error keeps it quiet. */
    char params[256];
    long keyint = enc->keyframe_interval > 0 ? (long)enc->keyframe_interval : -1;
    int n =
        snprintf(params, sizeof(params),
                 "repeat-headers=1:bframes=0:open-gop=0:scenecut=0:frame-threads=1:"
                 "keyint=%ld:vbv-maxrate=%u:vbv-bufsize=%d:log-level=error",
                 keyint, enc->bitrate_kbps, vbv_buffer_bits(enc->bitrate_kbps, enc->fps) / 1000);
    if (n < 0 || (size_t)n >= sizeof(params)) {
        return fail(err, err_size, "libx265 parameters do not fit");
    }
    return set_opt(c, "preset", "ultrafast", err, err_size) &&
           set_opt(c, "tune", "zerolatency", err, err_size) &&
           set_opt(c, "crf", RR_CRF, err, err_size) &&
           set_opt(c, "forced-idr", "1", err, err_size) &&
           set_opt(c, "x265-params", params, err, err_size);
}

static bool setup_nvenc(struct rr_encoder *enc, AVCodecContext *c, char *err, size_t err_size)
{
    /* p1 needs an SDK 10 build; llhp is the older low-latency preset. */
    if (av_opt_set(c->priv_data, "preset", "p1", 0) < 0 &&
        !set_opt(c, "preset", "llhp", err, err_size)) {
        return false;
    }
    /* delay 0: the packet comes back in the same call; CBR at the cap with a two-frame VBV. */
    return set_opt(c, "tune", "ull", err, err_size) &&
           set_opt(c, "zerolatency", "1", err, err_size) &&
           set_opt(c, "delay", "0", err, err_size) && set_opt(c, "rc", "cbr", err, err_size) &&
           set_opt(c, "forced-idr", "1", err, err_size) &&
           set_opt(c, "no-scenecut", "1", err, err_size);
}

static AVCodecContext *configure(struct rr_encoder *enc, const AVCodec *codec, char *err,
                                 size_t err_size)
{
    AVCodecContext *c = avcodec_alloc_context3(codec);
    if (c == NULL) {
        fail(err, err_size, "out of memory");
        return NULL;
    }
    c->width = (int)enc->width;
    c->height = (int)enc->height;
    c->pix_fmt = enc->desc->pix_fmt;
    c->time_base = (AVRational){1, (int)enc->fps};
    c->framerate = (AVRational){(int)enc->fps, 1};
    c->gop_size = enc->keyframe_interval > 0 ? (int)enc->keyframe_interval : RR_GOP_INFINITE;
    c->max_b_frames = 0;
    /* What libyuv's RGB → YUV conversion and the GPU converter produce (also libswscale's
     * default, which the player uses back to RGB). */
    c->colorspace = AVCOL_SPC_SMPTE170M;
    c->color_range = AVCOL_RANGE_MPEG;
    set_rate_fields(c, enc->bitrate_kbps, enc->fps);
    bool ok = false;
    switch (enc->desc->family) {
    case FAMILY_X264:
        ok = setup_x264(enc, c, err, err_size);
        break;
    case FAMILY_X265:
        ok = setup_x265(enc, c, err, err_size);
        break;
    case FAMILY_NVENC:
        ok = setup_nvenc(enc, c, err, err_size);
        break;
    }
    if (!ok) {
        avcodec_free_context(&c);
    }
    return c;
}

static bool open_codec(struct rr_encoder *enc, char *err, size_t err_size)
{
    const char *name = enc->desc->name;
    const AVCodec *codec = avcodec_find_encoder_by_name(name);
    if (codec == NULL) {
        return fail(err, err_size, "%s could not open: not part of this libavcodec build", name);
    }
    AVCodecContext *c = configure(enc, codec, err, err_size);
    if (c == NULL) {
        return false;
    }
    char said[256];
    struct rr_codec_log_capture cap;
    rr_codec_log_capture_begin(&cap, c, said, sizeof(said));
    int ret = avcodec_open2(c, codec, NULL);
    rr_codec_log_capture_end(&cap);
    if (ret < 0) {
        char e[AV_ERROR_MAX_STRING_SIZE];
        const char *why = said[0] != '\0' ? said : av_error_text(ret, e, sizeof(e));
        avcodec_free_context(&c);
        if (enc->desc->family == FAMILY_NVENC) {
            return fail(err, err_size, "%s could not open: no NVIDIA GPU or driver (%s)", name,
                        why);
        }
        return fail(err, err_size, "%s could not open: %s", name, why);
    }
    enc->ctx = c;
    return true;
}

/* A frame that describes memory it does not own. Its buf[0] is a one-byte stand-in: libavcodec
 * takes a reference to a frame with buffers, but copy a frame without any, and
 * that copy is what this avoids. After each use the stand-in must be ours alone again, which
 * proves nobody kept a pointer into the caller's memory. */
static AVFrame *borrowed_alloc(enum AVPixelFormat fmt, uint32_t width, uint32_t height)
{
    AVFrame *f = av_frame_alloc();
    if (f == NULL) {
        return NULL;
    }
    f->buf[0] = av_buffer_alloc(1);
    if (f->buf[0] == NULL) {
        av_frame_free(&f);
        return NULL;
    }
    f->format = fmt;
    f->width = (int)width;
    f->height = (int)height;
    return f;
}

static bool borrowed_release(AVFrame *f, char *err, size_t err_size)
{
    for (int i = 0; i < AV_NUM_DATA_POINTERS; i++) {
        f->data[i] = NULL;
        f->linesize[i] = 0;
    }
    if (av_buffer_get_ref_count(f->buf[0]) != 1) {
        return fail(err, err_size, "the encoder kept a reference to the caller's picture");
    }
    return true;
}

static bool alloc_buffers(struct rr_encoder *enc, char *err, size_t err_size)
{
    enc->frame = av_frame_alloc();
    enc->pkt = av_packet_alloc();
    enc->nv12 = borrowed_alloc(AV_PIX_FMT_NV12, enc->width, enc->height);
    if (enc->frame == NULL || enc->pkt == NULL || enc->nv12 == NULL) {
        return fail(err, err_size, "out of memory for the encoder's picture");
    }
    enc->frame->format = enc->desc->pix_fmt;
    enc->frame->width = (int)enc->width;
    enc->frame->height = (int)enc->height;
    enc->frame->colorspace = AVCOL_SPC_SMPTE170M;
    enc->frame->color_range = AVCOL_RANGE_MPEG;
    if (av_frame_get_buffer(enc->frame, 0) < 0) {
        return fail(err, err_size, "out of memory for the encoder's picture");
    }
    return true;
}

/* "auto" failing explains every candidate it tried. */
static bool join_failures(char (*why)[256], size_t n, char *err, size_t err_size)
{
    if (err == NULL || err_size == 0) {
        return false;
    }
    err[0] = '\0';
    size_t len = 0;
    for (size_t i = 0; i < n && len + 1 < err_size; i++) {
        int w = snprintf(err + len, err_size - len, "%s%s", i > 0 ? "; " : "", why[i]);
        if (w < 0) {
            break;
        }
        len += (size_t)w;
    }
    return false;
}

bool rr_encoder_open(const struct rr_encoder_config *cfg, struct rr_encoder **out, char *err,
                     size_t err_size)
{
    if (out == NULL) {
        return fail(err, err_size, "no place for the encoder");
    }
    *out = NULL;
    if (!check_config(cfg, err, err_size)) {
        return false;
    }
    const struct enc_desc *cands[N_ENCODERS];
    size_t n = pick_encoders(cfg, cands, err, err_size);
    if (n == 0) {
        return false;
    }
    char why[N_ENCODERS][256];
    for (size_t i = 0; i < n; i++) {
        struct rr_encoder *enc = calloc(1, sizeof(*enc));
        if (enc == NULL) {
            return fail(err, err_size, "out of memory");
        }
        *enc = (struct rr_encoder){.desc = cands[i],
                                   .width = cfg->width,
                                   .height = cfg->height,
                                   .fps = cfg->fps,
                                   .keyframe_interval = cfg->keyframe_interval,
                                   .bitrate_kbps = cfg->bitrate_kbps};
        if (open_codec(enc, why[i], sizeof(why[i])) && alloc_buffers(enc, why[i], sizeof(why[i]))) {
            if (i > 0) {
                U_LOG_I(MOD, "using %s; %s", enc->desc->name, why[0]);
            }
            *out = enc;
            return true;
        }
        rr_encoder_close(&enc);
    }
    return join_failures(why, n, err, err_size);
}

void rr_encoder_close(struct rr_encoder **enc_ptr)
{
    if (enc_ptr == NULL || *enc_ptr == NULL) {
        return;
    }
    struct rr_encoder *enc = *enc_ptr;
    avcodec_free_context(&enc->ctx);
    av_frame_free(&enc->frame);
    av_frame_free(&enc->nv12);
    av_packet_free(&enc->pkt);
    free(enc);
    *enc_ptr = NULL;
}

const char *rr_encoder_name(const struct rr_encoder *enc)
{
    return enc != NULL ? enc->desc->name : "";
}

/* ---- per frame -------------------------------------------------------------------------- */

void rr_encoder_set_bitrate(struct rr_encoder *enc, uint32_t kbps)
{
    if (enc == NULL) {
        return;
    }
    if (kbps < RR_ENC_MIN_KBPS) {
        kbps = RR_ENC_MIN_KBPS;
    } else if (kbps > RR_ENC_MAX_KBPS) {
        kbps = RR_ENC_MAX_KBPS;
    }
    if (kbps == enc->bitrate_kbps) {
        return;
    }
    enc->bitrate_kbps = kbps;
    if (enc->desc->family == FAMILY_X265) {
        enc->reopen = true;
        return;
    }
    /* libx264 and NVENC compare these with their running settings before each frame and
     * reconfigure in place, without a keyframe. */
    set_rate_fields(enc->ctx, kbps, enc->fps);
}

/* libx265's wrapper keeps its first VBV: a new bitrate costs a fresh encoder and an IDR. */
static bool reopen_if_needed(struct rr_encoder *enc, char *err, size_t err_size)
{
    if (!enc->reopen) {
        return true;
    }
    avcodec_free_context(&enc->ctx);
    /* On failure the next frame tries again; enc->ctx stays NULL until one succeeds. */
    enc->reopen = !open_codec(enc, err, err_size);
    return !enc->reopen;
}

static bool encode_frame(struct rr_encoder *enc, AVFrame *f, bool force_keyframe,
                         struct rr_encoded *out, char *err, size_t err_size)
{
    char e[AV_ERROR_MAX_STRING_SIZE];
    /* pict_type I is how libavcodec asks for a keyframe; forced-idr makes it an IDR. */
    f->pict_type = force_keyframe ? AV_PICTURE_TYPE_I : AV_PICTURE_TYPE_NONE;
    f->pts = enc->pts++;
    av_packet_unref(enc->pkt);
    int ret = avcodec_send_frame(enc->ctx, f);
    if (ret < 0) {
        return fail(err, err_size, "%s could not take a frame: %s", enc->desc->name,
                    av_error_text(ret, e, sizeof(e)));
    }
    ret = avcodec_receive_packet(enc->ctx, enc->pkt);
    if (ret == AVERROR(EAGAIN)) {
        return fail(err, err_size, "%s held a frame back (one packet per frame expected)",
                    enc->desc->name);
    }
    if (ret < 0) {
        return fail(err, err_size, "%s failed to encode: %s", enc->desc->name,
                    av_error_text(ret, e, sizeof(e)));
    }
    out->data = enc->pkt->data;
    out->size = (size_t)enc->pkt->size;
    out->keyframe = (enc->pkt->flags & AV_PKT_FLAG_KEY) != 0;
    return true;
}

static bool begin_frame(struct rr_encoder *enc, struct rr_encoded *out, char *err, size_t err_size)
{
    if (out == NULL) {
        return fail(err, err_size, "no place for the packet");
    }
    *out = (struct rr_encoded){0};
    return reopen_if_needed(enc, err, err_size);
}

static bool frame_writable(struct rr_encoder *enc, char *err, size_t err_size)
{
    /* A no-op while the encoder has let go of the last picture, which ours all do. */
    if (av_frame_make_writable(enc->frame) < 0) {
        return fail(err, err_size, "out of memory for the encoder's picture");
    }
    return true;
}

bool rr_encoder_encode_rgba(struct rr_encoder *enc, const uint8_t *rgba, size_t stride,
                            bool force_keyframe, struct rr_encoded *out, char *err, size_t err_size)
{
    if (enc == NULL || rgba == NULL) {
        return fail(err, err_size, "no encoder or no picture");
    }
    if (stride < (size_t)enc->width * 4 || stride > INT_MAX) {
        return fail(err, err_size, "RGBA stride %zu does not fit width %u", stride, enc->width);
    }
    if (!begin_frame(enc, out, err, err_size) || !frame_writable(enc, err, err_size)) {
        return false;
    }
    /* libyuv's SIMD rows convert 2560x720 in about 1 ms here, libswscale's in about 6: the
     * difference decides whether 1280x720 stereo holds 60 fps on two cores. Same BT.601
     * limited-range matrix; chroma is the 2x2 mean, as the GPU converter computes it.
     * (libyuv names formats by little-endian words: bytes R,G,B,A are its "ABGR".) */
    AVFrame *f = enc->frame;
    int w = (int)enc->width, h = (int)enc->height, ret;
    if (enc->desc->pix_fmt == AV_PIX_FMT_NV12) {
        ret = ABGRToNV12(rgba, (int)stride, f->data[0], f->linesize[0], f->data[1], f->linesize[1],
                         w, h);
    } else {
        ret = ABGRToI420(rgba, (int)stride, f->data[0], f->linesize[0], f->data[1], f->linesize[1],
                         f->data[2], f->linesize[2], w, h);
    }
    if (ret != 0) {
        return fail(err, err_size, "RGBA conversion failed (libyuv %d)", ret);
    }
    return encode_frame(enc, enc->frame, force_keyframe, out, err, err_size);
}

/* libx265 wants planar chroma: split NV12's interleaved UV rows into U and V. */
static void deinterleave_uv(AVFrame *f, const uint8_t *uv, size_t uv_stride, uint32_t width,
                            uint32_t height)
{
    for (uint32_t row = 0; row < height / 2; row++) {
        const uint8_t *src = uv + (size_t)row * uv_stride;
        uint8_t *u = f->data[1] + (size_t)row * (size_t)f->linesize[1];
        uint8_t *v = f->data[2] + (size_t)row * (size_t)f->linesize[2];
        for (uint32_t x = 0; x < width / 2; x++) {
            u[x] = src[2 * x];
            v[x] = src[2 * x + 1];
        }
    }
}

static bool encode_nv12_copy(struct rr_encoder *enc, const uint8_t *y, size_t y_stride,
                             const uint8_t *uv, size_t uv_stride, bool force_keyframe,
                             struct rr_encoded *out, char *err, size_t err_size)
{
    if (!frame_writable(enc, err, err_size)) {
        return false;
    }
    AVFrame *f = enc->frame;
    av_image_copy_plane(f->data[0], f->linesize[0], y, (int)y_stride, (int)enc->width,
                        (int)enc->height);
    if (enc->desc->pix_fmt == AV_PIX_FMT_NV12) {
        av_image_copy_plane(f->data[1], f->linesize[1], uv, (int)uv_stride, (int)enc->width,
                            (int)enc->height / 2);
    } else {
        deinterleave_uv(f, uv, uv_stride, enc->width, enc->height);
    }
    return encode_frame(enc, f, force_keyframe, out, err, err_size);
}

bool rr_encoder_encode_nv12(struct rr_encoder *enc, const uint8_t *y, size_t y_stride,
                            const uint8_t *uv, size_t uv_stride, bool force_keyframe,
                            struct rr_encoded *out, char *err, size_t err_size)
{
    if (enc == NULL || y == NULL || uv == NULL) {
        return fail(err, err_size, "no encoder or no picture");
    }
    if (y_stride < enc->width || uv_stride < enc->width || y_stride > INT_MAX ||
        uv_stride > INT_MAX) {
        return fail(err, err_size, "NV12 strides %zu/%zu do not fit width %u", y_stride, uv_stride,
                    enc->width);
    }
    if (!begin_frame(enc, out, err, err_size)) {
        return false;
    }
    if (enc->desc->family != FAMILY_X264) {
        return encode_nv12_copy(enc, y, y_stride, uv, uv_stride, force_keyframe, out, err,
                                err_size);
    }
    /* x264 copies its input inside x264_encoder_encode, so it can read the caller's planes
     * directly; borrowed_release proves it let go. */
    enc->nv12->data[0] = (uint8_t *)y;
    enc->nv12->data[1] = (uint8_t *)uv;
    enc->nv12->linesize[0] = (int)y_stride;
    enc->nv12->linesize[1] = (int)uv_stride;
    bool ok = encode_frame(enc, enc->nv12, force_keyframe, out, err, err_size);
    return borrowed_release(enc->nv12, err, err_size) && ok;
}
