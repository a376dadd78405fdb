/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench_openrr — figures A'–D' through libopenrr_remoting (see bench_openrr.h).
 * Threads: the figures run on the measuring thread. The interface callbacks run on the
 * network threads and complete their requests before returning, so no figure waits on the
 * application; the event callbacks (bench_endpoint) take the timestamps.
 */
#include "bench_openrr.h"

#include "bench_stats.h"

#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>

#define BENCH_PASSWORD "bench"
#define BENCH_REALM "openrr-bench"
/* Not a secret: it only has to match between the two contexts of this process. */
#define BENCH_TOKEN "bench-token-2f7c1a9e"

/* @p ptr must be a plain identifier (clang-format would mangle a parenthesised one). */
#define container_of(ptr, type, member) ((type *)((char *)ptr - offsetof(type, member)))

/* ---- the four application interfaces, completing at once ------------------------------------- */

static void get_certificate(struct rr_certificate_provider *self,
                            struct rr_certificate_request *req)
{
    struct bench_openrr *rr = container_of(self, struct bench_openrr, cert_provider);
    rr_certificate_request_complete(req, rr->pfx, rr->pfx_size, BENCH_HOST, BENCH_PASSWORD);
}

static const char *get_realm(struct rr_authentication_receiver *self)
{
    return BENCH_REALM;
}

static void validate_token(struct rr_authentication_receiver *self, const char *token,
                           struct rr_token_validation *req)
{
    rr_token_validation_complete(req, token != NULL && strcmp(token, BENCH_TOKEN) == 0);
}

static void get_token(struct rr_authentication_provider *self, const char *realm,
                      struct rr_token_request *req)
{
    struct bench_openrr *rr = container_of(self, struct bench_openrr, auth_provider);
    /* Counted to show the 401 round trip happens on first connects and not on cached ones. */
    atomic_fetch_add(&rr->tokens_requested, 1);
    rr_token_request_complete(req, BENCH_TOKEN);
}

/* ---- setup ----------------------------------------------------------------------------------- */

/* The store's certificate as a PEM file: the client trusts it through cfg.ca_file with
 * no_system_trust, so the library's real system validation (chain, validity, usage, name)
 * runs on every connect, rather than a custom validator that would skip it. */
static bool write_ca_pem(struct bench_openrr *rr)
{
    const unsigned char *p = rr->pfx;
    PKCS12 *p12 = d2i_PKCS12(NULL, &p, (long)rr->pfx_size);
    EVP_PKEY *key = NULL;
    X509 *cert = NULL;
    STACK_OF(X509) *chain = NULL;
    bool ok =
        p12 != NULL && PKCS12_parse(p12, BENCH_PASSWORD, &key, &cert, &chain) == 1 && cert != NULL;
    EVP_PKEY_free(key);
    sk_X509_pop_free(chain, X509_free);
    PKCS12_free(p12);
    if (!ok) {
        fprintf(stderr, "openrr: cannot read back the self-signed PKCS#12 store\n");
        X509_free(cert);
        return false;
    }
    const char *dir = getenv("TMPDIR");
    snprintf(rr->ca_path, sizeof(rr->ca_path), "%s/openrr-bench-ca-XXXXXX.pem",
             dir != NULL && dir[0] != '\0' ? dir : "/tmp");
    int fd = mkstemps(rr->ca_path, 4);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    ok = f != NULL && PEM_write_X509(f, cert) == 1;
    if (f != NULL)
        ok = fclose(f) == 0 && ok;
    else if (fd >= 0)
        close(fd);
    X509_free(cert);
    if (!ok) {
        perror("openrr: writing the CA PEM");
        if (fd >= 0)
            unlink(rr->ca_path);
        rr->ca_path[0] = '\0';
    }
    return ok;
}

static bool create_context(struct bench_openrr *rr, struct bench_endpoint *ep, enum rr_role role)
{
    struct rr_context_config cfg = {
        .role = role,
        .event_callback = bench_endpoint_on_event,
        .event_user = ep,
    };
    if (role == RR_ROLE_REMOTE) {
        cfg.ca_file = rr->ca_path;
        cfg.no_system_trust = true;
        /* The certificate names no CRL or OCSP location; this only guarantees that a
         * benchmark never reaches for the network. */
        cfg.no_revocation_fetch = true;
    }
    enum rr_result r = rr_context_create(&cfg, &ep->ctx);
    if (r != RR_OK)
        fprintf(stderr, "openrr: rr_context_create(%s): %s\n", ep->name, rr_result_str(r));
    return r == RR_OK;
}

/* Listen on the fixed ports (ephemeral the first time) and wait until the library says so. */
static bool listen_again(struct bench_openrr *rr, bool settle)
{
    struct bench_endpoint *l = &rr->listener;
    unsigned listening = bench_endpoint_read(l, &l->listening);
    unsigned disc = bench_endpoint_read(l, &l->disconnected);
    enum rr_result r = rr_context_listen_secure(l->ctx, BENCH_BIND, rr->port, rr->transport_port,
                                                &rr->cert_provider, &rr->auth_receiver);
    if (r != RR_OK) {
        fprintf(stderr, "openrr: rr_context_listen_secure: %s\n", rr_result_str(r));
        return false;
    }
    if (!bench_endpoint_wait(l, &l->listening, listening, &l->disconnected, disc, "Listening"))
        return false;
    pthread_mutex_lock(&l->mu);
    rr->port = l->port;
    rr->transport_port = l->transport_port;
    pthread_mutex_unlock(&l->mu);
    if (settle) {
        struct timespec pause = {.tv_sec = (time_t)(rr->settle_ns / 1000000000u),
                                 .tv_nsec = (long)(rr->settle_ns % 1000000000u)};
        nanosleep(&pause, NULL);
    }
    return true;
}

/* Time the store load the listener does after each Listening (see settle_ns). The fastest of
 * a few runs: that is the cost; slower runs are the machine. */
static bool time_store_load(struct bench_openrr *rr)
{
    double best = -1;
    for (int i = 0; i < 3; i++) {
        char fingerprint[96];
        char err[160];
        uint64_t t0 = bench_now_ns();
        enum rr_result r = rr_cert_store_check(rr->pfx, rr->pfx_size, BENCH_PASSWORD, BENCH_HOST,
                                               fingerprint, err, sizeof(err));
        double us = (double)(bench_now_ns() - t0) / 1000.0;
        if (r != RR_OK) {
            fprintf(stderr, "openrr: rr_cert_store_check: %s: %s\n", rr_result_str(r), err);
            return false;
        }
        if (best < 0 || us < best)
            best = us;
    }
    rr->store_load_us = best;
    /* Three times the load plus 5 ms: generous for a busy second core, short enough that
     * 400 connects still take seconds, not minutes. */
    rr->settle_ns = (uint64_t)(best * 3.0 * 1000.0) + 5000000u;
    return true;
}

bool bench_openrr_init(struct bench_openrr *rr)
{
    memset(rr, 0, sizeof(*rr));
    rr->cert_provider.get_certificate = get_certificate;
    rr->auth_receiver.get_realm = get_realm;
    rr->auth_receiver.validate_token = validate_token;
    rr->auth_provider.get_token = get_token;
    rr->lib_first_median_us = -1;
    rr->store_load_us = -1;
    atomic_init(&rr->tokens_requested, 0);
    rr->lib_cached_median_us = -1;

    rr->listener_ready = bench_endpoint_init(&rr->listener, "listener", true);
    rr->client_ready = bench_endpoint_init(&rr->client, "client", false);
    if (!rr->listener_ready || !rr->client_ready) {
        fprintf(stderr, "openrr: pthread setup failed\n");
        return false;
    }
    enum rr_result r =
        rr_cert_create_self_signed_pkcs12(BENCH_HOST, BENCH_PASSWORD, 1, &rr->pfx, &rr->pfx_size);
    if (r != RR_OK) {
        fprintf(stderr, "openrr: rr_cert_create_self_signed_pkcs12: %s\n", rr_result_str(r));
        return false;
    }
    return time_store_load(rr) && write_ca_pem(rr) &&
           create_context(rr, &rr->listener, RR_ROLE_PLAYER) &&
           create_context(rr, &rr->client, RR_ROLE_REMOTE) && listen_again(rr, false);
}

void bench_openrr_fini(struct bench_openrr *rr)
{
    rr_context_destroy(&rr->client.ctx);
    rr_context_destroy(&rr->listener.ctx);
    if (rr->client_ready)
        bench_endpoint_fini(&rr->client);
    if (rr->listener_ready)
        bench_endpoint_fini(&rr->listener);
    if (rr->ca_path[0] != '\0')
        unlink(rr->ca_path);
    if (rr->pfx != NULL) {
        OPENSSL_cleanse(rr->pfx, rr->pfx_size);
        free(rr->pfx);
    }
    rr->pfx = NULL;
}

/* ---- one connection -------------------------------------------------------------------------- */

/*
 * connect_secure → Connected on the client (the figure), then wait for Connected on the
 * listener too so that the next step starts from an established pair. The clock starts just
 * before rr_context_connect_secure, which must resolve BENCH_HOST like the anchor's
 * getaddrinfo, and stops when the client's event callback sees Connected.
 */
static bool connect_measure(struct bench_openrr *rr, double *out_us,
                            struct rr_connection_info *out_info)
{
    struct bench_endpoint *c = &rr->client;
    struct bench_endpoint *l = &rr->listener;
    unsigned c_conn = bench_endpoint_read(c, &c->connected);
    unsigned c_disc = bench_endpoint_read(c, &c->disconnected);
    unsigned l_conn = bench_endpoint_read(l, &l->connected);
    unsigned l_disc = bench_endpoint_read(l, &l->disconnected);

    uint64_t t0 = bench_now_ns();
    enum rr_result r =
        rr_context_connect_secure(c->ctx, BENCH_HOST, rr->port, &rr->auth_provider, NULL);
    if (r != RR_OK) {
        fprintf(stderr, "openrr: rr_context_connect_secure: %s\n", rr_result_str(r));
        return false;
    }
    if (!bench_endpoint_wait(c, &c->connected, c_conn, &c->disconnected, c_disc, "Connected"))
        return false;
    pthread_mutex_lock(&c->mu);
    uint64_t t1 = c->connected_ns;
    pthread_mutex_unlock(&c->mu);
    if (!bench_endpoint_wait(l, &l->connected, l_conn, &l->disconnected, l_disc, "Connected"))
        return false;

    r = rr_context_connection_info(c->ctx, out_info);
    if (r != RR_OK) {
        fprintf(stderr, "openrr: rr_context_connection_info: %s\n", rr_result_str(r));
        return false;
    }
    if (rr->tls[0] == '\0') {
        snprintf(rr->tls, sizeof(rr->tls), "%s %s", out_info->tls_version, out_info->tls_cipher);
        if (out_info->has_validation)
            rr_certificate_validation_result_format(&out_info->system_validation, rr->validation,
                                                    sizeof(rr->validation));
        else
            snprintf(rr->validation, sizeof(rr->validation), "(no validation reported)");
    }
    *out_us = (double)(t1 - t0) / 1000.0;
    return true;
}

static void note_reason(struct bench_openrr *rr, struct bench_endpoint *ep,
                        enum rr_disconnect_reason expected)
{
    pthread_mutex_lock(&ep->mu);
    enum rr_disconnect_reason got = ep->last_reason;
    pthread_mutex_unlock(&ep->mu);
    if (got == expected)
        return;
    if (rr->odd_disconnects++ == 0)
        snprintf(rr->odd_disconnect, sizeof(rr->odd_disconnect), "%s got %s, expected %s", ep->name,
                 rr_disconnect_reason_str(got), rr_disconnect_reason_str(expected));
}

/* The client disconnects; both sides must report it; the listener, which serves one
 * connection per listen, listens again on the same ports. */
static bool disconnect_and_relisten(struct bench_openrr *rr, bool settle)
{
    struct bench_endpoint *c = &rr->client;
    struct bench_endpoint *l = &rr->listener;
    unsigned c_disc = bench_endpoint_read(c, &c->disconnected);
    unsigned l_disc = bench_endpoint_read(l, &l->disconnected);
    enum rr_result r = rr_context_disconnect(c->ctx);
    if (r != RR_OK) {
        fprintf(stderr, "openrr: rr_context_disconnect: %s\n", rr_result_str(r));
        return false;
    }
    if (!bench_endpoint_wait(c, &c->disconnected, c_disc, NULL, 0, "Disconnected") ||
        !bench_endpoint_wait(l, &l->disconnected, l_disc, NULL, 0, "Disconnected"))
        return false;
    note_reason(rr, c, RR_REASON_DISCONNECT_REQUEST);
    note_reason(rr, l, RR_REASON_PEER_DISCONNECT_REQUEST);
    return listen_again(rr, settle);
}

/* Open a channel from the client and wait until both sides know it. */
static bool open_channel(struct bench_openrr *rr, uint8_t id, struct rr_data_channel **out_ch)
{
    struct bench_endpoint *c = &rr->client;
    struct bench_endpoint *l = &rr->listener;
    unsigned opened = bench_endpoint_read(c, &c->channels_opened);
    unsigned created = bench_endpoint_read(l, &l->channels_created);
    unsigned c_disc = bench_endpoint_read(c, &c->disconnected);
    unsigned l_disc = bench_endpoint_read(l, &l->disconnected);
    enum rr_result r = rr_data_channel_create(c->ctx, id, RR_PRIORITY_MEDIUM, out_ch);
    if (r != RR_OK) {
        fprintf(stderr, "openrr: rr_data_channel_create(%u): %s\n", (unsigned)id, rr_result_str(r));
        return false;
    }
    return bench_endpoint_wait(c, &c->channels_opened, opened, &c->disconnected, c_disc,
                               "DataChannelOpened") &&
           bench_endpoint_wait(l, &l->channels_created, created, &l->disconnected, l_disc,
                               "DataChannelCreated");
}

/* Guaranteed send that waits out RR_ERROR_QUEUE_FULL: the queue (64 MiB by default) takes
 * far longer to drain than the pause, so the network thread never starves. */
static bool send_guaranteed(struct rr_data_channel *ch, const void *data, size_t size)
{
    for (;;) {
        enum rr_result r = rr_data_channel_send(ch, data, size, true);
        if (r == RR_OK)
            return true;
        if (r != RR_ERROR_QUEUE_FULL) {
            fprintf(stderr, "openrr: rr_data_channel_send: %s\n", rr_result_str(r));
            return false;
        }
        struct timespec pause = {.tv_nsec = 1000 * 1000};
        nanosleep(&pause, NULL);
    }
}

/* ---- figures --------------------------------------------------------------------------------- */

bool bench_openrr_connect_once(struct bench_openrr *rr, bool fresh, double *out_us,
                               double *out_lib_us)
{
    if (fresh) {
        /* Not timed: creating a context is not part of connecting. */
        rr_context_destroy(&rr->client.ctx);
        if (!create_context(rr, &rr->client, RR_ROLE_REMOTE))
            return false;
    }
    unsigned tokens = atomic_load(&rr->tokens_requested);
    struct rr_connection_info info;
    if (!connect_measure(rr, out_us, &info))
        return false;
    tokens = atomic_load(&rr->tokens_requested) - tokens;
    if (fresh) {
        rr->first_token_requests += tokens;
        if (info.token_from_cache)
            rr->first_from_cache++;
    } else {
        rr->cached_token_requests += tokens;
        rr->cached_total++;
        if (!info.token_from_cache)
            rr->cached_not_cached++;
    }
    *out_lib_us = (double)info.handshake_us;
    /* Settle so that the next connect, whichever side makes it, finds a loaded listener. */
    return disconnect_and_relisten(rr, true);
}

bool bench_openrr_bulk(struct bench_openrr *rr, const struct bench_params *p,
                       struct bench_figures *out)
{
    struct bench_endpoint *l = &rr->listener;
    double us;
    struct rr_connection_info info;
    struct rr_data_channel *ch = NULL;
    unsigned char *chunk = malloc(BENCH_BULK_CHUNK);
    if (chunk == NULL || !connect_measure(rr, &us, &info) ||
        !open_channel(rr, BENCH_BULK_CHANNEL, &ch)) {
        free(chunk);
        return false;
    }
    memset(chunk, 0xa5, BENCH_BULK_CHUNK);
    bench_endpoint_arm_bulk(l, p->bulk_bytes);
    unsigned done = bench_endpoint_read(l, &l->bulk_done);
    unsigned l_disc = bench_endpoint_read(l, &l->disconnected);

    uint64_t t0 = bench_now_ns();
    bool ok = true;
    for (size_t sent = 0; ok && sent < p->bulk_bytes; sent += BENCH_BULK_CHUNK) {
        size_t n =
            p->bulk_bytes - sent < BENCH_BULK_CHUNK ? p->bulk_bytes - sent : BENCH_BULK_CHUNK;
        ok = send_guaranteed(ch, chunk, n);
    }
    ok = ok && bench_endpoint_wait(l, &l->bulk_done, done, &l->disconnected, l_disc,
                                   "the last bulk byte");
    pthread_mutex_lock(&l->mu);
    uint64_t t1 = l->bulk_done_ns;
    pthread_mutex_unlock(&l->mu);
    free(chunk);
    rr_data_channel_destroy(&ch);
    ok = disconnect_and_relisten(rr, false) && ok;
    if (ok)
        out->bulk_mb_s = (double)p->bulk_bytes / ((double)(t1 - t0) / 1e9) / 1e6;
    return ok;
}

bool bench_openrr_rtt_start(struct bench_openrr *rr)
{
    double us;
    struct rr_connection_info info;
    return connect_measure(rr, &us, &info) && open_channel(rr, BENCH_ECHO_CHANNEL, &rr->echo_ch);
}

bool bench_openrr_rtt_once(struct bench_openrr *rr, double *out_us)
{
    static const unsigned char msg[BENCH_SMALL_SIZE] = {'e'};
    struct bench_endpoint *c = &rr->client;
    struct bench_endpoint *l = &rr->listener;
    unsigned echoes = bench_endpoint_read(c, &c->echoes);
    unsigned c_disc = bench_endpoint_read(c, &c->disconnected);
    uint64_t t0 = bench_now_ns();
    if (!send_guaranteed(rr->echo_ch, msg, sizeof(msg)) ||
        !bench_endpoint_wait(c, &c->echoes, echoes, &c->disconnected, c_disc, "echo")) {
        pthread_mutex_lock(&l->mu);
        if (l->echo_error != RR_OK)
            fprintf(stderr, "openrr: the listener's echo send failed: %s\n",
                    rr_result_str(l->echo_error));
        pthread_mutex_unlock(&l->mu);
        return false;
    }
    /* The end is when the echo reached the client's callback, not when this thread woke:
     * the wake-up is the benchmark's own hop, not the library's. */
    pthread_mutex_lock(&c->mu);
    uint64_t t1 = c->echo_ns;
    pthread_mutex_unlock(&c->mu);
    *out_us = (double)(t1 - t0) / 1000.0;
    return true;
}

bool bench_openrr_rtt_stop(struct bench_openrr *rr)
{
    if (rr->echo_ch == NULL)
        return true;
    rr_data_channel_destroy(&rr->echo_ch);
    return disconnect_and_relisten(rr, false);
}

bool bench_openrr_handshakes(struct bench_openrr *rr, const struct bench_params *p,
                             struct bench_figures *out)
{
    /* One client context reconnecting: its token is cached, so each connection is a TLS
     * handshake plus one request/response, the same work as the anchor's D. The listener
     * serves one connection per listen, so each cycle also includes the disconnect on both
     * sides and listening again. */
    uint64_t t0 = bench_now_ns();
    uint64_t limit = (uint64_t)(p->handshake_seconds * 1e9);
    uint64_t t1 = t0;
    unsigned long done = 0;
    while (t1 - t0 < limit) {
        double us;
        struct rr_connection_info info;
        if (!connect_measure(rr, &us, &info) || !disconnect_and_relisten(rr, false))
            return false;
        done++;
        t1 = bench_now_ns();
    }
    out->handshakes_per_s = (double)done / ((double)(t1 - t0) / 1e9);
    return true;
}
