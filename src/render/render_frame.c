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
    if (d->flags & RR_DRAW_SEE_THROUGH)
        return true;
    if ((d->flags & RR_DRAW_TINTED) && d->tint[3] < 1.0f)
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

bool rr_frame_cull(struct rr_frame_plan *plan, struct rr_asset_registry *reg,
                   const struct rr_scene_view *view, const struct rr_frame_eye eyes[2], bool cull,
                   struct rr_frame_counts *counts, size_t *out_visible)
{
    *out_visible = 0;
    plan->record_count = 0;
    size_t n = view ? view->draw_count : 0;
    if (n == 0)
        return true;
    if (!view->draws || !RESERVE(plan->visible, plan->visible_cap, n) ||
        !RESERVE(plan->records, plan->record_cap, n)) {
        counts->draws_invalid += view->draws ? 0 : (uint32_t)n;
        return view->draws == NULL;
    }
    size_t vis = 0;
    for (size_t i = 0; i < n; i++) {
        const struct rr_scene_draw *d = &view->draws[i];
        struct rr_gpu_asset *g = d->asset ? rr_asset_registry_find(reg, d->asset) : NULL;
        const float *bmin = NULL, *bmax = NULL;
        uint64_t triangles = 0, points = 0;
        bool valid = g && rr_mat4_is_valid_affine(d->world);
        if (valid && d->mesh_index == UINT32_MAX) {
            valid = d->cloud_index < g->cloud_count;
            if (valid) {
                bmin = g->clouds[d->cloud_index].bounds_min;
                bmax = g->clouds[d->cloud_index].bounds_max;
                points = g->clouds[d->cloud_index].point_count;
            }
        } else if (valid) {
            valid =
                d->mesh_index < g->mesh_count && d->material_override >= -1 &&
                (d->material_override < 0 || (uint32_t)d->material_override < g->material_count);
            if (valid) {
                bmin = g->meshes[d->mesh_index].bounds_min;
                bmax = g->meshes[d->mesh_index].bounds_max;
                triangles = g->meshes[d->mesh_index].index_count / 3;
            }
        }
        /* A NaN tint would make the pixels undefined, not just odd: refuse it too. */
        valid = valid && finite4(d->tint) && finite4(d->colour_override);
        if (!valid) {
            counts->draws_invalid++;
            continue;
        }
        if (triangles == 0 && points == 0) {
            counts->draws_culled++;
            continue;
        }
        float centre[3], half[3];
        rr_box_transform(d->world, bmin, bmax, centre, half);
        uint32_t mask = cull ? 0u : 3u;
        for (int e = 0; e < 2 && cull; e++)
            if (rr_frustum_test_box(&eyes[e].frustum, centre, half))
                mask |= 1u << e;
        if (!mask) {
            counts->draws_culled++;
            continue;
        }
        struct rr_frame_visible *v = &plan->visible[vis];
        v->draw = (uint32_t)i;
        v->mask = mask;
        v->gpu = g;
        memcpy(v->centre, centre, sizeof(centre));
        v->blend = draw_blends(d);
        v->mirrored = rr_mat4_det3(d->world) < 0.0f;
        fill_record(&plan->records[vis], d, v->blend);
        vis++;
        counts->draws_rendered++;
        counts->triangles_visible += triangles;
        counts->points_visible += points;
    }
    plan->record_count = vis;
    *out_visible = vis;
    return true;
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
        if (batch)
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
    memset(plan, 0, sizeof(*plan));
}
