/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cl_tokens — the frontend's access tokens: exchanged at the STS for the account key (or an
 * identity provider's token), cached, and exchanged again when less than five minutes of the
 * token's life remain (its `exp`, read from the JWT's payload without verification: the
 * client only needs to know when to refresh; the service verifies). A token given by the
 * caller is used as it is.
 *
 * Threads: a frontend's worker thread only. Every credential and token is wiped when freed.
 */
#ifndef OPENRR_CL_TOKENS_H
#define OPENRR_CL_TOKENS_H

#include "openrr/client.h"

#include "cl_http.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Refresh a cached token when fewer seconds than this remain. */
#define CL_TOKEN_REFRESH_S 300

struct cl_tokens {
    char *fixed;        /* the caller's access token (never refreshed), or NULL */
    char *credential;   /* the STS's Bearer value: "<account id>:<key>" or an identity token */
    char *cached;       /* the newest access token, or NULL */
    int64_t cached_exp; /* its exp */
    bool from_cache;    /* the last token handed out was not exchanged just now */
};

/* Copy the credential of @p info (exactly one must be set; the caller checked). False when out
 * of memory. */
bool cl_tokens_init(struct cl_tokens *t, const struct rr_account_info *info);
void cl_tokens_fini(struct cl_tokens *t);

/* Forget the cached token (the service refused it). */
void cl_tokens_drop(struct cl_tokens *t);

/* True when the token now in hand came from the cache or the caller (a refusal may mean it is
 * stale), false right after an exchange. */
bool cl_tokens_from_cache(const struct cl_tokens *t);

/* The token into @p out: the caller's, a cached one with more than CL_TOKEN_REFRESH_S seconds
 * left, or a new one from GET {sts_url}/Accounts/{account_id}/token. Errors as for REST calls
 * (AUTHENTICATION_FAILED for a refused key), with a message in @p err that never holds the
 * credential. */
enum rr_client_result cl_tokens_get(struct cl_tokens *t, struct cl_http *http, const char *sts_url,
                                    const char *account_id, char *out, size_t size, char *err,
                                    size_t err_size);

/* The `exp` claim of a compact JWT; false when @p jwt is not one or has no numeric exp. */
bool cl_jwt_exp(const char *jwt, int64_t *out_exp);

#endif /* OPENRR_CL_TOKENS_H */
