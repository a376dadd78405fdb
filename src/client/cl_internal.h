/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cl_internal — what the SDK's files share: the frontend and session objects, the job queue
 * their background thread runs, and the small helpers every module uses. Not installed.
 *
 * Threads: a frontend's jobs run and complete on its worker thread (cl_worker.c), one at a
 * time; the HTTP handle and the token cache are touched only there. Public entry points run on
 * the caller's thread and only queue jobs, take references and read caches under their locks.
 */
#ifndef OPENRR_CL_INTERNAL_H
#define OPENRR_CL_INTERNAL_H

#include "openrr/client.h"

#include "cl_http.h"
#include "cl_tokens.h"

#include <openssl/x509.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CL_LOG "client"
#define CL_API_VERSION "2021-01-01"
/* Longest message kept for rr_client_last_error(). */
#define CL_MESSAGE_SIZE 512
/* Longest URL the SDK builds (base URL + path + query). */
#define CL_URL_SIZE 2048
/* An id of the REST API: [A-Za-z0-9_-]{1,256}. */
#define CL_ID_MAX 256

/* ---- jobs ------------------------------------------------------------------------------------ */

struct cl_job;

struct cl_job_ops {
    /* The work, on the worker thread: fills job->result (and job->message on failure). */
    void (*run)(struct cl_job *job);
    /* Call the user's callback with job->result (after the busy bit was cleared). */
    void (*deliver)(struct cl_job *job);
    /* Free what the job owns besides itself (wipe secrets). May be NULL. */
    void (*fini)(struct cl_job *job);
};

/* The kinds of session calls of which one at a time may be in flight (bits of busy). */
enum cl_busy {
    CL_BUSY_NONE = 0,
    CL_BUSY_PROPERTIES = 1u << 0,
    CL_BUSY_UPDATE = 1u << 1,
    CL_BUSY_STOP = 1u << 2,
    CL_BUSY_INSPECTOR = 1u << 3,
    CL_BUSY_CONNECT = 1u << 4,
};

/* Every job starts with this (as `base`), allocated with calloc by its module. */
struct cl_job {
    struct cl_job *next;
    const struct cl_job_ops *ops;
    struct rr_frontend *fe;
    struct rr_session *session; /* a reference the job holds, or NULL */
    enum cl_busy busy;          /* cleared on `session` just before deliver() */
    enum rr_client_result result;
    char message[CL_MESSAGE_SIZE];
    long http_status; /* of the last REST answer (0: none came) */
    void *user;
};

/* ---- frontend -------------------------------------------------------------------------------- */

struct rr_frontend {
    unsigned refs;   /* the caller's, one per session object; under `lock` */
    uint64_t serial; /* names it for rr_client_last_error (never reused) */
    char *domain;    /* location.domain */
    char *account_id;
    char *service_url; /* without a trailing '/' */
    char *sts_url;
    char *ca_file; /* NULL = system trust only (HTTPS to the service) */

    /* Worker thread state (cl_worker.c). */
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct cl_job *head, *tail; /* queued jobs */
    bool dying;                 /* the last reference is gone: cancel queued jobs, then exit */
    atomic_bool cancel;         /* abort the running request (cl_http checks it) */
    bool self_free;             /* the last reference went on the worker: it frees us */

    /* Worker thread only. */
    struct cl_http http;
    struct cl_tokens tokens;
    char *ca_pem; /* the service CA (GET /.well-known/openrr/ca.pem), fetched once */
    size_t ca_pem_size;

    /* The message of the newest completed call ("" after a success); under `lock`. */
    char last_error[CL_MESSAGE_SIZE];
};

/* Queue @p job (takes it; job->fe must be set). False when the frontend is going away (the job
 * is then freed, its callback never called). */
bool cl_worker_submit(struct rr_frontend *fe, struct cl_job *job);
/* Start / stop the worker (cl_frontend.c calls these). */
bool cl_worker_start(struct rr_frontend *fe);
/* Drop a reference; the last one stops the worker (joined, or — when dropped on the worker
 * itself — detached, the worker frees the frontend once the current callback returns). */
void cl_frontend_unref(struct rr_frontend *fe);
/* Take a reference unless the frontend is going away (false then). */
bool cl_frontend_try_ref(struct rr_frontend *fe);
/* Free a frontend whose worker is gone (or never started). */
void cl_frontend_free(struct rr_frontend *fe);
/* True on the frontend's worker thread. */
bool cl_on_worker(const struct rr_frontend *fe);

/* Allocate a job of @p size bytes (>= sizeof(struct cl_job)) for @p fe; NULL when out of
 * memory. */
void *cl_job_new(size_t size, struct rr_frontend *fe, const struct cl_job_ops *ops, void *user);

/* Entry checks of an asynchronous call on the caller's thread: the frontend and the callback
 * are there (INVALID_PARAM with the thread's message otherwise). */
enum rr_client_result cl_enter(struct rr_frontend *fe, bool have_callback, const char *what);
/* Queue @p job (NULL: it could not be allocated): SUCCESS, OUT_OF_MEMORY, or NO_CONNECTION
 * when the frontend is being released. */
enum rr_client_result cl_submit(struct rr_frontend *fe, struct cl_job *job);

/* ---- requests on the worker (cl_frontend.c) -------------------------------------------------- */

/* A REST call to the service with the access token: method, path below the service URL (it
 * adds api-version), optional JSON body. On SUCCESS *out holds the 2xx response (free with
 * cl_http_response_free); any other status or a network failure becomes the result and
 * @p job's message. A 401 with a cached token drops the cache and tries once more. */
enum rr_client_result cl_rest(struct cl_job *job, const char *method, const char *path,
                              const char *body, long timeout_s, struct cl_http_response *out);
/* An absolute URL on the service (a @nextLink); refused when it is not below service_url. */
enum rr_client_result cl_rest_url(struct cl_job *job, const char *method, const char *url,
                                  const char *body, long timeout_s, struct cl_http_response *out);
/* The access token (cached or exchanged) into @p out (wiped by the caller). */
enum rr_client_result cl_access_token(struct cl_job *job, char *out, size_t size);
/* The service CA PEM, fetched once per frontend (fe->ca_pem). */
enum rr_client_result cl_service_ca(struct cl_job *job);

/* ---- sessions (cl_session.c) ----------------------------------------------------------------- */

struct cl_connector {
    struct rr_authentication_provider provider; /* first: the cast helpers rely on it */
    struct rr_certificate_validator validator;
    struct rr_session *session;
    pthread_mutex_t lock;
    char *token;                   /* the access token to send; wiped */
    X509_STORE *store;             /* service CA + system store */
    char hostname[256];            /* what the certificate must name */
    bool force_revocation_unknown; /* forced checks cannot be answered: fail them */
};

struct rr_session {
    atomic_uint refs; /* the caller's references plus one per job in flight */
    struct rr_frontend *fe;
    char id[CL_ID_MAX + 1];
    pthread_mutex_t lock;
    unsigned busy; /* enum cl_busy bits in flight */
    bool have_props;
    struct rr_session_properties props;
    struct cl_connector conn;
};

/* A new session object (one reference) holding a frontend reference. NULL: out of memory. */
struct rr_session *cl_session_new(struct rr_frontend *fe, const char *id);
void cl_session_ref(struct rr_session *s);
void cl_session_unref(struct rr_session *s);
void cl_session_set_props(struct rr_session *s, const struct rr_session_properties *p);
/* Claim a busy bit: false when a call of that kind is in flight. */
bool cl_session_claim(struct rr_session *s, enum cl_busy bit);
void cl_session_release_bit(struct rr_session *s, enum cl_busy bit);

/* Entry checks of a session call (the session, its frontend and the callback are there). */
enum rr_client_result cl_session_enter(struct rr_session *s, bool have_callback, const char *what);
/* Claim @p bit and queue @p job (NULL: not allocated) holding a session reference. Errors:
 * ALREADY_EXISTS (a call of that kind in flight; the job is freed), OUT_OF_MEMORY. */
enum rr_client_result cl_session_start(struct rr_session *s, enum cl_busy bit, struct cl_job *job,
                                       const char *what);

void cl_connector_init(struct cl_connector *c, struct rr_session *s);
void cl_connector_fini(struct cl_connector *c);

/* ---- JSON (cl_json.c) ------------------------------------------------------------------------ */

/* Parse a session object; false when it is not one (a message in @p err). */
bool cl_json_session(const char *text, size_t size, struct rr_session_properties *out, char *err,
                     size_t err_size);
/* The same from a parsed object (a list's item). */
struct json_t;
bool cl_json_session_obj(struct json_t *obj, struct rr_session_properties *out, char *err,
                         size_t err_size);
bool cl_json_conversion(const char *text, size_t size, struct rr_conversion_properties *out,
                        char *err, size_t err_size);
/* The error object's code and message of a failed call ("" when the body has none). */
void cl_json_error(const char *text, size_t size, char *code, size_t code_size, char *message,
                   size_t message_size);
/* ISO 8601 UTC ("2024-05-01T12:00:00Z", fractions and offsets allowed) → epoch seconds; 0 when
 * it does not parse. */
int64_t cl_json_time(const char *iso);

/* ---- results (cl_results.c) ------------------------------------------------------------------ */

/* The result for an HTTP status that is not 2xx (docs/client.md has the table). */
enum rr_client_result cl_result_of_status(long status);
/* Fill @p job's message for a failed response: "HTTP 409 Conflict: <server message>". */
void cl_message_of_response(struct cl_job *job, const struct cl_http_response *r);
/* printf into job->message (result unchanged). */
void cl_job_fail(struct cl_job *job, enum rr_client_result result, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The calling thread's message for rr_client_last_error: @p message now, and the frontend it
 * concerns (0 = none). */
void cl_set_thread_error(uint64_t serial, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* A public call on this thread concerns @p fe: forget the thread's own message. */
void cl_thread_uses(const struct rr_frontend *fe);
/* Register / forget a live frontend (for rr_client_last_error's lookups). */
uint64_t cl_frontend_register(struct rr_frontend *fe);
void cl_frontend_unregister(struct rr_frontend *fe);
/* Set fe->last_error (under fe->lock) from a completed job. */
void cl_frontend_note_result(struct rr_frontend *fe, const struct cl_job *job);

/* ---- small helpers (cl_results.c) ------------------------------------------------------------ */

/* An id of the REST API: [A-Za-z0-9_-]{1,256}. */
bool cl_id_ok(const char *id);
/* A new random id (a UUID v4 in lower-case hex, 36 characters + NUL). */
bool cl_random_id(char out[37]);
/* strdup that accepts NULL; *ok = false when out of memory. */
char *cl_strdup(const char *s, bool *ok);
/* Wipe and free a string. NULL ok. */
void cl_free_secret(char *s);
/* snprintf that reports truncation as false. */
bool cl_fmt(char *out, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif /* OPENRR_CL_INTERNAL_H */
