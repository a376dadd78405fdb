/* SPDX-License-Identifier: Apache-2.0 */
/*
 * window — openrr-player's SDL2 window: shows the decoded side-by-side frame (both eyes, or
 * one), letterboxed to the window, and reports when the user closes it. Without a display
 * the player runs headless and this module is not used.
 *
 * Threads: every function on the thread that created the window (SDL's video rules).
 */
#ifndef OPENRR_PLAYER_WINDOW_H
#define OPENRR_PLAYER_WINDOW_H

#include <openrr/stream.h>

#include <stdbool.h>
#include <stddef.h>

/* What the window shows of a side-by-side frame. */
enum player_view {
    PLAYER_VIEW_SBS = 0, /* both eyes, left eye on the left */
    PLAYER_VIEW_LEFT,
    PLAYER_VIEW_RIGHT,
};

/* True when a window could open: $DISPLAY, $WAYLAND_DISPLAY or $SDL_VIDEODRIVER is set. */
bool window_display_available(void);

struct window;

/* Initialise SDL's video and open a resizable window titled @p title. On failure @p err says
 * why (SDL's message) and SDL is shut down again. */
bool window_create(const char *title, enum player_view view, struct window **out_window, char *err,
                   size_t err_size);
/* Close the window, shut SDL down and set *window_ptr to NULL. NULL ok. */
void window_destroy(struct window **window_ptr);

/* Handle pending window events. Returns false once the user asked to close the window
 * (close button, Escape or Q). */
bool window_pump(struct window *w);

/* Show @p frame (its YUV planes are copied into the window's texture); NULL repaints the last
 * frame (or black) when the window needs it. Returns false with SDL's message in @p err when
 * the frame could not be shown. */
bool window_show(struct window *w, const struct rr_stream_frame *frame, char *err, size_t err_size);

void window_set_title(struct window *w, const char *title);

/* "offscreen, renderer software": SDL's video driver and renderer, for the log. */
const char *window_describe(struct window *w, char *buf, size_t size);

#endif /* OPENRR_PLAYER_WINDOW_H */
