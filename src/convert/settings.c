/* SPDX-License-Identifier: Apache-2.0 */
/* Conversion settings: defaults, strict parsing with jansson, and the effective values. */
#include "settings.h"

#include "openrr/asset.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct enum_name {
    const char *name;
    uint8_t value;
};

static const struct enum_name g_position_names[] = {
    {"32_32_32_FLOAT", RR_VERTEX_FLOAT32x3},
    {"16_16_16_16_FLOAT", RR_VERTEX_FLOAT16x4},
    {NULL, 0},
};
static const struct enum_name g_color_names[] = {
    {"8_8_8_8_UNSIGNED_NORMALIZED", RR_VERTEX_UNORM8x4},
    {"NONE", RR_VERTEX_NONE},
    {NULL, 0},
};
static const struct enum_name g_direction_names[] = {
    {"8_8_8_8_SIGNED_NORMALIZED", RR_VERTEX_SNORM8x4},
    {"16_16_16_16_FLOAT", RR_VERTEX_FLOAT16x4},
    {"NONE", RR_VERTEX_NONE},
    {NULL, 0},
};
static const struct enum_name g_texcoord_names[] = {
    {"32_32_FLOAT", RR_VERTEX_FLOAT32x2},
    {"16_16_FLOAT", RR_VERTEX_FLOAT16x2},
    {"NONE", RR_VERTEX_NONE},
    {NULL, 0},
};
static const struct enum_name g_mode_names[] = {
    {"none", RR_CONVERT_GRAPH_NONE},
    {"static", RR_CONVERT_GRAPH_STATIC},
    {"dynamic", RR_CONVERT_GRAPH_DYNAMIC},
    {NULL, 0},
};
static const struct enum_name g_sidedness_names[] = {
    {"SingleSided", 0},
    {"DoubleSided", 1},
    {NULL, 0},
};
static const char *const g_axis_names[] = {"-z", "-y", "-x", "", "+x", "+y", "+z"};

void rr_convert_settings_init(struct rr_convert_settings *s)
{
    memset(s, 0, sizeof(*s));
    s->scaling = 1.0;
    s->recenter_to_origin = false;
    s->opaque_double_sided = true;
    s->gamma_to_linear_material = -1;
    s->gamma_to_linear_vertex = -1;
    s->scene_graph_mode = RR_CONVERT_GRAPH_DYNAMIC;
    s->generate_collision_mesh = true;
    s->unlit_materials = false;
    s->deduplicate_materials = true;
    s->fbx_assume_metallic = true;
    s->axis[0] = 1;
    s->axis[1] = 2;
    s->axis[2] = 3;
    s->vertex.position = RR_VERTEX_FLOAT32x3;
    s->vertex.color0 = RR_VERTEX_UNORM8x4;
    s->vertex.color1 = RR_VERTEX_NONE;
    s->vertex.normal = RR_VERTEX_SNORM8x4;
    s->vertex.tangent = RR_VERTEX_SNORM8x4;
    s->vertex.binormal = RR_VERTEX_NONE;
    s->vertex.texcoord0 = RR_VERTEX_FLOAT32x2;
    s->vertex.texcoord1 = RR_VERTEX_NONE;
}

static void free_keys(struct rr_convert_settings *s)
{
    for (size_t i = 0; i < s->metadata_key_count; i++) {
        free(s->metadata_keys[i]);
    }
    free(s->metadata_keys);
    s->metadata_keys = NULL;
    s->metadata_key_count = 0;
}

void rr_convert_settings_fini(struct rr_convert_settings *s)
{
    free_keys(s);
}

void rr_convert_settings_resolve(struct rr_convert_settings *s, bool fbx_or_point_cloud)
{
    if (s->gamma_to_linear_material < 0) {
        s->gamma_to_linear_material = fbx_or_point_cloud;
    }
    if (s->gamma_to_linear_vertex < 0) {
        s->gamma_to_linear_vertex = fbx_or_point_cloud;
    }
}

/* "a, b or c" for error messages. */
static void list_names(const struct enum_name *names, char *buf, size_t size)
{
    buf[0] = '\0';
    for (size_t i = 0; names[i].name != NULL; i++) {
        size_t len = strlen(buf);
        const char *sep = i == 0 ? "" : names[i + 1].name == NULL ? " or " : ", ";
        snprintf(buf + len, size - len, "%s\"%s\"", sep, names[i].name);
    }
}

static const char *enum_name_of(const struct enum_name *names, uint8_t value)
{
    for (size_t i = 0; names[i].name != NULL; i++) {
        if (names[i].value == value) {
            return names[i].name;
        }
    }
    return "NONE";
}

static enum rr_convert_code parse_enum(const char *field, json_t *v, const struct enum_name *names,
                                       uint8_t *out, struct rr_convert_status *st)
{
    if (json_is_string(v)) {
        for (size_t i = 0; names[i].name != NULL; i++) {
            if (strcmp(json_string_value(v), names[i].name) == 0) {
                *out = names[i].value;
                return RR_CONVERT_OK;
            }
        }
    }
    char expected[256];
    list_names(names, expected, sizeof(expected));
    return rr_convert_fail(st, RR_CONVERT_INVALID_SETTINGS,
                           "setting \"%s\": expected %s; fix the conversion settings file", field,
                           expected);
}

static enum rr_convert_code parse_bool(const char *field, json_t *v, bool *out,
                                       struct rr_convert_status *st)
{
    if (!json_is_boolean(v)) {
        return rr_convert_fail(st, RR_CONVERT_INVALID_SETTINGS,
                               "setting \"%s\": expected true or false; fix the conversion "
                               "settings file",
                               field);
    }
    *out = json_is_true(v);
    return RR_CONVERT_OK;
}

static enum rr_convert_code parse_scaling(json_t *v, double *out, struct rr_convert_status *st)
{
    double d = json_is_number(v) ? json_number_value(v) : 0.0;
    if (!json_is_number(v) || !isfinite(d) || d <= 0.0) {
        return rr_convert_fail(st, RR_CONVERT_INVALID_SETTINGS,
                               "setting \"scaling\": expected a number greater than 0; fix the "
                               "conversion settings file");
    }
    *out = d;
    return RR_CONVERT_OK;
}

static enum rr_convert_code parse_axis(json_t *v, int8_t out[3], struct rr_convert_status *st)
{
    int8_t axis[3];
    unsigned seen = 0;
    bool ok = json_is_array(v) && json_array_size(v) == 3;
    for (size_t i = 0; ok && i < 3; i++) {
        const char *name = json_string_value(json_array_get(v, i));
        int8_t a = 0;
        for (int k = 0; name != NULL && k < 7; k++) {
            if (k != 3 && strcmp(name, g_axis_names[k]) == 0) {
                a = (int8_t)(k - 3);
            }
        }
        unsigned bit = a != 0 ? 1u << (abs(a) - 1) : 0;
        /* Each source axis exactly once: a repeated axis would flatten the model. */
        ok = a != 0 && (seen & bit) == 0;
        seen |= bit;
        axis[i] = a;
    }
    if (!ok) {
        return rr_convert_fail(st, RR_CONVERT_INVALID_SETTINGS,
                               "setting \"axis\": expected an array of three of \"+x\", \"-x\", "
                               "\"+y\", \"-y\", \"+z\", \"-z\" naming each axis once, e.g. "
                               "[\"+x\",\"+z\",\"-y\"]; fix the conversion settings file");
    }
    memcpy(out, axis, sizeof(axis));
    return RR_CONVERT_OK;
}

static enum rr_convert_code parse_metadata_keys(json_t *v, struct rr_convert_settings *s,
                                                struct rr_convert_status *st)
{
    if (!json_is_array(v)) {
        goto bad;
    }
    for (size_t i = 0; i < json_array_size(v); i++) {
        if (!json_is_string(json_array_get(v, i))) {
            goto bad;
        }
    }
    free_keys(s);
    size_t n = json_array_size(v);
    s->metadata_keys = calloc(n > 0 ? n : 1, sizeof(char *));
    if (s->metadata_keys == NULL) {
        return rr_convert_fail(st, RR_CONVERT_INTERNAL_ERROR, "out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        s->metadata_keys[i] = strdup(json_string_value(json_array_get(v, i)));
        if (s->metadata_keys[i] == NULL) {
            return rr_convert_fail(st, RR_CONVERT_INTERNAL_ERROR, "out of memory");
        }
        s->metadata_key_count = i + 1;
    }
    return RR_CONVERT_OK;
bad:
    return rr_convert_fail(st, RR_CONVERT_INVALID_SETTINGS,
                           "setting \"metadataKeys\": expected an array of strings; fix the "
                           "conversion settings file");
}

static void warn_unknown(struct rr_convert_status *st, const char *prefix, const char *key)
{
    rr_convert_warn(st, "UnknownSetting", "Unknown setting ignored",
                    "setting \"%s%s\" is not known and was ignored; check its spelling", prefix,
                    key);
}

static enum rr_convert_code parse_vertex(json_t *obj, struct rr_convert_vertex_settings *vs,
                                         struct rr_convert_status *st)
{
    if (!json_is_object(obj)) {
        return rr_convert_fail(st, RR_CONVERT_INVALID_SETTINGS,
                               "setting \"vertex\": expected an object such as "
                               "{\"position\":\"32_32_32_FLOAT\"}; fix the conversion settings "
                               "file");
    }
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v)
    {
        enum rr_convert_code c = RR_CONVERT_OK;
        if (strcmp(key, "position") == 0) {
            c = parse_enum("vertex.position", v, g_position_names, &vs->position, st);
        } else if (strcmp(key, "color0") == 0) {
            c = parse_enum("vertex.color0", v, g_color_names, &vs->color0, st);
        } else if (strcmp(key, "color1") == 0) {
            c = parse_enum("vertex.color1", v, g_color_names, &vs->color1, st);
        } else if (strcmp(key, "normal") == 0) {
            c = parse_enum("vertex.normal", v, g_direction_names, &vs->normal, st);
        } else if (strcmp(key, "tangent") == 0) {
            c = parse_enum("vertex.tangent", v, g_direction_names, &vs->tangent, st);
        } else if (strcmp(key, "binormal") == 0) {
            c = parse_enum("vertex.binormal", v, g_direction_names, &vs->binormal, st);
        } else if (strcmp(key, "texcoord0") == 0) {
            c = parse_enum("vertex.texcoord0", v, g_texcoord_names, &vs->texcoord0, st);
        } else if (strcmp(key, "texcoord1") == 0) {
            c = parse_enum("vertex.texcoord1", v, g_texcoord_names, &vs->texcoord1, st);
        } else {
            warn_unknown(st, "vertex.", key);
        }
        if (c != RR_CONVERT_OK) {
            return c;
        }
    }
    return RR_CONVERT_OK;
}

static enum rr_convert_code parse_field(struct rr_convert_settings *s, const char *key, json_t *v,
                                        struct rr_convert_status *st)
{
    bool b = false;
    uint8_t e = 0;
    enum rr_convert_code c;
    if (strcmp(key, "scaling") == 0) {
        return parse_scaling(v, &s->scaling, st);
    } else if (strcmp(key, "recenterToOrigin") == 0) {
        return parse_bool(key, v, &s->recenter_to_origin, st);
    } else if (strcmp(key, "opaqueMaterialDefaultSidedness") == 0) {
        e = s->opaque_double_sided ? 1 : 0;
        c = parse_enum(key, v, g_sidedness_names, &e, st);
        s->opaque_double_sided = e != 0;
        return c;
    } else if (strcmp(key, "gammaToLinearMaterial") == 0) {
        c = parse_bool(key, v, &b, st);
        s->gamma_to_linear_material = c == RR_CONVERT_OK ? b : s->gamma_to_linear_material;
        return c;
    } else if (strcmp(key, "gammaToLinearVertex") == 0) {
        c = parse_bool(key, v, &b, st);
        s->gamma_to_linear_vertex = c == RR_CONVERT_OK ? b : s->gamma_to_linear_vertex;
        return c;
    } else if (strcmp(key, "sceneGraphMode") == 0) {
        e = (uint8_t)s->scene_graph_mode;
        c = parse_enum(key, v, g_mode_names, &e, st);
        s->scene_graph_mode = (enum rr_convert_graph_mode)e;
        return c;
    } else if (strcmp(key, "generateCollisionMesh") == 0) {
        return parse_bool(key, v, &s->generate_collision_mesh, st);
    } else if (strcmp(key, "unlitMaterials") == 0) {
        return parse_bool(key, v, &s->unlit_materials, st);
    } else if (strcmp(key, "deduplicateMaterials") == 0) {
        return parse_bool(key, v, &s->deduplicate_materials, st);
    } else if (strcmp(key, "fbxAssumeMetallic") == 0) {
        return parse_bool(key, v, &s->fbx_assume_metallic, st);
    } else if (strcmp(key, "axis") == 0) {
        return parse_axis(v, s->axis, st);
    } else if (strcmp(key, "metadataKeys") == 0) {
        return parse_metadata_keys(v, s, st);
    } else if (strcmp(key, "vertex") == 0) {
        return parse_vertex(v, &s->vertex, st);
    }
    warn_unknown(st, "", key);
    return RR_CONVERT_OK;
}

enum rr_convert_code rr_convert_settings_load(struct rr_convert_settings *s, const char *path,
                                              struct rr_convert_status *st)
{
    json_error_t jerr;
    /* Duplicate keys are rejected: silently taking the last of two "scaling" fields hides a
     * mistake that changes the whole model. */
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
    if (root == NULL && jerr.line < 1) {
        return rr_convert_fail(st, RR_CONVERT_INVALID_SETTINGS,
                               "settings file %s cannot be read: %s: check the path", path,
                               jerr.text);
    }
    if (root == NULL) {
        return rr_convert_fail(st, RR_CONVERT_INVALID_SETTINGS,
                               "settings file %s: %s (line %d, column %d); it must be a JSON "
                               "object such as {\"scaling\":0.01}",
                               path, jerr.text, jerr.line, jerr.column);
    }
    enum rr_convert_code c = RR_CONVERT_OK;
    if (!json_is_object(root)) {
        c = rr_convert_fail(st, RR_CONVERT_INVALID_SETTINGS,
                            "settings file %s: expected a JSON object such as "
                            "{\"scaling\":0.01}",
                            path);
    }
    const char *key;
    json_t *v;
    json_object_foreach(root, key, v)
    {
        if (c != RR_CONVERT_OK) {
            break;
        }
        c = parse_field(s, key, v, st);
    }
    json_decref(root);
    return c;
}

json_t *rr_convert_settings_to_json(const struct rr_convert_settings *s)
{
    const struct rr_convert_vertex_settings *vs = &s->vertex;
    json_t *axis = json_array();
    for (int i = 0; i < 3; i++) {
        json_array_append_new(axis, json_string(g_axis_names[s->axis[i] + 3]));
    }
    json_t *keys = json_array();
    for (size_t i = 0; i < s->metadata_key_count; i++) {
        json_array_append_new(keys, json_string(s->metadata_keys[i]));
    }
    json_t *vertex = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "position",
                               enum_name_of(g_position_names, vs->position), "color0",
                               enum_name_of(g_color_names, vs->color0), "color1",
                               enum_name_of(g_color_names, vs->color1), "normal",
                               enum_name_of(g_direction_names, vs->normal), "tangent",
                               enum_name_of(g_direction_names, vs->tangent), "binormal",
                               enum_name_of(g_direction_names, vs->binormal), "texcoord0",
                               enum_name_of(g_texcoord_names, vs->texcoord0), "texcoord1",
                               enum_name_of(g_texcoord_names, vs->texcoord1));
    return json_pack(
        "{s:f, s:b, s:s, s:b, s:b, s:s, s:b, s:b, s:b, s:b, s:o, s:o, s:o}", "scaling", s->scaling,
        "recenterToOrigin", s->recenter_to_origin, "opaqueMaterialDefaultSidedness",
        s->opaque_double_sided ? "DoubleSided" : "SingleSided", "gammaToLinearMaterial",
        s->gamma_to_linear_material > 0, "gammaToLinearVertex", s->gamma_to_linear_vertex > 0,
        "sceneGraphMode", enum_name_of(g_mode_names, (uint8_t)s->scene_graph_mode),
        "generateCollisionMesh", s->generate_collision_mesh, "unlitMaterials", s->unlit_materials,
        "deduplicateMaterials", s->deduplicate_materials, "fbxAssumeMetallic",
        s->fbx_assume_metallic, "axis", axis, "metadataKeys", keys, "vertex", vertex);
}
