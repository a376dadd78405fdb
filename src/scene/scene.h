/* SPDX-License-Identifier: Apache-2.0 */
/*
 * scene — the host's scene graph: entities with parent/child transforms, model instances made
 * from an asset's node tree, material overrides, hierarchical state overrides and cut planes.
 * The scene server (scene_server.h) drives it from the client's requests; the renderer reads
 * it once per frame through rr_scene_build_view() (scene_view.h); the inspector walks it.
 *
 * Threads: every function may be called from any thread; one internal mutex serialises them
 * (each call is short: O(entities) at worst). A view stays valid until the next
 * rr_scene_build_view() on the same scene, whatever other threads change meanwhile: assets it
 * draws are kept open until then.
 *
 * Errors: enum rr_scene_result (include/openrr/scene.h). Ids come from the network, so every
 * function checks them: an unknown or destroyed id is RR_SCENE_ENTITY_NOT_FOUND, a non-finite
 * number RR_SCENE_INVALID_PARAM; nothing a caller passes can crash the scene.
 */
#ifndef RR_SCENE_H
#define RR_SCENE_H

#include "openrr/scene.h"
#include "scene_assets.h"
#include "scene_view.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rr_scene;

struct rr_scene_config {
    /* Most triangles one model may instance (sum over its nodes of their meshes' triangles);
     * more → RR_SCENE_ASSET_TOO_LARGE. 0 = unbounded (the Premium size). */
    uint64_t primitive_budget;
    /* Most live entities (model entities included). 0 = 1,000,000; at most (1 << 20) - 2. */
    uint32_t max_entities;
};

/* Create an empty scene; @p cfg may be NULL (defaults). Errors: INVALID_PARAM, OUT_OF_MEMORY. */
enum rr_scene_result rr_scene_create(const struct rr_scene_config *cfg,
                                     struct rr_scene **out_scene);
/* Free the scene, give every asset reference back to its loader, set *scene_ptr to NULL. No
 * view of it may be in use any more. NULL ok. */
void rr_scene_destroy(struct rr_scene **scene_ptr);

/* Destroy every entity and cut plane (the client disconnected). Assets drawn by the current
 * view stay open until the next rr_scene_build_view(). */
void rr_scene_clear(struct rr_scene *scene);

/* ---- entities ------------------------------------------------------------------------------ */

/* Create an empty entity named @p name (NULL = "", ≤ RR_SCENE_MAX_NAME bytes) under @p parent
 * (RR_SCENE_ROOT or a live entity). Ids are never 0 and are not reused soon (a slot is reused
 * with a new generation). Errors: INVALID_PARAM, ENTITY_NOT_FOUND, ASSET_TOO_LARGE (entity
 * limit), OUT_OF_MEMORY. */
enum rr_scene_result rr_scene_entity_create(struct rr_scene *scene, uint32_t parent,
                                            const char *name, uint32_t *out_id);

/* Destroy @p id and its whole subtree. Errors: INVALID_PARAM (the root), ENTITY_NOT_FOUND. */
enum rr_scene_result rr_scene_entity_destroy(struct rr_scene *scene, uint32_t id);

/* Errors: INVALID_PARAM (NULL, non-finite, zero quaternion, root), ENTITY_NOT_FOUND. */
enum rr_scene_result rr_scene_entity_set_transform(struct rr_scene *scene, uint32_t id,
                                                   const struct rr_scene_transform *t);

/* Re-parent @p id under @p parent, keeping the local transform. Errors: INVALID_PARAM (root,
 * or @p parent inside @p id's subtree), ENTITY_NOT_FOUND. */
enum rr_scene_result rr_scene_entity_set_parent(struct rr_scene *scene, uint32_t id,
                                                uint32_t parent);

/* Errors: INVALID_PARAM (an override value > 2, tint not finite or outside [0, 1], root),
 * ENTITY_NOT_FOUND. */
enum rr_scene_result rr_scene_entity_set_state(struct rr_scene *scene, uint32_t id,
                                               const struct rr_scene_state *state);

/* @p rgba NULL clears the colour override; else each component in [0, 1].
 * Errors: INVALID_PARAM, ENTITY_NOT_FOUND. */
enum rr_scene_result rr_scene_entity_set_color(struct rr_scene *scene, uint32_t id,
                                               const float *rgba);

/* What the inspector and the tests read about one entity. */
struct rr_scene_entity_info {
    uint32_t id;
    uint32_t parent; /* RR_SCENE_ROOT for a top-level entity */
    uint32_t depth;  /* 1 for a top-level entity */
    char name[RR_SCENE_MAX_NAME + 1];
    float world[16]; /* column-major */
    bool hidden;     /* resolved (own override or inherited) */
    bool selected;
    bool see_through;
    bool use_cut_planes;
    bool tinted;
    float tint[4];
    bool has_color;
    float color[4];
    uint32_t mesh_count;          /* meshes this entity instances */
    const struct rr_asset *asset; /* the model's asset, or NULL for a plain entity */
};

/* Fill @p out with @p id's resolved state. Errors: ENTITY_NOT_FOUND. */
enum rr_scene_result rr_scene_entity_get(struct rr_scene *scene, uint32_t id,
                                         struct rr_scene_entity_info *out);

/* Call @p fn for every entity, depth first (parents before children, siblings in creation
 * order), with the scene locked: @p fn must not call into the scene. Returns the count. */
size_t rr_scene_visit(struct rr_scene *scene,
                      void (*fn)(void *user, const struct rr_scene_entity_info *info), void *user);

/* Live entities. */
size_t rr_scene_entity_count(struct rr_scene *scene);

/* The tree as JSON for the inspector (rr_inspector_source.scene_json): a root node
 * {"name":"scene","type":"scene","children":[…],"entities":N,"truncated":bool} whose nodes
 * have "name", "id", "type" (entity/node/mesh), "meshes", the resolved flags, the world
 * "position" and "children". At most @p max_entities nodes (0 = 10000), depth first. Names
 * are escaped and invalid UTF-8 replaced, so the text is always valid JSON. malloc'd (free());
 * NULL when out of memory. (scene_json.c) */
char *rr_scene_tree_json(struct rr_scene *scene, size_t max_entities);

/* ---- models -------------------------------------------------------------------------------- */

/* Instantiate @p asset under @p parent: a model root entity (named after the asset's first
 * root node or "model") with one child entity per asset node, the node tree and local
 * transforms kept. On success the scene owns the caller's reference on @p asset and gives it
 * back with @p loader->release() once no entity or view uses it (@p loader NULL: the scene
 * closes the asset itself). On failure the caller keeps its reference.
 * Errors: INVALID_PARAM, ENTITY_NOT_FOUND (parent), ASSET_TOO_LARGE (primitive budget or
 * entity limit), OUT_OF_MEMORY. */
enum rr_scene_result rr_scene_add_model(struct rr_scene *scene, struct rr_asset *asset,
                                        struct rr_asset_loader *loader, uint32_t parent,
                                        uint32_t *out_root_id);

/* Triangles @p asset instances (its nodes' meshes). */
uint64_t rr_scene_asset_triangles(const struct rr_asset *asset);

/* Distinct assets the scene holds (by pointer; the loader shares equal contents). */
size_t rr_scene_asset_count(struct rr_scene *scene);

/* ---- cut planes ------------------------------------------------------------------------------ */

/* Add a plane (normal normalised here, distance scaled with it). Ids start at 1.
 * Errors: INVALID_PARAM (non-finite or zero normal), TOO_MANY_CUT_PLANES. */
enum rr_scene_result rr_scene_cut_plane_add(struct rr_scene *scene, const float normal[3],
                                            float distance, uint32_t *out_id);
/* Remove plane @p id, or all when 0. Errors: NOT_FOUND. */
enum rr_scene_result rr_scene_cut_plane_remove(struct rr_scene *scene, uint32_t id);

/* ---- queries (scene_query.c) ----------------------------------------------------------------- */

/* Ray cast against the collision BVH of every mesh of every entity that is not hidden
 * (triangles are tested both sides). Hits nearest first, at most @p max_hits (1 for
 * RR_SCENE_RAY_CLOSEST) into @p out_hits; *out_count gets their number.
 * Errors: INVALID_PARAM (non-finite, zero direction, max_distance ≤ 0, max_hits 0). */
enum rr_scene_result rr_scene_cast_ray(struct rr_scene *scene, const float origin[3],
                                       const float direction[3], float max_distance,
                                       enum rr_scene_ray_mode mode, uint32_t max_hits,
                                       struct rr_scene_hit *out_hits, size_t *out_count);

/* Entities (not hidden, with meshes or point clouds) whose world AABB intersects [min, max],
 * ascending ids, at most @p max_results; *out_truncated when more matched.
 * Errors: INVALID_PARAM (non-finite, min > max, max_results 0). */
enum rr_scene_result rr_scene_find_in_box(struct rr_scene *scene, const float min[3],
                                          const float max[3], uint32_t max_results,
                                          uint32_t *out_ids, size_t *out_count,
                                          bool *out_truncated);

/* ---- rendering ----------------------------------------------------------------------------- */

/* Flatten the scene into @p out (draws of visible entities, resolved states, world matrices,
 * the active cut planes). The previous view of this scene becomes invalid; the new one stays
 * valid until the next call. Errors: OUT_OF_MEMORY (@p out then gets an empty view with the
 * cut planes; try again next frame). */
enum rr_scene_result rr_scene_build_view(struct rr_scene *scene, struct rr_scene_view *out);

#endif
