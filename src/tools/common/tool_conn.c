/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tool_conn — the connection and security flags of OpenRR's programs, the four security
 * interfaces behind them, and the listen/connect they lead to (see tool_conn.h).
 *
 * Threads: parsing, setup, start and wipe run on the main thread. The four interface
 * callbacks run on the library's network thread; they only read options fixed before the
 * first listen/connect and complete their request at once.
 */
#include "tool_conn.h"
#include "tool_util.h"

#include <openssl/crypto.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define EXIT_OTHER 1
#define EXIT_USAGE 64 /* EX_USAGE of sysexits.h */
#define DEFAULT_REALM "OpenRR Remoting"
#define MIN_PEER_TIMEOUT_MS 100
#define MAX_PEER_TIMEOUT_MS 3600000
/* The library's keepalive interval when rr_context_config.keepalive_interval_ms is 0. */
#define DEFAULT_KEEPALIVE_MS 1000u
/* Keepalives per peer timeout when the timeout is short: one lost or late answer still leaves
 * the others inside the timeout. */
#define KEEPALIVES_PER_TIMEOUT 4u
#define MAX_REALM_SHOWN 80u

/* The interfaces are members of struct tool_conn; get it back from one of them. */
#define TC_FROM(ptr, member)                                                                       \
    ((struct tool_conn *)(void *)((char *)(ptr)-offsetof(struct tool_conn, member)))

/* ---- output ------------------------------------------------------------------------------ */

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* A progress line, through the program's hook or timestamped on stdout. Callbacks print from
 * the network thread, so the default writes under the stream lock and flushes. */
static void __attribute__((format(printf, 2, 3)))
say(const struct tool_conn *tc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (tc->say != NULL) {
        tc->say(tc->say_user, fmt, ap);
    } else {
        flockfile(stdout);
        printf("[%7.3f] ", (double)(now_us() - tc->start_us) / 1e6);
        vprintf(fmt, ap);
        putchar('\n');
        fflush(stdout);
        funlockfile(stdout);
    }
    va_end(ap);
}

/* The realm comes from the network: show it only when it is short printable ASCII. */
static bool printable(const char *s)
{
    size_t n = s != NULL ? strnlen(s, MAX_REALM_SHOWN + 1) : 0;
    if (n == 0 || n > MAX_REALM_SHOWN) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e) {
            return false;
        }
    }
    return true;
}

/* ---- the four interfaces (network thread) ------------------------------------------------ */

static void provide_certificate(struct rr_certificate_provider *self,
                                struct rr_certificate_request *req)
{
    struct tool_conn *tc = TC_FROM(self, cert_provider);
    say(tc, "certificate requested; presenting %s", tc->opt.store_path);
    rr_certificate_request_complete(req, tc->store, tc->store_size, tc->opt.subject_name,
                                    tc->opt.passphrase != NULL ? tc->opt.passphrase : "");
}

static const char *provide_realm(struct rr_authentication_receiver *self)
{
    return TC_FROM(self, auth_receiver)->opt.realm;
}

static void check_token(struct rr_authentication_receiver *self, const char *token,
                        struct rr_token_validation *req)
{
    struct tool_conn *tc = TC_FROM(self, auth_receiver);
    size_t expected = strlen(tc->opt.token);
    /* The length is no secret, but the bytes are: a constant-time compare gives an attacker
     * no timing signal about how much of a guess was right. */
    bool valid = token != NULL && strnlen(token, RR_MAX_TOKEN_SIZE + 1) == expected &&
                 CRYPTO_memcmp(token, tc->opt.token, expected) == 0;
    say(tc, "client token %s", valid ? "accepted" : "rejected");
    rr_token_validation_complete(req, valid);
}

static void provide_token(struct rr_authentication_provider *self, const char *realm,
                          struct rr_token_request *req)
{
    struct tool_conn *tc = TC_FROM(self, auth_provider);
    say(tc, "token requested for realm \"%s\"", printable(realm) ? realm : "(unprintable)");
    rr_token_request_complete(req, tc->opt.token);
}

/* Only installed with an -allow… flag: relaxes exactly the checks the user waived and keeps
 * every other verdict of the system validation. */
static void validate_chain(struct rr_certificate_validator *self,
                           const struct rr_certificate_chain *chain, const char *server_name,
                           bool force_revocation_check,
                           const struct rr_certificate_validation_result *system_result,
                           struct rr_certificate_validation *req)
{
    struct tool_conn *tc = TC_FROM(self, validator);
    struct rr_certificate_validation_result result = {.invalid_cert_or_chain = true};
    if (system_result != NULL) {
        result = *system_result;
    }
    if (tc->opt.allow_unverified_chain && !result.trusted_root) {
        result.trusted_root = true;
        say(tc, "warning: accepting an unverified certificate chain "
                "(-allowunverifiedcertificatechain)");
    }
    if (tc->opt.allow_name_mismatch && result.name_validation_result == RR_NAME_MISMATCH) {
        result.name_validation_result = RR_NAME_NOT_CHECKED;
        say(tc,
            "warning: accepting a certificate for another name (-allowcertificatenamemismatch)");
    }
    say(tc, "validated %zu certificate(s) for \"%s\"%s", chain != NULL ? chain->count : 0,
        server_name != NULL ? server_name : "",
        force_revocation_check ? ", revocation forced" : "");
    rr_certificate_validation_complete(req, &result);
}

static void init_interfaces(struct tool_conn *tc)
{
    tc->cert_provider.get_certificate = provide_certificate;
    tc->auth_receiver.get_realm = provide_realm;
    tc->auth_receiver.validate_token = check_token;
    tc->auth_provider.get_token = provide_token;
    tc->validator.perform_system_validation = true;
    tc->validator.validate_certificate = validate_chain;
}

/* ---- command line ------------------------------------------------------------------------ */

/* How a flag's value is stored in the options field at `offset`. */
enum flag_kind {
    KIND_SWITCH,  /* bool = true */
    KIND_STRING,  /* const char * = the argument */
    KIND_SECRET,  /* char * = a copy of the argument, which is blanked */
    KIND_LISTEN,  /* bool = true; the next argument may be the address */
    KIND_PORT,    /* int = 0..65535 */
    KIND_PEER_MS, /* uint32_t = 0 or MIN_PEER_TIMEOUT_MS..MAX_PEER_TIMEOUT_MS */
};

struct flag {
    const char *name; /* lower case; first, for tool_flag_find() */
    enum flag_kind kind;
    size_t offset;
};

#define OPT(field) offsetof(struct tool_conn_options, field)

static const struct flag k_flags[] = {
    {"listen", KIND_LISTEN, OPT(listen)},
    {"transportport", KIND_PORT, OPT(transport_port)},
    {"ephemeralport", KIND_SWITCH, OPT(ephemeral)},
    {"peertimeout", KIND_PEER_MS, OPT(peer_timeout_ms)},
    {"secureconnection", KIND_SWITCH, OPT(secure)},
    {"authenticationtoken", KIND_SECRET, OPT(token)},
    {"authenticationrealm", KIND_STRING, OPT(realm)},
    {"certificatestore", KIND_STRING, OPT(store_path)},
    {"keypassphrase", KIND_SECRET, OPT(passphrase)},
    {"subjectname", KIND_STRING, OPT(subject_name)},
    {"allowcertificatenamemismatch", KIND_SWITCH, OPT(allow_name_mismatch)},
    {"allowunverifiedcertificatechain", KIND_SWITCH, OPT(allow_unverified_chain)},
    {"cafile", KIND_STRING, OPT(ca_file)},
    {"crlfile", KIND_STRING, OPT(crl_file)},
    {"forcerevocationcheck", KIND_SWITCH, OPT(force_revocation_check)},
};

static const char k_usage[] =
    "Connection:\n"
    "  host[:port]                 peer to connect to, or with -listen the local address;\n"
    "                              port 8265 when omitted; IPv6 in brackets: [::1]:8265\n"
    "  -listen [host[:port]]       listen (default: all addresses, port 8265)\n"
    "  -transportport N            listener: transport port (default: handshake port + 1)\n"
    "  -ephemeralport              listener: any free handshake and transport port (printed)\n"
    "  -peertimeout MS             end the connection with PeerDisconnectTimeout when nothing\n"
    "                              arrives from the peer for MS ms (100-3600000, default 5000)\n"
    "\n"
    "Security (TLS 1.3 and a token):\n"
    "  -secureconnection           encrypt and authenticate the connection\n"
    "  -authenticationtoken T      token a client sends and a listener accepts (required);\n"
    "                              other local users may see it in ps until the tool starts\n"
    "  -authenticationrealm R      listener: realm of the challenge (default \"" DEFAULT_REALM
    "\")\n"
    "  -certificatestore F         listener: PKCS#12 (.pfx) or PEM file with certificate and "
    "key\n"
    "  -keypassphrase P            listener: password of the store (default: none)\n"
    "  -subjectname S              listener: certificate to use (friendly name or subject CN)\n"
    "  -cafile F                   client: extra trusted roots (PEM), e.g. a self-signed cert\n"
    "  -crlfile F                  client: certificate revocation lists (PEM)\n"
    "  -forcerevocationcheck       client: reject a chain whose revocation status is unknown\n"
    "  -allowcertificatenamemismatch     client: accept a certificate for another name\n"
    "  -allowunverifiedcertificatechain  client: accept a chain without a trusted root\n"
    "                              (both for tests only: they let an impostor in)\n";

const char *tool_conn_usage(void)
{
    return k_usage;
}

void tool_conn_init(struct tool_conn *tc, const char *prog, bool listen_by_default)
{
    memset(tc, 0, sizeof *tc);
    tc->prog = prog;
    tc->opt.port = RR_DEFAULT_HANDSHAKE_PORT;
    tc->opt.transport_port = -1;
    tc->opt.realm = DEFAULT_REALM;
    tc->listen_by_default = listen_by_default;
    tc->start_us = now_us();
}

/* host, host:port, [v6], [v6]:port, or a bare IPv6 literal (more than one colon, no port). */
static bool parse_address(const char *s, struct tool_conn_options *o)
{
    const char *host = s;
    const char *port = NULL;
    size_t host_len = strlen(s);
    int64_t value = RR_DEFAULT_HANDSHAKE_PORT;
    if (s[0] == '[') {
        const char *close = strchr(s, ']');
        if (close == NULL || (close[1] != '\0' && close[1] != ':')) {
            return false;
        }
        host = s + 1;
        host_len = (size_t)(close - host);
        port = close[1] == ':' ? close + 2 : NULL;
    } else {
        const char *colon = strchr(s, ':');
        if (colon != NULL && strchr(colon + 1, ':') == NULL) {
            host_len = (size_t)(colon - s);
            port = colon + 1;
        }
    }
    if (host_len >= sizeof o->host || (port != NULL && !tool_parse_int64(port, 0, 65535, &value))) {
        return false;
    }
    memcpy(o->host, host, host_len);
    o->host[host_len] = '\0';
    o->port = (uint16_t)value;
    o->have_address = true;
    return true;
}

static enum tool_conn_parse take_address(struct tool_conn *tc, const char *arg)
{
    if (tc->opt.have_address) {
        tool_usage_error(tc->prog, "more than one address: '%s'", arg);
        return TOOL_CONN_BAD;
    }
    if (!parse_address(arg, &tc->opt)) {
        tool_usage_error(tc->prog, "'%s' is not host[:port] (IPv6: [addr]:port)", arg);
        return TOOL_CONN_BAD;
    }
    return TOOL_CONN_TAKEN;
}

/* Store @p value (NULL for switches) for flag @p f, as spelled in @p arg. */
static enum tool_conn_parse apply_flag(struct tool_conn *tc, const struct flag *f, const char *arg,
                                       char *value)
{
    void *field = (char *)&tc->opt + f->offset;
    int64_t n = 0;
    switch (f->kind) {
    case KIND_SWITCH:
    case KIND_LISTEN:
        *(bool *)field = true;
        break;
    case KIND_STRING:
        *(const char **)field = value;
        break;
    case KIND_SECRET:
        return tool_take_secret(field, value) ? TOOL_CONN_TAKEN : TOOL_CONN_NO_MEMORY;
    case KIND_PORT:
        if (!tool_parse_int64(value, 0, 65535, &n)) {
            tool_usage_error(tc->prog, "%s needs a port number 0-65535, not '%s'", arg, value);
            return TOOL_CONN_BAD;
        }
        *(int *)field = (int)n;
        break;
    case KIND_PEER_MS:
        if (!tool_parse_int64(value, 0, MAX_PEER_TIMEOUT_MS, &n) ||
            (n != 0 && n < MIN_PEER_TIMEOUT_MS)) {
            tool_usage_error(tc->prog,
                             "%s needs milliseconds (%d-%d, or 0 for the default 5000), not '%s'",
                             arg, MIN_PEER_TIMEOUT_MS, MAX_PEER_TIMEOUT_MS, value);
            return TOOL_CONN_BAD;
        }
        *(uint32_t *)field = (uint32_t)n;
        break;
    }
    return TOOL_CONN_TAKEN;
}

enum tool_conn_parse tool_conn_parse_arg(struct tool_conn *tc, int argc, char **argv, int *i)
{
    char *arg = argv[*i];
    char *value = NULL;
    if (arg[0] != '-' || arg[1] == '\0') {
        return take_address(tc, arg);
    }
    const struct flag *f = tool_flag_find(arg, k_flags, sizeof k_flags / sizeof k_flags[0],
                                          sizeof k_flags[0], TOOL_FLAG_EXACT);
    if (f == NULL) {
        return TOOL_CONN_NOT_MINE;
    }
    if (f->kind != KIND_SWITCH && f->kind != KIND_LISTEN) {
        if (*i + 1 >= argc) {
            tool_usage_error(tc->prog, "%s needs a value", arg);
            return TOOL_CONN_BAD;
        }
        value = argv[++*i];
    }
    enum tool_conn_parse r = apply_flag(tc, f, arg, value);
    /* -listen takes the next argument as its address unless it is a flag. */
    if (r == TOOL_CONN_TAKEN && f->kind == KIND_LISTEN && *i + 1 < argc && argv[*i + 1][0] != '-') {
        r = take_address(tc, argv[++*i]);
    }
    return r;
}

/* ---- setup ------------------------------------------------------------------------------- */

/* Decide listen or connect and the host when no address was given. */
static void resolve_defaults(struct tool_conn *tc)
{
    struct tool_conn_options *o = &tc->opt;
    if (o->have_address) {
        return;
    }
    if (!o->listen && tc->listen_by_default) {
        o->listen = true;
    }
    snprintf(o->host, sizeof o->host, "%s", o->listen ? "" : "localhost");
    o->port = RR_DEFAULT_HANDSHAKE_PORT;
}

/* Reject combinations that cannot work. */
static int check_options(const struct tool_conn *tc)
{
    const struct tool_conn_options *o = &tc->opt;
    if (!o->listen && o->host[0] == '\0') {
        tool_usage_error(tc->prog, "give the host to connect to, or -listen");
        return EXIT_USAGE;
    }
    if (o->secure && o->token == NULL && !(o->listen && tc->receiver != NULL)) {
        tool_usage_error(tc->prog, "-secureconnection needs -authenticationtoken");
        return EXIT_USAGE;
    }
    if (o->secure && o->listen && o->store_path == NULL) {
        tool_usage_error(tc->prog, "a secure listener needs -certificatestore (PKCS#12 or PEM)");
        return EXIT_USAGE;
    }
    return 0;
}

static bool readable(const char *path, const char *what, const char *hint)
{
    if (path == NULL || access(path, R_OK) == 0) {
        return true;
    }
    tool_error("cannot read the %s '%s': %s; %s", what, path, strerror(errno), hint);
    return false;
}

static int load_store(struct tool_conn *tc)
{
    char fingerprint[96] = "";
    char err[256] = "";
    const char *path = tc->opt.store_path;
    enum rr_result r = rr_file_read(path, &tc->store, &tc->store_size);
    if (r != RR_OK) {
        tool_error("cannot read the certificate store '%s' (%s); give a PKCS#12 (.pfx) or PEM "
                   "file of at most 16 MiB with the certificate and its private key",
                   path, rr_result_str(r));
        return EXIT_OTHER;
    }
    /* Only a diagnosis: the listen attempt itself reports NoServerCertificate. */
    r = rr_cert_store_check(tc->store, tc->store_size,
                            tc->opt.passphrase != NULL ? tc->opt.passphrase : "",
                            tc->opt.subject_name, fingerprint, err, sizeof err);
    if (r == RR_OK) {
        say(tc, "certificate store %s: certificate sha256 %s", path, fingerprint);
    } else {
        say(tc, "warning: certificate store %s: %s (%s)", path, err[0] != '\0' ? err : "unusable",
            rr_result_str(r));
    }
    return 0;
}

int tool_conn_setup(struct tool_conn *tc)
{
    const char *pem_hint = "give a readable PEM file";
    resolve_defaults(tc);
    int code = check_options(tc);
    if (code != 0) {
        return code;
    }
    if (!readable(tc->opt.ca_file, "CA file", pem_hint) ||
        !readable(tc->opt.crl_file, "CRL file", pem_hint)) {
        return EXIT_OTHER;
    }
    if (tc->opt.secure && tc->opt.listen) {
        code = load_store(tc);
        if (code != 0) {
            return code;
        }
    }
    init_interfaces(tc);
    return 0;
}

void tool_conn_fill_config(const struct tool_conn *tc, struct rr_context_config *cfg)
{
    uint32_t timeout = tc->opt.peer_timeout_ms;
    cfg->ca_file = tc->opt.ca_file;
    cfg->crl_file = tc->opt.crl_file;
    cfg->force_revocation_check = tc->opt.force_revocation_check;
    cfg->peer_timeout_ms = timeout;
    /* Only our own keepalives make a quiet peer answer; at the default interval a short
     * timeout would end every idle connection. */
    if (timeout != 0 && timeout / KEEPALIVES_PER_TIMEOUT < DEFAULT_KEEPALIVE_MS) {
        cfg->keepalive_interval_ms = timeout / KEEPALIVES_PER_TIMEOUT;
    }
}

/* ---- listen and connect ------------------------------------------------------------------ */

void tool_conn_listen_ports(const struct tool_conn *tc, uint16_t *out_port,
                            uint16_t *out_transport_port)
{
    uint16_t port = tc->opt.ephemeral ? 0 : tc->opt.port;
    uint16_t transport = 0;
    if (tc->opt.transport_port >= 0) {
        transport = (uint16_t)tc->opt.transport_port;
    } else if (port != 0 && port != UINT16_MAX) {
        transport = (uint16_t)(port + 1);
    }
    *out_port = port;
    *out_transport_port = transport;
}

enum rr_result tool_conn_listen(struct tool_conn *tc, struct rr_context *ctx, uint16_t port,
                                uint16_t transport_port)
{
    const char *host = tc->opt.host[0] != '\0' ? tc->opt.host : NULL;
    if (!tc->opt.secure) {
        return rr_context_listen(ctx, host, port, transport_port);
    }
    return rr_context_listen_secure(ctx, host, port, transport_port, &tc->cert_provider,
                                    tc->receiver != NULL ? tc->receiver : &tc->auth_receiver);
}

static enum rr_result connect_to_peer(struct tool_conn *tc, struct rr_context *ctx)
{
    struct rr_certificate_validator *validator = NULL;
    if (!tc->opt.secure) {
        return rr_context_connect(ctx, tc->opt.host, tc->opt.port);
    }
    /* Without an -allow… flag the library's system validation alone decides. */
    if (tc->opt.allow_name_mismatch || tc->opt.allow_unverified_chain) {
        validator = &tc->validator;
    }
    return rr_context_connect_secure(ctx, tc->opt.host, tc->opt.port, &tc->auth_provider,
                                     validator);
}

enum rr_result tool_conn_start(struct tool_conn *tc, struct rr_context *ctx)
{
    uint16_t port;
    uint16_t transport;
    if (!tc->opt.listen) {
        return connect_to_peer(tc, ctx);
    }
    tool_conn_listen_ports(tc, &port, &transport);
    return tool_conn_listen(tc, ctx, port, transport);
}

/* ---- the end ----------------------------------------------------------------------------- */

static void wipe_string(char **s)
{
    if (*s != NULL) {
        OPENSSL_cleanse(*s, strlen(*s));
        free(*s);
        *s = NULL;
    }
}

void tool_conn_wipe(struct tool_conn *tc)
{
    wipe_string(&tc->opt.token);
    wipe_string(&tc->opt.passphrase);
    if (tc->store != NULL) {
        OPENSSL_cleanse(tc->store, tc->store_size);
        free(tc->store);
        tc->store = NULL;
        tc->store_size = 0;
    }
}

const char *tool_conn_describe(enum rr_disconnect_reason reason, const char *detail, char *buf,
                               size_t size)
{
    if (detail != NULL && detail[0] != '\0') {
        snprintf(buf, size, "%s: %s", rr_disconnect_reason_str(reason), detail);
    } else {
        snprintf(buf, size, "%s", rr_disconnect_reason_str(reason));
    }
    return buf;
}
