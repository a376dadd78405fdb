/* SPDX-License-Identifier: Apache-2.0 */
/*
 * renderer — the renderer's lifetime and the GL half of a frame: targets, per-frame buffers,
 * the passes over render_frame's batches, the selection outline, the checkerboard and the
 * timer queries.
 * Threads: the render thread (see render.h).
 */
#include "render.h"

#include "render_asset.h"
#include "render_egl.h"
#include "render_frame.h"
#include "render_internal.h"
#include "render_math.h"
#include "render_shader.h"
#include "u_log.h"

#include <epoxy/gl.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define LOG_MOD "render"
/* Timer queries in flight: results arrive a frame or two late; more would only add lag. */
#define QUERY_RING 4

/* Width of the selection outline in pixels of an eye's image. */
#define OUTLINE_PIXELS 3.0f

/* Checkerboard colours (display-encoded): mid and light grey, unmistakable for a scene. */
static const float checker_colours[2][4] = {{0.25f, 0.25f, 0.25f, 1.0f},
                                            {0.75f, 0.75f, 0.75f, 1.0f}};

struct rr_renderer {
    struct rr_renderer_config cfg;
    struct rr_render_egl egl;
    char gl_renderer[128];
    struct rr_render_programs progs;

    GLuint colour_tex;
    GLuint depth_rb; /* depth and stencil: the stencil marks selected silhouettes */
    GLuint fbo;
    GLuint empty_vao; /* the checkerboard's triangle comes from gl_VertexID */
    GLuint white_tex; /* bound to texture slots a material leaves empty */

    GLuint eye_ubo;
    uint32_t eye_stride;
    /* struct rr_instance_record[] of the frame, vertex buffer binding 1 of every VAO: its
     * name never changes (glNamedBufferData re-specifies the storage), so VAOs are pointed at
     * it once. */
    GLuint instance_buf;
    GLuint command_buf; /* struct rr_draw_command[] */
    GLuint outline_buf; /* struct rr_draw_command[] of the selection outline */

    /* The selected instances of the frame's commands, as commands into the same instance
     * buffer, in runs per eye that share a buffer set (one multi-draw each). */
    struct rr_draw_command *outline_cmds;
    size_t outline_cmd_count, outline_cmd_cap;
    struct outline_batch *outline_batches;
    size_t outline_batch_count, outline_batch_cap;
    uint32_t outline_eye_first[2], outline_eye_count[2];

    GLuint queries[QUERY_RING];
    bool query_pending[QUERY_RING];
    uint32_t query_next;
    double last_gpu_ms;

    struct rr_asset_registry reg;
    struct rr_frame_plan plan;
    bool naive; /* the benchmark's baseline, see render_internal.h */
};

/* One multi-draw of the outline passes: commands of one buffer set. */
struct outline_batch {
    struct rr_gpu_buffer_set *set;
    uint32_t first_command; /* into outline_cmds */
    uint32_t command_count;
};

static bool fail(char *err, size_t err_size, const char *msg)
{
    if (err && err_size)
        snprintf(err, err_size, "%s", msg);
    return false;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static bool config_valid(const struct rr_renderer_config *c, char *err, size_t err_size)
{
    const char *bad = NULL;
    if (c->eye_width == 0 || c->eye_width > RR_RENDER_MAX_EYE_SIZE)
        bad = "eye_width (1..8192)";
    else if (c->eye_height == 0 || c->eye_height > RR_RENDER_MAX_EYE_SIZE)
        bad = "eye_height (1..8192)";
    else if (!(c->near_plane >= 0.0f && c->near_plane < 1e6f))
        bad = "near_plane";
    else if (!(c->point_size >= 0.0f && c->point_size <= 256.0f))
        bad = "point_size (0..256)";
    else if (c->platform > RR_RENDER_PLATFORM_SURFACELESS)
        bad = "platform";
    for (int i = 0; i < 4 && !bad; i++)
        if (!(c->clear_colour[i] >= 0.0f && c->clear_colour[i] <= 1.0f))
            bad = "clear_colour (0..1)";
    if (!bad)
        return true;
    if (err && err_size)
        snprintf(err, err_size, "invalid renderer config: %s", bad);
    return false;
}

static bool create_targets(struct rr_renderer *r, char *err, size_t err_size)
{
    GLsizei w = (GLsizei)(2 * r->cfg.eye_width), h = (GLsizei)r->cfg.eye_height;
    glCreateTextures(GL_TEXTURE_2D, 1, &r->colour_tex);
    glTextureStorage2D(r->colour_tex, 1, GL_RGBA8, w, h);
    /* NEAREST: complete without mipmaps, and the stream reads texels one to one. */
    glTextureParameteri(r->colour_tex, GL_TEXTURE_MIN_FILTER, GL_NEAREST);
    glTextureParameteri(r->colour_tex, GL_TEXTURE_MAG_FILTER, GL_NEAREST);
    glCreateRenderbuffers(1, &r->depth_rb);
    /* The reversed-Z float depth, plus the stencil the outline needs. */
    glNamedRenderbufferStorage(r->depth_rb, GL_DEPTH32F_STENCIL8, w, h);
    glCreateFramebuffers(1, &r->fbo);
    glNamedFramebufferTexture(r->fbo, GL_COLOR_ATTACHMENT0, r->colour_tex, 0);
    glNamedFramebufferRenderbuffer(r->fbo, GL_DEPTH_STENCIL_ATTACHMENT, GL_RENDERBUFFER,
                                   r->depth_rb);
    if (glCheckNamedFramebufferStatus(r->fbo, GL_FRAMEBUFFER) != GL_FRAMEBUFFER_COMPLETE)
        return fail(err, err_size, "renderer: the render target framebuffer is incomplete");

    static const uint8_t white[4] = {255, 255, 255, 255};
    glCreateTextures(GL_TEXTURE_2D, 1, &r->white_tex);
    glTextureStorage2D(r->white_tex, 1, GL_RGBA8, 1, 1);
    glTextureSubImage2D(r->white_tex, 0, 0, 0, 1, 1, GL_RGBA, GL_UNSIGNED_BYTE, white);
    glCreateVertexArrays(1, &r->empty_vao);

    GLint align = 256;
    glGetIntegerv(GL_UNIFORM_BUFFER_OFFSET_ALIGNMENT, &align);
    if (align < 16)
        align = 16;
    r->reg.ubo_alignment = align;
    r->eye_stride = ((uint32_t)sizeof(struct rr_eye_block) + (uint32_t)align - 1) /
                    (uint32_t)align * (uint32_t)align;
    glCreateBuffers(1, &r->eye_ubo);
    glNamedBufferStorage(r->eye_ubo, 2 * r->eye_stride, NULL, GL_DYNAMIC_STORAGE_BIT);
    glCreateBuffers(1, &r->instance_buf);
    glCreateBuffers(1, &r->command_buf);
    glCreateBuffers(1, &r->outline_buf);
    glCreateQueries(GL_TIME_ELAPSED, QUERY_RING, r->queries);
    GLenum e = glGetError();
    if (e != GL_NO_ERROR) {
        if (err && err_size)
            snprintf(err, err_size, "renderer: creating the render targets failed (GL 0x%04x)",
                     (unsigned)e);
        return false;
    }
    return true;
}

bool rr_renderer_create(const struct rr_renderer_config *cfg, struct rr_renderer **out, char *err,
                        size_t err_size)
{
    *out = NULL;
    if (!cfg)
        return fail(err, err_size, "invalid renderer config: NULL");
    if (!config_valid(cfg, err, err_size))
        return false;
    struct rr_renderer *r = calloc(1, sizeof(*r));
    if (!r)
        return fail(err, err_size, "renderer: out of memory");
    r->cfg = *cfg;
    if (r->cfg.near_plane == 0.0f)
        r->cfg.near_plane = 0.05f;
    if (r->cfg.point_size == 0.0f)
        r->cfg.point_size = 2.0f;
    r->last_gpu_ms = -1.0;
    if (!rr_render_egl_open(cfg->platform, &r->egl, err, err_size)) {
        free(r);
        return false;
    }
    const char *name = (const char *)glGetString(GL_RENDERER);
    snprintf(r->gl_renderer, sizeof(r->gl_renderer), "%s", name ? name : "unknown");
    while (glGetError() != GL_NO_ERROR) {
    }
    if (!rr_render_programs_create(&r->progs, err, err_size) || !create_targets(r, err, err_size)) {
        rr_renderer_destroy(&r);
        return false;
    }
    U_LOG_I(LOG_MOD, "renderer: %s display, %s, 2x%ux%u, budget %llu", r->egl.platform,
            r->gl_renderer, cfg->eye_width, cfg->eye_height,
            (unsigned long long)cfg->primitive_budget);
    *out = r;
    return true;
}

void rr_renderer_destroy(struct rr_renderer **renderer_ptr)
{
    if (!renderer_ptr || !*renderer_ptr)
        return;
    struct rr_renderer *r = *renderer_ptr;
    *renderer_ptr = NULL;
    /* GL objects can only be deleted with the context current; make sure it is. */
    if (r->egl.context != EGL_NO_CONTEXT && eglGetCurrentContext() != r->egl.context)
        eglMakeCurrent(r->egl.display, EGL_NO_SURFACE, EGL_NO_SURFACE, r->egl.context);
    if (r->egl.context != EGL_NO_CONTEXT) {
        rr_asset_registry_clear(&r->reg);
        rr_render_programs_destroy(&r->progs);
        glDeleteFramebuffers(1, &r->fbo);
        glDeleteRenderbuffers(1, &r->depth_rb);
        glDeleteTextures(1, &r->colour_tex);
        glDeleteTextures(1, &r->white_tex);
        glDeleteVertexArrays(1, &r->empty_vao);
        GLuint bufs[4] = {r->eye_ubo, r->instance_buf, r->command_buf, r->outline_buf};
        glDeleteBuffers(4, bufs);
        glDeleteQueries(QUERY_RING, r->queries);
    }
    rr_frame_plan_free(&r->plan);
    free(r->outline_cmds);
    free(r->outline_batches);
    rr_render_egl_close(&r->egl);
    free(r);
}

bool rr_renderer_asset_get(struct rr_renderer *r, const struct rr_asset *asset,
                           struct rr_render_asset **out_handle, char *err, size_t err_size)
{
    if (out_handle)
        *out_handle = NULL;
    if (!r || !asset || !out_handle)
        return fail(err, err_size, "renderer: invalid argument");
    return rr_asset_registry_get(&r->reg, asset, out_handle, err, err_size);
}

void rr_renderer_asset_release(struct rr_renderer *r, struct rr_render_asset **handle_ptr)
{
    if (!r || !handle_ptr || !*handle_ptr)
        return;
    rr_asset_registry_release(&r->reg, *handle_ptr);
    *handle_ptr = NULL;
}

uint32_t rr_renderer_gpu_asset_count(const struct rr_renderer *r)
{
    return r ? r->reg.gpu_count : 0;
}

uint64_t rr_renderer_upload_count(const struct rr_renderer *r)
{
    return r ? r->reg.uploads : 0;
}

unsigned int rr_renderer_texture(const struct rr_renderer *r)
{
    return r ? r->colour_tex : 0;
}

void rr_renderer_texture_size(const struct rr_renderer *r, uint32_t *out_width,
                              uint32_t *out_height)
{
    if (out_width)
        *out_width = r ? 2 * r->cfg.eye_width : 0;
    if (out_height)
        *out_height = r ? r->cfg.eye_height : 0;
}

const char *rr_renderer_platform_name(const struct rr_renderer *r)
{
    return r && r->egl.platform ? r->egl.platform : "";
}

const char *rr_renderer_gl_renderer(const struct rr_renderer *r)
{
    return r ? r->gl_renderer : "";
}

bool rr_renderer_make_current(struct rr_renderer *r, char *err, size_t err_size)
{
    if (!r)
        return fail(err, err_size, "renderer: invalid argument");
    if (eglMakeCurrent(r->egl.display, EGL_NO_SURFACE, EGL_NO_SURFACE, r->egl.context))
        return true;
    if (err && err_size)
        snprintf(err, err_size, "renderer: eglMakeCurrent failed (EGL error 0x%04x)",
                 (unsigned)eglGetError());
    return false;
}

void rr_renderer_set_naive(struct rr_renderer *r, bool naive)
{
    if (r)
        r->naive = naive;
}

/* ---- frame ------------------------------------------------------------------------------ */

/* Collect finished timer queries; the newest result wins. */
static void poll_queries(struct rr_renderer *r)
{
    for (uint32_t k = 0; k < QUERY_RING; k++) {
        uint32_t i = (r->query_next + k) % QUERY_RING; /* oldest first */
        if (!r->query_pending[i])
            continue;
        GLint available = 0;
        glGetQueryObjectiv(r->queries[i], GL_QUERY_RESULT_AVAILABLE, &available);
        if (!available)
            continue;
        GLuint64 ns = 0;
        glGetQueryObjectui64v(r->queries[i], GL_QUERY_RESULT, &ns);
        r->last_gpu_ms = (double)ns / 1e6;
        r->query_pending[i] = false;
    }
}

static void eye_setup(const struct rr_render_eye *in, float near_z, struct rr_frame_eye *out)
{
    float view[16], proj[16];
    rr_mat4_view_from_pose(view, in->position, in->orientation);
    rr_mat4_projection_fov(proj, in->angle_left, in->angle_right, in->angle_up, in->angle_down,
                           near_z);
    rr_mat4_mul(out->view_proj, proj, view);
    memcpy(out->position, in->position, sizeof(out->position));
    rr_frustum_from_matrix(&out->frustum, out->view_proj);
}

static bool eye_valid(const struct rr_render_eye *e)
{
    const float *f = &e->position[0];
    for (size_t i = 0; i < sizeof(*e) / sizeof(float); i++)
        if (!isfinite(f[i]))
            return false;
    return e->angle_left < e->angle_right && e->angle_down < e->angle_up &&
           e->angle_left > -1.55f && e->angle_right < 1.55f && e->angle_down > -1.55f &&
           e->angle_up < 1.55f;
}

static void upload_eyes(struct rr_renderer *r, const struct rr_frame_eye eyes[2],
                        const struct rr_scene_view *view, uint32_t *out_planes)
{
    uint32_t planes = 0;
    struct rr_eye_block b[2];
    memset(b, 0, sizeof(b));
    uint32_t n = view ? view->cut_plane_count : 0;
    if (n > RR_SCENE_MAX_CUT_PLANES)
        n = RR_SCENE_MAX_CUT_PLANES;
    for (uint32_t i = 0; i < n; i++) {
        const struct rr_cut_plane *p = &view->cut_planes[i];
        /* A non-finite plane would make every clip distance NaN: leave it out. */
        if (!isfinite(p->normal[0]) || !isfinite(p->normal[1]) || !isfinite(p->normal[2]) ||
            !isfinite(p->distance))
            continue;
        for (int e = 0; e < 2; e++) {
            memcpy(b[e].cut_planes[planes], p->normal, sizeof(p->normal));
            b[e].cut_planes[planes][3] = p->distance;
        }
        planes++;
    }
    for (int e = 0; e < 2; e++) {
        memcpy(b[e].view_proj, eyes[e].view_proj, sizeof(b[e].view_proj));
        memcpy(b[e].eye_position, eyes[e].position, sizeof(eyes[e].position));
        b[e].eye_position[3] = 1.0f;
        b[e].cut_plane_count = planes;
        glNamedBufferSubData(r->eye_ubo, (GLintptr)e * r->eye_stride, sizeof(b[e]), &b[e]);
    }
    *out_planes = planes;
}

/* GL state a batch sets, tracked so that unchanged state costs no call. */
struct gl_cache {
    GLuint program;
    GLuint vao;
    int cull; /* -1 unknown, 0 off, 1 on */
    int mirrored;
    int blend;
    GLuint textures[RR_TEXTURE_SLOTS];
    const struct rr_gpu_asset *material_gpu;
    uint32_t material;
    uint32_t attrs;
};

static void set_state(struct gl_cache *c, uint32_t state)
{
    int cull = !(state & RR_BATCH_DOUBLE_SIDED);
    if (cull != c->cull) {
        (cull ? glEnable : glDisable)(GL_CULL_FACE);
        c->cull = cull;
    }
    int mirrored = (state & RR_BATCH_MIRRORED) != 0;
    if (mirrored != c->mirrored) {
        glFrontFace(mirrored ? GL_CW : GL_CCW);
        c->mirrored = mirrored;
    }
    int blend = (state & RR_BATCH_BLEND) != 0;
    if (blend != c->blend) {
        (blend ? glEnable : glDisable)(GL_BLEND);
        glDepthMask(blend ? GL_FALSE : GL_TRUE);
        c->blend = blend;
    }
}

static void bind_instances(struct rr_renderer *r, GLuint vao, GLuint *bound)
{
    if (*bound != r->instance_buf) {
        glVertexArrayVertexBuffer(vao, RR_BINDING_INSTANCES, r->instance_buf, 0,
                                  sizeof(struct rr_instance_record));
        *bound = r->instance_buf;
    }
}

static uint32_t draw_batch(struct rr_renderer *r, struct gl_cache *c,
                           const struct rr_frame_batch *b)
{
    struct rr_gpu_asset *g = b->gpu;
    set_state(c, b->state);
    if (b->state & RR_BATCH_POINTS) {
        struct rr_gpu_cloud *cloud = &g->clouds[b->material];
        if (c->program != r->progs.points) {
            glUseProgram(r->progs.points);
            c->program = r->progs.points;
        }
        glUniform1i(r->progs.points_u_has_color, cloud->has_color);
        bind_instances(r, cloud->vao, &cloud->instance_buffer);
        glBindVertexArray(cloud->vao);
        c->vao = cloud->vao;
        glDrawArraysInstancedBaseInstance(GL_POINTS, 0, (GLsizei)cloud->point_count, 1,
                                          b->first_instance);
        return 1;
    }
    struct rr_gpu_buffer_set *set = &g->sets[b->set];
    if (c->program != r->progs.mesh) {
        glUseProgram(r->progs.mesh);
        c->program = r->progs.mesh;
        c->attrs = UINT32_MAX;
    }
    if (c->attrs != set->attrs) {
        glUniform1ui(r->progs.mesh_u_attrs, set->attrs);
        c->attrs = set->attrs;
    }
    if (c->vao != set->vao) {
        bind_instances(r, set->vao, &set->instance_buffer);
        glBindVertexArray(set->vao);
        c->vao = set->vao;
    }
    if (c->material_gpu != g || c->material != b->material) {
        const struct rr_gpu_material *m = &g->materials[b->material];
        glBindBufferRange(GL_UNIFORM_BUFFER, RR_UBO_MATERIAL, g->material_ubo,
                          (GLintptr)b->material * g->material_stride,
                          sizeof(struct rr_material_block));
        for (int s = 0; s < RR_TEXTURE_SLOTS; s++) {
            GLuint t = m->textures[s] ? m->textures[s] : r->white_tex;
            if (c->textures[s] != t) {
                glBindTextureUnit((GLuint)s, t);
                c->textures[s] = t;
            }
        }
        c->material_gpu = g;
        c->material = b->material;
    }
    GLenum type = set->index_size == 2 ? GL_UNSIGNED_SHORT : GL_UNSIGNED_INT;
    if (r->naive) {
        const struct rr_draw_command *cmd = &r->plan.commands[b->first_command];
        glDrawElementsInstancedBaseVertexBaseInstance(
            GL_TRIANGLES, (GLsizei)cmd->count, type,
            (const void *)((uintptr_t)cmd->first_index * set->index_size),
            (GLsizei)cmd->instance_count, cmd->base_vertex, cmd->base_instance);
        return 1;
    }
    glMultiDrawElementsIndirect(
        GL_TRIANGLES, type,
        (const void *)((uintptr_t)b->first_command * sizeof(struct rr_draw_command)),
        (GLsizei)b->command_count, 0);
    return 1;
}

static uint32_t draw_scene(struct rr_renderer *r)
{
    struct rr_frame_plan *p = &r->plan;
    if (p->batch_count == 0)
        return 0;
    glNamedBufferData(r->instance_buf, (GLsizeiptr)(p->instance_count * sizeof(*p->instances)),
                      p->instances, GL_STREAM_DRAW);
    glNamedBufferData(r->command_buf, (GLsizeiptr)(p->command_count * sizeof(*p->commands)),
                      p->commands, GL_STREAM_DRAW);
    glBindBuffer(GL_DRAW_INDIRECT_BUFFER, r->command_buf);
    glProgramUniform1f(r->progs.points, r->progs.points_u_point_size, r->cfg.point_size);

    struct gl_cache c;
    memset(&c, 0, sizeof(c));
    c.cull = c.mirrored = c.blend = -1;
    uint32_t calls = 0;
    for (int e = 0; e < 2; e++) {
        glViewport((GLint)(e * r->cfg.eye_width), 0, (GLsizei)r->cfg.eye_width,
                   (GLsizei)r->cfg.eye_height);
        glBindBufferRange(GL_UNIFORM_BUFFER, RR_UBO_EYE, r->eye_ubo, (GLintptr)e * r->eye_stride,
                          sizeof(struct rr_eye_block));
        for (uint32_t i = 0; i < p->eye_batch_count[e]; i++) {
            if (r->naive) { /* the baseline binds everything for every draw */
                memset(&c, 0, sizeof(c));
                c.cull = c.mirrored = c.blend = -1;
            }
            calls += draw_batch(r, &c, &p->batches[p->eye_batch_first[e] + i]);
        }
    }
    for (int s = 0; s < RR_TEXTURE_SLOTS; s++)
        glBindTextureUnit((GLuint)s, 0);
    glBindBuffer(GL_DRAW_INDIRECT_BUFFER, 0);
    return calls;
}

/* Grow *arr to @p need elements of @p size; false when out of memory. */
static bool grow(void **arr, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return true;
    size_t n = *cap ? *cap : 16;
    while (n < need)
        n *= 2;
    void *p = realloc(*arr, n * size);
    if (!p)
        return false;
    *arr = p;
    *cap = n;
    return true;
}

/* The selection outline's draws: per eye, every selected instance of the eye's mesh commands
 * (runs of consecutive ones in a command stay one command), drawn from the frame's instance
 * buffer; neighbouring commands of one buffer set are one multi-draw, whatever their
 * material. Point clouds get no outline. A frame without a selected draw collects nothing
 * and draws no outline pass. false when out of memory. */
static bool build_outlines(struct rr_renderer *r)
{
    const struct rr_frame_plan *p = &r->plan;
    r->outline_cmd_count = r->outline_batch_count = 0;
    for (int e = 0; e < 2; e++)
        r->outline_eye_first[e] = r->outline_eye_count[e] = 0;
    bool any = false;
    for (size_t i = 0; i < p->record_count && !any; i++)
        any = (p->records[i].flags & RR_DRAW_SELECTED) != 0;
    if (!any)
        return true;
    /* At most one command per instance and one batch per command. */
    if (!grow((void **)&r->outline_cmds, &r->outline_cmd_cap, p->instance_count,
              sizeof(*r->outline_cmds)) ||
        !grow((void **)&r->outline_batches, &r->outline_batch_cap, p->instance_count,
              sizeof(*r->outline_batches)))
        return false;
    for (int e = 0; e < 2; e++) {
        r->outline_eye_first[e] = (uint32_t)r->outline_batch_count;
        struct outline_batch *ob = NULL;
        for (uint32_t bi = 0; bi < p->eye_batch_count[e]; bi++) {
            const struct rr_frame_batch *b = &p->batches[p->eye_batch_first[e] + bi];
            if (b->state & RR_BATCH_POINTS)
                continue;
            struct rr_gpu_buffer_set *set = &b->gpu->sets[b->set];
            for (uint32_t ci = 0; ci < b->command_count; ci++) {
                const struct rr_draw_command *c = &p->commands[b->first_command + ci];
                bool run = false;
                for (uint32_t k = 0; k < c->instance_count; k++) {
                    uint32_t slot = c->base_instance + k;
                    bool selected = (p->instances[slot].flags & RR_DRAW_SELECTED) != 0;
                    if (selected && run) {
                        r->outline_cmds[r->outline_cmd_count - 1].instance_count++;
                    } else if (selected) {
                        if (!ob || ob->set != set) {
                            ob = &r->outline_batches[r->outline_batch_count++];
                            *ob = (struct outline_batch){
                                .set = set,
                                .first_command = (uint32_t)r->outline_cmd_count,
                            };
                        }
                        r->outline_cmds[r->outline_cmd_count++] = (struct rr_draw_command){
                            .count = c->count,
                            .instance_count = 1,
                            .first_index = c->first_index,
                            .base_vertex = c->base_vertex,
                            .base_instance = slot,
                        };
                        ob->command_count++;
                    }
                    run = selected;
                }
            }
        }
        r->outline_eye_count[e] = (uint32_t)r->outline_batch_count - r->outline_eye_first[e];
    }
    return true;
}

/* The outline after both of an eye's passes, in two passes over the selected instances:
 *  1. stencil ← 1 where they cover, colour and depth writes off, depth test off: the mark is
 *     the whole silhouette, hidden parts included, so that pass 2 never paints over the
 *     selected object itself, even where something nearer hides part of it;
 *  2. the same geometry pushed OUTLINE_PIXELS out on screen, flat orange, where the stencil
 *     is not 1, depth test off: a ring just outside the silhouette, on top of everything, so
 *     a selected object behind others still shows where it is.
 * Culling is off in both (the push is along normals, back faces widen the ring too). Returns
 * the GL calls. */
static uint32_t draw_outlines(struct rr_renderer *r)
{
    if (r->outline_batch_count == 0)
        return 0;
    glNamedBufferData(r->outline_buf, (GLsizeiptr)(r->outline_cmd_count * sizeof(*r->outline_cmds)),
                      r->outline_cmds, GL_STREAM_DRAW);
    glBindBuffer(GL_DRAW_INDIRECT_BUFFER, r->outline_buf);
    glUseProgram(r->progs.outline);
    glDisable(GL_CULL_FACE);
    glDisable(GL_BLEND);
    glDisable(GL_DEPTH_TEST);
    glDepthMask(GL_FALSE);
    glEnable(GL_STENCIL_TEST);
    uint32_t calls = 0;
    for (int e = 0; e < 2; e++) {
        if (r->outline_eye_count[e] == 0)
            continue;
        glViewport((GLint)(e * r->cfg.eye_width), 0, (GLsizei)r->cfg.eye_width,
                   (GLsizei)r->cfg.eye_height);
        glBindBufferRange(GL_UNIFORM_BUFFER, RR_UBO_EYE, r->eye_ubo, (GLintptr)e * r->eye_stride,
                          sizeof(struct rr_eye_block));
        for (int pass = 0; pass < 2; pass++) {
            bool ring = pass == 1;
            glColorMask(ring, ring, ring, ring);
            glStencilFunc(ring ? GL_NOTEQUAL : GL_ALWAYS, 1, 0xffu);
            glStencilOp(GL_KEEP, GL_KEEP, ring ? GL_KEEP : GL_REPLACE);
            glUniform3f(r->progs.outline_u_outline, (float)r->cfg.eye_width,
                        (float)r->cfg.eye_height, ring ? OUTLINE_PIXELS : 0.0f);
            uint32_t attrs = UINT32_MAX;
            for (uint32_t i = 0; i < r->outline_eye_count[e]; i++) {
                const struct outline_batch *ob = &r->outline_batches[r->outline_eye_first[e] + i];
                struct rr_gpu_buffer_set *set = ob->set;
                if (attrs != set->attrs) {
                    glUniform1ui(r->progs.outline_u_attrs, set->attrs);
                    attrs = set->attrs;
                }
                bind_instances(r, set->vao, &set->instance_buffer);
                glBindVertexArray(set->vao);
                glMultiDrawElementsIndirect(
                    GL_TRIANGLES, set->index_size == 2 ? GL_UNSIGNED_SHORT : GL_UNSIGNED_INT,
                    (const void *)((uintptr_t)ob->first_command * sizeof(struct rr_draw_command)),
                    (GLsizei)ob->command_count, 0);
                calls++;
            }
        }
    }
    glColorMask(GL_TRUE, GL_TRUE, GL_TRUE, GL_TRUE);
    glStencilFunc(GL_ALWAYS, 0, ~0u);
    glStencilOp(GL_KEEP, GL_KEEP, GL_KEEP);
    glDisable(GL_STENCIL_TEST);
    glBindBuffer(GL_DRAW_INDIRECT_BUFFER, 0);
    return calls;
}

static void draw_checker(struct rr_renderer *r)
{
    glDisable(GL_DEPTH_TEST);
    glViewport(0, 0, (GLsizei)(2 * r->cfg.eye_width), (GLsizei)r->cfg.eye_height);
    glUseProgram(r->progs.checker);
    glUniform4fv(r->progs.checker_u_colours, 2, &checker_colours[0][0]);
    glBindVertexArray(r->empty_vao);
    glDrawArrays(GL_TRIANGLES, 0, 3);
}

/* Leave the context as GL's defaults for what the stream's converter (and others) draw. */
static void restore_state(uint32_t planes)
{
    for (uint32_t i = 0; i < planes; i++)
        glDisable(GL_CLIP_DISTANCE0 + i);
    glDisable(GL_DEPTH_TEST);
    glDisable(GL_CULL_FACE);
    glDisable(GL_BLEND);
    glDepthMask(GL_TRUE);
    glFrontFace(GL_CCW);
    glClipControl(GL_LOWER_LEFT, GL_NEGATIVE_ONE_TO_ONE);
    glBindVertexArray(0);
    glUseProgram(0);
    glBindFramebuffer(GL_FRAMEBUFFER, 0);
}

bool rr_renderer_draw(struct rr_renderer *r, const struct rr_scene_view *view,
                      const struct rr_render_eye eyes[2], struct rr_render_stats *stats, char *err,
                      size_t err_size)
{
    double t0 = now_ms();
    struct rr_render_stats st;
    memset(&st, 0, sizeof(st));
    if (stats)
        *stats = st;
    if (!r || !eyes)
        return fail(err, err_size, "renderer: invalid argument");
    if (!eye_valid(&eyes[0]) || !eye_valid(&eyes[1]))
        return fail(err, err_size,
                    "renderer: an eye has a non-finite pose or an empty or "
                    "too wide field of view");
    if (eglGetCurrentContext() != r->egl.context)
        return fail(err, err_size, "renderer: its context is not current on this thread");
    while (glGetError() != GL_NO_ERROR) {
    }
    poll_queries(r);

    struct rr_frame_eye fe[2];
    for (int e = 0; e < 2; e++)
        eye_setup(&eyes[e], r->cfg.near_plane, &fe[e]);
    struct rr_frame_counts counts;
    memset(&counts, 0, sizeof(counts));
    size_t visible = 0;
    if (!rr_frame_cull(&r->plan, &r->reg, view, fe, !r->naive, &counts, &visible))
        return fail(err, err_size, "renderer: out of memory");
    st.draws_total = view ? (uint32_t)view->draw_count : 0;
    uint64_t primitives = counts.triangles_visible + counts.points_visible;
    st.over_budget = r->cfg.primitive_budget && primitives > r->cfg.primitive_budget;
    if (!st.over_budget &&
        (!rr_frame_build(&r->plan, view, visible, fe, !r->naive, &counts) || !build_outlines(r)))
        return fail(err, err_size, "renderer: out of memory");

    uint32_t slot = r->query_next;
    bool timed = !r->query_pending[slot];
    if (timed)
        glBeginQuery(GL_TIME_ELAPSED, r->queries[slot]);
    glBindFramebuffer(GL_FRAMEBUFFER, r->fbo);
    glViewport(0, 0, (GLsizei)(2 * r->cfg.eye_width), (GLsizei)r->cfg.eye_height);
    glClearColor(r->cfg.clear_colour[0], r->cfg.clear_colour[1], r->cfg.clear_colour[2],
                 r->cfg.clear_colour[3]);
    glClearDepth(0.0); /* reversed Z: 0 is infinitely far */
    glDepthMask(GL_TRUE);
    /* The stencil too, every frame: depth and stencil share each texel, so clearing depth
     * alone would be a masked (slower) clear. */
    glClear(GL_COLOR_BUFFER_BIT | GL_DEPTH_BUFFER_BIT | GL_STENCIL_BUFFER_BIT);
    uint32_t planes = 0;
    if (st.over_budget) {
        draw_checker(r);
        st.gl_draw_calls = 1;
    } else {
        upload_eyes(r, fe, view, &planes);
        for (uint32_t i = 0; i < planes; i++)
            glEnable(GL_CLIP_DISTANCE0 + i);
        glClipControl(GL_LOWER_LEFT, GL_ZERO_TO_ONE);
        glEnable(GL_DEPTH_TEST);
        glDepthFunc(GL_GREATER);
        glBlendFuncSeparate(GL_SRC_ALPHA, GL_ONE_MINUS_SRC_ALPHA, GL_ONE, GL_ONE_MINUS_SRC_ALPHA);
        glEnable(GL_PROGRAM_POINT_SIZE);
        st.gl_draw_calls = draw_scene(r);
        st.outline_draws = draw_outlines(r);
        st.gl_draw_calls += st.outline_draws;
        glDisable(GL_PROGRAM_POINT_SIZE);
        glDepthFunc(GL_LESS);
    }
    restore_state(planes);
    if (timed) {
        glEndQuery(GL_TIME_ELAPSED);
        r->query_pending[slot] = true;
        r->query_next = (slot + 1) % QUERY_RING;
    }
    /* Start the GPU on the frame now; the stream's reads in this context queue behind it. */
    glFlush();
    GLenum e = glGetError();

    st.draws_rendered = st.over_budget ? 0 : counts.draws_rendered;
    st.draws_culled = counts.draws_culled;
    st.draws_invalid = counts.draws_invalid;
    st.triangles_visible = counts.triangles_visible;
    st.points_visible = counts.points_visible;
    st.triangles_rendered = counts.triangles_rendered;
    st.cpu_ms = now_ms() - t0;
    st.gpu_ms = r->last_gpu_ms;
    if (stats)
        *stats = st;
    if (e != GL_NO_ERROR) {
        if (err && err_size)
            snprintf(err, err_size, "renderer: GL error 0x%04x while drawing", (unsigned)e);
        return false;
    }
    return true;
}
