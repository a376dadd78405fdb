/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fe_api — routing and the checks every REST route shares (fe_api.h). Runs on the HTTP pool's
 * threads; the API object is read-only after create but for its session mutex.
 */
#include "fe_api_internal.h"

#include "fe_ca.h"
#include "fe_keys.h"
#include "fe_log.h"
#include "fe_metrics.h"
#include "fe_ratelimit.h"

#include <openssl/crypto.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

const char *const FE_API_ROUTES[] = {
    [ROUTE_TOKEN] = "GET /accounts/{a}/token",
    [ROUTE_JWKS] = "GET /.well-known/jwks.json",
    [ROUTE_CA] = "GET /.well-known/openrr/ca.pem",
    [ROUTE_CONV_LIST] = "GET /accounts/{a}/conversions",
    [ROUTE_CONV_PUT] = "PUT /accounts/{a}/conversions/{id}",
    [ROUTE_CONV_GET] = "GET /accounts/{a}/conversions/{id}",
    [ROUTE_SESSION_LIST] = "GET /accounts/{a}/sessions",
    [ROUTE_SESSION_PUT] = "PUT /accounts/{a}/sessions/{id}",
    [ROUTE_SESSION_GET] = "GET /accounts/{a}/sessions/{id}",
    [ROUTE_SESSION_PATCH] = "PATCH /accounts/{a}/sessions/{id}",
    [ROUTE_SESSION_STOP] = "POST /accounts/{a}/sessions/{id}/:stop",
    [ROUTE_READY] = "POST /internal/sessions/{id}/ready",
    [ROUTE_HEALTH] = "GET /healthz",
    [ROUTE_METRICS] = "GET /metrics",
    [ROUTE_OTHER] = "other",
};
const size_t FE_API_ROUTE_COUNT = sizeof FE_API_ROUTES / sizeof FE_API_ROUTES[0];

#define MAX_SEGMENTS 8
#define MAX_PATH 4096

bool fe_api_create(const struct fe_api_deps *deps, struct fe_api **out_api, char *err,
                   size_t err_size)
{
    *out_api = NULL;
    if (deps == NULL || deps->cfg == NULL || deps->store == NULL || deps->sts == NULL) {
        snprintf(err, err_size, "the API needs a configuration, a store and a token service");
        return false;
    }
    struct fe_api *api = calloc(1, sizeof *api);
    if (api == NULL) {
        snprintf(err, err_size, "out of memory");
        return false;
    }
    api->d = *deps;
    snprintf(api->realm_header, sizeof api->realm_header, "Bearer realm=\"openrr:%s\"",
             deps->cfg->domain);
    pthread_mutex_init(&api->session_lock, NULL);
    *out_api = api;
    return true;
}

void fe_api_destroy(struct fe_api **api_ptr)
{
    if (api_ptr == NULL || *api_ptr == NULL) {
        return;
    }
    pthread_mutex_destroy(&(*api_ptr)->session_lock);
    free(*api_ptr);
    *api_ptr = NULL;
}

bool fe_api_id_valid(const char *id)
{
    size_t n = 0;
    for (; id[n] != '\0'; n++) {
        char c = id[n];
        if (n >= FE_ID_SIZE - 1 || !((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                                     (c >= '0' && c <= '9') || c == '_' || c == '-')) {
            return false;
        }
    }
    return n > 0;
}

uint64_t api_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

void api_route(struct fe_http_response *resp, enum fe_route route)
{
    resp->route = route;
    resp->route_name = FE_API_ROUTES[route];
}

/* ---- shared answers ---------------------------------------------------------------------- */

void api_unauthorized(struct fe_api *api, struct fe_http_response *resp, bool no_token,
                      const char *description, const char *message)
{
    char value[512];
    if (no_token) {
        snprintf(value, sizeof value, "%s", api->realm_header);
    } else {
        snprintf(value, sizeof value, "%s, error=\"invalid_token\", error_description=\"%s\"",
                 api->realm_header, description);
    }
    fe_http_add_header(resp, "WWW-Authenticate", value);
    fe_http_set_error(resp, 401, "Unauthorized", message, NULL);
    snprintf(resp->note, sizeof resp->note, "%s", description);
}

void api_too_many(struct fe_http_response *resp, unsigned retry_after_s, const char *message)
{
    char v[16];
    snprintf(v, sizeof v, "%u", retry_after_s);
    fe_http_add_header(resp, "Retry-After", v);
    fe_http_set_error(resp, 429, "TooManyRequests", message, NULL);
}

void api_store_error(struct fe_http_response *resp, enum fe_store_result r, const char *what)
{
    if (r == FE_STORE_FULL) {
        fe_http_set_error(resp, 500, "InternalError", "the server's storage is full", NULL);
    } else {
        fe_http_set_error(resp, 500, "InternalError", "the server's database failed", NULL);
    }
    snprintf(resp->note, sizeof resp->note, "%s: %s", what, fe_store_result_str(r));
}

static void not_found(struct fe_http_response *resp)
{
    fe_http_set_error(resp, 404, "NotFound", "no such resource", NULL);
}

static void method_not_allowed(struct fe_http_response *resp, const char *allow)
{
    fe_http_add_header(resp, "Allow", allow);
    fe_http_set_error(resp, 405, "MethodNotAllowed", "the method is not allowed here", NULL);
}

/* ---- the REST prelude --------------------------------------------------------------------- */

static bool api_version_ok(const struct fe_http_request *req, struct fe_http_response *resp)
{
    const char *v = fe_http_query(req, "api-version");
    if (v == NULL || v[0] == '\0') {
        fe_http_set_error(resp, 400, "MissingApiVersionParameter",
                          "the api-version query parameter is required (" FE_API_VERSION ")",
                          "api-version");
        return false;
    }
    if (strcmp(v, FE_API_VERSION) != 0) {
        fe_http_set_error(resp, 400, "InvalidApiVersionParameter",
                          "the api-version must be " FE_API_VERSION, "api-version");
        return false;
    }
    return true;
}

/* Why a token was refused, for error_description (no quotes: it goes into a header). */
static const char *token_verdict(enum rr_jwt_result r)
{
    switch (r) {
    case RR_JWT_EXPIRED:
        return "the token expired";
    case RR_JWT_NOT_YET_VALID:
        return "the token is not valid yet";
    case RR_JWT_BAD_SIGNATURE:
        return "the token signature does not verify";
    case RR_JWT_UNKNOWN_KEY:
        return "the token is signed by an unknown key";
    case RR_JWT_ALG_NOT_ALLOWED:
        return "the token algorithm is not allowed";
    case RR_JWT_WRONG_ISSUER:
        return "the token has another issuer";
    case RR_JWT_WRONG_AUDIENCE:
        return "the token has another audience";
    case RR_JWT_WRONG_ACCOUNT:
        return "the token is for another account";
    case RR_JWT_MALFORMED:
        return "the token is malformed";
    default:
        return "the token was refused";
    }
}

bool api_rest_prelude(struct fe_api *api, const struct fe_http_request *req,
                      struct fe_http_response *resp, const char *account, bool need_admin)
{
    if (!api_version_ok(req, resp)) {
        return false;
    }
    const char *auth = fe_http_header(req, "Authorization");
    if (auth == NULL || auth[0] == '\0') {
        api_unauthorized(api, resp, true, "no token", "an access token is required");
        return false;
    }
    if (strncasecmp(auth, "Bearer ", 7) != 0) {
        api_unauthorized(api, resp, false, "not a Bearer token",
                         "the Authorization header must be Bearer <access token>");
        return false;
    }
    const char *token = auth + 7;
    while (*token == ' ') {
        token++;
    }
    struct fe_sts_identity id;
    char why[160] = "";
    enum rr_jwt_result r = fe_sts_verify(api->d.sts, token, account, &id, why, sizeof why);
    if (r != RR_JWT_OK) {
        const char *verdict = token_verdict(r);
        api_unauthorized(api, resp, false, verdict, verdict);
        if (id.aid[0] != '\0') {
            snprintf(resp->account, sizeof resp->account, "%s", id.aid);
        }
        return false;
    }
    snprintf(resp->account, sizeof resp->account, "%s", account);
    unsigned retry = 0;
    if (!fe_ratelimit_take(api->d.rate, account, api_mono_us(), &retry)) {
        api_too_many(resp, retry, "too many requests for this account");
        return false;
    }
    unsigned want =
        need_admin ? RR_JWT_ROLE_ADMINISTRATOR : (RR_JWT_ROLE_ADMINISTRATOR | RR_JWT_ROLE_CLIENT);
    if ((id.roles & want) == 0) {
        fe_http_set_error(resp, 403, "Forbidden",
                          need_admin ? "conversions need an Administrator token"
                                     : "this call needs a Client or Administrator token",
                          NULL);
        return false;
    }
    return true;
}

bool api_check_id(struct fe_http_response *resp, const char *id, const char *target)
{
    if (fe_api_id_valid(id)) {
        return true;
    }
    char msg[160];
    snprintf(msg, sizeof msg, "%s must be 1 to 256 characters of A-Z, a-z, 0-9, '_' and '-'",
             target);
    fe_http_set_error(resp, 400, "InvalidId", msg, target);
    return false;
}

bool api_parse_body(const struct fe_http_request *req, struct fe_http_response *resp, json_t **out)
{
    *out = NULL;
    if (req->body_len == 0) {
        fe_http_set_error(resp, 400, "InvalidRequest", "the request needs a JSON body", NULL);
        return false;
    }
    json_error_t jerr;
    json_t *j = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &jerr);
    if (j == NULL) {
        char msg[256];
        snprintf(msg, sizeof msg, "the body is not valid JSON: %s (line %d, column %d)", jerr.text,
                 jerr.line, jerr.column);
        fe_http_set_error(resp, 400, "InvalidRequest", msg, NULL);
        return false;
    }
    if (!json_is_object(j)) {
        json_decref(j);
        fe_http_set_error(resp, 400, "InvalidRequest", "the body must be a JSON object", NULL);
        return false;
    }
    *out = j;
    return true;
}

void api_iso_time(int64_t t, char *out, size_t out_size)
{
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(out, out_size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

bool api_page_after(const struct fe_http_request *req, struct fe_http_response *resp,
                    char after[FE_ID_SIZE])
{
    after[0] = '\0';
    const char *tok = fe_http_query(req, "$skipToken");
    if (tok == NULL || tok[0] == '\0') {
        return true;
    }
    uint8_t raw[FE_ID_SIZE];
    long n = fe_b64url_decode(tok, strlen(tok), raw, sizeof raw - 1);
    if (n <= 0) {
        fe_http_set_error(resp, 400, "InvalidArgument", "the $skipToken is not one of ours",
                          "$skipToken");
        return false;
    }
    raw[n] = '\0';
    if (!fe_api_id_valid((const char *)raw)) {
        fe_http_set_error(resp, 400, "InvalidArgument", "the $skipToken is not one of ours",
                          "$skipToken");
        return false;
    }
    memcpy(after, raw, (size_t)n + 1);
    return true;
}

bool api_set_next_link(const struct fe_http_request *req, json_t *list, const char *last_id)
{
    char base[512];
    fe_http_base_url(req, base, sizeof base);
    char tok[FE_ID_SIZE * 2];
    fe_b64url_encode((const uint8_t *)last_id, strlen(last_id), tok);
    size_t len = strlen(base) + strlen(req->path) + strlen(tok) + 64;
    char *url = malloc(len);
    if (url == NULL) {
        return false;
    }
    snprintf(url, len, "%s%s?api-version=" FE_API_VERSION "&$skipToken=%s", base, req->path, tok);
    int r = json_object_set_new(list, "@nextLink", json_string(url));
    free(url);
    return r == 0;
}

/* ---- routing ------------------------------------------------------------------------------ */

static bool method_is(const struct fe_http_request *req, const char *m)
{
    return strcmp(req->method, m) == 0;
}

/* The handler of a path of @p n segments @p s. */
static void route(struct fe_api *api, const struct fe_http_request *req,
                  struct fe_http_response *resp, char **s, size_t n)
{
    /* The token service: /Accounts/{id}/token or /accounts/{id}/token. */
    if (n == 3 && (strcmp(s[0], "accounts") == 0 || strcmp(s[0], "Accounts") == 0) &&
        strcmp(s[2], "token") == 0) {
        api_route(resp, ROUTE_TOKEN);
        if (!method_is(req, "GET")) {
            method_not_allowed(resp, "GET");
            return;
        }
        api_token(api, req, resp, s[1]);
        return;
    }
    if (n >= 3 && strcmp(s[0], "accounts") == 0 &&
        (strcmp(s[2], "conversions") == 0 || strcmp(s[2], "sessions") == 0)) {
        bool conv = s[2][0] == 'c';
        if (n == 3) {
            api_route(resp, conv ? ROUTE_CONV_LIST : ROUTE_SESSION_LIST);
            if (!method_is(req, "GET")) {
                method_not_allowed(resp, "GET");
            } else if (conv) {
                api_conversion_list(api, req, resp, s[1]);
            } else {
                api_session_list(api, req, resp, s[1]);
            }
            return;
        }
        if (n == 4 && conv) {
            if (method_is(req, "PUT")) {
                api_route(resp, ROUTE_CONV_PUT);
                api_conversion_put(api, req, resp, s[1], s[3]);
            } else if (method_is(req, "GET")) {
                api_route(resp, ROUTE_CONV_GET);
                api_conversion_get(api, req, resp, s[1], s[3]);
            } else {
                api_route(resp, ROUTE_OTHER);
                method_not_allowed(resp, "GET, PUT");
            }
            return;
        }
        if (n == 4) {
            if (method_is(req, "PUT")) {
                api_route(resp, ROUTE_SESSION_PUT);
                api_session_put(api, req, resp, s[1], s[3]);
            } else if (method_is(req, "GET")) {
                api_route(resp, ROUTE_SESSION_GET);
                api_session_get(api, req, resp, s[1], s[3]);
            } else if (method_is(req, "PATCH")) {
                api_route(resp, ROUTE_SESSION_PATCH);
                api_session_patch(api, req, resp, s[1], s[3]);
            } else {
                api_route(resp, ROUTE_OTHER);
                method_not_allowed(resp, "GET, PUT, PATCH");
            }
            return;
        }
        if (n == 5 && !conv && strcmp(s[4], ":stop") == 0) {
            api_route(resp, ROUTE_SESSION_STOP);
            if (!method_is(req, "POST")) {
                method_not_allowed(resp, "POST");
                return;
            }
            api_session_stop(api, req, resp, s[1], s[3]);
            return;
        }
    }
    if (n == 2 && strcmp(s[0], ".well-known") == 0 && strcmp(s[1], "jwks.json") == 0) {
        api_route(resp, ROUTE_JWKS);
        if (!method_is(req, "GET")) {
            method_not_allowed(resp, "GET");
            return;
        }
        fe_http_set_text(resp, 200, "application/json; charset=utf-8",
                         fe_sts_jwks_json(api->d.sts));
        return;
    }
    if (n == 3 && strcmp(s[0], ".well-known") == 0 && strcmp(s[1], "openrr") == 0 &&
        strcmp(s[2], "ca.pem") == 0) {
        api_route(resp, ROUTE_CA);
        if (!method_is(req, "GET")) {
            method_not_allowed(resp, "GET");
        } else if (api->d.ca == NULL) {
            not_found(resp);
        } else {
            fe_http_set_text(resp, 200, "application/x-pem-file", fe_ca_pem(api->d.ca));
        }
        return;
    }
    if (n == 4 && strcmp(s[0], "internal") == 0 && strcmp(s[1], "sessions") == 0 &&
        strcmp(s[3], "ready") == 0) {
        api_route(resp, ROUTE_READY);
        if (!method_is(req, "POST")) {
            method_not_allowed(resp, "POST");
            return;
        }
        api_ready(api, req, resp, s[2]);
        return;
    }
    if (n == 1 && strcmp(s[0], "healthz") == 0) {
        api_route(resp, ROUTE_HEALTH);
        if (!method_is(req, "GET")) {
            method_not_allowed(resp, "GET");
            return;
        }
        api_healthz(api, req, resp);
        return;
    }
    if (n == 1 && strcmp(s[0], "metrics") == 0) {
        api_route(resp, ROUTE_METRICS);
        if (!method_is(req, "GET")) {
            method_not_allowed(resp, "GET");
            return;
        }
        api_metrics(api, req, resp);
        return;
    }
    api_route(resp, ROUTE_OTHER);
    not_found(resp);
}

void fe_api_handle(void *user, const struct fe_http_request *req, struct fe_http_response *resp)
{
    struct fe_api *api = user;
    api_route(resp, ROUTE_OTHER);
    size_t len = strlen(req->path);
    if (req->path[0] != '/' || len >= MAX_PATH) {
        not_found(resp);
        return;
    }
    char *path = strdup(req->path);
    if (path == NULL) {
        fe_http_set_error(resp, 500, "InternalError", "out of memory", NULL);
        return;
    }
    char *segments[MAX_SEGMENTS];
    size_t n = 0;
    char *p = path + 1;
    bool too_many = false;
    /* Split at '/'; an empty segment (// or a trailing /) is kept, so that it matches nothing. */
    for (;;) {
        if (n == MAX_SEGMENTS) {
            too_many = true;
            break;
        }
        segments[n++] = p;
        char *slash = strchr(p, '/');
        if (slash == NULL) {
            break;
        }
        *slash = '\0';
        p = slash + 1;
    }
    if (too_many || (n == 1 && segments[0][0] == '\0')) {
        not_found(resp);
    } else {
        route(api, req, resp, segments, n);
    }
    free(path);
}

void fe_api_done(void *user, const struct fe_http_response *resp, uint64_t duration_us)
{
    struct fe_api *api = user;
    fe_metrics_request(api->d.metrics, resp->route, resp->status, duration_us);
}
