/* SPDX-License-Identifier: Apache-2.0 */
/*
 * inspector — the host's diagnostics web server: a static page (web/inspector) and the JSON /
 * Server-Sent-Events endpoints behind it (live stats, log tail, read-only scene tree, Chrome
 * trace export, pause switch), on its own port and protected by a bearer token.
 *
 * The host implements struct rr_inspector_source; the inspector samples it every 250 ms on its
 * own thread, keeps 5 minutes of samples, the last 200 log lines (through u_log's sink) and a
 * bounded ring of timing events, and serves them (docs/inspector.md lists the endpoints).
 *
 * Threads: a sampler thread, libmicrohttpd's listening thread and one thread per connection
 * (at most max_connections). rr_inspector_trace_event() and rr_inspector_log() may be called
 * from any thread; create/destroy from one thread that owns the inspector.
 */
#ifndef RR_INSPECTOR_H
#define RR_INSPECTOR_H

#include "u_log.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- errors ------------------------------------------------------------------------------ */

enum rr_inspector_error {
    RR_INSPECTOR_OK = 0,
    RR_INSPECTOR_ERROR_INVALID_ARGUMENT, /* NULL config/source/out, empty token, bad address */
    RR_INSPECTOR_ERROR_OUT_OF_MEMORY,
    RR_INSPECTOR_ERROR_WEB_ROOT,       /* web_root is not a readable directory */
    RR_INSPECTOR_ERROR_ADDRESS_IN_USE, /* the port is taken */
    RR_INSPECTOR_ERROR_BIND,           /* socket/bind/listen failed otherwise */
    RR_INSPECTOR_ERROR_SERVER,         /* libmicrohttpd or a thread did not start */
};

/* A static English description of @p error (never NULL). */
const char *rr_inspector_strerror(enum rr_inspector_error error);

/* ---- what the host reports --------------------------------------------------------------- */

/* The stream's latency stages, each in milliseconds (as in struct rr_stream_frame_timing). */
enum rr_inspector_stage {
    RR_INSPECTOR_STAGE_POSE_TO_PRESENT, /* whole loop: pose sampled on the player → presented */
    RR_INSPECTOR_STAGE_UPLINK,          /* pose sampled → received by the host */
    RR_INSPECTOR_STAGE_RENDER,          /* render start → end */
    RR_INSPECTOR_STAGE_ENCODE,          /* colour conversion + encoding */
    RR_INSPECTOR_STAGE_TRANSPORT,       /* handed to the transport → whole frame received */
    RR_INSPECTOR_STAGE_DECODE,          /* received → decoded */
    RR_INSPECTOR_STAGE_PRESENT,         /* decoded → presented */
    RR_INSPECTOR_STAGE_COUNT,
};

/* The stage's JSON name ("pose_to_present", "uplink", "render", ...); NULL when out of range. */
const char *rr_inspector_stage_name(enum rr_inspector_stage stage);

/* One sample. The inspector fills the struct with "unknown" values before calling the source
 * (stages and cpu_percent -1, everything else 0 / empty), so a source sets what it knows. */
struct rr_inspector_stats {
    double frame_time_ms;                      /* render loop time of the last frame */
    double fps;                                /* frames rendered per second */
    double stage_ms[RR_INSPECTOR_STAGE_COUNT]; /* < 0 = unknown (shown as a gap) */
    double bitrate_kbps;                       /* video bitrate sent */
    uint64_t primitives;                       /* triangles + points rendered in the frame */
    uint64_t draws;                            /* draw calls in the frame */
    double cpu_percent;      /* process CPU, 100 = one core; < 0 = the inspector measures it */
    uint64_t resident_bytes; /* process resident memory; 0 = the inspector measures it */
    bool client_connected;
    char client[64]; /* who is connected (address or name), "" when none */
    char codec[16];  /* "h264", "hevc" or "" */
    bool paused;     /* rendering paused (POST /api/pause) */
};

/*
 * What the host implements. Every function is called on one of the inspector's threads
 * (sampler or a connection thread), possibly concurrently with the host's own threads and
 * with each other, so each must be thread-safe on the host side. None may call back into
 * the inspector's create/destroy. No call starts after rr_inspector_destroy() returns.
 */
struct rr_inspector_source {
    /* Fill @p out (pre-filled as described above). Required. Keep it quick (< 1 ms). */
    void (*stats)(struct rr_inspector_source *self, struct rr_inspector_stats *out);
    /* The read-only scene tree as JSON text, malloc'd (the inspector frees it), or NULL when
     * there is none. Convention: a node is an object with "name", optional "id", "type",
     * other scalar properties and "children" (an array of nodes). May be NULL. */
    char *(*scene_json)(struct rr_inspector_source *self);
    /* Pause or resume rendering. May be NULL (then POST /api/pause answers 501). */
    void (*set_paused)(struct rr_inspector_source *self, bool paused);
};

static inline void rr_inspector_source_stats(struct rr_inspector_source *s,
                                             struct rr_inspector_stats *out)
{
    s->stats(s, out);
}

static inline char *rr_inspector_source_scene_json(struct rr_inspector_source *s)
{
    return s->scene_json != NULL ? s->scene_json(s) : NULL;
}

static inline void rr_inspector_source_set_paused(struct rr_inspector_source *s, bool paused)
{
    s->set_paused(s, paused);
}

/* ---- the server ---------------------------------------------------------------------------- */

/* The longest token handed to a verify_token hook (an access token's limit). */
#define RR_INSPECTOR_VERIFY_TOKEN_MAX 8192

struct rr_inspector_config {
    /* Numeric address to bind: "127.0.0.1" (NULL = this), "0.0.0.0", "::1", "::". */
    const char *bind_address;
    uint16_t port; /* 0 = an ephemeral port (rr_inspector_port() tells which) */
    /* The bearer token (required, 1..256 bytes). Only its SHA-256 is kept; never logged. */
    const char *token;
    /* Optional second judge of bearer tokens (e.g. a session's access tokens, JWTs checked
     * against a JWK Set). A request whose token is not @p token, of 1 to
     * RR_INSPECTOR_VERIFY_TOKEN_MAX bytes, is accepted when verify_token(verify_user, token)
     * returns true. Called on the connection threads, possibly several at once, for every
     * request: it must be thread-safe and quick (no I/O), must not log the token, and must stay
     * callable until rr_inspector_destroy() returns. NULL: only @p token is accepted. */
    bool (*verify_token)(void *user, const char *token);
    void *verify_user;
    /* Directory of the page (index.html, inspector.js, inspector.css); NULL = no page (the
     * static paths answer 404). */
    const char *web_root;
    struct rr_inspector_source *source; /* required; must outlive the inspector */
    /* Install a u_log sink that keeps the last 200 lines at or above log_level (replacing any
     * other sink; removed by destroy). Without it only rr_inspector_log() fills the tail. */
    bool capture_log;
    enum u_log_level log_level;
    uint32_t max_connections;    /* simultaneous connections (and threads); 0 = 16 */
    uint32_t trace_capacity;     /* timing events kept; 0 = 16384 */
    uint32_t sample_interval_ms; /* 0 = 250 (tests may shorten it) */
};

struct rr_inspector;

/*
 * Bind, start the sampler and the server. On success *out_insp is the running inspector.
 * Errors: INVALID_ARGUMENT (NULL config/source/stats/out_insp, token empty or > 256 bytes,
 * bind_address not numeric), WEB_ROOT, ADDRESS_IN_USE, BIND, SERVER, OUT_OF_MEMORY. Nothing is
 * left running on error.
 */
enum rr_inspector_error rr_inspector_create(const struct rr_inspector_config *config,
                                            struct rr_inspector **out_insp);

/* The port the server listens on (the ephemeral one when config.port was 0). Any thread. */
uint16_t rr_inspector_port(const struct rr_inspector *insp);

/*
 * Stop the server (open event streams end), the sampler and the log sink, then free
 * everything and set *insp_ptr to NULL. NULL or *insp_ptr NULL: nothing. Blocks until every
 * call into the source has returned.
 */
void rr_inspector_destroy(struct rr_inspector **insp_ptr);

/*
 * Record one timing event (a Chrome-trace "complete" event) in the bounded ring, dropping the
 * oldest when full. @p name (≤ 47 bytes kept) and @p category (≤ 23 bytes kept) are copied;
 * @p start_us is on u_time_us()'s monotonic clock; @p tid is any small id for the lane
 * (thread or stage). Any thread; a short mutex-protected copy. NULL @p insp: nothing.
 */
void rr_inspector_trace_event(struct rr_inspector *insp, const char *name, const char *category,
                              uint64_t start_us, uint64_t dur_us, uint32_t tid);

/* Add a line to the log tail directly (what the u_log sink does). Any thread. */
void rr_inspector_log(struct rr_inspector *insp, enum u_log_level level, const char *module,
                      const char *message);

#endif
