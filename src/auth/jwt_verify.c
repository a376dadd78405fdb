/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Access-token verification: the compact JWS form, the header, the signature (OpenSSL EVP),
 * then the claims. The signature is checked before the payload is even decoded, so nothing an
 * unauthenticated client wrote reaches the claim parser; the header is all that is parsed
 * before, and it is small and bounded by the token size.
 * Threads: any; the key set is only read.
 */
#include "auth_internal.h"

#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Longest `alg` we bother to name in a message. */
#define ALG_SHOWN 16

void rr_jwt_expect_init(struct rr_jwt_expect *expect)
{
    memset(expect, 0, sizeof(*expect));
    expect->leeway_s = RR_JWT_DEFAULT_LEEWAY_S;
}

/* ---- claims ----------------------------------------------------------------------------- */

static enum rr_jwt_result claim_string(json_t *obj, const char *name, char *out, size_t size,
                                       char *err, size_t err_size)
{
    json_t *v = json_object_get(obj, name);
    if (!v) {
        return RR_JWT_OK;
    }
    if (!json_is_string(v) || json_string_length(v) >= size) {
        return rr_auth_fail(RR_JWT_MALFORMED, err, err_size,
                            "claim '%s' is not a string of at most %zu bytes", name, size - 1);
    }
    memcpy(out, json_string_value(v), json_string_length(v) + 1);
    return RR_JWT_OK;
}

/* A NumericDate: integer or real seconds (RFC 7519 §2), kept whole. */
static enum rr_jwt_result claim_date(json_t *obj, const char *name, int64_t *out, char *err,
                                     size_t err_size)
{
    json_t *v = json_object_get(obj, name);
    if (!v) {
        return RR_JWT_OK;
    }
    double d = json_is_integer(v) ? (double)json_integer_value(v)
               : json_is_real(v)  ? json_real_value(v)
                                  : -1.0;
    if (!(d >= 0.0 && d <= (double)RR_JWT_MAX_DATE)) {
        return rr_auth_fail(RR_JWT_MALFORMED, err, err_size,
                            "claim '%s' is not a date between 0 and year 9999", name);
    }
    *out = json_is_integer(v) ? (int64_t)json_integer_value(v) : (int64_t)floor(d);
    return RR_JWT_OK;
}

enum rr_jwt_result rr_jwt_parse_claims(const uint8_t *json, size_t len, struct rr_jwt_claims *out,
                                       char *err, size_t err_size)
{
    memset(out, 0, sizeof(*out));
    json_error_t jerr;
    json_t *root = json_loadb((const char *)json, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!json_is_object(root)) {
        json_decref(root);
        return rr_auth_fail(RR_JWT_MALFORMED, err, err_size, "payload is not a JSON object");
    }
    enum rr_jwt_result r = RR_JWT_OK;
    struct {
        const char *name;
        char *buf;
        size_t size;
    } strings[] = {
        {"iss", out->iss, sizeof(out->iss)},
        {"aid", out->aid, sizeof(out->aid)},
        {"apr", out->apr, sizeof(out->apr)},
        {"jti", out->jti, sizeof(out->jti)},
    };
    for (size_t i = 0; r == RR_JWT_OK && i < sizeof(strings) / sizeof(strings[0]); i++) {
        r = claim_string(root, strings[i].name, strings[i].buf, strings[i].size, err, err_size);
    }
    /* `aud` is a string or an array of strings (RFC 7519 §4.1.3); the first one is reported
     * here and rr_jwt_verify looks for the expected one among all. */
    json_t *aud = json_object_get(root, "aud");
    if (r == RR_JWT_OK && aud) {
        bool ok = json_is_string(aud) || json_is_array(aud);
        for (size_t i = 0; ok && json_is_array(aud) && i < json_array_size(aud); i++) {
            json_t *a = json_array_get(aud, i);
            ok = json_is_string(a) && json_string_length(a) < sizeof(out->aud);
        }
        json_t *first = json_is_array(aud) ? json_array_get(aud, 0) : aud;
        if (!ok || (first && json_string_length(first) >= sizeof(out->aud))) {
            r = rr_auth_fail(RR_JWT_MALFORMED, err, err_size,
                             "claim 'aud' is not a string or an array of short strings");
        } else if (first) {
            memcpy(out->aud, json_string_value(first), json_string_length(first) + 1);
        }
    }
    json_t *roles = json_object_get(root, "roles");
    if (r == RR_JWT_OK && roles) {
        bool ok = json_is_array(roles);
        for (size_t i = 0; ok && i < json_array_size(roles); i++) {
            json_t *v = json_array_get(roles, i);
            ok = json_is_string(v);
            if (ok && strcmp(json_string_value(v), "Administrator") == 0) {
                out->roles |= RR_JWT_ROLE_ADMINISTRATOR;
            } else if (ok && strcmp(json_string_value(v), "Client") == 0) {
                out->roles |= RR_JWT_ROLE_CLIENT;
            }
        }
        if (!ok) {
            r = rr_auth_fail(RR_JWT_MALFORMED, err, err_size,
                             "claim 'roles' is not an array of strings");
        }
    }
    if (r == RR_JWT_OK) {
        r = claim_date(root, "iat", &out->iat, err, err_size);
    }
    if (r == RR_JWT_OK) {
        r = claim_date(root, "nbf", &out->nbf, err, err_size);
    }
    if (r == RR_JWT_OK) {
        r = claim_date(root, "exp", &out->exp, err, err_size);
    }
    /* A token without an expiry would be good forever: not one we accept. */
    if (r == RR_JWT_OK && !json_object_get(root, "exp")) {
        r = rr_auth_fail(RR_JWT_MALFORMED, err, err_size, "claim 'exp' is missing");
    }
    json_decref(root);
    if (r != RR_JWT_OK) {
        memset(out, 0, sizeof(*out));
    }
    return r;
}

/* ---- signature -------------------------------------------------------------------------- */

/* JOSE's ES256 signature is r||s, 32 bytes each (RFC 7518 §3.4); OpenSSL wants DER. */
static unsigned char *es256_to_der(const uint8_t *sig, size_t len, int *out_len)
{
    if (len != 64) {
        return NULL;
    }
    ECDSA_SIG *es = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(sig, 32, NULL);
    BIGNUM *s = BN_bin2bn(sig + 32, 32, NULL);
    unsigned char *der = NULL;
    if (es && r && s && ECDSA_SIG_set0(es, r, s)) {
        r = s = NULL; /* owned by es now */
        *out_len = i2d_ECDSA_SIG(es, &der);
        if (*out_len <= 0) {
            der = NULL;
        }
    }
    BN_free(r);
    BN_free(s);
    ECDSA_SIG_free(es);
    return der;
}

static bool signature_ok(const struct rr_jwk *k, const char *signed_part, size_t signed_len,
                         const uint8_t *sig, size_t sig_len)
{
    unsigned char *der = NULL;
    int der_len = 0;
    if (k->type == RR_JWK_EC_P256) {
        der = es256_to_der(sig, sig_len, &der_len);
        if (!der) {
            return false;
        }
    } else if (sig_len != (size_t)EVP_PKEY_get_size(k->key)) {
        return false;
    }
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    bool ok = md && EVP_DigestVerifyInit_ex(md, NULL, "SHA256", NULL, NULL, k->key, NULL) == 1 &&
              EVP_DigestVerify(md, der ? der : sig, der ? (size_t)der_len : sig_len,
                               (const unsigned char *)signed_part, signed_len) == 1;
    EVP_MD_CTX_free(md);
    OPENSSL_free(der);
    return ok;
}

/* ---- header ------------------------------------------------------------------------------ */

/* Parse the header; on success *out_key is the key to verify with. */
static enum rr_jwt_result check_header(const struct rr_jwks *jwks, const char *b64, size_t len,
                                       const struct rr_jwk **out_key, char *kid_out,
                                       size_t kid_size, char *err, size_t err_size)
{
    uint8_t *text = NULL;
    size_t text_len = 0;
    bool oom = false;
    if (!rr_b64url_decode(b64, len, &text, &text_len, &oom)) {
        return oom ? rr_auth_fail(RR_JWT_OUT_OF_MEMORY, err, err_size, "out of memory")
                   : rr_auth_fail(RR_JWT_MALFORMED, err, err_size, "header is not base64url");
    }
    json_error_t jerr;
    json_t *h = json_loadb((const char *)text, text_len, JSON_REJECT_DUPLICATES, &jerr);
    free(text);
    enum rr_jwt_result r = RR_JWT_OK;
    json_t *alg = json_object_get(h, "alg");
    json_t *kid = json_object_get(h, "kid");
    json_t *typ = json_object_get(h, "typ");
    if (!json_is_object(h)) {
        r = rr_auth_fail(RR_JWT_MALFORMED, err, err_size, "header is not a JSON object");
    } else if (!json_is_string(alg)) {
        r = rr_auth_fail(RR_JWT_MALFORMED, err, err_size, "header has no 'alg' string");
    } else if ((kid && !json_is_string(kid)) || (typ && !json_is_string(typ))) {
        r = rr_auth_fail(RR_JWT_MALFORMED, err, err_size, "header 'kid' or 'typ' not a string");
    } else if (json_object_get(h, "crit")) {
        /* RFC 7515 §4.1.11: extensions a recipient does not understand make the token invalid,
         * and we understand none. */
        r = rr_auth_fail(RR_JWT_MALFORMED, err, err_size, "header has 'crit' extensions");
    } else if (strcmp(json_string_value(alg), "ES256") != 0 &&
               strcmp(json_string_value(alg), "RS256") != 0) {
        /* "none" and the HMAC family above all: a public key must never act as a secret. */
        r = rr_auth_fail(RR_JWT_ALG_NOT_ALLOWED, err, err_size,
                         "alg '%.*s' not allowed (ES256, RS256)", ALG_SHOWN,
                         json_string_value(alg));
    } else if (!kid || json_string_length(kid) >= kid_size ||
               json_string_length(kid) != strlen(json_string_value(kid))) {
        r = rr_auth_fail(RR_JWT_UNKNOWN_KEY, err, err_size, "header has no usable 'kid'");
    } else {
        const struct rr_jwk *k = rr_jwks_find(jwks, json_string_value(kid));
        if (!k) {
            r = rr_auth_fail(RR_JWT_UNKNOWN_KEY, err, err_size, "no key with the token's kid");
        } else if (strcmp(json_string_value(alg), rr_jwk_alg(k->type)) != 0) {
            r = rr_auth_fail(RR_JWT_ALG_NOT_ALLOWED, err, err_size,
                             "alg %s does not match the key (%s)", json_string_value(alg),
                             rr_jwk_alg(k->type));
        } else {
            *out_key = k;
            memcpy(kid_out, json_string_value(kid), json_string_length(kid) + 1);
        }
    }
    json_decref(h);
    return r;
}

/* ---- claims against the expectation ------------------------------------------------------ */

/* The audience check needs every audience of the token, which rr_jwt_parse_claims keeps only
 * the first of: look again in the (verified) payload. */
static bool has_audience(const uint8_t *payload, size_t len, const char *want, char *matched,
                         size_t matched_size)
{
    json_error_t jerr;
    json_t *root = json_loadb((const char *)payload, len, JSON_REJECT_DUPLICATES, &jerr);
    json_t *aud = json_object_get(root, "aud");
    bool found = false;
    if (json_is_string(aud)) {
        found = strcmp(json_string_value(aud), want) == 0;
    }
    for (size_t i = 0; !found && json_is_array(aud) && i < json_array_size(aud); i++) {
        json_t *a = json_array_get(aud, i);
        found = json_is_string(a) && strcmp(json_string_value(a), want) == 0;
    }
    if (found) {
        /* Cleared first: the claims stay comparable byte for byte. */
        memset(matched, 0, matched_size);
        snprintf(matched, matched_size, "%s", want);
    }
    json_decref(root);
    return found;
}

static enum rr_jwt_result check_claims(const struct rr_jwt_claims *c, const uint8_t *payload,
                                       size_t payload_len, const struct rr_jwt_expect *e,
                                       int64_t now, struct rr_jwt_claims *out, char *err,
                                       size_t err_size)
{
    if (now >= c->exp + e->leeway_s) {
        return rr_auth_fail(RR_JWT_EXPIRED, err, err_size, "token expired %lld s ago",
                            (long long)(now - c->exp));
    }
    if (c->nbf && now + e->leeway_s < c->nbf) {
        return rr_auth_fail(RR_JWT_NOT_YET_VALID, err, err_size, "token valid only in %lld s",
                            (long long)(c->nbf - now));
    }
    if (c->iat && now + e->leeway_s < c->iat) {
        return rr_auth_fail(RR_JWT_NOT_YET_VALID, err, err_size,
                            "token issued %lld s in the future", (long long)(c->iat - now));
    }
    if (e->issuer && strcmp(c->iss, e->issuer) != 0) {
        return rr_auth_fail(RR_JWT_WRONG_ISSUER, err, err_size, "issuer is not '%s'", e->issuer);
    }
    if (e->audience &&
        !has_audience(payload, payload_len, e->audience, out->aud, sizeof(out->aud))) {
        return rr_auth_fail(RR_JWT_WRONG_AUDIENCE, err, err_size, "audience is not '%s'",
                            e->audience);
    }
    if (e->account_id && strcmp(c->aid, e->account_id) != 0) {
        return rr_auth_fail(RR_JWT_WRONG_ACCOUNT, err, err_size,
                            "token is for another account than '%s'", e->account_id);
    }
    /* Administrator may do all that Client may (the reference's roles). */
    unsigned have = c->roles;
    if (have & RR_JWT_ROLE_ADMINISTRATOR) {
        have |= RR_JWT_ROLE_CLIENT;
    }
    if ((have & e->required_role) != e->required_role) {
        return rr_auth_fail(RR_JWT_WRONG_ROLE, err, err_size, "token lacks the required role");
    }
    return RR_JWT_OK;
}

/* ---- the whole ---------------------------------------------------------------------------- */

static enum rr_jwt_result rr_jwt_verify_impl(const struct rr_jwks *jwks, const char *token,
                                             const struct rr_jwt_expect *expect,
                                             struct rr_jwt_claims *out, char *err, size_t err_size)
{
    struct rr_jwt_claims scratch;
    struct rr_jwt_claims *claims = out ? out : &scratch;
    memset(claims, 0, sizeof(*claims));
    if (err && err_size) {
        err[0] = '\0';
    }
    struct rr_jwt_expect defaults;
    if (!expect) {
        rr_jwt_expect_init(&defaults);
        expect = &defaults;
    }
    if (!jwks || !token) {
        return rr_auth_fail(RR_JWT_INVALID_ARGUMENT, err, err_size, "missing argument");
    }
    if (expect->leeway_s < 0 || expect->leeway_s > 86400 || expect->now < 0 ||
        expect->now > RR_JWT_MAX_DATE ||
        (expect->required_role & ~(unsigned)(RR_JWT_ROLE_ADMINISTRATOR | RR_JWT_ROLE_CLIENT))) {
        return rr_auth_fail(RR_JWT_INVALID_ARGUMENT, err, err_size,
                            "expectation out of range (leeway, now or role)");
    }
    size_t len = strnlen(token, RR_JWT_MAX_TOKEN_SIZE + 1);
    if (len > RR_JWT_MAX_TOKEN_SIZE) {
        return rr_auth_fail(RR_JWT_MALFORMED, err, err_size, "token over %d bytes",
                            RR_JWT_MAX_TOKEN_SIZE);
    }
    const char *dot1 = memchr(token, '.', len);
    const char *dot2 = dot1 ? memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - token)) : NULL;
    if (!dot2 || memchr(dot2 + 1, '.', len - (size_t)(dot2 + 1 - token))) {
        return rr_auth_fail(RR_JWT_MALFORMED, err, err_size,
                            "token is not three dot-separated parts");
    }
    size_t head_len = (size_t)(dot1 - token);
    size_t pay_len = (size_t)(dot2 - dot1 - 1);
    size_t sig_b64_len = len - (size_t)(dot2 + 1 - token);
    if (head_len == 0 || pay_len == 0) {
        return rr_auth_fail(RR_JWT_MALFORMED, err, err_size, "token has an empty part");
    }

    const struct rr_jwk *key = NULL;
    char kid[sizeof(claims->kid)];
    enum rr_jwt_result r =
        check_header(jwks, token, head_len, &key, kid, sizeof(kid), err, err_size);
    if (r != RR_JWT_OK) {
        return r;
    }

    uint8_t *sig = NULL;
    size_t sig_len = 0;
    bool oom = false;
    if (!rr_b64url_decode(dot2 + 1, sig_b64_len, &sig, &sig_len, &oom)) {
        return oom ? rr_auth_fail(RR_JWT_OUT_OF_MEMORY, err, err_size, "out of memory")
                   : rr_auth_fail(RR_JWT_MALFORMED, err, err_size, "signature is not base64url");
    }
    bool good = signature_ok(key, token, (size_t)(dot2 - token), sig, sig_len);
    free(sig);
    if (!good) {
        return rr_auth_fail(RR_JWT_BAD_SIGNATURE, err, err_size, "signature does not verify");
    }

    uint8_t *payload = NULL;
    size_t payload_len = 0;
    if (!rr_b64url_decode(dot1 + 1, pay_len, &payload, &payload_len, &oom)) {
        return oom ? rr_auth_fail(RR_JWT_OUT_OF_MEMORY, err, err_size, "out of memory")
                   : rr_auth_fail(RR_JWT_MALFORMED, err, err_size, "payload is not base64url");
    }
    r = rr_jwt_parse_claims(payload, payload_len, claims, err, err_size);
    if (r == RR_JWT_OK) {
        snprintf(claims->kid, sizeof(claims->kid), "%s", kid);
        int64_t now = expect->now ? expect->now : (int64_t)time(NULL);
        r = check_claims(claims, payload, payload_len, expect, now, claims, err, err_size);
    }
    OPENSSL_clear_free(payload, payload_len + 1);
    return r;
}

/* OpenSSL errors of a refusal are dropped here: left in the thread's queue they would
 * be taken for the next TLS call's errors (the receiver runs on the network thread). */
enum rr_jwt_result rr_jwt_verify(const struct rr_jwks *jwks, const char *token,
                                 const struct rr_jwt_expect *expect, struct rr_jwt_claims *out,
                                 char *err, size_t err_size)
{
    ERR_set_mark();
    enum rr_jwt_result r = rr_jwt_verify_impl(jwks, token, expect, out, err, err_size);
    ERR_pop_to_mark();
    return r;
}
