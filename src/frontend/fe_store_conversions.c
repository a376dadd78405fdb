/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Conversions in the SQLite store: create-unless-it-exists, get, pages, the runner's claim of
 * the oldest waiting one, conditional updates, and the lists the runner reads at start-up.
 *
 * Threads: any; each call works on the calling thread's own connection. Writes are one
 * transaction each, begun with the write lock (BEGIN IMMEDIATE), so that a create's "does it
 * exist?" and its insert, or a claim's pick and its update, cannot be split by another writer.
 */
#include "fe_store_sqlite.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* settings_json larger than this is refused (openrrd's bodies are 64 KiB by default). */
#define FS_MAX_SETTINGS (1u << 20)

void fe_conversion_record_clear(struct fe_conversion_record *r)
{
    if (r != NULL) {
        free(r->settings_json);
        memset(r, 0, sizeof(*r));
    }
}

static void conv_clear(void *rec)
{
    fe_conversion_record_clear(rec);
}

static enum fe_store_result conv_read(sqlite3_stmt *st, void *out)
{
    struct fe_conversion_record *v = out;
    struct fs_reader rd = {st, 0, FE_STORE_OK};
    memset(v, 0, sizeof(*v));
    fs_read_text(&rd, v->account_id, sizeof(v->account_id));
    fs_read_text(&rd, v->id, sizeof(v->id));
    v->settings_json = fs_read_dup(&rd);
    v->status =
        (enum fe_conversion_status)fs_read_range(&rd, FE_CONV_NOT_STARTED, FE_CONV_SUCCEEDED);
    v->progress = fs_read_range(&rd, 0, 100);
    fs_read_text(&rd, v->error_code, sizeof(v->error_code));
    fs_read_text(&rd, v->error_message, sizeof(v->error_message));
    fs_read_text(&rd, v->output_uri, sizeof(v->output_uri));
    v->created = fs_read_int(&rd);
    v->started = fs_read_int(&rd);
    v->finished = fs_read_int(&rd);
    v->pid = (pid_t)fs_read_int(&rd);
    v->pid_start_time = (uint64_t)fs_read_int(&rd);
    v->attempts = (int)fs_read_int(&rd);
    if (rd.r != FE_STORE_OK) {
        fe_conversion_record_clear(v);
    }
    return rd.r;
}

/* The fields every conversion write checks. */
static bool conv_fields_ok(const struct fe_conversion_record *v)
{
    return fs_id_ok(v->account_id, sizeof(v->account_id)) && fs_id_ok(v->id, sizeof(v->id)) &&
           (unsigned)v->status <= FE_CONV_SUCCEEDED && v->progress >= 0 && v->progress <= 100 &&
           fs_fits(v->error_code, sizeof(v->error_code)) &&
           fs_fits(v->error_message, sizeof(v->error_message)) &&
           fs_fits(v->output_uri, sizeof(v->output_uri)) && v->pid >= 0 && v->attempts >= 0;
}

static enum fe_store_result conversion_create(struct fe_store *self,
                                              const struct fe_conversion_record *rec,
                                              struct fe_conversion_record *existing, char *err,
                                              size_t err_size)
{
    static const char what[] = "recording the conversion";
    fs_err_clear(err, err_size);
    if (rec == NULL || !conv_fields_ok(rec) || rec->settings_json == NULL ||
        strnlen(rec->settings_json, FS_MAX_SETTINGS + 1) > FS_MAX_SETTINGS) {
        return fs_invalid(err, err_size,
                          "conversion: a field is missing, too long or out of range");
    }
    struct fs_conn *c;
    enum fe_store_result r = fs_conn_get(fs_store(self), &c);
    if (r != FE_STORE_OK) {
        return r;
    }
    int rc;
    sqlite3_stmt *st = fs_stmt(c, FS_CONV_INSERT, &rc);
    if (st == NULL) {
        return fs_fail(c, rc, what, err, err_size);
    }
    struct fs_binder b = {st, SQLITE_OK};
    fs_bind_text(&b, 1, rec->account_id);
    fs_bind_text(&b, 2, rec->id);
    fs_bind_text(&b, 3, rec->settings_json);
    fs_bind_int(&b, 4, FE_CONV_NOT_STARTED);
    fs_bind_int(&b, 5, rec->progress);
    fs_bind_text(&b, 6, rec->error_code);
    fs_bind_text(&b, 7, rec->error_message);
    fs_bind_text(&b, 8, rec->output_uri);
    fs_bind_int(&b, 9, rec->created != 0 ? rec->created : (int64_t)time(NULL));
    fs_bind_int(&b, 10, rec->started);
    fs_bind_int(&b, 11, rec->finished);
    fs_bind_int(&b, 12, rec->pid);
    fs_bind_int(&b, 13, (int64_t)rec->pid_start_time);
    fs_bind_int(&b, 14, rec->attempts);
    return fs_insert_new(c, st, b.rc, FS_CONV_GET, rec->account_id, rec->id, conv_read, existing,
                         what, err, err_size);
}

static enum fe_store_result conversion_get(struct fe_store *self, const char *account_id,
                                           const char *id, struct fe_conversion_record *out)
{
    if (!fs_id_ok(account_id, FE_ACCOUNT_ID_SIZE) || !fs_id_ok(id, FE_ID_SIZE) || out == NULL) {
        return FE_STORE_INVALID;
    }
    struct fs_conn *c;
    enum fe_store_result r = fs_conn_get(fs_store(self), &c);
    if (r != FE_STORE_OK) {
        return r;
    }
    int rc = fs_read_one(c, FS_CONV_GET, account_id, id, conv_read, out, &r);
    if (rc == SQLITE_DONE) {
        return FE_STORE_NOT_FOUND;
    }
    return rc == SQLITE_ROW ? r : fs_fail(c, rc, "reading a conversion", NULL, 0);
}

static enum fe_store_result conversion_list(struct fe_store *self, const char *account_id,
                                            const char *after, size_t limit,
                                            struct fe_conversion_record **out, size_t *out_count,
                                            bool *out_more)
{
    return fs_page(self, FS_CONV_LIST, account_id, after, limit, sizeof(**out), conv_read,
                   conv_clear, (void **)out, out_count, out_more);
}

static enum fe_store_result conversion_claim(struct fe_store *self,
                                             struct fe_conversion_record *out)
{
    static const char what[] = "claiming a conversion";
    if (out == NULL) {
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
    int64_t seq = 0;
    bool filled = false;
    sqlite3_stmt *st = fs_stmt(c, FS_CONV_PICK, &rc);
    if (st != NULL) {
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            seq = sqlite3_column_int64(st, 14);
            r = conv_read(st, out); /* clears @p out itself when it fails */
            filled = r == FE_STORE_OK;
        }
        sqlite3_reset(st);
    }
    if (rc == SQLITE_DONE || r != FE_STORE_OK) {
        fs_rollback(c);
        return rc == SQLITE_DONE ? FE_STORE_NOT_FOUND : r;
    }
    int64_t now = (int64_t)time(NULL);
    if (rc == SQLITE_ROW) {
        st = fs_stmt(c, FS_CONV_CLAIM, &rc);
        if (st != NULL) {
            struct fs_binder b = {st, SQLITE_OK};
            fs_bind_int(&b, 1, seq);
            fs_bind_int(&b, 2, now);
            rc = b.rc == SQLITE_OK ? fs_step_done(st) : b.rc;
        }
        if (rc == SQLITE_OK && sqlite3_changes(c->db) != 1) {
            rc = SQLITE_INTERNAL; /* cannot happen under the write lock */
        }
    }
    if (rc == SQLITE_OK) {
        r = fs_commit(c, what, NULL, 0);
    } else {
        r = fs_fail(c, rc, what, NULL, 0);
        fs_rollback(c);
    }
    if (r != FE_STORE_OK) {
        if (filled) {
            fe_conversion_record_clear(out);
        }
        return r;
    }
    out->status = FE_CONV_RUNNING;
    out->started = now;
    out->attempts++;
    return FE_STORE_OK;
}

static enum fe_store_result conversion_update(struct fe_store *self,
                                              const struct fe_conversion_record *rec,
                                              enum fe_conversion_status expect)
{
    static const char what[] = "updating a conversion";
    if (rec == NULL || !conv_fields_ok(rec) || (unsigned)expect > FE_CONV_SUCCEEDED) {
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
    sqlite3_stmt *st = fs_stmt(c, FS_CONV_UPDATE, &rc);
    if (st != NULL) {
        struct fs_binder b = {st, SQLITE_OK};
        fs_bind_text(&b, 1, rec->account_id);
        fs_bind_text(&b, 2, rec->id);
        fs_bind_int(&b, 3, rec->status);
        fs_bind_int(&b, 4, rec->progress);
        fs_bind_text(&b, 5, rec->error_code);
        fs_bind_text(&b, 6, rec->error_message);
        fs_bind_text(&b, 7, rec->output_uri);
        fs_bind_int(&b, 8, rec->started);
        fs_bind_int(&b, 9, rec->finished);
        fs_bind_int(&b, 10, rec->pid);
        fs_bind_int(&b, 11, (int64_t)rec->pid_start_time);
        fs_bind_int(&b, 12, expect);
        rc = b.rc == SQLITE_OK ? fs_step_done(st) : b.rc;
    }
    return fs_finish_update(c, rc, FS_CONV_EXISTS, rec->account_id, rec->id, what);
}

static enum fe_store_result conversion_list_status(struct fe_store *self,
                                                   enum fe_conversion_status status,
                                                   struct fe_conversion_record **out,
                                                   size_t *out_count)
{
    if ((unsigned)status > FE_CONV_SUCCEEDED || out == NULL || out_count == NULL) {
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
    sqlite3_stmt *st = fs_stmt(c, FS_CONV_LIST_STATUS, &rc);
    if (st != NULL && (rc = sqlite3_bind_int(st, 1, (int)status)) == SQLITE_OK) {
        return fs_collect(c, st, sizeof(**out), conv_read, conv_clear, SIZE_MAX,
                          "listing conversions", (void **)out, out_count);
    }
    return fs_fail(c, rc, "listing conversions", NULL, 0);
}

static enum fe_store_result conversion_count_waiting(struct fe_store *self, size_t *out_count)
{
    if (out_count == NULL) {
        return FE_STORE_INVALID;
    }
    *out_count = 0;
    struct fs_conn *c;
    enum fe_store_result r = fs_conn_get(fs_store(self), &c);
    if (r != FE_STORE_OK) {
        return r;
    }
    int rc;
    sqlite3_stmt *st = fs_stmt(c, FS_CONV_COUNT_WAITING, &rc);
    if (st != NULL) {
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            *out_count = (size_t)sqlite3_column_int64(st, 0);
            rc = SQLITE_OK;
        }
        sqlite3_reset(st);
    }
    return rc == SQLITE_OK ? FE_STORE_OK : fs_fail(c, rc, "counting conversions", NULL, 0);
}

void fs_conversions_install(struct fe_store *base)
{
    base->conversion_create = conversion_create;
    base->conversion_get = conversion_get;
    base->conversion_list = conversion_list;
    base->conversion_claim = conversion_claim;
    base->conversion_update = conversion_update;
    base->conversion_list_status = conversion_list_status;
    base->conversion_count_waiting = conversion_count_waiting;
}
