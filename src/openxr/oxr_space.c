/* SPDX-License-Identifier: Apache-2.0 */
/*
 * oxr_space — reference and action spaces. STAGE is the player's tracking space (the poses it
 * sends, floor at y = 0); LOCAL is STAGE raised to the player's standing eye height (so the
 * player's default head pose sits at LOCAL's origin); VIEW follows the player's head at the
 * time asked. Action spaces have no pose yet: the player sends no controller poses, so they
 * are reported as not located.
 *
 * Threads: any application thread; spaces are immutable after creation.
 */
#include "oxr_api.h"

#include "oxr_math.h"

#include <stdlib.h>

static const XrReferenceSpaceType k_spaces[] = {
    XR_REFERENCE_SPACE_TYPE_VIEW, XR_REFERENCE_SPACE_TYPE_LOCAL, XR_REFERENCE_SPACE_TYPE_STAGE,
    XR_REFERENCE_SPACE_TYPE_REMOTING_USER_MSFT, /* only with the extension */
};

static XrResult check_ref_type(const struct oxr_session *s, XrReferenceSpaceType t)
{
    if (t == XR_REFERENCE_SPACE_TYPE_REMOTING_USER_MSFT) {
        return s->inst->ext.remoting ? XR_SUCCESS : XR_ERROR_VALIDATION_FAILURE;
    }
    switch (t) {
    case XR_REFERENCE_SPACE_TYPE_VIEW:
    case XR_REFERENCE_SPACE_TYPE_LOCAL:
    case XR_REFERENCE_SPACE_TYPE_STAGE:
        return XR_SUCCESS;
    case XR_REFERENCE_SPACE_TYPE_UNBOUNDED_MSFT:
    case XR_REFERENCE_SPACE_TYPE_COMBINED_EYE_VARJO:
        return XR_ERROR_REFERENCE_SPACE_UNSUPPORTED;
    default:
        return XR_ERROR_VALIDATION_FAILURE;
    }
}

bool oxr_space_in_stage(struct oxr_space *sp, XrTime time, XrPosef *out_pose)
{
    XrPosef origin = oxr_pose_identity();
    if (sp->is_action) {
        return false; /* no controller poses from the player (yet) */
    }
    /* REMOTING_USER (the extension's, outside the core enum) is the player's space: STAGE. */
    XrReferenceSpaceType type = sp->ref_type == XR_REFERENCE_SPACE_TYPE_REMOTING_USER_MSFT
                                    ? XR_REFERENCE_SPACE_TYPE_STAGE
                                    : sp->ref_type;
    switch (type) {
    case XR_REFERENCE_SPACE_TYPE_STAGE:
        break;
    case XR_REFERENCE_SPACE_TYPE_LOCAL:
        origin.position.y = OXR_LOCAL_HEIGHT;
        break;
    case XR_REFERENCE_SPACE_TYPE_VIEW: {
        XrPosef eyes[OXR_VIEW_COUNT];
        XrFovf fov[OXR_VIEW_COUNT];
        uint64_t id;
        oxr_views_at(sp->sess, time, &origin, eyes, fov, &id);
        break;
    }
    default:
        return false;
    }
    *out_pose = oxr_pose_mul(&origin, &sp->offset);
    return true;
}

static void space_destroy(struct oxr_handle *h)
{
    free(h);
}

static XrResult add_space(struct oxr_session *s, struct oxr_space *sp, XrSpace *out)
{
    sp->sess = s;
    sp->base.type = OXR_TYPE_SPACE;
    sp->base.parent = &s->base;
    sp->base.destroy = space_destroy;
    if (!oxr_handle_register(&sp->base)) {
        free(sp);
        return XR_ERROR_OUT_OF_MEMORY;
    }
    *out = OXR_TO_XR(XrSpace, &sp->base);
    return oxr_session_lost(s) ? XR_SESSION_LOSS_PENDING : XR_SUCCESS;
}

OXR_API(EnumerateReferenceSpaces,
        (XrSession session, uint32_t capacity, uint32_t *count, XrReferenceSpaceType *spaces))
{
    struct oxr_session *s = oxr_get_session(session);
    if (s == NULL) {
        return XR_ERROR_HANDLE_INVALID;
    }
    if (count == NULL || (capacity > 0 && spaces == NULL)) {
        return XR_ERROR_VALIDATION_FAILURE;
    }
    uint32_t n = s->inst->ext.remoting ? 4 : 3;
    *count = n;
    if (capacity == 0) {
        return XR_SUCCESS;
    }
    if (capacity < n) {
        return XR_ERROR_SIZE_INSUFFICIENT;
    }
    for (uint32_t i = 0; i < n; i++) {
        spaces[i] = k_spaces[i];
    }
    return XR_SUCCESS;
}

OXR_API(CreateReferenceSpace,
        (XrSession session, const XrReferenceSpaceCreateInfo *createInfo, XrSpace *space))
{
    struct oxr_session *s = oxr_get_session(session);
    if (s == NULL) {
        return XR_ERROR_HANDLE_INVALID;
    }
    if (createInfo == NULL || createInfo->type != XR_TYPE_REFERENCE_SPACE_CREATE_INFO ||
        space == NULL) {
        return XR_ERROR_VALIDATION_FAILURE;
    }
    XrResult xr = check_ref_type(s, createInfo->referenceSpaceType);
    if (xr != XR_SUCCESS) {
        return xr;
    }
    if (!oxr_pose_valid(&createInfo->poseInReferenceSpace)) {
        return XR_ERROR_POSE_INVALID;
    }
    struct oxr_space *sp = calloc(1, sizeof *sp);
    if (sp == NULL) {
        return XR_ERROR_OUT_OF_MEMORY;
    }
    sp->ref_type = createInfo->referenceSpaceType;
    sp->offset = oxr_pose_normalized(&createInfo->poseInReferenceSpace);
    return add_space(s, sp, space);
}

OXR_API(GetReferenceSpaceBoundsRect,
        (XrSession session, XrReferenceSpaceType referenceSpaceType, XrExtent2Df *bounds))
{
    struct oxr_session *s = oxr_get_session(session);
    if (s == NULL) {
        return XR_ERROR_HANDLE_INVALID;
    }
    XrResult xr = check_ref_type(s, referenceSpaceType);
    if (xr != XR_SUCCESS) {
        return xr;
    }
    if (bounds == NULL) {
        return XR_ERROR_VALIDATION_FAILURE;
    }
    /* The player does not tell its play area. */
    bounds->width = 0.0f;
    bounds->height = 0.0f;
    return XR_SPACE_BOUNDS_UNAVAILABLE;
}

OXR_API(CreateActionSpace,
        (XrSession session, const XrActionSpaceCreateInfo *createInfo, XrSpace *space))
{
    struct oxr_session *s = oxr_get_session(session);
    if (s == NULL) {
        return XR_ERROR_HANDLE_INVALID;
    }
    if (createInfo == NULL || createInfo->type != XR_TYPE_ACTION_SPACE_CREATE_INFO ||
        space == NULL) {
        return XR_ERROR_VALIDATION_FAILURE;
    }
    struct oxr_action *a = oxr_get_action(createInfo->action);
    if (a == NULL) {
        return XR_ERROR_HANDLE_INVALID;
    }
    if (a->type != XR_ACTION_TYPE_POSE_INPUT) {
        return XR_ERROR_ACTION_TYPE_MISMATCH;
    }
    if (createInfo->subactionPath != XR_NULL_PATH) {
        bool listed = false;
        for (uint32_t i = 0; i < a->subaction_count && !listed; i++) {
            listed = a->subactions[i] == createInfo->subactionPath;
        }
        if (!listed) {
            return XR_ERROR_PATH_UNSUPPORTED;
        }
    }
    if (!oxr_pose_valid(&createInfo->poseInActionSpace)) {
        return XR_ERROR_POSE_INVALID;
    }
    struct oxr_space *sp = calloc(1, sizeof *sp);
    if (sp == NULL) {
        return XR_ERROR_OUT_OF_MEMORY;
    }
    sp->is_action = true;
    sp->action_id = a->base.id;
    sp->subaction = createInfo->subactionPath;
    sp->offset = oxr_pose_normalized(&createInfo->poseInActionSpace);
    return add_space(s, sp, space);
}

OXR_API(LocateSpace, (XrSpace space, XrSpace baseSpace, XrTime time, XrSpaceLocation *location))
{
    struct oxr_space *sp = oxr_get_space(space);
    struct oxr_space *base = oxr_get_space(baseSpace);
    if (sp == NULL || base == NULL) {
        return XR_ERROR_HANDLE_INVALID;
    }
    if (location == NULL || location->type != XR_TYPE_SPACE_LOCATION) {
        return XR_ERROR_VALIDATION_FAILURE;
    }
    if (time <= 0) {
        return XR_ERROR_TIME_INVALID;
    }
    XrSpaceVelocity *velocity = NULL;
    for (XrBaseOutStructure *n = location->next; n != NULL; n = n->next) {
        if (n->type == XR_TYPE_SPACE_VELOCITY) {
            velocity = (XrSpaceVelocity *)(void *)n;
        }
    }
    XrPosef a, b;
    if (oxr_space_in_stage(sp, time, &a) && oxr_space_in_stage(base, time, &b)) {
        location->pose = oxr_pose_relative(&b, &a);
        location->locationFlags =
            XR_SPACE_LOCATION_ORIENTATION_VALID_BIT | XR_SPACE_LOCATION_POSITION_VALID_BIT |
            XR_SPACE_LOCATION_ORIENTATION_TRACKED_BIT | XR_SPACE_LOCATION_POSITION_TRACKED_BIT;
    } else {
        location->pose = oxr_pose_identity();
        location->locationFlags = 0;
    }
    if (velocity != NULL) {
        velocity->velocityFlags = 0;
        velocity->linearVelocity = (XrVector3f){0.0f, 0.0f, 0.0f};
        velocity->angularVelocity = (XrVector3f){0.0f, 0.0f, 0.0f};
    }
    return oxr_session_lost(sp->sess) ? XR_SESSION_LOSS_PENDING : XR_SUCCESS;
}

OXR_API(DestroySpace, (XrSpace space))
{
    struct oxr_space *sp = oxr_get_space(space);
    if (sp == NULL) {
        return XR_ERROR_HANDLE_INVALID;
    }
    oxr_handle_destroy(&sp->base);
    return XR_SUCCESS;
}
