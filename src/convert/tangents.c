/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tangents for meshes that have normals and UVs but no tangents: the classic per-triangle UV
 * gradient accumulated per vertex (Lengyel), Gram-Schmidt against the normal, and w from the
 * side the UV bitangent falls on. assimp's CalcTangentSpace does the same but spends seconds on
 * a spatial sort per million vertices; this runs once over the final index buffer. UVs are
 * used as assimp gives them (v up), which yields glTF's handedness convention.
 */
#include "model.h"

#include <assimp/scene.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

static uint32_t index_at(const struct rr_convert_mesh *m, size_t i)
{
    if (m->index_size == 2) {
        return ((const uint16_t *)m->indices)[i];
    }
    return ((const uint32_t *)m->indices)[i];
}

/* Any unit vector perpendicular to @p n (for vertices whose UVs do not define a direction). */
static void perpendicular(const float n[3], float t[3])
{
    float a[3] = {fabsf(n[0]) < 0.9f ? 1.0f : 0.0f, fabsf(n[0]) < 0.9f ? 0.0f : 1.0f, 0.0f};
    float d = a[0] * n[0] + a[1] * n[1] + a[2] * n[2];
    for (int k = 0; k < 3; k++) {
        t[k] = a[k] - n[k] * d;
    }
    float len = sqrtf(t[0] * t[0] + t[1] * t[1] + t[2] * t[2]);
    for (int k = 0; k < 3; k++) {
        t[k] = len > 0.0f ? t[k] / len : (k == 0 ? 1.0f : 0.0f);
    }
}

enum rr_convert_code rr_convert_tangents(const struct aiMesh *am, const struct rr_convert_mesh *m,
                                         const uint32_t *source_of, float **out_tangents)
{
    /* Six floats per vertex while accumulating (u and v gradients), compacted in place to four
     * (tangent, w) at the end. */
    float *acc = calloc((size_t)(m->vertex_count > 0 ? m->vertex_count : 1) * 6, sizeof(float));
    if (acc == NULL) {
        return RR_CONVERT_INTERNAL_ERROR;
    }
    const struct aiVector3D *pos = am->mVertices;
    const struct aiVector3D *uv = am->mTextureCoords[0];
    for (size_t tri = 0; tri + 2 < m->index_count; tri += 3) {
        uint32_t o[3] = {index_at(m, tri), index_at(m, tri + 1), index_at(m, tri + 2)};
        uint32_t s[3] = {source_of[o[0]], source_of[o[1]], source_of[o[2]]};
        float e1[3] = {pos[s[1]].x - pos[s[0]].x, pos[s[1]].y - pos[s[0]].y,
                       pos[s[1]].z - pos[s[0]].z};
        float e2[3] = {pos[s[2]].x - pos[s[0]].x, pos[s[2]].y - pos[s[0]].y,
                       pos[s[2]].z - pos[s[0]].z};
        float du1 = uv[s[1]].x - uv[s[0]].x;
        float dv1 = uv[s[1]].y - uv[s[0]].y;
        float du2 = uv[s[2]].x - uv[s[0]].x;
        float dv2 = uv[s[2]].y - uv[s[0]].y;
        float det = du1 * dv2 - du2 * dv1;
        if (!(fabsf(det) > 1e-20f)) {
            continue; /* degenerate UVs: no direction to learn from this triangle */
        }
        float r = 1.0f / det;
        float sd[3];
        float td[3];
        for (int k = 0; k < 3; k++) {
            sd[k] = (e1[k] * dv2 - e2[k] * dv1) * r;
            td[k] = (e2[k] * du1 - e1[k] * du2) * r;
        }
        for (int c = 0; c < 3; c++) {
            float *a = &acc[(size_t)o[c] * 6];
            for (int k = 0; k < 3; k++) {
                a[k] += sd[k];
                a[3 + k] += td[k];
            }
        }
    }
    for (uint32_t i = 0; i < m->vertex_count; i++) {
        const struct aiVector3D *an = &am->mNormals[source_of[i]];
        float n[3] = {an->x, an->y, an->z};
        float sd[3];
        float td[3];
        memcpy(sd, &acc[(size_t)i * 6], sizeof(sd));
        memcpy(td, &acc[(size_t)i * 6 + 3], sizeof(td));
        float d = n[0] * sd[0] + n[1] * sd[1] + n[2] * sd[2];
        float t[3] = {sd[0] - n[0] * d, sd[1] - n[1] * d, sd[2] - n[2] * d};
        float len = sqrtf(t[0] * t[0] + t[1] * t[1] + t[2] * t[2]);
        if (len > 1e-20f && isfinite(len)) {
            for (int k = 0; k < 3; k++) {
                t[k] /= len;
            }
        } else {
            perpendicular(n, t);
        }
        float c[3] = {n[1] * t[2] - n[2] * t[1], n[2] * t[0] - n[0] * t[2],
                      n[0] * t[1] - n[1] * t[0]};
        float w = c[0] * td[0] + c[1] * td[1] + c[2] * td[2] < 0.0f ? -1.0f : 1.0f;
        /* Slot i*4 never overlaps the accumulators of vertices after i (i*4+3 < (i+1)*6). */
        float *dst = &acc[(size_t)i * 4];
        dst[0] = t[0];
        dst[1] = t[1];
        dst[2] = t[2];
        dst[3] = w;
    }
    *out_tangents = acc;
    return RR_CONVERT_OK;
}
