/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rrctl_config — the login settings file (INI-like "key = value" lines): where it lives, and
 * reading and writing it. It holds the account key, so it is written 0600 in a 0700 directory
 * and refused when group or others may read it (as ssh refuses a private key). Main thread.
 */
#include "rrctl.h"

#include <openssl/crypto.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CONFIG_MAX_SIZE 65536

bool rrctl_config_path(const struct rrctl *rc, char *out, size_t size)
{
    if (rc->config != NULL) {
        return (size_t)snprintf(out, size, "%s", rc->config) < size;
    }
    const char *xdg = getenv("XDG_CONFIG_HOME");
    if (xdg != NULL && xdg[0] == '/') {
        return (size_t)snprintf(out, size, "%s/openrr/rrctl.ini", xdg) < size;
    }
    const char *home = getenv("HOME");
    if (home == NULL || home[0] != '/') {
        return false;
    }
    return (size_t)snprintf(out, size, "%s/.config/openrr/rrctl.ini", home) < size;
}

void rrctl_config_clear(struct rrctl_config *cfg)
{
    free(cfg->endpoint);
    free(cfg->account_id);
    free(cfg->account_domain);
    if (cfg->key != NULL) {
        OPENSSL_cleanse(cfg->key, strlen(cfg->key));
        free(cfg->key);
    }
    free(cfg->ca_file);
    free(cfg->storage);
    memset(cfg, 0, sizeof(*cfg));
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t') {
        s++;
    }
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r')) {
        s[--n] = '\0';
    }
    return s;
}

static bool assign(struct rrctl_config *cfg, const char *key, const char *value)
{
    struct {
        const char *name;
        char **field;
    } keys[] = {{"endpoint", &cfg->endpoint},
                {"account_id", &cfg->account_id},
                {"account_domain", &cfg->account_domain},
                {"key", &cfg->key},
                {"ca_file", &cfg->ca_file},
                {"storage", &cfg->storage}};
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        if (strcmp(key, keys[i].name) == 0) {
            char *copy = strdup(value);
            if (copy == NULL) {
                return false;
            }
            if (*keys[i].field != NULL) {
                OPENSSL_cleanse(*keys[i].field, strlen(*keys[i].field));
                free(*keys[i].field);
            }
            *keys[i].field = copy;
            return true;
        }
    }
    return true; /* unknown keys: from a newer rrctl; ignored */
}

int rrctl_config_load(const struct rrctl *rc, struct rrctl_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    if (!rrctl_config_path(rc, cfg->path, sizeof(cfg->path))) {
        return rrctl_fail(rc, RRCTL_FAILED,
                          "no settings file: set HOME or XDG_CONFIG_HOME, or pass --config FILE");
    }
    int fd = open(cfg->path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        if (errno == ENOENT) {
            return rrctl_fail(rc, RRCTL_UNREACHABLE,
                              "not logged in (no %s): run 'rrctl login' first", cfg->path);
        }
        return rrctl_fail(rc, RRCTL_FAILED, "cannot open %s: %s", cfg->path, strerror(errno));
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return rrctl_fail(rc, RRCTL_FAILED, "%s is not a regular file", cfg->path);
    }
    if ((st.st_mode & 077) != 0) {
        close(fd);
        return rrctl_fail(rc, RRCTL_FAILED,
                          "%s holds an account key but group or others may read it (mode %04o); "
                          "refusing to use it: run 'chmod 600 %s'",
                          cfg->path, (unsigned)(st.st_mode & 07777), cfg->path);
    }
    if (st.st_uid != getuid()) {
        close(fd);
        return rrctl_fail(rc, RRCTL_FAILED, "%s belongs to another user; refusing to use it",
                          cfg->path);
    }
    if (st.st_size > CONFIG_MAX_SIZE) {
        close(fd);
        return rrctl_fail(rc, RRCTL_FAILED, "%s is larger than %d bytes", cfg->path,
                          CONFIG_MAX_SIZE);
    }
    char *text = malloc((size_t)st.st_size + 1);
    if (text == NULL) {
        close(fd);
        return rrctl_fail(rc, RRCTL_FAILED, "out of memory");
    }
    size_t len = 0;
    while (len < (size_t)st.st_size) {
        ssize_t n = read(fd, text + len, (size_t)st.st_size - len);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            break;
        }
        len += (size_t)n;
    }
    close(fd);
    text[len] = '\0';
    bool ok = true;
    int lineno = 0;
    for (char *line = text, *next; line != NULL && ok; line = next) {
        next = strchr(line, '\n');
        if (next != NULL) {
            *next++ = '\0';
        }
        lineno++;
        char *l = trim(line);
        if (l[0] == '\0' || l[0] == '#' || l[0] == ';' || l[0] == '[') {
            continue;
        }
        char *eq = strchr(l, '=');
        if (eq == NULL) {
            OPENSSL_cleanse(text, len);
            free(text);
            rrctl_config_clear(cfg);
            return rrctl_fail(rc, RRCTL_FAILED, "%s:%d: expected 'key = value'", cfg->path, lineno);
        }
        *eq = '\0';
        ok = assign(cfg, trim(l), trim(eq + 1));
    }
    OPENSSL_cleanse(text, len);
    free(text);
    if (!ok) {
        rrctl_config_clear(cfg);
        return rrctl_fail(rc, RRCTL_FAILED, "out of memory");
    }
    if (cfg->endpoint == NULL || cfg->account_id == NULL || cfg->account_domain == NULL ||
        cfg->key == NULL) {
        char path[sizeof(cfg->path)];
        snprintf(path, sizeof(path), "%s", cfg->path);
        rrctl_config_clear(cfg);
        return rrctl_fail(rc, RRCTL_UNREACHABLE,
                          "%s lacks endpoint, account_id, account_domain or key: run 'rrctl "
                          "login' again",
                          path);
    }
    if (cfg->ca_file != NULL && cfg->ca_file[0] == '\0') {
        free(cfg->ca_file);
        cfg->ca_file = NULL;
    }
    if (cfg->storage != NULL && cfg->storage[0] == '\0') {
        free(cfg->storage);
        cfg->storage = NULL;
    }
    return RRCTL_OK;
}

/* mkdir -p for the parents of @p path, each new one 0700. */
static bool make_parents(char *path)
{
    for (char *p = path + 1; *p != '\0'; p++) {
        if (*p != '/') {
            continue;
        }
        *p = '\0';
        bool ok = mkdir(path, 0700) == 0 || errno == EEXIST;
        *p = '/';
        if (!ok) {
            return false;
        }
    }
    return true;
}

static bool value_ok(const char *v)
{
    return v == NULL || strpbrk(v, "\r\n") == NULL;
}

int rrctl_config_save(const struct rrctl *rc, const struct rrctl_config *cfg)
{
    if (!value_ok(cfg->endpoint) || !value_ok(cfg->account_id) || !value_ok(cfg->account_domain) ||
        !value_ok(cfg->key) || !value_ok(cfg->ca_file) || !value_ok(cfg->storage)) {
        return rrctl_fail(rc, RRCTL_USAGE, "a setting holds a line break");
    }
    char path[sizeof(cfg->path)], tmp[sizeof(cfg->path) + 16];
    snprintf(path, sizeof(path), "%s", cfg->path);
    if (!make_parents(path)) {
        return rrctl_fail(rc, RRCTL_FAILED, "cannot create the directory of %s: %s", cfg->path,
                          strerror(errno));
    }
    if ((size_t)snprintf(tmp, sizeof(tmp), "%s.XXXXXX", cfg->path) >= sizeof(tmp)) {
        return rrctl_fail(rc, RRCTL_FAILED, "%s: path too long", cfg->path);
    }
    int fd = mkstemp(tmp); /* 0600 */
    if (fd < 0) {
        return rrctl_fail(rc, RRCTL_FAILED, "cannot write next to %s: %s", cfg->path,
                          strerror(errno));
    }
    (void)fchmod(fd, 0600);
    FILE *f = fdopen(fd, "w");
    if (f == NULL) {
        close(fd);
        unlink(tmp);
        return rrctl_fail(rc, RRCTL_FAILED, "cannot write %s: %s", tmp, strerror(errno));
    }
    char buf[4096];
    setvbuf(f, buf, _IOFBF, sizeof(buf));
    fprintf(f,
            "# rrctl login settings (docs/rrctl.md), written by 'rrctl login'.\n"
            "# It holds the account key: keep it private (mode 0600).\n"
            "endpoint = %s\naccount_id = %s\naccount_domain = %s\nkey = %s\n",
            cfg->endpoint, cfg->account_id, cfg->account_domain, cfg->key);
    if (cfg->ca_file != NULL) {
        fprintf(f, "ca_file = %s\n", cfg->ca_file);
    }
    if (cfg->storage != NULL) {
        fprintf(f, "storage = %s\n", cfg->storage);
    }
    bool ok = fflush(f) == 0 && fsync(fileno(f)) == 0;
    int e = errno;
    if (fclose(f) != 0 && ok) {
        ok = false;
        e = errno;
    }
    OPENSSL_cleanse(buf, sizeof(buf));
    if (!ok || rename(tmp, cfg->path) != 0) {
        if (ok) {
            e = errno;
        }
        unlink(tmp);
        return rrctl_fail(rc, RRCTL_FAILED, "cannot write %s: %s", cfg->path, strerror(e));
    }
    return RRCTL_OK;
}
