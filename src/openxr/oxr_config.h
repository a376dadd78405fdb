/* SPDX-License-Identifier: Apache-2.0 */
/*
 * oxr_config — how the runtime connects when the application does not say (most OpenXR apps
 * never call XR_MSFT_holographic_remoting): a configuration file, then environment variables
 * (OPENRR_CONNECT, OPENRR_LISTEN, OPENRR_TOKEN, …; docs/openxr.md lists them all), read once
 * per XrInstance and checked at xrCreateInstance so that a mistake fails early with a reason.
 *
 * Threads: the application thread that creates the instance. Secrets (token, key passphrase)
 * live in heap copies that oxr_config_fini() wipes; they are never logged.
 */
#ifndef OXR_CONFIG_H
#define OXR_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OXR_HOST_MAX 256
#define OXR_PATH_MAX 4096

struct oxr_config {
    bool listen;                  /* OPENRR_LISTEN given (else connect) */
    char host[OXR_HOST_MAX];      /* connect: peer; listen: local address ("" = all) */
    uint16_t port;                /* handshake port (8265 when not given) */
    uint16_t transport_port;      /* listen: OPENRR_TRANSPORT_PORT, 0 = any */
    char *token;                  /* OPENRR_TOKEN: secure when set */
    char *passphrase;             /* OPENRR_KEYPASSPHRASE */
    char cafile[OXR_PATH_MAX];    /* OPENRR_CAFILE: extra trusted roots (client) */
    char certstore[OXR_PATH_MAX]; /* OPENRR_CERTSTORE: PKCS#12/PEM (secure listener) */
    char subject[OXR_HOST_MAX];   /* OPENRR_SUBJECTNAME */
    char realm[OXR_HOST_MAX];     /* OPENRR_REALM */
    uint32_t eye_width;           /* OPENRR_EYE_SIZE=WxH: recommended and streamed size */
    uint32_t eye_height;
    uint32_t fps;                   /* OPENRR_FPS: pacing until the player's poses drive it */
    uint32_t bitrate_kbps;          /* OPENRR_BITRATE_KBPS */
    char encoder[32];               /* OPENRR_ENCODER ("" = auto) */
    uint32_t session_wait_ms;       /* how long xrCreateSession waits for the player */
    bool stats;                     /* OPENRR_STATS=1: per-frame timings at xrDestroySession */
    char source[OXR_PATH_MAX + 32]; /* where the connection settings came from, for logs */
};

/* Read the configuration file (OPENRR_CONFIG, else $XDG_CONFIG_HOME/openrr/openxr.conf or
 * ~/.config/openrr/openxr.conf when it exists), then the environment, into @p cfg.
 * false with a reason in @p err when a value is malformed or the combination cannot work
 * (both connect and listen; a secure listener without a certificate store); @p cfg is then
 * already wiped. */
bool oxr_config_load(struct oxr_config *cfg, char *err, size_t err_size);

/* Wipe and free the secrets. Safe twice. */
void oxr_config_fini(struct oxr_config *cfg);

#endif
