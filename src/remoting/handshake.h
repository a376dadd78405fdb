/* SPDX-License-Identifier: Apache-2.0 */
/*
 * handshake (private) — what the client half (handshake_client.c) and the server half
 * (handshake_server.c) of the handshake share: role and list helpers, response building and
 * the move to the established state. Network thread only.
 */
#ifndef RR_HANDSHAKE_H
#define RR_HANDSHAKE_H

#include "context.h"

#define RR_UPGRADE_TOKEN "openrr-remoting/1"
#define RR_HANDSHAKE_PATH "/openrr/remoting"

const char *rr_hs_role_str(enum rr_role r);
bool rr_hs_parse_role(const char *s, enum rr_role *out);
/* Does comma-separated @p list contain @p item (case-insensitive)? */
bool rr_hs_list_has(const char *list, const char *item);
/* First entry of @p pref that @p other also lists; false when none. */
bool rr_hs_pick_codec(const char *pref, const char *other, char *out, size_t size);
/* Append formatted text to conn->out (bounded; wiped from the stack: it may hold a token). */
bool rr_hs_out_printf(struct rr_conn *conn, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Record what was negotiated and go to RR_STAGE_ESTABLISHED / RR_STATE_CONNECTED. */
void rr_hs_become_established(struct rr_conn *conn);

bool rr_hs_client_step(struct rr_conn *conn, short revents);
bool rr_hs_server_step(struct rr_conn *conn);

#endif
