/* SPDX-License-Identifier: Apache-2.0 */
/*
 * host — what openrr-host's main() wires together and hands to the connection loop
 * (host_session.c): the renderer, the scene and its server, the remoting context with its
 * stream, the assets preloaded at start and the optional inspector.
 *
 * Threads: the main thread owns all of it (and the renderer's GL context).
 */
#ifndef RR_HOST_H
#define RR_HOST_H

#include "host_assets.h"
#include "host_inspect.h"
#include "host_options.h"

#include "auth_jwt.h"
#include "inspector.h"
#include "render.h"
#include "scene.h"
#include "scene_server.h"

#include <openrr/stream.h>
#include <tool_conn.h>

#include <signal.h>

struct host {
    const struct host_options *opt;
    struct tool_conn *tc;
    volatile sig_atomic_t *stop;
    struct rr_renderer *renderer;
    struct rr_asset_cache *cache;
    struct host_assets assets;
    struct rr_asset *preloaded[HOST_MAX_ASSETS]; /* one reference each, held until the end */
    struct rr_scene *scene;
    struct rr_context *ctx;
    struct rr_stream_remote *remote;
    struct rr_scene_server *server;
    struct rr_jwks *jwks;
    struct rr_jwt_receiver jwt; /* used with --token-jwks */
    struct host_inspect inspect;
    bool inspect_ready;
    struct rr_inspector *inspector;
};

/* Listen, and serve one connection after another until *stop. Prints the readiness line once
 * listening. Returns the exit status: 0 after a signal, 1 when listening failed. */
int host_serve(struct host *h);

#endif
