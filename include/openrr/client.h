/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libopenrr_client — the client SDK of the control plane (openrrd, docs/openrrd.md), with the
 * semantics of the retired service's SDK (../shared/seeds/remote-rendering-authentication.md):
 * a frontend object for the account (token exchange, conversions, creating and listing
 * sessions) and session objects (properties, lease, stop, inspector, connecting to the
 * session's host over secure remoting).
 *
 * Threads: every function may be called from any thread. Asynchronous calls return at once;
 * their completion callback runs later on the frontend's own background thread ("all async
 * calls complete on a background thread"), one at a time, never inside the call that started
 * it. A callback may start new calls (also of the same kind) and may release any object, the
 * frontend included (its thread then ends by itself once the callback returned). A callback
 * that blocks holds up every other call of the frontend.
 *
 * Redundant calls: only one call of a kind per session object may be in flight
 * (get properties, update, stop, connect to inspector, connect); a second one returns
 * RR_CLIENT_ALREADY_EXISTS at once and its callback is never called. Calling again from inside
 * the first one's completion succeeds (the first counts as finished when its callback starts).
 *
 * Ownership: rr_frontend_create / rr_frontend_open_session / a create-session completion give
 * the caller a reference; rr_*_release gives it back. A session holds a reference to its
 * frontend: the frontend is freed only after its last session object is released. Releasing a
 * session object does NOT stop the rendering session on the server (only rr_session_stop
 * does). Strings passed in are copied during the call. Property structs passed to callbacks
 * are valid during the callback only.
 *
 * Errors: a call that returns anything but RR_CLIENT_SUCCESS never calls its callback; one
 * that returns RR_CLIENT_SUCCESS calls it exactly once. rr_client_result_str() names results
 * with the reference's names (ARRResult) where one exists. Messages for people (with the
 * server's error code and message) come through rr_client_last_error(). No secret (key,
 * token, SAS) is ever logged or put in a message.
 */
#ifndef OPENRR_CLIENT_H
#define OPENRR_CLIENT_H

#include "openrr/remoting.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum rr_client_result {
    RR_CLIENT_SUCCESS = 0,
    RR_CLIENT_ALREADY_EXISTS = 1,          /* a call of this kind is in flight on the object */
    RR_CLIENT_ALREADY_CONNECTED = 2,       /* the context is already connected */
    RR_CLIENT_IN_PROGRESS = 3,             /* the session is not Ready yet (connect) */
    RR_CLIENT_OTHER_SESSION_CONNECTED = 4, /* the host already serves another client */
    RR_CLIENT_NO_CONNECTION = 5,           /* the service or host could not be reached */
    RR_CLIENT_INVALID_PARAM = 6,           /* NULL, out of range, bad id, HTTP 400/409/422 */
    RR_CLIENT_SESSION_NOT_FOUND = 7,       /* HTTP 404 on a session (or a conversion) */
    RR_CLIENT_AUTHENTICATION_FAILED = 8,   /* HTTP 401/403, or the host refused the token */
    RR_CLIENT_NOT_INITIALIZED = 9,         /* properties never fetched (connect to inspector) */
    RR_CLIENT_TOO_MANY_REQUESTS = 10,      /* HTTP 429 */
    RR_CLIENT_CONNECTION_LOST = 11,        /* the connection to the host ended */
    RR_CLIENT_TRANSPORT_PORT_BUSY = 12,
    RR_CLIENT_VIDEO_FORMAT_NOT_AVAILABLE = 13,
    RR_CLIENT_API_UNAVAILABLE = 14,        /* HTTP 5xx, or an answer that does not parse */
    RR_CLIENT_OUT_OF_MEMORY = 15,
    RR_CLIENT_IO = 16,                     /* a local file (inspector page) */
};
#define RR_CLIENT_RESULT_COUNT 17

/* Name, e.g. "AlreadyExists"; "Unknown" out of range. Static. */
const char *rr_client_result_str(enum rr_client_result r);

/* How to reach and authenticate to the service. Exactly one of account_key,
 * authentication_token and access_token must be set (non-empty). */
struct rr_account_info {
    const char *account_domain; /* e.g. "openrr.localhost" (the realm is openrr:<domain>) */
    const char *account_id;     /* the account GUID */
    const char *account_key;    /* exchanged for access tokens (refreshed before expiry) */
    const char *authentication_token; /* an identity provider's token, exchanged likewise */
    const char *access_token;         /* an STS token, used as is (no refresh) */
    /* A region prefixed to the domain ("westus2" + "mixedreality.azure.com" →
     * "westus2.mixedreality.azure.com") unless NULL, "" or "ignore". */
    const char *location;
    /* OpenRR: the service's base URL, e.g. "http://127.0.0.1:8710". NULL: derived from the
     * domain as the old service did: https://remoterendering.<domain>. */
    const char *service_url;
    /* OpenRR: the STS base URL; NULL = service_url when that is set (openrrd serves both),
     * else https://sts.<domain> as the old service. */
    const char *sts_url;
    /* OpenRR: a PEM file of extra trust anchors for HTTPS to the service; NULL = system. */
    const char *ca_file;
};

struct rr_frontend;
struct rr_session;

/* ---- frontend ------------------------------------------------------------------------------ */

/* Check and copy @p info, start the background thread. Errors: INVALID_PARAM (not exactly one
 * credential, no account id or domain, a URL that is not http(s)), OUT_OF_MEMORY. */
enum rr_client_result rr_frontend_create(const struct rr_account_info *info,
                                         struct rr_frontend **out_frontend);
/* Give back the caller's reference; *frontend_ptr = NULL. NULL ok. The frontend lives on while
 * session objects hold it. When the last reference goes, the request in progress is aborted
 * and every queued call completes with NO_CONNECTION ("cancelled") before this returns —
 * except inside one of the frontend's own callbacks, where it returns at once and the thread
 * finishes that work after the callback. */
void rr_frontend_release(struct rr_frontend **frontend_ptr);

/* The account domain with the location prefixed (static for the frontend's life). */
const char *rr_frontend_domain(const struct rr_frontend *frontend);

/* A one-line explanation for people ("HTTP 409 Conflict: a session with id 'x' exists with
 * other settings"). After a call that failed at once: why, on the calling thread. Otherwise
 * the outcome of the newest completed call of the frontend this thread used last: inside a
 * callback, the call being completed; on a thread that waited for a completion, that
 * completion (unless another call of the frontend completed since). "" after a success.
 * Never holds a key, token or SAS. Valid until the next call on the same thread. */
const char *rr_client_last_error(void);

/* An access token (from the STS with the key or identity token, cached and refreshed when
 * less than 5 minutes remain; or the given access token). @p token is valid during the
 * callback only. */
typedef void (*rr_token_fn)(void *user, enum rr_client_result result, const char *token);
enum rr_client_result rr_frontend_get_access_token(struct rr_frontend *frontend, rr_token_fn done,
                                                   void *user);

/* ---- conversions (ingestion) ----------------------------------------------------------------- */

enum rr_conversion_status {
    RR_CONVERSION_NOT_STARTED = 0,
    RR_CONVERSION_RUNNING = 1,
    RR_CONVERSION_CANCELLED = 2,
    RR_CONVERSION_FAILED = 3,
    RR_CONVERSION_SUCCEEDED = 4,
};
const char *rr_conversion_status_str(enum rr_conversion_status s); /* "NotStarted", … */

struct rr_conversion_input {
    const char *storage_container_uri;     /* file:///dir, http(s)://… (required) */
    const char *relative_input_asset_path; /* required */
    const char *blob_prefix;               /* NULL = none */
    const char *read_sas;                  /* NULL = none; never logged */
};

struct rr_conversion_output {
    const char *storage_container_uri; /* required */
    const char *blob_prefix;           /* NULL = none */
    const char *output_asset_filename; /* NULL = the input's name with .rrasset */
    const char *write_sas;             /* NULL = none */
};

struct rr_conversion_properties {
    char id[257];
    enum rr_conversion_status status;
    int progress; /* 0–100 (OpenRR) */
    char error_code[64];
    char error_message[512];
    char output_asset_uri[4096]; /* when Succeeded */
    int64_t creation_time;       /* seconds since the epoch */
};

typedef void (*rr_conversion_fn)(void *user, enum rr_client_result result,
                                 const struct rr_conversion_properties *properties);

/* Start a conversion (PUT) under @p conversion_id (NULL = a new random id; an existing id
 * with the same settings is a retry and succeeds). The callback gets its first properties. */
enum rr_client_result rr_frontend_start_conversion(struct rr_frontend *frontend,
                                                   const char *conversion_id,
                                                   const struct rr_conversion_input *input,
                                                   const struct rr_conversion_output *output,
                                                   rr_conversion_fn done, void *user);
/* Its current properties (GET). */
enum rr_client_result rr_frontend_get_conversion(struct rr_frontend *frontend,
                                                 const char *conversion_id, rr_conversion_fn done,
                                                 void *user);

/* ---- sessions -------------------------------------------------------------------------------- */

enum rr_session_size {
    RR_SESSION_STANDARD = 0,
    RR_SESSION_PREMIUM = 1,
};

enum rr_session_status {
    RR_SESSION_STARTING = 0,
    RR_SESSION_READY = 1,
    RR_SESSION_STOPPED = 2,
    RR_SESSION_EXPIRED = 3,
    RR_SESSION_ERROR = 4,
};
const char *rr_session_status_str(enum rr_session_status s); /* "Starting", … */

struct rr_session_properties {
    char id[257];
    enum rr_session_size size;
    enum rr_session_status status;
    char hostname[256];
    uint16_t handshake_port;
    uint16_t inspector_port;
    uint32_t elapsed_time_minutes;
    uint32_t max_lease_time_minutes;
    double teraflops;
    char error_code[64];
    char error_message[512];
    int64_t creation_time;
};

typedef void (*rr_session_create_fn)(void *user, enum rr_client_result result,
                                     struct rr_session *session);
typedef void (*rr_sessions_fn)(void *user, enum rr_client_result result,
                               const struct rr_session_properties *sessions, size_t count);

/* Create a rendering session (PUT; retried up to three times, 1, 2 and 4 s apart, on a network
 * failure or 5xx with a 15 s timeout each, as the old SDK did — safe because the create is
 * idempotent). @p
 * session_id NULL = a new random id. On success the callback gets a session object (a new
 * reference the callee now owns: release it when done) whose cached properties are set. */
enum rr_client_result rr_frontend_create_session(struct rr_frontend *frontend,
                                                 const char *session_id,
                                                 enum rr_session_size size,
                                                 uint32_t max_lease_time_minutes,
                                                 rr_session_create_fn done, void *user);
/* A session object for an existing id, without a call (properties not cached yet). */
enum rr_client_result rr_frontend_open_session(struct rr_frontend *frontend,
                                               const char *session_id,
                                               struct rr_session **out_session);
/* The account's Starting and Ready sessions (every page). */
enum rr_client_result rr_frontend_list_sessions(struct rr_frontend *frontend, rr_sessions_fn done,
                                                void *user);

void rr_session_release(struct rr_session **session_ptr); /* does not stop it; NULL ok */
const char *rr_session_id(const struct rr_session *session);
struct rr_frontend *rr_session_frontend(const struct rr_session *session); /* borrowed */

/* The last properties fetched (by create, get or update); false when none yet. */
bool rr_session_cached_properties(const struct rr_session *session,
                                  struct rr_session_properties *out);

typedef void (*rr_session_props_fn)(void *user, enum rr_client_result result,
                                    const struct rr_session_properties *properties);
typedef void (*rr_session_done_fn)(void *user, enum rr_client_result result);
typedef void (*rr_session_path_fn)(void *user, enum rr_client_result result, const char *path);

/* GET; updates the cache. */
enum rr_client_result rr_session_get_properties(struct rr_session *session,
                                                rr_session_props_fn done, void *user);
/* PATCH maxLeaseTimeMinutes (a total, counted from Ready; must grow). */
enum rr_client_result rr_session_update(struct rr_session *session,
                                        uint32_t max_lease_time_minutes,
                                        rr_session_done_fn done, void *user);
/* POST :stop. */
enum rr_client_result rr_session_stop(struct rr_session *session, rr_session_done_fn done,
                                      void *user);
/* Write an HTML file (in $XDG_RUNTIME_DIR or the temp dir, 0600, valid as long as the access
 * token in it: 24 h by default) that opens the session host's inspector, and return its
 * path. Uses the cached hostname and inspector port: NOT_INITIALIZED when properties were
 * never fetched, IN_PROGRESS when the cache says Starting, SESSION_NOT_FOUND when it says the
 * session ended; IO when the file cannot be written. */
enum rr_client_result rr_session_connect_inspector(struct rr_session *session,
                                                   rr_session_path_fn done, void *user);

/* Connect @p ctx (role RR_ROLE_PLAYER, disconnected; created by the caller, who keeps it and
 * polls its events as usual) to the session's host securely: the cached hostname and
 * handshake port, the access token as the remoting token (fetched fresh when less than 5
 * minutes remain), the service's CA (GET /.well-known/openrr/ca.pem, once per frontend) as a
 * trust anchor next to the system store, the host name checked. The session object provides
 * the authentication provider and certificate validator; they stay valid while the session
 * object lives (release it only after the context disconnected).
 * The callback runs once rr_context_connect_secure() was called (SUCCESS: the outcome then
 * arrives on @p ctx as RR_EVENT_CONNECTED or RR_EVENT_DISCONNECTED with its reason) or when
 * it could not be: IN_PROGRESS (the session is Starting), SESSION_NOT_FOUND (no such
 * session, or it ended), NOT_INITIALIZED (properties never fetched), AUTHENTICATION_FAILED
 * (no token), NO_CONNECTION (the service could not be reached), ALREADY_CONNECTED (@p ctx is
 * busy; also returned at once). INVALID_PARAM at once when @p ctx is not a player. The
 * properties are fetched again (and cached) before connecting. docs/client.md says how the
 * chain is checked. */
enum rr_client_result rr_session_connect(struct rr_session *session, struct rr_context *ctx,
                                         rr_session_done_fn done, void *user);

#ifdef __cplusplus
}
#endif
#endif /* OPENRR_CLIENT_H */
