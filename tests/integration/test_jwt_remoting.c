/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The JWT authentication receiver (src/auth) on a real secure remoting connection: a listener
 * that checks STS access tokens against a key set, and clients that present a good token
 * (Connected, the realm names the account domain) or a bad one — another account, expired,
 * signed by a stranger, not a JWT — (AuthenticationFailed on both sides, the listener keeps
 * listening).
 */
#include "rr_test.h"

#include "auth_jwt.h"

#include <openssl/ec.h>
#include <openssl/evp.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ACCOUNT "0b1e5a2c-0000-4000-8000-000000000001"
#define ISSUER "https://sts.local.openrr.test"
#define DOMAIN "local.openrr.test"

static EVP_PKEY *sts_key, *stranger_key;
static struct rr_jwks *jwks;

static int setup(void **state)
{
    sts_key = EVP_EC_gen("P-256");
    stranger_key = EVP_EC_gen("P-256");
    struct rr_jwks_key k = {sts_key, "sts-1"};
    char *json = NULL;
    if (!sts_key || !stranger_key || rr_jwks_from_keys(&k, 1, &json, NULL, 0) != RR_JWT_OK ||
        rr_jwks_parse(json, strlen(json), &jwks, NULL, 0) != RR_JWT_OK) {
        return -1;
    }
    free(json);
    return 0;
}

static int teardown(void **state)
{
    rr_jwks_destroy(&jwks);
    EVP_PKEY_free(sts_key);
    EVP_PKEY_free(stranger_key);
    return 0;
}

static char *token(const char *aid, int64_t exp_in, EVP_PKEY *key)
{
    struct rr_jwt_claims c;
    memset(&c, 0, sizeof(c));
    snprintf(c.iss, sizeof(c.iss), ISSUER);
    snprintf(c.aud, sizeof(c.aud), "openrr");
    snprintf(c.aid, sizeof(c.aid), "%s", aid);
    snprintf(c.jti, sizeof(c.jti), "remoting-test");
    c.roles = RR_JWT_ROLE_CLIENT;
    c.iat = (int64_t)time(NULL) - 10;
    c.exp = (int64_t)time(NULL) + exp_in;
    char *tok = NULL;
    assert_int_equal(rr_jwt_sign(&c, key, "sts-1", &tok, NULL, 0), RR_JWT_OK);
    return tok;
}

struct setup {
    struct rr_context *server;
    struct rr_context *client;
    struct rr_test_cert_provider cert;
    struct rr_jwt_receiver receiver;
    struct rr_test_token_provider provider;
    uint16_t port;
};

static struct rr_context *make(enum rr_role role)
{
    struct rr_context_config c = rr_test_config(role);
    c.ca_file = rr_test_pki("ca.pem");
    c.no_system_trust = true;
    struct rr_context *ctx = NULL;
    assert_int_equal(rr_context_create(&c, &ctx), RR_OK);
    return ctx;
}

static void listen_jwt(struct setup *s)
{
    memset(s, 0, sizeof(*s));
    s->server = make(RR_ROLE_REMOTE); /* the session host renders */
    s->client = make(RR_ROLE_PLAYER);
    assert_true(rr_test_cert_provider_init(&s->cert, rr_test_pki("good.p12"), "openrr-test-good",
                                           "test-pass"));
    struct rr_jwt_expect e;
    rr_jwt_expect_init(&e);
    e.issuer = ISSUER;
    e.audience = "openrr";
    e.account_id = ACCOUNT;
    e.required_role = RR_JWT_ROLE_CLIENT;
    assert_int_equal(rr_jwt_receiver_init(&s->receiver, jwks, DOMAIN, &e), RR_JWT_OK);
    assert_int_equal(
        rr_context_listen_secure(s->server, "127.0.0.1", 0, 0, &s->cert.base, &s->receiver.base),
        RR_OK);
    s->port = rr_test_wait_listening(s->server, 5000);
    assert_int_not_equal(s->port, 0);
}

static void teardown_setup(struct setup *s)
{
    rr_context_destroy(&s->client);
    rr_context_destroy(&s->server);
    rr_test_cert_provider_fini(&s->cert);
}

static void test_good_token_connects(void **state)
{
    struct setup s;
    listen_jwt(&s);
    char *tok = token(ACCOUNT, 3600, sts_key);
    rr_test_token_provider_init(&s.provider, tok);
    assert_int_equal(
        rr_context_connect_secure(s.client, "localhost", s.port, &s.provider.base, NULL), RR_OK);
    assert_true(rr_test_wait_event(s.client, RR_EVENT_CONNECTED, 8000, NULL));
    assert_true(rr_test_wait_event(s.server, RR_EVENT_CONNECTED, 8000, NULL));
    assert_string_equal(s.provider.last_realm, "openrr:" DOMAIN);
    assert_int_equal(s.receiver.accepted, 1);
    assert_int_equal(s.receiver.refused, 0);
    assert_int_equal(s.receiver.last_result, RR_JWT_OK);
    teardown_setup(&s);
    rr_jwt_token_free(&tok);
}

static void expect_refused(const char *tok, enum rr_jwt_result why)
{
    struct setup s;
    listen_jwt(&s);
    rr_test_token_provider_init(&s.provider, tok);
    assert_int_equal(
        rr_context_connect_secure(s.client, "localhost", s.port, &s.provider.base, NULL), RR_OK);
    assert_int_equal(rr_test_wait_disconnected(s.client, 8000, NULL, 0),
                     RR_REASON_AUTHENTICATION_FAILED);
    assert_int_equal(rr_test_wait_attempt_failed(s.server, 8000, NULL, 0),
                     RR_REASON_AUTHENTICATION_FAILED);
    assert_int_equal(rr_context_state(s.server, NULL), RR_STATE_CONNECTING);
    assert_int_equal(s.receiver.accepted, 0);
    assert_true(s.receiver.refused >= 1);
    assert_int_equal(s.receiver.last_result, why);
    teardown_setup(&s);
}

static void test_bad_tokens_fail(void **state)
{
    char *other = token("0b1e5a2c-0000-4000-8000-000000000002", 3600, sts_key);
    expect_refused(other, RR_JWT_WRONG_ACCOUNT);
    rr_jwt_token_free(&other);
    char *expired = token(ACCOUNT, -3600, sts_key);
    expect_refused(expired, RR_JWT_EXPIRED);
    rr_jwt_token_free(&expired);
    char *forged = token(ACCOUNT, 3600, stranger_key);
    expect_refused(forged, RR_JWT_BAD_SIGNATURE);
    rr_jwt_token_free(&forged);
    expect_refused("not-a-jwt", RR_JWT_MALFORMED);
}

int main(void)
{
    if (!rr_test_have_pki()) {
        fprintf(stderr, "RR_PKI_DIR is not set up: run through ctest (pki_setup fixture)\n");
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_token_connects),
        cmocka_unit_test(test_bad_tokens_fail),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
