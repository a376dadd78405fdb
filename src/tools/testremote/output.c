/* SPDX-License-Identifier: Apache-2.0 */
/*
 * output — openrr-testremote's lines (see output.h).
 *
 * Threads: any; every write happens under the stdout lock, which also guards g_live_shown.
 */
#include "output.h"

#include <tool_util.h>

#include <stdint.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

static int64_t g_start_us;
static bool g_quiet;
static bool g_live; /* stdout is a terminal and not quiet */
static bool g_live_shown;

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void out_init(bool quiet)
{
    g_start_us = now_us();
    g_quiet = quiet;
    g_live = !quiet && isatty(STDOUT_FILENO);
}

/* Caller holds the stdout lock. */
static void erase_live(void)
{
    if (g_live_shown) {
        fputs("\r\033[K", stdout);
        g_live_shown = false;
    }
}

static void line(const char *fmt, va_list ap)
{
    double secs = (double)(now_us() - g_start_us) / 1e6;
    flockfile(stdout);
    erase_live();
    printf("[%7.3f] ", secs);
    vprintf(fmt, ap);
    putchar('\n');
    fflush(stdout);
    funlockfile(stdout);
}

void out_say_va(const char *fmt, va_list ap)
{
    if (!g_quiet) {
        line(fmt, ap);
    }
}

void out_say(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    out_say_va(fmt, ap);
    va_end(ap);
}

void out_report(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    line(fmt, ap);
    va_end(ap);
}

void out_error(const char *fmt, ...)
{
    va_list ap;
    flockfile(stdout);
    erase_live();
    fflush(stdout);
    va_start(ap, fmt);
    tool_error_va(fmt, ap);
    va_end(ap);
    funlockfile(stdout);
}

bool out_live_enabled(void)
{
    return g_live;
}

void out_live(const char *fmt, ...)
{
    va_list ap;
    if (!g_live) {
        return;
    }
    flockfile(stdout);
    fputs("\r", stdout);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    fputs("\033[K", stdout);
    fflush(stdout);
    g_live_shown = true;
    funlockfile(stdout);
}

void out_live_clear(void)
{
    flockfile(stdout);
    erase_live();
    fflush(stdout);
    funlockfile(stdout);
}
