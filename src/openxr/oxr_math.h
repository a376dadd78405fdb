/* SPDX-License-Identifier: Apache-2.0 */
/*
 * oxr_math — rigid transforms for space relations: poses are "child in parent" (OpenXR
 * XrPosef: rotate, then translate), composed as parent ∘ child.
 *
 * Threads: pure functions, any thread.
 */
#ifndef OXR_MATH_H
#define OXR_MATH_H

#include <openxr/openxr.h>

#include <stdbool.h>

/* The identity pose. */
XrPosef oxr_pose_identity(void);
/* @p a ∘ @p b: @p b expressed in @p a's parent. */
XrPosef oxr_pose_mul(const XrPosef *a, const XrPosef *b);
/* The inverse transform of @p p. */
XrPosef oxr_pose_inverse(const XrPosef *p);
/* Where @p target sits in @p base's frame, both given in one common frame: base⁻¹ ∘ target. */
XrPosef oxr_pose_relative(const XrPosef *base, const XrPosef *target);
/* Finite numbers and a unit quaternion (within 1 %), as the specification requires of
 * application poses (else XR_ERROR_POSE_INVALID). */
bool oxr_pose_valid(const XrPosef *p);
/* The same pose with its quaternion normalised. */
XrPosef oxr_pose_normalized(const XrPosef *p);

#endif
