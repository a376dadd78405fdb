/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fe_metrics — openrrd's counters for Prometheus (GET /metrics): requests by route and
 * status, a latency histogram, tokens issued, the token cache, conversions finished by status;
 * the current conversions and sessions by status come from the store at scrape time and are
 * passed to fe_metrics_render.
 *
 * Threads: the counters are atomics, updated from any thread; render from any thread.
 */
#ifndef OPENRR_FE_METRICS_H
#define OPENRR_FE_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct fe_metrics;

/* @p routes: @p count route names (static strings, e.g. "PUT /accounts/{a}/sessions/{id}"),
 * indexed by the route number that fe_metrics_request takes. NULL when out of memory. */
struct fe_metrics *fe_metrics_create(const char *const *routes, size_t count);
void fe_metrics_destroy(struct fe_metrics **m_ptr);

/* One answered request. @p route out of range counts as the last route. */
void fe_metrics_request(struct fe_metrics *m, size_t route, unsigned status, uint64_t duration_us);
void fe_metrics_token_issued(struct fe_metrics *m);
/* A conversion reached a terminal status (2 Cancelled, 3 Failed, 4 Succeeded of
 * enum fe_conversion_status). */
void fe_metrics_conversion_finished(struct fe_metrics *m, int status);

/* What the store says at scrape time: counts by status (enum fe_conversion_status and
 * enum fe_session_status order); a negative count is left out (not known). */
struct fe_metrics_gauges {
    long long conversions[5];
    long long sessions[5];
    unsigned long long token_cache_hits, token_cache_misses;
    size_t token_cache_entries;
};

/* The Prometheus text exposition (version 0.0.4) in a malloc'd string; NULL when out of
 * memory. */
char *fe_metrics_render(struct fe_metrics *m, const struct fe_metrics_gauges *g);

#endif /* OPENRR_FE_METRICS_H */
