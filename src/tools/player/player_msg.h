/* SPDX-License-Identifier: Apache-2.0 */
/*
 * player_msg — openrr-player's messages on stderr: "openrr-player: …" notes, warnings and
 * errors. stdout is kept for the latency table and the statistics JSON, so that
 * `--stats -` gives a clean document to a pipe.
 *
 * Threads: any; each message is one write of stdio's stderr lock.
 */
#ifndef OPENRR_PLAYER_MSG_H
#define OPENRR_PLAYER_MSG_H

#include <stdarg.h>

/* "openrr-player: <message>" */
void player_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The same from a va_list; the shape of tool_conn's say hook (@p user unused). */
void player_vnote(void *user, const char *fmt, va_list ap);
/* "openrr-player: warning: <message>" */
void player_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "openrr-player: error: <message>"; scripts match the reason names in these lines. */
void player_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif /* OPENRR_PLAYER_MSG_H */
