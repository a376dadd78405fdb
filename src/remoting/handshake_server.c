/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The server half of the handshake (DESIGN §4.1, docs/protocol.md): TCP connect, TLS 1.3 when
 * secure (paused on the certificate provider on the server and on the validator on the client),
 * then the HTTP/1.1 upgrade with the Bearer challenge, ending in 101 or an error response that
 * names the reason in an OpenRR-Error header. Every stage runs against the attempt's deadline.
 * Network thread only; application interfaces are called without ctx->lock held.
 */
#include "handshake.h"

#include "net.h"
#include "u_log.h"
#include "u_time.h"
#include "validation.h"

#include <errno.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define RR_MAX_REQUESTS_PER_CONN 3

/* ---- server ------------------------------------------------------------------------------ */

int rr_handshake_client_hello_cb(SSL *ssl, int *al, void *arg)
{
    struct rr_conn *conn = SSL_get_ex_data(ssl, rr_tls_conn_index());
    if (conn == NULL) {
        *al = SSL_AD_INTERNAL_ERROR;
        return 0;
    }
    struct rr_context *ctx = conn->ctx;
    if (!ctx->cert_ready) {
        return SSL_CLIENT_HELLO_RETRY; /* the certificate provider has not answered yet */
    }
    if (SSL_use_cert_and_key(ssl, ctx->cert.cert, ctx->cert.key, ctx->cert.chain, 1) != 1) {
        *al = SSL_AD_INTERNAL_ERROR;
        return 0;
    }
    return 1;
}

static const char *status_text(int code)
{
    switch (code) {
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 404:
        return "Not Found";
    case 409:
        return "Conflict";
    case 426:
        return "Upgrade Required";
    case 431:
        return "Request Header Fields Too Large";
    case 503:
        return "Service Unavailable";
    case 504:
        return "Gateway Timeout";
    default:
        return "Error";
    }
}

/* Queue an error response naming @p reason and end the attempt after it is sent. */
static bool server_refuse(struct rr_conn *conn, int code, enum rr_disconnect_reason reason,
                          const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static bool server_refuse(struct rr_conn *conn, int code, enum rr_disconnect_reason reason,
                          const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    conn->fail_reason = reason;
    vsnprintf(conn->fail_detail, sizeof(conn->fail_detail), fmt, ap);
    va_end(ap);
    /* The detail helps the client's user; it never holds a secret (it is logged as well).
     * Only printable ASCII goes into the header. */
    char safe[sizeof(conn->fail_detail)];
    size_t n = 0;
    for (const char *p = conn->fail_detail; *p && n + 1 < sizeof(safe); p++) {
        safe[n++] = (*p >= 0x20 && *p < 0x7f) ? *p : '?';
    }
    safe[n] = '\0';
    rr_hs_out_printf(conn,
                     "HTTP/1.1 %d %s\r\nConnection: close\r\nContent-Length: 0\r\n"
                     "OpenRR-Error: %s\r\nOpenRR-Error-Detail: %s\r\n\r\n",
                     code, status_text(code), rr_disconnect_reason_str(reason), safe);
    conn->stage = RR_STAGE_CLOSE_AFTER_FLUSH;
    conn->close_after_flush = true;
    return rr_handshake_step(conn, 0);
}

static bool server_challenge(struct rr_conn *conn, bool invalid_token, bool close)
{
    struct rr_context *ctx = conn->ctx;
    char realm[600];
    size_t n = 0;
    /* The realm was checked at listen time; escape quotes and backslashes anyway. */
    for (const char *p = ctx->realm; *p && n + 2 < sizeof(realm); p++) {
        if (*p == '"' || *p == '\\') {
            realm[n++] = '\\';
        }
        realm[n++] = *p;
    }
    realm[n] = '\0';
    rr_hs_out_printf(conn,
                     "HTTP/1.1 401 Unauthorized\r\nConnection: %s\r\nContent-Length: 0\r\n"
                     "%sWWW-Authenticate: Bearer realm=\"%s\"%s\r\n\r\n",
                     close ? "close" : "keep-alive",
                     close ? "OpenRR-Error: AuthenticationFailed\r\n" : "", realm,
                     invalid_token ? ", error=\"invalid_token\"" : "");
    if (close) {
        conn->fail_reason = RR_REASON_AUTHENTICATION_FAILED;
        snprintf(conn->fail_detail, sizeof(conn->fail_detail), "the client's token was rejected");
        conn->stage = RR_STAGE_CLOSE_AFTER_FLUSH;
        conn->close_after_flush = true;
    } else {
        conn->stage = RR_STAGE_HTTP_WRITE;
    }
    return rr_handshake_step(conn, 0);
}

/* Everything after authentication: role, transport, codec, capacity → 101. */
static bool server_negotiate(struct rr_conn *conn)
{
    struct rr_context *ctx = conn->ctx;
    const struct rr_http_msg *m = conn->msg;
    if (!rr_hs_parse_role(rr_http_header(m, "OpenRR-Role"), &conn->peer_role)) {
        return server_refuse(conn, 400, RR_REASON_PROTOCOL_ERROR,
                             "the client did not say its role (OpenRR-Role)");
    }
    if (conn->peer_role == ctx->cfg.role) {
        return server_refuse(conn, 409, RR_REASON_HANDSHAKE_FAILED,
                             "both sides are %ss: one must be a player, the other a remote",
                             rr_hs_role_str(ctx->cfg.role));
    }
    if (!rr_http_header_has_token(m, "OpenRR-Transports", "tcp")) {
        return server_refuse(conn, 400, RR_REASON_INCOMPATIBLE_TRANSPORT_PROTOCOLS,
                             "the client offers no transport this server supports (tcp)");
    }
    const char *theirs = rr_http_header(m, "OpenRR-Codecs");
    bool ok = theirs != NULL &&
              (ctx->cfg.role == RR_ROLE_REMOTE
                   ? rr_hs_pick_codec(ctx->cfg.codecs, theirs, conn->codec, sizeof(conn->codec))
                   : rr_hs_pick_codec(theirs, ctx->cfg.codecs, conn->codec, sizeof(conn->codec)));
    if (!ok) {
        return server_refuse(conn, 400, RR_REASON_VIDEO_CODEC_NOT_AVAILABLE,
                             "no common video codec (client: %.40s, server: %.40s)",
                             theirs ? theirs : "none", ctx->cfg.codecs);
    }
    pthread_mutex_lock(&ctx->lock);
    bool busy = ctx->connected;
    pthread_mutex_unlock(&ctx->lock);
    if (busy) {
        return server_refuse(conn, 503, RR_REASON_HANDSHAKE_FAILED,
                             "this endpoint already serves a connection");
    }
    unsigned char rnd[16];
    RAND_bytes(rnd, sizeof(rnd));
    for (int i = 0; i < 16; i++) {
        snprintf(conn->connection_id + i * 2, 3, "%02x", rnd[i]);
    }
    rr_hs_out_printf(
        conn,
        "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n"
        "Upgrade: " RR_UPGRADE_TOKEN "\r\nOpenRR-Role: %s\r\nOpenRR-Transport: tcp\r\n"
        "OpenRR-Transport-Port: %u\r\nOpenRR-Codec: %s\r\nOpenRR-Connection-Id: %s\r\n\r\n",
        rr_hs_role_str(ctx->cfg.role), (unsigned)ctx->transport_port, conn->codec,
        conn->connection_id);
    rr_hs_become_established(conn);
    rr_conn_flush(conn);
    return true;
}

static bool server_validation_done(struct rr_conn *conn)
{
    enum rr_request_state st = rr_request_state(conn->pending);
    if (st == RR_REQ_PENDING) {
        return true;
    }
    bool valid = st == RR_REQ_COMPLETED && conn->pending->valid;
    rr_request_abandon(&conn->pending);
    if (valid) {
        return server_negotiate(conn);
    }
    conn->token_attempts++;
    conn->last_token_rejected = true;
    U_LOG_I(RR_LOG_MODULE, "token from %s rejected%s", conn->peer,
            st == RR_REQ_CANCELED ? " (validation canceled)" : "");
    /* One retry on the same connection lets a client replace a stale cached token. */
    return server_challenge(conn, true, conn->token_attempts >= 2 || st == RR_REQ_CANCELED);
}

static bool server_handle_request(struct rr_conn *conn)
{
    struct rr_context *ctx = conn->ctx;
    const struct rr_http_msg *m = conn->msg;
    conn->requests++;
    if (conn->requests > RR_MAX_REQUESTS_PER_CONN) {
        return server_refuse(conn, 400, RR_REASON_HANDSHAKE_FAILED, "too many handshake requests");
    }
    if (strcmp(m->method, "GET") != 0 || strcmp(m->target, RR_HANDSHAKE_PATH) != 0) {
        return server_refuse(conn, 404, RR_REASON_HANDSHAKE_FAILED,
                             "not an OpenRR handshake request (%.10s %.40s)", m->method, m->target);
    }
    if (!rr_http_header_has_token(m, "Upgrade", RR_UPGRADE_TOKEN)) {
        const char *up = rr_http_header(m, "Upgrade");
        if (up != NULL && strncasecmp(up, "openrr-remoting/", 16) == 0) {
            return server_refuse(conn, 426, RR_REASON_REMOTING_VERSION_MISMATCH,
                                 "the client speaks %.40s; this server speaks " RR_UPGRADE_TOKEN,
                                 up);
        }
        return server_refuse(conn, 400, RR_REASON_HANDSHAKE_FAILED,
                             "the request does not ask for an " RR_UPGRADE_TOKEN " upgrade");
    }
    if (!conn->secure) {
        return server_negotiate(conn);
    }
    const char *token = rr_http_bearer_token(m);
    if (token == NULL) {
        if (conn->token_attempts > 0) {
            return server_challenge(conn, true, true);
        }
        return server_challenge(conn, false, false);
    }
    if (!rr_http_token_is_valid(token)) {
        conn->token_attempts++;
        conn->last_token_rejected = true;
        return server_challenge(conn, true, conn->token_attempts >= 2);
    }
    struct rr_request *req = rr_request_create(RR_REQ_TOKEN_VALIDATION, ctx->waker);
    if (req == NULL) {
        return server_refuse(conn, 503, RR_REASON_INTERNAL_ERROR, "out of memory");
    }
    conn->pending = req;
    conn->stage = RR_STAGE_WAIT_VALIDATION;
    ctx->auth_receiver->validate_token(ctx->auth_receiver, token,
                                       (struct rr_token_validation *)req);
    return server_validation_done(conn);
}

static bool looks_like_tls(const uint8_t *p, size_t n)
{
    return n >= 2 && p[0] == 0x16 && p[1] == 0x03;
}

static bool server_read_request(struct rr_conn *conn)
{
    rr_conn_read(conn, RR_MAX_HANDSHAKE_SIZE);
    enum rr_http_status st =
        rr_http_parse(u_buf_head(&conn->in), u_buf_len(&conn->in), false, conn->msg);
    switch (st) {
    case RR_HTTP_INCOMPLETE:
        if (conn->eof) {
            if (conn->last_token_rejected) {
                rr_conn_fail(conn, RR_REASON_AUTHENTICATION_FAILED,
                             "the client left after its token was rejected");
            } else {
                rr_conn_fail(conn, RR_REASON_HANDSHAKE_CONNECTION_FAILED,
                             "the client closed the connection during the handshake");
            }
            return false;
        }
        return true;
    case RR_HTTP_TOO_LARGE:
        return server_refuse(conn, 431, RR_REASON_PROTOCOL_ERROR,
                             "handshake request larger than %d bytes or with more than %d headers",
                             RR_MAX_HANDSHAKE_SIZE, RR_HTTP_MAX_HEADERS);
    case RR_HTTP_MALFORMED:
        if (looks_like_tls(u_buf_head(&conn->in), u_buf_len(&conn->in))) {
            return server_refuse(conn, 400, RR_REASON_HANDSHAKE_CONNECTION_FAILED,
                                 "a TLS client connected to this plain listener "
                                 "(listen with -secureconnection or connect without it)");
        }
        return server_refuse(conn, 400, RR_REASON_PROTOCOL_ERROR, "malformed handshake request");
    case RR_HTTP_COMPLETE:
        u_buf_consume(&conn->in, conn->msg->length);
        return server_handle_request(conn);
    }
    return false;
}

static bool server_tls_step(struct rr_conn *conn)
{
    ERR_clear_error();
    int r = SSL_accept(conn->ssl);
    if (r == 1) {
        conn->stage = RR_STAGE_HTTP_READ;
        return server_read_request(conn);
    }
    int e = SSL_get_error(conn->ssl, r);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_CLIENT_HELLO_CB) {
        return true;
    }
    if (e == SSL_ERROR_WANT_WRITE) {
        conn->ssl_want_write = true;
        return true;
    }
    char err[120];
    rr_tls_error_string(err, sizeof(err), "connection closed");
    bool plain = strstr(err, "http request") != NULL || strstr(err, "wrong version") != NULL;
    rr_conn_fail(conn, RR_REASON_HANDSHAKE_CONNECTION_FAILED, "TLS handshake failed: %s%s", err,
                 plain ? " (a plain client connected to this secure listener)" : "");
    return false;
}

bool rr_hs_server_step(struct rr_conn *conn)
{
    switch (conn->stage) {
    case RR_STAGE_TLS:
        if (!conn->ctx->cert_ready) {
            return true;
        }
        return server_tls_step(conn);
    case RR_STAGE_HTTP_READ:
        return server_read_request(conn);
    case RR_STAGE_WAIT_VALIDATION:
        return server_validation_done(conn);
    case RR_STAGE_HTTP_WRITE:
    case RR_STAGE_CLOSE_AFTER_FLUSH:
        if (!rr_conn_flush(conn)) {
            if (!conn->close_after_flush) {
                rr_conn_fail(conn, RR_REASON_HANDSHAKE_CONNECTION_FAILED,
                             "the client closed the connection during the handshake");
            }
            return false;
        }
        if (rr_conn_has_unsent(conn)) {
            return true;
        }
        if (conn->close_after_flush) {
            if (conn->ssl != NULL) {
                SSL_shutdown(conn->ssl);
                rr_conn_flush(conn); /* the close_notify sits in the write buffer */
                ERR_clear_error();
            }
            return false;
        }
        conn->stage = RR_STAGE_HTTP_READ;
        return server_read_request(conn);
    default:
        return true;
    }
}
