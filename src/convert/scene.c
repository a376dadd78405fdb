/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Scene plan: which nodes, meshes and point clouds are written, and with which transforms.
 *
 * The settings' scaling, axis remap and recentering form one "conversion" transform C. With a
 * scene graph (static or dynamic) C is folded into the root's local transform, so vertex data
 * stays as imported and a mesh used by several nodes is written once. sceneGraphMode "none"
 * writes one root node and bakes C × (node's world transform) into a copy of each mesh per
 * use. "static" writes the same hierarchy as "dynamic": nothing is merged; the mode only tells
 * the renderer that nodes will not move.
 *
 * A mirroring transform (negative determinant) keeps the source winding in the scene-graph
 * modes (renderers flip the front face, as glTF specifies) and is undone by swapping two
 * indices of every triangle when baked.
 */
#include "model.h"

#include "openrr/asset.h"

#include <assimp/scene.h>

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void rr_convert_mat_identity(double m[16])
{
    memset(m, 0, 16 * sizeof(double));
    m[0] = m[5] = m[10] = m[15] = 1.0;
}

void rr_convert_mat_mul(double out[16], const double a[16], const double b[16])
{
    double r[16];
    for (int c = 0; c < 4; c++) {
        for (int row = 0; row < 4; row++) {
            double s = 0.0;
            for (int k = 0; k < 4; k++) {
                s += a[k * 4 + row] * b[c * 4 + k];
            }
            r[c * 4 + row] = s;
        }
    }
    memcpy(out, r, sizeof(r));
}

void rr_convert_mat_point(const double m[16], const float in[3], double out[3])
{
    for (int row = 0; row < 3; row++) {
        out[row] = m[row] * in[0] + m[4 + row] * in[1] + m[8 + row] * in[2] + m[12 + row];
    }
}

static double det3(const double m[16])
{
    return m[0] * (m[5] * m[10] - m[9] * m[6]) - m[4] * (m[1] * m[10] - m[9] * m[2]) +
           m[8] * (m[1] * m[6] - m[5] * m[2]);
}

/* assimp matrices are row-major with the translation in a4, b4, c4. */
static void from_assimp(const struct aiMatrix4x4 *a, double m[16])
{
    const float rows[4][4] = {
        {a->a1, a->a2, a->a3, a->a4},
        {a->b1, a->b2, a->b3, a->b4},
        {a->c1, a->c2, a->c3, a->c4},
        {a->d1, a->d2, a->d3, a->d4},
    };
    for (int r = 0; r < 4; r++) {
        for (int c = 0; c < 4; c++) {
            m[c * 4 + r] = rows[r][c];
        }
    }
}

enum mesh_kind {
    KIND_SKIP,
    KIND_TRIANGLES,
    KIND_POINTS,
};

/* Points become point clouds only in a scene without triangles (a scanned PLY, an OBJ of "p"
 * statements): in a triangle scene, meshes of points or lines are what assimp's
 * FindDegenerates made of collapsed triangles (CAD exports are full of them), not content. */
static enum mesh_kind kind_of(const struct aiMesh *m, bool points_are_clouds)
{
    if (m->mNumVertices == 0) {
        return KIND_SKIP;
    }
    if (m->mPrimitiveTypes & aiPrimitiveType_TRIANGLE) {
        return KIND_TRIANGLES;
    }
    if (points_are_clouds && (m->mNumFaces == 0 || m->mPrimitiveTypes == aiPrimitiveType_POINT)) {
        return KIND_POINTS;
    }
    return KIND_SKIP;
}

struct instance {
    uint32_t node; /* index into the traversal order */
    uint32_t src;
};

struct plan {
    bool points_are_clouds;
    uint64_t skipped_meshes; /* of lines, or points in a triangle scene */
    uint64_t skipped_primitives;
    struct rr_convert_node *nodes; /* traversal order, parents first */
    size_t node_count;
    struct instance *instances;
    size_t instance_count;
    float (*src_bounds)[6]; /* per assimp mesh, local; computed on first use */
    uint8_t *src_bounds_done;
};

/* Pre-order, parents before children, children in file order; the raw world transforms
 * (without C) come along. */
static enum rr_convert_code traverse(struct rr_convert_ctx *ctx, struct plan *p)
{
    const struct aiScene *sc = ctx->scene;
    size_t cap_nodes = (size_t)ctx->in_stats.nodes;
    size_t cap_inst = (size_t)ctx->in_stats.mesh_usages;
    p->nodes = calloc(cap_nodes > 0 ? cap_nodes : 1, sizeof(*p->nodes));
    p->instances = calloc(cap_inst > 0 ? cap_inst : 1, sizeof(*p->instances));
    uint32_t *stack = malloc((cap_nodes > 0 ? cap_nodes : 1) * sizeof(uint32_t));
    const struct aiNode **srcs = malloc((cap_nodes > 0 ? cap_nodes : 1) * sizeof(*srcs));
    uint32_t *parents = malloc((cap_nodes > 0 ? cap_nodes : 1) * sizeof(uint32_t));
    if (p->nodes == NULL || p->instances == NULL || stack == NULL || srcs == NULL ||
        parents == NULL) {
        free(stack);
        free(srcs);
        free(parents);
        return rr_convert_fail(ctx->status, RR_CONVERT_INTERNAL_ERROR, "out of memory");
    }
    /* The stack holds indices into srcs/parents (pending nodes); import.c counted the nodes,
     * so neither can overflow. */
    size_t pending = 0;
    size_t top = 0;
    srcs[pending] = sc->mRootNode;
    parents[pending] = RR_ASSET_NONE;
    stack[top++] = (uint32_t)pending++;
    enum rr_convert_code c = RR_CONVERT_OK;
    while (top > 0 && c == RR_CONVERT_OK) {
        uint32_t item = stack[--top];
        const struct aiNode *src = srcs[item];
        uint32_t idx = (uint32_t)p->node_count++;
        struct rr_convert_node *n = &p->nodes[idx];
        n->src = src;
        n->parent = parents[item];
        from_assimp(&src->mTransformation, n->local);
        if (n->parent == RR_ASSET_NONE) {
            memcpy(n->world, n->local, sizeof(n->world));
        } else {
            rr_convert_mat_mul(n->world, p->nodes[n->parent].world, n->local);
        }
        for (unsigned k = 0; k < src->mNumMeshes; k++) {
            if (src->mMeshes[k] >= sc->mNumMeshes) {
                c = rr_convert_fail(ctx->status, RR_CONVERT_INVALID_INPUT,
                                    "node \"%s\" refers to mesh %u of %u: the file is corrupt",
                                    src->mName.data, src->mMeshes[k], sc->mNumMeshes);
                break;
            }
            p->instances[p->instance_count++] = (struct instance){idx, src->mMeshes[k]};
        }
        for (unsigned ch = src->mNumChildren; ch-- > 0;) {
            if (src->mChildren[ch] == NULL || pending >= cap_nodes) {
                continue;
            }
            srcs[pending] = src->mChildren[ch];
            parents[pending] = idx;
            stack[top++] = (uint32_t)pending++;
        }
    }
    free(stack);
    free(srcs);
    free(parents);
    return c;
}

static const float *src_bounds(struct plan *p, const struct aiMesh *m, uint32_t src)
{
    float *b = p->src_bounds[src];
    if (!p->src_bounds_done[src]) {
        for (int k = 0; k < 3; k++) {
            b[k] = FLT_MAX;
            b[3 + k] = -FLT_MAX;
        }
        for (unsigned v = 0; v < m->mNumVertices; v++) {
            const float x[3] = {m->mVertices[v].x, m->mVertices[v].y, m->mVertices[v].z};
            for (int k = 0; k < 3; k++) {
                /* NaN and infinities (seen in broken exports) must not poison the scene box. */
                if (isfinite(x[k])) {
                    b[k] = x[k] < b[k] ? x[k] : b[k];
                    b[3 + k] = x[k] > b[3 + k] ? x[k] : b[3 + k];
                }
            }
        }
        p->src_bounds_done[src] = 1;
    }
    return b;
}

/* Scene box of every instance under @p pre (the conversion before recentering). */
static void scene_box(struct rr_convert_ctx *ctx, struct plan *p, const double pre[16],
                      double out_min[3], double out_max[3])
{
    for (int k = 0; k < 3; k++) {
        out_min[k] = DBL_MAX;
        out_max[k] = -DBL_MAX;
    }
    for (size_t i = 0; i < p->instance_count; i++) {
        uint32_t src = p->instances[i].src;
        const struct aiMesh *m = ctx->scene->mMeshes[src];
        if (kind_of(m, p->points_are_clouds) == KIND_SKIP) {
            continue;
        }
        const float *b = src_bounds(p, m, src);
        if (b[0] > b[3]) {
            continue;
        }
        double world[16];
        rr_convert_mat_mul(world, pre, p->nodes[p->instances[i].node].world);
        for (int corner = 0; corner < 8; corner++) {
            const float x[3] = {b[(corner & 1) ? 3 : 0], b[(corner & 2) ? 4 : 1],
                                b[(corner & 4) ? 5 : 2]};
            double y[3];
            rr_convert_mat_point(world, x, y);
            for (int k = 0; k < 3; k++) {
                out_min[k] = fmin(out_min[k], y[k]);
                out_max[k] = fmax(out_max[k], y[k]);
            }
        }
    }
}

static void conversion_transform(struct rr_convert_ctx *ctx, struct plan *p)
{
    const struct rr_convert_settings *s = &ctx->settings;
    double pre[16];
    memset(pre, 0, sizeof(pre));
    for (int i = 0; i < 3; i++) {
        int a = s->axis[i];
        pre[(abs(a) - 1) * 4 + i] = (a > 0 ? 1.0 : -1.0) * s->scaling;
    }
    pre[15] = 1.0;
    memcpy(ctx->conversion, pre, sizeof(pre));
    memset(ctx->recentering_offset, 0, sizeof(ctx->recentering_offset));
    if (!s->recenter_to_origin) {
        return;
    }
    double mn[3];
    double mx[3];
    scene_box(ctx, p, pre, mn, mx);
    if (mn[0] > mx[0]) {
        return; /* nothing to centre */
    }
    /* recenteringOffset is the translation that moves the converted model back to where the
     * source had it (the reference's meaning), i.e. the box centre that was subtracted. */
    for (int k = 0; k < 3; k++) {
        double centre = 0.5 * (mn[k] + mx[k]);
        ctx->recentering_offset[k] = centre;
        ctx->conversion[12 + k] -= centre;
    }
}

static enum rr_convert_code grow(struct rr_convert_ctx *ctx, void **array, size_t *cap,
                                 size_t count, size_t elem)
{
    if (count < *cap) {
        return RR_CONVERT_OK;
    }
    size_t ncap = *cap > 0 ? *cap * 2 : 16;
    void *n = realloc(*array, ncap * elem);
    if (n == NULL) {
        return rr_convert_fail(ctx->status, RR_CONVERT_INTERNAL_ERROR, "out of memory");
    }
    memset((char *)n + *cap * elem, 0, (ncap - *cap) * elem);
    *array = n;
    *cap = ncap;
    return RR_CONVERT_OK;
}

static enum rr_convert_code new_mesh(struct rr_convert_ctx *ctx, size_t *cap, uint32_t src,
                                     const double *bake, uint32_t *out_index)
{
    enum rr_convert_code c =
        grow(ctx, (void **)&ctx->meshes, cap, ctx->mesh_count, sizeof(*ctx->meshes));
    if (c != RR_CONVERT_OK) {
        return c;
    }
    const struct aiMesh *am = ctx->scene->mMeshes[src];
    struct rr_convert_mesh *m = &ctx->meshes[ctx->mesh_count];
    memset(m, 0, sizeof(*m));
    m->src = src;
    m->uses = 1;
    m->name = rr_asset_writer_string(ctx->writer, am->mName.data);
    if (m->name == RR_ASSET_NONE) {
        return rr_convert_fail(ctx->status, RR_CONVERT_INTERNAL_ERROR, "out of memory");
    }
    m->bvh_first = RR_ASSET_NONE;
    if (bake != NULL) {
        m->baked = true;
        memcpy(m->bake, bake, sizeof(m->bake));
        m->flip_winding = det3(bake) < 0.0;
    } else {
        rr_convert_mat_identity(m->bake);
    }
    m->vertex_format = rr_convert_vertex_format(ctx, am, &m->generate_tangents);
    m->vertex_stride = rr_vertex_format_stride(m->vertex_format);
    bool vertex_color = RR_VERTEX_ENCODING(m->vertex_format, RR_ATTR_COLOR0) != RR_VERTEX_NONE;
    c = rr_convert_material_get(ctx, am->mMaterialIndex, vertex_color, &m->material);
    if (c != RR_CONVERT_OK) {
        return c;
    }
    *out_index = (uint32_t)ctx->mesh_count++;
    return RR_CONVERT_OK;
}

static enum rr_convert_code new_cloud(struct rr_convert_ctx *ctx, size_t *cap, uint32_t src,
                                      uint32_t node, const double *bake, uint32_t data_of)
{
    enum rr_convert_code c =
        grow(ctx, (void **)&ctx->clouds, cap, ctx->cloud_count, sizeof(*ctx->clouds));
    if (c != RR_CONVERT_OK) {
        return c;
    }
    struct rr_convert_cloud *pc = &ctx->clouds[ctx->cloud_count++];
    pc->src = src;
    pc->node = node;
    pc->data_of = data_of;
    pc->baked = bake != NULL;
    if (bake != NULL) {
        memcpy(pc->bake, bake, sizeof(pc->bake));
    } else {
        rr_convert_mat_identity(pc->bake);
    }
    return RR_CONVERT_OK;
}

static void skip(struct plan *p, const struct aiMesh *m)
{
    p->skipped_meshes++;
    p->skipped_primitives += m->mNumFaces;
}

/* Graph modes: one output node per source node; meshes written once per source mesh. */
static enum rr_convert_code plan_graph(struct rr_convert_ctx *ctx, struct plan *p)
{
    const struct aiScene *sc = ctx->scene;
    uint32_t *mesh_of_src = malloc((sc->mNumMeshes > 0 ? sc->mNumMeshes : 1) * sizeof(uint32_t));
    uint32_t *cloud_of_src = malloc((sc->mNumMeshes > 0 ? sc->mNumMeshes : 1) * sizeof(uint32_t));
    ctx->node_meshes = malloc((p->instance_count > 0 ? p->instance_count : 1) * sizeof(uint32_t));
    if (mesh_of_src == NULL || cloud_of_src == NULL || ctx->node_meshes == NULL) {
        free(mesh_of_src);
        free(cloud_of_src);
        return rr_convert_fail(ctx->status, RR_CONVERT_INTERNAL_ERROR, "out of memory");
    }
    memset(mesh_of_src, 0xff, sc->mNumMeshes * sizeof(uint32_t));
    memset(cloud_of_src, 0xff, sc->mNumMeshes * sizeof(uint32_t));
    size_t mesh_cap = 0;
    size_t cloud_cap = 0;
    enum rr_convert_code c = RR_CONVERT_OK;
    size_t inst = 0;
    for (size_t ni = 0; ni < p->node_count && c == RR_CONVERT_OK; ni++) {
        struct rr_convert_node *n = &p->nodes[ni];
        n->mesh_first = (uint32_t)ctx->node_mesh_count;
        for (; inst < p->instance_count && p->instances[inst].node == ni; inst++) {
            uint32_t src = p->instances[inst].src;
            const struct aiMesh *am = sc->mMeshes[src];
            enum mesh_kind kind = kind_of(am, p->points_are_clouds);
            if (kind == KIND_TRIANGLES) {
                if (mesh_of_src[src] == UINT32_MAX) {
                    c = new_mesh(ctx, &mesh_cap, src, NULL, &mesh_of_src[src]);
                } else {
                    ctx->meshes[mesh_of_src[src]].uses++;
                }
                if (c != RR_CONVERT_OK) {
                    break;
                }
                ctx->node_meshes[ctx->node_mesh_count++] = mesh_of_src[src];
            } else if (kind == KIND_POINTS) {
                uint32_t first = cloud_of_src[src];
                if (first == UINT32_MAX) {
                    cloud_of_src[src] = (uint32_t)ctx->cloud_count;
                }
                c = new_cloud(ctx, &cloud_cap, src, (uint32_t)ni, NULL, first);
            } else if (mesh_of_src[src] == UINT32_MAX && cloud_of_src[src] == UINT32_MAX) {
                skip(p, am);
                /* Mark it so that further uses do not count again. */
                cloud_of_src[src] = UINT32_MAX - 1;
            }
        }
        n->mesh_count = (uint32_t)(ctx->node_mesh_count - n->mesh_first);
    }
    free(mesh_of_src);
    free(cloud_of_src);
    if (c != RR_CONVERT_OK) {
        return c;
    }

    /* C goes into the root; world transforms follow for the bounds in output.c. */
    rr_convert_mat_mul(p->nodes[0].local, ctx->conversion, p->nodes[0].local);
    for (size_t ni = 0; ni < p->node_count; ni++) {
        rr_convert_mat_mul(p->nodes[ni].world, ctx->conversion, p->nodes[ni].world);
    }
    ctx->nodes = p->nodes;
    ctx->node_count = p->node_count;
    p->nodes = NULL;
    return RR_CONVERT_OK;
}

/* sceneGraphMode none: one root node, a baked copy of each mesh per use. */
static enum rr_convert_code plan_flat(struct rr_convert_ctx *ctx, struct plan *p)
{
    const struct aiScene *sc = ctx->scene;
    uint64_t indices = 0;
    for (size_t i = 0; i < p->instance_count; i++) {
        const struct aiMesh *am = sc->mMeshes[p->instances[i].src];
        if (kind_of(am, p->points_are_clouds) == KIND_TRIANGLES) {
            indices += (uint64_t)am->mNumFaces * 3u;
        }
    }
    if (indices > (UINT64_C(1) << 31)) {
        return rr_convert_fail(ctx->status, RR_CONVERT_INPUT_TOO_LARGE,
                               "sceneGraphMode \"none\" copies every instanced mesh, which makes "
                               "%llu indices (at most 2^31): use \"dynamic\" or \"static\"",
                               (unsigned long long)indices);
    }
    ctx->nodes = calloc(1, sizeof(*ctx->nodes));
    ctx->node_meshes = malloc((p->instance_count > 0 ? p->instance_count : 1) * sizeof(uint32_t));
    if (ctx->nodes == NULL || ctx->node_meshes == NULL) {
        return rr_convert_fail(ctx->status, RR_CONVERT_INTERNAL_ERROR, "out of memory");
    }
    ctx->node_count = 1;
    struct rr_convert_node *root = &ctx->nodes[0];
    root->src = sc->mRootNode;
    root->parent = RR_ASSET_NONE;
    rr_convert_mat_identity(root->local);
    rr_convert_mat_identity(root->world);

    uint8_t *counted = calloc(sc->mNumMeshes > 0 ? sc->mNumMeshes : 1, 1);
    if (counted == NULL) {
        return rr_convert_fail(ctx->status, RR_CONVERT_INTERNAL_ERROR, "out of memory");
    }
    size_t mesh_cap = 0;
    size_t cloud_cap = 0;
    enum rr_convert_code c = RR_CONVERT_OK;
    for (size_t i = 0; i < p->instance_count && c == RR_CONVERT_OK; i++) {
        uint32_t src = p->instances[i].src;
        const struct aiMesh *am = sc->mMeshes[src];
        double bake[16];
        rr_convert_mat_mul(bake, ctx->conversion, p->nodes[p->instances[i].node].world);
        enum mesh_kind kind = kind_of(am, p->points_are_clouds);
        if (kind == KIND_TRIANGLES) {
            uint32_t index;
            c = new_mesh(ctx, &mesh_cap, src, bake, &index);
            if (c == RR_CONVERT_OK) {
                ctx->node_meshes[ctx->node_mesh_count++] = index;
            }
        } else if (kind == KIND_POINTS) {
            c = new_cloud(ctx, &cloud_cap, src, 0, bake, UINT32_MAX);
        } else if (!counted[src]) {
            skip(p, am);
            counted[src] = 1;
        }
    }
    free(counted);
    root->mesh_first = 0;
    root->mesh_count = (uint32_t)ctx->node_mesh_count;
    return c;
}

enum rr_convert_code rr_convert_scene_plan(struct rr_convert_ctx *ctx)
{
    struct plan p;
    memset(&p, 0, sizeof(p));
    uint32_t nsrc = ctx->scene->mNumMeshes > 0 ? ctx->scene->mNumMeshes : 1;
    p.src_bounds = malloc(nsrc * sizeof(*p.src_bounds));
    p.src_bounds_done = calloc(nsrc, 1);
    enum rr_convert_code c = RR_CONVERT_OK;
    if (p.src_bounds == NULL || p.src_bounds_done == NULL) {
        c = rr_convert_fail(ctx->status, RR_CONVERT_INTERNAL_ERROR, "out of memory");
    }
    bool triangles = false;
    for (unsigned i = 0; i < ctx->scene->mNumMeshes; i++) {
        triangles |= (ctx->scene->mMeshes[i]->mPrimitiveTypes & aiPrimitiveType_TRIANGLE) != 0;
    }
    p.points_are_clouds = !triangles;
    if (c == RR_CONVERT_OK) {
        c = traverse(ctx, &p);
    }
    if (c == RR_CONVERT_OK) {
        conversion_transform(ctx, &p);
        if (ctx->settings.scene_graph_mode == RR_CONVERT_GRAPH_NONE) {
            c = plan_flat(ctx, &p);
        } else {
            c = plan_graph(ctx, &p);
        }
    }
    if (c == RR_CONVERT_OK && ctx->mesh_count == 0 && ctx->cloud_count == 0) {
        c = rr_convert_fail(ctx->status, RR_CONVERT_INVALID_INPUT,
                            "%s holds no triangles and no point cloud that a node places%s: "
                            "check that the file contains the model's geometry",
                            ctx->opt->input,
                            p.skipped_meshes > 0 ? " (only lines, which are not rendered)" : "");
    }
    if (c == RR_CONVERT_OK && p.skipped_meshes > 0) {
        rr_convert_warn(ctx->status, "UnsupportedPrimitives", "Primitives left out",
                        "%llu meshes holding only lines or points (%llu primitives) were left "
                        "out; in a triangle model these are usually degenerate triangles. Export "
                        "lines as thin geometry if they must be rendered",
                        (unsigned long long)p.skipped_meshes,
                        (unsigned long long)p.skipped_primitives);
    }
    for (size_t i = 0; i < ctx->mesh_count; i++) {
        if (ctx->meshes[i].uses > 1) {
            ctx->parts_instanced += ctx->meshes[i].uses - 1;
        }
    }
    free(p.nodes);
    free(p.instances);
    free(p.src_bounds);
    free(p.src_bounds_done);
    return c;
}
