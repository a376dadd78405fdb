/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_asset — libFuzzer target for the .rrasset reader (src/asset/asset_reader.c). The input
 * is a whole file, opened with rr_asset_open_memory as a host would open a download; whatever
 * the reader accepts is then walked through the public accessors the way a renderer uses it,
 * touching every byte range and following every reference the reader vouched for, so ASan
 * reports any range it approved wrongly and CHECK any broken guarantee.
 * Checksums would stop almost every mutation at the section table hash, so each input is also
 * opened with its hashes recomputed: that copy reaches the record validation.
 * Single-threaded: libFuzzer calls LLVMFuzzerTestOneInput from one thread.
 */
#include "openrr/asset.h"

#include "fuzz_check.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile uint64_t g_sink; /* keeps the reads from being optimised away */

static void walk_strings(const struct rr_asset *a, uint32_t ref, uint64_t *sum)
{
    const char *s = rr_asset_string(a, ref);
    CHECK(s != NULL);
    *sum += strlen(s);
}

static void walk_mesh(const struct rr_asset *a, const struct rr_asset_mesh *m, uint64_t *sum)
{
    size_t vsize, isize, n_parts, n_mats, n_bvh, n_bt;
    const uint8_t *vdata = rr_asset_section_data(a, RR_SECTION_VERTEX_DATA, &vsize);
    const uint8_t *idata = rr_asset_section_data(a, RR_SECTION_INDEX_DATA, &isize);
    const struct rr_asset_mesh_part *parts =
        rr_asset_section_data(a, RR_SECTION_MESH_PARTS, &n_parts);
    rr_asset_section_data(a, RR_SECTION_MATERIALS, &n_mats);
    const struct rr_asset_bvh_node *bvh = rr_asset_section_data(a, RR_SECTION_BVH_NODES, &n_bvh);
    const uint32_t *bt = rr_asset_section_data(a, RR_SECTION_BVH_TRIANGLES, &n_bt);

    walk_strings(a, m->name, sum);
    CHECK(m->vertex_stride == rr_vertex_format_stride(m->vertex_format));
    CHECK(rr_vertex_attribute_offset(m->vertex_format, RR_ATTR_POSITION) == 0);
    uint64_t vbytes = (uint64_t)m->vertex_count * m->vertex_stride;
    CHECK(m->vertex_offset % RR_ASSET_ALIGNMENT == 0);
    CHECK(m->vertex_offset <= vsize && vbytes <= vsize - m->vertex_offset);
    for (uint64_t b = 0; b < vbytes; b++) {
        *sum += vdata[m->vertex_offset + b];
    }
    CHECK(m->index_size == 2 || m->index_size == 4);
    CHECK(m->index_count % 3 == 0);
    CHECK(m->index_offset % RR_ASSET_ALIGNMENT == 0);
    for (uint32_t i = 0; i < m->index_count; i++) {
        uint32_t ix = m->index_size == 2 ? ((const uint16_t *)(idata + m->index_offset))[i]
                                         : ((const uint32_t *)(idata + m->index_offset))[i];
        CHECK(ix < m->vertex_count);
        *sum += ix;
    }
    for (uint32_t j = 0; j < m->part_count; j++) {
        const struct rr_asset_mesh_part *p = &parts[m->part_first + j];
        CHECK(p->material == RR_ASSET_NONE || p->material < n_mats);
        CHECK(p->index_first % 3 == 0 && p->index_count % 3 == 0);
        CHECK((uint64_t)p->index_first + p->index_count <= m->index_count);
    }
    if (m->bvh_first == RR_ASSET_NONE) {
        return;
    }
    CHECK(m->bvh_count > 0);
    CHECK(m->bvh_triangle_count == m->index_count / 3);
    /* Traverse from the root as a ray cast would. */
    uint32_t stack[64];
    size_t top = 0;
    stack[top++] = 0;
    uint64_t visited = 0;
    while (top > 0) {
        uint32_t j = stack[--top];
        CHECK(j < m->bvh_count);
        CHECK(++visited <= m->bvh_count); /* a tree: every node at most once */
        const struct rr_asset_bvh_node *b = &bvh[m->bvh_first + j];
        CHECK(b->bounds_min[0] <= b->bounds_max[0]);
        if (b->count == 0) {
            CHECK(b->first > j && b->first + 1 < m->bvh_count);
            if (top + 2 <= sizeof stack / sizeof stack[0]) {
                stack[top++] = b->first;
                stack[top++] = b->first + 1;
            }
        } else {
            for (uint32_t k = 0; k < b->count; k++) {
                uint32_t tri = bt[m->bvh_triangle_first + b->first + k];
                CHECK(tri < m->index_count / 3);
                /* The triangle's three indices, as the ray cast reads them. */
                for (int c = 0; c < 3; c++) {
                    uint64_t at = (uint64_t)tri * 3 + c;
                    *sum += m->index_size == 2 ? ((const uint16_t *)(idata + m->index_offset))[at]
                                               : ((const uint32_t *)(idata + m->index_offset))[at];
                }
            }
        }
    }
    (void)n_bvh;
    (void)n_bt;
}

static void walk(const struct rr_asset *a)
{
    uint64_t sum = 0;
    const struct rr_asset_file_header *h = rr_asset_header(a);
    CHECK(h != NULL && memcmp(h->magic, RR_ASSET_MAGIC, 8) == 0);
    for (uint32_t t = 0; t <= RR_SECTION_TYPE_MAX + 1; t++) {
        size_t count;
        const void *p = rr_asset_section_data(a, t, &count);
        const struct rr_asset_section *e = rr_asset_section(a, t);
        if (t >= 1 && t <= RR_SECTION_TYPE_MAX) {
            CHECK((p != NULL) == (e != NULL));
            CHECK(e == NULL || e->count == count);
        }
    }
    size_t n_nodes, n_nm, n_meta, n_meshes, n_mats, n_tex, n_pc, tsize, psize, ssize;
    const struct rr_asset_node *nodes = rr_asset_section_data(a, RR_SECTION_NODES, &n_nodes);
    const uint32_t *nm = rr_asset_section_data(a, RR_SECTION_NODE_MESHES, &n_nm);
    const struct rr_asset_metadata *meta = rr_asset_section_data(a, RR_SECTION_METADATA, &n_meta);
    const struct rr_asset_mesh *meshes = rr_asset_section_data(a, RR_SECTION_MESHES, &n_meshes);
    const struct rr_asset_material *mats = rr_asset_section_data(a, RR_SECTION_MATERIALS, &n_mats);
    const struct rr_asset_texture *tex = rr_asset_section_data(a, RR_SECTION_TEXTURES, &n_tex);
    const struct rr_asset_point_cloud *pcs =
        rr_asset_section_data(a, RR_SECTION_POINT_CLOUDS, &n_pc);
    const uint8_t *tdata = rr_asset_section_data(a, RR_SECTION_TEXTURE_DATA, &tsize);
    const uint8_t *pdata = rr_asset_section_data(a, RR_SECTION_POINT_DATA, &psize);
    const char *strings = rr_asset_section_data(a, RR_SECTION_STRINGS, &ssize);
    CHECK(strings == NULL || (ssize > 0 && strings[ssize - 1] == '\0'));

    for (size_t i = 0; i < n_nodes; i++) {
        const struct rr_asset_node *nd = &nodes[i];
        walk_strings(a, nd->name, &sum);
        CHECK(nd->parent == RR_ASSET_NONE || nd->parent < i);
        for (uint32_t j = 0; j < nd->mesh_count; j++) {
            uint32_t mi = nm[nd->mesh_first + j];
            CHECK(mi < n_meshes);
            sum += meshes[mi].vertex_count;
        }
        for (uint32_t j = 0; j < nd->metadata_count; j++) {
            walk_strings(a, meta[nd->metadata_first + j].key, &sum);
            walk_strings(a, meta[nd->metadata_first + j].value, &sum);
        }
    }
    for (size_t i = 0; i < n_meta; i++) {
        walk_strings(a, meta[i].key, &sum);
        walk_strings(a, meta[i].value, &sum);
    }
    for (size_t i = 0; i < n_meshes; i++) {
        walk_mesh(a, &meshes[i], &sum);
    }
    for (size_t i = 0; i < n_mats; i++) {
        const struct rr_asset_material *m = &mats[i];
        walk_strings(a, m->name, &sum);
        const uint32_t refs[] = {m->base_color_texture, m->metallic_roughness_texture,
                                 m->normal_texture, m->occlusion_texture, m->emissive_texture};
        for (size_t j = 0; j < sizeof refs / sizeof refs[0]; j++) {
            CHECK(refs[j] == RR_ASSET_NONE || refs[j] < n_tex);
        }
        CHECK(m->alpha_mode <= RR_ALPHA_BLEND);
    }
    for (size_t i = 0; i < n_tex; i++) {
        walk_strings(a, tex[i].name, &sum);
        CHECK(tex[i].encoding <= RR_TEXTURE_JPEG);
        if (tex[i].encoding == RR_TEXTURE_RGBA8) {
            CHECK((uint64_t)tex[i].width * tex[i].height * 4 == tex[i].data_size);
        }
        for (uint64_t b = 0; b < tex[i].data_size; b++) {
            sum += tdata[tex[i].data_offset + b];
        }
    }
    for (size_t i = 0; i < n_pc; i++) {
        const struct rr_asset_point_cloud *p = &pcs[i];
        walk_strings(a, p->name, &sum);
        CHECK(p->position_offset % RR_ASSET_ALIGNMENT == 0);
        for (uint64_t b = 0; b < (uint64_t)p->point_count * 12; b++) {
            sum += pdata[p->position_offset + b];
        }
        if (p->color_offset != UINT64_MAX) {
            for (uint64_t b = 0; b < (uint64_t)p->point_count * 4; b++) {
                sum += pdata[p->color_offset + b];
            }
        }
        CHECK(p->node == RR_ASSET_NONE || p->node < n_nodes);
    }
    g_sink += sum;
}

/* Opens @p data both ways and checks that the verdicts agree with each other. Returns whether
 * the structure was accepted. */
static bool open_both(const uint8_t *data, size_t size)
{
    char err[256];
    struct rr_asset *a = NULL;
    enum rr_asset_result r = rr_asset_open_memory(data, size, 0, &a, err, sizeof err);
    CHECK(rr_asset_result_str(r) != NULL);
    CHECK((r == RR_ASSET_OK) == (a != NULL));
    bool hashes_ok = false;
    if (r == RR_ASSET_OK) {
        walk(a);
        hashes_ok = rr_asset_verify_checksums(a, err, sizeof err) == RR_ASSET_OK;
        rr_asset_close(&a);
        CHECK(a == NULL);
    } else {
        CHECK(err[0] != '\0');
    }
    struct rr_asset *v = NULL;
    enum rr_asset_result rv =
        rr_asset_open_memory(data, size, RR_ASSET_OPEN_VERIFY_CHECKSUMS, &v, err, sizeof err);
    /* Verifying adds checks and removes none; and it accepts exactly when the hashes match. */
    CHECK(rv != RR_ASSET_OK || r == RR_ASSET_OK);
    if (r == RR_ASSET_OK) {
        CHECK((rv == RR_ASSET_OK) == hashes_ok);
    }
    if (rv == RR_ASSET_OK) {
        walk(v);
        rr_asset_close(&v);
    }
    return r == RR_ASSET_OK;
}

/* Recomputes every in-range section hash and the table hash of @p buf (memcpy throughout: the
 * fuzzed offsets need not be aligned). */
static void rehash(uint8_t *buf, size_t size)
{
    struct rr_asset_file_header h;
    if (size < sizeof h) {
        return;
    }
    memcpy(&h, buf, sizeof h);
    uint64_t table_size = (uint64_t)h.section_count * sizeof(struct rr_asset_section);
    if (h.section_count > 64 || h.section_table_offset > size ||
        table_size > size - h.section_table_offset) {
        return;
    }
    for (uint32_t i = 0; i < h.section_count; i++) {
        struct rr_asset_section e;
        uint8_t *at = buf + h.section_table_offset + i * sizeof e;
        memcpy(&e, at, sizeof e);
        if (e.offset <= size && e.stored_size <= size - e.offset) {
            e.hash = XXH64(buf + e.offset, (size_t)e.stored_size, 0);
            memcpy(at, &e, sizeof e);
        }
    }
    h.section_table_hash = XXH64(buf + h.section_table_offset, (size_t)table_size, 0);
    memcpy(buf, &h, sizeof h);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    open_both(data, size);
    uint8_t *copy = malloc(size ? size : 1);
    if (copy == NULL) {
        return 0;
    }
    memcpy(copy, data, size);
    rehash(copy, size);
    if (size == 0 || memcmp(copy, data, size) != 0) {
        open_both(copy, size);
    }
    free(copy);
    return 0;
}
