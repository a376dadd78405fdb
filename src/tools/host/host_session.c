/* SPDX-License-Identifier: Apache-2.0 */
/*
 * host_session — openrr-host's connection loop: listen, start each connection with the
 * preloaded assets, render and stream for the newest pose while connected, listen again after
 * the client leaves (the scene server has cleared the scene by then), until a signal.
 *
 * Threads: the main thread, which owns the renderer's GL context; events are polled, so every
 * field here is the main thread's.
 */
#include "host.h"
#include "host_register.h"
#include "host_trace.h"

#include <tool_util.h>

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define PROG "openrr-host"
#define IDLE_POLL_MS 50
#define DISCONNECT_WAIT_US 3000000u /* rr_context_disconnect flushes for at most a second */
#define RELISTEN_TRIES 20           /* the previous connection's ports may take a moment */
#define RELISTEN_PAUSE_MS 250
#define DEFAULT_FOV_RAD 0.785398f /* 45°: for frames before the first pose */
#define DEFAULT_HEAD_HEIGHT_M 1.6f
#define DEFAULT_IPD_M 0.064f

struct conn {
    bool listening;
    bool connected;
    bool ended; /* the Disconnected event arrived */
    enum rr_disconnect_reason reason;
    char detail[192];
    uint16_t port;
    uint16_t transport_port;
    bool announced_encoder;
    bool failed;             /* an error of ours ended the connection */
    struct host_trace trace; /* the frames' timing events */
};

static bool g_ready_printed;
static bool g_register_failed; /* openrrd refused the registration, or could not be reached */

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs(PROG ": ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static enum rr_result start_listen(struct host *h, uint16_t port, uint16_t transport)
{
    /* With --token-jwks, tc->receiver is the JWT receiver (set in main). */
    return tool_conn_listen(h->tc, h->ctx, port, transport);
}

/* Once listening, the first time: register with openrrd (--register-url), then print the
 * readiness line tests and supervisors wait for, the only line on stdout. False when the
 * registration failed (the reason was printed): the host then ends with status 1. */
static bool announce_ready(struct host *h, const struct conn *c)
{
    if (g_ready_printed) {
        return true;
    }
    g_ready_printed = true;
    const struct host_options *o = h->opt;
    if (o->register_url != NULL) {
        char err[1024] = "";
        int inspector = h->inspector != NULL ? (int)rr_inspector_port(h->inspector) : -1;
        if (!host_register(o->register_url, o->register_secret, c->port, c->transport_port,
                           inspector, err, sizeof err)) {
            say("%s", err);
            return false;
        }
        say("registered with openrrd at %s", o->register_url);
    }
    if (h->inspector != NULL) {
        printf("ready: listening on port %u (transport %u), inspector on port %u\n", c->port,
               c->transport_port, rr_inspector_port(h->inspector));
    } else {
        printf("ready: listening on port %u (transport %u)\n", c->port, c->transport_port);
    }
    fflush(stdout);
    return true;
}

/* Each connection starts with the preloaded assets as top-level entities: added before
 * listening, so that they are there before the client's first scene request. */
static void add_preloaded(struct host *h)
{
    /* Wait for the previous connection's clear (queued before its Disconnected event), or it
     * would remove these. */
    rr_scene_server_flush(h->server);
    for (size_t i = 0; i < h->opt->asset_count; i++) {
        const char *uri = h->opt->assets[i];
        struct rr_asset *asset = NULL;
        char err[256] = "";
        enum rr_scene_result r =
            rr_asset_loader_load(&h->assets.base, uri, NULL, NULL, &asset, err, sizeof err);
        if (r == RR_SCENE_SUCCESS) {
            uint32_t id;
            r = rr_scene_add_model(h->scene, asset, &h->assets.base, RR_SCENE_ROOT, &id);
            if (r != RR_SCENE_SUCCESS) {
                rr_asset_loader_release(&h->assets.base, asset);
            }
        }
        if (r != RR_SCENE_SUCCESS) {
            char shown[512], why[512];
            host_uri_display(uri, shown, sizeof shown);
            host_uri_scrub(err[0] != '\0' ? err : rr_scene_result_str(r), uri, why, sizeof why);
            say("cannot instantiate the asset '%s': %s", shown, why);
        }
    }
}

static void on_connected(struct host *h, struct conn *c)
{
    struct rr_connection_info info;
    c->connected = true;
    if (rr_context_connection_info(h->ctx, &info) == RR_OK) {
        say("connected to %s (%s), codec %s", info.peer_address,
            info.secure ? info.tls_version : "plain text", info.codec);
        host_inspect_connection(&h->inspect, info.peer_address, info.codec);
    } else {
        say("connected");
        host_inspect_connection(&h->inspect, "client", "");
    }
}

static void handle_event(struct host *h, struct conn *c, const struct rr_event *ev)
{
    char why[256];
    struct rr_data_channel *ch = ev->channel;
    switch (ev->type) {
    case RR_EVENT_LISTENING:
        c->listening = true;
        c->port = ev->port;
        c->transport_port = ev->transport_port;
        if (!announce_ready(h, c)) {
            g_register_failed = true;
            c->ended = true;
        }
        break;
    case RR_EVENT_CONNECTED:
        on_connected(h, c);
        break;
    case RR_EVENT_DISCONNECTED:
        c->ended = true;
        c->reason = ev->reason;
        snprintf(c->detail, sizeof c->detail, "%.*s", (int)sizeof ev->detail - 1, ev->detail);
        if (c->connected) {
            say("disconnected: %s", tool_conn_describe(ev->reason, c->detail, why, sizeof why));
        }
        break;
    case RR_EVENT_ATTEMPT_FAILED:
        say("a connection attempt failed: %s",
            tool_conn_describe(ev->reason, ev->detail, why, sizeof why));
        break;
    case RR_EVENT_DATA_CHANNEL_CLOSED:
        /* The context keeps closed channels until they are destroyed. */
        rr_data_channel_destroy(&ch);
        break;
    default:
        break; /* the scene channel is the scene server's; others carry nothing for us */
    }
}

/* Handle what is pending, waiting up to @p timeout_ms for the first event. */
static void poll_events(struct host *h, struct conn *c, int timeout_ms)
{
    while (!c->ended) {
        struct rr_event ev;
        memset(&ev, 0, sizeof ev);
        enum rr_result r = rr_context_poll_event(h->ctx, &ev, timeout_ms);
        if (r == RR_ERROR_NO_EVENT) {
            return;
        }
        if (r != RR_OK) {
            say("polling the connection's events failed: %s", rr_result_str(r));
            c->failed = true;
            c->ended = true;
            return;
        }
        handle_event(h, c, &ev);
        rr_event_release(&ev);
        timeout_ms = 0;
    }
}

/* Before the first pose: standing at the origin, eye height, looking down −Z. */
static void default_pose(struct rr_stream_pose *p)
{
    memset(p, 0, sizeof *p);
    for (int e = 0; e < 2; e++) {
        p->view[e].position[0] = (e == 0 ? -0.5f : 0.5f) * DEFAULT_IPD_M;
        p->view[e].position[1] = DEFAULT_HEAD_HEIGHT_M;
        p->view[e].orientation[3] = 1.0f;
    }
}

static void eyes_from_pose(const struct rr_stream_pose *p, struct rr_render_eye eyes[2])
{
    for (int e = 0; e < 2; e++) {
        const struct rr_stream_fovf *f = &p->fov[e];
        memcpy(eyes[e].position, p->view[e].position, sizeof eyes[e].position);
        memcpy(eyes[e].orientation, p->view[e].orientation, sizeof eyes[e].orientation);
        bool no_fov = f->angle_left == 0.0f && f->angle_right == 0.0f && f->angle_up == 0.0f &&
                      f->angle_down == 0.0f;
        eyes[e].angle_left = no_fov ? -DEFAULT_FOV_RAD : f->angle_left;
        eyes[e].angle_right = no_fov ? DEFAULT_FOV_RAD : f->angle_right;
        eyes[e].angle_up = no_fov ? DEFAULT_FOV_RAD : f->angle_up;
        eyes[e].angle_down = no_fov ? -DEFAULT_FOV_RAD : f->angle_down;
    }
}

static void note_encoder(struct conn *c, const struct rr_stream_remote_stats *st)
{
    if (!c->announced_encoder && st->encoder[0] != '\0') {
        c->announced_encoder = true;
        say("encoder %s, codec %s", st->encoder, st->codec);
    }
}

/* One frame for the newest pose. false when the connection must end (an error of ours, or it
 * is gone: the Disconnected event follows). */
static bool frame(struct host *h, struct conn *c, struct rr_stream_pose *pose)
{
    struct rr_render_eye eyes[2];
    struct rr_scene_view view;
    struct rr_render_stats stats;
    char err[256] = "";
    int timeout_ms = (int)(1500u / h->opt->fps) + 1; /* 1.5 frame periods */
    struct rr_stream_pose next;
    struct host_trace_frame times = {.wait_start_us = rr_stream_now_us(0)};
    /* Render the moment a newer pose arrives; when poses stop, go on with the last one. */
    if (rr_stream_remote_wait_pose(h->remote, pose->pose_id, timeout_ms, &next)) {
        *pose = next;
    }
    uint64_t start = rr_stream_now_us(0);
    times.view_start_us = start;
    eyes_from_pose(pose, eyes);
    if (rr_scene_build_view(h->scene, &view) != RR_SCENE_SUCCESS) {
        /* An empty view this frame (out of memory); the next may do better. */
    }
    times.upload_start_us = rr_stream_now_us(0);
    times.uploaded = host_assets_prepare(&h->assets, &view);
    times.render_start_us = rr_stream_now_us(0);
    if (!rr_renderer_draw(h->renderer, &view, eyes, &stats, err, sizeof err)) {
        say("rendering failed: %s; ending the connection", err);
        c->failed = true;
        return false;
    }
    uint64_t end = rr_stream_now_us(0);
    times.submit_start_us = end;
    times.gpu_ms = stats.gpu_ms;
    struct rr_stream_submit_info info = {
        .pose_id = pose->pose_id, .render_start_us = start, .render_end_us = end};
    enum rr_result r =
        rr_stream_remote_submit_gl(h->remote, &info, rr_renderer_texture(h->renderer));
    if (r == RR_ERROR_NOT_CONNECTED) {
        return false;
    }
    if (r != RR_OK) {
        say("submitting a frame failed: %s (the log above says why); ending the connection",
            rr_result_str(r));
        c->failed = true;
        return false;
    }
    times.submit_end_us = rr_stream_now_us(0);
    host_inspect_frame(&h->inspect, &stats, end - start, end);
    if (c->trace.insp != NULL || !c->announced_encoder) {
        struct rr_stream_remote_stats st;
        rr_stream_remote_stats(h->remote, &st);
        host_trace_frame(&c->trace, &times, &st);
        note_encoder(c, &st);
    }
    return true;
}

static void stream(struct host *h, struct conn *c)
{
    struct rr_stream_pose pose;
    struct rr_stream_remote_stats st;
    default_pose(&pose);
    rr_stream_remote_stats(h->remote, &st);
    host_trace_init(&c->trace, h->inspector, &st);
    while (!c->ended && !*h->stop) {
        host_assets_collect(&h->assets);
        /* Paused from the inspector: no rendering and no frames; the player keeps showing
         * the last one. The connection stays up (keepalives). */
        if (host_inspect_paused(&h->inspect)) {
            poll_events(h, c, IDLE_POLL_MS);
            continue;
        }
        if (!frame(h, c, &pose)) {
            break;
        }
        poll_events(h, c, 0);
    }
}

/* End the current connection (or listening) and wait for its Disconnected event. */
static void end_connection(struct host *h, struct conn *c)
{
    uint64_t until = rr_stream_now_us(0) + DISCONNECT_WAIT_US;
    if (!c->ended) {
        rr_context_disconnect(h->ctx);
    }
    while (!c->ended && rr_stream_now_us(0) < until) {
        poll_events(h, c, IDLE_POLL_MS);
    }
}

int host_serve(struct host *h)
{
    uint16_t port, transport;
    bool again = false;
    int tries = 0;
    bool preloaded = false; /* the scene holds the preloaded assets (and nothing else) */
    tool_conn_listen_ports(h->tc, &port, &transport);
    while (!*h->stop) {
        struct conn c = {0};
        if (!preloaded) {
            add_preloaded(h);
            preloaded = true;
        }
        enum rr_result r = start_listen(h, port, transport);
        if (r != RR_OK) {
            say("cannot listen: %s", rr_result_str(r));
            return 1;
        }
        while (!c.connected && !c.ended && !*h->stop) {
            poll_events(h, &c, IDLE_POLL_MS);
        }
        if (g_register_failed) {
            return 1;
        }
        if (*h->stop) {
            end_connection(h, &c);
            break;
        }
        if (!c.connected) {
            char why[256];
            tool_conn_describe(c.reason, c.detail, why, sizeof why);
            /* The ports of the connection that just ended may still be held a moment. */
            if (again && ++tries < RELISTEN_TRIES) {
                sleep_ms(RELISTEN_PAUSE_MS);
                continue;
            }
            say("cannot listen on port %u: %s", port, why);
            return 1;
        }
        tries = 0;
        if (!again) {
            /* Listen again on the ports we got, so that clients find the same address. */
            port = port != 0 ? port : c.port;
            transport = transport != 0 ? transport : c.transport_port;
            again = true;
        }
        stream(h, &c);
        host_inspect_connection(&h->inspect, NULL, NULL);
        end_connection(h, &c);
        preloaded = false; /* the scene server clears the client's scene */
        host_assets_collect(&h->assets);
    }
    return 0;
}
