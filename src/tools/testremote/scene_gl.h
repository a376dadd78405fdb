/* SPDX-License-Identifier: Apache-2.0 */
/*
 * scene_gl — openrr-testremote's OpenGL renderer (--gl): an OpenGL 4.5 core context on EGL's
 * surfaceless platform (no window, no display server), the scene's rectangles drawn as one
 * instanced draw per eye into an RGBA8 texture of both eyes, handed to the stream with
 * rr_stream_remote_submit_gl() so that the GPU colour conversion path is exercised. The noise
 * scene is made on the CPU and uploaded, with the numbers drawn on top.
 *
 * Threads: the creating thread owns the context (current on it from create to destroy) and is
 * the only one that may render, submit or destroy.
 */
#ifndef TR_SCENE_GL_H
#define TR_SCENE_GL_H

#include "renderer.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Create the context and the GL objects for eyes of @p eye_width × @p eye_height. false with
 * @p err saying what is missing (no EGL surfaceless platform, no OpenGL 4.5 core, …). On
 * success *@p out_description gets "OpenGL <version>, <renderer>" (static storage until
 * destroy) for the start-up line. */
bool scene_gl_create(uint32_t eye_width, uint32_t eye_height, struct renderer **out,
                     const char **out_description, char *err, size_t err_size);

#endif
