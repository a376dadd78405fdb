/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fe_api_sessions — the session routes of the REST API (docs/openrrd.md "Sessions"): create
 * (idempotent retry, max_sessions), get, PATCH of the lease, :stop and the list of active
 * sessions. The session manager launches, watches and ends hosts; here sessions are recorded
 * and the manager is woken. HTTP pool threads.
 */
#include "fe_api_internal.h"

#include "fe_sessions.h"

#include <openssl/crypto.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define MAX_LEASE_MINUTES 1440

static bool ended(enum fe_session_status s)
{
    return s != FE_SESSION_STARTING && s != FE_SESSION_READY;
}

/* Session records carry the inspector's token: wipe them before they are freed. */
static void free_sessions(struct fe_session_record *recs, size_t n)
{
    if (recs != NULL) {
        OPENSSL_cleanse(recs, n * sizeof *recs);
        free(recs);
    }
}

static json_t *session_json(const struct fe_session_record *rec, int64_t now)
{
    char created[40];
    api_iso_time(rec->created, created, sizeof created);
    long long elapsed = 0;
    if (rec->ready_at > 0) {
        int64_t end = rec->ended_at > 0 ? rec->ended_at : now;
        elapsed = end > rec->ready_at ? (end - rec->ready_at) / 60 : 0;
    }
    json_t *error = json_null();
    if (rec->error_code[0] != '\0') {
        error = json_pack("{s:s,s:s}", "code", rec->error_code, "message", rec->error_message);
    }
    json_t *o = json_pack(
        "{s:s,s:s,s:s,s:I,s:i,s:i,s:o,s:s}", "id", rec->id, "size", fe_session_size_str(rec->size),
        "status", fe_session_status_str(rec->status), "elapsedTimeMinutes", (json_int_t)elapsed,
        "maxLeaseTimeMinutes", rec->max_lease_minutes, "teraflops", 0, "error",
        error != NULL ? error : json_null(), "creationTime", created);
    if (o == NULL) {
        return NULL;
    }
    if (rec->hostname[0] != '\0' && rec->handshake_port > 0) {
        json_object_set_new(o, "hostname", json_string(rec->hostname));
        json_object_set_new(o, "handshakePort", json_integer(rec->handshake_port));
    }
    if (rec->status == FE_SESSION_READY && rec->inspector_port > 0) {
        json_object_set_new(o, "arrInspectorPort", json_integer(rec->inspector_port));
    }
    return o;
}

static void answer_session(struct fe_http_response *resp, unsigned status,
                           const struct fe_session_record *rec)
{
    json_t *o = session_json(rec, (int64_t)time(NULL));
    fe_http_set_json(resp, status, o);
    json_decref(o);
    if (rec->status == FE_SESSION_STARTING) {
        fe_http_add_header(resp, "Retry-After", "2");
    }
}

/* maxLeaseTimeMinutes: a whole number 1 … 1440. false: 400 answered. */
static bool lease_member(json_t *body, struct fe_http_response *resp, int *out)
{
    json_t *v = json_object_get(body, "maxLeaseTimeMinutes");
    if (v == NULL || json_is_null(v)) {
        fe_http_set_error(resp, 400, "InvalidArgument", "maxLeaseTimeMinutes is required",
                          "maxLeaseTimeMinutes");
        return false;
    }
    if (!json_is_integer(v)) {
        fe_http_set_error(resp, 400, "InvalidArgument",
                          "maxLeaseTimeMinutes must be a whole number", "maxLeaseTimeMinutes");
        return false;
    }
    json_int_t n = json_integer_value(v);
    if (n < 1 || n > MAX_LEASE_MINUTES) {
        fe_http_set_error(resp, 400, "InvalidArgument",
                          "maxLeaseTimeMinutes must be between 1 and 1440", "maxLeaseTimeMinutes");
        return false;
    }
    *out = (int)n;
    return true;
}

static bool size_member(json_t *body, struct fe_http_response *resp, enum fe_session_size *out)
{
    json_t *v = json_object_get(body, "size");
    if (v == NULL || json_is_null(v)) {
        fe_http_set_error(resp, 400, "InvalidArgument", "size is required", "size");
        return false;
    }
    if (!json_is_string(v)) {
        fe_http_set_error(resp, 400, "InvalidArgument", "size must be a string", "size");
        return false;
    }
    if (strcasecmp(json_string_value(v), "Standard") == 0) {
        *out = FE_SIZE_STANDARD;
    } else if (strcasecmp(json_string_value(v), "Premium") == 0) {
        *out = FE_SIZE_PREMIUM;
    } else {
        fe_http_set_error(resp, 400, "InvalidArgument", "size must be Standard or Premium", "size");
        return false;
    }
    return true;
}

static void answer_existing(struct fe_http_response *resp, const struct fe_session_record *want,
                            const struct fe_session_record *existing)
{
    if (existing->size == want->size &&
        existing->create_lease_minutes == want->create_lease_minutes) {
        answer_session(resp, 200, existing);
    } else {
        fe_http_set_error(resp, 409, "Conflict",
                          "a session with this id exists with other settings", NULL);
    }
}

void api_session_put(struct fe_api *api, const struct fe_http_request *req,
                     struct fe_http_response *resp, const char *account, const char *id)
{
    if (!api_rest_prelude(api, req, resp, account, false) || !api_check_id(resp, id, "sessionId")) {
        return;
    }
    json_t *body = NULL;
    if (!api_parse_body(req, resp, &body)) {
        return;
    }
    struct fe_session_record rec;
    memset(&rec, 0, sizeof rec);
    bool ok =
        lease_member(body, resp, &rec.create_lease_minutes) && size_member(body, resp, &rec.size);
    json_decref(body);
    if (!ok) {
        return;
    }
    snprintf(rec.account_id, sizeof rec.account_id, "%s", account);
    snprintf(rec.id, sizeof rec.id, "%s", id);
    rec.max_lease_minutes = rec.create_lease_minutes;
    rec.status = FE_SESSION_STARTING;
    rec.created = (int64_t)time(NULL);
    snprintf(rec.backend, sizeof rec.backend, "local");

    struct fe_store *st = api->d.store;
    struct fe_session_record *existing = calloc(1, sizeof *existing);
    if (existing == NULL) {
        fe_http_set_error(resp, 500, "InternalError", "out of memory", NULL);
        return;
    }
    bool created = false;
    /* The count of active sessions and the create are one step: of concurrent creates only as
     * many as max_sessions allows get through. */
    pthread_mutex_lock(&api->session_lock);
    enum fe_store_result r = st->session_get(st, account, id, existing);
    if (r == FE_STORE_OK) {
        answer_existing(resp, &rec, existing);
    } else if (r != FE_STORE_NOT_FOUND) {
        api_store_error(resp, r, "session_get");
    } else {
        struct fe_session_record *active = NULL;
        size_t n = 0;
        r = st->session_list_active(st, &active, &n);
        free_sessions(active, n);
        if (r != FE_STORE_OK) {
            api_store_error(resp, r, "session_list_active");
        } else if (n >= api->d.cfg->max_sessions) {
            api_too_many(resp, 30, "the server runs as many sessions as it may (max_sessions)");
        } else {
            char err[256] = "";
            r = st->session_create(st, &rec, existing, err, sizeof err);
            if (r == FE_STORE_OK) {
                created = true;
                answer_session(resp, 201, &rec);
            } else if (r == FE_STORE_EXISTS) {
                answer_existing(resp, &rec, existing);
            } else {
                api_store_error(resp, r, "session_create");
            }
        }
    }
    pthread_mutex_unlock(&api->session_lock);
    free_sessions(existing, 1);
    if (created && api->d.sessions != NULL) {
        fe_session_mgr_wake(api->d.sessions);
    }
}

void api_session_get(struct fe_api *api, const struct fe_http_request *req,
                     struct fe_http_response *resp, const char *account, const char *id)
{
    if (!api_rest_prelude(api, req, resp, account, false) || !api_check_id(resp, id, "sessionId")) {
        return;
    }
    struct fe_session_record *rec = calloc(1, sizeof *rec);
    if (rec == NULL) {
        fe_http_set_error(resp, 500, "InternalError", "out of memory", NULL);
        return;
    }
    enum fe_store_result r = api->d.store->session_get(api->d.store, account, id, rec);
    if (r == FE_STORE_OK) {
        answer_session(resp, 200, rec);
    } else if (r == FE_STORE_NOT_FOUND) {
        fe_http_set_error(resp, 404, "NotFound", "no session with this id", NULL);
    } else {
        api_store_error(resp, r, "session_get");
    }
    free_sessions(rec, 1);
}

void api_session_patch(struct fe_api *api, const struct fe_http_request *req,
                       struct fe_http_response *resp, const char *account, const char *id)
{
    if (!api_rest_prelude(api, req, resp, account, false) || !api_check_id(resp, id, "sessionId")) {
        return;
    }
    json_t *body = NULL;
    if (!api_parse_body(req, resp, &body)) {
        return;
    }
    int lease = 0;
    bool ok = lease_member(body, resp, &lease);
    json_decref(body);
    if (!ok) {
        return;
    }
    struct fe_store *st = api->d.store;
    struct fe_session_record *rec = calloc(1, sizeof *rec);
    if (rec == NULL) {
        fe_http_set_error(resp, 500, "InternalError", "out of memory", NULL);
        return;
    }
    /* The manager may change the record meanwhile (Starting → Ready): read, check, write
     * conditionally, and read again when it changed. */
    for (int attempt = 0;; attempt++) {
        enum fe_store_result r = st->session_get(st, account, id, rec);
        if (r == FE_STORE_NOT_FOUND) {
            fe_http_set_error(resp, 404, "NotFound", "no session with this id", NULL);
            break;
        }
        if (r != FE_STORE_OK) {
            api_store_error(resp, r, "session_get");
            break;
        }
        if (ended(rec->status)) {
            fe_http_set_error(resp, 409, "Conflict", "the session has ended", NULL);
            break;
        }
        if (lease <= rec->max_lease_minutes) {
            char msg[160];
            snprintf(msg, sizeof msg,
                     "maxLeaseTimeMinutes must be larger than the current lease (%d)",
                     rec->max_lease_minutes);
            fe_http_set_error(resp, 422, "LeaseNotExtended", msg, "maxLeaseTimeMinutes");
            break;
        }
        r = st->session_raise_lease(st, account, id, lease);
        if (r == FE_STORE_OK) {
            rec->max_lease_minutes = lease;
            answer_session(resp, 200, rec);
            if (api->d.sessions != NULL) {
                fe_session_mgr_wake(api->d.sessions);
            }
            break;
        }
        if (r != FE_STORE_CHANGED) {
            api_store_error(resp, r, "session_raise_lease");
            break;
        }
        if (attempt == 4) {
            fe_http_set_error(resp, 409, "Conflict", "the session keeps changing; try again", NULL);
            break;
        }
    }
    free_sessions(rec, 1);
}

void api_session_stop(struct fe_api *api, const struct fe_http_request *req,
                      struct fe_http_response *resp, const char *account, const char *id)
{
    if (!api_rest_prelude(api, req, resp, account, false) || !api_check_id(resp, id, "sessionId")) {
        return;
    }
    enum fe_store_result r;
    if (api->d.sessions != NULL) {
        r = fe_session_mgr_stop(api->d.sessions, account, id);
    } else {
        /* No manager (tests): the record alone says Stopped. */
        struct fe_session_record *rec = calloc(1, sizeof *rec);
        if (rec == NULL) {
            fe_http_set_error(resp, 500, "InternalError", "out of memory", NULL);
            return;
        }
        r = api->d.store->session_get(api->d.store, account, id, rec);
        if (r == FE_STORE_OK && !ended(rec->status)) {
            enum fe_session_status was = rec->status;
            rec->status = FE_SESSION_STOPPED;
            rec->ended_at = (int64_t)time(NULL);
            r = api->d.store->session_update(api->d.store, rec, was);
        } else if (r == FE_STORE_OK) {
            r = FE_STORE_CHANGED;
        }
        free_sessions(rec, 1);
    }
    if (r == FE_STORE_OK || r == FE_STORE_CHANGED) {
        resp->status = 204;
    } else if (r == FE_STORE_NOT_FOUND) {
        fe_http_set_error(resp, 404, "NotFound", "no session with this id", NULL);
    } else {
        api_store_error(resp, r, "session stop");
    }
}

void api_session_list(struct fe_api *api, const struct fe_http_request *req,
                      struct fe_http_response *resp, const char *account)
{
    if (!api_rest_prelude(api, req, resp, account, false)) {
        return;
    }
    char after[FE_ID_SIZE];
    if (!api_page_after(req, resp, after)) {
        return;
    }
    struct fe_session_record *recs = NULL;
    size_t n = 0;
    bool more = false;
    enum fe_store_result r = api->d.store->session_list(api->d.store, account, true, after,
                                                        FE_PAGE_SIZE, &recs, &n, &more);
    if (r != FE_STORE_OK) {
        api_store_error(resp, r, "session_list");
        return;
    }
    int64_t now = (int64_t)time(NULL);
    json_t *list = json_object();
    json_t *arr = json_array();
    bool ok = list != NULL && arr != NULL;
    for (size_t i = 0; i < n && ok; i++) {
        ok = json_array_append_new(arr, session_json(&recs[i], now)) == 0;
    }
    ok = ok && json_object_set(list, "sessions", arr) == 0;
    if (ok && more && n > 0) {
        ok = api_set_next_link(req, list, recs[n - 1].id);
    }
    free_sessions(recs, n);
    if (ok) {
        fe_http_set_json(resp, 200, list);
    } else {
        fe_http_set_error(resp, 500, "InternalError", "out of memory", NULL);
    }
    json_decref(arr);
    json_decref(list);
}
