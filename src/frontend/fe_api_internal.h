/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the fe_api*.c files share: the API object, the checks every REST route makes, and
 * JSON and paging helpers. Not used outside src/frontend/fe_api*.c.
 * Threads: as fe_api.h (the handlers run on the HTTP pool's threads).
 */
#ifndef OPENRR_FE_API_INTERNAL_H
#define OPENRR_FE_API_INTERNAL_H

#include "fe_api.h"
#include "fe_sts.h"

#include <jansson.h>
#include <pthread.h>

#define FE_API_VERSION "2021-01-01"
#define FE_STS_API_VERSION "2019-02-28-preview"
#define FE_PAGE_SIZE 100

enum fe_route {
    ROUTE_TOKEN,
    ROUTE_JWKS,
    ROUTE_CA,
    ROUTE_CONV_LIST,
    ROUTE_CONV_PUT,
    ROUTE_CONV_GET,
    ROUTE_SESSION_LIST,
    ROUTE_SESSION_PUT,
    ROUTE_SESSION_GET,
    ROUTE_SESSION_PATCH,
    ROUTE_SESSION_STOP,
    ROUTE_READY,
    ROUTE_HEALTH,
    ROUTE_METRICS,
    ROUTE_OTHER,
};

struct fe_api {
    struct fe_api_deps d;
    char realm_header[300];       /* Bearer realm="openrr:<domain>" */
    pthread_mutex_t session_lock; /* max_sessions count and create, as one step */
};

/* Monotonic clock, microseconds (the rate limiter's). */
uint64_t api_mono_us(void);

/* Set the route of @p resp (for logs and metrics). */
void api_route(struct fe_http_response *resp, enum fe_route route);

/* 401 with WWW-Authenticate (error="invalid_token" and @p description unless @p no_token). */
void api_unauthorized(struct fe_api *api, struct fe_http_response *resp, bool no_token,
                      const char *description, const char *message);
/* 429 with Retry-After. */
void api_too_many(struct fe_http_response *resp, unsigned retry_after_s, const char *message);
/* A store failure as 500 (FULL: "the server's storage is full"). */
void api_store_error(struct fe_http_response *resp, enum fe_store_result r, const char *what);

/* The REST prelude: api-version, token of @p account, rate limit, then the role (Administrator
 * when @p need_admin, else Client or Administrator). false: @p resp holds the answer. */
bool api_rest_prelude(struct fe_api *api, const struct fe_http_request *req,
                      struct fe_http_response *resp, const char *account, bool need_admin);

/* The id in a path: false (400 InvalidId naming @p target) when it is not valid. */
bool api_check_id(struct fe_http_response *resp, const char *id, const char *target);

/* Parse the body as a JSON object (duplicate keys refused). false: 400 InvalidRequest. */
bool api_parse_body(const struct fe_http_request *req, struct fe_http_response *resp, json_t **out);

/* ISO 8601 UTC "YYYY-MM-DDTHH:MM:SSZ" of @p t into @p out (at least 32 bytes). */
void api_iso_time(int64_t t, char *out, size_t out_size);

/* Paging: the id to list after, from ?$skipToken (false: 400 answered). */
bool api_page_after(const struct fe_http_request *req, struct fe_http_response *resp,
                    char after[FE_ID_SIZE]);
/* Set "@nextLink" of @p list to <base><path>?api-version=…&$skipToken=<last id>. false when
 * out of memory. */
bool api_set_next_link(const struct fe_http_request *req, json_t *list, const char *last_id);

/* Handlers. @p account and @p id point into the path (NUL-terminated copies). */
void api_token(struct fe_api *api, const struct fe_http_request *req, struct fe_http_response *resp,
               const char *account);
void api_conversion_put(struct fe_api *api, const struct fe_http_request *req,
                        struct fe_http_response *resp, const char *account, const char *id);
void api_conversion_get(struct fe_api *api, const struct fe_http_request *req,
                        struct fe_http_response *resp, const char *account, const char *id);
void api_conversion_list(struct fe_api *api, const struct fe_http_request *req,
                         struct fe_http_response *resp, const char *account);
void api_session_put(struct fe_api *api, const struct fe_http_request *req,
                     struct fe_http_response *resp, const char *account, const char *id);
void api_session_get(struct fe_api *api, const struct fe_http_request *req,
                     struct fe_http_response *resp, const char *account, const char *id);
void api_session_patch(struct fe_api *api, const struct fe_http_request *req,
                       struct fe_http_response *resp, const char *account, const char *id);
void api_session_stop(struct fe_api *api, const struct fe_http_request *req,
                      struct fe_http_response *resp, const char *account, const char *id);
void api_session_list(struct fe_api *api, const struct fe_http_request *req,
                      struct fe_http_response *resp, const char *account);
void api_ready(struct fe_api *api, const struct fe_http_request *req, struct fe_http_response *resp,
               const char *id);
void api_healthz(struct fe_api *api, const struct fe_http_request *req,
                 struct fe_http_response *resp);
void api_metrics(struct fe_api *api, const struct fe_http_request *req,
                 struct fe_http_response *resp);

#endif /* OPENRR_FE_API_INTERNAL_H */
