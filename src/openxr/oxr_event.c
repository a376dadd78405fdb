/* SPDX-License-Identifier: Apache-2.0 */
/*
 * oxr_event — the bounded event ring (see oxr_event.h).
 *
 * Threads: any; one lock.
 */
#include "oxr_event.h"

#include <string.h>

void oxr_events_init(struct oxr_event_queue *q)
{
    memset(q, 0, sizeof *q);
    pthread_mutex_init(&q->lock, NULL);
}

void oxr_events_fini(struct oxr_event_queue *q)
{
    pthread_mutex_destroy(&q->lock);
}

void oxr_events_push(struct oxr_event_queue *q, const void *ev, size_t size, uint64_t session_id)
{
    if (size > sizeof(XrEventDataBuffer)) {
        size = sizeof(XrEventDataBuffer);
    }
    pthread_mutex_lock(&q->lock);
    if (q->count == OXR_EVENT_CAPACITY) {
        q->head = (q->head + 1) % OXR_EVENT_CAPACITY;
        q->count--;
        q->lost++;
    }
    uint32_t at = (q->head + q->count) % OXR_EVENT_CAPACITY;
    memset(&q->ring[at], 0, sizeof q->ring[at]);
    memcpy(&q->ring[at], ev, size);
    q->ring[at].next = NULL;
    q->session[at] = session_id;
    q->count++;
    pthread_mutex_unlock(&q->lock);
}

bool oxr_events_pop(struct oxr_event_queue *q, XrEventDataBuffer *out)
{
    bool got = false;
    pthread_mutex_lock(&q->lock);
    if (q->lost > 0) {
        XrEventDataEventsLost lost = {.type = XR_TYPE_EVENT_DATA_EVENTS_LOST,
                                      .lostEventCount = q->lost};
        memset(out, 0, sizeof *out);
        memcpy(out, &lost, sizeof lost);
        q->lost = 0;
        got = true;
    } else if (q->count > 0) {
        *out = q->ring[q->head];
        q->head = (q->head + 1) % OXR_EVENT_CAPACITY;
        q->count--;
        got = true;
    }
    pthread_mutex_unlock(&q->lock);
    return got;
}

void oxr_events_forget_session(struct oxr_event_queue *q, uint64_t session_id)
{
    pthread_mutex_lock(&q->lock);
    uint32_t kept = 0;
    for (uint32_t i = 0; i < q->count; i++) {
        uint32_t from = (q->head + i) % OXR_EVENT_CAPACITY;
        if (q->session[from] == session_id) {
            continue;
        }
        uint32_t to = (q->head + kept) % OXR_EVENT_CAPACITY;
        if (to != from) {
            q->ring[to] = q->ring[from];
            q->session[to] = q->session[from];
        }
        kept++;
    }
    q->count = kept;
    pthread_mutex_unlock(&q->lock);
}
