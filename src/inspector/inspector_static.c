/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The page's static files, from the web root opened at create: "/" is index.html and
 * "/inspector/<path>" a file below the root. A path is served only when every segment is
 * made of [A-Za-z0-9._-] and none starts with '.', so "..", hidden files and odd encodings are
 * refused before the file system is asked. Runs on the connection threads.
 */
#include "inspector_internal.h"

#include <fcntl.h>
#include <microhttpd.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_FILE_BYTES (8u * 1024u * 1024u)

static const char *content_type(const char *path)
{
    static const struct {
        const char *ext;
        const char *type;
    } types[] = {
        {".html", "text/html; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},
        {".json", "application/json"},
        {".svg", "image/svg+xml"},
        {".png", "image/png"},
        {".ico", "image/x-icon"},
        {".txt", "text/plain; charset=utf-8"},
    };
    const char *dot = strrchr(path, '.');
    if (dot != NULL) {
        for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
            if (strcmp(dot, types[i].ext) == 0) {
                return types[i].type;
            }
        }
    }
    return "application/octet-stream";
}

/* True when @p rel (no leading '/') is a safe relative path. */
static bool safe_path(const char *rel)
{
    if (*rel == '\0' || strlen(rel) > 255) {
        return false;
    }
    bool segment_start = true;
    for (const char *p = rel; *p != '\0'; p++) {
        char ch = *p;
        if (ch == '/') {
            if (segment_start) {
                return false; /* empty segment */
            }
            segment_start = true;
            continue;
        }
        if (segment_start && ch == '.') {
            return false;
        }
        segment_start = false;
        bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                  (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-';
        if (!ok) {
            return false;
        }
    }
    return !segment_start;
}

static struct MHD_Response *text_response(const char *text)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_PERSISTENT);
    if (r != NULL) {
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
    }
    return r;
}

struct MHD_Response *rr_inspector_static_response(struct rr_inspector *insp, const char *path,
                                                  unsigned int *out_status)
{
    const char *rel = NULL;
    if (strcmp(path, "/") == 0 || strcmp(path, "/inspector") == 0 ||
        strcmp(path, "/inspector/") == 0) {
        rel = "index.html";
    } else if (strncmp(path, "/inspector/", 11) == 0) {
        rel = path + 11;
    } else if (path[0] == '/' && strchr(path + 1, '/') == NULL && safe_path(path + 1)) {
        /* A top-level name other than the page (favicon.ico, ...): not ours. */
        *out_status = MHD_HTTP_NOT_FOUND;
        return text_response("not found\n");
    }
    if (rel == NULL || !safe_path(rel)) {
        *out_status = MHD_HTTP_FORBIDDEN;
        return text_response("forbidden\n");
    }
    int fd = -1;
    if (insp->web_root_fd >= 0) {
        fd = openat(insp->web_root_fd, rel, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    }
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > MAX_FILE_BYTES) {
        if (fd >= 0) {
            close(fd);
        }
        *out_status = MHD_HTTP_NOT_FOUND;
        return text_response("not found\n");
    }
    /* The response owns fd once created. */
    struct MHD_Response *r = MHD_create_response_from_fd((size_t)st.st_size, fd);
    if (r == NULL) {
        close(fd);
        return NULL;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, content_type(rel));
    *out_status = MHD_HTTP_OK;
    return r;
}
