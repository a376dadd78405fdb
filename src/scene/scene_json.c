/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The scene tree as JSON for the inspector's read-only view (its node convention: "name",
 * "id", "type", scalar properties, "children"). Any thread; the tree is read in one
 * rr_scene_visit, so it is a consistent snapshot.
 */
#include "scene.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct json {
    char *buf;
    size_t len, cap;
    bool oom;
    uint32_t open_depth; /* depth of the entity object left open, 0 = only the root */
    bool first;          /* nothing emitted yet in the innermost open children array */
    size_t shown, seen, max;
};

static void put(struct json *j, const char *s, size_t n)
{
    if (j->oom) {
        return;
    }
    if (j->len + n + 1 > j->cap) {
        size_t cap = j->cap ? j->cap : 4096;
        while (cap < j->len + n + 1) {
            cap *= 2;
        }
        char *b = realloc(j->buf, cap);
        if (b == NULL) {
            j->oom = true;
            return;
        }
        j->buf = b;
        j->cap = cap;
    }
    memcpy(j->buf + j->len, s, n);
    j->len += n;
    j->buf[j->len] = '\0';
}

static void puts_(struct json *j, const char *s)
{
    put(j, s, strlen(s));
}

static void printf_(struct json *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void printf_(struct json *j, const char *fmt, ...)
{
    char tmp[128];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (n > 0) {
        put(j, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
    }
}

/* Length of the valid UTF-8 sequence at @p s (1–4), or 0. */
static size_t utf8_len(const unsigned char *s)
{
    if (s[0] < 0x80) {
        return 1;
    }
    size_t n = (s[0] & 0xe0) == 0xc0   ? 2
               : (s[0] & 0xf0) == 0xe0 ? 3
               : (s[0] & 0xf8) == 0xf0 ? 4
                                       : 0;
    if (n == 0 || (n == 2 && s[0] < 0xc2) || (n == 4 && s[0] > 0xf4)) {
        return 0;
    }
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80) {
            return 0;
        }
    }
    uint32_t cp = n == 2 ? (s[0] & 0x1fu) : n == 3 ? (s[0] & 0x0fu) : (s[0] & 0x07u);
    for (size_t i = 1; i < n; i++) {
        cp = cp << 6 | (s[i] & 0x3fu);
    }
    /* Overlong forms, surrogates and beyond U+10FFFF. */
    if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff)) {
        return 0;
    }
    return n;
}

/* A JSON string; names come from clients and assets, so invalid UTF-8 becomes U+FFFD. */
static void put_string(struct json *j, const char *s)
{
    puts_(j, "\"");
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0';) {
        if (*p == '"' || *p == '\\') {
            char esc[2] = {'\\', (char)*p};
            put(j, esc, 2);
            p++;
        } else if (*p < 0x20) {
            printf_(j, "\\u%04x", *p);
            p++;
        } else {
            size_t n = utf8_len(p);
            if (n == 0) {
                puts_(j, "\xef\xbf\xbd");
                p++;
            } else {
                put(j, (const char *)p, n);
                p += n;
            }
        }
    }
    puts_(j, "\"");
}

static void on_entity(void *user, const struct rr_scene_entity_info *e)
{
    struct json *j = user;
    j->seen++;
    if (j->shown >= j->max) {
        return;
    }
    j->shown++;
    if (e->depth == j->open_depth + 1) {
        if (j->open_depth >= 1) {
            puts_(j, ",\"children\":[");
        }
        j->first = true;
    } else {
        puts_(j, "}");
        for (uint32_t k = j->open_depth; k > e->depth; k--) {
            puts_(j, "]}");
        }
        j->first = false;
    }
    if (!j->first) {
        puts_(j, ",");
    }
    puts_(j, "{\"name\":");
    put_string(j, e->name);
    const char *type = e->mesh_count > 0 ? "mesh" : e->asset != NULL ? "node" : "entity";
    printf_(j, ",\"id\":%u,\"type\":\"%s\",\"meshes\":%u", e->id, type, e->mesh_count);
    printf_(j, ",\"hidden\":%s,\"selected\":%s,\"seeThrough\":%s,\"tinted\":%s",
            e->hidden ? "true" : "false", e->selected ? "true" : "false",
            e->see_through ? "true" : "false", e->tinted ? "true" : "false");
    printf_(j, ",\"position\":[%.6g,%.6g,%.6g]", (double)e->world[12], (double)e->world[13],
            (double)e->world[14]);
    j->open_depth = e->depth;
    j->first = false;
}

char *rr_scene_tree_json(struct rr_scene *scene, size_t max_entities)
{
    if (scene == NULL) {
        return NULL;
    }
    struct json j = {.max = max_entities ? max_entities : 10000};
    puts_(&j, "{\"name\":\"scene\",\"id\":0,\"type\":\"scene\",\"children\":[");
    rr_scene_visit(scene, on_entity, &j);
    if (j.open_depth >= 1) {
        puts_(&j, "}");
        for (uint32_t k = j.open_depth; k > 1; k--) {
            puts_(&j, "]}");
        }
    }
    printf_(&j, "],\"entities\":%zu,\"truncated\":%s}", j.seen,
            j.shown < j.seen ? "true" : "false");
    if (j.oom) {
        free(j.buf);
        return NULL;
    }
    return j.buf;
}
