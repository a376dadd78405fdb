/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rrctl_sdk — libopenrr_client made synchronous for a command line: each wrapper starts one
 * asynchronous call and waits on a condition variable until its completion (on the frontend's
 * worker thread) has copied the result, the SDK's message and the payload into the waiter.
 */
#include "rrctl.h"

#include <openssl/crypto.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int rrctl_frontend(const struct rrctl *rc, const struct rrctl_config *cfg, struct rr_frontend **out)
{
    struct rr_account_info info = {
        .account_domain = cfg->account_domain,
        .account_id = cfg->account_id,
        .account_key = cfg->key,
        .service_url = cfg->endpoint,
        .ca_file = cfg->ca_file,
    };
    enum rr_client_result r = rr_frontend_create(&info, out);
    if (r != RR_CLIENT_SUCCESS) {
        return rrctl_fail(rc, r == RR_CLIENT_INVALID_PARAM ? RRCTL_FAILED : rrctl_exit_of(r),
                          "the login settings in %s are unusable: %s", cfg->path,
                          rr_client_last_error());
    }
    return RRCTL_OK;
}

struct waiter {
    pthread_mutex_t m;
    pthread_cond_t c;
    bool done;
    struct rrctl_result *res;
    char *token;
    size_t token_size;
    struct rr_session **session;
    struct rr_session_properties *props;
    struct rr_session_properties **list;
    size_t *count;
    struct rr_conversion_properties *conv;
    char *path;
    size_t path_size;
};

static void waiter_init(struct waiter *w, struct rrctl_result *res)
{
    memset(w, 0, sizeof(*w));
    pthread_mutex_init(&w->m, NULL);
    pthread_cond_init(&w->c, NULL);
    w->res = res;
    memset(res, 0, sizeof(*res));
}

/* On the worker: the completion's result and message. */
static void finish(struct waiter *w, enum rr_client_result r)
{
    w->res->result = r;
    snprintf(w->res->message, sizeof(w->res->message), "%s",
             r == RR_CLIENT_SUCCESS ? "" : rr_client_last_error());
    pthread_mutex_lock(&w->m);
    w->done = true;
    pthread_cond_signal(&w->c);
    pthread_mutex_unlock(&w->m);
}

static enum rr_client_result wait_for(struct waiter *w, enum rr_client_result started)
{
    if (started != RR_CLIENT_SUCCESS) {
        w->res->result = started;
        snprintf(w->res->message, sizeof(w->res->message), "%s", rr_client_last_error());
    } else {
        pthread_mutex_lock(&w->m);
        while (!w->done) {
            pthread_cond_wait(&w->c, &w->m);
        }
        pthread_mutex_unlock(&w->m);
    }
    pthread_mutex_destroy(&w->m);
    pthread_cond_destroy(&w->c);
    return w->res->result;
}

/* ---- callbacks (worker thread) --------------------------------------------------------------- */

static void on_token(void *user, enum rr_client_result r, const char *token)
{
    struct waiter *w = user;
    if (r == RR_CLIENT_SUCCESS &&
        (size_t)snprintf(w->token, w->token_size, "%s", token) >= w->token_size) {
        r = RR_CLIENT_OUT_OF_MEMORY;
    }
    finish(w, r);
}

static void on_created(void *user, enum rr_client_result r, struct rr_session *s)
{
    struct waiter *w = user;
    *w->session = s;
    finish(w, r);
}

static void on_list(void *user, enum rr_client_result r, const struct rr_session_properties *p,
                    size_t n)
{
    struct waiter *w = user;
    if (r == RR_CLIENT_SUCCESS) {
        *w->list = calloc(n ? n : 1, sizeof(*p));
        if (*w->list == NULL) {
            r = RR_CLIENT_OUT_OF_MEMORY;
        } else {
            if (n > 0) {
                memcpy(*w->list, p, n * sizeof(*p));
            }
            *w->count = n;
        }
    }
    finish(w, r);
}

static void on_props(void *user, enum rr_client_result r, const struct rr_session_properties *p)
{
    struct waiter *w = user;
    if (r == RR_CLIENT_SUCCESS) {
        *w->props = *p;
    }
    finish(w, r);
}

static void on_done(void *user, enum rr_client_result r)
{
    finish(user, r);
}

static void on_path(void *user, enum rr_client_result r, const char *path)
{
    struct waiter *w = user;
    if (r == RR_CLIENT_SUCCESS) {
        snprintf(w->path, w->path_size, "%s", path);
    }
    finish(w, r);
}

static void on_conversion(void *user, enum rr_client_result r,
                          const struct rr_conversion_properties *p)
{
    struct waiter *w = user;
    if (r == RR_CLIENT_SUCCESS) {
        *w->conv = *p;
    }
    finish(w, r);
}

/* ---- wrappers (main thread) ------------------------------------------------------------------ */

enum rr_client_result rrctl_token(struct rr_frontend *fe, char *out, size_t size,
                                  struct rrctl_result *res)
{
    struct waiter w;
    waiter_init(&w, res);
    w.token = out;
    w.token_size = size;
    return wait_for(&w, rr_frontend_get_access_token(fe, on_token, &w));
}

enum rr_client_result rrctl_create_session(struct rr_frontend *fe, const char *id,
                                           enum rr_session_size size, uint32_t lease,
                                           struct rr_session **out, struct rrctl_result *res)
{
    struct waiter w;
    waiter_init(&w, res);
    *out = NULL;
    w.session = out;
    return wait_for(&w, rr_frontend_create_session(fe, id, size, lease, on_created, &w));
}

enum rr_client_result rrctl_list_sessions(struct rr_frontend *fe,
                                          struct rr_session_properties **out, size_t *count,
                                          struct rrctl_result *res)
{
    struct waiter w;
    waiter_init(&w, res);
    *out = NULL;
    *count = 0;
    w.list = out;
    w.count = count;
    return wait_for(&w, rr_frontend_list_sessions(fe, on_list, &w));
}

enum rr_client_result rrctl_get_properties(struct rr_session *s, struct rr_session_properties *out,
                                           struct rrctl_result *res)
{
    struct waiter w;
    waiter_init(&w, res);
    w.props = out;
    return wait_for(&w, rr_session_get_properties(s, on_props, &w));
}

enum rr_client_result rrctl_update(struct rr_session *s, uint32_t lease, struct rrctl_result *res)
{
    struct waiter w;
    waiter_init(&w, res);
    return wait_for(&w, rr_session_update(s, lease, on_done, &w));
}

enum rr_client_result rrctl_stop(struct rr_session *s, struct rrctl_result *res)
{
    struct waiter w;
    waiter_init(&w, res);
    return wait_for(&w, rr_session_stop(s, on_done, &w));
}

enum rr_client_result rrctl_inspector(struct rr_session *s, char *path, size_t size,
                                      struct rrctl_result *res)
{
    struct waiter w;
    waiter_init(&w, res);
    w.path = path;
    w.path_size = size;
    return wait_for(&w, rr_session_connect_inspector(s, on_path, &w));
}

enum rr_client_result rrctl_start_conversion(struct rr_frontend *fe, const char *id,
                                             const struct rr_conversion_input *in,
                                             const struct rr_conversion_output *out,
                                             struct rr_conversion_properties *props,
                                             struct rrctl_result *res)
{
    struct waiter w;
    waiter_init(&w, res);
    w.conv = props;
    return wait_for(&w, rr_frontend_start_conversion(fe, id, in, out, on_conversion, &w));
}

enum rr_client_result rrctl_get_conversion(struct rr_frontend *fe, const char *id,
                                           struct rr_conversion_properties *props,
                                           struct rrctl_result *res)
{
    struct waiter w;
    waiter_init(&w, res);
    w.conv = props;
    return wait_for(&w, rr_frontend_get_conversion(fe, id, on_conversion, &w));
}
