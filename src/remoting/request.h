/* SPDX-License-Identifier: Apache-2.0 */
/*
 * request — the asynchronous request objects of the four security interfaces, and the
 * waker that lets any thread rouse a context's network thread.
 *
 * A request is reference counted: the library holds one reference, the application one (given
 * with the interface call, released by its complete/cancel). Its state changes once, under its
 * own lock, from PENDING to COMPLETED, CANCELED (by the application) or ABANDONED (by the
 * library: disconnect, deadline, destroy); later completions are ignored. The network thread
 * reads the outcome after the waker fires. Worker threads (system validation) use the same
 * object with kind RR_REQ_SYSTEM_VALIDATION.
 */
#ifndef RR_REQUEST_H
#define RR_REQUEST_H

#include "openrr/remoting.h"

#include <pthread.h>
#include <stdatomic.h>

struct rr_waker {
    atomic_int refs;
    pthread_mutex_t lock;
    int fd; /* eventfd; -1 once the context is gone */
};

struct rr_waker *rr_waker_create(void);
void rr_waker_ref(struct rr_waker *w);
void rr_waker_unref(struct rr_waker **w_ptr);
/* Rouse the network thread; harmless when it is gone. Any thread. */
void rr_waker_wake(struct rr_waker *w);
/* Drain pending wake-ups (network thread). */
void rr_waker_drain(struct rr_waker *w);
/* Close the fd so that later wakes do nothing (context destroy). */
void rr_waker_close(struct rr_waker *w);

enum rr_request_kind {
    RR_REQ_CERTIFICATE,
    RR_REQ_TOKEN_VALIDATION,
    RR_REQ_TOKEN,
    RR_REQ_CERT_VALIDATION,
    RR_REQ_SYSTEM_VALIDATION,
};

enum rr_request_state {
    RR_REQ_PENDING,
    RR_REQ_COMPLETED,
    RR_REQ_CANCELED,
    RR_REQ_ABANDONED,
};

struct rr_request {
    atomic_int refs;
    pthread_mutex_t lock;
    enum rr_request_kind kind;
    enum rr_request_state state;
    struct rr_waker *waker;

    /* outcome, written once under lock */
    uint8_t *pfx;
    size_t pfx_size;
    char *subject;
    char *password;
    bool valid;
    char *token;
    struct rr_certificate_validation_result result;
    char detail[160];

    /* inputs owned by the request (validation kinds) */
    uint8_t *chain_blob;
    struct rr_der_certificate *certs;
    struct rr_certificate_chain chain;
    struct rr_certificate_validation_result system_result;
    bool has_system_result;
};

struct rr_certificate_request {
    struct rr_request base;
};
struct rr_token_validation {
    struct rr_request base;
};
struct rr_token_request {
    struct rr_request base;
};
struct rr_certificate_validation {
    struct rr_request base;
};

/* New request with two references (library + application or worker). NULL on OOM. */
struct rr_request *rr_request_create(enum rr_request_kind kind, struct rr_waker *waker);
/* Copy @p chain into the request (validation kinds). false on OOM. */
bool rr_request_set_chain(struct rr_request *req, const struct rr_certificate_chain *chain);
/* Current state under the lock. */
enum rr_request_state rr_request_state(struct rr_request *req);
/* The library gives up on the request (if still pending) and drops its reference. */
void rr_request_abandon(struct rr_request **req_ptr);
void rr_request_unref(struct rr_request *req);
/* Worker-side completion of a system validation. */
void rr_request_complete_system(struct rr_request *req,
                                const struct rr_certificate_validation_result *result,
                                const char *detail);

#endif
