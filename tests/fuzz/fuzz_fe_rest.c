/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_fe_rest — libFuzzer target for openrrd's REST side (src/frontend/fe_api*.c): whole
 * requests go through fe_api_handle as fe_http hands them over, against a real SQLite store,
 * token service and CA made once per process in a temporary directory. Covered: routing and
 * path splitting, api-version, both Authorization forms (`Bearer <accountId>:<key>` at the
 * token service, `Bearer <access token>` on REST routes), ids, $skipToken, the JSON bodies of
 * conversion create (canonical settings, fe_conv_check_settings), session create and PATCH and
 * the hosts' registration, and every answer built from stored records.
 *
 * Input: up to MAX_REQUESTS requests separated by a line "===", each
 *     METHOD TARGET
 *     Name: value            (headers, up to the first empty line)
 *
 *     body                   (the rest, bytes as they are)
 * TARGET is percent-decoded like libmicrohttpd does (path, then query arguments). Before
 * splitting, placeholders are replaced (the fuzzer finds them in fe_rest.dict): @account@ and
 * @other@ (account ids), @key@, @clientkey@ and @otherkey@ (account keys), @admin@, @client@,
 * @othertoken@, @expired@ and @forged@ (access tokens; the last signed by a key this STS does
 * not know), @root@ (the storage root). Account @other@ holds 101 conversions (Running or
 * ended) and four sessions, so lists page and every field of the records is answered.
 *
 * libmicrohttpd is not run: the harness defines MHD_lookup_connection_value, which the linker
 * takes before the shared library's, and a struct MHD_Connection of its own holding the
 * request's headers and query arguments, so fe_http_header and fe_http_query read them.
 *
 * Properties of every answer: a status is set and is never 500 (the database works and memory
 * is plenty); route and route name agree; body_len is the body's length; a JSON body parses;
 * every 4xx body is exactly the reference's error object with resp->error_code as its code;
 * 401 carries WWW-Authenticate, 405 Allow, 429 Retry-After; header values hold no CR or LF; no
 * answer holds an account key or access token (unless the request holds it outside its
 * Authorization header: a key is a valid id, and ids are answered), a stored SAS or inspector
 * token, or a SAS member; a conversion create's error never repeats a SAS the request gave; a
 * 201 create repeated as it was answers 200 with the same object.
 * After each input the records are put back as they were (the harness keeps a copy in its
 * own SQLite connection), so every input starts alike and a crash reproduces on its own.
 * Single-threaded: libFuzzer calls LLVMFuzzerTestOneInput from one thread.
 */
#include "fe_api.h"
#include "fe_ca.h"
#include "fe_config.h"
#include "fe_http.h"
#include "fe_keys.h"
#include "fe_log.h"
#include "fe_metrics.h"
#include "fe_store.h"
#include "fe_sts.h"

#include "fuzz_check.h"
#include "fuzz_tmpdir.h"

#include <jansson.h>
#include <microhttpd.h>
#include <sqlite3.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_REQUESTS 8
#define MAX_FIELDS 32
/* Placeholders stop being expanded once the input has grown to this (tokens are long). */
#define MAX_EXPANDED (64 * 1024)

/* Fixed ids and keys, so that an input found once means the same thing in the next process. */
#define ACCOUNT_A "0f0e0d0c-0b0a-4908-8706-050403020100"
#define ACCOUNT_B "1f1e1d1c-1b1a-4918-9716-151413121110"
#define KEY_A "fuzzAdminKeyOfAccountA_0123456789abcdefghiA"
#define KEY_A_CLIENT "fuzzClientKeyOfAccountA-0123456789abcdefghA"
#define KEY_B "fuzzAdminKeyOfAccountB_0123456789abcdefghiA"
/* What account B's stored records hold that must never be answered. */
#define STORED_SAS "sv=2024&sig=StoredReadSasMustNeverBeAnswered"
#define STORED_INSPECTOR "inspector-token-must-never-be-answered"

/* ---- the stand-in for libmicrohttpd's connection ----------------------------------------- */

struct field {
    char *name;
    char *value; /* NULL: a query argument without '=' */
};

struct MHD_Connection {
    struct field headers[MAX_FIELDS];
    size_t header_count;
    struct field args[MAX_FIELDS];
    size_t arg_count;
};

/* libmicrohttpd's lookup: the first field of that kind whose name matches in any case. */
const char *MHD_lookup_connection_value(struct MHD_Connection *connection, enum MHD_ValueKind kind,
                                        const char *key)
{
    const struct field *f = NULL;
    size_t n = 0;
    if (kind == MHD_HEADER_KIND) {
        f = connection->headers;
        n = connection->header_count;
    } else if (kind == MHD_GET_ARGUMENT_KIND) {
        f = connection->args;
        n = connection->arg_count;
    }
    for (size_t i = 0; key != NULL && i < n; i++) {
        if (strcasecmp(f[i].name, key) == 0) {
            return f[i].value;
        }
    }
    return NULL;
}

/* ---- the service ------------------------------------------------------------------------- */

static char tmp_dir[PATH_MAX];
static char storage_root[PATH_MAX];
static struct fe_config cfg;
static struct fe_store *store;
static struct fe_sts *sts;
static struct fe_ca *ca;
static struct fe_metrics *metrics;
static struct fe_api *api;
static sqlite3 *reset_db;    /* the harness's own connection: puts the records back */
static int64_t data_version; /* of the records as put back (PRAGMA data_version) */
static bool verbose; /* FUZZ_VERBOSE set: each request and its answer on stderr (for seeds) */

static char *token_admin, *token_client, *token_other, *token_expired, *token_forged;

struct placeholder {
    const char *name;
    const char **value;
};
static const char *v_account = ACCOUNT_A, *v_other = ACCOUNT_B, *v_key = KEY_A,
                  *v_clientkey = KEY_A_CLIENT, *v_otherkey = KEY_B, *v_root = storage_root;
static const char *v_admin, *v_client, *v_othertoken, *v_expired, *v_forged;
static const struct placeholder PLACEHOLDERS[] = {
    {"@account@", &v_account},   {"@other@", &v_other},
    {"@key@", &v_key},           {"@clientkey@", &v_clientkey},
    {"@otherkey@", &v_otherkey}, {"@admin@", &v_admin},
    {"@client@", &v_client},     {"@othertoken@", &v_othertoken},
    {"@expired@", &v_expired},   {"@forged@", &v_forged},
    {"@root@", &v_root},
};
#define PLACEHOLDER_COUNT (sizeof PLACEHOLDERS / sizeof PLACEHOLDERS[0])

/* Texts no answer may hold unless the request itself holds them outside its Authorization
 * header (a key is a valid conversion id, and ids are answered). */
static const char *secrets[16];
static size_t secret_count;

static void cleanup(void)
{
    fe_api_destroy(&api);
    fe_metrics_destroy(&metrics);
    fe_ca_destroy(&ca);
    fe_sts_destroy(&sts);
    fe_store_destroy(&store);
    sqlite3_close(reset_db);
    rr_jwt_token_free(&token_admin);
    rr_jwt_token_free(&token_client);
    rr_jwt_token_free(&token_other);
    rr_jwt_token_free(&token_expired);
    rr_jwt_token_free(&token_forged);
    fe_config_clear(&cfg);
    fuzz_tmpdir_remove(tmp_dir);
}

/* Tokens live 31 days (the longest the STS allows), so that a long run keeps valid ones; the
 * expired one was issued before that. */
#define TOKEN_LIFETIME (31 * 86400)

static int64_t long_ago(void *user)
{
    (void)user;
    return (int64_t)time(NULL) - TOKEN_LIFETIME - 86400;
}

static void make_dir(const char *rel)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", tmp_dir, rel);
    CHECK(mkdir(path, 0700) == 0);
}

static void add_key(struct fe_key_record *k, const char *name, const char *text, unsigned role)
{
    memset(k, 0, sizeof *k);
    snprintf(k->name, sizeof k->name, "%s", name);
    k->role = role;
    CHECK(fe_key_well_formed(text) && fe_key_hash(text, strlen(text), k->sha256));
}

static void create_account(const char *id, struct fe_key_record *keys, size_t count)
{
    struct fe_account_record acc;
    memset(&acc, 0, sizeof acc);
    snprintf(acc.id, sizeof acc.id, "%s", id);
    snprintf(acc.domain, sizeof acc.domain, "openrr.localhost");
    char err[256] = "";
    CHECK(store->account_create(store, &acc, keys, count, err, sizeof err) == FE_STORE_OK);
}

/* Account B's records: 101 conversions in every finished state (a list of B has a second
 * page) and sessions Ready, Error, Stopped and Expired. */
static void populate_other(void)
{
    static const char settings[] =
        "{\"inputLocation\":{\"relativeInputAssetPath\":\"m.gltf\",\"storageContainerReadListSas\":"
        "\"" STORED_SAS "\",\"storageContainerUri\":\"https://example.com/in\"},"
        "\"outputLocation\":{\"storageContainerUri\":\"https://example.com/out\","
        "\"storageContainerWriteSas\":\"" STORED_SAS "\"}}";
    for (int i = 0; i <= 100; i++) {
        struct fe_conversion_record rec;
        memset(&rec, 0, sizeof rec);
        snprintf(rec.account_id, sizeof rec.account_id, "%s", ACCOUNT_B);
        snprintf(rec.id, sizeof rec.id, "c%03d", i);
        rec.settings_json = (char *)settings;
        rec.status = FE_CONV_NOT_STARTED;
        char err[256] = "";
        CHECK(store->conversion_create(store, &rec, NULL, err, sizeof err) == FE_STORE_OK);
        static const enum fe_conversion_status finished[] = {FE_CONV_SUCCEEDED, FE_CONV_FAILED,
                                                             FE_CONV_CANCELLED, FE_CONV_RUNNING};
        rec.status = finished[i % 4];
        rec.progress = rec.status == FE_CONV_SUCCEEDED ? 100 : i % 100;
        if (rec.status == FE_CONV_SUCCEEDED) {
            snprintf(rec.output_uri, sizeof rec.output_uri, "file:///srv/out/c%03d.rrasset", i);
        } else if (rec.status != FE_CONV_RUNNING) {
            snprintf(rec.error_code, sizeof rec.error_code, "InvalidInput");
            snprintf(rec.error_message, sizeof rec.error_message, "line %d: \"bad\"\n\tmodel", i);
        }
        CHECK(store->conversion_update(store, &rec, FE_CONV_NOT_STARTED) == FE_STORE_OK);
    }
    static const enum fe_session_status states[] = {FE_SESSION_READY, FE_SESSION_ERROR,
                                                    FE_SESSION_STOPPED, FE_SESSION_EXPIRED};
    for (size_t i = 0; i < 4; i++) {
        struct fe_session_record rec;
        memset(&rec, 0, sizeof rec);
        snprintf(rec.account_id, sizeof rec.account_id, "%s", ACCOUNT_B);
        snprintf(rec.id, sizeof rec.id, "s%zu", i);
        rec.size = i % 2 == 0 ? FE_SIZE_STANDARD : FE_SIZE_PREMIUM;
        rec.status = FE_SESSION_STARTING;
        rec.create_lease_minutes = rec.max_lease_minutes = 30;
        snprintf(rec.backend, sizeof rec.backend, "local");
        snprintf(rec.inspector_token, sizeof rec.inspector_token, "%s", STORED_INSPECTOR);
        char err[256] = "";
        CHECK(store->session_create(store, &rec, NULL, err, sizeof err) == FE_STORE_OK);
        int64_t now = (int64_t)time(NULL);
        rec.status = states[i];
        snprintf(rec.hostname, sizeof rec.hostname, "127.0.0.1");
        rec.handshake_port = 49152;
        rec.transport_port = 49153;
        rec.inspector_port = 49154;
        rec.ready_at = now - 600;
        rec.ended_at = states[i] == FE_SESSION_READY ? 0 : now - 60;
        if (states[i] == FE_SESSION_ERROR) {
            snprintf(rec.error_code, sizeof rec.error_code, "HostExited");
            snprintf(rec.error_message, sizeof rec.error_message, "openrr-host exited: \"x\"");
        }
        CHECK(store->session_update(store, &rec, FE_SESSION_STARTING) == FE_STORE_OK);
    }
}

/* Changes when another connection (the store's) committed since the last call. */
static int64_t read_data_version(void)
{
    sqlite3_stmt *st = NULL;
    CHECK(sqlite3_prepare_v2(reset_db, "PRAGMA data_version", -1, &st, NULL) == SQLITE_OK);
    CHECK(sqlite3_step(st) == SQLITE_ROW);
    int64_t v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

/* Every input starts from the same records: what the API wrote (A's creates, and B's too: a
 * PATCH or :stop of its Ready session, a create under its token) is undone. */
static void restore_records(void)
{
    if (read_data_version() == data_version) {
        return;
    }
    CHECK(sqlite3_exec(reset_db,
                       "BEGIN IMMEDIATE;"
                       "DELETE FROM main.conversions; DELETE FROM main.sessions;"
                       "INSERT INTO main.conversions SELECT * FROM temp.conversions_b;"
                       "INSERT INTO main.sessions SELECT * FROM temp.sessions_b;"
                       "COMMIT;",
                       NULL, NULL, NULL) == SQLITE_OK);
    data_version = read_data_version();
}

static char *issue(struct fe_sts *s, const char *account, unsigned role)
{
    char *token = NULL;
    char err[256] = "";
    CHECK(fe_sts_issue(s, account, role, &token, NULL, err, sizeof err) == RR_JWT_OK);
    return token;
}

/* The last 24 characters of a token: its signature, which no other text shares. */
static const char *token_needle(const char *token)
{
    size_t n = strlen(token);
    return n > 24 ? token + n - 24 : token;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fe_log_configure(false, FE_LOG_ERROR);
    verbose = getenv("FUZZ_VERBOSE") != NULL;
    fuzz_tmpdir_make("fuzz_fe_rest", tmp_dir);
    atexit(cleanup);
    make_dir("storage");
    make_dir("storage/in");
    make_dir("storage/out");
    make_dir("outside");
    make_dir("other-sts");
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/storage/in/model.gltf", tmp_dir);
    FILE *f = fopen(path, "w");
    CHECK(f != NULL && fputs("{}", f) >= 0 && fclose(f) == 0);
    /* A link out of the root: file:// containers through it must be refused. */
    char target[PATH_MAX];
    snprintf(target, sizeof target, "%s/outside", tmp_dir);
    snprintf(path, sizeof path, "%s/storage/escape", tmp_dir);
    CHECK(symlink(target, path) == 0);
    snprintf(path, sizeof path, "%s/storage", tmp_dir);
    CHECK(realpath(path, storage_root) != NULL);

    fe_config_defaults(&cfg);
    free(cfg.data_dir);
    cfg.data_dir = strdup(tmp_dir);
    cfg.storage_root = strdup(storage_root);
    cfg.max_queued_conversions = 2;
    cfg.max_sessions = 3; /* B's Ready session and two of A's */
    char err[512] = "";
    snprintf(path, sizeof path, "%s/openrr.db", tmp_dir);
    CHECK(fe_store_sqlite_open(path, &store, err, sizeof err) == FE_STORE_OK);
    CHECK(sqlite3_open_v2(path, &reset_db, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK);
    sqlite3_busy_timeout(reset_db, 5000);

    struct fe_key_record keys[2];
    add_key(&keys[0], "primary", KEY_A, FE_ROLE_ADMINISTRATOR);
    add_key(&keys[1], "device", KEY_A_CLIENT, FE_ROLE_CLIENT);
    create_account(ACCOUNT_A, keys, 2);
    add_key(&keys[0], "primary", KEY_B, FE_ROLE_ADMINISTRATOR);
    create_account(ACCOUNT_B, keys, 1);
    populate_other();
    CHECK(sqlite3_exec(reset_db,
                       "CREATE TEMP TABLE conversions_b AS SELECT * FROM main.conversions;"
                       "CREATE TEMP TABLE sessions_b AS SELECT * FROM main.sessions;",
                       NULL, NULL, NULL) == SQLITE_OK);
    data_version = read_data_version();

    struct fe_sts_options so = {
        .data_dir = tmp_dir,
        .alg = "ES256",
        .domain = cfg.domain,
        .region = cfg.region,
        .lifetime_s = TOKEN_LIFETIME,
    };
    CHECK(fe_sts_open(&so, &sts, err, sizeof err));
    token_admin = issue(sts, ACCOUNT_A, RR_JWT_ROLE_ADMINISTRATOR);
    token_client = issue(sts, ACCOUNT_A, RR_JWT_ROLE_CLIENT);
    token_other = issue(sts, ACCOUNT_B, RR_JWT_ROLE_ADMINISTRATOR);
    fe_sts_set_clock(sts, long_ago, NULL);
    token_expired = issue(sts, ACCOUNT_A, RR_JWT_ROLE_ADMINISTRATOR);
    fe_sts_set_clock(sts, NULL, NULL);
    struct fe_sts *other = NULL;
    snprintf(path, sizeof path, "%s/other-sts", tmp_dir);
    so.data_dir = path;
    CHECK(fe_sts_open(&so, &other, err, sizeof err));
    token_forged = issue(other, ACCOUNT_A, RR_JWT_ROLE_ADMINISTRATOR);
    fe_sts_destroy(&other);
    v_admin = token_admin;
    v_client = token_client;
    v_othertoken = token_other;
    v_expired = token_expired;
    v_forged = token_forged;

    snprintf(path, sizeof path, "%s/ca", tmp_dir);
    CHECK(fe_ca_open(path, &ca, err, sizeof err));
    metrics = fe_metrics_create(FE_API_ROUTES, FE_API_ROUTE_COUNT);
    CHECK(metrics != NULL);
    struct fe_api_deps deps = {
        .cfg = &cfg,
        .store = store,
        .sts = sts,
        .ca = ca,
        .metrics = metrics,
    };
    CHECK(fe_api_create(&deps, &api, err, sizeof err));

    static const char *const fixed[] = {KEY_A, KEY_A_CLIENT, KEY_B, STORED_SAS, STORED_INSPECTOR};
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) {
        secrets[secret_count++] = fixed[i];
    }
    secrets[secret_count++] = token_needle(token_admin);
    secrets[secret_count++] = token_needle(token_client);
    secrets[secret_count++] = token_needle(token_other);
    secrets[secret_count++] = token_needle(token_expired);
    secrets[secret_count++] = token_needle(token_forged);
    return 0;
}

/* ---- the input --------------------------------------------------------------------------- */

struct buf {
    char *p;
    size_t len, cap;
};

static void buf_add(struct buf *b, const void *p, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1) {
            cap *= 2;
        }
        char *grown = realloc(b->p, cap);
        CHECK(grown != NULL);
        b->p = grown;
        b->cap = cap;
    }
    memcpy(b->p + b->len, p, n);
    b->len += n;
    b->p[b->len] = '\0';
}

/* The input with its placeholders replaced (binary-safe, NUL-terminated). */
static char *expand(const uint8_t *data, size_t size, size_t *out_len)
{
    struct buf b = {0};
    buf_add(&b, "", 0);
    size_t i = 0;
    while (i < size) {
        const uint8_t *at = memchr(data + i, '@', size - i);
        size_t plain = at != NULL ? (size_t)(at - (data + i)) : size - i;
        buf_add(&b, data + i, plain);
        i += plain;
        if (i == size) {
            break;
        }
        bool replaced = false;
        for (size_t k = 0; k < PLACEHOLDER_COUNT && b.len < MAX_EXPANDED; k++) {
            size_t n = strlen(PLACEHOLDERS[k].name);
            if (size - i >= n && memcmp(data + i, PLACEHOLDERS[k].name, n) == 0) {
                buf_add(&b, *PLACEHOLDERS[k].value, strlen(*PLACEHOLDERS[k].value));
                i += n;
                replaced = true;
                break;
            }
        }
        if (!replaced) {
            buf_add(&b, "@", 1);
            i++;
        }
    }
    *out_len = b.len;
    return b.p;
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

/* libmicrohttpd's unescaping: valid %XX decoded (a %00 ends the C string), others kept;
 * query arguments also turn '+' into ' '. */
static char *unescape(const char *s, size_t n, bool plus)
{
    char *out = malloc(n + 1);
    CHECK(out != NULL);
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%' && i + 2 < n && hex_digit(s[i + 1]) >= 0 && hex_digit(s[i + 2]) >= 0) {
            out[o++] = (char)(hex_digit(s[i + 1]) * 16 + hex_digit(s[i + 2]));
            i += 2;
        } else {
            out[o++] = plus && s[i] == '+' ? ' ' : s[i];
        }
    }
    out[o] = '\0';
    return out;
}

static char *copy_str(const char *s, size_t n)
{
    char *out = strndup(s, n); /* a NUL inside ends it, as in a C string from the server */
    CHECK(out != NULL);
    return out;
}

struct request {
    char *method;
    char *path;
    char *body;
    size_t body_len;
    char cv[FE_CV_SIZE];
    struct MHD_Connection conn;
    struct fe_http_request req;
};

static void request_free(struct request *r)
{
    free(r->method);
    free(r->path);
    free(r->body);
    for (size_t i = 0; i < r->conn.header_count; i++) {
        free(r->conn.headers[i].name);
        free(r->conn.headers[i].value);
    }
    for (size_t i = 0; i < r->conn.arg_count; i++) {
        free(r->conn.args[i].name);
        free(r->conn.args[i].value);
    }
}

/* One line of [p, end): its length without the '\n' (and a '\r' before it); *next after it. */
static size_t line_of(const char *p, const char *end, const char **next)
{
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    const char *stop = nl != NULL ? nl : end;
    *next = nl != NULL ? nl + 1 : end;
    size_t n = (size_t)(stop - p);
    if (n > 0 && p[n - 1] == '\r') {
        n--;
    }
    return n;
}

static void parse_query(struct request *r, const char *q, size_t n)
{
    const char *end = q + n;
    while (q < end && r->conn.arg_count < MAX_FIELDS) {
        const char *amp = memchr(q, '&', (size_t)(end - q));
        const char *stop = amp != NULL ? amp : end;
        const char *eq = memchr(q, '=', (size_t)(stop - q));
        if (stop > q) {
            struct field *f = &r->conn.args[r->conn.arg_count++];
            f->name = unescape(q, (size_t)((eq != NULL ? eq : stop) - q), true);
            f->value = eq != NULL ? unescape(eq + 1, (size_t)(stop - eq - 1), true) : NULL;
        }
        q = amp != NULL ? amp + 1 : end;
    }
}

static void parse_request(struct request *r, const char *p, size_t size)
{
    memset(r, 0, sizeof *r);
    const char *end = p + size;
    const char *next;
    size_t n = line_of(p, end, &next);
    const char *sp = memchr(p, ' ', n);
    r->method = copy_str(p, sp != NULL ? (size_t)(sp - p) : n);
    const char *target = sp != NULL ? sp + 1 : p + n;
    const char *target_end = p + n;
    const char *sp2 = memchr(target, ' ', (size_t)(target_end - target)); /* " HTTP/1.1" */
    if (sp2 != NULL) {
        target_end = sp2;
    }
    const char *qm = memchr(target, '?', (size_t)(target_end - target));
    r->path = unescape(target, (size_t)((qm != NULL ? qm : target_end) - target), false);
    if (qm != NULL) {
        parse_query(r, qm + 1, (size_t)(target_end - qm - 1));
    }
    p = next;
    while (p < end) {
        n = line_of(p, end, &next);
        if (n == 0) {
            p = next;
            break;
        }
        const char *colon = memchr(p, ':', n);
        if (colon != NULL && colon > p && r->conn.header_count < MAX_FIELDS) {
            const char *v = colon + 1;
            const char *v_end = p + n;
            while (v < v_end && (*v == ' ' || *v == '\t')) {
                v++;
            }
            while (v_end > v && (v_end[-1] == ' ' || v_end[-1] == '\t')) {
                v_end--;
            }
            struct field *f = &r->conn.headers[r->conn.header_count++];
            f->name = copy_str(p, (size_t)(colon - p));
            f->value = copy_str(v, (size_t)(v_end - v));
        }
        p = next;
    }
    r->body_len = (size_t)(end - p);
    r->body = malloc(r->body_len + 1);
    CHECK(r->body != NULL);
    memcpy(r->body, p, r->body_len);
    r->body[r->body_len] = '\0';

    /* fe_http's choice of the correlation vector. */
    const char *cv = MHD_lookup_connection_value(&r->conn, MHD_HEADER_KIND, "MS-CV");
    if (!fe_http_cv_valid(cv)) {
        cv = MHD_lookup_connection_value(&r->conn, MHD_HEADER_KIND, "X-MRC-CV");
    }
    if (fe_http_cv_valid(cv)) {
        snprintf(r->cv, sizeof r->cv, "%s", cv);
    } else {
        fe_http_cv_generate(r->cv);
    }
    CHECK(fe_http_cv_valid(r->cv));

    r->req.method = r->method;
    r->req.path = r->path;
    r->req.body = r->body;
    r->req.body_len = r->body_len;
    r->req.cv = r->cv;
    r->req.scheme = "http";
    r->req.peer = "127.0.0.1";
    r->req.authority = "127.0.0.1:8710";
    r->req.connection = &r->conn;
}

/* ---- properties of an answer ------------------------------------------------------------- */

static bool contains(const char *hay, size_t hay_len, const char *needle)
{
    size_t n = strlen(needle);
    return n > 0 && hay != NULL && memmem(hay, hay_len, needle, n) != NULL;
}

/* Whether @p needle is in the request outside its Authorization header. */
static bool request_holds(const struct request *r, const char *needle)
{
    if (contains(r->path, strlen(r->path), needle) || contains(r->body, r->body_len, needle)) {
        return true;
    }
    for (size_t i = 0; i < r->conn.header_count; i++) {
        const struct field *f = &r->conn.headers[i];
        if (strcasecmp(f->name, "Authorization") != 0 &&
            (contains(f->name, strlen(f->name), needle) ||
             contains(f->value, strlen(f->value), needle))) {
            return true;
        }
    }
    for (size_t i = 0; i < r->conn.arg_count; i++) {
        const struct field *f = &r->conn.args[i];
        if (contains(f->name, strlen(f->name), needle) ||
            (f->value != NULL && contains(f->value, strlen(f->value), needle))) {
            return true;
        }
    }
    return false;
}

static bool json_has_key(json_t *j, const char *key)
{
    const char *k;
    json_t *v;
    size_t i;
    if (json_is_object(j)) {
        json_object_foreach(j, k, v)
        {
            if (strcmp(k, key) == 0 || json_has_key(v, key)) {
                return true;
            }
        }
    } else if (json_is_array(j)) {
        json_array_foreach(j, i, v)
        {
            if (json_has_key(v, key)) {
                return true;
            }
        }
    }
    return false;
}

/* Whether a string or key anywhere in @p j contains @p needle. */
static bool json_text_has(json_t *j, const char *needle)
{
    const char *k;
    json_t *v;
    size_t i;
    if (json_is_string(j)) {
        return contains(json_string_value(j), json_string_length(j), needle);
    }
    if (json_is_object(j)) {
        json_object_foreach(j, k, v)
        {
            if (contains(k, strlen(k), needle) || json_text_has(v, needle)) {
                return true;
            }
        }
    } else if (json_is_array(j)) {
        json_array_foreach(j, i, v)
        {
            if (json_text_has(v, needle)) {
                return true;
            }
        }
    }
    return false;
}

static const char *header_of(const struct fe_http_response *resp, const char *name)
{
    for (size_t i = 0; i < resp->header_count; i++) {
        if (strcasecmp(resp->headers[i].name, name) == 0) {
            return resp->headers[i].value;
        }
    }
    return NULL;
}

static bool is_json(const struct fe_http_response *resp)
{
    return resp->body != NULL &&
           (resp->content_type == NULL || strncmp(resp->content_type, "application/json", 16) == 0);
}

/* {"error":{"code","message","target"?,"details":[]}} and nothing else. */
static void check_error_object(const struct fe_http_response *resp, json_t *j)
{
    json_t *e = json_object_get(j, "error");
    CHECK(json_is_object(j) && json_object_size(j) == 1 && json_is_object(e));
    json_t *code = json_object_get(e, "code");
    json_t *message = json_object_get(e, "message");
    json_t *target = json_object_get(e, "target");
    json_t *details = json_object_get(e, "details");
    CHECK(json_is_string(code) && resp->error_code[0] != '\0' &&
          strcmp(json_string_value(code), resp->error_code) == 0);
    CHECK(json_is_string(message) && json_string_length(message) > 0);
    CHECK(target == NULL || json_is_string(target));
    CHECK(json_is_array(details) && json_array_size(details) == 0);
    CHECK(json_object_size(e) == (target != NULL ? 4u : 3u));
}

static bool route_is(const struct fe_http_response *resp, const char *name)
{
    return resp->route_name != NULL && strcmp(resp->route_name, name) == 0;
}

#define CONV_PUT "PUT /accounts/{a}/conversions/{id}"
#define SESSION_PUT "PUT /accounts/{a}/sessions/{id}"

/* Whether @p s is in the path, a query argument or a header other than Authorization. */
static bool outside_body(const struct request *r, const char *s)
{
    if (contains(r->path, strlen(r->path), s)) {
        return true;
    }
    for (size_t i = 0; i < r->conn.header_count; i++) {
        const struct field *f = &r->conn.headers[i];
        if (strcasecmp(f->name, "Authorization") != 0 && contains(f->value, strlen(f->value), s)) {
            return true;
        }
    }
    for (size_t i = 0; i < r->conn.arg_count; i++) {
        const struct field *f = &r->conn.args[i];
        if (f->value != NULL && contains(f->value, strlen(f->value), s)) {
            return true;
        }
    }
    return false;
}

/* A SAS member of a conversion create's body that the request holds nowhere else: an error
 * answer must not repeat it (docs/openrrd.md: "A message never repeats a container URI (a
 * misplaced SAS would be echoed)"). Only SAS with "sig=" in them are followed, so that no
 * fixed text of a message can match. */
static void check_sas_not_echoed(const struct request *r, json_t *answer)
{
    static const char *const where[2][2] = {{"inputLocation", "storageContainerReadListSas"},
                                            {"outputLocation", "storageContainerWriteSas"}};
    char *sas[2] = {NULL, NULL};
    json_t *body = json_loadb(r->body, r->body_len, JSON_REJECT_DUPLICATES, NULL);
    json_t *settings = json_object_get(body, "settings");
    for (size_t i = 0; i < 2; i++) {
        json_t *loc = json_object_get(settings, where[i][0]);
        const char *v = json_string_value(json_object_get(loc, where[i][1]));
        if (v != NULL && strstr(v, "sig=") != NULL && strlen(v) >= 8) {
            sas[i] = strdup(v[0] == '?' ? v + 1 : v);
            CHECK(sas[i] != NULL);
        }
        if (json_is_object(loc)) {
            json_object_del(loc, where[i][1]);
        }
    }
    /* What is left of the body, also percent-decoded (file:// paths are decoded in messages). */
    char *rest = body != NULL ? json_dumps(body, JSON_COMPACT | JSON_ENCODE_ANY) : strdup("");
    CHECK(rest != NULL);
    char *decoded = unescape(rest, strlen(rest), false);
    for (size_t i = 0; i < 2; i++) {
        if (sas[i] == NULL || json_text_has(body, sas[i]) || strstr(decoded, sas[i]) != NULL ||
            outside_body(r, sas[i]) || (sas[1 - i] != NULL && strstr(sas[1 - i], sas[i]) != NULL)) {
            continue;
        }
        if (json_text_has(answer, sas[i])) {
            fprintf(stderr, "a SAS of the request is in the answer\n");
            CHECK(!"an error answer repeats a SAS");
        }
    }
    free(decoded);
    free(rest);
    free(sas[0]);
    free(sas[1]);
    json_decref(body);
}

/* The id of a /accounts/{a}/{conversions|sessions}/{id} path, or NULL. */
static const char *path_id(const char *path, char *out, size_t size)
{
    const char *p = path;
    for (int i = 0; i < 3 && p != NULL; i++) {
        p = strchr(p + 1, '/');
    }
    if (p == NULL) {
        return NULL;
    }
    const char *end = strchr(p + 1, '/');
    size_t n = end != NULL ? (size_t)(end - p - 1) : strlen(p + 1);
    if (n >= size) {
        return NULL;
    }
    memcpy(out, p + 1, n);
    out[n] = '\0';
    return out;
}

static json_t *check_answer(const struct request *r, const struct fe_http_response *resp)
{
    if (resp->status == 500 || resp->status == 0) {
        fprintf(stderr, "status %u, body: %s\n", resp->status,
                resp->body != NULL ? resp->body : "(none)");
    }
    CHECK(resp->status != 0);
    CHECK(resp->status >= 100 && resp->status <= 599);
    CHECK(resp->status != 500);
    CHECK(resp->route < FE_API_ROUTE_COUNT && resp->route_name == FE_API_ROUTES[resp->route]);
    CHECK(resp->body != NULL ? resp->body_len == strlen(resp->body) : resp->body_len == 0);
    CHECK(resp->header_count <= FE_HTTP_MAX_HEADERS);
    for (size_t i = 0; i < resp->header_count; i++) {
        CHECK(resp->headers[i].name[0] != '\0');
        CHECK(strpbrk(resp->headers[i].value, "\r\n") == NULL);
    }
    CHECK(resp->status != 401 || header_of(resp, "WWW-Authenticate") != NULL);
    CHECK(resp->status != 405 || header_of(resp, "Allow") != NULL);
    CHECK(resp->status != 429 || header_of(resp, "Retry-After") != NULL);
    CHECK(memchr(resp->error_code, '\0', sizeof resp->error_code) != NULL);
    CHECK(memchr(resp->account, '\0', sizeof resp->account) != NULL);
    CHECK(memchr(resp->note, '\0', sizeof resp->note) != NULL);

    for (size_t i = 0; i < secret_count; i++) {
        bool answered = contains(resp->body, resp->body_len, secrets[i]);
        for (size_t h = 0; h < resp->header_count; h++) {
            answered = answered || strstr(resp->headers[h].value, secrets[i]) != NULL;
        }
        if (answered && !request_holds(r, secrets[i])) {
            fprintf(stderr, "secret #%zu is in the answer: %s\n", i, resp->body);
            CHECK(!"a key, token or stored secret is answered");
        }
    }

    json_t *j = NULL;
    if (is_json(resp)) {
        json_error_t e;
        j = json_loadb(resp->body, resp->body_len, JSON_REJECT_DUPLICATES, &e);
        if (j == NULL) {
            fprintf(stderr, "not JSON (%s): %s\n", e.text, resp->body);
        }
        CHECK(j != NULL);
        CHECK(!json_has_key(j, "storageContainerReadListSas"));
        CHECK(!json_has_key(j, "storageContainerWriteSas"));
    }
    if (resp->status >= 400 && resp->status != 503) {
        CHECK(j != NULL);
        check_error_object(resp, j);
        if (route_is(resp, CONV_PUT)) {
            check_sas_not_echoed(r, j);
        }
    } else {
        CHECK(resp->error_code[0] == '\0');
    }
    if (resp->status == 201) {
        char id[FE_ID_SIZE];
        CHECK(j != NULL && path_id(r->path, id, sizeof id) != NULL);
        CHECK(json_is_string(json_object_get(j, "id")) &&
              strcmp(json_string_value(json_object_get(j, "id")), id) == 0);
    }
    return j;
}

/* ---- one input --------------------------------------------------------------------------- */

static void answer(struct request *r, struct fe_http_response *resp)
{
    memset(resp, 0, sizeof *resp);
    resp->route = SIZE_MAX;
    fe_api_handle(api, &r->req, resp);
}

static void run_request(struct request *r)
{
    struct fe_http_response resp;
    answer(r, &resp);
    if (verbose) {
        fprintf(stderr, "%s %s -> %u %s\n", r->method, r->path, resp.status,
                resp.body != NULL && resp.body_len < 600 ? resp.body : "(long)");
    }
    json_t *j = check_answer(r, &resp);
    if (resp.status == 201 && (route_is(&resp, CONV_PUT) || route_is(&resp, SESSION_PUT))) {
        /* The same create again: the same object, 200 (docs/openrrd.md). */
        struct fe_http_response again;
        answer(r, &again);
        json_t *j2 = check_answer(r, &again);
        CHECK(again.status == 200);
        static const char *const kept[] = {"id", "settings", "size", "maxLeaseTimeMinutes"};
        for (size_t i = 0; i < sizeof kept / sizeof kept[0]; i++) {
            json_t *a = json_object_get(j, kept[i]), *b = json_object_get(j2, kept[i]);
            CHECK(a == NULL ? b == NULL : json_equal(a, b));
        }
        json_decref(j2);
        free(again.body);
    }
    json_decref(j);
    fe_api_done(api, &resp, 1000);
    free(resp.body);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t len = 0;
    char *text = expand(data, size, &len);
    const char *p = text;
    const char *end = text + len;
    for (int i = 0; i < MAX_REQUESTS && p < end; i++) {
        const char *sep = memmem(p, (size_t)(end - p), "\n===\n", 5);
        const char *stop = sep != NULL ? sep : end;
        struct request r;
        parse_request(&r, p, (size_t)(stop - p));
        run_request(&r);
        request_free(&r);
        p = sep != NULL ? sep + 5 : end;
    }
    free(text);
    restore_records();
    return 0;
}
