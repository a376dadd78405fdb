/* SPDX-License-Identifier: Apache-2.0 */
/*
 * asset_download — fetch an http(s) URL into a file of the asset cache with libcurl, bounded
 * in size and time, reporting progress. The file is written under a temporary name and renamed
 * when complete; a sidecar "<path>.url" names the URL it holds, so a later load of the same
 * URL is served from disk. Runs on the caller's thread (the scene server's load thread).
 */
#ifndef RR_ASSET_DOWNLOAD_H
#define RR_ASSET_DOWNLOAD_H

#include "scene_assets.h"

struct rr_download_config {
    const char *url;
    const char *path;  /* where the cache keeps it */
    uint64_t max_size; /* larger → ASSET_TOO_LARGE */
    uint32_t timeout_s;
    rr_asset_progress_fn progress; /* 0–99 while downloading; may be NULL */
    void *progress_user;
};

/* curl_global_init, once per process. False when libcurl cannot start. */
bool rr_download_global_init(void);

/* Download unless the cache already holds the URL. Results: SUCCESS, ASSET_NOT_FOUND (HTTP 404
 * or 410), ASSET_TOO_LARGE, NETWORK_ERROR (anything else: resolve, connect, TLS, HTTP ≥ 400,
 * timeout, a cache directory that cannot be written), CANCELLED, OUT_OF_MEMORY. */
enum rr_scene_result rr_download(const struct rr_download_config *cfg, char *err, size_t err_size);

/* Forget that @p path holds its URL (after it turned out to be no valid asset). */
void rr_download_forget(const char *path);

/* @p url as messages and logs may show it: an http(s) URL's user info and query (where a SAS
 * token or a password lives) are left out ("https://host/dir/a.rrasset?…"); a path stays as
 * it is. Always NUL-terminated (truncated to @p size). */
void rr_download_shown_url(const char *url, char *out, size_t size);

#endif
