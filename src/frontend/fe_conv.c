/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fe_conv — the conversion runner (fe_conv.h): worker threads that claim waiting conversions
 * from the store and carry each through fetch (fe_conv_fetch.c), openrr-convert
 * (fe_conv_child.c) and publish (fe_conv_publish.c), writing progress and the outcome back to
 * the store; and the start-up requeue of conversions a previous run left Running.
 *
 * Threads: create/destroy on the main thread; wake from any thread; everything else on the
 * workers, each owning the job it claimed. The store serialises the writes.
 */
#include "fe_conv.h"
#include "fe_conv_internal.h"

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define POLL_INTERVAL_S 1
#define PROGRESS_WRITE_MS 500
#define MAX_WORKERS 64
#define FINAL_WRITE_TRIES 5
/* While nothing is written, the record is read this often to notice that it changed (e.g.
 * cancelled) and stop a child that nobody wants any more. */
#define STATUS_CHECK_MS 2000

struct fe_conv_runner {
    const struct fe_config *cfg;
    struct fe_store *store;
    fe_conv_event_fn on_event;
    void *user;
    char conversions_dir[PATH_MAX]; /* <data>/conversions */

    pthread_mutex_t lock;
    pthread_cond_t cond;   /* CLOCK_MONOTONIC */
    unsigned long wakeups; /* under lock: bumped by fe_conv_runner_wake */
    atomic_bool stopping;

    pthread_t *threads;
    unsigned thread_count;
};

void fe_conv_log(enum fe_log_level level, const char *account, const char *id, const char *fmt, ...)
{
    if (!fe_log_enabled(level)) {
        return;
    }
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    struct fe_log_line l;
    fe_log_begin(&l, level, "conversion_runner");
    fe_log_str(&l, "account", account);
    fe_log_str(&l, "id", id);
    fe_log_str(&l, "msg", msg);
    fe_log_end(&l);
}

bool fe_conv_fail(struct fe_conv_job *job, const char *code, const char *fmt, ...)
{
    snprintf(job->code, sizeof(job->code), "%s", code);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(job->message, sizeof(job->message), fmt, ap);
    va_end(ap);
    return false;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void put(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void put(char *buf, size_t size, const char *fmt, ...)
{
    if (buf == NULL || size == 0) {
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, size, fmt, ap);
    va_end(ap);
}

/* A path component we made ourselves from an id: [A-Za-z0-9_-]+. */
static bool safe_component(const char *s)
{
    if (s[0] == '\0') {
        return false;
    }
    for (const char *p = s; *p != '\0'; p++) {
        bool ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                  (*p >= '0' && *p <= '9') || *p == '-' || *p == '_';
        if (!ok) {
            return false;
        }
    }
    return true;
}

static bool mkdir_p(char *path, mode_t mode)
{
    for (char *s = path + 1; (s = strchr(s, '/')) != NULL; s++) {
        *s = '\0';
        int r = mkdir(path, mode);
        *s = '/';
        if (r != 0 && errno != EEXIST) {
            return false;
        }
    }
    return mkdir(path, mode) == 0 || errno == EEXIST;
}

/* convert_path; else the build tree's openrr-convert; else "openrr-convert" on PATH —
 * resolved here, before fork, because the child may not search (execvp allocates). */
static bool resolve_convert(const struct fe_config *cfg, char *out, size_t size)
{
    const char *want = cfg->convert_path;
#ifdef FE_BUILD_TREE_CONVERT
    if (want == NULL || want[0] == '\0') {
        want = FE_BUILD_TREE_CONVERT;
    }
#endif
    if (want == NULL || want[0] == '\0') {
        want = "openrr-convert";
    }
    if (strchr(want, '/') != NULL) {
        put(out, size, "%s", want);
        return access(out, X_OK) == 0;
    }
    const char *path = getenv("PATH");
    if (path == NULL) {
        path = "/usr/local/bin:/usr/bin:/bin";
    }
    while (*path != '\0') {
        size_t len = strcspn(path, ":");
        if (len > 0 && (size_t)snprintf(out, size, "%.*s/%s", (int)len, path, want) < size &&
            access(out, X_OK) == 0) {
            return true;
        }
        path += len;
        if (*path == ':') {
            path++;
        }
    }
    put(out, size, "%s", want);
    return false;
}

/* ---- a job's record ------------------------------------------------------------------------ */

struct job_ctx {
    struct fe_conv_runner *runner;
    struct fe_conversion_record rec; /* as last written */
    int64_t last_write_ms;
    int64_t last_check_ms;
};

static enum fe_store_result write_record(struct job_ctx *ctx)
{
    struct fe_conv_runner *r = ctx->runner;
    enum fe_store_result res = r->store->conversion_update(r->store, &ctx->rec, FE_CONV_RUNNING);
    if (res == FE_STORE_OK) {
        if (r->on_event != NULL) {
            r->on_event(r->user, &ctx->rec);
        }
    } else if (res == FE_STORE_CHANGED) {
        fe_conv_log(FE_LOG_WARN, ctx->rec.account_id, ctx->rec.id,
                    "the record changed under the runner (no longer Running): left alone");
    } else {
        fe_conv_log(FE_LOG_ERROR, ctx->rec.account_id, ctx->rec.id,
                    "the store refused an update: %s", fe_store_result_str(res));
    }
    return res;
}

static bool on_started(void *user, pid_t pid, uint64_t start_time)
{
    struct job_ctx *ctx = user;
    ctx->rec.pid = pid;
    ctx->rec.pid_start_time = start_time;
    ctx->last_write_ms = now_ms();
    ctx->last_check_ms = ctx->last_write_ms;
    /* A store error is survivable (the child dies with openrrd anyway); a changed record is
     * not ours any more. */
    return write_record(ctx) != FE_STORE_CHANGED;
}

/* Is the record still Running? (A store error says yes: only a change stops the work.) */
static bool still_running(struct job_ctx *ctx)
{
    struct fe_store *store = ctx->runner->store;
    struct fe_conversion_record cur;
    memset(&cur, 0, sizeof(cur));
    enum fe_store_result res = store->conversion_get(store, ctx->rec.account_id, ctx->rec.id, &cur);
    bool running = res != FE_STORE_OK || cur.status == FE_CONV_RUNNING;
    if (res == FE_STORE_OK) {
        fe_conversion_record_clear(&cur);
    } else if (res == FE_STORE_NOT_FOUND) {
        running = false;
    }
    if (!running) {
        fe_conv_log(FE_LOG_WARN, ctx->rec.account_id, ctx->rec.id,
                    "no longer Running: its openrr-convert is stopped");
    }
    return running;
}

static bool on_progress(void *user, double fraction)
{
    struct job_ctx *ctx = user;
    /* 0–99 while openrr-convert works: 100 means published. */
    int pct = (int)(fraction * 99.0);
    pct = pct < 0 ? 0 : pct > 99 ? 99 : pct;
    int64_t now = now_ms();
    if (pct <= ctx->rec.progress || now - ctx->last_write_ms < PROGRESS_WRITE_MS) {
        if (now - ctx->last_check_ms >= STATUS_CHECK_MS) {
            ctx->last_check_ms = now;
            return still_running(ctx);
        }
        return true;
    }
    ctx->rec.progress = pct;
    ctx->last_write_ms = now;
    ctx->last_check_ms = now;
    return write_record(ctx) != FE_STORE_CHANGED;
}

/* The outcome, retried a little on store errors; the record stays Running (and is requeued
 * at the next start) if the store never takes it. */
static void finish(struct job_ctx *ctx, const struct fe_conv_job *job, bool succeeded,
                   const char *output_uri)
{
    struct fe_conversion_record *rec = &ctx->rec;
    rec->status = succeeded ? FE_CONV_SUCCEEDED : FE_CONV_FAILED;
    if (succeeded) {
        rec->progress = 100;
        rec->error_code[0] = '\0';
        rec->error_message[0] = '\0';
        put(rec->output_uri, sizeof(rec->output_uri), "%s", output_uri);
    } else {
        put(rec->error_code, sizeof(rec->error_code), "%s",
            job->code[0] != '\0' ? job->code : "InternalError");
        put(rec->error_message, sizeof(rec->error_message), "%s",
            job->message[0] != '\0' ? job->message : "the conversion failed");
        fe_conv_sanitize_text(rec->error_code);
        fe_conv_sanitize_text(rec->error_message);
        rec->output_uri[0] = '\0';
    }
    rec->pid = 0;
    rec->pid_start_time = 0;
    rec->finished = (int64_t)time(NULL);
    for (int i = 0; i < FINAL_WRITE_TRIES; i++) {
        enum fe_store_result r = write_record(ctx);
        if (r == FE_STORE_OK || r == FE_STORE_CHANGED || atomic_load(&ctx->runner->stopping)) {
            break;
        }
        sleep(1);
    }
    if (succeeded) {
        fe_conv_log(FE_LOG_DEBUG, rec->account_id, rec->id, "published %s", output_uri);
    } else {
        fe_conv_log(FE_LOG_INFO, rec->account_id, rec->id, "failed: %s: %s%s%s%s", rec->error_code,
                    rec->error_message, job->work_dir[0] != '\0' ? " (log: " : "", job->work_dir,
                    job->work_dir[0] != '\0' ? "/convert.log)" : "");
    }
}

/* Downloads and openrr-convert's outputs go once published; convert.log stays. */
static void tidy_work_dir(const struct fe_conv_job *job)
{
    char path[PATH_MAX];
    if ((size_t)snprintf(path, sizeof(path), "%s/in", job->work_dir) < sizeof(path)) {
        fe_conv_remove_tree(path);
    }
    fe_conv_remove_tree(job->out_dir);
}

static bool prepare_work_dir(struct fe_conv_runner *r, struct fe_conv_job *job,
                             const struct fe_conversion_record *rec)
{
    if (!safe_component(rec->account_id) || !safe_component(rec->id)) {
        return fe_conv_fail(job, "InternalError", "the conversion's id cannot name a folder");
    }
    if ((size_t)snprintf(job->work_dir, sizeof(job->work_dir), "%s/%s/%s", r->conversions_dir,
                         rec->account_id, rec->id) >= sizeof(job->work_dir) ||
        (size_t)snprintf(job->out_dir, sizeof(job->out_dir), "%s/out", job->work_dir) >=
            sizeof(job->out_dir)) {
        return fe_conv_fail(job, "InternalError", "the work directory's path is too long");
    }
    /* Fresh each attempt: nothing of an interrupted run leaks into this one. */
    if (!fe_conv_remove_tree(job->work_dir) || !mkdir_p(job->work_dir, 0700)) {
        return fe_conv_fail(job, "InternalError", "cannot prepare the work directory: %s",
                            strerror(errno));
    }
    return true;
}

/* The output's base name: outputAssetFilename's last segment without ".rrasset". */
static void output_name(struct fe_conv_job *job)
{
    const char *slash = strrchr(job->s.out_filename, '/');
    const char *base = slash != NULL ? slash + 1 : job->s.out_filename;
    int stem = (int)(strlen(base) - strlen(FE_CONV_EXT));
    put(job->name, sizeof(job->name), "%.*s", stem, base);
}

/* Run one claimed conversion to its end. Takes over @p rec's strings. */
static void run_job(struct fe_conv_runner *r, struct fe_conversion_record *claimed)
{
    struct job_ctx ctx = {.runner = r, .rec = *claimed};
    memset(claimed, 0, sizeof(*claimed));
    struct fe_conversion_record *rec = &ctx.rec;
    struct fe_conv_job *job = calloc(1, sizeof(*job));
    char *root = fe_conv_storage_root(r->cfg);
    char *uri = calloc(1, FE_URI_SIZE);
    char convert[PATH_MAX];
    if (job == NULL || uri == NULL) {
        fe_conv_log(FE_LOG_ERROR, rec->account_id, rec->id,
                    "out of memory: it stays Running until the next start");
        goto out;
    }
    job->cfg = r->cfg;
    job->storage_root = root;
    job->stopping = &r->stopping;
    job->account_id = rec->account_id;
    job->id = rec->id;
    fe_conv_log(FE_LOG_INFO, rec->account_id, rec->id, "attempt %d", rec->attempts);

    char target[128];
    enum fe_conv_stage_result st = FE_CONV_STAGE_FAILED;
    if (!fe_conv_settings_parse(rec->settings_json, &job->s, target, sizeof(target), job->message,
                                sizeof(job->message))) {
        put(job->code, sizeof(job->code), "%s", "InvalidArgument");
    } else if (!job->s.out_is_file) {
        /* Said before any work is done rather than after. */
        fe_conv_fail(job, "OutputContainerNotSupported",
                     "only file:// output containers are supported so far (an upload to "
                     "http(s) storage is not implemented yet)");
    } else if (!resolve_convert(r->cfg, convert, sizeof(convert))) {
        fe_conv_fail(job, "InternalError", "openrr-convert was not found (%s): set convert_path",
                     convert);
    } else if (prepare_work_dir(r, job, rec)) {
        output_name(job);
        struct fe_conv_child_ops ops = {
            .user = &ctx, .started = on_started, .progress = on_progress};
        st = fe_conv_fetch(job);
        if (st == FE_CONV_STAGE_OK && atomic_load(&r->stopping)) {
            st = FE_CONV_STAGE_ABANDONED;
        }
        if (st == FE_CONV_STAGE_OK) {
            st = fe_conv_child_run(job, convert, &ops);
            if (st == FE_CONV_STAGE_FAILED) {
                fe_conv_publish_result_only(job);
            }
        }
        if (st == FE_CONV_STAGE_OK) {
            st = fe_conv_publish(job, uri, FE_URI_SIZE);
        }
    }
    if (st == FE_CONV_STAGE_ABANDONED) {
        fe_conv_log(FE_LOG_INFO, rec->account_id, rec->id,
                    "interrupted: the record is left as it is");
        goto out;
    }
    finish(&ctx, job, st == FE_CONV_STAGE_OK, uri);
    if (job->work_dir[0] != '\0') {
        tidy_work_dir(job);
    }
out:
    if (job != NULL) {
        fe_conv_settings_clear(&job->s);
    }
    free(job);
    free(uri);
    free(root);
    fe_conversion_record_clear(rec);
}

/* ---- workers ------------------------------------------------------------------------------- */

static void *worker_main(void *arg)
{
    struct fe_conv_runner *r = arg;
    enum fe_store_result last_error = FE_STORE_OK;
    while (!atomic_load(&r->stopping)) {
        pthread_mutex_lock(&r->lock);
        unsigned long seen = r->wakeups;
        pthread_mutex_unlock(&r->lock);

        struct fe_conversion_record rec;
        memset(&rec, 0, sizeof(rec));
        enum fe_store_result res = r->store->conversion_claim(r->store, &rec);
        if (res == FE_STORE_OK) {
            last_error = FE_STORE_OK;
            if (r->on_event != NULL) {
                r->on_event(r->user, &rec);
            }
            run_job(r, &rec);
            continue;
        }
        if (res != FE_STORE_NOT_FOUND && res != last_error) {
            fe_conv_log(FE_LOG_ERROR, NULL, NULL, "cannot claim a conversion: %s",
                        fe_store_result_str(res));
        }
        last_error = res == FE_STORE_NOT_FOUND ? FE_STORE_OK : res;

        pthread_mutex_lock(&r->lock);
        if (!atomic_load(&r->stopping) && r->wakeups == seen) {
            struct timespec until;
            clock_gettime(CLOCK_MONOTONIC, &until);
            until.tv_sec += POLL_INTERVAL_S;
            pthread_cond_timedwait(&r->cond, &r->lock, &until);
        }
        pthread_mutex_unlock(&r->lock);
    }
    return NULL;
}

void fe_conv_runner_wake(struct fe_conv_runner *runner)
{
    if (runner == NULL) {
        return;
    }
    pthread_mutex_lock(&runner->lock);
    runner->wakeups++;
    pthread_cond_broadcast(&runner->cond);
    pthread_mutex_unlock(&runner->lock);
}

/* What a previous run left Running goes back to NotStarted; a surviving child is killed first
 * so that two never write one work directory. */
static bool requeue(struct fe_conv_runner *r, char *err, size_t err_size)
{
    struct fe_conversion_record *recs = NULL;
    size_t count = 0;
    enum fe_store_result res =
        r->store->conversion_list_status(r->store, FE_CONV_RUNNING, &recs, &count);
    if (res != FE_STORE_OK) {
        put(err, err_size, "cannot list running conversions: %s", fe_store_result_str(res));
        return false;
    }
    bool ok = true;
    for (size_t i = 0; i < count; i++) {
        struct fe_conversion_record *rec = &recs[i];
        if (rec->pid > 0 && fe_conv_kill_survivor(rec->pid, rec->pid_start_time)) {
            fe_conv_log(FE_LOG_WARN, rec->account_id, rec->id,
                        "killed its openrr-convert (pid %d) that outlived the last run",
                        (int)rec->pid);
        }
        rec->status = FE_CONV_NOT_STARTED;
        rec->progress = 0;
        rec->pid = 0;
        rec->pid_start_time = 0;
        rec->error_code[0] = '\0';
        rec->error_message[0] = '\0';
        rec->output_uri[0] = '\0';
        rec->finished = 0;
        res = r->store->conversion_update(r->store, rec, FE_CONV_RUNNING);
        if (res == FE_STORE_OK) {
            fe_conv_log(FE_LOG_INFO, rec->account_id, rec->id, "requeued after %d attempt(s)",
                        rec->attempts);
        } else if (res != FE_STORE_CHANGED && ok) {
            put(err, err_size, "cannot requeue conversion %s/%s: %s", rec->account_id, rec->id,
                fe_store_result_str(res));
            ok = false;
        }
    }
    for (size_t i = 0; i < count; i++) {
        fe_conversion_record_clear(&recs[i]);
    }
    free(recs);
    return ok;
}

static void stop_workers(struct fe_conv_runner *r)
{
    atomic_store(&r->stopping, true);
    pthread_mutex_lock(&r->lock);
    pthread_cond_broadcast(&r->cond);
    pthread_mutex_unlock(&r->lock);
    for (unsigned i = 0; i < r->thread_count; i++) {
        pthread_join(r->threads[i], NULL);
    }
    r->thread_count = 0;
}

static void runner_free(struct fe_conv_runner *r)
{
    pthread_cond_destroy(&r->cond);
    pthread_mutex_destroy(&r->lock);
    free(r->threads);
    free(r);
    curl_global_cleanup();
}

bool fe_conv_runner_create(const struct fe_config *cfg, struct fe_store *store,
                           fe_conv_event_fn on_event, void *user,
                           struct fe_conv_runner **out_runner, char *err, size_t err_size)
{
    put(err, err_size, "%s", "");
    if (cfg == NULL || store == NULL || out_runner == NULL) {
        put(err, err_size, "%s", "fe_conv_runner_create: a NULL argument");
        return false;
    }
    *out_runner = NULL;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        put(err, err_size, "%s", "libcurl cannot start");
        return false;
    }
    struct fe_conv_runner *r = calloc(1, sizeof(*r));
    if (r == NULL) {
        curl_global_cleanup();
        put(err, err_size, "%s", "out of memory");
        return false;
    }
    r->cfg = cfg;
    r->store = store;
    r->on_event = on_event;
    r->user = user;
    atomic_init(&r->stopping, false);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&r->cond, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&r->lock, NULL);

    const char *data = cfg->data_dir != NULL ? cfg->data_dir : FE_DEFAULT_DATA_DIR;
    if ((size_t)snprintf(r->conversions_dir, sizeof(r->conversions_dir), "%s/conversions", data) >=
            sizeof(r->conversions_dir) ||
        !mkdir_p(r->conversions_dir, 0700)) {
        put(err, err_size, "cannot create %s: %s", r->conversions_dir, strerror(errno));
        runner_free(r);
        return false;
    }
    /* The default storage root is ours to make; a configured one is the operator's. */
    if (cfg->storage_root == NULL || cfg->storage_root[0] == '\0') {
        char storage[PATH_MAX];
        if ((size_t)snprintf(storage, sizeof(storage), "%s/storage", data) < sizeof(storage) &&
            mkdir(storage, 0700) != 0 && errno != EEXIST) {
            fe_conv_log(FE_LOG_WARN, NULL, NULL, "cannot create the storage root %s: %s", storage,
                        strerror(errno));
        }
    }
    if (!requeue(r, err, err_size)) {
        runner_free(r);
        return false;
    }

    unsigned n = cfg->conversion_workers == 0 ? 1 : cfg->conversion_workers;
    n = n > MAX_WORKERS ? MAX_WORKERS : n;
    r->threads = calloc(n, sizeof(*r->threads));
    if (r->threads == NULL) {
        put(err, err_size, "%s", "out of memory");
        runner_free(r);
        return false;
    }
    /* Workers take no asynchronous signals: those are the main thread's business. */
    sigset_t all;
    sigset_t old;
    sigfillset(&all);
    sigdelset(&all, SIGSEGV);
    sigdelset(&all, SIGBUS);
    sigdelset(&all, SIGFPE);
    sigdelset(&all, SIGILL);
    sigdelset(&all, SIGABRT);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    int e = 0;
    for (unsigned i = 0; i < n && e == 0; i++) {
        e = pthread_create(&r->threads[i], NULL, worker_main, r);
        if (e == 0) {
            r->thread_count++;
        }
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (e != 0) {
        put(err, err_size, "cannot start a conversion worker: %s", strerror(e));
        stop_workers(r);
        runner_free(r);
        return false;
    }
    *out_runner = r;
    return true;
}

void fe_conv_runner_destroy(struct fe_conv_runner **runner_ptr)
{
    if (runner_ptr == NULL || *runner_ptr == NULL) {
        return;
    }
    struct fe_conv_runner *r = *runner_ptr;
    stop_workers(r);
    runner_free(r);
    *runner_ptr = NULL;
}
