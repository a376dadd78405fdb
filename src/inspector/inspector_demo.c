/* SPDX-License-Identifier: Apache-2.0 */
/*
 * openrr-inspector-demo — the inspector with a synthetic source (moving numbers, a small scene
 * tree, a log line a second, a frame's timing events 30 times a second), for the page's
 * browser test and for working on the page without a host.
 *
 *   openrr-inspector-demo [--port N] [--bind ADDR] [--token T] [--web-root DIR] [--seconds S]
 *
 * The token also comes from OPENRR_INSPECTOR_TOKEN; without either a random one is made and
 * the page's URL (with it) is printed on stdout — the only place it appears. stderr gets
 * "listening on port N". Threads: main (waits), a frame thread, the inspector's own.
 */
#include "inspector.h"

#include "u_log.h"
#include "u_time.h"

#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#define MOD "demo"

struct demo_source {
    struct rr_inspector_source base;
    atomic_bool paused;
    uint64_t start_us;
};

static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
    (void)sig;
    g_stop = 1;
}

static void demo_stats(struct rr_inspector_source *self, struct rr_inspector_stats *out)
{
    struct demo_source *d = (struct demo_source *)self;
    double t = (double)(u_time_us() - d->start_us) / 1e6;
    bool paused = atomic_load(&d->paused);
    out->paused = paused;
    out->frame_time_ms = paused ? 0 : 9.0 + 3.0 * sin(t * 0.9) + 1.5 * sin(t * 3.7);
    out->fps = paused ? 0 : 60.0 - 4.0 * fabs(sin(t * 0.3));
    out->stage_ms[RR_INSPECTOR_STAGE_UPLINK] = 4.0 + 1.0 * sin(t * 1.3);
    out->stage_ms[RR_INSPECTOR_STAGE_RENDER] = out->frame_time_ms * 0.6;
    out->stage_ms[RR_INSPECTOR_STAGE_ENCODE] = 3.0 + 0.8 * sin(t * 2.1);
    out->stage_ms[RR_INSPECTOR_STAGE_TRANSPORT] = 8.0 + 2.5 * sin(t * 0.7);
    out->stage_ms[RR_INSPECTOR_STAGE_DECODE] = 2.5 + 0.5 * sin(t * 1.9);
    out->stage_ms[RR_INSPECTOR_STAGE_PRESENT] = 5.0 + 1.0 * sin(t * 0.5);
    double total = 0;
    for (int i = RR_INSPECTOR_STAGE_UPLINK; i < RR_INSPECTOR_STAGE_COUNT; i++) {
        total += out->stage_ms[i];
    }
    out->stage_ms[RR_INSPECTOR_STAGE_POSE_TO_PRESENT] = total;
    out->bitrate_kbps = paused ? 0 : 18000.0 + 4000.0 * sin(t * 0.4);
    out->primitives = paused ? 0 : (uint64_t)(12e6 + 6e6 * sin(t * 0.2));
    out->draws = paused ? 0 : (uint64_t)(1800 + 300 * sin(t * 0.25));
    out->client_connected = true;
    snprintf(out->client, sizeof(out->client), "%s", "203.0.113.7 (demo player)");
    snprintf(out->codec, sizeof(out->codec), "%s", "hevc");
    /* cpu_percent and resident_bytes stay "unknown": the inspector measures this process. */
}

static char *demo_scene_json(struct rr_inspector_source *self)
{
    static const char tree[] =
        "{\"name\":\"root\",\"id\":0,\"type\":\"entity\",\"children\":["
        "{\"name\":\"building\",\"id\":1,\"type\":\"model\",\"asset\":\"office.orra\","
        "\"primitives\":11800000,\"children\":["
        "{\"name\":\"floor 1\",\"id\":2,\"type\":\"entity\",\"hidden\":false,\"children\":[]},"
        "{\"name\":\"floor 2\",\"id\":3,\"type\":\"entity\",\"tint\":[1,0.5,0.5,0.5],"
        "\"children\":[{\"name\":\"hvac\",\"id\":4,\"type\":\"model\",\"see_through\":true}]}]},"
        "{\"name\":\"cut plane\",\"id\":5,\"type\":\"cut_plane\",\"normal\":[0,-1,0],"
        "\"distance\":2.5}]}";
    return strdup(tree);
}

static void demo_set_paused(struct rr_inspector_source *self, bool paused)
{
    struct demo_source *d = (struct demo_source *)self;
    atomic_store(&d->paused, paused);
    U_LOG_I(MOD, "paused=%s", paused ? "true" : "false");
}

struct frame_ctx {
    struct rr_inspector *insp;
    struct demo_source *src;
};

/* Synthetic frames at 30 Hz: each records its stages as trace events, laid end to end. */
static void *frame_main(void *arg)
{
    struct frame_ctx *f = arg;
    static const struct {
        const char *name;
        const char *cat;
        uint32_t tid;
        uint64_t dur_us;
    } stages[] = {
        {"wait pose", "render", 1, 900}, {"render", "render", 1, 5200},
        {"convert", "encode", 2, 700},   {"encode", "encode", 2, 2800},
        {"send", "transport", 3, 1500},
    };
    uint64_t frame = 0;
    while (!g_stop) {
        if (!atomic_load(&f->src->paused)) {
            uint64_t t = u_time_us();
            for (size_t i = 0; i < sizeof(stages) / sizeof(stages[0]); i++) {
                uint64_t dur = stages[i].dur_us + (frame * 37 + i * 101) % 900;
                rr_inspector_trace_event(f->insp, stages[i].name, stages[i].cat, t, dur,
                                         stages[i].tid);
                t += dur;
            }
            if (frame % 30 == 0) {
                U_LOG_I(MOD, "frame %llu: %zu draws submitted", (unsigned long long)frame,
                        (size_t)(1800 + frame % 300));
            }
            if (frame % 150 == 75) {
                U_LOG_W(MOD, "frame %llu: encoder queue above 2 frames", (unsigned long long)frame);
            }
            frame++;
        }
        struct timespec ts = {0, 33 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return NULL;
}

static bool random_token(char *out, size_t size)
{
    uint8_t raw[16];
    if (size < 2 * sizeof(raw) + 1 || getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw)) {
        return false;
    }
    for (size_t i = 0; i < sizeof(raw); i++) {
        snprintf(out + 2 * i, 3, "%02x", raw[i]);
    }
    return true;
}

static void usage(void)
{
    fprintf(stderr, "usage: openrr-inspector-demo [--port N] [--bind ADDR] [--token T] "
                    "[--web-root DIR] [--seconds S]\n");
}

int main(int argc, char **argv)
{
    struct rr_inspector_config cfg = {.bind_address = "127.0.0.1",
                                      .web_root = RR_INSPECTOR_WEB_ROOT,
                                      .capture_log = true,
                                      .log_level = U_LOG_INFO};
    const char *token = getenv("OPENRR_INSPECTOR_TOKEN");
    long seconds = 0;
    /* Every option takes a value: step over both. */
    for (int i = 1; i < argc; i += 2) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (v != NULL && strcmp(argv[i], "--port") == 0) {
            long p = strtol(v, NULL, 10);
            if (p < 0 || p > 65535) {
                usage();
                return 2;
            }
            cfg.port = (uint16_t)p;
        } else if (v != NULL && strcmp(argv[i], "--bind") == 0) {
            cfg.bind_address = v;
        } else if (v != NULL && strcmp(argv[i], "--token") == 0) {
            token = v;
        } else if (v != NULL && strcmp(argv[i], "--web-root") == 0) {
            cfg.web_root = v;
        } else if (v != NULL && strcmp(argv[i], "--seconds") == 0) {
            seconds = strtol(v, NULL, 10);
        } else {
            usage();
            return 2;
        }
    }
    char generated[40];
    bool print_url = false;
    if (token == NULL || *token == '\0') {
        if (!random_token(generated, sizeof(generated))) {
            fprintf(stderr, "openrr-inspector-demo: no randomness for a token\n");
            return 1;
        }
        token = generated;
        print_url = true;
    }
    struct demo_source src = {
        .base = {.stats = demo_stats, .scene_json = demo_scene_json, .set_paused = demo_set_paused},
        .start_us = u_time_us()};
    atomic_init(&src.paused, false);
    cfg.token = token;
    cfg.source = &src.base;

    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    struct rr_inspector *insp = NULL;
    enum rr_inspector_error err = rr_inspector_create(&cfg, &insp);
    if (err != RR_INSPECTOR_OK) {
        fprintf(stderr, "openrr-inspector-demo: %s\n", rr_inspector_strerror(err));
        return 1;
    }
    fprintf(stderr, "openrr-inspector-demo: listening on port %u\n",
            (unsigned)rr_inspector_port(insp));
    if (print_url) {
        printf("http://%s:%u/?token=%s\n", cfg.bind_address, (unsigned)rr_inspector_port(insp),
               token);
        fflush(stdout);
    }
    U_LOG_I(MOD, "demo source started");
    U_LOG_E(MOD, "a synthetic error, so the log filter has something to show");

    struct frame_ctx fctx = {.insp = insp, .src = &src};
    pthread_t frames;
    bool frames_started = pthread_create(&frames, NULL, frame_main, &fctx) == 0;
    uint64_t end_ms = seconds > 0 ? u_time_ms() + (uint64_t)seconds * 1000u : 0;
    while (!g_stop && (end_ms == 0 || u_time_ms() < end_ms)) {
        struct timespec ts = {0, 100 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    g_stop = 1;
    if (frames_started) {
        pthread_join(frames, NULL);
    }
    rr_inspector_destroy(&insp);
    return 0;
}
