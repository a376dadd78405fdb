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
 *
 * Culling goes over a BVH of the draws' world boxes (render_bvh.h) kept in the plan: it is
 * built on the second frame in a row with the same non-zero view generation (scene_view.h)
 * and draw count, and reused while both stay the same and every asset the draws name is still
 * registered with the same content. Other frames, views of fewer than
 * RR_FRAME_BVH_MIN_DRAWS draws, and the naive baseline take the linear loop. Both give the
 * same visible list (in draw order) and the same counts.
 * Threads: the render thread. No GL calls here.
 */
#ifndef RR_RENDER_FRAME_H
#define RR_RENDER_FRAME_H

#include "render_asset.h"
#include "render_bvh.h"
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

/* Below this many draws the linear loop is as fast as a tree and needs no memory. */
#define RR_FRAME_BVH_MIN_DRAWS 32u

/* How rr_frame_cull culled. */
enum rr_frame_cull_path {
    RR_FRAME_CULL_NONE,   /* not at all: the naive baseline, or an empty view */
    RR_FRAME_CULL_LINEAR, /* every draw's box against both frusta */
    RR_FRAME_CULL_BUILD,  /* the linear loop, then a new tree for the next frames */
    RR_FRAME_CULL_BVH,    /* over the tree of an earlier frame */
};

/* An asset the draws of the tree's view name, as the registry had it then. */
struct rr_frame_bvh_asset {
    const struct rr_asset *asset;
    uint64_t key_hash, key_size; /* its GPU copy's content; 0, 0 when not registered */
    bool registered;
};

/* The culling tree and what it was built from (render_frame.c). */
struct rr_frame_bvh {
    struct rr_bvh tree;
    bool valid;
    uint64_t generation; /* of the view the tree is for */
    size_t draw_count;
    uint32_t draws_invalid, draws_empty; /* of that view: invalid, and without geometry */
    struct rr_frame_bvh_asset *assets;   /* sorted by pointer */
    size_t asset_count, asset_cap;
    uint64_t last_generation; /* of the last view culled (0: none) */
    size_t last_draw_count;
    struct rr_bvh_prim *boxes; /* collected while building */
    size_t box_cap;
    uint8_t *masks; /* per draw, filled by the traversal */
    size_t mask_cap;
    uint64_t builds, reuses;
    enum rr_frame_cull_path last_path;
    struct rr_bvh_cull_stats last_stats; /* of the last call's traversal */
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
    struct rr_frame_bvh bvh;
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

/* Cull @p view against @p eyes and fill plan->visible and plan->records, in draw order. With
 * @p cull false every valid draw counts as visible to both eyes (the naive baseline). Counts
 * are added to @p counts. false only when out of memory (a tree that cannot be built is not
 * an error: the frame is culled linearly). */
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

/* For tests and the benchmark: how many trees rr_frame_cull built, how many frames reused
 * one, the path of the last call, and its traversal's figures (zero unless that was
 * RR_FRAME_CULL_BVH). */
struct rr_frame_cull_info {
    uint64_t builds, reuses;
    enum rr_frame_cull_path last_path;
    struct rr_bvh_cull_stats last_stats;
};
void rr_frame_cull_info(const struct rr_frame_plan *plan, struct rr_frame_cull_info *out);

#endif
