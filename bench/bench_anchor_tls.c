/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench_anchor_tls — raw OpenSSL plumbing of the anchor (see bench_anchor_tls.h).
 * Threads: bench_tls_init/fini on the main thread; the rest on whichever thread owns the
 * socket or SSL (an SSL_CTX is safe to share once built).
 */
#include "bench_anchor_tls.h"

#include "bench.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

void bench_tls_print_errors(const char *what)
{
    fprintf(stderr, "anchor: %s failed\n", what);
    ERR_print_errors_fp(stderr);
}

static bool add_ext(X509 *cert, int nid, const char *value)
{
    X509V3_CTX v3;
    X509V3_set_ctx_nodb(&v3);
    X509V3_set_ctx(&v3, cert, cert, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &v3, nid, value);
    if (ext == NULL)
        return false;
    bool ok = X509_add_ext(cert, ext, -1) == 1;
    X509_EXTENSION_free(ext);
    return ok;
}

/* The same shape as rr_cert_create_self_signed_pkcs12() promises: ECDSA P-256, the host in the
 * CN and the SAN, serverAuth usage, a short validity. Signature checks the client does are
 * therefore the same kind and count on both sides. */
static X509 *make_certificate(EVP_PKEY *key)
{
    X509 *cert = X509_new();
    if (cert == NULL)
        return NULL;
    unsigned char serial[8];
    BIGNUM *bn = NULL;
    bool ok = RAND_bytes(serial, sizeof(serial)) == 1;
    serial[0] &= 0x7f; /* a positive serial */
    ok = ok && (bn = BN_bin2bn(serial, sizeof(serial), NULL)) != NULL;
    ok = ok && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert)) != NULL;
    BN_free(bn);
    ok = ok && X509_set_version(cert, X509_VERSION_3) == 1;
    /* Back-dated a minute so that clock granularity never makes it "not yet valid". */
    ok = ok && X509_gmtime_adj(X509_getm_notBefore(cert), -60) != NULL;
    ok = ok && X509_gmtime_adj(X509_getm_notAfter(cert), 86400) != NULL;
    ok = ok && X509_set_pubkey(cert, key) == 1;
    X509_NAME *name = X509_get_subject_name(cert);
    ok = ok && X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                          (const unsigned char *)BENCH_HOST, -1, -1, 0) == 1;
    ok = ok && X509_set_issuer_name(cert, name) == 1;
    ok = ok && add_ext(cert, NID_subject_alt_name, "DNS:" BENCH_HOST);
    ok = ok && add_ext(cert, NID_key_usage, "critical,digitalSignature");
    ok = ok && add_ext(cert, NID_ext_key_usage, "serverAuth");
    ok = ok && X509_sign(cert, key, EVP_sha256()) > 0;
    if (!ok) {
        X509_free(cert);
        return NULL;
    }
    return cert;
}

/* TLS 1.3 only and X25519 only, as the library negotiates; no session tickets or session
 * cache, because the library resumes nothing at the TLS level (it caches tokens instead) and
 * every anchor handshake must be a full one. */
static bool restrict_ctx(SSL_CTX *ctx)
{
    return SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) == 1 &&
           SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) == 1 &&
           SSL_CTX_set1_groups_list(ctx, "X25519") == 1 &&
           (SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF), true);
}

bool bench_tls_init(struct bench_tls *tls)
{
    memset(tls, 0, sizeof(*tls));
    EVP_PKEY *key = EVP_EC_gen("P-256");
    X509 *cert = key != NULL ? make_certificate(key) : NULL;
    bool ok = cert != NULL;
    if (!ok)
        bench_tls_print_errors("certificate generation");

    ok = ok && (tls->server = SSL_CTX_new(TLS_server_method())) != NULL;
    ok = ok && restrict_ctx(tls->server);
    ok = ok && SSL_CTX_set_num_tickets(tls->server, 0) == 1;
    ok = ok && SSL_CTX_use_certificate(tls->server, cert) == 1;
    ok = ok && SSL_CTX_use_PrivateKey(tls->server, key) == 1;
    ok = ok && SSL_CTX_check_private_key(tls->server) == 1;

    ok = ok && (tls->client = SSL_CTX_new(TLS_client_method())) != NULL;
    ok = ok && restrict_ctx(tls->client);
    /* Trust only our certificate, as the OpenRR client does with ca_file + no_system_trust. */
    ok = ok && X509_STORE_add_cert(SSL_CTX_get_cert_store(tls->client), cert) == 1;
    if (ok)
        SSL_CTX_set_verify(tls->client, SSL_VERIFY_PEER, NULL);

    X509_free(cert);
    EVP_PKEY_free(key);
    if (!ok) {
        bench_tls_print_errors("TLS context setup");
        bench_tls_fini(tls);
    }
    return ok;
}

void bench_tls_fini(struct bench_tls *tls)
{
    SSL_CTX_free(tls->server);
    SSL_CTX_free(tls->client);
    tls->server = NULL;
    tls->client = NULL;
}

static void set_nodelay(int fd)
{
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

int bench_tcp_listen(uint16_t *out_port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        perror("anchor: socket");
        return -1;
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    struct sockaddr_in sa = {.sin_family = AF_INET};
    inet_pton(AF_INET, BENCH_BIND, &sa.sin_addr);
    socklen_t len = sizeof(sa);
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(fd, 128) != 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &len) != 0) {
        perror("anchor: bind/listen");
        close(fd);
        return -1;
    }
    *out_port = ntohs(sa.sin_port);
    return fd;
}

int bench_tcp_connect(const char *host, uint16_t port)
{
    char service[8];
    snprintf(service, sizeof(service), "%u", (unsigned)port);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    struct addrinfo *list = NULL;
    int rc = getaddrinfo(host, service, &hints, &list);
    if (rc != 0) {
        fprintf(stderr, "anchor: getaddrinfo(%s): %s\n", host, gai_strerror(rc));
        return -1;
    }
    int fd = -1;
    int err = 0;
    for (struct addrinfo *ai = list; ai != NULL && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0)
            continue;
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
            err = errno;
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(list);
    if (fd < 0) {
        fprintf(stderr, "anchor: connect %s:%u: %s\n", host, (unsigned)port, strerror(err));
        return -1;
    }
    set_nodelay(fd);
    return fd;
}

int bench_tcp_accept(int listen_fd)
{
    int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
    if (fd < 0) {
        perror("anchor: accept");
        return -1;
    }
    set_nodelay(fd);
    return fd;
}

SSL *bench_tls_connect(struct bench_tls *tls, int fd, const char *host)
{
    SSL *ssl = SSL_new(tls->client);
    if (ssl == NULL || SSL_set_fd(ssl, fd) != 1 || SSL_set_tlsext_host_name(ssl, host) != 1 ||
        SSL_set1_host(ssl, host) != 1 || SSL_connect(ssl) != 1) {
        bench_tls_print_errors("client handshake");
        SSL_free(ssl);
        return NULL;
    }
    return ssl;
}

SSL *bench_tls_accept(struct bench_tls *tls, int fd)
{
    SSL *ssl = SSL_new(tls->server);
    if (ssl == NULL || SSL_set_fd(ssl, fd) != 1 || SSL_accept(ssl) != 1) {
        bench_tls_print_errors("server handshake");
        SSL_free(ssl);
        return NULL;
    }
    return ssl;
}

void bench_tls_close(SSL *ssl)
{
    if (ssl == NULL)
        return;
    int fd = SSL_get_fd(ssl);
    SSL_shutdown(ssl);
    SSL_free(ssl);
    if (fd >= 0)
        close(fd);
}

bool bench_ssl_write_all(SSL *ssl, const void *buf, size_t size)
{
    size_t written = 0;
    /* Without SSL_MODE_ENABLE_PARTIAL_WRITE a blocking SSL_write_ex writes all or fails. */
    return size == 0 || (SSL_write_ex(ssl, buf, size, &written) == 1 && written == size);
}

bool bench_ssl_read_full(SSL *ssl, void *buf, size_t size)
{
    unsigned char *p = buf;
    while (size > 0) {
        size_t got = 0;
        if (SSL_read_ex(ssl, p, size, &got) != 1)
            return false;
        p += got;
        size -= got;
    }
    return true;
}

long bench_ssl_read_some(SSL *ssl, void *buf, size_t size)
{
    size_t got = 0;
    if (SSL_read_ex(ssl, buf, size, &got) != 1)
        return -1;
    return (long)got;
}
