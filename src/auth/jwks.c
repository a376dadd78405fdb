/* SPDX-License-Identifier: Apache-2.0 */
/*
 * JWK Sets (RFC 7517): reading the STS's published public keys into OpenSSL keys, and writing
 * them from the keys the STS signs with. The file is configuration an operator may get
 * wrong, so every refusal says which key and why; keys of kinds we do not use are skipped,
 * not refused, so that a set shared with other software still loads.
 * Threads: a finished set is read-only and may be shared; see auth_jwt.h.
 */
#include "auth_internal.h"

#include "u_log.h"

#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Bytes of a P-256 coordinate, and the longest RSA exponent we take (RFC 7518 uses 65537). */
#define EC_COORD 32
#define RSA_MAX_E 8

enum rr_jwt_result rr_jwks_create(struct rr_jwks **out_jwks)
{
    if (!out_jwks) {
        return RR_JWT_INVALID_ARGUMENT;
    }
    *out_jwks = calloc(1, sizeof(**out_jwks));
    return *out_jwks ? RR_JWT_OK : RR_JWT_OUT_OF_MEMORY;
}

void rr_jwks_destroy(struct rr_jwks **jwks_ptr)
{
    if (!jwks_ptr || !*jwks_ptr) {
        return;
    }
    struct rr_jwks *jwks = *jwks_ptr;
    for (size_t i = 0; i < jwks->count; i++) {
        EVP_PKEY_free(jwks->keys[i].key);
    }
    free(jwks);
    *jwks_ptr = NULL;
}

size_t rr_jwks_count(const struct rr_jwks *jwks)
{
    return jwks ? jwks->count : 0;
}

const struct rr_jwk *rr_jwks_find(const struct rr_jwks *jwks, const char *kid)
{
    for (size_t i = 0; i < jwks->count; i++) {
        if (strcmp(jwks->keys[i].kid, kid) == 0) {
            return &jwks->keys[i];
        }
    }
    return NULL;
}

const char *rr_jwk_alg(enum rr_jwk_type type)
{
    return type == RR_JWK_EC_P256 ? "ES256" : "RS256";
}

enum rr_jwk_type rr_jwk_type_of(EVP_PKEY *key, char *err, size_t err_size)
{
    if (EVP_PKEY_is_a(key, "EC")) {
        char group[64] = "";
        if (!EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
                                            NULL) ||
            strcmp(group, "prime256v1") != 0) {
            rr_auth_fail(RR_JWT_BAD_KEY, err, err_size, "EC key on curve '%s', not P-256", group);
            return 0;
        }
        return RR_JWK_EC_P256;
    }
    /* RSA only: an RSA-PSS key would sign with another padding than RS256's. */
    if (EVP_PKEY_is_a(key, "RSA")) {
        int bits = EVP_PKEY_get_bits(key);
        if (bits < RR_JWT_RSA_MIN_BITS || bits > RR_JWT_RSA_MAX_BITS) {
            rr_auth_fail(RR_JWT_BAD_KEY, err, err_size, "RSA key of %d bits (allowed: %d to %d)",
                         bits, RR_JWT_RSA_MIN_BITS, RR_JWT_RSA_MAX_BITS);
            return 0;
        }
        return RR_JWK_RSA;
    }
    rr_auth_fail(RR_JWT_BAD_KEY, err, err_size, "key type %s is neither EC P-256 nor RSA",
                 EVP_PKEY_get0_type_name(key) ? EVP_PKEY_get0_type_name(key) : "?");
    return 0;
}

static bool kid_is_valid(const char *kid)
{
    size_t n = strlen(kid);
    if (n == 0 || n >= sizeof(((struct rr_jwk *)0)->kid)) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (kid[i] < 0x20 || kid[i] > 0x7e) {
            return false;
        }
    }
    return true;
}

static enum rr_jwt_result rr_jwks_add_key_impl(struct rr_jwks *jwks, EVP_PKEY *key, const char *kid,
                                               char *err, size_t err_size)
{
    if (!jwks || !key || !kid) {
        return rr_auth_fail(RR_JWT_INVALID_ARGUMENT, err, err_size, "missing argument");
    }
    if (!kid_is_valid(kid)) {
        return rr_auth_fail(RR_JWT_INVALID_ARGUMENT, err, err_size,
                            "kid must be 1 to 127 printable ASCII characters");
    }
    if (rr_jwks_find(jwks, kid)) {
        return rr_auth_fail(RR_JWT_BAD_KEY, err, err_size, "duplicate kid '%s'", kid);
    }
    if (jwks->count >= RR_JWKS_MAX_KEYS) {
        return rr_auth_fail(RR_JWT_TOO_LARGE, err, err_size, "more than %d keys", RR_JWKS_MAX_KEYS);
    }
    enum rr_jwk_type type = rr_jwk_type_of(key, err, err_size);
    if (!type) {
        return RR_JWT_BAD_KEY;
    }
    if (!EVP_PKEY_up_ref(key)) {
        return rr_auth_fail(RR_JWT_CRYPTO, err, err_size, "EVP_PKEY_up_ref failed");
    }
    struct rr_jwk *k = &jwks->keys[jwks->count++];
    k->type = type;
    k->key = key;
    snprintf(k->kid, sizeof(k->kid), "%s", kid);
    if (err && err_size) {
        err[0] = '\0';
    }
    return RR_JWT_OK;
}

enum rr_jwt_result rr_jwks_add_key(struct rr_jwks *jwks, EVP_PKEY *key, const char *kid, char *err,
                                   size_t err_size)
{
    ERR_set_mark();
    enum rr_jwt_result r = rr_jwks_add_key_impl(jwks, key, kid, err, err_size);
    ERR_pop_to_mark();
    return r;
}

/* ---- reading ---------------------------------------------------------------------------- */

/* Decode the base64url string member @p name of @p jwk into *out (*out_len bytes). */
static enum rr_jwt_result member_bytes(json_t *jwk, const char *name, const char *kid,
                                       uint8_t **out, size_t *out_len, char *err, size_t err_size)
{
    json_t *v = json_object_get(jwk, name);
    if (!json_is_string(v)) {
        return rr_auth_fail(RR_JWT_MALFORMED, err, err_size, "key '%s': '%s' %s", kid, name,
                            v ? "is not a string" : "is missing");
    }
    bool oom = false;
    if (!rr_b64url_decode(json_string_value(v), json_string_length(v), out, out_len, &oom)) {
        return oom ? RR_JWT_OUT_OF_MEMORY
                   : rr_auth_fail(RR_JWT_MALFORMED, err, err_size,
                                  "key '%s': '%s' is not base64url", kid, name);
    }
    return RR_JWT_OK;
}

/* A public key from OSSL_PARAMs; @p check runs OpenSSL's public-key check (for EC: the point
 * is on the curve, which signature checks rely on). RSA is not given to that check: it tests
 * the modulus with Miller-Rabin on random bases, so a malformed modulus could load on one start
 * and be refused on the next; the deterministic checks in rsa_key() are done instead. */
static EVP_PKEY *key_from_params(const char *type, OSSL_PARAM *params, bool check)
{
    EVP_PKEY *pkey = NULL;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
    if (!ctx || EVP_PKEY_fromdata_init(ctx) <= 0 ||
        EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) <= 0) {
        EVP_PKEY_CTX_free(ctx);
        return NULL;
    }
    EVP_PKEY_CTX_free(ctx);
    if (!check) {
        return pkey;
    }
    ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
    if (!ctx || EVP_PKEY_public_check(ctx) != 1) {
        EVP_PKEY_free(pkey);
        pkey = NULL;
    }
    EVP_PKEY_CTX_free(ctx);
    return pkey;
}

static enum rr_jwt_result ec_key(json_t *jwk, const char *kid, EVP_PKEY **out, char *err,
                                 size_t err_size)
{
    uint8_t *x = NULL, *y = NULL;
    size_t xn = 0, yn = 0;
    enum rr_jwt_result r = member_bytes(jwk, "x", kid, &x, &xn, err, err_size);
    if (r == RR_JWT_OK) {
        r = member_bytes(jwk, "y", kid, &y, &yn, err, err_size);
    }
    if (r == RR_JWT_OK && (xn != EC_COORD || yn != EC_COORD)) {
        r = rr_auth_fail(RR_JWT_BAD_KEY, err, err_size,
                         "key '%s': P-256 coordinates must be 32 bytes each", kid);
    }
    if (r == RR_JWT_OK) {
        uint8_t point[1 + 2 * EC_COORD];
        point[0] = 0x04; /* uncompressed */
        memcpy(point + 1, x, EC_COORD);
        memcpy(point + 1 + EC_COORD, y, EC_COORD);
        char group[] = "prime256v1";
        OSSL_PARAM params[] = {
            OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, group, 0),
            OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, point, sizeof(point)),
            OSSL_PARAM_construct_end(),
        };
        *out = key_from_params("EC", params, true);
        if (!*out) {
            r = rr_auth_fail(RR_JWT_BAD_KEY, err, err_size,
                             "key '%s': x, y is not a point of P-256", kid);
        }
    }
    free(x);
    free(y);
    return r;
}

static enum rr_jwt_result rsa_key(json_t *jwk, const char *kid, EVP_PKEY **out, char *err,
                                  size_t err_size)
{
    uint8_t *nb = NULL, *eb = NULL;
    size_t nn = 0, en = 0;
    BIGNUM *n = NULL, *e = NULL;
    OSSL_PARAM_BLD *bld = NULL;
    OSSL_PARAM *params = NULL;
    enum rr_jwt_result r = member_bytes(jwk, "n", kid, &nb, &nn, err, err_size);
    if (r == RR_JWT_OK) {
        r = member_bytes(jwk, "e", kid, &eb, &en, err, err_size);
    }
    if (r != RR_JWT_OK) {
        goto out;
    }
    /* Bounded before any arithmetic: a huge modulus would make every check slow. */
    if (nn > RR_JWT_RSA_MAX_BITS / 8 + 1 || en == 0 || en > RSA_MAX_E) {
        r = rr_auth_fail(RR_JWT_BAD_KEY, err, err_size, "key '%s': n or e out of bounds", kid);
        goto out;
    }
    n = BN_bin2bn(nb, (int)nn, NULL);
    e = BN_bin2bn(eb, (int)en, NULL);
    if (!n || !e) {
        r = RR_JWT_OUT_OF_MEMORY;
        goto out;
    }
    int bits = BN_num_bits(n);
    if (bits < RR_JWT_RSA_MIN_BITS || bits > RR_JWT_RSA_MAX_BITS) {
        r = rr_auth_fail(RR_JWT_BAD_KEY, err, err_size,
                         "key '%s': RSA modulus of %d bits (allowed: %d to %d)", kid, bits,
                         RR_JWT_RSA_MIN_BITS, RR_JWT_RSA_MAX_BITS);
        goto out;
    }
    if (!BN_is_odd(e) || BN_is_one(e) || !BN_is_odd(n)) {
        r = rr_auth_fail(RR_JWT_BAD_KEY, err, err_size, "key '%s': n and e must be odd, e > 1",
                         kid);
        goto out;
    }
    bld = OSSL_PARAM_BLD_new();
    if (!bld || !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) ||
        !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) ||
        !(params = OSSL_PARAM_BLD_to_param(bld))) {
        r = RR_JWT_OUT_OF_MEMORY;
        goto out;
    }
    *out = key_from_params("RSA", params, false);
    if (!*out) {
        r = rr_auth_fail(RR_JWT_BAD_KEY, err, err_size, "key '%s': OpenSSL refuses n, e", kid);
    }
out:
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    BN_free(n);
    BN_free(e);
    free(nb);
    free(eb);
    return r;
}

/* An optional string member: NULL when absent, MALFORMED when not a string. */
static enum rr_jwt_result opt_string(json_t *jwk, const char *name, const char *kid,
                                     const char **out, char *err, size_t err_size)
{
    json_t *v = json_object_get(jwk, name);
    *out = NULL;
    if (!v) {
        return RR_JWT_OK;
    }
    if (!json_is_string(v)) {
        return rr_auth_fail(RR_JWT_MALFORMED, err, err_size, "key '%s': '%s' is not a string", kid,
                            name);
    }
    *out = json_string_value(v);
    return RR_JWT_OK;
}

/* Read key @p index of the set into @p jwks, or skip it (RR_JWT_OK, nothing added). */
static enum rr_jwt_result read_key(struct rr_jwks *jwks, json_t *jwk, size_t index, char *err,
                                   size_t err_size)
{
    if (!json_is_object(jwk)) {
        return rr_auth_fail(RR_JWT_MALFORMED, err, err_size, "keys[%zu] is not an object", index);
    }
    json_t *kidv = json_object_get(jwk, "kid");
    if (!json_is_string(kidv) || json_string_length(kidv) != strlen(json_string_value(kidv)) ||
        !kid_is_valid(json_string_value(kidv))) {
        return rr_auth_fail(RR_JWT_MALFORMED, err, err_size,
                            "keys[%zu]: 'kid' must be 1 to 127 printable ASCII characters", index);
    }
    const char *kid = json_string_value(kidv);
    const char *kty, *use, *alg, *crv = NULL;
    enum rr_jwt_result r = opt_string(jwk, "kty", kid, &kty, err, err_size);
    if (r == RR_JWT_OK) {
        r = opt_string(jwk, "use", kid, &use, err, err_size);
    }
    if (r == RR_JWT_OK) {
        r = opt_string(jwk, "alg", kid, &alg, err, err_size);
    }
    if (r != RR_JWT_OK) {
        return r;
    }
    if (!kty) {
        return rr_auth_fail(RR_JWT_MALFORMED, err, err_size, "key '%s': 'kty' is missing", kid);
    }
    /* A published private key is a leak to stop, not a key to skip. */
    if (json_object_get(jwk, "d")) {
        return rr_auth_fail(RR_JWT_BAD_KEY, err, err_size,
                            "key '%s' holds private key material ('d'): publish public keys only",
                            kid);
    }
    enum rr_jwk_type type = strcmp(kty, "EC") == 0    ? RR_JWK_EC_P256
                            : strcmp(kty, "RSA") == 0 ? RR_JWK_RSA
                                                      : 0;
    if (type == RR_JWK_EC_P256) {
        r = opt_string(jwk, "crv", kid, &crv, err, err_size);
        if (r != RR_JWT_OK) {
            return r;
        }
        if (!crv) {
            return rr_auth_fail(RR_JWT_MALFORMED, err, err_size, "key '%s': 'crv' is missing", kid);
        }
    }
    const char *skip = !type                                       ? "its kty is not EC or RSA"
                       : crv && strcmp(crv, "P-256") != 0          ? "its curve is not P-256"
                       : use && strcmp(use, "sig") != 0            ? "its use is not sig"
                       : alg && strcmp(alg, rr_jwk_alg(type)) != 0 ? "its alg is not ours"
                                                                   : NULL;
    if (skip) {
        U_LOG_W(RR_AUTH_LOG, "JWKS: key '%s' skipped: %s", kid, skip);
        return RR_JWT_OK;
    }
    if (rr_jwks_find(jwks, kid)) {
        return rr_auth_fail(RR_JWT_BAD_KEY, err, err_size, "duplicate kid '%s'", kid);
    }
    EVP_PKEY *key = NULL;
    r = type == RR_JWK_EC_P256 ? ec_key(jwk, kid, &key, err, err_size)
                               : rsa_key(jwk, kid, &key, err, err_size);
    if (r != RR_JWT_OK) {
        return r;
    }
    struct rr_jwk *k = &jwks->keys[jwks->count++];
    k->type = type;
    k->key = key;
    snprintf(k->kid, sizeof(k->kid), "%s", kid);
    return RR_JWT_OK;
}

static enum rr_jwt_result rr_jwks_parse_impl(const char *json, size_t len,
                                             struct rr_jwks **out_jwks, char *err, size_t err_size)
{
    if (out_jwks) {
        *out_jwks = NULL;
    }
    if (!json || !out_jwks) {
        return rr_auth_fail(RR_JWT_INVALID_ARGUMENT, err, err_size, "missing argument");
    }
    if (len > RR_JWKS_MAX_SIZE) {
        return rr_auth_fail(RR_JWT_TOO_LARGE, err, err_size, "JWKS over %u bytes",
                            RR_JWKS_MAX_SIZE);
    }
    json_error_t jerr;
    json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        return rr_auth_fail(RR_JWT_MALFORMED, err, err_size, "JWKS is not JSON: %s (line %d)",
                            jerr.text, jerr.line);
    }
    json_t *keys = json_object_get(root, "keys");
    if (!json_is_object(root) || !json_is_array(keys)) {
        json_decref(root);
        return rr_auth_fail(RR_JWT_MALFORMED, err, err_size,
                            "JWKS is not an object with a 'keys' array");
    }
    if (json_array_size(keys) > RR_JWKS_MAX_KEYS) {
        json_decref(root);
        return rr_auth_fail(RR_JWT_TOO_LARGE, err, err_size, "JWKS has %zu keys (at most %d)",
                            json_array_size(keys), RR_JWKS_MAX_KEYS);
    }
    struct rr_jwks *jwks = NULL;
    enum rr_jwt_result r = rr_jwks_create(&jwks);
    for (size_t i = 0; r == RR_JWT_OK && i < json_array_size(keys); i++) {
        r = read_key(jwks, json_array_get(keys, i), i, err, err_size);
    }
    json_decref(root);
    if (r == RR_JWT_OK && jwks->count == 0) {
        r = rr_auth_fail(RR_JWT_BAD_KEY, err, err_size,
                         "JWKS has no usable key (EC P-256 or RSA, use sig)");
    }
    if (r != RR_JWT_OK) {
        if (r == RR_JWT_OUT_OF_MEMORY) {
            rr_auth_fail(r, err, err_size, "out of memory");
        }
        rr_jwks_destroy(&jwks);
        return r;
    }
    if (err && err_size) {
        err[0] = '\0';
    }
    *out_jwks = jwks;
    return RR_JWT_OK;
}

enum rr_jwt_result rr_jwks_parse(const char *json, size_t len, struct rr_jwks **out_jwks, char *err,
                                 size_t err_size)
{
    ERR_set_mark();
    enum rr_jwt_result r = rr_jwks_parse_impl(json, len, out_jwks, err, err_size);
    ERR_pop_to_mark();
    return r;
}

enum rr_jwt_result rr_jwks_load_file(const char *path, struct rr_jwks **out_jwks, char *err,
                                     size_t err_size)
{
    if (out_jwks) {
        *out_jwks = NULL;
    }
    if (!path || !out_jwks) {
        return rr_auth_fail(RR_JWT_INVALID_ARGUMENT, err, err_size, "missing argument");
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return rr_auth_fail(RR_JWT_IO, err, err_size, "%s: %s", path, strerror(errno));
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return rr_auth_fail(RR_JWT_IO, err, err_size, "%s: not a regular file", path);
    }
    if (st.st_size > (off_t)RR_JWKS_MAX_SIZE) {
        close(fd);
        return rr_auth_fail(RR_JWT_TOO_LARGE, err, err_size, "%s: over %u bytes", path,
                            RR_JWKS_MAX_SIZE);
    }
    /* One byte more than the limit is read so that a file that grew since fstat is noticed. */
    char *buf = malloc(RR_JWKS_MAX_SIZE + 1);
    if (!buf) {
        close(fd);
        return rr_auth_fail(RR_JWT_OUT_OF_MEMORY, err, err_size, "out of memory");
    }
    size_t len = 0;
    while (len <= RR_JWKS_MAX_SIZE) {
        ssize_t n = read(fd, buf + len, RR_JWKS_MAX_SIZE + 1 - len);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            int e = errno;
            close(fd);
            free(buf);
            return rr_auth_fail(RR_JWT_IO, err, err_size, "%s: %s", path, strerror(e));
        }
        if (n == 0) {
            break;
        }
        len += (size_t)n;
    }
    close(fd);
    enum rr_jwt_result r;
    if (len > RR_JWKS_MAX_SIZE) {
        r = rr_auth_fail(RR_JWT_TOO_LARGE, err, err_size, "%s: over %u bytes", path,
                         RR_JWKS_MAX_SIZE);
    } else {
        r = rr_jwks_parse(buf, len, out_jwks, err, err_size);
    }
    free(buf);
    return r;
}

/* ---- writing ---------------------------------------------------------------------------- */

/* @p bn as base64url of @p width bytes (0 = its minimal length) into the object @p o. */
static bool set_bn(json_t *o, const char *name, const BIGNUM *bn, int width)
{
    int n = width ? width : BN_num_bytes(bn);
    uint8_t bytes[RR_JWT_RSA_MAX_BITS / 8];
    char text[RR_JWT_RSA_MAX_BITS / 6 + 8];
    if (n <= 0 || (size_t)n > sizeof(bytes) || BN_bn2binpad(bn, bytes, n) != n) {
        return false;
    }
    rr_b64url_encode(bytes, (size_t)n, text);
    return json_object_set_new(o, name, json_string(text)) == 0;
}

static json_t *public_jwk(const struct rr_jwk *k)
{
    json_t *o = json_object();
    BIGNUM *a = NULL, *b = NULL;
    bool ok = o != NULL;
    if (ok && k->type == RR_JWK_EC_P256) {
        ok = json_object_set_new(o, "kty", json_string("EC")) == 0 &&
             json_object_set_new(o, "crv", json_string("P-256")) == 0 &&
             EVP_PKEY_get_bn_param(k->key, OSSL_PKEY_PARAM_EC_PUB_X, &a) &&
             EVP_PKEY_get_bn_param(k->key, OSSL_PKEY_PARAM_EC_PUB_Y, &b) &&
             set_bn(o, "x", a, EC_COORD) && set_bn(o, "y", b, EC_COORD);
    } else if (ok) {
        ok = json_object_set_new(o, "kty", json_string("RSA")) == 0 &&
             EVP_PKEY_get_bn_param(k->key, OSSL_PKEY_PARAM_RSA_N, &a) &&
             EVP_PKEY_get_bn_param(k->key, OSSL_PKEY_PARAM_RSA_E, &b) && set_bn(o, "n", a, 0) &&
             set_bn(o, "e", b, 0);
    }
    ok = ok && json_object_set_new(o, "kid", json_string(k->kid)) == 0 &&
         json_object_set_new(o, "use", json_string("sig")) == 0 &&
         json_object_set_new(o, "alg", json_string(rr_jwk_alg(k->type))) == 0;
    BN_free(a);
    BN_free(b);
    if (!ok) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static enum rr_jwt_result rr_jwks_to_json_impl(const struct rr_jwks *jwks, char **out_json)
{
    if (!jwks || !out_json) {
        return RR_JWT_INVALID_ARGUMENT;
    }
    *out_json = NULL;
    json_t *keys = json_array();
    json_t *root = json_object();
    if (!keys || !root || json_object_set(root, "keys", keys) != 0) {
        json_decref(keys);
        json_decref(root);
        return RR_JWT_OUT_OF_MEMORY;
    }
    enum rr_jwt_result r = RR_JWT_OK;
    for (size_t i = 0; r == RR_JWT_OK && i < jwks->count; i++) {
        json_t *k = public_jwk(&jwks->keys[i]);
        if (!k || json_array_append_new(keys, k) != 0) {
            r = RR_JWT_CRYPTO;
        }
    }
    if (r == RR_JWT_OK) {
        *out_json = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
        if (!*out_json) {
            r = RR_JWT_OUT_OF_MEMORY;
        }
    }
    json_decref(keys);
    json_decref(root);
    return r;
}

enum rr_jwt_result rr_jwks_to_json(const struct rr_jwks *jwks, char **out_json)
{
    ERR_set_mark();
    enum rr_jwt_result r = rr_jwks_to_json_impl(jwks, out_json);
    ERR_pop_to_mark();
    return r;
}

enum rr_jwt_result rr_jwks_from_keys(const struct rr_jwks_key *keys, size_t count, char **out_json,
                                     char *err, size_t err_size)
{
    if (out_json) {
        *out_json = NULL;
    }
    if ((!keys && count) || !out_json) {
        return rr_auth_fail(RR_JWT_INVALID_ARGUMENT, err, err_size, "missing argument");
    }
    struct rr_jwks *jwks = NULL;
    enum rr_jwt_result r = rr_jwks_create(&jwks);
    for (size_t i = 0; r == RR_JWT_OK && i < count; i++) {
        r = rr_jwks_add_key(jwks, keys[i].key, keys[i].kid, err, err_size);
    }
    if (r == RR_JWT_OK) {
        r = rr_jwks_to_json(jwks, out_json);
        if (r != RR_JWT_OK) {
            rr_auth_fail(r, err, err_size, "could not write the JWKS");
        }
    }
    rr_jwks_destroy(&jwks);
    return r;
}
