/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench_anchor — figures A–D: what plain OpenSSL does on the same loopback, in the same
 * process, with the same TLS settings. They are the yardstick the OpenRR figures are divided
 * by; nothing here uses the library.
 * Threads: the caller's thread is the measuring client; each figure starts one server thread
 * and joins it before returning.
 */
#ifndef OPENRR_BENCH_ANCHOR_H
#define OPENRR_BENCH_ANCHOR_H

#include <stdbool.h>
#include <stdint.h>

#include "bench.h"
#include "bench_anchor_tls.h"

struct anchor_server; /* private to bench_anchor.c */

struct bench_anchor {
    struct bench_tls tls;
    int listen_fd; /* one listening socket serves every figure */
    uint16_t port;
    char cipher[64]; /* what the handshakes negotiated, for the report's notes */
    char group[32];
    struct anchor_server *session; /* the server thread of an open A or C session */
    SSL *session_ssl;              /* C: the client's connection */
};

bool bench_anchor_init(struct bench_anchor *a);
/* Ends an open session too. */
void bench_anchor_fini(struct bench_anchor *a);

/*
 * A and C run as sessions, one sample per call, so that bench_interleave can alternate them
 * with their OpenRR counterparts. Every function returns false on a functional error (printed).
 */
/* A: start the server thread. */
bool bench_anchor_connect_start(struct bench_anchor *a);
/* A: one connection: resolve + connect() + handshake + 200-byte request + 150-byte response,
 * timed from the start to the response read (closing not included). */
bool bench_anchor_connect_once(struct bench_anchor *a, double *out_us);
/* C: start the echo server thread and connect to it. */
bool bench_anchor_rtt_start(struct bench_anchor *a);
/* C: one 64-byte SSL_write until its echo is fully read. */
bool bench_anchor_rtt_once(struct bench_anchor *a, double *out_us);
/* End the open session (A or C). Returns false when its server thread failed. */
bool bench_anchor_session_stop(struct bench_anchor *a);

/* B: bulk_bytes from the first SSL_write until the server has read the last byte. */
bool bench_anchor_bulk(struct bench_anchor *a, const struct bench_params *p,
                       struct bench_figures *out);
/* D: serial A-style connections (closing included) completed per second. */
bool bench_anchor_handshakes(struct bench_anchor *a, const struct bench_params *p,
                             struct bench_figures *out);

#endif /* OPENRR_BENCH_ANCHOR_H */
