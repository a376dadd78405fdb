/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cl_results — names of results and statuses, the HTTP status → result table (docs/client.md),
 * rr_client_last_error's bookkeeping, and the small string helpers of the SDK.
 *
 * Threads: any. The registry of live frontends (for rr_client_last_error) has its own lock;
 * each thread's message is thread-local.
 */
#include "cl_internal.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const g_result_names[RR_CLIENT_RESULT_COUNT] = {
    [RR_CLIENT_SUCCESS] = "Success",
    [RR_CLIENT_ALREADY_EXISTS] = "AlreadyExists",
    [RR_CLIENT_ALREADY_CONNECTED] = "AlreadyConnected",
    [RR_CLIENT_IN_PROGRESS] = "InProgress",
    [RR_CLIENT_OTHER_SESSION_CONNECTED] = "OtherSessionConnected",
    [RR_CLIENT_NO_CONNECTION] = "NoConnection",
    [RR_CLIENT_INVALID_PARAM] = "InvalidParam",
    [RR_CLIENT_SESSION_NOT_FOUND] = "SessionNotFound",
    [RR_CLIENT_AUTHENTICATION_FAILED] = "AuthenticationFailed",
    [RR_CLIENT_NOT_INITIALIZED] = "NotInitialized",
    [RR_CLIENT_TOO_MANY_REQUESTS] = "TooManyRequests",
    [RR_CLIENT_CONNECTION_LOST] = "ConnectionLost",
    [RR_CLIENT_TRANSPORT_PORT_BUSY] = "TransportPortBusy",
    [RR_CLIENT_VIDEO_FORMAT_NOT_AVAILABLE] = "VideoFormatNotAvailable",
    [RR_CLIENT_API_UNAVAILABLE] = "ApiUnavailable",
    [RR_CLIENT_OUT_OF_MEMORY] = "OutOfMemory",
    [RR_CLIENT_IO] = "IoError",
};

const char *rr_client_result_str(enum rr_client_result r)
{
    if ((unsigned)r >= RR_CLIENT_RESULT_COUNT) {
        return "Unknown";
    }
    return g_result_names[r];
}

const char *rr_conversion_status_str(enum rr_conversion_status s)
{
    switch (s) {
    case RR_CONVERSION_NOT_STARTED:
        return "NotStarted";
    case RR_CONVERSION_RUNNING:
        return "Running";
    case RR_CONVERSION_CANCELLED:
        return "Cancelled";
    case RR_CONVERSION_FAILED:
        return "Failed";
    case RR_CONVERSION_SUCCEEDED:
        return "Succeeded";
    }
    return "Unknown";
}

const char *rr_session_status_str(enum rr_session_status s)
{
    switch (s) {
    case RR_SESSION_STARTING:
        return "Starting";
    case RR_SESSION_READY:
        return "Ready";
    case RR_SESSION_STOPPED:
        return "Stopped";
    case RR_SESSION_EXPIRED:
        return "Expired";
    case RR_SESSION_ERROR:
        return "Error";
    }
    return "Unknown";
}

/* docs/client.md, "HTTP status → result": keep the two in step. */
enum rr_client_result cl_result_of_status(long status)
{
    if (status >= 200 && status < 300) {
        return RR_CLIENT_SUCCESS;
    }
    switch (status) {
    case 400:
    case 409:
    case 413:
    case 422:
        return RR_CLIENT_INVALID_PARAM;
    case 401:
    case 403:
        return RR_CLIENT_AUTHENTICATION_FAILED;
    case 404:
        return RR_CLIENT_SESSION_NOT_FOUND;
    case 429:
        return RR_CLIENT_TOO_MANY_REQUESTS;
    default:
        /* 5xx, redirects, 405 and whatever else: not the API this SDK speaks, or not now. */
        return RR_CLIENT_API_UNAVAILABLE;
    }
}

static void vfmt(char *out, size_t size, const char *fmt, va_list ap)
{
    int n = vsnprintf(out, size, fmt, ap);
    if (n < 0) {
        out[0] = '\0';
    }
}

void cl_job_fail(struct cl_job *job, enum rr_client_result result, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfmt(job->message, sizeof(job->message), fmt, ap);
    va_end(ap);
    job->result = result;
}

void cl_message_of_response(struct cl_job *job, const struct cl_http_response *r)
{
    char code[64], message[384];
    cl_json_error(r->body, r->size, code, sizeof(code), message, sizeof(message));
    const char *reason = cl_http_reason(r->status);
    char head[96];
    snprintf(head, sizeof(head), "HTTP %ld%s%s", r->status, reason[0] ? " " : "", reason);
    if (code[0] != '\0' && strcmp(code, reason) != 0) {
        size_t n = strlen(head);
        snprintf(head + n, sizeof(head) - n, " (%s)", code);
    }
    if (r->status == 429 && r->retry_after >= 0) {
        snprintf(job->message, sizeof(job->message), "%s%s%s (retry after %ld s)", head,
                 message[0] ? ": " : "", message, r->retry_after);
    } else {
        snprintf(job->message, sizeof(job->message), "%s%s%s", head, message[0] ? ": " : "",
                 message);
    }
}

/* ---- rr_client_last_error -------------------------------------------------------------------- */

/* The frontends alive, by serial, so that a thread can ask for the message of one it used
 * without touching freed memory. A short list: a process has a few frontends. */
static pthread_mutex_t g_reg_lock = PTHREAD_MUTEX_INITIALIZER;
static struct rr_frontend **g_reg;
static size_t g_reg_count, g_reg_cap;
static uint64_t g_next_serial = 1;

static _Thread_local uint64_t tl_serial;           /* the frontend of this thread's last call */
static _Thread_local char tl_own[CL_MESSAGE_SIZE]; /* a failure of the call itself */
static _Thread_local char tl_out[CL_MESSAGE_SIZE]; /* what rr_client_last_error returned */

uint64_t cl_frontend_register(struct rr_frontend *fe)
{
    pthread_mutex_lock(&g_reg_lock);
    uint64_t serial = 0;
    if (g_reg_count == g_reg_cap) {
        size_t cap = g_reg_cap ? g_reg_cap * 2 : 8;
        struct rr_frontend **reg = realloc(g_reg, cap * sizeof(*reg));
        if (reg == NULL) {
            pthread_mutex_unlock(&g_reg_lock);
            return 0;
        }
        g_reg = reg;
        g_reg_cap = cap;
    }
    g_reg[g_reg_count++] = fe;
    serial = g_next_serial++;
    pthread_mutex_unlock(&g_reg_lock);
    return serial;
}

void cl_frontend_unregister(struct rr_frontend *fe)
{
    pthread_mutex_lock(&g_reg_lock);
    for (size_t i = 0; i < g_reg_count; i++) {
        if (g_reg[i] == fe) {
            g_reg[i] = g_reg[--g_reg_count];
            break;
        }
    }
    if (g_reg_count == 0) {
        /* The last one gone: give the memory back (leak checkers see no leftover). */
        free(g_reg);
        g_reg = NULL;
        g_reg_cap = 0;
    }
    pthread_mutex_unlock(&g_reg_lock);
}

void cl_set_thread_error(uint64_t serial, const char *fmt, ...)
{
    tl_serial = serial;
    va_list ap;
    va_start(ap, fmt);
    vfmt(tl_own, sizeof(tl_own), fmt, ap);
    va_end(ap);
}

void cl_thread_uses(const struct rr_frontend *fe)
{
    tl_serial = fe != NULL ? fe->serial : 0;
    tl_own[0] = '\0';
}

void cl_frontend_note_result(struct rr_frontend *fe, const struct cl_job *job)
{
    pthread_mutex_lock(&fe->lock);
    if (job->result == RR_CLIENT_SUCCESS) {
        fe->last_error[0] = '\0';
    } else if (job->message[0] != '\0') {
        snprintf(fe->last_error, sizeof(fe->last_error), "%s", job->message);
    } else {
        snprintf(fe->last_error, sizeof(fe->last_error), "%s", rr_client_result_str(job->result));
    }
    pthread_mutex_unlock(&fe->lock);
}

const char *rr_client_last_error(void)
{
    if (tl_own[0] != '\0') {
        snprintf(tl_out, sizeof(tl_out), "%s", tl_own);
        return tl_out;
    }
    tl_out[0] = '\0';
    if (tl_serial == 0) {
        return tl_out;
    }
    pthread_mutex_lock(&g_reg_lock);
    for (size_t i = 0; i < g_reg_count; i++) {
        struct rr_frontend *fe = g_reg[i];
        if (fe->serial == tl_serial) {
            pthread_mutex_lock(&fe->lock);
            snprintf(tl_out, sizeof(tl_out), "%s", fe->last_error);
            pthread_mutex_unlock(&fe->lock);
            break;
        }
    }
    pthread_mutex_unlock(&g_reg_lock);
    return tl_out;
}

/* ---- helpers --------------------------------------------------------------------------------- */

bool cl_id_ok(const char *id)
{
    if (id == NULL) {
        return false;
    }
    size_t n = strnlen(id, CL_ID_MAX + 1);
    if (n == 0 || n > CL_ID_MAX) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        char c = id[i];
        bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '_';
        if (!ok) {
            return false;
        }
    }
    return true;
}

bool cl_random_id(char out[37])
{
    uint8_t b[16];
    if (RAND_bytes(b, sizeof(b)) != 1) {
        return false;
    }
    b[6] = (uint8_t)((b[6] & 0x0f) | 0x40);
    b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
             b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
             b[14], b[15]);
    return true;
}

char *cl_strdup(const char *s, bool *ok)
{
    if (s == NULL) {
        return NULL;
    }
    char *d = strdup(s);
    if (d == NULL) {
        *ok = false;
    }
    return d;
}

void cl_free_secret(char *s)
{
    if (s != NULL) {
        OPENSSL_cleanse(s, strlen(s));
        free(s);
    }
}

bool cl_fmt(char *out, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(out, size, fmt, ap);
    va_end(ap);
    return n >= 0 && (size_t)n < size;
}
