/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pose_source — where openrr-player's head is: standing still, circling the origin, or
 * replaying a recorded file. The player samples it once per display frame and sends the
 * result; the remote renders for it. docs/player.md describes the file format.
 *
 * Threads: create and destroy on one thread; sampling only reads and may run on any thread.
 */
#ifndef OPENRR_POSE_SOURCE_H
#define OPENRR_POSE_SOURCE_H

#include <openrr/stream.h>

#include <stddef.h>
#include <stdint.h>

/* Distance between the eyes, in metres (the adult average). */
#define POSE_SOURCE_IPD_M 0.063f
/* Height of the head above the floor for the built-in sources, in metres. */
#define POSE_SOURCE_HEAD_HEIGHT_M 1.6f
/* A pose file is read whole; these bound what a mistaken argument can make us load. */
#define POSE_SOURCE_MAX_FILE_SIZE (16u * 1024u * 1024u)
#define POSE_SOURCE_MAX_LINES 1000000u

enum pose_source_result {
    POSE_SOURCE_OK = 0,
    POSE_SOURCE_IO = 1,     /* the file could not be opened or read */
    POSE_SOURCE_FORMAT = 2, /* the file is too large or a line is malformed */
    POSE_SOURCE_NO_MEMORY = 3,
};

struct pose_source;

/* @p spec is "static", "orbit" (either case) or the path of a pose file. On failure @p err
 * says what is wrong and where ("poses.txt:12: expected 8 numbers, found 7"). */
enum pose_source_result pose_source_create(const char *spec, struct pose_source **out_source,
                                           char *err, size_t err_size);
/* Free and set *source_ptr to NULL. NULL ok. */
void pose_source_destroy(struct pose_source **source_ptr);

/* Fill the head, both views and both fields of view of @p out for @p t_us microseconds after
 * the start of the connection. @p eye_aspect is eye width / height (≤ 0: 16:9), which the
 * vertical field of view follows. pose_id, sample_time_us and predicted_display_us are left
 * as they are. */
void pose_source_sample(const struct pose_source *src, uint64_t t_us, float eye_aspect,
                        struct rr_stream_pose *out);

#endif /* OPENRR_POSE_SOURCE_H */
