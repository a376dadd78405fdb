/* SPDX-License-Identifier: Apache-2.0 */
/*
 * player_session — one connection of openrr-player. See player_session.h.
 * Threads: the main thread; the library's network thread only fills the event queue.
 */
#include "player_session.h"

#include "player_end.h"
#include "player_msg.h"
#include "player_service.h"
#include "player_stats.h"
#include "scene_script.h"
#include "snapshot.h"

#include <openrr/stream.h>

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <string.h>
#include <time.h>

/* A client gets its outcome within the library's handshake deadline (10 s); this is only the
 * bound for a library that never answers. */
#define CONNECT_WAIT_US (20u * 1000000u)
/* rr_context_disconnect() flushes for at most a second; leave room for the close itself. */
#define DISCONNECT_WAIT_US (3u * 1000000u)
/* Event wait while not connected: short enough for the window to stay responsive. */
#define IDLE_POLL_MS 50

struct session {
    struct player_app *app;
    struct session_outcome *out;
    struct rr_stream_player *player;
    struct player_stats *stats;
    struct snapshot *snap;
    struct scene_run *scene; /* --scene */
    struct status status;
    uint64_t period_us;
    uint64_t connected_us; /* player clock */
    uint64_t end_us;       /* when the connection ended for us; 0 = not yet */
    bool have_frame;
    uint64_t last_frame_id;
    float eye_aspect; /* 0 until the first frame */
    bool pose_error_reported;
    bool snapshot_error_reported;
};

static uint64_t now_us(const struct session *s)
{
    return rr_stream_now_us(s->app->opt.clock_skew_us);
}

static uint64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void set_title(struct session *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void set_title(struct session *s, const char *fmt, ...)
{
    char title[160];
    va_list ap;
    if (s->app->window == NULL) {
        return;
    }
    int n = snprintf(title, sizeof title, "%s — ", PLAYER_PROG);
    va_start(ap, fmt);
    vsnprintf(title + n, sizeof title - (size_t)n, fmt, ap);
    va_end(ap);
    window_set_title(s->app->window, title);
}

/* ---- events ------------------------------------------------------------------------------- */

static void on_connected(struct session *s)
{
    struct rr_connection_info info;
    uint64_t now = now_us(s);
    s->out->connected = true;
    s->connected_us = now;
    player_stats_begin(s->stats, now);
    status_init(&s->status, s->app->status_mode, stderr, now);
    if (rr_context_connection_info(s->app->ctx, &info) == RR_OK) {
        player_note("connected to %s (%s, codec %s)", info.peer_address,
                    info.secure ? info.tls_version : "plain text", info.codec);
    } else {
        player_note("connected");
    }
    set_title(s, "connected");
    if (s->scene != NULL && !scene_run_start(s->scene)) {
        s->app->failed = true;
    }
}

static void on_event(struct session *s, const struct rr_event *ev)
{
    char why[256];
    switch (ev->type) {
    case RR_EVENT_LISTENING:
        s->app->listen_port = ev->port;
        s->app->listen_transport_port = ev->transport_port;
        player_note("listening on port %u (transport %u)", ev->port, ev->transport_port);
        set_title(s, "listening on port %u", ev->port);
        break;
    case RR_EVENT_CONNECTED:
        on_connected(s);
        break;
    case RR_EVENT_DISCONNECTED:
        s->out->ended = true;
        s->out->reason = ev->reason;
        snprintf(s->out->detail, sizeof s->out->detail, "%.*s", (int)sizeof ev->detail - 1,
                 ev->detail);
        if (s->out->connected && s->end_us == 0) {
            s->end_us = now_us(s);
        }
        break;
    case RR_EVENT_ATTEMPT_FAILED:
        status_finish(&s->status);
        player_warn("a connection attempt failed: %s",
                    tool_conn_describe(ev->reason, ev->detail, why, sizeof why));
        break;
    case RR_EVENT_DATA_CHANNEL_CLOSED: {
        /* The context keeps closed channels until destroyed; --loop would collect them. */
        struct rr_data_channel *ch = ev->channel;
        rr_data_channel_destroy(&ch);
        break;
    }
    default:
        break; /* the player uses no data channels of its own */
    }
}

/* Handle the pending events, waiting up to @p timeout_ms for the first. Stops at the end of
 * the connection. */
static void drain_events(struct session *s, int timeout_ms)
{
    for (int wait = timeout_ms; !s->out->ended; wait = 0) {
        struct rr_event ev;
        memset(&ev, 0, sizeof ev);
        enum rr_result r = rr_context_poll_event(s->app->ctx, &ev, wait);
        if (r == RR_ERROR_NO_EVENT) {
            return;
        }
        if (r != RR_OK) {
            player_error("rr_context_poll_event failed: %s", rr_result_str(r));
            s->app->failed = true;
            s->out->ended = true;
            s->out->reason = RR_REASON_INTERNAL_ERROR;
            return;
        }
        on_event(s, &ev);
        rr_event_release(&ev);
    }
}

/* A signal or the window's close button ends the session and the program. */
static bool quit_requested(struct session *s)
{
    struct player_app *app = s->app;
    if (*app->stop) {
        app->quit = true;
    }
    if (app->window != NULL && !window_pump(app->window)) {
        app->quit = true;
    }
    return app->quit;
}

static void window_failed(struct session *s, const char *err)
{
    status_finish(&s->status);
    player_error("the window cannot show frames (%s); going on without it", err);
    window_destroy(&s->app->window);
    s->app->failed = true;
}

/* ---- waiting for the remote --------------------------------------------------------------- */

static void wait_connected(struct session *s)
{
    bool bounded = !s->app->tc.opt.listen;
    uint64_t deadline = mono_us() + CONNECT_WAIT_US;
    char err[256];
    while (!s->out->connected && !s->out->ended && !quit_requested(s)) {
        if (bounded && mono_us() > deadline) {
            player_error("no connection outcome within %u s; is %s:%u reachable?",
                         CONNECT_WAIT_US / 1000000u, s->app->tc.opt.host, s->app->tc.opt.port);
            s->out->timed_out = true;
            return;
        }
        drain_events(s, IDLE_POLL_MS);
        if (s->app->window != NULL && !window_show(s->app->window, NULL, err, sizeof err)) {
            window_failed(s, err);
        }
    }
}

/* ---- one display frame -------------------------------------------------------------------- */

static void send_pose(struct session *s, uint64_t now)
{
    struct rr_stream_pose pose;
    memset(&pose, 0, sizeof pose);
    pose_source_sample(s->app->pose, now - s->connected_us, s->eye_aspect, &pose);
    pose.sample_time_us = now;
    pose.predicted_display_us = now + s->period_us + s->app->present_latency_us;
    enum rr_result r = rr_stream_player_send_pose(s->player, &pose);
    /* NOT_CONNECTED: the connection just ended; its event follows. */
    if (r != RR_OK && r != RR_ERROR_NOT_CONNECTED && !s->pose_error_reported) {
        status_finish(&s->status);
        player_warn("cannot send the pose: %s", rr_result_str(r));
        s->pose_error_reported = true;
    }
}

static void new_frame(struct session *s, const struct rr_stream_frame *f, uint64_t now)
{
    char err[256];
    s->have_frame = true;
    s->last_frame_id = f->frame_id;
    s->out->frames++;
    /* --frames counts what the finished script's scene looks like, not the loading. */
    if (s->scene == NULL || scene_run_finished(s->scene)) {
        s->out->goal_frames++;
    }
    /* The vertical field of view follows the eye's aspect from the first frame on. */
    if (f->width >= 2 && f->height > 0) {
        s->eye_aspect = (float)(f->width / 2) / (float)f->height;
    }
    player_stats_add_frame(s->stats, f, now);
    status_frame(&s->status, f);
    if (s->snap != NULL && !snapshot_frame(s->snap, f)) {
        status_finish(&s->status);
        player_error("out of memory keeping a frame for --snapshot");
        s->app->failed = true;
    }
    if (s->app->window != NULL && !window_show(s->app->window, f, err, sizeof err)) {
        window_failed(s, err);
    }
}

static void take_frame(struct session *s, uint64_t now)
{
    const struct rr_stream_frame *f = NULL;
    struct rr_frame_statistics fs;
    char err[256];
    enum rr_blit_result br = rr_stream_player_blit(s->player, &f);
    /* Each blit's statistics describe the frame it returned; only their gaps are kept, which
     * a reused frame repeats harmlessly, so taking them every time misses none. */
    rr_stream_player_last_frame_statistics(s->player, &fs);
    player_stats_add_frame_statistics(s->stats, &fs);
    bool ok = br == RR_BLIT_SUCCESS_COLOR || br == RR_BLIT_SUCCESS_COLOR_DEPTH;
    if (ok && f != NULL && !(s->have_frame && f->frame_id == s->last_frame_id)) {
        new_frame(s, f, now);
    } else if (s->app->window != NULL && !window_show(s->app->window, NULL, err, sizeof err)) {
        window_failed(s, err);
    }
}

static void report_snapshot_error(struct session *s)
{
    const char *e = s->snap != NULL ? snapshot_error(s->snap) : NULL;
    if (e != NULL && !s->snapshot_error_reported) {
        status_finish(&s->status);
        player_error("%s; give --snapshot a writable directory with free space", e);
        s->snapshot_error_reported = true;
        s->app->failed = true;
    }
}

static void account(struct session *s, uint64_t now)
{
    struct rr_stream_player_totals t;
    rr_stream_player_totals(s->player, &t);
    player_stats_add_bytes(s->stats, now, t.video_bytes_received);
    if (status_tick(&s->status, now, &t)) {
        const struct status_figures *f = status_figures(&s->status);
        if (f->have_latency) {
            set_title(s, "%.1f fps, latency %.1f ms (p99 %.1f), %.1f Mbps", f->fps,
                      f->latency_median_ms, f->latency_p99_ms, f->mbps);
        } else {
            set_title(s, "%.1f fps, %.1f Mbps", f->fps, f->mbps);
        }
        report_snapshot_error(s);
    }
}

/* Sleep to the next absolute deadline. After a stall the schedule restarts from now instead
 * of running the missed frames back to back. */
static void pace(struct session *s, struct timespec *next)
{
    struct timespec now;
    uint64_t period_ns = s->period_us * 1000u;
    next->tv_nsec += (long)(period_ns % 1000000000u);
    next->tv_sec += (time_t)(period_ns / 1000000000u);
    if (next->tv_nsec >= 1000000000L) {
        next->tv_nsec -= 1000000000L;
        next->tv_sec++;
    }
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (now.tv_sec > next->tv_sec || (now.tv_sec == next->tv_sec && now.tv_nsec >= next->tv_nsec)) {
        *next = now;
        return;
    }
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, next, NULL) == EINTR && !*s->app->stop) {
    }
}

static void run_connected(struct session *s)
{
    const struct player_options *o = &s->app->opt;
    uint64_t duration_us = (uint64_t)llround(o->duration_s * 1e6);
    struct timespec next;
    clock_gettime(CLOCK_MONOTONIC, &next);
    for (;;) {
        drain_events(s, 0);
        if (s->out->ended || quit_requested(s)) {
            return;
        }
        uint64_t now = now_us(s);
        if (duration_us != 0 && now - s->connected_us >= duration_us) {
            return;
        }
        send_pose(s, now);
        take_frame(s, now);
        account(s, now);
        if (o->frames != 0 && s->out->goal_frames >= o->frames) {
            return;
        }
        pace(s, &next);
    }
}

/* End the connection (or the listening) ourselves unless it ended, and wait for the event
 * whose reason decides the exit status. */
static void close_connection(struct session *s)
{
    if (s->out->connected && s->end_us == 0) {
        s->end_us = now_us(s);
    }
    if (s->out->ended) {
        return;
    }
    enum rr_result r = rr_context_disconnect(s->app->ctx);
    if (r != RR_OK) {
        player_warn("disconnect failed: %s", rr_result_str(r));
    }
    uint64_t deadline = mono_us() + DISCONNECT_WAIT_US;
    while (!s->out->ended && mono_us() < deadline) {
        drain_events(s, IDLE_POLL_MS);
        if (s->app->window != NULL) {
            (void)window_pump(s->app->window); /* stay responsive; we are closing anyway */
        }
    }
}

/* ---- the end ------------------------------------------------------------------------------ */

/* Finish the snapshots and the statistics, then print and write what the connection gave. */
static void finish(struct session *s)
{
    struct rr_stream_player_totals t;
    struct player_app *app = s->app;
    status_finish(&s->status);
    if (s->snap != NULL) {
        if (!snapshot_finish(s->snap)) {
            report_snapshot_error(s);
        } else if (snapshot_count(s->snap) > 0) {
            player_note("wrote %" PRIu64 " snapshot(s) to %s", snapshot_count(s->snap),
                        app->opt.snapshot_dir);
        }
    }
    if (s->scene != NULL && scene_run_failed(s->scene)) {
        app->failed = true;
    }
    uint64_t end = s->end_us != 0 ? s->end_us : now_us(s);
    rr_stream_player_totals(s->player, &t);
    player_stats_add_bytes(s->stats, end, t.video_bytes_received);
    player_stats_end(s->stats, end, s->out->ended ? s->out->reason : RR_REASON_NONE);
    player_end_report(app, s->out, s->stats, &t);
}

/* ---- setup -------------------------------------------------------------------------------- */

static bool open_session(struct session *s)
{
    struct player_app *app = s->app;
    char err[256];
    struct rr_stream_player_config cfg = {
        .blit_timeout_ms = app->opt.blit_timeout_ms,
        .present_to_display_us = app->present_latency_us,
        .clock_skew_us = app->opt.clock_skew_us,
    };
    enum rr_result r = rr_stream_player_create(app->ctx, &cfg, &s->player);
    if (r != RR_OK) {
        player_error("cannot create the stream player: %s", rr_result_str(r));
        return false;
    }
    if (!player_stats_create(0, &s->stats)) {
        player_error("out of memory for the statistics");
        return false;
    }
    if (app->opt.snapshot_dir != NULL &&
        !snapshot_create(app->opt.snapshot_dir, app->opt.snapshot_every, &s->snap, err,
                         sizeof err)) {
        player_error("%s", err);
        return false;
    }
    if (app->scene != NULL && !scene_run_create(app->scene, app->ctx, &s->scene, err, sizeof err)) {
        player_error("%s", err);
        return false;
    }
    return true;
}

static void close_session(struct session *s)
{
    scene_run_destroy(&s->scene);
    snapshot_destroy(&s->snap);
    player_stats_destroy(&s->stats);
    rr_stream_player_destroy(&s->player);
}

static enum rr_result start(struct player_app *app)
{
    if (app->service != NULL) {
        char err[512];
        uint16_t port = 0;
        if (!player_service_connect(app->service, app->ctx, app->tc.opt.host,
                                    sizeof app->tc.opt.host, &port, err, sizeof err)) {
            player_error("%s", err);
            return RR_ERROR_INVALID_ARGUMENT;
        }
        app->tc.opt.port = port;
        return RR_OK;
    }
    if (!app->tc.opt.listen) {
        return tool_conn_start(&app->tc, app->ctx);
    }
    if (!app->listened) {
        tool_conn_listen_ports(&app->tc, &app->listen_port, &app->listen_transport_port);
        app->listened = true;
    }
    return tool_conn_listen(&app->tc, app->ctx, app->listen_port, app->listen_transport_port);
}

int player_session_run(struct player_app *app, struct session_outcome *out)
{
    struct session s;
    memset(&s, 0, sizeof s);
    memset(out, 0, sizeof *out);
    s.app = app;
    s.out = out;
    s.period_us = 1000000u / app->opt.fps;
    if (!open_session(&s)) {
        close_session(&s);
        return PLAYER_EXIT_OTHER;
    }
    enum rr_result r = start(app);
    if (r != RR_OK) {
        player_error("cannot %s: %s", app->tc.opt.listen ? "listen" : "connect", rr_result_str(r));
        close_session(&s);
        return PLAYER_EXIT_OTHER;
    }
    if (!app->tc.opt.listen) {
        player_note("connecting to %s:%u", app->tc.opt.host, app->tc.opt.port);
        set_title(&s, "connecting to %s:%u", app->tc.opt.host, app->tc.opt.port);
    }
    wait_connected(&s);
    if (out->connected && !out->ended && !app->quit) {
        run_connected(&s);
    }
    close_connection(&s);
    finish(&s);
    int code = player_end_status(app, out);
    close_session(&s);
    return code;
}
