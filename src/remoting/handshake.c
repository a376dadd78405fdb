/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The handshake (DESIGN §4.1, docs/protocol.md): TCP connect, TLS 1.3 when secure (paused on
 * the certificate provider on the server and on the validator on the client), then the HTTP/1.1
 * upgrade with the Bearer challenge, ending in 101 or an error response that names the
 * reason in an OpenRR-Error header. Every stage runs against the attempt's deadline.
 * Network thread only; application interfaces are called without ctx->lock held.
 */
#include "context.h"

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

#define RR_UPGRADE_TOKEN "openrr-remoting/1"
#define RR_HANDSHAKE_PATH "/openrr/remoting"
#define RR_MAX_REQUESTS_PER_CONN 3
/* Per-fetch bound for CRL/OCSP during system validation. */
#define RR_REVOCATION_TIMEOUT_S 3

static const char *role_str(enum rr_role r)
{
    return r == RR_ROLE_PLAYER ? "player" : "remote";
}

static bool parse_role(const char *s, enum rr_role *out)
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
static bool list_has(const char *list, const char *item)
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
static bool pick_codec(const char *pref, const char *other, char *out, size_t size)
{
    size_t len;
    const char *start;
    while (pref != NULL && next_item(&pref, &start, &len)) {
        char item[16];
        if (len < sizeof(item)) {
            memcpy(item, start, len);
            item[len] = '\0';
            if (list_has(other, item)) {
                snprintf(out, size, "%s", item);
                return true;
            }
        }
    }
    return false;
}

static bool out_printf(struct rr_conn *conn, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static bool out_printf(struct rr_conn *conn, const char *fmt, ...)
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

static void become_established(struct rr_conn *conn)
{
    struct rr_context *ctx = conn->ctx;
    uint64_t now = u_time_ms();
    conn->stage = RR_STAGE_ESTABLISHED;
    conn->last_rx_ms = now;
    conn->last_ping_ms = now;
    conn->last_tx_ms = now;
    pthread_mutex_lock(&ctx->lock);
    fill_info(conn);
    ctx->have_info = true;
    memset(&ctx->stats, 0, sizeof(ctx->stats));
    memset(ctx->channel_seen, 0, sizeof(ctx->channel_seen));
    ctx->connected = true;
    ctx->fast_conn = conn;
    ctx->state = RR_STATE_CONNECTED;
    pthread_mutex_unlock(&ctx->lock);
    U_LOG_I(RR_LOG_MODULE, "connected to %s (%s, %s)", conn->peer,
            conn->secure ? "secure" : "plain", role_str(conn->peer_role));
}

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
    bool ok = out_printf(conn,
                         "GET " RR_HANDSHAKE_PATH " HTTP/1.1\r\n"
                         "Host: %s%s%s:%u\r\n"
                         "Connection: Upgrade\r\n"
                         "Upgrade: " RR_UPGRADE_TOKEN "\r\n"
                         "OpenRR-Role: %s\r\n"
                         "OpenRR-Transports: tcp\r\n"
                         "OpenRR-Codecs: %s\r\n",
                         v6 ? "[" : "", ctx->host, v6 ? "]" : "", (unsigned)ctx->port,
                         role_str(ctx->cfg.role), ctx->cfg.codecs);
    if (ok && token != NULL) {
        ok = out_printf(conn, "Authorization: Bearer %s\r\n", token);
        conn->token_attempts++;
    }
    ok = ok && out_printf(conn, "\r\n");
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
    if (!parse_role(role, &conn->peer_role) || conn->peer_role == ctx->cfg.role) {
        rr_conn_fail(conn, RR_REASON_HANDSHAKE_FAILED, "the server has the same role (%s)",
                     role_str(ctx->cfg.role));
        return false;
    }
    if (transport == NULL || strcasecmp(transport, "tcp") != 0) {
        rr_conn_fail(conn, RR_REASON_INCOMPATIBLE_TRANSPORT_PROTOCOLS,
                     "the server chose an unsupported transport");
        return false;
    }
    if (codec == NULL || !list_has(ctx->cfg.codecs, codec)) {
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
    become_established(conn);
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

static bool client_step(struct rr_conn *conn, short revents)
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
    out_printf(conn,
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
    out_printf(conn,
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
    if (!parse_role(rr_http_header(m, "OpenRR-Role"), &conn->peer_role)) {
        return server_refuse(conn, 400, RR_REASON_PROTOCOL_ERROR,
                             "the client did not say its role (OpenRR-Role)");
    }
    if (conn->peer_role == ctx->cfg.role) {
        return server_refuse(conn, 409, RR_REASON_HANDSHAKE_FAILED,
                             "both sides are %ss: one must be a player, the other a remote",
                             role_str(ctx->cfg.role));
    }
    if (!rr_http_header_has_token(m, "OpenRR-Transports", "tcp")) {
        return server_refuse(conn, 400, RR_REASON_INCOMPATIBLE_TRANSPORT_PROTOCOLS,
                             "the client offers no transport this server supports (tcp)");
    }
    const char *theirs = rr_http_header(m, "OpenRR-Codecs");
    bool ok = theirs != NULL &&
              (ctx->cfg.role == RR_ROLE_REMOTE
                   ? pick_codec(ctx->cfg.codecs, theirs, conn->codec, sizeof(conn->codec))
                   : pick_codec(theirs, ctx->cfg.codecs, conn->codec, sizeof(conn->codec)));
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
    out_printf(conn,
               "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n"
               "Upgrade: " RR_UPGRADE_TOKEN "\r\nOpenRR-Role: %s\r\nOpenRR-Transport: tcp\r\n"
               "OpenRR-Transport-Port: %u\r\nOpenRR-Codec: %s\r\nOpenRR-Connection-Id: %s\r\n\r\n",
               role_str(ctx->cfg.role), (unsigned)ctx->transport_port, conn->codec,
               conn->connection_id);
    become_established(conn);
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

static bool server_step(struct rr_conn *conn)
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
            out_printf(conn,
                       "HTTP/1.1 504 Gateway Timeout\r\nConnection: close\r\nContent-Length: 0\r\n"
                       "OpenRR-Error: RemotingHandshakeTimeout\r\n\r\n");
            rr_conn_flush(conn);
        }
        rr_conn_fail(conn, RR_REASON_REMOTING_HANDSHAKE_TIMEOUT,
                     "handshake not finished within %u ms (waiting for %s)",
                     (unsigned)conn->ctx->cfg.handshake_timeout_ms, what);
        return false;
    }
    return conn->is_server ? server_step(conn) : client_step(conn, revents);
}
