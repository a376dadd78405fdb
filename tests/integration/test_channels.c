/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Data channels over a real secure connection: id ranges per role, open-pending → opened,
 * created/closed events on the peer, large and empty messages, the one-record bound on how
 * long a big low-priority message may delay a small high-priority one, send-queue size,
 * best-effort dropping, queue and size limits, closing on disconnect.
 */
#include "rr_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Pair: server = player (listens), client = remote (connects). */
static void connect_pair(struct rr_test_pair *p)
{
    assert_true(rr_test_pair_connect(p, RR_ROLE_PLAYER, true));
}

static void test_id_ranges_and_states(void **state)
{
    struct rr_test_pair p;
    struct rr_data_channel *ch = NULL;
    /* Not connected yet. */
    struct rr_context_config c = rr_test_config(RR_ROLE_REMOTE);
    struct rr_context *lone = NULL;
    assert_int_equal(rr_context_create(&c, &lone), RR_OK);
    assert_int_equal(rr_data_channel_create(lone, 1, RR_PRIORITY_LOW, &ch), RR_ERROR_NOT_CONNECTED);
    rr_context_destroy(&lone);

    connect_pair(&p);
    /* The remote (client) owns 0–63, the player (server) 64–127. */
    assert_int_equal(rr_data_channel_create(p.client, 64, RR_PRIORITY_LOW, &ch),
                     RR_ERROR_INVALID_ARGUMENT);
    assert_int_equal(rr_data_channel_create(p.server, 63, RR_PRIORITY_LOW, &ch),
                     RR_ERROR_INVALID_ARGUMENT);
    assert_int_equal(rr_data_channel_create(p.server, 128, RR_PRIORITY_LOW, &ch),
                     RR_ERROR_INVALID_ARGUMENT);
    assert_int_equal(rr_data_channel_create(p.client, 5, 7, &ch), RR_ERROR_INVALID_ARGUMENT);

    struct rr_data_channel *a = NULL, *b = NULL;
    assert_int_equal(rr_data_channel_create(p.client, 63, RR_PRIORITY_HIGH, &a), RR_OK);
    assert_int_equal(rr_data_channel_create(p.client, 63, RR_PRIORITY_HIGH, &ch),
                     RR_ERROR_CHANNEL_EXISTS);
    assert_int_equal(rr_data_channel_id(a), 63);
    assert_int_equal(rr_data_channel_create(p.server, 127, RR_PRIORITY_LOW, &b), RR_OK);
    assert_int_equal(rr_data_channel_status(b, NULL), RR_CHANNEL_OPEN_PENDING);

    struct rr_event ev;
    assert_true(rr_test_wait_event(p.client, RR_EVENT_DATA_CHANNEL_OPENED, 5000, &ev));
    assert_ptr_equal(ev.channel, a);
    assert_int_equal(rr_data_channel_status(a, NULL), RR_CHANNEL_OPENED);
    assert_true(rr_test_wait_event(p.server, RR_EVENT_DATA_CHANNEL_CREATED, 5000, &ev));
    assert_int_equal(ev.channel_id, 63);
    struct rr_data_channel *peer_a = ev.channel;
    assert_int_equal(rr_data_channel_status(peer_a, NULL), RR_CHANNEL_OPENED);

    /* Close from the creator: the peer sees DataChannelClosed; sending there then fails. */
    rr_data_channel_destroy(&a);
    assert_null(a);
    assert_true(rr_test_wait_event(p.server, RR_EVENT_DATA_CHANNEL_CLOSED, 5000, &ev));
    assert_int_equal(ev.channel_id, 63);
    assert_int_equal(ev.close_reason, RR_CHANNEL_CLOSED_PROTOCOL);
    assert_int_equal(rr_data_channel_status(peer_a, NULL), RR_CHANNEL_CLOSED);
    assert_int_equal(rr_data_channel_send(peer_a, "x", 1, true), RR_ERROR_CHANNEL_CLOSED);
    rr_data_channel_destroy(&peer_a);

    /* A closed id may be opened again. */
    assert_int_equal(rr_data_channel_create(p.client, 63, RR_PRIORITY_HIGH, &a), RR_OK);
    assert_true(rr_test_wait_event(p.client, RR_EVENT_DATA_CHANNEL_OPENED, 5000, NULL));

    /* Disconnect closes every channel on both sides. */
    assert_int_equal(rr_context_disconnect(p.client), RR_OK);
    assert_true(rr_test_wait_event(p.client, RR_EVENT_DATA_CHANNEL_CLOSED, 5000, NULL));
    assert_int_equal(rr_data_channel_status(a, NULL), RR_CHANNEL_CLOSED);
    assert_int_equal(rr_data_channel_send(a, "x", 1, true), RR_ERROR_CHANNEL_CLOSED);
    rr_test_pair_destroy(&p); /* frees channels still owned by the contexts */
}

static void test_messages_round_trip(void **state)
{
    struct rr_test_pair p;
    connect_pair(&p);
    struct rr_data_channel *ch = NULL;
    assert_int_equal(rr_data_channel_create(p.server, 100, RR_PRIORITY_MEDIUM, &ch), RR_OK);
    /* Sending while OPEN_PENDING is allowed: delivered after the open. */
    assert_int_equal(rr_data_channel_send(ch, "", 0, true), RR_OK);
    size_t big = 5u * 1024u * 1024u + 17u;
    uint8_t *buf = malloc(big);
    for (size_t i = 0; i < big; i++) {
        buf[i] = (uint8_t)(i * 31u + (i >> 13));
    }
    assert_int_equal(rr_data_channel_send(ch, buf, big, true), RR_OK);
    assert_int_equal(rr_data_channel_send(ch, "tail", 4, true), RR_OK);
    struct rr_event ev;
    assert_true(rr_test_wait_event(p.client, RR_EVENT_DATA_RECEIVED, 5000, &ev));
    assert_int_equal(ev.size, 0);
    assert_int_equal(ev.packet_id, 0);
    rr_event_release(&ev);
    assert_true(rr_test_wait_event(p.client, RR_EVENT_DATA_RECEIVED, 10000, &ev));
    assert_int_equal(ev.size, big);
    assert_int_equal(ev.packet_id, 1);
    assert_memory_equal(ev.data, buf, big);
    struct rr_data_channel *peer = ev.channel;
    rr_event_release(&ev);
    assert_true(rr_test_wait_event(p.client, RR_EVENT_DATA_RECEIVED, 5000, &ev));
    assert_int_equal(ev.packet_id, 2);
    assert_memory_equal(ev.data, "tail", 4);
    rr_event_release(&ev);
    /* And back on the same channel from the other side. */
    assert_int_equal(rr_data_channel_send(peer, "back", 4, true), RR_OK);
    assert_true(rr_test_wait_event(p.server, RR_EVENT_DATA_RECEIVED, 5000, &ev));
    assert_memory_equal(ev.data, "back", 4);
    rr_event_release(&ev);
    struct rr_connection_stats st;
    assert_int_equal(rr_context_stats(p.server, &st), RR_OK);
    assert_int_equal(st.messages_sent, 3);
    assert_int_equal(st.messages_received, 1);
    assert_true(st.records_sent >= big / RR_MAX_RECORD_PAYLOAD);
    free(buf);
    rr_test_pair_destroy(&p);
}

/* A small high-priority message queued behind 8 MiB of low-priority data arrives first. */
static void test_priority_preempts_bulk(void **state)
{
    struct rr_test_pair p;
    connect_pair(&p);
    struct rr_data_channel *low = NULL, *high = NULL;
    assert_int_equal(rr_data_channel_create(p.client, 1, RR_PRIORITY_LOW, &low), RR_OK);
    assert_int_equal(rr_data_channel_create(p.client, 2, RR_PRIORITY_HIGH, &high), RR_OK);
    assert_true(rr_test_wait_event(p.client, RR_EVENT_DATA_CHANNEL_OPENED, 5000, NULL));
    assert_true(rr_test_wait_event(p.client, RR_EVENT_DATA_CHANNEL_OPENED, 5000, NULL));
    size_t big = 8u * 1024u * 1024u;
    uint8_t *buf = calloc(1, big);
    assert_int_equal(rr_data_channel_send(low, buf, big, true), RR_OK);
    size_t queued = 0;
    rr_data_channel_status(low, &queued);
    assert_true(queued > 0); /* most of 8 MiB is still waiting */
    assert_int_equal(rr_data_channel_send(high, "pose", 4, true), RR_OK);
    struct rr_event ev;
    int order = 0, high_at = -1, low_at = -1;
    while ((high_at < 0 || low_at < 0) &&
           rr_test_wait_event(p.server, RR_EVENT_DATA_RECEIVED, 10000, &ev)) {
        if (ev.channel_id == 2) {
            high_at = order++;
        } else if (ev.channel_id == 1) {
            low_at = order++;
            assert_int_equal(ev.size, big);
        }
        rr_event_release(&ev);
    }
    assert_int_equal(high_at, 0);
    assert_int_equal(low_at, 1);
    rr_data_channel_status(low, &queued);
    assert_int_equal(queued, 0);
    free(buf);
    rr_test_pair_destroy(&p);
}

static void test_limits(void **state)
{
    struct rr_context_config sc = rr_test_config(RR_ROLE_PLAYER);
    struct rr_context_config cc = rr_test_config(RR_ROLE_REMOTE);
    cc.max_message_size = 1024 * 1024;
    cc.max_send_queue = 2 * 1024 * 1024;
    cc.best_effort_queue_limit = 64 * 1024;
    struct rr_context *server = NULL, *client = NULL;
    assert_int_equal(rr_context_create(&sc, &server), RR_OK);
    assert_int_equal(rr_context_create(&cc, &client), RR_OK);
    assert_int_equal(rr_context_listen(server, "127.0.0.1", 0, 0), RR_OK);
    uint16_t port = rr_test_wait_listening(server, 5000);
    assert_int_equal(rr_context_connect(client, "127.0.0.1", port), RR_OK);
    assert_true(rr_test_wait_event(client, RR_EVENT_CONNECTED, 5000, NULL));
    struct rr_data_channel *ch = NULL;
    assert_int_equal(rr_data_channel_create(client, 9, RR_PRIORITY_LOW, &ch), RR_OK);
    uint8_t *buf = calloc(1, 2 * 1024 * 1024);
    assert_int_equal(rr_data_channel_send(ch, buf, 1024 * 1024 + 1, true),
                     RR_ERROR_MESSAGE_TOO_LARGE);
    assert_int_equal(rr_data_channel_send(NULL, buf, 1, true), RR_ERROR_INVALID_ARGUMENT);
    /* Fill the queue faster than the network thread can drain it; guaranteed sends stop with
     * QUEUE_FULL, best-effort ones are dropped (counted) while congested. */
    int full = 0;
    for (int i = 0; i < 200 && full == 0; i++) {
        enum rr_result r = rr_data_channel_send(ch, buf, 1024 * 1024, true);
        if (r == RR_ERROR_QUEUE_FULL) {
            full = 1;
        } else {
            assert_int_equal(r, RR_OK);
        }
        for (int k = 0; k < 4; k++) {
            rr_data_channel_send(ch, buf, 1000, false);
        }
    }
    assert_int_equal(full, 1);
    struct rr_connection_stats st;
    assert_int_equal(rr_context_stats(client, &st), RR_OK);
    assert_true(st.messages_dropped > 0);
    free(buf);
    rr_context_destroy(&client);
    rr_context_destroy(&server);
}

int main(void)
{
    if (!rr_test_have_pki()) {
        fprintf(stderr, "RR_PKI_DIR is not set up: run through ctest (pki_setup fixture)\n");
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_id_ranges_and_states),
        cmocka_unit_test(test_messages_round_trip),
        cmocka_unit_test(test_priority_preempts_bulk),
        cmocka_unit_test(test_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
