/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the .rrasset writer and reader (src/asset). A small but complete scene is
 * written with and without compression and must read back field for field; then every
 * single-byte corruption and every truncation of it must be refused with a named error (or,
 * only for bytes no structural rule covers, accepted and still safe to walk), and hand-made
 * hostile files must be refused with the error the format document promises. Runs under ASan
 * in CI, which is what turns "safe to walk" into a checked property.
 */
#include "openrr/asset.h"

#include "asset_writer.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <xxhash.h>

#define FORMAT                                                                                     \
    ((RR_VERTEX_FLOAT32x3 << RR_ATTR_POSITION) | (RR_VERTEX_SNORM8x4 << RR_ATTR_NORMAL) |          \
     (RR_VERTEX_FLOAT32x2 << RR_ATTR_TEXCOORD0) | (RR_VERTEX_UNORM8x4 << RR_ATTR_COLOR0))
#define STRIDE 28u /* 12 + 4 + 8 + 4 */

/* The records of the sample scene, filled by sample_init and changed by a test before
 * sample_write puts them into a writer. Each blob section holds one item at offset 0. */
struct sample {
    struct rr_asset_node nodes[2];
    uint32_t node_meshes[1];
    struct rr_asset_metadata meta[2];
    struct rr_asset_mesh mesh;
    uint8_t vertices[4 * STRIDE];
    uint16_t indices[6];
    struct rr_asset_mesh_part part;
    struct rr_asset_material material;
    struct rr_asset_texture texture;
    uint8_t texels[16];
    struct rr_asset_point_cloud cloud;
    float positions[9];
    uint8_t colors[12];
    struct rr_asset_bvh_node bvh[3];
    uint32_t bvh_triangles[2];
    uint32_t s_root, s_child, s_mesh, s_material, s_texture, s_cloud, s_author, s_openrr, s_units,
        s_metre;
};

static void set_bounds(float min[3], float max[3], float lo, float hi)
{
    for (int i = 0; i < 3; i++) {
        min[i] = lo;
        max[i] = hi;
    }
}

static void sample_init(struct rr_asset_writer *w, struct sample *s)
{
    memset(s, 0, sizeof *s);
    s->s_root = rr_asset_writer_string(w, "root");
    s->s_child = rr_asset_writer_string(w, "child");
    s->s_mesh = rr_asset_writer_string(w, "quad");
    s->s_material = rr_asset_writer_string(w, "painted");
    s->s_texture = rr_asset_writer_string(w, "checker");
    s->s_cloud = rr_asset_writer_string(w, "scan");
    s->s_author = rr_asset_writer_string(w, "author");
    s->s_openrr = rr_asset_writer_string(w, "openrr");
    s->s_units = rr_asset_writer_string(w, "units");
    s->s_metre = rr_asset_writer_string(w, "m");

    s->nodes[0] =
        (struct rr_asset_node){.name = s->s_root,
                               .parent = RR_ASSET_NONE,
                               .metadata_first = 0,
                               .metadata_count = 2,
                               .transform = {1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1}};
    s->nodes[1] =
        (struct rr_asset_node){.name = s->s_child,
                               .parent = 0,
                               .mesh_first = 0,
                               .mesh_count = 1,
                               .transform = {1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 2.5f, 0, -1, 1}};
    s->node_meshes[0] = 0;
    s->meta[0] = (struct rr_asset_metadata){s->s_author, s->s_openrr};
    s->meta[1] = (struct rr_asset_metadata){s->s_units, s->s_metre};

    static const float pos[4][3] = {{0, 0, 0}, {1, 0, 0}, {0, 1, 0}, {1, 1, 0}};
    static const float uv[4][2] = {{0, 0}, {1, 0}, {0, 1}, {1, 1}};
    for (int v = 0; v < 4; v++) {
        uint8_t *p = s->vertices + v * STRIDE;
        memcpy(p, pos[v], 12);
        const int8_t n[4] = {0, 0, 127, 0};
        memcpy(p + 12, n, 4);
        memcpy(p + 16, uv[v], 8);
        const uint8_t c[4] = {(uint8_t)(v * 60), 128, 255, 255};
        memcpy(p + 24, c, 4);
    }
    static const uint16_t idx[6] = {0, 1, 2, 2, 1, 3};
    memcpy(s->indices, idx, sizeof idx);
    s->mesh = (struct rr_asset_mesh){.name = s->s_mesh,
                                     .vertex_format = FORMAT,
                                     .vertex_stride = STRIDE,
                                     .vertex_count = 4,
                                     .vertex_offset = 0,
                                     .index_offset = 0,
                                     .index_count = 6,
                                     .index_size = 2,
                                     .part_first = 0,
                                     .part_count = 1,
                                     .bvh_first = 0,
                                     .bvh_count = 3,
                                     .bvh_triangle_first = 0,
                                     .bvh_triangle_count = 2};
    s->mesh.bounds_min[0] = s->mesh.bounds_min[1] = s->mesh.bounds_min[2] = 0;
    s->mesh.bounds_max[0] = s->mesh.bounds_max[1] = 1;
    s->part = (struct rr_asset_mesh_part){0, 6, 0};

    s->material = (struct rr_asset_material){.name = s->s_material,
                                             .flags = RR_MATERIAL_DOUBLE_SIDED,
                                             .alpha_mode = RR_ALPHA_MASK,
                                             .alpha_cutoff = 0.5f,
                                             .base_color = {1.0f, 0.5f, 0.25f, 1.0f},
                                             .emissive = {0.1f, 0.2f, 0.3f},
                                             .metallic = 0.25f,
                                             .roughness = 0.75f,
                                             .normal_scale = 1.0f,
                                             .base_color_texture = 0,
                                             .metallic_roughness_texture = RR_ASSET_NONE,
                                             .normal_texture = RR_ASSET_NONE,
                                             .occlusion_texture = RR_ASSET_NONE,
                                             .emissive_texture = RR_ASSET_NONE};
    s->texture = (struct rr_asset_texture){.name = s->s_texture,
                                           .encoding = RR_TEXTURE_RGBA8,
                                           .width = 2,
                                           .height = 2,
                                           .data_offset = 0,
                                           .data_size = 16};
    for (int i = 0; i < 16; i++) {
        s->texels[i] = (uint8_t)(i * 17);
    }

    static const float pts[9] = {0.5f, 0.5f, 0.5f, -1, -2, -3, 4, 5, 6};
    memcpy(s->positions, pts, sizeof pts);
    for (int i = 0; i < 12; i++) {
        s->colors[i] = (uint8_t)(200 + i);
    }
    s->cloud = (struct rr_asset_point_cloud){.name = s->s_cloud,
                                             .point_count = 3,
                                             .position_offset = 0,
                                             .color_offset = 48,
                                             .node = 1,
                                             .bounds_min = {-1, -2, -3},
                                             .bounds_max = {4, 5, 6}};

    /* Root (inner) with two leaves of one triangle each; children after their parent. */
    set_bounds(s->bvh[0].bounds_min, s->bvh[0].bounds_max, 0, 1);
    s->bvh[0].first = 1;
    s->bvh[0].count = 0;
    set_bounds(s->bvh[1].bounds_min, s->bvh[1].bounds_max, 0, 1);
    s->bvh[1].first = 0;
    s->bvh[1].count = 1;
    set_bounds(s->bvh[2].bounds_min, s->bvh[2].bounds_max, 0, 1);
    s->bvh[2].first = 1;
    s->bvh[2].count = 1;
    s->bvh_triangles[0] = 0;
    s->bvh_triangles[1] = 1;
}

static void sample_write(struct rr_asset_writer *w, const struct sample *s)
{
    assert_int_equal(rr_asset_writer_append(w, RR_SECTION_NODES, s->nodes, sizeof s->nodes, 4), 0);
    assert_int_equal(
        rr_asset_writer_append(w, RR_SECTION_NODE_MESHES, s->node_meshes, sizeof s->node_meshes, 4),
        0);
    assert_int_equal(rr_asset_writer_append(w, RR_SECTION_METADATA, s->meta, sizeof s->meta, 4), 0);
    assert_int_equal(rr_asset_writer_append(w, RR_SECTION_MESHES, &s->mesh, sizeof s->mesh, 8), 0);
    assert_int_equal(
        rr_asset_writer_append(w, RR_SECTION_VERTEX_DATA, s->vertices, sizeof s->vertices, 16), 0);
    assert_int_equal(
        rr_asset_writer_append(w, RR_SECTION_INDEX_DATA, s->indices, sizeof s->indices, 16), 0);
    assert_int_equal(rr_asset_writer_append(w, RR_SECTION_MESH_PARTS, &s->part, sizeof s->part, 4),
                     0);
    assert_int_equal(
        rr_asset_writer_append(w, RR_SECTION_MATERIALS, &s->material, sizeof s->material, 4), 0);
    assert_int_equal(
        rr_asset_writer_append(w, RR_SECTION_TEXTURES, &s->texture, sizeof s->texture, 8), 0);
    assert_int_equal(
        rr_asset_writer_append(w, RR_SECTION_TEXTURE_DATA, s->texels, sizeof s->texels, 16), 0);
    assert_int_equal(
        rr_asset_writer_append(w, RR_SECTION_POINT_CLOUDS, &s->cloud, sizeof s->cloud, 8), 0);
    assert_int_equal(
        rr_asset_writer_append(w, RR_SECTION_POINT_DATA, s->positions, sizeof s->positions, 16), 0);
    uint64_t off;
    uint8_t *colors = rr_asset_writer_reserve(w, RR_SECTION_POINT_DATA, sizeof s->colors, 16, &off);
    assert_non_null(colors);
    assert_int_equal(off, 48);
    memcpy(colors, s->colors, sizeof s->colors);
    assert_int_equal(rr_asset_writer_append(w, RR_SECTION_BVH_NODES, s->bvh, sizeof s->bvh, 4), 0);
    assert_int_equal(rr_asset_writer_append(w, RR_SECTION_BVH_TRIANGLES, s->bvh_triangles,
                                            sizeof s->bvh_triangles, 4),
                     0);
    const float min[3] = {-1, -2, -3}, max[3] = {4, 5, 6};
    rr_asset_writer_set_bounds(w, min, max);
}

/* ---- files -------------------------------------------------------------------------------- */

static char g_dir[256];

static int setup_dir(void **state)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(g_dir, sizeof g_dir, "%s/rr-test-asset-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    return mkdtemp(g_dir) == NULL ? -1 : 0;
}

static void remove_tree(const char *path)
{
    DIR *d = opendir(path);
    if (d == NULL) {
        unlink(path);
        return;
    }
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) {
            continue;
        }
        char sub[512];
        snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
        chmod(sub, 0700);
        remove_tree(sub);
    }
    closedir(d);
    rmdir(path);
}

static int teardown_dir(void **state)
{
    chmod(g_dir, 0700);
    remove_tree(g_dir);
    return 0;
}

/* Entries of @p dir other than . and ..; and whether any is a temporary of the writer. */
static int count_entries(const char *dir, bool *out_tmp)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    int n = 0;
    *out_tmp = false;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) {
            continue;
        }
        n++;
        if (strstr(e->d_name, ".tmp.") != NULL) {
            *out_tmp = true;
        }
    }
    closedir(d);
    return n;
}

static uint8_t *read_file(const char *path, size_t *out_size)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    long n = ftell(f);
    assert_true(n > 0);
    rewind(f);
    uint8_t *p = malloc((size_t)n);
    assert_non_null(p);
    assert_int_equal(fread(p, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *out_size = (size_t)n;
    return p;
}

/* Writes the sample (as changed by @p s, or default when NULL) and returns its bytes. */
static uint8_t *make_asset(const struct sample *custom, int level, const char *name,
                           size_t *out_size)
{
    struct rr_asset_writer *w = NULL;
    assert_int_equal(rr_asset_writer_create(&w), RR_ASSET_OK);
    struct sample s;
    sample_init(w, &s);
    if (custom != NULL) {
        /* String offsets are the same in every writer: sample_init adds them in one order. */
        s = *custom;
    }
    sample_write(w, &s);
    rr_asset_writer_set_compression(w, level, 0);
    char path[512], err[256] = "";
    snprintf(path, sizeof path, "%s/%s", g_dir, name);
    enum rr_asset_result r = rr_asset_writer_finish(w, path, err, sizeof err);
    assert_int_equal(r, RR_ASSET_OK);
    rr_asset_writer_destroy(&w);
    assert_null(w);
    uint8_t *data = read_file(path, out_size);
    unlink(path);
    return data;
}

static void default_sample(struct sample *s)
{
    struct rr_asset_writer *w = NULL;
    assert_int_equal(rr_asset_writer_create(&w), RR_ASSET_OK);
    sample_init(w, s);
    rr_asset_writer_destroy(&w);
}

/* Recomputes every section hash and the table hash, so a hand-made change meets the structural
 * checks rather than the checksums. */
static void rehash(uint8_t *file, size_t size)
{
    struct rr_asset_file_header h;
    memcpy(&h, file, sizeof h);
    struct rr_asset_section *table = (struct rr_asset_section *)(file + h.section_table_offset);
    for (uint32_t i = 0; i < h.section_count; i++) {
        /* A section moved or grown past the file keeps its old hash: it fails before. */
        if (table[i].offset <= size && table[i].stored_size <= size - table[i].offset) {
            table[i].hash = XXH64(file + table[i].offset, table[i].stored_size, 0);
        }
    }
    h.section_table_hash = XXH64(table, h.section_count * sizeof *table, 0);
    memcpy(file, &h, sizeof h);
}

static struct rr_asset_section *find_entry(uint8_t *file, uint32_t type)
{
    struct rr_asset_file_header h;
    memcpy(&h, file, sizeof h);
    struct rr_asset_section *table = (struct rr_asset_section *)(file + h.section_table_offset);
    for (uint32_t i = 0; i < h.section_count; i++) {
        if (table[i].type == type) {
            return &table[i];
        }
    }
    return NULL;
}

/* ---- walking an asset as a host would ----------------------------------------------------- */

/* Touches every byte the reader vouched for; ASan reports any range it should not have. */
static uint64_t walk(const struct rr_asset *a)
{
    uint64_t sum = 0;
    size_t n_nodes, n_nm, n_meta, n_meshes, n_parts, n_mats, n_tex, n_pc, n_bvh, n_bt, vsize, isize,
        tsize, psize;
    const struct rr_asset_node *nodes = rr_asset_section_data(a, RR_SECTION_NODES, &n_nodes);
    const uint32_t *nm = rr_asset_section_data(a, RR_SECTION_NODE_MESHES, &n_nm);
    const struct rr_asset_metadata *meta = rr_asset_section_data(a, RR_SECTION_METADATA, &n_meta);
    const struct rr_asset_mesh *meshes = rr_asset_section_data(a, RR_SECTION_MESHES, &n_meshes);
    const struct rr_asset_mesh_part *parts =
        rr_asset_section_data(a, RR_SECTION_MESH_PARTS, &n_parts);
    const struct rr_asset_material *mats = rr_asset_section_data(a, RR_SECTION_MATERIALS, &n_mats);
    const struct rr_asset_texture *tex = rr_asset_section_data(a, RR_SECTION_TEXTURES, &n_tex);
    const struct rr_asset_point_cloud *pcs =
        rr_asset_section_data(a, RR_SECTION_POINT_CLOUDS, &n_pc);
    const struct rr_asset_bvh_node *bvh = rr_asset_section_data(a, RR_SECTION_BVH_NODES, &n_bvh);
    const uint32_t *bt = rr_asset_section_data(a, RR_SECTION_BVH_TRIANGLES, &n_bt);
    const uint8_t *vdata = rr_asset_section_data(a, RR_SECTION_VERTEX_DATA, &vsize);
    const uint8_t *idata = rr_asset_section_data(a, RR_SECTION_INDEX_DATA, &isize);
    const uint8_t *tdata = rr_asset_section_data(a, RR_SECTION_TEXTURE_DATA, &tsize);
    const uint8_t *pdata = rr_asset_section_data(a, RR_SECTION_POINT_DATA, &psize);

    for (size_t i = 0; i < n_nodes; i++) {
        sum += strlen(rr_asset_string(a, nodes[i].name));
        assert_true(nodes[i].parent == RR_ASSET_NONE || nodes[i].parent < i);
        for (uint32_t j = 0; j < nodes[i].mesh_count; j++) {
            assert_true(nm[nodes[i].mesh_first + j] < n_meshes);
        }
        for (uint32_t j = 0; j < nodes[i].metadata_count; j++) {
            const struct rr_asset_metadata *m = &meta[nodes[i].metadata_first + j];
            sum += strlen(rr_asset_string(a, m->key)) + strlen(rr_asset_string(a, m->value));
        }
    }
    for (size_t i = 0; i < n_meshes; i++) {
        const struct rr_asset_mesh *m = &meshes[i];
        sum += strlen(rr_asset_string(a, m->name));
        const uint8_t *v = vdata + m->vertex_offset;
        for (uint64_t b = 0; b < (uint64_t)m->vertex_count * m->vertex_stride; b++) {
            sum += v[b];
        }
        for (uint32_t j = 0; j < m->index_count; j++) {
            uint32_t ix = m->index_size == 2 ? ((const uint16_t *)(idata + m->index_offset))[j]
                                             : ((const uint32_t *)(idata + m->index_offset))[j];
            assert_true(ix < m->vertex_count);
            sum += ix;
        }
        for (uint32_t j = 0; j < m->part_count; j++) {
            const struct rr_asset_mesh_part *p = &parts[m->part_first + j];
            assert_true(p->material == RR_ASSET_NONE || p->material < n_mats);
            assert_true((uint64_t)p->index_first + p->index_count <= m->index_count);
        }
        if (m->bvh_first != RR_ASSET_NONE) {
            for (uint32_t j = 0; j < m->bvh_count; j++) {
                const struct rr_asset_bvh_node *b = &bvh[m->bvh_first + j];
                if (b->count == 0) {
                    assert_true(b->first > j && b->first + 1 < m->bvh_count);
                } else {
                    for (uint32_t k = 0; k < b->count; k++) {
                        uint32_t tri = bt[m->bvh_triangle_first + b->first + k];
                        assert_true(tri < m->index_count / 3);
                    }
                }
            }
        }
    }
    for (size_t i = 0; i < n_mats; i++) {
        sum += strlen(rr_asset_string(a, mats[i].name));
        assert_true(mats[i].base_color_texture == RR_ASSET_NONE ||
                    mats[i].base_color_texture < n_tex);
    }
    for (size_t i = 0; i < n_tex; i++) {
        sum += strlen(rr_asset_string(a, tex[i].name));
        for (uint64_t b = 0; b < tex[i].data_size; b++) {
            sum += tdata[tex[i].data_offset + b];
        }
    }
    for (size_t i = 0; i < n_pc; i++) {
        sum += strlen(rr_asset_string(a, pcs[i].name));
        for (uint64_t b = 0; b < (uint64_t)pcs[i].point_count * 12; b++) {
            sum += pdata[pcs[i].position_offset + b];
        }
        if (pcs[i].color_offset != UINT64_MAX) {
            for (uint64_t b = 0; b < (uint64_t)pcs[i].point_count * 4; b++) {
                sum += pdata[pcs[i].color_offset + b];
            }
        }
        assert_true(pcs[i].node == RR_ASSET_NONE || pcs[i].node < n_nodes);
    }
    (void)n_bt;
    return sum;
}

/* ---- round trip ------------------------------------------------------------------------- */

static void check_round_trip(const struct rr_asset *a, bool compressed)
{
    struct sample s;
    default_sample(&s);
    const struct rr_asset_file_header *h = rr_asset_header(a);
    assert_memory_equal(h->magic, RR_ASSET_MAGIC, 8);
    assert_int_equal(h->version_major, RR_ASSET_VERSION_MAJOR);
    assert_int_equal(h->version_minor, RR_ASSET_VERSION_MINOR);
    assert_int_equal(h->header_size, 80);
    assert_int_equal(h->section_count, 15);
    assert_int_equal(h->section_table_offset % 16, 0);
    assert_int_equal(h->file_size, h->section_table_offset + 15 * 48);
    assert_true(h->bounds_min[1] == -2 && h->bounds_max[2] == 6);

    bool any_compressed = false;
    for (uint32_t t = 1; t <= RR_SECTION_TYPE_MAX; t++) {
        const struct rr_asset_section *e = rr_asset_section(a, t);
        assert_non_null(e);
        assert_int_equal(e->type, t);
        assert_int_equal(e->offset % 16, 0);
        assert_int_equal(e->count * rr_asset_record_size(t), e->size);
        size_t count;
        assert_non_null(rr_asset_section_data(a, t, &count));
        assert_int_equal(count, e->count);
        if (e->flags & RR_SECTION_FLAG_ZSTD) {
            any_compressed = true;
            assert_true(e->stored_size < e->size);
        } else {
            assert_int_equal(e->stored_size, e->size);
        }
    }
    assert_int_equal(any_compressed, compressed);
    assert_null(rr_asset_section(a, 99));
    assert_null(rr_asset_section_data(a, 99, NULL));

    size_t n;
    const struct rr_asset_node *nodes = rr_asset_section_data(a, RR_SECTION_NODES, &n);
    assert_int_equal(n, 2);
    assert_memory_equal(nodes, s.nodes, sizeof s.nodes);
    assert_string_equal(rr_asset_string(a, nodes[0].name), "root");
    assert_string_equal(rr_asset_string(a, nodes[1].name), "child");
    assert_string_equal(rr_asset_string(a, 0), "");
    assert_string_equal(rr_asset_string(a, RR_ASSET_NONE), "");
    assert_string_equal(rr_asset_string(a, 1u << 30), "");
    const uint32_t *nm = rr_asset_section_data(a, RR_SECTION_NODE_MESHES, &n);
    assert_int_equal(n, 1);
    assert_int_equal(nm[0], 0);
    const struct rr_asset_metadata *meta = rr_asset_section_data(a, RR_SECTION_METADATA, &n);
    assert_int_equal(n, 2);
    assert_string_equal(rr_asset_string(a, meta[0].key), "author");
    assert_string_equal(rr_asset_string(a, meta[0].value), "openrr");
    assert_string_equal(rr_asset_string(a, meta[1].key), "units");
    assert_string_equal(rr_asset_string(a, meta[1].value), "m");

    const struct rr_asset_mesh *mesh = rr_asset_section_data(a, RR_SECTION_MESHES, &n);
    assert_int_equal(n, 1);
    assert_memory_equal(mesh, &s.mesh, sizeof s.mesh);
    assert_string_equal(rr_asset_string(a, mesh->name), "quad");
    const uint8_t *v = rr_asset_section_data(a, RR_SECTION_VERTEX_DATA, &n);
    assert_int_equal(n, sizeof s.vertices);
    assert_int_equal((uintptr_t)v % 16, 0);
    assert_memory_equal(v, s.vertices, sizeof s.vertices);
    const uint8_t *ix = rr_asset_section_data(a, RR_SECTION_INDEX_DATA, &n);
    assert_int_equal(n, sizeof s.indices);
    assert_int_equal((uintptr_t)ix % 16, 0);
    assert_memory_equal(ix, s.indices, sizeof s.indices);
    const struct rr_asset_mesh_part *part = rr_asset_section_data(a, RR_SECTION_MESH_PARTS, &n);
    assert_int_equal(n, 1);
    assert_memory_equal(part, &s.part, sizeof s.part);
    const struct rr_asset_material *mat = rr_asset_section_data(a, RR_SECTION_MATERIALS, &n);
    assert_int_equal(n, 1);
    assert_memory_equal(mat, &s.material, sizeof s.material);
    assert_string_equal(rr_asset_string(a, mat->name), "painted");
    const struct rr_asset_texture *tex = rr_asset_section_data(a, RR_SECTION_TEXTURES, &n);
    assert_int_equal(n, 1);
    assert_memory_equal(tex, &s.texture, sizeof s.texture);
    assert_string_equal(rr_asset_string(a, tex->name), "checker");
    const uint8_t *texels = rr_asset_section_data(a, RR_SECTION_TEXTURE_DATA, &n);
    assert_int_equal(n, 16);
    assert_memory_equal(texels, s.texels, 16);
    const struct rr_asset_point_cloud *pc = rr_asset_section_data(a, RR_SECTION_POINT_CLOUDS, &n);
    assert_int_equal(n, 1);
    assert_memory_equal(pc, &s.cloud, sizeof s.cloud);
    assert_string_equal(rr_asset_string(a, pc->name), "scan");
    const uint8_t *pd = rr_asset_section_data(a, RR_SECTION_POINT_DATA, &n);
    assert_int_equal(n, 48 + 12);
    assert_memory_equal(pd, s.positions, sizeof s.positions);
    assert_memory_equal(pd + 48, s.colors, sizeof s.colors);
    const struct rr_asset_bvh_node *bvh = rr_asset_section_data(a, RR_SECTION_BVH_NODES, &n);
    assert_int_equal(n, 3);
    assert_memory_equal(bvh, s.bvh, sizeof s.bvh);
    const uint32_t *bt = rr_asset_section_data(a, RR_SECTION_BVH_TRIANGLES, &n);
    assert_int_equal(n, 2);
    assert_memory_equal(bt, s.bvh_triangles, sizeof s.bvh_triangles);
    const char *strings = rr_asset_section_data(a, RR_SECTION_STRINGS, &n);
    assert_int_equal(strings[0], '\0');
    assert_int_equal(strings[n - 1], '\0');

    char err[256];
    assert_int_equal(rr_asset_verify_checksums(a, err, sizeof err), RR_ASSET_OK);
    walk(a);
}

static void round_trip(bool compressed)
{
    struct rr_asset_writer *w = NULL;
    assert_int_equal(rr_asset_writer_create(&w), RR_ASSET_OK);
    struct sample s;
    sample_init(w, &s);
    /* Deduplicated: the same offset, and one copy in the table. */
    assert_int_equal(rr_asset_writer_string(w, "root"), s.s_root);
    assert_int_equal(rr_asset_writer_string(w, ""), 0);
    assert_int_equal(rr_asset_writer_string(w, NULL), 0);
    uint64_t strings = rr_asset_writer_section_size(w, RR_SECTION_STRINGS);
    assert_int_equal(rr_asset_writer_string(w, "child"), s.s_child);
    assert_int_equal(rr_asset_writer_section_size(w, RR_SECTION_STRINGS), strings);
    sample_write(w, &s);
    assert_int_equal(rr_asset_writer_section_size(w, RR_SECTION_NODES), 2 * 96);
    assert_int_equal(rr_asset_writer_section_size(w, RR_SECTION_POINT_DATA), 60);
    if (compressed) {
        rr_asset_writer_set_compression(w, 19, 64);
    }
    char path[512], err[256] = "";
    snprintf(path, sizeof path, "%s/scene.rrasset", g_dir);
    assert_int_equal(rr_asset_writer_finish(w, path, err, sizeof err), RR_ASSET_OK);
    rr_asset_writer_destroy(&w);
    bool tmp;
    assert_int_equal(count_entries(g_dir, &tmp), 1);
    assert_false(tmp);

    struct rr_asset *a = NULL;
    for (unsigned flags = 0; flags <= RR_ASSET_OPEN_VERIFY_CHECKSUMS; flags++) {
        assert_int_equal(rr_asset_open(path, flags, &a, err, sizeof err), RR_ASSET_OK);
        check_round_trip(a, compressed);
        rr_asset_close(&a);
        assert_null(a);
    }
    size_t size;
    uint8_t *data = read_file(path, &size);
    /* Deliberately misaligned source: the reader copies into aligned memory. */
    uint8_t *shifted = malloc(size + 1);
    assert_non_null(shifted);
    memcpy(shifted + 1, data, size);
    assert_int_equal(rr_asset_open_memory(shifted + 1, size, RR_ASSET_OPEN_VERIFY_CHECKSUMS, &a,
                                          err, sizeof err),
                     RR_ASSET_OK);
    check_round_trip(a, compressed);
    rr_asset_close(&a);
    rr_asset_close(&a); /* closing NULL is harmless */
    free(shifted);
    free(data);
    unlink(path);
}

static void test_round_trip_plain(void **state)
{
    round_trip(false);
}

static void test_round_trip_compressed(void **state)
{
    round_trip(true);
}

static void test_vertex_layout(void **state)
{
    assert_int_equal(rr_vertex_encoding_size(RR_VERTEX_NONE), 0);
    assert_int_equal(rr_vertex_encoding_size(RR_VERTEX_FLOAT32x3), 12);
    assert_int_equal(rr_vertex_encoding_size(RR_VERTEX_FLOAT16x4), 8);
    assert_int_equal(rr_vertex_encoding_size(RR_VERTEX_SNORM8x4), 4);
    assert_int_equal(rr_vertex_encoding_size(RR_VERTEX_FLOAT32x2), 8);
    assert_int_equal(rr_vertex_encoding_size(RR_VERTEX_FLOAT16x2), 4);
    assert_int_equal(rr_vertex_encoding_size(RR_VERTEX_UNORM8x4), 4);
    assert_int_equal(rr_vertex_encoding_size((enum rr_vertex_encoding)7), 0);
    assert_int_equal(rr_vertex_format_stride(FORMAT), STRIDE);
    assert_int_equal(rr_vertex_attribute_offset(FORMAT, RR_ATTR_POSITION), 0);
    assert_int_equal(rr_vertex_attribute_offset(FORMAT, RR_ATTR_NORMAL), 12);
    assert_int_equal(rr_vertex_attribute_offset(FORMAT, RR_ATTR_TANGENT), -1);
    assert_int_equal(rr_vertex_attribute_offset(FORMAT, RR_ATTR_TEXCOORD0), 16);
    assert_int_equal(rr_vertex_attribute_offset(FORMAT, RR_ATTR_TEXCOORD1), -1);
    assert_int_equal(rr_vertex_attribute_offset(FORMAT, RR_ATTR_COLOR0), 24);
    uint32_t all =
        (RR_VERTEX_FLOAT16x4 << RR_ATTR_POSITION) | (RR_VERTEX_SNORM8x4 << RR_ATTR_NORMAL) |
        (RR_VERTEX_FLOAT16x4 << RR_ATTR_TANGENT) | (RR_VERTEX_FLOAT16x2 << RR_ATTR_TEXCOORD0) |
        (RR_VERTEX_FLOAT32x2 << RR_ATTR_TEXCOORD1) | (RR_VERTEX_UNORM8x4 << RR_ATTR_COLOR0);
    assert_int_equal(rr_vertex_format_stride(all), 8 + 4 + 8 + 4 + 8 + 4);
    assert_int_equal(rr_vertex_attribute_offset(all, RR_ATTR_TANGENT), 12);
    assert_int_equal(rr_vertex_attribute_offset(all, RR_ATTR_TEXCOORD1), 24);
    assert_int_equal(rr_vertex_attribute_offset(all, RR_ATTR_COLOR0), 32);
    assert_int_equal(rr_vertex_format_stride(0), 0);
    assert_int_equal(rr_vertex_attribute_offset(all, (enum rr_vertex_attribute)3), -1);
    assert_int_equal(rr_asset_record_size(RR_SECTION_NODE_MESHES), 4);
    assert_int_equal(rr_asset_record_size(RR_SECTION_BVH_TRIANGLES), 4);
    assert_int_equal(rr_asset_record_size(RR_SECTION_VERTEX_DATA), 1);
    assert_int_equal(rr_asset_record_size(RR_SECTION_MESHES), 96);
    assert_int_equal(rr_asset_record_size(0), 0);
    assert_int_equal(rr_asset_record_size(16), 0);
}

static void test_result_names(void **state)
{
    assert_string_equal(rr_asset_result_str(RR_ASSET_OK), "RR_ASSET_OK");
    assert_string_equal(rr_asset_result_str(RR_ASSET_ERROR_CHECKSUM), "RR_ASSET_ERROR_CHECKSUM");
    assert_string_equal(rr_asset_result_str(RR_ASSET_ERROR_OUT_OF_MEMORY),
                        "RR_ASSET_ERROR_OUT_OF_MEMORY");
    for (int r = 0; r <= RR_ASSET_ERROR_OUT_OF_MEMORY; r++) {
        assert_non_null(strstr(rr_asset_result_str((enum rr_asset_result)r), "RR_ASSET_"));
    }
    assert_string_equal(rr_asset_result_str((enum rr_asset_result)99), "RR_ASSET_ERROR_UNKNOWN");
}

/* ---- writer failures -------------------------------------------------------------------- */

static void test_failed_finish_leaves_nothing(void **state)
{
    struct rr_asset_writer *w = NULL;
    assert_int_equal(rr_asset_writer_create(&w), RR_ASSET_OK);
    struct sample s;
    sample_init(w, &s);
    sample_write(w, &s);
    char path[512], err[256] = "";
    bool tmp;

    /* A directory that does not exist: the temporary file cannot even be created. */
    snprintf(path, sizeof path, "%s/missing/scene.rrasset", g_dir);
    assert_int_equal(rr_asset_writer_finish(w, path, err, sizeof err), RR_ASSET_ERROR_IO);
    assert_non_null(strstr(err, strerror(ENOENT)));
    assert_int_equal(count_entries(g_dir, &tmp), 0);

    /* The target is a non-empty directory: the file is written, the rename fails, and the
     * temporary must be removed (this path also works for root, unlike permissions). */
    snprintf(path, sizeof path, "%s/taken", g_dir);
    assert_int_equal(mkdir(path, 0700), 0);
    char inner[600];
    snprintf(inner, sizeof inner, "%s/keep", path);
    int fd = open(inner, O_WRONLY | O_CREAT, 0600);
    assert_true(fd >= 0);
    close(fd);
    err[0] = '\0';
    assert_int_equal(rr_asset_writer_finish(w, path, err, sizeof err), RR_ASSET_ERROR_IO);
    assert_non_null(strstr(err, "rename"));
    assert_int_equal(count_entries(g_dir, &tmp), 1);
    assert_false(tmp);
    remove_tree(path);

    /* An unwritable directory (meaningless for root, who may write anywhere). */
    if (geteuid() != 0) {
        snprintf(path, sizeof path, "%s/ro", g_dir);
        assert_int_equal(mkdir(path, 0500), 0);
        snprintf(inner, sizeof inner, "%s/ro/scene.rrasset", g_dir);
        assert_int_equal(rr_asset_writer_finish(w, inner, err, sizeof err), RR_ASSET_ERROR_IO);
        assert_non_null(strstr(err, strerror(EACCES)));
        assert_int_equal(count_entries(path, &tmp), 0);
        chmod(path, 0700);
        rmdir(path);
    }

    /* A record section that is not whole records is refused before anything is written. */
    assert_int_equal(rr_asset_writer_append(w, RR_SECTION_MESH_PARTS, "x", 1, 1), 12);
    snprintf(path, sizeof path, "%s/scene.rrasset", g_dir);
    assert_int_equal(rr_asset_writer_finish(w, path, err, sizeof err),
                     RR_ASSET_ERROR_INVALID_ARGUMENT);
    assert_non_null(strstr(err, "records"));
    assert_int_equal(count_entries(g_dir, &tmp), 0);

    /* Bad arguments. */
    assert_int_equal(rr_asset_writer_append(w, 0, "x", 1, 1), UINT64_MAX);
    assert_int_equal(rr_asset_writer_append(w, 16, "x", 1, 1), UINT64_MAX);
    assert_int_equal(rr_asset_writer_append(w, RR_SECTION_VERTEX_DATA, "x", 1, 3), UINT64_MAX);
    assert_null(rr_asset_writer_reserve(w, 0, 1, 1, NULL));
    assert_int_equal(rr_asset_writer_section_size(w, 0), 0);
    assert_int_equal(rr_asset_writer_finish(w, NULL, err, sizeof err),
                     RR_ASSET_ERROR_INVALID_ARGUMENT);
    rr_asset_writer_destroy(&w);
    rr_asset_writer_destroy(&w);
    assert_int_equal(rr_asset_writer_create(NULL), RR_ASSET_ERROR_INVALID_ARGUMENT);
}

static void test_empty_asset(void **state)
{
    struct rr_asset_writer *w = NULL;
    assert_int_equal(rr_asset_writer_create(&w), RR_ASSET_OK);
    char path[512], err[256];
    snprintf(path, sizeof path, "%s/empty.rrasset", g_dir);
    assert_int_equal(rr_asset_writer_finish(w, path, err, sizeof err), RR_ASSET_OK);
    rr_asset_writer_destroy(&w);
    struct rr_asset *a = NULL;
    assert_int_equal(rr_asset_open(path, RR_ASSET_OPEN_VERIFY_CHECKSUMS, &a, err, sizeof err),
                     RR_ASSET_OK);
    /* Only STRINGS, holding the empty string. */
    assert_int_equal(rr_asset_header(a)->section_count, 1);
    size_t n = 99;
    assert_null(rr_asset_section_data(a, RR_SECTION_MESHES, &n));
    assert_int_equal(n, 0);
    assert_string_equal(rr_asset_string(a, 0), "");
    rr_asset_close(&a);
    unlink(path);
}

static void test_zip_bomb_stored_plain(void **state)
{
    /* 1 MiB of zeros compresses far past the reader's ratio limit: the writer must store it
     * plain so its own output stays loadable. */
    struct rr_asset_writer *w = NULL;
    assert_int_equal(rr_asset_writer_create(&w), RR_ASSET_OK);
    assert_non_null(rr_asset_writer_reserve(w, RR_SECTION_TEXTURE_DATA, 1 << 20, 16, NULL));
    uint8_t varied[4096];
    for (size_t i = 0; i < sizeof varied; i++) {
        varied[i] = (uint8_t)((i * 7) ^ (i >> 3));
    }
    assert_int_equal(rr_asset_writer_append(w, RR_SECTION_VERTEX_DATA, varied, sizeof varied, 16),
                     0);
    rr_asset_writer_set_compression(w, 3, 0);
    char path[512], err[256];
    snprintf(path, sizeof path, "%s/zeros.rrasset", g_dir);
    assert_int_equal(rr_asset_writer_finish(w, path, err, sizeof err), RR_ASSET_OK);
    rr_asset_writer_destroy(&w);
    struct rr_asset *a = NULL;
    assert_int_equal(rr_asset_open(path, 0, &a, err, sizeof err), RR_ASSET_OK);
    assert_int_equal(rr_asset_section(a, RR_SECTION_TEXTURE_DATA)->flags, 0);
    rr_asset_close(&a);
    unlink(path);
}

/* ---- corruption ------------------------------------------------------------------------- */

static bool named_error(enum rr_asset_result r)
{
    return r >= RR_ASSET_ERROR_NOT_AN_ASSET && r <= RR_ASSET_ERROR_BAD_RECORD;
}

/* Header bytes no check can cover: version_minor (a newer minor is accepted by design) and the
 * scene bounds (any finite ordered values are valid). The header has no checksum of its own. */
static bool header_exempt(size_t off)
{
    return (off >= 10 && off < 12) || (off >= 48 && off < 72);
}

static bool in_section(const uint8_t *file, size_t off, uint32_t *out_type)
{
    struct rr_asset_file_header h;
    memcpy(&h, file, sizeof h);
    const struct rr_asset_section *t =
        (const struct rr_asset_section *)(file + h.section_table_offset);
    for (uint32_t i = 0; i < h.section_count; i++) {
        if (off >= t[i].offset && off < t[i].offset + t[i].stored_size) {
            *out_type = t[i].type;
            return true;
        }
    }
    return false;
}

static void flip_all(const uint8_t *orig, size_t size, bool compressed)
{
    uint8_t *buf = malloc(size);
    assert_non_null(buf);
    char err[256];
    size_t accepted = 0, rejected = 0;
    for (size_t off = 0; off < size; off++) {
        memcpy(buf, orig, size);
        buf[off] ^= 0xff;
        uint32_t type = 0;
        bool payload = in_section(orig, off, &type);
        struct rr_asset *a = NULL;
        err[0] = '\0';
        enum rr_asset_result r = rr_asset_open_memory(buf, size, 0, &a, err, sizeof err);
        if (r == RR_ASSET_OK) {
            accepted++;
            if (!payload && !header_exempt(off)) {
                fail_msg("flip at %zu (outside any section) accepted", off);
            }
            /* Every index and every u32 reference in these blobs is small: any flip breaks
             * one. */
            if (!compressed && (type == RR_SECTION_INDEX_DATA || type == RR_SECTION_NODE_MESHES ||
                                type == RR_SECTION_BVH_TRIANGLES)) {
                fail_msg("flip at %zu in section %u accepted", off, type);
            }
            walk(a);
            if (payload) {
                assert_int_equal(rr_asset_verify_checksums(a, err, sizeof err),
                                 RR_ASSET_ERROR_CHECKSUM);
            }
            rr_asset_close(&a);
        } else {
            rejected++;
            if (!named_error(r) || err[0] == '\0') {
                fail_msg("flip at %zu: result %d, message \"%s\"", off, r, err);
            }
            assert_null(a);
        }
        r = rr_asset_open_memory(buf, size, RR_ASSET_OPEN_VERIFY_CHECKSUMS, &a, err, sizeof err);
        if (r == RR_ASSET_OK) {
            if (!header_exempt(off)) {
                fail_msg("flip at %zu accepted with checksums verified", off);
            }
            walk(a);
            rr_asset_close(&a);
        } else if (!named_error(r)) {
            fail_msg("flip at %zu with checksums: result %d", off, r);
        }
    }
    /* The structural checks carry most of the load even without checksums. */
    assert_true(rejected > accepted);
    free(buf);
}

static void test_every_flip_plain(void **state)
{
    size_t size;
    uint8_t *file = make_asset(NULL, 0, "plain.rrasset", &size);
    flip_all(file, size, false);
    free(file);
}

static void test_every_flip_compressed(void **state)
{
    size_t size;
    uint8_t *file = make_asset(NULL, 19, "zstd.rrasset", &size);
    flip_all(file, size, true);
    free(file);
}

static void truncate_all(const uint8_t *file, size_t size)
{
    char err[256];
    for (size_t len = 0; len < size; len++) {
        struct rr_asset *a = NULL;
        enum rr_asset_result r = rr_asset_open_memory(file, len, 0, &a, err, sizeof err);
        if (r != RR_ASSET_ERROR_TRUNCATED) {
            fail_msg("truncated to %zu: %s (%s)", len, rr_asset_result_str(r), err);
        }
    }
    /* The same through a file, for the mapped path (and the empty file, which cannot be
     * mapped). */
    char path[512];
    snprintf(path, sizeof path, "%s/cut.rrasset", g_dir);
    for (size_t len = 0; len < size; len += 37) {
        FILE *f = fopen(path, "wb");
        assert_non_null(f);
        assert_int_equal(fwrite(file, 1, len, f), len);
        fclose(f);
        struct rr_asset *a = NULL;
        assert_int_equal(rr_asset_open(path, 0, &a, err, sizeof err), RR_ASSET_ERROR_TRUNCATED);
    }
    unlink(path);
}

static void test_every_truncation(void **state)
{
    size_t size;
    uint8_t *file = make_asset(NULL, 0, "plain.rrasset", &size);
    truncate_all(file, size);
    free(file);
    file = make_asset(NULL, 19, "zstd.rrasset", &size);
    truncate_all(file, size);
    free(file);
}

/* ---- hand-made hostile files ------------------------------------------------------------ */

static enum rr_asset_result open_bytes(const uint8_t *file, size_t size, char *err, size_t err_size)
{
    struct rr_asset *a = NULL;
    enum rr_asset_result r = rr_asset_open_memory(file, size, 0, &a, err, err_size);
    if (r == RR_ASSET_OK) {
        walk(a);
        rr_asset_close(&a);
    }
    return r;
}

/* Writes @p s and expects @p want with @p text in the message. */
static void expect_sample(const struct sample *s, enum rr_asset_result want, const char *text)
{
    size_t size;
    uint8_t *file = make_asset(s, 0, "bad.rrasset", &size);
    char err[256] = "";
    enum rr_asset_result r = open_bytes(file, size, err, sizeof err);
    if (r != want || strstr(err, text) == NULL) {
        fail_msg("want %s with \"%s\", got %s: %s", rr_asset_result_str(want), text,
                 rr_asset_result_str(r), err);
    }
    free(file);
}

static void test_bad_records(void **state)
{
    struct sample d, s;
    default_sample(&d);

    expect_sample(&d, RR_ASSET_OK, "");

    s = d; /* 4 Gi vertices of 28 bytes: 112 GiB claimed from a 112-byte section */
    s.mesh.vertex_count = UINT32_MAX;
    s.mesh.index_size = 4;
    expect_sample(&s, RR_ASSET_ERROR_BAD_RECORD, "MESHES 0: vertex_offset");
    s = d; /* 2^40 as an offset, and one that overflows when the size is added */
    s.mesh.vertex_offset = 1ull << 40;
    expect_sample(&s, RR_ASSET_ERROR_BAD_RECORD, "VERTEX_DATA");
    s.mesh.vertex_offset = UINT64_MAX - 15;
    expect_sample(&s, RR_ASSET_ERROR_BAD_RECORD, "VERTEX_DATA");
    s = d;
    s.mesh.vertex_offset = 4; /* inside, but not aligned */
    s.mesh.vertex_count = 3;
    expect_sample(&s, RR_ASSET_ERROR_BAD_RECORD, "vertex_offset");

    s = d;
    s.indices[4] = 4; /* == vertex_count */
    expect_sample(&s, RR_ASSET_ERROR_BAD_RECORD, "MESHES 0: index 4 is 4");
    s = d;
    s.mesh.vertex_count = 3; /* index 3 is now out of range */
    expect_sample(&s, RR_ASSET_ERROR_BAD_RECORD, "not below vertex_count 3");
    s = d;
    s.mesh.index_count = 4;
    expect_sample(&s, RR_ASSET_ERROR_BAD_RECORD, "multiple of 3");
    s = d;
    s.mesh.index_size = 4; /* 6 x 4 bytes do not fit in 12 */
    expect_sample(&s, RR_ASSET_ERROR_BAD_RECORD, "INDEX_DATA");
    s = d;
    s.mesh.index_size = 1;
    expect_sample(&s, RR_ASSET_ERROR_BAD_RECORD, "index_size");
    s = d;
    s.mesh.vertex_stride = 32;
    expect_sample(&s, RR_ASSET_ERROR_BAD_RECORD, "vertex_stride");
    s = d;
    s.mesh.vertex_format =
        (FORMAT & ~(0xfu << RR_ATTR_NORMAL)) | (RR_VERTEX_FLOAT32x3 << RR_ATTR_NORMAL);
    expect_sample(&s, RR_ASSET_ERROR_BAD_RECORD, "vertex_format");
    s = d;
    s.mesh.vertex_format = FORMAT | (1u << 28);
    expect_sample(&s, RR_ASSET_ERROR_BAD_RECORD, "vertex_format");
    s = d;
    s.mesh.part_count = 2;
    expect_sample(&s, RR_ASSET_ERROR_BAD_RECORD, "MESH_PARTS");
    s = d;
    s.part.index_first = 3;
    expect_sample(&s, RR_ASSET_ERROR_BAD_RECORD, "MESH_PARTS 0");
    s = d;
    s.part.material = 1;
    expect_sample(&s, RR_ASSET_ERROR_BAD_RECORD, "material 1");
    s = d;
    s.part.material = RR_ASSET_NONE;
    expect_sample(&s, RR_ASSET_OK, "");
    s = d;
    s.mesh.bounds_min[0] = 2; /* min > max */
    expect_sample(&s, RR_ASSET_ERROR_BAD_RECORD, "MESHES 0: bounds");
    s = d;
    s.mesh.name = 100000;
    expect_sample(&s, RR_ASSET_ERROR_BAD_RECORD, "name 100000");

    /* BVH */
    s = d;
    s.bvh[0].first = 0; /* an inner node that is its own child: a cycle */
    expect_sample(&s, RR_ASSET_ERROR_BAD_RECORD, "BVH_NODES 0");
    s = d;
    s.bvh[2].count = 0;
    s.bvh[2].first = 1; /* points back at an earlier node */
    expect_sample(&s, RR_ASSET_ERROR_BAD_RECORD, "BVH_NODES 2");
    s = d;
    s.bvh[0].first = 2; /* right child would be node 3 of 3 */
    expect_sample(&s, RR_ASSET_ERROR_BAD_RECORD, "BVH_NODES 0");
    s = d;
    s.bvh[2].count = 2; /* leaf past the mesh's triangles */
    expect_sample(&s, RR_ASSET_ERROR_BAD_RECORD, "BVH_NODES 2");
    s = d;
    s.bvh_triangles[1] = 2;
    expect_sample(&s, RR_ASSET_ERROR_BAD_RECORD, "BVH_TRIANGLES 1");
    s = d;
    s.bvh[1].bounds_max[1] = NAN;
    expect_sample(&s, RR_ASSET_ERROR_BAD_RECORD, "BVH_NODES 1");
    s = d;
    s.mesh.bvh_count = 4;
    expect_sample(&s, RR_ASSET_ERROR_BAD_RECORD, "BVH_NODES");
    s = d;
    s.mesh.bvh_triangle_count = 1;
    expect_sample(&s, RR_ASSET_ERROR_BAD_RECORD, "bvh_triangle_count");
    s = d;
    s.mesh.bvh_first = RR_ASSET_NONE;
    expect_sample(&s, RR_ASSET_ERROR_BAD_RECORD, "without a BVH");
    s.mesh.bvh_count = 0;
    s.mesh.bvh_triangle_count = 0;
    expect_sample(&s, RR_ASSET_OK, "");

    /* Nodes */
    s = d;
    s.nodes[0].parent = 1; /* 0 -> 1 -> 0: a cycle */
    expect_sample(&s, RR_ASSET_ERROR_BAD_RECORD, "NODES 0: parent 1");
    s = d;
    s.nodes[1].parent = 1; /* its own parent */
    expect_sample(&s, RR_ASSET_ERROR_BAD_RECORD, "NODES 1: parent 1");
    s = d;
    s.nodes[1].mesh_count = 2;
    expect_sample(&s, RR_ASSET_ERROR_BAD_RECORD, "NODE_MESHES");
    s = d;
    s.nodes[1].mesh_first = UINT32_MAX; /* u32 overflow of first + count */
    expect_sample(&s, RR_ASSET_ERROR_BAD_RECORD, "NODE_MESHES");
    s = d;
    s.node_meshes[0] = 1;
    expect_sample(&s, RR_ASSET_ERROR_BAD_RECORD, "NODE_MESHES 0: mesh 1");
    s = d;
    s.nodes[0].metadata_count = 3;
    expect_sample(&s, RR_ASSET_ERROR_BAD_RECORD, "METADATA");
    s = d;
    s.meta[1].value = 5000;
    expect_sample(&s, RR_ASSET_ERROR_BAD_RECORD, "METADATA 1");
    s = d;
    s.nodes[1].transform[13] = INFINITY;
    expect_sample(&s, RR_ASSET_ERROR_BAD_RECORD, "NODES 1: transform");

    /* Materials and textures */
    s = d;
    s.material.normal_texture = 1;
    expect_sample(&s, RR_ASSET_ERROR_BAD_RECORD, "MATERIALS 0: texture reference 1");
    s = d;
    s.material.alpha_mode = 3;
    expect_sample(&s, RR_ASSET_ERROR_BAD_RECORD, "alpha_mode");
    s = d;
    s.material.roughness = NAN;
    expect_sample(&s, RR_ASSET_ERROR_BAD_RECORD, "not finite");
    s = d;
    s.texture.encoding = 3;
    expect_sample(&s, RR_ASSET_ERROR_BAD_RECORD, "encoding");
    s = d;
    s.texture.data_size = 17;
    expect_sample(&s, RR_ASSET_ERROR_BAD_RECORD, "TEXTURE_DATA");
    s = d;
    s.texture.width = 3;
    expect_sample(&s, RR_ASSET_ERROR_BAD_RECORD, "RGBA8 3x2");
    s = d;
    s.texture.width = s.texture.height = UINT32_MAX; /* w*h*4 overflows u64 */
    expect_sample(&s, RR_ASSET_ERROR_BAD_RECORD, "RGBA8");
    s = d;
    s.texture.encoding = RR_TEXTURE_PNG; /* size not tied to width x height */
    s.texture.width = 4096;
    expect_sample(&s, RR_ASSET_OK, "");
    s = d;
    s.texture.data_offset = UINT64_MAX;
    expect_sample(&s, RR_ASSET_ERROR_BAD_RECORD, "TEXTURE_DATA");

    /* Point clouds */
    s = d;
    s.cloud.point_count = 5; /* positions 60 bytes fit in 60, colors at 48 do not */
    expect_sample(&s, RR_ASSET_ERROR_BAD_RECORD, "color_offset");
    s = d;
    s.cloud.color_offset = UINT64_MAX;
    expect_sample(&s, RR_ASSET_OK, "");
    s = d;
    s.cloud.position_offset = 8;
    expect_sample(&s, RR_ASSET_ERROR_BAD_RECORD, "position_offset");
    s = d;
    s.cloud.point_count = 6;
    s.cloud.color_offset = UINT64_MAX;
    expect_sample(&s, RR_ASSET_ERROR_BAD_RECORD, "position_offset");
    s = d;
    s.cloud.node = 2;
    expect_sample(&s, RR_ASSET_ERROR_BAD_RECORD, "node 2");
    s = d;
    s.cloud.bounds_max[2] = -INFINITY;
    expect_sample(&s, RR_ASSET_ERROR_BAD_RECORD, "POINT_CLOUDS 0: bounds");
}

static void test_meshes_sharing_indices(void **state)
{
    /* Two meshes over the same index range: each is valid alone, but together they would let
     * a small file make the reader scan one range over and over. */
    struct rr_asset_writer *w = NULL;
    assert_int_equal(rr_asset_writer_create(&w), RR_ASSET_OK);
    struct sample s;
    sample_init(w, &s);
    s.mesh.bvh_first = RR_ASSET_NONE;
    s.mesh.bvh_count = 0;
    s.mesh.bvh_triangle_count = 0;
    s.mesh.part_count = 0;
    sample_write(w, &s);
    assert_int_equal(rr_asset_writer_append(w, RR_SECTION_MESHES, &s.mesh, sizeof s.mesh, 8), 96);
    char path[512], err[256];
    snprintf(path, sizeof path, "%s/shared.rrasset", g_dir);
    assert_int_equal(rr_asset_writer_finish(w, path, err, sizeof err), RR_ASSET_OK);
    rr_asset_writer_destroy(&w);
    struct rr_asset *a = NULL;
    assert_int_equal(rr_asset_open(path, 0, &a, err, sizeof err), RR_ASSET_ERROR_BAD_RECORD);
    assert_non_null(strstr(err, "MESHES 1: index ranges"));
    unlink(path);
}

static void test_bvh_dag(void **state)
{
    /* 0 -> (1, 2); 1 -> (3, 4); 2 -> (3, 4): no cycle, but 3 and 4 have two parents, and a
     * chain of such nodes doubles a traversal at every level. */
    struct rr_asset_writer *w = NULL;
    assert_int_equal(rr_asset_writer_create(&w), RR_ASSET_OK);
    struct sample s;
    sample_init(w, &s);
    s.mesh.bvh_count = 5;
    s.bvh[1].count = s.bvh[2].count = 0;
    s.bvh[1].first = s.bvh[2].first = 3;
    sample_write(w, &s);
    struct rr_asset_bvh_node leaves[2] = {{.first = 0, .count = 1}, {.first = 1, .count = 1}};
    assert_int_equal(rr_asset_writer_append(w, RR_SECTION_BVH_NODES, leaves, sizeof leaves, 4), 96);
    char path[512], err[256];
    snprintf(path, sizeof path, "%s/dag.rrasset", g_dir);
    assert_int_equal(rr_asset_writer_finish(w, path, err, sizeof err), RR_ASSET_OK);
    struct rr_asset *a = NULL;
    assert_int_equal(rr_asset_open(path, 0, &a, err, sizeof err), RR_ASSET_ERROR_BAD_RECORD);
    assert_non_null(strstr(err, "BVH_NODES 2 (mesh 0): child 3 already has a parent"));
    rr_asset_writer_destroy(&w);
    unlink(path);
}

static void test_strings(void **state)
{
    size_t size;
    uint8_t *file = make_asset(NULL, 0, "s.rrasset", &size);
    struct rr_asset_section *e = find_entry(file, RR_SECTION_STRINGS);
    file[e->offset + e->size - 1] = 'x'; /* no final NUL */
    rehash(file, size);
    char err[256];
    assert_int_equal(open_bytes(file, size, err, sizeof err), RR_ASSET_ERROR_BAD_RECORD);
    assert_non_null(strstr(err, "STRINGS"));
    free(file);
}

/* Changes the plain sample and expects @p want naming @p text. A change to the table is
 * rehashed so it meets the structural checks; one that moves or resizes the table itself is
 * applied after (the rehash could not find the table any more). */
static void expect_change(void (*change)(uint8_t *file, size_t size), bool moves_table,
                          enum rr_asset_result want, const char *text)
{
    size_t size;
    uint8_t *file = make_asset(NULL, 0, "t.rrasset", &size);
    change(file, size);
    if (!moves_table) {
        rehash(file, size);
    }
    char err[256] = "";
    enum rr_asset_result r = open_bytes(file, size, err, sizeof err);
    if (r != want || strstr(err, text) == NULL) {
        fail_msg("want %s with \"%s\", got %s: %s", rr_asset_result_str(want), text,
                 rr_asset_result_str(r), err);
    }
    free(file);
}

static void overlap(uint8_t *file, size_t size)
{
    /* MESHES starts where METADATA does. */
    find_entry(file, RR_SECTION_MESHES)->offset = find_entry(file, RR_SECTION_METADATA)->offset;
}
static void overlap_tail(uint8_t *file, size_t size)
{
    /* NODES runs into NODE_MESHES, with a consistent count. */
    struct rr_asset_section *e = find_entry(file, RR_SECTION_NODES);
    e->stored_size = e->size = 3 * 96;
    e->count = 3;
}
static void duplicate_type(uint8_t *file, size_t size)
{
    find_entry(file, RR_SECTION_MESHES)->type = RR_SECTION_NODES;
}
static void unknown_type(uint8_t *file, size_t size)
{
    find_entry(file, RR_SECTION_POINT_DATA)->type = 40;
}
static void unknown_type_newer_minor(uint8_t *file, size_t size)
{
    unknown_type(file, size);
    struct rr_asset_file_header *h = (struct rr_asset_file_header *)file;
    h->version_minor = RR_ASSET_VERSION_MINOR + 1;
    /* Without POINT_DATA the cloud's positions are out of range: drop the cloud. */
    struct rr_asset_section *pc = find_entry(file, RR_SECTION_POINT_CLOUDS);
    pc->type = 41;
}
static void misaligned(uint8_t *file, size_t size)
{
    find_entry(file, RR_SECTION_NODES)->offset += 8;
}
static void before_header(uint8_t *file, size_t size)
{
    find_entry(file, RR_SECTION_STRINGS)->offset = 64;
}
static void past_table(uint8_t *file, size_t size)
{
    struct rr_asset_file_header *h = (struct rr_asset_file_header *)file;
    find_entry(file, RR_SECTION_POINT_DATA)->offset = h->section_table_offset;
}
static void huge_size(uint8_t *file, size_t size)
{
    struct rr_asset_section *e = find_entry(file, RR_SECTION_VERTEX_DATA);
    e->size = e->stored_size = e->count = 1ull << 40;
}
static void size_mismatch(uint8_t *file, size_t size)
{
    struct rr_asset_section *e = find_entry(file, RR_SECTION_VERTEX_DATA);
    e->size = e->count = e->stored_size - 4;
}
static void bad_count(uint8_t *file, size_t size)
{
    find_entry(file, RR_SECTION_NODES)->count = 3;
}
static void unknown_flag(uint8_t *file, size_t size)
{
    find_entry(file, RR_SECTION_NODES)->flags = 0x2;
}
static void zip_bomb(uint8_t *file, size_t size)
{
    /* A 64-byte "compressed" section that claims 1 GiB: refused before any allocation. */
    struct rr_asset_section *e = find_entry(file, RR_SECTION_VERTEX_DATA);
    e->flags = RR_SECTION_FLAG_ZSTD;
    e->size = e->count = 1ull << 30;
}
static void bad_frame(uint8_t *file, size_t size)
{
    /* Within the ratio, but the bytes are not zstd. */
    struct rr_asset_section *e = find_entry(file, RR_SECTION_VERTEX_DATA);
    e->flags = RR_SECTION_FLAG_ZSTD;
    e->size = e->count = e->stored_size * 2;
}
static void nonzero_padding(uint8_t *file, size_t size)
{
    struct rr_asset_section *e = find_entry(file, RR_SECTION_NODE_MESHES);
    file[e->offset + e->stored_size] = 1; /* 4 bytes of data, then padding to 16 */
}
static void table_count(uint8_t *file, size_t size)
{
    ((struct rr_asset_file_header *)file)->section_count = 65;
}
static void table_offset(uint8_t *file, size_t size)
{
    ((struct rr_asset_file_header *)file)->section_table_offset = UINT64_MAX - 15;
}
static void table_misaligned(uint8_t *file, size_t size)
{
    ((struct rr_asset_file_header *)file)->section_table_offset -= 8;
}
static void file_size_small(uint8_t *file, size_t size)
{
    ((struct rr_asset_file_header *)file)->file_size -= 16;
}
static void header_size(uint8_t *file, size_t size)
{
    ((struct rr_asset_file_header *)file)->header_size = 96;
}
static void major(uint8_t *file, size_t size)
{
    ((struct rr_asset_file_header *)file)->version_major = 2;
}
static void magic(uint8_t *file, size_t size)
{
    file[3] = 'X';
}
static void header_reserved(uint8_t *file, size_t size)
{
    ((struct rr_asset_file_header *)file)->reserved[1] = 7;
}
static void header_reserved_newer_minor(uint8_t *file, size_t size)
{
    header_reserved(file, size);
    ((struct rr_asset_file_header *)file)->version_minor = 9;
}
static void header_bounds(uint8_t *file, size_t size)
{
    ((struct rr_asset_file_header *)file)->bounds_max[0] = NAN;
}

static void test_bad_tables(void **state)
{
    expect_change(overlap, false, RR_ASSET_ERROR_SECTION_TABLE, "overlaps");
    expect_change(overlap_tail, false, RR_ASSET_ERROR_SECTION_TABLE, "overlaps");
    expect_change(duplicate_type, false, RR_ASSET_ERROR_SECTION_TABLE, "twice");
    expect_change(unknown_type, false, RR_ASSET_ERROR_SECTION_TABLE, "unknown type 40");
    expect_change(unknown_type_newer_minor, false, RR_ASSET_OK, "");
    expect_change(misaligned, false, RR_ASSET_ERROR_SECTION_TABLE, "section NODES: offset");
    expect_change(before_header, false, RR_ASSET_ERROR_SECTION_TABLE, "section STRINGS: offset 64");
    expect_change(past_table, false, RR_ASSET_ERROR_SECTION_TABLE, "section POINT_DATA");
    expect_change(huge_size, false, RR_ASSET_ERROR_SECTION_TABLE, "section VERTEX_DATA");
    expect_change(size_mismatch, false, RR_ASSET_ERROR_SECTION_TABLE, "without compression");
    expect_change(bad_count, false, RR_ASSET_ERROR_SECTION_TABLE, "section NODES: count 3");
    expect_change(unknown_flag, false, RR_ASSET_ERROR_SECTION_TABLE, "flags");
    expect_change(zip_bomb, false, RR_ASSET_ERROR_SECTION_TABLE, "over 256 x stored_size");
    expect_change(bad_frame, false, RR_ASSET_ERROR_DECOMPRESS, "section VERTEX_DATA");
    expect_change(nonzero_padding, false, RR_ASSET_ERROR_SECTION_TABLE, "padding");
    expect_change(table_count, true, RR_ASSET_ERROR_SECTION_TABLE, "section_count 65");
    expect_change(table_offset, true, RR_ASSET_ERROR_SECTION_TABLE, "section_table_offset");
    expect_change(table_misaligned, true, RR_ASSET_ERROR_SECTION_TABLE, "aligned");
    expect_change(file_size_small, false, RR_ASSET_ERROR_SECTION_TABLE, "trailing");
    expect_change(header_size, false, RR_ASSET_ERROR_VERSION, "header_size 96");
    expect_change(major, false, RR_ASSET_ERROR_VERSION, "version_major 2");
    expect_change(magic, false, RR_ASSET_ERROR_NOT_AN_ASSET, "magic");
    expect_change(header_reserved, false, RR_ASSET_ERROR_VERSION, "reserved");
    expect_change(header_reserved_newer_minor, false, RR_ASSET_OK, "");
    expect_change(header_bounds, false, RR_ASSET_ERROR_BAD_RECORD, "header: bounds");
}

static void test_compressed_frame_size(void **state)
{
    /* A real zstd frame whose content size disagrees with the table: DECOMPRESS. */
    size_t size;
    uint8_t *file = make_asset(NULL, 19, "z.rrasset", &size);
    struct rr_asset_section *e = NULL;
    for (uint32_t t = 1; t <= RR_SECTION_TYPE_MAX && e == NULL; t++) {
        struct rr_asset_section *x = find_entry(file, t);
        if (x->flags & RR_SECTION_FLAG_ZSTD) {
            e = x;
        }
    }
    assert_non_null(e);
    /* One record more: the table stays self-consistent, only the frame disagrees. */
    e->size += rr_asset_record_size(e->type);
    e->count += 1;
    rehash(file, size);
    char err[256];
    assert_int_equal(open_bytes(file, size, err, sizeof err), RR_ASSET_ERROR_DECOMPRESS);
    assert_non_null(strstr(err, "frame content size"));
    free(file);
}

static void test_open_errors(void **state)
{
    struct rr_asset *a = NULL;
    char err[256];
    char path[512];
    snprintf(path, sizeof path, "%s/nothing-here", g_dir);
    assert_int_equal(rr_asset_open(path, 0, &a, err, sizeof err), RR_ASSET_ERROR_IO);
    assert_non_null(strstr(err, strerror(ENOENT)));
    assert_int_equal(rr_asset_open(g_dir, 0, &a, err, sizeof err), RR_ASSET_ERROR_IO);
    assert_int_equal(rr_asset_open(NULL, 0, &a, err, sizeof err), RR_ASSET_ERROR_INVALID_ARGUMENT);
    assert_int_equal(rr_asset_open_memory(NULL, 4, 0, &a, err, sizeof err),
                     RR_ASSET_ERROR_INVALID_ARGUMENT);
    assert_int_equal(rr_asset_open_memory("PNG", 3, 0, &a, err, sizeof err),
                     RR_ASSET_ERROR_NOT_AN_ASSET);
    assert_int_equal(rr_asset_open_memory("RRA", 3, 0, &a, NULL, 0), RR_ASSET_ERROR_TRUNCATED);
    assert_int_equal(rr_asset_verify_checksums(NULL, err, sizeof err),
                     RR_ASSET_ERROR_INVALID_ARGUMENT);
    assert_null(rr_asset_header(NULL));
    assert_null(rr_asset_section(NULL, 1));
    assert_string_equal(rr_asset_string(NULL, 0), "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vertex_layout),
        cmocka_unit_test(test_result_names),
        cmocka_unit_test_setup_teardown(test_round_trip_plain, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_round_trip_compressed, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_failed_finish_leaves_nothing, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_empty_asset, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_zip_bomb_stored_plain, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_every_flip_plain, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_every_flip_compressed, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_every_truncation, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_bad_records, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_meshes_sharing_indices, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_bvh_dag, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_strings, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_bad_tables, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_compressed_frame_size, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_open_errors, setup_dir, teardown_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
