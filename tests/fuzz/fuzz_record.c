/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_record — libFuzzer target for record framing, reassembly and control messages
 * (src/remoting/record.c). The input is the byte stream a peer sends after the handshake and
 * is consumed the way src/remoting/conn.c process_input consumes it; a plain reference model
 * of reassembly checks every delivered message byte for byte.
 * Single-threaded: libFuzzer calls LLVMFuzzerTestOneInput from one thread.
 */
#include "record.h"

#include "fuzz_check.h"

#include "openrr/remoting.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The connection's reader, with a limit low enough that a fuzzed stream can exceed it yet
 * above the reader's first 64 KiB buffer, so that buffer growth is reached too; and a second
 * reader with a tiny limit (odd, to catch off-by-one) so short inputs reach the limit paths.
 * Both are configurations an application may choose (max_message_size). */
#define LIMIT_CONN (96u * 1024u)
#define LIMIT_TINY 1000u

/* Reference reassembly: the documented rules restated without the reader's buffer tricks. */
struct model_channel {
    uint8_t *data;
    size_t len;
    bool active;
};

struct model {
    size_t limit;     /* one message */
    size_t max_total; /* all partial messages together (the reader's max_total) */
    size_t total;     /* bytes now held in partial messages */
    struct model_channel ch[256];
};

/* Returns RR_RECORD_OK/BAD as the reader must; on a whole message sets *out and *out_len. */
static enum rr_record_status model_push(struct model *m, const struct rr_record_header *h,
                                        const uint8_t *payload, const uint8_t **out,
                                        size_t *out_len)
{
    struct model_channel *c = &m->ch[h->channel];
    bool first = (h->flags & RR_RECORD_FLAG_FIRST) != 0;
    bool last = (h->flags & RR_RECORD_FLAG_LAST) != 0;
    *out = NULL;
    *out_len = 0;
    if (first == c->active) {
        return RR_RECORD_BAD;
    }
    if (first) {
        c->len = 0;
    }
    if (c->len + h->length > m->limit) {
        return RR_RECORD_BAD;
    }
    if (m->total + h->length > m->max_total) {
        return RR_RECORD_BAD;
    }
    m->total += h->length;
    uint8_t *n = realloc(c->data, c->len + h->length + 1);
    CHECK(n != NULL);
    c->data = n;
    if (h->length > 0) {
        memcpy(c->data + c->len, payload, h->length);
    }
    c->len += h->length;
    c->active = !last;
    if (last) {
        m->total -= c->len;
        *out = c->data;
        *out_len = c->len;
    }
    return RR_RECORD_OK;
}

static void model_free(struct model *m)
{
    for (size_t i = 0; i < 256; i++) {
        free(m->ch[i].data);
    }
}

/* One reader under test together with its model; a reader that refused a record is retired,
 * as the connection would be. */
struct lane {
    struct rr_record_reader reader;
    struct model model;
    bool dead;
};

static void lane_init(struct lane *l, size_t limit)
{
    rr_record_reader_init(&l->reader, limit);
    memset(&l->model, 0, sizeof(l->model));
    l->model.limit = limit;
    /* The bound on all partials is the reader's to choose, but it must admit a whole
     * message, or a valid stream could never be delivered. */
    CHECK(l->reader.max_message == limit && l->reader.max_total >= limit);
    l->model.max_total = l->reader.max_total;
    l->dead = false;
}

static void lane_fini(struct lane *l)
{
    rr_record_reader_fini(&l->reader);
    model_free(&l->model);
}

/* Push one record into both reader and model and require the same verdict and message. */
static enum rr_record_status lane_push(struct lane *l, const struct rr_record_header *h,
                                       const uint8_t *payload, const uint8_t **out_msg,
                                       size_t *out_len)
{
    const uint8_t *msg = (const uint8_t *)"x", *want = NULL;
    size_t len = 12345, want_len = 0;
    const char *why = NULL;
    enum rr_record_status st = rr_record_reader_push(&l->reader, h, payload, &msg, &len, &why);
    enum rr_record_status ref = model_push(&l->model, h, payload, &want, &want_len);
    CHECK(st == ref);
    if (st == RR_RECORD_BAD) {
        CHECK(why != NULL && why[0] != '\0'); /* the connection reports it to the user */
        l->dead = true;
        return st;
    }
    CHECK(st == RR_RECORD_OK);
    /* Drift in this count would, over a long connection, refuse valid streams or let the
     * partials grow past the bound. */
    CHECK(l->reader.total == l->model.total);
    /* NULL means "more to come", so a whole message, even an empty one, is never NULL. */
    CHECK((msg == NULL) == (want == NULL));
    if (msg != NULL) {
        /* Reads every byte, so ASan also proves the message lies in live memory. */
        CHECK(len == want_len && len <= l->reader.max_message);
        CHECK(len == 0 || memcmp(msg, want, len) == 0);
    } else {
        CHECK(len == 0);
    }
    *out_msg = msg;
    *out_len = len;
    return st;
}

static void check_ctrl_roundtrip(const uint8_t *msg, size_t len, const struct rr_ctrl_msg *m)
{
    uint8_t enc[RR_CTRL_MAX_SIZE];
    size_t n = rr_ctrl_encode(m, enc);
    /* Every field has exactly one encoding, so what parsed must re-encode to the same bytes. */
    CHECK(n == len && memcmp(enc, msg, n) == 0);
    struct rr_ctrl_msg again;
    memset(&again, 0xA5, sizeof(again));
    CHECK(rr_ctrl_parse(enc, n, &again));
    CHECK(again.type == m->type && again.timestamp == m->timestamp && again.reason == m->reason &&
          again.channel_id == m->channel_id && again.priority == m->priority);
    switch (m->type) {
    case RR_CTRL_CHANNEL_OPEN:
        CHECK(m->channel_id <= RR_CHANNEL_DATA_MAX && m->priority <= RR_PRIORITY_HIGH);
        break;
    case RR_CTRL_CHANNEL_OPENED:
        CHECK(m->channel_id <= RR_CHANNEL_DATA_MAX);
        break;
    case RR_CTRL_CHANNEL_CLOSE:
        CHECK(m->channel_id <= RR_CHANNEL_DATA_MAX && m->reason <= RR_CHANNEL_CLOSED_ERROR);
        break;
    case RR_CTRL_KEEPALIVE:
    case RR_CTRL_KEEPALIVE_ACK:
    case RR_CTRL_DISCONNECT:
        break;
    default:
        CHECK(!"rr_ctrl_parse accepted an unknown type");
    }
}

/* Parses a message as a control message; returns false when it is not one. */
static bool ctrl_parse_checked(const uint8_t *msg, size_t len, struct rr_ctrl_msg *out)
{
    /* An exact-size copy: a read past the message must hit ASan's redzone, not the rest of
     * the reassembly buffer or the input. */
    uint8_t *copy = malloc(len ? len : 1);
    CHECK(copy != NULL);
    if (len > 0) {
        memcpy(copy, msg, len);
    }
    bool ok = rr_ctrl_parse(copy, len, out);
    if (ok) {
        CHECK(len >= 1 && len <= RR_CTRL_MAX_SIZE && out->type == copy[0]);
        check_ctrl_roundtrip(copy, len, out);
    }
    free(copy);
    return ok;
}

static void check_header(const uint8_t *p, size_t avail, enum rr_record_status st,
                         const struct rr_record_header *h)
{
    if (avail < RR_RECORD_HEADER_SIZE) {
        CHECK(st == RR_RECORD_INCOMPLETE);
        return;
    }
    uint32_t length = (uint32_t)p[4] << 24 | (uint32_t)p[5] << 16 | (uint32_t)p[6] << 8 | p[7];
    bool bad = p[2] != 0 || p[3] != 0 || (p[1] & ~RR_RECORD_FLAGS_KNOWN) != 0 ||
               length > RR_MAX_RECORD_PAYLOAD;
    CHECK(st == (bad ? RR_RECORD_BAD : RR_RECORD_OK));
    if (st == RR_RECORD_OK) {
        uint8_t again[RR_RECORD_HEADER_SIZE];
        CHECK(h->channel == p[0] && h->flags == p[1] && h->length == length);
        rr_record_write_header(again, h->channel, h->flags, h->length);
        CHECK(memcmp(again, p, RR_RECORD_HEADER_SIZE) == 0);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* Two lanes of ~4 KiB bookkeeping each plus models: heap, so each run starts clean. */
    struct lane *conn = malloc(sizeof(*conn));
    struct lane *tiny = malloc(sizeof(*tiny));
    CHECK(conn != NULL && tiny != NULL);
    lane_init(conn, LIMIT_CONN);
    lane_init(tiny, LIMIT_TINY);

    size_t pos = 0;
    for (;;) {
        /* As process_input: header, then the whole payload, then the channel check. */
        struct rr_record_header h;
        size_t avail = size - pos;
        enum rr_record_status st = rr_record_parse_header(data + pos, avail, &h);
        check_header(data + pos, avail, st, &h);
        if (st != RR_RECORD_OK) {
            break; /* INCOMPLETE waits for more bytes; BAD is a protocol error */
        }
        if (avail < RR_RECORD_HEADER_SIZE + (size_t)h.length) {
            break;
        }
        /* Give the reader the payload in its own allocation so ASan bounds it exactly. */
        uint8_t *payload = malloc(h.length ? h.length : 1);
        CHECK(payload != NULL);
        memcpy(payload, data + pos + RR_RECORD_HEADER_SIZE, h.length);
        if (h.channel > RR_CHANNEL_CONTROL) {
            free(payload);
            break; /* "record on unknown channel": the connection ends */
        }

        const uint8_t *tiny_msg = NULL;
        size_t tiny_len = 0;
        if (!tiny->dead) {
            (void)lane_push(tiny, &h, payload, &tiny_msg, &tiny_len);
        }
        const uint8_t *msg = NULL;
        size_t msg_len = 0;
        bool alive = lane_push(conn, &h, payload, &msg, &msg_len) == RR_RECORD_OK;
        if (alive && !tiny->dead && tiny_msg != NULL) {
            /* Same stream, same message, as long as it fits the lower limit. */
            CHECK(msg != NULL && msg_len == tiny_len &&
                  (msg_len == 0 || memcmp(msg, tiny_msg, msg_len) == 0));
        }

        if (alive && msg != NULL) {
            struct rr_ctrl_msg m;
            bool is_ctrl = ctrl_parse_checked(msg, msg_len, &m);
            if (h.channel == RR_CHANNEL_CONTROL) {
                /* A malformed control message is a protocol error; a disconnect ends the
                 * connection; everything else goes on. */
                alive = is_ctrl && m.type != RR_CTRL_DISCONNECT;
            }
        }
        free(payload);
        if (!alive) {
            break;
        }
        pos += RR_RECORD_HEADER_SIZE + h.length;
    }

    /* Every path ends here, as rr_conn_destroy would: leaks show up in LeakSanitizer. */
    lane_fini(conn);
    lane_fini(tiny);
    free(conn);
    free(tiny);
    return 0;
}
