/* SPDX-License-Identifier: Apache-2.0 */
/*
 * render_bvh — see render_bvh.h.
 */
#include "render_bvh.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Median splits shrink a range to about half per level, so 2^30 boxes are < 40 levels deep;
 * a traversal holds at most one pending sibling per level. */
#define STACK_SIZE 96

/* A node is only classified inside or outside a plane when it is so by more than this many
 * float epsilons of the magnitudes in the plane test: that covers the rounding of the test
 * itself, of the per-box test it stands in for, and of the node's centre and half size (its
 * bounds hold every box exactly), so that the tree's answer is exactly rr_frustum_test_box's
 * for every box. */
#define TOLERANCE (64.0f * FLT_EPSILON)

static bool grow(void **arr, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return true;
    void *p = realloc(*arr, need * size);
    if (!p)
        return false;
    *arr = p;
    *cap = need;
    return true;
}

static bool box_finite(const struct rr_bvh_prim *p)
{
    for (int i = 0; i < 3; i++)
        if (!isfinite(p->centre[i] - p->half[i]) || !isfinite(p->centre[i] + p->half[i]) ||
            !(p->half[i] >= 0.0f))
            return false;
    return true;
}

/* Reorder p[0 .. n) so that p[k] is where it would be sorted by centre[axis], nothing greater
 * before it, nothing smaller after it (Hoare's FIND, as Wirth writes it). The pivot is drawn
 * at random: draws come in regular orders (a grid row by row), where any fixed position can
 * keep picking the smallest value and make the search quadratic. */
static void select_nth(struct rr_bvh_prim *p, ptrdiff_t n, ptrdiff_t k, int axis, uint32_t *rng)
{
    ptrdiff_t lo = 0, hi = n - 1;
    while (lo < hi) {
        *rng ^= *rng << 13; /* xorshift32 */
        *rng ^= *rng >> 17;
        *rng ^= *rng << 5;
        float x = p[lo + (ptrdiff_t)(*rng % (uint32_t)(hi - lo + 1))].centre[axis];
        ptrdiff_t i = lo, j = hi;
        do {
            while (p[i].centre[axis] < x)
                i++;
            while (x < p[j].centre[axis])
                j--;
            if (i <= j) {
                struct rr_bvh_prim t = p[i];
                p[i] = p[j];
                p[j] = t;
                i++;
                j--;
            }
        } while (i <= j);
        if (j < k)
            lo = i;
        if (k < i)
            hi = j;
    }
}

/* The bounds of the centres of p[0 .. n) in lo, hi. */
static void centre_bounds(const struct rr_bvh_prim *p, uint32_t n, float lo[3], float hi[3])
{
    for (int a = 0; a < 3; a++) {
        lo[a] = INFINITY;
        hi[a] = -INFINITY;
    }
    /* Comparisons rather than fminf: the boxes are finite, and libm's fminf is a call. */
    for (uint32_t i = 0; i < n; i++) {
        for (int a = 0; a < 3; a++) {
            float c = p[i].centre[a];
            lo[a] = c < lo[a] ? c : lo[a];
            hi[a] = c > hi[a] ? c : hi[a];
        }
    }
}

/* The node's box: the union of its boxes (a leaf) or of its children's. Exact: min and max
 * do not round, so every box lies inside its node's as the per-box test computes it. */
static void fit_node(struct rr_bvh *bvh, struct rr_bvh_node *node)
{
    float lo[3] = {INFINITY, INFINITY, INFINITY}, hi[3] = {-INFINITY, -INFINITY, -INFINITY};
    if (node->left) {
        const struct rr_bvh_node *a = &bvh->nodes[node->left], *b = a + 1;
        for (int i = 0; i < 3; i++) {
            lo[i] = a->lo[i] < b->lo[i] ? a->lo[i] : b->lo[i];
            hi[i] = a->hi[i] > b->hi[i] ? a->hi[i] : b->hi[i];
        }
    } else {
        for (uint32_t k = node->first; k < node->first + node->count; k++) {
            const struct rr_bvh_prim *p = &bvh->prims[k];
            for (int i = 0; i < 3; i++) {
                float l = p->centre[i] - p->half[i], h = p->centre[i] + p->half[i];
                lo[i] = l < lo[i] ? l : lo[i];
                hi[i] = h > hi[i] ? h : hi[i];
            }
        }
    }
    memcpy(node->lo, lo, sizeof(lo));
    memcpy(node->hi, hi, sizeof(hi));
}

bool rr_bvh_build(struct rr_bvh *bvh, const struct rr_bvh_prim *prims, size_t count)
{
    bvh->node_count = bvh->prim_count = bvh->loose_count = 0;
    if (count > RR_BVH_MAX_PRIMS)
        return false;
    if (count == 0)
        return true;
    if (!grow((void **)&bvh->prims, &bvh->prim_cap, count, sizeof(*bvh->prims)) ||
        !grow((void **)&bvh->nodes, &bvh->node_cap, 2 * count, sizeof(*bvh->nodes)))
        return false;
    for (size_t i = 0; i < count; i++)
        if (box_finite(&prims[i]))
            bvh->prims[bvh->prim_count++] = prims[i];
    size_t loose = count - bvh->prim_count;
    if (loose && !grow((void **)&bvh->loose, &bvh->loose_cap, loose, sizeof(*bvh->loose))) {
        bvh->prim_count = 0;
        return false;
    }
    for (size_t i = 0; loose && i < count; i++)
        if (!box_finite(&prims[i]))
            bvh->loose[bvh->loose_count++] = prims[i];
    if (bvh->prim_count == 0)
        return true;

    /* Top-down, splits in the order the nodes were made (children are appended in pairs, so
     * the array is its own work queue); then bottom-up, the boxes (children come after their
     * parent). */
    bvh->nodes[0] = (struct rr_bvh_node){.first = 0, .count = (uint32_t)bvh->prim_count};
    bvh->node_count = 1;
    uint32_t rng = 0x9e3779b9u; /* the same tree for the same boxes */
    for (size_t k = 0; k < bvh->node_count; k++) {
        struct rr_bvh_node *node = &bvh->nodes[k];
        if (node->count <= RR_BVH_LEAF_SIZE)
            continue;
        float lo[3], hi[3];
        centre_bounds(bvh->prims + node->first, node->count, lo, hi);
        int axis = 0;
        for (int a = 1; a < 3; a++)
            if (hi[a] - lo[a] > hi[axis] - lo[axis])
                axis = a;
        /* The median, rounded up to whole leaves when that leaves the right side non-empty:
         * fuller leaves, fewer nodes. */
        uint32_t left =
            (node->count / 2 + RR_BVH_LEAF_SIZE - 1) / RR_BVH_LEAF_SIZE * RR_BVH_LEAF_SIZE;
        if (left >= node->count)
            left = node->count / 2;
        select_nth(bvh->prims + node->first, node->count, left, axis, &rng);
        node->left = (uint32_t)bvh->node_count;
        bvh->nodes[bvh->node_count++] = (struct rr_bvh_node){.first = node->first, .count = left};
        bvh->nodes[bvh->node_count++] =
            (struct rr_bvh_node){.first = node->first + left, .count = node->count - left};
    }
    for (size_t k = bvh->node_count; k-- > 0;)
        fit_node(bvh, &bvh->nodes[k]);
    return true;
}

enum { OUTSIDE = 0x80u, ALL_PLANES = (1u << RR_FRUSTUM_PLANES) - 1u };

/* Classify the node (centre @p c, half size @p h) against the planes of @p active still to
 * test; returns the planes left to test in its subtree, or OUTSIDE. */
static uint32_t classify(const struct rr_frustum *f, const float c[3], const float h[3],
                         uint32_t active)
{
    for (int i = 0; i < RR_FRUSTUM_PLANES; i++) {
        if (!(active & (1u << i)))
            continue;
        const struct rr_plane *p = &f->planes[i];
        float an[3] = {fabsf(p->n[0]), fabsf(p->n[1]), fabsf(p->n[2])};
        float dist = p->n[0] * c[0] + p->n[1] * c[1] + p->n[2] * c[2] + p->d;
        float radius = an[0] * h[0] + an[1] * h[1] + an[2] * h[2];
        float scale = an[0] * (fabsf(c[0]) + h[0]) + an[1] * (fabsf(c[1]) + h[1]) +
                      an[2] * (fabsf(c[2]) + h[2]) + fabsf(p->d);
        float tol = TOLERANCE * scale;
        /* NaN anywhere fails both comparisons: the plane stays to be tested per box. */
        if (dist + radius < -tol)
            return OUTSIDE;
        if (dist - radius > tol)
            active &= ~(1u << i);
    }
    return active;
}

/* Test box @p b against the eyes whose state is @p st; set its mask. 1 when visible. */
static size_t emit(const struct rr_frustum frusta[2], const uint32_t st[2],
                   const struct rr_bvh_prim *b, uint8_t *masks, struct rr_bvh_cull_stats *stats)
{
    uint8_t m = 0;
    for (int e = 0; e < 2; e++) {
        if (st[e] == OUTSIDE)
            continue;
        if (st[e] == 0) {
            m |= (uint8_t)(1u << e);
            continue;
        }
        /* The very test of the linear loop, so that both give the same bits. */
        stats->boxes_tested++;
        if (rr_frustum_test_box(&frusta[e], b->centre, b->half))
            m |= (uint8_t)(1u << e);
    }
    if (!m)
        return 0;
    masks[b->draw] = m;
    return 1;
}

size_t rr_bvh_cull(const struct rr_bvh *bvh, const struct rr_frustum frusta[2], uint8_t *masks,
                   struct rr_bvh_cull_stats *stats)
{
    struct rr_bvh_cull_stats local;
    if (!stats)
        stats = &local;
    memset(stats, 0, sizeof(*stats));
    size_t visible = 0;
    const uint32_t all[2] = {ALL_PLANES, ALL_PLANES};
    for (size_t i = 0; i < bvh->loose_count; i++)
        visible += emit(frusta, all, &bvh->loose[i], masks, stats);
    if (bvh->node_count == 0)
        return visible;

    struct {
        uint32_t node;
        uint8_t active[2];
    } stack[STACK_SIZE];
    size_t top = 0;
    stack[top].node = 0;
    stack[top].active[0] = stack[top].active[1] = ALL_PLANES;
    top++;
    while (top > 0) {
        top--;
        const struct rr_bvh_node *n = &bvh->nodes[stack[top].node];
        uint32_t st[2];
        stats->nodes_visited++;
        float c[3], h[3];
        for (int a = 0; a < 3; a++) {
            c[a] = 0.5f * n->lo[a] + 0.5f * n->hi[a]; /* halves first: no overflow */
            h[a] = 0.5f * n->hi[a] - 0.5f * n->lo[a];
        }
        for (int e = 0; e < 2; e++)
            st[e] = stack[top].active[e] == OUTSIDE
                        ? OUTSIDE
                        : classify(&frusta[e], c, h, stack[top].active[e]);
        if (st[0] == OUTSIDE && st[1] == OUTSIDE) {
            stats->nodes_outside++;
            continue;
        }
        bool settled = (st[0] == OUTSIDE || st[0] == 0) && (st[1] == OUTSIDE || st[1] == 0);
        if (settled)
            stats->nodes_inside++;
        /* A whole subtree (settled, a leaf, or — never with median splits — a full stack)
         * is one run of prims[]. */
        if (settled || n->left == 0 || top + 2 > STACK_SIZE) {
            for (uint32_t i = n->first; i < n->first + n->count; i++)
                visible += emit(frusta, st, &bvh->prims[i], masks, stats);
            continue;
        }
        for (uint32_t k = 0; k < 2; k++) {
            stack[top].node = n->left + 1 - k; /* left child on top: visited first */
            stack[top].active[0] = (uint8_t)st[0];
            stack[top].active[1] = (uint8_t)st[1];
            top++;
        }
    }
    return visible;
}

void rr_bvh_free(struct rr_bvh *bvh)
{
    free(bvh->nodes);
    free(bvh->prims);
    free(bvh->loose);
    memset(bvh, 0, sizeof(*bvh));
}
