/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the GPU RGBA → NV12 converter (src/stream/gl_convert.c) on an OpenGL 4.5 core
 * context from EGL surfaceless (Mesa llvmpipe here and in CI, so a missing context is a
 * failure, not a skip). The reference is libswscale, which the encoder uses on the CPU path:
 * both paths must give the encoder the same picture.
 *
 * Chroma: libswscale filters 4:4:4 → 4:2:0 with its scaler (bilinear here: four taps per
 * direction, weights 1/8 3/8 3/8 1/8, centred like ours), the converter takes the plain 2×2
 * mean. On sharp edges the two differ by tens of levels, so chroma is compared with the 2×2
 * mean of libswscale's full-resolution 4:4:4 output: same colour maths, our filter.
 *
 * RR_GL_CONVERT_TIMING=1 adds a timing print at 2560×720 against libswscale.
 */
#include "gl_convert.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <epoxy/egl.h>
#include <epoxy/gl.h>
#include <libavutil/pixfmt.h>
#include <libswscale/swscale.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct egl_env {
    EGLDisplay display;
    EGLContext context;
};

static struct egl_env g_egl;

/* ---- EGL surfaceless context ---- */

static bool has_extension(const char *list, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = list; p && (p = strstr(p, name)) != NULL; p += n) {
        if ((p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
            return true;
    }
    return false;
}

static bool egl_fail(const char *what)
{
    fprintf(stderr,
            "test_gl_convert: %s failed (EGL error 0x%04x): an OpenGL 4.5 core context "
            "from EGL surfaceless (Mesa llvmpipe) is required\n",
            what, (unsigned)eglGetError());
    return false;
}

static bool egl_open(struct egl_env *env)
{
    const char *client = eglQueryString(EGL_NO_DISPLAY, EGL_EXTENSIONS);
    if (!has_extension(client, "EGL_EXT_platform_base") ||
        !has_extension(client, "EGL_MESA_platform_surfaceless"))
        return egl_fail("EGL_EXT_platform_base/EGL_MESA_platform_surfaceless lookup");
    /* The EXT entry point: libepoxy only offers the EGL 1.5 one once it knows a display's
     * version, and there is no display yet. */
    env->display =
        eglGetPlatformDisplayEXT(EGL_PLATFORM_SURFACELESS_MESA, EGL_DEFAULT_DISPLAY, NULL);
    if (env->display == EGL_NO_DISPLAY || !eglInitialize(env->display, NULL, NULL))
        return egl_fail("eglGetPlatformDisplay(SURFACELESS_MESA)/eglInitialize");
    const char *ext = eglQueryString(env->display, EGL_EXTENSIONS);
    if (!has_extension(ext, "EGL_KHR_surfaceless_context") ||
        !has_extension(ext, "EGL_KHR_no_config_context"))
        return egl_fail("EGL_KHR_surfaceless_context/EGL_KHR_no_config_context lookup");
    if (!eglBindAPI(EGL_OPENGL_API))
        return egl_fail("eglBindAPI(EGL_OPENGL_API)");
    static const EGLint attribs[] = {EGL_CONTEXT_MAJOR_VERSION,
                                     4,
                                     EGL_CONTEXT_MINOR_VERSION,
                                     5,
                                     EGL_CONTEXT_OPENGL_PROFILE_MASK,
                                     EGL_CONTEXT_OPENGL_CORE_PROFILE_BIT,
                                     EGL_NONE};
    env->context = eglCreateContext(env->display, EGL_NO_CONFIG_KHR, EGL_NO_CONTEXT, attribs);
    if (env->context == EGL_NO_CONTEXT)
        return egl_fail("eglCreateContext(OpenGL 4.5 core)");
    if (!eglMakeCurrent(env->display, EGL_NO_SURFACE, EGL_NO_SURFACE, env->context))
        return egl_fail("eglMakeCurrent(no surface)");
    return true;
}

static int group_setup(void **state)
{
    (void)state;
    return egl_open(&g_egl) ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    if (g_egl.display != EGL_NO_DISPLAY) {
        eglMakeCurrent(g_egl.display, EGL_NO_SURFACE, EGL_NO_SURFACE, EGL_NO_CONTEXT);
        if (g_egl.context != EGL_NO_CONTEXT)
            eglDestroyContext(g_egl.display, g_egl.context);
        /* No eglTerminate: it unloads Mesa's driver, whose process-wide allocations then
         * look leaked to LeakSanitizer with no module left to name in a suppression. The
         * process ends right after. */
        eglReleaseThread();
    }
    return 0;
}

/* ---- test image ---- */

/* Top-down RGBA: gradients in all three channels (a vertical one, so a missing flip shows),
 * a band of colour bars (sharp chroma edges) and scattered random pixels. */
static uint8_t *make_pattern(uint32_t w, uint32_t h)
{
    static const uint8_t bars[8][3] = {{255, 255, 255}, {255, 255, 0}, {0, 255, 255}, {0, 255, 0},
                                       {255, 0, 255},   {255, 0, 0},   {0, 0, 255},   {0, 0, 0}};
    uint8_t *img = malloc((size_t)w * h * 4);
    assert_non_null(img);
    for (uint32_t y = 0; y < h; y++) {
        for (uint32_t x = 0; x < w; x++) {
            uint8_t *p = img + ((size_t)y * w + x) * 4;
            if (y >= h / 3 && y < h / 2) {
                memcpy(p, bars[x * 8 / w], 3);
            } else {
                p[0] = (uint8_t)(x * 255 / (w - 1));
                p[1] = (uint8_t)(y * 255 / (h - 1));
                p[2] = (uint8_t)((x + y) * 255 / (w + h - 2));
            }
            p[3] = 255;
        }
    }
    uint32_t seed = 12345;
    for (int i = 0; i < 200; i++) {
        seed = seed * 1103515245u + 12345u;
        uint32_t x = (seed >> 8) % w;
        seed = seed * 1103515245u + 12345u;
        uint32_t y = (seed >> 8) % h;
        seed = seed * 1103515245u + 12345u;
        memcpy(img + ((size_t)y * w + x) * 4, &seed, 3);
    }
    return img;
}

/* A texture like a render into an FBO gives: GL row 0 is the image's bottom. glTexImage2D
 * (mutable, default min filter NEAREST_MIPMAP_LINEAR, no mipmaps) leaves it incomplete for a
 * sampler-less fetch: the converter's own sampler must cover that. */
static GLuint upload_bottom_up(const uint8_t *img, uint32_t w, uint32_t h)
{
    size_t row = (size_t)w * 4;
    uint8_t *flipped = malloc(row * h);
    assert_non_null(flipped);
    for (uint32_t y = 0; y < h; y++)
        memcpy(flipped + (size_t)y * row, img + (size_t)(h - 1 - y) * row, row);
    GLuint tex = 0;
    glGenTextures(1, &tex);
    glBindTexture(GL_TEXTURE_2D, tex);
    glPixelStorei(GL_UNPACK_ALIGNMENT, 1);
    glTexImage2D(GL_TEXTURE_2D, 0, GL_RGBA8, (GLsizei)w, (GLsizei)h, 0, GL_RGBA, GL_UNSIGNED_BYTE,
                 flipped);
    glBindTexture(GL_TEXTURE_2D, 0);
    free(flipped);
    assert_int_equal(glGetError(), GL_NO_ERROR);
    return tex;
}

/* ---- libswscale reference ---- */

static void sws_convert(const uint8_t *img, uint32_t w, uint32_t h, enum AVPixelFormat fmt,
                        uint8_t *const planes[], const int strides[])
{
    struct SwsContext *sws = sws_getContext((int)w, (int)h, AV_PIX_FMT_RGBA, (int)w, (int)h, fmt,
                                            SWS_BILINEAR, NULL, NULL, NULL);
    assert_non_null(sws);
    const uint8_t *src[1] = {img};
    const int src_stride[1] = {(int)w * 4};
    assert_int_equal(sws_scale(sws, src, src_stride, 0, (int)h, planes, strides), (int)h);
    sws_freeContext(sws);
}

struct reference {
    uint8_t *y;       /* libswscale NV12 luma */
    uint8_t *uv;      /* libswscale NV12 chroma (its own 4:2:0 filter) */
    uint8_t *uv_mean; /* 2×2 mean of libswscale's 4:4:4 chroma, NV12 layout */
};

static void mean_chroma(const uint8_t *u, const uint8_t *v, uint32_t w, uint32_t h, uint8_t *out)
{
    for (uint32_t cy = 0; cy < h / 2; cy++) {
        for (uint32_t cx = 0; cx < w / 2; cx++) {
            size_t i = (size_t)cy * 2 * w + cx * 2;
            unsigned su = u[i] + u[i + 1] + u[i + w] + u[i + w + 1];
            unsigned sv = v[i] + v[i + 1] + v[i + w] + v[i + w + 1];
            out[(size_t)cy * w + cx * 2] = (uint8_t)((su + 2) / 4);
            out[(size_t)cy * w + cx * 2 + 1] = (uint8_t)((sv + 2) / 4);
        }
    }
}

static void make_reference(const uint8_t *img, uint32_t w, uint32_t h, struct reference *ref)
{
    size_t n = (size_t)w * h;
    ref->y = malloc(n);
    ref->uv = malloc(n / 2);
    ref->uv_mean = malloc(n / 2);
    uint8_t *yuv444 = malloc(n * 3);
    assert_true(ref->y && ref->uv && ref->uv_mean && yuv444);
    uint8_t *nv12[4] = {ref->y, ref->uv, NULL, NULL};
    int nv12_strides[4] = {(int)w, (int)w, 0, 0};
    sws_convert(img, w, h, AV_PIX_FMT_NV12, nv12, nv12_strides);
    uint8_t *p444[4] = {yuv444, yuv444 + n, yuv444 + 2 * n, NULL};
    int s444[4] = {(int)w, (int)w, (int)w, 0};
    sws_convert(img, w, h, AV_PIX_FMT_YUV444P, p444, s444);
    mean_chroma(yuv444 + n, yuv444 + 2 * n, w, h, ref->uv_mean);
    free(yuv444);
}

static void free_reference(struct reference *ref)
{
    free(ref->y);
    free(ref->uv);
    free(ref->uv_mean);
}

/* Largest |a - b| over @p n bytes taken every @p step from @p offset. */
static int max_diff(const uint8_t *a, const uint8_t *b, size_t n, size_t offset, size_t step)
{
    int worst = 0;
    for (size_t i = offset; i < n; i += step) {
        int d = abs((int)a[i] - (int)b[i]);
        if (d > worst)
            worst = d;
    }
    return worst;
}

/* ---- cases ---- */

static void check_against_swscale(uint32_t w, uint32_t h)
{
    uint8_t *img = make_pattern(w, h);
    GLuint tex = upload_bottom_up(img, w, h);
    struct rr_gl_convert *conv = NULL;
    char err[512] = "";
    assert_true(rr_gl_convert_create(w, h, &conv, err, sizeof(err)));
    const uint8_t *y = NULL;
    const uint8_t *uv = NULL;
    if (!rr_gl_convert_run(conv, tex, &y, &uv, err, sizeof(err)))
        fail_msg("run: %s", err);

    struct reference ref;
    make_reference(img, w, h, &ref);
    size_t n = (size_t)w * h;
    int dy = max_diff(y, ref.y, n, 0, 1);
    int du = max_diff(uv, ref.uv_mean, n / 2, 0, 2);
    int dv = max_diff(uv, ref.uv_mean, n / 2, 1, 2);
    int du_sws = max_diff(uv, ref.uv, n / 2, 0, 2);
    int dv_sws = max_diff(uv, ref.uv, n / 2, 1, 2);
    printf("%ux%u: max |dY| %d, |dU| %d, |dV| %d against the 2x2 mean of swscale 4:4:4; "
           "against swscale's own 4:2:0 filter |dU| %d, |dV| %d\n",
           w, h, dy, du, dv, du_sws, dv_sws);
    assert_in_range(dy, 0, 2);
    assert_in_range(du, 0, 2);
    assert_in_range(dv, 0, 2);

    free_reference(&ref);
    rr_gl_convert_destroy(&conv);
    assert_null(conv);
    glDeleteTextures(1, &tex);
    free(img);
}

static void test_matches_swscale_256x144(void **state)
{
    (void)state;
    check_against_swscale(256, 144);
}

static void test_matches_swscale_322x182(void **state)
{
    (void)state;
    check_against_swscale(322, 182);
}

static void test_no_context(void **state)
{
    (void)state;
    /* A converter made while the context was current, run after it was released. */
    struct rr_gl_convert *conv = NULL;
    char err[256] = "";
    assert_true(rr_gl_convert_create(64, 32, &conv, err, sizeof(err)));
    GLuint tex = 0;
    glCreateTextures(GL_TEXTURE_2D, 1, &tex);
    glTextureStorage2D(tex, 1, GL_RGBA8, 64, 32);

    assert_true(eglMakeCurrent(g_egl.display, EGL_NO_SURFACE, EGL_NO_SURFACE, EGL_NO_CONTEXT));
    struct rr_gl_convert *none = NULL;
    err[0] = '\0';
    assert_false(rr_gl_convert_create(64, 32, &none, err, sizeof(err)));
    assert_null(none);
    assert_non_null(strstr(err, "no EGL context is current"));
    const uint8_t *y = NULL;
    const uint8_t *uv = NULL;
    err[0] = '\0';
    assert_false(rr_gl_convert_run(conv, tex, &y, &uv, err, sizeof(err)));
    assert_non_null(strstr(err, "no EGL context is current"));
    assert_null(y);

    assert_true(eglMakeCurrent(g_egl.display, EGL_NO_SURFACE, EGL_NO_SURFACE, g_egl.context));
    assert_true(rr_gl_convert_run(conv, tex, &y, &uv, err, sizeof(err)));
    glDeleteTextures(1, &tex);
    rr_gl_convert_destroy(&conv);
}

/* With a context of another API or profile current, create must fail naming @p expected. */
static void with_other_context(EGLenum api, const EGLint *attribs, const char *expected)
{
    assert_true(eglBindAPI(api));
    EGLContext other = eglCreateContext(g_egl.display, EGL_NO_CONFIG_KHR, EGL_NO_CONTEXT, attribs);
    assert_true(eglBindAPI(EGL_OPENGL_API));
    if (other == EGL_NO_CONTEXT)
        fail_msg("eglCreateContext for %s: EGL error 0x%04x", expected, (unsigned)eglGetError());
    assert_true(eglMakeCurrent(g_egl.display, EGL_NO_SURFACE, EGL_NO_SURFACE, other));
    struct rr_gl_convert *conv = NULL;
    char err[256] = "";
    bool ok = rr_gl_convert_create(64, 32, &conv, err, sizeof(err));
    assert_true(eglMakeCurrent(g_egl.display, EGL_NO_SURFACE, EGL_NO_SURFACE, g_egl.context));
    eglDestroyContext(g_egl.display, other);
    assert_false(ok);
    assert_null(conv);
    if (!strstr(err, expected))
        fail_msg("expected \"%s\" in \"%s\"", expected, err);
}

static void test_wrong_api_or_profile(void **state)
{
    (void)state;
    static const EGLint compat[] = {EGL_CONTEXT_OPENGL_PROFILE_MASK,
                                    EGL_CONTEXT_OPENGL_COMPATIBILITY_PROFILE_BIT, EGL_NONE};
    with_other_context(EGL_OPENGL_API, compat, "compatibility");
    static const EGLint es3[] = {EGL_CONTEXT_MAJOR_VERSION, 3, EGL_NONE};
    with_other_context(EGL_OPENGL_ES_API, es3, "not OpenGL ES");
}

/* A converter used with another context than its own would draw into FBO names that are not
 * its own there (framebuffers and vertex arrays are never shared). */
static void test_other_context(void **state)
{
    (void)state;
    struct rr_gl_convert *conv = NULL;
    char err[256] = "";
    assert_true(rr_gl_convert_create(64, 32, &conv, err, sizeof(err)));
    static const EGLint attribs[] = {EGL_CONTEXT_MAJOR_VERSION,
                                     4,
                                     EGL_CONTEXT_MINOR_VERSION,
                                     5,
                                     EGL_CONTEXT_OPENGL_PROFILE_MASK,
                                     EGL_CONTEXT_OPENGL_CORE_PROFILE_BIT,
                                     EGL_NONE};
    EGLContext shared = eglCreateContext(g_egl.display, EGL_NO_CONFIG_KHR, g_egl.context, attribs);
    assert_true(shared != EGL_NO_CONTEXT);
    assert_true(eglMakeCurrent(g_egl.display, EGL_NO_SURFACE, EGL_NO_SURFACE, shared));
    GLuint tex = 0;
    glCreateTextures(GL_TEXTURE_2D, 1, &tex);
    glTextureStorage2D(tex, 1, GL_RGBA8, 64, 32);
    const uint8_t *y = NULL;
    const uint8_t *uv = NULL;
    bool ok = rr_gl_convert_run(conv, tex, &y, &uv, err, sizeof(err));
    glDeleteTextures(1, &tex);
    assert_true(eglMakeCurrent(g_egl.display, EGL_NO_SURFACE, EGL_NO_SURFACE, g_egl.context));
    eglDestroyContext(g_egl.display, shared);
    assert_false(ok);
    assert_non_null(strstr(err, "not the one it was created with"));
    rr_gl_convert_destroy(&conv);
}

static void test_bad_texture(void **state)
{
    (void)state;
    struct rr_gl_convert *conv = NULL;
    char err[256] = "";
    assert_true(rr_gl_convert_create(64, 32, &conv, err, sizeof(err)));
    const uint8_t *y = NULL;
    const uint8_t *uv = NULL;

    assert_false(rr_gl_convert_run(conv, 4242, &y, &uv, err, sizeof(err)));
    assert_non_null(strstr(err, "not a texture"));
    assert_false(rr_gl_convert_run(conv, 0, &y, &uv, err, sizeof(err)));
    assert_non_null(strstr(err, "not a texture"));

    /* A name that is a buffer, not a texture. */
    GLuint buf = 0;
    glCreateBuffers(1, &buf);
    assert_false(rr_gl_convert_run(conv, buf, &y, &uv, err, sizeof(err)));
    assert_non_null(strstr(err, "not a texture"));
    glDeleteBuffers(1, &buf);

    GLuint tex = 0;
    glCreateTextures(GL_TEXTURE_2D, 1, &tex);
    glTextureStorage2D(tex, 1, GL_RGBA8, 64, 30);
    assert_false(rr_gl_convert_run(conv, tex, &y, &uv, err, sizeof(err)));
    assert_non_null(strstr(err, "is 64x30, the converter 64x32"));
    glDeleteTextures(1, &tex);

    glCreateTextures(GL_TEXTURE_2D_ARRAY, 1, &tex);
    glTextureStorage3D(tex, 1, GL_RGBA8, 64, 32, 1);
    assert_false(rr_gl_convert_run(conv, tex, &y, &uv, err, sizeof(err)));
    assert_non_null(strstr(err, "not a GL_TEXTURE_2D"));
    glDeleteTextures(1, &tex);

    assert_null(y);
    assert_null(uv);
    assert_int_equal(glGetError(), GL_NO_ERROR);
    rr_gl_convert_destroy(&conv);
}

static void test_bad_size(void **state)
{
    (void)state;
    static const uint32_t sizes[][2] = {{321, 180}, {320, 181}, {0, 180}, {320, 0},
                                        {8194, 2},  {2, 8194},  {1, 1}};
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        struct rr_gl_convert *conv = (struct rr_gl_convert *)&conv;
        char err[256] = "";
        assert_false(rr_gl_convert_create(sizes[i][0], sizes[i][1], &conv, err, sizeof(err)));
        assert_null(conv);
        assert_non_null(strstr(err, "GL converter: size"));
    }
    /* The bounds themselves are fine. */
    struct rr_gl_convert *conv = NULL;
    char err[256] = "";
    assert_true(rr_gl_convert_create(8192, 2, &conv, err, sizeof(err)));
    rr_gl_convert_destroy(&conv);
    rr_gl_convert_destroy(&conv); /* NULL after the first: harmless */
}

/* Everything the converter saves and restores, as the caller set it. */
struct app_state {
    GLint draw_fbo, read_fbo, viewport[4], program, vao, active, tex_unit0, sampler0, pack_align;
    GLboolean scissor, blend, cull, mask[4];
};

static void read_app_state(struct app_state *s)
{
    memset(s, 0, sizeof(*s)); /* the padding too: the states are compared with memcmp */
    glGetIntegerv(GL_DRAW_FRAMEBUFFER_BINDING, &s->draw_fbo);
    glGetIntegerv(GL_READ_FRAMEBUFFER_BINDING, &s->read_fbo);
    glGetIntegerv(GL_VIEWPORT, s->viewport);
    glGetIntegerv(GL_CURRENT_PROGRAM, &s->program);
    glGetIntegerv(GL_VERTEX_ARRAY_BINDING, &s->vao);
    glGetIntegerv(GL_ACTIVE_TEXTURE, &s->active);
    GLint active = s->active;
    glActiveTexture(GL_TEXTURE0);
    glGetIntegerv(GL_TEXTURE_BINDING_2D, &s->tex_unit0);
    glGetIntegerv(GL_SAMPLER_BINDING, &s->sampler0);
    glActiveTexture((GLenum)active);
    glGetIntegerv(GL_PACK_ALIGNMENT, &s->pack_align);
    s->scissor = glIsEnabled(GL_SCISSOR_TEST);
    s->blend = glIsEnabled(GL_BLEND);
    s->cull = glIsEnabled(GL_CULL_FACE);
    glGetBooleanv(GL_COLOR_WRITEMASK, s->mask);
}

static GLuint app_program(void)
{
    static const char *vs = "#version 450 core\nvoid main() { gl_Position = vec4(0.0); }\n";
    static const char *fs = "#version 450 core\nout vec4 c;\nvoid main() { c = vec4(1.0); }\n";
    GLuint prog = glCreateProgram();
    GLuint s[2] = {glCreateShader(GL_VERTEX_SHADER), glCreateShader(GL_FRAGMENT_SHADER)};
    glShaderSource(s[0], 1, &vs, NULL);
    glShaderSource(s[1], 1, &fs, NULL);
    for (int i = 0; i < 2; i++) {
        glCompileShader(s[i]);
        glAttachShader(prog, s[i]);
    }
    glLinkProgram(prog);
    glDeleteShader(s[0]);
    glDeleteShader(s[1]);
    GLint ok = 0;
    glGetProgramiv(prog, GL_LINK_STATUS, &ok);
    assert_true(ok);
    return prog;
}

static void test_state_restored(void **state)
{
    (void)state;
    uint32_t w = 64;
    uint32_t h = 32;
    uint8_t *img = make_pattern(w, h);
    GLuint src = upload_bottom_up(img, w, h);

    /* An application mid-frame: its own FBO, viewport, program, VAO, texture unit 3 active,
     * another texture and a sampler on unit 0, scissor/blend/cull on, a partial mask. */
    GLuint fbo = 0, rb = 0, vao = 0, other = 0, sampler = 0;
    glCreateRenderbuffers(1, &rb);
    glNamedRenderbufferStorage(rb, GL_RGBA8, 16, 16);
    glCreateFramebuffers(1, &fbo);
    glNamedFramebufferRenderbuffer(fbo, GL_COLOR_ATTACHMENT0, GL_RENDERBUFFER, rb);
    glBindFramebuffer(GL_FRAMEBUFFER, fbo);
    glViewport(3, 5, 7, 11);
    GLuint prog = app_program();
    glUseProgram(prog);
    glCreateVertexArrays(1, &vao);
    glBindVertexArray(vao);
    glCreateTextures(GL_TEXTURE_2D, 1, &other);
    glBindTextureUnit(0, other);
    glCreateSamplers(1, &sampler);
    glBindSampler(0, sampler);
    glActiveTexture(GL_TEXTURE3);
    glPixelStorei(GL_PACK_ALIGNMENT, 8);
    glEnable(GL_SCISSOR_TEST);
    glScissor(0, 0, 1, 1);
    glEnable(GL_BLEND);
    glEnable(GL_CULL_FACE);
    glCullFace(GL_FRONT_AND_BACK);
    glColorMask(GL_TRUE, GL_FALSE, GL_TRUE, GL_FALSE);
    struct app_state before;
    read_app_state(&before);

    struct rr_gl_convert *conv = NULL;
    char err[256] = "";
    assert_true(rr_gl_convert_create(w, h, &conv, err, sizeof(err)));
    const uint8_t *y = NULL;
    const uint8_t *uv = NULL;
    if (!rr_gl_convert_run(conv, src, &y, &uv, err, sizeof(err)))
        fail_msg("run: %s", err);
    struct app_state after;
    read_app_state(&after);
    assert_memory_equal(&before, &after, sizeof(before));

    /* The app's scissor, blend, cull and mask did not leak into the passes. */
    struct reference ref;
    make_reference(img, w, h, &ref);
    assert_in_range(max_diff(y, ref.y, (size_t)w * h, 0, 1), 0, 2);
    assert_in_range(max_diff(uv, ref.uv_mean, (size_t)w * h / 2, 0, 1), 0, 2);
    free_reference(&ref);

    rr_gl_convert_destroy(&conv);
    glColorMask(GL_TRUE, GL_TRUE, GL_TRUE, GL_TRUE);
    glDisable(GL_SCISSOR_TEST);
    glDisable(GL_BLEND);
    glDisable(GL_CULL_FACE);
    glPixelStorei(GL_PACK_ALIGNMENT, 4);
    glActiveTexture(GL_TEXTURE0);
    glBindSampler(0, 0);
    glBindTextureUnit(0, 0);
    glBindVertexArray(0);
    glUseProgram(0);
    glBindFramebuffer(GL_FRAMEBUFFER, 0);
    GLuint textures[2] = {src, other};
    glDeleteTextures(2, textures);
    glDeleteSamplers(1, &sampler);
    glDeleteVertexArrays(1, &vao);
    glDeleteProgram(prog);
    glDeleteFramebuffers(1, &fbo);
    glDeleteRenderbuffers(1, &rb);
    assert_int_equal(glGetError(), GL_NO_ERROR);
    free(img);
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void test_timing(void **state)
{
    (void)state;
    const char *on = getenv("RR_GL_CONVERT_TIMING");
    if (!on || strcmp(on, "1") != 0)
        skip();
    const uint32_t w = 2560;
    const uint32_t h = 720;
    const int runs = 20;
    uint8_t *img = make_pattern(w, h);
    GLuint tex = upload_bottom_up(img, w, h);
    struct rr_gl_convert *conv = NULL;
    char err[256] = "";
    assert_true(rr_gl_convert_create(w, h, &conv, err, sizeof(err)));
    const uint8_t *y = NULL;
    const uint8_t *uv = NULL;
    assert_true(rr_gl_convert_run(conv, tex, &y, &uv, err, sizeof(err))); /* shader JIT */
    double t0 = now_ms();
    for (int i = 0; i < runs; i++)
        assert_true(rr_gl_convert_run(conv, tex, &y, &uv, err, sizeof(err)));
    double gl_ms = (now_ms() - t0) / runs;

    uint8_t *planes = malloc((size_t)w * h * 3 / 2);
    assert_non_null(planes);
    struct SwsContext *sws = sws_getContext((int)w, (int)h, AV_PIX_FMT_RGBA, (int)w, (int)h,
                                            AV_PIX_FMT_NV12, SWS_BILINEAR, NULL, NULL, NULL);
    assert_non_null(sws);
    const uint8_t *src[1] = {img};
    const int src_stride[1] = {(int)w * 4};
    uint8_t *dst[4] = {planes, planes + (size_t)w * h, NULL, NULL};
    const int dst_stride[4] = {(int)w, (int)w, 0, 0};
    sws_scale(sws, src, src_stride, 0, (int)h, dst, dst_stride);
    t0 = now_ms();
    for (int i = 0; i < runs; i++)
        sws_scale(sws, src, src_stride, 0, (int)h, dst, dst_stride);
    double sws_ms = (now_ms() - t0) / runs;
    sws_freeContext(sws);

    printf("timing %ux%u RGBA->NV12, mean of %d: GL (%s) %.2f ms, libswscale %.2f ms, "
           "GL/swscale %.2f\n",
           w, h, runs, (const char *)glGetString(GL_RENDERER), gl_ms, sws_ms, gl_ms / sws_ms);
    free(planes);
    rr_gl_convert_destroy(&conv);
    glDeleteTextures(1, &tex);
    free(img);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_matches_swscale_256x144),
        cmocka_unit_test(test_matches_swscale_322x182),
        cmocka_unit_test(test_no_context),
        cmocka_unit_test(test_wrong_api_or_profile),
        cmocka_unit_test(test_other_context),
        cmocka_unit_test(test_bad_texture),
        cmocka_unit_test(test_bad_size),
        cmocka_unit_test(test_state_restored),
        cmocka_unit_test(test_timing),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
