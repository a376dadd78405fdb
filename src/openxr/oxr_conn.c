/* SPDX-License-Identifier: Apache-2.0 */
/*
 * oxr_conn — the connection to the player (see oxr_conn.h).
 *
 * Threads: start/disconnect/state/poll from application threads; the security interfaces run
 * on the context's network thread and only read what was fixed before the start.
 */
#include "oxr_conn.h"

#include "u_log.h"

#include <openssl/crypto.h>

#include <stdlib.h>
#include <string.h>

#define LOG_MOD "openxr"
#define TC_FROM(ptr, member)                                                                       \
    ((struct oxr_conn *)(void *)((char *)(ptr)-offsetof(struct oxr_conn, member)))

struct oxr_conn {
    const struct oxr_config *cfg;
    struct rr_context *ctx;
    struct rr_stream_remote *stream;
    bool configured;  /* the last start came from the configuration */
    bool app_started; /* the application connected or listened itself */
    uint8_t *store;   /* certificate store bytes (secure listener); wiped */
    size_t store_size;
    struct oxr_client_callbacks client; /* the application's, when set */
    struct oxr_server_callbacks server;
    struct rr_certificate_provider cert_provider;
    struct rr_authentication_receiver auth_receiver;
    struct rr_authentication_provider auth_provider;
    struct rr_certificate_validator validator; /* only with the application's callback */
};

/* ---- security from the configuration (network thread) ------------------------------------ */

static void provide_certificate(struct rr_certificate_provider *self,
                                struct rr_certificate_request *req)
{
    struct oxr_conn *c = TC_FROM(self, cert_provider);
    if (c->server.set) {
        oxr_cb_request_certificate(&c->server, req);
        return;
    }
    if (c->store == NULL) {
        U_LOG_E(LOG_MOD, "a certificate was requested but no store is loaded (OPENRR_CERTSTORE)");
        rr_certificate_request_cancel(req);
        return;
    }
    rr_certificate_request_complete(req, c->store, c->store_size,
                                    c->cfg->subject[0] != '\0' ? c->cfg->subject : NULL,
                                    c->cfg->passphrase != NULL ? c->cfg->passphrase : "");
}

static const char *provide_realm(struct rr_authentication_receiver *self)
{
    struct oxr_conn *c = TC_FROM(self, auth_receiver);
    return c->server.set && c->server.realm[0] != '\0' ? c->server.realm : c->cfg->realm;
}

static void check_token(struct rr_authentication_receiver *self, const char *token,
                        struct rr_token_validation *req)
{
    struct oxr_conn *c = TC_FROM(self, auth_receiver);
    if (c->server.set) {
        oxr_cb_validate_token(&c->server, token, req);
        return;
    }
    const char *want = c->cfg->token;
    size_t n = want != NULL ? strlen(want) : 0;
    /* Constant time: no timing signal about how much of a guess was right. */
    bool valid = want != NULL && token != NULL && strnlen(token, RR_MAX_TOKEN_SIZE + 1) == n &&
                 CRYPTO_memcmp(token, want, n) == 0;
    U_LOG_I(LOG_MOD, "client token %s", valid ? "accepted" : "rejected");
    rr_token_validation_complete(req, valid);
}

static void provide_token(struct rr_authentication_provider *self, const char *realm,
                          struct rr_token_request *req)
{
    struct oxr_conn *c = TC_FROM(self, auth_provider);
    (void)realm;
    if (c->client.set) {
        oxr_cb_request_token(&c->client, req);
        return;
    }
    if (c->cfg->token == NULL) {
        rr_token_request_cancel(req);
        return;
    }
    rr_token_request_complete(req, c->cfg->token);
}

static void validate_chain(struct rr_certificate_validator *self,
                           const struct rr_certificate_chain *chain, const char *server_name,
                           bool force_revocation_check,
                           const struct rr_certificate_validation_result *system_result,
                           struct rr_certificate_validation *req)
{
    struct oxr_conn *c = TC_FROM(self, validator);
    oxr_cb_validate_certificate(&c->client, chain, server_name, force_revocation_check,
                                system_result, req);
}

/* ---- life ---------------------------------------------------------------------------------- */

/* A context and a stream for the configuration with these stream settings. */
static enum rr_result make_context(struct oxr_conn *c, uint32_t bitrate_kbps, const char *codecs)
{
    const struct oxr_config *cfg = c->cfg;
    const char *encoder = cfg->encoder[0] != '\0' ? cfg->encoder : NULL;
    struct rr_context_config cc = {
        .role = RR_ROLE_REMOTE,
        .ca_file = cfg->cafile[0] != '\0' ? cfg->cafile : NULL,
        .codecs = codecs != NULL ? codecs : rr_stream_remote_codecs(encoder),
    };
    enum rr_result r = rr_context_create(&cc, &c->ctx);
    if (r != RR_OK) {
        return r;
    }
    struct rr_stream_remote_config sc = {
        .eye_width = cfg->eye_width,
        .eye_height = cfg->eye_height,
        .fps = cfg->fps,
        .max_bitrate_kbps = bitrate_kbps != 0 ? bitrate_kbps : cfg->bitrate_kbps,
        .encoder = encoder,
    };
    r = rr_stream_remote_create(c->ctx, &sc, &c->stream);
    if (r != RR_OK) {
        rr_context_destroy(&c->ctx);
    }
    return r;
}

enum rr_result oxr_conn_create(const struct oxr_config *cfg, struct oxr_conn **out_conn)
{
    struct oxr_conn *c = calloc(1, sizeof *c);
    if (c == NULL) {
        return RR_ERROR_OUT_OF_MEMORY;
    }
    c->cfg = cfg;
    c->cert_provider.get_certificate = provide_certificate;
    c->auth_receiver.get_realm = provide_realm;
    c->auth_receiver.validate_token = check_token;
    c->auth_provider.get_token = provide_token;
    c->validator.validate_certificate = validate_chain;
    enum rr_result r = make_context(c, 0, NULL);
    if (r != RR_OK) {
        free(c);
        return r;
    }
    *out_conn = c;
    return RR_OK;
}

enum rr_result oxr_conn_reconfigure(struct oxr_conn *c, uint32_t bitrate_kbps, const char *codecs)
{
    if (rr_context_state(c->ctx, NULL) != RR_STATE_DISCONNECTED) {
        return RR_ERROR_WRONG_STATE;
    }
    struct rr_context *old_ctx = c->ctx;
    struct rr_stream_remote *old_stream = c->stream;
    c->ctx = NULL;
    c->stream = NULL;
    enum rr_result r = make_context(c, bitrate_kbps, codecs);
    if (r != RR_OK) {
        c->ctx = old_ctx; /* keep working with the old settings */
        c->stream = old_stream;
        return r;
    }
    rr_stream_remote_destroy(&old_stream);
    rr_context_destroy(&old_ctx);
    return RR_OK;
}

void oxr_conn_set_client_callbacks(struct oxr_conn *c, const struct oxr_client_callbacks *cb)
{
    c->client = *cb;
}

void oxr_conn_set_server_callbacks(struct oxr_conn *c, const struct oxr_server_callbacks *cb)
{
    c->server = *cb;
}

bool oxr_conn_app_started(const struct oxr_conn *c)
{
    return c->app_started;
}

static void wipe_store(struct oxr_conn *c)
{
    if (c->store != NULL) {
        OPENSSL_cleanse(c->store, c->store_size);
        free(c->store);
        c->store = NULL;
        c->store_size = 0;
    }
}

void oxr_conn_destroy(struct oxr_conn **conn_ptr)
{
    struct oxr_conn *c = conn_ptr != NULL ? *conn_ptr : NULL;
    if (c == NULL) {
        return;
    }
    rr_stream_remote_destroy(&c->stream);
    rr_context_destroy(&c->ctx);
    wipe_store(c);
    free(c);
    *conn_ptr = NULL;
}

/* ---- start --------------------------------------------------------------------------------- */

/* The connect and listen behind both the configuration's and the application's starts. */
static enum rr_result do_connect(struct oxr_conn *c, const char *host, uint16_t port, bool secure)
{
    if (!secure) {
        return rr_context_connect(c->ctx, host, port);
    }
    if (c->client.set && c->client.request_token != NULL) {
        c->validator.perform_system_validation = c->client.perform_system_validation;
        return rr_context_connect_secure(c->ctx, host, port, &c->auth_provider,
                                         c->client.validate_certificate != NULL ? &c->validator
                                                                                : NULL);
    }
    if (c->cfg->token == NULL) {
        U_LOG_E(LOG_MOD, "a secure connect needs a token: the client callbacks "
                         "(xrRemotingSetSecureConnectionClientCallbacksMSFT) or OPENRR_TOKEN");
        return RR_ERROR_INVALID_ARGUMENT;
    }
    return rr_context_connect_secure(c->ctx, host, port, &c->auth_provider, NULL);
}

static enum rr_result do_listen(struct oxr_conn *c, const char *host, uint16_t port,
                                uint16_t transport_port, bool secure)
{
    const char *local = host != NULL && host[0] != '\0' ? host : NULL;
    if (!secure) {
        return rr_context_listen(c->ctx, local, port, transport_port);
    }
    bool app =
        c->server.set && c->server.request_certificate != NULL && c->server.validate_token != NULL;
    if (!app && (c->cfg->certstore[0] == '\0' || c->cfg->token == NULL)) {
        U_LOG_E(LOG_MOD, "a secure listener needs the server callbacks "
                         "(xrRemotingSetSecureConnectionServerCallbacksMSFT) or OPENRR_CERTSTORE "
                         "and OPENRR_TOKEN");
        return RR_ERROR_INVALID_ARGUMENT;
    }
    if (!app && c->store == NULL) {
        enum rr_result r = rr_file_read(c->cfg->certstore, &c->store, &c->store_size);
        if (r != RR_OK) {
            U_LOG_E(LOG_MOD, "cannot read the certificate store '%s' (%s)", c->cfg->certstore,
                    rr_result_str(r));
            return r;
        }
    }
    return rr_context_listen_secure(c->ctx, local, port, transport_port, &c->cert_provider,
                                    &c->auth_receiver);
}

enum rr_result oxr_conn_connect(struct oxr_conn *c, const char *host, uint16_t port, bool secure)
{
    enum rr_result r = do_connect(c, host, port, secure);
    if (r == RR_OK) {
        c->configured = false;
        c->app_started = true;
    }
    return r;
}

enum rr_result oxr_conn_listen(struct oxr_conn *c, const char *host, uint16_t port,
                               uint16_t transport_port, bool secure)
{
    enum rr_result r = do_listen(c, host, port, transport_port, secure);
    if (r == RR_OK) {
        c->configured = false;
        c->app_started = true;
    }
    return r;
}

enum rr_result oxr_conn_start_configured(struct oxr_conn *c)
{
    const struct oxr_config *cfg = c->cfg;
    bool secure = cfg->token != NULL;
    enum rr_result r;
    if (cfg->listen) {
        r = do_listen(c, cfg->host, cfg->port, cfg->transport_port, secure);
    } else {
        r = do_connect(c, cfg->host, cfg->port, secure);
    }
    if (r == RR_OK) {
        c->configured = true;
        U_LOG_I(LOG_MOD, "%s %s port %u (%s, from %s)",
                cfg->listen ? "listening on" : "connecting to",
                cfg->host[0] != '\0' ? cfg->host : "all addresses", cfg->port,
                secure ? "secure" : "plain", cfg->source);
    }
    return r;
}

enum rr_result oxr_conn_disconnect(struct oxr_conn *c)
{
    return rr_context_disconnect(c->ctx);
}

/* ---- state ---------------------------------------------------------------------------------- */

enum rr_connection_state oxr_conn_state(struct oxr_conn *c, enum rr_disconnect_reason *out_reason)
{
    return rr_context_state(c->ctx, out_reason);
}

bool oxr_conn_configured(const struct oxr_conn *c)
{
    return c->configured;
}

enum rr_result oxr_conn_poll(struct oxr_conn *c, struct rr_event *out_event, int timeout_ms)
{
    return rr_context_poll_event(c->ctx, out_event, timeout_ms);
}

struct rr_context *oxr_conn_context(struct oxr_conn *c)
{
    return c->ctx;
}

struct rr_stream_remote *oxr_conn_stream(struct oxr_conn *c)
{
    return c->stream;
}

const struct oxr_config *oxr_conn_config(const struct oxr_conn *c)
{
    return c->cfg;
}
