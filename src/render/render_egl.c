/* SPDX-License-Identifier: Apache-2.0 */
/*
 * render_egl — see render_egl.h. Every EGL entry point used before a display exists is an EXT
 * one: libepoxy resolves the EGL 1.5 eglGetPlatformDisplay only through a display's version and
 * aborts when called without one.
 */
#include "render_egl.h"

#include <epoxy/gl.h>

#include <stdio.h>
#include <string.h>

#define NO_DISPLAY "no EGL display with OpenGL 4.5 core: "

static bool has_extension(const char *list, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = list; p && (p = strstr(p, name)) != NULL; p += n) {
        if ((p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
            return true;
    }
    return false;
}

static bool fail(char *err, size_t err_size, const char *what)
{
    if (err && err_size)
        snprintf(err, err_size, NO_DISPLAY "%s (EGL error 0x%04x)", what, (unsigned)eglGetError());
    return false;
}

/* The first device's display, EGL_NO_DISPLAY (with *why) when there is none. */
static EGLDisplay device_display(const char *client, const char **why)
{
    if (!has_extension(client, "EGL_EXT_platform_device") ||
        !(has_extension(client, "EGL_EXT_device_enumeration") ||
          has_extension(client, "EGL_EXT_device_base"))) {
        *why = "EGL_EXT_platform_device/EGL_EXT_device_enumeration not offered";
        return EGL_NO_DISPLAY;
    }
    EGLDeviceEXT devices[1];
    EGLint count = 0;
    if (!eglQueryDevicesEXT(1, devices, &count) || count < 1) {
        *why = "eglQueryDevicesEXT found no device";
        return EGL_NO_DISPLAY;
    }
    EGLDisplay d = eglGetPlatformDisplayEXT(EGL_PLATFORM_DEVICE_EXT, devices[0], NULL);
    if (d == EGL_NO_DISPLAY)
        *why = "eglGetPlatformDisplayEXT(EGL_PLATFORM_DEVICE_EXT) failed";
    return d;
}

static EGLDisplay surfaceless_display(const char *client, const char **why)
{
    if (!has_extension(client, "EGL_MESA_platform_surfaceless")) {
        *why = "EGL_MESA_platform_surfaceless not offered";
        return EGL_NO_DISPLAY;
    }
    EGLDisplay d =
        eglGetPlatformDisplayEXT(EGL_PLATFORM_SURFACELESS_MESA, EGL_DEFAULT_DISPLAY, NULL);
    if (d == EGL_NO_DISPLAY)
        *why = "eglGetPlatformDisplayEXT(EGL_PLATFORM_SURFACELESS_MESA) failed";
    return d;
}

/* Initialise @p d and create a current 4.5 core context; false with *why. */
static bool make_context(struct rr_render_egl *out, EGLDisplay d, const char **why)
{
    if (!eglInitialize(d, NULL, NULL)) {
        *why = "eglInitialize failed";
        return false;
    }
    const char *ext = eglQueryString(d, EGL_EXTENSIONS);
    if (!has_extension(ext, "EGL_KHR_surfaceless_context") ||
        !has_extension(ext, "EGL_KHR_no_config_context")) {
        *why = "EGL_KHR_surfaceless_context/EGL_KHR_no_config_context not offered";
        return false;
    }
    if (!eglBindAPI(EGL_OPENGL_API)) {
        *why = "eglBindAPI(EGL_OPENGL_API) failed";
        return false;
    }
    static const EGLint attribs[] = {EGL_CONTEXT_MAJOR_VERSION,
                                     4,
                                     EGL_CONTEXT_MINOR_VERSION,
                                     5,
                                     EGL_CONTEXT_OPENGL_PROFILE_MASK,
                                     EGL_CONTEXT_OPENGL_CORE_PROFILE_BIT,
                                     EGL_NONE};
    EGLContext c = eglCreateContext(d, EGL_NO_CONFIG_KHR, EGL_NO_CONTEXT, attribs);
    if (c == EGL_NO_CONTEXT) {
        *why = "eglCreateContext(OpenGL 4.5 core) failed";
        return false;
    }
    if (!eglMakeCurrent(d, EGL_NO_SURFACE, EGL_NO_SURFACE, c)) {
        eglDestroyContext(d, c);
        *why = "eglMakeCurrent(no surface) failed";
        return false;
    }
    if (epoxy_gl_version() < 45) {
        eglMakeCurrent(d, EGL_NO_SURFACE, EGL_NO_SURFACE, EGL_NO_CONTEXT);
        eglDestroyContext(d, c);
        *why = "the context reports a GL version below 4.5";
        return false;
    }
    out->display = d;
    out->context = c;
    return true;
}

bool rr_render_egl_open(enum rr_render_platform platform, struct rr_render_egl *out, char *err,
                        size_t err_size)
{
    memset(out, 0, sizeof(*out));
    out->display = EGL_NO_DISPLAY;
    out->context = EGL_NO_CONTEXT;
    const char *client = eglQueryString(EGL_NO_DISPLAY, EGL_EXTENSIONS);
    if (!client || !has_extension(client, "EGL_EXT_platform_base"))
        return fail(err, err_size, "EGL_EXT_platform_base not offered");

    const char *why = "no platform tried";
    if (platform != RR_RENDER_PLATFORM_SURFACELESS) {
        EGLDisplay d = device_display(client, &why);
        if (d != EGL_NO_DISPLAY && make_context(out, d, &why)) {
            out->platform = "device";
            return true;
        }
        if (platform == RR_RENDER_PLATFORM_DEVICE)
            return fail(err, err_size, why);
    }
    EGLDisplay d = surfaceless_display(client, &why);
    if (d != EGL_NO_DISPLAY && make_context(out, d, &why)) {
        out->platform = "surfaceless";
        return true;
    }
    return fail(err, err_size, why);
}

void rr_render_egl_close(struct rr_render_egl *egl)
{
    if (egl->display == EGL_NO_DISPLAY)
        return;
    if (eglGetCurrentContext() == egl->context)
        eglMakeCurrent(egl->display, EGL_NO_SURFACE, EGL_NO_SURFACE, EGL_NO_CONTEXT);
    if (egl->context != EGL_NO_CONTEXT)
        eglDestroyContext(egl->display, egl->context);
    eglReleaseThread();
    egl->context = EGL_NO_CONTEXT;
    egl->display = EGL_NO_DISPLAY;
}
