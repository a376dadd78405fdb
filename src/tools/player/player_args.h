/* SPDX-License-Identifier: Apache-2.0 */
/*
 * player_args — openrr-player's command line: its own flags, the shared connection flags of
 * tool_conn, the checks of their combinations and the usage text.
 *
 * Threads: the main thread, before anything starts.
 */
#ifndef OPENRR_PLAYER_ARGS_H
#define OPENRR_PLAYER_ARGS_H

#include "tool_conn.h"
#include "window.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define PLAYER_PROG "openrr-player"

/* Exit status of openrr-player (as openrr-remoting's). */
enum player_exit {
    PLAYER_EXIT_OK = 0,
    PLAYER_EXIT_OTHER = 1,      /* a file, the library, the window */
    PLAYER_EXIT_CONNECTION = 2, /* the connection failed or ended abnormally, or too few frames */
    PLAYER_EXIT_USAGE = 64,     /* EX_USAGE of sysexits.h */
};

struct player_options {
    bool headless;
    enum player_view view;
    const char *pose; /* "static", "orbit" or a file */
    uint32_t fps;
    uint64_t frames;   /* 0 = no limit */
    double duration_s; /* 0 = no limit */
    const char *snapshot_dir;
    uint32_t snapshot_every;
    bool snapshot_every_given;
    const char *stats_path; /* "-" = stdout */
    uint32_t blit_timeout_ms;
    int64_t present_latency_us; /* -1 = one display frame in a window, 0 headless */
    int64_t clock_skew_us;
    bool quiet;
    bool loop;
    const char *scene_path; /* --scene: a scene script, or NULL */
    /* --session: a session of an openrrd service, reached through the SDK */
    const char *session_id;
    const char *service_url;
    const char *account_id;
    const char *account_domain;
    const char *service_ca;
};

enum player_args_result {
    PLAYER_ARGS_GO = 0,
    PLAYER_ARGS_HELP,      /* -h: print the usage and exit 0 */
    PLAYER_ARGS_BAD,       /* a usage error was printed */
    PLAYER_ARGS_NO_MEMORY, /* (tool_conn copies secrets) */
};

/* Fill @p o with the defaults, then parse @p argv: the player's flags into @p o, the
 * connection and security flags into @p tc (initialised by the caller). Flags take '-' or '--'
 * and ignore case. Checks the combinations of the player's own flags; tool_conn_setup() checks
 * the connection's. */
enum player_args_result player_args_parse(int argc, char **argv, struct player_options *o,
                                          struct tool_conn *tc);

/* The full usage text with examples. */
void player_args_usage(FILE *out);

/* Print "openrr-player: <message>" and the --help hint on stderr; returns PLAYER_EXIT_USAGE. */
int player_args_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif /* OPENRR_PLAYER_ARGS_H */
