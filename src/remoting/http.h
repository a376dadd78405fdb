/* SPDX-License-Identifier: Apache-2.0 */
/*
 * http — parser for the HTTP/1.1 upgrade messages of the remoting handshake (DESIGN §4.1).
 * Bounded: a message larger than RR_MAX_HANDSHAKE_SIZE or with more than RR_HTTP_MAX_HEADERS
 * headers is refused. Pure functions on caller memory; any thread. Fuzzed (tests/fuzz).
 */
#ifndef RR_HTTP_H
#define RR_HTTP_H

#include "openrr/remoting.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RR_HTTP_MAX_HEADERS 32

enum rr_http_status {
    RR_HTTP_COMPLETE = 0,   /* a whole message was parsed */
    RR_HTTP_INCOMPLETE = 1, /* more bytes needed */
    RR_HTTP_TOO_LARGE = 2,  /* head exceeds RR_MAX_HANDSHAKE_SIZE or too many headers */
    RR_HTTP_MALFORMED = 3,  /* not a well-formed HTTP/1.1 message head */
};

struct rr_http_header {
    const char *name;  /* NUL-terminated, inside rr_http_msg.raw */
    const char *value; /* NUL-terminated, surrounding whitespace removed */
};

struct rr_http_msg {
    char raw[RR_MAX_HANDSHAKE_SIZE + 1];
    size_t length; /* bytes of input the head occupied (including the blank line) */
    /* request */
    const char *method;
    const char *target;
    /* response */
    int status;
    const char *reason_phrase;
    size_t header_count;
    struct rr_http_header headers[RR_HTTP_MAX_HEADERS];
};

/* Parse one message head (no body: handshake messages carry none) from @p data.
 * @p response selects "HTTP/1.1 NNN reason" instead of "METHOD target HTTP/1.1". */
enum rr_http_status rr_http_parse(const uint8_t *data, size_t len, bool response,
                                  struct rr_http_msg *out);

/* Value of the first header named @p name (case-insensitive), or NULL. */
const char *rr_http_header(const struct rr_http_msg *msg, const char *name);

/* True when header @p name holds @p token in its comma-separated list (case-insensitive). */
bool rr_http_header_has_token(const struct rr_http_msg *msg, const char *name, const char *token);

/* Extract the token from "Bearer <token>". Returns NULL when absent or not Bearer. */
const char *rr_http_bearer_token(const struct rr_http_msg *msg);

/* Extract realm from `WWW-Authenticate: Bearer realm="…"` into @p out (unescaped quoted
 * string). Also reports whether error="invalid_token" was present. Returns false when the
 * header is missing or not a Bearer challenge with a realm. */
bool rr_http_bearer_realm(const struct rr_http_msg *msg, char *out, size_t out_size,
                          bool *out_invalid_token);

/* True when @p s may be sent as a token: 1..RR_MAX_TOKEN_SIZE bytes of visible ASCII. */
bool rr_http_token_is_valid(const char *s);

/* True when @p s can be placed in a quoted-string (realm): printable ASCII, ≤ 256 bytes. */
bool rr_http_realm_is_valid(const char *s);

#endif
