/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench_stream_run — one streaming session, end to end, as an application would drive it: a
 * remote thread that waits for the newest pose, renders the moving pattern for it and submits,
 * and a player loop (the calling thread) that every 1/60 s sends a pose and blits. After a
 * warm-up it records, for every new frame the player presents, the frame's stage timestamps,
 * and counts what both sides skipped or discarded.
 * Threads: bench_stream_run on the measuring thread, which plays the player; it starts and
 * joins the remote thread itself.
 */
#ifndef OPENRR_BENCH_STREAM_RUN_H
#define OPENRR_BENCH_STREAM_RUN_H

#include <stdbool.h>
#include <stdint.h>

#include "bench_stats.h"
#include "bench_stream.h"
#include "bench_stream_pair.h"

struct bench_stream_run_params {
    uint32_t eye_width;
    uint32_t eye_height;
    double seconds;        /* the measured window */
    double warmup_seconds; /* from the first presented frame to the window */
};

struct bench_stream_run_result {
    double seconds;          /* the window as it really ran */
    uint64_t ticks;          /* player ticks (pose + blit) in the window */
    uint64_t late_ticks;     /* of them, woken more than half a frame late */
    uint64_t presented;      /* blits that returned a new frame */
    uint64_t timed;          /* of those, with every stage known (a pose this player sent) */
    uint64_t within_budget;  /* of those, pose → decoded within one frame time */
    uint64_t submitted;      /* remote, in the window */
    uint64_t encoded;        /* remote */
    uint64_t remote_skipped; /* remote: not encoded, the transport was congested */
    uint64_t player_skipped; /* decoded but replaced by a newer one before a blit */
    uint64_t discarded;      /* not shown: undecodable or missing a reference */
    uint64_t decoder_errors; /* in the window */
    uint64_t keyframes;      /* remote, in the window */
    uint64_t video_bytes;    /* remote, in the window */
    uint64_t submit_errors;  /* whole run */
    char encoder[32];
    int64_t clock_offset_us; /* remote − player as measured; ~0 in one process */
    struct bench_samples stage[BENCH_STAGE_COUNT]; /* microseconds, one per timed frame */
};

/* Open a pair at the given size, stream, close it. false on a functional error (no
 * connection, no frame within BENCH_STREAM_WAIT_MS, the connection dropped, out of memory),
 * printed on stderr; *out holds what was measured either way. Free it with
 * bench_stream_run_fini. */
bool bench_stream_run(struct bench_stream_tls *tls, const struct bench_stream_run_params *p,
                      struct bench_stream_run_result *out);
void bench_stream_run_fini(struct bench_stream_run_result *r);

/* Presented new frames per second over the window; 0 when nothing ran. */
double bench_stream_run_fps(const struct bench_stream_run_result *r);
/* Share of submitted frames the remote skipped (0..1). */
double bench_stream_run_skip_share(const struct bench_stream_run_result *r);
/* The "sustains 60 fps" rule (bench_stream.h). */
bool bench_stream_run_sustains(const struct bench_stream_run_result *r);

#endif /* OPENRR_BENCH_STREAM_RUN_H */
