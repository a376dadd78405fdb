/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the host's scene graph (src/scene): hierarchy and world matrices, inherited
 * state overrides, subtree destruction, model instances, ray casts and box queries against a
 * real converted asset, cut planes, validation of hostile arguments, the stock asset loader
 * (files, file:// URIs, http:// through a local python http.server, sharing, every load error)
 * and the scene wire format. Assets are converted at test time by openrr-convert from Debian's
 * assimp test models, so the tests follow the converter as it is.
 */
#include "scene.h"
#include "scene_assets.h"
#include "scene_wire.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <jansson.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BOX_GLTF "/usr/share/assimp/models/glTF2/BoxTextured-glTF/BoxTextured.gltf"
#define ENGINE_GLB "/usr/share/assimp/models/glTF2/2CylinderEngine-glTF-Binary/2CylinderEngine.glb"

/* ---- fixture: converted assets in a temporary directory ---------------------------------- */

static char g_dir[256];
static char g_box[512];     /* BoxTextured.rrasset */
static char g_box2[512];    /* a byte-identical copy at another path */
static char g_corrupt[512]; /* a copy with one flipped byte in VERTEX_DATA */
static char g_text[512];    /* not an asset */
static char g_engine[512];  /* 2CylinderEngine.rrasset (many nodes), "" when not converted */
static bool g_have_assets;

static bool convert(const char *in, const char *out_dir)
{
#ifdef RR_CONVERT_PATH
    char cmd[2048];
    snprintf(cmd, sizeof(cmd), "'%s' '%s' '%s' >/dev/null 2>&1", RR_CONVERT_PATH, in, out_dir);
    return access(in, R_OK) == 0 && system(cmd) == 0;
#else
    (void)in;
    (void)out_dir;
    return false;
#endif
}

static bool copy_file(const char *from, const char *to, long flip_at)
{
    FILE *in = fopen(from, "rb");
    FILE *out = fopen(to, "wb");
    bool ok = in != NULL && out != NULL;
    long pos = 0;
    int ch;
    while (ok && (ch = fgetc(in)) != EOF) {
        if (pos++ == flip_at) {
            ch ^= 0x5a;
        }
        ok = fputc(ch, out) != EOF;
    }
    if (in != NULL) {
        fclose(in);
    }
    if (out != NULL) {
        fclose(out);
    }
    return ok;
}

static int group_setup(void **state)
{
    (void)state;
    snprintf(g_dir, sizeof(g_dir), "/tmp/rr-test-scene-XXXXXX");
    if (mkdtemp(g_dir) == NULL) {
        return -1;
    }
    snprintf(g_box, sizeof(g_box), "%s/BoxTextured.rrasset", g_dir);
    snprintf(g_box2, sizeof(g_box2), "%s/copy/box-again.rrasset", g_dir);
    snprintf(g_corrupt, sizeof(g_corrupt), "%s/corrupt.rrasset", g_dir);
    snprintf(g_text, sizeof(g_text), "%s/readme.rrasset", g_dir);
    g_have_assets = convert(BOX_GLTF, g_dir);
    if (!g_have_assets) {
        return 0;
    }
    char sub[300];
    snprintf(sub, sizeof(sub), "%s/copy", g_dir);
    mkdir(sub, 0700);
    struct rr_asset *a = NULL;
    char err[256];
    if (rr_asset_open(g_box, 0, &a, err, sizeof(err)) != RR_ASSET_OK) {
        return -1;
    }
    long vertex_at = (long)rr_asset_section(a, RR_SECTION_VERTEX_DATA)->offset + 5;
    rr_asset_close(&a);
    FILE *f = fopen(g_text, "w");
    if (f == NULL) {
        return -1;
    }
    fputs("this is not an asset, just text long enough to have a header's worth of bytes\n", f);
    fclose(f);
    if (!copy_file(g_box, g_box2, -1) || !copy_file(g_box, g_corrupt, vertex_at)) {
        return -1;
    }
    snprintf(g_engine, sizeof(g_engine), "%s/2CylinderEngine.rrasset", g_dir);
    if (!convert(ENGINE_GLB, g_dir)) {
        g_engine[0] = '\0';
    }
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    char cmd[400];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", g_dir);
    return system(cmd) == 0 ? 0 : -1;
}

#define NEED_ASSETS()                                                                              \
    do {                                                                                           \
        if (!g_have_assets) {                                                                      \
            skip();                                                                                \
        }                                                                                          \
    } while (0)

static struct rr_asset_cache *new_cache(void)
{
    char dir[400];
    snprintf(dir, sizeof(dir), "%s/cache", g_dir);
    struct rr_asset_cache_config cfg = {.cache_dir = dir};
    struct rr_asset_cache *c = NULL;
    assert_int_equal(rr_asset_cache_create(&cfg, &c), RR_SCENE_SUCCESS);
    return c;
}

/* Load @p uri through @p cache and instantiate it under @p parent. */
static uint32_t load(struct rr_scene *s, struct rr_asset_cache *cache, const char *uri,
                     uint32_t parent)
{
    struct rr_asset *a = NULL;
    char err[256];
    enum rr_scene_result r =
        rr_asset_loader_load(&cache->base, uri, NULL, NULL, &a, err, sizeof(err));
    if (r != RR_SCENE_SUCCESS) {
        fail_msg("loading %s: %s (%s)", uri, rr_scene_result_str(r), err);
    }
    uint32_t root = 0;
    assert_int_equal(rr_scene_add_model(s, a, &cache->base, parent, &root), RR_SCENE_SUCCESS);
    assert_int_not_equal(root, 0);
    return root;
}

static struct rr_scene_transform trs(float x, float y, float z, float scale)
{
    struct rr_scene_transform t = {
        .position = {x, y, z}, .rotation = {0, 0, 0, 1}, .scale = {scale, scale, scale}};
    return t;
}

static void assert_near(float a, float b, float tol, const char *what)
{
    if (!(fabsf(a - b) <= tol)) {
        fail_msg("%s: %g is not within %g of %g", what, (double)a, (double)tol, (double)b);
    }
}

/* ---- hierarchy ------------------------------------------------------------------------------ */

static void test_hierarchy_world(void **state)
{
    (void)state;
    struct rr_scene *s = NULL;
    assert_int_equal(rr_scene_create(NULL, &s), RR_SCENE_SUCCESS);
    uint32_t a, b, c;
    assert_int_equal(rr_scene_entity_create(s, RR_SCENE_ROOT, "a", &a), RR_SCENE_SUCCESS);
    assert_int_equal(rr_scene_entity_create(s, a, "b", &b), RR_SCENE_SUCCESS);
    assert_int_equal(rr_scene_entity_create(s, b, NULL, &c), RR_SCENE_SUCCESS);
    assert_true(a != b && b != c && a != 0);

    /* a: translate (1,2,3), scale 2; b: rotate 90° about +Y, translate (1,0,0) in a's space. */
    struct rr_scene_transform ta = trs(1, 2, 3, 2);
    struct rr_scene_transform tb = trs(1, 0, 0, 1);
    float h = sqrtf(0.5f);
    tb.rotation[1] = h;
    tb.rotation[3] = h;
    struct rr_scene_transform tc = trs(0, 0, -1, 1);
    assert_int_equal(rr_scene_entity_set_transform(s, a, &ta), RR_SCENE_SUCCESS);
    assert_int_equal(rr_scene_entity_set_transform(s, b, &tb), RR_SCENE_SUCCESS);
    assert_int_equal(rr_scene_entity_set_transform(s, c, &tc), RR_SCENE_SUCCESS);

    struct rr_scene_entity_info info;
    assert_int_equal(rr_scene_entity_get(s, b, &info), RR_SCENE_SUCCESS);
    assert_int_equal(info.parent, a);
    assert_int_equal(info.depth, 2);
    assert_string_equal(info.name, "b");
    /* b's origin: a's (1,2,3) + 2 × (1,0,0). */
    assert_near(info.world[12], 3, 1e-5f, "b.x");
    assert_near(info.world[13], 2, 1e-5f, "b.y");
    assert_near(info.world[14], 3, 1e-5f, "b.z");
    /* c at (0,0,-1) in b: rotated 90° about Y, (0,0,-1) becomes (-1,0,0), scaled by 2. */
    assert_int_equal(rr_scene_entity_get(s, c, &info), RR_SCENE_SUCCESS);
    assert_near(info.world[12], 1, 1e-5f, "c.x");
    assert_near(info.world[13], 2, 1e-5f, "c.y");
    assert_near(info.world[14], 3, 1e-5f, "c.z");
    assert_int_equal(info.depth, 3);

    /* Re-parent c to the root: its world is its local transform. */
    assert_int_equal(rr_scene_entity_set_parent(s, c, RR_SCENE_ROOT), RR_SCENE_SUCCESS);
    assert_int_equal(rr_scene_entity_get(s, c, &info), RR_SCENE_SUCCESS);
    assert_near(info.world[14], -1, 1e-6f, "c.z at root");
    assert_int_equal(info.parent, RR_SCENE_ROOT);
    /* A cycle is refused. */
    assert_int_equal(rr_scene_entity_set_parent(s, a, b), RR_SCENE_INVALID_PARAM);
    assert_int_equal(rr_scene_entity_set_parent(s, a, a), RR_SCENE_INVALID_PARAM);
    assert_int_equal(rr_scene_visit(s, NULL, NULL), 3);
    rr_scene_destroy(&s);
    assert_null(s);
}

static void test_overrides_inherit(void **state)
{
    (void)state;
    struct rr_scene *s = NULL;
    assert_int_equal(rr_scene_create(NULL, &s), RR_SCENE_SUCCESS);
    uint32_t a, b, c;
    assert_int_equal(rr_scene_entity_create(s, 0, "a", &a), RR_SCENE_SUCCESS);
    assert_int_equal(rr_scene_entity_create(s, a, "b", &b), RR_SCENE_SUCCESS);
    assert_int_equal(rr_scene_entity_create(s, b, "c", &c), RR_SCENE_SUCCESS);
    struct rr_scene_state st = {.hidden = RR_SCENE_FORCE_ON,
                                .selected = RR_SCENE_FORCE_ON,
                                .tint = RR_SCENE_FORCE_ON,
                                .tint_color = {1, 0, 0, 0.5f}};
    assert_int_equal(rr_scene_entity_set_state(s, a, &st), RR_SCENE_SUCCESS);
    struct rr_scene_state sb = {.hidden = RR_SCENE_FORCE_OFF, .see_through = RR_SCENE_FORCE_ON};
    assert_int_equal(rr_scene_entity_set_state(s, b, &sb), RR_SCENE_SUCCESS);
    struct rr_scene_entity_info i;
    assert_int_equal(rr_scene_entity_get(s, a, &i), RR_SCENE_SUCCESS);
    assert_true(i.hidden && i.selected && i.tinted && !i.see_through);
    assert_int_equal(rr_scene_entity_get(s, c, &i), RR_SCENE_SUCCESS);
    /* c inherits from b (visible, see-through) and, through b, a's selection and tint. */
    assert_false(i.hidden);
    assert_true(i.selected && i.see_through && i.tinted);
    assert_near(i.tint[0], 1, 0, "tint r");
    assert_near(i.tint[3], 0.5f, 0, "tint a");
    /* c forces the tint off and selection off for itself. */
    struct rr_scene_state sc = {.tint = RR_SCENE_FORCE_OFF, .selected = RR_SCENE_FORCE_OFF};
    assert_int_equal(rr_scene_entity_set_state(s, c, &sc), RR_SCENE_SUCCESS);
    assert_int_equal(rr_scene_entity_get(s, c, &i), RR_SCENE_SUCCESS);
    assert_false(i.tinted || i.selected);
    assert_true(i.see_through);
    /* Clearing a's override: everything inherits the defaults again. */
    struct rr_scene_state none = {0};
    assert_int_equal(rr_scene_entity_set_state(s, a, &none), RR_SCENE_SUCCESS);
    assert_int_equal(rr_scene_entity_get(s, b, &i), RR_SCENE_SUCCESS);
    assert_false(i.hidden || i.selected || i.tinted);
    /* Out-of-range values. */
    struct rr_scene_state bad = {.hidden = 3};
    assert_int_equal(rr_scene_entity_set_state(s, a, &bad), RR_SCENE_INVALID_PARAM);
    struct rr_scene_state bad_tint = {.tint = RR_SCENE_FORCE_ON, .tint_color = {2, 0, 0, 1}};
    assert_int_equal(rr_scene_entity_set_state(s, a, &bad_tint), RR_SCENE_INVALID_PARAM);
    bad_tint.tint_color[0] = NAN;
    assert_int_equal(rr_scene_entity_set_state(s, a, &bad_tint), RR_SCENE_INVALID_PARAM);
    /* Material colour: per entity, not inherited. */
    const float red[4] = {1, 0, 0, 1};
    assert_int_equal(rr_scene_entity_set_color(s, a, red), RR_SCENE_SUCCESS);
    assert_int_equal(rr_scene_entity_get(s, a, &i), RR_SCENE_SUCCESS);
    assert_true(i.has_color);
    assert_int_equal(rr_scene_entity_get(s, b, &i), RR_SCENE_SUCCESS);
    assert_false(i.has_color);
    assert_int_equal(rr_scene_entity_set_color(s, a, NULL), RR_SCENE_SUCCESS);
    assert_int_equal(rr_scene_entity_get(s, a, &i), RR_SCENE_SUCCESS);
    assert_false(i.has_color);
    rr_scene_destroy(&s);
}

static void test_destroy_subtree(void **state)
{
    (void)state;
    struct rr_scene *s = NULL;
    assert_int_equal(rr_scene_create(NULL, &s), RR_SCENE_SUCCESS);
    uint32_t a, b, c, d, other;
    assert_int_equal(rr_scene_entity_create(s, 0, "a", &a), RR_SCENE_SUCCESS);
    assert_int_equal(rr_scene_entity_create(s, a, "b", &b), RR_SCENE_SUCCESS);
    assert_int_equal(rr_scene_entity_create(s, b, "c", &c), RR_SCENE_SUCCESS);
    assert_int_equal(rr_scene_entity_create(s, a, "d", &d), RR_SCENE_SUCCESS);
    assert_int_equal(rr_scene_entity_create(s, 0, "other", &other), RR_SCENE_SUCCESS);
    assert_int_equal(rr_scene_entity_count(s), 5);
    assert_int_equal(rr_scene_entity_destroy(s, b), RR_SCENE_SUCCESS);
    assert_int_equal(rr_scene_entity_count(s), 3);
    struct rr_scene_entity_info i;
    assert_int_equal(rr_scene_entity_get(s, c, &i), RR_SCENE_ENTITY_NOT_FOUND);
    assert_int_equal(rr_scene_entity_get(s, d, &i), RR_SCENE_SUCCESS);
    assert_int_equal(rr_scene_entity_destroy(s, a), RR_SCENE_SUCCESS);
    assert_int_equal(rr_scene_entity_count(s), 1);
    assert_int_equal(rr_scene_entity_get(s, other, &i), RR_SCENE_SUCCESS);
    /* Slots are reused with a new generation: the old ids stay dead. */
    uint32_t e;
    assert_int_equal(rr_scene_entity_create(s, 0, "e", &e), RR_SCENE_SUCCESS);
    assert_true(e != a && e != b && e != c && e != d);
    assert_int_equal(rr_scene_entity_get(s, b, &i), RR_SCENE_ENTITY_NOT_FOUND);
    rr_scene_clear(s);
    assert_int_equal(rr_scene_entity_count(s), 0);
    assert_int_equal(rr_scene_entity_get(s, other, &i), RR_SCENE_ENTITY_NOT_FOUND);
    rr_scene_destroy(&s);
}

static void test_invalid_arguments(void **state)
{
    (void)state;
    struct rr_scene *s = NULL;
    assert_int_equal(rr_scene_create(NULL, &s), RR_SCENE_SUCCESS);
    uint32_t a, dead;
    assert_int_equal(rr_scene_entity_create(s, 0, "a", &a), RR_SCENE_SUCCESS);
    assert_int_equal(rr_scene_entity_create(s, 0, "dead", &dead), RR_SCENE_SUCCESS);
    assert_int_equal(rr_scene_entity_destroy(s, dead), RR_SCENE_SUCCESS);

    struct rr_scene_transform t = trs(0, 0, 0, 1);
    t.position[1] = NAN;
    assert_int_equal(rr_scene_entity_set_transform(s, a, &t), RR_SCENE_INVALID_PARAM);
    t = trs(0, 0, 0, 1);
    t.scale[2] = INFINITY;
    assert_int_equal(rr_scene_entity_set_transform(s, a, &t), RR_SCENE_INVALID_PARAM);
    t = trs(0, 0, 0, 1);
    t.rotation[3] = 0; /* zero quaternion */
    assert_int_equal(rr_scene_entity_set_transform(s, a, &t), RR_SCENE_INVALID_PARAM);
    assert_int_equal(rr_scene_entity_set_transform(s, a, NULL), RR_SCENE_INVALID_PARAM);
    /* Destroyed, never created, the root, random bits. */
    t = trs(0, 0, 0, 1);
    const uint32_t bad_ids[] = {dead, 0x7ffff, 0xffffffffu, a + 1, a ^ 0x100000u};
    for (size_t k = 0; k < sizeof(bad_ids) / sizeof(bad_ids[0]); k++) {
        uint32_t id = bad_ids[k];
        assert_int_equal(rr_scene_entity_set_transform(s, id, &t), RR_SCENE_ENTITY_NOT_FOUND);
        assert_int_equal(rr_scene_entity_destroy(s, id), RR_SCENE_ENTITY_NOT_FOUND);
        assert_int_equal(rr_scene_entity_set_parent(s, a, id), RR_SCENE_ENTITY_NOT_FOUND);
        uint32_t out;
        assert_int_equal(rr_scene_entity_create(s, id, "x", &out), RR_SCENE_ENTITY_NOT_FOUND);
        assert_int_equal(out, 0);
        struct rr_scene_state st = {0};
        assert_int_equal(rr_scene_entity_set_state(s, id, &st), RR_SCENE_ENTITY_NOT_FOUND);
        assert_int_equal(rr_scene_entity_set_color(s, id, NULL), RR_SCENE_ENTITY_NOT_FOUND);
    }
    assert_int_equal(rr_scene_entity_set_transform(s, RR_SCENE_ROOT, &t), RR_SCENE_INVALID_PARAM);
    assert_int_equal(rr_scene_entity_destroy(s, RR_SCENE_ROOT), RR_SCENE_INVALID_PARAM);
    /* Names over the limit. */
    char long_name[RR_SCENE_MAX_NAME + 2];
    memset(long_name, 'n', sizeof(long_name) - 1);
    long_name[sizeof(long_name) - 1] = '\0';
    uint32_t out;
    assert_int_equal(rr_scene_entity_create(s, 0, long_name, &out), RR_SCENE_INVALID_PARAM);
    long_name[RR_SCENE_MAX_NAME] = '\0';
    assert_int_equal(rr_scene_entity_create(s, 0, long_name, &out), RR_SCENE_SUCCESS);
    /* Rays and boxes. */
    struct rr_scene_hit hits[4];
    size_t n;
    const float o[3] = {0, 0, 0}, dir[3] = {0, 0, -1}, zero[3] = {0, 0, 0};
    const float nan3[3] = {0, NAN, 0}, inf3[3] = {INFINITY, 0, 0};
    assert_int_equal(rr_scene_cast_ray(s, nan3, dir, 10, RR_SCENE_RAY_ALL, 4, hits, &n),
                     RR_SCENE_INVALID_PARAM);
    assert_int_equal(rr_scene_cast_ray(s, o, inf3, 10, RR_SCENE_RAY_ALL, 4, hits, &n),
                     RR_SCENE_INVALID_PARAM);
    assert_int_equal(rr_scene_cast_ray(s, o, zero, 10, RR_SCENE_RAY_ALL, 4, hits, &n),
                     RR_SCENE_INVALID_PARAM);
    assert_int_equal(rr_scene_cast_ray(s, o, dir, NAN, RR_SCENE_RAY_ALL, 4, hits, &n),
                     RR_SCENE_INVALID_PARAM);
    assert_int_equal(rr_scene_cast_ray(s, o, dir, 0, RR_SCENE_RAY_ALL, 4, hits, &n),
                     RR_SCENE_INVALID_PARAM);
    assert_int_equal(rr_scene_cast_ray(s, o, dir, 1, RR_SCENE_RAY_ALL, 0, hits, &n),
                     RR_SCENE_INVALID_PARAM);
    assert_int_equal(rr_scene_cast_ray(s, o, dir, 1, (enum rr_scene_ray_mode)7, 1, hits, &n),
                     RR_SCENE_INVALID_PARAM);
    uint32_t ids[4];
    bool trunc;
    const float mn[3] = {1, 1, 1}, mx[3] = {0, 2, 2};
    assert_int_equal(rr_scene_find_in_box(s, mn, mx, 4, ids, &n, &trunc), RR_SCENE_INVALID_PARAM);
    assert_int_equal(rr_scene_find_in_box(s, nan3, mx, 4, ids, &n, &trunc), RR_SCENE_INVALID_PARAM);
    rr_scene_destroy(&s);
}

static void test_entity_limit(void **state)
{
    (void)state;
    struct rr_scene_config cfg = {.max_entities = 3};
    struct rr_scene *s = NULL;
    assert_int_equal(rr_scene_create(&cfg, &s), RR_SCENE_SUCCESS);
    uint32_t id;
    for (int i = 0; i < 3; i++) {
        assert_int_equal(rr_scene_entity_create(s, 0, "x", &id), RR_SCENE_SUCCESS);
    }
    assert_int_equal(rr_scene_entity_create(s, 0, "x", &id), RR_SCENE_ASSET_TOO_LARGE);
    rr_scene_destroy(&s);
    cfg.max_entities = 1u << 20;
    assert_int_equal(rr_scene_create(&cfg, &s), RR_SCENE_INVALID_PARAM);
}

/* ---- cut planes ----------------------------------------------------------------------------- */

static void test_cut_planes(void **state)
{
    (void)state;
    struct rr_scene *s = NULL;
    assert_int_equal(rr_scene_create(NULL, &s), RR_SCENE_SUCCESS);
    uint32_t ids[RR_SCENE_MAX_CUT_PLANES];
    for (int i = 0; i < RR_SCENE_MAX_CUT_PLANES; i++) {
        const float n[3] = {0, 2, 0};
        assert_int_equal(rr_scene_cut_plane_add(s, n, (float)i, &ids[i]), RR_SCENE_SUCCESS);
        assert_int_not_equal(ids[i], 0);
    }
    const float n[3] = {1, 0, 0};
    uint32_t ninth = 99;
    assert_int_equal(rr_scene_cut_plane_add(s, n, 0, &ninth), RR_SCENE_TOO_MANY_CUT_PLANES);
    assert_int_equal(ninth, 0);
    struct rr_scene_view v;
    assert_int_equal(rr_scene_build_view(s, &v), RR_SCENE_SUCCESS);
    assert_int_equal(v.cut_plane_count, 8);
    /* Normalised: (0,2,0)·p + 3 → (0,1,0)·p + 1.5. */
    assert_near(v.cut_planes[3].normal[1], 1, 1e-6f, "normal");
    assert_near(v.cut_planes[3].distance, 1.5f, 1e-6f, "distance");
    assert_int_equal(rr_scene_cut_plane_remove(s, ids[2]), RR_SCENE_SUCCESS);
    assert_int_equal(rr_scene_cut_plane_remove(s, ids[2]), RR_SCENE_NOT_FOUND);
    assert_int_equal(rr_scene_cut_plane_add(s, n, 0, &ninth), RR_SCENE_SUCCESS);
    const float zero[3] = {0, 0, 0}, nan3[3] = {NAN, 0, 1};
    assert_int_equal(rr_scene_cut_plane_remove(s, 0), RR_SCENE_SUCCESS);
    assert_int_equal(rr_scene_cut_plane_add(s, zero, 0, &ninth), RR_SCENE_INVALID_PARAM);
    assert_int_equal(rr_scene_cut_plane_add(s, nan3, 0, &ninth), RR_SCENE_INVALID_PARAM);
    assert_int_equal(rr_scene_cut_plane_add(s, n, INFINITY, &ninth), RR_SCENE_INVALID_PARAM);
    assert_int_equal(rr_scene_build_view(s, &v), RR_SCENE_SUCCESS);
    assert_int_equal(v.cut_plane_count, 0);
    rr_scene_destroy(&s);
}

/* ---- models, views, queries ------------------------------------------------------------------ */

static void test_model_instance_and_view(void **state)
{
    (void)state;
    NEED_ASSETS();
    struct rr_asset_cache *cache = new_cache();
    struct rr_scene *s = NULL;
    assert_int_equal(rr_scene_create(NULL, &s), RR_SCENE_SUCCESS);
    uint32_t holder;
    assert_int_equal(rr_scene_entity_create(s, 0, "holder", &holder), RR_SCENE_SUCCESS);
    uint32_t root = load(s, cache, g_box, holder);
    /* The asset's two nodes below the model root, plus the holder. */
    assert_int_equal(rr_scene_entity_count(s), 4);
    struct rr_scene_entity_info i;
    assert_int_equal(rr_scene_entity_get(s, root, &i), RR_SCENE_SUCCESS);
    assert_int_equal(i.parent, holder);
    assert_non_null(i.asset);
    assert_int_equal(rr_scene_asset_triangles(i.asset), 12);

    struct rr_scene_view v;
    assert_int_equal(rr_scene_build_view(s, &v), RR_SCENE_SUCCESS);
    assert_int_equal(v.draw_count, 1);
    assert_ptr_equal(v.draws[0].asset, i.asset);
    assert_int_equal(v.draws[0].mesh_index, 0);
    assert_int_equal(v.draws[0].material_override, -1);
    assert_int_equal(v.draws[0].flags, 0);
    uint32_t mesh_entity = v.draws[0].entity_id;
    assert_int_not_equal(mesh_entity, root);

    /* State on the holder reaches the draw; hidden removes it. */
    struct rr_scene_state st = {.selected = RR_SCENE_FORCE_ON,
                                .use_cut_planes = RR_SCENE_FORCE_ON,
                                .tint = RR_SCENE_FORCE_ON,
                                .tint_color = {0, 1, 0, 1}};
    assert_int_equal(rr_scene_entity_set_state(s, holder, &st), RR_SCENE_SUCCESS);
    const float blue[4] = {0, 0, 1, 1};
    assert_int_equal(rr_scene_entity_set_color(s, mesh_entity, blue), RR_SCENE_SUCCESS);
    struct rr_scene_transform t = trs(0, 0, -5, 1);
    assert_int_equal(rr_scene_entity_set_transform(s, holder, &t), RR_SCENE_SUCCESS);
    assert_int_equal(rr_scene_build_view(s, &v), RR_SCENE_SUCCESS);
    assert_int_equal(v.draw_count, 1);
    assert_int_equal(v.draws[0].flags, RR_DRAW_SELECTED | RR_DRAW_TINTED | RR_DRAW_USE_CUT_PLANES);
    assert_near(v.draws[0].tint[1], 1, 0, "tint");
    assert_near(v.draws[0].colour_override[2], 1, 0, "colour");
    assert_near(v.draws[0].world[14], -5, 1e-5f, "world z");
    st.hidden = RR_SCENE_FORCE_ON;
    assert_int_equal(rr_scene_entity_set_state(s, holder, &st), RR_SCENE_SUCCESS);
    assert_int_equal(rr_scene_build_view(s, &v), RR_SCENE_SUCCESS);
    assert_int_equal(v.draw_count, 0);

    /* The view keeps the asset open after its entities are gone, until the next view. */
    st.hidden = RR_SCENE_INHERIT;
    assert_int_equal(rr_scene_entity_set_state(s, holder, &st), RR_SCENE_SUCCESS);
    assert_int_equal(rr_scene_build_view(s, &v), RR_SCENE_SUCCESS);
    assert_int_equal(rr_scene_entity_destroy(s, holder), RR_SCENE_SUCCESS);
    assert_int_equal(rr_scene_asset_count(s), 1);
    assert_int_equal(rr_asset_cache_open_count(cache), 1);
    const struct rr_asset_mesh *m =
        rr_asset_section_data(v.draws[0].asset, RR_SECTION_MESHES, NULL);
    assert_int_equal(m->index_count, 36); /* still readable */
    assert_int_equal(rr_scene_build_view(s, &v), RR_SCENE_SUCCESS);
    assert_int_equal(v.draw_count, 0);
    assert_int_equal(rr_scene_asset_count(s), 0);
    assert_int_equal(rr_asset_cache_open_count(cache), 0);
    rr_scene_destroy(&s);
    rr_asset_cache_destroy(&cache);
}

static void test_model_many_nodes(void **state)
{
    (void)state;
    NEED_ASSETS();
    if (g_engine[0] == '\0') {
        skip();
    }
    struct rr_asset_cache *cache = new_cache();
    struct rr_scene *s = NULL;
    assert_int_equal(rr_scene_create(NULL, &s), RR_SCENE_SUCCESS);
    uint32_t root = load(s, cache, g_engine, 0);
    struct rr_scene_entity_info i;
    assert_int_equal(rr_scene_entity_get(s, root, &i), RR_SCENE_SUCCESS);
    size_t n_nodes = 0;
    const struct rr_asset_node *nodes = rr_asset_section_data(i.asset, RR_SECTION_NODES, &n_nodes);
    assert_true(n_nodes > 2);
    assert_int_equal(rr_scene_entity_count(s), n_nodes + 1);
    /* World matrices follow the node tree: compare each node's product of local transforms. */
    size_t mesh_nodes = 0;
    for (size_t k = 0; k < n_nodes; k++) {
        mesh_nodes += nodes[k].mesh_count;
    }
    struct rr_scene_view v;
    assert_int_equal(rr_scene_build_view(s, &v), RR_SCENE_SUCCESS);
    assert_int_equal(v.draw_count, mesh_nodes);
    /* Destroying the model root takes every node entity with it. */
    assert_int_equal(rr_scene_entity_destroy(s, root), RR_SCENE_SUCCESS);
    assert_int_equal(rr_scene_entity_count(s), 0);
    rr_scene_destroy(&s);
    rr_asset_cache_destroy(&cache);
}

static void test_raycast_box(void **state)
{
    (void)state;
    NEED_ASSETS();
    struct rr_asset_cache *cache = new_cache();
    struct rr_scene *s = NULL;
    assert_int_equal(rr_scene_create(NULL, &s), RR_SCENE_SUCCESS);
    uint32_t root = load(s, cache, g_box, 0);
    struct rr_scene_transform t = trs(0, 0, -5, 1);
    assert_int_equal(rr_scene_entity_set_transform(s, root, &t), RR_SCENE_SUCCESS);

    const float o[3] = {0.1f, 0.2f, 0}, dir[3] = {0, 0, -2};
    struct rr_scene_hit hits[8];
    size_t n = 0;
    assert_int_equal(rr_scene_cast_ray(s, o, dir, 100, RR_SCENE_RAY_CLOSEST, 8, hits, &n),
                     RR_SCENE_SUCCESS);
    assert_int_equal(n, 1);
    /* The unit cube's front face is at z = -4.5. */
    assert_near(hits[0].distance, 4.5f, 1e-4f, "closest distance");
    assert_near(hits[0].position[0], 0.1f, 1e-4f, "hit x");
    assert_near(hits[0].position[2], -4.5f, 1e-4f, "hit z");
    assert_near(hits[0].normal[2], 1, 1e-4f, "normal z");
    struct rr_scene_entity_info i;
    assert_int_equal(rr_scene_entity_get(s, hits[0].entity_id, &i), RR_SCENE_SUCCESS);
    assert_int_equal(i.mesh_count, 1);

    assert_int_equal(rr_scene_cast_ray(s, o, dir, 100, RR_SCENE_RAY_ALL, 8, hits, &n),
                     RR_SCENE_SUCCESS);
    assert_int_equal(n, 2);
    assert_near(hits[0].distance, 4.5f, 1e-4f, "front");
    assert_near(hits[1].distance, 5.5f, 1e-4f, "back");
    /* Normals face the ray's origin, also on the back face. */
    assert_near(hits[1].normal[2], 1, 1e-4f, "back normal");
    assert_int_equal(rr_scene_cast_ray(s, o, dir, 100, RR_SCENE_RAY_ALL, 1, hits, &n),
                     RR_SCENE_SUCCESS);
    assert_int_equal(n, 1);
    assert_near(hits[0].distance, 4.5f, 1e-4f, "nearest kept");
    /* Too short a ray; a ray that misses; a ray from inside. */
    assert_int_equal(rr_scene_cast_ray(s, o, dir, 4.4f, RR_SCENE_RAY_ALL, 8, hits, &n),
                     RR_SCENE_SUCCESS);
    assert_int_equal(n, 0);
    const float up[3] = {0, 1, 0};
    assert_int_equal(rr_scene_cast_ray(s, o, up, 100, RR_SCENE_RAY_ALL, 8, hits, &n),
                     RR_SCENE_SUCCESS);
    assert_int_equal(n, 0);
    const float inside[3] = {0, 0, -5};
    assert_int_equal(rr_scene_cast_ray(s, inside, up, 100, RR_SCENE_RAY_ALL, 8, hits, &n),
                     RR_SCENE_SUCCESS);
    assert_int_equal(n, 1);
    assert_near(hits[0].distance, 0.5f, 1e-4f, "from inside");
    assert_near(hits[0].normal[1], -1, 1e-4f, "inside normal");
    /* Through the shared edge of two triangles (the face's centre): one hit, not two. */
    assert_int_equal(rr_scene_cast_ray(s, inside, up, 100, RR_SCENE_RAY_ALL, 8, hits, &n),
                     RR_SCENE_SUCCESS);

    /* Scale and rotation are honoured: scale 2 puts the front face at z = -4. */
    t = trs(0, 0, -5, 2);
    t.rotation[0] = 0.38268343f; /* 45° about X */
    t.rotation[3] = 0.92387953f;
    assert_int_equal(rr_scene_entity_set_transform(s, root, &t), RR_SCENE_SUCCESS);
    const float centre[3] = {0, 0, 0};
    assert_int_equal(rr_scene_cast_ray(s, centre, dir, 100, RR_SCENE_RAY_CLOSEST, 8, hits, &n),
                     RR_SCENE_SUCCESS);
    assert_int_equal(n, 1);
    /* A cube of side 2 turned 45° about X shows an edge at 5 − √2 along −Z. */
    assert_near(hits[0].distance, 5.0f - sqrtf(2.0f), 1e-3f, "rotated edge");

    /* A second box beside the first: ALL sees both, hidden excludes one. */
    t = trs(0, 0, -5, 1);
    assert_int_equal(rr_scene_entity_set_transform(s, root, &t), RR_SCENE_SUCCESS);
    uint32_t root2 = load(s, cache, g_box, 0);
    t = trs(0, 0, -10, 1);
    assert_int_equal(rr_scene_entity_set_transform(s, root2, &t), RR_SCENE_SUCCESS);
    assert_int_equal(rr_scene_cast_ray(s, o, dir, 100, RR_SCENE_RAY_ALL, 8, hits, &n),
                     RR_SCENE_SUCCESS);
    assert_int_equal(n, 4);
    assert_near(hits[2].distance, 9.5f, 1e-4f, "second box");
    struct rr_scene_state hide = {.hidden = RR_SCENE_FORCE_ON};
    assert_int_equal(rr_scene_entity_set_state(s, root, &hide), RR_SCENE_SUCCESS);
    assert_int_equal(rr_scene_cast_ray(s, o, dir, 100, RR_SCENE_RAY_CLOSEST, 8, hits, &n),
                     RR_SCENE_SUCCESS);
    assert_int_equal(n, 1);
    assert_near(hits[0].distance, 9.5f, 1e-4f, "hidden skipped");
    /* A zero scale makes the entity unhittable, not a crash. */
    t = trs(0, 0, -10, 0);
    assert_int_equal(rr_scene_entity_set_transform(s, root2, &t), RR_SCENE_SUCCESS);
    assert_int_equal(rr_scene_cast_ray(s, o, dir, 100, RR_SCENE_RAY_ALL, 8, hits, &n),
                     RR_SCENE_SUCCESS);
    assert_int_equal(n, 0);
    rr_scene_destroy(&s);
    rr_asset_cache_destroy(&cache);
}

static void test_box_query(void **state)
{
    (void)state;
    NEED_ASSETS();
    struct rr_asset_cache *cache = new_cache();
    struct rr_scene *s = NULL;
    assert_int_equal(rr_scene_create(NULL, &s), RR_SCENE_SUCCESS);
    uint32_t r1 = load(s, cache, g_box, 0);
    uint32_t r2 = load(s, cache, g_box, 0);
    struct rr_scene_transform t = trs(0, 0, -5, 1);
    assert_int_equal(rr_scene_entity_set_transform(s, r1, &t), RR_SCENE_SUCCESS);
    t = trs(10, 0, -5, 1);
    assert_int_equal(rr_scene_entity_set_transform(s, r2, &t), RR_SCENE_SUCCESS);
    uint32_t ids[8];
    size_t n;
    bool trunc;
    const float mn[3] = {-1, -1, -6}, mx[3] = {1, 1, -4};
    assert_int_equal(rr_scene_find_in_box(s, mn, mx, 8, ids, &n, &trunc), RR_SCENE_SUCCESS);
    assert_int_equal(n, 1);
    assert_false(trunc);
    struct rr_scene_entity_info i;
    assert_int_equal(rr_scene_entity_get(s, ids[0], &i), RR_SCENE_SUCCESS);
    assert_true(i.mesh_count > 0);
    /* Touching the box's corner counts; a box beside it does not. */
    const float corner[3] = {0.5f, 0.5f, -4.5f}, far_mn[3] = {2, 2, 2}, far_mx[3] = {3, 3, 3};
    assert_int_equal(rr_scene_find_in_box(s, corner, corner, 8, ids, &n, &trunc), RR_SCENE_SUCCESS);
    assert_int_equal(n, 1);
    assert_int_equal(rr_scene_find_in_box(s, far_mn, far_mx, 8, ids, &n, &trunc), RR_SCENE_SUCCESS);
    assert_int_equal(n, 0);
    /* Both, ascending; truncated at one. */
    const float all_mn[3] = {-100, -100, -100}, all_mx[3] = {100, 100, 100};
    assert_int_equal(rr_scene_find_in_box(s, all_mn, all_mx, 8, ids, &n, &trunc), RR_SCENE_SUCCESS);
    assert_int_equal(n, 2);
    assert_true(ids[0] < ids[1]);
    uint32_t first = ids[0];
    assert_int_equal(rr_scene_find_in_box(s, all_mn, all_mx, 1, ids, &n, &trunc), RR_SCENE_SUCCESS);
    assert_int_equal(n, 1);
    assert_true(trunc);
    assert_int_equal(ids[0], first);
    /* Hidden entities are not found. */
    struct rr_scene_state hide = {.hidden = RR_SCENE_FORCE_ON};
    assert_int_equal(rr_scene_entity_set_state(s, r2, &hide), RR_SCENE_SUCCESS);
    assert_int_equal(rr_scene_find_in_box(s, all_mn, all_mx, 8, ids, &n, &trunc), RR_SCENE_SUCCESS);
    assert_int_equal(n, 1);
    rr_scene_destroy(&s);
    rr_asset_cache_destroy(&cache);
}

/* ---- loading ------------------------------------------------------------------------------- */

static enum rr_scene_result try_load(struct rr_asset_cache *c, const char *uri)
{
    struct rr_asset *a = NULL;
    char err[256];
    enum rr_scene_result r = rr_asset_loader_load(&c->base, uri, NULL, NULL, &a, err, sizeof(err));
    if (r == RR_SCENE_SUCCESS) {
        rr_asset_loader_release(&c->base, a);
    } else {
        assert_null(a);
    }
    return r;
}

static void test_load_errors(void **state)
{
    (void)state;
    NEED_ASSETS();
    struct rr_asset_cache *c = new_cache();
    char uri[700];
    snprintf(uri, sizeof(uri), "%s/missing.rrasset", g_dir);
    assert_int_equal(try_load(c, uri), RR_SCENE_ASSET_NOT_FOUND);
    assert_int_equal(try_load(c, g_dir), RR_SCENE_ASSET_NOT_FOUND); /* a directory */
    assert_int_equal(try_load(c, g_text), RR_SCENE_ASSET_INVALID);
    assert_int_equal(try_load(c, g_corrupt), RR_SCENE_ASSET_CORRUPT);
    assert_int_equal(try_load(c, "ftp://example.com/x.rrasset"), RR_SCENE_NOT_SUPPORTED);
    assert_int_equal(try_load(c, "file://otherhost/x.rrasset"), RR_SCENE_NOT_SUPPORTED);
    assert_int_equal(try_load(c, "file:///bad%zzescape"), RR_SCENE_INVALID_PARAM);
    assert_int_equal(try_load(c, ""), RR_SCENE_INVALID_PARAM);
    char *huge = malloc(RR_SCENE_MAX_URI + 2);
    assert_non_null(huge);
    memset(huge, 'a', RR_SCENE_MAX_URI + 1);
    huge[RR_SCENE_MAX_URI + 1] = '\0';
    assert_int_equal(try_load(c, huge), RR_SCENE_INVALID_PARAM);
    free(huge);
    /* file:// URIs, with a percent escape. */
    snprintf(uri, sizeof(uri), "file://%s", g_box);
    assert_int_equal(try_load(c, uri), RR_SCENE_SUCCESS);
    snprintf(uri, sizeof(uri), "file://%s/copy/box%%2Dagain.rrasset", g_dir);
    assert_int_equal(try_load(c, uri), RR_SCENE_SUCCESS);
    assert_int_equal(rr_asset_cache_open_count(c), 0);
    rr_asset_cache_destroy(&c);

    /* Without checksum verification the flipped vertex byte goes unnoticed (it is data): the
     * verification is what catches it. */
    struct rr_asset_cache_config cfg = {.no_verify_checksums = true};
    assert_int_equal(rr_asset_cache_create(&cfg, &c), RR_SCENE_SUCCESS);
    assert_int_equal(try_load(c, g_corrupt), RR_SCENE_SUCCESS);
    rr_asset_cache_destroy(&c);

    /* A file root: paths outside read as missing. */
    char root[400];
    snprintf(root, sizeof(root), "%s/copy", g_dir);
    cfg = (struct rr_asset_cache_config){.file_root = root};
    assert_int_equal(rr_asset_cache_create(&cfg, &c), RR_SCENE_SUCCESS);
    assert_int_equal(try_load(c, g_box2), RR_SCENE_SUCCESS);
    assert_int_equal(try_load(c, g_box), RR_SCENE_ASSET_NOT_FOUND);
    snprintf(uri, sizeof(uri), "%s/copy/../BoxTextured.rrasset", g_dir);
    assert_int_equal(try_load(c, uri), RR_SCENE_ASSET_NOT_FOUND);
    rr_asset_cache_destroy(&c);
    cfg.file_root = "/nonexistent/root";
    assert_int_equal(rr_asset_cache_create(&cfg, &c), RR_SCENE_INVALID_PARAM);
}

static void test_primitive_budget(void **state)
{
    (void)state;
    NEED_ASSETS();
    struct rr_asset_cache *c = new_cache();
    struct rr_scene_config cfg = {.primitive_budget = 11};
    struct rr_scene *s = NULL;
    assert_int_equal(rr_scene_create(&cfg, &s), RR_SCENE_SUCCESS);
    struct rr_asset *a = NULL;
    assert_int_equal(rr_asset_loader_load(&c->base, g_box, NULL, NULL, &a, NULL, 0),
                     RR_SCENE_SUCCESS);
    uint32_t root = 7;
    assert_int_equal(rr_scene_add_model(s, a, &c->base, 0, &root), RR_SCENE_ASSET_TOO_LARGE);
    assert_int_equal(root, 0);
    assert_int_equal(rr_scene_entity_count(s), 0);
    rr_scene_destroy(&s);
    /* Exactly at the budget is fine. */
    cfg.primitive_budget = 12;
    assert_int_equal(rr_scene_create(&cfg, &s), RR_SCENE_SUCCESS);
    /* The caller still holds its reference on failure. */
    assert_int_equal(rr_scene_add_model(s, a, &c->base, 12345, &root), RR_SCENE_ENTITY_NOT_FOUND);
    rr_asset_loader_release(&c->base, a);
    assert_int_equal(rr_asset_cache_open_count(c), 0);
    load(s, c, g_box, 0);
    /* Entity limit counts the model's nodes too. */
    rr_scene_destroy(&s);
    struct rr_scene_config small = {.max_entities = 2};
    assert_int_equal(rr_scene_create(&small, &s), RR_SCENE_SUCCESS);
    assert_int_equal(rr_asset_loader_load(&c->base, g_box, NULL, NULL, &a, NULL, 0),
                     RR_SCENE_SUCCESS);
    assert_int_equal(rr_scene_add_model(s, a, &c->base, 0, &root), RR_SCENE_ASSET_TOO_LARGE);
    rr_asset_loader_release(&c->base, a);
    rr_scene_destroy(&s);
    assert_int_equal(rr_asset_cache_open_count(c), 0);
    rr_asset_cache_destroy(&c);
}

static void test_shared_asset(void **state)
{
    (void)state;
    NEED_ASSETS();
    struct rr_asset_cache *c = new_cache();
    struct rr_scene *s = NULL;
    assert_int_equal(rr_scene_create(NULL, &s), RR_SCENE_SUCCESS);
    uint32_t r1 = load(s, c, g_box, 0);
    uint32_t r2 = load(s, c, g_box2, 0); /* same bytes, other path */
    char uri[600];
    snprintf(uri, sizeof(uri), "file://%s", g_box);
    uint32_t r3 = load(s, c, uri, 0);
    struct rr_scene_entity_info i1, i2, i3;
    assert_int_equal(rr_scene_entity_get(s, r1, &i1), RR_SCENE_SUCCESS);
    assert_int_equal(rr_scene_entity_get(s, r2, &i2), RR_SCENE_SUCCESS);
    assert_int_equal(rr_scene_entity_get(s, r3, &i3), RR_SCENE_SUCCESS);
    assert_ptr_equal(i1.asset, i2.asset);
    assert_ptr_equal(i1.asset, i3.asset);
    assert_int_equal(rr_asset_cache_open_count(c), 1);
    assert_int_equal(rr_scene_asset_count(s), 1);
    assert_int_equal(rr_scene_entity_destroy(s, r1), RR_SCENE_SUCCESS);
    assert_int_equal(rr_scene_entity_destroy(s, r2), RR_SCENE_SUCCESS);
    assert_int_equal(rr_asset_cache_open_count(c), 1);
    assert_int_equal(rr_scene_entity_destroy(s, r3), RR_SCENE_SUCCESS);
    assert_int_equal(rr_asset_cache_open_count(c), 0);
    /* Destroying a scene that still holds models gives everything back. */
    load(s, c, g_box, 0);
    load(s, c, g_box2, 0);
    struct rr_scene_view v;
    assert_int_equal(rr_scene_build_view(s, &v), RR_SCENE_SUCCESS);
    rr_scene_destroy(&s);
    assert_int_equal(rr_asset_cache_open_count(c), 0);
    rr_asset_cache_destroy(&c);
}

/* ---- http through a local python http.server ------------------------------------------------ */

static pid_t g_http_pid;
static uint16_t g_http_port;

static uint16_t free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    uint16_t port = 0;
    if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0) {
        port = ntohs(a.sin_port);
    }
    if (fd >= 0) {
        close(fd);
    }
    return port;
}

static bool port_open(uint16_t port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {
        .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK), .sin_port = htons(port)};
    bool ok = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
    if (fd >= 0) {
        close(fd);
    }
    return ok;
}

/* Serve @p dir on loopback; false when python3 is not there. */
static bool http_start(const char *dir)
{
    g_http_port = free_port();
    char port[16];
    snprintf(port, sizeof(port), "%u", g_http_port);
    g_http_pid = fork();
    if (g_http_pid == 0) {
        int null = open("/dev/null", O_RDWR);
        dup2(null, 1);
        dup2(null, 2);
        execlp("python3", "python3", "-m", "http.server", port, "--bind", "127.0.0.1",
               "--directory", dir, (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 200 && g_http_pid > 0; i++) {
        if (port_open(g_http_port)) {
            return true;
        }
        int status;
        if (waitpid(g_http_pid, &status, WNOHANG) == g_http_pid) {
            g_http_pid = 0;
            return false;
        }
        struct timespec ts = {0, 50 * 1000000L};
        nanosleep(&ts, NULL);
    }
    return false;
}

static void http_stop(void)
{
    if (g_http_pid > 0) {
        kill(g_http_pid, SIGTERM);
        waitpid(g_http_pid, NULL, 0);
        g_http_pid = 0;
    }
}

struct progress_log {
    uint32_t calls;
    uint32_t last;
    bool monotonic;
    uint32_t cancel_at; /* 0 = never */
};

static bool log_progress(void *user, uint32_t percent)
{
    struct progress_log *p = user;
    if (p->calls > 0 && percent < p->last) {
        p->monotonic = false;
    }
    p->calls++;
    p->last = percent;
    return p->cancel_at == 0 || p->calls < p->cancel_at;
}

static void test_http(void **state)
{
    (void)state;
    NEED_ASSETS();
    if (!http_start(g_dir)) {
        skip();
    }
    char cache_dir[400];
    snprintf(cache_dir, sizeof(cache_dir), "%s/http-cache", g_dir);
    struct rr_asset_cache_config cfg = {.cache_dir = cache_dir};
    struct rr_asset_cache *c = NULL;
    assert_int_equal(rr_asset_cache_create(&cfg, &c), RR_SCENE_SUCCESS);
    char url[256];
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/BoxTextured.rrasset", g_http_port);
    struct progress_log log = {.monotonic = true};
    struct rr_asset *a = NULL, *local = NULL;
    char err[256] = "";
    enum rr_scene_result r =
        rr_asset_loader_load(&c->base, url, log_progress, &log, &a, err, sizeof(err));
    if (r != RR_SCENE_SUCCESS) {
        http_stop();
        fail_msg("download: %s (%s)", rr_scene_result_str(r), err);
    }
    assert_true(log.monotonic);
    assert_int_equal(log.last, 100);
    /* The downloaded copy is the same content as the file: shared. */
    assert_int_equal(rr_asset_loader_load(&c->base, g_box, NULL, NULL, &local, NULL, 0),
                     RR_SCENE_SUCCESS);
    assert_ptr_equal(a, local);
    rr_asset_loader_release(&c->base, local);
    rr_asset_loader_release(&c->base, a);
    char path[600];
    assert_true(rr_asset_cache_path_for_url(c, url, path, sizeof(path)));
    assert_int_equal(access(path, R_OK), 0);

    /* 404, an asset over the download limit, cancellation, a bad download. */
    char missing[256];
    snprintf(missing, sizeof(missing), "http://127.0.0.1:%u/nothing.rrasset", g_http_port);
    assert_int_equal(try_load(c, missing), RR_SCENE_ASSET_NOT_FOUND);
    /* A SAS token (or a password) in a URL is never shown nor kept on disk. */
    char secret_url[300], side[700], side_text[200] = "";
    snprintf(secret_url, sizeof(secret_url),
             "http://user:pw-SECRET@127.0.0.1:%u/nothing.rrasset?sig=SECRET", g_http_port);
    a = NULL;
    assert_int_equal(rr_asset_loader_load(&c->base, secret_url, NULL, NULL, &a, err, sizeof(err)),
                     RR_SCENE_ASSET_NOT_FOUND);
    assert_null(strstr(err, "SECRET"));
    assert_non_null(strstr(err, "nothing.rrasset?…"));
    snprintf(err, sizeof(err), "%s", "");
    assert_int_equal(rr_asset_loader_load(&c->base, "ftp://u:SECRET@h/x?sig=SECRET", NULL, NULL,
                                          &a, err, sizeof(err)),
                     RR_SCENE_NOT_SUPPORTED);
    assert_null(strstr(err, "SECRET"));
    snprintf(side, sizeof(side), "%s.url", path);
    FILE *sf = fopen(side, "rb");
    assert_non_null(sf);
    assert_true(fread(side_text, 1, sizeof(side_text) - 1, sf) > 0);
    fclose(sf);
    assert_null(strstr(side_text, "127.0.0.1")); /* a digest, not the URL */
    char text_url[256];
    snprintf(text_url, sizeof(text_url), "http://127.0.0.1:%u/readme.rrasset", g_http_port);
    assert_int_equal(try_load(c, text_url), RR_SCENE_ASSET_INVALID);
    assert_true(rr_asset_cache_path_for_url(c, text_url, path, sizeof(path)));
    assert_int_not_equal(access(path, F_OK), 0); /* not kept */
    rr_asset_cache_destroy(&c);

    cfg.max_download_size = 1000; /* the box is ~4.6 KB */
    snprintf(cache_dir, sizeof(cache_dir), "%s/http-cache-small", g_dir);
    assert_int_equal(rr_asset_cache_create(&cfg, &c), RR_SCENE_SUCCESS);
    assert_int_equal(try_load(c, url), RR_SCENE_ASSET_TOO_LARGE);
    struct progress_log cancel = {.monotonic = true, .cancel_at = 1};
    cfg.max_download_size = 0;
    rr_asset_cache_destroy(&c);
    assert_int_equal(rr_asset_cache_create(&cfg, &c), RR_SCENE_SUCCESS);
    a = NULL;
    assert_int_equal(rr_asset_loader_load(&c->base, url, log_progress, &cancel, &a, NULL, 0),
                     RR_SCENE_CANCELLED);
    assert_null(a);
    rr_asset_cache_destroy(&c);

    /* The first cache serves its download with the server gone; a new URL fails to connect. */
    http_stop();
    snprintf(cache_dir, sizeof(cache_dir), "%s/http-cache", g_dir);
    assert_int_equal(rr_asset_cache_create(&cfg, &c), RR_SCENE_SUCCESS);
    assert_int_equal(try_load(c, url), RR_SCENE_SUCCESS);
    char other[256];
    snprintf(other, sizeof(other), "http://127.0.0.1:%u/other.rrasset", g_http_port);
    assert_int_equal(try_load(c, other), RR_SCENE_NETWORK_ERROR);
    rr_asset_cache_destroy(&c);
}

/* ---- wire format ------------------------------------------------------------------------------
 */

static void roundtrip(const struct rr_scene_request *q)
{
    uint8_t buf[RR_SCENE_WIRE_MAX_REQUEST];
    size_t n = rr_scene_wire_encode_request(q, buf);
    assert_true(n >= RR_SCENE_WIRE_HEADER);
    struct rr_scene_request back;
    assert_int_equal(rr_scene_wire_decode_request(buf, n, &back), RR_SCENE_WIRE_OK);
    assert_int_equal(back.id, q->id);
    assert_int_equal(back.op, q->op);
    uint8_t again[RR_SCENE_WIRE_MAX_REQUEST];
    assert_int_equal(rr_scene_wire_encode_request(&back, again), n);
    assert_memory_equal(buf, again, n);
    /* One byte short and one byte long are both refused. */
    assert_int_equal(rr_scene_wire_decode_request(buf, n - 1, &back), RR_SCENE_WIRE_BAD_BODY);
    buf[n] = 0;
    assert_int_equal(rr_scene_wire_decode_request(buf, n + 1, &back), RR_SCENE_WIRE_BAD_BODY);
}

static void test_wire_requests(void **state)
{
    (void)state;
    struct rr_scene_request q = {.id = 7, .op = RR_SCENE_OP_LOAD_MODEL, .parent = 3};
    strcpy(q.text, "http://example.com/a.rrasset");
    q.text_len = (uint16_t)strlen(q.text);
    roundtrip(&q);
    q = (struct rr_scene_request){.id = 8, .op = RR_SCENE_OP_CREATE_ENTITY};
    roundtrip(&q); /* empty name */
    q = (struct rr_scene_request){.id = 9, .op = RR_SCENE_OP_SET_TRANSFORM, .entity = 5};
    q.transform = trs(1, 2, 3, 4);
    roundtrip(&q);
    q = (struct rr_scene_request){.id = 10, .op = RR_SCENE_OP_SET_STATE, .entity = 5};
    q.state = (struct rr_scene_state){.hidden = 2, .tint = 1, .tint_color = {1, 0.5f, 0, 1}};
    roundtrip(&q);
    q = (struct rr_scene_request){.id = 11,
                                  .op = RR_SCENE_OP_SET_MATERIAL_COLOR,
                                  .entity = 5,
                                  .has_color = true,
                                  .color = {0.2f, 0.4f, 0.6f, 1}};
    roundtrip(&q);
    q = (struct rr_scene_request){.id = 12,
                                  .op = RR_SCENE_OP_RAYCAST,
                                  .origin = {1, 2, 3},
                                  .direction = {0, 0, -1},
                                  .max_distance = 5,
                                  .mode = 1,
                                  .max_count = RR_SCENE_MAX_HITS};
    roundtrip(&q);
    q = (struct rr_scene_request){.id = 13,
                                  .op = RR_SCENE_OP_QUERY_BOX,
                                  .box_min = {-1, -1, -1},
                                  .box_max = {1, 1, 1},
                                  .max_count = RR_SCENE_MAX_QUERY_RESULTS};
    roundtrip(&q);
    q = (struct rr_scene_request){
        .id = 14, .op = RR_SCENE_OP_ADD_CUT_PLANE, .normal = {0, 1, 0}, .distance = -2};
    roundtrip(&q);
    q = (struct rr_scene_request){
        .id = UINT32_MAX, .op = RR_SCENE_OP_SET_PARENT, .entity = 1, .parent = 2};
    roundtrip(&q);

    /* Out of range: the encoder refuses what the decoder would. */
    uint8_t buf[RR_SCENE_WIRE_MAX_REQUEST];
    q = (struct rr_scene_request){.id = 0, .op = RR_SCENE_OP_DESTROY_ENTITY};
    assert_int_equal(rr_scene_wire_encode_request(&q, buf), 0);
    q = (struct rr_scene_request){.id = 1, .op = RR_SCENE_OP_RAYCAST, .max_count = 0};
    assert_int_equal(rr_scene_wire_encode_request(&q, buf), 0);
    q = (struct rr_scene_request){.id = 1, .op = RR_SCENE_OP_LOAD_MODEL}; /* empty URI */
    assert_int_equal(rr_scene_wire_encode_request(&q, buf), 0);

    /* A NaN in a transform: the header is still read, so the server can answer. */
    q = (struct rr_scene_request){.id = 21, .op = RR_SCENE_OP_SET_TRANSFORM, .entity = 5};
    q.transform = trs(1, 2, 3, 1);
    size_t n = rr_scene_wire_encode_request(&q, buf);
    const uint8_t nan_bits[4] = {0x7f, 0xc0, 0x00, 0x00};
    memcpy(buf + RR_SCENE_WIRE_HEADER + 4, nan_bits, 4);
    struct rr_scene_request back;
    assert_int_equal(rr_scene_wire_decode_request(buf, n, &back), RR_SCENE_WIRE_BAD_BODY);
    assert_int_equal(back.id, 21);
    assert_int_equal(back.op, RR_SCENE_OP_SET_TRANSFORM);
    /* Unknown op, bad kind, id 0, too short. */
    buf[5] = 99;
    assert_int_equal(rr_scene_wire_decode_request(buf, n, &back), RR_SCENE_WIRE_UNKNOWN_OP);
    buf[0] = RR_SCENE_KIND_RESPONSE;
    assert_int_equal(rr_scene_wire_decode_request(buf, n, &back), RR_SCENE_WIRE_BAD_HEADER);
    const uint8_t zero_id[6] = {1, 0, 0, 0, 0, 3};
    assert_int_equal(rr_scene_wire_decode_request(zero_id, 6, &back), RR_SCENE_WIRE_BAD_HEADER);
    assert_int_equal(rr_scene_wire_decode_request(zero_id, 3, &back), RR_SCENE_WIRE_BAD_HEADER);
    /* A URI length beyond the limit or beyond the message. */
    uint8_t load[16] = {1, 0, 0, 0, 1, RR_SCENE_OP_LOAD_MODEL, 0, 0, 0, 0, 0x08, 0x01, 'a'};
    assert_int_equal(rr_scene_wire_decode_request(load, 13, &back), RR_SCENE_WIRE_BAD_BODY);
    load[10] = 0;
    load[11] = 1;
    assert_int_equal(rr_scene_wire_decode_request(load, 13, &back), RR_SCENE_WIRE_OK);
    assert_string_equal(back.text, "a");
    load[12] = '\0'; /* NUL inside */
    assert_int_equal(rr_scene_wire_decode_request(load, 13, &back), RR_SCENE_WIRE_BAD_BODY);
}

static void test_wire_responses(void **state)
{
    (void)state;
    struct rr_scene_hit hits[2] = {
        {.entity_id = 5, .position = {1, 2, 3}, .normal = {0, 0, 1}, .distance = 4.5f},
        {.entity_id = 6, .position = {1, 2, 4}, .normal = {0, 1, 0}, .distance = 5.5f}};
    struct rr_scene_response r = {.id = 3, .op = RR_SCENE_OP_RAYCAST, .count = 2, .hits = hits};
    uint8_t buf[RR_SCENE_WIRE_MAX_RESPONSE];
    size_t n = rr_scene_wire_encode_response(&r, buf);
    assert_int_equal(n, RR_SCENE_WIRE_HEADER + 2 + 2 + 2 * RR_SCENE_WIRE_HIT_SIZE);
    struct rr_scene_response back;
    assert_true(rr_scene_wire_decode_response(buf, n, &back));
    assert_int_equal(back.count, 2);
    struct rr_scene_hit h;
    rr_scene_wire_hit_at(&back, 1, &h);
    assert_int_equal(h.entity_id, 6);
    assert_near(h.distance, 5.5f, 0, "distance");
    assert_false(rr_scene_wire_decode_response(buf, n - 1, &back));
    hits[1].distance = NAN;
    assert_int_equal(rr_scene_wire_encode_response(&r, buf), 0);

    uint32_t ids[3] = {1, 2, 3};
    r = (struct rr_scene_response){
        .id = 4, .op = RR_SCENE_OP_QUERY_BOX, .count = 3, .ids = ids, .truncated = true};
    n = rr_scene_wire_encode_response(&r, buf);
    assert_true(rr_scene_wire_decode_response(buf, n, &back));
    assert_true(back.truncated);
    assert_int_equal(rr_scene_wire_id_at(&back, 2), 3);
    /* A failure has no body; a body after it is refused. */
    n = rr_scene_wire_encode_result(4, RR_SCENE_OP_QUERY_BOX, RR_SCENE_ENTITY_NOT_FOUND, buf);
    assert_int_equal(n, RR_SCENE_WIRE_RESULT_SIZE);
    assert_true(rr_scene_wire_decode_response(buf, n, &back));
    assert_int_equal(back.result, RR_SCENE_ENTITY_NOT_FOUND);
    assert_false(rr_scene_wire_decode_response(buf, n + 1, &back));
    /* Progress. */
    rr_scene_wire_encode_progress(9, 42, buf);
    uint32_t id;
    uint8_t pct;
    assert_true(rr_scene_wire_decode_progress(buf, RR_SCENE_WIRE_PROGRESS_SIZE, &id, &pct));
    assert_int_equal(id, 9);
    assert_int_equal(pct, 42);
    buf[6] = 101;
    assert_false(rr_scene_wire_decode_progress(buf, RR_SCENE_WIRE_PROGRESS_SIZE, &id, &pct));
    assert_string_equal(rr_scene_result_str(RR_SCENE_TOO_MANY_CUT_PLANES), "TooManyCutPlanes");
    assert_string_equal(rr_scene_result_str((enum rr_scene_result)999), "Unknown");
}

/* ---- the inspector's tree ------------------------------------------------------------------- */

static json_t *child(json_t *node, size_t i)
{
    json_t *c = json_array_get(json_object_get(node, "children"), i);
    assert_non_null(c);
    return c;
}

static void test_tree_json(void **state)
{
    (void)state;
    struct rr_scene *s = NULL;
    assert_int_equal(rr_scene_create(NULL, &s), RR_SCENE_SUCCESS);
    char *text = rr_scene_tree_json(s, 0);
    json_error_t jerr;
    json_t *root = json_loads(text, 0, &jerr);
    assert_non_null(root);
    assert_int_equal(json_array_size(json_object_get(root, "children")), 0);
    json_decref(root);
    free(text);

    uint32_t a, b, c, d, e;
    assert_int_equal(rr_scene_entity_create(s, 0, "a \"quoted\" \\ \n", &a), RR_SCENE_SUCCESS);
    assert_int_equal(rr_scene_entity_create(s, a, "b \xff\xc0\x80 caf\xc3\xa9", &b),
                     RR_SCENE_SUCCESS);
    assert_int_equal(rr_scene_entity_create(s, b, "c", &c), RR_SCENE_SUCCESS);
    assert_int_equal(rr_scene_entity_create(s, a, "d", &d), RR_SCENE_SUCCESS);
    assert_int_equal(rr_scene_entity_create(s, 0, "e", &e), RR_SCENE_SUCCESS);
    struct rr_scene_state hide = {.hidden = RR_SCENE_FORCE_ON};
    assert_int_equal(rr_scene_entity_set_state(s, b, &hide), RR_SCENE_SUCCESS);
    text = rr_scene_tree_json(s, 0);
    root = json_loads(text, 0, &jerr);
    if (root == NULL) {
        fail_msg("invalid JSON (%s): %s", jerr.text, text);
    }
    assert_int_equal(json_integer_value(json_object_get(root, "entities")), 5);
    assert_false(json_is_true(json_object_get(root, "truncated")));
    json_t *ja = child(root, 0), *jb = child(ja, 0), *jc = child(jb, 0), *jd = child(ja, 1);
    assert_string_equal(json_string_value(json_object_get(ja, "name")), "a \"quoted\" \\ \n");
    assert_string_equal(json_string_value(json_object_get(jb, "name")),
                        "b \xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd caf\xc3\xa9");
    assert_string_equal(json_string_value(json_object_get(jc, "name")), "c");
    assert_true(json_is_true(json_object_get(jc, "hidden")));
    assert_string_equal(json_string_value(json_object_get(jd, "name")), "d");
    assert_int_equal(json_integer_value(json_object_get(jd, "id")), d);
    assert_string_equal(json_string_value(json_object_get(child(root, 1), "name")), "e");
    assert_int_equal(json_array_size(json_object_get(root, "children")), 2);
    json_decref(root);
    free(text);
    /* Cut short: still valid, says so. */
    text = rr_scene_tree_json(s, 3);
    root = json_loads(text, 0, &jerr);
    assert_non_null(root);
    assert_true(json_is_true(json_object_get(root, "truncated")));
    assert_string_equal(
        json_string_value(json_object_get(child(child(child(root, 0), 0), 0), "name")), "c");
    json_decref(root);
    free(text);
    rr_scene_destroy(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hierarchy_world),
        cmocka_unit_test(test_overrides_inherit),
        cmocka_unit_test(test_destroy_subtree),
        cmocka_unit_test(test_invalid_arguments),
        cmocka_unit_test(test_entity_limit),
        cmocka_unit_test(test_cut_planes),
        cmocka_unit_test(test_model_instance_and_view),
        cmocka_unit_test(test_model_many_nodes),
        cmocka_unit_test(test_raycast_box),
        cmocka_unit_test(test_box_query),
        cmocka_unit_test(test_load_errors),
        cmocka_unit_test(test_primitive_budget),
        cmocka_unit_test(test_shared_asset),
        cmocka_unit_test(test_http),
        cmocka_unit_test(test_wire_requests),
        cmocka_unit_test(test_wire_responses),
        cmocka_unit_test(test_tree_json),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
