/* SPDX-License-Identifier: Apache-2.0 */
/*
 * openrr_auth — access tokens: verifying and issuing the STS's JSON Web Tokens.
 *
 * The control plane's STS signs access tokens (ES256 or RS256, compact JWS) and publishes the
 * public keys as a JWK Set; a session host loads that set (openrr-host --token-jwks FILE) and
 * accepts a remoting client only when its token verifies and names the session's account.
 * Token format and claims: docs/tokens.md.
 *
 * Ownership: a struct rr_jwks is created by rr_jwks_create / rr_jwks_parse / rr_jwks_load_file
 * and freed by rr_jwks_destroy. Strings returned through char ** (tokens, JSON) are malloc'ed
 * and owned by the caller: tokens are freed with rr_jwt_token_free (it wipes them), JSON with
 * free(). Input strings are only read during the call unless a comment says otherwise.
 *
 * Threads: no function keeps global state. A struct rr_jwks may be read by any number of
 * threads at once (rr_jwt_verify, rr_jwks_to_json) once it is no longer modified; modifying
 * it (rr_jwks_add_key) needs the caller's exclusion.
 *
 * Errors: functions return enum rr_jwt_result (RR_JWT_OK = 0), named by rr_jwt_result_str().
 * Functions that take @p err / @p err_size also write a one-line explanation there (always
 * NUL-terminated when err_size > 0; "" on success; may be NULL). Explanations never contain
 * a token or key material.
 */
#ifndef OPENRR_AUTH_JWT_H
#define OPENRR_AUTH_JWT_H

#include "openrr/remoting.h"

#include <openssl/types.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Largest JWKS file or document accepted, in bytes. */
#define RR_JWKS_MAX_SIZE (1024u * 1024u)
/* Most keys one JWKS may hold (usable or skipped). */
#define RR_JWKS_MAX_KEYS 64
/* Smallest and largest accepted RSA modulus, in bits. */
#define RR_JWT_RSA_MIN_BITS 2048
#define RR_JWT_RSA_MAX_BITS 8192
/* Longest token accepted or issued: RR_MAX_TOKEN_SIZE of the remoting library. */
#define RR_JWT_MAX_TOKEN_SIZE RR_MAX_TOKEN_SIZE
/* Default clock-skew leeway applied to exp, nbf and iat, in seconds. */
#define RR_JWT_DEFAULT_LEEWAY_S 60
/* Largest accepted NumericDate (9999-12-31T23:59:59Z): keeps date arithmetic overflow-free. */
#define RR_JWT_MAX_DATE 253402300799LL

enum rr_jwt_result {
    RR_JWT_OK = 0,
    /* Not a well-formed token or document: not three base64url parts, bad base64url, not a
     * JSON object, duplicate JSON keys, a claim of the wrong type or too long, no `exp`, an
     * unknown `crit` header, or over the size limit. */
    RR_JWT_MALFORMED = 1,
    RR_JWT_UNKNOWN_KEY = 2,     /* no key of the JWKS has the token's `kid` (or it has none) */
    RR_JWT_BAD_SIGNATURE = 3,   /* the signature does not verify with that key */
    RR_JWT_ALG_NOT_ALLOWED = 4, /* `alg` is not ES256/RS256 (none, HS*, …) or not the key's */
    RR_JWT_EXPIRED = 5,         /* now ≥ exp + leeway */
    RR_JWT_NOT_YET_VALID = 6,   /* now + leeway < nbf (or < iat) */
    RR_JWT_WRONG_ISSUER = 7,
    RR_JWT_WRONG_AUDIENCE = 8,
    RR_JWT_WRONG_ACCOUNT = 9, /* `aid` is not the expected account id */
    RR_JWT_WRONG_ROLE = 10,   /* `roles` lacks the required role */
    /* Errors of the other functions. */
    RR_JWT_INVALID_ARGUMENT = 11, /* a NULL or out-of-range argument */
    RR_JWT_OUT_OF_MEMORY = 12,
    RR_JWT_IO = 13,        /* a file could not be read */
    RR_JWT_TOO_LARGE = 14, /* a file, document, token or key set over its limit */
    RR_JWT_BAD_KEY = 15,   /* a key that is unusable or not allowed (curve, size, fields) */
    RR_JWT_CRYPTO = 16,    /* OpenSSL failed unexpectedly (signing, key export) */
};

/* Name of a result, e.g. "RR_JWT_EXPIRED". Never NULL; static storage. */
const char *rr_jwt_result_str(enum rr_jwt_result result);

/* Roles of the reference; a bit set in rr_jwt_claims.roles. */
enum rr_jwt_role {
    RR_JWT_ROLE_NONE = 0,
    RR_JWT_ROLE_ADMINISTRATOR = 1u << 0, /* "Administrator": everything Client may, and more */
    RR_JWT_ROLE_CLIENT = 1u << 1,        /* "Client" */
};

/* The claims of an access token (all strings NUL-terminated; "" when absent; dates in seconds
 * since the epoch, 0 when absent). Longer claims make a token MALFORMED. */
struct rr_jwt_claims {
    char iss[256];
    char aud[256];  /* verify: the audience that matched, or the first one of the token */
    char aid[128];  /* account id */
    char apr[128];  /* account region */
    unsigned roles; /* enum rr_jwt_role bits; role names not known here are ignored */
    int64_t iat;
    int64_t nbf;
    int64_t exp; /* required */
    char jti[128];
    char kid[128]; /* verify: the header's key id (not a claim, reported for logging) */
};

/* What rr_jwt_verify requires beyond a good signature. Initialise with rr_jwt_expect_init.
 * The strings are borrowed for the duration of the call. */
struct rr_jwt_expect {
    const char *issuer;     /* NULL: any `iss` */
    const char *audience;   /* NULL: any `aud`; else one of the token's audiences must match */
    const char *account_id; /* NULL: any `aid`; else `aid` must be equal (case-sensitive) */
    /* RR_JWT_ROLE_NONE: no role needed. RR_JWT_ROLE_CLIENT: Client or Administrator.
     * RR_JWT_ROLE_ADMINISTRATOR: Administrator. */
    unsigned required_role;
    int64_t leeway_s; /* clock-skew allowance, 0 … 86400 seconds */
    int64_t now;      /* seconds since the epoch; 0 = time(NULL) */
};

/* Set @p expect to: no issuer, audience, account or role required; leeway
 * RR_JWT_DEFAULT_LEEWAY_S; now = current time. */
void rr_jwt_expect_init(struct rr_jwt_expect *expect);

/* ---- key sets ----------------------------------------------------------------------------- */

struct rr_jwks;

/* An empty key set (to fill with rr_jwks_add_key). Errors: INVALID_ARGUMENT, OUT_OF_MEMORY. */
enum rr_jwt_result rr_jwks_create(struct rr_jwks **out_jwks);

/* Parse a JWK Set (RFC 7517: {"keys":[…]}) of @p len bytes (at most RR_JWKS_MAX_SIZE; NUL
 * not needed). Keys used: `kty` "EC" with `crv` "P-256", `x`, `y` (32 bytes each, a point on
 * the curve) and `kty` "RSA" with `n` (RR_JWT_RSA_MIN_BITS … RR_JWT_RSA_MAX_BITS), `e` (odd,
 * at most 8 bytes); each needs a unique `kid`; optional `use` and `alg` must then be "sig" and
 * the key type's algorithm (ES256, RS256). Keys of another `kty`, EC curve, `use` or `alg` are
 * skipped with a warning in the log, so a set shared with other software still loads; a set
 * with no usable key is an error. Strict JSON: duplicate keys are refused.
 * Errors: INVALID_ARGUMENT, MALFORMED (JSON, structure, missing or mistyped fields), BAD_KEY
 * (bad coordinates, a short or odd RSA key, duplicate kid, no usable key), TOO_LARGE (size,
 * more than RR_JWKS_MAX_KEYS keys), OUT_OF_MEMORY. */
enum rr_jwt_result rr_jwks_parse(const char *json, size_t len, struct rr_jwks **out_jwks, char *err,
                                 size_t err_size);

/* rr_jwks_parse on the contents of the file @p path (a regular file of at most
 * RR_JWKS_MAX_SIZE bytes). Errors: those of rr_jwks_parse, IO, TOO_LARGE. */
enum rr_jwt_result rr_jwks_load_file(const char *path, struct rr_jwks **out_jwks, char *err,
                                     size_t err_size);

/* Free @p *jwks_ptr (NULL ok) and set it to NULL. No verification may be running on it. */
void rr_jwks_destroy(struct rr_jwks **jwks_ptr);

/* Number of usable keys. */
size_t rr_jwks_count(const struct rr_jwks *jwks);

/* Add @p key (EC P-256 or RSA of an allowed size; private or public; a reference is taken,
 * the caller keeps its own) under @p kid (1 … 127 characters of printable ASCII, unique in
 * the set). Errors: INVALID_ARGUMENT (kid), BAD_KEY (type, curve, size, duplicate kid),
 * TOO_LARGE (RR_JWKS_MAX_KEYS reached). */
enum rr_jwt_result rr_jwks_add_key(struct rr_jwks *jwks, EVP_PKEY *key, const char *kid, char *err,
                                   size_t err_size);

/* Write the public part of every key as a JWK Set ({"keys":[{"kty","kid","use":"sig","alg",
 * …}]}), compact JSON, into *out_json (free() it). Errors: INVALID_ARGUMENT, OUT_OF_MEMORY,
 * CRYPTO. */
enum rr_jwt_result rr_jwks_to_json(const struct rr_jwks *jwks, char **out_json);

/* One key for rr_jwks_from_keys. */
struct rr_jwks_key {
    EVP_PKEY *key;
    const char *kid;
};

/* The public JWK Set of @p count keys as JSON in *out_json (free() it): rr_jwks_create,
 * rr_jwks_add_key for each, rr_jwks_to_json. Errors: those functions' errors. */
enum rr_jwt_result rr_jwks_from_keys(const struct rr_jwks_key *keys, size_t count, char **out_json,
                                     char *err, size_t err_size);

/* ---- tokens ------------------------------------------------------------------------------- */

/*
 * Verify the compact JWS @p token (NUL-terminated, at most RR_JWT_MAX_TOKEN_SIZE bytes)
 * against @p jwks and @p expect (NULL = the defaults of rr_jwt_expect_init).
 * Order of the checks: size and form; header (`alg` ES256 or RS256 and the key's type, `kid`
 * known); signature; claims (types, `exp` present); exp, nbf, iat with leeway; issuer;
 * audience; account; role. The first failure is returned.
 * @p out (may be NULL) receives the claims when the signature verified (RR_JWT_OK and the
 * claim failures from RR_JWT_EXPIRED on, so that a refusal can be logged with its account
 * and jti); it is zeroed otherwise. The token is never logged or copied into @p err.
 * Thread-safe on a shared @p jwks. Errors: the verdicts above, INVALID_ARGUMENT (jwks NULL,
 * leeway out of range), OUT_OF_MEMORY.
 */
enum rr_jwt_result rr_jwt_verify(const struct rr_jwks *jwks, const char *token,
                                 const struct rr_jwt_expect *expect, struct rr_jwt_claims *out,
                                 char *err, size_t err_size);

/*
 * Sign @p claims with @p key (a private EC P-256 key → ES256, or RSA ≥ RR_JWT_RSA_MIN_BITS →
 * RS256) under @p kid (required: verifiers select the key by it) into *out_token (free with
 * rr_jwt_token_free). Empty strings and zero dates are left out; `exp` is required and every
 * date must be within 0 … RR_JWT_MAX_DATE; `roles` is written as an array of role names.
 * Errors: INVALID_ARGUMENT (no exp, bad date, bad kid), BAD_KEY (type, curve, size, no
 * private key), TOO_LARGE (the token would exceed RR_JWT_MAX_TOKEN_SIZE), OUT_OF_MEMORY,
 * CRYPTO.
 */
enum rr_jwt_result rr_jwt_sign(const struct rr_jwt_claims *claims, EVP_PKEY *key, const char *kid,
                               char **out_token, char *err, size_t err_size);

/* Wipe and free a token from rr_jwt_sign and set *token_ptr to NULL (NULL ok). */
void rr_jwt_token_free(char **token_ptr);

/* ---- remoting authentication receiver ------------------------------------------------------ */

/*
 * An rr_authentication_receiver that accepts remoting clients presenting an access token
 * verified by rr_jwt_verify. Pass &receiver.base to rr_context_listen_secure.
 * The realm is "openrr:<account domain>" (clients pick their token by it).
 *
 * Threads: validate_token runs on the context's network thread; it verifies synchronously
 * (two hashes and one signature check, well under a millisecond) and completes the request
 * before it returns, so it never blocks the thread on anything else. The counters may be read
 * from any thread. The receiver, @p jwks and the expectation's strings (copied at init) must
 * stay valid, and unchanged, for as long as a context may call the receiver.
 */
struct rr_jwt_receiver {
    struct rr_authentication_receiver base; /* first: the library sees only this */
    const struct rr_jwks *jwks;             /* borrowed */
    struct rr_jwt_expect expect;            /* strings point into the buffers below */
    char realm[264];
    char issuer[256];
    char audience[256];
    char account_id[128];
    /* Outcomes so far (atomic: written on the network thread, read anywhere). */
    _Atomic unsigned long accepted;
    _Atomic unsigned long refused;
    _Atomic int last_result; /* enum rr_jwt_result of the latest token; -1 before any */
};

/* Initialise @p receiver for @p jwks (borrowed). @p account_domain (printable ASCII, no
 * spaces; the realm must stay within 256 characters) names the realm. @p expect (copied,
 * strings included; NULL = defaults) says what a token must carry — for a session host:
 * issuer and audience of the STS, the session's account id and RR_JWT_ROLE_CLIENT.
 * `expect->now` must be 0 except in tests. Errors: INVALID_ARGUMENT (domain, strings too
 * long, leeway out of range). */
enum rr_jwt_result rr_jwt_receiver_init(struct rr_jwt_receiver *receiver,
                                        const struct rr_jwks *jwks, const char *account_domain,
                                        const struct rr_jwt_expect *expect);

#ifdef __cplusplus
}
#endif

#endif
