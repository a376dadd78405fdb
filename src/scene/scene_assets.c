/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rr_asset_cache — the stock rr_asset_loader (scene_assets.h): URI schemes, local files,
 * sharing by content, result mapping. Downloads are in asset_download.c. Any thread: one mutex
 * guards the table of open assets; loading itself (open, verify, download) runs unlocked.
 */
#include "asset_download.h"
#include "scene_assets.h"

#include "u_log.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define LOG "scene"

struct shared_asset {
    struct rr_asset *asset;
    uint64_t key_hash; /* section_table_hash: covers every section's hash */
    uint64_t key_size;
    uint32_t refs;
    struct shared_asset *next;
};

struct cache {
    struct rr_asset_cache base;
    pthread_mutex_t lock;
    struct shared_asset *open;
    char *cache_dir;
    char *file_root; /* realpath'd, or NULL */
    uint64_t max_download;
    bool verify;
    uint32_t timeout_s;
};

static struct cache *from_loader(struct rr_asset_loader *l)
{
    return (struct cache *)(void *)l;
}

enum rr_scene_result rr_scene_result_from_asset(enum rr_asset_result r)
{
    switch (r) {
    case RR_ASSET_OK:
        return RR_SCENE_SUCCESS;
    case RR_ASSET_ERROR_INVALID_ARGUMENT:
        return RR_SCENE_INVALID_PARAM;
    case RR_ASSET_ERROR_IO:
        return RR_SCENE_ASSET_NOT_FOUND;
    case RR_ASSET_ERROR_NOT_AN_ASSET:
    case RR_ASSET_ERROR_VERSION:
        return RR_SCENE_ASSET_INVALID;
    case RR_ASSET_ERROR_OUT_OF_MEMORY:
        return RR_SCENE_OUT_OF_MEMORY;
    case RR_ASSET_ERROR_TRUNCATED:
    case RR_ASSET_ERROR_SECTION_TABLE:
    case RR_ASSET_ERROR_CHECKSUM:
    case RR_ASSET_ERROR_DECOMPRESS:
    case RR_ASSET_ERROR_BAD_RECORD:
        return RR_SCENE_ASSET_CORRUPT;
    }
    return RR_SCENE_INTERNAL_ERROR;
}

static void set_err(char *err, size_t size, const char *fmt, const char *arg)
{
    if (err != NULL && size > 0) {
        snprintf(err, size, fmt, arg);
    }
}

/* Open @p path and share it with an already open asset of the same content. */
static enum rr_scene_result open_shared(struct cache *c, const char *path,
                                        struct rr_asset **out_asset, char *err, size_t err_size)
{
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
        set_err(err, err_size, "no asset file at %s", path);
        return RR_SCENE_ASSET_NOT_FOUND;
    }
    char msg[256] = "";
    struct rr_asset *a = NULL;
    enum rr_asset_result ar =
        rr_asset_open(path, c->verify ? RR_ASSET_OPEN_VERIFY_CHECKSUMS : 0, &a, msg, sizeof(msg));
    if (ar != RR_ASSET_OK) {
        set_err(err, err_size, "%s", msg);
        enum rr_scene_result r = rr_scene_result_from_asset(ar);
        /* The file is there (stat said so): an I/O failure now is not "not found". */
        return r == RR_SCENE_ASSET_NOT_FOUND ? RR_SCENE_ASSET_CORRUPT : r;
    }
    const struct rr_asset_file_header *h = rr_asset_header(a);
    pthread_mutex_lock(&c->lock);
    struct shared_asset *s = c->open;
    while (s != NULL && !(s->key_hash == h->section_table_hash && s->key_size == h->file_size)) {
        s = s->next;
    }
    if (s != NULL) {
        s->refs++;
        pthread_mutex_unlock(&c->lock);
        rr_asset_close(&a);
        *out_asset = s->asset;
        return RR_SCENE_SUCCESS;
    }
    s = calloc(1, sizeof(*s));
    if (s == NULL) {
        pthread_mutex_unlock(&c->lock);
        rr_asset_close(&a);
        return RR_SCENE_OUT_OF_MEMORY;
    }
    s->asset = a;
    s->key_hash = h->section_table_hash;
    s->key_size = h->file_size;
    s->refs = 1;
    s->next = c->open;
    c->open = s;
    pthread_mutex_unlock(&c->lock);
    *out_asset = a;
    return RR_SCENE_SUCCESS;
}

/* Decode %XX in a file:// path. False for a malformed escape or an embedded NUL. */
static bool percent_decode(const char *in, char *out, size_t out_size)
{
    size_t n = 0;
    for (const char *p = in; *p != '\0'; p++) {
        char ch = *p;
        if (ch == '%') {
            unsigned v;
            if (sscanf(p + 1, "%2x", &v) != 1 || p[1] == '\0' || p[2] == '\0' || v == 0) {
                return false;
            }
            ch = (char)v;
            p += 2;
        }
        if (n + 1 >= out_size) {
            return false;
        }
        out[n++] = ch;
    }
    out[n] = '\0';
    return true;
}

static enum rr_scene_result load_file(struct cache *c, const char *path, rr_asset_progress_fn pf,
                                      void *pu, struct rr_asset **out_asset, char *err,
                                      size_t err_size)
{
    char resolved[PATH_MAX];
    if (c->file_root != NULL) {
        size_t rl = strlen(c->file_root);
        if (realpath(path, resolved) == NULL || strncmp(resolved, c->file_root, rl) != 0 ||
            (resolved[rl] != '/' && resolved[rl] != '\0')) {
            /* Outside the root reads exactly like a missing file: no probing of the host. */
            set_err(err, err_size, "no asset file at %s", path);
            return RR_SCENE_ASSET_NOT_FOUND;
        }
        path = resolved;
    }
    if (pf != NULL && !pf(pu, 0)) {
        return RR_SCENE_CANCELLED;
    }
    enum rr_scene_result r = open_shared(c, path, out_asset, err, err_size);
    if (r == RR_SCENE_SUCCESS && pf != NULL) {
        pf(pu, 100);
    }
    return r;
}

static enum rr_scene_result cache_load(struct rr_asset_loader *self, const char *uri,
                                       rr_asset_progress_fn pf, void *pu,
                                       struct rr_asset **out_asset, char *err, size_t err_size)
{
    struct cache *c = from_loader(self);
    if (err != NULL && err_size > 0) {
        err[0] = '\0';
    }
    if (uri == NULL || out_asset == NULL || uri[0] == '\0' ||
        strnlen(uri, RR_SCENE_MAX_URI + 1) > RR_SCENE_MAX_URI) {
        return RR_SCENE_INVALID_PARAM;
    }
    *out_asset = NULL;
    if (strncasecmp(uri, "http://", 7) == 0 || strncasecmp(uri, "https://", 8) == 0) {
        char path[PATH_MAX];
        if (!rr_asset_cache_path_for_url(&c->base, uri, path, sizeof(path))) {
            return RR_SCENE_INVALID_PARAM;
        }
        struct rr_download_config dc = {
            .url = uri,
            .path = path,
            .max_size = c->max_download,
            .timeout_s = c->timeout_s,
            .progress = pf,
            .progress_user = pu,
        };
        enum rr_scene_result r = rr_download(&dc, err, err_size);
        if (r != RR_SCENE_SUCCESS) {
            return r;
        }
        r = open_shared(c, path, out_asset, err, err_size);
        if (r == RR_SCENE_ASSET_CORRUPT || r == RR_SCENE_ASSET_INVALID) {
            /* Do not keep serving a bad download from the cache. */
            unlink(path);
            rr_download_forget(path);
        } else if (r == RR_SCENE_SUCCESS && pf != NULL) {
            pf(pu, 100);
        }
        return r;
    }
    if (strncasecmp(uri, "file://", 7) == 0) {
        const char *p = uri + 7;
        if (strncasecmp(p, "localhost/", 10) == 0) {
            p += 9;
        }
        if (p[0] != '/') {
            set_err(err, err_size, "file URI with a host: %s", uri);
            return RR_SCENE_NOT_SUPPORTED;
        }
        char path[RR_SCENE_MAX_URI + 1];
        if (!percent_decode(p, path, sizeof(path))) {
            return RR_SCENE_INVALID_PARAM;
        }
        return load_file(c, path, pf, pu, out_asset, err, err_size);
    }
    const char *colon = strstr(uri, "://");
    if (colon != NULL && strchr(uri, '/') > colon) {
        char shown[RR_SCENE_MAX_URI + 8];
        rr_download_shown_url(uri, shown, sizeof shown);
        set_err(err, err_size, "unsupported URI scheme: %s", shown);
        return RR_SCENE_NOT_SUPPORTED;
    }
    return load_file(c, uri, pf, pu, out_asset, err, err_size);
}

static void cache_release(struct rr_asset_loader *self, struct rr_asset *asset)
{
    struct cache *c = from_loader(self);
    struct rr_asset *to_close = NULL;
    pthread_mutex_lock(&c->lock);
    for (struct shared_asset **p = &c->open; *p != NULL; p = &(*p)->next) {
        struct shared_asset *s = *p;
        if (s->asset == asset) {
            if (--s->refs == 0) {
                *p = s->next;
                to_close = s->asset;
                free(s);
            }
            break;
        }
    }
    pthread_mutex_unlock(&c->lock);
    if (to_close != NULL) {
        rr_asset_close(&to_close);
    }
}

/* ---- creation -------------------------------------------------------------------------------- */

static char *default_cache_dir(void)
{
    char buf[PATH_MAX];
    const char *xdg = getenv("XDG_CACHE_HOME");
    const char *home = getenv("HOME");
    if (xdg != NULL && xdg[0] == '/') {
        snprintf(buf, sizeof(buf), "%s/openrr/assets", xdg);
    } else if (home != NULL && home[0] == '/') {
        snprintf(buf, sizeof(buf), "%s/.cache/openrr/assets", home);
    } else {
        snprintf(buf, sizeof(buf), "/tmp/openrr-cache-%u", (unsigned)getuid());
    }
    return strdup(buf);
}

enum rr_scene_result rr_asset_cache_create(const struct rr_asset_cache_config *cfg,
                                           struct rr_asset_cache **out_cache)
{
    if (out_cache == NULL) {
        return RR_SCENE_INVALID_PARAM;
    }
    *out_cache = NULL;
    struct rr_asset_cache_config z = {0};
    if (cfg == NULL) {
        cfg = &z;
    }
    if (!rr_download_global_init()) {
        return RR_SCENE_INTERNAL_ERROR;
    }
    struct cache *c = calloc(1, sizeof(*c));
    if (c == NULL) {
        return RR_SCENE_OUT_OF_MEMORY;
    }
    c->base.base.load = cache_load;
    c->base.base.release = cache_release;
    c->max_download =
        cfg->max_download_size ? cfg->max_download_size : RR_ASSET_CACHE_DEFAULT_MAX_DOWNLOAD;
    c->verify = !cfg->no_verify_checksums;
    c->timeout_s = cfg->download_timeout_s ? cfg->download_timeout_s : 600;
    c->cache_dir = cfg->cache_dir != NULL ? strdup(cfg->cache_dir) : default_cache_dir();
    if (c->cache_dir == NULL || pthread_mutex_init(&c->lock, NULL) != 0) {
        free(c->cache_dir);
        free(c);
        return RR_SCENE_OUT_OF_MEMORY;
    }
    if (cfg->file_root != NULL) {
        char resolved[PATH_MAX];
        if (realpath(cfg->file_root, resolved) == NULL ||
            (c->file_root = strdup(resolved)) == NULL) {
            U_LOG_E(LOG, "asset file root %s: %s", cfg->file_root, strerror(errno));
            pthread_mutex_destroy(&c->lock);
            free(c->cache_dir);
            free(c);
            return RR_SCENE_INVALID_PARAM;
        }
    }
    *out_cache = &c->base;
    return RR_SCENE_SUCCESS;
}

void rr_asset_cache_destroy(struct rr_asset_cache **cache_ptr)
{
    if (cache_ptr == NULL || *cache_ptr == NULL) {
        return;
    }
    struct cache *c = (struct cache *)(void *)*cache_ptr;
    *cache_ptr = NULL;
    while (c->open != NULL) {
        struct shared_asset *s = c->open;
        c->open = s->next;
        U_LOG_W(LOG, "asset cache destroyed with an asset still referenced (%u)", s->refs);
        rr_asset_close(&s->asset);
        free(s);
    }
    pthread_mutex_destroy(&c->lock);
    free(c->cache_dir);
    free(c->file_root);
    free(c);
}

size_t rr_asset_cache_open_count(struct rr_asset_cache *cache)
{
    struct cache *c = (struct cache *)(void *)cache;
    pthread_mutex_lock(&c->lock);
    size_t n = 0;
    for (struct shared_asset *s = c->open; s != NULL; s = s->next) {
        n++;
    }
    pthread_mutex_unlock(&c->lock);
    return n;
}

/* FNV-1a 64: a stable file name per URL; a collision is caught by the .url file beside it. */
static uint64_t fnv1a(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (; *s != '\0'; s++) {
        h = (h ^ (uint8_t)*s) * 0x100000001b3ull;
    }
    return h;
}

bool rr_asset_cache_path_for_url(struct rr_asset_cache *cache, const char *url, char *out,
                                 size_t out_size)
{
    struct cache *c = (struct cache *)(void *)cache;
    int n =
        snprintf(out, out_size, "%s/%016llx.rrasset", c->cache_dir, (unsigned long long)fnv1a(url));
    return n > 0 && (size_t)n < out_size;
}
