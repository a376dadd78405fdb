/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cl_tokens — see cl_tokens.h. Worker thread only.
 */
#include "cl_internal.h"

#include "b64url.h"

#include <jansson.h>
#include <openssl/crypto.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

bool cl_tokens_init(struct cl_tokens *t, const struct rr_account_info *info)
{
    memset(t, 0, sizeof(*t));
    if (info->access_token != NULL && info->access_token[0] != '\0') {
        t->fixed = strdup(info->access_token);
        return t->fixed != NULL;
    }
    if (info->authentication_token != NULL && info->authentication_token[0] != '\0') {
        t->credential = strdup(info->authentication_token);
        return t->credential != NULL;
    }
    size_t n = strlen(info->account_id) + 1 + strlen(info->account_key) + 1;
    t->credential = malloc(n);
    if (t->credential == NULL) {
        return false;
    }
    snprintf(t->credential, n, "%s:%s", info->account_id, info->account_key);
    return true;
}

void cl_tokens_fini(struct cl_tokens *t)
{
    cl_free_secret(t->fixed);
    cl_free_secret(t->credential);
    cl_free_secret(t->cached);
    memset(t, 0, sizeof(*t));
}

void cl_tokens_drop(struct cl_tokens *t)
{
    cl_free_secret(t->cached);
    t->cached = NULL;
    t->cached_exp = 0;
}

bool cl_tokens_from_cache(const struct cl_tokens *t)
{
    return t->fixed != NULL || t->from_cache;
}

/* ---- exp from the payload -------------------------------------------------------------------- */

bool cl_jwt_exp(const char *jwt, int64_t *out_exp)
{
    if (jwt == NULL || strnlen(jwt, RR_MAX_TOKEN_SIZE + 1) > RR_MAX_TOKEN_SIZE) {
        return false;
    }
    const char *dot1 = strchr(jwt, '.');
    const char *dot2 = dot1 != NULL ? strchr(dot1 + 1, '.') : NULL;
    if (dot1 == NULL || dot2 == NULL || strchr(dot2 + 1, '.') != NULL) {
        return false;
    }
    size_t len = 0;
    uint8_t *payload = NULL;
    if (!rr_b64url_decode(dot1 + 1, (size_t)(dot2 - dot1 - 1), &payload, &len, NULL)) {
        return false;
    }
    json_error_t jerr;
    json_t *root = json_loadb((const char *)payload, len, JSON_REJECT_DUPLICATES, &jerr);
    free(payload);
    if (root == NULL) {
        return false;
    }
    json_t *exp = json_object_get(root, "exp");
    bool ok = false;
    if (json_is_integer(exp)) {
        *out_exp = (int64_t)json_integer_value(exp);
        ok = true;
    } else if (json_is_real(exp) && json_real_value(exp) >= 0 &&
               json_real_value(exp) < 253402300800.0) {
        *out_exp = (int64_t)json_real_value(exp);
        ok = true;
    }
    json_decref(root);
    return ok;
}

/* ---- exchange -------------------------------------------------------------------------------- */

static bool token_chars_ok(const char *s)
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

static enum rr_client_result copy_out(const char *token, char *out, size_t size, char *err,
                                      size_t err_size)
{
    size_t n = strlen(token);
    if (n + 1 > size) {
        snprintf(err, err_size, "the access token is longer than %zu bytes", size - 1);
        return RR_CLIENT_API_UNAVAILABLE;
    }
    memcpy(out, token, n + 1);
    return RR_CLIENT_SUCCESS;
}

enum rr_client_result cl_tokens_get(struct cl_tokens *t, struct cl_http *http, const char *sts_url,
                                    const char *account_id, char *out, size_t size, char *err,
                                    size_t err_size)
{
    t->from_cache = true;
    if (t->fixed != NULL) {
        return copy_out(t->fixed, out, size, err, err_size);
    }
    int64_t now = (int64_t)time(NULL);
    if (t->cached != NULL && t->cached_exp - now > CL_TOKEN_REFRESH_S) {
        return copy_out(t->cached, out, size, err, err_size);
    }
    t->from_cache = false;

    char url[CL_URL_SIZE];
    if (!cl_fmt(url, sizeof(url), "%s/Accounts/%s/token?api-version=2019-02-28-preview", sts_url,
                account_id)) {
        snprintf(err, err_size, "the STS URL is too long");
        return RR_CLIENT_INVALID_PARAM;
    }
    size_t an = strlen("Bearer ") + strlen(t->credential) + 1;
    char *auth = malloc(an);
    if (auth == NULL) {
        snprintf(err, err_size, "out of memory");
        return RR_CLIENT_OUT_OF_MEMORY;
    }
    snprintf(auth, an, "Bearer %s", t->credential);
    struct cl_http_request rq = {.method = "GET", .url = url, .authorization = auth};
    struct cl_http_response r;
    enum rr_client_result res = cl_http_do(http, &rq, &r, err, err_size);
    cl_free_secret(auth);
    if (res != RR_CLIENT_SUCCESS) {
        return res;
    }
    if (r.status != 200) {
        char code[64], message[256];
        cl_json_error(r.body, r.size, code, sizeof(code), message, sizeof(message));
        res = cl_result_of_status(r.status);
        const char *what = res == RR_CLIENT_AUTHENTICATION_FAILED
                               ? "the token service refused the account's credential"
                               : "token exchange failed";
        snprintf(err, err_size, "%s: HTTP %ld %s%s%s", what, r.status, cl_http_reason(r.status),
                 message[0] ? ": " : "", message);
        cl_http_response_free(&r);
        return res;
    }
    json_error_t jerr;
    json_t *root = json_loadb(r.body, r.size, JSON_REJECT_DUPLICATES, &jerr);
    /* The body holds the token: wipe it before it goes back to the heap. */
    OPENSSL_cleanse(r.body, r.size);
    cl_http_response_free(&r);
    const char *token = json_string_value(json_object_get(root, "AccessToken"));
    if (token == NULL || !token_chars_ok(token)) {
        snprintf(err, err_size, "the token service's answer holds no usable AccessToken");
        json_decref(root);
        return RR_CLIENT_API_UNAVAILABLE;
    }
    int64_t exp = 0;
    if (!cl_jwt_exp(token, &exp)) {
        /* Not a JWT we can read: use it once, never from the cache. */
        exp = 0;
    }
    char *copy = strdup(token);
    res = copy_out(token, out, size, err, err_size);
    /* jansson keeps its own copy of the string: wipe it before the decref frees it. */
    OPENSSL_cleanse((char *)token, strlen(token));
    json_decref(root);
    if (copy == NULL) {
        snprintf(err, err_size, "out of memory");
        return RR_CLIENT_OUT_OF_MEMORY;
    }
    cl_tokens_drop(t);
    t->cached = copy;
    t->cached_exp = exp;
    return res;
}
