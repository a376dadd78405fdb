/* SPDX-License-Identifier: Apache-2.0 */
/*
 * output — what openrr-testremote prints: timestamped lines on stdout, flushed at once (tests
 * and scripts read them through pipes), errors on stderr, and on a terminal one live status
 * line that the other lines step around.
 *
 * Threads: any; lines are written whole under the stdout lock (tool_conn's progress lines come
 * from the library's network thread). out_init first, on the main thread.
 */
#ifndef TR_OUTPUT_H
#define TR_OUTPUT_H

#include <stdarg.h>
#include <stdbool.h>

/* Start the clock of the timestamps. @p quiet keeps out_say lines and the live line away. */
void out_init(bool quiet);

/* "[  1.234] line" on stdout (seconds since out_init), unless quiet. */
void out_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void out_say_va(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));
/* The same, also when quiet: the summary. */
void out_report(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "error: line" on stderr, untimestamped so that scripts can match it. */
void out_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Whether a live line is shown at all: stdout is a terminal and not quiet. */
bool out_live_enabled(void);
/* Replace the live line (nothing when not enabled). */
void out_live(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Remove the live line, e.g. before the summary. */
void out_live_clear(void);

#endif
