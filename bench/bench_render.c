/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench_render — frame time of libopenrr_render against the simplest renderer that draws the
 * same picture (one draw call per mesh part, no culling, no batching, all state bound per
 * draw; same shaders and buffers: rr_renderer_set_naive), in the same process, the same run,
 * the same context, on the same scene: a 10 × 10 grid of one generated sphere mesh (converted
 * from make-gltf.py's output with openrr-convert), about 5 M triangles, at 2 × 1280 × 720.
 * Three view directions show how culling scales: facing the grid, turned so that about half
 * of it is in view, and turned away. Samples of the two renderers alternate.
 * A frame is rr_renderer_draw + glFinish (llvmpipe rasterises asynchronously).
 * The CPU culling alone (rr_frame_cull, render_frame.h) is timed too, per view: over the
 * kept BVH against the linear loop on the same view, on this grid and on a 100 × 100 grid of
 * the same spheres, with the frame that builds the tree.
 * The exit status says whether everything ran, never whether a figure is good.
 * Threads: main only (the render thread).
 */
#include "bench_stats.h"
#include "render.h"
#include "render_frame.h"
#include "render_internal.h"

#include "openrr/asset.h"

#include <epoxy/gl.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define GRID 10          /* GRID × GRID instances */
#define SPACING 2.5f     /* metres between sphere centres (radius 1) */
#define GRID_DISTANCE 20 /* metres from the eyes to the grid's plane */
#define CULL_GRID 100    /* the culling figures' larger grid: CULL_GRID × CULL_GRID */
#define NEAR_PLANE 0.05f /* the renderer's default */

struct params {
    uint32_t triangles_per_mesh;
    uint32_t eye_width, eye_height;
    unsigned frames;     /* timed frames per renderer and view */
    unsigned cull_calls; /* timed rr_frame_cull calls per path, view and grid */
};

static const struct params full_params = {50000, 1280, 720, 5, 101};
static const struct params quick_params = {5000, 320, 180, 2, 21};

struct view_dir {
    const char *name;
    float yaw; /* radians about +Y; 0 looks along −Z at the grid */
};

static const struct view_dir views[] = {
    {"facing", 0.0f},
    {"half", 0.55f}, /* the grid's left part only */
    {"away", 3.14159265f},
};
#define VIEW_COUNT (sizeof(views) / sizeof(views[0]))

struct figure {
    double frame_ms[2]; /* median wall time: [0] OpenRR, [1] naive */
    double cpu_ms[2];   /* median CPU time of all the process's threads (llvmpipe's too) */
    struct rr_render_stats stats[2];
};

/* rr_frame_cull alone on one grid and view: median wall times in microseconds. */
struct cull_figure {
    size_t draws, visible;
    double linear_us; /* generation 0: every box against both frusta */
    double bvh_us;    /* over the tree kept from an earlier call */
    double build_us;  /* the call that builds the tree (the linear loop, then the build) */
    struct rr_bvh_cull_stats stats; /* of a traversal */
};

static void usage(FILE *out)
{
    fprintf(out,
            "usage: bench_render [--quick] [--help]\n"
            "\n"
            "Renders a %dx%d grid of a generated sphere (5 M triangles in all) for two eyes at\n"
            "2 x 1280 x 720 with libopenrr_render and with the naive baseline (one draw call per\n"
            "mesh part, no culling), facing the grid, half turned and turned away, and prints a\n"
            "table plus one BENCH {json} line per figure. Then times the CPU culling alone\n"
            "(BVH against the linear loop) on that grid and on a %dx%d one.\n"
            "\n"
            "  --quick  50 k triangles at 2 x 320 x 180, 2 frames (for the test suite)\n"
            "  --help   this text\n"
            "\n"
            "Exit status: 0 when every figure was measured, 1 on a functional error, 2 on bad\n"
            "usage. The figures never change the exit status.\n",
            GRID, GRID, CULL_GRID, CULL_GRID);
}

/* Generate and convert the sphere; the path of the .rrasset in @p out. */
static bool make_asset(const char *dir, uint32_t triangles, char *out, size_t out_size)
{
#if defined(RR_CONVERT_TOOL) && defined(RR_MAKE_GLTF)
    char cmd[1024];
    snprintf(cmd, sizeof(cmd),
             "python3 '%s' '%s/sphere.glb' %u --shape sphere >/dev/null && "
             "'%s' '%s/sphere.glb' '%s' >/dev/null",
             RR_MAKE_GLTF, dir, triangles, RR_CONVERT_TOOL, dir, dir);
    if (system(cmd) != 0) {
        fprintf(stderr, "bench_render: generating or converting the sphere failed: %s\n", cmd);
        return false;
    }
    snprintf(out, out_size, "%s/sphere.rrasset", dir);
    return true;
#else
    fprintf(stderr, "bench_render: built without openrr-convert\n");
    return false;
#endif
}

/* side × side instances of the sphere 2.5 m apart on the plane z = −20, centred on the z axis. */
static struct rr_scene_draw *grid_of(const struct rr_asset *asset, int side)
{
    struct rr_scene_draw *draws = calloc((size_t)side * side, sizeof(*draws));
    for (int i = 0; draws && i < side * side; i++) {
        struct rr_scene_draw *d = &draws[i];
        *d = (struct rr_scene_draw){
            .asset = asset,
            .mesh_index = 0,
            .world = {1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1},
            .tint = {1, 1, 1, 1},
            .material_override = -1,
            .entity_id = (uint32_t)i,
        };
        d->world[12] = ((float)(i % side) - (side - 1) / 2.0f) * SPACING;
        d->world[13] = ((float)(i / side) - (side - 1) / 2.0f) * SPACING;
        d->world[14] = -GRID_DISTANCE;
    }
    return draws;
}

static void eyes_for(struct rr_render_eye eyes[2], float yaw)
{
    /* Quaternion about +Y; eyes 6.4 cm apart along the turned x axis; ±45° × ±40°. */
    float s = sinf(yaw / 2), c = cosf(yaw / 2);
    for (int e = 0; e < 2; e++) {
        float dx = e ? 0.032f : -0.032f;
        eyes[e] = (struct rr_render_eye){
            .position = {dx * cosf(yaw), 0.0f, -dx * sinf(yaw)},
            .orientation = {0.0f, s, 0.0f, c},
            .angle_left = -0.785f,
            .angle_right = 0.785f,
            .angle_up = 0.70f,
            .angle_down = -0.70f,
        };
    }
}

static double cpu_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* One frame; its wall time in *wall_ms and the process's CPU time in *cpu_ms. The CPU time
 * moves much less than the wall time when other work shares the machine. */
static bool frame(struct rr_renderer *r, const struct rr_scene_view *view,
                  const struct rr_render_eye eyes[2], struct rr_render_stats *st, double *wall_ms,
                  double *cpu_ms)
{
    char err[256];
    double c0 = cpu_now_ms();
    uint64_t t0 = bench_now_ns();
    bool ok = rr_renderer_draw(r, view, eyes, st, err, sizeof(err));
    if (!ok)
        fprintf(stderr, "bench_render: %s\n", err);
    glFinish();
    *wall_ms = (double)(bench_now_ns() - t0) / 1e6;
    *cpu_ms = cpu_now_ms() - c0;
    return ok;
}

static bool measure(struct rr_renderer *r, const struct rr_scene_view *view,
                    const struct view_dir *dir, unsigned frames, struct figure *fig)
{
    struct rr_render_eye eyes[2];
    eyes_for(eyes, dir->yaw);
    struct bench_samples wall[2], cpu[2];
    for (int k = 0; k < 2; k++)
        if (!bench_samples_init(&wall[k], frames) || !bench_samples_init(&cpu[k], frames))
            return false;
    bool ok = true;
    /* One untimed frame each (first use of the per-frame buffers), then alternate. */
    for (unsigned i = 0; i <= frames && ok; i++) {
        for (int k = 0; k < 2 && ok; k++) {
            rr_renderer_set_naive(r, k == 1);
            double w, c;
            ok = frame(r, view, eyes, &fig->stats[k], &w, &c);
            if (i > 0) {
                bench_samples_add(&wall[k], w);
                bench_samples_add(&cpu[k], c);
            }
        }
    }
    rr_renderer_set_naive(r, false);
    for (int k = 0; k < 2; k++) {
        fig->frame_ms[k] = bench_samples_median(&wall[k]);
        fig->cpu_ms[k] = bench_samples_median(&cpu[k]);
        bench_samples_fini(&wall[k]);
        bench_samples_fini(&cpu[k]);
    }
    return ok;
}

/* The eyes as the renderer sets them up (renderer.c). */
static void frame_eyes(const struct rr_render_eye eyes[2], struct rr_frame_eye fe[2])
{
    for (int e = 0; e < 2; e++) {
        float view[16], proj[16];
        rr_mat4_view_from_pose(view, eyes[e].position, eyes[e].orientation);
        rr_mat4_projection_fov(proj, eyes[e].angle_left, eyes[e].angle_right, eyes[e].angle_up,
                               eyes[e].angle_down, NEAR_PLANE);
        rr_mat4_mul(fe[e].view_proj, proj, view);
        memcpy(fe[e].position, eyes[e].position, sizeof(fe[e].position));
        rr_frustum_from_matrix(&fe[e].frustum, fe[e].view_proj);
    }
}

/* One rr_frame_cull; its wall time in microseconds, or -1 when it failed or took another path
 * than @p path. */
static double cull_once(struct rr_frame_plan *plan, struct rr_asset_registry *reg,
                        const struct rr_scene_view *view, const struct rr_frame_eye fe[2],
                        enum rr_frame_cull_path path, struct rr_frame_counts *counts)
{
    size_t visible = 0;
    memset(counts, 0, sizeof(*counts));
    uint64_t t0 = bench_now_ns();
    bool ok = rr_frame_cull(plan, reg, view, fe, true, counts, &visible);
    double us = (double)(bench_now_ns() - t0) / 1e3;
    struct rr_frame_cull_info info;
    rr_frame_cull_info(plan, &info);
    if (!ok || info.last_path != path) {
        fprintf(stderr, "bench_render: rr_frame_cull failed or took path %d instead of %d\n",
                (int)info.last_path, (int)path);
        return -1.0;
    }
    return us;
}

static bool measure_cull(struct rr_asset_registry *reg, const struct rr_scene_draw *draws, size_t n,
                         const struct view_dir *dir, unsigned calls, struct cull_figure *fig)
{
    struct rr_render_eye eyes[2];
    eyes_for(eyes, dir->yaw);
    struct rr_frame_eye fe[2];
    frame_eyes(eyes, fe);
    struct rr_frame_plan plan;
    memset(&plan, 0, sizeof(plan));
    struct bench_samples lin, bvh, build;
    unsigned builds = calls / 4 + 1; /* a build costs a few linear passes */
    bool ok = bench_samples_init(&lin, calls) && bench_samples_init(&bvh, calls) &&
              bench_samples_init(&build, builds);
    struct rr_scene_view view = {.draws = draws, .draw_count = n};
    struct rr_frame_counts c_lin, c_bvh;
    /* Alternate: linear (generation 0), then a new generation culled twice (the second call
     * builds), then over that tree; the first round warms up and is not kept. */
    for (unsigned i = 0; i <= calls && ok; i++) {
        view.generation = 0;
        double l = cull_once(&plan, reg, &view, fe, RR_FRAME_CULL_LINEAR, &c_lin);
        double b = -1.0;
        view.generation = 1000 + i;
        if (i <= builds) {
            ok = ok && cull_once(&plan, reg, &view, fe, RR_FRAME_CULL_LINEAR, &c_bvh) >= 0;
            b = cull_once(&plan, reg, &view, fe, RR_FRAME_CULL_BUILD, &c_bvh);
        } else {
            view.generation = 1000 + builds;
        }
        double t = cull_once(&plan, reg, &view, fe, RR_FRAME_CULL_BVH, &c_bvh);
        ok = ok && l >= 0 && t >= 0 && (i > builds || b >= 0);
        if (ok && i > 0) {
            bench_samples_add(&lin, l);
            bench_samples_add(&bvh, t);
            if (i <= builds)
                bench_samples_add(&build, b);
        }
    }
    /* The two paths must agree, or the figures compare different work. */
    if (ok &&
        (c_lin.draws_rendered != c_bvh.draws_rendered || c_lin.draws_culled != c_bvh.draws_culled ||
         c_lin.draws_invalid != c_bvh.draws_invalid)) {
        fprintf(stderr, "bench_render: the BVH and the linear loop disagree\n");
        ok = false;
    }
    struct rr_frame_cull_info info;
    rr_frame_cull_info(&plan, &info);
    fig->draws = n;
    fig->visible = c_bvh.draws_rendered;
    fig->linear_us = bench_samples_median(&lin);
    fig->bvh_us = bench_samples_median(&bvh);
    fig->build_us = bench_samples_median(&build);
    fig->stats = info.last_stats;
    bench_samples_fini(&lin);
    bench_samples_fini(&bvh);
    bench_samples_fini(&build);
    rr_frame_plan_free(&plan);
    return ok;
}

static double ratio(double a, double b)
{
    return a >= 0 && b > 0 ? a / b : -1.0;
}

static void report(const struct params *p, uint64_t scene_triangles, const struct figure *figs,
                   const struct cull_figure culls[][2])
{
    printf("\nbench_render: %d instances, %llu triangles, 2 x %u x %u, median of %u frames\n\n",
           GRID * GRID, (unsigned long long)scene_triangles, p->eye_width, p->eye_height,
           p->frames);
    printf("%-7s %-7s %9s %7s %9s %7s %6s %13s %6s %6s\n", "view", "path", "frame ms", "ratio",
           "cpu ms", "ratio", "draws", "tris (2 eyes)", "culled", "calls");
    for (size_t v = 0; v < VIEW_COUNT; v++) {
        const struct figure *f = &figs[v];
        for (int k = 0; k < 2; k++) {
            const struct rr_render_stats *st = &f->stats[k];
            printf("%-7s %-7s %9.1f", views[v].name, k ? "naive" : "openrr", f->frame_ms[k]);
            if (k == 0)
                printf(" %6.3fx %9.1f %6.3fx", ratio(f->frame_ms[0], f->frame_ms[1]), f->cpu_ms[0],
                       ratio(f->cpu_ms[0], f->cpu_ms[1]));
            else
                printf(" %7s %9.1f %7s", "", f->cpu_ms[1], "");
            printf(" %6u %13llu %6u %6u\n", st->draws_rendered,
                   (unsigned long long)st->triangles_rendered, st->draws_culled, st->gl_draw_calls);
        }
    }
    printf("\n");
    for (size_t v = 0; v < VIEW_COUNT; v++) {
        const struct figure *f = &figs[v];
        printf("BENCH {\"name\":\"render_%s_frame_ms\",\"value\":%.3f,\"anchor\":%.3f,"
               "\"ratio\":%.4f,\"unit\":\"ms\"}\n",
               views[v].name, f->frame_ms[0], f->frame_ms[1],
               ratio(f->frame_ms[0], f->frame_ms[1]));
        printf("BENCH {\"name\":\"render_%s_cpu_ms\",\"value\":%.3f,\"anchor\":%.3f,"
               "\"ratio\":%.4f,\"unit\":\"ms\"}\n",
               views[v].name, f->cpu_ms[0], f->cpu_ms[1], ratio(f->cpu_ms[0], f->cpu_ms[1]));
        printf(
            "BENCH {\"name\":\"render_%s_triangles\",\"value\":%llu,\"anchor\":%llu,"
            "\"ratio\":%.4f,\"unit\":\"triangles\"}\n",
            views[v].name, (unsigned long long)f->stats[0].triangles_rendered,
            (unsigned long long)f->stats[1].triangles_rendered,
            ratio((double)f->stats[0].triangles_rendered, (double)f->stats[1].triangles_rendered));
    }
    printf("\nculling alone (rr_frame_cull on the CPU), median of %u calls per path, wall us\n\n",
           p->cull_calls);
    printf("%-7s %6s %7s %10s %8s %7s %9s %6s %6s\n", "view", "draws", "visible", "linear us",
           "bvh us", "ratio", "build us", "nodes", "tests");
    for (size_t v = 0; v < VIEW_COUNT; v++) {
        for (int k = 0; k < 2; k++) {
            const struct cull_figure *c = &culls[v][k];
            printf("%-7s %6zu %7zu %10.1f %8.1f %6.3fx %9.1f %6u %6u\n", views[v].name, c->draws,
                   c->visible, c->linear_us, c->bvh_us, ratio(c->bvh_us, c->linear_us), c->build_us,
                   c->stats.nodes_visited, c->stats.boxes_tested);
        }
    }
    printf("\n");
    for (size_t v = 0; v < VIEW_COUNT; v++) {
        for (int k = 0; k < 2; k++) {
            const struct cull_figure *c = &culls[v][k];
            printf("BENCH {\"name\":\"render_%s_cull%s_us\",\"value\":%.3f,\"anchor\":%.3f,"
                   "\"ratio\":%.4f,\"unit\":\"us\"}\n",
                   views[v].name, k ? "_10k" : "", c->bvh_us, c->linear_us,
                   ratio(c->bvh_us, c->linear_us));
        }
    }
    for (int k = 0; k < 2; k++) {
        const struct cull_figure *c = &culls[0][k];
        printf("BENCH {\"name\":\"render_cull_build%s_us\",\"value\":%.3f,\"anchor\":%.3f,"
               "\"ratio\":%.4f,\"unit\":\"us\"}\n",
               k ? "_10k" : "", c->build_us, c->linear_us, ratio(c->build_us, c->linear_us));
    }
    double load[3] = {-1, -1, -1};
    getloadavg(load, 3);
    printf("\nnotes: frame = rr_renderer_draw + glFinish (wall); cpu = CPU time of all threads\n"
           "       (llvmpipe's rasteriser threads included) over the same span; ratio = openrr /\n"
           "       naive, lower is better. naive = one draw call per mesh part, no culling, no\n"
           "       batching, all state bound per draw; same shaders, buffers and target.\n"
           "       culling: linear = every draw's box against both frusta (generation 0);\n"
           "       bvh = over the tree kept from an earlier call, ratio = bvh / linear; build =\n"
           "       the call that builds the tree (a linear pass, then the build); nodes, tests =\n"
           "       nodes visited and boxes tested one by one in a traversal. 10k = a %dx%d grid\n"
           "       of the same spheres, same spacing and plane.\n"
           "       load average at the end: %.2f %.2f %.2f\n",
           CULL_GRID, CULL_GRID, load[0], load[1], load[2]);
}

int main(int argc, char **argv)
{
    const struct params *p = &full_params;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0) {
            p = &quick_params;
        } else if (strcmp(argv[i], "--help") == 0) {
            usage(stdout);
            return 0;
        } else {
            usage(stderr);
            return 2;
        }
    }
    char dir[] = "/tmp/bench_render.XXXXXX";
    if (!mkdtemp(dir)) {
        perror("bench_render: mkdtemp");
        return 1;
    }
    int status = 1;
    char path[256], err[256];
    struct rr_asset *asset = NULL;
    struct rr_renderer *r = NULL;
    struct rr_render_asset *handle = NULL;
    struct rr_scene_draw *draws = NULL, *many = NULL;
    struct rr_asset_registry reg;
    struct rr_render_asset *reg_handle = NULL;
    memset(&reg, 0, sizeof(reg));
    fprintf(stderr, "bench: generating a %u-triangle sphere and converting it\n",
            p->triangles_per_mesh);
    if (!make_asset(dir, p->triangles_per_mesh, path, sizeof(path)))
        goto out;
    if (rr_asset_open(path, 0, &asset, err, sizeof(err)) != RR_ASSET_OK) {
        fprintf(stderr, "bench_render: %s\n", err);
        goto out;
    }
    struct rr_renderer_config cfg = {
        .eye_width = p->eye_width,
        .eye_height = p->eye_height,
        .clear_colour = {0.1f, 0.1f, 0.12f, 1.0f},
    };
    if (!rr_renderer_create(&cfg, &r, err, sizeof(err)) ||
        !rr_renderer_asset_get(r, asset, &handle, err, sizeof(err))) {
        fprintf(stderr, "bench_render: %s\n", err);
        goto out;
    }
    fprintf(stderr, "bench: %s display, %s\n", rr_renderer_platform_name(r),
            rr_renderer_gl_renderer(r));
    draws = grid_of(asset, GRID);
    many = grid_of(asset, CULL_GRID);
    if (!draws || !many)
        goto out;
    /* A static scene: one generation, so the renderer keeps its culling tree. */
    struct rr_scene_view view = {.draws = draws, .draw_count = GRID * GRID, .generation = 1};
    struct figure figs[VIEW_COUNT];
    memset(figs, 0, sizeof(figs));
    for (size_t v = 0; v < VIEW_COUNT; v++) {
        fprintf(stderr, "bench: %-8s view, %u frames per renderer\n", views[v].name, p->frames);
        if (!measure(r, &view, &views[v], p->frames, &figs[v]))
            goto out;
    }
    /* The culling figures use their own registry and plan: rr_frame_cull is internal. */
    if (!rr_asset_registry_get(&reg, asset, &reg_handle, err, sizeof(err))) {
        fprintf(stderr, "bench_render: %s\n", err);
        goto out;
    }
    struct cull_figure culls[VIEW_COUNT][2];
    memset(culls, 0, sizeof(culls));
    fprintf(stderr, "bench: culling alone, %u calls per path, view and grid\n", p->cull_calls);
    for (size_t v = 0; v < VIEW_COUNT; v++)
        if (!measure_cull(&reg, draws, GRID * GRID, &views[v], p->cull_calls, &culls[v][0]) ||
            !measure_cull(&reg, many, CULL_GRID * CULL_GRID, &views[v], p->cull_calls,
                          &culls[v][1]))
            goto out;
    size_t meshes = 0;
    const struct rr_asset_mesh *m = rr_asset_section_data(asset, RR_SECTION_MESHES, &meshes);
    uint64_t scene_triangles = meshes ? (uint64_t)m[0].index_count / 3 * GRID * GRID : 0;
    report(p, scene_triangles, figs, culls);
    status = 0;
out:
    if (reg_handle)
        rr_asset_registry_release(&reg, reg_handle);
    if (r) {
        rr_renderer_asset_release(r, &handle);
        rr_renderer_destroy(&r);
    }
    rr_asset_close(&asset);
    free(draws);
    free(many);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "bench_render: could not remove %s\n", dir);
    return status;
}
