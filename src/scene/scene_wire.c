/* SPDX-License-Identifier: Apache-2.0 */
/* scene_wire — see scene_wire.h and docs/scene-protocol.md. Pure functions; any thread. */
#include "scene_wire.h"

#include <math.h>
#include <string.h>

/* ---- cursors ------------------------------------------------------------------------------ */

struct rd {
    const uint8_t *p;
    size_t left;
    bool ok;
};

static uint8_t get8(struct rd *r)
{
    if (r->left < 1) {
        r->ok = false;
        return 0;
    }
    r->left--;
    return *r->p++;
}

static uint16_t get16(struct rd *r)
{
    uint16_t hi = get8(r);
    return (uint16_t)(hi << 8 | get8(r));
}

static uint32_t get32(struct rd *r)
{
    uint32_t hi = get16(r);
    return hi << 16 | get16(r);
}

/* A float that must be finite. */
static float getf(struct rd *r)
{
    uint32_t bits = get32(r);
    float f;
    memcpy(&f, &bits, sizeof(f));
    if (!isfinite(f)) {
        r->ok = false;
        return 0.0f;
    }
    return f;
}

static void getfv(struct rd *r, float *v, int n)
{
    for (int i = 0; i < n; i++) {
        v[i] = getf(r);
    }
}

struct wr {
    uint8_t *p;
};

static void put8(struct wr *w, uint8_t v)
{
    *w->p++ = v;
}

static void put16(struct wr *w, uint16_t v)
{
    put8(w, (uint8_t)(v >> 8));
    put8(w, (uint8_t)v);
}

static void put32(struct wr *w, uint32_t v)
{
    put16(w, (uint16_t)(v >> 16));
    put16(w, (uint16_t)v);
}

static void putf(struct wr *w, float f)
{
    uint32_t bits;
    memcpy(&bits, &f, sizeof(bits));
    put32(w, bits);
}

static void putfv(struct wr *w, const float *v, int n)
{
    for (int i = 0; i < n; i++) {
        putf(w, v[i]);
    }
}

static bool all_finite(const float *v, int n)
{
    for (int i = 0; i < n; i++) {
        if (!isfinite(v[i])) {
            return false;
        }
    }
    return true;
}

static bool unit_range(const float *v, int n)
{
    for (int i = 0; i < n; i++) {
        if (!(v[i] >= 0.0f && v[i] <= 1.0f)) {
            return false;
        }
    }
    return true;
}

/* ---- requests ----------------------------------------------------------------------------- */

static bool text_ok(const char *s, size_t len, size_t min, size_t max)
{
    return len >= min && len <= max && memchr(s, '\0', len) == NULL;
}

/* The field rules shared by encoder and decoder, on a filled request. */
static bool request_valid(const struct rr_scene_request *q)
{
    switch (q->op) {
    case RR_SCENE_OP_LOAD_MODEL:
        return text_ok(q->text, q->text_len, 1, RR_SCENE_MAX_URI);
    case RR_SCENE_OP_CREATE_ENTITY:
        return text_ok(q->text, q->text_len, 0, RR_SCENE_MAX_NAME);
    case RR_SCENE_OP_DESTROY_ENTITY:
    case RR_SCENE_OP_SET_PARENT:
    case RR_SCENE_OP_REMOVE_CUT_PLANE:
        return true;
    case RR_SCENE_OP_SET_TRANSFORM:
        return all_finite(q->transform.position, 3) && all_finite(q->transform.rotation, 4) &&
               all_finite(q->transform.scale, 3);
    case RR_SCENE_OP_SET_STATE:
        return q->state.hidden <= 2 && q->state.selected <= 2 && q->state.see_through <= 2 &&
               q->state.use_cut_planes <= 2 && q->state.tint <= 2 &&
               unit_range(q->state.tint_color, 4);
    case RR_SCENE_OP_SET_MATERIAL_COLOR:
        if (!q->has_color) {
            return q->color[0] == 0.0f && q->color[1] == 0.0f && q->color[2] == 0.0f &&
                   q->color[3] == 0.0f && !signbit(q->color[0]) && !signbit(q->color[1]) &&
                   !signbit(q->color[2]) && !signbit(q->color[3]);
        }
        return unit_range(q->color, 4);
    case RR_SCENE_OP_ADD_CUT_PLANE:
        return all_finite(q->normal, 3) && isfinite(q->distance);
    case RR_SCENE_OP_RAYCAST:
        return all_finite(q->origin, 3) && all_finite(q->direction, 3) &&
               isfinite(q->max_distance) && q->mode <= RR_SCENE_RAY_ALL && q->max_count >= 1 &&
               q->max_count <= RR_SCENE_MAX_HITS;
    case RR_SCENE_OP_QUERY_BOX:
        return all_finite(q->box_min, 3) && all_finite(q->box_max, 3) && q->max_count >= 1 &&
               q->max_count <= RR_SCENE_MAX_QUERY_RESULTS;
    default:
        return false;
    }
}

size_t rr_scene_wire_encode_request(const struct rr_scene_request *q,
                                    uint8_t out[RR_SCENE_WIRE_MAX_REQUEST])
{
    if (q->id == 0 || !request_valid(q)) {
        return 0;
    }
    struct wr w = {out};
    put8(&w, RR_SCENE_KIND_REQUEST);
    put32(&w, q->id);
    put8(&w, q->op);
    switch (q->op) {
    case RR_SCENE_OP_LOAD_MODEL:
    case RR_SCENE_OP_CREATE_ENTITY:
        put32(&w, q->parent);
        put16(&w, q->text_len);
        memcpy(w.p, q->text, q->text_len);
        w.p += q->text_len;
        break;
    case RR_SCENE_OP_DESTROY_ENTITY:
        put32(&w, q->entity);
        break;
    case RR_SCENE_OP_SET_TRANSFORM:
        put32(&w, q->entity);
        putfv(&w, q->transform.position, 3);
        putfv(&w, q->transform.rotation, 4);
        putfv(&w, q->transform.scale, 3);
        break;
    case RR_SCENE_OP_SET_PARENT:
        put32(&w, q->entity);
        put32(&w, q->parent);
        break;
    case RR_SCENE_OP_SET_STATE:
        put32(&w, q->entity);
        put8(&w, q->state.hidden);
        put8(&w, q->state.selected);
        put8(&w, q->state.see_through);
        put8(&w, q->state.use_cut_planes);
        put8(&w, q->state.tint);
        putfv(&w, q->state.tint_color, 4);
        break;
    case RR_SCENE_OP_SET_MATERIAL_COLOR:
        put32(&w, q->entity);
        put8(&w, q->has_color ? 1 : 0);
        putfv(&w, q->color, 4);
        break;
    case RR_SCENE_OP_ADD_CUT_PLANE:
        putfv(&w, q->normal, 3);
        putf(&w, q->distance);
        break;
    case RR_SCENE_OP_REMOVE_CUT_PLANE:
        put32(&w, q->plane);
        break;
    case RR_SCENE_OP_RAYCAST:
        putfv(&w, q->origin, 3);
        putfv(&w, q->direction, 3);
        putf(&w, q->max_distance);
        put8(&w, q->mode);
        put16(&w, q->max_count);
        break;
    case RR_SCENE_OP_QUERY_BOX:
        putfv(&w, q->box_min, 3);
        putfv(&w, q->box_max, 3);
        put16(&w, q->max_count);
        break;
    }
    return (size_t)(w.p - out);
}

enum rr_scene_wire_status rr_scene_wire_decode_request(const uint8_t *data, size_t size,
                                                       struct rr_scene_request *q)
{
    memset(q, 0, sizeof(*q));
    struct rd r = {data, size, true};
    uint8_t kind = get8(&r);
    q->id = get32(&r);
    q->op = get8(&r);
    if (!r.ok || kind != RR_SCENE_KIND_REQUEST || q->id == 0) {
        return RR_SCENE_WIRE_BAD_HEADER;
    }
    switch (q->op) {
    case RR_SCENE_OP_LOAD_MODEL:
    case RR_SCENE_OP_CREATE_ENTITY:
        q->parent = get32(&r);
        q->text_len = get16(&r);
        /* Bounded before use: the length must fit the buffer and the message. */
        if (!r.ok || q->text_len > RR_SCENE_MAX_URI || q->text_len != r.left) {
            return RR_SCENE_WIRE_BAD_BODY;
        }
        memcpy(q->text, r.p, q->text_len);
        q->text[q->text_len] = '\0';
        r.left = 0;
        break;
    case RR_SCENE_OP_DESTROY_ENTITY:
        q->entity = get32(&r);
        break;
    case RR_SCENE_OP_SET_TRANSFORM:
        q->entity = get32(&r);
        getfv(&r, q->transform.position, 3);
        getfv(&r, q->transform.rotation, 4);
        getfv(&r, q->transform.scale, 3);
        break;
    case RR_SCENE_OP_SET_PARENT:
        q->entity = get32(&r);
        q->parent = get32(&r);
        break;
    case RR_SCENE_OP_SET_STATE:
        q->entity = get32(&r);
        q->state.hidden = get8(&r);
        q->state.selected = get8(&r);
        q->state.see_through = get8(&r);
        q->state.use_cut_planes = get8(&r);
        q->state.tint = get8(&r);
        getfv(&r, q->state.tint_color, 4);
        break;
    case RR_SCENE_OP_SET_MATERIAL_COLOR: {
        q->entity = get32(&r);
        uint8_t has = get8(&r);
        if (has > 1) {
            r.ok = false;
        }
        q->has_color = has == 1;
        getfv(&r, q->color, 4);
        break;
    }
    case RR_SCENE_OP_ADD_CUT_PLANE:
        getfv(&r, q->normal, 3);
        q->distance = getf(&r);
        break;
    case RR_SCENE_OP_REMOVE_CUT_PLANE:
        q->plane = get32(&r);
        break;
    case RR_SCENE_OP_RAYCAST:
        getfv(&r, q->origin, 3);
        getfv(&r, q->direction, 3);
        q->max_distance = getf(&r);
        q->mode = get8(&r);
        q->max_count = get16(&r);
        break;
    case RR_SCENE_OP_QUERY_BOX:
        getfv(&r, q->box_min, 3);
        getfv(&r, q->box_max, 3);
        q->max_count = get16(&r);
        break;
    default:
        return RR_SCENE_WIRE_UNKNOWN_OP;
    }
    if (!r.ok || r.left != 0 || !request_valid(q)) {
        return RR_SCENE_WIRE_BAD_BODY;
    }
    return RR_SCENE_WIRE_OK;
}

/* ---- responses ---------------------------------------------------------------------------- */

static bool op_known(uint8_t op)
{
    return op >= 1 && op <= RR_SCENE_OP_MAX;
}

static bool hit_valid(const struct rr_scene_hit *h)
{
    return all_finite(h->position, 3) && all_finite(h->normal, 3) && isfinite(h->distance);
}

size_t rr_scene_wire_encode_response(const struct rr_scene_response *s,
                                     uint8_t out[RR_SCENE_WIRE_MAX_RESPONSE])
{
    if (s->id == 0 || (s->result == RR_SCENE_SUCCESS && !op_known(s->op))) {
        return 0;
    }
    struct wr w = {out};
    put8(&w, RR_SCENE_KIND_RESPONSE);
    put32(&w, s->id);
    put8(&w, s->op);
    put16(&w, s->result);
    if (s->result != RR_SCENE_SUCCESS) {
        return (size_t)(w.p - out);
    }
    switch (s->op) {
    case RR_SCENE_OP_LOAD_MODEL:
    case RR_SCENE_OP_CREATE_ENTITY:
    case RR_SCENE_OP_ADD_CUT_PLANE:
        put32(&w, s->value);
        break;
    case RR_SCENE_OP_RAYCAST:
        if (s->count > RR_SCENE_MAX_HITS || (s->count > 0 && s->hits == NULL)) {
            return 0;
        }
        put16(&w, s->count);
        for (size_t i = 0; i < s->count; i++) {
            const struct rr_scene_hit *h = &s->hits[i];
            if (!hit_valid(h)) {
                return 0;
            }
            put32(&w, h->entity_id);
            putfv(&w, h->position, 3);
            putfv(&w, h->normal, 3);
            putf(&w, h->distance);
        }
        break;
    case RR_SCENE_OP_QUERY_BOX:
        if (s->count > RR_SCENE_MAX_QUERY_RESULTS || (s->count > 0 && s->ids == NULL)) {
            return 0;
        }
        put8(&w, s->truncated ? 1 : 0);
        put16(&w, s->count);
        for (size_t i = 0; i < s->count; i++) {
            put32(&w, s->ids[i]);
        }
        break;
    default: /* no body */
        break;
    }
    return (size_t)(w.p - out);
}

size_t rr_scene_wire_encode_result(uint32_t id, uint8_t op, uint16_t result,
                                   uint8_t out[RR_SCENE_WIRE_RESULT_SIZE])
{
    bool has_body = op == RR_SCENE_OP_LOAD_MODEL || op == RR_SCENE_OP_CREATE_ENTITY ||
                    op == RR_SCENE_OP_ADD_CUT_PLANE || op == RR_SCENE_OP_RAYCAST ||
                    op == RR_SCENE_OP_QUERY_BOX;
    /* A failure may name an op this end does not know: it answers one the peer sent. */
    if (id == 0 || (result == RR_SCENE_SUCCESS && (has_body || !op_known(op)))) {
        return 0;
    }
    struct wr w = {out};
    put8(&w, RR_SCENE_KIND_RESPONSE);
    put32(&w, id);
    put8(&w, op);
    put16(&w, result);
    return RR_SCENE_WIRE_RESULT_SIZE;
}

bool rr_scene_wire_decode_response(const uint8_t *data, size_t size, struct rr_scene_response *s)
{
    memset(s, 0, sizeof(*s));
    struct rd r = {data, size, true};
    uint8_t kind = get8(&r);
    s->id = get32(&r);
    s->op = get8(&r);
    s->result = get16(&r);
    if (!r.ok || kind != RR_SCENE_KIND_RESPONSE || s->id == 0) {
        return false;
    }
    if (s->result != RR_SCENE_SUCCESS) {
        return r.left == 0;
    }
    if (!op_known(s->op)) {
        return false;
    }
    switch (s->op) {
    case RR_SCENE_OP_LOAD_MODEL:
    case RR_SCENE_OP_CREATE_ENTITY:
    case RR_SCENE_OP_ADD_CUT_PLANE:
        s->value = get32(&r);
        break;
    case RR_SCENE_OP_RAYCAST:
        s->count = get16(&r);
        if (!r.ok || s->count > RR_SCENE_MAX_HITS ||
            r.left != (size_t)s->count * RR_SCENE_WIRE_HIT_SIZE) {
            return false;
        }
        s->items = r.p;
        for (size_t i = 0; i < s->count; i++) {
            struct rr_scene_hit h;
            rr_scene_wire_hit_at(s, i, &h);
            if (!hit_valid(&h)) {
                return false;
            }
        }
        r.left = 0;
        break;
    case RR_SCENE_OP_QUERY_BOX: {
        uint8_t t = get8(&r);
        s->count = get16(&r);
        if (!r.ok || t > 1 || s->count > RR_SCENE_MAX_QUERY_RESULTS ||
            r.left != (size_t)s->count * 4u) {
            return false;
        }
        s->truncated = t == 1;
        s->items = r.p;
        r.left = 0;
        break;
    }
    default:
        break;
    }
    return r.ok && r.left == 0;
}

void rr_scene_wire_hit_at(const struct rr_scene_response *s, size_t i, struct rr_scene_hit *h)
{
    struct rd r = {s->items + i * RR_SCENE_WIRE_HIT_SIZE, RR_SCENE_WIRE_HIT_SIZE, true};
    h->entity_id = get32(&r);
    /* Read raw here: the decoder checks finiteness on the values this returns. */
    float v[7];
    for (int k = 0; k < 7; k++) {
        uint32_t bits = get32(&r);
        memcpy(&v[k], &bits, sizeof(float));
    }
    memcpy(h->position, v, sizeof(h->position));
    memcpy(h->normal, v + 3, sizeof(h->normal));
    h->distance = v[6];
}

uint32_t rr_scene_wire_id_at(const struct rr_scene_response *s, size_t i)
{
    struct rd r = {s->items + i * 4, 4, true};
    return get32(&r);
}

/* ---- progress ----------------------------------------------------------------------------- */

void rr_scene_wire_encode_progress(uint32_t id, uint8_t percent,
                                   uint8_t out[RR_SCENE_WIRE_PROGRESS_SIZE])
{
    struct wr w = {out};
    put8(&w, RR_SCENE_KIND_PROGRESS);
    put32(&w, id);
    put8(&w, RR_SCENE_OP_LOAD_MODEL);
    put8(&w, percent > 100 ? 100 : percent);
}

bool rr_scene_wire_decode_progress(const uint8_t *data, size_t size, uint32_t *out_id,
                                   uint8_t *out_percent)
{
    if (size != RR_SCENE_WIRE_PROGRESS_SIZE || data[0] != RR_SCENE_KIND_PROGRESS ||
        data[5] != RR_SCENE_OP_LOAD_MODEL || data[6] > 100) {
        return false;
    }
    struct rd r = {data + 1, 4, true};
    *out_id = get32(&r);
    *out_percent = data[6];
    return *out_id != 0;
}
