/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench_anchor — figures A–D measured with plain OpenSSL (see bench_anchor.h).
 * Threads: the caller's thread is the client and takes every timestamp except B's end, which
 * the server thread takes when it has read the last byte (as the OpenRR receiver does).
 */
#include "bench_anchor.h"

#include "bench_stats.h"

#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/objects.h>

enum server_mode {
    SERVE_REQUESTS, /* A, D: any number of connections, one request/response each */
    SERVE_BULK,     /* B: one connection, read bulk_bytes, answer one byte */
    SERVE_ECHO,     /* C: one connection, echo 64-byte messages until the client closes */
};

struct anchor_server {
    struct bench_anchor *a;
    enum server_mode mode;
    size_t bulk_bytes;
    atomic_bool stop;
    _Atomic uint64_t bulk_done_ns;
    atomic_bool failed;
    pthread_t thread;
};

/* Wait for a connection, waking now and then to notice stop: a client that failed to connect
 * must not leave the server blocked in accept() and the join hanging. */
static int accept_or_stop(struct anchor_server *s)
{
    struct pollfd pfd = {.fd = s->a->listen_fd, .events = POLLIN};
    while (!atomic_load(&s->stop)) {
        int n = poll(&pfd, 1, 50);
        if (n > 0)
            return bench_tcp_accept(s->a->listen_fd);
    }
    return -1;
}

static bool serve_request(struct anchor_server *s, int fd)
{
    unsigned char req[BENCH_REQUEST_SIZE];
    unsigned char resp[BENCH_RESPONSE_SIZE];
    memset(resp, 'r', sizeof(resp));
    SSL *ssl = bench_tls_accept(&s->a->tls, fd);
    if (ssl == NULL) {
        close(fd);
        return false;
    }
    bool ok =
        bench_ssl_read_full(ssl, req, sizeof(req)) && bench_ssl_write_all(ssl, resp, sizeof(resp));
    bench_tls_close(ssl);
    return ok;
}

static bool serve_bulk(struct anchor_server *s, int fd)
{
    SSL *ssl = bench_tls_accept(&s->a->tls, fd);
    if (ssl == NULL) {
        close(fd);
        return false;
    }
    unsigned char *buf = malloc(BENCH_BULK_CHUNK);
    size_t left = s->bulk_bytes;
    bool ok = buf != NULL;
    while (ok && left > 0) {
        long got = bench_ssl_read_some(ssl, buf, left < BENCH_BULK_CHUNK ? left : BENCH_BULK_CHUNK);
        ok = got > 0;
        if (ok)
            left -= (size_t)got;
    }
    /* The clock stops here, on the receiving side, like OpenRR's receiver callback; the ack
     * only tells the client it may read the timestamp. */
    atomic_store(&s->bulk_done_ns, bench_now_ns());
    ok = ok && bench_ssl_write_all(ssl, "k", 1);
    free(buf);
    bench_tls_close(ssl);
    return ok;
}

static bool serve_echo(struct anchor_server *s, int fd)
{
    SSL *ssl = bench_tls_accept(&s->a->tls, fd);
    if (ssl == NULL) {
        close(fd);
        return false;
    }
    unsigned char msg[BENCH_SMALL_SIZE];
    /* A failed read is the client closing: the normal end. */
    while (bench_ssl_read_full(ssl, msg, sizeof(msg))) {
        if (!bench_ssl_write_all(ssl, msg, sizeof(msg))) {
            bench_tls_close(ssl);
            return false;
        }
    }
    bench_tls_close(ssl);
    return true;
}

static void *server_main(void *arg)
{
    struct anchor_server *s = arg;
    do {
        int fd = accept_or_stop(s);
        if (fd < 0)
            break;
        bool ok = false;
        switch (s->mode) {
        case SERVE_REQUESTS:
            ok = serve_request(s, fd);
            break;
        case SERVE_BULK:
            ok = serve_bulk(s, fd);
            break;
        case SERVE_ECHO:
            ok = serve_echo(s, fd);
            break;
        }
        if (!ok)
            atomic_store(&s->failed, true);
    } while (s->mode == SERVE_REQUESTS && !atomic_load(&s->failed));
    return NULL;
}

static bool server_start(struct anchor_server *s, struct bench_anchor *a, enum server_mode mode,
                         size_t bulk_bytes)
{
    memset(s, 0, sizeof(*s));
    s->a = a;
    s->mode = mode;
    s->bulk_bytes = bulk_bytes;
    atomic_init(&s->stop, false);
    atomic_init(&s->failed, false);
    atomic_init(&s->bulk_done_ns, 0);
    if (pthread_create(&s->thread, NULL, server_main, s) != 0) {
        fprintf(stderr, "anchor: cannot start the server thread\n");
        return false;
    }
    return true;
}

/* Returns false when the server reported a failure. */
static bool server_stop(struct anchor_server *s)
{
    atomic_store(&s->stop, true);
    pthread_join(s->thread, NULL);
    if (atomic_load(&s->failed))
        fprintf(stderr, "anchor: the server thread failed (see above)\n");
    return !atomic_load(&s->failed);
}

bool bench_anchor_init(struct bench_anchor *a)
{
    memset(a, 0, sizeof(*a));
    a->listen_fd = -1;
    if (!bench_tls_init(&a->tls))
        return false;
    a->listen_fd = bench_tcp_listen(&a->port);
    if (a->listen_fd < 0) {
        bench_tls_fini(&a->tls);
        return false;
    }
    return true;
}

void bench_anchor_fini(struct bench_anchor *a)
{
    bench_anchor_session_stop(a);
    if (a->listen_fd >= 0)
        close(a->listen_fd);
    a->listen_fd = -1;
    bench_tls_fini(&a->tls);
}

static SSL *client_open(struct bench_anchor *a)
{
    int fd = bench_tcp_connect(BENCH_HOST, a->port);
    if (fd < 0)
        return NULL;
    SSL *ssl = bench_tls_connect(&a->tls, fd, BENCH_HOST);
    if (ssl == NULL)
        close(fd);
    return ssl;
}

/* One A/D connection: resolve + connect + handshake + request/response. Returns the time from
 * the start to the response received in µs, or -1. Closing is not included in the figure. */
static double client_exchange(struct bench_anchor *a, SSL **out_ssl)
{
    unsigned char req[BENCH_REQUEST_SIZE];
    unsigned char resp[BENCH_RESPONSE_SIZE];
    memset(req, 'q', sizeof(req));
    uint64_t t0 = bench_now_ns();
    SSL *ssl = client_open(a);
    if (ssl == NULL)
        return -1;
    if (!bench_ssl_write_all(ssl, req, sizeof(req)) ||
        !bench_ssl_read_full(ssl, resp, sizeof(resp))) {
        bench_tls_print_errors("request/response");
        bench_tls_close(ssl);
        return -1;
    }
    uint64_t t1 = bench_now_ns();
    *out_ssl = ssl;
    return (double)(t1 - t0) / 1000.0;
}

static void note_negotiated(struct bench_anchor *a, SSL *ssl)
{
    snprintf(a->cipher, sizeof(a->cipher), "%s %s", SSL_get_version(ssl), SSL_get_cipher_name(ssl));
    int nid = SSL_get_negotiated_group(ssl);
    const char *name = nid != NID_undef ? OBJ_nid2sn(nid) : NULL;
    snprintf(a->group, sizeof(a->group), "%s", name != NULL ? name : "?");
}

bool bench_anchor_connect_start(struct bench_anchor *a)
{
    struct anchor_server *s = malloc(sizeof(*s));
    if (s == NULL || !server_start(s, a, SERVE_REQUESTS, 0)) {
        free(s);
        return false;
    }
    a->session = s;
    return true;
}

bool bench_anchor_connect_once(struct bench_anchor *a, double *out_us)
{
    SSL *ssl = NULL;
    double us = client_exchange(a, &ssl);
    if (us < 0)
        return false;
    if (a->cipher[0] == '\0')
        note_negotiated(a, ssl);
    bench_tls_close(ssl);
    *out_us = us;
    return true;
}

bool bench_anchor_bulk(struct bench_anchor *a, const struct bench_params *p,
                       struct bench_figures *out)
{
    struct anchor_server srv;
    if (!server_start(&srv, a, SERVE_BULK, p->bulk_bytes))
        return false;
    unsigned char *chunk = malloc(BENCH_BULK_CHUNK);
    SSL *ssl = chunk != NULL ? client_open(a) : NULL;
    bool ok = ssl != NULL;
    if (ok)
        memset(chunk, 0xa5, BENCH_BULK_CHUNK);
    uint64_t t0 = bench_now_ns();
    for (size_t sent = 0; ok && sent < p->bulk_bytes; sent += BENCH_BULK_CHUNK) {
        size_t n =
            p->bulk_bytes - sent < BENCH_BULK_CHUNK ? p->bulk_bytes - sent : BENCH_BULK_CHUNK;
        ok = bench_ssl_write_all(ssl, chunk, n);
    }
    char ack;
    ok = ok && bench_ssl_read_full(ssl, &ack, 1);
    if (!ok)
        bench_tls_print_errors("bulk transfer");
    uint64_t t1 = atomic_load(&srv.bulk_done_ns);
    bench_tls_close(ssl);
    free(chunk);
    ok = server_stop(&srv) && ok;
    if (ok)
        out->bulk_mb_s = (double)p->bulk_bytes / ((double)(t1 - t0) / 1e9) / 1e6;
    return ok;
}

bool bench_anchor_rtt_start(struct bench_anchor *a)
{
    struct anchor_server *s = malloc(sizeof(*s));
    if (s == NULL || !server_start(s, a, SERVE_ECHO, 0)) {
        free(s);
        return false;
    }
    a->session = s;
    a->session_ssl = client_open(a);
    return a->session_ssl != NULL;
}

bool bench_anchor_rtt_once(struct bench_anchor *a, double *out_us)
{
    unsigned char msg[BENCH_SMALL_SIZE];
    unsigned char back[BENCH_SMALL_SIZE];
    memset(msg, 'e', sizeof(msg));
    uint64_t t0 = bench_now_ns();
    bool ok = bench_ssl_write_all(a->session_ssl, msg, sizeof(msg)) &&
              bench_ssl_read_full(a->session_ssl, back, sizeof(back));
    uint64_t t1 = bench_now_ns();
    if (!ok) {
        bench_tls_print_errors("echo round trip");
        return false;
    }
    *out_us = (double)(t1 - t0) / 1000.0;
    return true;
}

bool bench_anchor_session_stop(struct bench_anchor *a)
{
    /* Closing the client first ends the echo server's loop; the request server just polls. */
    bench_tls_close(a->session_ssl);
    a->session_ssl = NULL;
    if (a->session == NULL)
        return true;
    bool ok = server_stop(a->session);
    free(a->session);
    a->session = NULL;
    return ok;
}

bool bench_anchor_handshakes(struct bench_anchor *a, const struct bench_params *p,
                             struct bench_figures *out)
{
    struct anchor_server srv;
    if (!server_start(&srv, a, SERVE_REQUESTS, 0))
        return false;
    bool ok = true;
    unsigned long done = 0;
    uint64_t t0 = bench_now_ns();
    uint64_t limit = (uint64_t)(p->handshake_seconds * 1e9);
    uint64_t t1 = t0;
    while (ok && t1 - t0 < limit) {
        SSL *ssl = NULL;
        ok = client_exchange(a, &ssl) >= 0;
        /* Closing is part of this figure: a server sustains connections, not handshakes. */
        bench_tls_close(ssl);
        t1 = bench_now_ns();
        if (ok)
            done++;
    }
    ok = server_stop(&srv) && ok;
    if (ok)
        out->handshakes_per_s = (double)done / ((double)(t1 - t0) / 1e9);
    return ok;
}
