/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fe_http — libmicrohttpd server (fe_http.h). The access handler runs on the pool's threads;
 * per request it keeps a struct request (body, cV, start time) from the first call (headers)
 * to the completion callback.
 */
#include "fe_http.h"

#include "fe_keys.h"
#include "fe_log.h"

#include <microhttpd.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* A body this much over the limit is refused at once instead of being read and dropped
 * (reading it lets the client see the 413 rather than a reset connection). */
#define DISCARD_SLACK (4u * 1024u * 1024u)
#define TLS_FILE_MAX (1024 * 1024)

struct fe_http {
    int listen_fd;
    bool ipv6;
    uint16_t port;
    char host[256];
    char authority[300]; /* host:port of the listening socket, for links */
    unsigned threads;
    size_t max_body;
    char *tls_cert, *tls_key; /* PEM text; the key is wiped at destroy */
    struct MHD_Daemon *daemon;
    fe_http_handler_fn handler;
    fe_http_done_fn done;
    void *user;
};

struct request {
    uint64_t start_us;
    char *body;
    size_t len, discarded;
    bool too_large;
    bool answered; /* a response was queued early (413) */
    char cv[FE_CV_SIZE];
};

static bool fail(char *err, size_t err_size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static bool fail(char *err, size_t err_size, const char *fmt, ...)
{
    if (err != NULL && err_size > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, err_size, fmt, ap);
        va_end(ap);
    }
    return false;
}

static uint64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* ---- helpers of the handler ------------------------------------------------------------- */

const char *fe_http_header(const struct fe_http_request *req, const char *name)
{
    return MHD_lookup_connection_value(req->connection, MHD_HEADER_KIND, name);
}

const char *fe_http_query(const struct fe_http_request *req, const char *name)
{
    return MHD_lookup_connection_value(req->connection, MHD_GET_ARGUMENT_KIND, name);
}

void fe_http_base_url(const struct fe_http_request *req, char *out, size_t out_size)
{
    const char *host = fe_http_header(req, MHD_HTTP_HEADER_HOST);
    bool ok = host != NULL && host[0] != '\0' && strlen(host) < 256;
    for (const char *p = host; ok && *p != '\0'; p++) {
        unsigned char c = (unsigned char)*p;
        ok = isalnum(c) || c == '.' || c == '-' || c == ':' || c == '[' || c == ']' || c == '_';
    }
    if (!ok) {
        host = req->authority;
    }
    snprintf(out, out_size, "%s://%s", req->scheme, host);
}

bool fe_http_add_header(struct fe_http_response *resp, const char *name, const char *value)
{
    if (resp->header_count >= FE_HTTP_MAX_HEADERS || strpbrk(value, "\r\n") != NULL ||
        strlen(name) >= sizeof resp->headers[0].name) {
        return false;
    }
    snprintf(resp->headers[resp->header_count].name, sizeof resp->headers[0].name, "%s", name);
    snprintf(resp->headers[resp->header_count].value, sizeof resp->headers[0].value, "%s", value);
    resp->header_count++;
    return true;
}

static void set_body(struct fe_http_response *resp, unsigned status, char *body,
                     const char *content_type)
{
    free(resp->body);
    resp->status = status;
    resp->body = body;
    resp->body_len = body != NULL ? strlen(body) : 0;
    resp->content_type = content_type;
}

void fe_http_set_json(struct fe_http_response *resp, unsigned status, const json_t *json)
{
    char *text = json != NULL ? json_dumps(json, JSON_COMPACT) : NULL;
    if (text == NULL) {
        fe_http_set_error(resp, 500, "InternalError", "out of memory", NULL);
        return;
    }
    set_body(resp, status, text, "application/json; charset=utf-8");
}

void fe_http_set_text(struct fe_http_response *resp, unsigned status, const char *content_type,
                      const char *text)
{
    char *copy = text != NULL ? strdup(text) : NULL;
    if (text != NULL && copy == NULL) {
        fe_http_set_error(resp, 500, "InternalError", "out of memory", NULL);
        return;
    }
    set_body(resp, status, copy, content_type);
}

char *fe_http_error_json(const char *code, const char *message, const char *target)
{
    json_t *inner = json_object();
    json_t *outer = json_object();
    char *text = NULL;
    if (inner != NULL && outer != NULL &&
        json_object_set_new(inner, "code", json_string(code)) == 0 &&
        json_object_set_new(inner, "message", json_string(message)) == 0 &&
        (target == NULL || json_object_set_new(inner, "target", json_string(target)) == 0) &&
        json_object_set_new(inner, "details", json_array()) == 0 &&
        json_object_set(outer, "error", inner) == 0) {
        text = json_dumps(outer, JSON_COMPACT);
    }
    json_decref(inner);
    json_decref(outer);
    return text;
}

void fe_http_set_error(struct fe_http_response *resp, unsigned status, const char *code,
                       const char *message, const char *target)
{
    snprintf(resp->error_code, sizeof resp->error_code, "%s", code);
    char *text = fe_http_error_json(code, message, target);
    if (text == NULL) {
        /* The constant fallback needs no memory but its copy; without that, the connection
         * closes (status 0 → fe_http answers without a body). */
        text = strdup("{\"error\":{\"code\":\"InternalError\",\"message\":\"out of memory\","
                      "\"details\":[]}}");
        status = 500;
    }
    set_body(resp, status, text, "application/json; charset=utf-8");
}

bool fe_http_cv_valid(const char *cv)
{
    if (cv == NULL) {
        return false;
    }
    size_t n = strnlen(cv, FE_CV_MAX + 1);
    if (n == 0 || n > FE_CV_MAX) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)cv[i];
        if (!(isalnum(c) || c == '+' || c == '/' || c == '.' || c == '=' || c == '_' || c == '-')) {
            return false;
        }
    }
    return true;
}

/* cVs whose random bits one RAND_bytes call draws: its cost is per call far more than per byte
 * (called for each request, it was 5-7 % of a small request's CPU time). */
#define CV_BATCH 64

void fe_http_cv_generate(char out[FE_CV_SIZE])
{
    /* Per thread, so no lock; a cV is not a secret, so the bits may wait here. */
    static _Thread_local uint8_t batch[CV_BATCH * 16];
    static _Thread_local size_t used = CV_BATCH;
    uint8_t r[16];
    if (used == CV_BATCH && RAND_bytes(batch, sizeof batch) == 1) {
        used = 0;
    }
    if (used < CV_BATCH) {
        memcpy(r, batch + used * 16, sizeof r);
        used++;
    } else {
        /* A correlation vector is not a secret: a clock-based one will do. */
        uint64_t t = mono_us();
        memcpy(r, &t, sizeof t);
        memcpy(r + 8, &t, sizeof t);
    }
    unsigned char b64[32];
    EVP_EncodeBlock(b64, r, sizeof r); /* 24 characters, the last two "==" */
    memcpy(out, b64, 22);
    memcpy(out + 22, ".0", 3);
}

/* ---- libmicrohttpd callbacks ------------------------------------------------------------- */

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r')) {
        msg[--n] = '\0';
    }
    fe_log_msg(FE_LOG_WARN, "http", "%s", msg);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)c;
    (void)toe;
    struct request *r = *con_cls;
    if (r != NULL) {
        if (r->body != NULL) {
            OPENSSL_cleanse(r->body, r->len); /* bodies carry SAS tokens */
            free(r->body);
        }
        free(r);
        *con_cls = NULL;
    }
}

static void peer_of(struct MHD_Connection *c, char *out, size_t out_size)
{
    snprintf(out, out_size, "-");
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (ci == NULL || ci->client_addr == NULL) {
        return;
    }
    const struct sockaddr *sa = ci->client_addr;
    if (sa->sa_family == AF_INET) {
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, out,
                  (socklen_t)out_size);
    } else if (sa->sa_family == AF_INET6) {
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, out,
                  (socklen_t)out_size);
    }
}

static void log_request(const struct fe_http_request *req, const struct fe_http_response *resp,
                        uint64_t duration_us)
{
    enum fe_log_level level = resp->status >= 500 ? FE_LOG_ERROR : FE_LOG_INFO;
    if (!fe_log_enabled(level)) {
        return;
    }
    struct fe_log_line l;
    fe_log_begin(&l, level, "request");
    fe_log_str(&l, "cv", req->cv);
    fe_log_str(&l, "peer", req->peer);
    fe_log_str(&l, "method", req->method);
    fe_log_str(&l, "path", req->path);
    fe_log_str(&l, "route", resp->route_name);
    fe_log_str(&l, "account", resp->account[0] != '\0' ? resp->account : NULL);
    fe_log_int(&l, "status", resp->status);
    fe_log_str(&l, "code", resp->error_code[0] != '\0' ? resp->error_code : NULL);
    fe_log_str(&l, "note", resp->note[0] != '\0' ? resp->note : NULL);
    fe_log_double(&l, "ms", (double)duration_us / 1000.0);
    fe_log_end(&l);
}

/* Queue @p resp (its body passes to libmicrohttpd) with MS-CV and the common headers. */
static enum MHD_Result send_response(struct fe_http *h, struct MHD_Connection *c,
                                     const struct fe_http_request *req,
                                     struct fe_http_response *resp, uint64_t start_us)
{
    if (resp->status == 0) {
        fe_http_set_error(resp, 500, "InternalError", "the request was not answered", NULL);
    }
    struct MHD_Response *r;
    if (resp->body != NULL) {
        r = MHD_create_response_from_buffer(resp->body_len, resp->body, MHD_RESPMEM_MUST_FREE);
        if (r == NULL) {
            free(resp->body);
        }
    } else {
        r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    }
    resp->body = NULL;
    if (r == NULL) {
        return MHD_NO;
    }
    MHD_add_response_header(r, "MS-CV", req->cv);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    if (resp->body_len > 0 || resp->content_type != NULL) {
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
                                resp->content_type != NULL ? resp->content_type
                                                           : "application/json; charset=utf-8");
    }
    for (size_t i = 0; i < resp->header_count; i++) {
        MHD_add_response_header(r, resp->headers[i].name, resp->headers[i].value);
    }
    enum MHD_Result ret = MHD_queue_response(c, resp->status, r);
    MHD_destroy_response(r);
    uint64_t duration = mono_us() - start_us;
    log_request(req, resp, duration);
    if (h->done != NULL) {
        h->done(h->user, resp, duration);
    }
    return ret;
}

static void fill_request(struct fe_http *h, struct MHD_Connection *c, const char *url,
                         const char *method, struct request *r, struct fe_http_request *req,
                         char *peer, size_t peer_size)
{
    peer_of(c, peer, peer_size);
    memset(req, 0, sizeof *req);
    req->method = method;
    req->path = url;
    req->body = r->body != NULL ? r->body : "";
    req->body_len = r->len;
    req->cv = r->cv;
    req->scheme = h->tls_cert != NULL ? "https" : "http";
    req->peer = peer;
    req->authority = h->authority;
    req->connection = c;
}

static enum MHD_Result answer_too_large(struct fe_http *h, struct MHD_Connection *c,
                                        const char *url, const char *method, struct request *r)
{
    struct fe_http_request req;
    char peer[64];
    fill_request(h, c, url, method, r, &req, peer, sizeof peer);
    struct fe_http_response resp;
    memset(&resp, 0, sizeof resp);
    char msg[128];
    snprintf(msg, sizeof msg, "the request body is larger than %zu bytes", h->max_body);
    fe_http_set_error(&resp, 413, "RequestEntityTooLarge", msg, NULL);
    resp.route_name = "-";
    resp.route = SIZE_MAX;
    r->answered = true;
    return send_response(h, c, &req, &resp, r->start_us);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    (void)version;
    struct fe_http *h = cls;
    struct request *r = *con_cls;
    if (r == NULL) {
        /* First call: headers only. */
        r = calloc(1, sizeof *r);
        if (r == NULL) {
            return MHD_NO;
        }
        *con_cls = r;
        r->start_us = mono_us();
        const char *cv = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "MS-CV");
        if (!fe_http_cv_valid(cv)) {
            cv = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-MRC-CV");
        }
        if (fe_http_cv_valid(cv)) {
            snprintf(r->cv, sizeof r->cv, "%s", cv);
        } else {
            fe_http_cv_generate(r->cv);
        }
        const char *cl =
            MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl != NULL) {
            errno = 0;
            char *end = NULL;
            unsigned long long n = strtoull(cl, &end, 10);
            /* A malformed length is libmicrohttpd's to refuse; a large one is ours. */
            bool parsed = errno == 0 && end != cl;
            if (parsed && n > h->max_body) {
                const char *expect =
                    MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_EXPECT);
                r->too_large = true;
                /* With "Expect: 100-continue" nothing was sent yet: refuse now. */
                if (n > h->max_body + DISCARD_SLACK ||
                    (expect != NULL && strcasecmp(expect, "100-continue") == 0)) {
                    return answer_too_large(h, c, url, method, r);
                }
            }
        }
        return MHD_YES;
    }
    if (r->answered) {
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (!r->too_large && r->len + n > h->max_body) {
            r->too_large = true;
            if (r->body != NULL) {
                OPENSSL_cleanse(r->body, r->len);
                free(r->body);
                r->body = NULL;
            }
            r->discarded = r->len;
            r->len = 0;
        }
        if (r->too_large) {
            r->discarded += n;
            if (r->discarded > h->max_body + DISCARD_SLACK) {
                return answer_too_large(h, c, url, method, r);
            }
            return MHD_YES;
        }
        char *grown = realloc(r->body, r->len + n + 1);
        if (grown == NULL) {
            return MHD_NO;
        }
        r->body = grown;
        memcpy(r->body + r->len, upload_data, n);
        r->len += n;
        r->body[r->len] = '\0';
        return MHD_YES;
    }
    if (r->too_large) {
        return answer_too_large(h, c, url, method, r);
    }

    struct fe_http_request req;
    char peer[64];
    fill_request(h, c, url, method, r, &req, peer, sizeof peer);
    struct fe_http_response resp;
    memset(&resp, 0, sizeof resp);
    resp.route = SIZE_MAX;
    h->handler(h->user, &req, &resp);
    r->answered = true;
    return send_response(h, c, &req, &resp, r->start_us);
}

/* ---- listen, start, destroy -------------------------------------------------------------- */

static char *read_small_file(const char *path, char *err, size_t err_size)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        fail(err, err_size, "cannot open '%s': %s", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > TLS_FILE_MAX) {
        close(fd);
        fail(err, err_size, "'%s' is not a regular file of at most 1 MiB", path);
        return NULL;
    }
    char *buf = malloc((size_t)st.st_size + 1);
    if (buf == NULL) {
        close(fd);
        fail(err, err_size, "out of memory");
        return NULL;
    }
    size_t got = 0;
    while (got < (size_t)st.st_size) {
        ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            break;
        }
        got += (size_t)n;
    }
    close(fd);
    buf[got] = '\0';
    return buf;
}

bool fe_http_listen(const struct fe_http_options *o, struct fe_http **out_http, char *err,
                    size_t err_size)
{
    *out_http = NULL;
    if ((o->tls_cert_file == NULL) != (o->tls_key_file == NULL)) {
        return fail(err, err_size, "HTTPS needs both a certificate and a key");
    }
    struct fe_http *h = calloc(1, sizeof *h);
    if (h == NULL) {
        return fail(err, err_size, "out of memory");
    }
    h->listen_fd = -1;
    h->threads = o->threads < 1 ? 1 : o->threads;
    h->max_body = o->max_body_bytes;
    snprintf(h->host, sizeof h->host, "%s", o->host);
    if (o->tls_cert_file != NULL) {
        if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
            free(h);
            return fail(err, err_size, "this libmicrohttpd was built without TLS: no HTTPS");
        }
        h->tls_cert = read_small_file(o->tls_cert_file, err, err_size);
        h->tls_key = h->tls_cert != NULL ? read_small_file(o->tls_key_file, err, err_size) : NULL;
        if (h->tls_key == NULL) {
            fe_http_destroy(&h);
            return false;
        }
        if (strstr(h->tls_cert, "-----BEGIN CERTIFICATE-----") == NULL ||
            strstr(h->tls_key, "PRIVATE KEY-----") == NULL) {
            fe_http_destroy(&h);
            return fail(err, err_size,
                        "tls_cert must hold a PEM certificate and tls_key a PEM "
                        "private key");
        }
    }

    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE;
    char port[8];
    snprintf(port, sizeof port, "%u", (unsigned)o->port);
    int gai = getaddrinfo(o->host, port, &hints, &res);
    if (gai != 0) {
        fe_http_destroy(&h);
        return fail(err, err_size, "cannot resolve the listen address '%s': %s", o->host,
                    gai_strerror(gai));
    }
    int last_errno = 0;
    for (struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
        int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) {
            last_errno = errno;
            continue;
        }
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (ai->ai_family == AF_INET6) {
            setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
        }
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 1024) != 0) {
            last_errno = errno;
            close(fd);
            continue;
        }
        h->listen_fd = fd;
        h->ipv6 = ai->ai_family == AF_INET6;
        break;
    }
    freeaddrinfo(res);
    if (h->listen_fd < 0) {
        fe_http_destroy(&h);
        return fail(err, err_size, "cannot listen on %s:%u: %s", o->host, (unsigned)o->port,
                    strerror(last_errno));
    }
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    if (getsockname(h->listen_fd, (struct sockaddr *)&ss, &sl) != 0) {
        fe_http_destroy(&h);
        return fail(err, err_size, "getsockname: %s", strerror(errno));
    }
    h->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                             : ((struct sockaddr_in *)&ss)->sin_port);
    const char *self = o->host;
    if (strcmp(self, "0.0.0.0") == 0 || self[0] == '\0') {
        self = "127.0.0.1";
    } else if (strcmp(self, "::") == 0) {
        self = "::1";
    }
    snprintf(h->authority, sizeof h->authority, strchr(self, ':') != NULL ? "[%s]:%u" : "%s:%u",
             self, (unsigned)h->port);
    *out_http = h;
    return true;
}

uint16_t fe_http_port(const struct fe_http *http)
{
    return http->port;
}

const char *fe_http_scheme(const struct fe_http *http)
{
    return http->tls_cert != NULL ? "https" : "http";
}

bool fe_http_start(struct fe_http *h, fe_http_handler_fn handler, fe_http_done_fn done, void *user,
                   char *err, size_t err_size)
{
    h->handler = handler;
    h->done = done;
    h->user = user;
    unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ERROR_LOG;
    if (h->ipv6) {
        flags |= MHD_USE_IPv6;
    }
    struct MHD_OptionItem opts[16];
    size_t n = 0;
    /* The logger first: libmicrohttpd logs with its own until it has seen it. */
    opts[n++] = (struct MHD_OptionItem){MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)mhd_log, h};
    opts[n++] = (struct MHD_OptionItem){MHD_OPTION_LISTEN_SOCKET, h->listen_fd, NULL};
    if (h->threads > 1) {
        opts[n++] = (struct MHD_OptionItem){MHD_OPTION_THREAD_POOL_SIZE, h->threads, NULL};
    }
    opts[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_TIMEOUT, 30, NULL};
    opts[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_LIMIT, 4096, NULL};
    /* Headers (an 8 KiB token among them) and the read buffer live in this pool. Not more:
     * libmicrohttpd zeroes the whole pool between two requests of a keep-alive connection,
     * and at 128 KiB that memset was a fifth of a small request's CPU time. */
    opts[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_MEMORY_LIMIT, 32 * 1024, NULL};
    opts[n++] = (struct MHD_OptionItem){MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_completed, h};
    if (h->tls_cert != NULL) {
        flags |= MHD_USE_TLS;
        opts[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0, h->tls_cert};
        opts[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0, h->tls_key};
        opts[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_PRIORITIES, 0,
                                            (void *)"NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"};
    }
    opts[n++] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
    h->daemon = MHD_start_daemon(flags, 0, NULL, NULL, on_request, h, MHD_OPTION_ARRAY, opts,
                                 MHD_OPTION_END);
    if (h->daemon == NULL) {
        return fail(err, err_size, "libmicrohttpd did not start (see the log above%s)",
                    h->tls_cert != NULL ? "; is the TLS key the certificate's?" : "");
    }
    h->listen_fd = -1; /* libmicrohttpd owns (and closes) it now */
    return true;
}

void fe_http_destroy(struct fe_http **http_ptr)
{
    if (http_ptr == NULL || *http_ptr == NULL) {
        return;
    }
    struct fe_http *h = *http_ptr;
    if (h->daemon != NULL) {
        MHD_stop_daemon(h->daemon);
    }
    if (h->listen_fd >= 0) {
        close(h->listen_fd);
    }
    free(h->tls_cert);
    if (h->tls_key != NULL) {
        OPENSSL_cleanse(h->tls_key, strlen(h->tls_key));
        free(h->tls_key);
    }
    free(h);
    *http_ptr = NULL;
}
