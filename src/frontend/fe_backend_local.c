/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fe_backend_local — the `local` host backend (fe_sessions.h): openrr-host as a child process
 * of openrrd on this machine, in its own session and process group, its output in the
 * session's host.log. Hosts outlive openrrd on purpose (no PR_SET_PDEATHSIG): a restarted
 * openrrd recognises them by pid and start time (/proc/PID/stat field 22) and adopts them.
 *
 * Secrets (key passphrase, inspector token, registration secret) travel in the host's
 * environment, which only its user (and root) can read, never on its command line, which every
 * user's `ps` shows.
 *
 * Threads: any; start/alive/stop may run on different threads at once. The table of reaped
 * children is guarded by a mutex; everything else is per call.
 */
#include "fe_proc.h"
#include "fe_sessions.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define MAX_ARGS 96
#define REAPED_KEEP 64 /* exit statuses remembered for alive() after a reap */
#define POLL_MS 20
#define KILL_WAIT_MS 5000 /* after SIGKILL: the kernel frees the process within this */

/* Environment variables the host reads its secrets from (docs/host.md). */
#define ENV_REGISTER "OPENRR_REGISTER_TOKEN"
#define ENV_PASSPHRASE "OPENRR_KEY_PASSPHRASE"
#define ENV_INSPECTOR "OPENRR_INSPECTOR_TOKEN"

struct reaped {
    pid_t pid;
    uint64_t start_time;
    int status;
};

struct local_backend {
    struct fe_host_backend base;
    char *host_path;
    pthread_mutex_t lock;
    struct reaped reaped[REAPED_KEEP];
    size_t reaped_next;
};

static struct local_backend *local_of(struct fe_host_backend *b)
{
    return (struct local_backend *)b;
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* ---- /proc ------------------------------------------------------------------------------- */


/* ---- reaping ----------------------------------------------------------------------------- */

static void remember(struct local_backend *lb, const struct fe_host_handle *h, int status)
{
    pthread_mutex_lock(&lb->lock);
    lb->reaped[lb->reaped_next] = (struct reaped){h->pid, h->start_time, status};
    lb->reaped_next = (lb->reaped_next + 1) % REAPED_KEEP;
    pthread_mutex_unlock(&lb->lock);
}

static bool recall(struct local_backend *lb, const struct fe_host_handle *h, int *out_status)
{
    bool found = false;
    pthread_mutex_lock(&lb->lock);
    for (size_t i = 0; i < REAPED_KEEP; i++) {
        if (lb->reaped[i].pid == h->pid && lb->reaped[i].start_time == h->start_time) {
            *out_status = lb->reaped[i].status;
            found = true;
        }
    }
    pthread_mutex_unlock(&lb->lock);
    return found;
}

enum liveness {
    RUNNING,
    ENDED, /* *status: its wait status, or -1 when not known */
};

static enum liveness check(struct local_backend *lb, const struct fe_host_handle *h, int *status)
{
    *status = -1;
    if (h->pid <= 0) {
        return ENDED;
    }
    if (recall(lb, h, status)) {
        return ENDED;
    }
    /* The start time first: a pid reused by another process (ours or not) is never taken for
     * the host, never reaped nor signalled in its name. A zombie still has its /proc entry. */
    uint64_t start;
    char state;
    if (!fe_proc_stat(h->pid, &state, &start) || start != h->start_time) {
        return ENDED;
    }
    int st = 0;
    pid_t w;
    do {
        w = waitpid(h->pid, &st, WNOHANG);
    } while (w < 0 && errno == EINTR);
    if (w == h->pid) {
        remember(lb, h, st);
        *status = st;
        return ENDED;
    }
    if (w == 0) {
        return RUNNING; /* our child, running */
    }
    /* Not our child: started by an openrrd before a restart (or reaped by someone else). */
    return state == 'Z' || state == 'X' ? ENDED : RUNNING;
}

/* ---- start ------------------------------------------------------------------------------- */

struct argv_builder {
    char *argv[MAX_ARGS + 1];
    size_t count;
    bool overflow;
    bool no_memory;
};

static void arg(struct argv_builder *b, const char *s)
{
    if (b->count >= MAX_ARGS) {
        b->overflow = true;
        return;
    }
    char *copy = strdup(s);
    if (copy == NULL) {
        b->no_memory = true;
        return;
    }
    b->argv[b->count++] = copy;
    b->argv[b->count] = NULL;
}

static void argf(struct argv_builder *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void argf(struct argv_builder *b, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof buf) {
        b->overflow = true;
        return;
    }
    arg(b, buf);
}

static void argv_free(char **v)
{
    for (size_t i = 0; v[i] != NULL; i++) {
        free(v[i]);
    }
}

static bool build_argv(const char *path, const struct fe_host_launch *l, struct argv_builder *b)
{
    memset(b, 0, sizeof *b);
    const char *bind = l->bind_host != NULL ? l->bind_host : "";
    arg(b, path);
    arg(b, "-listen");
    if (strchr(bind, ':') != NULL) {
        argf(b, "[%s]:%u", bind, (unsigned)l->handshake_port);
    } else {
        argf(b, "%s:%u", bind, (unsigned)l->handshake_port);
    }
    arg(b, "-transportport");
    argf(b, "%u", (unsigned)l->handshake_port + 1u);
    if (l->certificate_p12 != NULL) {
        arg(b, "-certificatestore");
        arg(b, l->certificate_p12);
    }
    if (l->jwks_path != NULL) {
        arg(b, "--token-jwks");
        arg(b, l->jwks_path);
        arg(b, "--account-id");
        arg(b, l->account_id);
        arg(b, "--account-domain");
        arg(b, l->account_domain);
        if (l->token_issuer != NULL) {
            arg(b, "--token-issuer");
            arg(b, l->token_issuer);
        }
        if (l->token_audience != NULL) {
            arg(b, "--token-audience");
            arg(b, l->token_audience);
        }
    }
    arg(b, "--size");
    arg(b, l->size == FE_SIZE_PREMIUM ? "premium" : "standard");
    if (l->inspector_token != NULL) {
        arg(b, "--inspector-port");
        argf(b, "%u", (unsigned)l->inspector_port);
        if (bind[0] != '\0') {
            arg(b, "--inspector-listen");
            arg(b, bind);
        }
    }
    if (l->register_url != NULL) {
        arg(b, "--register-url");
        arg(b, l->register_url);
    }
    for (size_t i = 0; l->extra_args != NULL && l->extra_args[i] != NULL; i++) {
        arg(b, l->extra_args[i]);
    }
    return !b->overflow && !b->no_memory;
}

static bool secret_name(const char *entry)
{
    static const char *const names[] = {ENV_REGISTER "=", ENV_PASSPHRASE "=", ENV_INSPECTOR "="};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (strncmp(entry, names[i], strlen(names[i])) == 0) {
            return true;
        }
    }
    return false;
}

/* openrrd's environment without inherited secret variables, plus the launch's secrets.
 * malloc'd; entries of our own are malloc'd too (marked by @p own_from). */
static char **build_envp(const struct fe_host_launch *l, size_t *out_own_from)
{
    size_t n = 0;
    while (environ != NULL && environ[n] != NULL) {
        n++;
    }
    char **env = calloc(n + 4, sizeof *env);
    if (env == NULL) {
        return NULL;
    }
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (!secret_name(environ[i])) {
            env[k++] = environ[i];
        }
    }
    *out_own_from = k;
    const char *names[3] = {ENV_REGISTER, ENV_PASSPHRASE, ENV_INSPECTOR};
    const char *values[3] = {l->register_secret, l->key_passphrase, l->inspector_token};
    for (size_t i = 0; i < 3; i++) {
        if (values[i] == NULL) {
            continue;
        }
        size_t len = strlen(names[i]) + 1 + strlen(values[i]) + 1;
        char *e = malloc(len);
        if (e == NULL) {
            for (size_t j = *out_own_from; j < k; j++) {
                explicit_bzero(env[j], strlen(env[j]));
                free(env[j]);
            }
            free(env);
            return NULL;
        }
        snprintf(e, len, "%s=%s", names[i], values[i]);
        env[k++] = e;
    }
    env[k] = NULL;
    return env;
}

static void envp_free(char **env, size_t own_from)
{
    if (env == NULL) {
        return;
    }
    for (size_t i = own_from; env[i] != NULL; i++) {
        explicit_bzero(env[i], strlen(env[i]));
        free(env[i]);
    }
    free(env);
}

/* The program to run: @p path when it names a file (has a '/'), else the first executable
 * @p path in $PATH. */
static bool resolve_program(const char *path, char *out, size_t size)
{
    if (strchr(path, '/') != NULL) {
        return (size_t)snprintf(out, size, "%s", path) < size;
    }
    const char *dirs = getenv("PATH");
    if (dirs == NULL) {
        dirs = "/usr/local/bin:/usr/bin:/bin";
    }
    while (*dirs != '\0') {
        size_t len = strcspn(dirs, ":");
        if ((size_t)snprintf(out, size, "%.*s/%s", (int)len, len == 0 ? "." : dirs, path) < size &&
            access(out, X_OK) == 0) {
            return true;
        }
        dirs += len;
        if (*dirs == ':') {
            dirs++;
        }
    }
    return false;
}

/* An fd at 3 or above (close-on-exec), so the child's dup2 onto 0–2 never clobbers another. */
static int fd_above_stdio(int fd)
{
    if (fd < 0 || fd > 2) {
        return fd;
    }
    int moved = fcntl(fd, F_DUPFD_CLOEXEC, 3);
    close(fd);
    return moved;
}

/* In the child, between fork and exec: only async-signal-safe calls. */
static void child_exec(const char *program, char **argv, char **envp, int devnull, int logfd,
                       int errfd, int max_fd)
{
    int e = 0;
    if (setsid() < 0 || dup2(devnull, 0) < 0 || dup2(logfd, 1) < 0 || dup2(logfd, 2) < 0) {
        e = errno;
    }
    if (errfd != 3) {
        if (dup3(errfd, 3, O_CLOEXEC) < 0 && e == 0) {
            e = errno;
        }
        errfd = 3;
    }
    if (e == 0) {
        if (close_range(4, ~0U, 0) != 0) {
            for (int fd = 4; fd < max_fd; fd++) {
                close(fd);
            }
        }
        sigset_t all;
        sigemptyset(&all);
        sigprocmask(SIG_SETMASK, &all, NULL);
        struct sigaction dfl;
        memset(&dfl, 0, sizeof dfl);
        dfl.sa_handler = SIG_DFL;
        for (int sig = 1; sig < NSIG; sig++) {
            if (sig != SIGKILL && sig != SIGSTOP) {
                sigaction(sig, &dfl, NULL);
            }
        }
        execve(program, argv, envp);
        e = errno;
    }
    ssize_t w = write(errfd, &e, sizeof e);
    (void)w;
    _exit(127);
}

static bool local_start(struct fe_host_backend *self, const struct fe_host_launch *l,
                        struct fe_host_handle *out, char *err, size_t err_size)
{
    struct local_backend *lb = local_of(self);
    memset(out, 0, sizeof *out);
    char program[PATH_MAX];
    if (!resolve_program(lb->host_path, program, sizeof program)) {
        snprintf(err, err_size, "cannot find '%s' in PATH", lb->host_path);
        return false;
    }
    struct argv_builder b;
    if (!build_argv(program, l, &b)) {
        argv_free(b.argv);
        snprintf(err, err_size, "%s", b.no_memory ? "out of memory" : "too many host arguments");
        return false;
    }
    size_t own_from = 0;
    char **envp = build_envp(l, &own_from);
    int logfd = fd_above_stdio(
        open(l->log_path, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0600));
    int devnull = fd_above_stdio(open("/dev/null", O_RDONLY | O_CLOEXEC));
    int pipefd[2] = {-1, -1};
    bool ok = false;
    struct rlimit rl;
    int max_fd =
        getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < 65536
            ? (int)rl.rlim_cur
            : 65536;
    if (envp == NULL) {
        snprintf(err, err_size, "out of memory");
    } else if (logfd < 0) {
        snprintf(err, err_size, "cannot open the host log '%s': %s", l->log_path, strerror(errno));
    } else if (devnull < 0 || pipe2(pipefd, O_CLOEXEC) != 0 ||
               (pipefd[1] = fd_above_stdio(pipefd[1])) < 0 ||
               (pipefd[0] = fd_above_stdio(pipefd[0])) < 0) {
        snprintf(err, err_size, "cannot prepare the host's files: %s", strerror(errno));
    } else {
        pid_t pid = fork();
        if (pid == 0) {
            child_exec(program, b.argv, envp, devnull, logfd, pipefd[1], max_fd);
        }
        if (pid < 0) {
            snprintf(err, err_size, "cannot start '%s': %s", program, strerror(errno));
        } else {
            close(pipefd[1]);
            pipefd[1] = -1;
            int child_errno = 0;
            ssize_t r;
            do {
                r = read(pipefd[0], &child_errno, sizeof child_errno);
            } while (r < 0 && errno == EINTR);
            if (r == (ssize_t)sizeof child_errno) {
                /* exec failed: the child has exited with 127; reap it. */
                int st;
                while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
                }
                snprintf(err, err_size, "cannot run '%s': %s", program, strerror(child_errno));
            } else {
                char state;
                out->pid = pid;
                /* Fixed at fork: readable even if the host has already ended (a zombie). */
                if (!fe_proc_stat(pid, &state, &out->start_time)) {
                    out->start_time = 0;
                }
                ok = true;
            }
        }
    }
    if (pipefd[0] >= 0) {
        close(pipefd[0]);
    }
    if (pipefd[1] >= 0) {
        close(pipefd[1]);
    }
    if (devnull >= 0) {
        close(devnull);
    }
    if (logfd >= 0) {
        close(logfd);
    }
    envp_free(envp, own_from);
    argv_free(b.argv);
    return ok;
}

/* ---- alive, stop ------------------------------------------------------------------------- */

static bool local_alive(struct fe_host_backend *self, const struct fe_host_handle *h,
                        int *out_status)
{
    int status = -1;
    bool running = check(local_of(self), h, &status) == RUNNING;
    if (out_status != NULL) {
        *out_status = running ? 0 : status;
    }
    return running;
}

/* Signal the host's process group (it is a session leader), or the process alone when the
 * group is gone. */
static void signal_host(const struct fe_host_handle *h, int sig)
{
    if (kill(-h->pid, sig) != 0) {
        kill(h->pid, sig);
    }
}

static bool wait_gone(struct local_backend *lb, const struct fe_host_handle *h, unsigned ms)
{
    int status;
    for (unsigned waited = 0;; waited += POLL_MS) {
        if (check(lb, h, &status) == ENDED) {
            return true;
        }
        if (waited >= ms) {
            return false;
        }
        sleep_ms(POLL_MS);
    }
}

static void local_stop(struct fe_host_backend *self, const struct fe_host_handle *h,
                       unsigned grace_ms)
{
    struct local_backend *lb = local_of(self);
    int status;
    /* check() first: it reaps an ended child, and it tells a reused pid from ours, so a
     * signal never reaches a process we did not start. */
    if (check(lb, h, &status) == ENDED) {
        return;
    }
    signal_host(h, SIGTERM);
    if (wait_gone(lb, h, grace_ms)) {
        return;
    }
    if (check(lb, h, &status) == RUNNING) {
        signal_host(h, SIGKILL);
    }
    wait_gone(lb, h, KILL_WAIT_MS);
}

static void local_destroy(struct fe_host_backend *self)
{
    struct local_backend *lb = local_of(self);
    pthread_mutex_destroy(&lb->lock);
    free(lb->host_path);
    free(lb);
}

struct fe_host_backend *fe_backend_local_create(const char *host_path)
{
    if (host_path == NULL || host_path[0] == '\0') {
        return NULL;
    }
    struct local_backend *lb = calloc(1, sizeof *lb);
    if (lb == NULL) {
        return NULL;
    }
    lb->host_path = strdup(host_path);
    if (lb->host_path == NULL || pthread_mutex_init(&lb->lock, NULL) != 0) {
        free(lb->host_path);
        free(lb);
        return NULL;
    }
    lb->base.name = "local";
    lb->base.start = local_start;
    lb->base.alive = local_alive;
    lb->base.stop = local_stop;
    lb->base.destroy = local_destroy;
    return &lb->base;
}
