/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the tcp transport framing (src/remoting/record.c): the 8-byte record header,
 * per-channel reassembly of fragmented messages and the control-channel messages. Every
 * byte here comes from the peer, so each refusal is provoked at its boundary; run under
 * ASan (OPENRR_SANITIZE) to check the reader's buffers as well.
 */
#include "record.h"

#include "openrr/remoting.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

/* The reader holds 256 partial slots: static keeps it off the stack. */
static struct rr_record_reader g_reader;

static enum rr_record_status push(uint8_t channel, uint8_t flags, const void *payload,
                                  uint32_t length, const uint8_t **out_msg, size_t *out_len)
{
    struct rr_record_header h = {.channel = channel, .flags = flags, .length = length};
    const char *why = NULL;
    enum rr_record_status st =
        rr_record_reader_push(&g_reader, &h, (const uint8_t *)payload, out_msg, out_len, &why);
    if (st == RR_RECORD_BAD) {
        /* The caller closes the connection with this text: it must always be set. */
        assert_non_null(why);
        assert_true(why[0] != '\0');
    }
    return st;
}

/* Push a record that must be accepted without completing a message. */
static void push_partial(uint8_t channel, uint8_t flags, const void *payload, uint32_t length)
{
    const uint8_t *msg = (const uint8_t *)"sentinel";
    size_t len = 99;
    assert_int_equal(push(channel, flags, payload, length, &msg, &len), RR_RECORD_OK);
    assert_null(msg);
    assert_int_equal(len, 0);
}

static void fill_pattern(uint8_t *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++) {
        p[i] = (uint8_t)(i * 31u + seed);
    }
}

/* ---- header ----------------------------------------------------------------------------- */

static void test_header_wire_layout(void **state)
{
    (void)state;
    uint8_t b[RR_RECORD_HEADER_SIZE];
    rr_record_write_header(b, 0x81, 0x03, 0x01020304u);
    static const uint8_t expected[] = {0x81, 0x03, 0x00, 0x00, 0x01, 0x02, 0x03, 0x04};
    assert_memory_equal(b, expected, sizeof(expected));
}

static void test_header_round_trip(void **state)
{
    (void)state;
    static const uint8_t channels[] = {
        0,  1, 63, 64, 127, RR_CHANNEL_CONTROL, RR_CHANNEL_POSE, RR_CHANNEL_VIDEO, RR_CHANNEL_SCENE,
        255};
    static const uint8_t flags[] = {0, RR_RECORD_FLAG_FIRST, RR_RECORD_FLAG_LAST,
                                    RR_RECORD_FLAG_FIRST | RR_RECORD_FLAG_LAST};
    static const uint32_t lengths[] = {
        0, 1, 255, 256, 0x1234, RR_MAX_RECORD_PAYLOAD - 1, RR_MAX_RECORD_PAYLOAD};
    for (size_t c = 0; c < sizeof(channels); c++) {
        for (size_t f = 0; f < sizeof(flags); f++) {
            for (size_t l = 0; l < sizeof(lengths) / sizeof(lengths[0]); l++) {
                uint8_t b[RR_RECORD_HEADER_SIZE];
                rr_record_write_header(b, channels[c], flags[f], lengths[l]);
                struct rr_record_header h;
                memset(&h, 0xee, sizeof(h));
                assert_int_equal(rr_record_parse_header(b, sizeof(b), &h), RR_RECORD_OK);
                assert_int_equal(h.channel, channels[c]);
                assert_int_equal(h.flags, flags[f]);
                assert_int_equal(h.length, lengths[l]);
            }
        }
    }
}

static void test_header_ignores_bytes_after_it(void **state)
{
    (void)state;
    uint8_t b[32];
    memset(b, 0xff, sizeof(b));
    rr_record_write_header(b, 5, RR_RECORD_FLAG_FIRST, 7);
    struct rr_record_header h;
    assert_int_equal(rr_record_parse_header(b, sizeof(b), &h), RR_RECORD_OK);
    assert_int_equal(h.channel, 5);
    assert_int_equal(h.flags, RR_RECORD_FLAG_FIRST);
    assert_int_equal(h.length, 7);
}

static void test_header_incomplete(void **state)
{
    (void)state;
    uint8_t b[RR_RECORD_HEADER_SIZE];
    rr_record_write_header(b, 1, RR_RECORD_FLAG_FIRST | RR_RECORD_FLAG_LAST, 3);
    struct rr_record_header h;
    for (size_t n = 0; n < RR_RECORD_HEADER_SIZE; n++) {
        assert_int_equal(rr_record_parse_header(b, n, &h), RR_RECORD_INCOMPLETE);
    }
    /* Even a header that will be bad once whole is only incomplete until then. */
    static const uint8_t bad[] = {0x01, 0xff, 0x12, 0x34, 0xff, 0xff, 0xff};
    for (size_t n = 0; n <= sizeof(bad); n++) {
        assert_int_equal(rr_record_parse_header(bad, n, &h), RR_RECORD_INCOMPLETE);
    }
}

static void test_header_reserved_nonzero_bad(void **state)
{
    (void)state;
    struct rr_record_header h;
    uint8_t b[RR_RECORD_HEADER_SIZE];
    rr_record_write_header(b, 1, RR_RECORD_FLAG_FIRST, 4);
    b[2] = 0x01;
    assert_int_equal(rr_record_parse_header(b, sizeof(b), &h), RR_RECORD_BAD);
    b[2] = 0x00;
    b[3] = 0x01;
    assert_int_equal(rr_record_parse_header(b, sizeof(b), &h), RR_RECORD_BAD);
    b[3] = 0x80;
    assert_int_equal(rr_record_parse_header(b, sizeof(b), &h), RR_RECORD_BAD);
    b[2] = 0xff;
    b[3] = 0xff;
    assert_int_equal(rr_record_parse_header(b, sizeof(b), &h), RR_RECORD_BAD);
}

static void test_header_unknown_flags_bad(void **state)
{
    (void)state;
    struct rr_record_header h;
    uint8_t b[RR_RECORD_HEADER_SIZE];
    for (unsigned f = 0; f < 256; f++) {
        rr_record_write_header(b, 1, (uint8_t)f, 4);
        enum rr_record_status expected =
            (f & ~RR_RECORD_FLAGS_KNOWN) != 0 ? RR_RECORD_BAD : RR_RECORD_OK;
        assert_int_equal(rr_record_parse_header(b, sizeof(b), &h), expected);
    }
}

static void test_header_length_limit(void **state)
{
    (void)state;
    struct rr_record_header h;
    uint8_t b[RR_RECORD_HEADER_SIZE];
    rr_record_write_header(b, 1, RR_RECORD_FLAG_FIRST, RR_MAX_RECORD_PAYLOAD);
    assert_int_equal(rr_record_parse_header(b, sizeof(b), &h), RR_RECORD_OK);
    assert_int_equal(h.length, RR_MAX_RECORD_PAYLOAD);
    rr_record_write_header(b, 1, RR_RECORD_FLAG_FIRST, RR_MAX_RECORD_PAYLOAD + 1);
    assert_int_equal(rr_record_parse_header(b, sizeof(b), &h), RR_RECORD_BAD);
    rr_record_write_header(b, 1, RR_RECORD_FLAG_FIRST, 0x00010000u << 8);
    assert_int_equal(rr_record_parse_header(b, sizeof(b), &h), RR_RECORD_BAD);
    rr_record_write_header(b, 1, RR_RECORD_FLAG_FIRST, 0xffffffffu);
    assert_int_equal(rr_record_parse_header(b, sizeof(b), &h), RR_RECORD_BAD);
    rr_record_write_header(b, 1, RR_RECORD_FLAG_FIRST, 0x80000000u);
    assert_int_equal(rr_record_parse_header(b, sizeof(b), &h), RR_RECORD_BAD);
}

/* ---- reader ----------------------------------------------------------------------------- */

static int reader_setup(void **state)
{
    (void)state;
    rr_record_reader_init(&g_reader, 1000);
    return 0;
}

static int reader_teardown(void **state)
{
    (void)state;
    rr_record_reader_fini(&g_reader);
    return 0;
}

static void test_reader_init(void **state)
{
    (void)state;
    assert_int_equal(g_reader.max_message, 1000);
    for (size_t i = 0; i < 256; i++) {
        assert_false(g_reader.partial[i].active);
        assert_null(g_reader.partial[i].data);
    }
}

static void test_reader_single_record_zero_copy(void **state)
{
    (void)state;
    static const uint8_t payload[] = "hello, player";
    const uint8_t *msg = NULL;
    size_t len = 0;
    assert_int_equal(push(7, RR_RECORD_FLAG_FIRST | RR_RECORD_FLAG_LAST, payload, 13, &msg, &len),
                     RR_RECORD_OK);
    assert_ptr_equal(msg, payload);
    assert_int_equal(len, 13);
    /* Nothing was buffered for it, and the channel is ready for the next message. */
    assert_false(g_reader.partial[7].active);
    assert_null(g_reader.partial[7].data);
    assert_int_equal(
        push(7, RR_RECORD_FLAG_FIRST | RR_RECORD_FLAG_LAST, payload + 1, 5, &msg, &len),
        RR_RECORD_OK);
    assert_ptr_equal(msg, payload + 1);
    assert_int_equal(len, 5);
}

static void test_reader_three_fragments(void **state)
{
    (void)state;
    const uint8_t *msg = NULL;
    size_t len = 0;
    push_partial(3, RR_RECORD_FLAG_FIRST, "abc", 3);
    push_partial(3, 0, "defg", 4);
    assert_int_equal(push(3, RR_RECORD_FLAG_LAST, "hi", 2, &msg, &len), RR_RECORD_OK);
    assert_non_null(msg);
    assert_int_equal(len, 9);
    assert_memory_equal(msg, "abcdefghi", 9);
    assert_false(g_reader.partial[3].active);

    /* The next message on the channel starts afresh, not appended to the last one. */
    push_partial(3, RR_RECORD_FLAG_FIRST, "xy", 2);
    assert_int_equal(push(3, RR_RECORD_FLAG_LAST, "z", 1, &msg, &len), RR_RECORD_OK);
    assert_int_equal(len, 3);
    assert_memory_equal(msg, "xyz", 3);

    /* A single-record message after a fragmented one still arrives whole. */
    assert_int_equal(push(3, RR_RECORD_FLAG_FIRST | RR_RECORD_FLAG_LAST, "solo", 4, &msg, &len),
                     RR_RECORD_OK);
    assert_int_equal(len, 4);
    assert_memory_equal(msg, "solo", 4);
}

static void test_reader_large_message_grows(void **state)
{
    (void)state;
    /* 10 full records: past the first buffer size (64 KiB) twice, so reallocation keeps the
     * bytes already gathered. */
    const size_t records = 10;
    const size_t total = records * RR_MAX_RECORD_PAYLOAD;
    uint8_t *src = malloc(total);
    assert_non_null(src);
    fill_pattern(src, total, 17);
    rr_record_reader_fini(&g_reader);
    rr_record_reader_init(&g_reader, total);

    const uint8_t *msg = NULL;
    size_t len = 0;
    for (size_t i = 0; i < records; i++) {
        uint8_t flags = (uint8_t)((i == 0 ? RR_RECORD_FLAG_FIRST : 0) |
                                  (i == records - 1 ? RR_RECORD_FLAG_LAST : 0));
        assert_int_equal(
            push(66, flags, src + i * RR_MAX_RECORD_PAYLOAD, RR_MAX_RECORD_PAYLOAD, &msg, &len),
            RR_RECORD_OK);
        if (i < records - 1) {
            assert_null(msg);
        }
    }
    assert_non_null(msg);
    assert_int_equal(len, total);
    assert_memory_equal(msg, src, total);
    free(src);
}

static void test_reader_interleaved_channels(void **state)
{
    (void)state;
    const uint8_t *msg = NULL;
    size_t len = 0;
    push_partial(1, RR_RECORD_FLAG_FIRST, "A1", 2);
    push_partial(100, RR_RECORD_FLAG_FIRST, "b1", 2);
    push_partial(1, 0, "A2", 2);
    /* A single-record message on a third channel passes between the fragments. */
    assert_int_equal(
        push(RR_CHANNEL_CONTROL, RR_RECORD_FLAG_FIRST | RR_RECORD_FLAG_LAST, "c", 1, &msg, &len),
        RR_RECORD_OK);
    assert_int_equal(len, 1);
    assert_memory_equal(msg, "c", 1);
    push_partial(100, 0, "b2", 2);
    assert_int_equal(push(100, RR_RECORD_FLAG_LAST, "b3", 2, &msg, &len), RR_RECORD_OK);
    assert_int_equal(len, 6);
    assert_memory_equal(msg, "b1b2b3", 6);
    assert_true(g_reader.partial[1].active);
    assert_int_equal(push(1, RR_RECORD_FLAG_LAST, "A3", 2, &msg, &len), RR_RECORD_OK);
    assert_int_equal(len, 6);
    assert_memory_equal(msg, "A1A2A3", 6);
}

static void test_reader_continuation_without_first_bad(void **state)
{
    (void)state;
    const uint8_t *msg = NULL;
    size_t len = 0;
    assert_int_equal(push(9, 0, "x", 1, &msg, &len), RR_RECORD_BAD);
    assert_null(msg);
    assert_int_equal(push(9, RR_RECORD_FLAG_LAST, "x", 1, &msg, &len), RR_RECORD_BAD);
    assert_null(msg);

    /* After a message ended, its channel again needs a FIRST. */
    push_partial(10, RR_RECORD_FLAG_FIRST, "a", 1);
    assert_int_equal(push(10, RR_RECORD_FLAG_LAST, "b", 1, &msg, &len), RR_RECORD_OK);
    assert_int_equal(push(10, RR_RECORD_FLAG_LAST, "c", 1, &msg, &len), RR_RECORD_BAD);
    assert_int_equal(push(10, 0, "c", 1, &msg, &len), RR_RECORD_BAD);
}

static void test_reader_first_while_active_bad(void **state)
{
    (void)state;
    const uint8_t *msg = NULL;
    size_t len = 0;
    push_partial(4, RR_RECORD_FLAG_FIRST, "a", 1);
    assert_int_equal(push(4, RR_RECORD_FLAG_FIRST, "b", 1, &msg, &len), RR_RECORD_BAD);
    assert_null(msg);
    assert_int_equal(push(4, RR_RECORD_FLAG_FIRST | RR_RECORD_FLAG_LAST, "b", 1, &msg, &len),
                     RR_RECORD_BAD);
    assert_null(msg);
    /* Another channel is not affected. */
    assert_int_equal(push(5, RR_RECORD_FLAG_FIRST | RR_RECORD_FLAG_LAST, "ok", 2, &msg, &len),
                     RR_RECORD_OK);
    assert_int_equal(len, 2);
}

static void test_reader_max_message_single_record(void **state)
{
    (void)state;
    static uint8_t payload[1001];
    const uint8_t *msg = NULL;
    size_t len = 0;
    assert_int_equal(push(2, RR_RECORD_FLAG_FIRST | RR_RECORD_FLAG_LAST, payload, 1000, &msg, &len),
                     RR_RECORD_OK);
    assert_int_equal(len, 1000);
    assert_int_equal(push(2, RR_RECORD_FLAG_FIRST | RR_RECORD_FLAG_LAST, payload, 1001, &msg, &len),
                     RR_RECORD_BAD);
    assert_null(msg);
    assert_int_equal(len, 0);
}

static void test_reader_max_message_fragments(void **state)
{
    (void)state;
    static uint8_t payload[1001];
    fill_pattern(payload, sizeof(payload), 3);
    const uint8_t *msg = NULL;
    size_t len = 0;

    /* Exactly the limit across three fragments. */
    push_partial(2, RR_RECORD_FLAG_FIRST, payload, 400);
    push_partial(2, 0, payload + 400, 400);
    assert_int_equal(push(2, RR_RECORD_FLAG_LAST, payload + 800, 200, &msg, &len), RR_RECORD_OK);
    assert_int_equal(len, 1000);
    assert_memory_equal(msg, payload, 1000);

    /* One byte over in the last fragment. */
    push_partial(2, RR_RECORD_FLAG_FIRST, payload, 400);
    push_partial(2, 0, payload, 400);
    assert_int_equal(push(2, RR_RECORD_FLAG_LAST, payload, 201, &msg, &len), RR_RECORD_BAD);
    assert_null(msg);

    /* Over in a middle fragment: refused before the LAST arrives. */
    push_partial(8, RR_RECORD_FLAG_FIRST, payload, 999);
    assert_int_equal(push(8, 0, payload, 2, &msg, &len), RR_RECORD_BAD);

    /* Over in the FIRST fragment alone. */
    assert_int_equal(push(11, RR_RECORD_FLAG_FIRST, payload, 1001, &msg, &len), RR_RECORD_BAD);
}

static void test_reader_zero_limit(void **state)
{
    (void)state;
    rr_record_reader_fini(&g_reader);
    rr_record_reader_init(&g_reader, 0);
    const uint8_t *msg = NULL;
    size_t len = 0;
    assert_int_equal(push(1, RR_RECORD_FLAG_FIRST | RR_RECORD_FLAG_LAST, "x", 1, &msg, &len),
                     RR_RECORD_BAD);
    assert_int_equal(push(1, RR_RECORD_FLAG_FIRST, "x", 1, &msg, &len), RR_RECORD_BAD);
}

static void test_reader_empty_message(void **state)
{
    (void)state;
    static const uint8_t buf[1] = {0};
    const uint8_t *msg = NULL;
    size_t len = 99;
    assert_int_equal(push(6, RR_RECORD_FLAG_FIRST | RR_RECORD_FLAG_LAST, buf, 0, &msg, &len),
                     RR_RECORD_OK);
    /* Complete (not NULL, which would mean "more to come") and empty. */
    assert_ptr_equal(msg, buf);
    assert_int_equal(len, 0);
}

static void test_reader_empty_fragments_complete(void **state)
{
    (void)state;
    /* An empty message may also come as an empty FIRST and an empty LAST. The caller tells
     * "complete" from "more to come" only by a non-NULL message pointer, so the pointer must
     * be set even though no byte was ever buffered on this channel. */
    static const uint8_t buf[1] = {0};
    const uint8_t *msg = NULL;
    size_t len = 99;
    push_partial(12, RR_RECORD_FLAG_FIRST, buf, 0);
    assert_int_equal(push(12, RR_RECORD_FLAG_LAST, buf, 0, &msg, &len), RR_RECORD_OK);
    assert_non_null(msg);
    assert_int_equal(len, 0);
}

static void test_reader_empty_fragments_in_message(void **state)
{
    (void)state;
    const uint8_t *msg = NULL;
    size_t len = 0;
    push_partial(13, RR_RECORD_FLAG_FIRST, "", 0);
    push_partial(13, 0, "ab", 2);
    push_partial(13, 0, "", 0);
    assert_int_equal(push(13, RR_RECORD_FLAG_LAST, "", 0, &msg, &len), RR_RECORD_OK);
    assert_non_null(msg);
    assert_int_equal(len, 2);
    assert_memory_equal(msg, "ab", 2);
}

static void test_reader_fini_frees_partials(void **state)
{
    (void)state;
    /* Messages left half-way on many channels: fini must free them all (ASan's leak check
     * fails this test otherwise) and leave the reader reusable. */
    for (unsigned ch = 0; ch < 256; ch += 5) {
        push_partial((uint8_t)ch, RR_RECORD_FLAG_FIRST, "partial", 7);
    }
    rr_record_reader_fini(&g_reader);
    for (size_t i = 0; i < 256; i++) {
        assert_null(g_reader.partial[i].data);
        assert_false(g_reader.partial[i].active);
    }
    rr_record_reader_init(&g_reader, 1000);
    const uint8_t *msg = NULL;
    size_t len = 0;
    push_partial(0, RR_RECORD_FLAG_FIRST, "a", 1);
    assert_int_equal(push(0, RR_RECORD_FLAG_LAST, "b", 1, &msg, &len), RR_RECORD_OK);
    assert_memory_equal(msg, "ab", 2);
}

/* ---- control messages ------------------------------------------------------------------- */

static void assert_ctrl_round_trip(const struct rr_ctrl_msg *m, const uint8_t *wire, size_t size)
{
    uint8_t out[RR_CTRL_MAX_SIZE];
    memset(out, 0xaa, sizeof(out));
    assert_int_equal(rr_ctrl_encode(m, out), size);
    assert_memory_equal(out, wire, size);

    struct rr_ctrl_msg back;
    memset(&back, 0x55, sizeof(back));
    assert_true(rr_ctrl_parse(out, size, &back));
    assert_int_equal(back.type, m->type);
    assert_int_equal(back.timestamp, m->timestamp);
    assert_int_equal(back.reason, m->reason);
    assert_int_equal(back.channel_id, m->channel_id);
    assert_int_equal(back.priority, m->priority);
}

static void test_ctrl_round_trip(void **state)
{
    (void)state;
    {
        struct rr_ctrl_msg m = {.type = RR_CTRL_KEEPALIVE, .timestamp = 0x0102030405060708u};
        static const uint8_t wire[] = {0x01, 1, 2, 3, 4, 5, 6, 7, 8};
        assert_ctrl_round_trip(&m, wire, sizeof(wire));
    }
    {
        struct rr_ctrl_msg m = {.type = RR_CTRL_KEEPALIVE_ACK, .timestamp = UINT64_MAX - 1};
        static const uint8_t wire[] = {0x02, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe};
        assert_ctrl_round_trip(&m, wire, sizeof(wire));
    }
    {
        struct rr_ctrl_msg m = {.type = RR_CTRL_KEEPALIVE, .timestamp = 0};
        static const uint8_t wire[] = {0x01, 0, 0, 0, 0, 0, 0, 0, 0};
        assert_ctrl_round_trip(&m, wire, sizeof(wire));
    }
    {
        struct rr_ctrl_msg m = {.type = RR_CTRL_DISCONNECT, .reason = RR_REASON_DISCONNECT_REQUEST};
        static const uint8_t wire[] = {0x03, 19};
        assert_ctrl_round_trip(&m, wire, sizeof(wire));
    }
    {
        struct rr_ctrl_msg m = {
            .type = RR_CTRL_CHANNEL_OPEN, .channel_id = 64, .priority = RR_PRIORITY_HIGH};
        static const uint8_t wire[] = {0x10, 64, 2};
        assert_ctrl_round_trip(&m, wire, sizeof(wire));
    }
    {
        struct rr_ctrl_msg m = {
            .type = RR_CTRL_CHANNEL_OPEN, .channel_id = 0, .priority = RR_PRIORITY_LOW};
        static const uint8_t wire[] = {0x10, 0, 0};
        assert_ctrl_round_trip(&m, wire, sizeof(wire));
    }
    {
        struct rr_ctrl_msg m = {.type = RR_CTRL_CHANNEL_OPENED, .channel_id = 127};
        static const uint8_t wire[] = {0x11, 127};
        assert_ctrl_round_trip(&m, wire, sizeof(wire));
    }
    {
        struct rr_ctrl_msg m = {
            .type = RR_CTRL_CHANNEL_CLOSE, .channel_id = 63, .reason = RR_CHANNEL_CLOSED_ERROR};
        static const uint8_t wire[] = {0x12, 63, 1};
        assert_ctrl_round_trip(&m, wire, sizeof(wire));
    }
    {
        struct rr_ctrl_msg m = {
            .type = RR_CTRL_CHANNEL_CLOSE, .channel_id = 1, .reason = RR_CHANNEL_CLOSED_PROTOCOL};
        static const uint8_t wire[] = {0x12, 1, 0};
        assert_ctrl_round_trip(&m, wire, sizeof(wire));
    }
}

static void test_ctrl_priorities(void **state)
{
    (void)state;
    struct rr_ctrl_msg m;
    for (unsigned p = 0; p < 256; p++) {
        uint8_t b[3] = {RR_CTRL_CHANNEL_OPEN, 5, (uint8_t)p};
        assert_int_equal(rr_ctrl_parse(b, sizeof(b), &m), p <= RR_PRIORITY_HIGH);
    }
}

static void test_ctrl_wrong_lengths(void **state)
{
    (void)state;
    static const struct {
        uint8_t type;
        size_t size;
    } types[] = {
        {RR_CTRL_KEEPALIVE, 9},    {RR_CTRL_KEEPALIVE_ACK, 9},  {RR_CTRL_DISCONNECT, 2},
        {RR_CTRL_CHANNEL_OPEN, 3}, {RR_CTRL_CHANNEL_OPENED, 2}, {RR_CTRL_CHANNEL_CLOSE, 3},
    };
    /* Valid field values throughout, so only the length can be what is refused. */
    uint8_t b[32];
    memset(b, 0, sizeof(b));
    struct rr_ctrl_msg m;
    for (size_t t = 0; t < sizeof(types) / sizeof(types[0]); t++) {
        b[0] = types[t].type;
        for (size_t n = 1; n < sizeof(b); n++) {
            bool ok = rr_ctrl_parse(b, n, &m);
            if (ok != (n == types[t].size)) {
                fail_msg("type 0x%02x with %zu bytes: parse gave %d", types[t].type, n, ok);
            }
        }
    }
}

static void test_ctrl_channel_id_range(void **state)
{
    (void)state;
    static const uint8_t types[] = {RR_CTRL_CHANNEL_OPEN, RR_CTRL_CHANNEL_OPENED,
                                    RR_CTRL_CHANNEL_CLOSE};
    static const size_t sizes[] = {3, 2, 3};
    struct rr_ctrl_msg m;
    for (size_t t = 0; t < sizeof(types); t++) {
        for (unsigned id = 0; id < 256; id++) {
            uint8_t b[3] = {types[t], (uint8_t)id, 0};
            bool ok = rr_ctrl_parse(b, sizes[t], &m);
            /* Built-in channels (128+) are never opened or closed by a message. */
            if (ok != (id <= RR_CHANNEL_DATA_MAX)) {
                fail_msg("type 0x%02x channel %u: parse gave %d", types[t], id, ok);
            }
            if (ok) {
                assert_int_equal(m.channel_id, id);
            }
        }
    }
}

static void test_ctrl_close_reason_range(void **state)
{
    (void)state;
    struct rr_ctrl_msg m;
    for (unsigned r = 0; r < 256; r++) {
        uint8_t b[3] = {RR_CTRL_CHANNEL_CLOSE, 7, (uint8_t)r};
        bool ok = rr_ctrl_parse(b, sizeof(b), &m);
        assert_int_equal(ok, r <= RR_CHANNEL_CLOSED_ERROR);
        if (ok) {
            assert_int_equal(m.reason, r);
            assert_int_equal(m.channel_id, 7);
        }
    }
}

static void test_ctrl_unknown_type(void **state)
{
    (void)state;
    uint8_t b[RR_CTRL_MAX_SIZE];
    memset(b, 0, sizeof(b));
    struct rr_ctrl_msg m;
    for (unsigned t = 0; t < 256; t++) {
        bool known = t == RR_CTRL_KEEPALIVE || t == RR_CTRL_KEEPALIVE_ACK ||
                     t == RR_CTRL_DISCONNECT || t == RR_CTRL_CHANNEL_OPEN ||
                     t == RR_CTRL_CHANNEL_OPENED || t == RR_CTRL_CHANNEL_CLOSE;
        if (known) {
            continue;
        }
        b[0] = (uint8_t)t;
        for (size_t n = 1; n <= sizeof(b); n++) {
            if (rr_ctrl_parse(b, n, &m)) {
                fail_msg("unknown type 0x%02x with %zu bytes was accepted", t, n);
            }
        }
        /* Nothing to encode for an unknown type either. */
        struct rr_ctrl_msg u = {.type = (uint8_t)t};
        uint8_t out[RR_CTRL_MAX_SIZE];
        assert_int_equal(rr_ctrl_encode(&u, out), 0);
    }
}

static void test_ctrl_zero_length(void **state)
{
    (void)state;
    static const uint8_t b[RR_CTRL_MAX_SIZE] = {RR_CTRL_KEEPALIVE};
    struct rr_ctrl_msg m;
    assert_false(rr_ctrl_parse(b, 0, &m));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_header_wire_layout),
        cmocka_unit_test(test_header_round_trip),
        cmocka_unit_test(test_header_ignores_bytes_after_it),
        cmocka_unit_test(test_header_incomplete),
        cmocka_unit_test(test_header_reserved_nonzero_bad),
        cmocka_unit_test(test_header_unknown_flags_bad),
        cmocka_unit_test(test_header_length_limit),
        cmocka_unit_test_setup_teardown(test_reader_init, reader_setup, reader_teardown),
        cmocka_unit_test_setup_teardown(test_reader_single_record_zero_copy, reader_setup,
                                        reader_teardown),
        cmocka_unit_test_setup_teardown(test_reader_three_fragments, reader_setup, reader_teardown),
        cmocka_unit_test_setup_teardown(test_reader_large_message_grows, reader_setup,
                                        reader_teardown),
        cmocka_unit_test_setup_teardown(test_reader_interleaved_channels, reader_setup,
                                        reader_teardown),
        cmocka_unit_test_setup_teardown(test_reader_continuation_without_first_bad, reader_setup,
                                        reader_teardown),
        cmocka_unit_test_setup_teardown(test_reader_first_while_active_bad, reader_setup,
                                        reader_teardown),
        cmocka_unit_test_setup_teardown(test_reader_max_message_single_record, reader_setup,
                                        reader_teardown),
        cmocka_unit_test_setup_teardown(test_reader_max_message_fragments, reader_setup,
                                        reader_teardown),
        cmocka_unit_test_setup_teardown(test_reader_zero_limit, reader_setup, reader_teardown),
        cmocka_unit_test_setup_teardown(test_reader_empty_message, reader_setup, reader_teardown),
        cmocka_unit_test_setup_teardown(test_reader_empty_fragments_complete, reader_setup,
                                        reader_teardown),
        cmocka_unit_test_setup_teardown(test_reader_empty_fragments_in_message, reader_setup,
                                        reader_teardown),
        cmocka_unit_test_setup_teardown(test_reader_fini_frees_partials, reader_setup,
                                        reader_teardown),
        cmocka_unit_test(test_ctrl_round_trip),
        cmocka_unit_test(test_ctrl_priorities),
        cmocka_unit_test(test_ctrl_wrong_lengths),
        cmocka_unit_test(test_ctrl_channel_id_range),
        cmocka_unit_test(test_ctrl_close_reason_range),
        cmocka_unit_test(test_ctrl_unknown_type),
        cmocka_unit_test(test_ctrl_zero_length),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
