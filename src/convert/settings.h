/* SPDX-License-Identifier: Apache-2.0 */
/*
 * settings — the per-model conversion settings (<model>.ConversionSettings.json or
 * --settings), with the reference's field names and defaults. Parsed strictly: a field of the
 * wrong type or value fails the conversion naming the field; an unknown field is a warning.
 * Threads: the conversion's thread.
 */
#ifndef RR_CONVERT_SETTINGS_H
#define RR_CONVERT_SETTINGS_H

#include "status.h"

#include <jansson.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum rr_convert_graph_mode {
    RR_CONVERT_GRAPH_NONE = 0,
    RR_CONVERT_GRAPH_STATIC = 1,
    RR_CONVERT_GRAPH_DYNAMIC = 2,
};

/* Requested encodings (enum rr_vertex_encoding values; RR_VERTEX_NONE drops the stream). */
struct rr_convert_vertex_settings {
    uint8_t position;
    uint8_t color0;
    uint8_t color1;
    uint8_t normal;
    uint8_t tangent;
    uint8_t binormal;
    uint8_t texcoord0;
    uint8_t texcoord1;
};

struct rr_convert_settings {
    double scaling;
    bool recenter_to_origin;
    bool opaque_double_sided;
    int gamma_to_linear_material; /* -1 until resolved from the input format */
    int gamma_to_linear_vertex;   /* -1 until resolved from the input format */
    enum rr_convert_graph_mode scene_graph_mode;
    bool generate_collision_mesh;
    bool unlit_materials;
    bool deduplicate_materials;
    bool fbx_assume_metallic;
    /* axis[i] names the source axis that becomes output axis i: 1..3 = +x..+z, -1..-3 = -x..-z */
    int8_t axis[3];
    char **metadata_keys; /* empty: keep all node metadata */
    size_t metadata_key_count;
    struct rr_convert_vertex_settings vertex;
};

void rr_convert_settings_init(struct rr_convert_settings *s);
void rr_convert_settings_fini(struct rr_convert_settings *s);

/* Read @p path over the defaults already in @p s. */
enum rr_convert_code rr_convert_settings_load(struct rr_convert_settings *s, const char *path,
                                              struct rr_convert_status *st);

/* Fill the gammaToLinear* defaults that depend on the input: true for FBX and point clouds. */
void rr_convert_settings_resolve(struct rr_convert_settings *s, bool fbx_or_point_cloud);

/* The effective settings as info.json's "conversionSettings" object (new reference). */
json_t *rr_convert_settings_to_json(const struct rr_convert_settings *s);

#endif
