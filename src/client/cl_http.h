/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cl_http — the SDK's HTTP(S) client: one libcurl easy handle per frontend, reused so that
 * calls share a kept-alive connection; bounded timeouts and response sizes; HTTPS verified
 * against the system store plus an optional CA file; an abort flag for release.
 *
 * Threads: a cl_http belongs to its frontend's worker thread. Bearer tokens are put into a
 * header list that is wiped before it is freed; URLs carry no secrets (SAS go in bodies).
 */
#ifndef OPENRR_CL_HTTP_H
#define OPENRR_CL_HTTP_H

#include "openrr/client.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

/* Largest response body read (a page of 100 sessions is a few tens of KiB). */
#define CL_HTTP_MAX_BODY (4u * 1024u * 1024u)
/* Timeout of a call unless the caller gives one (seconds). */
#define CL_HTTP_TIMEOUT_S 30L
#define CL_HTTP_CONNECT_TIMEOUT_S 10L

struct cl_http {
    void *curl;                    /* CURL * */
    const char *ca_file;           /* borrowed from the frontend */
    const atomic_bool *abort_flag; /* borrowed: true aborts a transfer in progress */
};

struct cl_http_request {
    const char *method; /* "GET", "PUT", "PATCH", "POST" */
    const char *url;
    const char *authorization; /* the whole header value ("Bearer …"), a secret; may be NULL */
    const char *body;          /* JSON; NULL = none */
    long timeout_s;            /* 0 = CL_HTTP_TIMEOUT_S */
};

struct cl_http_response {
    long status;
    char *body; /* NUL-terminated, may be "" */
    size_t size;
    long retry_after; /* seconds from Retry-After, −1 when absent */
};

/* Global libcurl set-up (once per process). False when libcurl cannot start. */
bool cl_http_global_init(void);

bool cl_http_init(struct cl_http *h, const char *ca_file, const atomic_bool *abort_flag);
void cl_http_fini(struct cl_http *h);

/* Send @p rq. SUCCESS: a response arrived (any status; *out filled). NO_CONNECTION: none did
 * (a message in @p err naming the URL without its query, and why); OUT_OF_MEMORY. */
enum rr_client_result cl_http_do(struct cl_http *h, const struct cl_http_request *rq,
                                 struct cl_http_response *out, char *err, size_t err_size);
void cl_http_response_free(struct cl_http_response *r);

/* The reason phrase of a status ("Conflict"); "" when unknown. */
const char *cl_http_reason(long status);

#endif /* OPENRR_CL_HTTP_H */
