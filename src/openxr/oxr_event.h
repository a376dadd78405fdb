/* SPDX-License-Identifier: Apache-2.0 */
/*
 * oxr_event — the instance's event queue behind xrPollEvent: session state changes, and the
 * remoting extension's events. A bounded ring; when it overflows the oldest events are dropped
 * and an XrEventDataEventsLost reports how many.
 *
 * Threads: any; one lock.
 */
#ifndef OXR_EVENT_H
#define OXR_EVENT_H

#include <openxr/openxr.h>

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#define OXR_EVENT_CAPACITY 64

struct oxr_event_queue {
    pthread_mutex_t lock;
    XrEventDataBuffer ring[OXR_EVENT_CAPACITY];
    uint64_t session[OXR_EVENT_CAPACITY]; /* the session handle an event is about, or 0 */
    uint32_t head;
    uint32_t count;
    uint32_t lost;
};

void oxr_events_init(struct oxr_event_queue *q);
void oxr_events_fini(struct oxr_event_queue *q);

/* Queue @p size bytes of event @p ev (a struct starting with type and next; at most
 * sizeof(XrEventDataBuffer)), about @p session_id (0: not about a session). */
void oxr_events_push(struct oxr_event_queue *q, const void *ev, size_t size, uint64_t session_id);
/* Take the oldest into @p out. false when empty. */
bool oxr_events_pop(struct oxr_event_queue *q, XrEventDataBuffer *out);
/* Drop the events about a destroyed session. */
void oxr_events_forget_session(struct oxr_event_queue *q, uint64_t session_id);

#endif
