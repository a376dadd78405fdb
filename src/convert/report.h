/* SPDX-License-Identifier: Apache-2.0 */
/*
 * report — the two JSON files the control plane reads: <name>.info.json (what was converted,
 * with which settings, statistics of input and output) and <name>.result.json (status, errors,
 * warnings). Field names follow the reference's conversion output; they are a contract.
 * Threads: the conversion's thread.
 */
#ifndef RR_CONVERT_REPORT_H
#define RR_CONVERT_REPORT_H

#include "model.h"

#include <stdbool.h>

#define RR_CONVERT_TOOL_VERSION "openrr-convert 0.1.0"

/* Hex XXH64 (seed 0) of the file at @p path into @p out (17 bytes). */
bool rr_convert_hash_file(const char *path, char out[17]);

/* Write info.json; RR_CONVERT_OUTPUT_ERROR (recorded in ctx->status) when it cannot be. */
enum rr_convert_code rr_convert_report_info(struct rr_convert_ctx *ctx, const char *info_path,
                                            const char *asset_path, const char *hash_hex);

/* Write result.json from @p st; false when the file cannot be written. */
bool rr_convert_report_result(const struct rr_convert_status *st, const char *result_path);

#endif
