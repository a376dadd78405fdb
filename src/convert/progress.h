/* SPDX-License-Identifier: Apache-2.0 */
/*
 * progress — how far a conversion is, as a one-line bar on a terminal (stderr) and/or one JSON
 * object per line on stdout for the control plane ({"stage":"optimize","progress":0.42}).
 * Each stage owns a fixed slice of 0..1, so the overall value only grows.
 * Threads: the conversion's thread.
 */
#ifndef RR_CONVERT_PROGRESS_H
#define RR_CONVERT_PROGRESS_H

#include <stdbool.h>

enum rr_convert_stage {
    RR_STAGE_IMPORT = 0,
    RR_STAGE_TEXTURES,
    RR_STAGE_OPTIMIZE,
    RR_STAGE_BVH,
    RR_STAGE_WRITE,
    RR_STAGE_COUNT,
};

struct rr_convert_progress {
    bool json;
    bool bar;
    double value;      /* overall, 0..1, never decreasing */
    double last_shown; /* value at the last line printed */
    int last_stage;    /* stage of the last line printed, -1 before the first */
};

void rr_convert_progress_init(struct rr_convert_progress *p, bool json, bool bar);
/* @p fraction (0..1) of @p stage is done; prints when the stage changed or a step was made. */
void rr_convert_progress_update(struct rr_convert_progress *p, enum rr_convert_stage stage,
                                double fraction);
/* The final line: {"stage":"done","progress":1.0,"status":…} and the bar's newline. */
void rr_convert_progress_done(struct rr_convert_progress *p, bool succeeded);

#endif
