/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the host's inspector (src/inspector/): a server on an ephemeral loopback port
 * with a fake source and a temporary web root, driven by a raw HTTP/1.1 client (a few lines
 * of sockets, so every byte the server sends is visible). Covers the token (header, query,
 * missing, wrong, constant-time path), each endpoint's JSON, the static files and path
 * traversal, the log filter and ring, the trace export and its bound, the event stream, the
 * pause switch and its body limits, create's errors and destroy with a stream open.
 */
#include "inspector.h"

#include "u_log.h"
#include "u_time.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <jansson.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#define TOKEN "t0ken-for-the-inspector-test"

/* ---- fake source -------------------------------------------------------------------------- */

struct fake_source {
    struct rr_inspector_source base;
    atomic_int stats_calls;
    atomic_int pause_calls;
    atomic_bool paused;
    const char *scene; /* returned (copied) by scene_json; NULL = no scene */
};

static void fake_stats(struct rr_inspector_source *self, struct rr_inspector_stats *out)
{
    struct fake_source *f = (struct fake_source *)self;
    int n = atomic_fetch_add(&f->stats_calls, 1);
    out->frame_time_ms = 10.0 + n % 5;
    out->fps = 60.0;
    out->stage_ms[RR_INSPECTOR_STAGE_ENCODE] = 3.5;
    out->bitrate_kbps = 20000;
    out->primitives = 1000000;
    out->draws = 42;
    out->client_connected = true;
    snprintf(out->client, sizeof(out->client), "127.0.0.1");
    snprintf(out->codec, sizeof(out->codec), "h264");
    out->paused = atomic_load(&f->paused);
}

static char *fake_scene(struct rr_inspector_source *self)
{
    struct fake_source *f = (struct fake_source *)self;
    return f->scene != NULL ? strdup(f->scene) : NULL;
}

static void fake_set_paused(struct rr_inspector_source *self, bool paused)
{
    struct fake_source *f = (struct fake_source *)self;
    atomic_fetch_add(&f->pause_calls, 1);
    atomic_store(&f->paused, paused);
}

/* ---- fixture: a web root in a temporary directory, and a running inspector ---------------- */

struct fixture {
    char dir[64];  /* holds secret.txt and www/ */
    char root[96]; /* the web root */
    struct fake_source src;
    struct rr_inspector *insp;
    uint16_t port;
};

static void write_file(const char *dir, const char *name, const char *text)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void make_web_root(struct fixture *fx)
{
    snprintf(fx->dir, sizeof(fx->dir), "%s/rr-insp.XXXXXX",
             getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp");
    assert_non_null(mkdtemp(fx->dir));
    snprintf(fx->root, sizeof(fx->root), "%s/www", fx->dir);
    assert_int_equal(mkdir(fx->root, 0700), 0);
    write_file(fx->dir, "secret.txt", "SECRET\n");
    write_file(fx->root, "index.html", "<!doctype html><title>t</title>\n");
    write_file(fx->root, "app.js", "'use strict';\n");
    write_file(fx->root, "app.css", "body{}\n");
    write_file(fx->root, ".hidden", "hidden\n");
    char link[160], target[96];
    snprintf(link, sizeof(link), "%s/link.txt", fx->root);
    snprintf(target, sizeof(target), "%s/secret.txt", fx->dir);
    assert_int_equal(symlink(target, link), 0);
}

static void remove_web_root(struct fixture *fx)
{
    static const char *names[] = {"www/index.html", "www/app.js", "www/app.css", "www/.hidden",
                                  "www/link.txt",   "www",        "secret.txt"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        char path[160];
        snprintf(path, sizeof(path), "%s/%s", fx->dir, names[i]);
        (void)remove(path);
    }
    (void)rmdir(fx->dir);
}

static struct rr_inspector_config base_config(struct fixture *fx)
{
    struct rr_inspector_config c = {.bind_address = "127.0.0.1",
                                    .token = TOKEN,
                                    .web_root = fx->root,
                                    .source = &fx->src.base,
                                    .sample_interval_ms = 20,
                                    .trace_capacity = 8};
    return c;
}

static int setup_cfg(void **state, bool capture_log, uint32_t max_connections)
{
    struct fixture *fx = calloc(1, sizeof(*fx));
    assert_non_null(fx);
    fx->src.base.stats = fake_stats;
    fx->src.base.scene_json = fake_scene;
    fx->src.base.set_paused = fake_set_paused;
    fx->src.scene = "{\"name\":\"root\",\"id\":0,\"children\":[{\"name\":\"box\",\"id\":1}]}";
    make_web_root(fx);
    struct rr_inspector_config c = base_config(fx);
    c.capture_log = capture_log;
    c.log_level = U_LOG_DEBUG;
    c.max_connections = max_connections;
    assert_int_equal(rr_inspector_create(&c, &fx->insp), RR_INSPECTOR_OK);
    fx->port = rr_inspector_port(fx->insp);
    assert_true(fx->port != 0);
    *state = fx;
    return 0;
}

static int setup(void **state)
{
    return setup_cfg(state, false, 0);
}

static int setup_capture(void **state)
{
    return setup_cfg(state, true, 0);
}

static int setup_two_connections(void **state)
{
    return setup_cfg(state, false, 2);
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    rr_inspector_destroy(&fx->insp);
    assert_null(fx->insp);
    remove_web_root(fx);
    free(fx);
    return 0;
}

/* ---- a raw HTTP/1.1 client ------------------------------------------------------------------ */

struct reply {
    int status;
    char *raw;        /* everything received, NUL-terminated */
    const char *body; /* into raw */
};

static void reply_free(struct reply *r)
{
    free(r->raw);
    memset(r, 0, sizeof(*r));
}

static int connect_to(uint16_t port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct timeval tv = {.tv_sec = 5};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    return fd;
}

static void send_all(int fd, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = send(fd, data, len, MSG_NOSIGNAL);
        assert_true(n > 0);
        data += n;
        len -= (size_t)n;
    }
}

/* Read until the peer closes (or @p stop_at appears, when given); NUL-terminated. */
static char *read_all(int fd, const char *stop_at, size_t *out_len)
{
    size_t cap = 65536, len = 0;
    char *buf = malloc(cap);
    assert_non_null(buf);
    for (;;) {
        if (cap - len < 4096) {
            cap *= 2;
            buf = realloc(buf, cap);
            assert_non_null(buf);
        }
        ssize_t n = recv(fd, buf + len, cap - len - 1, 0);
        if (n <= 0) {
            break;
        }
        len += (size_t)n;
        buf[len] = '\0';
        if (stop_at != NULL && strstr(buf, stop_at) != NULL) {
            break;
        }
    }
    buf[len] = '\0';
    *out_len = len;
    return buf;
}

/* One request on its own connection. @p extra: header lines, each ending in \r\n. */
static struct reply http(uint16_t port, const char *method, const char *target, const char *extra,
                         const char *body)
{
    int fd = connect_to(port);
    char head[20000];
    int n = snprintf(head, sizeof(head),
                     "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n%s%s\r\n", method,
                     target, extra != NULL ? extra : "", "");
    assert_true(n > 0 && (size_t)n < sizeof(head));
    send_all(fd, head, (size_t)n);
    if (body != NULL) {
        send_all(fd, body, strlen(body));
    }
    struct reply r = {0};
    size_t len;
    r.raw = read_all(fd, NULL, &len);
    close(fd);
    assert_true(sscanf(r.raw, "HTTP/1.1 %d", &r.status) == 1);
    const char *sep = strstr(r.raw, "\r\n\r\n");
    assert_non_null(sep);
    r.body = sep + 4;
    return r;
}

static struct reply get_auth(uint16_t port, const char *target)
{
    return http(port, "GET", target, "Authorization: Bearer " TOKEN "\r\n", NULL);
}

/* The value of header @p name in the reply's head (a static copy), or NULL. */
static const char *header(const struct reply *r, const char *name)
{
    static char value[512];
    size_t nlen = strlen(name);
    for (const char *p = strstr(r->raw, "\r\n"); p != NULL && p + 2 < r->body;
         p = strstr(p + 2, "\r\n")) {
        const char *line = p + 2;
        if (strncasecmp(line, name, nlen) == 0 && line[nlen] == ':') {
            const char *v = line + nlen + 1;
            while (*v == ' ') {
                v++;
            }
            const char *end = strstr(v, "\r\n");
            size_t len = (size_t)(end - v) < sizeof(value) - 1 ? (size_t)(end - v) : 0;
            memcpy(value, v, len);
            value[len] = '\0';
            return value;
        }
    }
    return NULL;
}

static json_t *body_json(const struct reply *r)
{
    json_error_t err;
    json_t *j = json_loads(r->body, JSON_DECODE_ANY, &err);
    if (j == NULL) {
        fail_msg("not JSON (%s): %.200s", err.text, r->body);
    }
    return j;
}

/* Wait until the sampler has produced at least @p n samples. */
static void wait_samples(struct fixture *fx, int n)
{
    uint64_t deadline = u_time_ms() + 5000;
    while (atomic_load(&fx->src.stats_calls) < n && u_time_ms() < deadline) {
        usleep(5000);
    }
    assert_true(atomic_load(&fx->src.stats_calls) >= n);
}

/* ---- token -------------------------------------------------------------------------------------
 */

static void test_health_needs_no_token(void **state)
{
    struct fixture *fx = *state;
    struct reply r = http(fx->port, "GET", "/api/health", NULL, NULL);
    assert_int_equal(r.status, 200);
    json_t *j = body_json(&r);
    assert_string_equal(json_string_value(json_object_get(j, "status")), "ok");
    json_decref(j);
    reply_free(&r);
}

static void test_missing_token_is_401(void **state)
{
    struct fixture *fx = *state;
    static const char *paths[] = {"/api/stats", "/api/log",    "/api/scene",
                                  "/api/trace", "/api/events", "/api/nothing"};
    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        struct reply r = http(fx->port, "GET", paths[i], NULL, NULL);
        assert_int_equal(r.status, 401);
        assert_string_equal(header(&r, "WWW-Authenticate"), "Bearer realm=\"openrr-inspector\"");
        reply_free(&r);
    }
    struct reply r =
        http(fx->port, "POST", "/api/pause", "Content-Length: 16\r\n", "{\"paused\":true}\n");
    assert_int_equal(r.status, 401);
    reply_free(&r);
    assert_int_equal(atomic_load(&fx->src.pause_calls), 0);
}

static void test_wrong_token_is_401(void **state)
{
    struct fixture *fx = *state;
    static const char *headers[] = {
        "Authorization: Bearer wrong\r\n",
        "Authorization: Bearer " TOKEN "x\r\n",
        "Authorization: Bearer t0ken-for-the-inspector-tes\r\n",
        "Authorization: Basic " TOKEN "\r\n",
        "Authorization: Bearer\r\n",
    };
    for (size_t i = 0; i < sizeof(headers) / sizeof(headers[0]); i++) {
        struct reply r = http(fx->port, "GET", "/api/stats", headers[i], NULL);
        assert_int_equal(r.status, 401);
        const char *h = header(&r, "WWW-Authenticate");
        assert_non_null(h);
        assert_non_null(strstr(h, "Bearer realm=\"openrr-inspector\""));
        reply_free(&r);
    }
    struct reply r = http(fx->port, "GET", "/api/stats?token=wrong", NULL, NULL);
    assert_int_equal(r.status, 401);
    assert_non_null(strstr(header(&r, "WWW-Authenticate"), "invalid_token"));
    reply_free(&r);
    /* A wrong header is not rescued by a right query. */
    r = http(fx->port, "GET", "/api/stats?token=" TOKEN, "Authorization: Bearer wrong\r\n", NULL);
    assert_int_equal(r.status, 401);
    reply_free(&r);
}

static void test_query_token(void **state)
{
    struct fixture *fx = *state;
    struct reply r = http(fx->port, "GET", "/api/stats?token=" TOKEN, NULL, NULL);
    assert_int_equal(r.status, 200);
    json_t *j = body_json(&r);
    json_decref(j);
    reply_free(&r);
}

/* ---- the verify hook ------------------------------------------------------------------------ */

/* A stand-in for the host's access-token check: accepts "jwt." followed by anything. */
static atomic_int g_hook_calls;
static void *g_hook_user;

static bool hook_verify(void *user, const char *token)
{
    atomic_fetch_add(&g_hook_calls, 1);
    g_hook_user = user;
    return strncmp(token, "jwt.", 4) == 0;
}

static int setup_hook(void **state)
{
    int r = setup(state);
    struct fixture *fx = *state;
    rr_inspector_destroy(&fx->insp);
    struct rr_inspector_config c = base_config(fx);
    c.verify_token = hook_verify;
    c.verify_user = fx;
    assert_int_equal(rr_inspector_create(&c, &fx->insp), RR_INSPECTOR_OK);
    fx->port = rr_inspector_port(fx->insp);
    atomic_store(&g_hook_calls, 0);
    return r;
}

static void test_verify_hook(void **state)
{
    struct fixture *fx = *state;
    /* The fixed token still works, without asking the hook. */
    struct reply r = get_auth(fx->port, "/api/stats");
    assert_int_equal(r.status, 200);
    reply_free(&r);
    assert_int_equal(atomic_load(&g_hook_calls), 0);

    /* A token the hook accepts, longer than a fixed token may be, by header and by query. */
    static char jwt[4100], extra[4200], target[4200];
    memset(jwt, 'a', sizeof jwt - 1);
    memcpy(jwt, "jwt.", 4);
    jwt[sizeof jwt - 1] = '\0';
    snprintf(extra, sizeof extra, "Authorization: Bearer %s\r\n", jwt);
    r = http(fx->port, "GET", "/api/stats", extra, NULL);
    assert_int_equal(r.status, 200);
    reply_free(&r);
    assert_int_equal(atomic_load(&g_hook_calls), 1);
    assert_ptr_equal(g_hook_user, fx);
    snprintf(target, sizeof target, "/api/scene?token=%s", jwt);
    r = http(fx->port, "GET", target, NULL, NULL);
    assert_int_equal(r.status, 200);
    reply_free(&r);

    /* One the hook refuses: 401 invalid_token, like a wrong fixed token. */
    r = http(fx->port, "GET", "/api/stats", "Authorization: Bearer not-a-jwt\r\n", NULL);
    assert_int_equal(r.status, 401);
    assert_non_null(strstr(header(&r, "WWW-Authenticate"), "invalid_token"));
    reply_free(&r);
    assert_int_equal(atomic_load(&g_hook_calls), 3);

    /* Over RR_INSPECTOR_VERIFY_TOKEN_MAX bytes: refused before the hook is asked. */
    static char huge[RR_INSPECTOR_VERIFY_TOKEN_MAX + 100], huge_extra[sizeof huge + 40];
    memset(huge, 'b', sizeof huge - 1);
    memcpy(huge, "jwt.", 4);
    huge[sizeof huge - 1] = '\0';
    snprintf(huge_extra, sizeof huge_extra, "Authorization: Bearer %s\r\n", huge);
    r = http(fx->port, "GET", "/api/stats", huge_extra, NULL);
    assert_int_equal(r.status, 401);
    reply_free(&r);
    assert_int_equal(atomic_load(&g_hook_calls), 3);
    /* The public paths never ask. */
    r = http(fx->port, "GET", "/api/health", NULL, NULL);
    assert_int_equal(r.status, 200);
    reply_free(&r);
    assert_int_equal(atomic_load(&g_hook_calls), 3);
}

/* ---- endpoints ---------------------------------------------------------------------------------
 */

static void test_stats(void **state)
{
    struct fixture *fx = *state;
    wait_samples(fx, 3);
    struct reply r = get_auth(fx->port, "/api/stats");
    assert_int_equal(r.status, 200);
    assert_string_equal(header(&r, "Content-Type"), "application/json");
    assert_string_equal(header(&r, "Cache-Control"), "no-store");
    json_t *j = body_json(&r);
    assert_int_equal(json_integer_value(json_object_get(j, "interval_ms")), 20);
    assert_int_equal(json_array_size(json_object_get(j, "stages")), RR_INSPECTOR_STAGE_COUNT);
    json_t *latest = json_object_get(j, "latest");
    assert_true(json_is_object(latest));
    assert_true(json_number_value(json_object_get(latest, "fps")) == 60.0);
    assert_int_equal(json_integer_value(json_object_get(latest, "draws")), 42);
    assert_string_equal(json_string_value(json_object_get(latest, "codec")), "h264");
    assert_true(json_is_true(json_object_get(latest, "client_connected")));
    /* The source left CPU and memory to the inspector, which measured them. */
    assert_true(json_number_value(json_object_get(latest, "cpu_percent")) >= 0);
    assert_true(json_integer_value(json_object_get(latest, "resident_bytes")) > 0);
    json_t *stages = json_object_get(latest, "stage_ms");
    assert_true(json_number_value(json_object_get(stages, "encode")) == 3.5);
    assert_true(json_is_null(json_object_get(stages, "decode"))); /* unknown */
    json_t *h = json_object_get(j, "history");
    size_t n = json_array_size(json_object_get(h, "t"));
    assert_true(n >= 3);
    static const char *cols[] = {"frame_time_ms", "fps",         "bitrate_kbps",  "primitives",
                                 "draws",         "cpu_percent", "resident_bytes"};
    for (size_t i = 0; i < sizeof(cols) / sizeof(cols[0]); i++) {
        assert_int_equal(json_array_size(json_object_get(h, cols[i])), n);
    }
    assert_int_equal(json_array_size(json_object_get(json_object_get(h, "stage_ms"), "render")), n);
    json_decref(j);
    reply_free(&r);
}

static void test_scene(void **state)
{
    struct fixture *fx = *state;
    struct reply r = get_auth(fx->port, "/api/scene");
    assert_int_equal(r.status, 200);
    json_t *j = body_json(&r);
    json_t *scene = json_object_get(j, "scene");
    assert_string_equal(json_string_value(json_object_get(scene, "name")), "root");
    assert_int_equal(json_array_size(json_object_get(scene, "children")), 1);
    json_decref(j);
    reply_free(&r);

    fx->src.scene = NULL;
    r = get_auth(fx->port, "/api/scene");
    assert_int_equal(r.status, 200);
    j = body_json(&r);
    assert_true(json_is_null(json_object_get(j, "scene")));
    json_decref(j);
    reply_free(&r);

    fx->src.scene = "{\"name\": broken";
    r = get_auth(fx->port, "/api/scene");
    assert_int_equal(r.status, 502);
    json_decref(body_json(&r));
    reply_free(&r);
}

static void log_lines(struct rr_inspector *insp)
{
    rr_inspector_log(insp, U_LOG_DEBUG, "a", "debug line");
    rr_inspector_log(insp, U_LOG_INFO, "a", "info line");
    rr_inspector_log(insp, U_LOG_WARN, "b", "warn line");
    rr_inspector_log(insp, U_LOG_ERROR, "b", "error line \"quoted\" \xc3\xa9");
}

static size_t count_lines(struct fixture *fx, const char *target, const char *first_level)
{
    struct reply r = get_auth(fx->port, target);
    assert_int_equal(r.status, 200);
    json_t *j = body_json(&r);
    json_t *lines = json_object_get(j, "lines");
    assert_true(json_is_array(lines));
    size_t n = json_array_size(lines);
    if (first_level != NULL) {
        assert_true(n > 0);
        assert_string_equal(json_string_value(json_object_get(json_array_get(lines, 0), "level")),
                            first_level);
    }
    json_decref(j);
    reply_free(&r);
    return n;
}

static void test_log_filter(void **state)
{
    struct fixture *fx = *state;
    log_lines(fx->insp);
    assert_int_equal(count_lines(fx, "/api/log", "debug"), 4);
    assert_int_equal(count_lines(fx, "/api/log?level=info", "info"), 3);
    assert_int_equal(count_lines(fx, "/api/log?level=warn", "warn"), 2);
    assert_int_equal(count_lines(fx, "/api/log?level=ERROR", "error"), 1);
    struct reply r = get_auth(fx->port, "/api/log?level=loud");
    assert_int_equal(r.status, 400);
    reply_free(&r);
    r = get_auth(fx->port, "/api/log?level=error");
    json_t *j = body_json(&r);
    json_t *line = json_array_get(json_object_get(j, "lines"), 0);
    assert_string_equal(json_string_value(json_object_get(line, "message")),
                        "error line \"quoted\" \xc3\xa9");
    assert_string_equal(json_string_value(json_object_get(line, "module")), "b");
    assert_true(json_integer_value(json_object_get(line, "t")) > 0);
    json_decref(j);
    reply_free(&r);
}

static void test_log_ring_keeps_200(void **state)
{
    struct fixture *fx = *state;
    for (int i = 0; i < 250; i++) {
        char msg[32];
        snprintf(msg, sizeof(msg), "line %d", i);
        rr_inspector_log(fx->insp, U_LOG_INFO, "ring", msg);
    }
    struct reply r = get_auth(fx->port, "/api/log");
    json_t *j = body_json(&r);
    json_t *lines = json_object_get(j, "lines");
    assert_int_equal(json_array_size(lines), 200);
    assert_string_equal(json_string_value(json_object_get(json_array_get(lines, 0), "message")),
                        "line 50");
    assert_string_equal(json_string_value(json_object_get(json_array_get(lines, 199), "message")),
                        "line 249");
    json_decref(j);
    reply_free(&r);
}

static void test_log_sink(void **state)
{
    struct fixture *fx = *state;
    U_LOG_D("sinktest", "through u_log %d", 7);
    U_LOG_T("sinktest", "below the sink's level");
    struct reply r = get_auth(fx->port, "/api/log?level=debug");
    assert_non_null(strstr(r.body, "through u_log 7"));
    assert_null(strstr(r.body, "below the sink"));
    reply_free(&r);
}

static void test_trace(void **state)
{
    struct fixture *fx = *state;
    uint64_t t = u_time_us();
    for (int i = 0; i < 20; i++) {
        char name[16];
        snprintf(name, sizeof(name), "ev%d", i);
        rr_inspector_trace_event(fx->insp, name, "render", t + (uint64_t)i * 100, 50, 3);
    }
    rr_inspector_trace_event(NULL, "ignored", "x", 0, 0, 0);
    struct reply r = get_auth(fx->port, "/api/trace");
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(header(&r, "Content-Disposition"), "attachment"));
    json_t *j = body_json(&r);
    json_t *events = json_object_get(j, "traceEvents");
    size_t complete = 0;
    for (size_t i = 0; i < json_array_size(events); i++) {
        json_t *e = json_array_get(events, i);
        if (strcmp(json_string_value(json_object_get(e, "ph")), "X") != 0) {
            continue;
        }
        complete++;
        assert_string_equal(json_string_value(json_object_get(e, "cat")), "render");
        assert_int_equal(json_integer_value(json_object_get(e, "dur")), 50);
        assert_int_equal(json_integer_value(json_object_get(e, "tid")), 3);
        assert_int_equal(json_integer_value(json_object_get(e, "pid")), getpid());
        assert_true(json_is_integer(json_object_get(e, "ts")));
    }
    assert_int_equal(complete, 8); /* trace_capacity: the 8 newest */
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(events, json_array_size(events) - 1), "name")),
                        "ev19");
    json_decref(j);
    reply_free(&r);
}

/* Occurrences of @p needle in @p s. */
static int count_of(const char *s, const char *needle)
{
    int n = 0;
    for (const char *p = strstr(s, needle); p != NULL; p = strstr(p + 1, needle)) {
        n++;
    }
    return n;
}

/* Read an event stream until @p n whole events ("data: ...\n\n") arrived (or 5 s passed). */
static char *read_events(int fd, int n)
{
    size_t cap = 65536, len = 0;
    char *buf = malloc(cap);
    assert_non_null(buf);
    buf[0] = '\0';
    while (count_of(buf, "\n\n") < n + 1 /* the head's blank line */ && len < cap - 1) {
        ssize_t got = recv(fd, buf + len, cap - len - 1, 0);
        if (got <= 0) {
            break;
        }
        len += (size_t)got;
        buf[len] = '\0';
    }
    return buf;
}

static void test_events_stream(void **state)
{
    struct fixture *fx = *state;
    int fd = connect_to(fx->port);
    const char req[] = "GET /api/events?token=" TOKEN " HTTP/1.1\r\nHost: x\r\n\r\n";
    send_all(fd, req, sizeof(req) - 1);
    /* Two events: the stream keeps going after the first. */
    char *raw = read_events(fd, 2);
    close(fd);
    assert_non_null(strstr(raw, "text/event-stream"));
    assert_true(count_of(raw, "event: stats\n") >= 2);
    const char *data = strstr(raw, "data: ");
    assert_non_null(data);
    data += 6;
    json_error_t err;
    json_t *j = json_loadb(data, (size_t)(strchr(data, '\n') - data), 0, &err);
    assert_non_null(j);
    assert_true(json_number_value(json_object_get(j, "fps")) == 60.0);
    assert_true(json_integer_value(json_object_get(j, "seq")) >= 1);
    json_decref(j);
    free(raw);
}

static void test_pause(void **state)
{
    struct fixture *fx = *state;
    const char *auth = "Authorization: Bearer " TOKEN "\r\nContent-Type: application/json\r\n"
                       "Content-Length: 15\r\n";
    struct reply r = http(fx->port, "POST", "/api/pause", auth, "{\"paused\":true}");
    assert_int_equal(r.status, 200);
    json_t *j = body_json(&r);
    assert_true(json_is_true(json_object_get(j, "paused")));
    json_decref(j);
    reply_free(&r);
    assert_int_equal(atomic_load(&fx->src.pause_calls), 1);
    assert_true(atomic_load(&fx->src.paused));

    r = http(fx->port, "POST", "/api/pause?token=" TOKEN, "Content-Length: 16\r\n",
             "{\"paused\":false}");
    assert_int_equal(r.status, 200);
    reply_free(&r);
    assert_false(atomic_load(&fx->src.paused));

    static const char *bad[] = {"{\"paused\":\"yes\"}", "{\"other\":true}", "[true]",
                                "{\"paused\":tru"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char extra[160];
        snprintf(extra, sizeof(extra), "Authorization: Bearer " TOKEN "\r\nContent-Length: %zu\r\n",
                 strlen(bad[i]));
        r = http(fx->port, "POST", "/api/pause", extra, bad[i]);
        assert_int_equal(r.status, 400);
        reply_free(&r);
    }
    assert_int_equal(atomic_load(&fx->src.pause_calls), 2);

    r = get_auth(fx->port, "/api/pause");
    assert_int_equal(r.status, 405);
    assert_string_equal(header(&r, "Allow"), "POST");
    reply_free(&r);
    r = http(fx->port, "POST", "/api/stats", "Authorization: Bearer " TOKEN "\r\n", NULL);
    assert_int_equal(r.status, 405);
    reply_free(&r);
}

static void test_oversized_body_is_413(void **state)
{
    struct fixture *fx = *state;
    /* Headers only: the server answers before reading a byte of the body. */
    struct reply r = http(fx->port, "POST", "/api/pause",
                          "Authorization: Bearer " TOKEN "\r\nContent-Length: 5000\r\n", NULL);
    assert_int_equal(r.status, 413);
    reply_free(&r);
    r = http(fx->port, "POST", "/api/pause",
             "Authorization: Bearer " TOKEN "\r\nContent-Length: 99999999999999999999999\r\n",
             NULL);
    assert_int_equal(r.status, 413);
    reply_free(&r);
    /* 4096 bytes is still allowed (and then refused as not JSON). */
    char *body = malloc(4097);
    assert_non_null(body);
    memset(body, ' ', 4096);
    body[4096] = '\0';
    memcpy(body, "{\"paused\":true}", 15);
    r = http(fx->port, "POST", "/api/pause",
             "Authorization: Bearer " TOKEN "\r\nContent-Length: 4096\r\n", body);
    assert_int_equal(r.status, 200);
    reply_free(&r);
    free(body);
    /* Chunked bodies (no length to check up front) are refused. */
    r = http(fx->port, "POST", "/api/pause",
             "Authorization: Bearer " TOKEN "\r\nTransfer-Encoding: chunked\r\n",
             "f\r\n{\"paused\":true}\r\n0\r\n\r\n");
    assert_int_equal(r.status, 411);
    reply_free(&r);
}

/* ---- static files ------------------------------------------------------------------------------
 */

static void test_static_files(void **state)
{
    struct fixture *fx = *state;
    static const struct {
        const char *path;
        const char *type;
    } ok[] = {
        {"/", "text/html; charset=utf-8"},
        {"/inspector/", "text/html; charset=utf-8"},
        {"/inspector/index.html", "text/html; charset=utf-8"},
        {"/inspector/app.js", "text/javascript; charset=utf-8"},
        {"/inspector/app.css", "text/css; charset=utf-8"},
    };
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        struct reply r = http(fx->port, "GET", ok[i].path, NULL, NULL);
        assert_int_equal(r.status, 200);
        assert_string_equal(header(&r, "Content-Type"), ok[i].type);
        assert_string_equal(header(&r, "X-Content-Type-Options"), "nosniff");
        assert_non_null(header(&r, "Content-Security-Policy"));
        reply_free(&r);
    }
    struct reply r = http(fx->port, "HEAD", "/inspector/app.js", NULL, NULL);
    assert_int_equal(r.status, 200);
    reply_free(&r);
}

static void test_path_traversal_refused(void **state)
{
    struct fixture *fx = *state;
    static const char *paths[] = {
        "/inspector/../secret.txt",
        "/inspector/%2e%2e/secret.txt",
        "/inspector/..%2fsecret.txt",
        "/inspector/./index.html",
        "/inspector//etc/passwd",
        "/inspector/.hidden",
        "/inspector/link.txt", /* a symlink out of the root */
        "/inspector/missing.js",
        "/inspector/a%00b",
        "/inspector/dir\\..\\secret.txt",
        "/../secret.txt",
        "/secret.txt",
        "/etc/passwd",
    };
    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        struct reply r = http(fx->port, "GET", paths[i], NULL, NULL);
        if (r.status != 403 && r.status != 404 && r.status != 400) {
            fail_msg("%s: status %d", paths[i], r.status);
        }
        assert_null(strstr(r.body, "SECRET"));
        reply_free(&r);
    }
}

/* ---- limits and lifecycle -------------------------------------------------------------------- */

static void test_connection_limit(void **state)
{
    struct fixture *fx = *state;
    int held[2];
    for (int i = 0; i < 2; i++) {
        held[i] = connect_to(fx->port);
        const char req[] = "GET /api/events?token=" TOKEN " HTTP/1.1\r\nHost: x\r\n\r\n";
        send_all(held[i], req, sizeof(req) - 1);
        free(read_events(held[i], 1));
    }
    /* A third connection is closed without an answer. */
    int fd = connect_to(fx->port);
    const char req[] = "GET /api/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    (void)send(fd, req, sizeof(req) - 1, MSG_NOSIGNAL);
    size_t len;
    char *raw = read_all(fd, NULL, &len);
    assert_null(strstr(raw, "HTTP/1.1 200"));
    free(raw);
    close(fd);
    close(held[0]);
    close(held[1]);
    /* The slots come back once the streams notice their peers left (one sample later). */
    uint64_t deadline = u_time_ms() + 5000;
    int status = 0;
    while (status != 200 && u_time_ms() < deadline) {
        usleep(50000);
        fd = connect_to(fx->port);
        (void)send(fd, req, sizeof(req) - 1, MSG_NOSIGNAL);
        raw = read_all(fd, NULL, &len);
        if (sscanf(raw, "HTTP/1.1 %d", &status) != 1) {
            status = 0;
        }
        free(raw);
        close(fd);
    }
    assert_int_equal(status, 200);
}

static void test_destroy_with_open_stream(void **state)
{
    struct fixture *fx = *state;
    int fd = connect_to(fx->port);
    const char req[] =
        "GET /api/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " TOKEN "\r\n\r\n";
    send_all(fd, req, sizeof(req) - 1);
    free(read_events(fd, 1));
    size_t len;
    uint64_t t0 = u_time_ms();
    rr_inspector_destroy(&fx->insp);
    assert_true(u_time_ms() - t0 < 3000);
    /* The stream ended: the peer sees the end of the connection. */
    char *rest = read_all(fd, NULL, &len);
    free(rest);
    close(fd);
    int calls = atomic_load(&fx->src.stats_calls);
    usleep(60000);
    assert_int_equal(atomic_load(&fx->src.stats_calls), calls); /* no call after destroy */
}

static void test_create_errors(void **state)
{
    struct fixture fx = {0};
    fx.src.base.stats = fake_stats;
    make_web_root(&fx);
    struct rr_inspector *insp = (struct rr_inspector *)&fx; /* must be overwritten or kept */
    struct rr_inspector_config c = base_config(&fx);
    assert_int_equal(rr_inspector_create(NULL, &insp), RR_INSPECTOR_ERROR_INVALID_ARGUMENT);
    assert_int_equal(rr_inspector_create(&c, NULL), RR_INSPECTOR_ERROR_INVALID_ARGUMENT);

    c.token = "";
    assert_int_equal(rr_inspector_create(&c, &insp), RR_INSPECTOR_ERROR_INVALID_ARGUMENT);
    char long_token[300];
    memset(long_token, 'a', sizeof(long_token) - 1);
    long_token[sizeof(long_token) - 1] = '\0';
    c.token = long_token;
    assert_int_equal(rr_inspector_create(&c, &insp), RR_INSPECTOR_ERROR_INVALID_ARGUMENT);
    c.token = NULL;
    assert_int_equal(rr_inspector_create(&c, &insp), RR_INSPECTOR_ERROR_INVALID_ARGUMENT);
    c = base_config(&fx);

    c.source = NULL;
    assert_int_equal(rr_inspector_create(&c, &insp), RR_INSPECTOR_ERROR_INVALID_ARGUMENT);
    c = base_config(&fx);

    c.bind_address = "localhost"; /* numeric only */
    assert_int_equal(rr_inspector_create(&c, &insp), RR_INSPECTOR_ERROR_INVALID_ARGUMENT);
    c.bind_address = "203.0.113.1"; /* not ours */
    assert_int_equal(rr_inspector_create(&c, &insp), RR_INSPECTOR_ERROR_BIND);
    c = base_config(&fx);

    c.web_root = "/nonexistent/openrr-web";
    assert_int_equal(rr_inspector_create(&c, &insp), RR_INSPECTOR_ERROR_WEB_ROOT);
    c = base_config(&fx);

    /* A port that is taken. */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(fd, 1), 0);
    socklen_t sl = sizeof(sa);
    getsockname(fd, (struct sockaddr *)&sa, &sl);
    c.port = ntohs(sa.sin_port);
    assert_int_equal(rr_inspector_create(&c, &insp), RR_INSPECTOR_ERROR_ADDRESS_IN_USE);
    close(fd);

    for (int e = RR_INSPECTOR_OK; e <= RR_INSPECTOR_ERROR_SERVER; e++) {
        assert_non_null(rr_inspector_strerror((enum rr_inspector_error)e));
    }
    assert_non_null(rr_inspector_strerror((enum rr_inspector_error)99));
    assert_string_equal(rr_inspector_stage_name(RR_INSPECTOR_STAGE_POSE_TO_PRESENT),
                        "pose_to_present");
    assert_null(rr_inspector_stage_name(RR_INSPECTOR_STAGE_COUNT));

    /* No page, IPv6 loopback, no scene or pause in the source. */
    c = base_config(&fx);
    c.web_root = NULL;
    c.bind_address = "::1";
    enum rr_inspector_error err = rr_inspector_create(&c, &insp);
    if (err == RR_INSPECTOR_OK) {
        assert_int_not_equal(rr_inspector_port(insp), 0);
        rr_inspector_destroy(&insp);
    } else {
        assert_int_equal(err, RR_INSPECTOR_ERROR_BIND); /* no IPv6 here */
    }
    c.bind_address = NULL;
    assert_int_equal(rr_inspector_create(&c, &insp), RR_INSPECTOR_OK);
    struct reply r = http(rr_inspector_port(insp), "GET", "/", NULL, NULL);
    assert_int_equal(r.status, 404);
    reply_free(&r);
    r = http(rr_inspector_port(insp), "POST", "/api/pause",
             "Authorization: Bearer " TOKEN "\r\nContent-Length: 15\r\n", "{\"paused\":true}");
    assert_int_equal(r.status, 501);
    reply_free(&r);
    r = get_auth(rr_inspector_port(insp), "/api/scene");
    assert_int_equal(r.status, 200);
    reply_free(&r);
    rr_inspector_destroy(&insp);
    rr_inspector_destroy(&insp);
    rr_inspector_destroy(NULL);
    assert_int_equal(rr_inspector_port(NULL), 0);
    remove_web_root(&fx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_health_needs_no_token, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_token_is_401, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrong_token_is_401, setup, teardown),
        cmocka_unit_test_setup_teardown(test_query_token, setup, teardown),
        cmocka_unit_test_setup_teardown(test_verify_hook, setup_hook, teardown),
        cmocka_unit_test_setup_teardown(test_stats, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scene, setup, teardown),
        cmocka_unit_test_setup_teardown(test_log_filter, setup, teardown),
        cmocka_unit_test_setup_teardown(test_log_ring_keeps_200, setup, teardown),
        cmocka_unit_test_setup_teardown(test_log_sink, setup_capture, teardown),
        cmocka_unit_test_setup_teardown(test_trace, setup, teardown),
        cmocka_unit_test_setup_teardown(test_events_stream, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pause, setup, teardown),
        cmocka_unit_test_setup_teardown(test_oversized_body_is_413, setup, teardown),
        cmocka_unit_test_setup_teardown(test_static_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_path_traversal_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_connection_limit, setup_two_connections, teardown),
        cmocka_unit_test_setup_teardown(test_destroy_with_open_stream, setup, teardown),
        cmocka_unit_test(test_create_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
