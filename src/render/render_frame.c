/* SPDX-License-Identifier: Apache-2.0 */
/*
 * render_frame — culling and batching; see render_frame.h.
 */
#include "render_frame.h"

#include <stdlib.h>
#include <string.h>

/* Grow *arr to hold at least @p need elements of @p size; false when out of memory. */
static bool reserve(void **arr, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return true;
    size_t n = *cap ? *cap : 64;
    while (n < need)
        n *= 2;
    void *p = realloc(*arr, n * size);
    if (!p)
        return false;
    *arr = p;
    *cap = n;
    return true;
}

#define RESERVE(arr, cap, need) reserve((void **)&(arr), &(cap), (need), sizeof(*(arr)))

static bool finite4(const float v[4])
{
    for (int i = 0; i < 4; i++)
        if (!(v[i] - v[i] == 0.0f))
            return false;
    return true;
}

/* Whether a draw's own state (not its materials) puts it in the blended pass. */
static bool draw_blends(const struct rr_scene_draw *d)
{
    /* A tint changes the colour, never the alpha: tinted draws stay in the opaque pass. */
    if (d->flags & RR_DRAW_SEE_THROUGH)
        return true;
    return d->colour_override[3] > 0.0f && d->colour_override[3] < 1.0f;
}

static void fill_record(struct rr_instance_record *rec, const struct rr_scene_draw *d, bool blend)
{
    memcpy(rec->world, d->world, sizeof(rec->world));
    rr_mat4_normal_matrix(rec->normal_matrix, d->world);
    memcpy(rec->tint, d->tint, sizeof(rec->tint));
    memcpy(rec->colour_override, d->colour_override, sizeof(rec->colour_override));
    rec->flags = (d->flags & 0xffffu) | (blend ? RR_INSTANCE_BLEND_PASS : 0u);
    rec->entity_id = d->entity_id;
    rec->pad[0] = rec->pad[1] = 0;
}

enum draw_status { DRAW_INVALID, DRAW_EMPTY, DRAW_OK };

/* What culling needs of a draw's GPU asset. */
struct draw_info {
    struct rr_gpu_asset *gpu;
    const float *bmin, *bmax;
    uint64_t triangles, points;
};

/* Whether the draw can be drawn (DRAW_INVALID: counted in draws_invalid), and whether it has
 * anything to draw (DRAW_EMPTY: counted in draws_culled). */
static enum draw_status validate(struct rr_asset_registry *reg, const struct rr_scene_draw *d,
                                 struct draw_info *out)
{
    memset(out, 0, sizeof(*out));
    struct rr_gpu_asset *g = d->asset ? rr_asset_registry_find(reg, d->asset) : NULL;
    bool valid = g && rr_mat4_is_valid_affine(d->world);
    if (valid && d->mesh_index == UINT32_MAX) {
        valid = d->cloud_index < g->cloud_count;
        if (valid) {
            out->bmin = g->clouds[d->cloud_index].bounds_min;
            out->bmax = g->clouds[d->cloud_index].bounds_max;
            out->points = g->clouds[d->cloud_index].point_count;
        }
    } else if (valid) {
        valid = d->mesh_index < g->mesh_count && d->material_override >= -1 &&
                (d->material_override < 0 || (uint32_t)d->material_override < g->material_count);
        if (valid) {
            out->bmin = g->meshes[d->mesh_index].bounds_min;
            out->bmax = g->meshes[d->mesh_index].bounds_max;
            out->triangles = g->meshes[d->mesh_index].index_count / 3;
        }
    }
    /* A NaN tint would make the pixels undefined, not just odd: refuse it too. */
    if (!valid || !finite4(d->tint) || !finite4(d->colour_override))
        return DRAW_INVALID;
    out->gpu = g;
    return out->triangles == 0 && out->points == 0 ? DRAW_EMPTY : DRAW_OK;
}

/* Append draw @p i to the visible list (room for it is reserved). */
static void add_visible(struct rr_frame_plan *plan, const struct rr_scene_draw *d, uint32_t i,
                        const struct draw_info *info, const float centre[3], uint32_t mask,
                        struct rr_frame_counts *counts, size_t *vis)
{
    struct rr_frame_visible *v = &plan->visible[*vis];
    v->draw = i;
    v->mask = mask;
    v->gpu = info->gpu;
    memcpy(v->centre, centre, sizeof(v->centre));
    v->blend = draw_blends(d);
    v->mirrored = rr_mat4_det3(d->world) < 0.0f;
    fill_record(&plan->records[*vis], d, v->blend);
    (*vis)++;
    counts->draws_rendered++;
    counts->triangles_visible += info->triangles;
    counts->points_visible += info->points;
}

/* Every draw's box against both frusta (or none with @p cull false). With @p boxes, also the
 * boxes of the draws that have geometry, for a tree (*box_count of them), and the number of
 * draws without geometry in *empty. */
static size_t cull_linear(struct rr_frame_plan *plan, struct rr_asset_registry *reg,
                          const struct rr_scene_view *view, const struct rr_frame_eye eyes[2],
                          bool cull, struct rr_frame_counts *counts, struct rr_bvh_prim *boxes,
                          size_t *box_count, uint32_t *empty)
{
    size_t vis = 0;
    for (size_t i = 0; i < view->draw_count; i++) {
        const struct rr_scene_draw *d = &view->draws[i];
        struct draw_info info;
        enum draw_status status = validate(reg, d, &info);
        if (status == DRAW_INVALID) {
            counts->draws_invalid++;
            continue;
        }
        if (status == DRAW_EMPTY) {
            counts->draws_culled++;
            if (boxes)
                (*empty)++;
            continue;
        }
        float centre[3], half[3];
        rr_box_transform(d->world, info.bmin, info.bmax, centre, half);
        if (boxes) {
            struct rr_bvh_prim *b = &boxes[(*box_count)++];
            memcpy(b->centre, centre, sizeof(centre));
            memcpy(b->half, half, sizeof(half));
            b->draw = (uint32_t)i;
        }
        uint32_t mask = cull ? 0u : 3u;
        for (int e = 0; e < 2 && cull; e++)
            if (rr_frustum_test_box(&eyes[e].frustum, centre, half))
                mask |= 1u << e;
        if (!mask) {
            counts->draws_culled++;
            continue;
        }
        add_visible(plan, d, (uint32_t)i, &info, centre, mask, counts, &vis);
    }
    return vis;
}

static int compare_assets(const void *pa, const void *pb)
{
    uintptr_t a = (uintptr_t)((const struct rr_frame_bvh_asset *)pa)->asset;
    uintptr_t b = (uintptr_t)((const struct rr_frame_bvh_asset *)pb)->asset;
    return a < b ? -1 : a > b;
}

/* Note every asset the draws name, and what the registry holds for it. */
static bool note_assets(struct rr_frame_bvh *b, struct rr_asset_registry *reg,
                        const struct rr_scene_view *view)
{
    b->asset_count = 0;
    const struct rr_asset *prev = NULL;
    for (size_t i = 0; i < view->draw_count; i++) {
        const struct rr_asset *a = view->draws[i].asset;
        if (!a || a == prev) /* draws of one asset tend to be adjacent */
            continue;
        prev = a;
        if (!RESERVE(b->assets, b->asset_cap, b->asset_count + 1))
            return false;
        b->assets[b->asset_count++].asset = a;
    }
    qsort(b->assets, b->asset_count, sizeof(*b->assets), compare_assets);
    size_t unique = 0;
    for (size_t i = 0; i < b->asset_count; i++) {
        if (unique && b->assets[unique - 1].asset == b->assets[i].asset)
            continue;
        struct rr_frame_bvh_asset *a = &b->assets[unique++];
        a->asset = b->assets[i].asset;
        struct rr_gpu_asset *g = rr_asset_registry_find(reg, a->asset);
        a->registered = g != NULL;
        a->key_hash = g ? g->key_hash : 0;
        a->key_size = g ? g->key_size : 0;
    }
    b->asset_count = unique;
    return true;
}

/* Whether the registry still has every asset of the tree's view as it had it: same content
 * means same meshes, bounds and counts, so the same validity and boxes. */
static bool assets_unchanged(const struct rr_frame_bvh *b, struct rr_asset_registry *reg)
{
    for (size_t i = 0; i < b->asset_count; i++) {
        const struct rr_frame_bvh_asset *a = &b->assets[i];
        struct rr_gpu_asset *g = rr_asset_registry_find(reg, a->asset);
        if ((g != NULL) != a->registered ||
            (g && (g->key_hash != a->key_hash || g->key_size != a->key_size)))
            return false;
    }
    return true;
}

/* Cull over the tree. 1 done; 0 a visible draw is no longer valid (the view changed under
 * the same generation): nothing was counted, cull linearly; -1 out of memory. */
static int cull_tree(struct rr_frame_plan *plan, struct rr_asset_registry *reg,
                     const struct rr_scene_view *view, const struct rr_frame_eye eyes[2],
                     struct rr_frame_counts *counts, size_t *out_visible)
{
    struct rr_frame_bvh *b = &plan->bvh;
    size_t n = view->draw_count;
    if (!RESERVE(b->masks, b->mask_cap, n))
        return -1;
    memset(b->masks, 0, n);
    const struct rr_frustum frusta[2] = {eyes[0].frustum, eyes[1].frustum};
    rr_bvh_cull(&b->tree, frusta, b->masks, &b->last_stats);
    struct rr_frame_counts c;
    memset(&c, 0, sizeof(c));
    size_t vis = 0;
    for (size_t i = 0; i < n; i++) {
        if (!(i & 7) && i + 8 <= n) { /* skip culled draws eight at a time */
            uint64_t word;
            memcpy(&word, &b->masks[i], sizeof(word));
            if (!word) {
                i += 7;
                continue;
            }
        }
        if (!b->masks[i])
            continue;
        /* Only the draws drawn are validated again: what follows reads them, and the
         * registry was checked as a whole. */
        const struct rr_scene_draw *d = &view->draws[i];
        struct draw_info info;
        if (validate(reg, d, &info) != DRAW_OK)
            return 0;
        float centre[3], half[3];
        rr_box_transform(d->world, info.bmin, info.bmax, centre, half);
        add_visible(plan, d, (uint32_t)i, &info, centre, b->masks[i], &c, &vis);
    }
    size_t in_tree = b->tree.prim_count + b->tree.loose_count;
    c.draws_invalid = b->draws_invalid;
    c.draws_culled = b->draws_empty + (uint32_t)(in_tree - vis);
    counts->draws_rendered += c.draws_rendered;
    counts->draws_culled += c.draws_culled;
    counts->draws_invalid += c.draws_invalid;
    counts->triangles_visible += c.triangles_visible;
    counts->points_visible += c.points_visible;
    *out_visible = vis;
    return 1;
}

bool rr_frame_cull(struct rr_frame_plan *plan, struct rr_asset_registry *reg,
                   const struct rr_scene_view *view, const struct rr_frame_eye eyes[2], bool cull,
                   struct rr_frame_counts *counts, size_t *out_visible)
{
    struct rr_frame_bvh *b = &plan->bvh;
    *out_visible = 0;
    plan->record_count = 0;
    b->last_path = RR_FRAME_CULL_NONE;
    memset(&b->last_stats, 0, sizeof(b->last_stats));
    size_t n = view ? view->draw_count : 0;
    uint64_t gen = n ? view->generation : 0;
    /* Whether the last view culled was this one too (the naive baseline does not count). */
    bool again = cull && gen != 0 && gen == b->last_generation && n == b->last_draw_count;
    if (cull) {
        b->last_generation = gen;
        b->last_draw_count = n;
    }
    if (n == 0)
        return true;
    if (!view->draws || !RESERVE(plan->visible, plan->visible_cap, n) ||
        !RESERVE(plan->records, plan->record_cap, n)) {
        counts->draws_invalid += view->draws ? 0 : (uint32_t)n;
        return view->draws == NULL;
    }
    bool tree_ok = cull && gen != 0 && n >= RR_FRAME_BVH_MIN_DRAWS && n <= RR_BVH_MAX_PRIMS;
    if (tree_ok && b->valid && b->generation == gen && b->draw_count == n &&
        assets_unchanged(b, reg)) {
        int r = cull_tree(plan, reg, view, eyes, counts, out_visible);
        if (r < 0)
            return false;
        if (r > 0) {
            plan->record_count = *out_visible;
            b->reuses++;
            b->last_path = RR_FRAME_CULL_BVH;
            return true;
        }
        b->valid = false;
    }
    /* A tree only for a view seen twice in a row: a scene that changes every frame (something
     * being dragged) would pay for a tree each frame and never use it. Without the memory
     * for one the frame is culled linearly all the same. */
    bool build = tree_ok && again && RESERVE(b->boxes, b->box_cap, n);
    size_t boxes = 0;
    uint32_t empty = 0;
    uint32_t invalid_before = counts->draws_invalid;
    size_t vis =
        cull_linear(plan, reg, view, eyes, cull, counts, build ? b->boxes : NULL, &boxes, &empty);
    plan->record_count = vis;
    *out_visible = vis;
    b->last_path = cull ? RR_FRAME_CULL_LINEAR : RR_FRAME_CULL_NONE;
    if (build) {
        b->valid = rr_bvh_build(&b->tree, b->boxes, boxes) && note_assets(b, reg, view);
        if (b->valid) {
            b->generation = gen;
            b->draw_count = n;
            b->draws_invalid = counts->draws_invalid - invalid_before;
            b->draws_empty = empty;
            b->builds++;
            b->last_path = RR_FRAME_CULL_BUILD;
        }
    }
    return true;
}

void rr_frame_cull_info(const struct rr_frame_plan *plan, struct rr_frame_cull_info *out)
{
    out->builds = plan->bvh.builds;
    out->reuses = plan->bvh.reuses;
    out->last_path = plan->bvh.last_path;
    out->last_stats = plan->bvh.last_stats;
}

static int compare_items(const void *pa, const void *pb)
{
    const struct rr_frame_item *a = pa, *b = pb;
    uint32_t ab = a->state & RR_BATCH_BLEND, bb = b->state & RR_BATCH_BLEND;
    if (ab != bb)
        return ab < bb ? -1 : 1;
    if (ab && a->depth != b->depth)
        return a->depth > b->depth ? -1 : 1; /* far first */
    if (a->state != b->state)
        return a->state < b->state ? -1 : 1;
    if (a->gpu != b->gpu)
        return (uintptr_t)a->gpu < (uintptr_t)b->gpu ? -1 : 1;
#define CMP(f)                                                                                     \
    if (a->f != b->f)                                                                              \
    return a->f < b->f ? -1 : 1
    CMP(material);
    CMP(set);
    CMP(mesh);
    CMP(part);
    CMP(record);
#undef CMP
    return 0;
}

static float distance2(const float a[3], const float b[3])
{
    float x = a[0] - b[0], y = a[1] - b[1], z = a[2] - b[2];
    return x * x + y * y + z * z;
}

/* The items of one eye, unsorted; returns how many. */
static size_t collect_items(struct rr_frame_plan *plan, const struct rr_scene_view *view,
                            size_t visible_count, const struct rr_frame_eye *eye, uint32_t bit)
{
    size_t count = 0;
    for (size_t i = 0; i < visible_count; i++) {
        const struct rr_frame_visible *v = &plan->visible[i];
        if (!(v->mask & bit))
            continue;
        const struct rr_scene_draw *d = &view->draws[v->draw];
        struct rr_gpu_asset *g = v->gpu;
        uint32_t base_state =
            (v->blend ? RR_BATCH_BLEND : 0u) | (v->mirrored ? RR_BATCH_MIRRORED : 0u);
        float depth = distance2(v->centre, eye->position);
        if (d->mesh_index == UINT32_MAX) {
            plan->items[count++] = (struct rr_frame_item){
                .gpu = g,
                .state = base_state | RR_BATCH_POINTS | RR_BATCH_DOUBLE_SIDED,
                .material = d->cloud_index,
                .mesh = d->cloud_index,
                .part = UINT32_MAX,
                .record = (uint32_t)i,
                .depth = depth,
            };
            continue;
        }
        const struct rr_gpu_mesh *m = &g->meshes[d->mesh_index];
        uint32_t parts = m->part_count ? m->part_count : 1;
        for (uint32_t p = 0; p < parts; p++) {
            uint32_t part = m->part_count ? m->part_first + p : UINT32_MAX;
            uint32_t mat = d->material_override >= 0 ? (uint32_t)d->material_override
                           : part != UINT32_MAX      ? g->parts[part].material
                                                     : g->material_count;
            const struct rr_gpu_material *gm = &g->materials[mat];
            uint32_t state = base_state;
            if (gm->alpha_mode == RR_ALPHA_BLEND)
                state |= RR_BATCH_BLEND;
            if (gm->flags & RR_MATERIAL_DOUBLE_SIDED)
                state |= RR_BATCH_DOUBLE_SIDED;
            plan->items[count++] = (struct rr_frame_item){
                .gpu = g,
                .state = state,
                .material = mat,
                .set = m->set,
                .mesh = d->mesh_index,
                .part = part,
                .record = (uint32_t)i,
                .depth = depth,
            };
        }
    }
    return count;
}

static bool same_batch(const struct rr_frame_item *a, const struct rr_frame_item *b)
{
    if ((a->state & RR_BATCH_POINTS) || a->state != b->state || a->gpu != b->gpu)
        return false;
    return a->material == b->material && a->set == b->set;
}

/* Turn one eye's sorted items into commands and batches. */
static bool emit(struct rr_frame_plan *plan, size_t count, bool batch_items,
                 struct rr_frame_counts *counts)
{
    if (!RESERVE(plan->instances, plan->instance_cap, plan->instance_count + count) ||
        !RESERVE(plan->commands, plan->command_cap, plan->command_count + count) ||
        !RESERVE(plan->batches, plan->batch_cap, plan->batch_count + count))
        return false;
    struct rr_frame_batch *batch = NULL;
    const struct rr_frame_item *prev = NULL;
    for (size_t i = 0; i < count; i++) {
        const struct rr_frame_item *it = &plan->items[i];
        uint32_t slot = (uint32_t)plan->instance_count++;
        plan->instances[slot] = plan->records[it->record];
        if (!batch || !batch_items || !same_batch(prev, it)) {
            batch = &plan->batches[plan->batch_count++];
            *batch = (struct rr_frame_batch){
                .gpu = it->gpu,
                .state = it->state,
                .material = it->material,
                .set = it->set,
                .first_command = (uint32_t)plan->command_count,
                .first_instance = slot,
            };
            prev = NULL;
        }
        if (it->state & RR_BATCH_POINTS) {
            prev = it;
            continue;
        }
        if (prev && prev->mesh == it->mesh && prev->part == it->part) {
            plan->commands[plan->command_count - 1].instance_count++;
        } else {
            const struct rr_gpu_mesh *m = &it->gpu->meshes[it->mesh];
            uint32_t first = 0, n = m->index_count;
            if (it->part != UINT32_MAX) {
                first = it->gpu->parts[it->part].index_first;
                n = it->gpu->parts[it->part].index_count;
            }
            plan->commands[plan->command_count++] = (struct rr_draw_command){
                .count = n,
                .instance_count = 1,
                .first_index = m->first_index + first,
                .base_vertex = m->base_vertex,
                .base_instance = slot,
            };
            batch->command_count++;
        }
        const struct rr_draw_command *c = &plan->commands[plan->command_count - 1];
        counts->triangles_rendered += c->count / 3;
        prev = it;
    }
    return true;
}

bool rr_frame_build(struct rr_frame_plan *plan, const struct rr_scene_view *view,
                    size_t visible_count, const struct rr_frame_eye eyes[2], bool batch,
                    struct rr_frame_counts *counts)
{
    plan->instance_count = plan->command_count = plan->batch_count = 0;
    plan->eye_batch_first[0] = plan->eye_batch_first[1] = 0;
    plan->eye_batch_count[0] = plan->eye_batch_count[1] = 0;
    size_t max_items = 0;
    for (size_t i = 0; i < visible_count; i++) {
        const struct rr_frame_visible *v = &plan->visible[i];
        const struct rr_scene_draw *d = &view->draws[v->draw];
        uint32_t parts = 1;
        if (d->mesh_index != UINT32_MAX && v->gpu->meshes[d->mesh_index].part_count)
            parts = v->gpu->meshes[d->mesh_index].part_count;
        max_items += parts;
    }
    if (!RESERVE(plan->items, plan->item_cap, max_items))
        return false;
    for (int e = 0; e < 2; e++) {
        size_t n = collect_items(plan, view, visible_count, &eyes[e], 1u << e);
        if (batch && n > 1) /* qsort of a NULL array is undefined, even for 0 items */
            qsort(plan->items, n, sizeof(*plan->items), compare_items);
        plan->eye_batch_first[e] = (uint32_t)plan->batch_count;
        if (!emit(plan, n, batch, counts))
            return false;
        plan->eye_batch_count[e] = (uint32_t)(plan->batch_count - plan->eye_batch_first[e]);
    }
    return true;
}

void rr_frame_plan_free(struct rr_frame_plan *plan)
{
    free(plan->visible);
    free(plan->records);
    free(plan->items);
    free(plan->instances);
    free(plan->commands);
    free(plan->batches);
    rr_bvh_free(&plan->bvh.tree);
    free(plan->bvh.assets);
    free(plan->bvh.boxes);
    free(plan->bvh.masks);
    memset(plan, 0, sizeof(*plan));
}
