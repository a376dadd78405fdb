/* SPDX-License-Identifier: Apache-2.0 */
/* info.json and result.json, written whole under a temporary name and renamed into place so a
 * poller never reads half a file. */
#include "report.h"

#include <jansson.h>
#include <xxhash.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define HASH_CHUNK (1u << 20)

bool rr_convert_hash_file(const char *path, char out[17])
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return false;
    }
    XXH64_state_t *st = XXH64_createState();
    uint8_t *buf = malloc(HASH_CHUNK);
    bool ok = st != NULL && buf != NULL && XXH64_reset(st, 0) != XXH_ERROR;
    while (ok) {
        ssize_t n = read(fd, buf, HASH_CHUNK);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            ok = n == 0;
            break;
        }
        ok = XXH64_update(st, buf, (size_t)n) != XXH_ERROR;
    }
    if (ok) {
        snprintf(out, 17, "%016llx", (unsigned long long)XXH64_digest(st));
    }
    free(buf);
    XXH64_freeState(st);
    close(fd);
    return ok;
}

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s != NULL ? s + 1 : path;
}

static bool dump_atomic(json_t *root, const char *path)
{
    if (root == NULL) {
        return false;
    }
    char *tmp = NULL;
    if (asprintf(&tmp, "%s.tmp.%ld", path, (long)getpid()) < 0) {
        return false;
    }
    /* Floats with 9 significant digits: what a float holds, without 0.10000000000000001. */
    char *text = json_dumps(root, JSON_INDENT(2) | JSON_REAL_PRECISION(9));
    FILE *f = text != NULL ? fopen(tmp, "w") : NULL;
    bool ok = f != NULL && fputs(text, f) >= 0 && fputc('\n', f) != EOF;
    ok = f != NULL && fclose(f) == 0 && ok;
    free(text);
    ok = ok && rename(tmp, path) == 0;
    if (!ok) {
        unlink(tmp);
    }
    free(tmp);
    return ok;
}

static json_t *vec3(const double v[3])
{
    return json_pack("[f, f, f]", v[0], v[1], v[2]);
}

static json_t *vec3f(const float v[3])
{
    const double d[3] = {v[0], v[1], v[2]};
    return vec3(d);
}

enum rr_convert_code rr_convert_report_info(struct rr_convert_ctx *ctx, const char *info_path,
                                            const char *asset_path, const char *hash_hex)
{
    const struct rr_convert_input_stats *s = &ctx->in_stats;
    const struct rr_convert_input_info *in = &ctx->in_info;
    json_t *root = json_pack(
        "{s:{s:s, s:s}, s:o, "
        "s:{s:s, s:s, s:s, s:s}, "
        "s:{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}, "
        "s:{s:s, s:s}, "
        "s:{s:I, s:I, s:o, s:{s:o, s:o}}}",
        "files", "input", base_name(ctx->opt->input), "output", base_name(asset_path),
        "conversionSettings", rr_convert_settings_to_json(&ctx->settings), "inputInfo",
        "sourceAssetExtension", in->extension, "sourceAssetFormat", in->format,
        "sourceAssetFormatVersion", in->format_version, "sourceAssetGenerator", in->generator,
        "inputStatistics", "numMeshes", (json_int_t)s->meshes, "numFaces", (json_int_t)s->faces,
        "numVertices", (json_int_t)s->vertices, "numMaterial", (json_int_t)s->materials,
        "numFacesSmallestMesh", (json_int_t)s->faces_smallest_mesh, "numFacesBiggestMesh",
        (json_int_t)s->faces_biggest_mesh, "numNodes", (json_int_t)s->nodes, "numMeshUsagesInScene",
        (json_int_t)s->mesh_usages, "maxNodeDepth", (json_int_t)s->max_depth, "outputInfo",
        "conversionToolVersion", RR_CONVERT_TOOL_VERSION, "conversionHash", hash_hex,
        "outputStatistics", "numMeshPartsCreated", (json_int_t)ctx->parts_created,
        "numMeshPartsInstanced", (json_int_t)ctx->parts_instanced, "recenteringOffset",
        vec3(ctx->recentering_offset), "boundingBox", "min", vec3f(ctx->bounds_min), "max",
        vec3f(ctx->bounds_max));
    bool ok = dump_atomic(root, info_path);
    json_decref(root);
    if (!ok) {
        return rr_convert_fail(ctx->status, RR_CONVERT_OUTPUT_ERROR,
                               "cannot write %s: %s: check that the output folder is writable "
                               "and has free space",
                               info_path, strerror(errno));
    }
    return RR_CONVERT_OK;
}

static json_t *message(const struct rr_convert_message *m)
{
    return json_pack("{s:s, s:s, s:s}", "code", m->code != NULL ? m->code : "", "title",
                     m->title != NULL ? m->title : "", "details",
                     m->details != NULL ? m->details : "");
}

bool rr_convert_report_result(const struct rr_convert_status *st, const char *result_path)
{
    json_t *errors = json_array();
    json_t *warnings = json_array();
    if (st->code != RR_CONVERT_OK) {
        json_array_append_new(errors, message(&st->error));
    }
    for (size_t i = 0; i < st->warning_count; i++) {
        json_array_append_new(warnings, message(&st->warnings[i]));
    }
    if (st->warnings_dropped > 0) {
        char details[128];
        snprintf(details, sizeof(details), "%zu more warnings were left out", st->warnings_dropped);
        struct rr_convert_message more = {(char *)"TooManyWarnings", (char *)"Warnings left out",
                                          details};
        json_array_append_new(warnings, message(&more));
    }
    json_t *root =
        json_pack("{s:s, s:o, s:o}", "status", st->code == RR_CONVERT_OK ? "Succeeded" : "Failed",
                  "errors", errors, "warnings", warnings);
    bool ok = dump_atomic(root, result_path);
    json_decref(root);
    return ok;
}
