/* SPDX-License-Identifier: Apache-2.0 */
/*
 * status — the running figures of openrr-player (frame rate, latency, bitrate, frame counts,
 * clock round trip) over the last moments, for the live line on a terminal, the summary lines
 * in a log and the window title.
 *
 * Threads: the player's thread only.
 */
#ifndef OPENRR_PLAYER_STATUS_H
#define OPENRR_PLAYER_STATUS_H

#include <openrr/stream.h>

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* Recent pose-to-present latencies kept for the live median and p99 (~2 s at 240 fps). */
#define STATUS_RECENT 512u

/* Refreshes the rates are averaged over. */
#define STATUS_SPANS 4u

enum status_mode {
    STATUS_SILENT = 0, /* figures only (window title) */
    STATUS_LIVE,       /* a '\r'-rewritten line on a terminal, at most 4 times a second */
    STATUS_SUMMARY,    /* one line every 5 s, for logs */
};

struct status_figures {
    double fps;               /* new frames per second over the last second */
    bool have_latency;        /* the two below are known */
    double latency_median_ms; /* pose sampled → present, recent frames */
    double latency_p99_ms;
    double mbps; /* video bitrate over the last second */
    uint64_t received, skipped, discarded;
    double rtt_ms; /* clock synchronisation round trip */
};

struct status {
    enum status_mode mode;
    FILE *out;
    uint64_t start_us;
    uint64_t refresh_us; /* the previous refresh (or the start) */
    uint64_t print_us;   /* the previous line printed */
    uint64_t frames;     /* new frames since the previous refresh */
    uint64_t bytes;      /* total at the previous refresh */
    /* The last STATUS_SPANS refreshes, so that rates cover about a second while the line
     * changes four times a second. */
    uint64_t span_frames[STATUS_SPANS];
    uint64_t span_bytes[STATUS_SPANS];
    uint64_t span_us[STATUS_SPANS];
    unsigned span_next;
    bool line_open; /* a live line is on the terminal without its newline */
    float recent[STATUS_RECENT];
    unsigned recent_next, recent_count;
    struct status_figures fig;
};

/* Start counting at @p now_us (player clock), printing to @p out as @p mode says. */
void status_init(struct status *st, enum status_mode mode, FILE *out, uint64_t now_us);

/* A blit returned this new frame. */
void status_frame(struct status *st, const struct rr_stream_frame *frame);

/* Refresh the figures from @p totals when a quarter second has passed (and print when the mode
 * says). Returns true when they were refreshed. */
bool status_tick(struct status *st, uint64_t now_us, const struct rr_stream_player_totals *totals);

/* The figures of the latest refresh. */
const struct status_figures *status_figures(const struct status *st);

/* End the live line with a newline, so that what follows starts on a line of its own. */
void status_finish(struct status *st);

#endif /* OPENRR_PLAYER_STATUS_H */
