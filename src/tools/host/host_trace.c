/* SPDX-License-Identifier: Apache-2.0 */
/*
 * host_trace — the host's timing events and displayable asset URIs (see host_trace.h).
 *
 * Threads: as the header says.
 */
#include "host_trace.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* A reported trip longer than this comes from a clock offset not measured yet. */
#define MAX_SEND_US 10000000u

#define HIDDEN "?\u2026" /* "?…": what stands for a query (and fragment) */

/* ---- URIs ------------------------------------------------------------------------------- */

struct uri_parts {
    bool http;
    size_t scheme_len;    /* "https://" */
    const char *userinfo; /* "user:pw@", or NULL */
    size_t userinfo_len;
    const char *host; /* host[:port] */
    size_t host_len;
    const char *path; /* up to the query or fragment; the whole string when not http(s) */
    size_t path_len;
    const char *query; /* from '?' or '#' to the end, or NULL */
    size_t query_len;
};

static void split(const char *uri, struct uri_parts *p)
{
    memset(p, 0, sizeof *p);
    if (strncasecmp(uri, "http://", 7) == 0) {
        p->scheme_len = 7;
    } else if (strncasecmp(uri, "https://", 8) == 0) {
        p->scheme_len = 8;
    } else {
        p->path = uri;
        p->path_len = strlen(uri);
        return;
    }
    p->http = true;
    const char *auth = uri + p->scheme_len;
    size_t auth_len = strcspn(auth, "/?#");
    const char *at = NULL;
    for (size_t i = 0; i < auth_len; i++) {
        at = auth[i] == '@' ? auth + i : at;
    }
    p->host = auth;
    p->host_len = auth_len;
    if (at != NULL) {
        p->userinfo = auth;
        p->userinfo_len = (size_t)(at - auth) + 1;
        p->host = at + 1;
        p->host_len = auth_len - p->userinfo_len;
    }
    p->path = auth + auth_len;
    p->path_len = strcspn(p->path, "?#");
    if (p->path[p->path_len] != '\0') {
        p->query = p->path + p->path_len;
        p->query_len = strlen(p->query);
    }
}

/* A bounded output buffer: the first append that does not fit is cut (never inside a UTF-8
 * sequence) and ends the text; it stays terminated. */
struct out {
    char *buf;
    size_t size, len;
    bool full;
};

static void put(struct out *o, const char *s, size_t n)
{
    if (o->size == 0 || o->full) {
        return;
    }
    size_t room = o->size - 1 - o->len;
    if (n > room) {
        o->full = true;
        n = room;
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80) {
            n--;
        }
    }
    memcpy(o->buf + o->len, s, n);
    o->len += n;
    o->buf[o->len] = '\0';
}

static void put_display(struct out *o, const char *uri, const struct uri_parts *p)
{
    if (!p->http) {
        put(o, uri, strlen(uri));
        return;
    }
    put(o, uri, p->scheme_len);
    put(o, p->host, p->host_len);
    put(o, p->path, p->path_len);
    if (p->query != NULL) {
        put(o, HIDDEN, strlen(HIDDEN));
    }
}

void host_uri_display(const char *uri, char *out, size_t size)
{
    struct out o = {.buf = out, .size = size};
    struct uri_parts p;
    if (size > 0) {
        out[0] = '\0';
    }
    split(uri, &p);
    put_display(&o, uri, &p);
}

void host_uri_scrub(const char *msg, const char *uri, char *out, size_t size)
{
    struct out o = {.buf = out, .size = size};
    struct uri_parts p;
    size_t uri_len = strlen(uri);
    if (size > 0) {
        out[0] = '\0';
    }
    split(uri, &p);
    for (const char *s = msg; *s != '\0';) {
        if (p.http && uri_len > 0 && strncmp(s, uri, uri_len) == 0) {
            put_display(&o, uri, &p);
            s += uri_len;
        } else if (p.query_len > 1 && strncmp(s, p.query, p.query_len) == 0) {
            put(&o, HIDDEN, strlen(HIDDEN));
            s += p.query_len;
        } else if (p.userinfo_len > 1 && strncmp(s, p.userinfo, p.userinfo_len) == 0) {
            s += p.userinfo_len;
        } else {
            put(&o, s, 1);
            s++;
        }
    }
}

void host_trace_load_name(const char *uri, bool ok, char *out, size_t size)
{
    struct uri_parts p;
    split(uri, &p);
    const char *name = p.path;
    size_t len = p.path_len;
    for (size_t i = 0; i < p.path_len; i++) {
        if (p.path[i] == '/') {
            name = p.path + i + 1;
            len = p.path_len - i - 1;
        }
    }
    if (len == 0 && p.http) {
        name = p.host;
        len = p.host_len;
    }
    if (len > HOST_TRACE_NAME_SIZE) {
        len = HOST_TRACE_NAME_SIZE; /* snprintf truncates to the name's size anyway */
    }
    snprintf(out, size, "load %s%.*s", ok ? "" : "failed ", (int)len, name);
}

/* ---- events ----------------------------------------------------------------------------- */

uint32_t host_trace_tid(void)
{
    static _Thread_local uint32_t tid;
    if (tid == 0) {
        tid = (uint32_t)gettid();
    }
    return tid;
}

static void event(struct rr_inspector *insp, const char *name, const char *category,
                  uint64_t start_us, uint64_t end_us, uint32_t lane)
{
    rr_inspector_trace_event(insp, name, category, start_us,
                             end_us > start_us ? end_us - start_us : 0, lane);
}

void host_trace_init(struct host_trace *t, struct rr_inspector *insp,
                     const struct rr_stream_remote_stats *st)
{
    memset(t, 0, sizeof *t);
    t->insp = insp;
    t->tid = host_trace_tid();
    t->last_gpu_ms = -1.0;
    t->frames_encoded = st->frames_encoded;
    t->last_send_us = st->last_reported.send_us;
}

void host_trace_frame(struct host_trace *t, const struct host_trace_frame *f,
                      const struct rr_stream_remote_stats *st)
{
    struct rr_inspector *insp = t->insp;
    if (insp == NULL) {
        return;
    }
    event(insp, "pose wait", "frame", f->wait_start_us, f->view_start_us, t->tid);
    event(insp, "scene view", "frame", f->view_start_us, f->upload_start_us, t->tid);
    if (f->uploaded) {
        event(insp, "asset upload", "render", f->upload_start_us, f->render_start_us, t->tid);
    }
    event(insp, "render", "render", f->render_start_us, f->submit_start_us, t->tid);
    event(insp, "submit", "stream", f->submit_start_us, f->submit_end_us, t->tid);
    if (st->frames_encoded != t->frames_encoded) {
        /* The stream gives the duration only. The encoding ends the submit but for copying
         * the packet into the send queue, so it is placed at the end: what precedes it in
         * "submit" (opening the encoder at a connection's first frame) stays visible. */
        uint64_t span = f->submit_end_us - f->submit_start_us;
        uint64_t dur = st->last_encode_us < span ? st->last_encode_us : span;
        event(insp, "encode", "stream", f->submit_end_us - dur, f->submit_end_us, t->tid);
        t->frames_encoded = st->frames_encoded;
    }
    /* The renderer reports the newest finished timer query, which is the previous frame's
     * (its readback in the submit waited for the GPU): placed after that frame's draw. A time
     * longer than from that draw to this one is no measurement (llvmpipe's first query gives
     * the clock's value). */
    if (f->gpu_ms >= 0.0 && f->gpu_ms != t->last_gpu_ms && t->last_render_start_us != 0) {
        uint64_t dur = (uint64_t)(f->gpu_ms * 1000.0 + 0.5);
        if (dur <= f->render_start_us - t->last_render_start_us) {
            event(insp, "render gpu", "render", t->last_render_end_us, t->last_render_end_us + dur,
                  HOST_TRACE_LANE_GPU);
        }
    }
    t->last_gpu_ms = f->gpu_ms;
    t->last_render_start_us = f->render_start_us;
    t->last_render_end_us = f->submit_start_us;
    const struct rr_stream_frame_timing *r = &st->last_reported;
    if (r->send_us != 0 && r->send_us != t->last_send_us) {
        t->last_send_us = r->send_us;
        if (r->receive_us > r->send_us && r->receive_us - r->send_us < MAX_SEND_US) {
            event(insp, "send", "network", r->send_us, r->receive_us, HOST_TRACE_LANE_NETWORK);
        }
    }
}
