/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fe_service — the wiring of openrrd serve (fe_service.h). Main thread.
 */
#include "fe_service.h"

#include "fe_api.h"
#include "fe_ca.h"
#include "fe_conv.h"
#include "fe_http.h"
#include "fe_log.h"
#include "fe_metrics.h"
#include "fe_ratelimit.h"
#include "fe_sessions.h"
#include "fe_sts.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

struct fe_service {
    struct fe_config *cfg;
    int lock_fd;
    struct fe_store *store;
    struct fe_sts *sts;
    struct fe_ca *ca;
    struct fe_http *http;
    struct fe_metrics *metrics;
    struct fe_ratelimit *rate;
    struct fe_conv_runner *conv;
    struct fe_host_backend *backend;
    struct fe_session_mgr *sessions;
    struct fe_api *api;
    char url[320];
    char register_url[320];
};

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

/* mkdir -p: the last component with @p mode, the parents 0755. */
static bool make_dirs(const char *dir, mode_t mode, char *err, size_t err_size)
{
    char path[PATH_MAX];
    if (snprintf(path, sizeof path, "%s", dir) >= (int)sizeof path || path[0] == '\0') {
        return fail(err, err_size, "the directory name '%s' is too long or empty", dir);
    }
    for (char *p = path + 1; *p != '\0'; p++) {
        if (*p != '/') {
            continue;
        }
        *p = '\0';
        if (mkdir(path, 0755) != 0 && errno != EEXIST) {
            return fail(err, err_size, "cannot create '%s': %s", path, strerror(errno));
        }
        *p = '/';
    }
    if (mkdir(path, mode) != 0 && errno != EEXIST) {
        return fail(err, err_size, "cannot create '%s': %s", path, strerror(errno));
    }
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) {
        return fail(err, err_size, "'%s' is not a directory", path);
    }
    return true;
}

bool fe_data_dir_prepare(const char *dir, char *err, size_t err_size)
{
    if (!make_dirs(dir, 0700, err, err_size)) {
        return false;
    }
    struct stat st;
    if (stat(dir, &st) == 0 && (st.st_mode & 077) != 0) {
        fe_log_msg(FE_LOG_WARN, "data_dir",
                   "the data directory %s may be read by others (mode %03o); it holds keys: "
                   "chmod 700 it",
                   dir, (unsigned)(st.st_mode & 0777));
    }
    return true;
}

bool fe_data_store_open(const char *dir, struct fe_store **out_store, char *err, size_t err_size)
{
    *out_store = NULL;
    if (!fe_data_dir_prepare(dir, err, err_size)) {
        return false;
    }
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/openrr.db", dir);
    char serr[256] = "";
    enum fe_store_result r = fe_store_sqlite_open(path, out_store, serr, sizeof serr);
    if (r != FE_STORE_OK) {
        return fail(err, err_size, "cannot open the database %s: %s%s%s", path,
                    fe_store_result_str(r), serr[0] != '\0' ? ": " : "", serr);
    }
    return true;
}

static bool executable(const char *path)
{
    struct stat st;
    return access(path, X_OK) == 0 && stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

char *fe_program_path(const char *configured, const char *name, const char *build_tree)
{
    if (configured != NULL && configured[0] != '\0') {
        return strdup(configured);
    }
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n > 0) {
        self[n] = '\0';
        char *slash = strrchr(self, '/');
        if (slash != NULL) {
            char beside[PATH_MAX + 64];
            snprintf(beside, sizeof beside, "%.*s/%s", (int)(slash - self), self, name);
            if (executable(beside)) {
                return strdup(beside);
            }
        }
    }
    const char *path = getenv("PATH");
    if (path != NULL) {
        const char *p = path;
        while (*p != '\0') {
            size_t len = strcspn(p, ":");
            if (len > 0 && len < PATH_MAX) {
                char cand[PATH_MAX + 64];
                snprintf(cand, sizeof cand, "%.*s/%s", (int)len, p, name);
                if (cand[0] == '/' && executable(cand)) {
                    return strdup(cand);
                }
            }
            p += len;
            if (*p == ':') {
                p++;
            }
        }
    }
    if (build_tree != NULL && executable(build_tree)) {
        return strdup(build_tree);
    }
    return NULL;
}

/* Resolve a program into *slot; a missing one is not fatal (accounts and tokens still work),
 * but the log says what will fail. */
static bool resolve_program(char **slot, const char *name, const char *build_tree, const char *what)
{
    char *p = fe_program_path(*slot, name, build_tree);
    if (p == NULL) {
        fe_log_msg(FE_LOG_WARN, "config",
                   "%s not found (beside openrrd, on PATH%s): %s will fail; set %s_path", name,
                   build_tree != NULL ? ", in the build tree" : "", what,
                   strcmp(name, "openrr-host") == 0 ? "host" : "convert");
        if (*slot == NULL && (*slot = strdup(name)) == NULL) {
            return false;
        }
        return true;
    }
    free(*slot);
    *slot = p;
    return true;
}

static void on_conversion_event(void *user, const struct fe_conversion_record *rec)
{
    struct fe_service *svc = user;
    bool terminal = rec->status == FE_CONV_CANCELLED || rec->status == FE_CONV_FAILED ||
                    rec->status == FE_CONV_SUCCEEDED;
    if (terminal) {
        fe_metrics_conversion_finished(svc->metrics, (int)rec->status);
    }
    enum fe_log_level level = terminal ? FE_LOG_INFO : FE_LOG_DEBUG;
    if (!fe_log_enabled(level)) {
        return;
    }
    struct fe_log_line l;
    fe_log_begin(&l, level, "conversion");
    fe_log_str(&l, "account", rec->account_id);
    fe_log_str(&l, "id", rec->id);
    fe_log_str(&l, "status", fe_conversion_status_str(rec->status));
    fe_log_int(&l, "progress", rec->progress);
    fe_log_str(&l, "code", rec->error_code[0] != '\0' ? rec->error_code : NULL);
    fe_log_end(&l);
}

static bool take_lock(struct fe_service *svc, char *err, size_t err_size)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/openrrd.lock", svc->cfg->data_dir);
    svc->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (svc->lock_fd < 0) {
        return fail(err, err_size, "cannot open the lock %s: %s", path, strerror(errno));
    }
    if (flock(svc->lock_fd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        close(svc->lock_fd);
        svc->lock_fd = -1;
        if (e == EWOULDBLOCK) {
            return fail(err, err_size, "another openrrd serves %s (it holds the lock %s)",
                        svc->cfg->data_dir, path);
        }
        return fail(err, err_size, "cannot lock %s: %s", path, strerror(e));
    }
    char pid[32];
    int n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    if (ftruncate(svc->lock_fd, 0) == 0 && write(svc->lock_fd, pid, (size_t)n) < 0) {
        /* The pid in the file is for people; the lock is what counts. */
    }
    return true;
}

bool fe_service_create(struct fe_config *cfg, struct fe_service **out_svc, char *err,
                       size_t err_size)
{
    *out_svc = NULL;
    struct fe_service *svc = calloc(1, sizeof *svc);
    if (svc == NULL) {
        return fail(err, err_size, "out of memory");
    }
    svc->cfg = cfg;
    svc->lock_fd = -1;
    char why[512] = "";
    bool ok = false;

    if (!fe_data_dir_prepare(cfg->data_dir, err, err_size) || !take_lock(svc, err, err_size) ||
        !fe_data_store_open(cfg->data_dir, &svc->store, err, err_size) ||
        !make_dirs(cfg->storage_root, 0700, err, err_size)) {
        goto out;
    }
    struct fe_sts_options so = {
        .data_dir = cfg->data_dir,
        .alg = cfg->token_alg,
        .domain = cfg->domain,
        .region = cfg->region,
        .lifetime_s = cfg->token_lifetime_s,
        .cache_capacity = 0,
    };
    if (!fe_sts_open(&so, &svc->sts, why, sizeof why)) {
        fail(err, err_size, "token service: %s", why);
        goto out;
    }
    if (cfg->idp_jwks != NULL) {
        struct fe_sts_idp_options io = {
            .jwks_path = cfg->idp_jwks,
            .issuer = cfg->idp_issuer,
            .audience = cfg->idp_audience,
            .account_claim = cfg->idp_account_claim,
        };
        if (!fe_sts_idp_open(svc->sts, &io, why, sizeof why)) {
            fail(err, err_size, "token service: identity provider: %s", why);
            goto out;
        }
    }
    char ca_dir[PATH_MAX];
    snprintf(ca_dir, sizeof ca_dir, "%s/ca", cfg->data_dir);
    if (!fe_ca_open(ca_dir, &svc->ca, why, sizeof why)) {
        fail(err, err_size, "certificate authority: %s", why);
        goto out;
    }
    struct fe_http_options ho = {
        .host = cfg->listen_host,
        .port = cfg->listen_port,
        .threads = cfg->http_threads,
        .max_body_bytes = cfg->max_body_bytes,
        .tls_cert_file = cfg->tls_cert,
        .tls_key_file = cfg->tls_key,
    };
    if (!fe_http_listen(&ho, &svc->http, err, err_size)) {
        goto out;
    }
    const char *h = cfg->listen_host;
    if (strcmp(h, "0.0.0.0") == 0) {
        h = "127.0.0.1";
    } else if (strcmp(h, "::") == 0) {
        h = "::1";
    }
    bool v6 = strchr(h, ':') != NULL;
    snprintf(svc->url, sizeof svc->url, v6 ? "%s://[%s]:%u" : "%s://%s:%u",
             fe_http_scheme(svc->http), h, (unsigned)fe_http_port(svc->http));

    svc->metrics = fe_metrics_create(FE_API_ROUTES, FE_API_ROUTE_COUNT);
    bool oom = false;
    svc->rate = fe_ratelimit_create(cfg->rate_per_second, cfg->rate_burst, 0, &oom);
    if (svc->metrics == NULL || oom) {
        fail(err, err_size, "out of memory");
        goto out;
    }
#ifdef FE_BUILD_TREE_HOST
    const char *tree_host = FE_BUILD_TREE_HOST;
#else
    const char *tree_host = NULL;
#endif
#ifdef FE_BUILD_TREE_CONVERT
    const char *tree_convert = FE_BUILD_TREE_CONVERT;
#else
    const char *tree_convert = NULL;
#endif
    if (!resolve_program(&cfg->convert_path, "openrr-convert", tree_convert, "conversions") ||
        !resolve_program(&cfg->host_path, "openrr-host", tree_host, "sessions")) {
        fail(err, err_size, "out of memory");
        goto out;
    }
    if (!fe_conv_runner_create(cfg, svc->store, on_conversion_event, svc, &svc->conv, why,
                               sizeof why)) {
        fail(err, err_size, "conversions: %s", why);
        goto out;
    }
    svc->backend = fe_backend_local_create(cfg->host_path);
    if (svc->backend == NULL) {
        fail(err, err_size, "out of memory");
        goto out;
    }
    snprintf(svc->register_url, sizeof svc->register_url, "%s", svc->url);
    struct fe_session_mgr_config mc = {
        .cfg = cfg,
        .store = svc->store,
        .backend = svc->backend,
        .ca = svc->ca,
        .jwks_path = fe_sts_jwks_path(svc->sts),
        .token_issuer = fe_sts_issuer(svc->sts),
        .token_audience = fe_sts_audience(svc->sts),
        .register_base_url = svc->register_url,
    };
    if (!fe_session_mgr_create(&mc, &svc->sessions, why, sizeof why)) {
        fail(err, err_size, "sessions: %s", why);
        goto out;
    }
    struct fe_api_deps deps = {
        .cfg = cfg,
        .store = svc->store,
        .sts = svc->sts,
        .ca = svc->ca,
        .conv = svc->conv,
        .sessions = svc->sessions,
        .rate = svc->rate,
        .metrics = svc->metrics,
    };
    if (!fe_api_create(&deps, &svc->api, err, err_size) ||
        !fe_http_start(svc->http, fe_api_handle, fe_api_done, svc->api, err, err_size)) {
        goto out;
    }
    struct fe_log_line l;
    fe_log_begin(&l, FE_LOG_INFO, "start");
    fe_log_str(&l, "url", svc->url);
    fe_log_str(&l, "data", cfg->data_dir);
    fe_log_str(&l, "domain", cfg->domain);
    fe_log_str(&l, "token_alg", fe_sts_alg(svc->sts));
    fe_log_str(&l, "kid", fe_sts_kid(svc->sts));
    if (fe_sts_idp_enabled(svc->sts)) {
        fe_log_str(&l, "idp_issuer", cfg->idp_issuer);
    }
    fe_log_int(&l, "http_threads", cfg->http_threads);
    fe_log_str(&l, "host_path", cfg->host_path);
    fe_log_str(&l, "convert_path", cfg->convert_path);
    fe_log_end(&l);
    ok = true;
out:
    if (!ok) {
        fe_service_destroy(&svc);
        return false;
    }
    *out_svc = svc;
    return true;
}

const char *fe_service_url(const struct fe_service *svc)
{
    return svc->url;
}

void fe_service_destroy(struct fe_service **svc_ptr)
{
    if (svc_ptr == NULL || *svc_ptr == NULL) {
        return;
    }
    struct fe_service *svc = *svc_ptr;
    /* First no new requests, then the workers that the requests woke. */
    fe_http_destroy(&svc->http);
    fe_session_mgr_destroy(&svc->sessions);
    if (svc->backend != NULL) {
        svc->backend->destroy(svc->backend);
        svc->backend = NULL;
    }
    fe_conv_runner_destroy(&svc->conv);
    fe_api_destroy(&svc->api);
    fe_ratelimit_destroy(&svc->rate);
    fe_metrics_destroy(&svc->metrics);
    fe_ca_destroy(&svc->ca);
    fe_sts_destroy(&svc->sts);
    fe_store_destroy(&svc->store);
    if (svc->lock_fd >= 0) {
        close(svc->lock_fd); /* releases the flock */
    }
    free(svc);
    *svc_ptr = NULL;
}
