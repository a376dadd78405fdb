/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The scene client (include/openrr/scene.h). Callers' threads encode and send requests and
 * record them as pending; the network thread matches answers and progress to pending calls and
 * queues them; the client's callback thread runs the callbacks in queue order. A pending call
 * carries its own final queue entry, so completing it (even on disconnect) never allocates.
 */
#include "openrr/scene.h"

#include "scene_math.h"
#include "scene_wire.h"

#include "u_log.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define LOG "scene"

struct pending;

/* One callback to run: a call's completion (embedded in its pending record) or a progress
 * report (allocated). */
struct job {
    struct job *next;
    struct pending *p;
    bool progress;
    uint32_t percent;
};

struct pending {
    struct pending *next; /* in the pending list */
    uint32_t id;
    uint8_t op;
    rr_scene_done_fn done;
    rr_scene_id_fn id_fn;
    rr_scene_hits_fn hits_fn;
    rr_scene_ids_fn ids_fn;
    rr_scene_progress_fn progress;
    void *user;
    int last_percent;
    /* The outcome, filled when the answer arrives. */
    enum rr_scene_result result;
    uint32_t value;
    struct rr_scene_hit *hits;
    uint32_t *ids;
    size_t count;
    bool truncated;
    struct job final;
};

struct rr_scene_client {
    struct rr_builtin_receiver base; /* first: the context calls us through it */
    struct rr_context *ctx;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    pthread_t thread;
    bool connected;
    bool stop;
    uint32_t next_id;
    struct pending *pending;
    size_t pending_count;
    struct job *head, *tail;
};

static struct rr_scene_client *from_receiver(struct rr_builtin_receiver *r)
{
    return (struct rr_scene_client *)(void *)r;
}

/* ---- queue (lock held) ------------------------------------------------------------------- */

static void enqueue_locked(struct rr_scene_client *c, struct job *j)
{
    j->next = NULL;
    if (c->tail != NULL) {
        c->tail->next = j;
    } else {
        c->head = j;
    }
    c->tail = j;
    pthread_cond_signal(&c->cond);
}

static struct pending *take_locked(struct rr_scene_client *c, uint32_t id, bool remove)
{
    for (struct pending **pp = &c->pending; *pp != NULL; pp = &(*pp)->next) {
        struct pending *p = *pp;
        if (p->id == id) {
            if (remove) {
                *pp = p->next;
                c->pending_count--;
            }
            return p;
        }
    }
    return NULL;
}

static void complete_locked(struct rr_scene_client *c, struct pending *p,
                            enum rr_scene_result result)
{
    p->result = result;
    p->final.p = p;
    p->final.progress = false;
    enqueue_locked(c, &p->final);
}

/* Every pending call ends with @p result (the connection is gone). */
static void fail_all_locked(struct rr_scene_client *c, enum rr_scene_result result)
{
    while (c->pending != NULL) {
        struct pending *p = c->pending;
        c->pending = p->next;
        complete_locked(c, p, result);
    }
    c->pending_count = 0;
}

/* ---- network thread ---------------------------------------------------------------------- */

static void on_connected(struct rr_builtin_receiver *self, const struct rr_connection_info *info)
{
    struct rr_scene_client *c = from_receiver(self);
    (void)info;
    pthread_mutex_lock(&c->lock);
    c->connected = true;
    pthread_mutex_unlock(&c->lock);
}

static void on_disconnected(struct rr_builtin_receiver *self)
{
    struct rr_scene_client *c = from_receiver(self);
    pthread_mutex_lock(&c->lock);
    c->connected = false;
    fail_all_locked(c, RR_SCENE_CONNECTION_LOST);
    pthread_mutex_unlock(&c->lock);
}

static void on_progress_msg(struct rr_scene_client *c, const uint8_t *data, size_t size)
{
    uint32_t id;
    uint8_t percent;
    if (!rr_scene_wire_decode_progress(data, size, &id, &percent)) {
        U_LOG_D(LOG, "malformed scene progress ignored (%zu bytes)", size);
        return;
    }
    pthread_mutex_lock(&c->lock);
    struct pending *p = take_locked(c, id, false);
    if (p != NULL && p->op == RR_SCENE_OP_LOAD_MODEL && p->progress != NULL &&
        (int)percent > p->last_percent) {
        struct job *j = calloc(1, sizeof(*j));
        if (j != NULL) { /* progress is advisory: dropped when memory is short */
            p->last_percent = percent;
            j->p = p;
            j->progress = true;
            j->percent = percent;
            enqueue_locked(c, j);
        }
    }
    pthread_mutex_unlock(&c->lock);
}

/* Copy the answer's items so the callback thread owns them. */
static enum rr_scene_result copy_items(struct pending *p, const struct rr_scene_response *r)
{
    p->value = r->value;
    p->count = r->count;
    p->truncated = r->truncated;
    if (r->count == 0) {
        return RR_SCENE_SUCCESS;
    }
    if (r->op == RR_SCENE_OP_RAYCAST) {
        p->hits = malloc(r->count * sizeof(*p->hits));
        if (p->hits == NULL) {
            return RR_SCENE_OUT_OF_MEMORY;
        }
        for (size_t i = 0; i < r->count; i++) {
            rr_scene_wire_hit_at(r, i, &p->hits[i]);
        }
    } else if (r->op == RR_SCENE_OP_QUERY_BOX) {
        p->ids = malloc(r->count * sizeof(*p->ids));
        if (p->ids == NULL) {
            return RR_SCENE_OUT_OF_MEMORY;
        }
        for (size_t i = 0; i < r->count; i++) {
            p->ids[i] = rr_scene_wire_id_at(r, i);
        }
    }
    return RR_SCENE_SUCCESS;
}

static void on_message(struct rr_builtin_receiver *self, uint8_t channel, const uint8_t *data,
                       size_t size)
{
    struct rr_scene_client *c = from_receiver(self);
    (void)channel;
    if (rr_scene_wire_kind(data, size) == RR_SCENE_KIND_PROGRESS) {
        on_progress_msg(c, data, size);
        return;
    }
    struct rr_scene_response r;
    if (!rr_scene_wire_decode_response(data, size, &r)) {
        U_LOG_W(LOG, "malformed scene answer ignored (%zu bytes)", size);
        return;
    }
    pthread_mutex_lock(&c->lock);
    struct pending *p = take_locked(c, r.id, true);
    if (p == NULL) {
        pthread_mutex_unlock(&c->lock);
        U_LOG_D(LOG, "scene answer to unknown request %u ignored", r.id);
        return;
    }
    enum rr_scene_result res;
    if (r.op != p->op) {
        U_LOG_W(LOG, "scene answer to request %u has op %u, expected %u", r.id, r.op, p->op);
        res = RR_SCENE_INTERNAL_ERROR;
    } else if (r.result >= RR_SCENE_RESULT_COUNT || r.result == RR_SCENE_NO_CONNECTION ||
               r.result == RR_SCENE_CONNECTION_LOST) {
        /* A host newer than us, or one naming a local-only condition. */
        res = RR_SCENE_INTERNAL_ERROR;
    } else {
        res = (enum rr_scene_result)r.result;
        if (res == RR_SCENE_SUCCESS) {
            res = copy_items(p, &r);
        }
    }
    complete_locked(c, p, res);
    pthread_mutex_unlock(&c->lock);
}

/* ---- callback thread ----------------------------------------------------------------------- */

static void run_job(struct job *j)
{
    struct pending *p = j->p;
    if (j->progress) {
        p->progress(p->user, j->percent);
        free(j);
        return;
    }
    bool ok = p->result == RR_SCENE_SUCCESS;
    if (p->done != NULL) {
        p->done(p->user, p->result);
    } else if (p->id_fn != NULL) {
        p->id_fn(p->user, p->result, ok ? p->value : 0);
    } else if (p->hits_fn != NULL) {
        p->hits_fn(p->user, p->result, ok ? p->hits : NULL, ok ? p->count : 0);
    } else if (p->ids_fn != NULL) {
        p->ids_fn(p->user, p->result, ok ? p->ids : NULL, ok ? p->count : 0, ok && p->truncated);
    }
    free(p->hits);
    free(p->ids);
    free(p);
}

static void *callback_main(void *arg)
{
    struct rr_scene_client *c = arg;
    pthread_mutex_lock(&c->lock);
    for (;;) {
        struct job *j = c->head;
        if (j == NULL) {
            if (c->stop) {
                break;
            }
            pthread_cond_wait(&c->cond, &c->lock);
            continue;
        }
        c->head = j->next;
        if (c->head == NULL) {
            c->tail = NULL;
        }
        pthread_mutex_unlock(&c->lock);
        run_job(j);
        pthread_mutex_lock(&c->lock);
    }
    pthread_mutex_unlock(&c->lock);
    return NULL;
}

/* ---- creation ------------------------------------------------------------------------------ */

enum rr_scene_result rr_scene_client_create(struct rr_context *ctx,
                                            struct rr_scene_client **out_client)
{
    if (ctx == NULL || out_client == NULL || rr_context_role(ctx) != RR_ROLE_PLAYER) {
        return RR_SCENE_INVALID_PARAM;
    }
    *out_client = NULL;
    struct rr_scene_client *c = calloc(1, sizeof(*c));
    if (c == NULL) {
        return RR_SCENE_OUT_OF_MEMORY;
    }
    c->base.on_connected = on_connected;
    c->base.on_message = on_message;
    c->base.on_disconnected = on_disconnected;
    c->ctx = ctx;
    c->next_id = 1;
    pthread_mutex_init(&c->lock, NULL);
    pthread_cond_init(&c->cond, NULL);
    if (pthread_create(&c->thread, NULL, callback_main, c) != 0) {
        pthread_cond_destroy(&c->cond);
        pthread_mutex_destroy(&c->lock);
        free(c);
        return RR_SCENE_INTERNAL_ERROR;
    }
    enum rr_result rr = rr_context_attach_builtin(ctx, RR_BUILTIN_BIT(RR_BUILTIN_SCENE), &c->base);
    if (rr != RR_OK) {
        c->ctx = NULL;
        rr_scene_client_destroy(&c);
        return rr == RR_ERROR_OUT_OF_MEMORY ? RR_SCENE_OUT_OF_MEMORY : RR_SCENE_INVALID_PARAM;
    }
    *out_client = c;
    return RR_SCENE_SUCCESS;
}

void rr_scene_client_destroy(struct rr_scene_client **client_ptr)
{
    if (client_ptr == NULL || *client_ptr == NULL) {
        return;
    }
    struct rr_scene_client *c = *client_ptr;
    *client_ptr = NULL;
    if (c->ctx != NULL) {
        rr_context_attach_builtin(c->ctx, RR_BUILTIN_BIT(RR_BUILTIN_SCENE), NULL);
    }
    pthread_mutex_lock(&c->lock);
    c->connected = false;
    fail_all_locked(c, RR_SCENE_CONNECTION_LOST);
    c->stop = true;
    pthread_cond_signal(&c->cond);
    pthread_mutex_unlock(&c->lock);
    pthread_join(c->thread, NULL);
    pthread_cond_destroy(&c->cond);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

size_t rr_scene_client_pending(struct rr_scene_client *c)
{
    if (c == NULL) {
        return 0;
    }
    pthread_mutex_lock(&c->lock);
    size_t n = c->pending_count;
    pthread_mutex_unlock(&c->lock);
    return n;
}

/* ---- calls --------------------------------------------------------------------------------- */

/* Record @p proto as pending under a fresh id, send @p req, and undo on failure. */
static enum rr_scene_result call(struct rr_scene_client *c, struct rr_scene_request *req,
                                 const struct pending *proto)
{
    /* Encoded first, so an invalid argument is reported as such even when disconnected; the
     * real id is patched in below. */
    uint8_t buf[RR_SCENE_WIRE_MAX_REQUEST];
    req->id = 1;
    size_t n = rr_scene_wire_encode_request(req, buf);
    if (n == 0) {
        return RR_SCENE_INVALID_PARAM;
    }
    struct pending *p = malloc(sizeof(*p));
    if (p == NULL) {
        return RR_SCENE_OUT_OF_MEMORY;
    }
    *p = *proto;
    p->op = req->op;
    p->last_percent = -1;
    pthread_mutex_lock(&c->lock);
    if (!c->connected) {
        pthread_mutex_unlock(&c->lock);
        free(p);
        return RR_SCENE_NO_CONNECTION;
    }
    p->id = req->id = c->next_id;
    c->next_id = c->next_id == UINT32_MAX ? 1 : c->next_id + 1;
    for (int i = 0; i < 4; i++) { /* big endian, after the kind byte */
        buf[1 + i] = (uint8_t)(p->id >> (24 - 8 * i));
    }
    p->next = c->pending;
    c->pending = p;
    c->pending_count++;
    pthread_mutex_unlock(&c->lock);

    /* Sent unlocked: the answer may arrive (and find p) before this returns. */
    enum rr_result rr =
        rr_context_send_builtin(c->ctx, RR_BUILTIN_SCENE, buf, n, RR_PRIORITY_MEDIUM, true);
    if (rr == RR_OK) {
        return RR_SCENE_SUCCESS;
    }
    pthread_mutex_lock(&c->lock);
    struct pending *mine = take_locked(c, req->id, true);
    pthread_mutex_unlock(&c->lock);
    if (mine == NULL) {
        /* A disconnect already completed it: its callback will run. */
        return RR_SCENE_SUCCESS;
    }
    free(mine);
    switch (rr) {
    case RR_ERROR_NOT_CONNECTED:
        return RR_SCENE_NO_CONNECTION;
    case RR_ERROR_QUEUE_FULL:
        return RR_SCENE_TOO_MANY_REQUESTS;
    case RR_ERROR_OUT_OF_MEMORY:
        return RR_SCENE_OUT_OF_MEMORY;
    default:
        return RR_SCENE_INTERNAL_ERROR;
    }
}

static bool finite_n(const float *v, int n)
{
    return v != NULL && rr_finite_n(v, n);
}

enum rr_scene_result rr_scene_load_model(struct rr_scene_client *c, const char *uri,
                                         uint32_t parent, rr_scene_progress_fn progress,
                                         rr_scene_id_fn done, void *user)
{
    if (c == NULL || uri == NULL) {
        return RR_SCENE_INVALID_PARAM;
    }
    size_t len = strnlen(uri, RR_SCENE_MAX_URI + 1);
    if (len == 0 || len > RR_SCENE_MAX_URI) {
        return RR_SCENE_INVALID_PARAM;
    }
    struct rr_scene_request *q = calloc(1, sizeof(*q));
    if (q == NULL) {
        return RR_SCENE_OUT_OF_MEMORY;
    }
    q->op = RR_SCENE_OP_LOAD_MODEL;
    q->parent = parent;
    memcpy(q->text, uri, len);
    q->text_len = (uint16_t)len;
    struct pending proto = {.id_fn = done, .progress = progress, .user = user};
    enum rr_scene_result r = call(c, q, &proto);
    free(q);
    return r;
}

enum rr_scene_result rr_scene_create_entity(struct rr_scene_client *c, uint32_t parent,
                                            const char *name, rr_scene_id_fn done, void *user)
{
    if (c == NULL) {
        return RR_SCENE_INVALID_PARAM;
    }
    size_t len = name != NULL ? strnlen(name, RR_SCENE_MAX_NAME + 1) : 0;
    if (len > RR_SCENE_MAX_NAME) {
        return RR_SCENE_INVALID_PARAM;
    }
    struct rr_scene_request q = {.op = RR_SCENE_OP_CREATE_ENTITY, .parent = parent};
    if (len > 0) {
        memcpy(q.text, name, len);
    }
    q.text_len = (uint16_t)len;
    struct pending proto = {.id_fn = done, .user = user};
    return call(c, &q, &proto);
}

enum rr_scene_result rr_scene_destroy_entity(struct rr_scene_client *c, uint32_t entity,
                                             rr_scene_done_fn done, void *user)
{
    if (c == NULL || entity == RR_SCENE_ROOT) {
        return RR_SCENE_INVALID_PARAM;
    }
    struct rr_scene_request q = {.op = RR_SCENE_OP_DESTROY_ENTITY, .entity = entity};
    struct pending proto = {.done = done, .user = user};
    return call(c, &q, &proto);
}

enum rr_scene_result rr_scene_set_transform(struct rr_scene_client *c, uint32_t entity,
                                            const struct rr_scene_transform *t,
                                            rr_scene_done_fn done, void *user)
{
    if (c == NULL || t == NULL || entity == RR_SCENE_ROOT || !finite_n(t->position, 3) ||
        !finite_n(t->rotation, 4) || !finite_n(t->scale, 3)) {
        return RR_SCENE_INVALID_PARAM;
    }
    float q4[4];
    memcpy(q4, t->rotation, sizeof(q4));
    if (!rr_normalize_n(q4, 4)) {
        return RR_SCENE_INVALID_PARAM;
    }
    struct rr_scene_request q = {
        .op = RR_SCENE_OP_SET_TRANSFORM, .entity = entity, .transform = *t};
    struct pending proto = {.done = done, .user = user};
    return call(c, &q, &proto);
}

enum rr_scene_result rr_scene_set_parent(struct rr_scene_client *c, uint32_t entity,
                                         uint32_t parent, rr_scene_done_fn done, void *user)
{
    if (c == NULL || entity == RR_SCENE_ROOT || entity == parent) {
        return RR_SCENE_INVALID_PARAM;
    }
    struct rr_scene_request q = {.op = RR_SCENE_OP_SET_PARENT, .entity = entity, .parent = parent};
    struct pending proto = {.done = done, .user = user};
    return call(c, &q, &proto);
}

enum rr_scene_result rr_scene_set_state(struct rr_scene_client *c, uint32_t entity,
                                        const struct rr_scene_state *state, rr_scene_done_fn done,
                                        void *user)
{
    if (c == NULL || state == NULL || entity == RR_SCENE_ROOT) {
        return RR_SCENE_INVALID_PARAM;
    }
    struct rr_scene_request q = {.op = RR_SCENE_OP_SET_STATE, .entity = entity, .state = *state};
    struct pending proto = {.done = done, .user = user};
    /* The encoder refuses out-of-range overrides and colours: INVALID_PARAM from call(). */
    return call(c, &q, &proto);
}

enum rr_scene_result rr_scene_set_material_color(struct rr_scene_client *c, uint32_t entity,
                                                 const float *rgba, rr_scene_done_fn done,
                                                 void *user)
{
    if (c == NULL || entity == RR_SCENE_ROOT) {
        return RR_SCENE_INVALID_PARAM;
    }
    struct rr_scene_request q = {.op = RR_SCENE_OP_SET_MATERIAL_COLOR, .entity = entity};
    if (rgba != NULL) {
        q.has_color = true;
        memcpy(q.color, rgba, sizeof(q.color));
    }
    struct pending proto = {.done = done, .user = user};
    return call(c, &q, &proto);
}

enum rr_scene_result rr_scene_add_cut_plane(struct rr_scene_client *c, const float normal[3],
                                            float distance, rr_scene_id_fn done, void *user)
{
    if (c == NULL || !finite_n(normal, 3) || !isfinite(distance)) {
        return RR_SCENE_INVALID_PARAM;
    }
    float n[3] = {normal[0], normal[1], normal[2]};
    if (!rr_normalize_n(n, 3)) {
        return RR_SCENE_INVALID_PARAM;
    }
    struct rr_scene_request q = {.op = RR_SCENE_OP_ADD_CUT_PLANE, .distance = distance};
    memcpy(q.normal, normal, sizeof(q.normal));
    struct pending proto = {.id_fn = done, .user = user};
    return call(c, &q, &proto);
}

enum rr_scene_result rr_scene_remove_cut_plane(struct rr_scene_client *c, uint32_t plane_id,
                                               rr_scene_done_fn done, void *user)
{
    if (c == NULL) {
        return RR_SCENE_INVALID_PARAM;
    }
    struct rr_scene_request q = {.op = RR_SCENE_OP_REMOVE_CUT_PLANE, .plane = plane_id};
    struct pending proto = {.done = done, .user = user};
    return call(c, &q, &proto);
}

enum rr_scene_result rr_scene_raycast(struct rr_scene_client *c, const float origin[3],
                                      const float direction[3], float max_distance,
                                      enum rr_scene_ray_mode mode, uint32_t max_hits,
                                      rr_scene_hits_fn done, void *user)
{
    if (c == NULL || !finite_n(origin, 3) || !finite_n(direction, 3) || !isfinite(max_distance) ||
        !(max_distance > 0.0f) || (mode != RR_SCENE_RAY_CLOSEST && mode != RR_SCENE_RAY_ALL) ||
        max_hits == 0 || max_hits > RR_SCENE_MAX_HITS) {
        return RR_SCENE_INVALID_PARAM;
    }
    float d[3] = {direction[0], direction[1], direction[2]};
    if (!rr_normalize_n(d, 3)) {
        return RR_SCENE_INVALID_PARAM;
    }
    struct rr_scene_request q = {.op = RR_SCENE_OP_RAYCAST,
                                 .max_distance = max_distance,
                                 .mode = (uint8_t)mode,
                                 .max_count = (uint16_t)max_hits};
    memcpy(q.origin, origin, sizeof(q.origin));
    memcpy(q.direction, direction, sizeof(q.direction));
    struct pending proto = {.hits_fn = done, .user = user};
    return call(c, &q, &proto);
}

enum rr_scene_result rr_scene_query_box(struct rr_scene_client *c, const float min[3],
                                        const float max[3], uint32_t max_results,
                                        rr_scene_ids_fn done, void *user)
{
    if (c == NULL || !finite_n(min, 3) || !finite_n(max, 3) || max_results == 0 ||
        max_results > RR_SCENE_MAX_QUERY_RESULTS || min[0] > max[0] || min[1] > max[1] ||
        min[2] > max[2]) {
        return RR_SCENE_INVALID_PARAM;
    }
    struct rr_scene_request q = {.op = RR_SCENE_OP_QUERY_BOX, .max_count = (uint16_t)max_results};
    memcpy(q.box_min, min, sizeof(q.box_min));
    memcpy(q.box_max, max, sizeof(q.box_max));
    struct pending proto = {.ids_fn = done, .user = user};
    return call(c, &q, &proto);
}
