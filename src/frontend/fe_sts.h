/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fe_sts — openrrd's token service: the signing key (<data>/sts/signing-key.pem, made at the
 * first start, 0600), the public JWK Set (<data>/jwks.json, what session hosts verify with),
 * issuing access tokens (docs/openrrd.md, docs/tokens.md) and verifying the ones REST calls
 * present, with a bounded cache so that a busy client does not pay a signature check per call;
 * optionally an identity provider's key set, whose tokens the STS exchanges for its own.
 *
 * Threads: fe_sts_open / fe_sts_destroy on the main thread; issue, verify and the getters from
 * any number of threads at once (the key is immutable; the cache has its own lock).
 * Secrets: tokens are never logged or kept; the cache holds their SHA-256 only.
 */
#ifndef OPENRR_FE_STS_H
#define OPENRR_FE_STS_H

#include "auth_jwt.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Verified tokens remembered at most (docs/openrrd.md). */
#define FE_STS_CACHE_DEFAULT 10000

struct fe_sts_options {
    const char *data_dir;  /* holds sts/ and jwks.json */
    const char *alg;       /* "ES256" or "RS256"; NULL = ES256 */
    const char *domain;    /* iss https://sts.<domain>, aud https://remoterendering.<domain> */
    const char *region;    /* the apr claim */
    int64_t lifetime_s;    /* exp - iat; 1 … 31 days */
    size_t cache_capacity; /* 0 = FE_STS_CACHE_DEFAULT */
};

struct fe_sts;

/* Load the signing key from <data_dir>/sts/signing-key.pem, creating it (and sts/, 0700) when
 * missing; write <data_dir>/jwks.json (atomically: a host never reads half a file). Refuses a
 * key file readable by others than the owner, and a key of another type than @p alg (a token
 * service switched from ES256 to RS256 would otherwise strand every issued token silently:
 * the message says to move the old key away). Returns false with the reason in @p err. */
bool fe_sts_open(const struct fe_sts_options *options, struct fe_sts **out_sts, char *err,
                 size_t err_size);
/* NULL ok; sets *sts_ptr to NULL. No issue/verify may be running. */
void fe_sts_destroy(struct fe_sts **sts_ptr);

/* Owned by the STS, valid until destroy. */
const char *fe_sts_kid(const struct fe_sts *sts);
const char *fe_sts_alg(const struct fe_sts *sts);
const char *fe_sts_issuer(const struct fe_sts *sts);    /* https://sts.<domain> */
const char *fe_sts_audience(const struct fe_sts *sts);  /* https://remoterendering.<domain> */
const char *fe_sts_jwks_json(const struct fe_sts *sts); /* what /.well-known/jwks.json serves */
const char *fe_sts_jwks_path(const struct fe_sts *sts); /* <data>/jwks.json */
const struct rr_jwks *fe_sts_jwks(const struct fe_sts *sts);

/* Issue a token for @p account_id with @p role (RR_JWT_ROLE_ADMINISTRATOR or
 * RR_JWT_ROLE_CLIENT): iss, aud, aid, apr, roles, iat = nbf = now, exp = iat + lifetime, jti
 * (128 random bits, hex). *@p out_token: free with rr_jwt_token_free. *@p out_exp (may be
 * NULL): its exp. Errors: INVALID_ARGUMENT (account id empty or over 127 characters, role),
 * CRYPTO (random generator, signing), OUT_OF_MEMORY. */
enum rr_jwt_result fe_sts_issue(struct fe_sts *sts, const char *account_id, unsigned role,
                                char **out_token, int64_t *out_exp, char *err, size_t err_size);

/* What a verified token says (for the API and its logs). */
struct fe_sts_identity {
    char aid[128];
    unsigned roles; /* enum rr_jwt_role bits */
    int64_t exp;
    char jti[128];
    bool cached; /* answered from the cache */
};

/* Verify a REST call's token: signature with this STS's key, exp/nbf/iat with 60 s leeway,
 * iss, aud; then `aid` equal to @p account_id (NULL: any). A verified token is remembered by
 * its SHA-256 until its exp (at most cache_capacity tokens: the oldest makes room), so a
 * repeated call costs one hash. Roles are reported in @p out, not checked (the API answers
 * 403, not 401, for a missing role). Returns RR_JWT_OK or the verdict of rr_jwt_verify
 * (RR_JWT_WRONG_ACCOUNT for another account); @p err says why without the token. */
enum rr_jwt_result fe_sts_verify(struct fe_sts *sts, const char *token, const char *account_id,
                                 struct fe_sts_identity *out, char *err, size_t err_size);

/* The identity provider whose tokens the STS exchanges for its own (docs/openrrd.md). */
struct fe_sts_idp_options {
    const char *jwks_path;     /* its JWK Set, a file (rr_jwks_load_file), read once */
    const char *issuer;        /* the `iss` its tokens carry (1 … 255 characters) */
    const char *audience;      /* the `aud` they must carry for this STS (1 … 255) */
    const char *account_claim; /* the string claim naming the account; NULL = "aid" */
};

/* Accept the tokens of the identity provider @p o from now on: load its key set (a missing,
 * unreadable or invalid file is an error naming it). Refuses an issuer equal to this STS's
 * own (its access tokens would renew themselves for ever) and missing or over-long settings.
 * Call once, after fe_sts_open, before other threads use the STS. Returns false with the
 * reason in @p err (the STS is then unchanged). */
bool fe_sts_idp_open(struct fe_sts *sts, const struct fe_sts_idp_options *o, char *err,
                     size_t err_size);

/* Whether an identity provider is configured (fe_sts_idp_open). */
bool fe_sts_idp_enabled(const struct fe_sts *sts);

/* Verify an identity provider's token presented to the STS for @p account_id (not NULL):
 * signature with a key of idp_jwks (ES256 or RS256; `kid` required), exp/nbf/iat with
 * RR_JWT_DEFAULT_LEEWAY_S (as access tokens), `iss` = idp_issuer, `aud` (one of them) =
 * idp_audience, the account claim (a string) = @p account_id, and `roles` holding
 * "Administrator" or "Client". Not cached: each exchange checks the signature. On RR_JWT_OK
 * @p out holds the account, the roles (RR_JWT_ROLE_* bits, other role names dropped), exp and
 * the token's jti ("" when it has none); a token refused for a claim reports what it can (as
 * fe_sts_verify). Errors: INVALID_ARGUMENT (no identity provider configured), the verdicts of
 * rr_jwt_verify, RR_JWT_WRONG_ACCOUNT (the claim is missing, not a string or another
 * account), RR_JWT_WRONG_ROLE (no OpenRR role). @p err says why without the token. Any
 * thread. */
enum rr_jwt_result fe_sts_verify_idp(struct fe_sts *sts, const char *token, const char *account_id,
                                     struct fe_sts_identity *out, char *err, size_t err_size);

struct fe_sts_cache_stats {
    unsigned long long hits, misses;
    size_t entries, capacity;
};
void fe_sts_cache_stats(struct fe_sts *sts, struct fe_sts_cache_stats *out);

/* Tests only: use @p now_fn (seconds since the epoch, never 0) instead of time(NULL) for
 * issuing, verifying and the cache. NULL restores the clock. Call before other threads use
 * the STS. */
void fe_sts_set_clock(struct fe_sts *sts, int64_t (*now_fn)(void *user), void *user);

#endif /* OPENRR_FE_STS_H */
