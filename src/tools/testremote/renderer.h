/* SPDX-License-Identifier: Apache-2.0 */
/*
 * renderer — how openrr-testremote turns a scene description into a submitted frame: on the CPU
 * into RGBA memory (scene_cpu) or with OpenGL into a texture (scene_gl). The streaming loop only
 * knows this interface, so both paths are paced, timed and reported the same way.
 *
 * Threads: one thread (the main thread) creates, uses and destroys a renderer; a GL renderer's
 * context is current on it.
 */
#ifndef TR_RENDERER_H
#define TR_RENDERER_H

#include "scene.h"

#include <openrr/stream.h>

#include <stdbool.h>
#include <stddef.h>

struct renderer {
    const char *name; /* "cpu" or "gl", for the summary */
    /* Draw @p frame completely (a GL renderer waits for the GPU, so that the render time
     * reported to the player is true). false with the reason in @p err. */
    bool (*render)(struct renderer *self, const struct scene_frame *frame, char *err,
                   size_t err_size);
    /* Hand the last drawn image to @p remote. */
    enum rr_result (*submit)(struct renderer *self, struct rr_stream_remote *remote,
                             const struct rr_stream_submit_info *info);
    void (*destroy)(struct renderer *self);
};

static inline bool renderer_render(struct renderer *r, const struct scene_frame *frame, char *err,
                                   size_t err_size)
{
    return r->render(r, frame, err, err_size);
}

static inline enum rr_result renderer_submit(struct renderer *r, struct rr_stream_remote *remote,
                                             const struct rr_stream_submit_info *info)
{
    return r->submit(r, remote, info);
}

/* Free *@p r_ptr and set it to NULL. NULL ok. */
static inline void renderer_destroy(struct renderer **r_ptr)
{
    if (*r_ptr != NULL) {
        (*r_ptr)->destroy(*r_ptr);
        *r_ptr = NULL;
    }
}

#endif
