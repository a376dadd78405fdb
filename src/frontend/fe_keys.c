/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fe_keys — keys, their hashes and GUIDs (fe_keys.h). Any thread: no state.
 */
#include "fe_keys.h"

#include "b64url.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <limits.h>
#include <stdlib.h>
#include <string.h>

size_t fe_b64url_encode(const uint8_t *in, size_t n, char *out)
{
    return rr_b64url_encode(in, n, out);
}

long fe_b64url_decode(const char *in, size_t len, uint8_t *out, size_t out_size)
{
    uint8_t *raw = NULL;
    size_t n = 0;
    if (!rr_b64url_decode(in, len, &raw, &n, NULL)) {
        return -1;
    }
    long r = n <= out_size && n <= LONG_MAX ? (long)n : -1;
    if (r >= 0) {
        memcpy(out, raw, n);
    }
    OPENSSL_cleanse(raw, n); /* keys pass through here */
    free(raw);
    return r;
}

void fe_hex(const uint8_t *in, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = '\0';
}

bool fe_key_hash(const char *text, size_t len, uint8_t out_sha256[32])
{
    unsigned int n = 0;
    return EVP_Digest(text, len, out_sha256, &n, EVP_sha256(), NULL) == 1 && n == 32;
}

bool fe_key_generate(char out[FE_KEY_TEXT_SIZE], uint8_t out_sha256[32])
{
    uint8_t raw[FE_KEY_BYTES];
    out[0] = '\0';
    if (RAND_bytes(raw, sizeof raw) != 1) {
        return false;
    }
    fe_b64url_encode(raw, sizeof raw, out);
    OPENSSL_cleanse(raw, sizeof raw);
    if (out_sha256 != NULL && !fe_key_hash(out, FE_KEY_CHARS, out_sha256)) {
        OPENSSL_cleanse(out, FE_KEY_TEXT_SIZE);
        out[0] = '\0';
        return false;
    }
    return true;
}

bool fe_key_well_formed(const char *text)
{
    if (text == NULL || strnlen(text, FE_KEY_CHARS + 1) != FE_KEY_CHARS) {
        return false;
    }
    uint8_t raw[FE_KEY_BYTES + 2];
    long n = fe_b64url_decode(text, FE_KEY_CHARS, raw, sizeof raw);
    OPENSSL_cleanse(raw, sizeof raw);
    return n == FE_KEY_BYTES;
}

bool fe_key_hash_equal(const uint8_t a[32], const uint8_t b[32])
{
    return CRYPTO_memcmp(a, b, 32) == 0;
}

bool fe_key_match(const char *text, size_t len, const uint8_t *hashes, size_t count, size_t stride,
                  size_t *out_index)
{
    uint8_t h[32];
    if (!fe_key_hash(text, len, h)) {
        return false;
    }
    bool found = false;
    size_t index = 0;
    for (size_t i = 0; i < count; i++) {
        /* No early exit: the time does not tell which key (if any) matched. */
        bool eq = fe_key_hash_equal(h, hashes + i * stride);
        if (eq && !found) {
            found = true;
            index = i;
        }
    }
    OPENSSL_cleanse(h, sizeof h);
    if (found && out_index != NULL) {
        *out_index = index;
    }
    return found;
}

bool fe_guid_generate(char out[FE_GUID_TEXT_SIZE])
{
    uint8_t b[16];
    out[0] = '\0';
    if (RAND_bytes(b, sizeof b) != 1) {
        return false;
    }
    b[6] = (uint8_t)((b[6] & 0x0f) | 0x40); /* version 4 */
    b[8] = (uint8_t)((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
    char hex[33];
    fe_hex(b, sizeof b, hex);
    memcpy(out, hex, 8);
    out[8] = '-';
    memcpy(out + 9, hex + 8, 4);
    out[13] = '-';
    memcpy(out + 14, hex + 12, 4);
    out[18] = '-';
    memcpy(out + 19, hex + 16, 4);
    out[23] = '-';
    memcpy(out + 24, hex + 20, 12);
    out[36] = '\0';
    return true;
}

bool fe_guid_well_formed(const char *s)
{
    if (s == NULL || strnlen(s, FE_GUID_CHARS + 1) != FE_GUID_CHARS) {
        return false;
    }
    for (size_t i = 0; i < FE_GUID_CHARS; i++) {
        char c = s[i];
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (c != '-') {
                return false;
            }
        } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
            return false;
        }
    }
    return true;
}

bool fe_credential_split(const char *credential, char *account, size_t account_size,
                         const char **out_key, size_t *out_key_len)
{
    if (credential == NULL || account == NULL || account_size == 0) {
        return false;
    }
    const char *colon = strchr(credential, ':');
    if (colon == NULL || colon == credential) {
        return false;
    }
    size_t alen = (size_t)(colon - credential);
    if (alen >= account_size) {
        return false;
    }
    size_t klen = strlen(colon + 1);
    if (klen == 0) {
        return false;
    }
    memcpy(account, credential, alen);
    account[alen] = '\0';
    *out_key = colon + 1;
    *out_key_len = klen;
    return true;
}
