/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Certificate validation end to end: every case runs a real TLS 1.3 loopback connection between
 * a listening player (serving one of the test PKI's stores) and a connecting remote (trusting
 * only the test root) and checks the verdict from both sides: the client's disconnect reason,
 * the system/final validation flags in its connection info, and the listener's failed attempt
 * after which it keeps listening. Also covered: revocation (CRL fetched, CRL file, OCSP,
 * unknown status with and without force), custom and deferred validators, server certificate
 * store problems, late and silent certificate providers, and the certificate helpers.
 *
 * Threads: the test thread drives both contexts; a few cases complete requests from a helper
 * thread, because the API promises that completions may come from any thread.
 */
#include "rr_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Bound of every wait for an outcome: well above the 5 s handshake deadline of the config. */
#define WAIT_MS 8000
#define TOKEN "validation-token"
#define PASSWORD "test-pass"
#define EV(type) (1u << (type))
#define CLIENT_OUTCOMES (EV(RR_EVENT_CONNECTED) | EV(RR_EVENT_DISCONNECTED))
#define SERVER_OUTCOMES                                                                            \
    (EV(RR_EVENT_CONNECTED) | EV(RR_EVENT_ATTEMPT_FAILED) | EV(RR_EVENT_DISCONNECTED))

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0) {
    }
}

/* ---- handing requests from the network thread to the test ---------------------------------
 * rr_test_validator and rr_test_cert_provider keep a deferred request in a plain field that
 * the test may only read after an event; the deferred cases here have no event to wait for, so
 * the request is handed over under a mutex instead. */

struct handoff {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    void *req; /* the pending request, until someone takes it */
};

static void handoff_init(struct handoff *h)
{
    pthread_condattr_t a;
    pthread_condattr_init(&a);
    pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
    pthread_cond_init(&h->cond, &a);
    pthread_condattr_destroy(&a);
    pthread_mutex_init(&h->lock, NULL);
    h->req = NULL;
}

static void handoff_fini(struct handoff *h)
{
    pthread_cond_destroy(&h->cond);
    pthread_mutex_destroy(&h->lock);
}

static void handoff_put(struct handoff *h, void *req)
{
    pthread_mutex_lock(&h->lock);
    h->req = req;
    pthread_cond_broadcast(&h->cond);
    pthread_mutex_unlock(&h->lock);
}

/* Wait up to @p timeout_ms for a request to arrive; true when one is there. */
static bool handoff_wait(struct handoff *h, int timeout_ms)
{
    struct timespec end;
    clock_gettime(CLOCK_MONOTONIC, &end);
    end.tv_sec += timeout_ms / 1000;
    end.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (end.tv_nsec >= 1000000000L) {
        end.tv_sec++;
        end.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&h->lock);
    while (h->req == NULL) {
        if (pthread_cond_timedwait(&h->cond, &h->lock, &end) != 0) {
            break;
        }
    }
    bool have = h->req != NULL;
    pthread_mutex_unlock(&h->lock);
    return have;
}

/* Take the request out (NULL if none): whoever takes it must complete or cancel it. */
static void *handoff_take(struct handoff *h)
{
    pthread_mutex_lock(&h->lock);
    void *req = h->req;
    h->req = NULL;
    pthread_mutex_unlock(&h->lock);
    return req;
}

/* A validator that always defers and hands its request over. */
struct handoff_validator {
    struct rr_certificate_validator base;
    struct handoff h;
    bool had_system_result;
    struct rr_certificate_validation_result system_result;
};

static void hv_validate(struct rr_certificate_validator *self,
                        const struct rr_certificate_chain *chain, const char *server_name,
                        bool force, const struct rr_certificate_validation_result *system_result,
                        struct rr_certificate_validation *req)
{
    (void)chain;
    (void)server_name;
    (void)force;
    struct handoff_validator *v = (struct handoff_validator *)self;
    pthread_mutex_lock(&v->h.lock);
    v->had_system_result = system_result != NULL;
    if (system_result != NULL) {
        v->system_result = *system_result;
    }
    pthread_mutex_unlock(&v->h.lock);
    handoff_put(&v->h, req);
}

/* A certificate provider for in-memory stores that answers at once or hands its request over. */
struct local_provider {
    struct rr_certificate_provider base;
    struct handoff h;
    bool defer;
    uint8_t *store; /* owned */
    size_t size;
    const char *password;
};

static void lp_get(struct rr_certificate_provider *self, struct rr_certificate_request *req)
{
    struct local_provider *p = (struct local_provider *)self;
    if (p->defer) {
        handoff_put(&p->h, req);
        return;
    }
    rr_certificate_request_complete(req, p->store, p->size, NULL, p->password);
}

/* ---- per-test harness ------------------------------------------------------------------------ */

struct harness {
    struct rr_context *server;
    struct rr_context *client;
    struct rr_test_cert_provider cert;
    struct rr_test_token_receiver receiver;
    struct rr_test_token_provider provider;
    struct rr_test_validator validator;
    struct handoff_validator hv;
    struct local_provider lp;
    uint16_t port;
    uint64_t client_start_ms;
    pthread_t helper;
    bool helper_started;
    int helper_delay_ms;
    bool helper_completed;
};

static bool g_have_pki;

static int setup(void **state)
{
    *state = NULL;
    if (!g_have_pki) {
        return 0; /* harness_of() skips the test */
    }
    struct harness *h = calloc(1, sizeof(*h));
    assert_non_null(h);
    rr_test_token_receiver_init(&h->receiver, TOKEN, "validation realm");
    rr_test_token_provider_init(&h->provider, TOKEN);
    rr_test_validator_init(&h->validator, true);
    h->hv.base.perform_system_validation = true;
    h->hv.base.validate_certificate = hv_validate;
    handoff_init(&h->hv.h);
    h->lp.base.get_certificate = lp_get;
    handoff_init(&h->lp.h);
    *state = h;
    return 0;
}

/* The test's harness; skips the test when there is none (no PKI, see group_setup). */
static struct harness *harness_of(void **state)
{
    if (*state == NULL) {
        skip();
    }
    return *state;
}

static int teardown(void **state)
{
    struct harness *h = *state;
    if (h == NULL) {
        return 0;
    }
    /* The helper may still use the harness; it gives up on its own within a bounded time. */
    if (h->helper_started) {
        pthread_join(h->helper, NULL);
    }
    rr_context_destroy(&h->client);
    rr_context_destroy(&h->server);
    /* Requests still held (a test failed midway, or it kept one on purpose): releasing them
     * after the contexts are gone must be harmless, and frees the library's object. */
    rr_certificate_validation_cancel(handoff_take(&h->hv.h));
    rr_certificate_request_cancel(handoff_take(&h->lp.h));
    handoff_fini(&h->hv.h);
    handoff_fini(&h->lp.h);
    free(h->lp.store);
    rr_test_cert_provider_fini(&h->cert);
    free(h);
    return 0;
}

static void start_helper(struct harness *h, void *(*fn)(void *), int delay_ms)
{
    h->helper_delay_ms = delay_ms;
    assert_int_equal(pthread_create(&h->helper, NULL, fn, h), 0);
    h->helper_started = true;
}

static void join_helper(struct harness *h)
{
    pthread_join(h->helper, NULL);
    h->helper_started = false;
}

/* Wait for the first event whose type is in @p mask; false (and "timeout") when none came. */
static bool wait_any(struct rr_context *ctx, unsigned mask, int timeout_ms, struct rr_event *out)
{
    uint64_t end = now_ms() + (uint64_t)timeout_ms;
    for (;;) {
        uint64_t now = now_ms();
        if (now >= end) {
            memset(out, 0, sizeof(*out));
            snprintf(out->detail, sizeof(out->detail), "timeout");
            return false;
        }
        struct rr_event ev;
        if (rr_context_poll_event(ctx, &ev, (int)(end - now)) != RR_OK) {
            continue;
        }
        *out = ev;
        rr_event_release(out); /* outcome events carry no data; type, reason, detail stay */
        if (mask & EV(ev.type)) {
            return true;
        }
    }
}

/* The next outcome of @p ctx must be @p type with @p reason; says what came instead. */
static void expect_event(struct rr_context *ctx, const char *who, unsigned mask,
                         enum rr_event_type type, enum rr_disconnect_reason reason,
                         struct rr_event *out)
{
    struct rr_event ev;
    bool got = wait_any(ctx, mask, WAIT_MS, &ev);
    if (!got || ev.type != type || ev.reason != reason) {
        print_message("%s: got %s/%s (%s), want %s/%s\n", who,
                      got ? rr_event_type_str(ev.type) : "nothing",
                      rr_disconnect_reason_str(ev.reason), ev.detail, rr_event_type_str(type),
                      rr_disconnect_reason_str(reason));
    }
    assert_true(got);
    assert_int_equal(ev.type, type);
    assert_int_equal(ev.reason, reason);
    if (out != NULL) {
        *out = ev;
    }
}

static struct rr_context_config server_config(void)
{
    return rr_test_config(RR_ROLE_PLAYER);
}

static struct rr_context_config client_config(void)
{
    struct rr_context_config cfg = rr_test_config(RR_ROLE_REMOTE);
    cfg.ca_file = rr_test_pki("ca.pem");
    cfg.no_system_trust = true;
    return cfg;
}

/* Listen securely with @p provider; returns the port, or 0 when no LISTENING came. */
static uint16_t listen_with(struct harness *h, const struct rr_context_config *cfg,
                            const char *host, struct rr_certificate_provider *provider)
{
    assert_int_equal(rr_context_create(cfg, &h->server), RR_OK);
    assert_int_equal(rr_context_listen_secure(h->server, host, 0, 0, provider, &h->receiver.base),
                     RR_OK);
    h->port = rr_test_wait_listening(h->server, WAIT_MS);
    return h->port;
}

/* A listener serving @p store from the test PKI (with @p subject and @p password). */
static uint16_t listen_store(struct harness *h, const char *host, const char *store,
                             const char *subject, const char *password)
{
    assert_true(rr_test_cert_provider_init(&h->cert, rr_test_pki(store), subject, password));
    struct rr_context_config cfg = server_config();
    return listen_with(h, &cfg, host, &h->cert.base);
}

static void start_server(struct harness *h, const char *store)
{
    assert_int_not_equal(listen_store(h, "127.0.0.1", store, NULL, PASSWORD), 0);
}

static void start_client(struct harness *h, const struct rr_context_config *cfg, const char *host,
                         struct rr_certificate_validator *validator)
{
    assert_int_equal(rr_context_create(cfg, &h->client), RR_OK);
    h->client_start_ms = now_ms();
    assert_int_equal(
        rr_context_connect_secure(h->client, host, h->port, &h->provider.base, validator), RR_OK);
}

/* Both sides report Connected. */
static void expect_connected(struct harness *h)
{
    expect_event(h->client, "client", CLIENT_OUTCOMES, RR_EVENT_CONNECTED, RR_REASON_NONE, NULL);
    expect_event(h->server, "server", SERVER_OUTCOMES, RR_EVENT_CONNECTED, RR_REASON_NONE, NULL);
    assert_int_equal(rr_context_state(h->client, NULL), RR_STATE_CONNECTED);
    assert_int_equal(rr_context_state(h->server, NULL), RR_STATE_CONNECTED);
}

/* The client ended its attempt with @p reason; the listener saw the attempt fail with
 * @p server_reason and goes on listening. */
static void expect_failed(struct harness *h, enum rr_disconnect_reason reason,
                          enum rr_disconnect_reason server_reason)
{
    struct rr_event ev;
    expect_event(h->client, "client", CLIENT_OUTCOMES, RR_EVENT_DISCONNECTED, reason, &ev);
    print_message("client: %s\n", ev.detail);
    enum rr_disconnect_reason last = RR_REASON_NONE;
    assert_int_equal(rr_context_state(h->client, &last), RR_STATE_DISCONNECTED);
    assert_int_equal(last, reason);
    expect_event(h->server, "server", SERVER_OUTCOMES, RR_EVENT_ATTEMPT_FAILED, server_reason,
                 NULL);
    assert_int_equal(rr_context_state(h->server, NULL), RR_STATE_CONNECTING);
}

/* The client refused the server's chain: the handshake failed on both sides and no token was
 * asked for or sent (a token never reaches an unverified server). */
static void expect_rejected(struct harness *h)
{
    expect_failed(h, RR_REASON_HANDSHAKE_CONNECTION_FAILED, RR_REASON_HANDSHAKE_CONNECTION_FAILED);
    assert_int_equal(h->provider.calls, 0);
    assert_int_equal(h->receiver.calls, 0);
}

static struct rr_connection_info client_info(struct harness *h)
{
    struct rr_connection_info info;
    assert_int_equal(rr_context_connection_info(h->client, &info), RR_OK);
    assert_true(info.has_validation);
    return info;
}

/* The verdict of a sound chain for the name connected to. */
static struct rr_certificate_validation_result ok_result(void)
{
    struct rr_certificate_validation_result r;
    memset(&r, 0, sizeof(r));
    r.trusted_root = true;
    r.name_validation_result = RR_NAME_MATCH;
    return r;
}

static void assert_result(const char *what, const struct rr_certificate_validation_result *got,
                          const struct rr_certificate_validation_result *want)
{
    bool same = got->trusted_root == want->trusted_root && got->revoked == want->revoked &&
                got->expired == want->expired && got->wrong_usage == want->wrong_usage &&
                got->name_validation_result == want->name_validation_result &&
                got->revocation_check_failed == want->revocation_check_failed &&
                got->invalid_cert_or_chain == want->invalid_cert_or_chain;
    if (!same) {
        char g[200], w[200];
        print_message("%s: got '%s', want '%s'\n", what,
                      rr_certificate_validation_result_format(got, g, sizeof(g)),
                      rr_certificate_validation_result_format(want, w, sizeof(w)));
    }
    assert_true(same);
}

/* Without a validator the system result is the decision: both fields must be @p want. */
static void expect_validation(struct harness *h,
                              const struct rr_certificate_validation_result *want)
{
    struct rr_connection_info info = client_info(h);
    assert_result("system validation", &info.system_validation, want);
    assert_result("final validation", &info.final_validation, want);
}

/* Connect to a listener serving @p store with @p cfg, expect rejection with @p want flags. */
static void run_rejected(struct harness *h, const char *store, const char *host,
                         const struct rr_context_config *cfg,
                         const struct rr_certificate_validation_result *want)
{
    start_server(h, store);
    start_client(h, cfg, host, NULL);
    expect_rejected(h);
    expect_validation(h, want);
}

/* ---- trust, validity, usage, names ----------------------------------------------------------- */

static void run_good(struct harness *h, const char *listen_host, const char *connect_host)
{
    if (listen_store(h, listen_host, "good.p12", NULL, PASSWORD) == 0) {
        print_message("cannot listen on %s here\n", listen_host);
        skip();
    }
    struct rr_context_config cfg = client_config();
    start_client(h, &cfg, connect_host, NULL);
    expect_connected(h);
    struct rr_certificate_validation_result want = ok_result();
    expect_validation(h, &want);
    struct rr_connection_info info = client_info(h);
    char flags[200];
    assert_string_equal(
        rr_certificate_validation_result_format(&info.final_validation, flags, sizeof(flags)),
        "trustedRoot nameMatch");
    assert_string_equal(info.tls_version, "TLSv1.3");
    assert_true(info.secure);
    /* The client sees the certificate the server chose (pinning material). */
    struct rr_connection_info sinfo;
    assert_int_equal(rr_context_connection_info(h->server, &sinfo), RR_OK);
    assert_int_equal(strlen(info.peer_certificate_sha256), 95);
    assert_string_equal(info.peer_certificate_sha256, sinfo.local_certificate_sha256);
    assert_int_equal(h->provider.calls, 1);
    assert_int_equal(h->receiver.calls, 1);
}

static void test_good_localhost(void **state)
{
    run_good(harness_of(state), "127.0.0.1", "localhost");
}

static void test_good_ipv4_literal(void **state)
{
    run_good(harness_of(state), "127.0.0.1", "127.0.0.1");
}

static void test_good_ipv6_literal(void **state)
{
    run_good(harness_of(state), "::1", "::1");
}

static void test_untrusted_selfsigned(void **state)
{
    struct rr_context_config cfg = client_config();
    struct rr_certificate_validation_result want = ok_result();
    want.trusted_root = false;
    run_rejected(harness_of(state), "selfsigned.p12", "localhost", &cfg, &want);
}

static void test_untrusted_without_ca_file(void **state)
{
    struct rr_context_config cfg = client_config();
    cfg.ca_file = NULL; /* and no system store: nothing is trusted */
    struct rr_certificate_validation_result want = ok_result();
    want.trusted_root = false;
    run_rejected(harness_of(state), "good.p12", "localhost", &cfg, &want);
}

static void test_missing_intermediate(void **state)
{
    struct rr_context_config cfg = client_config();
    struct rr_certificate_validation_result want = ok_result();
    want.trusted_root = false;
    run_rejected(harness_of(state), "good-noinch.p12", "localhost", &cfg, &want);
}

static void test_expired(void **state)
{
    struct rr_context_config cfg = client_config();
    struct rr_certificate_validation_result want = ok_result();
    want.expired = true;
    run_rejected(harness_of(state), "expired.p12", "localhost", &cfg, &want);
}

static void test_not_yet_valid(void **state)
{
    struct rr_context_config cfg = client_config();
    struct rr_certificate_validation_result want = ok_result();
    want.expired = true;
    run_rejected(harness_of(state), "notyet.p12", "localhost", &cfg, &want);
}

static void test_wrong_usage(void **state)
{
    struct rr_context_config cfg = client_config();
    struct rr_certificate_validation_result want = ok_result();
    want.wrong_usage = true;
    run_rejected(harness_of(state), "wrongusage.p12", "localhost", &cfg, &want);
}

static void test_name_mismatch_dns(void **state)
{
    struct rr_context_config cfg = client_config();
    struct rr_certificate_validation_result want = ok_result();
    want.name_validation_result = RR_NAME_MISMATCH;
    run_rejected(harness_of(state), "wrongname.p12", "localhost", &cfg, &want);
}

static void test_name_mismatch_ip(void **state)
{
    struct rr_context_config cfg = client_config();
    struct rr_certificate_validation_result want = ok_result();
    want.name_validation_result = RR_NAME_MISMATCH;
    run_rejected(harness_of(state), "wrongname.p12", "127.0.0.1", &cfg, &want);
}

/* ---- revocation ------------------------------------------------------------------------------ */

static void test_revoked_crl_fetched(void **state)
{
    struct rr_context_config cfg = client_config();
    struct rr_certificate_validation_result want = ok_result();
    want.revoked = true;
    run_rejected(harness_of(state), "revoked-crl.p12", "localhost", &cfg, &want);
}

static void test_revoked_crl_file(void **state)
{
    struct rr_context_config cfg = client_config();
    cfg.crl_file = rr_test_pki("inter.crl.pem");
    cfg.no_revocation_fetch = true; /* the file alone must tell */
    struct rr_certificate_validation_result want = ok_result();
    want.revoked = true;
    run_rejected(harness_of(state), "revoked-crl.p12", "localhost", &cfg, &want);
}

static void test_revoked_crl_file_forced(void **state)
{
    struct rr_context_config cfg = client_config();
    cfg.crl_file = rr_test_pki("crls.pem");
    cfg.no_revocation_fetch = true;
    cfg.force_revocation_check = true;
    /* Revoked is the finding; the forced check did not fail for lack of information. */
    struct rr_certificate_validation_result want = ok_result();
    want.revoked = true;
    run_rejected(harness_of(state), "revoked-crl.p12", "localhost", &cfg, &want);
}

static void test_good_crl_file_forced(void **state)
{
    struct harness *h = harness_of(state);
    start_server(h, "good.p12");
    struct rr_context_config cfg = client_config();
    cfg.crl_file = rr_test_pki("crls.pem"); /* both CRLs: the whole chain has a known status */
    cfg.no_revocation_fetch = true;
    cfg.force_revocation_check = true;
    start_client(h, &cfg, "localhost", NULL);
    expect_connected(h);
    struct rr_certificate_validation_result want = ok_result();
    expect_validation(h, &want);
}

static void test_partial_crl_file_forced(void **state)
{
    struct rr_context_config cfg = client_config();
    cfg.crl_file = rr_test_pki("inter.crl.pem"); /* no root CRL: the intermediate is unknown */
    cfg.no_revocation_fetch = true;
    cfg.force_revocation_check = true;
    struct rr_certificate_validation_result want = ok_result();
    want.revocation_check_failed = true;
    run_rejected(harness_of(state), "good.p12", "localhost", &cfg, &want);
}

static void test_revoked_ocsp(void **state)
{
    struct rr_context_config cfg = client_config();
    struct rr_certificate_validation_result want = ok_result();
    want.revoked = true;
    run_rejected(harness_of(state), "revoked-ocsp.p12", "localhost", &cfg, &want);
}

static void test_revocation_unknown_not_forced(void **state)
{
    struct harness *h = harness_of(state);
    start_server(h, "unknown.p12");
    struct rr_context_config cfg = client_config();
    start_client(h, &cfg, "localhost", NULL);
    expect_connected(h);
    struct rr_certificate_validation_result want = ok_result();
    expect_validation(h, &want);
}

static void test_revocation_unknown_forced(void **state)
{
    struct rr_context_config cfg = client_config();
    cfg.force_revocation_check = true;
    struct rr_certificate_validation_result want = ok_result();
    want.revocation_check_failed = true;
    run_rejected(harness_of(state), "unknown.p12", "localhost", &cfg, &want);
}

static void test_no_revocation_info_forced(void **state)
{
    struct rr_context_config cfg = client_config();
    cfg.force_revocation_check = true;
    struct rr_certificate_validation_result want = ok_result();
    want.revocation_check_failed = true;
    run_rejected(harness_of(state), "norev.p12", "localhost", &cfg, &want);
}

static void test_good_forced(void **state)
{
    struct harness *h = harness_of(state);
    start_server(h, "good.p12");
    struct rr_context_config cfg = client_config();
    cfg.force_revocation_check = true; /* CRL and OCSP services both answer */
    start_client(h, &cfg, "localhost", NULL);
    expect_connected(h);
    struct rr_certificate_validation_result want = ok_result();
    expect_validation(h, &want);
}

/* ---- custom validators ----------------------------------------------------------------------- */

static void run_accept_all_without_system(struct harness *h, const char *store, size_t chain_count)
{
    start_server(h, store);
    struct rr_context_config cfg = client_config();
    cfg.force_revocation_check = true; /* only passed on: there is no system validation */
    h->validator.base.perform_system_validation = false;
    h->validator.accept_all = true;
    start_client(h, &cfg, "localhost", &h->validator.base);
    expect_connected(h);
    assert_int_equal(h->validator.calls, 1);
    assert_false(h->validator.had_system_result);
    assert_int_equal(h->validator.chain_count, chain_count);
    assert_true(h->validator.leaf_size > 0);
    assert_string_equal(h->validator.server_name, "localhost");
    assert_true(h->validator.force);
    struct rr_connection_info info = client_info(h);
    struct rr_certificate_validation_result want = ok_result();
    assert_result("final validation", &info.final_validation, &want);
}

static void test_validator_without_system(void **state)
{
    run_accept_all_without_system(harness_of(state), "good.p12", 2); /* leaf + intermediate */
}

static void test_validator_without_system_selfsigned(void **state)
{
    run_accept_all_without_system(harness_of(state), "selfsigned.p12", 1);
}

static void test_validator_clears_name_mismatch(void **state)
{
    struct harness *h = harness_of(state);
    start_server(h, "wrongname.p12");
    struct rr_context_config cfg = client_config();
    h->validator.clear_name = true;
    start_client(h, &cfg, "localhost", &h->validator.base);
    expect_connected(h);
    assert_int_equal(h->validator.calls, 1);
    assert_true(h->validator.had_system_result);
    assert_int_equal(h->validator.system_result.name_validation_result, RR_NAME_MISMATCH);
    struct rr_connection_info info = client_info(h);
    struct rr_certificate_validation_result want = ok_result();
    want.name_validation_result = RR_NAME_MISMATCH;
    assert_result("system validation", &info.system_validation, &want);
    want.name_validation_result = RR_NAME_NOT_CHECKED;
    assert_result("final validation", &info.final_validation, &want);
}

static void test_validator_trusts_selfsigned(void **state)
{
    struct harness *h = harness_of(state);
    start_server(h, "selfsigned.p12");
    struct rr_context_config cfg = client_config();
    h->validator.clear_root = true;
    start_client(h, &cfg, "localhost", &h->validator.base);
    expect_connected(h);
    assert_true(h->validator.had_system_result);
    assert_false(h->validator.system_result.trusted_root);
    struct rr_connection_info info = client_info(h);
    struct rr_certificate_validation_result want = ok_result();
    assert_result("final validation", &info.final_validation, &want);
    want.trusted_root = false;
    assert_result("system validation", &info.system_validation, &want);
}

static void test_validator_keeps_system_verdict(void **state)
{
    struct harness *h = harness_of(state);
    start_server(h, "expired.p12");
    struct rr_context_config cfg = client_config();
    start_client(h, &cfg, "localhost", &h->validator.base);
    expect_rejected(h);
    assert_int_equal(h->validator.calls, 1);
    assert_true(h->validator.had_system_result);
    struct rr_certificate_validation_result want = ok_result();
    want.expired = true;
    expect_validation(h, &want);
}

/* Helper thread: wait for the validator's request, wait a while, pass the system verdict. */
static void *complete_validation_later(void *arg)
{
    struct harness *h = arg;
    if (!handoff_wait(&h->hv.h, WAIT_MS)) {
        return NULL;
    }
    sleep_ms(h->helper_delay_ms);
    pthread_mutex_lock(&h->hv.h.lock);
    struct rr_certificate_validation_result r = h->hv.system_result;
    pthread_mutex_unlock(&h->hv.h.lock);
    rr_certificate_validation_complete(handoff_take(&h->hv.h), &r);
    h->helper_completed = true;
    return NULL;
}

static void test_validator_deferred_other_thread(void **state)
{
    struct harness *h = harness_of(state);
    start_server(h, "good.p12");
    struct rr_context_config cfg = client_config();
    start_client(h, &cfg, "localhost", &h->hv.base);
    start_helper(h, complete_validation_later, 200);
    expect_connected(h);
    join_helper(h);
    assert_true(h->helper_completed);
    assert_true(h->hv.had_system_result);
    assert_true(now_ms() - h->client_start_ms >= 200);
    struct rr_certificate_validation_result want = ok_result();
    expect_validation(h, &want);
}

static void test_validator_never_completes(void **state)
{
    struct harness *h = harness_of(state);
    start_server(h, "good.p12");
    struct rr_context_config cfg = client_config();
    cfg.handshake_timeout_ms = 1500;
    start_client(h, &cfg, "localhost", &h->hv.base);
    assert_true(handoff_wait(&h->hv.h, WAIT_MS)); /* kept, never answered */
    struct rr_event ev;
    expect_event(h->client, "client", CLIENT_OUTCOMES, RR_EVENT_DISCONNECTED,
                 RR_REASON_REMOTING_HANDSHAKE_TIMEOUT, &ev);
    uint64_t took = now_ms() - h->client_start_ms;
    print_message("client: %s (after %llu ms)\n", ev.detail, (unsigned long long)took);
    assert_true(took >= 1400 && took < 3000);
    expect_event(h->server, "server", SERVER_OUTCOMES, RR_EVENT_ATTEMPT_FAILED,
                 RR_REASON_HANDSHAKE_CONNECTION_FAILED, NULL);
    assert_int_equal(rr_context_state(h->server, NULL), RR_STATE_CONNECTING);
    assert_int_equal(h->provider.calls, 0);
    /* Answering after the deadline is a harmless no-op. */
    struct rr_certificate_validation_result ok = ok_result();
    rr_certificate_validation_complete(handoff_take(&h->hv.h), &ok);
    assert_int_equal(rr_context_state(h->client, NULL), RR_STATE_DISCONNECTED);
}

static void test_validator_cancels(void **state)
{
    struct harness *h = harness_of(state);
    start_server(h, "good.p12");
    struct rr_context_config cfg = client_config();
    start_client(h, &cfg, "localhost", &h->hv.base);
    assert_true(handoff_wait(&h->hv.h, WAIT_MS));
    rr_certificate_validation_cancel(handoff_take(&h->hv.h));
    expect_failed(h, RR_REASON_CANCELED, RR_REASON_HANDSHAKE_CONNECTION_FAILED);
    assert_int_equal(h->provider.calls, 0);
    assert_int_equal(h->receiver.calls, 0);
}

static void test_validator_completes_after_destroy(void **state)
{
    struct harness *h = harness_of(state);
    start_server(h, "good.p12");
    struct rr_context_config cfg = client_config();
    start_client(h, &cfg, "localhost", &h->hv.base);
    assert_true(handoff_wait(&h->hv.h, WAIT_MS));
    rr_context_destroy(&h->client);
    /* The library keeps the request alive for us: this must neither crash nor leak. */
    struct rr_certificate_validation_result ok = ok_result();
    rr_certificate_validation_complete(handoff_take(&h->hv.h), &ok);
    expect_event(h->server, "server", SERVER_OUTCOMES, RR_EVENT_ATTEMPT_FAILED,
                 RR_REASON_HANDSHAKE_CONNECTION_FAILED, NULL);
    assert_int_equal(rr_context_state(h->server, NULL), RR_STATE_CONNECTING);
}

static void test_token_not_sent_to_rejected_server(void **state)
{
    struct harness *h = harness_of(state);
    start_server(h, "expired.p12");
    struct rr_context_config cfg = client_config();
    start_client(h, &cfg, "localhost", NULL);
    expect_rejected(h);
    assert_int_equal(h->provider.calls, 0);
    assert_int_equal(h->receiver.calls, 0);
    assert_int_equal(h->receiver.last_token_len, 0);
}

/* ---- server certificate stores --------------------------------------------------------------- */

/* The listener cannot use its store: it ends with NoServerCertificate (detail mentioning
 * @p detail_has, never the password) and a client trying it fails. */
static void run_store_problem(struct harness *h, const char *store, const char *subject,
                              const char *password, const char *detail_has)
{
    assert_int_not_equal(listen_store(h, "127.0.0.1", store, subject, password), 0);
    struct rr_context_config cfg = client_config();
    start_client(h, &cfg, "localhost", NULL);
    struct rr_event ev;
    expect_event(h->server, "server", SERVER_OUTCOMES, RR_EVENT_DISCONNECTED,
                 RR_REASON_NO_SERVER_CERTIFICATE, &ev);
    print_message("server: %s\n", ev.detail);
    if (detail_has != NULL && strstr(ev.detail, detail_has) == NULL) {
        print_message("server detail lacks '%s'\n", detail_has);
        fail();
    }
    if (password != NULL && password[0] != '\0') {
        assert_null(strstr(ev.detail, password));
    }
    enum rr_disconnect_reason last = RR_REASON_NONE;
    assert_int_equal(rr_context_state(h->server, &last), RR_STATE_DISCONNECTED);
    assert_int_equal(last, RR_REASON_NO_SERVER_CERTIFICATE);
    /* Depending on timing the listening socket is gone (refused) or the accepted connection
     * is dropped (failed); either way the client does not connect. */
    struct rr_event cev;
    assert_true(wait_any(h->client, CLIENT_OUTCOMES, WAIT_MS, &cev));
    print_message("client: %s/%s: %s\n", rr_event_type_str(cev.type),
                  rr_disconnect_reason_str(cev.reason), cev.detail);
    assert_int_equal(cev.type, RR_EVENT_DISCONNECTED);
    assert_true(cev.reason == RR_REASON_HANDSHAKE_CONNECTION_REFUSED ||
                cev.reason == RR_REASON_HANDSHAKE_CONNECTION_FAILED);
}

/* The listener serves @p store and a client connects to it. */
static void run_store_ok(struct harness *h, const char *store, const char *subject,
                         const char *password)
{
    assert_int_not_equal(listen_store(h, "127.0.0.1", store, subject, password), 0);
    struct rr_context_config cfg = client_config();
    start_client(h, &cfg, "localhost", NULL);
    expect_connected(h);
    struct rr_certificate_validation_result want = ok_result();
    expect_validation(h, &want);
}

static void test_store_wrong_password(void **state)
{
    run_store_problem(harness_of(state), "good.p12", NULL, "not-the-password", "password");
}

/* Regression: PKCS12_parse() returns no leaf when the store has no key (the certificate ends
 * up among the CA certificates), which once made the detail say "holds no certificate" and
 * point the operator the wrong way. */
static void test_store_without_key(void **state)
{
    run_store_problem(harness_of(state), "nokey.p12", NULL, PASSWORD, "private key");
}

static void test_store_garbage_p12(void **state)
{
    run_store_problem(harness_of(state), "garbage.p12", NULL, PASSWORD, NULL);
}

static void test_store_garbage_pem(void **state)
{
    run_store_problem(harness_of(state), "garbage.pem", NULL, PASSWORD, NULL);
}

static void test_store_subject_not_found(void **state)
{
    run_store_problem(harness_of(state), "good.p12", "openrr-test-nobody", PASSWORD,
                      "openrr-test-nobody");
}

static void test_store_subject_friendly_name(void **state)
{
    run_store_ok(harness_of(state), "good.p12", "openrr-test-good", PASSWORD);
}

static void test_store_subject_cn(void **state)
{
    run_store_ok(harness_of(state), "good.p12", "localhost", PASSWORD);
}

static void test_store_pem_combined(void **state)
{
    run_store_ok(harness_of(state), "good-combined.pem", NULL, NULL);
}

static void test_store_empty_password(void **state)
{
    run_store_ok(harness_of(state), "good-nopass.p12", NULL, "");
}

static void load_local_store(struct harness *h, const char *store)
{
    assert_int_equal(rr_file_read(rr_test_pki(store), &h->lp.store, &h->lp.size), RR_OK);
    h->lp.password = PASSWORD;
}

/* Helper thread: wait for the certificate request, wait a while, answer with the store. */
static void *complete_certificate_later(void *arg)
{
    struct harness *h = arg;
    if (!handoff_wait(&h->lp.h, WAIT_MS)) {
        return NULL;
    }
    sleep_ms(h->helper_delay_ms);
    rr_certificate_request_complete(handoff_take(&h->lp.h), h->lp.store, h->lp.size, NULL,
                                    h->lp.password);
    h->helper_completed = true;
    return NULL;
}

static void test_provider_completes_late(void **state)
{
    struct harness *h = harness_of(state);
    load_local_store(h, "good.p12");
    h->lp.defer = true;
    struct rr_context_config scfg = server_config();
    assert_int_not_equal(listen_with(h, &scfg, "127.0.0.1", &h->lp.base), 0);
    struct rr_context_config cfg = client_config();
    start_client(h, &cfg, "localhost", NULL);
    start_helper(h, complete_certificate_later, 300);
    /* The client's TLS handshake waits for the certificate instead of failing. */
    sleep_ms(100);
    assert_int_equal(rr_context_state(h->client, NULL), RR_STATE_CONNECTING);
    expect_connected(h);
    join_helper(h);
    assert_true(h->helper_completed);
    assert_true(now_ms() - h->client_start_ms >= 300);
    struct rr_certificate_validation_result want = ok_result();
    expect_validation(h, &want);
}

static void test_provider_never_completes(void **state)
{
    struct harness *h = harness_of(state);
    load_local_store(h, "good.p12");
    h->lp.defer = true;
    struct rr_context_config scfg = server_config();
    scfg.handshake_timeout_ms = 1500;
    uint64_t start = now_ms();
    assert_int_not_equal(listen_with(h, &scfg, "127.0.0.1", &h->lp.base), 0);
    assert_true(handoff_wait(&h->lp.h, WAIT_MS)); /* kept, never answered */
    struct rr_context_config cfg = client_config();
    start_client(h, &cfg, "localhost", NULL);
    /* Only the Disconnected counts: the client's attempt has a deadline of its own, which may
     * expire in the same millisecond and be reported first (AttemptFailed). */
    struct rr_event ev;
    expect_event(h->server, "server", EV(RR_EVENT_DISCONNECTED), RR_EVENT_DISCONNECTED,
                 RR_REASON_NO_SERVER_CERTIFICATE, &ev);
    uint64_t took = now_ms() - start;
    print_message("server: %s (after %llu ms)\n", ev.detail, (unsigned long long)took);
    assert_true(took >= 1400 && took < 3000);
    struct rr_event cev;
    assert_true(wait_any(h->client, CLIENT_OUTCOMES, WAIT_MS, &cev));
    print_message("client: %s/%s: %s\n", rr_event_type_str(cev.type),
                  rr_disconnect_reason_str(cev.reason), cev.detail);
    assert_int_equal(cev.type, RR_EVENT_DISCONNECTED);
    /* Answering after the listen ended is a harmless no-op. */
    rr_certificate_request_complete(handoff_take(&h->lp.h), h->lp.store, h->lp.size, NULL,
                                    h->lp.password);
    assert_int_equal(rr_context_state(h->server, NULL), RR_STATE_DISCONNECTED);
}

/* ---- certificate helpers --------------------------------------------------------------------- */

static int b64_value(char c)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const char *p = c != '\0' ? strchr(alphabet, c) : NULL;
    return p != NULL ? (int)(p - alphabet) : -1;
}

/* DER of the first certificate in PEM text; 0 when there is none or @p cap is too small. */
static size_t pem_first_cert_der(const char *pem, uint8_t *out, size_t cap)
{
    const char *begin = strstr(pem, "-----BEGIN CERTIFICATE-----");
    const char *end = begin != NULL ? strstr(begin, "-----END CERTIFICATE-----") : NULL;
    if (end == NULL) {
        return 0;
    }
    uint32_t acc = 0;
    int bits = 0;
    size_t n = 0;
    for (const char *p = begin + strlen("-----BEGIN CERTIFICATE-----"); p < end; p++) {
        int v = b64_value(*p);
        if (v < 0) {
            continue; /* line breaks and '=' padding */
        }
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (n == cap) {
                return 0;
            }
            out[n++] = (uint8_t)(acc >> bits);
        }
    }
    return n;
}

static void test_fingerprint_matches_openssl(void **state)
{
    harness_of(state);
    uint8_t *pem = NULL;
    size_t pem_size = 0;
    assert_int_equal(rr_file_read(rr_test_pki("good.pem"), &pem, &pem_size), RR_OK);
    uint8_t der[8192];
    size_t der_size = pem_first_cert_der((const char *)pem, der, sizeof(der));
    free(pem);
    assert_true(der_size > 0);
    char ours[96];
    assert_int_equal(rr_cert_fingerprint_sha256(der, der_size, ours), RR_OK);

    char cmd[700];
    snprintf(cmd, sizeof(cmd), "openssl x509 -in '%s' -noout -fingerprint -sha256",
             rr_test_pki("good.pem"));
    FILE *f = popen(cmd, "r");
    assert_non_null(f);
    char line[256] = "";
    char *got = fgets(line, sizeof(line), f);
    int rc = pclose(f);
    assert_non_null(got);
    assert_int_equal(rc, 0);
    line[strcspn(line, "\r\n")] = '\0';
    const char *eq = strchr(line, '='); /* "sha256 Fingerprint=AB:CD:..." */
    assert_non_null(eq);
    assert_string_equal(ours, eq + 1);

    /* The store check reports the same certificate from the PKCS#12 holding it. */
    uint8_t *p12 = NULL;
    size_t p12_size = 0;
    assert_int_equal(rr_file_read(rr_test_pki("good.p12"), &p12, &p12_size), RR_OK);
    char from_store[96] = "";
    char err[200] = "";
    enum rr_result r =
        rr_cert_store_check(p12, p12_size, PASSWORD, NULL, from_store, err, sizeof(err));
    free(p12);
    assert_int_equal(r, RR_OK);
    assert_string_equal(from_store, ours);
    assert_int_equal(rr_cert_fingerprint_sha256(NULL, 1, ours), RR_ERROR_INVALID_ARGUMENT);
}

static void test_self_signed_store_and_pinning(void **state)
{
    struct harness *h = harness_of(state);
    assert_int_equal(
        rr_cert_create_self_signed_pkcs12("localhost", "pw", 1, &h->lp.store, &h->lp.size), RR_OK);
    h->lp.password = "pw";
    char expected[96] = "";
    char err[200] = "";
    assert_int_equal(
        rr_cert_store_check(h->lp.store, h->lp.size, "pw", "localhost", expected, err, sizeof(err)),
        RR_OK);
    struct rr_context_config scfg = server_config();
    assert_int_not_equal(listen_with(h, &scfg, "127.0.0.1", &h->lp.base), 0);
    struct rr_context_config cfg = client_config();
    h->validator.clear_root = true; /* the application pins instead of trusting a root */
    start_client(h, &cfg, "localhost", &h->validator.base);
    expect_connected(h);
    assert_true(h->validator.had_system_result);
    assert_false(h->validator.system_result.trusted_root);
    assert_int_equal(h->validator.system_result.name_validation_result, RR_NAME_MATCH);
    assert_int_equal(h->validator.chain_count, 1);
    struct rr_connection_info cinfo = client_info(h);
    struct rr_connection_info sinfo;
    assert_int_equal(rr_context_connection_info(h->server, &sinfo), RR_OK);
    assert_string_equal(cinfo.peer_certificate_sha256, sinfo.local_certificate_sha256);
    assert_string_equal(sinfo.local_certificate_sha256, expected);
}

/* ---- main ------------------------------------------------------------------------------------ */

/* Without the PKI every test is skipped (not failed), with one message saying why. The skip
 * happens in each test's body (harness_of): cmocka 1.1.5 reports a skip() in a group or test
 * setup as a failed setup. */
static int group_setup(void **state)
{
    (void)state;
    g_have_pki = rr_test_have_pki();
    if (!g_have_pki) {
        print_message("SKIP: RR_PKI_DIR is not set or holds no test PKI; run this through ctest, "
                      "whose pki_setup fixture creates it\n");
    }
    return 0;
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_good_localhost),
        T(test_good_ipv4_literal),
        T(test_good_ipv6_literal),
        T(test_untrusted_selfsigned),
        T(test_untrusted_without_ca_file),
        T(test_missing_intermediate),
        T(test_expired),
        T(test_not_yet_valid),
        T(test_wrong_usage),
        T(test_name_mismatch_dns),
        T(test_name_mismatch_ip),
        T(test_revoked_crl_fetched),
        T(test_revoked_crl_file),
        T(test_revoked_crl_file_forced),
        T(test_good_crl_file_forced),
        T(test_partial_crl_file_forced),
        T(test_revoked_ocsp),
        T(test_revocation_unknown_not_forced),
        T(test_revocation_unknown_forced),
        T(test_no_revocation_info_forced),
        T(test_good_forced),
        T(test_validator_without_system),
        T(test_validator_without_system_selfsigned),
        T(test_validator_clears_name_mismatch),
        T(test_validator_trusts_selfsigned),
        T(test_validator_keeps_system_verdict),
        T(test_validator_deferred_other_thread),
        T(test_validator_never_completes),
        T(test_validator_cancels),
        T(test_validator_completes_after_destroy),
        T(test_token_not_sent_to_rejected_server),
        T(test_store_wrong_password),
        T(test_store_without_key),
        T(test_store_garbage_p12),
        T(test_store_garbage_pem),
        T(test_store_subject_not_found),
        T(test_store_subject_friendly_name),
        T(test_store_subject_cn),
        T(test_store_pem_combined),
        T(test_store_empty_password),
        T(test_provider_completes_late),
        T(test_provider_never_completes),
        T(test_fingerprint_matches_openssl),
        T(test_self_signed_store_and_pinning),
    };
    return cmocka_run_group_tests(tests, group_setup, NULL);
}
