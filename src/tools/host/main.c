/* SPDX-License-Identifier: Apache-2.0 */
/*
 * openrr-host — the rendering session host (DESIGN §9, docs/host.md): loads assets, serves
 * the client's scene API, renders both eyes for the newest pose with EGL + OpenGL 4.5 and
 * streams them to one client after another.
 *
 * main() wires the modules in the order a failure should be found: command line and security
 * material, encoder, renderer, preloaded assets, scene and its server, remoting context and
 * stream, inspector; then host_serve() (host_session.c) runs the connections.
 *
 * Threads: the main thread does all of this and owns the GL context; the libraries run their
 * own threads (network, scene server, inspector).
 */
#include "host.h"
#include "host_register.h"
#include "host_trace.h"

#include <tool_util.h>

#include <stdio.h>
#include <string.h>

#define PROG "openrr-host"

enum exit_status {
    EXIT_OK = 0,
    EXIT_OTHER = 1,  /* renderer, encoder, assets, files, ports, memory */
    EXIT_USAGE = 64, /* EX_USAGE of sysexits.h */
};

static volatile sig_atomic_t g_stop;

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs(PROG ": ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return EXIT_OTHER;
}

/* tool_conn's progress lines go to stderr: stdout carries only the readiness line. */
static void say_hook(void *user, const char *fmt, va_list ap)
{
    (void)user;
    fputs(PROG ": ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

static int load_jwks(struct host *h)
{
    const struct host_options *o = h->opt;
    char err[256] = "";
    if (o->token_jwks == NULL) {
        return EXIT_OK;
    }
    enum rr_jwt_result r = rr_jwks_load_file(o->token_jwks, &h->jwks, err, sizeof err);
    if (r != RR_JWT_OK) {
        return fail("cannot load the JWK Set '%s': %s", o->token_jwks,
                    err[0] != '\0' ? err : rr_jwt_result_str(r));
    }
    struct rr_jwt_expect expect;
    rr_jwt_expect_init(&expect);
    expect.issuer = o->token_issuer;
    expect.audience = o->token_audience;
    expect.account_id = o->account_id;
    expect.required_role = RR_JWT_ROLE_CLIENT;
    r = rr_jwt_receiver_init(&h->jwt, h->jwks, o->account_domain, &expect);
    if (r != RR_JWT_OK) {
        fail("--account-domain '%s' or --account-id is not usable (%s)", o->account_domain,
             rr_jwt_result_str(r));
        return EXIT_USAGE;
    }
    return EXIT_OK;
}

/* Fail before listening, rather than at the first frame with a client waiting. */
static int probe_encoder(const struct host_options *o, const char *codecs)
{
    char codec[16];
    char err[256] = "";
    size_t len = strcspn(codecs, ",");
    snprintf(codec, sizeof codec, "%.*s", (int)len, codecs);
    enum rr_result r = rr_stream_probe_encoder(o->encoder, codec, o->eye_width * 2, o->eye_height,
                                               err, sizeof err);
    if (r != RR_OK) {
        return fail("encoder %s cannot encode %s at %ux%u: %s",
                    o->encoder != NULL ? o->encoder : "auto", codec, o->eye_width * 2,
                    o->eye_height, err[0] != '\0' ? err : rr_result_str(r));
    }
    return EXIT_OK;
}

static int create_renderer(struct host *h)
{
    const struct host_options *o = h->opt;
    char err[256] = "";
    struct rr_renderer_config cfg = {
        .eye_width = o->eye_width,
        .eye_height = o->eye_height,
        .primitive_budget = host_options_budget(o),
        .clear_colour = {0.0f, 0.0f, 0.0f, 1.0f},
    };
    if (!rr_renderer_create(&cfg, &h->renderer, err, sizeof err)) {
        return fail("cannot start the renderer: %s", err);
    }
    fprintf(stderr, PROG ": rendering with %s (%s)\n", rr_renderer_gl_renderer(h->renderer),
            rr_renderer_platform_name(h->renderer));
    return EXIT_OK;
}

static int preload_assets(struct host *h)
{
    const struct host_options *o = h->opt;
    if (rr_asset_cache_create(NULL, &h->cache) != RR_SCENE_SUCCESS ||
        !host_assets_init(&h->assets, &h->cache->base, h->renderer)) {
        return fail("cannot create the asset cache");
    }
    for (size_t i = 0; i < o->asset_count; i++) {
        char err[256] = "";
        if (!host_assets_preload(&h->assets, o->assets[i], &h->preloaded[i], err, sizeof err)) {
            /* An http(s) URI's query may hold a SAS token, and loaders quote the URI. */
            char shown[512], why[512];
            host_uri_display(o->assets[i], shown, sizeof shown);
            host_uri_scrub(err, o->assets[i], why, sizeof why);
            return fail("cannot load the asset '%s': %s", shown, why);
        }
    }
    return EXIT_OK;
}

static int create_session(struct host *h)
{
    const struct host_options *o = h->opt;
    const char *codecs = rr_stream_remote_codecs(o->encoder);
    int code = probe_encoder(o, codecs);
    if (code != EXIT_OK) {
        return code;
    }
    struct rr_scene_config sc = {.primitive_budget = host_options_budget(o)};
    enum rr_scene_result sr = rr_scene_create(&sc, &h->scene);
    if (sr != RR_SCENE_SUCCESS) {
        return fail("cannot create the scene: %s", rr_scene_result_str(sr));
    }
    struct rr_context_config cfg = {.role = RR_ROLE_REMOTE, .codecs = codecs};
    tool_conn_fill_config(h->tc, &cfg);
    enum rr_result r = rr_context_create(&cfg, &h->ctx);
    if (r != RR_OK) {
        return fail("cannot create the remoting context: %s", rr_result_str(r));
    }
    struct rr_stream_remote_config rc = {
        .eye_width = o->eye_width,
        .eye_height = o->eye_height,
        .fps = o->fps,
        .max_bitrate_kbps = o->max_bitrate_kbps,
        .encoder = o->encoder,
    };
    r = rr_stream_remote_create(h->ctx, &rc, &h->remote);
    if (r != RR_OK) {
        return fail("cannot create the stream: %s", rr_result_str(r));
    }
    struct rr_scene_server_config ssc = {.loader = &h->assets.base};
    sr = rr_scene_server_create(h->ctx, h->scene, &ssc, &h->server);
    if (sr != RR_SCENE_SUCCESS) {
        return fail("cannot start the scene server: %s", rr_scene_result_str(sr));
    }
    return EXIT_OK;
}

/* With --token-jwks the inspector also takes the session's access tokens (the SDK's inspector
 * page sends the one it connects with): the JWK Set, account, issuer, audience and role of the
 * remoting receiver. Runs on the inspector's connection threads; rr_jwt_verify is thread-safe
 * on the shared, unchanging key set. */
static bool verify_inspector_token(void *user, const char *token)
{
    const struct host *h = user;
    const struct host_options *o = h->opt;
    struct rr_jwt_expect expect;
    rr_jwt_expect_init(&expect);
    expect.issuer = o->token_issuer;
    expect.audience = o->token_audience;
    expect.account_id = o->account_id;
    expect.required_role = RR_JWT_ROLE_CLIENT;
    return rr_jwt_verify(h->jwks, token, &expect, NULL, NULL, 0) == RR_JWT_OK;
}

static int start_inspector(struct host *h)
{
    const struct host_options *o = h->opt;
    host_inspect_init(&h->inspect, h->remote, h->scene);
    h->inspect_ready = true;
    if (o->inspector_port < 0) {
        return EXIT_OK;
    }
    struct rr_inspector_config cfg = {
        .bind_address = o->inspector_listen,
        .port = (uint16_t)o->inspector_port,
        .token = o->inspector_token,
        .verify_token = h->jwks != NULL ? verify_inspector_token : NULL,
        .verify_user = h,
#ifdef RR_INSPECTOR_WEB_ROOT
        .web_root = RR_INSPECTOR_WEB_ROOT,
#endif
        .source = &h->inspect.base,
        .capture_log = true,
        .log_level = U_LOG_INFO,
    };
    enum rr_inspector_error e = rr_inspector_create(&cfg, &h->inspector);
    if (e != RR_INSPECTOR_OK) {
        return fail("cannot start the inspector on %s port %d: %s",
                    o->inspector_listen != NULL ? o->inspector_listen : "127.0.0.1",
                    o->inspector_port, rr_inspector_strerror(e));
    }
    return EXIT_OK;
}

static int run(struct host *h)
{
    int code;
    if ((code = load_jwks(h)) != EXIT_OK || (code = create_renderer(h)) != EXIT_OK ||
        (code = preload_assets(h)) != EXIT_OK || (code = create_session(h)) != EXIT_OK ||
        (code = start_inspector(h)) != EXIT_OK) {
        return code;
    }
    /* The preloads' timings were kept for the inspector (dropped without one). */
    host_assets_set_inspector(&h->assets, h->inspector);
    /* A second signal kills, should the orderly end hang. */
    tool_install_signals(&g_stop, TOOL_SECOND_SIGNAL_KILLS_LATER);
    return host_serve(h);
}

/* Tear down in reverse, on this thread (the GL context's): the inspector stops reading, the
 * server and the scene give their assets back, then the renderer's handles, then the cache. */
static void shutdown_host(struct host *h)
{
    if (h->assets.priv != NULL) {
        host_assets_set_inspector(&h->assets, NULL); /* the scene server may still load */
    }
    rr_inspector_destroy(&h->inspector);
    rr_scene_server_destroy(&h->server);
    /* The stream may hold GL objects of the renderer's context, which is still current. */
    rr_stream_remote_destroy(&h->remote);
    rr_context_destroy(&h->ctx);
    rr_scene_destroy(&h->scene);
    if (h->assets.priv != NULL) {
        for (size_t i = 0; i < HOST_MAX_ASSETS; i++) {
            if (h->preloaded[i] != NULL) {
                rr_asset_loader_release(&h->assets.base, h->preloaded[i]);
                h->preloaded[i] = NULL;
            }
        }
        host_assets_fini(&h->assets);
    }
    rr_renderer_destroy(&h->renderer);
    rr_asset_cache_destroy(&h->cache);
    if (h->inspect_ready) {
        host_inspect_fini(&h->inspect);
    }
    rr_jwks_destroy(&h->jwks);
}

int main(int argc, char **argv)
{
    static struct tool_conn tc;
    static struct host_options opt;
    static struct host h;
    int code;

    if (!host_register_global_init()) {
        return fail("cannot initialise libcurl");
    }
    h.opt = &opt;
    h.tc = &tc;
    h.stop = &g_stop;
    tool_conn_init(&tc, PROG, true);
    tc.say = say_hook;
    enum host_options_result p = host_options_parse(&opt, &tc, argc, argv);
    if (p == HOST_OPTIONS_HELP) {
        code = EXIT_OK;
    } else if (p == HOST_OPTIONS_NO_MEMORY) {
        code = fail("out of memory while reading the command line");
    } else if (p == HOST_OPTIONS_USAGE) {
        code = EXIT_USAGE;
    } else {
        if (opt.token_jwks != NULL) {
            tc.receiver = &h.jwt.base; /* initialised in run(), before the first listen */
        }
        code = host_options_check(&opt, &tc);
        if (code == EXIT_OK) {
            code = run(&h);
        }
    }
    shutdown_host(&h);
    tool_conn_wipe(&tc);
    host_options_wipe(&opt);
    host_register_global_cleanup();
    return code;
}
