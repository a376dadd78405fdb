/* SPDX-License-Identifier: Apache-2.0 */
/*
 * host_assets — the asset loader the host gives its scene server: it wraps the stock
 * rr_asset_cache and keeps every open asset registered with the renderer, so a model the
 * client loads is drawn (the renderer refuses draws of unregistered assets) and its GPU copy
 * goes when the scene gives the asset back.
 *
 * Threads: load() runs on the scene server's load thread (and the main thread at start),
 * release() on any thread; they only touch the table under its mutex. Releases are deferred:
 * host_assets_collect() on the render thread drops the renderer handle before the cache may
 * free the asset, so a handle never outlives the pointer it was made for. Each load's duration
 * goes to the inspector's timing capture, on the loading thread's lane, under the mutex (so
 * that host_assets_set_inspector(NULL) ends every use of the inspector).
 */
#ifndef RR_HOST_ASSETS_H
#define RR_HOST_ASSETS_H

#include "inspector.h"
#include "render.h"
#include "scene_assets.h"
#include "scene_view.h"

#include <stdbool.h>
#include <stddef.h>

struct host_assets {
    struct rr_asset_loader base; /* first: the scene server sees only this */
    void *priv;
};

/* Wrap @p inner (not owned; outlives this) for @p renderer (render thread only). */
bool host_assets_init(struct host_assets *a, struct rr_asset_loader *inner,
                      struct rr_renderer *renderer);
/* Render thread: give back what was released since the last call. */
void host_assets_collect(struct host_assets *a);
/* Render thread: register with the renderer every asset @p view draws that is not yet
 * (an upload failure is logged once per asset, and its draws are then skipped). true when
 * something was uploaded (or tried). */
bool host_assets_prepare(struct host_assets *a, const struct rr_scene_view *view);
/* Load @p uri through the wrapper and upload it now (start-up preloading), so the first frame
 * does not wait for it. On failure @p err says why; nothing stays referenced. */
bool host_assets_preload(struct host_assets *a, const char *uri, struct rr_asset **out_asset,
                         char *err, size_t err_size);
/* Record each load in @p insp's timing capture from now on; NULL stops it (call that before
 * destroying the inspector: a load in progress on another thread finishes its event first).
 * Loads before the first call (the preloads at start) are kept, up to 64, and recorded then.
 * Any thread. */
void host_assets_set_inspector(struct host_assets *a, struct rr_inspector *insp);
/* Render thread, at the end: collect, then free the table. Every reference must be back. */
void host_assets_fini(struct host_assets *a);

#endif
