/* SPDX-License-Identifier: Apache-2.0 */
/*
 * snapshot — PNGs of decoded frames, written by a worker thread. See snapshot.h.
 * Threads: the public functions on the player's thread; write_png() on the worker.
 */
#include "snapshot.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>

/* stb_image_write is a header-only library: this is the one file of the player that holds its
 * implementation. Its code is not ours to warn about. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-prototypes"
#pragma GCC diagnostic ignored "-Wshadow"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb_image_write.h>
#pragma GCC diagnostic pop

/* Larger than any frame the library sends (2 × 4096 wide); a corrupt size stops here. */
#define MAX_SIDE 16384u

/* A frame's planes copied out of the library, tightly packed. */
struct frame_copy {
    struct rr_stream_frame frame; /* plane[] point into data */
    uint8_t *data;
    size_t cap;
    bool valid;
};

struct snapshot {
    char *dir;
    uint32_t every;
    uint64_t seen;          /* new frames so far */
    struct frame_copy last; /* the newest frame, until handed to the worker */

    pthread_t thread;
    bool thread_started;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    /* Under lock. */
    struct frame_copy pending; /* due, not yet taken by the worker */
    bool has_pending;
    bool busy; /* the worker is writing a file */
    bool stop;
    bool failed;
    char error[512];
    uint64_t written;

    /* The worker's own. */
    struct frame_copy work;
    uint8_t *rgba;
    size_t rgba_cap;
};

bool snapshot_prepare_dir(const char *dir, char *err, size_t err_size)
{
    char path[PATH_MAX];
    size_t len = strlen(dir);
    if (len == 0 || len >= sizeof path) {
        snprintf(err, err_size, "the snapshot directory name is empty or too long");
        return false;
    }
    memcpy(path, dir, len + 1);
    /* mkdir -p: each parent in turn, then the directory itself. */
    for (size_t i = 1; i <= len; i++) {
        if (path[i] != '/' && path[i] != '\0') {
            continue;
        }
        char saved = path[i];
        path[i] = '\0';
        if (mkdir(path, 0777) != 0 && errno != EEXIST) {
            snprintf(err, err_size,
                     "cannot create the snapshot directory '%s': %s; give --snapshot a directory "
                     "you can write to",
                     path, strerror(errno));
            return false;
        }
        path[i] = saved;
    }
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        snprintf(err, err_size, "'%s' is not a directory; give --snapshot a directory", dir);
        return false;
    }
    return true;
}

/* ---- the worker ------------------------------------------------------------------------- */

struct png_sink {
    FILE *f;
    int error; /* errno of the first failed write; 0 = none */
};

static void sink_write(void *context, void *data, int size)
{
    struct png_sink *sink = context;
    if (sink->error == 0 && size > 0 && fwrite(data, 1, (size_t)size, sink->f) != (size_t)size) {
        sink->error = errno != 0 ? errno : EIO;
    }
}

/* Convert and write one frame. A temporary name and a rename keep a reader from ever seeing a
 * half-written PNG. */
static bool write_png(struct snapshot *s, const struct frame_copy *c, char *err, size_t err_size)
{
    const struct rr_stream_frame *f = &c->frame;
    size_t stride = (size_t)f->width * 4u;
    size_t need = stride * f->height;
    char path[PATH_MAX + 64];
    char tmp[PATH_MAX + 64];
    if (need > s->rgba_cap) {
        uint8_t *grown = realloc(s->rgba, need);
        if (grown == NULL) {
            snprintf(err, err_size, "out of memory converting frame %" PRIu64, f->frame_id);
            return false;
        }
        s->rgba = grown;
        s->rgba_cap = need;
    }
    enum rr_result r = rr_stream_frame_to_rgba(f, s->rgba, stride);
    if (r != RR_OK) {
        snprintf(err, err_size, "cannot convert frame %" PRIu64 " to RGBA: %s", f->frame_id,
                 rr_result_str(r));
        return false;
    }
    snprintf(path, sizeof path, "%s/frame-%" PRIu64 ".png", s->dir, f->frame_id);
    snprintf(tmp, sizeof tmp, "%s/.frame-%" PRIu64 ".png.tmp", s->dir, f->frame_id);
    struct png_sink sink = {.f = fopen(tmp, "wb")};
    if (sink.f == NULL) {
        snprintf(err, err_size, "cannot write %.400s: %s", path, strerror(errno));
        return false;
    }
    bool encoded = stbi_write_png_to_func(sink_write, &sink, (int)f->width, (int)f->height, 4,
                                          s->rgba, (int)stride) != 0;
    int error = sink.error;
    if (fclose(sink.f) != 0 && error == 0) {
        error = errno; /* a full disk often shows only here */
    }
    if (encoded && error == 0 && rename(tmp, path) != 0) {
        error = errno;
    }
    if (!encoded || error != 0) {
        remove(tmp);
        snprintf(err, err_size, "cannot write %.400s: %s", path,
                 encoded ? strerror(error) : "the PNG encoder ran out of memory");
        return false;
    }
    return true;
}

static void swap_copies(struct frame_copy *a, struct frame_copy *b)
{
    struct frame_copy t = *a;
    *a = *b;
    *b = t;
}

static void *worker_main(void *arg)
{
    struct snapshot *s = arg;
    pthread_mutex_lock(&s->lock);
    for (;;) {
        while (!s->has_pending && !s->stop) {
            pthread_cond_wait(&s->cond, &s->lock);
        }
        if (!s->has_pending) {
            break;
        }
        if (s->failed) { /* once a file failed, no more are attempted */
            s->has_pending = false;
            pthread_cond_broadcast(&s->cond);
            continue;
        }
        swap_copies(&s->work, &s->pending);
        s->has_pending = false;
        s->busy = true;
        pthread_cond_broadcast(&s->cond);
        pthread_mutex_unlock(&s->lock);

        char err[sizeof s->error];
        bool ok = write_png(s, &s->work, err, sizeof err);

        pthread_mutex_lock(&s->lock);
        s->busy = false;
        if (ok) {
            s->written++;
        } else if (!s->failed) {
            s->failed = true;
            memcpy(s->error, err, sizeof s->error);
        }
        pthread_cond_broadcast(&s->cond);
    }
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

/* ---- the player's side ------------------------------------------------------------------ */

bool snapshot_create(const char *dir, uint32_t every, struct snapshot **out_snapshot, char *err,
                     size_t err_size)
{
    *out_snapshot = NULL;
    struct snapshot *s = calloc(1, sizeof *s);
    if (s == NULL || (s->dir = strdup(dir)) == NULL) {
        free(s);
        snprintf(err, err_size, "out of memory");
        return false;
    }
    s->every = every != 0 ? every : 1;
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->cond, NULL);
    int e = pthread_create(&s->thread, NULL, worker_main, s);
    if (e != 0) {
        snprintf(err, err_size, "cannot start the snapshot thread: %s", strerror(e));
        snapshot_destroy(&s);
        return false;
    }
    s->thread_started = true;
    *out_snapshot = s;
    return true;
}

static void free_copy(struct frame_copy *c)
{
    free(c->data);
    memset(c, 0, sizeof *c);
}

void snapshot_destroy(struct snapshot **snapshot_ptr)
{
    struct snapshot *s = snapshot_ptr != NULL ? *snapshot_ptr : NULL;
    if (s == NULL) {
        return;
    }
    if (s->thread_started) {
        pthread_mutex_lock(&s->lock);
        s->stop = true;
        pthread_cond_broadcast(&s->cond);
        pthread_mutex_unlock(&s->lock);
        pthread_join(s->thread, NULL);
    }
    pthread_cond_destroy(&s->cond);
    pthread_mutex_destroy(&s->lock);
    free_copy(&s->last);
    free_copy(&s->pending);
    free_copy(&s->work);
    free(s->rgba);
    free(s->dir);
    free(s);
    *snapshot_ptr = NULL;
}

static void copy_plane(uint8_t *dst, size_t dst_stride, const uint8_t *src, int src_stride,
                       size_t rows)
{
    for (size_t y = 0; y < rows; y++) {
        memcpy(dst + y * dst_stride, src + (size_t)src_stride * y, dst_stride);
    }
}

/* Copy @p f's planes into @p c, growing it as needed. */
static bool copy_frame(struct frame_copy *c, const struct rr_stream_frame *f)
{
    size_t w = f->width, h = f->height;
    size_t cw = (w + 1) / 2, ch = (h + 1) / 2;
    c->valid = false;
    if (w == 0 || h == 0 || w > MAX_SIDE || h > MAX_SIDE || f->stride[0] < (int)w ||
        f->stride[1] < (int)cw || f->stride[2] < (int)cw || f->plane[0] == NULL ||
        f->plane[1] == NULL || f->plane[2] == NULL) {
        return true; /* nothing to keep of a frame without pixels */
    }
    size_t need = w * h + 2 * cw * ch;
    if (need > c->cap) {
        uint8_t *grown = realloc(c->data, need);
        if (grown == NULL) {
            return false;
        }
        c->data = grown;
        c->cap = need;
    }
    c->frame = *f;
    c->frame.plane[0] = c->data;
    c->frame.plane[1] = c->data + w * h;
    c->frame.plane[2] = c->data + w * h + cw * ch;
    c->frame.stride[0] = (int)w;
    c->frame.stride[1] = c->frame.stride[2] = (int)cw;
    copy_plane(c->data, w, f->plane[0], f->stride[0], h);
    copy_plane(c->data + w * h, cw, f->plane[1], f->stride[1], ch);
    copy_plane(c->data + w * h + cw * ch, cw, f->plane[2], f->stride[2], ch);
    c->valid = true;
    return true;
}

/* Give the newest frame to the worker; waits while the worker has one queued already. */
static void hand_over(struct snapshot *s)
{
    pthread_mutex_lock(&s->lock);
    while (s->has_pending && !s->failed) {
        pthread_cond_wait(&s->cond, &s->lock);
    }
    if (!s->failed) {
        swap_copies(&s->pending, &s->last);
        s->has_pending = true;
        pthread_cond_broadcast(&s->cond);
    }
    s->last.valid = false;
    pthread_mutex_unlock(&s->lock);
}

static bool has_failed(struct snapshot *s)
{
    pthread_mutex_lock(&s->lock);
    bool failed = s->failed;
    pthread_mutex_unlock(&s->lock);
    return failed;
}

bool snapshot_frame(struct snapshot *s, const struct rr_stream_frame *frame)
{
    s->seen++;
    if (has_failed(s)) {
        return true;
    }
    if (!copy_frame(&s->last, frame)) {
        return false;
    }
    bool due = s->seen == 1 || (s->seen - 1) % s->every == 0;
    if (due && s->last.valid) {
        hand_over(s);
    }
    return true;
}

bool snapshot_finish(struct snapshot *s)
{
    if (s->last.valid && !has_failed(s)) {
        hand_over(s);
    }
    pthread_mutex_lock(&s->lock);
    while (s->has_pending || s->busy) {
        pthread_cond_wait(&s->cond, &s->lock);
    }
    bool ok = !s->failed;
    pthread_mutex_unlock(&s->lock);
    return ok;
}

const char *snapshot_error(struct snapshot *s)
{
    pthread_mutex_lock(&s->lock);
    const char *e = s->failed ? s->error : NULL;
    pthread_mutex_unlock(&s->lock);
    return e;
}

uint64_t snapshot_count(struct snapshot *s)
{
    pthread_mutex_lock(&s->lock);
    uint64_t n = s->written;
    pthread_mutex_unlock(&s->lock);
    return n;
}
