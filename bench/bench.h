/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench_remoting — what the two sides of the benchmark share: the run's parameters and the
 * figures each side produces. The anchor (raw OpenSSL) and the OpenRR side fill the same
 * struct so that the report compares like with like.
 */
#ifndef OPENRR_BENCH_H
#define OPENRR_BENCH_H

#include <stddef.h>
#include <stdint.h>

/* Host name both sides connect to: the certificates are issued for it, so name checking runs. */
#define BENCH_HOST "localhost"
/* Address both listeners bind; BENCH_HOST resolves to it on every machine we run on. */
#define BENCH_BIND "127.0.0.1"

#define BENCH_REQUEST_SIZE 200  /* A/D: the client's request, about an HTTP upgrade request */
#define BENCH_RESPONSE_SIZE 150 /* A/D: the server's answer, about a 101 response */
#define BENCH_BULK_CHUNK (64u * 1024u)
#define BENCH_SMALL_SIZE 64

/* Give up on any single wait after this long: beyond it something is broken, not slow. */
#define BENCH_WAIT_TIMEOUT_MS 15000

struct bench_params {
    unsigned connect_iterations; /* timed connects per connect figure */
    unsigned connect_warmup;     /* untimed connects before them */
    size_t bulk_bytes;
    unsigned bulk_rounds; /* bulk transfers per side, alternating; the median is reported */
    unsigned rtt_iterations;
    unsigned rtt_warmup;
    double handshake_seconds; /* how long the handshakes/s figure runs */
};

/*
 * One side's figures. Latencies in microseconds, throughput in MB/s (10^6 bytes per second),
 * handshakes per second. The anchor has a single connect figure (A) and fills both the
 * "first" and the "cached" fields with it, since both OpenRR figures are judged against A.
 * A negative value means "not measured" (the side failed before it got there).
 */
struct bench_figures {
    double connect_first_median_us;
    double connect_first_p99_us;
    double connect_cached_median_us;
    double connect_cached_p99_us;
    double bulk_mb_s;
    double rtt_median_us;
    double rtt_p99_us;
    double handshakes_per_s;
};

#endif /* OPENRR_BENCH_H */
