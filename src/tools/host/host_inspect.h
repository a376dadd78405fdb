/* SPDX-License-Identifier: Apache-2.0 */
/*
 * host_inspect — the host's side of the inspector (struct rr_inspector_source): the render
 * loop publishes each frame's numbers here, the inspector's threads read them together with
 * the stream's counters and the scene tree, and its pause switch is read back by the loop.
 *
 * Threads: host_inspect_frame / _connection on the render (main) thread; the source's
 * functions on the inspector's threads; a mutex guards the published numbers.
 */
#ifndef RR_HOST_INSPECT_H
#define RR_HOST_INSPECT_H

#include "inspector.h"
#include "render.h"
#include "scene.h"

#include <openrr/stream.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

struct host_inspect {
    struct rr_inspector_source base; /* first: the inspector sees only this */
    struct rr_stream_remote *remote; /* not owned */
    struct rr_scene *scene;          /* not owned */
    atomic_bool paused;
    pthread_mutex_t lock;
    double frame_time_ms;
    double fps;
    uint64_t primitives;
    uint64_t draws;
    bool connected;
    char client[64];
    char codec[16];
    uint64_t last_frame_us;  /* when the previous frame was rendered; 0 = none yet */
    double mean_interval_us; /* moving average of the frame interval */
};

void host_inspect_init(struct host_inspect *hi, struct rr_stream_remote *remote,
                       struct rr_scene *scene);
void host_inspect_fini(struct host_inspect *hi);
/* A frame was rendered in @p frame_us (pose wait excluded) with @p stats, at @p now_us. */
void host_inspect_frame(struct host_inspect *hi, const struct rr_render_stats *stats,
                        uint64_t frame_us, uint64_t now_us);
/* A client connected (@p client its address, @p codec) or left (NULLs). */
void host_inspect_connection(struct host_inspect *hi, const char *client, const char *codec);
static inline bool host_inspect_paused(struct host_inspect *hi)
{
    return atomic_load(&hi->paused);
}

#endif
