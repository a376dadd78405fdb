/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libopenrr_asset — the .rrasset runtime asset format and its reader.
 *
 * A .rrasset file is what openrr-convert produces and what a rendering host loads: a header,
 * a section table and 16-byte aligned sections (scene nodes, meshes with quantised vertex
 * streams and optimised index buffers, materials, textures, point clouds, a collision BVH per
 * mesh, strings), each with an xxHash64 checksum and optionally zstd-compressed. The exact
 * layout is in docs/asset-format.md; the structs below ARE the on-disk records (little-endian).
 *
 * The reader maps the file and validates every offset, count, size and reference before
 * returning it, so the accessors need no further checks and vertex data is used in place (no
 * copy) unless its section is compressed.
 *
 * Threads: an open asset is immutable; any thread may read it concurrently. Open and close
 * from any thread.
 * Errors: enum rr_asset_result; rr_asset_result_str() names each; open also writes a human
 * message naming the section and the field that failed.
 */
#ifndef OPENRR_ASSET_H
#define OPENRR_ASSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define RR_ASSET_MAGIC "RRASSET\0" /* 8 bytes */
#define RR_ASSET_VERSION_MAJOR 1
#define RR_ASSET_VERSION_MINOR 0
#define RR_ASSET_ALIGNMENT 16     /* every section starts at a multiple of this */
#define RR_ASSET_NONE 0xffffffffu /* "no reference" for u32 references */

enum rr_asset_result {
    RR_ASSET_OK = 0,
    RR_ASSET_ERROR_INVALID_ARGUMENT = 1,
    RR_ASSET_ERROR_IO = 2,            /* cannot open, stat or map the file */
    RR_ASSET_ERROR_NOT_AN_ASSET = 3,  /* wrong magic */
    RR_ASSET_ERROR_VERSION = 4,       /* major version not supported */
    RR_ASSET_ERROR_TRUNCATED = 5,     /* file shorter than the header or its own size field */
    RR_ASSET_ERROR_SECTION_TABLE = 6, /* table outside the file, overlapping or misaligned */
    RR_ASSET_ERROR_CHECKSUM = 7,      /* a section's xxHash64 does not match */
    RR_ASSET_ERROR_DECOMPRESS = 8,    /* zstd failed or produced the wrong size */
    RR_ASSET_ERROR_BAD_RECORD = 9,    /* a count, offset, size or reference out of range */
    RR_ASSET_ERROR_OUT_OF_MEMORY = 10,
};

/* Name of a result, e.g. "RR_ASSET_ERROR_CHECKSUM". Static storage, never NULL. */
const char *rr_asset_result_str(enum rr_asset_result r);

/* ---- on-disk records ------------------------------------------------------------------- */

struct rr_asset_file_header { /* at offset 0; 80 bytes */
    char magic[8];            /* RR_ASSET_MAGIC */
    uint16_t version_major;
    uint16_t version_minor;
    uint32_t header_size;          /* 80 */
    uint64_t file_size;            /* the whole file */
    uint64_t section_table_offset; /* 16-byte aligned */
    uint32_t section_count;        /* at most 64 */
    uint32_t flags;                /* reserved, 0 */
    uint64_t section_table_hash;   /* xxHash64 (seed 0) of the section table bytes */
    float bounds_min[3];           /* whole scene, after conversion */
    float bounds_max[3];
    uint32_t reserved[2]; /* 0 */
};

enum rr_asset_section_type {
    RR_SECTION_STRINGS = 1,        /* NUL-terminated UTF-8 strings; references are byte offsets */
    RR_SECTION_NODES = 2,          /* struct rr_asset_node[] */
    RR_SECTION_NODE_MESHES = 3,    /* uint32_t mesh index[]: what each node instances */
    RR_SECTION_METADATA = 4,       /* struct rr_asset_metadata[] */
    RR_SECTION_MESHES = 5,         /* struct rr_asset_mesh[] */
    RR_SECTION_MESH_PARTS = 6,     /* struct rr_asset_mesh_part[] */
    RR_SECTION_MATERIALS = 7,      /* struct rr_asset_material[] */
    RR_SECTION_TEXTURES = 8,       /* struct rr_asset_texture[] */
    RR_SECTION_TEXTURE_DATA = 9,   /* bytes */
    RR_SECTION_VERTEX_DATA = 10,   /* bytes; each mesh's vertices 16-byte aligned */
    RR_SECTION_INDEX_DATA = 11,    /* bytes; each mesh's indices 16-byte aligned */
    RR_SECTION_POINT_CLOUDS = 12,  /* struct rr_asset_point_cloud[] */
    RR_SECTION_POINT_DATA = 13,    /* bytes */
    RR_SECTION_BVH_NODES = 14,     /* struct rr_asset_bvh_node[] */
    RR_SECTION_BVH_TRIANGLES = 15, /* uint32_t triangle index[] (leaf ranges refer to these) */
};
#define RR_SECTION_TYPE_MAX 15

#define RR_SECTION_FLAG_ZSTD 0x1u

struct rr_asset_section { /* 48 bytes each */
    uint32_t type;        /* enum rr_asset_section_type; each type at most once */
    uint32_t flags;       /* RR_SECTION_FLAG_* */
    uint64_t offset;      /* 16-byte aligned */
    uint64_t stored_size; /* bytes in the file */
    uint64_t size;        /* bytes once decompressed (== stored_size if not) */
    uint64_t count;       /* records (record sections) or bytes (blob sections) */
    uint64_t hash;        /* xxHash64 (seed 0) of the stored bytes */
};

struct rr_asset_node {   /* 96 bytes */
    uint32_t name;       /* string offset */
    uint32_t parent;     /* node index, RR_ASSET_NONE for a root; parent < own index */
    uint32_t mesh_first; /* into NODE_MESHES */
    uint32_t mesh_count;
    uint32_t metadata_first; /* into METADATA */
    uint32_t metadata_count;
    uint32_t flags; /* reserved */
    uint32_t reserved;
    float transform[16]; /* local, column-major 4×4 */
};

struct rr_asset_metadata { /* 8 bytes */
    uint32_t key;          /* string offset */
    uint32_t value;        /* string offset */
};

/* Vertex stream encodings, 4 bits each in rr_asset_mesh.vertex_format. */
enum rr_vertex_encoding {
    RR_VERTEX_NONE = 0,
    RR_VERTEX_FLOAT32x3 = 1, /* position */
    RR_VERTEX_FLOAT16x4 = 2, /* position (w = 1), normal, tangent (w = handedness) */
    RR_VERTEX_SNORM8x4 = 3,  /* normal, tangent */
    RR_VERTEX_FLOAT32x2 = 4, /* texcoord */
    RR_VERTEX_FLOAT16x2 = 5, /* texcoord */
    RR_VERTEX_UNORM8x4 = 6,  /* color */
};
/* Attribute slots: the shift of each 4-bit field; attributes are interleaved in this order. */
enum rr_vertex_attribute {
    RR_ATTR_POSITION = 0,
    RR_ATTR_NORMAL = 4,
    RR_ATTR_TANGENT = 8,
    RR_ATTR_TEXCOORD0 = 12,
    RR_ATTR_TEXCOORD1 = 16,
    RR_ATTR_COLOR0 = 20,
};
#define RR_VERTEX_ENCODING(format, attr) (((format) >> (attr)) & 0xfu)

/* Bytes one attribute occupies with @p encoding (0 for NONE or unknown). */
uint32_t rr_vertex_encoding_size(enum rr_vertex_encoding encoding);
/* Stride of @p format, and each attribute's offset in a vertex (-1 when absent). */
uint32_t rr_vertex_format_stride(uint32_t format);
int32_t rr_vertex_attribute_offset(uint32_t format, enum rr_vertex_attribute attr);

struct rr_asset_mesh { /* 96 bytes */
    uint32_t name;
    uint32_t vertex_format; /* see RR_VERTEX_ENCODING */
    uint32_t vertex_stride; /* == rr_vertex_format_stride(vertex_format) */
    uint32_t vertex_count;
    uint64_t vertex_offset; /* into VERTEX_DATA, 16-byte aligned */
    uint64_t index_offset;  /* into INDEX_DATA, 16-byte aligned */
    uint32_t index_count;   /* a multiple of 3 (triangles) */
    uint32_t index_size;    /* 2 or 4 bytes */
    uint32_t part_first;    /* into MESH_PARTS */
    uint32_t part_count;
    uint32_t bvh_first; /* into BVH_NODES; RR_ASSET_NONE without a collision BVH */
    uint32_t bvh_count;
    uint32_t bvh_triangle_first; /* into BVH_TRIANGLES */
    uint32_t bvh_triangle_count; /* == index_count / 3 when present */
    float bounds_min[3];         /* of the decoded positions */
    float bounds_max[3];
    uint32_t reserved[2]; /* 0 */
};

struct rr_asset_mesh_part { /* 12 bytes */
    uint32_t index_first;   /* a multiple of 3 */
    uint32_t index_count;   /* a multiple of 3 */
    uint32_t material;      /* into MATERIALS, RR_ASSET_NONE = default material */
};

enum rr_material_flags {
    RR_MATERIAL_DOUBLE_SIDED = 0x1,
    RR_MATERIAL_UNLIT = 0x2,
    RR_MATERIAL_VERTEX_COLOR = 0x4,
};
enum rr_alpha_mode {
    RR_ALPHA_OPAQUE = 0,
    RR_ALPHA_MASK = 1,
    RR_ALPHA_BLEND = 2,
};

struct rr_asset_material { /* 80 bytes: PBR metal-roughness */
    uint32_t name;
    uint32_t flags;      /* enum rr_material_flags */
    uint32_t alpha_mode; /* enum rr_alpha_mode */
    float alpha_cutoff;
    float base_color[4]; /* linear RGBA */
    float emissive[3];   /* linear RGB */
    float metallic;
    float roughness;
    float normal_scale;
    uint32_t base_color_texture; /* into TEXTURES, RR_ASSET_NONE when absent */
    uint32_t metallic_roughness_texture;
    uint32_t normal_texture;
    uint32_t occlusion_texture;
    uint32_t emissive_texture;
    uint32_t reserved;
};

enum rr_texture_encoding {
    RR_TEXTURE_RGBA8 = 0, /* width × height × 4 bytes, row-major, top row first */
    RR_TEXTURE_PNG = 1,   /* the original file bytes */
    RR_TEXTURE_JPEG = 2,
};

struct rr_asset_texture { /* 32 bytes */
    uint32_t name;
    uint32_t encoding; /* enum rr_texture_encoding */
    uint32_t width;    /* decoded size (checked at conversion) */
    uint32_t height;
    uint64_t data_offset; /* into TEXTURE_DATA */
    uint64_t data_size;
};

struct rr_asset_point_cloud { /* 56 bytes */
    uint32_t name;
    uint32_t point_count;
    uint64_t position_offset; /* into POINT_DATA: float32x3 per point, 16-byte aligned */
    uint64_t color_offset;    /* into POINT_DATA: unorm8x4 per point, or UINT64_MAX */
    uint32_t node;            /* the node that places it, RR_ASSET_NONE = scene root */
    uint32_t reserved;
    float bounds_min[3];
    float bounds_max[3];
};

struct rr_asset_bvh_node { /* 32 bytes */
    float bounds_min[3];
    float bounds_max[3];
    uint32_t first; /* inner: left child (right = first + 1); leaf: first triangle
                       slot in the mesh's BVH_TRIANGLES range */
    uint32_t count; /* 0 = inner node; else number of triangles in the leaf */
};

/* ---- reader ---------------------------------------------------------------------------- */

struct rr_asset;

enum rr_asset_open_flags {
    RR_ASSET_OPEN_VERIFY_CHECKSUMS = 0x1, /* hash every section at open (default off: the
                                             structure is always validated) */
};

/* Map @p path and validate it. On failure returns the result and writes a message (section and
 * field) into @p err. *out_asset must be closed with rr_asset_close(). */
enum rr_asset_result rr_asset_open(const char *path, unsigned flags, struct rr_asset **out_asset,
                                   char *err, size_t err_size);
/* The same on bytes in memory (copied). */
enum rr_asset_result rr_asset_open_memory(const void *data, size_t size, unsigned flags,
                                          struct rr_asset **out_asset, char *err, size_t err_size);
void rr_asset_close(struct rr_asset **asset_ptr);

/* Hash every section and compare (what --inspect reports). RR_ASSET_OK or the first failure. */
enum rr_asset_result rr_asset_verify_checksums(const struct rr_asset *asset, char *err,
                                               size_t err_size);

const struct rr_asset_file_header *rr_asset_header(const struct rr_asset *asset);
/* Section table entry of @p type, or NULL when absent. */
const struct rr_asset_section *rr_asset_section(const struct rr_asset *asset, uint32_t type);
/* A section's (decompressed) bytes and record count; NULL/0 when absent. */
const void *rr_asset_section_data(const struct rr_asset *asset, uint32_t type, size_t *out_count);
/* The string at @p offset (validated NUL-terminated); "" for RR_ASSET_NONE. */
const char *rr_asset_string(const struct rr_asset *asset, uint32_t offset);

#ifdef __cplusplus
}
#endif
#endif /* OPENRR_ASSET_H */
