/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fe_conv — openrrd's conversion runner. The REST API only records a conversion in the store
 * (NotStarted) and wakes the runner; the runner's workers claim waiting conversions, fetch
 * the input into a work directory, run openrr-convert as a child process with resource
 * limits, follow its progress, publish the outputs to the output container and record the
 * outcome (Succeeded with output.outputAssetUri, or Failed with an error code and message).
 * Everything it knows lives in the store, so a restart loses nothing: at start-up,
 * conversions left Running are requeued (their child, if it survived, is killed first).
 *
 * Inputs: `file://` containers (a directory under the storage root) and `http(s)://`
 * containers (URL = container / blobPrefix / relativeInputAssetPath, with the read SAS as
 * query string; a .gltf's relative buffers and images are fetched too). Outputs: `file://`
 * containers under the storage root. Details and error codes: docs/openrrd.md.
 *
 * Threads: create/destroy on the main thread; wake/cancel from any thread.
 */
#ifndef OPENRR_FE_CONV_H
#define OPENRR_FE_CONV_H

#include "fe_config.h"
#include "fe_store.h"

#include <stdbool.h>

struct fe_conv_runner;

/* Called (on a worker thread) after a conversion's record changed: status, progress. May be
 * NULL. For metrics and logs. */
typedef void (*fe_conv_event_fn)(void *user, const struct fe_conversion_record *rec);

/* Requeue what was Running, then start cfg->conversion_workers workers. The config and the
 * store must outlive the runner. Returns false with the reason in @p err. */
bool fe_conv_runner_create(const struct fe_config *cfg, struct fe_store *store,
                           fe_conv_event_fn on_event, void *user,
                           struct fe_conv_runner **out_runner, char *err, size_t err_size);

/* A conversion was recorded: a worker looks now instead of at its next poll (1 s). */
void fe_conv_runner_wake(struct fe_conv_runner *runner);

/* Stop the workers: running children get SIGTERM (then SIGKILL after 5 s) and their
 * conversions stay Running in the store, to be requeued at the next start. NULL ok. */
void fe_conv_runner_destroy(struct fe_conv_runner **runner_ptr);

/* Check a create request's settings before it is recorded (the API answers 400 with the
 * returned message and the offending field in @p target): the container URIs' schemes
 * (file, http, https), file:// containers under the storage root, the relative path (no
 * "..", not absolute), outputAssetFilename ending in ".rrasset". */
bool fe_conv_check_settings(const struct fe_config *cfg, const char *settings_json, char *target,
                            size_t target_size, char *message, size_t message_size);

#endif /* OPENRR_FE_CONV_H */
