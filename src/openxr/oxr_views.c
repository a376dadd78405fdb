/* SPDX-License-Identifier: Apache-2.0 */
/*
 * oxr_views — where the eyes are: the player's pose stream (rr_stream_remote_predict_pose,
 * extrapolated to the display time the application asks for, converted to the player's clock)
 * gives the head, both eye poses and both fields of view in STAGE. Before the first pose the
 * player's own defaults stand in (head at 1.6 m, 63 mm between the eyes, ±45° across).
 *
 * Threads: any application thread; the stream locks its pose history.
 */
#include "oxr_api.h"

#include "oxr_math.h"

#include <math.h>

static XrPosef from_stream(const struct rr_stream_posef *p)
{
    XrPosef r = {
        .orientation = {p->orientation[0], p->orientation[1], p->orientation[2], p->orientation[3]},
        .position = {p->position[0], p->position[1], p->position[2]},
    };
    return oxr_pose_normalized(&r);
}

static void default_views(const struct oxr_instance *inst, XrPosef *head, XrPosef eyes[2],
                          XrFovf fov[2])
{
    *head = oxr_pose_identity();
    head->position.y = OXR_LOCAL_HEIGHT;
    float aspect = (float)inst->cfg.eye_width / (float)inst->cfg.eye_height;
    float half_y = atanf(tanf(OXR_DEFAULT_HALF_FOV_X) / aspect);
    for (int i = 0; i < 2; i++) {
        eyes[i] = *head;
        eyes[i].position.x = (i == 0 ? -0.5f : 0.5f) * OXR_DEFAULT_IPD;
        fov[i] = (XrFovf){-OXR_DEFAULT_HALF_FOV_X, OXR_DEFAULT_HALF_FOV_X, half_y, -half_y};
    }
}

bool oxr_views_at(struct oxr_session *s, XrTime time, XrPosef *out_head,
                  XrPosef out_eyes[OXR_VIEW_COUNT], XrFovf out_fov[OXR_VIEW_COUNT],
                  uint64_t *out_pose_id)
{
    struct rr_stream_remote *remote = oxr_conn_stream(s->inst->conn);
    struct rr_stream_pose p;
    uint64_t player_us = rr_stream_remote_local_to_player(remote, (uint64_t)time / 1000u);
    if (!rr_stream_remote_predict_pose(remote, player_us, &p)) {
        default_views(s->inst, out_head, out_eyes, out_fov);
        *out_pose_id = 0;
        return false;
    }
    *out_head = from_stream(&p.head);
    for (int i = 0; i < 2; i++) {
        out_eyes[i] = from_stream(&p.view[i]);
        out_fov[i] = (XrFovf){p.fov[i].angle_left, p.fov[i].angle_right, p.fov[i].angle_up,
                              p.fov[i].angle_down};
    }
    *out_pose_id = p.pose_id;
    return true;
}

OXR_API(LocateViews, (XrSession session, const XrViewLocateInfo *viewLocateInfo,
                      XrViewState *viewState, uint32_t capacity, uint32_t *count, XrView *views))
{
    struct oxr_session *s = oxr_get_session(session);
    if (s == NULL) {
        return XR_ERROR_HANDLE_INVALID;
    }
    if (viewLocateInfo == NULL || viewLocateInfo->type != XR_TYPE_VIEW_LOCATE_INFO ||
        viewState == NULL || viewState->type != XR_TYPE_VIEW_STATE || count == NULL ||
        (capacity > 0 && views == NULL)) {
        return XR_ERROR_VALIDATION_FAILURE;
    }
    struct oxr_space *space = oxr_get_space(viewLocateInfo->space);
    if (space == NULL) {
        return XR_ERROR_HANDLE_INVALID;
    }
    switch (viewLocateInfo->viewConfigurationType) {
    case XR_VIEW_CONFIGURATION_TYPE_PRIMARY_STEREO:
        break;
    case XR_VIEW_CONFIGURATION_TYPE_PRIMARY_MONO:
    case XR_VIEW_CONFIGURATION_TYPE_PRIMARY_QUAD_VARJO:
    case XR_VIEW_CONFIGURATION_TYPE_SECONDARY_MONO_FIRST_PERSON_OBSERVER_MSFT:
        return XR_ERROR_VIEW_CONFIGURATION_TYPE_UNSUPPORTED;
    default:
        return XR_ERROR_VALIDATION_FAILURE;
    }
    if (viewLocateInfo->displayTime <= 0) {
        return XR_ERROR_TIME_INVALID;
    }
    *count = OXR_VIEW_COUNT;
    if (capacity == 0) {
        return XR_SUCCESS;
    }
    if (capacity < OXR_VIEW_COUNT) {
        return XR_ERROR_SIZE_INSUFFICIENT;
    }
    for (uint32_t i = 0; i < OXR_VIEW_COUNT; i++) {
        if (views[i].type != XR_TYPE_VIEW) {
            return XR_ERROR_VALIDATION_FAILURE;
        }
    }
    XrPosef head, eyes[OXR_VIEW_COUNT], base;
    XrFovf fov[OXR_VIEW_COUNT];
    uint64_t pose_id;
    bool tracked = oxr_views_at(s, viewLocateInfo->displayTime, &head, eyes, fov, &pose_id);
    bool located = oxr_space_in_stage(space, viewLocateInfo->displayTime, &base);
    viewState->viewStateFlags = 0;
    if (located) {
        viewState->viewStateFlags =
            XR_VIEW_STATE_ORIENTATION_VALID_BIT | XR_VIEW_STATE_POSITION_VALID_BIT;
        if (tracked) {
            viewState->viewStateFlags |=
                XR_VIEW_STATE_ORIENTATION_TRACKED_BIT | XR_VIEW_STATE_POSITION_TRACKED_BIT;
        }
    }
    for (uint32_t i = 0; i < OXR_VIEW_COUNT; i++) {
        views[i].pose = located ? oxr_pose_relative(&base, &eyes[i]) : oxr_pose_identity();
        views[i].fov = fov[i];
    }
    return oxr_session_lost(s) ? XR_SESSION_LOSS_PENDING : XR_SUCCESS;
}
