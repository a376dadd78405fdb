/* SPDX-License-Identifier: Apache-2.0 */
/*
 * openrrd's HTTP side and the small modules around it:
 * - fe_http's helpers: which MS-CV values may be echoed (none that could split a header), a
 *   fresh cV's form, the reference's error object (target present or left out, text escaped),
 *   response headers refusing CR/LF;
 * - a live fe_http server on 127.0.0.1:0 driven with libcurl: the MS-CV echoed (MS-CV or
 *   X-MRC-CV) or generated, bodies delivered intact up to the limit and 413 beyond it (with a
 *   Content-Length, chunked, and refused at once after Expect: 100-continue), a handler that
 *   answers nothing → 500, query and header lookup, a port in use → a clear error;
 * - fe_ratelimit: burst, refill, Retry-After, accounts apart, a bounded table;
 * - fe_log: key=value quoting and JSON escaping (no raw newline from a client's text);
 * - fe_config: defaults, flags with dashes, sizes, listen addresses, port ranges, host
 *   arguments (--plain refused), the INI file (unknown key named with its line), environment,
 *   derived values;
 * - fe_metrics: the Prometheus text.
 */
#include "rr_test.h"

#include "fe_config.h"
#include "fe_http.h"
#include "fe_log.h"
#include "fe_metrics.h"
#include "fe_ratelimit.h"

#include <curl/curl.h>
#include <jansson.h>
#include <regex.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* ---- helpers ------------------------------------------------------------------------------ */

static void test_cv(void **state)
{
    (void)state;
    assert_true(fe_http_cv_valid("abc"));
    assert_true(fe_http_cv_valid("Q5Vg+/Az4UmXGgkK3YJq9w.0.1.2"));
    assert_true(fe_http_cv_valid("a-b_c=d"));
    assert_false(fe_http_cv_valid(NULL));
    assert_false(fe_http_cv_valid(""));
    assert_false(fe_http_cv_valid("a b"));
    assert_false(fe_http_cv_valid("a\r\nX-Evil: 1"));
    assert_false(fe_http_cv_valid("a\"b"));
    assert_false(fe_http_cv_valid("a,b"));
    assert_false(fe_http_cv_valid("a;b"));
    char long_cv[200];
    memset(long_cv, 'a', sizeof long_cv);
    long_cv[FE_CV_MAX] = '\0';
    assert_true(fe_http_cv_valid(long_cv));
    long_cv[FE_CV_MAX] = 'a';
    long_cv[FE_CV_MAX + 1] = '\0';
    assert_false(fe_http_cv_valid(long_cv));

    char a[FE_CV_SIZE], b[FE_CV_SIZE];
    fe_http_cv_generate(a);
    fe_http_cv_generate(b);
    assert_string_not_equal(a, b);
    assert_int_equal(strlen(a), 24);
    assert_string_equal(a + 22, ".0");
    assert_true(fe_http_cv_valid(a));
    regex_t re;
    assert_int_equal(regcomp(&re, "^[A-Za-z0-9+/]{22}\\.0$", REG_EXTENDED | REG_NOSUB), 0);
    assert_int_equal(regexec(&re, a, 0, NULL, 0), 0);
    regfree(&re);
}

static void test_error_json(void **state)
{
    (void)state;
    char *t = fe_http_error_json("InvalidArgument", "bad \"x\"\nnext", "settings.x");
    assert_non_null(t);
    assert_null(strchr(t, '\n')); /* escaped, never raw */
    json_t *j = json_loads(t, JSON_REJECT_DUPLICATES, NULL);
    assert_non_null(j);
    json_t *e = json_object_get(j, "error");
    assert_string_equal(json_string_value(json_object_get(e, "code")), "InvalidArgument");
    assert_string_equal(json_string_value(json_object_get(e, "message")), "bad \"x\"\nnext");
    assert_string_equal(json_string_value(json_object_get(e, "target")), "settings.x");
    assert_true(json_is_array(json_object_get(e, "details")));
    assert_int_equal(json_array_size(json_object_get(e, "details")), 0);
    json_decref(j);
    free(t);
    t = fe_http_error_json("NotFound", "no such resource", NULL);
    j = json_loads(t, 0, NULL);
    assert_null(json_object_get(json_object_get(j, "error"), "target"));
    json_decref(j);
    free(t);

    struct fe_http_response r;
    memset(&r, 0, sizeof r);
    fe_http_set_error(&r, 409, "Conflict", "taken", NULL);
    assert_int_equal(r.status, 409);
    assert_string_equal(r.error_code, "Conflict");
    assert_int_equal(r.body_len, strlen(r.body));
    assert_true(fe_http_add_header(&r, "Retry-After", "5"));
    assert_false(fe_http_add_header(&r, "X-A", "v\r\nX-Injected: 1"));
    assert_false(fe_http_add_header(&r, "X-A", "v\n"));
    for (int i = 1; i < FE_HTTP_MAX_HEADERS; i++) {
        assert_true(fe_http_add_header(&r, "X-N", "1"));
    }
    assert_false(fe_http_add_header(&r, "X-Full", "1"));
    json_t *o = json_pack("{s:i}", "a", 1);
    fe_http_set_json(&r, 200, o); /* replaces the body */
    json_decref(o);
    assert_string_equal(r.body, "{\"a\":1}");
    free(r.body);
}

/* ---- a live server ------------------------------------------------------------------------- */

static struct fe_http *server;
static uint16_t port;

static void handler(void *user, const struct fe_http_request *req, struct fe_http_response *resp)
{
    (void)user;
    resp->route_name = "test";
    if (strcmp(req->path, "/silent") == 0) {
        return; /* status 0: fe_http answers 500 */
    }
    if (strcmp(req->path, "/teapot") == 0) {
        fe_http_set_error(resp, 418, "Teapot", "short and stout", "spout");
        return;
    }
    const char *q = fe_http_query(req, "x");
    const char *h = fe_http_header(req, "X-Test");
    char base[256];
    fe_http_base_url(req, base, sizeof base);
    json_t *o =
        json_pack("{s:s,s:s,s:I,s:s?,s:s?,s:s,s:s,s:b}", "method", req->method, "path", req->path,
                  "len", (json_int_t)req->body_len, "q", q, "h", h, "cv", req->cv, "base", base,
                  "nul_terminated", req->body[req->body_len] == '\0');
    fe_http_set_json(resp, 200, o);
    json_decref(o);
    /* The body itself comes back as a header digest: its first and last byte. */
    if (req->body_len > 0) {
        char v[32];
        snprintf(v, sizeof v, "%d-%d", (unsigned char)req->body[0],
                 (unsigned char)req->body[req->body_len - 1]);
        fe_http_add_header(resp, "X-Body-Ends", v);
    }
}

static int server_setup(void **state)
{
    (void)state;
    fe_log_configure(false, FE_LOG_ERROR);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    struct fe_http_options o = {"127.0.0.1", 0, 2, 1024, NULL, NULL};
    char err[256];
    if (!fe_http_listen(&o, &server, err, sizeof err) ||
        !fe_http_start(server, handler, NULL, NULL, err, sizeof err)) {
        fprintf(stderr, "server: %s\n", err);
        return -1;
    }
    port = fe_http_port(server);
    return port != 0 ? 0 : -1;
}

static int server_teardown(void **state)
{
    (void)state;
    fe_http_destroy(&server);
    curl_global_cleanup();
    return 0;
}

struct reply {
    long status;
    char body[8192];
    size_t len;
    char cv[256];
    char ctype[128];
    char body_ends[64];
    char cache[64];
};

static size_t on_body(char *p, size_t size, size_t n, void *user)
{
    struct reply *r = user;
    size_t len = size * n;
    size_t room = sizeof r->body - 1 - r->len;
    size_t take = len < room ? len : room;
    memcpy(r->body + r->len, p, take);
    r->len += take;
    r->body[r->len] = '\0';
    return len;
}

static void header_value(const char *line, size_t len, const char *name, char *out, size_t size)
{
    size_t nl = strlen(name);
    if (len > nl + 1 && strncasecmp(line, name, nl) == 0 && line[nl] == ':') {
        const char *v = line + nl + 1;
        while (*v == ' ') {
            v++;
        }
        size_t vl = len - (size_t)(v - line);
        while (vl > 0 && (v[vl - 1] == '\r' || v[vl - 1] == '\n')) {
            vl--;
        }
        snprintf(out, size, "%.*s", (int)vl, v);
    }
}

static size_t on_header(char *p, size_t size, size_t n, void *user)
{
    struct reply *r = user;
    size_t len = size * n;
    header_value(p, len, "MS-CV", r->cv, sizeof r->cv);
    header_value(p, len, "Content-Type", r->ctype, sizeof r->ctype);
    header_value(p, len, "X-Body-Ends", r->body_ends, sizeof r->body_ends);
    header_value(p, len, "Cache-Control", r->cache, sizeof r->cache);
    return len;
}

/* One request; @p headers NULL-terminated; @p body NULL = none (length @p len otherwise). */
static void request(const char *method, const char *path, const char *const *headers,
                    const char *body, size_t len, bool chunked, struct reply *out)
{
    memset(out, 0, sizeof *out);
    CURL *c = curl_easy_init();
    assert_non_null(c);
    char url[512];
    snprintf(url, sizeof url, "http://127.0.0.1:%u%s", (unsigned)port, path);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, out);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
    curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
    struct curl_slist *list = NULL;
    for (size_t i = 0; headers != NULL && headers[i] != NULL; i++) {
        list = curl_slist_append(list, headers[i]);
    }
    if (chunked) {
        list = curl_slist_append(list, "Transfer-Encoding: chunked");
    }
    if (body != NULL) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        if (!chunked) {
            curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)len);
        }
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, list);
    CURLcode rc = curl_easy_perform(c);
    if (rc != CURLE_OK) {
        print_error("curl: %s\n", curl_easy_strerror(rc));
    }
    assert_int_equal(rc, CURLE_OK);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
    curl_slist_free_all(list);
    curl_easy_cleanup(c);
}

static void test_server_cv(void **state)
{
    (void)state;
    struct reply r;
    request("GET", "/x?x=1", NULL, NULL, 0, false, &r);
    assert_int_equal(r.status, 200);
    assert_true(fe_http_cv_valid(r.cv));
    assert_string_equal(r.cv + strlen(r.cv) - 2, ".0");
    assert_string_equal(r.ctype, "application/json; charset=utf-8");
    assert_string_equal(r.cache, "no-store");
    json_t *j = json_loads(r.body, 0, NULL);
    assert_string_equal(json_string_value(json_object_get(j, "cv")), r.cv);
    assert_string_equal(json_string_value(json_object_get(j, "q")), "1");
    assert_string_equal(json_string_value(json_object_get(j, "method")), "GET");
    assert_string_equal(json_string_value(json_object_get(j, "path")), "/x");
    char want[64];
    snprintf(want, sizeof want, "http://127.0.0.1:%u", (unsigned)port);
    assert_string_equal(json_string_value(json_object_get(j, "base")), want);
    json_decref(j);
    char first[256];
    snprintf(first, sizeof first, "%s", r.cv);
    request("GET", "/x", NULL, NULL, 0, false, &r);
    assert_string_not_equal(first, r.cv);

    const char *const echo[] = {"MS-CV: abcDEF123+/.1", "X-Test: hello", NULL};
    request("GET", "/x", echo, NULL, 0, false, &r);
    assert_string_equal(r.cv, "abcDEF123+/.1");
    j = json_loads(r.body, 0, NULL);
    assert_string_equal(json_string_value(json_object_get(j, "h")), "hello");
    json_decref(j);
    const char *const mrc[] = {"X-MRC-CV: fromTheSdk.7", NULL};
    request("GET", "/x", mrc, NULL, 0, false, &r);
    assert_string_equal(r.cv, "fromTheSdk.7");
    /* Not echoable: a fresh one instead. */
    const char *const bad[] = {"MS-CV: has space", NULL};
    request("GET", "/x", bad, NULL, 0, false, &r);
    assert_string_not_equal(r.cv, "has space");
    assert_int_equal(strlen(r.cv), 24);
    /* A Host header that is no host: links use the server's own address. */
    const char *const host[] = {"Host: evil\"host", NULL};
    request("GET", "/x", host, NULL, 0, false, &r);
    j = json_loads(r.body, 0, NULL);
    assert_string_equal(json_string_value(json_object_get(j, "base")), want);
    json_decref(j);
}

static void test_server_bodies(void **state)
{
    (void)state;
    char body[8192];
    for (size_t i = 0; i < sizeof body; i++) {
        body[i] = (char)('a' + i % 26);
    }
    body[0] = '{';
    struct reply r;
    request("PUT", "/b", NULL, body, 1024, false, &r); /* exactly the limit */
    assert_int_equal(r.status, 200);
    json_t *j = json_loads(r.body, 0, NULL);
    assert_int_equal(json_integer_value(json_object_get(j, "len")), 1024);
    assert_true(json_is_true(json_object_get(j, "nul_terminated")));
    json_decref(j);
    char ends[32];
    snprintf(ends, sizeof ends, "%d-%d", '{', body[1023]);
    assert_string_equal(r.body_ends, ends);

    const char *const no_expect[] = {"Expect:", NULL};
    request("PUT", "/b", no_expect, body, 1025, false, &r);
    assert_int_equal(r.status, 413);
    assert_true(fe_http_cv_valid(r.cv));
    j = json_loads(r.body, 0, NULL);
    assert_string_equal(json_string_value(json_object_get(json_object_get(j, "error"), "code")),
                        "RequestEntityTooLarge");
    json_decref(j);
    /* Chunked, no length known up front. */
    body[sizeof body - 1] = '\0';
    request("POST", "/b", no_expect, body, 0, true, &r);
    assert_int_equal(r.status, 413);
    request("POST", "/b", no_expect, "{\"small\":1}", 0, true, &r);
    assert_int_equal(r.status, 200);
    /* Expect: 100-continue with a large length: refused before the body is sent. */
    const char *const expect[] = {"Expect: 100-continue", NULL};
    request("PUT", "/b", expect, body, 5000, false, &r);
    assert_int_equal(r.status, 413);
    /* The connection pool still works after a refusal. */
    request("PUT", "/b", NULL, body, 10, false, &r);
    assert_int_equal(r.status, 200);
}

static void test_server_answers(void **state)
{
    (void)state;
    struct reply r;
    request("GET", "/silent", NULL, NULL, 0, false, &r);
    assert_int_equal(r.status, 500);
    assert_true(fe_http_cv_valid(r.cv));
    json_t *j = json_loads(r.body, 0, NULL);
    assert_string_equal(json_string_value(json_object_get(json_object_get(j, "error"), "code")),
                        "InternalError");
    json_decref(j);
    request("DELETE", "/teapot", NULL, NULL, 0, false, &r);
    assert_int_equal(r.status, 418);
    j = json_loads(r.body, 0, NULL);
    assert_string_equal(json_string_value(json_object_get(json_object_get(j, "error"), "target")),
                        "spout");
    json_decref(j);

    /* The port is taken: a second listener says so. */
    struct fe_http_options o = {"127.0.0.1", port, 1, 1024, NULL, NULL};
    struct fe_http *h = NULL;
    char err[256] = "";
    assert_false(fe_http_listen(&o, &h, err, sizeof err));
    assert_null(h);
    assert_non_null(strstr(err, "cannot listen"));
    o.host = "no-such-host.invalid";
    o.port = 0;
    assert_false(fe_http_listen(&o, &h, err, sizeof err));
    o.host = "127.0.0.1";
    o.tls_cert_file = "/nonexistent/cert.pem";
    assert_false(fe_http_listen(&o, &h, err, sizeof err));
    o.tls_key_file = "/nonexistent/key.pem";
    assert_false(fe_http_listen(&o, &h, err, sizeof err));
    assert_non_null(strstr(err, "/nonexistent/cert.pem"));
}

/* ---- rate limit ---------------------------------------------------------------------------- */

static void test_ratelimit(void **state)
{
    (void)state;
    bool oom = true;
    assert_null(fe_ratelimit_create(0, 10, 0, &oom)); /* off */
    assert_false(oom);
    unsigned retry = 0;
    assert_true(fe_ratelimit_take(NULL, "a", 0, &retry));

    struct fe_ratelimit *rl = fe_ratelimit_create(2, 2, 3, &oom);
    assert_non_null(rl);
    uint64_t t = 1000000;
    assert_true(fe_ratelimit_take(rl, "a", t, &retry));
    assert_true(fe_ratelimit_take(rl, "a", t, &retry));
    assert_false(fe_ratelimit_take(rl, "a", t, &retry));
    assert_int_equal(retry, 1);
    /* Another account has its own bucket. */
    assert_true(fe_ratelimit_take(rl, "b", t, &retry));
    /* Half a second: one token back (2/s). */
    assert_true(fe_ratelimit_take(rl, "a", t + 500000, &retry));
    assert_false(fe_ratelimit_take(rl, "a", t + 500000, &retry));
    /* A long pause refills to the burst, not beyond. */
    t += 60000000;
    assert_true(fe_ratelimit_take(rl, "a", t, &retry));
    assert_true(fe_ratelimit_take(rl, "a", t, &retry));
    assert_false(fe_ratelimit_take(rl, "a", t, &retry));
    /* Bounded: at most 3 accounts; full buckets are forgotten to make room. */
    assert_true(fe_ratelimit_take(rl, "c", t, &retry));
    assert_true(fe_ratelimit_take(rl, "d", t, &retry));
    assert_true(fe_ratelimit_size(rl) <= 3);
    assert_true(fe_ratelimit_take(rl, "e", t + 10000000, &retry));
    assert_true(fe_ratelimit_size(rl) <= 3);
    fe_ratelimit_destroy(&rl);
    assert_null(rl);

    /* Slow rates: Retry-After rounds up to whole seconds. */
    rl = fe_ratelimit_create(1, 1, 0, &oom);
    assert_true(fe_ratelimit_take(rl, "a", t, &retry));
    assert_false(fe_ratelimit_take(rl, "a", t + 100000, &retry));
    assert_int_equal(retry, 1);
    fe_ratelimit_destroy(&rl);
}

/* ---- log ---------------------------------------------------------------------------------- */

static void test_log(void **state)
{
    (void)state;
    struct fe_log_line l;
    fe_log_configure(false, FE_LOG_DEBUG);
    fe_log_begin(&l, FE_LOG_INFO, "request");
    fe_log_str(&l, "plain", "abc");
    fe_log_str(&l, "spaced", "a b");
    fe_log_str(&l, "evil", "x\ny=\"1\"");
    fe_log_str(&l, "none", NULL);
    fe_log_int(&l, "status", 201);
    const char *t = fe_log_text(&l);
    assert_non_null(strstr(t, " level=info event=request plain=abc spaced=\"a b\""));
    assert_non_null(strstr(t, " evil=\"x\\ny=\\\"1\\\"\" status=201"));
    assert_null(strchr(t, '\n'));
    assert_null(strstr(t, "none"));
    assert_int_equal(strncmp(t, "time=", 5), 0);

    fe_log_configure(true, FE_LOG_DEBUG);
    fe_log_begin(&l, FE_LOG_WARN, "x");
    fe_log_str(&l, "evil", "a\"b\n\x01");
    fe_log_int(&l, "n", -3);
    char line[2100];
    snprintf(line, sizeof line, "%s}", fe_log_text(&l));
    json_t *j = json_loads(line, JSON_REJECT_DUPLICATES, NULL);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "evil")), "a\"b\n\x01");
    assert_string_equal(json_string_value(json_object_get(j, "level")), "warn");
    assert_int_equal(json_integer_value(json_object_get(j, "n")), -3);
    json_decref(j);

    /* Below the level: nothing is built. */
    fe_log_configure(false, FE_LOG_WARN);
    assert_false(fe_log_enabled(FE_LOG_INFO));
    fe_log_begin(&l, FE_LOG_INFO, "quiet");
    fe_log_str(&l, "a", "b");
    assert_string_equal(fe_log_text(&l), "");
    fe_log_end(&l);
    /* A long value is cut, the line stays one line. */
    fe_log_configure(false, FE_LOG_DEBUG);
    char big[5000];
    memset(big, 'v', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    fe_log_begin(&l, FE_LOG_INFO, "big");
    fe_log_str(&l, "v", big);
    assert_true(l.truncated);
    assert_true(strlen(fe_log_text(&l)) < sizeof l.buf);
    fe_log_configure(false, FE_LOG_ERROR);
}

/* ---- config -------------------------------------------------------------------------------- */

static void test_config(void **state)
{
    (void)state;
    struct fe_config c;
    char err[512];
    fe_config_defaults(&c);
    assert_string_equal(c.data_dir, "./openrr-data");
    assert_string_equal(c.listen_host, "127.0.0.1");
    assert_int_equal(c.listen_port, 8710);
    assert_string_equal(c.domain, "openrr.localhost");
    assert_string_equal(c.token_alg, "ES256");
    assert_int_equal(c.token_lifetime_s, 86400);
    assert_int_equal(c.max_body_bytes, 65536);
    assert_int_equal(c.rate_per_second, 100);
    assert_int_equal(c.rate_burst, 200);
    assert_true(c.http_threads >= 2);
    assert_int_equal(c.max_sessions, 8);
    assert_int_equal(c.host_port_min, 49152);
    assert_int_equal(c.host_port_max, 65534);
    assert_int_equal(c.conversion_memory_bytes, 16ull << 30);

    assert_true(fe_config_set(&c, "max-body-bytes", "1K", "--max-body-bytes", err, sizeof err));
    assert_int_equal(c.max_body_bytes, 1024);
    assert_true(fe_config_set(&c, "CONVERSION_MEMORY", "2GiB", "env", err, sizeof err));
    assert_int_equal(c.conversion_memory_bytes, 2ull << 30);
    assert_false(fe_config_set(&c, "max_body_bytes", "12x", "--max-body-bytes", err, sizeof err));
    assert_non_null(strstr(err, "--max-body-bytes"));
    assert_false(fe_config_set(&c, "max_body_bytes", "-1", "x", err, sizeof err));
    assert_false(fe_config_set(&c, "max_sessions", "0", "x", err, sizeof err));
    assert_false(fe_config_set(&c, "no_such_key", "1", "--no-such-key", err, sizeof err));
    assert_non_null(strstr(err, "unknown"));
    assert_true(fe_config_set(&c, "log-json", "yes", "x", err, sizeof err));
    assert_int_equal(c.log_json, 1);
    assert_false(fe_config_set(&c, "log_json", "maybe", "x", err, sizeof err));
    assert_true(fe_config_set(&c, "token_alg", "rs256", "x", err, sizeof err));
    assert_string_equal(c.token_alg, "RS256");
    assert_false(fe_config_set(&c, "token_alg", "HS256", "x", err, sizeof err));

    assert_true(fe_config_set(&c, "listen", "[::1]:0", "x", err, sizeof err));
    assert_string_equal(c.listen_host, "::1");
    assert_int_equal(c.listen_port, 0);
    assert_true(fe_config_set(&c, "listen", "0.0.0.0:443", "x", err, sizeof err));
    assert_string_equal(c.listen_host, "0.0.0.0");
    assert_int_equal(c.listen_port, 443);
    assert_false(fe_config_set(&c, "listen", "::1:80", "x", err, sizeof err));
    assert_false(fe_config_set(&c, "listen", "host:65536", "x", err, sizeof err));
    assert_false(fe_config_set(&c, "listen", "host", "x", err, sizeof err));
    assert_false(fe_config_set(&c, "listen", "a b:1", "x", err, sizeof err));

    assert_true(fe_config_set(&c, "host_ports", "50000-50010", "x", err, sizeof err));
    assert_int_equal(c.host_port_min, 50000);
    assert_int_equal(c.host_port_max, 50010);
    assert_false(fe_config_set(&c, "host_ports", "50000-50001", "x", err, sizeof err));
    assert_false(fe_config_set(&c, "host_ports", "5-", "x", err, sizeof err));

    assert_true(fe_config_set(&c, "host_args", " --eye-size  640x360 ", "x", err, sizeof err));
    assert_string_equal(c.host_extra_args[0], "--eye-size");
    assert_string_equal(c.host_extra_args[1], "640x360");
    assert_null(c.host_extra_args[2]);
    assert_false(fe_config_set(&c, "host_args", "--fps 30 -Plain", "x", err, sizeof err));
    assert_non_null(strstr(err, "plain"));
    assert_string_equal(c.host_extra_args[0], "--eye-size"); /* unchanged */
    assert_false(fe_config_set(&c, "data", "", "x", err, sizeof err));
    assert_true(fe_config_set(&c, "tls_cert", "/c.pem", "x", err, sizeof err));
    assert_false(fe_config_finish(&c, err, sizeof err)); /* tls_key missing */
    assert_non_null(strstr(err, "tls_key"));
    assert_true(fe_config_set(&c, "tls_cert", "", "x", err, sizeof err));
    assert_null(c.tls_cert);

    /* Derived values. */
    assert_true(fe_config_set(&c, "data", "rel/dir", "x", err, sizeof err));
    assert_true(fe_config_finish(&c, err, sizeof err));
    assert_int_equal(c.data_dir[0], '/');
    assert_non_null(strstr(c.data_dir, "/rel/dir"));
    char want[4200];
    snprintf(want, sizeof want, "%s/storage", c.data_dir);
    assert_string_equal(c.storage_root, want);
    assert_string_equal(c.public_host, "127.0.0.1"); /* listen 0.0.0.0 */
    fe_config_clear(&c);
    assert_null(c.data_dir);

    bool is_bool = false;
    assert_true(fe_config_is_key("log-json", &is_bool));
    assert_true(is_bool);
    assert_true(fe_config_is_key("listen", &is_bool));
    assert_false(is_bool);
    assert_false(fe_config_is_key("config", &is_bool));
    assert_non_null(strstr(fe_config_help(), "--max-sessions"));
}

static void test_config_file_env(void **state)
{
    (void)state;
    char path[] = "/tmp/test_fe_http.ini.XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fputs("; openrrd\n[service]\nlisten = 127.0.0.1:9999\ndomain = example.test\n"
          "[sessions]\nmax_sessions = 3\n",
          f);
    fclose(f);
    struct fe_config c;
    char err[512];
    fe_config_defaults(&c);
    assert_true(fe_config_load_file(&c, path, err, sizeof err));
    assert_int_equal(c.listen_port, 9999);
    assert_string_equal(c.domain, "example.test");
    assert_int_equal(c.max_sessions, 3);
    /* The environment overrides the file. */
    setenv("OPENRRD_MAX_SESSIONS", "5", 1);
    setenv("OPENRRD_RATE_BURST", "7", 1);
    assert_true(fe_config_load_env(&c, err, sizeof err));
    assert_int_equal(c.max_sessions, 5);
    assert_int_equal(c.rate_burst, 7);
    setenv("OPENRRD_MAX_SESSIONS", "many", 1);
    assert_false(fe_config_load_env(&c, err, sizeof err));
    assert_non_null(strstr(err, "OPENRRD_MAX_SESSIONS"));
    unsetenv("OPENRRD_MAX_SESSIONS");
    unsetenv("OPENRRD_RATE_BURST");

    f = fopen(path, "w");
    fputs("[service]\nlisten = 127.0.0.1:1\n\nbogus_key = 1\n", f);
    fclose(f);
    assert_false(fe_config_load_file(&c, path, err, sizeof err));
    char want[128];
    snprintf(want, sizeof want, "%s:4", path);
    assert_non_null(strstr(err, want));
    assert_non_null(strstr(err, "bogus_key"));
    f = fopen(path, "w");
    fputs("[nonsense]\nlisten = 127.0.0.1:1\n", f);
    fclose(f);
    assert_false(fe_config_load_file(&c, path, err, sizeof err));
    assert_non_null(strstr(err, "nonsense"));
    f = fopen(path, "w");
    fputs("this is not ini\n", f);
    fclose(f);
    assert_false(fe_config_load_file(&c, path, err, sizeof err));
    unlink(path);
    assert_false(fe_config_load_file(&c, path, err, sizeof err));
    assert_non_null(strstr(err, "cannot read"));
    fe_config_clear(&c);
}

/* ---- metrics ------------------------------------------------------------------------------- */

static void test_metrics(void **state)
{
    (void)state;
    static const char *const routes[] = {"GET /a", "other"};
    struct fe_metrics *m = fe_metrics_create(routes, 2);
    assert_non_null(m);
    fe_metrics_request(m, 0, 200, 300);
    fe_metrics_request(m, 0, 200, 2000000);
    fe_metrics_request(m, 7, 599, 10); /* out of range → other, unknown status → other */
    fe_metrics_token_issued(m);
    fe_metrics_conversion_finished(m, 4);
    struct fe_metrics_gauges g;
    memset(&g, 0, sizeof g);
    for (int i = 0; i < 5; i++) {
        g.conversions[i] = -1;
        g.sessions[i] = i == 1 ? 2 : -1;
    }
    g.token_cache_hits = 5;
    char *t = fe_metrics_render(m, &g);
    assert_non_null(t);
    assert_non_null(strstr(t, "openrrd_http_requests_total{route=\"GET /a\",status=\"200\"} 2\n"));
    assert_non_null(strstr(t, "openrrd_http_requests_total{route=\"other\",status=\"other\"} 1\n"));
    assert_non_null(strstr(t, "openrrd_http_request_duration_seconds_bucket{le=\"0.0005\"} 2\n"));
    assert_non_null(strstr(t, "openrrd_http_request_duration_seconds_bucket{le=\"+Inf\"} 3\n"));
    assert_non_null(strstr(t, "openrrd_http_request_duration_seconds_count 3\n"));
    assert_non_null(strstr(t, "openrrd_tokens_issued_total 1\n"));
    assert_non_null(strstr(t, "openrrd_token_cache_hits_total 5\n"));
    assert_non_null(strstr(t, "openrrd_sessions{status=\"Ready\"} 2\n"));
    assert_null(strstr(t, "openrrd_sessions{status=\"Starting\"}"));
    assert_non_null(strstr(t, "openrrd_conversions_finished_total{status=\"Succeeded\"} 1\n"));
    free(t);
    fe_metrics_destroy(&m);
    assert_null(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cv),
        cmocka_unit_test(test_error_json),
        cmocka_unit_test_setup_teardown(test_server_cv, server_setup, server_teardown),
        cmocka_unit_test_setup_teardown(test_server_bodies, server_setup, server_teardown),
        cmocka_unit_test_setup_teardown(test_server_answers, server_setup, server_teardown),
        cmocka_unit_test(test_ratelimit),
        cmocka_unit_test(test_log),
        cmocka_unit_test(test_config),
        cmocka_unit_test(test_config_file_env),
        cmocka_unit_test(test_metrics),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
