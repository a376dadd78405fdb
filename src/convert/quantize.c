/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Vertex encoding: each output vertex is read from the assimp mesh (through the numbering
 * optimize.c chose), transformed when sceneGraphMode "none" baked it, quantised and written
 * straight into the asset writer's VERTEX_DATA buffer: no float copy of the mesh is made.
 *
 * Texture coordinates are stored with their origin at the top left (v' = 1 − v, undoing the
 * flip assimp applies on import), matching textures stored top row first as glTF defines them.
 * Tangents follow glTF: w = ±1 gives the bitangent as cross(normal, tangent) × w.
 */
#include "model.h"
#include "parallel.h"
#include "quantize.h"

#include "openrr/asset.h"

#include <assimp/scene.h>

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const enum rr_vertex_attribute g_attrs[] = {
    RR_ATTR_POSITION,  RR_ATTR_NORMAL,    RR_ATTR_TANGENT,
    RR_ATTR_TEXCOORD0, RR_ATTR_TEXCOORD1, RR_ATTR_COLOR0,
};

uint32_t rr_convert_vertex_format(const struct rr_convert_ctx *ctx, const struct aiMesh *mesh,
                                  bool *out_generate_tangents)
{
    const struct rr_convert_vertex_settings *vs = &ctx->settings.vertex;
    uint32_t f = (uint32_t)vs->position << RR_ATTR_POSITION;
    *out_generate_tangents = false;
    if (vs->normal != RR_VERTEX_NONE && mesh->mNormals != NULL) {
        f |= (uint32_t)vs->normal << RR_ATTR_NORMAL;
    }
    if (vs->tangent != RR_VERTEX_NONE && mesh->mNormals != NULL) {
        if (mesh->mTangents != NULL && mesh->mBitangents != NULL) {
            f |= (uint32_t)vs->tangent << RR_ATTR_TANGENT;
        } else if (mesh->mTextureCoords[0] != NULL) {
            f |= (uint32_t)vs->tangent << RR_ATTR_TANGENT;
            *out_generate_tangents = true;
        }
    }
    if (vs->texcoord0 != RR_VERTEX_NONE && mesh->mTextureCoords[0] != NULL) {
        f |= (uint32_t)vs->texcoord0 << RR_ATTR_TEXCOORD0;
    }
    if (vs->texcoord1 != RR_VERTEX_NONE && mesh->mTextureCoords[1] != NULL) {
        f |= (uint32_t)vs->texcoord1 << RR_ATTR_TEXCOORD1;
    }
    if (vs->color0 != RR_VERTEX_NONE && mesh->mColors[0] != NULL) {
        f |= (uint32_t)vs->color0 << RR_ATTR_COLOR0;
    }
    return f;
}

/* Offsets of each attribute in a vertex, -1 when absent (same order as the format's shifts). */
struct layout {
    int32_t off[6];
    uint32_t enc[6];
};

enum { L_POS, L_NRM, L_TAN, L_UV0, L_UV1, L_COL };

static void layout_of(uint32_t format, struct layout *l)
{
    for (int i = 0; i < 6; i++) {
        l->enc[i] = RR_VERTEX_ENCODING(format, g_attrs[i]);
        l->off[i] = rr_vertex_attribute_offset(format, g_attrs[i]);
    }
}

/* A direction (w given) as SNORM8x4 or FLOAT16x4. */
static void put_direction(uint8_t *dst, uint32_t enc, const float v[3], float w)
{
    if (enc == RR_VERTEX_SNORM8x4) {
        int8_t q[4] = {rr_quantize_snorm8(v[0]), rr_quantize_snorm8(v[1]), rr_quantize_snorm8(v[2]),
                       rr_quantize_snorm8(w)};
        memcpy(dst, q, sizeof(q));
    } else {
        uint16_t q[4] = {rr_quantize_half(v[0]), rr_quantize_half(v[1]), rr_quantize_half(v[2]),
                         rr_quantize_half(w)};
        memcpy(dst, q, sizeof(q));
    }
}

static void put_texcoord(uint8_t *dst, uint32_t enc, const struct aiVector3D *uv)
{
    float t[2] = {uv->x, 1.0f - uv->y};
    if (enc == RR_VERTEX_FLOAT32x2) {
        memcpy(dst, t, sizeof(t));
    } else {
        uint16_t q[2] = {rr_quantize_half(t[0]), rr_quantize_half(t[1])};
        memcpy(dst, q, sizeof(q));
    }
}

void rr_srgb_table_init(struct rr_srgb_table *t)
{
    for (int i = 0; i < RR_SRGB_TABLE_SIZE; i++) {
        float c = (float)i / (float)(RR_SRGB_TABLE_SIZE - 1);
        float l = c <= 0.04045f ? c / 12.92f : powf((c + 0.055f) / 1.055f, 2.4f);
        t->linear[i] = rr_quantize_unorm8(l);
    }
}

static void normalize3(float v[3])
{
    float len = sqrtf(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]);
    if (len > 1e-20f) {
        v[0] /= len;
        v[1] /= len;
        v[2] /= len;
    }
}

/* The 3×3 parts a baked mesh needs: the linear part for positions and tangents, its inverse
 * transpose for normals, and whether it mirrors. */
struct bake {
    float m[12];  /* column-major 3×4 */
    float n[9];   /* inverse transpose of the 3×3 */
    float mirror; /* -1 when the determinant is negative */
};

static void bake_of(const double b[16], struct bake *k)
{
    for (int c = 0; c < 4; c++) {
        for (int r = 0; r < 3; r++) {
            k->m[c * 3 + r] = (float)b[c * 4 + r];
        }
    }
    double a = b[0], d = b[4], g = b[8];
    double bb = b[1], e = b[5], h = b[9];
    double c = b[2], f = b[6], i = b[10];
    double det = a * (e * i - f * h) - d * (bb * i - c * h) + g * (bb * f - c * e);
    double inv = fabs(det) > 1e-300 ? 1.0 / det : 0.0;
    /* The inverse transpose is the cofactor matrix over the determinant; column-major. */
    const double cof[9] = {
        (e * i - f * h),   -(d * i - f * g), (d * h - e * g),  -(bb * i - c * h), (a * i - c * g),
        -(a * h - bb * g), (bb * f - c * e), -(a * f - c * d), (a * e - bb * d),
    };
    for (int j = 0; j < 9; j++) {
        k->n[j] = (float)(cof[j] * inv);
    }
    k->mirror = det < 0.0 ? -1.0f : 1.0f;
}

static void mul3(const float *m, const float v[3], float out[3])
{
    for (int r = 0; r < 3; r++) {
        out[r] = m[r] * v[0] + m[3 + r] * v[1] + m[6 + r] * v[2];
    }
}

static uint32_t *inverse_remap(const struct rr_convert_mesh *m, uint32_t source_count)
{
    uint32_t *source_of = malloc((m->vertex_count > 0 ? m->vertex_count : 1) * sizeof(uint32_t));
    if (source_of == NULL) {
        return NULL;
    }
    for (uint32_t v = 0; v < source_count; v++) {
        uint32_t r = m->remap[v];
        if (r != UINT32_MAX) {
            source_of[r] = v;
        }
    }
    return source_of;
}

struct quantize_job {
    const struct aiMesh *am;
    const struct rr_convert_mesh *m;
    uint8_t *dst;
    const uint32_t *source_of;
    const float *tangents; /* generated, 4 floats a vertex; NULL: the source's */
    struct layout l;
    struct bake k;
    bool gamma;
    struct rr_srgb_table srgb;
    float mn[RR_CONVERT_MAX_THREADS][3];
    float mx[RR_CONVERT_MAX_THREADS][3];
    uint64_t non_finite[RR_CONVERT_MAX_THREADS]; /* positions with a NaN or infinity */
};

static void put_position(const struct quantize_job *j, uint8_t *out, float p[3])
{
    if (j->m->baked) {
        float q[3];
        mul3(j->k.m, p, q);
        for (int c = 0; c < 3; c++) {
            p[c] = q[c] + j->k.m[9 + c];
        }
    }
    if (j->l.enc[L_POS] == RR_VERTEX_FLOAT32x3) {
        memcpy(out, p, 3 * sizeof(float));
        return;
    }
    uint16_t h[4] = {rr_quantize_half(p[0]), rr_quantize_half(p[1]), rr_quantize_half(p[2]),
                     rr_quantize_half(1.0f)};
    memcpy(out, h, sizeof(h));
    for (int c = 0; c < 3; c++) {
        p[c] = rr_dequantize_half(h[c]); /* the bounds are of what a reader decodes */
    }
}

static void put_tangent(const struct quantize_job *j, uint8_t *out, uint32_t i, uint32_t v)
{
    const struct aiMesh *am = j->am;
    float t[3];
    float w;
    if (j->tangents != NULL) {
        memcpy(t, &j->tangents[(size_t)i * 4], sizeof(t));
        w = j->tangents[(size_t)i * 4 + 3];
    } else {
        const struct aiVector3D *at = &am->mTangents[v];
        const struct aiVector3D *ab = &am->mBitangents[v];
        const struct aiVector3D *an = &am->mNormals[v];
        t[0] = at->x;
        t[1] = at->y;
        t[2] = at->z;
        float cx = an->y * at->z - an->z * at->y;
        float cy = an->z * at->x - an->x * at->z;
        float cz = an->x * at->y - an->y * at->x;
        w = cx * ab->x + cy * ab->y + cz * ab->z < 0.0f ? -1.0f : 1.0f;
    }
    if (j->m->baked) {
        float q[3];
        mul3(j->k.m, t, q);
        memcpy(t, q, sizeof(q));
        w *= j->k.mirror;
    }
    normalize3(t);
    put_direction(out, j->l.enc[L_TAN], t, w);
}

static void put_color(const struct quantize_job *j, uint8_t *out, uint32_t v)
{
    const struct aiColor4D *c = &j->am->mColors[0][v];
    uint8_t q[4];
    if (j->gamma) {
        q[0] = rr_srgb_to_linear_unorm8(&j->srgb, c->r);
        q[1] = rr_srgb_to_linear_unorm8(&j->srgb, c->g);
        q[2] = rr_srgb_to_linear_unorm8(&j->srgb, c->b);
    } else {
        q[0] = rr_quantize_unorm8(c->r);
        q[1] = rr_quantize_unorm8(c->g);
        q[2] = rr_quantize_unorm8(c->b);
    }
    q[3] = rr_quantize_unorm8(c->a);
    memcpy(out, q, sizeof(q));
}

static bool quantize_range(void *user, size_t begin, size_t end, unsigned worker)
{
    struct quantize_job *j = user;
    const struct aiMesh *am = j->am;
    const struct layout *l = &j->l;
    float *mn = j->mn[worker];
    float *mx = j->mx[worker];
    for (size_t i = begin; i < end; i++) {
        uint32_t v = j->source_of[i];
        uint8_t *out = j->dst + i * j->m->vertex_stride;
        float p[3] = {am->mVertices[v].x, am->mVertices[v].y, am->mVertices[v].z};
        put_position(j, out, p);
        if (!isfinite(p[0]) || !isfinite(p[1]) || !isfinite(p[2])) {
            j->non_finite[worker]++;
            continue;
        }
        for (int c = 0; c < 3; c++) {
            mn[c] = p[c] < mn[c] ? p[c] : mn[c];
            mx[c] = p[c] > mx[c] ? p[c] : mx[c];
        }
        if (l->off[L_NRM] >= 0) {
            float n[3] = {am->mNormals[v].x, am->mNormals[v].y, am->mNormals[v].z};
            if (j->m->baked) {
                float q[3];
                mul3(j->k.n, n, q);
                memcpy(n, q, sizeof(q));
            }
            normalize3(n);
            put_direction(out + l->off[L_NRM], l->enc[L_NRM], n, 0.0f);
        }
        if (l->off[L_TAN] >= 0) {
            put_tangent(j, out + l->off[L_TAN], (uint32_t)i, v);
        }
        if (l->off[L_UV0] >= 0) {
            put_texcoord(out + l->off[L_UV0], l->enc[L_UV0], &am->mTextureCoords[0][v]);
        }
        if (l->off[L_UV1] >= 0) {
            put_texcoord(out + l->off[L_UV1], l->enc[L_UV1], &am->mTextureCoords[1][v]);
        }
        if (l->off[L_COL] >= 0) {
            put_color(j, out + l->off[L_COL], v);
        }
    }
    return true;
}

/* Vertices per thread below which a thread costs more than it saves. */
#define MIN_RANGE 65536u

enum rr_convert_code rr_convert_quantize_mesh(struct rr_convert_ctx *ctx, struct rr_convert_mesh *m,
                                              uint8_t *dst)
{
    const struct aiMesh *am = ctx->scene->mMeshes[m->src];
    struct quantize_job *j = calloc(1, sizeof(*j));
    uint32_t *source_of = inverse_remap(m, am->mNumVertices);
    float *tangents = NULL;
    enum rr_convert_code c =
        j != NULL && source_of != NULL ? RR_CONVERT_OK : RR_CONVERT_INTERNAL_ERROR;
    if (c == RR_CONVERT_OK && m->generate_tangents) {
        c = rr_convert_tangents(am, m, source_of, &tangents);
    }
    if (c != RR_CONVERT_OK) {
        free(j);
        free(source_of);
        return rr_convert_fail(ctx->status, c, "out of memory");
    }
    j->am = am;
    j->m = m;
    j->dst = dst;
    j->source_of = source_of;
    j->tangents = tangents;
    layout_of(m->vertex_format, &j->l);
    bake_of(m->bake, &j->k);
    j->gamma = ctx->settings.gamma_to_linear_vertex > 0;
    if (j->gamma) {
        rr_srgb_table_init(&j->srgb);
    }
    for (int w = 0; w < RR_CONVERT_MAX_THREADS; w++) {
        for (int k = 0; k < 3; k++) {
            j->mn[w][k] = FLT_MAX;
            j->mx[w][k] = -FLT_MAX;
        }
    }
    rr_convert_parallel_for(m->vertex_count, MIN_RANGE, quantize_range, j);
    float mn[3] = {FLT_MAX, FLT_MAX, FLT_MAX};
    float mx[3] = {-FLT_MAX, -FLT_MAX, -FLT_MAX};
    uint64_t non_finite = 0;
    for (int w = 0; w < RR_CONVERT_MAX_THREADS; w++) {
        non_finite += j->non_finite[w];
        for (int k = 0; k < 3; k++) {
            mn[k] = j->mn[w][k] < mn[k] ? j->mn[w][k] : mn[k];
            mx[k] = j->mx[w][k] > mx[k] ? j->mx[w][k] : mx[k];
        }
    }
    if (m->vertex_count == 0 || mn[0] > mx[0]) {
        memset(mn, 0, sizeof(mn));
        memset(mx, 0, sizeof(mx));
    }
    memcpy(m->bounds_min, mn, sizeof(mn));
    memcpy(m->bounds_max, mx, sizeof(mx));
    free(j);
    free(tangents);
    free(source_of);
    free(m->remap);
    m->remap = NULL;
    if (non_finite > 0) {
        /* glTF forbids them and a GPU draws them as garbage or not at all; a box that cannot
         * hold them would mislead culling and ray casts. */
        return rr_convert_fail(ctx->status, RR_CONVERT_INVALID_INPUT,
                               "mesh \"%s\": %llu vertices have a position that is NaN or "
                               "infinite: fix the model in its authoring tool and export again",
                               am->mName.data, (unsigned long long)non_finite);
    }
    return RR_CONVERT_OK;
}
