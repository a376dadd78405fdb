/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fe_ratelimit — per-account token buckets (fe_ratelimit.h). Any thread, under one mutex.
 */
#include "fe_ratelimit.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define KEY_MAX 128

struct bucket {
    struct bucket *next;
    double tokens;
    uint64_t last_us;
    char key[KEY_MAX];
};

struct fe_ratelimit {
    pthread_mutex_t lock;
    double per_us; /* tokens per microsecond */
    double burst;
    size_t max_keys, count, table_size;
    struct bucket **table;
};

static size_t hash_of(const char *s)
{
    size_t h = 1469598103934665603ull; /* FNV-1a */
    for (; *s != '\0'; s++) {
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    }
    return h;
}

struct fe_ratelimit *fe_ratelimit_create(unsigned per_second, unsigned burst, size_t max_keys,
                                         bool *out_oom)
{
    if (out_oom != NULL) {
        *out_oom = false;
    }
    if (per_second == 0) {
        return NULL;
    }
    struct fe_ratelimit *rl = calloc(1, sizeof *rl);
    if (rl != NULL) {
        rl->max_keys = max_keys != 0 ? max_keys : 100000;
        rl->table_size = 4096;
        rl->table = calloc(rl->table_size, sizeof *rl->table);
    }
    if (rl == NULL || rl->table == NULL) {
        free(rl);
        if (out_oom != NULL) {
            *out_oom = true;
        }
        return NULL;
    }
    pthread_mutex_init(&rl->lock, NULL);
    rl->per_us = per_second / 1e6;
    rl->burst = burst < 1 ? 1 : burst;
    return rl;
}

void fe_ratelimit_destroy(struct fe_ratelimit **rl_ptr)
{
    if (rl_ptr == NULL || *rl_ptr == NULL) {
        return;
    }
    struct fe_ratelimit *rl = *rl_ptr;
    for (size_t i = 0; i < rl->table_size; i++) {
        struct bucket *b = rl->table[i];
        while (b != NULL) {
            struct bucket *next = b->next;
            free(b);
            b = next;
        }
    }
    free(rl->table);
    pthread_mutex_destroy(&rl->lock);
    free(rl);
    *rl_ptr = NULL;
}

static void refill(const struct fe_ratelimit *rl, struct bucket *b, uint64_t now_us)
{
    if (now_us > b->last_us) {
        b->tokens += (double)(now_us - b->last_us) * rl->per_us;
        if (b->tokens > rl->burst) {
            b->tokens = rl->burst;
        }
        b->last_us = now_us;
    }
}

/* Forget the buckets that are full again: they hold nothing a new bucket would not. */
static void sweep(struct fe_ratelimit *rl, uint64_t now_us)
{
    for (size_t i = 0; i < rl->table_size; i++) {
        struct bucket **link = &rl->table[i];
        while (*link != NULL) {
            struct bucket *b = *link;
            refill(rl, b, now_us);
            if (b->tokens >= rl->burst) {
                *link = b->next;
                free(b);
                rl->count--;
            } else {
                link = &b->next;
            }
        }
    }
}

bool fe_ratelimit_take(struct fe_ratelimit *rl, const char *key, uint64_t now_us,
                       unsigned *out_retry_after_s)
{
    if (rl == NULL) {
        return true;
    }
    char k[KEY_MAX];
    size_t len = strnlen(key, KEY_MAX - 1);
    memcpy(k, key, len);
    k[len] = '\0';
    pthread_mutex_lock(&rl->lock);
    size_t slot = hash_of(k) & (rl->table_size - 1);
    struct bucket *b = rl->table[slot];
    while (b != NULL && strcmp(b->key, k) != 0) {
        b = b->next;
    }
    if (b == NULL) {
        if (rl->count >= rl->max_keys) {
            sweep(rl, now_us);
        }
        if (rl->count < rl->max_keys) {
            b = calloc(1, sizeof *b);
        }
        if (b == NULL) {
            /* Out of memory or every remembered account is busy: letting this one through
             * beats refusing everyone. */
            pthread_mutex_unlock(&rl->lock);
            return true;
        }
        memcpy(b->key, k, len + 1);
        b->tokens = rl->burst;
        b->last_us = now_us;
        b->next = rl->table[slot];
        rl->table[slot] = b;
        rl->count++;
    }
    refill(rl, b, now_us);
    bool ok = b->tokens >= 1.0;
    if (ok) {
        b->tokens -= 1.0;
    } else if (out_retry_after_s != NULL) {
        double wait_s = (1.0 - b->tokens) / (rl->per_us * 1e6);
        double up = ceil(wait_s);
        *out_retry_after_s = up < 1 ? 1 : (up > 3600 ? 3600 : (unsigned)up);
    }
    pthread_mutex_unlock(&rl->lock);
    return ok;
}

size_t fe_ratelimit_size(struct fe_ratelimit *rl)
{
    if (rl == NULL) {
        return 0;
    }
    pthread_mutex_lock(&rl->lock);
    size_t n = rl->count;
    pthread_mutex_unlock(&rl->lock);
    return n;
}
