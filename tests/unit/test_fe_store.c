/* SPDX-License-Identifier: Apache-2.0 */
/*
 * openrrd's SQLite store (src/frontend/fe_store*.c): accounts and keys (create, EXISTS, list,
 * replace a key); conversions and sessions (create → EXISTS with the existing record, get,
 * claim order and attempts, conditional updates CHANGED vs NOT_FOUND, paging in byte order
 * across 250 records, the active list, purge); 16 threads creating one id (exactly one OK);
 * readers and writers at once; reopening; a child killed with SIGKILL in the middle of its
 * writes (every committed record survives, quick_check passes); files that are not ours
 * (garbage, a damaged page, another program's database, a newer schema) → CORRUPT; a full
 * disk (a small tmpfs when mount works, and RLIMIT_FSIZE) → FULL with everything earlier
 * intact and no secret in any message; and the cost of session_get.
 */
#include "rr_test.h"

#include "fe_store.h"
#include "u_log.h"

#include <sqlite3.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define ACC_A "0b6f1c2e-8d3a-4e59-9a7b-1f2e3d4c5b6a"
#define ACC_B "f0e1d2c3-b4a5-4968-8776-655443322110"
#define SECRET_TOKEN "inspector-secret-7f3a9c0e11d24b6b8e5f"

static char tmpdir[64];
static int db_counter;

/* ---- helpers ------------------------------------------------------------------------------ */

/* A fresh database path in the test's directory (a static buffer per call site's use). */
static void fresh_path(char *out, size_t size, const char *tag)
{
    snprintf(out, size, "%s/%s-%d.db", tmpdir, tag, db_counter++);
}

static struct fe_store *open_ok(const char *path)
{
    struct fe_store *s = NULL;
    char err[512] = "";
    enum fe_store_result r = fe_store_sqlite_open(path, &s, err, sizeof(err));
    if (r != FE_STORE_OK) {
        fprintf(stderr, "open %s: %s: %s\n", path, fe_store_result_str(r), err);
    }
    assert_int_equal(r, FE_STORE_OK);
    assert_non_null(s);
    return s;
}

static void fill_sha(uint8_t out[32], int seed)
{
    for (int i = 0; i < 32; i++) {
        out[i] = (uint8_t)(seed * 31 + i * 7);
    }
}

static struct fe_key_record key_rec(const char *account, const char *name, unsigned role, int seed)
{
    struct fe_key_record k;
    memset(&k, 0, sizeof(k));
    snprintf(k.account_id, sizeof(k.account_id), "%s", account);
    snprintf(k.name, sizeof(k.name), "%s", name);
    k.role = role;
    fill_sha(k.sha256, seed);
    k.created = 1700000000 + seed;
    return k;
}

static void make_account(struct fe_store *s, const char *id, int64_t created)
{
    struct fe_account_record a;
    memset(&a, 0, sizeof(a));
    snprintf(a.id, sizeof(a.id), "%s", id);
    snprintf(a.domain, sizeof(a.domain), "openrr.localhost");
    a.created = created;
    struct fe_key_record keys[2] = {key_rec(id, "primary", FE_ROLE_ADMINISTRATOR, 1),
                                    key_rec(id, "secondary", FE_ROLE_ADMINISTRATOR, 2)};
    char err[256];
    assert_int_equal(s->account_create(s, &a, keys, 2, err, sizeof(err)), FE_STORE_OK);
}

static struct fe_conversion_record conv_rec(const char *account, const char *id,
                                            const char *settings)
{
    struct fe_conversion_record c;
    memset(&c, 0, sizeof(c));
    snprintf(c.account_id, sizeof(c.account_id), "%s", account);
    snprintf(c.id, sizeof(c.id), "%s", id);
    c.settings_json = (char *)settings;
    c.created = 1700000100;
    return c;
}

static struct fe_session_record sess_rec(const char *account, const char *id, int lease)
{
    struct fe_session_record s;
    memset(&s, 0, sizeof(s));
    snprintf(s.account_id, sizeof(s.account_id), "%s", account);
    snprintf(s.id, sizeof(s.id), "%s", id);
    s.size = FE_SIZE_PREMIUM;
    s.create_lease_minutes = lease;
    s.max_lease_minutes = lease;
    s.created = 1700000200;
    snprintf(s.backend, sizeof(s.backend), "local");
    fill_sha(s.register_sha256, 9);
    snprintf(s.inspector_token, sizeof(s.inspector_token), "%s", SECRET_TOKEN);
    return s;
}

/* PRAGMA quick_check on @p path with SQLite directly: true when "ok". */
static bool quick_check_ok(const char *path)
{
    sqlite3 *db = NULL;
    bool ok = false;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK) {
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(db, "PRAGMA quick_check", -1, &st, NULL) == SQLITE_OK &&
            sqlite3_step(st) == SQLITE_ROW) {
            const char *t = (const char *)sqlite3_column_text(st, 0);
            ok = t != NULL && strcmp(t, "ok") == 0;
            if (!ok) {
                fprintf(stderr, "quick_check %s: %s\n", path, t ? t : "?");
            }
        }
        sqlite3_finalize(st);
    }
    sqlite3_close(db);
    return ok;
}

static int count_fds(void)
{
    int n = 0;
    DIR *d = opendir("/proc/self/fd");
    if (d == NULL) {
        return -1;
    }
    while (readdir(d) != NULL) {
        n++;
    }
    closedir(d);
    return n;
}

/* A log sink that remembers whether any line contained the session's secret. */
struct secret_sink {
    struct u_log_sink base;
    pthread_mutex_t mutex;
    int lines;
    bool leaked;
};

static void secret_sink_write(struct u_log_sink *self, enum u_log_level level, const char *module,
                              const char *message);
/* Static: a failed test may leave it installed until teardown. */
static struct secret_sink sink = {.base = {.write = secret_sink_write, .level = U_LOG_TRACE},
                                  .mutex = PTHREAD_MUTEX_INITIALIZER};

static void secret_sink_write(struct u_log_sink *self, enum u_log_level level, const char *module,
                              const char *message)
{
    (void)level;
    (void)module;
    struct secret_sink *s = (struct secret_sink *)self;
    pthread_mutex_lock(&s->mutex);
    s->lines++;
    if (strstr(message, SECRET_TOKEN) != NULL || strstr(message, "inspector-secret") != NULL) {
        s->leaked = true;
    }
    pthread_mutex_unlock(&s->mutex);
}

/* ---- names -------------------------------------------------------------------------------- */

static void test_names(void **state)
{
    (void)state;
    for (int i = FE_STORE_OK; i <= FE_STORE_NO_MEMORY; i++) {
        const char *s = fe_store_result_str((enum fe_store_result)i);
        assert_non_null(strstr(s, "FE_STORE_"));
        for (int j = FE_STORE_OK; j < i; j++) {
            assert_string_not_equal(s, fe_store_result_str((enum fe_store_result)j));
        }
    }
    assert_string_equal(fe_store_result_str((enum fe_store_result)42), "FE_STORE_UNKNOWN_RESULT");
    assert_string_equal(fe_conversion_status_str(FE_CONV_NOT_STARTED), "NotStarted");
    assert_string_equal(fe_conversion_status_str(FE_CONV_RUNNING), "Running");
    assert_string_equal(fe_conversion_status_str(FE_CONV_CANCELLED), "Cancelled");
    assert_string_equal(fe_conversion_status_str(FE_CONV_FAILED), "Failed");
    assert_string_equal(fe_conversion_status_str(FE_CONV_SUCCEEDED), "Succeeded");
    assert_string_equal(fe_session_status_str(FE_SESSION_STARTING), "Starting");
    assert_string_equal(fe_session_status_str(FE_SESSION_READY), "Ready");
    assert_string_equal(fe_session_status_str(FE_SESSION_STOPPED), "Stopped");
    assert_string_equal(fe_session_status_str(FE_SESSION_EXPIRED), "Expired");
    assert_string_equal(fe_session_status_str(FE_SESSION_ERROR), "Error");
    assert_string_equal(fe_session_size_str(FE_SIZE_STANDARD), "Standard");
    assert_string_equal(fe_session_size_str(FE_SIZE_PREMIUM), "Premium");
    struct fe_conversion_record c;
    memset(&c, 0, sizeof(c));
    c.settings_json = strdup("{}");
    fe_conversion_record_clear(&c);
    assert_null(c.settings_json);
    fe_conversion_record_clear(NULL);
}

/* ---- accounts and keys -------------------------------------------------------------------- */

static void test_accounts_and_keys(void **state)
{
    (void)state;
    char path[128], err[256];
    fresh_path(path, sizeof(path), "accounts");
    struct fe_store *s = open_ok(path);

    make_account(s, ACC_B, 1700000500);
    make_account(s, ACC_A, 1700000600);
    /* The same id again: EXISTS, and nothing of the second attempt is written. */
    struct fe_account_record a;
    memset(&a, 0, sizeof(a));
    snprintf(a.id, sizeof(a.id), ACC_A);
    snprintf(a.domain, sizeof(a.domain), "other.example");
    struct fe_key_record k3 = key_rec(ACC_A, "third", FE_ROLE_CLIENT, 3);
    assert_int_equal(s->account_create(s, &a, &k3, 1, err, sizeof(err)), FE_STORE_EXISTS);

    struct fe_account_record got;
    assert_int_equal(s->account_get(s, ACC_A, &got), FE_STORE_OK);
    assert_string_equal(got.id, ACC_A);
    assert_string_equal(got.domain, "openrr.localhost");
    assert_int_equal(got.created, 1700000600);
    assert_int_equal(s->account_get(s, "00000000-0000-0000-0000-000000000000", &got),
                     FE_STORE_NOT_FOUND);

    struct fe_account_record *list = NULL;
    size_t n = 0;
    assert_int_equal(s->account_list(s, &list, &n), FE_STORE_OK);
    assert_int_equal(n, 2);
    assert_string_equal(list[0].id, ACC_B); /* by creation */
    assert_string_equal(list[1].id, ACC_A);
    free(list);

    struct fe_key_record keys[8];
    assert_int_equal(s->key_list(s, ACC_A, keys, 8, &n), FE_STORE_OK);
    assert_int_equal(n, 2);
    assert_string_equal(keys[0].name, "primary");
    assert_string_equal(keys[1].name, "secondary");
    assert_string_equal(keys[0].account_id, ACC_A);
    assert_int_equal(keys[0].role, FE_ROLE_ADMINISTRATOR);
    uint8_t sha[32];
    fill_sha(sha, 1);
    assert_memory_equal(keys[0].sha256, sha, 32);
    assert_int_equal(keys[0].created, 1700000001);

    /* Replace the primary key (new hash, Client), add a named one. */
    struct fe_key_record k = key_rec(ACC_A, "primary", FE_ROLE_CLIENT, 77);
    assert_int_equal(s->key_put(s, &k, err, sizeof(err)), FE_STORE_OK);
    k = key_rec(ACC_A, "device", FE_ROLE_CLIENT, 78);
    assert_int_equal(s->key_put(s, &k, err, sizeof(err)), FE_STORE_OK);
    assert_int_equal(s->key_list(s, ACC_A, keys, 8, &n), FE_STORE_OK);
    assert_int_equal(n, 3);
    assert_string_equal(keys[0].name, "device");
    assert_string_equal(keys[1].name, "primary");
    assert_int_equal(keys[1].role, FE_ROLE_CLIENT);
    fill_sha(sha, 77);
    assert_memory_equal(keys[1].sha256, sha, 32);
    assert_string_equal(keys[2].name, "secondary");
    /* A small buffer: the count says how many there are. */
    assert_int_equal(s->key_list(s, ACC_A, keys, 1, &n), FE_STORE_OK);
    assert_int_equal(n, 3);
    assert_int_equal(s->key_list(s, ACC_A, NULL, 0, &n), FE_STORE_OK);
    assert_int_equal(n, 3);
    /* The other account's keys are untouched. */
    assert_int_equal(s->key_list(s, ACC_B, keys, 8, &n), FE_STORE_OK);
    assert_int_equal(n, 2);
    fill_sha(sha, 1);
    assert_memory_equal(keys[0].sha256, sha, 32);

    /* No account. */
    k = key_rec("00000000-0000-0000-0000-000000000000", "primary", FE_ROLE_CLIENT, 1);
    assert_int_equal(s->key_put(s, &k, err, sizeof(err)), FE_STORE_NOT_FOUND);
    assert_int_equal(s->key_list(s, "00000000-0000-0000-0000-000000000000", keys, 8, &n),
                     FE_STORE_NOT_FOUND);

    /* Bad arguments, and a create that fails half-way writes nothing. */
    k = key_rec(ACC_A, "x", 3, 1);
    assert_int_equal(s->key_put(s, &k, err, sizeof(err)), FE_STORE_INVALID);
    k = key_rec(ACC_A, "", FE_ROLE_CLIENT, 1);
    assert_int_equal(s->key_put(s, &k, err, sizeof(err)), FE_STORE_INVALID);
    memset(&a, 0, sizeof(a));
    snprintf(a.id, sizeof(a.id), "11111111-2222-3333-4444-555555555555");
    memset(a.domain, 'd', sizeof(a.domain)); /* no NUL */
    assert_int_equal(s->account_create(s, &a, NULL, 0, err, sizeof(err)), FE_STORE_INVALID);
    snprintf(a.domain, sizeof(a.domain), "x");
    struct fe_key_record dup[2] = {key_rec(a.id, "primary", FE_ROLE_ADMINISTRATOR, 1),
                                   key_rec(a.id, "primary", FE_ROLE_ADMINISTRATOR, 2)};
    assert_int_equal(s->account_create(s, &a, dup, 2, err, sizeof(err)), FE_STORE_INVALID);
    assert_int_equal(s->account_get(s, a.id, &got), FE_STORE_NOT_FOUND);
    struct fe_key_record other = key_rec(ACC_B, "primary", FE_ROLE_ADMINISTRATOR, 1);
    assert_int_equal(s->account_create(s, &a, &other, 1, err, sizeof(err)), FE_STORE_INVALID);
    assert_int_equal(s->account_get(s, "", &got), FE_STORE_INVALID);
    assert_int_equal(s->account_get(s, NULL, &got), FE_STORE_INVALID);
    /* Keys may leave account_id empty: the account's id is used. */
    struct fe_key_record blank = key_rec("", "primary", FE_ROLE_ADMINISTRATOR, 5);
    assert_int_equal(s->account_create(s, &a, &blank, 1, err, sizeof(err)), FE_STORE_OK);
    assert_int_equal(s->key_list(s, a.id, keys, 8, &n), FE_STORE_OK);
    assert_int_equal(n, 1);
    assert_string_equal(keys[0].account_id, a.id);
    fe_store_destroy(&s);
    assert_null(s);
    fe_store_destroy(&s); /* NULL ok */
}

/* ---- conversions and sessions: create, EXISTS, get ------------------------------------------ */

static void test_create_exists(void **state)
{
    (void)state;
    char path[128], err[256];
    fresh_path(path, sizeof(path), "create");
    struct fe_store *s = open_ok(path);

    struct fe_conversion_record c = conv_rec(ACC_A, "conv-1", "{\"a\":1}");
    c.status = FE_CONV_SUCCEEDED; /* ignored: a new conversion is NotStarted */
    assert_int_equal(s->conversion_create(s, &c, NULL, err, sizeof(err)), FE_STORE_OK);
    struct fe_conversion_record c2 = conv_rec(ACC_A, "conv-1", "{\"a\":2}");
    struct fe_conversion_record existing;
    memset(&existing, 0, sizeof(existing));
    assert_int_equal(s->conversion_create(s, &c2, &existing, err, sizeof(err)), FE_STORE_EXISTS);
    assert_string_equal(existing.settings_json, "{\"a\":1}");
    assert_string_equal(existing.id, "conv-1");
    assert_string_equal(existing.account_id, ACC_A);
    assert_int_equal(existing.status, FE_CONV_NOT_STARTED);
    assert_int_equal(existing.created, 1700000100);
    fe_conversion_record_clear(&existing);
    assert_int_equal(s->conversion_create(s, &c2, NULL, err, sizeof(err)), FE_STORE_EXISTS);
    /* Ids are per account and case-sensitive. */
    c2 = conv_rec(ACC_B, "conv-1", "{}");
    assert_int_equal(s->conversion_create(s, &c2, NULL, err, sizeof(err)), FE_STORE_OK);
    c2 = conv_rec(ACC_A, "CONV-1", "{}");
    c2.created = 0; /* now */
    assert_int_equal(s->conversion_create(s, &c2, NULL, err, sizeof(err)), FE_STORE_OK);

    struct fe_conversion_record got;
    assert_int_equal(s->conversion_get(s, ACC_A, "conv-1", &got), FE_STORE_OK);
    assert_string_equal(got.settings_json, "{\"a\":1}");
    assert_int_equal(got.status, FE_CONV_NOT_STARTED);
    assert_int_equal(got.progress, 0);
    assert_int_equal(got.attempts, 0);
    assert_string_equal(got.output_uri, "");
    fe_conversion_record_clear(&got);
    assert_int_equal(s->conversion_get(s, ACC_A, "CONV-1", &got), FE_STORE_OK);
    assert_true(llabs(got.created - (int64_t)time(NULL)) < 5);
    fe_conversion_record_clear(&got);
    assert_int_equal(s->conversion_get(s, ACC_A, "nope", &got), FE_STORE_NOT_FOUND);
    assert_int_equal(s->conversion_get(s, ACC_B, "CONV-1", &got), FE_STORE_NOT_FOUND);

    /* Bad arguments. */
    c2 = conv_rec(ACC_A, "", "{}");
    assert_int_equal(s->conversion_create(s, &c2, NULL, err, sizeof(err)), FE_STORE_INVALID);
    c2 = conv_rec(ACC_A, "x", NULL);
    assert_int_equal(s->conversion_create(s, &c2, NULL, err, sizeof(err)), FE_STORE_INVALID);
    c2 = conv_rec(ACC_A, "x", "{}");
    c2.progress = 101;
    assert_int_equal(s->conversion_create(s, &c2, NULL, err, sizeof(err)), FE_STORE_INVALID);
    c2 = conv_rec(ACC_A, "x", "{}");
    memset(c2.id, 'i', sizeof(c2.id)); /* 257 characters, no NUL */
    assert_int_equal(s->conversion_create(s, &c2, NULL, err, sizeof(err)), FE_STORE_INVALID);
    c2.id[FE_ID_SIZE - 1] = '\0'; /* 256: the longest id */
    assert_int_equal(s->conversion_create(s, &c2, NULL, err, sizeof(err)), FE_STORE_OK);
    assert_int_equal(s->conversion_get(s, ACC_A, c2.id, &got), FE_STORE_OK);
    assert_int_equal(strlen(got.id), 256);
    fe_conversion_record_clear(&got);

    /* Sessions. */
    struct fe_session_record r = sess_rec(ACC_A, "sess-1", 30);
    r.status = FE_SESSION_READY; /* ignored: a new session is Starting */
    assert_int_equal(s->session_create(s, &r, NULL, err, sizeof(err)), FE_STORE_OK);
    struct fe_session_record r2 = sess_rec(ACC_A, "sess-1", 60);
    r2.size = FE_SIZE_STANDARD;
    struct fe_session_record ex;
    assert_int_equal(s->session_create(s, &r2, &ex, err, sizeof(err)), FE_STORE_EXISTS);
    assert_int_equal(ex.create_lease_minutes, 30);
    assert_int_equal(ex.size, FE_SIZE_PREMIUM);
    assert_int_equal(ex.status, FE_SESSION_STARTING);
    assert_string_equal(ex.inspector_token, SECRET_TOKEN);
    struct fe_session_record sg;
    assert_int_equal(s->session_get(s, ACC_A, "sess-1", &sg), FE_STORE_OK);
    assert_memory_equal(&sg, &ex, sizeof(sg));
    assert_string_equal(sg.backend, "local");
    uint8_t sha[32];
    fill_sha(sha, 9);
    assert_memory_equal(sg.register_sha256, sha, 32);
    assert_int_equal(sg.created, 1700000200);
    assert_int_equal(s->session_get(s, ACC_B, "sess-1", &sg), FE_STORE_NOT_FOUND);
    r2 = sess_rec(ACC_A, "bad", 30);
    r2.handshake_port = 70000;
    assert_int_equal(s->session_create(s, &r2, NULL, err, sizeof(err)), FE_STORE_INVALID);
    r2 = sess_rec(ACC_A, "bad", 30);
    r2.size = (enum fe_session_size)5;
    assert_int_equal(s->session_create(s, &r2, NULL, err, sizeof(err)), FE_STORE_INVALID);
    assert_null(strstr(err, SECRET_TOKEN));
    fe_store_destroy(&s);
}

/* ---- 16 threads create one id ------------------------------------------------------------- */

#define RACERS 16

struct racer {
    struct fe_store *store;
    pthread_barrier_t *barrier;
    int index;
    bool session;
    enum fe_store_result result;
    char settings[32];
    char existing_settings[32];
    int existing_lease;
};

static void *race(void *arg)
{
    struct racer *r = arg;
    char err[256];
    snprintf(r->settings, sizeof(r->settings), "{\"racer\":%d}", r->index);
    pthread_barrier_wait(r->barrier);
    if (r->session) {
        struct fe_session_record rec = sess_rec(ACC_A, "the-one", 10 + r->index);
        struct fe_session_record ex;
        r->result = r->store->session_create(r->store, &rec, &ex, err, sizeof(err));
        r->existing_lease = r->result == FE_STORE_EXISTS ? ex.create_lease_minutes : -1;
    } else {
        struct fe_conversion_record rec = conv_rec(ACC_A, "the-one", r->settings);
        struct fe_conversion_record ex;
        r->result = r->store->conversion_create(r->store, &rec, &ex, err, sizeof(err));
        if (r->result == FE_STORE_EXISTS) {
            snprintf(r->existing_settings, sizeof(r->existing_settings), "%s", ex.settings_json);
            fe_conversion_record_clear(&ex);
        }
    }
    return NULL;
}

static void test_concurrent_create(void **state)
{
    (void)state;
    char path[128];
    fresh_path(path, sizeof(path), "race");
    int fds_before = count_fds();
    struct fe_store *s = open_ok(path);
    for (int kind = 0; kind < 2; kind++) {
        pthread_barrier_t barrier;
        pthread_barrier_init(&barrier, NULL, RACERS);
        struct racer racers[RACERS];
        pthread_t threads[RACERS];
        for (int i = 0; i < RACERS; i++) {
            racers[i] =
                (struct racer){.store = s, .barrier = &barrier, .index = i, .session = kind == 1};
            assert_int_equal(pthread_create(&threads[i], NULL, race, &racers[i]), 0);
        }
        for (int i = 0; i < RACERS; i++) {
            pthread_join(threads[i], NULL);
        }
        pthread_barrier_destroy(&barrier);
        int ok = 0, winner = -1;
        for (int i = 0; i < RACERS; i++) {
            if (racers[i].result == FE_STORE_OK) {
                ok++;
                winner = i;
            } else {
                assert_int_equal(racers[i].result, FE_STORE_EXISTS);
            }
        }
        assert_int_equal(ok, 1);
        /* Every loser saw the winner's record. */
        for (int i = 0; i < RACERS; i++) {
            if (i == winner) {
                continue;
            }
            if (kind == 0) {
                assert_string_equal(racers[i].existing_settings, racers[winner].settings);
            } else {
                assert_int_equal(racers[i].existing_lease, 10 + winner);
            }
        }
        /* The racers' connections closed when their threads ended. SQLite keeps the
         * descriptors of a closed connection while others hold locks on the file and reuses
         * them for the next connection: bounded by the most connections at once. */
        assert_true(count_fds() <= fds_before + 3 * RACERS + 8);
    }
    /* Threads that come and go, one at a time, reuse those descriptors. */
    int fds_after = count_fds();
    for (int i = 0; i < 50; i++) {
        pthread_barrier_t barrier;
        pthread_barrier_init(&barrier, NULL, 1);
        struct racer r = {.store = s, .barrier = &barrier, .index = 100 + i};
        pthread_t t;
        assert_int_equal(pthread_create(&t, NULL, race, &r), 0);
        pthread_join(t, NULL);
        pthread_barrier_destroy(&barrier);
        assert_int_equal(r.result, FE_STORE_EXISTS);
    }
    assert_true(count_fds() <= fds_after);
    /* Destroy gives every descriptor back. */
    fe_store_destroy(&s);
    assert_int_equal(count_fds(), fds_before);
}

/* ---- readers and writers at once ---------------------------------------------------------- */

struct mixer {
    struct fe_store *store;
    int index;
    int ok, errors;
};

static void *mix_writer(void *arg)
{
    struct mixer *m = arg;
    char err[256], id[32];
    for (int i = 0; i < 40; i++) {
        snprintf(id, sizeof(id), "w%d-%d", m->index, i);
        struct fe_session_record rec = sess_rec(ACC_B, id, 5);
        if (m->store->session_create(m->store, &rec, NULL, err, sizeof(err)) != FE_STORE_OK) {
            m->errors++;
            continue;
        }
        rec.status = FE_SESSION_READY;
        rec.handshake_port = 50000 + i;
        if (m->store->session_update(m->store, &rec, FE_SESSION_STARTING) == FE_STORE_OK) {
            m->ok++;
        } else {
            m->errors++;
        }
    }
    return NULL;
}

static void *mix_reader(void *arg)
{
    struct mixer *m = arg;
    struct fe_session_record r;
    for (int i = 0; i < 2000; i++) {
        enum fe_store_result res = m->store->session_get(m->store, ACC_A, "hot", &r);
        if (res == FE_STORE_OK && r.max_lease_minutes == 42) {
            m->ok++;
        } else {
            m->errors++;
        }
    }
    return NULL;
}

static void test_readers_and_writers(void **state)
{
    (void)state;
    char path[128], err[256];
    fresh_path(path, sizeof(path), "mix");
    struct fe_store *s = open_ok(path);
    struct fe_session_record hot = sess_rec(ACC_A, "hot", 42);
    assert_int_equal(s->session_create(s, &hot, NULL, err, sizeof(err)), FE_STORE_OK);
    struct mixer m[12];
    pthread_t t[12];
    for (int i = 0; i < 12; i++) {
        m[i] = (struct mixer){.store = s, .index = i};
        assert_int_equal(pthread_create(&t[i], NULL, i < 6 ? mix_writer : mix_reader, &m[i]), 0);
    }
    for (int i = 0; i < 12; i++) {
        pthread_join(t[i], NULL);
    }
    for (int i = 0; i < 12; i++) {
        assert_int_equal(m[i].errors, 0);
        assert_int_equal(m[i].ok, i < 6 ? 40 : 2000);
    }
    struct fe_session_record *list = NULL;
    size_t n = 0;
    assert_int_equal(s->session_list_active(s, &list, &n), FE_STORE_OK);
    assert_int_equal(n, 6 * 40 + 1);
    free(list);
    fe_store_destroy(&s);
}

/* ---- claim, conditional updates ----------------------------------------------------------- */

static void test_claim(void **state)
{
    (void)state;
    char path[128], err[256];
    fresh_path(path, sizeof(path), "claim");
    struct fe_store *s = open_ok(path);
    struct fe_conversion_record c = conv_rec(ACC_A, "late", "{}");
    c.created = 300;
    assert_int_equal(s->conversion_create(s, &c, NULL, err, sizeof(err)), FE_STORE_OK);
    c = conv_rec(ACC_B, "zz-early", "{}");
    c.created = 100;
    assert_int_equal(s->conversion_create(s, &c, NULL, err, sizeof(err)), FE_STORE_OK);
    c = conv_rec(ACC_A, "aa-early-second", "{}"); /* same second, inserted later */
    c.created = 100;
    assert_int_equal(s->conversion_create(s, &c, NULL, err, sizeof(err)), FE_STORE_OK);
    size_t waiting = 0;
    assert_int_equal(s->conversion_count_waiting(s, &waiting), FE_STORE_OK);
    assert_int_equal(waiting, 3);

    const char *order[] = {"zz-early", "aa-early-second", "late"};
    for (int i = 0; i < 3; i++) {
        struct fe_conversion_record got;
        assert_int_equal(s->conversion_claim(s, &got), FE_STORE_OK);
        assert_string_equal(got.id, order[i]);
        assert_int_equal(got.status, FE_CONV_RUNNING);
        assert_int_equal(got.attempts, 1);
        assert_true(llabs(got.started - (int64_t)time(NULL)) < 5);
        assert_string_equal(got.settings_json, "{}");
        fe_conversion_record_clear(&got);
        /* The store says the same. */
        assert_int_equal(s->conversion_get(s, i == 0 ? ACC_B : ACC_A, order[i], &got), FE_STORE_OK);
        assert_int_equal(got.status, FE_CONV_RUNNING);
        assert_int_equal(got.attempts, 1);
        fe_conversion_record_clear(&got);
        assert_int_equal(s->conversion_count_waiting(s, &waiting), FE_STORE_OK);
        assert_int_equal(waiting, 2 - i);
    }
    struct fe_conversion_record none;
    assert_int_equal(s->conversion_claim(s, &none), FE_STORE_NOT_FOUND);

    /* A restart requeues what was Running: claimed again, attempts 2. */
    struct fe_conversion_record *running = NULL;
    size_t n = 0;
    assert_int_equal(s->conversion_list_status(s, FE_CONV_RUNNING, &running, &n), FE_STORE_OK);
    assert_int_equal(n, 3);
    assert_string_equal(running[0].id, "zz-early");
    for (size_t i = 0; i < n; i++) {
        running[i].status = FE_CONV_NOT_STARTED;
        running[i].started = 0;
        running[i].pid = 0;
        assert_int_equal(s->conversion_update(s, &running[i], FE_CONV_RUNNING), FE_STORE_OK);
        fe_conversion_record_clear(&running[i]);
    }
    free(running);
    struct fe_conversion_record got;
    assert_int_equal(s->conversion_claim(s, &got), FE_STORE_OK);
    assert_string_equal(got.id, "zz-early");
    assert_int_equal(got.attempts, 2);
    fe_conversion_record_clear(&got);
    assert_int_equal(s->conversion_list_status(s, FE_CONV_SUCCEEDED, &running, &n), FE_STORE_OK);
    assert_int_equal(n, 0);
    free(running);
    fe_store_destroy(&s);
}

static void test_conditional_update(void **state)
{
    (void)state;
    char path[128], err[256];
    fresh_path(path, sizeof(path), "update");
    struct fe_store *s = open_ok(path);
    struct fe_conversion_record c = conv_rec(ACC_A, "c", "{\"s\":1}");
    assert_int_equal(s->conversion_create(s, &c, NULL, err, sizeof(err)), FE_STORE_OK);

    c.status = FE_CONV_RUNNING;
    c.progress = 40;
    c.pid = 4242;
    c.pid_start_time = UINT64_MAX - 5; /* round-trips through the int64 column */
    c.started = 1700000300;
    assert_int_equal(s->conversion_update(s, &c, FE_CONV_RUNNING), FE_STORE_CHANGED);
    struct fe_conversion_record got;
    assert_int_equal(s->conversion_get(s, ACC_A, "c", &got), FE_STORE_OK);
    assert_int_equal(got.status, FE_CONV_NOT_STARTED); /* nothing written */
    assert_int_equal(got.progress, 0);
    fe_conversion_record_clear(&got);
    assert_int_equal(s->conversion_update(s, &c, FE_CONV_NOT_STARTED), FE_STORE_OK);
    struct fe_conversion_record missing = c;
    snprintf(missing.id, sizeof(missing.id), "missing");
    assert_int_equal(s->conversion_update(s, &missing, FE_CONV_RUNNING), FE_STORE_NOT_FOUND);

    c.status = FE_CONV_SUCCEEDED;
    c.progress = 100;
    c.pid = 0;
    c.finished = 1700000400;
    snprintf(c.output_uri, sizeof(c.output_uri), "file:///out/model.rrasset");
    c.settings_json = "{\"changed\":true}"; /* settings are not updated */
    assert_int_equal(s->conversion_update(s, &c, FE_CONV_RUNNING), FE_STORE_OK);
    assert_int_equal(s->conversion_get(s, ACC_A, "c", &got), FE_STORE_OK);
    assert_int_equal(got.status, FE_CONV_SUCCEEDED);
    assert_int_equal(got.progress, 100);
    assert_int_equal(got.pid_start_time, UINT64_MAX - 5);
    assert_int_equal(got.started, 1700000300);
    assert_int_equal(got.finished, 1700000400);
    assert_string_equal(got.output_uri, "file:///out/model.rrasset");
    assert_string_equal(got.settings_json, "{\"s\":1}");
    fe_conversion_record_clear(&got);
    c.status = FE_CONV_FAILED;
    assert_int_equal(s->conversion_update(s, &c, FE_CONV_RUNNING), FE_STORE_CHANGED);
    assert_int_equal(s->conversion_update(s, &c, (enum fe_conversion_status)9), FE_STORE_INVALID);

    /* Sessions: every mutable field replaced; size, created and the create lease stay. */
    struct fe_session_record r = sess_rec(ACC_A, "s", 30);
    assert_int_equal(s->session_create(s, &r, NULL, err, sizeof(err)), FE_STORE_OK);
    r.status = FE_SESSION_READY;
    assert_int_equal(s->session_update(s, &r, FE_SESSION_READY), FE_STORE_CHANGED);
    struct fe_session_record m = r;
    snprintf(m.id, sizeof(m.id), "missing");
    assert_int_equal(s->session_update(s, &m, FE_SESSION_STARTING), FE_STORE_NOT_FOUND);
    r.size = FE_SIZE_STANDARD;
    r.create_lease_minutes = 99;
    r.created = 5;
    r.max_lease_minutes = 90;
    snprintf(r.hostname, sizeof(r.hostname), "127.0.0.1");
    r.handshake_port = 49152;
    r.transport_port = 49153;
    r.inspector_port = 49154;
    r.ready_at = 1700000500;
    r.host_pid = 777;
    r.host_start_time = 123456789012345ULL;
    fill_sha(r.register_sha256, 10);
    snprintf(r.inspector_token, sizeof(r.inspector_token), "tok2");
    assert_int_equal(s->session_update(s, &r, FE_SESSION_STARTING), FE_STORE_OK);
    struct fe_session_record sg;
    assert_int_equal(s->session_get(s, ACC_A, "s", &sg), FE_STORE_OK);
    assert_int_equal(sg.status, FE_SESSION_READY);
    assert_int_equal(sg.size, FE_SIZE_PREMIUM);
    assert_int_equal(sg.create_lease_minutes, 30);
    assert_int_equal(sg.created, 1700000200);
    assert_int_equal(sg.max_lease_minutes, 90);
    assert_string_equal(sg.hostname, "127.0.0.1");
    assert_int_equal(sg.handshake_port, 49152);
    assert_int_equal(sg.transport_port, 49153);
    assert_int_equal(sg.inspector_port, 49154);
    assert_int_equal(sg.ready_at, 1700000500);
    assert_int_equal(sg.host_pid, 777);
    assert_int_equal(sg.host_start_time, 123456789012345ULL);
    uint8_t sha[32];
    fill_sha(sha, 10);
    assert_memory_equal(sg.register_sha256, sha, 32);
    assert_string_equal(sg.inspector_token, "tok2");
    r.status = FE_SESSION_STOPPED;
    r.ended_at = 1700000600;
    assert_int_equal(s->session_update(s, &r, FE_SESSION_READY), FE_STORE_OK);
    assert_int_equal(s->session_update(s, &r, FE_SESSION_READY), FE_STORE_CHANGED);
    fe_store_destroy(&s);
}

/* ---- paging ------------------------------------------------------------------------------- */

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

#define PAGED 250

/* A lease raise touches nothing but the lease: the session manager's fields written in the
 * meantime survive it; a smaller lease, an ended session or an unknown id change nothing. */
static void test_raise_lease(void **state)
{
    (void)state;
    char path[128], err[256];
    fresh_path(path, sizeof(path), "lease");
    struct fe_store *s = open_ok(path);
    struct fe_session_record r = sess_rec(ACC_A, "s", 30);
    assert_int_equal(s->session_create(s, &r, NULL, err, sizeof(err)), FE_STORE_OK);
    r.host_pid = 4242; /* the manager launched a host after the API read the record */
    r.handshake_port = 50000;
    assert_int_equal(s->session_update(s, &r, FE_SESSION_STARTING), FE_STORE_OK);

    assert_int_equal(s->session_raise_lease(s, ACC_A, "s", 60), FE_STORE_OK);
    struct fe_session_record got;
    assert_int_equal(s->session_get(s, ACC_A, "s", &got), FE_STORE_OK);
    assert_int_equal(got.max_lease_minutes, 60);
    assert_int_equal(got.create_lease_minutes, 30);
    assert_int_equal(got.host_pid, 4242);
    assert_int_equal(got.handshake_port, 50000);
    assert_int_equal(s->session_raise_lease(s, ACC_A, "s", 60), FE_STORE_CHANGED);
    assert_int_equal(s->session_raise_lease(s, ACC_A, "s", 45), FE_STORE_CHANGED);
    assert_int_equal(s->session_raise_lease(s, ACC_A, "nope", 90), FE_STORE_NOT_FOUND);
    assert_int_equal(s->session_raise_lease(s, ACC_A, "s", 0), FE_STORE_INVALID);

    got.status = FE_SESSION_STOPPED;
    got.ended_at = 1700000900;
    assert_int_equal(s->session_update(s, &got, FE_SESSION_STARTING), FE_STORE_OK);
    assert_int_equal(s->session_raise_lease(s, ACC_A, "s", 120), FE_STORE_CHANGED);
    assert_int_equal(s->session_get(s, ACC_A, "s", &got), FE_STORE_OK);
    assert_int_equal(got.max_lease_minutes, 60);
    fe_store_destroy(&s);
}

static void test_paging(void **state)
{
    (void)state;
    char path[128], err[256];
    fresh_path(path, sizeof(path), "paging");
    struct fe_store *s = open_ok(path);
    /* Ids that sort differently by bytes than by letters: '-' < digits < upper < '_' < lower. */
    static const char *const stems[] = {"a", "B", "_x", "-y", "9", "Z", "z", "AA", "a-", "a_"};
    char *ids[PAGED];
    for (int k = 0; k < PAGED; k++) {
        int i = (k * 97) % PAGED; /* inserted out of order */
        char id[32];
        snprintf(id, sizeof(id), "%s%03d", stems[i % 10], i);
        ids[k] = strdup(id);
        struct fe_conversion_record c = conv_rec(ACC_A, id, "{}");
        assert_int_equal(s->conversion_create(s, &c, NULL, err, sizeof(err)), FE_STORE_OK);
        struct fe_session_record r = sess_rec(ACC_A, id, 5);
        assert_int_equal(s->session_create(s, &r, NULL, err, sizeof(err)), FE_STORE_OK);
        if (i % 3 == 0) { /* a third of them ended */
            r.status = FE_SESSION_STOPPED;
            r.ended_at = 1700000900;
            assert_int_equal(s->session_update(s, &r, FE_SESSION_STARTING), FE_STORE_OK);
        }
        /* The other account's records never show. */
        c = conv_rec(ACC_B, id, "{}");
        assert_int_equal(s->conversion_create(s, &c, NULL, err, sizeof(err)), FE_STORE_OK);
    }
    qsort(ids, PAGED, sizeof(ids[0]), cmp_str);

    /* Conversions: 100 + 100 + 50. */
    char after[FE_ID_SIZE] = "";
    size_t seen = 0;
    for (int p = 0; p < 3; p++) {
        struct fe_conversion_record *page = NULL;
        size_t n = 0;
        bool more = false;
        assert_int_equal(s->conversion_list(s, ACC_A, after, 100, &page, &n, &more), FE_STORE_OK);
        assert_int_equal(n, p < 2 ? 100 : 50);
        assert_int_equal(more, p < 2);
        for (size_t i = 0; i < n; i++) {
            assert_string_equal(page[i].id, ids[seen + i]);
            assert_string_equal(page[i].account_id, ACC_A);
        }
        seen += n;
        snprintf(after, sizeof(after), "%s", page[n - 1].id);
        for (size_t i = 0; i < n; i++) {
            fe_conversion_record_clear(&page[i]);
        }
        free(page);
    }
    assert_int_equal(seen, PAGED);
    /* After the last: empty, no more. An exact fit: no more. */
    struct fe_conversion_record *page = NULL;
    size_t n = 9;
    bool more = true;
    assert_int_equal(s->conversion_list(s, ACC_A, after, 100, &page, &n, &more), FE_STORE_OK);
    assert_int_equal(n, 0);
    assert_false(more);
    free(page);
    assert_int_equal(s->conversion_list(s, ACC_A, NULL, 250, &page, &n, &more), FE_STORE_OK);
    assert_int_equal(n, 250);
    assert_false(more);
    for (size_t i = 0; i < n; i++) {
        fe_conversion_record_clear(&page[i]);
    }
    free(page);
    assert_int_equal(s->conversion_list(s, ACC_A, "", 0, &page, &n, &more), FE_STORE_INVALID);
    assert_int_equal(s->conversion_list(s, ACC_A, "", 1001, &page, &n, &more), FE_STORE_INVALID);
    assert_int_equal(
        s->conversion_list(s, "00000000-0000-0000-0000-000000000000", "", 10, &page, &n, &more),
        FE_STORE_OK);
    assert_int_equal(n, 0);
    free(page);

    /* Sessions, all and active only (in pages of 7 to cross many boundaries). */
    for (int active = 0; active < 2; active++) {
        after[0] = '\0';
        size_t total = 0, pages = 0;
        char last[FE_ID_SIZE] = "";
        do {
            struct fe_session_record *sp = NULL;
            assert_int_equal(s->session_list(s, ACC_A, active, after, 7, &sp, &n, &more),
                             FE_STORE_OK);
            for (size_t i = 0; i < n; i++) {
                assert_true(strcmp(sp[i].id, last) > 0);
                snprintf(last, sizeof(last), "%s", sp[i].id);
                if (active) {
                    assert_true(sp[i].status == FE_SESSION_STARTING);
                }
            }
            total += n;
            pages++;
            if (n > 0) {
                snprintf(after, sizeof(after), "%s", sp[n - 1].id);
            }
            free(sp);
        } while (more);
        assert_int_equal(total, active ? PAGED - (PAGED + 2) / 3 : PAGED);
        assert_int_equal(pages, (total + 6) / 7);
    }
    for (int i = 0; i < PAGED; i++) {
        free(ids[i]);
    }
    fe_store_destroy(&s);
}

/* ---- the active list, purge --------------------------------------------------------------- */

static void test_active_and_purge(void **state)
{
    (void)state;
    char path[128], err[256];
    fresh_path(path, sizeof(path), "purge");
    struct fe_store *s = open_ok(path);
    static const struct {
        const char *account, *id;
        enum fe_session_status status;
        int64_t ended;
    } rows[] = {
        {ACC_A, "starting", FE_SESSION_STARTING, 0},
        {ACC_B, "ready", FE_SESSION_READY, 0},
        {ACC_A, "stopped-old", FE_SESSION_STOPPED, 1000},
        {ACC_B, "expired-old", FE_SESSION_EXPIRED, 1999},
        {ACC_A, "error-new", FE_SESSION_ERROR, 2000},
        {ACC_B, "stopped-new", FE_SESSION_STOPPED, 5000},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        struct fe_session_record r = sess_rec(rows[i].account, rows[i].id, 5);
        r.created = 100 + (int64_t)i;
        assert_int_equal(s->session_create(s, &r, NULL, err, sizeof(err)), FE_STORE_OK);
        if (rows[i].status != FE_SESSION_STARTING) {
            r.status = rows[i].status;
            r.ended_at = rows[i].ended;
            assert_int_equal(s->session_update(s, &r, FE_SESSION_STARTING), FE_STORE_OK);
        }
    }
    struct fe_session_record *list = NULL;
    size_t n = 0;
    assert_int_equal(s->session_list_active(s, &list, &n), FE_STORE_OK);
    assert_int_equal(n, 2);
    assert_string_equal(list[0].id, "starting");
    assert_string_equal(list[1].id, "ready");
    assert_string_equal(list[1].account_id, ACC_B);
    free(list);

    size_t purged = 99;
    assert_int_equal(s->session_purge(s, 2000, &purged), FE_STORE_OK);
    assert_int_equal(purged, 2);
    struct fe_session_record g;
    assert_int_equal(s->session_get(s, ACC_A, "stopped-old", &g), FE_STORE_NOT_FOUND);
    assert_int_equal(s->session_get(s, ACC_B, "expired-old", &g), FE_STORE_NOT_FOUND);
    assert_int_equal(s->session_get(s, ACC_A, "error-new", &g), FE_STORE_OK);
    assert_int_equal(s->session_get(s, ACC_A, "starting", &g), FE_STORE_OK);
    assert_int_equal(s->session_purge(s, 2000, &purged), FE_STORE_OK);
    assert_int_equal(purged, 0);
    /* Active sessions are never purged, whatever the time. */
    assert_int_equal(s->session_purge(s, INT64_MAX, &purged), FE_STORE_OK);
    assert_int_equal(purged, 2);
    assert_int_equal(s->session_list_active(s, &list, &n), FE_STORE_OK);
    assert_int_equal(n, 2);
    free(list);
    fe_store_destroy(&s);
}

/* ---- reopening ---------------------------------------------------------------------------- */

static void test_reopen(void **state)
{
    (void)state;
    char path[128], err[256];
    fresh_path(path, sizeof(path), "reopen");
    struct fe_store *s = open_ok(path);
    make_account(s, ACC_A, 1700000000);
    struct fe_conversion_record c = conv_rec(ACC_A, "kept", "{\"k\":1}");
    assert_int_equal(s->conversion_create(s, &c, NULL, err, sizeof(err)), FE_STORE_OK);
    struct fe_session_record r = sess_rec(ACC_A, "kept", 20);
    assert_int_equal(s->session_create(s, &r, NULL, err, sizeof(err)), FE_STORE_OK);
    fe_store_destroy(&s);
    /* Destroyed cleanly: the WAL was checkpointed into the file. */
    char wal[160];
    snprintf(wal, sizeof(wal), "%s-wal", path);
    assert_int_equal(access(wal, F_OK), -1);

    for (int round = 0; round < 2; round++) {
        s = open_ok(path);
        struct fe_account_record a;
        assert_int_equal(s->account_get(s, ACC_A, &a), FE_STORE_OK);
        struct fe_key_record keys[4];
        size_t n = 0;
        assert_int_equal(s->key_list(s, ACC_A, keys, 4, &n), FE_STORE_OK);
        assert_int_equal(n, 2);
        struct fe_conversion_record got;
        assert_int_equal(s->conversion_get(s, ACC_A, "kept", &got), FE_STORE_OK);
        assert_string_equal(got.settings_json, "{\"k\":1}");
        fe_conversion_record_clear(&got);
        struct fe_session_record sg;
        assert_int_equal(s->session_get(s, ACC_A, "kept", &sg), FE_STORE_OK);
        assert_int_equal(sg.max_lease_minutes, 20);
        /* Two stores on one file at once (serve and an account command). */
        struct fe_store *s2 = open_ok(path);
        make_account(s2, round == 0 ? ACC_B : "22222222-2222-2222-2222-222222222222", 5);
        assert_int_equal(
            s->account_get(s, round == 0 ? ACC_B : "22222222-2222-2222-2222-222222222222", &a),
            FE_STORE_OK);
        fe_store_destroy(&s2);
        fe_store_destroy(&s);
    }
    /* The schema version is set. */
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_true(sqlite3_column_int(st, 0) >= 1);
    sqlite3_finalize(st);
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "wal");
    sqlite3_finalize(st);
    sqlite3_close(db);
}

/* ---- kill -9 in the middle of writes ------------------------------------------------------ */

static void die_now(int sig)
{
    (void)sig;
    kill(getpid(), SIGKILL);
}

/* The child: write until the timer kills it, reporting each committed id on @p fd. */
static void killed_writer(const char *path, int fd, int round)
{
    struct fe_store *s = NULL;
    char err[256];
    if (fe_store_sqlite_open(path, &s, err, sizeof(err)) != FE_STORE_OK) {
        _exit(3);
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = die_now;
    sigaction(SIGALRM, &sa, NULL);
    struct itimerval it = {{0, 0}, {0, 150000 + round * 70000}};
    setitimer(ITIMER_REAL, &it, NULL);
    static char settings[2048];
    memset(settings, 'x', sizeof(settings) - 1);
    for (int i = 0;; i++) {
        char id[32];
        snprintf(id, sizeof(id), "r%d-%06d", round, i);
        struct fe_conversion_record c = conv_rec(ACC_A, id, settings);
        if (s->conversion_create(s, &c, NULL, err, sizeof(err)) != FE_STORE_OK) {
            _exit(4);
        }
        struct fe_session_record r = sess_rec(ACC_A, id, 5);
        if (s->session_create(s, &r, NULL, err, sizeof(err)) != FE_STORE_OK) {
            _exit(5);
        }
        r.status = FE_SESSION_READY;
        if (s->session_update(s, &r, FE_SESSION_STARTING) != FE_STORE_OK) {
            _exit(6);
        }
        int32_t v = i;
        if (write(fd, &v, sizeof(v)) != (ssize_t)sizeof(v)) {
            _exit(7);
        }
    }
}

static void test_kill9(void **state)
{
    (void)state;
    char path[128];
    fresh_path(path, sizeof(path), "kill9");
    struct fe_store *s = open_ok(path); /* made here; the parent keeps it open meanwhile */
    for (int round = 0; round < 3; round++) {
        int p[2];
        assert_int_equal(pipe(p), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            close(p[0]);
            killed_writer(path, p[1], round);
            _exit(8);
        }
        close(p[1]);
        int committed = 0;
        int32_t v;
        while (read(p[0], &v, sizeof(v)) == (ssize_t)sizeof(v)) {
            assert_int_equal(v, committed);
            committed++;
        }
        close(p[0]);
        int status = 0;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        if (!WIFSIGNALED(status)) {
            fprintf(stderr, "child exited with %d\n", WEXITSTATUS(status));
        }
        assert_true(WIFSIGNALED(status));
        assert_int_equal(WTERMSIG(status), SIGKILL);
        assert_true(committed > 0);
        printf("kill -9 round %d: %d committed records before the kill\n", round, committed);

        /* A fresh store sees every committed record, and the file is sound. */
        struct fe_store *s2 = open_ok(path);
        for (int i = 0; i < committed; i++) {
            char id[32];
            snprintf(id, sizeof(id), "r%d-%06d", round, i);
            struct fe_conversion_record c;
            assert_int_equal(s2->conversion_get(s2, ACC_A, id, &c), FE_STORE_OK);
            assert_int_equal(strlen(c.settings_json), 2047);
            fe_conversion_record_clear(&c);
            struct fe_session_record r;
            assert_int_equal(s2->session_get(s2, ACC_A, id, &r), FE_STORE_OK);
            assert_int_equal(r.status, FE_SESSION_READY);
        }
        fe_store_destroy(&s2);
        assert_true(quick_check_ok(path));
    }
    fe_store_destroy(&s);
    assert_true(quick_check_ok(path));
}

/* ---- files that are not ours -------------------------------------------------------------- */

static void expect_open(const char *path, enum fe_store_result want, const char *why_part)
{
    struct fe_store *s = NULL;
    char err[512] = "";
    enum fe_store_result r = fe_store_sqlite_open(path, &s, err, sizeof(err));
    if (r != want) {
        fprintf(stderr, "open %s: %s: %s\n", path, fe_store_result_str(r), err);
    }
    assert_int_equal(r, want);
    assert_null(s);
    assert_non_null(strstr(err, path));
    if (why_part != NULL && strstr(err, why_part) == NULL) {
        fprintf(stderr, "message: %s\n", err);
        assert_non_null(strstr(err, why_part));
    }
}

static void write_file(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, n, f), n);
    fclose(f);
}

static void test_not_ours(void **state)
{
    (void)state;
    char path[128], err[256];

    /* Garbage. */
    fresh_path(path, sizeof(path), "garbage");
    uint8_t junk[8192];
    uint32_t x = 12345;
    for (size_t i = 0; i < sizeof(junk); i++) {
        x = x * 1103515245u + 12345u;
        junk[i] = (uint8_t)(x >> 16);
    }
    write_file(path, junk, sizeof(junk));
    expect_open(path, FE_STORE_CORRUPT, "not an SQLite database");
    /* A short text file. */
    fresh_path(path, sizeof(path), "text");
    write_file(path, "hello, world\n", 13);
    expect_open(path, FE_STORE_CORRUPT, NULL);

    /* A real store with a page overwritten. */
    fresh_path(path, sizeof(path), "damaged");
    struct fe_store *s = open_ok(path);
    static char settings[3000];
    memset(settings, 's', sizeof(settings) - 1);
    for (int i = 0; i < 200; i++) {
        char id[16];
        snprintf(id, sizeof(id), "c%d", i);
        struct fe_conversion_record c = conv_rec(ACC_A, id, settings);
        assert_int_equal(s->conversion_create(s, &c, NULL, err, sizeof(err)), FE_STORE_OK);
    }
    fe_store_destroy(&s);
    struct stat stb;
    assert_int_equal(stat(path, &stb), 0);
    assert_true(stb.st_size > 40 * 4096);
    int fd = open(path, O_WRONLY);
    assert_true(fd >= 0);
    assert_int_equal(pwrite(fd, junk, 4096, 20 * 4096), 4096);
    close(fd);
    expect_open(path, FE_STORE_CORRUPT, "damaged");

    /* Another program's database. */
    fresh_path(path, sizeof(path), "foreign");
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(
        sqlite3_exec(db, "CREATE TABLE t (x); INSERT INTO t VALUES (1);", NULL, NULL, NULL),
        SQLITE_OK);
    sqlite3_close(db);
    expect_open(path, FE_STORE_CORRUPT, "not openrrd's");
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "PRAGMA application_id = 7", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    expect_open(path, FE_STORE_CORRUPT, "application_id");

    /* A newer openrrd's. */
    fresh_path(path, sizeof(path), "newer");
    s = open_ok(path);
    fe_store_destroy(&s);
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    expect_open(path, FE_STORE_CORRUPT, "newer");

    /* A directory that does not exist: IO. */
    snprintf(path, sizeof(path), "%s/no/such/dir/x.db", tmpdir);
    expect_open(path, FE_STORE_IO, NULL);
    /* A directory as the file. */
    expect_open(tmpdir, FE_STORE_IO, NULL);

    static char sentinel;
    s = (struct fe_store *)&sentinel; /* overwritten with NULL on failure */
    assert_int_equal(fe_store_sqlite_open(NULL, &s, err, sizeof(err)), FE_STORE_INVALID);
    assert_null(s);
    assert_int_equal(fe_store_sqlite_open("", &s, err, sizeof(err)), FE_STORE_INVALID);
    assert_int_equal(fe_store_sqlite_open(path, NULL, err, sizeof(err)), FE_STORE_INVALID);
}

/* ---- a full disk -------------------------------------------------------------------------- */

/* Write conversions (2 KiB of settings) and sessions until FULL; returns how many were
 * committed (every one of ids 0..n-1 of both kinds). */
static int fill_until_full(struct fe_store *s, const char *prefix)
{
    static char settings[2048];
    memset(settings, 'f', sizeof(settings) - 1);
    char err[512];
    for (int i = 0; i < 100000; i++) {
        char id[32];
        snprintf(id, sizeof(id), "%s%06d", prefix, i);
        struct fe_conversion_record c = conv_rec(ACC_A, id, settings);
        enum fe_store_result r = s->conversion_create(s, &c, NULL, err, sizeof(err));
        if (r == FE_STORE_OK) {
            struct fe_session_record sr = sess_rec(ACC_A, id, 5);
            r = s->session_create(s, &sr, NULL, err, sizeof(err));
            if (r == FE_STORE_OK) {
                continue;
            }
            /* The session did not make it: drop the pair from the count below. */
            assert_null(strstr(err, SECRET_TOKEN));
        }
        assert_int_equal(r, FE_STORE_FULL);
        assert_non_null(strstr(err, "full"));
        /* Nothing of the failed create is there. */
        struct fe_session_record g;
        assert_int_equal(s->session_get(s, ACC_A, id, &g), FE_STORE_NOT_FOUND);
        return i;
    }
    fail_msg("the disk never filled up");
    return 0;
}

/* Everything ids 0..n-1 (and the session of n's conversion maybe) is there. */
static void check_filled(struct fe_store *s, const char *prefix, int n)
{
    for (int i = 0; i < n; i++) {
        char id[32];
        snprintf(id, sizeof(id), "%s%06d", prefix, i);
        struct fe_conversion_record c;
        assert_int_equal(s->conversion_get(s, ACC_A, id, &c), FE_STORE_OK);
        assert_int_equal(strlen(c.settings_json), 2047);
        fe_conversion_record_clear(&c);
        struct fe_session_record r;
        assert_int_equal(s->session_get(s, ACC_A, id, &r), FE_STORE_OK);
        assert_string_equal(r.inspector_token, SECRET_TOKEN);
    }
}

static void test_disk_full_tmpfs(void **state)
{
    (void)state;
    char mnt[128], path[160];
    snprintf(mnt, sizeof(mnt), "%s/tmpfs", tmpdir);
    assert_int_equal(mkdir(mnt, 0700), 0);
    if (mount("tmpfs", mnt, "tmpfs", 0, "size=3m") != 0) {
        printf("skipped: cannot mount a tmpfs (%s); test_disk_full_rlimit covers a full disk\n",
               strerror(errno));
        rmdir(mnt);
        skip();
    }
    snprintf(path, sizeof(path), "%s/openrr.db", mnt);
    sink.lines = 0;
    sink.leaked = false;
    u_log_set_sink(&sink.base);

    struct fe_store *s = open_ok(path);
    make_account(s, ACC_A, 1);
    int n = fill_until_full(s, "t");
    printf("tmpfs: FULL after %d records\n", n);
    assert_true(n > 10);
    check_filled(s, "t", n);
    /* Still full, still consistent. */
    struct fe_session_record r = sess_rec(ACC_A, "after-full", 5);
    char err[512];
    enum fe_store_result res = s->session_create(s, &r, NULL, err, sizeof(err));
    assert_true(res == FE_STORE_FULL || res == FE_STORE_OK);
    fe_store_destroy(&s);

    /* Reopened while the disk is still full: everything is there. */
    s = open_ok(path);
    check_filled(s, "t", n);
    fe_store_destroy(&s);
    assert_true(quick_check_ok(path));

    u_log_remove_sink(&sink.base);
    assert_true(sink.lines > 0); /* the failures were logged … */
    assert_false(sink.leaked);   /* … without the secret */
    assert_int_equal(umount2(mnt, MNT_DETACH), 0);
    rmdir(mnt);
}

static struct rlimit saved_fsize;

static int restore_fsize(void **state)
{
    (void)state;
    signal(SIGXFSZ, SIG_DFL);
    return setrlimit(RLIMIT_FSIZE, &saved_fsize);
}

static void test_disk_full_rlimit(void **state)
{
    (void)state;
    char path[128];
    fresh_path(path, sizeof(path), "rlimit");
    struct fe_store *s = open_ok(path);
    make_account(s, ACC_A, 1);
    /* Writes past the limit fail with EFBIG (SIGXFSZ ignored), which SQLite reports as an
     * I/O error: the store must still call it FULL. restore_fsize lifts it, also on failure. */
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &saved_fsize), 0);
    signal(SIGXFSZ, SIG_IGN);
    struct rlimit lim = saved_fsize;
    lim.rlim_cur = 512 * 1024;
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
    int n = fill_until_full(s, "l");
    assert_int_equal(restore_fsize(NULL), 0);
    printf("RLIMIT_FSIZE: FULL after %d records\n", n);
    assert_true(n > 10);
    check_filled(s, "l", n);
    /* With room again the store writes on. */
    struct fe_session_record r = sess_rec(ACC_A, "after-full", 5);
    char err[512];
    assert_int_equal(s->session_create(s, &r, NULL, err, sizeof(err)), FE_STORE_OK);
    fe_store_destroy(&s);
    s = open_ok(path);
    check_filled(s, "l", n);
    fe_store_destroy(&s);
    assert_true(quick_check_ok(path));
}

/* ---- session_get's cost ------------------------------------------------------------------- */

struct getter {
    struct fe_store *store;
    int calls, errors;
};

static void *get_loop(void *arg)
{
    struct getter *g = arg;
    struct fe_session_record r;
    char id[16];
    for (int i = 0; i < g->calls; i++) {
        snprintf(id, sizeof(id), "s%d", i % 100);
        if (g->store->session_get(g->store, ACC_A, id, &r) != FE_STORE_OK) {
            g->errors++;
        }
    }
    return NULL;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_session_get_cost(void **state)
{
    (void)state;
    char path[128], err[256];
    fresh_path(path, sizeof(path), "speed");
    struct fe_store *s = open_ok(path);
    for (int i = 0; i < 100; i++) {
        char id[16];
        snprintf(id, sizeof(id), "s%d", i);
        struct fe_session_record r = sess_rec(ACC_A, id, 5);
        assert_int_equal(s->session_create(s, &r, NULL, err, sizeof(err)), FE_STORE_OK);
    }
    struct getter one = {s, 100000, 0};
    double t0 = now_s();
    get_loop(&one);
    double t1 = now_s();
    assert_int_equal(one.errors, 0);
    double per_call_us = (t1 - t0) / one.calls * 1e6;
    printf("session_get: %.2f us per call on one thread (%.0f calls/s)\n", per_call_us,
           one.calls / (t1 - t0));

    enum { T = 4 };
    struct getter g[T];
    pthread_t th[T];
    t0 = now_s();
    for (int i = 0; i < T; i++) {
        g[i] = (struct getter){s, 50000, 0};
        assert_int_equal(pthread_create(&th[i], NULL, get_loop, &g[i]), 0);
    }
    for (int i = 0; i < T; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(g[i].errors, 0);
    }
    t1 = now_s();
    printf("session_get: %.0f calls/s with %d threads\n", T * 50000 / (t1 - t0), T);
    /* A loose bound that holds under the sanitizers too; the benchmark wants 20,000/s. */
    assert_true(per_call_us < 200.0);
    fe_store_destroy(&s);
}

/* ---- set-up ------------------------------------------------------------------------------- */

static int setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_fe_store.XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    u_log_remove_sink(&sink.base);
    char cmd[160];
    snprintf(cmd, sizeof(cmd), "%s/tmpfs", tmpdir);
    umount2(cmd, MNT_DETACH); /* left mounted by a failed test */
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_accounts_and_keys),
        cmocka_unit_test(test_create_exists),
        cmocka_unit_test(test_concurrent_create),
        cmocka_unit_test(test_readers_and_writers),
        cmocka_unit_test(test_claim),
        cmocka_unit_test(test_conditional_update),
        cmocka_unit_test(test_raise_lease),
        cmocka_unit_test(test_paging),
        cmocka_unit_test(test_active_and_purge),
        cmocka_unit_test(test_reopen),
        cmocka_unit_test(test_kill9),
        cmocka_unit_test(test_not_ours),
        cmocka_unit_test(test_disk_full_tmpfs),
        cmocka_unit_test_teardown(test_disk_full_rlimit, restore_fsize),
        cmocka_unit_test(test_session_get_cost),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
