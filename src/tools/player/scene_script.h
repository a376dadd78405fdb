/* SPDX-License-Identifier: Apache-2.0 */
/*
 * scene_script — openrr-player --scene FILE: a small script of scene API calls
 * (include/openrr/scene.h) the player makes on the host once connected, one after another —
 * load models, pick parts with a ray, move, tint, hide, cut, query, destroy. It is how the
 * demo and the tests drive a host's scene from a real client, and a ready-made client for
 * trying a host by hand. The language is in docs/player.md ("Scene scripts").
 *
 * Each line's result is printed on stderr ("openrr-player: scene 3: tint part → Success").
 * A line may say which result it expects (`expect AssetNotFound load …`); a line whose result
 * differs stops the script and marks the run failed (the player then exits 1).
 *
 * Threads: scene_script_load/free on the main thread before/after everything. A run's
 * functions on the player's session thread; the script itself runs on a thread of the run,
 * and the scene client's callbacks on the client's thread.
 */
#ifndef OPENRR_PLAYER_SCENE_SCRIPT_H
#define OPENRR_PLAYER_SCENE_SCRIPT_H

#include <openrr/remoting.h>

#include <stdbool.h>
#include <stddef.h>

/* Largest script file read, and most lines run. */
#define SCENE_SCRIPT_MAX_FILE_SIZE (1024u * 1024u)
#define SCENE_SCRIPT_MAX_LINES 4096u

struct scene_script;

/* Read and check the script at @p path (every command, its arguments and the names it uses,
 * so that a typo fails before connecting). Returns false with "FILE:LINE: why" in @p err. */
bool scene_script_load(const char *path, struct scene_script **out_script, char *err,
                       size_t err_size);
void scene_script_free(struct scene_script **script_ptr);

/* One run of a script on one connection. */
struct scene_run;

/* Create a run and its scene client on @p ctx, which must be disconnected (the client
 * attaches the scene channel). Returns false with the reason in @p err. */
bool scene_run_create(const struct scene_script *script, struct rr_context *ctx,
                      struct scene_run **out_run, char *err, size_t err_size);
/* Start the script (once connected). */
bool scene_run_start(struct scene_run *run);
/* Every line ran, or one failed, or the connection ended. */
bool scene_run_finished(struct scene_run *run);
/* A line did not give the result it expected (already reported). */
bool scene_run_failed(struct scene_run *run);
/* Stop the script (a running call completes with ConnectionLost once the connection ends),
 * destroy the client, free. Call after the connection ended or was closed. NULL ok. */
void scene_run_destroy(struct scene_run **run_ptr);

#endif /* OPENRR_PLAYER_SCENE_SCRIPT_H */
