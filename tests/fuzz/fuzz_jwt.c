/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_jwt — libFuzzer target for access tokens and key sets (src/auth). The first byte picks
 * what the rest is:
 *   0  a token, verified against a fixed key set (EC "k", RSA "r"): it must never verify (we
 *      hold the private keys; a forged token passing is a bug), and its claims must stay
 *      zeroed for refusals that come before the signature check;
 *   1  a JWK Set: when it loads, it holds 1 … RR_JWKS_MAX_KEYS keys with unique kids, and
 *      writing it back and reading that again gives the same kids in the same order;
 *   2  a token payload, signed here with the EC key so the claim parser and the checks behind
 *      the signature are reached: verdicts past the signature only; an accepted token meets the
 *      expectation, and its claims re-signed verify to the same claims.
 * Single-threaded: libFuzzer calls LLVMFuzzerTestOneInput from one thread.
 */
#include "auth_internal.h"

#include "fuzz_check.h"

#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NOW 1700000000LL

static EVP_PKEY *ec_key, *rsa_key;
static struct rr_jwks *jwks;

static void init(void)
{
    if (jwks) {
        return;
    }
    ec_key = EVP_EC_gen("P-256");
    rsa_key = EVP_RSA_gen(2048);
    CHECK(ec_key && rsa_key);
    CHECK(rr_jwks_create(&jwks) == RR_JWT_OK);
    CHECK(rr_jwks_add_key(jwks, ec_key, "k", NULL, 0) == RR_JWT_OK);
    CHECK(rr_jwks_add_key(jwks, rsa_key, "r", NULL, 0) == RR_JWT_OK);
}

static bool terminated(const char *s, size_t size)
{
    return memchr(s, '\0', size) != NULL;
}

static bool zeroed(const struct rr_jwt_claims *c)
{
    static const struct rr_jwt_claims zero;
    return memcmp(c, &zero, sizeof(zero)) == 0;
}

static void check_claim_strings(const struct rr_jwt_claims *c)
{
    CHECK(terminated(c->iss, sizeof(c->iss)) && terminated(c->aud, sizeof(c->aud)));
    CHECK(terminated(c->aid, sizeof(c->aid)) && terminated(c->apr, sizeof(c->apr)));
    CHECK(terminated(c->jti, sizeof(c->jti)) && terminated(c->kid, sizeof(c->kid)));
    CHECK((c->roles & ~(unsigned)(RR_JWT_ROLE_ADMINISTRATOR | RR_JWT_ROLE_CLIENT)) == 0);
}

static struct rr_jwt_expect expectation(void)
{
    struct rr_jwt_expect e;
    rr_jwt_expect_init(&e);
    e.issuer = "iss";
    e.audience = "aud";
    e.account_id = "acc";
    e.required_role = RR_JWT_ROLE_CLIENT;
    e.now = NOW;
    return e;
}

static void fuzz_token(const uint8_t *data, size_t size)
{
    char *tok = malloc(size + 1);
    CHECK(tok);
    memcpy(tok, data, size);
    tok[size] = '\0';
    struct rr_jwt_expect e = expectation();
    struct rr_jwt_claims c;
    char err[128];
    enum rr_jwt_result r = rr_jwt_verify(jwks, tok, &e, &c, err, sizeof(err));
    CHECK(r != RR_JWT_OK);
    CHECK(r <= RR_JWT_WRONG_ROLE || r == RR_JWT_OUT_OF_MEMORY);
    CHECK(terminated(err, sizeof(err)) && err[0] != '\0');
    if (r < RR_JWT_EXPIRED) {
        CHECK(zeroed(&c));
    }
    free(tok);
}

static void fuzz_jwks(const uint8_t *data, size_t size)
{
    struct rr_jwks *k = NULL;
    char err[160];
    enum rr_jwt_result r = rr_jwks_parse((const char *)data, size, &k, err, sizeof(err));
    CHECK(terminated(err, sizeof(err)));
    if (r != RR_JWT_OK) {
        CHECK(k == NULL && err[0] != '\0');
        return;
    }
    CHECK(k && k->count >= 1 && k->count <= RR_JWKS_MAX_KEYS);
    for (size_t i = 0; i < k->count; i++) {
        CHECK(k->keys[i].kid[0] != '\0');
        CHECK(rr_jwk_type_of(k->keys[i].key, NULL, 0) == k->keys[i].type);
        for (size_t j = 0; j < i; j++) {
            CHECK(strcmp(k->keys[i].kid, k->keys[j].kid) != 0);
        }
    }
    char *json = NULL;
    CHECK(rr_jwks_to_json(k, &json) == RR_JWT_OK);
    struct rr_jwks *again = NULL;
    if (rr_jwks_parse(json, strlen(json), &again, err, sizeof(err)) != RR_JWT_OK) {
        fprintf(stderr, "written JWKS refused: %s\n", err);
        CHECK(!"a written JWKS reads back");
    }
    CHECK(again->count == k->count);
    for (size_t i = 0; i < k->count; i++) {
        CHECK(strcmp(again->keys[i].kid, k->keys[i].kid) == 0);
        CHECK(again->keys[i].type == k->keys[i].type);
        CHECK(EVP_PKEY_eq(again->keys[i].key, k->keys[i].key) == 1);
    }
    free(json);
    rr_jwks_destroy(&again);
    rr_jwks_destroy(&k);
}

static void fuzz_payload(const uint8_t *data, size_t size)
{
    char *tok = NULL;
    if (rr_jws_sign(ec_key, "k", data, size, &tok, NULL, 0) != RR_JWT_OK) {
        CHECK(tok == NULL);
        return;
    }
    struct rr_jwt_expect e = expectation();
    struct rr_jwt_claims c;
    enum rr_jwt_result r = rr_jwt_verify(jwks, tok, &e, &c, NULL, 0);
    rr_jwt_token_free(&tok);
    CHECK(r == RR_JWT_OK || r == RR_JWT_MALFORMED || r == RR_JWT_OUT_OF_MEMORY ||
          (r >= RR_JWT_EXPIRED && r <= RR_JWT_WRONG_ROLE));
    if (r == RR_JWT_MALFORMED || r == RR_JWT_OUT_OF_MEMORY) {
        CHECK(zeroed(&c));
        return;
    }
    check_claim_strings(&c);
    CHECK(strcmp(c.kid, "k") == 0);
    CHECK(c.exp >= 0 && c.exp <= RR_JWT_MAX_DATE); /* "exp":0 is present, and long past */
    if (r != RR_JWT_OK) {
        return;
    }
    CHECK(NOW < c.exp + e.leeway_s);
    CHECK(c.nbf <= NOW + e.leeway_s && c.iat <= NOW + e.leeway_s);
    CHECK(strcmp(c.iss, "iss") == 0 && strcmp(c.aud, "aud") == 0 && strcmp(c.aid, "acc") == 0);
    CHECK(c.roles != 0);

    /* The claims as read, issued again, read back the same. */
    CHECK(rr_jwt_sign(&c, ec_key, "k", &tok, NULL, 0) == RR_JWT_OK);
    struct rr_jwt_claims c2;
    CHECK(rr_jwt_verify(jwks, tok, &e, &c2, NULL, 0) == RR_JWT_OK);
    CHECK(memcmp(&c, &c2, sizeof(c)) == 0);
    rr_jwt_token_free(&tok);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    init();
    if (size == 0) {
        return 0;
    }
    switch (data[0] % 3) {
    case 0:
        fuzz_token(data + 1, size - 1);
        break;
    case 1:
        fuzz_jwks(data + 1, size - 1);
        break;
    default:
        fuzz_payload(data + 1, size - 1);
        break;
    }
    return 0;
}
