/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Access-token issuing: claims to JSON (jansson), compact JWS signed with OpenSSL EVP. Used by
 * the tests today and by the control plane's STS.
 * Threads: any; @p key is only read (OpenSSL allows concurrent signing with one key).
 */
#include "auth_internal.h"

#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include <stdlib.h>
#include <string.h>

void rr_jwt_token_free(char **token_ptr)
{
    if (token_ptr && *token_ptr) {
        OPENSSL_clear_free(*token_ptr, strlen(*token_ptr));
        *token_ptr = NULL;
    }
}

/* OpenSSL's DER ECDSA signature to JOSE's fixed-width r||s (RFC 7518 §3.4). */
static bool der_to_es256(const unsigned char *der, size_t der_len, uint8_t out[64])
{
    const unsigned char *p = der;
    ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)der_len);
    if (!es) {
        return false;
    }
    const BIGNUM *r = NULL, *s = NULL;
    ECDSA_SIG_get0(es, &r, &s);
    bool ok = BN_bn2binpad(r, out, 32) == 32 && BN_bn2binpad(s, out + 32, 32) == 32;
    ECDSA_SIG_free(es);
    return ok;
}

/* Append base64url(@p data) to @p out at *pos (room checked by the caller's sizing). */
static void put_b64(char *out, size_t *pos, const uint8_t *data, size_t n)
{
    *pos += rr_b64url_encode(data, n, out + *pos);
}

static enum rr_jwt_result rr_jws_sign_impl(EVP_PKEY *key, const char *kid, const uint8_t *payload,
                                           size_t payload_len, char **out_token, char *err,
                                           size_t err_size)
{
    if (out_token) {
        *out_token = NULL;
    }
    if (!key || !kid || !out_token || (!payload && payload_len)) {
        return rr_auth_fail(RR_JWT_INVALID_ARGUMENT, err, err_size, "missing argument");
    }
    size_t kid_len = strlen(kid);
    if (kid_len == 0 || kid_len >= sizeof(((struct rr_jwt_claims *)0)->kid)) {
        return rr_auth_fail(RR_JWT_INVALID_ARGUMENT, err, err_size,
                            "kid must be 1 to 127 characters");
    }
    enum rr_jwk_type type = rr_jwk_type_of(key, err, err_size);
    if (!type) {
        return RR_JWT_BAD_KEY;
    }
    json_t *h = json_pack("{s:s, s:s, s:s}", "alg", rr_jwk_alg(type), "kid", kid, "typ", "JWT");
    char *header = h ? json_dumps(h, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(h);
    if (!header) {
        return rr_auth_fail(RR_JWT_INVALID_ARGUMENT, err, err_size,
                            "kid is not valid UTF-8 or out of memory");
    }
    size_t sig_max = (size_t)EVP_PKEY_get_size(key);
    size_t total = rr_b64url_encoded_len(strlen(header)) + 1 + rr_b64url_encoded_len(payload_len) +
                   1 + rr_b64url_encoded_len(sig_max);
    if (payload_len > RR_JWT_MAX_TOKEN_SIZE || total > RR_JWT_MAX_TOKEN_SIZE) {
        free(header);
        return rr_auth_fail(RR_JWT_TOO_LARGE, err, err_size, "token would exceed %d bytes",
                            RR_JWT_MAX_TOKEN_SIZE);
    }
    char *tok = malloc(total + 1);
    unsigned char *sig = malloc(sig_max);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    enum rr_jwt_result r = RR_JWT_OK;
    if (!tok || !sig || !md) {
        r = rr_auth_fail(RR_JWT_OUT_OF_MEMORY, err, err_size, "out of memory");
        goto out;
    }
    size_t pos = 0;
    put_b64(tok, &pos, (const uint8_t *)header, strlen(header));
    tok[pos++] = '.';
    put_b64(tok, &pos, payload, payload_len);
    size_t sig_len = sig_max;
    if (EVP_DigestSignInit_ex(md, NULL, "SHA256", NULL, NULL, key, NULL) != 1 ||
        EVP_DigestSign(md, sig, &sig_len, (const unsigned char *)tok, pos) != 1) {
        r = rr_auth_fail(RR_JWT_BAD_KEY, err, err_size, "signing failed (no private key?)");
        goto out;
    }
    uint8_t raw[64];
    const uint8_t *final = sig;
    size_t final_len = sig_len;
    if (type == RR_JWK_EC_P256) {
        if (!der_to_es256(sig, sig_len, raw)) {
            r = rr_auth_fail(RR_JWT_CRYPTO, err, err_size, "unexpected ECDSA signature");
            goto out;
        }
        final = raw;
        final_len = sizeof(raw);
    }
    tok[pos++] = '.';
    put_b64(tok, &pos, final, final_len);
    *out_token = tok;
    tok = NULL;
    if (err && err_size) {
        err[0] = '\0';
    }
out:
    EVP_MD_CTX_free(md);
    free(sig);
    free(header);
    if (tok) {
        OPENSSL_clear_free(tok, total + 1);
    }
    return r;
}

enum rr_jwt_result rr_jws_sign(EVP_PKEY *key, const char *kid, const uint8_t *payload,
                               size_t payload_len, char **out_token, char *err, size_t err_size)
{
    ERR_set_mark();
    enum rr_jwt_result r =
        rr_jws_sign_impl(key, kid, payload, payload_len, out_token, err, err_size);
    ERR_pop_to_mark();
    return r;
}

static bool date_ok(int64_t d)
{
    return d >= 0 && d <= RR_JWT_MAX_DATE;
}

/* Set @p name to @p value unless it is empty. */
static bool put_string(json_t *o, const char *name, const char *value)
{
    return value[0] == '\0' || json_object_set_new(o, name, json_string(value)) == 0;
}

static bool put_date(json_t *o, const char *name, int64_t value)
{
    return value == 0 || json_object_set_new(o, name, json_integer(value)) == 0;
}

enum rr_jwt_result rr_jwt_sign(const struct rr_jwt_claims *claims, EVP_PKEY *key, const char *kid,
                               char **out_token, char *err, size_t err_size)
{
    if (out_token) {
        *out_token = NULL;
    }
    if (!claims || !key || !kid || !out_token) {
        return rr_auth_fail(RR_JWT_INVALID_ARGUMENT, err, err_size, "missing argument");
    }
    if (claims->exp == 0 || !date_ok(claims->exp) || !date_ok(claims->iat) ||
        !date_ok(claims->nbf)) {
        return rr_auth_fail(RR_JWT_INVALID_ARGUMENT, err, err_size,
                            "exp is required and dates must be within 0 .. year 9999");
    }
    /* The fixed-size claim buffers might not be terminated when filled by hand. */
    const char *strs[] = {claims->iss, claims->aud, claims->aid, claims->apr, claims->jti};
    const size_t sizes[] = {sizeof(claims->iss), sizeof(claims->aud), sizeof(claims->aid),
                            sizeof(claims->apr), sizeof(claims->jti)};
    for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
        if (strnlen(strs[i], sizes[i]) == sizes[i]) {
            return rr_auth_fail(RR_JWT_INVALID_ARGUMENT, err, err_size,
                                "a claim string is not NUL-terminated");
        }
    }
    json_t *o = json_object();
    json_t *roles = json_array();
    bool ok = o && roles && put_string(o, "iss", claims->iss) &&
              put_string(o, "aud", claims->aud) && put_string(o, "aid", claims->aid) &&
              put_string(o, "apr", claims->apr) && put_string(o, "jti", claims->jti);
    if (ok && (claims->roles & RR_JWT_ROLE_ADMINISTRATOR)) {
        ok = json_array_append_new(roles, json_string("Administrator")) == 0;
    }
    if (ok && (claims->roles & RR_JWT_ROLE_CLIENT)) {
        ok = json_array_append_new(roles, json_string("Client")) == 0;
    }
    if (ok && json_array_size(roles) > 0) {
        ok = json_object_set(o, "roles", roles) == 0;
    }
    ok = ok && put_date(o, "iat", claims->iat) && put_date(o, "nbf", claims->nbf) &&
         put_date(o, "exp", claims->exp);
    char *payload = ok ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(roles);
    json_decref(o);
    if (!payload) {
        /* json_string refuses invalid UTF-8, which is the likelier cause than memory. */
        return rr_auth_fail(RR_JWT_INVALID_ARGUMENT, err, err_size,
                            "claims are not valid UTF-8 (or out of memory)");
    }
    enum rr_jwt_result r =
        rr_jws_sign(key, kid, (const uint8_t *)payload, strlen(payload), out_token, err, err_size);
    free(payload);
    return r;
}
