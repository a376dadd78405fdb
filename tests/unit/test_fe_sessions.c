/* SPDX-License-Identifier: Apache-2.0 */
/*
 * openrrd's session manager (fe_sessions) with the real SQLite store, the real local backend
 * and the real openrr-host (at a small eye size), which registers over HTTP with a little
 * libmicrohttpd server standing in for openrrd's internal route: Starting → Ready (wrong
 * secrets and ports refused), stop, lease expiry, a host killed, a host that exits at start or
 * never registers, restarts that adopt a running host or find it gone, ports kept until a
 * session ends, and the backend's handling of processes that are not its children.
 */
#include "rr_test.h"

#include "fe_ca.h"
#include "fe_config.h"
#include "fe_keys.h"
#include "fe_sessions.h"
#include "fe_store.h"
#include "fe_sts.h"

#include <jansson.h>
#include <microhttpd.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef FE_TEST_HOST_PATH
#error "FE_TEST_HOST_PATH (openrr-host in the build tree) must be defined"
#endif

#define WAIT_READY_MS 90000 /* a host under the sanitizers starts slowly */
#define WAIT_MS 20000
/* The hosts' port range: 100 ports, placed by the process id so that two runs of this test
 * (two build trees) rarely share one. */
static int PORT_LO, PORT_HI;

/* ---- the fixture -------------------------------------------------------------------------- */

struct registrations {
    pthread_mutex_t lock;
    int count; /* POSTs answered */
    int ok;    /* of which 204 */
    int last_status;
    json_t *last_body;
};

static struct {
    char dir[200];
    struct fe_config cfg;
    struct fe_store *store;
    struct fe_sts *sts;
    struct fe_ca *ca;
    struct fe_host_backend *backend;
    struct fe_session_mgr *mgr; /* guarded by mgr_lock for the HTTP thread */
    pthread_mutex_t mgr_lock;
    char account[FE_GUID_TEXT_SIZE];
    struct MHD_Daemon *httpd;
    char base_url[64];
    struct registrations reg;
} F;

static char *path_in(const char *name, char *out, size_t size)
{
    snprintf(out, size, "%s/%s", F.dir, name);
    return out;
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* The internal route POST /internal/sessions/{id}/ready as openrrd answers it. */
struct body {
    char *data;
    size_t len;
};

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(0, "", MHD_RESPMEM_PERSISTENT);
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

static unsigned handle_ready(const char *url, const char *auth, const char *data, size_t len)
{
    char id[FE_ID_SIZE];
    const char *prefix = "/internal/sessions/";
    const char *suffix = "/ready";
    size_t ul = strlen(url);
    if (strncmp(url, prefix, strlen(prefix)) != 0 || ul < strlen(prefix) + strlen(suffix) + 1 ||
        strcmp(url + ul - strlen(suffix), suffix) != 0) {
        return 404;
    }
    snprintf(id, sizeof id, "%.*s", (int)(ul - strlen(prefix) - strlen(suffix)),
             url + strlen(prefix));
    if (auth == NULL || strncmp(auth, "Bearer ", 7) != 0) {
        return 401;
    }
    json_error_t jerr;
    json_t *body = json_loadb(data, len, 0, &jerr);
    if (body == NULL) {
        return 400;
    }
    int hp = (int)json_integer_value(json_object_get(body, "handshakePort"));
    int tp = (int)json_integer_value(json_object_get(body, "transportPort"));
    int ip = (int)json_integer_value(json_object_get(body, "inspectorPort"));
    pthread_mutex_lock(&F.reg.lock);
    json_decref(F.reg.last_body);
    F.reg.last_body = body;
    pthread_mutex_unlock(&F.reg.lock);
    pthread_mutex_lock(&F.mgr_lock);
    enum fe_store_result r =
        F.mgr != NULL ? fe_session_mgr_register(F.mgr, id, auth + 7, hp, tp, ip) : FE_STORE_IO;
    pthread_mutex_unlock(&F.mgr_lock);
    switch (r) {
    case FE_STORE_OK:
        return 204;
    case FE_STORE_NOT_FOUND:
        return 401;
    case FE_STORE_CHANGED:
        return 409;
    case FE_STORE_INVALID:
        return 400;
    default:
        return 503;
    }
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_size, void **con_cls)
{
    (void)cls;
    (void)version;
    struct body *b = *con_cls;
    if (b == NULL) {
        b = calloc(1, sizeof *b);
        if (b == NULL) {
            return MHD_NO;
        }
        *con_cls = b;
        return MHD_YES;
    }
    if (*upload_size > 0) {
        if (b->len + *upload_size > 4096) {
            return MHD_NO;
        }
        char *n = realloc(b->data, b->len + *upload_size + 1);
        if (n == NULL) {
            return MHD_NO;
        }
        b->data = n;
        memcpy(b->data + b->len, upload_data, *upload_size);
        b->len += *upload_size;
        *upload_size = 0;
        return MHD_YES;
    }
    unsigned status =
        strcmp(method, "POST") != 0
            ? 405
            : handle_ready(url, MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization"),
                           b->data != NULL ? b->data : "", b->len);
    pthread_mutex_lock(&F.reg.lock);
    F.reg.count++;
    F.reg.ok += status == 204;
    F.reg.last_status = (int)status;
    pthread_mutex_unlock(&F.reg.lock);
    return reply(c, status);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)c;
    (void)toe;
    struct body *b = *con_cls;
    if (b != NULL) {
        free(b->data);
        free(b);
        *con_cls = NULL;
    }
}

static void set(const char *key, const char *value)
{
    char err[256];
    if (!fe_config_set(&F.cfg, key, value, "test", err, sizeof err)) {
        fail_msg("%s: %s", key, err);
    }
}

static int group_setup(void **state)
{
    (void)state;
    signal(SIGPIPE, SIG_IGN);
    snprintf(F.dir, sizeof F.dir, "/tmp/test_fe_sessions.XXXXXX");
    if (mkdtemp(F.dir) == NULL) {
        return -1;
    }
    pthread_mutex_init(&F.mgr_lock, NULL);
    pthread_mutex_init(&F.reg.lock, NULL);
    char err[512], p[PATH_MAX];
    fe_config_defaults(&F.cfg);
    set("data", F.dir);
    set("public_host", "127.0.0.1");
    set("domain", "openrr.localhost");
    PORT_LO = 41000 + (int)(getpid() % 80) * 100;
    PORT_HI = PORT_LO + 99;
    char range[32];
    snprintf(range, sizeof range, "%d-%d", PORT_LO, PORT_HI);
    set("host_ports", range);
    set("session_start_timeout", "90");
    set("host_args", "--eye-size 320x180 --encoder libx264");
    if (!fe_config_finish(&F.cfg, err, sizeof err)) {
        fprintf(stderr, "config: %s\n", err);
        return -1;
    }
    if (fe_store_sqlite_open(path_in("openrr.db", p, sizeof p), &F.store, err, sizeof err) !=
        FE_STORE_OK) {
        fprintf(stderr, "store: %s\n", err);
        return -1;
    }
    struct fe_account_record acc = {.created = (int64_t)time(NULL)};
    fe_guid_generate(F.account);
    snprintf(acc.id, sizeof acc.id, "%s", F.account);
    snprintf(acc.domain, sizeof acc.domain, "openrr.localhost");
    if (F.store->account_create(F.store, &acc, NULL, 0, err, sizeof err) != FE_STORE_OK) {
        fprintf(stderr, "account: %s\n", err);
        return -1;
    }
    struct fe_sts_options so = {
        .data_dir = F.dir, .domain = "openrr.localhost", .region = "local", .lifetime_s = 3600};
    if (!fe_sts_open(&so, &F.sts, err, sizeof err)) {
        fprintf(stderr, "sts: %s\n", err);
        return -1;
    }
    if (!fe_ca_open(path_in("ca", p, sizeof p), &F.ca, err, sizeof err)) {
        fprintf(stderr, "ca: %s\n", err);
        return -1;
    }
    F.backend = fe_backend_local_create(FE_TEST_HOST_PATH);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = 0};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    F.httpd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, on_request, NULL,
                               MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
                               MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL, MHD_OPTION_END);
    if (F.backend == NULL || F.httpd == NULL) {
        return -1;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(F.httpd, MHD_DAEMON_INFO_BIND_PORT);
    snprintf(F.base_url, sizeof F.base_url, "http://127.0.0.1:%u", (unsigned)info->port);
    return 0;
}

static void mgr_stop(void);

static int group_teardown(void **state)
{
    (void)state;
    mgr_stop(); /* left running by a failed case */
    MHD_stop_daemon(F.httpd);
    if (F.backend != NULL) {
        F.backend->destroy(F.backend);
    }
    fe_ca_destroy(&F.ca);
    fe_sts_destroy(&F.sts);
    fe_store_destroy(&F.store);
    fe_config_clear(&F.cfg);
    json_decref(F.reg.last_body);
    if (getenv("FE_TEST_KEEP_TMP") != NULL) {
        fprintf(stderr, "kept %s\n", F.dir);
        return 0;
    }
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", F.dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* ---- helpers ------------------------------------------------------------------------------ */

static struct fe_session_mgr *mgr_start_with(struct fe_host_backend *backend)
{
    char err[512] = "";
    struct fe_session_mgr_config mc = {
        .cfg = &F.cfg,
        .store = F.store,
        .backend = backend,
        .ca = F.ca,
        .jwks_path = fe_sts_jwks_path(F.sts),
        .token_issuer = fe_sts_issuer(F.sts),
        .token_audience = fe_sts_audience(F.sts),
        .register_base_url = F.base_url,
    };
    struct fe_session_mgr *m = NULL;
    if (!fe_session_mgr_create(&mc, &m, err, sizeof err)) {
        fail_msg("fe_session_mgr_create: %s", err);
    }
    pthread_mutex_lock(&F.mgr_lock);
    F.mgr = m;
    pthread_mutex_unlock(&F.mgr_lock);
    return m;
}

static void mgr_start(void)
{
    mgr_start_with(F.backend);
}

static void mgr_stop(void)
{
    pthread_mutex_lock(&F.mgr_lock);
    struct fe_session_mgr *m = F.mgr;
    F.mgr = NULL;
    pthread_mutex_unlock(&F.mgr_lock);
    fe_session_mgr_destroy(&m);
}

static void new_session(const char *id, int lease_minutes)
{
    struct fe_session_record r;
    memset(&r, 0, sizeof r);
    snprintf(r.account_id, sizeof r.account_id, "%s", F.account);
    snprintf(r.id, sizeof r.id, "%s", id);
    r.size = FE_SIZE_STANDARD;
    r.status = FE_SESSION_STARTING;
    r.create_lease_minutes = r.max_lease_minutes = lease_minutes;
    r.created = (int64_t)time(NULL);
    char err[256];
    assert_int_equal(F.store->session_create(F.store, &r, NULL, err, sizeof err), FE_STORE_OK);
    fe_session_mgr_wake(F.mgr);
}

static void get(const char *id, struct fe_session_record *out)
{
    assert_int_equal(F.store->session_get(F.store, F.account, id, out), FE_STORE_OK);
}

/* Wait until session @p id has @p status; fails the test with its state otherwise. */
static void wait_status(const char *id, enum fe_session_status status, unsigned ms,
                        struct fe_session_record *out)
{
    for (unsigned waited = 0;; waited += 50) {
        get(id, out);
        if (out->status == status) {
            return;
        }
        if (waited >= ms) {
            fail_msg("session %s: %s, not %s, after %u ms (%s: %s)", id,
                     fe_session_status_str(out->status), fe_session_status_str(status), ms,
                     out->error_code, out->error_message);
        }
        sleep_ms(50);
    }
}

/* Start time of @p pid (/proc/PID/stat field 22), 0 when there is no such process. */
static uint64_t start_time_of(pid_t pid, char *out_state)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        return 0;
    }
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *p = strrchr(buf, ')');
    if (p == NULL) {
        return 0;
    }
    p += 2;
    if (out_state != NULL) {
        *out_state = *p;
    }
    for (int field = 3; field < 22 && p != NULL; field++) {
        p = strchr(p, ' ');
        p = p != NULL ? p + 1 : NULL;
    }
    return p != NULL ? strtoull(p, NULL, 10) : 0;
}

static bool process_is(pid_t pid, uint64_t start)
{
    char state = '?';
    return start_time_of(pid, &state) == start && state != 'Z';
}

/* Wait until the process is gone and reaped (no zombie left behind). */
static void wait_gone(pid_t pid, uint64_t start, unsigned ms)
{
    for (unsigned waited = 0; start_time_of(pid, NULL) == start; waited += 50) {
        if (waited >= ms) {
            fail_msg("process %ld is still there after %u ms", (long)pid, ms);
        }
        sleep_ms(50);
    }
}

static bool file_exists(const char *path)
{
    return access(path, F_OK) == 0;
}

static char *session_path(const char *id, const char *name, char *out, size_t size)
{
    snprintf(out, size, "%s/sessions/%s/%s/%s", F.dir, F.account, id, name);
    return out;
}

static bool tcp_connects(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bool ok = fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
    if (fd >= 0) {
        close(fd);
    }
    return ok;
}

/* Whether @p needle occurs in the NUL-separated file /proc/PID/<what>. */
static bool proc_file_holds(pid_t pid, const char *what, const char *needle)
{
    char path[64], buf[65536];
    snprintf(path, sizeof path, "/proc/%ld/%s", (long)pid, what);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    for (size_t i = 0; i < n; i++) {
        if (buf[i] == '\0') {
            buf[i] = '\n';
        }
    }
    buf[n] = '\0';
    return strstr(buf, needle) != NULL;
}

/* The status of GET @p path on 127.0.0.1:@p port with @p token as bearer (NULL: none). */
static int http_get_status(int port, const char *path, const char *token)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_true(fd >= 0);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    char req[12000];
    int n = snprintf(req, sizeof req,
                     "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n%s%s%s\r\n", path,
                     token != NULL ? "Authorization: Bearer " : "", token != NULL ? token : "",
                     token != NULL ? "\r\n" : "");
    assert_true(n > 0 && (size_t)n < sizeof req);
    assert_int_equal(send(fd, req, (size_t)n, MSG_NOSIGNAL), n);
    char buf[64] = "";
    ssize_t got = recv(fd, buf, sizeof buf - 1, 0);
    close(fd);
    int status = 0;
    if (got > 0) {
        buf[got] = '\0';
        sscanf(buf, "HTTP/1.1 %d", &status);
    }
    return status;
}

/* A remoting client trusting only openrrd's CA connects to the session's host with an access
 * token of the STS: true when it connected (the certificate, JWK Set, account, issuer and
 * audience openrrd gave the host all fit). */
static bool client_connects(const struct fe_session_record *r, const char *account, unsigned role)
{
    char *token = NULL, err[256], ca[PATH_MAX];
    assert_int_equal(fe_sts_issue(F.sts, account, role, &token, NULL, err, sizeof err), RR_JWT_OK);
    struct rr_context_config cc = rr_test_config(RR_ROLE_PLAYER);
    cc.ca_file = path_in("ca/ca.pem", ca, sizeof ca);
    cc.no_system_trust = true;
    cc.no_revocation_fetch = true;
    struct rr_context *client = NULL;
    assert_int_equal(rr_context_create(&cc, &client), RR_OK);
    struct rr_test_token_provider provider;
    rr_test_token_provider_init(&provider, token);
    assert_int_equal(rr_context_connect_secure(client, r->hostname, (uint16_t)r->handshake_port,
                                               &provider.base, NULL),
                     RR_OK);
    bool connected = false, ended = false;
    uint64_t deadline = rr_test_now_ms() + 20000;
    while (!ended && rr_test_now_ms() < deadline) {
        struct rr_event ev;
        memset(&ev, 0, sizeof ev);
        if (rr_context_poll_event(client, &ev, 100) != RR_OK) {
            continue;
        }
        connected = ev.type == RR_EVENT_CONNECTED;
        ended = connected || ev.type == RR_EVENT_DISCONNECTED;
        rr_event_release(&ev);
    }
    rr_context_destroy(&client);
    rr_jwt_token_free(&token);
    return connected;
}

/* A script standing in for the host, in the test's directory. */
static const char *write_script(const char *name, const char *body)
{
    static char path[PATH_MAX];
    path_in(name, path, sizeof path);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "#!/bin/sh\n%s\n", body);
    fclose(f);
    assert_int_equal(chmod(path, 0755), 0);
    return path;
}

/* ---- cases -------------------------------------------------------------------------------- */

static void test_ready_then_stop(void **state)
{
    (void)state;
    mgr_start();
    struct fe_session_record r;
    new_session("ready-1", 30);
    get("ready-1", &r);
    assert_int_equal(r.status, FE_SESSION_STARTING);
    /* Nothing registers without the secret. */
    assert_int_equal(fe_session_mgr_register(F.mgr, "ready-1", "not-the-secret", 1, 2, 3),
                     FE_STORE_NOT_FOUND);
    assert_int_equal(fe_session_mgr_register(F.mgr, "no-such-session", "x", 1, 2, 3),
                     FE_STORE_NOT_FOUND);

    wait_status("ready-1", FE_SESSION_READY, WAIT_READY_MS, &r);
    int64_t now = (int64_t)time(NULL);
    assert_true(r.ready_at > 0 && r.ready_at <= now);
    assert_string_equal(r.hostname, "127.0.0.1");
    assert_string_equal(r.backend, "local");
    assert_true(r.handshake_port >= PORT_LO && r.handshake_port < PORT_HI);
    assert_int_equal(r.transport_port, r.handshake_port + 1);
    assert_true(r.inspector_port >= PORT_LO && r.inspector_port <= PORT_HI);
    assert_true(r.inspector_port != r.handshake_port && r.inspector_port != r.transport_port);
    assert_true(r.host_pid > 0);
    assert_true(process_is(r.host_pid, r.host_start_time));
    assert_true(strlen(r.inspector_token) >= 32);
    /* The host registered once, with the ports it was given, and listens on them. */
    pthread_mutex_lock(&F.reg.lock);
    assert_int_equal(F.reg.ok, 1);
    assert_int_equal(json_integer_value(json_object_get(F.reg.last_body, "handshakePort")),
                     r.handshake_port);
    assert_int_equal(json_integer_value(json_object_get(F.reg.last_body, "transportPort")),
                     r.transport_port);
    assert_int_equal(json_integer_value(json_object_get(F.reg.last_body, "inspectorPort")),
                     r.inspector_port);
    pthread_mutex_unlock(&F.reg.lock);
    assert_true(tcp_connects(r.handshake_port));
    assert_true(tcp_connects(r.inspector_port));
    /* Secrets are not on its command line; its certificate is private. */
    assert_false(proc_file_holds(r.host_pid, "cmdline", r.inspector_token));
    assert_true(proc_file_holds(r.host_pid, "cmdline", "--register-url"));
    assert_true(proc_file_holds(r.host_pid, "cmdline", "320x180"));
    /* The host blanks them in its environment once read. */
    assert_false(proc_file_holds(r.host_pid, "environ", r.inspector_token));
    assert_true(proc_file_holds(r.host_pid, "environ", "OPENRR_REGISTER_TOKEN="));
    char p[PATH_MAX];
    struct stat st;
    assert_int_equal(stat(session_path("ready-1", "host.p12", p, sizeof p), &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(stat(session_path("ready-1", "host.log", p, sizeof p), &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    char log[8192] = "";
    FILE *lf = fopen(session_path("ready-1", "host.log", p, sizeof p), "r");
    assert_non_null(lf);
    log[fread(log, 1, sizeof log - 1, lf)] = '\0';
    fclose(lf);
    assert_non_null(strstr(log, "openrr-host: registered with openrrd at http://127.0.0.1:"));
    assert_non_null(strstr(log, "ready: listening on port"));

    /* A client with the account's access token, trusting openrrd's CA, connects; another
     * account's token does not. The inspector takes the access token and its fixed token. */
    assert_true(client_connects(&r, F.account, RR_JWT_ROLE_CLIENT));
    char other[FE_GUID_TEXT_SIZE];
    fe_guid_generate(other);
    assert_false(client_connects(&r, other, RR_JWT_ROLE_CLIENT));
    char *jwt = NULL, err[256];
    assert_int_equal(
        fe_sts_issue(F.sts, F.account, RR_JWT_ROLE_CLIENT, &jwt, NULL, err, sizeof err), RR_JWT_OK);
    assert_int_equal(http_get_status(r.inspector_port, "/api/stats", jwt), 200);
    assert_int_equal(http_get_status(r.inspector_port, "/api/stats", r.inspector_token), 200);
    assert_int_equal(http_get_status(r.inspector_port, "/api/stats", "wrong"), 401);
    assert_int_equal(http_get_status(r.inspector_port, "/api/stats", NULL), 401);
    rr_jwt_token_free(&jwt);

    /* Registering again: a wrong secret is still refused. */
    assert_int_equal(fe_session_mgr_register(F.mgr, "ready-1", "not-the-secret", r.handshake_port,
                                             r.transport_port, r.inspector_port),
                     FE_STORE_NOT_FOUND);

    /* Stop: Stopped at once, the host gone soon after, its key deleted. */
    assert_int_equal(fe_session_mgr_stop(F.mgr, F.account, "ready-1"), FE_STORE_OK);
    struct fe_session_record s;
    get("ready-1", &s);
    assert_int_equal(s.status, FE_SESSION_STOPPED);
    assert_true(s.ended_at >= now);
    assert_string_equal(s.error_code, "");
    assert_string_equal(s.inspector_token, "");
    assert_int_equal(fe_session_mgr_stop(F.mgr, F.account, "ready-1"), FE_STORE_CHANGED);
    assert_int_equal(fe_session_mgr_stop(F.mgr, F.account, "nope"), FE_STORE_NOT_FOUND);
    wait_gone(r.host_pid, r.host_start_time, WAIT_MS);
    for (int i = 0; i < 100 && file_exists(session_path("ready-1", "host.p12", p, sizeof p)); i++) {
        sleep_ms(50);
    }
    assert_false(file_exists(session_path("ready-1", "host.p12", p, sizeof p)));
    assert_true(file_exists(session_path("ready-1", "host.log", p, sizeof p)));
    /* An ended session registers no more. */
    assert_int_equal(fe_session_mgr_register(F.mgr, "ready-1", "x", r.handshake_port,
                                             r.transport_port, r.inspector_port),
                     FE_STORE_NOT_FOUND);
    mgr_stop();
}

static void test_register_checks(void **state)
{
    (void)state;
    /* The registration secret lives only in the host's environment (blanked there) and as a
     * hash in the record: to register with the right secret, the test plants a known one in
     * the record of a running session. */
    mgr_start();
    struct fe_session_record r;
    new_session("reg-1", 30);
    wait_status("reg-1", FE_SESSION_READY, WAIT_READY_MS, &r);
    /* A Ready session registering again with its ports (its first answer was lost): OK. */
    struct fe_session_record w = r;
    const char *secret = "a-known-registration-secret";
    assert_true(fe_key_hash(secret, strlen(secret), w.register_sha256));
    assert_int_equal(F.store->session_update(F.store, &w, FE_SESSION_READY), FE_STORE_OK);
    assert_int_equal(fe_session_mgr_register(F.mgr, "reg-1", secret, r.handshake_port,
                                             r.transport_port, r.inspector_port),
                     FE_STORE_OK);
    assert_int_equal(fe_session_mgr_register(F.mgr, "reg-1", secret, r.handshake_port + 7,
                                             r.transport_port, r.inspector_port),
                     FE_STORE_INVALID);
    assert_int_equal(
        fe_session_mgr_register(F.mgr, "reg-1", secret, r.handshake_port, r.transport_port, 0),
        FE_STORE_INVALID);
    /* Back to Starting: the same registration makes it Ready with a fresh ready_at. */
    w.status = FE_SESSION_STARTING;
    w.ready_at = 0;
    assert_int_equal(F.store->session_update(F.store, &w, FE_SESSION_READY), FE_STORE_OK);
    assert_int_equal(fe_session_mgr_register(F.mgr, "reg-1", secret, r.handshake_port,
                                             r.transport_port, r.inspector_port),
                     FE_STORE_OK);
    get("reg-1", &w);
    assert_int_equal(w.status, FE_SESSION_READY);
    assert_true(w.ready_at > 0);
    assert_int_equal(fe_session_mgr_register(NULL, "reg-1", secret, 1, 2, 3), FE_STORE_INVALID);
    assert_int_equal(fe_session_mgr_stop(F.mgr, F.account, "reg-1"), FE_STORE_OK);
    wait_gone(r.host_pid, r.host_start_time, WAIT_MS);
    mgr_stop();
}

static void test_lease_expiry(void **state)
{
    (void)state;
    mgr_start();
    struct fe_session_record r;
    new_session("lease-1", 1);
    wait_status("lease-1", FE_SESSION_READY, WAIT_READY_MS, &r);
    /* A minute passes: the lease counts from ready_at. */
    r.ready_at -= 61;
    assert_int_equal(F.store->session_update(F.store, &r, FE_SESSION_READY), FE_STORE_OK);
    fe_session_mgr_wake(F.mgr);
    struct fe_session_record e;
    wait_status("lease-1", FE_SESSION_EXPIRED, WAIT_MS, &e);
    assert_true(e.ended_at > 0);
    assert_string_equal(e.error_code, "");
    wait_gone(r.host_pid, r.host_start_time, WAIT_MS);
    mgr_stop();
}

static void test_host_killed(void **state)
{
    (void)state;
    mgr_start();
    struct fe_session_record r, e;
    new_session("killed-1", 30);
    wait_status("killed-1", FE_SESSION_READY, WAIT_READY_MS, &r);
    assert_int_equal(kill(r.host_pid, SIGKILL), 0);
    wait_status("killed-1", FE_SESSION_ERROR, WAIT_MS, &e);
    assert_string_equal(e.error_code, "HostExited");
    assert_non_null(strstr(e.error_message, "killed by SIGKILL"));
    assert_true(e.ended_at > 0);
    wait_gone(r.host_pid, r.host_start_time, WAIT_MS);
    mgr_stop();
}

static void test_host_fails_to_start(void **state)
{
    (void)state;
    /* A host that exits at once: its status and last line make the message. */
    struct fe_host_backend *b =
        fe_backend_local_create(write_script("exits.sh", "echo 'openrr-host: starting' >&2\n"
                                                         "echo 'openrr-host: cannot start the "
                                                         "renderer: no EGL' >&2\nexit 3"));
    assert_non_null(b);
    mgr_start_with(b);
    struct fe_session_record e;
    new_session("exits-1", 30);
    wait_status("exits-1", FE_SESSION_ERROR, WAIT_MS, &e);
    assert_string_equal(e.error_code, "HostExited");
    assert_string_equal(e.error_message, "openrr-host exited with status 3: openrr-host: cannot "
                                         "start the renderer: no EGL");
    mgr_stop();
    b->destroy(b);

    /* A program that cannot run. */
    b = fe_backend_local_create("/nonexistent/openrr-host");
    mgr_start_with(b);
    new_session("exits-2", 30);
    wait_status("exits-2", FE_SESSION_ERROR, WAIT_MS, &e);
    assert_string_equal(e.error_code, "HostStartFailed");
    assert_non_null(strstr(e.error_message, "/nonexistent/openrr-host"));
    mgr_stop();
    b->destroy(b);
}

static void test_start_timeout(void **state)
{
    (void)state;
    struct fe_host_backend *b = fe_backend_local_create(
        write_script("never.sh", "echo 'openrr-host: waiting forever' >&2\nexec sleep 300"));
    unsigned saved = F.cfg.session_start_timeout_s;
    F.cfg.session_start_timeout_s = 1;
    mgr_start_with(b);
    struct fe_session_record e;
    new_session("timeout-1", 30);
    wait_status("timeout-1", FE_SESSION_ERROR, WAIT_MS, &e);
    assert_string_equal(e.error_code, "HostStartTimeout");
    assert_string_equal(e.error_message,
                        "the host did not register within 1 s; its log: openrr-host: waiting "
                        "forever");
    assert_true(e.host_pid > 0);
    /* The host that never registered is stopped. */
    wait_gone(e.host_pid, e.host_start_time, WAIT_MS);
    mgr_stop();
    F.cfg.session_start_timeout_s = saved;
    b->destroy(b);
}

static void test_restart_adopts(void **state)
{
    (void)state;
    mgr_start();
    struct fe_session_record r, a, e;
    new_session("adopt-1", 30);
    wait_status("adopt-1", FE_SESSION_READY, WAIT_READY_MS, &r);
    /* openrrd stops: the host keeps running. */
    mgr_stop();
    sleep_ms(300);
    assert_true(process_is(r.host_pid, r.host_start_time));
    get("adopt-1", &a);
    assert_int_equal(a.status, FE_SESSION_READY);

    /* A new openrrd (and a new backend, as after a real restart) adopts it. */
    struct fe_host_backend *b = fe_backend_local_create(FE_TEST_HOST_PATH);
    mgr_start_with(b);
    sleep_ms(600); /* a few ticks */
    get("adopt-1", &a);
    assert_int_equal(a.status, FE_SESSION_READY);
    assert_int_equal(a.host_pid, r.host_pid);
    assert_int_equal(a.ready_at, r.ready_at);
    assert_true(process_is(r.host_pid, r.host_start_time));
    /* … and still watches it. */
    assert_int_equal(kill(r.host_pid, SIGKILL), 0);
    wait_status("adopt-1", FE_SESSION_ERROR, WAIT_MS, &e);
    assert_string_equal(e.error_code, "HostExited");
    assert_non_null(strstr(e.error_message, "SIGKILL"));
    mgr_stop();
    b->destroy(b);
}

static void test_restart_host_gone(void **state)
{
    (void)state;
    mgr_start();
    struct fe_session_record r, e;
    new_session("gone-1", 30);
    wait_status("gone-1", FE_SESSION_READY, WAIT_READY_MS, &r);
    mgr_stop();
    /* The host dies while openrrd is down. */
    assert_int_equal(kill(r.host_pid, SIGKILL), 0);
    int st;
    assert_int_equal(waitpid(r.host_pid, &st, 0), r.host_pid);
    mgr_start();
    get("gone-1", &e); /* decided before create returns */
    assert_int_equal(e.status, FE_SESSION_ERROR);
    assert_string_equal(e.error_code, "HostExited");
    assert_non_null(strstr(e.error_message, "the host was gone when openrrd restarted"));
    /* A lease that ran out while openrrd was down ends at the first tick. */
    mgr_stop();
    mgr_start();
    new_session("gone-2", 1);
    wait_status("gone-2", FE_SESSION_READY, WAIT_READY_MS, &r);
    mgr_stop();
    r.ready_at -= 120;
    assert_int_equal(F.store->session_update(F.store, &r, FE_SESSION_READY), FE_STORE_OK);
    mgr_start();
    wait_status("gone-2", FE_SESSION_EXPIRED, WAIT_MS, &e);
    wait_gone(r.host_pid, r.host_start_time, WAIT_MS);
    mgr_stop();
}

static void test_ports_reused_after_end(void **state)
{
    (void)state;
    /* Three ports: room for exactly one session. */
    uint16_t lo = F.cfg.host_port_min, hi = F.cfg.host_port_max;
    F.cfg.host_port_min = PORT_HI - 2;
    F.cfg.host_port_max = PORT_HI;
    mgr_start();
    struct fe_session_record a, b, c;
    new_session("ports-a", 30);
    wait_status("ports-a", FE_SESSION_READY, WAIT_READY_MS, &a);
    new_session("ports-b", 30);
    wait_status("ports-b", FE_SESSION_ERROR, WAIT_MS, &b);
    assert_string_equal(b.error_code, "HostStartFailed");
    assert_non_null(strstr(b.error_message, "no free ports"));
    assert_int_equal(b.host_pid, 0);
    /* Once A has ended (and its host is gone), its ports serve the next session. */
    assert_int_equal(fe_session_mgr_stop(F.mgr, F.account, "ports-a"), FE_STORE_OK);
    wait_gone(a.host_pid, a.host_start_time, WAIT_MS);
    new_session("ports-c", 30);
    wait_status("ports-c", FE_SESSION_READY, WAIT_READY_MS, &c);
    int pa[3] = {a.handshake_port, a.transport_port, a.inspector_port};
    int pc[3] = {c.handshake_port, c.transport_port, c.inspector_port};
    for (int i = 0; i < 3; i++) {
        assert_true(pc[i] >= PORT_HI - 2 && pc[i] <= PORT_HI);
        bool in_a = pc[i] == pa[0] || pc[i] == pa[1] || pc[i] == pa[2];
        assert_true(in_a);
    }
    assert_int_equal(fe_session_mgr_stop(F.mgr, F.account, "ports-c"), FE_STORE_OK);
    wait_gone(c.host_pid, c.host_start_time, WAIT_MS);
    mgr_stop();
    F.cfg.host_port_min = lo;
    F.cfg.host_port_max = hi;
}

static void test_purge_old_sessions(void **state)
{
    (void)state;
    /* An ended session of 31 days ago, with its directory. */
    new_session("old-1", 30); /* no manager runs: stays Starting */
    struct fe_session_record r;
    get("old-1", &r);
    r.status = FE_SESSION_STOPPED;
    r.ended_at = (int64_t)time(NULL) - 31 * 86400;
    assert_int_equal(F.store->session_update(F.store, &r, FE_SESSION_STARTING), FE_STORE_OK);
    new_session("recent-1", 30);
    get("recent-1", &r);
    r.status = FE_SESSION_STOPPED;
    r.ended_at = (int64_t)time(NULL) - 29 * 86400;
    assert_int_equal(F.store->session_update(F.store, &r, FE_SESSION_STARTING), FE_STORE_OK);
    char p[PATH_MAX], d[PATH_MAX];
    snprintf(d, sizeof d, "%s/sessions/%s/old-1", F.dir, F.account);
    mkdir(d, 0700);
    FILE *f = fopen(session_path("old-1", "host.log", p, sizeof p), "w");
    assert_non_null(f);
    fclose(f);
    mgr_start(); /* the first tick purges */
    for (int i = 0; i < 100 && file_exists(d); i++) {
        sleep_ms(50);
    }
    assert_int_equal(F.store->session_get(F.store, F.account, "old-1", &r), FE_STORE_NOT_FOUND);
    assert_int_equal(F.store->session_get(F.store, F.account, "recent-1", &r), FE_STORE_OK);
    assert_false(file_exists(d));
    mgr_stop();
}

/* The backend with a process that is not its child (as after a restart): alive and stop go by
 * /proc, and a reused pid (another start time) is never taken for the host. */
static void test_backend_foreign_process(void **state)
{
    (void)state;
    FILE *p = popen("setsid sleep 60 >/dev/null 2>&1 & echo $!", "r");
    assert_non_null(p);
    long pid = 0;
    assert_int_equal(fscanf(p, "%ld", &pid), 1);
    pclose(p);
    uint64_t start = 0;
    for (int i = 0; i < 100 && (start = start_time_of((pid_t)pid, NULL)) == 0; i++) {
        sleep_ms(10);
    }
    assert_true(start > 0);
    /* setsid forks when it is a group leader already; wait for the sleep itself. */
    sleep_ms(100);
    struct fe_host_handle h = {(pid_t)pid, start};
    int status = 7;
    assert_true(F.backend->alive(F.backend, &h, &status));
    struct fe_host_handle other = {(pid_t)pid, start + 1};
    assert_false(F.backend->alive(F.backend, &other, &status));
    assert_int_equal(status, -1);
    F.backend->stop(F.backend, &other, 100); /* not ours: left alone */
    assert_true(process_is((pid_t)pid, start));
    F.backend->stop(F.backend, &h, 2000);
    assert_false(F.backend->alive(F.backend, &h, &status));
    assert_int_equal(status, -1);
    assert_false(process_is((pid_t)pid, start));
    struct fe_host_handle none = {0, 0};
    assert_false(F.backend->alive(F.backend, &none, &status));
    F.backend->stop(F.backend, &none, 10);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_backend_foreign_process),
        cmocka_unit_test(test_ready_then_stop),
        cmocka_unit_test(test_register_checks),
        cmocka_unit_test(test_lease_expiry),
        cmocka_unit_test(test_host_killed),
        cmocka_unit_test(test_host_fails_to_start),
        cmocka_unit_test(test_start_timeout),
        cmocka_unit_test(test_restart_adopts),
        cmocka_unit_test(test_restart_host_gone),
        cmocka_unit_test(test_ports_reused_after_end),
        cmocka_unit_test(test_purge_old_sessions),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
