/* SPDX-License-Identifier: Apache-2.0 */
/*
 * render_texture — an asset texture to a GL texture: RGBA8 as stored, PNG and JPEG decoded
 * with stb_image (the converter checked they decode, but the file may come from elsewhere, so
 * a failure is still an error, not a crash). Rows go up top row first, which is what glTF's
 * top-left texture coordinates (kept by the converter) sample correctly.
 * Threads: the render thread.
 */
#include "render_asset.h"

#include <stb/stb_image.h>

#include <limits.h>
#include <stdio.h>
#include <string.h>

static GLuint fail(char *err, size_t err_size, const struct rr_asset *asset,
                   const struct rr_asset_texture *t, const char *why)
{
    if (err && err_size)
        snprintf(err, err_size, "renderer: texture \"%s\": %s", rr_asset_string(asset, t->name),
                 why);
    return 0;
}

static uint32_t mip_levels(uint32_t w, uint32_t h)
{
    uint32_t n = 1;
    for (uint32_t s = w > h ? w : h; s > 1; s >>= 1)
        n++;
    return n;
}

GLuint rr_render_texture_upload(const struct rr_asset *asset, const struct rr_asset_texture *t,
                                bool srgb, uint64_t *gpu_bytes, char *err, size_t err_size)
{
    size_t data_size = 0;
    const uint8_t *data = rr_asset_section_data(asset, RR_SECTION_TEXTURE_DATA, &data_size);
    /* The reader validated the range; these checks keep this file honest on its own. */
    if (!data || t->data_offset > data_size || t->data_size > data_size - t->data_offset)
        return fail(err, err_size, asset, t, "data outside TEXTURE_DATA");
    if (t->width == 0 || t->height == 0 || t->width > 16384 || t->height > 16384)
        return fail(err, err_size, asset, t, "size out of range");
    const uint8_t *bytes = data + t->data_offset;

    stbi_uc *decoded = NULL;
    const uint8_t *pixels = NULL;
    if (t->encoding == RR_TEXTURE_RGBA8) {
        if (t->data_size != (uint64_t)t->width * t->height * 4)
            return fail(err, err_size, asset, t, "RGBA8 data size is not width × height × 4");
        pixels = bytes;
    } else if (t->encoding == RR_TEXTURE_PNG || t->encoding == RR_TEXTURE_JPEG) {
        if (t->data_size > INT_MAX)
            return fail(err, err_size, asset, t, "encoded image too large");
        int w = 0, h = 0, comp = 0;
        decoded = stbi_load_from_memory(bytes, (int)t->data_size, &w, &h, &comp, 4);
        if (!decoded)
            return fail(err, err_size, asset, t, stbi_failure_reason());
        if ((uint32_t)w != t->width || (uint32_t)h != t->height) {
            stbi_image_free(decoded);
            return fail(err, err_size, asset, t, "decoded size differs from the record");
        }
        pixels = decoded;
    } else {
        return fail(err, err_size, asset, t, "unknown encoding");
    }

    GLuint tex = 0;
    glCreateTextures(GL_TEXTURE_2D, 1, &tex);
    glTextureStorage2D(tex, (GLsizei)mip_levels(t->width, t->height),
                       srgb ? GL_SRGB8_ALPHA8 : GL_RGBA8, (GLsizei)t->width, (GLsizei)t->height);
    glPixelStorei(GL_UNPACK_ALIGNMENT, 1);
    glTextureSubImage2D(tex, 0, 0, 0, (GLsizei)t->width, (GLsizei)t->height, GL_RGBA,
                        GL_UNSIGNED_BYTE, pixels);
    glPixelStorei(GL_UNPACK_ALIGNMENT, 4);
    glGenerateTextureMipmap(tex);
    glTextureParameteri(tex, GL_TEXTURE_MIN_FILTER, GL_LINEAR_MIPMAP_LINEAR);
    glTextureParameteri(tex, GL_TEXTURE_MAG_FILTER, GL_LINEAR);
    glTextureParameteri(tex, GL_TEXTURE_WRAP_S, GL_REPEAT);
    glTextureParameteri(tex, GL_TEXTURE_WRAP_T, GL_REPEAT);
    if (decoded)
        stbi_image_free(decoded);
    *gpu_bytes += (uint64_t)t->width * t->height * 4 * 4 / 3;
    return tex;
}
