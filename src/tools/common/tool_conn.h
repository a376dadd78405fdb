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
 *
 * Output: usage errors go to stderr as "PROG: what\nTry 'PROG --help' …", other errors as
 * "error: what"; progress lines ("client token accepted", "certificate store …: certificate
 * sha256 …") go through tool_conn.say (see there).
 */
#ifndef RR_TOOL_CONN_H
#define RR_TOOL_CONN_H

#include <openrr/remoting.h>

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct tool_conn_options {
    bool listen;
    bool have_address;
    char host[256];     /* "" = all addresses when listening */
    uint16_t port;      /* default RR_DEFAULT_HANDSHAKE_PORT */
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
    /* Optional, set after tool_conn_init(): receives each progress line (printf format, no
     * newline). Called on the main thread and on the network thread (from the interface
     * callbacks), so it must be thread-safe. NULL (the default): "[  1.234] line" on stdout,
     * seconds since tool_conn_init(), flushed at once. */
    void (*say)(void *user, const char *fmt, va_list ap);
    void *say_user;
    /* Optional, set after tool_conn_init(): a secure listener's own judge of client tokens
     * (e.g. access tokens checked against a JWKS) used instead of the fixed
     * -authenticationtoken, which is then not required. Must be ready by the first listen and
     * outlive the context. */
    struct rr_authentication_receiver *receiver;
    /* Private: set by tool_conn_init(). */
    bool listen_by_default;
    int64_t start_us;
};

/* Reset @p tc to the defaults: connect to localhost:8265 unless @p listen_by_default (then
 * listen on all addresses, port 8265, as long as no host[:port] is given without -listen),
 * realm "OpenRR Remoting", library peer timeout. @p prog (not copied; a string literal) names
 * the program in messages. Owns nothing yet, so tool_conn_wipe() is optional before parsing. */
void tool_conn_init(struct tool_conn *tc, const char *prog, bool listen_by_default);

enum tool_conn_parse {
    TOOL_CONN_NOT_MINE = 0, /* not a connection/security flag: the program handles it */
    TOOL_CONN_TAKEN = 1,    /* consumed argv[*i] (and its value; *i advanced past it) */
    TOOL_CONN_BAD = 2,      /* a usage error was printed */
    TOOL_CONN_NO_MEMORY = 3,
};
/* Try argv[*i]: a connection/security flag, or a positional host[:port] (any argument not
 * starting with '-'; so a program handles its own flags' values before calling this, as the
 * usual loop below does). On TOOL_CONN_TAKEN *i is the index of the last argument consumed
 * (the flag's value, or the address after -listen), so that the loop's i++ moves on:
 *
 *     for (int i = 1; i < argc; i++) {
 *         enum tool_conn_parse p = tool_conn_parse_arg(&tc, argc, argv, &i);
 *         if (p == TOOL_CONN_TAKEN) continue;
 *         if (p != TOOL_CONN_NOT_MINE) return p == TOOL_CONN_BAD ? 64 : 1;
 *         ... the program's own flags, "unknown flag" otherwise ...
 *     }
 *
 * -authenticationtoken and -keypassphrase are copied and blanked in argv, so they do not stay
 * in /proc/PID/cmdline. TOOL_CONN_BAD: a bad value, a missing value, a second address, an
 * address that is not host[:port] ([v6]:port); the message is printed on stderr.
 * TOOL_CONN_NO_MEMORY: copying a secret failed; nothing printed. Main thread. */
enum tool_conn_parse tool_conn_parse_arg(struct tool_conn *tc, int argc, char **argv, int *i);

/* The usage text of these flags (a "Connection:" and a "Security:" block, each line indented
 * two spaces, descriptions at column 30, ending with a newline). Static storage. */
const char *tool_conn_usage(void);

/* Check combinations (e.g. -secureconnection needs -authenticationtoken; a secure listener
 * needs -certificatestore), read the store and check it, set up the interfaces. Prints what
 * is wrong and what to do. Returns 0, 1 (a file or other error) or 64 (usage).
 * Resolves the defaults (listen or connect, host "localhost" or all addresses) first; a
 * readable but unusable store is only a warning line, since the listen attempt itself then
 * ends with NoServerCertificate. Call once, after parsing, before tool_conn_start(). */
int tool_conn_setup(struct tool_conn *tc);

/* Fill the connection parts of @p cfg (ca_file, crl_file, force_revocation_check,
 * peer_timeout_ms); the caller sets role, codecs and the rest. A -peertimeout below 4000 ms
 * also sets keepalive_interval_ms to a quarter of it: the peer answers every keepalive, so a
 * live but quiet peer is never mistaken for a dead one. Strings point into @p tc (argv). */
void tool_conn_fill_config(const struct tool_conn *tc, struct rr_context_config *cfg);

/* Start listening or connecting on @p ctx as the options say (a listener on the ports of
 * tool_conn_listen_ports()). Asynchronous: the outcome arrives as events. Errors: those of
 * rr_context_listen(_secure) and rr_context_connect(_secure). */
enum rr_result tool_conn_start(struct tool_conn *tc, struct rr_context *ctx);

/* The handshake and transport ports a listener asks for: 0 and 0 with -ephemeralport (or the
 * -transportport given), else the port of the address and -transportport, which defaults to
 * the handshake port + 1 (0 = any free port, when the handshake port is 0 or 65535). */
void tool_conn_listen_ports(const struct tool_conn *tc, uint16_t *out_port,
                            uint16_t *out_transport_port);

/* Listen on @p ctx on the options' host and security, on explicit ports (0 = any free one):
 * for a listener that listens again after a connection on the ports it was given the first
 * time. Errors: those of rr_context_listen(_secure). Main thread. */
enum rr_result tool_conn_listen(struct tool_conn *tc, struct rr_context *ctx, uint16_t port,
                                uint16_t transport_port);

/* Wipe and free the secrets. Call after rr_context_destroy(). Safe to call twice. */
void tool_conn_wipe(struct tool_conn *tc);

/* "PeerDisconnectTimeout: no traffic for 5 s" style text for a reason and detail ("Name" alone
 * when @p detail is NULL or empty) in @p buf, truncated to @p size; returns @p buf. */
const char *tool_conn_describe(enum rr_disconnect_reason reason, const char *detail, char *buf,
                               size_t size);

#endif
