/* SPDX-License-Identifier: Apache-2.0 */
/*
 * player_session — one connection of openrr-player, from listen/connect to its end: waits
 * for the remote, then every display frame sends a pose and takes the newest frame (window,
 * snapshots, statistics, live line), and at the end prints the latency table and writes the
 * statistics JSON. main() runs one session, or one after another with --loop.
 *
 * Threads: the main thread (it owns the window and polls the context's events).
 */
#ifndef OPENRR_PLAYER_SESSION_H
#define OPENRR_PLAYER_SESSION_H

#include "player_args.h"
#include "pose_source.h"
#include "status.h"
#include "tool_conn.h"
#include "window.h"

#include <openrr/remoting.h>

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* What lives across sessions; main() sets it up. */
struct player_app {
    struct player_options opt;
    struct tool_conn tc;
    struct rr_context *ctx;
    struct pose_source *pose;
    struct scene_script *scene; /* --scene, or NULL */
    struct player_service *service; /* --session, or NULL */
    struct window *window; /* NULL: headless (or the window failed) */
    FILE *stats_out;       /* NULL: no --stats; stdout for "-" */
    bool stats_written;
    enum status_mode status_mode;
    uint32_t present_latency_us;
    volatile sig_atomic_t *stop; /* set by SIGINT / SIGTERM */
    bool quit;                   /* a signal came or the window was closed: no more sessions */
    bool failed;                 /* something other than the connection failed: exit 1 */
    /* Listener: the ports to listen on; after the first listen the bound ones, so that a
     * client finds an ephemeral port again after a connection (--loop). */
    bool listened;
    uint16_t listen_port;
    uint16_t listen_transport_port;
};

/* How a session ended. */
struct session_outcome {
    bool connected; /* reached Connected */
    bool ended;     /* the Disconnected event arrived */
    bool timed_out; /* a client got no outcome in time (already reported) */
    enum rr_disconnect_reason reason;
    char detail[192];
    uint64_t frames;      /* new frames taken by blit */
    uint64_t goal_frames; /* those that count for --frames: all, or with --scene those after
                             the script finished */
};

/* Run one session on app->ctx (disconnected). Returns the exit status it deserves
 * (enum player_exit): 0 clean, 1 another failure, 2 the connection failed or too few frames;
 * the reason is printed on stderr. */
int player_session_run(struct player_app *app, struct session_outcome *out);

#endif /* OPENRR_PLAYER_SESSION_H */
