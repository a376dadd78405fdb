/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fe_conv_internal — what the conversion runner's files share: the parsed settings, the job a
 * worker carries through fetch (fe_conv_fetch.c), the child (fe_conv_child.c) and publish
 * (fe_conv_publish.c), and the path and URL helpers (fe_conv_settings.c). Not for other modules.
 *
 * Threads: a job belongs to the worker thread that claimed it; the helpers are reentrant.
 */
#ifndef OPENRR_FE_CONV_INTERNAL_H
#define OPENRR_FE_CONV_INTERNAL_H

#include "fe_config.h"
#include "fe_log.h"
#include "fe_store.h"

#include <limits.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define FE_CONV_EXT ".rrasset"
/* At most this many external files (buffers, images) of one .gltf are fetched or checked. */
#define FE_CONV_MAX_GLTF_FILES 256

/* ---- settings (fe_conv_settings.c) ---------------------------------------------------------- */

/* The create request's settings, parsed. Strings are malloc'd; NULL = absent. The two SAS
 * fields are secrets: never printed, wiped by fe_conv_settings_clear(). */
struct fe_conv_settings {
    char *in_container; /* storageContainerUri, as given */
    char *in_prefix;    /* blobPrefix ("" when absent) */
    char *in_path;      /* relativeInputAssetPath */
    char *in_sas;       /* storageContainerReadListSas without a leading '?'; NULL: none */
    char *out_container;
    char *out_prefix;   /* "" when absent */
    char *out_filename; /* outputAssetFilename, or the input's name with .rrasset */
    char *out_sas;
    char *in_joined;  /* in_prefix + in_path: the blob / file path inside the container */
    char *out_joined; /* out_prefix + out_filename */
    bool in_is_file;  /* file:// (else http or https) */
    bool out_is_file;
};

/* Parse and check @p json (the "settings" object) without touching the file system. False
 * with the field's path ("settings.inputLocation.relativeInputAssetPath") in @p target and
 * why in @p message; @p out is then cleared. */
bool fe_conv_settings_parse(const char *json, struct fe_conv_settings *out, char *target,
                            size_t target_size, char *message, size_t message_size);
void fe_conv_settings_clear(struct fe_conv_settings *s);

/* The storage root as realpath()s it (malloc'd), NULL when it does not exist (errno set). */
char *fe_conv_storage_root(const struct fe_config *cfg);

/* The local path of a file:// URI ("file:///a%20b", "file://localhost/x"): percent-decoded,
 * absolute. False for another host, a query or fragment, %00, or a path over @p size. */
bool fe_conv_file_uri_path(const char *uri, char *out, size_t size);

/* True when @p path (already resolved by realpath) is @p root or lies below it. */
bool fe_conv_under_root(const char *root, const char *path);

/* A relative path we accept inside a container: not empty, not absolute, no ".." segment,
 * no control characters. */
bool fe_conv_relative_ok(const char *path);

/* Append @p in to @p out (NUL-terminated, capacity @p size) percent-encoding every byte but
 * RFC 3986's unreserved ones and '/'; with @p keep_escapes, "%XX" sequences pass unchanged
 * (a glTF URI is already encoded). False when it does not fit. */
bool fe_conv_url_append(char *out, size_t size, const char *in, bool keep_escapes);

/* Decode %XX in place; false for a malformed escape or %00. */
bool fe_conv_percent_decode(char *s);

/* @p url without its query and fragment, for logs and messages (a SAS never shows). */
void fe_conv_redact_url(const char *url, char *out, size_t size);

/* Make @p s valid UTF-8 without control characters (each offending byte becomes '?'), so that
 * a truncated message or a file name in another encoding can still be sent as JSON. */
void fe_conv_sanitize_text(char *s);

/* "64 MiB", "16 GiB", "1000 bytes". */
void fe_conv_format_bytes(uint64_t bytes, char *out, size_t size);

/* ---- a job -------------------------------------------------------------------------------- */

struct fe_conv_job {
    const char *account_id; /* the conversion's, for log lines */
    const char *id;
    const struct fe_config *cfg;
    const char *storage_root;    /* realpath; NULL when the root does not exist */
    const atomic_bool *stopping; /* the runner is being destroyed: abandon, write nothing */
    struct fe_conv_settings s;
    char work_dir[PATH_MAX];       /* <data>/conversions/<account>/<id> */
    char out_dir[PATH_MAX];        /* <work>/out: openrr-convert's OUT_DIR */
    char input_path[PATH_MAX];     /* the model openrr-convert reads (filled by fetch) */
    char name[NAME_MAX + 1];       /* output base name: outputAssetFilename's last segment
                                      without .rrasset (openrr-convert's --name) */
    char code[FE_CODE_SIZE];       /* the failure: error code … */
    char message[FE_MESSAGE_SIZE]; /* … and message (never a SAS) */
};

/* A log line (event "conversion_runner") about conversion @p account / @p id (either may be
 * NULL) with a formatted `msg`. Never pass a URL with its query. */
void fe_conv_log(enum fe_log_level level, const char *account, const char *id, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Record a failure in @p job (code and printf-style message); returns false. */
bool fe_conv_fail(struct fe_conv_job *job, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* How a stage ended. */
enum fe_conv_stage_result {
    FE_CONV_STAGE_OK = 0,
    FE_CONV_STAGE_FAILED,    /* job->code / job->message say why */
    FE_CONV_STAGE_ABANDONED, /* the runner stops or the record changed: leave it alone */
};

/* ---- fetch (fe_conv_fetch.c) -------------------------------------------------------------- */

/* Find (file://) or download (http/https, into <work>/in/) the input and, for a .gltf, its
 * external buffers and images; fills job->input_path. Failure codes: InputNotFound,
 * InputUnreadable, InputTooLarge, InputDownloadFailed, InvalidInput, InvalidInputLocation,
 * InternalError. */
enum fe_conv_stage_result fe_conv_fetch(struct fe_conv_job *job);

/* ---- the child (fe_conv_child.c) ---------------------------------------------------------- */

struct fe_conv_child_ops {
    void *user;
    /* The child runs: record it. False (the record changed) → it is killed, job abandoned. */
    bool (*started)(void *user, pid_t pid, uint64_t start_time);
    /* openrr-convert's progress so far (0–1); called for every progress line and about every
     * 200 ms besides, so the caller may rate-limit its writes. False → killed, abandoned. */
    bool (*progress)(void *user, double fraction);
};

/* Run @p convert_path on job->input_path into job->out_dir with the config's rlimits, stdout
 * parsed for progress, stderr to <work>/convert.log, bounded in wall-clock time. On runner
 * stop: SIGTERM to its process group, SIGKILL 5 s later, ABANDONED. FAILED codes: openrr-
 * convert's own (result.json), ConversionProcessFailed (killed, crashed, no result),
 * ConversionTimedOut, InternalError. */
enum fe_conv_stage_result fe_conv_child_run(struct fe_conv_job *job, const char *convert_path,
                                            const struct fe_conv_child_ops *ops);

/* /proc/PID/stat field 22 (start time in clock ticks since boot); 0 when no such process. */
uint64_t fe_conv_proc_start_time(pid_t pid);

/* Kill (SIGKILL, with its process group) the process @p pid if it still runs with
 * @p start_time, and wait up to 5 s for it to go. True when it was there. */
bool fe_conv_kill_survivor(pid_t pid, uint64_t start_time);

/* ---- publish (fe_conv_publish.c) ---------------------------------------------------------- */

/* Copy out/<name>.rrasset, .info.json and .result.json to the output container (file://)
 * under temporary names, renamed when complete; fills @p out_uri with the asset's URI.
 * Failure codes: OutputContainerNotSupported, InvalidOutputLocation, OutputError. */
enum fe_conv_stage_result fe_conv_publish(struct fe_conv_job *job, char *out_uri,
                                          size_t out_uri_size);

/* After a failed conversion: copy out/<name>.result.json (when there is one) to the output
 * container, as the managed service did, so a user finds the errors beside the missing
 * asset. Best effort: failures are only logged. */
void fe_conv_publish_result_only(struct fe_conv_job *job);

/* Remove @p path and everything below it (symbolic links are removed, not followed). */
bool fe_conv_remove_tree(const char *path);

#endif /* OPENRR_FE_CONV_INTERNAL_H */
