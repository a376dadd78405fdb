/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the handshake HTTP parser and its helpers (src/remoting/http.c). The parser
 * faces unauthenticated peers, so besides the happy path every refusal is provoked here: each
 * status (INCOMPLETE, TOO_LARGE, MALFORMED) at its boundary, and the helpers that read
 * tokens and realms out of a parsed head.
 */
#include "http.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The message is 16 KiB and more: static so that no test depends on the stack size. */
static struct rr_http_msg g_msg;

static const char k_request[] = "GET /openrr/remoting HTTP/1.1\r\n"
                                "Host: example.org:8265\r\n"
                                "Connection: Upgrade\r\n"
                                "Upgrade: openrr-remoting/1\r\n"
                                "OpenRR-Role: player\r\n"
                                "OpenRR-Transports: tcp, udp\r\n"
                                "OpenRR-Codecs: hevc, h264\r\n"
                                "Authorization: Bearer s3cr3t-T0ken\r\n"
                                "\r\n";

static const char k_response_101[] = "HTTP/1.1 101 Switching Protocols\r\n"
                                     "Connection: Upgrade\r\n"
                                     "Upgrade: openrr-remoting/1\r\n"
                                     "OpenRR-Transport: tcp\r\n"
                                     "\r\n";

static const char k_response_401[] = "HTTP/1.1 401 Unauthorized\r\n"
                                     "WWW-Authenticate: Bearer realm=\"OpenRR Remoting\"\r\n"
                                     "Content-Length: 0\r\n"
                                     "\r\n";

static enum rr_http_status parse_n(const void *data, size_t len, bool response)
{
    return rr_http_parse((const uint8_t *)data, len, response, &g_msg);
}

static enum rr_http_status parse_s(const char *s, bool response)
{
    return parse_n(s, strlen(s), response);
}

/* A request with one extra header line, so each header test states only what it is about. */
static enum rr_http_status parse_request_with(const char *header_line)
{
    char buf[1024];
    int n = snprintf(buf, sizeof(buf), "GET / HTTP/1.1\r\nHost: h\r\n%s\r\n\r\n", header_line);
    assert_true(n > 0 && (size_t)n < sizeof(buf));
    return parse_n(buf, (size_t)n, false);
}

/* A parsed message holding exactly the given headers, bypassing the parser's trimming so the
 * helpers are tested on values the parser would never produce as well. */
static void set_headers(size_t count, const char *const *names, const char *const *values)
{
    memset(&g_msg, 0, sizeof(g_msg));
    for (size_t i = 0; i < count; i++) {
        g_msg.headers[i].name = names[i];
        g_msg.headers[i].value = values[i];
    }
    g_msg.header_count = count;
}

static void set_header(const char *name, const char *value)
{
    set_headers(1, &name, &value);
}

/* A string of @p n copies of @p c (free()). */
static char *repeat(char c, size_t n)
{
    char *s = malloc(n + 1);
    assert_non_null(s);
    memset(s, c, n);
    s[n] = '\0';
    return s;
}

/* ---- complete messages ------------------------------------------------------------------ */

static void test_request_parses(void **state)
{
    (void)state;
    assert_int_equal(parse_s(k_request, false), RR_HTTP_COMPLETE);
    assert_int_equal(g_msg.length, strlen(k_request));
    assert_string_equal(g_msg.method, "GET");
    assert_string_equal(g_msg.target, "/openrr/remoting");
    assert_int_equal(g_msg.header_count, 7);
    assert_string_equal(g_msg.headers[0].name, "Host");
    assert_string_equal(g_msg.headers[0].value, "example.org:8265");
    assert_string_equal(g_msg.headers[6].name, "Authorization");
    assert_string_equal(g_msg.headers[6].value, "Bearer s3cr3t-T0ken");
    assert_string_equal(rr_http_header(&g_msg, "OpenRR-Role"), "player");
    assert_string_equal(rr_http_header(&g_msg, "OpenRR-Codecs"), "hevc, h264");
}

static void test_request_without_headers_parses(void **state)
{
    (void)state;
    assert_int_equal(parse_s("OPTIONS * HTTP/1.1\r\n\r\n", false), RR_HTTP_COMPLETE);
    assert_string_equal(g_msg.method, "OPTIONS");
    assert_string_equal(g_msg.target, "*");
    assert_int_equal(g_msg.header_count, 0);
    assert_int_equal(g_msg.length, 22);
}

static void test_trailing_bytes_not_consumed(void **state)
{
    (void)state;
    /* After a 101 the same stream carries binary records: they may arrive in the same read as
     * the head and must neither be counted in it nor make it malformed. */
    static const uint8_t record[] = {0x80, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x09, 0x01, 0xff};
    size_t head = strlen(k_response_101);
    uint8_t buf[512];
    memcpy(buf, k_response_101, head);
    memcpy(buf + head, record, sizeof(record));
    assert_int_equal(parse_n(buf, head + sizeof(record), true), RR_HTTP_COMPLETE);
    assert_int_equal(g_msg.length, head);
    assert_int_equal(g_msg.status, 101);

    /* A second head pipelined behind the first is not part of it either. */
    char two[1024];
    snprintf(two, sizeof(two), "%s%s", k_request, k_request);
    assert_int_equal(parse_s(two, false), RR_HTTP_COMPLETE);
    assert_int_equal(g_msg.length, strlen(k_request));
    assert_int_equal(g_msg.header_count, 7);
}

static void test_response_101_parses(void **state)
{
    (void)state;
    assert_int_equal(parse_s(k_response_101, true), RR_HTTP_COMPLETE);
    assert_int_equal(g_msg.status, 101);
    assert_string_equal(g_msg.reason_phrase, "Switching Protocols");
    assert_int_equal(g_msg.length, strlen(k_response_101));
    assert_int_equal(g_msg.header_count, 3);
    assert_string_equal(rr_http_header(&g_msg, "OpenRR-Transport"), "tcp");
}

static void test_response_401_parses(void **state)
{
    (void)state;
    assert_int_equal(parse_s(k_response_401, true), RR_HTTP_COMPLETE);
    assert_int_equal(g_msg.status, 401);
    assert_string_equal(g_msg.reason_phrase, "Unauthorized");
    assert_string_equal(rr_http_header(&g_msg, "WWW-Authenticate"),
                        "Bearer realm=\"OpenRR Remoting\"");
    assert_string_equal(rr_http_header(&g_msg, "Content-Length"), "0");
}

static void test_response_empty_reason_parses(void **state)
{
    (void)state;
    /* The reason phrase may be empty (RFC 9112 §4); the status alone decides. */
    assert_int_equal(parse_s("HTTP/1.1 204 \r\n\r\n", true), RR_HTTP_COMPLETE);
    assert_int_equal(g_msg.status, 204);
    assert_string_equal(g_msg.reason_phrase, "");
    assert_int_equal(parse_s("HTTP/1.1 204\r\n\r\n", true), RR_HTTP_COMPLETE);
    assert_int_equal(g_msg.status, 204);
    assert_string_equal(g_msg.reason_phrase, "");
}

static void test_header_value_whitespace_trimmed(void **state)
{
    (void)state;
    assert_int_equal(parse_request_with("X-Pad: \t  a b\t \t"), RR_HTTP_COMPLETE);
    assert_string_equal(rr_http_header(&g_msg, "X-Pad"), "a b");
    assert_int_equal(parse_request_with("X-Empty:"), RR_HTTP_COMPLETE);
    assert_string_equal(rr_http_header(&g_msg, "X-Empty"), "");
    assert_int_equal(parse_request_with("X-Tab: a\tb"), RR_HTTP_COMPLETE);
    assert_string_equal(rr_http_header(&g_msg, "X-Tab"), "a\tb");
}

/* ---- INCOMPLETE ------------------------------------------------------------------------- */

static void assert_every_prefix_incomplete(const char *head, bool response)
{
    size_t len = strlen(head);
    for (size_t n = 0; n < len; n++) {
        enum rr_http_status st = parse_n(head, n, response);
        if (st != RR_HTTP_INCOMPLETE) {
            fail_msg("prefix of %zu/%zu bytes gave status %d instead of INCOMPLETE", n, len,
                     (int)st);
        }
    }
    assert_int_equal(parse_n(head, len, response), RR_HTTP_COMPLETE);
}

static void test_every_prefix_incomplete(void **state)
{
    (void)state;
    assert_every_prefix_incomplete(k_request, false);
    assert_every_prefix_incomplete(k_response_101, true);
    assert_every_prefix_incomplete(k_response_401, true);
}

static void test_prefix_status_agrees_with_whole_head(void **state)
{
    (void)state;
    /* The status must not depend on how TCP split the head: a head that parses COMPLETE in
     * one read must give INCOMPLETE for each shorter read, or the same head is accepted or
     * refused by chance. Non-ASCII (obs-text) header values are where this can break. */
    static const char *const heads[] = {
        "GET / HTTP/1.1\r\nHost: h\r\nX-Name: caf\xc3\xa9\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: h\r\nX-Bin: \x80\xff\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof(heads) / sizeof(heads[0]); i++) {
        size_t len = strlen(heads[i]);
        enum rr_http_status whole = parse_n(heads[i], len, false);
        if (whole != RR_HTTP_COMPLETE) {
            continue; /* refused whole: consistent whatever a prefix gives */
        }
        for (size_t n = 0; n < len; n++) {
            enum rr_http_status st = parse_n(heads[i], n, false);
            if (st != RR_HTTP_INCOMPLETE) {
                fail_msg("head %zu parses COMPLETE whole but its %zu-byte prefix gives %d", i, n,
                         (int)st);
            }
        }
    }
}

/* ---- TOO_LARGE -------------------------------------------------------------------------- */

static void test_too_large_without_end(void **state)
{
    (void)state;
    static const char start[] = "GET / HTTP/1.1\r\nX-Pad: ";
    char *buf = repeat('a', RR_MAX_HANDSHAKE_SIZE + 100);
    memcpy(buf, start, strlen(start));

    /* One byte short of the limit the head may still end: wait. */
    assert_int_equal(parse_n(buf, RR_MAX_HANDSHAKE_SIZE - 1, false), RR_HTTP_INCOMPLETE);
    /* At the limit without an end it can never fit. */
    assert_int_equal(parse_n(buf, RR_MAX_HANDSHAKE_SIZE, false), RR_HTTP_TOO_LARGE);
    assert_int_equal(parse_n(buf, RR_MAX_HANDSHAKE_SIZE + 100, false), RR_HTTP_TOO_LARGE);
    free(buf);
}

static void test_head_size_boundary(void **state)
{
    (void)state;
    static const char start[] = "GET / HTTP/1.1\r\nX-Pad: ";
    size_t total = RR_MAX_HANDSHAKE_SIZE + 1;
    char *buf = repeat('a', total + 16);
    memcpy(buf, start, strlen(start));

    /* A head of exactly RR_MAX_HANDSHAKE_SIZE bytes (blank line included) is accepted. */
    memcpy(buf + RR_MAX_HANDSHAKE_SIZE - 4, "\r\n\r\n", 4);
    assert_int_equal(parse_n(buf, RR_MAX_HANDSHAKE_SIZE, false), RR_HTTP_COMPLETE);
    assert_int_equal(g_msg.length, RR_MAX_HANDSHAKE_SIZE);
    assert_int_equal(strlen(rr_http_header(&g_msg, "X-Pad")),
                     RR_MAX_HANDSHAKE_SIZE - 4 - strlen(start));
    /* Bytes after it do not change that. */
    assert_int_equal(parse_n(buf, total + 16, false), RR_HTTP_COMPLETE);
    assert_int_equal(g_msg.length, RR_MAX_HANDSHAKE_SIZE);

    /* One byte more and it is too large. */
    buf[RR_MAX_HANDSHAKE_SIZE - 4] = 'a';
    memcpy(buf + RR_MAX_HANDSHAKE_SIZE - 3, "\r\n\r\n", 4);
    assert_int_equal(parse_n(buf, total, false), RR_HTTP_TOO_LARGE);
    free(buf);
}

static enum rr_http_status parse_with_headers(size_t count)
{
    size_t cap = 64 + count * 32;
    char *buf = malloc(cap);
    assert_non_null(buf);
    size_t n = (size_t)snprintf(buf, cap, "GET / HTTP/1.1\r\n");
    for (size_t i = 0; i < count; i++) {
        n += (size_t)snprintf(buf + n, cap - n, "X-H%zu: v%zu\r\n", i, i);
    }
    n += (size_t)snprintf(buf + n, cap - n, "\r\n");
    assert_true(n < cap);
    enum rr_http_status st = parse_n(buf, n, false);
    free(buf);
    return st;
}

static void test_header_count_boundary(void **state)
{
    (void)state;
    assert_int_equal(parse_with_headers(RR_HTTP_MAX_HEADERS), RR_HTTP_COMPLETE);
    assert_int_equal(g_msg.header_count, RR_HTTP_MAX_HEADERS);
    assert_int_equal(parse_with_headers(RR_HTTP_MAX_HEADERS + 1), RR_HTTP_TOO_LARGE);
    assert_int_equal(parse_with_headers(RR_HTTP_MAX_HEADERS + 20), RR_HTTP_TOO_LARGE);
}

/* ---- MALFORMED -------------------------------------------------------------------------- */

static void test_bare_lf_malformed(void **state)
{
    (void)state;
    assert_int_equal(parse_s("GET / HTTP/1.1\nHost: h\r\n\r\n", false), RR_HTTP_MALFORMED);
    assert_int_equal(parse_s("GET / HTTP/1.1\r\nHost: h\n\r\n\r\n", false), RR_HTTP_MALFORMED);
    assert_int_equal(parse_s("GET / HTTP/1.1\r\nHost: a\nb\r\n\r\n", false), RR_HTTP_MALFORMED);
    assert_int_equal(parse_s("HTTP/1.1 101 OK\nUpgrade: x\r\n\r\n", true), RR_HTTP_MALFORMED);
}

static void test_bare_line_ends_refused_without_waiting(void **state)
{
    (void)state;
    /* A head that uses LF-only (or CR-only) line ends never contains CRLF CRLF, so it can
     * never become valid: waiting for more bytes only turns a clear refusal into a handshake
     * timeout (a netcat or hand-written client typically sends exactly this). */
    assert_int_equal(parse_s("GET / HTTP/1.1\nHost: h\n\n", false), RR_HTTP_MALFORMED);
    assert_int_equal(parse_s("HTTP/1.1 101 Switching Protocols\nUpgrade: x\n\n", true),
                     RR_HTTP_MALFORMED);
    assert_int_equal(parse_s("GET / HTTP/1.1\rHost: h\r\r", false), RR_HTTP_MALFORMED);
}

static void test_bare_cr_malformed(void **state)
{
    (void)state;
    assert_int_equal(parse_s("GET / HTTP/1.1\rX\r\nHost: h\r\n\r\n", false), RR_HTTP_MALFORMED);
    assert_int_equal(parse_request_with("X-A: a\rb"), RR_HTTP_MALFORMED);
    assert_int_equal(parse_request_with("X-A: a\r"), RR_HTTP_MALFORMED);
    assert_int_equal(parse_s("HTTP/1.1 101 Switching\rProtocols\r\n\r\n", true), RR_HTTP_MALFORMED);
}

static void test_obs_fold_malformed(void **state)
{
    (void)state;
    assert_int_equal(parse_s("GET / HTTP/1.1\r\nX-A: a\r\n b\r\n\r\n", false), RR_HTTP_MALFORMED);
    assert_int_equal(parse_s("GET / HTTP/1.1\r\nX-A: a\r\n\tb\r\n\r\n", false), RR_HTTP_MALFORMED);
    /* A folded line right after the start line, not continuing any header. */
    assert_int_equal(parse_s("GET / HTTP/1.1\r\n X-A: a\r\n\r\n", false), RR_HTTP_MALFORMED);
}

static void test_header_name_malformed(void **state)
{
    (void)state;
    assert_int_equal(parse_request_with("Bad Name: x"), RR_HTTP_MALFORMED);
    assert_int_equal(parse_request_with("Name : x"), RR_HTTP_MALFORMED);
    assert_int_equal(parse_request_with("X(y): x"), RR_HTTP_MALFORMED);
    assert_int_equal(parse_request_with("X\"y: x"), RR_HTTP_MALFORMED);
    assert_int_equal(parse_request_with("X/y: x"), RR_HTTP_MALFORMED);
    assert_int_equal(parse_request_with("X@y: x"), RR_HTTP_MALFORMED);
    assert_int_equal(parse_request_with("X\x7fy: x"), RR_HTTP_MALFORMED);
    assert_int_equal(parse_request_with(": no name"), RR_HTTP_MALFORMED);
    /* Every token character is allowed (RFC 9110 §5.6.2). */
    assert_int_equal(parse_request_with("!#$%&'*+-.^_`|~09azAZ: x"), RR_HTTP_COMPLETE);
}

static void test_missing_colon_malformed(void **state)
{
    (void)state;
    assert_int_equal(parse_request_with("NoColonHere"), RR_HTTP_MALFORMED);
    assert_int_equal(parse_request_with("No colon here"), RR_HTTP_MALFORMED);
}

static void test_control_char_in_value_malformed(void **state)
{
    (void)state;
    assert_int_equal(parse_request_with("X-A: a\x01z"), RR_HTTP_MALFORMED);
    assert_int_equal(parse_request_with("X-A: a\x1bz"), RR_HTTP_MALFORMED);
    assert_int_equal(parse_request_with("X-A: a\x7fz"), RR_HTTP_MALFORMED);
    assert_int_equal(parse_request_with("X-A: \x0b"), RR_HTTP_MALFORMED);
}

static void test_control_char_in_start_line_malformed(void **state)
{
    (void)state;
    /* A control character cannot be part of a request target or reason phrase (RFC 9112
     * §3.2, §4), and a shorter read of the same bytes is already refused as garbage. */
    assert_int_equal(parse_s("GET /a\x01z HTTP/1.1\r\n\r\n", false), RR_HTTP_MALFORMED);
    assert_int_equal(parse_s("GET /a\x7fz HTTP/1.1\r\n\r\n", false), RR_HTTP_MALFORMED);
    assert_int_equal(parse_s("HTTP/1.1 401 Un\001authorized\r\n\r\n", true), RR_HTTP_MALFORMED);
}

static void test_nul_in_head_malformed(void **state)
{
    (void)state;
    static const char with_nul[] = "GET / HTTP/1.1\r\nX-A: a\0b\r\n\r\n";
    /* sizeof - 1: the literal's own terminator is not part of the head. */
    assert_int_equal(parse_n(with_nul, sizeof(with_nul) - 1, false), RR_HTTP_MALFORMED);
    static const char nul_name[] = "GET / HTTP/1.1\r\nX\0A: a\r\n\r\n";
    assert_int_equal(parse_n(nul_name, sizeof(nul_name) - 1, false), RR_HTTP_MALFORMED);
    static const char nul_line[] = "GET /\0 HTTP/1.1\r\n\r\n";
    assert_int_equal(parse_n(nul_line, sizeof(nul_line) - 1, false), RR_HTTP_MALFORMED);
    /* Refused before the head ends too: no valid head contains a NUL. */
    assert_int_equal(parse_n(with_nul, 25, false), RR_HTTP_MALFORMED);
}

static void test_wrong_version_malformed(void **state)
{
    (void)state;
    assert_int_equal(parse_s("GET / HTTP/1.0\r\nHost: h\r\n\r\n", false), RR_HTTP_MALFORMED);
    assert_int_equal(parse_s("GET / HTTP/2\r\n\r\n", false), RR_HTTP_MALFORMED);
    assert_int_equal(parse_s("GET / http/1.1\r\n\r\n", false), RR_HTTP_MALFORMED);
    assert_int_equal(parse_s("GET /\r\n\r\n", false), RR_HTTP_MALFORMED);
    assert_int_equal(parse_s("GET / HTTP/1.1 \r\n\r\n", false), RR_HTTP_MALFORMED);
    assert_int_equal(parse_s("HTTP/1.0 101 Switching Protocols\r\n\r\n", true), RR_HTTP_MALFORMED);
}

static void test_bad_request_line_malformed(void **state)
{
    (void)state;
    assert_int_equal(parse_s("GET  / HTTP/1.1\r\n\r\n", false), RR_HTTP_MALFORMED);
    assert_int_equal(parse_s(" / HTTP/1.1\r\n\r\n", false), RR_HTTP_MALFORMED);
    assert_int_equal(parse_s("G(T / HTTP/1.1\r\n\r\n", false), RR_HTTP_MALFORMED);
    assert_int_equal(parse_s("GET /a b HTTP/1.1\r\n\r\n", false), RR_HTTP_MALFORMED);
    assert_int_equal(parse_s("\r\n\r\n", false), RR_HTTP_MALFORMED);
    assert_int_equal(parse_s("\r\nGET / HTTP/1.1\r\n\r\n", false), RR_HTTP_MALFORMED);
    /* A response where a request is expected, and the reverse. */
    assert_int_equal(parse_s(k_response_101, false), RR_HTTP_MALFORMED);
    assert_int_equal(parse_s(k_request, true), RR_HTTP_MALFORMED);
}

static void test_bad_status_line_malformed(void **state)
{
    (void)state;
    assert_int_equal(parse_s("HTTP/1.1 2x0 OK\r\n\r\n", true), RR_HTTP_MALFORMED);
    assert_int_equal(parse_s("HTTP/1.1 20 OK\r\n\r\n", true), RR_HTTP_MALFORMED);
    assert_int_equal(parse_s("HTTP/1.1 2000 OK\r\n\r\n", true), RR_HTTP_MALFORMED);
    assert_int_equal(parse_s("HTTP/1.1 099 Low\r\n\r\n", true), RR_HTTP_MALFORMED);
    assert_int_equal(parse_s("HTTP/1.1  200 OK\r\n\r\n", true), RR_HTTP_MALFORMED);
    assert_int_equal(parse_s("HTTP/1.1 -01 OK\r\n\r\n", true), RR_HTTP_MALFORMED);
    assert_int_equal(parse_s("HTTP/1.1\r\n\r\n", true), RR_HTTP_MALFORMED);
    assert_int_equal(parse_s("HTTP/1.1 101 OK\r\nBad Header: x\r\n\r\n", true), RR_HTTP_MALFORMED);
}

static void test_binary_garbage_malformed_at_once(void **state)
{
    (void)state;
    /* The start of a TLS ClientHello / ServerHello: a plain endpoint meeting TLS must fail at
     * once (HandshakeConnectionFailed), not wait for a head that will never come. */
    static const uint8_t client_hello[] = {0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01,
                                           0xfc, 0x03, 0x03, 0x5a, 0x1b, 0xc7, 0x00, 0x20};
    static const uint8_t server_hello[] = {0x16, 0x03, 0x03, 0x00, 0x7a, 0x02, 0x00, 0x00};
    for (size_t n = 1; n <= sizeof(client_hello); n++) {
        assert_int_equal(parse_n(client_hello, n, false), RR_HTTP_MALFORMED);
    }
    for (size_t n = 1; n <= sizeof(server_hello); n++) {
        assert_int_equal(parse_n(server_hello, n, true), RR_HTTP_MALFORMED);
    }
    /* Control bytes after a plausible start, still before any head end. (Bytes of 0x80 and
     * above are not enough on their own: a header value may hold them.) */
    static const uint8_t late[] = {'G', 'E', 'T', ' ', '/', 0x03, 0x01};
    assert_int_equal(parse_n(late, sizeof(late), false), RR_HTTP_MALFORMED);
}

/* ---- header lookup ---------------------------------------------------------------------- */

static void test_header_lookup_case_insensitive_first(void **state)
{
    (void)state;
    assert_int_equal(
        parse_s("GET / HTTP/1.1\r\nX-Dup: one\r\nx-dup: two\r\nX-DUP: three\r\n\r\n", false),
        RR_HTTP_COMPLETE);
    assert_string_equal(rr_http_header(&g_msg, "X-Dup"), "one");
    assert_string_equal(rr_http_header(&g_msg, "x-dup"), "one");
    assert_string_equal(rr_http_header(&g_msg, "X-DUP"), "one");
    assert_null(rr_http_header(&g_msg, "X-Du"));
    assert_null(rr_http_header(&g_msg, "X-Dupe"));
    assert_null(rr_http_header(&g_msg, "Host"));
}

static void test_has_token(void **state)
{
    (void)state;
    assert_int_equal(parse_request_with("Connection: Upgrade, keep-alive"), RR_HTTP_COMPLETE);
    assert_true(rr_http_header_has_token(&g_msg, "Connection", "Upgrade"));
    assert_true(rr_http_header_has_token(&g_msg, "connection", "upgrade"));
    assert_true(rr_http_header_has_token(&g_msg, "Connection", "keep-alive"));
    assert_true(rr_http_header_has_token(&g_msg, "Connection", "Keep-Alive"));
    assert_false(rr_http_header_has_token(&g_msg, "Connection", "close"));
    assert_false(rr_http_header_has_token(&g_msg, "Connection", "keep"));
    assert_false(rr_http_header_has_token(&g_msg, "Connection", "Upgrade, keep-alive"));
    assert_false(rr_http_header_has_token(&g_msg, "Upgrade", "Upgrade"));

    set_header("Upgrade", "  openrr-remoting/1 ,x");
    assert_true(rr_http_header_has_token(&g_msg, "Upgrade", "openrr-remoting/1"));
    assert_true(rr_http_header_has_token(&g_msg, "Upgrade", "x"));
    assert_false(rr_http_header_has_token(&g_msg, "Upgrade", "openrr-remoting/"));

    set_header("Upgrade", "x,\topenrr-remoting/1\t ,, y ");
    assert_true(rr_http_header_has_token(&g_msg, "Upgrade", "openrr-remoting/1"));
    assert_true(rr_http_header_has_token(&g_msg, "Upgrade", "y"));

    /* A longer version is another token, not a match of its prefix. */
    set_header("Upgrade", "openrr-remoting/10");
    assert_false(rr_http_header_has_token(&g_msg, "Upgrade", "openrr-remoting/1"));
    set_header("Upgrade", "openrr-remoting/10, openrr-remoting/2");
    assert_false(rr_http_header_has_token(&g_msg, "Upgrade", "openrr-remoting/1"));
    set_header("Upgrade", "xopenrr-remoting/1");
    assert_false(rr_http_header_has_token(&g_msg, "Upgrade", "openrr-remoting/1"));
    set_header("Upgrade", "openrr-remoting/1x");
    assert_false(rr_http_header_has_token(&g_msg, "Upgrade", "openrr-remoting/1"));

    /* Only the first header of that name counts, as rr_http_header() finds it. */
    static const char *const names[] = {"Upgrade", "Upgrade"};
    static const char *const values[] = {"a", "openrr-remoting/1"};
    set_headers(2, names, values);
    assert_true(rr_http_header_has_token(&g_msg, "Upgrade", "a"));

    set_header("Other", "openrr-remoting/1");
    assert_false(rr_http_header_has_token(&g_msg, "Upgrade", "openrr-remoting/1"));
    set_header("Upgrade", "");
    assert_false(rr_http_header_has_token(&g_msg, "Upgrade", "openrr-remoting/1"));
}

/* ---- bearer token ----------------------------------------------------------------------- */

static void test_bearer_token(void **state)
{
    (void)state;
    assert_int_equal(parse_s(k_request, false), RR_HTTP_COMPLETE);
    assert_string_equal(rr_http_bearer_token(&g_msg), "s3cr3t-T0ken");

    assert_int_equal(parse_request_with("Authorization: Bearer abc"), RR_HTTP_COMPLETE);
    assert_string_equal(rr_http_bearer_token(&g_msg), "abc");
    assert_int_equal(parse_request_with("authorization: bEARER abc"), RR_HTTP_COMPLETE);
    assert_string_equal(rr_http_bearer_token(&g_msg), "abc");
    assert_int_equal(parse_request_with("Authorization: Bearer    abc  "), RR_HTTP_COMPLETE);
    assert_string_equal(rr_http_bearer_token(&g_msg), "abc");

    assert_int_equal(parse_request_with("Authorization: Basic dXNlcjpwYXNz"), RR_HTTP_COMPLETE);
    assert_null(rr_http_bearer_token(&g_msg));
    assert_int_equal(parse_request_with("Authorization: Bearer "), RR_HTTP_COMPLETE);
    assert_null(rr_http_bearer_token(&g_msg));
    assert_int_equal(parse_request_with("Authorization: Bearer"), RR_HTTP_COMPLETE);
    assert_null(rr_http_bearer_token(&g_msg));
    assert_int_equal(parse_request_with("Authorization: Bearerabc"), RR_HTTP_COMPLETE);
    assert_null(rr_http_bearer_token(&g_msg));
    assert_int_equal(parse_request_with("X-Authorization: Bearer abc"), RR_HTTP_COMPLETE);
    assert_null(rr_http_bearer_token(&g_msg));

    /* Untrimmed values (not from the parser) behave the same. */
    set_header("Authorization", "Bearer    ");
    assert_null(rr_http_bearer_token(&g_msg));
    set_header("Authorization", "Bearer  tok");
    assert_string_equal(rr_http_bearer_token(&g_msg), "tok");
}

/* ---- bearer realm ----------------------------------------------------------------------- */

static bool realm_of(const char *challenge, char *out, size_t out_size, bool *invalid)
{
    set_header("WWW-Authenticate", challenge);
    return rr_http_bearer_realm(&g_msg, out, out_size, invalid);
}

static void test_bearer_realm_quoted(void **state)
{
    (void)state;
    char out[257];
    bool invalid = true;
    assert_int_equal(parse_s(k_response_401, true), RR_HTTP_COMPLETE);
    assert_true(rr_http_bearer_realm(&g_msg, out, sizeof(out), &invalid));
    assert_string_equal(out, "OpenRR Remoting");
    assert_false(invalid);

    invalid = true;
    assert_true(realm_of("Bearer realm=\"a \\\"q\\\" b\\\\c\"", out, sizeof(out), &invalid));
    assert_string_equal(out, "a \"q\" b\\c");
    assert_false(invalid);

    /* A backslash escapes any character, not only quote and backslash. */
    assert_true(realm_of("Bearer realm=\"\\a\\,b\"", out, sizeof(out), NULL));
    assert_string_equal(out, "a,b");

    assert_true(realm_of("Bearer realm=\"\"", out, sizeof(out), NULL));
    assert_string_equal(out, "");

    /* The scheme is case-insensitive (RFC 9110 §11.1), and so is the parameter name. */
    assert_true(realm_of("bearer REALM=\"r\"", out, sizeof(out), NULL));
    assert_string_equal(out, "r");
}

static void test_bearer_realm_unquoted(void **state)
{
    (void)state;
    char out[64];
    assert_true(realm_of("Bearer realm=example", out, sizeof(out), NULL));
    assert_string_equal(out, "example");
    assert_true(realm_of("Bearer scope=x, realm=example, foo=bar", out, sizeof(out), NULL));
    assert_string_equal(out, "example");
}

static void test_bearer_realm_invalid_token_flag(void **state)
{
    (void)state;
    char out[64];
    bool invalid = false;
    assert_true(
        realm_of("Bearer realm=\"r\", error=\"invalid_token\"", out, sizeof(out), &invalid));
    assert_string_equal(out, "r");
    assert_true(invalid);

    invalid = false;
    assert_true(
        realm_of("Bearer error=\"invalid_token\", realm=\"r2\"", out, sizeof(out), &invalid));
    assert_string_equal(out, "r2");
    assert_true(invalid);

    invalid = false;
    assert_true(realm_of("Bearer realm=r,error=invalid_token", out, sizeof(out), &invalid));
    assert_true(invalid);

    invalid = true;
    assert_true(
        realm_of("Bearer realm=\"r\", error=\"insufficient_scope\"", out, sizeof(out), &invalid));
    assert_false(invalid);

    invalid = true;
    assert_true(realm_of("Bearer realm=\"r\", error_description=\"invalid_token\"", out,
                         sizeof(out), &invalid));
    assert_false(invalid);

    /* The flag is optional. */
    assert_true(realm_of("Bearer realm=\"r\", error=\"invalid_token\"", out, sizeof(out), NULL));
}

static void test_bearer_realm_refused(void **state)
{
    (void)state;
    char out[64];
    bool invalid = true;

    /* No header at all: false, and the flag is cleared. */
    set_header("Other", "Bearer realm=\"r\"");
    assert_false(rr_http_bearer_realm(&g_msg, out, sizeof(out), &invalid));
    assert_false(invalid);

    assert_false(realm_of("Bearer", out, sizeof(out), NULL));
    assert_false(realm_of("Bearer ", out, sizeof(out), NULL));
    assert_false(realm_of("Bearer error=\"invalid_token\"", out, sizeof(out), NULL));
    assert_false(realm_of("Bearer scope=\"a b\"", out, sizeof(out), NULL));
    assert_false(realm_of("Bearer realmx=\"r\"", out, sizeof(out), NULL));
    assert_false(realm_of("Basic realm=\"r\"", out, sizeof(out), NULL));
    assert_false(realm_of("Digest realm=\"r\"", out, sizeof(out), NULL));
    assert_false(realm_of("Bearerx realm=\"r\"", out, sizeof(out), NULL));
    assert_false(realm_of("Bearer realm=\"abc", out, sizeof(out), NULL));
    assert_false(realm_of("Bearer realm=\"abc\\\"", out, sizeof(out), NULL));
    assert_false(realm_of("Bearer realm=\"abc\\", out, sizeof(out), NULL));
    assert_false(realm_of("Bearer realm=\"r\"", out, 0, NULL));
}

static void test_bearer_realm_output_size(void **state)
{
    (void)state;
    char out[8];
    /* Three characters and the NUL fit in four bytes; four characters do not. */
    assert_true(realm_of("Bearer realm=\"abc\"", out, 4, NULL));
    assert_string_equal(out, "abc");
    assert_false(realm_of("Bearer realm=\"abcd\"", out, 4, NULL));
    assert_false(realm_of("Bearer realm=abcd", out, 4, NULL));
    /* Escapes count once, as the unescaped character. */
    assert_true(realm_of("Bearer realm=\"a\\\"c\"", out, 4, NULL));
    assert_string_equal(out, "a\"c");
}

static void test_bearer_realm_longest_valid(void **state)
{
    (void)state;
    /* The handshake reads the realm into 257 bytes: the longest valid realm (256) must come
     * through whole, and a longer one must be refused, never cut. */
    char *realm = repeat('r', 256);
    char challenge[400];
    char out[257];
    snprintf(challenge, sizeof(challenge), "Bearer realm=\"%s\"", realm);
    assert_true(realm_of(challenge, out, sizeof(out), NULL));
    assert_string_equal(out, realm);
    free(realm);

    realm = repeat('r', 257);
    snprintf(challenge, sizeof(challenge), "Bearer realm=\"%s\"", realm);
    assert_false(realm_of(challenge, out, sizeof(out), NULL));
    free(realm);
}

static void test_bearer_realm_never_truncated(void **state)
{
    (void)state;
    /* Whatever the buffer, a realm is either returned whole or refused: a silently shortened
     * realm would be shown to the user and used as the token cache key. Static buffers: a
     * failure jumps out of the test, and nothing must leak then. */
    static const size_t lengths[] = {298, 299, 300, 400, 1000};
    static char realm[1001];
    static char challenge[1100];
    static char out[4096];
    for (size_t i = 0; i < sizeof(lengths) / sizeof(lengths[0]); i++) {
        memset(realm, 'r', lengths[i]);
        realm[lengths[i]] = '\0';
        snprintf(challenge, sizeof(challenge), "Bearer realm=\"%s\"", realm);
        if (realm_of(challenge, out, sizeof(out), NULL) && strcmp(out, realm) != 0) {
            fail_msg("a %zu-byte realm came back as %zu bytes", lengths[i], strlen(out));
        }
        snprintf(challenge, sizeof(challenge), "Bearer realm=%s", realm);
        if (realm_of(challenge, out, sizeof(out), NULL) && strcmp(out, realm) != 0) {
            fail_msg("a %zu-byte unquoted realm came back as %zu bytes", lengths[i], strlen(out));
        }
    }
}

/* ---- token and realm validity ----------------------------------------------------------- */

static void test_token_is_valid(void **state)
{
    (void)state;
    assert_false(rr_http_token_is_valid(NULL));
    assert_false(rr_http_token_is_valid(""));
    assert_true(rr_http_token_is_valid("a"));
    assert_true(rr_http_token_is_valid("!~azAZ09-._~+/=\"\\"));
    assert_false(rr_http_token_is_valid("a b"));
    assert_false(rr_http_token_is_valid("ab\r"));
    assert_false(rr_http_token_is_valid("ab\n"));
    assert_false(rr_http_token_is_valid("a\tb"));
    assert_false(rr_http_token_is_valid("a\x7f"));
    assert_false(rr_http_token_is_valid("a\x80"));
    assert_false(rr_http_token_is_valid("\xff"));
    assert_false(rr_http_token_is_valid("\x01"));
    assert_false(rr_http_token_is_valid(" "));
}

static void test_token_size_boundary(void **state)
{
    (void)state;
    /* The check runs at character index n < RR_MAX_TOKEN_SIZE, so exactly RR_MAX_TOKEN_SIZE
     * characters is the longest accepted token, as the public header promises. */
    char *t = repeat('t', RR_MAX_TOKEN_SIZE + 1);
    assert_false(rr_http_token_is_valid(t));
    t[RR_MAX_TOKEN_SIZE] = '\0';
    assert_true(rr_http_token_is_valid(t));
    t[RR_MAX_TOKEN_SIZE - 1] = ' ';
    assert_false(rr_http_token_is_valid(t));
    free(t);
}

static void test_realm_is_valid(void **state)
{
    (void)state;
    assert_false(rr_http_realm_is_valid(NULL));
    assert_true(rr_http_realm_is_valid(""));
    assert_true(rr_http_realm_is_valid("OpenRR Remoting"));
    assert_true(rr_http_realm_is_valid(" \"quoted\" \\ ~"));
    assert_false(rr_http_realm_is_valid("a\tb"));
    assert_false(rr_http_realm_is_valid("a\r\nX-Injected: 1"));
    assert_false(rr_http_realm_is_valid("a\n"));
    assert_false(rr_http_realm_is_valid("\x7f"));
    assert_false(rr_http_realm_is_valid("caf\xc3\xa9"));

    char *r = repeat('r', 257);
    assert_false(rr_http_realm_is_valid(r));
    r[256] = '\0';
    assert_true(rr_http_realm_is_valid(r));
    r[255] = '\x1f';
    assert_false(rr_http_realm_is_valid(r));
    free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_request_parses),
        cmocka_unit_test(test_request_without_headers_parses),
        cmocka_unit_test(test_trailing_bytes_not_consumed),
        cmocka_unit_test(test_response_101_parses),
        cmocka_unit_test(test_response_401_parses),
        cmocka_unit_test(test_response_empty_reason_parses),
        cmocka_unit_test(test_header_value_whitespace_trimmed),
        cmocka_unit_test(test_every_prefix_incomplete),
        cmocka_unit_test(test_prefix_status_agrees_with_whole_head),
        cmocka_unit_test(test_too_large_without_end),
        cmocka_unit_test(test_head_size_boundary),
        cmocka_unit_test(test_header_count_boundary),
        cmocka_unit_test(test_bare_lf_malformed),
        cmocka_unit_test(test_bare_line_ends_refused_without_waiting),
        cmocka_unit_test(test_bare_cr_malformed),
        cmocka_unit_test(test_obs_fold_malformed),
        cmocka_unit_test(test_header_name_malformed),
        cmocka_unit_test(test_missing_colon_malformed),
        cmocka_unit_test(test_control_char_in_value_malformed),
        cmocka_unit_test(test_control_char_in_start_line_malformed),
        cmocka_unit_test(test_nul_in_head_malformed),
        cmocka_unit_test(test_wrong_version_malformed),
        cmocka_unit_test(test_bad_request_line_malformed),
        cmocka_unit_test(test_bad_status_line_malformed),
        cmocka_unit_test(test_binary_garbage_malformed_at_once),
        cmocka_unit_test(test_header_lookup_case_insensitive_first),
        cmocka_unit_test(test_has_token),
        cmocka_unit_test(test_bearer_token),
        cmocka_unit_test(test_bearer_realm_quoted),
        cmocka_unit_test(test_bearer_realm_unquoted),
        cmocka_unit_test(test_bearer_realm_invalid_token_flag),
        cmocka_unit_test(test_bearer_realm_refused),
        cmocka_unit_test(test_bearer_realm_output_size),
        cmocka_unit_test(test_bearer_realm_longest_valid),
        cmocka_unit_test(test_bearer_realm_never_truncated),
        cmocka_unit_test(test_token_is_valid),
        cmocka_unit_test(test_token_size_boundary),
        cmocka_unit_test(test_realm_is_valid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
