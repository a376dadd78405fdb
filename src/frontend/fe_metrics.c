/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fe_metrics — Prometheus counters (fe_metrics.h). Any thread: relaxed atomics.
 */
#include "fe_metrics.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The statuses the API answers; anything else counts as "other". */
static const unsigned STATUSES[] = {200, 201, 204, 400, 401, 403, 404,
                                    405, 409, 413, 422, 429, 500, 503};
#define STATUS_COUNT (sizeof STATUSES / sizeof STATUSES[0])
#define STATUS_SLOTS (STATUS_COUNT + 1)

/* Upper bounds of the latency buckets, seconds. */
static const double BUCKETS[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                 0.1,    0.25,  0.5,    1,     2.5,  5,     10};
#define BUCKET_COUNT (sizeof BUCKETS / sizeof BUCKETS[0])

static const char *const CONV_STATUS[] = {"NotStarted", "Running", "Cancelled", "Failed",
                                          "Succeeded"};
static const char *const SESSION_STATUS[] = {"Starting", "Ready", "Stopped", "Expired", "Error"};

struct fe_metrics {
    const char *const *routes;
    size_t route_count;
    _Atomic unsigned long long *requests; /* route_count × STATUS_SLOTS */
    _Atomic unsigned long long buckets[BUCKET_COUNT + 1];
    _Atomic unsigned long long duration_us_sum;
    _Atomic unsigned long long tokens_issued;
    _Atomic unsigned long long conversions_finished[5];
};

struct fe_metrics *fe_metrics_create(const char *const *routes, size_t count)
{
    if (routes == NULL || count == 0) {
        return NULL;
    }
    struct fe_metrics *m = calloc(1, sizeof *m);
    if (m == NULL) {
        return NULL;
    }
    m->requests = calloc(count * STATUS_SLOTS, sizeof *m->requests);
    if (m->requests == NULL) {
        free(m);
        return NULL;
    }
    m->routes = routes;
    m->route_count = count;
    return m;
}

void fe_metrics_destroy(struct fe_metrics **m_ptr)
{
    if (m_ptr == NULL || *m_ptr == NULL) {
        return;
    }
    free((void *)(*m_ptr)->requests);
    free(*m_ptr);
    *m_ptr = NULL;
}

static size_t status_slot(unsigned status)
{
    for (size_t i = 0; i < STATUS_COUNT; i++) {
        if (STATUSES[i] == status) {
            return i;
        }
    }
    return STATUS_COUNT;
}

void fe_metrics_request(struct fe_metrics *m, size_t route, unsigned status, uint64_t duration_us)
{
    if (m == NULL) {
        return;
    }
    if (route >= m->route_count) {
        route = m->route_count - 1;
    }
    atomic_fetch_add_explicit(&m->requests[route * STATUS_SLOTS + status_slot(status)], 1,
                              memory_order_relaxed);
    double s = (double)duration_us / 1e6;
    size_t b = 0;
    while (b < BUCKET_COUNT && s > BUCKETS[b]) {
        b++;
    }
    atomic_fetch_add_explicit(&m->buckets[b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&m->duration_us_sum, duration_us, memory_order_relaxed);
}

void fe_metrics_token_issued(struct fe_metrics *m)
{
    if (m != NULL) {
        atomic_fetch_add_explicit(&m->tokens_issued, 1, memory_order_relaxed);
    }
}

void fe_metrics_conversion_finished(struct fe_metrics *m, int status)
{
    if (m != NULL && status >= 2 && status <= 4) {
        atomic_fetch_add_explicit(&m->conversions_finished[status], 1, memory_order_relaxed);
    }
}

/* A growing text buffer; sticky failure. */
struct text {
    char *s;
    size_t len, cap;
    bool failed;
};

static void add(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add(struct text *t, const char *fmt, ...)
{
    if (t->failed) {
        return;
    }
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(t->s + t->len, t->cap - t->len, fmt, ap);
        va_end(ap);
        if (n < 0) {
            t->failed = true;
            return;
        }
        if ((size_t)n < t->cap - t->len) {
            t->len += (size_t)n;
            return;
        }
        size_t cap = t->cap * 2 + (size_t)n;
        char *grown = realloc(t->s, cap);
        if (grown == NULL) {
            t->failed = true;
            return;
        }
        t->s = grown;
        t->cap = cap;
    }
}

static unsigned long long load(_Atomic unsigned long long *v)
{
    return atomic_load_explicit(v, memory_order_relaxed);
}

char *fe_metrics_render(struct fe_metrics *m, const struct fe_metrics_gauges *g)
{
    struct text t = {malloc(8192), 0, 8192, false};
    if (t.s == NULL) {
        return NULL;
    }
    t.s[0] = '\0';
    add(&t, "# HELP openrrd_http_requests_total HTTP requests answered, by route and status.\n"
            "# TYPE openrrd_http_requests_total counter\n");
    for (size_t r = 0; r < m->route_count; r++) {
        for (size_t s = 0; s < STATUS_SLOTS; s++) {
            unsigned long long n = load(&m->requests[r * STATUS_SLOTS + s]);
            if (n == 0) {
                continue;
            }
            if (s < STATUS_COUNT) {
                add(&t, "openrrd_http_requests_total{route=\"%s\",status=\"%u\"} %llu\n",
                    m->routes[r], STATUSES[s], n);
            } else {
                add(&t, "openrrd_http_requests_total{route=\"%s\",status=\"other\"} %llu\n",
                    m->routes[r], n);
            }
        }
    }
    add(&t, "# HELP openrrd_http_request_duration_seconds Time from a request's headers to its "
            "response.\n# TYPE openrrd_http_request_duration_seconds histogram\n");
    unsigned long long cumulative = 0;
    for (size_t b = 0; b <= BUCKET_COUNT; b++) {
        cumulative += load(&m->buckets[b]);
        if (b < BUCKET_COUNT) {
            add(&t, "openrrd_http_request_duration_seconds_bucket{le=\"%g\"} %llu\n", BUCKETS[b],
                cumulative);
        } else {
            add(&t, "openrrd_http_request_duration_seconds_bucket{le=\"+Inf\"} %llu\n", cumulative);
        }
    }
    add(&t, "openrrd_http_request_duration_seconds_sum %.6f\n",
        (double)load(&m->duration_us_sum) / 1e6);
    add(&t, "openrrd_http_request_duration_seconds_count %llu\n", cumulative);
    add(&t,
        "# HELP openrrd_tokens_issued_total Access tokens issued by the STS.\n"
        "# TYPE openrrd_tokens_issued_total counter\nopenrrd_tokens_issued_total %llu\n",
        load(&m->tokens_issued));
    if (g != NULL) {
        add(&t,
            "# HELP openrrd_token_cache_hits_total REST calls whose token was verified "
            "before.\n# TYPE openrrd_token_cache_hits_total counter\n"
            "openrrd_token_cache_hits_total %llu\n",
            g->token_cache_hits);
        add(&t,
            "# HELP openrrd_token_cache_misses_total REST calls that verified a token's "
            "signature.\n# TYPE openrrd_token_cache_misses_total counter\n"
            "openrrd_token_cache_misses_total %llu\n",
            g->token_cache_misses);
        add(&t,
            "# HELP openrrd_token_cache_entries Verified tokens remembered.\n"
            "# TYPE openrrd_token_cache_entries gauge\nopenrrd_token_cache_entries %zu\n",
            g->token_cache_entries);
        add(&t, "# HELP openrrd_conversions Conversions by status (all accounts).\n"
                "# TYPE openrrd_conversions gauge\n");
        for (size_t i = 0; i < 5; i++) {
            if (g->conversions[i] >= 0) {
                add(&t, "openrrd_conversions{status=\"%s\"} %lld\n", CONV_STATUS[i],
                    g->conversions[i]);
            }
        }
        add(&t, "# HELP openrrd_sessions Sessions by status (all accounts).\n"
                "# TYPE openrrd_sessions gauge\n");
        for (size_t i = 0; i < 5; i++) {
            if (g->sessions[i] >= 0) {
                add(&t, "openrrd_sessions{status=\"%s\"} %lld\n", SESSION_STATUS[i],
                    g->sessions[i]);
            }
        }
    }
    add(&t, "# HELP openrrd_conversions_finished_total Conversions that ended since the start, "
            "by status.\n# TYPE openrrd_conversions_finished_total counter\n");
    for (size_t i = 2; i < 5; i++) {
        add(&t, "openrrd_conversions_finished_total{status=\"%s\"} %llu\n", CONV_STATUS[i],
            load(&m->conversions_finished[i]));
    }
    if (t.failed) {
        free(t.s);
        return NULL;
    }
    return t.s;
}
