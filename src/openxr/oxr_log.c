/* SPDX-License-Identifier: Apache-2.0 */
/*
 * oxr_log — lifecycle lines (see oxr_log.h).
 *
 * Threads: any.
 */
#include "oxr_log.h"

#include "u_log.h"

#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

void oxr_say(const char *fmt, ...)
{
    if (u_log_get_level() > U_LOG_WARN) {
        return;
    }
    char line[512];
    int n = snprintf(line, sizeof line, "openrr_openxr: ");
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
    va_end(ap);
    size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
    if (len > sizeof line - 2) {
        len = sizeof line - 2;
    }
    line[len++] = '\n';
    ssize_t w = write(STDERR_FILENO, line, len);
    (void)w;
}
