/* SPDX-License-Identifier: Apache-2.0 */
/*
 * scene — what openrr-testremote draws, independent of how it is drawn. For a pose it works out,
 * per eye, where the horizon lies (pitch) and which part of a ring of stripes around the viewer
 * is in view (yaw), plus overlay rectangles: the horizon line, a square moving with time and the
 * frame and pose numbers as blocky digits. scene_cpu and scene_gl draw the same description, so
 * both paths show the same picture and a player can check one against the other.
 *
 * Coordinates are pixels of one eye, x to the right, y down from the top row. Every rectangle
 * handed out is already clipped to the eye. Roll is ignored: the picture only has to move
 * visibly with the head, not be a correct projection.
 *
 * Threads: plain functions on caller-owned data; openrr-testremote calls them on its main thread.
 */
#ifndef TR_SCENE_H
#define TR_SCENE_H

#include <openrr/stream.h>

#include <stdint.h>

enum scene_kind {
    SCENE_GRID = 0,  /* sky, ground, stripes, square, numbers */
    SCENE_NOISE = 1, /* random pixels every frame (the numbers on top) */
};

/* Overlays of one eye: two numbers of at most 20 digits (5 rows, at most 2 runs per row) with a
 * backdrop each, the horizon line and the square. */
#define SCENE_MAX_OVERLAYS 512
/* Background of one eye for renderers that draw it as rectangles: sky, the ground bands (at most
 * 26: a band is at least 1/24 of the height) and the stripes in view (each split at the
 * horizon, a wrapped one drawn twice). */
#define SCENE_MAX_BACKGROUND 256
/* Stripes around the viewer: one every 10 degrees, the four at the compass points wide and
 * coloured. */
#define SCENE_STRIPES 36u

struct scene_rect {
    int32_t x, y, w, h;
    uint8_t rgba[4];
};

/* One stripe of the ring, in columns of the full turn (it may run past the end and wrap). */
struct scene_stripe {
    uint32_t start;
    uint32_t width;
    uint8_t sky[4];    /* colour above the horizon */
    uint8_t ground[4]; /* and below */
};

struct scene_eye {
    uint32_t circumference; /* pixels of a full turn at this eye's focal length */
    uint32_t scroll;        /* column of the turn at the eye's left edge */
    int32_t horizon;        /* first ground row; may lie above or below the image */
    uint32_t band;          /* height of the alternating ground bands */
    uint8_t sky[4];         /* this eye's tinted colours */
    uint8_t ground[2][4];   /* even and odd bands below the horizon */
    unsigned overlay_count;
    struct scene_rect overlay[SCENE_MAX_OVERLAYS];
};

struct scene_frame {
    enum scene_kind kind;
    uint32_t eye_width;
    uint32_t eye_height;
    struct scene_eye eye[2]; /* left, right */
};

/* The pose drawn before the player's first one arrives: looking ahead at eye height, 90 degree
 * horizontal field of view, pose_id 0. */
void scene_default_pose(struct rr_stream_pose *out);

/* Describe frame @p frame_number for @p pose at @p time_us since the stream started. Uses each
 * eye's view pose where it is set (a non-zero quaternion), else the head pose, and the eye's
 * field of view where it is plausible, else 90 degrees horizontally. */
void scene_compute(enum scene_kind kind, uint32_t eye_width, uint32_t eye_height,
                   const struct rr_stream_pose *pose, uint64_t frame_number, uint64_t time_us,
                   struct scene_frame *out);

/* Stripe @p index (< SCENE_STRIPES) of eye @p eye's ring. */
void scene_stripe(const struct scene_frame *frame, unsigned eye, unsigned index,
                  struct scene_stripe *out);

/* The background of eye @p eye as rectangles in drawing order (each covers the ones before);
 * returns how many were written to @p out (at most SCENE_MAX_BACKGROUND). */
unsigned scene_background(const struct scene_frame *frame, unsigned eye, struct scene_rect *out);

#endif
