/* SPDX-License-Identifier: Apache-2.0 */
/*
 * render — the host's stereo renderer (libopenrr_render). It owns an EGL display and an
 * OpenGL 4.5 core context, keeps GPU copies of .rrasset files (one per content hash, however
 * often the file is opened) and draws what the scene graph hands it each frame
 * (src/scene/scene_view.h) for two eyes into one side-by-side RGBA8 texture that the stream
 * (rr_stream_remote_submit_gl) encodes from the same context.
 *
 * Per frame: every draw's world-space box is tested against both eyes' frusta; what is visible
 * is grouped by vertex buffers, material and state, and submitted with instancing and
 * glMultiDrawElementsIndirect; opaque first, then blended geometry back to front. When the
 * triangles left after culling exceed the primitive budget a checkerboard is drawn instead
 * (what the reference does for its Standard size). See docs/render.md.
 *
 * Ownership: the renderer owns its context, its GPU objects and the texture it renders into;
 * the caller owns the assets (struct rr_asset) and the scene view. An asset handle holds a
 * reference on the GPU copy, not on the struct rr_asset: the caller may close the asset after
 * rr_renderer_asset_get, but its draws name the struct rr_asset pointer, so the pointer must
 * stay registered (not released) for as long as draws name it.
 * Threads: one thread — the render thread — creates the renderer (its context becomes current
 * there) and makes every call, including destroy. Nothing here is thread-safe.
 * Errors: functions that can fail return false and write a one-line reason into err (which may
 * be NULL); nothing aborts. Per-draw problems (a NaN in a matrix, an asset that was never
 * registered, an index out of range) skip that draw and are counted in the frame's stats.
 */
#ifndef RR_RENDER_H
#define RR_RENDER_H

#include "openrr/asset.h"
#include "scene_view.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Triangles of the reference's Standard size; Premium is unbounded (budget 0). */
#define RR_RENDER_BUDGET_STANDARD 20000000u
#define RR_RENDER_MAX_EYE_SIZE 8192u

/* Which EGL platform provides the display. */
enum rr_render_platform {
    RR_RENDER_PLATFORM_AUTO = 0,    /* the first EGL device, else Mesa surfaceless */
    RR_RENDER_PLATFORM_DEVICE,      /* EGL_PLATFORM_DEVICE_EXT, first device, or fail */
    RR_RENDER_PLATFORM_SURFACELESS, /* EGL_PLATFORM_SURFACELESS_MESA, or fail */
};

struct rr_renderer_config {
    uint32_t eye_width;  /* pixels per eye, 1..RR_RENDER_MAX_EYE_SIZE; the texture is 2× wide */
    uint32_t eye_height; /* 1..RR_RENDER_MAX_EYE_SIZE */
    /* Largest number of primitives (triangles + points) visible after culling that is still
     * rendered; beyond it the frame is a checkerboard. 0 = unbounded. */
    uint64_t primitive_budget;
    float clear_colour[4]; /* written as given (display-encoded RGBA, 0..1) */
    float near_plane;      /* metres, 0 = 0.05; the far plane is at infinity (reversed Z) */
    float point_size;      /* pixels for point clouds, 0 = 2 */
    enum rr_render_platform platform;
};

/* One eye, as OpenXR reports a view: pose in world space (metres; +Y up, −Z ahead) and the
 * field of view as four angles in radians (left and down usually negative). */
struct rr_render_eye {
    float position[3];
    float orientation[4]; /* unit quaternion x, y, z, w (XrQuaternionf order) */
    float angle_left;
    float angle_right;
    float angle_up;
    float angle_down;
};

struct rr_render_stats {
    uint32_t draws_total;       /* draws in the view */
    uint32_t draws_rendered;    /* visible to at least one eye and submitted */
    uint32_t draws_culled;      /* outside both eyes' frusta (or an empty mesh) */
    uint32_t draws_invalid;     /* skipped: non-finite matrix, unregistered asset, bad index */
    uint32_t gl_draw_calls;     /* multi-draw / draw calls issued for both eyes */
    uint32_t outline_draws;     /* of gl_draw_calls, the selection outline's (0: none selected) */
    uint64_t triangles_visible; /* of draws visible to at least one eye: what the budget sees */
    uint64_t points_visible;
    uint64_t triangles_rendered; /* summed over both eyes (the GPU's work) */
    bool over_budget;            /* the checkerboard was drawn instead of the scene */
    double cpu_ms;               /* this call, on the CPU */
    /* GPU time of the newest frame whose timer query had finished (usually the previous one);
     * negative while none has, or without timer queries. */
    double gpu_ms;
};

struct rr_renderer;
struct rr_render_asset; /* a registration of one struct rr_asset */

/* Create the EGL display and an OpenGL 4.5 core context, make it current on the calling thread
 * and allocate the (2 × eye_width) × eye_height colour texture and its depth buffer.
 * false with err = "no EGL display with OpenGL 4.5 core: <why>" when the platform cannot
 * give one, or "invalid renderer config: <field>" for a bad config. */
bool rr_renderer_create(const struct rr_renderer_config *cfg, struct rr_renderer **out, char *err,
                        size_t err_size);

/* Free every GPU object (handles still registered are released, with a warning) and destroy
 * the context. The EGL display stays initialised: it is a per-process singleton that other EGL
 * users in the process may share (see render_egl.h). Sets *renderer_ptr to NULL; NULL is
 * fine. */
void rr_renderer_destroy(struct rr_renderer **renderer_ptr);

/* Register @p asset for drawing: the first registration of its content (the header's section
 * table hash, which covers every section's hash, and the file size) uploads meshes, indices,
 * materials, textures and point clouds; later ones — even of another struct rr_asset with the
 * same content — share that upload. Registering the same pointer twice returns the same handle
 * with one more reference. false with err when a texture cannot be decoded or GL runs out of
 * memory (nothing stays allocated then). */
bool rr_renderer_asset_get(struct rr_renderer *r, const struct rr_asset *asset,
                           struct rr_render_asset **out_handle, char *err, size_t err_size);
/* Drop one reference; the GPU copy goes with the last handle of its content. Sets *handle_ptr
 * to NULL. */
void rr_renderer_asset_release(struct rr_renderer *r, struct rr_render_asset **handle_ptr);

/* Distinct GPU copies alive, and uploads performed since creation (the same content registered
 * twice counts once in both). */
uint32_t rr_renderer_gpu_asset_count(const struct rr_renderer *r);
uint64_t rr_renderer_upload_count(const struct rr_renderer *r);

/* Render @p view for both eyes (eyes[0] left half, eyes[1] right half) into the texture and
 * fill @p stats (may be NULL). false with err only when GL itself failed (GL_OUT_OF_MEMORY);
 * invalid draws never fail the frame. The context must be current (it is, on the thread that
 * created the renderer, unless the caller changed that). */
bool rr_renderer_draw(struct rr_renderer *r, const struct rr_scene_view *view,
                      const struct rr_render_eye eyes[2], struct rr_render_stats *stats, char *err,
                      size_t err_size);

/* The GL_TEXTURE_2D name of the side-by-side RGBA8 colour texture, row 0 at the bottom as GL
 * renders: hand it to rr_stream_remote_submit_gl on this thread after rr_renderer_draw. The same
 * context orders the stream's reads after the frame's draws; other contexts need a fence. */
unsigned int rr_renderer_texture(const struct rr_renderer *r);
void rr_renderer_texture_size(const struct rr_renderer *r, uint32_t *out_width,
                              uint32_t *out_height);
/* Which platform the display came from: "device" or "surfaceless"; and GL_RENDERER. */
const char *rr_renderer_platform_name(const struct rr_renderer *r);
const char *rr_renderer_gl_renderer(const struct rr_renderer *r);

/* Make the renderer's context current on the calling thread again (after another library
 * switched contexts). false with err when EGL refuses. */
bool rr_renderer_make_current(struct rr_renderer *r, char *err, size_t err_size);

#endif
