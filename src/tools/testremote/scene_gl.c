/* SPDX-License-Identifier: Apache-2.0 */
/*
 * scene_gl — the OpenGL renderer of openrr-testremote (see scene_gl.h).
 *
 * Threads: the creating thread, which keeps the context current until destroy.
 */
#include "scene_gl.h"

#include "noise.h"

#include <epoxy/egl.h>
#include <epoxy/gl.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_INSTANCES_PER_EYE (SCENE_MAX_BACKGROUND + SCENE_MAX_OVERLAYS)

/* One rectangle as the vertex shader reads it (one instance of a 4-vertex strip). */
struct gl_instance {
    float rect[4]; /* x, y from the top, width, height: pixels of the eye */
    uint8_t rgba[4];
};

struct scene_gl {
    struct renderer base; /* first: the renderer pointer is the object */
    EGLDisplay display;
    EGLContext context;
    bool current;
    GLuint texture;
    GLuint framebuffer;
    GLuint program;
    GLuint vertex_array;
    GLuint buffer;
    GLint eye_size_location;
    uint32_t eye_width;
    uint32_t eye_height;
    uint8_t *noise; /* the noise scene's pixels, made on the CPU; allocated on first use */
    struct noise noise_state;
    char description[192];
    struct gl_instance instances[2 * MAX_INSTANCES_PER_EYE];
};

/* The top of the picture goes to the top of the framebuffer (GL's last row), which is what
 * rr_stream_remote_submit_gl() expects: row 0 = bottom. */
static const char k_vertex_shader[] =
    "#version 450 core\n"
    "layout(location = 0) in vec4 rect;\n"
    "layout(location = 1) in vec4 color;\n"
    "uniform vec2 eye_size;\n"
    "flat out vec4 v_color;\n"
    "void main()\n"
    "{\n"
    "    vec2 corner = vec2(gl_VertexID & 1, gl_VertexID >> 1);\n"
    "    vec2 p = (rect.xy + corner * rect.zw) / eye_size;\n"
    "    gl_Position = vec4(p.x * 2.0 - 1.0, 1.0 - p.y * 2.0, 0.0, 1.0);\n"
    "    v_color = color;\n"
    "}\n";

static const char k_fragment_shader[] = "#version 450 core\n"
                                        "flat in vec4 v_color;\n"
                                        "layout(location = 0) out vec4 frag_color;\n"
                                        "void main()\n"
                                        "{\n"
                                        "    frag_color = v_color;\n"
                                        "}\n";

static struct scene_gl *scene_gl_from(struct renderer *r)
{
    return (struct scene_gl *)r;
}

static bool __attribute__((format(printf, 3, 4)))
fail(char *err, size_t err_size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, err_size, fmt, ap);
    va_end(ap);
    return false;
}

static bool has_extension(const char *list, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = list; p != NULL && (p = strstr(p, name)) != NULL; p += n) {
        if ((p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0')) {
            return true;
        }
    }
    return false;
}

static bool egl_fail(char *err, size_t err_size, const char *what)
{
    return fail(err, err_size, "%s failed (EGL error 0x%04x)", what, (unsigned)eglGetError());
}

static bool open_context(struct scene_gl *g, char *err, size_t err_size)
{
    const char *client = eglQueryString(EGL_NO_DISPLAY, EGL_EXTENSIONS);
    if (!has_extension(client, "EGL_EXT_platform_base") ||
        !has_extension(client, "EGL_MESA_platform_surfaceless")) {
        return fail(err, err_size,
                    "EGL has no surfaceless platform (EGL_MESA_platform_surfaceless)");
    }
    /* The EXT entry point: libepoxy offers the EGL 1.5 one only once it knows a display's
     * version, and there is no display yet. */
    g->display = eglGetPlatformDisplayEXT(EGL_PLATFORM_SURFACELESS_MESA, EGL_DEFAULT_DISPLAY, NULL);
    if (g->display == EGL_NO_DISPLAY || !eglInitialize(g->display, NULL, NULL)) {
        g->display = EGL_NO_DISPLAY;
        return egl_fail(err, err_size, "opening the EGL surfaceless display");
    }
    const char *ext = eglQueryString(g->display, EGL_EXTENSIONS);
    if (!has_extension(ext, "EGL_KHR_surfaceless_context") ||
        !has_extension(ext, "EGL_KHR_no_config_context")) {
        return fail(err, err_size,
                    "EGL lacks EGL_KHR_surfaceless_context or "
                    "EGL_KHR_no_config_context");
    }
    if (!eglBindAPI(EGL_OPENGL_API)) {
        return egl_fail(err, err_size, "eglBindAPI(EGL_OPENGL_API)");
    }
    static const EGLint attribs[] = {EGL_CONTEXT_MAJOR_VERSION,
                                     4,
                                     EGL_CONTEXT_MINOR_VERSION,
                                     5,
                                     EGL_CONTEXT_OPENGL_PROFILE_MASK,
                                     EGL_CONTEXT_OPENGL_CORE_PROFILE_BIT,
                                     EGL_NONE};
    g->context = eglCreateContext(g->display, EGL_NO_CONFIG_KHR, EGL_NO_CONTEXT, attribs);
    if (g->context == EGL_NO_CONTEXT) {
        return egl_fail(err, err_size, "creating an OpenGL 4.5 core context");
    }
    if (!eglMakeCurrent(g->display, EGL_NO_SURFACE, EGL_NO_SURFACE, g->context)) {
        return egl_fail(err, err_size, "eglMakeCurrent without a surface");
    }
    g->current = true;
    if (epoxy_gl_version() < 45) {
        return fail(err, err_size, "the context is OpenGL %d.%d, not 4.5", epoxy_gl_version() / 10,
                    epoxy_gl_version() % 10);
    }
    snprintf(g->description, sizeof g->description, "OpenGL %s, %s",
             (const char *)glGetString(GL_VERSION), (const char *)glGetString(GL_RENDERER));
    return true;
}

static GLuint compile(GLenum type, const char *source, const char *what, char *err, size_t err_size)
{
    GLuint shader = glCreateShader(type);
    GLint ok = GL_FALSE;
    glShaderSource(shader, 1, &source, NULL);
    glCompileShader(shader);
    glGetShaderiv(shader, GL_COMPILE_STATUS, &ok);
    if (!ok) {
        char log[512] = "";
        glGetShaderInfoLog(shader, sizeof log, NULL, log);
        fail(err, err_size, "the %s shader does not compile: %s", what, log);
        glDeleteShader(shader);
        return 0;
    }
    return shader;
}

static bool build_program(struct scene_gl *g, char *err, size_t err_size)
{
    GLuint vs = compile(GL_VERTEX_SHADER, k_vertex_shader, "vertex", err, err_size);
    GLuint fs =
        vs != 0 ? compile(GL_FRAGMENT_SHADER, k_fragment_shader, "fragment", err, err_size) : 0;
    if (fs == 0) {
        glDeleteShader(vs);
        return false;
    }
    GLint ok = GL_FALSE;
    g->program = glCreateProgram();
    glAttachShader(g->program, vs);
    glAttachShader(g->program, fs);
    glLinkProgram(g->program);
    glDeleteShader(vs);
    glDeleteShader(fs);
    glGetProgramiv(g->program, GL_LINK_STATUS, &ok);
    if (!ok) {
        char log[512] = "";
        glGetProgramInfoLog(g->program, sizeof log, NULL, log);
        return fail(err, err_size, "the shaders do not link: %s", log);
    }
    g->eye_size_location = glGetUniformLocation(g->program, "eye_size");
    return true;
}

static bool create_objects(struct scene_gl *g, char *err, size_t err_size)
{
    glCreateTextures(GL_TEXTURE_2D, 1, &g->texture);
    glTextureStorage2D(g->texture, 1, GL_RGBA8, (GLsizei)g->eye_width * 2, (GLsizei)g->eye_height);
    glCreateFramebuffers(1, &g->framebuffer);
    glNamedFramebufferTexture(g->framebuffer, GL_COLOR_ATTACHMENT0, g->texture, 0);
    if (glCheckNamedFramebufferStatus(g->framebuffer, GL_FRAMEBUFFER) != GL_FRAMEBUFFER_COMPLETE) {
        return fail(err, err_size, "a %ux%u RGBA8 framebuffer is incomplete", g->eye_width * 2,
                    g->eye_height);
    }
    if (!build_program(g, err, err_size)) {
        return false;
    }
    glCreateBuffers(1, &g->buffer);
    glNamedBufferData(g->buffer, sizeof g->instances, NULL, GL_STREAM_DRAW);
    glCreateVertexArrays(1, &g->vertex_array);
    glVertexArrayVertexBuffer(g->vertex_array, 0, g->buffer, 0, sizeof(struct gl_instance));
    glVertexArrayBindingDivisor(g->vertex_array, 0, 1);
    glEnableVertexArrayAttrib(g->vertex_array, 0);
    glVertexArrayAttribFormat(g->vertex_array, 0, 4, GL_FLOAT, GL_FALSE,
                              offsetof(struct gl_instance, rect));
    glVertexArrayAttribBinding(g->vertex_array, 0, 0);
    glEnableVertexArrayAttrib(g->vertex_array, 1);
    glVertexArrayAttribFormat(g->vertex_array, 1, 4, GL_UNSIGNED_BYTE, GL_TRUE,
                              offsetof(struct gl_instance, rgba));
    glVertexArrayAttribBinding(g->vertex_array, 1, 0);
    GLenum e = glGetError();
    if (e != GL_NO_ERROR) {
        return fail(err, err_size, "OpenGL error 0x%04x while setting up", (unsigned)e);
    }
    return true;
}

static unsigned put_rects(struct gl_instance *out, const struct scene_rect *rects, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        out[i].rect[0] = (float)rects[i].x;
        out[i].rect[1] = (float)rects[i].y;
        out[i].rect[2] = (float)rects[i].w;
        out[i].rect[3] = (float)rects[i].h;
        memcpy(out[i].rgba, rects[i].rgba, 4);
    }
    return n;
}

/* Both eyes' rectangles, eye 0 first; *out_count gets each eye's count. */
static unsigned gather(struct scene_gl *g, const struct scene_frame *frame, unsigned out_count[2])
{
    unsigned total = 0;
    for (unsigned eye = 0; eye < 2; eye++) {
        struct gl_instance *base = g->instances + total;
        unsigned n = 0;
        if (frame->kind == SCENE_GRID) {
            struct scene_rect background[SCENE_MAX_BACKGROUND];
            n = put_rects(base, background, scene_background(frame, eye, background));
        }
        n += put_rects(base + n, frame->eye[eye].overlay, frame->eye[eye].overlay_count);
        out_count[eye] = n;
        total += n;
    }
    return total;
}

static bool upload_noise(struct scene_gl *g, char *err, size_t err_size)
{
    if (g->noise == NULL) {
        g->noise = malloc((size_t)g->eye_width * 2 * 4 * g->eye_height);
        if (g->noise == NULL) {
            return fail(err, err_size, "out of memory for the noise image");
        }
    }
    noise_fill(&g->noise_state, g->noise, (size_t)g->eye_width * 2 * 4 * g->eye_height);
    /* The stream's converter may leave its own pixel buffer bound. */
    glBindBuffer(GL_PIXEL_UNPACK_BUFFER, 0);
    glPixelStorei(GL_UNPACK_ALIGNMENT, 4);
    glPixelStorei(GL_UNPACK_ROW_LENGTH, 0);
    glTextureSubImage2D(g->texture, 0, 0, 0, (GLsizei)g->eye_width * 2, (GLsizei)g->eye_height,
                        GL_RGBA, GL_UNSIGNED_BYTE, g->noise);
    return true;
}

static bool render(struct renderer *self, const struct scene_frame *frame, char *err,
                   size_t err_size)
{
    struct scene_gl *g = scene_gl_from(self);
    unsigned count[2];
    unsigned total = gather(g, frame, count);
    if (frame->kind == SCENE_NOISE && !upload_noise(g, err, err_size)) {
        return false;
    }
    /* Set every state the draw depends on: the stream's converter uses the same context. */
    glBindFramebuffer(GL_FRAMEBUFFER, g->framebuffer);
    glDisable(GL_BLEND);
    glDisable(GL_DEPTH_TEST);
    glDisable(GL_SCISSOR_TEST);
    glDisable(GL_CULL_FACE);
    glColorMask(GL_TRUE, GL_TRUE, GL_TRUE, GL_TRUE);
    /* Orphan the buffer so that the driver need not wait for the previous frame's draw. */
    glNamedBufferData(g->buffer, sizeof g->instances, NULL, GL_STREAM_DRAW);
    glNamedBufferSubData(g->buffer, 0, (GLsizeiptr)(total * sizeof(struct gl_instance)),
                         g->instances);
    glUseProgram(g->program);
    glBindVertexArray(g->vertex_array);
    glUniform2f(g->eye_size_location, (float)g->eye_width, (float)g->eye_height);
    for (unsigned eye = 0; eye < 2; eye++) {
        /* Triangles are clipped to the viewport, so an eye's rectangles stay in its half. */
        glViewport((GLint)(eye * g->eye_width), 0, (GLsizei)g->eye_width, (GLsizei)g->eye_height);
        glDrawArraysInstancedBaseInstance(GL_TRIANGLE_STRIP, 0, 4, (GLsizei)count[eye],
                                          eye == 0 ? 0 : count[0]);
    }
    glBindVertexArray(0);
    glUseProgram(0);
    glBindFramebuffer(GL_FRAMEBUFFER, 0);
    /* The render time sent to the player should be when the pixels exist. */
    glFinish();
    GLenum e = glGetError();
    if (e != GL_NO_ERROR) {
        return fail(err, err_size, "OpenGL error 0x%04x while drawing", (unsigned)e);
    }
    return true;
}

static enum rr_result submit(struct renderer *self, struct rr_stream_remote *remote,
                             const struct rr_stream_submit_info *info)
{
    return rr_stream_remote_submit_gl(remote, info, scene_gl_from(self)->texture);
}

static void destroy(struct renderer *self)
{
    struct scene_gl *g = scene_gl_from(self);
    if (g->current) {
        glDeleteVertexArrays(1, &g->vertex_array);
        glDeleteBuffers(1, &g->buffer);
        glDeleteProgram(g->program);
        glDeleteFramebuffers(1, &g->framebuffer);
        glDeleteTextures(1, &g->texture);
        eglMakeCurrent(g->display, EGL_NO_SURFACE, EGL_NO_SURFACE, EGL_NO_CONTEXT);
    }
    if (g->context != EGL_NO_CONTEXT) {
        eglDestroyContext(g->display, g->context);
    }
    /* No eglTerminate: Mesa 22.3 leaks a few hundred bytes in the driver that eglTerminate
     * then unloads, where a leak checker can neither name nor suppress them. The display is
     * the process's (the same handle for every create), and the process ends after this. */
    if (g->display != EGL_NO_DISPLAY) {
        eglReleaseThread();
    }
    free(g->noise);
    free(g);
}

bool scene_gl_create(uint32_t eye_width, uint32_t eye_height, struct renderer **out,
                     const char **out_description, char *err, size_t err_size)
{
    struct scene_gl *g = calloc(1, sizeof *g);
    if (g == NULL) {
        return fail(err, err_size, "out of memory");
    }
    g->base.name = "gl";
    g->base.render = render;
    g->base.submit = submit;
    g->base.destroy = destroy;
    g->display = EGL_NO_DISPLAY;
    g->context = EGL_NO_CONTEXT;
    g->eye_width = eye_width;
    g->eye_height = eye_height;
    noise_init(&g->noise_state, 2);
    if (!open_context(g, err, err_size) || !create_objects(g, err, err_size)) {
        destroy(&g->base);
        return false;
    }
    *out = &g->base;
    *out_description = g->description;
    return true;
}
