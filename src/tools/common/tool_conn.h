/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tool_conn — the connection and security flags shared by openrr-remoting, openrr-player and
 * openrr-testremote (the reference samples' flags: -listen, -secureconnection,
 * -authenticationtoken, -certificatestore, …), the four security interfaces they imply, and
 * starting the listen/connect. Flags take '-' or '--' and ignore case.
 *
 * Threads: parse/setup/start on the main thread; the interface callbacks run on the library's
 * network thread and only read options fixed before the first listen/connect.
 * Secrets (token, passphrase, store bytes) are copied out of argv (which is blanked) and wiped
 * by tool_conn_wipe(); they are never printed.
 */
#ifndef RR_TOOL_CONN_H
#define RR_TOOL_CONN_H

#include <openrr/remoting.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct tool_conn_options {
    bool listen;
    bool have_address;
    char host[256]; /* "" = all addresses when listening */
    uint16_t port;  /* default RR_DEFAULT_HANDSHAKE_PORT */
    int transport_port; /* -1: handshake port + 1 */
    bool ephemeral;
    bool secure;
    char *token;      /* copied out of argv; wiped */
    char *passphrase; /* copied out of argv; wiped */
    const char *realm;
    const char *store_path;
    const char *subject_name;
    bool allow_name_mismatch;
    bool allow_unverified_chain;
    const char *ca_file;
    const char *crl_file;
    bool force_revocation_check;
    uint32_t peer_timeout_ms; /* -peertimeout MS; 0 = library default (5000) */
};

struct tool_conn {
    const char *prog; /* program name for messages, e.g. "openrr-player" */
    struct tool_conn_options opt;
    uint8_t *store; /* certificate store bytes; wiped */
    size_t store_size;
    struct rr_certificate_provider cert_provider;
    struct rr_authentication_receiver auth_receiver;
    struct rr_authentication_provider auth_provider;
    struct rr_certificate_validator validator;
};

/* Defaults: connect to localhost:8265 unless @p listen_by_default (then listen on all
 * addresses, port 8265). */
void tool_conn_init(struct tool_conn *tc, const char *prog, bool listen_by_default);

enum tool_conn_parse {
    TOOL_CONN_NOT_MINE = 0, /* not a connection/security flag: the program handles it */
    TOOL_CONN_TAKEN = 1,    /* consumed argv[*i] (and its value; *i advanced past it) */
    TOOL_CONN_BAD = 2,      /* a usage error was printed */
    TOOL_CONN_NO_MEMORY = 3,
};
/* Try argv[*i]: a connection/security flag, or a positional host[:port]. */
enum tool_conn_parse tool_conn_parse_arg(struct tool_conn *tc, int argc, char **argv, int *i);

/* The usage text of these flags (a "Connection:" and a "Security:" block). */
const char *tool_conn_usage(void);

/* Check combinations (e.g. -secureconnection needs -authenticationtoken; a secure listener
 * needs -certificatestore), read the store and check it, set up the interfaces. Prints what
 * is wrong and what to do. Returns 0, 1 (a file or other error) or 64 (usage). */
int tool_conn_setup(struct tool_conn *tc);

/* Fill the connection parts of @p cfg (ca_file, crl_file, force_revocation_check,
 * peer_timeout_ms); the caller sets role, codecs and the rest. */
void tool_conn_fill_config(const struct tool_conn *tc, struct rr_context_config *cfg);

/* Start listening or connecting on @p ctx as the options say. */
enum rr_result tool_conn_start(struct tool_conn *tc, struct rr_context *ctx);

/* Wipe and free the secrets. Call after rr_context_destroy(). */
void tool_conn_wipe(struct tool_conn *tc);

/* "PeerDisconnectTimeout: no traffic for 5 s" style text for a reason and detail. */
const char *tool_conn_describe(enum rr_disconnect_reason reason, const char *detail, char *buf,
                               size_t size);

#endif
