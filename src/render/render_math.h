/* SPDX-License-Identifier: Apache-2.0 */
/*
 * render_math — the renderer's small linear algebra: an eye's view and projection matrices
 * from an OpenXR pose and field of view, frustum planes, and the world-space box of a mesh
 * instance. Matrices are column-major float[16] like the scene view's (m[col * 4 + row]).
 *
 * The projection is reversed-Z with the far plane at infinity (depth 1 at the near plane,
 * 0 at infinity, for glClipControl(GL_LOWER_LEFT, GL_ZERO_TO_ONE) and a float depth buffer):
 * it keeps depth precision over the distances a building-sized model spans.
 * Threads: pure functions, any thread.
 */
#ifndef RR_RENDER_MATH_H
#define RR_RENDER_MATH_H

#include <stdbool.h>

#define RR_FRUSTUM_PLANES 5 /* left, right, bottom, top, near: the far plane is at infinity */

/* A plane n·p + d ≥ 0 on the inside, n not necessarily unit length. */
struct rr_plane {
    float n[3];
    float d;
};

struct rr_frustum {
    struct rr_plane planes[RR_FRUSTUM_PLANES];
};

/* out = a × b. out may alias neither. */
void rr_mat4_mul(float out[16], const float a[16], const float b[16]);
/* The view matrix (world → eye) of a pose: the inverse of translate(position) × rotate(q).
 * q is x, y, z, w and is normalised here (a zero quaternion gives the identity rotation). */
void rr_mat4_view_from_pose(float out[16], const float position[3], const float q[4]);
/* OpenXR field-of-view angles (radians) → reversed-Z infinite projection with @p near_z. */
void rr_mat4_projection_fov(float out[16], float angle_left, float angle_right, float angle_up,
                            float angle_down, float near_z);
/* The frustum of clip matrix @p view_proj, in the space its input is in (world). */
void rr_frustum_from_matrix(struct rr_frustum *out, const float view_proj[16]);

/* Centre and half extents of box [bmin, bmax] after the affine transform @p m (Arvo: the
 * tight box of the transformed box, without transforming its 8 corners). */
void rr_box_transform(const float m[16], const float bmin[3], const float bmax[3],
                      float out_centre[3], float out_half[3]);
/* false when the box is entirely outside one plane of @p f (conservative: may say true for a
 * box outside the frustum near a corner). */
bool rr_frustum_test_box(const struct rr_frustum *f, const float centre[3], const float half[3]);

/* Every element finite, and the last row (0, 0, 0, 1) within a small tolerance: the scene
 * only produces affine matrices, so anything else is a bad input. */
bool rr_mat4_is_valid_affine(const float m[16]);
/* Determinant of the upper-left 3×3 (negative = mirrored: the front face flips). */
float rr_mat4_det3(const float m[16]);
/* The inverse transpose of the upper-left 3×3, as three columns padded to vec4 (std430) and
 * scaled so that its largest column is unit length (normals are renormalised anyway). */
void rr_mat4_normal_matrix(float out[12], const float m[16]);

#endif
