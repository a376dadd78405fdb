/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fe_service — openrrd serving: the object that wires configuration, data directory and its
 * lock, store, token service, CA, conversion runner, session manager (with the local host
 * backend), rate limiter, metrics, API and HTTP server, and takes them down in reverse.
 * Also the pieces the account commands share with it (data directory, store, program paths).
 *
 * Threads: create/destroy on the main thread; the modules run their own threads.
 */
#ifndef OPENRR_FE_SERVICE_H
#define OPENRR_FE_SERVICE_H

#include "fe_config.h"
#include "fe_store.h"

#include <stdbool.h>
#include <stddef.h>

struct fe_service;

/* Start serving with @p cfg (after fe_config_finish; the config must outlive the service and
 * gets its program paths resolved here). On return the server listens and answers.
 * Returns false with the reason (data directory, lock, database, port, keys) in @p err. */
bool fe_service_create(struct fe_config *cfg, struct fe_service **out_svc, char *err,
                       size_t err_size);
/* "http://127.0.0.1:8710" (the real port; https with TLS). */
const char *fe_service_url(const struct fe_service *svc);
/* Stop the server (requests in flight finish), the workers and the manager (hosts and
 * conversions keep their records), then free everything and release the lock. NULL ok. */
void fe_service_destroy(struct fe_service **svc_ptr);

/* Create @p dir (0700, parents as needed) unless it exists; a path that is not a directory
 * is an error. */
bool fe_data_dir_prepare(const char *dir, char *err, size_t err_size);
/* fe_data_dir_prepare, then open <dir>/openrr.db. */
bool fe_data_store_open(const char *dir, struct fe_store **out_store, char *err, size_t err_size);

/* Where program @p name is: @p configured when set; else beside /proc/self/exe; else on PATH;
 * else @p build_tree (may be NULL). malloc'd; NULL when none exists (or out of memory). */
char *fe_program_path(const char *configured, const char *name, const char *build_tree);

#endif /* OPENRR_FE_SERVICE_H */
