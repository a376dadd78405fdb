/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Textures: find the image a material names (embedded in the scene or a file beside the
 * input), prove it decodes, and store it once.
 *
 * PNG and JPEG are stored as their original bytes (the renderer decodes them) but only after
 * stb_image decoded them fully here, so that a broken image fails the conversion
 * (TextureDecodeFailed) instead of the rendering session. Other formats stb reads (TGA, BMP,
 * PSD, GIF, HDR as 8-bit) and assimp's uncompressed BGRA textures become RGBA8.
 *
 * External paths are resolved inside the input's folder only: a model is untrusted input, and
 * "../../etc/…" must not make the converter read other files. A path that does not resolve
 * there is retried as its bare file name beside the input (exports often carry the author's
 * absolute paths), then reported as a missing texture (a warning).
 */
#include "model.h"

#include "openrr/asset.h"

#include <assimp/scene.h>
#include <stb/stb_image.h>
#include <xxhash.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_TEXTURE_SIDE 16384u
/* A compressed image larger than this is not a texture anyone can render. */
#define MAX_TEXTURE_FILE (UINT64_C(1) << 30)

struct image {
    const uint8_t *bytes; /* the encoded file, or BGRA texels (raw) */
    uint64_t size;
    uint32_t raw_width; /* assimp's uncompressed texture: width × height aiTexel */
    uint32_t raw_height;
    uint8_t *owned; /* bytes read from a file */
};

static const struct aiTexture *embedded(const struct aiScene *sc, const char *path)
{
    if (path[0] == '*') {
        char *end = NULL;
        unsigned long i = strtoul(path + 1, &end, 10);
        return end != path + 1 && *end == '\0' && i < sc->mNumTextures ? sc->mTextures[i] : NULL;
    }
    /* FBX keeps the original file name of an embedded texture; match it, then its base. */
    const char *base = strrchr(path, '/');
    const char *bslash = strrchr(path, '\\');
    base = bslash > base ? bslash : base;
    base = base != NULL ? base + 1 : path;
    for (unsigned i = 0; i < sc->mNumTextures; i++) {
        const struct aiTexture *t = sc->mTextures[i];
        if (t != NULL && strcmp(t->mFilename.data, path) == 0) {
            return t;
        }
    }
    for (unsigned i = 0; i < sc->mNumTextures; i++) {
        const struct aiTexture *t = sc->mTextures[i];
        if (t == NULL) {
            continue;
        }
        const char *tb = strrchr(t->mFilename.data, '/');
        const char *tbs = strrchr(t->mFilename.data, '\\');
        tb = tbs > tb ? tbs : tb;
        tb = tb != NULL ? tb + 1 : t->mFilename.data;
        if (*base != '\0' && strcasecmp(tb, base) == 0) {
            return t;
        }
    }
    return NULL;
}

/* glTF URIs are percent-encoded ("my%20texture.png"). */
static void percent_decode(char *s)
{
    char *out = s;
    for (char *in = s; *in != '\0'; in++) {
        unsigned v;
        if (in[0] == '%' && in[1] != '\0' && in[2] != '\0' && sscanf(in + 1, "%2x", &v) == 1 &&
            v != 0) {
            *out++ = (char)v;
            in += 2;
        } else {
            *out++ = *in;
        }
    }
    *out = '\0';
}

/* A relative path without ".." components stays inside the input folder. */
static bool stays_inside(const char *rel)
{
    if (rel[0] == '/' || (rel[0] != '\0' && rel[1] == ':')) {
        return false; /* absolute, or a Windows drive */
    }
    for (const char *p = rel; *p != '\0';) {
        const char *slash = strchr(p, '/');
        size_t len = slash != NULL ? (size_t)(slash - p) : strlen(p);
        if (len == 2 && p[0] == '.' && p[1] == '.') {
            return false;
        }
        p += len + (slash != NULL ? 1 : 0);
    }
    return true;
}

static int open_in_dir(const char *dir, const char *rel)
{
    char *full = NULL;
    if (asprintf(&full, "%s/%s", dir, rel) < 0) {
        return -1;
    }
    int fd = open(full, O_RDONLY | O_CLOEXEC);
    free(full);
    return fd;
}

static int open_external(const struct rr_convert_ctx *ctx, const char *path)
{
    char *rel = strdup(path);
    if (rel == NULL) {
        return -1;
    }
    for (char *p = rel; *p != '\0'; p++) {
        *p = *p == '\\' ? '/' : *p;
    }
    int fd = -1;
    if (stays_inside(rel)) {
        fd = open_in_dir(ctx->input_dir, rel);
        if (fd < 0) {
            percent_decode(rel);
            fd = stays_inside(rel) ? open_in_dir(ctx->input_dir, rel) : -1;
        }
    }
    const char *base = strrchr(rel, '/');
    base = base != NULL ? base + 1 : rel;
    if (fd < 0 && *base != '\0' && strcmp(base, "..") != 0 && strcmp(base, ".") != 0) {
        fd = open_in_dir(ctx->input_dir, base);
    }
    free(rel);
    return fd;
}

static enum rr_convert_code read_file(struct rr_convert_ctx *ctx, int fd, const char *path,
                                      struct image *img)
{
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        return rr_convert_fail(ctx->status, RR_CONVERT_TEXTURE_DECODE_FAILED,
                               "texture %s is not a regular file: replace it with a PNG or JPEG "
                               "image",
                               path);
    }
    if ((uint64_t)sb.st_size > MAX_TEXTURE_FILE) {
        return rr_convert_fail(ctx->status, RR_CONVERT_INPUT_TOO_LARGE,
                               "texture %s is larger than 1 GiB: reduce its size", path);
    }
    img->size = (uint64_t)sb.st_size;
    img->owned = malloc(img->size > 0 ? img->size : 1);
    if (img->owned == NULL) {
        return rr_convert_fail(ctx->status, RR_CONVERT_INTERNAL_ERROR, "out of memory");
    }
    uint64_t done = 0;
    while (done < img->size) {
        ssize_t n = read(fd, img->owned + done, img->size - done);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return rr_convert_fail(ctx->status, RR_CONVERT_INPUT_UNREADABLE,
                                   "texture %s cannot be read: %s", path,
                                   n < 0 ? strerror(errno) : "file shrank while reading");
        }
        done += (uint64_t)n;
    }
    img->bytes = img->owned;
    return RR_CONVERT_OK;
}

static enum rr_texture_encoding sniff(const uint8_t *b, uint64_t size)
{
    static const uint8_t png[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    if (size >= 8 && memcmp(b, png, 8) == 0) {
        return RR_TEXTURE_PNG;
    }
    if (size >= 3 && b[0] == 0xff && b[1] == 0xd8 && b[2] == 0xff) {
        return RR_TEXTURE_JPEG;
    }
    return RR_TEXTURE_RGBA8;
}

static uint32_t texture_record(struct rr_convert_ctx *ctx, const char *name, uint32_t encoding,
                               uint32_t w, uint32_t h, uint64_t offset, uint64_t size)
{
    struct rr_asset_texture rec;
    memset(&rec, 0, sizeof(rec));
    rec.name = rr_asset_writer_string(ctx->writer, name);
    rec.encoding = encoding;
    rec.width = w;
    rec.height = h;
    rec.data_offset = offset;
    rec.data_size = size;
    uint32_t index =
        (uint32_t)(rr_asset_writer_section_size(ctx->writer, RR_SECTION_TEXTURES) / sizeof(rec));
    if (rec.name == RR_ASSET_NONE || rr_asset_writer_append(ctx->writer, RR_SECTION_TEXTURES, &rec,
                                                            sizeof(rec), 8) == UINT64_MAX) {
        return RR_ASSET_NONE;
    }
    return index;
}

/* Decode (the proof that it is usable) and store; PNG/JPEG keep their bytes. */
static enum rr_convert_code store(struct rr_convert_ctx *ctx, const char *path,
                                  const struct image *img, uint32_t *out_index)
{
    if (img->raw_width > 0) {
        if (img->raw_width > MAX_TEXTURE_SIDE || img->raw_height > MAX_TEXTURE_SIDE) {
            return rr_convert_fail(ctx->status, RR_CONVERT_INPUT_TOO_LARGE,
                                   "texture %s is %ux%u; at most %ux%u is supported: scale it "
                                   "down",
                                   path, img->raw_width, img->raw_height, MAX_TEXTURE_SIDE,
                                   MAX_TEXTURE_SIDE);
        }
        uint64_t size = (uint64_t)img->raw_width * img->raw_height * 4u;
        uint64_t off;
        uint8_t *dst =
            rr_asset_writer_reserve(ctx->writer, RR_SECTION_TEXTURE_DATA, size, 16, &off);
        if (dst == NULL) {
            return rr_convert_fail(ctx->status, RR_CONVERT_INTERNAL_ERROR, "out of memory");
        }
        for (uint64_t i = 0; i < size; i += 4) { /* aiTexel is b, g, r, a */
            dst[i + 0] = img->bytes[i + 2];
            dst[i + 1] = img->bytes[i + 1];
            dst[i + 2] = img->bytes[i + 0];
            dst[i + 3] = img->bytes[i + 3];
        }
        *out_index =
            texture_record(ctx, path, RR_TEXTURE_RGBA8, img->raw_width, img->raw_height, off, size);
        return *out_index != RR_ASSET_NONE
                   ? RR_CONVERT_OK
                   : rr_convert_fail(ctx->status, RR_CONVERT_INTERNAL_ERROR, "out of memory");
    }

    int w = 0;
    int h = 0;
    int comp = 0;
    if (img->size > INT32_MAX ||
        !stbi_info_from_memory(img->bytes, (int)img->size, &w, &h, &comp)) {
        return rr_convert_fail(ctx->status, RR_CONVERT_TEXTURE_DECODE_FAILED,
                               "texture %s cannot be decoded (%s): replace it with a valid PNG "
                               "or JPEG image",
                               path, img->size > INT32_MAX ? "too large" : stbi_failure_reason());
    }
    if ((unsigned)w > MAX_TEXTURE_SIDE || (unsigned)h > MAX_TEXTURE_SIDE) {
        return rr_convert_fail(ctx->status, RR_CONVERT_INPUT_TOO_LARGE,
                               "texture %s is %dx%d; at most %ux%u is supported: scale it down",
                               path, w, h, MAX_TEXTURE_SIDE, MAX_TEXTURE_SIDE);
    }
    enum rr_texture_encoding enc = sniff(img->bytes, img->size);
    /* Truncated or corrupt data passes stbi_info (it reads only the header): decode it all. */
    unsigned char *pixels = stbi_load_from_memory(img->bytes, (int)img->size, &w, &h, &comp,
                                                  enc == RR_TEXTURE_RGBA8 ? 4 : 0);
    if (pixels == NULL) {
        return rr_convert_fail(ctx->status, RR_CONVERT_TEXTURE_DECODE_FAILED,
                               "texture %s cannot be decoded (%s): replace it with a valid PNG "
                               "or JPEG image",
                               path, stbi_failure_reason());
    }
    const void *data = enc == RR_TEXTURE_RGBA8 ? (const void *)pixels : (const void *)img->bytes;
    uint64_t size = enc == RR_TEXTURE_RGBA8 ? (uint64_t)w * (uint64_t)h * 4u : img->size;
    uint64_t off = rr_asset_writer_append(ctx->writer, RR_SECTION_TEXTURE_DATA, data, size, 16);
    stbi_image_free(pixels);
    if (off == UINT64_MAX) {
        return rr_convert_fail(ctx->status, RR_CONVERT_INTERNAL_ERROR, "out of memory");
    }
    *out_index = texture_record(ctx, path, enc, (uint32_t)w, (uint32_t)h, off, size);
    return *out_index != RR_ASSET_NONE
               ? RR_CONVERT_OK
               : rr_convert_fail(ctx->status, RR_CONVERT_INTERNAL_ERROR, "out of memory");
}

/* Identical images (the same file named by several materials, or copies) are stored once;
 * the hash is taken over the source bytes so that a repeat is found before decoding. */
static bool find_duplicate(const struct rr_convert_ctx *ctx, uint64_t hash, uint64_t size,
                           uint32_t *out_index)
{
    for (size_t i = 0; i < ctx->texture_count; i++) {
        if (ctx->textures[i].hash == hash && ctx->textures[i].size == size) {
            *out_index = ctx->textures[i].index;
            return true;
        }
    }
    return false;
}

static enum rr_convert_code remember(struct rr_convert_ctx *ctx, uint64_t hash, uint64_t size,
                                     uint32_t index)
{
    if (ctx->texture_count == ctx->texture_cap) {
        size_t cap = ctx->texture_cap > 0 ? ctx->texture_cap * 2 : 16;
        struct rr_convert_texture_entry *n = realloc(ctx->textures, cap * sizeof(*n));
        if (n == NULL) {
            return rr_convert_fail(ctx->status, RR_CONVERT_INTERNAL_ERROR, "out of memory");
        }
        ctx->textures = n;
        ctx->texture_cap = cap;
    }
    ctx->textures[ctx->texture_count++] = (struct rr_convert_texture_entry){hash, size, index};
    return RR_CONVERT_OK;
}

enum rr_convert_code rr_convert_texture_get(struct rr_convert_ctx *ctx, const char *path,
                                            const char *material_name, uint32_t *out_index)
{
    *out_index = RR_ASSET_NONE;
    struct image img;
    memset(&img, 0, sizeof(img));
    const struct aiTexture *t = embedded(ctx->scene, path);
    enum rr_convert_code c = RR_CONVERT_OK;
    if (t != NULL && t->pcData != NULL) {
        img.bytes = (const uint8_t *)t->pcData;
        if (t->mHeight == 0) {
            img.size = t->mWidth;
        } else {
            img.raw_width = t->mWidth;
            img.raw_height = t->mHeight;
            img.size = (uint64_t)t->mWidth * t->mHeight * 4u;
        }
    } else if (path[0] == '*') {
        rr_convert_warn(ctx->status, "MissingTexture", "Missing texture",
                        "material \"%s\" names embedded texture %s, which the file does not "
                        "hold; the material is used without it",
                        material_name, path);
        return RR_CONVERT_OK;
    } else {
        int fd = open_external(ctx, path);
        if (fd < 0) {
            rr_convert_warn(ctx->status, "MissingTexture", "Missing texture",
                            "texture \"%s\" of material \"%s\" was not found beside the input; "
                            "the material is used without it: put the file in the input's "
                            "folder",
                            path, material_name);
            return RR_CONVERT_OK;
        }
        c = read_file(ctx, fd, path, &img);
        close(fd);
    }
    if (c == RR_CONVERT_OK) {
        uint64_t hash = XXH64(img.bytes, (size_t)img.size, img.raw_width);
        if (!find_duplicate(ctx, hash, img.size, out_index)) {
            rr_convert_progress_update(ctx->progress, RR_STAGE_TEXTURES, 0.0);
            c = store(ctx, path, &img, out_index);
            if (c == RR_CONVERT_OK) {
                c = remember(ctx, hash, img.size, *out_index);
            }
        }
    }
    free(img.owned);
    return c;
}
