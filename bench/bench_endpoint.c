/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench_endpoint — event bookkeeping of one OpenRR context (see bench_endpoint.h).
 * Threads: bench_endpoint_on_event on the context's network thread; the rest on the measuring
 * thread. The mutex guards every field below ctx.
 */
#include "bench_endpoint.h"

#include "bench.h"
#include "bench_stats.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

bool bench_endpoint_init(struct bench_endpoint *ep, const char *name, bool echo_back)
{
    memset(ep, 0, sizeof(*ep));
    ep->name = name;
    ep->echo_back = echo_back;
    pthread_condattr_t attr;
    if (pthread_condattr_init(&attr) != 0)
        return false;
    /* Timeouts on the monotonic clock, the one every figure is measured with. */
    bool ok = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC) == 0 &&
              pthread_cond_init(&ep->cv, &attr) == 0;
    pthread_condattr_destroy(&attr);
    if (!ok)
        return false;
    if (pthread_mutex_init(&ep->mu, NULL) != 0) {
        pthread_cond_destroy(&ep->cv);
        return false;
    }
    return true;
}

void bench_endpoint_fini(struct bench_endpoint *ep)
{
    pthread_mutex_destroy(&ep->mu);
    pthread_cond_destroy(&ep->cv);
}

static void on_data(struct bench_endpoint *ep, const struct rr_event *ev, uint64_t now)
{
    if (ev->channel_id == BENCH_BULK_CHANNEL) {
        ep->bulk_received += ev->size;
        if (ep->bulk_target > 0 && ep->bulk_received >= ep->bulk_target) {
            ep->bulk_target = 0; /* disarmed until the next transfer */
            ep->bulk_done_ns = now;
            ep->bulk_done++;
            pthread_cond_broadcast(&ep->cv);
        }
    } else if (ev->channel_id == BENCH_ECHO_CHANNEL) {
        if (ep->echo_back) {
            /* Echo from the callback itself: the lowest-latency answer the API allows. */
            enum rr_result r = rr_data_channel_send(ev->channel, ev->data, ev->size, true);
            if (r != RR_OK && ep->echo_error == RR_OK) {
                ep->echo_error = r;
                pthread_cond_broadcast(&ep->cv);
            }
        } else {
            ep->echo_ns = now;
            ep->echoes++;
            pthread_cond_broadcast(&ep->cv);
        }
    }
}

void bench_endpoint_on_event(void *user, const struct rr_event *ev)
{
    /* Timestamp first, before any lock: this is the moment the application learns of it. */
    uint64_t now = bench_now_ns();
    struct bench_endpoint *ep = user;
    pthread_mutex_lock(&ep->mu);
    switch (ev->type) {
    case RR_EVENT_LISTENING:
        ep->port = ev->port;
        ep->transport_port = ev->transport_port;
        ep->listening++;
        break;
    case RR_EVENT_CONNECTED:
        ep->connected_ns = now;
        ep->connected++;
        break;
    case RR_EVENT_DISCONNECTED:
        ep->last_reason = ev->reason;
        snprintf(ep->last_detail, sizeof(ep->last_detail), "%s", ev->detail);
        ep->disconnected++;
        break;
    case RR_EVENT_ATTEMPT_FAILED:
        ep->last_failed_reason = ev->reason;
        snprintf(ep->last_detail, sizeof(ep->last_detail), "%s", ev->detail);
        ep->attempts_failed++;
        break;
    case RR_EVENT_DATA_CHANNEL_CREATED:
        ep->channels_created++;
        break;
    case RR_EVENT_DATA_CHANNEL_OPENED:
        ep->channels_opened++;
        break;
    case RR_EVENT_DATA_RECEIVED:
        on_data(ep, ev, now);
        break;
    case RR_EVENT_DATA_CHANNEL_CLOSED:
    case RR_EVENT_NONE:
        break;
    }
    /* Data events broadcast only when someone waits on them; the rest always do. */
    if (ev->type != RR_EVENT_DATA_RECEIVED)
        pthread_cond_broadcast(&ep->cv);
    pthread_mutex_unlock(&ep->mu);
}

unsigned bench_endpoint_read(struct bench_endpoint *ep, const unsigned *counter)
{
    pthread_mutex_lock(&ep->mu);
    unsigned v = *counter;
    pthread_mutex_unlock(&ep->mu);
    return v;
}

bool bench_endpoint_wait(struct bench_endpoint *ep, const unsigned *counter, unsigned base,
                         const unsigned *fail_counter, unsigned fail_base, const char *what)
{
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += BENCH_WAIT_TIMEOUT_MS / 1000;
    deadline.tv_nsec += (long)(BENCH_WAIT_TIMEOUT_MS % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&ep->mu);
    bool ok = true;
    while (*counter <= base) {
        if (fail_counter != NULL && *fail_counter > fail_base) {
            bool disc = fail_counter == &ep->disconnected;
            fprintf(stderr, "openrr: %s: waiting for %s, got %s instead (reason %s) %s\n", ep->name,
                    what, disc ? "Disconnected" : "AttemptFailed",
                    rr_disconnect_reason_str(disc ? ep->last_reason : ep->last_failed_reason),
                    ep->last_detail);
            ok = false;
            break;
        }
        if (ep->echo_error != RR_OK) {
            fprintf(stderr, "openrr: %s: echo send failed: %s\n", ep->name,
                    rr_result_str(ep->echo_error));
            ok = false;
            break;
        }
        if (pthread_cond_timedwait(&ep->cv, &ep->mu, &deadline) == ETIMEDOUT && *counter <= base) {
            fprintf(stderr, "openrr: %s: no %s within %d ms\n", ep->name, what,
                    BENCH_WAIT_TIMEOUT_MS);
            ok = false;
            break;
        }
    }
    pthread_mutex_unlock(&ep->mu);
    return ok;
}

void bench_endpoint_arm_bulk(struct bench_endpoint *ep, uint64_t target)
{
    pthread_mutex_lock(&ep->mu);
    ep->bulk_received = 0;
    ep->bulk_target = target;
    ep->bulk_done_ns = 0;
    pthread_mutex_unlock(&ep->mu);
}
