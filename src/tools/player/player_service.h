/* SPDX-License-Identifier: Apache-2.0 */
/*
 * player_service — openrr-player --session ID: the player as a client of the control plane
 * (openrrd) through the SDK (include/openrr/client.h). It opens the account's session, waits
 * for it to be Ready, and connects the player's context to the session's host securely with
 * the STS access token and the service's CA — no certificate or token flags needed.
 *
 * The account key comes from the environment (OPENRR_ACCOUNT_KEY), or an access token
 * (OPENRR_ACCESS_TOKEN), never from the command line where `ps` would show it.
 *
 * Threads: the main thread; the SDK completes on its own thread and this module waits.
 */
#ifndef OPENRR_PLAYER_SERVICE_H
#define OPENRR_PLAYER_SERVICE_H

#include <openrr/remoting.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct player_service_options {
    const char *session_id;
    const char *service_url;    /* http(s)://host:port of openrrd */
    const char *account_id;
    const char *account_domain;
    const char *service_ca;     /* PEM trust anchors for HTTPS to openrrd, or NULL */
    uint32_t ready_timeout_s;   /* wait this long for Starting → Ready */
};

struct player_service;

/* Create the frontend, open the session and wait until it is Ready (polling every 2 s, as
 * the old SDK did for Standard sessions). Returns false with the reason in @p err. */
bool player_service_open(const struct player_service_options *o,
                         struct player_service **out_service, char *err, size_t err_size);

/* Connect @p ctx (player role, disconnected) to the session's host; the outcome then arrives
 * as the context's Connected or Disconnected event. Writes the host and port for messages.
 * Returns false with the reason in @p err. */
bool player_service_connect(struct player_service *s, struct rr_context *ctx, char *host,
                            size_t host_size, uint16_t *port, char *err, size_t err_size);

/* Release the session object (the session keeps running) and the frontend. NULL ok. */
void player_service_close(struct player_service **service_ptr);

#endif /* OPENRR_PLAYER_SERVICE_H */
