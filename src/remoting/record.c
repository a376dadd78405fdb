/* SPDX-License-Identifier: Apache-2.0 */
/* Record framing, reassembly and control messages. Every length is checked before use. */
#include "record.h"

#include "openrr/remoting.h"

#include <stdlib.h>
#include <string.h>

static uint32_t get_be32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint64_t get_be64(const uint8_t *p)
{
    return ((uint64_t)get_be32(p) << 32) | get_be32(p + 4);
}

static void put_be64(uint8_t *p, uint64_t v)
{
    put_be32(p, (uint32_t)(v >> 32));
    put_be32(p + 4, (uint32_t)v);
}

enum rr_record_status rr_record_parse_header(const uint8_t *p, size_t len,
                                             struct rr_record_header *out)
{
    if (len < RR_RECORD_HEADER_SIZE) {
        return RR_RECORD_INCOMPLETE;
    }
    out->channel = p[0];
    out->flags = p[1];
    out->length = get_be32(p + 4);
    if (p[2] != 0 || p[3] != 0 || (out->flags & ~RR_RECORD_FLAGS_KNOWN) != 0 ||
        out->length > RR_MAX_RECORD_PAYLOAD) {
        return RR_RECORD_BAD;
    }
    return RR_RECORD_OK;
}

void rr_record_write_header(uint8_t out[RR_RECORD_HEADER_SIZE], uint8_t channel, uint8_t flags,
                            uint32_t length)
{
    out[0] = channel;
    out[1] = flags;
    out[2] = 0;
    out[3] = 0;
    put_be32(out + 4, length);
}

void rr_record_reader_init(struct rr_record_reader *r, size_t max_message)
{
    memset(r, 0, sizeof(*r));
    r->max_message = max_message;
    /* Messages of different priorities interleave, but a peer may not park a partial message
     * on every channel. */
    r->max_total = max_message > SIZE_MAX / 4 ? SIZE_MAX : max_message * 4;
}

void rr_record_reader_fini(struct rr_record_reader *r)
{
    for (size_t i = 0; i < 256; i++) {
        free(r->partial[i].data);
    }
    memset(r, 0, sizeof(*r));
}

enum rr_record_status rr_record_reader_push(struct rr_record_reader *r,
                                            const struct rr_record_header *h,
                                            const uint8_t *payload, const uint8_t **out_msg,
                                            size_t *out_len, const char **why)
{
    struct rr_record_partial *pt = &r->partial[h->channel];
    bool first = (h->flags & RR_RECORD_FLAG_FIRST) != 0;
    bool last = (h->flags & RR_RECORD_FLAG_LAST) != 0;
    *out_msg = NULL;
    *out_len = 0;

    if (first == pt->active) {
        *why = first ? "a new message began before the previous one ended"
                     : "a continuation fragment without a first fragment";
        return RR_RECORD_BAD;
    }
    if (first && last) {
        /* The common case needs no copy. */
        if (h->length > r->max_message) {
            *why = "message larger than the limit";
            return RR_RECORD_BAD;
        }
        *out_msg = payload;
        *out_len = h->length;
        return RR_RECORD_OK;
    }
    if (first) {
        pt->len = 0;
        pt->active = true;
    }
    if (h->length > r->max_message - pt->len) {
        *why = "message larger than the limit";
        return RR_RECORD_BAD;
    }
    if (h->length > r->max_total - r->total) {
        *why = "partial messages on all channels exceed the reassembly limit";
        return RR_RECORD_BAD;
    }
    r->total += h->length;
    if (pt->cap - pt->len < h->length) {
        size_t ncap = pt->cap ? pt->cap : 65536;
        while (ncap - pt->len < h->length) {
            ncap *= 2;
        }
        uint8_t *n = realloc(pt->data, ncap);
        if (n == NULL) {
            *why = "out of memory reassembling a message";
            return RR_RECORD_BAD;
        }
        pt->data = n;
        pt->cap = ncap;
    }
    if (h->length > 0) {
        memcpy(pt->data + pt->len, payload, h->length);
    }
    pt->len += h->length;
    if (last) {
        static const uint8_t empty;
        pt->active = false;
        r->total -= pt->len;
        /* An empty message split into empty fragments never allocated a buffer; NULL would
         * read as "more to come". */
        *out_msg = pt->data != NULL ? pt->data : &empty;
        *out_len = pt->len;
    }
    return RR_RECORD_OK;
}

bool rr_ctrl_parse(const uint8_t *p, size_t len, struct rr_ctrl_msg *out)
{
    if (len < 1) {
        return false;
    }
    memset(out, 0, sizeof(*out));
    out->type = p[0];
    switch (p[0]) {
    case RR_CTRL_KEEPALIVE:
    case RR_CTRL_KEEPALIVE_ACK:
        if (len != 9) {
            return false;
        }
        out->timestamp = get_be64(p + 1);
        return true;
    case RR_CTRL_DISCONNECT:
        if (len != 2) {
            return false;
        }
        out->reason = p[1];
        return true;
    case RR_CTRL_CHANNEL_OPEN:
        if (len != 3 || p[2] > RR_PRIORITY_HIGH) {
            return false;
        }
        out->channel_id = p[1];
        out->priority = p[2];
        return out->channel_id <= RR_CHANNEL_DATA_MAX;
    case RR_CTRL_CHANNEL_OPENED:
        if (len != 2) {
            return false;
        }
        out->channel_id = p[1];
        return out->channel_id <= RR_CHANNEL_DATA_MAX;
    case RR_CTRL_CHANNEL_CLOSE:
        if (len != 3 || p[2] > RR_CHANNEL_CLOSED_ERROR) {
            return false;
        }
        out->channel_id = p[1];
        out->reason = p[2];
        return out->channel_id <= RR_CHANNEL_DATA_MAX;
    default:
        return false;
    }
}

size_t rr_ctrl_encode(const struct rr_ctrl_msg *m, uint8_t out[RR_CTRL_MAX_SIZE])
{
    out[0] = m->type;
    switch (m->type) {
    case RR_CTRL_KEEPALIVE:
    case RR_CTRL_KEEPALIVE_ACK:
        put_be64(out + 1, m->timestamp);
        return 9;
    case RR_CTRL_DISCONNECT:
        out[1] = m->reason;
        return 2;
    case RR_CTRL_CHANNEL_OPEN:
        out[1] = m->channel_id;
        out[2] = m->priority;
        return 3;
    case RR_CTRL_CHANNEL_OPENED:
        out[1] = m->channel_id;
        return 2;
    case RR_CTRL_CHANNEL_CLOSE:
        out[1] = m->channel_id;
        out[2] = m->reason;
        return 3;
    default:
        return 0;
    }
}
