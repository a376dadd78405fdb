/* SPDX-License-Identifier: Apache-2.0 */
/*
 * player_args — openrr-player's flags and usage. See player_args.h. Threads: main only.
 */
#include "player_args.h"

#include "tool_util.h"

#include <stdarg.h>
#include <string.h>

#define DEFAULT_FPS 60u
#define MAX_FPS 240u
#define DEFAULT_SNAPSHOT_EVERY 60u
/* A day: longer runs are meant for --loop, and it keeps the arithmetic far from overflow. */
#define MAX_DURATION_S 86400.0
#define MAX_PRESENT_LATENCY_US 1000000
#define MAX_CLOCK_SKEW_US 86400000000LL

enum flag_id {
    FLAG_HEADLESS,
    FLAG_VIEW,
    FLAG_POSE,
    FLAG_FPS,
    FLAG_FRAMES,
    FLAG_DURATION,
    FLAG_SNAPSHOT,
    FLAG_SNAPSHOT_EVERY,
    FLAG_STATS,
    FLAG_BLIT_TIMEOUT,
    FLAG_PRESENT_LATENCY,
    FLAG_CLOCK_SKEW,
    FLAG_QUIET,
    FLAG_LOOP,
    FLAG_SCENE,
    FLAG_SESSION,
    FLAG_SERVICE,
    FLAG_ACCOUNT_ID,
    FLAG_ACCOUNT_DOMAIN,
    FLAG_SERVICE_CA,
    FLAG_HELP,
};

struct flag {
    const char *name; /* lower case, without dashes inside; first, for tool_flag_find() */
    enum flag_id id;
    bool takes_value;
};

static const struct flag k_flags[] = {
    {"headless", FLAG_HEADLESS, false},
    {"view", FLAG_VIEW, true},
    {"pose", FLAG_POSE, true},
    {"fps", FLAG_FPS, true},
    {"frames", FLAG_FRAMES, true},
    {"duration", FLAG_DURATION, true},
    {"snapshot", FLAG_SNAPSHOT, true},
    {"snapshotevery", FLAG_SNAPSHOT_EVERY, true},
    {"stats", FLAG_STATS, true},
    {"blittimeout", FLAG_BLIT_TIMEOUT, true},
    {"presentlatency", FLAG_PRESENT_LATENCY, true},
    {"clockskew", FLAG_CLOCK_SKEW, true},
    {"q", FLAG_QUIET, false},
    {"quiet", FLAG_QUIET, false},
    {"loop", FLAG_LOOP, false},
    {"scene", FLAG_SCENE, true},
    {"session", FLAG_SESSION, true},
    {"service", FLAG_SERVICE, true},
    {"accountid", FLAG_ACCOUNT_ID, true},
    {"accountdomain", FLAG_ACCOUNT_DOMAIN, true},
    {"serviceca", FLAG_SERVICE_CA, true},
    {"h", FLAG_HELP, false},
    {"help", FLAG_HELP, false},
};

static const char k_usage[] =
    "Usage: openrr-player [-listen [host[:port]] | host[:port]] [options]\n"
    "\n"
    "Receives the stereo video of an OpenRR remote, shows it in a window (or runs headless),\n"
    "and sends a head pose every display frame. Listens on port 8265 unless given a host to\n"
    "connect to. A listener serves one connection and exits when it ends (see --loop).\n"
    "Flags take '-' or '--' and ignore case; '--snapshot-every' may also be written\n"
    "'-snapshotevery'.\n"
    "\n"
    "Player:\n"
    "  --headless                  no window, even when a display exists\n"
    "  --view sbs|left|right       what the window shows: both eyes (default) or one\n"
    "  --pose static|orbit|FILE    head pose: standing at (0, 1.6, 0) looking down -Z\n"
    "                              (default); circling the origin at 2 m every 10 s; or a\n"
    "                              recorded file ('t_ms px py pz qx qy qz qw' lines, '#'\n"
    "                              comments, looped)\n"
    "  --fps N                     display and pose rate, 1-240 (default 60)\n"
    "  --frames N                  exit 0 after N new frames (with --scene: after the\n"
    "                              script); fewer before the end: exit 2\n"
    "  --duration S                exit 0 after S seconds connected (decimals allowed)\n"
    "  --snapshot DIR              write DIR/frame-<id>.png: the first new frame, every\n"
    "                              K-th after it and the last one (DIR is created)\n"
    "  --snapshot-every K          K for --snapshot (default 60)\n"
    "  --stats FILE                write the statistics JSON when the connection ends\n"
    "                              ('-' = stdout; the latency table then goes to stderr)\n"
    "  --blit-timeout MS           do not show a frame older than MS: 0 (off, default) or\n"
    "                              100-60000\n"
    "  --present-latency US        expected time from present to photons (default: one\n"
    "                              display frame with a window, 0 headless)\n"
    "  --scene FILE                once connected, run the scene script FILE: load models,\n"
    "                              pick, move, tint, hide, cut, ray cast, query, destroy\n"
    "                              (docs/player.md); a line with an unexpected result: exit 1\n"
    "  --session ID                connect to the rendering session ID of an openrrd service\n"
    "                              through the SDK (waits until it is Ready; the access token\n"
    "                              and the service's CA replace the security flags); needs:\n"
    "  --service URL               the service, e.g. http://127.0.0.1:8710\n"
    "  --account-id ID             the account\n"
    "  --account-domain D          its domain (realm openrr:D)\n"
    "  --service-ca FILE           PEM trust anchors for an HTTPS service (default: system)\n"
    "                              The key comes from $OPENRR_ACCOUNT_KEY (or an access token\n"
    "                              from $OPENRR_ACCESS_TOKEN), never from the command line.\n"
    "  --loop                      listener: listen again after each connection, until\n"
    "                              SIGINT or SIGTERM\n"
    "  -q, --quiet                 no live status line\n"
    "  -h, --help                  show this text\n"
    "  --clock-skew US             tests only: shift this side's clock by US microseconds\n"
    "\n";

static const char k_usage_tail[] =
    "\n"
    "The window opens when $DISPLAY, $WAYLAND_DISPLAY or $SDL_VIDEODRIVER is set; closing it,\n"
    "Escape, Q, SIGINT or SIGTERM disconnects (the remote sees PeerDisconnectRequest).\n"
    "Before exiting the player prints the median and p99 latency of every stage.\n"
    "\n"
    "Exit status: 0 success (a clean end: the remote or we disconnected, or the --frames /\n"
    "--duration goal), 1 other error (file, library, window), 2 the connection failed or ended\n"
    "abnormally, or fewer than --frames frames arrived (reason on stderr), 64 bad usage.\n"
    "\n"
    "Examples:\n"
    "  openrr-player                                   # listen on 8265, show the video\n"
    "  openrr-player --headless --frames 600 --snapshot shots --stats run.json\n"
    "  openrr-player --pose orbit render.example.org:8265\n"
    "  openrr-player --scene engine.scene --frames 60 --snapshot shots render-box:8265\n"
    "  OPENRR_ACCOUNT_KEY=… openrr-player --session demo --service http://127.0.0.1:8710 \\\n"
    "      --account-id 6f1c… --account-domain openrr.localhost --headless --frames 60\n"
    "  openrr-player -secureconnection -listen 0.0.0.0:8265 -certificatestore player.pfx \\\n"
    "      -keypassphrase pw -authenticationtoken s3cret\n";

void player_args_usage(FILE *out)
{
    fputs(k_usage, out);
    fputs(tool_conn_usage(), out);
    fputs(k_usage_tail, out);
}

int player_args_usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    tool_usage_error_va(PLAYER_PROG, fmt, ap);
    va_end(ap);
    return PLAYER_EXIT_USAGE;
}

/* Store @p value of flag @p f (spelled @p arg). Returns false after printing the error. */
static bool apply(struct player_options *o, const struct flag *f, const char *arg,
                  const char *value)
{
    static const struct tool_choice views[] = {
        {"sbs", PLAYER_VIEW_SBS},
        {"left", PLAYER_VIEW_LEFT},
        {"right", PLAYER_VIEW_RIGHT},
    };
    int view = 0;
    int64_t n = 0;
    switch (f->id) {
    case FLAG_HEADLESS:
        o->headless = true;
        return true;
    case FLAG_VIEW:
        if (!tool_parse_choice(value, views, sizeof views / sizeof views[0], &view)) {
            player_args_usage_error("%s is sbs, left or right, not '%s'", arg, value);
            return false;
        }
        o->view = (enum player_view)view;
        return true;
    case FLAG_POSE:
        if (value[0] == '\0') {
            player_args_usage_error("%s needs static, orbit or a pose file", arg);
            return false;
        }
        o->pose = value;
        return true;
    case FLAG_FPS:
        if (!tool_parse_int64(value, 1, MAX_FPS, &n)) {
            player_args_usage_error("%s needs frames per second 1-%u, not '%s'", arg, MAX_FPS,
                                    value);
            return false;
        }
        o->fps = (uint32_t)n;
        return true;
    case FLAG_FRAMES:
        if (!tool_parse_int64(value, 1, INT64_MAX, &n)) {
            player_args_usage_error("%s needs a number of frames (1 or more), not '%s'", arg,
                                    value);
            return false;
        }
        o->frames = (uint64_t)n;
        return true;
    case FLAG_DURATION:
        if (!tool_parse_seconds(value, MAX_DURATION_S, &o->duration_s)) {
            player_args_usage_error("%s needs seconds (more than 0, at most %.0f), not '%s'", arg,
                                    MAX_DURATION_S, value);
            return false;
        }
        return true;
    case FLAG_SNAPSHOT:
        if (value[0] == '\0') {
            player_args_usage_error("%s needs a directory", arg);
            return false;
        }
        o->snapshot_dir = value;
        return true;
    case FLAG_SNAPSHOT_EVERY:
        if (!tool_parse_int64(value, 1, 1000000, &n)) {
            player_args_usage_error("%s needs a number of frames 1-1000000, not '%s'", arg, value);
            return false;
        }
        o->snapshot_every = (uint32_t)n;
        o->snapshot_every_given = true;
        return true;
    case FLAG_STATS:
        if (value[0] == '\0') {
            player_args_usage_error("%s needs a file name, or '-' for stdout", arg);
            return false;
        }
        o->stats_path = value;
        return true;
    case FLAG_BLIT_TIMEOUT:
        if (!tool_parse_int64(value, 0, 60000, &n) || (n > 0 && n < 100)) {
            player_args_usage_error("%s needs milliseconds: 0 (off) or 100-60000, not '%s'", arg,
                                    value);
            return false;
        }
        o->blit_timeout_ms = (uint32_t)n;
        return true;
    case FLAG_PRESENT_LATENCY:
        if (!tool_parse_int64(value, 0, MAX_PRESENT_LATENCY_US, &n)) {
            player_args_usage_error("%s needs microseconds 0-%d, not '%s'", arg,
                                    MAX_PRESENT_LATENCY_US, value);
            return false;
        }
        o->present_latency_us = n;
        return true;
    case FLAG_CLOCK_SKEW:
        if (!tool_parse_int64(value, -MAX_CLOCK_SKEW_US, MAX_CLOCK_SKEW_US, &n)) {
            player_args_usage_error("%s needs microseconds within a day either way, not '%s'", arg,
                                    value);
            return false;
        }
        o->clock_skew_us = n;
        return true;
    case FLAG_QUIET:
        o->quiet = true;
        return true;
    case FLAG_SCENE:
        o->scene_path = value;
        break;
    case FLAG_SESSION:
        o->session_id = value;
        break;
    case FLAG_SERVICE:
        o->service_url = value;
        break;
    case FLAG_ACCOUNT_ID:
        o->account_id = value;
        break;
    case FLAG_ACCOUNT_DOMAIN:
        o->account_domain = value;
        break;
    case FLAG_SERVICE_CA:
        o->service_ca = value;
        break;
    case FLAG_LOOP:
        o->loop = true;
        return true;
    case FLAG_HELP:
        break;
    }
    return true;
}

/* Combinations of the player's flags that cannot be meant. */
static bool check(const struct player_options *o)
{
    if (o->snapshot_every_given && o->snapshot_dir == NULL) {
        player_args_usage_error("--snapshot-every needs --snapshot DIR");
        return false;
    }
    bool service = o->service_url || o->account_id || o->account_domain || o->service_ca;
    if (o->session_id != NULL && (!o->service_url || !o->account_id || !o->account_domain)) {
        player_args_usage_error("--session needs --service, --account-id and --account-domain");
        return false;
    }
    if (o->session_id == NULL && service) {
        player_args_usage_error("--service, --account-id, --account-domain and --service-ca "
                                "are for --session");
        return false;
    }
    if (o->session_id != NULL && o->loop) {
        player_args_usage_error("--loop is for a listener; --session connects once");
        return false;
    }
    return true;
}

enum player_args_result player_args_parse(int argc, char **argv, struct player_options *o,
                                          struct tool_conn *tc)
{
    memset(o, 0, sizeof *o);
    o->view = PLAYER_VIEW_SBS;
    o->pose = "static";
    o->fps = DEFAULT_FPS;
    o->snapshot_every = DEFAULT_SNAPSHOT_EVERY;
    o->present_latency_us = -1;

    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        const struct flag *f = tool_flag_find(arg, k_flags, sizeof k_flags / sizeof k_flags[0],
                                              sizeof k_flags[0], TOOL_FLAG_ANY_DASHES);
        if (f == NULL) {
            switch (tool_conn_parse_arg(tc, argc, argv, &i)) {
            case TOOL_CONN_TAKEN:
                /* tool_conn leaves *i on the last argument it consumed. */
                continue;
            case TOOL_CONN_BAD:
                return PLAYER_ARGS_BAD;
            case TOOL_CONN_NO_MEMORY:
                return PLAYER_ARGS_NO_MEMORY;
            case TOOL_CONN_NOT_MINE:
                break;
            }
            player_args_usage_error("unknown flag '%s'", arg);
            return PLAYER_ARGS_BAD;
        }
        if (f->id == FLAG_HELP) {
            return PLAYER_ARGS_HELP;
        }
        const char *value = NULL;
        if (f->takes_value) {
            if (i + 1 >= argc) {
                player_args_usage_error("%s needs a value", arg);
                return PLAYER_ARGS_BAD;
            }
            value = argv[++i];
        }
        if (!apply(o, f, arg, value)) {
            return PLAYER_ARGS_BAD;
        }
    }
    return check(o) ? PLAYER_ARGS_GO : PLAYER_ARGS_BAD;
}
