/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the stream's wire format (src/stream/wire.c). Every message type must round
 * trip field for field, keep its exact size, and be refused when a field breaks a rule the
 * rest of the library relies on. The byte order is checked against messages written out by
 * hand, byte by byte, so the format peers depend on cannot change by accident together with
 * its encoder and decoder. Decoders are handed heap copies of exactly the message's size, so
 * ASan (CI) reports any read past the end.
 */
#include "wire.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- helpers -------------------------------------------------------------------------------- */

/* The 29 floats of a pose in the order the wire carries them (head, left view, right view:
 * position then orientation; left fov, right fov: left, right, up, down). Spelled out here
 * instead of borrowed from wire.c so that a changed order in the code fails the tests. */
static void pose_to_array(const struct rr_stream_pose *p, float out[29])
{
    const struct rr_stream_posef *poses[3] = {&p->head, &p->view[0], &p->view[1]};
    size_t n = 0;
    for (int i = 0; i < 3; i++) {
        for (int j = 0; j < 3; j++) {
            out[n++] = poses[i]->position[j];
        }
        for (int j = 0; j < 4; j++) {
            out[n++] = poses[i]->orientation[j];
        }
    }
    for (int i = 0; i < 2; i++) {
        out[n++] = p->fov[i].angle_left;
        out[n++] = p->fov[i].angle_right;
        out[n++] = p->fov[i].angle_up;
        out[n++] = p->fov[i].angle_down;
    }
}

static void pose_from_array(const float in[29], struct rr_stream_pose *p)
{
    struct rr_stream_posef *poses[3] = {&p->head, &p->view[0], &p->view[1]};
    size_t n = 0;
    for (int i = 0; i < 3; i++) {
        for (int j = 0; j < 3; j++) {
            poses[i]->position[j] = in[n++];
        }
        for (int j = 0; j < 4; j++) {
            poses[i]->orientation[j] = in[n++];
        }
    }
    for (int i = 0; i < 2; i++) {
        p->fov[i].angle_left = in[n++];
        p->fov[i].angle_right = in[n++];
        p->fov[i].angle_up = in[n++];
        p->fov[i].angle_down = in[n++];
    }
}

/* 29 distinct values, each exactly representable (so the hand-written bytes below are exact),
 * with the three quaternions within the decoder's tolerance of unit length. */
static const float k_pose_floats[29] = {
    1.0f,   2.0f,    3.0f,               /* head position */
    0.5f,   -0.5f,   0.25f,   0.75f,     /* head orientation, |q|² = 1.125 */
    -1.0f,  -2.0f,   -3.0f,              /* left view position */
    0.125f, 0.375f,  -0.625f, 0.625f,    /* left orientation, |q|² = 0.9375 */
    4.0f,   5.0f,    6.0f,               /* right view position */
    0.0f,   -0.125f, -0.875f, 0.4375f,   /* right orientation, |q|² ≈ 0.973 */
    -0.75f, 0.875f,  1.25f,   -1.25f,    /* left fov */
    -1.5f,  1.75f,   0.0625f, -0.0625f}; /* right fov */

/* Wire offsets of the floats and of the first quaternion component of each pose. */
#define POSE_FLOAT_OFFSET(i) (25u + 4u * (unsigned)(i))
static const int k_quat_index[3] = {3, 10, 17};

static struct rr_stream_pose sample_pose(void)
{
    struct rr_stream_pose p;
    memset(&p, 0, sizeof(p));
    p.pose_id = 0x0102030405060708u;
    p.sample_time_us = 0x1112131415161718u;
    p.predicted_display_us = 0x2122232425262728u;
    pose_from_array(k_pose_floats, &p);
    return p;
}

/* Field by field, floats by bit pattern (so -0.0 and 0.0 differ). */
static void assert_pose_equal(const struct rr_stream_pose *a, const struct rr_stream_pose *b)
{
    assert_int_equal(a->pose_id, b->pose_id);
    assert_int_equal(a->sample_time_us, b->sample_time_us);
    assert_int_equal(a->predicted_display_us, b->predicted_display_us);
    float fa[29], fb[29];
    pose_to_array(a, fa);
    pose_to_array(b, fb);
    assert_memory_equal(fa, fb, sizeof(fa));
}

static void put_be32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) {
        p[i] = (uint8_t)(v >> (24 - 8 * i));
    }
}

static void put_be_float(uint8_t *p, float f)
{
    uint32_t v;
    memcpy(&v, &f, sizeof(v));
    put_be32(p, v);
}

/* A heap copy of exactly @p n bytes (NULL for 0), so that ASan sees a read past the end. */
static uint8_t *exact_copy(const uint8_t *msg, size_t n)
{
    if (n == 0) {
        return NULL;
    }
    uint8_t *p = malloc(n);
    assert_non_null(p);
    memcpy(p, msg, n);
    return p;
}

static bool decode_pose(const uint8_t *msg, size_t n, struct rr_stream_pose *out)
{
    uint8_t *p = exact_copy(msg, n);
    bool ok = rr_wire_decode_pose(p, n, out);
    free(p);
    return ok;
}

/* The bitstream comes back as an offset into @p msg, the copy being freed here. */
static bool decode_video(const uint8_t *msg, size_t n, struct rr_wire_video_header *out,
                         size_t *bitstream_offset, size_t *bitstream_size)
{
    uint8_t *p = exact_copy(msg, n);
    const uint8_t *bs = NULL;
    size_t bs_size = 0;
    bool ok = rr_wire_decode_video(p, n, out, &bs, &bs_size);
    if (ok) {
        assert_true(bs >= p && bs <= p + n);
        assert_true(bs_size <= n && (size_t)(bs - p) + bs_size == n);
        if (bitstream_offset != NULL) {
            *bitstream_offset = (size_t)(bs - p);
        }
        if (bitstream_size != NULL) {
            *bitstream_size = bs_size;
        }
    }
    free(p);
    return ok;
}

static bool decode_stats(const uint8_t *msg, size_t n, struct rr_wire_stats *out)
{
    uint8_t *p = exact_copy(msg, n);
    bool ok = rr_wire_decode_stats(p, n, out);
    free(p);
    return ok;
}

static struct rr_wire_video_header sample_video_header(void)
{
    struct rr_wire_video_header h;
    memset(&h, 0, sizeof(h));
    h.frame_id = 0x0102030405060708u;
    h.pose_id = 0x1112131415161718u;
    h.flags = RR_WIRE_FLAG_KEYFRAME;
    h.codec = RR_WIRE_CODEC_HEVC;
    h.width = 2560;  /* 0x0a00 */
    h.height = 1440; /* 0x05a0 */
    h.pose_sampled_us = 0x2122232425262728u;
    h.predicted_display_us = 0x3132333435363738u;
    h.pose_received_us = 0x4142434445464748u;
    h.render_start_us = 0x5152535455565758u;
    h.render_end_us = 0x6162636465666768u;
    h.encode_start_us = 0x7172737475767778u;
    h.encode_end_us = 0x8182838485868788u;
    h.send_us = 0x9192939495969798u;
    return h;
}

static void assert_video_header_equal(const struct rr_wire_video_header *a,
                                      const struct rr_wire_video_header *b)
{
    assert_int_equal(a->frame_id, b->frame_id);
    assert_int_equal(a->pose_id, b->pose_id);
    assert_int_equal(a->flags, b->flags);
    assert_int_equal(a->codec, b->codec);
    assert_int_equal(a->width, b->width);
    assert_int_equal(a->height, b->height);
    assert_int_equal(a->pose_sampled_us, b->pose_sampled_us);
    assert_int_equal(a->predicted_display_us, b->predicted_display_us);
    assert_int_equal(a->pose_received_us, b->pose_received_us);
    assert_int_equal(a->render_start_us, b->render_start_us);
    assert_int_equal(a->render_end_us, b->render_end_us);
    assert_int_equal(a->encode_start_us, b->encode_start_us);
    assert_int_equal(a->encode_end_us, b->encode_end_us);
    assert_int_equal(a->send_us, b->send_us);
}

static const uint8_t k_bitstream[] = {0x00, 0x00, 0x00, 0x01, 0x40, 0x01, 0x0c};

/* A whole video frame message: header of @p h, then k_bitstream. Returns its size. */
static size_t video_message(const struct rr_wire_video_header *h,
                            uint8_t out[RR_WIRE_VIDEO_HEADER_SIZE + sizeof(k_bitstream)])
{
    rr_wire_encode_video_header(h, out);
    memcpy(out + RR_WIRE_VIDEO_HEADER_SIZE, k_bitstream, sizeof(k_bitstream));
    return RR_WIRE_VIDEO_HEADER_SIZE + sizeof(k_bitstream);
}

static struct rr_stream_frame_timing sample_timing(void)
{
    struct rr_stream_frame_timing t = {
        .pose_sampled_us = 0x1011121314151617u,
        .pose_received_us = 0x2021222324252627u,
        .render_start_us = 0x3031323334353637u,
        .render_end_us = 0x4041424344454647u,
        .encode_start_us = 0x5051525354555657u,
        .encode_end_us = 0x6061626364656667u,
        .send_us = 0x7071727374757677u,
        .receive_us = 0x8081828384858687u,
        .decode_end_us = 0x9091929394959697u,
        .present_us = 0xa0a1a2a3a4a5a6a7u,
        .predicted_display_us = 0xb0b1b2b3b4b5b6b7u,
    };
    return t;
}

/* One message of each statistics type, every field distinct; sizes from the format. */
struct stats_case {
    struct rr_wire_stats m;
    size_t size;
};

static size_t stats_cases(struct stats_case out[5])
{
    memset(out, 0, 5 * sizeof(*out));
    out[0].m.type = RR_WIRE_SYNC_REQUEST;
    out[0].m.u.sync.t0 = 0x0102030405060708u;
    out[0].size = 1 + 8;
    out[1].m.type = RR_WIRE_SYNC_RESPONSE;
    out[1].m.u.sync.t0 = 0x0102030405060708u;
    out[1].m.u.sync.t1 = 0x1112131415161718u;
    out[1].m.u.sync.t2 = 0xf1f2f3f4f5f6f7f8u;
    out[1].size = 1 + 3 * 8;
    out[2].m.type = RR_WIRE_CLOCK;
    out[2].m.u.clock.offset_us = -123456789012345;
    out[2].m.u.clock.rtt_us = 0xfedcba98u;
    out[2].size = 1 + 8 + 4;
    out[3].m.type = RR_WIRE_KEYFRAME_REQUEST;
    out[3].m.u.keyframe.last_frame_id = 0x8000000000000001u;
    out[3].size = 1 + 8;
    out[4].m.type = RR_WIRE_FRAME_REPORT;
    out[4].m.u.report.frame_id = 0x0102030405060708u;
    out[4].m.u.report.timing = sample_timing();
    out[4].size = 1 + 8 + 11 * 8;
    return 5;
}

static void assert_timing_equal(const struct rr_stream_frame_timing *a,
                                const struct rr_stream_frame_timing *b)
{
    assert_int_equal(a->pose_sampled_us, b->pose_sampled_us);
    assert_int_equal(a->pose_received_us, b->pose_received_us);
    assert_int_equal(a->render_start_us, b->render_start_us);
    assert_int_equal(a->render_end_us, b->render_end_us);
    assert_int_equal(a->encode_start_us, b->encode_start_us);
    assert_int_equal(a->encode_end_us, b->encode_end_us);
    assert_int_equal(a->send_us, b->send_us);
    assert_int_equal(a->receive_us, b->receive_us);
    assert_int_equal(a->decode_end_us, b->decode_end_us);
    assert_int_equal(a->present_us, b->present_us);
    assert_int_equal(a->predicted_display_us, b->predicted_display_us);
}

static void assert_stats_equal(const struct rr_wire_stats *a, const struct rr_wire_stats *b)
{
    assert_int_equal(a->type, b->type);
    switch (a->type) {
    case RR_WIRE_SYNC_REQUEST:
        assert_int_equal(a->u.sync.t0, b->u.sync.t0);
        break;
    case RR_WIRE_SYNC_RESPONSE:
        assert_int_equal(a->u.sync.t0, b->u.sync.t0);
        assert_int_equal(a->u.sync.t1, b->u.sync.t1);
        assert_int_equal(a->u.sync.t2, b->u.sync.t2);
        break;
    case RR_WIRE_CLOCK:
        assert_true(a->u.clock.offset_us == b->u.clock.offset_us);
        assert_int_equal(a->u.clock.rtt_us, b->u.clock.rtt_us);
        break;
    case RR_WIRE_KEYFRAME_REQUEST:
        assert_int_equal(a->u.keyframe.last_frame_id, b->u.keyframe.last_frame_id);
        break;
    case RR_WIRE_FRAME_REPORT:
        assert_int_equal(a->u.report.frame_id, b->u.report.frame_id);
        assert_timing_equal(&a->u.report.timing, &b->u.report.timing);
        break;
    default:
        fail_msg("unknown stats type 0x%02x", a->type);
    }
}

/* ---- round trips ------------------------------------------------------------------------------
 */

static void test_sizes(void **state)
{
    (void)state;
    /* The constants are part of the format: a change here is a protocol change. */
    assert_int_equal(RR_WIRE_POSE_SIZE, 141);
    assert_int_equal(RR_WIRE_VIDEO_HEADER_SIZE, 87);
    assert_int_equal(RR_WIRE_STATS_MAX_SIZE, 97);
}

static void test_pose_round_trip(void **state)
{
    (void)state;
    struct rr_stream_pose in = sample_pose();
    float f[29];
    pose_to_array(&in, f);
    for (int i = 0; i < 29; i++) {
        for (int j = 0; j < i; j++) {
            assert_true(f[i] != f[j]);
        }
    }
    uint8_t buf[RR_WIRE_POSE_SIZE];
    assert_int_equal(rr_wire_encode_pose(&in, buf), RR_WIRE_POSE_SIZE);
    struct rr_stream_pose out;
    memset(&out, 0xa5, sizeof(out));
    assert_true(decode_pose(buf, sizeof(buf), &out));
    assert_pose_equal(&in, &out);

    /* Extremes that must survive bit for bit: all-ones ids and times, -0.0, the 1e5 bound,
     * a subnormal, and quaternions just inside the tolerance. */
    in.pose_id = UINT64_MAX;
    in.sample_time_us = 0;
    in.predicted_display_us = UINT64_MAX;
    in.head.position[0] = -0.0f;
    in.head.position[1] = 1e5f;
    in.head.position[2] = -1e5f;
    in.fov[1].angle_down = 1e-40f;                     /* subnormal */
    const float small[4] = {0.0f, 0.0f, 0.0f, 0.906f}; /* |q|² ≈ 0.8208 */
    const float large[4] = {0.0f, 0.0f, 0.0f, 1.099f}; /* |q|² ≈ 1.2078 */
    memcpy(in.view[0].orientation, small, sizeof(small));
    memcpy(in.view[1].orientation, large, sizeof(large));
    assert_int_equal(rr_wire_encode_pose(&in, buf), RR_WIRE_POSE_SIZE);
    assert_true(decode_pose(buf, sizeof(buf), &out));
    assert_pose_equal(&in, &out);
    assert_true(signbit(out.head.position[0]));
}

static void test_video_round_trip(void **state)
{
    (void)state;
    struct rr_wire_video_header in = sample_video_header();
    uint8_t buf[RR_WIRE_VIDEO_HEADER_SIZE + sizeof(k_bitstream)];
    size_t n = video_message(&in, buf);
    struct rr_wire_video_header out;
    size_t off = 0, bs_size = 0;
    memset(&out, 0xa5, sizeof(out));
    assert_true(decode_video(buf, n, &out, &off, &bs_size));
    assert_video_header_equal(&in, &out);
    assert_int_equal(off, RR_WIRE_VIDEO_HEADER_SIZE);
    assert_int_equal(bs_size, sizeof(k_bitstream));
    assert_memory_equal(buf + off, k_bitstream, sizeof(k_bitstream));

    /* The other legal values of each checked field: no flags, H.264, the smallest and
     * largest sizes, pose 0 (none) and all-ones times. */
    in.flags = 0;
    in.codec = RR_WIRE_CODEC_H264;
    in.width = 2;
    in.height = 8192;
    in.pose_id = 0;
    in.send_us = UINT64_MAX;
    n = video_message(&in, buf);
    assert_true(decode_video(buf, n, &out, NULL, NULL));
    assert_video_header_equal(&in, &out);
    in.width = 8192;
    in.height = 2;
    in.frame_id = UINT64_MAX;
    n = video_message(&in, buf);
    assert_true(decode_video(buf, n, &out, NULL, NULL));
    assert_video_header_equal(&in, &out);

    /* A one-byte bitstream is the smallest accepted. */
    assert_true(decode_video(buf, RR_WIRE_VIDEO_HEADER_SIZE + 1, &out, &off, &bs_size));
    assert_int_equal(off, RR_WIRE_VIDEO_HEADER_SIZE);
    assert_int_equal(bs_size, 1);
}

static void test_video_large_bitstream(void **state)
{
    (void)state;
    /* A keyframe of a few hundred KiB: the bitstream is whatever follows the header. */
    size_t n = RR_WIRE_VIDEO_HEADER_SIZE + 300000;
    uint8_t *buf = malloc(n);
    assert_non_null(buf);
    struct rr_wire_video_header in = sample_video_header();
    rr_wire_encode_video_header(&in, buf);
    for (size_t i = RR_WIRE_VIDEO_HEADER_SIZE; i < n; i++) {
        buf[i] = (uint8_t)(i * 7);
    }
    struct rr_wire_video_header out;
    const uint8_t *bs = NULL;
    size_t bs_size = 0;
    assert_true(rr_wire_decode_video(buf, n, &out, &bs, &bs_size));
    assert_ptr_equal(bs, buf + RR_WIRE_VIDEO_HEADER_SIZE);
    assert_int_equal(bs_size, 300000);
    assert_video_header_equal(&in, &out);
    free(buf);
}

static void test_stats_round_trip(void **state)
{
    (void)state;
    struct stats_case c[5];
    size_t count = stats_cases(c);
    for (size_t i = 0; i < count; i++) {
        uint8_t buf[RR_WIRE_STATS_MAX_SIZE];
        assert_int_equal(rr_wire_encode_stats(&c[i].m, buf), c[i].size);
        assert_int_equal(buf[0], c[i].m.type);
        struct rr_wire_stats out;
        memset(&out, 0xa5, sizeof(out));
        assert_true(decode_stats(buf, c[i].size, &out));
        assert_stats_equal(&c[i].m, &out);
    }
}

static void test_stats_clock_offsets(void **state)
{
    (void)state;
    /* The offset is signed (remote − player): either clock may be ahead. */
    const int64_t offsets[] = {0, 1, -1, -1000, 1000, INT64_MIN, INT64_MAX, -123456789};
    const uint32_t rtts[] = {0, 1, UINT32_MAX, 0x80000000u};
    for (size_t i = 0; i < sizeof(offsets) / sizeof(offsets[0]); i++) {
        for (size_t j = 0; j < sizeof(rtts) / sizeof(rtts[0]); j++) {
            struct rr_wire_stats m;
            memset(&m, 0, sizeof(m));
            m.type = RR_WIRE_CLOCK;
            m.u.clock.offset_us = offsets[i];
            m.u.clock.rtt_us = rtts[j];
            uint8_t buf[RR_WIRE_STATS_MAX_SIZE];
            assert_int_equal(rr_wire_encode_stats(&m, buf), 13);
            struct rr_wire_stats out;
            assert_true(decode_stats(buf, 13, &out));
            assert_int_equal(out.type, RR_WIRE_CLOCK);
            assert_true(out.u.clock.offset_us == offsets[i]);
            assert_int_equal(out.u.clock.rtt_us, rtts[j]);
        }
    }
}

static void test_stats_encode_unknown_type(void **state)
{
    (void)state;
    struct rr_wire_stats m;
    memset(&m, 0, sizeof(m));
    uint8_t buf[RR_WIRE_STATS_MAX_SIZE];
    const uint8_t types[] = {0x00, RR_WIRE_POSE, RR_WIRE_VIDEO_FRAME, 0x1f, 0x25, 0xff};
    for (size_t i = 0; i < sizeof(types); i++) {
        m.type = types[i];
        assert_int_equal(rr_wire_encode_stats(&m, buf), 0);
    }
}

/* ---- exact sizes and type bytes ---------------------------------------------------------------
 */

static void test_pose_size_rules(void **state)
{
    (void)state;
    struct rr_stream_pose in = sample_pose(), out;
    uint8_t buf[RR_WIRE_POSE_SIZE + 1];
    rr_wire_encode_pose(&in, buf);
    buf[RR_WIRE_POSE_SIZE] = 0;
    assert_true(decode_pose(buf, RR_WIRE_POSE_SIZE, &out));
    /* Every prefix, and one byte more. */
    for (size_t n = 0; n < RR_WIRE_POSE_SIZE; n++) {
        assert_false(decode_pose(buf, n, &out));
    }
    assert_false(decode_pose(buf, RR_WIRE_POSE_SIZE + 1, &out));
    assert_false(rr_wire_decode_pose(NULL, 0, &out));
}

static void test_video_size_rules(void **state)
{
    (void)state;
    struct rr_wire_video_header in = sample_video_header(), out;
    uint8_t buf[RR_WIRE_VIDEO_HEADER_SIZE + sizeof(k_bitstream)];
    size_t n = video_message(&in, buf);
    /* A header alone (an empty frame), and everything shorter, is refused. */
    for (size_t k = 0; k <= RR_WIRE_VIDEO_HEADER_SIZE; k++) {
        assert_false(decode_video(buf, k, &out, NULL, NULL));
    }
    for (size_t k = RR_WIRE_VIDEO_HEADER_SIZE + 1; k <= n; k++) {
        size_t bs_size = 0;
        assert_true(decode_video(buf, k, &out, NULL, &bs_size));
        assert_int_equal(bs_size, k - RR_WIRE_VIDEO_HEADER_SIZE);
    }
    const uint8_t *bs = NULL;
    size_t bs_size = 0;
    assert_false(rr_wire_decode_video(NULL, 0, &out, &bs, &bs_size));
}

static void test_stats_size_rules(void **state)
{
    (void)state;
    struct stats_case c[5];
    size_t count = stats_cases(c);
    for (size_t i = 0; i < count; i++) {
        uint8_t buf[RR_WIRE_STATS_MAX_SIZE + 1];
        memset(buf, 0, sizeof(buf));
        rr_wire_encode_stats(&c[i].m, buf);
        struct rr_wire_stats out;
        for (size_t n = 0; n <= sizeof(buf); n++) {
            assert_true(decode_stats(buf, n, &out) == (n == c[i].size));
        }
    }
    struct rr_wire_stats out;
    assert_false(rr_wire_decode_stats(NULL, 0, &out));
}

static void test_type_bytes(void **state)
{
    (void)state;
    /* For every type byte and every size up to a little past the largest message, exactly
     * the documented (type, size) pairs decode, each with its own decoder only. */
    uint8_t buf[RR_WIRE_POSE_SIZE + 4];
    struct rr_stream_pose pose = sample_pose();
    struct rr_wire_video_header vh = sample_video_header();
    for (unsigned t = 0; t < 256; t++) {
        for (size_t n = 0; n <= sizeof(buf); n++) {
            memset(buf, 0, sizeof(buf));
            /* Valid bodies (stats bodies have no rules), so only the type and size decide. */
            if (t == RR_WIRE_POSE) {
                rr_wire_encode_pose(&pose, buf);
            } else if (t == RR_WIRE_VIDEO_FRAME) {
                rr_wire_encode_video_header(&vh, buf);
            }
            buf[0] = (uint8_t)t;
            struct rr_stream_pose po;
            struct rr_wire_video_header vo;
            struct rr_wire_stats so;
            bool want_pose = t == RR_WIRE_POSE && n == RR_WIRE_POSE_SIZE;
            bool want_video = t == RR_WIRE_VIDEO_FRAME && n > RR_WIRE_VIDEO_HEADER_SIZE;
            bool want_stats =
                (t == RR_WIRE_SYNC_REQUEST && n == 9) || (t == RR_WIRE_SYNC_RESPONSE && n == 25) ||
                (t == RR_WIRE_CLOCK && n == 13) || (t == RR_WIRE_KEYFRAME_REQUEST && n == 9) ||
                (t == RR_WIRE_FRAME_REPORT && n == 97);
            if (decode_pose(buf, n, &po) != want_pose ||
                decode_video(buf, n, &vo, NULL, NULL) != want_video ||
                decode_stats(buf, n, &so) != want_stats) {
                fail_msg("type 0x%02x size %zu: wrong verdict", t, n);
            }
        }
    }
}

/* ---- pose validation --------------------------------------------------------------------------
 */

static void test_pose_rejects_bad_floats(void **state)
{
    (void)state;
    struct rr_stream_pose in = sample_pose(), out;
    uint8_t good[RR_WIRE_POSE_SIZE];
    rr_wire_encode_pose(&in, good);
    const float bad[] = {NAN, -NAN, INFINITY, -INFINITY, 1.00001e5f, -1.00001e5f, 1e30f, -3e38f};
    for (int i = 0; i < 29; i++) {
        for (size_t j = 0; j < sizeof(bad) / sizeof(bad[0]); j++) {
            uint8_t buf[RR_WIRE_POSE_SIZE];
            memcpy(buf, good, sizeof(buf));
            put_be_float(buf + POSE_FLOAT_OFFSET(i), bad[j]);
            if (decode_pose(buf, sizeof(buf), &out)) {
                fail_msg("float %d = %g accepted", i, (double)bad[j]);
            }
        }
        /* Signalling NaN and a NaN with payload: any exponent of all ones is refused. */
        const uint32_t bits[] = {0x7f800001u, 0xffc00001u, 0x7fffffffu};
        for (size_t j = 0; j < sizeof(bits) / sizeof(bits[0]); j++) {
            uint8_t buf[RR_WIRE_POSE_SIZE];
            memcpy(buf, good, sizeof(buf));
            put_be32(buf + POSE_FLOAT_OFFSET(i), bits[j]);
            assert_false(decode_pose(buf, sizeof(buf), &out));
        }
    }
    /* The bound itself is accepted wherever a quaternion does not constrain the value. */
    for (int i = 0; i < 29; i++) {
        bool in_quat = false;
        for (int q = 0; q < 3; q++) {
            in_quat |= i >= k_quat_index[q] && i < k_quat_index[q] + 4;
        }
        if (in_quat) {
            continue;
        }
        uint8_t buf[RR_WIRE_POSE_SIZE];
        memcpy(buf, good, sizeof(buf));
        put_be_float(buf + POSE_FLOAT_OFFSET(i), -1e5f);
        assert_true(decode_pose(buf, sizeof(buf), &out));
    }
}

static void test_pose_rejects_zero_id(void **state)
{
    (void)state;
    struct rr_stream_pose in = sample_pose(), out;
    in.pose_id = 0;
    uint8_t buf[RR_WIRE_POSE_SIZE];
    rr_wire_encode_pose(&in, buf);
    assert_false(decode_pose(buf, sizeof(buf), &out));
    in.pose_id = 1;
    rr_wire_encode_pose(&in, buf);
    assert_true(decode_pose(buf, sizeof(buf), &out));
    assert_int_equal(out.pose_id, 1);
}

static void test_pose_rejects_non_unit_quaternions(void **state)
{
    (void)state;
    /* |q|² must lie in (0.81, 1.21), i.e. |q| within 10 % of 1. */
    const float bad[][4] = {
        {0.0f, 0.0f, 0.0f, 0.0f},       {0.0f, 0.0f, 0.0f, 0.89f}, /* |q|² 0.7921 */
        {0.0f, 0.0f, 0.0f, -1.11f},                                /* |q|² 1.2321 */
        {0.0f, 0.0f, 0.0f, 0.9f}, /* |q| = 0.9 and 1.1 exactly: refused */
        {0.0f, 0.0f, 0.0f, 1.1f},       {1.0f, 1.0f, 1.0f, 1.0f},
        {0.5f, 0.5f, 0.5f, 0.1f}, /* |q|² 0.76 */
        {100.0f, 0.0f, 0.0f, 0.0f},     {1e5f, 1e5f, 1e5f, 1e5f},
        {0.001f, 0.001f, 0.001f, 0.0f},
    };
    struct rr_stream_pose in = sample_pose(), out;
    uint8_t good[RR_WIRE_POSE_SIZE];
    rr_wire_encode_pose(&in, good);
    for (int q = 0; q < 3; q++) {
        for (size_t j = 0; j < sizeof(bad) / sizeof(bad[0]); j++) {
            float len2 = 0.0f;
            for (int k = 0; k < 4; k++) {
                len2 += bad[j][k] * bad[j][k];
            }
            assert_false(len2 > 0.81f && len2 < 1.21f); /* the table itself is right */
            uint8_t buf[RR_WIRE_POSE_SIZE];
            memcpy(buf, good, sizeof(buf));
            for (int k = 0; k < 4; k++) {
                put_be_float(buf + POSE_FLOAT_OFFSET(k_quat_index[q] + k), bad[j][k]);
            }
            if (decode_pose(buf, sizeof(buf), &out)) {
                fail_msg("quaternion %d = row %zu accepted", q, j);
            }
        }
        /* Each component alone carries the length: a unit vector on every axis, both signs. */
        for (int k = 0; k < 4; k++) {
            for (int s = -1; s <= 1; s += 2) {
                uint8_t buf[RR_WIRE_POSE_SIZE];
                memcpy(buf, good, sizeof(buf));
                for (int m = 0; m < 4; m++) {
                    put_be_float(buf + POSE_FLOAT_OFFSET(k_quat_index[q] + m),
                                 m == k ? (float)s : 0.0f);
                }
                assert_true(decode_pose(buf, sizeof(buf), &out));
                put_be_float(buf + POSE_FLOAT_OFFSET(k_quat_index[q] + k), 1.2f * (float)s);
                assert_false(decode_pose(buf, sizeof(buf), &out));
            }
        }
    }
}

/* ---- video validation -------------------------------------------------------------------------
 */

static bool video_ok(const struct rr_wire_video_header *h)
{
    uint8_t buf[RR_WIRE_VIDEO_HEADER_SIZE + sizeof(k_bitstream)];
    size_t n = video_message(h, buf);
    struct rr_wire_video_header out;
    return decode_video(buf, n, &out, NULL, NULL);
}

static void test_video_rejects_frame_id_zero(void **state)
{
    (void)state;
    struct rr_wire_video_header h = sample_video_header();
    h.frame_id = 0;
    assert_false(video_ok(&h));
    h.frame_id = 1;
    assert_true(video_ok(&h));
}

static void test_video_rejects_unknown_flags(void **state)
{
    (void)state;
    struct rr_wire_video_header h = sample_video_header();
    for (unsigned f = 0; f < 256; f++) {
        h.flags = (uint8_t)f;
        assert_true(video_ok(&h) == ((f & ~RR_WIRE_FLAGS_KNOWN) == 0));
    }
}

static void test_video_rejects_unknown_codec(void **state)
{
    (void)state;
    struct rr_wire_video_header h = sample_video_header();
    for (unsigned c = 0; c < 256; c++) {
        h.codec = (uint8_t)c;
        assert_true(video_ok(&h) == (c == RR_WIRE_CODEC_H264 || c == RR_WIRE_CODEC_HEVC));
    }
}

static void test_video_rejects_bad_dimensions(void **state)
{
    (void)state;
    const uint16_t bad[] = {0, 1, 3, 1279, 8191, 8193, 8194, 9000, 16384, 65534, 65535};
    const uint16_t good[] = {2, 4, 720, 1280, 2560, 8190, 8192};
    struct rr_wire_video_header h = sample_video_header();
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        h = sample_video_header();
        h.width = bad[i];
        if (video_ok(&h)) {
            fail_msg("width %u accepted", bad[i]);
        }
        h = sample_video_header();
        h.height = bad[i];
        if (video_ok(&h)) {
            fail_msg("height %u accepted", bad[i]);
        }
    }
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        for (size_t j = 0; j < sizeof(good) / sizeof(good[0]); j++) {
            h = sample_video_header();
            h.width = good[i];
            h.height = good[j];
            assert_true(video_ok(&h));
        }
    }
}

/* ---- byte order, against hand-written messages ------------------------------------------------
 */

static void test_pose_bytes(void **state)
{
    (void)state;
    static const uint8_t want[RR_WIRE_POSE_SIZE] = {
        0x01,                                           /* type */
        0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, /* pose_id */
        0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, /* sample_time_us */
        0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28, /* predicted_display_us */
        0x3f, 0x80, 0x00, 0x00,                         /* head position  1.0 */
        0x40, 0x00, 0x00, 0x00,                         /*                2.0 */
        0x40, 0x40, 0x00, 0x00,                         /*                3.0 */
        0x3f, 0x00, 0x00, 0x00,                         /* head orientation x  0.5 */
        0xbf, 0x00, 0x00, 0x00,                         /*                  y -0.5 */
        0x3e, 0x80, 0x00, 0x00,                         /*                  z  0.25 */
        0x3f, 0x40, 0x00, 0x00,                         /*                  w  0.75 */
        0xbf, 0x80, 0x00, 0x00,                         /* left view position -1.0 */
        0xc0, 0x00, 0x00, 0x00,                         /*                    -2.0 */
        0xc0, 0x40, 0x00, 0x00,                         /*                    -3.0 */
        0x3e, 0x00, 0x00, 0x00,                         /* left orientation x  0.125 */
        0x3e, 0xc0, 0x00, 0x00,                         /*                  y  0.375 */
        0xbf, 0x20, 0x00, 0x00,                         /*                  z -0.625 */
        0x3f, 0x20, 0x00, 0x00,                         /*                  w  0.625 */
        0x40, 0x80, 0x00, 0x00,                         /* right view position 4.0 */
        0x40, 0xa0, 0x00, 0x00,                         /*                     5.0 */
        0x40, 0xc0, 0x00, 0x00,                         /*                     6.0 */
        0x00, 0x00, 0x00, 0x00,                         /* right orientation x  0.0 */
        0xbe, 0x00, 0x00, 0x00,                         /*                   y -0.125 */
        0xbf, 0x60, 0x00, 0x00,                         /*                   z -0.875 */
        0x3e, 0xe0, 0x00, 0x00,                         /*                   w  0.4375 */
        0xbf, 0x40, 0x00, 0x00,                         /* left fov left  -0.75 */
        0x3f, 0x60, 0x00, 0x00,                         /*          right  0.875 */
        0x3f, 0xa0, 0x00, 0x00,                         /*          up     1.25 */
        0xbf, 0xa0, 0x00, 0x00,                         /*          down  -1.25 */
        0xbf, 0xc0, 0x00, 0x00,                         /* right fov left  -1.5 */
        0x3f, 0xe0, 0x00, 0x00,                         /*           right  1.75 */
        0x3d, 0x80, 0x00, 0x00,                         /*           up     0.0625 */
        0xbd, 0x80, 0x00, 0x00,                         /*           down  -0.0625 */
    };
    struct rr_stream_pose in = sample_pose(), out;
    uint8_t buf[RR_WIRE_POSE_SIZE];
    assert_int_equal(rr_wire_encode_pose(&in, buf), RR_WIRE_POSE_SIZE);
    assert_memory_equal(buf, want, sizeof(want));
    assert_true(decode_pose(want, sizeof(want), &out));
    assert_pose_equal(&in, &out);
}

static void test_video_bytes(void **state)
{
    (void)state;
    static const uint8_t want[RR_WIRE_VIDEO_HEADER_SIZE + 3] = {
        0x10,                                           /* type */
        0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, /* frame_id */
        0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, /* pose_id */
        0x01,                                           /* flags: keyframe */
        0x02,                                           /* codec: HEVC */
        0x0a, 0x00,                                     /* width 2560 */
        0x05, 0xa0,                                     /* height 1440 */
        0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28, /* pose_sampled_us */
        0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38, /* predicted_display_us */
        0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, /* pose_received_us */
        0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, /* render_start_us */
        0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, /* render_end_us */
        0x71, 0x72, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, /* encode_start_us */
        0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, /* encode_end_us */
        0x91, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, /* send_us */
        0x00, 0x00, 0x01,                               /* bitstream */
    };
    struct rr_wire_video_header in = sample_video_header(), out;
    uint8_t buf[RR_WIRE_VIDEO_HEADER_SIZE];
    rr_wire_encode_video_header(&in, buf);
    assert_memory_equal(buf, want, RR_WIRE_VIDEO_HEADER_SIZE);
    size_t off = 0, bs_size = 0;
    assert_true(decode_video(want, sizeof(want), &out, &off, &bs_size));
    assert_video_header_equal(&in, &out);
    assert_int_equal(off, RR_WIRE_VIDEO_HEADER_SIZE);
    assert_int_equal(bs_size, 3);
}

static void test_stats_bytes(void **state)
{
    (void)state;
    static const uint8_t sync_request[] = {
        0x20, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, /* t0 */
    };
    static const uint8_t sync_response[] = {
        0x21,                                           /* type */
        0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, /* t0 */
        0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, /* t1 */
        0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8, /* t2 */
    };
    /* -123456789012345 = 0xffff8fb779f22087 in two's complement. */
    static const uint8_t clock[] = {
        0x22,                                           /* type */
        0xff, 0xff, 0x8f, 0xb7, 0x79, 0xf2, 0x20, 0x87, /* offset_us */
        0xfe, 0xdc, 0xba, 0x98,                         /* rtt_us */
    };
    static const uint8_t keyframe[] = {
        0x23, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, /* last_frame_id */
    };
    static const uint8_t report[] = {
        0x24,                                           /* type */
        0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, /* frame_id */
        0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, /* pose_sampled_us */
        0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, /* pose_received_us */
        0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, /* render_start_us */
        0x40, 0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47, /* render_end_us */
        0x50, 0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57, /* encode_start_us */
        0x60, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, /* encode_end_us */
        0x70, 0x71, 0x72, 0x73, 0x74, 0x75, 0x76, 0x77, /* send_us */
        0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, /* receive_us */
        0x90, 0x91, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, /* decode_end_us */
        0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, /* present_us */
        0xb0, 0xb1, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, /* predicted_display_us */
    };
    const struct {
        const uint8_t *bytes;
        size_t size;
    } want[5] = {
        {sync_request, sizeof(sync_request)},
        {sync_response, sizeof(sync_response)},
        {clock, sizeof(clock)},
        {keyframe, sizeof(keyframe)},
        {report, sizeof(report)},
    };
    struct stats_case c[5];
    size_t count = stats_cases(c);
    assert_int_equal(count, 5);
    for (size_t i = 0; i < count; i++) {
        uint8_t buf[RR_WIRE_STATS_MAX_SIZE];
        assert_int_equal(rr_wire_encode_stats(&c[i].m, buf), want[i].size);
        assert_memory_equal(buf, want[i].bytes, want[i].size);
        struct rr_wire_stats out;
        assert_true(decode_stats(want[i].bytes, want[i].size, &out));
        assert_stats_equal(&c[i].m, &out);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sizes),
        cmocka_unit_test(test_pose_round_trip),
        cmocka_unit_test(test_video_round_trip),
        cmocka_unit_test(test_video_large_bitstream),
        cmocka_unit_test(test_stats_round_trip),
        cmocka_unit_test(test_stats_clock_offsets),
        cmocka_unit_test(test_stats_encode_unknown_type),
        cmocka_unit_test(test_pose_size_rules),
        cmocka_unit_test(test_video_size_rules),
        cmocka_unit_test(test_stats_size_rules),
        cmocka_unit_test(test_type_bytes),
        cmocka_unit_test(test_pose_rejects_bad_floats),
        cmocka_unit_test(test_pose_rejects_zero_id),
        cmocka_unit_test(test_pose_rejects_non_unit_quaternions),
        cmocka_unit_test(test_video_rejects_frame_id_zero),
        cmocka_unit_test(test_video_rejects_unknown_flags),
        cmocka_unit_test(test_video_rejects_unknown_codec),
        cmocka_unit_test(test_video_rejects_bad_dimensions),
        cmocka_unit_test(test_pose_bytes),
        cmocka_unit_test(test_video_bytes),
        cmocka_unit_test(test_stats_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
