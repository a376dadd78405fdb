/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fe_conv_fetch — a conversion's input. file:// inputs are used where they lie (after checking
 * that, symbolic links resolved, the model and every external file a glTF names stay under the
 * storage root); http(s):// inputs are downloaded with libcurl into <work>/in/, with the read
 * SAS as query string, bounded in size and time, together with a .gltf/.glb's relative buffers
 * and images and the optional <model>.ConversionSettings.json beside the model.
 *
 * Threads: the worker thread that owns the job. No URL with its query is ever printed.
 */
#include "fe_conv_internal.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

/* A .gltf's JSON (or a .glb's JSON chunk) is parsed here, in openrrd: bounded. */
#define MAX_GLTF_JSON (128u << 20)
#define CONNECT_TIMEOUT_S 30L
#define TRANSFER_TIMEOUT_S 3600L
/* A transfer slower than 1 KiB/s for a minute is dead. */
#define LOW_SPEED_BYTES 1024L
#define LOW_SPEED_TIME_S 60L
#define MAX_REDIRECTS 5L

static bool ends_with_ci(const char *s, const char *suffix)
{
    size_t n = strlen(s);
    size_t m = strlen(suffix);
    return n >= m && strcasecmp(s + n - m, suffix) == 0;
}

static const char *last_segment(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash != NULL ? slash + 1 : path;
}

/* ---- a glTF's external files ------------------------------------------------------------- */

/* One external file: the URI as written, normalised ("./" and empty segments dropped), and the
 * decoded relative path it has on disk next to the model. */
struct gltf_ref {
    char raw[PATH_MAX];
    char local[PATH_MAX];
};

struct gltf_refs {
    struct gltf_ref *v;
    size_t count;
};

/* Normalise @p uri into @p ref; false when it is not a plain relative path (absolute URL,
 * absolute path, "..", a query, a malformed escape). */
static bool gltf_ref_make(const char *uri, struct gltf_ref *ref)
{
    if (uri[0] == '/' || strpbrk(uri, "?#\\") != NULL || strlen(uri) >= sizeof(ref->raw)) {
        return false;
    }
    /* A scheme ("https:", "c:") before the first '/' makes it absolute. */
    size_t colon = strcspn(uri, ":/");
    if (uri[colon] == ':') {
        return false;
    }
    ref->raw[0] = '\0';
    ref->local[0] = '\0';
    char seg[PATH_MAX];
    const char *p = uri;
    for (;;) {
        size_t len = strcspn(p, "/");
        memcpy(seg, p, len);
        seg[len] = '\0';
        if (len > 0 && strcmp(seg, ".") != 0) {
            if (strcmp(seg, "..") == 0) {
                return false;
            }
            size_t rn = strlen(ref->raw);
            if ((size_t)snprintf(ref->raw + rn, sizeof(ref->raw) - rn, "%s%s", rn > 0 ? "/" : "",
                                 seg) >= sizeof(ref->raw) - rn) {
                return false;
            }
            if (!fe_conv_percent_decode(seg) || strchr(seg, '/') != NULL ||
                strcmp(seg, "..") == 0 || strcmp(seg, ".") == 0) {
                return false;
            }
            size_t ln = strlen(ref->local);
            if ((size_t)snprintf(ref->local + ln, sizeof(ref->local) - ln, "%s%s",
                                 ln > 0 ? "/" : "", seg) >= sizeof(ref->local) - ln) {
                return false;
            }
        }
        if (p[len] == '\0') {
            break;
        }
        p += len + 1;
    }
    return ref->local[0] != '\0' && fe_conv_relative_ok(ref->local);
}

/* One entry of a glTF's buffers/images (glTF 2: array items; glTF 1: object members). */
static bool gltf_add_item(struct fe_conv_job *job, struct gltf_refs *refs, json_t *item,
                          const char *what, const char *key)
{
    json_t *u = json_object_get(item, "uri");
    if (u == NULL) {
        return true; /* a GLB's own buffer or an image in a bufferView */
    }
    const char *uri = json_string_value(u);
    if (uri == NULL) {
        return fe_conv_fail(job, "InvalidInput", "the glTF's %s[%s].uri is not a string", what,
                            key);
    }
    if (strncasecmp(uri, "data:", 5) == 0) {
        return true;
    }
    struct gltf_ref ref;
    if (!gltf_ref_make(uri, &ref)) {
        char shown[256];
        fe_conv_redact_url(uri, shown, sizeof(shown));
        return fe_conv_fail(job, "InvalidInput",
                            "the glTF's %s[%s].uri \"%s\" is not a relative path inside the "
                            "model's folder (absolute URLs, absolute paths and '..' are refused)",
                            what, key, shown);
    }
    for (size_t k = 0; k < refs->count; k++) {
        if (strcmp(refs->v[k].local, ref.local) == 0) {
            return true;
        }
    }
    if (refs->count == FE_CONV_MAX_GLTF_FILES) {
        return fe_conv_fail(job, "InvalidInput", "the glTF names more than %d external files",
                            FE_CONV_MAX_GLTF_FILES);
    }
    refs->v[refs->count++] = ref;
    return true;
}

/* The files of a glTF's @p what: an array in glTF 2, an object keyed by id in glTF 1. */
static bool gltf_add(struct fe_conv_job *job, struct gltf_refs *refs, json_t *list,
                     const char *what)
{
    if (list == NULL) {
        return true;
    }
    if (json_is_array(list)) {
        size_t i;
        json_t *item;
        json_array_foreach(list, i, item)
        {
            char key[24];
            snprintf(key, sizeof key, "%zu", i);
            if (!gltf_add_item(job, refs, item, what, key)) {
                return false;
            }
        }
        return true;
    }
    if (json_is_object(list)) {
        const char *key;
        json_t *item;
        json_object_foreach(list, key, item)
        {
            if (!gltf_add_item(job, refs, item, what, key)) {
                return false;
            }
        }
        return true;
    }
    return fe_conv_fail(job, "InvalidInput", "the glTF's %s is neither an array nor an object",
                        what);
}

/* The JSON of a .gltf, or the JSON chunk of a .glb, at @p path (malloc'd, *out_len bytes). */
static char *gltf_read_json(struct fe_conv_job *job, const char *path, bool glb, size_t *out_len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        fe_conv_fail(job, "InputUnreadable", "the model cannot be read: %s", strerror(errno));
        return NULL;
    }
    struct stat st;
    size_t len = 0;
    off_t offset = 0;
    if (fstat(fd, &st) != 0) {
        fe_conv_fail(job, "InputUnreadable", "the model cannot be read: %s", strerror(errno));
        close(fd);
        return NULL;
    }
    if (glb) {
        /* Header: magic, version, length; then chunk 0: length, type "JSON". */
        uint8_t h[20];
        if (pread(fd, h, sizeof(h), 0) != (ssize_t)sizeof(h) || memcmp(h, "glTF", 4) != 0 ||
            memcmp(h + 16, "JSON", 4) != 0) {
            close(fd);
            *out_len = 0;
            return NULL; /* not a GLB we understand: openrr-convert will say what is wrong */
        }
        len = (size_t)h[12] | (size_t)h[13] << 8 | (size_t)h[14] << 16 | (size_t)h[15] << 24;
        offset = 20;
        if ((uint64_t)len + 20 > (uint64_t)st.st_size) {
            close(fd);
            *out_len = 0;
            return NULL;
        }
    } else {
        len = (size_t)st.st_size;
    }
    if (len > MAX_GLTF_JSON) {
        close(fd);
        fe_conv_fail(job, "InputTooLarge",
                     "the glTF's JSON is over %u MiB (embedded data: URIs?): use a .glb",
                     MAX_GLTF_JSON >> 20);
        return NULL;
    }
    char *buf = malloc(len + 1);
    if (buf == NULL) {
        close(fd);
        fe_conv_fail(job, "InternalError", "out of memory reading the glTF");
        return NULL;
    }
    size_t got = 0;
    while (got < len) {
        ssize_t n = pread(fd, buf + got, len - got, offset + (off_t)got);
        if (n <= 0) {
            if (n < 0 && errno == EINTR) {
                continue;
            }
            break;
        }
        got += (size_t)n;
    }
    close(fd);
    if (got != len) {
        free(buf);
        fe_conv_fail(job, "InputUnreadable", "the glTF cannot be read completely");
        return NULL;
    }
    buf[len] = '\0';
    *out_len = len;
    return buf;
}

/* The external files @p path names (none for other formats). False with the job's error. */
static bool gltf_collect(struct fe_conv_job *job, const char *path, struct gltf_refs *refs)
{
    refs->count = 0;
    refs->v = NULL;
    bool glb = ends_with_ci(path, ".glb");
    if (!glb && !ends_with_ci(path, ".gltf")) {
        return true;
    }
    size_t len = 0;
    char *text = gltf_read_json(job, path, glb, &len);
    if (text == NULL) {
        return job->code[0] == '\0';
    }
    json_error_t e;
    json_t *root = json_loadb(text, len, 0, &e);
    free(text);
    if (root == NULL) {
        return fe_conv_fail(job, "InvalidInput", "the glTF is not valid JSON: line %d: %s", e.line,
                            e.text);
    }
    refs->v = calloc(FE_CONV_MAX_GLTF_FILES, sizeof(*refs->v));
    bool ok = refs->v != NULL ? true : fe_conv_fail(job, "InternalError", "out of memory");
    ok = ok && gltf_add(job, refs, json_object_get(root, "buffers"), "buffers") &&
         gltf_add(job, refs, json_object_get(root, "images"), "images") &&
         gltf_add(job, refs, json_object_get(root, "shaders"), "shaders"); /* glTF 1 */
    json_decref(root);
    return ok;
}

/* ---- file:// ----------------------------------------------------------------------------- */

/* @p path must exist as a readable regular file under the root; @p shown names it in
 * messages (the path the user gave). @p resolved gets its realpath. */
static bool file_check(struct fe_conv_job *job, const char *path, const char *shown, char *resolved)
{
    if (realpath(path, resolved) == NULL) {
        int e = errno;
        if (e == ENOENT || e == ENOTDIR) {
            return fe_conv_fail(job, "InputNotFound", "%s was not found in the input container",
                                shown);
        }
        return fe_conv_fail(job, "InputUnreadable", "%s cannot be read: %s", shown, strerror(e));
    }
    if (!fe_conv_under_root(job->storage_root, resolved)) {
        return fe_conv_fail(job, "InvalidInputLocation",
                            "%s resolves outside the storage root (a symbolic link?)", shown);
    }
    struct stat st;
    if (stat(resolved, &st) != 0 || !S_ISREG(st.st_mode)) {
        return fe_conv_fail(job, "InputUnreadable", "%s is not a file", shown);
    }
    if (access(resolved, R_OK) != 0) {
        return fe_conv_fail(job, "InputUnreadable", "%s cannot be read: %s", shown,
                            strerror(errno));
    }
    return true;
}

static enum fe_conv_stage_result fetch_file(struct fe_conv_job *job)
{
    char container[PATH_MAX];
    char creal[PATH_MAX];
    char path[PATH_MAX];
    if (job->storage_root == NULL) {
        fe_conv_fail(job, "InvalidInputLocation", "the storage root does not exist");
        return FE_CONV_STAGE_FAILED;
    }
    if (!fe_conv_file_uri_path(job->s.in_container, container, sizeof(container))) {
        fe_conv_fail(job, "InvalidInputLocation", "the input container is not a file:// path");
        return FE_CONV_STAGE_FAILED;
    }
    if (realpath(container, creal) == NULL) {
        fe_conv_fail(job, "InputNotFound", "the input container %s does not exist", container);
        return FE_CONV_STAGE_FAILED;
    }
    if (!fe_conv_under_root(job->storage_root, creal)) {
        fe_conv_fail(job, "InvalidInputLocation",
                     "the input container %s lies outside the storage root", container);
        return FE_CONV_STAGE_FAILED;
    }
    if ((size_t)snprintf(path, sizeof(path), "%s/%s", creal, job->s.in_joined) >= sizeof(path)) {
        fe_conv_fail(job, "InvalidInputLocation", "the input path is too long");
        return FE_CONV_STAGE_FAILED;
    }
    if (!file_check(job, path, job->s.in_joined, job->input_path)) {
        return FE_CONV_STAGE_FAILED;
    }
    /* openrr-convert reads a glTF's buffers and images itself: make sure each stays under the
     * root and exists, so that a model cannot make it read the service's own files. */
    struct gltf_refs refs;
    bool ok = gltf_collect(job, job->input_path, &refs);
    char dir[PATH_MAX];
    snprintf(dir, sizeof(dir), "%s", job->input_path);
    *strrchr(dir, '/') = '\0';
    for (size_t i = 0; ok && i < refs.count; i++) {
        char dep[PATH_MAX];
        char shown[PATH_MAX];
        char resolved[PATH_MAX];
        if ((size_t)snprintf(dep, sizeof(dep), "%s/%s", dir, refs.v[i].local) >= sizeof(dep)) {
            ok = fe_conv_fail(job, "InvalidInput", "a glTF external file's path is too long");
            break;
        }
        snprintf(shown, sizeof(shown), "%s (named by the glTF)", refs.v[i].local);
        ok = file_check(job, dep, shown, resolved);
    }
    free(refs.v);
    return ok ? FE_CONV_STAGE_OK : FE_CONV_STAGE_FAILED;
}

/* ---- http(s):// -------------------------------------------------------------------------- */

enum dl_result { DL_OK, DL_NOT_FOUND, DL_DENIED, DL_TOO_LARGE, DL_FAILED, DL_CANCELLED };

struct dl_state {
    FILE *f;
    uint64_t written;
    uint64_t max;
    bool too_large;
    bool write_failed;
    int write_errno;
    const atomic_bool *stopping;
};

static size_t on_write(char *data, size_t size, size_t count, void *user)
{
    struct dl_state *d = user;
    size_t n = size * count;
    if (d->written + n > d->max) {
        d->too_large = true;
        return 0;
    }
    if (fwrite(data, 1, n, d->f) != n) {
        d->write_failed = true;
        d->write_errno = errno;
        return 0;
    }
    d->written += n;
    return n;
}

static int on_progress(void *user, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
    (void)dltotal;
    (void)dlnow;
    (void)ultotal;
    (void)ulnow;
    const struct dl_state *d = user;
    return atomic_load(d->stopping) ? 1 : 0;
}

/* Download @p url (no query; the SAS is appended here) into the new file @p local. @p shown
 * names it in messages. On failure @p why says what happened (no URL query in it). */
static enum dl_result download(struct fe_conv_job *job, const char *url, const char *local,
                               char *why, size_t why_size)
{
    why[0] = '\0';
    char *full = NULL;
    if (asprintf(&full, "%s%s%s", url, job->s.in_sas != NULL ? "?" : "",
                 job->s.in_sas != NULL ? job->s.in_sas : "") < 0) {
        snprintf(why, why_size, "out of memory");
        return DL_FAILED;
    }
    int fd = open(local, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    FILE *f = fd >= 0 ? fdopen(fd, "wb") : NULL;
    CURL *curl = f != NULL ? curl_easy_init() : NULL;
    if (curl == NULL) {
        snprintf(why, why_size, "cannot start the download: %s",
                 f == NULL ? strerror(errno) : "libcurl failed");
        if (f != NULL) {
            fclose(f);
        } else if (fd >= 0) {
            close(fd);
        }
        explicit_bzero(full, strlen(full));
        free(full);
        return DL_FAILED;
    }
    struct dl_state d = {.f = f, .max = job->cfg->max_download_bytes, .stopping = job->stopping};
    char errbuf[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(curl, CURLOPT_URL, full);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(curl, CURLOPT_MAXREDIRS, MAX_REDIRECTS);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_FAILONERROR, 1L);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, CONNECT_TIMEOUT_S);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, TRANSFER_TIMEOUT_S);
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, LOW_SPEED_BYTES);
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, LOW_SPEED_TIME_S);
    if (job->cfg->max_download_bytes > 0) {
        curl_easy_setopt(curl, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)job->cfg->max_download_bytes);
    }
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &d);
    curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &d);
    curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(curl, CURLOPT_USERAGENT, "openrrd");
    if (job->cfg->max_download_bytes == 0) {
        d.max = UINT64_MAX;
    }
    CURLcode rc = curl_easy_perform(curl);
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(curl);
    explicit_bzero(full, strlen(full));
    free(full);
    bool close_failed = fclose(f) != 0;
    int close_errno = errno;
    /* curl's message may quote a (redirected) URL: nothing after a '?' leaves this function. */
    errbuf[strcspn(errbuf, "?")] = '\0';

    if (rc == CURLE_OK && close_failed) {
        snprintf(why, why_size, "cannot write the download: %s", strerror(close_errno));
        return DL_FAILED;
    }
    switch (rc) {
    case CURLE_OK:
        return DL_OK;
    case CURLE_ABORTED_BY_CALLBACK:
        return DL_CANCELLED;
    case CURLE_FILESIZE_EXCEEDED:
        return DL_TOO_LARGE;
    case CURLE_HTTP_RETURNED_ERROR:
        snprintf(why, why_size, "HTTP %ld", status);
        return status == 404 || status == 410   ? DL_NOT_FOUND
               : status == 401 || status == 403 ? DL_DENIED
                                                : DL_FAILED;
    case CURLE_WRITE_ERROR:
        if (d.too_large) {
            return DL_TOO_LARGE;
        }
        if (d.write_failed) {
            snprintf(why, why_size, "cannot write the download: %s", strerror(d.write_errno));
            return DL_FAILED;
        }
        break;
    default:
        break;
    }
    snprintf(why, why_size, "%s%s%s", curl_easy_strerror(rc), errbuf[0] != '\0' ? ": " : "",
             errbuf);
    return DL_FAILED;
}

/* Download into <in>/<local> (directories made as needed). @p optional: a missing or refused
 * file is no error (*out_absent says so). */
static enum fe_conv_stage_result fetch_one(struct fe_conv_job *job, const char *url,
                                           const char *in_dir, const char *local, bool optional,
                                           bool *out_absent)
{
    char path[PATH_MAX];
    char shown[1024];
    char why[CURL_ERROR_SIZE + 128];
    fe_conv_redact_url(url, shown, sizeof(shown));
    if ((size_t)snprintf(path, sizeof(path), "%s/%s", in_dir, local) >= sizeof(path)) {
        fe_conv_fail(job, "InvalidInput", "the input path %s is too long", local);
        return FE_CONV_STAGE_FAILED;
    }
    /* Make the folders of a nested path ("textures/a.png"): every part is ours, made here. */
    for (char *s = path + strlen(in_dir) + 1; (s = strchr(s, '/')) != NULL; s++) {
        *s = '\0';
        int r = mkdir(path, 0700);
        *s = '/';
        if (r != 0 && errno != EEXIST) {
            fe_conv_fail(job, "InternalError", "cannot create a download folder: %s",
                         strerror(errno));
            return FE_CONV_STAGE_FAILED;
        }
    }
    if (out_absent != NULL) {
        *out_absent = false;
    }
    if (optional && access(path, F_OK) == 0) {
        return FE_CONV_STAGE_OK; /* the glTF named it already */
    }
    enum dl_result r = download(job, url, path, why, sizeof(why));
    if (r != DL_OK) {
        unlink(path);
    }
    char limit[32];
    switch (r) {
    case DL_OK:
        fe_conv_log(FE_LOG_DEBUG, job->account_id, job->id, "downloaded %s", shown);
        return FE_CONV_STAGE_OK;
    case DL_CANCELLED:
        return FE_CONV_STAGE_ABANDONED;
    case DL_NOT_FOUND:
    case DL_DENIED:
        if (optional) {
            *out_absent = true;
            return FE_CONV_STAGE_OK;
        }
        if (r == DL_NOT_FOUND) {
            fe_conv_fail(job, "InputNotFound", "%s was not found (%s)", shown, why);
        } else {
            fe_conv_fail(job, "InputUnreadable",
                         "%s was refused (%s): check storageContainerReadListSas", shown, why);
        }
        return FE_CONV_STAGE_FAILED;
    case DL_TOO_LARGE:
        fe_conv_format_bytes(job->cfg->max_download_bytes, limit, sizeof(limit));
        fe_conv_fail(job, "InputTooLarge",
                     "%s is larger than the download limit of %s "
                     "(max_download)",
                     shown, limit);
        return FE_CONV_STAGE_FAILED;
    case DL_FAILED:
    default:
        fe_conv_fail(job, "InputDownloadFailed", "downloading %s failed: %s", shown, why);
        return FE_CONV_STAGE_FAILED;
    }
}

static enum fe_conv_stage_result fetch_http(struct fe_conv_job *job)
{
    char in_dir[PATH_MAX];
    char url[FE_URI_SIZE];
    char dir_url[FE_URI_SIZE];
    if ((size_t)snprintf(in_dir, sizeof(in_dir), "%s/in", job->work_dir) >= sizeof(in_dir) ||
        mkdir(in_dir, 0700) != 0) {
        fe_conv_fail(job, "InternalError", "cannot create the download folder: %s",
                     strerror(errno));
        return FE_CONV_STAGE_FAILED;
    }
    /* container + "/" + blobPrefix + relativeInputAssetPath, each byte outside RFC 3986's
     * unreserved set percent-encoded ('/' kept). */
    size_t n = strlen(job->s.in_container);
    while (n > 0 && job->s.in_container[n - 1] == '/') {
        n--;
    }
    if (n + 2 > sizeof(url)) {
        fe_conv_fail(job, "InvalidInputLocation", "the input URL is too long");
        return FE_CONV_STAGE_FAILED;
    }
    memcpy(url, job->s.in_container, n);
    url[n] = '/';
    url[n + 1] = '\0';
    if (!fe_conv_url_append(url, sizeof(url), job->s.in_joined, false)) {
        fe_conv_fail(job, "InvalidInputLocation", "the input URL is too long");
        return FE_CONV_STAGE_FAILED;
    }
    snprintf(dir_url, sizeof(dir_url), "%s", url);
    strrchr(dir_url, '/')[1] = '\0';

    const char *model = last_segment(job->s.in_joined);
    enum fe_conv_stage_result r = fetch_one(job, url, in_dir, model, false, NULL);
    if (r != FE_CONV_STAGE_OK) {
        return r;
    }
    if ((size_t)snprintf(job->input_path, sizeof(job->input_path), "%s/%s", in_dir, model) >=
        sizeof(job->input_path)) {
        fe_conv_fail(job, "InvalidInput", "the input path is too long");
        return FE_CONV_STAGE_FAILED;
    }

    struct gltf_refs refs;
    if (!gltf_collect(job, job->input_path, &refs)) {
        free(refs.v);
        return FE_CONV_STAGE_FAILED;
    }
    for (size_t i = 0; r == FE_CONV_STAGE_OK && i < refs.count; i++) {
        snprintf(url, sizeof(url), "%s", dir_url);
        if (!fe_conv_url_append(url, sizeof(url), refs.v[i].raw, true)) {
            fe_conv_fail(job, "InvalidInput", "the URL of %s is too long", refs.v[i].local);
            r = FE_CONV_STAGE_FAILED;
            break;
        }
        if (strcmp(refs.v[i].local, model) == 0) {
            continue; /* the model naming itself: already here */
        }
        r = fetch_one(job, url, in_dir, refs.v[i].local, false, NULL);
    }
    free(refs.v);
    if (r != FE_CONV_STAGE_OK) {
        return r;
    }

    /* The per-model settings file the managed service read beside the model, when there. */
    char settings[NAME_MAX + 1];
    const char *dot = strrchr(model, '.');
    int stem = dot != NULL && dot != model ? (int)(dot - model) : (int)strlen(model);
    if ((size_t)snprintf(settings, sizeof(settings), "%.*s.ConversionSettings.json", stem, model) <
        sizeof(settings)) {
        snprintf(url, sizeof(url), "%s", dir_url);
        bool absent = false;
        if (fe_conv_url_append(url, sizeof(url), settings, false)) {
            r = fetch_one(job, url, in_dir, settings, true, &absent);
        }
    }
    return r;
}

enum fe_conv_stage_result fe_conv_fetch(struct fe_conv_job *job)
{
    return job->s.in_is_file ? fetch_file(job) : fetch_http(job);
}
