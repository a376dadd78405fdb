/* SPDX-License-Identifier: Apache-2.0 */
/*
 * oxr_handle — slot/generation handle table (see oxr_handle.h).
 *
 * Threads: any; one lock. Destroy callbacks run without the lock held, so an object's destroy
 * may look up other handles.
 */
#include "oxr_handle.h"

#include <pthread.h>
#include <stdlib.h>

struct slot {
    uint32_t generation; /* bumped on every free, so old values stop matching */
    struct oxr_handle *obj;
};

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static struct slot *g_slots;
static uint32_t g_count;
/* Handles stay below 2^32 slots; far more than any application holds. */
#define MAX_SLOTS (1u << 20)

static uint64_t make_id(uint32_t index, uint32_t generation)
{
    return ((uint64_t)generation << 32) | (uint64_t)(index + 1);
}

bool oxr_handle_register(struct oxr_handle *h)
{
    pthread_mutex_lock(&g_lock);
    uint32_t index = g_count;
    for (uint32_t i = 0; i < g_count; i++) {
        if (g_slots[i].obj == NULL) {
            index = i;
            break;
        }
    }
    if (index == g_count) {
        if (g_count >= MAX_SLOTS) {
            pthread_mutex_unlock(&g_lock);
            return false;
        }
        uint32_t grown = g_count == 0 ? 64 : g_count * 2;
        struct slot *s = realloc(g_slots, (size_t)grown * sizeof *s);
        if (s == NULL) {
            pthread_mutex_unlock(&g_lock);
            return false;
        }
        for (uint32_t i = g_count; i < grown; i++) {
            s[i].generation = 1;
            s[i].obj = NULL;
        }
        g_slots = s;
        g_count = grown;
    }
    g_slots[index].obj = h;
    h->id = make_id(index, g_slots[index].generation);
    pthread_mutex_unlock(&g_lock);
    return true;
}

struct oxr_handle *oxr_handle_lookup(uint64_t id, enum oxr_type type)
{
    uint32_t index = (uint32_t)(id & 0xffffffffu);
    uint32_t generation = (uint32_t)(id >> 32);
    struct oxr_handle *found = NULL;
    if (index == 0) {
        return NULL;
    }
    index--;
    pthread_mutex_lock(&g_lock);
    if (index < g_count && g_slots[index].generation == generation && g_slots[index].obj != NULL &&
        g_slots[index].obj->type == type) {
        found = g_slots[index].obj;
    }
    pthread_mutex_unlock(&g_lock);
    return found;
}

/* Take @p h out of the table (its value is dead from here on). */
static void unregister(struct oxr_handle *h)
{
    uint32_t index = (uint32_t)(h->id & 0xffffffffu) - 1;
    pthread_mutex_lock(&g_lock);
    if (index < g_count && g_slots[index].obj == h) {
        g_slots[index].obj = NULL;
        g_slots[index].generation++;
        if (g_slots[index].generation == 0) {
            g_slots[index].generation = 1;
        }
    }
    pthread_mutex_unlock(&g_lock);
}

/* One child of @p parent still in the table, or NULL. */
static struct oxr_handle *first_child(const struct oxr_handle *parent)
{
    struct oxr_handle *child = NULL;
    pthread_mutex_lock(&g_lock);
    for (uint32_t i = 0; i < g_count && child == NULL; i++) {
        if (g_slots[i].obj != NULL && g_slots[i].obj->parent == parent) {
            child = g_slots[i].obj;
        }
    }
    pthread_mutex_unlock(&g_lock);
    return child;
}

void oxr_handle_destroy(struct oxr_handle *h)
{
    if (h == NULL) {
        return;
    }
    struct oxr_handle *child;
    while ((child = first_child(h)) != NULL) {
        oxr_handle_destroy(child);
    }
    unregister(h);
    if (h->destroy != NULL) {
        h->destroy(h);
    }
}
