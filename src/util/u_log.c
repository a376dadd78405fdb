/* SPDX-License-Identifier: Apache-2.0 */
/* Leveled logging; any thread. The level is read from OPENRR_LOG on first use. */
#include "u_log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

static atomic_int g_level = -1;

/* The sink is read under a read lock so that u_log_remove_sink() can wait for writers;
 * g_sink_level (-1 = none) lets u_log skip the lock when no sink wants the line. */
static pthread_rwlock_t g_sink_lock = PTHREAD_RWLOCK_INITIALIZER;
static struct u_log_sink *g_sink;
static atomic_int g_sink_level = -1;

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

void u_log_set_sink(struct u_log_sink *sink)
{
    pthread_rwlock_wrlock(&g_sink_lock);
    g_sink = sink;
    atomic_store(&g_sink_level, sink != NULL ? (int)sink->level : -1);
    pthread_rwlock_unlock(&g_sink_lock);
}

void u_log_remove_sink(struct u_log_sink *sink)
{
    pthread_rwlock_wrlock(&g_sink_lock);
    if (g_sink == sink) {
        g_sink = NULL;
        atomic_store(&g_sink_level, -1);
    }
    pthread_rwlock_unlock(&g_sink_lock);
}

static void to_sink(enum u_log_level level, const char *module, const char *message)
{
    pthread_rwlock_rdlock(&g_sink_lock);
    if (g_sink != NULL && (int)level >= (int)g_sink->level) {
        g_sink->write(g_sink, level, module, message);
    }
    pthread_rwlock_unlock(&g_sink_lock);
}

void u_log(enum u_log_level level, const char *module, const char *fmt, ...)
{
    static const char *tags[] = {"trace", "debug", "info", "warn", "error"};
    int sink_level = atomic_load(&g_sink_level);
    bool to_stderr = level >= u_log_get_level();
    bool sink = sink_level >= 0 && (int)level >= sink_level;
    if (!to_stderr && !sink) {
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
    if (sink) {
        to_sink(level, module, line + n);
    }
    if (!to_stderr) {
        return;
    }
    size_t len = strlen(line);
    line[len++] = '\n';
    /* One write per line keeps lines from different threads whole. */
    ssize_t w = write(STDERR_FILENO, line, len);
    (void)w;
}
