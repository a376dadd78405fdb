/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Output: every asset-writer call of a conversion, in the order that keeps peak memory low.
 *
 *   1. geometry (scene alive): optimise every mesh's indices (optimize.c), then reserve
 *      VERTEX_DATA in one piece and quantise every mesh straight into it;
 *   2. point clouds and nodes (scene alive: they read names, metadata and points);
 *   — the assimp scene is released here —
 *   3. collision: one BVH per mesh from the positions already in VERTEX_DATA, then the mesh's
 *      indices are appended and freed;
 *   4. mesh records, once their offsets are known; then the file.
 *
 * VERTEX_DATA is reserved once because the writer only guarantees a reserved pointer until the
 * next reserve on that section; with one reservation the BVH stage can read positions from it
 * after the scene (and its float copy of them) is gone.
 */
#include "bvh.h"
#include "model.h"
#include "quantize.h"

#include <assimp/scene.h>

#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ALIGN16(x) (((x) + 15u) & ~(uint64_t)15u)
/* --compress: zstd's default level; small sections are not worth a frame. */
#define COMPRESSION_LEVEL 3
#define COMPRESSION_MIN_SIZE 4096

static enum rr_convert_code oom(struct rr_convert_ctx *ctx)
{
    return rr_convert_fail(ctx->status, RR_CONVERT_INTERNAL_ERROR, "out of memory");
}

static uint64_t append(struct rr_convert_ctx *ctx, uint32_t type, const void *data, size_t size,
                       size_t align)
{
    if (size == 0) {
        return rr_asset_writer_section_size(ctx->writer, type);
    }
    return rr_asset_writer_append(ctx->writer, type, data, size, align);
}

enum rr_convert_code rr_convert_output_geometry(struct rr_convert_ctx *ctx)
{
    rr_convert_progress_update(ctx->progress, RR_STAGE_OPTIMIZE, 0.0);
    enum rr_convert_code c = rr_convert_optimize(ctx);
    if (c != RR_CONVERT_OK) {
        return c;
    }
    uint64_t total = 0;
    for (size_t i = 0; i < ctx->mesh_count; i++) {
        struct rr_convert_mesh *m = &ctx->meshes[i];
        m->vertex_offset = total; /* relative until the reservation below */
        total += ALIGN16((uint64_t)m->vertex_count * m->vertex_stride);
    }
    if (total == 0) {
        return RR_CONVERT_OK;
    }
    uint64_t base = 0;
    uint8_t *dst = rr_asset_writer_reserve(ctx->writer, RR_SECTION_VERTEX_DATA, total, 16, &base);
    if (dst == NULL) {
        return oom(ctx);
    }
    ctx->vertex_data = dst;
    ctx->vertex_base = base;
    for (size_t i = 0; i < ctx->mesh_count; i++) {
        struct rr_convert_mesh *m = &ctx->meshes[i];
        uint64_t rel = m->vertex_offset;
        m->vertex_offset = base + rel;
        c = rr_convert_quantize_mesh(ctx, m, dst + rel);
        if (c != RR_CONVERT_OK) {
            return c;
        }
        rr_convert_progress_update(ctx->progress, RR_STAGE_OPTIMIZE,
                                   0.8 + 0.2 * (double)(i + 1) / ctx->mesh_count);
    }
    return RR_CONVERT_OK;
}

static bool finite3(const struct aiVector3D *v)
{
    return isfinite(v->x) && isfinite(v->y) && isfinite(v->z);
}

/* Scanners write NaN for points they could not measure, so unlike a mesh vertex such a point
 * is dropped (with a warning) rather than failing the conversion. */
static enum rr_convert_code write_points(struct rr_convert_ctx *ctx, struct rr_convert_cloud *pc)
{
    const struct aiMesh *am = ctx->scene->mMeshes[pc->src];
    struct rr_asset_point_cloud *r = &pc->record;
    uint32_t n = 0;
    for (uint32_t i = 0; i < am->mNumVertices; i++) {
        n += finite3(&am->mVertices[i]);
    }
    if (n < am->mNumVertices) {
        rr_convert_warn(ctx->status, "NonFinitePoints", "Points dropped",
                        "point cloud \"%s\": %u of %u points have a NaN or infinite position "
                        "and were left out",
                        am->mName.data, am->mNumVertices - n, am->mNumVertices);
    }
    uint64_t off;
    float *pos =
        rr_asset_writer_reserve(ctx->writer, RR_SECTION_POINT_DATA, (size_t)n * 12u, 16, &off);
    if (pos == NULL) {
        return oom(ctx);
    }
    float mn[3] = {FLT_MAX, FLT_MAX, FLT_MAX};
    float mx[3] = {-FLT_MAX, -FLT_MAX, -FLT_MAX};
    uint32_t k = 0;
    for (uint32_t i = 0; i < am->mNumVertices; i++) {
        if (!finite3(&am->mVertices[i])) {
            continue;
        }
        const float in[3] = {am->mVertices[i].x, am->mVertices[i].y, am->mVertices[i].z};
        float p[3] = {in[0], in[1], in[2]};
        if (pc->baked) {
            double q[3];
            rr_convert_mat_point(pc->bake, in, q);
            p[0] = (float)q[0];
            p[1] = (float)q[1];
            p[2] = (float)q[2];
        }
        memcpy(&pos[(size_t)k++ * 3], p, sizeof(p));
        for (int c = 0; c < 3; c++) {
            mn[c] = p[c] < mn[c] ? p[c] : mn[c];
            mx[c] = p[c] > mx[c] ? p[c] : mx[c];
        }
    }
    r->position_offset = off;
    r->color_offset = UINT64_MAX;
    if (am->mColors[0] != NULL && ctx->settings.vertex.color0 != RR_VERTEX_NONE) {
        uint8_t *col =
            rr_asset_writer_reserve(ctx->writer, RR_SECTION_POINT_DATA, (size_t)n * 4u, 16, &off);
        if (col == NULL) {
            return oom(ctx);
        }
        bool gamma = ctx->settings.gamma_to_linear_vertex > 0;
        struct rr_srgb_table srgb;
        rr_srgb_table_init(&srgb);
        k = 0;
        for (uint32_t i = 0; i < am->mNumVertices; i++) {
            if (!finite3(&am->mVertices[i])) {
                continue;
            }
            const struct aiColor4D *c = &am->mColors[0][i];
            const float rgba[4] = {c->r, c->g, c->b, c->a};
            uint8_t *dst = &col[(size_t)k++ * 4];
            for (int ch = 0; ch < 3; ch++) {
                dst[ch] = gamma ? rr_srgb_to_linear_unorm8(&srgb, rgba[ch])
                                : rr_quantize_unorm8(rgba[ch]);
            }
            dst[3] = rr_quantize_unorm8(rgba[3]);
        }
        r->color_offset = off;
    }
    if (n == 0 || mn[0] > mx[0]) {
        memset(mn, 0, sizeof(mn));
        memset(mx, 0, sizeof(mx));
    }
    r->point_count = n;
    memcpy(r->bounds_min, mn, sizeof(mn));
    memcpy(r->bounds_max, mx, sizeof(mx));
    return RR_CONVERT_OK;
}

enum rr_convert_code rr_convert_output_point_clouds(struct rr_convert_ctx *ctx)
{
    for (size_t i = 0; i < ctx->cloud_count; i++) {
        struct rr_convert_cloud *pc = &ctx->clouds[i];
        struct rr_asset_point_cloud *r = &pc->record;
        if (pc->data_of != UINT32_MAX) {
            /* Another node places the same points: share them. */
            *r = ctx->clouds[pc->data_of].record;
        } else {
            memset(r, 0, sizeof(*r));
            r->name = rr_asset_writer_string(ctx->writer, ctx->scene->mMeshes[pc->src]->mName.data);
            if (r->name == RR_ASSET_NONE) {
                return oom(ctx);
            }
            enum rr_convert_code c = write_points(ctx, pc);
            if (c != RR_CONVERT_OK) {
                return c;
            }
        }
        r->node = pc->node;
        if (append(ctx, RR_SECTION_POINT_CLOUDS, r, sizeof(*r), 8) == UINT64_MAX) {
            return oom(ctx);
        }
    }
    return RR_CONVERT_OK;
}

/* A metadata value as text; nested metadata is not kept (no key of ours holds it). */
static bool metadata_text(const struct aiMetadataEntry *e, char *buf, size_t size)
{
    const void *d = e->mData;
    if (d == NULL) {
        return false;
    }
    switch (e->mType) {
    case AI_BOOL:
        snprintf(buf, size, "%s", *(const bool *)d ? "true" : "false");
        return true;
    case AI_INT32:
        snprintf(buf, size, "%" PRId32, *(const int32_t *)d);
        return true;
    case AI_UINT64:
        snprintf(buf, size, "%" PRIu64, *(const uint64_t *)d);
        return true;
    case AI_FLOAT:
        snprintf(buf, size, "%.9g", (double)*(const float *)d);
        return true;
    case AI_DOUBLE:
        snprintf(buf, size, "%.17g", *(const double *)d);
        return true;
    case AI_AISTRING:
        snprintf(buf, size, "%s", ((const struct aiString *)d)->data);
        return true;
    case AI_AIVECTOR3D: {
        const struct aiVector3D *v = d;
        snprintf(buf, size, "%.9g %.9g %.9g", (double)v->x, (double)v->y, (double)v->z);
        return true;
    }
    default:
        return false;
    }
}

static bool key_wanted(const struct rr_convert_settings *s, const char *key)
{
    if (s->metadata_key_count == 0) {
        return true;
    }
    for (size_t i = 0; i < s->metadata_key_count; i++) {
        if (strcmp(s->metadata_keys[i], key) == 0) {
            return true;
        }
    }
    return false;
}

static enum rr_convert_code write_metadata(struct rr_convert_ctx *ctx, const struct aiNode *src,
                                           struct rr_asset_node *rec)
{
    const struct aiMetadata *md = src->mMetaData;
    rec->metadata_first =
        (uint32_t)(rr_asset_writer_section_size(ctx->writer, RR_SECTION_METADATA) /
                   sizeof(struct rr_asset_metadata));
    rec->metadata_count = 0;
    for (unsigned i = 0; md != NULL && i < md->mNumProperties; i++) {
        char value[1024];
        const char *key = md->mKeys[i].data;
        if (!key_wanted(&ctx->settings, key) ||
            !metadata_text(&md->mValues[i], value, sizeof(value))) {
            continue;
        }
        struct rr_asset_metadata m = {rr_asset_writer_string(ctx->writer, key),
                                      rr_asset_writer_string(ctx->writer, value)};
        if (m.key == RR_ASSET_NONE || m.value == RR_ASSET_NONE ||
            append(ctx, RR_SECTION_METADATA, &m, sizeof(m), 4) == UINT64_MAX) {
            return oom(ctx);
        }
        rec->metadata_count++;
    }
    return RR_CONVERT_OK;
}

static void grow_box(float mn[3], float mx[3], const double world[16], const float bmin[3],
                     const float bmax[3])
{
    for (int corner = 0; corner < 8; corner++) {
        const float x[3] = {(corner & 1) ? bmax[0] : bmin[0], (corner & 2) ? bmax[1] : bmin[1],
                            (corner & 4) ? bmax[2] : bmin[2]};
        double y[3];
        rr_convert_mat_point(world, x, y);
        for (int k = 0; k < 3; k++) {
            mn[k] = fminf(mn[k], (float)y[k]);
            mx[k] = fmaxf(mx[k], (float)y[k]);
        }
    }
}

/* The scene box after conversion: every placed mesh and point cloud. */
static void scene_bounds(struct rr_convert_ctx *ctx)
{
    float mn[3] = {FLT_MAX, FLT_MAX, FLT_MAX};
    float mx[3] = {-FLT_MAX, -FLT_MAX, -FLT_MAX};
    for (size_t ni = 0; ni < ctx->node_count; ni++) {
        const struct rr_convert_node *n = &ctx->nodes[ni];
        for (uint32_t k = 0; k < n->mesh_count; k++) {
            const struct rr_convert_mesh *m = &ctx->meshes[ctx->node_meshes[n->mesh_first + k]];
            if (m->vertex_count > 0) {
                grow_box(mn, mx, n->world, m->bounds_min, m->bounds_max);
            }
        }
    }
    for (size_t i = 0; i < ctx->cloud_count; i++) {
        const struct rr_convert_cloud *pc = &ctx->clouds[i];
        if (pc->record.point_count > 0) {
            grow_box(mn, mx, ctx->nodes[pc->node < ctx->node_count ? pc->node : 0].world,
                     pc->record.bounds_min, pc->record.bounds_max);
        }
    }
    if (mn[0] > mx[0]) {
        memset(mn, 0, sizeof(mn));
        memset(mx, 0, sizeof(mx));
    }
    memcpy(ctx->bounds_min, mn, sizeof(mn));
    memcpy(ctx->bounds_max, mx, sizeof(mx));
    rr_asset_writer_set_bounds(ctx->writer, mn, mx);
}

enum rr_convert_code rr_convert_output_nodes(struct rr_convert_ctx *ctx)
{
    for (size_t i = 0; i < ctx->node_count; i++) {
        const struct rr_convert_node *n = &ctx->nodes[i];
        struct rr_asset_node rec;
        memset(&rec, 0, sizeof(rec));
        rec.name = rr_asset_writer_string(ctx->writer, n->src->mName.data);
        if (rec.name == RR_ASSET_NONE) {
            return oom(ctx);
        }
        rec.parent = n->parent;
        rec.mesh_first = n->mesh_first;
        rec.mesh_count = n->mesh_count;
        for (int k = 0; k < 16; k++) {
            rec.transform[k] = (float)n->local[k];
        }
        enum rr_convert_code c = write_metadata(ctx, n->src, &rec);
        if (c != RR_CONVERT_OK) {
            return c;
        }
        if (append(ctx, RR_SECTION_NODES, &rec, sizeof(rec), 16) == UINT64_MAX) {
            return oom(ctx);
        }
    }
    if (append(ctx, RR_SECTION_NODE_MESHES, ctx->node_meshes,
               ctx->node_mesh_count * sizeof(uint32_t), 4) == UINT64_MAX ||
        append(ctx, RR_SECTION_MATERIALS, ctx->materials,
               ctx->material_count * sizeof(struct rr_asset_material), 16) == UINT64_MAX) {
        return oom(ctx);
    }
    scene_bounds(ctx);
    return RR_CONVERT_OK;
}

struct bvh_progress {
    struct rr_convert_ctx *ctx;
    uint64_t done;
    uint64_t total;
    uint32_t current;
};

static void on_bvh_progress(void *user, double fraction)
{
    struct bvh_progress *bp = user;
    double v = ((double)bp->done + fraction * bp->current) / (double)bp->total;
    rr_convert_progress_update(bp->ctx->progress, RR_STAGE_BVH, v);
}

/* Positions as floats for the BVH: in place for FLOAT32x3, decoded for half floats. */
static const uint8_t *bvh_positions(struct rr_convert_ctx *ctx, const struct rr_convert_mesh *m,
                                    size_t *out_stride, float **out_owned)
{
    const uint8_t *v = ctx->vertex_data + (m->vertex_offset - ctx->vertex_base);
    *out_owned = NULL;
    if (RR_VERTEX_ENCODING(m->vertex_format, RR_ATTR_POSITION) == RR_VERTEX_FLOAT32x3) {
        *out_stride = m->vertex_stride;
        return v;
    }
    float *p = malloc((size_t)m->vertex_count * 3 * sizeof(float));
    if (p == NULL) {
        return NULL;
    }
    for (uint32_t i = 0; i < m->vertex_count; i++) {
        uint16_t h[3];
        memcpy(h, v + (size_t)i * m->vertex_stride, sizeof(h));
        for (int k = 0; k < 3; k++) {
            p[(size_t)i * 3 + k] = rr_dequantize_half(h[k]);
        }
    }
    *out_owned = p;
    *out_stride = 3 * sizeof(float);
    return (const uint8_t *)p;
}

static enum rr_convert_code write_bvh(struct rr_convert_ctx *ctx, struct rr_convert_mesh *m,
                                      struct bvh_progress *bp)
{
    size_t stride;
    float *owned;
    const uint8_t *pos = bvh_positions(ctx, m, &stride, &owned);
    if (pos == NULL) {
        return oom(ctx);
    }
    struct rr_convert_bvh bvh;
    bp->current = m->index_count / 3;
    bool ok = rr_convert_bvh_build(pos, stride, m->indices, m->index_size, m->index_count / 3,
                                   on_bvh_progress, bp, &bvh);
    free(owned);
    if (!ok) {
        return oom(ctx);
    }
    uint64_t node_off = append(ctx, RR_SECTION_BVH_NODES, bvh.nodes,
                               bvh.node_count * sizeof(struct rr_asset_bvh_node), 16);
    uint64_t tri_off = append(ctx, RR_SECTION_BVH_TRIANGLES, bvh.triangles,
                              (size_t)(m->index_count / 3) * sizeof(uint32_t), 4);
    if (node_off == UINT64_MAX || tri_off == UINT64_MAX) {
        rr_convert_bvh_free(&bvh);
        return oom(ctx);
    }
    m->bvh_first = (uint32_t)(node_off / sizeof(struct rr_asset_bvh_node));
    m->bvh_count = (uint32_t)bvh.node_count;
    m->bvh_triangle_first = (uint32_t)(tri_off / sizeof(uint32_t));
    m->bvh_triangle_count = m->index_count / 3;
    rr_convert_bvh_free(&bvh);
    return RR_CONVERT_OK;
}

enum rr_convert_code rr_convert_output_collision(struct rr_convert_ctx *ctx)
{
    struct bvh_progress bp = {ctx, 0, 0, 0};
    for (size_t i = 0; i < ctx->mesh_count; i++) {
        bp.total += ctx->meshes[i].index_count / 3;
    }
    bp.total = bp.total > 0 ? bp.total : 1;
    rr_convert_progress_update(ctx->progress, RR_STAGE_BVH, 0.0);
    for (size_t i = 0; i < ctx->mesh_count; i++) {
        struct rr_convert_mesh *m = &ctx->meshes[i];
        m->bvh_first = RR_ASSET_NONE;
        if (ctx->settings.generate_collision_mesh && m->index_count > 0) {
            enum rr_convert_code c = write_bvh(ctx, m, &bp);
            if (c != RR_CONVERT_OK) {
                return c;
            }
        }
        m->index_offset = append(ctx, RR_SECTION_INDEX_DATA, m->indices,
                                 (size_t)m->index_count * m->index_size, 16);
        if (m->index_offset == UINT64_MAX) {
            return oom(ctx);
        }
        free(m->indices);
        m->indices = NULL;
        bp.done += m->index_count / 3;
        rr_convert_progress_update(ctx->progress, RR_STAGE_BVH, (double)bp.done / bp.total);
    }
    return RR_CONVERT_OK;
}

enum rr_convert_code rr_convert_output_meshes(struct rr_convert_ctx *ctx)
{
    for (size_t i = 0; i < ctx->mesh_count; i++) {
        const struct rr_convert_mesh *m = &ctx->meshes[i];
        struct rr_asset_mesh_part part = {0, m->index_count, m->material};
        uint64_t part_off = append(ctx, RR_SECTION_MESH_PARTS, &part, sizeof(part), 4);
        struct rr_asset_mesh rec;
        memset(&rec, 0, sizeof(rec));
        rec.name = m->name;
        rec.vertex_format = m->vertex_format;
        rec.vertex_stride = m->vertex_stride;
        rec.vertex_count = m->vertex_count;
        rec.vertex_offset = m->vertex_count > 0 ? m->vertex_offset : 0;
        rec.index_offset = m->index_offset;
        rec.index_count = m->index_count;
        rec.index_size = m->index_size;
        rec.part_first = (uint32_t)(part_off / sizeof(part));
        rec.part_count = 1;
        rec.bvh_first = m->bvh_first;
        rec.bvh_count = m->bvh_first != RR_ASSET_NONE ? m->bvh_count : 0;
        rec.bvh_triangle_first = m->bvh_first != RR_ASSET_NONE ? m->bvh_triangle_first : 0;
        rec.bvh_triangle_count = m->bvh_first != RR_ASSET_NONE ? m->bvh_triangle_count : 0;
        memcpy(rec.bounds_min, m->bounds_min, sizeof(rec.bounds_min));
        memcpy(rec.bounds_max, m->bounds_max, sizeof(rec.bounds_max));
        if (part_off == UINT64_MAX ||
            append(ctx, RR_SECTION_MESHES, &rec, sizeof(rec), 16) == UINT64_MAX) {
            return oom(ctx);
        }
        ctx->parts_created++;
    }
    return RR_CONVERT_OK;
}

enum rr_convert_code rr_convert_output_finish(struct rr_convert_ctx *ctx, const char *path)
{
    if (ctx->opt->compress) {
        rr_asset_writer_set_compression(ctx->writer, COMPRESSION_LEVEL, COMPRESSION_MIN_SIZE);
    }
    rr_convert_progress_update(ctx->progress, RR_STAGE_WRITE, 0.0);
    char err[512] = "";
    enum rr_asset_result r = rr_asset_writer_finish(ctx->writer, path, err, sizeof(err));
    if (r != RR_ASSET_OK) {
        return rr_convert_fail(ctx->status,
                               r == RR_ASSET_ERROR_OUT_OF_MEMORY ? RR_CONVERT_INTERNAL_ERROR
                                                                 : RR_CONVERT_OUTPUT_ERROR,
                               "cannot write %s: %s (%s): check that the output folder is "
                               "writable and has free space",
                               path, err, rr_asset_result_str(r));
    }
    return RR_CONVERT_OK;
}
