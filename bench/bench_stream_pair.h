/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench_stream_pair — a remote and a player in this process, connected over loopback TLS 1.3
 * with a stream object on each. The remote listens on BENCH_BIND with a self-signed
 * certificate (rr_cert_create_self_signed_pkcs12) and a token; the player connects to the name
 * BENCH_HOST and trusts that certificate through cfg.ca_file, so the library's own system
 * validation decides, as in bench_remoting. Both offer only H.264 (libx264 is the encoder).
 * Threads: every function on one (the measuring) thread; the interface callbacks run on the
 * contexts' network threads and answer at once.
 */
#ifndef OPENRR_BENCH_STREAM_PAIR_H
#define OPENRR_BENCH_STREAM_PAIR_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openrr/remoting.h>
#include <openrr/stream.h>

/* What every pair of the run shares: the certificate, its PEM and the interfaces. */
struct bench_stream_tls {
    uint8_t *pfx; /* the remote's PKCS#12 store */
    size_t pfx_size;
    char ca_path[PATH_MAX]; /* its certificate as PEM, the player's only trust anchor */
    struct rr_certificate_provider cert_provider;
    struct rr_authentication_receiver auth_receiver;
    struct rr_authentication_provider auth_provider;
    /* From the first connection, for the notes. */
    char tls[96];         /* "TLSv1.3 TLS_AES_256_GCM_SHA384" */
    char validation[160]; /* the player's system validation of the remote's certificate */
    char codec[16];
};

/* Create the certificate and its PEM. false on failure (printed). */
bool bench_stream_tls_init(struct bench_stream_tls *t);
/* Remove the PEM, wipe and free the store. Safe after a failed init. */
void bench_stream_tls_fini(struct bench_stream_tls *t);

struct bench_stream_pair {
    struct rr_context *remote_ctx;
    struct rr_context *player_ctx;
    struct rr_stream_remote *remote;
    struct rr_stream_player *player;
};

/* Create both contexts and streams (the remote with @p cfg), listen, connect, and wait until
 * both sides report Connected. false on failure (printed); close the pair either way. */
bool bench_stream_pair_open(struct bench_stream_pair *pair, struct bench_stream_tls *t,
                            const struct rr_stream_remote_config *cfg);
/* True while both contexts are connected. */
bool bench_stream_pair_connected(struct bench_stream_pair *pair);
/* Destroy the streams, then the contexts. Safe on a partly opened pair. */
void bench_stream_pair_close(struct bench_stream_pair *pair);

#endif /* OPENRR_BENCH_STREAM_PAIR_H */
