/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rrctl_args — parsing a command's options and operands, and the error lines and exit
 * statuses every command shares. Main thread.
 */
#include "rrctl.h"

#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct rrctl_opt *rrctl_opt(struct rrctl_opt *opts, size_t nopts, const char *name)
{
    for (size_t i = 0; i < nopts; i++) {
        if (strcmp(opts[i].name, name) == 0) {
            return &opts[i];
        }
    }
    return NULL;
}

bool rrctl_parse(struct rrctl *rc, int argc, char **argv, struct rrctl_opt *opts, size_t nopts)
{
    bool options_done = false;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (options_done || a[0] != '-' || strcmp(a, "-") == 0) {
            if (rc->npos == RRCTL_MAX_POS) {
                rrctl_usage_error(rc, "too many operands");
                return false;
            }
            rc->pos[rc->npos++] = a;
            continue;
        }
        if (strcmp(a, "--") == 0) {
            options_done = true;
            continue;
        }
        const char *name = a + (a[1] == '-' ? 2 : 1);
        const char *eq = strchr(name, '=');
        size_t len = eq != NULL ? (size_t)(eq - name) : strlen(name);
        char key[64];
        if (len == 0 || len >= sizeof(key)) {
            rrctl_usage_error(rc, "unknown option '%s'", a);
            return false;
        }
        memcpy(key, name, len);
        key[len] = '\0';
        if (strcmp(key, "json") == 0 && eq == NULL) {
            rc->json = true;
            continue;
        }
        if ((strcmp(key, "help") == 0 || strcmp(key, "h") == 0) && eq == NULL) {
            rc->help = true;
            continue;
        }
        struct rrctl_opt *o = rrctl_opt(opts, nopts, key);
        bool is_config = strcmp(key, "config") == 0;
        if (o == NULL && !is_config) {
            rrctl_usage_error(rc, "unknown option '--%s'", key);
            return false;
        }
        bool has_value = is_config || o->has_value;
        const char *value = NULL;
        if (has_value) {
            if (eq != NULL) {
                value = eq + 1;
            } else if (i + 1 < argc) {
                value = argv[++i];
            } else {
                rrctl_usage_error(rc, "option '--%s' needs a value", key);
                return false;
            }
        } else if (eq != NULL) {
            rrctl_usage_error(rc, "option '--%s' takes no value", key);
            return false;
        }
        if (is_config) {
            rc->config = value;
        } else {
            o->seen = true;
            o->value = value;
        }
    }
    return true;
}

int rrctl_usage_error(const struct rrctl *rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "rrctl%s%s: ", rc->command ? " " : "", rc->command ? rc->command : "");
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry 'rrctl%s%s --help'.\n", rc->command ? " " : "",
            rc->command ? rc->command : "");
    return RRCTL_USAGE;
}

int rrctl_fail(const struct rrctl *rc, int status, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    fprintf(stderr, "rrctl: %s\n", msg);
    if (rc->json) {
        /* Scripts read stdout: they get the failure as JSON too. */
        json_t *o = json_pack("{s:{s:s,s:i}}", "error", "message", msg, "exitStatus", status);
        if (o != NULL) {
            json_dumpf(o, stdout, JSON_COMPACT);
            fputc('\n', stdout);
            json_decref(o);
        }
    }
    return status;
}

int rrctl_exit_of(enum rr_client_result r)
{
    switch (r) {
    case RR_CLIENT_SUCCESS:
        return RRCTL_OK;
    case RR_CLIENT_NO_CONNECTION:
    case RR_CLIENT_AUTHENTICATION_FAILED:
        return RRCTL_UNREACHABLE;
    default:
        return RRCTL_FAILED;
    }
}

int rrctl_fail_sdk(const struct rrctl *rc, enum rr_client_result r, const char *message,
                   const char *what)
{
    return rrctl_fail(rc, rrctl_exit_of(r), "%s: %s%s%s", what, rr_client_result_str(r),
                      message != NULL && message[0] ? ": " : "", message ? message : "");
}

bool rrctl_uint(const char *s, uint32_t min, uint32_t max, uint32_t *out)
{
    if (s == NULL || s[0] < '0' || s[0] > '9') {
        return false;
    }
    errno = 0;
    char *end = NULL;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < min || v > max) {
        return false;
    }
    *out = (uint32_t)v;
    return true;
}
