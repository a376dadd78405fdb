/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Index optimisation with meshoptimizer: vertex cache order, then overdraw (threshold 1.05),
 * then vertex fetch order, which also numbers the output vertices (unreferenced ones dropped).
 *
 * Everything works on one uint32 index buffer per mesh in the source mesh's vertex numbering,
 * with assimp's arrays read in place; only the remap table (4 bytes a vertex) is extra. Large
 * non-glTF inputs skipped assimp's JoinIdenticalVertices (see import.c), so their duplicate
 * vertices are merged here first with meshopt_generateVertexRemapMulti (exact equality over
 * every stream written), each duplicate replaced by its first occurrence.
 *
 * Cache and overdraw optimisation are by far the costliest steps (2 s for 5M triangles), and
 * both only reorder triangles locally. Meshes above 2 × CHUNK_TRIANGLES are therefore cut into
 * chunks of consecutive source triangles, each renumbered to its own small vertex range and
 * optimised on its own, on as many threads as the process may use. On a 5M-triangle grid the
 * cache efficiency stays within ~1% (ACMR 0.664 with 64k-triangle chunks, 0.656 whole) while
 * the smaller working set makes it ~2x faster even on one thread.
 *
 * Threads: workers run meshoptimizer on disjoint chunks and touch nothing else; the calling
 * thread works too and is the only one that reports progress.
 */
#include "model.h"
#include "parallel.h"

#include "openrr/asset.h"

#include <assimp/scene.h>
#include <meshoptimizer.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define OVERDRAW_THRESHOLD 1.05f
#define CHUNK_TRIANGLES 65536u

struct chunk {
    const struct aiVector3D *positions; /* the source mesh's */
    uint32_t *indices;                  /* this chunk's part of the mesh's buffer */
    size_t count;
    uint32_t vertices; /* in the chunk's numbering */
    uint32_t *source;  /* chunk vertex -> source vertex; NULL: the numbering is the source's */
};

struct pool {
    struct chunk *chunks;
    size_t count;
    uint64_t indices; /* in all chunks, for progress */
    atomic_size_t next;
    atomic_uint_fast64_t done;
    atomic_bool failed;
};

static size_t dedupe_streams(const struct aiMesh *am, uint32_t format, struct meshopt_Stream *s)
{
    size_t n = 0;
    s[n++] = (struct meshopt_Stream){am->mVertices, sizeof(float) * 3, sizeof(struct aiVector3D)};
    if (am->mNormals != NULL) {
        s[n++] =
            (struct meshopt_Stream){am->mNormals, sizeof(float) * 3, sizeof(struct aiVector3D)};
    }
    if (RR_VERTEX_ENCODING(format, RR_ATTR_TANGENT) != RR_VERTEX_NONE && am->mTangents != NULL &&
        am->mBitangents != NULL) {
        s[n++] =
            (struct meshopt_Stream){am->mTangents, sizeof(float) * 3, sizeof(struct aiVector3D)};
        s[n++] =
            (struct meshopt_Stream){am->mBitangents, sizeof(float) * 3, sizeof(struct aiVector3D)};
    }
    /* UV0 also drives generated tangents, so it counts even when not written. */
    if (am->mTextureCoords[0] != NULL) {
        s[n++] = (struct meshopt_Stream){am->mTextureCoords[0], sizeof(float) * 2,
                                         sizeof(struct aiVector3D)};
    }
    if (RR_VERTEX_ENCODING(format, RR_ATTR_TEXCOORD1) != RR_VERTEX_NONE) {
        s[n++] = (struct meshopt_Stream){am->mTextureCoords[1], sizeof(float) * 2,
                                         sizeof(struct aiVector3D)};
    }
    if (RR_VERTEX_ENCODING(format, RR_ATTR_COLOR0) != RR_VERTEX_NONE) {
        s[n++] = (struct meshopt_Stream){am->mColors[0], sizeof(struct aiColor4D),
                                         sizeof(struct aiColor4D)};
    }
    return n;
}

/* Replace every index by the first vertex equal to it. @p remap is scratch (vertex_count). */
static bool dedupe(const struct aiMesh *am, uint32_t format, uint32_t *indices, size_t count,
                   uint32_t *remap)
{
    struct meshopt_Stream streams[8];
    size_t ns = dedupe_streams(am, format, streams);
    size_t unique =
        meshopt_generateVertexRemapMulti(remap, indices, count, am->mNumVertices, streams, ns);
    if (unique == am->mNumVertices) {
        return true; /* nothing to merge */
    }
    uint32_t *first = malloc((unique > 0 ? unique : 1) * sizeof(uint32_t));
    if (first == NULL) {
        return false;
    }
    memset(first, 0xff, unique * sizeof(uint32_t));
    for (uint32_t v = 0; v < am->mNumVertices; v++) {
        uint32_t r = remap[v];
        if (r != UINT32_MAX && first[r] == UINT32_MAX) {
            first[r] = v;
        }
    }
    for (size_t i = 0; i < count; i++) {
        indices[i] = first[remap[indices[i]]];
    }
    free(first);
    return true;
}

/* The triangles of @p m's source mesh as one uint32 index buffer, checked and deduplicated. */
static enum rr_convert_code gather(struct rr_convert_ctx *ctx, struct rr_convert_mesh *m)
{
    const struct aiMesh *am = ctx->scene->mMeshes[m->src];
    uint32_t nv = am->mNumVertices;
    size_t tris = 0;
    for (unsigned f = 0; am->mFaces != NULL && f < am->mNumFaces; f++) {
        tris += am->mFaces[f].mNumIndices == 3 && am->mFaces[f].mIndices != NULL;
    }
    size_t count = tris * 3;
    uint32_t *idx = malloc((count > 0 ? count : 1) * sizeof(uint32_t));
    m->remap = malloc((nv > 0 ? nv : 1) * sizeof(uint32_t));
    m->indices = idx;
    if (idx == NULL || m->remap == NULL) {
        return rr_convert_fail(ctx->status, RR_CONVERT_INTERNAL_ERROR, "out of memory");
    }
    /* Baked mirrors swap two corners so that front faces stay front faces. */
    int b = m->flip_winding ? 2 : 1;
    int c = m->flip_winding ? 1 : 2;
    size_t k = 0;
    for (unsigned f = 0; k < count && f < am->mNumFaces; f++) {
        const struct aiFace *face = &am->mFaces[f];
        if (face->mNumIndices != 3 || face->mIndices == NULL) {
            continue;
        }
        const unsigned *fi = face->mIndices;
        if (fi[0] >= nv || fi[1] >= nv || fi[2] >= nv) {
            return rr_convert_fail(ctx->status, RR_CONVERT_INVALID_INPUT,
                                   "mesh \"%s\": face %u uses vertex %u of %u: the file is corrupt",
                                   am->mName.data, f,
                                   fi[0] >= nv   ? fi[0]
                                   : fi[1] >= nv ? fi[1]
                                                 : fi[2],
                                   nv);
        }
        idx[k] = fi[0];
        idx[k + 1] = fi[b];
        idx[k + 2] = fi[c];
        k += 3;
    }
    m->index_count = (uint32_t)count;
    /* glTF is indexed by design; the other formats come out of assimp one vertex per face
     * corner unless assimp joined them. */
    if (!ctx->assimp_joined && ctx->kind != RR_INPUT_GLTF && count > 0 &&
        !dedupe(am, m->vertex_format, idx, count, m->remap)) {
        return rr_convert_fail(ctx->status, RR_CONVERT_INTERNAL_ERROR, "out of memory");
    }
    return RR_CONVERT_OK;
}

/* Renumber each chunk of a large mesh to its own vertices. @p last/@p slot are scratch of the
 * source vertex count: the chunk that last numbered a vertex, and its number there. */
static bool split_mesh(const struct aiMesh *am, uint32_t *idx, size_t count, uint32_t *last,
                       uint32_t *slot, struct chunk *out, size_t *n_out)
{
    memset(last, 0xff, (size_t)am->mNumVertices * sizeof(uint32_t));
    size_t n = 0;
    for (size_t begin = 0; begin < count; begin += (size_t)CHUNK_TRIANGLES * 3, n++) {
        size_t end =
            count - begin > (size_t)CHUNK_TRIANGLES * 3 ? begin + CHUNK_TRIANGLES * 3 : count;
        uint32_t *source = malloc((end - begin) * sizeof(uint32_t));
        if (source == NULL) {
            *n_out = n;
            return false;
        }
        uint32_t local = 0;
        for (size_t i = begin; i < end; i++) {
            uint32_t v = idx[i];
            if (last[v] != (uint32_t)n) {
                last[v] = (uint32_t)n;
                slot[v] = local;
                source[local++] = v;
            }
            idx[i] = slot[v];
        }
        uint32_t *shrunk = realloc(source, (local > 0 ? local : 1) * sizeof(uint32_t));
        out[n] = (struct chunk){am->mVertices, idx + begin, end - begin, local,
                                shrunk != NULL ? shrunk : source};
    }
    *n_out = n;
    return true;
}

static bool optimise_chunk(const struct chunk *c)
{
    const float *pos = &c->positions[0].x;
    size_t stride = sizeof(struct aiVector3D);
    float *local = NULL;
    if (c->source != NULL) {
        local = malloc((size_t)(c->vertices > 0 ? c->vertices : 1) * 3 * sizeof(float));
        if (local == NULL) {
            return false;
        }
        for (uint32_t v = 0; v < c->vertices; v++) {
            memcpy(&local[(size_t)v * 3], &c->positions[c->source[v]], 3 * sizeof(float));
        }
        pos = local;
        stride = 3 * sizeof(float);
    }
    meshopt_optimizeVertexCache(c->indices, c->indices, c->count, c->vertices);
    meshopt_optimizeOverdraw(c->indices, c->indices, c->count, pos, c->vertices, stride,
                             OVERDRAW_THRESHOLD);
    if (c->source != NULL) {
        for (size_t i = 0; i < c->count; i++) {
            c->indices[i] = c->source[c->indices[i]];
        }
    }
    free(local);
    return true;
}

static void run_chunks(struct pool *p)
{
    for (;;) {
        size_t i = atomic_fetch_add(&p->next, 1);
        if (i >= p->count) {
            return;
        }
        if (!optimise_chunk(&p->chunks[i])) {
            atomic_store(&p->failed, true);
        }
        atomic_fetch_add(&p->done, p->chunks[i].count);
    }
}

static void *worker(void *arg)
{
    run_chunks(arg);
    return NULL;
}

static void run_pool(struct rr_convert_ctx *ctx, struct pool *p)
{
    pthread_t threads[RR_CONVERT_MAX_THREADS];
    int wanted = (int)rr_convert_threads() - 1;
    int started = 0;
    for (; started < wanted && (size_t)started + 1 < p->count; started++) {
        if (pthread_create(&threads[started], NULL, worker, p) != 0) {
            break; /* fewer helpers; the calling thread finishes the rest */
        }
    }
    /* The calling thread works too, reporting progress between its chunks. */
    for (;;) {
        size_t i = atomic_fetch_add(&p->next, 1);
        if (i >= p->count) {
            break;
        }
        if (!optimise_chunk(&p->chunks[i])) {
            atomic_store(&p->failed, true);
        }
        atomic_fetch_add(&p->done, p->chunks[i].count);
        double done = (double)atomic_load(&p->done);
        rr_convert_progress_update(ctx->progress, RR_STAGE_OPTIMIZE,
                                   p->indices > 0 ? 0.8 * done / (double)p->indices : 0.8);
    }
    for (int t = 0; t < started; t++) {
        pthread_join(threads[t], NULL);
    }
}

/* Output numbering in fetch order, and 16-bit indices when they fit. */
static void finish_mesh(const struct aiMesh *am, struct rr_convert_mesh *m)
{
    uint32_t *idx = m->indices;
    size_t count = m->index_count;
    size_t unique = meshopt_optimizeVertexFetchRemap(m->remap, idx, count, am->mNumVertices);
    meshopt_remapIndexBuffer(idx, idx, count, m->remap);
    m->vertex_count = (uint32_t)unique;
    m->index_size = unique <= 65536 ? 2 : 4;
    if (m->index_size == 2) {
        /* Narrow in place: element i of the 16-bit view never overtakes element i of the
         * 32-bit one. */
        uint8_t *bytes = (uint8_t *)idx;
        for (size_t i = 0; i < count; i++) {
            uint16_t v = (uint16_t)idx[i];
            memcpy(bytes + i * sizeof(v), &v, sizeof(v));
        }
        void *shrunk = realloc(idx, (count > 0 ? count : 1) * sizeof(uint16_t));
        m->indices = shrunk != NULL ? shrunk : idx;
    }
}

enum rr_convert_code rr_convert_optimize(struct rr_convert_ctx *ctx)
{
    struct pool p;
    memset(&p, 0, sizeof(p));
    size_t cap = 0;
    uint32_t max_vertices = 0;
    for (size_t i = 0; i < ctx->mesh_count; i++) {
        enum rr_convert_code c = gather(ctx, &ctx->meshes[i]);
        if (c != RR_CONVERT_OK) {
            return c;
        }
        size_t tris = ctx->meshes[i].index_count / 3;
        cap += tris > 2 * CHUNK_TRIANGLES ? (tris + CHUNK_TRIANGLES - 1) / CHUNK_TRIANGLES : 1;
        uint32_t nv = ctx->scene->mMeshes[ctx->meshes[i].src]->mNumVertices;
        max_vertices = nv > max_vertices ? nv : max_vertices;
        p.indices += ctx->meshes[i].index_count;
    }

    p.chunks = calloc(cap > 0 ? cap : 1, sizeof(*p.chunks));
    uint32_t *last = NULL;
    uint32_t *slot = NULL;
    bool ok = p.chunks != NULL;
    for (size_t i = 0; ok && i < ctx->mesh_count; i++) {
        struct rr_convert_mesh *m = &ctx->meshes[i];
        const struct aiMesh *am = ctx->scene->mMeshes[m->src];
        if (m->index_count / 3 <= 2 * CHUNK_TRIANGLES) {
            if (m->index_count > 0) {
                p.chunks[p.count++] = (struct chunk){am->mVertices, m->indices, m->index_count,
                                                     am->mNumVertices, NULL};
            }
            continue;
        }
        if (last == NULL) {
            last = malloc((size_t)max_vertices * sizeof(uint32_t));
            slot = malloc((size_t)max_vertices * sizeof(uint32_t));
            ok = last != NULL && slot != NULL;
        }
        size_t n = 0;
        ok = ok && split_mesh(am, m->indices, m->index_count, last, slot, &p.chunks[p.count], &n);
        p.count += n;
    }
    free(last);
    free(slot);
    if (ok) {
        run_pool(ctx, &p);
        ok = !atomic_load(&p.failed);
    }
    for (size_t i = 0; i < p.count; i++) {
        free(p.chunks[i].source);
    }
    free(p.chunks);
    if (!ok) {
        return rr_convert_fail(ctx->status, RR_CONVERT_INTERNAL_ERROR, "out of memory");
    }
    for (size_t i = 0; i < ctx->mesh_count; i++) {
        finish_mesh(ctx->scene->mMeshes[ctx->meshes[i].src], &ctx->meshes[i]);
    }
    return RR_CONVERT_OK;
}
