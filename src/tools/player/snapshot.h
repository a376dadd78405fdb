/* SPDX-License-Identifier: Apache-2.0 */
/*
 * snapshot — PNG files of decoded frames (--snapshot DIR): the first new frame, every K-th
 * after it, and the last one. They show what a headless player received, and let tests look
 * at the pixels. Converting and compressing a PNG takes longer than a display frame, so a
 * worker thread writes them while the player goes on.
 *
 * Threads: every function on the player's thread; the worker only touches its own buffers.
 */
#ifndef OPENRR_PLAYER_SNAPSHOT_H
#define OPENRR_PLAYER_SNAPSHOT_H

#include <openrr/stream.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Create @p dir and its missing parents. Returns false with the reason in @p err. */
bool snapshot_prepare_dir(const char *dir, char *err, size_t err_size);

struct snapshot;

/* Write into @p dir (which snapshot_prepare_dir() made) the first new frame and then every
 * @p every-th (≥ 1). Starts the worker. Returns false with the reason in @p err. */
bool snapshot_create(const char *dir, uint32_t every, struct snapshot **out_snapshot, char *err,
                     size_t err_size);
/* Stop the worker (after the files it holds) and free. NULL ok. */
void snapshot_destroy(struct snapshot **snapshot_ptr);

/* A blit returned this new frame. Keeps a copy (the frame is the library's only until the next
 * blit) and hands it to the worker when it is due, waiting for the worker when it is still
 * busy with the previous one. Returns false when out of memory. */
bool snapshot_frame(struct snapshot *s, const struct rr_stream_frame *frame);

/* Write the last new frame unless it was written already, and wait for the worker to finish.
 * Returns false when any file could not be written. */
bool snapshot_finish(struct snapshot *s);

/* The first error ("cannot write DIR/frame-7.png: No space left on device"), or NULL. Once a
 * file failed no more are attempted. */
const char *snapshot_error(struct snapshot *s);

/* Files written so far. */
uint64_t snapshot_count(struct snapshot *s);

#endif /* OPENRR_PLAYER_SNAPSHOT_H */
