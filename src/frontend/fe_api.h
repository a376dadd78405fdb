/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fe_api — openrrd's routes (docs/openrrd.md): the token service, the REST API 2021-01-01
 * (conversions, sessions), the well-known documents, the hosts' registration, health and
 * metrics. fe_http delivers whole requests; the API checks api-version, the access token, the
 * rate limit, the role, ids and bodies, talks to the store, the conversion runner and the
 * session manager, and fills the response.
 *
 * Threads: fe_api_create / fe_api_destroy on the main thread; fe_api_handle on the HTTP pool's
 * threads, any number at once.
 */
#ifndef OPENRR_FE_API_H
#define OPENRR_FE_API_H

#include "fe_config.h"
#include "fe_http.h"
#include "fe_store.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct fe_sts;
struct fe_ca;
struct fe_conv_runner;
struct fe_session_mgr;
struct fe_ratelimit;
struct fe_metrics;

/* Borrowed; each must outlive the API. conv, sessions, ca and rate may be NULL (no runner: a
 * create is recorded only; no manager: sessions are recorded only; no CA: 404; no limit). */
struct fe_api_deps {
    const struct fe_config *cfg;
    struct fe_store *store;
    struct fe_sts *sts;
    struct fe_ca *ca;
    struct fe_conv_runner *conv;
    struct fe_session_mgr *sessions;
    struct fe_ratelimit *rate;
    struct fe_metrics *metrics;
};

struct fe_api;

/* The route names, in the order fe_http_response.route indexes them (for fe_metrics). */
extern const char *const FE_API_ROUTES[];
extern const size_t FE_API_ROUTE_COUNT;

bool fe_api_create(const struct fe_api_deps *deps, struct fe_api **out_api, char *err,
                   size_t err_size);
void fe_api_destroy(struct fe_api **api_ptr);

/* fe_http's handler and done callbacks; @p user is the struct fe_api. */
void fe_api_handle(void *user, const struct fe_http_request *req, struct fe_http_response *resp);
void fe_api_done(void *user, const struct fe_http_response *resp, uint64_t duration_us);

/* Whether @p id may name a conversion or session: [A-Za-z0-9_-]{1,256}. */
bool fe_api_id_valid(const char *id);

#endif /* OPENRR_FE_API_H */
