/* SPDX-License-Identifier: Apache-2.0 */
/*
 * player_end — what openrr-player says when a connection ends: the frame counts and the
 * latency table, the statistics file, and the exit status with the reason and what to do
 * about it.
 *
 * Threads: the main thread.
 */
#ifndef OPENRR_PLAYER_END_H
#define OPENRR_PLAYER_END_H

#include "player_session.h"
#include "player_stats.h"

#include <openrr/stream.h>

/* Print the counts and the per-stage table of a connection that was made (stdout; stderr
 * when the JSON goes to stdout), then write the --stats JSON: for every connection, and for a
 * failed attempt when nothing was written yet. Failures set app->failed. */
void player_end_report(struct player_app *app, const struct session_outcome *out,
                       const struct player_stats *stats,
                       const struct rr_stream_player_totals *totals);

/* The exit status a session deserves (enum player_exit). A failure prints the reason and a
 * hint on stderr; a clean end prints the disconnect line. */
int player_end_status(struct player_app *app, const struct session_outcome *out);

#endif /* OPENRR_PLAYER_END_H */
