/* SPDX-License-Identifier: Apache-2.0 */
/* Certificate stores and helpers; any thread. */
#include "cert.h"

#include "net.h"

#include <errno.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define RR_MAX_FILE_SIZE (16u * 1024u * 1024u)

enum rr_result rr_cert_fingerprint_sha256(const void *der, size_t size, char out[96])
{
    if (der == NULL || size == 0 || out == NULL) {
        return RR_ERROR_INVALID_ARGUMENT;
    }
    unsigned char md[32];
    if (EVP_Digest(der, size, md, NULL, EVP_sha256(), NULL) != 1) {
        return RR_ERROR_TLS;
    }
    static const char hex[] = "0123456789ABCDEF";
    for (int i = 0; i < 32; i++) {
        out[i * 3] = hex[md[i] >> 4];
        out[i * 3 + 1] = hex[md[i] & 15];
        out[i * 3 + 2] = i == 31 ? '\0' : ':';
    }
    return RR_OK;
}

void rr_cert_fingerprint_x509(X509 *cert, char out[96])
{
    unsigned char *der = NULL;
    int n = i2d_X509(cert, &der);
    out[0] = '\0';
    if (n > 0) {
        rr_cert_fingerprint_sha256(der, (size_t)n, out);
    }
    OPENSSL_free(der);
}

enum rr_result rr_file_read(const char *path, uint8_t **out_data, size_t *out_size)
{
    if (path == NULL || out_data == NULL || out_size == NULL) {
        return RR_ERROR_INVALID_ARGUMENT;
    }
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        return RR_ERROR_IO;
    }
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode) || st.st_size < 0 ||
        (uint64_t)st.st_size > RR_MAX_FILE_SIZE) {
        fclose(f);
        return RR_ERROR_IO;
    }
    size_t size = (size_t)st.st_size;
    uint8_t *buf = malloc(size + 1);
    if (buf == NULL) {
        fclose(f);
        return RR_ERROR_OUT_OF_MEMORY;
    }
    size_t got = fread(buf, 1, size, f);
    fclose(f);
    if (got != size) {
        free(buf);
        return RR_ERROR_IO;
    }
    buf[size] = '\0'; /* convenient for PEM text; not counted */
    *out_data = buf;
    *out_size = size;
    return RR_OK;
}

static void subject_cn(X509 *cert, char *out, size_t size)
{
    out[0] = '\0';
    X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, out, (int)size);
}

/* The subject rule of DESIGN §4.4: friendly name first, else subject CN. */
static bool cert_matches(X509 *cert, const char *subject_name)
{
    if (subject_name == NULL || subject_name[0] == '\0') {
        return true;
    }
    int alen = 0;
    const unsigned char *alias = X509_alias_get0(cert, &alen);
    if (alias != NULL && (size_t)alen == strlen(subject_name) &&
        memcmp(alias, subject_name, (size_t)alen) == 0) {
        return true;
    }
    char cn[256];
    subject_cn(cert, cn, sizeof(cn));
    return strcmp(cn, subject_name) == 0;
}

static void describe(X509 *cert, char *out, size_t size)
{
    int alen = 0;
    const unsigned char *alias = X509_alias_get0(cert, &alen);
    char cn[128];
    subject_cn(cert, cn, sizeof(cn));
    snprintf(out, size, "friendly name '%.*s', CN '%s'", alias ? alen : 0,
             alias ? (const char *)alias : "", cn);
}

static enum rr_result load_pkcs12(const void *data, size_t size, const char *password,
                                  struct rr_cert_store *out, char *err, size_t err_size)
{
    const unsigned char *p = data;
    PKCS12 *p12 = d2i_PKCS12(NULL, &p, (long)size);
    if (p12 == NULL) {
        snprintf(err, err_size, "the certificate store is neither PKCS#12 nor PEM");
        return RR_ERROR_CERTIFICATE;
    }
    const char *pw = password != NULL ? password : "";
    /* An empty password may mean "no password" (NULL) or "" depending on the creator. */
    if (PKCS12_mac_present(p12) && !PKCS12_verify_mac(p12, pw, -1)) {
        if (pw[0] == '\0' && PKCS12_verify_mac(p12, NULL, 0)) {
            pw = NULL;
        } else {
            PKCS12_free(p12);
            snprintf(err, err_size, "wrong password for the PKCS#12 certificate store");
            return RR_ERROR_CERTIFICATE;
        }
    }
    STACK_OF(X509) *ca = NULL;
    int ok = PKCS12_parse(p12, pw, &out->key, &out->cert, &ca);
    PKCS12_free(p12);
    if (!ok) {
        unsigned long e = ERR_peek_last_error();
        snprintf(err, err_size, "cannot open the PKCS#12 store: %s",
                 e ? ERR_reason_error_string(e) : "unknown error");
        ERR_clear_error();
        return RR_ERROR_CERTIFICATE;
    }
    out->chain = ca;
    return RR_OK;
}

static int pem_pass_cb(char *buf, int size, int rwflag, void *u)
{
    const char *pw = u != NULL ? u : "";
    int n = (int)strlen(pw);
    if (n >= size) {
        return -1;
    }
    memcpy(buf, pw, (size_t)n);
    return n;
}

static enum rr_result load_pem(const void *data, size_t size, const char *password,
                               struct rr_cert_store *out, char *err, size_t err_size)
{
    BIO *bio = BIO_new_mem_buf(data, (int)size);
    if (bio == NULL) {
        return RR_ERROR_OUT_OF_MEMORY;
    }
    STACK_OF(X509_INFO) *infos = PEM_X509_INFO_read_bio(bio, NULL, pem_pass_cb, (void *)password);
    BIO_free(bio);
    if (infos == NULL) {
        snprintf(err, err_size, "cannot read the PEM certificate store (bad PEM or password)");
        ERR_clear_error();
        return RR_ERROR_CERTIFICATE;
    }
    STACK_OF(X509) *certs = sk_X509_new_null();
    for (int i = 0; i < sk_X509_INFO_num(infos); i++) {
        X509_INFO *xi = sk_X509_INFO_value(infos, i);
        if (xi->x509 != NULL) {
            X509_up_ref(xi->x509);
            sk_X509_push(certs, xi->x509);
        }
        if (xi->x_pkey != NULL && xi->x_pkey->dec_pkey != NULL && out->key == NULL) {
            EVP_PKEY_up_ref(xi->x_pkey->dec_pkey);
            out->key = xi->x_pkey->dec_pkey;
        }
    }
    sk_X509_INFO_pop_free(infos, X509_INFO_free);
    ERR_clear_error();
    /* The leaf is the certificate that belongs to the key; the rest form the chain. */
    for (int i = 0; out->key != NULL && i < sk_X509_num(certs); i++) {
        X509 *c = sk_X509_value(certs, i);
        if (X509_check_private_key(c, out->key) == 1) {
            out->cert = c;
            sk_X509_delete(certs, i);
            break;
        }
    }
    ERR_clear_error();
    out->chain = certs;
    if (out->cert == NULL && sk_X509_num(certs) > 0) {
        out->cert = sk_X509_shift(certs);
    }
    return RR_OK;
}

enum rr_result rr_cert_store_load(const void *data, size_t size, const char *password,
                                  const char *subject_name, struct rr_cert_store *out, char *err,
                                  size_t err_size)
{
    memset(out, 0, sizeof(*out));
    if (data == NULL || size == 0 || size > RR_MAX_FILE_SIZE) {
        snprintf(err, err_size, "the certificate store is empty or larger than 16 MiB");
        return RR_ERROR_CERTIFICATE;
    }
    bool pem = size >= 10 && memmem(data, size < 4096 ? size : 4096, "-----BEGIN", 10) != NULL;
    enum rr_result r = pem ? load_pem(data, size, password, out, err, err_size)
                           : load_pkcs12(data, size, password, out, err, err_size);
    if (r != RR_OK) {
        rr_cert_store_fini(out);
        return r;
    }
    if (out->key == NULL) {
        snprintf(err, err_size, "the certificate store holds no private key");
        rr_cert_store_fini(out);
        return RR_ERROR_CERTIFICATE;
    }
    if (out->cert == NULL) {
        snprintf(err, err_size, "the certificate store holds no certificate");
        rr_cert_store_fini(out);
        return RR_ERROR_CERTIFICATE;
    }
    if (!cert_matches(out->cert, subject_name)) {
        char have[200];
        describe(out->cert, have, sizeof(have));
        snprintf(err, err_size,
                 "no certificate with friendly name or subject CN '%.64s' (the store holds %s)",
                 subject_name, have);
        rr_cert_store_fini(out);
        return RR_ERROR_CERTIFICATE;
    }
    if (out->key == NULL) {
        snprintf(err, err_size, "the certificate store holds no private key");
        rr_cert_store_fini(out);
        return RR_ERROR_CERTIFICATE;
    }
    if (X509_check_private_key(out->cert, out->key) != 1) {
        ERR_clear_error();
        snprintf(err, err_size, "the private key does not belong to the certificate");
        rr_cert_store_fini(out);
        return RR_ERROR_CERTIFICATE;
    }
    rr_cert_fingerprint_x509(out->cert, out->fingerprint);
    return RR_OK;
}

void rr_cert_store_fini(struct rr_cert_store *s)
{
    EVP_PKEY_free(s->key);
    X509_free(s->cert);
    sk_X509_pop_free(s->chain, X509_free);
    memset(s, 0, sizeof(*s));
}

enum rr_result rr_cert_store_check(const void *store, size_t size, const char *password,
                                   const char *subject_name, char out_fingerprint[96], char *err,
                                   size_t err_size)
{
    struct rr_cert_store s;
    char dummy[8];
    if (err == NULL || err_size == 0) {
        err = dummy;
        err_size = sizeof(dummy);
    }
    err[0] = '\0';
    enum rr_result r = rr_cert_store_load(store, size, password, subject_name, &s, err, err_size);
    if (r == RR_OK) {
        if (out_fingerprint != NULL) {
            memcpy(out_fingerprint, s.fingerprint, 96);
        }
        rr_cert_store_fini(&s);
    }
    return r;
}

static bool add_ext(X509 *cert, int nid, const char *value)
{
    X509V3_CTX v3;
    X509V3_set_ctx_nodb(&v3);
    X509V3_set_ctx(&v3, cert, cert, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &v3, nid, value);
    if (ext == NULL) {
        return false;
    }
    bool ok = X509_add_ext(cert, ext, -1) == 1;
    X509_EXTENSION_free(ext);
    return ok;
}

enum rr_result rr_cert_create_self_signed_pkcs12(const char *host, const char *password,
                                                 unsigned days, uint8_t **out_pfx, size_t *out_size)
{
    if (host == NULL || host[0] == '\0' || strlen(host) > 200 || days == 0 || days > 3650 ||
        out_pfx == NULL || out_size == NULL || strpbrk(host, ",\r\n") != NULL) {
        return RR_ERROR_INVALID_ARGUMENT;
    }
    enum rr_result r = RR_ERROR_TLS;
    EVP_PKEY *key = EVP_EC_gen("P-256");
    X509 *cert = X509_new();
    PKCS12 *p12 = NULL;
    unsigned char *der = NULL;
    if (key == NULL || cert == NULL) {
        goto out;
    }
    unsigned char serial[16];
    RAND_bytes(serial, sizeof(serial));
    serial[0] &= 0x7f;
    BIGNUM *bn = BN_bin2bn(serial, sizeof(serial), NULL);
    ASN1_INTEGER *sn = bn ? BN_to_ASN1_INTEGER(bn, NULL) : NULL;
    BN_free(bn);
    if (sn == NULL) {
        goto out;
    }
    X509_set_serialNumber(cert, sn);
    ASN1_INTEGER_free(sn);
    X509_set_version(cert, X509_VERSION_3);
    X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
    X509_gmtime_adj(X509_getm_notAfter(cert), (long)days * 86400);
    X509_NAME *name = X509_get_subject_name(cert);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)host, -1, -1, 0);
    X509_set_issuer_name(cert, name);
    X509_set_pubkey(cert, key);
    char san[256];
    char bare[220];
    rr_net_strip_brackets(host, bare, sizeof(bare));
    snprintf(san, sizeof(san), "%s:%s", rr_net_is_ip_literal(bare) ? "IP" : "DNS", bare);
    if (!add_ext(cert, NID_basic_constraints, "critical,CA:FALSE") ||
        !add_ext(cert, NID_key_usage, "critical,digitalSignature") ||
        !add_ext(cert, NID_ext_key_usage, "serverAuth") ||
        !add_ext(cert, NID_subject_alt_name, san) ||
        !add_ext(cert, NID_subject_key_identifier, "hash") ||
        X509_sign(cert, key, EVP_sha256()) == 0) {
        goto out;
    }
    p12 = PKCS12_create(password != NULL ? password : "", bare, key, cert, NULL, 0, 0, 0, 0, 0);
    if (p12 == NULL) {
        goto out;
    }
    int n = i2d_PKCS12(p12, &der);
    if (n <= 0) {
        goto out;
    }
    *out_pfx = malloc((size_t)n);
    if (*out_pfx == NULL) {
        r = RR_ERROR_OUT_OF_MEMORY;
        goto out;
    }
    memcpy(*out_pfx, der, (size_t)n);
    *out_size = (size_t)n;
    r = RR_OK;
out:
    ERR_clear_error();
    OPENSSL_free(der);
    PKCS12_free(p12);
    X509_free(cert);
    EVP_PKEY_free(key);
    return r;
}
