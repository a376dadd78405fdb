/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The scene API over a real connection: a host context (remote role) with an rr_scene and its
 * scene server, a player context with the scene client, both in one process over loopback.
 * Every op makes a round trip and its effect is checked in the host's scene; errors come back
 * with their codes; hostile requests written by hand get answers (or are dropped) without
 * harm; a disconnect completes pending calls with ConnectionLost and clears the scene; a full
 * request queue answers TooManyRequests; a model is also loaded over http from a local python
 * http.server. Models are converted at test time by openrr-convert.
 */
#include "rr_test.h"

#include "openrr/scene.h"

#include "scene.h"
#include "scene_server.h"
#include "scene_wire.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define WAIT_MS 20000
#define BOX_GLTF "/usr/share/assimp/models/glTF2/BoxTextured-glTF/BoxTextured.gltf"

static char g_dir[256];
static char g_box[512];
static char g_text[512];
static bool g_have_assets;

static void sleep_ms(int ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static int group_setup(void **state)
{
    (void)state;
    snprintf(g_dir, sizeof(g_dir), "/tmp/rr-test-scene-rpc-XXXXXX");
    if (mkdtemp(g_dir) == NULL) {
        return -1;
    }
    snprintf(g_box, sizeof(g_box), "%s/BoxTextured.rrasset", g_dir);
    snprintf(g_text, sizeof(g_text), "%s/notes.rrasset", g_dir);
    FILE *f = fopen(g_text, "w");
    if (f == NULL) {
        return -1;
    }
    fputs("plain text, not an asset at all, but long enough for a header\n", f);
    fclose(f);
#ifdef RR_CONVERT_PATH
    char cmd[2048];
    snprintf(cmd, sizeof(cmd), "'%s' '%s' '%s' >/dev/null 2>&1", RR_CONVERT_PATH, BOX_GLTF, g_dir);
    g_have_assets = access(BOX_GLTF, R_OK) == 0 && system(cmd) == 0;
#endif
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    char cmd[400];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", g_dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* ---- completions ---------------------------------------------------------------------------- */

/* What one call's callbacks saw. Filled on the client's callback thread, read by the test. */
struct waiter {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int done;
    enum rr_scene_result result;
    uint32_t id;
    struct rr_scene_hit hits[RR_SCENE_MAX_HITS];
    uint32_t ids[64];
    size_t count;
    bool truncated;
    uint32_t progress_calls;
    uint32_t last_percent;
    bool progress_monotonic;
    pthread_t thread;
};

static struct waiter *waiter_new(void)
{
    struct waiter *w = calloc(1, sizeof(*w));
    assert_non_null(w);
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->cond, NULL);
    w->progress_monotonic = true;
    return w;
}

static void waiter_free(struct waiter *w)
{
    pthread_cond_destroy(&w->cond);
    pthread_mutex_destroy(&w->lock);
    free(w);
}

static void finish(struct waiter *w, enum rr_scene_result r)
{
    w->result = r;
    w->thread = pthread_self();
    w->done++;
    pthread_cond_broadcast(&w->cond);
    pthread_mutex_unlock(&w->lock);
}

static void on_done(void *user, enum rr_scene_result r)
{
    struct waiter *w = user;
    pthread_mutex_lock(&w->lock);
    finish(w, r);
}

static void on_id(void *user, enum rr_scene_result r, uint32_t id)
{
    struct waiter *w = user;
    pthread_mutex_lock(&w->lock);
    w->id = id;
    finish(w, r);
}

static void on_hits(void *user, enum rr_scene_result r, const struct rr_scene_hit *hits,
                    size_t count)
{
    struct waiter *w = user;
    pthread_mutex_lock(&w->lock);
    w->count = count;
    if (count > 0) { /* hits is NULL without any */
        memcpy(w->hits, hits, count * sizeof(*hits));
    }
    finish(w, r);
}

static void on_ids(void *user, enum rr_scene_result r, const uint32_t *ids, size_t count,
                   bool truncated)
{
    struct waiter *w = user;
    pthread_mutex_lock(&w->lock);
    w->count = count;
    w->truncated = truncated;
    if (count > 0) {
        memcpy(w->ids, ids, (count < 64 ? count : 64) * sizeof(*ids));
    }
    finish(w, r);
}

static void on_progress(void *user, uint32_t percent)
{
    struct waiter *w = user;
    pthread_mutex_lock(&w->lock);
    if (w->progress_calls > 0 && percent <= w->last_percent) {
        w->progress_monotonic = false;
    }
    w->progress_calls++;
    w->last_percent = percent;
    pthread_mutex_unlock(&w->lock);
}

/* Wait for the callback; returns its result. */
static enum rr_scene_result wait_result(struct waiter *w)
{
    pthread_mutex_lock(&w->lock);
    uint64_t deadline = rr_test_now_ms() + WAIT_MS;
    while (w->done == 0 && rr_test_now_ms() < deadline) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 20 * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&w->cond, &w->lock, &ts);
    }
    int done = w->done;
    enum rr_scene_result r = w->result;
    bool other_thread = !pthread_equal(w->thread, pthread_self());
    pthread_mutex_unlock(&w->lock);
    if (done != 1) {
        fail_msg("callback ran %d times", done);
    }
    assert_true(other_thread);
    return r;
}

/* ---- a connected pair --------------------------------------------------------------------- */

struct slow_loader;

struct duo {
    struct rr_context *host;   /* remote role: renders, runs the scene server */
    struct rr_context *player; /* player role: the application with the scene client */
    struct rr_scene *scene;
    struct rr_asset_cache *cache;
    struct rr_scene_server *server;
    struct rr_scene_client *client;
    struct rr_builtin_receiver *raw; /* instead of the client, for hand-made requests */
};

static struct duo *duo_new(const struct rr_scene_config *scfg, struct rr_asset_loader *loader,
                           uint32_t max_queued, struct rr_builtin_receiver *raw)
{
    struct duo *d = calloc(1, sizeof(*d));
    assert_non_null(d);
    struct rr_context_config hc = rr_test_config(RR_ROLE_REMOTE);
    struct rr_context_config pc = rr_test_config(RR_ROLE_PLAYER);
    assert_int_equal(rr_context_create(&hc, &d->host), RR_OK);
    assert_int_equal(rr_context_create(&pc, &d->player), RR_OK);
    assert_int_equal(rr_scene_create(scfg, &d->scene), RR_SCENE_SUCCESS);
    if (loader == NULL) {
        char dir[400];
        snprintf(dir, sizeof(dir), "%s/cache", g_dir);
        struct rr_asset_cache_config cc = {.cache_dir = dir};
        assert_int_equal(rr_asset_cache_create(&cc, &d->cache), RR_SCENE_SUCCESS);
        loader = &d->cache->base;
    }
    struct rr_scene_server_config sc = {.loader = loader, .max_queued_requests = max_queued};
    assert_int_equal(rr_scene_server_create(d->host, d->scene, &sc, &d->server), RR_SCENE_SUCCESS);
    if (raw != NULL) {
        d->raw = raw;
        assert_int_equal(
            rr_context_attach_builtin(d->player, RR_BUILTIN_BIT(RR_BUILTIN_SCENE), raw), RR_OK);
    } else {
        assert_int_equal(rr_scene_client_create(d->player, &d->client), RR_SCENE_SUCCESS);
    }
    return d;
}

static void duo_connect(struct duo *d)
{
    assert_int_equal(rr_context_listen(d->host, "127.0.0.1", 0, 0), RR_OK);
    uint16_t port = rr_test_wait_listening(d->host, WAIT_MS);
    assert_int_not_equal(port, 0);
    assert_int_equal(rr_context_connect(d->player, "127.0.0.1", port), RR_OK);
    assert_true(rr_test_wait_event(d->player, RR_EVENT_CONNECTED, WAIT_MS, NULL));
    assert_true(rr_test_wait_event(d->host, RR_EVENT_CONNECTED, WAIT_MS, NULL));
}

/* The player hangs up; both sides see the end. */
static void duo_disconnect(struct duo *d)
{
    assert_int_equal(rr_context_disconnect(d->player), RR_OK);
    rr_test_wait_disconnected(d->player, WAIT_MS, NULL, 0);
    rr_test_wait_disconnected(d->host, WAIT_MS, NULL, 0);
}

static void duo_free(struct duo **d_ptr)
{
    struct duo *d = *d_ptr;
    *d_ptr = NULL;
    rr_scene_client_destroy(&d->client);
    if (d->raw != NULL) {
        rr_context_attach_builtin(d->player, RR_BUILTIN_BIT(RR_BUILTIN_SCENE), NULL);
    }
    rr_scene_server_destroy(&d->server);
    rr_context_destroy(&d->player);
    rr_context_destroy(&d->host);
    rr_scene_destroy(&d->scene);
    rr_asset_cache_destroy(&d->cache);
    free(d);
}

/* Run one call that answers with an id; returns the id, checks the result. */
#define EXPECT_ID(call_expr, w, want)                                                              \
    do {                                                                                           \
        assert_int_equal((call_expr), RR_SCENE_SUCCESS);                                           \
        enum rr_scene_result got_ = wait_result(w);                                                \
        if (got_ != (want)) {                                                                      \
            fail_msg("%s: %s, expected %s", #call_expr, rr_scene_result_str(got_),                 \
                     rr_scene_result_str(want));                                                   \
        }                                                                                          \
    } while (0)

static uint32_t create(struct duo *d, uint32_t parent, const char *name)
{
    struct waiter *w = waiter_new();
    EXPECT_ID(rr_scene_create_entity(d->client, parent, name, on_id, w), w, RR_SCENE_SUCCESS);
    uint32_t id = w->id;
    waiter_free(w);
    assert_int_not_equal(id, 0);
    return id;
}

static enum rr_scene_result done_call(enum rr_scene_result sent, struct waiter *w)
{
    assert_int_equal(sent, RR_SCENE_SUCCESS);
    enum rr_scene_result r = wait_result(w);
    waiter_free(w);
    return r;
}

#define CALL(expr_with_w)                                                                          \
    ({                                                                                             \
        struct waiter *w = waiter_new();                                                           \
        done_call((expr_with_w), w);                                                               \
    })

/* ---- tests --------------------------------------------------------------------------------- */

static void test_every_op(void **state)
{
    (void)state;
    struct duo *d = duo_new(NULL, NULL, 0, NULL);
    duo_connect(d);

    /* Entities, transforms, parents. */
    uint32_t a = create(d, RR_SCENE_ROOT, "a");
    uint32_t b = create(d, a, "b");
    struct rr_scene_transform t = {
        .position = {1, 2, 3}, .rotation = {0, 0, 0, 1}, .scale = {2, 2, 2}};
    assert_int_equal(CALL(rr_scene_set_transform(d->client, a, &t, on_done, w)), RR_SCENE_SUCCESS);
    struct rr_scene_transform tb = {
        .position = {1, 0, 0}, .rotation = {0, 0, 0, 1}, .scale = {1, 1, 1}};
    assert_int_equal(CALL(rr_scene_set_transform(d->client, b, &tb, on_done, w)), RR_SCENE_SUCCESS);
    struct rr_scene_entity_info info;
    assert_int_equal(rr_scene_entity_get(d->scene, b, &info), RR_SCENE_SUCCESS);
    assert_true(fabsf(info.world[12] - 3.0f) < 1e-5f);
    assert_string_equal(info.name, "b");
    assert_int_equal(CALL(rr_scene_set_parent(d->client, b, RR_SCENE_ROOT, on_done, w)),
                     RR_SCENE_SUCCESS);
    assert_int_equal(rr_scene_entity_get(d->scene, b, &info), RR_SCENE_SUCCESS);
    assert_int_equal(info.parent, RR_SCENE_ROOT);
    assert_int_equal(CALL(rr_scene_set_parent(d->client, b, a, on_done, w)), RR_SCENE_SUCCESS);
    assert_int_equal(CALL(rr_scene_set_parent(d->client, a, b, on_done, w)),
                     RR_SCENE_INVALID_PARAM);

    /* State and colour. */
    struct rr_scene_state st = {
        .selected = RR_SCENE_FORCE_ON, .tint = RR_SCENE_FORCE_ON, .tint_color = {0, 1, 0, 0.5f}};
    assert_int_equal(CALL(rr_scene_set_state(d->client, a, &st, on_done, w)), RR_SCENE_SUCCESS);
    assert_int_equal(rr_scene_entity_get(d->scene, b, &info), RR_SCENE_SUCCESS);
    assert_true(info.selected && info.tinted);
    const float rgba[4] = {1, 0, 0, 1};
    assert_int_equal(CALL(rr_scene_set_material_color(d->client, b, rgba, on_done, w)),
                     RR_SCENE_SUCCESS);
    assert_int_equal(rr_scene_entity_get(d->scene, b, &info), RR_SCENE_SUCCESS);
    assert_true(info.has_color);
    assert_int_equal(CALL(rr_scene_set_material_color(d->client, b, NULL, on_done, w)),
                     RR_SCENE_SUCCESS);

    /* Cut planes: eight, then the ninth fails, removing one makes room. */
    uint32_t planes[RR_SCENE_MAX_CUT_PLANES];
    const float n[3] = {0, 0, 1};
    for (int i = 0; i < RR_SCENE_MAX_CUT_PLANES; i++) {
        struct waiter *w = waiter_new();
        EXPECT_ID(rr_scene_add_cut_plane(d->client, n, (float)i, on_id, w), w, RR_SCENE_SUCCESS);
        planes[i] = w->id;
        waiter_free(w);
    }
    struct waiter *w9 = waiter_new();
    EXPECT_ID(rr_scene_add_cut_plane(d->client, n, 9, on_id, w9), w9, RR_SCENE_TOO_MANY_CUT_PLANES);
    assert_int_equal(w9->id, 0);
    waiter_free(w9);
    assert_int_equal(CALL(rr_scene_remove_cut_plane(d->client, planes[0], on_done, w)),
                     RR_SCENE_SUCCESS);
    assert_int_equal(CALL(rr_scene_remove_cut_plane(d->client, planes[0], on_done, w)),
                     RR_SCENE_NOT_FOUND);
    assert_int_equal(CALL(rr_scene_remove_cut_plane(d->client, 0, on_done, w)), RR_SCENE_SUCCESS);

    /* A model, then ray casts and a box query against it. */
    if (g_have_assets) {
        struct waiter *wm = waiter_new();
        EXPECT_ID(rr_scene_load_model(d->client, g_box, a, on_progress, on_id, wm), wm,
                  RR_SCENE_SUCCESS);
        uint32_t model = wm->id;
        assert_int_not_equal(model, 0);
        assert_true(wm->progress_monotonic);
        assert_int_equal(wm->last_percent, 100);
        waiter_free(wm);
        assert_int_equal(rr_scene_entity_get(d->scene, model, &info), RR_SCENE_SUCCESS);
        assert_int_equal(info.parent, a);
        /* a sits at (1,2,3) with scale 2: the box spans z 2..4, x 0..2, y 1..3. */
        const float o[3] = {1.1f, 2.1f, 10}, dir[3] = {0, 0, -1};
        struct waiter *wr = waiter_new();
        EXPECT_ID(rr_scene_raycast(d->client, o, dir, 100, RR_SCENE_RAY_CLOSEST, 4, on_hits, wr),
                  wr, RR_SCENE_SUCCESS);
        assert_int_equal(wr->count, 1);
        assert_true(fabsf(wr->hits[0].distance - 6.0f) < 1e-3f);
        assert_true(fabsf(wr->hits[0].normal[2] - 1.0f) < 1e-3f);
        waiter_free(wr);
        wr = waiter_new();
        EXPECT_ID(rr_scene_raycast(d->client, o, dir, 100, RR_SCENE_RAY_ALL, 4, on_hits, wr), wr,
                  RR_SCENE_SUCCESS);
        assert_int_equal(wr->count, 2);
        assert_true(fabsf(wr->hits[1].distance - 8.0f) < 1e-3f);
        uint32_t mesh_entity = wr->hits[0].entity_id;
        waiter_free(wr);
        struct waiter *wq = waiter_new();
        const float mn[3] = {0, 0, 0}, mx[3] = {5, 5, 5};
        EXPECT_ID(rr_scene_query_box(d->client, mn, mx, 16, on_ids, wq), wq, RR_SCENE_SUCCESS);
        assert_int_equal(wq->count, 1);
        assert_int_equal(wq->ids[0], mesh_entity);
        assert_false(wq->truncated);
        waiter_free(wq);
        /* Hidden: no hits. */
        struct rr_scene_state hide = {.hidden = RR_SCENE_FORCE_ON};
        assert_int_equal(CALL(rr_scene_set_state(d->client, model, &hide, on_done, w)),
                         RR_SCENE_SUCCESS);
        wr = waiter_new();
        EXPECT_ID(rr_scene_raycast(d->client, o, dir, 100, RR_SCENE_RAY_ALL, 4, on_hits, wr), wr,
                  RR_SCENE_SUCCESS);
        assert_int_equal(wr->count, 0);
        waiter_free(wr);
    }

    /* Destroy: the subtree goes, later calls on it fail. */
    assert_int_equal(CALL(rr_scene_destroy_entity(d->client, a, on_done, w)), RR_SCENE_SUCCESS);
    assert_int_equal(rr_scene_entity_count(d->scene), 0);
    assert_int_equal(CALL(rr_scene_destroy_entity(d->client, a, on_done, w)),
                     RR_SCENE_ENTITY_NOT_FOUND);
    assert_int_equal(CALL(rr_scene_set_transform(d->client, b, &t, on_done, w)),
                     RR_SCENE_ENTITY_NOT_FOUND);
    struct waiter *wc = waiter_new();
    EXPECT_ID(rr_scene_create_entity(d->client, b, "orphan", on_id, wc), wc,
              RR_SCENE_ENTITY_NOT_FOUND);
    assert_int_equal(wc->id, 0);
    waiter_free(wc);
    assert_int_equal(rr_scene_client_pending(d->client), 0);
    duo_free(&d);
}

static void test_load_errors(void **state)
{
    (void)state;
    if (!g_have_assets) {
        skip();
    }
    struct rr_scene_config cfg = {.primitive_budget = 11};
    struct duo *d = duo_new(&cfg, NULL, 0, NULL);
    duo_connect(d);
    char missing[600];
    snprintf(missing, sizeof(missing), "%s/missing.rrasset", g_dir);
    struct {
        const char *uri;
        uint32_t parent;
        enum rr_scene_result want;
    } cases[] = {
        {missing, 0, RR_SCENE_ASSET_NOT_FOUND},
        {g_text, 0, RR_SCENE_ASSET_INVALID},
        {g_box, 0, RR_SCENE_ASSET_TOO_LARGE}, /* 12 triangles over a budget of 11 */
        {"gopher://example.com/a", 0, RR_SCENE_NOT_SUPPORTED},
        {g_box, 424242, RR_SCENE_ASSET_TOO_LARGE}, /* the budget is checked before the parent */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct waiter *w = waiter_new();
        EXPECT_ID(rr_scene_load_model(d->client, cases[i].uri, cases[i].parent, NULL, on_id, w), w,
                  cases[i].want);
        assert_int_equal(w->id, 0);
        waiter_free(w);
    }
    assert_int_equal(rr_scene_entity_count(d->scene), 0);
    assert_int_equal(rr_asset_cache_open_count(d->cache), 0);
    duo_free(&d);

    /* Within the budget, an unknown parent. */
    d = duo_new(NULL, NULL, 0, NULL);
    duo_connect(d);
    struct waiter *w = waiter_new();
    EXPECT_ID(rr_scene_load_model(d->client, g_box, 424242, NULL, on_id, w), w,
              RR_SCENE_ENTITY_NOT_FOUND);
    waiter_free(w);
    assert_int_equal(rr_asset_cache_open_count(d->cache), 0);
    /* The same model twice is one asset. */
    uint32_t ids[2];
    for (int i = 0; i < 2; i++) {
        w = waiter_new();
        EXPECT_ID(rr_scene_load_model(d->client, g_box, 0, NULL, on_id, w), w, RR_SCENE_SUCCESS);
        ids[i] = w->id;
        waiter_free(w);
    }
    assert_int_not_equal(ids[0], ids[1]);
    assert_int_equal(rr_asset_cache_open_count(d->cache), 1);
    assert_int_equal(rr_scene_asset_count(d->scene), 1);
    duo_free(&d);
}

static void test_client_validation(void **state)
{
    (void)state;
    struct duo *d = duo_new(NULL, NULL, 0, NULL);
    /* Not connected yet. */
    assert_int_equal(rr_scene_create_entity(d->client, 0, "x", on_id, NULL),
                     RR_SCENE_NO_CONNECTION);
    duo_connect(d);
    struct rr_scene_transform t = {.rotation = {0, 0, 0, 1}, .scale = {1, 1, 1}};
    t.position[0] = NAN;
    assert_int_equal(rr_scene_set_transform(d->client, 5, &t, on_done, NULL),
                     RR_SCENE_INVALID_PARAM);
    t.position[0] = 0;
    t.rotation[3] = 0;
    assert_int_equal(rr_scene_set_transform(d->client, 5, &t, on_done, NULL),
                     RR_SCENE_INVALID_PARAM);
    const float o[3] = {0, 0, 0}, zero[3] = {0, 0, 0}, inf3[3] = {INFINITY, 0, 0};
    assert_int_equal(rr_scene_raycast(d->client, o, zero, 1, RR_SCENE_RAY_ALL, 1, on_hits, NULL),
                     RR_SCENE_INVALID_PARAM);
    assert_int_equal(rr_scene_raycast(d->client, inf3, o, 1, RR_SCENE_RAY_ALL, 1, on_hits, NULL),
                     RR_SCENE_INVALID_PARAM);
    assert_int_equal(rr_scene_raycast(d->client, o, inf3, 1, RR_SCENE_RAY_ALL,
                                      RR_SCENE_MAX_HITS + 1, on_hits, NULL),
                     RR_SCENE_INVALID_PARAM);
    const float one[3] = {1, 1, 1};
    assert_int_equal(rr_scene_query_box(d->client, one, zero, 1, on_ids, NULL),
                     RR_SCENE_INVALID_PARAM);
    struct rr_scene_state st = {.hidden = 9};
    assert_int_equal(rr_scene_set_state(d->client, 5, &st, on_done, NULL), RR_SCENE_INVALID_PARAM);
    const float bad_rgba[4] = {0, 0, 2, 1};
    assert_int_equal(rr_scene_set_material_color(d->client, 5, bad_rgba, on_done, NULL),
                     RR_SCENE_INVALID_PARAM);
    assert_int_equal(rr_scene_add_cut_plane(d->client, zero, 0, on_id, NULL),
                     RR_SCENE_INVALID_PARAM);
    assert_int_equal(rr_scene_destroy_entity(d->client, RR_SCENE_ROOT, on_done, NULL),
                     RR_SCENE_INVALID_PARAM);
    char *uri = malloc(RR_SCENE_MAX_URI + 2);
    assert_non_null(uri);
    memset(uri, 'u', RR_SCENE_MAX_URI + 1);
    uri[RR_SCENE_MAX_URI + 1] = '\0';
    assert_int_equal(rr_scene_load_model(d->client, uri, 0, NULL, on_id, NULL),
                     RR_SCENE_INVALID_PARAM);
    free(uri);
    assert_int_equal(rr_scene_client_pending(d->client), 0);
    /* A NULL callback is allowed: the answer is dropped. */
    assert_int_equal(rr_scene_create_entity(d->client, 0, "quiet", NULL, NULL), RR_SCENE_SUCCESS);
    rr_scene_server_flush(d->server);
    for (int i = 0; i < 500 && rr_scene_client_pending(d->client) > 0; i++) {
        sleep_ms(10);
    }
    assert_int_equal(rr_scene_client_pending(d->client), 0);
    assert_int_equal(rr_scene_entity_count(d->scene), 1);
    /* The wrong roles. */
    struct rr_scene_client *c2 = NULL;
    assert_int_equal(rr_scene_client_create(d->host, &c2), RR_SCENE_INVALID_PARAM);
    struct rr_scene_server *s2 = NULL;
    assert_int_equal(rr_scene_server_create(d->player, d->scene, NULL, &s2),
                     RR_SCENE_INVALID_PARAM);
    duo_free(&d);
}

/* ---- hand-made requests -------------------------------------------------------------------- */

struct raw {
    struct rr_builtin_receiver base;
    pthread_mutex_t lock;
    uint8_t last[64];
    size_t last_size;
    int messages;
};

static void raw_on_message(struct rr_builtin_receiver *self, uint8_t channel, const uint8_t *data,
                           size_t size)
{
    struct raw *r = (struct raw *)(void *)self;
    (void)channel;
    pthread_mutex_lock(&r->lock);
    r->last_size = size < sizeof(r->last) ? size : sizeof(r->last);
    memcpy(r->last, data, r->last_size);
    r->messages++;
    pthread_mutex_unlock(&r->lock);
}

/* Send @p msg and wait for the answer; returns its result code, or -1 when none came. */
static int raw_call(struct duo *d, struct raw *r, const uint8_t *msg, size_t size)
{
    pthread_mutex_lock(&r->lock);
    int before = r->messages;
    pthread_mutex_unlock(&r->lock);
    assert_int_equal(
        rr_context_send_builtin(d->player, RR_BUILTIN_SCENE, msg, size, RR_PRIORITY_MEDIUM, true),
        RR_OK);
    rr_scene_server_flush(d->server);
    for (int i = 0; i < 100; i++) {
        pthread_mutex_lock(&r->lock);
        int now = r->messages;
        struct rr_scene_response resp;
        bool ok = now > before && rr_scene_wire_decode_response(r->last, r->last_size, &resp);
        pthread_mutex_unlock(&r->lock);
        if (now > before) {
            assert_true(ok);
            return resp.result;
        }
        sleep_ms(10);
    }
    return -1;
}

static void test_hostile_requests(void **state)
{
    (void)state;
    struct raw *r = calloc(1, sizeof(*r));
    assert_non_null(r);
    r->base.on_message = raw_on_message;
    pthread_mutex_init(&r->lock, NULL);
    struct duo *d = duo_new(NULL, NULL, 0, &r->base);
    duo_connect(d);
    uint32_t a = 0;
    assert_int_equal(rr_scene_entity_create(d->scene, 0, "a", &a), RR_SCENE_SUCCESS);

    /* A transform with a NaN, bypassing the client's checks. */
    struct rr_scene_request q = {.id = 1, .op = RR_SCENE_OP_SET_TRANSFORM, .entity = a};
    q.transform = (struct rr_scene_transform){.rotation = {0, 0, 0, 1}, .scale = {1, 1, 1}};
    uint8_t buf[RR_SCENE_WIRE_MAX_REQUEST];
    size_t n = rr_scene_wire_encode_request(&q, buf);
    assert_int_equal(raw_call(d, r, buf, n), RR_SCENE_SUCCESS);
    const uint8_t nan_bits[4] = {0x7f, 0xc0, 0, 1};
    memcpy(buf + RR_SCENE_WIRE_HEADER + 4 + 8, nan_bits, 4);
    assert_int_equal(raw_call(d, r, buf, n), RR_SCENE_INVALID_PARAM);
    /* A zero quaternion passes the wire (finite) and is refused by the scene. */
    q.transform.rotation[3] = 0;
    n = rr_scene_wire_encode_request(&q, buf);
    assert_int_equal(raw_call(d, r, buf, n), RR_SCENE_INVALID_PARAM);
    /* Unknown op, a truncated body, a URI length past the message. */
    buf[5] = 200;
    assert_int_equal(raw_call(d, r, buf, n), RR_SCENE_NOT_SUPPORTED);
    q = (struct rr_scene_request){.id = 2, .op = RR_SCENE_OP_DESTROY_ENTITY, .entity = a};
    n = rr_scene_wire_encode_request(&q, buf);
    assert_int_equal(raw_call(d, r, buf, n - 1), RR_SCENE_INVALID_PARAM);
    const uint8_t load[] = {1, 0, 0, 0, 3, RR_SCENE_OP_LOAD_MODEL, 0, 0, 0, 0, 0xff, 0xff, 'x'};
    assert_int_equal(raw_call(d, r, load, sizeof(load)), RR_SCENE_INVALID_PARAM);
    /* Raycast and box query bounds. */
    q = (struct rr_scene_request){.id = 4,
                                  .op = RR_SCENE_OP_RAYCAST,
                                  .direction = {0, 0, 1},
                                  .max_distance = -1,
                                  .max_count = 1};
    n = rr_scene_wire_encode_request(&q, buf);
    assert_int_equal(raw_call(d, r, buf, n), RR_SCENE_INVALID_PARAM);
    q = (struct rr_scene_request){
        .id = 5, .op = RR_SCENE_OP_QUERY_BOX, .box_min = {1, 1, 1}, .max_count = 1};
    n = rr_scene_wire_encode_request(&q, buf);
    assert_int_equal(raw_call(d, r, buf, n), RR_SCENE_INVALID_PARAM);
    /* Unknown and destroyed ids. */
    q = (struct rr_scene_request){.id = 6, .op = RR_SCENE_OP_DESTROY_ENTITY, .entity = a};
    n = rr_scene_wire_encode_request(&q, buf);
    assert_int_equal(raw_call(d, r, buf, n), RR_SCENE_SUCCESS);
    assert_int_equal(raw_call(d, r, buf, n), RR_SCENE_ENTITY_NOT_FOUND);
    /* No header: dropped without an answer, and the connection lives on. */
    const uint8_t junk[] = {0x02, 0, 0, 0, 0};
    assert_int_equal(raw_call(d, r, junk, sizeof(junk)), -1);
    assert_int_equal(rr_context_state(d->player, NULL), RR_STATE_CONNECTED);
    struct rr_scene_server_stats stats;
    rr_scene_server_get_stats(d->server, &stats);
    assert_true(stats.malformed >= 5);
    duo_free(&d);
    pthread_mutex_destroy(&r->lock);
    free(r);
}

/* ---- a loader that blocks, for disconnects and full queues ------------------------------------
 */

struct slow_loader {
    struct rr_asset_loader base;
    atomic_int entered;
    atomic_int cancelled;
    atomic_bool release;
    struct rr_asset_cache *real;
};

static enum rr_scene_result slow_load(struct rr_asset_loader *self, const char *uri,
                                      rr_asset_progress_fn progress, void *user,
                                      struct rr_asset **out, char *err, size_t err_size)
{
    struct slow_loader *l = (struct slow_loader *)(void *)self;
    atomic_fetch_add(&l->entered, 1);
    for (uint32_t pct = 1; !atomic_load(&l->release); pct = pct < 90 ? pct + 1 : pct) {
        if (!progress(user, pct)) {
            atomic_fetch_add(&l->cancelled, 1);
            return RR_SCENE_CANCELLED;
        }
        sleep_ms(5);
    }
    return rr_asset_loader_load(&l->real->base, uri, progress, user, out, err, err_size);
}

static void slow_release(struct rr_asset_loader *self, struct rr_asset *asset)
{
    struct slow_loader *l = (struct slow_loader *)(void *)self;
    rr_asset_loader_release(&l->real->base, asset);
}

static struct slow_loader *slow_new(void)
{
    struct slow_loader *l = calloc(1, sizeof(*l));
    assert_non_null(l);
    l->base.load = slow_load;
    l->base.release = slow_release;
    char dir[400];
    snprintf(dir, sizeof(dir), "%s/cache", g_dir);
    struct rr_asset_cache_config cc = {.cache_dir = dir};
    assert_int_equal(rr_asset_cache_create(&cc, &l->real), RR_SCENE_SUCCESS);
    return l;
}

static void wait_entered(struct slow_loader *l, int n)
{
    for (int i = 0; i < WAIT_MS / 10 && atomic_load(&l->entered) < n; i++) {
        sleep_ms(10);
    }
    assert_true(atomic_load(&l->entered) >= n);
}

static void test_disconnect(void **state)
{
    (void)state;
    struct slow_loader *l = slow_new();
    struct duo *d = duo_new(NULL, &l->base, 0, NULL);
    duo_connect(d);
    uint32_t a = create(d, 0, "a");
    create(d, a, "child");
    assert_int_equal(rr_scene_entity_count(d->scene), 2);
    /* A load that never finishes, and a request behind it in the client's pending list. */
    struct waiter *wl = waiter_new();
    assert_int_equal(rr_scene_load_model(d->client, g_box, 0, on_progress, on_id, wl),
                     RR_SCENE_SUCCESS);
    wait_entered(l, 1);
    for (int i = 0; i < 500; i++) {
        pthread_mutex_lock(&wl->lock);
        uint32_t calls = wl->progress_calls;
        pthread_mutex_unlock(&wl->lock);
        if (calls > 0) {
            break;
        }
        sleep_ms(10);
    }
    assert_true(wl->progress_calls > 0);
    assert_int_equal(rr_scene_client_pending(d->client), 1);

    duo_disconnect(d);
    assert_int_equal(wait_result(wl), RR_SCENE_CONNECTION_LOST);
    assert_int_equal(wl->id, 0);
    waiter_free(wl);
    assert_int_equal(rr_scene_client_pending(d->client), 0);
    /* The host dropped the scene and gave up the load. */
    rr_scene_server_flush(d->server);
    assert_int_equal(rr_scene_entity_count(d->scene), 0);
    for (int i = 0; i < 500 && atomic_load(&l->cancelled) == 0; i++) {
        sleep_ms(10);
    }
    assert_int_equal(atomic_load(&l->cancelled), 1);
    /* Calls after the end fail at once. */
    assert_int_equal(rr_scene_create_entity(d->client, 0, "late", on_id, NULL),
                     RR_SCENE_NO_CONNECTION);

    /* A new connection starts from an empty scene and works. */
    duo_connect(d);
    uint32_t b = create(d, 0, "b");
    struct rr_scene_entity_info info;
    assert_int_equal(rr_scene_entity_get(d->scene, b, &info), RR_SCENE_SUCCESS);
    assert_int_equal(rr_scene_entity_count(d->scene), 1);
    assert_int_equal(CALL(rr_scene_destroy_entity(d->client, a, on_done, w)),
                     RR_SCENE_ENTITY_NOT_FOUND);
    if (g_have_assets) {
        atomic_store(&l->release, true);
        struct waiter *w = waiter_new();
        EXPECT_ID(rr_scene_load_model(d->client, g_box, b, on_progress, on_id, w), w,
                  RR_SCENE_SUCCESS);
        assert_true(w->progress_monotonic);
        waiter_free(w);
        atomic_store(&l->release, false);
    }

    /* Destroying the client with a call pending completes it too. */
    struct waiter *wp = waiter_new();
    int entered = atomic_load(&l->entered);
    assert_int_equal(rr_scene_load_model(d->client, g_box, 0, NULL, on_id, wp), RR_SCENE_SUCCESS);
    wait_entered(l, entered + 1);
    rr_scene_client_destroy(&d->client);
    pthread_mutex_lock(&wp->lock);
    assert_int_equal(wp->done, 1);
    assert_int_equal(wp->result, RR_SCENE_CONNECTION_LOST);
    pthread_mutex_unlock(&wp->lock);
    waiter_free(wp);
    duo_free(&d);
    rr_asset_cache_destroy(&l->real);
    free(l);
}

static void test_queue_full(void **state)
{
    (void)state;
    struct slow_loader *l = slow_new();
    struct duo *d = duo_new(NULL, &l->base, 1, NULL);
    duo_connect(d);
    struct waiter *wl = waiter_new();
    assert_int_equal(rr_scene_load_model(d->client, g_box, 0, NULL, on_id, wl), RR_SCENE_SUCCESS);
    wait_entered(l, 1);
    /* The load occupies the only slot. */
    struct waiter *w = waiter_new();
    EXPECT_ID(rr_scene_create_entity(d->client, 0, "x", on_id, w), w, RR_SCENE_TOO_MANY_REQUESTS);
    waiter_free(w);
    struct rr_scene_server_stats stats;
    rr_scene_server_get_stats(d->server, &stats);
    assert_int_equal(stats.rejected, 1);
    /* Server destroyed while loading: the load is cancelled; the client learns at disconnect. */
    rr_scene_server_destroy(&d->server);
    assert_int_equal(atomic_load(&l->cancelled), 1);
    duo_disconnect(d);
    assert_int_equal(wait_result(wl), RR_SCENE_CONNECTION_LOST);
    waiter_free(wl);
    duo_free(&d);
    rr_asset_cache_destroy(&l->real);
    free(l);
}

/* ---- http -------------------------------------------------------------------------------------
 */

static uint16_t free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    uint16_t port = 0;
    if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0) {
        port = ntohs(a.sin_port);
    }
    if (fd >= 0) {
        close(fd);
    }
    return port;
}

static bool port_open(uint16_t port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {
        .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK), .sin_port = htons(port)};
    bool ok = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
    if (fd >= 0) {
        close(fd);
    }
    return ok;
}

static void test_http_model(void **state)
{
    (void)state;
    if (!g_have_assets) {
        skip();
    }
    uint16_t port = free_port();
    char port_s[16];
    snprintf(port_s, sizeof(port_s), "%u", port);
    pid_t pid = fork();
    if (pid == 0) {
        int null = open("/dev/null", O_RDWR);
        dup2(null, 1);
        dup2(null, 2);
        execlp("python3", "python3", "-m", "http.server", port_s, "--bind", "127.0.0.1",
               "--directory", g_dir, (char *)NULL);
        _exit(127);
    }
    bool up = false;
    for (int i = 0; i < 200 && !up; i++) {
        up = port_open(port);
        if (!up) {
            sleep_ms(50);
        }
    }
    if (!up) {
        kill(pid, SIGTERM);
        waitpid(pid, NULL, 0);
        skip();
    }
    struct duo *d = duo_new(NULL, NULL, 0, NULL);
    duo_connect(d);
    char url[256];
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/BoxTextured.rrasset?rpc", port);
    struct waiter *w = waiter_new();
    assert_int_equal(rr_scene_load_model(d->client, url, 0, on_progress, on_id, w),
                     RR_SCENE_SUCCESS);
    enum rr_scene_result r = wait_result(w);
    assert_int_equal(r, RR_SCENE_SUCCESS);
    assert_int_not_equal(w->id, 0);
    assert_true(w->progress_monotonic);
    assert_int_equal(w->last_percent, 100);
    waiter_free(w);
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/none.rrasset", port);
    w = waiter_new();
    EXPECT_ID(rr_scene_load_model(d->client, url, 0, NULL, on_id, w), w, RR_SCENE_ASSET_NOT_FOUND);
    waiter_free(w);
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    w = waiter_new();
    EXPECT_ID(rr_scene_load_model(d->client, url, 0, NULL, on_id, w), w, RR_SCENE_NETWORK_ERROR);
    waiter_free(w);
    duo_free(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_op),          cmocka_unit_test(test_load_errors),
        cmocka_unit_test(test_client_validation), cmocka_unit_test(test_hostile_requests),
        cmocka_unit_test(test_disconnect),        cmocka_unit_test(test_queue_full),
        cmocka_unit_test(test_http_model),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
