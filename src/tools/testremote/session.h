/* SPDX-License-Identifier: Apache-2.0 */
/*
 * session — one listen or connect of openrr-testremote, after it was started: waits for the
 * player, then ticks at the frame rate (newest pose → scene → render → submit with the pose id
 * and render times), polls the connection's events between ticks, shows the live status line,
 * and prints the summary when the connection ends. main() wires the objects and decides
 * whether to listen again.
 *
 * Threads: the main thread (the renderer's GL context is current on it).
 */
#ifndef TR_SESSION_H
#define TR_SESSION_H

#include "options.h"
#include "renderer.h"

#include <openrr/stream.h>

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

/* What a session works with; owned by main(). */
struct app {
    const struct options *opt;
    const struct tool_conn *tc;
    struct rr_context *ctx;
    struct rr_stream_remote *remote;
    struct renderer *renderer;
    const volatile sig_atomic_t *stop; /* set by SIGINT / SIGTERM */
};

struct session_result {
    bool connected;                   /* a connection was established */
    enum rr_disconnect_reason reason; /* why it (or the attempt) ended */
    uint16_t port;                    /* a listener's bound ports, 0 when it never listened */
    uint16_t transport_port;
};

/* Run the session whose listen or connect was just started on app->ctx until it ends.
 * Returns the exit status it deserves: 0 ended by request (ours or the player's), 1 another
 * error (rendering, submitting), 2 the connection failed or ended abnormally (said on
 * stderr). */
int session_run(const struct app *app, struct session_result *out);

#endif
