/* SPDX-License-Identifier: Apache-2.0 */
/*
 * render_shader — the renderer's GLSL programs and the interface they share with the C side:
 * attribute locations, uniform/storage block bindings and the per-instance record layout.
 *   mesh:    PBR metal-roughness (one key light + hemisphere ambient), unlit, alpha mask,
 *            per-instance tint / colour override / see-through / faint selection fill, cut
 *            planes through gl_ClipDistance.
 *   points:  the same instance data for point clouds (GL_POINTS, fixed pixel size).
 *   outline: the selection outline: the mesh vertex stage with each vertex pushed a fixed
 *            number of pixels out along its normal on screen, in a flat colour; with colour
 *            writes off it also marks the selected silhouettes in the stencil.
 *   checker: the over-budget checkerboard (a fullscreen triangle from gl_VertexID).
 * Shading happens in linear light; the fragment shaders encode sRGB themselves because the
 * target is plain RGBA8 that the stream converts to YUV as display values.
 * Threads: the render thread, with the renderer's context current.
 */
#ifndef RR_RENDER_SHADER_H
#define RR_RENDER_SHADER_H

#include <epoxy/gl.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Vertex attribute locations: the asset's streams from binding 0, then the instance record
 * from binding 1 (divisor 1). llvmpipe offers exactly 16; TEXCOORD1 is not read. Instance data
 * travels as attributes rather than an SSBO lookup because llvmpipe's vertex stage fetches
 * attributes with SIMD loads but runs every SSBO load with bounds checks: bench_render's
 * vertex-only case (naive path, everything clipped) took 2.3 s with the records in an SSBO
 * and 0.7 s with them as attributes. */
enum {
    RR_LOC_POSITION = 0,
    RR_LOC_NORMAL = 1,
    RR_LOC_TANGENT = 2,
    RR_LOC_TEXCOORD0 = 3,
    RR_LOC_COLOR0 = 4,
    RR_LOC_TINT = 5,
    RR_LOC_FLAGS = 6, /* uint */
    RR_LOC_OVERRIDE = 7,
    RR_LOC_WORLD = 8,          /* 8..11: columns */
    RR_LOC_NORMAL_MATRIX = 12, /* 12..14: columns */
};

/* Binding points. */
enum {
    RR_UBO_EYE = 0,      /* struct rr_eye_block */
    RR_UBO_MATERIAL = 1, /* struct rr_material_block */
};
/* Vertex buffer bindings of every VAO. */
enum {
    RR_BINDING_VERTICES = 0,
    RR_BINDING_INSTANCES = 1, /* struct rr_instance_record[], divisor 1 */
    RR_BINDING_COLORS = 2,    /* point clouds' separate colour stream */
};

/* Texture units: base colour, metallic-roughness, normal, occlusion, emissive. */
#define RR_TEXTURE_SLOTS 5

/* u_attrs bits: which optional vertex attributes the bound vertex format has. */
enum {
    RR_ATTRS_NORMAL = 1u << 0,
    RR_ATTRS_TANGENT = 1u << 1,
    RR_ATTRS_TEXCOORD0 = 1u << 2,
    RR_ATTRS_COLOR0 = 1u << 3,
};

/* std140, 16 + 8 × 16 + 2 × 64 bytes. */
struct rr_eye_block {
    float view_proj[16];
    float eye_position[4];
    float cut_planes[8][4]; /* world-space (n, d): kept where n·p + d ≥ 0 */
    uint32_t cut_plane_count;
    uint32_t pad[3];
};

/* std140; one per material, each at a multiple of GL_UNIFORM_BUFFER_OFFSET_ALIGNMENT. */
struct rr_material_block {
    float base_color[4];
    float emissive_cutoff[4]; /* rgb emissive, a = alpha cutoff */
    float pbr[4];             /* metallic, roughness, normal scale, 0 */
    uint32_t mode[4];         /* material flags, alpha mode, texture mask (bit per slot), 0 */
};

/* Per-instance vertex attributes (binding 1), 160 bytes. */
struct rr_instance_record {
    float world[16];
    float normal_matrix[12]; /* three vec4 columns */
    float tint[4];
    float colour_override[4];
    uint32_t flags; /* enum rr_draw_flags, plus RR_INSTANCE_BLEND_PASS */
    uint32_t entity_id;
    uint32_t pad[2];
};

/* Set on records drawn in the blended pass, so that opaque materials keep alpha 1 elsewhere. */
#define RR_INSTANCE_BLEND_PASS (1u << 16)

struct rr_render_programs {
    GLuint mesh;
    GLint mesh_u_attrs;
    GLuint points;
    GLint points_u_point_size;
    GLint points_u_has_color;
    GLuint outline;
    GLint outline_u_attrs;
    GLint outline_u_outline; /* vec3: viewport width, height, push in pixels */
    GLuint checker;
    GLint checker_u_colours; /* vec4[2] */
};

/* Compile and link all four. false with err naming the program and GL's log. */
bool rr_render_programs_create(struct rr_render_programs *out, char *err, size_t err_size);
void rr_render_programs_destroy(struct rr_render_programs *p);

#endif
