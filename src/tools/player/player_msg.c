/* SPDX-License-Identifier: Apache-2.0 */
/*
 * player_msg — stderr messages of openrr-player. See player_msg.h. Threads: any.
 */
#include "player_msg.h"

#include <stdarg.h>
#include <stdio.h>

static void emit(const char *kind, const char *fmt, va_list ap)
{
    flockfile(stderr);
    fputs("openrr-player: ", stderr);
    fputs(kind, stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    fflush(stderr);
    funlockfile(stderr);
}

void player_note(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    emit("", fmt, ap);
    va_end(ap);
}

void player_vnote(void *user, const char *fmt, va_list ap)
{
    (void)user;
    emit("", fmt, ap);
}

void player_warn(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    emit("warning: ", fmt, ap);
    va_end(ap);
}

void player_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    emit("error: ", fmt, ap);
    va_end(ap);
}
