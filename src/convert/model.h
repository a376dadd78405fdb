/* SPDX-License-Identifier: Apache-2.0 */
/*
 * model — the state one conversion's stages share: the imported assimp scene, the plan of what
 * is written (nodes, meshes, point clouds, materials), the asset writer and the statistics
 * for info.json. The stage functions declared here are implemented one file each.
 * Threads: one conversion runs on the thread that called rr_convert_run(); optimize.c,
 * quantize.c and bvh.c fan pure computations out to worker threads and join them before they
 * return, so no stage function runs concurrently with another.
 */
#ifndef RR_CONVERT_MODEL_H
#define RR_CONVERT_MODEL_H

#include "asset_writer.h"
#include "openrr/asset.h"
#include "progress.h"
#include "rr_convert.h"
#include "settings.h"
#include "status.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct aiScene;
struct aiNode;
struct aiMesh;

enum rr_convert_input_kind {
    RR_INPUT_GLTF,
    RR_INPUT_FBX,
    RR_INPUT_OBJ,
    RR_INPUT_PLY,
};

/* Counted from the imported aiScene the way `assimp info` counts (see import.c). */
struct rr_convert_input_stats {
    uint64_t meshes;
    uint64_t faces;
    uint64_t vertices;
    uint64_t materials;
    uint64_t faces_smallest_mesh;
    uint64_t faces_biggest_mesh;
    uint64_t nodes;
    uint64_t mesh_usages;
    uint64_t max_depth;
};

struct rr_convert_input_info {
    char extension[16]; /* ".glb", lower case */
    char *format;       /* assimp's importer name, e.g. "glTF2 Importer" */
    char *format_version;
    char *generator;
};

/* A node as written: parent before child, transforms column-major. */
struct rr_convert_node {
    const struct aiNode *src;
    uint32_t parent; /* RR_ASSET_NONE for the root */
    double local[16];
    double world[16];    /* after the conversion transform */
    uint32_t mesh_first; /* into rr_convert_ctx.node_meshes */
    uint32_t mesh_count;
};

/* One rr_asset_mesh to write, made from one assimp triangle mesh. */
struct rr_convert_mesh {
    uint32_t src;  /* index into aiScene.mMeshes */
    uint32_t name; /* string offset */
    uint32_t uses; /* nodes that instance it */
    bool baked;    /* vertices transformed by bake (sceneGraphMode none) */
    bool flip_winding;
    double bake[16];
    uint32_t material; /* output material, RR_ASSET_NONE = default */
    uint32_t vertex_format;
    uint32_t vertex_stride;
    bool generate_tangents; /* no tangents in the source but UVs and normals to derive them */
    /* After optimisation (optimize.c). */
    uint32_t vertex_count; /* referenced, unique */
    uint32_t index_count;
    uint32_t index_size; /* 2 or 4 */
    void *indices;       /* final order and numbering; freed once written */
    uint32_t *remap;     /* source vertex -> output vertex or UINT32_MAX; freed after quantise */
    /* Where it went (output.c). */
    uint64_t vertex_offset;
    uint64_t index_offset;
    uint32_t bvh_first;
    uint32_t bvh_count;
    uint32_t bvh_triangle_first;
    uint32_t bvh_triangle_count;
    float bounds_min[3]; /* of the decoded positions */
    float bounds_max[3];
};

/* A point cloud record: points-only assimp mesh placed by a node. */
struct rr_convert_cloud {
    uint32_t src;
    uint32_t node; /* output node, RR_ASSET_NONE = scene root */
    bool baked;
    double bake[16];
    uint32_t data_of; /* index of an earlier cloud sharing its points, or UINT32_MAX */
    struct rr_asset_point_cloud record; /* filled by output.c */
};

struct rr_convert_ctx {
    const struct rr_convert_options *opt;
    struct rr_convert_status *status;
    struct rr_convert_progress *progress;
    struct rr_convert_settings settings;

    char *input_dir; /* where external files (.bin, textures) are looked up */
    enum rr_convert_input_kind kind;
    bool point_cloud_input; /* a PLY with vertices and no faces */
    bool assimp_joined;     /* assimp's JoinIdenticalVertices ran (small inputs) */
    const struct aiScene *scene;
    struct rr_convert_input_stats in_stats;
    struct rr_convert_input_info in_info;

    /* The plan (scene.c). */
    double conversion[16]; /* scaling, axis and recentering: applied at the root */
    double recentering_offset[3];
    struct rr_convert_node *nodes;
    size_t node_count;
    uint32_t *node_meshes; /* output mesh index per node reference */
    size_t node_mesh_count;
    struct rr_convert_mesh *meshes;
    size_t mesh_count;
    struct rr_convert_cloud *clouds;
    size_t cloud_count;

    /* Materials and textures (materials.c, textures.c). */
    struct rr_asset_material *materials;
    size_t material_count;
    uint32_t *material_of_src; /* [src * 2 + vertex_colour] -> output, UINT32_MAX until made */
    struct rr_convert_texture_entry *textures;
    size_t texture_count;
    size_t texture_cap;

    struct rr_asset_writer *writer;
    uint8_t *vertex_data; /* VERTEX_DATA, reserved in one piece so that it stays put */
    uint64_t vertex_base; /* its offset in the section */
    float bounds_min[3];  /* whole scene, final */
    float bounds_max[3];
    uint64_t parts_created;
    uint64_t parts_instanced;
};

struct rr_convert_texture_entry {
    uint64_t hash; /* XXH64 of the stored bytes, for deduplication */
    uint64_t size;
    uint32_t index; /* into TEXTURES */
};

/* import.c: checks before assimp runs (existence, readability, extension). */
enum rr_convert_code rr_convert_import_check(struct rr_convert_ctx *ctx);
/* import.c: run assimp, guard sizes, count the statistics. */
enum rr_convert_code rr_convert_import(struct rr_convert_ctx *ctx);
void rr_convert_import_release(struct rr_convert_ctx *ctx);

/* scene.c: nodes, mesh and point-cloud jobs, conversion transform, recentering. */
enum rr_convert_code rr_convert_scene_plan(struct rr_convert_ctx *ctx);

/* materials.c: the output material for an assimp material, made on first use. */
enum rr_convert_code rr_convert_material_get(struct rr_convert_ctx *ctx, uint32_t src,
                                             bool vertex_color, uint32_t *out_index);

/* textures.c: load, check and store the texture a material names; RR_ASSET_NONE when it is
 * missing (a warning). */
enum rr_convert_code rr_convert_texture_get(struct rr_convert_ctx *ctx, const char *path,
                                            const char *material_name, uint32_t *out_index);

/* optimize.c: final index buffer and vertex numbering of every mesh (needs the scene). */
enum rr_convert_code rr_convert_optimize(struct rr_convert_ctx *ctx);

/* quantize.c: write @p m's vertices to @p dst (vertex_count × stride bytes) and its bounds. */
enum rr_convert_code rr_convert_quantize_mesh(struct rr_convert_ctx *ctx, struct rr_convert_mesh *m,
                                              uint8_t *dst);
/* quantize.c: the vertex format of a mesh from the settings and what the source has. */
uint32_t rr_convert_vertex_format(const struct rr_convert_ctx *ctx, const struct aiMesh *mesh,
                                  bool *out_generate_tangents);

/* tangents.c: per-vertex tangents (xyz, w = handedness) in output numbering. */
enum rr_convert_code rr_convert_tangents(const struct aiMesh *mesh, const struct rr_convert_mesh *m,
                                         const uint32_t *source_of, float **out_tangents);

/* output.c: the writer calls, in the order the stages run. */
enum rr_convert_code rr_convert_output_geometry(struct rr_convert_ctx *ctx);
enum rr_convert_code rr_convert_output_point_clouds(struct rr_convert_ctx *ctx);
enum rr_convert_code rr_convert_output_nodes(struct rr_convert_ctx *ctx);
enum rr_convert_code rr_convert_output_collision(struct rr_convert_ctx *ctx);
enum rr_convert_code rr_convert_output_meshes(struct rr_convert_ctx *ctx);
enum rr_convert_code rr_convert_output_finish(struct rr_convert_ctx *ctx, const char *path);

/* Column-major 4×4 helpers (scene.c). */
void rr_convert_mat_identity(double m[16]);
void rr_convert_mat_mul(double out[16], const double a[16], const double b[16]);
void rr_convert_mat_point(const double m[16], const float in[3], double out[3]);

#endif
