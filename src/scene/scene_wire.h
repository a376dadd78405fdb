/* SPDX-License-Identifier: Apache-2.0 */
/*
 * scene_wire — the scene RPC messages on the built-in channel RR_BUILTIN_SCENE
 * (docs/scene-protocol.md): requests from the player's client, responses and load progress
 * from the host's server. Every message starts with a kind byte, a non-zero 32-bit request id
 * and an op byte; integers are big endian, floats IEEE-754 binary32 big endian. Each op has an
 * exact size (strings and lists carry a bounded 16-bit length and must fill the message
 * exactly). Decoders refuse non-finite floats and out-of-range enums and bounds; semantic
 * checks (a zero quaternion, min > max) are the scene's. Pure functions, fuzzed
 * (tests/fuzz/fuzz_scene_wire.c); any thread.
 */
#ifndef RR_SCENE_WIRE_H
#define RR_SCENE_WIRE_H

#include "openrr/scene.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum rr_scene_kind {
    RR_SCENE_KIND_REQUEST = 0x01,  /* client → server */
    RR_SCENE_KIND_RESPONSE = 0x02, /* server → client, exactly one per request */
    RR_SCENE_KIND_PROGRESS = 0x03, /* server → client, LOAD_MODEL only, before its response */
};

enum rr_scene_op {
    RR_SCENE_OP_LOAD_MODEL = 1,
    RR_SCENE_OP_CREATE_ENTITY = 2,
    RR_SCENE_OP_DESTROY_ENTITY = 3,
    RR_SCENE_OP_SET_TRANSFORM = 4,
    RR_SCENE_OP_SET_PARENT = 5,
    RR_SCENE_OP_SET_STATE = 6,
    RR_SCENE_OP_SET_MATERIAL_COLOR = 7,
    RR_SCENE_OP_ADD_CUT_PLANE = 8,
    RR_SCENE_OP_REMOVE_CUT_PLANE = 9,
    RR_SCENE_OP_RAYCAST = 10,
    RR_SCENE_OP_QUERY_BOX = 11,
};
#define RR_SCENE_OP_MAX 11

#define RR_SCENE_WIRE_HEADER 6 /* kind, request id, op */
#define RR_SCENE_WIRE_HIT_SIZE 32
/* Largest request (LOAD_MODEL with the longest URI) and response (a full box query). */
#define RR_SCENE_WIRE_MAX_REQUEST (RR_SCENE_WIRE_HEADER + 4 + 2 + RR_SCENE_MAX_URI)
#define RR_SCENE_WIRE_MAX_RESPONSE                                                                 \
    (RR_SCENE_WIRE_HEADER + 2 + 1 + 2 + 4 * RR_SCENE_MAX_QUERY_RESULTS)
#define RR_SCENE_WIRE_PROGRESS_SIZE (RR_SCENE_WIRE_HEADER + 1)

/* A decoded request; only the fields of its op are meaningful (the rest are zero). */
struct rr_scene_request {
    uint32_t id;
    uint8_t op;
    uint32_t entity;                 /* DESTROY, SET_TRANSFORM/PARENT/STATE/MATERIAL_COLOR */
    uint32_t parent;                 /* LOAD_MODEL, CREATE_ENTITY, SET_PARENT */
    uint32_t plane;                  /* REMOVE_CUT_PLANE (0 = all) */
    char text[RR_SCENE_MAX_URI + 1]; /* LOAD_MODEL uri, CREATE_ENTITY name; no NUL inside */
    uint16_t text_len;
    struct rr_scene_transform transform;
    struct rr_scene_state state;
    bool has_color; /* SET_MATERIAL_COLOR; color all zero when false */
    float color[4];
    float normal[3]; /* ADD_CUT_PLANE */
    float distance;
    float origin[3]; /* RAYCAST */
    float direction[3];
    float max_distance;
    uint8_t mode;       /* enum rr_scene_ray_mode */
    uint16_t max_count; /* RAYCAST 1–RR_SCENE_MAX_HITS, QUERY_BOX 1–RR_SCENE_MAX_QUERY_RESULTS */
    float box_min[3];   /* QUERY_BOX */
    float box_max[3];
};

enum rr_scene_wire_status {
    RR_SCENE_WIRE_OK = 0,
    RR_SCENE_WIRE_BAD_HEADER = 1, /* too short, wrong kind or id 0: drop, nobody to answer */
    RR_SCENE_WIRE_BAD_BODY = 2,   /* id and op are set: answer INVALID_PARAM */
    RR_SCENE_WIRE_UNKNOWN_OP = 3, /* id and op are set: answer NOT_SUPPORTED */
};

/* Encode @p req into @p out (at least RR_SCENE_WIRE_MAX_REQUEST bytes). Returns the size, or
 * 0 when the request would not decode (id 0, unknown op, out-of-range field). */
size_t rr_scene_wire_encode_request(const struct rr_scene_request *req,
                                    uint8_t out[RR_SCENE_WIRE_MAX_REQUEST]);
enum rr_scene_wire_status rr_scene_wire_decode_request(const uint8_t *data, size_t size,
                                                       struct rr_scene_request *out);

/* A response. For encoding, @p hits / @p ids point at the items; after decoding, use
 * rr_scene_wire_hit_at / rr_scene_wire_id_at (the items stay in the message). */
struct rr_scene_response {
    uint32_t id;
    uint8_t op;
    uint16_t result; /* enum rr_scene_result; a failure carries no body */
    uint32_t value;  /* LOAD_MODEL / CREATE_ENTITY: entity id; ADD_CUT_PLANE: plane id */
    uint16_t count; /* RAYCAST hits (≤ RR_SCENE_MAX_HITS), QUERY_BOX ids (≤ …_QUERY_RESULTS) */
    bool truncated; /* QUERY_BOX */
    const struct rr_scene_hit *hits;
    const uint32_t *ids;
    const uint8_t *items; /* decoded: the first item in the message */
};

/* Encode into @p out (at least RR_SCENE_WIRE_MAX_RESPONSE bytes); 0 when it would not decode. */
size_t rr_scene_wire_encode_response(const struct rr_scene_response *resp,
                                     uint8_t out[RR_SCENE_WIRE_MAX_RESPONSE]);
/* A response without a body (@p result not SUCCESS, or an op whose answer is empty). */
#define RR_SCENE_WIRE_RESULT_SIZE (RR_SCENE_WIRE_HEADER + 2)
size_t rr_scene_wire_encode_result(uint32_t id, uint8_t op, uint16_t result,
                                   uint8_t out[RR_SCENE_WIRE_RESULT_SIZE]);
/* Refuses a success for an unknown op (a failure may name any op: it can answer an op the
 * server does not know), non-finite hit floats, counts over their bounds and any size
 * mismatch. Unknown result codes are kept as they are (a newer host may send new ones). */
bool rr_scene_wire_decode_response(const uint8_t *data, size_t size, struct rr_scene_response *out);
void rr_scene_wire_hit_at(const struct rr_scene_response *resp, size_t i, struct rr_scene_hit *out);
uint32_t rr_scene_wire_id_at(const struct rr_scene_response *resp, size_t i);

/* Progress of a LOAD_MODEL: @p percent 0–100. */
void rr_scene_wire_encode_progress(uint32_t id, uint8_t percent,
                                   uint8_t out[RR_SCENE_WIRE_PROGRESS_SIZE]);
bool rr_scene_wire_decode_progress(const uint8_t *data, size_t size, uint32_t *out_id,
                                   uint8_t *out_percent);

/* The kind byte of a message, 0 when empty. */
static inline uint8_t rr_scene_wire_kind(const uint8_t *data, size_t size)
{
    return size > 0 ? data[0] : 0;
}

#endif
