/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Data channels and the send scheduler. Application threads create channels and queue
 * messages; the network thread frames them into records, one record at a time, taking the
 * control queue first, then high, medium and low priority (DESIGN §4.2). All shared state is
 * under ctx->lock.
 */
#include "context.h"

#include "u_log.h"
#include "u_time.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int queue_for(enum rr_priority p)
{
    switch (p) {
    case RR_PRIORITY_HIGH:
        return RR_QUEUE_HIGH;
    case RR_PRIORITY_MEDIUM:
        return RR_QUEUE_MEDIUM;
    default:
        return RR_QUEUE_LOW;
    }
}

static void queue_push_locked(struct rr_context *ctx, int q, struct rr_msg *m)
{
    bool was_empty = ctx->queued_total == 0;
    struct rr_msg_queue *mq = &ctx->queues[q];
    m->next = NULL;
    if (mq->tail != NULL) {
        mq->tail->next = m;
    } else {
        mq->head = m;
    }
    mq->tail = m;
    mq->bytes += m->size;
    ctx->queued_total += m->size + 1; /* +1: an empty message still needs a record */
    if (m->ch != NULL) {
        m->ch->queued_bytes += m->size;
    }
    if (was_empty && !pthread_equal(pthread_self(), ctx->thread)) {
        /* The network thread may be sleeping without POLLOUT; on its own thread (an event
         * callback answering) it writes the queue before it sleeps again. */
        rr_waker_wake(ctx->waker);
    }
}

bool rr_channel_queue_control_locked(struct rr_context *ctx, const struct rr_ctrl_msg *c)
{
    struct rr_msg *m = malloc(sizeof(*m) + RR_CTRL_MAX_SIZE);
    if (m == NULL) {
        return false;
    }
    memset(m, 0, sizeof(*m));
    m->channel = RR_CHANNEL_CONTROL;
    m->size = rr_ctrl_encode(c, m->data);
    queue_push_locked(ctx, RR_QUEUE_CONTROL, m);
    return true;
}

bool rr_channel_next_record_locked(struct rr_context *ctx, struct u_buf *out)
{
    for (int q = 0; q < RR_QUEUE_COUNT; q++) {
        struct rr_msg_queue *mq = &ctx->queues[q];
        struct rr_msg *m = mq->head;
        if (m == NULL) {
            continue;
        }
        size_t left = m->size - m->offset;
        size_t n = left < RR_MAX_RECORD_PAYLOAD ? left : RR_MAX_RECORD_PAYLOAD;
        uint8_t flags = 0;
        if (m->offset == 0) {
            flags |= RR_RECORD_FLAG_FIRST;
        }
        if (n == left) {
            flags |= RR_RECORD_FLAG_LAST;
        }
        uint8_t *dst = u_buf_reserve(out, RR_RECORD_HEADER_SIZE + n, SIZE_MAX / 2);
        if (dst == NULL) {
            return false;
        }
        rr_record_write_header(dst, m->channel, flags, (uint32_t)n);
        memcpy(dst + RR_RECORD_HEADER_SIZE, m->data + m->offset, n);
        u_buf_commit(out, RR_RECORD_HEADER_SIZE + n);
        m->offset += n;
        mq->bytes -= n;
        ctx->queued_total -= n;
        if (m->ch != NULL) {
            m->ch->queued_bytes -= n;
        }
        ctx->stats.records_sent++;
        ctx->stats.bytes_sent += RR_RECORD_HEADER_SIZE + n;
        if (m->offset == m->size) {
            ctx->queued_total -= 1;
            mq->head = m->next;
            if (mq->head == NULL) {
                mq->tail = NULL;
            }
            if (m->channel != RR_CHANNEL_CONTROL) {
                ctx->stats.messages_sent++;
            } else if (m->size == 3 && m->data[0] == RR_CTRL_CHANNEL_CLOSE &&
                       m->data[1] <= RR_CHANNEL_DATA_MAX && ctx->close_pending[m->data[1]] > 0) {
                ctx->close_pending[m->data[1]]--;
            }
            free(m);
        }
        return true;
    }
    return false;
}

void rr_channel_clear_queues_locked(struct rr_context *ctx)
{
    for (int q = 0; q < RR_QUEUE_COUNT; q++) {
        struct rr_msg *m = ctx->queues[q].head;
        while (m != NULL) {
            struct rr_msg *next = m->next;
            if (m->ch != NULL) {
                m->ch->queued_bytes -= m->size - m->offset;
            }
            free(m);
            m = next;
        }
        memset(&ctx->queues[q], 0, sizeof(ctx->queues[q]));
    }
    ctx->queued_total = 0;
    memset(ctx->close_pending, 0, sizeof(ctx->close_pending));
}

/* Ids 0–63 belong to remotes, 64–127 to players. */
static bool id_belongs_to(enum rr_role role, uint8_t id)
{
    return role == RR_ROLE_REMOTE ? id <= 63 : (id >= 64 && id <= 127);
}

static struct rr_data_channel *channel_new_locked(struct rr_context *ctx, uint8_t id,
                                                  enum rr_priority priority,
                                                  enum rr_channel_status status)
{
    struct rr_data_channel *ch = calloc(1, sizeof(*ch));
    if (ch == NULL) {
        return NULL;
    }
    ch->ctx = ctx;
    ch->id = id;
    ch->priority = priority;
    ch->status = status;
    ch->in_table = true;
    ch->next_all = ctx->all_channels;
    ctx->all_channels = ch;
    ctx->channels[id] = ch;
    ctx->channel_seen[id] = true;
    return ch;
}

enum rr_result rr_data_channel_create(struct rr_context *ctx, uint8_t id, enum rr_priority priority,
                                      struct rr_data_channel **out_channel)
{
    if (ctx == NULL || out_channel == NULL || priority > RR_PRIORITY_HIGH ||
        !id_belongs_to(ctx->cfg.role, id)) {
        return RR_ERROR_INVALID_ARGUMENT;
    }
    enum rr_result r = RR_OK;
    pthread_mutex_lock(&ctx->lock);
    if (!ctx->connected) {
        r = RR_ERROR_NOT_CONNECTED;
    } else if (ctx->channels[id] != NULL || ctx->close_pending[id] > 0) {
        /* Until the old channel's close is on the wire, a new open would overtake it. */
        r = RR_ERROR_CHANNEL_EXISTS;
    } else {
        struct rr_data_channel *ch = channel_new_locked(ctx, id, priority, RR_CHANNEL_OPEN_PENDING);
        struct rr_ctrl_msg m = {
            .type = RR_CTRL_CHANNEL_OPEN, .channel_id = id, .priority = (uint8_t)priority};
        if (ch == NULL || !rr_channel_queue_control_locked(ctx, &m)) {
            r = RR_ERROR_OUT_OF_MEMORY;
        } else {
            *out_channel = ch;
        }
    }
    pthread_mutex_unlock(&ctx->lock);
    return r;
}

/* Latency path: with nothing queued ahead (so order is kept) and the network thread not busy
 * with the socket, write a one-record message from this thread instead of handing it over.
 * ctx->lock is held; the connection cannot go away meanwhile (fast_conn is cleared under it). */
static bool send_now_locked(struct rr_context *ctx, uint8_t channel, const void *data, size_t size)
{
    struct rr_conn *conn = ctx->fast_conn;
    if (conn == NULL || ctx->queued_total != 0 || size > RR_MAX_RECORD_PAYLOAD ||
        pthread_mutex_trylock(&conn->io_lock) != 0) {
        return false;
    }
    bool sent = false;
    if (!conn->closing && conn->stage == RR_STAGE_ESTABLISHED && !rr_conn_has_unsent(conn) &&
        !conn->ssl_want_write) {
        uint8_t *dst = u_buf_reserve(&conn->out, RR_RECORD_HEADER_SIZE + size, SIZE_MAX / 2);
        if (dst != NULL) {
            rr_record_write_header(dst, channel, RR_RECORD_FLAG_FIRST | RR_RECORD_FLAG_LAST,
                                   (uint32_t)size);
            if (size > 0) {
                memcpy(dst + RR_RECORD_HEADER_SIZE, data, size);
            }
            u_buf_commit(&conn->out, RR_RECORD_HEADER_SIZE + size);
            /* An application thread: a reset peer must not raise SIGPIPE here. A SIGPIPE
             * generated by this write is taken back before the old mask returns. */
            sigset_t pipe_set, old;
            sigemptyset(&pipe_set);
            sigaddset(&pipe_set, SIGPIPE);
            pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
            bool ok = rr_conn_flush(conn);
            if (!ok && !sigismember(&old, SIGPIPE)) {
                struct timespec zero = {0, 0};
                sigtimedwait(&pipe_set, NULL, &zero);
            }
            pthread_sigmask(SIG_SETMASK, &old, NULL);
            conn->last_tx_ms = u_time_ms();
            ctx->stats.records_sent++;
            ctx->stats.bytes_sent += RR_RECORD_HEADER_SIZE + size;
            ctx->stats.messages_sent++;
            sent = true;
            if (!ok || rr_conn_has_unsent(conn)) {
                /* The rest (or the error) is the network thread's to handle. */
                rr_waker_wake(ctx->waker);
            }
        }
    }
    pthread_mutex_unlock(&conn->io_lock);
    return sent;
}

enum rr_result rr_channel_send_locked(struct rr_context *ctx, struct rr_data_channel *ch,
                                      uint8_t channel, enum rr_priority priority, const void *data,
                                      size_t size, bool guaranteed_delivery)
{
    int q = queue_for(priority);
    bool direct_ok = pthread_equal(pthread_self(), ctx->thread) == 0 &&
                     (ch == NULL || ch->status == RR_CHANNEL_OPENED);
    if (direct_ok && send_now_locked(ctx, channel, data, size)) {
        return RR_OK;
    }
    if (!guaranteed_delivery && ctx->queues[q].bytes > ctx->cfg.best_effort_queue_limit) {
        /* Best effort: a message that would wait behind a congested queue is stale. */
        ctx->stats.messages_dropped++;
        return RR_OK;
    }
    if (ctx->queued_total + size > ctx->cfg.max_send_queue) {
        return RR_ERROR_QUEUE_FULL;
    }
    struct rr_msg *m = malloc(sizeof(*m) + size);
    if (m == NULL) {
        return RR_ERROR_OUT_OF_MEMORY;
    }
    memset(m, 0, sizeof(*m));
    m->ch = ch;
    m->channel = channel;
    m->size = size;
    if (size > 0) {
        memcpy(m->data, data, size);
    }
    queue_push_locked(ctx, q, m);
    return RR_OK;
}

enum rr_result rr_data_channel_send(struct rr_data_channel *ch, const void *data, size_t size,
                                    bool guaranteed_delivery)
{
    if (ch == NULL || (data == NULL && size > 0)) {
        return RR_ERROR_INVALID_ARGUMENT;
    }
    struct rr_context *ctx = ch->ctx;
    if (size > ctx->cfg.max_message_size) {
        return RR_ERROR_MESSAGE_TOO_LARGE;
    }
    enum rr_result r;
    pthread_mutex_lock(&ctx->lock);
    if (ch->status == RR_CHANNEL_CLOSED || !ctx->connected) {
        r = RR_ERROR_CHANNEL_CLOSED;
    } else {
        r = rr_channel_send_locked(ctx, ch, ch->id, ch->priority, data, size, guaranteed_delivery);
    }
    pthread_mutex_unlock(&ctx->lock);
    return r;
}

enum rr_channel_status rr_data_channel_status(struct rr_data_channel *ch,
                                              size_t *out_send_queue_size)
{
    if (ch == NULL) {
        return RR_CHANNEL_CLOSED;
    }
    pthread_mutex_lock(&ch->ctx->lock);
    enum rr_channel_status s = ch->status;
    if (out_send_queue_size != NULL) {
        *out_send_queue_size = ch->queued_bytes;
    }
    pthread_mutex_unlock(&ch->ctx->lock);
    return s;
}

uint8_t rr_data_channel_id(const struct rr_data_channel *ch)
{
    return ch != NULL ? ch->id : 0;
}

/* Forget queued messages' pointers to @p ch (they are still sent). */
static void detach_messages_locked(struct rr_context *ctx, struct rr_data_channel *ch)
{
    for (int q = 0; q < RR_QUEUE_COUNT; q++) {
        for (struct rr_msg *m = ctx->queues[q].head; m != NULL; m = m->next) {
            if (m->ch == ch) {
                m->ch = NULL;
            }
        }
    }
}

void rr_data_channel_destroy(struct rr_data_channel **ch_ptr)
{
    if (ch_ptr == NULL || *ch_ptr == NULL) {
        return;
    }
    struct rr_data_channel *ch = *ch_ptr;
    struct rr_context *ctx = ch->ctx;
    *ch_ptr = NULL;
    pthread_mutex_lock(&ctx->lock);
    if (ch->in_table && ch->status != RR_CHANNEL_CLOSED && ctx->connected) {
        /* The close travels in the channel's own queue, after its pending messages. */
        struct rr_msg *m = malloc(sizeof(*m) + RR_CTRL_MAX_SIZE);
        if (m != NULL) {
            memset(m, 0, sizeof(*m));
            struct rr_ctrl_msg c = {.type = RR_CTRL_CHANNEL_CLOSE,
                                    .channel_id = ch->id,
                                    .reason = RR_CHANNEL_CLOSED_PROTOCOL};
            m->channel = RR_CHANNEL_CONTROL;
            m->size = rr_ctrl_encode(&c, m->data);
            queue_push_locked(ctx, queue_for(ch->priority), m);
            if (ctx->close_pending[ch->id] < UINT8_MAX) {
                ctx->close_pending[ch->id]++;
            }
        }
    }
    if (ch->in_table) {
        ctx->channels[ch->id] = NULL;
    }
    detach_messages_locked(ctx, ch);
    for (struct rr_data_channel **pp = &ctx->all_channels; *pp != NULL; pp = &(*pp)->next_all) {
        if (*pp == ch) {
            *pp = ch->next_all;
            break;
        }
    }
    pthread_mutex_unlock(&ctx->lock);
    free(ch);
}

bool rr_channel_on_data(struct rr_context *ctx, uint8_t channel, const uint8_t *data, size_t size,
                        char *why, size_t why_size)
{
    pthread_mutex_lock(&ctx->lock);
    struct rr_data_channel *ch = ctx->channels[channel];
    bool seen = ctx->channel_seen[channel];
    struct rr_event ev;
    memset(&ev, 0, sizeof(ev));
    if (ch != NULL) {
        ev.type = RR_EVENT_DATA_RECEIVED;
        ev.channel = ch;
        ev.channel_id = channel;
        ev.packet_id = ch->next_packet_id++;
        ctx->stats.messages_received++;
    }
    pthread_mutex_unlock(&ctx->lock);
    if (ch == NULL) {
        if (seen) {
            return true; /* closed locally while the peer was still sending: drop */
        }
        snprintf(why, why_size, "data on channel %u, which was never opened", channel);
        return false;
    }
    ev.data = (uint8_t *)data;
    ev.size = size;
    rr_ctx_emit_data(ctx, &ev);
    return true;
}

bool rr_channel_on_control(struct rr_context *ctx, struct rr_conn *conn,
                           const struct rr_ctrl_msg *m, char *why, size_t why_size)
{
    struct rr_event ev;
    memset(&ev, 0, sizeof(ev));
    ev.channel_id = m->channel_id;
    pthread_mutex_lock(&ctx->lock);
    struct rr_data_channel *ch = ctx->channels[m->channel_id];
    bool ok = true;
    switch (m->type) {
    case RR_CTRL_CHANNEL_OPEN:
        if (!id_belongs_to(conn->peer_role, m->channel_id)) {
            snprintf(why, why_size, "the peer opened channel %u outside its id range",
                     m->channel_id);
            ok = false;
        } else if (ch != NULL) {
            snprintf(why, why_size, "the peer opened channel %u twice", m->channel_id);
            ok = false;
        } else {
            ch = channel_new_locked(ctx, m->channel_id, (enum rr_priority)m->priority,
                                    RR_CHANNEL_OPENED);
            struct rr_ctrl_msg ack = {.type = RR_CTRL_CHANNEL_OPENED, .channel_id = m->channel_id};
            if (ch == NULL || !rr_channel_queue_control_locked(ctx, &ack)) {
                snprintf(why, why_size, "out of memory opening channel %u", m->channel_id);
                ok = false;
            } else {
                ev.type = RR_EVENT_DATA_CHANNEL_CREATED;
                ev.channel = ch;
            }
        }
        break;
    case RR_CTRL_CHANNEL_OPENED:
        if (ch != NULL && ch->status == RR_CHANNEL_OPEN_PENDING) {
            ch->status = RR_CHANNEL_OPENED;
            ev.type = RR_EVENT_DATA_CHANNEL_OPENED;
            ev.channel = ch;
        } else if (ch != NULL || !ctx->channel_seen[m->channel_id]) {
            snprintf(why, why_size, "unexpected open confirmation for channel %u", m->channel_id);
            ok = false;
        }
        break;
    case RR_CTRL_CHANNEL_CLOSE:
        if (ch != NULL) {
            ch->status = RR_CHANNEL_CLOSED;
            ch->in_table = false;
            ctx->channels[m->channel_id] = NULL;
            ev.type = RR_EVENT_DATA_CHANNEL_CLOSED;
            ev.channel = ch;
            ev.close_reason = (enum rr_channel_close_reason)m->reason;
        }
        break;
    default:
        snprintf(why, why_size, "unknown control message %u", m->type);
        ok = false;
    }
    pthread_mutex_unlock(&ctx->lock);
    if (ok && ev.type != RR_EVENT_NONE) {
        rr_ctx_emit(ctx, &ev);
    }
    return ok;
}

void rr_channel_close_all(struct rr_context *ctx)
{
    struct rr_event evs[128];
    size_t n = 0;
    pthread_mutex_lock(&ctx->lock);
    for (int id = 0; id < 128; id++) {
        struct rr_data_channel *ch = ctx->channels[id];
        if (ch == NULL) {
            continue;
        }
        ch->status = RR_CHANNEL_CLOSED;
        ch->in_table = false;
        ctx->channels[id] = NULL;
        memset(&evs[n], 0, sizeof(evs[n]));
        evs[n].type = RR_EVENT_DATA_CHANNEL_CLOSED;
        evs[n].channel = ch;
        evs[n].channel_id = (uint8_t)id;
        evs[n].close_reason = RR_CHANNEL_CLOSED_PROTOCOL;
        n++;
    }
    memset(ctx->channel_seen, 0, sizeof(ctx->channel_seen));
    rr_channel_clear_queues_locked(ctx);
    pthread_mutex_unlock(&ctx->lock);
    for (size_t i = 0; i < n; i++) {
        rr_ctx_emit(ctx, &evs[i]);
    }
}
