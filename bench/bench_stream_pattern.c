/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench_stream_pattern — the moving stereo picture (see bench_stream_pattern.h).
 * Threads: render from any thread; the texture is read-only after init.
 */
#include "bench_stream_pattern.h"

#include <stdlib.h>
#include <string.h>

/* The texture repeats every PERIOD pixels sideways, so scrolling wraps without a jump. At
 * STEP pixels a frame it moves 480 px/s at 60 fps: a brisk head turn, which keeps the
 * encoder's motion search busy without turning every frame into a scene cut. */
#define PERIOD 512u
#define STEP 8u
#define DISPARITY 12u /* right eye's view of the backdrop, shifted: what a stereo pair shows */
#define SQUARE_GREY 0xF0

static uint32_t hash2(uint32_t x, uint32_t y)
{
    uint32_t h = x * 0x9E3779B1u ^ y * 0x85EBCA77u;
    h ^= h >> 15;
    h *= 0x2C1B3C6Du;
    h ^= h >> 12;
    return h;
}

static uint8_t clamp255(int v)
{
    return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
}

/* Smooth ramps (what most of a rendered scene is), edges every 64 px (what costs bits) and
 * ±8 of noise (what a textured surface adds), all periodic in x. */
static void fill_texture(struct bench_pattern *p)
{
    for (uint32_t y = 0; y < p->eye_height; y++) {
        uint8_t *row = p->tex + (size_t)y * p->tex_width * 4u;
        int gy = (int)(y * 255u / p->eye_height);
        for (uint32_t x = 0; x < p->tex_width; x++) {
            uint32_t xm = x % PERIOD;
            int gx = (int)(xm * 255u / PERIOD);
            int check = ((xm / 64u + y / 64u) & 1u) ? 48 : 0;
            int noise = (int)(hash2(xm, y) & 15u) - 8;
            row[4 * x + 0] = clamp255(gx / 2 + check + noise + 40);
            row[4 * x + 1] = clamp255(gy / 2 + check + noise + 30);
            row[4 * x + 2] = clamp255((gx + gy) / 4 + check / 2 + noise + 60);
            row[4 * x + 3] = 255;
        }
    }
}

bool bench_pattern_init(struct bench_pattern *p, uint32_t eye_width, uint32_t eye_height)
{
    p->eye_width = eye_width;
    p->eye_height = eye_height;
    p->tex_width = eye_width + PERIOD + DISPARITY;
    p->tex = malloc((size_t)p->tex_width * eye_height * 4u);
    if (p->tex == NULL)
        return false;
    fill_texture(p);
    return true;
}

void bench_pattern_fini(struct bench_pattern *p)
{
    free(p->tex);
    p->tex = NULL;
}

void bench_pattern_render(const struct bench_pattern *p, uint64_t phase, uint8_t *rgba,
                          size_t stride)
{
    uint32_t w = p->eye_width, h = p->eye_height;
    size_t eye_bytes = (size_t)w * 4u;
    uint32_t scroll = (uint32_t)((phase * STEP) % PERIOD);
    for (uint32_t y = 0; y < h; y++) {
        const uint8_t *src = p->tex + ((size_t)y * p->tex_width + scroll) * 4u;
        uint8_t *dst = rgba + (size_t)y * stride;
        memcpy(dst, src, eye_bytes);
        memcpy(dst + eye_bytes, src + DISPARITY * 4u, eye_bytes);
    }
    /* A square nearer than the backdrop: larger disparity, its own diagonal motion. */
    uint32_t side = h / 5u;
    uint32_t span_x = w - side - 2u * DISPARITY, span_y = h - side;
    uint32_t sx = (uint32_t)((phase * 5u) % span_x) + 2u * DISPARITY;
    uint32_t sy = (uint32_t)((phase * 3u) % span_y);
    for (uint32_t y = sy; y < sy + side; y++) {
        uint8_t *dst = rgba + (size_t)y * stride;
        memset(dst + (size_t)sx * 4u, SQUARE_GREY, (size_t)side * 4u);
        memset(dst + eye_bytes + (size_t)(sx - 2u * DISPARITY) * 4u, SQUARE_GREY,
               (size_t)side * 4u);
    }
}
