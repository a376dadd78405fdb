/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cl_frontend — the account-level object: checking and copying the account info, the REST
 * plumbing every call shares (URLs, api-version, the access token, one retry with a fresh
 * token after a 401), the service's CA, and the account-level calls (access token, sessions:
 * create with retries, open, list).
 *
 * Threads: rr_frontend_* entry points on any thread; job run/deliver on the worker.
 */
#include "cl_internal.h"

#include "u_log.h"

#include <jansson.h>
#include <openssl/crypto.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

/* ---- checking the account info --------------------------------------------------------------- */

static bool set(const char *s)
{
    return s != NULL && s[0] != '\0';
}

/* Visible ASCII without spaces: what may follow "Bearer " in a header. */
static bool header_value_ok(const char *s)
{
    size_t n = strnlen(s, RR_MAX_TOKEN_SIZE + 1);
    if (n == 0 || n > RR_MAX_TOKEN_SIZE) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (s[i] <= ' ' || s[i] > '~') {
            return false;
        }
    }
    return true;
}

static bool name_ok(const char *s, bool allow_dot_dash_only)
{
    size_t n = strnlen(s, 254);
    if (n == 0 || n > 253) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '.' || (!allow_dot_dash_only && c == '_');
        if (!ok) {
            return false;
        }
    }
    return true;
}

/* A base URL: http(s)://authority[/path], no query, fragment, user info or whitespace. The
 * copy loses trailing slashes. NULL (and *bad) when it is not one. */
static char *base_url(const char *url, bool *bad, bool *ok)
{
    if (strncasecmp(url, "http://", 7) != 0 && strncasecmp(url, "https://", 8) != 0) {
        *bad = true;
        return NULL;
    }
    const char *authority = strstr(url, "://") + 3;
    size_t alen = strcspn(authority, "/");
    if (alen == 0 || memchr(authority, '@', alen) != NULL) {
        *bad = true;
        return NULL;
    }
    for (const char *p = url; *p != '\0'; p++) {
        if (*p <= ' ' || *p > '~' || *p == '?' || *p == '#') {
            *bad = true;
            return NULL;
        }
    }
    size_t n = strlen(url);
    if (n >= CL_URL_SIZE / 2) {
        *bad = true;
        return NULL;
    }
    while (n > 0 && url[n - 1] == '/') {
        n--;
    }
    char *copy = strndup(url, n);
    if (copy == NULL) {
        *ok = false;
    }
    return copy;
}

void cl_frontend_free(struct rr_frontend *fe)
{
    cl_frontend_unregister(fe);
    cl_http_fini(&fe->http);
    cl_tokens_fini(&fe->tokens);
    free(fe->domain);
    free(fe->account_id);
    free(fe->service_url);
    free(fe->sts_url);
    free(fe->ca_file);
    free(fe->ca_pem);
    pthread_mutex_destroy(&fe->lock);
    pthread_cond_destroy(&fe->cond);
    free(fe);
}

enum rr_client_result rr_frontend_create(const struct rr_account_info *info,
                                         struct rr_frontend **out_frontend)
{
    cl_thread_uses(NULL);
    if (out_frontend == NULL || info == NULL) {
        cl_set_thread_error(0, "rr_frontend_create: NULL argument");
        return RR_CLIENT_INVALID_PARAM;
    }
    *out_frontend = NULL;
    int credentials =
        set(info->account_key) + set(info->authentication_token) + set(info->access_token);
    if (credentials != 1) {
        cl_set_thread_error(0,
                            "exactly one of account_key, authentication_token and "
                            "access_token must be set (%d are)",
                            credentials);
        return RR_CLIENT_INVALID_PARAM;
    }
    const char *credential = set(info->account_key)            ? info->account_key
                             : set(info->authentication_token) ? info->authentication_token
                                                               : info->access_token;
    if (!header_value_ok(credential)) {
        cl_set_thread_error(0, "the credential is empty, too long or holds characters a "
                               "header cannot carry");
        return RR_CLIENT_INVALID_PARAM;
    }
    if (!set(info->account_id) || !name_ok(info->account_id, false)) {
        cl_set_thread_error(0, "account_id must be set and consist of letters, digits, '-', "
                               "'_' and '.'");
        return RR_CLIENT_INVALID_PARAM;
    }
    if (!set(info->account_domain) || !name_ok(info->account_domain, true)) {
        cl_set_thread_error(0, "account_domain must be a host name");
        return RR_CLIENT_INVALID_PARAM;
    }
    bool with_location = set(info->location) && strcmp(info->location, "ignore") != 0;
    if (with_location && !name_ok(info->location, true)) {
        cl_set_thread_error(0, "location must be a DNS label (e.g. westus2) or \"ignore\"");
        return RR_CLIENT_INVALID_PARAM;
    }
    if (!cl_http_global_init()) {
        cl_set_thread_error(0, "libcurl could not be initialised");
        return RR_CLIENT_OUT_OF_MEMORY;
    }

    struct rr_frontend *fe = calloc(1, sizeof(*fe));
    if (fe == NULL) {
        cl_set_thread_error(0, "out of memory");
        return RR_CLIENT_OUT_OF_MEMORY;
    }
    fe->refs = 1;
    pthread_mutex_init(&fe->lock, NULL);
    pthread_cond_init(&fe->cond, NULL);
    bool ok = true, bad = false;
    size_t dn = strlen(info->account_domain) + (with_location ? strlen(info->location) + 1 : 0);
    fe->domain = malloc(dn + 1);
    if (fe->domain != NULL) {
        if (with_location) {
            snprintf(fe->domain, dn + 1, "%s.%s", info->location, info->account_domain);
        } else {
            snprintf(fe->domain, dn + 1, "%s", info->account_domain);
        }
    } else {
        ok = false;
    }
    fe->account_id = cl_strdup(info->account_id, &ok);
    fe->ca_file = cl_strdup(set(info->ca_file) ? info->ca_file : NULL, &ok);
    if (ok && fe->domain != NULL) {
        char derived[CL_URL_SIZE];
        if (set(info->service_url)) {
            fe->service_url = base_url(info->service_url, &bad, &ok);
        } else {
            snprintf(derived, sizeof(derived), "https://remoterendering.%s", fe->domain);
            fe->service_url = base_url(derived, &bad, &ok);
        }
        if (set(info->sts_url)) {
            fe->sts_url = base_url(info->sts_url, &bad, &ok);
        } else if (set(info->service_url)) {
            fe->sts_url = cl_strdup(fe->service_url, &ok);
        } else {
            snprintf(derived, sizeof(derived), "https://sts.%s", fe->domain);
            fe->sts_url = base_url(derived, &bad, &ok);
        }
    }
    if (bad) {
        cl_set_thread_error(0, "service_url and sts_url must be http:// or https:// URLs "
                               "without user info, query or fragment");
        cl_frontend_free(fe);
        return RR_CLIENT_INVALID_PARAM;
    }
    if (ok) {
        ok = cl_tokens_init(&fe->tokens, info) && cl_http_init(&fe->http, fe->ca_file, &fe->cancel);
    }
    if (ok) {
        fe->serial = cl_frontend_register(fe);
        ok = fe->serial != 0;
    }
    if (!ok || !cl_worker_start(fe)) {
        cl_set_thread_error(0, ok ? "cannot start the frontend's thread" : "out of memory");
        cl_frontend_free(fe);
        return RR_CLIENT_OUT_OF_MEMORY;
    }
    cl_thread_uses(fe);
    *out_frontend = fe;
    return RR_CLIENT_SUCCESS;
}

void rr_frontend_release(struct rr_frontend **frontend_ptr)
{
    if (frontend_ptr == NULL || *frontend_ptr == NULL) {
        return;
    }
    struct rr_frontend *fe = *frontend_ptr;
    *frontend_ptr = NULL;
    cl_frontend_unref(fe);
}

const char *rr_frontend_domain(const struct rr_frontend *frontend)
{
    return frontend != NULL ? frontend->domain : "";
}

/* ---- REST plumbing (worker thread) ----------------------------------------------------------- */

enum rr_client_result cl_access_token(struct cl_job *job, char *out, size_t size)
{
    struct rr_frontend *fe = job->fe;
    char err[CL_MESSAGE_SIZE];
    enum rr_client_result res = cl_tokens_get(&fe->tokens, &fe->http, fe->sts_url, fe->account_id,
                                              out, size, err, sizeof(err));
    if (res != RR_CLIENT_SUCCESS) {
        cl_job_fail(job, res, "%s", err);
    }
    return res;
}

static enum rr_client_result rest(struct cl_job *job, const char *method, const char *url,
                                  const char *body, long timeout_s, struct cl_http_response *out)
{
    struct rr_frontend *fe = job->fe;
    memset(out, 0, sizeof(*out));
    out->retry_after = -1;
    char auth[RR_MAX_TOKEN_SIZE + 16];
    for (int attempt = 0;; attempt++) {
        memcpy(auth, "Bearer ", 7);
        enum rr_client_result res = cl_access_token(job, auth + 7, sizeof(auth) - 7);
        if (res != RR_CLIENT_SUCCESS) {
            OPENSSL_cleanse(auth, sizeof(auth));
            return res;
        }
        bool cached = cl_tokens_from_cache(&fe->tokens);
        struct cl_http_request rq = {.method = method,
                                     .url = url,
                                     .authorization = auth,
                                     .body = body,
                                     .timeout_s = timeout_s};
        char err[CL_MESSAGE_SIZE];
        res = cl_http_do(&fe->http, &rq, out, err, sizeof(err));
        OPENSSL_cleanse(auth, sizeof(auth));
        job->http_status = res == RR_CLIENT_SUCCESS ? out->status : 0;
        if (res != RR_CLIENT_SUCCESS) {
            cl_job_fail(job, res, "%s", err);
            return res;
        }
        if (out->status >= 200 && out->status < 300) {
            return RR_CLIENT_SUCCESS;
        }
        if (out->status == 401 && attempt == 0 && cached && fe->tokens.fixed == NULL) {
            /* A cached token the service no longer takes (a restarted service with new keys,
             * a clock step): one more try with a fresh one. */
            U_LOG_I(CL_LOG, "the service refused a cached access token; exchanging again");
            cl_tokens_drop(&fe->tokens);
            cl_http_response_free(out);
            continue;
        }
        job->result = cl_result_of_status(out->status);
        cl_message_of_response(job, out);
        cl_http_response_free(out);
        return job->result;
    }
}

enum rr_client_result cl_rest(struct cl_job *job, const char *method, const char *path,
                              const char *body, long timeout_s, struct cl_http_response *out)
{
    char url[CL_URL_SIZE];
    if (!cl_fmt(url, sizeof(url), "%s%s%capi-version=%s", job->fe->service_url, path,
                strchr(path, '?') != NULL ? '&' : '?', CL_API_VERSION)) {
        memset(out, 0, sizeof(*out));
        cl_job_fail(job, RR_CLIENT_INVALID_PARAM, "the request URL is too long");
        return job->result;
    }
    return rest(job, method, url, body, timeout_s, out);
}

enum rr_client_result cl_rest_url(struct cl_job *job, const char *method, const char *url,
                                  const char *body, long timeout_s, struct cl_http_response *out)
{
    /* A link from an answer: the token goes only where the service lives. */
    size_t n = strlen(job->fe->service_url);
    if (strncmp(url, job->fe->service_url, n) != 0 || url[n] != '/' || strlen(url) >= CL_URL_SIZE) {
        memset(out, 0, sizeof(*out));
        cl_job_fail(job, RR_CLIENT_API_UNAVAILABLE,
                    "the service sent a link outside its own URL; not followed");
        return job->result;
    }
    return rest(job, method, url, body, timeout_s, out);
}

enum rr_client_result cl_service_ca(struct cl_job *job)
{
    struct rr_frontend *fe = job->fe;
    if (fe->ca_pem != NULL) {
        return RR_CLIENT_SUCCESS;
    }
    char url[CL_URL_SIZE];
    if (!cl_fmt(url, sizeof(url), "%s/.well-known/openrr/ca.pem", fe->service_url)) {
        cl_job_fail(job, RR_CLIENT_INVALID_PARAM, "the CA URL is too long");
        return job->result;
    }
    struct cl_http_request rq = {.method = "GET", .url = url};
    struct cl_http_response r;
    char err[CL_MESSAGE_SIZE];
    enum rr_client_result res = cl_http_do(&fe->http, &rq, &r, err, sizeof(err));
    if (res != RR_CLIENT_SUCCESS) {
        cl_job_fail(job, res, "%s", err);
        return res;
    }
    if (r.status != 200 || strstr(r.body, "-----BEGIN CERTIFICATE-----") == NULL) {
        if (r.status == 200) {
            cl_job_fail(job, RR_CLIENT_API_UNAVAILABLE,
                        "the service's CA (/.well-known/openrr/ca.pem) is not a PEM certificate");
        } else {
            job->result = cl_result_of_status(r.status);
            if (job->result == RR_CLIENT_SESSION_NOT_FOUND) {
                job->result = RR_CLIENT_API_UNAVAILABLE;
            }
            cl_message_of_response(job, &r);
        }
        cl_http_response_free(&r);
        return job->result;
    }
    fe->ca_pem = r.body;
    fe->ca_pem_size = r.size;
    return RR_CLIENT_SUCCESS;
}

/* ---- access token ---------------------------------------------------------------------------- */

struct token_job {
    struct cl_job base;
    rr_token_fn done;
    char token[RR_MAX_TOKEN_SIZE + 1];
};

static void token_run(struct cl_job *job)
{
    struct token_job *j = (struct token_job *)job;
    cl_access_token(job, j->token, sizeof(j->token));
}

static void token_deliver(struct cl_job *job)
{
    struct token_job *j = (struct token_job *)job;
    j->done(job->user, job->result, job->result == RR_CLIENT_SUCCESS ? j->token : NULL);
}

static void token_fini(struct cl_job *job)
{
    struct token_job *j = (struct token_job *)job;
    OPENSSL_cleanse(j->token, sizeof(j->token));
}

static const struct cl_job_ops token_ops = {token_run, token_deliver, token_fini};

enum rr_client_result cl_enter(struct rr_frontend *fe, bool have_callback, const char *what)
{
    cl_thread_uses(fe);
    if (fe == NULL || !have_callback) {
        cl_set_thread_error(fe != NULL ? fe->serial : 0, "%s: NULL argument", what);
        return RR_CLIENT_INVALID_PARAM;
    }
    return RR_CLIENT_SUCCESS;
}

enum rr_client_result cl_submit(struct rr_frontend *fe, struct cl_job *job)
{
    if (job == NULL) {
        cl_set_thread_error(fe->serial, "out of memory");
        return RR_CLIENT_OUT_OF_MEMORY;
    }
    if (!cl_worker_submit(fe, job)) {
        cl_set_thread_error(fe->serial, "the frontend is being released");
        return RR_CLIENT_NO_CONNECTION;
    }
    return RR_CLIENT_SUCCESS;
}

enum rr_client_result rr_frontend_get_access_token(struct rr_frontend *frontend, rr_token_fn done,
                                                   void *user)
{
    enum rr_client_result r = cl_enter(frontend, done != NULL, "rr_frontend_get_access_token");
    if (r != RR_CLIENT_SUCCESS) {
        return r;
    }
    struct token_job *j = cl_job_new(sizeof(*j), frontend, &token_ops, user);
    if (j != NULL) {
        j->done = done;
    }
    return cl_submit(frontend, j != NULL ? &j->base : NULL);
}

/* ---- create a session ------------------------------------------------------------------------ */

/* The old SDK's create: three retries, 15 s each. */
#define CREATE_RETRIES 3
#define CREATE_TIMEOUT_S 15L

struct create_job {
    struct cl_job base;
    rr_session_create_fn done;
    char id[CL_ID_MAX + 1];
    enum rr_session_size size;
    uint32_t lease;
    struct rr_session_properties props;
};

/* Sleep up to @p ms unless the frontend is released meanwhile. */
static void pause_ms(struct rr_frontend *fe, unsigned ms)
{
    for (unsigned t = 0; t < ms && !atomic_load(&fe->cancel); t += 50) {
        usleep(50 * 1000);
    }
}

static void create_run(struct cl_job *job)
{
    struct create_job *j = (struct create_job *)job;
    char path[CL_URL_SIZE], body[128];
    snprintf(path, sizeof(path), "/accounts/%s/sessions/%s", job->fe->account_id, j->id);
    snprintf(body, sizeof(body), "{\"maxLeaseTimeMinutes\":%u,\"size\":\"%s\"}", j->lease,
             j->size == RR_SESSION_PREMIUM ? "Premium" : "Standard");
    struct cl_http_response r;
    for (int attempt = 0;; attempt++) {
        job->http_status = 0;
        enum rr_client_result res = cl_rest(job, "PUT", path, body, CREATE_TIMEOUT_S, &r);
        if (res == RR_CLIENT_SUCCESS) {
            break;
        }
        /* The create is idempotent (same id, same settings → 200), so a retry is safe. */
        bool transient =
            (res == RR_CLIENT_NO_CONNECTION && job->http_status == 0) || job->http_status >= 500;
        if (!transient || attempt >= CREATE_RETRIES || atomic_load(&job->fe->cancel)) {
            return;
        }
        U_LOG_I(CL_LOG, "create session %s: %s; retrying (%d of %d)", j->id, job->message,
                attempt + 1, CREATE_RETRIES);
        pause_ms(job->fe, 1000u << attempt);
        job->result = RR_CLIENT_SUCCESS;
        job->message[0] = '\0';
    }
    char err[256];
    if (!cl_json_session(r.body, r.size, &j->props, err, sizeof(err))) {
        cl_job_fail(job, RR_CLIENT_API_UNAVAILABLE, "create session: %s", err);
    }
    cl_http_response_free(&r);
}

static void create_deliver(struct cl_job *job)
{
    struct create_job *j = (struct create_job *)job;
    struct rr_session *s = NULL;
    if (job->result == RR_CLIENT_SUCCESS) {
        s = cl_session_new(job->fe, j->id);
        if (s == NULL) {
            job->result = RR_CLIENT_NO_CONNECTION;
            cl_set_thread_error(job->fe->serial,
                                "session %s was created but the frontend is being released", j->id);
        } else {
            cl_session_set_props(s, &j->props);
        }
    }
    j->done(job->user, job->result, s);
}

static const struct cl_job_ops create_ops = {create_run, create_deliver, NULL};

enum rr_client_result rr_frontend_create_session(struct rr_frontend *frontend,
                                                 const char *session_id, enum rr_session_size size,
                                                 uint32_t max_lease_time_minutes,
                                                 rr_session_create_fn done, void *user)
{
    enum rr_client_result r = cl_enter(frontend, done != NULL, "rr_frontend_create_session");
    if (r != RR_CLIENT_SUCCESS) {
        return r;
    }
    if (session_id != NULL && !cl_id_ok(session_id)) {
        cl_set_thread_error(frontend->serial, "a session id is 1 to 256 of A-Z a-z 0-9 - _");
        return RR_CLIENT_INVALID_PARAM;
    }
    if (size != RR_SESSION_STANDARD && size != RR_SESSION_PREMIUM) {
        cl_set_thread_error(frontend->serial, "size must be Standard or Premium");
        return RR_CLIENT_INVALID_PARAM;
    }
    if (max_lease_time_minutes < 1 || max_lease_time_minutes > 1440) {
        cl_set_thread_error(frontend->serial, "the lease is 1 to 1440 minutes");
        return RR_CLIENT_INVALID_PARAM;
    }
    struct create_job *j = cl_job_new(sizeof(*j), frontend, &create_ops, user);
    if (j != NULL) {
        j->done = done;
        j->size = size;
        j->lease = max_lease_time_minutes;
        if (session_id != NULL) {
            snprintf(j->id, sizeof(j->id), "%s", session_id);
        } else if (!cl_random_id(j->id)) {
            free(j);
            cl_set_thread_error(frontend->serial, "no random bytes for a session id");
            return RR_CLIENT_OUT_OF_MEMORY;
        }
    }
    return cl_submit(frontend, j != NULL ? &j->base : NULL);
}

enum rr_client_result rr_frontend_open_session(struct rr_frontend *frontend, const char *session_id,
                                               struct rr_session **out_session)
{
    cl_thread_uses(frontend);
    if (out_session != NULL) {
        *out_session = NULL;
    }
    if (frontend == NULL || out_session == NULL || !cl_id_ok(session_id)) {
        cl_set_thread_error(frontend != NULL ? frontend->serial : 0,
                            "rr_frontend_open_session: NULL argument or an id that is not 1 to "
                            "256 of A-Z a-z 0-9 - _");
        return RR_CLIENT_INVALID_PARAM;
    }
    struct rr_session *s = cl_session_new(frontend, session_id);
    if (s == NULL) {
        cl_set_thread_error(frontend->serial, "out of memory");
        return RR_CLIENT_OUT_OF_MEMORY;
    }
    *out_session = s;
    return RR_CLIENT_SUCCESS;
}

/* ---- list sessions --------------------------------------------------------------------------- */

/* Pages followed at most: 100 sessions each, far beyond max_sessions. */
#define LIST_MAX_PAGES 100

struct list_job {
    struct cl_job base;
    rr_sessions_fn done;
    struct rr_session_properties *items;
    size_t count, cap;
};

static bool list_page(struct cl_job *job, const struct cl_http_response *r, char *next,
                      size_t next_size)
{
    struct list_job *j = (struct list_job *)job;
    json_error_t jerr;
    json_t *root = json_loadb(r->body, r->size, 0, &jerr);
    json_t *arr = json_object_get(root, "sessions");
    next[0] = '\0';
    if (!json_is_array(arr)) {
        json_decref(root);
        cl_job_fail(job, RR_CLIENT_API_UNAVAILABLE, "the session list is not {\"sessions\":[…]}");
        return false;
    }
    size_t i;
    json_t *item;
    json_array_foreach(arr, i, item)
    {
        if (j->count == j->cap) {
            size_t cap = j->cap ? j->cap * 2 : 16;
            struct rr_session_properties *items = realloc(j->items, cap * sizeof(*items));
            if (items == NULL) {
                json_decref(root);
                cl_job_fail(job, RR_CLIENT_OUT_OF_MEMORY, "out of memory");
                return false;
            }
            j->items = items;
            j->cap = cap;
        }
        char err[256];
        if (!cl_json_session_obj(item, &j->items[j->count], err, sizeof(err))) {
            json_decref(root);
            cl_job_fail(job, RR_CLIENT_API_UNAVAILABLE, "session list: %s", err);
            return false;
        }
        j->count++;
    }
    const char *link = json_string_value(json_object_get(root, "@nextLink"));
    if (link != NULL && strlen(link) < next_size) {
        snprintf(next, next_size, "%s", link);
    }
    json_decref(root);
    return true;
}

static void list_run(struct cl_job *job)
{
    char path[CL_URL_SIZE], next[CL_URL_SIZE];
    snprintf(path, sizeof(path), "/accounts/%s/sessions", job->fe->account_id);
    struct cl_http_response r;
    if (cl_rest(job, "GET", path, NULL, 0, &r) != RR_CLIENT_SUCCESS) {
        return;
    }
    for (int page = 1;; page++) {
        bool ok = list_page(job, &r, next, sizeof(next));
        cl_http_response_free(&r);
        if (!ok || next[0] == '\0') {
            return;
        }
        if (page >= LIST_MAX_PAGES) {
            cl_job_fail(job, RR_CLIENT_API_UNAVAILABLE, "the session list has over %d pages",
                        LIST_MAX_PAGES);
            return;
        }
        if (cl_rest_url(job, "GET", next, NULL, 0, &r) != RR_CLIENT_SUCCESS) {
            return;
        }
    }
}

static void list_deliver(struct cl_job *job)
{
    struct list_job *j = (struct list_job *)job;
    bool ok = job->result == RR_CLIENT_SUCCESS;
    j->done(job->user, job->result, ok ? j->items : NULL, ok ? j->count : 0);
}

static void list_fini(struct cl_job *job)
{
    free(((struct list_job *)job)->items);
}

static const struct cl_job_ops list_ops = {list_run, list_deliver, list_fini};

enum rr_client_result rr_frontend_list_sessions(struct rr_frontend *frontend, rr_sessions_fn done,
                                                void *user)
{
    enum rr_client_result r = cl_enter(frontend, done != NULL, "rr_frontend_list_sessions");
    if (r != RR_CLIENT_SUCCESS) {
        return r;
    }
    struct list_job *j = cl_job_new(sizeof(*j), frontend, &list_ops, user);
    if (j != NULL) {
        j->done = done;
    }
    return cl_submit(frontend, j != NULL ? &j->base : NULL);
}
