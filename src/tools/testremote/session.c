/* SPDX-License-Identifier: Apache-2.0 */
/*
 * session — one connection of openrr-testremote (see session.h).
 *
 * Threads: the main thread. Events are polled (no event callback), so all state here is the
 * main thread's.
 */
#include "session.h"

#include "output.h"
#include "pacing.h"
#include "scene.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* rr_context_disconnect() flushes for at most a second; leave room for the close itself. */
#define DISCONNECT_WAIT_US 3000000u
/* While not ticking, look at the events this often (and at the stop flag). */
#define IDLE_POLL_MS 50
#define LIVE_INTERVAL_US 250000u /* the live line changes at most 4 times a second */
/* Falling this far behind is a stall worth a line, not just a slow frame. */
#define STALL_REPORT_NS 250000000u

struct session {
    const struct app *a;
    /* the connection */
    bool connected;
    bool ended;             /* the Disconnected event arrived */
    bool stopping;          /* we asked for the disconnect */
    bool lost;              /* a submit found the connection gone; its Disconnected event is due */
    bool failed;            /* an error of ours (render, submit, poll): exit 1 */
    uint64_t wait_until_us; /* give up waiting for Disconnected after this (stopping or lost) */
    enum rr_disconnect_reason reason;
    char detail[192];
    uint16_t port;
    uint16_t transport_port;
    /* the stream, all times rr_stream_now_us() */
    bool streaming;
    bool announced_pose;
    uint64_t last_pose_id; /* the pose the last frame was rendered for */
    bool pose_driven;      /* frames follow the player's poses (else the pacer's ticks) */
    bool announced_encoder;
    struct pacer pacer;
    uint64_t start_us; /* connected */
    uint64_t first_tick_us;
    uint64_t last_tick_us;
    uint64_t stream_end_us; /* stopped ticking */
    uint64_t frames;        /* submitted */
    uint64_t renders;
    uint64_t render_us_total;
    uint64_t encode_us_total;
    uint64_t encode_samples;
    struct rr_stream_remote_stats base; /* counters when the connection started */
    struct rr_stream_remote_stats last;
    /* the live line */
    uint64_t live_at_us;
    uint64_t live_frames;
    uint64_t live_bytes;
    struct scene_frame frame; /* large: kept here rather than on the stack */
};

static uint64_t now_us(const struct session *s)
{
    return rr_stream_now_us(s->a->opt->clock_skew_us);
}

/* ---- events -------------------------------------------------------------------------------- */

static void on_connected(struct session *s)
{
    const struct options *o = s->a->opt;
    struct rr_connection_info info;
    s->connected = true;
    if (rr_context_connection_info(s->a->ctx, &info) == RR_OK) {
        out_say("connected to %s (%s), codec %s", info.peer_address,
                info.secure ? info.tls_version : "plain text", info.codec);
    } else {
        out_say("connected");
    }
    out_say("streaming %ux%u per eye at %u fps: %s scene, %s rendering, bitrate cap %u kbps%s",
            o->eye_width, o->eye_height, o->fps, o->scene == SCENE_NOISE ? "noise" : "grid",
            o->gl ? "OpenGL" : "CPU", o->max_bitrate_kbps, o->fixed_bitrate ? " (fixed)" : "");
}

static void on_disconnected(struct session *s, const struct rr_event *ev)
{
    char why[256];
    s->ended = true;
    s->reason = ev->reason;
    snprintf(s->detail, sizeof s->detail, "%.*s", (int)sizeof ev->detail - 1, ev->detail);
    out_say("disconnected: %s", tool_conn_describe(ev->reason, s->detail, why, sizeof why));
}

static void handle_event(struct session *s, const struct rr_event *ev)
{
    char why[256];
    struct rr_data_channel *ch = ev->channel;
    switch (ev->type) {
    case RR_EVENT_LISTENING:
        s->port = ev->port;
        s->transport_port = ev->transport_port;
        out_say("listening on port %u (transport %u)", ev->port, ev->transport_port);
        break;
    case RR_EVENT_CONNECTED:
        on_connected(s);
        break;
    case RR_EVENT_DISCONNECTED:
        on_disconnected(s, ev);
        break;
    case RR_EVENT_ATTEMPT_FAILED:
        out_say("attempt failed: %s", tool_conn_describe(ev->reason, ev->detail, why, sizeof why));
        break;
    case RR_EVENT_DATA_CHANNEL_CLOSED:
        /* Not ours to use, but the context keeps closed channels until they are destroyed. */
        rr_data_channel_destroy(&ch);
        break;
    default:
        break; /* data channels a player may open carry nothing for a test remote */
    }
}

/* Handle what is pending, waiting up to @p timeout_ms for the first event. */
static void poll_events(struct session *s, int timeout_ms)
{
    while (!s->ended) {
        struct rr_event ev;
        memset(&ev, 0, sizeof ev);
        enum rr_result r = rr_context_poll_event(s->a->ctx, &ev, timeout_ms);
        if (r == RR_ERROR_NO_EVENT) {
            return;
        }
        if (r != RR_OK) {
            out_error("rr_context_poll_event failed: %s", rr_result_str(r));
            s->failed = true;
            s->ended = true;
            return;
        }
        handle_event(s, &ev);
        rr_event_release(&ev);
        timeout_ms = 0;
    }
}

static void stop_streaming(struct session *s)
{
    if (s->streaming) {
        s->streaming = false;
        s->stream_end_us = now_us(s);
    }
}

static void request_stop(struct session *s)
{
    if (s->stopping) {
        return;
    }
    stop_streaming(s);
    s->stopping = true;
    s->wait_until_us = now_us(s) + DISCONNECT_WAIT_US;
    enum rr_result r = rr_context_disconnect(s->a->ctx);
    if (r != RR_OK) {
        out_error("disconnect failed: %s", rr_result_str(r));
    }
}

/* ---- frames ------------------------------------------------------------------------------- */

static void note_encode(struct session *s)
{
    struct rr_stream_remote_stats st;
    rr_stream_remote_stats(s->a->remote, &st);
    /* The encode happens inside submit, so a new frame's time is there now. */
    if (st.frames_encoded > s->last.frames_encoded) {
        s->encode_us_total += st.last_encode_us;
        s->encode_samples++;
    }
    if (!s->announced_encoder && st.encoder[0] != '\0') {
        s->announced_encoder = true;
        out_say("encoder %s, codec %s", st.encoder, st.codec);
    }
    s->last = st;
}

static void tick(struct session *s)
{
    const struct app *a = s->a;
    const struct options *o = a->opt;
    struct rr_stream_pose pose;
    char err[256];
    if (!rr_stream_remote_latest_pose(a->remote, &pose)) {
        scene_default_pose(&pose); /* pose_id 0: rendered for no pose of the player's */
    } else if (!s->announced_pose) {
        s->announced_pose = true;
        out_say("first pose received (id %" PRIu64 ")", pose.pose_id);
    }
    uint64_t start = now_us(s);
    if (s->renders == 0) {
        s->first_tick_us = start;
    }
    s->last_tick_us = start;
    uint64_t number = s->frames + 1;
    scene_compute(o->scene, o->eye_width, o->eye_height, &pose, number, start - s->start_us,
                  &s->frame);
    if (!renderer_render(a->renderer, &s->frame, err, sizeof err)) {
        out_error("rendering frame %" PRIu64 " failed: %s", number, err);
        s->failed = true;
        request_stop(s);
        return;
    }
    uint64_t end = now_us(s);
    s->renders++;
    s->render_us_total += end - start;
    s->last_pose_id = pose.pose_id;
    struct rr_stream_submit_info info = {
        .pose_id = pose.pose_id, .render_start_us = start, .render_end_us = end};
    enum rr_result r = renderer_submit(a->renderer, a->remote, &info);
    if (r == RR_ERROR_NOT_CONNECTED) {
        /* The connection ended since the last look at the events; its Disconnected event
         * says why and decides the exit status. */
        stop_streaming(s);
        s->lost = true;
        s->wait_until_us = now_us(s) + DISCONNECT_WAIT_US;
        return;
    }
    if (r != RR_OK) {
        out_error("submitting frame %" PRIu64 " failed: %s (the log above says why)", number,
                  rr_result_str(r));
        s->failed = true;
        request_stop(s);
        return;
    }
    s->frames++;
    note_encode(s);
}

static void show_live(struct session *s)
{
    uint64_t now = now_us(s);
    if (!out_live_enabled() || now - s->live_at_us < LIVE_INTERVAL_US) {
        return;
    }
    double secs = (double)(now - s->live_at_us) / 1e6;
    const struct rr_stream_remote_stats *st = &s->last;
    out_live("%5.1f fps  encode %5.1f ms  %6.0f kbps (target %" PRIu32 ")  skipped %" PRIu64
             "  keyframes %" PRIu64,
             (double)(s->frames - s->live_frames) / secs, (double)st->last_encode_us / 1000.0,
             (double)(st->video_bytes - s->live_bytes) * 8.0 / secs / 1000.0, st->bitrate_kbps,
             st->frames_skipped - s->base.frames_skipped, st->keyframes - s->base.keyframes);
    s->live_at_us = now;
    s->live_frames = s->frames;
    s->live_bytes = st->video_bytes;
}

static bool time_to_stop(const struct session *s)
{
    const struct options *o = s->a->opt;
    return *s->a->stop || (o->frames != 0 && s->frames >= o->frames) ||
           (o->duration_us != 0 && now_us(s) - s->start_us >= o->duration_us);
}

/* Wait up to 1.5 frame periods for a pose newer than the last one rendered. Until the first
 * pose, and when poses stop (a stalled player), frames follow the pacer instead. */
static bool next_pose(struct session *s)
{
    struct rr_stream_pose pose;
    uint32_t period_ms = 1000u / s->a->opt->fps;
    if (s->last_pose_id != 0 && rr_stream_remote_wait_pose(s->a->remote, s->last_pose_id,
                                                           (int)(period_ms * 3 / 2 + 1), &pose)) {
        s->pose_driven = true;
        return true;
    }
    if (s->pose_driven) {
        s->pose_driven = false;
        pacer_start(&s->pacer, s->a->opt->fps); /* a fresh schedule, not a "stall" */
    }
    return false;
}

static void stream(struct session *s)
{
    s->streaming = true;
    s->start_us = s->live_at_us = now_us(s);
    rr_stream_remote_stats(s->a->remote, &s->base);
    s->last = s->base;
    s->live_bytes = s->base.video_bytes;
    pacer_start(&s->pacer, s->a->opt->fps);
    while (!s->ended && !s->stopping && !s->lost) {
        if (time_to_stop(s)) {
            request_stop(s);
        } else if (next_pose(s)) {
            /* Render the moment a newer pose arrives: a frame rendered on our own clock
             * would wait up to a frame period for it (the "wait for render" stage). */
            tick(s);
            poll_events(s, 0);
            show_live(s);
        } else if (pacer_wait(&s->pacer, s->a->stop)) {
            if (s->pacer.gap_ns >= STALL_REPORT_NS) {
                out_say("stalled for %.2f s; going on from now without catching up",
                        (double)s->pacer.gap_ns / 1e9);
            }
            tick(s);
            poll_events(s, 0);
            show_live(s);
        }
    }
    stop_streaming(s);
    out_live_clear();
}

/* ---- the end ------------------------------------------------------------------------------ */

static void summary(struct session *s)
{
    struct rr_stream_remote_stats st;
    rr_stream_remote_stats(s->a->remote, &st);
    const struct rr_stream_remote_stats *b = &s->base;
    double span = (double)(s->last_tick_us - s->first_tick_us) / 1e6;
    /* Ticks between the first and the last: a run cut short right after a tick is not
     * credited with a whole extra period. */
    double fps = s->renders >= 2 && span > 0 ? (double)(s->renders - 1) / span : 0.0;
    double secs = (double)(s->stream_end_us - s->start_us) / 1e6;
    double kbps = secs > 0 ? (double)(st.video_bytes - b->video_bytes) * 8.0 / secs / 1000.0 : 0;
    double render_ms = s->renders ? (double)s->render_us_total / (double)s->renders / 1000.0 : 0;
    double encode_ms =
        s->encode_samples ? (double)s->encode_us_total / (double)s->encode_samples / 1000.0 : 0;
    out_report("summary: %" PRIu64 " frames in %.2f s, %.1f fps (target %" PRIu32 "), %" PRIu64
               " ticks dropped when behind (%" PRIu64 " times), %" PRIu64 " poses received",
               s->frames, secs, fps, s->a->opt->fps, s->pacer.missed, s->pacer.stalls,
               st.poses_received - b->poses_received);
    out_report("summary: render %.2f ms mean (%s), encode %.2f ms mean (%s, %s)", render_ms,
               s->a->renderer->name, encode_ms, st.encoder[0] ? st.encoder : "none",
               st.codec[0] ? st.codec : "none");
    out_report("summary: %" PRIu64 " frames encoded, %.2f MB of video, %.0f kbps (cap %" PRIu32
               "), %" PRIu64 " skipped, %" PRIu64 " keyframes, %" PRIu64 " keyframe requests",
               st.frames_encoded - b->frames_encoded,
               (double)(st.video_bytes - b->video_bytes) / 1e6, kbps, s->a->opt->max_bitrate_kbps,
               st.frames_skipped - b->frames_skipped, st.keyframes - b->keyframes,
               st.keyframe_requests - b->keyframe_requests);
}

static int exit_status(const struct session *s)
{
    char why[256];
    const struct tool_conn *tc = s->a->tc;
    if (s->failed) {
        return 1;
    }
    if (!s->ended) {
        out_error("the connection did not close within %u ms", DISCONNECT_WAIT_US / 1000);
        return 2;
    }
    if (s->reason == RR_REASON_DISCONNECT_REQUEST ||
        s->reason == RR_REASON_PEER_DISCONNECT_REQUEST) {
        return 0;
    }
    tool_conn_describe(s->reason, s->detail, why, sizeof why);
    if (!s->connected && !tc->opt.listen && s->reason == RR_REASON_HANDSHAKE_CONNECTION_REFUSED) {
        out_error("%s (is a player listening on %s port %u? start openrr-player first)", why,
                  tc->opt.host, tc->opt.port);
    } else {
        out_error("%s", why);
    }
    return 2;
}

int session_run(const struct app *app, struct session_result *out)
{
    struct session *s = calloc(1, sizeof *s);
    if (s == NULL) {
        out_error("out of memory");
        return 1;
    }
    s->a = app;
    if (!app->tc->opt.listen) {
        out_say("connecting to %s port %u", app->tc->opt.host, app->tc->opt.port);
    }
    while (!s->connected && !s->ended) {
        if (*app->stop) {
            request_stop(s);
        }
        poll_events(s, IDLE_POLL_MS);
        if (s->stopping && now_us(s) > s->wait_until_us) {
            break;
        }
    }
    if (s->connected && !s->ended) {
        stream(s);
    }
    /* Wait for the end we asked for, or the one a failed submit announced. */
    while (!s->ended) {
        if (!s->stopping && !s->lost) {
            request_stop(s);
        }
        if (now_us(s) > s->wait_until_us) {
            break;
        }
        poll_events(s, IDLE_POLL_MS);
    }
    if (s->connected) {
        summary(s);
    }
    int code = exit_status(s);
    out->connected = s->connected;
    out->reason = s->reason;
    out->port = s->port;
    out->transport_port = s->transport_port;
    free(s);
    return code;
}
