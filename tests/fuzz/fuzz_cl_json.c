/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_cl_json — libFuzzer target for what the SDK reads from openrrd's answers
 * (src/client/cl_json.c, cl_tokens.c): a server, or anything posing as one, chooses these bytes,
 * and must not be able to crash or mislead the client. Each input is given, as an answer body,
 * to every reader:
 *   cl_json_session and cl_json_conversion (one object), the session list's items through
 *   cl_json_session_obj (as list_page in cl_frontend.c reads {"sessions":[…]}), cl_json_error
 *   (a failed call's error object), cl_jwt_exp (the input as a token, and as the payload of
 *   one) and cl_json_time (the input as a creationTime, held exactly in a heap buffer of its
 *   size, so a read past its end is caught).
 * Properties: every string field ends inside its buffer; an accepted session or conversion has
 * a non-empty id and a known status, ports and counts within their types, progress 0–100 and
 * the id the JSON gave (cut to the field); an error's message holds no control character;
 * cl_jwt_exp's exp of a payload is the payload's integer exp, or its real exp in [0, year
 * 10000) truncated, and nothing else; cl_json_time of the plain form "YYYY-MM-DDTHH:MM:SSZ"
 * is timegm's answer.
 * Single-threaded: libFuzzer calls LLVMFuzzerTestOneInput from one thread.
 */
#include "cl_internal.h"
#include "cl_tokens.h"

#include "b64url.h"
#include "fuzz_check.h"

#include <jansson.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define TERMINATED(field) (memchr((field), '\0', sizeof(field)) != NULL)

static const char *string_member(json_t *obj, const char *key)
{
    return json_string_value(json_object_get(obj, key));
}

/* The id the JSON gave, as the client keeps it (cut to its field). */
static void check_id(json_t *obj, const char *id, size_t size)
{
    const char *want = string_member(obj, "id");
    CHECK(want != NULL && id[0] != '\0');
    CHECK(strncmp(id, want, size - 1) == 0);
}

static void check_session(const struct rr_session_properties *p, json_t *obj)
{
    CHECK(TERMINATED(p->id) && TERMINATED(p->hostname) && TERMINATED(p->error_code) &&
          TERMINATED(p->error_message));
    CHECK(p->status >= RR_SESSION_STARTING && p->status <= RR_SESSION_ERROR);
    CHECK(p->size == RR_SESSION_STANDARD || p->size == RR_SESSION_PREMIUM);
    if (obj != NULL) {
        check_id(obj, p->id, sizeof p->id);
        json_t *lease = json_object_get(obj, "maxLeaseTimeMinutes");
        CHECK(json_is_null(lease) || lease == NULL ||
              (json_is_integer(lease) &&
               (json_int_t)p->max_lease_time_minutes == json_integer_value(lease)));
    }
}

static void check_conversion(const struct rr_conversion_properties *p, json_t *obj)
{
    CHECK(TERMINATED(p->id) && TERMINATED(p->error_code) && TERMINATED(p->error_message) &&
          TERMINATED(p->output_asset_uri));
    CHECK(p->status >= RR_CONVERSION_NOT_STARTED && p->status <= RR_CONVERSION_SUCCEEDED);
    CHECK(p->progress >= 0 && p->progress <= 100);
    CHECK(obj != NULL);
    check_id(obj, p->id, sizeof p->id);
}

/* The plain form "YYYY-MM-DDTHH:MM:SSZ" read by hand: whatever cl_json_time accepts beyond
 * it, this form must give timegm's answer. */
static void check_time(const char *s)
{
    int64_t t = cl_json_time(s);
    bool plain = strlen(s) == 20 && s[4] == '-' && s[7] == '-' && s[10] == 'T' && s[13] == ':' &&
                 s[16] == ':' && s[19] == 'Z';
    static const int digits[] = {0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18};
    for (size_t i = 0; plain && i < sizeof digits / sizeof digits[0]; i++) {
        plain = isdigit((unsigned char)s[digits[i]]);
    }
    if (!plain) {
        return;
    }
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    tm.tm_year = atoi(s) - 1900;
    tm.tm_mon = atoi(s + 5) - 1;
    tm.tm_mday = atoi(s + 8);
    tm.tm_hour = atoi(s + 11);
    tm.tm_min = atoi(s + 14);
    tm.tm_sec = atoi(s + 17);
    bool in_range = tm.tm_mon >= 0 && tm.tm_mon <= 11 && tm.tm_mday >= 1 && tm.tm_mday <= 31 &&
                    tm.tm_hour <= 23 && tm.tm_min <= 59 && tm.tm_sec <= 61;
    if (in_range) {
        CHECK(t == (int64_t)timegm(&tm));
    }
}

/* A token whose payload is the input: its exp as a plain reading of the payload says. */
static void check_jwt_payload(const uint8_t *data, size_t size)
{
    size_t n = rr_b64url_encoded_len(size);
    if (n + 16 > RR_MAX_TOKEN_SIZE) {
        return;
    }
    char *token = malloc(n + 16);
    CHECK(token != NULL);
    memcpy(token, "e30.", 4);
    rr_b64url_encode(data, size, token + 4);
    memcpy(token + 4 + n, ".c2ln", 6);
    int64_t exp = -1;
    bool ok = cl_jwt_exp(token, &exp);
    json_t *root = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
    json_t *e = json_object_get(root, "exp");
    if (json_is_integer(e)) {
        CHECK(ok && exp == (int64_t)json_integer_value(e));
    } else if (json_is_real(e) && json_real_value(e) >= 0 && json_real_value(e) < 253402300800.0) {
        CHECK(ok && exp == (int64_t)json_real_value(e));
    } else {
        CHECK(!ok);
    }
    json_decref(root);
    free(token);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    json_t *root = json_loadb(text, size, 0, NULL);
    char err[256];

    struct rr_session_properties *sp = malloc(sizeof *sp);
    struct rr_conversion_properties *cp = malloc(sizeof *cp);
    CHECK(sp != NULL && cp != NULL);
    memset(err, 0, sizeof err);
    if (cl_json_session(text, size, sp, err, sizeof err)) {
        check_session(sp, root);
    } else {
        CHECK(err[0] != '\0' && TERMINATED(err));
    }
    memset(err, 0, sizeof err);
    if (cl_json_conversion(text, size, cp, err, sizeof err)) {
        check_conversion(cp, root);
    } else {
        CHECK(err[0] != '\0' && TERMINATED(err));
    }

    /* A page of the session list. */
    json_t *arr = json_object_get(root, "sessions");
    size_t i;
    json_t *item;
    json_array_foreach(arr, i, item)
    {
        memset(err, 0, sizeof err);
        if (cl_json_session_obj(item, sp, err, sizeof err)) {
            check_session(sp, item);
        } else {
            CHECK(err[0] != '\0' && TERMINATED(err));
        }
    }

    char code[64], message[256];
    cl_json_error(text, size, code, sizeof code, message, sizeof message);
    CHECK(TERMINATED(code) && TERMINATED(message));
    for (const char *c = message; *c != '\0'; c++) {
        CHECK((unsigned char)*c >= ' ');
    }
    json_t *error = json_object_get(root, "error");
    const char *want = string_member(error, "code");
    if (want != NULL && json_is_object(error)) {
        CHECK(strncmp(code, want, sizeof code - 1) == 0);
    }

    /* The input as a string: a token, and a creationTime in a buffer of exactly its size. */
    char *s = malloc(size + 1);
    CHECK(s != NULL);
    memcpy(s, data, size);
    s[size] = '\0';
    int64_t exp = 0;
    (void)cl_jwt_exp(s, &exp);
    char *t = strdup(s);
    CHECK(t != NULL);
    check_time(t);
    free(t);
    free(s);
    check_jwt_payload(data, size);

    json_decref(root);
    free(sp);
    free(cp);
    return 0;
}
