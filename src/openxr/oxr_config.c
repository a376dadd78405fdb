/* SPDX-License-Identifier: Apache-2.0 */
/*
 * oxr_config — configuration file and environment (see oxr_config.h).
 *
 * Threads: the thread creating the instance. getenv() is only read, never changed.
 */
#include "oxr_config.h"

#include <openssl/crypto.h>

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_PORT 8265
#define DEFAULT_EYE_WIDTH 1280
#define DEFAULT_EYE_HEIGHT 720
#define DEFAULT_FPS 60
#define DEFAULT_SESSION_WAIT_MS 10000 /* the reference's xrCreateSession wait */
#define MAX_FILE_SIZE (64 * 1024)
#define MAX_LINE 1024

enum kind {
    K_CONNECT,
    K_LISTEN,
    K_PORT,   /* uint16 */
    K_SECRET, /* char * */
    K_PATH,   /* char[OXR_PATH_MAX] */
    K_NAME,   /* char[OXR_HOST_MAX] */
    K_SIZE,   /* WxH */
    K_UINT,   /* uint32 within [min, max] */
    K_ENCODER,
    K_BOOL,
};

struct key {
    const char *name; /* file key; the environment variable is OPENRR_ + upper case */
    enum kind kind;
    size_t offset;
    uint32_t min, max;
};

#define OFF(f) offsetof(struct oxr_config, f)

static const struct key k_keys[] = {
    {"connect", K_CONNECT, 0, 0, 0},
    {"listen", K_LISTEN, 0, 0, 0},
    {"transport_port", K_PORT, OFF(transport_port), 0, 65535},
    {"token", K_SECRET, OFF(token), 0, 0},
    {"keypassphrase", K_SECRET, OFF(passphrase), 0, 0},
    {"cafile", K_PATH, OFF(cafile), 0, 0},
    {"certstore", K_PATH, OFF(certstore), 0, 0},
    {"subjectname", K_NAME, OFF(subject), 0, 0},
    {"realm", K_NAME, OFF(realm), 0, 0},
    {"eye_size", K_SIZE, 0, 16, 4096},
    {"fps", K_UINT, OFF(fps), 1, 240},
    {"bitrate_kbps", K_UINT, OFF(bitrate_kbps), 100, 1000000},
    {"encoder", K_ENCODER, OFF(encoder), 0, 0},
    {"session_wait_ms", K_UINT, OFF(session_wait_ms), 0, 600000},
    {"stats", K_BOOL, OFF(stats), 0, 0},
};
#define KEY_COUNT (sizeof k_keys / sizeof k_keys[0])

static bool fail(char *err, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static bool fail(char *err, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, size, fmt, ap);
    va_end(ap);
    return false;
}

static bool parse_uint(const char *s, uint32_t min, uint32_t max, uint32_t *out)
{
    char *end = NULL;
    if (s[0] < '0' || s[0] > '9') {
        return false;
    }
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < min || v > max) {
        return false;
    }
    *out = (uint32_t)v;
    return true;
}

/* host, host:port, [v6], [v6]:port, or a bare IPv6 literal (no port). */
static bool parse_address(const char *s, char host[OXR_HOST_MAX], uint16_t *port)
{
    const char *h = s;
    const char *p = NULL;
    size_t len = strlen(s);
    uint32_t value = DEFAULT_PORT;
    if (s[0] == '[') {
        const char *close = strchr(s, ']');
        if (close == NULL || (close[1] != '\0' && close[1] != ':')) {
            return false;
        }
        h = s + 1;
        len = (size_t)(close - h);
        p = close[1] == ':' ? close + 2 : NULL;
    } else {
        const char *colon = strchr(s, ':');
        if (colon != NULL && strchr(colon + 1, ':') == NULL) {
            len = (size_t)(colon - s);
            p = colon + 1;
        }
    }
    if (len >= OXR_HOST_MAX || (p != NULL && !parse_uint(p, 0, 65535, &value))) {
        return false;
    }
    memcpy(host, h, len);
    host[len] = '\0';
    *port = (uint16_t)value;
    return true;
}

static bool copy_string(char *dst, size_t size, const char *value)
{
    size_t n = strlen(value);
    if (n >= size) {
        return false;
    }
    memcpy(dst, value, n + 1);
    return true;
}

static void wipe_secret(char **s)
{
    if (*s != NULL) {
        OPENSSL_cleanse(*s, strlen(*s));
        free(*s);
        *s = NULL;
    }
}

/* What set connect/listen, so that both given is an error only within one source level. */
struct seen {
    bool connect, listen;
};

static bool apply(struct oxr_config *cfg, const struct key *k, const char *value, const char *where,
                  struct seen *seen, char *err, size_t err_size)
{
    void *field = (char *)cfg + k->offset;
    uint32_t u = 0;
    switch (k->kind) {
    case K_CONNECT:
    case K_LISTEN:
        if (!parse_address(value, cfg->host, &cfg->port)) {
            return fail(err, err_size, "%s: %s '%s' is not host[:port] (IPv6: [addr]:port)", where,
                        k->name, value);
        }
        cfg->listen = k->kind == K_LISTEN;
        if (k->kind == K_LISTEN) {
            seen->listen = true;
        } else {
            seen->connect = true;
        }
        return true;
    case K_PORT:
        if (!parse_uint(value, k->min, k->max, &u)) {
            return fail(err, err_size, "%s: %s needs a port 0-65535, not '%s'", where, k->name,
                        value);
        }
        *(uint16_t *)field = (uint16_t)u;
        return true;
    case K_SECRET: {
        char *copy = strdup(value);
        if (copy == NULL) {
            return fail(err, err_size, "out of memory");
        }
        wipe_secret((char **)field);
        *(char **)field = copy;
        return true;
    }
    case K_PATH:
        if (!copy_string(field, OXR_PATH_MAX, value)) {
            return fail(err, err_size, "%s: %s is longer than %d bytes", where, k->name,
                        OXR_PATH_MAX - 1);
        }
        return true;
    case K_NAME:
        if (!copy_string(field, OXR_HOST_MAX, value)) {
            return fail(err, err_size, "%s: %s is longer than %d bytes", where, k->name,
                        OXR_HOST_MAX - 1);
        }
        return true;
    case K_SIZE: {
        uint32_t w = 0, h = 0;
        char tmp[32];
        char *x;
        if (!copy_string(tmp, sizeof tmp, value) || (x = strchr(tmp, 'x')) == NULL) {
            return fail(err, err_size, "%s: %s needs WIDTHxHEIGHT, not '%s'", where, k->name,
                        value);
        }
        *x = '\0';
        if (!parse_uint(tmp, k->min, k->max, &w) || !parse_uint(x + 1, k->min, k->max, &h) ||
            (w % 2) != 0 || (h % 2) != 0) {
            return fail(err, err_size,
                        "%s: %s needs even WIDTHxHEIGHT, each %" PRIu32 "-%" PRIu32 ", not '%s'",
                        where, k->name, k->min, k->max, value);
        }
        cfg->eye_width = w;
        cfg->eye_height = h;
        return true;
    }
    case K_UINT:
        if (!parse_uint(value, k->min, k->max, &u)) {
            return fail(err, err_size, "%s: %s needs a number %" PRIu32 "-%" PRIu32 ", not '%s'",
                        where, k->name, k->min, k->max, value);
        }
        *(uint32_t *)field = u;
        return true;
    case K_ENCODER:
        if (!copy_string(field, sizeof cfg->encoder, value)) {
            return fail(err, err_size, "%s: encoder name '%s' is too long", where, value);
        }
        return true;
    case K_BOOL:
        if (strcmp(value, "1") == 0 || strcmp(value, "true") == 0 || strcmp(value, "yes") == 0) {
            *(bool *)field = true;
        } else if (strcmp(value, "0") == 0 || strcmp(value, "false") == 0 ||
                   strcmp(value, "no") == 0 || value[0] == '\0') {
            *(bool *)field = false;
        } else {
            return fail(err, err_size, "%s: %s needs 1 or 0, not '%s'", where, k->name, value);
        }
        return true;
    }
    return false;
}

static const struct key *find_key(const char *name)
{
    for (size_t i = 0; i < KEY_COUNT; i++) {
        if (strcmp(k_keys[i].name, name) == 0) {
            return &k_keys[i];
        }
    }
    return NULL;
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s)) {
        s++;
    }
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1])) {
        s[--n] = '\0';
    }
    return s;
}

/* The default file, when it exists: "" otherwise. */
static void default_file(char *path, size_t size)
{
    const char *xdg = getenv("XDG_CONFIG_HOME");
    const char *home = getenv("HOME");
    path[0] = '\0';
    if (xdg != NULL && xdg[0] == '/') {
        snprintf(path, size, "%s/openrr/openxr.conf", xdg);
    } else if (home != NULL && home[0] == '/') {
        snprintf(path, size, "%s/.config/openrr/openxr.conf", home);
    }
    FILE *f = path[0] != '\0' ? fopen(path, "r") : NULL;
    if (f == NULL) {
        path[0] = '\0';
    } else {
        fclose(f);
    }
}

static bool load_file(struct oxr_config *cfg, const char *path, bool required, char *err,
                      size_t err_size)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        if (!required && errno == ENOENT) {
            return true;
        }
        return fail(err, err_size, "cannot read the configuration file '%s': %s", path,
                    strerror(errno));
    }
    char line[MAX_LINE + 2];
    unsigned number = 0;
    size_t total = 0;
    struct seen seen = {false, false};
    bool ok = true;
    while (ok && fgets(line, sizeof line, f) != NULL) {
        char where[OXR_PATH_MAX + 32];
        number++;
        total += strlen(line);
        snprintf(where, sizeof where, "%s:%u", path, number);
        if (total > MAX_FILE_SIZE) {
            ok = fail(err, err_size, "%s: the file is larger than %d bytes", where, MAX_FILE_SIZE);
            break;
        }
        if (strchr(line, '\n') == NULL && !feof(f)) {
            ok = fail(err, err_size, "%s: line longer than %d characters", where, MAX_LINE);
            break;
        }
        char *hash = strchr(line, '#');
        if (hash != NULL) {
            *hash = '\0';
        }
        char *s = trim(line);
        if (*s == '\0') {
            continue;
        }
        char *eq = strchr(s, '=');
        if (eq == NULL) {
            ok = fail(err, err_size, "%s: expected 'key = value'", where);
            break;
        }
        *eq = '\0';
        char *name = trim(s);
        char *value = trim(eq + 1);
        const struct key *k = find_key(name);
        if (k == NULL) {
            ok = fail(err, err_size, "%s: unknown key '%s'", where, name);
            break;
        }
        ok = apply(cfg, k, value, where, &seen, err, err_size);
        OPENSSL_cleanse(line, sizeof line); /* the line may have held a secret */
    }
    OPENSSL_cleanse(line, sizeof line);
    fclose(f);
    if (ok && seen.connect && seen.listen) {
        ok = fail(err, err_size, "%s: give either connect or listen, not both", path);
    }
    if (ok) {
        snprintf(cfg->source, sizeof cfg->source, "%s", path);
    }
    return ok;
}

static bool load_env(struct oxr_config *cfg, char *err, size_t err_size)
{
    struct seen seen = {false, false};
    for (size_t i = 0; i < KEY_COUNT; i++) {
        char var[64] = "OPENRR_";
        size_t n = strlen(var);
        for (const char *p = k_keys[i].name; *p != '\0' && n + 1 < sizeof var; p++) {
            var[n++] = (char)toupper((unsigned char)*p);
        }
        var[n] = '\0';
        const char *value = getenv(var);
        if (value == NULL) {
            continue;
        }
        if (!apply(cfg, &k_keys[i], value, var, &seen, err, err_size)) {
            return false;
        }
        if (k_keys[i].kind == K_CONNECT || k_keys[i].kind == K_LISTEN) {
            snprintf(cfg->source, sizeof cfg->source, "%s", var);
        }
    }
    if (seen.connect && seen.listen) {
        return fail(err, err_size, "OPENRR_CONNECT and OPENRR_LISTEN are both set: give one");
    }
    /* An empty token means "not secure", like an unset one. */
    if (cfg->token != NULL && cfg->token[0] == '\0') {
        wipe_secret(&cfg->token);
    }
    return true;
}

bool oxr_config_load(struct oxr_config *cfg, char *err, size_t err_size)
{
    memset(cfg, 0, sizeof *cfg);
    snprintf(cfg->host, sizeof cfg->host, "localhost");
    cfg->port = DEFAULT_PORT;
    cfg->eye_width = DEFAULT_EYE_WIDTH;
    cfg->eye_height = DEFAULT_EYE_HEIGHT;
    cfg->fps = DEFAULT_FPS;
    cfg->session_wait_ms = DEFAULT_SESSION_WAIT_MS;
    snprintf(cfg->realm, sizeof cfg->realm, "OpenXR Remoting");
    snprintf(cfg->source, sizeof cfg->source, "the default");

    char path[OXR_PATH_MAX];
    const char *explicit_path = getenv("OPENRR_CONFIG");
    bool ok = true;
    if (explicit_path != NULL && explicit_path[0] != '\0') {
        ok = load_file(cfg, explicit_path, true, err, err_size);
    } else {
        default_file(path, sizeof path);
        if (path[0] != '\0') {
            ok = load_file(cfg, path, false, err, err_size);
        }
    }
    ok = ok && load_env(cfg, err, err_size);
    if (ok && cfg->listen && cfg->token != NULL && cfg->certstore[0] == '\0') {
        ok = fail(err, err_size,
                  "a secure listener (OPENRR_LISTEN with OPENRR_TOKEN) needs OPENRR_CERTSTORE, "
                  "a PKCS#12 or PEM file with the certificate and its key");
    }
    if (!ok) {
        oxr_config_fini(cfg);
    }
    return ok;
}

void oxr_config_fini(struct oxr_config *cfg)
{
    wipe_secret(&cfg->token);
    wipe_secret(&cfg->passphrase);
}
