/* SPDX-License-Identifier: Apache-2.0 */
/*
 * asset_writer — builds a .rrasset in memory, section by section, and writes it atomically
 * (temporary file, fsync, rename) so a crash or full disk never leaves a half-written asset
 * where a host would load it. Used by openrr-convert; one owner, one thread.
 */
#include "asset_writer.h"

#include "asset_limits.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <xxhash.h>
#include <zstd.h>

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the .rrasset records are written as in memory: a little-endian host is required"
#endif

/* The on-disk layout is the C layout of these structs; a compiler that padded them differently
 * would write files no other build can read. */
_Static_assert(sizeof(struct rr_asset_file_header) == 80, "header is 80 bytes");
_Static_assert(sizeof(struct rr_asset_section) == 48, "section entry is 48 bytes");
_Static_assert(sizeof(struct rr_asset_node) == 96, "node is 96 bytes");
_Static_assert(sizeof(struct rr_asset_metadata) == 8, "metadata is 8 bytes");
_Static_assert(sizeof(struct rr_asset_mesh) == 96, "mesh is 96 bytes");
_Static_assert(sizeof(struct rr_asset_mesh_part) == 12, "mesh part is 12 bytes");
_Static_assert(sizeof(struct rr_asset_material) == 80, "material is 80 bytes");
_Static_assert(sizeof(struct rr_asset_texture) == 32, "texture is 32 bytes");
_Static_assert(sizeof(struct rr_asset_point_cloud) == 56, "point cloud is 56 bytes");
_Static_assert(sizeof(struct rr_asset_bvh_node) == 32, "bvh node is 32 bytes");

#define SECTION_SLOTS (RR_SECTION_TYPE_MAX + 1)

struct section_buf {
    uint8_t *data;
    size_t len;
    size_t cap;
};

struct rr_asset_writer {
    struct section_buf sec[SECTION_SLOTS]; /* indexed by section type; [0] unused */
    /* String dedup: open addressing over offsets into the STRINGS section (0 = empty slot,
     * which works because offset 0, the empty string, is never inserted). */
    uint32_t *str_slots;
    size_t str_cap; /* a power of two */
    size_t str_used;
    float bounds_min[3];
    float bounds_max[3];
    int level;
    size_t min_size;
};

static void set_err(char *err, size_t err_size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t err_size, const char *fmt, ...)
{
    if (err == NULL || err_size == 0) {
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, err_size, fmt, ap);
    va_end(ap);
}

size_t rr_asset_record_size(uint32_t type)
{
    switch (type) {
    case RR_SECTION_STRINGS:
    case RR_SECTION_TEXTURE_DATA:
    case RR_SECTION_VERTEX_DATA:
    case RR_SECTION_INDEX_DATA:
    case RR_SECTION_POINT_DATA:
        return 1;
    case RR_SECTION_NODES:
        return sizeof(struct rr_asset_node);
    case RR_SECTION_NODE_MESHES:
    case RR_SECTION_BVH_TRIANGLES:
        return sizeof(uint32_t);
    case RR_SECTION_METADATA:
        return sizeof(struct rr_asset_metadata);
    case RR_SECTION_MESHES:
        return sizeof(struct rr_asset_mesh);
    case RR_SECTION_MESH_PARTS:
        return sizeof(struct rr_asset_mesh_part);
    case RR_SECTION_MATERIALS:
        return sizeof(struct rr_asset_material);
    case RR_SECTION_TEXTURES:
        return sizeof(struct rr_asset_texture);
    case RR_SECTION_POINT_CLOUDS:
        return sizeof(struct rr_asset_point_cloud);
    case RR_SECTION_BVH_NODES:
        return sizeof(struct rr_asset_bvh_node);
    default:
        return 0;
    }
}

static bool valid_type(uint32_t type)
{
    return type >= 1 && type <= RR_SECTION_TYPE_MAX;
}

static bool valid_align(size_t align)
{
    return align >= 1 && align <= RR_ASSET_ALIGNMENT && (align & (align - 1)) == 0;
}

/* Grow @p b so that @p extra more bytes fit; false when out of memory or past SIZE_MAX. */
static bool buf_grow(struct section_buf *b, size_t extra)
{
    if (extra <= b->cap - b->len) {
        return true;
    }
    if (extra > SIZE_MAX - b->len) {
        return false;
    }
    size_t need = b->len + extra;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need) {
        if (cap > SIZE_MAX / 2) {
            cap = need;
            break;
        }
        cap *= 2;
    }
    uint8_t *p = realloc(b->data, cap);
    if (p == NULL) {
        return false;
    }
    b->data = p;
    b->cap = cap;
    return true;
}

/* Pads @p b to @p align and makes room for @p size bytes after; returns the data offset. */
static bool buf_place(struct section_buf *b, size_t size, size_t align, size_t *out_offset)
{
    size_t pad = (align - b->len % align) % align;
    if (pad > SIZE_MAX - size || !buf_grow(b, pad + size)) {
        return false;
    }
    memset(b->data + b->len, 0, pad);
    b->len += pad;
    *out_offset = b->len;
    return true;
}

enum rr_asset_result rr_asset_writer_create(struct rr_asset_writer **out_writer)
{
    if (out_writer == NULL) {
        return RR_ASSET_ERROR_INVALID_ARGUMENT;
    }
    *out_writer = NULL;
    struct rr_asset_writer *w = calloc(1, sizeof *w);
    if (w == NULL) {
        return RR_ASSET_ERROR_OUT_OF_MEMORY;
    }
    /* Offset 0 is the empty string in every asset, so a zeroed reference reads as "". */
    struct section_buf *s = &w->sec[RR_SECTION_STRINGS];
    if (!buf_grow(s, 1)) {
        free(w);
        return RR_ASSET_ERROR_OUT_OF_MEMORY;
    }
    s->data[0] = '\0';
    s->len = 1;
    *out_writer = w;
    return RR_ASSET_OK;
}

void rr_asset_writer_destroy(struct rr_asset_writer **writer_ptr)
{
    if (writer_ptr == NULL || *writer_ptr == NULL) {
        return;
    }
    struct rr_asset_writer *w = *writer_ptr;
    for (size_t i = 0; i < SECTION_SLOTS; i++) {
        free(w->sec[i].data);
    }
    free(w->str_slots);
    free(w);
    *writer_ptr = NULL;
}

uint64_t rr_asset_writer_append(struct rr_asset_writer *w, uint32_t type, const void *data,
                                size_t size, size_t align)
{
    uint64_t offset;
    void *p = rr_asset_writer_reserve(w, type, size, align, &offset);
    if (p == NULL) {
        return UINT64_MAX;
    }
    if (size > 0) {
        memcpy(p, data, size);
    }
    return offset;
}

void *rr_asset_writer_reserve(struct rr_asset_writer *w, uint32_t type, size_t size, size_t align,
                              uint64_t *out_offset)
{
    if (w == NULL || !valid_type(type) || !valid_align(align)) {
        return NULL;
    }
    struct section_buf *b = &w->sec[type];
    size_t offset;
    /* At least one byte of room so a zero-size reserve still returns a usable pointer. */
    if (!buf_place(b, size, align, &offset) || !buf_grow(b, size ? size : 1)) {
        return NULL;
    }
    memset(b->data + offset, 0, size);
    b->len += size;
    if (out_offset != NULL) {
        *out_offset = offset;
    }
    return b->data + offset;
}

uint64_t rr_asset_writer_section_size(const struct rr_asset_writer *w, uint32_t type)
{
    if (w == NULL || !valid_type(type)) {
        return 0;
    }
    return w->sec[type].len;
}

static size_t str_hash(const char *s, size_t len)
{
    return (size_t)XXH64(s, len, 0);
}

/* Rehash into a table of @p cap slots (a power of two). */
static bool str_rehash(struct rr_asset_writer *w, size_t cap)
{
    uint32_t *slots = calloc(cap, sizeof *slots);
    if (slots == NULL) {
        return false;
    }
    const char *base = (const char *)w->sec[RR_SECTION_STRINGS].data;
    for (size_t i = 0; i < w->str_cap; i++) {
        uint32_t off = w->str_slots[i];
        if (off == 0) {
            continue;
        }
        size_t j = str_hash(base + off, strlen(base + off)) & (cap - 1);
        while (slots[j] != 0) {
            j = (j + 1) & (cap - 1);
        }
        slots[j] = off;
    }
    free(w->str_slots);
    w->str_slots = slots;
    w->str_cap = cap;
    return true;
}

uint32_t rr_asset_writer_string(struct rr_asset_writer *w, const char *s)
{
    if (w == NULL) {
        return RR_ASSET_NONE;
    }
    if (s == NULL || s[0] == '\0') {
        return 0;
    }
    /* Keep the load factor at or below one half so probes stay short. */
    if ((w->str_used + 1) * 2 > w->str_cap) {
        if (!str_rehash(w, w->str_cap ? w->str_cap * 2 : 64)) {
            return RR_ASSET_NONE;
        }
    }
    struct section_buf *b = &w->sec[RR_SECTION_STRINGS];
    size_t len = strlen(s);
    size_t mask = w->str_cap - 1;
    size_t j = str_hash(s, len) & mask;
    while (w->str_slots[j] != 0) {
        const char *have = (const char *)b->data + w->str_slots[j];
        if (strcmp(have, s) == 0) {
            return w->str_slots[j];
        }
        j = (j + 1) & mask;
    }
    /* References are u32 and RR_ASSET_NONE is reserved, so the table must stay below it. */
    if (len >= (uint64_t)RR_ASSET_NONE - 1 - b->len) {
        return RR_ASSET_NONE;
    }
    size_t offset;
    if (!buf_place(b, len + 1, 1, &offset)) {
        return RR_ASSET_NONE;
    }
    memcpy(b->data + offset, s, len + 1);
    b->len += len + 1;
    w->str_slots[j] = (uint32_t)offset;
    w->str_used++;
    return (uint32_t)offset;
}

void rr_asset_writer_set_bounds(struct rr_asset_writer *w, const float min[3], const float max[3])
{
    if (w == NULL || min == NULL || max == NULL) {
        return;
    }
    memcpy(w->bounds_min, min, sizeof w->bounds_min);
    memcpy(w->bounds_max, max, sizeof w->bounds_max);
}

void rr_asset_writer_set_compression(struct rr_asset_writer *w, int level, size_t min_size)
{
    if (w == NULL) {
        return;
    }
    /* level 0 means "off" here (zstd would read it as its default level). */
    w->level = level;
    w->min_size = min_size;
}

/* What one section looks like in the file. */
struct stored_section {
    const uint8_t *data;
    size_t size;
    uint8_t *owned; /* the compressed copy, when kept */
    struct rr_asset_section entry;
};

static bool write_all(int fd, const void *data, size_t size)
{
    const uint8_t *p = data;
    while (size > 0) {
        ssize_t n = write(fd, p, size);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return false;
        }
        if (n == 0) {
            errno = EIO;
            return false;
        }
        p += n;
        size -= (size_t)n;
    }
    return true;
}

static bool write_zeros(int fd, size_t size)
{
    static const uint8_t zeros[RR_ASSET_ALIGNMENT];
    return size == 0 || write_all(fd, zeros, size);
}

static uint64_t align16(uint64_t v)
{
    return (v + (RR_ASSET_ALIGNMENT - 1)) & ~(uint64_t)(RR_ASSET_ALIGNMENT - 1);
}

/* Fill @p out (the stored form of every non-empty section, in type order); returns the count
 * or -1 with @p err set. */
static int prepare_sections(const struct rr_asset_writer *w, struct stored_section *out, char *err,
                            size_t err_size, enum rr_asset_result *out_result)
{
    int n = 0;
    for (uint32_t type = 1; type <= RR_SECTION_TYPE_MAX; type++) {
        const struct section_buf *b = &w->sec[type];
        if (b->len == 0) {
            continue;
        }
        size_t rs = rr_asset_record_size(type);
        if (b->len % rs != 0) {
            set_err(err, err_size,
                    "section %u: %zu bytes is not a whole number of %zu-byte records", type, b->len,
                    rs);
            *out_result = RR_ASSET_ERROR_INVALID_ARGUMENT;
            return -1;
        }
        if (b->len > RR_ASSET_MAX_SECTION_SIZE) {
            set_err(err, err_size, "section %u: %zu bytes is over the 64 GiB a reader accepts",
                    type, b->len);
            *out_result = RR_ASSET_ERROR_INVALID_ARGUMENT;
            return -1;
        }
        struct stored_section *s = &out[n++];
        s->data = b->data;
        s->size = b->len;
        s->entry.type = type;
        s->entry.size = b->len;
        s->entry.count = b->len / rs;
        if (w->level != 0 && b->len >= w->min_size) {
            size_t bound = ZSTD_compressBound(b->len);
            uint8_t *c = malloc(bound);
            if (c == NULL) {
                set_err(err, err_size, "section %u: out of memory for compression", type);
                *out_result = RR_ASSET_ERROR_OUT_OF_MEMORY;
                return -1;
            }
            size_t csize = ZSTD_compress(c, bound, b->data, b->len, w->level);
            if (ZSTD_isError(csize)) {
                free(c);
                set_err(err, err_size, "section %u: zstd: %s", type, ZSTD_getErrorName(csize));
                *out_result = RR_ASSET_ERROR_INVALID_ARGUMENT;
                return -1;
            }
            /* Incompressible data (PNG, JPEG) stays plain: no decompression cost for nothing.
             * Past the reader's zip-bomb ratio (a solid-colour texture can get there) too:
             * larger, but always loadable. */
            if (csize < b->len && csize >= b->len / RR_ASSET_MAX_COMPRESSION_RATIO) {
                s->owned = c;
                s->data = c;
                s->size = csize;
                s->entry.flags = RR_SECTION_FLAG_ZSTD;
            } else {
                free(c);
            }
        }
        s->entry.stored_size = s->size;
        s->entry.hash = XXH64(s->data, s->size, 0);
    }
    return n;
}

static enum rr_asset_result write_file(int fd, const struct rr_asset_file_header *h,
                                       const struct stored_section *secs, int n,
                                       const struct rr_asset_section *table)
{
    uint64_t pos = sizeof *h;
    if (!write_all(fd, h, sizeof *h)) {
        return RR_ASSET_ERROR_IO;
    }
    for (int i = 0; i < n; i++) {
        if (!write_zeros(fd, (size_t)(secs[i].entry.offset - pos)) ||
            !write_all(fd, secs[i].data, secs[i].size)) {
            return RR_ASSET_ERROR_IO;
        }
        pos = secs[i].entry.offset + secs[i].size;
    }
    if (!write_zeros(fd, (size_t)(h->section_table_offset - pos)) ||
        !write_all(fd, table, (size_t)n * sizeof *table)) {
        return RR_ASSET_ERROR_IO;
    }
    return RR_ASSET_OK;
}

/* Best effort: makes the rename itself durable; failure here does not undo a complete file. */
static void sync_parent_dir(const char *path)
{
    const char *slash = strrchr(path, '/');
    char dir[4096];
    if (slash == NULL) {
        strcpy(dir, ".");
    } else if (slash == path) {
        strcpy(dir, "/");
    } else if ((size_t)(slash - path) < sizeof dir) {
        memcpy(dir, path, (size_t)(slash - path));
        dir[slash - path] = '\0';
    } else {
        return;
    }
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
}

enum rr_asset_result rr_asset_writer_finish(struct rr_asset_writer *w, const char *path, char *err,
                                            size_t err_size)
{
    if (w == NULL || path == NULL || path[0] == '\0') {
        set_err(err, err_size, "invalid argument");
        return RR_ASSET_ERROR_INVALID_ARGUMENT;
    }
    struct stored_section secs[RR_SECTION_TYPE_MAX] = {0};
    struct rr_asset_section table[RR_SECTION_TYPE_MAX];
    enum rr_asset_result r = RR_ASSET_OK;
    char *tmp = NULL;
    int fd = -1;

    int n = prepare_sections(w, secs, err, err_size, &r);
    if (n < 0) {
        goto out;
    }
    uint64_t pos = sizeof(struct rr_asset_file_header);
    for (int i = 0; i < n; i++) {
        pos = align16(pos);
        secs[i].entry.offset = pos;
        pos += secs[i].size;
        table[i] = secs[i].entry;
    }
    struct rr_asset_file_header h;
    memset(&h, 0, sizeof h);
    memcpy(h.magic, RR_ASSET_MAGIC, sizeof h.magic);
    h.version_major = RR_ASSET_VERSION_MAJOR;
    h.version_minor = RR_ASSET_VERSION_MINOR;
    h.header_size = sizeof h;
    h.section_table_offset = align16(pos);
    h.section_count = (uint32_t)n;
    h.file_size = h.section_table_offset + (uint64_t)n * sizeof table[0];
    h.section_table_hash = XXH64(table, (size_t)n * sizeof table[0], 0);
    memcpy(h.bounds_min, w->bounds_min, sizeof h.bounds_min);
    memcpy(h.bounds_max, w->bounds_max, sizeof h.bounds_max);

    int len = snprintf(NULL, 0, "%s.tmp.%ld", path, (long)getpid());
    tmp = malloc((size_t)len + 1);
    if (tmp == NULL) {
        set_err(err, err_size, "out of memory");
        r = RR_ASSET_ERROR_OUT_OF_MEMORY;
        goto out;
    }
    snprintf(tmp, (size_t)len + 1, "%s.tmp.%ld", path, (long)getpid());
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        set_err(err, err_size, "create %s: %s", tmp, strerror(errno));
        r = RR_ASSET_ERROR_IO;
        goto out;
    }
    if (write_file(fd, &h, secs, n, table) != RR_ASSET_OK) {
        set_err(err, err_size, "write %s: %s", tmp, strerror(errno));
        r = RR_ASSET_ERROR_IO;
        goto fail_unlink;
    }
    if (fsync(fd) != 0) {
        set_err(err, err_size, "fsync %s: %s", tmp, strerror(errno));
        r = RR_ASSET_ERROR_IO;
        goto fail_unlink;
    }
    int rc = close(fd);
    fd = -1;
    if (rc != 0) {
        set_err(err, err_size, "close %s: %s", tmp, strerror(errno));
        r = RR_ASSET_ERROR_IO;
        goto fail_unlink;
    }
    if (rename(tmp, path) != 0) {
        set_err(err, err_size, "rename %s to %s: %s", tmp, path, strerror(errno));
        r = RR_ASSET_ERROR_IO;
        goto fail_unlink;
    }
    sync_parent_dir(path);
    goto out;

fail_unlink:
    if (fd >= 0) {
        close(fd);
        fd = -1;
    }
    unlink(tmp);
out:
    free(tmp);
    for (int i = 0; i < RR_SECTION_TYPE_MAX; i++) {
        free(secs[i].owned);
    }
    return r;
}
