/* SPDX-License-Identifier: Apache-2.0 */
/*
 * player_end — the end of a connection: table, statistics file, exit status. See
 * player_end.h. Threads: the main thread.
 */
#include "player_end.h"

#include "player_msg.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void write_stats(struct player_app *app, const struct player_stats *stats,
                        const struct rr_stream_player_totals *t)
{
    FILE *f = app->stats_out;
    const char *path = app->opt.stats_path;
    /* With --loop the file holds the latest connection: start it afresh each time. */
    if (f != stdout) {
        rewind(f);
        if (ftruncate(fileno(f), 0) != 0) {
            player_error("cannot rewrite the statistics file '%s': %s", path, strerror(errno));
            app->failed = true;
            return;
        }
    }
    errno = 0;
    if (!player_stats_write_json(stats, t, f)) {
        player_error("cannot write the statistics to '%s': %s; give a writable file", path,
                     errno != 0 ? strerror(errno) : "out of memory");
        app->failed = true;
        return;
    }
    app->stats_written = true;
}

void player_end_report(struct player_app *app, const struct session_outcome *out,
                       const struct player_stats *stats, const struct rr_stream_player_totals *t)
{
    /* stdout carries the JSON with --stats -, and must hold nothing else then. */
    FILE *table = app->stats_out == stdout ? stderr : stdout;
    if (out->connected) {
        double secs = player_stats_duration_s(stats);
        fprintf(table,
                "frames: %" PRIu64 " new of %" PRIu64 " received (%" PRIu64 " skipped, %" PRIu64
                " discarded) in %.1f s, %.1f fps\n",
                out->frames, t->video_frames_received, t->video_frames_skipped,
                t->video_frames_discarded, secs, secs > 0 ? (double)out->frames / secs : 0.0);
        if (!player_stats_print_table(stats, table)) {
            player_error("out of memory sorting the latencies");
            app->failed = true;
        }
    }
    if (app->stats_out != NULL && (out->connected || !app->stats_written)) {
        write_stats(app, stats, t);
    }
}

/* What the user can do about a failed connection. */
static const char *hint(const struct player_app *app, enum rr_disconnect_reason reason)
{
    switch (reason) {
    case RR_REASON_HANDSHAKE_PORT_BUSY:
    case RR_REASON_TRANSPORT_PORT_BUSY:
        return "another program uses the port: stop it, or listen on another port "
               "(-listen :PORT, -transportport N or -ephemeralport)";
    case RR_REASON_HANDSHAKE_UNREACHABLE:
    case RR_REASON_HANDSHAKE_CONNECTION_REFUSED:
    case RR_REASON_HANDSHAKE_CONNECTION_FAILED:
    case RR_REASON_HANDSHAKE_NETWORK_UNREACHABLE:
    case RR_REASON_TRANSPORT_UNREACHABLE:
    case RR_REASON_TRANSPORT_CONNECTION_FAILED:
        return app->tc.opt.listen ? "check the address to listen on"
                                  : "check that the remote runs and listens on that host and port";
    case RR_REASON_AUTHENTICATION_FAILED:
        return "both sides need the same -authenticationtoken";
    case RR_REASON_NO_SERVER_CERTIFICATE:
        return "check -certificatestore, -keypassphrase and -subjectname";
    case RR_REASON_HANDSHAKE_FAILED:
        return "are both sides plain, or both -secureconnection?";
    case RR_REASON_VIDEO_CODEC_NOT_AVAILABLE:
        return "the remote and the player share no video codec";
    case RR_REASON_PEER_DISCONNECT_TIMEOUT:
    case RR_REASON_CONNECTION_LOST:
        return "the remote stopped answering (crashed, or the network dropped)";
    default:
        return NULL;
    }
}

int player_end_status(struct player_app *app, const struct session_outcome *out)
{
    const struct player_options *o = &app->opt;
    char why[256];
    if (out->timed_out) {
        return PLAYER_EXIT_CONNECTION;
    }
    if (!out->ended) {
        player_error("the connection did not close after the disconnect request");
        return PLAYER_EXIT_CONNECTION;
    }
    tool_conn_describe(out->reason, out->detail, why, sizeof why);
    bool clean = out->reason == RR_REASON_DISCONNECT_REQUEST ||
                 out->reason == RR_REASON_PEER_DISCONNECT_REQUEST;
    if (!clean) {
        const char *h = hint(app, out->reason);
        player_error("%s%s%s", why, h != NULL ? "; " : "", h != NULL ? h : "");
        return PLAYER_EXIT_CONNECTION;
    }
    if (out->connected) {
        player_note("disconnected: %s", why);
    }
    if (o->frames != 0 && out->goal_frames < o->frames) {
        player_error("%" PRIu64 " of %" PRIu64 " frames arrived%s before the %s ended",
                     out->goal_frames, o->frames, o->scene_path ? " after the scene script" : "", out->connected ? "connection" : "wait for a connection");
        return PLAYER_EXIT_CONNECTION;
    }
    return app->failed ? PLAYER_EXIT_OTHER : PLAYER_EXIT_OK;
}
