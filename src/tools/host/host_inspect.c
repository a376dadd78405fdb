/* SPDX-License-Identifier: Apache-2.0 */
/*
 * host_inspect — the inspector's data source (see host_inspect.h).
 *
 * Threads: as the header says.
 */
#include "host_inspect.h"

#include <stdio.h>
#include <string.h>

#define FPS_SMOOTHING 0.1 /* weight of the newest frame interval */

#define HI(self) ((struct host_inspect *)(self))

/* Milliseconds from @p a to @p b of the remote's clock, or -1 when either is unknown. */
static double stage(uint64_t a, uint64_t b)
{
    return a != 0 && b != 0 && b >= a ? (double)(b - a) / 1000.0 : -1.0;
}

static void stats(struct rr_inspector_source *self, struct rr_inspector_stats *out)
{
    struct host_inspect *hi = HI(self);
    struct rr_stream_remote_stats st;
    rr_stream_remote_stats(hi->remote, &st);
    pthread_mutex_lock(&hi->lock);
    out->frame_time_ms = hi->frame_time_ms;
    out->fps = hi->fps;
    out->primitives = hi->primitives;
    out->draws = hi->draws;
    out->client_connected = hi->connected;
    bool connected = hi->connected;
    snprintf(out->client, sizeof out->client, "%s", hi->client);
    snprintf(out->codec, sizeof out->codec, "%s", hi->codec);
    pthread_mutex_unlock(&hi->lock);
    out->paused = host_inspect_paused(hi);
    out->bitrate_kbps = st.throughput_kbps;
    if (connected) {
        const struct rr_stream_frame_timing *t = &st.last_reported;
        out->stage_ms[RR_INSPECTOR_STAGE_POSE_TO_PRESENT] =
            stage(t->pose_sampled_us, t->present_us);
        out->stage_ms[RR_INSPECTOR_STAGE_UPLINK] = stage(t->pose_sampled_us, t->pose_received_us);
        out->stage_ms[RR_INSPECTOR_STAGE_RENDER] = stage(t->render_start_us, t->render_end_us);
        out->stage_ms[RR_INSPECTOR_STAGE_ENCODE] = stage(t->encode_start_us, t->encode_end_us);
        out->stage_ms[RR_INSPECTOR_STAGE_TRANSPORT] = stage(t->send_us, t->receive_us);
        out->stage_ms[RR_INSPECTOR_STAGE_DECODE] = stage(t->receive_us, t->decode_end_us);
        out->stage_ms[RR_INSPECTOR_STAGE_PRESENT] = stage(t->decode_end_us, t->present_us);
    }
}

static char *scene_json(struct rr_inspector_source *self)
{
    return rr_scene_tree_json(HI(self)->scene, 0);
}

static void set_paused(struct rr_inspector_source *self, bool paused)
{
    atomic_store(&HI(self)->paused, paused);
}

void host_inspect_init(struct host_inspect *hi, struct rr_stream_remote *remote,
                       struct rr_scene *scene)
{
    memset(hi, 0, sizeof *hi);
    hi->base.stats = stats;
    hi->base.scene_json = scene_json;
    hi->base.set_paused = set_paused;
    hi->remote = remote;
    hi->scene = scene;
    atomic_init(&hi->paused, false);
    pthread_mutex_init(&hi->lock, NULL);
}

void host_inspect_fini(struct host_inspect *hi)
{
    pthread_mutex_destroy(&hi->lock);
}

void host_inspect_frame(struct host_inspect *hi, const struct rr_render_stats *st,
                        uint64_t frame_us, uint64_t now_us)
{
    pthread_mutex_lock(&hi->lock);
    hi->frame_time_ms = (double)frame_us / 1000.0;
    hi->primitives = st->triangles_rendered + st->points_visible;
    hi->draws = st->gl_draw_calls;
    /* A moving average of the frame interval: a rate from the first frames on, without
     * waiting for a whole window (short sessions show one too). */
    if (hi->last_frame_us != 0 && now_us > hi->last_frame_us) {
        double interval = (double)(now_us - hi->last_frame_us);
        hi->mean_interval_us =
            hi->mean_interval_us > 0
                ? hi->mean_interval_us + FPS_SMOOTHING * (interval - hi->mean_interval_us)
                : interval;
        hi->fps = 1e6 / hi->mean_interval_us;
    }
    hi->last_frame_us = now_us;
    pthread_mutex_unlock(&hi->lock);
}

void host_inspect_connection(struct host_inspect *hi, const char *client, const char *codec)
{
    pthread_mutex_lock(&hi->lock);
    hi->connected = client != NULL;
    snprintf(hi->client, sizeof hi->client, "%s", client != NULL ? client : "");
    snprintf(hi->codec, sizeof hi->codec, "%s", codec != NULL ? codec : "");
    if (client == NULL) {
        hi->fps = 0;
        hi->last_frame_us = 0;
        hi->mean_interval_us = 0;
    }
    pthread_mutex_unlock(&hi->lock);
}
