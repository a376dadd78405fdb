/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz-scene-wire-seeds — writes the seed corpus of fuzz_scene_wire with the real encoders:
 * one valid request per op, responses with and without bodies (hits, ids, a failure), a
 * progress message, and a near miss per rule (a NaN, a long length, an unknown op), so the
 * fuzzer starts next to every decision. Run at build time: fuzz-scene-wire-seeds DIR.
 */
#include "scene_wire.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *g_dir;
static int g_n;

static void put(const uint8_t *data, size_t size)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/seed-%03d", g_dir, g_n++);
    FILE *f = fopen(path, "wb");
    if (f == NULL || fwrite(data, 1, size, f) != size || fclose(f) != 0) {
        fprintf(stderr, "fuzz-scene-wire-seeds: cannot write %s\n", path);
        exit(1);
    }
}

static void request(const struct rr_scene_request *q)
{
    static uint8_t buf[RR_SCENE_WIRE_MAX_REQUEST];
    size_t n = rr_scene_wire_encode_request(q, buf);
    if (n == 0) {
        fprintf(stderr, "fuzz-scene-wire-seeds: request op %u does not encode\n", q->op);
        exit(1);
    }
    put(buf, n);
    /* Near misses: one byte short, and a NaN in the last float-sized field. */
    put(buf, n - 1);
    if (n >= RR_SCENE_WIRE_HEADER + 4) {
        const uint8_t nan_bits[4] = {0x7f, 0xc0, 0, 0};
        memcpy(buf + n - 4, nan_bits, 4);
        put(buf, n);
    }
}

static void response(const struct rr_scene_response *r)
{
    static uint8_t buf[RR_SCENE_WIRE_MAX_RESPONSE];
    size_t n = rr_scene_wire_encode_response(r, buf);
    if (n == 0) {
        fprintf(stderr, "fuzz-scene-wire-seeds: response op %u does not encode\n", r->op);
        exit(1);
    }
    put(buf, n);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: fuzz-scene-wire-seeds DIR\n");
        return 64;
    }
    g_dir = argv[1];
    struct rr_scene_request q = {.id = 1, .op = RR_SCENE_OP_LOAD_MODEL, .parent = 0};
    strcpy(q.text, "https://example.com/models/engine.rrasset");
    q.text_len = (uint16_t)strlen(q.text);
    request(&q);
    q = (struct rr_scene_request){.id = 2, .op = RR_SCENE_OP_CREATE_ENTITY, .parent = 0x100001};
    strcpy(q.text, "a name");
    q.text_len = 6;
    request(&q);
    q = (struct rr_scene_request){.id = 3, .op = RR_SCENE_OP_DESTROY_ENTITY, .entity = 0x100001};
    request(&q);
    q = (struct rr_scene_request){.id = 4,
                                  .op = RR_SCENE_OP_SET_TRANSFORM,
                                  .entity = 0x100001,
                                  .transform = {{1, 2, 3}, {0, 0, 0, 1}, {1, 1, 1}}};
    request(&q);
    q = (struct rr_scene_request){.id = 5, .op = RR_SCENE_OP_SET_PARENT, .entity = 2, .parent = 3};
    request(&q);
    q = (struct rr_scene_request){.id = 6,
                                  .op = RR_SCENE_OP_SET_STATE,
                                  .entity = 2,
                                  .state = {1, 2, 0, 1, 1, {1, 0.5f, 0.25f, 1}}};
    request(&q);
    q = (struct rr_scene_request){.id = 7,
                                  .op = RR_SCENE_OP_SET_MATERIAL_COLOR,
                                  .entity = 2,
                                  .has_color = true,
                                  .color = {0.1f, 0.2f, 0.3f, 1}};
    request(&q);
    q = (struct rr_scene_request){
        .id = 8, .op = RR_SCENE_OP_ADD_CUT_PLANE, .normal = {0, 1, 0}, .distance = -1};
    request(&q);
    q = (struct rr_scene_request){.id = 9, .op = RR_SCENE_OP_REMOVE_CUT_PLANE, .plane = 1};
    request(&q);
    q = (struct rr_scene_request){.id = 10,
                                  .op = RR_SCENE_OP_RAYCAST,
                                  .origin = {0, 1, 2},
                                  .direction = {0, 0, -1},
                                  .max_distance = 100,
                                  .mode = 1,
                                  .max_count = 16};
    request(&q);
    q = (struct rr_scene_request){.id = 11,
                                  .op = RR_SCENE_OP_QUERY_BOX,
                                  .box_min = {-1, -1, -1},
                                  .box_max = {1, 1, 1},
                                  .max_count = 64};
    request(&q);

    struct rr_scene_hit hits[2] = {{5, {0, 0, -4.5f}, {0, 0, 1}, 4.5f},
                                   {5, {0, 0, -5.5f}, {0, 0, 1}, 5.5f}};
    struct rr_scene_response r = {.id = 10, .op = RR_SCENE_OP_RAYCAST, .count = 2, .hits = hits};
    response(&r);
    uint32_t ids[3] = {0x100001, 0x100002, 0x200003};
    r = (struct rr_scene_response){
        .id = 11, .op = RR_SCENE_OP_QUERY_BOX, .count = 3, .ids = ids, .truncated = true};
    response(&r);
    r = (struct rr_scene_response){.id = 1, .op = RR_SCENE_OP_LOAD_MODEL, .value = 0x100001};
    response(&r);
    r = (struct rr_scene_response){.id = 3, .op = RR_SCENE_OP_DESTROY_ENTITY};
    response(&r);
    uint8_t small[RR_SCENE_WIRE_RESULT_SIZE];
    put(small, rr_scene_wire_encode_result(4, RR_SCENE_OP_SET_TRANSFORM, RR_SCENE_ENTITY_NOT_FOUND,
                                           small));
    put(small, rr_scene_wire_encode_result(4, 200, RR_SCENE_NOT_SUPPORTED, small));
    uint8_t progress[RR_SCENE_WIRE_PROGRESS_SIZE];
    rr_scene_wire_encode_progress(1, 42, progress);
    put(progress, sizeof(progress));
    /* A URI length claiming more than the message holds. */
    const uint8_t long_len[] = {1, 0, 0, 0, 1, RR_SCENE_OP_LOAD_MODEL, 0, 0, 0, 0, 0x08, 0x01, 'x'};
    put(long_len, sizeof(long_len));
    return 0;
}
