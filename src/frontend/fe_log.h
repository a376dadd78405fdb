/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fe_log — openrrd's structured log: one line per event on stderr, `key=value` pairs or a
 * JSON object (log_json), always starting with time, level and event. Callers build a line
 * field by field; values are quoted and escaped here, so a client's text cannot forge a
 * field or a line.
 *
 * Never pass a key, token, SAS, passphrase or registration secret: nothing here can tell.
 *
 * Threads: any. fe_log_configure runs once on the main thread before other threads start;
 * each line is written with one write(2), so lines of different threads never interleave.
 */
#ifndef OPENRR_FE_LOG_H
#define OPENRR_FE_LOG_H

#include <stdbool.h>
#include <stddef.h>

enum fe_log_level {
    FE_LOG_DEBUG = 0,
    FE_LOG_INFO = 1,
    FE_LOG_WARN = 2,
    FE_LOG_ERROR = 3,
};

/* JSON lines or key=value; lines below @p min are dropped. Default: key=value, info. */
void fe_log_configure(bool json, enum fe_log_level min);
/* Whether lines of @p level are written. */
bool fe_log_enabled(enum fe_log_level level);

/* A line being built (on the caller's stack). Longer lines are cut, marked `truncated`. */
struct fe_log_line {
    enum fe_log_level level;
    bool json;
    bool skip; /* below the level: every call is a no-op */
    bool truncated;
    size_t len;
    char buf[2048];
};

/* Start a line with time, level and @p event (a short word, e.g. "request"). */
void fe_log_begin(struct fe_log_line *l, enum fe_log_level level, const char *event);
/* Append a field; @p key is a constant word, @p value any text (NULL: the field is left out). */
void fe_log_str(struct fe_log_line *l, const char *key, const char *value);
void fe_log_int(struct fe_log_line *l, const char *key, long long value);
void fe_log_double(struct fe_log_line *l, const char *key, double value);
void fe_log_bool(struct fe_log_line *l, const char *key, bool value);
/* Write the line (with its newline) to stderr. */
void fe_log_end(struct fe_log_line *l);

/* One line with @p event and a formatted `msg` field. */
void fe_log_msg(enum fe_log_level level, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The line built so far (for tests): what fe_log_end would write, without the closing brace
 * of a JSON line and the newline. */
const char *fe_log_text(const struct fe_log_line *l);

#endif /* OPENRR_FE_LOG_H */
