/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fe_api_conv — the conversion routes of the REST API (docs/openrrd.md "Conversions"): create
 * (canonical settings, idempotent retry, bounded queue), get (Retry-After while waiting or
 * running) and list (paged). The runner does the work; here a conversion is only recorded.
 * HTTP pool threads.
 */
#include "fe_api_internal.h"

#include "fe_conv.h"

#include <openssl/crypto.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The members of each location that are kept (anything else is ignored), and whether a member
 * is a secret that is stored but never sent back. */
struct member {
    const char *name;
    bool secret;
};
static const struct member INPUT_MEMBERS[] = {
    {"storageContainerUri", false},
    {"relativeInputAssetPath", false},
    {"blobPrefix", false},
    {"storageContainerReadListSas", true},
};
static const struct member OUTPUT_MEMBERS[] = {
    {"storageContainerUri", false},
    {"blobPrefix", false},
    {"outputAssetFilename", false},
    {"storageContainerWriteSas", true},
};

/* Copy the known string members of @p loc into a new object; null members are left out (as
 * if absent), other types answer 400 naming the member. */
static json_t *canonical_location(json_t *loc, const char *path, const struct member *members,
                                  size_t count, struct fe_http_response *resp)
{
    json_t *out = json_object();
    if (out == NULL) {
        fe_http_set_error(resp, 500, "InternalError", "out of memory", NULL);
        return NULL;
    }
    for (size_t i = 0; i < count; i++) {
        json_t *v = json_object_get(loc, members[i].name);
        if (v == NULL || json_is_null(v)) {
            continue;
        }
        char target[128];
        snprintf(target, sizeof target, "%s.%s", path, members[i].name);
        if (!json_is_string(v)) {
            char msg[200];
            snprintf(msg, sizeof msg, "%s must be a string", target);
            fe_http_set_error(resp, 400, "InvalidArgument", msg, target);
            json_decref(out);
            return NULL;
        }
        if (json_object_set(out, members[i].name, v) != 0) {
            fe_http_set_error(resp, 500, "InternalError", "out of memory", NULL);
            json_decref(out);
            return NULL;
        }
    }
    return out;
}

/* The create body's settings as canonical JSON (known members only, keys sorted, compact):
 * what the store keeps and what a retried create is compared with. NULL: @p resp answered. */
static char *canonical_settings(json_t *body, struct fe_http_response *resp)
{
    json_t *settings = json_object_get(body, "settings");
    if (settings == NULL || json_is_null(settings)) {
        fe_http_set_error(resp, 400, "InvalidArgument", "settings is required", "settings");
        return NULL;
    }
    if (!json_is_object(settings)) {
        fe_http_set_error(resp, 400, "InvalidArgument", "settings must be an object", "settings");
        return NULL;
    }
    json_t *canon = json_object();
    if (canon == NULL) {
        fe_http_set_error(resp, 500, "InternalError", "out of memory", NULL);
        return NULL;
    }
    static const struct {
        const char *name;
        const char *path;
        const struct member *members;
        size_t count;
    } locations[] = {
        {"inputLocation", "settings.inputLocation", INPUT_MEMBERS,
         sizeof INPUT_MEMBERS / sizeof INPUT_MEMBERS[0]},
        {"outputLocation", "settings.outputLocation", OUTPUT_MEMBERS,
         sizeof OUTPUT_MEMBERS / sizeof OUTPUT_MEMBERS[0]},
    };
    for (size_t i = 0; i < 2; i++) {
        json_t *loc = json_object_get(settings, locations[i].name);
        if (loc == NULL || json_is_null(loc)) {
            char msg[128];
            snprintf(msg, sizeof msg, "%s is required", locations[i].path);
            fe_http_set_error(resp, 400, "InvalidArgument", msg, locations[i].path);
            json_decref(canon);
            return NULL;
        }
        if (!json_is_object(loc)) {
            char msg[128];
            snprintf(msg, sizeof msg, "%s must be an object", locations[i].path);
            fe_http_set_error(resp, 400, "InvalidArgument", msg, locations[i].path);
            json_decref(canon);
            return NULL;
        }
        json_t *c = canonical_location(loc, locations[i].path, locations[i].members,
                                       locations[i].count, resp);
        if (c == NULL || json_object_set_new(canon, locations[i].name, c) != 0) {
            if (c != NULL) {
                fe_http_set_error(resp, 500, "InternalError", "out of memory", NULL);
            }
            json_decref(canon);
            return NULL;
        }
    }
    char *text = json_dumps(canon, JSON_SORT_KEYS | JSON_COMPACT);
    json_decref(canon);
    if (text == NULL) {
        fe_http_set_error(resp, 500, "InternalError", "out of memory", NULL);
    }
    return text;
}

static void free_secret_text(char *s)
{
    if (s != NULL) {
        OPENSSL_cleanse(s, strlen(s));
        free(s);
    }
}

/* The conversion object of the reference (settings without SAS) and our "progress". */
static json_t *conversion_json(const struct fe_conversion_record *rec)
{
    json_t *settings = NULL;
    if (rec->settings_json != NULL) {
        settings = json_loads(rec->settings_json, JSON_REJECT_DUPLICATES, NULL);
    }
    if (!json_is_object(settings)) {
        json_decref(settings);
        settings = json_object();
    } else {
        json_t *in = json_object_get(settings, "inputLocation");
        json_t *out = json_object_get(settings, "outputLocation");
        if (json_is_object(in)) {
            json_object_del(in, "storageContainerReadListSas");
        }
        if (json_is_object(out)) {
            json_object_del(out, "storageContainerWriteSas");
        }
    }
    char created[40];
    api_iso_time(rec->created, created, sizeof created);
    json_t *error = json_null();
    if (rec->error_code[0] != '\0') {
        error = json_pack("{s:s,s:s}", "code", rec->error_code, "message", rec->error_message);
    }
    json_t *o = json_pack("{s:s,s:o,s:s,s:o,s:s,s:i}", "id", rec->id, "settings", settings,
                          "status", fe_conversion_status_str(rec->status), "error",
                          error != NULL ? error : json_null(), "creationTime", created, "progress",
                          rec->progress);
    if (o != NULL && rec->status == FE_CONV_SUCCEEDED && rec->output_uri[0] != '\0') {
        json_object_set_new(o, "output", json_pack("{s:s}", "outputAssetUri", rec->output_uri));
    }
    return o;
}

static void answer_conversion(struct fe_http_response *resp, unsigned status,
                              const struct fe_conversion_record *rec)
{
    json_t *o = conversion_json(rec);
    fe_http_set_json(resp, status, o);
    json_decref(o);
    if (rec->status == FE_CONV_NOT_STARTED || rec->status == FE_CONV_RUNNING) {
        fe_http_add_header(resp, "Retry-After", "5");
    }
}

/* A create met an existing conversion: 200 when the settings are the same, else 409. */
static void answer_existing(struct fe_http_response *resp, const char *settings,
                            const struct fe_conversion_record *existing)
{
    if (existing->settings_json != NULL && strcmp(existing->settings_json, settings) == 0) {
        answer_conversion(resp, 200, existing);
    } else {
        fe_http_set_error(resp, 409, "Conflict",
                          "a conversion with this id exists with other settings", NULL);
    }
}

void api_conversion_put(struct fe_api *api, const struct fe_http_request *req,
                        struct fe_http_response *resp, const char *account, const char *id)
{
    if (!api_rest_prelude(api, req, resp, account, true) ||
        !api_check_id(resp, id, "conversionId")) {
        return;
    }
    json_t *body = NULL;
    if (!api_parse_body(req, resp, &body)) {
        return;
    }
    char *settings = canonical_settings(body, resp);
    json_decref(body);
    if (settings == NULL) {
        return;
    }
    char target[160] = "", message[512] = "";
    if (!fe_conv_check_settings(api->d.cfg, settings, target, sizeof target, message,
                                sizeof message)) {
        fe_http_set_error(resp, 400, "InvalidArgument",
                          message[0] != '\0' ? message : "bad settings",
                          target[0] != '\0' ? target : "settings");
        free_secret_text(settings);
        return;
    }
    struct fe_store *st = api->d.store;
    struct fe_conversion_record existing;
    memset(&existing, 0, sizeof existing);
    enum fe_store_result r = st->conversion_get(st, account, id, &existing);
    if (r == FE_STORE_OK) {
        answer_existing(resp, settings, &existing);
        fe_conversion_record_clear(&existing);
        free_secret_text(settings);
        return;
    }
    if (r != FE_STORE_NOT_FOUND) {
        api_store_error(resp, r, "conversion_get");
        free_secret_text(settings);
        return;
    }
    size_t waiting = 0;
    r = st->conversion_count_waiting(st, &waiting);
    if (r != FE_STORE_OK) {
        api_store_error(resp, r, "conversion_count_waiting");
        free_secret_text(settings);
        return;
    }
    if (waiting >= api->d.cfg->max_queued_conversions) {
        api_too_many(resp, 30, "the conversion queue is full; try again later");
        free_secret_text(settings);
        return;
    }
    struct fe_conversion_record rec;
    memset(&rec, 0, sizeof rec);
    snprintf(rec.account_id, sizeof rec.account_id, "%s", account);
    snprintf(rec.id, sizeof rec.id, "%s", id);
    rec.settings_json = settings;
    rec.status = FE_CONV_NOT_STARTED;
    rec.created = (int64_t)time(NULL);
    char err[256] = "";
    r = st->conversion_create(st, &rec, &existing, err, sizeof err);
    if (r == FE_STORE_OK) {
        answer_conversion(resp, 201, &rec);
        if (api->d.conv != NULL) {
            fe_conv_runner_wake(api->d.conv);
        }
    } else if (r == FE_STORE_EXISTS) {
        answer_existing(resp, settings, &existing);
        fe_conversion_record_clear(&existing);
    } else {
        api_store_error(resp, r, "conversion_create");
    }
    free_secret_text(settings);
}

void api_conversion_get(struct fe_api *api, const struct fe_http_request *req,
                        struct fe_http_response *resp, const char *account, const char *id)
{
    if (!api_rest_prelude(api, req, resp, account, true) ||
        !api_check_id(resp, id, "conversionId")) {
        return;
    }
    struct fe_conversion_record rec;
    memset(&rec, 0, sizeof rec);
    enum fe_store_result r = api->d.store->conversion_get(api->d.store, account, id, &rec);
    if (r == FE_STORE_NOT_FOUND) {
        fe_http_set_error(resp, 404, "NotFound", "no conversion with this id", NULL);
        return;
    }
    if (r != FE_STORE_OK) {
        api_store_error(resp, r, "conversion_get");
        return;
    }
    answer_conversion(resp, 200, &rec);
    fe_conversion_record_clear(&rec);
}

void api_conversion_list(struct fe_api *api, const struct fe_http_request *req,
                         struct fe_http_response *resp, const char *account)
{
    if (!api_rest_prelude(api, req, resp, account, true)) {
        return;
    }
    char after[FE_ID_SIZE];
    if (!api_page_after(req, resp, after)) {
        return;
    }
    struct fe_conversion_record *recs = NULL;
    size_t n = 0;
    bool more = false;
    enum fe_store_result r =
        api->d.store->conversion_list(api->d.store, account, after, FE_PAGE_SIZE, &recs, &n, &more);
    if (r != FE_STORE_OK) {
        api_store_error(resp, r, "conversion_list");
        return;
    }
    json_t *list = json_object();
    json_t *arr = json_array();
    bool ok = list != NULL && arr != NULL;
    for (size_t i = 0; i < n && ok; i++) {
        ok = json_array_append_new(arr, conversion_json(&recs[i])) == 0;
    }
    ok = ok && json_object_set(list, "conversions", arr) == 0;
    if (ok && more && n > 0) {
        ok = api_set_next_link(req, list, recs[n - 1].id);
    }
    for (size_t i = 0; i < n; i++) {
        fe_conversion_record_clear(&recs[i]);
    }
    free(recs);
    if (ok) {
        fe_http_set_json(resp, 200, list);
    } else {
        fe_http_set_error(resp, 500, "InternalError", "out of memory", NULL);
    }
    json_decref(arr);
    json_decref(list);
}
