/* SPDX-License-Identifier: Apache-2.0 */
/*
 * options — openrr-testremote's command line (see options.h).
 *
 * Threads: the main thread.
 */
#include "options.h"

#include <tool_util.h>

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define PROG "openrr-testremote"
#define MIN_EYE_SIZE 16
#define MAX_EYE_SIZE 4096
#define MAX_FPS 240
#define MIN_BITRATE_KBPS 100 /* the library's lower bound */
#define MAX_BITRATE_KBPS 1000000
#define MAX_DURATION_S 1e7
#define MAX_CLOCK_SKEW_US 86400000000LL /* a day */

enum flag_id {
    FLAG_SIZE,
    FLAG_FPS,
    FLAG_MAX_BITRATE,
    FLAG_FIXED_BITRATE,
    FLAG_ENCODER,
    FLAG_CODEC,
    FLAG_KEYFRAME_INTERVAL,
    FLAG_SCENE,
    FLAG_GL,
    FLAG_FRAMES,
    FLAG_DURATION,
    FLAG_LOOP,
    FLAG_CLOCK_SKEW,
    FLAG_QUIET,
    FLAG_HELP,
};

struct flag {
    const char *name; /* lower case, without dashes; first, for tool_flag_find() */
    enum flag_id id;
    bool has_value;
};

static const struct flag k_flags[] = {
    {"size", FLAG_SIZE, true},
    {"fps", FLAG_FPS, true},
    {"maxbitrate", FLAG_MAX_BITRATE, true},
    {"fixedbitrate", FLAG_FIXED_BITRATE, false},
    {"encoder", FLAG_ENCODER, true},
    {"codec", FLAG_CODEC, true},
    {"keyframeinterval", FLAG_KEYFRAME_INTERVAL, true},
    {"scene", FLAG_SCENE, true},
    {"gl", FLAG_GL, false},
    {"frames", FLAG_FRAMES, true},
    {"duration", FLAG_DURATION, true},
    {"loop", FLAG_LOOP, false},
    {"clockskew", FLAG_CLOCK_SKEW, true},
    {"q", FLAG_QUIET, false},
    {"quiet", FLAG_QUIET, false},
    {"h", FLAG_HELP, false},
    {"help", FLAG_HELP, false},
};

/* The encoders whose codec is known, so that a contradicting --codec is a usage error rather
 * than a failed handshake later. Other names go to the probe, which says what is wrong. */
static const struct {
    const char *encoder;
    enum options_codec codec;
} k_encoders[] = {
    {"libx264", OPTIONS_CODEC_H264},
    {"h264_nvenc", OPTIONS_CODEC_H264},
    {"libx265", OPTIONS_CODEC_HEVC},
    {"hevc_nvenc", OPTIONS_CODEC_HEVC},
};

static const char k_usage_head[] =
    "Usage: " PROG " [host[:port] | -listen [host[:port]]] [options]\n"
    "\n"
    "Renders a simple animated test scene for the head pose the player sends and streams it\n"
    "as video: a remote for testing a player and the stream without the real renderer, and\n"
    "for checking what a network carries. By default it connects to a player listening on\n"
    "localhost:8265. Flags take '-' or '--' and ignore case.\n"
    "\n"
    "Stream:\n"
    "  --size WxH                  image size per eye (default 1280x720; even, 16-4096); the\n"
    "                              video holds both eyes side by side: 2W x H\n"
    "  --fps N                     frame rate (default 60, 1-240)\n"
    "  --max-bitrate KBPS          cap of the video bitrate (default 20000, 100-1000000)\n"
    "  --fixed-bitrate             stay at the cap instead of adapting to the link\n"
    "  --encoder NAME              auto, libx264, h264_nvenc, libx265 or hevc_nvenc (default\n"
    "                              auto: NVENC when it opens here, else libx264)\n"
    "  --codec auto|h264|hevc      codecs offered to the player (default auto: what the\n"
    "                              encoder can make, HEVC only with a hardware encoder)\n"
    "  --keyframe-interval N       frames between periodic keyframes (default 5 x fps)\n"
    "\n"
    "Scene:\n"
    "  --scene grid|noise          grid (default): sky and ground split at a horizon that\n"
    "                              follows the head's pitch, stripes and compass markers that\n"
    "                              move with its yaw, a moving square, the frame number\n"
    "                              (white) and pose id (yellow); noise: new random pixels\n"
    "                              every frame, which no encoder can compress (tests the\n"
    "                              bitrate cap)\n"
    "  --gl                        render with OpenGL 4.5 (EGL, no window) and submit the\n"
    "                              texture: the stream converts it to YUV on the GPU\n"
    "\n"
    "Run:\n"
    "  --frames N                  per connection: stop after N frames and disconnect\n"
    "  --duration S                per connection: stop after S seconds (e.g. 2.5)\n"
    "  --loop                      with -listen: serve one connection after another until\n"
    "                              Ctrl-C (otherwise the first connection's end ends the run)\n"
    "  -q, --quiet                 print only errors and the summary\n"
    "  -h, --help                  show this text\n"
    "\n";

static const char k_usage_tail[] =
    "\n"
    "Output: one timestamped line per connection event, a live status line on a terminal\n"
    "(fps, encode time, bitrate, skipped frames, keyframes) and a summary when a connection\n"
    "ends.\n"
    "\n"
    "Exit status: 0 the connection ended by request (ours at --frames, --duration or Ctrl-C,\n"
    "or the player's), 1 other error (encoder, OpenGL, files), 2 the connection failed or\n"
    "ended abnormally (reason on stderr), 64 bad usage.\n"
    "\n"
    "Examples:\n"
    "  openrr-player &                         # listens on port 8265\n"
    "  " PROG "                       # connects to it and streams 1280x720 per eye\n"
    "  " PROG " --gl --frames 600 headset.local:8265\n"
    "  " PROG " --scene noise --max-bitrate 2000 --fixed-bitrate --duration 30\n"
    "  " PROG " -listen --loop --encoder libx264   # for a player that connects\n"
    "  " PROG " -secureconnection -authenticationtoken s3cret -cafile server.pem \\\n"
    "      headset.local\n";

void options_print_usage(void)
{
    fputs(k_usage_head, stdout);
    fputs(tool_conn_usage(), stdout);
    fputs(k_usage_tail, stdout);
}

static bool parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
    char *end = NULL;
    if (!isdigit((unsigned char)s[0])) {
        return false;
    }
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (*end != '\0' || errno != 0 || v < min || v > max) {
        return false;
    }
    *out = v;
    return true;
}

static bool parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out)
{
    uint64_t v;
    if (!parse_u64(s, min, max, &v)) {
        return false;
    }
    *out = (uint32_t)v;
    return true;
}

static bool parse_seconds(const char *s, uint64_t *out_us)
{
    double v;
    if (!tool_parse_seconds(s, MAX_DURATION_S, &v)) {
        return false;
    }
    *out_us = (uint64_t)llround(v * 1e6);
    return *out_us > 0;
}

static const struct tool_choice k_codecs[] = {
    {"auto", OPTIONS_CODEC_AUTO},
    {"h264", OPTIONS_CODEC_H264},
    {"hevc", OPTIONS_CODEC_HEVC},
};

static const struct tool_choice k_scenes[] = {
    {"grid", SCENE_GRID},
    {"noise", SCENE_NOISE},
};

/* libavcodec's names are lower case; the value need not be. Unknown names are left to the
 * encoder probe, which lists the known ones. */
static int set_encoder(struct options *o, const char *arg, const char *v)
{
    size_t len = strlen(v);
    if (len == 0 || len >= sizeof o->encoder_name) {
        return tool_usage_error(PROG,
                                "%s needs an encoder name: auto, libx264, h264_nvenc, libx265 or "
                                "hevc_nvenc",
                                arg);
    }
    for (size_t i = 0; i <= len; i++) {
        o->encoder_name[i] = (char)tolower((unsigned char)v[i]);
    }
    o->encoder = strcmp(o->encoder_name, "auto") == 0 ? NULL : o->encoder_name;
    return 0;
}

/* Store the value of flag @p f, spelled @p arg. Returns 0 or 64 after a usage error. */
static int apply_value(struct options *o, const struct flag *f, const char *arg, const char *v)
{
    int choice = 0;
    switch (f->id) {
    case FLAG_SIZE:
        if (!tool_parse_even_size(v, MIN_EYE_SIZE, MAX_EYE_SIZE, &o->eye_width, &o->eye_height)) {
            return tool_usage_error(PROG,
                                    "%s needs WxH per eye, both even and 16-4096 (e.g. 1280x720), "
                                    "not '%s'",
                                    arg, v);
        }
        return 0;
    case FLAG_FPS:
        if (!parse_u32(v, 1, MAX_FPS, &o->fps)) {
            return tool_usage_error(PROG, "%s needs frames per second (1-%d), not '%s'", arg,
                                    MAX_FPS, v);
        }
        return 0;
    case FLAG_MAX_BITRATE:
        if (!parse_u32(v, MIN_BITRATE_KBPS, MAX_BITRATE_KBPS, &o->max_bitrate_kbps)) {
            return tool_usage_error(PROG, "%s needs kbit/s (%d-%d), not '%s'", arg,
                                    MIN_BITRATE_KBPS, MAX_BITRATE_KBPS, v);
        }
        return 0;
    case FLAG_ENCODER:
        return set_encoder(o, arg, v);
    case FLAG_CODEC:
        if (!tool_parse_choice(v, k_codecs, sizeof k_codecs / sizeof k_codecs[0], &choice)) {
            return tool_usage_error(PROG, "%s is auto, h264 or hevc, not '%s'", arg, v);
        }
        o->codec = (enum options_codec)choice;
        return 0;
    case FLAG_KEYFRAME_INTERVAL:
        if (!parse_u32(v, 1, 1000000, &o->keyframe_interval)) {
            return tool_usage_error(PROG, "%s needs a number of frames (1-1000000), not '%s'", arg,
                                    v);
        }
        return 0;
    case FLAG_SCENE:
        if (!tool_parse_choice(v, k_scenes, sizeof k_scenes / sizeof k_scenes[0], &choice)) {
            return tool_usage_error(PROG, "%s is grid or noise, not '%s'", arg, v);
        }
        o->scene = (enum scene_kind)choice;
        return 0;
    case FLAG_FRAMES:
        if (!parse_u64(v, 1, UINT64_MAX, &o->frames)) {
            return tool_usage_error(PROG, "%s needs a number of frames (at least 1), not '%s'", arg,
                                    v);
        }
        return 0;
    case FLAG_DURATION:
        if (!parse_seconds(v, &o->duration_us)) {
            return tool_usage_error(PROG, "%s needs seconds (more than 0, e.g. 2.5), not '%s'", arg,
                                    v);
        }
        return 0;
    case FLAG_CLOCK_SKEW:
        if (!tool_parse_int64(v, -MAX_CLOCK_SKEW_US, MAX_CLOCK_SKEW_US, &o->clock_skew_us)) {
            return tool_usage_error(PROG, "%s needs microseconds (may be negative), not '%s'", arg,
                                    v);
        }
        return 0;
    default:
        return 0;
    }
}

static void apply_switch(struct options *o, const struct flag *f)
{
    switch (f->id) {
    case FLAG_FIXED_BITRATE:
        o->fixed_bitrate = true;
        break;
    case FLAG_GL:
        o->gl = true;
        break;
    case FLAG_LOOP:
        o->loop = true;
        break;
    case FLAG_QUIET:
        o->quiet = true;
        break;
    default:
        break;
    }
}

static void set_defaults(struct options *o)
{
    memset(o, 0, sizeof *o);
    o->eye_width = 1280;
    o->eye_height = 720;
    o->fps = 60;
    o->max_bitrate_kbps = 20000;
    o->codec = OPTIONS_CODEC_AUTO;
    o->scene = SCENE_GRID;
}

static int check_encoder_codec(const struct options *o)
{
    if (o->encoder == NULL || o->codec == OPTIONS_CODEC_AUTO) {
        return 0;
    }
    for (size_t i = 0; i < sizeof k_encoders / sizeof k_encoders[0]; i++) {
        if (strcasecmp(o->encoder, k_encoders[i].encoder) == 0 && k_encoders[i].codec != o->codec) {
            return tool_usage_error(PROG,
                                    "--encoder %s makes %s, not %s; leave out --codec or use "
                                    "--codec %s",
                                    o->encoder,
                                    k_encoders[i].codec == OPTIONS_CODEC_H264 ? "h264" : "hevc",
                                    o->codec == OPTIONS_CODEC_H264 ? "h264" : "hevc",
                                    k_encoders[i].codec == OPTIONS_CODEC_H264 ? "h264" : "hevc");
        }
    }
    return 0;
}

enum options_result options_parse(struct options *o, struct tool_conn *tc, int argc, char **argv)
{
    set_defaults(o);
    for (int i = 1; i < argc; i++) {
        enum tool_conn_parse p = tool_conn_parse_arg(tc, argc, argv, &i);
        if (p == TOOL_CONN_TAKEN) {
            continue;
        }
        if (p == TOOL_CONN_BAD) {
            return OPTIONS_USAGE;
        }
        if (p == TOOL_CONN_NO_MEMORY) {
            return OPTIONS_NO_MEMORY;
        }
        const char *arg = argv[i];
        const struct flag *f = tool_flag_find(arg, k_flags, sizeof k_flags / sizeof k_flags[0],
                                              sizeof k_flags[0], TOOL_FLAG_ANY_DASHES);
        if (f == NULL) {
            tool_usage_error(PROG, "unknown flag '%s'", arg);
            return OPTIONS_USAGE;
        }
        if (f->id == FLAG_HELP) {
            return OPTIONS_HELP;
        }
        if (!f->has_value) {
            apply_switch(o, f);
            continue;
        }
        if (i + 1 >= argc) {
            tool_usage_error(PROG, "%s needs a value", arg);
            return OPTIONS_USAGE;
        }
        if (apply_value(o, f, arg, argv[++i]) != 0) {
            return OPTIONS_USAGE;
        }
    }
    return check_encoder_codec(o) == 0 ? OPTIONS_GO : OPTIONS_USAGE;
}

int options_check(const struct options *o, const struct tool_conn *tc)
{
    if (o->loop && !tc->opt.listen) {
        return tool_usage_error(PROG,
                                "--loop serves connection after connection, so it needs -listen");
    }
    return 0;
}

const char *options_codecs(const struct options *o)
{
    switch (o->codec) {
    case OPTIONS_CODEC_H264:
        return "h264";
    case OPTIONS_CODEC_HEVC:
        return "hevc";
    case OPTIONS_CODEC_AUTO:
        break;
    }
    return rr_stream_remote_codecs(o->encoder);
}
