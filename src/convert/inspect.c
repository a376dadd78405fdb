/* SPDX-License-Identifier: Apache-2.0 */
/*
 * --inspect: open a .rrasset with the reader (which validates its whole structure), verify
 * every checksum and print what it holds. Each section's checksum is also recomputed from the
 * file bytes so the table can say which section is damaged, not only that one is.
 */
#include "rr_convert.h"

#include "openrr/asset.h"

#include <xxhash.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const g_section_names[RR_SECTION_TYPE_MAX + 1] = {
    [RR_SECTION_STRINGS] = "STRINGS",
    [RR_SECTION_NODES] = "NODES",
    [RR_SECTION_NODE_MESHES] = "NODE_MESHES",
    [RR_SECTION_METADATA] = "METADATA",
    [RR_SECTION_MESHES] = "MESHES",
    [RR_SECTION_MESH_PARTS] = "MESH_PARTS",
    [RR_SECTION_MATERIALS] = "MATERIALS",
    [RR_SECTION_TEXTURES] = "TEXTURES",
    [RR_SECTION_TEXTURE_DATA] = "TEXTURE_DATA",
    [RR_SECTION_VERTEX_DATA] = "VERTEX_DATA",
    [RR_SECTION_INDEX_DATA] = "INDEX_DATA",
    [RR_SECTION_POINT_CLOUDS] = "POINT_CLOUDS",
    [RR_SECTION_POINT_DATA] = "POINT_DATA",
    [RR_SECTION_BVH_NODES] = "BVH_NODES",
    [RR_SECTION_BVH_TRIANGLES] = "BVH_TRIANGLES",
};

/* XXH64 of the stored bytes of @p s, read from the file (the reader's view may be decoded). */
static bool section_hash_ok(int fd, const struct rr_asset_section *s)
{
    enum { CHUNK = 1 << 20 };
    XXH64_state_t *st = XXH64_createState();
    uint8_t *buf = malloc(CHUNK);
    bool ok = st != NULL && buf != NULL && XXH64_reset(st, 0) != XXH_ERROR;
    uint64_t done = 0;
    while (ok && done < s->stored_size) {
        uint64_t want = s->stored_size - done < CHUNK ? s->stored_size - done : CHUNK;
        ssize_t n = pread(fd, buf, (size_t)want, (off_t)(s->offset + done));
        if (n < 0 && errno == EINTR) {
            continue;
        }
        ok = n > 0 && XXH64_update(st, buf, (size_t)n) != XXH_ERROR;
        done += n > 0 ? (uint64_t)n : 0;
    }
    ok = ok && XXH64_digest(st) == s->hash;
    free(buf);
    XXH64_freeState(st);
    return ok;
}

static size_t records(const struct rr_asset *a, uint32_t type)
{
    size_t n = 0;
    (void)rr_asset_section_data(a, type, &n);
    return n;
}

enum rr_convert_code rr_convert_inspect(const char *path, FILE *out)
{
    struct stat sb;
    if (stat(path, &sb) != 0 && (errno == ENOENT || errno == ENOTDIR)) {
        fprintf(stderr, "error: InputNotFound: %s does not exist: check the path\n", path);
        return RR_CONVERT_INPUT_NOT_FOUND;
    }
    char err[512] = "";
    struct rr_asset *a = NULL;
    enum rr_asset_result r = rr_asset_open(path, 0, &a, err, sizeof(err));
    if (r != RR_ASSET_OK) {
        fprintf(stderr, "error: InvalidInput: %s: %s (%s)\n", path, err, rr_asset_result_str(r));
        return RR_CONVERT_INVALID_INPUT;
    }
    char verify_err[512] = "";
    enum rr_asset_result vr = rr_asset_verify_checksums(a, verify_err, sizeof(verify_err));

    const struct rr_asset_file_header *h = rr_asset_header(a);
    fprintf(out, "file: %s\n", path);
    fprintf(out, "version: %u.%u\n", h->version_major, h->version_minor);
    fprintf(out, "file size: %" PRIu64 " bytes\n", h->file_size);
    fprintf(out, "bounds: min [%g, %g, %g] max [%g, %g, %g]\n", (double)h->bounds_min[0],
            (double)h->bounds_min[1], (double)h->bounds_min[2], (double)h->bounds_max[0],
            (double)h->bounds_max[1], (double)h->bounds_max[2]);
    fprintf(out, "\n%-14s %12s %12s %12s %12s %-10s %s\n", "section", "offset", "stored", "size",
            "count", "compressed", "checksum");
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    for (uint32_t t = 1; t <= RR_SECTION_TYPE_MAX; t++) {
        const struct rr_asset_section *s = rr_asset_section(a, t);
        if (s == NULL) {
            continue;
        }
        bool ok = fd >= 0 && section_hash_ok(fd, s);
        fprintf(out, "%-14s %12" PRIu64 " %12" PRIu64 " %12" PRIu64 " %12" PRIu64 " %-10s %s\n",
                g_section_names[t], s->offset, s->stored_size, s->size, s->count,
                (s->flags & RR_SECTION_FLAG_ZSTD) ? "zstd" : "no", ok ? "ok" : "BAD");
    }
    if (fd >= 0) {
        close(fd);
    }

    size_t mesh_count = 0;
    const struct rr_asset_mesh *meshes = rr_asset_section_data(a, RR_SECTION_MESHES, &mesh_count);
    uint64_t vertices = 0;
    uint64_t triangles = 0;
    for (size_t i = 0; meshes != NULL && i < mesh_count; i++) {
        vertices += meshes[i].vertex_count;
        triangles += meshes[i].index_count / 3;
    }
    size_t cloud_count = 0;
    const struct rr_asset_point_cloud *clouds =
        rr_asset_section_data(a, RR_SECTION_POINT_CLOUDS, &cloud_count);
    uint64_t points = 0;
    for (size_t i = 0; clouds != NULL && i < cloud_count; i++) {
        points += clouds[i].point_count;
    }
    fprintf(out, "\nnodes: %zu\n", records(a, RR_SECTION_NODES));
    fprintf(out, "meshes: %zu\n", mesh_count);
    fprintf(out, "mesh parts: %zu\n", records(a, RR_SECTION_MESH_PARTS));
    fprintf(out, "materials: %zu\n", records(a, RR_SECTION_MATERIALS));
    fprintf(out, "textures: %zu\n", records(a, RR_SECTION_TEXTURES));
    fprintf(out, "point clouds: %zu (%" PRIu64 " points)\n", cloud_count, points);
    fprintf(out, "bvh nodes: %zu\n", records(a, RR_SECTION_BVH_NODES));
    fprintf(out, "vertices: %" PRIu64 "\n", vertices);
    fprintf(out, "triangles: %" PRIu64 "\n", triangles);
    rr_asset_close(&a);
    if (vr != RR_ASSET_OK) {
        fprintf(out, "checksums: FAILED: %s\n", verify_err);
        fprintf(stderr, "error: InvalidInput: %s: %s (%s)\n", path, verify_err,
                rr_asset_result_str(vr));
        return RR_CONVERT_INVALID_INPUT;
    }
    fprintf(out, "checksums: ok\n");
    return RR_CONVERT_OK;
}
