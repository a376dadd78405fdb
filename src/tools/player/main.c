/* SPDX-License-Identifier: Apache-2.0 */
/*
 * openrr-player — the display end of OpenRR (DESIGN §10, docs/player.md).
 *
 * Listens (port 8265, like the stock player) or connects, plain or secure, receives the
 * remote's stereo video, shows it in an SDL2 window or runs headless, sends a head pose every
 * display frame and reports per-stage latency. This file wires the modules together: command
 * line, pose source, window, statistics file and context, then one session after another.
 *
 * Threads: main() and everything it calls run on the main thread. The library's network
 * thread runs tool_conn's security callbacks; the snapshot worker writes PNGs.
 */
#include "player_args.h"
#include "player_msg.h"
#include "player_service.h"
#include "player_session.h"
#include "pose_source.h"
#include "scene_script.h"
#include "snapshot.h"
#include "status.h"
#include "tool_conn.h"
#include "tool_util.h"
#include "window.h"

#include <openrr/remoting.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t g_stop;

static int load_pose_source(struct player_app *app)
{
    char err[512];
    switch (pose_source_create(app->opt.pose, &app->pose, err, sizeof err)) {
    case POSE_SOURCE_OK:
        return PLAYER_EXIT_OK;
    case POSE_SOURCE_FORMAT:
        return player_args_usage_error("--pose: %s", err);
    case POSE_SOURCE_IO:
    case POSE_SOURCE_NO_MEMORY:
        break;
    }
    player_error("%s", err);
    return PLAYER_EXIT_OTHER;
}

/* Open the statistics file now, so that a wrong path fails before anyone connects. */
static int open_stats(struct player_app *app)
{
    const char *path = app->opt.stats_path;
    if (path == NULL) {
        return PLAYER_EXIT_OK;
    }
    if (strcmp(path, "-") == 0) {
        app->stats_out = stdout;
        return PLAYER_EXIT_OK;
    }
    app->stats_out = fopen(path, "w");
    if (app->stats_out == NULL) {
        player_error("cannot write the statistics file '%s': %s; give a writable path", path,
                     strerror(errno));
        return PLAYER_EXIT_OTHER;
    }
    return PLAYER_EXIT_OK;
}

/* A window when a display exists and --headless was not given; headless with a warning when
 * SDL cannot open one. */
static void open_window(struct player_app *app)
{
    char err[512];
    if (app->opt.headless || !window_display_available()) {
        return;
    }
    if (!window_create(PLAYER_PROG, app->opt.view, &app->window, err, sizeof err)) {
        player_warn("cannot open a window (%s); running headless (--headless skips the try)", err);
        return;
    }
    player_note("window open (SDL %s)", window_describe(app->window, err, sizeof err));
}

static int create_context(struct player_app *app)
{
    struct rr_context_config cfg;
    memset(&cfg, 0, sizeof cfg);
    tool_conn_fill_config(&app->tc, &cfg);
    cfg.role = RR_ROLE_PLAYER;
    /* The player decodes both; the remote's preference decides. */
    cfg.codecs = "hevc,h264";
    enum rr_result r = rr_context_create(&cfg, &app->ctx);
    if (r != RR_OK) {
        player_error("cannot create the remoting context: %s", rr_result_str(r));
        return PLAYER_EXIT_OTHER;
    }
    return PLAYER_EXIT_OK;
}

static int prepare(struct player_app *app)
{
    char err[512];
    int code = load_pose_source(app);
    if (code != PLAYER_EXIT_OK) {
        return code;
    }
    if (app->opt.snapshot_dir != NULL &&
        !snapshot_prepare_dir(app->opt.snapshot_dir, err, sizeof err)) {
        player_error("%s", err);
        return PLAYER_EXIT_OTHER;
    }
    code = open_stats(app);
    if (code != PLAYER_EXIT_OK) {
        return code;
    }
    /* The whole script is checked now: a typo must not wait for the connection. */
    if (app->opt.scene_path != NULL &&
        !scene_script_load(app->opt.scene_path, &app->scene, err, sizeof err)) {
        return player_args_usage_error("--scene: %s", err);
    }
    /* The first SIGINT/SIGTERM asks for an orderly end; a second one kills should that hang, but
     * only a second later: `timeout` and shells may deliver one signal to the process and again
     * to its group, and that must not count as two. The frame pacing sleep wakes up (EINTR). */
    tool_install_signals(&g_stop, TOOL_SECOND_SIGNAL_KILLS_LATER);
    open_window(app);
    /* The frame a window shows lies a display frame ahead of the blit; headless nothing does. */
    if (app->opt.present_latency_us >= 0) {
        app->present_latency_us = (uint32_t)app->opt.present_latency_us;
    } else {
        app->present_latency_us = app->window != NULL ? 1000000u / app->opt.fps : 0u;
    }
    if (app->opt.quiet) {
        app->status_mode = STATUS_SILENT;
    } else {
        app->status_mode = isatty(STDERR_FILENO) ? STATUS_LIVE : STATUS_SUMMARY;
    }
    return create_context(app);
}

/* One session, or with --loop one after another until a signal or a failed listen. */
static int serve(struct player_app *app)
{
    for (;;) {
        struct session_outcome out;
        int code = player_session_run(app, &out);
        if (!app->opt.loop) {
            return code;
        }
        if (app->quit) {
            return app->failed ? PLAYER_EXIT_OTHER : PLAYER_EXIT_OK;
        }
        /* An end without a connection means the listening itself failed (port, certificate):
         * listening again would fail the same way. */
        if (!out.connected || code == PLAYER_EXIT_OTHER) {
            return code;
        }
    }
}

static void cleanup(struct player_app *app)
{
    /* Destroy the context first: its network thread may read the secrets until it stops. */
    rr_context_destroy(&app->ctx);
    player_service_close(&app->service);
    tool_conn_wipe(&app->tc);
    window_destroy(&app->window);
    pose_source_destroy(&app->pose);
    scene_script_free(&app->scene);
    if (app->stats_out != NULL && app->stats_out != stdout && fclose(app->stats_out) != 0) {
        player_error("cannot write the statistics file '%s': %s", app->opt.stats_path,
                     strerror(errno));
    }
    app->stats_out = NULL;
}

int main(int argc, char **argv)
{
    static struct player_app app;
    int code;
    tool_conn_init(&app.tc, PLAYER_PROG, true);
    /* Progress lines go to stderr: stdout is for the table and the JSON. */
    app.tc.say = player_vnote;
    app.stop = &g_stop;

    switch (player_args_parse(argc, argv, &app.opt, &app.tc)) {
    case PLAYER_ARGS_HELP:
        player_args_usage(stdout);
        tool_conn_wipe(&app.tc);
        return PLAYER_EXIT_OK;
    case PLAYER_ARGS_BAD:
        tool_conn_wipe(&app.tc);
        return PLAYER_EXIT_USAGE;
    case PLAYER_ARGS_NO_MEMORY:
        player_error("out of memory while reading the command line");
        tool_conn_wipe(&app.tc);
        return PLAYER_EXIT_OTHER;
    case PLAYER_ARGS_GO:
        break;
    }
    /* --session: a client of the session's host, whatever the listening default says. */
    if (app.opt.session_id != NULL && app.tc.opt.have_address) {
        tool_conn_wipe(&app.tc);
        return player_args_usage_error("--session connects to the session's host: no address");
    }
    if (app.opt.session_id != NULL) {
        app.tc.opt.listen = false;
    }
    code = tool_conn_setup(&app.tc);
    if (code == PLAYER_EXIT_OK && app.opt.loop && !app.tc.opt.listen) {
        code = player_args_usage_error("--loop is for a listener; a client connects once");
    }
    if (code == PLAYER_EXIT_OK) {
        code = prepare(&app);
    }
    if (code == PLAYER_EXIT_OK && app.opt.session_id != NULL) {
        char err[512];
        struct player_service_options so = {
            .session_id = app.opt.session_id,
            .service_url = app.opt.service_url,
            .account_id = app.opt.account_id,
            .account_domain = app.opt.account_domain,
            .service_ca = app.opt.service_ca,
            .ready_timeout_s = 120,
        };
        if (!player_service_open(&so, &app.service, err, sizeof err)) {
            player_error("%s", err);
            code = PLAYER_EXIT_CONNECTION;
        }
    }
    if (code == PLAYER_EXIT_OK) {
        code = serve(&app);
    }
    cleanup(&app);
    return code;
}
