/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Internals of the SQLite store, shared by its files: fe_store_sqlite.c (opening, per-thread
 * connections, statements, errors, transactions), fe_store_schema.c (the SQL: migrations and
 * every statement), fe_store_rows.c (binding, reading rows, shared patterns) and one file per
 * kind of record (fe_store_accounts.c, fe_store_conversions.c, fe_store_sessions.c). Not for
 * other modules.
 *
 * Threads: a connection belongs to the thread that opened it (SQLITE_OPEN_NOMUTEX: no
 * locking inside SQLite for it); the store's registry of connections is guarded by its mutex.
 */
#ifndef OPENRR_FE_STORE_SQLITE_H
#define OPENRR_FE_STORE_SQLITE_H

#include "fe_store.h"

#include <pthread.h>
#include <sqlite3.h>

#define FS_LOG "fe_store"

/* The newest schema version (PRAGMA user_version) this code writes and reads. */
#define FS_SCHEMA_VERSION 1
/* PRAGMA application_id of our databases: "ORRD". */
#define FS_APPLICATION_ID 0x4f525244

/* Every statement a connection prepares, once, on first use. */
enum fs_stmt_id {
    FS_BEGIN,
    FS_COMMIT,
    FS_ROLLBACK,
    FS_ACCOUNT_INSERT,
    FS_ACCOUNT_GET,
    FS_ACCOUNT_LIST,
    FS_KEY_INSERT,
    FS_KEY_UPSERT,
    FS_KEY_LIST,
    FS_CONV_INSERT,
    FS_CONV_GET,
    FS_CONV_EXISTS,
    FS_CONV_LIST,
    FS_CONV_PICK,
    FS_CONV_CLAIM,
    FS_CONV_UPDATE,
    FS_CONV_LIST_STATUS,
    FS_CONV_COUNT_WAITING,
    FS_SESS_INSERT,
    FS_SESS_GET,
    FS_SESS_EXISTS,
    FS_SESS_LIST,
    FS_SESS_LIST_ACTIVE_OF,
    FS_SESS_LIST_ACTIVE,
    FS_SESS_UPDATE,
    FS_SESS_PURGE,
    FS_SESS_RAISE_LEASE,
    FS_STMT_COUNT
};

struct fs_store;

struct fs_conn {
    struct fs_store *store;
    sqlite3 *db;
    sqlite3_stmt *stmt[FS_STMT_COUNT];
    struct fs_conn *prev, *next; /* the store's registry */
};

struct fs_store {
    struct fe_store base;
    char *path;
    pthread_key_t key;     /* the calling thread's struct fs_conn */
    pthread_mutex_t mutex; /* guards conns */
    struct fs_conn *conns;
};

static inline struct fs_store *fs_store(struct fe_store *base)
{
    return (struct fs_store *)base;
}

/* ---- fe_store_sqlite.c ---- */

/* The calling thread's connection, opened on its first call. IO or NO_MEMORY (logged). */
enum fe_store_result fs_conn_get(struct fs_store *s, struct fs_conn **out);
/* The connection's prepared statement @p id (reset, ready for binding); NULL on failure with
 * the SQLite code in *out_rc. */
sqlite3_stmt *fs_stmt(struct fs_conn *c, enum fs_stmt_id id, int *out_rc);
/* The store result for SQLite code @p rc on @p db (may be NULL): a full or over-quota disk is
 * FULL even when SQLite calls it an I/O error. */
enum fe_store_result fs_map(sqlite3 *db, int rc);
/* fs_map, and a line "<what>: <reason> (<path>)" into @p err (may be NULL) and the log. */
enum fe_store_result fs_fail(struct fs_conn *c, int rc, const char *what, char *err,
                             size_t err_size);
/* Transactions: BEGIN IMMEDIATE (the write lock, waiting up to the busy timeout), COMMIT
 * (rolls back when it fails), ROLLBACK (nothing when none is open). */
enum fe_store_result fs_begin(struct fs_conn *c, const char *what, char *err, size_t err_size);
enum fe_store_result fs_commit(struct fs_conn *c, const char *what, char *err, size_t err_size);
void fs_rollback(struct fs_conn *c);

/* ---- fe_store_schema.c ---- */

/* The SQL of statement @p id. */
const char *fs_sql(enum fs_stmt_id id);
/* On a freshly opened connection to @p path: check that it is a sound database of ours
 * (quick_check), switch to WAL, apply the missing migrations in one transaction. */
enum fe_store_result fs_schema_open(sqlite3 *db, const char *path, char *err, size_t err_size);
/* Per-connection settings (busy timeout, synchronous, foreign keys). SQLite code. */
int fs_schema_connection_setup(sqlite3 *db);

/* ---- fe_store_rows.c ---- */

#define FS_MAX_PAGE 1000 /* the largest page a list returns */

/* A NUL within @p size bytes; fs_id_ok: and not empty. */
bool fs_fits(const char *s, size_t size);
bool fs_id_ok(const char *s, size_t size);
void fs_err_clear(char *err, size_t err_size);
/* INVALID, with @p why in @p err. */
enum fe_store_result fs_invalid(char *err, size_t err_size, const char *why);

/* Binds parameters in sequence, keeping the first error in rc. Strings and blobs are bound
 * without a copy: they must stay valid until the statement is reset. */
struct fs_binder {
    sqlite3_stmt *st;
    int rc;
};
void fs_bind_text(struct fs_binder *b, int i, const char *s);
void fs_bind_int(struct fs_binder *b, int i, int64_t v);
void fs_bind_blob(struct fs_binder *b, int i, const void *p, int n);

/* Reads a row's columns in order, keeping the first problem in r: CORRUPT for a text longer
 * than its field, a number out of its range or a hash not 32 bytes; NO_MEMORY. */
struct fs_reader {
    sqlite3_stmt *st;
    int col;
    enum fe_store_result r;
};
void fs_read_text(struct fs_reader *rd, char *dst, size_t size);
char *fs_read_dup(struct fs_reader *rd); /* malloc'd */
int64_t fs_read_int(struct fs_reader *rd);
int fs_read_range(struct fs_reader *rd, int64_t lo, int64_t hi);
void fs_read_sha256(struct fs_reader *rd, uint8_t dst[32]);

/* Step a statement that returns no row, then reset it: SQLITE_OK when done, else the code. */
int fs_step_done(sqlite3_stmt *st);

/* A row into a record (cleared by the reader itself when it fails); a record's cleanup. */
typedef enum fe_store_result (*fs_row_reader)(sqlite3_stmt *st, void *out);
typedef void (*fs_record_clear)(void *rec);

/* The rows of @p st (bound) into a malloc'd array of @p elem-byte records, at most @p max.
 * On failure the records read so far are cleared and nothing is returned. Resets @p st. */
enum fe_store_result fs_collect(struct fs_conn *c, sqlite3_stmt *st, size_t elem,
                                fs_row_reader read, fs_record_clear clear, size_t max,
                                const char *what, void **out, size_t *out_count);
/* Statement @p get_id bound with (account, id) and stepped once; @p read fills @p out (both
 * may be NULL: only whether it exists). SQLITE_ROW, SQLITE_DONE or an error code; a read
 * problem in *out_r. */
int fs_read_one(struct fs_conn *c, enum fs_stmt_id get_id, const char *account_id, const char *id,
                fs_row_reader read, void *out, enum fe_store_result *out_r);
/* A page of statement @p list_id (bound with account, after, limit + 1), as the header's
 * lists promise. */
enum fe_store_result fs_page(struct fe_store *self, enum fs_stmt_id list_id, const char *account_id,
                             const char *after, size_t limit, size_t elem, fs_row_reader read,
                             fs_record_clear clear, void **out, size_t *out_count, bool *out_more);
/* Create-unless-it-exists: in one write transaction, run @p insert (bound, with ON CONFLICT
 * DO NOTHING; @p bind_rc its binding's result); when it inserted nothing, read the existing
 * record with @p get_id into @p existing (may be NULL) and answer EXISTS. */
enum fe_store_result fs_insert_new(struct fs_conn *c, sqlite3_stmt *insert, int bind_rc,
                                   enum fs_stmt_id get_id, const char *account_id, const char *id,
                                   fs_row_reader read, void *existing, const char *what, char *err,
                                   size_t err_size);
/* The end of a conditional update (UPDATE … AND status = expect) run inside fs_begin: commit
 * it, or roll back and answer NOT_FOUND or CHANGED (looked up with @p exists_id). */
enum fe_store_result fs_finish_update(struct fs_conn *c, int rc, enum fs_stmt_id exists_id,
                                      const char *account_id, const char *id, const char *what);

/* ---- fe_store_accounts.c, fe_store_conversions.c, fe_store_sessions.c ---- */

/* Fill the store's functions for each kind of record. */
void fs_accounts_install(struct fe_store *base);
void fs_conversions_install(struct fe_store *base);
void fs_sessions_install(struct fe_store *base);

#endif /* OPENRR_FE_STORE_SQLITE_H */
