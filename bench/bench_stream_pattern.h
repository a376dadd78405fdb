/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench_stream_pattern — the moving stereo picture both figures encode: a textured backdrop
 * (gradients, a checkerboard, light noise) that scrolls sideways, seen by two eyes a few
 * pixels apart, with a bright square moving across it. "Rendering" a frame is row copies and
 * row fills from a texture made once, so that it costs about as much as a memcpy of the frame
 * and never dominates what the benchmark measures. The same phase gives the same picture, so
 * the streaming run and the encode comparison see the same kind of content.
 * Threads: init/fini on one thread; render on any thread, concurrently (read-only texture).
 */
#ifndef OPENRR_BENCH_STREAM_PATTERN_H
#define OPENRR_BENCH_STREAM_PATTERN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct bench_pattern {
    uint32_t eye_width;
    uint32_t eye_height;
    uint32_t tex_width; /* eye_width + the scroll period + the eyes' disparity */
    uint8_t *tex;       /* tex_width × eye_height RGBA */
};

/* Make the texture for @p eye_width × @p eye_height per eye. false when out of memory. */
bool bench_pattern_init(struct bench_pattern *p, uint32_t eye_width, uint32_t eye_height);
void bench_pattern_fini(struct bench_pattern *p);

/* Draw frame @p phase (any number; each step moves the picture) side by side into @p rgba:
 * (2 × eye_width) × eye_height pixels, rows @p stride bytes apart, left eye first. */
void bench_pattern_render(const struct bench_pattern *p, uint64_t phase, uint8_t *rgba,
                          size_t stride);

#endif /* OPENRR_BENCH_STREAM_PATTERN_H */
