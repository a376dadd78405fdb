/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rrctl_out — what rrctl prints: sessions and conversions as the REST API spells them (JSON)
 * or as lines for people, and progress on stderr (a bar or spinner on a terminal, plain lines
 * otherwise). Also the interruptible sleep the polling loops use. Main thread.
 */
#include "rrctl.h"

#include <jansson.h>
#include <openssl/rand.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *size_name(enum rr_session_size s)
{
    return s == RR_SESSION_PREMIUM ? "Premium" : "Standard";
}

static json_t *iso_time(int64_t t)
{
    if (t <= 0) {
        return json_null();
    }
    time_t tt = (time_t)t;
    struct tm tm;
    char buf[32];
    if (gmtime_r(&tt, &tm) == NULL || strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
        return json_null();
    }
    return json_string(buf);
}

static json_t *error_obj(const char *code, const char *message)
{
    if (code[0] == '\0' && message[0] == '\0') {
        return json_null();
    }
    return json_pack("{s:s,s:s}", "code", code, "message", message);
}

static json_t *session_json(const struct rr_session_properties *p)
{
    json_t *o = json_object();
    if (o == NULL) {
        return NULL;
    }
    json_object_set_new(o, "id", json_string(p->id));
    json_object_set_new(o, "size", json_string(size_name(p->size)));
    json_object_set_new(o, "status", json_string(rr_session_status_str(p->status)));
    json_object_set_new(o, "hostname", p->hostname[0] ? json_string(p->hostname) : json_null());
    json_object_set_new(o, "handshakePort",
                        p->handshake_port ? json_integer(p->handshake_port) : json_null());
    json_object_set_new(o, "arrInspectorPort",
                        p->inspector_port ? json_integer(p->inspector_port) : json_null());
    json_object_set_new(o, "elapsedTimeMinutes", json_integer(p->elapsed_time_minutes));
    json_object_set_new(o, "maxLeaseTimeMinutes", json_integer(p->max_lease_time_minutes));
    json_object_set_new(o, "teraflops", json_real(p->teraflops));
    json_object_set_new(o, "error", error_obj(p->error_code, p->error_message));
    json_object_set_new(o, "creationTime", iso_time(p->creation_time));
    return o;
}

static void dump(json_t *o)
{
    if (o != NULL) {
        json_dumpf(o, stdout, JSON_COMPACT | JSON_ENSURE_ASCII);
        fputc('\n', stdout);
        json_decref(o);
    }
}

void rrctl_print_session_json(const struct rr_session_properties *p)
{
    dump(session_json(p));
}

void rrctl_print_sessions_json(const struct rr_session_properties *p, size_t n)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr != NULL && i < n; i++) {
        json_array_append_new(arr, session_json(&p[i]));
    }
    dump(json_pack("{s:o}", "sessions", arr));
}

void rrctl_print_conversion_json(const struct rr_conversion_properties *p)
{
    json_t *o = json_object();
    if (o == NULL) {
        return;
    }
    json_object_set_new(o, "id", json_string(p->id));
    json_object_set_new(o, "status", json_string(rr_conversion_status_str(p->status)));
    json_object_set_new(o, "progress", json_integer(p->progress));
    json_object_set_new(o, "error", error_obj(p->error_code, p->error_message));
    json_object_set_new(o, "creationTime", iso_time(p->creation_time));
    if (p->output_asset_uri[0] != '\0') {
        json_object_set_new(o, "output", json_pack("{s:s}", "outputAssetUri", p->output_asset_uri));
    } else {
        json_object_set_new(o, "output", json_null());
    }
    dump(o);
}

void rrctl_print_session(const struct rr_session_properties *p)
{
    printf("id:                %s\n", p->id);
    printf("status:            %s\n", rr_session_status_str(p->status));
    printf("size:              %s\n", size_name(p->size));
    if (p->hostname[0] != '\0' && p->handshake_port != 0) {
        printf("host:              %s:%u\n", p->hostname, p->handshake_port);
    }
    if (p->inspector_port != 0) {
        printf("inspector port:    %u\n", p->inspector_port);
    }
    printf("lease:             %u min (%u elapsed)\n", p->max_lease_time_minutes,
           p->elapsed_time_minutes);
    if (p->creation_time > 0) {
        time_t t = (time_t)p->creation_time;
        struct tm tm;
        char buf[32];
        if (gmtime_r(&t, &tm) != NULL && strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm)) {
            printf("created:           %s\n", buf);
        }
    }
    if (p->error_code[0] != '\0' || p->error_message[0] != '\0') {
        printf("error:             %s: %s\n", p->error_code, p->error_message);
    }
}

/* ---- progress -------------------------------------------------------------------------------- */

void rrctl_progress_init(struct rrctl_progress *p)
{
    memset(p, 0, sizeof(*p));
    p->tty = isatty(STDERR_FILENO) == 1;
}

void rrctl_progress_show(struct rrctl_progress *p, int percent, const char *text)
{
    if (p->tty) {
        static const char spin[] = "|/-\\";
        char bar[32];
        if (percent >= 0) {
            int fill = percent * 24 / 100;
            for (int i = 0; i < 24; i++) {
                bar[i] = i < fill ? '#' : '.';
            }
            bar[24] = '\0';
            fprintf(stderr, "\r[%s] %3d%% %-40.40s", bar, percent, text);
        } else {
            fprintf(stderr, "\r%c %-60.60s", spin[p->tick++ % 4], text);
        }
        fflush(stderr);
        p->drawn = true;
        return;
    }
    char line[256];
    if (percent >= 0) {
        snprintf(line, sizeof(line), "%s %d%%", text, percent);
    } else {
        snprintf(line, sizeof(line), "%s", text);
    }
    if (strcmp(line, p->last) != 0) {
        fprintf(stderr, "%s\n", line);
        snprintf(p->last, sizeof(p->last), "%s", line);
    }
}

void rrctl_progress_done(struct rrctl_progress *p)
{
    if (p->tty && p->drawn) {
        fputc('\n', stderr);
        p->drawn = false;
    }
}

/* ---- sleeping, interruption, ids ------------------------------------------------------------- */

static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
    (void)sig;
    g_stop = 1;
}

void rrctl_install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

bool rrctl_interrupted(void)
{
    return g_stop != 0;
}

bool rrctl_sleep_ms(unsigned ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    while (!g_stop && nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
    return !g_stop;
}

bool rrctl_random_id(char out[33])
{
    unsigned char b[16];
    if (RAND_bytes(b, sizeof(b)) != 1) {
        return false;
    }
    for (int i = 0; i < 16; i++) {
        snprintf(out + 2 * i, 3, "%02x", b[i]);
    }
    return true;
}
