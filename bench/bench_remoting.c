/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench_remoting — how libopenrr_remoting compares with plain OpenSSL on the same loopback,
 * in the same process, in the same run: connect latency (first and with a cached token),
 * bulk throughput, small-message round trip and handshakes per second. Latency samples
 * alternate between the two sides, throughput figures run back to back, so that both see the
 * same machine state.
 * The exit status says whether everything ran, never whether a target was met.
 * Threads: main is the measuring client; see bench_anchor.h and bench_openrr.h for the rest.
 */
#include "bench.h"
#include "bench_anchor.h"
#include "bench_interleave.h"
#include "bench_openrr.h"
#include "bench_report.h"
#include "bench_stats.h"

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median_of(double *v, unsigned n)
{
    if (n == 0)
        return 0.0;
    qsort(v, n, sizeof(*v), cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
}

static const struct bench_params full_params = {
    .connect_iterations = 200,
    .connect_warmup = 10,
    .bulk_bytes = 256u * 1024u * 1024u,
    .bulk_rounds = 5,
    .rtt_iterations = 2000,
    .rtt_warmup = 100,
    .handshake_seconds = 2.0,
};

/* Small enough for the test suite (well under 20 s), large enough to exercise every path. */
static const struct bench_params quick_params = {
    .connect_iterations = 30,
    .connect_warmup = 3,
    .bulk_bytes = 16u * 1024u * 1024u,
    .bulk_rounds = 1,
    .rtt_iterations = 300,
    .rtt_warmup = 20,
    .handshake_seconds = 0.5,
};

static void usage(FILE *out)
{
    fprintf(out,
            "usage: bench_remoting [--quick] [--help]\n"
            "\n"
            "Measures libopenrr_remoting against plain OpenSSL (the anchor) over loopback TLS 1.3\n"
            "in one process and prints a table of ratios plus one BENCH {json} line per figure.\n"
            "\n"
            "  --quick  fewer iterations and a 16 MiB bulk transfer (for the test suite)\n"
            "  --help   this text\n"
            "\n"
            "Exit status: 0 when every figure was measured, 1 on a functional error, 2 on bad\n"
            "usage. Missing a target never changes the exit status.\n");
}

/* Say on stderr what runs next, so that a hang has a name. */
static uint64_t step_begin(const char *what)
{
    fprintf(stderr, "bench: %-44s", what);
    fflush(stderr);
    return bench_now_ns();
}

static void step_end(uint64_t t0, bool ok)
{
    fprintf(stderr, " %s (%.1f s)\n", ok ? "done" : "FAILED", (double)(bench_now_ns() - t0) / 1e9);
}

static void print_notes(const struct bench_anchor *a, const struct bench_openrr *rr,
                        const struct bench_figures *fo, const struct bench_figures *fa)
{
    printf("notes:\n");
    printf("  anchor: %s, group %s; a full handshake every time (no tickets, no\n"
           "    resumption); the client resolves \"%s\", verifies the chain against the one\n"
           "    trusted certificate and checks the name, as the OpenRR client does.\n",
           a->cipher[0] ? a->cipher : "?", a->group[0] ? a->group : "?", BENCH_HOST);
    printf("  openrr: %s; the listener's certificate\n"
           "    (rr_cert_create_self_signed_pkcs12) went to a temporary PEM passed as\n"
           "    cfg.ca_file with no_system_trust and no custom validator, so the library's\n"
           "    system validation decided: %s\n",
           rr->tls[0] ? rr->tls : "(no connection)",
           rr->validation[0] ? rr->validation : "(not reached)");
    if (rr->lib_first_median_us >= 0)
        printf("  openrr: rr_connection_info.handshake_us medians (the library's own clock): "
               "first %.1f us,\n    cached %.1f us; the table times connect call -> Connected "
               "callback.\n",
               rr->lib_first_median_us, rr->lib_cached_median_us);
    if (rr->cached_total > 0)
        printf("  openrr: token cache: %u of %u reconnects sent the cached token, %u first "
               "connects did;\n    the token provider was asked %u times during the first "
               "connects, %u during the cached.\n",
               rr->cached_total - rr->cached_not_cached, rr->cached_total, rr->first_from_cache,
               rr->first_token_requests, rr->cached_token_requests);
    if (rr->store_load_us >= 0)
        printf("  openrr: the listener loads its PKCS#12 store only after reporting Listening\n"
               "    (rr_cert_store_check takes %.0f us here); connects start %.1f ms after "
               "Listening\n    so the connect figures leave it out; handshakes_per_s includes "
               "it.\n",
               rr->store_load_us, (double)rr->settle_ns / 1e6);
    printf("  connect figures: from the connect call (name resolution included on both sides) "
           "to the\n    response / Connected; A has one request/response, first connects add "
           "the 401\n    challenge round trip; closing is not included.\n");
    printf("  handshakes_per_s: one client thread, serial connections. OpenRR's listener "
           "serves one\n    connection per listen, so each of its cycles also includes the "
           "disconnect on both\n    sides and listening again; its client reconnects with a "
           "cached token.\n");
    if (fo->rtt_median_us >= 0 && fa->rtt_median_us >= 0)
        printf("  small_rtt: added latency over the anchor %+.1f us (median), %+.1f us (p99).\n",
               fo->rtt_median_us - fa->rtt_median_us, fo->rtt_p99_us - fa->rtt_p99_us);
    if (rr->odd_disconnects > 0)
        printf("  openrr: %u disconnects reported an unexpected reason; first: %s\n",
               rr->odd_disconnects, rr->odd_disconnect);
}

int main(int argc, char **argv)
{
    const struct bench_params *p = &full_params;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0) {
            p = &quick_params;
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        } else {
            fprintf(stderr, "bench_remoting: unknown argument '%s'\n", argv[i]);
            usage(stderr);
            return 2;
        }
    }
    /* A peer that closes first must cost an EPIPE, not the process. */
    signal(SIGPIPE, SIG_IGN);

    printf("bench_remoting%s: %u connects (+%u warm-up) per connect figure, %zu MiB bulk in "
           "%u KiB writes, %u round trips of %d bytes, %.1f s of handshakes\n",
           p == &quick_params ? " --quick" : "", p->connect_iterations, p->connect_warmup,
           p->bulk_bytes >> 20, BENCH_BULK_CHUNK / 1024, p->rtt_iterations, BENCH_SMALL_SIZE,
           p->handshake_seconds);
    fflush(stdout);

    struct bench_figures fa, fo;
    bench_figures_init(&fa);
    bench_figures_init(&fo);
    struct bench_anchor anchor;
    struct bench_openrr rr;
    bool anchor_ok = bench_anchor_init(&anchor);
    bool rr_ok = bench_openrr_init(&rr);
    if (!rr_ok)
        fprintf(stderr, "bench: OpenRR setup failed; only the anchor runs\n");

    /* Latencies alternate sample by sample; throughputs run anchor first, then OpenRR. Once a
     * side fails, its later figures are skipped (they would start from a broken state) while
     * the other side carries on. */
    uint64_t t = step_begin("A/A' connect (interleaved)");
    bench_interleave_connect(&anchor, &rr, p, &fa, &fo, &anchor_ok, &rr_ok);
    step_end(t, anchor_ok && rr_ok);
    /* Bulk throughput on this shared 2-core machine swings by 2x from run to run for both
     * sides alike (thread placement); alternate rounds and report each side's median. */
    t = step_begin("B/B' bulk (alternating rounds)");
    double a_runs[16], o_runs[16];
    unsigned rounds = p->bulk_rounds < 16 ? p->bulk_rounds : 16, na = 0, no = 0;
    for (unsigned r = 0; r < rounds; r++) {
        if (anchor_ok && (anchor_ok = bench_anchor_bulk(&anchor, p, &fa))) {
            a_runs[na++] = fa.bulk_mb_s;
        }
        if (rr_ok && (rr_ok = bench_openrr_bulk(&rr, p, &fo))) {
            o_runs[no++] = fo.bulk_mb_s;
        }
    }
    fa.bulk_mb_s = median_of(a_runs, na);
    fo.bulk_mb_s = median_of(o_runs, no);
    step_end(t, anchor_ok && rr_ok);
    t = step_begin("C/C' small round trip (interleaved)");
    bench_interleave_rtt(&anchor, &rr, p, &fa, &fo, &anchor_ok, &rr_ok);
    step_end(t, anchor_ok && rr_ok);
    if (anchor_ok) {
        t = step_begin("D  anchor handshakes/s");
        anchor_ok = bench_anchor_handshakes(&anchor, p, &fa);
        step_end(t, anchor_ok);
    }
    if (rr_ok) {
        t = step_begin("D' openrr handshakes/s");
        rr_ok = bench_openrr_handshakes(&rr, p, &fo);
        step_end(t, rr_ok);
    }

    bench_report_print(stdout, &fo, &fa);
    print_notes(&anchor, &rr, &fo, &fa);

    /* The header promises the cache; a "cached" figure without it measured something else. */
    bool cache_ok = rr.first_from_cache == 0 && rr.cached_not_cached == 0;
    if (!cache_ok)
        printf("ERROR: the token cache did not behave as documented (see the notes); the "
               "connect_cached figures do not measure the cached path.\n");

    bench_openrr_fini(&rr);
    bench_anchor_fini(&anchor);
    if (!anchor_ok || !rr_ok)
        printf("ERROR: some figures were not measured (see stderr).\n");
    return anchor_ok && rr_ok && cache_ok ? 0 : 1;
}
