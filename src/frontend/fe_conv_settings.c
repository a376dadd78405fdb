/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fe_conv_settings — a conversion's settings: parsed from the canonical JSON the store keeps,
 * checked before the API records them (fe_conv_check_settings) and again when a worker runs
 * them, plus the path and URL helpers the runner's other files share. The SAS fields are kept
 * apart so that nothing here ever prints one.
 *
 * Threads: any; every function is reentrant.
 */
#include "fe_conv.h"
#include "fe_conv_internal.h"

#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

/* Bounds on what a request may name: generous for real storage, small enough that every
 * derived path and URI (work dir, output URI) fits its buffer. */
#define MAX_CONTAINER_URI 2048
#define MAX_REL_PATH 1024
#define MAX_SAS 8192

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

/* ---- shared helpers --------------------------------------------------------------------- */

static bool has_control(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
        if (*p < 0x20 || *p == 0x7f) {
            return true;
        }
    }
    return false;
}

bool fe_conv_relative_ok(const char *path)
{
    if (path == NULL || path[0] == '\0' || path[0] == '/' || has_control(path)) {
        return false;
    }
    const char *seg = path;
    for (;;) {
        const char *end = strchr(seg, '/');
        size_t len = end != NULL ? (size_t)(end - seg) : strlen(seg);
        if (len == 2 && seg[0] == '.' && seg[1] == '.') {
            return false;
        }
        if (end == NULL) {
            return true;
        }
        seg = end + 1;
    }
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

bool fe_conv_percent_decode(char *s)
{
    char *w = s;
    for (const char *r = s; *r != '\0'; r++) {
        if (*r == '%') {
            int hi = hex_value(r[1]);
            int lo = hi >= 0 ? hex_value(r[2]) : -1;
            if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
                return false;
            }
            *w++ = (char)(hi * 16 + lo);
            r += 2;
        } else {
            *w++ = *r;
        }
    }
    *w = '\0';
    return true;
}

bool fe_conv_url_append(char *out, size_t size, const char *in, bool keep_escapes)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = strlen(out);
    for (const unsigned char *p = (const unsigned char *)in; *p != '\0'; p++) {
        unsigned char c = *p;
        bool plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                     c == '-' || c == '.' || c == '_' || c == '~' || c == '/';
        if (keep_escapes && c == '%' && hex_value((char)p[1]) >= 0 && hex_value((char)p[2]) >= 0) {
            if (n + 3 >= size) {
                return false;
            }
            memcpy(out + n, p, 3);
            n += 3;
            p += 2;
        } else if (plain) {
            if (n + 1 >= size) {
                return false;
            }
            out[n++] = (char)c;
        } else {
            if (n + 3 >= size) {
                return false;
            }
            out[n++] = '%';
            out[n++] = hex[c >> 4];
            out[n++] = hex[c & 15];
        }
    }
    out[n] = '\0';
    return true;
}

void fe_conv_redact_url(const char *url, char *out, size_t size)
{
    if (size == 0) {
        return;
    }
    size_t len = strcspn(url, "?#");
    if (len >= size) {
        len = size - 1;
    }
    memcpy(out, url, len);
    out[len] = '\0';
}

void fe_conv_format_bytes(uint64_t bytes, char *out, size_t size)
{
    static const char *const units[] = {"KiB", "MiB", "GiB", "TiB"};
    if (bytes < 1024 || bytes % 1024 != 0) {
        put(out, size, "%llu bytes", (unsigned long long)bytes);
        return;
    }
    uint64_t v = bytes / 1024;
    size_t u = 0;
    while (u + 1 < sizeof(units) / sizeof(units[0]) && v % 1024 == 0 && v >= 1024) {
        v /= 1024;
        u++;
    }
    put(out, size, "%llu %s", (unsigned long long)v, units[u]);
}

void fe_conv_sanitize_text(char *s)
{
    unsigned char *p = (unsigned char *)s;
    while (*p != '\0') {
        size_t len = *p < 0x80             ? 1
                     : (*p & 0xe0) == 0xc0 ? 2
                     : (*p & 0xf0) == 0xe0 ? 3
                     : (*p & 0xf8) == 0xf0 ? 4
                                           : 0;
        bool ok = len > 0;
        for (size_t i = 1; ok && i < len; i++) {
            ok = (p[i] & 0xc0) == 0x80; /* also stops at the NUL of a cut-off sequence */
        }
        /* Overlong forms, surrogates and code points past U+10FFFF. */
        if (ok && len == 2) {
            ok = *p >= 0xc2;
        } else if (ok && len == 3) {
            unsigned cp = (unsigned)(*p & 0x0f) << 12 | (unsigned)(p[1] & 0x3f) << 6;
            ok = cp >= 0x800 && (cp < 0xd800 || cp > 0xdfff);
        } else if (ok && len == 4) {
            unsigned cp = (unsigned)(*p & 0x07) << 18 | (unsigned)(p[1] & 0x3f) << 12;
            ok = cp >= 0x10000 && cp <= 0x10ffff;
        }
        if (!ok || (len == 1 && (*p < 0x20 || *p == 0x7f))) {
            *p++ = '?';
            continue;
        }
        p += len;
    }
}

bool fe_conv_file_uri_path(const char *uri, char *out, size_t size)
{
    if (strncasecmp(uri, "file://", 7) != 0) {
        return false;
    }
    const char *p = uri + 7;
    if (strncasecmp(p, "localhost/", 10) == 0) {
        p += 9;
    }
    if (p[0] != '/' || strpbrk(p, "?#") != NULL || strlen(p) >= size) {
        return false;
    }
    strcpy(out, p);
    return fe_conv_percent_decode(out) && out[0] == '/';
}

bool fe_conv_under_root(const char *root, const char *path)
{
    size_t n = strlen(root);
    if (n == 1 && root[0] == '/') {
        return path[0] == '/';
    }
    return strncmp(root, path, n) == 0 && (path[n] == '/' || path[n] == '\0');
}

char *fe_conv_storage_root(const struct fe_config *cfg)
{
    char configured[PATH_MAX];
    if (cfg->storage_root != NULL && cfg->storage_root[0] != '\0') {
        if ((size_t)snprintf(configured, sizeof(configured), "%s", cfg->storage_root) >=
            sizeof(configured)) {
            errno = ENAMETOOLONG;
            return NULL;
        }
    } else {
        const char *data = cfg->data_dir != NULL ? cfg->data_dir : FE_DEFAULT_DATA_DIR;
        if ((size_t)snprintf(configured, sizeof(configured), "%s/storage", data) >=
            sizeof(configured)) {
            errno = ENAMETOOLONG;
            return NULL;
        }
    }
    return realpath(configured, NULL);
}

/* ---- parsing ----------------------------------------------------------------------------- */

struct parse_ctx {
    char *target;
    size_t target_size;
    char *message;
    size_t message_size;
};

static bool bad(struct parse_ctx *c, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static bool bad(struct parse_ctx *c, const char *field, const char *fmt, ...)
{
    put(c->target, c->target_size, "%s", field);
    if (c->message != NULL && c->message_size > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(c->message, c->message_size, fmt, ap);
        va_end(ap);
        /* The API sends it as a JSON string: a decoded path's bytes or a cut may not be UTF-8. */
        fe_conv_sanitize_text(c->message);
    }
    return false;
}

/* A string member: *out = malloc'd copy, NULL when absent (and not @p required). */
static bool get_string(struct parse_ctx *c, json_t *obj, const char *key, const char *field,
                       bool required, size_t max_len, char **out)
{
    *out = NULL;
    json_t *v = json_object_get(obj, key);
    if (v == NULL || json_is_null(v)) {
        return required ? bad(c, field, "%s is required", field) : true;
    }
    if (!json_is_string(v)) {
        return bad(c, field, "%s must be a string", field);
    }
    if (json_string_length(v) > max_len) {
        return bad(c, field, "%s is longer than %zu bytes", field, max_len);
    }
    *out = strdup(json_string_value(v));
    if (*out == NULL) {
        return bad(c, field, "out of memory");
    }
    return true;
}

static bool check_container(struct parse_ctx *c, const char *uri, const char *field,
                            bool *out_is_file)
{
    if (uri[0] == '\0') {
        return bad(c, field, "%s is empty", field);
    }
    if (has_control(uri) || strchr(uri, ' ') != NULL) {
        return bad(c, field, "%s contains spaces or control characters", field);
    }
    if (strncasecmp(uri, "file:", 5) == 0) {
        char path[PATH_MAX];
        if (!fe_conv_file_uri_path(uri, path, sizeof(path))) {
            return bad(c, field,
                       "%s must be file:///absolute/path (no host, query or fragment, no %%00)",
                       field);
        }
        *out_is_file = true;
        return true;
    }
    if (strncasecmp(uri, "http://", 7) != 0 && strncasecmp(uri, "https://", 8) != 0) {
        return bad(c, field, "%s must be a file://, http:// or https:// URI", field);
    }
    *out_is_file = false;
    CURLU *u = curl_url();
    if (u == NULL) {
        return bad(c, field, "out of memory");
    }
    bool ok = curl_url_set(u, CURLUPART_URL, uri, 0) == CURLUE_OK;
    char *part = NULL;
    const char *why = NULL;
    if (!ok) {
        why = "is not a valid URL";
    } else if (curl_url_get(u, CURLUPART_USER, &part, 0) == CURLUE_OK) {
        why = "may not carry a user name or password";
    } else if (curl_url_get(u, CURLUPART_QUERY, &part, 0) == CURLUE_OK) {
        why = "may not carry a query: give the SAS in storageContainerReadListSas / "
              "storageContainerWriteSas";
    } else if (curl_url_get(u, CURLUPART_FRAGMENT, &part, 0) == CURLUE_OK) {
        why = "may not carry a fragment";
    } else if (curl_url_get(u, CURLUPART_HOST, &part, 0) != CURLUE_OK || part == NULL ||
               part[0] == '\0') {
        why = "has no host";
    }
    curl_free(part);
    curl_url_cleanup(u);
    /* The URI itself is not repeated: a misplaced SAS would be echoed. */
    return why == NULL ? true : bad(c, field, "%s %s", field, why);
}

static bool check_sas(struct parse_ctx *c, char **sas, const char *field)
{
    if (*sas == NULL) {
        return true;
    }
    char *s = *sas;
    if (s[0] == '?') {
        memmove(s, s + 1, strlen(s));
    }
    if (has_control(s) || strpbrk(s, " #") != NULL) {
        return bad(c, field, "%s must be a URL query string (no spaces, '#' or control characters)",
                   field);
    }
    if (s[0] == '\0') {
        free(s);
        *sas = NULL;
    }
    return true;
}

static char *concat(const char *a, const char *b)
{
    char *r = NULL;
    return asprintf(&r, "%s%s", a, b) < 0 ? NULL : r;
}

static const char *last_segment(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash != NULL ? slash + 1 : path;
}

static bool parse_input(struct parse_ctx *c, json_t *in, struct fe_conv_settings *s)
{
    if (!get_string(c, in, "storageContainerUri", "settings.inputLocation.storageContainerUri",
                    true, MAX_CONTAINER_URI, &s->in_container) ||
        !check_container(c, s->in_container, "settings.inputLocation.storageContainerUri",
                         &s->in_is_file) ||
        !get_string(c, in, "relativeInputAssetPath",
                    "settings.inputLocation.relativeInputAssetPath", true, MAX_REL_PATH,
                    &s->in_path) ||
        !get_string(c, in, "blobPrefix", "settings.inputLocation.blobPrefix", false, MAX_REL_PATH,
                    &s->in_prefix) ||
        !get_string(c, in, "storageContainerReadListSas",
                    "settings.inputLocation.storageContainerReadListSas", false, MAX_SAS,
                    &s->in_sas) ||
        !check_sas(c, &s->in_sas, "settings.inputLocation.storageContainerReadListSas")) {
        return false;
    }
    const char *rel_field = "settings.inputLocation.relativeInputAssetPath";
    size_t len = strlen(s->in_path);
    if (!fe_conv_relative_ok(s->in_path) || s->in_path[len - 1] == '/') {
        return bad(c, rel_field,
                   "%s must name a file relative to the container (not absolute, no '..', "
                   "no control characters)",
                   rel_field);
    }
    if (s->in_prefix == NULL && (s->in_prefix = strdup("")) == NULL) {
        return bad(c, rel_field, "out of memory");
    }
    if ((s->in_joined = concat(s->in_prefix, s->in_path)) == NULL) {
        return bad(c, rel_field, "out of memory");
    }
    if (!fe_conv_relative_ok(s->in_joined) || strlen(s->in_joined) > MAX_REL_PATH) {
        return bad(c, "settings.inputLocation.blobPrefix",
                   "settings.inputLocation.blobPrefix followed by relativeInputAssetPath must "
                   "be a relative path (not absolute, no '..', at most %d bytes)",
                   MAX_REL_PATH);
    }
    return true;
}

/* The input's name with its extension replaced: "cars/Car.fbx" → "Car.rrasset". */
static char *default_output_name(const char *in_path)
{
    const char *name = last_segment(in_path);
    const char *dot = strrchr(name, '.');
    size_t stem = dot != NULL && dot != name ? (size_t)(dot - name) : strlen(name);
    char *r = NULL;
    return asprintf(&r, "%.*s%s", (int)stem, name, FE_CONV_EXT) < 0 ? NULL : r;
}

static bool parse_output(struct parse_ctx *c, json_t *out, struct fe_conv_settings *s)
{
    const char *name_field = "settings.outputLocation.outputAssetFilename";
    if (!get_string(c, out, "storageContainerUri", "settings.outputLocation.storageContainerUri",
                    true, MAX_CONTAINER_URI, &s->out_container) ||
        !check_container(c, s->out_container, "settings.outputLocation.storageContainerUri",
                         &s->out_is_file) ||
        !get_string(c, out, "blobPrefix", "settings.outputLocation.blobPrefix", false, MAX_REL_PATH,
                    &s->out_prefix) ||
        !get_string(c, out, "outputAssetFilename", name_field, false, MAX_REL_PATH,
                    &s->out_filename) ||
        !get_string(c, out, "storageContainerWriteSas",
                    "settings.outputLocation.storageContainerWriteSas", false, MAX_SAS,
                    &s->out_sas) ||
        !check_sas(c, &s->out_sas, "settings.outputLocation.storageContainerWriteSas")) {
        return false;
    }
    if (s->out_filename == NULL) {
        if ((s->out_filename = default_output_name(s->in_path)) == NULL) {
            return bad(c, name_field, "out of memory");
        }
    } else {
        size_t len = strlen(s->out_filename);
        size_t ext = strlen(FE_CONV_EXT);
        if (len <= ext || strcmp(s->out_filename + len - ext, FE_CONV_EXT) != 0) {
            return bad(c, name_field, "%s must end in \"%s\"", name_field, FE_CONV_EXT);
        }
    }
    const char *base = last_segment(s->out_filename);
    size_t stem = strlen(base) - strlen(FE_CONV_EXT);
    if (!fe_conv_relative_ok(s->out_filename) || stem == 0 || stem > NAME_MAX - 16 ||
        (stem == 1 && base[0] == '.') || (stem == 2 && base[0] == '.' && base[1] == '.')) {
        return bad(c, name_field,
                   "%s must be a relative file name ending in \"%s\" (not absolute, no '..', "
                   "a name before the extension)",
                   name_field, FE_CONV_EXT);
    }
    if (s->out_prefix == NULL && (s->out_prefix = strdup("")) == NULL) {
        return bad(c, name_field, "out of memory");
    }
    if ((s->out_joined = concat(s->out_prefix, s->out_filename)) == NULL) {
        return bad(c, name_field, "out of memory");
    }
    if (!fe_conv_relative_ok(s->out_joined) || strlen(s->out_joined) > MAX_REL_PATH) {
        return bad(c, "settings.outputLocation.blobPrefix",
                   "settings.outputLocation.blobPrefix followed by outputAssetFilename must be "
                   "a relative path (not absolute, no '..', at most %d bytes)",
                   MAX_REL_PATH);
    }
    return true;
}

bool fe_conv_settings_parse(const char *json, struct fe_conv_settings *out, char *target,
                            size_t target_size, char *message, size_t message_size)
{
    struct parse_ctx c = {target, target_size, message, message_size};
    memset(out, 0, sizeof(*out));
    put(target, target_size, "%s", "");
    put(message, message_size, "%s", "");
    if (json == NULL) {
        return bad(&c, "settings", "settings is required");
    }
    json_error_t e;
    json_t *root = json_loads(json, JSON_REJECT_DUPLICATES, &e);
    if (root == NULL) {
        return bad(&c, "settings", "settings is not valid JSON (%s)", e.text);
    }
    bool ok = false;
    json_t *in = json_object_get(root, "inputLocation");
    json_t *outl = json_object_get(root, "outputLocation");
    if (!json_is_object(root)) {
        bad(&c, "settings", "settings must be an object");
    } else if (!json_is_object(in)) {
        bad(&c, "settings.inputLocation", "settings.inputLocation %s",
            in == NULL ? "is required" : "must be an object");
    } else if (!json_is_object(outl)) {
        bad(&c, "settings.outputLocation", "settings.outputLocation %s",
            outl == NULL ? "is required" : "must be an object");
    } else {
        ok = parse_input(&c, in, out) && parse_output(&c, outl, out);
    }
    json_decref(root);
    if (!ok) {
        fe_conv_settings_clear(out);
    }
    return ok;
}

static void free_secret(char **s)
{
    if (*s != NULL) {
        explicit_bzero(*s, strlen(*s));
        free(*s);
        *s = NULL;
    }
}

void fe_conv_settings_clear(struct fe_conv_settings *s)
{
    free(s->in_container);
    free(s->in_prefix);
    free(s->in_path);
    free_secret(&s->in_sas);
    free(s->out_container);
    free(s->out_prefix);
    free(s->out_filename);
    free_secret(&s->out_sas);
    free(s->in_joined);
    free(s->out_joined);
    memset(s, 0, sizeof(*s));
}

/* ---- fe_conv_check_settings ---------------------------------------------------------------- */

/* A file:// container: an existing directory that, symbolic links resolved, lies under the
 * storage root. */
static bool check_file_container(struct parse_ctx *c, const char *root, const char *uri,
                                 const char *field)
{
    char path[PATH_MAX];
    if (!fe_conv_file_uri_path(uri, path, sizeof(path))) {
        return bad(c, field, "%s must be file:///absolute/path", field);
    }
    if (root == NULL) {
        return bad(c, field,
                   "file:// containers are not available: the storage root does not "
                   "exist");
    }
    char resolved[PATH_MAX];
    if (realpath(path, resolved) == NULL) {
        return bad(c, field, "%s: the directory %s does not exist", field, path);
    }
    struct stat st;
    if (stat(resolved, &st) != 0 || !S_ISDIR(st.st_mode)) {
        return bad(c, field, "%s: %s is not a directory", field, path);
    }
    if (!fe_conv_under_root(root, resolved)) {
        return bad(c, field, "%s: %s lies outside the storage root %s", field, path, root);
    }
    return true;
}

bool fe_conv_check_settings(const struct fe_config *cfg, const char *settings_json, char *target,
                            size_t target_size, char *message, size_t message_size)
{
    struct fe_conv_settings s;
    if (!fe_conv_settings_parse(settings_json, &s, target, target_size, message, message_size)) {
        return false;
    }
    struct parse_ctx c = {target, target_size, message, message_size};
    bool ok = true;
    if (s.in_is_file || s.out_is_file) {
        char *root = cfg != NULL ? fe_conv_storage_root(cfg) : NULL;
        ok =
            (!s.in_is_file || check_file_container(&c, root, s.in_container,
                                                   "settings.inputLocation.storageContainerUri")) &&
            (!s.out_is_file || check_file_container(&c, root, s.out_container,
                                                    "settings.outputLocation.storageContainerUri"));
        free(root);
    }
    fe_conv_settings_clear(&s);
    return ok;
}
