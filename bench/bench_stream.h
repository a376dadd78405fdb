/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench_stream — what the parts of the stream benchmark share: the fixed settings of every
 * run (the samples' 60 fps and 20 Mbit/s cap, libx264) and the stages a frame's latency is
 * split into. Each part (streaming run, encode comparison, report) has its own header.
 */
#ifndef OPENRR_BENCH_STREAM_H
#define OPENRR_BENCH_STREAM_H

#define BENCH_STREAM_FPS 60u
#define BENCH_STREAM_KBPS 20000u
#define BENCH_STREAM_ENCODER "libx264"
/* One frame time at 60 fps: the budget a frame's pose → decoded latency is judged against. */
#define BENCH_STREAM_BUDGET_US (1000000.0 / BENCH_STREAM_FPS)
/* "Sustains 60 fps": at least this many new frames presented per second ... */
#define BENCH_STREAM_SUSTAIN_FPS 57.0
/* ... and fewer than this share of submitted frames skipped by the remote. */
#define BENCH_STREAM_SUSTAIN_SKIP 0.02
/* Give up waiting for a connection or the first frame after this long: beyond it something is
 * broken, not slow. */
#define BENCH_STREAM_WAIT_MS 15000

/* The stages of one frame, in the order they happen, plus the two end-to-end spans. Every
 * figure is a difference of two rr_stream_frame_timing fields (player clock). */
enum bench_stage {
    BENCH_STAGE_POSE_TO_DECODED, /* pose sampled → decode end */
    BENCH_STAGE_POSE_TO_PRESENT, /* pose sampled → present (taken by blit) */
    BENCH_STAGE_UPLINK,          /* pose sampled → pose received */
    BENCH_STAGE_WAIT,            /* pose received → render start */
    BENCH_STAGE_RENDER,          /* render start → render end */
    BENCH_STAGE_RENDER_TO_ENCODE,
    BENCH_STAGE_ENCODE,         /* encode start → end, colour conversion included */
    BENCH_STAGE_ENCODE_TO_SEND, /* encode end → handed to the transport */
    BENCH_STAGE_TRANSPORT,      /* handed to the transport → whole frame received */
    BENCH_STAGE_DECODE,         /* received → decoded (decode queue included) */
    BENCH_STAGE_DECODE_TO_PRESENT,
    BENCH_STAGE_COUNT
};

#endif /* OPENRR_BENCH_STREAM_H */
