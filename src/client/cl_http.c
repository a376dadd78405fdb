/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cl_http — see cl_http.h. Runs on a frontend's worker thread.
 */
#include "cl_http.h"

#include <curl/curl.h>
#include <openssl/crypto.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static bool g_ok;

static void global_init(void)
{
    g_ok = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
}

bool cl_http_global_init(void)
{
    pthread_once(&g_once, global_init);
    return g_ok;
}

bool cl_http_init(struct cl_http *h, const char *ca_file, const atomic_bool *abort_flag)
{
    memset(h, 0, sizeof(*h));
    if (!cl_http_global_init()) {
        return false;
    }
    h->curl = curl_easy_init();
    h->ca_file = ca_file;
    h->abort_flag = abort_flag;
    return h->curl != NULL;
}

void cl_http_fini(struct cl_http *h)
{
    if (h->curl != NULL) {
        curl_easy_cleanup(h->curl);
        h->curl = NULL;
    }
}

void cl_http_response_free(struct cl_http_response *r)
{
    free(r->body);
    memset(r, 0, sizeof(*r));
    r->retry_after = -1;
}

struct transfer {
    struct cl_http_response *r;
    size_t cap;
    bool too_large;
    bool no_memory;
    const atomic_bool *abort_flag;
};

static size_t on_write(char *data, size_t size, size_t n, void *user)
{
    struct transfer *t = user;
    size_t len = size * n;
    if (t->r->size + len > CL_HTTP_MAX_BODY) {
        t->too_large = true;
        return 0;
    }
    if (t->r->size + len + 1 > t->cap) {
        size_t cap = t->cap ? t->cap : 4096;
        while (cap < t->r->size + len + 1) {
            cap *= 2;
        }
        char *body = realloc(t->r->body, cap);
        if (body == NULL) {
            t->no_memory = true;
            return 0;
        }
        t->r->body = body;
        t->cap = cap;
    }
    memcpy(t->r->body + t->r->size, data, len);
    t->r->size += len;
    t->r->body[t->r->size] = '\0';
    return len;
}

static size_t on_header(char *data, size_t size, size_t n, void *user)
{
    struct transfer *t = user;
    size_t len = size * n;
    static const char name[] = "retry-after:";
    if (len > sizeof(name) - 1 && strncasecmp(data, name, sizeof(name) - 1) == 0) {
        long v = 0;
        size_t i = sizeof(name) - 1;
        while (i < len && (data[i] == ' ' || data[i] == '\t')) {
            i++;
        }
        bool digits = false;
        while (i < len && isdigit((unsigned char)data[i]) && v < 1000000) {
            v = v * 10 + (data[i] - '0');
            digits = true;
            i++;
        }
        if (digits) {
            t->r->retry_after = v;
        }
    }
    return len;
}

static int on_progress(void *user, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
    struct transfer *t = user;
    return t->abort_flag != NULL && atomic_load(t->abort_flag) ? 1 : 0;
}

/* The CA file is added to the store OpenSSL already filled with the system's roots, so that
 * it is an extra anchor instead of a replacement (CURLOPT_CAINFO would replace the bundle). */
static CURLcode on_ssl_ctx(CURL *curl, void *ssl_ctx, void *user)
{
    const char *ca_file = user;
    X509_STORE *store = SSL_CTX_get_cert_store(ssl_ctx);
    if (store == NULL || X509_STORE_load_file(store, ca_file) != 1) {
        return CURLE_SSL_CACERT_BADFILE;
    }
    return CURLE_OK;
}

/* The URL as shown in messages: without query and fragment. */
static void shown_url(const char *url, char *out, size_t size)
{
    size_t n = strcspn(url, "?#");
    if (n >= size) {
        n = size - 1;
    }
    memcpy(out, url, n);
    out[n] = '\0';
}

static void wipe_headers(struct curl_slist *list)
{
    for (struct curl_slist *l = list; l != NULL; l = l->next) {
        OPENSSL_cleanse(l->data, strlen(l->data));
    }
    curl_slist_free_all(list);
}

enum rr_client_result cl_http_do(struct cl_http *h, const struct cl_http_request *rq,
                                 struct cl_http_response *out, char *err, size_t err_size)
{
    memset(out, 0, sizeof(*out));
    out->retry_after = -1;
    char shown[512];
    shown_url(rq->url, shown, sizeof(shown));

    struct curl_slist *headers = NULL;
    struct curl_slist *next = curl_slist_append(NULL, "Accept: application/json");
    if (next == NULL) {
        snprintf(err, err_size, "out of memory");
        return RR_CLIENT_OUT_OF_MEMORY;
    }
    headers = next;
    if (rq->body != NULL) {
        next = curl_slist_append(headers, "Content-Type: application/json");
        if (next == NULL) {
            wipe_headers(headers);
            snprintf(err, err_size, "out of memory");
            return RR_CLIENT_OUT_OF_MEMORY;
        }
        headers = next;
    }
    if (rq->authorization != NULL) {
        static const char prefix[] = "Authorization: ";
        size_t n = sizeof(prefix) + strlen(rq->authorization);
        char *line = malloc(n);
        if (line == NULL) {
            wipe_headers(headers);
            snprintf(err, err_size, "out of memory");
            return RR_CLIENT_OUT_OF_MEMORY;
        }
        snprintf(line, n, "%s%s", prefix, rq->authorization);
        next = curl_slist_append(headers, line);
        OPENSSL_cleanse(line, n);
        free(line);
        if (next == NULL) {
            wipe_headers(headers);
            snprintf(err, err_size, "out of memory");
            return RR_CLIENT_OUT_OF_MEMORY;
        }
        headers = next;
    }
    /* Ask for no 100-continue round trip on PUT/POST bodies. */
    next = curl_slist_append(headers, "Expect:");
    if (next != NULL) {
        headers = next;
    }

    struct transfer t = {.r = out, .abort_flag = h->abort_flag};
    CURL *c = h->curl;
    /* A reset keeps the connection cache, so the next call reuses the kept-alive connection. */
    curl_easy_reset(c);
    char curl_err[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(c, CURLOPT_URL, rq->url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L); /* never carry a token elsewhere */
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, CL_HTTP_CONNECT_TIMEOUT_S);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, rq->timeout_s > 0 ? rq->timeout_s : CL_HTTP_TIMEOUT_S);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "openrr-client/0.1");
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &t);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &t);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, &t);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, curl_err);
    curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
    if (h->ca_file != NULL) {
        curl_easy_setopt(c, CURLOPT_SSL_CTX_FUNCTION, on_ssl_ctx);
        curl_easy_setopt(c, CURLOPT_SSL_CTX_DATA, (void *)h->ca_file);
    }
    if (strcmp(rq->method, "GET") != 0) {
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, rq->method);
    }
    if (rq->body != NULL) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, rq->body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(rq->body));
    } else if (strcmp(rq->method, "POST") == 0) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)0);
    }

    CURLcode cr = curl_easy_perform(c);
    /* The easy handle keeps pointers to the list and our stack until reset: drop them now. */
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, NULL);
    wipe_headers(headers);
    if (cr == CURLE_OK) {
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
        if (out->body == NULL) {
            out->body = calloc(1, 1);
            if (out->body == NULL) {
                snprintf(err, err_size, "out of memory");
                return RR_CLIENT_OUT_OF_MEMORY;
            }
        }
        return RR_CLIENT_SUCCESS;
    }
    enum rr_client_result result = RR_CLIENT_NO_CONNECTION;
    if (t.no_memory) {
        snprintf(err, err_size, "out of memory");
        result = RR_CLIENT_OUT_OF_MEMORY;
    } else if (t.too_large) {
        snprintf(err, err_size, "%s %s: the answer is larger than %u bytes", rq->method, shown,
                 CL_HTTP_MAX_BODY);
        result = RR_CLIENT_API_UNAVAILABLE;
    } else if (cr == CURLE_ABORTED_BY_CALLBACK) {
        snprintf(err, err_size, "%s %s: cancelled (the frontend was released)", rq->method, shown);
    } else {
        snprintf(err, err_size, "cannot reach %s: %s", shown,
                 curl_err[0] != '\0' ? curl_err : curl_easy_strerror(cr));
    }
    cl_http_response_free(out);
    return result;
}

const char *cl_http_reason(long status)
{
    switch (status) {
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 204:
        return "No Content";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 409:
        return "Conflict";
    case 413:
        return "Payload Too Large";
    case 422:
        return "Unprocessable Entity";
    case 429:
        return "Too Many Requests";
    case 500:
        return "Internal Server Error";
    case 502:
        return "Bad Gateway";
    case 503:
        return "Service Unavailable";
    case 504:
        return "Gateway Timeout";
    default:
        return "";
    }
}
