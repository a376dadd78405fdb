/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Materials: assimp material properties mapped onto the asset's PBR metal-roughness record.
 *
 * One output material is made per (assimp material, vertex colours used) pair on first use,
 * because VERTEX_COLOR is a material flag while colours belong to meshes. With
 * deduplicateMaterials, a material equal to an earlier one in everything but its name reuses
 * that one.
 *
 * Classic (Phong) FBX materials have no metalness. With fbxAssumeMetallic the specular colour
 * scaled by the specular strength is read as reflectance F0: 0.04 (plastic) and below gives 0,
 * 1.0 gives fully metallic. Without it they are dielectric.
 */
#include "model.h"

#include "openrr/asset.h"

#include <assimp/GltfMaterial.h>
#include <assimp/material.h>
#include <assimp/scene.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define DIELECTRIC_F0 0.04f

static bool get_floats(const struct aiMaterial *mat, const char *key, unsigned type, unsigned index,
                       float *out, unsigned count)
{
    unsigned n = count;
    ai_real tmp[4];
    if (count > 4 || aiGetMaterialFloatArray(mat, key, type, index, tmp, &n) != aiReturn_SUCCESS ||
        n < 1) {
        return false;
    }
    for (unsigned i = 0; i < count; i++) {
        out[i] = i < n ? (float)tmp[i] : out[i];
    }
    return true;
}

/* An integer or boolean property: importers store them as 4-byte integers or 1-byte buffers. */
static bool get_int(const struct aiMaterial *mat, const char *key, unsigned type, unsigned index,
                    int *out)
{
    const struct aiMaterialProperty *p = NULL;
    if (aiGetMaterialProperty(mat, key, type, index, &p) != aiReturn_SUCCESS || p == NULL ||
        p->mData == NULL || p->mDataLength == 0) {
        return false;
    }
    if (p->mDataLength >= 4 && (p->mType == aiPTI_Integer || p->mType == aiPTI_Buffer)) {
        int v;
        memcpy(&v, p->mData, sizeof(v));
        *out = v;
        return true;
    }
    if (p->mType == aiPTI_Buffer) {
        *out = (unsigned char)p->mData[0];
        return true;
    }
    if (p->mType == aiPTI_Float && p->mDataLength >= 4) {
        float f;
        memcpy(&f, p->mData, sizeof(f));
        *out = (int)f;
        return true;
    }
    return false;
}

static float srgb_to_linear(float c)
{
    if (c <= 0.04045f) {
        return c / 12.92f;
    }
    return powf((c + 0.055f) / 1.055f, 2.4f);
}

static float clamp01(float v)
{
    return v < 0.0f ? 0.0f : v > 1.0f ? 1.0f : v;
}

static enum rr_convert_code texture_of(struct rr_convert_ctx *ctx, const struct aiMaterial *mat,
                                       const char *name, const enum aiTextureType *types,
                                       size_t ntypes, uint32_t *out)
{
    *out = RR_ASSET_NONE;
    for (size_t i = 0; i < ntypes; i++) {
        struct aiString path;
        if (aiGetMaterialTexture(mat, types[i], 0, &path, NULL, NULL, NULL, NULL, NULL, NULL) ==
                aiReturn_SUCCESS &&
            path.length > 0) {
            return rr_convert_texture_get(ctx, path.data, name, out);
        }
    }
    return RR_CONVERT_OK;
}

static enum rr_convert_code textures(struct rr_convert_ctx *ctx, const struct aiMaterial *mat,
                                     const char *name, struct rr_asset_material *m)
{
    /* Where assimp 5.2 puts each glTF texture; the later types are what other importers use. */
    static const enum aiTextureType base[] = {aiTextureType_BASE_COLOR, aiTextureType_DIFFUSE};
    static const enum aiTextureType mr[] = {aiTextureType_UNKNOWN, aiTextureType_METALNESS};
    static const enum aiTextureType normal[] = {aiTextureType_NORMALS, aiTextureType_NORMAL_CAMERA};
    static const enum aiTextureType occlusion[] = {aiTextureType_LIGHTMAP,
                                                   aiTextureType_AMBIENT_OCCLUSION};
    static const enum aiTextureType emissive[] = {aiTextureType_EMISSIVE,
                                                  aiTextureType_EMISSION_COLOR};
    enum rr_convert_code c = texture_of(ctx, mat, name, base, 2, &m->base_color_texture);
    if (c == RR_CONVERT_OK) {
        c = texture_of(ctx, mat, name, mr, 2, &m->metallic_roughness_texture);
    }
    if (c == RR_CONVERT_OK) {
        c = texture_of(ctx, mat, name, normal, 2, &m->normal_texture);
    }
    if (c == RR_CONVERT_OK) {
        c = texture_of(ctx, mat, name, occlusion, 2, &m->occlusion_texture);
    }
    if (c == RR_CONVERT_OK) {
        c = texture_of(ctx, mat, name, emissive, 2, &m->emissive_texture);
    }
    return c;
}

static void colors(const struct rr_convert_ctx *ctx, const struct aiMaterial *mat,
                   struct rr_asset_material *m)
{
    float base[4] = {1.0f, 1.0f, 1.0f, 1.0f};
    float opacity = 1.0f;
    get_floats(mat, AI_MATKEY_OPACITY, &opacity, 1);
    /* glTF's base colour already carries alpha; classic materials keep it in "opacity". */
    if (!get_floats(mat, AI_MATKEY_BASE_COLOR, base, 4)) {
        get_floats(mat, AI_MATKEY_COLOR_DIFFUSE, base, 3);
        base[3] = opacity;
    }
    float emissive[3] = {0.0f, 0.0f, 0.0f};
    get_floats(mat, AI_MATKEY_COLOR_EMISSIVE, emissive, 3);
    float intensity = 1.0f;
    if (get_floats(mat, AI_MATKEY_EMISSIVE_INTENSITY, &intensity, 1)) {
        for (int k = 0; k < 3; k++) {
            emissive[k] *= intensity;
        }
    }
    bool gamma = ctx->settings.gamma_to_linear_material > 0;
    for (int k = 0; k < 3; k++) {
        m->base_color[k] = gamma ? srgb_to_linear(clamp01(base[k])) : clamp01(base[k]);
        m->emissive[k] = gamma ? srgb_to_linear(emissive[k]) : emissive[k];
    }
    m->base_color[3] = clamp01(base[3]);
}

static void surface(const struct rr_convert_ctx *ctx, const struct aiMaterial *mat,
                    struct rr_asset_material *m)
{
    float metallic = 0.0f;
    if (!get_floats(mat, AI_MATKEY_METALLIC_FACTOR, &metallic, 1) && ctx->kind == RR_INPUT_FBX &&
        ctx->settings.fbx_assume_metallic) {
        float spec[3] = {0.0f, 0.0f, 0.0f};
        float strength = 1.0f;
        get_floats(mat, AI_MATKEY_COLOR_SPECULAR, spec, 3);
        get_floats(mat, AI_MATKEY_SHININESS_STRENGTH, &strength, 1);
        float f0 = fmaxf(spec[0], fmaxf(spec[1], spec[2])) * strength;
        metallic = (f0 - DIELECTRIC_F0) / (1.0f - DIELECTRIC_F0);
    }
    m->metallic = clamp01(metallic);

    float roughness = 1.0f;
    float shininess = 0.0f;
    if (!get_floats(mat, AI_MATKEY_ROUGHNESS_FACTOR, &roughness, 1) &&
        get_floats(mat, AI_MATKEY_SHININESS, &shininess, 1) && shininess > 0.0f) {
        /* Blinn-Phong exponent to GGX roughness (alpha = sqrt(2 / (n + 2))). */
        roughness = sqrtf(2.0f / (shininess + 2.0f));
    }
    m->roughness = clamp01(roughness);

    m->normal_scale = 1.0f;
    if (!get_floats(mat, AI_MATKEY_GLTF_TEXTURE_SCALE(aiTextureType_NORMALS, 0), &m->normal_scale,
                    1)) {
        get_floats(mat, AI_MATKEY_BUMPSCALING, &m->normal_scale, 1);
    }
}

static void alpha_and_flags(const struct rr_convert_ctx *ctx, const struct aiMaterial *mat,
                            bool vertex_color, struct rr_asset_material *m)
{
    struct aiString mode;
    m->alpha_mode = RR_ALPHA_OPAQUE;
    m->alpha_cutoff = 0.5f;
    if (aiGetMaterialString(mat, AI_MATKEY_GLTF_ALPHAMODE, &mode) == aiReturn_SUCCESS) {
        if (strcmp(mode.data, "MASK") == 0) {
            m->alpha_mode = RR_ALPHA_MASK;
        } else if (strcmp(mode.data, "BLEND") == 0) {
            m->alpha_mode = RR_ALPHA_BLEND;
        }
        get_floats(mat, AI_MATKEY_GLTF_ALPHACUTOFF, &m->alpha_cutoff, 1);
    } else if (m->base_color[3] < 1.0f) {
        m->alpha_mode = RR_ALPHA_BLEND;
    }

    int two_sided = 0;
    if (get_int(mat, AI_MATKEY_TWOSIDED, &two_sided)) {
        m->flags |= two_sided != 0 ? RR_MATERIAL_DOUBLE_SIDED : 0;
    } else if (m->alpha_mode == RR_ALPHA_OPAQUE && ctx->settings.opaque_double_sided) {
        m->flags |= RR_MATERIAL_DOUBLE_SIDED;
    }
    int shading = 0;
    if (ctx->settings.unlit_materials ||
        (get_int(mat, AI_MATKEY_SHADING_MODEL, &shading) && shading == aiShadingMode_Unlit)) {
        m->flags |= RR_MATERIAL_UNLIT;
    }
    if (vertex_color) {
        m->flags |= RR_MATERIAL_VERTEX_COLOR;
    }
}

static bool same_but_name(const struct rr_asset_material *a, const struct rr_asset_material *b)
{
    struct rr_asset_material x = *a;
    struct rr_asset_material y = *b;
    x.name = y.name = 0;
    return memcmp(&x, &y, sizeof(x)) == 0;
}

enum rr_convert_code rr_convert_material_get(struct rr_convert_ctx *ctx, uint32_t src,
                                             bool vertex_color, uint32_t *out_index)
{
    const struct aiScene *sc = ctx->scene;
    *out_index = RR_ASSET_NONE;
    if (src >= sc->mNumMaterials || sc->mMaterials[src] == NULL) {
        return RR_CONVERT_OK;
    }
    if (ctx->material_of_src == NULL) {
        ctx->material_of_src = malloc((size_t)sc->mNumMaterials * 2 * sizeof(uint32_t));
        ctx->materials = calloc((size_t)sc->mNumMaterials * 2, sizeof(*ctx->materials));
        if (ctx->material_of_src == NULL || ctx->materials == NULL) {
            return rr_convert_fail(ctx->status, RR_CONVERT_INTERNAL_ERROR, "out of memory");
        }
        memset(ctx->material_of_src, 0xff, (size_t)sc->mNumMaterials * 2 * sizeof(uint32_t));
    }
    uint32_t *slot = &ctx->material_of_src[(size_t)src * 2 + (vertex_color ? 1 : 0)];
    if (*slot != UINT32_MAX) {
        *out_index = *slot;
        return RR_CONVERT_OK;
    }

    const struct aiMaterial *mat = sc->mMaterials[src];
    struct rr_asset_material m;
    memset(&m, 0, sizeof(m));
    struct aiString name;
    name.length = 0;
    name.data[0] = '\0';
    aiGetMaterialString(mat, AI_MATKEY_NAME, &name);
    m.name = rr_asset_writer_string(ctx->writer, name.data);
    if (m.name == RR_ASSET_NONE) {
        return rr_convert_fail(ctx->status, RR_CONVERT_INTERNAL_ERROR, "out of memory");
    }
    colors(ctx, mat, &m);
    surface(ctx, mat, &m);
    alpha_and_flags(ctx, mat, vertex_color, &m);
    enum rr_convert_code c = textures(ctx, mat, name.data, &m);
    if (c != RR_CONVERT_OK) {
        return c;
    }

    if (ctx->settings.deduplicate_materials) {
        for (size_t i = 0; i < ctx->material_count; i++) {
            if (same_but_name(&ctx->materials[i], &m)) {
                *slot = (uint32_t)i;
                *out_index = *slot;
                return RR_CONVERT_OK;
            }
        }
    }
    ctx->materials[ctx->material_count] = m;
    *slot = (uint32_t)ctx->material_count++;
    *out_index = *slot;
    return RR_CONVERT_OK;
}
