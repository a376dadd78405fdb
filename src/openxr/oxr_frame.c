/* SPDX-License-Identifier: Apache-2.0 */
/*
 * oxr_frame — the frame loop. xrWaitFrame is paced by the player: it returns when a pose newer
 * than the last frame's arrives (the player sends one per displayed frame, at its display
 * rate), with the pose's predicted display time converted to this process's clock; without a
 * player (not connected, or poses stopped) it paces itself at the configured rate. xrEndFrame
 * validates the layers, copies the first projection layer's two views side by side
 * (oxr_compose) and submits them to the stream tagged with the pose the frame was predicted
 * for, so the player can measure pose-to-photon latency.
 *
 * Threads: the application's frame threads (xrWaitFrame may run on another thread than
 * xrBeginFrame/xrEndFrame, as the specification allows); f->lock guards the bookkeeping and
 * is not held while waiting for poses or encoding.
 */
#include "oxr_api.h"

#include "oxr_log.h"
#include "oxr_math.h"
#include "u_log.h"
#include "u_time.h"

#include <string.h>
#include <time.h>

/* The measured player period is trusted between these (240 Hz … 1 Hz). */
#define MIN_PERIOD_NS 4000000
#define MAX_PERIOD_NS 1000000000

static void sleep_until_ns(uint64_t t)
{
    struct timespec ts = {(time_t)(t / 1000000000u), (long)(t % 1000000000u)};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) != 0) {
    }
}

/* A period estimate from consecutive poses' sample times (player clock). */
static void learn_period(struct oxr_frame *f, const struct rr_stream_pose *p)
{
    if (f->last_pose_id != 0 && p->pose_id == f->last_pose_id + 1 &&
        p->sample_time_us > f->last_pose_sample_us) {
        int64_t dt = (int64_t)(p->sample_time_us - f->last_pose_sample_us) * 1000;
        if (dt >= MIN_PERIOD_NS && dt <= MAX_PERIOD_NS) {
            f->period = (f->period * 7 + dt) / 8; /* smooth out scheduling jitter */
        }
    }
    f->last_pose_sample_us = p->sample_time_us;
}

/* Block until the next frame should start; its predicted display time and pose id. */
static void pace(struct oxr_session *s, XrTime *out_display, uint64_t *out_pose_id)
{
    struct oxr_frame *f = &s->frame;
    struct rr_stream_remote *remote = oxr_conn_stream(s->inst->conn);
    pthread_mutex_lock(&f->lock);
    uint64_t after = f->last_pose_id;
    XrDuration period = f->period;
    pthread_mutex_unlock(&f->lock);

    *out_pose_id = 0;
    if (oxr_conn_state(s->inst->conn, NULL) == RR_STATE_CONNECTED) {
        struct rr_stream_pose p;
        int timeout_ms = (int)(period * 3 / 2 / 1000000) + 1;
        if (rr_stream_remote_wait_pose(remote, after, timeout_ms, &p)) {
            uint64_t local = rr_stream_remote_player_to_local(remote, p.predicted_display_us);
            XrTime now = oxr_now();
            *out_display = (XrTime)local * 1000;
            if (*out_display <= now) {
                *out_display = now + period;
            }
            *out_pose_id = p.pose_id;
            pthread_mutex_lock(&f->lock);
            learn_period(f, &p);
            f->last_pose_id = p.pose_id;
            f->next_tick_ns = (uint64_t)now + (uint64_t)f->period;
            pthread_mutex_unlock(&f->lock);
            return;
        }
        /* Waited a frame and a half for the player: go on by our own clock from now. */
        *out_display = oxr_now() + period;
        return;
    }
    /* No player: our own clock, on an absolute schedule that restarts after a stall. */
    uint64_t now = (uint64_t)oxr_now();
    pthread_mutex_lock(&f->lock);
    uint64_t tick = f->next_tick_ns;
    if (tick < now || tick > now + 2 * (uint64_t)period) {
        tick = now;
    }
    f->next_tick_ns = tick + (uint64_t)period;
    pthread_mutex_unlock(&f->lock);
    sleep_until_ns(tick);
    *out_display = (XrTime)tick + period;
}

static bool running(struct oxr_session *s, bool *out_lost)
{
    pthread_mutex_lock(&s->lock);
    bool r = s->running;
    *out_lost = s->state == XR_SESSION_STATE_LOSS_PENDING;
    pthread_mutex_unlock(&s->lock);
    return r;
}

OXR_API(WaitFrame,
        (XrSession session, const XrFrameWaitInfo *frameWaitInfo, XrFrameState *frameState))
{
    struct oxr_session *s = oxr_get_session(session);
    if (s == NULL) {
        return XR_ERROR_HANDLE_INVALID;
    }
    if ((frameWaitInfo != NULL && frameWaitInfo->type != XR_TYPE_FRAME_WAIT_INFO) ||
        frameState == NULL || frameState->type != XR_TYPE_FRAME_STATE) {
        return XR_ERROR_VALIDATION_FAILURE;
    }
    bool lost;
    if (!running(s, &lost)) {
        return XR_ERROR_SESSION_NOT_RUNNING;
    }
    struct oxr_frame *f = &s->frame;
    /* A frame waited for but not begun holds back the next wait (specification). */
    pthread_mutex_lock(&f->lock);
    while (f->waited) {
        pthread_cond_wait(&f->cond, &f->lock);
    }
    pthread_mutex_unlock(&f->lock);

    oxr_instance_update(s->inst);
    XrTime display;
    uint64_t pose_id;
    pace(s, &display, &pose_id);

    pthread_mutex_lock(&f->lock);
    if (display <= f->last_display) {
        display = f->last_display + 1; /* strictly increasing, whatever the clocks did */
    }
    f->last_display = display;
    f->slots[f->slot_next] = (struct oxr_frame_slot){display, pose_id};
    f->slot_next = (f->slot_next + 1) % OXR_FRAME_SLOTS;
    f->waited = true;
    XrDuration period = f->period;
    pthread_mutex_unlock(&f->lock);

    pthread_mutex_lock(&s->lock);
    if (!s->synchronized_once && s->state == XR_SESSION_STATE_READY) {
        /* The loop now runs at the player's pace and the player shows it: straight to focus
         * (the stream has no other application competing for the display). */
        s->synchronized_once = true;
        oxr_session_set_state_locked(s, XR_SESSION_STATE_SYNCHRONIZED);
        oxr_session_set_state_locked(s, XR_SESSION_STATE_VISIBLE);
        oxr_session_set_state_locked(s, XR_SESSION_STATE_FOCUSED);
    }
    bool visible = s->state == XR_SESSION_STATE_VISIBLE || s->state == XR_SESSION_STATE_FOCUSED;
    lost = s->state == XR_SESSION_STATE_LOSS_PENDING;
    pthread_mutex_unlock(&s->lock);

    frameState->predictedDisplayTime = display;
    frameState->predictedDisplayPeriod = period;
    frameState->shouldRender = visible ? XR_TRUE : XR_FALSE;
    return lost ? XR_SESSION_LOSS_PENDING : XR_SUCCESS;
}

OXR_API(BeginFrame, (XrSession session, const XrFrameBeginInfo *frameBeginInfo))
{
    struct oxr_session *s = oxr_get_session(session);
    if (s == NULL) {
        return XR_ERROR_HANDLE_INVALID;
    }
    if (frameBeginInfo != NULL && frameBeginInfo->type != XR_TYPE_FRAME_BEGIN_INFO) {
        return XR_ERROR_VALIDATION_FAILURE;
    }
    bool lost;
    if (!running(s, &lost)) {
        return XR_ERROR_SESSION_NOT_RUNNING;
    }
    struct oxr_frame *f = &s->frame;
    XrResult xr = XR_SUCCESS;
    pthread_mutex_lock(&f->lock);
    if (!f->waited) {
        xr = XR_ERROR_CALL_ORDER_INVALID;
    } else {
        /* A frame begun and never ended is dropped by beginning the next. */
        xr = f->begun ? XR_FRAME_DISCARDED : XR_SUCCESS;
        f->begun = true;
        f->waited = false;
        f->begin_us = u_time_us();
        pthread_cond_broadcast(&f->cond);
    }
    pthread_mutex_unlock(&f->lock);
    if (xr == XR_SUCCESS && lost) {
        xr = XR_SESSION_LOSS_PENDING;
    }
    return xr;
}

/* ---- layers
 * ---------------------------------------------------------------------------------------- */

static XrResult check_rect(const struct oxr_swapchain *sc, const XrSwapchainSubImage *sub)
{
    const XrRect2Di *r = &sub->imageRect;
    if (r->offset.x < 0 || r->offset.y < 0 || r->extent.width <= 0 || r->extent.height <= 0 ||
        (uint64_t)r->offset.x + (uint64_t)r->extent.width > sc->width ||
        (uint64_t)r->offset.y + (uint64_t)r->extent.height > sc->height) {
        return XR_ERROR_SWAPCHAIN_RECT_INVALID;
    }
    if (sub->imageArrayIndex >= sc->array_size) {
        return XR_ERROR_VALIDATION_FAILURE;
    }
    return XR_SUCCESS;
}

/* A swapchain image a layer names: released at least once, a valid rectangle. */
static XrResult check_sub_image(const XrSwapchainSubImage *sub, struct oxr_swapchain **out)
{
    struct oxr_swapchain *sc = oxr_get_swapchain(sub->swapchain);
    if (sc == NULL) {
        return XR_ERROR_HANDLE_INVALID;
    }
    if (sc->released < 0) {
        return XR_ERROR_LAYER_INVALID;
    }
    *out = sc;
    return check_rect(sc, sub);
}

static XrResult check_projection(const XrCompositionLayerProjection *p)
{
    if (oxr_get_space(p->space) == NULL) {
        return XR_ERROR_HANDLE_INVALID;
    }
    if (p->viewCount != OXR_VIEW_COUNT || p->views == NULL) {
        return XR_ERROR_VALIDATION_FAILURE;
    }
    for (uint32_t i = 0; i < p->viewCount; i++) {
        const XrCompositionLayerProjectionView *v = &p->views[i];
        struct oxr_swapchain *sc;
        if (v->type != XR_TYPE_COMPOSITION_LAYER_PROJECTION_VIEW) {
            return XR_ERROR_VALIDATION_FAILURE;
        }
        XrResult xr = check_sub_image(&v->subImage, &sc);
        if (xr != XR_SUCCESS) {
            return xr;
        }
        if (sc->layout != VK_IMAGE_LAYOUT_COLOR_ATTACHMENT_OPTIMAL) {
            return XR_ERROR_LAYER_INVALID; /* a depth swapchain as a colour view */
        }
        if (!oxr_pose_valid(&v->pose)) {
            return XR_ERROR_POSE_INVALID;
        }
    }
    return XR_SUCCESS;
}

static XrResult check_quad(const XrCompositionLayerQuad *q)
{
    struct oxr_swapchain *sc;
    if (oxr_get_space(q->space) == NULL) {
        return XR_ERROR_HANDLE_INVALID;
    }
    XrResult xr = check_sub_image(&q->subImage, &sc);
    if (xr != XR_SUCCESS) {
        return xr;
    }
    return oxr_pose_valid(&q->pose) ? XR_SUCCESS : XR_ERROR_POSE_INVALID;
}

static XrResult check_end_info(const XrFrameEndInfo *e,
                               const XrCompositionLayerProjection **out_proj)
{
    *out_proj = NULL;
    if (e->displayTime <= 0) {
        return XR_ERROR_TIME_INVALID;
    }
    switch (e->environmentBlendMode) {
    case XR_ENVIRONMENT_BLEND_MODE_OPAQUE:
        break;
    case XR_ENVIRONMENT_BLEND_MODE_ADDITIVE:
    case XR_ENVIRONMENT_BLEND_MODE_ALPHA_BLEND:
        return XR_ERROR_ENVIRONMENT_BLEND_MODE_UNSUPPORTED;
    default:
        return XR_ERROR_VALIDATION_FAILURE;
    }
    if (e->layerCount > OXR_MAX_LAYERS) {
        return XR_ERROR_LAYER_LIMIT_EXCEEDED;
    }
    if (e->layerCount > 0 && e->layers == NULL) {
        return XR_ERROR_VALIDATION_FAILURE;
    }
    for (uint32_t i = 0; i < e->layerCount; i++) {
        const XrCompositionLayerBaseHeader *l = e->layers[i];
        XrResult xr;
        if (l == NULL) {
            return XR_ERROR_LAYER_INVALID;
        }
        switch (l->type) {
        case XR_TYPE_COMPOSITION_LAYER_PROJECTION:
            xr = check_projection((const XrCompositionLayerProjection *)(const void *)l);
            if (xr == XR_SUCCESS && *out_proj == NULL) {
                *out_proj = (const XrCompositionLayerProjection *)(const void *)l;
            }
            break;
        case XR_TYPE_COMPOSITION_LAYER_QUAD:
            /* Accepted, not streamed yet: only the first projection layer is. */
            xr = check_quad((const XrCompositionLayerQuad *)(const void *)l);
            break;
        default:
            xr = XR_ERROR_LAYER_INVALID;
            break;
        }
        if (xr != XR_SUCCESS) {
            return xr;
        }
    }
    return XR_SUCCESS;
}

/* The pose xrWaitFrame predicted @p display for; 0 when the application used another time. */
static uint64_t pose_for(struct oxr_frame *f, XrTime display)
{
    uint64_t id = 0;
    pthread_mutex_lock(&f->lock);
    for (uint32_t i = 0; i < OXR_FRAME_SLOTS; i++) {
        if (f->slots[i].display_time == display) {
            id = f->slots[i].pose_id;
        }
    }
    pthread_mutex_unlock(&f->lock);
    return id;
}

/* Copy the projection layer's views and submit them; the stats get this frame's times. */
static void stream_layer(struct oxr_session *s, const XrCompositionLayerProjection *proj,
                         XrTime display, uint64_t end_start_us)
{
    struct oxr_conn *conn = s->inst->conn;
    if (s->stats != NULL) {
        s->stats->frames++;
    }
    if (oxr_conn_state(conn, NULL) != RR_STATE_CONNECTED) {
        if (s->stats != NULL) {
            s->stats->skipped++;
        }
        return;
    }
    struct oxr_compose_view views[OXR_VIEW_COUNT];
    for (int i = 0; i < OXR_VIEW_COUNT; i++) {
        const XrSwapchainSubImage *sub = &proj->views[i].subImage;
        struct oxr_swapchain *sc = oxr_get_swapchain(sub->swapchain);
        views[i] = (struct oxr_compose_view){
            .image = sc->images[sc->released],
            .format = sc->format,
            .layout = sc->layout,
            .array_index = sub->imageArrayIndex,
            .offset = {sub->imageRect.offset.x, sub->imageRect.offset.y},
            .extent = {(uint32_t)sub->imageRect.extent.width,
                       (uint32_t)sub->imageRect.extent.height},
        };
    }
    const uint8_t *rgba = NULL;
    size_t stride = 0;
    uint64_t wait_us = 0;
    VkResult vr = oxr_compose_views(&s->compose, &s->vk, views, &rgba, &stride, &wait_us);
    if (vr != VK_SUCCESS) {
        if (!s->warned_compose) {
            s->warned_compose = true;
            oxr_say("cannot read the frame back from the GPU (VkResult %d): frames are not "
                    "streamed",
                    (int)vr);
        }
        return;
    }
    uint64_t submit_start = u_time_us();
    struct rr_stream_submit_info info = {
        .pose_id = pose_for(&s->frame, display),
        .render_start_us = s->frame.begin_us,
        .render_end_us = end_start_us,
    };
    enum rr_result r = rr_stream_remote_submit_rgba(oxr_conn_stream(conn), &info, rgba, stride);
    uint64_t submit_end = u_time_us();
    if (r != RR_OK && r != RR_ERROR_NOT_CONNECTED && !s->warned_compose) {
        s->warned_compose = true;
        oxr_say("the stream refused a frame: %s (the log says why)", rr_result_str(r));
    }
    if (s->stats != NULL && r == RR_OK) {
        s->stats->streamed++;
        oxr_stats_record(s->stats, submit_end - end_start_us, wait_us, submit_end - submit_start);
    }
}

OXR_API(EndFrame, (XrSession session, const XrFrameEndInfo *frameEndInfo))
{
    uint64_t start_us = u_time_us();
    struct oxr_session *s = oxr_get_session(session);
    if (s == NULL) {
        return XR_ERROR_HANDLE_INVALID;
    }
    if (frameEndInfo == NULL || frameEndInfo->type != XR_TYPE_FRAME_END_INFO) {
        return XR_ERROR_VALIDATION_FAILURE;
    }
    bool lost;
    if (!running(s, &lost)) {
        return XR_ERROR_SESSION_NOT_RUNNING;
    }
    struct oxr_frame *f = &s->frame;
    pthread_mutex_lock(&f->lock);
    bool begun = f->begun;
    pthread_mutex_unlock(&f->lock);
    if (!begun) {
        return XR_ERROR_CALL_ORDER_INVALID;
    }
    const XrCompositionLayerProjection *proj = NULL;
    XrResult xr = check_end_info(frameEndInfo, &proj);
    if (xr != XR_SUCCESS) {
        return xr; /* the frame stays begun: the application may end it properly */
    }
    if (proj != NULL && !lost) {
        stream_layer(s, proj, frameEndInfo->displayTime, start_us);
    }
    pthread_mutex_lock(&f->lock);
    f->begun = false;
    pthread_mutex_unlock(&f->lock);
    return lost ? XR_SESSION_LOSS_PENDING : XR_SUCCESS;
}
