/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The inspector's shared state, between its lifecycle and rings (inspector.c), the JSON
 * writers (inspector_json.c), the HTTP routes (inspector_http.c) and the static files
 * (inspector_static.c). Not installed.
 */
#ifndef RR_INSPECTOR_INTERNAL_H
#define RR_INSPECTOR_INTERNAL_H

#include "inspector.h"

#include <openssl/sha.h>
#include <pthread.h>
#include <stdatomic.h>

#define RR_INSPECTOR_LOG_LINES 200
#define RR_INSPECTOR_HISTORY_SECONDS 300
#define RR_INSPECTOR_MAX_BODY 4096
#define RR_INSPECTOR_TOKEN_MAX 256

struct rr_inspector_sample {
    uint64_t seq;     /* 1, 2, ... (0 = none yet) */
    uint64_t wall_ms; /* Unix epoch, milliseconds */
    struct rr_inspector_stats stats;
};

struct rr_inspector_log_line {
    uint64_t wall_ms;
    enum u_log_level level;
    char module[32];
    char message[480];
};

struct rr_inspector_trace_entry {
    uint64_t start_us;
    uint64_t dur_us;
    uint32_t tid;
    char name[48];
    char category[24];
};

struct rr_inspector {
    struct rr_inspector_source *source;
    uint8_t token_hash[SHA256_DIGEST_LENGTH];
    bool (*verify_token)(void *user, const char *token); /* NULL: the fixed token only */
    void *verify_user;
    int web_root_fd; /* -1 = no page */
    uint16_t port;
    uint32_t interval_ms;
    atomic_bool stopping;

    /* samples: guarded by lock; new_sample is signalled for each one (and on stop) */
    pthread_mutex_t lock;
    pthread_cond_t new_sample;
    struct rr_inspector_sample *history;           /* ring of history_cap */
    size_t history_cap, history_len, history_head; /* head = next write */
    uint64_t seq;
    uint64_t prev_cpu_us, prev_mono_us; /* the sampler's own CPU measurement */

    /* log tail: its own lock, taken on any logging thread */
    pthread_mutex_t log_lock;
    struct rr_inspector_log_line log[RR_INSPECTOR_LOG_LINES];
    size_t log_len, log_head;
    struct u_log_sink sink;
    bool sink_installed;

    /* timing events: their own lock, taken on the host's hot paths */
    pthread_mutex_t trace_lock;
    struct rr_inspector_trace_entry *trace;
    size_t trace_cap, trace_len, trace_head;

    pthread_t sampler;
    bool sampler_started;
    struct MHD_Daemon *daemon;
};

/* The newest sample into *out; false when there is none yet. Takes lock. */
bool rr_inspector_latest(struct rr_inspector *insp, struct rr_inspector_sample *out);

/* ---- JSON (inspector_json.c); each returns malloc'd text or NULL (out of memory) ---- */
/* One sample as an object (also the SSE "stats" event's data). */
char *rr_inspector_json_sample(const struct rr_inspector_sample *s);
/* {"interval_ms", "stages", "latest", "history": {columns}} */
char *rr_inspector_json_stats(struct rr_inspector *insp);
/* {"lines": [...]} with level >= @p min_level, oldest first. */
char *rr_inspector_json_log(struct rr_inspector *insp, enum u_log_level min_level);
/* Chrome trace JSON: {"traceEvents": [...], "displayTimeUnit": "ms"}. */
char *rr_inspector_json_trace(struct rr_inspector *insp);
/* {"scene": <the source's tree or null>}; NULL when the source's text is not JSON. */
char *rr_inspector_json_scene(struct rr_inspector *insp, bool *out_invalid);
/* "warn" → U_LOG_WARN; false when unknown. */
bool rr_inspector_parse_level(const char *name, enum u_log_level *out);
const char *rr_inspector_level_name(enum u_log_level level);

/* ---- HTTP (inspector_http.c) ---- */
enum rr_inspector_error rr_inspector_http_start(struct rr_inspector *insp,
                                                const struct rr_inspector_config *config);
void rr_inspector_http_stop(struct rr_inspector *insp);

/* ---- static files (inspector_static.c) ---- */
struct MHD_Connection;
struct MHD_Response;
/* The response for @p path ("/" or "/inspector/..."), with its status in *out_status; NULL
 * on out of memory. */
struct MHD_Response *rr_inspector_static_response(struct rr_inspector *insp, const char *path,
                                                  unsigned int *out_status);

#endif
