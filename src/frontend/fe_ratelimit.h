/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fe_ratelimit — the per-account token bucket of the API (rate_per_second sustained,
 * rate_burst at once). A request that finds the bucket empty is answered 429 with
 * Retry-After: the whole seconds until a token is back.
 *
 * The API takes a token only after the caller authenticated, so that nobody can spend
 * another account's budget with bad credentials.
 *
 * Threads: any; one mutex (the work under it is a hash lookup and some arithmetic).
 */
#ifndef OPENRR_FE_RATELIMIT_H
#define OPENRR_FE_RATELIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct fe_ratelimit;

/* A limiter of @p per_second tokens a second, at most @p burst banked, remembering at most
 * @p max_keys accounts (buckets that refilled completely are forgotten first; 0 = 100000).
 * NULL when @p per_second is 0 (no limit: fe_ratelimit_take allows everything with NULL) or
 * out of memory (*@p out_oom set). */
struct fe_ratelimit *fe_ratelimit_create(unsigned per_second, unsigned burst, size_t max_keys,
                                         bool *out_oom);
void fe_ratelimit_destroy(struct fe_ratelimit **rl_ptr);

/* Take one token from @p key's bucket at @p now_us (a monotonic clock in microseconds).
 * true: allowed. false: *@p out_retry_after_s = seconds (≥ 1) until a token is back.
 * A NULL limiter allows everything. */
bool fe_ratelimit_take(struct fe_ratelimit *rl, const char *key, uint64_t now_us,
                       unsigned *out_retry_after_s);

/* Accounts remembered now (for tests). */
size_t fe_ratelimit_size(struct fe_ratelimit *rl);

#endif /* OPENRR_FE_RATELIMIT_H */
