/* SPDX-License-Identifier: Apache-2.0 */
/*
 * render_shader — GLSL sources and their compilation. The C structs in render_shader.h mirror
 * the blocks declared here; keep both in step (the unit test renders through every field).
 */
#include "render_shader.h"

#include <stdio.h>
#include <string.h>

/* Enough of an info log to name the failing line without flooding the caller's buffer. */
#define INFO_LOG_MAX 512

/* Shared declarations: the eye block, the draw flags and the colour rules. */
static const char common_glsl[] =
    "layout(std140, binding = 0) uniform Eye {\n"
    "    mat4 view_proj;\n"
    "    vec4 eye_position;\n"
    "    vec4 cut_planes[8];\n"
    "    uvec4 cut_count;\n"
    "};\n"
    "const uint DRAW_SELECTED = 1u, DRAW_SEE_THROUGH = 2u, DRAW_TINTED = 4u, DRAW_CUT = 8u;\n"
    "const uint BLEND_PASS = 65536u;\n"
    /* Linear orange of the selection outline and its faint fill. */
    "const vec3 SELECT_COLOUR = vec3(1.0, 0.45, 0.05);\n"
    "vec3 srgb_encode(vec3 c) {\n"
    "    c = clamp(c, 0.0, 1.0);\n"
    "    return mix(c * 12.92, 1.055 * pow(c, vec3(1.0 / 2.4)) - 0.055,\n"
    "               step(vec3(0.0031308), c));\n"
    "}\n"
    /* What the scene's per-draw state does to a colour, in the order scene_view.h gives. */
    "vec4 apply_draw_state(vec4 base, vec4 colour_override, vec4 tint, uint flags) {\n"
    "    if (colour_override.a > 0.0) base = colour_override;\n"
    /* Tint blends towards its colour by its alpha (scene.h); it leaves opacity alone. */
    "    if ((flags & DRAW_TINTED) != 0u) base.rgb = mix(base.rgb, tint.rgb, tint.a);\n"
    "    if ((flags & DRAW_SEE_THROUGH) != 0u) base.a *= 0.3;\n"
    "    return base;\n"
    "}\n"
    /* The selection's faint fill under its outline (the outline program draws the ring): a
     * flat wash, so that a selected object stays recognisable from the inside too, and the
     * only selection mark of point clouds, which get no outline. */
    "vec3 apply_selection(vec3 c, uint flags) {\n"
    "    return (flags & DRAW_SELECTED) != 0u ? mix(c, SELECT_COLOUR, 0.15) : c;\n"
    "}\n";

/* Clip distances are written only for the planes in use (the rest are disabled), and only
 * computed for draws that use them: both cost per vertex on a software rasteriser.
 * With OUTLINE (the selection outline's program) the vertex moves a fixed number of pixels
 * outwards on screen instead of feeding the fragment shader: along the screen-space image of
 * its normal, i.e. the derivative of x/w, y/w when the point moves along the normal, which
 * also pushes faces turned to the viewer outwards from the centre of view. Meshes without
 * normals use the direction from the instance's origin. The clip distances stay those of
 * the unmoved vertex, so a cut object's outline follows the cut. */
static const char vertex_glsl[] =
    "layout(location = 0) in vec3 a_position;\n"
    "layout(location = 1) in vec4 a_normal;\n"
    "layout(location = 2) in vec4 a_tangent;\n"
    "layout(location = 3) in vec2 a_uv0;\n"
    "layout(location = 4) in vec4 a_color;\n"
    "layout(location = 5) in vec4 i_tint;\n"
    "layout(location = 6) in uint i_flags;\n"
    "layout(location = 7) in vec4 i_override;\n"
    "layout(location = 8) in mat4 i_world;\n"
    "layout(location = 12) in mat3 i_normal_matrix;\n"
    "#ifdef POINTS\n"
    "uniform float u_point_size;\n"
    "#endif\n"
    "out gl_PerVertex { vec4 gl_Position; float gl_PointSize; float gl_ClipDistance[8]; };\n"
    "#ifdef OUTLINE\n"
    "uniform uint u_attrs; /* RR_ATTRS_* */\n"
    "uniform vec3 u_outline; /* viewport width, height and the push, in pixels */\n"
    "#else\n"
    "out vec3 v_world;\n"
    "out vec3 v_normal;\n"
    "out vec4 v_tangent;\n"
    "out vec2 v_uv;\n"
    "out vec4 v_color;\n"
    "flat out vec4 v_tint;\n"
    "flat out vec4 v_override;\n"
    "flat out uint v_flags;\n"
    "#endif\n"
    "void main() {\n"
    "    vec4 wp = i_world * vec4(a_position, 1.0);\n"
    "    gl_Position = view_proj * wp;\n"
    "#ifdef POINTS\n"
    "    gl_PointSize = u_point_size;\n"
    "#endif\n"
    "    bool cut = (i_flags & DRAW_CUT) != 0u;\n"
    "    for (int i = 0; i < int(cut_count.x); i++)\n"
    "        gl_ClipDistance[i] = cut ? dot(cut_planes[i].xyz, wp.xyz) + cut_planes[i].w : 1.0;\n"
    "#ifdef OUTLINE\n"
    "    vec3 n = (u_attrs & 1u) != 0u ? i_normal_matrix * a_normal.xyz\n"
    "                                  : wp.xyz - i_world[3].xyz;\n"
    "    vec4 c = gl_Position, nc = view_proj * vec4(n, 0.0);\n"
    /* d(xy / w) = (dxy·w − xy·dw) / w², scaled to pixels; w² > 0 keeps the direction. */
    "    vec2 d = (nc.xy * c.w - c.xy * nc.w) * u_outline.xy;\n"
    "    float len = length(d);\n"
    "    if (len > 0.0)\n"
    "        gl_Position.xy += d / len * (2.0 * u_outline.z) / u_outline.xy * c.w;\n"
    "#else\n"
    "    v_world = wp.xyz;\n"
    "    v_normal = i_normal_matrix * a_normal.xyz;\n"
    "    v_tangent = vec4(mat3(i_world) * a_tangent.xyz, a_tangent.w);\n"
    "    v_uv = a_uv0;\n"
    "    v_color = a_color;\n"
    "    v_tint = i_tint;\n"
    "    v_override = i_override;\n"
    "    v_flags = i_flags;\n"
    "#endif\n"
    "}\n";

/* The outline's flat colour; with colour writes off the same program marks the stencil. */
static const char outline_fragment_glsl[] = "layout(location = 0) out vec4 o_color;\n"
                                            "void main() {\n"
                                            "    o_color = vec4(srgb_encode(SELECT_COLOUR), 1.0);\n"
                                            "}\n";

static const char mesh_fragment_glsl[] =
    "in vec3 v_world;\n"
    "in vec3 v_normal;\n"
    "in vec4 v_tangent;\n"
    "in vec2 v_uv;\n"
    "in vec4 v_color;\n"
    "flat in vec4 v_tint;\n"
    "flat in vec4 v_override;\n"
    "flat in uint v_flags;\n"
    "layout(std140, binding = 1) uniform Material {\n"
    "    vec4 base_color;\n"
    "    vec4 emissive_cutoff;\n"
    "    vec4 pbr; /* metallic, roughness, normal scale */\n"
    "    uvec4 mode; /* material flags, alpha mode, texture mask */\n"
    "};\n"
    "layout(binding = 0) uniform sampler2D t_base;\n"
    "layout(binding = 1) uniform sampler2D t_mr;\n"
    "layout(binding = 2) uniform sampler2D t_normal;\n"
    "layout(binding = 3) uniform sampler2D t_occlusion;\n"
    "layout(binding = 4) uniform sampler2D t_emissive;\n"
    "uniform uint u_attrs; /* RR_ATTRS_* */\n"
    "layout(location = 0) out vec4 o_color;\n"
    "const float PI = 3.14159265;\n"
    "void main() {\n"
    "    uint tex = mode.z;\n"
    "    bool has_uv = (u_attrs & 4u) != 0u;\n"
    "    vec4 base = base_color;\n"
    "    if ((tex & 1u) != 0u && has_uv) base *= texture(t_base, v_uv);\n"
    "    if ((mode.x & 4u) != 0u && (u_attrs & 8u) != 0u) base *= v_color;\n"
    "    base = apply_draw_state(base, v_override, v_tint, v_flags);\n"
    "    if (mode.y == 1u && base.a < emissive_cutoff.a) discard;\n"
    "    if (mode.y != 2u && (v_flags & BLEND_PASS) == 0u) base.a = 1.0;\n"
    /* Without normals: the face normal from screen-space derivatives (always towards the
     * viewer, so it is not flipped for back faces). */
    "    vec3 n;\n"
    "    if ((u_attrs & 1u) != 0u) {\n"
    "        n = normalize(v_normal);\n"
    "        if (!gl_FrontFacing) n = -n;\n"
    "    } else {\n"
    "        n = normalize(cross(dFdx(v_world), dFdy(v_world)));\n"
    "    }\n"
    "    if ((tex & 4u) != 0u && has_uv) {\n"
    "        vec3 t, b;\n"
    "        if ((u_attrs & 2u) != 0u) {\n"
    "            t = normalize(v_tangent.xyz - n * dot(n, v_tangent.xyz));\n"
    "            b = cross(n, t) * (v_tangent.w < 0.0 ? -1.0 : 1.0);\n"
    "        } else {\n"
    /* Cotangent frame from derivatives; v grows downwards in the image (glTF), and the map's
     * green axis points up it, hence −b. */
    "            vec3 dp1 = dFdx(v_world), dp2 = dFdy(v_world);\n"
    "            vec2 duv1 = dFdx(v_uv), duv2 = dFdy(v_uv);\n"
    "            vec3 p2 = cross(dp2, n), p1 = cross(n, dp1);\n"
    "            t = p2 * duv1.x + p1 * duv2.x;\n"
    "            b = -(p2 * duv1.y + p1 * duv2.y);\n"
    "            float s = inversesqrt(max(max(dot(t, t), dot(b, b)), 1e-20));\n"
    "            t *= s; b *= s;\n"
    "        }\n"
    "        vec3 tn = texture(t_normal, v_uv).xyz * 2.0 - 1.0;\n"
    "        tn.xy *= pbr.z;\n"
    "        n = normalize(t * tn.x + b * tn.y + n * tn.z);\n"
    "    }\n"
    "    vec3 v = normalize(eye_position.xyz - v_world);\n"
    "    float n_dot_v = dot(n, v);\n"
    "    vec3 colour;\n"
    "    if ((mode.x & 2u) != 0u) {\n"
    "        colour = base.rgb;\n"
    "    } else {\n"
    "        float metallic = pbr.x, rough = pbr.y;\n"
    "        if ((tex & 2u) != 0u && has_uv) {\n"
    "            vec4 mr = texture(t_mr, v_uv);\n"
    "            rough *= mr.g; metallic *= mr.b;\n"
    "        }\n"
    "        rough = clamp(rough, 0.04, 1.0);\n"
    "        float ao = (tex & 8u) != 0u && has_uv ? texture(t_occlusion, v_uv).r : 1.0;\n"
    "        vec3 l = normalize(vec3(0.35, 1.0, 0.55));\n"
    "        vec3 h = normalize(l + v);\n"
    "        float nl = max(dot(n, l), 0.0), nv = max(n_dot_v, 1e-4);\n"
    "        float nh = max(dot(n, h), 0.0), vh = max(dot(v, h), 0.0);\n"
    "        float a2 = rough * rough * rough * rough;\n"
    "        float d = nh * nh * (a2 - 1.0) + 1.0;\n"
    "        float dist = a2 / (PI * d * d);\n"
    "        float k = (rough + 1.0) * (rough + 1.0) / 8.0;\n"
    "        float g = nl / (nl * (1.0 - k) + k) * nv / (nv * (1.0 - k) + k);\n"
    "        vec3 f0 = mix(vec3(0.04), base.rgb, metallic);\n"
    "        vec3 f = f0 + (1.0 - f0) * pow(1.0 - vh, 5.0);\n"
    "        vec3 spec = dist * g * f / max(4.0 * nl * nv, 1e-4);\n"
    "        vec3 diffuse = (1.0 - f) * (1.0 - metallic) * base.rgb / PI;\n"
    "        vec3 sky = mix(vec3(0.18, 0.16, 0.14), vec3(0.30, 0.34, 0.40), n.y * 0.5 + 0.5);\n"
    "        vec3 ambient = sky * (base.rgb * (1.0 - metallic) + f0 * metallic) * ao;\n"
    "        colour = (diffuse + spec) * 2.8 * nl + ambient;\n"
    "    }\n"
    "    vec3 em = emissive_cutoff.rgb;\n"
    "    if ((tex & 16u) != 0u && has_uv) em *= texture(t_emissive, v_uv).rgb;\n"
    "    colour = apply_selection(colour + em, v_flags);\n"
    "    o_color = vec4(srgb_encode(colour), base.a);\n"
    "}\n";

static const char points_fragment_glsl[] =
    "in vec4 v_color;\n"
    "flat in vec4 v_tint;\n"
    "flat in vec4 v_override;\n"
    "flat in uint v_flags;\n"
    "uniform bool u_has_color;\n"
    "layout(location = 0) out vec4 o_color;\n"
    "void main() {\n"
    "    vec4 base = apply_draw_state(u_has_color ? v_color : vec4(1.0), v_override, v_tint,\n"
    "                                 v_flags);\n"
    "    if ((v_flags & BLEND_PASS) == 0u) base.a = 1.0;\n"
    "    o_color = vec4(srgb_encode(apply_selection(base.rgb, v_flags)), base.a);\n"
    "}\n";

/* A triangle covering the viewport; the pattern is in window coordinates, 32-pixel cells. */
static const char checker_vertex_glsl[] =
    "void main() {\n"
    "    vec2 p = vec2((gl_VertexID & 1) * 4 - 1, (gl_VertexID & 2) * 2 - 1);\n"
    "    gl_Position = vec4(p, 0.0, 1.0);\n"
    "}\n";
static const char checker_fragment_glsl[] = "uniform vec4 u_colours[2];\n"
                                            "layout(location = 0) out vec4 o_color;\n"
                                            "void main() {\n"
                                            "    ivec2 cell = ivec2(gl_FragCoord.xy) / 32;\n"
                                            "    o_color = u_colours[(cell.x + cell.y) & 1];\n"
                                            "}\n";

static bool fail(char *err, size_t err_size, const char *what, const char *log)
{
    if (err && err_size)
        snprintf(err, err_size, "renderer: %s: %s", what, log);
    return false;
}

static GLuint compile(GLenum type, const char *defines, bool with_common, const char *body,
                      const char *name, char *err, size_t err_size)
{
    const char *parts[4] = {"#version 450 core\n", defines, with_common ? common_glsl : "", body};
    GLuint s = glCreateShader(type);
    glShaderSource(s, 4, parts, NULL);
    glCompileShader(s);
    GLint ok = GL_FALSE;
    glGetShaderiv(s, GL_COMPILE_STATUS, &ok);
    if (!ok) {
        char log[INFO_LOG_MAX];
        glGetShaderInfoLog(s, sizeof(log), NULL, log);
        glDeleteShader(s);
        fail(err, err_size, name, log);
        return 0;
    }
    return s;
}

static GLuint link(const char *name, const char *defines, bool with_common, const char *vs,
                   const char *fs, char *err, size_t err_size)
{
    GLuint v = compile(GL_VERTEX_SHADER, defines, with_common, vs, name, err, err_size);
    if (!v)
        return 0;
    GLuint f = compile(GL_FRAGMENT_SHADER, defines, with_common, fs, name, err, err_size);
    if (!f) {
        glDeleteShader(v);
        return 0;
    }
    GLuint p = glCreateProgram();
    glAttachShader(p, v);
    glAttachShader(p, f);
    glLinkProgram(p);
    glDeleteShader(v);
    glDeleteShader(f);
    GLint ok = GL_FALSE;
    glGetProgramiv(p, GL_LINK_STATUS, &ok);
    if (!ok) {
        char log[INFO_LOG_MAX];
        glGetProgramInfoLog(p, sizeof(log), NULL, log);
        glDeleteProgram(p);
        fail(err, err_size, name, log);
        return 0;
    }
    return p;
}

bool rr_render_programs_create(struct rr_render_programs *out, char *err, size_t err_size)
{
    memset(out, 0, sizeof(*out));
    out->mesh = link("mesh program", "", true, vertex_glsl, mesh_fragment_glsl, err, err_size);
    out->points = link("points program", "#define POINTS\n", true, vertex_glsl,
                       points_fragment_glsl, err, err_size);
    out->outline = link("outline program", "#define OUTLINE\n", true, vertex_glsl,
                        outline_fragment_glsl, err, err_size);
    out->checker = link("checker program", "", false, checker_vertex_glsl, checker_fragment_glsl,
                        err, err_size);
    if (!out->mesh || !out->points || !out->outline || !out->checker) {
        rr_render_programs_destroy(out);
        return false;
    }
    out->mesh_u_attrs = glGetUniformLocation(out->mesh, "u_attrs");
    out->points_u_point_size = glGetUniformLocation(out->points, "u_point_size");
    out->points_u_has_color = glGetUniformLocation(out->points, "u_has_color");
    out->outline_u_attrs = glGetUniformLocation(out->outline, "u_attrs");
    out->outline_u_outline = glGetUniformLocation(out->outline, "u_outline");
    out->checker_u_colours = glGetUniformLocation(out->checker, "u_colours");
    return true;
}

void rr_render_programs_destroy(struct rr_render_programs *p)
{
    /* glDeleteProgram ignores 0. */
    glDeleteProgram(p->mesh);
    glDeleteProgram(p->points);
    glDeleteProgram(p->outline);
    glDeleteProgram(p->checker);
    memset(p, 0, sizeof(*p));
}
