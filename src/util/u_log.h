/* SPDX-License-Identifier: Apache-2.0 */
/*
 * u_log — leveled logging to stderr for every OpenRR module.
 * The level comes from OPENRR_LOG (error|warn|info|debug|trace; default warn), read once.
 * Thread-safe: each line is written with one write(2). Never pass secrets to these calls.
 */
#ifndef U_LOG_H
#define U_LOG_H

enum u_log_level {
    U_LOG_TRACE = 0,
    U_LOG_DEBUG = 1,
    U_LOG_INFO = 2,
    U_LOG_WARN = 3,
    U_LOG_ERROR = 4,
};

enum u_log_level u_log_get_level(void);
void u_log_set_level(enum u_log_level level);
void u_log(enum u_log_level level, const char *module, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * A second destination for log lines (e.g. the host's inspector keeps the last lines).
 * write() gets every line at or above the sink's own level (independent of OPENRR_LOG, which
 * still governs stderr), with the message formatted and without the trailing newline. It is
 * called on the logging thread, so it must be thread-safe and quick, and it must not call
 * u_log itself. The sink struct must stay valid until u_log_remove_sink() returns.
 */
struct u_log_sink {
    void (*write)(struct u_log_sink *self, enum u_log_level level, const char *module,
                  const char *message);
    enum u_log_level level; /* lowest level passed to write(); read when the sink is set */
};

/* Install @p sink, replacing any other (there is one sink at a time). Any thread. */
void u_log_set_sink(struct u_log_sink *sink);
/* Remove @p sink if it is the one installed (else nothing). On return no write() to it is in
 * progress or will start, so its owner may free it. Any thread but the sink's own write(). */
void u_log_remove_sink(struct u_log_sink *sink);

#define U_LOG_T(mod, ...) u_log(U_LOG_TRACE, mod, __VA_ARGS__)
#define U_LOG_D(mod, ...) u_log(U_LOG_DEBUG, mod, __VA_ARGS__)
#define U_LOG_I(mod, ...) u_log(U_LOG_INFO, mod, __VA_ARGS__)
#define U_LOG_W(mod, ...) u_log(U_LOG_WARN, mod, __VA_ARGS__)
#define U_LOG_E(mod, ...) u_log(U_LOG_ERROR, mod, __VA_ARGS__)

#endif
