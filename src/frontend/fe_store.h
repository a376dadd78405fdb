/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fe_store — openrrd's records: accounts and their keys, conversions, sessions. One
 * interface (a struct of function pointers, `self` first) so that a PostgreSQL store can join
 * the SQLite one (fe_store_sqlite.c) without touching its users (DESIGN §7 "Storage").
 *
 * Durability: every function that changes a record has committed it when it returns
 * FE_STORE_OK; a `kill -9` of openrrd right after loses nothing (SQLite in WAL mode with
 * synchronous=NORMAL is durable against process crashes; power loss may lose the last
 * commits, not corrupt the file). A failed write (disk full, I/O error) changes nothing.
 *
 * Threads: every function may be called from any thread at the same time; the store
 * serialises writers itself and lets readers run in parallel. Other processes (the
 * `openrrd account …` commands) may use the same database meanwhile.
 *
 * Ownership: records are plain structs filled by the store; the strings marked "malloc'd"
 * belong to the caller, who frees them with fe_*_record_clear(). Input records are only read
 * during the call.
 *
 * Errors: enum fe_store_result; fe_store_result_str() names them. `err` parameters get a one-
 * line explanation without secrets. Besides the results each function names, any may return
 * INVALID (a NULL, an empty id, a string without its NUL within its field, a number out of
 * range), IO, CORRUPT or NO_MEMORY, and any write FULL; these are also logged (u_log, module
 * "fe_store"), never with a record's contents.
 *
 * Output records are overwritten (clear one that holds a record before reusing it); on a
 * failure their contents are unspecified but own nothing.
 */
#ifndef OPENRR_FE_STORE_H
#define OPENRR_FE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum fe_store_result {
    FE_STORE_OK = 0,
    FE_STORE_NOT_FOUND = 1, /* no such record */
    FE_STORE_EXISTS = 2,    /* create: a record with that id exists (it is returned) */
    FE_STORE_CHANGED = 3,   /* a conditional update found another state than expected */
    FE_STORE_FULL = 4,      /* the disk (or quota) is full: nothing was written */
    FE_STORE_IO = 5,        /* an I/O error, a locked or read-only database, a bad path */
    FE_STORE_CORRUPT = 6,   /* the database file is damaged or not ours */
    FE_STORE_INVALID = 7,   /* a bad argument (NULL, too long, out of range) */
    FE_STORE_NO_MEMORY = 8,
};
const char *fe_store_result_str(enum fe_store_result r);

/* Sizes (including the NUL) of the fixed string fields. */
#define FE_ID_SIZE 257      /* caller-chosen ids: [A-Za-z0-9_-]{1,256} */
#define FE_ACCOUNT_ID_SIZE 37 /* a GUID in 8-4-4-4-12 lower-case hex */
#define FE_NAME_SIZE 64     /* key names */
#define FE_HOST_SIZE 256
#define FE_CODE_SIZE 64     /* error codes */
#define FE_MESSAGE_SIZE 512 /* error messages */
#define FE_URI_SIZE 4096

/* Roles (the same bits as src/auth's enum rr_jwt_role). */
enum fe_role {
    FE_ROLE_ADMINISTRATOR = 1u << 0,
    FE_ROLE_CLIENT = 1u << 1,
};

/* ---- records -------------------------------------------------------------------------- */

struct fe_account_record {
    char id[FE_ACCOUNT_ID_SIZE];
    char domain[FE_HOST_SIZE];
    int64_t created; /* seconds since the epoch */
};

/* A key is stored only as its SHA-256; the key itself is shown once when made. */
struct fe_key_record {
    char account_id[FE_ACCOUNT_ID_SIZE];
    char name[FE_NAME_SIZE]; /* "primary", "secondary" or a name the operator chose */
    unsigned role;           /* enum fe_role: exactly one bit */
    uint8_t sha256[32];
    int64_t created;
};

enum fe_conversion_status {
    FE_CONV_NOT_STARTED = 0,
    FE_CONV_RUNNING = 1,
    FE_CONV_CANCELLED = 2,
    FE_CONV_FAILED = 3,
    FE_CONV_SUCCEEDED = 4,
};
/* "NotStarted", "Running", "Cancelled", "Failed", "Succeeded". */
const char *fe_conversion_status_str(enum fe_conversion_status s);

struct fe_conversion_record {
    char account_id[FE_ACCOUNT_ID_SIZE];
    char id[FE_ID_SIZE];
    /* The create request's "settings" object as canonical JSON (keys sorted, compact),
     * SAS fields included: the runner needs them, a retried create is compared against it.
     * malloc'd. Never sent back as is: the API removes the SAS fields. */
    char *settings_json;
    enum fe_conversion_status status;
    int progress;                      /* 0–100 */
    char error_code[FE_CODE_SIZE];     /* "" unless Failed / Cancelled */
    char error_message[FE_MESSAGE_SIZE];
    char output_uri[FE_URI_SIZE];      /* "" unless Succeeded */
    int64_t created, started, finished; /* seconds; 0 = not yet */
    pid_t pid;                          /* the openrr-convert child while Running, else 0 */
    uint64_t pid_start_time;            /* /proc/PID/stat field 22, to recognise it later */
    int attempts;                       /* runs started (a restart requeues: ≥ 2) */
};
void fe_conversion_record_clear(struct fe_conversion_record *r);

enum fe_session_status {
    FE_SESSION_STARTING = 0,
    FE_SESSION_READY = 1,
    FE_SESSION_STOPPED = 2,
    FE_SESSION_EXPIRED = 3,
    FE_SESSION_ERROR = 4,
};
/* "Starting", "Ready", "Stopped", "Expired", "Error". */
const char *fe_session_status_str(enum fe_session_status s);

enum fe_session_size {
    FE_SIZE_STANDARD = 0,
    FE_SIZE_PREMIUM = 1,
};
/* "Standard", "Premium". */
const char *fe_session_size_str(enum fe_session_size s);

struct fe_session_record {
    char account_id[FE_ACCOUNT_ID_SIZE];
    char id[FE_ID_SIZE];
    enum fe_session_size size;
    enum fe_session_status status;
    int create_lease_minutes; /* as created (what a retried create is compared against) */
    int max_lease_minutes;    /* current (PATCH raises it) */
    char hostname[FE_HOST_SIZE];
    int handshake_port, transport_port, inspector_port; /* 0 = not assigned */
    int64_t created, ready_at, ended_at;                /* seconds; 0 = not yet */
    char error_code[FE_CODE_SIZE];                      /* "" unless Error */
    char error_message[FE_MESSAGE_SIZE];
    /* The host, for the session manager (never shown by the API). */
    char backend[16];        /* "local" */
    pid_t host_pid;          /* 0 = none */
    uint64_t host_start_time; /* /proc/PID/stat field 22 */
    uint8_t register_sha256[32]; /* SHA-256 of the secret the host registers with */
    char inspector_token[72];    /* the host inspector's bearer token (a secret; never logged) */
};

/* ---- the interface ------------------------------------------------------------------------ */

/* Paging: lists return records ordered by id (byte order), starting after @p after ("" =
 * from the start), at most @p limit (1–1000); *out_more says whether more follow. */

struct fe_store {
    /* Use fe_store_destroy(). No call may be in progress or follow; threads that used the
     * store may live on (their connections are closed here) but must not be exiting during
     * the call (a thread's exit closes its own connection). */
    void (*destroy)(struct fe_store *self);

    /* Accounts. create: the account and its keys in one transaction (EXISTS when the id is
     * taken; nothing is written). A key's account_id may be "" (the account's is used), else
     * it must be the account's; two keys of one name → INVALID. created 0 = now (also for
     * keys). */
    enum fe_store_result (*account_create)(struct fe_store *self,
                                           const struct fe_account_record *account,
                                           const struct fe_key_record *keys, size_t key_count,
                                           char *err, size_t err_size);
    enum fe_store_result (*account_get)(struct fe_store *self, const char *account_id,
                                        struct fe_account_record *out);
    /* All accounts into a malloc'd array (free()), ordered by creation. */
    enum fe_store_result (*account_list)(struct fe_store *self, struct fe_account_record **out,
                                         size_t *out_count);
    /* Insert or replace the key (account_id, name). NOT_FOUND without the account. created 0
     * = now. */
    enum fe_store_result (*key_put)(struct fe_store *self, const struct fe_key_record *key,
                                    char *err, size_t err_size);
    /* The account's keys (at most @p cap, in byte order of their names) into @p out (may be
     * NULL when @p cap is 0); *out_count = how many there are (may exceed @p cap). NOT_FOUND
     * without the account. */
    enum fe_store_result (*key_list)(struct fe_store *self, const char *account_id,
                                     struct fe_key_record *out, size_t cap, size_t *out_count);

    /* Conversions. create: insert @p rec (status NotStarted) unless (account, id) exists;
     * then EXISTS with the existing record in @p existing (which may be NULL). Atomic: of
     * any number of concurrent creates of one id, exactly one gets OK. The other fields are
     * stored as given (created 0 = now); settings_json: required, at most 1 MiB. */
    enum fe_store_result (*conversion_create)(struct fe_store *self,
                                              const struct fe_conversion_record *rec,
                                              struct fe_conversion_record *existing, char *err,
                                              size_t err_size);
    enum fe_store_result (*conversion_get)(struct fe_store *self, const char *account_id,
                                           const char *id, struct fe_conversion_record *out);
    /* @p out: a malloc'd array of @p *out_count records (clear each, then free()). */
    enum fe_store_result (*conversion_list)(struct fe_store *self, const char *account_id,
                                            const char *after, size_t limit,
                                            struct fe_conversion_record **out, size_t *out_count,
                                            bool *out_more);
    /* The oldest NotStarted conversion (any account; by created, then by order of creation),
     * switched to Running with started = now, attempts + 1, in one transaction; NOT_FOUND
     * when none waits. */
    enum fe_store_result (*conversion_claim)(struct fe_store *self,
                                             struct fe_conversion_record *out);
    /* Replace status, progress, error, output, started/finished, pid and pid_start_time of
     * (account, id) when its current status is @p expect (else CHANGED and nothing is
     * written; NOT_FOUND when there is no such conversion). settings_json, created and
     * attempts are not written (the claim counts attempts). */
    enum fe_store_result (*conversion_update)(struct fe_store *self,
                                              const struct fe_conversion_record *rec,
                                              enum fe_conversion_status expect);
    /* Every conversion in @p status (for requeueing at start-up), oldest first, malloc'd as
     * above. */
    enum fe_store_result (*conversion_list_status)(struct fe_store *self,
                                                   enum fe_conversion_status status,
                                                   struct fe_conversion_record **out,
                                                   size_t *out_count);
    /* Conversions NotStarted (for a bounded queue). */
    enum fe_store_result (*conversion_count_waiting)(struct fe_store *self, size_t *out_count);

    /* Sessions: as conversions (create: status Starting, the rest as given, created 0 = now).
     * list: @p active_only = Starting and Ready only; @p out as conversion_list's, its
     * records own nothing (free() the array). */
    enum fe_store_result (*session_create)(struct fe_store *self,
                                           const struct fe_session_record *rec,
                                           struct fe_session_record *existing, char *err,
                                           size_t err_size);
    enum fe_store_result (*session_get)(struct fe_store *self, const char *account_id,
                                        const char *id, struct fe_session_record *out);
    enum fe_store_result (*session_list)(struct fe_store *self, const char *account_id,
                                         bool active_only, const char *after, size_t limit,
                                         struct fe_session_record **out, size_t *out_count,
                                         bool *out_more);
    /* Every Starting or Ready session of every account (the session manager's view), oldest
     * first, into a malloc'd array (free()). */
    enum fe_store_result (*session_list_active)(struct fe_store *self,
                                                struct fe_session_record **out,
                                                size_t *out_count);
    /* Replace every mutable field of (account, id) — all but size, create_lease_minutes and
     * created — when its current status is @p expect (else CHANGED and nothing is written;
     * NOT_FOUND when there is no such session). max_lease_minutes never shrinks: the larger of
     * the stored and the given value is kept (see session_raise_lease). */
    enum fe_store_result (*session_update)(struct fe_store *self,
                                           const struct fe_session_record *rec,
                                           enum fe_session_status expect);
    /* Set max_lease_minutes of (account, id) to @p minutes when the session is Starting or
     * Ready and its lease is smaller, touching nothing else: a PATCH must never overwrite
     * what the session manager writes at the same time (host, ports, status). CHANGED when
     * it ended or its lease is not smaller (read it again to say which), NOT_FOUND. */
    enum fe_store_result (*session_raise_lease)(struct fe_store *self, const char *account_id,
                                                const char *id, int minutes);
    /* Delete ended sessions whose ended_at is before @p before; *out_count = how many (may be
     * NULL). Starting and Ready sessions are never deleted. */
    enum fe_store_result (*session_purge)(struct fe_store *self, int64_t before,
                                          size_t *out_count);
};

/* Open (creating when missing, with migrations applied) the SQLite store at @p path
 * (e.g. "<data>/openrr.db"): WAL mode, foreign keys on, busy timeout 5 s, integrity checked
 * at open (quick_check). Each thread that calls the store gets its own connection, closed
 * when the thread exits or at destroy. Errors: IO (path, permissions, locked, read-only),
 * CORRUPT (damaged, not SQLite, another program's database, a newer schema; the message
 * names the file), FULL (migrating on a full disk), INVALID, NO_MEMORY. */
enum fe_store_result fe_store_sqlite_open(const char *path, struct fe_store **out_store,
                                          char *err, size_t err_size);

static inline void fe_store_destroy(struct fe_store **store_ptr)
{
    if (store_ptr != NULL && *store_ptr != NULL) {
        (*store_ptr)->destroy(*store_ptr);
        *store_ptr = NULL;
    }
}

#endif /* OPENRR_FE_STORE_H */
