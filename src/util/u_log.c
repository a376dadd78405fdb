/* SPDX-License-Identifier: Apache-2.0 */
/* Leveled logging; any thread. The level is read from OPENRR_LOG on first use. */
#include "u_log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

static atomic_int g_level = -1;

static int level_from_env(void)
{
    const char *v = getenv("OPENRR_LOG");
    static const char *names[] = {"trace", "debug", "info", "warn", "error"};
    if (v != NULL) {
        for (int i = 0; i < 5; i++) {
            if (strcasecmp(v, names[i]) == 0) {
                return i;
            }
        }
    }
    return U_LOG_WARN;
}

enum u_log_level u_log_get_level(void)
{
    int l = atomic_load(&g_level);
    if (l < 0) {
        l = level_from_env();
        atomic_store(&g_level, l);
    }
    return (enum u_log_level)l;
}

void u_log_set_level(enum u_log_level level)
{
    atomic_store(&g_level, (int)level);
}

void u_log(enum u_log_level level, const char *module, const char *fmt, ...)
{
    static const char *tags[] = {"trace", "debug", "info", "warn", "error"};
    if (level < u_log_get_level()) {
        return;
    }
    char line[1024];
    int n = snprintf(line, sizeof(line), "openrr %s [%s] ", tags[level], module);
    if (n < 0 || (size_t)n >= sizeof(line)) {
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
    va_end(ap);
    if (m < 0) {
        return;
    }
    size_t len = strlen(line);
    line[len++] = '\n';
    /* One write per line keeps lines from different threads whole. */
    ssize_t w = write(STDERR_FILENO, line, len);
    (void)w;
}
