/* SPDX-License-Identifier: Apache-2.0 */
/*
 * oxr_math — quaternion and pose arithmetic (see oxr_math.h).
 *
 * Threads: pure functions.
 */
#include "oxr_math.h"

#include <math.h>

XrPosef oxr_pose_identity(void)
{
    XrPosef p = {.orientation = {0.0f, 0.0f, 0.0f, 1.0f}, .position = {0.0f, 0.0f, 0.0f}};
    return p;
}

static XrQuaternionf quat_mul(XrQuaternionf a, XrQuaternionf b)
{
    XrQuaternionf r = {
        a.w * b.x + a.x * b.w + a.y * b.z - a.z * b.y,
        a.w * b.y - a.x * b.z + a.y * b.w + a.z * b.x,
        a.w * b.z + a.x * b.y - a.y * b.x + a.z * b.w,
        a.w * b.w - a.x * b.x - a.y * b.y - a.z * b.z,
    };
    return r;
}

static XrQuaternionf quat_conj(XrQuaternionf q)
{
    XrQuaternionf r = {-q.x, -q.y, -q.z, q.w};
    return r;
}

static XrVector3f quat_rotate(XrQuaternionf q, XrVector3f v)
{
    /* v' = v + 2w(u×v) + 2u×(u×v), u the vector part */
    XrVector3f u = {q.x, q.y, q.z};
    XrVector3f t = {2.0f * (u.y * v.z - u.z * v.y), 2.0f * (u.z * v.x - u.x * v.z),
                    2.0f * (u.x * v.y - u.y * v.x)};
    XrVector3f r = {
        v.x + q.w * t.x + (u.y * t.z - u.z * t.y),
        v.y + q.w * t.y + (u.z * t.x - u.x * t.z),
        v.z + q.w * t.z + (u.x * t.y - u.y * t.x),
    };
    return r;
}

XrPosef oxr_pose_mul(const XrPosef *a, const XrPosef *b)
{
    XrPosef r;
    XrVector3f p = quat_rotate(a->orientation, b->position);
    r.orientation = quat_mul(a->orientation, b->orientation);
    r.position.x = p.x + a->position.x;
    r.position.y = p.y + a->position.y;
    r.position.z = p.z + a->position.z;
    return r;
}

XrPosef oxr_pose_inverse(const XrPosef *p)
{
    XrPosef r;
    r.orientation = quat_conj(p->orientation);
    XrVector3f neg = {-p->position.x, -p->position.y, -p->position.z};
    r.position = quat_rotate(r.orientation, neg);
    return r;
}

XrPosef oxr_pose_relative(const XrPosef *base, const XrPosef *target)
{
    XrPosef inv = oxr_pose_inverse(base);
    return oxr_pose_mul(&inv, target);
}

bool oxr_pose_valid(const XrPosef *p)
{
    const float v[7] = {p->orientation.x, p->orientation.y, p->orientation.z, p->orientation.w,
                        p->position.x,    p->position.y,    p->position.z};
    for (int i = 0; i < 7; i++) {
        if (!isfinite(v[i])) {
            return false;
        }
    }
    float n = v[0] * v[0] + v[1] * v[1] + v[2] * v[2] + v[3] * v[3];
    return fabsf(n - 1.0f) <= 0.01f;
}

XrPosef oxr_pose_normalized(const XrPosef *p)
{
    XrPosef r = *p;
    XrQuaternionf q = p->orientation;
    float n = sqrtf(q.x * q.x + q.y * q.y + q.z * q.z + q.w * q.w);
    if (n > 0.0f) {
        r.orientation.x = q.x / n;
        r.orientation.y = q.y / n;
        r.orientation.z = q.z / n;
        r.orientation.w = q.w / n;
    } else {
        r.orientation = oxr_pose_identity().orientation;
    }
    return r;
}
