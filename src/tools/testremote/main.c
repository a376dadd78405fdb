/* SPDX-License-Identifier: Apache-2.0 */
/*
 * openrr-testremote — a remote that renders a simple animated scene for the pose it receives
 * and streams it: for testing a player and the stream before (or without) the real renderer,
 * and for users checking what their network carries. See docs/testremote.md.
 *
 * main() wires the parts: the command line (options), the encoder check, the renderer (CPU or
 * OpenGL), the remoting context with its stream, and one session per connection (session.c);
 * a listener with --loop listens again after each.
 *
 * Threads: the main thread does everything here and in the sessions; tool_conn's interface
 * callbacks print from the library's network thread through output.c.
 */
#include "options.h"
#include "output.h"
#include "renderer.h"
#include "scene_cpu.h"
#include "scene_gl.h"
#include "session.h"

#include <openrr/stream.h>
#include <tool_conn.h>
#include <tool_util.h>

#include <signal.h>
#include <stdio.h>
#include <string.h>

#define PROG "openrr-testremote"

enum exit_status {
    EXIT_OK = 0,
    EXIT_OTHER = 1,      /* encoder, OpenGL, files, memory */
    EXIT_CONNECTION = 2, /* the connection failed or ended abnormally */
    EXIT_USAGE = 64,     /* EX_USAGE of sysexits.h */
};

static volatile sig_atomic_t g_stop;

/* tool_conn's progress lines, timestamped like ours and kept clear of the live line. */
static void say_hook(void *user, const char *fmt, va_list ap)
{
    (void)user;
    out_say_va(fmt, ap);
}

/* What to do when the encoder does not open, in the user's terms. */
static const char *encoder_hint(const struct options *o, const char *codec)
{
    if (strcmp(codec, "hevc") == 0) {
        return "HEVC needs hevc_nvenc (an NVIDIA GPU) or libx265; use --codec h264 (and "
               "--encoder libx264)";
    }
    if (o->encoder != NULL) {
        return "use --encoder libx264 (H.264 on the CPU) or --encoder auto";
    }
    return "this libavcodec has no usable H.264 encoder; install one built with libx264";
}

/* Fail before connecting, rather than at the first frame with a player waiting. */
static int probe_encoder(const struct options *o, const char *codecs)
{
    char codec[16];
    char err[256] = "";
    size_t len = strcspn(codecs, ",");
    snprintf(codec, sizeof codec, "%.*s", (int)len, codecs);
    enum rr_result r = rr_stream_probe_encoder(o->encoder, codec, o->eye_width * 2, o->eye_height,
                                               err, sizeof err);
    if (r == RR_OK) {
        return EXIT_OK;
    }
    out_error("encoder %s cannot encode %s at %ux%u: %s; %s",
              o->encoder != NULL ? o->encoder : "auto", codec, o->eye_width * 2, o->eye_height,
              err[0] != '\0' ? err : rr_result_str(r), encoder_hint(o, codec));
    return EXIT_OTHER;
}

static int create_renderer(const struct options *o, struct renderer **out)
{
    char err[256] = "";
    const char *description = NULL;
    if (!o->gl) {
        if (!scene_cpu_create(o->eye_width, o->eye_height, out, err, sizeof err)) {
            out_error("%s", err);
            return EXIT_OTHER;
        }
        return EXIT_OK;
    }
    if (!scene_gl_create(o->eye_width, o->eye_height, out, &description, err, sizeof err)) {
        out_error("--gl needs EGL with OpenGL 4.5 core (%s); run without --gl", err);
        return EXIT_OTHER;
    }
    out_say("rendering with %s", description);
    return EXIT_OK;
}

static int create_stream(struct app *a, const char *codecs)
{
    const struct options *o = a->opt;
    struct rr_context_config cfg = {.role = RR_ROLE_REMOTE, .codecs = codecs};
    tool_conn_fill_config(a->tc, &cfg);
    enum rr_result r = rr_context_create(&cfg, &a->ctx);
    if (r != RR_OK) {
        out_error("cannot create the remoting context: %s", rr_result_str(r));
        return EXIT_OTHER;
    }
    struct rr_stream_remote_config rc = {
        .eye_width = o->eye_width,
        .eye_height = o->eye_height,
        .fps = o->fps,
        .max_bitrate_kbps = o->max_bitrate_kbps,
        .encoder = o->encoder,
        .fixed_bitrate = o->fixed_bitrate,
        .keyframe_interval = o->keyframe_interval,
        .clock_skew_us = o->clock_skew_us,
    };
    r = rr_stream_remote_create(a->ctx, &rc, &a->remote);
    if (r != RR_OK) {
        out_error("cannot create the stream: %s", rr_result_str(r));
        return EXIT_OTHER;
    }
    return EXIT_OK;
}

/* Run sessions: one, or with --loop one listen after another until a signal. A listener keeps
 * the ports it got the first time, so that a player can come back to the same address. */
static int serve(struct app *a, struct tool_conn *tc)
{
    uint16_t port = 0, transport = 0;
    bool again = false;
    for (;;) {
        struct session_result res = {0};
        enum rr_result r =
            again ? tool_conn_listen(tc, a->ctx, port, transport) : tool_conn_start(tc, a->ctx);
        if (r != RR_OK) {
            out_error("cannot %s: %s", tc->opt.listen ? "listen" : "connect", rr_result_str(r));
            return EXIT_OTHER;
        }
        int code = session_run(a, &res);
        if (!a->opt->loop || g_stop || code == EXIT_OTHER) {
            return code;
        }
        bool busy = res.reason == RR_REASON_HANDSHAKE_PORT_BUSY ||
                    res.reason == RR_REASON_TRANSPORT_PORT_BUSY;
        if (!res.connected && !(again && busy)) {
            return code; /* the listening itself failed: it would fail again */
        }
        if (!res.connected) {
            out_say("the previous ports are taken; listening on the configured ones");
            again = false;
            continue;
        }
        if (!again) {
            tool_conn_listen_ports(tc, &port, &transport);
            port = port != 0 ? port : res.port;
            transport = transport != 0 ? transport : res.transport_port;
            again = true;
        }
    }
}

static int run(struct app *a, struct tool_conn *tc)
{
    const struct options *o = a->opt;
    const char *codecs = options_codecs(o);
    int code = probe_encoder(o, codecs);
    if (code != EXIT_OK || (code = create_renderer(o, &a->renderer)) != EXIT_OK) {
        return code;
    }
    /* The frame clock's sleep returns at once (EINTR); a second Ctrl-C kills should the
     * orderly disconnect hang. */
    tool_install_signals(&g_stop, TOOL_SECOND_SIGNAL_KILLS);
    if ((code = create_stream(a, codecs)) != EXIT_OK) {
        return code;
    }
    out_say("%s: %ux%u per eye, %u fps, encoder %s, codecs %s", PROG, o->eye_width, o->eye_height,
            o->fps, o->encoder != NULL ? o->encoder : "auto", codecs);
    return serve(a, tc);
}

int main(int argc, char **argv)
{
    static struct tool_conn tc;
    static struct options opt;
    struct app app = {.opt = &opt, .tc = &tc, .stop = &g_stop};
    int code;

    tool_conn_init(&tc, PROG, false);
    enum options_result p = options_parse(&opt, &tc, argc, argv);
    out_init(opt.quiet);
    tc.say = say_hook;
    if (p == OPTIONS_HELP) {
        options_print_usage();
        code = EXIT_OK;
    } else if (p == OPTIONS_NO_MEMORY) {
        out_error("out of memory while reading the command line");
        code = EXIT_OTHER;
    } else if (p == OPTIONS_USAGE) {
        code = EXIT_USAGE;
    } else if ((code = tool_conn_setup(&tc)) == EXIT_OK &&
               (code = options_check(&opt, &tc)) == EXIT_OK) {
        code = run(&app, &tc);
    }
    /* The stream may hold GL objects of the renderer's context, which is still current. */
    rr_stream_remote_destroy(&app.remote);
    renderer_destroy(&app.renderer);
    rr_context_destroy(&app.ctx);
    tool_conn_wipe(&tc);
    return code;
}
