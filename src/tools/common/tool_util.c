/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tool_util — signals, flag names, value parsing and error lines shared by OpenRR's programs
 * (see tool_util.h).
 *
 * Threads: the main thread (the error lines: see tool_util.h); the signal handlers run on
 * whichever thread the kernel picks and only touch volatile sig_atomic_t objects and call
 * async-signal-safe functions.
 */
#include "tool_util.h"

#include <openssl/crypto.h>

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* ---- signals ----------------------------------------------------------------------------- */

/* Set once by tool_install_signals(), before the handlers can run. */
static volatile sig_atomic_t *g_stop;
static volatile sig_atomic_t g_stop_sec; /* CLOCK_MONOTONIC second of the first signal */

static void stop_on_signal(int signo)
{
    (void)signo;
    *g_stop = 1;
}

static void stop_then_kill_later(int signo)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    if (!*g_stop) {
        *g_stop = 1;
        g_stop_sec = (sig_atomic_t)ts.tv_sec;
        return;
    }
    if ((sig_atomic_t)ts.tv_sec - g_stop_sec >= 2) {
        signal(signo, SIG_DFL);
        raise(signo);
    }
}

void tool_install_signals(volatile sig_atomic_t *stop, enum tool_second_signal second)
{
    struct sigaction sa;
    g_stop = stop;
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    if (second == TOOL_SECOND_SIGNAL_KILLS) {
        sa.sa_handler = stop_on_signal;
        sa.sa_flags = (int)SA_RESETHAND;
    } else {
        sa.sa_handler = stop_then_kill_later;
    }
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sa.sa_handler = SIG_IGN;
    sa.sa_flags = 0;
    sigaction(SIGPIPE, &sa, NULL);
}

/* ---- command line ------------------------------------------------------------------------ */

static char ascii_lower(char c)
{
    return (char)((c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c);
}

/* Whether @p arg is "-" or "--" and then @p name, spelled as @p spelling allows. */
static bool flag_is(const char *arg, const char *name, enum tool_flag_spelling spelling)
{
    if (arg[0] != '-') {
        return false;
    }
    const char *p = arg + (arg[1] == '-' ? 2 : 1);
    if (*p == '\0') {
        return false;
    }
    for (;; p++) {
        if (spelling == TOOL_FLAG_ANY_DASHES && (*p == '-' || *p == '_')) {
            continue;
        }
        if (ascii_lower(*p) != *name) {
            return false;
        }
        if (*p == '\0') {
            return true;
        }
        name++;
    }
}

const void *tool_flag_find(const char *arg, const void *table, size_t count, size_t entry_size,
                           enum tool_flag_spelling spelling)
{
    for (size_t i = 0; i < count; i++) {
        /* A pointer to a struct, converted, points to its first member: the name. */
        const void *entry = (const char *)table + i * entry_size;
        if (flag_is(arg, *(const char *const *)entry, spelling)) {
            return entry;
        }
    }
    return NULL;
}

bool tool_parse_int64(const char *s, int64_t min, int64_t max, int64_t *out)
{
    char *end = NULL;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (s[0] == '\0' || *end != '\0' || errno != 0 || v < min || v > max) {
        return false;
    }
    *out = v;
    return true;
}

bool tool_parse_seconds(const char *s, double max, double *out)
{
    char *end = NULL;
    errno = 0;
    double v = strtod(s, &end);
    if (s[0] == '\0' || *end != '\0' || errno != 0 || !isfinite(v) || v <= 0.0 || v > max) {
        return false;
    }
    *out = v;
    return true;
}

bool tool_parse_choice(const char *s, const struct tool_choice *choices, size_t count,
                       int *out_value)
{
    for (size_t i = 0; i < count; i++) {
        if (strcasecmp(s, choices[i].name) == 0) {
            *out_value = choices[i].value;
            return true;
        }
    }
    return false;
}

/* ---- output ------------------------------------------------------------------------------ */

#define EXIT_USAGE 64 /* EX_USAGE of sysexits.h */

void tool_error_va(const char *fmt, va_list ap)
{
    fputs("error: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    fflush(stderr);
}

void tool_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    tool_error_va(fmt, ap);
    va_end(ap);
}

int tool_usage_error_va(const char *prog, const char *fmt, va_list ap)
{
    fprintf(stderr, "%s: ", prog);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\nTry '%s --help' for the list of flags.\n", prog);
    return EXIT_USAGE;
}

int tool_usage_error(const char *prog, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    tool_usage_error_va(prog, fmt, ap);
    va_end(ap);
    return EXIT_USAGE;
}

static bool parse_dimension(const char *s, uint32_t min, uint32_t max, uint32_t *out)
{
    int64_t v;
    if (!isdigit((unsigned char)s[0]) || !tool_parse_int64(s, min, max, &v) || v % 2 != 0) {
        return false;
    }
    *out = (uint32_t)v;
    return true;
}

bool tool_parse_even_size(const char *s, uint32_t min, uint32_t max, uint32_t *out_w,
                          uint32_t *out_h)
{
    char buf[32];
    size_t len = strlen(s);
    if (len >= sizeof buf) {
        return false;
    }
    memcpy(buf, s, len + 1);
    char *x = strpbrk(buf, "xX");
    if (x == NULL) {
        return false;
    }
    *x = '\0';
    uint32_t w, h;
    if (!parse_dimension(buf, min, max, &w) || !parse_dimension(x + 1, min, max, &h)) {
        return false;
    }
    *out_w = w;
    *out_h = h;
    return true;
}

bool tool_take_secret(char **slot, char *arg)
{
    if (*slot != NULL) {
        OPENSSL_cleanse(*slot, strlen(*slot));
        free(*slot);
    }
    *slot = strdup(arg);
    OPENSSL_cleanse(arg, strlen(arg));
    return *slot != NULL;
}
