/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fe_sessions — openrrd's session manager, and the host-backend interface it drives.
 *
 * The REST API records a session (Starting, no host) and wakes the manager. The manager
 * gives each Starting session without a host a launch through the backend: ports from the
 * configured range, a short-lived certificate from openrrd's CA (fe_ca.h) as a PKCS#12 with
 * a random passphrase, the STS's JWK Set and the session's account so that the host accepts
 * only this account's access tokens, and a one-time registration secret. The host calls
 * POST /internal/sessions/{id}/ready with that secret once it listens; the API hands the call
 * to fe_session_mgr_register, which makes the session Ready (the lease counts from then).
 * The manager also ends sessions: Stopped on request, Expired when the lease is over, Error
 * when the host exits or does not register within the start timeout (with a message that
 * says why, e.g. the host's exit status and its last stderr line).
 *
 * Restart safety: all state is in the store. At start-up every Starting/Ready session is
 * re-adopted when its host process still runs (same pid and start time), else marked Error
 * ("the host was gone when openrrd restarted"); leases that ran out meanwhile are ended.
 *
 * Threads: create/destroy on the main thread; the other functions from any thread.
 */
#ifndef OPENRR_FE_SESSIONS_H
#define OPENRR_FE_SESSIONS_H

#include "fe_config.h"
#include "fe_store.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* ---- host backends ---------------------------------------------------------------------- */

/* Everything a backend needs to start one host. Strings are borrowed during start(). */
struct fe_host_launch {
    const char *session_id;
    const char *account_id;
    const char *account_domain; /* realm openrr:<domain> */
    enum fe_session_size size;
    const char *bind_host;       /* address the host listens on */
    uint16_t handshake_port;     /* transport = handshake + 1 */
    uint16_t inspector_port;
    const char *certificate_p12; /* path */
    const char *key_passphrase;  /* secret: never on a command line others can read */
    const char *jwks_path;       /* the STS's public keys */
    const char *token_issuer;
    const char *token_audience;
    const char *inspector_token; /* secret */
    const char *register_url;    /* http(s)://…/internal/sessions/<id>/ready */
    const char *register_secret; /* secret */
    const char *log_path;        /* the host's stdout+stderr */
    const char *const *extra_args; /* NULL-terminated, may be NULL */
};

/* A running host as a backend knows it. */
struct fe_host_handle {
    pid_t pid;
    uint64_t start_time; /* /proc/PID/stat field 22 */
};

/* A backend: `local` (fork/exec on this machine, fe_backend_local.c); `slurm` later. */
struct fe_host_backend {
    const char *name; /* "local" */
    /* Start a host; returns false with the reason in @p err. */
    bool (*start)(struct fe_host_backend *self, const struct fe_host_launch *launch,
                  struct fe_host_handle *out, char *err, size_t err_size);
    /* Whether the host still runs; when it ended, *out_status gets a wait status (or −1 when
     * unknown: not our child) and the function returns false. */
    bool (*alive)(struct fe_host_backend *self, const struct fe_host_handle *h, int *out_status);
    /* SIGTERM, then SIGKILL after @p grace_ms; returns once it is gone. */
    void (*stop)(struct fe_host_backend *self, const struct fe_host_handle *h, unsigned grace_ms);
    void (*destroy)(struct fe_host_backend *self);
};

struct fe_host_backend *fe_backend_local_create(const char *host_path);

/* ---- the manager -------------------------------------------------------------------------- */

struct fe_session_mgr_config {
    const struct fe_config *cfg;
    struct fe_store *store;
    struct fe_host_backend *backend; /* owned by the caller */
    struct fe_ca *ca;                /* fe_ca.h; owned by the caller */
    const char *jwks_path;
    const char *token_issuer;
    const char *token_audience;
    const char *register_base_url; /* "http://127.0.0.1:8710": + /internal/sessions/<id>/ready */
};

struct fe_session_mgr;

/* Adopt or end what the store says runs, then start the manager's thread (launches, lease and
 * start-timeout checks every 250 ms, host exits). Returns false with the reason in @p err. */
bool fe_session_mgr_create(const struct fe_session_mgr_config *config,
                           struct fe_session_mgr **out_mgr, char *err, size_t err_size);

/* A session was recorded or changed: look now. */
void fe_session_mgr_wake(struct fe_session_mgr *mgr);

/* The host of session @p id registers with @p secret and its ports.
 * Returns FE_STORE_OK (now Ready), NOT_FOUND (no such session or the secret does not match —
 * the caller answers 401/404 without saying which), CHANGED (not Starting any more). */
enum fe_store_result fe_session_mgr_register(struct fe_session_mgr *mgr, const char *session_id,
                                             const char *secret, int handshake_port,
                                             int transport_port, int inspector_port);

/* Stop (account, id): Stopped in the store now, the host stopped in the background.
 * NOT_FOUND, or CHANGED when it had already ended (the API still answers 204). */
enum fe_store_result fe_session_mgr_stop(struct fe_session_mgr *mgr, const char *account_id,
                                         const char *id);

/* Stop the thread. Hosts keep running (a restarted openrrd re-adopts them). NULL ok. */
void fe_session_mgr_destroy(struct fe_session_mgr **mgr_ptr);

#endif /* OPENRR_FE_SESSIONS_H */
