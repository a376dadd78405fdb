/* SPDX-License-Identifier: Apache-2.0 */
/*
 * scene_view — what the host's renderer draws, as the scene graph (src/scene/) describes it:
 * the contract between the two. The scene flattens its entity tree into draws once per frame
 * (hierarchical state overrides already resolved, world matrices already multiplied); the
 * renderer (src/render/) only reads it. Both sides see assets as the reader opened them
 * (include/openrr/asset.h); the renderer keeps GPU copies keyed by the asset's content hash,
 * so an asset loaded twice is on the GPU once.
 *
 * Ownership: the scene owns a view and everything it points to; it stays valid and unchanged
 * until the scene's next rr_scene_build_view() (one thread builds and renders).
 */
#ifndef RR_SCENE_VIEW_H
#define RR_SCENE_VIEW_H

#include "openrr/asset.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RR_SCENE_MAX_CUT_PLANES 8

/* Resolved per-draw state (the entity's own overrides combined with its ancestors'). */
enum rr_draw_flags {
    RR_DRAW_SELECTED = 1u << 0,    /* draw a selection outline */
    RR_DRAW_SEE_THROUGH = 1u << 1, /* draw transparent (alpha 0.3), after opaque geometry */
    RR_DRAW_TINTED = 1u << 2,      /* colour moves towards tint.rgb by tint[3]; alpha unchanged */
    RR_DRAW_USE_CUT_PLANES = 1u << 3,
};

/* One mesh instance (or one point cloud) to draw. Hidden entities produce no draw. */
struct rr_scene_draw {
    const struct rr_asset *asset;
    uint32_t mesh_index;   /* index in the asset's mesh table, or UINT32_MAX for a point cloud */
    uint32_t cloud_index;  /* index in the asset's point-cloud table when mesh_index is UINT32_MAX */
    uint32_t entity_id;    /* for picking and statistics */
    float world[16];       /* column-major, model → world (metres, OpenXR axes: +Y up, −Z ahead) */
    float tint[4];         /* linear RGBA; used with RR_DRAW_TINTED */
    int32_t material_override; /* −1 = the mesh's own materials; else a material index of the
                                  asset applied to every part */
    float colour_override[4];  /* used when colour_override[3] > 0: replaces base colour */
    uint32_t flags;            /* enum rr_draw_flags */
};

/* A cut plane: points p with dot(normal, p) + distance < 0 are cut away (world space). */
struct rr_cut_plane {
    float normal[3];
    float distance;
};

struct rr_scene_view {
    const struct rr_scene_draw *draws;
    size_t draw_count;
    /* Identifies the draws: two views with the same non-zero generation have the same draws,
     * field for field, in the same order. It changes whenever the set of draws or any draw's
     * world matrix, asset, mesh or state changes (the scene takes a new one, unique in the
     * process, on every change to its entities). The renderer keeps per-view work (its culling
     * tree) while it stays the same. 0 = unknown: nothing is reused, every frame is culled from
     * scratch. */
    uint64_t generation;
    struct rr_cut_plane cut_planes[RR_SCENE_MAX_CUT_PLANES];
    uint32_t cut_plane_count;
};

#endif
