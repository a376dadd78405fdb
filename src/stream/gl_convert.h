/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gl_convert — RGBA texture → NV12 planes on the GPU (OpenGL 4.5 core via libepoxy): one pass
 * writes luma at full size, one pass writes interleaved chroma at half size (2×2 average),
 * BT.601 limited range like libswscale's default, flipped so row 0 is the top. Only the planes
 * are read back. Uses the GL context current on the calling thread; create, use and destroy
 * with the same context current.
 */
#ifndef RR_STREAM_GL_CONVERT_H
#define RR_STREAM_GL_CONVERT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rr_gl_convert;

/* false with @p err when no GL context is current, the GL version is below 4.5 core or a
 * shader fails to build. @p width and @p height are even. */
bool rr_gl_convert_create(uint32_t width, uint32_t height, struct rr_gl_convert **out, char *err,
                          size_t err_size);
void rr_gl_convert_destroy(struct rr_gl_convert **conv_ptr);

/* Convert GL_TEXTURE_2D @p texture (width × height) into *y (width × height bytes, stride
 * width) and *uv (width × height / 2 bytes, stride width). The planes are owned by the converter
 * and valid until its next call. false with @p err on a GL error. */
bool rr_gl_convert_run(struct rr_gl_convert *conv, unsigned int texture, const uint8_t **y,
                       const uint8_t **uv, char *err, size_t err_size);

#endif
