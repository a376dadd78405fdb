/* SPDX-License-Identifier: Apache-2.0 */
/*
 * scene — the description of openrr-testremote's picture (see scene.h). Everything here is a
 * few dozen multiplications per frame; the pixels are the renderers' job.
 *
 * Threads: the main thread.
 */
#include "scene.h"

#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define PI 3.14159265358979323846
/* The square crosses the eye and comes back in this time. */
#define SQUARE_PERIOD_US 4000000u
/* An eye's field of view beyond this (about 86 degrees from the centre) is not plausible. */
#define MAX_HALF_ANGLE 1.5

static const uint8_t k_sky[4] = {100, 150, 220, 255};
static const uint8_t k_sky_stripe[4] = {190, 215, 250, 255};
static const uint8_t k_ground[2][4] = {{80, 120, 60, 255}, {64, 100, 48, 255}};
static const uint8_t k_ground_stripe[4] = {40, 60, 30, 255};
/* North (straight ahead at the identity pose), east (90 degrees right), south, west. */
static const uint8_t k_compass[4][4] = {
    {220, 40, 40, 255}, {40, 190, 60, 255}, {40, 80, 230, 255}, {230, 200, 40, 255}};
static const uint8_t k_horizon_line[4] = {245, 245, 245, 255};
static const uint8_t k_square[4] = {255, 140, 0, 255};
static const uint8_t k_backdrop[4] = {20, 20, 20, 255};
static const uint8_t k_frame_digits[4] = {255, 255, 255, 255};
static const uint8_t k_pose_digits[4] = {255, 220, 0, 255};
static const float k_identity[4] = {0.0f, 0.0f, 0.0f, 1.0f};

/* 3×5 digits, one row per byte, bit 2 = left column. */
static const uint8_t k_font[10][5] = {
    {7, 5, 5, 5, 7}, {2, 6, 2, 2, 7}, {7, 1, 7, 4, 7}, {7, 1, 7, 1, 7}, {5, 5, 7, 1, 1},
    {7, 4, 7, 1, 7}, {7, 4, 7, 5, 7}, {7, 1, 1, 1, 1}, {7, 5, 7, 5, 7}, {7, 5, 7, 1, 7},
};

struct projection {
    double fx, fy; /* focal lengths in pixels */
    double cx, cy; /* principal point, pixels from the left and the top */
};

static int64_t clamp_i64(int64_t v, int64_t lo, int64_t hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

static double clamp_d(double v, double lo, double hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

static uint8_t clamp_u8(int v)
{
    return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
}

/* A warmer left eye and a cooler right one, so that a swapped or duplicated eye shows. */
static void tint(const uint8_t in[4], unsigned eye, uint8_t out[4])
{
    int shift = eye == 0 ? 16 : -16;
    out[0] = clamp_u8(in[0] + shift);
    out[1] = in[1];
    out[2] = clamp_u8(in[2] - shift);
    out[3] = 255;
}

static void darken(const uint8_t in[4], uint8_t out[4])
{
    for (int i = 0; i < 3; i++) {
        out[i] = (uint8_t)(in[i] * 3 / 5);
    }
    out[3] = 255;
}

void scene_default_pose(struct rr_stream_pose *out)
{
    memset(out, 0, sizeof *out);
    out->head.position[1] = 1.6f;
    out->head.orientation[3] = 1.0f;
    for (int i = 0; i < 2; i++) {
        out->view[i] = out->head;
        out->view[i].position[0] = i == 0 ? -0.032f : 0.032f;
        /* fov stays zero: the default projection applies */
    }
}

static float norm2(const float q[4])
{
    return q[0] * q[0] + q[1] * q[1] + q[2] * q[2] + q[3] * q[3];
}

/* A player that only sends a head pose leaves the views zeroed. */
static const float *eye_orientation(const struct rr_stream_pose *pose, unsigned eye)
{
    if (norm2(pose->view[eye].orientation) > 0.25f) {
        return pose->view[eye].orientation;
    }
    if (norm2(pose->head.orientation) > 0.25f) {
        return pose->head.orientation;
    }
    return k_identity;
}

/* Heading (turning left positive, about +Y) and elevation (looking up positive) of the view
 * direction -Z rotated by @p q, OpenXR axes. */
static void yaw_pitch(const float q[4], double *out_yaw, double *out_pitch)
{
    double n = sqrt((double)norm2(q));
    double x = q[0] / n, y = q[1] / n, z = q[2] / n, w = q[3] / n;
    double fx = -2.0 * (x * z + w * y);
    double fy = -2.0 * (y * z - w * x);
    double fz = -(1.0 - 2.0 * (x * x + y * y));
    *out_yaw = atan2(-fx, -fz);
    *out_pitch = asin(clamp_d(fy, -1.0, 1.0));
}

static bool plausible_fov(const struct rr_stream_fovf *f)
{
    return isfinite(f->angle_left) && isfinite(f->angle_right) && isfinite(f->angle_up) &&
           isfinite(f->angle_down) && f->angle_left > -MAX_HALF_ANGLE &&
           f->angle_left < f->angle_right && f->angle_right < MAX_HALF_ANGLE &&
           f->angle_down > -MAX_HALF_ANGLE && f->angle_down < f->angle_up &&
           f->angle_up < MAX_HALF_ANGLE;
}

static void eye_projection(const struct rr_stream_fovf *fov, uint32_t w, uint32_t h,
                           struct projection *out)
{
    out->fx = out->fy = w / 2.0; /* 90 degrees horizontally, square pixels */
    out->cx = w / 2.0;
    out->cy = h / 2.0;
    if (!plausible_fov(fov)) {
        return;
    }
    double tl = tan(fov->angle_left), tr = tan(fov->angle_right);
    double tu = tan(fov->angle_up), td = tan(fov->angle_down);
    /* The bounds keep a full turn between a quarter and 25 image widths: the CPU renderer
     * keeps one row of it per colour band. */
    out->fx = clamp_d(w / (tr - tl), w / 4.0, w * 4.0);
    out->fy = clamp_d(h / (tu - td), h / 4.0, h * 4.0);
    out->cx = clamp_d(-tl * out->fx, 0.0, w);
    out->cy = clamp_d(tu * out->fy, 0.0, h);
}

static void add_rect(struct scene_rect *list, unsigned *count, unsigned max, uint32_t w, uint32_t h,
                     int64_t x, int64_t y, int64_t rw, int64_t rh, const uint8_t rgba[4])
{
    int64_t x0 = clamp_i64(x, 0, w), x1 = clamp_i64(x + rw, 0, w);
    int64_t y0 = clamp_i64(y, 0, h), y1 = clamp_i64(y + rh, 0, h);
    if (x1 <= x0 || y1 <= y0 || *count >= max) {
        return;
    }
    struct scene_rect *r = &list[(*count)++];
    r->x = (int32_t)x0;
    r->y = (int32_t)y0;
    r->w = (int32_t)(x1 - x0);
    r->h = (int32_t)(y1 - y0);
    memcpy(r->rgba, rgba, 4);
}

static void add_overlay(struct scene_frame *f, unsigned eye, int64_t x, int64_t y, int64_t w,
                        int64_t h, const uint8_t rgba[4])
{
    struct scene_eye *e = &f->eye[eye];
    add_rect(e->overlay, &e->overlay_count, SCENE_MAX_OVERLAYS, f->eye_width, f->eye_height, x, y,
             w, h, rgba);
}

/* @p value in blocky digits of @p cell pixels, top left at (x, y), on a dark backdrop. */
static void add_number(struct scene_frame *f, unsigned eye, int64_t x, int64_t y, int64_t cell,
                       uint64_t value, const uint8_t rgba[4])
{
    char text[24];
    int len = snprintf(text, sizeof text, "%" PRIu64, value);
    add_overlay(f, eye, x - cell, y - cell, (int64_t)len * 4 * cell + cell, 7 * cell, k_backdrop);
    for (int i = 0; i < len; i++) {
        const uint8_t *glyph = k_font[text[i] - '0'];
        int64_t gx = x + (int64_t)i * 4 * cell;
        for (int row = 0; row < 5; row++) {
            /* One rectangle per run of lit cells keeps the count (and GL instances) small. */
            for (int col = 0; col < 3;) {
                if (!(glyph[row] & (4 >> col))) {
                    col++;
                    continue;
                }
                int end = col;
                while (end < 3 && (glyph[row] & (4 >> end))) {
                    end++;
                }
                add_overlay(f, eye, gx + col * cell, y + row * cell, (end - col) * cell, cell,
                            rgba);
                col = end;
            }
        }
    }
}

static void compute_eye(struct scene_frame *f, unsigned eye, const struct rr_stream_pose *pose)
{
    struct scene_eye *e = &f->eye[eye];
    uint32_t w = f->eye_width, h = f->eye_height;
    struct projection p;
    double yaw, pitch;
    yaw_pitch(eye_orientation(pose, eye), &yaw, &pitch);
    eye_projection(&pose->fov[eye], w, h, &p);

    e->circumference = (uint32_t)lround(2.0 * PI * p.fx);
    /* The column of the turn seen at screen x is heading·fx + (x − cx); turning left (positive
     * yaw) brings columns from the left into view, so the stripes move right. */
    double col = fmod(-yaw * p.fx - p.cx, (double)e->circumference);
    int64_t scroll = llround(col);
    while (scroll < 0) {
        scroll += e->circumference;
    }
    e->scroll = (uint32_t)(scroll % e->circumference);
    /* Looking up moves the horizon down. Far outside the image it only has to stay in range. */
    double horizon = p.cy + p.fy * tan(pitch);
    e->horizon = (int32_t)llround(clamp_d(horizon, -8.0 * h, 9.0 * h));
    e->band = h / 24 > 4 ? h / 24 : 4;
    tint(k_sky, eye, e->sky);
    tint(k_ground[0], eye, e->ground[0]);
    tint(k_ground[1], eye, e->ground[1]);
}

static void add_grid_overlays(struct scene_frame *f, unsigned eye, uint64_t time_us)
{
    uint32_t w = f->eye_width, h = f->eye_height;
    int64_t line = h / 360 > 1 ? h / 360 : 1;
    add_overlay(f, eye, 0, (int64_t)f->eye[eye].horizon - line, w, 2 * line, k_horizon_line);

    /* Head-locked, with a little crossed disparity so that it floats in front of the ring. */
    int64_t side = h / 8 > 4 ? h / 8 : 4;
    int64_t travel = (int64_t)w > side ? (int64_t)w - side : 0;
    double phase = (double)(time_us % SQUARE_PERIOD_US) / SQUARE_PERIOD_US;
    double there_and_back = phase < 0.5 ? 2.0 * phase : 2.0 - 2.0 * phase;
    int64_t disparity = w / 160 > 1 ? w / 160 : 1;
    int64_t x = llround(there_and_back * (double)travel) + (eye == 0 ? disparity : -disparity);
    add_overlay(f, eye, x, (int64_t)h * 5 / 8 - side / 2, side, side, k_square);
}

void scene_compute(enum scene_kind kind, uint32_t eye_width, uint32_t eye_height,
                   const struct rr_stream_pose *pose, uint64_t frame_number, uint64_t time_us,
                   struct scene_frame *out)
{
    int64_t cell = eye_height / 90 > 1 ? eye_height / 90 : 1;
    out->kind = kind;
    out->eye_width = eye_width;
    out->eye_height = eye_height;
    for (unsigned eye = 0; eye < 2; eye++) {
        out->eye[eye].overlay_count = 0;
        compute_eye(out, eye, pose);
        if (kind == SCENE_GRID) {
            add_grid_overlays(out, eye, time_us);
        }
        add_number(out, eye, 2 * cell, 2 * cell, cell, frame_number, k_frame_digits);
        add_number(out, eye, 2 * cell, 9 * cell, cell, pose->pose_id, k_pose_digits);
    }
}

void scene_stripe(const struct scene_frame *frame, unsigned eye, unsigned index,
                  struct scene_stripe *out)
{
    const struct scene_eye *e = &frame->eye[eye];
    uint32_t w = frame->eye_width;
    uint32_t c = e->circumference;
    bool compass = index % (SCENE_STRIPES / 4) == 0;
    uint32_t width = compass ? (w / 40 > 4 ? w / 40 : 4) : (w / 256 > 2 ? w / 256 : 2);
    uint64_t centre = (uint64_t)index * c / SCENE_STRIPES;
    width = width < c ? width : c;
    out->start = (uint32_t)((centre + c - width / 2) % c);
    out->width = width;
    if (compass) {
        memcpy(out->sky, k_compass[index / (SCENE_STRIPES / 4)], 4);
        darken(out->sky, out->ground);
    } else {
        tint(k_sky_stripe, eye, out->sky);
        tint(k_ground_stripe, eye, out->ground);
    }
}

unsigned scene_background(const struct scene_frame *frame, unsigned eye, struct scene_rect *out)
{
    const struct scene_eye *e = &frame->eye[eye];
    uint32_t w = frame->eye_width, h = frame->eye_height;
    unsigned n = 0;
    int64_t horizon = e->horizon;
    int64_t split = clamp_i64(horizon, 0, h);
    add_rect(out, &n, SCENE_MAX_BACKGROUND, w, h, 0, 0, w, split, e->sky);
    /* Band k covers rows horizon + k·band …, odd ones in the second colour. Drawn side by
     * side rather than over one ground rectangle: a software GL pays for every pixel. */
    int64_t k = horizon < 0 ? -horizon / e->band : 0;
    for (; horizon + k * e->band < (int64_t)h; k++) {
        add_rect(out, &n, SCENE_MAX_BACKGROUND, w, h, 0, horizon + k * e->band, w, e->band,
                 e->ground[k & 1]);
    }
    for (unsigned i = 0; i < SCENE_STRIPES; i++) {
        struct scene_stripe s;
        scene_stripe(frame, eye, i, &s);
        int64_t c = e->circumference;
        int64_t x = ((int64_t)s.start - e->scroll + c) % c;
        /* A stripe near the end of the turn also shows at the left edge. */
        for (int64_t pos = x; pos >= x - c; pos -= c) {
            add_rect(out, &n, SCENE_MAX_BACKGROUND, w, h, pos, 0, s.width, split, s.sky);
            add_rect(out, &n, SCENE_MAX_BACKGROUND, w, h, pos, split, s.width, h - split, s.ground);
        }
    }
    return n;
}
