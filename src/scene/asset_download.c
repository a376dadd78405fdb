/* SPDX-License-Identifier: Apache-2.0 */
/* asset_download — see asset_download.h. Caller's thread; no shared state but curl's global
 * initialisation. */
#include "asset_download.h"

#include "u_log.h"

#include <curl/curl.h>
#include <openssl/evp.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define LOG "scene"

static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static bool g_ok;

static void global_init(void)
{
    g_ok = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
}

bool rr_download_global_init(void)
{
    pthread_once(&g_once, global_init);
    return g_ok;
}

static void set_err(char *err, size_t size, const char *fmt, const char *a, const char *b)
{
    if (err != NULL && size > 0) {
        snprintf(err, size, fmt, a, b);
    }
}

/* mkdir -p with mode 0700: the cache holds what clients asked for. */
static bool make_dirs(const char *file_path)
{
    char dir[PATH_MAX];
    if (snprintf(dir, sizeof(dir), "%s", file_path) >= (int)sizeof(dir)) {
        return false;
    }
    char *slash = strrchr(dir, '/');
    if (slash == NULL) {
        return true;
    }
    *slash = '\0';
    for (char *p = dir + 1; *p != '\0'; p++) {
        if (*p == '/') {
            *p = '\0';
            if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
                return false;
            }
            *p = '/';
        }
    }
    return mkdir(dir, 0700) == 0 || errno == EEXIST;
}

void rr_download_shown_url(const char *url, char *out, size_t size)
{
    const char *scheme_end = strstr(url, "://");
    const char *host = scheme_end != NULL ? scheme_end + 3 : url;
    const char *path = host + strcspn(host, "/?#");
    const char *at = memchr(host, '@', (size_t)(path - host));
    const char *query = path + strcspn(path, "?#");
    snprintf(out, size, "%.*s%.*s%s", (int)(host - url), url,
             (int)(query - (at != NULL ? at + 1 : host)), at != NULL ? at + 1 : host,
             *query != '\0' ? "?…" : "");
}

/* What "<path>.url" holds for @p url: its SHA-256, so that the cache never keeps a SAS token
 * on disk yet still tells two URLs apart. */
static bool url_digest(const char *url, char out[72])
{
    unsigned char md[32];
    unsigned int len = 0;
    if (EVP_Digest(url, strlen(url), md, &len, EVP_sha256(), NULL) != 1 || len != 32) {
        return false;
    }
    memcpy(out, "sha256:", 7);
    for (unsigned i = 0; i < 32; i++) {
        snprintf(out + 7 + 2 * i, 3, "%02x", md[i]);
    }
    return true;
}

/* True when "<path>.url" holds the digest of @p url and @p path exists. */
static bool cached(const char *path, const char *url)
{
    char side[PATH_MAX];
    if (snprintf(side, sizeof(side), "%s.url", path) >= (int)sizeof(side) ||
        access(path, R_OK) != 0) {
        return false;
    }
    FILE *f = fopen(side, "rb");
    if (f == NULL) {
        return false;
    }
    char buf[80], want[72];
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    return url_digest(url, want) && strcmp(buf, want) == 0;
}

void rr_download_forget(const char *path)
{
    char side[PATH_MAX];
    if (snprintf(side, sizeof(side), "%s.url", path) < (int)sizeof(side)) {
        unlink(side);
    }
}

struct transfer {
    FILE *f;
    uint64_t written;
    uint64_t max;
    bool too_large;
    bool cancelled;
    uint32_t last_percent;
    const struct rr_download_config *cfg;
};

static size_t on_write(char *data, size_t size, size_t nmemb, void *user)
{
    struct transfer *t = user;
    size_t n = size * nmemb;
    /* The announced length may be absent or a lie: count what arrives. */
    if (t->written + n > t->max) {
        t->too_large = true;
        return 0;
    }
    if (fwrite(data, 1, n, t->f) != n) {
        return 0;
    }
    t->written += n;
    return n;
}

static int on_progress(void *user, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
    (void)ultotal;
    (void)ulnow;
    struct transfer *t = user;
    if (dltotal > 0 && (uint64_t)dltotal > t->max) {
        t->too_large = true;
        return 1;
    }
    uint32_t pct = t->last_percent;
    if (dltotal > 0 && dlnow >= 0) {
        uint64_t p = (uint64_t)dlnow * 99u / (uint64_t)dltotal;
        pct = p > 99 ? 99 : (uint32_t)p;
    }
    if (t->cfg->progress != NULL && pct > t->last_percent) {
        t->last_percent = pct;
        if (!t->cfg->progress(t->cfg->progress_user, pct)) {
            t->cancelled = true;
            return 1;
        }
    } else if (t->cfg->progress != NULL && dlnow == 0 && t->last_percent == 0 &&
               !t->cfg->progress(t->cfg->progress_user, 0)) {
        t->cancelled = true;
        return 1;
    }
    return 0;
}

enum rr_scene_result rr_download(const struct rr_download_config *cfg, char *err, size_t err_size)
{
    if (cached(cfg->path, cfg->url)) {
        return RR_SCENE_SUCCESS;
    }
    if (!make_dirs(cfg->path)) {
        set_err(err, err_size, "cannot create the cache directory of %s%s", cfg->path, "");
        return RR_SCENE_NETWORK_ERROR;
    }
    static atomic_uint counter;
    char tmp[PATH_MAX];
    if (snprintf(tmp, sizeof(tmp), "%s.tmp.%d.%u", cfg->path, (int)getpid(),
                 atomic_fetch_add(&counter, 1)) >= (int)sizeof(tmp)) {
        return RR_SCENE_INVALID_PARAM;
    }
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    FILE *f = fd >= 0 ? fdopen(fd, "wb") : NULL;
    if (f == NULL) {
        if (fd >= 0) {
            close(fd);
        }
        set_err(err, err_size, "cannot write %s: %s", tmp, strerror(errno));
        return RR_SCENE_NETWORK_ERROR;
    }
    CURL *curl = curl_easy_init();
    if (curl == NULL) {
        fclose(f);
        unlink(tmp);
        return RR_SCENE_OUT_OF_MEMORY;
    }
    struct transfer t = {.f = f, .max = cfg->max_size, .cfg = cfg};
    char curl_err[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(curl, CURLOPT_URL, cfg->url);
    /* Only http(s), also after redirects: a client must not make the host read file:// or
     * talk other protocols through a redirect. */
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(curl, CURLOPT_MAXREDIRS, 5L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 30L);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, (long)cfg->timeout_s);
    curl_easy_setopt(curl, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)cfg->max_size);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &t);
    curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &t);
    curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, curl_err);
    curl_easy_setopt(curl, CURLOPT_USERAGENT, "openrr-host");
    CURLcode cr = curl_easy_perform(curl);
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(curl);
    bool flushed = fflush(f) == 0 && fsync(fileno(f)) == 0;
    fclose(f);

    char shown[RR_SCENE_MAX_URI + 8];
    rr_download_shown_url(cfg->url, shown, sizeof shown);
    enum rr_scene_result res = RR_SCENE_SUCCESS;
    if (t.cancelled) {
        res = RR_SCENE_CANCELLED;
    } else if (t.too_large || cr == CURLE_FILESIZE_EXCEEDED) {
        set_err(err, err_size, "%s is larger than the download limit%s", shown, "");
        res = RR_SCENE_ASSET_TOO_LARGE;
    } else if (cr != CURLE_OK) {
        set_err(err, err_size, "%s: %s", shown, curl_err[0] ? curl_err : curl_easy_strerror(cr));
        res = RR_SCENE_NETWORK_ERROR;
    } else if (status == 404 || status == 410) {
        set_err(err, err_size, "%s: %s", shown, "not found");
        res = RR_SCENE_ASSET_NOT_FOUND;
    } else if (status >= 400 || (status != 0 && status < 200)) {
        set_err(err, err_size, "%s: %s", shown, "HTTP error");
        res = RR_SCENE_NETWORK_ERROR;
    } else if (!flushed || rename(tmp, cfg->path) != 0) {
        set_err(err, err_size, "cannot store %s: %s", cfg->path, strerror(errno));
        res = RR_SCENE_NETWORK_ERROR;
    }
    if (res != RR_SCENE_SUCCESS) {
        unlink(tmp);
        U_LOG_I(LOG, "download of %s failed (%s, HTTP %ld)", shown, rr_scene_result_str(res),
                status);
        return res;
    }
    char side[PATH_MAX];
    if (snprintf(side, sizeof(side), "%s.url", cfg->path) < (int)sizeof(side)) {
        char digest[72];
        FILE *u = url_digest(cfg->url, digest) ? fopen(side, "wb") : NULL;
        if (u != NULL) {
            fputs(digest, u);
            fclose(u);
        }
    }
    return RR_SCENE_SUCCESS;
}
