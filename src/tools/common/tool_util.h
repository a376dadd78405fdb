/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tool_util — small pieces that openrr-remoting, openrr-player and openrr-testremote (and
 * tool_conn) share: stopping on SIGINT/SIGTERM, matching flag names, reading numbers,
 * durations and named choices from the command line, and the two kinds of error line (usage
 * and other). The wording of every message stays with the tool that prints it.
 *
 * Threads: the main thread, except the signal handler that tool_install_signals() installs.
 */
#ifndef RR_TOOL_UTIL_H
#define RR_TOOL_UTIL_H

#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What a second SIGINT or SIGTERM does while the orderly end that the first one asked for
 * runs: in both cases it kills the process with the signal's default action, should that end
 * hang. */
enum tool_second_signal {
    /* At once (SA_RESETHAND). */
    TOOL_SECOND_SIGNAL_KILLS,
    /* Only when the whole seconds of the monotonic clock have moved on by two or more since
     * the first (so more than a second later); earlier ones are ignored. `timeout` and shells
     * may deliver one signal to the process and again to its group, and that must not count
     * as two. */
    TOOL_SECOND_SIGNAL_KILLS_LATER,
};

/* Catch SIGINT and SIGTERM: the first sets *@p stop to 1 (the program polls it and ends in
 * order); a second one does what @p second says. Without SA_RESTART, so a sleep or wait that
 * the signal interrupts returns (EINTR) and the program sees *@p stop at once. Also ignores
 * SIGPIPE: a peer that vanishes mid-write ends the connection, not the process.
 * @p stop must outlive the handlers (a static); only the handler writes it. Call once, on the
 * main thread, before anything that waits for a signal starts. Cannot fail (sigaction() with
 * these signals and a valid handler does not). */
void tool_install_signals(volatile sig_atomic_t *stop, enum tool_second_signal second);

/* How a flag may be spelled on the command line. Both take '-' or '--' before the name and
 * ignore the case of ASCII letters. */
enum tool_flag_spelling {
    TOOL_FLAG_EXACT,      /* the name as it is: -listen, --Listen */
    TOOL_FLAG_ANY_DASHES, /* also with '-' or '_' anywhere inside: --max-bitrate, -max_Bitrate */
};

/* The entry of a program's flag table that the argument @p arg names, spelled as @p spelling
 * allows; NULL when none does (also for an argument that does not start with '-', and for "-"
 * and "--" alone). @p table is an array of @p count structs of @p entry_size bytes each (pass
 * sizeof table[0]) whose first member is the flag's name, a `const char *` in lower case without
 * dashes (e.g. "snapshotevery"), searched in order. Returns a pointer into @p table. */
const void *tool_flag_find(const char *arg, const void *table, size_t count, size_t entry_size,
                           enum tool_flag_spelling spelling);

/* Read the whole of @p s as a decimal integer (strtoll: optional leading white space and sign)
 * into *@p out when it lies in [@p min, @p max]. false, *@p out untouched, for an empty string,
 * anything after the digits, a value out of range or beyond int64_t. */
bool tool_parse_int64(const char *s, int64_t min, int64_t max, int64_t *out);

/* Read "WxH" (or "WXH") of two decimal numbers, each starting with a digit, even and within
 * [@p min, @p max], into *@p out_w and *@p out_h. false, outputs untouched, otherwise. */
bool tool_parse_even_size(const char *s, uint32_t min, uint32_t max, uint32_t *out_w,
                          uint32_t *out_h);

/* Keep a copy of the secret @p arg in *@p slot (freeing and wiping what was there) and blank
 * @p arg, so the secret does not linger in /proc/<pid>/cmdline. The copy is the caller's to
 * wipe and free. false when out of memory (*@p slot is then NULL; @p arg is blanked anyway). */
bool tool_take_secret(char **slot, char *arg);

/* Read the whole of @p s as seconds (strtod: decimals, exponents, hex) into *@p out when it is more
 * than 0 and at most @p max. false, *@p out untouched, for an empty string, anything after the
 * number, NaN, infinity, overflow (ERANGE, also a value too small for a double) or a value out
 * of range. */
bool tool_parse_seconds(const char *s, double max, double *out);

/* One allowed word of a flag's value and what it stands for (an enum's value). */
struct tool_choice {
    const char *name;
    int value;
};

/* Set *@p out_value to the value of the choice whose name equals @p s, ignoring ASCII case
 * (strcasecmp). false, *@p out_value untouched, when none does. */
bool tool_parse_choice(const char *s, const struct tool_choice *choices, size_t count,
                       int *out_value);

/* Print "error: <message>" and a newline on stderr and flush it: untimestamped, so that
 * scripts can match it. The line goes out in pieces without holding the stream's lock, so it is
 * for the main thread (or a caller that holds the lock of the streams it shares, as
 * openrr-testremote's output does). */
void tool_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void tool_error_va(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

/* Print "<prog>: <message>" and "Try '<prog> --help' for the list of flags." on stderr, the
 * tools' answer to a bad command line. Returns 64 (EX_USAGE of sysexits.h), every tool's exit
 * status for bad usage, so that a caller can `return tool_usage_error(...)`. Main thread. */
int tool_usage_error(const char *prog, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int tool_usage_error_va(const char *prog, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

#endif
