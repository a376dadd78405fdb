/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fe_conv_child — openrr-convert as a child process: forked with rlimits (address space, CPU,
 * file size, no core), in its own process group, stdin /dev/null, stdout a pipe of JSON
 * progress lines, stderr <work>/convert.log; bounded in wall-clock time, stopped with SIGTERM
 * then SIGKILL when the runner stops; its exit status and result.json become the job's error.
 *
 * Threads: the worker thread that owns the job. Between fork and exec the child calls only
 * async-signal-safe functions (openrrd has many threads).
 */
#include "fe_conv_internal.h"
#include "fe_proc.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define TERM_GRACE_MS 5000
#define POLL_MS 200
#define MAX_LINE 1024
#define MAX_RESULT_JSON (1u << 20)

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* ---- /proc ----------------------------------------------------------------------------- */


uint64_t fe_conv_proc_start_time(pid_t pid)
{
    char state;
    uint64_t start;
    return pid > 0 && fe_proc_stat(pid, &state, &start) ? start : 0;
}

static bool still_runs(pid_t pid, uint64_t start_time)
{
    char state;
    uint64_t start;
    return fe_proc_stat(pid, &state, &start) && start == start_time && state != 'Z' && state != 'X';
}

bool fe_conv_kill_survivor(pid_t pid, uint64_t start_time)
{
    if (pid <= 1 || start_time == 0 || !still_runs(pid, start_time)) {
        return false;
    }
    if (getpgid(pid) == pid) {
        kill(-pid, SIGKILL);
    }
    kill(pid, SIGKILL);
    for (int waited = 0; waited < TERM_GRACE_MS && still_runs(pid, start_time); waited += 20) {
        sleep_ms(20);
    }
    return true;
}

/* ---- the outcome ------------------------------------------------------------------------- */

/* The last non-empty line of convert.log (for a child that left no result.json). */
static void log_tail(const struct fe_conv_job *job, char *out, size_t size)
{
    out[0] = '\0';
    char path[PATH_MAX];
    char buf[512];
    if ((size_t)snprintf(path, sizeof(path), "%s/convert.log", job->work_dir) >= sizeof(path)) {
        return;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return;
    }
    off_t end = lseek(fd, 0, SEEK_END);
    off_t from = end > (off_t)sizeof(buf) - 1 ? end - (off_t)sizeof(buf) + 1 : 0;
    ssize_t n = pread(fd, buf, sizeof(buf) - 1, from);
    close(fd);
    if (n <= 0) {
        return;
    }
    buf[n] = '\0';
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' ')) {
        buf[--n] = '\0';
    }
    char *line = strrchr(buf, '\n');
    line = line != NULL ? line + 1 : buf;
    for (char *c = line; *c != '\0'; c++) {
        if ((unsigned char)*c < 0x20) {
            *c = ' ';
        }
    }
    size_t len = strlen(line);
    if (len >= size) {
        len = size - 1;
    }
    memcpy(out, line, len);
    out[len] = '\0';
}

struct result_file {
    bool present;
    bool succeeded;
    char code[FE_CODE_SIZE];
    char text[FE_MESSAGE_SIZE];
};

/* out/<name>.result.json: its status and first error. */
static void read_result(const struct fe_conv_job *job, struct result_file *r)
{
    memset(r, 0, sizeof(*r));
    char path[PATH_MAX];
    struct stat st;
    if ((size_t)snprintf(path, sizeof(path), "%s/%s.result.json", job->out_dir, job->name) >=
            sizeof(path) ||
        stat(path, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > MAX_RESULT_JSON) {
        return;
    }
    json_t *root = json_load_file(path, 0, NULL);
    if (root == NULL) {
        return;
    }
    const char *status = json_string_value(json_object_get(root, "status"));
    r->present = status != NULL;
    r->succeeded = status != NULL && strcmp(status, "Succeeded") == 0;
    json_t *err = json_array_get(json_object_get(root, "errors"), 0);
    const char *code = json_string_value(json_object_get(err, "code"));
    const char *title = json_string_value(json_object_get(err, "title"));
    const char *details = json_string_value(json_object_get(err, "details"));
    if (code != NULL) {
        snprintf(r->code, sizeof(r->code), "%s", code);
        if (details != NULL && details[0] != '\0') {
            snprintf(r->text, sizeof(r->text), "%s", details);
        } else {
            snprintf(r->text, sizeof(r->text), "%s", title != NULL ? title : code);
        }
    }
    json_decref(root);
}

static bool asset_present(const struct fe_conv_job *job)
{
    char path[PATH_MAX];
    struct stat st;
    return (size_t)snprintf(path, sizeof(path), "%s/%s%s", job->out_dir, job->name, FE_CONV_EXT) <
               sizeof(path) &&
           stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* Fail with @p text, ending in the memory-limit hint when @p hint (so that a user who sees
 * "out of memory" or a dead process knows which limit to raise). */
static void fail_with(struct fe_conv_job *job, const char *code, const char *text, bool hint)
{
    char tail[160] = "";
    if (hint && job->cfg->conversion_memory_bytes > 0) {
        char limit[32];
        fe_conv_format_bytes(job->cfg->conversion_memory_bytes, limit, sizeof(limit));
        snprintf(tail, sizeof(tail), " (openrr-convert's memory limit, conversion_memory, is %s)",
                 limit);
    }
    int room = (int)(sizeof(job->message) - strlen(tail) - 1);
    fe_conv_fail(job, code, "%.*s%s", room, text, tail);
}

static bool mentions_memory(const char *s)
{
    return strcasestr(s, "memory") != NULL || strcasestr(s, "bad_alloc") != NULL ||
           strcasestr(s, "cannot allocate") != NULL || strcasestr(s, "failed to map") != NULL;
}

static enum fe_conv_stage_result outcome(struct fe_conv_job *job, bool status_known, int status,
                                         bool timed_out)
{
    struct result_file res;
    read_result(job, &res);
    char text[FE_MESSAGE_SIZE];
    const struct fe_config *cfg = job->cfg;

    if (status_known && WIFSIGNALED(status)) {
        int sig = WTERMSIG(status);
        const char *abbrev = sigabbrev_np(sig);
        char signame[32];
        snprintf(signame, sizeof(signame), "SIG%s", abbrev != NULL ? abbrev : "?");
        if (timed_out) {
            fe_conv_fail(job, "ConversionTimedOut",
                         "openrr-convert ran longer than %llu s (twice the conversion_cpu "
                         "limit) and was stopped",
                         (unsigned long long)cfg->conversion_cpu_seconds * 2);
        } else if (sig == SIGXCPU) {
            fe_conv_fail(job, "ConversionProcessFailed",
                         "openrr-convert used more than its CPU time limit of %llu s "
                         "(conversion_cpu) and was stopped",
                         (unsigned long long)cfg->conversion_cpu_seconds);
        } else if (sig == SIGXFSZ) {
            char limit[32];
            fe_conv_format_bytes(cfg->conversion_file_bytes, limit, sizeof(limit));
            fe_conv_fail(job, "ConversionProcessFailed",
                         "openrr-convert tried to write a file over its limit of %s "
                         "(conversion_file_size) and was stopped",
                         limit);
        } else {
            snprintf(text, sizeof(text), "openrr-convert was killed by %s%s", signame,
                     sig == SIGKILL ? ", perhaps by the kernel for want of memory" : "");
            bool hint = sig == SIGKILL || sig == SIGSEGV || sig == SIGABRT || sig == SIGBUS;
            fail_with(job, "ConversionProcessFailed", text, hint);
        }
        return FE_CONV_STAGE_FAILED;
    }

    int code = status_known ? WEXITSTATUS(status) : -1;
    if ((code == 0 || !status_known) && res.succeeded && asset_present(job)) {
        return FE_CONV_STAGE_OK;
    }
    if (res.code[0] != '\0') {
        bool hint = strcmp(res.code, "InternalError") == 0 || mentions_memory(res.text);
        fail_with(job, res.code, res.text, hint);
        return FE_CONV_STAGE_FAILED;
    }
    char tail[256];
    log_tail(job, tail, sizeof(tail));
    if (code == 0) {
        snprintf(text, sizeof(text), "openrr-convert reported success but left no %s",
                 res.present ? "asset" : "result.json");
    } else if (status_known) {
        snprintf(text, sizeof(text), "openrr-convert exited with status %d without a result%s%s",
                 code, tail[0] != '\0' ? ": " : "", tail);
    } else {
        snprintf(text, sizeof(text), "openrr-convert ended without a result%s%s",
                 tail[0] != '\0' ? ": " : "", tail);
    }
    fail_with(job, "ConversionProcessFailed", text, code == 127 || mentions_memory(tail));
    return FE_CONV_STAGE_FAILED;
}

/* ---- progress lines ---------------------------------------------------------------------- */

struct line_reader {
    char buf[MAX_LINE];
    size_t len;
    bool overflow; /* the current line is too long: skipped to its end */
    double best;   /* the highest progress seen (0–1) */
};

static void parse_line(struct line_reader *lr)
{
    json_t *o = json_loadb(lr->buf, lr->len, 0, NULL);
    json_t *p = json_object_get(o, "progress");
    if (json_is_number(p)) {
        double v = json_number_value(p);
        if (v > lr->best) {
            lr->best = v > 1.0 ? 1.0 : v;
        }
    }
    json_decref(o);
}

static void feed(struct line_reader *lr, const char *data, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (data[i] == '\n') {
            if (!lr->overflow && lr->len > 0) {
                parse_line(lr);
            }
            lr->len = 0;
            lr->overflow = false;
        } else if (lr->len < sizeof(lr->buf)) {
            lr->buf[lr->len++] = data[i];
        } else {
            lr->overflow = true;
        }
    }
}

/* ---- fork and exec ----------------------------------------------------------------------- */

struct spawn {
    char *const *argv;
    const char *work_dir;
    int null_fd, out_fd, log_fd, err_fd; /* err_fd: exec's errno goes there when it fails */
    pid_t parent;
    struct rlimit as, cpu, fsize, core;
    bool limit_as, limit_cpu, limit_fsize;
};

static void set_limit(int resource, const struct rlimit *rl, int err_fd)
{
    if (setrlimit(resource, rl) != 0) {
        int e = errno;
        ssize_t ignored = write(err_fd, &e, sizeof(e));
        (void)ignored;
        _exit(127);
    }
}

/* In the child: async-signal-safe calls only. */
static void __attribute__((noreturn)) child_exec(const struct spawn *s)
{
    setpgid(0, 0);
    /* If openrrd dies, so does the conversion; a restart requeues it. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != s->parent) {
        _exit(127);
    }
    /* Move the four descriptors out of the way first: one of them may be 0, 1 or 2 when
     * openrrd runs with a standard stream closed. */
    int in = fcntl(s->null_fd, F_DUPFD, 10);
    int out = fcntl(s->out_fd, F_DUPFD, 10);
    int log = fcntl(s->log_fd, F_DUPFD, 10);
    int err = fcntl(s->err_fd, F_DUPFD, 10);
    if (in < 0 || out < 0 || log < 0 || err < 0 || dup2(in, STDIN_FILENO) < 0 ||
        dup2(out, STDOUT_FILENO) < 0 || dup2(log, STDERR_FILENO) < 0 || dup2(err, 3) < 0 ||
        fcntl(3, F_SETFD, FD_CLOEXEC) != 0) {
        _exit(127);
    }
    close_range(4, ~0U, 0);
    /* A worker thread's signal mask and openrrd's ignored signals must not reach the child. */
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    struct sigaction dfl;
    memset(&dfl, 0, sizeof(dfl));
    dfl.sa_handler = SIG_DFL;
    for (int sig = 1; sig < NSIG; sig++) {
        if (sig != SIGKILL && sig != SIGSTOP) {
            sigaction(sig, &dfl, NULL);
        }
    }
    set_limit(RLIMIT_CORE, &s->core, 3);
    if (s->limit_as) {
        set_limit(RLIMIT_AS, &s->as, 3);
    }
    if (s->limit_cpu) {
        set_limit(RLIMIT_CPU, &s->cpu, 3);
    }
    if (s->limit_fsize) {
        set_limit(RLIMIT_FSIZE, &s->fsize, 3);
    }
    if (chdir(s->work_dir) != 0) {
        int e = errno;
        ssize_t ignored = write(3, &e, sizeof(e));
        (void)ignored;
        _exit(127);
    }
    execve(s->argv[0], s->argv, environ);
    int e = errno;
    ssize_t ignored = write(3, &e, sizeof(e));
    (void)ignored;
    _exit(127);
}

/* The limit @p soft / @p hard, lowered to openrrd's own hard limit (an unprivileged process
 * cannot raise it, and setrlimit would fail). */
static void make_limit(int resource, uint64_t soft, uint64_t hard, struct rlimit *out)
{
    struct rlimit own;
    rlim_t max = getrlimit(resource, &own) == 0 ? own.rlim_max : RLIM_INFINITY;
    rlim_t h = hard >= (uint64_t)RLIM_INFINITY ? RLIM_INFINITY : (rlim_t)hard;
    rlim_t s = soft >= (uint64_t)RLIM_INFINITY ? RLIM_INFINITY : (rlim_t)soft;
    if (max != RLIM_INFINITY && (h == RLIM_INFINITY || h > max)) {
        h = max;
    }
    if (h != RLIM_INFINITY && (s == RLIM_INFINITY || s > h)) {
        s = h;
    }
    out->rlim_cur = s;
    out->rlim_max = h;
}

/* Kill the group while the leader is still a zombie (so its id cannot have been reused),
 * then reap it. */
static int reap(pid_t pid, int sig, bool *out_known)
{
    if (sig != 0) {
        kill(-pid, sig);
    }
    int status = 0;
    for (;;) {
        pid_t w = waitpid(pid, &status, 0);
        if (w == pid) {
            *out_known = true;
            return status;
        }
        if (w < 0 && errno != EINTR) {
            *out_known = false; /* someone else reaped it (a SIGCHLD handler): unknown */
            return 0;
        }
    }
}

static void close_all(int *fds, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (fds[i] >= 0) {
            close(fds[i]);
            fds[i] = -1;
        }
    }
}

enum fe_conv_stage_result fe_conv_child_run(struct fe_conv_job *job, const char *convert_path,
                                            const struct fe_conv_child_ops *ops)
{
    const struct fe_config *cfg = job->cfg;
    char log_path[PATH_MAX];
    if ((size_t)snprintf(log_path, sizeof(log_path), "%s/convert.log", job->work_dir) >=
        sizeof(log_path)) {
        fe_conv_fail(job, "InternalError", "the work directory's path is too long");
        return FE_CONV_STAGE_FAILED;
    }
    /* log, /dev/null, progress pipe (read, write), exec-error pipe (read, write) */
    int fds[6] = {-1, -1, -1, -1, -1, -1};
    fds[0] = open(log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    fds[1] = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (fds[0] < 0 || fds[1] < 0 || pipe2(fds + 2, O_CLOEXEC) != 0 ||
        pipe2(fds + 4, O_CLOEXEC) != 0) {
        int e = errno;
        close_all(fds, 6);
        fe_conv_fail(job, "InternalError", "cannot prepare openrr-convert: %s", strerror(e));
        return FE_CONV_STAGE_FAILED;
    }

    char *argv[] = {(char *)convert_path,
                    job->input_path,
                    job->out_dir,
                    "--name",
                    job->name,
                    "--json-progress",
                    NULL};
    struct spawn s = {
        .argv = argv,
        .work_dir = job->work_dir,
        .log_fd = fds[0],
        .null_fd = fds[1],
        .out_fd = fds[3],
        .err_fd = fds[5],
        .parent = getpid(),
        .core = {0, 0},
        .limit_as = cfg->conversion_memory_bytes > 0,
        .limit_cpu = cfg->conversion_cpu_seconds > 0,
        .limit_fsize = cfg->conversion_file_bytes > 0,
    };
    make_limit(RLIMIT_AS, cfg->conversion_memory_bytes, cfg->conversion_memory_bytes, &s.as);
    make_limit(RLIMIT_FSIZE, cfg->conversion_file_bytes, cfg->conversion_file_bytes, &s.fsize);
    /* SIGXCPU at the limit; the hard limit (SIGKILL) a little later, should it be caught. */
    uint64_t cpu_hard = cfg->conversion_cpu_seconds > UINT64_MAX - 10
                            ? cfg->conversion_cpu_seconds
                            : cfg->conversion_cpu_seconds + 10;
    make_limit(RLIMIT_CPU, cfg->conversion_cpu_seconds, cpu_hard, &s.cpu);

    pid_t pid = fork();
    if (pid == 0) {
        child_exec(&s);
    }
    int fork_errno = errno;
    close(fds[0]);
    close(fds[1]);
    close(fds[3]);
    close(fds[5]);
    fds[0] = fds[1] = fds[3] = fds[5] = -1;
    if (pid < 0) {
        close_all(fds, 6);
        fe_conv_fail(job, "InternalError", "cannot start openrr-convert: fork: %s",
                     strerror(fork_errno));
        return FE_CONV_STAGE_FAILED;
    }
    setpgid(pid, pid); /* also here, so that a group kill never misses it */

    /* The exec-error pipe closes on a successful exec; an errno arrives when it failed. */
    int exec_errno = 0;
    ssize_t got;
    do {
        got = read(fds[4], &exec_errno, sizeof(exec_errno));
    } while (got < 0 && errno == EINTR);
    close(fds[4]);
    fds[4] = -1;
    if (got == (ssize_t)sizeof(exec_errno)) {
        bool known;
        reap(pid, 0, &known);
        close_all(fds, 6);
        fe_conv_fail(job, "InternalError", "cannot run %s: %s", convert_path, strerror(exec_errno));
        return FE_CONV_STAGE_FAILED;
    }

    uint64_t start_time = fe_conv_proc_start_time(pid);
    fe_conv_log(FE_LOG_DEBUG, job->account_id, job->id, "openrr-convert started (pid %d)",
                (int)pid);
    if (!ops->started(ops->user, pid, start_time)) {
        bool known;
        reap(pid, SIGKILL, &known);
        close_all(fds, 6);
        return FE_CONV_STAGE_ABANDONED;
    }

    int64_t started = now_ms();
    /* Twice the CPU limit (none without one, or past a century). */
    uint64_t cpu = cfg->conversion_cpu_seconds;
    int64_t deadline = cpu > 0 && cpu < 3155760000ull ? started + (int64_t)cpu * 2000 : INT64_MAX;
    int64_t term_at = 0;
    bool timed_out = false;
    bool abandoned = false;
    bool eof = false;
    struct line_reader lr = {.len = 0};
    int status = 0;
    bool known = false;
    for (;;) {
        if (!eof) {
            struct pollfd pfd = {.fd = fds[2], .events = POLLIN};
            int pr = poll(&pfd, 1, POLL_MS);
            if (pr > 0) {
                char buf[4096];
                ssize_t n = read(fds[2], buf, sizeof(buf));
                if (n > 0) {
                    feed(&lr, buf, (size_t)n);
                } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
                    eof = true;
                }
            }
        } else {
            sleep_ms(50);
        }
        siginfo_t info;
        memset(&info, 0, sizeof(info));
        if (waitid(P_PID, (id_t)pid, &info, WEXITED | WNOHANG | WNOWAIT) != 0) {
            status = reap(pid, 0, &known);
            break;
        }
        if (info.si_pid == pid) {
            /* Gone (a zombie still): drain the last progress lines, then reap. */
            char buf[4096];
            ssize_t n;
            int flags = fcntl(fds[2], F_GETFL);
            fcntl(fds[2], F_SETFL, flags | O_NONBLOCK);
            while (!eof && (n = read(fds[2], buf, sizeof(buf))) > 0) {
                feed(&lr, buf, (size_t)n);
            }
            status = reap(pid, SIGKILL, &known);
            break;
        }
        int64_t now = now_ms();
        if (atomic_load(job->stopping) && term_at == 0) {
            kill(-pid, SIGTERM);
            term_at = now;
            abandoned = true;
        } else if (term_at != 0 && now - term_at >= TERM_GRACE_MS) {
            kill(-pid, SIGKILL);
        } else if (!abandoned && now >= deadline) {
            kill(-pid, SIGKILL);
            timed_out = true;
            abandoned = false;
            deadline = INT64_MAX;
        } else if (!abandoned && !ops->progress(ops->user, lr.best)) {
            kill(-pid, SIGKILL);
            abandoned = true;
            term_at = now - TERM_GRACE_MS;
        }
    }
    close_all(fds, 6);
    if (abandoned) {
        fe_conv_log(FE_LOG_INFO, job->account_id, job->id, "openrr-convert (pid %d) stopped",
                    (int)pid);
        return FE_CONV_STAGE_ABANDONED;
    }
    enum fe_conv_stage_result r = outcome(job, known, status, timed_out);
    if (r == FE_CONV_STAGE_OK) {
        ops->progress(ops->user, lr.best);
    }
    return r;
}
