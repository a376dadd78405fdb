/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The SQLite store's shared row work: argument checks, binding in sequence, reading rows back
 * into fixed-size records with every length checked (a text longer than its field means a
 * damaged database: CORRUPT), and the patterns every record kind repeats — read one, list
 * into an array, a page, create-unless-it-exists, a conditional update.
 *
 * Threads: any; each call works on the calling thread's own connection.
 */
#include "fe_store_sqlite.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- arguments ---------------------------------------------------------------------------- */

/* strnlen: reads no further than the NUL, so a short literal is fine. */
bool fs_fits(const char *s, size_t size)
{
    return s != NULL && strnlen(s, size) < size;
}

bool fs_id_ok(const char *s, size_t size)
{
    return fs_fits(s, size) && s[0] != '\0';
}

void fs_err_clear(char *err, size_t err_size)
{
    if (err != NULL && err_size > 0) {
        err[0] = '\0';
    }
}

enum fe_store_result fs_invalid(char *err, size_t err_size, const char *why)
{
    if (err != NULL && err_size > 0) {
        snprintf(err, err_size, "%s", why);
    }
    return FE_STORE_INVALID;
}

/* ---- binding and reading ------------------------------------------------------------------ */

void fs_bind_text(struct fs_binder *b, int i, const char *s)
{
    if (b->rc == SQLITE_OK) {
        b->rc = sqlite3_bind_text(b->st, i, s, -1, SQLITE_STATIC);
    }
}

void fs_bind_int(struct fs_binder *b, int i, int64_t v)
{
    if (b->rc == SQLITE_OK) {
        b->rc = sqlite3_bind_int64(b->st, i, v);
    }
}

void fs_bind_blob(struct fs_binder *b, int i, const void *p, int n)
{
    if (b->rc == SQLITE_OK) {
        b->rc = sqlite3_bind_blob(b->st, i, p, n, SQLITE_STATIC);
    }
}

void fs_read_text(struct fs_reader *rd, char *dst, size_t size)
{
    int i = rd->col++;
    dst[0] = '\0';
    if (rd->r != FE_STORE_OK) {
        return;
    }
    const unsigned char *t = sqlite3_column_text(rd->st, i);
    size_t n = (size_t)sqlite3_column_bytes(rd->st, i);
    if (t == NULL) {
        if (sqlite3_errcode(sqlite3_db_handle(rd->st)) == SQLITE_NOMEM) {
            rd->r = FE_STORE_NO_MEMORY;
        }
        return;
    }
    if (n >= size) {
        rd->r = FE_STORE_CORRUPT;
        return;
    }
    memcpy(dst, t, n);
    dst[n] = '\0';
}

char *fs_read_dup(struct fs_reader *rd)
{
    int i = rd->col++;
    if (rd->r != FE_STORE_OK) {
        return NULL;
    }
    const unsigned char *t = sqlite3_column_text(rd->st, i);
    size_t n = (size_t)sqlite3_column_bytes(rd->st, i);
    char *d = malloc(n + 1);
    if (d == NULL || (t == NULL && sqlite3_errcode(sqlite3_db_handle(rd->st)) == SQLITE_NOMEM)) {
        free(d);
        rd->r = FE_STORE_NO_MEMORY;
        return NULL;
    }
    if (n > 0) {
        memcpy(d, t, n);
    }
    d[n] = '\0';
    return d;
}

int64_t fs_read_int(struct fs_reader *rd)
{
    return sqlite3_column_int64(rd->st, rd->col++);
}

/* An integer that must lie in [lo, hi]. */
int fs_read_range(struct fs_reader *rd, int64_t lo, int64_t hi)
{
    int64_t v = fs_read_int(rd);
    if (v < lo || v > hi) {
        if (rd->r == FE_STORE_OK) {
            rd->r = FE_STORE_CORRUPT;
        }
        return (int)lo;
    }
    return (int)v;
}

void fs_read_sha256(struct fs_reader *rd, uint8_t dst[32])
{
    int i = rd->col++;
    const void *p = sqlite3_column_blob(rd->st, i);
    if (rd->r == FE_STORE_OK && (p == NULL || sqlite3_column_bytes(rd->st, i) != 32)) {
        rd->r = FE_STORE_CORRUPT;
    }
    if (rd->r == FE_STORE_OK) {
        memcpy(dst, p, 32);
    }
}

/* ---- shared patterns ---------------------------------------------------------------------- */

int fs_step_done(sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

enum fe_store_result fs_collect(struct fs_conn *c, sqlite3_stmt *st, size_t elem,
                                fs_row_reader read, fs_record_clear clear, size_t max,
                                const char *what, void **out, size_t *out_count)
{
    char *arr = NULL;
    size_t n = 0, cap = 0;
    enum fe_store_result r = FE_STORE_OK;
    while (n < max) {
        int rc = sqlite3_step(st);
        if (rc == SQLITE_DONE) {
            break;
        }
        if (rc != SQLITE_ROW) {
            r = fs_fail(c, rc, what, NULL, 0);
            break;
        }
        if (n == cap) {
            size_t ncap = cap == 0 ? 16 : cap * 2;
            char *narr = realloc(arr, ncap * elem);
            if (narr == NULL) {
                r = FE_STORE_NO_MEMORY;
                break;
            }
            arr = narr;
            cap = ncap;
        }
        r = read(st, arr + n * elem);
        if (r != FE_STORE_OK) {
            break;
        }
        n++;
    }
    sqlite3_reset(st);
    if (r != FE_STORE_OK) {
        for (size_t i = 0; clear != NULL && i < n; i++) {
            clear(arr + i * elem);
        }
        free(arr);
        return r;
    }
    *out = arr;
    *out_count = n;
    return FE_STORE_OK;
}

int fs_read_one(struct fs_conn *c, enum fs_stmt_id get_id, const char *account_id, const char *id,
                fs_row_reader read, void *out, enum fe_store_result *out_r)
{
    int rc;
    *out_r = FE_STORE_OK;
    sqlite3_stmt *st = fs_stmt(c, get_id, &rc);
    if (st == NULL) {
        return rc;
    }
    struct fs_binder b = {st, SQLITE_OK};
    fs_bind_text(&b, 1, account_id);
    fs_bind_text(&b, 2, id);
    rc = b.rc == SQLITE_OK ? sqlite3_step(st) : b.rc;
    if (rc == SQLITE_ROW && out != NULL) {
        *out_r = read(st, out);
    }
    sqlite3_reset(st);
    return rc;
}

enum fe_store_result fs_page(struct fe_store *self, enum fs_stmt_id list_id, const char *account_id,
                             const char *after, size_t limit, size_t elem, fs_row_reader read,
                             fs_record_clear clear, void **out, size_t *out_count, bool *out_more)
{
    if (after == NULL) {
        after = "";
    }
    if (!fs_id_ok(account_id, FE_ACCOUNT_ID_SIZE) || !fs_fits(after, FE_ID_SIZE) || limit < 1 ||
        limit > FS_MAX_PAGE || out == NULL || out_count == NULL || out_more == NULL) {
        return FE_STORE_INVALID;
    }
    *out = NULL;
    *out_count = 0;
    *out_more = false;
    struct fs_conn *c;
    enum fe_store_result r = fs_conn_get(fs_store(self), &c);
    if (r != FE_STORE_OK) {
        return r;
    }
    int rc;
    sqlite3_stmt *st = fs_stmt(c, list_id, &rc);
    if (st != NULL) {
        struct fs_binder b = {st, SQLITE_OK};
        fs_bind_text(&b, 1, account_id);
        fs_bind_text(&b, 2, after);
        fs_bind_int(&b, 3, (int64_t)limit + 1); /* one more says whether more follow */
        rc = b.rc;
    }
    if (rc != SQLITE_OK) {
        if (st != NULL) {
            sqlite3_reset(st);
        }
        return fs_fail(c, rc, "listing", NULL, 0);
    }
    void *arr = NULL;
    size_t n = 0;
    r = fs_collect(c, st, elem, read, clear, limit + 1, "listing", &arr, &n);
    if (r != FE_STORE_OK) {
        return r;
    }
    if (n > limit) {
        if (clear != NULL) {
            clear((char *)arr + limit * elem);
        }
        n = limit;
        *out_more = true;
    }
    if (n == 0) {
        free(arr);
        arr = NULL;
    }
    *out = arr;
    *out_count = n;
    return FE_STORE_OK;
}

/* After a conditional UPDATE (account, id, status = expect) changed nothing: NOT_FOUND or
 * CHANGED, read in the same transaction. */
static enum fe_store_result why_unchanged(struct fs_conn *c, enum fs_stmt_id exists_id,
                                          const char *account_id, const char *id, const char *what)
{
    enum fe_store_result r;
    int rc = fs_read_one(c, exists_id, account_id, id, NULL, NULL, &r);
    if (rc == SQLITE_ROW) {
        return FE_STORE_CHANGED;
    }
    if (rc == SQLITE_DONE) {
        return FE_STORE_NOT_FOUND;
    }
    return fs_fail(c, rc, what, NULL, 0);
}

enum fe_store_result fs_insert_new(struct fs_conn *c, sqlite3_stmt *insert, int bind_rc,
                                   enum fs_stmt_id get_id, const char *account_id, const char *id,
                                   fs_row_reader read, void *existing, const char *what, char *err,
                                   size_t err_size)
{
    if (bind_rc != SQLITE_OK) {
        sqlite3_reset(insert);
        return fs_fail(c, bind_rc, what, err, err_size);
    }
    enum fe_store_result r = fs_begin(c, what, err, err_size);
    if (r != FE_STORE_OK) {
        sqlite3_reset(insert);
        return r;
    }
    int rc = fs_step_done(insert);
    if (rc == SQLITE_OK && sqlite3_changes(c->db) == 0) {
        rc = fs_read_one(c, get_id, account_id, id, read, existing, &r);
        fs_rollback(c); /* nothing was written */
        if (rc == SQLITE_ROW) {
            return r == FE_STORE_OK ? FE_STORE_EXISTS : r;
        }
        /* Not inserted and not there: cannot happen under the write lock. */
        return fs_fail(c, rc == SQLITE_DONE ? SQLITE_INTERNAL : rc, what, err, err_size);
    }
    if (rc != SQLITE_OK) {
        r = fs_fail(c, rc, what, err, err_size);
        fs_rollback(c);
        return r;
    }
    return fs_commit(c, what, err, err_size);
}

enum fe_store_result fs_finish_update(struct fs_conn *c, int rc, enum fs_stmt_id exists_id,
                                      const char *account_id, const char *id, const char *what)
{
    enum fe_store_result r;
    if (rc == SQLITE_OK && sqlite3_changes(c->db) == 0) {
        r = why_unchanged(c, exists_id, account_id, id, what);
        fs_rollback(c);
        return r;
    }
    if (rc != SQLITE_OK) {
        r = fs_fail(c, rc, what, NULL, 0);
        fs_rollback(c);
        return r;
    }
    return fs_commit(c, what, NULL, 0);
}
