/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz-asset-seeds — writes the seed corpus of fuzz_asset with the real writer: small assets
 * that between them use every section, every vertex encoding, both index sizes, every texture
 * encoding, compressed and plain sections, so the fuzzer starts from valid files and mutates
 * its way into every validation rule. Run at build time: fuzz-asset-seeds DIR.
 */
#include "openrr/asset.h"

#include "asset_writer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void check(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz-asset-seeds: %s failed\n", what);
        exit(1);
    }
}

static void add(struct rr_asset_writer *w, uint32_t type, const void *data, size_t size,
                size_t align)
{
    check(rr_asset_writer_append(w, type, data, size, align) != UINT64_MAX, "append");
}

static void finish(struct rr_asset_writer *w, const char *dir, const char *name)
{
    char path[4096], err[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (rr_asset_writer_finish(w, path, err, sizeof err) != RR_ASSET_OK) {
        fprintf(stderr, "fuzz-asset-seeds: %s: %s\n", path, err);
        exit(1);
    }
    rr_asset_writer_destroy(&w);
}

static void identity(float m[16])
{
    memset(m, 0, 16 * sizeof m[0]);
    m[0] = m[5] = m[10] = m[15] = 1.0f;
}

/* A quad with normals, texcoords and colours, 16-bit indices, a 3-node BVH, an RGBA8 texture,
 * a coloured point cloud and metadata: the unit test's scene. */
static struct rr_asset_writer *scene(void)
{
    struct rr_asset_writer *w;
    check(rr_asset_writer_create(&w) == RR_ASSET_OK, "create");
    struct rr_asset_node nodes[2] = {
        {.name = rr_asset_writer_string(w, "root"), .parent = RR_ASSET_NONE, .metadata_count = 1},
        {.name = rr_asset_writer_string(w, "child"), .parent = 0, .mesh_count = 1},
    };
    identity(nodes[0].transform);
    identity(nodes[1].transform);
    add(w, RR_SECTION_NODES, nodes, sizeof nodes, 4);
    uint32_t nm = 0;
    add(w, RR_SECTION_NODE_MESHES, &nm, sizeof nm, 4);
    struct rr_asset_metadata md = {rr_asset_writer_string(w, "author"),
                                   rr_asset_writer_string(w, "openrr")};
    add(w, RR_SECTION_METADATA, &md, sizeof md, 4);

    uint32_t fmt =
        (RR_VERTEX_FLOAT32x3 << RR_ATTR_POSITION) | (RR_VERTEX_SNORM8x4 << RR_ATTR_NORMAL) |
        (RR_VERTEX_FLOAT32x2 << RR_ATTR_TEXCOORD0) | (RR_VERTEX_UNORM8x4 << RR_ATTR_COLOR0);
    uint32_t stride = rr_vertex_format_stride(fmt);
    uint8_t *v = rr_asset_writer_reserve(w, RR_SECTION_VERTEX_DATA, 4 * stride, 16, NULL);
    check(v != NULL, "reserve");
    for (int i = 0; i < 4; i++) {
        float p[3] = {(float)(i & 1), (float)(i >> 1), 0};
        memcpy(v + i * stride, p, sizeof p);
        v[i * stride + 14] = 127;
        v[i * stride + 24] = 255;
    }
    uint16_t idx[6] = {0, 1, 2, 2, 1, 3};
    add(w, RR_SECTION_INDEX_DATA, idx, sizeof idx, 16);
    struct rr_asset_mesh mesh = {.name = rr_asset_writer_string(w, "quad"),
                                 .vertex_format = fmt,
                                 .vertex_stride = stride,
                                 .vertex_count = 4,
                                 .index_count = 6,
                                 .index_size = 2,
                                 .part_count = 1,
                                 .bvh_count = 3,
                                 .bvh_triangle_count = 2,
                                 .bounds_max = {1, 1, 0}};
    add(w, RR_SECTION_MESHES, &mesh, sizeof mesh, 8);
    struct rr_asset_mesh_part part = {0, 6, 0};
    add(w, RR_SECTION_MESH_PARTS, &part, sizeof part, 4);
    struct rr_asset_bvh_node bvh[3] = {
        {.bounds_max = {1, 1, 0}, .first = 1, .count = 0},
        {.bounds_max = {1, 1, 0}, .first = 0, .count = 1},
        {.bounds_max = {1, 1, 0}, .first = 1, .count = 1},
    };
    add(w, RR_SECTION_BVH_NODES, bvh, sizeof bvh, 4);
    uint32_t tris[2] = {0, 1};
    add(w, RR_SECTION_BVH_TRIANGLES, tris, sizeof tris, 4);

    struct rr_asset_material mat = {.name = rr_asset_writer_string(w, "painted"),
                                    .alpha_mode = RR_ALPHA_MASK,
                                    .alpha_cutoff = 0.5f,
                                    .base_color = {1, 1, 1, 1},
                                    .roughness = 1,
                                    .normal_scale = 1,
                                    .base_color_texture = 0,
                                    .metallic_roughness_texture = RR_ASSET_NONE,
                                    .normal_texture = RR_ASSET_NONE,
                                    .occlusion_texture = RR_ASSET_NONE,
                                    .emissive_texture = RR_ASSET_NONE};
    add(w, RR_SECTION_MATERIALS, &mat, sizeof mat, 4);
    struct rr_asset_texture tex = {.name = rr_asset_writer_string(w, "checker"),
                                   .encoding = RR_TEXTURE_RGBA8,
                                   .width = 2,
                                   .height = 2,
                                   .data_size = 16};
    add(w, RR_SECTION_TEXTURES, &tex, sizeof tex, 8);
    uint8_t texels[16] = {255, 0, 0, 255, 0, 255, 0, 255, 0, 0, 255, 255, 255, 255, 255, 255};
    add(w, RR_SECTION_TEXTURE_DATA, texels, sizeof texels, 16);

    float pts[9] = {0, 0, 0, 1, 1, 1, -1, 2, 0.5f};
    add(w, RR_SECTION_POINT_DATA, pts, sizeof pts, 16);
    uint8_t col[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
    uint64_t col_off = rr_asset_writer_append(w, RR_SECTION_POINT_DATA, col, sizeof col, 16);
    struct rr_asset_point_cloud pc = {.name = rr_asset_writer_string(w, "scan"),
                                      .point_count = 3,
                                      .color_offset = col_off,
                                      .node = 1,
                                      .bounds_min = {-1, 0, 0},
                                      .bounds_max = {1, 2, 1}};
    add(w, RR_SECTION_POINT_CLOUDS, &pc, sizeof pc, 8);
    float lo[3] = {-1, 0, 0}, hi[3] = {1, 2, 1};
    rr_asset_writer_set_bounds(w, lo, hi);
    return w;
}

/* The other encodings: float16 positions, tangents, two texcoords, 32-bit indices, two meshes
 * (one without BVH and with a default-material part), PNG and JPEG textures, a point cloud
 * without colours, a deeper node chain. */
static struct rr_asset_writer *variety(void)
{
    struct rr_asset_writer *w;
    check(rr_asset_writer_create(&w) == RR_ASSET_OK, "create");
    struct rr_asset_node nodes[3];
    memset(nodes, 0, sizeof nodes);
    for (uint32_t i = 0; i < 3; i++) {
        nodes[i].name = rr_asset_writer_string(w, i == 0 ? "a" : i == 1 ? "b" : "c");
        nodes[i].parent = i == 0 ? RR_ASSET_NONE : i - 1;
        nodes[i].mesh_first = i == 2 ? 0 : 0;
        nodes[i].mesh_count = i == 2 ? 2 : 0;
        identity(nodes[i].transform);
    }
    add(w, RR_SECTION_NODES, nodes, sizeof nodes, 4);
    uint32_t nm[2] = {0, 1};
    add(w, RR_SECTION_NODE_MESHES, nm, sizeof nm, 4);

    uint32_t fmt =
        (RR_VERTEX_FLOAT16x4 << RR_ATTR_POSITION) | (RR_VERTEX_FLOAT16x4 << RR_ATTR_NORMAL) |
        (RR_VERTEX_SNORM8x4 << RR_ATTR_TANGENT) | (RR_VERTEX_FLOAT16x2 << RR_ATTR_TEXCOORD0) |
        (RR_VERTEX_FLOAT32x2 << RR_ATTR_TEXCOORD1);
    uint32_t stride = rr_vertex_format_stride(fmt);
    uint64_t voff;
    uint8_t *v = rr_asset_writer_reserve(w, RR_SECTION_VERTEX_DATA, 3 * stride, 16, &voff);
    check(v != NULL, "reserve");
    for (uint32_t i = 0; i < 3 * stride; i++) {
        v[i] = (uint8_t)(i * 31);
    }
    uint32_t idx[3] = {0, 1, 2};
    uint64_t ioff = rr_asset_writer_append(w, RR_SECTION_INDEX_DATA, idx, sizeof idx, 16);
    struct rr_asset_mesh meshes[2] = {
        {.name = rr_asset_writer_string(w, "tri32"),
         .vertex_format = fmt,
         .vertex_stride = stride,
         .vertex_count = 3,
         .vertex_offset = voff,
         .index_offset = ioff,
         .index_count = 3,
         .index_size = 4,
         .part_count = 1,
         .bvh_first = RR_ASSET_NONE},
        {.name = 0,
         .vertex_format = RR_VERTEX_FLOAT32x3,
         .vertex_stride = 12,
         .vertex_count = 0,
         .index_size = 2,
         .part_first = 1,
         .bvh_first = RR_ASSET_NONE},
    };
    meshes[0].bounds_max[0] = 1;
    add(w, RR_SECTION_MESHES, meshes, sizeof meshes, 8);
    struct rr_asset_mesh_part part = {0, 3, RR_ASSET_NONE};
    add(w, RR_SECTION_MESH_PARTS, &part, sizeof part, 4);

    static const uint8_t png[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 0};
    static const uint8_t jpg[] = {0xff, 0xd8, 0xff, 0xe0, 0, 0x10, 'J', 'F', 'I', 'F', 0xff, 0xd9};
    uint64_t poff = rr_asset_writer_append(w, RR_SECTION_TEXTURE_DATA, png, sizeof png, 1);
    uint64_t joff = rr_asset_writer_append(w, RR_SECTION_TEXTURE_DATA, jpg, sizeof jpg, 1);
    struct rr_asset_texture tex[2] = {
        {.name = rr_asset_writer_string(w, "p.png"),
         .encoding = RR_TEXTURE_PNG,
         .width = 1,
         .height = 1,
         .data_offset = poff,
         .data_size = sizeof png},
        {.name = rr_asset_writer_string(w, "j.jpg"),
         .encoding = RR_TEXTURE_JPEG,
         .width = 1,
         .height = 1,
         .data_offset = joff,
         .data_size = sizeof jpg},
    };
    add(w, RR_SECTION_TEXTURES, tex, sizeof tex, 8);
    struct rr_asset_material mat = {.name = rr_asset_writer_string(w, "m"),
                                    .flags = RR_MATERIAL_UNLIT | RR_MATERIAL_VERTEX_COLOR,
                                    .alpha_mode = RR_ALPHA_BLEND,
                                    .base_color = {1, 1, 1, 0.5f},
                                    .base_color_texture = 0,
                                    .metallic_roughness_texture = RR_ASSET_NONE,
                                    .normal_texture = RR_ASSET_NONE,
                                    .occlusion_texture = RR_ASSET_NONE,
                                    .emissive_texture = 1};
    add(w, RR_SECTION_MATERIALS, &mat, sizeof mat, 4);

    float pts[6] = {0, 0, 0, 1, 1, 1};
    uint64_t off = rr_asset_writer_append(w, RR_SECTION_POINT_DATA, pts, sizeof pts, 16);
    struct rr_asset_point_cloud pc = {.name = 0,
                                      .point_count = 2,
                                      .position_offset = off,
                                      .color_offset = UINT64_MAX,
                                      .node = RR_ASSET_NONE,
                                      .bounds_max = {1, 1, 1}};
    add(w, RR_SECTION_POINT_CLOUDS, &pc, sizeof pc, 8);
    return w;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: fuzz-asset-seeds DIR\n");
        return 2;
    }
    struct rr_asset_writer *w;
    check(rr_asset_writer_create(&w) == RR_ASSET_OK, "create");
    finish(w, argv[1], "empty.rrasset");
    finish(scene(), argv[1], "scene.rrasset");
    w = scene();
    rr_asset_writer_set_compression(w, 19, 0);
    finish(w, argv[1], "scene-zstd.rrasset");
    finish(variety(), argv[1], "variety.rrasset");
    w = variety();
    rr_asset_writer_set_compression(w, 1, 64);
    finish(w, argv[1], "variety-zstd.rrasset");
    return 0;
}
