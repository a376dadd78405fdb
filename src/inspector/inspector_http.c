/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The inspector's HTTP side on libmicrohttpd: routing, the bearer-token check, the JSON
 * endpoints, the Server-Sent-Events stream and the pause switch. Runs on libmicrohttpd's
 * threads: one per connection (bounded by max_connections), so an event stream may block its
 * own thread while it waits for the next sample.
 */
#include "inspector_internal.h"

#include "u_log.h"

#include <errno.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define LOG_MOD "inspector"
#define REALM_HEADER "Bearer realm=\"openrr-inspector\""
#define SSE_KEEPALIVE_MS 15000

enum route {
    ROUTE_STATIC,
    ROUTE_HEALTH,
    ROUTE_STATS,
    ROUTE_LOG,
    ROUTE_SCENE,
    ROUTE_TRACE,
    ROUTE_EVENTS,
    ROUTE_PAUSE,
    ROUTE_NOT_FOUND,
};

/* Per request: kept from the first call of the access handler (headers) to the last (body
 * complete); freed by on_completed. */
struct request {
    enum route route;
    size_t body_len;
    char body[RR_INSPECTOR_MAX_BODY];
};

static enum route route_of(const char *url)
{
    static const struct {
        const char *path;
        enum route route;
    } api[] = {
        {"/api/health", ROUTE_HEALTH}, {"/api/stats", ROUTE_STATS}, {"/api/log", ROUTE_LOG},
        {"/api/scene", ROUTE_SCENE},   {"/api/trace", ROUTE_TRACE}, {"/api/events", ROUTE_EVENTS},
        {"/api/pause", ROUTE_PAUSE},
    };
    for (size_t i = 0; i < sizeof(api) / sizeof(api[0]); i++) {
        if (strcmp(url, api[i].path) == 0) {
            return api[i].route;
        }
    }
    if (strcmp(url, "/api") == 0 || strncmp(url, "/api/", 5) == 0) {
        return ROUTE_NOT_FOUND;
    }
    return ROUTE_STATIC;
}

/* ---- responses --------------------------------------------------------------------------- */

static void add_common_headers(struct MHD_Response *r)
{
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "X-Frame-Options", "DENY");
    /* The page's first URL carries ?token=: never send it on as a Referer. */
    MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(r, "Content-Security-Policy",
                            "default-src 'self'; img-src 'self' data:; connect-src 'self'; "
                            "frame-ancestors 'none'; base-uri 'none'; form-action 'none'");
}

/* Queue @p r (may be NULL: out of memory → the connection is closed) and drop our reference. */
static enum MHD_Result queue(struct MHD_Connection *c, unsigned int status, struct MHD_Response *r)
{
    if (r == NULL) {
        return MHD_NO;
    }
    add_common_headers(r);
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

/* @p text is malloc'd JSON (ownership passes); NULL = out of memory → 500. */
static enum MHD_Result reply_json(struct MHD_Connection *c, unsigned int status, char *text)
{
    if (text == NULL) {
        static const char oom[] = "{\"error\":\"out of memory\"}";
        struct MHD_Response *r =
            MHD_create_response_from_buffer(sizeof(oom) - 1, (void *)oom, MHD_RESPMEM_PERSISTENT);
        if (r != NULL) {
            MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
        }
        return queue(c, MHD_HTTP_INTERNAL_SERVER_ERROR, r);
    }
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
    if (r == NULL) {
        free(text);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    return queue(c, status, r);
}

static enum MHD_Result reply_error(struct MHD_Connection *c, unsigned int status,
                                   const char *message)
{
    json_t *o = json_pack("{s:s}", "error", message);
    char *text = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    return reply_json(c, status, text);
}

static enum MHD_Result reply_unauthorized(struct MHD_Connection *c, bool token_given)
{
    static const char body[] = "{\"error\":\"unauthorized\"}";
    struct MHD_Response *r =
        MHD_create_response_from_buffer(sizeof(body) - 1, (void *)body, MHD_RESPMEM_PERSISTENT);
    if (r == NULL) {
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
                            token_given ? REALM_HEADER ", error=\"invalid_token\"" : REALM_HEADER);
    return queue(c, MHD_HTTP_UNAUTHORIZED, r);
}

static enum MHD_Result reply_method_not_allowed(struct MHD_Connection *c, const char *allow)
{
    static const char body[] = "{\"error\":\"method not allowed\"}";
    struct MHD_Response *r =
        MHD_create_response_from_buffer(sizeof(body) - 1, (void *)body, MHD_RESPMEM_PERSISTENT);
    if (r == NULL) {
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow);
    return queue(c, MHD_HTTP_METHOD_NOT_ALLOWED, r);
}

/* ---- token ------------------------------------------------------------------------------- */

/* The token from "Authorization: Bearer" or else ?token=; NULL when neither is there. */
static const char *token_of(struct MHD_Connection *c)
{
    const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    if (h != NULL) {
        if (strncasecmp(h, "Bearer ", 7) != 0) {
            return "";
        }
        h += 7;
        while (*h == ' ') {
            h++;
        }
        return h;
    }
    return MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "token");
}

/* The fixed token: SHA-256 digests compared in constant time, so the time taken says nothing
 * about the token, not even its length. Then the optional hook (config.verify_token). */
static bool token_ok(struct rr_inspector *insp, const char *token)
{
    size_t len = strnlen(token, RR_INSPECTOR_VERIFY_TOKEN_MAX + 1);
    if (len == 0 || len > RR_INSPECTOR_VERIFY_TOKEN_MAX) {
        return false;
    }
    bool ok = false;
    if (len <= RR_INSPECTOR_TOKEN_MAX) {
        uint8_t hash[SHA256_DIGEST_LENGTH];
        unsigned int hlen = 0;
        ok = EVP_Digest(token, len, hash, &hlen, EVP_sha256(), NULL) == 1 &&
             hlen == SHA256_DIGEST_LENGTH &&
             CRYPTO_memcmp(hash, insp->token_hash, SHA256_DIGEST_LENGTH) == 0;
        OPENSSL_cleanse(hash, sizeof(hash));
    }
    if (!ok && insp->verify_token != NULL) {
        ok = insp->verify_token(insp->verify_user, token);
    }
    return ok;
}

/* ---- server-sent events ------------------------------------------------------------------- */

struct sse {
    struct rr_inspector *insp;
    uint64_t last_seq;
    bool started;
    char *pending; /* the event being sent */
    size_t len, off;
};

static bool wait_sample(struct rr_inspector *insp, uint64_t last_seq,
                        struct rr_inspector_sample *out, bool *out_timeout)
{
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += SSE_KEEPALIVE_MS / 1000;
    *out_timeout = false;
    pthread_mutex_lock(&insp->lock);
    while (!atomic_load(&insp->stopping) && insp->seq == last_seq) {
        if (pthread_cond_timedwait(&insp->new_sample, &insp->lock, &deadline) == ETIMEDOUT) {
            *out_timeout = true;
            break;
        }
    }
    bool alive = !atomic_load(&insp->stopping);
    if (alive && !*out_timeout) {
        size_t i = (insp->history_head + insp->history_cap - 1) % insp->history_cap;
        *out = insp->history[i];
    }
    pthread_mutex_unlock(&insp->lock);
    return alive;
}

/* Prepare the next event in s->pending; false = end the stream (stopping, out of memory). */
static bool sse_next(struct sse *s)
{
    struct rr_inspector_sample sample;
    bool timeout;
    if (!wait_sample(s->insp, s->last_seq, &sample, &timeout)) {
        return false;
    }
    const char *retry = s->started ? "" : "retry: 2000\n";
    s->started = true;
    if (timeout) {
        s->pending = strdup(": keep-alive\n\n");
        s->len = s->pending != NULL ? strlen(s->pending) : 0;
        return s->pending != NULL;
    }
    s->last_seq = sample.seq;
    char *json = rr_inspector_json_sample(&sample);
    if (json == NULL) {
        return false;
    }
    int n = asprintf(&s->pending, "%sevent: stats\nid: %llu\ndata: %s\n\n", retry,
                     (unsigned long long)sample.seq, json);
    free(json);
    if (n < 0) {
        s->pending = NULL;
        return false;
    }
    s->len = (size_t)n;
    return true;
}

static ssize_t sse_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct sse *s = cls;
    if (s->off == s->len) {
        free(s->pending);
        s->pending = NULL;
        s->len = s->off = 0;
        if (!sse_next(s)) {
            return MHD_CONTENT_READER_END_OF_STREAM;
        }
    }
    size_t n = s->len - s->off < max ? s->len - s->off : max;
    memcpy(buf, s->pending + s->off, n);
    s->off += n;
    return (ssize_t)n;
}

static void sse_free(void *cls)
{
    struct sse *s = cls;
    free(s->pending);
    free(s);
}

static enum MHD_Result serve_events(struct rr_inspector *insp, struct MHD_Connection *c)
{
    struct sse *s = calloc(1, sizeof(*s));
    if (s == NULL) {
        return reply_json(c, 0, NULL);
    }
    s->insp = insp;
    struct MHD_Response *r =
        MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16384, sse_read, s, sse_free);
    if (r == NULL) {
        free(s);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/event-stream");
    MHD_add_response_header(r, "X-Accel-Buffering", "no");
    return queue(c, MHD_HTTP_OK, r);
}

/* ---- endpoints ----------------------------------------------------------------------------- */

static enum MHD_Result serve_log(struct rr_inspector *insp, struct MHD_Connection *c)
{
    enum u_log_level level = U_LOG_TRACE;
    const char *q = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "level");
    if (q != NULL && *q != '\0' && !rr_inspector_parse_level(q, &level)) {
        return reply_error(c, MHD_HTTP_BAD_REQUEST, "level must be trace|debug|info|warn|error");
    }
    return reply_json(c, MHD_HTTP_OK, rr_inspector_json_log(insp, level));
}

static enum MHD_Result serve_scene(struct rr_inspector *insp, struct MHD_Connection *c)
{
    bool invalid;
    char *text = rr_inspector_json_scene(insp, &invalid);
    if (invalid) {
        return reply_error(c, MHD_HTTP_BAD_GATEWAY, "the scene source returned invalid JSON");
    }
    return reply_json(c, MHD_HTTP_OK, text);
}

static enum MHD_Result serve_trace(struct rr_inspector *insp, struct MHD_Connection *c)
{
    char *text = rr_inspector_json_trace(insp);
    if (text == NULL) {
        return reply_json(c, 0, NULL);
    }
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
    if (r == NULL) {
        free(text);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_DISPOSITION,
                            "attachment; filename=\"openrr-trace.json\"");
    return queue(c, MHD_HTTP_OK, r);
}

static enum MHD_Result serve_pause(struct rr_inspector *insp, struct MHD_Connection *c,
                                   const struct request *req)
{
    if (insp->source->set_paused == NULL) {
        return reply_error(c, MHD_HTTP_NOT_IMPLEMENTED, "this host cannot pause");
    }
    json_error_t jerr;
    json_t *body = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &jerr);
    json_t *v = json_object_get(body, "paused");
    if (!json_is_boolean(v)) {
        json_decref(body);
        return reply_error(c, MHD_HTTP_BAD_REQUEST, "expected {\"paused\": true|false}");
    }
    bool paused = json_is_true(v);
    json_decref(body);
    rr_inspector_source_set_paused(insp->source, paused);
    U_LOG_I(LOG_MOD, "rendering %s from the inspector", paused ? "paused" : "resumed");
    json_t *o = json_pack("{s:b}", "paused", paused);
    char *text = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    return reply_json(c, MHD_HTTP_OK, text);
}

static enum MHD_Result serve(struct rr_inspector *insp, struct MHD_Connection *c,
                             const struct request *req, const char *url)
{
    switch (req->route) {
    case ROUTE_HEALTH:
        return reply_json(c, MHD_HTTP_OK, strdup("{\"status\":\"ok\"}"));
    case ROUTE_STATS:
        return reply_json(c, MHD_HTTP_OK, rr_inspector_json_stats(insp));
    case ROUTE_LOG:
        return serve_log(insp, c);
    case ROUTE_SCENE:
        return serve_scene(insp, c);
    case ROUTE_TRACE:
        return serve_trace(insp, c);
    case ROUTE_EVENTS:
        return serve_events(insp, c);
    case ROUTE_PAUSE:
        return serve_pause(insp, c, req);
    case ROUTE_STATIC: {
        unsigned int status = 0;
        struct MHD_Response *r = rr_inspector_static_response(insp, url, &status);
        return queue(c, status, r);
    }
    case ROUTE_NOT_FOUND:
        break;
    }
    return reply_error(c, MHD_HTTP_NOT_FOUND, "not found");
}

/* ---- the access handler --------------------------------------------------------------------- */

/* First call (headers only): method, token and declared body size are checked here, so a
 * refused request never has its body read. True when a refusal was queued (*out_ret). */
static bool refuse_early(struct rr_inspector *insp, struct MHD_Connection *c,
                         const struct request *req, const char *method, enum MHD_Result *out_ret)
{
    bool get =
        strcmp(method, MHD_HTTP_METHOD_GET) == 0 || strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;
    bool post = strcmp(method, MHD_HTTP_METHOD_POST) == 0;
    if (req->route == ROUTE_PAUSE ? !post : !get) {
        *out_ret = reply_method_not_allowed(c, req->route == ROUTE_PAUSE ? "POST" : "GET, HEAD");
        return true;
    }
    /* The page's files hold no data (every datum comes from the API), and a browser's loads of
     * them carry no Authorization header: they are public, like /api/health. */
    if (req->route != ROUTE_HEALTH && req->route != ROUTE_STATIC) {
        const char *token = token_of(c);
        if (token == NULL || !token_ok(insp, token)) {
            *out_ret = reply_unauthorized(c, token != NULL);
            return true;
        }
    }
    if (post) {
        const char *cl =
            MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        const char *te =
            MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING);
        if (cl == NULL && te != NULL) {
            *out_ret = reply_error(c, MHD_HTTP_LENGTH_REQUIRED, "Content-Length required");
            return true;
        }
        if (cl != NULL) {
            char *end;
            errno = 0;
            unsigned long long n = strtoull(cl, &end, 10);
            if (errno != 0 || end == cl || n > RR_INSPECTOR_MAX_BODY) {
                *out_ret = reply_error(c, MHD_HTTP_CONTENT_TOO_LARGE, "body larger than 4 KiB");
                return true;
            }
        }
    }
    return false;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **req_cls)
{
    struct rr_inspector *insp = cls;
    struct request *req = *req_cls;
    if (req == NULL) {
        req = calloc(1, sizeof(*req));
        if (req == NULL) {
            return MHD_NO;
        }
        *req_cls = req;
        req->route = route_of(url);
        enum MHD_Result ret;
        if (refuse_early(insp, c, req, method, &ret)) {
            return ret;
        }
        if (req->route == ROUTE_PAUSE) {
            return MHD_YES; /* the body comes in the next calls */
        }
        return serve(insp, c, req, url);
    }
    if (*upload_data_size > 0) {
        /* Content-Length was checked; this only guards against a body that outgrows it. */
        if (*upload_data_size > sizeof(req->body) - req->body_len) {
            return MHD_NO;
        }
        memcpy(req->body + req->body_len, upload_data, *upload_data_size);
        req->body_len += *upload_data_size;
        *upload_data_size = 0;
        return MHD_YES;
    }
    return serve(insp, c, req, url);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **req_cls,
                         enum MHD_RequestTerminationCode toe)
{
    free(*req_cls);
    *req_cls = NULL;
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    char line[512];
    vsnprintf(line, sizeof(line), fmt, ap);
    size_t n = strlen(line);
    while (n > 0 && line[n - 1] == '\n') {
        line[--n] = '\0';
    }
    U_LOG_D(LOG_MOD, "libmicrohttpd: %s", line);
}

/* ---- start / stop --------------------------------------------------------------------------- */

static enum rr_inspector_error open_listener(const char *address, uint16_t port, int *out_fd,
                                             int *out_family, uint16_t *out_port)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE};
    struct addrinfo *ai = NULL;
    char service[8];
    snprintf(service, sizeof(service), "%u", (unsigned)port);
    if (getaddrinfo(address, service, &hints, &ai) != 0 || ai == NULL) {
        return RR_INSPECTOR_ERROR_INVALID_ARGUMENT;
    }
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        freeaddrinfo(ai);
        return RR_INSPECTOR_ERROR_BIND;
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    enum rr_inspector_error err = RR_INSPECTOR_OK;
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
        err = errno == EADDRINUSE ? RR_INSPECTOR_ERROR_ADDRESS_IN_USE : RR_INSPECTOR_ERROR_BIND;
    } else if (listen(fd, 32) != 0) {
        err = RR_INSPECTOR_ERROR_BIND;
    }
    *out_family = ai->ai_family;
    freeaddrinfo(ai);
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    if (err == RR_INSPECTOR_OK && getsockname(fd, (struct sockaddr *)&ss, &sl) != 0) {
        err = RR_INSPECTOR_ERROR_BIND;
    }
    if (err != RR_INSPECTOR_OK) {
        close(fd);
        return err;
    }
    *out_port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                               : ((struct sockaddr_in *)&ss)->sin_port);
    *out_fd = fd;
    return RR_INSPECTOR_OK;
}

enum rr_inspector_error rr_inspector_http_start(struct rr_inspector *insp,
                                                const struct rr_inspector_config *config)
{
    const char *address = config->bind_address != NULL ? config->bind_address : "127.0.0.1";
    int fd = -1, family = AF_INET;
    enum rr_inspector_error err = open_listener(address, config->port, &fd, &family, &insp->port);
    if (err != RR_INSPECTOR_OK) {
        return err;
    }
    unsigned int flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL_INTERNAL_THREAD |
                         MHD_USE_ERROR_LOG | (family == AF_INET6 ? MHD_USE_IPv6 : 0);
    unsigned int limit = config->max_connections != 0 ? config->max_connections : 16;
    insp->daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, insp, MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd,
        MHD_OPTION_CONNECTION_LIMIT, limit, MHD_OPTION_PER_IP_CONNECTION_LIMIT, limit,
        MHD_OPTION_CONNECTION_TIMEOUT, 30u, MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)32768,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, insp, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log,
        insp, MHD_OPTION_END);
    if (insp->daemon == NULL) {
        close(fd);
        return RR_INSPECTOR_ERROR_SERVER;
    }
    U_LOG_I(LOG_MOD, "inspector listening on %s port %u", address, (unsigned)insp->port);
    return RR_INSPECTOR_OK;
}

void rr_inspector_http_stop(struct rr_inspector *insp)
{
    /* Event streams see `stopping` and end; then libmicrohttpd joins its threads. */
    if (insp->daemon != NULL) {
        MHD_stop_daemon(insp->daemon);
        insp->daemon = NULL;
    }
}
