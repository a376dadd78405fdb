/* SPDX-License-Identifier: Apache-2.0 */
/*
 * oxr_conn — the runtime's one connection to a player: a remote-role libopenrr_remoting context
 * with a libopenrr_stream remote on it, started from the configuration (oxr_config) or, with
 * XR_MSFT_holographic_remoting, from the application's calls. It owns the four security
 * interfaces: from the configuration (a token, a certificate store) or from the application's
 * callbacks.
 *
 * Threads: any application thread; the context's network thread runs the security callbacks.
 * Events are polled (no event callback) by whoever updates the instance.
 */
#ifndef OXR_CONN_H
#define OXR_CONN_H

#include "oxr_callbacks.h"
#include "oxr_config.h"

#include <openrr/stream.h>

#include <stdbool.h>
#include <stdint.h>

struct oxr_conn;

/* Create the context and the stream (disconnected) for @p cfg's eye size, rate and encoder.
 * @p cfg must outlive the connection. */
enum rr_result oxr_conn_create(const struct oxr_config *cfg, struct oxr_conn **out_conn);
/* Disconnect, destroy the stream and the context. NULL ok. */
void oxr_conn_destroy(struct oxr_conn **conn_ptr);

/* Connect or listen as the configuration says. RR_ERROR_WRONG_STATE when not disconnected. */
enum rr_result oxr_conn_start_configured(struct oxr_conn *conn);
/* Plain or secure connect / listen for the application (XR_MSFT_holographic_remoting): secure
 * uses the application's callbacks when it set them, else the configured secrets; neither is
 * RR_ERROR_INVALID_ARGUMENT. From then on the configuration no longer starts connections. */
enum rr_result oxr_conn_connect(struct oxr_conn *conn, const char *host, uint16_t port,
                                bool secure);
enum rr_result oxr_conn_listen(struct oxr_conn *conn, const char *host, uint16_t port,
                               uint16_t transport_port, bool secure);
/* Whether the application started a connection itself (then the configuration stays unused). */
bool oxr_conn_app_started(const struct oxr_conn *conn);

/* The application's security callbacks (copied); only while disconnected. */
void oxr_conn_set_client_callbacks(struct oxr_conn *conn, const struct oxr_client_callbacks *cb);
void oxr_conn_set_server_callbacks(struct oxr_conn *conn, const struct oxr_server_callbacks *cb);

/* New stream settings: recreates the context and the stream, so only while disconnected and
 * after every data channel of the old context was let go. @p bitrate_kbps 0 = configured;
 * @p codecs as rr_context_config.codecs (NULL = what this machine encodes in real time). */
enum rr_result oxr_conn_reconfigure(struct oxr_conn *conn, uint32_t bitrate_kbps,
                                    const char *codecs);
enum rr_result oxr_conn_disconnect(struct oxr_conn *conn);

/* The state, and the last disconnect reason (may be NULL). */
enum rr_connection_state oxr_conn_state(struct oxr_conn *conn,
                                        enum rr_disconnect_reason *out_reason);
/* Whether the last start came from the configuration (so a failed connect may be retried). */
bool oxr_conn_configured(const struct oxr_conn *conn);

/* Take the oldest event (see rr_context_poll_event); the caller releases it. */
enum rr_result oxr_conn_poll(struct oxr_conn *conn, struct rr_event *out_event, int timeout_ms);

struct rr_context *oxr_conn_context(struct oxr_conn *conn);
struct rr_stream_remote *oxr_conn_stream(struct oxr_conn *conn);
const struct oxr_config *oxr_conn_config(const struct oxr_conn *conn);

#endif
