/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Accounts and their keys in the SQLite store. A key is kept only as its SHA-256; keys are
 * listed in byte order of their names.
 *
 * Threads: any; each call works on the calling thread's own connection. Writes are one
 * transaction each, begun with the write lock (BEGIN IMMEDIATE).
 */
#include "fe_store_sqlite.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static enum fe_store_result account_read(sqlite3_stmt *st, void *out)
{
    struct fe_account_record *a = out;
    struct fs_reader rd = {st, 0, FE_STORE_OK};
    memset(a, 0, sizeof(*a));
    fs_read_text(&rd, a->id, sizeof(a->id));
    fs_read_text(&rd, a->domain, sizeof(a->domain));
    a->created = fs_read_int(&rd);
    return rd.r;
}

static enum fe_store_result key_read(sqlite3_stmt *st, struct fe_key_record *k)
{
    struct fs_reader rd = {st, 0, FE_STORE_OK};
    memset(k, 0, sizeof(*k));
    fs_read_text(&rd, k->account_id, sizeof(k->account_id));
    fs_read_text(&rd, k->name, sizeof(k->name));
    k->role = (unsigned)fs_read_range(&rd, FE_ROLE_ADMINISTRATOR, FE_ROLE_CLIENT);
    fs_read_sha256(&rd, k->sha256);
    k->created = fs_read_int(&rd);
    return rd.r;
}

static bool key_ok(const struct fe_key_record *k, const char *account_id)
{
    return (k->account_id[0] == '\0' || (fs_fits(k->account_id, sizeof(k->account_id)) &&
                                         strcmp(k->account_id, account_id) == 0)) &&
           fs_id_ok(k->name, sizeof(k->name)) &&
           (k->role == FE_ROLE_ADMINISTRATOR || k->role == FE_ROLE_CLIENT);
}

static int bind_key(sqlite3_stmt *st, const struct fe_key_record *k, const char *account_id)
{
    struct fs_binder b = {st, SQLITE_OK};
    fs_bind_text(&b, 1, account_id);
    fs_bind_text(&b, 2, k->name);
    fs_bind_int(&b, 3, k->role);
    fs_bind_blob(&b, 4, k->sha256, 32);
    fs_bind_int(&b, 5, k->created != 0 ? k->created : (int64_t)time(NULL));
    return b.rc;
}

static enum fe_store_result account_create(struct fe_store *self,
                                           const struct fe_account_record *account,
                                           const struct fe_key_record *keys, size_t key_count,
                                           char *err, size_t err_size)
{
    static const char what[] = "recording the account";
    fs_err_clear(err, err_size);
    if (account == NULL || !fs_id_ok(account->id, sizeof(account->id)) ||
        !fs_fits(account->domain, sizeof(account->domain)) || (key_count > 0 && keys == NULL)) {
        return fs_invalid(err, err_size, "account: bad id or domain");
    }
    for (size_t i = 0; i < key_count; i++) {
        if (!key_ok(&keys[i], account->id)) {
            return fs_invalid(err, err_size, "account: a bad key (name, role or account)");
        }
    }
    struct fs_conn *c;
    enum fe_store_result r = fs_conn_get(fs_store(self), &c);
    if (r != FE_STORE_OK) {
        return r;
    }
    if ((r = fs_begin(c, what, err, err_size)) != FE_STORE_OK) {
        return r;
    }
    int rc;
    sqlite3_stmt *st = fs_stmt(c, FS_ACCOUNT_INSERT, &rc);
    if (st != NULL) {
        struct fs_binder b = {st, SQLITE_OK};
        fs_bind_text(&b, 1, account->id);
        fs_bind_text(&b, 2, account->domain);
        fs_bind_int(&b, 3, account->created != 0 ? account->created : (int64_t)time(NULL));
        rc = b.rc == SQLITE_OK ? fs_step_done(st) : b.rc;
    }
    if (rc == SQLITE_OK && sqlite3_changes(c->db) == 0) {
        fs_rollback(c);
        return FE_STORE_EXISTS;
    }
    for (size_t i = 0; rc == SQLITE_OK && i < key_count; i++) {
        st = fs_stmt(c, FS_KEY_INSERT, &rc);
        if (st != NULL) {
            rc = bind_key(st, &keys[i], account->id);
            rc = rc == SQLITE_OK ? fs_step_done(st) : rc;
        }
    }
    if (rc != SQLITE_OK) {
        r = fs_fail(c, rc, what, err, err_size);
        fs_rollback(c);
        return r;
    }
    return fs_commit(c, what, err, err_size);
}

/* Whether the account exists: SQLITE_ROW, SQLITE_DONE or an error. */
static int account_exists(struct fs_conn *c, const char *account_id)
{
    int rc;
    sqlite3_stmt *st = fs_stmt(c, FS_ACCOUNT_GET, &rc);
    if (st == NULL) {
        return rc;
    }
    rc = sqlite3_bind_text(st, 1, account_id, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(st);
    }
    sqlite3_reset(st);
    return rc;
}

static enum fe_store_result account_get(struct fe_store *self, const char *account_id,
                                        struct fe_account_record *out)
{
    if (!fs_id_ok(account_id, FE_ACCOUNT_ID_SIZE) || out == NULL) {
        return FE_STORE_INVALID;
    }
    struct fs_conn *c;
    enum fe_store_result r = fs_conn_get(fs_store(self), &c);
    if (r != FE_STORE_OK) {
        return r;
    }
    int rc;
    sqlite3_stmt *st = fs_stmt(c, FS_ACCOUNT_GET, &rc);
    if (st != NULL && (rc = sqlite3_bind_text(st, 1, account_id, -1, SQLITE_STATIC)) == 0) {
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            r = account_read(st, out);
        }
        sqlite3_reset(st);
    }
    if (rc == SQLITE_DONE) {
        return FE_STORE_NOT_FOUND;
    }
    return rc == SQLITE_ROW ? r : fs_fail(c, rc, "reading an account", NULL, 0);
}

static enum fe_store_result account_list(struct fe_store *self, struct fe_account_record **out,
                                         size_t *out_count)
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
    sqlite3_stmt *st = fs_stmt(c, FS_ACCOUNT_LIST, &rc);
    if (st == NULL) {
        return fs_fail(c, rc, "listing accounts", NULL, 0);
    }
    return fs_collect(c, st, sizeof(**out), account_read, NULL, SIZE_MAX, "listing accounts",
                      (void **)out, out_count);
}

static enum fe_store_result key_put(struct fe_store *self, const struct fe_key_record *key,
                                    char *err, size_t err_size)
{
    static const char what[] = "recording the key";
    fs_err_clear(err, err_size);
    if (key == NULL || !fs_id_ok(key->account_id, sizeof(key->account_id)) ||
        !key_ok(key, key->account_id)) {
        return fs_invalid(err, err_size, "key: bad account, name or role");
    }
    struct fs_conn *c;
    enum fe_store_result r = fs_conn_get(fs_store(self), &c);
    if (r != FE_STORE_OK) {
        return r;
    }
    if ((r = fs_begin(c, what, err, err_size)) != FE_STORE_OK) {
        return r;
    }
    int rc = account_exists(c, key->account_id);
    if (rc == SQLITE_DONE) {
        fs_rollback(c);
        if (err != NULL && err_size > 0) {
            snprintf(err, err_size, "no account %s", key->account_id);
        }
        return FE_STORE_NOT_FOUND;
    }
    if (rc == SQLITE_ROW) {
        sqlite3_stmt *st = fs_stmt(c, FS_KEY_UPSERT, &rc);
        if (st != NULL) {
            rc = bind_key(st, key, key->account_id);
            rc = rc == SQLITE_OK ? fs_step_done(st) : rc;
        }
    }
    if (rc != SQLITE_OK) {
        r = fs_fail(c, rc, what, err, err_size);
        fs_rollback(c);
        return r;
    }
    return fs_commit(c, what, err, err_size);
}

static enum fe_store_result key_list(struct fe_store *self, const char *account_id,
                                     struct fe_key_record *out, size_t cap, size_t *out_count)
{
    if (!fs_id_ok(account_id, FE_ACCOUNT_ID_SIZE) || (cap > 0 && out == NULL) ||
        out_count == NULL) {
        return FE_STORE_INVALID;
    }
    *out_count = 0;
    struct fs_conn *c;
    enum fe_store_result r = fs_conn_get(fs_store(self), &c);
    if (r != FE_STORE_OK) {
        return r;
    }
    int rc;
    size_t n = 0;
    sqlite3_stmt *st = fs_stmt(c, FS_KEY_LIST, &rc);
    if (st != NULL && (rc = sqlite3_bind_text(st, 1, account_id, -1, SQLITE_STATIC)) == 0) {
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            if (n < cap && (r = key_read(st, &out[n])) != FE_STORE_OK) {
                break;
            }
            n++;
        }
        sqlite3_reset(st);
    }
    if (r != FE_STORE_OK) {
        return r;
    }
    if (rc != SQLITE_DONE) {
        return fs_fail(c, rc, "listing keys", NULL, 0);
    }
    if (n == 0) {
        rc = account_exists(c, account_id);
        if (rc == SQLITE_DONE) {
            return FE_STORE_NOT_FOUND;
        }
        if (rc != SQLITE_ROW) {
            return fs_fail(c, rc, "listing keys", NULL, 0);
        }
    }
    *out_count = n;
    return FE_STORE_OK;
}

void fs_accounts_install(struct fe_store *base)
{
    base->account_create = account_create;
    base->account_get = account_get;
    base->account_list = account_list;
    base->key_put = key_put;
    base->key_list = key_list;
}
