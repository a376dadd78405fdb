/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the stream's codec layer (src/stream/encoder.c, decoder.c): round trips that
 * prove one packet per frame and one picture per packet, keyframes on demand and at an
 * interval, the VBV cap and its change without a keyframe, both input paths, HEVC, refusals
 * with words, and a decoder that reports damaged packets and recovers at the next keyframe.
 */
#include "decoder.h"
#include "encoder.h"

#include <libavutil/frame.h>
#include <libswscale/swscale.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define W 320
#define H 180

/* ---- pictures --------------------------------------------------------------------------- */

/* Smooth gradients with blocks that move a few pixels a frame: easy to predict, so a wrong
 * reference or a lost frame shows in the PSNR. */
static void fill_pattern(uint8_t *rgba, int w, int h, int t)
{
    for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
            uint8_t *p = rgba + ((size_t)y * (size_t)w + (size_t)x) * 4;
            int block = (((x + 3 * t) / 32) + ((y + t) / 32)) & 1;
            p[0] = (uint8_t)(x * 255 / w);
            p[1] = (uint8_t)(y * 255 / h);
            p[2] = (uint8_t)(block ? 200 : 60);
            p[3] = 255;
        }
    }
}

static uint32_t g_rng = 0x12345678u;

static uint32_t next_rand(void)
{
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 17;
    g_rng ^= g_rng << 5;
    return g_rng;
}

static void fill_noise(uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        p[i] = (uint8_t)next_rand();
    }
}

/* What the source looks like in YUV, converted independently of the encoder. */
static AVFrame *to_yuv(const uint8_t *rgba, int w, int h, enum AVPixelFormat fmt)
{
    AVFrame *f = av_frame_alloc();
    assert_non_null(f);
    f->format = fmt;
    f->width = w;
    f->height = h;
    assert_int_equal(av_frame_get_buffer(f, 0), 0);
    struct SwsContext *s =
        sws_getContext(w, h, AV_PIX_FMT_RGBA, w, h, fmt, SWS_BILINEAR, NULL, NULL, NULL);
    assert_non_null(s);
    const uint8_t *src[1] = {rgba};
    int stride[1] = {w * 4};
    assert_int_equal(sws_scale(s, src, stride, 0, h, f->data, f->linesize), h);
    sws_freeContext(s);
    return f;
}

/* Luma mean squared error; PSNR above 30 dB is an MSE below 255² / 10³. */
#define MSE_30DB (255.0 * 255.0 / 1000.0)

static double mse_y(const AVFrame *ref, const AVFrame *got)
{
    assert_int_equal(got->width, ref->width);
    assert_int_equal(got->height, ref->height);
    double sse = 0;
    for (int y = 0; y < ref->height; y++) {
        const uint8_t *a = ref->data[0] + (size_t)y * (size_t)ref->linesize[0];
        const uint8_t *b = got->data[0] + (size_t)y * (size_t)got->linesize[0];
        for (int x = 0; x < ref->width; x++) {
            double d = (double)a[x] - (double)b[x];
            sse += d * d;
        }
    }
    return sse / ((double)ref->width * ref->height);
}

/* ---- helpers ---------------------------------------------------------------------------- */

static struct rr_encoder *open_encoder(const char *codec, const char *name, uint32_t w, uint32_t h,
                                       uint32_t kbps, uint32_t keyint)
{
    struct rr_encoder_config cfg = {.codec = codec,
                                    .encoder = name,
                                    .width = w,
                                    .height = h,
                                    .fps = 30,
                                    .bitrate_kbps = kbps,
                                    .keyframe_interval = keyint};
    struct rr_encoder *enc = NULL;
    char err[512] = "";
    bool ok = rr_encoder_open(&cfg, &enc, err, sizeof(err));
    if (!ok) {
        fail_msg("%s", err);
    }
    assert_non_null(enc);
    return enc;
}

static struct rr_decoder *open_decoder(const char *codec)
{
    struct rr_decoder *dec = NULL;
    char err[256] = "";
    if (!rr_decoder_open(codec, &dec, err, sizeof(err))) {
        fail_msg("%s", err);
    }
    return dec;
}

static void encode_rgba(struct rr_encoder *enc, const uint8_t *rgba, int w, bool force,
                        struct rr_encoded *out)
{
    char err[256] = "";
    if (!rr_encoder_encode_rgba(enc, rgba, (size_t)w * 4, force, out, err, sizeof(err))) {
        fail_msg("%s", err);
    }
    assert_non_null(out->data);
    assert_true(out->size > 0);
}

/* Decode one packet that must give its picture at once; returns its luma MSE against the
 * source. */
static double decode_good(struct rr_decoder *dec, const uint8_t *data, size_t size,
                          const AVFrame *ref)
{
    AVFrame *got = NULL;
    char err[256] = "";
    enum rr_decode_status st = rr_decoder_decode(dec, data, size, &got, err, sizeof(err));
    if (st != RR_DECODE_FRAME) {
        fail_msg("decode status %d: %s", (int)st, err);
    }
    assert_non_null(got);
    assert_int_equal(got->format, AV_PIX_FMT_YUV420P);
    double p = mse_y(ref, got);
    av_frame_free(&got);
    return p;
}

static void decode_bad(struct rr_decoder *dec, const uint8_t *data, size_t size, const char *what)
{
    AVFrame *got = (AVFrame *)&got; /* must be cleared */
    char err[256] = "";
    enum rr_decode_status st = rr_decoder_decode(dec, data, size, &got, err, sizeof(err));
    if (st != RR_DECODE_ERROR) {
        av_frame_free(&got);
        fail_msg("%s: status %d instead of an error", what, (int)st);
    }
    assert_null(got);
    assert_true(err[0] != '\0');
    print_message("%s: %s\n", what, err);
}

/* A recorded stream: packets of the pattern, with keyframes forced where asked. */
struct clip {
    int n;
    uint8_t *data[64];
    size_t size[64];
    bool key[64];
    AVFrame *ref[64];
};

static void clip_record(struct clip *c, const char *codec, const char *name, int n,
                        const int *force, int n_force)
{
    assert_true(n <= 64);
    struct rr_encoder *enc = open_encoder(codec, name, W, H, 2000, 0);
    uint8_t *rgba = malloc((size_t)W * H * 4);
    assert_non_null(rgba);
    c->n = n;
    for (int i = 0; i < n; i++) {
        bool f = false;
        for (int k = 0; k < n_force; k++) {
            f = f || force[k] == i;
        }
        fill_pattern(rgba, W, H, i);
        struct rr_encoded out;
        encode_rgba(enc, rgba, W, f, &out);
        c->data[i] = malloc(out.size);
        assert_non_null(c->data[i]);
        memcpy(c->data[i], out.data, out.size);
        c->size[i] = out.size;
        c->key[i] = out.keyframe;
        c->ref[i] = to_yuv(rgba, W, H, AV_PIX_FMT_YUV420P);
    }
    free(rgba);
    rr_encoder_close(&enc);
    assert_null(enc);
}

static void clip_free(struct clip *c)
{
    for (int i = 0; i < c->n; i++) {
        free(c->data[i]);
        av_frame_free(&c->ref[i]);
    }
}

/* ---- encoder and decoder together ------------------------------------------------------- */

static void test_x264_round_trip(void **state)
{
    (void)state;
    struct rr_encoder *enc = open_encoder("h264", "libx264", W, H, 2000, 0);
    assert_string_equal(rr_encoder_name(enc), "libx264");
    struct rr_decoder *dec = open_decoder("h264");
    uint8_t *rgba = malloc((size_t)W * H * 4);
    assert_non_null(rgba);
    for (int i = 0; i < 30; i++) {
        fill_pattern(rgba, W, H, i);
        struct rr_encoded out;
        encode_rgba(enc, rgba, W, false, &out);
        /* Only the first frame is a keyframe: no interval, no scene cuts. */
        assert_int_equal(out.keyframe, i == 0);
        AVFrame *ref = to_yuv(rgba, W, H, AV_PIX_FMT_YUV420P);
        double p = decode_good(dec, out.data, out.size, ref);
        av_frame_free(&ref);
        if (p >= MSE_30DB) {
            fail_msg("frame %d: luma MSE %.1f (30 dB is %.1f)", i, p, MSE_30DB);
        }
    }
    free(rgba);
    rr_decoder_close(&dec);
    rr_encoder_close(&enc);
    assert_null(dec);
}

static void test_forced_keyframe(void **state)
{
    (void)state;
    static const int force[] = {10};
    struct clip c = {0};
    clip_record(&c, "h264", "libx264", 20, force, 1);
    for (int i = 0; i < c.n; i++) {
        assert_int_equal(c.key[i], i == 0 || i == 10);
    }
    /* A decoder that never saw frames 0..9 starts cleanly at the forced IDR. */
    struct rr_decoder *dec = open_decoder("h264");
    decode_bad(dec, c.data[9], c.size[9],
               "P-frame first"); /* a P-frame first: refused, no picture */
    for (int i = 10; i < c.n; i++) {
        double p = decode_good(dec, c.data[i], c.size[i], c.ref[i]);
        if (p >= MSE_30DB) {
            fail_msg("frame %d after the forced keyframe: luma MSE %.1f (30 dB is %.1f)", i, p,
                     MSE_30DB);
        }
    }
    rr_decoder_close(&dec);
    clip_free(&c);
}

static void test_keyframe_interval(void **state)
{
    (void)state;
    struct rr_encoder *enc = open_encoder("h264", "libx264", W, H, 2000, 5);
    uint8_t *rgba = malloc((size_t)W * H * 4);
    assert_non_null(rgba);
    for (int i = 0; i < 23; i++) {
        fill_pattern(rgba, W, H, i);
        struct rr_encoded out;
        encode_rgba(enc, rgba, W, false, &out);
        if (out.keyframe != (i % 5 == 0)) {
            fail_msg("frame %d: keyframe %d", i, out.keyframe);
        }
    }
    free(rgba);
    rr_encoder_close(&enc);
}

static double mean_bits(struct rr_encoder *enc, uint8_t *rgba, size_t n, int frames, bool *any_key)
{
    double bits = 0;
    for (int i = 0; i < frames; i++) {
        fill_noise(rgba, n);
        struct rr_encoded out;
        encode_rgba(enc, rgba, 640, false, &out);
        bits += (double)out.size * 8.0;
        *any_key = *any_key || out.keyframe;
    }
    return bits / frames;
}

static void test_bitrate_cap(void **state)
{
    (void)state;
    /* Noise wants far more than the cap at CRF 23: only the VBV keeps it down. */
    struct rr_encoder *enc = open_encoder("h264", "libx264", 640, 360, 4000, 0);
    size_t n = (size_t)640 * 360 * 4;
    uint8_t *rgba = malloc(n);
    assert_non_null(rgba);
    bool key = false;
    double high = mean_bits(enc, rgba, n, 30, &key);
    if (high > 1.1 * 4000e3 / 30) {
        fail_msg("mean %.0f bits per frame over a 4000 kbps cap", high);
    }
    rr_encoder_set_bitrate(enc, 1000);
    key = false;
    double low = mean_bits(enc, rgba, n, 60, &key);
    if (low > 1.1 * 1000e3 / 30) {
        fail_msg("mean %.0f bits per frame over a 1000 kbps cap", low);
    }
    print_message("mean bits per frame: %.0f at 4000 kbps, %.0f at 1000 kbps\n", high, low);
    assert_true(low < 0.5 * high);
    assert_false(key); /* the new cap took effect without a keyframe */
    free(rgba);
    rr_encoder_close(&enc);
}

static void test_nv12_input(void **state)
{
    (void)state;
    struct rr_encoder *enc = open_encoder("h264", "libx264", W, H, 2000, 0);
    struct rr_decoder *dec = open_decoder("h264");
    uint8_t *rgba = malloc((size_t)W * H * 4);
    assert_non_null(rgba);
    for (int i = 0; i < 15; i++) {
        fill_pattern(rgba, W, H, i);
        AVFrame *nv12 = to_yuv(rgba, W, H, AV_PIX_FMT_NV12);
        AVFrame *ref = to_yuv(rgba, W, H, AV_PIX_FMT_YUV420P);
        struct rr_encoded out;
        char err[256] = "";
        if (!rr_encoder_encode_nv12(enc, nv12->data[0], (size_t)nv12->linesize[0], nv12->data[1],
                                    (size_t)nv12->linesize[1], false, &out, err, sizeof(err))) {
            fail_msg("%s", err);
        }
        assert_int_equal(out.keyframe, i == 0);
        /* The planes are the caller's again: scribbling on them must not matter. */
        memset(nv12->data[0], 0, (size_t)nv12->linesize[0] * H);
        double p = decode_good(dec, out.data, out.size, ref);
        av_frame_free(&nv12);
        av_frame_free(&ref);
        if (p >= MSE_30DB) {
            fail_msg("frame %d: luma MSE %.1f (30 dB is %.1f)", i, p, MSE_30DB);
        }
    }
    free(rgba);
    rr_decoder_close(&dec);
    rr_encoder_close(&enc);
}

static void test_hevc_round_trip(void **state)
{
    (void)state;
    struct rr_encoder *enc = open_encoder("hevc", "libx265", W, H, 2000, 0);
    assert_string_equal(rr_encoder_name(enc), "libx265");
    struct rr_decoder *dec = open_decoder("hevc");
    uint8_t *rgba = malloc((size_t)W * H * 4);
    assert_non_null(rgba);
    for (int i = 0; i < 8; i++) {
        fill_pattern(rgba, W, H, i);
        AVFrame *ref = to_yuv(rgba, W, H, AV_PIX_FMT_YUV420P);
        struct rr_encoded out;
        if (i < 6) {
            encode_rgba(enc, rgba, W, false, &out);
        } else {
            /* The NV12 path deinterleaves chroma for libx265. */
            AVFrame *nv12 = to_yuv(rgba, W, H, AV_PIX_FMT_NV12);
            char err[256] = "";
            assert_true(rr_encoder_encode_nv12(enc, nv12->data[0], (size_t)nv12->linesize[0],
                                               nv12->data[1], (size_t)nv12->linesize[1], false,
                                               &out, err, sizeof(err)));
            av_frame_free(&nv12);
        }
        /* libx265 cannot change its cap in place: the frame after a change is an IDR. */
        assert_int_equal(out.keyframe, i == 0 || i == 4);
        double p = decode_good(dec, out.data, out.size, ref);
        av_frame_free(&ref);
        if (p >= MSE_30DB) {
            fail_msg("frame %d: luma MSE %.1f (30 dB is %.1f)", i, p, MSE_30DB);
        }
        if (i == 3) {
            rr_encoder_set_bitrate(enc, 1500);
        }
    }
    free(rgba);
    rr_decoder_close(&dec);
    rr_encoder_close(&enc);
}

/* ---- refusals ----------------------------------------------------------------------------- */

static void expect_open_error(const char *codec, const char *name, uint32_t w, uint32_t h,
                              uint32_t fps, uint32_t kbps, const char *needle)
{
    struct rr_encoder_config cfg = {
        .codec = codec, .encoder = name, .width = w, .height = h, .fps = fps, .bitrate_kbps = kbps};
    struct rr_encoder *enc = (struct rr_encoder *)&cfg; /* must be cleared */
    char err[512] = "";
    assert_false(rr_encoder_open(&cfg, &enc, err, sizeof(err)));
    assert_null(enc);
    if (strstr(err, needle) == NULL) {
        fail_msg("expected \"%s\" in \"%s\"", needle, err);
    }
}

static void test_open_errors(void **state)
{
    (void)state;
    expect_open_error("h264", "x264_fast", W, H, 30, 2000, "x264_fast");
    expect_open_error("hevc", "libx264", W, H, 30, 2000, "libx264");
    expect_open_error("hevc", "libx264", W, H, 30, 2000, "hevc");
    expect_open_error("h264", "libx265", W, H, 30, 2000, "libx265");
    expect_open_error("vp9", NULL, W, H, 30, 2000, "vp9");
    expect_open_error("h264", "libx264", 321, H, 30, 2000, "width 321");
    expect_open_error("h264", "libx264", W, 181, 30, 2000, "height 181");
    expect_open_error("h264", "libx264", 8194, H, 30, 2000, "width 8194");
    expect_open_error("h264", "libx264", 14, H, 30, 2000, "width 14");
    expect_open_error("h264", "libx264", W, H, 0, 2000, "frame rate 0");
    expect_open_error("h264", "libx264", W, H, 241, 2000, "frame rate 241");
    expect_open_error("h264", "libx264", W, H, 30, 99, "bitrate 99");
    expect_open_error(NULL, NULL, W, H, 30, 2000, "codec");
    /* Per-frame refusals name the problem too. */
    struct rr_encoder *enc = open_encoder("h264", "libx264", W, H, 2000, 0);
    uint8_t px[16] = {0};
    struct rr_encoded out;
    char err[256] = "";
    assert_false(rr_encoder_encode_rgba(enc, px, W * 4 - 1, false, &out, err, sizeof(err)));
    assert_non_null(strstr(err, "stride"));
    err[0] = '\0';
    assert_false(rr_encoder_encode_nv12(enc, px, W, NULL, W, false, &out, err, sizeof(err)));
    assert_true(err[0] != '\0');
    rr_encoder_close(&enc);
    rr_encoder_close(&enc); /* closing twice is harmless */
}

static void test_nvenc(void **state)
{
    (void)state;
    struct rr_encoder_config cfg = {.codec = "h264",
                                    .encoder = "h264_nvenc",
                                    .width = W,
                                    .height = H,
                                    .fps = 30,
                                    .bitrate_kbps = 2000};
    struct rr_encoder *enc = NULL;
    char err[512] = "";
    if (!rr_encoder_open(&cfg, &enc, err, sizeof(err))) {
        /* No GPU here: the message says which encoder failed and why. */
        print_message("h264_nvenc: %s\n", err);
        assert_non_null(strstr(err, "h264_nvenc could not open"));
        assert_null(enc);
        return;
    }
    uint8_t *rgba = malloc((size_t)W * H * 4);
    assert_non_null(rgba);
    fill_pattern(rgba, W, H, 0);
    struct rr_encoded out;
    encode_rgba(enc, rgba, W, false, &out);
    assert_true(out.keyframe);
    free(rgba);
    rr_encoder_close(&enc);
}

static void test_auto(void **state)
{
    (void)state;
    /* "auto" always ends with a working encoder for the codec, NVENC or software. */
    struct rr_encoder *enc = open_encoder("h264", NULL, W, H, 2000, 0);
    const char *name = rr_encoder_name(enc);
    assert_true(strcmp(name, "h264_nvenc") == 0 || strcmp(name, "libx264") == 0);
    rr_encoder_close(&enc);
    enc = open_encoder("hevc", "auto", W, H, 2000, 0);
    name = rr_encoder_name(enc);
    assert_true(strcmp(name, "hevc_nvenc") == 0 || strcmp(name, "libx265") == 0);
    rr_encoder_close(&enc);
}

/* ---- decoder faults ----------------------------------------------------------------------- */

static void expect_recovery(struct rr_decoder *dec, const struct clip *c, int key)
{
    assert_true(c->key[key]);
    for (int i = key; i < key + 2; i++) {
        double p = decode_good(dec, c->data[i], c->size[i], c->ref[i]);
        if (p >= MSE_30DB) {
            fail_msg("frame %d after recovery: luma MSE %.1f (30 dB is %.1f)", i, p, MSE_30DB);
        }
    }
}

static void test_decoder_faults(void **state)
{
    (void)state;
    /* Keyframes at 0, 5, 10, …: each fault is fed to a decoder in a good state, and the
     * next keyframe must bring it back. */
    static const int force[] = {5, 10, 15, 20, 25};
    struct clip c = {0};
    clip_record(&c, "h264", "libx264", 30, force, 5);
    struct rr_decoder *dec = open_decoder("h264");
    expect_recovery(dec, &c, 0);

    /* Flipped bytes in the middle of a P-frame. */
    uint8_t *bad = malloc(c.size[2]);
    assert_non_null(bad);
    memcpy(bad, c.data[2], c.size[2]);
    for (size_t i = c.size[2] / 2; i < c.size[2] / 2 + 16 && i < c.size[2]; i++) {
        bad[i] ^= 0xA5;
    }
    decode_bad(dec, bad, c.size[2], "flipped bytes");
    decode_bad(dec, c.data[3], c.size[3],
               "P-frame after"); /* the next P-frame has no reference now */
    free(bad);
    expect_recovery(dec, &c, 5);

    /* The first half of a P-frame. */
    decode_bad(dec, c.data[7], c.size[7] / 2, "truncated");
    expect_recovery(dec, &c, 10);

    /* Garbage. */
    uint8_t junk[4096];
    fill_noise(junk, sizeof(junk));
    decode_bad(dec, junk, sizeof(junk), "garbage");
    expect_recovery(dec, &c, 15);

    /* Nothing at all. */
    decode_bad(dec, c.data[17], 0, "empty");
    decode_bad(dec, NULL, 0, "NULL");
    expect_recovery(dec, &c, 20);

    /* Over the 16 MiB bound: refused on its size before the data is read. */
    decode_bad(dec, junk, 16u * 1024 * 1024 + 1, "over 16 MiB");
    expect_recovery(dec, &c, 25);

    rr_decoder_close(&dec);
    clip_free(&c);
}

static void test_hevc_decoder_faults(void **state)
{
    (void)state;
    /* HEVC slice data is CABAC-coded and carries no check of its own, so flipped bytes often
     * decode silently; a cut packet and garbage are caught. */
    static const int force[] = {4, 8};
    struct clip c = {0};
    clip_record(&c, "hevc", "libx265", 10, force, 2);
    struct rr_decoder *dec = open_decoder("hevc");
    expect_recovery(dec, &c, 0);
    decode_bad(dec, c.data[2], c.size[2] / 2, "hevc truncated");
    decode_bad(dec, c.data[3], c.size[3], "hevc P-frame after");
    expect_recovery(dec, &c, 4);
    uint8_t junk[2048];
    fill_noise(junk, sizeof(junk));
    decode_bad(dec, junk, sizeof(junk), "hevc garbage");
    expect_recovery(dec, &c, 8);
    rr_decoder_close(&dec);
    clip_free(&c);
}

static void test_decoder_open_errors(void **state)
{
    (void)state;
    struct rr_decoder *dec = NULL;
    char err[256] = "";
    assert_false(rr_decoder_open("vp8", &dec, err, sizeof(err)));
    assert_null(dec);
    assert_non_null(strstr(err, "vp8"));
    rr_decoder_close(&dec);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_x264_round_trip),
        cmocka_unit_test(test_forced_keyframe),
        cmocka_unit_test(test_keyframe_interval),
        cmocka_unit_test(test_bitrate_cap),
        cmocka_unit_test(test_nv12_input),
        cmocka_unit_test(test_hevc_round_trip),
        cmocka_unit_test(test_open_errors),
        cmocka_unit_test(test_nvenc),
        cmocka_unit_test(test_auto),
        cmocka_unit_test(test_decoder_faults),
        cmocka_unit_test(test_hevc_decoder_faults),
        cmocka_unit_test(test_decoder_open_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
