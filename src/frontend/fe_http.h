/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fe_http — openrrd's HTTP(S) server on libmicrohttpd: a thread pool with epoll, request
 * bodies collected up to a limit (413 beyond), the MS-CV correlation vector on every
 * response, JSON responses and the reference's error object, one log line and one metrics
 * sample per request. What a request means is the handler's business (fe_api.c).
 *
 * Threads: fe_http_listen / fe_http_start / fe_http_destroy on the main thread. The handler
 * runs on the pool's threads, any number at once, once per request with the whole body.
 */
#ifndef OPENRR_FE_HTTP_H
#define OPENRR_FE_HTTP_H

#include <jansson.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A correlation vector: at most this many characters (and its buffer with the NUL). */
#define FE_CV_MAX 127
#define FE_CV_SIZE (FE_CV_MAX + 1)

struct fe_http;
struct MHD_Connection;

/* A complete request, valid during the handler call. */
struct fe_http_request {
    const char *method; /* "GET", "PUT", … */
    const char *path;   /* percent-decoded, without the query */
    const char *body;   /* NUL-terminated copy ("" when none) */
    size_t body_len;
    const char *cv;        /* the request's MS-CV: the client's (valid) or a fresh one */
    const char *scheme;    /* "http" or "https" */
    const char *peer;      /* client address, for logs */
    const char *authority; /* the server's own host:port (links when Host is unusable) */
    struct MHD_Connection *connection;
};

/* A header value (case-insensitive name) or a query argument (decoded); NULL when absent. */
const char *fe_http_header(const struct fe_http_request *req, const char *name);
const char *fe_http_query(const struct fe_http_request *req, const char *name);

/* "<scheme>://<Host>" for links in responses (the client's Host header when it is a plain
 * host[:port], else the server's own address) into @p out. */
void fe_http_base_url(const struct fe_http_request *req, char *out, size_t out_size);

#define FE_HTTP_MAX_HEADERS 8

/* What the handler answers. Zeroed before the call; status 0 after it means 500. */
struct fe_http_response {
    unsigned status;
    char *body; /* malloc'd (ownership passes to fe_http); NULL = no body */
    size_t body_len;
    const char *content_type; /* static; NULL = application/json (when there is a body) */
    size_t header_count;
    struct {
        char name[40];
        char value[512];
    } headers[FE_HTTP_MAX_HEADERS];
    /* For the log line and metrics. */
    size_t route;           /* index into the handler's route table */
    const char *route_name; /* static */
    char account[128];
    char error_code[48];
    char note[160]; /* why, for the log (no secrets) */
};

/* Add a response header (value cut at 511 bytes, CR/LF refused). false when full or refused. */
bool fe_http_add_header(struct fe_http_response *resp, const char *name, const char *value);
/* The body: @p json's compact text (json is not consumed); 500 when out of memory. */
void fe_http_set_json(struct fe_http_response *resp, unsigned status, const json_t *json);
/* A static or copied text body with its content type. */
void fe_http_set_text(struct fe_http_response *resp, unsigned status, const char *content_type,
                      const char *text);
/* The reference's error object {"error":{"code","message","target"?,"details":[]}} with
 * @p status; @p target NULL = left out. Also sets resp->error_code. */
void fe_http_set_error(struct fe_http_response *resp, unsigned status, const char *code,
                       const char *message, const char *target);
/* The error object's JSON text (malloc'd; NULL when out of memory). */
char *fe_http_error_json(const char *code, const char *message, const char *target);

/* Whether @p cv may be echoed: 1 to FE_CV_MAX characters of [A-Za-z0-9+/.=_-] (a cV base
 * and its ".n" increments; nothing that could split a header). */
bool fe_http_cv_valid(const char *cv);
/* A fresh cV: 22 base64 characters of 128 random bits and ".0". */
void fe_http_cv_generate(char out[FE_CV_SIZE]);

typedef void (*fe_http_handler_fn)(void *user, const struct fe_http_request *req,
                                   struct fe_http_response *resp);
/* After each response (metrics): the route, status and duration. May be NULL. */
typedef void (*fe_http_done_fn)(void *user, const struct fe_http_response *resp,
                                uint64_t duration_us);

struct fe_http_options {
    const char *host; /* numeric address or name to bind */
    uint16_t port;    /* 0 = any free port */
    unsigned threads; /* pool size, ≥ 1 */
    size_t max_body_bytes;
    const char *tls_cert_file, *tls_key_file; /* both or neither: HTTPS */
};

/* Bind and listen (so the port is known before the rest starts); load the TLS files.
 * Returns false with the reason (address in use, bad certificate, …) in @p err. */
bool fe_http_listen(const struct fe_http_options *options, struct fe_http **out_http, char *err,
                    size_t err_size);
/* The bound port and scheme. */
uint16_t fe_http_port(const struct fe_http *http);
const char *fe_http_scheme(const struct fe_http *http);
/* Start serving: @p handler answers each request, @p done (may be NULL) sees each answer;
 * both get @p user. Returns false with the reason in @p err. */
bool fe_http_start(struct fe_http *http, fe_http_handler_fn handler, fe_http_done_fn done,
                   void *user, char *err, size_t err_size);
/* Stop accepting, finish the requests in flight, free. NULL ok. */
void fe_http_destroy(struct fe_http **http_ptr);

#endif /* OPENRR_FE_HTTP_H */
