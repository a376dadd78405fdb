/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_scene_wire — libFuzzer target for the scene RPC messages (src/scene/scene_wire.c). The
 * input is one message as a scene receiver gets it, given to the request, response and
 * progress decoders. Each verdict is compared with a plain restatement of the size rules in
 * docs/scene-protocol.md, every accepted message must re-encode to the same bytes, and every
 * decoded field is checked against its documented bound (strings inside their buffer and
 * NUL-terminated, counts within their limits, floats finite).
 * Single-threaded: libFuzzer calls LLVMFuzzerTestOneInput from one thread.
 */
#include "scene_wire.h"

#include "fuzz_check.h"

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint16_t be16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

/* Body size of each request op with a fixed size; 0 for the string ops and unknown ops. */
static size_t fixed_body(uint8_t op)
{
    switch (op) {
    case RR_SCENE_OP_DESTROY_ENTITY:
    case RR_SCENE_OP_REMOVE_CUT_PLANE:
        return 4;
    case RR_SCENE_OP_SET_TRANSFORM:
        return 4 + 40;
    case RR_SCENE_OP_SET_PARENT:
        return 8;
    case RR_SCENE_OP_SET_STATE:
        return 4 + 5 + 16;
    case RR_SCENE_OP_SET_MATERIAL_COLOR:
        return 4 + 1 + 16;
    case RR_SCENE_OP_ADD_CUT_PLANE:
        return 16;
    case RR_SCENE_OP_RAYCAST:
        return 28 + 1 + 2;
    case RR_SCENE_OP_QUERY_BOX:
        return 24 + 2;
    default:
        return 0;
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

static void check_request(const uint8_t *data, size_t size)
{
    struct rr_scene_request q;
    enum rr_scene_wire_status st = rr_scene_wire_decode_request(data, size, &q);
    bool header_ok =
        size >= RR_SCENE_WIRE_HEADER && data[0] == RR_SCENE_KIND_REQUEST && be32(data + 1) != 0;
    CHECK((st == RR_SCENE_WIRE_BAD_HEADER) == !header_ok);
    if (!header_ok) {
        return;
    }
    CHECK(q.id == be32(data + 1) && q.op == data[5]);
    bool known = data[5] >= 1 && data[5] <= RR_SCENE_OP_MAX;
    CHECK((st == RR_SCENE_WIRE_UNKNOWN_OP) == !known);
    if (st != RR_SCENE_WIRE_OK) {
        return;
    }
    size_t body = size - RR_SCENE_WIRE_HEADER;
    if (q.op == RR_SCENE_OP_LOAD_MODEL || q.op == RR_SCENE_OP_CREATE_ENTITY) {
        CHECK(body >= 6);
        uint16_t len = be16(data + RR_SCENE_WIRE_HEADER + 4);
        CHECK(body == 6u + len && q.text_len == len);
        CHECK(len <= (q.op == RR_SCENE_OP_LOAD_MODEL ? RR_SCENE_MAX_URI : RR_SCENE_MAX_NAME));
        CHECK(q.op != RR_SCENE_OP_LOAD_MODEL || len >= 1);
        CHECK(q.text[len] == '\0' && strlen(q.text) == len);
        CHECK(memcmp(q.text, data + RR_SCENE_WIRE_HEADER + 6, len) == 0);
        CHECK(q.parent == be32(data + RR_SCENE_WIRE_HEADER));
    } else {
        CHECK(body == fixed_body(q.op));
    }
    CHECK(all_finite(q.transform.position, 3) && all_finite(q.transform.rotation, 4) &&
          all_finite(q.transform.scale, 3) && all_finite(q.origin, 3) &&
          all_finite(q.direction, 3) && isfinite(q.max_distance) && all_finite(q.normal, 3) &&
          isfinite(q.distance) && all_finite(q.box_min, 3) && all_finite(q.box_max, 3));
    CHECK(q.state.hidden <= 2 && q.state.selected <= 2 && q.state.see_through <= 2 &&
          q.state.use_cut_planes <= 2 && q.state.tint <= 2);
    for (int i = 0; i < 4; i++) {
        CHECK(q.state.tint_color[i] >= 0.0f && q.state.tint_color[i] <= 1.0f);
        CHECK(q.color[i] >= 0.0f && q.color[i] <= 1.0f);
    }
    if (q.op == RR_SCENE_OP_RAYCAST) {
        CHECK(q.mode <= 1 && q.max_count >= 1 && q.max_count <= RR_SCENE_MAX_HITS);
    }
    if (q.op == RR_SCENE_OP_QUERY_BOX) {
        CHECK(q.max_count >= 1 && q.max_count <= RR_SCENE_MAX_QUERY_RESULTS);
    }
    static uint8_t out[RR_SCENE_WIRE_MAX_REQUEST];
    CHECK(rr_scene_wire_encode_request(&q, out) == size);
    CHECK(memcmp(out, data, size) == 0);
}

static void check_response(const uint8_t *data, size_t size)
{
    struct rr_scene_response r;
    bool ok = rr_scene_wire_decode_response(data, size, &r);
    if (!ok) {
        return;
    }
    CHECK(size >= RR_SCENE_WIRE_RESULT_SIZE && data[0] == RR_SCENE_KIND_RESPONSE);
    CHECK(r.id != 0 && r.id == be32(data + 1) && r.op == data[5]);
    CHECK(r.result == be16(data + 6));
    static struct rr_scene_hit hits[RR_SCENE_MAX_HITS];
    static uint32_t ids[RR_SCENE_MAX_QUERY_RESULTS];
    if (r.result != RR_SCENE_SUCCESS) {
        CHECK(size == RR_SCENE_WIRE_RESULT_SIZE);
    } else if (r.op == RR_SCENE_OP_RAYCAST) {
        CHECK(r.count <= RR_SCENE_MAX_HITS);
        CHECK(size == RR_SCENE_WIRE_RESULT_SIZE + 2u + r.count * (size_t)RR_SCENE_WIRE_HIT_SIZE);
        for (size_t i = 0; i < r.count; i++) {
            rr_scene_wire_hit_at(&r, i, &hits[i]);
            CHECK(all_finite(hits[i].position, 3) && all_finite(hits[i].normal, 3) &&
                  isfinite(hits[i].distance));
        }
        r.hits = hits;
    } else if (r.op == RR_SCENE_OP_QUERY_BOX) {
        CHECK(r.count <= RR_SCENE_MAX_QUERY_RESULTS);
        CHECK(size == RR_SCENE_WIRE_RESULT_SIZE + 3u + r.count * 4u);
        for (size_t i = 0; i < r.count; i++) {
            ids[i] = rr_scene_wire_id_at(&r, i);
            CHECK(ids[i] == be32(data + RR_SCENE_WIRE_RESULT_SIZE + 3 + 4 * i));
        }
        r.ids = ids;
    }
    static uint8_t out[RR_SCENE_WIRE_MAX_RESPONSE];
    CHECK(rr_scene_wire_encode_response(&r, out) == size);
    CHECK(memcmp(out, data, size) == 0);
}

static void check_progress(const uint8_t *data, size_t size)
{
    uint32_t id;
    uint8_t pct;
    bool ok = rr_scene_wire_decode_progress(data, size, &id, &pct);
    bool want = size == RR_SCENE_WIRE_PROGRESS_SIZE && data[0] == RR_SCENE_KIND_PROGRESS &&
                be32(data + 1) != 0 && data[5] == RR_SCENE_OP_LOAD_MODEL && data[6] <= 100;
    CHECK(ok == want);
    if (ok) {
        uint8_t out[RR_SCENE_WIRE_PROGRESS_SIZE];
        rr_scene_wire_encode_progress(id, pct, out);
        CHECK(memcmp(out, data, size) == 0);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_request(data, size);
    check_response(data, size);
    check_progress(data, size);
    return 0;
}
