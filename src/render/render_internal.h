/* SPDX-License-Identifier: Apache-2.0 */
/*
 * render_internal — hooks of libopenrr_render for its benchmark and tests, not for the host.
 * Threads: the render thread, like every renderer call.
 */
#ifndef RR_RENDER_INTERNAL_H
#define RR_RENDER_INTERNAL_H

#include "render.h"

#include <stdbool.h>

/* Switch @p r to the naive baseline (or back): no culling, no sorting, no batching; every part
 * of every valid draw is its own glDrawElementsInstancedBaseVertexBaseInstance with all of its
 * state bound again, with the same shaders and buffers. Budget and stats work as usual, so
 * the two paths render the same opaque scene pixel for pixel. */
void rr_renderer_set_naive(struct rr_renderer *r, bool naive);

#endif
