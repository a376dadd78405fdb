/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fe_store_sqlite — openrrd's records in SQLite: opening the store (the checks and migrations
 * are in fe_store_schema.c, the records in fe_store_{accounts,conversions,sessions}.c), one
 * connection per calling thread with its statements prepared once, error mapping and transactions.
 *
 * Threads: any, at the same time. A thread's first call opens its own connection (kept in
 * thread-specific data, closed when the thread exits or the store is destroyed), so readers
 * never wait for each other or take a lock of ours; WAL lets them read while one writer
 * writes. Writers take the write lock up front (BEGIN IMMEDIATE) and so wait in SQLite's busy
 * handler (5 s) for one another — across processes too — instead of failing on an upgrade.
 */
#include "fe_store_sqlite.h"

#include "u_log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- errors ------------------------------------------------------------------------------- */

static bool errno_is_full(int e)
{
    return e == ENOSPC || e == EDQUOT || e == EFBIG;
}

/* Whether an I/O error was a full disk in disguise. SQLite calls a short write FULL only for
 * ENOSPC; a quota (EDQUOT) or the file size limit (EFBIG) comes back as IOERR_WRITE, with the
 * errno kept on the file that failed — the database or its WAL — while the connection's own
 * errno may have been overwritten by the rollback's system calls since. */
static bool io_error_is_full(sqlite3 *db)
{
    if (db == NULL) {
        return false;
    }
    if (errno_is_full(sqlite3_system_errno(db))) {
        return true;
    }
    int e = 0;
    if (sqlite3_file_control(db, "main", SQLITE_FCNTL_LAST_ERRNO, &e) == SQLITE_OK &&
        errno_is_full(e)) {
        return true;
    }
    sqlite3_file *wal = NULL;
    e = 0;
    return sqlite3_file_control(db, "main", SQLITE_FCNTL_JOURNAL_POINTER, &wal) == SQLITE_OK &&
           wal != NULL && wal->pMethods != NULL &&
           wal->pMethods->xFileControl(wal, SQLITE_FCNTL_LAST_ERRNO, &e) == SQLITE_OK &&
           errno_is_full(e);
}

enum fe_store_result fs_map(sqlite3 *db, int rc)
{
    switch (rc & 0xff) {
    case SQLITE_OK:
    case SQLITE_ROW:
    case SQLITE_DONE:
        return FE_STORE_OK;
    case SQLITE_FULL:
        return FE_STORE_FULL;
    case SQLITE_IOERR:
        if (rc == SQLITE_IOERR_NOMEM) {
            return FE_STORE_NO_MEMORY;
        }
        return io_error_is_full(db) ? FE_STORE_FULL : FE_STORE_IO;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
    case SQLITE_FORMAT:
        return FE_STORE_CORRUPT;
    case SQLITE_NOMEM:
        return FE_STORE_NO_MEMORY;
    case SQLITE_CONSTRAINT:
    case SQLITE_TOOBIG:
    case SQLITE_RANGE:
    case SQLITE_MISMATCH:
        return FE_STORE_INVALID;
    default: /* CANTOPEN, READONLY, BUSY, LOCKED, PERM, PROTOCOL, ERROR, … */
        return FE_STORE_IO;
    }
}

enum fe_store_result fs_fail(struct fs_conn *c, int rc, const char *what, char *err,
                             size_t err_size)
{
    enum fe_store_result r = fs_map(c != NULL ? c->db : NULL, rc);
    /* The connection's message is SQLite's for this code; its texts name columns or
     * constraints, never a bound value, so no secret reaches a log. */
    const char *why = sqlite3_errstr(rc);
    if (c != NULL && (sqlite3_errcode(c->db) & 0xff) == (rc & 0xff)) {
        why = sqlite3_errmsg(c->db);
    }
    int e = c != NULL ? sqlite3_system_errno(c->db) : 0;
    char line[512];
    if (r == FE_STORE_FULL) {
        snprintf(line, sizeof(line), "%s: the disk is full (%s)", what,
                 c != NULL ? c->store->path : "?");
    } else if (c != NULL && (r == FE_STORE_IO || r == FE_STORE_CORRUPT)) {
        snprintf(line, sizeof(line), "%s: %s (SQLite %d%s%s) (%s)", what, why,
                 sqlite3_extended_errcode(c->db), e != 0 ? ", " : "", e != 0 ? strerror(e) : "",
                 c->store->path);
    } else {
        snprintf(line, sizeof(line), "%s: %s (%s)", what, why, c != NULL ? c->store->path : "?");
    }
    if (err != NULL && err_size > 0) {
        snprintf(err, err_size, "%s", line);
    }
    if (r == FE_STORE_INVALID) {
        U_LOG_W(FS_LOG, "%s", line);
    } else {
        U_LOG_E(FS_LOG, "%s", line);
    }
    return r;
}

/* ---- connections -------------------------------------------------------------------------- */

static void conn_close(struct fs_conn *c)
{
    for (int i = 0; i < FS_STMT_COUNT; i++) {
        sqlite3_finalize(c->stmt[i]);
    }
    /* The last connection of the process checkpoints the WAL and removes it here; a failure
     * (a full disk) keeps the WAL, which the next open reads. */
    sqlite3_close_v2(c->db);
    free(c);
}

static void conn_unlink(struct fs_store *s, struct fs_conn *c)
{
    if (c->prev != NULL) {
        c->prev->next = c->next;
    } else {
        s->conns = c->next;
    }
    if (c->next != NULL) {
        c->next->prev = c->prev;
    }
    c->prev = c->next = NULL;
}

/* Thread exit: the destructor of the store's key (not called once the key is deleted, i.e.
 * after destroy, which has closed the connection itself). */
static void conn_thread_exit(void *p)
{
    struct fs_conn *c = p;
    struct fs_store *s = c->store;
    pthread_mutex_lock(&s->mutex);
    conn_unlink(s, c);
    pthread_mutex_unlock(&s->mutex);
    conn_close(c);
}

/* Make @p db the calling thread's connection. */
static enum fe_store_result conn_adopt(struct fs_store *s, sqlite3 *db, struct fs_conn **out)
{
    struct fs_conn *c = calloc(1, sizeof(*c));
    if (c == NULL) {
        return FE_STORE_NO_MEMORY;
    }
    c->store = s;
    c->db = db;
    if (pthread_setspecific(s->key, c) != 0) {
        free(c);
        return FE_STORE_NO_MEMORY;
    }
    pthread_mutex_lock(&s->mutex);
    c->next = s->conns;
    if (s->conns != NULL) {
        s->conns->prev = c;
    }
    s->conns = c;
    pthread_mutex_unlock(&s->mutex);
    *out = c;
    return FE_STORE_OK;
}

enum fe_store_result fs_conn_get(struct fs_store *s, struct fs_conn **out)
{
    struct fs_conn *c = pthread_getspecific(s->key);
    if (c != NULL) {
        *out = c;
        return FE_STORE_OK;
    }
    /* No CREATE: the file was made at open; a database that vanished since is an error, not a
     * fresh empty one. */
    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2(s->path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc == SQLITE_OK) {
        rc = fs_schema_connection_setup(db);
    }
    if (rc != SQLITE_OK) {
        int e = db != NULL ? sqlite3_system_errno(db) : 0;
        U_LOG_E(FS_LOG, "cannot open a connection to %s: %s%s%s", s->path,
                db != NULL ? sqlite3_errmsg(db) : sqlite3_errstr(rc), e != 0 ? ": " : "",
                e != 0 ? strerror(e) : "");
        sqlite3_close_v2(db);
        return rc == SQLITE_NOMEM ? FE_STORE_NO_MEMORY : FE_STORE_IO;
    }
    enum fe_store_result r = conn_adopt(s, db, out);
    if (r != FE_STORE_OK) {
        sqlite3_close_v2(db);
    }
    return r;
}

sqlite3_stmt *fs_stmt(struct fs_conn *c, enum fs_stmt_id id, int *out_rc)
{
    sqlite3_stmt *st = c->stmt[id];
    if (st == NULL) {
        int rc = sqlite3_prepare_v3(c->db, fs_sql(id), -1, SQLITE_PREPARE_PERSISTENT, &st, NULL);
        if (rc != SQLITE_OK) {
            *out_rc = rc;
            return NULL;
        }
        c->stmt[id] = st;
    }
    *out_rc = SQLITE_OK;
    return st;
}

/* ---- transactions ------------------------------------------------------------------------- */

static int exec_cached(struct fs_conn *c, enum fs_stmt_id id)
{
    int rc;
    sqlite3_stmt *st = fs_stmt(c, id, &rc);
    if (st == NULL) {
        return rc;
    }
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

enum fe_store_result fs_begin(struct fs_conn *c, const char *what, char *err, size_t err_size)
{
    int rc = exec_cached(c, FS_BEGIN);
    if (rc != SQLITE_OK) {
        return fs_fail(c, rc, what, err, err_size);
    }
    return FE_STORE_OK;
}

void fs_rollback(struct fs_conn *c)
{
    /* After some errors (a full disk, I/O) SQLite has rolled back already. */
    if (!sqlite3_get_autocommit(c->db)) {
        int rc = exec_cached(c, FS_ROLLBACK);
        if (rc != SQLITE_OK) {
            U_LOG_E(FS_LOG, "rollback failed: %s (%s)", sqlite3_errmsg(c->db), c->store->path);
        }
    }
}

enum fe_store_result fs_commit(struct fs_conn *c, const char *what, char *err, size_t err_size)
{
    int rc = exec_cached(c, FS_COMMIT);
    if (rc != SQLITE_OK) {
        enum fe_store_result r = fs_fail(c, rc, what, err, err_size);
        fs_rollback(c);
        return r;
    }
    return FE_STORE_OK;
}

/* ---- open and destroy --------------------------------------------------------------------- */

static void store_destroy(struct fe_store *base)
{
    struct fs_store *s = fs_store(base);
    /* Every thread that used the store has stopped calling it (the contract); their
     * connections are closed here, and deleting the key keeps their exit from running the
     * destructor on freed memory. */
    pthread_mutex_lock(&s->mutex);
    struct fs_conn *c = s->conns;
    s->conns = NULL;
    pthread_mutex_unlock(&s->mutex);
    pthread_key_delete(s->key);
    while (c != NULL) {
        struct fs_conn *next = c->next;
        conn_close(c);
        c = next;
    }
    pthread_mutex_destroy(&s->mutex);
    free(s->path);
    free(s);
}

static enum fe_store_result open_fail(enum fe_store_result r, char *err, size_t err_size,
                                      const char *msg)
{
    if (err != NULL && err_size > 0) {
        snprintf(err, err_size, "%s", msg);
    }
    return r;
}

enum fe_store_result fe_store_sqlite_open(const char *path, struct fe_store **out_store, char *err,
                                          size_t err_size)
{
    if (err != NULL && err_size > 0) {
        err[0] = '\0';
    }
    if (out_store == NULL) {
        return open_fail(FE_STORE_INVALID, err, err_size, "no place for the store");
    }
    *out_store = NULL;
    if (path == NULL || path[0] == '\0') {
        return open_fail(FE_STORE_INVALID, err, err_size, "no database path");
    }

    struct fs_store *s = calloc(1, sizeof(*s));
    if (s == NULL || (s->path = strdup(path)) == NULL) {
        free(s);
        return open_fail(FE_STORE_NO_MEMORY, err, err_size, "out of memory");
    }
    if (pthread_key_create(&s->key, conn_thread_exit) != 0) {
        free(s->path);
        free(s);
        return open_fail(FE_STORE_NO_MEMORY, err, err_size, "no thread-specific key left");
    }
    pthread_mutex_init(&s->mutex, NULL);

    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2(
        path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    enum fe_store_result r = FE_STORE_OK;
    if (rc != SQLITE_OK) {
        int e = db != NULL ? sqlite3_system_errno(db) : 0;
        r = rc == SQLITE_NOMEM ? FE_STORE_NO_MEMORY : FE_STORE_IO;
        if (err != NULL && err_size > 0) {
            snprintf(err, err_size, "cannot open the database %s: %s%s%s", path,
                     db != NULL ? sqlite3_errmsg(db) : sqlite3_errstr(rc), e != 0 ? ": " : "",
                     e != 0 ? strerror(e) : "");
        }
    } else {
        r = fs_schema_open(db, path, err, err_size);
    }
    struct fs_conn *c = NULL;
    if (r == FE_STORE_OK) {
        /* The opening thread keeps this connection: it holds the WAL open for the store's
         * life, so threads that come and go do not checkpoint and delete it each time. */
        r = conn_adopt(s, db, &c);
        if (r != FE_STORE_OK) {
            open_fail(r, err, err_size, "out of memory");
        }
    }
    if (r != FE_STORE_OK) {
        sqlite3_close_v2(db);
        pthread_key_delete(s->key);
        pthread_mutex_destroy(&s->mutex);
        free(s->path);
        free(s);
        return r;
    }
    s->base.destroy = store_destroy;
    fs_accounts_install(&s->base);
    fs_conversions_install(&s->base);
    fs_sessions_install(&s->base);
    *out_store = &s->base;
    return FE_STORE_OK;
}
