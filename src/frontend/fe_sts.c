/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fe_sts — signing key, JWK Set, issuing and verifying access tokens (fe_sts.h).
 * Threads: open/destroy on the main thread; issue/verify on the HTTP threads (the cache is
 * guarded by its mutex, everything else, the identity provider's key set included, is
 * immutable after open).
 */
#include "fe_sts.h"

#include "fe_keys.h"

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define KEY_FILE "sts/signing-key.pem"
#define RSA_BITS 2048

struct cache_entry {
    uint8_t digest[32];
    int64_t exp;
    unsigned roles;
    bool used;
    int32_t next; /* next entry of the same bucket, -1 = end */
    char aid[FE_GUID_TEXT_SIZE + 1];
    char jti[40];
};

struct fe_sts {
    EVP_PKEY *key;
    struct rr_jwks *jwks;
    char kid[32];
    char alg[8];
    char issuer[256];
    char audience[256];
    char region[128];
    int64_t lifetime_s;
    char *jwks_json;
    char *jwks_path;
    int64_t (*now_fn)(void *user);
    void *now_user;

    struct rr_jwks *idp_jwks; /* NULL: no identity provider */
    char idp_issuer[256];
    char idp_audience[256];
    char idp_claim[256];

    pthread_mutex_t lock;
    struct cache_entry *entries; /* capacity, filled in ring order */
    int32_t *buckets;            /* bucket_count heads, -1 = empty */
    size_t capacity, bucket_count, ring_next, count;
    unsigned long long hits, misses;
};

static bool fail(char *err, size_t err_size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static bool fail(char *err, size_t err_size, const char *fmt, ...)
{
    if (err != NULL && err_size > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, err_size, fmt, ap);
        va_end(ap);
    }
    ERR_clear_error();
    return false;
}

static int64_t now_of(const struct fe_sts *sts)
{
    return sts->now_fn != NULL ? sts->now_fn(sts->now_user) : (int64_t)time(NULL);
}

/* ---- the key ------------------------------------------------------------------------------ */

static bool key_is_alg(EVP_PKEY *key, const char *alg)
{
    if (strcmp(alg, "ES256") == 0) {
        char group[32] = "";
        size_t glen = 0;
        return EVP_PKEY_is_a(key, "EC") &&
               EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group,
                                              &glen) == 1 &&
               strcmp(group, "prime256v1") == 0;
    }
    return EVP_PKEY_is_a(key, "RSA") && EVP_PKEY_get_bits(key) >= 2048;
}

static bool fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        return false;
    }
    bool ok = fsync(fd) == 0;
    close(fd);
    return ok;
}

/* Write @p len bytes to a temporary file beside @p path with @p mode, fsync it, then put it in
 * place: rename (replace) or, with @p exclusive, link (never replace: another writer won). */
static bool write_file_atomic(const char *dir, const char *path, const void *data, size_t len,
                              mode_t mode, bool exclusive, char *err, size_t err_size)
{
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    unlink(tmp);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
    if (fd < 0) {
        return fail(err, err_size, "cannot create '%s': %s", tmp, strerror(errno));
    }
    const char *p = data;
    size_t left = len;
    while (left > 0) {
        ssize_t w = write(fd, p, left);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            int e = w < 0 ? errno : EIO;
            close(fd);
            unlink(tmp);
            return fail(err, err_size, "cannot write '%s': %s", tmp, strerror(e));
        }
        p += w;
        left -= (size_t)w;
    }
    if (fchmod(fd, mode) != 0 || fsync(fd) != 0) {
        int e = errno;
        close(fd);
        unlink(tmp);
        return fail(err, err_size, "cannot write '%s': %s", tmp, strerror(e));
    }
    close(fd);
    int r = exclusive ? link(tmp, path) : rename(tmp, path);
    int e = errno;
    if (exclusive || r != 0) {
        unlink(tmp);
    }
    if (r != 0) {
        return fail(err, err_size, "cannot put '%s' in place: %s", path, strerror(e));
    }
    fsync_dir(dir);
    return true;
}

static EVP_PKEY *generate_key(const char *alg)
{
    if (strcmp(alg, "ES256") == 0) {
        return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    }
    return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)RSA_BITS);
}

static bool create_key(const char *sts_dir, const char *path, const char *alg, char *err,
                       size_t err_size)
{
    EVP_PKEY *key = generate_key(alg);
    if (key == NULL) {
        return fail(err, err_size, "cannot generate the %s signing key", alg);
    }
    BIO *mem = BIO_new(BIO_s_mem());
    bool ok = mem != NULL && PEM_write_bio_PrivateKey(mem, key, NULL, NULL, 0, NULL, NULL) == 1;
    EVP_PKEY_free(key);
    if (!ok) {
        BIO_free(mem);
        return fail(err, err_size, "cannot encode the signing key");
    }
    char *data = NULL;
    long len = BIO_get_mem_data(mem, &data);
    ok = write_file_atomic(sts_dir, path, data, (size_t)len, 0600, true, err, err_size);
    if (!ok && access(path, F_OK) == 0) {
        ok = true; /* made meanwhile by someone else: load theirs */
    }
    OPENSSL_cleanse(data, (size_t)len);
    BIO_free(mem);
    return ok;
}

static EVP_PKEY *load_key(const char *path, char *err, size_t err_size)
{
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        fail(err, err_size, "cannot open the signing key '%s': %s", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        fail(err, err_size, "the signing key '%s' is not a regular file", path);
        return NULL;
    }
    if ((st.st_mode & 077) != 0) {
        close(fd);
        fail(err, err_size, "the signing key '%s' may be read by others (mode %03o): chmod 600 it",
             path, (unsigned)(st.st_mode & 0777));
        return NULL;
    }
    if (st.st_size > 64 * 1024) {
        close(fd);
        fail(err, err_size, "the signing key '%s' is too large to be a key", path);
        return NULL;
    }
    FILE *f = fdopen(fd, "r");
    if (f == NULL) {
        close(fd);
        fail(err, err_size, "cannot read '%s': %s", path, strerror(errno));
        return NULL;
    }
    EVP_PKEY *key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    if (key == NULL) {
        fail(err, err_size, "'%s' holds no PEM private key", path);
    }
    return key;
}

/* kid = "sts-" and the first 16 hex digits of the SHA-256 of the public key (SPKI DER): the
 * same key keeps its kid across restarts, a new key gets another. */
static bool make_kid(EVP_PKEY *key, char out[32])
{
    unsigned char *der = NULL;
    int len = i2d_PUBKEY(key, &der);
    if (len <= 0) {
        return false;
    }
    uint8_t h[32];
    bool ok = fe_key_hash((const char *)der, (size_t)len, h);
    OPENSSL_free(der);
    if (!ok) {
        return false;
    }
    char hex[17];
    fe_hex(h, 8, hex);
    snprintf(out, 32, "sts-%s", hex);
    return true;
}

/* ---- open / destroy ------------------------------------------------------------------------ */

static size_t pow2_at_least(size_t n)
{
    size_t p = 16;
    while (p < n) {
        p <<= 1;
    }
    return p;
}

bool fe_sts_open(const struct fe_sts_options *o, struct fe_sts **out_sts, char *err,
                 size_t err_size)
{
    *out_sts = NULL;
    const char *alg = o->alg != NULL ? o->alg : "ES256";
    if (strcmp(alg, "ES256") != 0 && strcmp(alg, "RS256") != 0) {
        return fail(err, err_size, "token_alg '%s' is neither ES256 nor RS256", alg);
    }
    if (o->data_dir == NULL || o->domain == NULL || o->region == NULL || o->lifetime_s < 1 ||
        o->lifetime_s > 31 * 86400 || strlen(o->domain) > 200 || strlen(o->region) > 127) {
        return fail(err, err_size, "bad token service options");
    }
    struct fe_sts *sts = calloc(1, sizeof *sts);
    if (sts == NULL) {
        return fail(err, err_size, "out of memory");
    }
    pthread_mutex_init(&sts->lock, NULL);
    snprintf(sts->alg, sizeof sts->alg, "%s", alg);
    snprintf(sts->issuer, sizeof sts->issuer, "https://sts.%s", o->domain);
    snprintf(sts->audience, sizeof sts->audience, "https://remoterendering.%s", o->domain);
    snprintf(sts->region, sizeof sts->region, "%s", o->region);
    sts->lifetime_s = o->lifetime_s;
    sts->capacity = o->cache_capacity != 0 ? o->cache_capacity : FE_STS_CACHE_DEFAULT;
    sts->bucket_count = pow2_at_least(sts->capacity * 2);
    sts->entries = calloc(sts->capacity, sizeof *sts->entries);
    sts->buckets = malloc(sts->bucket_count * sizeof *sts->buckets);
    if (sts->entries == NULL || sts->buckets == NULL) {
        fe_sts_destroy(&sts);
        return fail(err, err_size, "out of memory");
    }
    for (size_t i = 0; i < sts->bucket_count; i++) {
        sts->buckets[i] = -1;
    }

    char sts_dir[4096], key_path[4200];
    snprintf(sts_dir, sizeof sts_dir, "%s/sts", o->data_dir);
    snprintf(key_path, sizeof key_path, "%s/" KEY_FILE, o->data_dir);
    if (mkdir(sts_dir, 0700) != 0 && errno != EEXIST) {
        int e = errno;
        fe_sts_destroy(&sts);
        return fail(err, err_size, "cannot create '%s': %s", sts_dir, strerror(e));
    }
    if (access(key_path, F_OK) != 0 && errno == ENOENT &&
        !create_key(sts_dir, key_path, alg, err, err_size)) {
        fe_sts_destroy(&sts);
        return false;
    }
    sts->key = load_key(key_path, err, err_size);
    if (sts->key == NULL) {
        fe_sts_destroy(&sts);
        return false;
    }
    if (!key_is_alg(sts->key, alg)) {
        fe_sts_destroy(&sts);
        return fail(err, err_size,
                    "the signing key '%s' is not a %s key (token_alg): move it away to make a "
                    "new one (tokens it signed stop verifying), or set token_alg to match it",
                    key_path, strcmp(alg, "ES256") == 0 ? "P-256 (ES256)" : "RSA (RS256)");
    }
    if (!make_kid(sts->key, sts->kid)) {
        fe_sts_destroy(&sts);
        return fail(err, err_size, "cannot hash the signing key's public part");
    }
    char jerr[256] = "";
    if (rr_jwks_create(&sts->jwks) != RR_JWT_OK ||
        rr_jwks_add_key(sts->jwks, sts->key, sts->kid, jerr, sizeof jerr) != RR_JWT_OK ||
        rr_jwks_to_json(sts->jwks, &sts->jwks_json) != RR_JWT_OK) {
        fe_sts_destroy(&sts);
        return fail(err, err_size, "cannot build the JWK Set: %s", jerr);
    }
    size_t plen = strlen(o->data_dir) + sizeof "/jwks.json";
    sts->jwks_path = malloc(plen);
    if (sts->jwks_path == NULL) {
        fe_sts_destroy(&sts);
        return fail(err, err_size, "out of memory");
    }
    snprintf(sts->jwks_path, plen, "%s/jwks.json", o->data_dir);
    if (!write_file_atomic(o->data_dir, sts->jwks_path, sts->jwks_json, strlen(sts->jwks_json),
                           0644, false, err, err_size)) {
        fe_sts_destroy(&sts);
        return false;
    }
    *out_sts = sts;
    return true;
}

void fe_sts_destroy(struct fe_sts **sts_ptr)
{
    if (sts_ptr == NULL || *sts_ptr == NULL) {
        return;
    }
    struct fe_sts *sts = *sts_ptr;
    rr_jwks_destroy(&sts->jwks);
    rr_jwks_destroy(&sts->idp_jwks);
    EVP_PKEY_free(sts->key);
    free(sts->jwks_json);
    free(sts->jwks_path);
    if (sts->entries != NULL) {
        OPENSSL_cleanse(sts->entries, sts->capacity * sizeof *sts->entries);
    }
    free(sts->entries);
    free(sts->buckets);
    pthread_mutex_destroy(&sts->lock);
    free(sts);
    *sts_ptr = NULL;
}

const char *fe_sts_kid(const struct fe_sts *sts)
{
    return sts->kid;
}
const char *fe_sts_alg(const struct fe_sts *sts)
{
    return sts->alg;
}
const char *fe_sts_issuer(const struct fe_sts *sts)
{
    return sts->issuer;
}
const char *fe_sts_audience(const struct fe_sts *sts)
{
    return sts->audience;
}
const char *fe_sts_jwks_json(const struct fe_sts *sts)
{
    return sts->jwks_json;
}
const char *fe_sts_jwks_path(const struct fe_sts *sts)
{
    return sts->jwks_path;
}
const struct rr_jwks *fe_sts_jwks(const struct fe_sts *sts)
{
    return sts->jwks;
}

void fe_sts_set_clock(struct fe_sts *sts, int64_t (*now_fn)(void *user), void *user)
{
    sts->now_fn = now_fn;
    sts->now_user = user;
}

/* ---- issuing ----------------------------------------------------------------------------- */

enum rr_jwt_result fe_sts_issue(struct fe_sts *sts, const char *account_id, unsigned role,
                                char **out_token, int64_t *out_exp, char *err, size_t err_size)
{
    *out_token = NULL;
    if (account_id == NULL || account_id[0] == '\0' || strlen(account_id) > 127 ||
        (role != RR_JWT_ROLE_ADMINISTRATOR && role != RR_JWT_ROLE_CLIENT)) {
        fail(err, err_size, "bad account id or role");
        return RR_JWT_INVALID_ARGUMENT;
    }
    struct rr_jwt_claims c;
    memset(&c, 0, sizeof c);
    snprintf(c.iss, sizeof c.iss, "%s", sts->issuer);
    snprintf(c.aud, sizeof c.aud, "%s", sts->audience);
    snprintf(c.aid, sizeof c.aid, "%s", account_id);
    snprintf(c.apr, sizeof c.apr, "%s", sts->region);
    c.roles = role;
    c.iat = now_of(sts);
    c.nbf = c.iat;
    c.exp = c.iat + sts->lifetime_s;
    uint8_t jti[16];
    if (RAND_bytes(jti, sizeof jti) != 1) {
        fail(err, err_size, "the random generator failed");
        return RR_JWT_CRYPTO;
    }
    fe_hex(jti, sizeof jti, c.jti);
    enum rr_jwt_result r = rr_jwt_sign(&c, sts->key, sts->kid, out_token, err, err_size);
    if (r == RR_JWT_OK && out_exp != NULL) {
        *out_exp = c.exp;
    }
    return r;
}

/* ---- verifying and the cache ------------------------------------------------------------- */

static size_t bucket_of(const struct fe_sts *sts, const uint8_t digest[32])
{
    uint64_t h;
    memcpy(&h, digest, sizeof h);
    return (size_t)(h & (sts->bucket_count - 1));
}

/* Unlink entry @p idx from its bucket. Lock held. */
static void cache_unlink(struct fe_sts *sts, int32_t idx)
{
    struct cache_entry *e = &sts->entries[idx];
    int32_t *link = &sts->buckets[bucket_of(sts, e->digest)];
    while (*link != -1) {
        if (*link == idx) {
            *link = e->next;
            break;
        }
        link = &sts->entries[*link].next;
    }
    e->used = false;
    e->next = -1;
    sts->count--;
}

/* The live entry for @p digest, or NULL (an expired one is dropped). Lock held. */
static struct cache_entry *cache_find(struct fe_sts *sts, const uint8_t digest[32], int64_t now)
{
    for (int32_t i = sts->buckets[bucket_of(sts, digest)]; i != -1; i = sts->entries[i].next) {
        struct cache_entry *e = &sts->entries[i];
        if (memcmp(e->digest, digest, 32) == 0) {
            if (e->exp <= now) {
                cache_unlink(sts, i);
                return NULL;
            }
            return e;
        }
    }
    return NULL;
}

/* Remember a verified token; the ring's oldest entry makes room when all are taken. */
static void cache_insert(struct fe_sts *sts, const uint8_t digest[32],
                         const struct rr_jwt_claims *c, int64_t now)
{
    if (c->exp <= now || strlen(c->aid) >= sizeof sts->entries[0].aid ||
        strlen(c->jti) >= sizeof sts->entries[0].jti) {
        return;
    }
    pthread_mutex_lock(&sts->lock);
    if (cache_find(sts, digest, now) == NULL) {
        int32_t idx = (int32_t)sts->ring_next;
        sts->ring_next = (sts->ring_next + 1) % sts->capacity;
        if (sts->entries[idx].used) {
            cache_unlink(sts, idx);
        }
        struct cache_entry *e = &sts->entries[idx];
        memcpy(e->digest, digest, 32);
        e->exp = c->exp;
        e->roles = c->roles;
        snprintf(e->aid, sizeof e->aid, "%s", c->aid);
        snprintf(e->jti, sizeof e->jti, "%s", c->jti);
        e->used = true;
        size_t b = bucket_of(sts, digest);
        e->next = sts->buckets[b];
        sts->buckets[b] = idx;
        sts->count++;
    }
    pthread_mutex_unlock(&sts->lock);
}

static enum rr_jwt_result check_account(const struct fe_sts_identity *id, const char *account_id,
                                        char *err, size_t err_size)
{
    if (account_id != NULL && strcmp(id->aid, account_id) != 0) {
        fail(err, err_size, "the token is for another account");
        return RR_JWT_WRONG_ACCOUNT;
    }
    if (err != NULL && err_size > 0) {
        err[0] = '\0';
    }
    return RR_JWT_OK;
}

enum rr_jwt_result fe_sts_verify(struct fe_sts *sts, const char *token, const char *account_id,
                                 struct fe_sts_identity *out, char *err, size_t err_size)
{
    memset(out, 0, sizeof *out);
    if (token == NULL) {
        fail(err, err_size, "no token");
        return RR_JWT_MALFORMED;
    }
    size_t len = strnlen(token, RR_JWT_MAX_TOKEN_SIZE + 1);
    if (len == 0 || len > RR_JWT_MAX_TOKEN_SIZE) {
        fail(err, err_size, "the token is empty or longer than %d bytes", RR_JWT_MAX_TOKEN_SIZE);
        return RR_JWT_MALFORMED;
    }
    int64_t now = now_of(sts);
    uint8_t digest[32];
    if (!fe_key_hash(token, len, digest)) {
        fail(err, err_size, "cannot hash the token");
        return RR_JWT_CRYPTO;
    }
    pthread_mutex_lock(&sts->lock);
    struct cache_entry *e = cache_find(sts, digest, now);
    if (e != NULL) {
        snprintf(out->aid, sizeof out->aid, "%s", e->aid);
        snprintf(out->jti, sizeof out->jti, "%s", e->jti);
        out->roles = e->roles;
        out->exp = e->exp;
        out->cached = true;
        sts->hits++;
    } else {
        sts->misses++;
    }
    pthread_mutex_unlock(&sts->lock);
    if (out->cached) {
        return check_account(out, account_id, err, err_size);
    }

    struct rr_jwt_expect expect;
    rr_jwt_expect_init(&expect);
    expect.issuer = sts->issuer;
    expect.audience = sts->audience;
    expect.now = now;
    struct rr_jwt_claims c;
    enum rr_jwt_result r = rr_jwt_verify(sts->jwks, token, &expect, &c, err, err_size);
    if (r != RR_JWT_OK) {
        /* Claims of a signed-but-refused token are still worth logging (account, jti). */
        if (r >= RR_JWT_EXPIRED && r <= RR_JWT_WRONG_ROLE) {
            snprintf(out->aid, sizeof out->aid, "%s", c.aid);
            snprintf(out->jti, sizeof out->jti, "%s", c.jti);
            out->exp = c.exp;
        }
        return r;
    }
    cache_insert(sts, digest, &c, now);
    snprintf(out->aid, sizeof out->aid, "%s", c.aid);
    snprintf(out->jti, sizeof out->jti, "%s", c.jti);
    out->roles = c.roles;
    out->exp = c.exp;
    return check_account(out, account_id, err, err_size);
}

/* ---- identity-provider tokens ------------------------------------------------------------- */

bool fe_sts_idp_open(struct fe_sts *sts, const struct fe_sts_idp_options *o, char *err,
                     size_t err_size)
{
    const char *claim = o->account_claim != NULL ? o->account_claim : "aid";
    if (sts->idp_jwks != NULL) {
        return fail(err, err_size, "an identity provider is configured already");
    }
    if (o->jwks_path == NULL || o->jwks_path[0] == '\0' || o->issuer == NULL ||
        o->issuer[0] == '\0' || o->audience == NULL || o->audience[0] == '\0') {
        return fail(err, err_size, "idp_jwks needs idp_issuer and idp_audience");
    }
    if (strlen(o->issuer) >= sizeof sts->idp_issuer ||
        strlen(o->audience) >= sizeof sts->idp_audience || claim[0] == '\0' ||
        strlen(claim) >= sizeof sts->idp_claim) {
        return fail(err, err_size,
                    "idp_issuer, idp_audience and idp_account_claim must be 1 to 255 characters");
    }
    if (strcmp(o->issuer, sts->issuer) == 0) {
        return fail(err, err_size,
                    "idp_issuer is this token service's own issuer (%s): its access tokens "
                    "would renew themselves for ever",
                    sts->issuer);
    }
    char jerr[256] = "";
    enum rr_jwt_result r = rr_jwks_load_file(o->jwks_path, &sts->idp_jwks, jerr, sizeof jerr);
    if (r != RR_JWT_OK) {
        return fail(err, err_size, "cannot load idp_jwks '%s': %s (%s)", o->jwks_path, jerr,
                    rr_jwt_result_str(r));
    }
    snprintf(sts->idp_issuer, sizeof sts->idp_issuer, "%s", o->issuer);
    snprintf(sts->idp_audience, sizeof sts->idp_audience, "%s", o->audience);
    snprintf(sts->idp_claim, sizeof sts->idp_claim, "%s", claim);
    return true;
}

bool fe_sts_idp_enabled(const struct fe_sts *sts)
{
    return sts->idp_jwks != NULL;
}

/* Whether the string claim @p name of @p token's payload is exactly @p want (RR_JWT_OK),
 * not (RR_JWT_WRONG_ACCOUNT), or OUT_OF_MEMORY. Call only once rr_jwt_verify accepted the
 * signature: the payload is then the identity provider's, not a client's. */
static enum rr_jwt_result payload_claim_is(const char *token, const char *name, const char *want)
{
    const char *dot1 = strchr(token, '.');
    const char *dot2 = dot1 != NULL ? strchr(dot1 + 1, '.') : NULL;
    if (dot2 == NULL) {
        return RR_JWT_WRONG_ACCOUNT;
    }
    size_t len = (size_t)(dot2 - dot1 - 1);
    size_t cap = len / 4 * 3 + 3;
    uint8_t *buf = malloc(cap);
    if (buf == NULL) {
        return RR_JWT_OUT_OF_MEMORY;
    }
    enum rr_jwt_result r = RR_JWT_WRONG_ACCOUNT;
    long n = fe_b64url_decode(dot1 + 1, len, buf, cap);
    if (n > 0) {
        json_t *root = json_loadb((const char *)buf, (size_t)n, JSON_REJECT_DUPLICATES, NULL);
        json_t *v = json_object_get(root, name);
        /* By length too: a value with a NUL inside must not pass for its prefix. */
        if (json_is_string(v) && json_string_length(v) == strlen(want) &&
            strcmp(json_string_value(v), want) == 0) {
            r = RR_JWT_OK;
        }
        json_decref(root);
    }
    free(buf);
    return r;
}

enum rr_jwt_result fe_sts_verify_idp(struct fe_sts *sts, const char *token, const char *account_id,
                                     struct fe_sts_identity *out, char *err, size_t err_size)
{
    memset(out, 0, sizeof *out);
    if (sts->idp_jwks == NULL || account_id == NULL) {
        fail(err, err_size, "no identity provider is configured");
        return RR_JWT_INVALID_ARGUMENT;
    }
    if (token == NULL) {
        fail(err, err_size, "no token");
        return RR_JWT_MALFORMED;
    }
    bool by_aid = strcmp(sts->idp_claim, "aid") == 0;
    struct rr_jwt_expect expect;
    rr_jwt_expect_init(&expect);
    expect.issuer = sts->idp_issuer;
    expect.audience = sts->idp_audience;
    expect.account_id = by_aid ? account_id : NULL;
    expect.now = now_of(sts);
    struct rr_jwt_claims c;
    enum rr_jwt_result r = rr_jwt_verify(sts->idp_jwks, token, &expect, &c, err, err_size);
    if (r == RR_JWT_OK || (r >= RR_JWT_EXPIRED && r <= RR_JWT_WRONG_ROLE)) {
        /* The signature verified: the claims are worth logging, even when refused. */
        if (by_aid) {
            snprintf(out->aid, sizeof out->aid, "%s", c.aid);
        }
        snprintf(out->jti, sizeof out->jti, "%s", c.jti);
        out->exp = c.exp;
    }
    if (r != RR_JWT_OK) {
        return r;
    }
    if (!by_aid) {
        r = payload_claim_is(token, sts->idp_claim, account_id);
        if (r != RR_JWT_OK) {
            fail(err, err_size, "the token's %s claim is not this account", sts->idp_claim);
            return r;
        }
    }
    unsigned roles = c.roles & (RR_JWT_ROLE_ADMINISTRATOR | RR_JWT_ROLE_CLIENT);
    if (roles == 0) {
        fail(err, err_size, "the token carries no OpenRR role (Administrator or Client)");
        return RR_JWT_WRONG_ROLE;
    }
    snprintf(out->aid, sizeof out->aid, "%s", account_id);
    out->roles = roles;
    if (err != NULL && err_size > 0) {
        err[0] = '\0';
    }
    return RR_JWT_OK;
}

void fe_sts_cache_stats(struct fe_sts *sts, struct fe_sts_cache_stats *out)
{
    pthread_mutex_lock(&sts->lock);
    out->hits = sts->hits;
    out->misses = sts->misses;
    out->entries = sts->count;
    out->capacity = sts->capacity;
    pthread_mutex_unlock(&sts->lock);
}
