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

#define U_LOG_T(mod, ...) u_log(U_LOG_TRACE, mod, __VA_ARGS__)
#define U_LOG_D(mod, ...) u_log(U_LOG_DEBUG, mod, __VA_ARGS__)
#define U_LOG_I(mod, ...) u_log(U_LOG_INFO, mod, __VA_ARGS__)
#define U_LOG_W(mod, ...) u_log(U_LOG_WARN, mod, __VA_ARGS__)
#define U_LOG_E(mod, ...) u_log(U_LOG_ERROR, mod, __VA_ARGS__)

#endif
