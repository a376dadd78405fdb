/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rr_convert_run: the conversion from start to end. Reads top to bottom as the stages run:
 * checks, settings, import, plan (materials, textures), geometry, point clouds, nodes, release
 * of the assimp scene, collision BVHs, mesh records, the file, info.json; result.json always.
 */
#include "model.h"
#include "report.h"
#include "u_log.h"
#include "u_time.h"

#include <assimp/scene.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char *model_name(const char *input)
{
    const char *base = strrchr(input, '/');
    base = base != NULL ? base + 1 : input;
    const char *dot = strrchr(base, '.');
    return dot != NULL && dot != base ? strndup(base, (size_t)(dot - base)) : strdup(base);
}

/* mkdir -p; false with errno set. */
static bool make_dirs(const char *path)
{
    char *p = strdup(path);
    if (p == NULL) {
        return false;
    }
    bool ok = true;
    for (char *s = p + 1; ok; s++) {
        if (*s != '/' && *s != '\0') {
            continue;
        }
        char c = *s;
        *s = '\0';
        if (mkdir(p, 0755) != 0 && errno != EEXIST) {
            ok = false;
        }
        *s = c;
        if (c == '\0') {
            break;
        }
    }
    free(p);
    struct stat sb;
    if (ok && (stat(path, &sb) != 0 || !S_ISDIR(sb.st_mode))) {
        errno = ENOTDIR;
        ok = false;
    }
    if (ok && access(path, W_OK | X_OK) != 0) {
        ok = false;
    }
    return ok;
}

static bool valid_name(const char *name)
{
    return name[0] != '\0' && strchr(name, '/') == NULL && strcmp(name, ".") != 0 &&
           strcmp(name, "..") != 0;
}

/* The settings file: --settings, else <model>.ConversionSettings.json beside the input. */
static enum rr_convert_code load_settings(struct rr_convert_ctx *ctx)
{
    if (ctx->opt->settings_path != NULL) {
        return rr_convert_settings_load(&ctx->settings, ctx->opt->settings_path, ctx->status);
    }
    char *model = model_name(ctx->opt->input);
    char *path = NULL;
    if (model == NULL ||
        asprintf(&path, "%s/%s.ConversionSettings.json", ctx->input_dir, model) < 0) {
        free(model);
        return rr_convert_fail(ctx->status, RR_CONVERT_INTERNAL_ERROR, "out of memory");
    }
    free(model);
    enum rr_convert_code c = RR_CONVERT_OK;
    if (access(path, F_OK) == 0) {
        c = rr_convert_settings_load(&ctx->settings, path, ctx->status);
    }
    free(path);
    return c;
}

/* Settings the format cannot honour, said once rather than silently dropped. */
static void note_settings(struct rr_convert_ctx *ctx)
{
    if (ctx->settings.vertex.binormal != RR_VERTEX_NONE) {
        rr_convert_warn(ctx->status, "BinormalDerived", "Binormal not stored",
                        "the asset format has no binormal stream: renderers derive it as "
                        "cross(normal, tangent.xyz) * tangent.w");
    }
    if (ctx->settings.vertex.color1 != RR_VERTEX_NONE) {
        rr_convert_warn(ctx->status, "Color1NotStored", "Second colour stream not stored",
                        "the asset format holds one vertex colour stream (color0); color1 was "
                        "ignored");
    }
}

static bool point_cloud_scene(const struct rr_convert_ctx *ctx)
{
    if (ctx->point_cloud_input) {
        return true;
    }
    bool points = false;
    for (unsigned i = 0; i < ctx->scene->mNumMeshes; i++) {
        unsigned t = ctx->scene->mMeshes[i]->mPrimitiveTypes;
        if (t & aiPrimitiveType_TRIANGLE) {
            return false;
        }
        points |= (t & aiPrimitiveType_POINT) != 0 || ctx->scene->mMeshes[i]->mNumFaces == 0;
    }
    return points;
}

/* Stage timings at OPENRR_LOG=info: what to look at first when a conversion is slow. */
static void timed(const char *stage, uint64_t *t)
{
    uint64_t now = u_time_us();
    U_LOG_I("convert", "%s: %.3f s", stage, (double)(now - *t) / 1e6);
    *t = now;
}

static enum rr_convert_code stages(struct rr_convert_ctx *ctx, const char *asset_path,
                                   const char *info_path)
{
    uint64_t t = u_time_us();
    enum rr_convert_code c = rr_convert_import_check(ctx);
    if (c == RR_CONVERT_OK) {
        c = load_settings(ctx);
    }
    if (c != RR_CONVERT_OK) {
        return c;
    }
    rr_convert_progress_update(ctx->progress, RR_STAGE_IMPORT, 0.0);
    c = rr_convert_import(ctx);
    if (c != RR_CONVERT_OK) {
        return c;
    }
    timed("import", &t);
    rr_convert_settings_resolve(&ctx->settings,
                                ctx->kind == RR_INPUT_FBX || point_cloud_scene(ctx));
    note_settings(ctx);
    rr_convert_progress_update(ctx->progress, RR_STAGE_IMPORT, 1.0);
    if (rr_asset_writer_create(&ctx->writer) != RR_ASSET_OK) {
        return rr_convert_fail(ctx->status, RR_CONVERT_INTERNAL_ERROR, "out of memory");
    }

    c = rr_convert_scene_plan(ctx);
    timed("plan, materials, textures", &t);
    if (c == RR_CONVERT_OK) {
        rr_convert_progress_update(ctx->progress, RR_STAGE_TEXTURES, 1.0);
        c = rr_convert_output_geometry(ctx);
        timed("optimise, quantise", &t);
    }
    if (c == RR_CONVERT_OK) {
        c = rr_convert_output_point_clouds(ctx);
    }
    if (c == RR_CONVERT_OK) {
        c = rr_convert_output_nodes(ctx);
    }
    /* From here on only our own buffers are needed: give assimp's memory back before the
     * BVHs, the stage with the largest working set of its own. */
    rr_convert_import_release(ctx);
    timed("point clouds, nodes, release", &t);
    if (c == RR_CONVERT_OK) {
        c = rr_convert_output_collision(ctx);
        timed("bvh", &t);
    }
    if (c == RR_CONVERT_OK) {
        c = rr_convert_output_meshes(ctx);
    }
    if (c == RR_CONVERT_OK) {
        c = rr_convert_output_finish(ctx, asset_path);
        timed("write", &t);
    }
    rr_asset_writer_destroy(&ctx->writer);
    if (c != RR_CONVERT_OK) {
        return c;
    }
    char hash[17];
    if (!rr_convert_hash_file(asset_path, hash)) {
        return rr_convert_fail(ctx->status, RR_CONVERT_OUTPUT_ERROR,
                               "cannot read back %s: %s: check the output folder", asset_path,
                               strerror(errno));
    }
    c = rr_convert_report_info(ctx, info_path, asset_path, hash);
    timed("hash, info", &t);
    rr_convert_progress_update(ctx->progress, RR_STAGE_WRITE, 1.0);
    return c;
}

static void ctx_fini(struct rr_convert_ctx *ctx)
{
    rr_convert_import_release(ctx);
    rr_asset_writer_destroy(&ctx->writer);
    for (size_t i = 0; i < ctx->mesh_count; i++) {
        free(ctx->meshes[i].indices);
        free(ctx->meshes[i].remap);
    }
    free(ctx->meshes);
    free(ctx->clouds);
    free(ctx->nodes);
    free(ctx->node_meshes);
    free(ctx->materials);
    free(ctx->material_of_src);
    free(ctx->textures);
    free(ctx->input_dir);
    free(ctx->in_info.format);
    free(ctx->in_info.format_version);
    free(ctx->in_info.generator);
    rr_convert_settings_fini(&ctx->settings);
}

enum rr_convert_code rr_convert_run(const struct rr_convert_options *opt)
{
    struct rr_convert_status st;
    memset(&st, 0, sizeof(st));
    struct rr_convert_progress progress;
    rr_convert_progress_init(&progress, opt->json_progress, opt->progress_bar);
    struct rr_convert_ctx ctx;
    memset(&ctx, 0, sizeof(ctx));
    ctx.opt = opt;
    ctx.status = &st;
    ctx.progress = &progress;
    rr_convert_settings_init(&ctx.settings);

    char *name = opt->name != NULL ? strdup(opt->name) : model_name(opt->input);
    char *asset_path = NULL;
    char *info_path = NULL;
    char *result_path = NULL;
    bool can_report = false;
    if (name == NULL || asprintf(&asset_path, "%s/%s.rrasset", opt->output_dir, name) < 0 ||
        asprintf(&info_path, "%s/%s.info.json", opt->output_dir, name) < 0 ||
        asprintf(&result_path, "%s/%s.result.json", opt->output_dir, name) < 0) {
        rr_convert_fail(&st, RR_CONVERT_INTERNAL_ERROR, "out of memory");
    } else if (!valid_name(name)) {
        rr_convert_fail(&st, RR_CONVERT_USAGE,
                        "output name \"%s\" must be a plain file name (no '/')", name);
    } else if (!make_dirs(opt->output_dir)) {
        rr_convert_fail(&st, RR_CONVERT_OUTPUT_ERROR,
                        "output folder %s cannot be created or written: %s: check the path and "
                        "its permissions",
                        opt->output_dir, strerror(errno));
    } else {
        can_report = true;
        stages(&ctx, asset_path, info_path);
    }
    ctx_fini(&ctx);

    enum rr_convert_code code = st.code;
    if (can_report && !rr_convert_report_result(&st, result_path) && code == RR_CONVERT_OK) {
        code = rr_convert_fail(&st, RR_CONVERT_OUTPUT_ERROR,
                               "cannot write %s: %s: check that the output folder is writable "
                               "and has free space",
                               result_path, strerror(errno));
    }
    rr_convert_progress_done(&progress, code == RR_CONVERT_OK);
    if (code != RR_CONVERT_OK) {
        fprintf(stderr, "error: %s: %s\n", rr_convert_code_name(code),
                st.error.details != NULL ? st.error.details : rr_convert_code_title(code));
    }
    free(name);
    free(asset_path);
    free(info_path);
    free(result_path);
    rr_convert_status_fini(&st);
    return code;
}
