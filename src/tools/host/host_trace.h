/* SPDX-License-Identifier: Apache-2.0 */
/*
 * host_trace — what openrr-host records in the inspector's timing capture (/api/trace,
 * docs/inspector.md): each frame's stages on the render thread's lane, the GPU's time and the
 * frame's trip to the player on lanes of their own, asset loads on the lane of the thread that
 * loaded. Also the one place that makes an asset URI fit to show in a log or a trace: an
 * http(s) URI loses its user info and its query (where a SAS token lives).
 *
 * Threads: host_trace_frame() on the render (main) thread, which owns struct host_trace; the
 * other functions on any thread.
 */
#ifndef RR_HOST_TRACE_H
#define RR_HOST_TRACE_H

#include "inspector.h"

#include <openrr/stream.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Lanes that are no thread: above any Linux thread id (pid_max is at most 2^22). */
#define HOST_TRACE_LANE_GPU 0x7fff0001u
#define HOST_TRACE_LANE_NETWORK 0x7fff0002u

/* Longest event name the inspector keeps (47 bytes and the terminator). */
#define HOST_TRACE_NAME_SIZE 48

/* One frame of the render loop: when each stage began (µs of rr_stream_now_us(0), the clock
 * of the inspector's trace). A stage ends where the next begins. */
struct host_trace_frame {
    uint64_t wait_start_us;   /* waiting for a pose newer than the last one */
    uint64_t view_start_us;   /* building the scene view */
    uint64_t upload_start_us; /* uploading assets new to the GPU */
    uint64_t render_start_us; /* rr_renderer_draw (the CPU's part) */
    uint64_t submit_start_us; /* rr_stream_remote_submit_gl: conversion, readback, encoding, send */
    uint64_t submit_end_us;
    bool uploaded; /* an asset was uploaded (otherwise the upload stage is not recorded) */
    double gpu_ms; /* rr_render_stats.gpu_ms: the newest finished GPU timing, < 0 = none */
};

/* The render loop's state between frames: what was recorded already. */
struct host_trace {
    struct rr_inspector *insp; /* NULL: nothing is recorded */
    uint32_t tid;              /* the render thread's */
    double last_gpu_ms;
    uint64_t last_render_start_us; /* the previous frame's draw; 0 = none yet */
    uint64_t last_render_end_us;
    uint64_t frames_encoded; /* the stream's counter after the previous frame */
    uint64_t last_send_us;   /* the newest frame the player reported */
};

/* The calling thread's kernel id (what top -H and gdb show): the lane of its events. */
uint32_t host_trace_tid(void);

/* Start recording a connection's frames into @p insp (NULL: record nothing), on the render
 * thread; @p st: the stream's stats before its first frame (what was recorded already). */
void host_trace_init(struct host_trace *t, struct rr_inspector *insp,
                     const struct rr_stream_remote_stats *st);

/* Record frame @p f: "pose wait", "scene view", "asset upload" (when f->uploaded), "render"
 * and "submit" on the render thread's lane; "encode" (colour conversion, readback and
 * encoding, as the stream measured it) inside "submit" when the frame was encoded; "render
 * gpu" on the GPU lane when a new GPU timing finished (usually the previous frame's: it is
 * placed after that frame's draw); "send" (handed to the transport → received by the player)
 * on the network lane when the player reported a new frame. @p st: the stream's stats read
 * after the submit. No allocation. */
void host_trace_frame(struct host_trace *t, const struct host_trace_frame *f,
                      const struct rr_stream_remote_stats *st);

/* @p uri as logs and traces may show it: an http(s) URI without user info and with its query
 * and fragment replaced by "?…"; anything else unchanged. Truncated to fit @p size. */
void host_uri_display(const char *uri, char *out, size_t size);

/* @p msg with every copy of @p uri in it replaced by host_uri_display(uri), and any other copy
 * of the URI's query hidden too: for error texts of loaders that quote the URI. */
void host_uri_scrub(const char *msg, const char *uri, char *out, size_t size);

/* The name of a load of @p uri in the trace: "load NAME", or "load failed NAME", NAME the
 * last path segment of the displayed URI (the host when the path is empty); at most
 * HOST_TRACE_NAME_SIZE bytes. */
void host_trace_load_name(const char *uri, bool ok, char *out, size_t size);

#endif
