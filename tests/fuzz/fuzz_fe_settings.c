/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_fe_settings — libFuzzer target for the settings openrrd reads and the small text forms
 * in them: a conversion's settings (src/frontend/fe_conv_settings.c), the service's
 * configuration (fe_config.c), and keys, GUIDs, credentials and base64url (fe_keys.c). The
 * first byte picks what the rest is:
 *   0  a conversion's "settings" JSON, given to fe_conv_settings_parse and
 *      fe_conv_check_settings (storage root: a temporary directory with in/, out/ and a link
 *      out of it). A parse that succeeds holds exactly what the JSON says (defaults where it is
 *      silent), within the documented bounds, and the canonical form the API stores (known
 *      members only, keys sorted) parses to the same; a check that succeeds implies the parse
 *      did and its file:// containers are directories under the root; a refusal names a
 *      "settings…" target and says why in valid UTF-8 without control characters (it becomes
 *      a JSON string), never repeating a SAS that holds "sig=";
 *   1  a string for the path and URL helpers, each compared with a plain restatement of its
 *      rule: fe_conv_relative_ok, fe_conv_percent_decode, fe_conv_url_append (with and without
 *      keeping escapes; fits exactly when the whole result does, decodes back to the input),
 *      fe_conv_file_uri_path, fe_conv_sanitize_text (valid UTF-8 after, same length, only
 *      offending bytes replaced, valid text unchanged), fe_conv_redact_url,
 *      fe_conv_under_root and fe_conv_format_bytes;
 *   2  an INI file for fe_config_load_file, then fe_config_finish: a loaded configuration
 *      keeps every documented bound, and every `key = value` line given to fe_config_set
 *      alone never puts the value in the error message (it could be a secret);
 *   3  a string for fe_keys: fe_b64url_decode against a restatement (alphabet, length, zero
 *      spare bits, room) and encode ∘ decode = identity both ways, fe_key_well_formed,
 *      fe_guid_well_formed and fe_credential_split against theirs, fe_key_match's index.
 * Single-threaded: libFuzzer calls LLVMFuzzerTestOneInput from one thread.
 */
#include "fe_config.h"
#include "fe_conv.h"
#include "fe_conv_internal.h"
#include "fe_keys.h"
#include "fe_log.h"

#include "fuzz_check.h"
#include "fuzz_tmpdir.h"

#include <jansson.h>

#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char tmp_dir[PATH_MAX];
static char storage_root[PATH_MAX];
static char ini_path[PATH_MAX];
static struct fe_config cfg;

static void cleanup(void)
{
    fe_config_clear(&cfg);
    fuzz_tmpdir_remove(tmp_dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fe_log_configure(false, FE_LOG_ERROR);
    fuzz_tmpdir_make("fuzz_fe_settings", tmp_dir);
    atexit(cleanup);
    static const char *const dirs[] = {"storage", "storage/in", "storage/out", "storage/in/sub",
                                       "outside"};
    char path[PATH_MAX], target[PATH_MAX];
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", tmp_dir, dirs[i]);
        CHECK(mkdir(path, 0700) == 0);
    }
    snprintf(target, sizeof target, "%s/outside", tmp_dir);
    snprintf(path, sizeof path, "%s/storage/escape", tmp_dir);
    CHECK(symlink(target, path) == 0);
    snprintf(path, sizeof path, "%s/storage/in/file.fbx", tmp_dir);
    FILE *f = fopen(path, "w");
    CHECK(f != NULL && fclose(f) == 0);
    snprintf(path, sizeof path, "%s/storage", tmp_dir);
    CHECK(realpath(path, storage_root) != NULL);
    snprintf(ini_path, sizeof ini_path, "%s/openrrd.ini", tmp_dir);
    fe_config_defaults(&cfg);
    cfg.storage_root = strdup(storage_root);
    CHECK(cfg.storage_root != NULL);
    return 0;
}

/* The bytes up to the first NUL (or all of them) as a C string, as the callers would hold
 * them. Not strndup: the input has no NUL of its own, and strict_string_checks reads to one. */
static char *c_string(const uint8_t *data, size_t size)
{
    const uint8_t *nul = memchr(data, '\0', size);
    size_t n = nul != NULL ? (size_t)(nul - data) : size;
    char *s = malloc(n + 1);
    CHECK(s != NULL);
    memcpy(s, data, n);
    s[n] = '\0';
    return s;
}

/* ---- plain restatements ------------------------------------------------------------------ */

/* Valid UTF-8 (RFC 3629: shortest form, no surrogates, at most U+10FFFF) without control
 * characters. */
static bool clean_utf8(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p != '\0') {
        uint32_t cp;
        size_t n;
        if (*p < 0x80) {
            cp = *p;
            n = 1;
        } else if (*p >= 0xc2 && *p <= 0xdf) {
            cp = *p & 0x1fu;
            n = 2;
        } else if (*p >= 0xe0 && *p <= 0xef) {
            cp = *p & 0x0fu;
            n = 3;
        } else if (*p >= 0xf0 && *p <= 0xf4) {
            cp = *p & 0x07u;
            n = 4;
        } else {
            return false;
        }
        for (size_t i = 1; i < n; i++) {
            if ((p[i] & 0xc0) != 0x80) {
                return false;
            }
            cp = cp << 6 | (p[i] & 0x3fu);
        }
        if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
            (cp >= 0xd800 && cp <= 0xdfff) || cp < 0x20 || cp == 0x7f) {
            return false;
        }
        p += n;
    }
    return true;
}

static int hex_value(int c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    c = tolower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* %XX decoding; false for a malformed escape or %00. */
static bool decode(const char *s, char *out)
{
    size_t o = 0;
    for (size_t i = 0; s[i] != '\0'; i++) {
        if (s[i] != '%') {
            out[o++] = s[i];
            continue;
        }
        int hi = hex_value((unsigned char)s[i + 1]);
        int lo = hi >= 0 ? hex_value((unsigned char)s[i + 2]) : -1;
        if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
            return false;
        }
        out[o++] = (char)(hi * 16 + lo);
        i += 2;
    }
    out[o] = '\0';
    return true;
}

static bool relative_ok(const char *p)
{
    if (p[0] == '\0' || p[0] == '/') {
        return false;
    }
    for (const unsigned char *c = (const unsigned char *)p; *c != '\0'; c++) {
        if (*c < 0x20 || *c == 0x7f) {
            return false;
        }
    }
    size_t n = strlen(p);
    for (size_t i = 0; i + 1 < n; i++) {
        bool starts = i == 0 || p[i - 1] == '/';
        bool ends = i + 2 == n || p[i + 2] == '/';
        if (starts && ends && p[i] == '.' && p[i + 1] == '.') {
            return false;
        }
    }
    return true;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static bool same(const char *a, const char *b)
{
    return a == NULL ? b == NULL : b != NULL && strcmp(a, b) == 0;
}

/* ---- 0: a conversion's settings ---------------------------------------------------------- */

static const char *member(json_t *root, const char *loc, const char *name)
{
    return json_string_value(json_object_get(json_object_get(root, loc), name));
}

/* What the settings say of a member: its string, "" for the prefixes when absent. */
static void check_parsed(json_t *root, const struct fe_conv_settings *s)
{
    CHECK(s->in_container && s->in_path && s->in_prefix && s->out_container && s->out_prefix &&
          s->out_filename && s->in_joined && s->out_joined);
    CHECK(same(s->in_container, member(root, "inputLocation", "storageContainerUri")));
    CHECK(same(s->in_path, member(root, "inputLocation", "relativeInputAssetPath")));
    const char *v = member(root, "inputLocation", "blobPrefix");
    CHECK(strcmp(s->in_prefix, v != NULL ? v : "") == 0);
    CHECK(same(s->out_container, member(root, "outputLocation", "storageContainerUri")));
    v = member(root, "outputLocation", "blobPrefix");
    CHECK(strcmp(s->out_prefix, v != NULL ? v : "") == 0);
    static const char *const sas[2][2] = {{"inputLocation", "storageContainerReadListSas"},
                                          {"outputLocation", "storageContainerWriteSas"}};
    for (size_t i = 0; i < 2; i++) {
        const char *got = i == 0 ? s->in_sas : s->out_sas;
        v = member(root, sas[i][0], sas[i][1]);
        if (v != NULL && v[0] == '?') {
            v++;
        }
        CHECK(same(got, v != NULL && v[0] != '\0' ? v : NULL));
        CHECK(got == NULL || strpbrk(got, " #") == NULL);
        CHECK(got == NULL || strlen(got) <= 8192);
    }
    v = member(root, "outputLocation", "outputAssetFilename");
    if (v != NULL) {
        CHECK(strcmp(s->out_filename, v) == 0);
    } else {
        /* The input's name with its last extension replaced. */
        const char *name =
            strrchr(s->in_path, '/') != NULL ? strrchr(s->in_path, '/') + 1 : s->in_path;
        const char *dot = strrchr(name, '.');
        size_t stem = dot != NULL && dot != name ? (size_t)(dot - name) : strlen(name);
        CHECK(strncmp(s->out_filename, name, stem) == 0 &&
              strcmp(s->out_filename + stem, ".rrasset") == 0);
    }
    /* Bounds and the joined paths. */
    CHECK(strlen(s->in_container) <= 2048 && strlen(s->out_container) <= 2048);
    CHECK(strlen(s->in_path) <= 1024 && strlen(s->in_prefix) <= 1024);
    CHECK(strlen(s->in_joined) <= 1024 && strlen(s->out_joined) <= 1024);
    CHECK(strncmp(s->in_joined, s->in_prefix, strlen(s->in_prefix)) == 0 &&
          strcmp(s->in_joined + strlen(s->in_prefix), s->in_path) == 0);
    CHECK(strncmp(s->out_joined, s->out_prefix, strlen(s->out_prefix)) == 0 &&
          strcmp(s->out_joined + strlen(s->out_prefix), s->out_filename) == 0);
    CHECK(relative_ok(s->in_joined) && relative_ok(s->out_joined) && relative_ok(s->in_path));
    CHECK(s->in_path[strlen(s->in_path) - 1] != '/');
    CHECK(ends_with(s->out_filename, ".rrasset"));
    const char *base =
        strrchr(s->out_filename, '/') != NULL ? strrchr(s->out_filename, '/') + 1 : s->out_filename;
    CHECK(strcmp(base, ".rrasset") != 0 && strcmp(base, "..rrasset") != 0 &&
          strcmp(base, "...rrasset") != 0);
    /* Schemes. */
    const char *containers[2] = {s->in_container, s->out_container};
    bool files[2] = {s->in_is_file, s->out_is_file};
    for (size_t i = 0; i < 2; i++) {
        bool file = strncasecmp(containers[i], "file:", 5) == 0;
        CHECK(files[i] == file);
        CHECK(file || strncasecmp(containers[i], "http://", 7) == 0 ||
              strncasecmp(containers[i], "https://", 8) == 0);
        CHECK(strpbrk(containers[i], " ") == NULL && clean_utf8(containers[i]));
        char path[PATH_MAX];
        CHECK(!file || fe_conv_file_uri_path(containers[i], path, sizeof path));
    }
}

static void check_fields_equal(const struct fe_conv_settings *a, const struct fe_conv_settings *b)
{
    CHECK(same(a->in_container, b->in_container) && same(a->in_prefix, b->in_prefix) &&
          same(a->in_path, b->in_path) && same(a->in_sas, b->in_sas) &&
          same(a->out_container, b->out_container) && same(a->out_prefix, b->out_prefix) &&
          same(a->out_filename, b->out_filename) && same(a->out_sas, b->out_sas) &&
          same(a->in_joined, b->in_joined) && same(a->out_joined, b->out_joined) &&
          a->in_is_file == b->in_is_file && a->out_is_file == b->out_is_file);
}

/* The API's canonical settings: the known string members of each location, keys sorted. */
static char *canonical(json_t *root)
{
    static const char *const known[2][5] = {{"inputLocation", "storageContainerUri",
                                             "relativeInputAssetPath", "blobPrefix",
                                             "storageContainerReadListSas"},
                                            {"outputLocation", "storageContainerUri", "blobPrefix",
                                             "outputAssetFilename", "storageContainerWriteSas"}};
    json_t *c = json_object();
    CHECK(c != NULL);
    for (size_t i = 0; i < 2; i++) {
        json_t *loc = json_object_get(root, known[i][0]);
        json_t *out = json_object();
        CHECK(out != NULL);
        for (size_t k = 1; k < 5; k++) {
            json_t *v = json_object_get(loc, known[i][k]);
            if (json_is_string(v)) {
                CHECK(json_object_set(out, known[i][k], v) == 0);
            }
        }
        CHECK(json_object_set_new(c, known[i][0], out) == 0);
    }
    char *text = json_dumps(c, JSON_SORT_KEYS | JSON_COMPACT);
    CHECK(text != NULL);
    json_decref(c);
    return text;
}

static void check_refusal(const char *target, const char *message, json_t *root)
{
    CHECK(strncmp(target, "settings", 8) == 0);
    CHECK(message[0] != '\0');
    if (!clean_utf8(message)) {
        fprintf(stderr, "message: %s\n", message);
    }
    CHECK(clean_utf8(message));
    /* A SAS is never repeated unless the request holds it elsewhere. */
    static const char *const sas[2][2] = {{"inputLocation", "storageContainerReadListSas"},
                                          {"outputLocation", "storageContainerWriteSas"}};
    for (size_t i = 0; i < 2 && root != NULL; i++) {
        const char *v = member(root, sas[i][0], sas[i][1]);
        if (v == NULL || strstr(v, "sig=") == NULL || strlen(v) < 8) {
            continue;
        }
        char *dump = NULL;
        json_t *copy = json_deep_copy(root);
        CHECK(copy != NULL);
        json_object_del(json_object_get(copy, sas[0][0]), sas[0][1]);
        json_object_del(json_object_get(copy, sas[1][0]), sas[1][1]);
        dump = json_dumps(copy, JSON_COMPACT);
        CHECK(dump != NULL);
        char *decoded = malloc(strlen(dump) + 1);
        CHECK(decoded != NULL);
        bool elsewhere = strstr(dump, v) != NULL || (decode(dump, decoded) && strstr(decoded, v));
        for (size_t k = 0; k < 2; k++) {
            const char *w = member(root, sas[k][0], sas[k][1]);
            elsewhere = elsewhere || (k != i && w != NULL && strstr(w, v) != NULL);
        }
        CHECK(elsewhere || strstr(message, v) == NULL);
        free(decoded);
        free(dump);
        json_decref(copy);
    }
}

static void fuzz_conversion_settings(const char *json)
{
    char target[160], message[512];
    struct fe_conv_settings s;
    bool ok = fe_conv_settings_parse(json, &s, target, sizeof target, message, sizeof message);
    json_t *root = json_loads(json, JSON_REJECT_DUPLICATES, NULL);
    static const struct fe_conv_settings zero;
    if (ok) {
        CHECK(target[0] == '\0' && message[0] == '\0');
        CHECK(root != NULL);
        check_parsed(root, &s);
        char *canon = canonical(root);
        struct fe_conv_settings c;
        char t2[160], m2[512];
        CHECK(fe_conv_settings_parse(canon, &c, t2, sizeof t2, m2, sizeof m2));
        check_fields_equal(&s, &c);
        fe_conv_settings_clear(&c);
        free(canon);
        fe_conv_settings_clear(&s);
    } else {
        check_refusal(target, message, root);
    }
    CHECK(memcmp(&s, &zero, sizeof s) == 0);

    bool checked =
        fe_conv_check_settings(&cfg, json, target, sizeof target, message, sizeof message);
    CHECK(!checked || ok);
    if (checked) {
        /* Its file:// containers are directories under the root, links resolved. */
        struct fe_conv_settings p;
        CHECK(fe_conv_settings_parse(json, &p, NULL, 0, NULL, 0));
        const char *containers[2] = {p.in_is_file ? p.in_container : NULL,
                                     p.out_is_file ? p.out_container : NULL};
        for (size_t i = 0; i < 2; i++) {
            char path[PATH_MAX], real[PATH_MAX];
            struct stat st;
            if (containers[i] == NULL) {
                continue;
            }
            CHECK(fe_conv_file_uri_path(containers[i], path, sizeof path));
            CHECK(realpath(path, real) != NULL && stat(real, &st) == 0 && S_ISDIR(st.st_mode));
            size_t n = strlen(storage_root);
            CHECK(strncmp(real, storage_root, n) == 0 && (real[n] == '\0' || real[n] == '/'));
        }
        fe_conv_settings_clear(&p);
    } else {
        check_refusal(target, message, root);
    }
    json_decref(root);
}

/* ---- 1: the path and URL helpers --------------------------------------------------------- */

static bool unreserved(unsigned char c)
{
    return isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == '/';
}

static void check_url_append(const char *s, size_t small)
{
    for (int keep = 0; keep < 2; keep++) {
        size_t big_size = strlen(s) * 3 + 8;
        char *big = malloc(big_size);
        CHECK(big != NULL);
        snprintf(big, big_size, "x/");
        CHECK(fe_conv_url_append(big, big_size, s, keep != 0));
        const char *o = big + 2;
        for (size_t i = 0; o[i] != '\0'; i++) {
            unsigned char c = (unsigned char)o[i];
            if (c == '%') {
                CHECK(isxdigit((unsigned char)o[i + 1]) && isxdigit((unsigned char)o[i + 2]));
                i += 2;
            } else {
                CHECK(unreserved(c));
            }
        }
        if (!keep) {
            /* Decodes back to the input (a %00 cannot appear: the input has no NUL). */
            char *back = malloc(strlen(o) + 1);
            CHECK(back != NULL && decode(o, back) && strcmp(back, s) == 0);
            free(back);
        }
        char *out = malloc(small + 1);
        CHECK(out != NULL);
        size_t size = small < 3 ? 3 : small;
        out = realloc(out, size);
        CHECK(out != NULL);
        snprintf(out, size, "x/");
        bool fits = fe_conv_url_append(out, size, s, keep != 0);
        CHECK(fits == (strlen(big) < size));
        CHECK(!fits || strcmp(out, big) == 0);
        free(out);
        free(big);
    }
}

static void check_file_uri(const char *s, size_t small)
{
    char *out = malloc(strlen(s) + 2);
    char *want = malloc(strlen(s) + 2);
    CHECK(out != NULL && want != NULL);
    bool ok = fe_conv_file_uri_path(s, out, strlen(s) + 2);
    const char *p = strncasecmp(s, "file://", 7) == 0 ? s + 7 : NULL;
    if (p != NULL && strncasecmp(p, "localhost/", 10) == 0) {
        p += 9;
    }
    bool expect =
        p != NULL && p[0] == '/' && strpbrk(p, "?#") == NULL && decode(p, want) && want[0] == '/';
    CHECK(ok == expect);
    CHECK(!ok || strcmp(out, want) == 0);
    if (small > 0 && small < strlen(s) + 2) {
        bool fits = fe_conv_file_uri_path(s, out, small);
        CHECK(!fits || (expect && strlen(p) < small && strcmp(out, want) == 0));
    }
    free(want);
    free(out);
}

static void check_sanitize(const char *s)
{
    char *t = strdup(s);
    CHECK(t != NULL);
    fe_conv_sanitize_text(t);
    CHECK(strlen(t) == strlen(s));
    CHECK(clean_utf8(t));
    for (size_t i = 0; s[i] != '\0'; i++) {
        CHECK(t[i] == s[i] || t[i] == '?');
    }
    if (clean_utf8(s)) {
        CHECK(strcmp(t, s) == 0);
    }
    char *again = strdup(t);
    CHECK(again != NULL);
    fe_conv_sanitize_text(again);
    CHECK(strcmp(again, t) == 0);
    free(again);
    free(t);
}

static void fuzz_helpers(const char *s, size_t small, uint64_t number)
{
    CHECK(fe_conv_relative_ok(s) == relative_ok(s));

    char *d = strdup(s), *want = malloc(strlen(s) + 1);
    CHECK(d != NULL && want != NULL);
    bool ok = fe_conv_percent_decode(d);
    CHECK(ok == decode(s, want));
    CHECK(!ok || strcmp(d, want) == 0);
    free(want);
    free(d);

    check_url_append(s, small);
    check_file_uri(s, small);
    check_sanitize(s);

    char *r = malloc(small + 1);
    CHECK(r != NULL);
    fe_conv_redact_url(s, r, small);
    if (small > 0) {
        size_t n = strcspn(s, "?#");
        n = n < small - 1 ? n : small - 1;
        CHECK(strlen(r) == n && strncmp(r, s, n) == 0);
    }
    free(r);

    /* "<root>\n<path>": is path the root or under it? */
    const char *nl = strchr(s, '\n');
    if (nl != NULL && nl != s) {
        char *rt = strndup(s, (size_t)(nl - s));
        CHECK(rt != NULL);
        const char *path = nl + 1;
        size_t n = strlen(rt);
        bool under = strcmp(rt, "/") == 0
                         ? path[0] == '/'
                         : strncmp(path, rt, n) == 0 && (path[n] == '/' || path[n] == '\0');
        CHECK(fe_conv_under_root(rt, path) == under);
        free(rt);
    }

    char text[64];
    fe_conv_format_bytes(number, text, sizeof text);
    unsigned long long v = 0;
    char unit[16] = "";
    CHECK(sscanf(text, "%llu %15s", &v, unit) == 2);
    static const char *const units[] = {"bytes", "KiB", "MiB", "GiB", "TiB"};
    int u = -1;
    for (int i = 0; i < 5; i++) {
        if (strcmp(unit, units[i]) == 0) {
            u = i;
        }
    }
    CHECK(u >= 0);
    CHECK(u == 0 ? v == number : v << (10 * u) == number && v >> (64 - 10 * u) == 0);
}

/* ---- 2: the service's configuration ------------------------------------------------------ */

#define SECRET_MARK "Zq8xSecretValueNeverShown"

static void check_config(const struct fe_config *c)
{
    CHECK(c->data_dir && c->listen_host && c->domain && c->region && c->token_alg);
    CHECK(strcmp(c->token_alg, "ES256") == 0 || strcmp(c->token_alg, "RS256") == 0);
    CHECK(strlen(c->listen_host) < 256);
    for (const char *p = c->listen_host; *p != '\0'; p++) {
        CHECK(isalnum((unsigned char)*p) || strchr(".-:%_", *p) != NULL);
    }
    CHECK(c->http_threads >= 1 && c->http_threads <= 256);
    CHECK(c->max_body_bytes >= 64 && c->max_body_bytes <= 16u * 1024 * 1024);
    CHECK(c->token_lifetime_s >= 1 && c->token_lifetime_s <= 31 * 86400);
    CHECK(c->conversion_workers >= 1 && c->conversion_workers <= 256);
    CHECK(c->max_queued_conversions >= 1);
    CHECK(c->conversion_memory_bytes >= 64u * 1024 * 1024);
    CHECK(c->conversion_cpu_seconds >= 1 && c->conversion_cpu_seconds <= UINT32_MAX);
    CHECK(c->conversion_file_bytes >= 1024u * 1024 && c->max_download_bytes >= 1);
    CHECK(c->host_port_min >= 1 && (unsigned)c->host_port_min + 2 <= c->host_port_max);
    CHECK(c->session_start_timeout_s >= 1 && c->session_start_timeout_s <= 3600);
    CHECK(c->max_sessions >= 1 && c->max_sessions <= 100000);
    CHECK(c->log_json == 0 || c->log_json == 1);
    for (char **a = c->host_extra_args; a != NULL && *a != NULL; a++) {
        const char *bare = *a;
        while (*bare == '-') {
            bare++;
        }
        CHECK(**a != '\0' && strcasecmp(bare, "plain") != 0);
        for (const char *p = *a; *p != '\0'; p++) {
            CHECK(!isspace((unsigned char)*p));
        }
    }
}

static void fuzz_config(const uint8_t *data, size_t size)
{
    FILE *f = fopen(ini_path, "w");
    CHECK(f != NULL);
    CHECK(fwrite(data, 1, size, f) == size && fclose(f) == 0);
    struct fe_config c;
    fe_config_defaults(&c);
    char err[512] = "";
    if (fe_config_load_file(&c, ini_path, err, sizeof err)) {
        check_config(&c);
        if (fe_config_finish(&c, err, sizeof err)) {
            check_config(&c);
            CHECK(c.data_dir[0] == '/' && c.storage_root != NULL && c.public_host != NULL);
        } else {
            CHECK(err[0] != '\0' && strchr(err, '\n') == NULL);
        }
    } else {
        CHECK(strncmp(err, ini_path, strlen(ini_path)) == 0 && strchr(err, '\n') == NULL);
    }
    fe_config_clear(&c);

    /* Each "key=value" line on its own, the value marked: a refusal never shows it. */
    char *text = c_string(data, size);
    fe_config_defaults(&c);
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line != NULL;
         line = strtok_r(NULL, "\n", &save)) {
        char *eq = strchr(line, '=');
        if (eq == NULL) {
            continue;
        }
        *eq = '\0';
        size_t n = strlen(eq + 1) + sizeof SECRET_MARK;
        char *value = malloc(n);
        CHECK(value != NULL);
        snprintf(value, n, "%s%s", eq + 1, SECRET_MARK);
        bool is_bool = false;
        bool known = fe_config_is_key(line, &is_bool);
        err[0] = '\0';
        bool ok = fe_config_set(&c, line, value, "--flag", err, sizeof err);
        CHECK(!ok || known);
        if (!ok) {
            CHECK(err[0] != '\0' && strchr(err, '\n') == NULL);
            CHECK(strstr(line, SECRET_MARK) != NULL || strstr(err, SECRET_MARK) == NULL);
        } else {
            check_config(&c);
        }
        free(value);
    }
    fe_config_clear(&c);
    free(text);
}

/* ---- 3: keys, GUIDs, credentials, base64url ---------------------------------------------- */

static int b64_value(unsigned char c)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const char *p = c != '\0' ? strchr(alphabet, c) : NULL;
    return p != NULL ? (int)(p - alphabet) : -1;
}

/* Unpadded base64url: -1 for a bad character or length, non-zero spare bits, no room. */
static long b64_decode(const char *in, size_t len, uint8_t *out, size_t room)
{
    if (len % 4 == 1) {
        return -1;
    }
    size_t n = len / 4 * 3 + (len % 4 == 0 ? 0 : len % 4 - 1);
    if (n > room) {
        return -1;
    }
    for (size_t i = 0; i < len; i++) {
        if (b64_value((unsigned char)in[i]) < 0) {
            return -1;
        }
    }
    for (size_t g = 0; g < (len + 3) / 4; g++) {
        uint32_t v = 0;
        size_t chars = len - g * 4 < 4 ? len - g * 4 : 4;
        for (size_t k = 0; k < 4; k++) {
            v = v << 6 | (k < chars ? (uint32_t)b64_value((unsigned char)in[g * 4 + k]) : 0);
        }
        size_t bytes = chars == 4 ? 3 : chars - 1;
        uint32_t spare = chars == 2 ? (v >> 12) & 0xf : chars == 3 ? (v >> 6) & 0x3 : 0;
        if (spare != 0) {
            return -1;
        }
        for (size_t k = 0; k < bytes; k++) {
            out[g * 3 + k] = (uint8_t)(v >> (16 - 8 * k));
        }
    }
    return (long)n;
}

static void fuzz_keys(const char *s, size_t len, size_t room)
{
    uint8_t *a = malloc(len + 1), *b = malloc(len + 1);
    CHECK(a != NULL && b != NULL);
    room = room <= len ? room : len;
    long got = fe_b64url_decode(s, len, a, room);
    long want = b64_decode(s, len, b, room);
    CHECK(got == want);
    if (got >= 0) {
        CHECK(memcmp(a, b, (size_t)got) == 0);
        char *enc = malloc(fe_b64url_len((size_t)got) + 1);
        CHECK(enc != NULL);
        CHECK(fe_b64url_encode(a, (size_t)got, enc) == len && memcmp(enc, s, len) == 0);
        free(enc);
    }
    /* The input's bytes as data: encode, then decode back. */
    char *enc = malloc(fe_b64url_len(len) + 1);
    CHECK(enc != NULL);
    size_t n = fe_b64url_encode((const uint8_t *)s, len, enc);
    CHECK(n == fe_b64url_len(len) && strlen(enc) == n);
    CHECK(fe_b64url_decode(enc, n, a, len) == (long)len && memcmp(a, s, len) == 0);
    free(enc);

    uint8_t raw[40];
    CHECK(fe_key_well_formed(s) ==
          (strlen(s) == FE_KEY_CHARS && b64_decode(s, FE_KEY_CHARS, raw, sizeof raw) == 32));
    bool guid = strlen(s) == FE_GUID_CHARS;
    for (size_t i = 0; guid && i < FE_GUID_CHARS; i++) {
        guid = (i == 8 || i == 13 || i == 18 || i == 23)
                   ? s[i] == '-'
                   : (isdigit((unsigned char)s[i]) || (s[i] >= 'a' && s[i] <= 'f'));
    }
    CHECK(fe_guid_well_formed(s) == guid);

    char account[FE_ACCOUNT_ID_SIZE];
    const char *key = NULL;
    size_t key_len = 0;
    bool split = fe_credential_split(s, account, sizeof account, &key, &key_len);
    const char *colon = strchr(s, ':');
    bool expect =
        colon != NULL && colon != s && (size_t)(colon - s) < sizeof account && colon[1] != '\0';
    CHECK(split == expect);
    if (split) {
        CHECK(strlen(account) == (size_t)(colon - s) && strncmp(account, s, strlen(account)) == 0);
        CHECK(key == colon + 1 && key_len == strlen(colon + 1));
        /* The presented key against a table holding its hash second: found there. */
        uint8_t table[3][32];
        memset(table, 0xab, sizeof table);
        CHECK(fe_key_hash(key, key_len, table[1]));
        size_t index = 99;
        CHECK(fe_key_match(key, key_len, &table[0][0], 3, 32, &index) && index == 1);
    }
    free(a);
    free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) {
        return 0;
    }
    uint8_t mode = data[0] % 4;
    data++;
    size--;
    if (mode == 2) {
        fuzz_config(data, size);
        return 0;
    }
    /* A C string: a NUL inside ends it, as it would for the callers. */
    size_t small = 0;
    uint64_t number = 0;
    if (mode == 1 || mode == 3) {
        if (size < 1) {
            return 0;
        }
        small = data[0];
        for (size_t i = 0; i < 8 && i < size; i++) {
            number = number << 8 | data[i];
        }
        data++;
        size--;
    }
    char *s = c_string(data, size);
    if (mode == 0) {
        fuzz_conversion_settings(s);
    } else if (mode == 1) {
        fuzz_helpers(s, small, number);
    } else {
        fuzz_keys(s, strlen(s), small);
    }
    free(s);
    return 0;
}
