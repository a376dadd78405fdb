/* SPDX-License-Identifier: Apache-2.0 */
/*
 * scene_math — the few 4×4 matrix, quaternion and box operations the scene graph needs.
 * Matrices are column-major float[16] (element row r, column c at [c * 4 + r]), as in the
 * asset format and scene_view.h. Pure functions; any thread.
 */
#ifndef RR_SCENE_MATH_H
#define RR_SCENE_MATH_H

#include <stdbool.h>
#include <stdint.h>

void rr_m4_identity(float out[16]);
/* out = a × b (apply b first). @p out may alias neither input. */
void rr_m4_mul(const float a[16], const float b[16], float out[16]);
/* Translation × rotation (unit quaternion x, y, z, w) × scale. */
void rr_m4_from_trs(const float t[3], const float q[4], const float s[3], float out[16]);
/* General inverse; false when the matrix is singular or the result not finite. */
bool rr_m4_invert(const float m[16], float out[16]);
void rr_m4_point(const float m[16], const float p[3], float out[3]);
void rr_m4_dir(const float m[16], const float d[3], float out[3]);
/* The world AABB of the local box [mn, mx] under @p m (its eight corners transformed). */
void rr_m4_box(const float m[16], const float mn[3], const float mx[3], float out_mn[3],
               float out_mx[3]);

bool rr_finite_n(const float *v, int n);
/* Normalise @p v (n = 3 or 4) in place; false when its length is 0 or not finite. */
bool rr_normalize_n(float *v, int n);

/* IEEE half → float (vertex positions may be stored as FLOAT16x4). */
float rr_half_to_float(uint16_t h);

#endif
