/* SPDX-License-Identifier: Apache-2.0 */
/*
 * scene_run — running a scene script on one connection (see scene_script.h). A thread of the
 * run makes one call at a time and waits for its completion, which the scene client delivers
 * on its own thread; the player's frame loop goes on meanwhile, so a long model load never
 * stalls the video.
 */
#include "player_msg.h"
#include "scene_script_internal.h"

#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SHOWN_HITS 8u
#define SHOWN_IDS 16u

/* The answer to the call in flight. */
struct answer {
    bool done;
    enum rr_scene_result result;
    uint32_t id;
    struct rr_scene_hit hits[SHOWN_HITS];
    size_t count; /* hits or ids in all */
    uint32_t ids[SHOWN_IDS];
    bool truncated;
};

/* What the script set on an entity so far: set_state replaces every field, so a line that
 * changes one field sends the others as earlier lines left them. */
struct entity_state {
    uint32_t id;
    struct rr_scene_state state;
};

struct scene_run {
    const struct scene_script *script;
    struct rr_scene_client *client;
    pthread_t thread;
    bool started;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool stop;     /* under lock */
    bool finished; /* under lock */
    bool failed;   /* under lock */
    struct answer answer; /* under lock while a call is in flight */
    uint32_t progress_shown; /* under lock */
    uint32_t bound[SCENE_SCRIPT_MAX_NAMES];
    struct entity_state *states;
    size_t state_count, state_cap;
};

/* ---- completions (the client's thread) ---------------------------------------------------- */

/* Callbacks get the run as user data. One call is in flight at a time and none is issued
 * after the stop, so an answer always belongs to the newest call; one arriving after the
 * script gave up waiting (the stop) lands in a slot nobody reads. */
static struct answer *begin_answer(struct scene_run *run)
{
    pthread_mutex_lock(&run->lock);
    return &run->answer;
}

static void end_answer(struct scene_run *run, enum rr_scene_result result)
{
    run->answer.result = result;
    run->answer.done = true;
    pthread_cond_broadcast(&run->cond);
    pthread_mutex_unlock(&run->lock);
}

static void on_done(void *user, enum rr_scene_result result)
{
    (void)begin_answer(user);
    end_answer(user, result);
}

static void on_id(void *user, enum rr_scene_result result, uint32_t id)
{
    struct answer *a = begin_answer(user);
    {
        a->id = id;
        end_answer(user, result);
    }
}

static void on_progress(void *user, uint32_t percent)
{
    struct scene_run *run = user;
    pthread_mutex_lock(&run->lock);
    /* Every quarter, not every percent: the log is for people. */
    bool show = percent / 25u > run->progress_shown / 25u && percent < 100u;
    run->progress_shown = percent;
    pthread_mutex_unlock(&run->lock);
    if (show) {
        player_note("scene: loading … %" PRIu32 "%%", percent);
    }
}

static void on_hits(void *user, enum rr_scene_result result, const struct rr_scene_hit *hits,
                    size_t count)
{
    struct answer *a = begin_answer(user);
    {
        a->count = count;
        if (count > 0) { /* hits is NULL then: memcpy must not see it */
            memcpy(a->hits, hits, (count < SHOWN_HITS ? count : SHOWN_HITS) * sizeof *hits);
        }
        end_answer(user, result);
    }
}

static void on_ids(void *user, enum rr_scene_result result, const uint32_t *ids, size_t count,
                   bool truncated)
{
    struct answer *a = begin_answer(user);
    {
        a->count = count;
        a->truncated = truncated;
        if (count > 0) {
            memcpy(a->ids, ids, (count < SHOWN_IDS ? count : SHOWN_IDS) * sizeof *ids);
        }
        end_answer(user, result);
    }
}

/* ---- the script's thread ------------------------------------------------------------------ */

static uint32_t ref_id(const struct scene_run *run, const struct script_ref *r)
{
    return r->name >= 0 ? run->bound[r->name] : r->id;
}

static struct rr_scene_state *state_of(struct scene_run *run, uint32_t id)
{
    for (size_t i = 0; i < run->state_count; i++) {
        if (run->states[i].id == id) {
            return &run->states[i].state;
        }
    }
    if (run->state_count == run->state_cap) {
        size_t cap = run->state_cap ? run->state_cap * 2 : 16;
        struct entity_state *n = realloc(run->states, cap * sizeof *n);
        if (n == NULL) {
            return NULL;
        }
        run->states = n;
        run->state_cap = cap;
    }
    struct entity_state *e = &run->states[run->state_count++];
    memset(e, 0, sizeof *e);
    e->id = id;
    return &e->state;
}

/* The state a STATE line asks for, on top of what earlier lines set (kept once it succeeds). */
static bool next_state(struct scene_run *run, const struct script_cmd *c, uint32_t id,
                       struct rr_scene_state *out)
{
    struct rr_scene_state *cur = state_of(run, id);
    if (cur == NULL) {
        return false;
    }
    *out = *cur;
    switch (c->field) {
    case FIELD_HIDDEN:
        out->hidden = c->value;
        break;
    case FIELD_SELECTED:
        out->selected = c->value;
        break;
    case FIELD_SEE_THROUGH:
        out->see_through = c->value;
        break;
    case FIELD_CUT_PLANES:
        out->use_cut_planes = c->value;
        break;
    case FIELD_TINT:
        out->tint = c->value;
        if (c->value == RR_SCENE_FORCE_ON) {
            memcpy(out->tint_color, c->v, sizeof out->tint_color);
        }
        break;
    }
    return true;
}

/* Issue the call of @p c; RR_SCENE_SUCCESS when it was sent (its answer follows). */
static enum rr_scene_result issue(struct scene_run *run, const struct script_cmd *c,
                                  struct rr_scene_state *state)
{
    struct rr_scene_client *cl = run->client;
    uint32_t target = ref_id(run, &c->target);
    switch (c->op) {
    case OP_LOAD:
        return rr_scene_load_model(cl, c->text, ref_id(run, &c->other), on_progress, on_id, run);
    case OP_ENTITY:
        return rr_scene_create_entity(cl, ref_id(run, &c->other), c->text, on_id, run);
    case OP_PICK:
        return rr_scene_raycast(cl, c->v, c->v + 3, 1000.0f, RR_SCENE_RAY_CLOSEST, 1, on_hits,
                                run);
    case OP_MOVE: {
        struct rr_scene_transform t = {.rotation = {0, 0, 0, 1}, .scale = {1, 1, 1}};
        memcpy(t.position, c->v, sizeof t.position);
        if (c->nv >= 7) {
            memcpy(t.rotation, c->v + 3, sizeof t.rotation);
        }
        if (c->nv == 10) {
            memcpy(t.scale, c->v + 7, sizeof t.scale);
        }
        return rr_scene_set_transform(cl, target, &t, on_done, run);
    }
    case OP_PARENT:
        return rr_scene_set_parent(cl, target, ref_id(run, &c->other), on_done, run);
    case OP_STATE:
        if (!next_state(run, c, target, state)) {
            return RR_SCENE_OUT_OF_MEMORY;
        }
        return rr_scene_set_state(cl, target, state, on_done, run);
    case OP_COLOR:
        return rr_scene_set_material_color(cl, target, c->all ? NULL : c->v, on_done, run);
    case OP_CUT:
        return rr_scene_add_cut_plane(cl, c->v, c->v[3], on_id, run);
    case OP_UNCUT:
        return rr_scene_remove_cut_plane(cl, c->all ? 0u : target, on_done, run);
    case OP_RAYCAST:
        return rr_scene_raycast(cl, c->v, c->v + 3, 1000.0f,
                                c->all ? RR_SCENE_RAY_ALL : RR_SCENE_RAY_CLOSEST,
                                c->all ? RR_SCENE_MAX_HITS : 1u, on_hits, run);
    case OP_QUERY:
        return rr_scene_query_box(cl, c->v, c->v + 3, RR_SCENE_MAX_QUERY_RESULTS, on_ids, run);
    case OP_DESTROY:
        return rr_scene_destroy_entity(cl, target, on_done, run);
    case OP_SLEEP:
        break;
    }
    return RR_SCENE_INTERNAL_ERROR;
}

/* Wait for the answer to the call in flight, or for the stop. Under lock. */
static bool wait_answer(struct scene_run *run)
{
    while (!run->answer.done && !run->stop) {
        pthread_cond_wait(&run->cond, &run->lock);
    }
    return run->answer.done;
}

static void sleep_ms(struct scene_run *run, float ms)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    uint64_t ns = (uint64_t)until.tv_nsec + (uint64_t)(ms * 1e6f);
    until.tv_sec += (time_t)(ns / 1000000000u);
    until.tv_nsec = (long)(ns % 1000000000u);
    pthread_mutex_lock(&run->lock);
    while (!run->stop && pthread_cond_timedwait(&run->cond, &run->lock, &until) == 0) {
    }
    pthread_mutex_unlock(&run->lock);
}

/* The line's outcome as one message; the answer is stable (its call is over). */
static void report(const struct scene_run *run, const struct script_cmd *c,
                   enum rr_scene_result r, bool sent, double seconds)
{
    const struct answer *a = &run->answer;
    char what[512] = "";
    size_t n = 0;
    if (r == RR_SCENE_SUCCESS && (c->op == OP_LOAD || c->op == OP_ENTITY || c->op == OP_CUT)) {
        n += (size_t)snprintf(what, sizeof what, ", %s %" PRIu32,
                              c->op == OP_CUT ? "plane" : "entity", a->id);
    } else if (r == RR_SCENE_SUCCESS && (c->op == OP_PICK || c->op == OP_RAYCAST)) {
        n += (size_t)snprintf(what, sizeof what, ", %zu hit(s)", a->count);
        for (size_t i = 0; i < a->count && i < SHOWN_HITS && n < sizeof what; i++) {
            const struct rr_scene_hit *h = &a->hits[i];
            n += (size_t)snprintf(what + n, sizeof what - n,
                                  "%s entity %" PRIu32 " at (%.3f, %.3f, %.3f) %.3f m",
                                  i ? ";" : ":", h->entity_id, h->position[0], h->position[1],
                                  h->position[2], h->distance);
        }
    } else if (r == RR_SCENE_SUCCESS && c->op == OP_QUERY) {
        n += (size_t)snprintf(what, sizeof what, ", %zu entit%s%s", a->count,
                              a->count == 1 ? "y" : "ies", a->truncated ? " (truncated)" : "");
        for (size_t i = 0; i < a->count && i < SHOWN_IDS && n < sizeof what; i++) {
            n += (size_t)snprintf(what + n, sizeof what - n, "%s%" PRIu32, i ? " " : ": ",
                                  a->ids[i]);
        }
    }
    player_note("scene %u: %s → %s%s%s (%.0f ms)", c->line, c->verb, rr_scene_result_str(r),
                sent ? "" : " (refused before sending)", what, seconds * 1e3);
}

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Run line @p c; false when the script must stop (a wrong result, or the stop). */
static bool run_line(struct scene_run *run, const struct script_cmd *c)
{
    if (c->op == OP_SLEEP) {
        sleep_ms(run, c->v[0]);
        return true;
    }
    struct rr_scene_state state;
    pthread_mutex_lock(&run->lock);
    memset(&run->answer, 0, sizeof run->answer);
    run->progress_shown = 0;
    pthread_mutex_unlock(&run->lock);

    double t0 = mono_s();
    enum rr_scene_result r = issue(run, c, &state);
    bool sent = r == RR_SCENE_SUCCESS;
    if (sent) {
        pthread_mutex_lock(&run->lock);
        bool answered = wait_answer(run);
        r = run->answer.result;
        pthread_mutex_unlock(&run->lock);
        if (!answered) {
            return false;
        }
    }
    /* A ray that hits nothing leaves pick without an entity: EntityNotFound, so that a
     * script can expect it. */
    if (r == RR_SCENE_SUCCESS && c->op == OP_PICK && run->answer.count == 0) {
        r = RR_SCENE_ENTITY_NOT_FOUND;
    }
    report(run, c, r, sent, mono_s() - t0);
    if (r == RR_SCENE_SUCCESS) {
        if (c->bind >= 0) {
            run->bound[c->bind] = c->op == OP_PICK ? run->answer.hits[0].entity_id : run->answer.id;
        }
        if (c->op == OP_STATE) {
            *state_of(run, ref_id(run, &c->target)) = state; /* found by next_state() */
        }
    }
    if (r != c->expect) {
        player_error("scene script line %u: %s gave %s, expected %s; the script stops here",
                     c->line, c->verb, rr_scene_result_str(r), rr_scene_result_str(c->expect));
        return false;
    }
    return true;
}

static void *script_thread(void *arg)
{
    struct scene_run *run = arg;
    bool ok = true;
    for (size_t i = 0; ok && i < run->script->count; i++) {
        pthread_mutex_lock(&run->lock);
        bool stop = run->stop;
        pthread_mutex_unlock(&run->lock);
        if (stop) {
            break;
        }
        ok = run_line(run, &run->script->cmds[i]);
    }
    pthread_mutex_lock(&run->lock);
    run->failed = !ok && !run->stop;
    run->finished = true;
    pthread_mutex_unlock(&run->lock);
    if (ok) {
        player_note("scene script done (%zu line(s))", run->script->count);
    }
    return NULL;
}

/* ---- the run ------------------------------------------------------------------------------ */

bool scene_run_create(const struct scene_script *script, struct rr_context *ctx,
                      struct scene_run **out_run, char *err, size_t err_size)
{
    *out_run = NULL;
    struct scene_run *run = calloc(1, sizeof *run);
    if (run == NULL) {
        snprintf(err, err_size, "out of memory for the scene script");
        return false;
    }
    run->script = script;
    pthread_mutex_init(&run->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_cond_init(&run->cond, &ca);
    pthread_condattr_destroy(&ca);
    enum rr_scene_result r = rr_scene_client_create(ctx, &run->client);
    if (r != RR_SCENE_SUCCESS) {
        snprintf(err, err_size, "cannot create the scene client: %s", rr_scene_result_str(r));
        scene_run_destroy(&run);
        return false;
    }
    *out_run = run;
    return true;
}

bool scene_run_start(struct scene_run *run)
{
    if (run->started) {
        return true;
    }
    run->started = pthread_create(&run->thread, NULL, script_thread, run) == 0;
    if (!run->started) {
        player_error("cannot start the scene script's thread");
        pthread_mutex_lock(&run->lock);
        run->finished = run->failed = true;
        pthread_mutex_unlock(&run->lock);
    }
    return run->started;
}

bool scene_run_finished(struct scene_run *run)
{
    pthread_mutex_lock(&run->lock);
    bool f = run->finished;
    pthread_mutex_unlock(&run->lock);
    return f;
}

bool scene_run_failed(struct scene_run *run)
{
    pthread_mutex_lock(&run->lock);
    bool f = run->failed;
    pthread_mutex_unlock(&run->lock);
    return f;
}

void scene_run_destroy(struct scene_run **run_ptr)
{
    if (run_ptr == NULL || *run_ptr == NULL) {
        return;
    }
    struct scene_run *run = *run_ptr;
    pthread_mutex_lock(&run->lock);
    run->stop = true;
    pthread_cond_broadcast(&run->cond);
    pthread_mutex_unlock(&run->lock);
    if (run->started) {
        pthread_join(run->thread, NULL);
    }
    /* Completes what is still pending (ConnectionLost); the answers are ignored by seq. */
    rr_scene_client_destroy(&run->client);
    pthread_cond_destroy(&run->cond);
    pthread_mutex_destroy(&run->lock);
    free(run->states);
    free(run);
    *run_ptr = NULL;
}
