/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rr_context: the public API, the network thread's loop and the event queue.
 *
 * Threads: the API functions run on application threads and only touch the shared fields
 * under ctx->lock, handing connect/listen/disconnect to the network thread as a command. The
 * network thread (net_main) owns sockets, TLS and handshakes; it polls the sockets and the
 * waker, which request completions and queued sends use to rouse it.
 */
#include "context.h"

#include "net.h"
#include "u_log.h"
#include "u_time.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define RR_MAX_POLL_FDS (RR_MAX_ATTEMPTS + 4)

/* ---- events ------------------------------------------------------------------------------ */

void rr_ctx_emit(struct rr_context *ctx, struct rr_event *ev)
{
    if (ctx->cfg.event_callback != NULL) {
        ctx->cfg.event_callback(ctx->cfg.event_user, ev);
        free(ev->data);
        ev->data = NULL;
        return;
    }
    struct rr_event_node *n = malloc(sizeof(*n));
    if (n == NULL) {
        U_LOG_E(RR_LOG_MODULE, "out of memory: dropped a %s event", rr_event_type_str(ev->type));
        free(ev->data);
        return;
    }
    n->ev = *ev;
    n->next = NULL;
    pthread_mutex_lock(&ctx->lock);
    if (ctx->ev_tail != NULL) {
        ctx->ev_tail->next = n;
    } else {
        ctx->ev_head = n;
    }
    ctx->ev_tail = n;
    ctx->ev_bytes += ev->size + sizeof(*n);
    if (ctx->ev_bytes > RR_EVENT_BYTES_HIGH) {
        ctx->reading_paused = true; /* TCP back-pressure instead of unbounded memory */
    }
    pthread_cond_signal(&ctx->event_cond);
    pthread_mutex_unlock(&ctx->lock);
}

void rr_ctx_emit_data(struct rr_context *ctx, struct rr_event *ev)
{
    if (ctx->cfg.event_callback != NULL) {
        ctx->cfg.event_callback(ctx->cfg.event_user, ev);
        return;
    }
    uint8_t *copy = malloc(ev->size ? ev->size : 1);
    if (copy == NULL) {
        U_LOG_E(RR_LOG_MODULE, "out of memory: dropped %zu received bytes", ev->size);
        return;
    }
    memcpy(copy, ev->data, ev->size);
    ev->data = copy;
    rr_ctx_emit(ctx, ev);
}

void rr_ctx_emit_simple(struct rr_context *ctx, enum rr_event_type type,
                        enum rr_disconnect_reason reason, const char *detail)
{
    struct rr_event ev;
    memset(&ev, 0, sizeof(ev));
    ev.type = type;
    ev.reason = reason;
    snprintf(ev.detail, sizeof(ev.detail), "%s", detail != NULL ? detail : "");
    rr_ctx_emit(ctx, &ev);
}

void rr_event_release(struct rr_event *event)
{
    if (event != NULL) {
        free(event->data);
        event->data = NULL;
        event->size = 0;
    }
}

enum rr_result rr_context_poll_event(struct rr_context *ctx, struct rr_event *out_event,
                                     int timeout_ms)
{
    if (ctx == NULL || out_event == NULL) {
        return RR_ERROR_INVALID_ARGUMENT;
    }
    memset(out_event, 0, sizeof(*out_event));
    pthread_mutex_lock(&ctx->lock);
    if (ctx->ev_head == NULL && timeout_ms != 0) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        uint64_t ns = (uint64_t)ts.tv_nsec + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0) * 1000000u;
        ts.tv_sec += (time_t)(ns / 1000000000u);
        ts.tv_nsec = (long)(ns % 1000000000u);
        while (ctx->ev_head == NULL) {
            int r = timeout_ms < 0 ? pthread_cond_wait(&ctx->event_cond, &ctx->lock)
                                   : pthread_cond_timedwait(&ctx->event_cond, &ctx->lock, &ts);
            if (r == ETIMEDOUT) {
                break;
            }
        }
    }
    struct rr_event_node *n = ctx->ev_head;
    bool resume = false;
    if (n != NULL) {
        ctx->ev_head = n->next;
        if (ctx->ev_head == NULL) {
            ctx->ev_tail = NULL;
        }
        ctx->ev_bytes -= n->ev.size + sizeof(*n);
        if (ctx->reading_paused && ctx->ev_bytes < RR_EVENT_BYTES_HIGH / 2) {
            ctx->reading_paused = false;
            resume = true;
        }
    }
    pthread_mutex_unlock(&ctx->lock);
    if (resume) {
        rr_waker_wake(ctx->waker);
    }
    if (n == NULL) {
        return RR_ERROR_NO_EVENT;
    }
    *out_event = n->ev;
    free(n);
    return RR_OK;
}

/* ---- network thread: teardown and outcomes ----------------------------------------------- */

static void set_disconnected(struct rr_context *ctx, enum rr_disconnect_reason reason)
{
    pthread_mutex_lock(&ctx->lock);
    ctx->state = RR_STATE_DISCONNECTED;
    ctx->last_reason = reason;
    ctx->connected = false;
    ctx->fast_conn = NULL;
    pthread_mutex_unlock(&ctx->lock);
}

static void stop_listening(struct rr_context *ctx, bool report)
{
    while (ctx->attempts != NULL) {
        struct rr_conn *c = ctx->attempts;
        ctx->attempts = c->next;
        if (report) {
            rr_ctx_emit_simple(ctx, RR_EVENT_ATTEMPT_FAILED, RR_REASON_CANCELED,
                               "the listening ended before this handshake finished");
        }
        rr_conn_destroy(&c);
    }
    ctx->attempt_count = 0;
    if (ctx->listen_fd >= 0) {
        close(ctx->listen_fd);
        ctx->listen_fd = -1;
    }
    if (ctx->udp_fd >= 0) {
        close(ctx->udp_fd);
        ctx->udp_fd = -1;
    }
    ctx->listening = false;
    rr_request_abandon(&ctx->cert_request);
    ctx->cert_ready = false;
}

void rr_ctx_operation_failed(struct rr_context *ctx, enum rr_disconnect_reason reason,
                             const char *detail)
{
    stop_listening(ctx, true);
    U_LOG_I(RR_LOG_MODULE, "disconnected: %s%s%s", rr_disconnect_reason_str(reason),
            detail && *detail ? ": " : "", detail ? detail : "");
    set_disconnected(ctx, reason);
    rr_ctx_emit_simple(ctx, RR_EVENT_DISCONNECTED, reason, detail);
}

void rr_ctx_connection_ended(struct rr_context *ctx, enum rr_disconnect_reason reason,
                             const char *detail)
{
    rr_channel_close_all(ctx);
    stop_listening(ctx, true);
    rr_builtin_on_disconnected(ctx);
    U_LOG_I(RR_LOG_MODULE, "connection ended: %s%s%s", rr_disconnect_reason_str(reason),
            detail && *detail ? ": " : "", detail ? detail : "");
    set_disconnected(ctx, reason);
    rr_ctx_emit_simple(ctx, RR_EVENT_DISCONNECTED, reason, detail);
}

void rr_ctx_add_worker(struct rr_context *ctx, pthread_t t)
{
    if (ctx->worker_count == RR_MAX_WORKERS) {
        pthread_join(ctx->workers[0], NULL);
        memmove(ctx->workers, ctx->workers + 1, sizeof(pthread_t) * (RR_MAX_WORKERS - 1));
        ctx->worker_count--;
    }
    ctx->workers[ctx->worker_count++] = t;
}

static void reap_workers(struct rr_context *ctx)
{
    for (size_t i = 0; i < ctx->worker_count;) {
        if (pthread_tryjoin_np(ctx->workers[i], NULL) == 0) {
            ctx->workers[i] = ctx->workers[--ctx->worker_count];
        } else {
            i++;
        }
    }
}

static void step_active(struct rr_context *ctx, short revents);

/* ---- network thread: commands ------------------------------------------------------------ */

static bool ensure_tls(struct rr_context *ctx, bool server)
{
    SSL_CTX **slot = server ? &ctx->server_tls : &ctx->client_tls;
    if (*slot == NULL) {
        *slot = server ? rr_tls_server_ctx_create() : rr_tls_client_ctx_create();
    }
    return *slot != NULL;
}

static void start_connect(struct rr_context *ctx)
{
    if (ctx->secure && !ensure_tls(ctx, false)) {
        rr_ctx_operation_failed(ctx, RR_REASON_INTERNAL_ERROR, "cannot set up TLS");
        return;
    }
    ctx->active = rr_handshake_client_start(ctx);
}

static void start_listen(struct rr_context *ctx, const char *host, uint16_t port,
                         uint16_t transport_port)
{
    char err[192];
    enum rr_disconnect_reason reason = RR_REASON_UNKNOWN;
    if (ctx->secure && !ensure_tls(ctx, true)) {
        rr_ctx_operation_failed(ctx, RR_REASON_INTERNAL_ERROR, "cannot set up TLS");
        return;
    }
    ctx->listen_fd = rr_net_listen_tcp(host, port, &ctx->listen_port, &reason, err, sizeof(err));
    if (ctx->listen_fd < 0) {
        rr_ctx_operation_failed(ctx, reason, err);
        return;
    }
    /* The tcp transport rides on the handshake connection; the transport port is reserved
     * now so that the udp transport can use it and so that a busy port is reported early. */
    ctx->udp_fd =
        rr_net_bind_udp(host, transport_port, &ctx->transport_port, &reason, err, sizeof(err));
    if (ctx->udp_fd < 0) {
        rr_ctx_operation_failed(ctx, reason, err);
        return;
    }
    ctx->listening = true;
    if (ctx->secure) {
        const char *realm = ctx->auth_receiver->get_realm != NULL
                                ? ctx->auth_receiver->get_realm(ctx->auth_receiver)
                                : NULL;
        if (realm == NULL) {
            realm = RR_DEFAULT_REALM;
        }
        if (!rr_http_realm_is_valid(realm)) {
            rr_ctx_operation_failed(ctx, RR_REASON_INTERNAL_ERROR,
                                    "the authentication realm must be printable ASCII, at most "
                                    "256 characters");
            return;
        }
        snprintf(ctx->realm, sizeof(ctx->realm), "%s", realm);
        ctx->cert_request = rr_request_create(RR_REQ_CERTIFICATE, ctx->waker);
        if (ctx->cert_request == NULL) {
            rr_ctx_operation_failed(ctx, RR_REASON_INTERNAL_ERROR, "out of memory");
            return;
        }
        ctx->cert_deadline_ms = u_time_ms() + ctx->cfg.handshake_timeout_ms;
    }
    struct rr_event ev;
    memset(&ev, 0, sizeof(ev));
    ev.type = RR_EVENT_LISTENING;
    ev.port = ctx->listen_port;
    ev.transport_port = ctx->transport_port;
    U_LOG_I(RR_LOG_MODULE, "listening on port %u (transport %u)", (unsigned)ev.port,
            (unsigned)ev.transport_port);
    rr_ctx_emit(ctx, &ev);
    if (ctx->secure) {
        /* Asked after the listening event so the application already knows the port. */
        ctx->cert_provider->get_certificate(ctx->cert_provider,
                                            (struct rr_certificate_request *)ctx->cert_request);
    }
}

static void check_certificate(struct rr_context *ctx)
{
    struct rr_request *req = ctx->cert_request;
    if (req == NULL || ctx->cert_ready) {
        return;
    }
    enum rr_request_state st = rr_request_state(req);
    if (st == RR_REQ_PENDING) {
        if (u_time_ms() >= ctx->cert_deadline_ms) {
            char d[128];
            snprintf(d, sizeof(d), "the certificate provider did not answer within %u ms",
                     (unsigned)ctx->cfg.handshake_timeout_ms);
            U_LOG_E(RR_LOG_MODULE, "%s", d);
            rr_ctx_operation_failed(ctx, RR_REASON_NO_SERVER_CERTIFICATE, d);
        }
        return;
    }
    if (st != RR_REQ_COMPLETED || req->pfx == NULL || req->pfx_size == 0) {
        rr_ctx_operation_failed(ctx, RR_REASON_NO_SERVER_CERTIFICATE,
                                st == RR_REQ_CANCELED ? "the certificate provider canceled"
                                                      : "the certificate provider gave no store");
        return;
    }
    /* Each listen asks again (the rotation point); opening a PKCS#12 store costs milliseconds
     * of key derivation, so an unchanged answer reuses the certificate already loaded. */
    unsigned char key[32];
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    bool hashed = md != NULL && req->subject != NULL && req->password != NULL &&
                  EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1 &&
                  EVP_DigestUpdate(md, req->pfx, req->pfx_size) == 1 &&
                  EVP_DigestUpdate(md, req->subject, strlen(req->subject) + 1) == 1 &&
                  EVP_DigestUpdate(md, req->password, strlen(req->password) + 1) == 1 &&
                  EVP_DigestFinal_ex(md, key, NULL) == 1;
    EVP_MD_CTX_free(md);
    if (hashed && ctx->cert.cert != NULL && CRYPTO_memcmp(key, ctx->cert_key, sizeof(key)) == 0) {
        rr_request_abandon(&ctx->cert_request);
        ctx->cert_ready = true;
        return;
    }
    rr_cert_store_fini(&ctx->cert);
    memset(ctx->cert_key, 0, sizeof(ctx->cert_key));
    char err[192];
    enum rr_result r = rr_cert_store_load(req->pfx, req->pfx_size, req->password, req->subject,
                                          &ctx->cert, err, sizeof(err));
    rr_request_abandon(&ctx->cert_request); /* wipes the password and store bytes */
    if (r == RR_OK && hashed) {
        memcpy(ctx->cert_key, key, sizeof(key));
    }
    if (r != RR_OK) {
        U_LOG_E(RR_LOG_MODULE, "no server certificate: %s", err);
        rr_ctx_operation_failed(ctx, RR_REASON_NO_SERVER_CERTIFICATE, err);
        return;
    }
    ctx->cert_ready = true;
    U_LOG_I(RR_LOG_MODULE, "server certificate sha256 %s", ctx->cert.fingerprint);
}

static void do_disconnect(struct rr_context *ctx)
{
    struct rr_conn *a = ctx->active;
    if (a != NULL && a->stage == RR_STAGE_ESTABLISHED) {
        pthread_mutex_lock(&a->io_lock);
        rr_conn_begin_close(a, RR_REASON_DISCONNECT_REQUEST);
        pthread_mutex_unlock(&a->io_lock);
        step_active(ctx, 0);
        return;
    }
    if (a != NULL) {
        rr_conn_destroy(&ctx->active);
        rr_ctx_operation_failed(ctx, RR_REASON_DISCONNECT_REQUEST, "");
        return;
    }
    if (ctx->listening) {
        rr_ctx_operation_failed(ctx, RR_REASON_DISCONNECT_REQUEST, "");
    }
}

/* ---- network thread: stepping connections ------------------------------------------------- */

static void step_active(struct rr_context *ctx, short revents)
{
    struct rr_conn *c = ctx->active;
    if (c == NULL) {
        return;
    }
    if (c->stage != RR_STAGE_ESTABLISHED) {
        if (!rr_handshake_step(c, revents)) {
            char detail[192];
            enum rr_disconnect_reason reason = c->fail_reason;
            snprintf(detail, sizeof(detail), "%s", c->fail_detail);
            rr_conn_destroy(&ctx->active);
            rr_ctx_operation_failed(ctx, reason, detail);
            return;
        }
        if (c->stage != RR_STAGE_ESTABLISHED) {
            return;
        }
        rr_ctx_emit_simple(ctx, RR_EVENT_CONNECTED, RR_REASON_NONE, "");
    }
    pthread_mutex_lock(&c->io_lock);
    bool alive = rr_conn_established_step(c, revents);
    pthread_mutex_unlock(&c->io_lock);
    if (!alive) {
        rr_conn_destroy(&ctx->active);
    }
}

static void step_attempt(struct rr_context *ctx, struct rr_conn **link, short revents)
{
    struct rr_conn *c = *link;
    if (!rr_handshake_step(c, revents)) {
        *link = c->next;
        ctx->attempt_count--;
        U_LOG_I(RR_LOG_MODULE, "attempt from %s failed: %s: %s", c->peer,
                rr_disconnect_reason_str(c->fail_reason), c->fail_detail);
        rr_ctx_emit_simple(ctx, RR_EVENT_ATTEMPT_FAILED, c->fail_reason, c->fail_detail);
        rr_conn_destroy(&c);
        return;
    }
    if (c->stage == RR_STAGE_ESTABLISHED) {
        *link = c->next;
        ctx->attempt_count--;
        c->next = NULL;
        ctx->active = c;
        rr_ctx_emit_simple(ctx, RR_EVENT_CONNECTED, RR_REASON_NONE, "");
        step_active(ctx, 0);
    }
}

static void accept_clients(struct rr_context *ctx)
{
    for (int i = 0; i < 16; i++) {
        int fd = accept4(ctx->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            return;
        }
        if (ctx->attempt_count >= RR_MAX_ATTEMPTS) {
            U_LOG_W(RR_LOG_MODULE, "too many handshakes in progress; refusing a connection");
            close(fd);
            continue;
        }
        struct rr_conn *c = rr_conn_create(ctx, fd, true, ctx->secure);
        if (c == NULL) {
            close(fd);
            continue;
        }
        rr_net_tune(fd);
        rr_net_peer_name(fd, c->peer, sizeof(c->peer));
        c->stage = ctx->secure ? RR_STAGE_TLS : RR_STAGE_HTTP_READ;
        c->next = ctx->attempts;
        ctx->attempts = c;
        ctx->attempt_count++;
        struct rr_conn **link = &ctx->attempts;
        step_attempt(ctx, link, POLLIN);
        if (!ctx->listening) {
            return;
        }
    }
}

static uint64_t next_deadline(struct rr_context *ctx)
{
    uint64_t t = UINT64_MAX;
    if (ctx->active != NULL) {
        uint64_t a = rr_conn_next_timer(ctx->active);
        t = a < t ? a : t;
    }
    for (struct rr_conn *c = ctx->attempts; c != NULL; c = c->next) {
        t = c->deadline_ms < t ? c->deadline_ms : t;
    }
    if (ctx->cert_request != NULL && !ctx->cert_ready) {
        t = ctx->cert_deadline_ms < t ? ctx->cert_deadline_ms : t;
    }
    return t;
}

static void close_on_exit(struct rr_context *ctx)
{
    struct rr_conn *a = ctx->active;
    if (a != NULL && a->stage == RR_STAGE_ESTABLISHED) {
        /* Best effort, bounded: tell the peer, so it reports PeerDisconnectRequest. */
        pthread_mutex_lock(&a->io_lock);
        rr_conn_begin_close(a, RR_REASON_DISCONNECT_REQUEST);
        pthread_mutex_unlock(&a->io_lock);
        uint64_t until = u_time_ms() + 1500;
        while (ctx->active != NULL && u_time_ms() < until) {
            struct pollfd pfd = {.fd = a->fd, .events = rr_conn_poll_events(a)};
            poll(&pfd, 1, 50);
            step_active(ctx, pfd.revents);
        }
    }
    rr_conn_destroy(&ctx->active);
    stop_listening(ctx, false);
}

static void *net_main(void *arg)
{
    struct rr_context *ctx = arg;
    rr_net_block_sigpipe();
    for (;;) {
        pthread_mutex_lock(&ctx->lock);
        bool stop = ctx->stop;
        enum rr_command cmd = ctx->command;
        ctx->command = RR_CMD_NONE;
        bool disconnect = ctx->disconnect_requested;
        ctx->disconnect_requested = false;
        char host[256];
        uint16_t port = ctx->cmd_port, tport = ctx->cmd_transport_port;
        snprintf(host, sizeof(host), "%s", ctx->cmd_host);
        if (cmd != RR_CMD_NONE) {
            ctx->op_start_us = u_time_us();
            ctx->secure = ctx->cmd_secure;
            ctx->auth = ctx->cmd_auth;
            ctx->validator = ctx->cmd_validator;
            ctx->cert_provider = ctx->cmd_cert_provider;
            ctx->auth_receiver = ctx->cmd_auth_receiver;
        }
        pthread_mutex_unlock(&ctx->lock);
        if (stop) {
            break;
        }
        if (cmd == RR_CMD_CONNECT) {
            snprintf(ctx->host, sizeof(ctx->host), "%s", host);
            ctx->port = port;
            start_connect(ctx);
        } else if (cmd == RR_CMD_LISTEN) {
            start_listen(ctx, host, port, tport);
        }
        if (disconnect) {
            do_disconnect(ctx);
        }
        if (ctx->listening) {
            check_certificate(ctx);
        }

        struct pollfd fds[RR_MAX_POLL_FDS];
        struct rr_conn *owners[RR_MAX_POLL_FDS];
        nfds_t n = 0;
        fds[n] = (struct pollfd){.fd = ctx->waker->fd, .events = POLLIN};
        owners[n++] = NULL;
        int listen_idx = -1;
        if (ctx->listen_fd >= 0) {
            listen_idx = (int)n;
            fds[n] = (struct pollfd){.fd = ctx->listen_fd, .events = POLLIN};
            owners[n++] = NULL;
        }
        if (ctx->active != NULL) {
            fds[n] =
                (struct pollfd){.fd = ctx->active->fd, .events = rr_conn_poll_events(ctx->active)};
            owners[n++] = ctx->active;
        }
        for (struct rr_conn *c = ctx->attempts; c != NULL && n < RR_MAX_POLL_FDS; c = c->next) {
            fds[n] = (struct pollfd){.fd = c->fd, .events = rr_conn_poll_events(c)};
            owners[n++] = c;
        }
        uint64_t deadline = next_deadline(ctx);
        uint64_t now = u_time_ms();
        int timeout = deadline == UINT64_MAX ? 1000
                      : deadline <= now      ? 0
                                             : (int)(deadline - now > 1000 ? 1000 : deadline - now);
        int pr = poll(fds, n, timeout);
        if (pr < 0 && errno != EINTR) {
            U_LOG_E(RR_LOG_MODULE, "poll failed: %s", strerror(errno));
        }
        if (fds[0].revents & POLLIN) {
            rr_waker_drain(ctx->waker);
        }
        /* Step every connection: a wake-up may mean a request completed or data was queued. */
        for (nfds_t i = 1; i < n; i++) {
            if (owners[i] != NULL && owners[i] == ctx->active) {
                step_active(ctx, fds[i].revents);
            }
        }
        for (struct rr_conn **link = &ctx->attempts; *link != NULL;) {
            struct rr_conn *c = *link;
            short rev = 0;
            for (nfds_t i = 1; i < n; i++) {
                if (owners[i] == c) {
                    rev = fds[i].revents;
                }
            }
            step_attempt(ctx, link, rev);
            if (*link == c) {
                link = &c->next;
            }
        }
        if (listen_idx >= 0 && ctx->listen_fd >= 0 && (fds[listen_idx].revents & POLLIN)) {
            accept_clients(ctx);
        }
        reap_workers(ctx);
    }
    close_on_exit(ctx);
    OPENSSL_thread_stop();
    return NULL;
}

/* ---- public API ---------------------------------------------------------------------------- */

static bool codecs_valid(const char *s)
{
    bool any = false;
    size_t run = 0;
    for (const char *p = s; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9')) {
            if (++run > 15) {
                return false;
            }
            any = true;
        } else if (*p == ',' || *p == ' ') {
            run = 0;
        } else {
            return false;
        }
    }
    return any;
}

enum rr_result rr_context_create(const struct rr_context_config *cfg, struct rr_context **out_ctx)
{
    if (cfg == NULL || out_ctx == NULL ||
        (cfg->role != RR_ROLE_PLAYER && cfg->role != RR_ROLE_REMOTE) ||
        (cfg->codecs != NULL && !codecs_valid(cfg->codecs)) ||
        cfg->max_message_size > 256u * 1024u * 1024u) {
        return RR_ERROR_INVALID_ARGUMENT;
    }
    struct rr_context *ctx = calloc(1, sizeof(*ctx));
    if (ctx == NULL) {
        return RR_ERROR_OUT_OF_MEMORY;
    }
    ctx->cfg = *cfg;
    struct rr_context_config *c = &ctx->cfg;
    if (c->handshake_timeout_ms == 0)
        c->handshake_timeout_ms = 10000;
    if (c->keepalive_interval_ms == 0)
        c->keepalive_interval_ms = 1000;
    if (c->peer_timeout_ms == 0)
        c->peer_timeout_ms = 5000;
    if (c->max_message_size == 0)
        c->max_message_size = RR_DEFAULT_MAX_MESSAGE_SIZE;
    if (c->max_send_queue == 0)
        c->max_send_queue = 64u * 1024u * 1024u;
    if (c->best_effort_queue_limit == 0)
        c->best_effort_queue_limit = 256u * 1024u;
    ctx->cfg_ca_file = cfg->ca_file ? strdup(cfg->ca_file) : NULL;
    ctx->cfg_crl_file = cfg->crl_file ? strdup(cfg->crl_file) : NULL;
    ctx->cfg_codecs = strdup(cfg->codecs ? cfg->codecs : "hevc,h264");
    c->ca_file = ctx->cfg_ca_file;
    c->crl_file = ctx->cfg_crl_file;
    c->codecs = ctx->cfg_codecs;
    ctx->listen_fd = -1;
    ctx->udp_fd = -1;
    pthread_mutex_init(&ctx->lock, NULL);
    pthread_mutex_init(&ctx->builtin_lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_cond_init(&ctx->event_cond, &ca);
    pthread_condattr_destroy(&ca);
    ctx->waker = rr_waker_create();
    if (ctx->cfg_codecs == NULL || (cfg->ca_file && !ctx->cfg_ca_file) ||
        (cfg->crl_file && !ctx->cfg_crl_file) || ctx->waker == NULL) {
        rr_context_destroy(&ctx);
        return RR_ERROR_OUT_OF_MEMORY;
    }
    if (pthread_create(&ctx->thread, NULL, net_main, ctx) != 0) {
        rr_waker_unref(&ctx->waker);
        rr_context_destroy(&ctx);
        return RR_ERROR_SYSTEM;
    }
    *out_ctx = ctx;
    return RR_OK;
}

void rr_context_destroy(struct rr_context **ctx_ptr)
{
    if (ctx_ptr == NULL || *ctx_ptr == NULL) {
        return;
    }
    struct rr_context *ctx = *ctx_ptr;
    *ctx_ptr = NULL;
    if (ctx->waker != NULL) {
        pthread_mutex_lock(&ctx->lock);
        ctx->stop = true;
        pthread_mutex_unlock(&ctx->lock);
        rr_waker_wake(ctx->waker);
        pthread_join(ctx->thread, NULL);
    }
    for (size_t i = 0; i < ctx->worker_count; i++) {
        pthread_join(ctx->workers[i], NULL);
    }
    pthread_mutex_lock(&ctx->lock);
    rr_channel_clear_queues_locked(ctx);
    pthread_mutex_unlock(&ctx->lock);
    while (ctx->all_channels != NULL) {
        struct rr_data_channel *ch = ctx->all_channels;
        ctx->all_channels = ch->next_all;
        free(ch);
    }
    while (ctx->ev_head != NULL) {
        struct rr_event_node *n = ctx->ev_head;
        ctx->ev_head = n->next;
        free(n->ev.data);
        free(n);
    }
    if (ctx->token_cache.token != NULL) {
        OPENSSL_cleanse(ctx->token_cache.token, strlen(ctx->token_cache.token));
        free(ctx->token_cache.token);
    }
    X509_STORE_free(ctx->trust_store);
    rr_cert_store_fini(&ctx->cert);
    SSL_CTX_free(ctx->client_tls);
    SSL_CTX_free(ctx->server_tls);
    if (ctx->waker != NULL) {
        rr_waker_close(ctx->waker);
        rr_waker_unref(&ctx->waker);
    }
    free(ctx->cfg_ca_file);
    free(ctx->cfg_crl_file);
    free(ctx->cfg_codecs);
    pthread_cond_destroy(&ctx->event_cond);
    pthread_mutex_destroy(&ctx->lock);
    pthread_mutex_destroy(&ctx->builtin_lock);
    free(ctx);
}

/* The interfaces are stored under the same lock as the state check, so a refused call never
 * touches what an operation in progress uses. */
struct command_args {
    enum rr_command cmd;
    const char *host;
    uint16_t port;
    uint16_t transport_port;
    bool secure;
    struct rr_authentication_provider *auth;
    struct rr_certificate_validator *validator;
    struct rr_certificate_provider *cert_provider;
    struct rr_authentication_receiver *auth_receiver;
};

static enum rr_result begin_command(struct rr_context *ctx, const struct command_args *a)
{
    if (a->host != NULL && strlen(a->host) >= sizeof(ctx->cmd_host)) {
        return RR_ERROR_INVALID_ARGUMENT;
    }
    pthread_mutex_lock(&ctx->lock);
    if (ctx->state != RR_STATE_DISCONNECTED || ctx->command != RR_CMD_NONE) {
        pthread_mutex_unlock(&ctx->lock);
        return RR_ERROR_WRONG_STATE;
    }
    ctx->command = a->cmd;
    ctx->state = RR_STATE_CONNECTING;
    ctx->last_reason = RR_REASON_NONE;
    snprintf(ctx->cmd_host, sizeof(ctx->cmd_host), "%s", a->host != NULL ? a->host : "");
    ctx->cmd_port = a->port;
    ctx->cmd_transport_port = a->transport_port;
    ctx->cmd_secure = a->secure;
    ctx->cmd_auth = a->auth;
    ctx->cmd_validator = a->validator;
    ctx->cmd_cert_provider = a->cert_provider;
    ctx->cmd_auth_receiver = a->auth_receiver;
    ctx->have_info = false;
    memset(&ctx->info, 0, sizeof(ctx->info));
    pthread_mutex_unlock(&ctx->lock);
    rr_waker_wake(ctx->waker);
    return RR_OK;
}

enum rr_result rr_context_connect(struct rr_context *ctx, const char *host, uint16_t port)
{
    if (ctx == NULL || host == NULL || host[0] == '\0') {
        return RR_ERROR_INVALID_ARGUMENT;
    }
    struct command_args a = {
        .cmd = RR_CMD_CONNECT, .host = host, .port = port ? port : RR_DEFAULT_HANDSHAKE_PORT};
    return begin_command(ctx, &a);
}

enum rr_result rr_context_connect_secure(struct rr_context *ctx, const char *host, uint16_t port,
                                         struct rr_authentication_provider *auth,
                                         struct rr_certificate_validator *validator)
{
    if (ctx == NULL || host == NULL || host[0] == '\0' || auth == NULL || auth->get_token == NULL ||
        (validator != NULL && validator->validate_certificate == NULL)) {
        return RR_ERROR_INVALID_ARGUMENT;
    }
    struct command_args a = {.cmd = RR_CMD_CONNECT,
                             .host = host,
                             .port = port ? port : RR_DEFAULT_HANDSHAKE_PORT,
                             .secure = true,
                             .auth = auth,
                             .validator = validator};
    return begin_command(ctx, &a);
}

enum rr_result rr_context_listen(struct rr_context *ctx, const char *local_host,
                                 uint16_t handshake_port, uint16_t transport_port)
{
    if (ctx == NULL) {
        return RR_ERROR_INVALID_ARGUMENT;
    }
    struct command_args a = {.cmd = RR_CMD_LISTEN,
                             .host = local_host,
                             .port = handshake_port,
                             .transport_port = transport_port};
    return begin_command(ctx, &a);
}

enum rr_result rr_context_listen_secure(struct rr_context *ctx, const char *local_host,
                                        uint16_t handshake_port, uint16_t transport_port,
                                        struct rr_certificate_provider *cert_provider,
                                        struct rr_authentication_receiver *auth_receiver)
{
    if (ctx == NULL || cert_provider == NULL || cert_provider->get_certificate == NULL ||
        auth_receiver == NULL || auth_receiver->validate_token == NULL) {
        return RR_ERROR_INVALID_ARGUMENT;
    }
    struct command_args a = {.cmd = RR_CMD_LISTEN,
                             .host = local_host,
                             .port = handshake_port,
                             .transport_port = transport_port,
                             .secure = true,
                             .cert_provider = cert_provider,
                             .auth_receiver = auth_receiver};
    return begin_command(ctx, &a);
}

enum rr_result rr_context_disconnect(struct rr_context *ctx)
{
    if (ctx == NULL) {
        return RR_ERROR_INVALID_ARGUMENT;
    }
    pthread_mutex_lock(&ctx->lock);
    bool busy = ctx->state != RR_STATE_DISCONNECTED || ctx->command != RR_CMD_NONE;
    if (busy) {
        ctx->disconnect_requested = true;
    }
    pthread_mutex_unlock(&ctx->lock);
    if (busy) {
        rr_waker_wake(ctx->waker);
    }
    return RR_OK;
}

enum rr_role rr_context_role(const struct rr_context *ctx)
{
    return ctx != NULL ? ctx->cfg.role : RR_ROLE_PLAYER;
}

enum rr_connection_state rr_context_state(struct rr_context *ctx,
                                          enum rr_disconnect_reason *out_last_reason)
{
    if (ctx == NULL) {
        return RR_STATE_DISCONNECTED;
    }
    pthread_mutex_lock(&ctx->lock);
    enum rr_connection_state s = ctx->state;
    if (out_last_reason != NULL) {
        *out_last_reason = ctx->last_reason;
    }
    pthread_mutex_unlock(&ctx->lock);
    return s;
}

enum rr_result rr_context_connection_info(struct rr_context *ctx, struct rr_connection_info *out)
{
    if (ctx == NULL || out == NULL) {
        return RR_ERROR_INVALID_ARGUMENT;
    }
    pthread_mutex_lock(&ctx->lock);
    bool have = ctx->have_info;
    if (have) {
        *out = ctx->info;
    }
    pthread_mutex_unlock(&ctx->lock);
    return have ? RR_OK : RR_ERROR_NOT_CONNECTED;
}

enum rr_result rr_context_stats(struct rr_context *ctx, struct rr_connection_stats *out)
{
    if (ctx == NULL || out == NULL) {
        return RR_ERROR_INVALID_ARGUMENT;
    }
    pthread_mutex_lock(&ctx->lock);
    *out = ctx->stats;
    pthread_mutex_unlock(&ctx->lock);
    return RR_OK;
}
