/* SPDX-License-Identifier: Apache-2.0 */
/*
 * openrrd's token service (src/frontend/fe_sts.c): the signing key made at the first open
 * (0600 in a 0700 sts/ directory) and reused after (same kid), jwks.json that a host loads,
 * ES256 and RS256 tokens with every claim of docs/openrrd.md and the header's kid, checked
 * independently with rr_jwt_verify against the written jwks.json; refusals (a key readable by
 * others, a key of the other algorithm, another STS's token, a changed signature, the wrong
 * account, expiry past the leeway); and the verification cache: miss then hit, a hit still
 * checks the account, an entry ends at the token's exp, and the cache stays within its size
 * (the oldest token makes room). Identity-provider tokens: fe_sts_idp_open's refusals (missing
 * issuer or audience, the STS's own issuer, a missing or bad key set, twice), verification
 * (roles, leeway, no caching, issuer, audience, account, role, a stranger's key, an unknown
 * kid, the STS's own tokens refused there and IdP tokens refused as access tokens) and
 * another account claim read from the verified payload.
 */
#include "rr_test.h"

#include "auth_jwt.h"
#include "fe_keys.h"
#include "fe_sts.h"

#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define ACCOUNT "11111111-2222-4333-8444-555555555555"
#define OTHER "99999999-2222-4333-8444-555555555555"
#define T0 1700000000LL

static char tmp[64];
static int64_t fake_now;

static int64_t clock_fn(void *user)
{
    (void)user;
    return fake_now;
}

static int setup(void **state)
{
    (void)state;
    snprintf(tmp, sizeof tmp, "/tmp/test_fe_sts.XXXXXX");
    return mkdtemp(tmp) != NULL ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    return system(cmd) == 0 ? 0 : -1;
}

/* A fresh data directory under the test's temporary one. */
static const char *data_dir(const char *name)
{
    static char path[8][128];
    static int next;
    char *p = path[next++ % 8];
    snprintf(p, 128, "%s/%s", tmp, name);
    mkdir(p, 0700);
    return p;
}

static struct fe_sts *open_sts(const char *dir, const char *alg, size_t cache)
{
    struct fe_sts_options o = {dir, alg, "openrr.test", "westeurope", 3600, cache};
    struct fe_sts *sts = NULL;
    char err[512] = "";
    bool ok = fe_sts_open(&o, &sts, err, sizeof err);
    if (!ok) {
        print_error("fe_sts_open: %s\n", err);
    }
    assert_true(ok);
    return sts;
}

/* The decoded JSON of part @p index (0 header, 1 payload) of a compact JWS. */
static json_t *token_part(const char *token, int index)
{
    const char *start = token;
    for (int i = 0; i < index; i++) {
        start = strchr(start, '.') + 1;
    }
    size_t len = strcspn(start, ".");
    uint8_t buf[4096];
    long n = fe_b64url_decode(start, len, buf, sizeof buf - 1);
    assert_true(n > 0);
    return json_loadb((const char *)buf, (size_t)n, 0, NULL);
}

static void check_token(struct fe_sts *sts, const char *dir, const char *alg, unsigned role)
{
    fake_now = T0;
    fe_sts_set_clock(sts, clock_fn, NULL);
    char *token = NULL;
    int64_t exp = 0;
    char err[256] = "";
    assert_int_equal(fe_sts_issue(sts, ACCOUNT, role, &token, &exp, err, sizeof err), RR_JWT_OK);
    assert_int_equal(exp, T0 + 3600);

    json_t *h = token_part(token, 0);
    assert_string_equal(json_string_value(json_object_get(h, "alg")), alg);
    assert_string_equal(json_string_value(json_object_get(h, "kid")), fe_sts_kid(sts));
    json_decref(h);
    json_t *p = token_part(token, 1);
    assert_string_equal(json_string_value(json_object_get(p, "iss")), "https://sts.openrr.test");
    assert_string_equal(json_string_value(json_object_get(p, "aud")),
                        "https://remoterendering.openrr.test");
    assert_string_equal(json_string_value(json_object_get(p, "aid")), ACCOUNT);
    assert_string_equal(json_string_value(json_object_get(p, "apr")), "westeurope");
    json_t *roles = json_object_get(p, "roles");
    assert_int_equal(json_array_size(roles), 1);
    assert_string_equal(json_string_value(json_array_get(roles, 0)),
                        role == RR_JWT_ROLE_CLIENT ? "Client" : "Administrator");
    assert_int_equal(json_integer_value(json_object_get(p, "iat")), T0);
    assert_int_equal(json_integer_value(json_object_get(p, "nbf")), T0);
    assert_int_equal(json_integer_value(json_object_get(p, "exp")), T0 + 3600);
    const char *jti = json_string_value(json_object_get(p, "jti"));
    assert_non_null(jti);
    assert_int_equal(strlen(jti), 32);
    assert_int_equal(strspn(jti, "0123456789abcdef"), 32);
    json_decref(p);

    /* A host verifies with the written jwks.json alone. */
    char path[256];
    snprintf(path, sizeof path, "%s/jwks.json", dir);
    assert_string_equal(fe_sts_jwks_path(sts), path);
    struct rr_jwks *jwks = NULL;
    assert_int_equal(rr_jwks_load_file(path, &jwks, err, sizeof err), RR_JWT_OK);
    struct rr_jwt_expect e;
    rr_jwt_expect_init(&e);
    e.issuer = fe_sts_issuer(sts);
    e.audience = fe_sts_audience(sts);
    e.account_id = ACCOUNT;
    e.required_role = role;
    e.now = T0 + 10;
    struct rr_jwt_claims c;
    assert_int_equal(rr_jwt_verify(jwks, token, &e, &c, err, sizeof err), RR_JWT_OK);
    assert_int_equal(c.exp - c.iat, 3600);
    rr_jwks_destroy(&jwks);

    struct fe_sts_identity id;
    assert_int_equal(fe_sts_verify(sts, token, ACCOUNT, &id, err, sizeof err), RR_JWT_OK);
    assert_string_equal(id.aid, ACCOUNT);
    assert_int_equal(id.roles, role);
    assert_int_equal(id.exp, T0 + 3600);
    rr_jwt_token_free(&token);
    fe_sts_set_clock(sts, NULL, NULL);
}

static void test_es256(void **state)
{
    (void)state;
    const char *dir = data_dir("es");
    struct fe_sts *sts = open_sts(dir, "ES256", 0);
    assert_string_equal(fe_sts_alg(sts), "ES256");
    const char *kid = fe_sts_kid(sts);
    assert_int_equal(strlen(kid), 20);
    assert_memory_equal(kid, "sts-", 4);
    assert_int_equal(strspn(kid + 4, "0123456789abcdef"), 16);

    char path[256];
    struct stat st;
    snprintf(path, sizeof path, "%s/sts/signing-key.pem", dir);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    snprintf(path, sizeof path, "%s/sts", dir);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    /* The served set is the written one, and holds exactly the signing key. */
    json_t *set = json_loads(fe_sts_jwks_json(sts), 0, NULL);
    assert_int_equal(json_array_size(json_object_get(set, "keys")), 1);
    json_t *k = json_array_get(json_object_get(set, "keys"), 0);
    assert_string_equal(json_string_value(json_object_get(k, "kid")), kid);
    assert_string_equal(json_string_value(json_object_get(k, "kty")), "EC");
    assert_null(json_object_get(k, "d")); /* no private part */
    json_decref(set);

    check_token(sts, dir, "ES256", RR_JWT_ROLE_ADMINISTRATOR);
    check_token(sts, dir, "ES256", RR_JWT_ROLE_CLIENT);

    /* The second start reuses the key: tokens survive a restart. */
    char kid_before[32];
    snprintf(kid_before, sizeof kid_before, "%s", kid);
    char *token = NULL;
    char err[256];
    assert_int_equal(fe_sts_issue(sts, ACCOUNT, RR_JWT_ROLE_CLIENT, &token, NULL, err, sizeof err),
                     RR_JWT_OK);
    fe_sts_destroy(&sts);
    assert_null(sts);
    sts = open_sts(dir, "ES256", 0);
    assert_string_equal(fe_sts_kid(sts), kid_before);
    struct fe_sts_identity id;
    assert_int_equal(fe_sts_verify(sts, token, ACCOUNT, &id, err, sizeof err), RR_JWT_OK);
    rr_jwt_token_free(&token);
    fe_sts_destroy(&sts);
}

static void test_rs256(void **state)
{
    (void)state;
    const char *dir = data_dir("rs");
    struct fe_sts *sts = open_sts(dir, "RS256", 0);
    assert_string_equal(fe_sts_alg(sts), "RS256");
    json_t *set = json_loads(fe_sts_jwks_json(sts), 0, NULL);
    json_t *k = json_array_get(json_object_get(set, "keys"), 0);
    assert_string_equal(json_string_value(json_object_get(k, "kty")), "RSA");
    assert_string_equal(json_string_value(json_object_get(k, "alg")), "RS256");
    json_decref(set);
    check_token(sts, dir, "RS256", RR_JWT_ROLE_ADMINISTRATOR);
    fe_sts_destroy(&sts);

    /* The RSA key does not serve ES256 (nor the other way round): a clear refusal. */
    struct fe_sts_options o = {dir, "ES256", "openrr.test", "local", 3600, 0};
    char err[512] = "";
    assert_false(fe_sts_open(&o, &sts, err, sizeof err));
    assert_null(sts);
    assert_non_null(strstr(err, "token_alg"));
    o.data_dir = data_dir("es");
    o.alg = "RS256";
    assert_false(fe_sts_open(&o, &sts, err, sizeof err));
    o.alg = "HS256";
    assert_false(fe_sts_open(&o, &sts, err, sizeof err));
}

static void test_refusals(void **state)
{
    (void)state;
    char err[512] = "";
    /* A key readable by others is refused. */
    const char *dir = data_dir("perm");
    struct fe_sts *sts = open_sts(dir, "ES256", 0);
    fe_sts_destroy(&sts);
    char path[256];
    snprintf(path, sizeof path, "%s/sts/signing-key.pem", dir);
    assert_int_equal(chmod(path, 0644), 0);
    struct fe_sts_options o = {dir, "ES256", "openrr.test", "local", 3600, 0};
    assert_false(fe_sts_open(&o, &sts, err, sizeof err));
    assert_non_null(strstr(err, "chmod 600"));
    assert_int_equal(chmod(path, 0600), 0);
    /* A file that is not a key. */
    FILE *f = fopen(path, "w");
    fputs("not a key\n", f);
    fclose(f);
    assert_false(fe_sts_open(&o, &sts, err, sizeof err));
    assert_non_null(strstr(err, "no PEM private key"));
    /* Bad options. */
    o.lifetime_s = 0;
    assert_false(fe_sts_open(&o, &sts, err, sizeof err));

    struct fe_sts *a = open_sts(data_dir("a"), "ES256", 0);
    struct fe_sts *b = open_sts(data_dir("b"), "ES256", 0);
    assert_string_not_equal(fe_sts_kid(a), fe_sts_kid(b));
    char *ta = NULL, *tb = NULL;
    assert_int_equal(
        fe_sts_issue(a, ACCOUNT, RR_JWT_ROLE_ADMINISTRATOR, &ta, NULL, err, sizeof err), RR_JWT_OK);
    assert_int_equal(
        fe_sts_issue(b, ACCOUNT, RR_JWT_ROLE_ADMINISTRATOR, &tb, NULL, err, sizeof err), RR_JWT_OK);
    struct fe_sts_identity id;
    /* Another STS's token: its kid is unknown here. */
    assert_int_equal(fe_sts_verify(a, tb, ACCOUNT, &id, err, sizeof err), RR_JWT_UNKNOWN_KEY);
    /* Another account. */
    assert_int_equal(fe_sts_verify(a, ta, OTHER, &id, err, sizeof err), RR_JWT_WRONG_ACCOUNT);
    assert_string_equal(id.aid, ACCOUNT);
    /* A changed signature character. */
    char *bad = strdup(ta);
    size_t n = strlen(bad);
    bad[n - 5] = bad[n - 5] == 'A' ? 'B' : 'A';
    assert_int_equal(fe_sts_verify(a, bad, ACCOUNT, &id, err, sizeof err), RR_JWT_BAD_SIGNATURE);
    free(bad);
    /* Malformed ones. */
    assert_int_equal(fe_sts_verify(a, "", ACCOUNT, &id, err, sizeof err), RR_JWT_MALFORMED);
    assert_int_equal(fe_sts_verify(a, "a.b.c", ACCOUNT, &id, err, sizeof err), RR_JWT_MALFORMED);
    assert_int_equal(fe_sts_verify(a, NULL, ACCOUNT, &id, err, sizeof err), RR_JWT_MALFORMED);
    char *huge = malloc(RR_JWT_MAX_TOKEN_SIZE + 2);
    memset(huge, 'a', RR_JWT_MAX_TOKEN_SIZE + 1);
    huge[RR_JWT_MAX_TOKEN_SIZE + 1] = '\0';
    assert_int_equal(fe_sts_verify(a, huge, ACCOUNT, &id, err, sizeof err), RR_JWT_MALFORMED);
    free(huge);
    /* Issue: bad arguments. */
    char *t = NULL;
    assert_int_equal(fe_sts_issue(a, "", RR_JWT_ROLE_CLIENT, &t, NULL, err, sizeof err),
                     RR_JWT_INVALID_ARGUMENT);
    assert_int_equal(fe_sts_issue(a, ACCOUNT, 0, &t, NULL, err, sizeof err),
                     RR_JWT_INVALID_ARGUMENT);
    assert_int_equal(fe_sts_issue(a, ACCOUNT, RR_JWT_ROLE_CLIENT | RR_JWT_ROLE_ADMINISTRATOR, &t,
                                  NULL, err, sizeof err),
                     RR_JWT_INVALID_ARGUMENT);
    assert_null(t);
    rr_jwt_token_free(&ta);
    rr_jwt_token_free(&tb);
    fe_sts_destroy(&a);
    fe_sts_destroy(&b);
}

static void test_cache(void **state)
{
    (void)state;
    struct fe_sts *sts = open_sts(data_dir("cache"), "ES256", 0);
    fake_now = T0;
    fe_sts_set_clock(sts, clock_fn, NULL);
    char err[256];
    char *t = NULL;
    assert_int_equal(fe_sts_issue(sts, ACCOUNT, RR_JWT_ROLE_CLIENT, &t, NULL, err, sizeof err),
                     RR_JWT_OK);
    struct fe_sts_identity id;
    struct fe_sts_cache_stats s;
    fe_sts_cache_stats(sts, &s);
    assert_int_equal(s.capacity, FE_STS_CACHE_DEFAULT);
    assert_int_equal(s.entries, 0);

    assert_int_equal(fe_sts_verify(sts, t, ACCOUNT, &id, err, sizeof err), RR_JWT_OK);
    assert_false(id.cached);
    assert_int_equal(fe_sts_verify(sts, t, ACCOUNT, &id, err, sizeof err), RR_JWT_OK);
    assert_true(id.cached);
    assert_int_equal(id.roles, RR_JWT_ROLE_CLIENT);
    assert_int_equal(strlen(id.jti), 32);
    /* A hit still checks the account. */
    assert_int_equal(fe_sts_verify(sts, t, OTHER, &id, err, sizeof err), RR_JWT_WRONG_ACCOUNT);
    assert_true(id.cached);
    fe_sts_cache_stats(sts, &s);
    assert_int_equal(s.misses, 1);
    assert_int_equal(s.hits, 2);
    assert_int_equal(s.entries, 1);

    /* At exp the entry is gone: the token is verified again (accepted within the leeway,
     * not cached again), and refused after the leeway. */
    fake_now = T0 + 3599;
    assert_int_equal(fe_sts_verify(sts, t, ACCOUNT, &id, err, sizeof err), RR_JWT_OK);
    assert_true(id.cached);
    fake_now = T0 + 3600;
    assert_int_equal(fe_sts_verify(sts, t, ACCOUNT, &id, err, sizeof err), RR_JWT_OK);
    assert_false(id.cached);
    fe_sts_cache_stats(sts, &s);
    assert_int_equal(s.entries, 0);
    assert_int_equal(fe_sts_verify(sts, t, ACCOUNT, &id, err, sizeof err), RR_JWT_OK);
    assert_false(id.cached);
    fake_now = T0 + 3600 + RR_JWT_DEFAULT_LEEWAY_S;
    assert_int_equal(fe_sts_verify(sts, t, ACCOUNT, &id, err, sizeof err), RR_JWT_EXPIRED);
    assert_string_equal(id.aid, ACCOUNT); /* for the log */
    rr_jwt_token_free(&t);

    /* A token not valid yet is not cached (nbf in the future beyond the leeway). */
    fake_now = T0 + 1000;
    assert_int_equal(fe_sts_issue(sts, ACCOUNT, RR_JWT_ROLE_CLIENT, &t, NULL, err, sizeof err),
                     RR_JWT_OK);
    fake_now = T0;
    assert_int_equal(fe_sts_verify(sts, t, ACCOUNT, &id, err, sizeof err), RR_JWT_NOT_YET_VALID);
    fe_sts_cache_stats(sts, &s);
    assert_int_equal(s.entries, 0);
    rr_jwt_token_free(&t);
    fe_sts_destroy(&sts);
}

static void test_cache_bounded(void **state)
{
    (void)state;
    struct fe_sts *sts = open_sts(data_dir("bounded"), "ES256", 4);
    fake_now = T0;
    fe_sts_set_clock(sts, clock_fn, NULL);
    char err[256];
    char *tokens[10];
    struct fe_sts_identity id;
    for (int i = 0; i < 10; i++) {
        assert_int_equal(fe_sts_issue(sts, ACCOUNT, RR_JWT_ROLE_ADMINISTRATOR, &tokens[i], NULL,
                                      err, sizeof err),
                         RR_JWT_OK);
        assert_int_equal(fe_sts_verify(sts, tokens[i], ACCOUNT, &id, err, sizeof err), RR_JWT_OK);
        struct fe_sts_cache_stats s;
        fe_sts_cache_stats(sts, &s);
        assert_true(s.entries <= 4);
        assert_int_equal(s.capacity, 4);
    }
    /* The newest four are remembered; the oldest made room. */
    for (int i = 6; i < 10; i++) {
        assert_int_equal(fe_sts_verify(sts, tokens[i], ACCOUNT, &id, err, sizeof err), RR_JWT_OK);
        assert_true(id.cached);
    }
    assert_int_equal(fe_sts_verify(sts, tokens[0], ACCOUNT, &id, err, sizeof err), RR_JWT_OK);
    assert_false(id.cached);
    struct fe_sts_cache_stats s;
    fe_sts_cache_stats(sts, &s);
    assert_int_equal(s.entries, 4);
    /* Token 0 came back in and pushed out token 6, the oldest left. */
    assert_int_equal(fe_sts_verify(sts, tokens[6], ACCOUNT, &id, err, sizeof err), RR_JWT_OK);
    assert_false(id.cached);
    for (int i = 0; i < 10; i++) {
        rr_jwt_token_free(&tokens[i]);
    }
    fe_sts_destroy(&sts);
}

/* ---- identity-provider tokens ------------------------------------------------------------ */

#define IDP_ISS "https://idp.example.test/tenant"
#define IDP_AUD "https://sts.openrr.test"

/* An identity provider's token for @p aid with @p roles, @p iss, @p aud, @p exp (iat T0, jti
 * "idp-jti"), signed with @p key under @p kid. */
static char *idp_token(EVP_PKEY *key, const char *kid, const char *aid, unsigned roles,
                       const char *iss, const char *aud, int64_t exp)
{
    struct rr_jwt_claims c;
    memset(&c, 0, sizeof c);
    snprintf(c.iss, sizeof c.iss, "%s", iss);
    snprintf(c.aud, sizeof c.aud, "%s", aud);
    snprintf(c.aid, sizeof c.aid, "%s", aid);
    snprintf(c.jti, sizeof c.jti, "idp-jti");
    c.roles = roles;
    c.iat = T0;
    c.exp = exp;
    char *t = NULL;
    char err[256] = "";
    assert_int_equal(rr_jwt_sign(&c, key, kid, &t, err, sizeof err), RR_JWT_OK);
    return t;
}

/* An ES256 token of any payload (rr_jwt_sign writes only the claims it knows). */
static char *idp_token_raw(EVP_PKEY *key, const char *kid, const char *payload)
{
    char header[160];
    snprintf(header, sizeof header, "{\"alg\":\"ES256\",\"kid\":\"%s\",\"typ\":\"JWT\"}", kid);
    size_t hl = strlen(header), pl = strlen(payload);
    char *t = malloc(fe_b64url_len(hl) + fe_b64url_len(pl) + fe_b64url_len(64) + 3);
    assert_non_null(t);
    size_t n = fe_b64url_encode((const uint8_t *)header, hl, t);
    t[n++] = '.';
    n += fe_b64url_encode((const uint8_t *)payload, pl, t + n);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    unsigned char der[80];
    size_t dlen = sizeof der;
    assert_int_equal(EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key), 1);
    assert_int_equal(EVP_DigestSign(md, der, &dlen, (const unsigned char *)t, n), 1);
    EVP_MD_CTX_free(md);
    const unsigned char *p = der;
    ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &p, (long)dlen);
    assert_non_null(sig);
    uint8_t rs[64];
    assert_int_equal(BN_bn2binpad(ECDSA_SIG_get0_r(sig), rs, 32), 32);
    assert_int_equal(BN_bn2binpad(ECDSA_SIG_get0_s(sig), rs + 32, 32), 32);
    ECDSA_SIG_free(sig);
    t[n++] = '.';
    fe_b64url_encode(rs, sizeof rs, t + n);
    return t;
}

/* The public key set of @p key (kid "idp-1") in the file @p path. */
static void write_idp_jwks(EVP_PKEY *key, const char *path)
{
    struct rr_jwks_key k = {key, "idp-1"};
    char *json = NULL;
    char err[256] = "";
    assert_int_equal(rr_jwks_from_keys(&k, 1, &json, err, sizeof err), RR_JWT_OK);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(json, f);
    fclose(f);
    free(json);
}

static void test_idp_open(void **state)
{
    (void)state;
    struct fe_sts *sts = open_sts(data_dir("idp-open"), "ES256", 0);
    char err[512] = "";
    struct fe_sts_identity id;
    /* Without an identity provider nothing is exchanged. */
    assert_false(fe_sts_idp_enabled(sts));
    assert_int_equal(fe_sts_verify_idp(sts, "a.b.c", ACCOUNT, &id, err, sizeof err),
                     RR_JWT_INVALID_ARGUMENT);

    EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    assert_non_null(key);
    char good[128], garbage[128], missing[128];
    snprintf(good, sizeof good, "%s/idp-jwks.json", tmp);
    snprintf(garbage, sizeof garbage, "%s/idp-garbage.json", tmp);
    snprintf(missing, sizeof missing, "%s/idp-missing.json", tmp);
    write_idp_jwks(key, good);
    FILE *f = fopen(garbage, "w");
    fputs("{\"keys\":[{\"kty\":\"EC\"}]}", f);
    fclose(f);

    struct fe_sts_idp_options o = {good, NULL, IDP_AUD, NULL};
    assert_false(fe_sts_idp_open(sts, &o, err, sizeof err));
    assert_non_null(strstr(err, "idp_issuer"));
    o.issuer = IDP_ISS;
    o.audience = "";
    assert_false(fe_sts_idp_open(sts, &o, err, sizeof err));
    o.audience = IDP_AUD;
    o.issuer = "https://sts.openrr.test"; /* the STS's own */
    assert_false(fe_sts_idp_open(sts, &o, err, sizeof err));
    assert_non_null(strstr(err, "own issuer"));
    o.issuer = IDP_ISS;
    o.account_claim = "";
    assert_false(fe_sts_idp_open(sts, &o, err, sizeof err));
    o.account_claim = NULL;
    o.jwks_path = missing;
    assert_false(fe_sts_idp_open(sts, &o, err, sizeof err));
    assert_non_null(strstr(err, missing));
    o.jwks_path = garbage;
    assert_false(fe_sts_idp_open(sts, &o, err, sizeof err));
    assert_non_null(strstr(err, garbage));
    assert_false(fe_sts_idp_enabled(sts));
    o.jwks_path = good;
    assert_true(fe_sts_idp_open(sts, &o, err, sizeof err));
    assert_true(fe_sts_idp_enabled(sts));
    /* Once. */
    assert_false(fe_sts_idp_open(sts, &o, err, sizeof err));
    EVP_PKEY_free(key);
    fe_sts_destroy(&sts);
}

static void test_idp_verify(void **state)
{
    (void)state;
    struct fe_sts *sts = open_sts(data_dir("idp"), "ES256", 0);
    fake_now = T0 + 10;
    fe_sts_set_clock(sts, clock_fn, NULL);
    EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    EVP_PKEY *stranger = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    assert_non_null(key);
    assert_non_null(stranger);
    char path[128];
    snprintf(path, sizeof path, "%s/idp-verify.json", tmp);
    write_idp_jwks(key, path);
    struct fe_sts_idp_options o = {path, IDP_ISS, IDP_AUD, NULL};
    char err[512] = "";
    assert_true(fe_sts_idp_open(sts, &o, err, sizeof err));

    struct fe_sts_identity id;
    const int64_t exp = T0 + 600;
    char *t = idp_token(key, "idp-1", ACCOUNT, RR_JWT_ROLE_CLIENT, IDP_ISS, IDP_AUD, exp);
    assert_int_equal(fe_sts_verify_idp(sts, t, ACCOUNT, &id, err, sizeof err), RR_JWT_OK);
    assert_string_equal(id.aid, ACCOUNT);
    assert_int_equal(id.roles, RR_JWT_ROLE_CLIENT);
    assert_int_equal(id.exp, exp);
    assert_string_equal(id.jti, "idp-jti");
    assert_false(id.cached);
    /* Never cached: the same token is checked again, and the access-token cache is unused. */
    assert_int_equal(fe_sts_verify_idp(sts, t, ACCOUNT, &id, err, sizeof err), RR_JWT_OK);
    assert_false(id.cached);
    struct fe_sts_cache_stats cs;
    fe_sts_cache_stats(sts, &cs);
    assert_int_equal(cs.entries, 0);
    /* Another account's path. */
    assert_int_equal(fe_sts_verify_idp(sts, t, OTHER, &id, err, sizeof err), RR_JWT_WRONG_ACCOUNT);
    assert_string_equal(id.aid, ACCOUNT); /* for the log */
    /* The leeway of access tokens: accepted until exp + 60 s. */
    fake_now = exp + RR_JWT_DEFAULT_LEEWAY_S - 1;
    assert_int_equal(fe_sts_verify_idp(sts, t, ACCOUNT, &id, err, sizeof err), RR_JWT_OK);
    fake_now = exp + RR_JWT_DEFAULT_LEEWAY_S;
    assert_int_equal(fe_sts_verify_idp(sts, t, ACCOUNT, &id, err, sizeof err), RR_JWT_EXPIRED);
    assert_string_equal(id.jti, "idp-jti");
    fake_now = T0 + 10;
    rr_jwt_token_free(&t);

    /* Both roles: both reported (the API issues Administrator). */
    t = idp_token(key, "idp-1", ACCOUNT, RR_JWT_ROLE_CLIENT | RR_JWT_ROLE_ADMINISTRATOR, IDP_ISS,
                  IDP_AUD, exp);
    assert_int_equal(fe_sts_verify_idp(sts, t, ACCOUNT, &id, err, sizeof err), RR_JWT_OK);
    assert_int_equal(id.roles, RR_JWT_ROLE_CLIENT | RR_JWT_ROLE_ADMINISTRATOR);
    rr_jwt_token_free(&t);

    struct {
        EVP_PKEY *key;
        const char *kid, *aid, *iss, *aud;
        unsigned roles;
        enum rr_jwt_result want;
    } bad[] = {
        {key, "idp-1", ACCOUNT, "https://idp.example.test/other", IDP_AUD, RR_JWT_ROLE_CLIENT,
         RR_JWT_WRONG_ISSUER},
        {key, "idp-1", ACCOUNT, IDP_ISS, "https://remoterendering.openrr.test", RR_JWT_ROLE_CLIENT,
         RR_JWT_WRONG_AUDIENCE},
        {key, "idp-1", OTHER, IDP_ISS, IDP_AUD, RR_JWT_ROLE_ADMINISTRATOR, RR_JWT_WRONG_ACCOUNT},
        {key, "idp-1", "", IDP_ISS, IDP_AUD, RR_JWT_ROLE_ADMINISTRATOR, RR_JWT_WRONG_ACCOUNT},
        {key, "idp-1", ACCOUNT, IDP_ISS, IDP_AUD, RR_JWT_ROLE_NONE, RR_JWT_WRONG_ROLE},
        {stranger, "idp-1", ACCOUNT, IDP_ISS, IDP_AUD, RR_JWT_ROLE_CLIENT, RR_JWT_BAD_SIGNATURE},
        {stranger, "idp-2", ACCOUNT, IDP_ISS, IDP_AUD, RR_JWT_ROLE_CLIENT, RR_JWT_UNKNOWN_KEY},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        t = idp_token(bad[i].key, bad[i].kid, bad[i].aid, bad[i].roles, bad[i].iss, bad[i].aud,
                      exp);
        enum rr_jwt_result r = fe_sts_verify_idp(sts, t, ACCOUNT, &id, err, sizeof err);
        if (r != bad[i].want) {
            print_error("case %zu: %s (%s)\n", i, rr_jwt_result_str(r), err);
        }
        assert_int_equal(r, bad[i].want);
        assert_int_equal(id.roles, 0);
        assert_null(strstr(err, t));
        rr_jwt_token_free(&t);
    }
    /* The STS's own access token is no identity provider's: no renewal through this path. */
    assert_int_equal(
        fe_sts_issue(sts, ACCOUNT, RR_JWT_ROLE_ADMINISTRATOR, &t, NULL, err, sizeof err),
        RR_JWT_OK);
    assert_int_equal(fe_sts_verify_idp(sts, t, ACCOUNT, &id, err, sizeof err), RR_JWT_UNKNOWN_KEY);
    /* … and an IdP token is no access token. */
    char *it = idp_token(key, "idp-1", ACCOUNT, RR_JWT_ROLE_CLIENT, IDP_ISS, IDP_AUD, exp);
    assert_int_equal(fe_sts_verify(sts, it, ACCOUNT, &id, err, sizeof err), RR_JWT_UNKNOWN_KEY);
    rr_jwt_token_free(&it);
    rr_jwt_token_free(&t);
    assert_int_equal(fe_sts_verify_idp(sts, "", ACCOUNT, &id, err, sizeof err), RR_JWT_MALFORMED);
    assert_int_equal(fe_sts_verify_idp(sts, NULL, ACCOUNT, &id, err, sizeof err), RR_JWT_MALFORMED);
    EVP_PKEY_free(key);
    EVP_PKEY_free(stranger);
    fe_sts_destroy(&sts);
}

static void test_idp_account_claim(void **state)
{
    (void)state;
    struct fe_sts *sts = open_sts(data_dir("idp-claim"), "ES256", 0);
    fake_now = T0 + 10;
    fe_sts_set_clock(sts, clock_fn, NULL);
    EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    assert_non_null(key);
    char path[128];
    snprintf(path, sizeof path, "%s/idp-claim.json", tmp);
    write_idp_jwks(key, path);
    struct fe_sts_idp_options o = {path, IDP_ISS, IDP_AUD, "openrr_account"};
    char err[512] = "";
    assert_true(fe_sts_idp_open(sts, &o, err, sizeof err));

    static const char common[] = "\"iss\":\"" IDP_ISS "\",\"aud\":\"" IDP_AUD
                                 "\",\"exp\":1700000600,\"roles\":[\"Administrator\"]";
    struct {
        const char *extra;
        enum rr_jwt_result want;
    } cases[] = {
        /* The claim names the account; aid (another one) does not matter. */
        {",\"aid\":\"" OTHER "\",\"openrr_account\":\"" ACCOUNT "\"", RR_JWT_OK},
        {",\"aid\":\"" ACCOUNT "\"", RR_JWT_WRONG_ACCOUNT},
        {",\"openrr_account\":\"" OTHER "\"", RR_JWT_WRONG_ACCOUNT},
        {",\"openrr_account\":12", RR_JWT_WRONG_ACCOUNT},
        {",\"openrr_account\":[\"" ACCOUNT "\"]", RR_JWT_WRONG_ACCOUNT},
        /* A NUL inside: refused by the claim parser before the claim is looked at. */
        {",\"openrr_account\":\"" ACCOUNT "\\u0000x\"", RR_JWT_MALFORMED},
        {",\"openrr_account\":\"" ACCOUNT "\",\"openrr_account\":\"" ACCOUNT "\"",
         RR_JWT_MALFORMED},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char payload[512];
        snprintf(payload, sizeof payload, "{%s%s}", common, cases[i].extra);
        char *t = idp_token_raw(key, "idp-1", payload);
        struct fe_sts_identity id;
        enum rr_jwt_result r = fe_sts_verify_idp(sts, t, ACCOUNT, &id, err, sizeof err);
        if (r != cases[i].want) {
            print_error("case %zu: %s (%s)\n", i, rr_jwt_result_str(r), err);
        }
        assert_int_equal(r, cases[i].want);
        if (r == RR_JWT_OK) {
            assert_string_equal(id.aid, ACCOUNT);
            assert_int_equal(id.roles, RR_JWT_ROLE_ADMINISTRATOR);
        }
        free(t);
    }
    EVP_PKEY_free(key);
    fe_sts_destroy(&sts);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_es256),         cmocka_unit_test(test_rs256),
        cmocka_unit_test(test_refusals),      cmocka_unit_test(test_cache),
        cmocka_unit_test(test_cache_bounded), cmocka_unit_test(test_idp_open),
        cmocka_unit_test(test_idp_verify),    cmocka_unit_test(test_idp_account_claim),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
