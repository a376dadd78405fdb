/* SPDX-License-Identifier: Apache-2.0 */
/* Test helpers; see rr_test.h. */
#include "rr_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

const char *rr_test_pki(const char *name)
{
    static char bufs[8][512];
    static int next;
    const char *dir = getenv("RR_PKI_DIR");
    char *b = bufs[next++ % 8];
    snprintf(b, sizeof(bufs[0]), "%s/%s", dir ? dir : ".", name);
    return b;
}

bool rr_test_have_pki(void)
{
    struct stat st;
    return getenv("RR_PKI_DIR") != NULL && stat(rr_test_pki("good.p12"), &st) == 0;
}

struct rr_context_config rr_test_config(enum rr_role role)
{
    struct rr_context_config c;
    memset(&c, 0, sizeof(c));
    c.role = role;
    c.handshake_timeout_ms = 5000;
    return c;
}

uint64_t rr_test_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

bool rr_test_wait_event(struct rr_context *ctx, enum rr_event_type type, int timeout_ms,
                        struct rr_event *out)
{
    uint64_t end = rr_test_now_ms() + (uint64_t)timeout_ms;
    for (;;) {
        uint64_t now = rr_test_now_ms();
        if (now >= end) {
            return false;
        }
        struct rr_event ev;
        if (rr_context_poll_event(ctx, &ev, (int)(end - now)) != RR_OK) {
            continue;
        }
        if (ev.type == type) {
            if (out != NULL) {
                *out = ev;
            } else {
                rr_event_release(&ev);
            }
            return true;
        }
        rr_event_release(&ev);
    }
}

uint16_t rr_test_wait_listening(struct rr_context *ctx, int timeout_ms)
{
    struct rr_event ev;
    uint64_t end = rr_test_now_ms() + (uint64_t)timeout_ms;
    while (rr_test_now_ms() < end) {
        if (rr_context_poll_event(ctx, &ev, 100) != RR_OK) {
            continue;
        }
        if (ev.type == RR_EVENT_LISTENING) {
            return ev.port;
        }
        rr_event_release(&ev);
        if (ev.type == RR_EVENT_DISCONNECTED) {
            return 0;
        }
    }
    return 0;
}

static enum rr_disconnect_reason wait_reason(struct rr_context *ctx, enum rr_event_type type,
                                             int timeout_ms, char *detail, size_t size,
                                             enum rr_disconnect_reason none)
{
    struct rr_event ev;
    if (!rr_test_wait_event(ctx, type, timeout_ms, &ev)) {
        if (detail != NULL) {
            snprintf(detail, size, "timeout");
        }
        return none;
    }
    if (detail != NULL) {
        snprintf(detail, size, "%s", ev.detail);
    }
    rr_event_release(&ev);
    return ev.reason;
}

enum rr_disconnect_reason rr_test_wait_disconnected(struct rr_context *ctx, int timeout_ms,
                                                    char *detail, size_t detail_size)
{
    return wait_reason(ctx, RR_EVENT_DISCONNECTED, timeout_ms, detail, detail_size,
                       RR_REASON_UNKNOWN);
}

enum rr_disconnect_reason rr_test_wait_attempt_failed(struct rr_context *ctx, int timeout_ms,
                                                      char *detail, size_t detail_size)
{
    return wait_reason(ctx, RR_EVENT_ATTEMPT_FAILED, timeout_ms, detail, detail_size,
                       RR_REASON_NONE);
}

/* ---- token provider ---- */
static void tp_get_token(struct rr_authentication_provider *self, const char *realm,
                         struct rr_token_request *req)
{
    struct rr_test_token_provider *p = (struct rr_test_token_provider *)self;
    p->calls++;
    snprintf(p->last_realm, sizeof(p->last_realm), "%s", realm);
    if (p->defer) {
        __atomic_store_n(&p->pending, req, __ATOMIC_SEQ_CST);
    } else if (p->cancel) {
        rr_token_request_cancel(req);
    } else {
        rr_token_request_complete(req, p->token);
    }
}

void rr_test_token_provider_init(struct rr_test_token_provider *p, const char *token)
{
    memset(p, 0, sizeof(*p));
    p->base.get_token = tp_get_token;
    p->token = token;
}

/* ---- token receiver ---- */
static const char *tr_realm(struct rr_authentication_receiver *self)
{
    return ((struct rr_test_token_receiver *)self)->realm;
}

static void tr_validate(struct rr_authentication_receiver *self, const char *token,
                        struct rr_token_validation *req)
{
    struct rr_test_token_receiver *r = (struct rr_test_token_receiver *)self;
    r->calls++;
    r->last_token_len = strlen(token);
    if (r->defer) {
        __atomic_store_n(&r->pending, req, __ATOMIC_SEQ_CST);
        return;
    }
    rr_token_validation_complete(req, r->expected != NULL && strcmp(token, r->expected) == 0);
}

void rr_test_token_receiver_init(struct rr_test_token_receiver *r, const char *expected,
                                 const char *realm)
{
    memset(r, 0, sizeof(*r));
    r->base.get_realm = tr_realm;
    r->base.validate_token = tr_validate;
    r->expected = expected;
    r->realm = realm;
}

/* ---- certificate provider ---- */
static void cp_get(struct rr_certificate_provider *self, struct rr_certificate_request *req)
{
    struct rr_test_cert_provider *p =
        (struct rr_test_cert_provider *)((char *)self -
                                         offsetof(struct rr_test_cert_provider, base));
    p->calls++;
    if (p->defer) {
        __atomic_store_n(&p->pending, req, __ATOMIC_SEQ_CST);
        return;
    }
    rr_certificate_request_complete(req, p->store, p->size, p->subject, p->password);
}

bool rr_test_cert_provider_init(struct rr_test_cert_provider *p, const char *path,
                                const char *subject, const char *password)
{
    memset(p, 0, sizeof(*p));
    p->base.get_certificate = cp_get;
    p->subject = subject;
    p->password = password;
    return rr_file_read(path, &p->store, &p->size) == RR_OK;
}

void rr_test_cert_provider_fini(struct rr_test_cert_provider *p)
{
    free(p->store);
    p->store = NULL;
}

void rr_test_cert_provider_complete(struct rr_test_cert_provider *p)
{
    struct rr_certificate_request *req = p->pending;
    p->pending = NULL;
    rr_certificate_request_complete(req, p->store, p->size, p->subject, p->password);
}

/* ---- validator ---- */
static void v_validate(struct rr_certificate_validator *self,
                       const struct rr_certificate_chain *chain, const char *server_name,
                       bool force, const struct rr_certificate_validation_result *system_result,
                       struct rr_certificate_validation *req)
{
    struct rr_test_validator *v = (struct rr_test_validator *)self;
    v->calls++;
    v->had_system_result = system_result != NULL;
    if (system_result != NULL) {
        v->system_result = *system_result;
    }
    snprintf(v->server_name, sizeof(v->server_name), "%s", server_name);
    v->force = force;
    v->chain_count = chain->count;
    v->leaf_size = chain->count ? chain->certificates[0].size : 0;
    if (v->defer) {
        __atomic_store_n(&v->pending, req, __ATOMIC_SEQ_CST);
        return;
    }
    struct rr_certificate_validation_result r;
    memset(&r, 0, sizeof(r));
    if (v->accept_all || system_result == NULL) {
        r.trusted_root = true;
        r.name_validation_result = RR_NAME_MATCH;
    } else {
        r = *system_result;
    }
    if (v->clear_name && r.name_validation_result == RR_NAME_MISMATCH) {
        r.name_validation_result = RR_NAME_NOT_CHECKED;
    }
    if (v->clear_root) {
        r.trusted_root = true;
    }
    rr_certificate_validation_complete(req, &r);
}

void rr_test_validator_init(struct rr_test_validator *v, bool perform_system_validation)
{
    memset(v, 0, sizeof(*v));
    v->base.perform_system_validation = perform_system_validation;
    v->base.validate_certificate = v_validate;
}

/* ---- pair ---- */
bool rr_test_pair_connect(struct rr_test_pair *pair, enum rr_role server_role, bool secure)
{
    memset(pair, 0, sizeof(*pair));
    struct rr_context_config sc = rr_test_config(server_role);
    struct rr_context_config cc =
        rr_test_config(server_role == RR_ROLE_PLAYER ? RR_ROLE_REMOTE : RR_ROLE_PLAYER);
    cc.ca_file = rr_test_pki("ca.pem");
    cc.no_system_trust = true;
    if (rr_context_create(&sc, &pair->server) != RR_OK ||
        rr_context_create(&cc, &pair->client) != RR_OK) {
        return false;
    }
    rr_test_token_receiver_init(&pair->receiver, "pair-token", "test realm");
    rr_test_token_provider_init(&pair->provider, "pair-token");
    if (secure) {
        if (!rr_test_cert_provider_init(&pair->cert, rr_test_pki("good.p12"), NULL, "test-pass")) {
            return false;
        }
        if (rr_context_listen_secure(pair->server, "127.0.0.1", 0, 0, &pair->cert.base,
                                     &pair->receiver.base) != RR_OK) {
            return false;
        }
    } else if (rr_context_listen(pair->server, "127.0.0.1", 0, 0) != RR_OK) {
        return false;
    }
    pair->port = rr_test_wait_listening(pair->server, 5000);
    if (pair->port == 0) {
        return false;
    }
    enum rr_result r = secure ? rr_context_connect_secure(pair->client, "localhost", pair->port,
                                                          &pair->provider.base, NULL)
                              : rr_context_connect(pair->client, "127.0.0.1", pair->port);
    return r == RR_OK && rr_test_wait_event(pair->client, RR_EVENT_CONNECTED, 8000, NULL) &&
           rr_test_wait_event(pair->server, RR_EVENT_CONNECTED, 8000, NULL);
}

void rr_test_pair_destroy(struct rr_test_pair *pair)
{
    rr_context_destroy(&pair->client);
    rr_context_destroy(&pair->server);
    rr_test_cert_provider_fini(&pair->cert);
}
