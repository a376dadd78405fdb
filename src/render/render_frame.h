/* SPDX-License-Identifier: Apache-2.0 */
/*
 * render_frame — the CPU half of a frame: validates the scene's draws, culls them against
 * each eye's frustum, and turns what is left into batches of indirect draw commands.
 *
 * Each visible draw gets one instance record (world matrix, normal matrix, tint, …). Per eye,
 * the draw's parts become items, sorted opaque first (by state, asset, material, buffer set,
 * mesh, part: equal neighbours merge) and blended ones back to front. A run of items with the
 * same state, material and buffer set is a batch (one glMultiDrawElementsIndirect); items with
 * the same mesh part inside it are one command whose instances are consecutive records of the
 * frame's instance array, which the vertex shader reads as divisor-1 attributes from the
 * command's baseInstance. A draw's record is copied once per eye and part it appears in
 * (160 bytes each): cheap next to what llvmpipe spends per vertex on an indirection.
 * Threads: the render thread. No GL calls here.
 */
#ifndef RR_RENDER_FRAME_H
#define RR_RENDER_FRAME_H

#include "render_asset.h"
#include "render_math.h"
#include "render_shader.h"
#include "scene_view.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Batch state bits. */
enum {
    RR_BATCH_BLEND = 1u << 0,
    RR_BATCH_DOUBLE_SIDED = 1u << 1,
    RR_BATCH_MIRRORED = 1u << 2, /* negative determinant: front faces are clockwise */
    RR_BATCH_POINTS = 1u << 3,
};

/* glMultiDrawElementsIndirect's record. */
struct rr_draw_command {
    uint32_t count;
    uint32_t instance_count;
    uint32_t first_index;
    int32_t base_vertex;
    uint32_t base_instance;
};

struct rr_frame_batch {
    struct rr_gpu_asset *gpu;
    uint32_t state;    /* RR_BATCH_* */
    uint32_t material; /* into gpu->materials; for points the cloud index */
    uint32_t set;      /* into gpu->sets (meshes) */
    uint32_t first_command;
    uint32_t command_count;
    uint32_t first_instance; /* points: the draw's one instance record */
};

/* What the culling pass keeps per visible draw. */
struct rr_frame_visible {
    uint32_t draw;
    uint32_t mask; /* bit per eye */
    struct rr_gpu_asset *gpu;
    float centre[3];
    bool blend;
    bool mirrored;
};

struct rr_frame_item {
    struct rr_gpu_asset *gpu;
    uint32_t state;
    uint32_t material;
    uint32_t set;
    uint32_t mesh;   /* or cloud */
    uint32_t part;   /* into gpu->parts; UINT32_MAX = the whole mesh */
    uint32_t record; /* into plan->records */
    float depth;     /* squared distance from the eye (blended items) */
};

/* Growable arrays reused from frame to frame. */
struct rr_frame_plan {
    struct rr_frame_visible *visible;
    size_t visible_cap;
    struct rr_instance_record *records; /* one per visible draw */
    size_t record_count, record_cap;
    struct rr_frame_item *items;
    size_t item_cap;
    struct rr_instance_record *instances; /* what the GPU reads, in command order */
    size_t instance_count, instance_cap;
    struct rr_draw_command *commands;
    size_t command_count, command_cap;
    struct rr_frame_batch *batches;
    size_t batch_count, batch_cap;
    uint32_t eye_batch_first[2];
    uint32_t eye_batch_count[2];
};

struct rr_frame_eye {
    float view_proj[16];
    float position[3];
    struct rr_frustum frustum;
};

struct rr_frame_counts {
    uint32_t draws_rendered, draws_culled, draws_invalid;
    uint64_t triangles_visible, points_visible, triangles_rendered;
};

/* Cull @p view against @p eyes and fill plan->visible and plan->records. With @p cull false
 * every valid draw counts as visible to both eyes (the naive baseline). false only when out of
 * memory. */
bool rr_frame_cull(struct rr_frame_plan *plan, struct rr_asset_registry *reg,
                   const struct rr_scene_view *view, const struct rr_frame_eye eyes[2], bool cull,
                   struct rr_frame_counts *counts, size_t *out_visible);
/* Build the items, commands and batches of both eyes from the culling result: sorted and
 * merged, or with @p batch false one batch of one command per item in view order (the naive
 * baseline). */
bool rr_frame_build(struct rr_frame_plan *plan, const struct rr_scene_view *view,
                    size_t visible_count, const struct rr_frame_eye eyes[2], bool batch,
                    struct rr_frame_counts *counts);
void rr_frame_plan_free(struct rr_frame_plan *plan);

#endif
