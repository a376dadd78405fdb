/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fe_config — defaults, INI file, environment and flags (fe_config.h, docs/openrrd.md).
 * Main thread only, before anything else starts.
 */
#include "fe_config.h"

#include <ini.h>

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define KiB 1024ull
#define GiB (1024ull * 1024ull * 1024ull)

enum kind {
    K_STRING, /* char * */
    K_PATH,   /* char *, made absolute by fe_config_finish */
    K_UINT,   /* unsigned, [min, max] */
    K_SIZE,   /* size_t or uint64_t bytes, with suffixes */
    K_U64,    /* uint64_t, plain number */
    K_I64,    /* int64_t */
    K_BOOL,   /* int */
    K_LISTEN, /* listen_host + listen_port */
    K_PORTS,  /* host_port_min + host_port_max */
    K_ALG,    /* token_alg */
    K_ARGS,   /* host_extra_args */
};

struct key {
    const char *name;
    enum kind kind;
    size_t offset;
    unsigned size; /* of the field, for K_SIZE (sizeof size_t or uint64_t) */
    unsigned long long min, max;
    const char *section;
    const char *dflt;
    const char *meaning;
};

#define F(field) offsetof(struct fe_config, field), sizeof(((struct fe_config *)0)->field)

static const struct key KEYS[] = {
    {"data", K_PATH, F(data_dir), 0, 0, "service", "./openrr-data", "data directory (0700)"},
    {"listen", K_LISTEN, 0, 0, 0, 0, "service", "127.0.0.1:8710", "HTTP(S) address; port 0 = any"},
    {"tls_cert", K_PATH, F(tls_cert), 0, 0, "service", "-", "PEM certificate chain: HTTPS"},
    {"tls_key", K_PATH, F(tls_key), 0, 0, "service", "-", "PEM private key of tls_cert"},
    {"domain", K_STRING, F(domain), 0, 0, "service", "openrr.localhost",
     "account domain (realm openrr:<domain>)"},
    {"region", K_STRING, F(region), 0, 0, "service", "local", "the apr claim"},
    {"public_host", K_STRING, F(public_host), 0, 0, "service", "listen host",
     "where clients reach session hosts"},
    {"http_threads", K_UINT, F(http_threads), 1, 256, "service", "CPUs (>= 2)", "HTTP thread pool"},
    {"max_body_bytes", K_SIZE, F(max_body_bytes), 64, 16 * 1024 * 1024, "service", "65536",
     "larger request bodies -> 413"},
    {"rate_per_second", K_UINT, F(rate_per_second), 0, 1000000, "service", "100",
     "per-account requests per second; 0 = off"},
    {"rate_burst", K_UINT, F(rate_burst), 0, 1000000, "service", "200", "per-account burst"},
    {"log_json", K_BOOL, F(log_json), 0, 1, "service", "false", "JSON log lines"},
    {"token_alg", K_ALG, F(token_alg), 0, 0, "tokens", "ES256", "ES256 or RS256"},
    {"token_lifetime", K_I64, F(token_lifetime_s), 1, 31 * 86400, "tokens", "86400",
     "access token lifetime, seconds"},
    {"idp_jwks", K_PATH, F(idp_jwks), 0, 0, "tokens", "-",
     "identity provider's JWK Set: STS takes its tokens"},
    {"idp_issuer", K_STRING, F(idp_issuer), 0, 0, "tokens", "-", "its iss (with idp_jwks)"},
    {"idp_audience", K_STRING, F(idp_audience), 0, 0, "tokens", "-",
     "aud its tokens carry (with idp_jwks)"},
    {"idp_account_claim", K_STRING, F(idp_account_claim), 0, 0, "tokens", "aid",
     "claim naming the account"},
    {"storage_root", K_PATH, F(storage_root), 0, 0, "conversions", "<data>/storage",
     "file:// containers must lie under it"},
    {"conversion_workers", K_UINT, F(conversion_workers), 1, 256, "conversions", "1",
     "concurrent conversions"},
    {"max_queued_conversions", K_UINT, F(max_queued_conversions), 1, 1000000, "conversions", "64",
     "NotStarted at most; more -> 429"},
    {"conversion_memory", K_SIZE, F(conversion_memory_bytes), 64 * 1024 * 1024, UINT64_MAX,
     "conversions", "16G", "address space of openrr-convert"},
    {"conversion_cpu", K_U64, F(conversion_cpu_seconds), 1, UINT32_MAX, "conversions", "7200",
     "CPU seconds of openrr-convert"},
    {"conversion_file_size", K_SIZE, F(conversion_file_bytes), 1024 * 1024, UINT64_MAX,
     "conversions", "8G", "largest file openrr-convert writes"},
    {"max_download", K_SIZE, F(max_download_bytes), 1, UINT64_MAX, "conversions", "2G",
     "per http(s) input file"},
    {"convert_path", K_PATH, F(convert_path), 0, 0, "conversions", "next to openrrd, else PATH",
     "openrr-convert"},
    {"host_path", K_PATH, F(host_path), 0, 0, "sessions", "next to openrrd, else PATH",
     "openrr-host"},
    {"host_ports", K_PORTS, 0, 0, 0, 0, "sessions", "49152-65534",
     "handshake, transport and inspector ports of hosts"},
    {"session_start_timeout", K_UINT, F(session_start_timeout_s), 1, 3600, "sessions", "60",
     "seconds in Starting before Error"},
    {"max_sessions", K_UINT, F(max_sessions), 1, 100000, "sessions", "8",
     "Starting + Ready, all accounts"},
    {"host_args", K_ARGS, 0, 0, 0, 0, "sessions", "-", "extra openrr-host arguments"},
};
#define KEY_COUNT (sizeof KEYS / sizeof KEYS[0])

static bool fail(char *err, size_t err_size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static bool fail(char *err, size_t err_size, const char *fmt, ...)
{
    if (err != NULL && err_size > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, err_size, fmt, ap);
        va_end(ap);
    }
    return false;
}

/* Compare a user's spelling (dashes or underscores, any case) with a key's name. */
static bool key_matches(const char *user, const char *name)
{
    for (; *user != '\0' && *name != '\0'; user++, name++) {
        char u = *user == '-' ? '_' : (char)tolower((unsigned char)*user);
        if (u != *name) {
            return false;
        }
    }
    return *user == '\0' && *name == '\0';
}

static const struct key *find_key(const char *name)
{
    for (size_t i = 0; i < KEY_COUNT; i++) {
        if (key_matches(name, KEYS[i].name)) {
            return &KEYS[i];
        }
    }
    return NULL;
}

bool fe_config_is_key(const char *key, bool *out_bool)
{
    const struct key *k = find_key(key);
    if (out_bool != NULL) {
        *out_bool = k != NULL && k->kind == K_BOOL;
    }
    return k != NULL;
}

static bool set_string(char **slot, const char *value)
{
    char *copy = strdup(value);
    if (copy == NULL) {
        return false;
    }
    free(*slot);
    *slot = copy;
    return true;
}

static void free_args(char ***args)
{
    if (*args != NULL) {
        for (char **a = *args; *a != NULL; a++) {
            free(*a);
        }
        free(*args);
        *args = NULL;
    }
}

void fe_config_clear(struct fe_config *c)
{
    free(c->data_dir);
    free(c->listen_host);
    free(c->tls_cert);
    free(c->tls_key);
    free(c->domain);
    free(c->region);
    free(c->public_host);
    free(c->token_alg);
    free(c->idp_jwks);
    free(c->idp_issuer);
    free(c->idp_audience);
    free(c->idp_account_claim);
    free(c->storage_root);
    free(c->convert_path);
    free(c->host_path);
    free_args(&c->host_extra_args);
    memset(c, 0, sizeof *c);
}

void fe_config_defaults(struct fe_config *c)
{
    memset(c, 0, sizeof *c);
    /* strdup failures leave NULL: fe_config_finish reports them as out of memory. */
    c->data_dir = strdup(FE_DEFAULT_DATA_DIR);
    c->listen_host = strdup("127.0.0.1");
    c->listen_port = 8710;
    c->domain = strdup("openrr.localhost");
    c->region = strdup("local");
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    c->http_threads = cpus < 2 ? 2 : (cpus > 64 ? 64 : (unsigned)cpus);
    c->max_body_bytes = 64 * KiB;
    c->rate_per_second = 100;
    c->rate_burst = 200;
    c->log_json = 0;
    c->token_alg = strdup("ES256");
    c->token_lifetime_s = 86400;
    c->idp_account_claim = strdup("aid");
    c->conversion_workers = 1;
    c->max_queued_conversions = 64;
    c->conversion_memory_bytes = 16 * GiB;
    c->conversion_cpu_seconds = 7200;
    c->conversion_file_bytes = 8 * GiB;
    c->max_download_bytes = 2 * GiB;
    c->host_port_min = 49152;
    c->host_port_max = 65534;
    c->session_start_timeout_s = 60;
    c->max_sessions = 8;
}

/* A whole decimal number (no sign, no spaces) within [min, max]. */
static bool parse_u64(const char *s, unsigned long long min, unsigned long long max,
                      unsigned long long *out)
{
    if (!isdigit((unsigned char)s[0])) {
        return false;
    }
    errno = 0;
    char *end = NULL;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < min || v > max) {
        return false;
    }
    *out = v;
    return true;
}

/* A number with an optional K, M, G or T suffix (powers of 1024; "KiB", "KB" and "k" too). */
static bool parse_size(const char *s, unsigned long long min, unsigned long long max,
                       unsigned long long *out)
{
    if (!isdigit((unsigned char)s[0])) {
        return false;
    }
    errno = 0;
    char *end = NULL;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0) {
        return false;
    }
    unsigned shift = 0;
    if (*end != '\0') {
        switch (toupper((unsigned char)*end)) {
        case 'K':
            shift = 10;
            break;
        case 'M':
            shift = 20;
            break;
        case 'G':
            shift = 30;
            break;
        case 'T':
            shift = 40;
            break;
        default:
            return false;
        }
        end++;
        if (strcasecmp(end, "ib") != 0 && strcasecmp(end, "b") != 0 && *end != '\0') {
            return false;
        }
    }
    if (shift > 0 && v > (ULLONG_MAX >> shift)) {
        return false;
    }
    v <<= shift;
    if (v < min || v > max) {
        return false;
    }
    *out = v;
    return true;
}

static bool parse_bool(const char *s, int *out)
{
    static const char *const yes[] = {"1", "true", "yes", "on"};
    static const char *const no[] = {"0", "false", "no", "off"};
    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(s, yes[i]) == 0) {
            *out = 1;
            return true;
        }
        if (strcasecmp(s, no[i]) == 0) {
            *out = 0;
            return true;
        }
    }
    return false;
}

/* "HOST:PORT", "[V6]:PORT" or ":PORT" (host 127.0.0.1). */
static bool parse_listen(struct fe_config *c, const char *s)
{
    const char *colon = strrchr(s, ':');
    if (colon == NULL) {
        return false;
    }
    unsigned long long port = 0;
    if (!parse_u64(colon + 1, 0, 65535, &port)) {
        return false;
    }
    const char *h = s;
    size_t hlen = (size_t)(colon - s);
    if (hlen >= 2 && h[0] == '[' && h[hlen - 1] == ']') {
        h++;
        hlen -= 2;
    } else if (memchr(h, ':', hlen) != NULL) {
        return false; /* an IPv6 address needs brackets */
    }
    if (hlen == 0) {
        h = "127.0.0.1";
        hlen = strlen(h);
    }
    if (hlen >= 256) {
        return false;
    }
    for (size_t i = 0; i < hlen; i++) {
        unsigned char ch = (unsigned char)h[i];
        if (!(isalnum(ch) || ch == '.' || ch == '-' || ch == ':' || ch == '%' || ch == '_')) {
            return false;
        }
    }
    char *copy = strndup(h, hlen);
    if (copy == NULL) {
        return false;
    }
    free(c->listen_host);
    c->listen_host = copy;
    c->listen_port = (uint16_t)port;
    return true;
}

static bool parse_ports(struct fe_config *c, const char *s)
{
    char buf[32];
    if (strlen(s) >= sizeof buf) {
        return false;
    }
    strcpy(buf, s);
    char *dash = strchr(buf, '-');
    if (dash == NULL) {
        return false;
    }
    *dash = '\0';
    unsigned long long lo = 0, hi = 0;
    /* P and P+1 and an inspector port: three ports at least. */
    if (!parse_u64(buf, 1, 65535, &lo) || !parse_u64(dash + 1, 1, 65535, &hi) || hi < lo + 2) {
        return false;
    }
    c->host_port_min = (uint16_t)lo;
    c->host_port_max = (uint16_t)hi;
    return true;
}

/* Split on white space; "--plain" (a host without TLS or tokens) is refused in any spelling. */
static bool parse_args(struct fe_config *c, const char *s, char *err, size_t err_size,
                       const char *origin)
{
    size_t n = 0, cap = 4;
    char **args = calloc(cap, sizeof *args);
    if (args == NULL) {
        return fail(err, err_size, "%s: out of memory", origin);
    }
    const char *p = s;
    while (*p != '\0') {
        while (isspace((unsigned char)*p)) {
            p++;
        }
        if (*p == '\0') {
            break;
        }
        const char *start = p;
        while (*p != '\0' && !isspace((unsigned char)*p)) {
            p++;
        }
        if (n + 2 > cap) {
            cap *= 2;
            char **grown = realloc(args, cap * sizeof *args);
            if (grown == NULL) {
                free_args(&args);
                return fail(err, err_size, "%s: out of memory", origin);
            }
            args = grown;
        }
        args[n] = strndup(start, (size_t)(p - start));
        if (args[n] == NULL) {
            free_args(&args);
            return fail(err, err_size, "%s: out of memory", origin);
        }
        const char *bare = args[n];
        while (*bare == '-') {
            bare++;
        }
        n++;
        args[n] = NULL;
        if (strcasecmp(bare, "plain") == 0) {
            free_args(&args);
            return fail(err, err_size,
                        "%s: --plain is not allowed: session hosts always use "
                        "TLS and access tokens",
                        origin);
        }
    }
    free_args(&c->host_extra_args);
    c->host_extra_args = args;
    return true;
}

bool fe_config_set(struct fe_config *c, const char *key, const char *value, const char *origin,
                   char *err, size_t err_size)
{
    const struct key *k = find_key(key);
    if (k == NULL) {
        return fail(err, err_size, "%s: unknown configuration key '%s'", origin, key);
    }
    if (value == NULL) {
        return fail(err, err_size, "%s: '%s' needs a value", origin, k->name);
    }
    char *base = (char *)c;
    unsigned long long v = 0;
    bool ok = true;
    const char *want = "";
    switch (k->kind) {
    case K_STRING:
    case K_PATH:
        if (value[0] == '\0') {
            /* An empty value unsets what may be unset (tls_*, paths), else it is an error. */
            if (k->offset == offsetof(struct fe_config, data_dir) ||
                k->offset == offsetof(struct fe_config, domain) ||
                k->offset == offsetof(struct fe_config, region) ||
                k->offset == offsetof(struct fe_config, idp_account_claim)) {
                ok = false;
                want = "a non-empty value";
                break;
            }
            char **slot = (char **)(base + k->offset);
            free(*slot);
            *slot = NULL;
            break;
        }
        if (strlen(value) >= 4096) {
            ok = false;
            want = "at most 4095 characters";
            break;
        }
        if (!set_string((char **)(base + k->offset), value)) {
            return fail(err, err_size, "%s: out of memory", origin);
        }
        break;
    case K_UINT:
        ok = parse_u64(value, k->min, k->max, &v);
        want = "a whole number in range";
        if (ok) {
            *(unsigned *)(base + k->offset) = (unsigned)v;
        }
        break;
    case K_SIZE:
        ok = parse_size(value, k->min, k->max, &v);
        want = "a size (bytes, or with K, M, G, T) in range";
        if (ok) {
            if (k->size == sizeof(size_t)) {
                *(size_t *)(base + k->offset) = (size_t)v;
            } else {
                *(uint64_t *)(base + k->offset) = v;
            }
        }
        break;
    case K_U64:
        ok = parse_u64(value, k->min, k->max, &v);
        want = "a whole number in range";
        if (ok) {
            *(uint64_t *)(base + k->offset) = v;
        }
        break;
    case K_I64:
        ok = parse_u64(value, k->min, k->max, &v);
        want = "a whole number in range";
        if (ok) {
            *(int64_t *)(base + k->offset) = (int64_t)v;
        }
        break;
    case K_BOOL:
        ok = parse_bool(value, (int *)(base + k->offset));
        want = "true or false";
        break;
    case K_LISTEN:
        ok = parse_listen(c, value);
        want = "HOST:PORT ([IPv6]:PORT)";
        break;
    case K_PORTS:
        ok = parse_ports(c, value);
        want = "LOW-HIGH with at least three ports";
        break;
    case K_ALG:
        if (strcasecmp(value, "ES256") == 0 || strcasecmp(value, "RS256") == 0) {
            char alg[6];
            snprintf(alg, sizeof alg, "%cS256", toupper((unsigned char)value[0]));
            if (!set_string((char **)(base + k->offset), alg)) {
                return fail(err, err_size, "%s: out of memory", origin);
            }
        } else {
            ok = false;
            want = "ES256 or RS256";
        }
        break;
    case K_ARGS:
        return parse_args(c, value, err, err_size, origin);
    }
    if (!ok) {
        if (k->kind == K_UINT || k->kind == K_U64 || k->kind == K_I64 || k->kind == K_SIZE) {
            return fail(err, err_size, "%s: '%s' must be %s (%llu to %llu)", origin, k->name, want,
                        k->min, k->max);
        }
        return fail(err, err_size, "%s: '%s' must be %s", origin, k->name, want);
    }
    return true;
}

/* ---- INI --------------------------------------------------------------------------------- */

struct ini_state {
    struct fe_config *c;
    const char *path;
    char *err;
    size_t err_size;
    bool failed;
};

/* inih (Debian's build) reports no line to the handler: the line of the first refused entry
 * is what ini_parse_file returns, and the message gets it afterwards. */
static int on_ini_entry(void *user, const char *section, const char *name, const char *value)
{
    struct ini_state *st = user;
    if (st->failed) {
        return 0;
    }
    if (section[0] != '\0' && strcasecmp(section, "service") != 0 &&
        strcasecmp(section, "tokens") != 0 && strcasecmp(section, "conversions") != 0 &&
        strcasecmp(section, "sessions") != 0) {
        st->failed = true;
        fail(st->err, st->err_size, "%s: unknown section [%s]", st->path, section);
        return 0;
    }
    if (!fe_config_set(st->c, name, value, st->path, st->err, st->err_size)) {
        st->failed = true;
        return 0;
    }
    return 1;
}

bool fe_config_load_file(struct fe_config *c, const char *path, char *err, size_t err_size)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        return fail(err, err_size, "cannot read the configuration file '%s': %s", path,
                    strerror(errno));
    }
    struct ini_state st = {c, path, err, err_size, false};
    int r = ini_parse_file(f, on_ini_entry, &st);
    fclose(f);
    if (st.failed) {
        size_t plen = strlen(path);
        if (r > 0 && err != NULL && err_size > 0 && strncmp(err, path, plen) == 0) {
            char rest[512];
            snprintf(rest, sizeof rest, "%s", err + plen);
            snprintf(err, err_size, "%s:%d%s", path, r, rest);
        }
        return false;
    }
    if (r != 0) {
        return fail(err, err_size, "%s:%d: not an INI line (expected key = value)", path,
                    r > 0 ? r : 0);
    }
    return true;
}

bool fe_config_load_env(struct fe_config *c, char *err, size_t err_size)
{
    for (size_t i = 0; i < KEY_COUNT; i++) {
        char var[64];
        int n = snprintf(var, sizeof var, "OPENRRD_%s", KEYS[i].name);
        for (int j = 8; j < n; j++) {
            var[j] = (char)toupper((unsigned char)var[j]);
        }
        const char *v = getenv(var);
        if (v != NULL && !fe_config_set(c, KEYS[i].name, v, var, err, err_size)) {
            return false;
        }
    }
    return true;
}

/* Prefix the working directory to a relative path. */
static bool make_absolute(char **slot)
{
    if (*slot == NULL || (*slot)[0] == '/') {
        return true;
    }
    char cwd[PATH_MAX];
    if (getcwd(cwd, sizeof cwd) == NULL) {
        return false;
    }
    const char *rel = *slot;
    while (rel[0] == '.' && rel[1] == '/') {
        rel += 2;
    }
    size_t len = strlen(cwd) + 1 + strlen(rel) + 1;
    char *abs = malloc(len);
    if (abs == NULL) {
        return false;
    }
    snprintf(abs, len, "%s/%s", cwd, strcmp(rel, ".") == 0 ? "" : rel);
    if (len > 2 && abs[len - 2] == '/') {
        abs[len - 2] = '\0';
    }
    free(*slot);
    *slot = abs;
    return true;
}

/* Printable ASCII without spaces, quotes or backslashes, 1 … 255 characters: what the
 * identity-provider settings compare with a token's claims, and may show in messages. */
static bool idp_text_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 255) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (s[i] <= ' ' || s[i] > '~' || s[i] == '"' || s[i] == '\\') {
            return false;
        }
    }
    return true;
}

/* idp_jwks with idp_issuer and idp_audience, all three or none. */
static bool check_idp(const struct fe_config *c, char *err, size_t err_size)
{
    if (c->idp_jwks == NULL) {
        if (c->idp_issuer != NULL || c->idp_audience != NULL) {
            return fail(err, err_size,
                        "'idp_issuer' and 'idp_audience' need 'idp_jwks' (the identity "
                        "provider's JWK Set file)");
        }
        return true;
    }
    if (c->idp_issuer == NULL || c->idp_audience == NULL) {
        return fail(err, err_size,
                    "'idp_jwks' needs 'idp_issuer' (the identity provider's iss) and "
                    "'idp_audience' (the aud its tokens carry for this STS, e.g. "
                    "https://sts.%s)",
                    c->domain);
    }
    if (!idp_text_ok(c->idp_issuer) || !idp_text_ok(c->idp_audience) ||
        !idp_text_ok(c->idp_account_claim)) {
        return fail(err, err_size,
                    "'idp_issuer', 'idp_audience' and 'idp_account_claim' must be 1 to 255 "
                    "printable characters without spaces, quotes or backslashes");
    }
    return true;
}

bool fe_config_finish(struct fe_config *c, char *err, size_t err_size)
{
    if (c->data_dir == NULL || c->listen_host == NULL || c->domain == NULL || c->region == NULL ||
        c->token_alg == NULL || c->idp_account_claim == NULL) {
        return fail(err, err_size, "out of memory");
    }
    if ((c->tls_cert == NULL) != (c->tls_key == NULL)) {
        return fail(err, err_size, "tls_cert and tls_key go together: set both for HTTPS");
    }
    for (const char *p = c->domain; *p != '\0'; p++) {
        unsigned char ch = (unsigned char)*p;
        if (!(isalnum(ch) || ch == '.' || ch == '-')) {
            return fail(err, err_size, "'domain' must be a DNS name (letters, digits, '.', '-')");
        }
    }
    if (strlen(c->domain) > 200) {
        return fail(err, err_size, "'domain' must be at most 200 characters");
    }
    for (const char *p = c->region; *p != '\0'; p++) {
        unsigned char ch = (unsigned char)*p;
        if (!(isalnum(ch) || ch == '.' || ch == '-' || ch == '_')) {
            return fail(err, err_size, "'region' must be letters, digits, '.', '-' or '_'");
        }
    }
    if (strlen(c->region) > 100) {
        return fail(err, err_size, "'region' must be at most 100 characters");
    }
    if (!check_idp(c, err, err_size)) {
        return false;
    }
    if (c->rate_per_second > 0 && c->rate_burst == 0) {
        return fail(err, err_size,
                    "'rate_burst' must be at least 1 when 'rate_per_second' is "
                    "set (0 turns the limit off)");
    }
    if (!make_absolute(&c->data_dir) || !make_absolute(&c->tls_cert) ||
        !make_absolute(&c->tls_key) || !make_absolute(&c->storage_root) ||
        !make_absolute(&c->idp_jwks)) {
        return fail(err, err_size, "cannot make the paths absolute: %s", strerror(errno));
    }
    /* Program paths: absolute when they name a file, as they are when searched on PATH. */
    if ((c->convert_path != NULL && strchr(c->convert_path, '/') != NULL &&
         !make_absolute(&c->convert_path)) ||
        (c->host_path != NULL && strchr(c->host_path, '/') != NULL &&
         !make_absolute(&c->host_path))) {
        return fail(err, err_size, "cannot make the paths absolute: %s", strerror(errno));
    }
    if (c->storage_root == NULL) {
        size_t len = strlen(c->data_dir) + sizeof "/storage";
        c->storage_root = malloc(len);
        if (c->storage_root == NULL) {
            return fail(err, err_size, "out of memory");
        }
        snprintf(c->storage_root, len, "%s/storage", c->data_dir);
    }
    if (c->public_host == NULL) {
        const char *h = c->listen_host;
        if (strcmp(h, "0.0.0.0") == 0 || strcmp(h, "::") == 0 || h[0] == '\0') {
            h = "127.0.0.1";
        }
        c->public_host = strdup(h);
        if (c->public_host == NULL) {
            return fail(err, err_size, "out of memory");
        }
    }
    return true;
}

const char *fe_config_help(void)
{
    static char text[4096];
    if (text[0] == '\0') {
        size_t len = 0;
        for (size_t i = 0; i < KEY_COUNT && len < sizeof text; i++) {
            char flag[40];
            snprintf(flag, sizeof flag, "--%s", KEYS[i].name);
            for (char *p = flag + 2; *p != '\0'; p++) {
                if (*p == '_') {
                    *p = '-';
                }
            }
            int n = snprintf(text + len, sizeof text - len, "  %-26s %-28s %s\n", flag,
                             KEYS[i].dflt, KEYS[i].meaning);
            if (n < 0) {
                break;
            }
            len += (size_t)n;
        }
    }
    return text;
}
