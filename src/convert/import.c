/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Import: checks the input before assimp sees it, runs assimp with as little post-processing
 * as the input's size allows, refuses scenes too large for 32-bit indexing and counts the
 * input statistics.
 *
 * Small inputs (up to EXACT_IMPORT_BYTES, the referenced .bin files included) are imported
 * with assimp's own "max quality" preset, the one `assimp info` uses, so numMeshes, numFaces,
 * numVertices, numMaterial and numNodes equal what `assimp info FILE` prints. On large inputs
 * that preset costs too much (5M triangles: 19 s and 1.9 GB, mostly JoinIdenticalVertices and
 * CalcTangentSpace), so they get a lean set; vertices are then deduplicated with
 * meshoptimizer and tangents derived by tangents.c, and the statistics count the scene as
 * imported (numVertices before deduplication).
 */
#include "model.h"

#include <assimp/cimport.h>
#include <assimp/commonMetaData.h>
#include <assimp/config.h>
#include <assimp/importerdesc.h>
#include <assimp/postprocess.h>
#include <assimp/scene.h>
#include <jansson.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define EXACT_IMPORT_BYTES (8u * 1024u * 1024u)
/* Totals above 2^31 would overflow the signed 32-bit counts of renderers and our index math. */
#define MAX_TOTAL_ELEMENTS (UINT64_C(1) << 31)
/* PLY headers are short; a point cloud is told apart by the lack of an "element face". */
#define PLY_HEADER_MAX 8192

static const struct {
    const char *ext;
    enum rr_convert_input_kind kind;
} g_formats[] = {
    {"gltf", RR_INPUT_GLTF}, {"glb", RR_INPUT_GLTF}, {"fbx", RR_INPUT_FBX},
    {"obj", RR_INPUT_OBJ},   {"ply", RR_INPUT_PLY},
};

static const char *extension_of(const char *path)
{
    const char *base = strrchr(path, '/');
    base = base != NULL ? base + 1 : path;
    const char *dot = strrchr(base, '.');
    return dot != NULL && dot != base ? dot + 1 : "";
}

static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (slash == NULL) {
        return strdup(".");
    }
    if (slash == path) {
        return strdup("/");
    }
    return strndup(path, (size_t)(slash - path));
}

/* A .gltf's buffers live in other files; they count toward the import's cost. */
static uint64_t gltf_external_bytes(const char *path, const char *dir)
{
    json_t *root = json_load_file(path, 0, NULL);
    uint64_t total = 0;
    json_t *buffers = json_object_get(root, "buffers");
    for (size_t i = 0; i < json_array_size(buffers); i++) {
        const char *uri = json_string_value(json_object_get(json_array_get(buffers, i), "uri"));
        if (uri == NULL || strncmp(uri, "data:", 5) == 0) {
            continue;
        }
        char *full = NULL;
        struct stat sb;
        if (asprintf(&full, "%s/%s", dir, uri) >= 0 && stat(full, &sb) == 0) {
            total += (uint64_t)sb.st_size;
        }
        free(full);
    }
    json_decref(root);
    return total;
}

/* Whether a PLY file declares vertices but no faces. Unknown (unreadable header) = false, so
 * that assimp reports the problem. */
static bool ply_is_point_cloud(int fd)
{
    char buf[PLY_HEADER_MAX + 1];
    ssize_t n = pread(fd, buf, PLY_HEADER_MAX, 0);
    if (n <= 0) {
        return false;
    }
    buf[n] = '\0';
    char *end = strstr(buf, "end_header");
    if (end == NULL) {
        return false;
    }
    *end = '\0';
    bool vertices = false;
    bool faces = false;
    for (char *line = strtok(buf, "\r\n"); line != NULL; line = strtok(NULL, "\r\n")) {
        unsigned long count = 0;
        char what[32];
        if (sscanf(line, "element %31s %lu", what, &count) == 2 && count > 0) {
            vertices |= strcmp(what, "vertex") == 0;
            faces |= strcmp(what, "face") == 0 || strcmp(what, "tristrips") == 0;
        }
    }
    return vertices && !faces;
}

enum rr_convert_code rr_convert_import_check(struct rr_convert_ctx *ctx)
{
    const char *in = ctx->opt->input;
    struct stat sb;
    if (stat(in, &sb) != 0) {
        if (errno == ENOENT || errno == ENOTDIR) {
            return rr_convert_fail(ctx->status, RR_CONVERT_INPUT_NOT_FOUND,
                                   "input file %s does not exist: check the path", in);
        }
        return rr_convert_fail(ctx->status, RR_CONVERT_INPUT_UNREADABLE,
                               "input file %s: %s: check the path and its permissions", in,
                               strerror(errno));
    }
    if (!S_ISREG(sb.st_mode)) {
        return rr_convert_fail(ctx->status, RR_CONVERT_INPUT_UNREADABLE,
                               "input %s is not a regular file: give the model file itself", in);
    }
    int fd = open(in, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return rr_convert_fail(ctx->status, RR_CONVERT_INPUT_UNREADABLE,
                               "input file %s cannot be opened: %s: check its permissions", in,
                               strerror(errno));
    }

    const char *ext = extension_of(in);
    bool known = false;
    for (size_t i = 0; i < sizeof(g_formats) / sizeof(g_formats[0]); i++) {
        if (strcasecmp(ext, g_formats[i].ext) == 0) {
            ctx->kind = g_formats[i].kind;
            known = true;
        }
    }
    if (!known) {
        close(fd);
        return rr_convert_fail(ctx->status, RR_CONVERT_UNSUPPORTED_FORMAT,
                               "input format \"%s%s\" is not supported: export the model as "
                               "glTF 2.0 (.gltf/.glb), FBX, OBJ or PLY",
                               *ext != '\0' ? "." : "", ext);
    }
    size_t len = strlen(ext);
    ctx->in_info.extension[0] = '.';
    for (size_t i = 0; i < len && i + 2 < sizeof(ctx->in_info.extension); i++) {
        ctx->in_info.extension[i + 1] =
            (char)(ext[i] >= 'A' && ext[i] <= 'Z' ? ext[i] + 32 : ext[i]);
    }
    if (ctx->kind == RR_INPUT_PLY) {
        ctx->point_cloud_input = ply_is_point_cloud(fd);
    }
    close(fd);

    ctx->input_dir = dir_of(in);
    if (ctx->input_dir == NULL) {
        return rr_convert_fail(ctx->status, RR_CONVERT_INTERNAL_ERROR, "out of memory");
    }
    uint64_t bytes = (uint64_t)sb.st_size;
    if (strcasecmp(ext, "gltf") == 0 && bytes <= EXACT_IMPORT_BYTES) {
        bytes += gltf_external_bytes(in, ctx->input_dir);
    }
    ctx->assimp_joined = bytes <= EXACT_IMPORT_BYTES && !ctx->point_cloud_input;
    return RR_CONVERT_OK;
}

static unsigned import_flags(const struct rr_convert_ctx *ctx)
{
    if (ctx->assimp_joined) {
        return aiProcessPreset_TargetRealtime_MaxQuality;
    }
    /* No ValidateDataStructure: it rejects meshes without faces, which is what a point cloud
     * is, and costs a pass over everything; the stages below check every index and reference
     * they use (faces in optimize.c, node meshes in scene.c, materials, textures). */
    return aiProcess_Triangulate | aiProcess_SortByPType | aiProcess_GenSmoothNormals |
           aiProcess_RemoveRedundantMaterials;
}

static const char *hint_for(enum rr_convert_input_kind kind)
{
    switch (kind) {
    case RR_INPUT_GLTF:
        return "check that the .bin files and textures referenced by the glTF are beside it and "
               "that the file is complete glTF 2.0";
    case RR_INPUT_FBX:
        return "check that the FBX file is complete (binary or ASCII FBX 7.x)";
    default:
        return "check that the file is complete and valid";
    }
}

static char *meta_string(const struct aiMetadata *md, const char *key)
{
    for (unsigned i = 0; md != NULL && i < md->mNumProperties; i++) {
        if (strcmp(md->mKeys[i].data, key) == 0 && md->mValues[i].mType == AI_AISTRING &&
            md->mValues[i].mData != NULL) {
            return strdup(((const struct aiString *)md->mValues[i].mData)->data);
        }
    }
    return NULL;
}

static enum rr_convert_code guard_sizes(struct rr_convert_ctx *ctx)
{
    const struct aiScene *sc = ctx->scene;
    uint64_t vertices = 0;
    uint64_t indices = 0;
    for (unsigned i = 0; i < sc->mNumMeshes; i++) {
        const struct aiMesh *m = sc->mMeshes[i];
        if (m == NULL) {
            return rr_convert_fail(ctx->status, RR_CONVERT_INVALID_INPUT,
                                   "mesh %u is missing in the imported scene: %s", i,
                                   hint_for(ctx->kind));
        }
        vertices += m->mNumVertices;
        indices += (uint64_t)m->mNumFaces * 3u;
        if (m->mNumVertices > 0 && m->mVertices == NULL) {
            return rr_convert_fail(ctx->status, RR_CONVERT_INVALID_INPUT,
                                   "mesh %u has no positions: %s", i, hint_for(ctx->kind));
        }
    }
    if (vertices > MAX_TOTAL_ELEMENTS || indices > MAX_TOTAL_ELEMENTS) {
        return rr_convert_fail(ctx->status, RR_CONVERT_INPUT_TOO_LARGE,
                               "the scene has %llu vertices and %llu indices; at most 2^31 of "
                               "each are supported: split the model into several files",
                               (unsigned long long)vertices, (unsigned long long)indices);
    }
    return RR_CONVERT_OK;
}

/* Node count, depth and mesh references without recursion: files with very deep hierarchies
 * exist (one node per part in some CAD exports). */
static enum rr_convert_code count_nodes(struct rr_convert_ctx *ctx)
{
    struct item {
        const struct aiNode *node;
        uint64_t depth;
    };
    size_t cap = 64;
    size_t top = 0;
    struct item *stack = malloc(cap * sizeof(*stack));
    if (stack == NULL) {
        return rr_convert_fail(ctx->status, RR_CONVERT_INTERNAL_ERROR, "out of memory");
    }
    stack[top++] = (struct item){ctx->scene->mRootNode, 1};
    struct rr_convert_input_stats *s = &ctx->in_stats;
    while (top > 0) {
        struct item it = stack[--top];
        s->nodes++;
        s->mesh_usages += it.node->mNumMeshes;
        if (it.depth > s->max_depth) {
            s->max_depth = it.depth;
        }
        if (s->nodes > MAX_TOTAL_ELEMENTS) {
            free(stack);
            return rr_convert_fail(ctx->status, RR_CONVERT_INPUT_TOO_LARGE,
                                   "the scene has more than 2^31 nodes: split the model");
        }
        for (unsigned c = 0; c < it.node->mNumChildren; c++) {
            if (top == cap) {
                struct item *grown = realloc(stack, cap * 2 * sizeof(*stack));
                if (grown == NULL) {
                    free(stack);
                    return rr_convert_fail(ctx->status, RR_CONVERT_INTERNAL_ERROR, "out of memory");
                }
                stack = grown;
                cap *= 2;
            }
            if (it.node->mChildren[c] != NULL) {
                stack[top++] = (struct item){it.node->mChildren[c], it.depth + 1};
            }
        }
    }
    free(stack);
    return RR_CONVERT_OK;
}

static enum rr_convert_code count_statistics(struct rr_convert_ctx *ctx)
{
    const struct aiScene *sc = ctx->scene;
    struct rr_convert_input_stats *s = &ctx->in_stats;
    s->meshes = sc->mNumMeshes;
    s->materials = sc->mNumMaterials;
    for (unsigned i = 0; i < sc->mNumMeshes; i++) {
        uint64_t faces = sc->mMeshes[i]->mNumFaces;
        s->faces += faces;
        s->vertices += sc->mMeshes[i]->mNumVertices;
        if (i == 0 || faces < s->faces_smallest_mesh) {
            s->faces_smallest_mesh = faces;
        }
        if (faces > s->faces_biggest_mesh) {
            s->faces_biggest_mesh = faces;
        }
    }

    struct rr_convert_input_info *info = &ctx->in_info;
    info->format = meta_string(sc->mMetaData, AI_METADATA_SOURCE_FORMAT);
    if (info->format == NULL) {
        const struct aiImporterDesc *desc = aiGetImporterDesc(ctx->in_info.extension + 1);
        info->format = strdup(desc != NULL ? desc->mName : "");
    }
    info->format_version = meta_string(sc->mMetaData, AI_METADATA_SOURCE_FORMAT_VERSION);
    info->generator = meta_string(sc->mMetaData, AI_METADATA_SOURCE_GENERATOR);
    if (info->format_version == NULL) {
        info->format_version = strdup("");
    }
    if (info->generator == NULL) {
        info->generator = strdup("");
    }
    if (info->format == NULL || info->format_version == NULL || info->generator == NULL) {
        return rr_convert_fail(ctx->status, RR_CONVERT_INTERNAL_ERROR, "out of memory");
    }
    return count_nodes(ctx);
}

static const struct aiScene *import_with(const struct rr_convert_ctx *ctx)
{
    struct aiPropertyStore *props = aiCreatePropertyStore();
    if (props == NULL) {
        return NULL;
    }
    if (!ctx->assimp_joined) {
        /* Large input: let importers that can trade quality for speed do so. */
        aiSetImportPropertyInteger(props, AI_CONFIG_FAVOUR_SPEED, 1);
    }
    const struct aiScene *sc =
        aiImportFileExWithProperties(ctx->opt->input, import_flags(ctx), NULL, props);
    aiReleasePropertyStore(props);
    return sc;
}

enum rr_convert_code rr_convert_import(struct rr_convert_ctx *ctx)
{
    ctx->scene = import_with(ctx);
    if (ctx->scene == NULL && ctx->assimp_joined) {
        /* The full preset refuses some valid inputs: ValidateDataStructure a mesh of points
         * (an OBJ of "v" lines), FindInvalidData a mesh it emptied. The lean set takes them;
         * a broken file fails again, with the lean import's message. */
        ctx->assimp_joined = false;
        ctx->scene = import_with(ctx);
    }
    if (ctx->scene == NULL) {
        return rr_convert_fail(ctx->status, RR_CONVERT_INVALID_INPUT, "%s: %s: %s", ctx->opt->input,
                               aiGetErrorString(), hint_for(ctx->kind));
    }
    if (ctx->scene->mRootNode == NULL) {
        return rr_convert_fail(ctx->status, RR_CONVERT_INVALID_INPUT,
                               "%s: the scene has no root node: %s", ctx->opt->input,
                               hint_for(ctx->kind));
    }
    enum rr_convert_code c = guard_sizes(ctx);
    if (c != RR_CONVERT_OK) {
        return c;
    }
    return count_statistics(ctx);
}

void rr_convert_import_release(struct rr_convert_ctx *ctx)
{
    if (ctx->scene != NULL) {
        aiReleaseImport(ctx->scene);
        ctx->scene = NULL;
    }
}
