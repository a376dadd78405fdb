/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fe_config — openrrd's settings: defaults that run with no file, then an INI file
 * (--config FILE, read with inih), then OPENRRD_* environment variables, then command-line
 * flags, each overriding the one before (docs/openrrd.md lists every key).
 *
 * Threads: filled on the main thread before anything starts; read-only afterwards.
 * Ownership: strings are malloc'd copies owned by the config (fe_config_clear frees them).
 */
#ifndef OPENRR_FE_CONFIG_H
#define OPENRR_FE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FE_DEFAULT_DATA_DIR "./openrr-data"
#define FE_DEFAULT_LISTEN "127.0.0.1:8710"

struct fe_config {
    /* [service] */
    char *data_dir;          /* default ./openrr-data; created 0700 */
    char *listen_host;       /* default 127.0.0.1 */
    uint16_t listen_port;    /* default 8710; 0 = any free port (printed on the ready line) */
    char *tls_cert;          /* PEM certificate chain: HTTPS when set (with tls_key) */
    char *tls_key;           /* PEM private key */
    char *domain;            /* account domain; default "openrr.localhost" */
    char *region;            /* the `apr` claim and the location; default "local" */
    char *public_host;       /* hostname/IP clients reach hosts at; default listen_host,
                                127.0.0.1 when that is 0.0.0.0 or :: */
    unsigned http_threads;   /* default: online CPUs (at least 2) */
    size_t max_body_bytes;   /* default 64 KiB; larger → 413 */
    unsigned rate_per_second; /* per account, sustained; 0 = no limit; default 100 */
    unsigned rate_burst;      /* default 200 */
    int log_json;             /* logs as JSON lines instead of key=value */

    /* [tokens] */
    char *token_alg;           /* "ES256" (default) or "RS256" */
    int64_t token_lifetime_s;  /* default 86400 */
    char *idp_jwks;            /* an identity provider's JWK Set file: the STS exchanges its
                                  tokens; NULL = none */
    char *idp_issuer;          /* its `iss`; required with idp_jwks */
    char *idp_audience;        /* the `aud` its tokens carry for this STS; required with it */
    char *idp_account_claim;   /* the string claim naming the account; default "aid" */

    /* [conversions] */
    char *storage_root;        /* file:// containers must lie under it; default <data>/storage */
    unsigned conversion_workers;   /* default 1 */
    unsigned max_queued_conversions; /* NotStarted at most; more → 429; default 64 */
    uint64_t conversion_memory_bytes; /* RLIMIT_AS of openrr-convert; default 16 GiB */
    uint64_t conversion_cpu_seconds;  /* RLIMIT_CPU; default 7200 */
    uint64_t conversion_file_bytes;   /* RLIMIT_FSIZE; default 8 GiB */
    uint64_t max_download_bytes;      /* an http(s) input (each file); default 2 GiB */
    char *convert_path;        /* openrr-convert; default: next to openrrd, else PATH */

    /* [sessions] */
    char *host_path;           /* openrr-host; default: next to openrrd, else PATH */
    uint16_t host_port_min;    /* default 49152 */
    uint16_t host_port_max;    /* default 65534 */
    unsigned session_start_timeout_s; /* Starting longer → Error; default 60 */
    unsigned max_sessions;     /* Starting + Ready at most (all accounts); default 8 */
    char **host_extra_args;    /* appended to every openrr-host command line (e.g. --plain is
                                  never allowed; --eye-size 640x360 is); NULL-terminated */
};

/* Defaults into @p c (zeroed first). */
void fe_config_defaults(struct fe_config *c);
void fe_config_clear(struct fe_config *c);

/* ---- loading (fe_config.c) ------------------------------------------------------------------
 * Each returns false with a one-line reason in @p err (naming the key, file and line, never a
 * value that could be a secret). Keys are spelled with underscores or dashes, any case. */

/* Set one key from text (sizes take K/M/G/T suffixes of 1024; booleans true/false/yes/no/
 * on/off/1/0). @p origin names where the value came from, for the message ("--listen",
 * "OPENRRD_LISTEN", "openrrd.ini:3"). */
bool fe_config_set(struct fe_config *c, const char *key, const char *value, const char *origin,
                   char *err, size_t err_size);
/* Whether @p key names a configuration key; *@p out_bool says whether it is a boolean (a flag
 * that may stand without a value). */
bool fe_config_is_key(const char *key, bool *out_bool);
/* Apply an INI file: [service], [tokens], [conversions], [sessions] or no section; an unknown
 * key or section is an error. */
bool fe_config_load_file(struct fe_config *c, const char *path, char *err, size_t err_size);
/* Apply every OPENRRD_<KEY> variable of the environment that names a key. */
bool fe_config_load_env(struct fe_config *c, char *err, size_t err_size);
/* Fill what derives from other keys (public_host, storage_root, paths made absolute) and check
 * what spans keys (tls_cert with tls_key, port range). Call once after the last set. */
bool fe_config_finish(struct fe_config *c, char *err, size_t err_size);
/* The "key  default  meaning" table of --help (static text). */
const char *fe_config_help(void);

#endif /* OPENRR_FE_CONFIG_H */
