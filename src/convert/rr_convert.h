/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rr_convert — turns a model (glTF/GLB, FBX, OBJ, PLY) into a .rrasset plus the
 * <name>.info.json and <name>.result.json that the control plane reads. openrr-convert is a
 * thin command line over this; openrrd runs that program as a child per conversion.
 *
 * Threads: a conversion runs on the calling thread, which starts short-lived workers for the
 * heavy loops (one per CPU it may use) and joins them. Two conversions may run at once on
 * different threads, except that assimp's error string (aiGetErrorString) is global, so the
 * detail of an import failure may then name the wrong file.
 */
#ifndef RR_CONVERT_H
#define RR_CONVERT_H

#include <stdbool.h>
#include <stdio.h>

/* Error codes of result.json ("code") and the process exit status of each. The names are a
 * contract with the control plane and the tests: never rename one. */
enum rr_convert_code {
    RR_CONVERT_OK = 0,
    RR_CONVERT_INPUT_NOT_FOUND,
    RR_CONVERT_INPUT_UNREADABLE,
    RR_CONVERT_UNSUPPORTED_FORMAT,
    RR_CONVERT_INVALID_INPUT,
    RR_CONVERT_INVALID_SETTINGS,
    RR_CONVERT_TEXTURE_DECODE_FAILED,
    RR_CONVERT_OUTPUT_ERROR,
    RR_CONVERT_INPUT_TOO_LARGE,
    RR_CONVERT_USAGE,
    RR_CONVERT_INTERNAL_ERROR,
    RR_CONVERT_CODE_COUNT,
};

/* "InputNotFound", … ("Succeeded" for RR_CONVERT_OK). Static storage, never NULL. */
const char *rr_convert_code_name(enum rr_convert_code code);
/* A short human title for result.json, e.g. "Input file not found". */
const char *rr_convert_code_title(enum rr_convert_code code);
/* 0, 3, 4, 5, 6, 7, 8, 9, 64 or 70 (see openrr-convert --help). */
int rr_convert_exit_code(enum rr_convert_code code);

struct rr_convert_options {
    const char *input;         /* model file */
    const char *output_dir;    /* created when missing */
    const char *settings_path; /* NULL: <model>.ConversionSettings.json beside the input */
    const char *name;          /* NULL: input file name without extension */
    bool json_progress;        /* one JSON object per line on stdout */
    bool progress_bar;         /* a one-line bar on stderr (the tool sets it when a terminal) */
    bool compress;             /* zstd-compress large sections */
};

/* Run one conversion. Writes <name>.rrasset and <name>.info.json on success and
 * <name>.result.json in every case where the output folder is writable; on failure also prints
 * "error: <Code>: <message>" on stderr. Returns the code (RR_CONVERT_OK on success). */
enum rr_convert_code rr_convert_run(const struct rr_convert_options *options);

/* Open @p path with the asset reader, verify every checksum and print a summary to @p out.
 * RR_CONVERT_OK when the file is valid; RR_CONVERT_INVALID_INPUT (message on stderr) if not. */
enum rr_convert_code rr_convert_inspect(const char *path, FILE *out);

#endif
