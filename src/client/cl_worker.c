/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cl_worker — a frontend's background thread: it runs every call and every completion of the
 * frontend and its sessions, one at a time, in the order they were made (the seed: "all async
 * calls are completed in a background thread").
 *
 * Lifetime: the frontend counts references (the caller's and one per session object). When
 * the last one goes, the running request is aborted, queued jobs complete with NO_CONNECTION
 * and the thread ends: joined when that happens on another thread, or — when the last
 * reference is dropped inside a callback on the worker itself — the worker frees the frontend
 * after that callback returned and its thread detaches.
 *
 * Threads: submit/unref from any thread; the loop on the worker.
 */
#include "cl_internal.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void *cl_job_new(size_t size, struct rr_frontend *fe, const struct cl_job_ops *ops, void *user)
{
    struct cl_job *job = calloc(1, size);
    if (job == NULL) {
        return NULL;
    }
    job->fe = fe;
    job->ops = ops;
    job->user = user;
    job->result = RR_CLIENT_SUCCESS;
    return job;
}

static void job_free(struct cl_job *job)
{
    if (job->ops->fini != NULL) {
        job->ops->fini(job);
    }
    struct rr_session *s = job->session;
    free(job);
    if (s != NULL) {
        cl_session_unref(s);
    }
}

bool cl_on_worker(const struct rr_frontend *fe)
{
    return pthread_equal(pthread_self(), fe->thread) != 0;
}

/* Deliver one finished job: the busy bit goes first, so that its callback may start the
 * same kind of call again. */
static void finish(struct rr_frontend *fe, struct cl_job *job)
{
    cl_frontend_note_result(fe, job);
    cl_thread_uses(fe);
    if (job->session != NULL && job->busy != CL_BUSY_NONE) {
        cl_session_release_bit(job->session, job->busy);
    }
    job->ops->deliver(job);
    job_free(job);
}

static void cancel_job(struct rr_frontend *fe, struct cl_job *job)
{
    job->result = RR_CLIENT_NO_CONNECTION;
    snprintf(job->message, sizeof(job->message), "cancelled: the frontend was released");
    finish(fe, job);
}

static void *worker_main(void *arg)
{
    struct rr_frontend *fe = arg;
    /* A peer that closes mid-write must end the request (EPIPE), not the application. */
    sigset_t pipe_set;
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_set, NULL);
    pthread_mutex_lock(&fe->lock);
    for (;;) {
        while (fe->head == NULL && !fe->dying) {
            pthread_cond_wait(&fe->cond, &fe->lock);
        }
        struct cl_job *job = fe->head;
        if (job == NULL) {
            break; /* dying, nothing left */
        }
        fe->head = job->next;
        if (fe->head == NULL) {
            fe->tail = NULL;
        }
        bool dying = fe->dying;
        pthread_mutex_unlock(&fe->lock);
        if (dying) {
            cancel_job(fe, job);
        } else {
            job->ops->run(job);
            finish(fe, job);
        }
        pthread_mutex_lock(&fe->lock);
    }
    pthread_mutex_unlock(&fe->lock);
    if (fe->self_free) {
        pthread_detach(pthread_self());
        cl_frontend_free(fe);
    }
    return NULL;
}

bool cl_worker_start(struct rr_frontend *fe)
{
    return pthread_create(&fe->thread, NULL, worker_main, fe) == 0;
}

bool cl_worker_submit(struct rr_frontend *fe, struct cl_job *job)
{
    pthread_mutex_lock(&fe->lock);
    if (fe->dying) {
        pthread_mutex_unlock(&fe->lock);
        job_free(job);
        return false;
    }
    job->next = NULL;
    if (fe->tail != NULL) {
        fe->tail->next = job;
    } else {
        fe->head = job;
    }
    fe->tail = job;
    pthread_cond_signal(&fe->cond);
    pthread_mutex_unlock(&fe->lock);
    return true;
}

bool cl_frontend_try_ref(struct rr_frontend *fe)
{
    pthread_mutex_lock(&fe->lock);
    bool ok = !fe->dying && fe->refs > 0;
    if (ok) {
        fe->refs++;
    }
    pthread_mutex_unlock(&fe->lock);
    return ok;
}

void cl_frontend_unref(struct rr_frontend *fe)
{
    pthread_mutex_lock(&fe->lock);
    if (--fe->refs > 0) {
        pthread_mutex_unlock(&fe->lock);
        return;
    }
    fe->dying = true;
    atomic_store(&fe->cancel, true);
    pthread_cond_broadcast(&fe->cond);
    pthread_mutex_unlock(&fe->lock);
    if (cl_on_worker(fe)) {
        /* Inside a callback on the worker, which cannot join itself: the loop cancels what
         * is queued once this callback returned, then frees the frontend and detaches. */
        fe->self_free = true;
        return;
    }
    pthread_join(fe->thread, NULL);
    cl_frontend_free(fe);
}
