/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Connection tests with two real contexts on loopback: roles on either network side, IPv4 and
 * IPv6, ephemeral ports, listening again, the disconnect reasons of each side, role/codec/port
 * failures, token handling (missing, wrong, oversized, cached, stale cache) and TLS/plain
 * mismatches.
 */
#include "rr_test.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static struct rr_context *make(enum rr_role role)
{
    struct rr_context_config c = rr_test_config(role);
    c.ca_file = rr_test_pki("ca.pem");
    c.no_system_trust = true;
    struct rr_context *ctx = NULL;
    assert_int_equal(rr_context_create(&c, &ctx), RR_OK);
    return ctx;
}

static struct rr_context *make_cfg(struct rr_context_config *c)
{
    struct rr_context *ctx = NULL;
    assert_int_equal(rr_context_create(c, &ctx), RR_OK);
    return ctx;
}

/* Exchange one message on a channel created by @p creator and check it arrives at @p other. */
static void exchange(struct rr_context *creator, enum rr_role creator_role,
                     struct rr_context *other)
{
    struct rr_data_channel *ch = NULL;
    uint8_t id = creator_role == RR_ROLE_REMOTE ? 3 : 70;
    assert_int_equal(rr_data_channel_create(creator, id, RR_PRIORITY_MEDIUM, &ch), RR_OK);
    assert_true(rr_test_wait_event(creator, RR_EVENT_DATA_CHANNEL_OPENED, 5000, NULL));
    assert_int_equal(rr_data_channel_send(ch, "ping", 4, true), RR_OK);
    struct rr_event ev;
    assert_true(rr_test_wait_event(other, RR_EVENT_DATA_RECEIVED, 5000, &ev));
    assert_int_equal(ev.channel_id, id);
    assert_int_equal(ev.size, 4);
    assert_memory_equal(ev.data, "ping", 4);
    rr_event_release(&ev);
}

static void run_plain(enum rr_role server_role, const char *listen_host, const char *connect_host)
{
    enum rr_role client_role = server_role == RR_ROLE_PLAYER ? RR_ROLE_REMOTE : RR_ROLE_PLAYER;
    struct rr_context *server = make(server_role);
    struct rr_context *client = make(client_role);
    assert_int_equal(rr_context_listen(server, listen_host, 0, 0), RR_OK);
    struct rr_event ev;
    assert_true(rr_test_wait_event(server, RR_EVENT_LISTENING, 5000, &ev));
    assert_int_not_equal(ev.port, 0);
    assert_int_not_equal(ev.transport_port, 0);
    assert_int_not_equal(ev.port, ev.transport_port);
    assert_int_equal(rr_context_state(server, NULL), RR_STATE_CONNECTING);
    assert_int_equal(rr_context_connect(client, connect_host, ev.port), RR_OK);
    assert_true(rr_test_wait_event(client, RR_EVENT_CONNECTED, 5000, NULL));
    assert_true(rr_test_wait_event(server, RR_EVENT_CONNECTED, 5000, NULL));
    assert_int_equal(rr_context_state(client, NULL), RR_STATE_CONNECTED);
    assert_int_equal(rr_context_state(server, NULL), RR_STATE_CONNECTED);
    struct rr_connection_info info;
    assert_int_equal(rr_context_connection_info(client, &info), RR_OK);
    assert_false(info.secure);
    assert_int_equal(info.peer_role, server_role);
    assert_string_equal(info.transport, "tcp");
    assert_string_equal(info.codec, "hevc");
    assert_int_equal(strlen(info.connection_id), 32);
    exchange(client, client_role, server);
    exchange(server, server_role, client);
    /* The client leaves: DisconnectRequest here, PeerDisconnectRequest there. */
    assert_int_equal(rr_context_disconnect(client), RR_OK);
    assert_int_equal(rr_test_wait_disconnected(client, 5000, NULL, 0),
                     RR_REASON_DISCONNECT_REQUEST);
    assert_int_equal(rr_test_wait_disconnected(server, 5000, NULL, 0),
                     RR_REASON_PEER_DISCONNECT_REQUEST);
    enum rr_disconnect_reason last;
    assert_int_equal(rr_context_state(server, &last), RR_STATE_DISCONNECTED);
    assert_int_equal(last, RR_REASON_PEER_DISCONNECT_REQUEST);
    rr_context_destroy(&client);
    rr_context_destroy(&server);
    assert_null(client);
}

static void test_player_listens_remote_connects(void **state)
{
    run_plain(RR_ROLE_PLAYER, "127.0.0.1", "127.0.0.1");
}

static void test_remote_listens_player_connects(void **state)
{
    run_plain(RR_ROLE_REMOTE, "127.0.0.1", "127.0.0.1");
}

static void test_ipv6(void **state)
{
    run_plain(RR_ROLE_PLAYER, "::1", "::1");
}

static void test_dual_stack_any(void **state)
{
    run_plain(RR_ROLE_PLAYER, NULL, "[::1]");
    run_plain(RR_ROLE_PLAYER, NULL, "127.0.0.1");
}

static void test_server_disconnects_and_listens_again(void **state)
{
    struct rr_context *server = make(RR_ROLE_PLAYER);
    struct rr_context *client = make(RR_ROLE_REMOTE);
    assert_int_equal(rr_context_listen(server, "127.0.0.1", 0, 0), RR_OK);
    uint16_t port = rr_test_wait_listening(server, 5000);
    for (int round = 0; round < 3; round++) {
        if (round > 0) {
            /* The context serves one client; the application listens again on the same port. */
            assert_int_equal(rr_context_listen(server, "127.0.0.1", port, 0), RR_OK);
            assert_int_equal(rr_test_wait_listening(server, 5000), port);
        }
        assert_int_equal(rr_context_connect(client, "localhost", port), RR_OK);
        assert_true(rr_test_wait_event(client, RR_EVENT_CONNECTED, 5000, NULL));
        assert_true(rr_test_wait_event(server, RR_EVENT_CONNECTED, 5000, NULL));
        assert_int_equal(rr_context_disconnect(server), RR_OK);
        assert_int_equal(rr_test_wait_disconnected(server, 5000, NULL, 0),
                         RR_REASON_DISCONNECT_REQUEST);
        assert_int_equal(rr_test_wait_disconnected(client, 5000, NULL, 0),
                         RR_REASON_PEER_DISCONNECT_REQUEST);
    }
    rr_context_destroy(&client);
    rr_context_destroy(&server);
}

static void test_wrong_state(void **state)
{
    struct rr_context *server = make(RR_ROLE_PLAYER);
    assert_int_equal(rr_context_listen(server, "127.0.0.1", 0, 0), RR_OK);
    assert_int_equal(rr_context_listen(server, "127.0.0.1", 0, 0), RR_ERROR_WRONG_STATE);
    assert_int_equal(rr_context_connect(server, "127.0.0.1", 1), RR_ERROR_WRONG_STATE);
    assert_int_not_equal(rr_test_wait_listening(server, 5000), 0);
    assert_int_equal(rr_context_disconnect(server), RR_OK);
    assert_int_equal(rr_test_wait_disconnected(server, 5000, NULL, 0),
                     RR_REASON_DISCONNECT_REQUEST);
    assert_int_equal(rr_context_disconnect(server), RR_OK); /* idle: nothing to do */
    assert_int_equal(rr_context_connect(server, NULL, 1), RR_ERROR_INVALID_ARGUMENT);
    struct rr_context_config bad = rr_test_config(RR_ROLE_PLAYER);
    bad.codecs = "HEVC;";
    struct rr_context *x = NULL;
    assert_int_equal(rr_context_create(&bad, &x), RR_ERROR_INVALID_ARGUMENT);
    rr_context_destroy(&server);
}

static void test_two_players(void **state)
{
    struct rr_context *server = make(RR_ROLE_PLAYER);
    struct rr_context *client = make(RR_ROLE_PLAYER);
    assert_int_equal(rr_context_listen(server, "127.0.0.1", 0, 0), RR_OK);
    uint16_t port = rr_test_wait_listening(server, 5000);
    assert_int_equal(rr_context_connect(client, "127.0.0.1", port), RR_OK);
    char detail[192];
    assert_int_equal(rr_test_wait_disconnected(client, 5000, detail, sizeof(detail)),
                     RR_REASON_HANDSHAKE_FAILED);
    /* The server's explanation reaches the client (OpenRR-Error-Detail). */
    assert_non_null(strstr(detail, "both sides are players"));
    assert_int_equal(rr_test_wait_attempt_failed(server, 5000, detail, sizeof(detail)),
                     RR_REASON_HANDSHAKE_FAILED);
    assert_non_null(strstr(detail, "player"));
    assert_int_equal(rr_context_state(server, NULL), RR_STATE_CONNECTING); /* still listening */
    rr_context_destroy(&client);
    rr_context_destroy(&server);
}

static void test_codec_mismatch(void **state)
{
    struct rr_context_config sc = rr_test_config(RR_ROLE_REMOTE);
    sc.codecs = "hevc";
    struct rr_context_config cc = rr_test_config(RR_ROLE_PLAYER);
    cc.codecs = "h264";
    struct rr_context *server = make_cfg(&sc);
    struct rr_context *client = make_cfg(&cc);
    assert_int_equal(rr_context_listen(server, "127.0.0.1", 0, 0), RR_OK);
    uint16_t port = rr_test_wait_listening(server, 5000);
    assert_int_equal(rr_context_connect(client, "127.0.0.1", port), RR_OK);
    assert_int_equal(rr_test_wait_disconnected(client, 5000, NULL, 0),
                     RR_REASON_VIDEO_CODEC_NOT_AVAILABLE);
    assert_int_equal(rr_test_wait_attempt_failed(server, 5000, NULL, 0),
                     RR_REASON_VIDEO_CODEC_NOT_AVAILABLE);
    rr_context_destroy(&client);
    rr_context_destroy(&server);

    /* The remote's preference wins when both support both. */
    sc.codecs = "h264,hevc";
    cc.codecs = "hevc,h264";
    server = make_cfg(&sc);
    client = make_cfg(&cc);
    assert_int_equal(rr_context_listen(server, "127.0.0.1", 0, 0), RR_OK);
    port = rr_test_wait_listening(server, 5000);
    assert_int_equal(rr_context_connect(client, "127.0.0.1", port), RR_OK);
    assert_true(rr_test_wait_event(client, RR_EVENT_CONNECTED, 5000, NULL));
    struct rr_connection_info info;
    assert_int_equal(rr_context_connection_info(client, &info), RR_OK);
    assert_string_equal(info.codec, "h264");
    rr_context_destroy(&client);
    rr_context_destroy(&server);
}

static void test_ports_busy_and_refused(void **state)
{
    struct rr_context *a = make(RR_ROLE_PLAYER);
    struct rr_context *b = make(RR_ROLE_PLAYER);
    assert_int_equal(rr_context_listen(a, "127.0.0.1", 0, 0), RR_OK);
    struct rr_event ev;
    assert_true(rr_test_wait_event(a, RR_EVENT_LISTENING, 5000, &ev));
    char detail[192];
    assert_int_equal(rr_context_listen(b, "127.0.0.1", ev.port, 0), RR_OK);
    assert_int_equal(rr_test_wait_disconnected(b, 5000, detail, sizeof(detail)),
                     RR_REASON_HANDSHAKE_PORT_BUSY);
    assert_int_equal(rr_context_state(b, NULL), RR_STATE_DISCONNECTED);
    /* Handshake port free, transport port taken by a's reservation. */
    assert_int_equal(rr_context_listen(b, "127.0.0.1", 0, ev.transport_port), RR_OK);
    assert_int_equal(rr_test_wait_disconnected(b, 5000, detail, sizeof(detail)),
                     RR_REASON_TRANSPORT_PORT_BUSY);
    uint16_t port = ev.port;
    rr_context_destroy(&a); /* port now closed */
    struct rr_context *c = make(RR_ROLE_REMOTE);
    assert_int_equal(rr_context_connect(c, "127.0.0.1", port), RR_OK);
    assert_int_equal(rr_test_wait_disconnected(c, 5000, detail, sizeof(detail)),
                     RR_REASON_HANDSHAKE_CONNECTION_REFUSED);
    rr_context_destroy(&c);
    rr_context_destroy(&b);
}

static void test_busy_listener_refuses_second_client(void **state)
{
    struct rr_test_pair pair;
    assert_true(rr_test_pair_connect(&pair, RR_ROLE_PLAYER, false));
    struct rr_context *second = make(RR_ROLE_REMOTE);
    assert_int_equal(rr_context_connect(second, "127.0.0.1", pair.port), RR_OK);
    char detail[192];
    assert_int_equal(rr_test_wait_disconnected(second, 5000, detail, sizeof(detail)),
                     RR_REASON_HANDSHAKE_FAILED);
    assert_int_equal(rr_test_wait_attempt_failed(pair.server, 5000, detail, sizeof(detail)),
                     RR_REASON_HANDSHAKE_FAILED);
    assert_non_null(strstr(detail, "already"));
    assert_int_equal(rr_context_state(pair.server, NULL), RR_STATE_CONNECTED);
    rr_context_destroy(&second);
    rr_test_pair_destroy(&pair);
}

/* ---- secure ---- */

struct secure_setup {
    struct rr_context *server;
    struct rr_context *client;
    struct rr_test_cert_provider cert;
    struct rr_test_token_receiver receiver;
    struct rr_test_token_provider provider;
    uint16_t port;
};

static void secure_listen(struct secure_setup *s, const char *expected_token, const char *realm)
{
    memset(s, 0, sizeof(*s));
    s->server = make(RR_ROLE_PLAYER);
    s->client = make(RR_ROLE_REMOTE);
    assert_true(rr_test_cert_provider_init(&s->cert, rr_test_pki("good.p12"), "openrr-test-good",
                                           "test-pass"));
    rr_test_token_receiver_init(&s->receiver, expected_token, realm);
    assert_int_equal(
        rr_context_listen_secure(s->server, "127.0.0.1", 0, 0, &s->cert.base, &s->receiver.base),
        RR_OK);
    s->port = rr_test_wait_listening(s->server, 5000);
    assert_int_not_equal(s->port, 0);
}

static void secure_teardown(struct secure_setup *s)
{
    rr_context_destroy(&s->client);
    rr_context_destroy(&s->server);
    rr_test_cert_provider_fini(&s->cert);
}

static void test_secure_connect_and_info(void **state)
{
    struct secure_setup s;
    secure_listen(&s, "tok-123", "My Realm \"quoted\"");
    rr_test_token_provider_init(&s.provider, "tok-123");
    assert_int_equal(
        rr_context_connect_secure(s.client, "localhost", s.port, &s.provider.base, NULL), RR_OK);
    assert_true(rr_test_wait_event(s.client, RR_EVENT_CONNECTED, 8000, NULL));
    assert_true(rr_test_wait_event(s.server, RR_EVENT_CONNECTED, 8000, NULL));
    assert_string_equal(s.provider.last_realm, "My Realm \"quoted\"");
    assert_int_equal(s.provider.calls, 1);
    assert_int_equal(s.receiver.calls, 1);
    struct rr_connection_info ci, si;
    assert_int_equal(rr_context_connection_info(s.client, &ci), RR_OK);
    assert_int_equal(rr_context_connection_info(s.server, &si), RR_OK);
    assert_true(ci.secure);
    assert_string_equal(ci.tls_version, "TLSv1.3");
    assert_string_equal(si.tls_version, "TLSv1.3");
    assert_int_equal(strlen(ci.peer_certificate_sha256), 95);
    assert_string_equal(ci.peer_certificate_sha256, si.local_certificate_sha256);
    assert_true(ci.has_validation);
    assert_true(ci.final_validation.trusted_root);
    assert_int_equal(ci.final_validation.name_validation_result, RR_NAME_MATCH);
    assert_false(ci.token_from_cache);
    assert_string_equal(ci.connection_id, si.connection_id);
    exchange(s.client, RR_ROLE_REMOTE, s.server);
    secure_teardown(&s);
}

static void test_cached_token(void **state)
{
    struct secure_setup s;
    secure_listen(&s, "cache-me", NULL);
    rr_test_token_provider_init(&s.provider, "cache-me");
    assert_int_equal(
        rr_context_connect_secure(s.client, "localhost", s.port, &s.provider.base, NULL), RR_OK);
    assert_true(rr_test_wait_event(s.client, RR_EVENT_CONNECTED, 8000, NULL));
    assert_string_equal(s.provider.last_realm, "OpenRR Remoting"); /* the default realm */
    assert_int_equal(rr_context_disconnect(s.client), RR_OK);
    assert_int_equal(rr_test_wait_disconnected(s.server, 5000, NULL, 0),
                     RR_REASON_PEER_DISCONNECT_REQUEST);
    assert_int_equal(rr_test_wait_disconnected(s.client, 5000, NULL, 0),
                     RR_REASON_DISCONNECT_REQUEST);

    /* Second connection: the token goes in the first request; the provider is not asked. */
    assert_int_equal(
        rr_context_listen_secure(s.server, "127.0.0.1", s.port, 0, &s.cert.base, &s.receiver.base),
        RR_OK);
    assert_int_equal(rr_test_wait_listening(s.server, 5000), s.port);
    assert_int_equal(
        rr_context_connect_secure(s.client, "localhost", s.port, &s.provider.base, NULL), RR_OK);
    assert_true(rr_test_wait_event(s.client, RR_EVENT_CONNECTED, 8000, NULL));
    assert_int_equal(s.provider.calls, 1);
    struct rr_connection_info ci;
    assert_int_equal(rr_context_connection_info(s.client, &ci), RR_OK);
    assert_true(ci.token_from_cache);
    assert_int_equal(rr_context_disconnect(s.client), RR_OK);
    assert_int_equal(rr_test_wait_disconnected(s.server, 5000, NULL, 0),
                     RR_REASON_PEER_DISCONNECT_REQUEST);
    assert_int_equal(rr_test_wait_disconnected(s.client, 5000, NULL, 0),
                     RR_REASON_DISCONNECT_REQUEST);

    /* The server now wants another token: the stale cached one is refused once, the client
     * asks its provider and succeeds on the same connection. */
    s.receiver.expected = "rotated";
    s.provider.token = "rotated";
    assert_int_equal(
        rr_context_listen_secure(s.server, "127.0.0.1", s.port, 0, &s.cert.base, &s.receiver.base),
        RR_OK);
    assert_int_equal(rr_test_wait_listening(s.server, 5000), s.port);
    assert_int_equal(
        rr_context_connect_secure(s.client, "localhost", s.port, &s.provider.base, NULL), RR_OK);
    assert_true(rr_test_wait_event(s.client, RR_EVENT_CONNECTED, 8000, NULL));
    assert_int_equal(s.provider.calls, 2);
    assert_int_equal(rr_context_connection_info(s.client, &ci), RR_OK);
    assert_false(ci.token_from_cache);
    secure_teardown(&s);
}

static void expect_auth_failure(const char *client_token, bool server_sees_it)
{
    struct secure_setup s;
    secure_listen(&s, "right", NULL);
    rr_test_token_provider_init(&s.provider, client_token);
    assert_int_equal(
        rr_context_connect_secure(s.client, "localhost", s.port, &s.provider.base, NULL), RR_OK);
    char detail[192];
    assert_int_equal(rr_test_wait_disconnected(s.client, 8000, detail, sizeof(detail)),
                     RR_REASON_AUTHENTICATION_FAILED);
    assert_int_equal(rr_test_wait_attempt_failed(s.server, 8000, detail, sizeof(detail)),
                     server_sees_it ? RR_REASON_AUTHENTICATION_FAILED
                                    : RR_REASON_HANDSHAKE_CONNECTION_FAILED);
    assert_int_equal(s.receiver.calls, server_sees_it ? 1 : 0);
    assert_int_equal(rr_context_state(s.server, NULL), RR_STATE_CONNECTING);
    secure_teardown(&s);
}

static void test_wrong_token(void **state)
{
    expect_auth_failure("wrong", true);
}

static void test_missing_token(void **state)
{
    expect_auth_failure(NULL, false);
}

static void test_token_64k(void **state)
{
    char *big = malloc(65537);
    memset(big, 'a', 65536);
    big[65536] = '\0';
    /* Refused by the client before sending: the server never sees it. */
    expect_auth_failure(big, false);
    free(big);
}

static void test_token_with_newline(void **state)
{
    expect_auth_failure("abc\r\nX-Injected: 1", false);
}

static void test_plain_client_secure_server(void **state)
{
    struct secure_setup s;
    secure_listen(&s, "t", NULL);
    uint64_t t0 = rr_test_now_ms();
    assert_int_equal(rr_context_connect(s.client, "127.0.0.1", s.port), RR_OK);
    char detail[192];
    assert_int_equal(rr_test_wait_disconnected(s.client, 5000, detail, sizeof(detail)),
                     RR_REASON_HANDSHAKE_CONNECTION_FAILED);
    assert_int_equal(rr_test_wait_attempt_failed(s.server, 5000, detail, sizeof(detail)),
                     RR_REASON_HANDSHAKE_CONNECTION_FAILED);
    assert_true(rr_test_now_ms() - t0 < 1000);
    secure_teardown(&s);
}

static void test_secure_client_plain_server(void **state)
{
    struct rr_context *server = make(RR_ROLE_PLAYER);
    struct rr_context *client = make(RR_ROLE_REMOTE);
    struct rr_test_token_provider provider;
    rr_test_token_provider_init(&provider, "t");
    assert_int_equal(rr_context_listen(server, "127.0.0.1", 0, 0), RR_OK);
    uint16_t port = rr_test_wait_listening(server, 5000);
    uint64_t t0 = rr_test_now_ms();
    assert_int_equal(rr_context_connect_secure(client, "127.0.0.1", port, &provider.base, NULL),
                     RR_OK);
    char detail[192];
    assert_int_equal(rr_test_wait_disconnected(client, 5000, detail, sizeof(detail)),
                     RR_REASON_HANDSHAKE_CONNECTION_FAILED);
    assert_int_equal(rr_test_wait_attempt_failed(server, 5000, detail, sizeof(detail)),
                     RR_REASON_HANDSHAKE_CONNECTION_FAILED);
    assert_non_null(strstr(detail, "TLS client"));
    assert_true(rr_test_now_ms() - t0 < 1000);
    assert_int_equal(provider.calls, 0);
    rr_context_destroy(&client);
    rr_context_destroy(&server);
}

/* A raw TCP client on 127.0.0.1:@p port that sends @p head and never finishes its request. */
static int start_unfinished_handshake(uint16_t port, const char *head)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    size_t n = strlen(head);
    assert_int_equal(write(fd, head, n), (ssize_t)n);
    return fd;
}

/* A handshake stuck on one client (slowloris) does not stop another. */
static void test_slow_client_does_not_block_others(void **state)
{
    struct rr_context_config sc = rr_test_config(RR_ROLE_PLAYER);
    sc.handshake_timeout_ms = 1500;
    struct rr_context *server = make_cfg(&sc);
    assert_int_equal(rr_context_listen(server, "127.0.0.1", 0, 0), RR_OK);
    uint16_t port = rr_test_wait_listening(server, 5000);
    int fd = start_unfinished_handshake(port, "GET /openrr/remoting HTTP/1.1\r\nHost: x");
    struct rr_context *client = make(RR_ROLE_REMOTE);
    assert_int_equal(rr_context_connect(client, "127.0.0.1", port), RR_OK);
    assert_true(rr_test_wait_event(client, RR_EVENT_CONNECTED, 5000, NULL));
    char detail[192];
    uint64_t t0 = rr_test_now_ms();
    assert_int_equal(rr_test_wait_attempt_failed(server, 5000, detail, sizeof(detail)),
                     RR_REASON_REMOTING_HANDSHAKE_TIMEOUT);
    assert_true(rr_test_now_ms() - t0 < 2500);
    char buf[16];
    assert_true(read(fd, buf, sizeof(buf)) <= 0); /* closed by the server */
    close(fd);
    rr_context_destroy(&client);
    rr_context_destroy(&server);
}

/* A handshake still in progress when the served connection ends is reported, not dropped. */
static void test_pending_attempt_reported_when_listening_ends(void **state)
{
    struct rr_context *server = make(RR_ROLE_PLAYER);
    assert_int_equal(rr_context_listen(server, "127.0.0.1", 0, 0), RR_OK);
    uint16_t port = rr_test_wait_listening(server, 5000);
    int fd = start_unfinished_handshake(port, "GET /openrr");
    struct rr_context *client = make(RR_ROLE_REMOTE);
    assert_int_equal(rr_context_connect(client, "127.0.0.1", port), RR_OK);
    assert_true(rr_test_wait_event(client, RR_EVENT_CONNECTED, 5000, NULL));
    assert_true(rr_test_wait_event(server, RR_EVENT_CONNECTED, 5000, NULL));
    assert_int_equal(rr_context_disconnect(client), RR_OK);
    char detail[192];
    assert_int_equal(rr_test_wait_attempt_failed(server, 5000, detail, sizeof(detail)),
                     RR_REASON_CANCELED);
    assert_non_null(strstr(detail, "listening ended"));
    close(fd);
    rr_context_destroy(&client);
    rr_context_destroy(&server);
}

static int g_callback_events[16];

static void on_event(void *user, const struct rr_event *ev)
{
    (void)user;
    if ((unsigned)ev->type < 16) {
        __atomic_fetch_add(&g_callback_events[ev->type], 1, __ATOMIC_SEQ_CST);
    }
}

static void test_event_callback(void **state)
{
    memset(g_callback_events, 0, sizeof(g_callback_events));
    struct rr_context_config sc = rr_test_config(RR_ROLE_PLAYER);
    sc.event_callback = on_event;
    struct rr_context *server = make_cfg(&sc);
    struct rr_context *client = make(RR_ROLE_REMOTE);
    assert_int_equal(rr_context_listen(server, "127.0.0.1", 40000 + (getpid() % 20000), 0), RR_OK);
    for (int i = 0;
         i < 100 &&
         __atomic_load_n(&g_callback_events[RR_EVENT_LISTENING], __ATOMIC_SEQ_CST) == 0 &&
         __atomic_load_n(&g_callback_events[RR_EVENT_DISCONNECTED], __ATOMIC_SEQ_CST) == 0;
         i++) {
        usleep(10000);
    }
    if (g_callback_events[RR_EVENT_DISCONNECTED] != 0) {
        skip(); /* the chosen port was taken: nothing to learn */
    }
    assert_int_equal(g_callback_events[RR_EVENT_LISTENING], 1);
    struct rr_event ev;
    assert_int_equal(rr_context_poll_event(server, &ev, 0), RR_ERROR_NO_EVENT);
    rr_context_destroy(&client);
    rr_context_destroy(&server);
}

int main(void)
{
    if (!rr_test_have_pki()) {
        fprintf(stderr, "RR_PKI_DIR is not set up: run through ctest (pki_setup fixture)\n");
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_player_listens_remote_connects),
        cmocka_unit_test(test_remote_listens_player_connects),
        cmocka_unit_test(test_ipv6),
        cmocka_unit_test(test_dual_stack_any),
        cmocka_unit_test(test_server_disconnects_and_listens_again),
        cmocka_unit_test(test_wrong_state),
        cmocka_unit_test(test_two_players),
        cmocka_unit_test(test_codec_mismatch),
        cmocka_unit_test(test_ports_busy_and_refused),
        cmocka_unit_test(test_busy_listener_refuses_second_client),
        cmocka_unit_test(test_secure_connect_and_info),
        cmocka_unit_test(test_cached_token),
        cmocka_unit_test(test_wrong_token),
        cmocka_unit_test(test_missing_token),
        cmocka_unit_test(test_token_64k),
        cmocka_unit_test(test_token_with_newline),
        cmocka_unit_test(test_plain_client_secure_server),
        cmocka_unit_test(test_secure_client_plain_server),
        cmocka_unit_test(test_slow_client_does_not_block_others),
        cmocka_unit_test(test_event_callback),
        cmocka_unit_test(test_pending_attempt_reported_when_listening_ends),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
