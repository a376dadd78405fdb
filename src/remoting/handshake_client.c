/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The client half of the handshake (DESIGN §4.1, docs/protocol.md): TCP connect, TLS 1.3 when
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

/* Per-fetch bound for CRL/OCSP during system validation. */
#define RR_REVOCATION_TIMEOUT_S 3

/* ---- client ------------------------------------------------------------------------------ */

static bool client_try_next_address(struct rr_conn *conn, int *err)
{
    while (conn->ai_next != NULL) {
        struct addrinfo *ai = conn->ai_next;
        conn->ai_next = ai->ai_next;
        int fd = rr_net_connect_start(ai);
        if (fd < 0) {
            *err = errno;
            continue;
        }
        if (conn->fd >= 0) {
            close(conn->fd);
        }
        conn->fd = fd;
        if (conn->ssl != NULL && !rr_conn_set_socket(conn, fd)) {
            *err = ENOMEM;
            return false;
        }
        return true;
    }
    return false;
}

struct rr_conn *rr_handshake_client_start(struct rr_context *ctx)
{
    struct addrinfo *res = NULL;
    int gai = rr_net_resolve(ctx->host, ctx->port, false, &res);
    if (gai != 0) {
        char d[192];
        snprintf(d, sizeof(d), "cannot resolve '%.100s': %s", ctx->host, gai_strerror(gai));
        rr_ctx_operation_failed(ctx,
                                gai == EAI_NONAME || gai == EAI_AGAIN
                                    ? RR_REASON_HANDSHAKE_UNREACHABLE
                                    : RR_REASON_HANDSHAKE_NETWORK_UNREACHABLE,
                                d);
        return NULL;
    }
    struct rr_conn *conn = rr_conn_create(ctx, -1, false, ctx->secure);
    if (conn == NULL) {
        freeaddrinfo(res);
        rr_ctx_operation_failed(ctx, RR_REASON_INTERNAL_ERROR, "out of memory");
        return NULL;
    }
    conn->ai_list = res;
    conn->ai_next = res;
    conn->start_us = ctx->op_start_us; /* the application's connect, not this later moment */
    int err = ECONNREFUSED;
    if (!client_try_next_address(conn, &err)) {
        char d[192];
        snprintf(d, sizeof(d), "cannot connect to %.100s port %u: %s", ctx->host,
                 (unsigned)ctx->port, strerror(err));
        rr_conn_destroy(&conn);
        rr_ctx_operation_failed(ctx, rr_net_connect_reason(err), d);
        return NULL;
    }
    if (conn->ssl != NULL && !rr_net_is_ip_literal(ctx->host)) {
        SSL_set_tlsext_host_name(conn->ssl, ctx->host);
    }
    conn->stage = RR_STAGE_TCP_CONNECT;
    snprintf(conn->peer, sizeof(conn->peer), "%.50s:%u", ctx->host, (unsigned)ctx->port);
    return conn;
}

static const char *cached_token_for(struct rr_context *ctx)
{
    struct rr_token_cache *tc = &ctx->token_cache;
    if (tc->token != NULL && tc->port == ctx->port && strcmp(tc->host, ctx->host) == 0) {
        return tc->token;
    }
    return NULL;
}

static void clear_token_cache(struct rr_context *ctx)
{
    struct rr_token_cache *tc = &ctx->token_cache;
    if (tc->token != NULL) {
        OPENSSL_cleanse(tc->token, strlen(tc->token));
        free(tc->token);
    }
    memset(tc, 0, sizeof(*tc));
}

static void remember_token(struct rr_context *ctx, const char *token)
{
    clear_token_cache(ctx);
    ctx->token_cache.token = strdup(token);
    snprintf(ctx->token_cache.host, sizeof(ctx->token_cache.host), "%s", ctx->host);
    ctx->token_cache.port = ctx->port;
}

static bool client_queue_request(struct rr_conn *conn)
{
    struct rr_context *ctx = conn->ctx;
    bool v6 = strchr(ctx->host, ':') != NULL && ctx->host[0] != '[';
    const char *token = conn->token;
    if (token == NULL && conn->secure && conn->token_attempts == 0) {
        token = cached_token_for(ctx);
        conn->sent_cached_token = token != NULL;
    }
    bool ok = rr_hs_out_printf(conn,
                               "GET " RR_HANDSHAKE_PATH " HTTP/1.1\r\n"
                               "Host: %s%s%s:%u\r\n"
                               "Connection: Upgrade\r\n"
                               "Upgrade: " RR_UPGRADE_TOKEN "\r\n"
                               "OpenRR-Role: %s\r\n"
                               "OpenRR-Transports: tcp\r\n"
                               "OpenRR-Codecs: %s\r\n",
                               v6 ? "[" : "", ctx->host, v6 ? "]" : "", (unsigned)ctx->port,
                               rr_hs_role_str(ctx->cfg.role), ctx->cfg.codecs);
    if (ok && token != NULL) {
        ok = rr_hs_out_printf(conn, "Authorization: Bearer %s\r\n", token);
        conn->token_attempts++;
    }
    ok = ok && rr_hs_out_printf(conn, "\r\n");
    conn->stage = RR_STAGE_HTTP_WRITE;
    if (!ok) {
        rr_conn_fail(conn, RR_REASON_INTERNAL_ERROR, "cannot build the handshake request");
    }
    return ok;
}

static void validation_params(struct rr_context *ctx, struct rr_validation_params *p)
{
    memset(p, 0, sizeof(*p));
    snprintf(p->ca_file, sizeof(p->ca_file), "%s", ctx->cfg_ca_file ? ctx->cfg_ca_file : "");
    snprintf(p->crl_file, sizeof(p->crl_file), "%s", ctx->cfg_crl_file ? ctx->cfg_crl_file : "");
    snprintf(p->server_name, sizeof(p->server_name), "%s", ctx->host);
    p->no_system_trust = ctx->cfg.no_system_trust;
    p->force_revocation_check = ctx->cfg.force_revocation_check;
    p->fetch = !ctx->cfg.no_revocation_fetch;
    p->timeout_s = RR_REVOCATION_TIMEOUT_S;
    if (ctx->trust_store == NULL) {
        char why[192] = "";
        ctx->trust_store = rr_validation_store(p, why, sizeof(why));
        if (ctx->trust_store == NULL) {
            U_LOG_E(RR_LOG_MODULE, "%s", why);
        }
    }
    p->store = ctx->trust_store; /* NULL: validation reports an untrusted chain */
}

/* Start the certificate judgement once OpenSSL has paused the handshake on it. System
 * validation that may fetch revocation data runs on a worker thread; without anything to
 * fetch it is quick and runs here. */
static bool client_start_validation(struct rr_conn *conn)
{
    struct rr_context *ctx = conn->ctx;
    struct rr_certificate_chain chain = {.count = conn->chain_count,
                                         .certificates = conn->chain_certs};
    conn->validation_started = true;
    if (ctx->validator != NULL && !ctx->validator->perform_system_validation) {
        return true;
    }
    struct rr_validation_params p;
    validation_params(ctx, &p);
    if (conn->chain_x509 != NULL && (!p.fetch || !rr_validation_may_fetch_x509(conn->chain_x509))) {
        char detail[160];
        rr_validation_system_x509(&p, conn->chain_x509, &conn->system_result, detail,
                                  sizeof(detail));
        conn->has_system_result = true;
        if (detail[0] != '\0') {
            snprintf(conn->fail_detail, sizeof(conn->fail_detail), "%s", detail);
        }
        return true;
    }
    struct rr_request *req = rr_request_create(RR_REQ_SYSTEM_VALIDATION, ctx->waker);
    if (req == NULL || !rr_request_set_chain(req, &chain)) {
        if (req != NULL) {
            rr_request_unref(req);
            rr_request_unref(req);
        }
        rr_conn_fail(conn, RR_REASON_INTERNAL_ERROR, "out of memory");
        return false;
    }
    pthread_t t;
    if (!rr_validation_start(&p, req, &t)) {
        rr_request_unref(req);
        rr_request_unref(req);
        rr_conn_fail(conn, RR_REASON_INTERNAL_ERROR, "cannot start a validation thread");
        return false;
    }
    rr_ctx_add_worker(ctx, t);
    conn->sysval = req;
    return true;
}

static void record_validation(struct rr_conn *conn)
{
    struct rr_context *ctx = conn->ctx;
    pthread_mutex_lock(&ctx->lock);
    ctx->have_info = true;
    ctx->info.has_validation = true;
    ctx->info.system_validation = conn->system_result;
    ctx->info.final_validation = conn->final_result;
    pthread_mutex_unlock(&ctx->lock);
}

static bool call_validator(struct rr_conn *conn)
{
    struct rr_context *ctx = conn->ctx;
    struct rr_certificate_chain chain = {.count = conn->chain_count,
                                         .certificates = conn->chain_certs};
    struct rr_request *req = rr_request_create(RR_REQ_CERT_VALIDATION, ctx->waker);
    if (req == NULL || !rr_request_set_chain(req, &chain)) {
        if (req != NULL) {
            rr_request_unref(req);
            rr_request_unref(req);
        }
        rr_conn_fail(conn, RR_REASON_INTERNAL_ERROR, "out of memory");
        return false;
    }
    req->system_result = conn->system_result;
    req->has_system_result = conn->has_system_result;
    conn->pending = req;
    ctx->validator->validate_certificate(ctx->validator, &req->chain, ctx->host,
                                         ctx->cfg.force_revocation_check,
                                         req->has_system_result ? &req->system_result : NULL,
                                         (struct rr_certificate_validation *)req);
    return true;
}

/* Returns false on failure; sets *ready when the verdict is known. Steps: system validation
 * (inline or on a worker), then the application's validator (if any), then the verdict. */
static bool client_progress_validation(struct rr_conn *conn, bool *ready)
{
    struct rr_context *ctx = conn->ctx;
    *ready = false;
    if (!conn->validation_started && !client_start_validation(conn)) {
        return false;
    }
    if (conn->sysval != NULL) {
        if (rr_request_state(conn->sysval) == RR_REQ_PENDING) {
            return true;
        }
        conn->system_result = conn->sysval->result;
        conn->has_system_result = true;
        if (conn->sysval->detail[0] != '\0') {
            snprintf(conn->fail_detail, sizeof(conn->fail_detail), "%s", conn->sysval->detail);
        }
        rr_request_abandon(&conn->sysval);
    }
    if (conn->has_system_result && conn->fail_detail[0] != '\0') {
        U_LOG_I(RR_LOG_MODULE, "system validation of %s: %s", conn->peer, conn->fail_detail);
    }
    if (ctx->validator == NULL) {
        conn->final_result = conn->system_result;
    } else {
        if (!conn->validator_called) {
            conn->validator_called = true;
            if (!call_validator(conn)) {
                return false;
            }
        }
        enum rr_request_state st = rr_request_state(conn->pending);
        if (st == RR_REQ_PENDING) {
            return true;
        }
        if (st == RR_REQ_CANCELED) {
            rr_request_abandon(&conn->pending);
            rr_conn_fail(conn, RR_REASON_CANCELED,
                         "the certificate validator canceled the connection");
            return false;
        }
        conn->final_result = conn->pending->result;
        rr_request_abandon(&conn->pending);
    }
    conn->validation_done = true;
    conn->validation_ok = rr_certificate_validation_result_ok(&conn->final_result);
    record_validation(conn);
    *ready = true;
    return true;
}

int rr_handshake_verify_cb(X509_STORE_CTX *xs, void *arg)
{
    SSL *ssl = X509_STORE_CTX_get_ex_data(xs, SSL_get_ex_data_X509_STORE_CTX_idx());
    struct rr_conn *conn = ssl != NULL ? SSL_get_ex_data(ssl, rr_tls_conn_index()) : NULL;
    if (conn == NULL) {
        return 0;
    }
    if (conn->validation_done) {
        if (conn->validation_ok) {
            return 1;
        }
        X509_STORE_CTX_set_error(xs, X509_V_ERR_CERT_REJECTED);
        return 0;
    }
    if (conn->chain_certs == NULL) {
        /* The untrusted stack holds the server's whole chain, leaf first. */
        STACK_OF(X509) *sk = X509_STORE_CTX_get0_untrusted(xs);
        int n = sk != NULL ? sk_X509_num(sk) : 0;
        if (n <= 0 || n > RR_MAX_CHAIN_LENGTH) {
            X509_STORE_CTX_set_error(xs, X509_V_ERR_CERT_CHAIN_TOO_LONG);
            return 0;
        }
        int total = 0;
        for (int i = 0; i < n; i++) {
            total += i2d_X509(sk_X509_value(sk, i), NULL);
        }
        conn->chain_blob = malloc((size_t)total);
        conn->chain_certs = calloc((size_t)n, sizeof(*conn->chain_certs));
        if (conn->chain_blob == NULL || conn->chain_certs == NULL || total <= 0) {
            return 0;
        }
        unsigned char *p = conn->chain_blob;
        for (int i = 0; i < n; i++) {
            unsigned char *start = p;
            i2d_X509(sk_X509_value(sk, i), &p);
            conn->chain_certs[i].data = start;
            conn->chain_certs[i].size = (size_t)(p - start);
        }
        conn->chain_count = (size_t)n;
        conn->chain_x509 = X509_chain_up_ref(sk);
    }
    return SSL_set_retry_verify(ssl);
}

static bool client_tls_step(struct rr_conn *conn)
{
    for (;;) {
        ERR_clear_error();
        int r = SSL_connect(conn->ssl);
        if (r == 1) {
            return client_queue_request(conn);
        }
        int e = SSL_get_error(conn->ssl, r);
        if (e == SSL_ERROR_WANT_READ) {
            return true;
        }
        if (e == SSL_ERROR_WANT_WRITE) {
            conn->ssl_want_write = true;
            return true;
        }
        if (e == SSL_ERROR_WANT_RETRY_VERIFY) {
            bool ready = false;
            if (!client_progress_validation(conn, &ready)) {
                return false;
            }
            if (!ready) {
                return true;
            }
            continue; /* resume the handshake with the verdict */
        }
        if (conn->validation_done && !conn->validation_ok) {
            char flags[160];
            rr_certificate_validation_result_format(&conn->final_result, flags, sizeof(flags));
            char cause[192];
            snprintf(cause, sizeof(cause), "%s", conn->fail_detail);
            rr_conn_fail(conn, RR_REASON_HANDSHAKE_CONNECTION_FAILED,
                         "server certificate rejected (%s)%s%.90s", flags, cause[0] ? ": " : "",
                         cause);
            ERR_clear_error();
            return false;
        }
        char err[120];
        rr_tls_error_string(err, sizeof(err), conn->eof ? "connection closed" : "failed");
        /* A plain server answers the ClientHello with an HTTP error: OpenSSL sees a record
         * with a wrong version or length. Anything else is the server's refusal. */
        bool plain = strstr(err, "wrong version") != NULL || strstr(err, "packet length") != NULL ||
                     strstr(err, "record layer") != NULL;
        rr_conn_fail(conn, RR_REASON_HANDSHAKE_CONNECTION_FAILED, "TLS handshake failed: %s%s", err,
                     plain ? " (the server is not secure: connect without -secureconnection)"
                           : " (the server ended the handshake; its log says why)");
        return false;
    }
}

static bool client_handle_401(struct rr_conn *conn)
{
    struct rr_context *ctx = conn->ctx;
    bool invalid = false;
    char realm[257];
    if (!rr_http_bearer_realm(conn->msg, realm, sizeof(realm), &invalid)) {
        rr_conn_fail(conn, RR_REASON_AUTHENTICATION_FAILED,
                     "the server asked for authentication without a Bearer realm");
        return false;
    }
    if (!conn->secure || ctx->auth == NULL) {
        rr_conn_fail(conn, RR_REASON_AUTHENTICATION_FAILED,
                     "the server requires a token: connect securely with a token");
        return false;
    }
    if (conn->token_attempts > 0 && !conn->sent_cached_token) {
        rr_conn_fail(conn, RR_REASON_AUTHENTICATION_FAILED, "the server rejected the token");
        return false;
    }
    if (conn->sent_cached_token) {
        clear_token_cache(ctx); /* stale: ask the provider afresh */
        conn->sent_cached_token = false;
    }
    snprintf(conn->realm, sizeof(conn->realm), "%s", realm);
    struct rr_request *req = rr_request_create(RR_REQ_TOKEN, ctx->waker);
    if (req == NULL) {
        rr_conn_fail(conn, RR_REASON_INTERNAL_ERROR, "out of memory");
        return false;
    }
    conn->pending = req;
    conn->stage = RR_STAGE_WAIT_TOKEN;
    ctx->auth->get_token(ctx->auth, conn->realm, (struct rr_token_request *)req);
    return true;
}

static bool client_handle_101(struct rr_conn *conn)
{
    struct rr_context *ctx = conn->ctx;
    const char *role = rr_http_header(conn->msg, "OpenRR-Role");
    const char *transport = rr_http_header(conn->msg, "OpenRR-Transport");
    const char *codec = rr_http_header(conn->msg, "OpenRR-Codec");
    const char *id = rr_http_header(conn->msg, "OpenRR-Connection-Id");
    if (!rr_http_header_has_token(conn->msg, "Upgrade", RR_UPGRADE_TOKEN)) {
        rr_conn_fail(conn, RR_REASON_REMOTING_VERSION_MISMATCH,
                     "the server upgraded to another protocol version");
        return false;
    }
    if (!rr_hs_parse_role(role, &conn->peer_role) || conn->peer_role == ctx->cfg.role) {
        rr_conn_fail(conn, RR_REASON_HANDSHAKE_FAILED, "the server has the same role (%s)",
                     rr_hs_role_str(ctx->cfg.role));
        return false;
    }
    if (transport == NULL || strcasecmp(transport, "tcp") != 0) {
        rr_conn_fail(conn, RR_REASON_INCOMPATIBLE_TRANSPORT_PROTOCOLS,
                     "the server chose an unsupported transport");
        return false;
    }
    if (codec == NULL || !rr_hs_list_has(ctx->cfg.codecs, codec)) {
        rr_conn_fail(conn, RR_REASON_VIDEO_CODEC_NOT_AVAILABLE,
                     "the server chose a codec this side does not support");
        return false;
    }
    const char *tport = rr_http_header(conn->msg, "OpenRR-Transport-Port");
    char *end = NULL;
    unsigned long tp = tport != NULL ? strtoul(tport, &end, 10) : 0;
    ctx->transport_port = (end != NULL && *end == '\0' && tp <= 65535) ? (uint16_t)tp : 0;
    snprintf(conn->codec, sizeof(conn->codec), "%s", codec);
    snprintf(conn->connection_id, sizeof(conn->connection_id), "%s", id != NULL ? id : "");
    if (conn->secure && conn->token_attempts > 0) {
        const char *tok = conn->token != NULL ? conn->token : cached_token_for(ctx);
        if (tok != NULL && tok != ctx->token_cache.token) {
            remember_token(ctx, tok);
        }
    }
    rr_hs_become_established(conn);
    return true;
}

static bool client_read_response(struct rr_conn *conn)
{
    ssize_t n = rr_conn_read(conn, RR_MAX_HANDSHAKE_SIZE);
    (void)n;
    enum rr_http_status st =
        rr_http_parse(u_buf_head(&conn->in), u_buf_len(&conn->in), true, conn->msg);
    if (st == RR_HTTP_INCOMPLETE) {
        if (conn->eof) {
            rr_conn_fail(conn, RR_REASON_HANDSHAKE_CONNECTION_FAILED,
                         "the server closed the connection during the handshake%s",
                         conn->secure ? "" : " (is it a secure server? use -secureconnection)");
            return false;
        }
        return true;
    }
    if (st != RR_HTTP_COMPLETE) {
        rr_conn_fail(conn,
                     st == RR_HTTP_TOO_LARGE ? RR_REASON_PROTOCOL_ERROR
                                             : RR_REASON_HANDSHAKE_CONNECTION_FAILED,
                     "the server's answer is not an OpenRR handshake response%s",
                     conn->secure ? "" : " (is it a secure server? use -secureconnection)");
        return false;
    }
    u_buf_consume(&conn->in, conn->msg->length);
    if (conn->msg->status == 101) {
        return client_handle_101(conn);
    }
    if (conn->msg->status == 401) {
        return client_handle_401(conn);
    }
    enum rr_disconnect_reason reason = RR_REASON_HANDSHAKE_FAILED;
    const char *name = rr_http_header(conn->msg, "OpenRR-Error");
    if (name == NULL || !rr_disconnect_reason_from_str(name, &reason)) {
        reason = RR_REASON_HANDSHAKE_FAILED;
    }
    const char *why = rr_http_header(conn->msg, "OpenRR-Error-Detail");
    rr_conn_fail(conn, reason, "the server refused (%d): %.150s", conn->msg->status,
                 why != NULL ? why : conn->msg->reason_phrase);
    return false;
}

static bool client_token_ready(struct rr_conn *conn)
{
    enum rr_request_state st = rr_request_state(conn->pending);
    if (st == RR_REQ_PENDING) {
        return true;
    }
    if (st == RR_REQ_CANCELED) {
        rr_request_abandon(&conn->pending);
        rr_conn_fail(conn, RR_REASON_CANCELED, "the authentication provider canceled");
        return false;
    }
    char *token = conn->pending->token;
    conn->pending->token = NULL;
    rr_request_abandon(&conn->pending);
    if (token == NULL || token[0] == '\0') {
        free(token);
        rr_conn_fail(conn, RR_REASON_AUTHENTICATION_FAILED,
                     "the authentication provider supplied no token");
        return false;
    }
    if (!rr_http_token_is_valid(token)) {
        bool too_long = strlen(token) > RR_MAX_TOKEN_SIZE;
        OPENSSL_cleanse(token, strlen(token));
        free(token);
        rr_conn_fail(conn, RR_REASON_AUTHENTICATION_FAILED,
                     too_long
                         ? "the token is longer than %d bytes"
                         : "the token has characters other than visible ASCII (limit %d bytes)",
                     RR_MAX_TOKEN_SIZE);
        return false;
    }
    conn->token = token;
    return client_queue_request(conn);
}

bool rr_hs_client_step(struct rr_conn *conn, short revents)
{
    switch (conn->stage) {
    case RR_STAGE_TCP_CONNECT: {
        if ((revents & (POLLOUT | POLLERR | POLLHUP)) == 0) {
            return true;
        }
        int err = 0;
        socklen_t len = sizeof(err);
        getsockopt(conn->fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err != 0) {
            int e2 = err;
            if (client_try_next_address(conn, &e2)) {
                return true;
            }
            rr_conn_fail(conn, rr_net_connect_reason(err), "cannot connect to %s: %s", conn->peer,
                         strerror(err));
            return false;
        }
        rr_net_tune(conn->fd);
        rr_net_peer_name(conn->fd, conn->peer, sizeof(conn->peer));
        if (conn->secure) {
            conn->stage = RR_STAGE_TLS;
            return client_tls_step(conn);
        }
        return client_queue_request(conn) && rr_handshake_step(conn, 0);
    }
    case RR_STAGE_TLS:
        if (!client_tls_step(conn)) {
            return false;
        }
        if (conn->stage == RR_STAGE_HTTP_WRITE) {
            return rr_handshake_step(conn, 0);
        }
        return true;
    case RR_STAGE_HTTP_WRITE:
        if (!rr_conn_flush(conn)) {
            rr_conn_fail(conn, RR_REASON_HANDSHAKE_CONNECTION_FAILED,
                         "the server closed the connection during the handshake");
            return false;
        }
        if (!rr_conn_has_unsent(conn)) {
            conn->stage = RR_STAGE_HTTP_READ;
            return client_read_response(conn);
        }
        return true;
    case RR_STAGE_HTTP_READ:
        return client_read_response(conn);
    case RR_STAGE_WAIT_TOKEN:
        if (!client_token_ready(conn)) {
            return false;
        }
        return conn->stage == RR_STAGE_HTTP_WRITE ? rr_handshake_step(conn, 0) : true;
    default:
        return true;
    }
}
