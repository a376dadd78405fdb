/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Built-in channels 129–133: receivers attached by libopenrr_stream (poses, video, statistics)
 * and the host (scene calls), and sending on those channels through the same scheduler as
 * data channels. builtin_lock is held around every callback so that detaching returns only
 * when no callback of the receiver is running (its owner may free it right after).
 */
#include "context.h"

#include "u_log.h"

#include <string.h>

#define BUILTIN_COUNT (RR_CHANNEL_BUILTIN_LAST - RR_CHANNEL_CONTROL)
#define BUILTIN_ALL ((1u << BUILTIN_COUNT) - 1u)

static bool is_builtin(uint8_t channel)
{
    return channel > RR_CHANNEL_CONTROL && channel <= RR_CHANNEL_BUILTIN_LAST;
}

enum rr_result rr_context_attach_builtin(struct rr_context *ctx, uint32_t channel_mask,
                                         struct rr_builtin_receiver *receiver)
{
    if (ctx == NULL || channel_mask == 0 || (channel_mask & ~BUILTIN_ALL) != 0 ||
        (receiver != NULL && receiver->on_message == NULL)) {
        return RR_ERROR_INVALID_ARGUMENT;
    }
    pthread_mutex_lock(&ctx->builtin_lock);
    pthread_mutex_lock(&ctx->lock);
    enum rr_result r = RR_OK;
    if (receiver != NULL) {
        if (ctx->state != RR_STATE_DISCONNECTED) {
            r = RR_ERROR_WRONG_STATE;
        }
        for (unsigned i = 0; r == RR_OK && i < BUILTIN_COUNT; i++) {
            if ((channel_mask & (1u << i)) != 0 && ctx->builtin[i] != NULL) {
                r = RR_ERROR_WRONG_STATE;
            }
        }
    }
    if (r == RR_OK) {
        for (unsigned i = 0; i < BUILTIN_COUNT; i++) {
            if ((channel_mask & (1u << i)) != 0) {
                /* After a detach the peer may still have messages in flight: drop those. */
                ctx->builtin_detached[i] = receiver == NULL && ctx->builtin[i] != NULL;
                ctx->builtin[i] = receiver;
            }
        }
    }
    pthread_mutex_unlock(&ctx->lock);
    pthread_mutex_unlock(&ctx->builtin_lock);
    return r;
}

enum rr_result rr_context_send_builtin(struct rr_context *ctx, uint8_t channel, const void *data,
                                       size_t size, enum rr_priority priority, bool guaranteed)
{
    if (ctx == NULL || !is_builtin(channel) || (data == NULL && size > 0) ||
        priority > RR_PRIORITY_HIGH) {
        return RR_ERROR_INVALID_ARGUMENT;
    }
    if (size > RR_MAX_BUILTIN_MESSAGE) {
        return RR_ERROR_MESSAGE_TOO_LARGE;
    }
    enum rr_result r;
    pthread_mutex_lock(&ctx->lock);
    if (!ctx->connected) {
        r = RR_ERROR_NOT_CONNECTED;
    } else {
        r = rr_channel_send_locked(ctx, NULL, channel, priority, data, size, guaranteed);
    }
    pthread_mutex_unlock(&ctx->lock);
    return r;
}

size_t rr_context_queued_bytes(struct rr_context *ctx, enum rr_priority priority)
{
    if (ctx == NULL) {
        return 0;
    }
    int q = priority == RR_PRIORITY_HIGH     ? RR_QUEUE_HIGH
            : priority == RR_PRIORITY_MEDIUM ? RR_QUEUE_MEDIUM
                                             : RR_QUEUE_LOW;
    pthread_mutex_lock(&ctx->lock);
    size_t n = ctx->queues[q].bytes;
    pthread_mutex_unlock(&ctx->lock);
    return n;
}

bool rr_builtin_on_message(struct rr_context *ctx, uint8_t channel, const uint8_t *data,
                           size_t size)
{
    if (!is_builtin(channel)) {
        return false;
    }
    unsigned i = channel - RR_CHANNEL_CONTROL - 1;
    pthread_mutex_lock(&ctx->builtin_lock);
    struct rr_builtin_receiver *r = ctx->builtin[i];
    bool dropped = r == NULL && ctx->builtin_detached[i];
    if (r != NULL) {
        r->on_message(r, channel, data, size);
    }
    pthread_mutex_unlock(&ctx->builtin_lock);
    return r != NULL || dropped;
}

/* Call @p fn once per distinct receiver (one may hold several channels). */
static void each_receiver(struct rr_context *ctx,
                          void (*fn)(struct rr_builtin_receiver *r, const void *arg),
                          const void *arg)
{
    pthread_mutex_lock(&ctx->builtin_lock);
    for (unsigned i = 0; i < BUILTIN_COUNT; i++) {
        struct rr_builtin_receiver *r = ctx->builtin[i];
        bool seen = false;
        for (unsigned j = 0; j < i && !seen; j++) {
            seen = ctx->builtin[j] == r;
        }
        if (r != NULL && !seen) {
            fn(r, arg);
        }
    }
    pthread_mutex_unlock(&ctx->builtin_lock);
}

static void call_connected(struct rr_builtin_receiver *r, const void *arg)
{
    if (r->on_connected != NULL) {
        r->on_connected(r, arg);
    }
}

static void call_disconnected(struct rr_builtin_receiver *r, const void *arg)
{
    (void)arg;
    if (r->on_disconnected != NULL) {
        r->on_disconnected(r);
    }
}

void rr_builtin_on_connected(struct rr_context *ctx, const struct rr_connection_info *info)
{
    each_receiver(ctx, call_connected, info);
}

void rr_builtin_on_disconnected(struct rr_context *ctx)
{
    each_receiver(ctx, call_disconnected, NULL);
}
