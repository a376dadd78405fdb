/* SPDX-License-Identifier: Apache-2.0 */
/* Request objects and the waker. Completion functions run on any application thread. */
#include "request.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

struct rr_waker *rr_waker_create(void)
{
    struct rr_waker *w = calloc(1, sizeof(*w));
    if (w == NULL) {
        return NULL;
    }
    w->fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (w->fd < 0) {
        free(w);
        return NULL;
    }
    atomic_init(&w->refs, 1);
    pthread_mutex_init(&w->lock, NULL);
    return w;
}

void rr_waker_ref(struct rr_waker *w)
{
    atomic_fetch_add(&w->refs, 1);
}

void rr_waker_unref(struct rr_waker **w_ptr)
{
    struct rr_waker *w = *w_ptr;
    *w_ptr = NULL;
    if (w == NULL || atomic_fetch_sub(&w->refs, 1) != 1) {
        return;
    }
    if (w->fd >= 0) {
        close(w->fd);
    }
    pthread_mutex_destroy(&w->lock);
    free(w);
}

void rr_waker_wake(struct rr_waker *w)
{
    pthread_mutex_lock(&w->lock);
    if (w->fd >= 0) {
        uint64_t one = 1;
        ssize_t n = write(w->fd, &one, sizeof(one));
        (void)n; /* EAGAIN means a wake-up is already pending */
    }
    pthread_mutex_unlock(&w->lock);
}

void rr_waker_drain(struct rr_waker *w)
{
    uint64_t v;
    ssize_t n = read(w->fd, &v, sizeof(v));
    (void)n;
}

void rr_waker_close(struct rr_waker *w)
{
    pthread_mutex_lock(&w->lock);
    if (w->fd >= 0) {
        close(w->fd);
        w->fd = -1;
    }
    pthread_mutex_unlock(&w->lock);
}

struct rr_request *rr_request_create(enum rr_request_kind kind, struct rr_waker *waker)
{
    /* Every public request type is a struct holding only the base, so one size fits. */
    struct rr_request *r = calloc(1, sizeof(*r));
    if (r == NULL) {
        return NULL;
    }
    atomic_init(&r->refs, 2);
    pthread_mutex_init(&r->lock, NULL);
    r->kind = kind;
    r->state = RR_REQ_PENDING;
    r->waker = waker;
    rr_waker_ref(waker);
    return r;
}

bool rr_request_set_chain(struct rr_request *req, const struct rr_certificate_chain *chain)
{
    size_t total = 0;
    for (size_t i = 0; i < chain->count; i++) {
        total += chain->certificates[i].size;
    }
    req->chain_blob = malloc(total ? total : 1);
    req->certs = calloc(chain->count ? chain->count : 1, sizeof(*req->certs));
    if (req->chain_blob == NULL || req->certs == NULL) {
        return false;
    }
    size_t off = 0;
    for (size_t i = 0; i < chain->count; i++) {
        memcpy(req->chain_blob + off, chain->certificates[i].data, chain->certificates[i].size);
        req->certs[i].data = req->chain_blob + off;
        req->certs[i].size = chain->certificates[i].size;
        off += chain->certificates[i].size;
    }
    req->chain.count = chain->count;
    req->chain.certificates = req->certs;
    return true;
}

enum rr_request_state rr_request_state(struct rr_request *req)
{
    pthread_mutex_lock(&req->lock);
    enum rr_request_state s = req->state;
    pthread_mutex_unlock(&req->lock);
    return s;
}

static void wipe_free(char *s)
{
    if (s != NULL) {
        OPENSSL_cleanse(s, strlen(s));
        free(s);
    }
}

void rr_request_unref(struct rr_request *req)
{
    if (req == NULL || atomic_fetch_sub(&req->refs, 1) != 1) {
        return;
    }
    if (req->pfx != NULL) {
        OPENSSL_cleanse(req->pfx, req->pfx_size);
        free(req->pfx);
    }
    free(req->subject);
    wipe_free(req->password);
    wipe_free(req->token);
    free(req->chain_blob);
    free(req->certs);
    rr_waker_unref(&req->waker);
    pthread_mutex_destroy(&req->lock);
    free(req);
}

void rr_request_abandon(struct rr_request **req_ptr)
{
    struct rr_request *req = *req_ptr;
    *req_ptr = NULL;
    if (req == NULL) {
        return;
    }
    pthread_mutex_lock(&req->lock);
    if (req->state == RR_REQ_PENDING) {
        req->state = RR_REQ_ABANDONED;
    }
    pthread_mutex_unlock(&req->lock);
    rr_request_unref(req);
}

/* Move a pending request to @p state; returns false (and changes nothing) otherwise.
 * Called with req->lock held. */
static bool settle_locked(struct rr_request *req, enum rr_request_kind kind,
                          enum rr_request_state state)
{
    if (req->kind != kind || req->state != RR_REQ_PENDING) {
        return false;
    }
    req->state = state;
    return true;
}

/* Wake the network thread and drop the caller's (application's) reference. */
static void finish(struct rr_request *req)
{
    rr_waker_wake(req->waker);
    rr_request_unref(req);
}

static char *dup_or_empty(const char *s)
{
    return strdup(s != NULL ? s : "");
}

void rr_certificate_request_complete(struct rr_certificate_request *creq, const void *pfx,
                                     size_t pfx_size, const char *subject_name,
                                     const char *password)
{
    if (creq == NULL) {
        return;
    }
    struct rr_request *req = &creq->base;
    pthread_mutex_lock(&req->lock);
    if (settle_locked(req, RR_REQ_CERTIFICATE, RR_REQ_COMPLETED)) {
        req->pfx = malloc(pfx_size ? pfx_size : 1);
        req->subject = dup_or_empty(subject_name);
        req->password = dup_or_empty(password);
        if (req->pfx != NULL && pfx != NULL) {
            memcpy(req->pfx, pfx, pfx_size);
            req->pfx_size = pfx_size;
        }
        /* A failed copy is reported as no certificate by the network thread. */
    }
    pthread_mutex_unlock(&req->lock);
    finish(req);
}

static void cancel(struct rr_request *req, enum rr_request_kind kind)
{
    pthread_mutex_lock(&req->lock);
    settle_locked(req, kind, RR_REQ_CANCELED);
    pthread_mutex_unlock(&req->lock);
    finish(req);
}

void rr_certificate_request_cancel(struct rr_certificate_request *req)
{
    if (req != NULL) {
        cancel(&req->base, RR_REQ_CERTIFICATE);
    }
}

void rr_token_validation_complete(struct rr_token_validation *treq, bool valid)
{
    if (treq == NULL) {
        return;
    }
    struct rr_request *req = &treq->base;
    pthread_mutex_lock(&req->lock);
    if (settle_locked(req, RR_REQ_TOKEN_VALIDATION, RR_REQ_COMPLETED)) {
        req->valid = valid;
    }
    pthread_mutex_unlock(&req->lock);
    finish(req);
}

void rr_token_validation_cancel(struct rr_token_validation *req)
{
    if (req != NULL) {
        cancel(&req->base, RR_REQ_TOKEN_VALIDATION);
    }
}

void rr_token_request_complete(struct rr_token_request *treq, const char *token)
{
    if (treq == NULL) {
        return;
    }
    struct rr_request *req = &treq->base;
    pthread_mutex_lock(&req->lock);
    if (settle_locked(req, RR_REQ_TOKEN, RR_REQ_COMPLETED)) {
        /* Copy at most one byte past the limit: enough to tell "too long". */
        req->token = token != NULL ? strndup(token, RR_MAX_TOKEN_SIZE + 1) : NULL;
    }
    pthread_mutex_unlock(&req->lock);
    finish(req);
}

void rr_token_request_cancel(struct rr_token_request *req)
{
    if (req != NULL) {
        cancel(&req->base, RR_REQ_TOKEN);
    }
}

void rr_certificate_validation_complete(struct rr_certificate_validation *vreq,
                                        const struct rr_certificate_validation_result *result)
{
    if (vreq == NULL) {
        return;
    }
    struct rr_request *req = &vreq->base;
    pthread_mutex_lock(&req->lock);
    if (settle_locked(req, RR_REQ_CERT_VALIDATION, RR_REQ_COMPLETED)) {
        if (result != NULL) {
            req->result = *result;
        } else {
            /* No verdict is a rejection. */
            memset(&req->result, 0, sizeof(req->result));
            req->result.invalid_cert_or_chain = true;
        }
    }
    pthread_mutex_unlock(&req->lock);
    finish(req);
}

void rr_certificate_validation_cancel(struct rr_certificate_validation *req)
{
    if (req != NULL) {
        cancel(&req->base, RR_REQ_CERT_VALIDATION);
    }
}

void rr_request_complete_system(struct rr_request *req,
                                const struct rr_certificate_validation_result *result,
                                const char *detail)
{
    pthread_mutex_lock(&req->lock);
    if (settle_locked(req, RR_REQ_SYSTEM_VALIDATION, RR_REQ_COMPLETED)) {
        req->result = *result;
        snprintf(req->detail, sizeof(req->detail), "%s", detail != NULL ? detail : "");
    }
    pthread_mutex_unlock(&req->lock);
    finish(req);
}
