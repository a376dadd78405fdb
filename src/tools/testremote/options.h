/* SPDX-License-Identifier: Apache-2.0 */
/*
 * options — openrr-testremote's command line: its own flags (size, rate, encoder, scene, when
 * to stop) and, through tool_conn, the connection and security flags shared with the other
 * tools. Flags take '-' or '--', ignore case, and may leave out the dashes inside a name
 * (--max-bitrate = -maxbitrate). Values are checked here, so a bad one is a usage error before
 * anything starts.
 *
 * Threads: the main thread, before anything else runs.
 */
#ifndef TR_OPTIONS_H
#define TR_OPTIONS_H

#include "scene.h"

#include <tool_conn.h>

#include <stdbool.h>
#include <stdint.h>

enum options_codec { OPTIONS_CODEC_AUTO, OPTIONS_CODEC_H264, OPTIONS_CODEC_HEVC };

struct options {
    uint32_t eye_width;
    uint32_t eye_height;
    uint32_t fps;
    uint32_t max_bitrate_kbps;
    bool fixed_bitrate;
    const char *encoder; /* NULL = auto; else encoder_name */
    char encoder_name[32];
    enum options_codec codec;
    uint32_t keyframe_interval; /* 0 = the library's default (5 × fps) */
    enum scene_kind scene;
    bool gl;
    uint64_t frames;      /* per connection; 0 = until stopped */
    uint64_t duration_us; /* per connection; 0 = until stopped */
    bool loop;
    int64_t clock_skew_us; /* hidden test aid */
    bool quiet;
};

enum options_result {
    OPTIONS_GO,
    OPTIONS_HELP,      /* the usage was asked for */
    OPTIONS_USAGE,     /* a usage error was printed */
    OPTIONS_NO_MEMORY, /* copying a secret failed; nothing printed */
};

/* Defaults, then argv. @p tc is initialised by the caller (tool_conn_init). Checks what can be
 * checked without tool_conn_setup(); --loop without -listen is options_check's. */
enum options_result options_parse(struct options *o, struct tool_conn *tc, int argc, char **argv);

/* After tool_conn_setup(): combinations that need the resolved connection options. Prints a
 * usage error and returns 64, or 0. */
int options_check(const struct options *o, const struct tool_conn *tc);

/* The help text on stdout. */
void options_print_usage(void);

/* The codecs to offer in the handshake (rr_context_config.codecs), most preferred first.
 * Static storage. */
const char *options_codecs(const struct options *o);

#endif
