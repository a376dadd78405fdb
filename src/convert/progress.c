/* SPDX-License-Identifier: Apache-2.0 */
/* Progress lines: JSON on stdout for machines, a bar on stderr for people. */
#include "progress.h"

#include <stdio.h>

static const char *const g_stage_names[RR_STAGE_COUNT] = {
    "import", "textures", "optimize", "bvh", "write",
};

/* Where each stage starts in 0..1, from measured shares of a large glTF conversion: import and
 * the BVH dominate. */
static const double g_stage_start[RR_STAGE_COUNT + 1] = {0.0, 0.30, 0.35, 0.60, 0.85, 1.0};

/* Fewer lines than this apart are not worth printing (a 5M-triangle model would otherwise
 * print thousands). */
#define MIN_STEP 0.01

void rr_convert_progress_init(struct rr_convert_progress *p, bool json, bool bar)
{
    p->json = json;
    p->bar = bar;
    p->value = 0.0;
    p->last_shown = -1.0;
    p->last_stage = -1;
}

static void show(struct rr_convert_progress *p, const char *stage)
{
    if (p->json) {
        printf("{\"stage\":\"%s\",\"progress\":%.3f}\n", stage, p->value);
        fflush(stdout);
    }
    if (p->bar) {
        enum { WIDTH = 30 };
        char bar[WIDTH + 1];
        int filled = (int)(p->value * WIDTH + 0.5);
        for (int i = 0; i < WIDTH; i++) {
            bar[i] = i < filled ? '#' : '.';
        }
        bar[WIDTH] = '\0';
        fprintf(stderr, "\r[%s] %3d%% %-10s", bar, (int)(p->value * 100.0 + 0.5), stage);
        fflush(stderr);
    }
}

void rr_convert_progress_update(struct rr_convert_progress *p, enum rr_convert_stage stage,
                                double fraction)
{
    if ((unsigned)stage >= RR_STAGE_COUNT) {
        return;
    }
    fraction = fraction < 0.0 ? 0.0 : fraction > 1.0 ? 1.0 : fraction;
    double v = g_stage_start[stage] + fraction * (g_stage_start[stage + 1] - g_stage_start[stage]);
    if (v > p->value) {
        p->value = v;
    }
    if ((int)stage == p->last_stage && p->value - p->last_shown < MIN_STEP) {
        return;
    }
    p->last_stage = (int)stage;
    p->last_shown = p->value;
    show(p, g_stage_names[stage]);
}

void rr_convert_progress_done(struct rr_convert_progress *p, bool succeeded)
{
    const char *status = succeeded ? "Succeeded" : "Failed";
    if (succeeded) {
        p->value = 1.0;
    }
    if (p->json) {
        printf("{\"stage\":\"done\",\"progress\":1.0,\"status\":\"%s\"}\n", status);
        fflush(stdout);
    }
    if (p->bar) {
        if (succeeded) {
            show(p, "done");
        }
        fputc('\n', stderr);
        fflush(stderr);
    }
}
