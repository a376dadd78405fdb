/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The inspector's lifecycle and its three rings: stats samples (filled by the sampler thread
 * every interval), log lines (any logging thread, through the u_log sink) and timing events
 * (any host thread). The HTTP side reads them under their locks.
 */
#include "inspector_internal.h"

#include "u_time.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

const char *rr_inspector_strerror(enum rr_inspector_error error)
{
    switch (error) {
    case RR_INSPECTOR_OK:
        return "success";
    case RR_INSPECTOR_ERROR_INVALID_ARGUMENT:
        return "invalid argument";
    case RR_INSPECTOR_ERROR_OUT_OF_MEMORY:
        return "out of memory";
    case RR_INSPECTOR_ERROR_WEB_ROOT:
        return "the web root is not a readable directory";
    case RR_INSPECTOR_ERROR_ADDRESS_IN_USE:
        return "address already in use";
    case RR_INSPECTOR_ERROR_BIND:
        return "cannot bind or listen on the address";
    case RR_INSPECTOR_ERROR_SERVER:
        return "the HTTP server did not start";
    }
    return "unknown error";
}

const char *rr_inspector_stage_name(enum rr_inspector_stage stage)
{
    static const char *names[RR_INSPECTOR_STAGE_COUNT] = {
        "pose_to_present", "uplink", "render", "encode", "transport", "decode", "present",
    };
    if ((int)stage < 0 || stage >= RR_INSPECTOR_STAGE_COUNT) {
        return NULL;
    }
    return names[stage];
}

/* Copy at most size - 1 bytes, never cutting a UTF-8 sequence in two (the JSON writer would
 * then refuse the whole string). */
static void copy_str(char *dst, size_t size, const char *src)
{
    if (src == NULL) {
        src = "";
    }
    size_t n = strnlen(src, size - 1);
    if (src[n] != '\0') {
        while (n > 0 && ((unsigned char)src[n] & 0xC0) == 0x80) {
            n--;
        }
    }
    memcpy(dst, src, n);
    dst[n] = '\0';
}

/* Names and modules: printable ASCII only, so every document that holds them stays valid. */
static void copy_ascii(char *dst, size_t size, const char *src)
{
    copy_str(dst, size, src);
    for (char *p = dst; *p != '\0'; p++) {
        if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e) {
            *p = '?';
        }
    }
}

/* ---- log tail ---------------------------------------------------------------------------- */

void rr_inspector_log(struct rr_inspector *insp, enum u_log_level level, const char *module,
                      const char *message)
{
    if (insp == NULL) {
        return;
    }
    uint64_t wall_ms = u_time_wall_us() / 1000;
    pthread_mutex_lock(&insp->log_lock);
    struct rr_inspector_log_line *l = &insp->log[insp->log_head];
    l->wall_ms = wall_ms;
    l->level = level;
    copy_ascii(l->module, sizeof(l->module), module);
    copy_str(l->message, sizeof(l->message), message);
    insp->log_head = (insp->log_head + 1) % RR_INSPECTOR_LOG_LINES;
    if (insp->log_len < RR_INSPECTOR_LOG_LINES) {
        insp->log_len++;
    }
    pthread_mutex_unlock(&insp->log_lock);
}

static void sink_write(struct u_log_sink *self, enum u_log_level level, const char *module,
                       const char *message)
{
    struct rr_inspector *insp =
        (struct rr_inspector *)((char *)self - offsetof(struct rr_inspector, sink));
    rr_inspector_log(insp, level, module, message);
}

/* ---- timing events ----------------------------------------------------------------------- */

void rr_inspector_trace_event(struct rr_inspector *insp, const char *name, const char *category,
                              uint64_t start_us, uint64_t dur_us, uint32_t tid)
{
    if (insp == NULL) {
        return;
    }
    pthread_mutex_lock(&insp->trace_lock);
    struct rr_inspector_trace_entry *e = &insp->trace[insp->trace_head];
    e->start_us = start_us;
    e->dur_us = dur_us;
    e->tid = tid;
    copy_ascii(e->name, sizeof(e->name), name);
    copy_ascii(e->category, sizeof(e->category), category);
    insp->trace_head = (insp->trace_head + 1) % insp->trace_cap;
    if (insp->trace_len < insp->trace_cap) {
        insp->trace_len++;
    }
    pthread_mutex_unlock(&insp->trace_lock);
}

/* ---- sampler ----------------------------------------------------------------------------- */

static uint64_t process_cpu_us(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0) {
        return 0;
    }
    return (uint64_t)ru.ru_utime.tv_sec * 1000000u + (uint64_t)ru.ru_utime.tv_usec +
           (uint64_t)ru.ru_stime.tv_sec * 1000000u + (uint64_t)ru.ru_stime.tv_usec;
}

static uint64_t process_resident_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "re");
    if (f == NULL) {
        return 0;
    }
    unsigned long long size = 0, resident = 0;
    int n = fscanf(f, "%llu %llu", &size, &resident);
    fclose(f);
    long page = sysconf(_SC_PAGESIZE);
    if (n != 2 || page <= 0) {
        return 0;
    }
    return (uint64_t)resident * (uint64_t)page;
}

static void take_sample(struct rr_inspector *insp)
{
    struct rr_inspector_sample s;
    memset(&s, 0, sizeof(s));
    for (int i = 0; i < RR_INSPECTOR_STAGE_COUNT; i++) {
        s.stats.stage_ms[i] = -1.0;
    }
    s.stats.cpu_percent = -1.0;
    rr_inspector_source_stats(insp->source, &s.stats);
    s.stats.client[sizeof(s.stats.client) - 1] = '\0';
    s.stats.codec[sizeof(s.stats.codec) - 1] = '\0';

    uint64_t cpu = process_cpu_us(), mono = u_time_us();
    if (s.stats.cpu_percent < 0) {
        s.stats.cpu_percent = 0;
        if (insp->prev_mono_us != 0 && mono > insp->prev_mono_us && cpu >= insp->prev_cpu_us) {
            s.stats.cpu_percent =
                100.0 * (double)(cpu - insp->prev_cpu_us) / (double)(mono - insp->prev_mono_us);
        }
    }
    insp->prev_cpu_us = cpu;
    insp->prev_mono_us = mono;
    if (s.stats.resident_bytes == 0) {
        s.stats.resident_bytes = process_resident_bytes();
    }
    s.wall_ms = u_time_wall_us() / 1000;

    pthread_mutex_lock(&insp->lock);
    s.seq = ++insp->seq;
    insp->history[insp->history_head] = s;
    insp->history_head = (insp->history_head + 1) % insp->history_cap;
    if (insp->history_len < insp->history_cap) {
        insp->history_len++;
    }
    pthread_cond_broadcast(&insp->new_sample);
    pthread_mutex_unlock(&insp->lock);
}

bool rr_inspector_latest(struct rr_inspector *insp, struct rr_inspector_sample *out)
{
    pthread_mutex_lock(&insp->lock);
    bool have = insp->history_len > 0;
    if (have) {
        size_t i = (insp->history_head + insp->history_cap - 1) % insp->history_cap;
        *out = insp->history[i];
    }
    pthread_mutex_unlock(&insp->lock);
    return have;
}

static void deadline_after_ms(struct timespec *ts, uint32_t ms)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

/* Runs on the sampler thread: one sample now, then one per interval until stopping. */
static void *sampler_main(void *arg)
{
    struct rr_inspector *insp = arg;
    while (!atomic_load(&insp->stopping)) {
        take_sample(insp);
        struct timespec deadline;
        deadline_after_ms(&deadline, insp->interval_ms);
        pthread_mutex_lock(&insp->lock);
        while (!atomic_load(&insp->stopping)) {
            if (pthread_cond_timedwait(&insp->new_sample, &insp->lock, &deadline) == ETIMEDOUT) {
                break;
            }
        }
        pthread_mutex_unlock(&insp->lock);
    }
    return NULL;
}

/* ---- lifecycle --------------------------------------------------------------------------- */

static bool hash_token(const char *token, uint8_t out[SHA256_DIGEST_LENGTH])
{
    unsigned int len = 0;
    return EVP_Digest(token, strlen(token), out, &len, EVP_sha256(), NULL) == 1 &&
           len == SHA256_DIGEST_LENGTH;
}

static void free_inspector(struct rr_inspector *insp)
{
    if (insp->web_root_fd >= 0) {
        close(insp->web_root_fd);
    }
    pthread_cond_destroy(&insp->new_sample);
    pthread_mutex_destroy(&insp->lock);
    pthread_mutex_destroy(&insp->log_lock);
    pthread_mutex_destroy(&insp->trace_lock);
    free(insp->history);
    free(insp->trace);
    OPENSSL_cleanse(insp->token_hash, sizeof(insp->token_hash));
    free(insp);
}

static enum rr_inspector_error validate(const struct rr_inspector_config *c,
                                        struct rr_inspector **out_insp)
{
    if (c == NULL || out_insp == NULL || c->source == NULL || c->source->stats == NULL ||
        c->token == NULL) {
        return RR_INSPECTOR_ERROR_INVALID_ARGUMENT;
    }
    size_t tlen = strnlen(c->token, RR_INSPECTOR_TOKEN_MAX + 1);
    if (tlen == 0 || tlen > RR_INSPECTOR_TOKEN_MAX) {
        return RR_INSPECTOR_ERROR_INVALID_ARGUMENT;
    }
    return RR_INSPECTOR_OK;
}

enum rr_inspector_error rr_inspector_create(const struct rr_inspector_config *config,
                                            struct rr_inspector **out_insp)
{
    enum rr_inspector_error err = validate(config, out_insp);
    if (err != RR_INSPECTOR_OK) {
        return err;
    }
    *out_insp = NULL;
    struct rr_inspector *insp = calloc(1, sizeof(*insp));
    if (insp == NULL) {
        return RR_INSPECTOR_ERROR_OUT_OF_MEMORY;
    }
    insp->source = config->source;
    insp->verify_token = config->verify_token;
    insp->verify_user = config->verify_user;
    insp->web_root_fd = -1;
    insp->interval_ms = config->sample_interval_ms != 0 ? config->sample_interval_ms : 250;
    insp->history_cap = RR_INSPECTOR_HISTORY_SECONDS * 1000u / insp->interval_ms;
    if (insp->history_cap < 2) {
        insp->history_cap = 2;
    }
    insp->trace_cap = config->trace_capacity != 0 ? config->trace_capacity : 16384;
    atomic_init(&insp->stopping, false);

    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&insp->new_sample, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&insp->lock, NULL);
    pthread_mutex_init(&insp->log_lock, NULL);
    pthread_mutex_init(&insp->trace_lock, NULL);

    insp->history = calloc(insp->history_cap, sizeof(*insp->history));
    insp->trace = calloc(insp->trace_cap, sizeof(*insp->trace));
    if (insp->history == NULL || insp->trace == NULL) {
        free_inspector(insp);
        return RR_INSPECTOR_ERROR_OUT_OF_MEMORY;
    }
    if (!hash_token(config->token, insp->token_hash)) {
        free_inspector(insp);
        return RR_INSPECTOR_ERROR_OUT_OF_MEMORY;
    }
    if (config->web_root != NULL) {
        insp->web_root_fd = open(config->web_root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (insp->web_root_fd < 0) {
            free_inspector(insp);
            return RR_INSPECTOR_ERROR_WEB_ROOT;
        }
    }
    if (pthread_create(&insp->sampler, NULL, sampler_main, insp) != 0) {
        free_inspector(insp);
        return RR_INSPECTOR_ERROR_SERVER;
    }
    insp->sampler_started = true;
    err = rr_inspector_http_start(insp, config);
    if (err != RR_INSPECTOR_OK) {
        rr_inspector_destroy(&insp);
        return err;
    }
    if (config->capture_log) {
        insp->sink.write = sink_write;
        insp->sink.level = config->log_level;
        u_log_set_sink(&insp->sink);
        insp->sink_installed = true;
    }
    *out_insp = insp;
    return RR_INSPECTOR_OK;
}

uint16_t rr_inspector_port(const struct rr_inspector *insp)
{
    return insp != NULL ? insp->port : 0;
}

void rr_inspector_destroy(struct rr_inspector **insp_ptr)
{
    if (insp_ptr == NULL || *insp_ptr == NULL) {
        return;
    }
    struct rr_inspector *insp = *insp_ptr;
    *insp_ptr = NULL;
    if (insp->sink_installed) {
        u_log_remove_sink(&insp->sink);
    }
    pthread_mutex_lock(&insp->lock);
    atomic_store(&insp->stopping, true);
    pthread_cond_broadcast(&insp->new_sample);
    pthread_mutex_unlock(&insp->lock);
    if (insp->sampler_started) {
        pthread_join(insp->sampler, NULL);
    }
    rr_inspector_http_stop(insp);
    free_inspector(insp);
}
