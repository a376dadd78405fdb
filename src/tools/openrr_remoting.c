/* SPDX-License-Identifier: Apache-2.0 */
/*
 * openrr-remoting — the diagnostic tool of libopenrr_remoting.
 *
 * Listens or connects, plain or secure, and prints every event of the connection on one
 * timestamped line; it can echo data, send a test message and measure round trip and
 * throughput. It checks a deployment (ports, certificates, tokens) and is the peer the
 * integration tests talk to, which is why stdout is flushed after every line.
 *
 * The connection and security flags, and the four security interfaces behind them, are
 * tool_conn's, shared with openrr-player and openrr-testremote; the rest is this file's.
 *
 * Threads: main() and everything it calls run on the main thread, which polls the event
 * queue. tool_conn's interface callbacks run on the library's network thread and print
 * through say(), which is why say() locks the stream.
 */
#include "tool_conn.h"
#include "tool_util.h"

#include <openrr/remoting.h>

#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum tool_exit {
    TOOL_EXIT_OK = 0,
    TOOL_EXIT_OTHER = 1,      /* a file, an allocation or a library call failed */
    TOOL_EXIT_CONNECTION = 2, /* the connection failed or ended abnormally */
    TOOL_EXIT_USAGE = 64,     /* EX_USAGE of sysexits.h */
};

#define PROG "openrr-remoting"
#define DEFAULT_TIMEOUT_MS 5000u
/* The library's handshake deadline when rr_context_config.handshake_timeout_ms is 0. */
#define HANDSHAKE_TIMEOUT_MS 10000u
/* rr_context_disconnect() flushes for at most a second; leave room for the close itself. */
#define DISCONNECT_WAIT_MS 3000
/* Bulk echo would otherwise print thousands of lines; the statistics still count them. */
#define MAX_DATA_LINES 32u
#define MAX_TEXT_SHOWN 80u
#define REMOTE_CHANNEL_ID 0 /* ids 0–63 belong to remotes */
#define PLAYER_CHANNEL_ID 64
#define BENCH_PINGS 1000u
#define BENCH_PING_SIZE 64u
#define BENCH_BULK_SIZE (64u * 1024u)
#define BENCH_BULK_TOTAL (64u * 1024u * 1024u)
#define BENCH_MARKER "openrr-bench-end"

/* This tool's own flags; the connection and security ones are in struct tool_conn. */
struct options {
    int role; /* enum rr_role, or -1 until resolved */
    bool echo;
    const char *send_text;
    bool once;
    uint32_t timeout_ms;
    bool bench;
};

struct tool {
    struct tool_conn conn; /* connection and security flags, interfaces, secrets */
    struct options opt;
    struct rr_context *ctx;

    /* State of the current listen/connect; main thread only. */
    uint16_t bound_port;
    uint16_t bound_transport_port;
    bool connected; /* reached Connected (stays true after the end) */
    bool ended;     /* the Disconnected event arrived */
    enum rr_disconnect_reason end_reason;
    char end_detail[192];
    struct rr_data_channel *channel; /* the one we created */
    unsigned data_lines;
    bool quiet_data;
    bool stopping; /* we asked for the disconnect; a signal no longer interrupts */
    bool interrupted;
    bool failed; /* something other than the connection went wrong */
};

static int64_t g_start_us;
static volatile sig_atomic_t g_stop;

/* ---- output ---------------------------------------------------------------------------- */

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* One timestamped line on stdout. Callbacks print from the network thread, so the line is
 * written under the stream lock and flushed: readers behind a pipe see it at once. */
static void vsay(const char *fmt, va_list ap)
{
    double secs = (double)(now_us() - g_start_us) / 1e6;
    flockfile(stdout);
    printf("[%7.3f] ", secs);
    vprintf(fmt, ap);
    putchar('\n');
    fflush(stdout);
    funlockfile(stdout);
}

static void __attribute__((format(printf, 1, 2))) say(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsay(fmt, ap);
    va_end(ap);
}

/* tool_conn's lines share our clock, so that one log reads in order. */
static void say_for_conn(void *user, const char *fmt, va_list ap)
{
    (void)user;
    vsay(fmt, ap);
}

static bool is_text(const void *data, size_t size)
{
    const uint8_t *p = data;
    if (p == NULL || size == 0 || size > MAX_TEXT_SHOWN) {
        return false;
    }
    for (size_t i = 0; i < size; i++) {
        if (p[i] < 0x20 || p[i] > 0x7e) {
            return false;
        }
    }
    return true;
}

static const char *role_name(enum rr_role role)
{
    return role == RR_ROLE_PLAYER ? "player" : "remote";
}

/* "AuthenticationFailed (6) — detail", the form used on every failure line. */
static const char *describe_reason(enum rr_disconnect_reason reason, const char *detail, char *buf,
                                   size_t size)
{
    if (detail != NULL && detail[0] != '\0') {
        snprintf(buf, size, "%s (%d) — %s", rr_disconnect_reason_str(reason), (int)reason, detail);
    } else {
        snprintf(buf, size, "%s (%d)", rr_disconnect_reason_str(reason), (int)reason);
    }
    return buf;
}

static void print_connection_info(struct tool *t, bool established)
{
    struct rr_connection_info info;
    char buf[256];
    if (rr_context_connection_info(t->ctx, &info) != RR_OK) {
        return;
    }
    /* After a failed connect only the chain verdict is news. */
    if (!established && !info.has_validation) {
        return;
    }
    if (established) {
        say("connected: %s %s, peer role %s, codec %s, transport %s",
            info.secure ? info.tls_version : "plain text",
            info.secure ? info.tls_cipher : "(no TLS)", role_name(info.peer_role), info.codec,
            info.transport);
        say("peer %s, transport port %u, connection id %s, handshake %.1f ms%s", info.peer_address,
            info.transport_port, info.connection_id, (double)info.handshake_us / 1000.0,
            info.token_from_cache ? ", token from cache" : "");
    }
    if (info.peer_certificate_sha256[0] != '\0') {
        say("server certificate sha256: %s", info.peer_certificate_sha256);
    }
    if (info.local_certificate_sha256[0] != '\0') {
        say("our certificate sha256: %s", info.local_certificate_sha256);
    }
    if (info.has_validation) {
        say("system validation: %s",
            rr_certificate_validation_result_format(&info.system_validation, buf, sizeof buf));
        say("final validation: %s",
            rr_certificate_validation_result_format(&info.final_validation, buf, sizeof buf));
    }
}

static void print_stats(struct tool *t)
{
    struct rr_connection_stats s;
    enum rr_result r = rr_context_stats(t->ctx, &s);
    if (r != RR_OK) {
        say("statistics unavailable: %s", rr_result_str(r));
        return;
    }
    say("statistics: sent %" PRIu64 " bytes in %" PRIu64 " records (%" PRIu64
        " messages), received %" PRIu64 " bytes in %" PRIu64 " records (%" PRIu64
        " messages), dropped %" PRIu64 ", rtt %" PRIu32 " µs",
        s.bytes_sent, s.records_sent, s.messages_sent, s.bytes_received, s.records_received,
        s.messages_received, s.messages_dropped, s.rtt_us);
}

/* ---- events (main thread) ---------------------------------------------------------------- */

/* Guaranteed delivery may not drop a message, so wait out a full queue: the network thread
 * keeps draining it while we sleep. */
static enum rr_result send_patiently(struct rr_data_channel *ch, const void *data, size_t size,
                                     uint32_t timeout_ms)
{
    static const uint8_t empty[1];
    int64_t until = now_us() + (int64_t)timeout_ms * 1000;
    const struct timespec pause = {.tv_nsec = 1000000};
    for (;;) {
        enum rr_result r = rr_data_channel_send(ch, data != NULL ? data : empty, size, true);
        if (r != RR_ERROR_QUEUE_FULL || now_us() >= until) {
            return r;
        }
        nanosleep(&pause, NULL);
    }
}

static void on_listening(struct tool *t, const struct rr_event *ev)
{
    t->bound_port = ev->port;
    t->bound_transport_port = ev->transport_port;
    say("listening on port %u (transport %u)", ev->port, ev->transport_port);
}

static void on_connected(struct tool *t)
{
    t->connected = true;
    t->data_lines = 0;
    say("state: Connected");
    print_connection_info(t, true);
}

static void on_disconnected(struct tool *t, const struct rr_event *ev)
{
    char why[256];
    t->ended = true;
    t->end_reason = ev->reason;
    snprintf(t->end_detail, sizeof t->end_detail, "%.*s", (int)sizeof ev->detail - 1, ev->detail);
    say("state: Disconnected");
    say("disconnected: %s", describe_reason(ev->reason, t->end_detail, why, sizeof why));
    if (t->connected) {
        print_stats(t);
    } else if (t->conn.opt.secure && !t->conn.opt.listen) {
        print_connection_info(t, false); /* shows why a chain was rejected */
    }
}

static void on_data(struct tool *t, const struct rr_event *ev)
{
    if (t->opt.echo && ev->channel != NULL) {
        enum rr_result r = send_patiently(ev->channel, ev->data, ev->size, t->opt.timeout_ms);
        if (r != RR_OK) {
            say("echo on channel %u failed: %s", ev->channel_id, rr_result_str(r));
        }
    }
    if (t->quiet_data || ++t->data_lines > MAX_DATA_LINES + 1) {
        return;
    }
    if (t->data_lines > MAX_DATA_LINES) {
        say("more data arrives; it is counted in the statistics, not printed");
    } else if (is_text(ev->data, ev->size)) {
        say("data received on channel %u (packet %" PRIu64 "): %zu bytes \"%.*s\"", ev->channel_id,
            ev->packet_id, ev->size, (int)ev->size, (const char *)ev->data);
    } else {
        say("data received on channel %u (packet %" PRIu64 "): %zu bytes", ev->channel_id,
            ev->packet_id, ev->size);
    }
}

static void on_channel_closed(struct tool *t, const struct rr_event *ev)
{
    struct rr_data_channel *ch = ev->channel;
    say("data channel %u closed (%s)", ev->channel_id,
        ev->close_reason == RR_CHANNEL_CLOSED_ERROR ? "error" : "protocol");
    if (ch == t->channel) {
        t->channel = NULL;
    }
    /* The context keeps closed channels until they are destroyed; a listener serving many
     * connections would otherwise collect them. */
    rr_data_channel_destroy(&ch);
}

static void handle_event(struct tool *t, const struct rr_event *ev)
{
    char why[256];
    switch (ev->type) {
    case RR_EVENT_LISTENING:
        on_listening(t, ev);
        break;
    case RR_EVENT_CONNECTED:
        on_connected(t);
        break;
    case RR_EVENT_DISCONNECTED:
        on_disconnected(t, ev);
        break;
    case RR_EVENT_ATTEMPT_FAILED:
        say("attempt failed: %s", describe_reason(ev->reason, ev->detail, why, sizeof why));
        break;
    case RR_EVENT_DATA_CHANNEL_CREATED:
        say("data channel %u created by the peer", ev->channel_id);
        break;
    case RR_EVENT_DATA_CHANNEL_OPENED:
        say("data channel %u opened", ev->channel_id);
        break;
    case RR_EVENT_DATA_RECEIVED:
        on_data(t, ev);
        break;
    case RR_EVENT_DATA_CHANNEL_CLOSED:
        on_channel_closed(t, ev);
        break;
    default:
        say("event %s", rr_event_type_str(ev->type));
        break;
    }
}

enum step {
    STEP_EVENT,   /* *out_ev holds an event; the caller releases it */
    STEP_TIMEOUT, /* the deadline passed */
    STEP_ENDED,   /* the Disconnected event was handled */
    STEP_CLOSED,  /* the awaited channel closed */
    STEP_SIGNAL,  /* SIGINT or SIGTERM */
};

/* Take the next event before @p deadline_us and handle it (print, track, echo). */
static enum step next_event(struct tool *t, struct rr_event *out_ev, int64_t deadline_us)
{
    for (;;) {
        if (g_stop && !t->stopping) {
            t->interrupted = true;
            return STEP_SIGNAL;
        }
        int64_t left_us = deadline_us - now_us();
        if (left_us <= 0) {
            return STEP_TIMEOUT;
        }
        int wait_ms = left_us >= 100000 ? 100 : (int)((left_us + 999) / 1000);
        memset(out_ev, 0, sizeof *out_ev);
        enum rr_result r = rr_context_poll_event(t->ctx, out_ev, wait_ms);
        if (r == RR_ERROR_NO_EVENT) {
            continue;
        }
        if (r != RR_OK) {
            tool_error("rr_context_poll_event failed: %s", rr_result_str(r));
            t->failed = true;
            t->ended = true;
            return STEP_ENDED;
        }
        handle_event(t, out_ev);
        if (out_ev->type == RR_EVENT_DISCONNECTED) {
            rr_event_release(out_ev);
            return STEP_ENDED;
        }
        return STEP_EVENT;
    }
}

/* Wait for an event of @p type (on channel @p channel_id unless it is negative), handling and
 * dropping the others on the way. */
static enum step wait_for(struct tool *t, enum rr_event_type type, int channel_id,
                          int64_t deadline_us, struct rr_event *out_ev)
{
    for (;;) {
        enum step s = next_event(t, out_ev, deadline_us);
        if (s != STEP_EVENT) {
            return s;
        }
        bool on_channel = channel_id < 0 || out_ev->channel_id == channel_id;
        if (out_ev->type == type && on_channel) {
            return STEP_EVENT;
        }
        bool closed = channel_id >= 0 && on_channel && out_ev->type == RR_EVENT_DATA_CHANNEL_CLOSED;
        rr_event_release(out_ev);
        if (closed) {
            return STEP_CLOSED;
        }
    }
}

/* Close the connection (or the listening) ourselves and wait for the end, whose reason
 * decides the exit status. */
static void finish_connection(struct tool *t)
{
    struct rr_event ev;
    t->stopping = true;
    enum rr_result r = rr_context_disconnect(t->ctx);
    if (r != RR_OK) {
        say("disconnect failed: %s", rr_result_str(r));
    }
    int64_t deadline = now_us() + (int64_t)DISCONNECT_WAIT_MS * 1000;
    while (!t->ended && next_event(t, &ev, deadline) == STEP_EVENT) {
        rr_event_release(&ev);
    }
}

/* Print why the connection ended on stderr (scripts match the reason name there). */
static int report_end(const struct tool *t)
{
    tool_error("%s: %s", rr_disconnect_reason_str(t->end_reason),
               t->end_detail[0] != '\0' ? t->end_detail : "(no detail)");
    return TOOL_EXIT_CONNECTION;
}

/* The status of a connection that ended well: only our own failures can spoil it. */
static int end_status(const struct tool *t)
{
    return t->failed ? TOOL_EXIT_OTHER : TOOL_EXIT_OK;
}

/* ---- client ------------------------------------------------------------------------------ */

static int64_t step_deadline(const struct tool *t, int64_t overall_us)
{
    int64_t step = now_us() + (int64_t)t->opt.timeout_ms * 1000;
    return step < overall_us ? step : overall_us;
}

static bool open_channel(struct tool *t, int64_t overall_us)
{
    struct rr_event ev;
    uint8_t id = t->opt.role == RR_ROLE_REMOTE ? REMOTE_CHANNEL_ID : PLAYER_CHANNEL_ID;
    if (t->channel != NULL) {
        return true;
    }
    enum rr_result r = rr_data_channel_create(t->ctx, id, RR_PRIORITY_HIGH, &t->channel);
    if (r != RR_OK) {
        tool_error("cannot create data channel %u: %s", id, rr_result_str(r));
        t->failed = true;
        return false;
    }
    enum step s = wait_for(t, RR_EVENT_DATA_CHANNEL_OPENED, id, step_deadline(t, overall_us), &ev);
    if (s == STEP_EVENT) {
        rr_event_release(&ev);
        return true;
    }
    if (s == STEP_TIMEOUT || s == STEP_CLOSED) {
        tool_error("data channel %u did not open within %" PRIu32 " ms", id, t->opt.timeout_ms);
        t->failed = true;
    }
    return false;
}

static void send_text(struct tool *t, int64_t overall_us)
{
    const char *text = t->opt.send_text;
    size_t len = strlen(text);
    if (!open_channel(t, overall_us)) {
        return;
    }
    uint8_t id = rr_data_channel_id(t->channel);
    enum rr_result r = send_patiently(t->channel, text, len, t->opt.timeout_ms);
    if (r != RR_OK) {
        tool_error("cannot send on data channel %u: %s", id, rr_result_str(r));
        t->failed = true;
        return;
    }
    say("sent %zu bytes on channel %u", len, id);
    int64_t until = step_deadline(t, overall_us);
    for (;;) {
        struct rr_event ev;
        enum step s = wait_for(t, RR_EVENT_DATA_RECEIVED, id, until, &ev);
        if (s == STEP_TIMEOUT) {
            say("no echo within %" PRIu32 " ms", t->opt.timeout_ms); /* the peer may not echo */
        }
        if (s != STEP_EVENT) {
            return;
        }
        bool match = ev.size == len && (len == 0 || memcmp(ev.data, text, len) == 0);
        rr_event_release(&ev);
        if (match) {
            say("echo: %s", text);
            return;
        }
    }
}

/* Queue a guaranteed message. While the queue is full keep taking events, so that the echoes
 * the peer sends back are drained and it never waits on us. */
static bool bench_send(struct tool *t, const void *data, size_t size)
{
    int64_t until = now_us() + (int64_t)t->opt.timeout_ms * 1000;
    for (;;) {
        struct rr_event ev;
        if (t->channel == NULL) {
            return false;
        }
        enum rr_result r = rr_data_channel_send(t->channel, data, size, true);
        if (r == RR_OK) {
            return true;
        }
        if (r != RR_ERROR_QUEUE_FULL) {
            tool_error("bench: send failed: %s", rr_result_str(r));
            t->failed = true;
            return false;
        }
        enum step s = next_event(t, &ev, now_us() + 1000);
        if (s == STEP_EVENT) {
            rr_event_release(&ev);
            until = now_us() + (int64_t)t->opt.timeout_ms * 1000;
        } else if (s != STEP_TIMEOUT) {
            return false;
        } else if (now_us() >= until) {
            tool_error("bench: the send queue stayed full for %" PRIu32 " ms", t->opt.timeout_ms);
            t->failed = true;
            return false;
        }
    }
}

/* Wait for the echo of exactly @p data; other messages on the channel count as progress. */
static bool bench_wait_echo(struct tool *t, const void *data, size_t size)
{
    if (t->channel == NULL) {
        return false;
    }
    int id = rr_data_channel_id(t->channel);
    int64_t until = now_us() + (int64_t)t->opt.timeout_ms * 1000;
    for (;;) {
        struct rr_event ev;
        enum step s = wait_for(t, RR_EVENT_DATA_RECEIVED, id, until, &ev);
        if (s == STEP_TIMEOUT) {
            tool_error("bench: no echo within %" PRIu32 " ms (the peer must run with -echo)",
                       t->opt.timeout_ms);
            t->failed = true;
        }
        if (s != STEP_EVENT) {
            return false;
        }
        bool match = ev.size == size && memcmp(ev.data, data, size) == 0;
        rr_event_release(&ev);
        if (match) {
            return true;
        }
        until = now_us() + (int64_t)t->opt.timeout_ms * 1000;
    }
}

static int compare_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

static bool bench_round_trips(struct tool *t)
{
    uint32_t rtt_us[BENCH_PINGS];
    uint8_t msg[BENCH_PING_SIZE] = {0};
    for (unsigned i = 0; i < BENCH_PINGS; i++) {
        snprintf((char *)msg, sizeof msg, "openrr-bench-ping %u", i);
        int64_t sent_us = now_us();
        if (!bench_send(t, msg, sizeof msg) || !bench_wait_echo(t, msg, sizeof msg)) {
            return false;
        }
        rtt_us[i] = (uint32_t)(now_us() - sent_us);
    }
    qsort(rtt_us, BENCH_PINGS, sizeof rtt_us[0], compare_u32);
    /* Nearest-rank percentiles: the median of an even count averages the middle two. */
    uint32_t median = (rtt_us[BENCH_PINGS / 2 - 1] + rtt_us[BENCH_PINGS / 2]) / 2;
    uint32_t p99 = rtt_us[(BENCH_PINGS * 99 + 99) / 100 - 1];
    say("bench: round trip of %u-byte messages (%u samples): median %" PRIu32 " µs, p99 %" PRIu32
        " µs",
        BENCH_PING_SIZE, BENCH_PINGS, median, p99);
    return true;
}

static bool bench_throughput(struct tool *t)
{
    uint8_t *block = malloc(BENCH_BULK_SIZE);
    if (block == NULL) {
        tool_error("bench: out of memory");
        t->failed = true;
        return false;
    }
    for (size_t i = 0; i < BENCH_BULK_SIZE; i++) {
        block[i] = (uint8_t)(i * 31u + 7u);
    }
    int64_t start_us = now_us();
    bool ok = true;
    for (size_t sent = 0; ok && sent < BENCH_BULK_TOTAL; sent += BENCH_BULK_SIZE) {
        ok = bench_send(t, block, BENCH_BULK_SIZE);
    }
    free(block);
    /* Messages on a channel stay in order, so the marker's echo comes after all the data. */
    ok = ok && bench_send(t, BENCH_MARKER, strlen(BENCH_MARKER)) &&
         bench_wait_echo(t, BENCH_MARKER, strlen(BENCH_MARKER));
    if (ok) {
        double secs = (double)(now_us() - start_us) / 1e6;
        say("bench: %u MiB in %u KiB messages echoed in %.3f s: %.1f MB/s each way",
            BENCH_BULK_TOTAL >> 20, BENCH_BULK_SIZE >> 10, secs,
            (double)BENCH_BULK_TOTAL / 1e6 / secs);
    }
    return ok;
}

static void run_bench(struct tool *t)
{
    if (!open_channel(t, INT64_MAX)) {
        return;
    }
    t->quiet_data = true;
    if (bench_round_trips(t)) {
        bench_throughput(t);
    }
    t->quiet_data = false;
}

static int client_exit_code(struct tool *t, bool timed_out)
{
    uint32_t bound_ms = HANDSHAKE_TIMEOUT_MS + t->opt.timeout_ms;
    if (timed_out) {
        tool_error("no connection outcome within %" PRIu32 " ms (is the peer reachable?)",
                   bound_ms);
        return TOOL_EXIT_CONNECTION;
    }
    if (!t->ended) {
        tool_error("the connection did not close within %d ms", DISCONNECT_WAIT_MS);
        return TOOL_EXIT_CONNECTION;
    }
    if (t->interrupted) {
        tool_error("interrupted before the run finished");
        return TOOL_EXIT_OTHER;
    }
    if (!t->connected || t->end_reason != RR_REASON_DISCONNECT_REQUEST) {
        return report_end(t);
    }
    return end_status(t);
}

static int run_client(struct tool *t)
{
    struct rr_event ev;
    enum rr_result r = tool_conn_start(&t->conn, t->ctx);
    if (r != RR_OK) {
        tool_error("cannot connect to %s port %u: %s", t->conn.opt.host, t->conn.opt.port,
                   rr_result_str(r));
        return TOOL_EXIT_OTHER;
    }
    say("state: Connecting");
    int64_t overall_us = now_us() + ((int64_t)HANDSHAKE_TIMEOUT_MS + t->opt.timeout_ms) * 1000;
    enum step s = wait_for(t, RR_EVENT_CONNECTED, -1, overall_us, &ev);
    if (s == STEP_EVENT) {
        rr_event_release(&ev);
        /* The overall bound is meant for a hung peer; a bench on a slow link may need longer
         * and bounds each of its steps instead. */
        if (t->opt.send_text != NULL) {
            send_text(t, t->opt.bench ? INT64_MAX : overall_us);
        }
        if (t->opt.bench && !t->ended && !t->interrupted) {
            run_bench(t);
        }
    }
    if (!t->ended) {
        finish_connection(t);
    }
    return client_exit_code(t, s == STEP_TIMEOUT);
}

/* ---- listener ---------------------------------------------------------------------------- */

static enum rr_result start_listen(struct tool *t, uint16_t port, uint16_t transport_port)
{
    t->connected = false;
    t->ended = false;
    return tool_conn_listen(&t->conn, t->ctx, port, transport_port);
}

/* Serve until the connection (or the listening) ends or a signal asks us to stop. */
static enum step serve_one(struct tool *t)
{
    for (;;) {
        struct rr_event ev;
        enum step s = next_event(t, &ev, INT64_MAX);
        if (s == STEP_EVENT) {
            rr_event_release(&ev);
        } else if (s == STEP_SIGNAL) {
            finish_connection(t);
            return s;
        } else if (s == STEP_ENDED) {
            return s;
        }
    }
}

static int run_listener(struct tool *t)
{
    uint16_t port;
    uint16_t transport;
    bool reusing = false;
    tool_conn_listen_ports(&t->conn, &port, &transport);
    for (;;) {
        enum rr_result r = start_listen(t, port, transport);
        if (r != RR_OK) {
            tool_error("cannot listen: %s", rr_result_str(r));
            return TOOL_EXIT_OTHER;
        }
        say("state: Connecting");
        if (serve_one(t) == STEP_SIGNAL) {
            return end_status(t);
        }
        bool busy = t->end_reason == RR_REASON_HANDSHAKE_PORT_BUSY ||
                    t->end_reason == RR_REASON_TRANSPORT_PORT_BUSY;
        if (!t->connected && reusing && busy) {
            /* An ephemeral port we kept for the next client was taken meanwhile. */
            say("the previous ports are taken; listening on new ones");
            tool_conn_listen_ports(&t->conn, &port, &transport);
            reusing = false;
            continue;
        }
        /* A failed client attempt arrives as ATTEMPT_FAILED and the listening goes on, so an
         * end without a connection means the listening itself failed (port, certificate):
         * listening again would fail the same way. */
        bool clean = t->connected && (t->end_reason == RR_REASON_DISCONNECT_REQUEST ||
                                      t->end_reason == RR_REASON_PEER_DISCONNECT_REQUEST);
        if (!t->connected || t->opt.once) {
            return clean ? end_status(t) : report_end(t);
        }
        /* Keep ephemeral ports stable so that a client can come back to the same address. */
        if (port == 0 || transport == 0) {
            reusing = true;
            port = port == 0 ? t->bound_port : port;
            transport = transport == 0 ? t->bound_transport_port : transport;
        }
    }
}

/* ---- command line ------------------------------------------------------------------------ */

/* How a flag's value is stored; the kinds write the options field at `offset`. */
enum flag_kind {
    KIND_SWITCH, /* bool = true */
    KIND_STRING, /* const char * = the argument */
    KIND_MS,     /* uint32_t = 1..86400000 */
    KIND_ROLE,   /* int = enum rr_role */
    KIND_HELP,
};

struct flag {
    const char *name; /* lower case; first, for tool_flag_find() */
    enum flag_kind kind;
    size_t offset;
};

#define OPT(field) offsetof(struct options, field)

/* Only this tool's flags: tool_conn_parse_arg() sees every argument first. */
static const struct flag k_flags[] = {
    {"role", KIND_ROLE, OPT(role)},
    {"echo", KIND_SWITCH, OPT(echo)},
    {"send", KIND_STRING, OPT(send_text)},
    {"once", KIND_SWITCH, OPT(once)},
    {"timeout", KIND_MS, OPT(timeout_ms)},
    {"bench", KIND_SWITCH, OPT(bench)},
    {"h", KIND_HELP, 0},
    {"help", KIND_HELP, 0},
};

/* The usage text is this head, tool_conn_usage() (Connection, Security), and this tail. */
static const char k_usage_head[] =
    "Usage: openrr-remoting [-listen [host[:port]]] [host[:port]] [options]\n"
    "\n"
    "Listens for or connects to an OpenRR remoting peer and prints every event on one line,\n"
    "prefixed with the seconds since start (the first 32 data messages of a connection\n"
    "only; the statistics count all). Flags take '-' or '--' and ignore case.\n"
    "\n";

static const char k_usage_tail[] =
    "\n"
    "Session:\n"
    "  -role player|remote         application role (default: player when listening, remote\n"
    "                              when connecting)\n"
    "  -once                       listener: exit when the first connection ends (default:\n"
    "                              serve one client after another until SIGINT/SIGTERM)\n"
    "  -timeout MS                 wait this long for a channel, an echo or a bench reply\n"
    "                              (default 5000); a client gives up without an outcome\n"
    "                              after 10000 + MS\n"
    "\n"
    "Data:\n"
    "  -echo                       send every received message back on its channel\n"
    "  -send TEXT                  client: send TEXT on a data channel, wait for its echo\n"
    "  -bench                      client: measure round trip (1000 x 64 bytes) and throughput\n"
    "                              (64 MiB) against a peer that runs -echo\n"
    "  -h, --help                  show this text\n"
    "\n"
    "Exit status: 0 success, 1 other error (file, memory, library call), 2 the connection\n"
    "failed or ended abnormally (reason on stderr), 64 bad usage.\n"
    "\n"
    "Examples:\n"
    "  openrr-remoting -secureconnection -listen 0.0.0.0:8265 -certificatestore server.pfx \\\n"
    "      -keypassphrase pw -authenticationtoken s3cret -echo\n"
    "  openrr-remoting -secureconnection -authenticationtoken s3cret -cafile server.pem \\\n"
    "      -send hello render.example.org:8265\n";

static void print_usage(void)
{
    fputs(k_usage_head, stdout);
    fputs(tool_conn_usage(), stdout);
    fputs(k_usage_tail, stdout);
}

enum parse_result { PARSE_GO, PARSE_HELP, PARSE_BAD, PARSE_NO_MEMORY };

/* Store @p value (NULL for switches) for flag @p f, as spelled in @p arg. */
static enum parse_result apply_flag(struct options *o, const struct flag *f, const char *arg,
                                    char *value)
{
    static const struct tool_choice roles[] = {
        {"player", RR_ROLE_PLAYER},
        {"remote", RR_ROLE_REMOTE},
    };
    void *field = (char *)o + f->offset;
    int64_t n = 0;
    switch (f->kind) {
    case KIND_SWITCH:
        *(bool *)field = true;
        return PARSE_GO;
    case KIND_STRING:
        *(const char **)field = value;
        return PARSE_GO;
    case KIND_MS:
        if (!tool_parse_int64(value, 1, 86400000, &n)) {
            tool_usage_error(PROG, "%s needs milliseconds (1-86400000), not '%s'", arg, value);
            return PARSE_BAD;
        }
        *(uint32_t *)field = (uint32_t)n;
        return PARSE_GO;
    case KIND_ROLE:
        if (!tool_parse_choice(value, roles, sizeof roles / sizeof roles[0], (int *)field)) {
            tool_usage_error(PROG, "%s is 'player' or 'remote', not '%s'", arg, value);
            return PARSE_BAD;
        }
        return PARSE_GO;
    case KIND_HELP:
        break;
    }
    return PARSE_HELP;
}

/* One of this tool's flags at argv[*i] (tool_conn did not take it), with its value. */
static enum parse_result parse_own_flag(struct options *o, int argc, char **argv, int *i)
{
    const char *arg = argv[*i];
    char *value = NULL;
    const struct flag *f = tool_flag_find(arg, k_flags, sizeof k_flags / sizeof k_flags[0],
                                          sizeof k_flags[0], TOOL_FLAG_EXACT);
    if (f == NULL) {
        tool_usage_error(PROG, "unknown flag '%s'", arg);
        return PARSE_BAD;
    }
    if (f->kind != KIND_SWITCH && f->kind != KIND_HELP) {
        if (*i + 1 >= argc) {
            tool_usage_error(PROG, "%s needs a value", arg);
            return PARSE_BAD;
        }
        value = argv[++*i];
    }
    return apply_flag(o, f, arg, value);
}

static enum parse_result parse_args(int argc, char **argv, struct tool *t)
{
    enum parse_result r = PARSE_GO;
    for (int i = 1; i < argc && r == PARSE_GO; i++) {
        switch (tool_conn_parse_arg(&t->conn, argc, argv, &i)) {
        case TOOL_CONN_TAKEN:
            break;
        case TOOL_CONN_BAD:
            return PARSE_BAD;
        case TOOL_CONN_NO_MEMORY:
            return PARSE_NO_MEMORY;
        case TOOL_CONN_NOT_MINE:
            r = parse_own_flag(&t->opt, argc, argv, &i);
            break;
        }
    }
    return r;
}

/* Reject combinations of our flags that cannot work; tool_conn_setup() checks its own. */
static int check_options(struct tool *t)
{
    struct options *o = &t->opt;
    bool listen = t->conn.opt.listen;
    /* Unlike the player, a diagnostic tool has no sensible peer to assume. */
    if (!listen && !t->conn.opt.have_address) {
        return tool_usage_error(PROG, "give the host to connect to, or -listen");
    }
    if (listen && (o->send_text != NULL || o->bench)) {
        return tool_usage_error(PROG,
                                "-send and -bench are for a connecting client, not with -listen");
    }
    if (o->echo && (o->send_text != NULL || o->bench)) {
        return tool_usage_error(PROG, "-echo with -send or -bench would bounce messages forever");
    }
    if (o->role < 0) {
        o->role = listen ? RR_ROLE_PLAYER : RR_ROLE_REMOTE;
    }
    return TOOL_EXIT_OK;
}

/* ---- setup ------------------------------------------------------------------------------- */

static int create_context(struct tool *t)
{
    struct rr_context_config cfg = {.role = (enum rr_role)t->opt.role};
    tool_conn_fill_config(&t->conn, &cfg);
    enum rr_result r = rr_context_create(&cfg, &t->ctx);
    if (r != RR_OK) {
        tool_error("cannot create the remoting context: %s", rr_result_str(r));
        return TOOL_EXIT_OTHER;
    }
    return TOOL_EXIT_OK;
}

static int setup(struct tool *t)
{
    int code = check_options(t);
    if (code == TOOL_EXIT_OK) {
        code = tool_conn_setup(&t->conn);
    }
    if (code != TOOL_EXIT_OK) {
        return code;
    }
    /* A second Ctrl-C kills at once should the orderly disconnect hang. */
    tool_install_signals(&g_stop, TOOL_SECOND_SIGNAL_KILLS);
    return create_context(t);
}

int main(int argc, char **argv)
{
    static struct tool tool;
    struct tool *t = &tool;
    int code;
    g_start_us = now_us();
    tool_conn_init(&t->conn, PROG, false);
    t->conn.say = say_for_conn;
    t->opt.role = -1;
    t->opt.timeout_ms = DEFAULT_TIMEOUT_MS;

    enum parse_result p = parse_args(argc, argv, t);
    if (p == PARSE_HELP) {
        print_usage();
        code = TOOL_EXIT_OK;
    } else if (p == PARSE_NO_MEMORY) {
        tool_error("out of memory while reading the command line");
        code = TOOL_EXIT_OTHER;
    } else if (p == PARSE_BAD) {
        code = TOOL_EXIT_USAGE;
    } else if ((code = setup(t)) == TOOL_EXIT_OK) {
        code = t->conn.opt.listen ? run_listener(t) : run_client(t);
    }
    /* Destroy first: the network thread may still read the secrets until it stops. */
    if (t->ctx != NULL) {
        rr_context_destroy(&t->ctx);
    }
    tool_conn_wipe(&t->conn);
    return code;
}
