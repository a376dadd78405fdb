/* SPDX-License-Identifier: Apache-2.0 */
/*
 * auth_internal — what the files of openrr_auth share: base64url, the key set's layout, JWS
 * signing of raw bytes and claim parsing. Not installed; the fuzz target uses it to reach the
 * claim parser behind a valid signature.
 * Threads: as auth_jwt.h (no global state).
 */
#ifndef OPENRR_AUTH_INTERNAL_H
#define OPENRR_AUTH_INTERNAL_H

#include "auth_jwt.h"
#include "b64url.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RR_AUTH_LOG "auth"

enum rr_jwk_type {
    RR_JWK_EC_P256 = 1,
    RR_JWK_RSA = 2,
};

struct rr_jwk {
    enum rr_jwk_type type;
    EVP_PKEY *key; /* owned reference */
    char kid[128];
};

struct rr_jwks {
    size_t count;
    struct rr_jwk keys[RR_JWKS_MAX_KEYS];
};

/* Write a formatted message into err (when err && err_size) and return @p result. */
enum rr_jwt_result rr_auth_fail(enum rr_jwt_result result, char *err, size_t err_size,
                                const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* base64url: b64url.h. */

/* ---- keys ---- */

/* The JWK type of @p key, or 0 when it is not EC P-256 nor RSA of an allowed size. */
enum rr_jwk_type rr_jwk_type_of(EVP_PKEY *key, char *err, size_t err_size);
/* "ES256" or "RS256". */
const char *rr_jwk_alg(enum rr_jwk_type type);
/* The key of @p kid, or NULL. */
const struct rr_jwk *rr_jwks_find(const struct rr_jwks *jwks, const char *kid);

/* ---- JWS ---- */

/* Sign header {"alg","kid","typ":"JWT"} and @p payload (any bytes) with @p key into a compact
 * JWS in *out_token (rr_jwt_token_free). Errors as rr_jwt_sign. */
enum rr_jwt_result rr_jws_sign(EVP_PKEY *key, const char *kid, const uint8_t *payload,
                               size_t payload_len, char **out_token, char *err, size_t err_size);

/* Parse the JSON claims of a verified token into @p out (zeroed first). MALFORMED when not an
 * object, a known claim has the wrong type or length, a date is outside 0 … RR_JWT_MAX_DATE,
 * or exp is missing. */
enum rr_jwt_result rr_jwt_parse_claims(const uint8_t *json, size_t len, struct rr_jwt_claims *out,
                                       char *err, size_t err_size);

#endif
