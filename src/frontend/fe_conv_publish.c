/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fe_conv_publish — a conversion's outputs into the output container: out/<name>.rrasset,
 * .info.json and .result.json copied to <container>/<blobPrefix><outputAssetFilename> (the
 * other two renamed to match), each written under a hidden temporary name and renamed when
 * complete, so that a reader never sees half a file; the asset comes last, so that its info
 * is there when it appears. Only file:// containers under the storage root so far (an HTTP PUT
 * with the write SAS is a later step).
 *
 * Threads: the worker thread that owns the job.
 */
#include "fe_conv_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define COPY_CHUNK (1u << 20)

static bool copy_fail(struct fe_conv_job *job, const char *what, int e)
{
    if (e == ENOSPC || e == EDQUOT) {
        return fe_conv_fail(job, "OutputError", "the output container's storage is full (%s)",
                            what);
    }
    return fe_conv_fail(job, "OutputError", "writing %s to the output container failed: %s", what,
                        strerror(e));
}

/* Copy the bytes of @p in to @p out: copy_file_range (a reflink or in-kernel copy where the
 * file system can), read/write where it cannot. */
static bool copy_bytes(int in, int out, int *out_errno)
{
    bool plain = false;
    for (;;) {
        if (!plain) {
            ssize_t n = copy_file_range(in, NULL, out, NULL, COPY_CHUNK * 64, 0);
            if (n > 0) {
                continue;
            }
            if (n == 0) {
                return true;
            }
            if (errno == EINTR) {
                continue;
            }
            if (errno != EXDEV && errno != ENOSYS && errno != EOPNOTSUPP && errno != EINVAL) {
                *out_errno = errno;
                return false;
            }
            plain = true;
        }
        static _Thread_local char buf[64 * 1024];
        ssize_t n = read(in, buf, sizeof(buf));
        if (n == 0) {
            return true;
        }
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            *out_errno = errno;
            return false;
        }
        for (ssize_t done = 0; done < n;) {
            ssize_t w = write(out, buf + done, (size_t)(n - done));
            if (w < 0) {
                if (errno == EINTR) {
                    continue;
                }
                *out_errno = errno;
                return false;
            }
            done += w;
        }
    }
}

/* out/<job->name><suffix> → <dir>/<base><suffix>, through a temporary name. */
static bool publish_file(struct fe_conv_job *job, const char *dir, const char *base,
                         const char *suffix, bool optional)
{
    char src[PATH_MAX];
    char dst[PATH_MAX];
    char tmp[PATH_MAX];
    char what[NAME_MAX + 32];
    snprintf(what, sizeof(what), "%s%s", base, suffix);
    if ((size_t)snprintf(src, sizeof(src), "%s/%s%s", job->out_dir, job->name, suffix) >=
            sizeof(src) ||
        (size_t)snprintf(dst, sizeof(dst), "%s/%s%s", dir, base, suffix) >= sizeof(dst) ||
        (size_t)snprintf(tmp, sizeof(tmp), "%s/.%s%s.%d.tmp", dir, base, suffix, (int)gettid()) >=
            sizeof(tmp)) {
        return fe_conv_fail(job, "OutputError", "the output path is too long");
    }
    int in = open(src, O_RDONLY | O_CLOEXEC);
    if (in < 0) {
        if (optional && errno == ENOENT) {
            return true;
        }
        return fe_conv_fail(job, "OutputError", "openrr-convert's %s%s cannot be read: %s",
                            job->name, suffix, strerror(errno));
    }
    int out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (out < 0) {
        int e = errno;
        close(in);
        return copy_fail(job, what, e);
    }
    int e = 0;
    bool ok = copy_bytes(in, out, &e);
    if (ok && fsync(out) != 0) {
        ok = false;
        e = errno;
    }
    if (close(out) != 0 && ok) {
        ok = false;
        e = errno;
    }
    close(in);
    if (ok && rename(tmp, dst) != 0) {
        ok = false;
        e = errno;
    }
    if (!ok) {
        unlink(tmp);
        return copy_fail(job, what, e);
    }
    return true;
}

/* The directory the outputs go to (made as needed), every step checked to stay under the
 * root: a symbolic link in the container cannot lead the copy elsewhere. */
static bool output_dir(struct fe_conv_job *job, char *dir, size_t dir_size)
{
    char container[PATH_MAX];
    if (!job->s.out_is_file) {
        return fe_conv_fail(job, "OutputContainerNotSupported",
                            "only file:// output containers are supported so far (an upload "
                            "to http(s) storage is not implemented yet)");
    }
    if (job->storage_root == NULL) {
        return fe_conv_fail(job, "InvalidOutputLocation", "the storage root does not exist");
    }
    if (!fe_conv_file_uri_path(job->s.out_container, container, sizeof(container))) {
        return fe_conv_fail(job, "InvalidOutputLocation",
                            "the output container is not a file:// path");
    }
    if (realpath(container, dir) == NULL) {
        return fe_conv_fail(job, "OutputError", "the output container %s does not exist",
                            container);
    }
    if (!fe_conv_under_root(job->storage_root, dir)) {
        return fe_conv_fail(job, "InvalidOutputLocation",
                            "the output container %s lies outside the storage root", container);
    }
    const char *rel = job->s.out_joined;
    const char *slash;
    while ((slash = strchr(rel, '/')) != NULL) {
        size_t n = strlen(dir);
        size_t seg = (size_t)(slash - rel);
        if (n + 1 + seg >= dir_size) {
            return fe_conv_fail(job, "OutputError", "the output path is too long");
        }
        if (seg > 0 && !(seg == 1 && rel[0] == '.')) {
            dir[n] = '/';
            memcpy(dir + n + 1, rel, seg);
            dir[n + 1 + seg] = '\0';
            if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
                return copy_fail(job, "a folder", errno);
            }
            char resolved[PATH_MAX];
            if (realpath(dir, resolved) == NULL) {
                return copy_fail(job, "a folder", errno);
            }
            if (!fe_conv_under_root(job->storage_root, resolved)) {
                return fe_conv_fail(job, "InvalidOutputLocation",
                                    "the output path leaves the storage root (a symbolic link?)");
            }
            snprintf(dir, dir_size, "%s", resolved);
        }
        rel = slash + 1;
    }
    return true;
}

static void sync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

enum fe_conv_stage_result fe_conv_publish(struct fe_conv_job *job, char *out_uri,
                                          size_t out_uri_size)
{
    char dir[PATH_MAX];
    if (!output_dir(job, dir, sizeof(dir))) {
        return FE_CONV_STAGE_FAILED;
    }
    /* The URI: the container as the user named it, then the path, percent-encoded. */
    size_t n = strlen(job->s.out_container);
    while (n > 0 && job->s.out_container[n - 1] == '/') {
        n--;
    }
    if (n + 2 > out_uri_size) {
        fe_conv_fail(job, "OutputError", "the output URI is too long");
        return FE_CONV_STAGE_FAILED;
    }
    memcpy(out_uri, job->s.out_container, n);
    out_uri[n] = '/';
    out_uri[n + 1] = '\0';
    if (!fe_conv_url_append(out_uri, out_uri_size, job->s.out_joined, false)) {
        fe_conv_fail(job, "OutputError", "the output URI is longer than %zu bytes",
                     out_uri_size - 1);
        return FE_CONV_STAGE_FAILED;
    }
    const char *base = job->name;
    if (!publish_file(job, dir, base, ".info.json", true) ||
        !publish_file(job, dir, base, ".result.json", true) ||
        !publish_file(job, dir, base, FE_CONV_EXT, false)) {
        return FE_CONV_STAGE_FAILED;
    }
    sync_dir(dir);
    return FE_CONV_STAGE_OK;
}

void fe_conv_publish_result_only(struct fe_conv_job *job)
{
    char dir[PATH_MAX];
    char code[FE_CODE_SIZE];
    char message[FE_MESSAGE_SIZE];
    /* Keep the conversion's own error: this copy is a courtesy. */
    char src[PATH_MAX];
    struct stat st;
    if ((size_t)snprintf(src, sizeof(src), "%s/%s.result.json", job->out_dir, job->name) >=
            sizeof(src) ||
        stat(src, &st) != 0) {
        return; /* nothing to copy: make no folders for it */
    }
    memcpy(code, job->code, sizeof(code));
    memcpy(message, job->message, sizeof(message));
    if (job->s.out_is_file && output_dir(job, dir, sizeof(dir)) &&
        publish_file(job, dir, job->name, ".result.json", true)) {
        sync_dir(dir);
    } else if (job->s.out_is_file) {
        fe_conv_log(FE_LOG_WARN, job->account_id, job->id,
                    "result.json not copied to the output container: %s", job->message);
    }
    memcpy(job->code, code, sizeof(code));
    memcpy(job->message, message, sizeof(message));
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path) == 0 || errno == ENOENT ? 0 : -1;
}

bool fe_conv_remove_tree(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0) {
        return errno == ENOENT;
    }
    return nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT) == 0;
}
