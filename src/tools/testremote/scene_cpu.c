/* SPDX-License-Identifier: Apache-2.0 */
/*
 * scene_cpu — the CPU renderer of openrr-testremote (see scene_cpu.h).
 *
 * Threads: one thread creates, uses and destroys it.
 */
#include "scene_cpu.h"

#include "noise.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum ring_row { RING_SKY, RING_GROUND_EVEN, RING_GROUND_ODD, RING_ROWS };

/* One eye's view of the full turn: a row per colour band, circumference + eye width pixels
 * long so that any eye-wide window of it is one memcpy (the tail repeats the start). */
struct ring {
    uint32_t circumference; /* 0: not built yet */
    size_t capacity;        /* pixels every row has room for */
    uint32_t *row[RING_ROWS];
};

struct scene_cpu {
    struct renderer base; /* first: the renderer pointer is the object */
    uint32_t eye_width;
    uint32_t eye_height;
    size_t stride;
    uint8_t *image; /* both eyes side by side, top row first */
    struct ring ring[2];
    struct noise noise_state;
};

static struct scene_cpu *scene_cpu_from(struct renderer *r)
{
    return (struct scene_cpu *)r;
}

static uint32_t pixel(const uint8_t rgba[4])
{
    uint32_t px;
    memcpy(&px, rgba, 4); /* memory order R, G, B, A whatever the byte order */
    return px;
}

static void fill_pixels(uint32_t *p, size_t count, uint32_t px)
{
    for (size_t i = 0; i < count; i++) {
        p[i] = px;
    }
}

static bool grow_ring(struct ring *r, size_t len)
{
    if (len <= r->capacity) {
        return true;
    }
    for (int i = 0; i < RING_ROWS; i++) {
        uint32_t *row = realloc(r->row[i], len * sizeof *row);
        if (row == NULL) {
            return false;
        }
        r->row[i] = row;
    }
    r->capacity = len;
    return true;
}

/* The turn depends only on the focal length (the colours are fixed per eye), so it is built
 * again only when a player changes its field of view. */
static bool build_ring(struct scene_cpu *s, const struct scene_frame *f, unsigned eye)
{
    const struct scene_eye *e = &f->eye[eye];
    struct ring *r = &s->ring[eye];
    uint32_t c = e->circumference;
    if (r->circumference == c) {
        return true;
    }
    r->circumference = 0;
    if (!grow_ring(r, (size_t)c + s->eye_width)) {
        return false;
    }
    fill_pixels(r->row[RING_SKY], c, pixel(e->sky));
    fill_pixels(r->row[RING_GROUND_EVEN], c, pixel(e->ground[0]));
    fill_pixels(r->row[RING_GROUND_ODD], c, pixel(e->ground[1]));
    for (unsigned i = 0; i < SCENE_STRIPES; i++) {
        struct scene_stripe st;
        scene_stripe(f, eye, i, &st);
        uint32_t sky = pixel(st.sky), ground = pixel(st.ground);
        for (uint32_t k = 0; k < st.width; k++) {
            uint32_t col = (st.start + k) % c;
            r->row[RING_SKY][col] = sky;
            r->row[RING_GROUND_EVEN][col] = ground;
            r->row[RING_GROUND_ODD][col] = ground;
        }
    }
    for (int i = 0; i < RING_ROWS; i++) {
        memcpy(r->row[i] + c, r->row[i], (size_t)s->eye_width * sizeof(uint32_t));
    }
    r->circumference = c;
    return true;
}

static void fill_rect(uint8_t *eye_origin, size_t stride, const struct scene_rect *r)
{
    uint8_t *first = eye_origin + (size_t)r->y * stride + (size_t)r->x * 4;
    uint32_t px = pixel(r->rgba);
    for (int32_t i = 0; i < r->w; i++) {
        memcpy(first + (size_t)i * 4, &px, 4);
    }
    for (int32_t row = 1; row < r->h; row++) {
        memcpy(first + (size_t)row * stride, first, (size_t)r->w * 4);
    }
}

static void draw_background(struct scene_cpu *s, const struct scene_frame *f, unsigned eye)
{
    const struct scene_eye *e = &f->eye[eye];
    const struct ring *r = &s->ring[eye];
    uint8_t *origin = s->image + (size_t)eye * s->eye_width * 4;
    size_t bytes = (size_t)s->eye_width * 4;
    const uint32_t *sky = r->row[RING_SKY] + e->scroll;
    const uint32_t *band[2] = {r->row[RING_GROUND_EVEN] + e->scroll,
                               r->row[RING_GROUND_ODD] + e->scroll};
    for (int64_t y = 0; y < (int64_t)s->eye_height; y++) {
        const uint32_t *src = y < e->horizon ? sky : band[((y - e->horizon) / e->band) & 1];
        memcpy(origin + (size_t)y * s->stride, src, bytes);
    }
}

static bool render(struct renderer *self, const struct scene_frame *frame, char *err,
                   size_t err_size)
{
    struct scene_cpu *s = scene_cpu_from(self);
    if (frame->kind == SCENE_NOISE) {
        noise_fill(&s->noise_state, s->image, s->stride * s->eye_height);
    }
    for (unsigned eye = 0; eye < 2; eye++) {
        if (frame->kind == SCENE_GRID) {
            if (!build_ring(s, frame, eye)) {
                snprintf(err, err_size, "out of memory for the scene's background rows");
                return false;
            }
            draw_background(s, frame, eye);
        }
        uint8_t *origin = s->image + (size_t)eye * s->eye_width * 4;
        for (unsigned i = 0; i < frame->eye[eye].overlay_count; i++) {
            fill_rect(origin, s->stride, &frame->eye[eye].overlay[i]);
        }
    }
    return true;
}

static enum rr_result submit(struct renderer *self, struct rr_stream_remote *remote,
                             const struct rr_stream_submit_info *info)
{
    struct scene_cpu *s = scene_cpu_from(self);
    return rr_stream_remote_submit_rgba(remote, info, s->image, s->stride);
}

static void destroy(struct renderer *self)
{
    struct scene_cpu *s = scene_cpu_from(self);
    for (int eye = 0; eye < 2; eye++) {
        for (int i = 0; i < RING_ROWS; i++) {
            free(s->ring[eye].row[i]);
        }
    }
    free(s->image);
    free(s);
}

bool scene_cpu_create(uint32_t eye_width, uint32_t eye_height, struct renderer **out, char *err,
                      size_t err_size)
{
    struct scene_cpu *s = calloc(1, sizeof *s);
    size_t stride = (size_t)eye_width * 2 * 4;
    uint8_t *image = malloc(stride * eye_height);
    if (s == NULL || image == NULL) {
        free(s);
        free(image);
        snprintf(err, err_size, "out of memory for a %ux%u image", eye_width * 2, eye_height);
        return false;
    }
    s->base.name = "cpu";
    s->base.render = render;
    s->base.submit = submit;
    s->base.destroy = destroy;
    s->eye_width = eye_width;
    s->eye_height = eye_height;
    s->stride = stride;
    s->image = image;
    noise_init(&s->noise_state, 1);
    *out = &s->base;
    return true;
}
