/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Sessions in the SQLite store: create-unless-it-exists, get (the hot read: one b-tree lookup
 * on a cached statement), pages, the session manager's active list, conditional updates and
 * the purge of long-ended sessions.
 *
 * Threads: any; each call works on the calling thread's own connection. Writes are one
 * transaction each, begun with the write lock (BEGIN IMMEDIATE).
 */
#include "fe_store_sqlite.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static enum fe_store_result sess_read(sqlite3_stmt *st, void *out)
{
    struct fe_session_record *s = out;
    struct fs_reader rd = {st, 0, FE_STORE_OK};
    memset(s, 0, sizeof(*s));
    fs_read_text(&rd, s->account_id, sizeof(s->account_id));
    fs_read_text(&rd, s->id, sizeof(s->id));
    s->size = (enum fe_session_size)fs_read_range(&rd, FE_SIZE_STANDARD, FE_SIZE_PREMIUM);
    s->status = (enum fe_session_status)fs_read_range(&rd, FE_SESSION_STARTING, FE_SESSION_ERROR);
    s->create_lease_minutes = fs_read_range(&rd, 0, INT32_MAX);
    s->max_lease_minutes = fs_read_range(&rd, 0, INT32_MAX);
    fs_read_text(&rd, s->hostname, sizeof(s->hostname));
    s->handshake_port = fs_read_range(&rd, 0, 65535);
    s->transport_port = fs_read_range(&rd, 0, 65535);
    s->inspector_port = fs_read_range(&rd, 0, 65535);
    s->created = fs_read_int(&rd);
    s->ready_at = fs_read_int(&rd);
    s->ended_at = fs_read_int(&rd);
    fs_read_text(&rd, s->error_code, sizeof(s->error_code));
    fs_read_text(&rd, s->error_message, sizeof(s->error_message));
    fs_read_text(&rd, s->backend, sizeof(s->backend));
    s->host_pid = (pid_t)fs_read_int(&rd);
    s->host_start_time = (uint64_t)fs_read_int(&rd);
    fs_read_sha256(&rd, s->register_sha256);
    fs_read_text(&rd, s->inspector_token, sizeof(s->inspector_token));
    if (rd.r != FE_STORE_OK) {
        memset(s, 0, sizeof(*s));
    }
    return rd.r;
}

static bool port_ok(int p)
{
    return p >= 0 && p <= 65535;
}

static bool sess_fields_ok(const struct fe_session_record *s)
{
    return fs_id_ok(s->account_id, sizeof(s->account_id)) && fs_id_ok(s->id, sizeof(s->id)) &&
           (unsigned)s->size <= FE_SIZE_PREMIUM && (unsigned)s->status <= FE_SESSION_ERROR &&
           s->create_lease_minutes >= 0 && s->max_lease_minutes >= 0 &&
           fs_fits(s->hostname, sizeof(s->hostname)) && port_ok(s->handshake_port) &&
           port_ok(s->transport_port) && port_ok(s->inspector_port) &&
           fs_fits(s->error_code, sizeof(s->error_code)) &&
           fs_fits(s->error_message, sizeof(s->error_message)) &&
           fs_fits(s->backend, sizeof(s->backend)) && s->host_pid >= 0 &&
           fs_fits(s->inspector_token, sizeof(s->inspector_token));
}

static enum fe_store_result session_create(struct fe_store *self,
                                           const struct fe_session_record *rec,
                                           struct fe_session_record *existing, char *err,
                                           size_t err_size)
{
    static const char what[] = "recording the session";
    fs_err_clear(err, err_size);
    if (rec == NULL || !sess_fields_ok(rec)) {
        return fs_invalid(err, err_size, "session: a field is missing, too long or out of range");
    }
    struct fs_conn *c;
    enum fe_store_result r = fs_conn_get(fs_store(self), &c);
    if (r != FE_STORE_OK) {
        return r;
    }
    int rc;
    sqlite3_stmt *st = fs_stmt(c, FS_SESS_INSERT, &rc);
    if (st == NULL) {
        return fs_fail(c, rc, what, err, err_size);
    }
    struct fs_binder b = {st, SQLITE_OK};
    fs_bind_text(&b, 1, rec->account_id);
    fs_bind_text(&b, 2, rec->id);
    fs_bind_int(&b, 3, rec->size);
    fs_bind_int(&b, 4, FE_SESSION_STARTING);
    fs_bind_int(&b, 5, rec->create_lease_minutes);
    fs_bind_int(&b, 6, rec->max_lease_minutes);
    fs_bind_text(&b, 7, rec->hostname);
    fs_bind_int(&b, 8, rec->handshake_port);
    fs_bind_int(&b, 9, rec->transport_port);
    fs_bind_int(&b, 10, rec->inspector_port);
    fs_bind_int(&b, 11, rec->created != 0 ? rec->created : (int64_t)time(NULL));
    fs_bind_int(&b, 12, rec->ready_at);
    fs_bind_int(&b, 13, rec->ended_at);
    fs_bind_text(&b, 14, rec->error_code);
    fs_bind_text(&b, 15, rec->error_message);
    fs_bind_text(&b, 16, rec->backend);
    fs_bind_int(&b, 17, rec->host_pid);
    fs_bind_int(&b, 18, (int64_t)rec->host_start_time);
    fs_bind_blob(&b, 19, rec->register_sha256, 32);
    fs_bind_text(&b, 20, rec->inspector_token);
    return fs_insert_new(c, st, b.rc, FS_SESS_GET, rec->account_id, rec->id, sess_read, existing,
                         what, err, err_size);
}

/* The hot read (every GET of a session and every token check of a host's registration). */
static enum fe_store_result session_get(struct fe_store *self, const char *account_id,
                                        const char *id, struct fe_session_record *out)
{
    if (!fs_id_ok(account_id, FE_ACCOUNT_ID_SIZE) || !fs_id_ok(id, FE_ID_SIZE) || out == NULL) {
        return FE_STORE_INVALID;
    }
    struct fs_conn *c;
    enum fe_store_result r = fs_conn_get(fs_store(self), &c);
    if (r != FE_STORE_OK) {
        return r;
    }
    int rc = fs_read_one(c, FS_SESS_GET, account_id, id, sess_read, out, &r);
    if (rc == SQLITE_DONE) {
        return FE_STORE_NOT_FOUND;
    }
    return rc == SQLITE_ROW ? r : fs_fail(c, rc, "reading a session", NULL, 0);
}

static enum fe_store_result session_list(struct fe_store *self, const char *account_id,
                                         bool active_only, const char *after, size_t limit,
                                         struct fe_session_record **out, size_t *out_count,
                                         bool *out_more)
{
    return fs_page(self, active_only ? FS_SESS_LIST_ACTIVE_OF : FS_SESS_LIST, account_id, after,
                   limit, sizeof(**out), sess_read, NULL, (void **)out, out_count, out_more);
}

static enum fe_store_result session_list_active(struct fe_store *self,
                                                struct fe_session_record **out, size_t *out_count)
{
    if (out == NULL || out_count == NULL) {
        return FE_STORE_INVALID;
    }
    *out = NULL;
    *out_count = 0;
    struct fs_conn *c;
    enum fe_store_result r = fs_conn_get(fs_store(self), &c);
    if (r != FE_STORE_OK) {
        return r;
    }
    int rc;
    sqlite3_stmt *st = fs_stmt(c, FS_SESS_LIST_ACTIVE, &rc);
    if (st == NULL) {
        return fs_fail(c, rc, "listing sessions", NULL, 0);
    }
    return fs_collect(c, st, sizeof(**out), sess_read, NULL, SIZE_MAX, "listing sessions",
                      (void **)out, out_count);
}

static enum fe_store_result session_update(struct fe_store *self,
                                           const struct fe_session_record *rec,
                                           enum fe_session_status expect)
{
    static const char what[] = "updating a session";
    if (rec == NULL || !sess_fields_ok(rec) || (unsigned)expect > FE_SESSION_ERROR) {
        return FE_STORE_INVALID;
    }
    struct fs_conn *c;
    enum fe_store_result r = fs_conn_get(fs_store(self), &c);
    if (r != FE_STORE_OK) {
        return r;
    }
    if ((r = fs_begin(c, what, NULL, 0)) != FE_STORE_OK) {
        return r;
    }
    int rc;
    sqlite3_stmt *st = fs_stmt(c, FS_SESS_UPDATE, &rc);
    if (st != NULL) {
        struct fs_binder b = {st, SQLITE_OK};
        fs_bind_text(&b, 1, rec->account_id);
        fs_bind_text(&b, 2, rec->id);
        fs_bind_int(&b, 3, rec->status);
        fs_bind_int(&b, 4, rec->max_lease_minutes);
        fs_bind_text(&b, 5, rec->hostname);
        fs_bind_int(&b, 6, rec->handshake_port);
        fs_bind_int(&b, 7, rec->transport_port);
        fs_bind_int(&b, 8, rec->inspector_port);
        fs_bind_int(&b, 9, rec->ready_at);
        fs_bind_int(&b, 10, rec->ended_at);
        fs_bind_text(&b, 11, rec->error_code);
        fs_bind_text(&b, 12, rec->error_message);
        fs_bind_text(&b, 13, rec->backend);
        fs_bind_int(&b, 14, rec->host_pid);
        fs_bind_int(&b, 15, (int64_t)rec->host_start_time);
        fs_bind_blob(&b, 16, rec->register_sha256, 32);
        fs_bind_text(&b, 17, rec->inspector_token);
        fs_bind_int(&b, 18, expect);
        rc = b.rc == SQLITE_OK ? fs_step_done(st) : b.rc;
    }
    return fs_finish_update(c, rc, FS_SESS_EXISTS, rec->account_id, rec->id, what);
}

static enum fe_store_result session_raise_lease(struct fe_store *self, const char *account_id,
                                                const char *id, int minutes)
{
    static const char what[] = "extending a session's lease";
    if (account_id == NULL || id == NULL || minutes <= 0) {
        return FE_STORE_INVALID;
    }
    struct fs_conn *c;
    enum fe_store_result r = fs_conn_get(fs_store(self), &c);
    if (r != FE_STORE_OK) {
        return r;
    }
    if ((r = fs_begin(c, what, NULL, 0)) != FE_STORE_OK) {
        return r;
    }
    int rc;
    sqlite3_stmt *st = fs_stmt(c, FS_SESS_RAISE_LEASE, &rc);
    if (st != NULL) {
        struct fs_binder b = {st, SQLITE_OK};
        fs_bind_text(&b, 1, account_id);
        fs_bind_text(&b, 2, id);
        fs_bind_int(&b, 3, minutes);
        rc = b.rc == SQLITE_OK ? fs_step_done(st) : b.rc;
    }
    return fs_finish_update(c, rc, FS_SESS_EXISTS, account_id, id, what);
}

static enum fe_store_result session_purge(struct fe_store *self, int64_t before, size_t *out_count)
{
    static const char what[] = "purging sessions";
    if (out_count != NULL) {
        *out_count = 0;
    }
    struct fs_conn *c;
    enum fe_store_result r = fs_conn_get(fs_store(self), &c);
    if (r != FE_STORE_OK) {
        return r;
    }
    if ((r = fs_begin(c, what, NULL, 0)) != FE_STORE_OK) {
        return r;
    }
    int rc;
    sqlite3_stmt *st = fs_stmt(c, FS_SESS_PURGE, &rc);
    if (st != NULL && (rc = sqlite3_bind_int64(st, 1, before)) == SQLITE_OK) {
        rc = fs_step_done(st);
    }
    if (rc != SQLITE_OK) {
        r = fs_fail(c, rc, what, NULL, 0);
        fs_rollback(c);
        return r;
    }
    size_t n = (size_t)sqlite3_changes(c->db);
    r = fs_commit(c, what, NULL, 0);
    if (r == FE_STORE_OK && out_count != NULL) {
        *out_count = n;
    }
    return r;
}

void fs_sessions_install(struct fe_store *base)
{
    base->session_create = session_create;
    base->session_get = session_get;
    base->session_list = session_list;
    base->session_list_active = session_list_active;
    base->session_update = session_update;
    base->session_purge = session_purge;
    base->session_raise_lease = session_raise_lease;
}
