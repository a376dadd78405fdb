/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_stream_wire — libFuzzer target for the stream's messages (src/stream/wire.c). The input
 * is one message as a channel handler receives it, given to all three decoders. Each verdict is
 * compared with a plain restatement of the documented rules (a valid message must not be
 * refused, an invalid one must not pass), every decoded field with the bytes read here
 * independently, and every accepted message must re-encode to the same bytes.
 * Single-threaded: libFuzzer calls LLVMFuzzerTestOneInput from one thread.
 */
#include "wire.h"

#include "fuzz_check.h"

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t be64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) {
        v = v << 8 | p[i];
    }
    return v;
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint32_t float_bits(float f)
{
    uint32_t v;
    memcpy(&v, &f, sizeof(v));
    return v;
}

/* ---- poses ---------------------------------------------------------------------------------- */

/* The wire order of the floats: head, left view, right view (position, orientation), then the
 * left and right fov (left, right, up, down). */
static void pose_floats(const struct rr_stream_pose *p, float out[29])
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

enum verdict { REFUSE, ACCEPT, EITHER };

/* The documented rules for a pose. |q|² is taken in double (exact for floats' squares); within
 * a hair of the tolerance's bounds the decoder's float arithmetic may round either way, so
 * there either verdict is right. */
static enum verdict pose_model(const uint8_t *data, size_t size)
{
    if (size != RR_WIRE_POSE_SIZE || data[0] != RR_WIRE_POSE || be64(data + 1) == 0) {
        return REFUSE;
    }
    double f[29];
    for (int i = 0; i < 29; i++) {
        uint32_t bits = be32(data + 25 + 4 * i);
        float x;
        memcpy(&x, &bits, sizeof(x));
        if (!isfinite(x) || fabs((double)x) > 1e5) {
            return REFUSE;
        }
        f[i] = x;
    }
    enum verdict v = ACCEPT;
    const int quat[3] = {3, 10, 17};
    for (int q = 0; q < 3; q++) {
        double len2 = 0.0;
        for (int k = 0; k < 4; k++) {
            len2 += f[quat[q] + k] * f[quat[q] + k];
        }
        if (fabs(len2 - 0.81) < 1e-5 || fabs(len2 - 1.21) < 1e-5) {
            v = EITHER;
        } else if (!(len2 > 0.81 && len2 < 1.21)) {
            return REFUSE;
        }
    }
    return v;
}

static void check_pose(const uint8_t *data, size_t size)
{
    struct rr_stream_pose pose;
    bool ok = rr_wire_decode_pose(data, size, &pose);
    enum verdict want = pose_model(data, size);
    CHECK(want == EITHER || ok == (want == ACCEPT));
    if (!ok) {
        return;
    }
    CHECK(size == RR_WIRE_POSE_SIZE);
    CHECK(pose.pose_id != 0);
    CHECK(pose.pose_id == be64(data + 1));
    CHECK(pose.sample_time_us == be64(data + 9));
    CHECK(pose.predicted_display_us == be64(data + 17));
    float f[29];
    pose_floats(&pose, f);
    for (int i = 0; i < 29; i++) {
        CHECK(isfinite(f[i]) && fabsf(f[i]) <= 1e5f);
        CHECK(float_bits(f[i]) == be32(data + 25 + 4 * i));
    }

    uint8_t out[RR_WIRE_POSE_SIZE];
    CHECK(rr_wire_encode_pose(&pose, out) == RR_WIRE_POSE_SIZE);
    CHECK(memcmp(out, data, size) == 0);
}

/* ---- video ---------------------------------------------------------------------------------- */

static bool video_model(const uint8_t *data, size_t size)
{
    if (size <= RR_WIRE_VIDEO_HEADER_SIZE || data[0] != RR_WIRE_VIDEO_FRAME) {
        return false;
    }
    uint16_t w = (uint16_t)(data[19] << 8 | data[20]);
    uint16_t h = (uint16_t)(data[21] << 8 | data[22]);
    return be64(data + 1) != 0 && (data[17] & ~RR_WIRE_FLAGS_KNOWN) == 0 &&
           (data[18] == RR_WIRE_CODEC_H264 || data[18] == RR_WIRE_CODEC_HEVC) && w >= 2 &&
           w <= 8192 && w % 2 == 0 && h >= 2 && h <= 8192 && h % 2 == 0;
}

static void check_video(const uint8_t *data, size_t size)
{
    struct rr_wire_video_header h;
    const uint8_t *bs = NULL;
    size_t bs_size = 0;
    bool ok = rr_wire_decode_video(data, size, &h, &bs, &bs_size);
    CHECK(ok == video_model(data, size));
    if (!ok) {
        return;
    }
    /* The bitstream is the rest of the input, never empty, never outside it. */
    CHECK(bs == data + RR_WIRE_VIDEO_HEADER_SIZE);
    CHECK(bs_size == size - RR_WIRE_VIDEO_HEADER_SIZE);
    CHECK(bs_size > 0);
    CHECK(h.frame_id != 0 && h.frame_id == be64(data + 1));
    CHECK(h.pose_id == be64(data + 9));
    CHECK((h.flags & ~RR_WIRE_FLAGS_KNOWN) == 0 && h.flags == data[17]);
    CHECK((h.codec == RR_WIRE_CODEC_H264 || h.codec == RR_WIRE_CODEC_HEVC) && h.codec == data[18]);
    CHECK(h.width >= 2 && h.width <= 8192 && h.width % 2 == 0);
    CHECK(h.height >= 2 && h.height <= 8192 && h.height % 2 == 0);
    const uint64_t t[8] = {
        h.pose_sampled_us, h.predicted_display_us, h.pose_received_us, h.render_start_us,
        h.render_end_us,   h.encode_start_us,      h.encode_end_us,    h.send_us};
    for (int i = 0; i < 8; i++) {
        CHECK(t[i] == be64(data + 23 + 8 * i));
    }

    uint8_t out[RR_WIRE_VIDEO_HEADER_SIZE];
    rr_wire_encode_video_header(&h, out);
    CHECK(memcmp(out, data, RR_WIRE_VIDEO_HEADER_SIZE) == 0);
}

/* ---- statistics ----------------------------------------------------------------------------- */

static size_t stats_model_size(uint8_t type)
{
    switch (type) {
    case RR_WIRE_SYNC_REQUEST:
    case RR_WIRE_KEYFRAME_REQUEST:
        return 9;
    case RR_WIRE_SYNC_RESPONSE:
        return 25;
    case RR_WIRE_CLOCK:
        return 13;
    case RR_WIRE_FRAME_REPORT:
        return 97;
    default:
        return 0;
    }
}

static void check_stats(const uint8_t *data, size_t size)
{
    struct rr_wire_stats m;
    bool ok = rr_wire_decode_stats(data, size, &m);
    CHECK(ok == (size > 0 && stats_model_size(data[0]) == size));
    if (!ok) {
        return;
    }
    CHECK(size <= RR_WIRE_STATS_MAX_SIZE);
    CHECK(m.type == data[0]);
    switch (m.type) {
    case RR_WIRE_SYNC_REQUEST:
        CHECK(m.u.sync.t0 == be64(data + 1));
        break;
    case RR_WIRE_SYNC_RESPONSE:
        CHECK(m.u.sync.t0 == be64(data + 1));
        CHECK(m.u.sync.t1 == be64(data + 9));
        CHECK(m.u.sync.t2 == be64(data + 17));
        break;
    case RR_WIRE_CLOCK:
        /* Two's complement on the wire: the top bit is the sign. */
        CHECK((m.u.clock.offset_us < 0) == ((data[1] & 0x80) != 0));
        CHECK((uint64_t)m.u.clock.offset_us == be64(data + 1));
        CHECK(m.u.clock.rtt_us == be32(data + 9));
        break;
    case RR_WIRE_KEYFRAME_REQUEST:
        CHECK(m.u.keyframe.last_frame_id == be64(data + 1));
        break;
    case RR_WIRE_FRAME_REPORT: {
        const struct rr_stream_frame_timing *t = &m.u.report.timing;
        const uint64_t v[11] = {t->pose_sampled_us, t->pose_received_us,    t->render_start_us,
                                t->render_end_us,   t->encode_start_us,     t->encode_end_us,
                                t->send_us,         t->receive_us,          t->decode_end_us,
                                t->present_us,      t->predicted_display_us};
        CHECK(m.u.report.frame_id == be64(data + 1));
        for (int i = 0; i < 11; i++) {
            CHECK(v[i] == be64(data + 9 + 8 * i));
        }
        break;
    }
    default:
        CHECK(!"a type without a size was accepted");
    }

    uint8_t out[RR_WIRE_STATS_MAX_SIZE];
    CHECK(rr_wire_encode_stats(&m, out) == size);
    CHECK(memcmp(out, data, size) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_pose(data, size);
    check_video(data, size);
    check_stats(data, size);
    return 0;
}
