/* SPDX-License-Identifier: Apache-2.0 */
/*
 * asset_reader — maps a .rrasset and validates everything a host will later index with: the
 * header, the section table, every section's bounds, and every record's offsets, counts and
 * references (including every vertex index), so the accessors and the renderer can trust the
 * data without further checks. An asset that opened is immutable: any thread may read it.
 * The rules and the error each breaks are listed in docs/asset-format.md.
 */
#include "openrr/asset.h"

#include "asset_limits.h"
#include "asset_writer.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <xxhash.h>
#include <zstd.h>

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the .rrasset records are read in place: a little-endian host is required"
#endif

#define HEADER_SIZE ((uint64_t)sizeof(struct rr_asset_file_header))
#define ENTRY_SIZE ((uint64_t)sizeof(struct rr_asset_section))
#define SLOTS (RR_SECTION_TYPE_MAX + 1)

struct rr_asset {
    const uint8_t *file; /* the whole file, 16-byte aligned (a mapping or heap copy) */
    size_t file_size;
    void *map; /* non-NULL when file is an mmap of map_size bytes */
    size_t map_size;
    void *heap; /* non-NULL when file is a heap copy */
    const struct rr_asset_file_header *header;
    const struct rr_asset_section *table;
    uint32_t section_count;
    const struct rr_asset_section *entry[SLOTS]; /* known types only */
    const uint8_t *data[SLOTS];                  /* decompressed or in place */
    void *decompressed[SLOTS];
    uint64_t strings_size;
};

struct check {
    struct rr_asset *a;
    char *err;
    size_t err_size;
};

static enum rr_asset_result fail(struct check *c, enum rr_asset_result r, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static enum rr_asset_result fail(struct check *c, enum rr_asset_result r, const char *fmt, ...)
{
    if (c->err != NULL && c->err_size > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(c->err, c->err_size, fmt, ap);
        va_end(ap);
    }
    return r;
}

static const char *section_name(uint32_t type)
{
    static const char *const names[SLOTS] = {
        "?",
        "STRINGS",
        "NODES",
        "NODE_MESHES",
        "METADATA",
        "MESHES",
        "MESH_PARTS",
        "MATERIALS",
        "TEXTURES",
        "TEXTURE_DATA",
        "VERTEX_DATA",
        "INDEX_DATA",
        "POINT_CLOUDS",
        "POINT_DATA",
        "BVH_NODES",
        "BVH_TRIANGLES",
    };
    return type < SLOTS && type != 0 ? names[type] : "UNKNOWN";
}

static uint64_t align_up(uint64_t v, uint64_t a)
{
    return (v + a - 1) / a * a;
}

/* [offset, offset + size) lies within [0, limit): the overflow-safe form of the sum. */
static bool range_ok(uint64_t offset, uint64_t size, uint64_t limit)
{
    return offset <= limit && size <= limit - offset;
}

/* ---- header and section table ---------------------------------------------------------- */

static enum rr_asset_result check_header(struct check *c)
{
    struct rr_asset *a = c->a;
    size_t n = a->file_size < 8 ? a->file_size : 8;
    if (memcmp(a->file, RR_ASSET_MAGIC, n) != 0) {
        return fail(c, RR_ASSET_ERROR_NOT_AN_ASSET, "header: magic is not \"RRASSET\\0\"");
    }
    if (a->file_size < HEADER_SIZE) {
        return fail(c, RR_ASSET_ERROR_TRUNCATED, "header: the file has %zu bytes, the header 80",
                    a->file_size);
    }
    const struct rr_asset_file_header *h = (const struct rr_asset_file_header *)a->file;
    a->header = h;
    if (h->version_major != RR_ASSET_VERSION_MAJOR) {
        return fail(c, RR_ASSET_ERROR_VERSION, "header: version_major %u, this reader reads %u",
                    h->version_major, RR_ASSET_VERSION_MAJOR);
    }
    if (h->header_size != HEADER_SIZE) {
        return fail(c, RR_ASSET_ERROR_VERSION, "header: header_size %u is not 80", h->header_size);
    }
    if (h->file_size > a->file_size) {
        return fail(c, RR_ASSET_ERROR_TRUNCATED,
                    "header: file_size %llu but the file has %zu bytes",
                    (unsigned long long)h->file_size, a->file_size);
    }
    if (h->file_size != a->file_size) {
        return fail(c, RR_ASSET_ERROR_SECTION_TABLE,
                    "header: file_size %llu but the file has %zu bytes (trailing data)",
                    (unsigned long long)h->file_size, a->file_size);
    }
    /* Reserved fields are zero in the versions this reader knows; a newer minor version may
     * give them a meaning this reader can safely ignore. */
    if (h->version_minor <= RR_ASSET_VERSION_MINOR &&
        (h->flags != 0 || h->reserved[0] != 0 || h->reserved[1] != 0)) {
        return fail(c, RR_ASSET_ERROR_VERSION, "header: flags/reserved are not zero");
    }
    if (h->section_table_offset < HEADER_SIZE || h->section_table_offset > h->file_size) {
        return fail(c, RR_ASSET_ERROR_SECTION_TABLE,
                    "header: section_table_offset %llu is outside the file",
                    (unsigned long long)h->section_table_offset);
    }
    if (h->section_table_offset % RR_ASSET_ALIGNMENT != 0) {
        return fail(c, RR_ASSET_ERROR_SECTION_TABLE,
                    "header: section_table_offset %llu is not 16-byte aligned",
                    (unsigned long long)h->section_table_offset);
    }
    if (h->section_count > RR_ASSET_MAX_SECTIONS) {
        return fail(c, RR_ASSET_ERROR_SECTION_TABLE, "header: section_count %u is over %u",
                    h->section_count, RR_ASSET_MAX_SECTIONS);
    }
    uint64_t table_size = (uint64_t)h->section_count * ENTRY_SIZE;
    if (!range_ok(h->section_table_offset, table_size, h->file_size)) {
        return fail(c, RR_ASSET_ERROR_SECTION_TABLE,
                    "header: section table (%u entries at %llu) runs past the end of the file",
                    h->section_count, (unsigned long long)h->section_table_offset);
    }
    a->table = (const struct rr_asset_section *)(a->file + h->section_table_offset);
    a->section_count = h->section_count;
    if (XXH64(a->table, (size_t)table_size, 0) != h->section_table_hash) {
        return fail(c, RR_ASSET_ERROR_SECTION_TABLE, "header: section_table_hash does not match");
    }
    /* min > max is allowed here: it is how an empty scene's bounds come out of a converter
     * that starts from (FLT_MAX, -FLT_MAX), and nothing indexes with them. */
    for (int i = 0; i < 3; i++) {
        if (!isfinite(h->bounds_min[i]) || !isfinite(h->bounds_max[i])) {
            return fail(c, RR_ASSET_ERROR_BAD_RECORD,
                        "header: bounds_min/bounds_max[%d] not finite", i);
        }
    }
    return RR_ASSET_OK;
}

static enum rr_asset_result check_entry(struct check *c, uint32_t i)
{
    struct rr_asset *a = c->a;
    const struct rr_asset_section *s = &a->table[i];
    const char *name = section_name(s->type);
    bool known = s->type >= 1 && s->type <= RR_SECTION_TYPE_MAX;
    if (!known && a->header->version_minor <= RR_ASSET_VERSION_MINOR) {
        return fail(c, RR_ASSET_ERROR_SECTION_TABLE, "section %u: unknown type %u", i, s->type);
    }
    for (uint32_t j = 0; j < i; j++) {
        if (a->table[j].type == s->type) {
            return fail(c, RR_ASSET_ERROR_SECTION_TABLE, "section %s (%u): type appears twice",
                        name, s->type);
        }
    }
    if ((s->flags & ~RR_SECTION_FLAG_ZSTD) != 0) {
        return fail(c, RR_ASSET_ERROR_SECTION_TABLE, "section %s: unknown flags 0x%x", name,
                    s->flags);
    }
    if (s->offset % RR_ASSET_ALIGNMENT != 0) {
        return fail(c, RR_ASSET_ERROR_SECTION_TABLE,
                    "section %s: offset %llu is not 16-byte aligned", name,
                    (unsigned long long)s->offset);
    }
    if (s->offset < HEADER_SIZE ||
        !range_ok(s->offset, s->stored_size, a->header->section_table_offset)) {
        return fail(c, RR_ASSET_ERROR_SECTION_TABLE,
                    "section %s: offset %llu + stored_size %llu is outside [80, %llu]", name,
                    (unsigned long long)s->offset, (unsigned long long)s->stored_size,
                    (unsigned long long)a->header->section_table_offset);
    }
    if (s->size > RR_ASSET_MAX_SECTION_SIZE || s->size > SIZE_MAX) {
        return fail(c, RR_ASSET_ERROR_SECTION_TABLE, "section %s: size %llu is over 64 GiB", name,
                    (unsigned long long)s->size);
    }
    if (s->flags & RR_SECTION_FLAG_ZSTD) {
        if (s->size / RR_ASSET_MAX_COMPRESSION_RATIO > s->stored_size) {
            return fail(c, RR_ASSET_ERROR_SECTION_TABLE,
                        "section %s: size %llu is over %u x stored_size %llu", name,
                        (unsigned long long)s->size, RR_ASSET_MAX_COMPRESSION_RATIO,
                        (unsigned long long)s->stored_size);
        }
    } else if (s->size != s->stored_size) {
        return fail(c, RR_ASSET_ERROR_SECTION_TABLE,
                    "section %s: size %llu != stored_size %llu without compression", name,
                    (unsigned long long)s->size, (unsigned long long)s->stored_size);
    }
    if (known) {
        uint64_t rs = rr_asset_record_size(s->type);
        if (s->size % rs != 0 || s->count != s->size / rs) {
            return fail(c, RR_ASSET_ERROR_SECTION_TABLE,
                        "section %s: count %llu x record size %llu != size %llu", name,
                        (unsigned long long)s->count, (unsigned long long)rs,
                        (unsigned long long)s->size);
        }
        a->entry[s->type] = s;
    }
    return RR_ASSET_OK;
}

struct region {
    uint64_t start;
    uint64_t end;
};

/* Sections must not overlap, and every byte no region claims must be zero: padding is not
 * covered by any hash, so this is what makes a flipped padding byte detectable. */
static enum rr_asset_result check_layout(struct check *c)
{
    struct rr_asset *a = c->a;
    struct region r[RR_ASSET_MAX_SECTIONS + 2];
    size_t n = 0;
    r[n++] = (struct region){0, HEADER_SIZE};
    r[n++] = (struct region){a->header->section_table_offset,
                             a->header->section_table_offset + a->section_count * ENTRY_SIZE};
    for (uint32_t i = 0; i < a->section_count; i++) {
        r[n++] = (struct region){a->table[i].offset, a->table[i].offset + a->table[i].stored_size};
    }
    for (size_t i = 1; i < n; i++) { /* insertion sort: at most 66 entries */
        struct region x = r[i];
        size_t j = i;
        while (j > 0 && r[j - 1].start > x.start) {
            r[j] = r[j - 1];
            j--;
        }
        r[j] = x;
    }
    uint64_t pos = 0;
    for (size_t i = 0; i <= n; i++) {
        uint64_t start = i < n ? r[i].start : a->file_size;
        if (start < pos) {
            return fail(c, RR_ASSET_ERROR_SECTION_TABLE,
                        "section table: a section at offset %llu overlaps the one before it",
                        (unsigned long long)start);
        }
        for (uint64_t p = pos; p < start; p++) {
            if (a->file[p] != 0) {
                return fail(c, RR_ASSET_ERROR_SECTION_TABLE,
                            "section table: padding byte at offset %llu is not zero",
                            (unsigned long long)p);
            }
        }
        if (i < n && r[i].end > pos) {
            pos = r[i].end;
        }
    }
    return RR_ASSET_OK;
}

static enum rr_asset_result check_hash(struct check *c, const struct rr_asset_section *s)
{
    if (XXH64(c->a->file + s->offset, (size_t)s->stored_size, 0) != s->hash) {
        return fail(c, RR_ASSET_ERROR_CHECKSUM, "section %s: xxHash64 does not match",
                    section_name(s->type));
    }
    return RR_ASSET_OK;
}

static enum rr_asset_result load_section(struct check *c, const struct rr_asset_section *s)
{
    struct rr_asset *a = c->a;
    const uint8_t *src = a->file + s->offset;
    if (!(s->flags & RR_SECTION_FLAG_ZSTD)) {
        a->data[s->type] = src;
        return RR_ASSET_OK;
    }
    const char *name = section_name(s->type);
    unsigned long long frame = ZSTD_getFrameContentSize(src, (size_t)s->stored_size);
    if (frame != s->size) {
        return fail(c, RR_ASSET_ERROR_DECOMPRESS,
                    "section %s: zstd frame content size does not equal size %llu", name,
                    (unsigned long long)s->size);
    }
    if (ZSTD_findFrameCompressedSize(src, (size_t)s->stored_size) != s->stored_size) {
        return fail(c, RR_ASSET_ERROR_DECOMPRESS,
                    "section %s: stored bytes are not exactly one zstd frame", name);
    }
    /* 16-byte aligned like an in-place section, so records and vertex streams read the same. */
    size_t cap = (size_t)align_up(s->size ? s->size : 1, RR_ASSET_ALIGNMENT);
    void *dst = aligned_alloc(RR_ASSET_ALIGNMENT, cap);
    if (dst == NULL) {
        return fail(c, RR_ASSET_ERROR_OUT_OF_MEMORY, "section %s: no memory for %llu bytes", name,
                    (unsigned long long)s->size);
    }
    a->decompressed[s->type] = dst;
    size_t got = ZSTD_decompress(dst, (size_t)s->size, src, (size_t)s->stored_size);
    if (ZSTD_isError(got)) {
        return fail(c, RR_ASSET_ERROR_DECOMPRESS, "section %s: zstd: %s", name,
                    ZSTD_getErrorName(got));
    }
    if (got != s->size) {
        return fail(c, RR_ASSET_ERROR_DECOMPRESS,
                    "section %s: decompressed to %zu bytes, size says %llu", name, got,
                    (unsigned long long)s->size);
    }
    a->data[s->type] = dst;
    return RR_ASSET_OK;
}

/* ---- records --------------------------------------------------------------------------- */

static const void *records(const struct rr_asset *a, uint32_t type, uint64_t *out_count)
{
    *out_count = a->entry[type] ? a->entry[type]->count : 0;
    return a->data[type];
}

static bool string_ok(const struct rr_asset *a, uint32_t ref)
{
    return ref == RR_ASSET_NONE || ref < a->strings_size;
}

static bool ref_ok(uint32_t ref, uint64_t count)
{
    return ref == RR_ASSET_NONE || ref < count;
}

static bool finite_n(const float *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(v[i])) {
            return false;
        }
    }
    return true;
}

static bool bounds_ok(const float min[3], const float max[3])
{
    return finite_n(min, 3) && finite_n(max, 3) && min[0] <= max[0] && min[1] <= max[1] &&
           min[2] <= max[2];
}

#define BAD(...) fail(c, RR_ASSET_ERROR_BAD_RECORD, __VA_ARGS__)

static enum rr_asset_result check_strings(struct check *c)
{
    struct rr_asset *a = c->a;
    const uint8_t *s = records(a, RR_SECTION_STRINGS, &a->strings_size);
    if (a->entry[RR_SECTION_STRINGS] != NULL && (a->strings_size == 0 || s[a->strings_size - 1])) {
        /* With a NUL last, every offset inside starts a terminated string. */
        a->strings_size = 0;
        return BAD("STRINGS: does not end with a NUL byte");
    }
    return RR_ASSET_OK;
}

static enum rr_asset_result check_nodes(struct check *c)
{
    struct rr_asset *a = c->a;
    uint64_t n, n_node_meshes, n_meta, n_meshes;
    const struct rr_asset_node *nodes = records(a, RR_SECTION_NODES, &n);
    const uint32_t *node_meshes = records(a, RR_SECTION_NODE_MESHES, &n_node_meshes);
    const struct rr_asset_metadata *meta = records(a, RR_SECTION_METADATA, &n_meta);
    records(a, RR_SECTION_MESHES, &n_meshes);
    for (uint64_t i = 0; i < n; i++) {
        const struct rr_asset_node *nd = &nodes[i];
        unsigned long long ii = (unsigned long long)i;
        if (!string_ok(a, nd->name)) {
            return BAD("NODES %llu: name %u is outside STRINGS", ii, nd->name);
        }
        /* A parent before its child: no cycles, and a host can build the tree in one pass. */
        if (nd->parent != RR_ASSET_NONE && nd->parent >= i) {
            return BAD("NODES %llu: parent %u is not an earlier node", ii, nd->parent);
        }
        if ((uint64_t)nd->mesh_first + nd->mesh_count > n_node_meshes) {
            return BAD("NODES %llu: mesh_first %u + mesh_count %u is outside NODE_MESHES", ii,
                       nd->mesh_first, nd->mesh_count);
        }
        if ((uint64_t)nd->metadata_first + nd->metadata_count > n_meta) {
            return BAD("NODES %llu: metadata_first %u + metadata_count %u is outside METADATA", ii,
                       nd->metadata_first, nd->metadata_count);
        }
        if (!finite_n(nd->transform, 16)) {
            return BAD("NODES %llu: transform is not finite", ii);
        }
    }
    for (uint64_t i = 0; i < n_node_meshes; i++) {
        if (node_meshes[i] >= n_meshes) {
            return BAD("NODE_MESHES %llu: mesh %u is outside MESHES", (unsigned long long)i,
                       node_meshes[i]);
        }
    }
    for (uint64_t i = 0; i < n_meta; i++) {
        if (!string_ok(a, meta[i].key) || !string_ok(a, meta[i].value)) {
            return BAD("METADATA %llu: key or value is outside STRINGS", (unsigned long long)i);
        }
    }
    return RR_ASSET_OK;
}

static bool format_ok(uint32_t f)
{
    uint32_t pos = RR_VERTEX_ENCODING(f, RR_ATTR_POSITION);
    uint32_t nrm = RR_VERTEX_ENCODING(f, RR_ATTR_NORMAL);
    uint32_t tan = RR_VERTEX_ENCODING(f, RR_ATTR_TANGENT);
    uint32_t tc0 = RR_VERTEX_ENCODING(f, RR_ATTR_TEXCOORD0);
    uint32_t tc1 = RR_VERTEX_ENCODING(f, RR_ATTR_TEXCOORD1);
    uint32_t col = RR_VERTEX_ENCODING(f, RR_ATTR_COLOR0);
    return (f >> 24) == 0 && (pos == RR_VERTEX_FLOAT32x3 || pos == RR_VERTEX_FLOAT16x4) &&
           (nrm == RR_VERTEX_NONE || nrm == RR_VERTEX_FLOAT16x4 || nrm == RR_VERTEX_SNORM8x4) &&
           (tan == RR_VERTEX_NONE || tan == RR_VERTEX_FLOAT16x4 || tan == RR_VERTEX_SNORM8x4) &&
           (tc0 == RR_VERTEX_NONE || tc0 == RR_VERTEX_FLOAT32x2 || tc0 == RR_VERTEX_FLOAT16x2) &&
           (tc1 == RR_VERTEX_NONE || tc1 == RR_VERTEX_FLOAT32x2 || tc1 == RR_VERTEX_FLOAT16x2) &&
           (col == RR_VERTEX_NONE || col == RR_VERTEX_UNORM8x4);
}

/* Totals over all meshes of the ranges they claim: bounded by the section sizes, so meshes
 * cannot share a range and make validation (which scans each range) quadratic. */
struct mesh_totals {
    uint64_t index_bytes;
    uint64_t parts;
    uint64_t bvh_nodes;
    uint64_t bvh_triangles;
    uint8_t *has_parent; /* scratch, one byte per BVH node of the mesh being checked */
};

static enum rr_asset_result check_bvh(struct check *c, uint64_t mi, const struct rr_asset_mesh *m,
                                      struct mesh_totals *t)
{
    struct rr_asset *a = c->a;
    unsigned long long ii = (unsigned long long)mi;
    if (m->bvh_first == RR_ASSET_NONE) {
        if (m->bvh_count != 0 || m->bvh_triangle_count != 0) {
            return BAD("MESHES %llu: bvh_count/bvh_triangle_count without a BVH", ii);
        }
        return RR_ASSET_OK;
    }
    uint64_t n_nodes, n_tris;
    const struct rr_asset_bvh_node *nodes = records(a, RR_SECTION_BVH_NODES, &n_nodes);
    const uint32_t *tris = records(a, RR_SECTION_BVH_TRIANGLES, &n_tris);
    uint64_t triangles = m->index_count / 3;
    if (m->bvh_count == 0 || (uint64_t)m->bvh_first + m->bvh_count > n_nodes) {
        return BAD("MESHES %llu: bvh_first %u + bvh_count %u is outside BVH_NODES", ii,
                   m->bvh_first, m->bvh_count);
    }
    if ((uint64_t)m->bvh_triangle_first + m->bvh_triangle_count > n_tris) {
        return BAD("MESHES %llu: bvh_triangle_first %u + bvh_triangle_count %u is outside "
                   "BVH_TRIANGLES",
                   ii, m->bvh_triangle_first, m->bvh_triangle_count);
    }
    if (m->bvh_triangle_count != triangles) {
        return BAD("MESHES %llu: bvh_triangle_count %u != index_count / 3", ii,
                   m->bvh_triangle_count);
    }
    t->bvh_nodes += m->bvh_count;
    t->bvh_triangles += m->bvh_triangle_count;
    if (t->bvh_nodes > n_nodes || t->bvh_triangles > n_tris) {
        return BAD("MESHES %llu: BVH ranges of the meshes add up to more than the sections", ii);
    }
    memset(t->has_parent, 0, m->bvh_count);
    for (uint32_t j = 0; j < m->bvh_count; j++) {
        const struct rr_asset_bvh_node *b = &nodes[m->bvh_first + j];
        if (!bounds_ok(b->bounds_min, b->bounds_max)) {
            return BAD("BVH_NODES %u (mesh %llu): bounds not finite or min > max", m->bvh_first + j,
                       ii);
        }
        if (b->count == 0) {
            /* Children after their parent: a walk from node 0 always terminates. */
            if (b->first <= j || (uint64_t)b->first + 1 >= m->bvh_count) {
                return BAD("BVH_NODES %u (mesh %llu): inner node child %u is not a later node "
                           "of the mesh",
                           m->bvh_first + j, ii, b->first);
            }
            /* One parent per node: a tree, not a DAG whose traversal could double at every
             * level and let a small file stall a ray cast. */
            if (t->has_parent[b->first] || t->has_parent[b->first + 1]) {
                return BAD("BVH_NODES %u (mesh %llu): child %u already has a parent",
                           m->bvh_first + j, ii, b->first);
            }
            t->has_parent[b->first] = t->has_parent[b->first + 1] = 1;
        } else if ((uint64_t)b->first + b->count > m->bvh_triangle_count) {
            return BAD("BVH_NODES %u (mesh %llu): leaf first %u + count %u is outside the "
                       "mesh's triangles",
                       m->bvh_first + j, ii, b->first, b->count);
        }
    }
    for (uint32_t j = 0; j < m->bvh_triangle_count; j++) {
        if (tris[m->bvh_triangle_first + j] >= triangles) {
            return BAD("BVH_TRIANGLES %u (mesh %llu): triangle %u is not below %llu",
                       m->bvh_triangle_first + j, ii, tris[m->bvh_triangle_first + j],
                       (unsigned long long)triangles);
        }
    }
    return RR_ASSET_OK;
}

static enum rr_asset_result check_indices(struct check *c, uint64_t mi,
                                          const struct rr_asset_mesh *m)
{
    if (m->index_count == 0) {
        return RR_ASSET_OK; /* INDEX_DATA may be absent: no pointer arithmetic on NULL */
    }
    const uint8_t *base = c->a->data[RR_SECTION_INDEX_DATA] + m->index_offset;
    uint32_t bad = 0;
    uint32_t where = 0;
    if (m->index_size == 2) {
        const uint16_t *idx = (const uint16_t *)base;
        for (uint32_t i = 0; i < m->index_count; i++) {
            if (idx[i] >= m->vertex_count) {
                bad = idx[i];
                where = i;
                goto out_of_range;
            }
        }
    } else {
        const uint32_t *idx = (const uint32_t *)base;
        for (uint32_t i = 0; i < m->index_count; i++) {
            if (idx[i] >= m->vertex_count) {
                bad = idx[i];
                where = i;
                goto out_of_range;
            }
        }
    }
    return RR_ASSET_OK;
out_of_range:
    return BAD("MESHES %llu: index %u is %u, not below vertex_count %u", (unsigned long long)mi,
               where, bad, m->vertex_count);
}

static enum rr_asset_result check_mesh_records(struct check *c, struct mesh_totals *tp)
{
    struct rr_asset *a = c->a;
    uint64_t n, n_parts, n_materials, vsize, isize;
    const struct rr_asset_mesh *meshes = records(a, RR_SECTION_MESHES, &n);
    const struct rr_asset_mesh_part *parts = records(a, RR_SECTION_MESH_PARTS, &n_parts);
    records(a, RR_SECTION_MATERIALS, &n_materials);
    records(a, RR_SECTION_VERTEX_DATA, &vsize);
    records(a, RR_SECTION_INDEX_DATA, &isize);
    struct mesh_totals t = *tp;
    for (uint64_t i = 0; i < n; i++) {
        const struct rr_asset_mesh *m = &meshes[i];
        unsigned long long ii = (unsigned long long)i;
        if (!string_ok(a, m->name)) {
            return BAD("MESHES %llu: name %u is outside STRINGS", ii, m->name);
        }
        if (!format_ok(m->vertex_format)) {
            return BAD("MESHES %llu: vertex_format 0x%x has an invalid encoding", ii,
                       m->vertex_format);
        }
        if (m->vertex_stride != rr_vertex_format_stride(m->vertex_format)) {
            return BAD("MESHES %llu: vertex_stride %u does not match vertex_format", ii,
                       m->vertex_stride);
        }
        if (m->vertex_offset % RR_ASSET_ALIGNMENT != 0 ||
            !range_ok(m->vertex_offset, (uint64_t)m->vertex_count * m->vertex_stride, vsize)) {
            return BAD("MESHES %llu: vertex_offset %llu (aligned?) + %u vertices is outside "
                       "VERTEX_DATA",
                       ii, (unsigned long long)m->vertex_offset, m->vertex_count);
        }
        if (m->index_size != 2 && m->index_size != 4) {
            return BAD("MESHES %llu: index_size %u is not 2 or 4", ii, m->index_size);
        }
        if (m->index_size == 2 && m->vertex_count > 65536) {
            return BAD("MESHES %llu: 16-bit indices for %u vertices", ii, m->vertex_count);
        }
        if (m->index_count % 3 != 0) {
            return BAD("MESHES %llu: index_count %u is not a multiple of 3", ii, m->index_count);
        }
        uint64_t index_bytes = (uint64_t)m->index_count * m->index_size;
        if (m->index_offset % RR_ASSET_ALIGNMENT != 0 ||
            !range_ok(m->index_offset, index_bytes, isize)) {
            return BAD("MESHES %llu: index_offset %llu (aligned?) + %u indices is outside "
                       "INDEX_DATA",
                       ii, (unsigned long long)m->index_offset, m->index_count);
        }
        t.index_bytes += index_bytes;
        if (t.index_bytes > isize) {
            return BAD("MESHES %llu: index ranges of the meshes add up to more than INDEX_DATA",
                       ii);
        }
        enum rr_asset_result r = check_indices(c, i, m);
        if (r != RR_ASSET_OK) {
            return r;
        }
        if ((uint64_t)m->part_first + m->part_count > n_parts) {
            return BAD("MESHES %llu: part_first %u + part_count %u is outside MESH_PARTS", ii,
                       m->part_first, m->part_count);
        }
        t.parts += m->part_count;
        if (t.parts > n_parts) {
            return BAD("MESHES %llu: part ranges of the meshes add up to more than MESH_PARTS", ii);
        }
        for (uint32_t j = 0; j < m->part_count; j++) {
            const struct rr_asset_mesh_part *p = &parts[m->part_first + j];
            if (p->index_first % 3 != 0 || p->index_count % 3 != 0 ||
                (uint64_t)p->index_first + p->index_count > m->index_count) {
                return BAD("MESH_PARTS %u (mesh %llu): index_first %u + index_count %u is not "
                           "whole triangles within the mesh",
                           m->part_first + j, ii, p->index_first, p->index_count);
            }
            if (!ref_ok(p->material, n_materials)) {
                return BAD("MESH_PARTS %u (mesh %llu): material %u is outside MATERIALS",
                           m->part_first + j, ii, p->material);
            }
        }
        r = check_bvh(c, i, m, &t);
        if (r != RR_ASSET_OK) {
            return r;
        }
        if (!bounds_ok(m->bounds_min, m->bounds_max)) {
            return BAD("MESHES %llu: bounds not finite or min > max", ii);
        }
    }
    return RR_ASSET_OK;
}

static enum rr_asset_result check_meshes(struct check *c)
{
    uint64_t n_bvh;
    records(c->a, RR_SECTION_BVH_NODES, &n_bvh);
    struct mesh_totals t = {0};
    /* Bounded by the BVH_NODES section, which is in memory already (1 byte per 32). */
    t.has_parent = malloc(n_bvh ? (size_t)n_bvh : 1);
    if (t.has_parent == NULL) {
        return fail(c, RR_ASSET_ERROR_OUT_OF_MEMORY, "BVH_NODES: no memory to check the trees");
    }
    enum rr_asset_result r = check_mesh_records(c, &t);
    free(t.has_parent);
    return r;
}

static enum rr_asset_result check_materials(struct check *c)
{
    struct rr_asset *a = c->a;
    uint64_t n, n_tex;
    const struct rr_asset_material *mats = records(a, RR_SECTION_MATERIALS, &n);
    records(a, RR_SECTION_TEXTURES, &n_tex);
    for (uint64_t i = 0; i < n; i++) {
        const struct rr_asset_material *m = &mats[i];
        unsigned long long ii = (unsigned long long)i;
        if (!string_ok(a, m->name)) {
            return BAD("MATERIALS %llu: name %u is outside STRINGS", ii, m->name);
        }
        const uint32_t tex[] = {m->base_color_texture, m->metallic_roughness_texture,
                                m->normal_texture, m->occlusion_texture, m->emissive_texture};
        for (size_t j = 0; j < sizeof tex / sizeof tex[0]; j++) {
            if (!ref_ok(tex[j], n_tex)) {
                return BAD("MATERIALS %llu: texture reference %u is outside TEXTURES", ii, tex[j]);
            }
        }
        if (m->alpha_mode > RR_ALPHA_BLEND) {
            return BAD("MATERIALS %llu: alpha_mode %u is unknown", ii, m->alpha_mode);
        }
        if (!isfinite(m->alpha_cutoff) || !finite_n(m->base_color, 4) ||
            !finite_n(m->emissive, 3) || !isfinite(m->metallic) || !isfinite(m->roughness) ||
            !isfinite(m->normal_scale)) {
            return BAD("MATERIALS %llu: a factor is not finite", ii);
        }
    }
    return RR_ASSET_OK;
}

static enum rr_asset_result check_textures(struct check *c)
{
    struct rr_asset *a = c->a;
    uint64_t n, dsize;
    const struct rr_asset_texture *tex = records(a, RR_SECTION_TEXTURES, &n);
    records(a, RR_SECTION_TEXTURE_DATA, &dsize);
    for (uint64_t i = 0; i < n; i++) {
        const struct rr_asset_texture *t = &tex[i];
        unsigned long long ii = (unsigned long long)i;
        if (!string_ok(a, t->name)) {
            return BAD("TEXTURES %llu: name %u is outside STRINGS", ii, t->name);
        }
        if (t->encoding > RR_TEXTURE_JPEG) {
            return BAD("TEXTURES %llu: encoding %u is unknown", ii, t->encoding);
        }
        if (!range_ok(t->data_offset, t->data_size, dsize)) {
            return BAD("TEXTURES %llu: data_offset %llu + data_size %llu is outside TEXTURE_DATA",
                       ii, (unsigned long long)t->data_offset, (unsigned long long)t->data_size);
        }
        if (t->encoding == RR_TEXTURE_RGBA8) {
            uint64_t pixels = (uint64_t)t->width * t->height;
            if (pixels > UINT64_MAX / 4 || pixels * 4 != t->data_size) {
                return BAD("TEXTURES %llu: RGBA8 %ux%u needs %llu bytes, data_size is %llu", ii,
                           t->width, t->height, (unsigned long long)(pixels * 4),
                           (unsigned long long)t->data_size);
            }
        }
    }
    return RR_ASSET_OK;
}

static enum rr_asset_result check_point_clouds(struct check *c)
{
    struct rr_asset *a = c->a;
    uint64_t n, psize, n_nodes;
    const struct rr_asset_point_cloud *pcs = records(a, RR_SECTION_POINT_CLOUDS, &n);
    records(a, RR_SECTION_POINT_DATA, &psize);
    records(a, RR_SECTION_NODES, &n_nodes);
    for (uint64_t i = 0; i < n; i++) {
        const struct rr_asset_point_cloud *p = &pcs[i];
        unsigned long long ii = (unsigned long long)i;
        if (!string_ok(a, p->name)) {
            return BAD("POINT_CLOUDS %llu: name %u is outside STRINGS", ii, p->name);
        }
        if (p->position_offset % RR_ASSET_ALIGNMENT != 0 ||
            !range_ok(p->position_offset, (uint64_t)p->point_count * 12, psize)) {
            return BAD("POINT_CLOUDS %llu: position_offset %llu (aligned?) + %u points is "
                       "outside POINT_DATA",
                       ii, (unsigned long long)p->position_offset, p->point_count);
        }
        if (p->color_offset != UINT64_MAX &&
            !range_ok(p->color_offset, (uint64_t)p->point_count * 4, psize)) {
            return BAD("POINT_CLOUDS %llu: color_offset %llu + %u points is outside POINT_DATA", ii,
                       (unsigned long long)p->color_offset, p->point_count);
        }
        if (!ref_ok(p->node, n_nodes)) {
            return BAD("POINT_CLOUDS %llu: node %u is outside NODES", ii, p->node);
        }
        if (!bounds_ok(p->bounds_min, p->bounds_max)) {
            return BAD("POINT_CLOUDS %llu: bounds not finite or min > max", ii);
        }
    }
    return RR_ASSET_OK;
}

/* ---- open and close -------------------------------------------------------------------- */

static enum rr_asset_result validate(struct rr_asset *a, unsigned flags, char *err, size_t err_size)
{
    struct check c = {a, err, err_size};
    enum rr_asset_result r = check_header(&c);
    for (uint32_t i = 0; r == RR_ASSET_OK && i < a->section_count; i++) {
        r = check_entry(&c, i);
    }
    if (r == RR_ASSET_OK) {
        r = check_layout(&c);
    }
    /* Hash before decompressing, so a corrupted compressed section reports CHECKSUM. */
    for (uint32_t i = 0; r == RR_ASSET_OK && i < a->section_count; i++) {
        if (flags & RR_ASSET_OPEN_VERIFY_CHECKSUMS) {
            r = check_hash(&c, &a->table[i]);
        }
    }
    for (uint32_t t = 1; r == RR_ASSET_OK && t <= RR_SECTION_TYPE_MAX; t++) {
        if (a->entry[t] != NULL) {
            r = load_section(&c, a->entry[t]);
        }
    }
    if (r == RR_ASSET_OK) {
        r = check_strings(&c);
    }
    if (r == RR_ASSET_OK) {
        r = check_nodes(&c);
    }
    if (r == RR_ASSET_OK) {
        r = check_meshes(&c);
    }
    if (r == RR_ASSET_OK) {
        r = check_materials(&c);
    }
    if (r == RR_ASSET_OK) {
        r = check_textures(&c);
    }
    if (r == RR_ASSET_OK) {
        r = check_point_clouds(&c);
    }
    return r;
}

static void asset_free(struct rr_asset *a)
{
    if (a == NULL) {
        return;
    }
    for (size_t i = 0; i < SLOTS; i++) {
        free(a->decompressed[i]);
    }
    if (a->map != NULL) {
        munmap(a->map, a->map_size);
    }
    free(a->heap);
    free(a);
}

static void set_msg(char *err, size_t err_size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_msg(char *err, size_t err_size, const char *fmt, ...)
{
    if (err != NULL && err_size > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, err_size, fmt, ap);
        va_end(ap);
    }
}

static enum rr_asset_result finish_open(struct rr_asset *a, unsigned flags,
                                        struct rr_asset **out_asset, char *err, size_t err_size)
{
    enum rr_asset_result r = validate(a, flags, err, err_size);
    if (r != RR_ASSET_OK) {
        asset_free(a);
        return r;
    }
    if (err != NULL && err_size > 0) {
        err[0] = '\0';
    }
    *out_asset = a;
    return RR_ASSET_OK;
}

enum rr_asset_result rr_asset_open(const char *path, unsigned flags, struct rr_asset **out_asset,
                                   char *err, size_t err_size)
{
    if (out_asset == NULL || path == NULL) {
        set_msg(err, err_size, "invalid argument");
        return RR_ASSET_ERROR_INVALID_ARGUMENT;
    }
    *out_asset = NULL;
    struct rr_asset *a = calloc(1, sizeof *a);
    if (a == NULL) {
        set_msg(err, err_size, "out of memory");
        return RR_ASSET_ERROR_OUT_OF_MEMORY;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        set_msg(err, err_size, "open %s: %s", path, strerror(errno));
        free(a);
        return RR_ASSET_ERROR_IO;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        set_msg(err, err_size, "stat %s: %s", path, strerror(errno));
        close(fd);
        free(a);
        return RR_ASSET_ERROR_IO;
    }
    if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size > SIZE_MAX) {
        set_msg(err, err_size, "%s: not a regular file", path);
        close(fd);
        free(a);
        return RR_ASSET_ERROR_IO;
    }
    static const uint8_t empty[RR_ASSET_ALIGNMENT];
    a->file = empty; /* mmap refuses a zero length; validation then reports TRUNCATED */
    a->file_size = (size_t)st.st_size;
    if (a->file_size > 0) {
        /* MAP_PRIVATE: our view cannot change under us through writes by this process; a file
         * truncated by another process still raises SIGBUS, as with any mapped loader. */
        void *p = mmap(NULL, a->file_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED) {
            set_msg(err, err_size, "mmap %s: %s", path, strerror(errno));
            close(fd);
            free(a);
            return RR_ASSET_ERROR_IO;
        }
        a->map = p;
        a->map_size = a->file_size;
        a->file = p;
    }
    close(fd);
    return finish_open(a, flags, out_asset, err, err_size);
}

enum rr_asset_result rr_asset_open_memory(const void *data, size_t size, unsigned flags,
                                          struct rr_asset **out_asset, char *err, size_t err_size)
{
    if (out_asset == NULL || (data == NULL && size > 0)) {
        set_msg(err, err_size, "invalid argument");
        return RR_ASSET_ERROR_INVALID_ARGUMENT;
    }
    *out_asset = NULL;
    if (size > SIZE_MAX - RR_ASSET_ALIGNMENT) {
        set_msg(err, err_size, "out of memory");
        return RR_ASSET_ERROR_OUT_OF_MEMORY;
    }
    struct rr_asset *a = calloc(1, sizeof *a);
    /* Aligned like a mapping, so sections read in place are 16-byte aligned too. */
    void *copy = aligned_alloc(RR_ASSET_ALIGNMENT, (size_t)align_up(size ? size : 1, 16));
    if (a == NULL || copy == NULL) {
        free(a);
        free(copy);
        set_msg(err, err_size, "out of memory");
        return RR_ASSET_ERROR_OUT_OF_MEMORY;
    }
    if (size > 0) {
        memcpy(copy, data, size);
    }
    a->heap = copy;
    a->file = copy;
    a->file_size = size;
    return finish_open(a, flags, out_asset, err, err_size);
}

void rr_asset_close(struct rr_asset **asset_ptr)
{
    if (asset_ptr == NULL) {
        return;
    }
    asset_free(*asset_ptr);
    *asset_ptr = NULL;
}

enum rr_asset_result rr_asset_verify_checksums(const struct rr_asset *asset, char *err,
                                               size_t err_size)
{
    if (asset == NULL) {
        set_msg(err, err_size, "invalid argument");
        return RR_ASSET_ERROR_INVALID_ARGUMENT;
    }
    struct check c = {(struct rr_asset *)asset, err, err_size};
    for (uint32_t i = 0; i < asset->section_count; i++) {
        enum rr_asset_result r = check_hash(&c, &asset->table[i]);
        if (r != RR_ASSET_OK) {
            return r;
        }
    }
    return RR_ASSET_OK;
}

const struct rr_asset_file_header *rr_asset_header(const struct rr_asset *asset)
{
    return asset ? asset->header : NULL;
}

const struct rr_asset_section *rr_asset_section(const struct rr_asset *asset, uint32_t type)
{
    if (asset == NULL) {
        return NULL;
    }
    for (uint32_t i = 0; i < asset->section_count; i++) {
        if (asset->table[i].type == type) {
            return &asset->table[i];
        }
    }
    return NULL;
}

const void *rr_asset_section_data(const struct rr_asset *asset, uint32_t type, size_t *out_count)
{
    if (out_count != NULL) {
        *out_count = 0;
    }
    if (asset == NULL || type == 0 || type > RR_SECTION_TYPE_MAX || asset->entry[type] == NULL) {
        return NULL;
    }
    if (out_count != NULL) {
        *out_count = (size_t)asset->entry[type]->count;
    }
    return asset->data[type];
}

const char *rr_asset_string(const struct rr_asset *asset, uint32_t offset)
{
    /* Offsets in validated records are always inside; the check covers a host passing its
     * own. */
    if (asset == NULL || offset == RR_ASSET_NONE || offset >= asset->strings_size) {
        return "";
    }
    return (const char *)asset->data[RR_SECTION_STRINGS] + offset;
}
