/* SPDX-License-Identifier: Apache-2.0 */
/*
 * scene_assets — how the host turns a model URI into an open asset. The scene server calls an
 * rr_asset_loader (an interface, so a host can plug its own cache); rr_asset_cache is the
 * stock one: local paths and file:// URIs are opened in place, http(s):// URIs are downloaded
 * with libcurl into a cache directory keyed by URL, and assets with the same content (the
 * header's section-table hash and file size) are opened once and shared.
 *
 * Threads: load() runs on the scene server's load thread and may block (downloads); release()
 * may come from any thread (the server's worker, the render thread through
 * rr_scene_build_view). rr_asset_cache is thread-safe.
 */
#ifndef RR_SCENE_ASSETS_H
#define RR_SCENE_ASSETS_H

#include "openrr/asset.h"
#include "openrr/scene.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Progress of one load, 0–100. Return false to cancel it (load then returns
 * RR_SCENE_CANCELLED). */
typedef bool (*rr_asset_progress_fn)(void *user, uint32_t percent);

struct rr_asset_loader {
    /* Open @p uri and return one reference in *out_asset (give it back with release()).
     * Results: SUCCESS, INVALID_PARAM, NOT_SUPPORTED (scheme), ASSET_NOT_FOUND, ASSET_INVALID,
     * ASSET_CORRUPT, ASSET_TOO_LARGE (download over the limit), NETWORK_ERROR, CANCELLED,
     * OUT_OF_MEMORY. @p err (may be NULL) gets a human message. @p progress may be NULL. */
    enum rr_scene_result (*load)(struct rr_asset_loader *self, const char *uri,
                                 rr_asset_progress_fn progress, void *progress_user,
                                 struct rr_asset **out_asset, char *err, size_t err_size);
    /* Give back one reference obtained from load(). */
    void (*release)(struct rr_asset_loader *self, struct rr_asset *asset);
};

static inline enum rr_scene_result rr_asset_loader_load(struct rr_asset_loader *l, const char *uri,
                                                        rr_asset_progress_fn progress, void *user,
                                                        struct rr_asset **out_asset, char *err,
                                                        size_t err_size)
{
    return l->load(l, uri, progress, user, out_asset, err, err_size);
}

static inline void rr_asset_loader_release(struct rr_asset_loader *l, struct rr_asset *asset)
{
    l->release(l, asset);
}

/* ---- rr_asset_cache: the stock loader ---------------------------------------------------- */

#define RR_ASSET_CACHE_DEFAULT_MAX_DOWNLOAD (4ull << 30)

struct rr_asset_cache_config {
    /* Where downloads are kept (created if missing, mode 0700). NULL = $XDG_CACHE_HOME/openrr
     * or ~/.cache/openrr, else /tmp/openrr-cache-<uid>. Copied. */
    const char *cache_dir;
    /* Largest download accepted, in bytes; larger → ASSET_TOO_LARGE (checked against the
     * announced length and while receiving). 0 = RR_ASSET_CACHE_DEFAULT_MAX_DOWNLOAD. */
    uint64_t max_download_size;
    /* When set, local paths must resolve (realpath) inside this directory; others are
     * ASSET_NOT_FOUND, so a client cannot probe the host's files. NULL = any path. Copied. */
    const char *file_root;
    /* Skip hashing every section at open (structure is validated regardless). */
    bool no_verify_checksums;
    /* Whole-download deadline in seconds. 0 = 600. */
    uint32_t download_timeout_s;
};

struct rr_asset_cache {
    struct rr_asset_loader base; /* first: the cache is a loader */
};

/* Create the stock loader. @p cfg may be NULL. Errors: INVALID_PARAM, OUT_OF_MEMORY,
 * INTERNAL_ERROR (libcurl could not be initialised). */
enum rr_scene_result rr_asset_cache_create(const struct rr_asset_cache_config *cfg,
                                           struct rr_asset_cache **out_cache);
/* Free the cache. Every reference must have been released. NULL ok. */
void rr_asset_cache_destroy(struct rr_asset_cache **cache_ptr);

/* Distinct assets open now (shared ones once). */
size_t rr_asset_cache_open_count(struct rr_asset_cache *cache);

/* The file a URL is (or would be) downloaded to, into @p out. False if it does not fit. */
bool rr_asset_cache_path_for_url(struct rr_asset_cache *cache, const char *url, char *out,
                                 size_t out_size);

/* Map an rr_asset_open() result to a scene result (IO → ASSET_NOT_FOUND). */
enum rr_scene_result rr_scene_result_from_asset(enum rr_asset_result r);

#endif
