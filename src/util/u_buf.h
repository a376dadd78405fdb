/* SPDX-License-Identifier: Apache-2.0 */
/*
 * u_buf — a growable byte buffer with a read offset, used for socket input and output.
 * Not thread-safe: one owner. Growth is bounded by the caller-given limit.
 */
#ifndef U_BUF_H
#define U_BUF_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct u_buf {
    uint8_t *data;
    size_t start; /* first unread byte */
    size_t end;   /* one past the last byte */
    size_t cap;
};

/* Bytes stored and not yet consumed. */
static inline size_t u_buf_len(const struct u_buf *b)
{
    return b->end - b->start;
}
static inline uint8_t *u_buf_head(const struct u_buf *b)
{
    return b->data + b->start;
}

/* Make room for @p extra more bytes without exceeding @p limit in total length.
 * Returns a pointer to the free space, or NULL (out of memory or over the limit). */
uint8_t *u_buf_reserve(struct u_buf *b, size_t extra, size_t limit);
/* Mark @p n bytes of reserved space as filled. */
void u_buf_commit(struct u_buf *b, size_t n);
/* Append @p n bytes. Returns false when out of memory or over @p limit. */
bool u_buf_append(struct u_buf *b, const void *p, size_t n, size_t limit);
/* Drop @p n bytes from the front. */
void u_buf_consume(struct u_buf *b, size_t n);
/* Wipe (secrets may have passed through) and free. */
void u_buf_free(struct u_buf *b);

#endif
