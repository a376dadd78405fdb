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

struct bench_anchor {
    struct bench_tls tls;
    int listen_fd; /* one listening socket serves every figure */
    uint16_t port;
    char cipher[64]; /* what the handshakes negotiated, for the report's notes */
    char group[32];
};

bool bench_anchor_init(struct bench_anchor *a);
void bench_anchor_fini(struct bench_anchor *a);

/* Each returns false on a functional error (printed); on success it fills its figures. */
/* A: connect() start → response to one small request received. Sets connect_first_* and
 * connect_cached_* (the anchor has no token to cache). */
bool bench_anchor_connect(struct bench_anchor *a, const struct bench_params *p,
                          struct bench_figures *out);
/* B: first SSL_write → server has read the last byte. */
bool bench_anchor_bulk(struct bench_anchor *a, const struct bench_params *p,
                       struct bench_figures *out);
/* C: 64-byte SSL_write → echo fully read. */
bool bench_anchor_rtt(struct bench_anchor *a, const struct bench_params *p,
                      struct bench_figures *out);
/* D: serial A-style connections (closing included) completed per second. */
bool bench_anchor_handshakes(struct bench_anchor *a, const struct bench_params *p,
                             struct bench_figures *out);

#endif /* OPENRR_BENCH_ANCHOR_H */
