/* SPDX-License-Identifier: Apache-2.0 */
/*
 * host_register — the registration with openrrd (see host_register.h), over libcurl.
 *
 * Threads: the main thread.
 */
#include "host_register.h"

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/crypto.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define FIRST_PAUSE_MS 250
#define MAX_PAUSE_MS 2000
#define CONNECT_TIMEOUT_MS 3000
#define MAX_ANSWER 4096 /* of openrrd's answer, kept for the error message */

bool host_register_global_init(void)
{
    return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
}

void host_register_global_cleanup(void)
{
    curl_global_cleanup();
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int64_t ms)
{
    struct timespec ts = {.tv_sec = (time_t)(ms / 1000), .tv_nsec = (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

struct answer {
    char data[MAX_ANSWER + 1];
    size_t len;
};

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *user)
{
    struct answer *a = user;
    size_t n = size * nmemb;
    size_t room = MAX_ANSWER - a->len;
    size_t take = n < room ? n : room;
    memcpy(a->data + a->len, ptr, take);
    a->len += take;
    a->data[a->len] = '\0';
    return n; /* the rest is dropped, not an error */
}

/* openrrd's error message ({"error":{"message":…}}), or the answer's first printable
 * characters, into @p out. */
static void describe_answer(const struct answer *a, char *out, size_t size)
{
    out[0] = '\0';
    json_t *root = json_loadb(a->data, a->len, 0, NULL);
    json_t *msg = json_object_get(json_object_get(root, "error"), "message");
    if (json_is_string(msg)) {
        snprintf(out, size, "%s", json_string_value(msg));
    } else {
        size_t k = 0;
        for (size_t i = 0; i < a->len && k + 1 < size && k < 160; i++) {
            unsigned char c = (unsigned char)a->data[i];
            out[k++] = c >= 0x20 && c < 0x7f ? (char)c : ' ';
        }
        out[k] = '\0';
    }
    json_decref(root);
}

/* One POST: the HTTP status (0 when there was none) and, for a failure, why in @p why. */
static long post_once(CURL *curl, const char *url, struct curl_slist *headers, const char *body,
                      int64_t timeout_ms, char *why, size_t why_size)
{
    struct answer a = {.len = 0};
    a.data[0] = '\0';
    char curl_err[CURL_ERROR_SIZE] = "";
    curl_easy_reset(curl);
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
                     (long)(timeout_ms < CONNECT_TIMEOUT_MS ? timeout_ms : CONNECT_TIMEOUT_MS));
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &a);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, curl_err);
    CURLcode rc = curl_easy_perform(curl);
    if (rc != CURLE_OK) {
        snprintf(why, why_size, "%s", curl_err[0] != '\0' ? curl_err : curl_easy_strerror(rc));
        return 0;
    }
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    if (status < 200 || status > 299) {
        char msg[256];
        describe_answer(&a, msg, sizeof msg);
        snprintf(why, why_size, "HTTP %ld%s%s", status, msg[0] != '\0' ? ": " : "", msg);
    }
    return status;
}

static bool retryable(long status)
{
    return status == 0 || status == 408 || status == 429 || status >= 500;
}

bool host_register(const char *url, const char *secret, uint16_t port, uint16_t transport_port,
                   int inspector_port, char *err, size_t err_size)
{
    char body[128];
    if (err != NULL && err_size > 0) {
        err[0] = '\0';
    }
    if (inspector_port >= 0) {
        snprintf(body, sizeof body,
                 "{\"handshakePort\":%u,\"transportPort\":%u,\"inspectorPort\":%d}", (unsigned)port,
                 (unsigned)transport_port, inspector_port);
    } else {
        snprintf(body, sizeof body, "{\"handshakePort\":%u,\"transportPort\":%u}", (unsigned)port,
                 (unsigned)transport_port);
    }
    size_t auth_size = strlen("Authorization: Bearer ") + strlen(secret) + 1;
    char *auth = malloc(auth_size);
    CURL *curl = curl_easy_init();
    struct curl_slist *headers = NULL;
    if (auth != NULL) {
        snprintf(auth, auth_size, "Authorization: Bearer %s", secret);
        headers = curl_slist_append(NULL, "Content-Type: application/json");
        struct curl_slist *more = headers != NULL ? curl_slist_append(headers, auth) : NULL;
        if (more == NULL) {
            curl_slist_free_all(headers);
            headers = NULL;
        }
        OPENSSL_cleanse(auth, auth_size);
        free(auth);
    }
    if (curl == NULL || headers == NULL) {
        curl_easy_cleanup(curl);
        curl_slist_free_all(headers);
        snprintf(err, err_size, "cannot register at %s: out of memory", url);
        return false;
    }
    int64_t deadline = now_ms() + HOST_REGISTER_TOTAL_MS;
    int64_t pause = FIRST_PAUSE_MS;
    char why[512] = "";
    bool ok = false;
    int attempts = 0;
    for (;;) {
        int64_t left = deadline - now_ms();
        if (left <= 0) {
            break;
        }
        attempts++;
        long status = post_once(curl, url, headers, body, left, why, sizeof why);
        if (status >= 200 && status <= 299) {
            ok = true;
            break;
        }
        if (!retryable(status)) {
            snprintf(err, err_size, "openrrd at %s refused the registration: %s", url, why);
            break;
        }
        left = deadline - now_ms();
        if (left <= pause) {
            snprintf(err, err_size, "cannot register at %s (%d attempts in %d s): %s", url,
                     attempts, HOST_REGISTER_TOTAL_MS / 1000, why);
            break;
        }
        sleep_ms(pause);
        pause = pause * 2 < MAX_PAUSE_MS ? pause * 2 : MAX_PAUSE_MS;
    }
    if (!ok && err != NULL && err_size > 0 && err[0] == '\0') {
        snprintf(err, err_size, "cannot register at %s: %s", url, why[0] ? why : "timed out");
    }
    /* The header list holds a copy of the secret: wipe it before it goes back to the heap. */
    for (struct curl_slist *h = headers; h != NULL; h = h->next) {
        OPENSSL_cleanse(h->data, strlen(h->data));
    }
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);
    return ok;
}
