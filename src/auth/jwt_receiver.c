/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The remoting authentication receiver of a session host: a client's token is an STS access
 * token, verified against the STS's key set and the session's account. Verification costs one
 * signature check, so it runs right in the callback and the request is completed before the
 * callback returns.
 * Threads: init on the application's thread before listening; the callbacks on the context's
 * network thread; the counters are atomics readable from anywhere.
 */
#include "auth_internal.h"

#include "u_log.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

static const char *receiver_realm(struct rr_authentication_receiver *self)
{
    return ((struct rr_jwt_receiver *)self)->realm;
}

static void receiver_validate(struct rr_authentication_receiver *self, const char *token,
                              struct rr_token_validation *req)
{
    struct rr_jwt_receiver *r = (struct rr_jwt_receiver *)self;
    struct rr_jwt_claims claims;
    char why[192];
    enum rr_jwt_result res = rr_jwt_verify(r->jwks, token, &r->expect, &claims, why, sizeof(why));
    atomic_store(&r->last_result, (int)res);
    if (res == RR_JWT_OK) {
        atomic_fetch_add(&r->accepted, 1);
        U_LOG_I(RR_AUTH_LOG, "token accepted: account %s, jti %s, kid %s", claims.aid, claims.jti,
                claims.kid);
    } else {
        atomic_fetch_add(&r->refused, 1);
        /* The claims are known only once the signature verified; never the token itself. */
        U_LOG_W(RR_AUTH_LOG, "token refused: %s: %s%s%s", rr_jwt_result_str(res), why,
                claims.jti[0] ? ", jti " : "", claims.jti);
    }
    rr_token_validation_complete(req, res == RR_JWT_OK);
}

static bool domain_is_valid(const char *d)
{
    size_t n = strlen(d);
    if (n == 0 || n > 256 - strlen("openrr:")) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        char c = d[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '-' || c == '_' || c == ':')) {
            return false;
        }
    }
    return true;
}

/* Copy @p s into @p buf and point *dst at it (NULL stays NULL). */
static bool copy_opt(const char *s, char *buf, size_t size, const char **dst)
{
    *dst = NULL;
    if (!s) {
        return true;
    }
    if (strlen(s) >= size) {
        return false;
    }
    memcpy(buf, s, strlen(s) + 1);
    *dst = buf;
    return true;
}

enum rr_jwt_result rr_jwt_receiver_init(struct rr_jwt_receiver *receiver,
                                        const struct rr_jwks *jwks, const char *account_domain,
                                        const struct rr_jwt_expect *expect)
{
    if (!receiver || !jwks || !account_domain || !domain_is_valid(account_domain)) {
        return RR_JWT_INVALID_ARGUMENT;
    }
    memset(receiver, 0, sizeof(*receiver));
    if (expect) {
        receiver->expect = *expect;
    } else {
        rr_jwt_expect_init(&receiver->expect);
    }
    const struct rr_jwt_expect *e = &receiver->expect;
    if (e->leeway_s < 0 || e->leeway_s > 86400 ||
        !copy_opt(e->issuer, receiver->issuer, sizeof(receiver->issuer),
                  &receiver->expect.issuer) ||
        !copy_opt(e->audience, receiver->audience, sizeof(receiver->audience),
                  &receiver->expect.audience) ||
        !copy_opt(e->account_id, receiver->account_id, sizeof(receiver->account_id),
                  &receiver->expect.account_id)) {
        memset(receiver, 0, sizeof(*receiver));
        return RR_JWT_INVALID_ARGUMENT;
    }
    snprintf(receiver->realm, sizeof(receiver->realm), "openrr:%s", account_domain);
    receiver->jwks = jwks;
    atomic_init(&receiver->accepted, 0);
    atomic_init(&receiver->refused, 0);
    atomic_init(&receiver->last_result, -1);
    receiver->base.get_realm = receiver_realm;
    receiver->base.validate_token = receiver_validate;
    return RR_JWT_OK;
}
