/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench_openrr — figures A'–D': the same measurements as the anchor, through
 * libopenrr_remoting. Two contexts in this process: a listening player (listen_secure on
 * BENCH_BIND) and a connecting remote (connect_secure to BENCH_HOST), trusting the listener's
 * self-signed certificate through cfg.ca_file so that the library's own system validation
 * decides, as it would in the field.
 * Threads: every function on the measuring (main) thread; the interface callbacks and the
 * event callbacks on the two contexts' network threads.
 */
#ifndef OPENRR_BENCH_OPENRR_H
#define OPENRR_BENCH_OPENRR_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openrr/remoting.h>

#include "bench.h"
#include "bench_endpoint.h"

struct bench_openrr {
    struct bench_endpoint listener; /* player, listens, echoes, counts bulk bytes */
    struct bench_endpoint client;   /* remote, connects, sends */
    bool listener_ready;
    bool client_ready;

    uint8_t *pfx; /* the listener's PKCS#12 store */
    size_t pfx_size;
    char ca_path[PATH_MAX]; /* its certificate as PEM, the client's only trust anchor */
    uint16_t port;          /* fixed after the first listen, so that the token cache applies */
    uint16_t transport_port;

    /* The library loads the store (rr_cert_store_load: PKCS#12 parse and key derivation) on its
     * network thread only after it reported RR_EVENT_LISTENING, and a handshake that arrives
     * earlier waits for it. The connect figures measure connecting, so before them the
     * benchmark lets the listener settle for settle_ns after Listening; D' does not (the load
     * is part of every listen there). store_load_us is rr_cert_store_check() timed here,
     * which runs the same load. */
    double store_load_us;
    uint64_t settle_ns;

    struct rr_certificate_provider cert_provider;
    struct rr_authentication_receiver auth_receiver;
    struct rr_authentication_provider auth_provider;

    /* For the report's notes. */
    char tls[96];               /* "TLSv1.3 TLS_AES_256_GCM_SHA384" from rr_connection_info */
    char validation[160];       /* the system validation result of the first connect */
    unsigned first_from_cache;  /* first connects that nonetheless sent a cached token */
    unsigned cached_not_cached; /* "cached" connects that did not send one */
    unsigned cached_total;
    _Atomic unsigned tokens_requested; /* get_token calls (client network thread) */
    unsigned first_token_requests;     /* during first connects */
    unsigned cached_token_requests;    /* during cached connects */
    unsigned odd_disconnects;    /* reasons other than DisconnectRequest/PeerDisconnectRequest */
    char odd_disconnect[128];    /* the first of them */
    double lib_first_median_us;  /* rr_connection_info.handshake_us, the library's own view */
    double lib_cached_median_us; /* (both filled by bench_interleave) */
    struct rr_data_channel *echo_ch; /* C' */
};

/* Create the certificate, its PEM, both contexts, and start listening.
 * Returns false on a functional error (printed). */
bool bench_openrr_init(struct bench_openrr *rr);
/* Destroy the contexts, remove the PEM, wipe and free the store. Safe after a failed init. */
void bench_openrr_fini(struct bench_openrr *rr);

/*
 * A' and C' run one sample per call, so that bench_interleave can alternate them with the
 * anchor's A and C. Every function returns false on a functional error (printed).
 */
/* A': one connect_secure → Connected on the client (the figure, in *out_us; the library's own
 * rr_connection_info.handshake_us in *out_lib_us), then disconnect, listen again and let the
 * listener settle. fresh: a new client context first (not timed), so no token is cached;
 * otherwise the current one reconnects and must send its cached token. */
bool bench_openrr_connect_once(struct bench_openrr *rr, bool fresh, double *out_us,
                               double *out_lib_us);
/* C': connect and open the echo channel. */
bool bench_openrr_rtt_start(struct bench_openrr *rr);
/* C': one 64-byte send until its echo reaches the client's event callback. */
bool bench_openrr_rtt_once(struct bench_openrr *rr, double *out_us);
/* C': close the echo channel, disconnect, listen again. */
bool bench_openrr_rtt_stop(struct bench_openrr *rr);

/* B': first rr_data_channel_send → the receiver's callback has counted the last byte. */
bool bench_openrr_bulk(struct bench_openrr *rr, const struct bench_params *p,
                       struct bench_figures *out);
/* D': connect + Connected on both sides + disconnect + listen again, per second. */
bool bench_openrr_handshakes(struct bench_openrr *rr, const struct bench_params *p,
                             struct bench_figures *out);

#endif /* OPENRR_BENCH_OPENRR_H */
