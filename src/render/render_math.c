/* SPDX-License-Identifier: Apache-2.0 */
/*
 * render_math — see render_math.h. Conventions follow OpenXR's xr_linear.h (column-major,
 * right-handed, −Z ahead), except that the projection is reversed-Z and infinite.
 */
#include "render_math.h"

#include <math.h>
#include <string.h>

void rr_mat4_mul(float out[16], const float a[16], const float b[16])
{
    for (int c = 0; c < 4; c++) {
        for (int r = 0; r < 4; r++) {
            float s = 0.0f;
            for (int k = 0; k < 4; k++)
                s += a[k * 4 + r] * b[c * 4 + k];
            out[c * 4 + r] = s;
        }
    }
}

void rr_mat4_view_from_pose(float out[16], const float position[3], const float q[4])
{
    float x = q[0], y = q[1], z = q[2], w = q[3];
    float len = sqrtf(x * x + y * y + z * z + w * w);
    if (!(len > 1e-12f)) {
        x = y = z = 0.0f;
        w = 1.0f;
    } else {
        x /= len, y /= len, z /= len, w /= len;
    }
    /* Rotation of the pose (columns = the eye's axes in world space). */
    float r[9] = {
        1 - 2 * (y * y + z * z), 2 * (x * y + z * w),     2 * (x * z - y * w),
        2 * (x * y - z * w),     1 - 2 * (x * x + z * z), 2 * (y * z + x * w),
        2 * (x * z + y * w),     2 * (y * z - x * w),     1 - 2 * (x * x + y * y),
    };
    /* Inverse = transpose of the rotation, and the position rotated back and negated. */
    memset(out, 0, 16 * sizeof(float));
    for (int c = 0; c < 3; c++)
        for (int rr = 0; rr < 3; rr++)
            out[c * 4 + rr] = r[rr * 3 + c];
    for (int rr = 0; rr < 3; rr++) {
        float s = 0.0f;
        for (int k = 0; k < 3; k++)
            s += r[rr * 3 + k] * position[k];
        out[12 + rr] = -s;
    }
    out[15] = 1.0f;
}

void rr_mat4_projection_fov(float out[16], float angle_left, float angle_right, float angle_up,
                            float angle_down, float near_z)
{
    float l = tanf(angle_left), r = tanf(angle_right);
    float u = tanf(angle_up), d = tanf(angle_down);
    float w = r - l, h = u - d;
    /* A degenerate field of view would divide by zero: give it a hair of width instead. */
    if (!(fabsf(w) > 1e-6f))
        w = 1e-6f;
    if (!(fabsf(h) > 1e-6f))
        h = 1e-6f;
    memset(out, 0, 16 * sizeof(float));
    out[0] = 2.0f / w;
    out[5] = 2.0f / h;
    out[8] = (r + l) / w;
    out[9] = (u + d) / h;
    out[11] = -1.0f;
    out[14] = near_z; /* z_clip = near, w_clip = −z_view: depth = near / distance */
}

static void plane_from(struct rr_plane *p, const float m[16], int row, float sign)
{
    /* Gribb–Hartmann: plane = row 3 ± row `row` of the clip matrix. */
    p->n[0] = m[3] + sign * m[row];
    p->n[1] = m[7] + sign * m[4 + row];
    p->n[2] = m[11] + sign * m[8 + row];
    p->d = m[15] + sign * m[12 + row];
}

void rr_frustum_from_matrix(struct rr_frustum *out, const float m[16])
{
    plane_from(&out->planes[0], m, 0, +1.0f); /* left: x ≥ −w */
    plane_from(&out->planes[1], m, 0, -1.0f); /* right: x ≤ w */
    plane_from(&out->planes[2], m, 1, +1.0f); /* bottom */
    plane_from(&out->planes[3], m, 1, -1.0f); /* top */
    plane_from(&out->planes[4], m, 2, -1.0f); /* near (reversed Z): z ≤ w */
}

void rr_box_transform(const float m[16], const float bmin[3], const float bmax[3],
                      float out_centre[3], float out_half[3])
{
    float c[3], e[3];
    for (int i = 0; i < 3; i++) {
        c[i] = 0.5f * (bmin[i] + bmax[i]);
        e[i] = 0.5f * (bmax[i] - bmin[i]);
    }
    for (int r = 0; r < 3; r++) {
        float sc = m[12 + r], se = 0.0f;
        for (int k = 0; k < 3; k++) {
            sc += m[k * 4 + r] * c[k];
            se += fabsf(m[k * 4 + r]) * e[k];
        }
        out_centre[r] = sc;
        out_half[r] = se;
    }
}

bool rr_frustum_test_box(const struct rr_frustum *f, const float c[3], const float h[3])
{
    for (int i = 0; i < RR_FRUSTUM_PLANES; i++) {
        const struct rr_plane *p = &f->planes[i];
        float dist = p->n[0] * c[0] + p->n[1] * c[1] + p->n[2] * c[2] + p->d;
        float radius = fabsf(p->n[0]) * h[0] + fabsf(p->n[1]) * h[1] + fabsf(p->n[2]) * h[2];
        if (dist + radius < 0.0f)
            return false;
    }
    return true;
}

bool rr_mat4_is_valid_affine(const float m[16])
{
    for (int i = 0; i < 16; i++)
        if (!isfinite(m[i]))
            return false;
    return fabsf(m[3]) < 1e-4f && fabsf(m[7]) < 1e-4f && fabsf(m[11]) < 1e-4f &&
           fabsf(m[15] - 1.0f) < 1e-4f;
}

float rr_mat4_det3(const float m[16])
{
    return m[0] * (m[5] * m[10] - m[9] * m[6]) - m[4] * (m[1] * m[10] - m[9] * m[2]) +
           m[8] * (m[1] * m[6] - m[5] * m[2]);
}

void rr_mat4_normal_matrix(float out[12], const float m[16])
{
    /* Cofactor matrix = det × inverse transpose; its scale does not matter for normals, and
     * it stays defined for a singular matrix (a flattened instance still shades). */
    const float a = m[0], b = m[4], c = m[8];
    const float d = m[1], e = m[5], f = m[9];
    const float g = m[2], h = m[6], i = m[10];
    float cof[3][3] = {
        {e * i - f * h, -(d * i - f * g), d * h - e * g},
        {-(b * i - c * h), a * i - c * g, -(a * h - b * g)},
        {b * f - c * e, -(a * f - c * d), a * e - b * d},
    };
    /* cof[r][c] is the cofactor of element (r, c): the inverse transpose's (r, c) up to scale. */
    float maxlen = 0.0f;
    for (int col = 0; col < 3; col++) {
        float l2 = 0.0f;
        for (int row = 0; row < 3; row++)
            l2 += cof[row][col] * cof[row][col];
        if (l2 > maxlen)
            maxlen = l2;
    }
    float s = maxlen > 0.0f ? 1.0f / sqrtf(maxlen) : 0.0f;
    if (rr_mat4_det3(m) < 0.0f)
        s = -s; /* keep normals pointing out of a mirrored instance */
    for (int col = 0; col < 3; col++) {
        for (int row = 0; row < 3; row++)
            out[col * 4 + row] = cof[row][col] * s;
        out[col * 4 + 3] = 0.0f;
    }
}
