/* SPDX-License-Identifier: Apache-2.0 */
/*
 * host_options — openrr-host's command line: its own flags (assets, size, stream, inspector,
 * token verification) on top of tool_conn's connection and security flags, and the rules that
 * make the host secure by default.
 *
 * Threads: the main thread.
 */
#ifndef RR_HOST_OPTIONS_H
#define RR_HOST_OPTIONS_H

#include <tool_conn.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HOST_MAX_ASSETS 64

struct host_options {
    const char *assets[HOST_MAX_ASSETS]; /* --asset URI, in order; point into argv */
    size_t asset_count;
    bool premium;           /* --size premium: no primitive budget */
    bool budget_given;      /* --primitive-budget overrides the size's budget */
    uint64_t primitive_budget;
    bool plain;             /* --plain: no TLS, no token */
    int inspector_port;     /* -1 = no inspector */
    char *inspector_token;  /* copied out of argv or OPENRR_INSPECTOR_TOKEN (blanked); wiped */
    const char *inspector_listen; /* --inspector-listen ADDR (numeric); NULL = 127.0.0.1 */
    const char *register_url;     /* --register-url: POST the ports there once listening */
    char *register_secret;        /* OPENRR_REGISTER_TOKEN (blanked in the environment); wiped */
    const char *token_jwks; /* --token-jwks FILE */
    const char *account_id;
    const char *account_domain;
    const char *token_issuer;   /* --token-issuer: the `iss` a token must carry; NULL = any */
    const char *token_audience; /* --token-audience: an `aud` a token must carry; NULL = any */
    const char *encoder;        /* NULL = auto */
    uint32_t eye_width;
    uint32_t eye_height;
    uint32_t fps;
    uint32_t max_bitrate_kbps;
};

/* The primitive budget of the renderer and of each model a client loads: --primitive-budget,
 * else the size's (0 = none). */
uint64_t host_options_budget(const struct host_options *o);

enum host_options_result {
    HOST_OPTIONS_GO,
    HOST_OPTIONS_HELP,      /* the usage was printed */
    HOST_OPTIONS_USAGE,     /* a usage error was printed */
    HOST_OPTIONS_NO_MEMORY, /* copying a secret failed; nothing printed */
};

/* The environment variables the secrets may come in (only the process's user can read its
 * environment; every user can read its command line). Each is blanked once read. */
#define HOST_ENV_REGISTER_TOKEN "OPENRR_REGISTER_TOKEN"
#define HOST_ENV_KEY_PASSPHRASE "OPENRR_KEY_PASSPHRASE"
#define HOST_ENV_INSPECTOR_TOKEN "OPENRR_INSPECTOR_TOKEN"

/* Defaults, then argv, then the secrets from the environment (a flag wins over its variable);
 * @p tc was initialised by the caller (listening by default). */
enum host_options_result host_options_parse(struct host_options *o, struct tool_conn *tc, int argc,
                                            char **argv);

/* The security rules, then tool_conn_setup(): secure unless --plain, a certificate store, and
 * either -authenticationtoken or --token-jwks with --account-id and --account-domain (the
 * optional --token-issuer and --token-audience go with --token-jwks too).
 * Returns 0, 1 (a file) or 64 (usage, printed). */
int host_options_check(struct host_options *o, struct tool_conn *tc);

/* Wipe and free the secrets of @p o. Safe twice. */
void host_options_wipe(struct host_options *o);

#endif
