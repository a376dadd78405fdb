/* SPDX-License-Identifier: Apache-2.0 */
/*
 * base64url for JWS (RFC 7515 §2): OpenSSL's EVP_EncodeBlock/EVP_DecodeBlock do the work on
 * the standard alphabet; this file maps the URL alphabet and drops or restores the padding.
 * Decoding is strict so that one token has exactly one spelling: padding, whitespace, the
 * standard alphabet's '+' and '/' and non-zero unused bits are all refused.
 * Threads: pure functions.
 */
#include "auth_internal.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <limits.h>
#include <stdlib.h>
#include <string.h>

size_t rr_b64url_encoded_len(size_t n)
{
    return n / 3 * 4 + (n % 3 == 0 ? 0 : n % 3 + 1);
}

size_t rr_b64url_encode(const uint8_t *in, size_t n, char *out)
{
    /* EVP_EncodeBlock pads, and the caller's buffer has room for the unpadded text only: the
     * last partial group goes through a scratch buffer. */
    size_t full = n / 3 * 3;
    size_t len = 0;
    if (full > 0) {
        len = (size_t)EVP_EncodeBlock((unsigned char *)out, in, (int)full);
    }
    if (n > full) {
        unsigned char tail[5];
        EVP_EncodeBlock(tail, in + full, (int)(n - full));
        size_t keep = n - full + 1;
        memcpy(out + len, tail, keep);
        len += keep;
    }
    out[len] = '\0';
    for (size_t i = 0; i < len; i++) {
        if (out[i] == '+') {
            out[i] = '-';
        } else if (out[i] == '/') {
            out[i] = '_';
        }
    }
    return len;
}

static int url_value(char c)
{
    if (c >= 'A' && c <= 'Z') {
        return c - 'A';
    }
    if (c >= 'a' && c <= 'z') {
        return c - 'a' + 26;
    }
    if (c >= '0' && c <= '9') {
        return c - '0' + 52;
    }
    if (c == '-') {
        return 62;
    }
    if (c == '_') {
        return 63;
    }
    return -1;
}

bool rr_b64url_decode(const char *in, size_t len, uint8_t **out, size_t *out_len, bool *oom)
{
    *out = NULL;
    *out_len = 0;
    if (oom) {
        *oom = false;
    }
    /* One leftover character carries only 6 bits: no byte ends there. The int bound is
     * EVP_DecodeBlock's; callers bound far lower. */
    if (len % 4 == 1 || len > INT_MAX / 2) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        if (url_value(in[i]) < 0) {
            return false;
        }
    }
    /* The bits past the last whole byte must be zero, or two spellings would decode alike. */
    if (len % 4 == 2 && (url_value(in[len - 1]) & 0x0f) != 0) {
        return false;
    }
    if (len % 4 == 3 && (url_value(in[len - 1]) & 0x03) != 0) {
        return false;
    }
    size_t padded = (len + 3) / 4 * 4;
    char *std = malloc(padded + 1);
    uint8_t *buf = malloc(padded / 4 * 3 + 1);
    if (!std || !buf) {
        free(std);
        free(buf);
        if (oom) {
            *oom = true;
        }
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        std[i] = in[i] == '-' ? '+' : in[i] == '_' ? '/' : in[i];
    }
    memset(std + len, '=', padded - len);
    std[padded] = '\0';
    int n = padded ? EVP_DecodeBlock(buf, (const unsigned char *)std, (int)padded) : 0;
    OPENSSL_cleanse(std, padded);
    free(std);
    if (n < 0) {
        OPENSSL_clear_free(buf, padded / 4 * 3 + 1);
        return false;
    }
    /* EVP_DecodeBlock counts the padding's zero bytes too. */
    size_t real = len / 4 * 3 + (len % 4 == 0 ? 0 : len % 4 - 1);
    buf[real] = 0;
    *out = buf;
    *out_len = real;
    return true;
}
