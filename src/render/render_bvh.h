/* SPDX-License-Identifier: Apache-2.0 */
/*
 * render_bvh — a bounding volume hierarchy over the world-space boxes of a frame's draws, and
 * the culling of both eyes' frusta over it. render_frame keeps one tree per renderer and
 * reuses it while the scene view's generation stays the same (render_frame.h, docs/render.md).
 *
 * The tree: object-median splits on the longest axis of the boxes' centres, so its depth is
 * at most ⌈log2 n⌉ and the traversal's explicit stack has a fixed size; leaves of at most
 * RR_BVH_LEAF_SIZE boxes; nodes in one flat array, the two children of a node side by side;
 * every subtree's boxes contiguous in prims[], so a subtree seen whole is one run of it.
 * Threads: pure CPU, no GL; a tree is used by one thread at a time (the render thread).
 */
#ifndef RR_RENDER_BVH_H
#define RR_RENDER_BVH_H

#include "render_math.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RR_BVH_LEAF_SIZE 4u
/* More boxes than this are refused by rr_bvh_build (node indices are 32-bit). */
#define RR_BVH_MAX_PRIMS (UINT32_MAX / 4u)

/* One draw's world box, as rr_box_transform gives it. */
struct rr_bvh_prim {
    float centre[3];
    float half[3];
    uint32_t draw; /* the draw's index in the view; the index into the traversal's mask array */
};

struct rr_bvh_node {
    float lo[3], hi[3]; /* the union of its boxes' [centre − half, centre + half] */
    uint32_t first;     /* the subtree's boxes are prims[first .. first + count) */
    uint32_t count;
    uint32_t left; /* inner node: its children are nodes[left] and nodes[left + 1]; leaf: 0 */
    uint32_t pad;
};

/* Zero-initialise; rr_bvh_build may be called again on the same tree (it reuses the memory). */
struct rr_bvh {
    struct rr_bvh_node *nodes; /* nodes[0] is the root when node_count > 0 */
    size_t node_count, node_cap;
    struct rr_bvh_prim *prims; /* boxes with finite extents, in leaf order */
    size_t prim_count, prim_cap;
    /* Boxes whose extents are not finite (a huge scale overflowed): they would poison the
     * nodes' boxes, so they stay out of the tree and are tested one by one. */
    struct rr_bvh_prim *loose;
    size_t loose_count, loose_cap;
};

/* What one traversal did (for tests and the benchmark). */
struct rr_bvh_cull_stats {
    uint32_t nodes_visited; /* nodes whose box was classified */
    uint32_t nodes_outside; /* ... and found outside both eyes: subtree skipped */
    uint32_t nodes_inside;  /* ... and found inside (or outside) each eye: subtree taken whole */
    uint32_t boxes_tested;  /* rr_frustum_test_box calls on single boxes */
};

/* Build @p bvh over @p count boxes (copied). A draw index may appear at most once. false when
 * out of memory or count > RR_BVH_MAX_PRIMS; the tree is empty then. */
bool rr_bvh_build(struct rr_bvh *bvh, const struct rr_bvh_prim *prims, size_t count);

/* Cull the tree against @p frusta (eye 0, eye 1): for every box that rr_frustum_test_box keeps
 * for eye e, bit e of masks[box.draw] is set; entries of boxes neither eye keeps, and of draws
 * not in the tree, are left as they are (the caller zeroes the array). The result equals
 * rr_frustum_test_box on every box: a node is only taken whole or skipped when its box is
 * inside or outside a plane by more than the rounding error of the test. Returns how many
 * boxes got a non-zero mask. @p stats may be NULL. */
size_t rr_bvh_cull(const struct rr_bvh *bvh, const struct rr_frustum frusta[2], uint8_t *masks,
                   struct rr_bvh_cull_stats *stats);

void rr_bvh_free(struct rr_bvh *bvh);

#endif
