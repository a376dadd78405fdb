/* SPDX-License-Identifier: Apache-2.0 */
/*
 * openrrd — OpenRR's control plane (docs/openrrd.md): `serve` runs the token service and the
 * REST API; `account …` manages accounts and keys in the same database, also while `serve`
 * runs. main() only reads the command line and the configuration and wires fe_service.
 *
 * Threads: the main thread parses, starts the service, then waits for SIGTERM/SIGINT in
 * sigwait(); the service's modules run their own threads (which never see those signals).
 */
#include "fe_config.h"
#include "fe_keys.h"
#include "fe_log.h"
#include "fe_service.h"
#include "fe_store.h"

#include <openssl/crypto.h>

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define PROG "openrrd"
#define MAX_PAIRS 64

enum exit_status {
    EXIT_OK = 0,
    EXIT_RUNTIME = 1, /* database, data directory, port, keys */
    EXIT_USAGE = 64,  /* EX_USAGE of sysexits.h */
};

static const char USAGE[] =
    "usage: openrrd serve [--data DIR] [--listen HOST:PORT] [--config FILE] [--KEY VALUE ...]\n"
    "       openrrd account create [--data DIR] [--json]\n"
    "       openrrd account list [--data DIR] [--json]\n"
    "       openrrd account keys ACCOUNT_ID [--data DIR] [--json]\n"
    "       openrrd account regenerate-key ACCOUNT_ID primary|secondary|NAME\n"
    "               [--role Administrator|Client] [--data DIR] [--json]\n"
    "       openrrd COMMAND --help\n"
    "\n"
    "OpenRR's control plane: accounts and keys, the token service (STS), conversions and\n"
    "rendering sessions, speaking the REST API 2021-01-01 of the retired managed service.\n"
    "Exit status: 0 ok, 1 a runtime failure, 64 bad usage.\n";

static const char HELP_SERVE[] =
    "usage: openrrd serve [--data DIR] [--listen HOST:PORT] [--config FILE] [--KEY VALUE ...]\n"
    "\n"
    "Serve the token service and the REST API until SIGTERM or SIGINT (exit 0). Prints\n"
    "  ready: listening on http://HOST:PORT\n"
    "on stdout once it answers (the real port with --listen HOST:0); logs go to stderr.\n"
    "Only one openrrd serves a data directory (DIR/openrrd.lock).\n"
    "\n"
    "Settings: defaults, then the INI file of --config (or OPENRRD_CONFIG), then OPENRRD_<KEY>\n"
    "environment variables, then these flags (also --key=value):\n"
    "%s"
    "\n"
    "Examples:\n"
    "  openrrd serve\n"
    "  openrrd serve --data /var/lib/openrr --listen 0.0.0.0:443 \\\n"
    "      --tls-cert /etc/openrr/cert.pem --tls-key /etc/openrr/key.pem\n"
    "  OPENRRD_MAX_SESSIONS=2 openrrd serve --config /etc/openrr/openrrd.ini\n";

static const char HELP_CREATE[] =
    "usage: openrrd account create [--data DIR] [--config FILE] [--json]\n"
    "\n"
    "Make an account (a random GUID) with two Administrator keys, primary and secondary, and\n"
    "print the id and both keys. The keys are shown only now: openrrd keeps their SHA-256.\n"
    "--json prints {\"accountId\",\"accountDomain\",\"primaryKey\",\"secondaryKey\"}.\n"
    "\n"
    "Examples:\n"
    "  openrrd account create\n"
    "  openrrd account create --data /var/lib/openrr --json > account.json\n";

static const char HELP_LIST[] =
    "usage: openrrd account list [--data DIR] [--config FILE] [--json]\n"
    "\n"
    "List the accounts: id, domain, creation time.\n"
    "\n"
    "Examples:\n"
    "  openrrd account list\n"
    "  openrrd account list --json\n";

static const char HELP_KEYS[] =
    "usage: openrrd account keys ACCOUNT_ID [--data DIR] [--config FILE] [--json]\n"
    "\n"
    "List an account's keys: name, role, creation time (never the keys).\n"
    "\n"
    "Example:\n"
    "  openrrd account keys 1b2c3d4e-0000-4000-8000-00000000abcd\n";

static const char HELP_REGEN[] =
    "usage: openrrd account regenerate-key ACCOUNT_ID primary|secondary|NAME\n"
    "       [--role Administrator|Client] [--data DIR] [--config FILE] [--json]\n"
    "\n"
    "Replace the named key with a new random one (tokens it issued stay valid until they\n"
    "expire), or make a new named key, and print it once. The role defaults to the replaced\n"
    "key's, else Administrator. NAME: 1 to 63 of A-Z a-z 0-9 _ -.\n"
    "\n"
    "Examples:\n"
    "  openrrd account regenerate-key 1b2c3d4e-0000-4000-8000-00000000abcd secondary\n"
    "  openrrd account regenerate-key 1b2c3d4e-0000-4000-8000-00000000abcd devices --role Client\n";

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs(PROG ": ", stderr);
    vfprintf(stderr, fmt, ap);
    fputs("\nTry 'openrrd --help' for the commands, 'openrrd COMMAND --help' for one.\n", stderr);
    va_end(ap);
    return EXIT_USAGE;
}

static int runtime_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int runtime_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs(PROG ": ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return EXIT_RUNTIME;
}

/* ---- the command line -------------------------------------------------------------------- */

struct cmdline {
    const char *config_file;
    bool json;
    bool help;
    const char *role;
    size_t npos;
    const char *pos[4];
    size_t npairs;
    struct {
        const char *key;
        const char *value;
        char origin[80];
    } pairs[MAX_PAIRS];
};

/* Read flags and positionals from argv[start…]. @p allow_role: --role is a flag here.
 * Returns EXIT_OK or EXIT_USAGE (message printed). */
static int parse_cmdline(int argc, char **argv, int start, bool allow_role, bool allow_json,
                         size_t max_pos, struct cmdline *out)
{
    memset(out, 0, sizeof *out);
    for (int i = start; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            out->help = true;
            continue;
        }
        if (a[0] != '-' || a[1] == '\0') {
            if (out->npos == max_pos || out->npos == 4) {
                return usage_error("unexpected argument '%s'", a);
            }
            out->pos[out->npos++] = a;
            continue;
        }
        const char *name = a + (a[1] == '-' ? 2 : 1);
        char key[64];
        const char *eq = strchr(name, '=');
        size_t klen = eq != NULL ? (size_t)(eq - name) : strlen(name);
        if (klen == 0 || klen >= sizeof key) {
            return usage_error("unknown flag '%s'", a);
        }
        memcpy(key, name, klen);
        key[klen] = '\0';
        const char *value = eq != NULL ? eq + 1 : NULL;
        bool is_bool = false;
        if (allow_json && strcmp(key, "json") == 0 && value == NULL) {
            out->json = true;
            continue;
        }
        bool is_config = strcmp(key, "config") == 0;
        bool is_role = allow_role && strcmp(key, "role") == 0;
        if (!is_config && !is_role && !fe_config_is_key(key, &is_bool)) {
            return usage_error("unknown flag '%s'", a);
        }
        if (value == NULL) {
            bool next_is_value = i + 1 < argc && (argv[i + 1][0] != '-' || argv[i + 1][1] == '\0');
            if (is_bool &&
                (!next_is_value ||
                 (strcasecmp(argv[i + 1], "true") != 0 && strcasecmp(argv[i + 1], "false") != 0 &&
                  strcasecmp(argv[i + 1], "yes") != 0 && strcasecmp(argv[i + 1], "no") != 0 &&
                  strcasecmp(argv[i + 1], "on") != 0 && strcasecmp(argv[i + 1], "off") != 0 &&
                  strcmp(argv[i + 1], "1") != 0 && strcmp(argv[i + 1], "0") != 0))) {
                value = "true";
            } else if (i + 1 < argc) {
                value = argv[++i];
            } else {
                return usage_error("%s needs a value", a);
            }
        }
        if (is_config) {
            out->config_file = value;
        } else if (is_role) {
            out->role = value;
        } else {
            if (out->npairs == MAX_PAIRS) {
                return usage_error("too many flags");
            }
            /* The key text lives in argv: point at it (up to '=' when there is one). */
            out->pairs[out->npairs].key = name;
            out->pairs[out->npairs].value = value;
            snprintf(out->pairs[out->npairs].origin, sizeof out->pairs[0].origin, "--%s", key);
            out->npairs++;
        }
    }
    return EXIT_OK;
}

/* Defaults, INI file, environment, flags; then the derived values. */
static int load_config(const struct cmdline *cl, struct fe_config *cfg)
{
    char err[1024] = "";
    fe_config_defaults(cfg);
    const char *file = cl->config_file != NULL ? cl->config_file : getenv("OPENRRD_CONFIG");
    if (file != NULL && file[0] != '\0' && !fe_config_load_file(cfg, file, err, sizeof err)) {
        /* An unreadable file is a runtime failure; a bad line in it is bad usage. */
        return strstr(err, "cannot read") != NULL ? runtime_error("%s", err)
                                                  : usage_error("%s", err);
    }
    if (!fe_config_load_env(cfg, err, sizeof err)) {
        return usage_error("%s", err);
    }
    for (size_t i = 0; i < cl->npairs; i++) {
        char key[64];
        size_t klen = strcspn(cl->pairs[i].key, "=");
        snprintf(key, sizeof key, "%.*s", (int)klen, cl->pairs[i].key);
        if (!fe_config_set(cfg, key, cl->pairs[i].value, cl->pairs[i].origin, err, sizeof err)) {
            return usage_error("%s", err);
        }
    }
    if (!fe_config_finish(cfg, err, sizeof err)) {
        return usage_error("%s", err);
    }
    return EXIT_OK;
}

/* ---- serve -------------------------------------------------------------------------------- */

static enum fe_log_level log_level_from_env(void)
{
    const char *v = getenv("OPENRRD_LOG");
    if (v == NULL) {
        return FE_LOG_INFO;
    }
    if (strcasecmp(v, "debug") == 0) {
        return FE_LOG_DEBUG;
    }
    if (strcasecmp(v, "warn") == 0) {
        return FE_LOG_WARN;
    }
    if (strcasecmp(v, "error") == 0) {
        return FE_LOG_ERROR;
    }
    return FE_LOG_INFO;
}

static int cmd_serve(int argc, char **argv)
{
    struct cmdline cl;
    int rc = parse_cmdline(argc, argv, 2, false, false, 0, &cl);
    if (rc != EXIT_OK) {
        return rc;
    }
    if (cl.help) {
        printf(HELP_SERVE, fe_config_help());
        return EXIT_OK;
    }
    struct fe_config cfg;
    rc = load_config(&cl, &cfg);
    if (rc != EXIT_OK) {
        fe_config_clear(&cfg);
        return rc;
    }
    fe_log_configure(cfg.log_json != 0, log_level_from_env());

    /* Every thread the service starts inherits this mask: the signals come to sigwait. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    struct fe_service *svc = NULL;
    char err[1024] = "";
    if (!fe_service_create(&cfg, &svc, err, sizeof err)) {
        fe_config_clear(&cfg);
        return runtime_error("%s", err);
    }
    printf("ready: listening on %s\n", fe_service_url(svc));
    fflush(stdout);
    int sig = 0;
    while (sigwait(&set, &sig) != 0) {
    }
    fe_log_msg(FE_LOG_INFO, "stop",
               "signal %d: stopping (hosts and conversions keep their "
               "records)",
               sig);
    fe_service_destroy(&svc);
    fe_config_clear(&cfg);
    return EXIT_OK;
}

/* ---- accounts ----------------------------------------------------------------------------- */

static void iso_time(int64_t t, char out[32])
{
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static const char *role_name(unsigned role)
{
    return (role & FE_ROLE_ADMINISTRATOR) != 0 ? "Administrator" : "Client";
}

static int open_store(const struct fe_config *cfg, struct fe_store **store)
{
    char err[1024] = "";
    if (!fe_data_store_open(cfg->data_dir, store, err, sizeof err)) {
        return runtime_error("%s", err);
    }
    return EXIT_OK;
}

static int account_create(const struct fe_config *cfg, const struct cmdline *cl)
{
    struct fe_store *store = NULL;
    int rc = open_store(cfg, &store);
    if (rc != EXIT_OK) {
        return rc;
    }
    struct fe_account_record acc;
    memset(&acc, 0, sizeof acc);
    struct fe_key_record keys[2];
    memset(keys, 0, sizeof keys);
    char texts[2][FE_KEY_TEXT_SIZE];
    static const char *const names[2] = {"primary", "secondary"};
    if (!fe_guid_generate(acc.id)) {
        fe_store_destroy(&store);
        return runtime_error("the random generator failed");
    }
    snprintf(acc.domain, sizeof acc.domain, "%s", cfg->domain);
    acc.created = (int64_t)time(NULL);
    for (size_t i = 0; i < 2; i++) {
        if (!fe_key_generate(texts[i], keys[i].sha256)) {
            fe_store_destroy(&store);
            return runtime_error("the random generator failed");
        }
        snprintf(keys[i].account_id, sizeof keys[i].account_id, "%s", acc.id);
        snprintf(keys[i].name, sizeof keys[i].name, "%s", names[i]);
        keys[i].role = FE_ROLE_ADMINISTRATOR;
        keys[i].created = acc.created;
    }
    char err[512] = "";
    enum fe_store_result r = store->account_create(store, &acc, keys, 2, err, sizeof err);
    fe_store_destroy(&store);
    if (r != FE_STORE_OK) {
        OPENSSL_cleanse(texts, sizeof texts);
        return runtime_error("cannot create the account: %s%s%s", fe_store_result_str(r),
                             err[0] != '\0' ? ": " : "", err);
    }
    if (cl->json) {
        printf("{\"accountId\":\"%s\",\"accountDomain\":\"%s\",\"primaryKey\":\"%s\","
               "\"secondaryKey\":\"%s\"}\n",
               acc.id, acc.domain, texts[0], texts[1]);
    } else {
        printf("account id:     %s\n"
               "account domain: %s\n"
               "primary key:    %s\n"
               "secondary key:  %s\n"
               "The keys are shown only now: openrrd keeps only their SHA-256.\n",
               acc.id, acc.domain, texts[0], texts[1]);
    }
    fflush(stdout);
    OPENSSL_cleanse(texts, sizeof texts);
    return ferror(stdout) ? runtime_error("cannot write the keys to stdout") : EXIT_OK;
}

static int account_list(const struct fe_config *cfg, const struct cmdline *cl)
{
    struct fe_store *store = NULL;
    int rc = open_store(cfg, &store);
    if (rc != EXIT_OK) {
        return rc;
    }
    struct fe_account_record *accs = NULL;
    size_t n = 0;
    enum fe_store_result r = store->account_list(store, &accs, &n);
    fe_store_destroy(&store);
    if (r != FE_STORE_OK) {
        return runtime_error("cannot list the accounts: %s", fe_store_result_str(r));
    }
    if (cl->json) {
        fputs("{\"accounts\":[", stdout);
    } else if (n == 0) {
        printf("no accounts (make one with: openrrd account create)\n");
    } else {
        printf("%-36s  %-30s  %s\n", "ACCOUNT ID", "DOMAIN", "CREATED");
    }
    for (size_t i = 0; i < n; i++) {
        char t[32];
        iso_time(accs[i].created, t);
        if (cl->json) {
            printf("%s{\"accountId\":\"%s\",\"accountDomain\":\"%s\",\"creationTime\":\"%s\"}",
                   i > 0 ? "," : "", accs[i].id, accs[i].domain, t);
        } else {
            printf("%-36s  %-30s  %s\n", accs[i].id, accs[i].domain, t);
        }
    }
    if (cl->json) {
        fputs("]}\n", stdout);
    }
    free(accs);
    return EXIT_OK;
}

/* Open the store and read account @p id; on failure the store is closed and the exit status
 * says why ("no account 'ID'"). */
static int open_account(const struct fe_config *cfg, const char *id, struct fe_store **out_store,
                        struct fe_account_record *acc)
{
    int rc = open_store(cfg, out_store);
    if (rc != EXIT_OK) {
        return rc;
    }
    enum fe_store_result r = (*out_store)->account_get(*out_store, id, acc);
    if (r != FE_STORE_OK) {
        fe_store_destroy(out_store);
        return r == FE_STORE_NOT_FOUND
                   ? runtime_error("no account '%s'", id)
                   : runtime_error("cannot read the account: %s", fe_store_result_str(r));
    }
    return EXIT_OK;
}

static int account_keys(const struct fe_config *cfg, const struct cmdline *cl, const char *id)
{
    struct fe_store *store = NULL;
    struct fe_account_record acc;
    int rc = open_account(cfg, id, &store, &acc);
    if (rc != EXIT_OK) {
        return rc;
    }
    struct fe_key_record keys[64];
    size_t n = 0;
    enum fe_store_result r = store->key_list(store, id, keys, 64, &n);
    fe_store_destroy(&store);
    if (r != FE_STORE_OK) {
        return runtime_error("cannot list the keys: %s", fe_store_result_str(r));
    }
    if (n > 64) {
        n = 64;
    }
    if (cl->json) {
        printf("{\"accountId\":\"%s\",\"keys\":[", id);
    } else {
        printf("%-20s  %-13s  %s\n", "NAME", "ROLE", "CREATED");
    }
    for (size_t i = 0; i < n; i++) {
        char t[32];
        iso_time(keys[i].created, t);
        if (cl->json) {
            printf("%s{\"name\":\"%s\",\"role\":\"%s\",\"creationTime\":\"%s\"}", i > 0 ? "," : "",
                   keys[i].name, role_name(keys[i].role), t);
        } else {
            printf("%-20s  %-13s  %s\n", keys[i].name, role_name(keys[i].role), t);
        }
    }
    if (cl->json) {
        fputs("]}\n", stdout);
    }
    return EXIT_OK;
}

static bool key_name_valid(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n >= FE_NAME_SIZE) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-')) {
            return false;
        }
    }
    return true;
}

static int account_regenerate(const struct fe_config *cfg, const struct cmdline *cl, const char *id,
                              const char *name)
{
    unsigned role = 0;
    if (cl->role != NULL) {
        if (strcasecmp(cl->role, "Administrator") == 0) {
            role = FE_ROLE_ADMINISTRATOR;
        } else if (strcasecmp(cl->role, "Client") == 0) {
            role = FE_ROLE_CLIENT;
        } else {
            return usage_error("--role must be Administrator or Client, not '%s'", cl->role);
        }
    }
    if (!key_name_valid(name)) {
        return usage_error("the key name '%s' must be 1 to %d of A-Z a-z 0-9 _ -", name,
                           FE_NAME_SIZE - 1);
    }
    struct fe_store *store = NULL;
    struct fe_account_record acc;
    int rc = open_account(cfg, id, &store, &acc);
    if (rc != EXIT_OK) {
        return rc;
    }
    if (role == 0) {
        struct fe_key_record keys[64];
        size_t n = 0;
        role = FE_ROLE_ADMINISTRATOR;
        if (store->key_list(store, id, keys, 64, &n) == FE_STORE_OK) {
            for (size_t i = 0; i < n && i < 64; i++) {
                if (strcmp(keys[i].name, name) == 0) {
                    role = keys[i].role;
                }
            }
        }
    }
    struct fe_key_record key;
    memset(&key, 0, sizeof key);
    char text[FE_KEY_TEXT_SIZE];
    if (!fe_key_generate(text, key.sha256)) {
        fe_store_destroy(&store);
        return runtime_error("the random generator failed");
    }
    snprintf(key.account_id, sizeof key.account_id, "%s", id);
    snprintf(key.name, sizeof key.name, "%s", name);
    key.role = role;
    key.created = (int64_t)time(NULL);
    char err[512] = "";
    enum fe_store_result r = store->key_put(store, &key, err, sizeof err);
    fe_store_destroy(&store);
    if (r != FE_STORE_OK) {
        OPENSSL_cleanse(text, sizeof text);
        return runtime_error("cannot store the key: %s%s%s", fe_store_result_str(r),
                             err[0] != '\0' ? ": " : "", err);
    }
    if (cl->json) {
        printf("{\"accountId\":\"%s\",\"name\":\"%s\",\"role\":\"%s\",\"key\":\"%s\"}\n", id, name,
               role_name(role), text);
    } else {
        printf("account id: %s\nkey name:   %s\nrole:       %s\nkey:        %s\n"
               "The key is shown only now: openrrd keeps only its SHA-256.\n",
               id, name, role_name(role), text);
    }
    fflush(stdout);
    OPENSSL_cleanse(text, sizeof text);
    return ferror(stdout) ? runtime_error("cannot write the key to stdout") : EXIT_OK;
}

static int cmd_account(int argc, char **argv)
{
    if (argc < 3 || strcmp(argv[2], "--help") == 0 || strcmp(argv[2], "-h") == 0) {
        if (argc >= 3) {
            printf("%s\n%s\n%s\n%s", HELP_CREATE, HELP_LIST, HELP_KEYS, HELP_REGEN);
            return EXIT_OK;
        }
        return usage_error("account needs a command: create, list, keys or regenerate-key");
    }
    const char *sub = argv[2];
    size_t want_pos;
    const char *help;
    bool role = false;
    if (strcmp(sub, "create") == 0) {
        want_pos = 0;
        help = HELP_CREATE;
    } else if (strcmp(sub, "list") == 0) {
        want_pos = 0;
        help = HELP_LIST;
    } else if (strcmp(sub, "keys") == 0) {
        want_pos = 1;
        help = HELP_KEYS;
    } else if (strcmp(sub, "regenerate-key") == 0) {
        want_pos = 2;
        help = HELP_REGEN;
        role = true;
    } else {
        return usage_error("unknown account command '%s'", sub);
    }
    struct cmdline cl;
    int rc = parse_cmdline(argc, argv, 3, role, true, want_pos, &cl);
    if (rc != EXIT_OK) {
        return rc;
    }
    if (cl.help) {
        fputs(help, stdout);
        return EXIT_OK;
    }
    if (cl.npos != want_pos) {
        return usage_error("account %s takes %s", sub,
                           want_pos == 0   ? "no arguments"
                           : want_pos == 1 ? "ACCOUNT_ID"
                                           : "ACCOUNT_ID and a key name");
    }
    struct fe_config cfg;
    rc = load_config(&cl, &cfg);
    if (rc == EXIT_OK) {
        fe_log_configure(cfg.log_json != 0, log_level_from_env());
        if (strcmp(sub, "create") == 0) {
            rc = account_create(&cfg, &cl);
        } else if (strcmp(sub, "list") == 0) {
            rc = account_list(&cfg, &cl);
        } else if (strcmp(sub, "keys") == 0) {
            rc = account_keys(&cfg, &cl, cl.pos[0]);
        } else {
            rc = account_regenerate(&cfg, &cl, cl.pos[0], cl.pos[1]);
        }
    }
    fe_config_clear(&cfg);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fputs(USAGE, stderr);
        return EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        fputs(USAGE, stdout);
        return EXIT_OK;
    }
    if (strcmp(cmd, "--version") == 0) {
        printf("openrrd 0.1.0\n");
        return EXIT_OK;
    }
    if (strcmp(cmd, "serve") == 0) {
        return cmd_serve(argc, argv);
    }
    if (strcmp(cmd, "account") == 0) {
        return cmd_account(argc, argv);
    }
    return usage_error("unknown command '%s'", cmd);
}
