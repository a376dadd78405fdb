/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rrctl — the command line of the control plane (docs/rrctl.md): login, access tokens,
 * conversions, sessions, the inspector page and certificates for remoting servers, built on
 * libopenrr_client. This header holds what the command files share: the parsed command line,
 * the login settings, synchronous wrappers around the SDK's asynchronous calls, and output.
 *
 * Threads: everything runs on the main thread, except the SDK's completions, which run on the
 * frontend's worker and only fill a waiter (rrctl_sdk.c) that the main thread waits on.
 * Secrets (the account key, access tokens, passphrases) are wiped after use, never printed
 * except the token `rrctl token` is asked for.
 */
#ifndef RRCTL_H
#define RRCTL_H

#include <openrr/client.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Exit statuses (docs/rrctl.md). */
enum rrctl_exit {
    RRCTL_OK = 0,
    RRCTL_FAILED = 1,      /* the service reported a failure, or a local error */
    RRCTL_UNREACHABLE = 2, /* the service cannot be reached, or authentication failed */
    RRCTL_USAGE = 64,
};

/* ---- command line (rrctl_args.c) ------------------------------------------------------------- */

struct rrctl_opt {
    const char *name; /* without dashes: "output-container" */
    bool has_value;
    const char *value; /* set by the parser (the last one given) */
    bool seen;
};

#define RRCTL_MAX_POS 8

struct rrctl {
    const char *command; /* e.g. "session create": for messages and help */
    bool json;           /* --json */
    bool help;           /* --help */
    const char *config;  /* --config FILE */
    const char *pos[RRCTL_MAX_POS];
    size_t npos;
};

/* Parse @p argv[0..argc) against @p opts (and the global --json, --help, --config). "--name
 * value" and "--name=value" both work; "--" ends the options. False (a message printed) on an
 * unknown option, a missing value, or more than RRCTL_MAX_POS operands. */
bool rrctl_parse(struct rrctl *rc, int argc, char **argv, struct rrctl_opt *opts, size_t nopts);
/* The option @p name of @p opts (it must be in the table). */
struct rrctl_opt *rrctl_opt(struct rrctl_opt *opts, size_t nopts, const char *name);

/* "rrctl CMD: what\nTry 'rrctl CMD --help'." on stderr; returns RRCTL_USAGE. */
int rrctl_usage_error(const struct rrctl *rc, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* "rrctl: what" on stderr (or {"error":…} on stdout with --json); returns @p status. */
int rrctl_fail(const struct rrctl *rc, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The exit status for an SDK result (NoConnection, AuthenticationFailed → 2; others → 1). */
int rrctl_exit_of(enum rr_client_result r);
/* rrctl_fail for an SDK result: "what: <result name>: <SDK message>". */
int rrctl_fail_sdk(const struct rrctl *rc, enum rr_client_result r, const char *message,
                   const char *what);

/* Parse a positive integer operand in [min, max]. */
bool rrctl_uint(const char *s, uint32_t min, uint32_t max, uint32_t *out);

/* ---- login settings (rrctl_config.c) --------------------------------------------------------- */

struct rrctl_config {
    char path[4096];
    char *endpoint;
    char *account_id;
    char *account_domain;
    char *key;     /* secret: wiped */
    char *ca_file; /* NULL = system trust */
    char *storage; /* the service's storage root, NULL = the default */
};

/* The settings file: --config, else $XDG_CONFIG_HOME/openrr/rrctl.ini, else
 * ~/.config/openrr/rrctl.ini. False when no home directory is known. */
bool rrctl_config_path(const struct rrctl *rc, char *out, size_t size);
/* Read it. Returns RRCTL_OK, or an exit status after printing why (missing file: "run rrctl
 * login"; readable by group or others: "chmod 600"). */
int rrctl_config_load(const struct rrctl *rc, struct rrctl_config *cfg);
/* Write it 0600 (directory 0700), replacing the old one atomically. */
int rrctl_config_save(const struct rrctl *rc, const struct rrctl_config *cfg);
void rrctl_config_clear(struct rrctl_config *cfg);

/* ---- the SDK, synchronously (rrctl_sdk.c) ---------------------------------------------------- */

/* A frontend for the login settings; an exit status (message printed) on failure. */
int rrctl_frontend(const struct rrctl *rc, const struct rrctl_config *cfg,
                   struct rr_frontend **out);

struct rrctl_result {
    enum rr_client_result result;
    char message[512]; /* rr_client_last_error() of the completion */
};

enum rr_client_result rrctl_token(struct rr_frontend *fe, char *out, size_t size,
                                  struct rrctl_result *res);
enum rr_client_result rrctl_create_session(struct rr_frontend *fe, const char *id,
                                           enum rr_session_size size, uint32_t lease,
                                           struct rr_session **out, struct rrctl_result *res);
/* All Starting and Ready sessions: *out malloc'd (free it). */
enum rr_client_result rrctl_list_sessions(struct rr_frontend *fe,
                                          struct rr_session_properties **out, size_t *count,
                                          struct rrctl_result *res);
enum rr_client_result rrctl_get_properties(struct rr_session *s, struct rr_session_properties *out,
                                           struct rrctl_result *res);
enum rr_client_result rrctl_update(struct rr_session *s, uint32_t lease, struct rrctl_result *res);
enum rr_client_result rrctl_stop(struct rr_session *s, struct rrctl_result *res);
enum rr_client_result rrctl_inspector(struct rr_session *s, char *path, size_t size,
                                      struct rrctl_result *res);
enum rr_client_result rrctl_start_conversion(struct rr_frontend *fe, const char *id,
                                             const struct rr_conversion_input *in,
                                             const struct rr_conversion_output *out,
                                             struct rr_conversion_properties *props,
                                             struct rrctl_result *res);
enum rr_client_result rrctl_get_conversion(struct rr_frontend *fe, const char *id,
                                           struct rr_conversion_properties *props,
                                           struct rrctl_result *res);

/* ---- output (rrctl_out.c) -------------------------------------------------------------------- */

/* A session / conversion as the REST API spells it, one JSON object on stdout. */
void rrctl_print_session_json(const struct rr_session_properties *p);
void rrctl_print_sessions_json(const struct rr_session_properties *p, size_t n);
void rrctl_print_conversion_json(const struct rr_conversion_properties *p);
/* Human-readable "key: value" lines. */
void rrctl_print_session(const struct rr_session_properties *p);

/* Progress on stderr: a bar / spinner when stderr is a terminal, else a plain line whenever
 * the text changes. */
struct rrctl_progress {
    bool tty;
    unsigned tick;
    char last[256];
    bool drawn;
};
void rrctl_progress_init(struct rrctl_progress *p);
/* @p percent < 0: a spinner instead of a bar. */
void rrctl_progress_show(struct rrctl_progress *p, int percent, const char *text);
/* End the line (terminal) so that what follows starts clean. */
void rrctl_progress_done(struct rrctl_progress *p);

/* Catch SIGINT and SIGTERM (polling loops end early), ignore SIGPIPE. */
void rrctl_install_signals(void);
/* Sleep @p ms unless SIGINT/SIGTERM arrived; false when one did. */
bool rrctl_sleep_ms(unsigned ms);
/* True once SIGINT/SIGTERM arrived (rrctl_main installs the handler). */
bool rrctl_interrupted(void);

/* A random id (32 hex digits) for conversions and sessions named by rrctl. */
bool rrctl_random_id(char out[33]);

/* ---- commands -------------------------------------------------------------------------------- */

int rrctl_cmd_login(struct rrctl *rc, int argc, char **argv);
int rrctl_cmd_token(struct rrctl *rc, int argc, char **argv);
int rrctl_cmd_convert(struct rrctl *rc, int argc, char **argv);
int rrctl_cmd_session(struct rrctl *rc, int argc, char **argv);
int rrctl_cmd_inspect(struct rrctl *rc, int argc, char **argv);
int rrctl_cmd_cert(struct rrctl *rc, int argc, char **argv);

#endif /* RRCTL_H */
