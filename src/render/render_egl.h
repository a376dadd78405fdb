/* SPDX-License-Identifier: Apache-2.0 */
/*
 * render_egl — the renderer's headless EGL display and OpenGL 4.5 core context: the first
 * EGL device (EGL_EXT_platform_device: a GPU, or Mesa's software device) or Mesa's
 * surfaceless platform, with a context that needs no surface and no config.
 * Threads: open makes the context current on the calling thread; close there too.
 */
#ifndef RR_RENDER_EGL_H
#define RR_RENDER_EGL_H

#include "render.h"

#include <epoxy/egl.h>

#include <stdbool.h>
#include <stddef.h>

struct rr_render_egl {
    EGLDisplay display;
    EGLContext context;
    const char *platform; /* "device" or "surfaceless" (static strings) */
};

/* Open a display of @p platform, create the context and make it current. On failure nothing
 * stays created and err says "no EGL display with OpenGL 4.5 core: <what failed>". */
bool rr_render_egl_open(enum rr_render_platform platform, struct rr_render_egl *out, char *err,
                        size_t err_size);
/* Release the context and the thread's EGL state. The display stays initialised: EGL displays
 * are per-process singletons that another user in the process (a second renderer, the player)
 * may share, and eglTerminate would invalidate their contexts too. Mesa's driver stays loaded
 * until exit (eglTerminate would also leave 240 bytes LeakSanitizer cannot suppress). */
void rr_render_egl_close(struct rr_render_egl *egl);

#endif
