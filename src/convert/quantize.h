/* SPDX-License-Identifier: Apache-2.0 */
/*
 * quantize — scalar encoders of the vertex formats (half floats, snorm8, unorm8) and their
 * decoders. meshoptimizer 0.18 offers meshopt_quantizeHalf/Snorm/Unorm only to C++ (they are
 * inline in its header), so these are the same formulas in C: output is bit-identical.
 * Threads: pure functions, any thread.
 */
#ifndef RR_CONVERT_QUANTIZE_H
#define RR_CONVERT_QUANTIZE_H

#include <stdint.h>
#include <string.h>

/* meshopt_quantizeHalf: round to nearest, flush denormals to zero, overflow to infinity. */
static inline uint16_t rr_quantize_half(float v)
{
    uint32_t ui;
    memcpy(&ui, &v, sizeof(ui));
    int s = (int)((ui >> 16) & 0x8000);
    int em = (int)(ui & 0x7fffffff);
    int h = (em - (112 << 23) + (1 << 12)) >> 13;
    h = (em < (113 << 23)) ? 0 : h;
    h = (em >= (143 << 23)) ? 0x7c00 : h;
    h = (em > (255 << 23)) ? 0x7e00 : h;
    return (uint16_t)(s | h);
}

static inline float rr_dequantize_half(uint16_t h)
{
    uint32_t s = (uint32_t)(h & 0x8000) << 16;
    uint32_t em = h & 0x7fff;
    /* Exponent rebias (112 << 23); infinities and NaN keep an all-ones exponent. */
    uint32_t r = (em << 13) + (112u << 23);
    r = em >= 0x7c00 ? (em << 13) | (255u << 23) : r;
    r = em < 0x0400 ? 0 : r; /* denormals were flushed to zero when encoding */
    uint32_t bits = s | r;
    float f;
    memcpy(&f, &bits, sizeof(f));
    return f;
}

/* meshopt_quantizeSnorm(v, 8): [-1, 1] to [-127, 127]; NaN maps to -127, never undefined. */
static inline int8_t rr_quantize_snorm8(float v)
{
    const float scale = 127.0f;
    float round = v >= 0 ? 0.5f : -0.5f;
    v = v >= -1 ? v : -1;
    v = v <= +1 ? v : +1;
    return (int8_t)(int)(v * scale + round);
}

/* meshopt_quantizeUnorm(v, 8): [0, 1] to [0, 255]. */
static inline uint8_t rr_quantize_unorm8(float v)
{
    v = v >= 0 ? v : 0;
    v = v <= 1 ? v : 1;
    return (uint8_t)(int)(v * 255.0f + 0.5f);
}

/* sRGB-encoded colour channels to linear unorm8 through a table over 12-bit input steps:
 * powf per channel dominated point-cloud conversion (6M calls for 2M coloured points). The
 * 1/4095 input step is finer than the 1/255 output step, so the result is the same byte as the
 * exact formula gives or one next to it. */
#define RR_SRGB_TABLE_SIZE 4096

struct rr_srgb_table {
    uint8_t linear[RR_SRGB_TABLE_SIZE];
};

void rr_srgb_table_init(struct rr_srgb_table *t);

static inline uint8_t rr_srgb_to_linear_unorm8(const struct rr_srgb_table *t, float c)
{
    c = c >= 0 ? c : 0;
    c = c <= 1 ? c : 1;
    return t->linear[(int)(c * (float)(RR_SRGB_TABLE_SIZE - 1) + 0.5f)];
}

#endif
