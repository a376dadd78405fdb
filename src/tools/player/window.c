/* SPDX-License-Identifier: Apache-2.0 */
/*
 * window — SDL2 window of openrr-player. See window.h. Threads: the creating thread only.
 */
#include "window.h"

#include <SDL.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

/* First size of the window: a 16:9 eye at half of 720p per eye, so that both eyes fit on a
 * laptop screen; the user may resize it. */
#define EYE_W 640
#define EYE_H 360

struct window {
    SDL_Window *win;
    SDL_Renderer *renderer;
    SDL_Texture *texture; /* IYUV, the frame's size; NULL before the first frame */
    int tex_w, tex_h;
    enum player_view view;
    bool dirty; /* exposed or resized: paint again even without a new frame */
};

bool window_display_available(void)
{
    static const char *const k_vars[] = {"DISPLAY", "WAYLAND_DISPLAY", "SDL_VIDEODRIVER"};
    for (size_t i = 0; i < sizeof k_vars / sizeof k_vars[0]; i++) {
        const char *v = getenv(k_vars[i]);
        if (v != NULL && v[0] != '\0') {
            return true;
        }
    }
    return false;
}

static bool fail(char *err, size_t err_size, const char *what)
{
    snprintf(err, err_size, "%s: %s", what, SDL_GetError());
    return false;
}

/* An accelerated renderer when there is one; SDL's software renderer otherwise (e.g. the
 * offscreen driver on a machine without a GPU). */
static SDL_Renderer *create_renderer(SDL_Window *win)
{
    SDL_Renderer *r = SDL_CreateRenderer(win, -1, 0);
    if (r == NULL) {
        r = SDL_CreateRenderer(win, -1, SDL_RENDERER_SOFTWARE);
    }
    return r;
}

bool window_create(const char *title, enum player_view view, struct window **out_window, char *err,
                   size_t err_size)
{
    *out_window = NULL;
    /* The player handles SIGINT and SIGTERM itself, the same with and without a window. */
    SDL_SetHint(SDL_HINT_NO_SIGNAL_HANDLERS, "1");
    /* Scale the video smoothly when the window is not the frame's size. */
    SDL_SetHint(SDL_HINT_RENDER_SCALE_QUALITY, "linear");
    /* Only the display the environment names: left to itself SDL also tries Wayland without
     * one (libwayland then prints an error) and falls back to an offscreen "window" that
     * nobody sees. $SDL_VIDEODRIVER, when set, still decides. */
    const char *requested = getenv("SDL_VIDEODRIVER");
    bool explicit_driver = requested != NULL && requested[0] != '\0';
    if (!explicit_driver) {
        const char *wayland = getenv("WAYLAND_DISPLAY");
        SDL_SetHint(SDL_HINT_VIDEODRIVER,
                    wayland != NULL && wayland[0] != '\0' ? "wayland,x11" : "x11");
    }
    /* Nobody sees an offscreen window (tests, CI): SDL's software renderer uploads and draws
     * the same frames without loading the GL driver, which on a machine without a GPU is
     * llvmpipe (a CPU core of its own) and which leaks at eglTerminate under LeakSanitizer.
     * These are hints: $SDL_RENDER_DRIVER and $SDL_FRAMEBUFFER_ACCELERATION still win. */
    if (explicit_driver && strcasecmp(requested, "offscreen") == 0) {
        SDL_SetHint(SDL_HINT_RENDER_DRIVER, "software");
        SDL_SetHint(SDL_HINT_FRAMEBUFFER_ACCELERATION, "0");
    }
    if (SDL_Init(SDL_INIT_VIDEO) != 0) {
        return fail(err, err_size, "SDL_Init");
    }
    struct window *w = calloc(1, sizeof *w);
    if (w == NULL) {
        SDL_Quit();
        snprintf(err, err_size, "out of memory");
        return false;
    }
    w->view = view;
    int width = view == PLAYER_VIEW_SBS ? 2 * EYE_W : 3 * EYE_W / 2;
    int height = view == PLAYER_VIEW_SBS ? EYE_H : 3 * EYE_H / 2;
    w->win = SDL_CreateWindow(title, SDL_WINDOWPOS_UNDEFINED, SDL_WINDOWPOS_UNDEFINED, width,
                              height, SDL_WINDOW_RESIZABLE | SDL_WINDOW_ALLOW_HIGHDPI);
    if (w->win == NULL) {
        fail(err, err_size, "SDL_CreateWindow");
        window_destroy(&w);
        return false;
    }
    w->renderer = create_renderer(w->win);
    if (w->renderer == NULL) {
        fail(err, err_size, "SDL_CreateRenderer");
        window_destroy(&w);
        return false;
    }
    /* Paint once now: a window that stays unpainted until the first frame looks hung. */
    w->dirty = true;
    if (!window_show(w, NULL, err, err_size)) {
        window_destroy(&w);
        return false;
    }
    *out_window = w;
    return true;
}

void window_destroy(struct window **window_ptr)
{
    struct window *w = window_ptr != NULL ? *window_ptr : NULL;
    if (w == NULL) {
        return;
    }
    if (w->texture != NULL) {
        SDL_DestroyTexture(w->texture);
    }
    if (w->renderer != NULL) {
        SDL_DestroyRenderer(w->renderer);
    }
    if (w->win != NULL) {
        SDL_DestroyWindow(w->win);
    }
    free(w);
    *window_ptr = NULL;
    SDL_Quit();
}

bool window_pump(struct window *w)
{
    SDL_Event ev;
    bool open = true;
    while (SDL_PollEvent(&ev)) {
        switch (ev.type) {
        case SDL_QUIT:
            open = false;
            break;
        case SDL_KEYDOWN:
            if (ev.key.keysym.sym == SDLK_ESCAPE || ev.key.keysym.sym == SDLK_q) {
                open = false;
            }
            break;
        case SDL_WINDOWEVENT:
            if (ev.window.event == SDL_WINDOWEVENT_EXPOSED ||
                ev.window.event == SDL_WINDOWEVENT_SIZE_CHANGED) {
                w->dirty = true;
            }
            break;
        default:
            break;
        }
    }
    return open;
}

/* The part of the frame this view shows. */
static SDL_Rect view_rect(const struct window *w)
{
    SDL_Rect r = {0, 0, w->tex_w, w->tex_h};
    if (w->view != PLAYER_VIEW_SBS) {
        r.w = w->tex_w / 2;
        r.x = w->view == PLAYER_VIEW_RIGHT ? r.w : 0;
    }
    return r;
}

/* A texture of the frame's size; the logical size letterboxes the view into the window. */
static bool ensure_texture(struct window *w, int width, int height, char *err, size_t err_size)
{
    if (w->texture != NULL && w->tex_w == width && w->tex_h == height) {
        return true;
    }
    if (w->texture != NULL) {
        SDL_DestroyTexture(w->texture);
    }
    w->texture = SDL_CreateTexture(w->renderer, SDL_PIXELFORMAT_IYUV, SDL_TEXTUREACCESS_STREAMING,
                                   width, height);
    if (w->texture == NULL) {
        w->tex_w = w->tex_h = 0;
        return fail(err, err_size, "SDL_CreateTexture");
    }
    w->tex_w = width;
    w->tex_h = height;
    SDL_Rect src = view_rect(w);
    if (SDL_RenderSetLogicalSize(w->renderer, src.w, src.h) != 0) {
        return fail(err, err_size, "SDL_RenderSetLogicalSize");
    }
    return true;
}

static bool upload(struct window *w, const struct rr_stream_frame *f, char *err, size_t err_size)
{
    if (f->width == 0 || f->height == 0 || f->width > INT32_MAX || f->height > INT32_MAX ||
        f->plane[0] == NULL || f->plane[1] == NULL || f->plane[2] == NULL) {
        snprintf(err, err_size, "the frame has no pixels");
        return false;
    }
    if (!ensure_texture(w, (int)f->width, (int)f->height, err, err_size)) {
        return false;
    }
    if (SDL_UpdateYUVTexture(w->texture, NULL, f->plane[0], f->stride[0], f->plane[1], f->stride[1],
                             f->plane[2], f->stride[2]) != 0) {
        return fail(err, err_size, "SDL_UpdateYUVTexture");
    }
    return true;
}

bool window_show(struct window *w, const struct rr_stream_frame *frame, char *err, size_t err_size)
{
    if (frame != NULL) {
        if (!upload(w, frame, err, err_size)) {
            return false;
        }
    } else if (!w->dirty) {
        return true;
    }
    w->dirty = false;
    SDL_SetRenderDrawColor(w->renderer, 0, 0, 0, 255);
    if (SDL_RenderClear(w->renderer) != 0) {
        return fail(err, err_size, "SDL_RenderClear");
    }
    if (w->texture != NULL) {
        SDL_Rect src = view_rect(w);
        if (SDL_RenderCopy(w->renderer, w->texture, &src, NULL) != 0) {
            return fail(err, err_size, "SDL_RenderCopy");
        }
    }
    SDL_RenderPresent(w->renderer);
    return true;
}

void window_set_title(struct window *w, const char *title)
{
    SDL_SetWindowTitle(w->win, title);
}

const char *window_describe(struct window *w, char *buf, size_t size)
{
    SDL_RendererInfo info;
    const char *driver = SDL_GetCurrentVideoDriver();
    if (SDL_GetRendererInfo(w->renderer, &info) != 0) {
        info.name = "unknown";
    }
    snprintf(buf, size, "%s, renderer %s", driver != NULL ? driver : "unknown", info.name);
    return buf;
}
