/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_render_look — how the renderer's per-draw state looks, read back from the side-by-side
 * texture rendered by Mesa llvmpipe (EGL surfaceless or Mesa's software device): the selection
 * outline (a ring just outside the silhouette, never over the object, drawn only when
 * something is selected) and the tint (a blend towards its colour by its alpha that leaves the
 * object opaque). BoxTextured and points.ply from Debian's assimp-testmodels are converted with
 * openrr-convert at test time (RR_CONVERT_TOOL, set in tests/unit/CMakeLists.txt).
 *
 * As in test_render, the EGL display is never terminated (Mesa leaks at eglTerminate).
 */
#include "render.h"
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
    struct rr_asset *box;    /* BoxTextured: unit cube at the origin, with normals */
    struct rr_asset *points; /* points.ply: a 4-point cloud */
    struct rr_render_asset *box_h, *points_h;
    uint8_t *pixels;     /* 2·EYE_W × EYE_H × 4, row 0 at the bottom */
    uint8_t *silhouette; /* 2·EYE_W × EYE_H, 1 where an unselected render covered */
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
        fprintf(stderr, "test_render_look: %s: %s\n", path, err);
        return NULL;
    }
    return a;
}
#endif

static int setup(void **state)
{
#ifndef RR_CONVERT_TOOL
    fprintf(stderr, "test_render_look: openrr-convert was not built; nothing to render\n");
    return -1;
#else
    snprintf(g.dir, sizeof(g.dir), "/tmp/test_render_look.XXXXXX");
    if (!mkdtemp(g.dir))
        return -1;
    if (!convert(MODELS "/glTF2/BoxTextured-glTF/BoxTextured.gltf", "box") ||
        !convert(MODELS "/PLY/points.ply", "points")) {
        fprintf(stderr, "test_render_look: openrr-convert failed\n");
        return -1;
    }
    g.box = open_converted("box");
    g.points = open_converted("points");
    if (!g.box || !g.points)
        return -1;
    char err[256];
    struct rr_renderer_config cfg = {
        .eye_width = EYE_W,
        .eye_height = EYE_H,
        .clear_colour = {0.0f, 0.0f, 0.0f, 1.0f},
        .point_size = 6.0f,
    };
    if (!rr_renderer_create(&cfg, &g.r, err, sizeof(err)) ||
        !rr_renderer_asset_get(g.r, g.box, &g.box_h, err, sizeof(err)) ||
        !rr_renderer_asset_get(g.r, g.points, &g.points_h, err, sizeof(err))) {
        fprintf(stderr, "test_render_look: %s\n", err);
        return -1;
    }
    g.pixels = malloc(2 * EYE_W * EYE_H * 4);
    g.silhouette = malloc(2 * EYE_W * EYE_H);
    return g.pixels && g.silhouette ? 0 : -1;
#endif
}

static int teardown(void **state)
{
    if (g.r) {
        rr_renderer_make_current(g.r, NULL, 0);
        rr_renderer_asset_release(g.r, &g.box_h);
        rr_renderer_asset_release(g.r, &g.points_h);
        rr_renderer_destroy(&g.r);
    }
    rr_asset_close(&g.box);
    rr_asset_close(&g.points);
    free(g.pixels);
    free(g.silhouette);
    if (g.dir[0]) {
        char cmd[128];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", g.dir);
        if (system(cmd) != 0)
            fprintf(stderr, "test_render_look: could not remove %s\n", g.dir);
    }
    return 0;
}

/* ---- helpers --------------------------------------------------------------------------- */

static struct rr_scene_draw draw_of(const struct rr_asset *a, uint32_t mesh)
{
    return (struct rr_scene_draw){
        .asset = a,
        .mesh_index = mesh,
        .world = {1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1},
        .tint = {1, 1, 1, 1},
        .material_override = -1,
    };
}

/* Both eyes 3 m in front of the origin looking along −Z, 6.4 cm apart, about ±30° wide. */
static void render(const struct rr_scene_draw *draws, size_t n, const struct rr_cut_plane *cut,
                   struct rr_render_stats *st)
{
    struct rr_render_eye eyes[2];
    for (int e = 0; e < 2; e++) {
        eyes[e] = (struct rr_render_eye){
            .position = {e ? 0.032f : -0.032f, 0.0f, 3.0f},
            .orientation = {0, 0, 0, 1},
            .angle_left = -0.52f,
            .angle_right = 0.52f,
            .angle_up = 0.45f,
            .angle_down = -0.45f,
        };
    }
    struct rr_scene_view view = {.draws = draws, .draw_count = n};
    if (cut) {
        view.cut_planes[0] = *cut;
        view.cut_plane_count = 1;
    }
    char err[256] = "";
    bool ok = rr_renderer_draw(g.r, &view, eyes, st, err, sizeof(err));
    if (!ok)
        fprintf(stderr, "draw: %s\n", err);
    assert_true(ok);
    glGetTextureImage(rr_renderer_texture(g.r), 0, GL_RGBA, GL_UNSIGNED_BYTE, 2 * EYE_W * EYE_H * 4,
                      g.pixels);
    assert_int_equal(glGetError(), GL_NO_ERROR);
}

/* With RR_RENDER_DUMP=DIR set, write the last read-back as DIR/look_NAME.ppm (top row first). */
static void dump(const char *name)
{
    const char *dir = getenv("RR_RENDER_DUMP");
    if (!dir)
        return;
    char path[512];
    snprintf(path, sizeof(path), "%s/look_%s.ppm", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f)
        return;
    fprintf(f, "P6 %d %d 255\n", 2 * EYE_W, EYE_H);
    for (int y = EYE_H - 1; y >= 0; y--)
        for (int x = 0; x < 2 * EYE_W; x++)
            fwrite(g.pixels + ((size_t)y * 2 * EYE_W + (size_t)x) * 4, 1, 3, f);
    fclose(f);
}

static const uint8_t *px(int x, int y)
{
    return g.pixels + ((size_t)y * 2 * EYE_W + (size_t)x) * 4;
}

static bool is_background(const uint8_t *p)
{
    return p[0] == 0 && p[1] == 0 && p[2] == 0;
}

static double srgb_encode(double c)
{
    return c <= 0.0031308 ? 12.92 * c : 1.055 * pow(c, 1.0 / 2.4) - 0.055;
}

static double srgb_decode(double v)
{
    v /= 255.0;
    return v <= 0.04045 ? v / 12.92 : pow((v + 0.055) / 1.055, 2.4);
}

/* The outline's flat colour: linear (1, 0.45, 0.05), sRGB-encoded as every output is. */
static bool is_outline(const uint8_t *p)
{
    static const double linear[3] = {1.0, 0.45, 0.05};
    for (int c = 0; c < 3; c++)
        if (fabs(p[c] - 255.0 * srgb_encode(linear[c])) > 3.0)
            return false;
    return true;
}

/* Remember the covered pixels of the last read-back as the silhouette. */
static unsigned keep_silhouette(void)
{
    unsigned n = 0;
    for (int y = 0; y < EYE_H; y++)
        for (int x = 0; x < 2 * EYE_W; x++)
            n += g.silhouette[y * 2 * EYE_W + x] = !is_background(px(x, y));
    return n;
}

/* Chessboard distance from (x, y) to the silhouette within the pixel's own eye: 0 inside,
 * up to @p max (meaning "max or more"). */
static int distance_to_silhouette(int x, int y, int max)
{
    int eye0 = x < EYE_W ? 0 : EYE_W;
    for (int d = 0; d < max; d++)
        for (int dy = -d; dy <= d; dy++)
            for (int dx = -d; dx <= d; dx++) {
                int xx = x + dx, yy = y + dy;
                if ((abs(dx) != d && abs(dy) != d) || xx < eye0 || xx >= eye0 + EYE_W || yy < 0 ||
                    yy >= EYE_H)
                    continue;
                if (g.silhouette[yy * 2 * EYE_W + xx])
                    return d;
            }
    return max;
}

/* Outline pixels of the last read-back by their distance to the silhouette: out[d] for
 * d = 0..7 (7 = 7 or more), and how many pixels there are at each distance. */
static void outline_by_distance(unsigned out[8], unsigned total[8])
{
    memset(out, 0, 8 * sizeof(*out));
    memset(total, 0, 8 * sizeof(*total));
    for (int y = 0; y < EYE_H; y++)
        for (int x = 0; x < 2 * EYE_W; x++) {
            int d = distance_to_silhouette(x, y, 7);
            total[d]++;
            out[d] += is_outline(px(x, y));
        }
}

/* Mean linear colour of a 9×9 block around the centre of the left eye. */
static void centre_linear(double out[3])
{
    out[0] = out[1] = out[2] = 0;
    for (int dy = -4; dy <= 4; dy++)
        for (int dx = -4; dx <= 4; dx++)
            for (int c = 0; c < 3; c++)
                out[c] += srgb_decode(px(EYE_W / 2 + dx, EYE_H / 2 + dy)[c]) / 81.0;
}

/* ---- tests ----------------------------------------------------------------------------- */

/* A selected cube gets an orange ring just outside its silhouette, nothing further out, and
 * only while it is selected; the ring never covers the cube itself. */
static void test_outline_ring(void **state)
{
    struct rr_scene_draw d = draw_of(g.box, 0);
    /* A blue cube: its lit colour (with or without the faint fill) is far from orange. */
    memcpy(d.colour_override, (float[4]){0.1f, 0.3f, 1.0f, 1.0f}, sizeof(d.colour_override));
    struct rr_render_stats st;
    render(&d, 1, NULL, &st);
    dump("unselected");
    unsigned area = keep_silhouette();
    assert_true(area > 2 * 400);
    assert_int_equal(st.outline_draws, 0);
    unsigned out[8], total[8];
    outline_by_distance(out, total);
    for (int k = 0; k < 8; k++)
        assert_int_equal(out[k], 0);

    d.flags = RR_DRAW_SELECTED;
    render(&d, 1, NULL, &st);
    dump("selected");
    /* Two passes (stencil, ring) of one multi-draw per eye, on top of the scene's 2. */
    assert_int_equal(st.outline_draws, 4);
    assert_int_equal(st.gl_draw_calls, 6);
    outline_by_distance(out, total);
    /* 3 pixels wide: nearly every pixel 1 or 2 away from the silhouette is orange (hard cube
     * edges may leave a notch at a corner), many at 3, none from 4 on. */
    assert_true(total[1] > 100 && total[2] > 100);
    assert_true(out[1] >= total[1] * 95 / 100);
    assert_true(out[2] >= total[2] * 90 / 100);
    assert_true(out[3] >= total[3] / 2);
    for (int k = 4; k < 8; k++)
        assert_int_equal(out[k], 0);
    /* Test 2: the ring stays outside: no orange on the cube (its pixels are all inside the
     * stencil of the same geometry). */
    assert_int_equal(out[0], 0);
    for (int y = 0; y < EYE_H; y++)
        for (int x = 0; x < 2 * EYE_W; x++)
            if (g.silhouette[y * 2 * EYE_W + x])
                assert_false(is_background(px(x, y)));

    /* Deselected again: the ring is gone. */
    d.flags = 0;
    render(&d, 1, NULL, &st);
    outline_by_distance(out, total);
    assert_int_equal(out[1] + out[2] + out[3], 0);
    assert_int_equal(st.outline_draws, 0);
}

/* The stencil marks the whole silhouette, depth test off: a selected cube hidden behind a
 * bigger one is outlined on top of it, and the occluder's pixels over the hidden cube stay
 * unpainted. */
static void test_outline_hidden_object(void **state)
{
    struct rr_scene_draw d[2] = {draw_of(g.box, 0), draw_of(g.box, 0)};
    d[0].world[0] = d[0].world[5] = d[0].world[10] = 0.5f; /* 0.5 m, 1 m behind the origin */
    d[0].world[14] = -1.0f;
    memcpy(d[1].colour_override, (float[4]){0.1f, 0.3f, 1.0f, 1.0f}, sizeof(d[1].colour_override));
    struct rr_render_stats st;
    render(&d[0], 1, NULL, &st); /* the small cube alone, unselected: its silhouette */
    keep_silhouette();
    d[0].flags = RR_DRAW_SELECTED;
    render(d, 2, NULL, &st); /* selected, behind the 1 m occluder */
    dump("hidden");
    unsigned out[8], total[8];
    outline_by_distance(out, total);
    assert_true(out[1] >= total[1] * 9 / 10);
    assert_int_equal(out[0], 0);
    assert_int_equal(out[4] + out[5] + out[6] + out[7], 0);
    assert_int_equal(st.outline_draws, 4);
}

/* A cut selected cube is outlined around what is left of it. */
static void test_outline_follows_cut(void **state)
{
    struct rr_scene_draw d = draw_of(g.box, 0);
    d.flags = RR_DRAW_USE_CUT_PLANES | RR_DRAW_SELECTED;
    const struct rr_cut_plane keep_right = {.normal = {1, 0, 0}, .distance = 0};
    struct rr_render_stats st;
    render(&d, 1, &keep_right, &st);
    dump("cut");
    unsigned left = 0, right = 0;
    for (int y = 0; y < EYE_H; y++)
        for (int x = 0; x < EYE_W; x++)
            *(x < EYE_W / 2 - 6 ? &left : &right) += is_outline(px(x, y));
    assert_int_equal(left, 0);
    assert_true(right > 100);
}

/* Many selected instances of one mesh are still one multi-draw per eye and pass; point clouds
 * and culled draws get no outline pass; nothing selected, nothing drawn. */
static void test_outline_cost(void **state)
{
    struct rr_scene_draw d[64];
    for (int i = 0; i < 64; i++) {
        d[i] = draw_of(g.box, 0);
        for (int k = 0; k < 3; k++)
            d[i].world[k * 5] = 0.1f;
        d[i].world[12] = -0.7f + 0.2f * (float)(i % 8);
        d[i].world[13] = -0.7f + 0.2f * (float)(i / 8);
    }
    struct rr_render_stats st;
    render(d, 64, NULL, &st);
    assert_int_equal(st.gl_draw_calls, 2);
    assert_int_equal(st.outline_draws, 0);
    for (int i = 0; i < 64; i += 3)
        d[i].flags = RR_DRAW_SELECTED;
    render(d, 64, NULL, &st);
    assert_int_equal(st.outline_draws, 4);
    assert_int_equal(st.gl_draw_calls, 6);
    unsigned orange = 0;
    for (int y = 0; y < EYE_H; y++)
        for (int x = 0; x < 2 * EYE_W; x++)
            orange += is_outline(px(x, y));
    assert_true(orange > 100);

    /* A selected point cloud: its faint fill only, no outline pass. */
    struct rr_scene_draw cloud = draw_of(g.points, UINT32_MAX);
    cloud.world[13] = cloud.world[14] = -0.5f;
    cloud.flags = RR_DRAW_SELECTED;
    render(&cloud, 1, NULL, &st);
    assert_int_equal(st.draws_rendered, 1);
    assert_int_equal(st.outline_draws, 0);

    /* A selected draw outside both fields of view: culled, no pass. */
    d[0].world[14] = 10.0f;
    render(d, 1, NULL, &st);
    assert_int_equal(st.draws_culled, 1);
    assert_int_equal(st.outline_draws, 0);
    assert_int_equal(st.gl_draw_calls, 0);
}

/* Tint is a blend towards tint.rgb by tint.a, in linear light, and leaves the object opaque. */
static void test_tint_blends(void **state)
{
    struct rr_scene_draw d[2] = {draw_of(g.box, 0), draw_of(g.box, 0)};
    memcpy(d[0].colour_override, (float[4]){1, 1, 1, 1}, sizeof(d[0].colour_override));
    /* A green 3 m backdrop 2 m behind the cube, drawn in the second draw. */
    memcpy(d[1].colour_override, (float[4]){0, 1, 0, 1}, sizeof(d[1].colour_override));
    d[1].world[0] = d[1].world[5] = d[1].world[10] = 3.0f;
    d[1].world[14] = -2.0f;
    struct rr_render_stats st;
    double white[3], half[3], full[3], none[3], over_green[3];
    render(d, 1, NULL, &st);
    centre_linear(white);
    assert_true(white[0] > 0.2 && white[1] > 0.2 && white[2] > 0.2);

    d[0].flags = RR_DRAW_TINTED;
    memcpy(d[0].tint, (float[4]){1, 0, 0, 0.5f}, sizeof(d[0].tint));
    render(d, 1, NULL, &st);
    dump("tint_half");
    centre_linear(half);
    /* Half-way to red: red as before, green and blue about half (plus the little white of
     * the dielectric's specular, which the tint does not touch). */
    assert_true(half[0] > 0.9 * white[0]);
    for (int c = 1; c < 3; c++) {
        assert_true(half[c] > 0.45 * white[c]);
        assert_true(half[c] < 0.6 * white[c]);
    }
    render(d, 2, NULL, &st); /* the backdrop does not show through */
    centre_linear(over_green);
    for (int c = 0; c < 3; c++)
        assert_true(fabs(over_green[c] - half[c]) < 0.01);

    d[0].tint[3] = 1.0f; /* all the way: the lit red of a red object */
    render(d, 2, NULL, &st);
    centre_linear(full);
    assert_true(full[0] > 0.9 * white[0]);
    assert_true(full[1] < 0.15 * white[1] && full[2] < 0.15 * white[2]);

    d[0].tint[3] = 0.0f; /* nothing of the tint */
    render(d, 2, NULL, &st);
    centre_linear(none);
    for (int c = 0; c < 3; c++)
        assert_true(fabs(none[c] - white[c]) < 0.01);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_outline_ring),        cmocka_unit_test(test_outline_hidden_object),
        cmocka_unit_test(test_outline_follows_cut), cmocka_unit_test(test_outline_cost),
        cmocka_unit_test(test_tint_blends),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
