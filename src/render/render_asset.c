/* SPDX-License-Identifier: Apache-2.0 */
/*
 * render_asset — uploading a .rrasset and sharing it by content; see render_asset.h.
 */
#include "render_asset.h"

#include "u_log.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOG_MOD "render"

/* The one material drawn for parts without one: white, dielectric, fully rough. */
static const struct rr_asset_material default_material = {
    .name = RR_ASSET_NONE,
    .alpha_mode = RR_ALPHA_OPAQUE,
    .alpha_cutoff = 0.5f,
    .base_color = {1.0f, 1.0f, 1.0f, 1.0f},
    .metallic = 0.0f,
    .roughness = 1.0f,
    .normal_scale = 1.0f,
    .base_color_texture = RR_ASSET_NONE,
    .metallic_roughness_texture = RR_ASSET_NONE,
    .normal_texture = RR_ASSET_NONE,
    .occlusion_texture = RR_ASSET_NONE,
    .emissive_texture = RR_ASSET_NONE,
};

static bool fail(char *err, size_t err_size, const char *fmt, const char *detail)
{
    if (err && err_size)
        snprintf(err, err_size, fmt, detail);
    return false;
}

static size_t pointer_bucket(const void *p)
{
    uint64_t x = (uint64_t)(uintptr_t)p;
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    return (size_t)(x % RR_REGISTRY_BUCKETS);
}

static size_t content_bucket(uint64_t hash)
{
    return (size_t)(hash % RR_REGISTRY_BUCKETS);
}

/* GL attribute format of a vertex encoding: false for NONE or an unknown one. */
static bool attribute_format(uint32_t encoding, GLint *size, GLenum *type, GLboolean *norm)
{
    switch (encoding) {
    case RR_VERTEX_FLOAT32x3:
        *size = 3, *type = GL_FLOAT, *norm = GL_FALSE;
        return true;
    case RR_VERTEX_FLOAT16x4:
        *size = 4, *type = GL_HALF_FLOAT, *norm = GL_FALSE;
        return true;
    case RR_VERTEX_SNORM8x4:
        *size = 4, *type = GL_BYTE, *norm = GL_TRUE;
        return true;
    case RR_VERTEX_FLOAT32x2:
        *size = 2, *type = GL_FLOAT, *norm = GL_FALSE;
        return true;
    case RR_VERTEX_FLOAT16x2:
        *size = 2, *type = GL_HALF_FLOAT, *norm = GL_FALSE;
        return true;
    case RR_VERTEX_UNORM8x4:
        *size = 4, *type = GL_UNSIGNED_BYTE, *norm = GL_TRUE;
        return true;
    default:
        return false;
    }
}

/* The instance record's attributes, from binding 1 with divisor 1; the renderer points the
 * binding at its per-frame instance buffer. */
static void instance_attributes(GLuint vao)
{
    const GLuint b = RR_BINDING_INSTANCES;
    struct {
        GLuint loc;
        GLint size;
        size_t offset;
    } const attrs[] = {
        {RR_LOC_TINT, 4, offsetof(struct rr_instance_record, tint)},
        {RR_LOC_OVERRIDE, 4, offsetof(struct rr_instance_record, colour_override)},
        {RR_LOC_WORLD + 0, 4, offsetof(struct rr_instance_record, world) + 0},
        {RR_LOC_WORLD + 1, 4, offsetof(struct rr_instance_record, world) + 16},
        {RR_LOC_WORLD + 2, 4, offsetof(struct rr_instance_record, world) + 32},
        {RR_LOC_WORLD + 3, 4, offsetof(struct rr_instance_record, world) + 48},
        {RR_LOC_NORMAL_MATRIX + 0, 3, offsetof(struct rr_instance_record, normal_matrix) + 0},
        {RR_LOC_NORMAL_MATRIX + 1, 3, offsetof(struct rr_instance_record, normal_matrix) + 16},
        {RR_LOC_NORMAL_MATRIX + 2, 3, offsetof(struct rr_instance_record, normal_matrix) + 32},
    };
    for (size_t i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++) {
        glEnableVertexArrayAttrib(vao, attrs[i].loc);
        glVertexArrayAttribFormat(vao, attrs[i].loc, attrs[i].size, GL_FLOAT, GL_FALSE,
                                  (GLuint)attrs[i].offset);
        glVertexArrayAttribBinding(vao, attrs[i].loc, b);
    }
    glEnableVertexArrayAttrib(vao, RR_LOC_FLAGS);
    glVertexArrayAttribIFormat(vao, RR_LOC_FLAGS, 1, GL_UNSIGNED_INT,
                               (GLuint)offsetof(struct rr_instance_record, flags));
    glVertexArrayAttribBinding(vao, RR_LOC_FLAGS, b);
    glVertexArrayBindingDivisor(vao, b, 1);
}

/* Set up the VAO of a buffer set: the asset's attributes from binding 0 (the set's vertex
 * buffer), the instance index from binding 1 (bound later by the renderer). */
static void setup_set_vao(struct rr_gpu_buffer_set *s)
{
    static const struct {
        enum rr_vertex_attribute attr;
        GLuint loc;
        uint32_t bit;
    } slots[] = {
        {RR_ATTR_POSITION, RR_LOC_POSITION, 0},
        {RR_ATTR_NORMAL, RR_LOC_NORMAL, RR_ATTRS_NORMAL},
        {RR_ATTR_TANGENT, RR_LOC_TANGENT, RR_ATTRS_TANGENT},
        {RR_ATTR_TEXCOORD0, RR_LOC_TEXCOORD0, RR_ATTRS_TEXCOORD0},
        {RR_ATTR_COLOR0, RR_LOC_COLOR0, RR_ATTRS_COLOR0},
    };
    glCreateVertexArrays(1, &s->vao);
    s->attrs = 0;
    for (size_t i = 0; i < sizeof(slots) / sizeof(slots[0]); i++) {
        GLint size;
        GLenum type;
        GLboolean norm;
        int32_t offset = rr_vertex_attribute_offset(s->vertex_format, slots[i].attr);
        if (offset < 0 || !attribute_format(RR_VERTEX_ENCODING(s->vertex_format, slots[i].attr),
                                            &size, &type, &norm))
            continue;
        glEnableVertexArrayAttrib(s->vao, slots[i].loc);
        glVertexArrayAttribFormat(s->vao, slots[i].loc, size, type, norm, (GLuint)offset);
        glVertexArrayAttribBinding(s->vao, slots[i].loc, RR_BINDING_VERTICES);
        s->attrs |= slots[i].bit;
    }
    glVertexArrayVertexBuffer(s->vao, RR_BINDING_VERTICES, s->vbo, 0, (GLsizei)s->stride);
    glVertexArrayElementBuffer(s->vao, s->ibo);
    instance_attributes(s->vao);
}

static void gpu_asset_free(struct rr_gpu_asset *g)
{
    if (!g)
        return;
    for (uint32_t i = 0; i < g->set_count; i++) {
        glDeleteVertexArrays(1, &g->sets[i].vao);
        glDeleteBuffers(1, &g->sets[i].vbo);
        glDeleteBuffers(1, &g->sets[i].ibo);
    }
    for (uint32_t i = 0; i < g->cloud_count; i++)
        glDeleteVertexArrays(1, &g->clouds[i].vao);
    if (g->texture_count)
        glDeleteTextures((GLsizei)g->texture_count, g->textures);
    glDeleteBuffers(1, &g->material_ubo);
    glDeleteBuffers(1, &g->point_buffer);
    free(g->sets);
    free(g->meshes);
    free(g->parts);
    free(g->materials);
    free(g->textures);
    free(g->clouds);
    free(g);
}

/* Group meshes into buffer sets and give each its place; allocates g->sets and g->meshes. */
static bool layout_meshes(struct rr_gpu_asset *g, const struct rr_asset_mesh *meshes,
                          size_t mesh_count, char *err, size_t err_size)
{
    g->meshes = calloc(mesh_count ? mesh_count : 1, sizeof(*g->meshes));
    g->sets = calloc(mesh_count ? mesh_count : 1, sizeof(*g->sets));
    if (!g->meshes || !g->sets)
        return fail(err, err_size, "renderer: %s", "out of memory");
    g->mesh_count = (uint32_t)mesh_count;
    for (size_t i = 0; i < mesh_count; i++) {
        const struct rr_asset_mesh *m = &meshes[i];
        struct rr_gpu_mesh *gm = &g->meshes[i];
        memcpy(gm->bounds_min, m->bounds_min, sizeof(gm->bounds_min));
        memcpy(gm->bounds_max, m->bounds_max, sizeof(gm->bounds_max));
        gm->part_first = m->part_first;
        gm->part_count = m->part_count;
        gm->set = UINT32_MAX; /* nothing to draw */
        GLint size;
        GLenum type;
        GLboolean norm;
        uint32_t pos = RR_VERTEX_ENCODING(m->vertex_format, RR_ATTR_POSITION);
        if (m->index_count == 0 || m->vertex_count == 0 || m->vertex_stride == 0 ||
            (pos != RR_VERTEX_FLOAT32x3 && pos != RR_VERTEX_FLOAT16x4) ||
            !attribute_format(pos, &size, &type, &norm))
            continue;
        uint32_t s = 0;
        while (s < g->set_count && (g->sets[s].vertex_format != m->vertex_format ||
                                    g->sets[s].index_size != m->index_size))
            s++;
        struct rr_gpu_buffer_set *set = &g->sets[s];
        if (s == g->set_count) {
            g->set_count++;
            set->vertex_format = m->vertex_format;
            set->stride = m->vertex_stride;
            set->index_size = m->index_size;
        }
        uint64_t first_vertex = (set->vertex_bytes + set->stride - 1) / set->stride;
        if (first_vertex + m->vertex_count > INT32_MAX ||
            set->index_bytes / set->index_size + m->index_count > UINT32_MAX)
            return fail(err, err_size, "renderer: %s",
                        "the meshes' buffer offsets exceed GL's 32-bit draw parameters");
        gm->set = s;
        gm->base_vertex = (int32_t)first_vertex;
        gm->first_index = (uint32_t)(set->index_bytes / set->index_size);
        gm->index_count = m->index_count;
        set->vertex_bytes = (first_vertex + m->vertex_count) * set->stride;
        set->index_bytes += (uint64_t)m->index_count * set->index_size;
    }
    return true;
}

static bool upload_meshes(struct rr_gpu_asset *g, const struct rr_asset *asset, char *err,
                          size_t err_size)
{
    size_t mesh_count = 0, vsize = 0, isize = 0;
    const struct rr_asset_mesh *meshes =
        rr_asset_section_data(asset, RR_SECTION_MESHES, &mesh_count);
    const uint8_t *vdata = rr_asset_section_data(asset, RR_SECTION_VERTEX_DATA, &vsize);
    const uint8_t *idata = rr_asset_section_data(asset, RR_SECTION_INDEX_DATA, &isize);
    if (!layout_meshes(g, meshes, mesh_count, err, err_size))
        return false;
    for (uint32_t s = 0; s < g->set_count; s++) {
        struct rr_gpu_buffer_set *set = &g->sets[s];
        glCreateBuffers(1, &set->vbo);
        glCreateBuffers(1, &set->ibo);
        glNamedBufferStorage(set->vbo, (GLsizeiptr)set->vertex_bytes, NULL, GL_DYNAMIC_STORAGE_BIT);
        glNamedBufferStorage(set->ibo, (GLsizeiptr)set->index_bytes, NULL, GL_DYNAMIC_STORAGE_BIT);
        g->gpu_bytes += set->vertex_bytes + set->index_bytes;
        setup_set_vao(set);
    }
    for (uint32_t i = 0; i < g->mesh_count; i++) {
        const struct rr_gpu_mesh *gm = &g->meshes[i];
        if (gm->set == UINT32_MAX)
            continue;
        const struct rr_asset_mesh *m = &meshes[i];
        const struct rr_gpu_buffer_set *set = &g->sets[gm->set];
        /* The reader checked both ranges against their sections. */
        glNamedBufferSubData(set->vbo, (GLintptr)gm->base_vertex * set->stride,
                             (GLsizeiptr)m->vertex_count * set->stride, vdata + m->vertex_offset);
        glNamedBufferSubData(set->ibo, (GLintptr)gm->first_index * set->index_size,
                             (GLsizeiptr)m->index_count * set->index_size, idata + m->index_offset);
    }
    (void)vsize;
    (void)isize;
    return true;
}

static uint32_t texture_slot(const struct rr_asset_material *m, int slot)
{
    switch (slot) {
    case 0:
        return m->base_color_texture;
    case 1:
        return m->metallic_roughness_texture;
    case 2:
        return m->normal_texture;
    case 3:
        return m->occlusion_texture;
    default:
        return m->emissive_texture;
    }
}

/* Textures referenced by a material (colour slots as sRGB), materials and their UBO. */
static bool upload_materials(struct rr_gpu_asset *g, const struct rr_asset *asset,
                             GLint ubo_alignment, char *err, size_t err_size)
{
    size_t mat_count = 0, tex_count = 0;
    const struct rr_asset_material *mats =
        rr_asset_section_data(asset, RR_SECTION_MATERIALS, &mat_count);
    const struct rr_asset_texture *texs =
        rr_asset_section_data(asset, RR_SECTION_TEXTURES, &tex_count);

    g->texture_count = (uint32_t)tex_count;
    g->textures = calloc(tex_count ? tex_count : 1, sizeof(*g->textures));
    g->material_count = (uint32_t)mat_count;
    g->materials = calloc(mat_count + 1, sizeof(*g->materials));
    if (!g->textures || !g->materials)
        return fail(err, err_size, "renderer: %s", "out of memory");
    /* Base colour and emissive are sRGB-encoded images (glTF); the others hold data. */
    uint8_t *srgb = calloc(tex_count ? tex_count : 1, 2);
    if (!srgb)
        return fail(err, err_size, "renderer: %s", "out of memory");
    uint8_t *used = srgb + (tex_count ? tex_count : 1);
    for (size_t i = 0; i < mat_count; i++) {
        for (int slot = 0; slot < RR_TEXTURE_SLOTS; slot++) {
            uint32_t t = texture_slot(&mats[i], slot);
            if (t < tex_count) {
                used[t] = 1;
                if (slot == 0 || slot == 4)
                    srgb[t] = 1;
            }
        }
    }
    bool ok = true;
    for (size_t t = 0; t < tex_count && ok; t++) {
        if (!used[t])
            continue;
        g->textures[t] =
            rr_render_texture_upload(asset, &texs[t], srgb[t], &g->gpu_bytes, err, err_size);
        ok = g->textures[t] != 0;
    }
    free(srgb);
    if (!ok)
        return false;

    g->material_stride = (uint32_t)sizeof(struct rr_material_block);
    if (ubo_alignment > 0)
        g->material_stride = (g->material_stride + (uint32_t)ubo_alignment - 1) /
                             (uint32_t)ubo_alignment * (uint32_t)ubo_alignment;
    size_t ubo_size = (mat_count + 1) * g->material_stride;
    uint8_t *blocks = calloc(1, ubo_size);
    if (!blocks)
        return fail(err, err_size, "renderer: %s", "out of memory");
    for (size_t i = 0; i <= mat_count; i++) {
        const struct rr_asset_material *m = i < mat_count ? &mats[i] : &default_material;
        struct rr_gpu_material *gm = &g->materials[i];
        struct rr_material_block b = {0};
        gm->flags = m->flags;
        gm->alpha_mode = m->alpha_mode <= RR_ALPHA_BLEND ? m->alpha_mode : RR_ALPHA_OPAQUE;
        memcpy(b.base_color, m->base_color, sizeof(b.base_color));
        memcpy(b.emissive_cutoff, m->emissive, sizeof(m->emissive));
        b.emissive_cutoff[3] = m->alpha_cutoff;
        b.pbr[0] = m->metallic;
        b.pbr[1] = m->roughness;
        b.pbr[2] = m->normal_scale;
        b.mode[0] = m->flags;
        b.mode[1] = gm->alpha_mode;
        for (int slot = 0; slot < RR_TEXTURE_SLOTS; slot++) {
            uint32_t t = texture_slot(m, slot);
            if (t < tex_count && g->textures[t]) {
                gm->textures[slot] = g->textures[t];
                b.mode[2] |= 1u << slot;
            }
        }
        memcpy(blocks + i * g->material_stride, &b, sizeof(b));
    }
    glCreateBuffers(1, &g->material_ubo);
    glNamedBufferStorage(g->material_ubo, (GLsizeiptr)ubo_size, blocks, 0);
    g->gpu_bytes += ubo_size;
    free(blocks);

    size_t part_count = 0;
    const struct rr_asset_mesh_part *parts =
        rr_asset_section_data(asset, RR_SECTION_MESH_PARTS, &part_count);
    g->parts = calloc(part_count ? part_count : 1, sizeof(*g->parts));
    if (!g->parts)
        return fail(err, err_size, "renderer: %s", "out of memory");
    g->part_count = (uint32_t)part_count;
    for (size_t i = 0; i < part_count; i++) {
        g->parts[i] = parts[i];
        if (parts[i].material >= mat_count)
            g->parts[i].material = (uint32_t)mat_count;
    }
    return true;
}

static bool upload_clouds(struct rr_gpu_asset *g, const struct rr_asset *asset, char *err,
                          size_t err_size)
{
    size_t cloud_count = 0, data_size = 0;
    const struct rr_asset_point_cloud *clouds =
        rr_asset_section_data(asset, RR_SECTION_POINT_CLOUDS, &cloud_count);
    const uint8_t *data = rr_asset_section_data(asset, RR_SECTION_POINT_DATA, &data_size);
    if (cloud_count == 0 || !data || data_size == 0)
        return true;
    g->clouds = calloc(cloud_count, sizeof(*g->clouds));
    if (!g->clouds)
        return fail(err, err_size, "renderer: %s", "out of memory");
    g->cloud_count = (uint32_t)cloud_count;
    glCreateBuffers(1, &g->point_buffer);
    glNamedBufferStorage(g->point_buffer, (GLsizeiptr)data_size, data, 0);
    g->gpu_bytes += data_size;
    for (size_t i = 0; i < cloud_count; i++) {
        const struct rr_asset_point_cloud *c = &clouds[i];
        struct rr_gpu_cloud *gc = &g->clouds[i];
        gc->point_count = c->point_count;
        gc->has_color = c->color_offset != UINT64_MAX;
        memcpy(gc->bounds_min, c->bounds_min, sizeof(gc->bounds_min));
        memcpy(gc->bounds_max, c->bounds_max, sizeof(gc->bounds_max));
        glCreateVertexArrays(1, &gc->vao);
        glEnableVertexArrayAttrib(gc->vao, RR_LOC_POSITION);
        glVertexArrayAttribFormat(gc->vao, RR_LOC_POSITION, 3, GL_FLOAT, GL_FALSE, 0);
        glVertexArrayAttribBinding(gc->vao, RR_LOC_POSITION, RR_BINDING_VERTICES);
        glVertexArrayVertexBuffer(gc->vao, RR_BINDING_VERTICES, g->point_buffer,
                                  (GLintptr)c->position_offset, 12);
        if (gc->has_color) {
            glEnableVertexArrayAttrib(gc->vao, RR_LOC_COLOR0);
            glVertexArrayAttribFormat(gc->vao, RR_LOC_COLOR0, 4, GL_UNSIGNED_BYTE, GL_TRUE, 0);
            glVertexArrayAttribBinding(gc->vao, RR_LOC_COLOR0, RR_BINDING_COLORS);
            glVertexArrayVertexBuffer(gc->vao, RR_BINDING_COLORS, g->point_buffer,
                                      (GLintptr)c->color_offset, 4);
        }
        instance_attributes(gc->vao);
    }
    return true;
}

static struct rr_gpu_asset *upload(const struct rr_asset *asset, GLint ubo_alignment, char *err,
                                   size_t err_size)
{
    struct rr_gpu_asset *g = calloc(1, sizeof(*g));
    if (!g) {
        fail(err, err_size, "renderer: %s", "out of memory");
        return NULL;
    }
    while (glGetError() != GL_NO_ERROR) {
    }
    bool ok = upload_meshes(g, asset, err, err_size) &&
              upload_materials(g, asset, ubo_alignment, err, err_size) &&
              upload_clouds(g, asset, err, err_size);
    GLenum e = glGetError();
    if (ok && e != GL_NO_ERROR) {
        ok = false;
        if (err && err_size)
            snprintf(err, err_size, "renderer: uploading the asset failed (GL error 0x%04x)",
                     (unsigned)e);
    }
    if (!ok) {
        gpu_asset_free(g);
        return NULL;
    }
    return g;
}

bool rr_asset_registry_get(struct rr_asset_registry *reg, const struct rr_asset *asset,
                           struct rr_render_asset **out, char *err, size_t err_size)
{
    *out = NULL;
    if (!asset)
        return fail(err, err_size, "renderer: %s", "no asset given");
    size_t pb = pointer_bucket(asset);
    for (struct rr_render_asset *h = reg->by_pointer[pb]; h; h = h->next) {
        if (h->asset == asset) {
            h->refs++;
            *out = h;
            return true;
        }
    }
    struct rr_render_asset *h = calloc(1, sizeof(*h));
    if (!h)
        return fail(err, err_size, "renderer: %s", "out of memory");
    const struct rr_asset_file_header *hdr = rr_asset_header(asset);
    size_t cb = content_bucket(hdr->section_table_hash);
    struct rr_gpu_asset *g = reg->by_content[cb];
    while (g && !(g->key_hash == hdr->section_table_hash && g->key_size == hdr->file_size))
        g = g->next;
    if (!g) {
        g = upload(asset, reg->ubo_alignment, err, err_size);
        if (!g) {
            free(h);
            return false;
        }
        g->key_hash = hdr->section_table_hash;
        g->key_size = hdr->file_size;
        g->next = reg->by_content[cb];
        reg->by_content[cb] = g;
        reg->gpu_count++;
        reg->uploads++;
        U_LOG_D(LOG_MOD,
                "uploaded asset %016llx: %u meshes in %u buffer sets, %u materials, "
                "%u textures, %u point clouds, %llu bytes",
                (unsigned long long)g->key_hash, g->mesh_count, g->set_count, g->material_count,
                g->texture_count, g->cloud_count, (unsigned long long)g->gpu_bytes);
    }
    g->refs++;
    h->asset = asset;
    h->gpu = g;
    h->refs = 1;
    h->next = reg->by_pointer[pb];
    reg->by_pointer[pb] = h;
    *out = h;
    return true;
}

static void unlink_gpu(struct rr_asset_registry *reg, struct rr_gpu_asset *g)
{
    struct rr_gpu_asset **pp = &reg->by_content[content_bucket(g->key_hash)];
    while (*pp && *pp != g)
        pp = &(*pp)->next;
    if (*pp)
        *pp = g->next;
    reg->gpu_count--;
    gpu_asset_free(g);
}

void rr_asset_registry_release(struct rr_asset_registry *reg, struct rr_render_asset *handle)
{
    if (!handle || --handle->refs > 0)
        return;
    struct rr_render_asset **pp = &reg->by_pointer[pointer_bucket(handle->asset)];
    while (*pp && *pp != handle)
        pp = &(*pp)->next;
    if (*pp)
        *pp = handle->next;
    if (reg->last == handle)
        reg->last = NULL;
    if (--handle->gpu->refs == 0)
        unlink_gpu(reg, handle->gpu);
    free(handle);
}

struct rr_gpu_asset *rr_asset_registry_find(struct rr_asset_registry *reg,
                                            const struct rr_asset *asset)
{
    if (reg->last && reg->last->asset == asset)
        return reg->last->gpu;
    for (struct rr_render_asset *h = reg->by_pointer[pointer_bucket(asset)]; h; h = h->next) {
        if (h->asset == asset) {
            reg->last = h;
            return h->gpu;
        }
    }
    return NULL;
}

void rr_asset_registry_clear(struct rr_asset_registry *reg)
{
    unsigned leaked = 0;
    for (size_t b = 0; b < RR_REGISTRY_BUCKETS; b++) {
        while (reg->by_pointer[b]) {
            struct rr_render_asset *h = reg->by_pointer[b];
            h->refs = 1;
            rr_asset_registry_release(reg, h);
            leaked++;
        }
    }
    if (leaked)
        U_LOG_W(LOG_MOD, "%u asset handles were still registered at destroy", leaked);
}
