/* SPDX-License-Identifier: Apache-2.0 */
/*
 * wire — the messages of libopenrr_stream on the built-in channels (docs/protocol.md, "Stream
 * messages"): poses (channel 129), video frames (130) and statistics/clock messages (132).
 * Every message starts with a type byte; integers are big endian, floats IEEE-754 binary32
 * big endian; each type has an exact size (a video frame: a fixed header, then the bitstream).
 * Pure functions, fuzzed (tests/fuzz/fuzz_stream_wire.c).
 */
#ifndef RR_STREAM_WIRE_H
#define RR_STREAM_WIRE_H

#include "openrr/stream.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum rr_wire_type {
    RR_WIRE_POSE = 0x01,             /* player → remote, channel 129 */
    RR_WIRE_VIDEO_FRAME = 0x10,      /* remote → player, channel 130 */
    RR_WIRE_SYNC_REQUEST = 0x20,     /* player → remote, channel 132: t0 */
    RR_WIRE_SYNC_RESPONSE = 0x21,    /* remote → player: t0, t1 (received), t2 (sent) */
    RR_WIRE_CLOCK = 0x22,            /* player → remote: the offset the player measured */
    RR_WIRE_KEYFRAME_REQUEST = 0x23, /* player → remote */
    RR_WIRE_FRAME_REPORT = 0x24,     /* player → remote: a presented frame's timing */
};

/* Codec numbers in a video frame (the reference's videoCodec values). */
enum rr_wire_codec {
    RR_WIRE_CODEC_H264 = 1,
    RR_WIRE_CODEC_HEVC = 2,
};

#define RR_WIRE_FLAG_KEYFRAME 0x01u
#define RR_WIRE_FLAGS_KNOWN RR_WIRE_FLAG_KEYFRAME

#define RR_WIRE_POSE_SIZE (1 + 3 * 8 + 29 * 4)
#define RR_WIRE_VIDEO_HEADER_SIZE (1 + 2 * 8 + 1 + 1 + 2 + 2 + 8 * 8)
#define RR_WIRE_STATS_MAX_SIZE (1 + 8 + 11 * 8)

/* Poses: a float that is not finite or beyond ±1e5, a zero id and a quaternion whose squared
 * length is outside 0.81–1.21 are refused. On false *out is unspecified. */
size_t rr_wire_encode_pose(const struct rr_stream_pose *pose, uint8_t out[RR_WIRE_POSE_SIZE]);
bool rr_wire_decode_pose(const uint8_t *data, size_t size, struct rr_stream_pose *out);

struct rr_wire_video_header {
    uint64_t frame_id; /* from 1, +1 per encoded frame of the connection */
    uint64_t pose_id;  /* the pose it was rendered for; 0 = none */
    uint8_t flags;
    uint8_t codec;
    uint16_t width; /* both eyes */
    uint16_t height;
    uint64_t pose_sampled_us;      /* player clock, echoed from the pose */
    uint64_t predicted_display_us; /* player clock, echoed from the pose */
    uint64_t pose_received_us;     /* remote clock from here on */
    uint64_t render_start_us;
    uint64_t render_end_us;
    uint64_t encode_start_us;
    uint64_t encode_end_us;
    uint64_t send_us;
};

void rr_wire_encode_video_header(const struct rr_wire_video_header *h,
                                 uint8_t out[RR_WIRE_VIDEO_HEADER_SIZE]);
/* Refuses unknown flags or codecs, zero, odd or > 8192 sizes, frame id 0 and an empty
 * bitstream. On false *out is unspecified. */
bool rr_wire_decode_video(const uint8_t *data, size_t size, struct rr_wire_video_header *out,
                          const uint8_t **bitstream, size_t *bitstream_size);

struct rr_wire_stats {
    uint8_t type;
    union {
        struct {
            uint64_t t0, t1, t2;
        } sync;
        struct {
            int64_t offset_us; /* remote − player */
            uint32_t rtt_us;
        } clock;
        struct {
            uint64_t last_frame_id; /* last frame decoded well; 0 = none */
        } keyframe;
        struct {
            uint64_t frame_id;
            struct rr_stream_frame_timing timing; /* player clock */
        } report;
    } u;
};

size_t rr_wire_encode_stats(const struct rr_wire_stats *m, uint8_t out[RR_WIRE_STATS_MAX_SIZE]);
bool rr_wire_decode_stats(const uint8_t *data, size_t size, struct rr_wire_stats *out);

#endif
