/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rrctl — the command line of OpenRR's control plane (docs/rrctl.md). main() picks the
 * command; each command file parses its own options, calls libopenrr_client through the
 * synchronous wrappers of rrctl_sdk.c and prints for people or, with --json, for scripts.
 * This file also holds `login` and `token`, the two commands about credentials.
 */
#include "rrctl.h"

#include <jansson.h>
#include <openssl/crypto.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char usage_text[] =
    "Usage: rrctl [--json] [--config FILE] COMMAND [ARGS]\n"
    "\n"
    "The command line of an OpenRR control plane (openrrd).\n"
    "\n"
    "Commands:\n"
    "  login      store the service's address and the account's credentials\n"
    "  token      print an access token of the account\n"
    "  convert    convert a model (a local file or an http(s) URL) to an .rrasset\n"
    "  session    create, list, show, renew and stop rendering sessions\n"
    "  inspect    write a page that opens a session's inspector; print its path\n"
    "  cert       create a self-signed certificate store for a remoting server\n"
    "\n"
    "Options of every command:\n"
    "  --json         print results (and failures) as JSON on stdout, for scripts\n"
    "  --config FILE  the settings file (default $XDG_CONFIG_HOME/openrr/rrctl.ini, else\n"
    "                 ~/.config/openrr/rrctl.ini)\n"
    "  --help         the command's help, with examples\n"
    "\n"
    "Examples:\n"
    "  openrrd account create --json          # on the server: an account and its keys\n"
    "  rrctl login --endpoint http://127.0.0.1:8710 --account-id ID \\\n"
    "      --account-domain openrr.localhost --key-stdin <key.txt\n"
    "  rrctl convert model.gltf --wait\n"
    "  rrctl session create --wait\n"
    "  rrctl session list\n"
    "\n"
    "Exit status: 0 success, 1 a failure the service reported or a local error, 2 the service\n"
    "cannot be reached or refused the credentials, 64 bad usage.\n";

static const char login_help[] =
    "Usage: rrctl login --endpoint URL --account-id ID --account-domain DOMAIN\n"
    "                   (--key-stdin | --key KEY) [--ca-file PEM] [--storage DIR]\n"
    "\n"
    "Check the credentials with the service's token service, then store them in the settings\n"
    "file, created with mode 0600 (it holds the key; rrctl refuses a file that group or others\n"
    "may read).\n"
    "\n"
    "  --endpoint URL        the service, e.g. http://127.0.0.1:8710 (openrrd's ready line)\n"
    "  --account-id ID       the account (openrrd account create prints it)\n"
    "  --account-domain D    the account domain (openrrd's `domain`, default openrr.localhost)\n"
    "  --key-stdin           read the account key from the first line of stdin (preferred)\n"
    "  --key KEY             the key on the command line (visible to other users in ps)\n"
    "  --ca-file PEM         extra trusted roots for an https endpoint\n"
    "  --storage DIR         the service's storage root (openrrd's `storage_root`), where\n"
    "                        'rrctl convert' puts local files; default ./openrr-data/storage\n"
    "  --no-check            store without asking the token service first\n"
    "\n"
    "Example:\n"
    "  openrrd account create --json | jq -r .primaryKey | \\\n"
    "      rrctl login --endpoint http://127.0.0.1:8710 --account-id \"$ID\" \\\n"
    "      --account-domain openrr.localhost --key-stdin --storage /srv/openrr/storage\n";

static const char token_help[] =
    "Usage: rrctl token [--json]\n"
    "\n"
    "Exchange the stored account key for an access token and print it (a JWT, valid 24 hours\n"
    "by default). With --json: {\"accessToken\":\"…\",\"expiresOn\":\"…\"}.\n"
    "\n"
    "Example:\n"
    "  curl -H \"Authorization: Bearer $(rrctl token)\" \\\n"
    "      'http://127.0.0.1:8710/accounts/ID/sessions?api-version=2021-01-01'\n";

/* Read one line (the key) from stdin; false when none. */
static bool read_secret_line(char *out, size_t size)
{
    size_t n = 0;
    int c;
    while ((c = getchar()) != EOF && c != '\n') {
        if (n + 1 < size) {
            out[n++] = (char)c;
        } else {
            OPENSSL_cleanse(out, size);
            return false;
        }
    }
    while (n > 0 && (out[n - 1] == '\r' || out[n - 1] == ' ' || out[n - 1] == '\t')) {
        n--;
    }
    out[n] = '\0';
    return n > 0;
}

static char *dup_or_null(const char *s)
{
    return s != NULL && s[0] != '\0' ? strdup(s) : NULL;
}

int rrctl_cmd_login(struct rrctl *rc, int argc, char **argv)
{
    struct rrctl_opt opts[] = {
        {"endpoint", true, NULL, false},
        {"account-id", true, NULL, false},
        {"account-domain", true, NULL, false},
        {"key-stdin", false, NULL, false},
        {"key", true, NULL, false},
        {"ca-file", true, NULL, false},
        {"storage", true, NULL, false},
        {"no-check", false, NULL, false},
    };
    const size_t n = sizeof(opts) / sizeof(opts[0]);
    if (!rrctl_parse(rc, argc, argv, opts, n)) {
        return RRCTL_USAGE;
    }
    if (rc->help) {
        fputs(login_help, stdout);
        return RRCTL_OK;
    }
    struct rrctl_opt *endpoint = rrctl_opt(opts, n, "endpoint"),
                     *id = rrctl_opt(opts, n, "account-id"),
                     *domain = rrctl_opt(opts, n, "account-domain"),
                     *key_stdin = rrctl_opt(opts, n, "key-stdin"), *key = rrctl_opt(opts, n, "key"),
                     *ca = rrctl_opt(opts, n, "ca-file"), *storage = rrctl_opt(opts, n, "storage");
    if (rc->npos != 0) {
        return rrctl_usage_error(rc, "unexpected operand '%s'", rc->pos[0]);
    }
    if (!endpoint->seen || !id->seen || !domain->seen) {
        return rrctl_usage_error(rc, "--endpoint, --account-id and --account-domain are needed");
    }
    if (key_stdin->seen == key->seen) {
        return rrctl_usage_error(rc, "give the key with exactly one of --key-stdin and --key");
    }
    if (ca->seen && access(ca->value, R_OK) != 0) {
        return rrctl_fail(rc, RRCTL_FAILED, "cannot read --ca-file %s: %s", ca->value,
                          strerror(errno));
    }
    char keybuf[RR_MAX_TOKEN_SIZE + 1];
    if (key_stdin->seen) {
        if (!read_secret_line(keybuf, sizeof(keybuf))) {
            return rrctl_usage_error(rc, "--key-stdin: no key on the first line of stdin");
        }
    } else {
        snprintf(keybuf, sizeof(keybuf), "%s", key->value);
        /* Blank it in argv: /proc/PID/cmdline shows argv as it is now. */
        OPENSSL_cleanse((char *)key->value, strlen(key->value));
    }
    struct rrctl_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    if (!rrctl_config_path(rc, cfg.path, sizeof(cfg.path))) {
        OPENSSL_cleanse(keybuf, sizeof(keybuf));
        return rrctl_fail(rc, RRCTL_FAILED,
                          "no settings file: set HOME or XDG_CONFIG_HOME, or pass --config FILE");
    }
    cfg.endpoint = strdup(endpoint->value);
    cfg.account_id = strdup(id->value);
    cfg.account_domain = strdup(domain->value);
    cfg.key = strdup(keybuf);
    OPENSSL_cleanse(keybuf, sizeof(keybuf));
    if (ca->seen) {
        cfg.ca_file = realpath(ca->value, NULL);
    }
    if (storage->seen) {
        char *abs = realpath(storage->value, NULL);
        cfg.storage = abs != NULL ? abs : dup_or_null(storage->value);
    }
    if (cfg.endpoint == NULL || cfg.account_id == NULL || cfg.account_domain == NULL ||
        cfg.key == NULL) {
        rrctl_config_clear(&cfg);
        return rrctl_fail(rc, RRCTL_FAILED, "out of memory");
    }
    int status = RRCTL_OK;
    if (!rrctl_opt(opts, n, "no-check")->seen) {
        struct rr_frontend *fe = NULL;
        status = rrctl_frontend(rc, &cfg, &fe);
        if (status == RRCTL_OK) {
            char token[RR_MAX_TOKEN_SIZE + 1];
            struct rrctl_result res;
            enum rr_client_result r = rrctl_token(fe, token, sizeof(token), &res);
            OPENSSL_cleanse(token, sizeof(token));
            rr_frontend_release(&fe);
            if (r != RR_CLIENT_SUCCESS) {
                status = rrctl_fail_sdk(rc, r, res.message, "login (settings not saved)");
            }
        }
    }
    if (status == RRCTL_OK) {
        status = rrctl_config_save(rc, &cfg);
    }
    if (status == RRCTL_OK) {
        if (rc->json) {
            json_t *o = json_pack("{s:s,s:s,s:s}", "config", cfg.path, "accountId", cfg.account_id,
                                  "endpoint", cfg.endpoint);
            if (o != NULL) {
                json_dumpf(o, stdout, JSON_COMPACT);
                fputc('\n', stdout);
                json_decref(o);
            }
        } else {
            printf("logged in to %s as account %s; settings in %s\n", cfg.endpoint, cfg.account_id,
                   cfg.path);
        }
    }
    rrctl_config_clear(&cfg);
    return status;
}

/* The `exp` of a JWT as ISO 8601, for --json; "" when unreadable. */
static void token_expiry(const char *jwt, char *out, size_t size);

int rrctl_cmd_token(struct rrctl *rc, int argc, char **argv)
{
    if (!rrctl_parse(rc, argc, argv, NULL, 0)) {
        return RRCTL_USAGE;
    }
    if (rc->help) {
        fputs(token_help, stdout);
        return RRCTL_OK;
    }
    if (rc->npos != 0) {
        return rrctl_usage_error(rc, "unexpected operand '%s'", rc->pos[0]);
    }
    struct rrctl_config cfg;
    int status = rrctl_config_load(rc, &cfg);
    if (status != RRCTL_OK) {
        return status;
    }
    struct rr_frontend *fe = NULL;
    status = rrctl_frontend(rc, &cfg, &fe);
    if (status == RRCTL_OK) {
        char token[RR_MAX_TOKEN_SIZE + 1];
        struct rrctl_result res;
        enum rr_client_result r = rrctl_token(fe, token, sizeof(token), &res);
        if (r != RR_CLIENT_SUCCESS) {
            status = rrctl_fail_sdk(rc, r, res.message, "token");
        } else if (rc->json) {
            char exp[40];
            token_expiry(token, exp, sizeof(exp));
            printf("{\"accessToken\":\"%s\",\"expiresOn\":\"%s\"}\n", token, exp);
        } else {
            printf("%s\n", token);
        }
        fflush(stdout);
        OPENSSL_cleanse(token, sizeof(token));
        rr_frontend_release(&fe);
    }
    rrctl_config_clear(&cfg);
    return status;
}

/* Decoding the payload is the SDK's business; here only its `exp` is wanted, so a small
 * base64url decoder of the middle part is enough. */
static int b64v(char c)
{
    if (c >= 'A' && c <= 'Z') {
        return c - 'A';
    }
    if (c >= 'a' && c <= 'z') {
        return c - 'a' + 26;
    }
    if (c >= '0' && c <= '9') {
        return c - '0' + 52;
    }
    return c == '-' ? 62 : c == '_' ? 63 : -1;
}

static void token_expiry(const char *jwt, char *out, size_t size)
{
    out[0] = '\0';
    const char *a = strchr(jwt, '.');
    const char *b = a != NULL ? strchr(a + 1, '.') : NULL;
    if (b == NULL || b - a > 4096) {
        return;
    }
    char payload[3100];
    size_t len = 0;
    unsigned acc = 0;
    int bits = 0;
    for (const char *p = a + 1; p < b; p++) {
        int v = b64v(*p);
        if (v < 0) {
            return;
        }
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            payload[len++] = (char)((acc >> bits) & 0xff);
        }
    }
    payload[len] = '\0';
    const char *e = strstr(payload, "\"exp\":");
    if (e == NULL) {
        return;
    }
    time_t t = (time_t)strtoll(e + 6, NULL, 10);
    struct tm tm;
    if (t > 0 && gmtime_r(&t, &tm) != NULL) {
        strftime(out, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
    }
}

static const struct {
    const char *name;
    int (*run)(struct rrctl *rc, int argc, char **argv);
} commands[] = {
    {"login", rrctl_cmd_login},     {"token", rrctl_cmd_token},     {"convert", rrctl_cmd_convert},
    {"session", rrctl_cmd_session}, {"inspect", rrctl_cmd_inspect}, {"cert", rrctl_cmd_cert},
};

int main(int argc, char **argv)
{
    rrctl_install_signals();
    struct rrctl rc;
    memset(&rc, 0, sizeof(rc));
    int i = 1;
    /* Global options before the command. */
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "--json") == 0) {
            rc.json = true;
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(usage_text, stdout);
            return RRCTL_OK;
        } else if (strcmp(argv[i], "--version") == 0) {
            printf("rrctl 0.1.0\n");
            return RRCTL_OK;
        } else if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
            rc.config = argv[++i];
        } else if (strncmp(argv[i], "--config=", 9) == 0) {
            rc.config = argv[i] + 9;
        } else {
            return rrctl_usage_error(&rc, "unknown option '%s'", argv[i]);
        }
    }
    if (i >= argc) {
        fputs(usage_text, stderr);
        return RRCTL_USAGE;
    }
    for (size_t c = 0; c < sizeof(commands) / sizeof(commands[0]); c++) {
        if (strcmp(argv[i], commands[c].name) == 0) {
            rc.command = commands[c].name;
            int status = commands[c].run(&rc, argc - i - 1, argv + i + 1);
            fflush(stdout);
            return status;
        }
    }
    if (strcmp(argv[i], "help") == 0) {
        fputs(usage_text, stdout);
        return RRCTL_OK;
    }
    return rrctl_usage_error(&rc, "unknown command '%s'", argv[i]);
}
