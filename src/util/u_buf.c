/* SPDX-License-Identifier: Apache-2.0 */
/* Growable byte buffer; single owner. */
#include "u_buf.h"

#include <stdlib.h>
#include <string.h>

uint8_t *u_buf_reserve(struct u_buf *b, size_t extra, size_t limit)
{
    size_t len = u_buf_len(b);
    if (extra > limit || len > limit - extra) {
        return NULL;
    }
    if (b->cap - b->end >= extra) {
        return b->data + b->end;
    }
    /* Compact before growing: the consumed prefix is usually most of the buffer. */
    if (b->start > 0) {
        memmove(b->data, b->data + b->start, len);
        b->start = 0;
        b->end = len;
        if (b->cap - b->end >= extra) {
            return b->data + b->end;
        }
    }
    size_t ncap = b->cap ? b->cap : 4096;
    while (ncap - len < extra) {
        ncap *= 2;
    }
    /* Not realloc: the old block may hold a token and must be wiped before it is freed. */
    uint8_t *n = malloc(ncap);
    if (n == NULL) {
        return NULL;
    }
    if (b->data != NULL) {
        memcpy(n, b->data + b->start, len);
        explicit_bzero(b->data, b->cap);
        free(b->data);
        b->start = 0;
        b->end = len;
    }
    b->data = n;
    b->cap = ncap;
    return b->data + b->end;
}

void u_buf_commit(struct u_buf *b, size_t n)
{
    b->end += n;
}

bool u_buf_append(struct u_buf *b, const void *p, size_t n, size_t limit)
{
    uint8_t *dst = u_buf_reserve(b, n, limit);
    if (dst == NULL) {
        return false;
    }
    memcpy(dst, p, n);
    b->end += n;
    return true;
}

void u_buf_consume(struct u_buf *b, size_t n)
{
    b->start += n;
    if (b->start >= b->end) {
        b->start = b->end = 0;
    }
}

void u_buf_free(struct u_buf *b)
{
    if (b->data != NULL) {
        explicit_bzero(b->data, b->cap);
        free(b->data);
    }
    memset(b, 0, sizeof(*b));
}
