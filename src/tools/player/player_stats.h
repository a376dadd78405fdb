/* SPDX-License-Identifier: Apache-2.0 */
/*
 * player_stats — what a player measured over one connection: the latency of every stage of
 * each new frame (from its rr_stream_frame_timing), the gaps between frames, the received
 * bytes per second, and the statistics JSON of docs/player.md. openrr-player and the stream
 * benchmark share it, so it has no globals and never reads a clock: callers pass the time
 * (rr_stream_now_us() of the player, the clock the frame timings are in).
 *
 * Threads: an object belongs to one thread; nothing here locks.
 */
#ifndef OPENRR_PLAYER_STATS_H
#define OPENRR_PLAYER_STATS_H

#include <openrr/stream.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* The stages of one frame's way from the pose to the present, in order. The names are the
 * keys of the JSON's "latency" object. */
enum player_stage {
    PLAYER_STAGE_POSE_TO_PRESENT = 0, /* pose_sampled → present */
    PLAYER_STAGE_POSE_TO_RECEIVE,     /* pose_sampled → receive */
    PLAYER_STAGE_UPLINK,              /* pose_sampled → pose_received */
    PLAYER_STAGE_WAIT_FOR_RENDER,     /* pose_received → render_start */
    PLAYER_STAGE_RENDER,              /* render_start → render_end */
    PLAYER_STAGE_RENDER_TO_ENCODE,    /* render_end → encode_start */
    PLAYER_STAGE_ENCODE,              /* encode_start → encode_end */
    PLAYER_STAGE_ENCODE_TO_SEND,      /* encode_end → send */
    PLAYER_STAGE_TRANSPORT,           /* send → receive */
    PLAYER_STAGE_DECODE,              /* receive → decode_end */
    PLAYER_STAGE_DECODE_TO_PRESENT,   /* decode_end → present */
    PLAYER_STAGE_COUNT
};

/* The JSON name of @p stage, e.g. "poseToPresent"; "" when out of range. */
const char *player_stage_name(enum player_stage stage);

/* Samples kept per stage when player_stats_create() is given 0: percentiles describe the
 * last this many frames, so that a long run needs bounded memory. */
#define PLAYER_STATS_DEFAULT_SAMPLES 100000u

struct player_stage_summary {
    uint64_t count;   /* frames that had both timestamps of the stage (whole run) */
    size_t samples;   /* of which kept for the percentiles */
    double median_ms; /* of the kept samples; 0 when count is 0 */
    double p90_ms;
    double p99_ms;
    double max_ms; /* over the whole run */
};

struct player_stats;

/* Allocate the sample storage (@p max_samples per stage, 0 = the default) up front, so that
 * adding a frame never allocates. Returns false when out of memory. */
bool player_stats_create(size_t max_samples, struct player_stats **out_stats);
/* Free and set *stats_ptr to NULL. NULL ok. */
void player_stats_destroy(struct player_stats **stats_ptr);

/* The connection was established at @p now_us. Counting starts here. */
void player_stats_begin(struct player_stats *ps, uint64_t now_us);
/* The connection ended at @p now_us for @p reason (what the JSON reports). */
void player_stats_end(struct player_stats *ps, uint64_t now_us, enum rr_disconnect_reason reason);

/* A blit returned a new frame (not a reused one) at @p now_us. Counts it as presented and
 * takes its stage latencies: a stage with a 0 timestamp at either end is skipped, and so are
 * the stages that start at the pose when the frame's pose is unknown. */
void player_stats_add_frame(struct player_stats *ps, const struct rr_stream_frame *frame,
                            uint64_t now_us);
/* The library's statistics of that blit (rr_stream_player_last_frame_statistics()): keeps the
 * smallest and largest gap between received frames over the run. */
void player_stats_add_frame_statistics(struct player_stats *ps,
                                       const struct rr_frame_statistics *fs);
/* The video bytes received so far (rr_stream_player_totals().video_bytes_received) at
 * @p now_us; call often (every display frame) for the per-second bitrate. */
void player_stats_add_bytes(struct player_stats *ps, uint64_t now_us, uint64_t total_bytes);

/* New frames presented since begin. */
uint64_t player_stats_frames(const struct player_stats *ps);
/* Seconds between begin and end (or the latest time passed in); 0 before begin. */
double player_stats_duration_s(const struct player_stats *ps);

/* Summarise @p stage into *out. Returns false when out of memory (sorting needs a copy). */
bool player_stats_stage(const struct player_stats *ps, enum player_stage stage,
                        struct player_stage_summary *out);

/* Print the per-stage median and p99 as a small table on @p out. Returns false when out of
 * memory. */
bool player_stats_print_table(const struct player_stats *ps, FILE *out);

/* Write the statistics JSON (docs/player.md) with the library's @p totals of the same
 * connection to @p out, followed by a newline, and flush. Returns false when out of memory
 * or the write failed (errno tells). */
bool player_stats_write_json(const struct player_stats *ps,
                             const struct rr_stream_player_totals *totals, FILE *out);

#endif /* OPENRR_PLAYER_STATS_H */
