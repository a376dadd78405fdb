/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_tmpdir — a scratch directory for a fuzz target that works on files (a store, a storage
 * root): under /dev/shm when it can (no disk I/O per input), else $TMPDIR or /tmp, named
 * <name>.<pid>.XXXXXX. The target removes it at exit; a run that crashed cannot, so each start
 * first removes the directories of processes that are gone.
 * Single-threaded: call from LLVMFuzzerInitialize and an atexit handler.
 */
#ifndef FUZZ_TMPDIR_H
#define FUZZ_TMPDIR_H

#include "fuzz_check.h"

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int fuzz_tmpdir_remove_entry(const char *path, const struct stat *st, int type,
                                    struct FTW *ftw)
{
    (void)st;
    (void)type;
    (void)ftw;
    remove(path);
    return 0;
}

/* Remove @p path and everything below it (links removed, not followed). */
static inline void fuzz_tmpdir_remove(const char *path)
{
    if (path[0] != '\0') {
        nftw(path, fuzz_tmpdir_remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    }
}

/* Make the directory into @p out (PATH_MAX bytes). */
static inline void fuzz_tmpdir_make(const char *name, char out[PATH_MAX])
{
    struct stat st;
    const char *base = "/dev/shm";
    if (stat(base, &st) != 0 || !S_ISDIR(st.st_mode) || access(base, W_OK) != 0) {
        base = getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp";
    }
    DIR *d = opendir(base);
    size_t n = strlen(name);
    for (struct dirent *e = d != NULL ? readdir(d) : NULL; e != NULL; e = readdir(d)) {
        if (strncmp(e->d_name, name, n) != 0 || e->d_name[n] != '.') {
            continue;
        }
        char *end = NULL;
        long pid = strtol(e->d_name + n + 1, &end, 10);
        if (pid > 0 && end != NULL && *end == '.' && kill((pid_t)pid, 0) != 0 && errno == ESRCH) {
            char stale[PATH_MAX];
            snprintf(stale, sizeof stale, "%s/%s", base, e->d_name);
            fuzz_tmpdir_remove(stale);
        }
    }
    if (d != NULL) {
        closedir(d);
    }
    snprintf(out, PATH_MAX, "%s/%s.%ld.XXXXXX", base, name, (long)getpid());
    CHECK(mkdtemp(out) != NULL);
}

#endif
