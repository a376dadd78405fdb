/* SPDX-License-Identifier: Apache-2.0 */
/*
 * render_asset — GPU copies of .rrasset files and the registry that shares them.
 *
 * One GPU asset per content (header section-table hash + file size). Its meshes are grouped
 * into buffer sets by (vertex format, index size): each set is one vertex buffer and one index
 * buffer where every mesh starts at a multiple of its stride, so that a mesh is just
 * (base vertex, first index, count) and one glMultiDrawElementsIndirect can draw many meshes.
 * Each VAO also reads the renderer's per-frame instance records (binding 1, divisor 1).
 * Vertex streams are uploaded as stored (half floats, snorm8, unorm8 are GL attribute types).
 * Everything the renderer needs from the file is copied, so the GPU asset outlives the
 * struct rr_asset it came from.
 *
 * The registry maps struct rr_asset pointers (what draws name) to handles, and contents to GPU
 * assets, both with reference counts.
 * Threads: the render thread, with the renderer's context current.
 */
#ifndef RR_RENDER_ASSET_H
#define RR_RENDER_ASSET_H

#include "render_shader.h"

#include "openrr/asset.h"

#include <epoxy/gl.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rr_gpu_buffer_set {
    uint32_t vertex_format;
    uint32_t stride;
    uint32_t index_size; /* 2 or 4 */
    uint32_t attrs;      /* RR_ATTRS_* of the format */
    GLuint vbo;
    GLuint ibo;
    GLuint vao;
    /* Which buffer binding 1 (instances) of the VAO points at; set by the renderer. */
    GLuint instance_buffer;
    uint64_t vertex_bytes; /* filled while laying out */
    uint64_t index_bytes;
};

struct rr_gpu_mesh {
    uint32_t set; /* into the asset's buffer sets */
    int32_t base_vertex;
    uint32_t first_index; /* in indices of the set's size */
    uint32_t index_count;
    uint32_t part_first; /* into the asset's parts */
    uint32_t part_count;
    float bounds_min[3];
    float bounds_max[3];
};

struct rr_gpu_material {
    uint32_t flags;                    /* enum rr_material_flags */
    uint32_t alpha_mode;               /* enum rr_alpha_mode */
    GLuint textures[RR_TEXTURE_SLOTS]; /* 0 = none (the renderer binds white) */
};

struct rr_gpu_cloud {
    uint32_t point_count;
    bool has_color;
    GLuint vao;
    GLuint instance_buffer; /* as for buffer sets */
    float bounds_min[3];
    float bounds_max[3];
};

struct rr_gpu_asset {
    uint64_t key_hash;
    uint64_t key_size;
    uint32_t refs; /* handles naming it */
    struct rr_gpu_asset *next;

    struct rr_gpu_buffer_set *sets;
    uint32_t set_count;
    struct rr_gpu_mesh *meshes;
    uint32_t mesh_count;
    struct rr_asset_mesh_part *parts; /* material RR_ASSET_NONE replaced by the default */
    uint32_t part_count;
    /* material_count + 1 entries: the last is the default material (white, rough). */
    struct rr_gpu_material *materials;
    uint32_t material_count;
    GLuint material_ubo;
    uint32_t material_stride; /* bytes between blocks in the UBO */
    GLuint *textures;
    uint32_t texture_count;
    GLuint point_buffer;
    struct rr_gpu_cloud *clouds;
    uint32_t cloud_count;
    uint64_t gpu_bytes;
};

/* A registration of one struct rr_asset pointer (the public struct rr_render_asset). */
struct rr_render_asset {
    const struct rr_asset *asset;
    struct rr_gpu_asset *gpu;
    uint32_t refs;
    struct rr_render_asset *next;
};

#define RR_REGISTRY_BUCKETS 256

struct rr_asset_registry {
    struct rr_render_asset *by_pointer[RR_REGISTRY_BUCKETS];
    struct rr_gpu_asset *by_content[RR_REGISTRY_BUCKETS];
    struct rr_render_asset *last; /* lookup cache: draws of one asset tend to be adjacent */
    uint32_t gpu_count;
    uint64_t uploads;
    GLint ubo_alignment;
};

/* Register (or add a reference to) @p asset; uploads on the first registration of its content.
 * false with err when a texture does not decode or GL fails; nothing changes then. */
bool rr_asset_registry_get(struct rr_asset_registry *reg, const struct rr_asset *asset,
                           struct rr_render_asset **out, char *err, size_t err_size);
void rr_asset_registry_release(struct rr_asset_registry *reg, struct rr_render_asset *handle);
/* The GPU asset registered for @p asset, or NULL. */
struct rr_gpu_asset *rr_asset_registry_find(struct rr_asset_registry *reg,
                                            const struct rr_asset *asset);
/* Free everything still registered (a caller that forgot releases), logging how many. */
void rr_asset_registry_clear(struct rr_asset_registry *reg);

/* Decode texture @p t of @p asset and upload it with mipmaps (sRGB when @p srgb). 0 with err
 * when it does not decode. In render_texture.c. */
GLuint rr_render_texture_upload(const struct rr_asset *asset, const struct rr_asset_texture *t,
                                bool srgb, uint64_t *gpu_bytes, char *err, size_t err_size);

#endif
