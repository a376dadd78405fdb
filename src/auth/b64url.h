/* SPDX-License-Identifier: Apache-2.0 */
/*
 * b64url — base64url (RFC 4648 §5, no padding, as JWS requires): the one codec of the
 * project, used by the JWT code, openrrd's keys and paging tokens, and the SDK's reading of
 * a token's expiry. Implementation in b64url.c (libopenrr_auth).
 * Threads: no state. Errors: see each function.
 */
#ifndef OPENRR_AUTH_B64URL_H
#define OPENRR_AUTH_B64URL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Encoded length of @p n bytes, without a terminator. */
size_t rr_b64url_encoded_len(size_t n);
/* Encode @p n bytes into @p out (room for rr_b64url_encoded_len(n) + 1); NUL-terminates.
 * Returns the length written. */
size_t rr_b64url_encode(const uint8_t *in, size_t n, char *out);
/* Decode @p len characters (no padding, URL alphabet only, unused trailing bits zero) into a
 * malloc'ed buffer of *out_len bytes (plus a NUL so JSON text can be read in place). Returns
 * false on malformed input (*out NULL) or out of memory (*oom set when given). */
bool rr_b64url_decode(const char *in, size_t len, uint8_t **out, size_t *out_len, bool *oom);

#endif /* OPENRR_AUTH_B64URL_H */
