/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_render — libopenrr_render on real assets: models from Debian's assimp-testmodels are
 * converted with openrr-convert at test time (RR_CONVERT_TOOL, set by src/render's CMake) and
 * rendered through Mesa llvmpipe (EGL surfaceless or Mesa's software device). Checks read the
 * side-by-side texture back: the model is where the eyes look, the eyes differ, culling,
 * the budget checkerboard, cut planes, tint / override / see-through / selection, point
 * clouds, sharing of uploads, and bad draws that must be skipped and counted. The culling tree
 * (render_bvh.h) is checked against the per-box frustum test on random scenes and eyes, and
 * rr_frame_cull's reuse of it against the linear loop.
 *
 * The renderers are destroyed but the EGL display is never terminated (the renderer does not
 * call eglTerminate): Mesa leaves 240 bytes behind at eglTerminate that LeakSanitizer cannot
 * suppress, and the display is a process-wide singleton the other renderers here share.
 */
#include "render.h"
#include "render_bvh.h"
#include "render_frame.h"
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

/* ---- the culling tree -------------------------------------------------------------------- */

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static float frand(float lo, float hi)
{
    rng ^= rng << 13; /* xorshift64 */
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return lo + (hi - lo) * (float)(rng >> 40) / (float)(1u << 24);
}

static void random_quat(float q[4])
{
    float l = 0.0f;
    while (!(l > 0.01f)) {
        for (int i = 0; i < 4; i++)
            q[i] = frand(-1.0f, 1.0f);
        l = sqrtf(q[0] * q[0] + q[1] * q[1] + q[2] * q[2] + q[3] * q[3]);
    }
    for (int i = 0; i < 4; i++)
        q[i] /= l;
}

/* Column-major rotation of unit quaternion @p q (x, y, z, w) scaled per axis, then moved. */
static void trs(float m[16], const float t[3], const float q[4], const float sc[3])
{
    float x = q[0], y = q[1], z = q[2], w = q[3];
    float r[3][3] = {
        {1 - 2 * (y * y + z * z), 2 * (x * y + z * w), 2 * (x * z - y * w)},
        {2 * (x * y - z * w), 1 - 2 * (x * x + z * z), 2 * (y * z + x * w)},
        {2 * (x * z + y * w), 2 * (y * z - x * w), 1 - 2 * (x * x + y * y)},
    };
    memset(m, 0, 16 * sizeof(float));
    for (int c = 0; c < 3; c++)
        for (int row = 0; row < 3; row++)
            m[c * 4 + row] = r[c][row] * sc[c];
    m[12] = t[0], m[13] = t[1], m[14] = t[2], m[15] = 1.0f;
}

/* A random local box under a random transform: spread out, in clusters, or degenerate. */
static void random_prim(struct rr_bvh_prim *p, uint32_t draw, int kind)
{
    static const float clusters[4][3] = {{5, 0, -10}, {-20, 3, 4}, {0, -15, 30}, {40, 40, 40}};
    float bmin[3], bmax[3], t[3], q[4], sc[3];
    for (int i = 0; i < 3; i++) {
        float c = frand(-1.0f, 1.0f), h = frand(0.0f, 1.0f) < 0.1f ? 0.0f : frand(0.0f, 2.0f);
        bmin[i] = c - h;
        bmax[i] = c + h;
        sc[i] = frand(0.05f, 4.0f);
    }
    if (frand(0.0f, 1.0f) < 0.1f)
        sc[0] = -sc[0]; /* mirrored */
    random_quat(q);
    float r = frand(0.0f, 1.0f);
    for (int i = 0; i < 3; i++) {
        if (kind == 1) /* every box at the same place */
            t[i] = 1.5f;
        else if (kind == 2) /* on a line */
            t[i] = i == 0 ? frand(-200.0f, 200.0f) : 0.0f;
        else if (r < 0.3f)
            t[i] = clusters[draw % 4][i] + frand(-2.0f, 2.0f);
        else
            t[i] = frand(-60.0f, 60.0f);
    }
    float m[16];
    trs(m, t, q, sc);
    rr_box_transform(m, bmin, bmax, p->centre, p->half);
    p->draw = draw;
}

/* An eye as the renderer sets it up (renderer.c eye_setup), near plane 5 cm. */
static void frame_eye(struct rr_frame_eye *out, const float pos[3], const float q[4], float l,
                      float r, float u, float d)
{
    float view[16], proj[16];
    rr_mat4_view_from_pose(view, pos, q);
    rr_mat4_projection_fov(proj, l, r, u, d, 0.05f);
    rr_mat4_mul(out->view_proj, proj, view);
    memcpy(out->position, pos, sizeof(out->position));
    rr_frustum_from_matrix(&out->frustum, out->view_proj);
}

static void random_eyes(struct rr_frame_eye fe[2])
{
    float pos[3], q[4];
    for (int i = 0; i < 3; i++)
        pos[i] = frand(0.0f, 1.0f) < 0.1f ? frand(-300.0f, 300.0f) : frand(-50.0f, 50.0f);
    random_quat(q);
    float l = frand(-1.5f, 0.4f), r = frand(l + 0.02f, 1.5f);
    float d = frand(-1.5f, 0.4f), u = frand(d + 0.02f, 1.5f);
    frame_eye(&fe[0], pos, q, l, r, u, d);
    if (frand(0.0f, 1.0f) < 0.5f) { /* a second eye beside the first, or anywhere */
        pos[0] += frand(0.05f, 2.0f);
    } else {
        for (int i = 0; i < 3; i++)
            pos[i] = frand(-50.0f, 50.0f);
        random_quat(q);
        l = frand(-1.5f, 0.4f), r = frand(l + 0.02f, 1.5f);
        d = frand(-1.5f, 0.4f), u = frand(d + 0.02f, 1.5f);
    }
    frame_eye(&fe[1], pos, q, l, r, u, d);
}

/* The tree's shape: leaves of at most RR_BVH_LEAF_SIZE, children that split their parent's
 * run, every node's box around its boxes and no larger than their union, every draw exactly
 * once. */
static void check_tree(const struct rr_bvh *t, size_t count)
{
    assert_int_equal(t->prim_count + t->loose_count, count);
    uint8_t *seen = calloc(count ? count : 1, 1);
    assert_non_null(seen);
    for (size_t i = 0; i < t->prim_count; i++)
        seen[t->prims[i].draw]++;
    for (size_t i = 0; i < t->loose_count; i++)
        seen[t->loose[i].draw]++;
    for (size_t i = 0; i < count; i++)
        assert_int_equal(seen[i], 1);
    free(seen);
    if (t->prim_count == 0) {
        assert_int_equal(t->node_count, 0);
        return;
    }
    assert_int_equal(t->nodes[0].first, 0);
    assert_int_equal(t->nodes[0].count, t->prim_count);
    for (size_t k = 0; k < t->node_count; k++) {
        const struct rr_bvh_node *n = &t->nodes[k];
        float lo[3] = {INFINITY, INFINITY, INFINITY}, hi[3] = {-INFINITY, -INFINITY, -INFINITY};
        for (uint32_t i = n->first; i < n->first + n->count; i++) {
            for (int e = 0; e < 3; e++) {
                lo[e] = fminf(lo[e], t->prims[i].centre[e] - t->prims[i].half[e]);
                hi[e] = fmaxf(hi[e], t->prims[i].centre[e] + t->prims[i].half[e]);
            }
        }
        assert_memory_equal(lo, n->lo, sizeof(lo));
        assert_memory_equal(hi, n->hi, sizeof(hi));
        if (n->left == 0) {
            assert_true(n->count >= 1 && n->count <= RR_BVH_LEAF_SIZE);
        } else {
            const struct rr_bvh_node *a = &t->nodes[n->left], *b = &t->nodes[n->left + 1];
            assert_true(n->left > k && n->left + 1 < t->node_count);
            assert_int_equal(a->first, n->first);
            assert_int_equal(b->first, a->first + a->count);
            assert_int_equal(a->count + b->count, n->count);
            assert_true(a->count > 0 && b->count > 0);
        }
        for (uint32_t i = n->first; i < n->first + n->count; i++) {
            const struct rr_bvh_prim *p = &t->prims[i];
            for (int e = 0; e < 3; e++) { /* exactly: min and max do not round */
                assert_true(p->centre[e] - p->half[e] >= n->lo[e]);
                assert_true(p->centre[e] + p->half[e] <= n->hi[e]);
            }
        }
    }
}

static void test_bvh_matches_linear(void **state)
{
    enum { BOXES = 1000, SCENES = 8, EYE_PAIRS = 150 };
    struct rr_bvh_prim *prims = calloc(BOXES, sizeof(*prims));
    uint8_t *masks = calloc(BOXES, 1);
    assert_non_null(prims);
    assert_non_null(masks);
    struct rr_bvh t;
    memset(&t, 0, sizeof(t));
    unsigned long long outside = 0, inside = 0, tested = 0, seen_mask[4] = {0};
    for (int s = 0; s < SCENES + 3; s++) {
        /* Eight scenes of 1000 boxes (one all at one place, one on a line, one with boxes
         * that overflowed), then 0, 1 and 5 boxes. */
        size_t count = s < SCENES ? BOXES : s == SCENES ? 0 : s == SCENES + 1 ? 1 : 5;
        for (size_t i = 0; i < count; i++)
            random_prim(&prims[i], (uint32_t)i, s == 1 ? 1 : s == 2 ? 2 : 0);
        if (s == 3) {
            prims[10].half[1] = INFINITY;
            prims[11].centre[0] = 3e38f;
            prims[11].half[0] = 3e38f; /* its far side overflows */
        }
        assert_true(rr_bvh_build(&t, prims, count));
        check_tree(&t, count);
        assert_int_equal(t.loose_count, s == 3 ? 2 : 0);
        for (int k = 0; k < EYE_PAIRS; k++) {
            struct rr_frame_eye fe[2];
            random_eyes(fe);
            const struct rr_frustum frusta[2] = {fe[0].frustum, fe[1].frustum};
            memset(masks, 0, BOXES);
            struct rr_bvh_cull_stats st;
            size_t visible = rr_bvh_cull(&t, frusta, masks, &st);
            size_t expect_visible = 0;
            for (size_t i = 0; i < count; i++) {
                unsigned expect = 0;
                for (int e = 0; e < 2; e++)
                    if (rr_frustum_test_box(&frusta[e], prims[i].centre, prims[i].half))
                        expect |= 1u << e;
                if (masks[i] != expect)
                    fprintf(stderr, "scene %d eyes %d box %zu: tree %u, test %u\n", s, k, i,
                            masks[i], expect);
                assert_int_equal(masks[i], expect);
                expect_visible += expect != 0;
                seen_mask[expect]++;
            }
            assert_int_equal(visible, expect_visible);
            outside += st.nodes_outside;
            inside += st.nodes_inside;
            tested += st.boxes_tested;
        }
    }
    /* Every kind of node and box was met, and whole subtrees were taken without tests. */
    assert_true(outside > 0 && inside > 0);
    assert_true(seen_mask[0] > 0 && seen_mask[1] > 0 && seen_mask[2] > 0 && seen_mask[3] > 0);
    assert_true(tested < (unsigned long long)(SCENES * BOXES * EYE_PAIRS));
    assert_false(rr_bvh_build(&t, prims, (size_t)RR_BVH_MAX_PRIMS + 1));
    assert_int_equal(t.node_count + t.prim_count, 0);
    rr_bvh_free(&t);
    free(prims);
    free(masks);
}

/* rr_frame_cull on @p plan: its counts, and the path it took. */
static enum rr_frame_cull_path cull_with(struct rr_frame_plan *plan, struct rr_asset_registry *reg,
                                         const struct rr_scene_view *view,
                                         const struct rr_frame_eye fe[2], bool cull,
                                         struct rr_frame_counts *counts, size_t *visible)
{
    memset(counts, 0, sizeof(*counts));
    assert_true(rr_frame_cull(plan, reg, view, fe, cull, counts, visible));
    struct rr_frame_cull_info info;
    rr_frame_cull_info(plan, &info);
    return info.last_path;
}

/* Cull @p view through @p plan and through the linear loop (generation 0, its own plan):
 * same counts, same visible list, same records. Returns the path @p plan took. */
static enum rr_frame_cull_path cull_and_compare(struct rr_frame_plan *plan,
                                                struct rr_asset_registry *reg,
                                                const struct rr_scene_view *view,
                                                const struct rr_frame_eye fe[2])
{
    static struct rr_frame_plan ref;
    struct rr_scene_view linear = *view;
    linear.generation = 0;
    struct rr_frame_counts a, b;
    size_t va = 0, vb = 0;
    enum rr_frame_cull_path path = cull_with(plan, reg, view, fe, true, &a, &va);
    assert_int_equal(cull_with(&ref, reg, &linear, fe, true, &b, &vb),
                     view->draw_count ? RR_FRAME_CULL_LINEAR : RR_FRAME_CULL_NONE);
    assert_int_equal(va, vb);
    assert_int_equal(a.draws_rendered, b.draws_rendered);
    assert_int_equal(a.draws_culled, b.draws_culled);
    assert_int_equal(a.draws_invalid, b.draws_invalid);
    assert_int_equal(a.triangles_visible, b.triangles_visible);
    assert_int_equal(a.points_visible, b.points_visible);
    for (size_t i = 0; i < va; i++) {
        assert_int_equal(plan->visible[i].draw, ref.visible[i].draw);
        assert_int_equal(plan->visible[i].mask, ref.visible[i].mask);
        assert_ptr_equal(plan->visible[i].gpu, ref.visible[i].gpu);
        assert_memory_equal(plan->visible[i].centre, ref.visible[i].centre,
                            sizeof(ref.visible[i].centre));
        assert_memory_equal(&plan->records[i], &ref.records[i], sizeof(ref.records[i]));
    }
    if (view->draw_count == 0)
        rr_frame_plan_free(&ref);
    return path;
}

static uint64_t builds_of(const struct rr_frame_plan *plan)
{
    struct rr_frame_cull_info info;
    rr_frame_cull_info(plan, &info);
    return info.builds;
}

static void test_bvh_reuse(void **state)
{
    /* Its own registry and plan (the renderer's context is current: uploads work). */
    struct rr_asset_registry reg;
    memset(&reg, 0, sizeof(reg));
    struct rr_render_asset *box = NULL, *engine = NULL;
    char err[256] = "";
    assert_true(rr_asset_registry_get(&reg, g.box, &box, err, sizeof(err)));
    enum { N = 200 };
    struct rr_scene_draw d[N];
    for (int i = 0; i < N; i++) {
        d[i] = draw_of(g.box, 0);
        d[i].world[12] = (float)(i % 20) * 2.0f - 19.0f;
        d[i].world[14] = -(float)(i / 20) * 3.0f;
    }
    for (int i = 0; i < 10; i++)
        d[i * 7] = draw_of(g.engine, 0), d[i * 7].world[14] = -4.0f; /* not registered here */
    struct rr_frame_eye fe[2];
    const float pos[2][3] = {{-0.032f, 0, 3}, {0.032f, 0, 3}};
    for (int e = 0; e < 2; e++)
        frame_eye(&fe[e], pos[e], identity_q, -0.52f, 0.52f, 0.45f, -0.45f);
    struct rr_frame_plan plan;
    memset(&plan, 0, sizeof(plan));
    struct rr_scene_view view = {.draws = d, .draw_count = N, .generation = 7};
    struct rr_frame_counts c;
    size_t vis;

    /* A generation seen the first time is culled linearly, the second time a tree is built,
     * from then on it is reused. */
    assert_int_equal(cull_and_compare(&plan, &reg, &view, fe), RR_FRAME_CULL_LINEAR);
    assert_int_equal(builds_of(&plan), 0);
    assert_int_equal(cull_and_compare(&plan, &reg, &view, fe), RR_FRAME_CULL_BUILD);
    assert_int_equal(builds_of(&plan), 1);
    for (int k = 0; k < 3; k++)
        assert_int_equal(cull_and_compare(&plan, &reg, &view, fe), RR_FRAME_CULL_BVH);
    cull_with(&plan, &reg, &view, fe, true, &c, &vis);
    assert_true(c.draws_rendered > 0 && c.draws_culled > 0);
    assert_int_equal(c.draws_invalid, 10);
    struct rr_frame_cull_info info;
    rr_frame_cull_info(&plan, &info);
    assert_int_equal(info.builds, 1);
    assert_int_equal(info.reuses, 4);
    assert_true(info.last_stats.nodes_visited > 0);
    /* Other eyes, same tree. */
    const float turned[4] = {0.0f, 0.38268343f, 0.0f, 0.92387953f}; /* 45° left */
    struct rr_frame_eye fe2[2];
    for (int e = 0; e < 2; e++)
        frame_eye(&fe2[e], pos[e], turned, -0.52f, 0.52f, 0.45f, -0.45f);
    assert_int_equal(cull_and_compare(&plan, &reg, &view, fe2), RR_FRAME_CULL_BVH);
    assert_int_equal(builds_of(&plan), 1);

    /* A new generation: linear once, then a new tree. */
    d[199].world[12] = 0.0f; /* moved into view */
    view.generation = 8;
    assert_int_equal(cull_and_compare(&plan, &reg, &view, fe), RR_FRAME_CULL_LINEAR);
    assert_int_equal(cull_and_compare(&plan, &reg, &view, fe), RR_FRAME_CULL_BUILD);
    assert_int_equal(cull_and_compare(&plan, &reg, &view, fe), RR_FRAME_CULL_BVH);
    assert_int_equal(builds_of(&plan), 2);
    /* The naive baseline in between changes nothing. */
    assert_int_equal(cull_with(&plan, &reg, &view, fe, false, &c, &vis), RR_FRAME_CULL_NONE);
    assert_int_equal(c.draws_rendered + c.draws_invalid, N);
    assert_int_equal(cull_and_compare(&plan, &reg, &view, fe), RR_FRAME_CULL_BVH);

    /* Another draw count under the same generation is another view. */
    view.draw_count = N - 1;
    assert_int_equal(cull_and_compare(&plan, &reg, &view, fe), RR_FRAME_CULL_LINEAR);
    assert_int_equal(cull_and_compare(&plan, &reg, &view, fe), RR_FRAME_CULL_BUILD);
    assert_int_equal(builds_of(&plan), 3);
    view.draw_count = N;

    /* Generation 0: never a tree. Small views: never a tree. */
    view.generation = 0;
    for (int k = 0; k < 3; k++)
        assert_int_equal(cull_and_compare(&plan, &reg, &view, fe), RR_FRAME_CULL_LINEAR);
    struct rr_scene_view small = {
        .draws = d, .draw_count = RR_FRAME_BVH_MIN_DRAWS - 1, .generation = 9};
    for (int k = 0; k < 3; k++)
        assert_int_equal(cull_and_compare(&plan, &reg, &small, fe), RR_FRAME_CULL_LINEAR);
    assert_int_equal(builds_of(&plan), 3);

    /* An asset registered (or released) under the same generation changes what is valid:
     * the tree is built again, the counts follow. */
    view.generation = 10;
    cull_and_compare(&plan, &reg, &view, fe);
    assert_int_equal(cull_and_compare(&plan, &reg, &view, fe), RR_FRAME_CULL_BUILD);
    assert_true(rr_asset_registry_get(&reg, g.engine, &engine, err, sizeof(err)));
    assert_int_equal(cull_and_compare(&plan, &reg, &view, fe), RR_FRAME_CULL_BUILD);
    cull_with(&plan, &reg, &view, fe, true, &c, &vis);
    assert_int_equal(c.draws_invalid, 0);
    /* Draws of a mesh without indices count as culled, tree or not (this registry's copy of
     * the engine is only ours: make its mesh 1 such a mesh). */
    struct rr_gpu_asset *ge = rr_asset_registry_find(&reg, g.engine);
    uint32_t indices = ge->meshes[1].index_count;
    ge->meshes[1].index_count = 0;
    for (int i = 0; i < 5; i++)
        d[100 + i] = draw_of(g.engine, 1), d[100 + i].world[14] = -4.0f;
    view.generation = 11;
    assert_int_equal(cull_and_compare(&plan, &reg, &view, fe), RR_FRAME_CULL_LINEAR);
    assert_int_equal(cull_and_compare(&plan, &reg, &view, fe), RR_FRAME_CULL_BUILD);
    assert_int_equal(cull_and_compare(&plan, &reg, &view, fe), RR_FRAME_CULL_BVH);
    struct rr_frame_counts lin;
    view.generation = 0;
    cull_with(&plan, &reg, &view, fe, true, &lin, &vis);
    view.generation = 11;
    cull_with(&plan, &reg, &view, fe, true, &c, &vis);
    assert_int_equal(c.draws_culled, lin.draws_culled);
    assert_true(c.draws_culled >= 5);
    ge->meshes[1].index_count = indices;
    rr_asset_registry_release(&reg, engine);
    assert_int_equal(cull_and_compare(&plan, &reg, &view, fe), RR_FRAME_CULL_BUILD);
    assert_int_equal(cull_and_compare(&plan, &reg, &view, fe), RR_FRAME_CULL_BVH);
    assert_int_equal(builds_of(&plan), 7);

    /* A visible draw made invalid without a new generation (the view breaks its contract)
     * is still never drawn: the frame falls back to the linear loop and builds anew. */
    size_t visible_draw = plan.visible[0].draw;
    d[visible_draw].mesh_index = 99;
    assert_int_equal(cull_and_compare(&plan, &reg, &view, fe), RR_FRAME_CULL_BUILD);
    cull_with(&plan, &reg, &view, fe, true, &c, &vis);
    assert_int_equal(c.draws_invalid, 16); /* the engine's 15 again, and this one */
    for (size_t i = 0; i < vis; i++)
        assert_int_not_equal(plan.visible[i].draw, visible_draw);

    struct rr_scene_view empty = {0};
    cull_and_compare(&plan, &reg, &empty, fe); /* frees the reference plan */
    rr_frame_plan_free(&plan);
    rr_asset_registry_release(&reg, box);
    assert_int_equal(reg.gpu_count, 0);
}

static void test_bvh_counts_match_linear(void **state)
{
    /* A 40 × 40 field of boxes around the eyes, with engine parts, a point cloud and a few
     * bad draws among them; looked at from several directions, partly in view each time. */
    enum { SIDE = 40, N = SIDE * SIDE };
    struct rr_scene_draw *d = calloc(N, sizeof(*d));
    assert_non_null(d);
    for (int i = 0; i < N; i++) {
        d[i] = draw_of(i % 50 == 3 ? g.engine : g.box, 0);
        d[i].world[12] = (float)(i % SIDE) * 2.0f - SIDE + 1.0f;
        d[i].world[13] = -1.5f;
        d[i].world[14] = (float)(i / SIDE) * 2.0f - SIDE + 1.0f;
        if (i % 50 == 3)
            d[i].world[0] = d[i].world[5] = d[i].world[10] = 0.005f; /* mm → a box's size */
    }
    d[5] = draw_of(g.points, UINT32_MAX);
    d[5].world[14] = -3.0f;
    d[77].world[0] = NAN;
    d[78].mesh_index = 42;
    struct rr_scene_view view = {.draws = d, .draw_count = N};
    const float yaws[] = {0.0f, 1.2f, 2.5f, 4.0f};
    uint8_t *linear_pixels = malloc(2 * EYE_W * EYE_H * 4);
    assert_non_null(linear_pixels);
    for (size_t k = 0; k < sizeof(yaws) / sizeof(yaws[0]); k++) {
        const float q[4] = {0.0f, sinf(yaws[k] / 2), 0.0f, cosf(yaws[k] / 2)};
        struct rr_render_eye eyes[2];
        eyes_at(eyes, 0.0f, q);
        struct rr_render_stats lin, tree;
        view.generation = 0;
        render(g.r, d, N, eyes, &lin); /* render() builds a generation-0 view */
        read_back(g.r);
        memcpy(linear_pixels, g.pixels, 2 * EYE_W * EYE_H * 4);
        view.generation = 1000 + k;
        char err[256] = "";
        for (int f = 0; f < 3; f++) /* linear, build, then over the tree */
            assert_true(rr_renderer_draw(g.r, &view, eyes, &tree, err, sizeof(err)));
        assert_int_equal(lin.draws_total, N);
        assert_true(lin.draws_rendered > 0 && lin.draws_rendered < N / 2);
        assert_int_equal(tree.draws_rendered, lin.draws_rendered);
        assert_int_equal(tree.draws_culled, lin.draws_culled);
        assert_int_equal(tree.draws_invalid, 2);
        assert_int_equal(lin.draws_invalid, 2);
        assert_int_equal(tree.triangles_visible, lin.triangles_visible);
        assert_int_equal(tree.points_visible, lin.points_visible);
        assert_int_equal(tree.triangles_rendered, lin.triangles_rendered);
        assert_int_equal(tree.gl_draw_calls, lin.gl_draw_calls);
        read_back(g.r);
        assert_memory_equal(g.pixels, linear_pixels, 2 * EYE_W * EYE_H * 4);
    }
    free(linear_pixels);
    free(d);
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
        cmocka_unit_test(test_bvh_matches_linear),
        cmocka_unit_test(test_bvh_reuse),
        cmocka_unit_test(test_bvh_counts_match_linear),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
