/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Ray casts against the collision BVHs the converter stored per mesh, and box queries against
 * entities' world bounds. The ray is taken into each mesh's local space (the inverse world
 * matrix) rather than the mesh into world space, so nothing is copied; the ray parameter t is
 * the same in both spaces because the local direction is not renormalised. Any thread, with
 * the scene lock held by the public functions below.
 */
#include "scene_internal.h"
#include "scene_math.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct ray_ctx {
    float o[3], d[3]; /* world */
    float max_t;
    struct rr_scene_hit *hits; /* sorted by distance, at most cap */
    size_t count, cap;
};

/* Keep the hit if it is among the cap nearest so far. */
static void add_hit(struct ray_ctx *r, const struct rr_scene_hit *h)
{
    /* A ray through an edge or vertex shared by several triangles hits each of them at the
     * same point: one surface, one hit. */
    float eps = 1e-5f * (h->distance > 1.0f ? h->distance : 1.0f);
    for (size_t i = 0; i < r->count; i++) {
        if (r->hits[i].entity_id == h->entity_id &&
            fabsf(r->hits[i].distance - h->distance) <= eps) {
            return;
        }
    }
    if (r->count == r->cap && h->distance >= r->hits[r->count - 1].distance) {
        return;
    }
    size_t i = r->count < r->cap ? r->count++ : r->count - 1;
    while (i > 0 && r->hits[i - 1].distance > h->distance) {
        r->hits[i] = r->hits[i - 1];
        i--;
    }
    r->hits[i] = *h;
}

/* Slab test; true when [t0, t1] overlaps [0, max_t]. inv_d may hold infinities. */
static bool ray_box(const float o[3], const float inv_d[3], const float mn[3], const float mx[3],
                    float max_t)
{
    float t0 = 0.0f, t1 = max_t;
    for (int a = 0; a < 3; a++) {
        float n = (mn[a] - o[a]) * inv_d[a];
        float f = (mx[a] - o[a]) * inv_d[a];
        if (n > f) {
            float t = n;
            n = f;
            f = t;
        }
        /* 0 × inf gives NaN when the origin lies on a slab plane of a parallel ray: the
         * comparisons below then keep the interval, which is the conservative answer. */
        t0 = n > t0 ? n : t0;
        t1 = f < t1 ? f : t1;
        if (t0 > t1) {
            return false;
        }
    }
    return true;
}

struct mesh_ref {
    const struct rr_asset_mesh *mesh;
    const uint8_t *vertices; /* the mesh's first vertex */
    const uint8_t *indices;  /* the mesh's first index */
    bool half;               /* FLOAT16x4 positions */
};

static void position(const struct mesh_ref *m, uint32_t i, float out[3])
{
    const uint8_t *p = m->vertices + (size_t)i * m->mesh->vertex_stride;
    if (m->half) {
        uint16_t h[3];
        memcpy(h, p, sizeof(h));
        for (int k = 0; k < 3; k++) {
            out[k] = rr_half_to_float(h[k]);
        }
    } else {
        memcpy(out, p, 3 * sizeof(float));
    }
}

static uint32_t index_at(const struct mesh_ref *m, uint32_t j)
{
    if (m->mesh->index_size == 2) {
        uint16_t v;
        memcpy(&v, m->indices + (size_t)j * 2, sizeof(v));
        return v;
    }
    uint32_t v;
    memcpy(&v, m->indices + (size_t)j * 4, sizeof(v));
    return v;
}

static void cross(const float a[3], const float b[3], float out[3])
{
    out[0] = a[1] * b[2] - a[2] * b[1];
    out[1] = a[2] * b[0] - a[0] * b[2];
    out[2] = a[0] * b[1] - a[1] * b[0];
}

static float dot(const float a[3], const float b[3])
{
    return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}

struct local_ray {
    float o[3], d[3], inv_d[3];
    const float *inv; /* inverse world matrix */
    uint32_t entity_id;
};

/* Möller–Trumbore, both faces. */
static void triangle(struct ray_ctx *r, const struct local_ray *lr, const struct mesh_ref *m,
                     uint32_t tri)
{
    float v0[3], v1[3], v2[3];
    position(m, index_at(m, 3 * tri), v0);
    position(m, index_at(m, 3 * tri + 1), v1);
    position(m, index_at(m, 3 * tri + 2), v2);
    float e1[3] = {v1[0] - v0[0], v1[1] - v0[1], v1[2] - v0[2]};
    float e2[3] = {v2[0] - v0[0], v2[1] - v0[1], v2[2] - v0[2]};
    float p[3];
    cross(lr->d, e2, p);
    float det = dot(e1, p);
    if (!(fabsf(det) > 1e-20f)) {
        return;
    }
    float inv_det = 1.0f / det;
    float s[3] = {lr->o[0] - v0[0], lr->o[1] - v0[1], lr->o[2] - v0[2]};
    float u = dot(s, p) * inv_det;
    if (!(u >= 0.0f && u <= 1.0f)) {
        return;
    }
    float q[3];
    cross(s, e1, q);
    float v = dot(lr->d, q) * inv_det;
    if (!(v >= 0.0f && u + v <= 1.0f)) {
        return;
    }
    float t = dot(e2, q) * inv_det;
    if (!(t >= 0.0f && t <= r->max_t)) {
        return;
    }
    struct rr_scene_hit h = {.entity_id = lr->entity_id, .distance = t};
    for (int k = 0; k < 3; k++) {
        h.position[k] = r->o[k] + t * r->d[k];
    }
    /* Normals go through the inverse transpose; with column-major inv, (inv^T) row i is
     * inv's column i. */
    float nl[3];
    cross(e1, e2, nl);
    for (int i = 0; i < 3; i++) {
        h.normal[i] =
            lr->inv[i * 4 + 0] * nl[0] + lr->inv[i * 4 + 1] * nl[1] + lr->inv[i * 4 + 2] * nl[2];
    }
    if (!rr_normalize_n(h.normal, 3)) {
        return;
    }
    if (dot(h.normal, r->d) > 0.0f) {
        for (int k = 0; k < 3; k++) {
            h.normal[k] = -h.normal[k];
        }
    }
    add_hit(r, &h);
}

static bool mesh_ray(struct rr_scene *s, struct ray_ctx *r, const struct local_ray *lr,
                     const struct rr_asset *asset, const struct rr_asset_mesh *mesh)
{
    if (!ray_box(lr->o, lr->inv_d, mesh->bounds_min, mesh->bounds_max, r->max_t)) {
        return true;
    }
    struct mesh_ref m = {.mesh = mesh};
    m.vertices = (const uint8_t *)rr_asset_section_data(asset, RR_SECTION_VERTEX_DATA, NULL) +
                 mesh->vertex_offset;
    m.indices = (const uint8_t *)rr_asset_section_data(asset, RR_SECTION_INDEX_DATA, NULL) +
                mesh->index_offset;
    m.half = RR_VERTEX_ENCODING(mesh->vertex_format, RR_ATTR_POSITION) == RR_VERTEX_FLOAT16x4;
    uint32_t tris = mesh->index_count / 3;
    if (mesh->bvh_first == RR_ASSET_NONE) {
        for (uint32_t t = 0; t < tris; t++) {
            triangle(r, lr, &m, t);
        }
        return true;
    }
    const struct rr_asset_bvh_node *nodes =
        (const struct rr_asset_bvh_node *)rr_asset_section_data(asset, RR_SECTION_BVH_NODES, NULL) +
        mesh->bvh_first;
    const uint32_t *slots =
        (const uint32_t *)rr_asset_section_data(asset, RR_SECTION_BVH_TRIANGLES, NULL) +
        mesh->bvh_triangle_first;
    /* Every node has one parent (the reader checked), so the stack never holds more entries
     * than there are nodes. */
    if (s->scratch_cap < mesh->bvh_count) {
        uint32_t *st = realloc(s->scratch, (size_t)mesh->bvh_count * sizeof(uint32_t));
        if (st == NULL) {
            return false;
        }
        s->scratch = st;
        s->scratch_cap = mesh->bvh_count;
    }
    size_t top = 0;
    s->scratch[top++] = 0;
    while (top > 0) {
        const struct rr_asset_bvh_node *n = &nodes[s->scratch[--top]];
        if (!ray_box(lr->o, lr->inv_d, n->bounds_min, n->bounds_max, r->max_t)) {
            continue;
        }
        if (n->count == 0) {
            s->scratch[top++] = n->first;
            s->scratch[top++] = n->first + 1;
        } else {
            for (uint32_t k = 0; k < n->count; k++) {
                triangle(r, lr, &m, slots[n->first + k]);
            }
        }
    }
    return true;
}

enum rr_scene_result rr_scene_cast_ray(struct rr_scene *s, const float origin[3],
                                       const float direction[3], float max_distance,
                                       enum rr_scene_ray_mode mode, uint32_t max_hits,
                                       struct rr_scene_hit *out_hits, size_t *out_count)
{
    if (s == NULL || origin == NULL || direction == NULL || out_hits == NULL || out_count == NULL ||
        max_hits == 0 || (mode != RR_SCENE_RAY_CLOSEST && mode != RR_SCENE_RAY_ALL) ||
        !rr_finite_n(origin, 3) || !rr_finite_n(direction, 3) || !isfinite(max_distance) ||
        !(max_distance > 0.0f)) {
        return RR_SCENE_INVALID_PARAM;
    }
    *out_count = 0;
    struct ray_ctx r = {.max_t = max_distance, .hits = out_hits};
    memcpy(r.o, origin, sizeof(r.o));
    memcpy(r.d, direction, sizeof(r.d));
    if (!rr_normalize_n(r.d, 3)) {
        return RR_SCENE_INVALID_PARAM;
    }
    r.cap = mode == RR_SCENE_RAY_CLOSEST ? 1 : max_hits;
    enum rr_scene_result res = RR_SCENE_SUCCESS;
    pthread_mutex_lock(&s->lock);
    rr_scene_resolve(s);
    for (uint32_t slot = rr_scene_dfs_next(s, 0, 0); slot != RR_NONE;
         slot = rr_scene_dfs_next(s, slot, 0)) {
        const struct rr_entity *e = &s->e[slot];
        uint32_t count = 0;
        const uint32_t *meshes = rr_scene_node_meshes(e, &count);
        float inv[16];
        if (count == 0 || (e->flags & RR_EF_HIDDEN) || !rr_m4_invert(e->world, inv)) {
            continue; /* a degenerate (zero-scale) entity has no surface to hit */
        }
        struct local_ray lr = {.inv = inv, .entity_id = rr_entity_id(s, slot)};
        rr_m4_point(inv, r.o, lr.o);
        rr_m4_dir(inv, r.d, lr.d);
        for (int k = 0; k < 3; k++) {
            lr.inv_d[k] = 1.0f / lr.d[k];
        }
        size_t n_meshes = 0;
        const struct rr_asset_mesh *all =
            rr_asset_section_data(e->model->asset, RR_SECTION_MESHES, &n_meshes);
        for (uint32_t k = 0; k < count; k++) {
            if (!mesh_ray(s, &r, &lr, e->model->asset, &all[meshes[k]])) {
                res = RR_SCENE_OUT_OF_MEMORY;
                break;
            }
        }
        if (res != RR_SCENE_SUCCESS) {
            break;
        }
    }
    pthread_mutex_unlock(&s->lock);
    *out_count = res == RR_SCENE_SUCCESS ? r.count : 0;
    return res;
}

/* ---- box queries ---------------------------------------------------------------------------- */

/* World bounds of an entity's own meshes and point clouds; false when it has none. */
static bool entity_bounds(const struct rr_entity *e, float mn[3], float mx[3])
{
    if (e->model == NULL) {
        return false;
    }
    bool any = false;
    uint32_t count = 0;
    const uint32_t *meshes = rr_scene_node_meshes(e, &count);
    size_t n = 0, n_nodes = 0;
    const struct rr_asset_mesh *all = rr_asset_section_data(e->model->asset, RR_SECTION_MESHES, &n);
    const struct rr_asset_point_cloud *clouds =
        rr_asset_section_data(e->model->asset, RR_SECTION_POINT_CLOUDS, &n);
    rr_asset_section_data(e->model->asset, RR_SECTION_NODES, &n_nodes);
    size_t g = e->node == RR_NONE ? n_nodes : e->node;
    uint32_t c0 = e->model->node_cloud_first[g], c1 = e->model->node_cloud_first[g + 1];
    for (uint32_t k = 0; k < count + (c1 - c0); k++) {
        const float *lmn, *lmx;
        if (k < count) {
            lmn = all[meshes[k]].bounds_min;
            lmx = all[meshes[k]].bounds_max;
        } else {
            const struct rr_asset_point_cloud *c = &clouds[e->model->cloud_order[c0 + k - count]];
            lmn = c->bounds_min;
            lmx = c->bounds_max;
        }
        float wmn[3], wmx[3];
        rr_m4_box(e->world, lmn, lmx, wmn, wmx);
        for (int a = 0; a < 3; a++) {
            mn[a] = any && mn[a] < wmn[a] ? mn[a] : wmn[a];
            mx[a] = any && mx[a] > wmx[a] ? mx[a] : wmx[a];
        }
        any = true;
    }
    return any;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

enum rr_scene_result rr_scene_find_in_box(struct rr_scene *s, const float min[3],
                                          const float max[3], uint32_t max_results,
                                          uint32_t *out_ids, size_t *out_count, bool *out_truncated)
{
    if (s == NULL || min == NULL || max == NULL || out_ids == NULL || out_count == NULL ||
        out_truncated == NULL || max_results == 0 || !rr_finite_n(min, 3) || !rr_finite_n(max, 3) ||
        min[0] > max[0] || min[1] > max[1] || min[2] > max[2]) {
        return RR_SCENE_INVALID_PARAM;
    }
    *out_count = 0;
    *out_truncated = false;
    pthread_mutex_lock(&s->lock);
    rr_scene_resolve(s);
    /* All matches are collected so that the ones returned are the lowest ids, whatever the
     * traversal order. */
    uint32_t *found = NULL;
    size_t n = 0, cap = 0;
    enum rr_scene_result res = RR_SCENE_SUCCESS;
    for (uint32_t slot = rr_scene_dfs_next(s, 0, 0); slot != RR_NONE;
         slot = rr_scene_dfs_next(s, slot, 0)) {
        const struct rr_entity *e = &s->e[slot];
        float mn[3], mx[3];
        if ((e->flags & RR_EF_HIDDEN) || !entity_bounds(e, mn, mx)) {
            continue;
        }
        if (mx[0] < min[0] || mn[0] > max[0] || mx[1] < min[1] || mn[1] > max[1] ||
            mx[2] < min[2] || mn[2] > max[2]) {
            continue;
        }
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            uint32_t *f = realloc(found, cap * sizeof(*f));
            if (f == NULL) {
                res = RR_SCENE_OUT_OF_MEMORY;
                break;
            }
            found = f;
        }
        found[n++] = rr_entity_id(s, slot);
    }
    pthread_mutex_unlock(&s->lock);
    if (res == RR_SCENE_SUCCESS && n > 0) {
        qsort(found, n, sizeof(*found), cmp_u32);
        *out_truncated = n > max_results;
        *out_count = n > max_results ? max_results : n;
        memcpy(out_ids, found, *out_count * sizeof(*out_ids));
    }
    free(found);
    return res;
}
