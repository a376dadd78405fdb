/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fe_api_sts — the token service route, the hosts' registration, health and metrics
 * (docs/openrrd.md). HTTP pool threads.
 */
#include "fe_api_internal.h"

#include "fe_keys.h"
#include "fe_log.h"
#include "fe_metrics.h"
#include "fe_ratelimit.h"
#include "fe_sessions.h"

#include <openssl/crypto.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Keys of one account looked at, at most (primary, secondary and named ones). */
#define MAX_KEYS 64

/* The end of an exchange whose credential verified: the account's rate limit (taken only now,
 * so that bad credentials cannot spend another account's budget), then a token of @p jwt_role
 * (RR_JWT_ROLE_ADMINISTRATOR or RR_JWT_ROLE_CLIENT). */
static void issue_token(struct fe_api *api, struct fe_http_response *resp, const char *account,
                        unsigned jwt_role)
{
    unsigned retry = 0;
    if (!fe_ratelimit_take(api->d.rate, account, api_mono_us(), &retry)) {
        api_too_many(resp, retry, "too many requests for this account");
        return;
    }
    char *token = NULL;
    char err[160] = "";
    enum rr_jwt_result jr =
        fe_sts_issue(api->d.sts, account, jwt_role, &token, NULL, err, sizeof err);
    if (jr != RR_JWT_OK) {
        fe_http_set_error(resp, 500, "InternalError", "the token could not be issued", NULL);
        snprintf(resp->note, sizeof resp->note, "issue: %s", err);
        return;
    }
    json_t *o = json_pack("{s:s}", "AccessToken", token);
    rr_jwt_token_free(&token);
    fe_http_set_json(resp, 200, o);
    json_decref(o);
    fe_metrics_token_issued(api->d.metrics);
}

/* Three parts of the base64url alphabet separated by two dots (the last may be empty, as an
 * unsigned token's is): the form of a JWT. */
static bool looks_like_jwt(const char *s)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    for (int part = 0; part < 3; part++) {
        size_t n = strspn(s, alphabet);
        if (n == 0 && part < 2) {
            return false;
        }
        s += n;
        if (part < 2) {
            if (*s != '.') {
                return false;
            }
            s++;
        }
    }
    return *s == '\0';
}

/* Why an identity provider's token was refused, for error_description (no quotes: it goes
 * into a header). */
static const char *idp_verdict(enum rr_jwt_result r)
{
    switch (r) {
    case RR_JWT_EXPIRED:
        return "the token expired";
    case RR_JWT_NOT_YET_VALID:
        return "the token is not valid yet";
    case RR_JWT_BAD_SIGNATURE:
        return "the token signature does not verify";
    case RR_JWT_UNKNOWN_KEY:
        return "the token is signed by a key the identity provider does not publish";
    case RR_JWT_ALG_NOT_ALLOWED:
        return "the token algorithm is not allowed";
    case RR_JWT_WRONG_ISSUER:
        return "the token is not from the configured identity provider";
    case RR_JWT_WRONG_AUDIENCE:
        return "the token is not meant for this token service";
    case RR_JWT_WRONG_ACCOUNT:
        return "the token is for another account";
    case RR_JWT_WRONG_ROLE:
        return "the token carries no OpenRR role";
    case RR_JWT_MALFORMED:
        return "the token is malformed";
    default:
        return "the token was refused";
    }
}

/* Exchange an identity provider's token (docs/openrrd.md): verified first, then the path's
 * account must exist; the access token gets the IdP token's role (Administrator wins). */
static void token_from_idp(struct fe_api *api, struct fe_http_response *resp, const char *account,
                           const char *token)
{
    if (!fe_sts_idp_enabled(api->d.sts)) {
        api_unauthorized(api, resp, false,
                         "identity-provider tokens are not configured on this server",
                         "identity-provider tokens are not configured on this server: use "
                         "<accountId>:<accountKey>");
        return;
    }
    struct fe_sts_identity id;
    char why[200] = "";
    enum rr_jwt_result jr = fe_sts_verify_idp(api->d.sts, token, account, &id, why, sizeof why);
    if (jr != RR_JWT_OK) {
        const char *verdict = idp_verdict(jr);
        api_unauthorized(api, resp, false, verdict, verdict);
        /* The log says why in detail (rr_jwt_verify's reasons never hold the token). */
        snprintf(resp->note, sizeof resp->note, "idp: %s%s%s", why,
                 id.jti[0] != '\0' ? " jti=" : "", id.jti);
        if (id.aid[0] != '\0') {
            snprintf(resp->account, sizeof resp->account, "%s", id.aid);
        }
        return;
    }
    /* Checked after the token: an unauthenticated caller learns nothing about accounts. */
    struct fe_account_record acc;
    enum fe_store_result r = api->d.store->account_get(api->d.store, account, &acc);
    if (r == FE_STORE_NOT_FOUND) {
        api_unauthorized(api, resp, false, "unknown account", "unknown account");
        return;
    }
    if (r != FE_STORE_OK) {
        api_store_error(resp, r, "account_get");
        return;
    }
    snprintf(resp->account, sizeof resp->account, "%s", account);
    snprintf(resp->note, sizeof resp->note, "idp%s%s", id.jti[0] != '\0' ? " jti=" : "", id.jti);
    issue_token(api, resp, account,
                (id.roles & RR_JWT_ROLE_ADMINISTRATOR) != 0 ? RR_JWT_ROLE_ADMINISTRATOR
                                                            : RR_JWT_ROLE_CLIENT);
}

void api_token(struct fe_api *api, const struct fe_http_request *req, struct fe_http_response *resp,
               const char *account)
{
    const char *v = fe_http_query(req, "api-version");
    if (v != NULL && strcmp(v, FE_STS_API_VERSION) != 0) {
        fe_http_set_error(resp, 400, "InvalidApiVersionParameter",
                          "the token service takes api-version " FE_STS_API_VERSION " or none",
                          "api-version");
        return;
    }
    const char *auth = fe_http_header(req, "Authorization");
    if (auth == NULL || auth[0] == '\0') {
        api_unauthorized(api, resp, true, "no credential",
                         "Authorization: Bearer <accountId>:<accountKey> is required");
        return;
    }
    if (strncasecmp(auth, "Bearer ", 7) != 0) {
        api_unauthorized(api, resp, false, "not a Bearer credential",
                         "Authorization: Bearer <accountId>:<accountKey> is required");
        return;
    }
    const char *cred = auth + 7;
    while (*cred == ' ') {
        cred++;
    }
    /* No ':' in it: an identity provider's token (a JWT never holds one). Without an identity
     * provider, only what looks like a JWT gets that answer; other text is a bad key. */
    if (strchr(cred, ':') == NULL && (fe_sts_idp_enabled(api->d.sts) || looks_like_jwt(cred))) {
        token_from_idp(api, resp, account, cred);
        return;
    }
    char cred_account[FE_ACCOUNT_ID_SIZE];
    const char *key = NULL;
    size_t key_len = 0;
    if (!fe_credential_split(cred, cred_account, sizeof cred_account, &key, &key_len) ||
        strcmp(cred_account, account) != 0) {
        api_unauthorized(api, resp, false, "malformed credential or another account",
                         "the credential must be <accountId>:<accountKey> of this account");
        return;
    }
    struct fe_key_record *keys = calloc(MAX_KEYS, sizeof *keys);
    if (keys == NULL) {
        fe_http_set_error(resp, 500, "InternalError", "out of memory", NULL);
        return;
    }
    /* key_list alone: it answers NOT_FOUND for an unknown account (keys cannot outlive their
     * account), so a separate account_get would only add a query to every issuance. */
    size_t count = 0;
    enum fe_store_result r = api->d.store->key_list(api->d.store, account, keys, MAX_KEYS, &count);
    if (r == FE_STORE_NOT_FOUND) {
        free(keys);
        api_unauthorized(api, resp, false, "unknown account or wrong key",
                         "unknown account or wrong key");
        return;
    }
    if (r != FE_STORE_OK) {
        free(keys);
        api_store_error(resp, r, "key_list");
        return;
    }
    if (count > MAX_KEYS) {
        count = MAX_KEYS;
    }
    size_t idx = 0;
    bool match = fe_key_match(key, key_len, keys[0].sha256, count, sizeof keys[0], &idx);
    unsigned role = match ? keys[idx].role : 0;
    char key_name[FE_NAME_SIZE] = "";
    if (match) {
        snprintf(key_name, sizeof key_name, "%s", keys[idx].name);
    }
    free(keys);
    if (!match) {
        api_unauthorized(api, resp, false, "unknown account or wrong key",
                         "unknown account or wrong key");
        return;
    }
    snprintf(resp->account, sizeof resp->account, "%s", account);
    snprintf(resp->note, sizeof resp->note, "key=%s", key_name);
    issue_token(api, resp, account,
                (role & FE_ROLE_ADMINISTRATOR) != 0 ? RR_JWT_ROLE_ADMINISTRATOR
                                                    : RR_JWT_ROLE_CLIENT);
}

/* A port member of the registration: 1 … 65535; absent → 0 when optional. */
static bool port_member(json_t *body, const char *name, bool required, int *out,
                        struct fe_http_response *resp)
{
    json_t *v = json_object_get(body, name);
    if (v == NULL && !required) {
        *out = 0;
        return true;
    }
    if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > 65535) {
        char msg[128];
        snprintf(msg, sizeof msg, "%s must be a port number (1 to 65535)", name);
        fe_http_set_error(resp, 400, "InvalidArgument", msg, name);
        return false;
    }
    *out = (int)json_integer_value(v);
    return true;
}

void api_ready(struct fe_api *api, const struct fe_http_request *req, struct fe_http_response *resp,
               const char *id)
{
    if (!api_check_id(resp, id, "sessionId")) {
        return;
    }
    const char *auth = fe_http_header(req, "Authorization");
    if (auth == NULL || strncasecmp(auth, "Bearer ", 7) != 0 || auth[7] == '\0') {
        fe_http_add_header(resp, "WWW-Authenticate", "Bearer realm=\"openrr-internal\"");
        fe_http_set_error(resp, 401, "Unauthorized", "the registration secret is required", NULL);
        return;
    }
    json_t *body = NULL;
    if (!api_parse_body(req, resp, &body)) {
        return;
    }
    int handshake = 0, transport = 0, inspector = 0;
    bool ok = port_member(body, "handshakePort", true, &handshake, resp) &&
              port_member(body, "transportPort", true, &transport, resp) &&
              port_member(body, "inspectorPort", false, &inspector, resp);
    json_decref(body);
    if (!ok) {
        return;
    }
    if (api->d.sessions == NULL) {
        fe_http_set_error(resp, 404, "NotFound", "no session manager runs", NULL);
        return;
    }
    enum fe_store_result r =
        fe_session_mgr_register(api->d.sessions, id, auth + 7, handshake, transport, inspector);
    switch (r) {
    case FE_STORE_OK:
        resp->status = 204;
        snprintf(resp->note, sizeof resp->note, "session=%s ready", id);
        break;
    case FE_STORE_NOT_FOUND:
        /* Unknown session and wrong secret look the same. */
        fe_http_add_header(resp, "WWW-Authenticate",
                           "Bearer realm=\"openrr-internal\", error=\"invalid_token\"");
        fe_http_set_error(resp, 401, "Unauthorized", "no such session or a wrong secret", NULL);
        break;
    case FE_STORE_CHANGED:
        fe_http_set_error(resp, 409, "Conflict", "the session is not starting any more", NULL);
        break;
    case FE_STORE_INVALID:
        fe_http_set_error(resp, 400, "InvalidArgument",
                          "the ports are not the ones the session was given", NULL);
        break;
    default:
        api_store_error(resp, r, "register");
    }
}

void api_healthz(struct fe_api *api, const struct fe_http_request *req,
                 struct fe_http_response *resp)
{
    (void)req;
    size_t waiting = 0;
    enum fe_store_result r = api->d.store->conversion_count_waiting(api->d.store, &waiting);
    json_t *o = json_pack("{s:s}", "status", r == FE_STORE_OK ? "ok" : "unavailable");
    fe_http_set_json(resp, r == FE_STORE_OK ? 200 : 503, o);
    json_decref(o);
    if (r != FE_STORE_OK) {
        snprintf(resp->note, sizeof resp->note, "database: %s", fe_store_result_str(r));
    }
}

void api_metrics(struct fe_api *api, const struct fe_http_request *req,
                 struct fe_http_response *resp)
{
    (void)req;
    struct fe_metrics_gauges g;
    memset(&g, 0, sizeof g);
    for (size_t i = 0; i < 5; i++) {
        g.conversions[i] = -1;
        g.sessions[i] = -1;
    }
    struct fe_store *st = api->d.store;
    size_t waiting = 0;
    if (st->conversion_count_waiting(st, &waiting) == FE_STORE_OK) {
        g.conversions[FE_CONV_NOT_STARTED] = (long long)waiting;
    }
    struct fe_conversion_record *convs = NULL;
    size_t nconv = 0;
    if (st->conversion_list_status(st, FE_CONV_RUNNING, &convs, &nconv) == FE_STORE_OK) {
        g.conversions[FE_CONV_RUNNING] = (long long)nconv;
        for (size_t i = 0; i < nconv; i++) {
            fe_conversion_record_clear(&convs[i]);
        }
        free(convs);
    }
    struct fe_session_record *sessions = NULL;
    size_t nsess = 0;
    if (st->session_list_active(st, &sessions, &nsess) == FE_STORE_OK) {
        g.sessions[FE_SESSION_STARTING] = 0;
        g.sessions[FE_SESSION_READY] = 0;
        for (size_t i = 0; i < nsess; i++) {
            if (sessions[i].status == FE_SESSION_STARTING ||
                sessions[i].status == FE_SESSION_READY) {
                g.sessions[sessions[i].status]++;
            }
        }
        OPENSSL_cleanse(sessions, nsess * sizeof *sessions); /* inspector tokens */
        free(sessions);
    }
    struct fe_sts_cache_stats cs;
    fe_sts_cache_stats(api->d.sts, &cs);
    g.token_cache_hits = cs.hits;
    g.token_cache_misses = cs.misses;
    g.token_cache_entries = cs.entries;
    char *text = fe_metrics_render(api->d.metrics, &g);
    if (text == NULL) {
        fe_http_set_error(resp, 500, "InternalError", "out of memory", NULL);
        return;
    }
    free(resp->body);
    resp->status = 200;
    resp->body = text;
    resp->body_len = strlen(text);
    resp->content_type = "text/plain; version=0.0.4; charset=utf-8";
}
