/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fe_log — structured log lines (fe_log.h). Any thread; the settings are written once before
 * the threads start and read-only afterwards.
 */
#include "fe_log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static bool g_json;
static enum fe_log_level g_min = FE_LOG_INFO;

static const char *const LEVEL_NAMES[] = {"debug", "info", "warn", "error"};

void fe_log_configure(bool json, enum fe_log_level min)
{
    g_json = json;
    g_min = min;
}

bool fe_log_enabled(enum fe_log_level level)
{
    return level >= g_min;
}

/* Room kept for the closing "}" and the newline. */
#define TAIL_ROOM 3

static void put(struct fe_log_line *l, const char *s, size_t n)
{
    if (l->truncated) {
        return;
    }
    if (l->len + n + TAIL_ROOM >= sizeof l->buf) {
        l->truncated = true;
        return;
    }
    memcpy(l->buf + l->len, s, n);
    l->len += n;
    l->buf[l->len] = '\0';
}

static void puts_(struct fe_log_line *l, const char *s)
{
    put(l, s, strlen(s));
}

/* Whether a key=value value must be quoted: empty, or holding a space, '=', '"' or any
 * byte outside printable ASCII. */
static bool needs_quotes(const char *v)
{
    if (*v == '\0') {
        return true;
    }
    for (const unsigned char *p = (const unsigned char *)v; *p != '\0'; p++) {
        if (*p <= ' ' || *p == '=' || *p == '"' || *p == '\\' || *p >= 0x7f) {
            return true;
        }
    }
    return false;
}

/* A quoted string with \" \\ \n \r \t and \u00XX for other control bytes (JSON's rules, also
 * used for key=value so that one reader handles both). Bytes ≥ 0x80 pass as they are (UTF-8
 * text stays readable); a line never contains a raw control character. */
static void put_quoted(struct fe_log_line *l, const char *v)
{
    put(l, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)v; *p != '\0' && !l->truncated; p++) {
        char esc[8];
        switch (*p) {
        case '"':
            put(l, "\\\"", 2);
            break;
        case '\\':
            put(l, "\\\\", 2);
            break;
        case '\n':
            put(l, "\\n", 2);
            break;
        case '\r':
            put(l, "\\r", 2);
            break;
        case '\t':
            put(l, "\\t", 2);
            break;
        default:
            if (*p < 0x20 || *p == 0x7f) {
                snprintf(esc, sizeof esc, "\\u%04x", *p);
                put(l, esc, 6);
            } else {
                put(l, (const char *)p, 1);
            }
        }
    }
    put(l, "\"", 1);
}

static void put_key(struct fe_log_line *l, const char *key)
{
    if (l->json) {
        put(l, l->len > 1 ? ",\"" : "\"", l->len > 1 ? 2 : 1);
        puts_(l, key);
        put(l, "\":", 2);
    } else {
        if (l->len > 0) {
            put(l, " ", 1);
        }
        puts_(l, key);
        put(l, "=", 1);
    }
}

void fe_log_str(struct fe_log_line *l, const char *key, const char *value)
{
    if (l->skip || value == NULL) {
        return;
    }
    put_key(l, key);
    if (l->json || needs_quotes(value)) {
        put_quoted(l, value);
    } else {
        puts_(l, value);
    }
}

void fe_log_int(struct fe_log_line *l, const char *key, long long value)
{
    if (l->skip) {
        return;
    }
    char num[32];
    int n = snprintf(num, sizeof num, "%lld", value);
    put_key(l, key);
    put(l, num, (size_t)n);
}

void fe_log_double(struct fe_log_line *l, const char *key, double value)
{
    if (l->skip) {
        return;
    }
    char num[48];
    int n = snprintf(num, sizeof num, "%.3f", value);
    put_key(l, key);
    put(l, num, (size_t)n);
}

void fe_log_bool(struct fe_log_line *l, const char *key, bool value)
{
    if (l->skip) {
        return;
    }
    put_key(l, key);
    puts_(l, value ? "true" : "false");
}

void fe_log_begin(struct fe_log_line *l, enum fe_log_level level, const char *event)
{
    l->level = level;
    l->json = g_json;
    l->skip = !fe_log_enabled(level);
    l->truncated = false;
    l->len = 0;
    l->buf[0] = '\0';
    if (l->skip) {
        return;
    }
    if (l->json) {
        put(l, "{", 1);
    }
    struct timeval tv;
    gettimeofday(&tv, NULL);
    struct tm tm;
    gmtime_r(&tv.tv_sec, &tm);
    char t[80];
    snprintf(t, sizeof t, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(tv.tv_usec / 1000));
    fe_log_str(l, "time", t);
    fe_log_str(l, "level", LEVEL_NAMES[level]);
    fe_log_str(l, "event", event);
}

const char *fe_log_text(const struct fe_log_line *l)
{
    return l->buf;
}

void fe_log_end(struct fe_log_line *l)
{
    if (l->skip) {
        return;
    }
    if (l->truncated) {
        /* Mark the cut where it happened; the room for it was kept. */
        l->truncated = false;
        if (l->len + 16 + TAIL_ROOM < sizeof l->buf) {
            fe_log_bool(l, "truncated", true);
        }
    }
    if (l->json) {
        l->buf[l->len++] = '}';
    }
    l->buf[l->len++] = '\n';
    const char *p = l->buf;
    size_t left = l->len;
    while (left > 0) {
        ssize_t w = write(STDERR_FILENO, p, left);
        if (w <= 0) {
            break; /* a log that cannot be written is not worth a failure */
        }
        p += w;
        left -= (size_t)w;
    }
    l->len = 0;
    l->buf[0] = '\0';
}

void fe_log_msg(enum fe_log_level level, const char *event, const char *fmt, ...)
{
    if (!fe_log_enabled(level)) {
        return;
    }
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    struct fe_log_line l;
    fe_log_begin(&l, level, event);
    fe_log_str(&l, "msg", msg);
    fe_log_end(&l);
}
