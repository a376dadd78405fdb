/* SPDX-License-Identifier: Apache-2.0 */
/*
 * scene_cpu — openrr-testremote's CPU renderer: draws a scene description into RGBA memory and
 * submits it with rr_stream_remote_submit_rgba(). It has to be cheap (about a millisecond for
 * 2560×720), since the encoder, and in tests the player, share the CPU: every row is one memcpy
 * from a precomputed row of the full turn, and overlays are a few hundred rectangle fills.
 *
 * Threads: one thread creates, uses and destroys it.
 */
#ifndef TR_SCENE_CPU_H
#define TR_SCENE_CPU_H

#include "renderer.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A renderer for eyes of @p eye_width × @p eye_height. false with @p err when out of memory. */
bool scene_cpu_create(uint32_t eye_width, uint32_t eye_height, struct renderer **out, char *err,
                      size_t err_size);

#endif
