/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The stream's messages, byte by byte. Decoders check the exact size first, then each field,
 * so nothing past the end is ever read and no value the rest of the library cannot handle
 * (a NaN in a pose, a video size of 0) gets through.
 */
#include "wire.h"

#include <math.h>
#include <string.h>

static void put_u16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put_u32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) {
        p[i] = (uint8_t)(v >> (24 - 8 * i));
    }
}

static void put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) {
        p[i] = (uint8_t)(v >> (56 - 8 * i));
    }
}

static uint16_t get_u16(const uint8_t *p)
{
    return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

static uint32_t get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t get_u64(const uint8_t *p)
{
    return (uint64_t)get_u32(p) << 32 | get_u32(p + 4);
}

static void put_f32(uint8_t *p, float f)
{
    uint32_t v;
    memcpy(&v, &f, sizeof(v));
    put_u32(p, v);
}

static float get_f32(const uint8_t *p)
{
    uint32_t v = get_u32(p);
    float f;
    memcpy(&f, &v, sizeof(f));
    return f;
}

/* ---- poses ---------------------------------------------------------------------------------- */

/* The 29 floats of a pose in wire order: head, left view, right view, left fov, right fov. */
static void pose_floats(const struct rr_stream_pose *p, float out[29])
{
    size_t n = 0;
    const struct rr_stream_posef *poses[3] = {&p->head, &p->view[0], &p->view[1]};
    for (int i = 0; i < 3; i++) {
        memcpy(out + n, poses[i]->position, sizeof(float) * 3);
        memcpy(out + n + 3, poses[i]->orientation, sizeof(float) * 4);
        n += 7;
    }
    for (int i = 0; i < 2; i++) {
        out[n++] = p->fov[i].angle_left;
        out[n++] = p->fov[i].angle_right;
        out[n++] = p->fov[i].angle_up;
        out[n++] = p->fov[i].angle_down;
    }
}

static void pose_from_floats(const float in[29], struct rr_stream_pose *p)
{
    size_t n = 0;
    struct rr_stream_posef *poses[3] = {&p->head, &p->view[0], &p->view[1]};
    for (int i = 0; i < 3; i++) {
        memcpy(poses[i]->position, in + n, sizeof(float) * 3);
        memcpy(poses[i]->orientation, in + n + 3, sizeof(float) * 4);
        n += 7;
    }
    for (int i = 0; i < 2; i++) {
        p->fov[i].angle_left = in[n++];
        p->fov[i].angle_right = in[n++];
        p->fov[i].angle_up = in[n++];
        p->fov[i].angle_down = in[n++];
    }
}

size_t rr_wire_encode_pose(const struct rr_stream_pose *pose, uint8_t out[RR_WIRE_POSE_SIZE])
{
    float f[29];
    pose_floats(pose, f);
    out[0] = RR_WIRE_POSE;
    put_u64(out + 1, pose->pose_id);
    put_u64(out + 9, pose->sample_time_us);
    put_u64(out + 17, pose->predicted_display_us);
    for (int i = 0; i < 29; i++) {
        put_f32(out + 25 + 4 * i, f[i]);
    }
    return RR_WIRE_POSE_SIZE;
}

static bool unit_quaternion(const float q[4])
{
    float len2 = q[0] * q[0] + q[1] * q[1] + q[2] * q[2] + q[3] * q[3];
    return len2 > 0.81f && len2 < 1.21f;
}

bool rr_wire_decode_pose(const uint8_t *data, size_t size, struct rr_stream_pose *out)
{
    if (size != RR_WIRE_POSE_SIZE || data[0] != RR_WIRE_POSE) {
        return false;
    }
    float f[29];
    for (int i = 0; i < 29; i++) {
        f[i] = get_f32(data + 25 + 4 * i);
        /* One bound for every float: positions beyond 100 km are nonsense from any tracker, and
         * the bound keeps later arithmetic (prediction, projection) finite. */
        if (!isfinite(f[i]) || fabsf(f[i]) > 1e5f) {
            return false;
        }
    }
    memset(out, 0, sizeof(*out));
    out->pose_id = get_u64(data + 1);
    out->sample_time_us = get_u64(data + 9);
    out->predicted_display_us = get_u64(data + 17);
    pose_from_floats(f, out);
    return out->pose_id != 0 && unit_quaternion(out->head.orientation) &&
           unit_quaternion(out->view[0].orientation) && unit_quaternion(out->view[1].orientation);
}

/* ---- video ---------------------------------------------------------------------------------- */

void rr_wire_encode_video_header(const struct rr_wire_video_header *h,
                                 uint8_t out[RR_WIRE_VIDEO_HEADER_SIZE])
{
    out[0] = RR_WIRE_VIDEO_FRAME;
    put_u64(out + 1, h->frame_id);
    put_u64(out + 9, h->pose_id);
    out[17] = h->flags;
    out[18] = h->codec;
    put_u16(out + 19, h->width);
    put_u16(out + 21, h->height);
    const uint64_t t[8] = {
        h->pose_sampled_us, h->predicted_display_us, h->pose_received_us, h->render_start_us,
        h->render_end_us,   h->encode_start_us,      h->encode_end_us,    h->send_us};
    for (int i = 0; i < 8; i++) {
        put_u64(out + 23 + 8 * i, t[i]);
    }
}

bool rr_wire_decode_video(const uint8_t *data, size_t size, struct rr_wire_video_header *out,
                          const uint8_t **bitstream, size_t *bitstream_size)
{
    if (size <= RR_WIRE_VIDEO_HEADER_SIZE || data[0] != RR_WIRE_VIDEO_FRAME) {
        return false;
    }
    memset(out, 0, sizeof(*out));
    out->frame_id = get_u64(data + 1);
    out->pose_id = get_u64(data + 9);
    out->flags = data[17];
    out->codec = data[18];
    out->width = get_u16(data + 19);
    out->height = get_u16(data + 21);
    uint64_t *t[8] = {&out->pose_sampled_us,  &out->predicted_display_us,
                      &out->pose_received_us, &out->render_start_us,
                      &out->render_end_us,    &out->encode_start_us,
                      &out->encode_end_us,    &out->send_us};
    for (int i = 0; i < 8; i++) {
        *t[i] = get_u64(data + 23 + 8 * i);
    }
    if (out->frame_id == 0 || (out->flags & ~RR_WIRE_FLAGS_KNOWN) != 0 ||
        (out->codec != RR_WIRE_CODEC_H264 && out->codec != RR_WIRE_CODEC_HEVC) || out->width == 0 ||
        out->height == 0 || out->width % 2 != 0 || out->height % 2 != 0 || out->width > 8192 ||
        out->height > 8192) {
        return false;
    }
    *bitstream = data + RR_WIRE_VIDEO_HEADER_SIZE;
    *bitstream_size = size - RR_WIRE_VIDEO_HEADER_SIZE;
    return true;
}

/* ---- statistics and clock ---------------------------------------------------------------------
 */

static void put_timing(uint8_t *p, const struct rr_stream_frame_timing *t)
{
    const uint64_t v[11] = {t->pose_sampled_us, t->pose_received_us,    t->render_start_us,
                            t->render_end_us,   t->encode_start_us,     t->encode_end_us,
                            t->send_us,         t->receive_us,          t->decode_end_us,
                            t->present_us,      t->predicted_display_us};
    for (int i = 0; i < 11; i++) {
        put_u64(p + 8 * i, v[i]);
    }
}

static void get_timing(const uint8_t *p, struct rr_stream_frame_timing *t)
{
    uint64_t *v[11] = {&t->pose_sampled_us, &t->pose_received_us,    &t->render_start_us,
                       &t->render_end_us,   &t->encode_start_us,     &t->encode_end_us,
                       &t->send_us,         &t->receive_us,          &t->decode_end_us,
                       &t->present_us,      &t->predicted_display_us};
    for (int i = 0; i < 11; i++) {
        *v[i] = get_u64(p + 8 * i);
    }
}

static size_t stats_size(uint8_t type)
{
    switch (type) {
    case RR_WIRE_SYNC_REQUEST:
        return 1 + 8;
    case RR_WIRE_SYNC_RESPONSE:
        return 1 + 3 * 8;
    case RR_WIRE_CLOCK:
        return 1 + 8 + 4;
    case RR_WIRE_KEYFRAME_REQUEST:
        return 1 + 8;
    case RR_WIRE_FRAME_REPORT:
        return 1 + 8 + 11 * 8;
    default:
        return 0;
    }
}

size_t rr_wire_encode_stats(const struct rr_wire_stats *m, uint8_t out[RR_WIRE_STATS_MAX_SIZE])
{
    size_t n = stats_size(m->type);
    if (n == 0) {
        return 0;
    }
    out[0] = m->type;
    switch (m->type) {
    case RR_WIRE_SYNC_REQUEST:
        put_u64(out + 1, m->u.sync.t0);
        break;
    case RR_WIRE_SYNC_RESPONSE:
        put_u64(out + 1, m->u.sync.t0);
        put_u64(out + 9, m->u.sync.t1);
        put_u64(out + 17, m->u.sync.t2);
        break;
    case RR_WIRE_CLOCK:
        put_u64(out + 1, (uint64_t)m->u.clock.offset_us);
        put_u32(out + 9, m->u.clock.rtt_us);
        break;
    case RR_WIRE_KEYFRAME_REQUEST:
        put_u64(out + 1, m->u.keyframe.last_frame_id);
        break;
    default: /* RR_WIRE_FRAME_REPORT */
        put_u64(out + 1, m->u.report.frame_id);
        put_timing(out + 9, &m->u.report.timing);
        break;
    }
    return n;
}

bool rr_wire_decode_stats(const uint8_t *data, size_t size, struct rr_wire_stats *out)
{
    if (size == 0 || stats_size(data[0]) != size) {
        return false;
    }
    memset(out, 0, sizeof(*out));
    out->type = data[0];
    switch (out->type) {
    case RR_WIRE_SYNC_REQUEST:
        out->u.sync.t0 = get_u64(data + 1);
        break;
    case RR_WIRE_SYNC_RESPONSE:
        out->u.sync.t0 = get_u64(data + 1);
        out->u.sync.t1 = get_u64(data + 9);
        out->u.sync.t2 = get_u64(data + 17);
        break;
    case RR_WIRE_CLOCK:
        out->u.clock.offset_us = (int64_t)get_u64(data + 1);
        out->u.clock.rtt_us = get_u32(data + 9);
        break;
    case RR_WIRE_KEYFRAME_REQUEST:
        out->u.keyframe.last_frame_id = get_u64(data + 1);
        break;
    default:
        out->u.report.frame_id = get_u64(data + 1);
        get_timing(data + 9, &out->u.report.timing);
        break;
    }
    return true;
}
