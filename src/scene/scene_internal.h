/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The scene graph's private state, shared by scene.c (entities, models, views) and
 * scene_query.c (ray casts, box queries). Everything here is touched with scene->lock held.
 */
#ifndef RR_SCENE_INTERNAL_H
#define RR_SCENE_INTERNAL_H

#include "scene.h"

#include <pthread.h>

#define RR_SLOT_BITS 20u
#define RR_SLOT_MASK ((1u << RR_SLOT_BITS) - 1u)
#define RR_GEN_MAX 4095u
#define RR_NONE UINT32_MAX

/* One asset the scene holds. refs counts the entities that instance it plus one while the
 * current view draws it, so an asset outlives the entities the renderer is still drawing. */
struct rr_scene_model {
    struct rr_asset *asset;
    struct rr_asset_loader *loader; /* NULL: the scene closes the asset itself */
    uint32_t loads;                 /* references to give back to the loader */
    uint32_t refs;
    bool in_view;
    bool in_new_view;
    /* Point clouds grouped by placing node: the clouds of node n are
     * cloud_order[node_cloud_first[n] .. node_cloud_first[n + 1]); index node_count holds
     * those with node NONE (placed by the model root). */
    uint32_t *cloud_order;
    uint32_t *node_cloud_first;
    struct rr_scene_model *next;
};

enum rr_entity_flags {
    RR_EF_HIDDEN = 1u << 0,
    RR_EF_SELECTED = 1u << 1,
    RR_EF_SEE_THROUGH = 1u << 2,
    RR_EF_CUT = 1u << 3,
    RR_EF_TINTED = 1u << 4,
};

struct rr_entity {
    uint32_t gen;      /* 0 while the slot is free */
    uint32_t last_gen; /* survives freeing: the next owner of the slot continues from it */
    uint32_t parent, first_child, last_child, next, prev; /* slots; next also chains free slots */
    const char *name;
    bool name_owned;
    float local[16];
    struct rr_scene_model *model; /* NULL for a plain entity */
    uint32_t node;                /* asset node, RR_NONE for a plain entity or a model root */
    struct rr_scene_state state;
    bool has_color;
    float color[4];
    /* Resolved by resolve(): world matrix, inherited state, depth. */
    float world[16];
    uint32_t flags; /* enum rr_entity_flags */
    float tint[4];
    uint32_t depth;
};

struct rr_scene {
    pthread_mutex_t lock;
    struct rr_scene_config cfg;
    struct rr_entity *e; /* slot 0 is the root */
    uint32_t slot_count; /* slots in use or freed */
    uint32_t slot_cap;
    uint32_t free_head;
    uint32_t live;
    bool dirty; /* world matrices or resolved states are stale */
    /* The views' generation (scene_view.h): a new one on every change to entities. */
    uint64_t generation;
    struct rr_scene_model *models;
    struct rr_cut_plane planes[RR_SCENE_MAX_CUT_PLANES];
    uint32_t plane_ids[RR_SCENE_MAX_CUT_PLANES];
    uint32_t plane_count;
    uint32_t next_plane_id;
    struct rr_scene_draw *draws;
    size_t draw_cap;
    uint32_t *scratch; /* BVH traversal stack */
    size_t scratch_cap;
};

static inline uint32_t rr_entity_id(const struct rr_scene *s, uint32_t slot)
{
    return slot == 0 ? 0 : s->e[slot].gen << RR_SLOT_BITS | slot;
}

/* Slot of a live entity id, or RR_NONE. Id 0 (the root) gives slot 0 when @p allow_root. */
uint32_t rr_scene_slot(const struct rr_scene *s, uint32_t id, bool allow_root);
/* Recompute world matrices and inherited states if anything changed. */
void rr_scene_resolve(struct rr_scene *s);
/* Next slot in depth-first order below @p top (parents first); RR_NONE at the end. */
uint32_t rr_scene_dfs_next(const struct rr_scene *s, uint32_t slot, uint32_t top);
/* The asset node's meshes (count in *out_count), or NULL. */
const uint32_t *rr_scene_node_meshes(const struct rr_entity *e, uint32_t *out_count);

#endif
