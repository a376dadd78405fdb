/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gl_convert — the remote's RGBA render target → NV12 on the GPU, so that only 1.5 bytes per
 * pixel cross back to the CPU for the encoder instead of 4, and the CPU skips libswscale.
 * Runs on the application's render thread, with its GL context current (see gl_convert.h).
 *
 * Pass 1 draws a fullscreen triangle into an R8 texture (luma), pass 2 into an RG8 texture of
 * half size (interleaved chroma = NV12's UV plane). Both read the source with texelFetch, so
 * no filtering or texture coordinates are involved and every output pixel depends on exactly
 * the texels it names. glReadPixels reads both back into buffers the converter owns.
 */
#include "gl_convert.h"

#include "u_log.h"

#include <epoxy/egl.h>
#include <epoxy/gl.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOG_MOD "gl_convert"
/* Same bound as the encoder's frame size. */
#define RR_GL_CONVERT_MAX_SIZE 8192u
/* Enough of a shader info log to name the failing line without flooding the caller's buffer. */
#define RR_GL_INFO_LOG_MAX 512

struct rr_gl_convert {
    uint32_t width;
    uint32_t height;
    /* Objects belong to the context current at create; a different one cannot see the FBOs
     * and the VAO (container objects are never shared), so run refuses it. */
    EGLContext context;
    GLuint prog_y;
    GLuint prog_uv;
    GLuint vao;     /* empty: the triangle comes from gl_VertexID, core needs a VAO bound */
    GLuint sampler; /* NEAREST, so a caller's texture without mipmaps is still complete */
    GLuint tex_y;
    GLuint tex_uv;
    GLuint fbo_y;
    GLuint fbo_uv;
    uint8_t *y;
    uint8_t *uv;
};

/* The caller's state that the passes change, restored after them so its render loop never
 * notices. Enables that could drop or alter the triangle's fragments are switched off. */
struct gl_saved_state {
    GLint draw_fbo;
    GLint read_fbo;
    GLint viewport[4];
    GLint program;
    GLint vao;
    GLint active_texture;
    GLint texture0;
    GLint sampler0;
    GLint pack_buffer;
    GLint pack_alignment;
    GLint pack_row_length;
    GLint pack_skip_rows;
    GLint pack_skip_pixels;
    GLboolean color_mask[4];
    GLboolean scissor;
    GLboolean blend;
    GLboolean depth;
    GLboolean stencil;
    GLboolean cull;
    GLboolean discard;
};

/* Fullscreen triangle (-1,-1) (3,-1) (-1,3): covers the viewport with no diagonal seam. */
static const char k_vertex_src[] = "#version 450 core\n"
                                   "void main()\n"
                                   "{\n"
                                   "    vec2 p = vec2(float((gl_VertexID & 1) << 2) - 1.0,\n"
                                   "                  float((gl_VertexID & 2) << 1) - 1.0);\n"
                                   "    gl_Position = vec4(p, 0.0, 1.0);\n"
                                   "}\n";

/* BT.601 limited range as libswscale computes it by default: luma 16..235 scaled by 219/255,
 * chroma 16..240 by 224/255, on 8-bit values (rgb here is 0..1, so the factors carry 255).
 * Output row 0 is the image's top: read back bottom-first, it must hold the texture's last
 * row (GL's row 0 is the bottom). */
static const char k_luma_src[] =
    "#version 450 core\n"
    "layout(binding = 0) uniform sampler2D u_src;\n"
    "layout(location = 0) out float o_y;\n"
    "void main()\n"
    "{\n"
    "    ivec2 p = ivec2(gl_FragCoord.xy);\n"
    "    int top = textureSize(u_src, 0).y - 1;\n"
    "    vec3 c = texelFetch(u_src, ivec2(p.x, top - p.y), 0).rgb;\n"
    "    o_y = (16.0 + dot(c, vec3(65.481, 128.553, 24.966))) / 255.0;\n"
    "}\n";

/* One chroma sample per 2×2 block, centred between its four pixels (libswscale's default
 * siting for 4:2:0), from the block's mean colour: the conversion is linear, so this equals
 * the mean of the four pixels' chroma. */
static const char k_chroma_src[] = "#version 450 core\n"
                                   "layout(binding = 0) uniform sampler2D u_src;\n"
                                   "layout(location = 0) out vec2 o_uv;\n"
                                   "void main()\n"
                                   "{\n"
                                   "    ivec2 p = ivec2(gl_FragCoord.xy);\n"
                                   "    int x = p.x * 2;\n"
                                   "    int y = textureSize(u_src, 0).y - 2 - p.y * 2;\n"
                                   "    vec3 c = texelFetch(u_src, ivec2(x, y), 0).rgb\n"
                                   "           + texelFetch(u_src, ivec2(x + 1, y), 0).rgb\n"
                                   "           + texelFetch(u_src, ivec2(x, y + 1), 0).rgb\n"
                                   "           + texelFetch(u_src, ivec2(x + 1, y + 1), 0).rgb;\n"
                                   "    c *= 0.25;\n"
                                   "    float u = 128.0 + dot(c, vec3(-37.797, -74.203, 112.0));\n"
                                   "    float v = 128.0 + dot(c, vec3(112.0, -93.786, -18.214));\n"
                                   "    o_uv = vec2(u, v) / 255.0;\n"
                                   "}\n";

static bool fail(char *err, size_t err_size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static bool fail(char *err, size_t err_size, const char *fmt, ...)
{
    if (err && err_size > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, err_size, fmt, ap);
        va_end(ap);
    }
    return false;
}

static bool check_size(uint32_t width, uint32_t height, char *err, size_t err_size)
{
    if (width == 0 || height == 0 || (width & 1u) || (height & 1u))
        return fail(err, err_size, "GL converter: size %ux%u must be even and non-zero (4:2:0)",
                    width, height);
    if (width > RR_GL_CONVERT_MAX_SIZE || height > RR_GL_CONVERT_MAX_SIZE)
        return fail(err, err_size, "GL converter: size %ux%u is larger than %ux%u", width, height,
                    RR_GL_CONVERT_MAX_SIZE, RR_GL_CONVERT_MAX_SIZE);
    return true;
}

/* Checked before any GL call: with no context current, GL calls are no-ops at best. */
static bool check_context(char *err, size_t err_size)
{
    if (eglGetCurrentContext() == EGL_NO_CONTEXT)
        return fail(err, err_size, "GL converter: no EGL context is current on this thread");
    int version = epoxy_gl_version();
    if (version == 0)
        return fail(err, err_size, "GL converter: no GL context is current on this thread");
    if (!epoxy_is_desktop_gl())
        return fail(err, err_size, "GL converter: needs desktop OpenGL 4.5 core, not OpenGL ES");
    GLint profile = 0;
    if (version >= 32)
        glGetIntegerv(GL_CONTEXT_PROFILE_MASK, &profile);
    if (version < 45 || !(profile & GL_CONTEXT_CORE_PROFILE_BIT))
        return fail(err, err_size,
                    "GL converter: needs OpenGL 4.5 core, the current context is %d.%d %s",
                    version / 10, version % 10,
                    (profile & GL_CONTEXT_CORE_PROFILE_BIT) ? "core" : "compatibility");
    return true;
}

static GLuint compile_shader(GLenum type, const char *src, const char *name, char *err,
                             size_t err_size)
{
    GLuint shader = glCreateShader(type);
    glShaderSource(shader, 1, &src, NULL);
    glCompileShader(shader);
    GLint ok = GL_FALSE;
    glGetShaderiv(shader, GL_COMPILE_STATUS, &ok);
    if (ok)
        return shader;
    char log[RR_GL_INFO_LOG_MAX] = "";
    glGetShaderInfoLog(shader, sizeof(log), NULL, log);
    glDeleteShader(shader);
    fail(err, err_size, "GL converter: %s shader does not compile: %s", name, log);
    return 0;
}

static GLuint link_program(const char *fragment_src, const char *name, char *err, size_t err_size)
{
    GLuint vs = compile_shader(GL_VERTEX_SHADER, k_vertex_src, "vertex", err, err_size);
    if (!vs)
        return 0;
    GLuint fs = compile_shader(GL_FRAGMENT_SHADER, fragment_src, name, err, err_size);
    if (!fs) {
        glDeleteShader(vs);
        return 0;
    }
    GLuint prog = glCreateProgram();
    glAttachShader(prog, vs);
    glAttachShader(prog, fs);
    glLinkProgram(prog);
    /* The program keeps the compiled code; flagging the shaders lets GL free them with it. */
    glDeleteShader(vs);
    glDeleteShader(fs);
    GLint ok = GL_FALSE;
    glGetProgramiv(prog, GL_LINK_STATUS, &ok);
    if (ok)
        return prog;
    char log[RR_GL_INFO_LOG_MAX] = "";
    glGetProgramInfoLog(prog, sizeof(log), NULL, log);
    glDeleteProgram(prog);
    fail(err, err_size, "GL converter: %s program does not link: %s", name, log);
    return 0;
}

/* A colour-renderable texture and the FBO that draws into it; DSA, so no binding changes. */
static bool make_target(GLenum format, uint32_t width, uint32_t height, GLuint *out_tex,
                        GLuint *out_fbo, const char *name, char *err, size_t err_size)
{
    glCreateTextures(GL_TEXTURE_2D, 1, out_tex);
    glTextureStorage2D(*out_tex, 1, format, (GLsizei)width, (GLsizei)height);
    glCreateFramebuffers(1, out_fbo);
    glNamedFramebufferTexture(*out_fbo, GL_COLOR_ATTACHMENT0, *out_tex, 0);
    GLenum status = glCheckNamedFramebufferStatus(*out_fbo, GL_DRAW_FRAMEBUFFER);
    if (status != GL_FRAMEBUFFER_COMPLETE)
        return fail(err, err_size, "GL converter: %s framebuffer %ux%u is incomplete (0x%04x)",
                    name, width, height, status);
    return true;
}

static bool make_gl_objects(struct rr_gl_convert *c, char *err, size_t err_size)
{
    c->prog_y = link_program(k_luma_src, "luma", err, err_size);
    if (!c->prog_y)
        return false;
    c->prog_uv = link_program(k_chroma_src, "chroma", err, err_size);
    if (!c->prog_uv)
        return false;
    glCreateVertexArrays(1, &c->vao);
    glCreateSamplers(1, &c->sampler);
    glSamplerParameteri(c->sampler, GL_TEXTURE_MIN_FILTER, GL_NEAREST);
    glSamplerParameteri(c->sampler, GL_TEXTURE_MAG_FILTER, GL_NEAREST);
    if (!make_target(GL_R8, c->width, c->height, &c->tex_y, &c->fbo_y, "luma", err, err_size))
        return false;
    if (!make_target(GL_RG8, c->width / 2, c->height / 2, &c->tex_uv, &c->fbo_uv, "chroma", err,
                     err_size))
        return false;
    GLenum e = glGetError();
    if (e != GL_NO_ERROR)
        return fail(err, err_size, "GL converter: GL error 0x%04x while creating its objects", e);
    return true;
}

/* Deletes only what exists; deleting name 0 is a no-op in GL, but skip the calls entirely
 * when no context is current (the objects then go with the context). */
static void delete_gl_objects(struct rr_gl_convert *c)
{
    if (eglGetCurrentContext() == EGL_NO_CONTEXT) {
        U_LOG_W(LOG_MOD, "destroyed with no GL context current: its GL objects are left to "
                         "the context's destruction");
        return;
    }
    glDeleteFramebuffers(1, &c->fbo_y);
    glDeleteFramebuffers(1, &c->fbo_uv);
    glDeleteTextures(1, &c->tex_y);
    glDeleteTextures(1, &c->tex_uv);
    glDeleteSamplers(1, &c->sampler);
    glDeleteVertexArrays(1, &c->vao);
    glDeleteProgram(c->prog_y);
    glDeleteProgram(c->prog_uv);
}

bool rr_gl_convert_create(uint32_t width, uint32_t height, struct rr_gl_convert **out, char *err,
                          size_t err_size)
{
    *out = NULL;
    if (!check_size(width, height, err, err_size) || !check_context(err, err_size))
        return false;
    struct rr_gl_convert *c = calloc(1, sizeof(*c));
    if (!c)
        return fail(err, err_size, "GL converter: out of memory");
    c->width = width;
    c->height = height;
    c->context = eglGetCurrentContext();
    size_t luma = (size_t)width * height;
    c->y = malloc(luma);
    c->uv = malloc(luma / 2);
    if (!c->y || !c->uv) {
        fail(err, err_size, "GL converter: out of memory for %ux%u planes", width, height);
        rr_gl_convert_destroy(&c);
        return false;
    }
    if (!make_gl_objects(c, err, err_size)) {
        rr_gl_convert_destroy(&c);
        return false;
    }
    *out = c;
    return true;
}

void rr_gl_convert_destroy(struct rr_gl_convert **conv_ptr)
{
    if (!conv_ptr || !*conv_ptr)
        return;
    struct rr_gl_convert *c = *conv_ptr;
    delete_gl_objects(c);
    free(c->y);
    free(c->uv);
    free(c);
    *conv_ptr = NULL;
}

static void save_state(struct gl_saved_state *s)
{
    glGetIntegerv(GL_DRAW_FRAMEBUFFER_BINDING, &s->draw_fbo);
    glGetIntegerv(GL_READ_FRAMEBUFFER_BINDING, &s->read_fbo);
    glGetIntegerv(GL_VIEWPORT, s->viewport);
    glGetIntegerv(GL_CURRENT_PROGRAM, &s->program);
    glGetIntegerv(GL_VERTEX_ARRAY_BINDING, &s->vao);
    glGetIntegerv(GL_ACTIVE_TEXTURE, &s->active_texture);
    /* Unit 0's bindings can only be read with unit 0 active. */
    glActiveTexture(GL_TEXTURE0);
    glGetIntegerv(GL_TEXTURE_BINDING_2D, &s->texture0);
    glGetIntegerv(GL_SAMPLER_BINDING, &s->sampler0);
    glGetIntegerv(GL_PIXEL_PACK_BUFFER_BINDING, &s->pack_buffer);
    glGetIntegerv(GL_PACK_ALIGNMENT, &s->pack_alignment);
    glGetIntegerv(GL_PACK_ROW_LENGTH, &s->pack_row_length);
    glGetIntegerv(GL_PACK_SKIP_ROWS, &s->pack_skip_rows);
    glGetIntegerv(GL_PACK_SKIP_PIXELS, &s->pack_skip_pixels);
    glGetBooleani_v(GL_COLOR_WRITEMASK, 0, s->color_mask);
    s->scissor = glIsEnabled(GL_SCISSOR_TEST);
    s->blend = glIsEnabledi(GL_BLEND, 0);
    s->depth = glIsEnabled(GL_DEPTH_TEST);
    s->stencil = glIsEnabled(GL_STENCIL_TEST);
    s->cull = glIsEnabled(GL_CULL_FACE);
    s->discard = glIsEnabled(GL_RASTERIZER_DISCARD);
}

static void set_enabled(GLenum cap, GLboolean on)
{
    if (on)
        glEnable(cap);
    else
        glDisable(cap);
}

static void restore_state(const struct gl_saved_state *s)
{
    glBindFramebuffer(GL_DRAW_FRAMEBUFFER, (GLuint)s->draw_fbo);
    glBindFramebuffer(GL_READ_FRAMEBUFFER, (GLuint)s->read_fbo);
    glViewport(s->viewport[0], s->viewport[1], s->viewport[2], s->viewport[3]);
    glUseProgram((GLuint)s->program);
    glBindVertexArray((GLuint)s->vao);
    glBindTextureUnit(0, (GLuint)s->texture0);
    glBindSampler(0, (GLuint)s->sampler0);
    glActiveTexture((GLenum)s->active_texture);
    glBindBuffer(GL_PIXEL_PACK_BUFFER, (GLuint)s->pack_buffer);
    glPixelStorei(GL_PACK_ALIGNMENT, s->pack_alignment);
    glPixelStorei(GL_PACK_ROW_LENGTH, s->pack_row_length);
    glPixelStorei(GL_PACK_SKIP_ROWS, s->pack_skip_rows);
    glPixelStorei(GL_PACK_SKIP_PIXELS, s->pack_skip_pixels);
    glColorMaski(0, s->color_mask[0], s->color_mask[1], s->color_mask[2], s->color_mask[3]);
    set_enabled(GL_SCISSOR_TEST, s->scissor);
    if (s->blend)
        glEnablei(GL_BLEND, 0);
    else
        glDisablei(GL_BLEND, 0);
    set_enabled(GL_DEPTH_TEST, s->depth);
    set_enabled(GL_STENCIL_TEST, s->stencil);
    set_enabled(GL_CULL_FACE, s->cull);
    set_enabled(GL_RASTERIZER_DISCARD, s->discard);
}

/* State every pass relies on: plain writes of every fragment, packed rows in client memory. */
static void set_pass_state(const struct rr_gl_convert *c, GLuint texture)
{
    glDisable(GL_SCISSOR_TEST);
    glDisablei(GL_BLEND, 0);
    glDisable(GL_DEPTH_TEST);
    glDisable(GL_STENCIL_TEST);
    glDisable(GL_CULL_FACE);
    glDisable(GL_RASTERIZER_DISCARD);
    glColorMaski(0, GL_TRUE, GL_TRUE, GL_TRUE, GL_TRUE);
    glBindVertexArray(c->vao);
    glBindTextureUnit(0, texture);
    glBindSampler(0, c->sampler);
    glBindBuffer(GL_PIXEL_PACK_BUFFER, 0);
    glPixelStorei(GL_PACK_ALIGNMENT, 1);
    glPixelStorei(GL_PACK_ROW_LENGTH, 0);
    glPixelStorei(GL_PACK_SKIP_ROWS, 0);
    glPixelStorei(GL_PACK_SKIP_PIXELS, 0);
}

/* Draw one pass into @p fbo and read it back; pixels × channels bytes land in @p dst. */
static void draw_and_read(GLuint prog, GLuint fbo, uint32_t width, uint32_t height, GLenum format,
                          uint8_t *dst)
{
    glBindFramebuffer(GL_FRAMEBUFFER, fbo);
    glViewport(0, 0, (GLsizei)width, (GLsizei)height);
    glUseProgram(prog);
    glDrawArrays(GL_TRIANGLES, 0, 3);
    glReadPixels(0, 0, (GLsizei)width, (GLsizei)height, format, GL_UNSIGNED_BYTE, dst);
}

/* The source must be a 2D texture of the converter's size: texelFetch outside it is
 * undefined, and a smaller one would silently give a wrong picture. */
static bool check_texture(const struct rr_gl_convert *c, GLuint texture, char *err, size_t err_size)
{
    if (texture == 0 || !glIsTexture(texture))
        return fail(err, err_size, "GL converter: %u is not a texture name of this context",
                    texture);
    GLint target = 0;
    glGetTextureParameteriv(texture, GL_TEXTURE_TARGET, &target);
    if (target != GL_TEXTURE_2D)
        return fail(err, err_size, "GL converter: texture %u is not a GL_TEXTURE_2D (0x%04x)",
                    texture, (unsigned)target);
    GLint w = 0;
    GLint h = 0;
    glGetTextureLevelParameteriv(texture, 0, GL_TEXTURE_WIDTH, &w);
    glGetTextureLevelParameteriv(texture, 0, GL_TEXTURE_HEIGHT, &h);
    if ((uint32_t)w != c->width || (uint32_t)h != c->height)
        return fail(err, err_size, "GL converter: texture %u is %dx%d, the converter %ux%u",
                    texture, w, h, c->width, c->height);
    return true;
}

/* A caller's unchecked error would otherwise be reported as ours after the passes. */
static void clear_pending_errors(void)
{
    for (int i = 0; i < 16; i++) {
        GLenum e = glGetError();
        if (e == GL_NO_ERROR)
            return;
        U_LOG_W(LOG_MOD, "GL error 0x%04x was pending before the conversion; cleared", e);
    }
}

bool rr_gl_convert_run(struct rr_gl_convert *conv, unsigned int texture, const uint8_t **y,
                       const uint8_t **uv, char *err, size_t err_size)
{
    EGLContext current = eglGetCurrentContext();
    if (current == EGL_NO_CONTEXT)
        return fail(err, err_size, "GL converter: no EGL context is current on this thread");
    if (current != conv->context)
        return fail(err, err_size,
                    "GL converter: the current EGL context is not the one it was created with");
    clear_pending_errors();
    if (!check_texture(conv, texture, err, err_size))
        return false;
    struct gl_saved_state saved;
    save_state(&saved);
    set_pass_state(conv, texture);
    draw_and_read(conv->prog_y, conv->fbo_y, conv->width, conv->height, GL_RED, conv->y);
    draw_and_read(conv->prog_uv, conv->fbo_uv, conv->width / 2, conv->height / 2, GL_RG, conv->uv);
    restore_state(&saved);
    GLenum e = glGetError();
    if (e != GL_NO_ERROR)
        return fail(err, err_size, "GL converter: GL error 0x%04x during the conversion", e);
    *y = conv->y;
    *uv = conv->uv;
    return true;
}
