/* SPDX-License-Identifier: Apache-2.0 */
/*
 * status — the errors and warnings gathered during one conversion, in the shape result.json
 * writes them ({code, title, details}). A stage that fails records one error and returns its
 * code; warnings pile up (bounded) and never stop the conversion.
 * Threads: owned by the conversion's thread.
 */
#ifndef RR_CONVERT_STATUS_H
#define RR_CONVERT_STATUS_H

#include "rr_convert.h"

#include <stddef.h>

struct rr_convert_message {
    char *code;    /* e.g. "InvalidSettings", "MissingTexture" */
    char *title;   /* short, fixed per code */
    char *details; /* what happened and what to do */
};

struct rr_convert_status {
    enum rr_convert_code code; /* the first error, RR_CONVERT_OK while none */
    struct rr_convert_message error;
    struct rr_convert_message *warnings;
    size_t warning_count;
    size_t warnings_dropped; /* beyond RR_CONVERT_MAX_WARNINGS */
};

/* A pathological input could raise one warning per node; result.json stays readable. */
#define RR_CONVERT_MAX_WARNINGS 100

/* Record the conversion's error (the first one wins) and return @p code, so that a stage can
 * `return rr_convert_fail(st, CODE, "…%s…", x);`. */
enum rr_convert_code rr_convert_fail(struct rr_convert_status *st, enum rr_convert_code code,
                                     const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Record a warning with its own stable code and title. */
void rr_convert_warn(struct rr_convert_status *st, const char *code, const char *title,
                     const char *fmt, ...) __attribute__((format(printf, 4, 5)));

void rr_convert_status_fini(struct rr_convert_status *st);

#endif
