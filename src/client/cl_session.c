/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cl_session — the session object: its id, the cache of the last properties fetched, the
 * one-call-per-kind rule (busy bits), and the session calls that are plain REST (get
 * properties, update the lease, stop). A session object holds a frontend reference; each job
 * in flight holds a session reference, so releasing the object never cuts a call short — and
 * never stops the rendering session on the server.
 *
 * Threads: entry points on any thread (the cache and busy bits under the session's lock);
 * jobs on the frontend's worker.
 */
#include "cl_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct rr_session *cl_session_new(struct rr_frontend *fe, const char *id)
{
    struct rr_session *s = calloc(1, sizeof(*s));
    if (s == NULL) {
        return NULL;
    }
    if (!cl_frontend_try_ref(fe)) {
        free(s);
        return NULL;
    }
    atomic_init(&s->refs, 1);
    s->fe = fe;
    snprintf(s->id, sizeof(s->id), "%s", id);
    pthread_mutex_init(&s->lock, NULL);
    cl_connector_init(&s->conn, s);
    return s;
}

void cl_session_ref(struct rr_session *s)
{
    atomic_fetch_add(&s->refs, 1);
}

void cl_session_unref(struct rr_session *s)
{
    if (atomic_fetch_sub(&s->refs, 1) != 1) {
        return;
    }
    struct rr_frontend *fe = s->fe;
    cl_connector_fini(&s->conn);
    pthread_mutex_destroy(&s->lock);
    free(s);
    cl_frontend_unref(fe);
}

void rr_session_release(struct rr_session **session_ptr)
{
    if (session_ptr == NULL || *session_ptr == NULL) {
        return;
    }
    struct rr_session *s = *session_ptr;
    *session_ptr = NULL;
    cl_session_unref(s);
}

const char *rr_session_id(const struct rr_session *session)
{
    return session != NULL ? session->id : "";
}

struct rr_frontend *rr_session_frontend(const struct rr_session *session)
{
    return session != NULL ? session->fe : NULL;
}

void cl_session_set_props(struct rr_session *s, const struct rr_session_properties *p)
{
    pthread_mutex_lock(&s->lock);
    s->props = *p;
    s->have_props = true;
    pthread_mutex_unlock(&s->lock);
}

bool rr_session_cached_properties(const struct rr_session *session,
                                  struct rr_session_properties *out)
{
    if (session == NULL || out == NULL) {
        return false;
    }
    struct rr_session *s = (struct rr_session *)session;
    pthread_mutex_lock(&s->lock);
    bool have = s->have_props;
    if (have) {
        *out = s->props;
    }
    pthread_mutex_unlock(&s->lock);
    return have;
}

bool cl_session_claim(struct rr_session *s, enum cl_busy bit)
{
    pthread_mutex_lock(&s->lock);
    bool free_bit = (s->busy & bit) == 0;
    if (free_bit) {
        s->busy |= bit;
    }
    pthread_mutex_unlock(&s->lock);
    return free_bit;
}

void cl_session_release_bit(struct rr_session *s, enum cl_busy bit)
{
    pthread_mutex_lock(&s->lock);
    s->busy &= ~(unsigned)bit;
    pthread_mutex_unlock(&s->lock);
}

enum rr_client_result cl_session_start(struct rr_session *s, enum cl_busy bit, struct cl_job *job,
                                       const char *what)
{
    if (job == NULL) {
        cl_set_thread_error(s->fe->serial, "out of memory");
        return RR_CLIENT_OUT_OF_MEMORY;
    }
    if (!cl_session_claim(s, bit)) {
        if (job->ops->fini != NULL) {
            job->ops->fini(job);
        }
        free(job);
        cl_set_thread_error(s->fe->serial,
                            "%s: a call of this kind is already in flight on session %s", what,
                            s->id);
        return RR_CLIENT_ALREADY_EXISTS;
    }
    cl_session_ref(s);
    job->session = s;
    job->busy = bit;
    if (!cl_worker_submit(s->fe, job)) {
        /* Not reached while the session holds its frontend; kept for safety. */
        cl_session_release_bit(s, bit);
        cl_set_thread_error(s->fe->serial, "the frontend is being released");
        return RR_CLIENT_NO_CONNECTION;
    }
    return RR_CLIENT_SUCCESS;
}

/* ---- get / update / stop --------------------------------------------------------------------- */

struct props_job {
    struct cl_job base;
    rr_session_props_fn props_done; /* get */
    rr_session_done_fn done;        /* update, stop */
    uint32_t lease;
    struct rr_session_properties props;
};

static void session_path(struct cl_job *job, char *out, size_t size, const char *suffix)
{
    snprintf(out, size, "/accounts/%s/sessions/%s%s", job->fe->account_id, job->session->id,
             suffix);
}

/* Parse an answer holding a session and cache it. */
static void take_props(struct cl_job *job, struct cl_http_response *r,
                       struct rr_session_properties *props)
{
    char err[256];
    if (cl_json_session(r->body, r->size, props, err, sizeof(err))) {
        cl_session_set_props(job->session, props);
    } else {
        cl_job_fail(job, RR_CLIENT_API_UNAVAILABLE, "session %s: %s", job->session->id, err);
    }
    cl_http_response_free(r);
}

static void get_run(struct cl_job *job)
{
    struct props_job *j = (struct props_job *)job;
    char path[CL_URL_SIZE];
    session_path(job, path, sizeof(path), "");
    struct cl_http_response r;
    if (cl_rest(job, "GET", path, NULL, 0, &r) == RR_CLIENT_SUCCESS) {
        take_props(job, &r, &j->props);
    }
}

static void get_deliver(struct cl_job *job)
{
    struct props_job *j = (struct props_job *)job;
    j->props_done(job->user, job->result, job->result == RR_CLIENT_SUCCESS ? &j->props : NULL);
}

static const struct cl_job_ops get_ops = {get_run, get_deliver, NULL};

static void update_run(struct cl_job *job)
{
    struct props_job *j = (struct props_job *)job;
    char path[CL_URL_SIZE], body[64];
    session_path(job, path, sizeof(path), "");
    snprintf(body, sizeof(body), "{\"maxLeaseTimeMinutes\":%u}", j->lease);
    struct cl_http_response r;
    if (cl_rest(job, "PATCH", path, body, 0, &r) == RR_CLIENT_SUCCESS) {
        take_props(job, &r, &j->props);
    }
}

static void stop_run(struct cl_job *job)
{
    char path[CL_URL_SIZE];
    session_path(job, path, sizeof(path), "/:stop");
    struct cl_http_response r;
    if (cl_rest(job, "POST", path, NULL, 0, &r) == RR_CLIENT_SUCCESS) {
        cl_http_response_free(&r);
    }
}

static void done_deliver(struct cl_job *job)
{
    struct props_job *j = (struct props_job *)job;
    j->done(job->user, job->result);
}

static const struct cl_job_ops update_ops = {update_run, done_deliver, NULL};
static const struct cl_job_ops stop_ops = {stop_run, done_deliver, NULL};

enum rr_client_result cl_session_enter(struct rr_session *s, bool have_callback, const char *what)
{
    if (s == NULL) {
        cl_thread_uses(NULL);
        cl_set_thread_error(0, "%s: NULL session", what);
        return RR_CLIENT_INVALID_PARAM;
    }
    return cl_enter(s->fe, have_callback, what);
}

enum rr_client_result rr_session_get_properties(struct rr_session *session,
                                                rr_session_props_fn done, void *user)
{
    enum rr_client_result r = cl_session_enter(session, done != NULL, "rr_session_get_properties");
    if (r != RR_CLIENT_SUCCESS) {
        return r;
    }
    struct props_job *j = cl_job_new(sizeof(*j), session->fe, &get_ops, user);
    if (j != NULL) {
        j->props_done = done;
    }
    return cl_session_start(session, CL_BUSY_PROPERTIES, j ? &j->base : NULL,
                            "rr_session_get_properties");
}

enum rr_client_result rr_session_update(struct rr_session *session, uint32_t max_lease_time_minutes,
                                        rr_session_done_fn done, void *user)
{
    enum rr_client_result r = cl_session_enter(session, done != NULL, "rr_session_update");
    if (r != RR_CLIENT_SUCCESS) {
        return r;
    }
    if (max_lease_time_minutes < 1 || max_lease_time_minutes > 1440) {
        cl_set_thread_error(session->fe->serial, "the lease is 1 to 1440 minutes");
        return RR_CLIENT_INVALID_PARAM;
    }
    struct props_job *j = cl_job_new(sizeof(*j), session->fe, &update_ops, user);
    if (j != NULL) {
        j->done = done;
        j->lease = max_lease_time_minutes;
    }
    return cl_session_start(session, CL_BUSY_UPDATE, j ? &j->base : NULL, "rr_session_update");
}

enum rr_client_result rr_session_stop(struct rr_session *session, rr_session_done_fn done,
                                      void *user)
{
    enum rr_client_result r = cl_session_enter(session, done != NULL, "rr_session_stop");
    if (r != RR_CLIENT_SUCCESS) {
        return r;
    }
    struct props_job *j = cl_job_new(sizeof(*j), session->fe, &stop_ops, user);
    if (j != NULL) {
        j->done = done;
    }
    return cl_session_start(session, CL_BUSY_STOP, j ? &j->base : NULL, "rr_session_stop");
}
