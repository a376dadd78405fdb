/* SPDX-License-Identifier: Apache-2.0 */
/*
 * scene_server — the host's end of the scene API: receives the client's requests on the
 * built-in scene channel of the host's (remote-role) context, executes them against an
 * rr_scene and answers each with a result code (docs/scene-protocol.md). When the client
 * disconnects, the scene is cleared ("all server-side scene state is dropped on disconnect").
 *
 * Threads: the network thread only decodes and queues (malformed requests and a full queue are
 * answered there at once). A worker thread executes requests in arrival order; a load thread
 * runs asset loads one at a time (downloads can take minutes), then hands the asset back to the
 * worker, which instantiates it, so all scene changes of one connection happen in one order.
 * Create and destroy from the thread that owns the context, while it is disconnected (create)
 * or in any state (destroy).
 */
#ifndef RR_SCENE_SERVER_H
#define RR_SCENE_SERVER_H

#include "scene.h"

#include "openrr/remoting.h"

struct rr_scene_server;

struct rr_scene_server_config {
    /* Where models come from. NULL = a stock rr_asset_cache with default settings, owned by
     * the server. A loader passed here must outlive the server and the scene. */
    struct rr_asset_loader *loader;
    /* Requests queued and not yet executed beyond which new ones are answered
     * RR_SCENE_TOO_MANY_REQUESTS. 0 = 1024. */
    uint32_t max_queued_requests;
};

/* Attach to @p ctx (RR_ROLE_REMOTE, disconnected) and start the threads. @p scene and @p ctx
 * are not owned and must outlive the server. Errors: INVALID_PARAM (NULL, wrong role, context
 * not disconnected or the scene channel taken), OUT_OF_MEMORY, INTERNAL_ERROR (threads, or the
 * stock loader failed). */
enum rr_scene_result rr_scene_server_create(struct rr_context *ctx, struct rr_scene *scene,
                                            const struct rr_scene_server_config *cfg,
                                            struct rr_scene_server **out_server);

/* Detach, cancel a running load, stop the threads, drop queued requests unanswered, free, and
 * set *server_ptr to NULL. The scene is left as it is. NULL ok. */
void rr_scene_server_destroy(struct rr_scene_server **server_ptr);

struct rr_scene_server_stats {
    uint64_t requests;  /* well-formed requests received */
    uint64_t malformed; /* answered INVALID_PARAM / NOT_SUPPORTED, or dropped (bad header) */
    uint64_t rejected;  /* answered TOO_MANY_REQUESTS */
    uint64_t executed;  /* answered by the worker */
    uint64_t loads;     /* models loaded successfully */
    uint64_t resets;    /* scene cleared after a disconnect */
};
void rr_scene_server_get_stats(struct rr_scene_server *server, struct rr_scene_server_stats *out);

/* Block until every request received so far has been answered (tests). */
void rr_scene_server_flush(struct rr_scene_server *server);

#endif
