/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench_endpoint — one OpenRR context of the benchmark and what its event callback has seen.
 * The callback counts events and takes the timestamps the figures use; the measuring thread
 * waits on those counters. Counters only grow, so a waiter compares against a value it read
 * before acting and never misses an event that came early.
 * Threads: bench_endpoint_on_event runs on the context's network thread; everything else on
 * the measuring (main) thread.
 */
#ifndef OPENRR_BENCH_ENDPOINT_H
#define OPENRR_BENCH_ENDPOINT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <openrr/remoting.h>

#define BENCH_BULK_CHANNEL 1 /* the remote (client) opens it; the player counts bytes */
#define BENCH_ECHO_CHANNEL 2 /* the remote sends; the player echoes from its callback */

struct bench_endpoint {
    const char *name; /* "listener" or "client", for messages */
    struct rr_context *ctx;
    pthread_mutex_t mu;
    pthread_cond_t cv;

    /* Event counters (monotonic) and what the latest such event carried. */
    unsigned listening;
    unsigned connected;
    unsigned disconnected;
    unsigned attempts_failed;
    unsigned channels_created;
    unsigned channels_opened;
    uint16_t port;
    uint16_t transport_port;
    uint64_t connected_ns; /* when the last Connected reached the callback */
    enum rr_disconnect_reason last_reason;
    enum rr_disconnect_reason last_failed_reason;
    char last_detail[192];

    /* Bulk (receiving side): bytes on BENCH_BULK_CHANNEL count toward bulk_target; reaching
     * it stamps bulk_done_ns, bumps bulk_done and disarms (bulk_target = 0). */
    uint64_t bulk_received;
    uint64_t bulk_target;
    uint64_t bulk_done_ns;
    unsigned bulk_done;

    /* Echo: the player side echoes BENCH_ECHO_CHANNEL; the remote side counts what comes back. */
    bool echo_back;
    unsigned echoes;
    uint64_t echo_ns;
    enum rr_result echo_error; /* first failure of rr_data_channel_send in the callback */
};

/* Initialise the bookkeeping (not the context). Returns false when a pthread call fails. */
bool bench_endpoint_init(struct bench_endpoint *ep, const char *name, bool echo_back);
void bench_endpoint_fini(struct bench_endpoint *ep);

/* The rr_event_callback; @p user is the struct bench_endpoint. */
void bench_endpoint_on_event(void *user, const struct rr_event *event);

/* Read a counter under the lock. */
unsigned bench_endpoint_read(struct bench_endpoint *ep, const unsigned *counter);

/*
 * Wait until *counter > base. Fails (printing why, naming @p what) when *fail_counter grows
 * past fail_base first (fail_counter may be NULL) or after BENCH_WAIT_TIMEOUT_MS.
 */
bool bench_endpoint_wait(struct bench_endpoint *ep, const unsigned *counter, unsigned base,
                         const unsigned *fail_counter, unsigned fail_base, const char *what);

/* Arm the bulk counter for a new transfer of @p target bytes. */
void bench_endpoint_arm_bulk(struct bench_endpoint *ep, uint64_t target);

#endif /* OPENRR_BENCH_ENDPOINT_H */
