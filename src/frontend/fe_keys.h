/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fe_keys — account keys and ids: 256 random bits shown once as 43 base64url characters,
 * stored only as their SHA-256, compared in constant time; account ids as random GUIDs; the
 * "<accountId>:<accountKey>" credential of the token service.
 *
 * A slow password hash would buy nothing for 256 random bits and would cap token issuance, so
 * a key is hashed once with SHA-256 (docs/openrrd.md).
 *
 * Threads: every function may run on any thread at once (no state).
 * Secrets: buffers holding keys are the caller's to wipe (OPENSSL_cleanse) when done.
 */
#ifndef OPENRR_FE_KEYS_H
#define OPENRR_FE_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Bytes of randomness in a key, characters of its text form (base64url, no padding) and the
 * size of a buffer holding the text with its NUL. */
#define FE_KEY_BYTES 32
#define FE_KEY_CHARS 43
#define FE_KEY_TEXT_SIZE (FE_KEY_CHARS + 1)
/* A GUID's text (8-4-4-4-12 lower-case hex) and a buffer for it. */
#define FE_GUID_CHARS 36
#define FE_GUID_TEXT_SIZE (FE_GUID_CHARS + 1)

/* Write a fresh key (FE_KEY_BYTES from the CSPRNG) into @p out (FE_KEY_TEXT_SIZE bytes) and,
 * when @p out_sha256 is not NULL, its SHA-256 (the text's hash, as fe_key_hash computes it).
 * false only when the random generator fails (out is then ""). */
bool fe_key_generate(char out[FE_KEY_TEXT_SIZE], uint8_t out_sha256[32]);

/* Whether @p text has the form of a key: exactly FE_KEY_CHARS characters of the base64url
 * alphabet, the last one's two spare bits zero (so that one key has one spelling). */
bool fe_key_well_formed(const char *text);

/* SHA-256 of the @p len bytes at @p text (a presented key: hashed whatever it looks like, so
 * that a wrong key costs the same as a right one). false only when OpenSSL fails. */
bool fe_key_hash(const char *text, size_t len, uint8_t out_sha256[32]);

/* Constant-time comparison of two digests (CRYPTO_memcmp). */
bool fe_key_hash_equal(const uint8_t a[32], const uint8_t b[32]);

/* Whether the presented key @p text (@p len bytes) hashes to one of the @p count digests at
 * @p hashes (each 32 bytes, stride @p stride bytes apart so that an array of records can be
 * passed); every digest is compared, matching or not. Returns the index of the match in
 * *@p out_index (may be NULL). */
bool fe_key_match(const char *text, size_t len, const uint8_t *hashes, size_t count, size_t stride,
                  size_t *out_index);

/* A random (version 4) GUID in lower-case 8-4-4-4-12 form into @p out. false when the random
 * generator fails. */
bool fe_guid_generate(char out[FE_GUID_TEXT_SIZE]);

/* Whether @p s is a GUID in lower-case 8-4-4-4-12 form (any version). */
bool fe_guid_well_formed(const char *s);

/* Split the token service's credential "<accountId>:<accountKey>" (the part after "Bearer ")
 * at its first ':'. On success *@p out_account (a NUL-terminated copy in @p account of
 * @p account_size bytes) and *@p out_key / *@p out_key_len (pointing into @p credential).
 * false when there is no ':' , the account part is empty or does not fit, or the key is empty. */
bool fe_credential_split(const char *credential, char *account, size_t account_size,
                         const char **out_key, size_t *out_key_len);

/* base64url (RFC 4648 §5) without padding of @p n bytes into @p out, which has room for
 * fe_b64url_len(n) + 1 bytes; NUL-terminated. Returns the characters written. */
size_t fe_b64url_encode(const uint8_t *in, size_t n, char *out);
static inline size_t fe_b64url_len(size_t n)
{
    return (n / 3) * 4 + (n % 3 == 0 ? 0 : n % 3 + 1);
}
/* Decode @p len characters of unpadded base64url into @p out (room for @p out_size bytes).
 * Returns the bytes written, or -1 for a bad character, a bad length, non-zero spare bits or
 * too little room. */
long fe_b64url_decode(const char *in, size_t len, uint8_t *out, size_t out_size);

/* Lower-case hex of @p n bytes into @p out (room for 2n + 1). */
void fe_hex(const uint8_t *in, size_t n, char *out);

#endif /* OPENRR_FE_KEYS_H */
