/* SPDX-License-Identifier: Apache-2.0 */
/* Parallel for with pthreads: one contiguous range per thread, the caller taking the first. */
#include "parallel.h"

#include <pthread.h>
#include <sched.h>
#include <unistd.h>

struct range_job {
    bool (*fn)(void *user, size_t begin, size_t end, unsigned worker);
    void *user;
    size_t begin;
    size_t end;
    unsigned worker;
    bool ok;
};

static void *run_range(void *arg)
{
    struct range_job *j = arg;
    j->ok = j->fn(j->user, j->begin, j->end, j->worker);
    return NULL;
}

unsigned rr_convert_threads(void)
{
    cpu_set_t set;
    long n = 0;
    if (sched_getaffinity(0, sizeof(set), &set) == 0) {
        n = CPU_COUNT(&set);
    }
    if (n <= 0) {
        n = sysconf(_SC_NPROCESSORS_ONLN);
    }
    return n < 1 ? 1u : n > RR_CONVERT_MAX_THREADS ? RR_CONVERT_MAX_THREADS : (unsigned)n;
}

bool rr_convert_parallel_for(size_t n, size_t min_range,
                             bool (*fn)(void *user, size_t begin, size_t end, unsigned worker),
                             void *user)
{
    size_t ranges = rr_convert_threads();
    if (min_range > 0 && n / min_range < ranges) {
        ranges = n / min_range > 0 ? n / min_range : 1;
    }
    struct range_job jobs[RR_CONVERT_MAX_THREADS];
    pthread_t threads[RR_CONVERT_MAX_THREADS];
    bool started[RR_CONVERT_MAX_THREADS] = {false};
    for (size_t r = 0; r < ranges; r++) {
        jobs[r] =
            (struct range_job){fn, user, n * r / ranges, n * (r + 1) / ranges, (unsigned)r, true};
    }
    for (size_t r = 1; r < ranges; r++) {
        started[r] = pthread_create(&threads[r], NULL, run_range, &jobs[r]) == 0;
    }
    run_range(&jobs[0]);
    bool ok = jobs[0].ok;
    for (size_t r = 1; r < ranges; r++) {
        if (started[r]) {
            pthread_join(threads[r], NULL);
        } else {
            run_range(&jobs[r]); /* no thread to be had: do it here */
        }
        ok = ok && jobs[r].ok;
    }
    return ok;
}
