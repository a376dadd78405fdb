/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench_stream_pair — a connected remote/player pair on loopback TLS (see bench_stream_pair.h).
 * Threads: the measuring thread; the interface callbacks on the network threads complete
 * their requests before returning. Events are polled (no event callback): the streams do not
 * use them, and waiting for Listening and Connected is all the pair needs.
 */
#include "bench_stream_pair.h"

#include "bench.h"
#include "bench_stream.h"
#include "bench_stats.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>

#define PASSWORD "bench"
#define REALM "openrr-bench"
/* Not a secret: it only has to match between the two contexts of this process. */
#define TOKEN "bench-stream-token-5d0e93"

/* @p ptr must be a plain identifier (clang-format would mangle a parenthesised one). */
#define container_of(ptr, type, member) ((type *)((char *)ptr - offsetof(type, member)))

/* ---- the application interfaces, answering at once ------------------------------------- */

static void get_certificate(struct rr_certificate_provider *self,
                            struct rr_certificate_request *req)
{
    struct bench_stream_tls *t = container_of(self, struct bench_stream_tls, cert_provider);
    rr_certificate_request_complete(req, t->pfx, t->pfx_size, BENCH_HOST, PASSWORD);
}

static const char *get_realm(struct rr_authentication_receiver *self)
{
    return REALM;
}

static void validate_token(struct rr_authentication_receiver *self, const char *token,
                           struct rr_token_validation *req)
{
    rr_token_validation_complete(req, token != NULL && strcmp(token, TOKEN) == 0);
}

static void get_token(struct rr_authentication_provider *self, const char *realm,
                      struct rr_token_request *req)
{
    rr_token_request_complete(req, TOKEN);
}

/* ---- certificate ------------------------------------------------------------------------- */

/* The store's certificate as a PEM file: the player trusts it through cfg.ca_file with
 * no_system_trust, so the library's real system validation (chain, validity, usage, name)
 * runs, rather than a custom validator that would skip it. */
static bool write_ca_pem(struct bench_stream_tls *t)
{
    const unsigned char *p = t->pfx;
    PKCS12 *p12 = d2i_PKCS12(NULL, &p, (long)t->pfx_size);
    EVP_PKEY *key = NULL;
    X509 *cert = NULL;
    STACK_OF(X509) *chain = NULL;
    bool ok = p12 != NULL && PKCS12_parse(p12, PASSWORD, &key, &cert, &chain) == 1 && cert != NULL;
    EVP_PKEY_free(key);
    sk_X509_pop_free(chain, X509_free);
    PKCS12_free(p12);
    if (!ok) {
        fprintf(stderr, "bench_stream: cannot read back the self-signed PKCS#12 store\n");
        X509_free(cert);
        return false;
    }
    const char *dir = getenv("TMPDIR");
    snprintf(t->ca_path, sizeof(t->ca_path), "%s/openrr-bench-stream-ca-XXXXXX.pem",
             dir != NULL && dir[0] != '\0' ? dir : "/tmp");
    int fd = mkstemps(t->ca_path, 4);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    ok = f != NULL && PEM_write_X509(f, cert) == 1;
    if (f != NULL)
        ok = fclose(f) == 0 && ok;
    else if (fd >= 0)
        close(fd);
    X509_free(cert);
    if (!ok) {
        perror("bench_stream: writing the CA PEM");
        if (fd >= 0)
            unlink(t->ca_path);
        t->ca_path[0] = '\0';
    }
    return ok;
}

bool bench_stream_tls_init(struct bench_stream_tls *t)
{
    memset(t, 0, sizeof(*t));
    t->cert_provider.get_certificate = get_certificate;
    t->auth_receiver.get_realm = get_realm;
    t->auth_receiver.validate_token = validate_token;
    t->auth_provider.get_token = get_token;
    enum rr_result r =
        rr_cert_create_self_signed_pkcs12(BENCH_HOST, PASSWORD, 1, &t->pfx, &t->pfx_size);
    if (r != RR_OK) {
        fprintf(stderr, "bench_stream: rr_cert_create_self_signed_pkcs12: %s\n", rr_result_str(r));
        return false;
    }
    return write_ca_pem(t);
}

void bench_stream_tls_fini(struct bench_stream_tls *t)
{
    if (t->ca_path[0] != '\0')
        unlink(t->ca_path);
    t->ca_path[0] = '\0';
    if (t->pfx != NULL) {
        OPENSSL_cleanse(t->pfx, t->pfx_size);
        free(t->pfx);
    }
    t->pfx = NULL;
}

/* ---- the pair ---------------------------------------------------------------------------- */

/* Poll @p ctx until an event of @p type (its port into *out_port when not NULL). A
 * Disconnected first, or BENCH_STREAM_WAIT_MS, is a failure. */
static bool wait_event(struct rr_context *ctx, const char *who, enum rr_event_type type,
                       uint16_t *out_port)
{
    uint64_t deadline = bench_now_ns() + (uint64_t)BENCH_STREAM_WAIT_MS * 1000000u;
    for (;;) {
        uint64_t now = bench_now_ns();
        if (now >= deadline) {
            fprintf(stderr, "bench_stream: %s: no %s within %d ms\n", who, rr_event_type_str(type),
                    BENCH_STREAM_WAIT_MS);
            return false;
        }
        struct rr_event ev = {0};
        if (rr_context_poll_event(ctx, &ev, (int)((deadline - now) / 1000000u) + 1) != RR_OK)
            continue;
        bool done = ev.type == type;
        bool failed = !done && ev.type == RR_EVENT_DISCONNECTED;
        if (done && out_port != NULL)
            *out_port = ev.port;
        if (failed)
            fprintf(stderr, "bench_stream: %s: disconnected while waiting for %s: %s %s\n", who,
                    rr_event_type_str(type), rr_disconnect_reason_str(ev.reason), ev.detail);
        rr_event_release(&ev);
        if (done || failed)
            return done;
    }
}

static bool create_context(struct bench_stream_tls *t, enum rr_role role, struct rr_context **out)
{
    struct rr_context_config cfg = {.role = role, .codecs = "h264"};
    if (role == RR_ROLE_PLAYER) {
        cfg.ca_file = t->ca_path;
        cfg.no_system_trust = true;
        /* The certificate names no CRL or OCSP location; this only guarantees that a
         * benchmark never reaches for the network. */
        cfg.no_revocation_fetch = true;
    }
    enum rr_result r = rr_context_create(&cfg, out);
    if (r != RR_OK)
        fprintf(stderr, "bench_stream: rr_context_create(%s): %s\n",
                role == RR_ROLE_PLAYER ? "player" : "remote", rr_result_str(r));
    return r == RR_OK;
}

static bool create_streams(struct bench_stream_pair *pair,
                           const struct rr_stream_remote_config *cfg)
{
    enum rr_result r = rr_stream_remote_create(pair->remote_ctx, cfg, &pair->remote);
    if (r != RR_OK) {
        fprintf(stderr, "bench_stream: rr_stream_remote_create: %s\n", rr_result_str(r));
        return false;
    }
    struct rr_stream_player_config pcfg = {0};
    r = rr_stream_player_create(pair->player_ctx, &pcfg, &pair->player);
    if (r != RR_OK) {
        fprintf(stderr, "bench_stream: rr_stream_player_create: %s\n", rr_result_str(r));
        return false;
    }
    return true;
}

static void note_connection(struct bench_stream_pair *pair, struct bench_stream_tls *t)
{
    struct rr_connection_info info;
    if (t->tls[0] != '\0' || rr_context_connection_info(pair->player_ctx, &info) != RR_OK)
        return;
    snprintf(t->tls, sizeof(t->tls), "%s %s", info.tls_version, info.tls_cipher);
    snprintf(t->codec, sizeof(t->codec), "%s", info.codec);
    if (info.has_validation)
        rr_certificate_validation_result_format(&info.system_validation, t->validation,
                                                sizeof(t->validation));
    else
        snprintf(t->validation, sizeof(t->validation), "(no validation reported)");
}

bool bench_stream_pair_open(struct bench_stream_pair *pair, struct bench_stream_tls *t,
                            const struct rr_stream_remote_config *cfg)
{
    memset(pair, 0, sizeof(*pair));
    if (!create_context(t, RR_ROLE_REMOTE, &pair->remote_ctx) ||
        !create_context(t, RR_ROLE_PLAYER, &pair->player_ctx) || !create_streams(pair, cfg))
        return false;
    enum rr_result r = rr_context_listen_secure(pair->remote_ctx, BENCH_BIND, 0, 0,
                                                &t->cert_provider, &t->auth_receiver);
    if (r != RR_OK) {
        fprintf(stderr, "bench_stream: rr_context_listen_secure: %s\n", rr_result_str(r));
        return false;
    }
    uint16_t port = 0;
    if (!wait_event(pair->remote_ctx, "remote", RR_EVENT_LISTENING, &port))
        return false;
    r = rr_context_connect_secure(pair->player_ctx, BENCH_HOST, port, &t->auth_provider, NULL);
    if (r != RR_OK) {
        fprintf(stderr, "bench_stream: rr_context_connect_secure: %s\n", rr_result_str(r));
        return false;
    }
    if (!wait_event(pair->player_ctx, "player", RR_EVENT_CONNECTED, NULL) ||
        !wait_event(pair->remote_ctx, "remote", RR_EVENT_CONNECTED, NULL))
        return false;
    note_connection(pair, t);
    return true;
}

bool bench_stream_pair_connected(struct bench_stream_pair *pair)
{
    return rr_context_state(pair->remote_ctx, NULL) == RR_STATE_CONNECTED &&
           rr_context_state(pair->player_ctx, NULL) == RR_STATE_CONNECTED;
}

void bench_stream_pair_close(struct bench_stream_pair *pair)
{
    /* Disconnect before detaching the streams: a stream destroyed on a live connection leaves
     * its built-in channels unattended, and a record the peer had already queued on one (a
     * frame report, a clock exchange) would end the connection as a protocol error. */
    if (pair->player_ctx != NULL && pair->remote_ctx != NULL && bench_stream_pair_connected(pair) &&
        rr_context_disconnect(pair->player_ctx) == RR_OK) {
        wait_event(pair->player_ctx, "player", RR_EVENT_DISCONNECTED, NULL);
        wait_event(pair->remote_ctx, "remote", RR_EVENT_DISCONNECTED, NULL);
    }
    /* The streams belong to their contexts' built-in channels: they go before the contexts. */
    rr_stream_player_destroy(&pair->player);
    rr_stream_remote_destroy(&pair->remote);
    rr_context_destroy(&pair->player_ctx);
    rr_context_destroy(&pair->remote_ctx);
}
