/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench_anchor_tls — the raw OpenSSL plumbing of the anchor: an in-memory ECDSA P-256
 * certificate, TLS 1.3-only client and server contexts limited to X25519 (what the library
 * negotiates), loopback sockets and whole-buffer SSL I/O.
 * Threads: setup on the main thread; the I/O helpers on whichever thread owns the SSL.
 */
#ifndef OPENRR_BENCH_ANCHOR_TLS_H
#define OPENRR_BENCH_ANCHOR_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

struct bench_tls {
    SSL_CTX *server; /* certificate and key for BENCH_HOST */
    SSL_CTX *client; /* trusts exactly that certificate and checks BENCH_HOST against it */
};

/* Generate the certificate and build both contexts. Returns false (and prints why) on error. */
bool bench_tls_init(struct bench_tls *tls);
void bench_tls_fini(struct bench_tls *tls);

/* Listening TCP socket on BENCH_BIND, ephemeral port. Returns the fd or -1. */
int bench_tcp_listen(uint16_t *out_port);
/* Resolve @p host and connect to the first address that answers, with TCP_NODELAY, as a
 * client library given a host name must. Returns the fd or -1. */
int bench_tcp_connect(const char *host, uint16_t port);
/* Accept one connection with TCP_NODELAY. Returns the fd or -1. */
int bench_tcp_accept(int listen_fd);

/* Client side of a TLS connection on @p fd: handshake with SNI and host name check.
 * Returns NULL (and closes nothing) when the handshake fails. */
SSL *bench_tls_connect(struct bench_tls *tls, int fd, const char *host);
/* Server side. Returns NULL when the handshake fails. */
SSL *bench_tls_accept(struct bench_tls *tls, int fd);
/* Send close_notify (without waiting for the peer's), free @p ssl and close its fd. */
void bench_tls_close(SSL *ssl);

bool bench_ssl_write_all(SSL *ssl, const void *buf, size_t size);
/* Read exactly @p size bytes. Returns false on error or end of stream. */
bool bench_ssl_read_full(SSL *ssl, void *buf, size_t size);
/* Read whatever is there, up to @p size. Returns the count, or -1 on error or end of stream. */
long bench_ssl_read_some(SSL *ssl, void *buf, size_t size);

/* Print the OpenSSL error queue to stderr after @p what. */
void bench_tls_print_errors(const char *what);

#endif /* OPENRR_BENCH_ANCHOR_TLS_H */
