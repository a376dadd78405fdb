/* SPDX-License-Identifier: Apache-2.0 */
/*
 * host_assets — the renderer-aware asset loader (see host_assets.h).
 *
 * Threads: as the header says; `lock` guards the table and the pending releases.
 */
#include "host_assets.h"
#include "host_trace.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EARLY_LOADS 64 /* loads kept until there is an inspector: the preloads (--asset) */

struct entry {
    struct rr_asset *asset;
    uint32_t refs;                  /* loads not yet collected */
    struct rr_render_asset *handle; /* NULL until registered */
    bool failed;                    /* the upload failed: do not retry every frame */
};

/* A load's timing event, kept while there is no inspector yet. */
struct load_event {
    uint64_t start_us, dur_us;
    uint32_t tid;
    char name[HOST_TRACE_NAME_SIZE];
};

struct table {
    struct rr_asset_loader *inner;
    struct rr_renderer *renderer;
    pthread_mutex_t lock;
    struct entry *entries;
    size_t count, cap;
    struct rr_asset **pending; /* releases for the render thread */
    size_t pending_count, pending_cap;
    size_t total_refs;         /* references out (pending ones included) */
    struct rr_inspector *insp; /* NULL: loads are not recorded (or kept in early[]) */
    bool traced;               /* host_assets_set_inspector was called: early[] is done with */
    struct load_event early[EARLY_LOADS];
    size_t early_count;
};

static struct table *T(struct host_assets *a)
{
    return a->priv;
}

static struct entry *find(struct table *t, const struct rr_asset *asset)
{
    for (size_t i = 0; i < t->count; i++) {
        if (t->entries[i].asset == asset) {
            return &t->entries[i];
        }
    }
    return NULL;
}

static bool grow(void **items, size_t *cap, size_t count, size_t size)
{
    if (count < *cap) {
        return true;
    }
    size_t n = *cap ? *cap * 2 : 16;
    void *p = realloc(*items, n * size);
    if (p == NULL) {
        return false;
    }
    *items = p;
    *cap = n;
    return true;
}

/* The timing event of one load (the URI shown without its secrets), or kept for later. */
static void trace_load(struct table *t, const char *uri, bool ok, uint64_t start_us,
                       uint64_t end_us)
{
    struct load_event ev = {.start_us = start_us,
                            .dur_us = end_us > start_us ? end_us - start_us : 0,
                            .tid = host_trace_tid()};
    host_trace_load_name(uri, ok, ev.name, sizeof ev.name);
    pthread_mutex_lock(&t->lock);
    if (t->insp != NULL) {
        rr_inspector_trace_event(t->insp, ev.name, "asset", ev.start_us, ev.dur_us, ev.tid);
    } else if (!t->traced && t->early_count < EARLY_LOADS) {
        t->early[t->early_count++] = ev;
    }
    pthread_mutex_unlock(&t->lock);
}

static enum rr_scene_result load(struct rr_asset_loader *self, const char *uri,
                                 rr_asset_progress_fn progress, void *user,
                                 struct rr_asset **out_asset, char *err, size_t err_size)
{
    struct table *t = T((struct host_assets *)self);
    struct rr_asset *asset = NULL;
    uint64_t start = rr_stream_now_us(0);
    enum rr_scene_result r =
        rr_asset_loader_load(t->inner, uri, progress, user, &asset, err, err_size);
    trace_load(t, uri, r == RR_SCENE_SUCCESS, start, rr_stream_now_us(0));
    if (r != RR_SCENE_SUCCESS) {
        return r;
    }
    pthread_mutex_lock(&t->lock);
    /* Room for every outstanding reference's release, so release() never allocates. */
    struct entry *e = find(t, asset);
    bool ok = grow((void **)&t->pending, &t->pending_cap, t->total_refs + 1, sizeof *t->pending);
    if (ok && e == NULL) {
        ok = grow((void **)&t->entries, &t->cap, t->count, sizeof *t->entries);
        if (ok) {
            e = &t->entries[t->count++];
            *e = (struct entry){.asset = asset};
        }
    }
    if (ok) {
        e->refs++;
        t->total_refs++;
    }
    pthread_mutex_unlock(&t->lock);
    if (!ok) {
        rr_asset_loader_release(t->inner, asset);
        if (err != NULL && err_size > 0) {
            snprintf(err, err_size, "out of memory");
        }
        return RR_SCENE_OUT_OF_MEMORY;
    }
    *out_asset = asset;
    return RR_SCENE_SUCCESS;
}

static void release(struct rr_asset_loader *self, struct rr_asset *asset)
{
    struct table *t = T((struct host_assets *)self);
    pthread_mutex_lock(&t->lock);
    if (grow((void **)&t->pending, &t->pending_cap, t->pending_count, sizeof *t->pending)) {
        t->pending[t->pending_count++] = asset;
    } else {
        fprintf(stderr, "openrr-host: out of memory: an asset stays open\n");
    }
    pthread_mutex_unlock(&t->lock);
}

bool host_assets_init(struct host_assets *a, struct rr_asset_loader *inner,
                      struct rr_renderer *renderer)
{
    struct table *t = calloc(1, sizeof *t);
    if (t == NULL) {
        return false;
    }
    t->inner = inner;
    t->renderer = renderer;
    pthread_mutex_init(&t->lock, NULL);
    a->base.load = load;
    a->base.release = release;
    a->priv = t;
    return true;
}

void host_assets_collect(struct host_assets *a)
{
    struct table *t = T(a);
    for (;;) {
        struct rr_render_asset *handle = NULL;
        struct rr_asset *asset = NULL;
        pthread_mutex_lock(&t->lock);
        if (t->pending_count > 0) {
            asset = t->pending[--t->pending_count];
            struct entry *e = find(t, asset);
            if (e != NULL) {
                t->total_refs--;
            }
            if (e != NULL && --e->refs == 0) {
                handle = e->handle;
                *e = t->entries[--t->count];
            }
        }
        pthread_mutex_unlock(&t->lock);
        if (asset == NULL) {
            return;
        }
        if (handle != NULL) {
            rr_renderer_asset_release(t->renderer, &handle);
        }
        rr_asset_loader_release(t->inner, asset);
    }
}

bool host_assets_prepare(struct host_assets *a, const struct rr_scene_view *view)
{
    struct table *t = T(a);
    const struct rr_asset *last = NULL;
    bool uploaded = false;
    for (size_t i = 0; i < view->draw_count; i++) {
        const struct rr_asset *asset = view->draws[i].asset;
        if (asset == last) {
            continue; /* draws of one model come together */
        }
        last = asset;
        pthread_mutex_lock(&t->lock);
        struct entry *e = find(t, asset);
        bool need = e != NULL && e->handle == NULL && !e->failed;
        pthread_mutex_unlock(&t->lock);
        if (!need) {
            continue;
        }
        /* Only this thread removes entries (collect), so e stays valid meanwhile; other
         * threads may move the array only by growing it under the lock: look again. */
        struct rr_render_asset *handle = NULL;
        char err[256] = "";
        uploaded = true;
        bool ok = rr_renderer_asset_get(t->renderer, asset, &handle, err, sizeof err);
        if (!ok) {
            fprintf(stderr, "openrr-host: cannot upload an asset to the GPU: %s\n", err);
        }
        pthread_mutex_lock(&t->lock);
        e = find(t, asset);
        if (e != NULL) {
            e->handle = handle;
            e->failed = !ok;
        }
        pthread_mutex_unlock(&t->lock);
    }
    return uploaded;
}

bool host_assets_preload(struct host_assets *a, const char *uri, struct rr_asset **out_asset,
                         char *err, size_t err_size)
{
    struct table *t = T(a);
    struct rr_asset *asset = NULL;
    enum rr_scene_result r = load(&a->base, uri, NULL, NULL, &asset, err, err_size);
    if (r != RR_SCENE_SUCCESS) {
        if (err != NULL && err_size > 0 && err[0] == '\0') {
            snprintf(err, err_size, "%s", rr_scene_result_str(r));
        }
        return false;
    }
    struct rr_scene_draw draw = {.asset = asset};
    struct rr_scene_view view = {.draws = &draw, .draw_count = 1};
    host_assets_prepare(a, &view);
    pthread_mutex_lock(&t->lock);
    struct entry *e = find(t, asset);
    bool failed = e == NULL || e->failed;
    pthread_mutex_unlock(&t->lock);
    if (failed) {
        snprintf(err, err_size, "the GPU upload failed (see above)");
        release(&a->base, asset);
        host_assets_collect(a);
        return false;
    }
    *out_asset = asset;
    return true;
}

void host_assets_set_inspector(struct host_assets *a, struct rr_inspector *insp)
{
    struct table *t = T(a);
    pthread_mutex_lock(&t->lock);
    t->insp = insp;
    if (!t->traced) {
        t->traced = true;
        for (size_t i = 0; insp != NULL && i < t->early_count; i++) {
            const struct load_event *ev = &t->early[i];
            rr_inspector_trace_event(insp, ev->name, "asset", ev->start_us, ev->dur_us, ev->tid);
        }
        t->early_count = 0;
    }
    pthread_mutex_unlock(&t->lock);
}

void host_assets_fini(struct host_assets *a)
{
    struct table *t = T(a);
    if (t == NULL) {
        return;
    }
    host_assets_collect(a);
    for (size_t i = 0; i < t->count; i++) {
        if (t->entries[i].handle != NULL) {
            rr_renderer_asset_release(t->renderer, &t->entries[i].handle);
        }
    }
    pthread_mutex_destroy(&t->lock);
    free(t->entries);
    free(t->pending);
    free(t);
    a->priv = NULL;
}
