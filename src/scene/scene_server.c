/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The scene server (scene_server.h). Three threads touch it: the context's network thread
 * (receiver callbacks: decode, queue, answer malformed requests), the worker (executes, answers)
 * and the load thread (runs the loader). Connections are told apart by a generation number
 * bumped at each disconnect: work of an older generation is dropped, never answered, and a
 * running load of it is cancelled through its progress callback.
 */
#include "scene_server.h"
#include "scene_wire.h"

#include "asset_download.h"
#include "u_log.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define LOG "scene"
#define DEFAULT_MAX_QUEUED 1024u

enum item_type { ITEM_REQUEST, ITEM_LOADED };

struct item {
    struct item *next;
    enum item_type type;
    uint64_t gen;
    struct rr_asset *asset; /* ITEM_LOADED */
    enum rr_scene_result load_result;
    struct rr_scene_request req;
};

struct queue {
    struct item *head, *tail;
};

struct rr_scene_server {
    struct rr_builtin_receiver base; /* first: the context calls us through it */
    struct rr_context *ctx;
    struct rr_scene *scene;
    struct rr_asset_loader *loader;
    struct rr_asset_cache *own_cache;
    uint32_t max_queued;

    pthread_mutex_t lock;
    pthread_cond_t work_cond; /* worker: ops, reset, stop */
    pthread_cond_t load_cond; /* load thread */
    pthread_cond_t idle_cond; /* flush */
    struct queue ops, loads;
    uint32_t queued;  /* requests in ops and loads, and the one loading */
    uint32_t in_work; /* items being executed (flush waits for 0) */
    uint64_t gen;     /* bumped at every disconnect */
    bool reset_pending;
    bool stop;
    struct rr_scene_server_stats stats;
    pthread_t worker, load_thread;
    bool worker_started, load_started;

    /* Worker-only buffers (a full box query's answer is 16 KiB). */
    struct rr_scene_hit hits[RR_SCENE_MAX_HITS];
    uint32_t ids[RR_SCENE_MAX_QUERY_RESULTS];
    uint8_t out[RR_SCENE_WIRE_MAX_RESPONSE];
};

static struct rr_scene_server *from_receiver(struct rr_builtin_receiver *r)
{
    return (struct rr_scene_server *)(void *)r;
}

static void push(struct queue *q, struct item *it)
{
    it->next = NULL;
    if (q->tail != NULL) {
        q->tail->next = it;
    } else {
        q->head = it;
    }
    q->tail = it;
}

static struct item *pop(struct queue *q)
{
    struct item *it = q->head;
    if (it != NULL) {
        q->head = it->next;
        if (q->head == NULL) {
            q->tail = NULL;
        }
    }
    return it;
}

static void send_result(struct rr_scene_server *s, uint32_t id, uint8_t op,
                        enum rr_scene_result result)
{
    uint8_t buf[RR_SCENE_WIRE_RESULT_SIZE];
    size_t n = rr_scene_wire_encode_result(id, op, (uint16_t)result, buf);
    if (n > 0) {
        rr_context_send_builtin(s->ctx, RR_BUILTIN_SCENE, buf, n, RR_PRIORITY_MEDIUM, true);
    }
}

/* ---- network thread ---------------------------------------------------------------------- */

static void on_message(struct rr_builtin_receiver *self, uint8_t channel, const uint8_t *data,
                       size_t size)
{
    struct rr_scene_server *s = from_receiver(self);
    (void)channel;
    struct item *it = malloc(sizeof(*it));
    struct rr_scene_request tmp;
    struct rr_scene_request *req = it != NULL ? &it->req : &tmp;
    enum rr_scene_wire_status st = rr_scene_wire_decode_request(data, size, req);
    if (st != RR_SCENE_WIRE_OK) {
        pthread_mutex_lock(&s->lock);
        s->stats.malformed++;
        pthread_mutex_unlock(&s->lock);
        if (st == RR_SCENE_WIRE_BAD_HEADER) {
            U_LOG_D(LOG, "scene message without a request header dropped (%zu bytes)", size);
        } else {
            send_result(s, req->id, req->op,
                        st == RR_SCENE_WIRE_UNKNOWN_OP ? RR_SCENE_NOT_SUPPORTED
                                                       : RR_SCENE_INVALID_PARAM);
        }
        free(it);
        return;
    }
    if (it == NULL) {
        send_result(s, req->id, req->op, RR_SCENE_OUT_OF_MEMORY);
        return;
    }
    pthread_mutex_lock(&s->lock);
    if (s->queued >= s->max_queued) {
        s->stats.rejected++;
        pthread_mutex_unlock(&s->lock);
        send_result(s, req->id, req->op, RR_SCENE_TOO_MANY_REQUESTS);
        free(it);
        return;
    }
    s->stats.requests++;
    s->queued++;
    it->type = ITEM_REQUEST;
    it->gen = s->gen;
    it->asset = NULL;
    if (req->op == RR_SCENE_OP_LOAD_MODEL) {
        push(&s->loads, it);
        pthread_cond_signal(&s->load_cond);
    } else {
        push(&s->ops, it);
        pthread_cond_signal(&s->work_cond);
    }
    pthread_mutex_unlock(&s->lock);
}

static void on_disconnected(struct rr_builtin_receiver *self)
{
    struct rr_scene_server *s = from_receiver(self);
    pthread_mutex_lock(&s->lock);
    /* The worker clears the scene before it runs anything queued after this point, and drops
     * what is queued before it (older generation). */
    s->gen++;
    s->reset_pending = true;
    pthread_cond_broadcast(&s->work_cond);
    pthread_cond_broadcast(&s->load_cond);
    pthread_mutex_unlock(&s->lock);
}

/* ---- worker ------------------------------------------------------------------------------- */

static void answer(struct rr_scene_server *s, uint64_t gen, const struct rr_scene_response *r)
{
    size_t n = rr_scene_wire_encode_response(r, s->out);
    if (n == 0) {
        U_LOG_E(LOG, "scene answer to request %u (op %u) does not encode", r->id, r->op);
        send_result(s, r->id, r->op, RR_SCENE_INTERNAL_ERROR);
        return;
    }
    pthread_mutex_lock(&s->lock);
    bool current = gen == s->gen;
    pthread_mutex_unlock(&s->lock);
    if (current) {
        enum rr_result rr =
            rr_context_send_builtin(s->ctx, RR_BUILTIN_SCENE, s->out, n, RR_PRIORITY_MEDIUM, true);
        if (rr != RR_OK && rr != RR_ERROR_NOT_CONNECTED) {
            U_LOG_W(LOG, "scene answer to request %u not sent: %s", r->id, rr_result_str(rr));
        }
    }
}

static void execute(struct rr_scene_server *s, struct item *it)
{
    const struct rr_scene_request *q = &it->req;
    struct rr_scene_response r = {.id = q->id, .op = q->op};
    enum rr_scene_result res = RR_SCENE_SUCCESS;
    switch (q->op) {
    case RR_SCENE_OP_LOAD_MODEL:
        res = it->load_result;
        if (res == RR_SCENE_SUCCESS) {
            res = rr_scene_add_model(s->scene, it->asset, s->loader, q->parent, &r.value);
            if (res != RR_SCENE_SUCCESS) {
                rr_asset_loader_release(s->loader, it->asset);
            } else {
                pthread_mutex_lock(&s->lock);
                s->stats.loads++;
                pthread_mutex_unlock(&s->lock);
            }
            it->asset = NULL;
        }
        break;
    case RR_SCENE_OP_CREATE_ENTITY:
        res = rr_scene_entity_create(s->scene, q->parent, q->text, &r.value);
        break;
    case RR_SCENE_OP_DESTROY_ENTITY:
        res = rr_scene_entity_destroy(s->scene, q->entity);
        break;
    case RR_SCENE_OP_SET_TRANSFORM:
        res = rr_scene_entity_set_transform(s->scene, q->entity, &q->transform);
        break;
    case RR_SCENE_OP_SET_PARENT:
        res = rr_scene_entity_set_parent(s->scene, q->entity, q->parent);
        break;
    case RR_SCENE_OP_SET_STATE:
        res = rr_scene_entity_set_state(s->scene, q->entity, &q->state);
        break;
    case RR_SCENE_OP_SET_MATERIAL_COLOR:
        res = rr_scene_entity_set_color(s->scene, q->entity, q->has_color ? q->color : NULL);
        break;
    case RR_SCENE_OP_ADD_CUT_PLANE:
        res = rr_scene_cut_plane_add(s->scene, q->normal, q->distance, &r.value);
        break;
    case RR_SCENE_OP_REMOVE_CUT_PLANE:
        res = rr_scene_cut_plane_remove(s->scene, q->plane);
        break;
    case RR_SCENE_OP_RAYCAST: {
        size_t n = 0;
        res = rr_scene_cast_ray(s->scene, q->origin, q->direction, q->max_distance,
                                (enum rr_scene_ray_mode)q->mode, q->max_count, s->hits, &n);
        r.count = (uint16_t)n;
        r.hits = s->hits;
        break;
    }
    case RR_SCENE_OP_QUERY_BOX: {
        size_t n = 0;
        res = rr_scene_find_in_box(s->scene, q->box_min, q->box_max, q->max_count, s->ids, &n,
                                   &r.truncated);
        r.count = (uint16_t)n;
        r.ids = s->ids;
        break;
    }
    default:
        res = RR_SCENE_NOT_SUPPORTED;
        break;
    }
    r.result = (uint16_t)res;
    if (res != RR_SCENE_SUCCESS) {
        r.value = 0;
        r.count = 0;
    }
    answer(s, it->gen, &r);
}

static void drop_item(struct rr_scene_server *s, struct item *it)
{
    if (it->asset != NULL) {
        rr_asset_loader_release(s->loader, it->asset);
    }
    free(it);
}

static void *worker_main(void *arg)
{
    struct rr_scene_server *s = arg;
    pthread_mutex_lock(&s->lock);
    while (!s->stop) {
        if (s->reset_pending) {
            s->reset_pending = false;
            s->stats.resets++;
            s->in_work++;
            pthread_mutex_unlock(&s->lock);
            rr_scene_clear(s->scene);
            pthread_mutex_lock(&s->lock);
            s->in_work--;
            continue;
        }
        struct item *it = pop(&s->ops);
        if (it == NULL) {
            pthread_cond_broadcast(&s->idle_cond);
            pthread_cond_wait(&s->work_cond, &s->lock);
            continue;
        }
        s->queued--;
        bool current = it->gen == s->gen;
        s->in_work++;
        pthread_mutex_unlock(&s->lock);
        if (current) {
            execute(s, it);
        }
        drop_item(s, it);
        pthread_mutex_lock(&s->lock);
        s->in_work--;
        if (current) {
            s->stats.executed++;
        }
    }
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

/* ---- load thread --------------------------------------------------------------------------- */

struct load_progress {
    struct rr_scene_server *s;
    uint64_t gen;
    uint32_t id;
    int last;
};

static bool on_progress(void *user, uint32_t percent)
{
    struct load_progress *p = user;
    pthread_mutex_lock(&p->s->lock);
    bool go_on = !p->s->stop && p->gen == p->s->gen;
    pthread_mutex_unlock(&p->s->lock);
    if (go_on && (int)percent > p->last) {
        p->last = (int)percent;
        uint8_t buf[RR_SCENE_WIRE_PROGRESS_SIZE];
        rr_scene_wire_encode_progress(p->id, (uint8_t)(percent > 100 ? 100 : percent), buf);
        rr_context_send_builtin(p->s->ctx, RR_BUILTIN_SCENE, buf, sizeof(buf), RR_PRIORITY_MEDIUM,
                                true);
    }
    return go_on;
}

static void *load_main(void *arg)
{
    struct rr_scene_server *s = arg;
    pthread_mutex_lock(&s->lock);
    while (!s->stop) {
        struct item *it = pop(&s->loads);
        if (it == NULL) {
            pthread_cond_wait(&s->load_cond, &s->lock);
            continue;
        }
        bool current = it->gen == s->gen;
        pthread_mutex_unlock(&s->lock);
        if (current) {
            struct load_progress p = {.s = s, .gen = it->gen, .id = it->req.id, .last = -1};
            char err[256] = "";
            it->load_result = rr_asset_loader_load(s->loader, it->req.text, on_progress, &p,
                                                   &it->asset, err, sizeof(err));
            if (it->load_result != RR_SCENE_SUCCESS) {
                it->asset = NULL;
                char shown[RR_SCENE_MAX_URI + 8];
                rr_download_shown_url(it->req.text, shown, sizeof shown);
                U_LOG_I(LOG, "model %s not loaded: %s (%s)", shown,
                        rr_scene_result_str(it->load_result), err);
            }
        }
        pthread_mutex_lock(&s->lock);
        /* The worker answers (or drops) it, in order with everything else it does. */
        it->type = ITEM_LOADED;
        push(&s->ops, it);
        pthread_cond_signal(&s->work_cond);
    }
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

/* ---- creation ------------------------------------------------------------------------------- */

static void free_queue(struct rr_scene_server *s, struct queue *q)
{
    struct item *it;
    while ((it = pop(q)) != NULL) {
        drop_item(s, it);
    }
}

enum rr_scene_result rr_scene_server_create(struct rr_context *ctx, struct rr_scene *scene,
                                            const struct rr_scene_server_config *cfg,
                                            struct rr_scene_server **out_server)
{
    if (ctx == NULL || scene == NULL || out_server == NULL ||
        rr_context_role(ctx) != RR_ROLE_REMOTE) {
        return RR_SCENE_INVALID_PARAM;
    }
    *out_server = NULL;
    struct rr_scene_server *s = calloc(1, sizeof(*s));
    if (s == NULL) {
        return RR_SCENE_OUT_OF_MEMORY;
    }
    s->base.on_message = on_message;
    s->base.on_disconnected = on_disconnected;
    s->ctx = ctx;
    s->scene = scene;
    s->max_queued =
        cfg != NULL && cfg->max_queued_requests ? cfg->max_queued_requests : DEFAULT_MAX_QUEUED;
    s->loader = cfg != NULL ? cfg->loader : NULL;
    enum rr_scene_result res = RR_SCENE_SUCCESS;
    if (s->loader == NULL) {
        res = rr_asset_cache_create(NULL, &s->own_cache);
        if (res != RR_SCENE_SUCCESS) {
            free(s);
            return res;
        }
        s->loader = &s->own_cache->base;
    }
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->work_cond, NULL);
    pthread_cond_init(&s->load_cond, NULL);
    pthread_cond_init(&s->idle_cond, NULL);
    if (pthread_create(&s->worker, NULL, worker_main, s) != 0) {
        res = RR_SCENE_INTERNAL_ERROR;
    } else {
        s->worker_started = true;
        if (pthread_create(&s->load_thread, NULL, load_main, s) != 0) {
            res = RR_SCENE_INTERNAL_ERROR;
        } else {
            s->load_started = true;
        }
    }
    if (res == RR_SCENE_SUCCESS) {
        enum rr_result rr =
            rr_context_attach_builtin(ctx, RR_BUILTIN_BIT(RR_BUILTIN_SCENE), &s->base);
        if (rr != RR_OK) {
            res = rr == RR_ERROR_OUT_OF_MEMORY ? RR_SCENE_OUT_OF_MEMORY : RR_SCENE_INVALID_PARAM;
        }
    }
    if (res != RR_SCENE_SUCCESS) {
        struct rr_scene_server *tmp = s;
        s->ctx = NULL; /* not attached: nothing to detach */
        rr_scene_server_destroy(&tmp);
        return res;
    }
    *out_server = s;
    return RR_SCENE_SUCCESS;
}

void rr_scene_server_destroy(struct rr_scene_server **server_ptr)
{
    if (server_ptr == NULL || *server_ptr == NULL) {
        return;
    }
    struct rr_scene_server *s = *server_ptr;
    *server_ptr = NULL;
    if (s->ctx != NULL) {
        /* Returns once no callback of ours runs any more. */
        rr_context_attach_builtin(s->ctx, RR_BUILTIN_BIT(RR_BUILTIN_SCENE), NULL);
    }
    pthread_mutex_lock(&s->lock);
    s->stop = true;
    s->gen++; /* a running load's progress callback now cancels it */
    pthread_cond_broadcast(&s->work_cond);
    pthread_cond_broadcast(&s->load_cond);
    pthread_mutex_unlock(&s->lock);
    if (s->load_started) {
        pthread_join(s->load_thread, NULL);
    }
    if (s->worker_started) {
        pthread_join(s->worker, NULL);
    }
    free_queue(s, &s->ops);
    free_queue(s, &s->loads);
    pthread_cond_destroy(&s->idle_cond);
    pthread_cond_destroy(&s->load_cond);
    pthread_cond_destroy(&s->work_cond);
    pthread_mutex_destroy(&s->lock);
    rr_asset_cache_destroy(&s->own_cache);
    free(s);
}

void rr_scene_server_get_stats(struct rr_scene_server *s, struct rr_scene_server_stats *out)
{
    pthread_mutex_lock(&s->lock);
    *out = s->stats;
    pthread_mutex_unlock(&s->lock);
}

void rr_scene_server_flush(struct rr_scene_server *s)
{
    pthread_mutex_lock(&s->lock);
    while (!s->stop &&
           (s->queued > 0 || s->in_work > 0 || s->ops.head != NULL || s->reset_pending)) {
        pthread_cond_wait(&s->idle_cond, &s->lock);
    }
    pthread_mutex_unlock(&s->lock);
}
