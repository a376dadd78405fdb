/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fe_ca — openrrd's certificate authority (fe_ca.h): the CA key and certificate in <data>/ca/,
 * and short-lived server certificates for session hosts as PKCS#12 files.
 *
 * Threads: fe_ca_open/destroy on the main thread; fe_ca_pem and fe_ca_issue_host from any
 * thread at once (the CA is immutable after open; signing with a shared EVP_PKEY is safe in
 * OpenSSL 3).
 */
#include "fe_ca.h"

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define KEY_NAME "ca-key.pem"
#define CERT_NAME "ca.pem"
#define CA_VALID_S (10LL * 365 * 86400 + 2 * 86400) /* ten years and the leap days */
#define BACKDATE_S 300                              /* clocks of clients may lag */
#define MAX_FILE_SIZE (64 * 1024)
#define MAX_HOST_VALID_S (398LL * 86400) /* the CA/Browser Forum's ceiling; hosts use ≤ 25 h */
#define CN_MAX 64                        /* ub-common-name (RFC 5280) */

struct fe_ca {
    EVP_PKEY *key;
    X509 *cert;
    char *pem;
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

/* ---- files ------------------------------------------------------------------------------- */

static void fsync_dir_of(const char *path)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash == NULL) {
        snprintf(dir, sizeof dir, ".");
    } else if (slash == dir) {
        dir[1] = '\0';
    } else {
        *slash = '\0';
    }
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
}

/* Write @p len bytes into a temporary file beside @p path (mode @p mode from the start, so the
 * bytes are never readable by others), fsync it, and put it in place: with @p exclusive by
 * link() (never replacing: EEXIST when the file is there), else by rename(). */
static bool write_file(const char *path, const void *data, size_t len, mode_t mode, bool exclusive,
                       char *err, size_t err_size)
{
    char tmp[PATH_MAX];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid()) >= sizeof tmp) {
        return fail(err, err_size, "the path '%s' is too long", path);
    }
    unlink(tmp);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
    if (fd < 0) {
        return fail(err, err_size, "cannot create '%s': %s", tmp, strerror(errno));
    }
    const char *p = data;
    size_t left = len;
    int e = 0;
    while (left > 0 && e == 0) {
        ssize_t w = write(fd, p, left);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            e = w < 0 ? errno : EIO;
            break;
        }
        p += w;
        left -= (size_t)w;
    }
    if (e == 0 && (fchmod(fd, mode) != 0 || fsync(fd) != 0)) {
        e = errno;
    }
    if (close(fd) != 0 && e == 0) {
        e = errno;
    }
    if (e != 0) {
        unlink(tmp);
        return fail(err, err_size, "cannot write '%s': %s", tmp, strerror(e));
    }
    int r = exclusive ? link(tmp, path) : rename(tmp, path);
    e = errno;
    if (exclusive || r != 0) {
        unlink(tmp);
    }
    if (r != 0) {
        errno = e;
        return fail(err, err_size, "cannot put '%s' in place: %s", path, strerror(e));
    }
    fsync_dir_of(path);
    return true;
}

/* Read a small regular file into a BIO; with @p private_file it must not be readable by
 * group or others. */
static BIO *read_file(const char *path, const char *what, bool private_file, char *err,
                      size_t err_size)
{
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        fail(err, err_size, "cannot open the %s '%s': %s", what, path, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        fail(err, err_size, "the %s '%s' is not a regular file", what, path);
        return NULL;
    }
    if (private_file && (st.st_mode & 077) != 0) {
        close(fd);
        fail(err, err_size, "the %s '%s' may be read by others (mode %03o): chmod 600 it", what,
             path, (unsigned)(st.st_mode & 0777));
        return NULL;
    }
    if (st.st_size > MAX_FILE_SIZE) {
        close(fd);
        fail(err, err_size, "the %s '%s' is larger than %d bytes", what, path, MAX_FILE_SIZE);
        return NULL;
    }
    char *buf = malloc((size_t)st.st_size + 1);
    size_t got = 0;
    while (buf != NULL && got < (size_t)st.st_size) {
        ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r <= 0) {
            break;
        }
        got += (size_t)r;
    }
    close(fd);
    BIO *bio = buf != NULL ? BIO_new(BIO_s_mem()) : NULL;
    if (bio == NULL || BIO_write(bio, buf, (int)got) != (int)got) {
        BIO_free(bio);
        bio = NULL;
        fail(err, err_size, "cannot read the %s '%s'", what, path);
    }
    if (buf != NULL) {
        OPENSSL_cleanse(buf, got);
        free(buf);
    }
    return bio;
}

/* ---- certificates ------------------------------------------------------------------------ */

/* 128 random bits as the serial: unpredictable (a chosen-prefix collision needs to know it)
 * and, as RFC 5280 asks, positive and at most 20 octets. */
static bool set_random_serial(X509 *x)
{
    unsigned char bytes[16];
    if (RAND_bytes(bytes, sizeof bytes) != 1) {
        return false;
    }
    bytes[15] |= 1; /* never zero */
    BIGNUM *bn = BN_bin2bn(bytes, sizeof bytes, NULL);
    OPENSSL_cleanse(bytes, sizeof bytes);
    ASN1_INTEGER *serial = bn != NULL ? BN_to_ASN1_INTEGER(bn, NULL) : NULL;
    bool ok = serial != NULL && X509_set_serialNumber(x, serial) == 1;
    ASN1_INTEGER_free(serial);
    BN_free(bn);
    return ok;
}

static bool set_validity(X509 *x, int64_t now, int64_t valid_s)
{
    return ASN1_TIME_set(X509_getm_notBefore(x), (time_t)(now - BACKDATE_S)) != NULL &&
           ASN1_TIME_set(X509_getm_notAfter(x), (time_t)(now + valid_s)) != NULL;
}

/* Add the extension @p nid with the value @p value (openssl.cnf syntax), with @p issuer as the
 * issuer context (for authorityKeyIdentifier). */
static bool add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    bool ok = ext != NULL && X509_add_ext(x, ext, -1) == 1;
    X509_EXTENSION_free(ext);
    return ok;
}

static EVP_PKEY *new_p256_key(void)
{
    return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
}

/* The CA's subject: a fixed name with a random suffix, so that the CAs of several openrrd
 * installations trusted by one client have distinct names. */
static X509 *make_ca_cert(EVP_PKEY *key)
{
    unsigned char rnd[4];
    char cn[64];
    if (RAND_bytes(rnd, sizeof rnd) != 1) {
        return NULL;
    }
    snprintf(cn, sizeof cn, "OpenRR openrrd CA %02x%02x%02x%02x", rnd[0], rnd[1], rnd[2], rnd[3]);
    X509 *x = X509_new();
    X509_NAME *name = X509_NAME_new();
    int64_t now = (int64_t)time(NULL);
    bool ok = x != NULL && name != NULL && X509_set_version(x, X509_VERSION_3) == 1 &&
              set_random_serial(x) && set_validity(x, now, CA_VALID_S) &&
              X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)"OpenRR",
                                         -1, -1, 0) == 1 &&
              X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1,
                                         -1, 0) == 1 &&
              X509_set_subject_name(x, name) == 1 && X509_set_issuer_name(x, name) == 1 &&
              X509_set_pubkey(x, key) == 1 &&
              add_ext(x, x, NID_basic_constraints, "critical,CA:TRUE,pathlen:0") &&
              add_ext(x, x, NID_key_usage, "critical,keyCertSign,cRLSign") &&
              add_ext(x, x, NID_subject_key_identifier, "hash") &&
              add_ext(x, x, NID_authority_key_identifier, "keyid:always") &&
              X509_sign(x, key, EVP_sha256()) > 0;
    X509_NAME_free(name);
    if (!ok) {
        X509_free(x);
        return NULL;
    }
    return x;
}

static char *cert_to_pem(X509 *x)
{
    BIO *mem = BIO_new(BIO_s_mem());
    char *out = NULL;
    if (mem != NULL && PEM_write_bio_X509(mem, x) == 1) {
        char *data = NULL;
        long len = BIO_get_mem_data(mem, &data);
        out = malloc((size_t)len + 1);
        if (out != NULL) {
            memcpy(out, data, (size_t)len);
            out[len] = '\0';
        }
    }
    BIO_free(mem);
    return out;
}

/* ---- open -------------------------------------------------------------------------------- */

static bool create_ca(const char *key_path, const char *cert_path, char *err, size_t err_size)
{
    EVP_PKEY *key = new_p256_key();
    X509 *cert = key != NULL ? make_ca_cert(key) : NULL;
    BIO *kbio = BIO_new(BIO_s_mem());
    char *pem = cert != NULL ? cert_to_pem(cert) : NULL;
    bool ok = pem != NULL && kbio != NULL &&
              PEM_write_bio_PrivateKey(kbio, key, NULL, NULL, 0, NULL, NULL) == 1;
    if (!ok) {
        fail(err, err_size, "cannot make the CA's key and certificate");
    } else {
        char *kdata = NULL;
        long klen = BIO_get_mem_data(kbio, &kdata);
        /* The key first: a certificate without its key could never sign anything. */
        ok = write_file(key_path, kdata, (size_t)klen, 0600, true, err, err_size) &&
             write_file(cert_path, pem, strlen(pem), 0644, true, err, err_size);
        OPENSSL_cleanse(kdata, (size_t)klen);
    }
    free(pem);
    BIO_free(kbio);
    X509_free(cert);
    EVP_PKEY_free(key);
    return ok;
}

static bool load_ca(struct fe_ca *ca, const char *key_path, const char *cert_path, char *err,
                    size_t err_size)
{
    BIO *kbio = read_file(key_path, "CA key", true, err, err_size);
    if (kbio == NULL) {
        return false;
    }
    ca->key = PEM_read_bio_PrivateKey(kbio, NULL, NULL, NULL);
    BIO_free(kbio);
    if (ca->key == NULL) {
        return fail(err, err_size, "'%s' holds no PEM private key", key_path);
    }
    BIO *cbio = read_file(cert_path, "CA certificate", false, err, err_size);
    if (cbio == NULL) {
        return false;
    }
    ca->cert = PEM_read_bio_X509(cbio, NULL, NULL, NULL);
    BIO_free(cbio);
    if (ca->cert == NULL) {
        return fail(err, err_size, "'%s' holds no PEM certificate", cert_path);
    }
    if (X509_check_private_key(ca->cert, ca->key) != 1) {
        return fail(err, err_size, "the CA certificate '%s' is not the key '%s''s", cert_path,
                    key_path);
    }
    if (X509_check_ca(ca->cert) == 0) {
        return fail(err, err_size, "'%s' is not a CA certificate", cert_path);
    }
    if (X509_cmp_current_time(X509_get0_notAfter(ca->cert)) <= 0) {
        return fail(err, err_size,
                    "the CA certificate '%s' has expired: remove '%s' and '%s' to make a new CA "
                    "(clients must then trust the new one)",
                    cert_path, cert_path, key_path);
    }
    ca->pem = cert_to_pem(ca->cert);
    if (ca->pem == NULL) {
        return fail(err, err_size, "out of memory");
    }
    return true;
}

bool fe_ca_open(const char *dir, struct fe_ca **out_ca, char *err, size_t err_size)
{
    if (dir == NULL || out_ca == NULL) {
        return fail(err, err_size, "no CA directory");
    }
    *out_ca = NULL;
    char key_path[PATH_MAX], cert_path[PATH_MAX];
    if ((size_t)snprintf(key_path, sizeof key_path, "%s/" KEY_NAME, dir) >= sizeof key_path ||
        (size_t)snprintf(cert_path, sizeof cert_path, "%s/" CERT_NAME, dir) >= sizeof cert_path) {
        return fail(err, err_size, "the CA directory '%s' is too long", dir);
    }
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        return fail(err, err_size, "cannot create the CA directory '%s': %s", dir, strerror(errno));
    }
    bool have_key = access(key_path, F_OK) == 0;
    bool have_cert = access(cert_path, F_OK) == 0;
    if (have_key && !have_cert) {
        return fail(err, err_size,
                    "half-written CA: '%s' exists without '%s'; remove '%s' to make a new CA",
                    key_path, cert_path, key_path);
    }
    if (!have_key && have_cert) {
        return fail(err, err_size,
                    "the CA certificate '%s' has no key '%s'; remove '%s' to make a new CA "
                    "(clients must then trust the new one)",
                    cert_path, key_path, cert_path);
    }
    if (!have_key && !create_ca(key_path, cert_path, err, err_size)) {
        return false;
    }
    struct fe_ca *ca = calloc(1, sizeof *ca);
    if (ca == NULL) {
        return fail(err, err_size, "out of memory");
    }
    if (!load_ca(ca, key_path, cert_path, err, err_size)) {
        fe_ca_destroy(&ca);
        return false;
    }
    *out_ca = ca;
    return true;
}

void fe_ca_destroy(struct fe_ca **ca_ptr)
{
    if (ca_ptr == NULL || *ca_ptr == NULL) {
        return;
    }
    struct fe_ca *ca = *ca_ptr;
    EVP_PKEY_free(ca->key);
    X509_free(ca->cert);
    free(ca->pem);
    free(ca);
    *ca_ptr = NULL;
}

const char *fe_ca_pem(const struct fe_ca *ca)
{
    return ca != NULL ? ca->pem : NULL;
}

/* ---- host certificates ------------------------------------------------------------------- */

/* A DNS name as a certificate may carry it: labels of letters, digits and '-', not starting or
 * ending with '-', 1–63 characters each, at most 253 in all. */
static bool dns_name_ok(const char *host)
{
    size_t len = strlen(host);
    if (len == 0 || len > 253) {
        return false;
    }
    size_t label = 0;
    char prev = '.';
    for (const char *p = host; *p != '\0'; p++) {
        char c = *p;
        if (c == '.') {
            if (label == 0 || prev == '-') {
                return false;
            }
            label = 0;
        } else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                   c == '-') {
            if ((label == 0 && c == '-') || ++label > 63) {
                return false;
            }
        } else {
            return false;
        }
        prev = c;
    }
    return label > 0 && prev != '-';
}

static X509 *make_host_cert(const struct fe_ca *ca, EVP_PKEY *key, const char *host, bool is_ip,
                            int64_t valid_s)
{
    char san[300];
    snprintf(san, sizeof san, "%s:%s", is_ip ? "IP" : "DNS", host);
    X509 *x = X509_new();
    X509_NAME *name = X509_NAME_new();
    int64_t now = (int64_t)time(NULL);
    bool ok =
        x != NULL && name != NULL && X509_set_version(x, X509_VERSION_3) == 1 &&
        set_random_serial(x) && set_validity(x, now, valid_s) &&
        X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                                   (const unsigned char *)"OpenRR session host", -1, -1, 0) == 1 &&
        (strlen(host) > CN_MAX ||
         X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)host, -1, -1,
                                    0) == 1) &&
        X509_set_subject_name(x, name) == 1 &&
        X509_set_issuer_name(x, X509_get_subject_name(ca->cert)) == 1 &&
        X509_set_pubkey(x, key) == 1 &&
        add_ext(x, ca->cert, NID_basic_constraints, "critical,CA:FALSE") &&
        add_ext(x, ca->cert, NID_key_usage, "critical,digitalSignature") &&
        add_ext(x, ca->cert, NID_ext_key_usage, "serverAuth") &&
        add_ext(x, ca->cert, NID_subject_alt_name, san) &&
        add_ext(x, ca->cert, NID_subject_key_identifier, "hash") &&
        add_ext(x, ca->cert, NID_authority_key_identifier, "keyid:always") &&
        X509_sign(x, ca->key, EVP_sha256()) > 0;
    X509_NAME_free(name);
    if (!ok) {
        X509_free(x);
        return NULL;
    }
    return x;
}

bool fe_ca_issue_host(const struct fe_ca *ca, const char *host, int64_t valid_s,
                      const char *p12_path, const char *passphrase, char *err, size_t err_size)
{
    if (ca == NULL || host == NULL || p12_path == NULL || passphrase == NULL) {
        return fail(err, err_size, "fe_ca_issue_host: a NULL argument");
    }
    if (passphrase[0] == '\0') {
        return fail(err, err_size, "the host certificate needs a passphrase");
    }
    if (valid_s <= 0 || valid_s > MAX_HOST_VALID_S) {
        return fail(err, err_size, "a host certificate is valid 1 s to 398 days, not %lld s",
                    (long long)valid_s);
    }
    unsigned char addr[16];
    bool is_ip = inet_pton(AF_INET, host, addr) == 1 || inet_pton(AF_INET6, host, addr) == 1;
    if (!is_ip && !dns_name_ok(host)) {
        return fail(err, err_size, "'%.64s' is neither an IP address nor a DNS name", host);
    }
    EVP_PKEY *key = new_p256_key();
    X509 *cert = key != NULL ? make_host_cert(ca, key, host, is_ip, valid_s) : NULL;
    STACK_OF(X509) *chain = sk_X509_new_null();
    PKCS12 *p12 = NULL;
    if (cert != NULL && chain != NULL && sk_X509_push(chain, ca->cert) > 0) {
        /* 0, 0 …: OpenSSL 3's defaults, AES-256-CBC with PBKDF2 and an HMAC-SHA256 MAC. */
        p12 = PKCS12_create(passphrase, "openrr-host", key, cert, chain, 0, 0, 0, 0, 0);
    }
    sk_X509_free(chain); /* the CA certificate stays the CA's */
    X509_free(cert);
    EVP_PKEY_free(key);
    if (p12 == NULL) {
        return fail(err, err_size, "cannot make the host certificate for '%.64s'", host);
    }
    unsigned char *der = NULL;
    int len = i2d_PKCS12(p12, &der);
    PKCS12_free(p12);
    if (len <= 0) {
        return fail(err, err_size, "cannot encode the host certificate");
    }
    bool ok = write_file(p12_path, der, (size_t)len, 0600, false, err, err_size);
    OPENSSL_free(der);
    return ok;
}
