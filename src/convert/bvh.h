/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bvh — the collision BVH of one mesh (ray casts and spatial queries on the host): spatial
 * median splits over triangle centroids in Morton order (an LBVH), leaves of at most
 * RR_CONVERT_BVH_LEAF triangles, built iteratively so that a 5M-triangle mesh needs no deep
 * recursion. Node 0 is the root; an inner node's children
 * are nodes first and first + 1, always after it; a leaf names slots [first, first + count) of
 * the triangle order, which holds triangle numbers (index / 3) of the mesh.
 * Threads: pure computation, any thread; no shared state.
 */
#ifndef RR_CONVERT_BVH_H
#define RR_CONVERT_BVH_H

#include "openrr/asset.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RR_CONVERT_BVH_LEAF 4

struct rr_convert_bvh {
    struct rr_asset_bvh_node *nodes;
    size_t node_count;
    uint32_t *triangles; /* tri_count entries */
    void *storage;       /* owns triangles */
};

/* Called now and then with the share of triangles placed in leaves (0..1). */
typedef void (*rr_convert_bvh_progress_fn)(void *user, double fraction);

/* Build over @p tri_count (> 0) triangles: @p positions holds float x, y, z at the start of every
 * @p stride bytes, @p indices 2- or 4-byte indices (@p index_size). Returns false when out of
 * memory. Non-finite positions are tolerated (such triangles get an empty box at the origin). */
bool rr_convert_bvh_build(const uint8_t *positions, size_t stride, const void *indices,
                          uint32_t index_size, uint32_t tri_count, rr_convert_bvh_progress_fn fn,
                          void *user, struct rr_convert_bvh *out);
void rr_convert_bvh_free(struct rr_convert_bvh *bvh);

#endif
