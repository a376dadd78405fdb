/* SPDX-License-Identifier: Apache-2.0 */
/*
 * oxr_path — path atoms (see oxr_path.h). Lookup is linear: an application has a few hundred
 * paths at most and interns them at start-up.
 *
 * Threads: any; one lock per table.
 */
#include "oxr_path.h"

#include <stdlib.h>
#include <string.h>

#define MAX_PATHS 65536

void oxr_paths_init(struct oxr_paths *p)
{
    memset(p, 0, sizeof *p);
    pthread_mutex_init(&p->lock, NULL);
}

void oxr_paths_fini(struct oxr_paths *p)
{
    for (uint32_t i = 0; i < p->count; i++) {
        free(p->strings[i]);
    }
    free(p->strings);
    pthread_mutex_destroy(&p->lock);
    memset(p, 0, sizeof *p);
}

static bool path_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
}

bool oxr_path_well_formed(const char *s)
{
    size_t n = strnlen(s, XR_MAX_PATH_LENGTH);
    if (n == 0 || n >= XR_MAX_PATH_LENGTH || s[0] != '/' || s[n - 1] == '/') {
        return false;
    }
    size_t i = 1;
    while (i < n) {
        size_t start = i;
        bool only_dots = true;
        while (i < n && s[i] != '/') {
            if (!path_char(s[i])) {
                return false;
            }
            only_dots = only_dots && s[i] == '.';
            i++;
        }
        if (i == start || only_dots) {
            return false;
        }
        i++; /* the '/' */
    }
    return true;
}

XrResult oxr_path_intern(struct oxr_paths *p, const char *s, XrPath *out_path)
{
    if (!oxr_path_well_formed(s)) {
        return XR_ERROR_PATH_FORMAT_INVALID;
    }
    XrResult r = XR_SUCCESS;
    pthread_mutex_lock(&p->lock);
    for (uint32_t i = 0; i < p->count; i++) {
        if (strcmp(p->strings[i], s) == 0) {
            *out_path = (XrPath)i + 1;
            pthread_mutex_unlock(&p->lock);
            return XR_SUCCESS;
        }
    }
    if (p->count >= MAX_PATHS) {
        r = XR_ERROR_PATH_COUNT_EXCEEDED;
    } else if (p->count == p->capacity) {
        uint32_t grown = p->capacity == 0 ? 64 : p->capacity * 2;
        char **a = realloc(p->strings, (size_t)grown * sizeof *a);
        if (a == NULL) {
            r = XR_ERROR_OUT_OF_MEMORY;
        } else {
            p->strings = a;
            p->capacity = grown;
        }
    }
    if (r == XR_SUCCESS) {
        char *copy = strdup(s);
        if (copy == NULL) {
            r = XR_ERROR_OUT_OF_MEMORY;
        } else {
            p->strings[p->count++] = copy;
            *out_path = (XrPath)p->count;
        }
    }
    pthread_mutex_unlock(&p->lock);
    return r;
}

const char *oxr_path_string(struct oxr_paths *p, XrPath path)
{
    const char *s = NULL;
    pthread_mutex_lock(&p->lock);
    if (path != XR_NULL_PATH && path <= p->count) {
        s = p->strings[path - 1];
    }
    pthread_mutex_unlock(&p->lock);
    return s;
}
