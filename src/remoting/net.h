/* SPDX-License-Identifier: Apache-2.0 */
/*
 * net — sockets for the remoting transport: name resolution, non-blocking connect, dual-stack
 * listening, and the mapping of socket errors onto disconnect reasons. Network thread only
 * (rr_net_resolve blocks for name lookups; literals and /etc/hosts names answer at once).
 */
#ifndef RR_NET_H
#define RR_NET_H

#include "openrr/remoting.h"

#include <netdb.h>
#include <stdbool.h>
#include <stdint.h>

/* Resolve @p host:@p port for a stream socket. @p passive: for bind (NULL host = any).
 * Returns 0 or the getaddrinfo error. */
int rr_net_resolve(const char *host, uint16_t port, bool passive, struct addrinfo **out);

/* Start a non-blocking connect; returns the fd (connection in progress or done) or -1 with
 * errno set. */
int rr_net_connect_start(const struct addrinfo *ai);

/* Map a connect/socket errno onto a handshake reason. */
enum rr_disconnect_reason rr_net_connect_reason(int err);

/* Bind and listen (TCP) on @p host (NULL/"" = dual-stack any) and @p port (0 = ephemeral).
 * On failure returns -1 and sets *out_reason (HandshakePortBusy, HandshakePermissionDenied,
 * HandshakeUnreachable for an address not on this machine) and @p err. */
int rr_net_listen_tcp(const char *host, uint16_t port, uint16_t *out_port,
                      enum rr_disconnect_reason *out_reason, char *err, size_t err_size);

/* Bind a UDP socket reserving the transport port (same host rules). On failure -1 with
 * TransportPortBusy or HandshakePermissionDenied in *out_reason. */
int rr_net_bind_udp(const char *host, uint16_t port, uint16_t *out_port,
                    enum rr_disconnect_reason *out_reason, char *err, size_t err_size);

/* Low-latency and flow-control options of an established TCP socket. */
void rr_net_tune(int fd);

/* "addr:port" or "[addr]:port" of the peer of @p fd. */
void rr_net_peer_name(int fd, char *out, size_t size);

/* Block SIGPIPE in the calling thread: OpenSSL writes to sockets without MSG_NOSIGNAL, and a
 * peer that resets mid-write must end a connection, not the application. */
void rr_net_block_sigpipe(void);

/* @p host without the brackets of an IPv6 literal ("[::1]" → "::1"), into @p out. */
void rr_net_strip_brackets(const char *host, char *out, size_t size);

/* True when @p host is an IPv4 or IPv6 literal (brackets allowed). */
bool rr_net_is_ip_literal(const char *host);

#endif
