/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Access tokens (src/auth): ES256 and RS256 round trips with keys made here; every refusal of
 * rr_jwt_verify (times with and without leeway, issuer, audience, account, role, unknown kid,
 * key of the other type, one changed character anywhere, alg none/HS256/mismatch, broken
 * form, oversized, non-JSON, duplicate keys); JWKS errors; interoperability with the openssl
 * command line in both directions (it signs, we verify; we sign, it verifies); and the
 * receiver's set-up. Token bytes are assembled here with a base64url of the test's own so a
 * bug in the library's cannot hide itself.
 */
#include "rr_test.h"

#include "auth_internal.h"
#include "auth_jwt.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define NOW 1700000000LL

static EVP_PKEY *ec_key, *ec_other, *rsa_key, *p384_key, *rsa_1024;
static struct rr_jwks *jwks; /* "ec1" → ec_key, "rsa1" → rsa_key, read back from JSON */
static char tmpdir[64];

/* ---- helpers ------------------------------------------------------------------------------ */

/* base64url of the test's own (plain table, no OpenSSL). */
static char *b64u(const void *data, size_t n)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const uint8_t *p = data;
    char *out = malloc(n / 3 * 4 + 5);
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0) |
                     (i + 2 < n ? p[i + 2] : 0);
        out[o++] = tab[v >> 18 & 63];
        out[o++] = tab[v >> 12 & 63];
        if (i + 1 < n) {
            out[o++] = tab[v >> 6 & 63];
        }
        if (i + 2 < n) {
            out[o++] = tab[v & 63];
        }
    }
    out[o] = '\0';
    return out;
}

/* "b64u(header).b64u(payload).sig" (sig already encoded; may be ""). */
static char *assemble(const char *header, const char *payload, const char *sig)
{
    char *h = b64u(header, strlen(header));
    char *p = b64u(payload, strlen(payload));
    size_t n = strlen(h) + strlen(p) + strlen(sig) + 3;
    char *t = malloc(n);
    snprintf(t, n, "%s.%s.%s", h, p, sig);
    free(h);
    free(p);
    return t;
}

static struct rr_jwt_claims good_claims(void)
{
    struct rr_jwt_claims c;
    memset(&c, 0, sizeof(c));
    snprintf(c.iss, sizeof(c.iss), "https://sts.local.openrr.test");
    snprintf(c.aud, sizeof(c.aud), "openrr");
    snprintf(c.aid, sizeof(c.aid), "0b1e5a2c-0000-4000-8000-000000000001");
    snprintf(c.apr, sizeof(c.apr), "local");
    snprintf(c.jti, sizeof(c.jti), "jti-1");
    c.roles = RR_JWT_ROLE_CLIENT;
    c.iat = NOW;
    c.nbf = NOW;
    c.exp = NOW + 86400;
    return c;
}

static struct rr_jwt_expect good_expect(void)
{
    struct rr_jwt_expect e;
    rr_jwt_expect_init(&e);
    e.issuer = "https://sts.local.openrr.test";
    e.audience = "openrr";
    e.account_id = "0b1e5a2c-0000-4000-8000-000000000001";
    e.required_role = RR_JWT_ROLE_CLIENT;
    e.now = NOW;
    return e;
}

static char *sign(const struct rr_jwt_claims *c, EVP_PKEY *key, const char *kid)
{
    char *tok = NULL;
    char err[160];
    assert_int_equal(rr_jwt_sign(c, key, kid, &tok, err, sizeof(err)), RR_JWT_OK);
    assert_non_null(tok);
    return tok;
}

static enum rr_jwt_result verify(const char *token, const struct rr_jwt_expect *e)
{
    char err[192];
    struct rr_jwt_claims out;
    enum rr_jwt_result r = rr_jwt_verify(jwks, token, e, &out, err, sizeof(err));
    /* OpenSSL's errors stay inside: the receiver shares its thread with TLS. */
    assert_int_equal(ERR_peek_error(), 0);
    /* A refusal always explains itself and never repeats the token (short ones are words). */
    if (r != RR_JWT_OK) {
        assert_true(err[0] != '\0');
        assert_true(strlen(token) < 8 || strstr(err, token) == NULL);
    }
    return r;
}

/* Verify @p c signed by @p key/@p kid against @p e. */
static enum rr_jwt_result check(const struct rr_jwt_claims *c, EVP_PKEY *key, const char *kid,
                                const struct rr_jwt_expect *e)
{
    char *tok = sign(c, key, kid);
    enum rr_jwt_result r = verify(tok, e);
    rr_jwt_token_free(&tok);
    assert_null(tok);
    return r;
}

/* Sign raw payload bytes (for payloads rr_jwt_sign would never write). */
static char *sign_raw(const char *payload, EVP_PKEY *key, const char *kid)
{
    char *tok = NULL;
    assert_int_equal(
        rr_jws_sign(key, kid, (const uint8_t *)payload, strlen(payload), &tok, NULL, 0), RR_JWT_OK);
    return tok;
}

static enum rr_jwt_result parse_jwks(const char *json, struct rr_jwks **out, char *err,
                                     size_t err_size)
{
    return rr_jwks_parse(json, strlen(json), out, err, err_size);
}

static char *bn_b64u(EVP_PKEY *key, const char *param, int width)
{
    BIGNUM *bn = NULL;
    assert_true(EVP_PKEY_get_bn_param(key, param, &bn));
    int n = width ? width : BN_num_bytes(bn);
    uint8_t buf[1024];
    assert_int_equal(BN_bn2binpad(bn, buf, n), n);
    BN_free(bn);
    return b64u(buf, (size_t)n);
}

/* Run a shell command; returns its exit status. */
static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
    char cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static char *read_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    char *buf = calloc(1, 65536);
    size_t n = fread(buf, 1, 65535, f);
    fclose(f);
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r')) {
        buf[--n] = '\0';
    }
    return buf;
}

static void write_file(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, n, f), n);
    fclose(f);
}

static const char *tmp(const char *name)
{
    static char bufs[4][128];
    static int next;
    char *b = bufs[next++ % 4];
    snprintf(b, sizeof(bufs[0]), "%s/%s", tmpdir, name);
    return b;
}

/* ---- set-up ---------------------------------------------------------------------------- */

static int setup(void **state)
{
    ec_key = EVP_EC_gen("P-256");
    ec_other = EVP_EC_gen("P-256");
    p384_key = EVP_EC_gen("P-384");
    rsa_key = EVP_RSA_gen(2048);
    rsa_1024 = EVP_RSA_gen(1024);
    if (!ec_key || !ec_other || !p384_key || !rsa_key || !rsa_1024) {
        return -1;
    }
    /* The set under test goes through its JSON form, as the host reads it from a file. */
    struct rr_jwks_key keys[] = {{ec_key, "ec1"}, {rsa_key, "rsa1"}};
    char *json = NULL;
    char err[160];
    if (rr_jwks_from_keys(keys, 2, &json, err, sizeof(err)) != RR_JWT_OK ||
        rr_jwks_parse(json, strlen(json), &jwks, err, sizeof(err)) != RR_JWT_OK) {
        fprintf(stderr, "setup: %s\n", err);
        return -1;
    }
    free(json);
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_jwt.XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
    rr_jwks_destroy(&jwks);
    EVP_PKEY_free(ec_key);
    EVP_PKEY_free(ec_other);
    EVP_PKEY_free(p384_key);
    EVP_PKEY_free(rsa_key);
    EVP_PKEY_free(rsa_1024);
    sh("rm -rf '%s'", tmpdir);
    return 0;
}

/* ---- tests ------------------------------------------------------------------------------ */

static void test_b64url(void **state)
{
    const char *plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar", "\xfb\xff"};
    const char *enc[] = {"", "Zg", "Zm8", "Zm9v", "Zm9vYg", "Zm9vYmE", "Zm9vYmFy", "-_8"};
    for (size_t i = 0; i < 8; i++) {
        char out[16];
        size_t n = strlen(plain[i]);
        assert_int_equal(rr_b64url_encode((const uint8_t *)plain[i], n, out), strlen(enc[i]));
        assert_int_equal(rr_b64url_encoded_len(n), strlen(enc[i]));
        assert_string_equal(out, enc[i]);
        uint8_t *dec = NULL;
        size_t dn = 0;
        assert_true(rr_b64url_decode(enc[i], strlen(enc[i]), &dec, &dn, NULL));
        assert_int_equal(dn, n);
        assert_memory_equal(dec, plain[i], n);
        free(dec);
    }
    /* Padding, the standard alphabet, whitespace, a lone character, non-zero spare bits. */
    const char *bad[] = {"Zg==", "Zm9v+w", "Zm9v/w", "Zm 9v", "Z", "Zh", "Zm9", "-_9", "Zm9v\n"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        uint8_t *dec = (uint8_t *)1;
        size_t dn = 7;
        assert_false(rr_b64url_decode(bad[i], strlen(bad[i]), &dec, &dn, NULL));
        assert_null(dec);
    }
}

static void round_trip(EVP_PKEY *key, const char *kid, const char *alg)
{
    struct rr_jwt_claims c = good_claims();
    c.roles = RR_JWT_ROLE_CLIENT | RR_JWT_ROLE_ADMINISTRATOR;
    char *tok = sign(&c, key, kid);
    /* Header as JOSE spells it. */
    char *dot = strchr(tok, '.');
    uint8_t *h = NULL;
    size_t hn = 0;
    assert_true(rr_b64url_decode(tok, (size_t)(dot - tok), &h, &hn, NULL));
    char want[128];
    snprintf(want, sizeof(want), "{\"alg\":\"%s\",\"kid\":\"%s\",\"typ\":\"JWT\"}", alg, kid);
    assert_string_equal((char *)h, want);
    free(h);

    struct rr_jwt_expect e = good_expect();
    struct rr_jwt_claims out;
    char err[160] = "x";
    assert_int_equal(rr_jwt_verify(jwks, tok, &e, &out, err, sizeof(err)), RR_JWT_OK);
    assert_string_equal(err, "");
    assert_string_equal(out.iss, c.iss);
    assert_string_equal(out.aud, c.aud);
    assert_string_equal(out.aid, c.aid);
    assert_string_equal(out.apr, c.apr);
    assert_string_equal(out.jti, c.jti);
    assert_string_equal(out.kid, kid);
    assert_int_equal(out.roles, c.roles);
    assert_int_equal(out.iat, c.iat);
    assert_int_equal(out.nbf, c.nbf);
    assert_int_equal(out.exp, c.exp);
    /* Defaults: no expectation but the clock, here the real one, 2023 < now < exp. */
    c.exp = RR_JWT_MAX_DATE;
    char *tok2 = sign(&c, key, kid);
    assert_int_equal(rr_jwt_verify(jwks, tok2, NULL, NULL, NULL, 0), RR_JWT_OK);
    rr_jwt_token_free(&tok2);
    rr_jwt_token_free(&tok);
}

static void test_es256_round_trip(void **state)
{
    round_trip(ec_key, "ec1", "ES256");
}

static void test_rs256_round_trip(void **state)
{
    round_trip(rsa_key, "rsa1", "RS256");
}

static void test_times(void **state)
{
    struct rr_jwt_expect e = good_expect();
    struct rr_jwt_claims c = good_claims();
    c.exp = NOW - 61;
    c.iat = c.nbf = NOW - 1000;
    assert_int_equal(check(&c, ec_key, "ec1", &e), RR_JWT_EXPIRED);
    c.exp = NOW - 59; /* within the leeway */
    assert_int_equal(check(&c, ec_key, "ec1", &e), RR_JWT_OK);
    e.leeway_s = 0;
    assert_int_equal(check(&c, ec_key, "ec1", &e), RR_JWT_EXPIRED);
    c.exp = NOW; /* exp is the first second no longer valid */
    assert_int_equal(check(&c, ec_key, "ec1", &e), RR_JWT_EXPIRED);
    c.exp = NOW + 1;
    assert_int_equal(check(&c, ec_key, "ec1", &e), RR_JWT_OK);

    e = good_expect();
    c = good_claims();
    c.nbf = NOW + 61;
    assert_int_equal(check(&c, ec_key, "ec1", &e), RR_JWT_NOT_YET_VALID);
    c.nbf = NOW + 59;
    assert_int_equal(check(&c, ec_key, "ec1", &e), RR_JWT_OK);
    c.nbf = 0;
    c.iat = NOW + 3600; /* issued in the future: a wrong clock somewhere */
    assert_int_equal(check(&c, ec_key, "ec1", &e), RR_JWT_NOT_YET_VALID);

    /* The claims of a refused but authentic token are reported, for the log. */
    c = good_claims();
    c.exp = NOW - 3600;
    char *tok = sign(&c, ec_key, "ec1");
    struct rr_jwt_claims out;
    assert_int_equal(rr_jwt_verify(jwks, tok, &e, &out, NULL, 0), RR_JWT_EXPIRED);
    assert_string_equal(out.jti, "jti-1");
    rr_jwt_token_free(&tok);

    /* Expectations out of range. */
    e.leeway_s = -1;
    c = good_claims();
    assert_int_equal(check(&c, ec_key, "ec1", &e), RR_JWT_INVALID_ARGUMENT);
    e.leeway_s = 86401;
    assert_int_equal(check(&c, ec_key, "ec1", &e), RR_JWT_INVALID_ARGUMENT);
}

static void test_wrong_claims(void **state)
{
    struct rr_jwt_expect e = good_expect();
    struct rr_jwt_claims c = good_claims();
    snprintf(c.iss, sizeof(c.iss), "https://sts.evil.test");
    assert_int_equal(check(&c, rsa_key, "rsa1", &e), RR_JWT_WRONG_ISSUER);
    c.iss[0] = '\0'; /* absent */
    assert_int_equal(check(&c, rsa_key, "rsa1", &e), RR_JWT_WRONG_ISSUER);

    c = good_claims();
    snprintf(c.aud, sizeof(c.aud), "someone-else");
    assert_int_equal(check(&c, rsa_key, "rsa1", &e), RR_JWT_WRONG_AUDIENCE);
    c = good_claims();
    snprintf(c.aid, sizeof(c.aid), "0B1E5A2C-0000-4000-8000-000000000001"); /* case counts */
    assert_int_equal(check(&c, rsa_key, "rsa1", &e), RR_JWT_WRONG_ACCOUNT);
    c.aid[0] = '\0';
    assert_int_equal(check(&c, rsa_key, "rsa1", &e), RR_JWT_WRONG_ACCOUNT);

    /* Roles: Administrator covers Client, not the other way round; none covers nothing. */
    c = good_claims();
    e.required_role = RR_JWT_ROLE_ADMINISTRATOR;
    assert_int_equal(check(&c, ec_key, "ec1", &e), RR_JWT_WRONG_ROLE);
    c.roles = RR_JWT_ROLE_ADMINISTRATOR;
    assert_int_equal(check(&c, ec_key, "ec1", &e), RR_JWT_OK);
    e.required_role = RR_JWT_ROLE_CLIENT;
    assert_int_equal(check(&c, ec_key, "ec1", &e), RR_JWT_OK);
    c.roles = 0;
    assert_int_equal(check(&c, ec_key, "ec1", &e), RR_JWT_WRONG_ROLE);
    e.required_role = RR_JWT_ROLE_NONE;
    assert_int_equal(check(&c, ec_key, "ec1", &e), RR_JWT_OK);

    /* aud as an array: any member may match; unknown role names are ignored. */
    e = good_expect();
    char *tok = sign_raw("{\"iss\":\"https://sts.local.openrr.test\",\"aud\":[\"x\",\"openrr\"],"
                         "\"aid\":\"0b1e5a2c-0000-4000-8000-000000000001\","
                         "\"roles\":[\"Reader\",\"Client\"],\"exp\":1700086400.75}",
                         ec_key, "ec1");
    struct rr_jwt_claims out;
    assert_int_equal(rr_jwt_verify(jwks, tok, &e, &out, NULL, 0), RR_JWT_OK);
    assert_string_equal(out.aud, "openrr");
    assert_int_equal(out.roles, RR_JWT_ROLE_CLIENT);
    assert_int_equal(out.exp, 1700086400);
    rr_jwt_token_free(&tok);
    e.audience = "y";
    tok = sign_raw("{\"aud\":[\"x\",\"openrr\"],\"exp\":1800000000}", ec_key, "ec1");
    e.issuer = e.account_id = NULL;
    e.required_role = 0;
    assert_int_equal(verify(tok, &e), RR_JWT_WRONG_AUDIENCE);
    rr_jwt_token_free(&tok);
}

static void test_keys(void **state)
{
    struct rr_jwt_expect e = good_expect();
    struct rr_jwt_claims c = good_claims();
    assert_int_equal(check(&c, ec_key, "nope", &e), RR_JWT_UNKNOWN_KEY);
    /* Another key under a known kid. */
    assert_int_equal(check(&c, ec_other, "ec1", &e), RR_JWT_BAD_SIGNATURE);
    /* A key of the other type under a known kid: alg and key disagree. */
    assert_int_equal(check(&c, rsa_key, "ec1", &e), RR_JWT_ALG_NOT_ALLOWED);
    assert_int_equal(check(&c, ec_key, "rsa1", &e), RR_JWT_ALG_NOT_ALLOWED);
    /* No kid at all. */
    char *t = assemble("{\"alg\":\"ES256\"}", "{\"exp\":1800000000}", "AAAA");
    assert_int_equal(verify(t, &e), RR_JWT_UNKNOWN_KEY);
    free(t);
}

/* Replace each character of part @p part (0 header, 1 payload, 2 signature) in turn by another
 * of the alphabet: never accepted; for payload and signature, refused as a bad signature
 * (or malformed when the change touches the spare bits of the last character). */
static void tamper_all(EVP_PKEY *key, const char *kid)
{
    struct rr_jwt_expect e = good_expect();
    struct rr_jwt_claims c = good_claims();
    char *tok = sign(&c, key, kid);
    assert_int_equal(verify(tok, &e), RR_JWT_OK);
    size_t len = strlen(tok);
    int part = 0;
    int bad_sig[3] = {0, 0, 0};
    for (size_t i = 0; i < len; i++) {
        if (tok[i] == '.') {
            part++;
            continue;
        }
        char orig = tok[i];
        tok[i] = orig == 'A' ? 'B' : 'A';
        enum rr_jwt_result r = verify(tok, &e);
        assert_int_not_equal(r, RR_JWT_OK);
        if (part > 0) {
            assert_true(r == RR_JWT_BAD_SIGNATURE || r == RR_JWT_MALFORMED);
        }
        bad_sig[part] += r == RR_JWT_BAD_SIGNATURE;
        tok[i] = orig;
    }
    /* Most changes reach the signature check in each part. */
    assert_true(bad_sig[1] > 0 && bad_sig[2] > 0);
    assert_int_equal(verify(tok, &e), RR_JWT_OK);

    /* A header that still parses but differs by one byte (a space): the signature covers the
     * encoded header, not its meaning. */
    char *dot = strchr(tok, '.');
    char hdr[256];
    snprintf(hdr, sizeof(hdr), "{\"alg\":\"%s\",\"kid\":\"%s\",\"typ\":\"JWT\" }",
             rr_jwk_alg(key == ec_key ? RR_JWK_EC_P256 : RR_JWK_RSA), kid);
    char *h = b64u(hdr, strlen(hdr));
    size_t n = strlen(h) + strlen(dot) + 1;
    char *t2 = malloc(n);
    snprintf(t2, n, "%s%s", h, dot);
    assert_int_equal(verify(t2, &e), RR_JWT_BAD_SIGNATURE);
    free(t2);
    free(h);
    rr_jwt_token_free(&tok);
}

static void test_tampered(void **state)
{
    tamper_all(ec_key, "ec1");
    tamper_all(rsa_key, "rsa1");
}

static void test_algs(void **state)
{
    struct rr_jwt_expect e = good_expect();
    const char *payload = "{\"iss\":\"https://sts.local.openrr.test\",\"aud\":\"openrr\","
                          "\"aid\":\"0b1e5a2c-0000-4000-8000-000000000001\","
                          "\"roles\":[\"Client\"],\"exp\":1800000000}";
    /* alg none, with and without a signature. */
    char *t = assemble("{\"alg\":\"none\",\"kid\":\"ec1\"}", payload, "");
    assert_int_equal(verify(t, &e), RR_JWT_ALG_NOT_ALLOWED);
    free(t);
    t = assemble("{\"alg\":\"none\"}", payload, "");
    assert_int_equal(verify(t, &e), RR_JWT_ALG_NOT_ALLOWED);
    free(t);

    /* HS256 keyed with the published public key: the classic key-confusion forgery. */
    char *jwks_json = NULL;
    assert_int_equal(rr_jwks_to_json(jwks, &jwks_json), RR_JWT_OK);
    char *unsigned_part = assemble("{\"alg\":\"HS256\",\"kid\":\"rsa1\"}", payload, "");
    unsigned_part[strlen(unsigned_part) - 1] = '\0'; /* drop the trailing dot */
    uint8_t mac[32];
    unsigned mac_len = 0;
    HMAC(EVP_sha256(), jwks_json, (int)strlen(jwks_json), (const uint8_t *)unsigned_part,
         strlen(unsigned_part), mac, &mac_len);
    char *sig = b64u(mac, mac_len);
    t = assemble("{\"alg\":\"HS256\",\"kid\":\"rsa1\"}", payload, sig);
    assert_int_equal(verify(t, &e), RR_JWT_ALG_NOT_ALLOWED);
    free(t);
    free(sig);
    free(unsigned_part);
    free(jwks_json);

    const char *others[] = {"HS512", "ES384", "PS256", "es256", "RS256 ", "", "ES256\\u0000"};
    for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
        char h[96];
        snprintf(h, sizeof(h), "{\"alg\":\"%s\",\"kid\":\"ec1\"}", others[i]);
        t = assemble(h, payload, "AAAA");
        enum rr_jwt_result r = verify(t, &e);
        /* jansson refuses \u0000 unless asked, so that one is malformed JSON. */
        assert_int_equal(r, i == 6 ? RR_JWT_MALFORMED : RR_JWT_ALG_NOT_ALLOWED);
        free(t);
    }
    /* alg that names the other key type than the key's. */
    t = assemble("{\"alg\":\"RS256\",\"kid\":\"ec1\"}", payload, "AAAA");
    assert_int_equal(verify(t, &e), RR_JWT_ALG_NOT_ALLOWED);
    free(t);
}

static void test_malformed(void **state)
{
    struct rr_jwt_expect e = good_expect();
    struct rr_jwt_claims c = good_claims();
    char *good = sign(&c, ec_key, "ec1");
    const char *forms[] = {"",
                           "a",
                           "a.b",
                           "a.b.c.d",
                           "..",
                           ".b.c",
                           "a..c",
                           "e30.e30.e30.",
                           "eyJ!.e30.AAAA",
                           "e30=.e30.AAAA",
                           "e30.e30.AA==",
                           "e30.e30.A"};
    for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
        assert_int_equal(verify(forms[i], &e), RR_JWT_MALFORMED);
    }
    /* Four parts made of a good token. */
    char four[RR_JWT_MAX_TOKEN_SIZE];
    snprintf(four, sizeof(four), "%s.AAAA", good);
    assert_int_equal(verify(four, &e), RR_JWT_MALFORMED);
    /* A good token with a blank on either end. */
    snprintf(four, sizeof(four), " %s", good);
    assert_int_equal(verify(four, &e), RR_JWT_MALFORMED);
    snprintf(four, sizeof(four), "%s\n", good);
    assert_int_not_equal(verify(four, &e), RR_JWT_OK);

    /* Oversized: one byte over the limit, however well-formed the start. */
    char *big = malloc(RR_JWT_MAX_TOKEN_SIZE + 2);
    size_t gl = strlen(good);
    memcpy(big, good, gl);
    memset(big + gl, 'A', RR_JWT_MAX_TOKEN_SIZE + 1 - gl);
    big[RR_JWT_MAX_TOKEN_SIZE + 1] = '\0';
    char err[192];
    assert_int_equal(rr_jwt_verify(jwks, big, &e, NULL, err, sizeof(err)), RR_JWT_MALFORMED);
    assert_non_null(strstr(err, "8192"));
    free(big);
    rr_jwt_token_free(&good);

    /* Headers: not JSON, not an object, duplicate keys, crit, mistyped kid. */
    const char *headers[] = {"not json",
                             "[\"ES256\"]",
                             "{\"alg\":\"ES256\",\"alg\":\"ES256\"}",
                             "{\"alg\":\"ES256\",\"kid\":\"ec1\",\"crit\":[\"exp\"]}",
                             "{\"alg\":\"ES256\",\"kid\":7}",
                             "{\"alg\":\"ES256\",\"kid\":\"ec1\"",
                             "{\"alg\":\"ES256\",\"kid\":\"ec1\"} x",
                             "{\"kid\":\"ec1\"}"};
    for (size_t i = 0; i < sizeof(headers) / sizeof(headers[0]); i++) {
        char *t = assemble(headers[i], "{\"exp\":1800000000}", "AAAA");
        assert_int_equal(verify(t, &e), RR_JWT_MALFORMED);
        free(t);
    }

    /* Payloads behind a valid signature: not JSON, duplicates, wrong types, no exp, too long. */
    e.issuer = e.audience = e.account_id = NULL;
    e.required_role = 0;
    char long_jti[300];
    snprintf(long_jti, sizeof(long_jti), "{\"exp\":1800000000,\"jti\":\"%0200d\"}", 0);
    const char *payloads[] = {"not json",
                              "[1800000000]",
                              "{\"exp\":1800000000,\"exp\":1800000000}",
                              "{\"exp\":1800000000,\"aid\":\"a\",\"aid\":\"b\"}",
                              "{\"exp\":\"1800000000\"}",
                              "{\"exp\":-1}",
                              "{\"exp\":1e300}",
                              "{\"exp\":253402300800}",
                              "{\"iat\":1700000000}",
                              "{\"exp\":1800000000,\"aid\":5}",
                              "{\"exp\":1800000000,\"aud\":[\"a\",5]}",
                              "{\"exp\":1800000000,\"aud\":{}}",
                              "{\"exp\":1800000000,\"roles\":\"Client\"}",
                              "{\"exp\":1800000000,\"roles\":[1]}",
                              "{\"exp\":true}",
                              long_jti,
                              ""};
    for (size_t i = 0; i < sizeof(payloads) / sizeof(payloads[0]); i++) {
        char *t = sign_raw(payloads[i], ec_key, "ec1");
        enum rr_jwt_result r = verify(t, &e);
        if (r != RR_JWT_MALFORMED) {
            fprintf(stderr, "payload %zu: %s\n", i, rr_jwt_result_str(r));
        }
        assert_int_equal(r, RR_JWT_MALFORMED);
        rr_jwt_token_free(&t);
    }
    /* The same limits pass when met exactly. */
    char *t = sign_raw("{\"exp\":253402300799}", ec_key, "ec1");
    assert_int_equal(verify(t, &e), RR_JWT_OK);
    rr_jwt_token_free(&t);

    assert_int_equal(rr_jwt_verify(NULL, "a.b.c", &e, NULL, NULL, 0), RR_JWT_INVALID_ARGUMENT);
    assert_int_equal(rr_jwt_verify(jwks, NULL, &e, NULL, NULL, 0), RR_JWT_INVALID_ARGUMENT);
}

static void test_jwks_errors(void **state)
{
    struct rr_jwks *k = NULL;
    char err[192];
    char *x = bn_b64u(ec_key, OSSL_PKEY_PARAM_EC_PUB_X, 32);
    char *y = bn_b64u(ec_key, OSSL_PKEY_PARAM_EC_PUB_Y, 32);
    char *y_bad = bn_b64u(ec_other, OSSL_PKEY_PARAM_EC_PUB_Y, 32);
    char *px = bn_b64u(p384_key, OSSL_PKEY_PARAM_EC_PUB_X, 48);
    char *py = bn_b64u(p384_key, OSSL_PKEY_PARAM_EC_PUB_Y, 48);
    char *n1024 = bn_b64u(rsa_1024, OSSL_PKEY_PARAM_RSA_N, 0);
    char *n2048 = bn_b64u(rsa_key, OSSL_PKEY_PARAM_RSA_N, 0);
    char ec[512], p384[512], doc[4096];
    snprintf(ec, sizeof(ec),
             "{\"kty\":\"EC\",\"crv\":\"P-256\",\"kid\":\"a\",\"x\":\"%s\",\"y\":\"%s\"}", x, y);
    snprintf(p384, sizeof(p384),
             "{\"kty\":\"EC\",\"crv\":\"P-384\",\"kid\":\"b\",\"x\":\"%s\",\"y\":\"%s\"}", px, py);

    struct jwks_case {
        char *json;
        enum rr_jwt_result want;
        const char *says;
    } cases[32];
    size_t n = 0;
#define CASE(j, w, s) cases[n++] = (struct jwks_case){strdup(j), w, s}
    CASE("", RR_JWT_MALFORMED, "not JSON");
    CASE("{\"keys\":{}}", RR_JWT_MALFORMED, "'keys' array");
    CASE("[]", RR_JWT_MALFORMED, "'keys' array");
    CASE("{\"keys\":[]}", RR_JWT_BAD_KEY, "no usable key");
    CASE("{\"keys\":[1]}", RR_JWT_MALFORMED, "not an object");
    snprintf(doc, sizeof(doc), "{\"keys\":[%s]}", p384); /* only a P-384 key */
    CASE(doc, RR_JWT_BAD_KEY, "no usable key");
    snprintf(doc, sizeof(doc),
             "{\"keys\":[{\"kty\":\"EC\",\"kid\":\"a\",\"x\":\"%s\",\"y\":\"%s\"}]}", x, y);
    CASE(doc, RR_JWT_MALFORMED, "'crv' is missing");
    snprintf(doc, sizeof(doc),
             "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"kid\":\"a\",\"y\":\"%s\"}]}", y);
    CASE(doc, RR_JWT_MALFORMED, "'x' is missing");
    snprintf(doc, sizeof(doc),
             "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"%s\",\"y\":\"%s\"}]}", x, y);
    CASE(doc, RR_JWT_MALFORMED, "'kid'");
    snprintf(doc, sizeof(doc),
             "{\"keys\":[{\"crv\":\"P-256\",\"kid\":\"a\",\"x\":\"%s\",\"y\":\"%s\"}]}", x, y);
    CASE(doc, RR_JWT_MALFORMED, "'kty' is missing");
    snprintf(
        doc, sizeof(doc),
        "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"kid\":\"a\",\"x\":\"%s\",\"y\":\"%s\"}]}",
        x, y_bad);
    CASE(doc, RR_JWT_BAD_KEY, "not a point");
    snprintf(doc, sizeof(doc),
             "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"kid\":\"a\",\"x\":\"%s\",\"y\":\"%."
             "40s\"}]}",
             x, y);
    CASE(doc, RR_JWT_BAD_KEY, "32 bytes");
    snprintf(
        doc, sizeof(doc),
        "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"kid\":\"a\",\"x\":\"%s=\",\"y\":\"%s\"}]}",
        x, y);
    CASE(doc, RR_JWT_MALFORMED, "not base64url");
    snprintf(doc, sizeof(doc), "{\"keys\":[%s,%s]}", ec, ec);
    CASE(doc, RR_JWT_BAD_KEY, "duplicate kid");
    snprintf(doc, sizeof(doc),
             "{\"keys\":[{\"kty\":\"EC\",\"kty\":\"EC\",\"crv\":\"P-256\",\"kid\":\"a\",\"x\":\"%"
             "s\",\"y\":\"%s\"}]}",
             x, y);
    CASE(doc, RR_JWT_MALFORMED, "duplicate");
    snprintf(doc, sizeof(doc),
             "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"kid\":\"a\",\"d\":\"AAAA\",\"x\":\"%"
             "s\",\"y\":\"%s\"}]}",
             x, y);
    CASE(doc, RR_JWT_BAD_KEY, "private");
    snprintf(doc, sizeof(doc),
             "{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"r\",\"n\":\"%s\",\"e\":\"AQAB\"}]}", n1024);
    CASE(doc, RR_JWT_BAD_KEY, "1024 bits");
    snprintf(doc, sizeof(doc),
             "{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"r\",\"n\":\"%s\",\"e\":\"AQAA\"}]}", n2048);
    CASE(doc, RR_JWT_BAD_KEY, "odd");
    snprintf(doc, sizeof(doc), "{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"r\",\"n\":\"%s\"}]}", n2048);
    CASE(doc, RR_JWT_MALFORMED, "'e' is missing");
    snprintf(doc, sizeof(doc),
             "{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"r\",\"n\":\"%s\",\"e\":65537}]}", n2048);
    CASE(doc, RR_JWT_MALFORMED, "not a string");
    snprintf(doc, sizeof(doc),
             "{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"r\",\"n\":\"%s\",\"e\":\"AQAB\",\"use\":7}]}",
             n2048);
    CASE(doc, RR_JWT_MALFORMED, "'use' is not a string");
#undef CASE
    for (size_t i = 0; i < n; i++) {
        enum rr_jwt_result r = parse_jwks(cases[i].json, &k, err, sizeof(err));
        if (r != cases[i].want || !strstr(err, cases[i].says)) {
            fprintf(stderr, "case %zu: %s: %s\n", i, rr_jwt_result_str(r), err);
        }
        assert_int_equal(r, cases[i].want);
        assert_non_null(strstr(err, cases[i].says));
        assert_int_equal(ERR_peek_error(), 0);
        assert_null(k);
        free(cases[i].json);
    }

    /* Skipped, not refused: another curve, use enc, another alg, another kty. */
    snprintf(doc, sizeof(doc),
             "{\"keys\":[%s,{\"kty\":\"OKP\",\"kid\":\"o\",\"crv\":\"Ed25519\",\"x\":\"AA\"},%s,"
             "{\"kty\":\"RSA\",\"kid\":\"r1\",\"use\":\"enc\",\"n\":\"%s\",\"e\":\"AQAB\"},"
             "{\"kty\":\"RSA\",\"kid\":\"r2\",\"alg\":\"PS256\",\"n\":\"%s\",\"e\":\"AQAB\"},"
             "{\"kty\":\"RSA\",\"kid\":\"r3\",\"alg\":\"RS256\",\"use\":\"sig\",\"n\":\"%s\",\"e\":"
             "\"AQAB\"}]}",
             p384, ec, n2048, n2048, n2048);
    assert_int_equal(parse_jwks(doc, &k, err, sizeof(err)), RR_JWT_OK);
    assert_int_equal(rr_jwks_count(k), 2);
    assert_non_null(rr_jwks_find(k, "a"));
    assert_non_null(rr_jwks_find(k, "r3"));
    assert_null(rr_jwks_find(k, "b"));
    /* A token under the skipped kid is simply unknown. */
    struct rr_jwt_claims c = good_claims();
    char *tok = sign(&c, ec_key, "b");
    struct rr_jwt_expect e = good_expect();
    assert_int_equal(rr_jwt_verify(k, tok, &e, NULL, NULL, 0), RR_JWT_UNKNOWN_KEY);
    rr_jwt_token_free(&tok);
    tok = sign(&c, ec_key, "a");
    assert_int_equal(rr_jwt_verify(k, tok, &e, NULL, NULL, 0), RR_JWT_OK);
    rr_jwt_token_free(&tok);
    tok = sign(&c, rsa_key, "r3");
    assert_int_equal(rr_jwt_verify(k, tok, &e, NULL, NULL, 0), RR_JWT_OK);
    rr_jwt_token_free(&tok);
    rr_jwks_destroy(&k);
    assert_null(k);

    /* Too many keys: 65 (each with its own kid). */
    size_t cap = 70 * (strlen(ec) + 8) + 64;
    char *many = malloc(cap);
    size_t pos = (size_t)snprintf(many, cap, "{\"keys\":[");
    for (int i = 0; i < RR_JWKS_MAX_KEYS + 1; i++) {
        pos += (size_t)snprintf(many + pos, cap - pos,
                                "%s{\"kty\":\"EC\",\"crv\":\"P-256\",\"kid\":\"k%d\",\"x\":\"%s\","
                                "\"y\":\"%s\"}",
                                i ? "," : "", i, x, y);
    }
    snprintf(many + pos, cap - pos, "]}");
    assert_int_equal(parse_jwks(many, &k, err, sizeof(err)), RR_JWT_TOO_LARGE);
    /* …and 64 is fine. */
    char *last = strstr(many, ",{\"kty\":\"EC\",\"crv\":\"P-256\",\"kid\":\"k64\"");
    assert_non_null(last);
    snprintf(last, cap - (size_t)(last - many), "]}");
    assert_int_equal(parse_jwks(many, &k, err, sizeof(err)), RR_JWT_OK);
    assert_int_equal(rr_jwks_count(k), 64);
    rr_jwks_destroy(&k);
    free(many);

    /* Files: good, missing, a directory, over 1 MiB (JSON padded with spaces). */
    snprintf(doc, sizeof(doc), "{\"keys\":[%s]}", ec);
    write_file(tmp("good.json"), doc, strlen(doc));
    assert_int_equal(rr_jwks_load_file(tmp("good.json"), &k, err, sizeof(err)), RR_JWT_OK);
    assert_int_equal(rr_jwks_count(k), 1);
    rr_jwks_destroy(&k);
    assert_int_equal(rr_jwks_load_file(tmp("missing.json"), &k, err, sizeof(err)), RR_JWT_IO);
    assert_non_null(strstr(err, "missing.json"));
    assert_int_equal(rr_jwks_load_file(tmpdir, &k, err, sizeof(err)), RR_JWT_IO);
    size_t big_n = RR_JWKS_MAX_SIZE + 1;
    char *big = malloc(big_n);
    memset(big, ' ', big_n);
    memcpy(big, doc, strlen(doc));
    write_file(tmp("big.json"), big, big_n);
    assert_int_equal(rr_jwks_load_file(tmp("big.json"), &k, err, sizeof(err)), RR_JWT_TOO_LARGE);
    assert_int_equal(rr_jwks_parse(big, big_n, &k, err, sizeof(err)), RR_JWT_TOO_LARGE);
    /* Exactly at the limit loads. */
    write_file(tmp("big.json"), big, big_n - 1);
    assert_int_equal(rr_jwks_load_file(tmp("big.json"), &k, err, sizeof(err)), RR_JWT_OK);
    rr_jwks_destroy(&k);
    free(big);

    /* Adding keys directly: wrong curve, short RSA, duplicate, bad kid, full. */
    assert_int_equal(rr_jwks_create(&k), RR_JWT_OK);
    assert_int_equal(rr_jwks_add_key(k, p384_key, "p", err, sizeof(err)), RR_JWT_BAD_KEY);
    assert_non_null(strstr(err, "P-256"));
    assert_int_equal(rr_jwks_add_key(k, rsa_1024, "r", err, sizeof(err)), RR_JWT_BAD_KEY);
    assert_int_equal(rr_jwks_add_key(k, ec_key, "", err, sizeof(err)), RR_JWT_INVALID_ARGUMENT);
    assert_int_equal(rr_jwks_add_key(k, ec_key, "a\nb", err, sizeof(err)), RR_JWT_INVALID_ARGUMENT);
    assert_int_equal(rr_jwks_add_key(k, ec_key, "a", err, sizeof(err)), RR_JWT_OK);
    assert_int_equal(rr_jwks_add_key(k, ec_other, "a", err, sizeof(err)), RR_JWT_BAD_KEY);
    for (int i = 1; i < RR_JWKS_MAX_KEYS; i++) {
        char kid[16];
        snprintf(kid, sizeof(kid), "k%d", i);
        assert_int_equal(rr_jwks_add_key(k, ec_key, kid, err, sizeof(err)), RR_JWT_OK);
    }
    assert_int_equal(rr_jwks_add_key(k, ec_key, "full", err, sizeof(err)), RR_JWT_TOO_LARGE);
    rr_jwks_destroy(&k);

    free(x);
    free(y);
    free(y_bad);
    free(px);
    free(py);
    free(n1024);
    free(n2048);
}

static void test_sign_errors(void **state)
{
    struct rr_jwt_claims c = good_claims();
    char *tok = NULL;
    char err[160];
    c.exp = 0;
    assert_int_equal(rr_jwt_sign(&c, ec_key, "ec1", &tok, err, sizeof(err)),
                     RR_JWT_INVALID_ARGUMENT);
    c = good_claims();
    c.nbf = -5;
    assert_int_equal(rr_jwt_sign(&c, ec_key, "ec1", &tok, err, sizeof(err)),
                     RR_JWT_INVALID_ARGUMENT);
    c = good_claims();
    memset(c.jti, 'j', sizeof(c.jti)); /* not terminated */
    assert_int_equal(rr_jwt_sign(&c, ec_key, "ec1", &tok, err, sizeof(err)),
                     RR_JWT_INVALID_ARGUMENT);
    c = good_claims();
    snprintf(c.aid, sizeof(c.aid), "\xff\xfe"); /* not UTF-8 */
    assert_int_equal(rr_jwt_sign(&c, ec_key, "ec1", &tok, err, sizeof(err)),
                     RR_JWT_INVALID_ARGUMENT);
    c = good_claims();
    assert_int_equal(rr_jwt_sign(&c, ec_key, "", &tok, err, sizeof(err)), RR_JWT_INVALID_ARGUMENT);
    assert_int_equal(rr_jwt_sign(&c, p384_key, "p", &tok, err, sizeof(err)), RR_JWT_BAD_KEY);
    assert_int_equal(rr_jwt_sign(&c, rsa_1024, "r", &tok, err, sizeof(err)), RR_JWT_BAD_KEY);
    assert_null(tok);

    /* A public key cannot sign. */
    struct rr_jwks *k = NULL;
    assert_int_equal(rr_jwks_create(&k), RR_JWT_OK);
    char *json = NULL;
    struct rr_jwks_key one = {ec_key, "pub"};
    assert_int_equal(rr_jwks_from_keys(&one, 1, &json, err, sizeof(err)), RR_JWT_OK);
    rr_jwks_destroy(&k);
    assert_int_equal(parse_jwks(json, &k, err, sizeof(err)), RR_JWT_OK);
    EVP_PKEY *pub = k->keys[0].key;
    assert_int_equal(rr_jwt_sign(&c, pub, "pub", &tok, err, sizeof(err)), RR_JWT_BAD_KEY);
    rr_jwks_destroy(&k);
    free(json);

    /* A payload that would make the token too long. */
    char *payload = malloc(6200);
    memset(payload, 'a', 6199);
    payload[6199] = '\0';
    assert_int_equal(
        rr_jws_sign(ec_key, "ec1", (const uint8_t *)payload, 6199, &tok, err, sizeof(err)),
        RR_JWT_TOO_LARGE);
    /* The largest that fits verifies up to its (absent) claims. */
    payload[6000] = '\0';
    assert_int_equal(
        rr_jws_sign(ec_key, "ec1", (const uint8_t *)payload, 6000, &tok, err, sizeof(err)),
        RR_JWT_OK);
    assert_true(strlen(tok) <= RR_JWT_MAX_TOKEN_SIZE);
    assert_int_equal(verify(tok, NULL), RR_JWT_MALFORMED);
    rr_jwt_token_free(&tok);
    free(payload);
}

/* The openssl command line signs (RS256 and ES256) and this library verifies. */
static void test_openssl_cli_signs(void **state)
{
    const char *payload = "{\"iss\":\"https://sts.local.openrr.test\",\"aud\":\"openrr\","
                          "\"aid\":\"0b1e5a2c-0000-4000-8000-000000000001\","
                          "\"roles\":[\"Client\"],\"iat\":1700000000,\"exp\":1700086400,"
                          "\"jti\":\"from-cli\"}";
    write_file(tmp("payload.json"), payload, strlen(payload));
    assert_int_equal(sh("cd '%s' && openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 "
                        "-out rsa.pem 2>/dev/null && openssl genpkey -algorithm EC -pkeyopt "
                        "ec_paramgen_curve:P-256 -out ec.pem 2>/dev/null && "
                        "openssl pkey -in rsa.pem -pubout -out rsa.pub && "
                        "openssl pkey -in ec.pem -pubout -out ec.pub",
                        tmpdir),
                     0);
    /* The whole RS256 token is built by the shell; ES256 needs DER → r||s, done below. */
    const char *b64u_sh = "b64u() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }";
    assert_int_equal(
        sh("cd '%s' && %s && "
           "h=$(printf '%%s' '{\"alg\":\"RS256\",\"kid\":\"cli-rsa\",\"typ\":\"JWT\"}' | b64u) && "
           "p=$(b64u < payload.json) && "
           "s=$(printf '%%s.%%s' \"$h\" \"$p\" | openssl dgst -sha256 -sign rsa.pem | b64u) && "
           "printf '%%s.%%s.%%s' \"$h\" \"$p\" \"$s\" > rsa.jwt && "
           "h=$(printf '%%s' '{\"alg\":\"ES256\",\"kid\":\"cli-ec\"}' | b64u) && "
           "printf '%%s.%%s' \"$h\" \"$p\" > ec.input && "
           "openssl dgst -sha256 -sign ec.pem -out ec.der ec.input",
           tmpdir, b64u_sh),
        0);

    /* The CLI's public keys go through our JWKS JSON, as the host would read them. */
    FILE *f = fopen(tmp("rsa.pub"), "r");
    EVP_PKEY *rpub = PEM_read_PUBKEY(f, NULL, NULL, NULL);
    fclose(f);
    f = fopen(tmp("ec.pub"), "r");
    EVP_PKEY *epub = PEM_read_PUBKEY(f, NULL, NULL, NULL);
    fclose(f);
    assert_non_null(rpub);
    assert_non_null(epub);
    struct rr_jwks_key keys[] = {{rpub, "cli-rsa"}, {epub, "cli-ec"}};
    char *json = NULL;
    char err[192];
    assert_int_equal(rr_jwks_from_keys(keys, 2, &json, err, sizeof(err)), RR_JWT_OK);
    struct rr_jwks *k = NULL;
    assert_int_equal(parse_jwks(json, &k, err, sizeof(err)), RR_JWT_OK);
    free(json);

    struct rr_jwt_expect e = good_expect();
    e.now = 1700000100;
    struct rr_jwt_claims out;
    char *rsa_jwt = read_text(tmp("rsa.jwt"));
    assert_int_equal(rr_jwt_verify(k, rsa_jwt, &e, &out, err, sizeof(err)), RR_JWT_OK);
    assert_string_equal(out.jti, "from-cli");
    assert_string_equal(out.kid, "cli-rsa");
    rsa_jwt[strlen(rsa_jwt) / 2] ^= 1; /* a letter's case, or a digit: still base64url */
    assert_int_not_equal(rr_jwt_verify(k, rsa_jwt, &e, NULL, NULL, 0), RR_JWT_OK);
    free(rsa_jwt);

    /* ES256: the DER signature (SEQUENCE { INTEGER r, INTEGER s }) read here by hand. */
    f = fopen(tmp("ec.der"), "rb");
    uint8_t der[128];
    size_t dn = fread(der, 1, sizeof(der), f);
    fclose(f);
    assert_true(dn > 8 && der[0] == 0x30 && der[1] == dn - 2 && der[2] == 0x02);
    uint8_t raw[64] = {0};
    size_t at = 2;
    for (int i = 0; i < 2; i++) {
        assert_int_equal(der[at], 0x02);
        size_t ilen = der[at + 1];
        const uint8_t *v = der + at + 2;
        while (ilen > 32) { /* a leading zero keeps a high bit from reading as negative */
            assert_int_equal(*v, 0);
            v++;
            ilen--;
        }
        memcpy(raw + 32 * i + (32 - ilen), v, ilen);
        at = (size_t)(v - der) + ilen;
    }
    char *input = read_text(tmp("ec.input"));
    char *sig = b64u(raw, 64);
    size_t tn = strlen(input) + strlen(sig) + 2;
    char *ec_jwt = malloc(tn);
    snprintf(ec_jwt, tn, "%s.%s", input, sig);
    assert_int_equal(rr_jwt_verify(k, ec_jwt, &e, &out, err, sizeof(err)), RR_JWT_OK);
    assert_string_equal(out.kid, "cli-ec");
    free(ec_jwt);
    free(sig);
    free(input);
    rr_jwks_destroy(&k);
    EVP_PKEY_free(rpub);
    EVP_PKEY_free(epub);
}

/* This library signs and the openssl command line verifies (RS256 as is, ES256 after r||s is
 * wrapped into DER here by hand). */
static void test_openssl_cli_verifies(void **state)
{
    struct rr_jwt_claims c = good_claims();
    EVP_PKEY *keys[2] = {rsa_key, ec_key};
    const char *kids[2] = {"rsa1", "ec1"};
    for (int i = 0; i < 2; i++) {
        char *tok = sign(&c, keys[i], kids[i]);
        char *dot2 = strrchr(tok, '.');
        write_file(tmp("input"), tok, (size_t)(dot2 - tok));
        uint8_t *sig = NULL;
        size_t sn = 0;
        assert_true(rr_b64url_decode(dot2 + 1, strlen(dot2 + 1), &sig, &sn, NULL));
        uint8_t der[80];
        size_t dn = 0;
        if (i == 1) {
            assert_int_equal(sn, 64);
            der[dn++] = 0x30;
            der[dn++] = 0; /* patched below */
            for (int half = 0; half < 2; half++) {
                const uint8_t *v = sig + 32 * half;
                size_t len = 32;
                while (len > 1 && *v == 0) {
                    v++;
                    len--;
                }
                der[dn++] = 0x02;
                der[dn++] = (uint8_t)(len + (*v & 0x80 ? 1 : 0));
                if (*v & 0x80) {
                    der[dn++] = 0;
                }
                memcpy(der + dn, v, len);
                dn += len;
            }
            der[1] = (uint8_t)(dn - 2);
            write_file(tmp("sig"), der, dn);
        } else {
            assert_int_equal(sn, 256);
            write_file(tmp("sig"), sig, sn);
        }
        free(sig);
        FILE *f = fopen(tmp("pub.pem"), "w");
        assert_true(PEM_write_PUBKEY(f, keys[i]));
        fclose(f);
        assert_int_equal(sh("cd '%s' && openssl dgst -sha256 -verify pub.pem -signature sig input "
                            ">/dev/null",
                            tmpdir),
                         0);
        /* And the CLI does refuse a changed input, so the check above means something. */
        write_file(tmp("input"), tok, (size_t)(dot2 - tok) - 1);
        assert_int_not_equal(sh("cd '%s' && openssl dgst -sha256 -verify pub.pem -signature sig "
                                "input >/dev/null 2>&1",
                                tmpdir),
                             0);
        rr_jwt_token_free(&tok);
    }
}

static void test_receiver_init(void **state)
{
    struct rr_jwt_receiver r;
    struct rr_jwt_expect e = good_expect();
    assert_int_equal(rr_jwt_receiver_init(&r, jwks, "westus2.mixedreality.azure.com", &e),
                     RR_JWT_OK);
    assert_string_equal(r.base.get_realm(&r.base), "openrr:westus2.mixedreality.azure.com");
    /* The expectation's strings are copies. */
    assert_ptr_not_equal(r.expect.issuer, e.issuer);
    assert_string_equal(r.expect.issuer, e.issuer);
    assert_string_equal(r.expect.account_id, e.account_id);
    assert_int_equal(r.last_result, -1);
    assert_int_equal(rr_jwt_receiver_init(&r, jwks, "", &e), RR_JWT_INVALID_ARGUMENT);
    assert_int_equal(rr_jwt_receiver_init(&r, jwks, "a b", &e), RR_JWT_INVALID_ARGUMENT);
    assert_int_equal(rr_jwt_receiver_init(&r, jwks, "a\"b", &e), RR_JWT_INVALID_ARGUMENT);
    assert_int_equal(rr_jwt_receiver_init(&r, NULL, "a", &e), RR_JWT_INVALID_ARGUMENT);
    char longd[300];
    memset(longd, 'a', sizeof(longd) - 1);
    longd[sizeof(longd) - 1] = '\0';
    assert_int_equal(rr_jwt_receiver_init(&r, jwks, longd, &e), RR_JWT_INVALID_ARGUMENT);
    longd[256 - strlen("openrr:")] = '\0';
    assert_int_equal(rr_jwt_receiver_init(&r, jwks, longd, &e), RR_JWT_OK);
    assert_int_equal(strlen(r.realm), 256);
    e.leeway_s = -3;
    assert_int_equal(rr_jwt_receiver_init(&r, jwks, "a", &e), RR_JWT_INVALID_ARGUMENT);
    assert_int_equal(rr_jwt_receiver_init(&r, jwks, "a", NULL), RR_JWT_OK);
    assert_null(r.expect.issuer);
    assert_int_equal(r.expect.leeway_s, RR_JWT_DEFAULT_LEEWAY_S);
}

static void test_result_names(void **state)
{
    for (int i = RR_JWT_OK; i <= RR_JWT_CRYPTO; i++) {
        const char *s = rr_jwt_result_str((enum rr_jwt_result)i);
        assert_non_null(strstr(s, "RR_JWT_"));
        assert_null(strstr(s, "UNKNOWN_RESULT"));
        for (int j = RR_JWT_OK; j < i; j++) {
            assert_string_not_equal(s, rr_jwt_result_str((enum rr_jwt_result)j));
        }
    }
    assert_string_equal(rr_jwt_result_str((enum rr_jwt_result)99), "RR_JWT_UNKNOWN_RESULT");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_b64url),
        cmocka_unit_test(test_es256_round_trip),
        cmocka_unit_test(test_rs256_round_trip),
        cmocka_unit_test(test_times),
        cmocka_unit_test(test_wrong_claims),
        cmocka_unit_test(test_keys),
        cmocka_unit_test(test_tampered),
        cmocka_unit_test(test_algs),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_jwks_errors),
        cmocka_unit_test(test_sign_errors),
        cmocka_unit_test(test_openssl_cli_signs),
        cmocka_unit_test(test_openssl_cli_verifies),
        cmocka_unit_test(test_receiver_init),
        cmocka_unit_test(test_result_names),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
