/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libopenrr_client against a real openrrd (started here with a short token lifetime and small
 * hosts) and the real openrr-host its local backend launches: token exchange, caching and
 * refresh; a refused key; an unreachable service; parameter checks; the one-call-per-kind rule
 * and calling again from a completion; a session from Starting to Ready, its inspector page,
 * a player connected through rr_session_connect receiving video, releasing a session object
 * without stopping the session, stopping it; rr_client_last_error per thread; releasing the
 * frontend with calls queued and from its own callback.
 */
#include "rr_test.h"

#include "openrr/client.h"
#include "openrr/stream.h"

#include <jansson.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef RR_OPENRRD_PATH
#error "RR_OPENRRD_PATH must name the openrrd binary"
#endif

/* The service's token lifetime: a little over the SDK's 5-minute refresh margin, so that a
 * token becomes due for refresh a few seconds after it was issued. */
#define TOKEN_LIFETIME 304

static struct {
    char dir[256];
    pid_t pid;
    char url[128];
    char account[64];
    char key[64];
} g;

/* ---- openrrd --------------------------------------------------------------------------------- */

static bool start_openrrd(void)
{
    int out[2];
    if (pipe(out) != 0) {
        return false;
    }
    char data[300], log[300], lifetime[16];
    snprintf(data, sizeof(data), "%s/data", g.dir);
    snprintf(log, sizeof(log), "%s/openrrd.err", g.dir);
    snprintf(lifetime, sizeof(lifetime), "%d", TOKEN_LIFETIME);
    g.pid = fork();
    if (g.pid == 0) {
        dup2(out[1], STDOUT_FILENO);
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd >= 0) {
            dup2(fd, STDERR_FILENO);
        }
        close(out[0]);
        execl(RR_OPENRRD_PATH, "openrrd", "serve", "--data", data, "--listen", "127.0.0.1:0",
              "--token-lifetime", lifetime, "--host-args", "--eye-size 320x180 --fps 30",
              "--rate-per-second", "0", (char *)NULL);
        _exit(127);
    }
    close(out[1]);
    if (g.pid < 0) {
        close(out[0]);
        return false;
    }
    char line[512];
    size_t n = 0;
    uint64_t end = rr_test_now_ms() + 20000;
    bool ok = false;
    while (rr_test_now_ms() < end && n + 1 < sizeof(line)) {
        struct pollfd p = {.fd = out[0], .events = POLLIN};
        if (poll(&p, 1, 200) <= 0) {
            continue;
        }
        ssize_t r = read(out[0], line + n, 1);
        if (r <= 0) {
            break;
        }
        if (line[n] == '\n') {
            line[n] = '\0';
            ok = sscanf(line, "ready: listening on %127s", g.url) == 1;
            break;
        }
        n++;
    }
    close(out[0]);
    return ok;
}

static bool create_account(const char *dir, char *id, size_t id_size, char *key, size_t key_size)
{
    char cmd[700];
    snprintf(cmd, sizeof(cmd), "'%s' account create --json --data '%s/data'", RR_OPENRRD_PATH, dir);
    FILE *f = popen(cmd, "r");
    if (f == NULL) {
        return false;
    }
    json_error_t jerr;
    json_t *o = json_loadf(f, 0, &jerr);
    int status = pclose(f);
    const char *a = json_string_value(json_object_get(o, "accountId"));
    const char *k = json_string_value(json_object_get(o, "primaryKey"));
    bool ok = status == 0 && a != NULL && k != NULL;
    if (ok) {
        snprintf(id, id_size, "%s", a);
        snprintf(key, key_size, "%s", k);
    }
    json_decref(o);
    return ok;
}

static int setup(void **state)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(g.dir, sizeof(g.dir), "%s/rr-client.XXXXXX", tmp != NULL && tmp[0] ? tmp : "/tmp");
    if (mkdtemp(g.dir) == NULL) {
        return -1;
    }
    /* The inspector pages go here, not into the user's runtime directory. */
    setenv("XDG_RUNTIME_DIR", g.dir, 1);
    setenv("NO_PROXY", "*", 1);
    setenv("no_proxy", "*", 1);
    if (!start_openrrd()) {
        fprintf(stderr, "openrrd did not start; see %s/openrrd.err\n", g.dir);
        return -1;
    }
    if (!create_account(g.dir, g.account, sizeof(g.account), g.key, sizeof(g.key))) {
        fprintf(stderr, "openrrd account create failed\n");
        return -1;
    }
    return 0;
}

/* ---- waiting for completions ----------------------------------------------------------------- */

struct waiter {
    pthread_mutex_t m;
    pthread_cond_t c;
    int done;
    enum rr_client_result result;
    char message[512];
    bool on_worker_thread;
    pthread_t main_thread;
    char token[RR_MAX_TOKEN_SIZE + 1];
    struct rr_session *session;
    struct rr_session_properties props;
    size_t count;
    bool listed; /* the session named in `props.id` was among the listed ones */
    char path[4096];
    struct rr_conversion_properties conv;
};

static void waiter_init(struct waiter *w)
{
    memset(w, 0, sizeof(*w));
    pthread_mutex_init(&w->m, NULL);
    pthread_cond_init(&w->c, NULL);
    w->main_thread = pthread_self();
}

static void waiter_fini(struct waiter *w)
{
    pthread_mutex_destroy(&w->m);
    pthread_cond_destroy(&w->c);
}

static void complete(struct waiter *w, enum rr_client_result r)
{
    w->result = r;
    w->on_worker_thread = !pthread_equal(pthread_self(), w->main_thread);
    snprintf(w->message, sizeof(w->message), "%s", rr_client_last_error());
    pthread_mutex_lock(&w->m);
    w->done++;
    pthread_cond_broadcast(&w->c);
    pthread_mutex_unlock(&w->m);
}

static bool wait_done(struct waiter *w, int count, int timeout_ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += timeout_ms / 1000;
    ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&w->m);
    while (w->done < count) {
        if (pthread_cond_timedwait(&w->c, &w->m, &ts) != 0) {
            break;
        }
    }
    bool ok = w->done >= count;
    pthread_mutex_unlock(&w->m);
    return ok;
}

static void on_token(void *user, enum rr_client_result r, const char *token)
{
    struct waiter *w = user;
    if (r == RR_CLIENT_SUCCESS) {
        snprintf(w->token, sizeof(w->token), "%s", token);
    } else {
        assert_null(token);
    }
    complete(w, r);
}

static void on_created(void *user, enum rr_client_result r, struct rr_session *s)
{
    struct waiter *w = user;
    w->session = s;
    complete(w, r);
}

static void on_props(void *user, enum rr_client_result r, const struct rr_session_properties *p)
{
    struct waiter *w = user;
    if (p != NULL) {
        w->props = *p;
    }
    complete(w, r);
}

static void on_done(void *user, enum rr_client_result r)
{
    complete(user, r);
}

static void on_path(void *user, enum rr_client_result r, const char *path)
{
    struct waiter *w = user;
    if (path != NULL) {
        snprintf(w->path, sizeof(w->path), "%s", path);
    }
    complete(w, r);
}

static void on_list(void *user, enum rr_client_result r, const struct rr_session_properties *p,
                    size_t n)
{
    struct waiter *w = user;
    w->count = n;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(p[i].id, w->props.id) == 0) {
            w->listed = true;
        }
    }
    complete(w, r);
}

static void on_conversion(void *user, enum rr_client_result r,
                          const struct rr_conversion_properties *p)
{
    struct waiter *w = user;
    if (p != NULL) {
        w->conv = *p;
    }
    complete(w, r);
}

/* ---- helpers --------------------------------------------------------------------------------- */

static struct rr_frontend *frontend_with(const char *key, const char *url)
{
    struct rr_account_info info = {
        .account_domain = "openrr.localhost",
        .account_id = g.account,
        .account_key = key,
        .service_url = url,
    };
    struct rr_frontend *fe = NULL;
    assert_int_equal(rr_frontend_create(&info, &fe), RR_CLIENT_SUCCESS);
    assert_non_null(fe);
    return fe;
}

static struct rr_frontend *frontend(void)
{
    return frontend_with(g.key, g.url);
}

static char *get_token(struct rr_frontend *fe, enum rr_client_result want)
{
    struct waiter w;
    waiter_init(&w);
    assert_int_equal(rr_frontend_get_access_token(fe, on_token, &w), RR_CLIENT_SUCCESS);
    assert_true(wait_done(&w, 1, 30000));
    assert_true(w.on_worker_thread);
    if (w.result != want) {
        fail_msg("token: %s (%s), expected %s", rr_client_result_str(w.result), w.message,
                 rr_client_result_str(want));
    }
    waiter_fini(&w);
    return want == RR_CLIENT_SUCCESS ? strdup(w.token) : NULL;
}

/* The integer claim @p name of a JWT's payload (no verification). */
static int64_t claim(const char *jwt, const char *name)
{
    const char *a = strchr(jwt, '.');
    const char *b = a != NULL ? strchr(a + 1, '.') : NULL;
    assert_non_null(b);
    char payload[4096];
    size_t len = 0;
    unsigned acc = 0;
    int bits = 0;
    for (const char *p = a + 1; p < b && len + 1 < sizeof(payload); p++) {
        const char *alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        const char *pos = strchr(alphabet, *p);
        assert_non_null(pos);
        acc = (acc << 6) | (unsigned)(pos - alphabet);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            payload[len++] = (char)((acc >> bits) & 0xff);
        }
    }
    json_error_t jerr;
    json_t *o = json_loadb(payload, len, 0, &jerr);
    assert_non_null(o);
    json_t *v = json_object_get(o, name);
    int64_t value = json_is_integer(v) ? (int64_t)json_integer_value(v) : -1;
    json_decref(o);
    return value;
}

static uint16_t closed_port(void)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(getsockname(s, (struct sockaddr *)&a, &len), 0);
    close(s);
    return ntohs(a.sin_port);
}

/* ---- tests ----------------------------------------------------------------------------------- */

static void test_invalid_params(void **state)
{
    struct rr_frontend *fe = NULL;
    struct rr_account_info two = {.account_domain = "openrr.localhost",
                                  .account_id = "a",
                                  .account_key = "k",
                                  .access_token = "t",
                                  .service_url = g.url};
    assert_int_equal(rr_frontend_create(&two, &fe), RR_CLIENT_INVALID_PARAM);
    assert_null(fe);
    assert_non_null(strstr(rr_client_last_error(), "exactly one"));
    struct rr_account_info none = {
        .account_domain = "openrr.localhost", .account_id = "a", .service_url = g.url};
    assert_int_equal(rr_frontend_create(&none, &fe), RR_CLIENT_INVALID_PARAM);
    struct rr_account_info ftp = {.account_domain = "openrr.localhost",
                                  .account_id = "a",
                                  .account_key = "k",
                                  .service_url = "ftp://x"};
    assert_int_equal(rr_frontend_create(&ftp, &fe), RR_CLIENT_INVALID_PARAM);
    struct rr_account_info crlf = {.account_domain = "openrr.localhost",
                                   .account_id = "a",
                                   .account_key = "k\r\nX-Evil: 1",
                                   .service_url = g.url};
    assert_int_equal(rr_frontend_create(&crlf, &fe), RR_CLIENT_INVALID_PARAM);
    assert_null(strstr(rr_client_last_error(), "Evil"));

    fe = frontend();
    struct waiter w;
    waiter_init(&w);
    assert_int_equal(
        rr_frontend_create_session(fe, "bad id", RR_SESSION_STANDARD, 10, on_created, &w),
        RR_CLIENT_INVALID_PARAM);
    assert_int_equal(rr_frontend_create_session(fe, NULL, RR_SESSION_STANDARD, 0, on_created, &w),
                     RR_CLIENT_INVALID_PARAM);
    assert_int_equal(
        rr_frontend_create_session(fe, NULL, RR_SESSION_STANDARD, 1441, on_created, &w),
        RR_CLIENT_INVALID_PARAM);
    assert_int_equal(rr_frontend_create_session(fe, NULL, RR_SESSION_STANDARD, 10, NULL, &w),
                     RR_CLIENT_INVALID_PARAM);
    struct rr_session *s = NULL;
    assert_int_equal(rr_frontend_open_session(fe, "", &s), RR_CLIENT_INVALID_PARAM);
    assert_int_equal(rr_frontend_open_session(fe, "a/b", &s), RR_CLIENT_INVALID_PARAM);
    assert_null(s);
    assert_int_equal(rr_frontend_get_conversion(fe, "../x", on_conversion, &w),
                     RR_CLIENT_INVALID_PARAM);
    assert_int_equal(w.done, 0); /* no callback for a refused call */
    waiter_fini(&w);
    /* Names. */
    assert_string_equal(rr_client_result_str(RR_CLIENT_ALREADY_EXISTS), "AlreadyExists");
    assert_string_equal(rr_client_result_str((enum rr_client_result)99), "Unknown");
    assert_string_equal(rr_session_status_str(RR_SESSION_EXPIRED), "Expired");
    assert_string_equal(rr_conversion_status_str(RR_CONVERSION_SUCCEEDED), "Succeeded");
    rr_frontend_release(&fe);
    assert_null(fe);
    rr_frontend_release(&fe); /* NULL is fine */
}

static void test_location_domain(void **state)
{
    struct rr_account_info info = {.account_domain = "mixedreality.example",
                                   .account_id = "a",
                                   .account_key = "k",
                                   .location = "westus2",
                                   .service_url = g.url};
    struct rr_frontend *fe = NULL;
    assert_int_equal(rr_frontend_create(&info, &fe), RR_CLIENT_SUCCESS);
    assert_string_equal(rr_frontend_domain(fe), "westus2.mixedreality.example");
    rr_frontend_release(&fe);
    info.location = "ignore";
    assert_int_equal(rr_frontend_create(&info, &fe), RR_CLIENT_SUCCESS);
    assert_string_equal(rr_frontend_domain(fe), "mixedreality.example");
    rr_frontend_release(&fe);
}

static void test_token_exchange_and_refresh(void **state)
{
    struct rr_frontend *fe = frontend();
    char *t1 = get_token(fe, RR_CLIENT_SUCCESS);
    char *t2 = get_token(fe, RR_CLIENT_SUCCESS);
    assert_string_equal(t1, t2); /* cached: more than 5 minutes left */
    int64_t iat = claim(t1, "iat"), exp = claim(t1, "exp");
    assert_int_equal(exp - iat, TOKEN_LIFETIME);
    /* Wait until fewer than 300 s remain: the next call exchanges again. */
    int64_t due = exp - 300;
    while ((int64_t)time(NULL) < due + 1) {
        usleep(200000);
    }
    char *t3 = get_token(fe, RR_CLIENT_SUCCESS);
    assert_string_not_equal(t1, t3);
    assert_true(claim(t3, "exp") > exp);
    char *t4 = get_token(fe, RR_CLIENT_SUCCESS);
    assert_string_equal(t3, t4);
    free(t1);
    free(t2);
    free(t3);
    free(t4);
    rr_frontend_release(&fe);

    /* A given access token is used as it is, never exchanged. */
    struct rr_account_info info = {.account_domain = "openrr.localhost",
                                   .account_id = g.account,
                                   .access_token = "given.access.token",
                                   .service_url = g.url};
    assert_int_equal(rr_frontend_create(&info, &fe), RR_CLIENT_SUCCESS);
    char *t5 = get_token(fe, RR_CLIENT_SUCCESS);
    assert_string_equal(t5, "given.access.token");
    free(t5);
    /* The service refuses it: AuthenticationFailed on a REST call. */
    struct waiter w;
    waiter_init(&w);
    assert_int_equal(rr_frontend_list_sessions(fe, on_list, &w), RR_CLIENT_SUCCESS);
    assert_true(wait_done(&w, 1, 30000));
    assert_int_equal(w.result, RR_CLIENT_AUTHENTICATION_FAILED);
    assert_non_null(strstr(w.message, "401"));
    assert_null(strstr(w.message, "given.access.token"));
    waiter_fini(&w);
    rr_frontend_release(&fe);
}

static void test_wrong_key(void **state)
{
    static const char wrong[] = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    struct rr_frontend *fe = frontend_with(wrong, g.url);
    struct waiter w;
    waiter_init(&w);
    assert_int_equal(rr_frontend_get_access_token(fe, on_token, &w), RR_CLIENT_SUCCESS);
    assert_true(wait_done(&w, 1, 30000));
    assert_int_equal(w.result, RR_CLIENT_AUTHENTICATION_FAILED);
    /* The message in the callback says why, and never holds the key. */
    assert_non_null(strstr(w.message, "refused"));
    assert_null(strstr(w.message, wrong));
    /* This thread's last call used the same frontend: it sees the same message. */
    assert_string_equal(rr_client_last_error(), w.message);
    waiter_fini(&w);

    waiter_init(&w);
    assert_int_equal(rr_frontend_create_session(fe, NULL, RR_SESSION_STANDARD, 10, on_created, &w),
                     RR_CLIENT_SUCCESS);
    assert_true(wait_done(&w, 1, 30000));
    assert_int_equal(w.result, RR_CLIENT_AUTHENTICATION_FAILED);
    assert_null(w.session);
    waiter_fini(&w);
    rr_frontend_release(&fe);
}

static void test_unreachable(void **state)
{
    char url[64];
    snprintf(url, sizeof(url), "http://127.0.0.1:%u", closed_port());
    struct rr_frontend *fe = frontend_with(g.key, url);
    struct waiter w;
    waiter_init(&w);
    assert_int_equal(rr_frontend_list_sessions(fe, on_list, &w), RR_CLIENT_SUCCESS);
    assert_true(wait_done(&w, 1, 30000));
    assert_int_equal(w.result, RR_CLIENT_NO_CONNECTION);
    assert_non_null(strstr(w.message, "cannot reach"));
    waiter_fini(&w);
    rr_frontend_release(&fe);
}

/* ---- the one-call-per-kind rule -------------------------------------------------------------- */

struct blocker {
    pthread_mutex_t m;
    pthread_cond_t c;
    bool entered, go;
};

/* Holds the worker inside a completion until the test lets it go, so that later calls queue. */
static void on_block(void *user, enum rr_client_result r, const char *token)
{
    struct blocker *b = user;
    pthread_mutex_lock(&b->m);
    b->entered = true;
    pthread_cond_broadcast(&b->c);
    while (!b->go) {
        pthread_cond_wait(&b->c, &b->m);
    }
    pthread_mutex_unlock(&b->m);
}

static void blocker_wait_entered(struct blocker *b)
{
    pthread_mutex_lock(&b->m);
    while (!b->entered) {
        pthread_cond_wait(&b->c, &b->m);
    }
    pthread_mutex_unlock(&b->m);
}

static void blocker_release(struct blocker *b)
{
    pthread_mutex_lock(&b->m);
    b->go = true;
    pthread_cond_broadcast(&b->c);
    pthread_mutex_unlock(&b->m);
}

struct again {
    struct rr_session *session;
    struct waiter first, second;
    enum rr_client_result again_result;
};

static void on_props_again(void *user, enum rr_client_result r,
                           const struct rr_session_properties *p)
{
    struct again *a = user;
    /* Calling the same kind again from the completion succeeds. */
    a->again_result = rr_session_get_properties(a->session, on_props, &a->second);
    on_props(&a->first, r, p);
}

static void test_redundant_calls(void **state)
{
    struct rr_frontend *fe = frontend();
    struct rr_session *s = NULL;
    assert_int_equal(rr_frontend_open_session(fe, "no-such-session", &s), RR_CLIENT_SUCCESS);
    assert_string_equal(rr_session_id(s), "no-such-session");
    assert_ptr_equal(rr_session_frontend(s), fe);
    struct rr_session_properties p;
    assert_false(rr_session_cached_properties(s, &p));

    struct blocker b = {.m = PTHREAD_MUTEX_INITIALIZER, .c = PTHREAD_COND_INITIALIZER};
    assert_int_equal(rr_frontend_get_access_token(fe, on_block, &b), RR_CLIENT_SUCCESS);
    blocker_wait_entered(&b);

    struct again a = {.session = s, .again_result = RR_CLIENT_IO};
    waiter_init(&a.first);
    waiter_init(&a.second);
    struct waiter redundant, stop;
    waiter_init(&redundant);
    waiter_init(&stop);
    assert_int_equal(rr_session_get_properties(s, on_props_again, &a), RR_CLIENT_SUCCESS);
    assert_int_equal(rr_session_get_properties(s, on_props, &redundant), RR_CLIENT_ALREADY_EXISTS);
    assert_non_null(strstr(rr_client_last_error(), "already in flight"));
    /* Another kind is not redundant. */
    assert_int_equal(rr_session_stop(s, on_done, &stop), RR_CLIENT_SUCCESS);
    assert_int_equal(rr_session_stop(s, on_done, &stop), RR_CLIENT_ALREADY_EXISTS);
    /* The session object may go while its calls are in flight: they still complete. */
    rr_session_release(&s);
    blocker_release(&b);

    assert_true(wait_done(&a.first, 1, 30000));
    assert_true(wait_done(&a.second, 1, 30000));
    assert_true(wait_done(&stop, 1, 30000));
    assert_int_equal(a.again_result, RR_CLIENT_SUCCESS);
    assert_int_equal(a.first.result, RR_CLIENT_SESSION_NOT_FOUND);
    assert_int_equal(a.second.result, RR_CLIENT_SESSION_NOT_FOUND);
    assert_int_equal(stop.result, RR_CLIENT_SESSION_NOT_FOUND);
    assert_non_null(strstr(a.first.message, "404"));
    usleep(100000);
    assert_int_equal(redundant.done, 0); /* a refused call's callback never runs */
    waiter_fini(&a.first);
    waiter_fini(&a.second);
    waiter_fini(&redundant);
    waiter_fini(&stop);
    rr_frontend_release(&fe);
}

static void test_not_initialized(void **state)
{
    struct rr_frontend *fe = frontend();
    struct rr_session *s = NULL;
    assert_int_equal(rr_frontend_open_session(fe, "never-fetched", &s), RR_CLIENT_SUCCESS);
    struct waiter w;
    waiter_init(&w);
    assert_int_equal(rr_session_connect_inspector(s, on_path, &w), RR_CLIENT_SUCCESS);
    assert_true(wait_done(&w, 1, 30000));
    assert_int_equal(w.result, RR_CLIENT_NOT_INITIALIZED);
    waiter_fini(&w);

    struct rr_context_config cfg = rr_test_config(RR_ROLE_PLAYER);
    struct rr_context *ctx = NULL;
    assert_int_equal(rr_context_create(&cfg, &ctx), RR_OK);
    waiter_init(&w);
    assert_int_equal(rr_session_connect(s, ctx, on_done, &w), RR_CLIENT_SUCCESS);
    assert_true(wait_done(&w, 1, 30000));
    assert_int_equal(w.result, RR_CLIENT_NOT_INITIALIZED);
    waiter_fini(&w);
    rr_context_destroy(&ctx);

    cfg.role = RR_ROLE_REMOTE;
    assert_int_equal(rr_context_create(&cfg, &ctx), RR_OK);
    assert_int_equal(rr_session_connect(s, ctx, on_done, &w), RR_CLIENT_INVALID_PARAM);
    rr_context_destroy(&ctx);
    rr_session_release(&s);
    rr_frontend_release(&fe);
}

static void test_conversion_errors(void **state)
{
    struct rr_frontend *fe = frontend();
    struct waiter w;
    waiter_init(&w);
    assert_int_equal(rr_frontend_get_conversion(fe, "no-such-conversion", on_conversion, &w),
                     RR_CLIENT_SUCCESS);
    assert_true(wait_done(&w, 1, 30000));
    assert_int_equal(w.result, RR_CLIENT_SESSION_NOT_FOUND);
    waiter_fini(&w);

    /* A container outside the service's storage root: 400 → InvalidParam, with the field. */
    struct rr_conversion_input in = {.storage_container_uri = "file:///etc",
                                     .relative_input_asset_path = "passwd",
                                     .read_sas = "sv=secret-sas"};
    struct rr_conversion_output out = {.storage_container_uri = "file:///tmp"};
    waiter_init(&w);
    assert_int_equal(rr_frontend_start_conversion(fe, NULL, &in, &out, on_conversion, &w),
                     RR_CLIENT_SUCCESS);
    assert_true(wait_done(&w, 1, 30000));
    assert_int_equal(w.result, RR_CLIENT_INVALID_PARAM);
    assert_non_null(strstr(w.message, "400"));
    assert_null(strstr(w.message, "secret-sas"));
    waiter_fini(&w);
    rr_frontend_release(&fe);
}

/* ---- a session's life ------------------------------------------------------------------------ */

static void get_props(struct rr_session *s, struct rr_session_properties *out)
{
    struct waiter w;
    waiter_init(&w);
    assert_int_equal(rr_session_get_properties(s, on_props, &w), RR_CLIENT_SUCCESS);
    assert_true(wait_done(&w, 1, 30000));
    if (w.result != RR_CLIENT_SUCCESS) {
        fail_msg("get properties: %s: %s", rr_client_result_str(w.result), w.message);
    }
    *out = w.props;
    waiter_fini(&w);
}

/* RR_EVENT_CONNECTED, or fail with the disconnect's reason. */
static void wait_connected(struct rr_context *ctx)
{
    uint64_t end = rr_test_now_ms() + 15000;
    while (rr_test_now_ms() < end) {
        struct rr_event ev;
        if (rr_context_poll_event(ctx, &ev, 200) != RR_OK) {
            continue;
        }
        enum rr_event_type type = ev.type;
        char detail[192];
        snprintf(detail, sizeof(detail), "%s", ev.detail);
        enum rr_disconnect_reason reason = ev.reason;
        rr_event_release(&ev);
        if (type == RR_EVENT_CONNECTED) {
            return;
        }
        if (type == RR_EVENT_DISCONNECTED) {
            fail_msg("disconnected: %s (%s)", rr_disconnect_reason_str(reason), detail);
        }
    }
    fail_msg("no connected event within 15 s");
}

static void send_pose(struct rr_stream_player *player)
{
    struct rr_stream_pose pose;
    memset(&pose, 0, sizeof(pose));
    pose.head.orientation[3] = 1.0f;
    pose.head.position[2] = 2.0f;
    for (int e = 0; e < 2; e++) {
        pose.view[e] = pose.head;
        pose.view[e].position[0] = e == 0 ? -0.032f : 0.032f;
        pose.fov[e] = (struct rr_stream_fovf){-0.785f, 0.785f, 0.785f, -0.785f};
    }
    pose.predicted_display_us = rr_stream_now_us(0) + 30000;
    rr_stream_player_send_pose(player, &pose);
}

static void test_session_lifecycle(void **state)
{
    struct rr_frontend *fe = frontend();
    char id[64];
    snprintf(id, sizeof(id), "sdk-life-%ld", (long)getpid());
    struct waiter w;
    waiter_init(&w);
    assert_int_equal(rr_frontend_create_session(fe, id, RR_SESSION_STANDARD, 10, on_created, &w),
                     RR_CLIENT_SUCCESS);
    assert_true(wait_done(&w, 1, 60000));
    if (w.result != RR_CLIENT_SUCCESS) {
        fail_msg("create session: %s: %s", rr_client_result_str(w.result), w.message);
    }
    struct rr_session *s = w.session;
    waiter_fini(&w);
    assert_non_null(s);
    assert_string_equal(rr_session_id(s), id);
    struct rr_session_properties p;
    assert_true(rr_session_cached_properties(s, &p));
    assert_string_equal(p.id, id);
    assert_int_equal(p.max_lease_time_minutes, 10);
    assert_true(p.status == RR_SESSION_STARTING || p.status == RR_SESSION_READY);

    /* Starting → Ready (the host started by openrrd registers). */
    uint64_t end = rr_test_now_ms() + 60000;
    do {
        get_props(s, &p);
        if (p.status != RR_SESSION_STARTING) {
            break;
        }
        usleep(250000);
    } while (rr_test_now_ms() < end);
    if (p.status != RR_SESSION_READY) {
        fail_msg("session %s: %s %s %s (see %s/data/sessions/%s/host.log)", id,
                 rr_session_status_str(p.status), p.error_code, p.error_message, g.dir, id);
    }
    assert_true(p.hostname[0] != '\0');
    assert_true(p.handshake_port != 0);
    assert_true(p.inspector_port != 0);
    struct rr_session_properties cached;
    assert_true(rr_session_cached_properties(s, &cached));
    assert_int_equal(cached.status, RR_SESSION_READY);

    /* It is listed. */
    waiter_init(&w);
    snprintf(w.props.id, sizeof(w.props.id), "%s", id);
    assert_int_equal(rr_frontend_list_sessions(fe, on_list, &w), RR_CLIENT_SUCCESS);
    assert_true(wait_done(&w, 1, 30000));
    assert_int_equal(w.result, RR_CLIENT_SUCCESS);
    assert_true(w.listed);
    waiter_fini(&w);

    /* The inspector page: 0600, opening the host's inspector with a token. */
    waiter_init(&w);
    assert_int_equal(rr_session_connect_inspector(s, on_path, &w), RR_CLIENT_SUCCESS);
    assert_true(wait_done(&w, 1, 30000));
    assert_int_equal(w.result, RR_CLIENT_SUCCESS);
    struct stat st;
    assert_int_equal(stat(w.path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(strncmp(w.path, g.dir, strlen(g.dir)), 0); /* $XDG_RUNTIME_DIR */
    FILE *f = fopen(w.path, "r");
    assert_non_null(f);
    char page[8192];
    size_t n = fread(page, 1, sizeof(page) - 1, f);
    page[n] = '\0';
    fclose(f);
    char want[300];
    snprintf(want, sizeof(want), "http://%s:%u/?token=ey", p.hostname, p.inspector_port);
    assert_non_null(strstr(page, want));
    waiter_fini(&w);

    /* A player connects through the SDK and receives video. */
    struct rr_context_config cfg = rr_test_config(RR_ROLE_PLAYER);
    cfg.handshake_timeout_ms = 10000;
    struct rr_context *ctx = NULL;
    assert_int_equal(rr_context_create(&cfg, &ctx), RR_OK);
    struct rr_stream_player_config pcfg = {0};
    struct rr_stream_player *player = NULL;
    assert_int_equal(rr_stream_player_create(ctx, &pcfg, &player), RR_OK);
    waiter_init(&w);
    assert_int_equal(rr_session_connect(s, ctx, on_done, &w), RR_CLIENT_SUCCESS);
    assert_true(wait_done(&w, 1, 30000));
    if (w.result != RR_CLIENT_SUCCESS) {
        fail_msg("connect: %s: %s", rr_client_result_str(w.result), w.message);
    }
    waiter_fini(&w);
    wait_connected(ctx);
    struct rr_connection_info info;
    assert_int_equal(rr_context_connection_info(ctx, &info), RR_OK);
    assert_true(info.secure);
    assert_true(info.has_validation);
    assert_true(info.final_validation.trusted_root);
    assert_int_equal(info.final_validation.name_validation_result, RR_NAME_MATCH);
    struct rr_stream_player_totals totals;
    end = rr_test_now_ms() + 20000;
    do {
        send_pose(player);
        usleep(33000);
        rr_stream_player_totals(player, &totals);
    } while (totals.video_frames_decoded == 0 && rr_test_now_ms() < end);
    if (totals.video_frames_decoded == 0) {
        fail_msg("no frame decoded in 20 s: %llu received, %llu decoder errors, %llu poses sent "
                 "(host log: %s/data/sessions/%s/host.log)",
                 (unsigned long long)totals.video_frames_received,
                 (unsigned long long)totals.decoder_errors, (unsigned long long)totals.poses_sent,
                 g.dir, id);
    }
    assert_int_equal(totals.width, 640); /* two 320-pixel eyes: openrrd's host_args */
    /* Connected already: a second connect is refused at once. */
    assert_int_equal(rr_session_connect(s, ctx, on_done, &w), RR_CLIENT_ALREADY_CONNECTED);
    assert_int_equal(rr_context_disconnect(ctx), RR_OK);
    rr_test_wait_disconnected(ctx, 5000, NULL, 0);
    rr_stream_player_destroy(&player);
    rr_context_destroy(&ctx);

    /* Releasing the session object does not stop the session. */
    rr_session_release(&s);
    assert_null(s);
    assert_int_equal(rr_frontend_open_session(fe, id, &s), RR_CLIENT_SUCCESS);
    get_props(s, &p);
    assert_int_equal(p.status, RR_SESSION_READY);

    /* The lease grows; a smaller one is refused. */
    waiter_init(&w);
    assert_int_equal(rr_session_update(s, 20, on_done, &w), RR_CLIENT_SUCCESS);
    assert_true(wait_done(&w, 1, 30000));
    assert_int_equal(w.result, RR_CLIENT_SUCCESS);
    assert_true(rr_session_cached_properties(s, &cached));
    assert_int_equal(cached.max_lease_time_minutes, 20);
    waiter_fini(&w);
    waiter_init(&w);
    assert_int_equal(rr_session_update(s, 5, on_done, &w), RR_CLIENT_SUCCESS);
    assert_true(wait_done(&w, 1, 30000));
    assert_int_equal(w.result, RR_CLIENT_INVALID_PARAM);
    assert_non_null(strstr(w.message, "422"));
    waiter_fini(&w);

    /* Stop → Stopped; connecting then finds no running session. */
    waiter_init(&w);
    assert_int_equal(rr_session_stop(s, on_done, &w), RR_CLIENT_SUCCESS);
    assert_true(wait_done(&w, 1, 30000));
    assert_int_equal(w.result, RR_CLIENT_SUCCESS);
    waiter_fini(&w);
    get_props(s, &p);
    assert_int_equal(p.status, RR_SESSION_STOPPED);
    assert_int_equal(rr_context_create(&cfg, &ctx), RR_OK);
    waiter_init(&w);
    assert_int_equal(rr_session_connect(s, ctx, on_done, &w), RR_CLIENT_SUCCESS);
    assert_true(wait_done(&w, 1, 30000));
    assert_int_equal(w.result, RR_CLIENT_SESSION_NOT_FOUND);
    waiter_fini(&w);
    rr_context_destroy(&ctx);
    rr_session_release(&s);
    rr_frontend_release(&fe);
}

/* ---- failure paths against a scripted server ------------------------------------------------
 * A tiny HTTP/1.1 server on loopback answers each request with the next scripted response and
 * records what it got, so that retries, odd answers and links can be provoked on purpose. */

struct fake_resp {
    int status;
    const char *headers; /* extra header lines, each ending in \r\n */
    const char *body;
};

struct fake {
    int fd;
    uint16_t port;
    pthread_t thread;
    pthread_mutex_t m;
    bool stop;
    struct fake_resp script[16];
    int nscript, next;
    char method[16][8];
    char path[16][512];
    char auth[16][512];
    int nreq;
};

static bool read_request(int c, char *head, size_t size, struct fake *f)
{
    size_t n = 0;
    while (n + 1 < size) {
        struct pollfd p = {.fd = c, .events = POLLIN};
        int pr = poll(&p, 1, 100);
        if (f->stop) {
            return false;
        }
        if (pr <= 0) {
            continue;
        }
        ssize_t r = read(c, head + n, 1);
        if (r <= 0) {
            return false;
        }
        n++;
        head[n] = '\0';
        if (n >= 4 && memcmp(head + n - 4, "\r\n\r\n", 4) == 0) {
            break;
        }
    }
    const char *cl = strcasestr(head, "\r\nContent-Length:");
    long len = cl != NULL ? strtol(cl + 17, NULL, 10) : 0;
    char body[4096];
    while (len > 0) {
        ssize_t r = read(c, body, len > (long)sizeof(body) ? sizeof(body) : (size_t)len);
        if (r <= 0) {
            return false;
        }
        len -= r;
    }
    return true;
}

static void *fake_main(void *arg)
{
    struct fake *f = arg;
    while (!f->stop) {
        struct pollfd p = {.fd = f->fd, .events = POLLIN};
        if (poll(&p, 1, 100) <= 0) {
            continue;
        }
        int c = accept(f->fd, NULL, NULL);
        if (c < 0) {
            continue;
        }
        char head[8192];
        while (read_request(c, head, sizeof(head), f)) {
            pthread_mutex_lock(&f->m);
            int i = f->nreq < 16 ? f->nreq++ : 15;
            sscanf(head, "%7s %511s", f->method[i], f->path[i]);
            const char *a = strcasestr(head, "\r\nAuthorization: ");
            f->auth[i][0] = '\0';
            if (a != NULL) {
                sscanf(a + 17, "%511[^\r]", f->auth[i]);
            }
            struct fake_resp r = {500, "", "{}"};
            if (f->next < f->nscript) {
                r = f->script[f->next++];
            }
            pthread_mutex_unlock(&f->m);
            char out[16384];
            int n = snprintf(out, sizeof(out),
                             "HTTP/1.1 %d X\r\nContent-Type: application/json\r\n"
                             "Content-Length: %zu\r\n%s\r\n%s",
                             r.status, strlen(r.body), r.headers ? r.headers : "", r.body);
            if (write(c, out, (size_t)n) != n) {
                break;
            }
        }
        close(c);
    }
    return NULL;
}

static void fake_start(struct fake *f, const struct fake_resp *script, int n)
{
    memset(f, 0, sizeof(*f));
    pthread_mutex_init(&f->m, NULL);
    memcpy(f->script, script, (size_t)n * sizeof(*script));
    f->nscript = n;
    f->fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    assert_int_equal(bind(f->fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(f->fd, 4), 0);
    assert_int_equal(getsockname(f->fd, (struct sockaddr *)&a, &len), 0);
    f->port = ntohs(a.sin_port);
    assert_int_equal(pthread_create(&f->thread, NULL, fake_main, f), 0);
}

static void fake_stop(struct fake *f)
{
    f->stop = true;
    pthread_join(f->thread, NULL);
    close(f->fd);
    pthread_mutex_destroy(&f->m);
}

/* A frontend on the fake server with a fixed access token (no exchange) or a key. */
static struct rr_frontend *fake_frontend(struct fake *f, const char *key)
{
    char url[64];
    snprintf(url, sizeof(url), "http://127.0.0.1:%u", f->port);
    struct rr_account_info info = {.account_domain = "openrr.localhost",
                                   .account_id = "acc",
                                   .account_key = key,
                                   .access_token = key == NULL ? "fixed.token.x" : NULL,
                                   .service_url = url};
    struct rr_frontend *fe = NULL;
    assert_int_equal(rr_frontend_create(&info, &fe), RR_CLIENT_SUCCESS);
    return fe;
}

#define SESSION_JSON                                                                               \
    "{\"id\":\"s1\",\"size\":\"Standard\",\"status\":\"Starting\",\"maxLeaseTimeMinutes\":10,"     \
    "\"creationTime\":\"2024-05-01T12:00:00Z\"}"

static void test_create_retries(void **state)
{
    struct fake f;
    const struct fake_resp script[] = {
        {503, "", "{\"error\":{\"code\":\"Busy\",\"message\":\"try later\"}}"},
        {502, "", "not json"},
        {201, "", SESSION_JSON},
    };
    fake_start(&f, script, 3);
    struct rr_frontend *fe = fake_frontend(&f, NULL);
    struct waiter w;
    waiter_init(&w);
    uint64_t t0 = rr_test_now_ms();
    assert_int_equal(rr_frontend_create_session(fe, NULL, RR_SESSION_PREMIUM, 10, on_created, &w),
                     RR_CLIENT_SUCCESS);
    assert_true(wait_done(&w, 1, 30000));
    assert_int_equal(w.result, RR_CLIENT_SUCCESS);
    assert_true(rr_test_now_ms() - t0 >= 2900); /* 1 s and 2 s apart */
    assert_int_equal(f.nreq, 3);
    for (int i = 0; i < 3; i++) {
        assert_string_equal(f.method[i], "PUT");
        assert_string_equal(f.path[i], f.path[0]); /* the same id each time */
        assert_string_equal(f.auth[i], "Bearer fixed.token.x");
    }
    assert_non_null(strstr(f.path[0], "/accounts/acc/sessions/"));
    assert_non_null(strstr(f.path[0], "api-version=2021-01-01"));
    struct rr_session_properties p;
    assert_true(rr_session_cached_properties(w.session, &p));
    assert_int_equal(p.status, RR_SESSION_STARTING);
    assert_int_equal(p.creation_time, 1714564800);
    rr_session_release(&w.session);
    waiter_fini(&w);
    rr_frontend_release(&fe);
    fake_stop(&f);

    /* A 4xx is final: no retry. */
    const struct fake_resp bad[] = {{409, "",
                                     "{\"error\":{\"code\":\"Conflict\",\"message\":"
                                     "\"other settings\"}}"}};
    fake_start(&f, bad, 1);
    fe = fake_frontend(&f, NULL);
    waiter_init(&w);
    assert_int_equal(rr_frontend_create_session(fe, "s1", RR_SESSION_STANDARD, 10, on_created, &w),
                     RR_CLIENT_SUCCESS);
    assert_true(wait_done(&w, 1, 30000));
    assert_int_equal(w.result, RR_CLIENT_INVALID_PARAM);
    assert_string_equal(w.message, "HTTP 409 Conflict: other settings");
    assert_int_equal(f.nreq, 1);
    waiter_fini(&w);
    rr_frontend_release(&fe);
    fake_stop(&f);
}

static void test_odd_answers(void **state)
{
    struct fake f;
    const struct fake_resp script[] = {
        {429, "Retry-After: 7\r\n",
         "{\"error\":{\"code\":\"TooManyRequests\",\"message\":\"slow\"}}"},
        {200, "", "{\"id\":\"s1\",\"status\":42}"},
        {200, "", "[1,2"},
        {500, "", "{\"error\":{\"code\":\"InternalError\",\"message\":\"disk\\nfull\"}}"},
        {200, "", "{\"sessions\":[" SESSION_JSON "],\"@nextLink\":\"http://evil.example/x\"}"},
    };
    fake_start(&f, script, 5);
    struct rr_frontend *fe = fake_frontend(&f, NULL);
    struct rr_session *s = NULL;
    assert_int_equal(rr_frontend_open_session(fe, "s1", &s), RR_CLIENT_SUCCESS);
    static const enum rr_client_result want[] = {
        RR_CLIENT_TOO_MANY_REQUESTS, RR_CLIENT_API_UNAVAILABLE, RR_CLIENT_API_UNAVAILABLE,
        RR_CLIENT_API_UNAVAILABLE};
    for (int i = 0; i < 4; i++) {
        struct waiter w;
        waiter_init(&w);
        assert_int_equal(rr_session_get_properties(s, on_props, &w), RR_CLIENT_SUCCESS);
        assert_true(wait_done(&w, 1, 30000));
        if (w.result != want[i]) {
            fail_msg("answer %d: %s (%s)", i, rr_client_result_str(w.result), w.message);
        }
        if (i == 0) {
            assert_non_null(strstr(w.message, "retry after 7 s"));
        }
        if (i == 3) {
            assert_null(strchr(w.message, '\n')); /* one line */
        }
        waiter_fini(&w);
    }
    struct rr_session_properties none;
    assert_false(rr_session_cached_properties(s, &none)); /* failures cache nothing */
    /* A next link to another origin is not followed (it would carry the token there). */
    struct waiter w;
    waiter_init(&w);
    assert_int_equal(rr_frontend_list_sessions(fe, on_list, &w), RR_CLIENT_SUCCESS);
    assert_true(wait_done(&w, 1, 30000));
    assert_int_equal(w.result, RR_CLIENT_API_UNAVAILABLE);
    assert_non_null(strstr(w.message, "not followed"));
    assert_int_equal(f.nreq, 5);
    waiter_fini(&w);
    /* A link on the service is followed: two pages make one list. */
    char page1[700];
    snprintf(page1, sizeof(page1),
             "{\"sessions\":[" SESSION_JSON "],\"@nextLink\":\"http://127.0.0.1:%u/accounts/"
             "acc/sessions?api-version=2021-01-01&$skipToken=abc\"}",
             f.port);
    pthread_mutex_lock(&f.m);
    f.script[5] = (struct fake_resp){200, "", page1};
    f.script[6] = (struct fake_resp){200, "", "{\"sessions\":[" SESSION_JSON "]}"};
    f.nscript = 7;
    pthread_mutex_unlock(&f.m);
    waiter_init(&w);
    assert_int_equal(rr_frontend_list_sessions(fe, on_list, &w), RR_CLIENT_SUCCESS);
    assert_true(wait_done(&w, 1, 30000));
    assert_int_equal(w.result, RR_CLIENT_SUCCESS);
    assert_int_equal(w.count, 2);
    assert_non_null(strstr(f.path[6], "$skipToken=abc"));
    waiter_fini(&w);
    rr_session_release(&s);
    rr_frontend_release(&fe);
    fake_stop(&f);
}

static void test_token_refused_then_exchanged_again(void **state)
{
    /* exp 4102444800 = 2100-01-01: cached for good; the service refuses it anyway (e.g. it
     * restarted with a new key), so the SDK exchanges again once. */
    struct fake f;
    const struct fake_resp script[] = {
        {200, "", "{\"AccessToken\":\"eyJhbGciOiJFUzI1NiJ9.eyJleHAiOjQxMDI0NDQ4MDB9.c2ln\"}"},
        {200, "", "{\"sessions\":[]}"},
        {401, "WWW-Authenticate: Bearer error=\"invalid_token\"\r\n", "{}"},
        {200, "", "{\"AccessToken\":\"eyJhbGciOiJFUzI1NiJ9.eyJleHAiOjQxMDI0NDQ4MDF9.c2ln\"}"},
        {200, "", "{\"sessions\":[" SESSION_JSON "]}"},
    };
    fake_start(&f, script, 5);
    struct rr_frontend *fe = fake_frontend(&f, "the-key");
    for (int i = 0; i < 2; i++) {
        struct waiter w;
        waiter_init(&w);
        assert_int_equal(rr_frontend_list_sessions(fe, on_list, &w), RR_CLIENT_SUCCESS);
        assert_true(wait_done(&w, 1, 30000));
        if (w.result != RR_CLIENT_SUCCESS) {
            fail_msg("list %d: %s (%s)", i, rr_client_result_str(w.result), w.message);
        }
        assert_int_equal(w.count, (size_t)i);
        waiter_fini(&w);
    }
    assert_int_equal(f.nreq, 5);
    assert_string_equal(f.method[0], "GET");
    assert_non_null(strstr(f.path[0], "/Accounts/acc/token"));
    assert_string_equal(f.auth[0], "Bearer acc:the-key");
    assert_string_equal(f.auth[1], "Bearer eyJhbGciOiJFUzI1NiJ9.eyJleHAiOjQxMDI0NDQ4MDB9.c2ln");
    assert_string_equal(f.auth[2], f.auth[1]); /* from the cache */
    assert_string_equal(f.auth[3], "Bearer acc:the-key");
    assert_string_equal(f.auth[4], "Bearer eyJhbGciOiJFUzI1NiJ9.eyJleHAiOjQxMDI0NDQ4MDF9.c2ln");
    rr_frontend_release(&fe);
    fake_stop(&f);
}

/* ---- releasing the frontend ------------------------------------------------------------------ */

static void test_release_with_pending_calls(void **state)
{
    struct rr_frontend *fe = frontend();
    struct waiter w;
    waiter_init(&w);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(rr_frontend_get_access_token(fe, on_token, &w), RR_CLIENT_SUCCESS);
    }
    /* Every queued call completes (with its result or NoConnection) before release returns. */
    rr_frontend_release(&fe);
    assert_int_equal(w.done, 4);
    waiter_fini(&w);
}

struct self_release {
    struct rr_frontend *fe;
    struct waiter w;
};

static void on_token_release(void *user, enum rr_client_result r, const char *token)
{
    struct self_release *sr = user;
    rr_frontend_release(&sr->fe);
    complete(&sr->w, r);
}

static void test_release_in_callback(void **state)
{
    struct self_release sr;
    waiter_init(&sr.w);
    sr.fe = frontend();
    assert_int_equal(rr_frontend_get_access_token(sr.fe, on_token_release, &sr), RR_CLIENT_SUCCESS);
    assert_true(wait_done(&sr.w, 1, 30000));
    assert_int_equal(sr.w.result, RR_CLIENT_SUCCESS);
    assert_null(sr.fe);
    usleep(200000); /* the worker frees the frontend and ends on its own */
    waiter_fini(&sr.w);
}

/* Hosts outlive openrrd (it re-adopts them at its next start): stop what a failed test left. */
struct stop_all {
    struct waiter w;
    char ids[16][257];
    size_t n;
};

static void on_list_all(void *user, enum rr_client_result r, const struct rr_session_properties *p,
                        size_t n)
{
    struct stop_all *sa = user;
    for (size_t i = 0; i < n && sa->n < 16; i++) {
        snprintf(sa->ids[sa->n++], sizeof(sa->ids[0]), "%s", p[i].id);
    }
    complete(&sa->w, r);
}

static void on_ignore(void *user, enum rr_client_result r)
{
    complete(user, r);
}

static void stop_leftover_sessions(void)
{
    struct rr_account_info info = {.account_domain = "openrr.localhost",
                                   .account_id = g.account,
                                   .account_key = g.key,
                                   .service_url = g.url};
    struct rr_frontend *fe = NULL;
    if (rr_frontend_create(&info, &fe) != RR_CLIENT_SUCCESS) {
        return;
    }
    struct stop_all sa;
    memset(&sa, 0, sizeof(sa));
    waiter_init(&sa.w);
    if (rr_frontend_list_sessions(fe, on_list_all, &sa) == RR_CLIENT_SUCCESS &&
        wait_done(&sa.w, 1, 10000)) {
        for (size_t i = 0; i < sa.n; i++) {
            struct rr_session *s = NULL;
            struct waiter w;
            waiter_init(&w);
            if (rr_frontend_open_session(fe, sa.ids[i], &s) == RR_CLIENT_SUCCESS &&
                rr_session_stop(s, on_ignore, &w) == RR_CLIENT_SUCCESS) {
                wait_done(&w, 1, 10000);
            }
            rr_session_release(&s);
            waiter_fini(&w);
        }
    }
    waiter_fini(&sa.w);
    rr_frontend_release(&fe);
}

static int teardown(void **state)
{
    if (g.pid > 0 && g.key[0] != '\0') {
        stop_leftover_sessions();
    }
    if (g.pid > 0) {
        kill(g.pid, SIGTERM);
        int status;
        for (int i = 0; i < 100 && waitpid(g.pid, &status, WNOHANG) == 0; i++) {
            usleep(50000);
        }
        kill(g.pid, SIGKILL);
        waitpid(g.pid, &status, 0);
    }
    if (getenv("RR_KEEP_TMP") == NULL) {
        char cmd[400];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", g.dir);
        if (system(cmd) != 0) {
            fprintf(stderr, "could not remove %s\n", g.dir);
        }
    }
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_invalid_params),
        cmocka_unit_test(test_location_domain),
        cmocka_unit_test(test_wrong_key),
        cmocka_unit_test(test_unreachable),
        cmocka_unit_test(test_redundant_calls),
        cmocka_unit_test(test_not_initialized),
        cmocka_unit_test(test_conversion_errors),
        cmocka_unit_test(test_session_lifecycle),
        cmocka_unit_test(test_release_with_pending_calls),
        cmocka_unit_test(test_release_in_callback),
        cmocka_unit_test(test_create_retries),
        cmocka_unit_test(test_odd_answers),
        cmocka_unit_test(test_token_refused_then_exchanged_again),
        cmocka_unit_test(test_token_exchange_and_refresh),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
