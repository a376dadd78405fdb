/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The asynchronous request objects: completed later from another thread, never completed
 * (the attempt ends at the handshake deadline with a reason), cancelled, and completed after
 * the attempt or the whole context is gone (harmless; ASan/valgrind check the memory).
 */
#include "rr_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct setup {
    struct rr_context *server;
    struct rr_context *client;
    struct rr_test_cert_provider cert;
    struct rr_test_token_receiver receiver;
    struct rr_test_token_provider provider;
    uint16_t port;
};

static void start(struct setup *s, uint32_t timeout_ms, bool defer_receiver, bool defer_provider)
{
    memset(s, 0, sizeof(*s));
    struct rr_context_config sc = rr_test_config(RR_ROLE_REMOTE);
    struct rr_context_config cc = rr_test_config(RR_ROLE_PLAYER);
    sc.handshake_timeout_ms = timeout_ms;
    cc.handshake_timeout_ms = timeout_ms;
    cc.ca_file = rr_test_pki("ca.pem");
    cc.no_system_trust = true;
    cc.no_revocation_fetch = true;
    assert_int_equal(rr_context_create(&sc, &s->server), RR_OK);
    assert_int_equal(rr_context_create(&cc, &s->client), RR_OK);
    assert_true(
        rr_test_cert_provider_init(&s->cert, rr_test_pki("good.p12"), "localhost", "test-pass"));
    rr_test_token_receiver_init(&s->receiver, "secret", "realm");
    s->receiver.defer = defer_receiver;
    rr_test_token_provider_init(&s->provider, "secret");
    s->provider.defer = defer_provider;
    assert_int_equal(
        rr_context_listen_secure(s->server, "127.0.0.1", 0, 0, &s->cert.base, &s->receiver.base),
        RR_OK);
    s->port = rr_test_wait_listening(s->server, 5000);
    assert_int_not_equal(s->port, 0);
    assert_int_equal(
        rr_context_connect_secure(s->client, "localhost", s->port, &s->provider.base, NULL), RR_OK);
}

static void stop(struct setup *s)
{
    rr_context_destroy(&s->client);
    rr_context_destroy(&s->server);
    rr_test_cert_provider_fini(&s->cert);
}

/* Spin (bounded) until a deferred interface has been called. */
static bool wait_pending(void *volatile *slot, int timeout_ms)
{
    uint64_t end = rr_test_now_ms() + (uint64_t)timeout_ms;
    while (__atomic_load_n(slot, __ATOMIC_SEQ_CST) == NULL) {
        if (rr_test_now_ms() > end) {
            return false;
        }
        usleep(2000);
    }
    return true;
}

struct later {
    void *req;
    int delay_ms;
    int kind; /* 0 token request, 1 token validation */
    const char *token;
    bool valid;
};

static void *complete_later(void *arg)
{
    struct later *l = arg;
    usleep((useconds_t)l->delay_ms * 1000);
    if (l->kind == 0) {
        rr_token_request_complete(l->req, l->token);
    } else {
        rr_token_validation_complete(l->req, l->valid);
    }
    return NULL;
}

static void test_provider_completes_from_other_thread(void **state)
{
    struct setup s;
    start(&s, 5000, false, true);
    assert_true(wait_pending((void *volatile *)&s.provider.pending, 5000));
    struct later l = {.req = s.provider.pending, .delay_ms = 200, .kind = 0, .token = "secret"};
    pthread_t t;
    pthread_create(&t, NULL, complete_later, &l);
    assert_true(rr_test_wait_event(s.client, RR_EVENT_CONNECTED, 5000, NULL));
    assert_true(rr_test_wait_event(s.server, RR_EVENT_CONNECTED, 5000, NULL));
    pthread_join(t, NULL);
    stop(&s);
}

static void test_receiver_completes_from_other_thread(void **state)
{
    struct setup s;
    start(&s, 5000, true, false);
    assert_true(wait_pending((void *volatile *)&s.receiver.pending, 5000));
    struct later l = {.req = s.receiver.pending, .delay_ms = 200, .kind = 1, .valid = true};
    pthread_t t;
    pthread_create(&t, NULL, complete_later, &l);
    assert_true(rr_test_wait_event(s.client, RR_EVENT_CONNECTED, 5000, NULL));
    assert_true(rr_test_wait_event(s.server, RR_EVENT_CONNECTED, 5000, NULL));
    pthread_join(t, NULL);
    stop(&s);
}

static void test_provider_never_completes(void **state)
{
    struct setup s;
    start(&s, 1200, false, true);
    uint64_t t0 = rr_test_now_ms();
    char detail[192];
    assert_int_equal(rr_test_wait_disconnected(s.client, 5000, detail, sizeof(detail)),
                     RR_REASON_REMOTING_HANDSHAKE_TIMEOUT);
    assert_true(rr_test_now_ms() - t0 < 3000);
    assert_non_null(strstr(detail, "authentication provider"));
    /* Completing after the attempt ended is a harmless no-op. */
    rr_token_request_complete(s.provider.pending, "secret");
    assert_int_equal(rr_context_state(s.client, NULL), RR_STATE_DISCONNECTED);
    stop(&s);
}

static void test_receiver_never_completes(void **state)
{
    struct setup s;
    start(&s, 1200, true, false);
    char detail[192];
    assert_int_equal(rr_test_wait_attempt_failed(s.server, 5000, detail, sizeof(detail)),
                     RR_REASON_REMOTING_HANDSHAKE_TIMEOUT);
    assert_non_null(strstr(detail, "token validator"));
    /* The server tells the client why (504 with OpenRR-Error). */
    assert_int_equal(rr_test_wait_disconnected(s.client, 5000, detail, sizeof(detail)),
                     RR_REASON_REMOTING_HANDSHAKE_TIMEOUT);
    rr_token_validation_complete(s.receiver.pending, true); /* too late: ignored */
    assert_int_equal(rr_context_state(s.server, NULL), RR_STATE_CONNECTING);
    stop(&s);
}

static void test_provider_cancels(void **state)
{
    struct setup s;
    start(&s, 5000, false, true);
    assert_true(wait_pending((void *volatile *)&s.provider.pending, 5000));
    rr_token_request_cancel(s.provider.pending);
    assert_int_equal(rr_test_wait_disconnected(s.client, 5000, NULL, 0), RR_REASON_CANCELED);
    stop(&s);
}

static void test_receiver_cancels(void **state)
{
    struct setup s;
    start(&s, 5000, true, false);
    assert_true(wait_pending((void *volatile *)&s.receiver.pending, 5000));
    rr_token_validation_cancel(s.receiver.pending);
    assert_int_equal(rr_test_wait_attempt_failed(s.server, 5000, NULL, 0),
                     RR_REASON_AUTHENTICATION_FAILED);
    assert_int_equal(rr_test_wait_disconnected(s.client, 5000, NULL, 0),
                     RR_REASON_AUTHENTICATION_FAILED);
    stop(&s);
}

static void test_complete_after_disconnect(void **state)
{
    struct setup s;
    start(&s, 5000, false, true);
    assert_true(wait_pending((void *volatile *)&s.provider.pending, 5000));
    assert_int_equal(rr_context_disconnect(s.client), RR_OK);
    assert_int_equal(rr_test_wait_disconnected(s.client, 5000, NULL, 0),
                     RR_REASON_DISCONNECT_REQUEST);
    rr_token_request_complete(s.provider.pending, "secret");
    assert_int_equal(rr_context_state(s.client, NULL), RR_STATE_DISCONNECTED);
    stop(&s);
}

static void test_complete_after_destroy(void **state)
{
    struct setup s;
    start(&s, 5000, true, false);
    assert_true(wait_pending((void *volatile *)&s.receiver.pending, 5000));
    struct rr_token_validation *req = s.receiver.pending;
    stop(&s); /* both contexts gone; the request object outlives them */
    rr_token_validation_complete(req, true);
}

static void test_cancel_after_destroy(void **state)
{
    struct setup s;
    start(&s, 5000, false, true);
    assert_true(wait_pending((void *volatile *)&s.provider.pending, 5000));
    struct rr_token_request *req = s.provider.pending;
    stop(&s);
    rr_token_request_cancel(req);
}

/* Many completions racing a disconnect from other threads: no crash, no leak, each request
 * finishes exactly once. */
static void test_completion_races_disconnect(void **state)
{
    for (int i = 0; i < 20; i++) {
        struct setup s;
        start(&s, 5000, false, true);
        assert_true(wait_pending((void *volatile *)&s.provider.pending, 5000));
        struct later l = {
            .req = s.provider.pending, .delay_ms = i % 3, .kind = 0, .token = "secret"};
        pthread_t t;
        pthread_create(&t, NULL, complete_later, &l);
        rr_context_disconnect(s.client);
        pthread_join(t, NULL);
        enum rr_disconnect_reason r = rr_test_wait_disconnected(s.client, 5000, NULL, 0);
        assert_true(r == RR_REASON_DISCONNECT_REQUEST);
        stop(&s);
    }
}

int main(void)
{
    if (!rr_test_have_pki()) {
        fprintf(stderr, "RR_PKI_DIR is not set up: run through ctest (pki_setup fixture)\n");
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_provider_completes_from_other_thread),
        cmocka_unit_test(test_receiver_completes_from_other_thread),
        cmocka_unit_test(test_provider_never_completes),
        cmocka_unit_test(test_receiver_never_completes),
        cmocka_unit_test(test_provider_cancels),
        cmocka_unit_test(test_receiver_cancels),
        cmocka_unit_test(test_complete_after_disconnect),
        cmocka_unit_test(test_complete_after_destroy),
        cmocka_unit_test(test_cancel_after_destroy),
        cmocka_unit_test(test_completion_races_disconnect),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
