/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fe_sessions — openrrd's session manager (fe_sessions.h): launches hosts for Starting
 * sessions, makes them Ready when they register, ends them (Stopped, Expired, Error), adopts
 * running hosts after a restart and purges old records.
 *
 * Every decision is taken on a fresh read of the record under the manager's lock, and written
 * with the store's compare-and-set on the status, so the manager's thread, registrations and
 * stops (from the HTTP threads) never overwrite each other's writes.
 *
 * Threads: create/destroy on the main thread; the manager's thread runs the ticks (every
 * 250 ms or when woken); a second thread stops hosts of ended sessions (SIGTERM, grace,
 * SIGKILL) so that a slow host never delays a tick; register/stop/wake from any thread.
 */
#include "fe_sessions.h"

#include "fe_ca.h"
#include "fe_keys.h"
#include "fe_log.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define LOG_EVENT "session"
#define TICK_MS 250
#define STOP_GRACE_MS 5000
#define PURGE_EVERY_S 3600
#define KEEP_ENDED_S (30LL * 86400)
/* A host certificate outlives the longest lease a PATCH can reach (1440 minutes) by an hour:
 * a lease extended after the launch must not outlive the certificate. */
#define MAX_LEASE_MINUTES 1440
#define CERT_VALID_S ((int64_t)MAX_LEASE_MINUTES * 60 + 3600)
#define LOG_TAIL_BYTES 4096

#define CODE_EXITED "HostExited"
#define CODE_TIMEOUT "HostStartTimeout"
#define CODE_FAILED "HostStartFailed"

/* A host being stopped: its ports stay reserved until it is gone. */
struct stop_item {
    struct stop_item *next;
    struct fe_host_handle handle;
    int ports[3];
    char p12[PATH_MAX];
};

/* When a host was launched (this process's launches; adopted ones count from `created`). */
struct launch_time {
    char account[FE_ACCOUNT_ID_SIZE];
    char id[FE_ID_SIZE];
    int64_t at;
};

struct fe_session_mgr {
    const struct fe_config *cfg;
    struct fe_store *store;
    struct fe_host_backend *backend;
    struct fe_ca *ca;
    char *jwks_path, *token_issuer, *token_audience, *register_base_url;
    char sessions_dir[PATH_MAX];
    char bind_host[FE_HOST_SIZE];

    /* Serialises every read-modify-write of a session record (ticks, register, stop). */
    pthread_mutex_t lock;
    struct launch_time *launches; /* guarded by lock */
    size_t launch_count, launch_cap;

    pthread_mutex_t wake_lock;
    pthread_cond_t wake_cond;
    bool woken, quit;
    pthread_t thread;
    bool thread_started;
    int64_t last_purge;

    pthread_mutex_t stop_lock;
    pthread_cond_t stop_cond;
    struct stop_item *stop_head, *stop_tail, *stopping;
    bool stop_quit;
    pthread_t stopper;
    bool stopper_started;
};

static int64_t now_s(void)
{
    return (int64_t)time(NULL);
}

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

static bool is_active(enum fe_session_status s)
{
    return s == FE_SESSION_STARTING || s == FE_SESSION_READY;
}

static void log_session(enum fe_log_level level, const char *what,
                        const struct fe_session_record *r, const char *detail)
{
    struct fe_log_line l;
    fe_log_begin(&l, level, LOG_EVENT);
    fe_log_str(&l, "what", what);
    fe_log_str(&l, "account", r->account_id);
    fe_log_str(&l, "session", r->id);
    fe_log_str(&l, "status", fe_session_status_str(r->status));
    if (r->host_pid > 0) {
        fe_log_int(&l, "pid", (long long)r->host_pid);
    }
    if (r->handshake_port > 0) {
        fe_log_int(&l, "port", r->handshake_port);
        fe_log_int(&l, "inspector_port", r->inspector_port);
    }
    if (r->error_code[0] != '\0') {
        fe_log_str(&l, "code", r->error_code);
    }
    fe_log_str(&l, "detail", detail);
    fe_log_end(&l);
}

/* ---- paths and the host's log ------------------------------------------------------------ */

static bool session_dir(const struct fe_session_mgr *m, const char *account, const char *id,
                        char *out, size_t size)
{
    return (size_t)snprintf(out, size, "%s/%s/%s", m->sessions_dir, account, id) < size;
}

static bool session_file(const struct fe_session_mgr *m, const char *account, const char *id,
                         const char *name, char *out, size_t size)
{
    return (size_t)snprintf(out, size, "%s/%s/%s/%s", m->sessions_dir, account, id, name) < size;
}

static bool make_dir(const char *path)
{
    return mkdir(path, 0700) == 0 || errno == EEXIST;
}

/* The last non-empty line of the host's log that is not its readiness line (which is on
 * stdout; the rest is stderr), control characters replaced; "" when none. */
static void last_log_line(const struct fe_session_mgr *m, const struct fe_session_record *r,
                          char *out, size_t size)
{
    out[0] = '\0';
    char path[PATH_MAX];
    if (!session_file(m, r->account_id, r->id, "host.log", path, sizeof path)) {
        return;
    }
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        return;
    }
    char buf[LOG_TAIL_BYTES + 1];
    off_t end = lseek(fd, 0, SEEK_END);
    off_t from = end > LOG_TAIL_BYTES ? end - LOG_TAIL_BYTES : 0;
    ssize_t n = end > 0 ? pread(fd, buf, (size_t)(end - from), from) : 0;
    close(fd);
    if (n <= 0) {
        return;
    }
    size_t len = (size_t)n;
    const char *line = NULL;
    for (;;) {
        while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r' || buf[len - 1] == ' ')) {
            len--;
        }
        if (len == 0) {
            return;
        }
        buf[len] = '\0';
        char *nl = memrchr(buf, '\n', len);
        line = nl != NULL ? nl + 1 : buf;
        if (strncmp(line, "ready: ", 7) != 0) {
            break;
        }
        len = (size_t)(line - buf);
    }
    size_t k = 0;
    for (const unsigned char *p = (const unsigned char *)line; *p != '\0' && k + 1 < size; p++) {
        out[k++] = (*p < 0x20 || *p == 0x7f) ? '?' : (char)*p;
    }
    out[k] = '\0';
}

/* "openrr-host exited with status 1: <last line>", "openrr-host was killed by SIGSEGV: …". */
static void exit_message(const struct fe_session_mgr *m, const struct fe_session_record *r,
                         int status, char *out, size_t size)
{
    char last[FE_MESSAGE_SIZE];
    last_log_line(m, r, last, sizeof last);
    char what[128];
    if (status >= 0 && WIFEXITED(status)) {
        snprintf(what, sizeof what, "openrr-host exited with status %d", WEXITSTATUS(status));
    } else if (status >= 0 && WIFSIGNALED(status)) {
        const char *abbrev = sigabbrev_np(WTERMSIG(status));
        if (abbrev != NULL) {
            snprintf(what, sizeof what, "openrr-host was killed by SIG%s", abbrev);
        } else {
            snprintf(what, sizeof what, "openrr-host was killed by signal %d", WTERMSIG(status));
        }
    } else {
        snprintf(what, sizeof what, "openrr-host (pid %ld) is gone", (long)r->host_pid);
    }
    if (last[0] != '\0') {
        int room = (int)size - (int)strlen(what) - 3;
        snprintf(out, size, "%s: %.*s", what, room > 0 ? room : 0, last);
    } else {
        snprintf(out, size, "%s", what);
    }
}

/* ---- launch times ------------------------------------------------------------------------ */

static struct launch_time *launch_find(struct fe_session_mgr *m, const char *account,
                                       const char *id)
{
    for (size_t i = 0; i < m->launch_count; i++) {
        if (strcmp(m->launches[i].account, account) == 0 && strcmp(m->launches[i].id, id) == 0) {
            return &m->launches[i];
        }
    }
    return NULL;
}

static void launch_set(struct fe_session_mgr *m, const char *account, const char *id, int64_t at)
{
    struct launch_time *t = launch_find(m, account, id);
    if (t == NULL) {
        if (m->launch_count == m->launch_cap) {
            size_t cap = m->launch_cap == 0 ? 16 : m->launch_cap * 2;
            struct launch_time *n = realloc(m->launches, cap * sizeof *n);
            if (n == NULL) {
                return; /* the timeout then counts from `created`: a little early at worst */
            }
            m->launches = n;
            m->launch_cap = cap;
        }
        t = &m->launches[m->launch_count++];
        snprintf(t->account, sizeof t->account, "%s", account);
        snprintf(t->id, sizeof t->id, "%s", id);
    }
    t->at = at;
}

static void launch_drop(struct fe_session_mgr *m, const char *account, const char *id)
{
    struct launch_time *t = launch_find(m, account, id);
    if (t != NULL) {
        *t = m->launches[--m->launch_count];
    }
}

static int64_t launched_at(struct fe_session_mgr *m, const struct fe_session_record *r)
{
    struct launch_time *t = launch_find(m, r->account_id, r->id);
    return t != NULL && t->at > r->created ? t->at : r->created;
}

/* ---- stopping hosts ---------------------------------------------------------------------- */

static void queue_stop(struct fe_session_mgr *m, const struct fe_session_record *r)
{
    struct stop_item *it = calloc(1, sizeof *it);
    if (it == NULL) {
        /* Out of memory: stop it here, on this thread, rather than leave it running. */
        m->backend->stop(m->backend, &(struct fe_host_handle){r->host_pid, r->host_start_time},
                         STOP_GRACE_MS);
        return;
    }
    it->handle.pid = r->host_pid;
    it->handle.start_time = r->host_start_time;
    it->ports[0] = r->handshake_port;
    it->ports[1] = r->transport_port;
    it->ports[2] = r->inspector_port;
    if (!session_file(m, r->account_id, r->id, "host.p12", it->p12, sizeof it->p12)) {
        it->p12[0] = '\0';
    }
    pthread_mutex_lock(&m->stop_lock);
    if (m->stop_tail != NULL) {
        m->stop_tail->next = it;
    } else {
        m->stop_head = it;
    }
    m->stop_tail = it;
    pthread_cond_signal(&m->stop_cond);
    pthread_mutex_unlock(&m->stop_lock);
}

static void *stopper_main(void *arg)
{
    struct fe_session_mgr *m = arg;
    pthread_mutex_lock(&m->stop_lock);
    for (;;) {
        while (m->stop_head == NULL && !m->stop_quit) {
            pthread_cond_wait(&m->stop_cond, &m->stop_lock);
        }
        struct stop_item *it = m->stop_head;
        if (it == NULL) {
            break; /* quit, and the queue is drained */
        }
        m->stop_head = it->next;
        if (m->stop_head == NULL) {
            m->stop_tail = NULL;
        }
        m->stopping = it;
        pthread_mutex_unlock(&m->stop_lock);

        if (it->handle.pid > 0) {
            m->backend->stop(m->backend, &it->handle, STOP_GRACE_MS);
        }
        /* The certificate's key is of no use once the host is gone. */
        if (it->p12[0] != '\0') {
            unlink(it->p12);
        }

        pthread_mutex_lock(&m->stop_lock);
        m->stopping = NULL;
        free(it);
    }
    pthread_mutex_unlock(&m->stop_lock);
    return NULL;
}

/* ---- ports ------------------------------------------------------------------------------- */

struct reserved {
    int *ports;
    size_t count, cap;
};

static void reserve(struct reserved *rs, int port)
{
    if (port <= 0) {
        return;
    }
    if (rs->count == rs->cap) {
        size_t cap = rs->cap == 0 ? 32 : rs->cap * 2;
        int *n = realloc(rs->ports, cap * sizeof *n);
        if (n == NULL) {
            return;
        }
        rs->ports = n;
        rs->cap = cap;
    }
    rs->ports[rs->count++] = port;
}

static bool is_reserved(const struct reserved *rs, int port)
{
    for (size_t i = 0; i < rs->count; i++) {
        if (rs->ports[i] == port) {
            return true;
        }
    }
    return false;
}

/* Whether a listener could bind @p port on the hosts' address now (SO_REUSEADDR, as the host's
 * listeners use: a connection of a previous host in TIME_WAIT does not block it). */
static bool port_bindable(const char *bind_host, int port)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    socklen_t len;
    int family;
    struct sockaddr_in *v4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, bind_host, &v4->sin_addr) == 1) {
        family = AF_INET;
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)port);
        len = sizeof *v4;
    } else if (inet_pton(AF_INET6, bind_host, &v6->sin6_addr) == 1) {
        family = AF_INET6;
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)port);
        len = sizeof *v6;
    } else {
        return false;
    }
    int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return false;
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    bool ok = bind(fd, (struct sockaddr *)&ss, len) == 0;
    close(fd);
    return ok;
}

static bool port_usable(const struct fe_session_mgr *m, const struct reserved *rs, int port)
{
    return !is_reserved(rs, port) && port_bindable(m->bind_host, port);
}

/* Under the lock: the ports of every active session and of hosts still being stopped. */
static bool collect_reserved(struct fe_session_mgr *m, struct reserved *rs)
{
    struct fe_session_record *list = NULL;
    size_t count = 0;
    if (m->store->session_list_active(m->store, &list, &count) != FE_STORE_OK) {
        return false;
    }
    for (size_t i = 0; i < count; i++) {
        reserve(rs, list[i].handshake_port);
        reserve(rs, list[i].transport_port);
        reserve(rs, list[i].inspector_port);
    }
    free(list);
    pthread_mutex_lock(&m->stop_lock);
    for (const struct stop_item *it = m->stop_head; it != NULL; it = it->next) {
        for (int k = 0; k < 3; k++) {
            reserve(rs, it->ports[k]);
        }
    }
    if (m->stopping != NULL) {
        for (int k = 0; k < 3; k++) {
            reserve(rs, m->stopping->ports[k]);
        }
    }
    pthread_mutex_unlock(&m->stop_lock);
    return true;
}

static uint32_t random_u32(void)
{
    uint32_t v = 0;
    if (RAND_bytes((unsigned char *)&v, sizeof v) != 1) {
        v = (uint32_t)now_s();
    }
    return v;
}

/* A handshake port P (transport P+1) and an inspector port I in the configured range, used by
 * no active session and bindable now. Starts at a random place so that a port just given
 * back is not the first one handed out again. */
static bool pick_ports(struct fe_session_mgr *m, int *out_p, int *out_i, char *err, size_t err_size)
{
    int lo = m->cfg->host_port_min, hi = m->cfg->host_port_max;
    if (lo <= 0 || hi - lo < 2) {
        return fail(err, err_size, "host_ports %d-%d holds fewer than 3 ports", lo, hi);
    }
    struct reserved rs = {0};
    if (!collect_reserved(m, &rs)) {
        free(rs.ports);
        return fail(err, err_size, "cannot read the active sessions");
    }
    int span = hi - lo; /* candidates for P: lo .. hi-1 */
    int start = (int)(random_u32() % (uint32_t)span);
    bool found = false;
    for (int k = 0; k < span && !found; k++) {
        int p = lo + (start + k) % span;
        if (!port_usable(m, &rs, p) || !port_usable(m, &rs, p + 1)) {
            continue;
        }
        int n = hi - lo + 1;
        for (int j = 0; j < n; j++) {
            int i = lo + (p + 2 - lo + j) % n;
            if (i != p && i != p + 1 && port_usable(m, &rs, i)) {
                *out_p = p;
                *out_i = i;
                found = true;
                break;
            }
        }
    }
    free(rs.ports);
    if (!found) {
        return fail(err, err_size, "no free ports left in host_ports %d-%d", lo, hi);
    }
    return true;
}

/* ---- ending sessions --------------------------------------------------------------------- */

/* Under the lock, on the fresh record @p r: end it (status, code, message, ended_at), wipe its
 * secrets from the record, and have its host stopped. CHANGED: someone else wrote first; the
 * next tick looks again. */
static enum fe_store_result end_locked(struct fe_session_mgr *m, struct fe_session_record *r,
                                       enum fe_session_status to, const char *code,
                                       const char *message)
{
    enum fe_session_status was = r->status;
    struct fe_session_record w = *r;
    w.status = to;
    w.ended_at = now_s();
    snprintf(w.error_code, sizeof w.error_code, "%s", code != NULL ? code : "");
    snprintf(w.error_message, sizeof w.error_message, "%s", message != NULL ? message : "");
    OPENSSL_cleanse(w.inspector_token, sizeof w.inspector_token);
    OPENSSL_cleanse(w.register_sha256, sizeof w.register_sha256);
    enum fe_store_result res = m->store->session_update(m->store, &w, was);
    if (res == FE_STORE_OK) {
        launch_drop(m, r->account_id, r->id);
        log_session(to == FE_SESSION_ERROR ? FE_LOG_WARN : FE_LOG_INFO, "ended", &w, message);
        if (r->host_pid > 0) {
            queue_stop(m, r);
        }
        *r = w;
    } else if (res != FE_STORE_CHANGED) {
        log_session(FE_LOG_ERROR, "cannot end", r, fe_store_result_str(res));
    }
    OPENSSL_cleanse(&w, sizeof w);
    return res;
}

/* ---- launching --------------------------------------------------------------------------- */

static void launch_locked(struct fe_session_mgr *m, struct fe_session_record *r)
{
    char err[FE_MESSAGE_SIZE] = "";
    char dir[PATH_MAX], p12[PATH_MAX], log_path[PATH_MAX], url[FE_URI_SIZE];
    char acc_dir[PATH_MAX];
    int port = 0, inspector = 0;
    char passphrase[FE_KEY_TEXT_SIZE] = "", secret[FE_KEY_TEXT_SIZE] = "";
    char inspector_token[FE_KEY_TEXT_SIZE] = "";
    uint8_t secret_sha[32];
    struct fe_host_handle h = {0};
    bool ok = false;

    if ((size_t)snprintf(acc_dir, sizeof acc_dir, "%s/%s", m->sessions_dir, r->account_id) >=
            sizeof acc_dir ||
        !session_dir(m, r->account_id, r->id, dir, sizeof dir) ||
        !session_file(m, r->account_id, r->id, "host.p12", p12, sizeof p12) ||
        !session_file(m, r->account_id, r->id, "host.log", log_path, sizeof log_path) ||
        (size_t)snprintf(url, sizeof url, "%s/internal/sessions/%s/ready", m->register_base_url,
                         r->id) >= sizeof url) {
        snprintf(err, sizeof err, "the session's paths are too long");
    } else if (!make_dir(m->sessions_dir) || !make_dir(acc_dir) || !make_dir(dir)) {
        snprintf(err, sizeof err, "cannot create the session directory '%.300s': %s", dir,
                 strerror(errno));
    } else if (!fe_key_generate(passphrase, NULL) || !fe_key_generate(secret, secret_sha) ||
               !fe_key_generate(inspector_token, NULL)) {
        snprintf(err, sizeof err, "the random generator failed");
    } else if (pick_ports(m, &port, &inspector, err, sizeof err) &&
               fe_ca_issue_host(m->ca, m->cfg->public_host, CERT_VALID_S, p12, passphrase, err,
                                sizeof err)) {
        struct fe_host_launch l = {
            .session_id = r->id,
            .account_id = r->account_id,
            .account_domain = m->cfg->domain,
            .size = r->size,
            .bind_host = m->bind_host,
            .handshake_port = (uint16_t)port,
            .inspector_port = (uint16_t)inspector,
            .certificate_p12 = p12,
            .key_passphrase = passphrase,
            .jwks_path = m->jwks_path,
            .token_issuer = m->token_issuer,
            .token_audience = m->token_audience,
            .inspector_token = inspector_token,
            .register_url = url,
            .register_secret = secret,
            .log_path = log_path,
            .extra_args = (const char *const *)m->cfg->host_extra_args,
        };
        ok = m->backend->start(m->backend, &l, &h, err, sizeof err);
    }
    OPENSSL_cleanse(passphrase, sizeof passphrase);
    OPENSSL_cleanse(secret, sizeof secret);

    if (!ok) {
        unlink(p12);
        char message[FE_MESSAGE_SIZE];
        snprintf(message, sizeof message, "cannot start the host: %s", err);
        end_locked(m, r, FE_SESSION_ERROR, CODE_FAILED, message);
        OPENSSL_cleanse(inspector_token, sizeof inspector_token);
        return;
    }

    struct fe_session_record w = *r;
    w.host_pid = h.pid;
    w.host_start_time = h.start_time;
    w.handshake_port = port;
    w.transport_port = port + 1;
    w.inspector_port = inspector;
    snprintf(w.hostname, sizeof w.hostname, "%s", m->cfg->public_host);
    snprintf(w.backend, sizeof w.backend, "%s", m->backend->name);
    memcpy(w.register_sha256, secret_sha, sizeof secret_sha);
    snprintf(w.inspector_token, sizeof w.inspector_token, "%s", inspector_token);
    OPENSSL_cleanse(inspector_token, sizeof inspector_token);
    OPENSSL_cleanse(secret_sha, sizeof secret_sha);
    enum fe_store_result res = m->store->session_update(m->store, &w, FE_SESSION_STARTING);
    if (res == FE_STORE_OK) {
        launch_set(m, r->account_id, r->id, now_s());
        log_session(FE_LOG_INFO, "launched", &w, NULL);
    } else {
        /* Stopped meanwhile (CHANGED) or the store failed: this host must not run. A Starting
         * record keeps host_pid 0 and is launched again at the next tick. */
        log_session(res == FE_STORE_CHANGED ? FE_LOG_INFO : FE_LOG_ERROR, "launch dropped", &w,
                    fe_store_result_str(res));
        queue_stop(m, &w);
    }
    OPENSSL_cleanse(&w, sizeof w);
}

/* ---- the tick ---------------------------------------------------------------------------- */

static bool ours(const struct fe_session_mgr *m, const struct fe_session_record *r)
{
    return r->backend[0] == '\0' || strcmp(r->backend, m->backend->name) == 0;
}

static void tick_session(struct fe_session_mgr *m, const char *account, const char *id)
{
    struct fe_session_record r;
    pthread_mutex_lock(&m->lock);
    if (m->store->session_get(m->store, account, id, &r) != FE_STORE_OK || !is_active(r.status) ||
        !ours(m, &r)) {
        pthread_mutex_unlock(&m->lock);
        return;
    }
    int64_t now = now_s();
    if (r.status == FE_SESSION_STARTING && r.host_pid <= 0) {
        launch_locked(m, &r);
    } else if (r.host_pid > 0) {
        struct fe_host_handle h = {r.host_pid, r.host_start_time};
        int status = -1;
        char message[FE_MESSAGE_SIZE];
        unsigned timeout = m->cfg->session_start_timeout_s;
        if (!m->backend->alive(m->backend, &h, &status)) {
            exit_message(m, &r, status, message, sizeof message);
            end_locked(m, &r, FE_SESSION_ERROR, CODE_EXITED, message);
        } else if (r.status == FE_SESSION_STARTING &&
                   now - launched_at(m, &r) >= (int64_t)timeout) {
            char last[FE_MESSAGE_SIZE];
            last_log_line(m, &r, last, sizeof last);
            snprintf(message, sizeof message,
                     "the host did not register within %u s; its log: %.400s", timeout,
                     last[0] != '\0' ? last : "(empty)");
            end_locked(m, &r, FE_SESSION_ERROR, CODE_TIMEOUT, message);
        } else if (r.status == FE_SESSION_READY &&
                   now >= r.ready_at + (int64_t)r.max_lease_minutes * 60) {
            end_locked(m, &r, FE_SESSION_EXPIRED, NULL, NULL);
        }
    }
    pthread_mutex_unlock(&m->lock);
    OPENSSL_cleanse(&r, sizeof r);
}

/* Remove the directories of sessions whose records were purged (their log and, should one be
 * left, certificate). */
static void sweep_dirs(struct fe_session_mgr *m)
{
    DIR *top = opendir(m->sessions_dir);
    if (top == NULL) {
        return;
    }
    struct dirent *a;
    while ((a = readdir(top)) != NULL) {
        if (a->d_name[0] == '.' || strlen(a->d_name) >= FE_ACCOUNT_ID_SIZE) {
            continue;
        }
        char acc_dir[PATH_MAX];
        if ((size_t)snprintf(acc_dir, sizeof acc_dir, "%s/%s", m->sessions_dir, a->d_name) >=
            sizeof acc_dir) {
            continue;
        }
        DIR *d = opendir(acc_dir);
        if (d == NULL) {
            continue;
        }
        struct dirent *s;
        while ((s = readdir(d)) != NULL) {
            if (s->d_name[0] == '.' || strlen(s->d_name) >= FE_ID_SIZE) {
                continue;
            }
            struct fe_session_record r;
            if (m->store->session_get(m->store, a->d_name, s->d_name, &r) != FE_STORE_NOT_FOUND) {
                continue;
            }
            char path[PATH_MAX];
            for (int k = 0; k < 2; k++) {
                if (session_file(m, a->d_name, s->d_name, k == 0 ? "host.log" : "host.p12", path,
                                 sizeof path)) {
                    unlink(path);
                }
            }
            if (session_dir(m, a->d_name, s->d_name, path, sizeof path)) {
                rmdir(path);
            }
        }
        closedir(d);
        rmdir(acc_dir); /* only when empty */
    }
    closedir(top);
}

static void purge(struct fe_session_mgr *m, int64_t now)
{
    size_t count = 0;
    enum fe_store_result r = m->store->session_purge(m->store, now - KEEP_ENDED_S, &count);
    if (r != FE_STORE_OK) {
        fe_log_msg(FE_LOG_ERROR, LOG_EVENT, "cannot purge ended sessions: %s",
                   fe_store_result_str(r));
        return;
    }
    if (count > 0) {
        fe_log_msg(FE_LOG_INFO, LOG_EVENT, "purged %zu sessions ended over 30 days ago", count);
    }
    sweep_dirs(m);
}

static void tick(struct fe_session_mgr *m)
{
    struct fe_session_record *list = NULL;
    size_t count = 0;
    enum fe_store_result res = m->store->session_list_active(m->store, &list, &count);
    if (res != FE_STORE_OK) {
        fe_log_msg(FE_LOG_ERROR, LOG_EVENT, "cannot list the active sessions: %s",
                   fe_store_result_str(res));
        return;
    }
    for (size_t i = 0; i < count; i++) {
        tick_session(m, list[i].account_id, list[i].id);
    }
    OPENSSL_cleanse(list, count * sizeof *list);
    free(list);
    int64_t now = now_s();
    if (now - m->last_purge >= PURGE_EVERY_S || now < m->last_purge) {
        m->last_purge = now;
        purge(m, now);
    }
}

static void *manager_main(void *arg)
{
    struct fe_session_mgr *m = arg;
    pthread_mutex_lock(&m->wake_lock);
    while (!m->quit) {
        m->woken = false;
        pthread_mutex_unlock(&m->wake_lock);
        tick(m);
        pthread_mutex_lock(&m->wake_lock);
        if (m->quit || m->woken) {
            continue;
        }
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_nsec += (long)TICK_MS * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        while (!m->quit && !m->woken) {
            if (pthread_cond_timedwait(&m->wake_cond, &m->wake_lock, &until) == ETIMEDOUT) {
                break;
            }
        }
    }
    pthread_mutex_unlock(&m->wake_lock);
    return NULL;
}

/* ---- adoption ---------------------------------------------------------------------------- */

static void adopt(struct fe_session_mgr *m)
{
    struct fe_session_record *list = NULL;
    size_t count = 0;
    if (m->store->session_list_active(m->store, &list, &count) != FE_STORE_OK) {
        return; /* the ticks will see them */
    }
    pthread_mutex_lock(&m->lock);
    for (size_t i = 0; i < count; i++) {
        struct fe_session_record *r = &list[i];
        if (!ours(m, r)) {
            char message[FE_MESSAGE_SIZE];
            snprintf(message, sizeof message, "the session's host backend '%s' is not configured",
                     r->backend);
            end_locked(m, r, FE_SESSION_ERROR, CODE_EXITED, message);
            continue;
        }
        if (r->host_pid <= 0) {
            continue; /* Starting without a host: the first tick launches it */
        }
        struct fe_host_handle h = {r->host_pid, r->host_start_time};
        int status = -1;
        if (m->backend->alive(m->backend, &h, &status)) {
            log_session(FE_LOG_INFO, "adopted", r, NULL);
            continue;
        }
        char why[FE_MESSAGE_SIZE], message[FE_MESSAGE_SIZE];
        exit_message(m, r, status, why, sizeof why);
        snprintf(message, sizeof message, "the host was gone when openrrd restarted (%.400s)", why);
        end_locked(m, r, FE_SESSION_ERROR, CODE_EXITED, message);
    }
    pthread_mutex_unlock(&m->lock);
    OPENSSL_cleanse(list, count * sizeof *list);
    free(list);
}

/* ---- public ------------------------------------------------------------------------------ */

static char *dup_or_null(const char *s, bool *ok)
{
    if (s == NULL) {
        return NULL;
    }
    char *d = strdup(s);
    if (d == NULL) {
        *ok = false;
    }
    return d;
}

static bool init_cond_monotonic(pthread_cond_t *c)
{
    pthread_condattr_t a;
    if (pthread_condattr_init(&a) != 0) {
        return false;
    }
    pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
    bool ok = pthread_cond_init(c, &a) == 0;
    pthread_condattr_destroy(&a);
    return ok;
}

/* The address hosts listen on: public_host when it is an address, else every IPv4 address
 * (a DNS name may point anywhere on this machine). */
static void choose_bind_host(struct fe_session_mgr *m)
{
    unsigned char addr[16];
    const char *pub = m->cfg->public_host != NULL ? m->cfg->public_host : "";
    if (inet_pton(AF_INET, pub, addr) == 1 || inet_pton(AF_INET6, pub, addr) == 1) {
        snprintf(m->bind_host, sizeof m->bind_host, "%s", pub);
    } else {
        snprintf(m->bind_host, sizeof m->bind_host, "0.0.0.0");
    }
}

bool fe_session_mgr_create(const struct fe_session_mgr_config *config,
                           struct fe_session_mgr **out_mgr, char *err, size_t err_size)
{
    if (out_mgr == NULL) {
        return fail(err, err_size, "fe_session_mgr_create: no out_mgr");
    }
    *out_mgr = NULL;
    if (config == NULL || config->cfg == NULL || config->store == NULL || config->backend == NULL ||
        config->ca == NULL || config->register_base_url == NULL || config->cfg->data_dir == NULL ||
        config->cfg->public_host == NULL || config->cfg->domain == NULL) {
        return fail(err, err_size, "fe_session_mgr_create: a required setting is missing");
    }
    struct fe_session_mgr *m = calloc(1, sizeof *m);
    if (m == NULL) {
        return fail(err, err_size, "out of memory");
    }
    bool ok = true;
    m->cfg = config->cfg;
    m->store = config->store;
    m->backend = config->backend;
    m->ca = config->ca;
    m->jwks_path = dup_or_null(config->jwks_path, &ok);
    m->token_issuer = dup_or_null(config->token_issuer, &ok);
    m->token_audience = dup_or_null(config->token_audience, &ok);
    m->register_base_url = dup_or_null(config->register_base_url, &ok);
    size_t base_len = m->register_base_url != NULL ? strlen(m->register_base_url) : 0;
    while (base_len > 0 && m->register_base_url[base_len - 1] == '/') {
        m->register_base_url[--base_len] = '\0';
    }
    choose_bind_host(m);
    if ((size_t)snprintf(m->sessions_dir, sizeof m->sessions_dir, "%s/sessions",
                         m->cfg->data_dir) >= sizeof m->sessions_dir) {
        ok = false;
    }
    pthread_mutex_init(&m->lock, NULL);
    pthread_mutex_init(&m->wake_lock, NULL);
    pthread_mutex_init(&m->stop_lock, NULL);
    bool conds = init_cond_monotonic(&m->wake_cond);
    bool stop_cond = pthread_cond_init(&m->stop_cond, NULL) == 0;
    if (!ok || !conds || !stop_cond) {
        if (conds) {
            pthread_cond_destroy(&m->wake_cond);
        }
        if (stop_cond) {
            pthread_cond_destroy(&m->stop_cond);
        }
        pthread_mutex_destroy(&m->lock);
        pthread_mutex_destroy(&m->wake_lock);
        pthread_mutex_destroy(&m->stop_lock);
        free(m->jwks_path);
        free(m->token_issuer);
        free(m->token_audience);
        free(m->register_base_url);
        free(m);
        return fail(err, err_size, "out of memory, or the data directory's path is too long");
    }
    if (!make_dir(m->sessions_dir)) {
        fail(err, err_size, "cannot create '%s': %s", m->sessions_dir, strerror(errno));
        fe_session_mgr_destroy(&m);
        return false;
    }
    m->stopper_started = pthread_create(&m->stopper, NULL, stopper_main, m) == 0;
    if (!m->stopper_started) {
        fail(err, err_size, "cannot start the session manager's threads");
        fe_session_mgr_destroy(&m);
        return false;
    }
    adopt(m);
    m->last_purge = 0; /* the first tick purges */
    m->thread_started = pthread_create(&m->thread, NULL, manager_main, m) == 0;
    if (!m->thread_started) {
        fail(err, err_size, "cannot start the session manager's threads");
        fe_session_mgr_destroy(&m);
        return false;
    }
    pthread_setname_np(m->thread, "fe-sessions");
    pthread_setname_np(m->stopper, "fe-host-stop");
    *out_mgr = m;
    return true;
}

void fe_session_mgr_wake(struct fe_session_mgr *mgr)
{
    if (mgr == NULL) {
        return;
    }
    pthread_mutex_lock(&mgr->wake_lock);
    mgr->woken = true;
    pthread_cond_signal(&mgr->wake_cond);
    pthread_mutex_unlock(&mgr->wake_lock);
}

enum fe_store_result fe_session_mgr_register(struct fe_session_mgr *mgr, const char *session_id,
                                             const char *secret, int handshake_port,
                                             int transport_port, int inspector_port)
{
    if (mgr == NULL || session_id == NULL || secret == NULL) {
        return FE_STORE_INVALID;
    }
    uint8_t presented[32];
    if (!fe_key_hash(secret, strlen(secret), presented)) {
        return FE_STORE_NO_MEMORY;
    }
    pthread_mutex_lock(&mgr->lock);
    struct fe_session_record *list = NULL;
    size_t count = 0;
    enum fe_store_result res = mgr->store->session_list_active(mgr->store, &list, &count);
    if (res != FE_STORE_OK) {
        pthread_mutex_unlock(&mgr->lock);
        return res;
    }
    /* Every candidate's digest is compared, matching or not: the time taken says nothing about
     * the secret. The same id may be active in two accounts; the secret tells them apart. */
    struct fe_session_record *match = NULL;
    for (size_t i = 0; i < count; i++) {
        bool same = fe_key_hash_equal(presented, list[i].register_sha256);
        if (same && strcmp(list[i].id, session_id) == 0 && list[i].host_pid > 0) {
            match = &list[i];
        }
    }
    if (match == NULL) {
        res = FE_STORE_NOT_FOUND;
    } else if (handshake_port != match->handshake_port || transport_port != match->transport_port ||
               inspector_port != match->inspector_port) {
        res = FE_STORE_INVALID;
        log_session(FE_LOG_WARN, "registered with other ports", match, NULL);
    } else if (match->status == FE_SESSION_READY) {
        res = FE_STORE_OK; /* a retry whose first answer was lost */
    } else {
        struct fe_session_record w = *match;
        w.status = FE_SESSION_READY;
        w.ready_at = now_s();
        res = mgr->store->session_update(mgr->store, &w, FE_SESSION_STARTING);
        if (res == FE_STORE_OK) {
            log_session(FE_LOG_INFO, "ready", &w, NULL);
        }
        OPENSSL_cleanse(&w, sizeof w);
    }
    pthread_mutex_unlock(&mgr->lock);
    OPENSSL_cleanse(list, count * sizeof *list);
    free(list);
    OPENSSL_cleanse(presented, sizeof presented);
    return res;
}

enum fe_store_result fe_session_mgr_stop(struct fe_session_mgr *mgr, const char *account_id,
                                         const char *id)
{
    if (mgr == NULL || account_id == NULL || id == NULL) {
        return FE_STORE_INVALID;
    }
    struct fe_session_record r;
    pthread_mutex_lock(&mgr->lock);
    enum fe_store_result res = mgr->store->session_get(mgr->store, account_id, id, &r);
    if (res == FE_STORE_OK) {
        res = is_active(r.status) ? end_locked(mgr, &r, FE_SESSION_STOPPED, NULL, NULL)
                                  : FE_STORE_CHANGED;
    }
    pthread_mutex_unlock(&mgr->lock);
    OPENSSL_cleanse(&r, sizeof r);
    return res;
}

void fe_session_mgr_destroy(struct fe_session_mgr **mgr_ptr)
{
    if (mgr_ptr == NULL || *mgr_ptr == NULL) {
        return;
    }
    struct fe_session_mgr *m = *mgr_ptr;
    if (m->thread_started) {
        pthread_mutex_lock(&m->wake_lock);
        m->quit = true;
        pthread_cond_signal(&m->wake_cond);
        pthread_mutex_unlock(&m->wake_lock);
        pthread_join(m->thread, NULL);
    }
    if (m->stopper_started) {
        /* Hosts of sessions that ended are still stopped; running ones keep running. */
        pthread_mutex_lock(&m->stop_lock);
        m->stop_quit = true;
        pthread_cond_signal(&m->stop_cond);
        pthread_mutex_unlock(&m->stop_lock);
        pthread_join(m->stopper, NULL);
    }
    pthread_cond_destroy(&m->wake_cond);
    pthread_cond_destroy(&m->stop_cond);
    pthread_mutex_destroy(&m->lock);
    pthread_mutex_destroy(&m->wake_lock);
    pthread_mutex_destroy(&m->stop_lock);
    free(m->launches);
    free(m->jwks_path);
    free(m->token_issuer);
    free(m->token_audience);
    free(m->register_base_url);
    free(m);
    *mgr_ptr = NULL;
}
