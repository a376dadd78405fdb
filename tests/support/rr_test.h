/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Test helpers for the remoting tests: waiting for events, the test PKI's files, and simple
 * implementations of the four security interfaces that either answer at once or keep the
 * request for the test to complete later (from another thread, late, or never).
 */
#ifndef RR_TEST_H
#define RR_TEST_H

#include "openrr/remoting.h"

#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

/* "$RR_PKI_DIR/name" (a rotating set of static buffers: keep at most 8 alive). */
const char *rr_test_pki(const char *name);
/* True when the PKI fixture is there (RR_PKI_DIR set and populated). */
bool rr_test_have_pki(void);

/* Monotonic clock in milliseconds. */
uint64_t rr_test_now_ms(void);

/* A config with the role and short, test-friendly timeouts (handshake 5 s). */
struct rr_context_config rr_test_config(enum rr_role role);

/* Wait up to @p timeout_ms for an event of @p type, releasing others (they are counted in
 * *skipped if given). On success *out (may be NULL) gets it; release it after use. */
bool rr_test_wait_event(struct rr_context *ctx, enum rr_event_type type, int timeout_ms,
                        struct rr_event *out);
/* Wait for RR_EVENT_LISTENING; returns the port or 0. */
uint16_t rr_test_wait_listening(struct rr_context *ctx, int timeout_ms);
/* Wait for RR_EVENT_DISCONNECTED; returns its reason (RR_REASON_UNKNOWN on timeout, with
 * detail "timeout"). @p detail may be NULL. */
enum rr_disconnect_reason rr_test_wait_disconnected(struct rr_context *ctx, int timeout_ms,
                                                    char *detail, size_t detail_size);
/* Wait for RR_EVENT_ATTEMPT_FAILED; returns its reason (RR_REASON_NONE on timeout). */
enum rr_disconnect_reason rr_test_wait_attempt_failed(struct rr_context *ctx, int timeout_ms,
                                                      char *detail, size_t detail_size);

/* ---- interface implementations ---- */
struct rr_test_token_provider {
    struct rr_authentication_provider base;
    const char *token; /* answer; NULL = complete with NULL */
    bool defer;        /* keep the request in `pending` instead of answering */
    bool cancel;       /* cancel instead of answering */
    int calls;
    char last_realm[257];
    struct rr_token_request *pending;
};
void rr_test_token_provider_init(struct rr_test_token_provider *p, const char *token);

struct rr_test_token_receiver {
    struct rr_authentication_receiver base;
    const char *expected; /* valid token */
    const char *realm;    /* NULL = library default */
    bool defer;
    int calls;
    size_t last_token_len;
    struct rr_token_validation *pending;
};
void rr_test_token_receiver_init(struct rr_test_token_receiver *r, const char *expected,
                                 const char *realm);

struct rr_test_cert_provider {
    struct rr_certificate_provider base;
    uint8_t *store;
    size_t size;
    const char *subject;
    const char *password;
    bool defer;
    int calls;
    struct rr_certificate_request *pending;
};
/* Load @p path (PKCS#12 or PEM); false when it cannot be read. */
bool rr_test_cert_provider_init(struct rr_test_cert_provider *p, const char *path,
                                const char *subject, const char *password);
void rr_test_cert_provider_fini(struct rr_test_cert_provider *p);
/* Complete a deferred request with the loaded store. */
void rr_test_cert_provider_complete(struct rr_test_cert_provider *p);

struct rr_test_validator {
    struct rr_certificate_validator base;
    bool accept_all; /* answer "trusted, name match, nothing wrong" */
    bool clear_name; /* take the system result but clear a name mismatch */
    bool clear_root; /* take the system result but trust the root */
    bool defer;
    int calls;
    bool had_system_result;
    struct rr_certificate_validation_result system_result;
    char server_name[256];
    bool force;
    size_t chain_count;
    size_t leaf_size;
    struct rr_certificate_validation *pending;
};
void rr_test_validator_init(struct rr_test_validator *v, bool perform_system_validation);

/* A connected secure pair on loopback with the test PKI's good certificate. */
struct rr_test_pair {
    struct rr_context *server;
    struct rr_context *client;
    struct rr_test_cert_provider cert;
    struct rr_test_token_receiver receiver;
    struct rr_test_token_provider provider;
    uint16_t port;
};
/* Build and connect a pair (server listens as @p server_role). Returns false on failure. */
bool rr_test_pair_connect(struct rr_test_pair *pair, enum rr_role server_role, bool secure);
void rr_test_pair_destroy(struct rr_test_pair *pair);

#endif
