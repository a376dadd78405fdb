/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The handshake (DESIGN §4.1, docs/protocol.md): TCP connect, TLS 1.3 when secure (paused on
 * the certificate provider on the server and on the validator on the client), then the HTTP/1.1
 * upgrade with the Bearer challenge, ending in 101 or an error response that names the
 * reason in an OpenRR-Error header. Every stage runs against the attempt's deadline.
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

const char *rr_hs_role_str(enum rr_role r)
{
    return r == RR_ROLE_PLAYER ? "player" : "remote";
}

bool rr_hs_parse_role(const char *s, enum rr_role *out)
{
    if (s != NULL && strcasecmp(s, "player") == 0) {
        *out = RR_ROLE_PLAYER;
        return true;
    }
    if (s != NULL && strcasecmp(s, "remote") == 0) {
        *out = RR_ROLE_REMOTE;
        return true;
    }
    return false;
}

/* Next item of a comma/space separated list: *p advances past it; false at the end. */
static bool next_item(const char **p, const char **out_start, size_t *out_len)
{
    const char *s = *p;
    while (*s == ' ' || *s == ',') {
        s++;
    }
    const char *e = s;
    while (*e && *e != ',' && *e != ' ') {
        e++;
    }
    *p = e;
    *out_start = s;
    *out_len = (size_t)(e - s);
    return e != s;
}

/* Does comma-separated @p list contain @p item (case-insensitive)? */
bool rr_hs_list_has(const char *list, const char *item)
{
    size_t n = strlen(item), len;
    const char *start;
    while (list != NULL && next_item(&list, &start, &len)) {
        if (len == n && strncasecmp(start, item, n) == 0) {
            return true;
        }
    }
    return false;
}

/* First entry of @p pref that @p other also lists; false when none. */
bool rr_hs_pick_codec(const char *pref, const char *other, char *out, size_t size)
{
    size_t len;
    const char *start;
    while (pref != NULL && next_item(&pref, &start, &len)) {
        char item[16];
        if (len < sizeof(item)) {
            memcpy(item, start, len);
            item[len] = '\0';
            if (rr_hs_list_has(other, item)) {
                snprintf(out, size, "%s", item);
                return true;
            }
        }
    }
    return false;
}

bool rr_hs_out_printf(struct rr_conn *conn, const char *fmt, ...)
{
    char line[RR_MAX_TOKEN_SIZE + 512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    bool ok = n >= 0 && (size_t)n < sizeof(line) &&
              u_buf_append(&conn->out, line, (size_t)n, RR_MAX_HANDSHAKE_SIZE * 2);
    OPENSSL_cleanse(line, sizeof(line)); /* may hold a token */
    return ok;
}

/* ---- established ------------------------------------------------------------------------ */

static void fill_info(struct rr_conn *conn)
{
    struct rr_context *ctx = conn->ctx;
    struct rr_connection_info *info = &ctx->info;
    /* Validation fields were filled when the chain was judged; keep them. */
    struct rr_certificate_validation_result sys = info->system_validation;
    struct rr_certificate_validation_result fin = info->final_validation;
    bool has_validation = info->has_validation;
    memset(info, 0, sizeof(*info));
    info->has_validation = has_validation;
    info->system_validation = sys;
    info->final_validation = fin;
    info->secure = conn->secure;
    info->peer_role = conn->peer_role;
    snprintf(info->peer_address, sizeof(info->peer_address), "%s", conn->peer);
    if (conn->ssl != NULL) {
        snprintf(info->tls_version, sizeof(info->tls_version), "%s", SSL_get_version(conn->ssl));
        snprintf(info->tls_cipher, sizeof(info->tls_cipher), "%s", SSL_get_cipher_name(conn->ssl));
        X509 *peer = SSL_get0_peer_certificate(conn->ssl);
        if (peer != NULL) {
            rr_cert_fingerprint_x509(peer, info->peer_certificate_sha256);
        }
        if (conn->is_server) {
            snprintf(info->local_certificate_sha256, sizeof(info->local_certificate_sha256), "%s",
                     ctx->cert.fingerprint);
        }
    }
    snprintf(info->codec, sizeof(info->codec), "%s", conn->codec);
    snprintf(info->transport, sizeof(info->transport), "tcp");
    info->transport_port = ctx->transport_port;
    snprintf(info->connection_id, sizeof(info->connection_id), "%s", conn->connection_id);
    info->token_from_cache = conn->sent_cached_token;
    info->handshake_us = u_time_us() - conn->start_us;
}

void rr_hs_become_established(struct rr_conn *conn)
{
    struct rr_context *ctx = conn->ctx;
    uint64_t now = u_time_ms();
    conn->stage = RR_STAGE_ESTABLISHED;
    conn->last_rx_ms = now;
    /* The first keepalive goes out at once: it measures the round trip right away. */
    conn->last_ping_ms = now - conn->ctx->cfg.keepalive_interval_ms;
    conn->last_tx_ms = now;
    pthread_mutex_lock(&ctx->lock);
    fill_info(conn);
    ctx->have_info = true;
    memset(&ctx->stats, 0, sizeof(ctx->stats));
    memset(ctx->channel_seen, 0, sizeof(ctx->channel_seen));
    ctx->connected = true;
    ctx->fast_conn = conn;
    ctx->state = RR_STATE_CONNECTED;
    struct rr_connection_info info = ctx->info;
    pthread_mutex_unlock(&ctx->lock);
    rr_builtin_on_connected(ctx, &info);
    U_LOG_I(RR_LOG_MODULE, "connected to %s (%s, %s)", conn->peer,
            conn->secure ? "secure" : "plain", rr_hs_role_str(conn->peer_role));
}

bool rr_handshake_step(struct rr_conn *conn, short revents)
{
    if (conn->stage == RR_STAGE_ESTABLISHED) {
        return true;
    }
    if (u_time_ms() >= conn->deadline_ms) {
        const char *what = "the peer";
        switch (conn->stage) {
        case RR_STAGE_TCP_CONNECT:
            what = "the TCP connection";
            break;
        case RR_STAGE_TLS:
            what = conn->is_server ? (conn->ctx->cert_ready ? "the client's TLS handshake"
                                                            : "the certificate provider")
                                   : (conn->validation_started && !conn->validation_done
                                          ? "the certificate validation"
                                          : "the server's TLS handshake");
            break;
        case RR_STAGE_WAIT_TOKEN:
            what = "the authentication provider";
            break;
        case RR_STAGE_WAIT_VALIDATION:
            what = "the token validator";
            break;
        case RR_STAGE_HTTP_READ:
            what = conn->is_server ? "the client's handshake request" : "the server's answer";
            break;
        default:
            break;
        }
        if (conn->is_server && conn->stage == RR_STAGE_WAIT_VALIDATION) {
            /* Tell the client why, so both sides report the same reason. */
            rr_hs_out_printf(
                conn, "HTTP/1.1 504 Gateway Timeout\r\nConnection: close\r\nContent-Length: 0\r\n"
                      "OpenRR-Error: RemotingHandshakeTimeout\r\n\r\n");
            rr_conn_flush(conn);
        }
        rr_conn_fail(conn, RR_REASON_REMOTING_HANDSHAKE_TIMEOUT,
                     "handshake not finished within %u ms (waiting for %s)",
                     (unsigned)conn->ctx->cfg.handshake_timeout_ms, what);
        return false;
    }
    return conn->is_server ? rr_hs_server_step(conn) : rr_hs_client_step(conn, revents);
}
