/* SPDX-License-Identifier: Apache-2.0 */
/*
 * oxr_channel — XR_MSFT_holographic_remoting's custom data channels over libopenrr_remoting's:
 * create (ids 0-63 from a remote), state, send, and the two-call retrieve of what arrived. A
 * channel the player opens becomes a handle the application receives in
 * XrEventDataRemotingDataChannelCreatedMSFT; a closed channel keeps its handle until the
 * application destroys it. Received packets wait for xrRetrieveRemotingDataMSFT, at most
 * 1024 packets or 64 MiB per channel: beyond that the oldest are dropped (their ids then
 * answer XR_ERROR_REMOTING_DATA_CHANNEL_PACKET_EXPIRED_MSFT), so an application that never
 * retrieves cannot exhaust memory.
 *
 * Threads: any application thread; the packet queues and the channel list are under
 * inst->lock; the library's channel functions are thread-safe.
 */
#include "oxr_api.h"

#include "u_log.h"

#include <stdlib.h>
#include <string.h>

#define MAX_PACKETS 1024u
#define MAX_PACKET_BYTES (64u * 1024u * 1024u)
#define REMOTE_MAX_ID 63u

static XrResult result_from_rr(enum rr_result r)
{
    switch (r) {
    case RR_OK:
        return XR_SUCCESS;
    case RR_ERROR_NOT_CONNECTED:
        return XR_ERROR_REMOTING_NOT_CONNECTED_MSFT;
    case RR_ERROR_CHANNEL_EXISTS:
        return XR_ERROR_REMOTING_DATA_CHANNEL_ID_IN_USE_MSFT;
    case RR_ERROR_CHANNEL_CLOSED:
        return XR_ERROR_REMOTING_DATA_CHANNEL_CLOSED_MSFT;
    case RR_ERROR_MESSAGE_TOO_LARGE:
        return XR_ERROR_REMOTING_DATA_CHANNEL_PACKET_TOO_LARGE_MSFT;
    case RR_ERROR_QUEUE_FULL:
        return XR_ERROR_REMOTING_DATA_CHANNEL_QUEUE_FULL_MSFT;
    case RR_ERROR_OUT_OF_MEMORY:
        return XR_ERROR_OUT_OF_MEMORY;
    case RR_ERROR_INVALID_ARGUMENT:
        return XR_ERROR_VALIDATION_FAILURE;
    default:
        return XR_ERROR_RUNTIME_FAILURE;
    }
}

static struct oxr_data_channel *get_channel(XrRemotingDataChannelMSFT h)
{
    return (struct oxr_data_channel *)(void *)oxr_handle_lookup(OXR_ID(h), OXR_TYPE_DATA_CHANNEL);
}

static void drop_packets(struct oxr_data_channel *c)
{
    for (uint32_t i = 0; i < c->packet_count; i++) {
        free(c->packets[i].data);
    }
    free(c->packets);
    c->packets = NULL;
    c->packet_count = 0;
    c->packet_bytes = 0;
}

static void channel_destroy(struct oxr_handle *h)
{
    struct oxr_data_channel *c = (struct oxr_data_channel *)(void *)h;
    struct oxr_instance *inst = c->inst;
    pthread_mutex_lock(&inst->lock);
    for (uint32_t i = 0; i < inst->channel_count; i++) {
        if (inst->channels[i] == c) {
            inst->channels[i] = inst->channels[--inst->channel_count];
            break;
        }
    }
    drop_packets(c);
    pthread_mutex_unlock(&inst->lock);
    rr_data_channel_destroy(&c->ch);
    free(c);
}

/* A handle for @p ch, listed on the instance. NULL when out of memory. */
static struct oxr_data_channel *wrap(struct oxr_instance *inst, struct rr_data_channel *ch)
{
    struct oxr_data_channel *c = calloc(1, sizeof *c);
    if (c == NULL) {
        return NULL;
    }
    c->inst = inst;
    c->ch = ch;
    c->id = rr_data_channel_id(ch);
    c->base.type = OXR_TYPE_DATA_CHANNEL;
    c->base.parent = &inst->base;
    c->base.destroy = channel_destroy;
    pthread_mutex_lock(&inst->lock);
    struct oxr_data_channel **grown =
        realloc(inst->channels, (inst->channel_count + 1) * sizeof *grown);
    if (grown != NULL) {
        inst->channels = grown;
        inst->channels[inst->channel_count++] = c;
    }
    pthread_mutex_unlock(&inst->lock);
    if (grown == NULL) {
        free(c);
        return NULL;
    }
    if (!oxr_handle_register(&c->base)) {
        c->ch = NULL; /* the caller still owns it */
        channel_destroy(&c->base);
        return NULL;
    }
    return c;
}

/* The handle of @p ch, or NULL (inst->lock held). */
static struct oxr_data_channel *find_locked(struct oxr_instance *inst,
                                            const struct rr_data_channel *ch)
{
    for (uint32_t i = 0; ch != NULL && i < inst->channel_count; i++) {
        if (inst->channels[i]->ch == ch) {
            return inst->channels[i];
        }
    }
    return NULL;
}

void oxr_channels_detach(struct oxr_instance *inst)
{
    pthread_mutex_lock(&inst->lock);
    for (uint32_t i = 0; i < inst->channel_count; i++) {
        struct oxr_data_channel *c = inst->channels[i];
        rr_data_channel_destroy(&c->ch);
        c->closed = true;
    }
    pthread_mutex_unlock(&inst->lock);
}

/* ---- events -----------------------------------------------------------------------------------
 */

static void on_created(struct oxr_instance *inst, struct rr_event *ev)
{
    struct oxr_data_channel *c = wrap(inst, ev->channel);
    if (c == NULL) {
        U_LOG_E(OXR_LOG, "out of memory for the player's data channel %u", ev->channel_id);
        struct rr_data_channel *ch = ev->channel;
        rr_data_channel_destroy(&ch);
        return;
    }
    XrEventDataRemotingDataChannelCreatedMSFT out = {
        .type = XR_TYPE_EVENT_DATA_REMOTING_DATA_CHANNEL_CREATED_MSFT,
        .channel = OXR_TO_XR(XrRemotingDataChannelMSFT, &c->base),
        .channelId = ev->channel_id,
    };
    oxr_events_push(&inst->events, &out, sizeof out, 0);
}

static void on_received(struct oxr_instance *inst, struct rr_event *ev)
{
    pthread_mutex_lock(&inst->lock);
    struct oxr_data_channel *c = find_locked(inst, ev->channel);
    if (c == NULL || ev->size > UINT32_MAX) {
        pthread_mutex_unlock(&inst->lock);
        return;
    }
    while (c->packet_count > 0 &&
           (c->packet_count >= MAX_PACKETS || c->packet_bytes + ev->size > MAX_PACKET_BYTES)) {
        c->packet_bytes -= c->packets[0].size;
        free(c->packets[0].data);
        memmove(&c->packets[0], &c->packets[1], (c->packet_count - 1) * sizeof c->packets[0]);
        c->packet_count--;
    }
    struct oxr_packet *grown = realloc(c->packets, (c->packet_count + 1) * sizeof *grown);
    if (grown == NULL) {
        pthread_mutex_unlock(&inst->lock);
        U_LOG_E(OXR_LOG, "out of memory: a data channel packet was dropped");
        return;
    }
    c->packets = grown;
    /* The event's buffer is taken over instead of copied. */
    c->packets[c->packet_count++] = (struct oxr_packet){ev->packet_id, ev->data, ev->size};
    c->packet_bytes += ev->size;
    ev->data = NULL;
    XrEventDataRemotingDataChannelDataReceivedMSFT out = {
        .type = XR_TYPE_EVENT_DATA_REMOTING_DATA_CHANNEL_DATA_RECEIVED_MSFT,
        .channel = OXR_TO_XR(XrRemotingDataChannelMSFT, &c->base),
        .packetId = ev->packet_id,
        .size = (uint32_t)ev->size,
    };
    pthread_mutex_unlock(&inst->lock);
    oxr_events_push(&inst->events, &out, sizeof out, 0);
}

bool oxr_channels_on_event(struct oxr_instance *inst, struct rr_event *ev)
{
    struct oxr_data_channel *c;
    switch (ev->type) {
    case RR_EVENT_DATA_CHANNEL_CREATED:
        on_created(inst, ev);
        return true;
    case RR_EVENT_DATA_RECEIVED:
        on_received(inst, ev);
        return true;
    case RR_EVENT_DATA_CHANNEL_OPENED: {
        pthread_mutex_lock(&inst->lock);
        c = find_locked(inst, ev->channel);
        pthread_mutex_unlock(&inst->lock);
        if (c != NULL) {
            XrEventDataRemotingDataChannelOpenedMSFT out = {
                .type = XR_TYPE_EVENT_DATA_REMOTING_DATA_CHANNEL_OPENED_MSFT,
                .channel = OXR_TO_XR(XrRemotingDataChannelMSFT, &c->base),
            };
            oxr_events_push(&inst->events, &out, sizeof out, 0);
        }
        return true;
    }
    case RR_EVENT_DATA_CHANNEL_CLOSED: {
        pthread_mutex_lock(&inst->lock);
        c = find_locked(inst, ev->channel);
        if (c != NULL) {
            c->closed = true;
        }
        pthread_mutex_unlock(&inst->lock);
        if (c != NULL) {
            XrEventDataRemotingDataChannelClosedMSFT out = {
                .type = XR_TYPE_EVENT_DATA_REMOTING_DATA_CHANNEL_CLOSED_MSFT,
                .channel = OXR_TO_XR(XrRemotingDataChannelMSFT, &c->base),
                .closedReason = ev->close_reason == RR_CHANNEL_CLOSED_ERROR
                                    ? XR_REMOTING_DATA_CHANNEL_CLOSED_REASON_ERROR_MSFT
                                    : XR_REMOTING_DATA_CHANNEL_CLOSED_REASON_PROTOCOL_MSFT,
            };
            oxr_events_push(&inst->events, &out, sizeof out, 0);
        }
        return true;
    }
    default:
        return false;
    }
}

/* ---- API ------------------------------------------------------------------------------------- */

OXR_API(CreateRemotingDataChannelMSFT,
        (XrInstance instance, XrSystemId systemId,
         const XrRemotingDataChannelCreateInfoMSFT *createInfo, XrRemotingDataChannelMSFT *channel))
{
    struct oxr_instance *inst = oxr_get_instance(instance);
    if (inst == NULL) {
        return XR_ERROR_HANDLE_INVALID;
    }
    if (systemId != OXR_SYSTEM_ID) {
        return XR_ERROR_SYSTEM_INVALID;
    }
    if (createInfo == NULL || createInfo->type != XR_TYPE_REMOTING_DATA_CHANNEL_CREATE_INFO_MSFT ||
        channel == NULL ||
        createInfo->channelPriority > XR_REMOTING_DATA_CHANNEL_PRIORITY_HIGH_MSFT) {
        return XR_ERROR_VALIDATION_FAILURE;
    }
    if (createInfo->channelId > REMOTE_MAX_ID) {
        return XR_ERROR_REMOTING_DATA_CHANNEL_INVALID_ID_MSFT;
    }
    struct rr_data_channel *ch = NULL;
    enum rr_result r = rr_data_channel_create(oxr_conn_context(inst->conn), createInfo->channelId,
                                              (enum rr_priority)createInfo->channelPriority, &ch);
    if (r != RR_OK) {
        return result_from_rr(r);
    }
    struct oxr_data_channel *c = wrap(inst, ch);
    if (c == NULL) {
        rr_data_channel_destroy(&ch);
        return XR_ERROR_OUT_OF_MEMORY;
    }
    *channel = OXR_TO_XR(XrRemotingDataChannelMSFT, &c->base);
    return XR_SUCCESS;
}

OXR_API(DestroyRemotingDataChannelMSFT, (XrRemotingDataChannelMSFT channel))
{
    struct oxr_data_channel *c = get_channel(channel);
    if (c == NULL) {
        return XR_ERROR_HANDLE_INVALID;
    }
    oxr_handle_destroy(&c->base);
    return XR_SUCCESS;
}

OXR_API(GetRemotingDataChannelStateMSFT,
        (XrRemotingDataChannelMSFT channel, XrRemotingDataChannelStateMSFT *state))
{
    struct oxr_data_channel *c = get_channel(channel);
    if (c == NULL) {
        return XR_ERROR_HANDLE_INVALID;
    }
    if (state == NULL || state->type != XR_TYPE_REMOTING_DATA_CHANNEL_STATE_MSFT) {
        return XR_ERROR_VALIDATION_FAILURE;
    }
    size_t queued = 0;
    enum rr_channel_status st = RR_CHANNEL_CLOSED;
    pthread_mutex_lock(&c->inst->lock);
    if (c->ch != NULL) {
        st = rr_data_channel_status(c->ch, &queued);
    }
    pthread_mutex_unlock(&c->inst->lock);
    state->sendQueueSize = queued > UINT32_MAX ? UINT32_MAX : (uint32_t)queued;
    state->connectionStatus = (XrRemotingDataChannelStatusMSFT)st;
    return XR_SUCCESS;
}

OXR_API(SendRemotingDataMSFT,
        (XrRemotingDataChannelMSFT channel, const XrRemotingDataChannelSendDataInfoMSFT *sendInfo))
{
    struct oxr_data_channel *c = get_channel(channel);
    if (c == NULL) {
        return XR_ERROR_HANDLE_INVALID;
    }
    if (sendInfo == NULL || sendInfo->type != XR_TYPE_REMOTING_DATA_CHANNEL_SEND_DATA_INFO_MSFT ||
        (sendInfo->size > 0 && sendInfo->data == NULL)) {
        return XR_ERROR_VALIDATION_FAILURE;
    }
    if (c->ch == NULL) {
        return XR_ERROR_REMOTING_DATA_CHANNEL_CLOSED_MSFT;
    }
    return result_from_rr(rr_data_channel_send(c->ch, sendInfo->data, sendInfo->size,
                                               sendInfo->guaranteedDelivery != XR_FALSE));
}

OXR_API(RetrieveRemotingDataMSFT,
        (XrRemotingDataChannelMSFT channel, uint64_t packetId, uint32_t dataBufferCapacityInput,
         uint32_t *dataBufferCountOutput, uint8_t *dataBuffer))
{
    struct oxr_data_channel *c = get_channel(channel);
    if (c == NULL) {
        return XR_ERROR_HANDLE_INVALID;
    }
    if (dataBufferCountOutput == NULL || (dataBufferCapacityInput > 0 && dataBuffer == NULL)) {
        return XR_ERROR_VALIDATION_FAILURE;
    }
    XrResult xr = XR_ERROR_REMOTING_DATA_CHANNEL_PACKET_EXPIRED_MSFT;
    pthread_mutex_lock(&c->inst->lock);
    for (uint32_t i = 0; i < c->packet_count; i++) {
        struct oxr_packet *p = &c->packets[i];
        if (p->id != packetId) {
            continue;
        }
        *dataBufferCountOutput = (uint32_t)p->size;
        if (dataBufferCapacityInput == 0) {
            xr = XR_SUCCESS; /* the size only; the packet stays */
        } else if (dataBufferCapacityInput < p->size) {
            xr = XR_ERROR_SIZE_INSUFFICIENT;
        } else {
            memcpy(dataBuffer, p->data, p->size);
            c->packet_bytes -= p->size;
            free(p->data);
            memmove(p, p + 1, (c->packet_count - i - 1) * sizeof *p);
            c->packet_count--;
            xr = XR_SUCCESS;
        }
        break;
    }
    pthread_mutex_unlock(&c->inst->lock);
    return xr;
}
