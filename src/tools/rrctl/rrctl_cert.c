/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rrctl_cert — `rrctl cert create`: a self-signed certificate store (PKCS#12) for a remoting
 * server such as openrr-remoting or openrr-player listening securely: an ECDSA P-256 key and a
 * certificate for serverAuth whose subject alternative names are the given host names and IP
 * addresses (the first also the CN and the PKCS#12 friendly name, which -subjectname matches).
 * Clients trust it through its certificate as a CA file (--cert-out writes that PEM).
 *
 * Threads: main thread.
 */
#include "rrctl.h"

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_NAMES 16

static const char cert_help[] =
    "Usage: rrctl cert create --name NAME[,NAME…] --out FILE.p12 [--passphrase-stdin]\n"
    "                         [--days N] [--cert-out FILE.pem] [--force]\n"
    "\n"
    "Create a self-signed certificate store (PKCS#12, mode 0600) for a remoting server that\n"
    "listens securely (openrr-remoting, openrr-player -listen -secureconnection\n"
    "-certificatestore FILE.p12). Keys are ECDSA P-256; the certificate is for TLS server\n"
    "authentication.\n"
    "\n"
    "  --name NAMES        host names and IP addresses the server is reached by, comma\n"
    "                      separated (each in the subject alternative names; the first is also\n"
    "                      the subject CN and the store's friendly name)\n"
    "  --out FILE.p12      the store to write (refused when it exists, unless --force)\n"
    "  --passphrase-stdin  protect the store with the first line of stdin (default: no\n"
    "                      passphrase)\n"
    "  --days N            validity in days (1-3650, default 365)\n"
    "  --cert-out FILE     also write the certificate as PEM: what clients trust (-cafile)\n"
    "\n"
    "Examples:\n"
    "  rrctl cert create --name localhost,127.0.0.1 --out server.p12 --cert-out server.pem\n"
    "  openrr-remoting -listen 127.0.0.1:8265 -secureconnection -certificatestore server.p12 \\\n"
    "      -authenticationtoken \"$TOKEN\"\n"
    "  openrr-remoting 127.0.0.1:8265 -secureconnection -cafile server.pem \\\n"
    "      -authenticationtoken \"$TOKEN\"\n";

static bool is_ip(const char *s)
{
    unsigned char buf[16];
    return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

static bool name_ok(const char *s)
{
    if (s[0] == '\0' || strlen(s) > 253) {
        return false;
    }
    if (is_ip(s)) {
        return true;
    }
    for (const char *p = s; *p != '\0'; p++) {
        bool ok = (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
                  (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' || *p == '*';
        if (!ok) {
            return false;
        }
    }
    return true;
}

static bool add_ext(X509 *cert, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, cert, cert, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    if (ext == NULL) {
        return false;
    }
    bool ok = X509_add_ext(cert, ext, -1) == 1;
    X509_EXTENSION_free(ext);
    return ok;
}

/* The certificate and its store; false with a message. */
static bool make_store(char **names, int count, unsigned days, const char *pass,
                       unsigned char **out_der, int *out_len, X509 **out_cert)
{
    bool ok = false;
    EVP_PKEY *key = EVP_EC_gen("P-256");
    X509 *cert = X509_new();
    PKCS12 *p12 = NULL;
    if (key == NULL || cert == NULL) {
        goto out;
    }
    unsigned char serial[16];
    if (RAND_bytes(serial, sizeof(serial)) != 1) {
        goto out;
    }
    serial[0] &= 0x7f;
    BIGNUM *bn = BN_bin2bn(serial, sizeof(serial), NULL);
    ASN1_INTEGER *sn = bn != NULL ? BN_to_ASN1_INTEGER(bn, NULL) : NULL;
    BN_free(bn);
    if (sn == NULL) {
        goto out;
    }
    X509_set_serialNumber(cert, sn);
    ASN1_INTEGER_free(sn);
    X509_set_version(cert, X509_VERSION_3);
    /* An hour back: clocks of the machines involved are rarely exactly in step. */
    X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
    X509_gmtime_adj(X509_getm_notAfter(cert), (long)days * 86400);
    X509_NAME *subject = X509_get_subject_name(cert);
    X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_ASC, (const unsigned char *)names[0], -1, -1,
                               0);
    X509_set_issuer_name(cert, subject);
    X509_set_pubkey(cert, key);
    char san[MAX_NAMES * 270] = "";
    for (int i = 0; i < count; i++) {
        size_t n = strlen(san);
        snprintf(san + n, sizeof(san) - n, "%s%s:%s", i ? "," : "", is_ip(names[i]) ? "IP" : "DNS",
                 names[i]);
    }
    if (!add_ext(cert, NID_basic_constraints, "critical,CA:FALSE") ||
        !add_ext(cert, NID_key_usage, "critical,digitalSignature") ||
        !add_ext(cert, NID_ext_key_usage, "serverAuth") ||
        !add_ext(cert, NID_subject_alt_name, san) ||
        !add_ext(cert, NID_subject_key_identifier, "hash") ||
        X509_sign(cert, key, EVP_sha256()) == 0) {
        goto out;
    }
    p12 = PKCS12_create(pass, names[0], key, cert, NULL, 0, 0, 0, 0, 0);
    if (p12 == NULL) {
        goto out;
    }
    *out_der = NULL;
    *out_len = i2d_PKCS12(p12, out_der);
    ok = *out_len > 0;
out:
    PKCS12_free(p12);
    EVP_PKEY_free(key);
    if (ok) {
        *out_cert = cert;
    } else {
        X509_free(cert);
    }
    return ok;
}

static bool write_file(const char *path, const void *data, size_t size, bool force, mode_t mode,
                       char *err, size_t err_size)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | (force ? O_TRUNC : O_EXCL), mode);
    if (fd < 0) {
        snprintf(err, err_size, "cannot create %s: %s%s", path, strerror(errno),
                 errno == EEXIST ? " (--force replaces it)" : "");
        return false;
    }
    (void)fchmod(fd, mode);
    const char *p = data;
    size_t off = 0;
    while (off < size) {
        ssize_t n = write(fd, p + off, size - off);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            snprintf(err, err_size, "cannot write %s: %s", path, strerror(errno));
            close(fd);
            return false;
        }
        off += (size_t)n;
    }
    if (close(fd) != 0) {
        snprintf(err, err_size, "cannot write %s: %s", path, strerror(errno));
        return false;
    }
    return true;
}

int rrctl_cmd_cert(struct rrctl *rc, int argc, char **argv)
{
    struct rrctl_opt opts[] = {
        {"name", true, NULL, false},
        {"out", true, NULL, false},
        {"passphrase-stdin", false, NULL, false},
        {"days", true, NULL, false},
        {"cert-out", true, NULL, false},
        {"force", false, NULL, false},
    };
    const size_t n = sizeof(opts) / sizeof(opts[0]);
    const bool sub = argc > 0 && strcmp(argv[0], "create") == 0;
    if (sub) {
        rc->command = "cert create";
    }
    if (!rrctl_parse(rc, argc - (sub ? 1 : 0), argv + (sub ? 1 : 0), opts, n)) {
        return RRCTL_USAGE;
    }
    if (rc->help) {
        fputs(cert_help, stdout);
        return RRCTL_OK;
    }
    if (!sub) {
        return rrctl_usage_error(rc, "the subcommand is 'create'");
    }
    if (rc->npos != 0) {
        return rrctl_usage_error(rc, "unexpected operand '%s'", rc->pos[0]);
    }
    struct rrctl_opt *name = rrctl_opt(opts, n, "name"), *out = rrctl_opt(opts, n, "out"),
                     *days_opt = rrctl_opt(opts, n, "days");
    if (!name->seen || !out->seen) {
        return rrctl_usage_error(rc, "--name and --out are needed");
    }
    uint32_t days = 365;
    if (days_opt->seen && !rrctl_uint(days_opt->value, 1, 3650, &days)) {
        return rrctl_usage_error(rc, "--days is 1 to 3650, not '%s'", days_opt->value);
    }
    char namebuf[MAX_NAMES * 260];
    if ((size_t)snprintf(namebuf, sizeof(namebuf), "%s", name->value) >= sizeof(namebuf)) {
        return rrctl_usage_error(rc, "--name is too long");
    }
    char *names[MAX_NAMES];
    int count = 0;
    for (char *save = NULL, *t = strtok_r(namebuf, ",", &save); t != NULL;
         t = strtok_r(NULL, ",", &save)) {
        if (count == MAX_NAMES) {
            return rrctl_usage_error(rc, "at most %d names", MAX_NAMES);
        }
        if (!name_ok(t)) {
            return rrctl_usage_error(rc, "'%s' is not a host name or an IP address", t);
        }
        names[count++] = t;
    }
    if (count == 0) {
        return rrctl_usage_error(rc, "--name names nothing");
    }
    char pass[1024] = "";
    if (rrctl_opt(opts, n, "passphrase-stdin")->seen) {
        if (fgets(pass, sizeof(pass), stdin) == NULL) {
            return rrctl_usage_error(rc, "--passphrase-stdin: nothing on stdin");
        }
        pass[strcspn(pass, "\r\n")] = '\0';
    }
    unsigned char *der = NULL;
    int len = 0;
    X509 *cert = NULL;
    bool made = make_store(names, count, days, pass, &der, &len, &cert);
    OPENSSL_cleanse(pass, sizeof(pass));
    if (!made) {
        unsigned long e = ERR_get_error();
        char why[256];
        ERR_error_string_n(e, why, sizeof(why));
        return rrctl_fail(rc, RRCTL_FAILED, "cannot make the certificate: %s", why);
    }
    bool force = rrctl_opt(opts, n, "force")->seen;
    char err[512];
    int status = RRCTL_OK;
    if (!write_file(out->value, der, (size_t)len, force, 0600, err, sizeof(err))) {
        status = rrctl_fail(rc, RRCTL_FAILED, "%s", err);
    }
    OPENSSL_free(der);
    struct rrctl_opt *cert_out = rrctl_opt(opts, n, "cert-out");
    if (status == RRCTL_OK && cert_out->seen) {
        BIO *bio = BIO_new(BIO_s_mem());
        char *pem = NULL;
        long pem_len = 0;
        if (bio != NULL && PEM_write_bio_X509(bio, cert) == 1) {
            pem_len = BIO_get_mem_data(bio, &pem);
        }
        if (pem_len <= 0 ||
            !write_file(cert_out->value, pem, (size_t)pem_len, force, 0644, err, sizeof(err))) {
            status = rrctl_fail(rc, RRCTL_FAILED, "%s",
                                pem_len <= 0 ? "cannot encode the certificate" : err);
        }
        BIO_free(bio);
    }
    if (status == RRCTL_OK) {
        unsigned char md[32];
        unsigned mdlen = 0;
        char fp[96] = "";
        if (X509_digest(cert, EVP_sha256(), md, &mdlen) == 1) {
            for (unsigned i = 0; i < mdlen; i++) {
                snprintf(fp + 3 * i, sizeof(fp) - 3 * i, "%02X%s", md[i], i + 1 < mdlen ? ":" : "");
            }
        }
        if (rc->json) {
            json_t *arr = json_array();
            for (int i = 0; i < count; i++) {
                json_array_append_new(arr, json_string(names[i]));
            }
            json_t *o = json_pack("{s:s,s:o,s:i,s:s,s:s?}", "store", out->value, "names", arr,
                                  "days", (int)days, "sha256", fp, "certificate",
                                  cert_out->seen ? cert_out->value : NULL);
            json_dumpf(o, stdout, JSON_COMPACT);
            fputc('\n', stdout);
            json_decref(o);
        } else {
            printf("wrote %s: a self-signed certificate for %s, valid %u days\nsha256 %s\n",
                   out->value, name->value, days, fp);
        }
    }
    X509_free(cert);
    return status;
}
