/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench_asset_load: the host-side load time of a .rrasset — rr_asset_open (mmap + full
 * structural validation, the indices included; no checksum pass) — as a rendering host does it.
 * Prints the median of several opens and the time per 100 MB, and one BENCH line.
 * Usage: bench_asset_load FILE.rrasset [repeats]
 */
#include "openrr/asset.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: bench_asset_load FILE.rrasset [repeats (default 7)]\n");
        return 2;
    }
    int repeats = argc == 3 ? atoi(argv[2]) : 7;
    if (repeats < 1 || repeats > 100) {
        fprintf(stderr, "bench_asset_load: repeats must be 1..100\n");
        return 2;
    }
    struct stat st;
    if (stat(argv[1], &st) != 0) {
        perror(argv[1]);
        return 1;
    }
    double t[100];
    for (int i = 0; i < repeats; i++) {
        char err[256];
        struct rr_asset *a = NULL;
        double t0 = now_ms();
        enum rr_asset_result r = rr_asset_open(argv[1], 0, &a, err, sizeof(err));
        t[i] = now_ms() - t0;
        if (r != RR_ASSET_OK) {
            fprintf(stderr, "bench_asset_load: %s: %s\n", rr_asset_result_str(r), err);
            return 1;
        }
        rr_asset_close(&a);
    }
    qsort(t, (size_t)repeats, sizeof(t[0]), cmp);
    double median = t[repeats / 2];
    double per100 = median / ((double)st.st_size / 1e8);
    printf("asset load (mmap + validate): %.1f ms for %.1f MB = %.1f ms per 100 MB (target <= 50)\n",
           median, (double)st.st_size / 1e6, per100);
    printf("BENCH {\"name\":\"asset_load_ms_per_100mb\",\"value\":%.2f,\"anchor\":null,"
           "\"ratio\":null,\"unit\":\"ms\"}\n",
           per100);
    return 0;
}
