/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_render — libopenrr_render on real assets: models from Debian's assimp-testmodels are
 * converted with openrr-convert at test time (RR_CONVERT_TOOL, set by src/render's CMake) and
 * rendered through Mesa llvmpipe (EGL surfaceless or Mesa's software device). Checks read the
 * side-by-side texture back: the model is where the eyes look, the eyes differ, culling,
 * the budget checkerboard, cut planes, tint / override / see-through / selection, point
 * clouds, sharing of uploads, and bad draws that must be skipped and counted.
 *
 * The renderers are destroyed but the EGL display is never terminated (the renderer does not
 * call eglTerminate): Mesa leaves 240 bytes behind at eglTerminate that LeakSanitizer cannot
 * suppress, and the display is a process-wide singleton the other renderers here share.
 */
#include "render.h"
#include "render_internal.h"
#include "render_math.h"
#include "rr_test.h"

#include "openrr/asset.h"

#include <epoxy/gl.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define EYE_W 128
#define EYE_H 96
#define MODELS "/usr/share/assimp/models"

struct fixture {
    char dir[64];
    struct rr_renderer *r;
    struct rr_asset *box;    /* BoxTextured: unit cube at the origin, one textured material */
    struct rr_asset *engine; /* 2CylinderEngine: many meshes and materials */
    struct rr_asset *points; /* points.ply: a 4-point cloud */
    struct rr_render_asset *box_h, *engine_h, *points_h;
    uint8_t *pixels; /* 2·EYE_W × EYE_H × 4, row 0 at the bottom */
};

static struct fixture g;

/* ---- set-up ---------------------------------------------------------------------------- */

#ifdef RR_CONVERT_TOOL
static bool convert(const char *model, const char *name)
{
    char cmd[1024];
    snprintf(cmd, sizeof(cmd), "'%s' '%s' '%s' --name %s >/dev/null 2>&1", RR_CONVERT_TOOL, model,
             g.dir, name);
    return system(cmd) == 0;
}

static struct rr_asset *open_converted(const char *name)
{
    char path[256], err[256];
    snprintf(path, sizeof(path), "%s/%s.rrasset", g.dir, name);
    struct rr_asset *a = NULL;
    if (rr_asset_open(path, 0, &a, err, sizeof(err)) != RR_ASSET_OK) {
        fprintf(stderr, "test_render: %s: %s\n", path, err);
        return NULL;
    }
    return a;
}
#endif

static struct rr_renderer_config config(uint64_t budget)
{
    return (struct rr_renderer_config){
        .eye_width = EYE_W,
        .eye_height = EYE_H,
        .primitive_budget = budget,
        .clear_colour = {0.0f, 0.0f, 0.0f, 1.0f},
        .point_size = 6.0f,
    };
}

static int setup(void **state)
{
#ifndef RR_CONVERT_TOOL
    fprintf(stderr, "test_render: openrr-convert was not built; nothing to render\n");
    return -1;
#else
    snprintf(g.dir, sizeof(g.dir), "/tmp/test_render.XXXXXX");
    if (!mkdtemp(g.dir))
        return -1;
    if (!convert(MODELS "/glTF2/BoxTextured-glTF/BoxTextured.gltf", "box") ||
        !convert(MODELS "/glTF2/2CylinderEngine-glTF-Binary/2CylinderEngine.glb", "engine") ||
        !convert(MODELS "/PLY/points.ply", "points")) {
        fprintf(stderr, "test_render: openrr-convert failed\n");
        return -1;
    }
    g.box = open_converted("box");
    g.engine = open_converted("engine");
    g.points = open_converted("points");
    if (!g.box || !g.engine || !g.points)
        return -1;
    char err[256];
    struct rr_renderer_config cfg = config(0);
    if (!rr_renderer_create(&cfg, &g.r, err, sizeof(err))) {
        fprintf(stderr, "test_render: %s\n", err);
        return -1;
    }
    if (!rr_renderer_asset_get(g.r, g.box, &g.box_h, err, sizeof(err)) ||
        !rr_renderer_asset_get(g.r, g.engine, &g.engine_h, err, sizeof(err)) ||
        !rr_renderer_asset_get(g.r, g.points, &g.points_h, err, sizeof(err))) {
        fprintf(stderr, "test_render: %s\n", err);
        return -1;
    }
    g.pixels = malloc(2 * EYE_W * EYE_H * 4);
    return g.pixels ? 0 : -1;
#endif
}

static int teardown(void **state)
{
    if (g.r) {
        rr_renderer_make_current(g.r, NULL, 0);
        rr_renderer_asset_release(g.r, &g.box_h);
        rr_renderer_asset_release(g.r, &g.engine_h);
        rr_renderer_asset_release(g.r, &g.points_h);
        assert_int_equal(rr_renderer_gpu_asset_count(g.r), 0);
        rr_renderer_destroy(&g.r);
    }
    rr_asset_close(&g.box);
    rr_asset_close(&g.engine);
    rr_asset_close(&g.points);
    free(g.pixels);
    if (g.dir[0]) {
        char cmd[128];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", g.dir);
        if (system(cmd) != 0)
            fprintf(stderr, "test_render: could not remove %s\n", g.dir);
    }
    return 0;
}

/* ---- helpers --------------------------------------------------------------------------- */

/* Both eyes 3 m in front of the origin looking along −Z, 6.4 cm apart, ±30° wide. */
static void eyes_at(struct rr_render_eye eyes[2], float z, const float q[4])
{
    for (int e = 0; e < 2; e++) {
        eyes[e] = (struct rr_render_eye){
            .position = {e ? 0.032f : -0.032f, 0.0f, z},
            .orientation = {q[0], q[1], q[2], q[3]},
            .angle_left = -0.52f,
            .angle_right = 0.52f,
            .angle_up = 0.45f,
            .angle_down = -0.45f,
        };
    }
}

static const float identity_q[4] = {0, 0, 0, 1};

static struct rr_scene_draw draw_of(const struct rr_asset *a, uint32_t mesh)
{
    struct rr_scene_draw d = {
        .asset = a,
        .mesh_index = mesh,
        .cloud_index = 0,
        .world = {1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1},
        .tint = {1, 1, 1, 1},
        .material_override = -1,
    };
    return d;
}

static void render(struct rr_renderer *r, const struct rr_scene_draw *draws, size_t n,
                   const struct rr_render_eye eyes[2], struct rr_render_stats *st)
{
    struct rr_scene_view view = {.draws = draws, .draw_count = n};
    char err[256] = "";
    bool ok = rr_renderer_draw(r, &view, eyes, st, err, sizeof(err));
    if (!ok)
        fprintf(stderr, "draw: %s\n", err);
    assert_true(ok);
}

static void render_view(const struct rr_scene_view *view, struct rr_render_stats *st)
{
    struct rr_render_eye eyes[2];
    eyes_at(eyes, 3.0f, identity_q);
    char err[256] = "";
    assert_true(rr_renderer_draw(g.r, view, eyes, st, err, sizeof(err)));
}

static void read_back(struct rr_renderer *r)
{
    uint32_t w = 0, h = 0;
    rr_renderer_texture_size(r, &w, &h);
    glGetTextureImage(rr_renderer_texture(r), 0, GL_RGBA, GL_UNSIGNED_BYTE, (GLsizei)(w * h * 4),
                      g.pixels);
    assert_int_equal(glGetError(), GL_NO_ERROR);
}

/* With RR_RENDER_DUMP=DIR set, write the last read-back as DIR/NAME.ppm (top row first). */
static void dump(const char *name)
{
    const char *dir = getenv("RR_RENDER_DUMP");
    if (!dir)
        return;
    char path[512];
    snprintf(path, sizeof(path), "%s/%s.ppm", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f)
        return;
    fprintf(f, "P6 %d %d 255\n", 2 * EYE_W, EYE_H);
    for (int y = EYE_H - 1; y >= 0; y--)
        for (int x = 0; x < 2 * EYE_W; x++)
            fwrite(g.pixels + ((size_t)y * 2 * EYE_W + (size_t)x) * 4, 1, 3, f);
    fclose(f);
}

static const uint8_t *px(uint32_t x, uint32_t y)
{
    return g.pixels + ((size_t)y * 2 * EYE_W + x) * 4;
}

static bool is_background(const uint8_t *p)
{
    return p[0] == 0 && p[1] == 0 && p[2] == 0;
}

/* Non-background pixels of eye @p eye in columns [x0, x1) of that eye. */
static unsigned covered(int eye, uint32_t x0, uint32_t x1)
{
    unsigned n = 0;
    for (uint32_t y = 0; y < EYE_H; y++)
        for (uint32_t x = x0; x < x1; x++)
            n += !is_background(px(eye * EYE_W + x, y));
    return n;
}

/* Mean colour of a 9×9 block around the centre of eye @p eye. */
static void centre_colour(int eye, double out[3])
{
    out[0] = out[1] = out[2] = 0;
    for (int dy = -4; dy <= 4; dy++)
        for (int dx = -4; dx <= 4; dx++)
            for (int c = 0; c < 3; c++)
                out[c] += px(eye * EYE_W + EYE_W / 2 + dx, EYE_H / 2 + dy)[c] / 81.0;
}

/* ---- tests ----------------------------------------------------------------------------- */

static void test_create_errors(void **state)
{
    char err[256] = "";
    struct rr_renderer *r = (struct rr_renderer *)&err; /* must be reset to NULL */
    struct rr_renderer_config cfg = config(0);
    cfg.eye_width = 0;
    assert_false(rr_renderer_create(&cfg, &r, err, sizeof(err)));
    assert_null(r);
    assert_non_null(strstr(err, "invalid renderer config: eye_width"));
    cfg = config(0);
    cfg.clear_colour[1] = NAN;
    assert_false(rr_renderer_create(&cfg, &r, err, sizeof(err)));
    assert_non_null(strstr(err, "clear_colour"));
    cfg = config(0);
    cfg.eye_height = RR_RENDER_MAX_EYE_SIZE + 1;
    assert_false(rr_renderer_create(&cfg, &r, err, sizeof(err)));
    assert_false(rr_renderer_create(NULL, &r, err, sizeof(err)));

    /* The EGL device platform: works (Mesa's software device) or fails with the message the
     * host prints; either way nothing leaks and the main renderer is unharmed. */
    cfg = config(0);
    cfg.platform = RR_RENDER_PLATFORM_DEVICE;
    if (rr_renderer_create(&cfg, &r, err, sizeof(err))) {
        assert_string_equal(rr_renderer_platform_name(r), "device");
        rr_renderer_destroy(&r);
        assert_null(r);
    } else {
        assert_non_null(strstr(err, "no EGL display with OpenGL 4.5 core: "));
    }
    assert_true(rr_renderer_make_current(g.r, err, sizeof(err)));
    rr_renderer_destroy(NULL);
}

static void test_box_visible_stereo(void **state)
{
    struct rr_scene_draw d = draw_of(g.box, 0);
    struct rr_render_eye eyes[2];
    eyes_at(eyes, 3.0f, identity_q);
    struct rr_render_stats st;
    render(g.r, &d, 1, eyes, &st);
    assert_int_equal(st.draws_total, 1);
    assert_int_equal(st.draws_rendered, 1);
    assert_int_equal(st.draws_culled, 0);
    assert_int_equal(st.draws_invalid, 0);
    assert_int_equal(st.triangles_visible, 12);
    assert_int_equal(st.triangles_rendered, 24); /* both eyes */
    assert_int_equal(st.gl_draw_calls, 2);
    assert_false(st.over_budget);
    assert_true(st.cpu_ms >= 0.0);
    read_back(g.r);
    dump("box");
    /* The cube (1 m at 3 m, ±30°) covers the middle of each eye, and not the corners. */
    for (int e = 0; e < 2; e++) {
        assert_false(is_background(px(e * EYE_W + EYE_W / 2, EYE_H / 2)));
        assert_true(is_background(px(e * EYE_W + 2, 2)));
        assert_true(is_background(px(e * EYE_W + EYE_W - 3, EYE_H - 3)));
    }
    /* The eyes are 6.4 cm apart: the halves are similar but not identical. */
    unsigned differ = 0, left = covered(0, 0, EYE_W), right = covered(1, 0, EYE_W);
    for (uint32_t y = 0; y < EYE_H; y++)
        for (uint32_t x = 0; x < EYE_W; x++)
            differ += memcmp(px(x, y), px(EYE_W + x, y), 3) != 0;
    assert_true(differ > 0);
    assert_true(abs((int)left - (int)right) < (int)left / 10);
    /* The left eye sees the cube further right than the right eye does. */
    unsigned left_eye_right_part = covered(0, EYE_W / 2, EYE_W);
    unsigned right_eye_right_part = covered(1, EYE_W / 2, EYE_W);
    assert_true(left_eye_right_part > right_eye_right_part);

    /* A later frame reports the GPU time of an earlier one (timer queries). */
    for (int i = 0; i < 3; i++)
        render(g.r, &d, 1, eyes, &st);
    glFinish();
    render(g.r, &d, 1, eyes, &st);
    assert_true(st.gpu_ms >= 0.0);
}

static void test_culling(void **state)
{
    struct rr_scene_draw d[3] = {draw_of(g.box, 0), draw_of(g.box, 0), draw_of(g.box, 0)};
    d[0].world[14] = 10.0f;  /* behind the eyes (they look along −Z from z = 3) */
    d[1].world[12] = -40.0f; /* far to the left, outside both fields of view */
    d[2].world[13] = 0.2f;   /* in view */
    struct rr_render_eye eyes[2];
    eyes_at(eyes, 3.0f, identity_q);
    struct rr_render_stats st;
    render(g.r, d, 2, eyes, &st);
    assert_int_equal(st.draws_culled, 2);
    assert_int_equal(st.draws_rendered, 0);
    assert_int_equal(st.triangles_rendered, 0);
    assert_int_equal(st.gl_draw_calls, 0);
    read_back(g.r);
    assert_int_equal(covered(0, 0, EYE_W) + covered(1, 0, EYE_W), 0);

    render(g.r, d, 3, eyes, &st);
    assert_int_equal(st.draws_culled, 2);
    assert_int_equal(st.draws_rendered, 1);

    /* Turned around (180° about +Y) the eyes see the box behind them, not the one in front. */
    const float turned[4] = {0.0f, 1.0f, 0.0f, 0.0f};
    eyes_at(eyes, 3.0f, turned);
    render(g.r, d, 3, eyes, &st);
    assert_int_equal(st.draws_rendered, 1);
    assert_int_equal(st.draws_culled, 2);
    read_back(g.r);
    assert_false(is_background(px(EYE_W / 2, EYE_H / 2)));

    /* A box only one eye sees: one eye's triangles. */
    eyes_at(eyes, 3.0f, identity_q);
    struct rr_scene_draw edge = draw_of(g.box, 0);
    /* At x = −2.3 at 3 m the box straddles the left eye's left edge (tan 30° · 3 ≈ 1.73). */
    edge.world[12] = -2.3f;
    edge.world[0] = edge.world[5] = edge.world[10] = 1.0f;
    render(g.r, &edge, 1, eyes, &st);
    assert_int_equal(st.draws_rendered, 1);
    assert_true(st.triangles_rendered == 12 || st.triangles_rendered == 24);
}

static void test_budget_checkerboard(void **state)
{
    char err[256] = "";
    struct rr_renderer *small = NULL;
    struct rr_renderer_config cfg = config(12); /* exactly the box */
    assert_true(rr_renderer_create(&cfg, &small, err, sizeof(err)));
    struct rr_render_asset *h = NULL;
    assert_true(rr_renderer_asset_get(small, g.box, &h, err, sizeof(err)));
    struct rr_scene_draw d[2] = {draw_of(g.box, 0), draw_of(g.box, 0)};
    d[1].world[12] = 0.3f;
    struct rr_render_eye eyes[2];
    eyes_at(eyes, 3.0f, identity_q);
    struct rr_render_stats st;
    render(small, d, 1, eyes, &st);
    assert_false(st.over_budget);

    render(small, d, 2, eyes, &st); /* 24 triangles visible > 12 */
    assert_true(st.over_budget);
    assert_int_equal(st.triangles_visible, 24);
    assert_int_equal(st.draws_rendered, 0);
    read_back(small);
    /* 32-pixel cells alternating between two greys, across both eyes. */
    const uint8_t *a = px(16, 16), *b = px(48, 16), *c = px(48, 48), *e = px(EYE_W + 16, 16);
    assert_true(a[0] != b[0]);
    assert_int_equal(a[0], c[0]);
    assert_int_equal(a[0], a[1]);
    assert_true(a[0] > 40 && a[0] < 90);
    assert_true(b[0] > 170 && b[0] < 215);
    assert_int_equal(e[0], EYE_W % 64 == 0 ? a[0] : b[0]);

    /* Culled triangles do not count: the second box behind the eyes is fine. */
    d[1].world[14] = 10.0f;
    render(small, d, 2, eyes, &st);
    assert_false(st.over_budget);
    assert_int_equal(st.draws_culled, 1);

    rr_renderer_asset_release(small, &h);
    rr_renderer_destroy(&small);
    assert_true(rr_renderer_make_current(g.r, err, sizeof(err)));
}

static void test_cut_plane(void **state)
{
    struct rr_scene_draw d = draw_of(g.box, 0);
    struct rr_scene_view view = {.draws = &d, .draw_count = 1, .cut_plane_count = 1};
    /* Keep x ≥ 0: the left half of the cube goes. */
    view.cut_planes[0] = (struct rr_cut_plane){.normal = {1, 0, 0}, .distance = 0};
    struct rr_render_stats st;
    render_view(&view, &st); /* without RR_DRAW_USE_CUT_PLANES the plane does nothing */
    read_back(g.r);
    unsigned full_left = covered(0, 0, EYE_W / 2), full_right = covered(0, EYE_W / 2, EYE_W);
    assert_true(full_left > 100);

    d.flags = RR_DRAW_USE_CUT_PLANES;
    render_view(&view, &st);
    read_back(g.r);
    unsigned cut_left = covered(0, 0, EYE_W / 2 - 2), cut_right = covered(0, EYE_W / 2, EYE_W);
    assert_true(cut_left < full_left / 20); /* a sliver at most, from the perspective */
    assert_true(cut_right > full_right * 9 / 10);

    /* Two planes: also cut y > 0 (normal −Y keeps y ≤ 0); a NaN plane is ignored. */
    view.cut_planes[1] = (struct rr_cut_plane){.normal = {0, -1, 0}, .distance = 0};
    view.cut_planes[2] = (struct rr_cut_plane){.normal = {NAN, 0, 0}, .distance = 0};
    view.cut_plane_count = 3;
    render_view(&view, &st);
    read_back(g.r);
    unsigned upper = 0, lower = 0;
    for (uint32_t y = 0; y < EYE_H; y++)
        for (uint32_t x = EYE_W / 2 + 2; x < EYE_W; x++)
            *(y > EYE_H / 2 + 2 ? &upper : &lower) += !is_background(px(x, y));
    assert_true(upper < 20);
    assert_true(lower > 100);
}

static void test_tint_override_selection(void **state)
{
    struct rr_scene_draw d = draw_of(g.box, 0);
    struct rr_scene_view view = {.draws = &d, .draw_count = 1};
    struct rr_render_stats st;
    double plain[3], tinted[3], blue[3], ghost[3], selected[3];
    render_view(&view, &st);
    read_back(g.r);
    centre_colour(0, plain);

    d.flags = RR_DRAW_TINTED;
    memcpy(d.tint, (float[4]){1, 0, 0, 1}, sizeof(d.tint));
    render_view(&view, &st);
    read_back(g.r);
    dump("tinted");
    centre_colour(0, tinted);
    /* Red stays, green and blue go (but for the white specular highlight of the light). */
    assert_true(tinted[0] > 0.8 * plain[0]);
    assert_true(tinted[1] < plain[1] / 4 && tinted[2] < plain[2] / 4);

    d.flags = 0;
    memcpy(d.colour_override, (float[4]){0, 0, 1, 1}, sizeof(d.colour_override));
    render_view(&view, &st);
    read_back(g.r);
    centre_colour(0, blue);
    assert_true(blue[2] > 100 && blue[0] < blue[2] / 4 && blue[1] < blue[2] / 4);

    /* See-through: blended over the black background, darker than opaque. */
    memset(d.colour_override, 0, sizeof(d.colour_override));
    d.flags = RR_DRAW_SEE_THROUGH;
    render_view(&view, &st);
    read_back(g.r);
    centre_colour(0, ghost);
    assert_true(ghost[0] + ghost[1] + ghost[2] > 10);
    assert_true(ghost[0] + ghost[1] + ghost[2] < 0.6 * (plain[0] + plain[1] + plain[2]));

    /* Selected: an orange highlight (red well above blue). */
    d.flags = RR_DRAW_SELECTED;
    render_view(&view, &st);
    read_back(g.r);
    centre_colour(0, selected);
    assert_true(selected[0] - selected[2] > plain[0] - plain[2] + 30);
}

static void test_see_through_sorted(void **state)
{
    /* An opaque red box behind a see-through blue one: the red shows through the blue. */
    struct rr_scene_draw d[2] = {draw_of(g.box, 0), draw_of(g.box, 0)};
    memcpy(d[0].colour_override, (float[4]){0, 0, 1, 1}, sizeof(d[0].colour_override));
    d[0].flags = RR_DRAW_SEE_THROUGH;
    d[0].world[14] = 1.0f; /* nearer */
    memcpy(d[1].colour_override, (float[4]){1, 0, 0, 1}, sizeof(d[1].colour_override));
    d[1].world[14] = -1.0f;
    struct rr_scene_view view = {.draws = d, .draw_count = 2};
    struct rr_render_stats st;
    render_view(&view, &st);
    read_back(g.r);
    double c[3];
    centre_colour(0, c);
    assert_true(c[0] > 20); /* red from behind */
    assert_true(c[2] > 20); /* blue on top */
}

static void test_instancing_and_mirroring(void **state)
{
    /* 64 boxes of one mesh and material: one multi-draw per eye. */
    struct rr_scene_draw d[64];
    for (int i = 0; i < 64; i++) {
        d[i] = draw_of(g.box, 0);
        for (int k = 0; k < 3; k++)
            d[i].world[k * 5] = 0.1f;
        d[i].world[12] = -0.7f + 0.2f * (float)(i % 8);
        d[i].world[13] = -0.7f + 0.2f * (float)(i / 8);
    }
    struct rr_scene_view view = {.draws = d, .draw_count = 64};
    struct rr_render_stats st;
    render_view(&view, &st);
    assert_int_equal(st.draws_rendered, 64);
    assert_int_equal(st.gl_draw_calls, 2);
    assert_int_equal(st.triangles_rendered, 64 * 12 * 2);
    read_back(g.r);
    unsigned normal = covered(0, 0, EYE_W);

    /* Mirrored (x scale −0.1): the front face flips, so the boxes are still solid. */
    for (int i = 0; i < 64; i++)
        d[i].world[0] = -0.1f;
    render_view(&view, &st);
    read_back(g.r);
    unsigned mirrored = covered(0, 0, EYE_W);
    assert_true(mirrored > normal * 9 / 10 && mirrored < normal * 11 / 10);
}

static void test_engine_model(void **state)
{
    const struct rr_asset_file_header *hdr = rr_asset_header(g.engine);
    size_t mesh_count = 0, node_count = 0;
    rr_asset_section_data(g.engine, RR_SECTION_MESHES, &mesh_count);
    const struct rr_asset_node *nodes =
        rr_asset_section_data(g.engine, RR_SECTION_NODES, &node_count);
    size_t node_mesh_count = 0;
    const uint32_t *node_meshes =
        rr_asset_section_data(g.engine, RR_SECTION_NODE_MESHES, &node_mesh_count);
    assert_true(mesh_count > 1);
    /* World matrices of the nodes (parents come first), one draw per node mesh. */
    float(*world)[16] = calloc(node_count, sizeof(*world));
    struct rr_scene_draw *draws = calloc(node_count * 8 + 1, sizeof(*draws));
    assert_non_null(world);
    assert_non_null(draws);
    size_t n = 0;
    for (size_t i = 0; i < node_count; i++) {
        if (nodes[i].parent == RR_ASSET_NONE)
            memcpy(world[i], nodes[i].transform, sizeof(world[i]));
        else
            rr_mat4_mul(world[i], world[nodes[i].parent], nodes[i].transform);
        for (uint32_t k = 0; k < nodes[i].mesh_count && n < node_count * 8; k++) {
            draws[n] = draw_of(g.engine, node_meshes[nodes[i].mesh_first + k]);
            memcpy(draws[n].world, world[i], sizeof(world[i]));
            n++;
        }
    }
    /* Look at the scene bounds from far enough away to see all of it. */
    float size = 0, centre[3];
    for (int k = 0; k < 3; k++) {
        centre[k] = 0.5f * (hdr->bounds_min[k] + hdr->bounds_max[k]);
        float ext = hdr->bounds_max[k] - hdr->bounds_min[k];
        size = ext > size ? ext : size;
    }
    struct rr_render_eye eyes[2];
    eyes_at(eyes, 0.0f, identity_q);
    for (int e = 0; e < 2; e++) {
        eyes[e].position[0] += centre[0];
        eyes[e].position[1] += centre[1];
        eyes[e].position[2] = centre[2] + 1.6f * size;
    }
    struct rr_render_stats st;
    render(g.r, draws, n, eyes, &st);
    assert_int_equal(st.draws_invalid, 0);
    assert_true(st.draws_rendered > 1);
    assert_true(st.triangles_visible > 10000);
    /* Batching: fewer GL calls than draws. */
    assert_true(st.gl_draw_calls < 2 * st.draws_rendered);
    read_back(g.r);
    dump("engine");
    assert_true(covered(0, 0, EYE_W) > EYE_W * EYE_H / 20);
    assert_true(covered(1, 0, EYE_W) > EYE_W * EYE_H / 20);

    /* The naive baseline (one draw call per part, no culling) draws the same picture; only
     * coplanar faces may resolve differently in the other draw order. */
    size_t bytes = 2 * EYE_W * EYE_H * 4;
    uint8_t *batched = malloc(bytes);
    assert_non_null(batched);
    memcpy(batched, g.pixels, bytes);
    struct rr_render_stats naive;
    rr_renderer_set_naive(g.r, true);
    render(g.r, draws, n, eyes, &naive);
    rr_renderer_set_naive(g.r, false);
    read_back(g.r);
    unsigned differ = 0;
    for (size_t i = 0; i < bytes; i += 4)
        differ += memcmp(batched + i, g.pixels + i, 3) != 0;
    assert_true(differ < 2 * EYE_W * EYE_H / 200);
    assert_int_equal(naive.draws_rendered, n);
    assert_true(naive.gl_draw_calls > st.gl_draw_calls);
    free(batched);
    free(world);
    free(draws);
}

static void test_point_cloud(void **state)
{
    /* The cloud spans x = 0, y and z in [0, 1]: put it in front of the eyes. */
    struct rr_scene_draw d = draw_of(g.points, UINT32_MAX);
    d.world[13] = -0.5f;
    d.world[14] = -0.5f;
    struct rr_scene_view view = {.draws = &d, .draw_count = 1};
    struct rr_render_stats st;
    render_view(&view, &st);
    assert_int_equal(st.draws_rendered, 1);
    assert_int_equal(st.points_visible, 4);
    read_back(g.r);
    unsigned n = covered(0, 0, EYE_W);
    assert_true(n >= 4 * 9 && n <= 4 * 64); /* four ~6-pixel points */
    d.cloud_index = 1;                      /* no such cloud */
    render_view(&view, &st);
    assert_int_equal(st.draws_invalid, 1);
}

static void test_shared_upload(void **state)
{
    char path[256], err[256];
    snprintf(path, sizeof(path), "%s/box.rrasset", g.dir);
    struct rr_asset *again = NULL;
    assert_int_equal(rr_asset_open(path, 0, &again, err, sizeof(err)), RR_ASSET_OK);
    uint64_t uploads = rr_renderer_upload_count(g.r);
    uint32_t count = rr_renderer_gpu_asset_count(g.r);
    struct rr_render_asset *h1 = NULL, *h2 = NULL;
    assert_true(rr_renderer_asset_get(g.r, again, &h1, err, sizeof(err)));
    assert_true(rr_renderer_asset_get(g.r, again, &h2, err, sizeof(err)));
    assert_ptr_equal(h1, h2);
    assert_int_equal(rr_renderer_upload_count(g.r), uploads); /* same content as g.box */
    assert_int_equal(rr_renderer_gpu_asset_count(g.r), count);
    /* The handle, not the struct rr_asset, keeps the GPU copy: draws through the second
     * pointer still work after its file is closed. */
    const struct rr_asset *key = again;
    rr_asset_close(&again);
    struct rr_scene_draw d = draw_of(key, 0);
    struct rr_scene_view view = {.draws = &d, .draw_count = 1};
    struct rr_render_stats st;
    render_view(&view, &st);
    assert_int_equal(st.draws_rendered, 1);
    rr_renderer_asset_release(g.r, &h1);
    assert_null(h1);
    rr_renderer_asset_release(g.r, &h2);
    assert_int_equal(rr_renderer_gpu_asset_count(g.r), count);
    render_view(&view, &st); /* unregistered now */
    assert_int_equal(st.draws_invalid, 1);

    assert_false(rr_renderer_asset_get(g.r, NULL, &h1, err, sizeof(err)));
    assert_null(h1);
}

static void test_invalid_draws(void **state)
{
    struct rr_scene_draw d[7];
    for (int i = 0; i < 7; i++)
        d[i] = draw_of(g.box, 0);
    d[0].world[5] = NAN;
    d[1].world[12] = INFINITY;
    d[2].mesh_index = 7;           /* out of range */
    d[3].asset = (const void *)&g; /* never registered */
    d[4].material_override = 99;   /* no such material */
    d[5].world[3] = 0.5f;          /* not affine */
    d[6].tint[0] = NAN;            /* undefined colour */
    struct rr_scene_draw ok = draw_of(g.box, 0);
    struct rr_scene_draw all[8];
    memcpy(all, d, sizeof(d));
    all[7] = ok;
    struct rr_scene_view view = {.draws = all, .draw_count = 8};
    struct rr_render_stats st;
    render_view(&view, &st);
    assert_int_equal(st.draws_invalid, 7);
    assert_int_equal(st.draws_rendered, 1);
    read_back(g.r);
    assert_false(is_background(px(EYE_W / 2, EYE_H / 2)));

    /* An empty view and a NULL view clear the target. */
    struct rr_scene_view empty = {0};
    render_view(&empty, &st);
    assert_int_equal(st.draws_total, 0);
    render_view(NULL, &st);
    read_back(g.r);
    assert_int_equal(covered(0, 0, EYE_W), 0);

    /* Bad eyes fail the frame with a message. */
    struct rr_render_eye eyes[2];
    eyes_at(eyes, 3.0f, identity_q);
    eyes[1].position[0] = NAN;
    char err[256] = "";
    assert_false(rr_renderer_draw(g.r, &view, eyes, &st, err, sizeof(err)));
    assert_non_null(strstr(err, "eye"));
    eyes_at(eyes, 3.0f, identity_q);
    eyes[0].angle_left = 0.6f; /* left of right */
    assert_false(rr_renderer_draw(g.r, &view, eyes, &st, err, sizeof(err)));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create_errors),
        cmocka_unit_test(test_box_visible_stereo),
        cmocka_unit_test(test_culling),
        cmocka_unit_test(test_budget_checkerboard),
        cmocka_unit_test(test_cut_plane),
        cmocka_unit_test(test_tint_override_selection),
        cmocka_unit_test(test_see_through_sorted),
        cmocka_unit_test(test_instancing_and_mirroring),
        cmocka_unit_test(test_engine_model),
        cmocka_unit_test(test_point_cloud),
        cmocka_unit_test(test_shared_upload),
        cmocka_unit_test(test_invalid_draws),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
