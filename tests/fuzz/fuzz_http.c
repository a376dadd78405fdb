/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_http — libFuzzer target for the handshake HTTP/1.1 parser (src/remoting/http.c).
 * Every input is parsed both as a request and as a response, because the handshake reads
 * both from the network; a complete message then goes through every accessor, and each
 * documented property is checked with abort() so the fuzzer reports it as a crash.
 * Single-threaded: libFuzzer calls LLVMFuzzerTestOneInput from one thread.
 */
#include "http.h"

#include "fuzz_check.h"

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The small buffer is smaller than most realms so the "does not fit" path runs; the large one
 * holds any realm the parser can produce (it is bounded by the head size). */
#define SMALL_REALM 8
#define LARGE_REALM (RR_MAX_HANDSHAKE_SIZE + 1)

/* Names the handshake looks up, plus ones that never occur, in their reference spelling. */
static const char *const g_names[] = {
    "Host",
    "Connection",
    "Upgrade",
    "Authorization",
    "WWW-Authenticate",
    "OpenRR-Role",
    "OpenRR-Transport",
    "OpenRR-Transports",
    "OpenRR-Codec",
    "OpenRR-Codecs",
    "OpenRR-Transport-Port",
    "OpenRR-Connection-Id",
    "OpenRR-Error",
    "Content-Length",
    "X-Not-Sent",
    "",
};

/* True when @p p points into the parsed head and its string ends before raw's last byte, i.e.
 * it can only have been carved out of the copied input. */
static bool in_raw(const struct rr_http_msg *m, const char *p)
{
    uintptr_t lo = (uintptr_t)m->raw;
    uintptr_t hi = lo + m->length; /* raw[length] is the terminating NUL */
    uintptr_t q = (uintptr_t)p;
    if (p == NULL || q < lo || q > hi) {
        return false;
    }
    return memchr(p, '\0', (size_t)(hi - q) + 1) != NULL;
}

static bool is_tchar(unsigned char c)
{
    return isalnum(c) || (c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* RFC 9112 request-target: visible ASCII only (the parser promises no control characters). */
static bool is_visible(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
        if (*p < 0x21 || *p > 0x7e) {
            return false;
        }
    }
    return true;
}

/* RFC 9112 reason-phrase: HTAB, SP, VCHAR, obs-text; no other control character. The client
 * copies it into the failure detail the application logs and shows. */
static bool no_ctl(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
        if ((*p < 0x20 && *p != '\t') || *p == 0x7f) {
            return false;
        }
    }
    return true;
}

static void case_variant(const char *in, char *out, size_t size, int mode)
{
    size_t i = 0;
    for (; in[i] != '\0' && i + 1 < size; i++) {
        unsigned char c = (unsigned char)in[i];
        out[i] = (char)(mode == 0   ? tolower(c)
                        : mode == 1 ? toupper(c)
                                    : (i % 2 ? tolower(c) : toupper(c)));
    }
    out[i] = '\0';
}

/* Reference for rr_http_header: the first header whose name matches, case-insensitively. */
static const char *first_header(const struct rr_http_msg *m, const char *name)
{
    for (size_t i = 0; i < m->header_count; i++) {
        if (strcasecmp(m->headers[i].name, name) == 0) {
            return m->headers[i].value;
        }
    }
    return NULL;
}

static void check_lookup(const struct rr_http_msg *m, const char *name)
{
    const char *v = rr_http_header(m, name);
    CHECK(v == first_header(m, name));
    CHECK(v == NULL || in_raw(m, v));
    char var[128];
    for (int mode = 0; mode < 3; mode++) {
        case_variant(name, var, sizeof(var), mode);
        if (strlen(var) == strlen(name)) {
            CHECK(rr_http_header(m, var) == v); /* names are case-insensitive */
        }
    }
}

/* Every comma-separated element of the first @p name header must be found by has_token, in
 * any letter case: this is how Upgrade and Connection are matched during the handshake. */
static void check_tokens_of(const struct rr_http_msg *m, const char *name)
{
    const char *v = rr_http_header(m, name);
    if (v == NULL) {
        CHECK(!rr_http_header_has_token(m, name, "upgrade"));
        return;
    }
    int checked = 0;
    const char *p = v;
    while (*p != '\0' && checked < 8) {
        while (*p == ' ' || *p == '\t' || *p == ',') {
            p++;
        }
        const char *end = p;
        while (*end != '\0' && *end != ',') {
            end++;
        }
        const char *e = end;
        while (e > p && (e[-1] == ' ' || e[-1] == '\t')) {
            e--;
        }
        size_t n = (size_t)(e - p);
        if (n > 0 && n < 64) {
            char tok[64], var[64];
            memcpy(tok, p, n);
            tok[n] = '\0';
            CHECK(rr_http_header_has_token(m, name, tok));
            case_variant(tok, var, sizeof(var), 1);
            CHECK(rr_http_header_has_token(m, name, var));
            checked++;
        }
        p = end;
    }
    /* A token that is not a substring of the value cannot be in its list. */
    const char *absent = "\x01not-a-token";
    CHECK(!rr_http_header_has_token(m, name, absent));
}

/* token_is_valid must match its documented rule exactly: 1..RR_MAX_TOKEN_SIZE bytes, each in
 * 0x21..0x7e. The handshake relies on it to refuse tokens it would otherwise send or log. */
static void check_token_rule(const char *s)
{
    bool valid = rr_http_token_is_valid(s);
    size_t n = strlen(s);
    bool visible = true;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x21 || c > 0x7e) {
            visible = false;
            break;
        }
    }
    CHECK(valid == (n >= 1 && n <= RR_MAX_TOKEN_SIZE && visible));
}

/* realm_is_valid: printable ASCII (0x20..0x7e), at most 256 bytes. */
static void check_realm_rule(const char *s)
{
    bool valid = rr_http_realm_is_valid(s);
    size_t n = strlen(s);
    bool printable = true;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c > 0x7e) {
            printable = false;
            break;
        }
    }
    CHECK(valid == (n <= 256 && printable));
}

/* Count "realm=" anywhere in the value (an over-count is fine): with more than one realm
 * parameter RFC 7235 leaves the result undefined, so the size checks below skip that case. */
static int realm_params(const char *v)
{
    int n = 0;
    for (const char *p = v; *p != '\0'; p++) {
        if (strncasecmp(p, "realm", 5) == 0) {
            n++;
        }
    }
    return n;
}

/* Reference for the realm when "realm" occurs once in the header: that occurrence must then be
 * the parameter's name, so its value is found and unescaped here, without a length cap. */
static char *expected_realm(const char *hdr)
{
    const char *p = strcasestr(hdr, "realm");
    CHECK(p != NULL && p[5] == '=');
    p += 6;
    char *out = malloc(strlen(p) + 1);
    CHECK(out != NULL);
    size_t n = 0;
    if (*p == '"') {
        for (p++; *p != '\0' && *p != '"'; p++) {
            if (*p == '\\' && p[1] != '\0') {
                p++;
            }
            out[n++] = *p;
        }
    } else {
        for (; *p != '\0' && *p != ',' && *p != ' '; p++) {
            out[n++] = *p;
        }
    }
    out[n] = '\0';
    return out;
}

/* Runs rr_http_bearer_realm into a heap buffer of exactly @p size bytes, so that ASan sees
 * any write past it, and checks the output is NUL-terminated inside the buffer. */
static bool realm_into(const struct rr_http_msg *m, size_t size, char **out, bool *inv)
{
    char *buf = malloc(size ? size : 1);
    CHECK(buf != NULL);
    memset(buf, 0xA5, size ? size : 1);
    *inv = true; /* the call must clear it first, even when it fails */
    bool ok = rr_http_bearer_realm(m, buf, size, inv);
    if (ok) {
        CHECK(size > 0 && memchr(buf, '\0', size) != NULL);
    }
    *out = buf;
    return ok;
}

static void check_realm(const struct rr_http_msg *m)
{
    const char *hdr = rr_http_header(m, "WWW-Authenticate");
    char *small = NULL, *large = NULL;
    bool inv_small = false, inv_large = false;
    bool ok_small = realm_into(m, SMALL_REALM, &small, &inv_small);
    bool ok_large = realm_into(m, LARGE_REALM, &large, &inv_large);

    if (hdr == NULL) {
        CHECK(!ok_small && !ok_large);
    }
    /* The flag comes only from an auth-param named "error" (names are never escaped). */
    if (hdr == NULL || strcasestr(hdr, "error") == NULL) {
        CHECK(!inv_small && !inv_large);
    }
    if (ok_small) {
        /* What fits a small buffer fits a large one, and reads the same. */
        CHECK(ok_large && strcmp(small, large) == 0 && inv_small == inv_large);
    }
    if (ok_large) {
        CHECK(strncasecmp(hdr, "Bearer", 6) == 0);
        check_realm_rule(large);
        size_t n = strlen(large);
        if (realm_params(hdr) == 1) {
            /* The buffer contract: n + 1 bytes are enough, n bytes are not. */
            char *exact = NULL, *tight = NULL;
            bool inv_exact = false, inv_tight = false;
            CHECK(realm_into(m, n + 1, &exact, &inv_exact));
            CHECK(strcmp(exact, large) == 0 && inv_exact == inv_large);
            CHECK(!realm_into(m, n, &tight, &inv_tight));
            if (n < SMALL_REALM) {
                CHECK(ok_small);
            }
            /* Unescaped and whole: a realm is never cut short to fit an internal buffer. */
            char *want = expected_realm(hdr);
            CHECK(strcmp(large, want) == 0);
            free(want);
            free(exact);
            free(tight);
        }
    }
    /* A zero-sized buffer can never hold a realm; the flag output is optional. */
    bool inv_zero = true;
    char one = 'x';
    CHECK(!rr_http_bearer_realm(m, &one, 0, &inv_zero));
    CHECK(one == 'x');
    char *nf = malloc(LARGE_REALM);
    CHECK(nf != NULL);
    CHECK(rr_http_bearer_realm(m, nf, LARGE_REALM, NULL) == ok_large);
    if (ok_large) {
        CHECK(strcmp(nf, large) == 0);
    }
    free(nf);
    free(small);
    free(large);
}

static void check_bearer(const struct rr_http_msg *m)
{
    const char *tok = rr_http_bearer_token(m);
    if (tok == NULL) {
        return;
    }
    const char *auth = rr_http_header(m, "Authorization");
    CHECK(auth != NULL && strncasecmp(auth, "Bearer ", 7) == 0);
    CHECK(in_raw(m, tok) && tok > auth && tok[0] != '\0' && tok[0] != ' ');
    check_token_rule(tok);
}

static void check_complete(const uint8_t *data, size_t size, bool response,
                           const struct rr_http_msg *m)
{
    /* The head is the input up to and including its first blank line, copied and bounded. */
    CHECK(m->length >= 4 && m->length <= size && m->length <= RR_MAX_HANDSHAKE_SIZE);
    CHECK(memcmp(data + m->length - 4, "\r\n\r\n", 4) == 0);
    for (size_t i = 3; i + 1 < m->length; i++) {
        CHECK(memcmp(data + i - 3, "\r\n\r\n", 4) != 0); /* no earlier blank line */
    }
    CHECK(m->raw[m->length] == '\0');
    CHECK(m->header_count <= RR_HTTP_MAX_HEADERS);
    if (response) {
        CHECK(m->status >= 100 && m->status <= 999);
        CHECK(in_raw(m, m->reason_phrase));
        CHECK(no_ctl(m->reason_phrase));
    } else {
        CHECK(in_raw(m, m->method) && in_raw(m, m->target));
        CHECK(m->method[0] != '\0' && m->target[0] != '\0');
        for (const char *p = m->method; *p != '\0'; p++) {
            CHECK(is_tchar((unsigned char)*p));
        }
        CHECK(is_visible(m->target));
    }
    for (size_t i = 0; i < m->header_count; i++) {
        const char *name = m->headers[i].name;
        const char *value = m->headers[i].value;
        CHECK(in_raw(m, name) && in_raw(m, value));
        CHECK(name[0] != '\0');
        for (const char *p = name; *p != '\0'; p++) {
            CHECK(is_tchar((unsigned char)*p));
        }
        size_t vl = strlen(value);
        CHECK(vl == 0 || (value[0] != ' ' && value[0] != '\t' && value[vl - 1] != ' ' &&
                          value[vl - 1] != '\t'));
        for (const unsigned char *p = (const unsigned char *)value; *p != '\0'; p++) {
            CHECK(*p >= 0x20 || *p == '\t');
            CHECK(*p != 0x7f);
        }
        if (i < 8) {
            check_lookup(m, name); /* must find this header or an earlier namesake */
            check_token_rule(value);
            check_realm_rule(value);
        }
    }
    for (size_t i = 0; i < sizeof(g_names) / sizeof(g_names[0]); i++) {
        check_lookup(m, g_names[i]);
    }
    check_tokens_of(m, "Upgrade");
    check_tokens_of(m, "Connection");
    (void)rr_http_header_has_token(m, "Upgrade", "openrr-remoting/1");
    (void)rr_http_header_has_token(m, "OpenRR-Transports", "tcp");
    check_bearer(m);
    check_realm(m);
}

static void parse_one(const uint8_t *data, size_t size, bool response)
{
    /* Heap-allocated with its exact size so ASan catches writes past raw[]. */
    struct rr_http_msg *m = malloc(sizeof(*m));
    CHECK(m != NULL);
    enum rr_http_status st = rr_http_parse(data, size, response, m);
    bool has_end = false;
    size_t scan = size < RR_MAX_HANDSHAKE_SIZE ? size : RR_MAX_HANDSHAKE_SIZE;
    for (size_t i = 3; i < scan && !has_end; i++) {
        has_end = memcmp(data + i - 3, "\r\n\r\n", 4) == 0;
    }
    switch (st) {
    case RR_HTTP_COMPLETE: {
        check_complete(data, size, response, m);
        /* The handshake re-parses a growing buffer: the head alone must parse the same, and a
         * shorter prefix (a few cut points of it) must ask for more bytes. A prefix refused as
         * malformed would make the outcome depend on how TCP split the message. */
        size_t length = m->length, headers = m->header_count;
        struct rr_http_msg *again = malloc(sizeof(*again));
        CHECK(again != NULL);
        CHECK(rr_http_parse(data, length, response, again) == RR_HTTP_COMPLETE);
        CHECK(again->length == length && again->header_count == headers);
        const size_t cuts[] = {length - 1, length - 2, length / 2, 1};
        for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
            enum rr_http_status ps = rr_http_parse(data, cuts[i], response, again);
            CHECK(ps == RR_HTTP_INCOMPLETE);
        }
        free(again);
        break;
    }
    case RR_HTTP_INCOMPLETE:
        CHECK(!has_end && size < RR_MAX_HANDSHAKE_SIZE);
        break;
    case RR_HTTP_TOO_LARGE:
        CHECK(size >= RR_MAX_HANDSHAKE_SIZE || (has_end && m->header_count >= RR_HTTP_MAX_HEADERS));
        break;
    case RR_HTTP_MALFORMED:
        break;
    default:
        CHECK(!"unknown rr_http_status");
    }
    free(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    parse_one(data, size, false);
    parse_one(data, size, true);
    /* The validity rules take C strings; feed them the input up to its first NUL. */
    char *s = malloc(size + 1);
    CHECK(s != NULL);
    memcpy(s, data, size);
    s[size] = '\0';
    check_token_rule(s);
    check_realm_rule(s);
    free(s);
    CHECK(!rr_http_token_is_valid(NULL) && !rr_http_realm_is_valid(NULL));
    return 0;
}
