/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench_stream_encode — the remote's encoder (rr_encoder_encode_rgba: RGBA → NV12 with
 * libswscale, then libx264) against the ffmpeg command line doing the same with the same
 * settings on the same raw frames. The frames are written once to a temporary file; ffmpeg
 * reads that file, the encoder reads it into memory first. Rounds alternate ffmpeg and the
 * encoder so that both see the same machine.
 * Threads: the measuring thread; ffmpeg runs as a child process.
 */
#ifndef OPENRR_BENCH_STREAM_ENCODE_H
#define OPENRR_BENCH_STREAM_ENCODE_H

#include <stdbool.h>
#include <stdint.h>

struct bench_encode_params {
    uint32_t eye_width; /* the frames are 2 × eye_width wide */
    uint32_t eye_height;
    unsigned frames; /* at least 2 */
    unsigned rounds;
};

struct bench_encode_result {
    bool have_ffmpeg;  /* false: not on PATH, nothing measured */
    char command[640]; /* the anchor's command line, for the notes */
    unsigned rounds;   /* rounds completed */
    /* Medians over the rounds; NAN when not measured. */
    double anchor_ms;  /* ffmpeg: (wall time of N frames − of 1 frame) / (N − 1) */
    double subject_ms; /* encoder: mean time of frames 2..N */
    double ratio;      /* median of the rounds' subject / anchor */
    double startup_ms; /* ffmpeg's wall time for a single frame (start-up, open, one IDR) */
    /* The same encode's output, to show both sides did the same work. */
    double anchor_bytes_per_frame;
    double subject_bytes_per_frame;
};

/* Run the comparison. false on a functional error (printed): the frames could not be written
 * or read, ffmpeg failed, the encoder failed. ffmpeg missing is not an error. */
bool bench_stream_encode(const struct bench_encode_params *p, struct bench_encode_result *out);

#endif /* OPENRR_BENCH_STREAM_ENCODE_H */
