/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One connection's socket and TLS I/O, and the established record stream: parse records,
 * dispatch messages, write one record at a time from the priority scheduler (so a high
 * priority message waits behind at most one record), keepalive and peer timeout, and the
 * orderly close. Network thread only.
 */
#include "context.h"

#include "u_log.h"
#include "u_time.h"

#include <errno.h>
#include <openssl/err.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Input kept buffered while established: a few whole records. */
#define RR_CONN_IN_LIMIT (4u * (RR_RECORD_HEADER_SIZE + RR_MAX_RECORD_PAYLOAD) + 65536u)
#define RR_CONN_READ_CHUNK 65536u
/* Bytes of TLS records gathered before one write to the socket. */
#define RR_CONN_WRITE_BATCH 65536
/* After the flush deadline of a disconnect, how long the DISCONNECT itself may take. */
#define RR_CONN_CLOSE_GRACE_MS 500u
/* How long a closing side waits for the peer to close after our last message. */
#define RR_CONN_DRAIN_MS 250u

struct rr_conn *rr_conn_create(struct rr_context *ctx, int fd, bool is_server, bool secure)
{
    struct rr_conn *c = calloc(1, sizeof(*c));
    if (c == NULL) {
        return NULL;
    }
    c->msg = malloc(sizeof(*c->msg));
    if (c->msg == NULL) {
        free(c);
        return NULL;
    }
    c->ctx = ctx;
    pthread_mutex_init(&c->io_lock, NULL);
    c->fd = fd;
    c->is_server = is_server;
    c->secure = secure;
    c->start_us = u_time_us();
    c->deadline_ms = u_time_ms() + ctx->cfg.handshake_timeout_ms;
    /* Built-in channels carry keyframes whatever the data-channel limit is. */
    rr_record_reader_init(&c->reader, ctx->cfg.max_message_size > RR_MAX_BUILTIN_MESSAGE
                                          ? ctx->cfg.max_message_size
                                          : RR_MAX_BUILTIN_MESSAGE);
    if (secure) {
        c->ssl = SSL_new(is_server ? ctx->server_tls : ctx->client_tls);
        if (c->ssl == NULL || !rr_conn_set_socket(c, fd)) {
            c->fd = -1; /* the caller still owns fd on failure */
            rr_conn_destroy(&c);
            return NULL;
        }
        SSL_set_ex_data(c->ssl, rr_tls_conn_index(), c);
    }
    return c;
}

bool rr_conn_set_socket(struct rr_conn *conn, int fd)
{
    if (conn->ssl == NULL || fd < 0) {
        return true;
    }
    /* TLS records go through a write buffer that write_output() flushes once per batch: one
     * system call for several records instead of one each. The scheduler still picks one
     * record at a time, so priorities are unaffected. */
    BIO *rb = BIO_new_socket(fd, BIO_NOCLOSE);
    BIO *sock = BIO_new_socket(fd, BIO_NOCLOSE);
    BIO *buf = BIO_new(BIO_f_buffer());
    if (rb == NULL || sock == NULL || buf == NULL ||
        BIO_set_write_buffer_size(buf, RR_CONN_WRITE_BATCH) != 1) {
        BIO_free(rb);
        BIO_free(sock);
        BIO_free(buf);
        return false;
    }
    BIO_push(buf, sock);
    SSL_set_bio(conn->ssl, rb, buf);
    return true;
}

void rr_conn_destroy(struct rr_conn **conn_ptr)
{
    struct rr_conn *c = *conn_ptr;
    *conn_ptr = NULL;
    if (c == NULL) {
        return;
    }
    rr_request_abandon(&c->pending);
    rr_request_abandon(&c->sysval);
    if (c->ai_list != NULL) {
        freeaddrinfo(c->ai_list);
    }
    if (c->ssl != NULL) {
        SSL_free(c->ssl);
    }
    if (c->fd >= 0) {
        close(c->fd);
    }
    u_buf_free(&c->in);
    u_buf_free(&c->out);
    rr_record_reader_fini(&c->reader);
    if (c->token != NULL) {
        OPENSSL_cleanse(c->token, strlen(c->token));
        free(c->token);
    }
    if (c->msg != NULL) {
        /* The raw head may have carried a token. */
        OPENSSL_cleanse(c->msg, sizeof(*c->msg));
        free(c->msg);
    }
    free(c->chain_blob);
    free(c->chain_certs);
    sk_X509_pop_free(c->chain_x509, X509_free);
    pthread_mutex_destroy(&c->io_lock);
    free(c);
}

void rr_conn_fail(struct rr_conn *conn, enum rr_disconnect_reason reason, const char *fmt, ...)
{
    conn->fail_reason = reason;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(conn->fail_detail, sizeof(conn->fail_detail), fmt, ap);
    va_end(ap);
}

ssize_t rr_conn_read(struct rr_conn *conn, size_t limit)
{
    size_t have = u_buf_len(&conn->in);
    if (have >= limit) {
        return 0;
    }
    size_t want = limit - have < RR_CONN_READ_CHUNK ? limit - have : RR_CONN_READ_CHUNK;
    uint8_t *dst = u_buf_reserve(&conn->in, want, limit);
    if (dst == NULL) {
        conn->eof = true;
        return -1;
    }
    if (conn->ssl != NULL) {
        /* The error queue is kept empty (every failure path clears it), so it is not cleared
         * before each call: that costs a thread-local lookup per record. */
        int n = SSL_read(conn->ssl, dst, (int)want);
        if (n > 0) {
            u_buf_commit(&conn->in, (size_t)n);
            return n;
        }
        int e = SSL_get_error(conn->ssl, n);
        if (e == SSL_ERROR_WANT_READ) {
            return 0;
        }
        if (e == SSL_ERROR_WANT_WRITE) {
            conn->ssl_want_write = true;
            return 0;
        }
        ERR_clear_error();
        conn->eof = true;
        return -1;
    }
    ssize_t n = recv(conn->fd, dst, want, 0);
    if (n > 0) {
        u_buf_commit(&conn->in, (size_t)n);
        return n;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
        return 0;
    }
    conn->eof = true;
    return -1;
}

/* Push the TLS write buffer to the socket. False on a fatal error. */
static bool push_tls(struct rr_conn *conn)
{
    if (conn->ssl == NULL) {
        return true;
    }
    BIO *w = SSL_get_wbio(conn->ssl);
    if (w == NULL || BIO_wpending(w) == 0) {
        return true;
    }
    if (BIO_flush(w) > 0) {
        return true;
    }
    if (BIO_should_retry(w)) {
        conn->ssl_want_write = true;
        return true;
    }
    return false;
}

bool rr_conn_has_unsent(struct rr_conn *conn)
{
    if (u_buf_len(&conn->out) > 0 || conn->ssl_want_write) {
        return true;
    }
    BIO *w = conn->ssl != NULL ? SSL_get_wbio(conn->ssl) : NULL;
    return w != NULL && BIO_wpending(w) > 0;
}

bool rr_conn_flush(struct rr_conn *conn)
{
    return rr_conn_write(conn) && push_tls(conn);
}

bool rr_conn_write(struct rr_conn *conn)
{
    conn->ssl_want_write = false;
    while (u_buf_len(&conn->out) > 0) {
        size_t len = u_buf_len(&conn->out);
        if (conn->ssl != NULL) {
            int n = SSL_write(conn->ssl, u_buf_head(&conn->out),
                              (int)(len > INT32_MAX ? INT32_MAX : len));
            if (n > 0) {
                u_buf_consume(&conn->out, (size_t)n);
                continue;
            }
            int e = SSL_get_error(conn->ssl, n);
            if (e == SSL_ERROR_WANT_WRITE) {
                conn->ssl_want_write = true;
                return true;
            }
            if (e == SSL_ERROR_WANT_READ) {
                return true;
            }
            ERR_clear_error();
            return false;
        }
        ssize_t n = send(conn->fd, u_buf_head(&conn->out), len, MSG_NOSIGNAL);
        if (n > 0) {
            u_buf_consume(&conn->out, (size_t)n);
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
            conn->ssl_want_write = true;
            return true;
        }
        return false;
    }
    return true;
}

short rr_conn_poll_events(struct rr_conn *conn)
{
    short ev = 0;
    switch (conn->stage) {
    case RR_STAGE_TCP_CONNECT:
        return POLLOUT;
    case RR_STAGE_WAIT_TOKEN:
    case RR_STAGE_WAIT_VALIDATION:
        ev = 0;
        break;
    case RR_STAGE_TLS:
        if (conn->pending != NULL || conn->sysval != NULL ||
            (conn->is_server && !conn->ctx->cert_ready)) {
            ev = 0; /* paused on a request: the waker or the deadline resumes it */
        } else {
            ev = POLLIN;
        }
        break;
    case RR_STAGE_ESTABLISHED: {
        pthread_mutex_lock(&conn->ctx->lock);
        bool paused = conn->ctx->reading_paused;
        bool queued = conn->ctx->queued_total > 0;
        pthread_mutex_unlock(&conn->ctx->lock);
        ev = paused ? 0 : POLLIN;
        pthread_mutex_lock(&conn->io_lock); /* a direct send may have left bytes behind */
        if (queued || rr_conn_has_unsent(conn)) {
            ev |= POLLOUT;
        }
        pthread_mutex_unlock(&conn->io_lock);
        return ev;
    }
    default:
        ev = POLLIN;
        break;
    }
    if (rr_conn_has_unsent(conn)) {
        ev |= POLLOUT;
    }
    return ev;
}

/* Frame and queue our DISCONNECT at once (ahead of queued data) and try to send it. */
static void send_disconnect_now(struct rr_conn *conn, enum rr_disconnect_reason reason)
{
    struct rr_ctrl_msg m = {.type = RR_CTRL_DISCONNECT, .reason = (uint8_t)reason};
    uint8_t rec[RR_RECORD_HEADER_SIZE + RR_CTRL_MAX_SIZE];
    size_t n = rr_ctrl_encode(&m, rec + RR_RECORD_HEADER_SIZE);
    rr_record_write_header(rec, RR_CHANNEL_CONTROL, RR_RECORD_FLAG_FIRST | RR_RECORD_FLAG_LAST,
                           (uint32_t)n);
    if (u_buf_append(&conn->out, rec, RR_RECORD_HEADER_SIZE + n, SIZE_MAX / 2)) {
        rr_conn_flush(conn);
    }
}

static void shutdown_tls(struct rr_conn *conn)
{
    if (conn->ssl != NULL) {
        ERR_clear_error();
        SSL_shutdown(conn->ssl); /* send close_notify; do not wait for the peer's */
        push_tls(conn);          /* a warning alert is not flushed by OpenSSL itself */
        ERR_clear_error();
    }
}

/* After our last message: half-close, then read and discard until the peer closes too (it
 * does as soon as it has read our DISCONNECT), for at most RR_CONN_DRAIN_MS. Closing a socket
 * with unread data makes the kernel send a reset, and a reset can overtake the DISCONNECT
 * still in the peer's receive buffer: the peer would report ConnectionLost instead of the
 * reason we sent — likely whenever the peer streams video at us. */
static void drain_before_close(struct rr_conn *conn)
{
    if (conn->fd < 0 || shutdown(conn->fd, SHUT_WR) != 0) {
        return;
    }
    uint64_t until = u_time_ms() + RR_CONN_DRAIN_MS;
    uint8_t sink[16384];
    for (uint64_t now = u_time_ms(); now < until; now = u_time_ms()) {
        struct pollfd pfd = {.fd = conn->fd, .events = POLLIN};
        if (poll(&pfd, 1, (int)(until - now)) <= 0) {
            break;
        }
        ssize_t n = recv(conn->fd, sink, sizeof(sink), MSG_DONTWAIT);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
            break;
        }
    }
}

/* End the established connection with @p reason (already decided) and report it. */
static bool end_connection(struct rr_conn *conn, enum rr_disconnect_reason reason,
                           const char *detail)
{
    shutdown_tls(conn);
    conn->stage = RR_STAGE_CLOSED;
    rr_ctx_connection_ended(conn->ctx, reason, detail);
    return false;
}

/* As end_connection, after our DISCONNECT went out: let the peer read it before we close. */
static bool end_orderly(struct rr_conn *conn, enum rr_disconnect_reason reason, const char *detail)
{
    shutdown_tls(conn);
    drain_before_close(conn);
    conn->stage = RR_STAGE_CLOSED;
    rr_ctx_connection_ended(conn->ctx, reason, detail);
    return false;
}

static bool protocol_error(struct rr_conn *conn, const char *why)
{
    U_LOG_W(RR_LOG_MODULE, "protocol error from %s: %s", conn->peer, why);
    send_disconnect_now(conn, RR_REASON_PROTOCOL_ERROR);
    return end_orderly(conn, RR_REASON_PROTOCOL_ERROR, why);
}

static bool queue_control(struct rr_conn *conn, const struct rr_ctrl_msg *m)
{
    pthread_mutex_lock(&conn->ctx->lock);
    bool ok = rr_channel_queue_control_locked(conn->ctx, m);
    pthread_mutex_unlock(&conn->ctx->lock);
    return ok;
}

/* Handle one control message. Returns false when the connection ended. */
static bool on_control(struct rr_conn *conn, const uint8_t *data, size_t size)
{
    struct rr_ctrl_msg m;
    char why[160];
    if (!rr_ctrl_parse(data, size, &m)) {
        snprintf(why, sizeof(why), "malformed control message (type %u, %zu bytes)",
                 size ? data[0] : 0u, size);
        return protocol_error(conn, why);
    }
    switch (m.type) {
    case RR_CTRL_KEEPALIVE: {
        struct rr_ctrl_msg ack = {.type = RR_CTRL_KEEPALIVE_ACK, .timestamp = m.timestamp};
        queue_control(conn, &ack);
        return true;
    }
    case RR_CTRL_KEEPALIVE_ACK: {
        uint64_t now = u_time_us();
        if (m.timestamp <= now) {
            pthread_mutex_lock(&conn->ctx->lock);
            conn->ctx->stats.rtt_us = (uint32_t)(now - m.timestamp);
            pthread_mutex_unlock(&conn->ctx->lock);
        }
        return true;
    }
    case RR_CTRL_DISCONNECT: {
        enum rr_disconnect_reason r = (enum rr_disconnect_reason)m.reason;
        if (m.reason >= RR_REASON_COUNT || r == RR_REASON_DISCONNECT_REQUEST ||
            r == RR_REASON_NONE) {
            r = RR_REASON_PEER_DISCONNECT_REQUEST;
        }
        snprintf(why, sizeof(why), "the peer disconnected (%s)",
                 rr_disconnect_reason_str(
                     (enum rr_disconnect_reason)(m.reason < RR_REASON_COUNT ? m.reason : 1)));
        return end_connection(conn, r, why);
    }
    default:
        if (!rr_channel_on_control(conn->ctx, conn, &m, why, sizeof(why))) {
            return protocol_error(conn, why);
        }
        return true;
    }
}

/* Parse and dispatch every whole record in conn->in. Returns false when the connection ended. */
static bool process_input(struct rr_conn *conn)
{
    struct rr_context *ctx = conn->ctx;
    uint64_t records = 0, bytes = 0;
    bool alive = true;
    while (alive) {
        struct rr_record_header h;
        size_t avail = u_buf_len(&conn->in);
        enum rr_record_status st = rr_record_parse_header(u_buf_head(&conn->in), avail, &h);
        if (st == RR_RECORD_INCOMPLETE) {
            break;
        }
        if (st == RR_RECORD_BAD) {
            char why[128];
            const uint8_t *p = u_buf_head(&conn->in);
            snprintf(why, sizeof(why),
                     "bad record header (channel %u, flags 0x%02x, length %u; limit %u)", p[0],
                     p[1],
                     (unsigned)((uint32_t)p[4] << 24 | (uint32_t)p[5] << 16 | (uint32_t)p[6] << 8 |
                                p[7]),
                     (unsigned)RR_MAX_RECORD_PAYLOAD);
            return protocol_error(conn, why);
        }
        if (avail < RR_RECORD_HEADER_SIZE + h.length) {
            break;
        }
        const uint8_t *payload = u_buf_head(&conn->in) + RR_RECORD_HEADER_SIZE;
        if (h.channel > RR_CHANNEL_BUILTIN_LAST) {
            char why[96];
            snprintf(why, sizeof(why), "record on unknown channel %u", h.channel);
            return protocol_error(conn, why);
        }
        if (h.channel <= RR_CHANNEL_DATA_MAX && (h.flags & RR_RECORD_FLAG_FIRST) != 0) {
            pthread_mutex_lock(&ctx->lock);
            bool known = ctx->channel_seen[h.channel];
            pthread_mutex_unlock(&ctx->lock);
            if (!known) {
                char why[96];
                snprintf(why, sizeof(why), "data on channel %u, which was never opened", h.channel);
                return protocol_error(conn, why);
            }
        }
        const uint8_t *msg = NULL;
        size_t msg_len = 0;
        const char *rwhy = NULL;
        if (rr_record_reader_push(&conn->reader, &h, payload, &msg, &msg_len, &rwhy) !=
            RR_RECORD_OK) {
            return protocol_error(conn, rwhy);
        }
        records++;
        bytes += RR_RECORD_HEADER_SIZE + h.length;
        if (msg != NULL) {
            if (h.channel == RR_CHANNEL_CONTROL) {
                alive = on_control(conn, msg, msg_len);
            } else if (h.channel > RR_CHANNEL_CONTROL) {
                if (!rr_builtin_on_message(ctx, h.channel, msg, msg_len)) {
                    char why[96];
                    snprintf(why, sizeof(why), "record on built-in channel %u, which is not in use",
                             h.channel);
                    return protocol_error(conn, why);
                }
            } else if (msg_len > ctx->cfg.max_message_size) {
                return protocol_error(conn, "data-channel message larger than the limit");
            } else {
                char why[160];
                if (!rr_channel_on_data(ctx, h.channel, msg, msg_len, why, sizeof(why))) {
                    return protocol_error(conn, why);
                }
            }
        }
        if (alive) {
            u_buf_consume(&conn->in, RR_RECORD_HEADER_SIZE + h.length);
        }
    }
    pthread_mutex_lock(&ctx->lock);
    ctx->stats.records_received += records;
    ctx->stats.bytes_received += bytes;
    pthread_mutex_unlock(&ctx->lock);
    return alive;
}

/* Write queued records, one at a time. Returns false on a write error. */
static bool write_output(struct rr_conn *conn)
{
    struct rr_context *ctx = conn->ctx;
    for (;;) {
        if (u_buf_len(&conn->out) > 0) {
            if (!rr_conn_write(conn)) {
                return false;
            }
            if (u_buf_len(&conn->out) > 0) {
                return true; /* socket full */
            }
        }
        pthread_mutex_lock(&ctx->lock);
        bool got = rr_channel_next_record_locked(ctx, &conn->out);
        pthread_mutex_unlock(&ctx->lock);
        if (!got) {
            return push_tls(conn);
        }
        conn->last_tx_ms = u_time_ms();
    }
}

static bool queues_empty(struct rr_context *ctx)
{
    pthread_mutex_lock(&ctx->lock);
    bool empty = ctx->queued_total == 0;
    pthread_mutex_unlock(&ctx->lock);
    return empty;
}

void rr_conn_begin_close(struct rr_conn *conn, enum rr_disconnect_reason local_reason)
{
    if (conn->closing) {
        return;
    }
    conn->closing = true;
    conn->closing_reason = local_reason;
    conn->close_deadline_ms = u_time_ms() + 1000;
}

/* Drive an orderly close. Returns false once the connection is closed. */
static bool close_step(struct rr_conn *conn, uint64_t now)
{
    struct rr_context *ctx = conn->ctx;
    if (!conn->disconnect_queued && (queues_empty(ctx) || now >= conn->close_deadline_ms)) {
        pthread_mutex_lock(&ctx->lock);
        if (now >= conn->close_deadline_ms) {
            rr_channel_clear_queues_locked(ctx);
        }
        struct rr_ctrl_msg m = {.type = RR_CTRL_DISCONNECT, .reason = RR_REASON_DISCONNECT_REQUEST};
        rr_channel_queue_control_locked(ctx, &m);
        pthread_mutex_unlock(&ctx->lock);
        conn->disconnect_queued = true;
        write_output(conn);
    }
    if (conn->disconnect_queued && queues_empty(ctx) && !rr_conn_has_unsent(conn)) {
        return end_orderly(conn, conn->closing_reason, "");
    }
    if (now >= conn->close_deadline_ms + RR_CONN_CLOSE_GRACE_MS) {
        return end_connection(conn, conn->closing_reason, "closed before the peer took all data");
    }
    return true;
}

bool rr_conn_established_step(struct rr_conn *conn, short revents)
{
    struct rr_context *ctx = conn->ctx;
    uint64_t now = u_time_ms();

    /* Bytes that came with the handshake response, or were left while reading was paused. */
    if (u_buf_len(&conn->in) > 0 && !process_input(conn)) {
        return false;
    }
    /* Read only when the socket said so (or TLS holds decrypted bytes): a read that would
     * block is a wasted system call on every pass of a busy sender. */
    bool readable = (revents & (POLLIN | POLLERR | POLLHUP)) != 0 ||
                    (conn->ssl != NULL && SSL_has_pending(conn->ssl));
    /* Read while the application keeps up with the events. */
    for (int rounds = 0; readable && rounds < 64; rounds++) {
        pthread_mutex_lock(&ctx->lock);
        bool paused = ctx->reading_paused;
        pthread_mutex_unlock(&ctx->lock);
        if (paused) {
            /* We stopped reading, not the peer its sending: no timeout for that. */
            conn->last_rx_ms = now;
            break;
        }
        ssize_t n = rr_conn_read(conn, RR_CONN_IN_LIMIT);
        if (n > 0) {
            conn->last_rx_ms = now;
        }
        if (!process_input(conn)) {
            return false;
        }
        if (n <= 0) {
            break;
        }
    }
    if (conn->eof) {
        return end_connection(
            conn, conn->closing ? conn->closing_reason : RR_REASON_CONNECTION_LOST,
            conn->closing ? "" : "the connection was closed or reset without a disconnect message");
    }
    if (!write_output(conn)) {
        return end_connection(conn, RR_REASON_CONNECTION_LOST, "write to the peer failed");
    }
    if (conn->closing) {
        return close_step(conn, now);
    }
    if (now - conn->last_rx_ms >= ctx->cfg.peer_timeout_ms) {
        char why[96];
        snprintf(why, sizeof(why), "nothing received from the peer for %u ms",
                 (unsigned)ctx->cfg.peer_timeout_ms);
        return end_connection(conn, RR_REASON_PEER_DISCONNECT_TIMEOUT, why);
    }
    if (now - conn->last_ping_ms >= ctx->cfg.keepalive_interval_ms) {
        struct rr_ctrl_msg m = {.type = RR_CTRL_KEEPALIVE, .timestamp = u_time_us()};
        conn->last_ping_ms = now;
        queue_control(conn, &m);
        if (!write_output(conn)) {
            return end_connection(conn, RR_REASON_CONNECTION_LOST, "write to the peer failed");
        }
    }
    return true;
}

uint64_t rr_conn_next_timer(struct rr_conn *conn)
{
    struct rr_context *ctx = conn->ctx;
    if (conn->stage != RR_STAGE_ESTABLISHED) {
        return conn->deadline_ms;
    }
    if (conn->closing) {
        return conn->close_deadline_ms;
    }
    if (conn->ssl != NULL && SSL_has_pending(conn->ssl)) {
        /* Records already buffered by TLS: the socket will not say so. */
        pthread_mutex_lock(&ctx->lock);
        bool paused = ctx->reading_paused;
        pthread_mutex_unlock(&ctx->lock);
        if (!paused) {
            return 0;
        }
    }
    uint64_t a = conn->last_ping_ms + ctx->cfg.keepalive_interval_ms;
    uint64_t b = conn->last_rx_ms + ctx->cfg.peer_timeout_ms;
    return a < b ? a : b;
}
