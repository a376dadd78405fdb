/* SPDX-License-Identifier: Apache-2.0 */
/*
 * player_service — openrr-player --session through the SDK. See player_service.h.
 */
#include "player_service.h"

#include "player_msg.h"

#include <openrr/client.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CALL_TIMEOUT_S 60
#define POLL_INTERVAL_MS 2000

struct player_service {
    struct rr_frontend *frontend;
    struct rr_session *session;
};

/* One SDK call's completion, waited for on the main thread. Calls are made one at a time, and
 * the waiter is static: a call that timed out may still complete into it later. */
struct waiter {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool done;
    enum rr_client_result result;
    char message[512];
    struct rr_session_properties props;
};

static struct waiter g_wait = {
    .lock = PTHREAD_MUTEX_INITIALIZER,
    .cond = PTHREAD_COND_INITIALIZER,
};

static struct waiter *waiter_start(void)
{
    pthread_mutex_lock(&g_wait.lock);
    g_wait.done = false;
    g_wait.result = RR_CLIENT_SUCCESS;
    g_wait.message[0] = '\0';
    memset(&g_wait.props, 0, sizeof g_wait.props);
    pthread_mutex_unlock(&g_wait.lock);
    return &g_wait;
}

static void finish(struct waiter *w, enum rr_client_result r,
                   const struct rr_session_properties *p)
{
    pthread_mutex_lock(&w->lock);
    w->result = r;
    snprintf(w->message, sizeof w->message, "%s", rr_client_last_error());
    if (p != NULL) {
        w->props = *p;
    }
    w->done = true;
    pthread_cond_broadcast(&w->cond);
    pthread_mutex_unlock(&w->lock);
}

static void on_props(void *user, enum rr_client_result r, const struct rr_session_properties *p)
{
    finish(user, r, p);
}

static void on_done(void *user, enum rr_client_result r)
{
    finish(user, r, NULL);
}

/* Wait for the call's completion; false on the timeout. */
static bool wait_for(struct waiter *w)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += CALL_TIMEOUT_S;
    pthread_mutex_lock(&w->lock);
    int rc = 0;
    while (!w->done && rc != ETIMEDOUT) {
        rc = pthread_cond_timedwait(&w->cond, &w->lock, &until);
    }
    bool done = w->done;
    pthread_mutex_unlock(&w->lock);
    return done;
}

static void describe(char *err, size_t err_size, const char *what, const struct waiter *w)
{
    snprintf(err, err_size, "%s: %s%s%s", what, rr_client_result_str(w->result),
             w->message[0] ? ": " : "", w->message);
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {.tv_sec = ms / 1000u, .tv_nsec = (long)(ms % 1000u) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* GET the session's properties into @p w. */
static bool get_properties(struct player_service *s, struct waiter *w, char *err, size_t n)
{
    enum rr_client_result r = rr_session_get_properties(s->session, on_props, w);
    if (r != RR_CLIENT_SUCCESS) {
        w->result = r;
        snprintf(w->message, sizeof w->message, "%s", rr_client_last_error());
        describe(err, n, "cannot ask for the session's properties", w);
        return false;
    }
    if (!wait_for(w)) {
        snprintf(err, n, "the service did not answer within %d s", CALL_TIMEOUT_S);
        return false;
    }
    if (w->result != RR_CLIENT_SUCCESS) {
        describe(err, n, "cannot get the session's properties", w);
        return false;
    }
    return true;
}

bool player_service_open(const struct player_service_options *o,
                         struct player_service **out_service, char *err, size_t err_size)
{
    *out_service = NULL;
    const char *key = getenv("OPENRR_ACCOUNT_KEY");
    const char *access = getenv("OPENRR_ACCESS_TOKEN");
    struct rr_account_info info = {
        .account_domain = o->account_domain,
        .account_id = o->account_id,
        .account_key = key != NULL && key[0] != '\0' ? key : NULL,
        .access_token = (key == NULL || key[0] == '\0') ? access : NULL,
        .location = "ignore",
        .service_url = o->service_url,
        .ca_file = o->service_ca,
    };
    struct player_service *s = calloc(1, sizeof *s);
    if (s == NULL) {
        snprintf(err, err_size, "out of memory");
        return false;
    }
    enum rr_client_result r = rr_frontend_create(&info, &s->frontend);
    if (r == RR_CLIENT_SUCCESS) {
        r = rr_frontend_open_session(s->frontend, o->session_id, &s->session);
    }
    if (r != RR_CLIENT_SUCCESS) {
        snprintf(err, err_size, "cannot use the service: %s: %s", rr_client_result_str(r),
                 rr_client_last_error());
        player_service_close(&s);
        return false;
    }
    time_t deadline = time(NULL) + (time_t)o->ready_timeout_s;
    for (bool announced = false;;) {
        struct waiter *w = waiter_start();
        if (!get_properties(s, w, err, err_size)) {
            player_service_close(&s);
            return false;
        }
        enum rr_session_status status = w->props.status;
        char why[sizeof w->props.error_message];
        memcpy(why, w->props.error_message, sizeof why);
        why[sizeof why - 1] = '\0';
        if (status == RR_SESSION_READY) {
            break;
        }
        if (status != RR_SESSION_STARTING) {
            snprintf(err, err_size, "the session '%s' is %s%s%s", o->session_id,
                     rr_session_status_str(status), why[0] ? ": " : "", why);
            player_service_close(&s);
            return false;
        }
        if (time(NULL) >= deadline) {
            snprintf(err, err_size, "the session '%s' is still Starting after %u s",
                     o->session_id, o->ready_timeout_s);
            player_service_close(&s);
            return false;
        }
        if (!announced) {
            player_note("session %s is Starting; waiting for Ready", o->session_id);
            announced = true;
        }
        sleep_ms(POLL_INTERVAL_MS);
    }
    *out_service = s;
    return true;
}

bool player_service_connect(struct player_service *s, struct rr_context *ctx, char *host,
                            size_t host_size, uint16_t *port, char *err, size_t err_size)
{
    struct rr_session_properties p;
    if (rr_session_cached_properties(s->session, &p)) {
        snprintf(host, host_size, "%s", p.hostname);
        *port = p.handshake_port;
    }
    struct waiter *w = waiter_start();
    enum rr_client_result r = rr_session_connect(s->session, ctx, on_done, w);
    if (r != RR_CLIENT_SUCCESS) {
        snprintf(err, err_size, "cannot connect to the session's host: %s: %s",
                 rr_client_result_str(r), rr_client_last_error());
        return false;
    }
    if (!wait_for(w)) {
        snprintf(err, err_size, "the service did not answer within %d s", CALL_TIMEOUT_S);
        return false;
    }
    if (w->result != RR_CLIENT_SUCCESS) {
        describe(err, err_size, "cannot connect to the session's host", w);
        return false;
    }
    return true;
}

void player_service_close(struct player_service **service_ptr)
{
    if (service_ptr == NULL || *service_ptr == NULL) {
        return;
    }
    struct player_service *s = *service_ptr;
    rr_session_release(&s->session);
    rr_frontend_release(&s->frontend);
    free(s);
    *service_ptr = NULL;
}
