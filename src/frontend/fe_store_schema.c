/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The SQL of the SQLite store in one place: the schema as numbered migrations (PRAGMA
 * user_version counts those applied), the checks made when a database is opened, and the text
 * of every statement the records use, so that a column change is reviewed with its uses.
 *
 * Threads: fs_schema_open runs on the thread opening the store; fs_sql is a pure lookup.
 */
#include "fe_store_sqlite.h"

#include "u_log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The SQL below writes these values as numbers. */
_Static_assert(FE_CONV_NOT_STARTED == 0 && FE_CONV_RUNNING == 1, "conversion status numbers");
_Static_assert(FE_SESSION_STARTING == 0 && FE_SESSION_READY == 1 && FE_SESSION_STOPPED == 2 &&
                   FE_SESSION_ERROR == 4,
               "session status numbers");
_Static_assert(FE_ROLE_ADMINISTRATOR == 1 && FE_ROLE_CLIENT == 2, "role numbers");

/* ---- migrations --------------------------------------------------------------------------- */

/* migrations[i] takes a database from user_version i to i + 1. Never edit one that shipped:
 * add the next. Text columns use the BINARY collation (byte order), which paging relies on;
 * 64-bit unsigned values (process start times) are stored as their two's-complement int64. */
static const char *const migrations[FS_SCHEMA_VERSION] = {
    /* 1: accounts, keys, conversions, sessions. */
    "CREATE TABLE accounts ("
    "  id      TEXT    NOT NULL PRIMARY KEY,"
    "  domain  TEXT    NOT NULL,"
    "  created INTEGER NOT NULL"
    ");"
    "CREATE TABLE keys ("
    "  account_id TEXT    NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,"
    "  name       TEXT    NOT NULL,"
    "  role       INTEGER NOT NULL CHECK (role IN (1, 2)),"
    "  sha256     BLOB    NOT NULL CHECK (length(sha256) = 32),"
    "  created    INTEGER NOT NULL,"
    "  PRIMARY KEY (account_id, name)"
    ") WITHOUT ROWID;"
    /* seq: insertion order, the claim's tie-break among conversions created in one second. */
    "CREATE TABLE conversions ("
    "  seq            INTEGER PRIMARY KEY,"
    "  account_id     TEXT    NOT NULL,"
    "  id             TEXT    NOT NULL,"
    "  settings_json  TEXT    NOT NULL,"
    "  status         INTEGER NOT NULL CHECK (status BETWEEN 0 AND 4),"
    "  progress       INTEGER NOT NULL CHECK (progress BETWEEN 0 AND 100),"
    "  error_code     TEXT    NOT NULL,"
    "  error_message  TEXT    NOT NULL,"
    "  output_uri     TEXT    NOT NULL,"
    "  created        INTEGER NOT NULL,"
    "  started        INTEGER NOT NULL,"
    "  finished       INTEGER NOT NULL,"
    "  pid            INTEGER NOT NULL,"
    "  pid_start_time INTEGER NOT NULL,"
    "  attempts       INTEGER NOT NULL,"
    "  UNIQUE (account_id, id)"
    ");"
    "CREATE INDEX conversions_by_status ON conversions (status, created, seq);"
    /* WITHOUT ROWID: session_get, the hot read, is one b-tree lookup. */
    "CREATE TABLE sessions ("
    "  account_id      TEXT    NOT NULL,"
    "  id              TEXT    NOT NULL,"
    "  size            INTEGER NOT NULL CHECK (size IN (0, 1)),"
    "  status          INTEGER NOT NULL CHECK (status BETWEEN 0 AND 4),"
    "  create_lease    INTEGER NOT NULL,"
    "  max_lease       INTEGER NOT NULL,"
    "  hostname        TEXT    NOT NULL,"
    "  handshake_port  INTEGER NOT NULL,"
    "  transport_port  INTEGER NOT NULL,"
    "  inspector_port  INTEGER NOT NULL,"
    "  created         INTEGER NOT NULL,"
    "  ready_at        INTEGER NOT NULL,"
    "  ended_at        INTEGER NOT NULL,"
    "  error_code      TEXT    NOT NULL,"
    "  error_message   TEXT    NOT NULL,"
    "  backend         TEXT    NOT NULL,"
    "  host_pid        INTEGER NOT NULL,"
    "  host_start_time INTEGER NOT NULL,"
    "  register_sha256 BLOB    NOT NULL CHECK (length(register_sha256) = 32),"
    "  inspector_token TEXT    NOT NULL,"
    "  PRIMARY KEY (account_id, id)"
    ") WITHOUT ROWID;"
    "CREATE INDEX sessions_by_status ON sessions (status, ended_at);",
};

/* ---- statements --------------------------------------------------------------------------- */

/* Column lists in the order conv_read and sess_read read them. */
#define CONV_COLS                                                                                  \
    "account_id, id, settings_json, status, progress, error_code, error_message, output_uri, "     \
    "created, started, finished, pid, pid_start_time, attempts"
#define SESS_COLS                                                                                  \
    "account_id, id, size, status, create_lease, max_lease, hostname, handshake_port, "            \
    "transport_port, inspector_port, created, ready_at, ended_at, error_code, error_message, "     \
    "backend, host_pid, host_start_time, register_sha256, inspector_token"

static const char *const statements[FS_STMT_COUNT] = {
    [FS_BEGIN] = "BEGIN IMMEDIATE",
    [FS_COMMIT] = "COMMIT",
    [FS_ROLLBACK] = "ROLLBACK",

    [FS_ACCOUNT_INSERT] = "INSERT INTO accounts (id, domain, created) VALUES (?1, ?2, ?3) "
                          "ON CONFLICT (id) DO NOTHING",
    [FS_ACCOUNT_GET] = "SELECT id, domain, created FROM accounts WHERE id = ?1",
    [FS_ACCOUNT_LIST] = "SELECT id, domain, created FROM accounts ORDER BY created, rowid",
    [FS_KEY_INSERT] = "INSERT INTO keys (account_id, name, role, sha256, created) "
                      "VALUES (?1, ?2, ?3, ?4, ?5)",
    [FS_KEY_UPSERT] = "INSERT INTO keys (account_id, name, role, sha256, created) "
                      "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (account_id, name) DO UPDATE "
                      "SET role = excluded.role, sha256 = excluded.sha256, "
                      "created = excluded.created",
    [FS_KEY_LIST] = "SELECT account_id, name, role, sha256, created FROM keys "
                    "WHERE account_id = ?1 ORDER BY name",

    [FS_CONV_INSERT] = "INSERT INTO conversions (" CONV_COLS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, "
                       "?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14) "
                       "ON CONFLICT (account_id, id) DO NOTHING",
    [FS_CONV_GET] = "SELECT " CONV_COLS " FROM conversions WHERE account_id = ?1 AND id = ?2",
    [FS_CONV_EXISTS] = "SELECT 1 FROM conversions WHERE account_id = ?1 AND id = ?2",
    [FS_CONV_LIST] = "SELECT " CONV_COLS " FROM conversions WHERE account_id = ?1 AND id > ?2 "
                     "ORDER BY id LIMIT ?3",
    [FS_CONV_PICK] = "SELECT " CONV_COLS ", seq FROM conversions WHERE status = 0 "
                     "ORDER BY created, seq LIMIT 1",
    [FS_CONV_CLAIM] = "UPDATE conversions SET status = 1, started = ?2, attempts = attempts + 1 "
                      "WHERE seq = ?1 AND status = 0",
    [FS_CONV_UPDATE] = "UPDATE conversions SET status = ?3, progress = ?4, error_code = ?5, "
                       "error_message = ?6, output_uri = ?7, started = ?8, finished = ?9, "
                       "pid = ?10, pid_start_time = ?11 "
                       "WHERE account_id = ?1 AND id = ?2 AND status = ?12",
    [FS_CONV_LIST_STATUS] = "SELECT " CONV_COLS " FROM conversions WHERE status = ?1 "
                            "ORDER BY created, seq",
    [FS_CONV_COUNT_WAITING] = "SELECT count(*) FROM conversions WHERE status = 0",

    [FS_SESS_INSERT] = "INSERT INTO sessions (" SESS_COLS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, "
                       "?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20) "
                       "ON CONFLICT (account_id, id) DO NOTHING",
    [FS_SESS_GET] = "SELECT " SESS_COLS " FROM sessions WHERE account_id = ?1 AND id = ?2",
    [FS_SESS_EXISTS] = "SELECT 1 FROM sessions WHERE account_id = ?1 AND id = ?2",
    [FS_SESS_LIST] = "SELECT " SESS_COLS " FROM sessions WHERE account_id = ?1 AND id > ?2 "
                     "ORDER BY id LIMIT ?3",
    [FS_SESS_LIST_ACTIVE_OF] = "SELECT " SESS_COLS " FROM sessions WHERE account_id = ?1 "
                               "AND id > ?2 AND status IN (0, 1) ORDER BY id LIMIT ?3",
    [FS_SESS_LIST_ACTIVE] = "SELECT " SESS_COLS " FROM sessions WHERE status IN (0, 1) "
                            "ORDER BY created, account_id, id",
    /* max_lease only grows: a PATCH (FS_SESS_RAISE_LEASE) between a writer's read and this
     * write must not be undone by the writer's older copy. */
    [FS_SESS_UPDATE] = "UPDATE sessions SET status = ?3, max_lease = MAX(max_lease, ?4), "
                       "hostname = ?5, "
                       "handshake_port = ?6, transport_port = ?7, inspector_port = ?8, "
                       "ready_at = ?9, ended_at = ?10, error_code = ?11, error_message = ?12, "
                       "backend = ?13, host_pid = ?14, host_start_time = ?15, "
                       "register_sha256 = ?16, inspector_token = ?17 "
                       "WHERE account_id = ?1 AND id = ?2 AND status = ?18",
    [FS_SESS_PURGE] = "DELETE FROM sessions WHERE status IN (2, 3, 4) AND ended_at < ?1",
    [FS_SESS_RAISE_LEASE] = "UPDATE sessions SET max_lease = ?3 WHERE account_id = ?1 AND id = ?2 "
                            "AND status IN (0, 1) AND max_lease < ?3",
};

const char *fs_sql(enum fs_stmt_id id)
{
    return statements[id];
}

/* ---- opening ------------------------------------------------------------------------------ */

int fs_schema_connection_setup(sqlite3 *db)
{
    int rc = sqlite3_busy_timeout(db, 5000);
    if (rc == SQLITE_OK) {
        /* WAL + NORMAL: a commit is durable against a crash of the process (the OS has the
         * WAL pages); only power loss can lose the last commits, never corrupt the file. The
         * size limit trims the WAL back after a checkpoint following a burst of writes. */
        rc = sqlite3_exec(db,
                          "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; "
                          "PRAGMA journal_size_limit = 67108864;",
                          NULL, NULL, NULL);
    }
    return rc;
}

/* Result and "<what> <path>: <SQLite's reason>[: <errno text>]" for a failure at open. */
static enum fe_store_result schema_fail(sqlite3 *db, int rc, const char *path, const char *what,
                                        char *err, size_t err_size)
{
    enum fe_store_result r = fs_map(db, rc);
    const char *why =
        (sqlite3_errcode(db) & 0xff) == (rc & 0xff) ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    int e = sqlite3_system_errno(db);
    char line[512];
    if (r == FE_STORE_CORRUPT) {
        snprintf(line, sizeof(line), "the database %s is damaged or not an SQLite database (%s)",
                 path, why);
    } else if (r == FE_STORE_FULL) {
        snprintf(line, sizeof(line), "%s %s: the disk is full", what, path);
    } else {
        snprintf(line, sizeof(line), "%s %s: %s%s%s", what, path, why, e != 0 ? ": " : "",
                 e != 0 ? strerror(e) : "");
    }
    if (err != NULL && err_size > 0) {
        snprintf(err, err_size, "%s", line);
    }
    U_LOG_E(FS_LOG, "%s", line);
    return r;
}

static enum fe_store_result schema_corrupt(const char *path, const char *why, char *err,
                                           size_t err_size)
{
    if (err != NULL && err_size > 0) {
        snprintf(err, err_size, "the database %s %s", path, why);
    }
    U_LOG_E(FS_LOG, "the database %s %s", path, why);
    return FE_STORE_CORRUPT;
}

/* One integer from a PRAGMA or a query. */
static int query_int(sqlite3 *db, const char *sql, long *out)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            *out = (long)sqlite3_column_int64(st, 0);
            rc = SQLITE_OK;
        } else if (rc == SQLITE_DONE) {
            *out = 0;
            rc = SQLITE_OK;
        }
    }
    sqlite3_finalize(st);
    return rc;
}

/* PRAGMA quick_check: "ok", or the first problem in @p problem. */
static int quick_check(sqlite3 *db, bool *out_ok, char *problem, size_t problem_size)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, "PRAGMA quick_check", -1, &st, NULL);
    *out_ok = false;
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            const char *t = (const char *)sqlite3_column_text(st, 0);
            *out_ok = t != NULL && strcmp(t, "ok") == 0;
            snprintf(problem, problem_size, "%s", t != NULL ? t : "?");
            for (char *p = problem; *p != '\0'; p++) { /* one line */
                if (*p == '\n' || *p == '\r') {
                    *p = ' ';
                }
            }
            rc = SQLITE_OK;
        } else if (rc == SQLITE_DONE) {
            snprintf(problem, problem_size, "quick_check gave no answer");
            rc = SQLITE_OK;
        }
    }
    sqlite3_finalize(st);
    return rc;
}

static enum fe_store_result migrate(sqlite3 *db, const char *path, char *err, size_t err_size)
{
    int rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        return schema_fail(db, rc, path, "cannot lock", err, err_size);
    }
    /* Read again under the lock: another process may have migrated meanwhile. */
    long version = 0;
    rc = query_int(db, "PRAGMA user_version", &version);
    for (long v = version; rc == SQLITE_OK && v < FS_SCHEMA_VERSION; v++) {
        U_LOG_I(FS_LOG, "migrating %s to schema version %ld", path, v + 1);
        rc = sqlite3_exec(db, migrations[v], NULL, NULL, NULL);
        if (rc == SQLITE_OK && v == 0) {
            char sql[64];
            snprintf(sql, sizeof(sql), "PRAGMA application_id = %d", FS_APPLICATION_ID);
            rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
        }
        if (rc == SQLITE_OK) {
            char sql[64];
            snprintf(sql, sizeof(sql), "PRAGMA user_version = %ld", v + 1);
            rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
        }
    }
    if (rc == SQLITE_OK) {
        rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    }
    if (rc != SQLITE_OK) {
        enum fe_store_result r = schema_fail(db, rc, path, "cannot migrate", err, err_size);
        if (!sqlite3_get_autocommit(db)) {
            sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        }
        return r;
    }
    return FE_STORE_OK;
}

enum fe_store_result fs_schema_open(sqlite3 *db, const char *path, char *err, size_t err_size)
{
    int rc = fs_schema_connection_setup(db);
    if (rc != SQLITE_OK) {
        return schema_fail(db, rc, path, "cannot set up", err, err_size);
    }
    if (sqlite3_db_readonly(db, "main") == 1) {
        if (err != NULL && err_size > 0) {
            snprintf(err, err_size, "the database %s is read-only", path);
        }
        return FE_STORE_IO;
    }
    /* The first read of the file: a file that is not SQLite fails here (NOTADB). */
    long app_id = 0, version = 0, tables = 0;
    rc = query_int(db, "PRAGMA application_id", &app_id);
    if (rc == SQLITE_OK) {
        rc = query_int(db, "PRAGMA user_version", &version);
    }
    if (rc == SQLITE_OK) {
        rc = query_int(db, "SELECT count(*) FROM sqlite_master", &tables);
    }
    if (rc != SQLITE_OK) {
        return schema_fail(db, rc, path, "cannot read", err, err_size);
    }
    bool ok = false;
    char problem[200];
    rc = quick_check(db, &ok, problem, sizeof(problem));
    if (rc != SQLITE_OK) {
        return schema_fail(db, rc, path, "cannot check", err, err_size);
    }
    if (!ok) {
        if (err != NULL && err_size > 0) {
            snprintf(err, err_size, "the database %s is damaged: %s (PRAGMA quick_check)", path,
                     problem);
        }
        U_LOG_E(FS_LOG, "the database %s is damaged: %s (PRAGMA quick_check)", path, problem);
        return FE_STORE_CORRUPT;
    }
    char why[160];
    if (app_id != 0 && app_id != FS_APPLICATION_ID) {
        snprintf(why, sizeof(why), "is not openrrd's (application_id %#lx, expected %#x)",
                 (unsigned long)app_id, FS_APPLICATION_ID);
        return schema_corrupt(path, why, err, err_size);
    }
    if (app_id == 0 && (version != 0 || tables != 0)) {
        snprintf(why, sizeof(why), "is not openrrd's (it holds another program's tables)");
        return schema_corrupt(path, why, err, err_size);
    }
    if (version > FS_SCHEMA_VERSION) {
        snprintf(why, sizeof(why),
                 "was written by a newer openrrd (schema version %ld; this one knows up to %d)",
                 version, FS_SCHEMA_VERSION);
        return schema_corrupt(path, why, err, err_size);
    }

    /* WAL is a property of the file: once set it stays for every later connection. */
    sqlite3_stmt *st = NULL;
    rc = sqlite3_prepare_v2(db, "PRAGMA journal_mode = WAL", -1, &st, NULL);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            const char *mode = (const char *)sqlite3_column_text(st, 0);
            rc = SQLITE_OK;
            if (mode == NULL || strcmp(mode, "wal") != 0) {
                if (err != NULL && err_size > 0) {
                    snprintf(err, err_size,
                             "the database %s cannot use WAL mode (journal mode %s); is it on a "
                             "network file system?",
                             path, mode != NULL ? mode : "?");
                }
                sqlite3_finalize(st);
                return FE_STORE_IO;
            }
        }
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_OK) {
        return schema_fail(db, rc, path, "cannot switch to WAL mode", err, err_size);
    }
    if (version < FS_SCHEMA_VERSION) {
        return migrate(db, path, err, err_size);
    }
    return FE_STORE_OK;
}
