/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cl_json — reading the service's JSON (jansson): session and conversion objects into the
 * public property structs, error objects into a code and a message, ISO 8601 times. Strings
 * longer than their field are cut; a field of the wrong type makes the object unreadable
 * (API_UNAVAILABLE for the caller), unknown fields are ignored as the service's are.
 *
 * Threads: pure functions (the worker thread calls them).
 */
#include "cl_internal.h"

#include <jansson.h>

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* Copy string member @p key (absent or null → "") into @p out. False when of another type. */
static bool get_str(json_t *obj, const char *key, char *out, size_t size)
{
    json_t *v = json_object_get(obj, key);
    out[0] = '\0';
    if (v == NULL || json_is_null(v)) {
        return true;
    }
    if (!json_is_string(v)) {
        return false;
    }
    snprintf(out, size, "%s", json_string_value(v));
    return true;
}

/* Integer member in [0, max] (absent or null → 0). */
static bool get_uint(json_t *obj, const char *key, int64_t max, int64_t *out)
{
    json_t *v = json_object_get(obj, key);
    *out = 0;
    if (v == NULL || json_is_null(v)) {
        return true;
    }
    if (json_is_integer(v)) {
        json_int_t i = json_integer_value(v);
        if (i < 0 || i > max) {
            return false;
        }
        *out = (int64_t)i;
        return true;
    }
    return false;
}

int64_t cl_json_time(const char *iso)
{
    if (iso == NULL) {
        return 0;
    }
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    const char *p = strptime(iso, "%Y-%m-%dT%H:%M:%S", &tm);
    if (p == NULL) {
        return 0;
    }
    if (*p == '.') {
        p++;
        while (isdigit((unsigned char)*p)) {
            p++;
        }
    }
    int64_t offset = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int sign = *p == '-' ? -1 : 1;
        int hh = 0, mm = 0;
        /* Exactly "HH:MM": sscanf alone takes "+1:2" (or " 1:-2"), and p += 6 then passes the
         * string's end. */
        bool form = isdigit((unsigned char)p[1]) && isdigit((unsigned char)p[2]) && p[3] == ':' &&
                    isdigit((unsigned char)p[4]) && isdigit((unsigned char)p[5]);
        if (!form || sscanf(p + 1, "%2d:%2d", &hh, &mm) != 2 || hh > 23 || mm > 59) {
            return 0;
        }
        offset = sign * (int64_t)(hh * 3600 + mm * 60);
        p += 6;
    } else {
        return 0;
    }
    if (*p != '\0') {
        return 0;
    }
    time_t t = timegm(&tm);
    if (t == (time_t)-1) {
        return 0;
    }
    return (int64_t)t - offset;
}

static void get_error(json_t *obj, char *code, size_t code_size, char *message, size_t message_size)
{
    json_t *e = json_object_get(obj, "error");
    code[0] = '\0';
    message[0] = '\0';
    if (!json_is_object(e)) {
        return;
    }
    get_str(e, "code", code, code_size);
    get_str(e, "message", message, message_size);
}

void cl_json_error(const char *text, size_t size, char *code, size_t code_size, char *message,
                   size_t message_size)
{
    code[0] = '\0';
    message[0] = '\0';
    if (text == NULL || size == 0) {
        return;
    }
    json_error_t jerr;
    json_t *root = json_loadb(text, size, 0, &jerr);
    if (root == NULL) {
        return;
    }
    get_error(root, code, code_size, message, message_size);
    json_decref(root);
    /* Keep the message on one line: it ends up in one-line logs and terminal output. */
    for (char *c = message; *c != '\0'; c++) {
        if ((unsigned char)*c < ' ') {
            *c = ' ';
        }
    }
}

static bool session_status(const char *s, enum rr_session_status *out)
{
    static const struct {
        const char *name;
        enum rr_session_status status;
    } names[] = {{"Starting", RR_SESSION_STARTING},
                 {"Ready", RR_SESSION_READY},
                 {"Stopped", RR_SESSION_STOPPED},
                 {"Expired", RR_SESSION_EXPIRED},
                 {"Error", RR_SESSION_ERROR}};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (strcasecmp(s, names[i].name) == 0) {
            *out = names[i].status;
            return true;
        }
    }
    return false;
}

bool cl_json_session_obj(json_t *obj, struct rr_session_properties *out, char *err, size_t err_size)
{
    memset(out, 0, sizeof(*out));
    if (!json_is_object(obj)) {
        snprintf(err, err_size, "a session is not a JSON object");
        return false;
    }
    char status[32], size[32], created[64];
    int64_t hp = 0, ip = 0, elapsed = 0, lease = 0;
    if (!get_str(obj, "id", out->id, sizeof(out->id)) ||
        !get_str(obj, "status", status, sizeof(status)) ||
        !get_str(obj, "size", size, sizeof(size)) ||
        !get_str(obj, "hostname", out->hostname, sizeof(out->hostname)) ||
        !get_str(obj, "creationTime", created, sizeof(created)) ||
        !get_uint(obj, "handshakePort", 65535, &hp) ||
        !get_uint(obj, "arrInspectorPort", 65535, &ip) ||
        !get_uint(obj, "elapsedTimeMinutes", UINT32_MAX, &elapsed) ||
        !get_uint(obj, "maxLeaseTimeMinutes", UINT32_MAX, &lease)) {
        snprintf(err, err_size, "a session object has a field of the wrong type");
        return false;
    }
    if (out->id[0] == '\0' || !session_status(status, &out->status)) {
        snprintf(err, err_size, "a session object without an id or a known status");
        return false;
    }
    out->size = strcasecmp(size, "Premium") == 0 ? RR_SESSION_PREMIUM : RR_SESSION_STANDARD;
    out->handshake_port = (uint16_t)hp;
    out->inspector_port = (uint16_t)ip;
    out->elapsed_time_minutes = (uint32_t)elapsed;
    out->max_lease_time_minutes = (uint32_t)lease;
    json_t *tf = json_object_get(obj, "teraflops");
    out->teraflops = json_is_number(tf) ? json_number_value(tf) : 0.0;
    out->creation_time = cl_json_time(created);
    get_error(obj, out->error_code, sizeof(out->error_code), out->error_message,
              sizeof(out->error_message));
    return true;
}

bool cl_json_session(const char *text, size_t size, struct rr_session_properties *out, char *err,
                     size_t err_size)
{
    json_error_t jerr;
    json_t *root = json_loadb(text, size, 0, &jerr);
    if (root == NULL) {
        snprintf(err, err_size, "the answer is not JSON (%s)", jerr.text);
        memset(out, 0, sizeof(*out));
        return false;
    }
    bool ok = cl_json_session_obj(root, out, err, err_size);
    json_decref(root);
    return ok;
}

static bool conversion_status(const char *s, enum rr_conversion_status *out)
{
    static const struct {
        const char *name;
        enum rr_conversion_status status;
    } names[] = {{"NotStarted", RR_CONVERSION_NOT_STARTED},
                 {"Running", RR_CONVERSION_RUNNING},
                 {"Cancelled", RR_CONVERSION_CANCELLED},
                 {"Failed", RR_CONVERSION_FAILED},
                 {"Succeeded", RR_CONVERSION_SUCCEEDED}};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (strcasecmp(s, names[i].name) == 0) {
            *out = names[i].status;
            return true;
        }
    }
    return false;
}

bool cl_json_conversion(const char *text, size_t size, struct rr_conversion_properties *out,
                        char *err, size_t err_size)
{
    memset(out, 0, sizeof(*out));
    json_error_t jerr;
    json_t *root = json_loadb(text, size, 0, &jerr);
    if (root == NULL) {
        snprintf(err, err_size, "the answer is not JSON (%s)", jerr.text);
        return false;
    }
    bool ok = false;
    char status[32], created[64];
    int64_t progress = 0;
    json_t *output = json_object_get(root, "output");
    if (!json_is_object(root) || !get_str(root, "id", out->id, sizeof(out->id)) ||
        !get_str(root, "status", status, sizeof(status)) ||
        !get_str(root, "creationTime", created, sizeof(created))) {
        snprintf(err, err_size, "a conversion object has a field of the wrong type");
        goto done;
    }
    if (out->id[0] == '\0' || !conversion_status(status, &out->status)) {
        snprintf(err, err_size, "a conversion object without an id or a known status");
        goto done;
    }
    /* progress is ours (beyond the reference): a real number from some servers. */
    json_t *pv = json_object_get(root, "progress");
    if (json_is_number(pv)) {
        double p = json_number_value(pv);
        progress = p < 0 ? 0 : p > 100 ? 100 : (int64_t)p;
    }
    out->progress = (int)progress;
    if (json_is_object(output) &&
        !get_str(output, "outputAssetUri", out->output_asset_uri, sizeof(out->output_asset_uri))) {
        snprintf(err, err_size, "a conversion's outputAssetUri is not a string");
        goto done;
    }
    out->creation_time = cl_json_time(created);
    get_error(root, out->error_code, sizeof(out->error_code), out->error_message,
              sizeof(out->error_message));
    if (out->status == RR_CONVERSION_SUCCEEDED && out->progress == 0) {
        out->progress = 100;
    }
    ok = true;
done:
    json_decref(root);
    return ok;
}
