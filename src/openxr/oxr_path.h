/* SPDX-License-Identifier: Apache-2.0 */
/*
 * oxr_path — XrPath atoms of one instance: xrStringToPath interns a well-formed path string,
 * xrPathToString gives it back. Atoms are indices + 1 and never freed before the instance.
 *
 * Threads: any; each table has its own lock.
 */
#ifndef OXR_PATH_H
#define OXR_PATH_H

#include <openxr/openxr.h>

#include <pthread.h>
#include <stdbool.h>

struct oxr_paths {
    pthread_mutex_t lock;
    char **strings;
    uint32_t count;
    uint32_t capacity;
};

void oxr_paths_init(struct oxr_paths *p);
void oxr_paths_fini(struct oxr_paths *p);

/* Well-formed per the specification's path rules: starts with '/', components of lower-case
 * letters, digits, '-', '_' and '.', not only dots, no empty component, no trailing '/'. */
bool oxr_path_well_formed(const char *s);

/* Intern @p s. XR_ERROR_PATH_FORMAT_INVALID, XR_ERROR_PATH_COUNT_EXCEEDED,
 * XR_ERROR_OUT_OF_MEMORY. */
XrResult oxr_path_intern(struct oxr_paths *p, const char *s, XrPath *out_path);
/* The string of @p path (stable until fini), or NULL when it is not an atom of this table. */
const char *oxr_path_string(struct oxr_paths *p, XrPath path);

#endif
