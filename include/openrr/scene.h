/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libopenrr_scene, client side — the scene API a player application uses to build what the
 * host renders: load models by URI, create and destroy entities, move them, override their
 * state and material colour, set cut planes, ray cast and query boxes. Every call is a request
 * on the built-in scene channel (RR_BUILTIN_SCENE, docs/scene-protocol.md) that the host's
 * scene server executes; the answer comes back to a completion callback.
 *
 * Threads: every function may be called from any thread, including from a completion callback
 * (except rr_scene_client_destroy). All completion and progress callbacks run on the client's
 * own background thread, one at a time, in the order the answers arrived ("All async calls
 * complete on a background thread"); they may block briefly and may issue new calls.
 *
 * Errors: enum rr_scene_result; rr_scene_result_str() names each value with the reference's
 * names where one exists. A call that returns anything but RR_SCENE_SUCCESS never calls its
 * callback; one that returns RR_SCENE_SUCCESS calls it exactly once (with the host's result,
 * or RR_SCENE_CONNECTION_LOST when the connection ends first).
 *
 * Ownership: the client attaches to a player-role rr_context it does not own; destroy the
 * client before the context. Data passed to callbacks (hits, ids) is valid during the call.
 */
#ifndef OPENRR_SCENE_H
#define OPENRR_SCENE_H

#include "openrr/remoting.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Results of scene calls, on the wire as 16-bit numbers (values are stable). */
enum rr_scene_result {
    RR_SCENE_SUCCESS = 0,
    RR_SCENE_INVALID_PARAM = 1,     /* NULL, NaN/inf, out-of-range or malformed argument */
    RR_SCENE_NO_CONNECTION = 2,     /* the call needs a connection and there is none */
    RR_SCENE_CONNECTION_LOST = 3,   /* the connection ended before the answer came */
    RR_SCENE_TOO_MANY_REQUESTS = 4, /* the host's request queue is full: retry later */
    RR_SCENE_OUT_OF_MEMORY = 5,
    RR_SCENE_ENTITY_NOT_FOUND = 6,     /* unknown or destroyed entity id */
    RR_SCENE_NOT_FOUND = 7,            /* unknown cut plane id */
    RR_SCENE_ASSET_NOT_FOUND = 8,      /* no file at that path, or HTTP 404 */
    RR_SCENE_ASSET_INVALID = 9,        /* not an .rrasset (bad magic) or an unknown major version */
    RR_SCENE_ASSET_CORRUPT = 10,       /* checksum or structure validation failed */
    RR_SCENE_ASSET_TOO_LARGE = 11,     /* over the primitive budget, entity limit or download max */
    RR_SCENE_NETWORK_ERROR = 12,       /* the download failed (DNS, refused, HTTP error, …) */
    RR_SCENE_TOO_MANY_CUT_PLANES = 13, /* RR_SCENE_MAX_CUT_PLANES are already set */
    RR_SCENE_NOT_SUPPORTED = 14,       /* a URI scheme the host does not load, or an unknown op */
    RR_SCENE_CANCELLED = 15,           /* the host gave up the call (e.g. it is shutting down) */
    RR_SCENE_INTERNAL_ERROR = 16,      /* a bug or an unexpected answer; the log says more */
};
#define RR_SCENE_RESULT_COUNT 17

/* Name of a result, e.g. "EntityNotFound"; "Unknown" for out-of-range values. Static. */
const char *rr_scene_result_str(enum rr_scene_result result);

/* Limits every endpoint enforces (the host refuses more, the client does not send more). */
#define RR_SCENE_MAX_URI 2048           /* bytes of a model URI */
#define RR_SCENE_MAX_NAME 256           /* bytes of an entity name */
#define RR_SCENE_MAX_CUT_PLANES 8       /* active cut planes per scene */
#define RR_SCENE_MAX_HITS 256           /* hits one ray cast returns */
#define RR_SCENE_MAX_QUERY_RESULTS 4096 /* entity ids one box query returns */

/* The scene root: the parent of top-level entities. Never a valid entity to modify. */
#define RR_SCENE_ROOT 0u

/* A local transform: translation, then rotation (unit quaternion x, y, z, w), then scale.
 * Metres, OpenXR axes (+Y up, −Z ahead). Every value must be finite; the quaternion must not
 * be zero (it is normalised by the host). */
struct rr_scene_transform {
    float position[3];
    float rotation[4];
    float scale[3];
};

/* A hierarchical state override: each flag is inherited from the parent unless the entity
 * forces it on or off. Values of the `hidden`, `selected`, `see_through`, `use_cut_planes`
 * and `tint` fields. */
enum rr_scene_override {
    RR_SCENE_INHERIT = 0,
    RR_SCENE_FORCE_ON = 1,
    RR_SCENE_FORCE_OFF = 2,
};

struct rr_scene_state {
    uint8_t hidden;         /* enum rr_scene_override */
    uint8_t selected;       /* selection outline */
    uint8_t see_through;    /* drawn transparent */
    uint8_t use_cut_planes; /* cut by the scene's cut planes (default off at the root) */
    uint8_t tint;           /* FORCE_ON: tint_color applies to this subtree */
    float tint_color[4];    /* linear RGBA, each in [0, 1]; alpha is the blend amount */
};

/* One ray-cast hit, in world space. */
struct rr_scene_hit {
    uint32_t entity_id;
    float position[3];
    float normal[3]; /* unit length, facing the ray's origin */
    float distance;  /* from the ray origin, metres */
};

enum rr_scene_ray_mode {
    RR_SCENE_RAY_CLOSEST = 0, /* at most one hit: the nearest */
    RR_SCENE_RAY_ALL = 1,     /* every hit up to max_hits, nearest first */
};

/* ---- the client ------------------------------------------------------------------------ */

struct rr_scene_client;

/* Create a client on @p ctx (role RR_ROLE_PLAYER, disconnected: the built-in scene channel is
 * attached now) and start its callback thread.
 * Errors: RR_SCENE_INVALID_PARAM (NULL, wrong role, context not disconnected or the scene
 * channel already taken), RR_SCENE_OUT_OF_MEMORY, RR_SCENE_INTERNAL_ERROR (thread). */
enum rr_scene_result rr_scene_client_create(struct rr_context *ctx,
                                            struct rr_scene_client **out_client);

/* Detach from the context, complete every pending call with RR_SCENE_CONNECTION_LOST, run the
 * queued callbacks, stop the thread, free, and set *client_ptr to NULL. Not from a callback of
 * this client. NULL ok. */
void rr_scene_client_destroy(struct rr_scene_client **client_ptr);

/* Calls waiting for an answer. */
size_t rr_scene_client_pending(struct rr_scene_client *client);

/* ---- callbacks (all on the client's callback thread) ------------------------------------ */

/* A call with nothing to return. */
typedef void (*rr_scene_done_fn)(void *user, enum rr_scene_result result);
/* A call that returns an entity (or cut plane) id; 0 on failure. */
typedef void (*rr_scene_id_fn)(void *user, enum rr_scene_result result, uint32_t id);
/* Download/load progress of rr_scene_load_model, 0–100, non-decreasing. */
typedef void (*rr_scene_progress_fn)(void *user, uint32_t percent);
/* Ray-cast hits, nearest first; @p hits valid during the call (NULL when @p count is 0). */
typedef void (*rr_scene_hits_fn)(void *user, enum rr_scene_result result,
                                 const struct rr_scene_hit *hits, size_t count);
/* Box query results (ascending ids; NULL when @p count is 0); @p truncated when more than
 * max_results matched. */
typedef void (*rr_scene_ids_fn)(void *user, enum rr_scene_result result, const uint32_t *ids,
                                size_t count, bool truncated);

/* Every call below: @p done may be NULL (the answer is then dropped); @p user is passed back.
 * Returns RR_SCENE_SUCCESS when the request was sent, RR_SCENE_INVALID_PARAM for a bad
 * argument (checked here, and again by the host), RR_SCENE_NO_CONNECTION when not connected,
 * RR_SCENE_TOO_MANY_REQUESTS when the send queue is full, RR_SCENE_OUT_OF_MEMORY. */

/* Load the model at @p uri (a path, file://…, http://… or https://…; at most
 * RR_SCENE_MAX_URI bytes) under @p parent (RR_SCENE_ROOT or an entity). The host builds an
 * entity tree from the asset's nodes below a new model root entity whose id @p done gets.
 * An asset already loaded (same content) is shared, not loaded twice. Results besides the
 * common ones: ENTITY_NOT_FOUND (parent), ASSET_NOT_FOUND, ASSET_INVALID, ASSET_CORRUPT,
 * ASSET_TOO_LARGE, NETWORK_ERROR, NOT_SUPPORTED (scheme). Other calls sent after this one may
 * complete before it. @p progress may be NULL. */
enum rr_scene_result rr_scene_load_model(struct rr_scene_client *client, const char *uri,
                                         uint32_t parent, rr_scene_progress_fn progress,
                                         rr_scene_id_fn done, void *user);

/* Create an empty entity (identity transform) named @p name (NULL = "", at most
 * RR_SCENE_MAX_NAME bytes) under @p parent. Results: ENTITY_NOT_FOUND (parent),
 * ASSET_TOO_LARGE (the host's entity limit). */
enum rr_scene_result rr_scene_create_entity(struct rr_scene_client *client, uint32_t parent,
                                            const char *name, rr_scene_id_fn done, void *user);

/* Destroy @p entity and all its descendants. Results: ENTITY_NOT_FOUND. */
enum rr_scene_result rr_scene_destroy_entity(struct rr_scene_client *client, uint32_t entity,
                                             rr_scene_done_fn done, void *user);

/* Replace @p entity's local transform. Results: ENTITY_NOT_FOUND. */
enum rr_scene_result rr_scene_set_transform(struct rr_scene_client *client, uint32_t entity,
                                            const struct rr_scene_transform *transform,
                                            rr_scene_done_fn done, void *user);

/* Move @p entity (keeping its local transform) under @p parent (RR_SCENE_ROOT allowed).
 * Results: ENTITY_NOT_FOUND, INVALID_PARAM (the parent is the entity or one of its
 * descendants). */
enum rr_scene_result rr_scene_set_parent(struct rr_scene_client *client, uint32_t entity,
                                         uint32_t parent, rr_scene_done_fn done, void *user);

/* Replace @p entity's state override (every field; all RR_SCENE_INHERIT clears it). */
enum rr_scene_result rr_scene_set_state(struct rr_scene_client *client, uint32_t entity,
                                        const struct rr_scene_state *state, rr_scene_done_fn done,
                                        void *user);

/* Replace the base colour of @p entity's own meshes (not its children's) with @p rgba
 * (linear, each in [0, 1]); NULL restores the asset's colours. */
enum rr_scene_result rr_scene_set_material_color(struct rr_scene_client *client, uint32_t entity,
                                                 const float *rgba, rr_scene_done_fn done,
                                                 void *user);

/* Add a world-space cut plane: points p with dot(normal, p) + distance < 0 are cut away from
 * entities whose use_cut_planes state is on. @p normal must be finite and non-zero (the host
 * normalises it). @p done gets the plane's id. Results: TOO_MANY_CUT_PLANES. */
enum rr_scene_result rr_scene_add_cut_plane(struct rr_scene_client *client, const float normal[3],
                                            float distance, rr_scene_id_fn done, void *user);

/* Remove cut plane @p plane_id (NOT_FOUND if unknown), or every plane when it is 0. */
enum rr_scene_result rr_scene_remove_cut_plane(struct rr_scene_client *client, uint32_t plane_id,
                                               rr_scene_done_fn done, void *user);

/* Cast a ray from @p origin along @p direction (non-zero; normalised by the host) up to
 * @p max_distance (> 0) metres against the collision meshes of every entity that is not
 * hidden. @p max_hits: 1–RR_SCENE_MAX_HITS (CLOSEST returns at most one whatever it is). */
enum rr_scene_result rr_scene_raycast(struct rr_scene_client *client, const float origin[3],
                                      const float direction[3], float max_distance,
                                      enum rr_scene_ray_mode mode, uint32_t max_hits,
                                      rr_scene_hits_fn done, void *user);

/* The entities (not hidden, with meshes or point clouds) whose world-space bounds intersect
 * the box [@p min, @p max] (min ≤ max). @p max_results: 1–RR_SCENE_MAX_QUERY_RESULTS. */
enum rr_scene_result rr_scene_query_box(struct rr_scene_client *client, const float min[3],
                                        const float max[3], uint32_t max_results,
                                        rr_scene_ids_fn done, void *user);

#ifdef __cplusplus
}
#endif
#endif /* OPENRR_SCENE_H */
