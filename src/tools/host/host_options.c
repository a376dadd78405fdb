/* SPDX-License-Identifier: Apache-2.0 */
/*
 * host_options — openrr-host's command line (see host_options.h).
 *
 * Threads: the main thread.
 */
#include "host_options.h"

#include "render.h"

#include <tool_util.h>

#include <openssl/crypto.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define PROG "openrr-host"
#define MIN_EYE_SIZE 16
#define MAX_EYE_SIZE 4096 /* the stream's limit, below the renderer's */
#define MAX_FPS 240
#define MIN_BITRATE_KBPS 100
#define MAX_BITRATE_KBPS 1000000
#define MAX_CLAIM_LEN 255       /* of an expected iss / aud: the token's claims are at most this */
#define MAX_INSPECTOR_TOKEN 256 /* the inspector's limit */
#define MAX_REGISTER_URL 2048
#define MAX_REGISTER_SECRET 1024

enum flag_id {
    FLAG_ASSET,
    FLAG_SIZE,
    FLAG_PRIMITIVE_BUDGET,
    FLAG_PLAIN,
    FLAG_INSPECTOR_PORT,
    FLAG_INSPECTOR_TOKEN,
    FLAG_INSPECTOR_LISTEN,
    FLAG_REGISTER_URL,
    FLAG_TOKEN_JWKS,
    FLAG_ACCOUNT_ID,
    FLAG_ACCOUNT_DOMAIN,
    FLAG_TOKEN_ISSUER,
    FLAG_TOKEN_AUDIENCE,
    FLAG_ENCODER,
    FLAG_EYE_SIZE,
    FLAG_FPS,
    FLAG_MAX_BITRATE,
    FLAG_HELP,
};

struct flag {
    const char *name; /* lower case, without dashes; first, for tool_flag_find() */
    enum flag_id id;
    bool has_value;
};

static const struct flag k_flags[] = {
    {"asset", FLAG_ASSET, true},
    {"size", FLAG_SIZE, true},
    {"primitivebudget", FLAG_PRIMITIVE_BUDGET, true},
    {"plain", FLAG_PLAIN, false},
    {"inspectorport", FLAG_INSPECTOR_PORT, true},
    {"inspectortoken", FLAG_INSPECTOR_TOKEN, true},
    {"inspectorlisten", FLAG_INSPECTOR_LISTEN, true},
    {"registerurl", FLAG_REGISTER_URL, true},
    {"tokenjwks", FLAG_TOKEN_JWKS, true},
    {"accountid", FLAG_ACCOUNT_ID, true},
    {"accountdomain", FLAG_ACCOUNT_DOMAIN, true},
    {"tokenissuer", FLAG_TOKEN_ISSUER, true},
    {"tokenaudience", FLAG_TOKEN_AUDIENCE, true},
    {"encoder", FLAG_ENCODER, true},
    {"eyesize", FLAG_EYE_SIZE, true},
    {"fps", FLAG_FPS, true},
    {"maxbitrate", FLAG_MAX_BITRATE, true},
    {"h", FLAG_HELP, false},
    {"help", FLAG_HELP, false},
};

static const char k_usage_head[] =
    "Usage: " PROG " [-listen [host:]port] [options]\n"
    "\n"
    "The rendering session host: loads assets, keeps the client's scene, renders both eyes for\n"
    "the head pose the player sends and streams the result. Listens on port 8265 and serves\n"
    "one client after another until SIGINT or SIGTERM. Secure by default: TLS with\n"
    "-certificatestore and a token (-authenticationtoken, or --token-jwks for the STS's\n"
    "tokens). Flags take '-' or '--' and ignore case.\n"
    "\n"
    "Session:\n"
    "  --asset URI                 load at start (path, file:// or http(s)://); every\n"
    "                              connection starts with it as a top-level entity; repeatable\n"
    "  --size standard|premium     standard (default): 20 M primitives; premium: unbounded\n"
    "  --primitive-budget N        instead of the size's budget: N primitives (0 = none)\n"
    "  --plain                     no TLS and no token (trusted networks and tests only)\n"
    "  --token-jwks FILE           accept the STS's access tokens verified with this JWK Set\n"
    "  --account-id ID             with --token-jwks: the account a token must name (aid)\n"
    "  --account-domain D          with --token-jwks: realm \"openrr:D\"\n"
    "  --token-issuer ISS          with --token-jwks: the issuer a token must name (iss);\n"
    "                              default any\n"
    "  --token-audience AUD        with --token-jwks: an audience a token must name (aud);\n"
    "                              default any\n"
    "\n"
    "Stream:\n"
    "  --eye-size WxH              image size per eye (default 1280x720; even, 16-4096)\n"
    "  --fps N                     frame rate (default 60, 1-240)\n"
    "  --max-bitrate KBPS          cap of the video bitrate (default 20000, 100-1000000)\n"
    "  --encoder NAME              auto (default), libx264, h264_nvenc, libx265, hevc_nvenc\n"
    "\n"
    "Inspector:\n"
    "  --inspector-port N          serve the inspector on port N (0 = any free port)\n"
    "  --inspector-token T         its bearer token (required with --inspector-port, or in\n"
    "                              OPENRR_INSPECTOR_TOKEN); with --token-jwks the inspector\n"
    "                              also takes the session's access tokens\n"
    "  --inspector-listen ADDR     the inspector's address (numeric; default 127.0.0.1)\n"
    "\n"
    "Control plane:\n"
    "  --register-url URL          once listening, POST the ports to URL (openrrd's\n"
    "                              /internal/sessions/ID/ready) with the secret from\n"
    "                              OPENRR_REGISTER_TOKEN; exit 1 when openrrd refuses\n"
    "\n"
    "The key passphrase may come in OPENRR_KEY_PASSPHRASE instead of -keypassphrase.\n"
    "\n"
    "  -h, --help                  show this text\n"
    "\n";

static const char k_usage_tail[] =
    "\n"
    "Output: one line on stdout when ready, \"ready: listening on port P (transport T)\"\n"
    "and \", inspector on port I\" when enabled; everything else on stderr.\n"
    "\n"
    "Exit status: 0 stopped by SIGINT/SIGTERM, 1 start-up failure (renderer, asset, files,\n"
    "ports, registration), 64 bad usage.\n";

static void print_usage(void)
{
    fputs(k_usage_head, stdout);
    fputs(tool_conn_usage(), stdout);
    fputs(k_usage_tail, stdout);
}

static bool parse_u32(const char *s, int64_t min, int64_t max, uint32_t *out)
{
    int64_t v;
    if (!tool_parse_int64(s, min, max, &v)) {
        return false;
    }
    *out = (uint32_t)v;
    return true;
}

static enum host_options_result apply(struct host_options *o, const struct flag *f,
                                      const char *name, char *value)
{
    uint32_t n;
    switch (f->id) {
    case FLAG_ASSET:
        if (o->asset_count == HOST_MAX_ASSETS) {
            tool_usage_error(PROG, "at most %d --asset flags", HOST_MAX_ASSETS);
            return HOST_OPTIONS_USAGE;
        }
        o->assets[o->asset_count++] = value;
        break;
    case FLAG_SIZE:
        if (strcasecmp(value, "standard") == 0) {
            o->premium = false;
        } else if (strcasecmp(value, "premium") == 0) {
            o->premium = true;
        } else {
            tool_usage_error(PROG, "%s needs standard or premium, not '%s'", name, value);
            return HOST_OPTIONS_USAGE;
        }
        break;
    case FLAG_PRIMITIVE_BUDGET: {
        int64_t v;
        if (!tool_parse_int64(value, 0, INT64_MAX, &v)) {
            tool_usage_error(PROG, "%s needs a number of primitives (0 = no budget), not '%s'",
                             name, value);
            return HOST_OPTIONS_USAGE;
        }
        o->primitive_budget = (uint64_t)v;
        o->budget_given = true;
        break;
    }
    case FLAG_PLAIN:
        o->plain = true;
        break;
    case FLAG_INSPECTOR_PORT:
        if (!parse_u32(value, 0, 65535, &n)) {
            tool_usage_error(PROG, "%s needs a port 0-65535, not '%s'", name, value);
            return HOST_OPTIONS_USAGE;
        }
        o->inspector_port = (int)n;
        break;
    case FLAG_INSPECTOR_TOKEN:
        if (value[0] == '\0' || strlen(value) > MAX_INSPECTOR_TOKEN) {
            OPENSSL_cleanse(value, strlen(value));
            tool_usage_error(PROG, "%s needs a token of 1-%d characters", name,
                             MAX_INSPECTOR_TOKEN);
            return HOST_OPTIONS_USAGE;
        }
        if (!tool_take_secret(&o->inspector_token, value)) {
            return HOST_OPTIONS_NO_MEMORY;
        }
        break;
    case FLAG_INSPECTOR_LISTEN: {
        unsigned char addr[16];
        if (inet_pton(AF_INET, value, addr) != 1 && inet_pton(AF_INET6, value, addr) != 1) {
            tool_usage_error(PROG, "%s needs a numeric IPv4 or IPv6 address, not '%s'", name,
                             value);
            return HOST_OPTIONS_USAGE;
        }
        o->inspector_listen = value;
        break;
    }
    case FLAG_REGISTER_URL:
        if ((strncasecmp(value, "http://", 7) != 0 && strncasecmp(value, "https://", 8) != 0) ||
            strlen(value) > MAX_REGISTER_URL) {
            tool_usage_error(PROG, "%s needs an http:// or https:// URL (at most %d characters)",
                             name, MAX_REGISTER_URL);
            return HOST_OPTIONS_USAGE;
        }
        o->register_url = value;
        break;
    case FLAG_TOKEN_JWKS:
        o->token_jwks = value;
        break;
    case FLAG_ACCOUNT_ID:
        o->account_id = value;
        break;
    case FLAG_ACCOUNT_DOMAIN:
        o->account_domain = value;
        break;
    case FLAG_TOKEN_ISSUER:
    case FLAG_TOKEN_AUDIENCE:
        if (value[0] == '\0' || strlen(value) > MAX_CLAIM_LEN) {
            tool_usage_error(PROG, "%s needs 1-%d characters", name, MAX_CLAIM_LEN);
            return HOST_OPTIONS_USAGE;
        }
        if (f->id == FLAG_TOKEN_ISSUER) {
            o->token_issuer = value;
        } else {
            o->token_audience = value;
        }
        break;
    case FLAG_ENCODER:
        o->encoder = strcasecmp(value, "auto") == 0 ? NULL : value;
        break;
    case FLAG_EYE_SIZE:
        if (!tool_parse_even_size(value, MIN_EYE_SIZE, MAX_EYE_SIZE, &o->eye_width,
                                  &o->eye_height)) {
            tool_usage_error(PROG, "%s needs WxH, even numbers 16-4096, not '%s'", name, value);
            return HOST_OPTIONS_USAGE;
        }
        break;
    case FLAG_FPS:
        if (!parse_u32(value, 1, MAX_FPS, &o->fps)) {
            tool_usage_error(PROG, "%s needs 1-%d, not '%s'", name, MAX_FPS, value);
            return HOST_OPTIONS_USAGE;
        }
        break;
    case FLAG_MAX_BITRATE:
        if (!parse_u32(value, MIN_BITRATE_KBPS, MAX_BITRATE_KBPS, &o->max_bitrate_kbps)) {
            tool_usage_error(PROG, "%s needs %d-%d kbps, not '%s'", name, MIN_BITRATE_KBPS,
                             MAX_BITRATE_KBPS, value);
            return HOST_OPTIONS_USAGE;
        }
        break;
    case FLAG_HELP:
        return HOST_OPTIONS_HELP;
    }
    return HOST_OPTIONS_GO;
}

/* Take the secret in environment variable @p name into *@p slot (unless a flag gave one) and
 * blank it there, so that it is neither in /proc/PID/environ nor inherited. A value longer than
 * @p max is a usage error. */
static enum host_options_result take_env(const char *name, char **slot, size_t max)
{
    char *v = getenv(name);
    if (v == NULL) {
        return HOST_OPTIONS_GO;
    }
    size_t len = strlen(v);
    if (*slot != NULL || len == 0) {
        OPENSSL_cleanse(v, len); /* the flag wins; the variable is blanked all the same */
        return HOST_OPTIONS_GO;
    }
    if (len > max) {
        OPENSSL_cleanse(v, len);
        tool_usage_error(PROG, "%s holds more than %zu characters", name, max);
        return HOST_OPTIONS_USAGE;
    }
    return tool_take_secret(slot, v) ? HOST_OPTIONS_GO : HOST_OPTIONS_NO_MEMORY;
}

static enum host_options_result take_env_secrets(struct host_options *o, struct tool_conn *tc)
{
    enum host_options_result r;
    if ((r = take_env(HOST_ENV_KEY_PASSPHRASE, &tc->opt.passphrase, 1024)) != HOST_OPTIONS_GO ||
        (r = take_env(HOST_ENV_INSPECTOR_TOKEN, &o->inspector_token, MAX_INSPECTOR_TOKEN)) !=
            HOST_OPTIONS_GO ||
        (r = take_env(HOST_ENV_REGISTER_TOKEN, &o->register_secret, MAX_REGISTER_SECRET)) !=
            HOST_OPTIONS_GO) {
        return r;
    }
    return HOST_OPTIONS_GO;
}

enum host_options_result host_options_parse(struct host_options *o, struct tool_conn *tc, int argc,
                                            char **argv)
{
    memset(o, 0, sizeof *o);
    o->inspector_port = -1;
    o->eye_width = 1280;
    o->eye_height = 720;
    o->fps = 60;
    o->max_bitrate_kbps = 20000;
    for (int i = 1; i < argc; i++) {
        const struct flag *f = tool_flag_find(argv[i], k_flags, sizeof k_flags / sizeof k_flags[0],
                                              sizeof k_flags[0], TOOL_FLAG_ANY_DASHES);
        if (f == NULL) {
            enum tool_conn_parse p = tool_conn_parse_arg(tc, argc, argv, &i);
            if (p == TOOL_CONN_TAKEN) {
                continue;
            }
            if (p == TOOL_CONN_BAD) {
                return HOST_OPTIONS_USAGE;
            }
            if (p == TOOL_CONN_NO_MEMORY) {
                return HOST_OPTIONS_NO_MEMORY;
            }
            tool_usage_error(PROG, "unknown flag '%s'", argv[i]);
            return HOST_OPTIONS_USAGE;
        }
        char *value = NULL;
        if (f->has_value) {
            if (i + 1 >= argc) {
                tool_usage_error(PROG, "%s needs a value", argv[i]);
                return HOST_OPTIONS_USAGE;
            }
            value = argv[++i];
        }
        enum host_options_result r = apply(o, f, argv[f->has_value ? i - 1 : i], value);
        if (r == HOST_OPTIONS_HELP) {
            print_usage();
        }
        if (r != HOST_OPTIONS_GO) {
            return r;
        }
    }
    return take_env_secrets(o, tc);
}

int host_options_check(struct host_options *o, struct tool_conn *tc)
{
    bool jwks = o->token_jwks != NULL;
    if (o->inspector_port >= 0 && o->inspector_token == NULL) {
        return tool_usage_error(PROG, "--inspector-port needs --inspector-token (or "
                                      "OPENRR_INSPECTOR_TOKEN)");
    }
    if (o->inspector_listen != NULL && o->inspector_port < 0) {
        return tool_usage_error(PROG, "--inspector-listen goes with --inspector-port");
    }
    if (o->register_url != NULL && o->register_secret == NULL) {
        return tool_usage_error(PROG, "--register-url needs the registration secret in the "
                                      "environment variable " HOST_ENV_REGISTER_TOKEN);
    }
    if ((o->account_id != NULL || o->account_domain != NULL || o->token_issuer != NULL ||
         o->token_audience != NULL) &&
        !jwks) {
        return tool_usage_error(PROG, "--account-id, --account-domain, --token-issuer and "
                                      "--token-audience go with --token-jwks");
    }
    if (o->plain) {
        if (tc->opt.secure || tc->opt.token != NULL || jwks) {
            return tool_usage_error(PROG, "--plain takes no -secureconnection, "
                                          "-authenticationtoken or --token-jwks");
        }
    } else {
        tc->opt.secure = true; /* secure by default */
        if (tc->opt.store_path == NULL) {
            return tool_usage_error(PROG, "a secure host needs -certificatestore (PKCS#12 or PEM) "
                                          "and -keypassphrase; or --plain on a trusted network");
        }
        if (jwks && tc->opt.token != NULL) {
            return tool_usage_error(PROG, "give -authenticationtoken or --token-jwks, not both");
        }
        if (!jwks && tc->opt.token == NULL) {
            return tool_usage_error(PROG, "a secure host needs -authenticationtoken or "
                                          "--token-jwks; or --plain on a trusted network");
        }
        if (jwks && (o->account_id == NULL || o->account_domain == NULL)) {
            return tool_usage_error(PROG, "--token-jwks needs --account-id and --account-domain");
        }
    }
    int code = tool_conn_setup(tc);
    if (code != 0) {
        return code;
    }
    if (!tc->opt.listen) {
        return tool_usage_error(PROG, "the host only listens: use -listen [host:]port");
    }
    return 0;
}

static void wipe_secret(char **slot)
{
    if (*slot != NULL) {
        OPENSSL_cleanse(*slot, strlen(*slot));
        free(*slot);
        *slot = NULL;
    }
}

void host_options_wipe(struct host_options *o)
{
    wipe_secret(&o->inspector_token);
    wipe_secret(&o->register_secret);
}

uint64_t host_options_budget(const struct host_options *o)
{
    if (o->budget_given) {
        return o->primitive_budget;
    }
    return o->premium ? 0 : RR_RENDER_BUDGET_STANDARD;
}
