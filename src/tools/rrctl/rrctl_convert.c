/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rrctl_convert — `rrctl convert FILE|URL`: start a conversion and, with --wait, follow it to
 * the end with a progress bar, then print the output asset's URI.
 *
 * The service reads file:// containers only below its storage root (openrrd's
 * `storage_root`). A local file already below it is converted where it lies; any other is
 * hard-linked (or copied, across file systems) into <root>/uploads/<id>/ together with what it
 * needs: a .gltf's relative buffers and images, and the model's ConversionSettings.json. rrctl
 * learns the root from --storage, else $OPENRR_STORAGE, else the login's `storage` setting,
 * else ./openrr-data/storage (openrrd's default when it runs in the current directory). URLs
 * (http, https) are passed on as containers: the service downloads them, and a query string
 * goes as the read SAS (never printed).
 *
 * Threads: main thread.
 */
#include "rrctl.h"

#include <jansson.h>
#include <openssl/crypto.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define POLL_MS 1000
/* A .gltf with more external files than this is not copied (the service's own limit). */
#define MAX_GLTF_FILES 256

static const char convert_help[] =
    "Usage: rrctl convert FILE|URL [--output-container URI] [--id ID] [--wait]\n"
    "                     [--storage DIR]\n"
    "\n"
    "Convert a model (glTF/GLB, FBX, OBJ, PLY, … — whatever openrr-convert reads) into an\n"
    ".rrasset that session hosts load.\n"
    "\n"
    "  FILE                  a local model; the service reads files below its storage root\n"
    "                        only, so a file elsewhere is hard-linked (or copied) into\n"
    "                        <storage>/uploads/<id>/ with a .gltf's buffers and images and the\n"
    "                        model's <name>.ConversionSettings.json\n"
    "  URL                   an http(s) URL the service downloads; a query string is sent as\n"
    "                        the read SAS\n"
    "  --output-container U  where the asset goes: a file:/// directory below the storage root\n"
    "                        (default file://<storage>/converted/<id>, created)\n"
    "  --id ID               the conversion's id (default a random one); the same id and\n"
    "                        settings again is a harmless retry\n"
    "  --wait                follow the conversion to its end: a progress bar on a terminal,\n"
    "                        lines otherwise; prints the output asset's URI\n"
    "  --storage DIR         the service's storage root (openrrd's storage_root). Default:\n"
    "                        $OPENRR_STORAGE, else the login's --storage, else\n"
    "                        ./openrr-data/storage\n"
    "\n"
    "Examples:\n"
    "  rrctl convert ~/models/engine.gltf --wait\n"
    "  rrctl --json convert https://example.com/models/box.glb --id box-1 --wait\n"
    "  rrctl convert /srv/openrr/storage/in/ship.fbx \\\n"
    "      --output-container file:///srv/openrr/storage/assets --wait\n";

/* Append @p in to @p out percent-encoding all but RFC 3986's unreserved characters and '/'. */
static bool uri_append(char *out, size_t size, const char *in)
{
    size_t n = strlen(out);
    for (const unsigned char *p = (const unsigned char *)in; *p != '\0'; p++) {
        bool plain = (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
                     (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' || *p == '_' || *p == '~' ||
                     *p == '/';
        if (n + (plain ? 1 : 3) + 1 > size) {
            return false;
        }
        if (plain) {
            out[n++] = (char)*p;
        } else {
            snprintf(out + n, 4, "%%%02X", *p);
            n += 3;
        }
    }
    out[n] = '\0';
    return true;
}

static bool file_uri(char *out, size_t size, const char *path)
{
    snprintf(out, size, "file://");
    return uri_append(out, size, path);
}

/* Decode %XX in place; false for a malformed escape or %00. */
static bool percent_decode(char *s)
{
    char *w = s;
    for (char *r = s; *r != '\0'; r++) {
        if (*r != '%') {
            *w++ = *r;
            continue;
        }
        unsigned v;
        if (sscanf(r + 1, "%2x", &v) != 1 || r[1] == '\0' || r[2] == '\0' || v == 0) {
            return false;
        }
        *w++ = (char)v;
        r += 2;
    }
    *w = '\0';
    return true;
}

static bool under(const char *root, const char *path)
{
    size_t n = strlen(root);
    return strncmp(root, path, n) == 0 &&
           (path[n] == '/' || path[n] == '\0' || (n == 1 && root[0] == '/'));
}

static bool mkdirs(const char *dir)
{
    char p[PATH_MAX];
    if ((size_t)snprintf(p, sizeof(p), "%s", dir) >= sizeof(p)) {
        errno = ENAMETOOLONG;
        return false;
    }
    for (char *s = p + 1;; s++) {
        if (*s == '/' || *s == '\0') {
            char c = *s;
            *s = '\0';
            if (mkdir(p, 0777) != 0 && errno != EEXIST) {
                return false;
            }
            *s = c;
            if (c == '\0') {
                return true;
            }
        }
    }
}

/* Hard-link @p src to @p dst, or copy it when a link cannot be made. */
static bool link_or_copy(const char *src, const char *dst, char *err, size_t err_size)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof(dir), "%s", dst);
    char *slash = strrchr(dir, '/');
    if (slash != NULL && slash != dir) {
        *slash = '\0';
        if (!mkdirs(dir)) {
            snprintf(err, err_size, "cannot create %s: %s", dir, strerror(errno));
            return false;
        }
    }
    if (link(src, dst) == 0) {
        return true;
    }
    int in = open(src, O_RDONLY | O_CLOEXEC);
    if (in < 0) {
        snprintf(err, err_size, "cannot read %s: %s", src, strerror(errno));
        return false;
    }
    int out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (out < 0) {
        snprintf(err, err_size, "cannot create %s: %s", dst, strerror(errno));
        close(in);
        return false;
    }
    char buf[65536];
    bool ok = true;
    for (;;) {
        ssize_t n = read(in, buf, sizeof(buf));
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            snprintf(err, err_size, "cannot read %s: %s", src, strerror(errno));
            ok = false;
            break;
        }
        if (n == 0) {
            break;
        }
        for (ssize_t off = 0; off < n;) {
            ssize_t w = write(out, buf + off, (size_t)(n - off));
            if (w < 0 && errno == EINTR) {
                continue;
            }
            if (w <= 0) {
                snprintf(err, err_size, "cannot write %s: %s", dst, strerror(errno));
                ok = false;
                break;
            }
            off += w;
        }
        if (!ok) {
            break;
        }
    }
    close(in);
    if (close(out) != 0 && ok) {
        snprintf(err, err_size, "cannot write %s: %s", dst, strerror(errno));
        ok = false;
    }
    if (!ok) {
        unlink(dst);
    }
    return ok;
}

/* A relative path that stays inside its directory. */
static bool relative_ok(const char *p)
{
    if (p[0] == '\0' || p[0] == '/') {
        return false;
    }
    for (const char *s = p; *s != '\0';) {
        size_t n = strcspn(s, "/");
        if (n == 2 && s[0] == '.' && s[1] == '.') {
            return false;
        }
        s += n;
        if (*s == '/') {
            s++;
        }
    }
    return true;
}

/* The relative files a .gltf names (buffers, images, glTF 1 shaders), percent-decoded, into @p out (each
 * malloc'd). Returns the count, or −1 with a message. */
static int gltf_files(const char *gltf, char **out, int max, char *err, size_t err_size)
{
    json_error_t jerr;
    json_t *root = json_load_file(gltf, 0, &jerr);
    if (root == NULL) {
        snprintf(err, err_size, "%s is not JSON (line %d: %s)", gltf, jerr.line, jerr.text);
        return -1;
    }
    int count = 0;
    /* glTF 2 lists them in arrays; glTF 1 in objects keyed by id, with shaders besides. */
    const char *lists[] = {"buffers", "images", "shaders"};
    for (size_t a = 0; a < 3; a++) {
        json_t *list = json_object_get(root, lists[a]);
        void *iter = json_is_object(list) ? json_object_iter(list) : NULL;
        size_t n = json_is_array(list) ? json_array_size(list) : 0;
        for (size_t i = 0; i < n || iter != NULL; i++) {
            json_t *item = iter != NULL ? json_object_iter_value(iter) : json_array_get(list, i);
            if (iter != NULL) {
                iter = json_object_iter_next(list, iter);
            }
            const char *uri = json_string_value(json_object_get(item, "uri"));
            if (uri == NULL || strncmp(uri, "data:", 5) == 0 || strstr(uri, "://") != NULL) {
                continue; /* embedded, or fetched by the service itself */
            }
            char *path = strdup(uri);
            if (path == NULL || !percent_decode(path) || !relative_ok(path)) {
                snprintf(err, err_size,
                         "%s names '%s', which is not a file beside it or below it; put the "
                         "model and its files under the storage root yourself",
                         gltf, uri);
                free(path);
                goto fail;
            }
            bool dup = false;
            for (int k = 0; k < count; k++) {
                dup |= strcmp(out[k], path) == 0;
            }
            if (dup) {
                free(path);
                continue;
            }
            if (count == max) {
                free(path);
                snprintf(err, err_size, "%s names more than %d files", gltf, max);
                goto fail;
            }
            out[count++] = path;
        }
    }
    json_decref(root);
    return count;
fail:
    json_decref(root);
    for (int k = 0; k < count; k++) {
        free(out[k]);
    }
    return -1;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcasecmp(s + a - b, suffix) == 0;
}

/* Put @p model (a realpath) and what it needs into @p dir. */
static bool upload(const char *model, const char *dir, char *err, size_t err_size)
{
    char src_dir[PATH_MAX], dst[PATH_MAX], src[PATH_MAX];
    snprintf(src_dir, sizeof(src_dir), "%s", model);
    char *slash = strrchr(src_dir, '/');
    const char *base = model + (slash - src_dir) + 1;
    *slash = '\0';
    if ((size_t)snprintf(dst, sizeof(dst), "%s/%s", dir, base) >= sizeof(dst) ||
        !link_or_copy(model, dst, err, err_size)) {
        return false;
    }
    /* <model>.ConversionSettings.json: the name without its extension. */
    char stem[NAME_MAX + 1];
    snprintf(stem, sizeof(stem), "%s", base);
    char *dot = strrchr(stem, '.');
    if (dot != NULL && dot != stem) {
        *dot = '\0';
    }
    if ((size_t)snprintf(src, sizeof(src), "%s/%s.ConversionSettings.json", src_dir, stem) <
            sizeof(src) &&
        access(src, R_OK) == 0) {
        if ((size_t)snprintf(dst, sizeof(dst), "%s/%s.ConversionSettings.json", dir, stem) >=
                sizeof(dst) ||
            !link_or_copy(src, dst, err, err_size)) {
            return false;
        }
    }
    if (!ends_with(base, ".gltf")) {
        return true;
    }
    char *files[MAX_GLTF_FILES];
    int n = gltf_files(model, files, MAX_GLTF_FILES, err, err_size);
    if (n < 0) {
        return false;
    }
    bool ok = true;
    for (int i = 0; i < n && ok; i++) {
        if ((size_t)snprintf(src, sizeof(src), "%s/%s", src_dir, files[i]) >= sizeof(src) ||
            (size_t)snprintf(dst, sizeof(dst), "%s/%s", dir, files[i]) >= sizeof(dst)) {
            snprintf(err, err_size, "%s: path too long", files[i]);
            ok = false;
        } else if (access(src, R_OK) != 0) {
            snprintf(err, err_size, "%s names %s, which cannot be read: %s", model, src,
                     strerror(errno));
            ok = false;
        } else {
            ok = link_or_copy(src, dst, err, err_size);
        }
    }
    for (int i = 0; i < n; i++) {
        free(files[i]);
    }
    return ok;
}

/* The storage root as realpath() sees it, or NULL with a message printed. */
static char *storage_root(const struct rrctl *rc, const struct rrctl_config *cfg, const char *flag)
{
    const char *root = flag;
    const char *from = "--storage";
    if (root == NULL && getenv("OPENRR_STORAGE") != NULL && getenv("OPENRR_STORAGE")[0]) {
        root = getenv("OPENRR_STORAGE");
        from = "$OPENRR_STORAGE";
    }
    if (root == NULL && cfg->storage != NULL) {
        root = cfg->storage;
        from = "the login's storage setting";
    }
    if (root == NULL) {
        root = "./openrr-data/storage";
        from = "the default";
    }
    char *real = realpath(root, NULL);
    if (real == NULL) {
        rrctl_fail(rc, RRCTL_FAILED,
                   "the service's storage root %s (%s) does not exist here: pass --storage DIR "
                   "(openrrd's storage_root, by default <data>/storage)",
                   root, from);
    }
    return real;
}

static void show_conversion(const struct rrctl *rc, const struct rr_conversion_properties *p)
{
    if (rc->json) {
        rrctl_print_conversion_json(p);
    } else if (p->status == RR_CONVERSION_SUCCEEDED) {
        printf("%s\n", p->output_asset_uri);
    } else {
        printf("conversion %s: %s\n", p->id, rr_conversion_status_str(p->status));
    }
}

static int follow(struct rrctl *rc, struct rr_frontend *fe, struct rr_conversion_properties *p)
{
    struct rrctl_progress prog;
    rrctl_progress_init(&prog);
    char id[sizeof(p->id)];
    snprintf(id, sizeof(id), "%s", p->id);
    for (;;) {
        char text[300];
        snprintf(text, sizeof(text), "conversion %.64s: %s", p->id,
                 rr_conversion_status_str(p->status));
        rrctl_progress_show(&prog, p->progress, text);
        if (p->status == RR_CONVERSION_SUCCEEDED || p->status == RR_CONVERSION_FAILED ||
            p->status == RR_CONVERSION_CANCELLED) {
            rrctl_progress_done(&prog);
            break;
        }
        if (!rrctl_sleep_ms(POLL_MS)) {
            rrctl_progress_done(&prog);
            return rrctl_fail(rc, RRCTL_FAILED, "interrupted; conversion %s goes on in the service",
                              id);
        }
        struct rrctl_result res;
        enum rr_client_result r = rrctl_get_conversion(fe, id, p, &res);
        if (r != RR_CLIENT_SUCCESS) {
            rrctl_progress_done(&prog);
            return rrctl_fail_sdk(rc, r, res.message, "convert");
        }
    }
    show_conversion(rc, p);
    if (p->status != RR_CONVERSION_SUCCEEDED) {
        fprintf(stderr, "rrctl: conversion %s %s%s%s%s%s\n", p->id,
                rr_conversion_status_str(p->status), p->error_code[0] ? ": " : "", p->error_code,
                p->error_message[0] ? ": " : "", p->error_message);
        return RRCTL_FAILED;
    }
    return RRCTL_OK;
}

int rrctl_cmd_convert(struct rrctl *rc, int argc, char **argv)
{
    struct rrctl_opt opts[] = {
        {"output-container", true, NULL, false},
        {"id", true, NULL, false},
        {"wait", false, NULL, false},
        {"storage", true, NULL, false},
    };
    const size_t n = sizeof(opts) / sizeof(opts[0]);
    if (!rrctl_parse(rc, argc, argv, opts, n)) {
        return RRCTL_USAGE;
    }
    if (rc->help) {
        fputs(convert_help, stdout);
        return RRCTL_OK;
    }
    if (rc->npos != 1) {
        return rrctl_usage_error(rc, "give one model: a file or an http(s) URL");
    }
    const char *model = rc->pos[0];
    const char *out_container = rrctl_opt(opts, n, "output-container")->value;
    char id[257];
    const char *given_id = rrctl_opt(opts, n, "id")->value;
    if (given_id != NULL) {
        if ((size_t)snprintf(id, sizeof(id), "%s", given_id) >= sizeof(id)) {
            return rrctl_usage_error(rc, "--id is at most 256 characters");
        }
    } else if (!rrctl_random_id(id)) {
        return rrctl_fail(rc, RRCTL_FAILED, "no random bytes for an id");
    }
    for (const char *c = id; *c != '\0'; c++) {
        if (!((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') ||
              *c == '-' || *c == '_')) {
            return rrctl_usage_error(rc, "--id is made of A-Z a-z 0-9 - _");
        }
    }
    bool is_url = strncasecmp(model, "http://", 7) == 0 || strncasecmp(model, "https://", 8) == 0;

    struct rrctl_config cfg;
    int status = rrctl_config_load(rc, &cfg);
    if (status != RRCTL_OK) {
        return status;
    }
    char *root = NULL;
    char in_container[PATH_MAX * 3 + 16], in_path[PATH_MAX], out_uri[PATH_MAX * 3 + 16];
    char *sas = NULL;
    char err[3 * PATH_MAX];
    if (!is_url || out_container == NULL) {
        root = storage_root(rc, &cfg, rrctl_opt(opts, n, "storage")->value);
        if (root == NULL) {
            rrctl_config_clear(&cfg);
            return RRCTL_FAILED;
        }
    }
    if (is_url) {
        /* container = everything before the last '/' of the path; the query is the SAS. */
        char url[8192];
        if ((size_t)snprintf(url, sizeof(url), "%s", model) >= sizeof(url)) {
            status = rrctl_usage_error(rc, "the URL is too long");
            goto out;
        }
        /* The query is a secret (a SAS): out of argv too, which ps shows. */
        char *argq = strchr((char *)model, '?');
        if (argq != NULL) {
            OPENSSL_cleanse(argq + 1, strlen(argq + 1));
        }
        char *q = strpbrk(url, "?#");
        if (q != NULL) {
            if (*q == '?' && q[1] != '\0') {
                sas = strndup(q + 1, strcspn(q + 1, "#"));
            }
            OPENSSL_cleanse(q, strlen(q));
            *q = '\0';
        }
        char *slash = strrchr(url, '/');
        if (slash == NULL || slash < strstr(url, "://") + 3 || slash[1] == '\0') {
            status = rrctl_usage_error(rc, "the URL names no file");
            goto out;
        }
        *slash = '\0';
        snprintf(in_container, sizeof(in_container), "%s", url);
        snprintf(in_path, sizeof(in_path), "%s", slash + 1);
        if (!percent_decode(in_path)) {
            status = rrctl_usage_error(rc, "the URL's file name has a bad %%-escape");
            goto out;
        }
    } else {
        const char *local = model;
        char decoded[PATH_MAX];
        if (strncmp(model, "file://", 7) == 0) {
            snprintf(decoded, sizeof(decoded), "%s", model + 7);
            if (!percent_decode(decoded) || decoded[0] != '/') {
                status = rrctl_usage_error(rc, "'%s' is not a local file:/// URI", model);
                goto out;
            }
            local = decoded;
        }
        char *real = realpath(local, NULL);
        struct stat st;
        if (real == NULL || stat(real, &st) != 0 || !S_ISREG(st.st_mode)) {
            status = rrctl_fail(rc, RRCTL_FAILED, "%s: %s", local,
                                real == NULL ? strerror(errno) : "not a regular file");
            free(real);
            goto out;
        }
        char dir[PATH_MAX];
        snprintf(dir, sizeof(dir), "%s", real);
        char *slash = strrchr(dir, '/');
        snprintf(in_path, sizeof(in_path), "%s", slash + 1);
        *slash = '\0';
        if (!under(root, real)) {
            if ((size_t)snprintf(dir, sizeof(dir), "%s/uploads/%s", root, id) >= sizeof(dir)) {
                free(real);
                status = rrctl_fail(rc, RRCTL_FAILED, "the upload path is too long");
                goto out;
            }
            if (!rc->json) {
                fprintf(stderr, "putting %s into the service's storage: %s\n", real, dir);
            }
            if (!upload(real, dir, err, sizeof(err))) {
                free(real);
                status = rrctl_fail(rc, RRCTL_FAILED, "%s", err);
                goto out;
            }
        }
        free(real);
        if (!file_uri(in_container, sizeof(in_container), dir[0] ? dir : "/")) {
            status = rrctl_fail(rc, RRCTL_FAILED, "the input path is too long");
            goto out;
        }
    }
    if (out_container == NULL) {
        char dir[PATH_MAX];
        if ((size_t)snprintf(dir, sizeof(dir), "%s/converted/%s", root, id) >= sizeof(dir) ||
            !mkdirs(dir)) {
            status = rrctl_fail(rc, RRCTL_FAILED, "cannot create %s/converted/%s: %s", root, id,
                                strerror(errno));
            goto out;
        }
        if (!file_uri(out_uri, sizeof(out_uri), dir)) {
            status = rrctl_fail(rc, RRCTL_FAILED, "the output path is too long");
            goto out;
        }
        out_container = out_uri;
    }

    struct rr_frontend *fe = NULL;
    status = rrctl_frontend(rc, &cfg, &fe);
    if (status != RRCTL_OK) {
        goto out;
    }
    struct rr_conversion_input in = {.storage_container_uri = in_container,
                                     .relative_input_asset_path = in_path,
                                     .read_sas = sas};
    struct rr_conversion_output outl = {.storage_container_uri = out_container};
    struct rr_conversion_properties p;
    struct rrctl_result res;
    enum rr_client_result r = rrctl_start_conversion(fe, id, &in, &outl, &p, &res);
    if (r != RR_CLIENT_SUCCESS) {
        status = rrctl_fail_sdk(rc, r, res.message, "convert");
    } else if (rrctl_opt(opts, n, "wait")->seen) {
        status = follow(rc, fe, &p);
    } else {
        show_conversion(rc, &p);
    }
    rr_frontend_release(&fe);
out:
    if (sas != NULL) {
        OPENSSL_cleanse(sas, strlen(sas));
        free(sas);
    }
    free(root);
    rrctl_config_clear(&cfg);
    return status;
}
