/* SPDX-License-Identifier: Apache-2.0 */
/*
 * noise — four lanes of xorshift128+: shifts, xors and an add, which vectorise, where a
 * multiply-based generator costs three times as long for a frame. Not for cryptography, and
 * its weak low bits do not matter: the output only has to look random to a video encoder.
 *
 * Threads: any; the state is the caller's.
 */
#include "noise.h"

#include <string.h>

#define LANES 4

/* splitmix64: spreads a seed over the state, which must not be all zero. */
static uint64_t splitmix(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void noise_init(struct noise *n, uint64_t seed)
{
    for (int i = 0; i < LANES; i++) {
        n->s[0][i] = splitmix(&seed);
        n->s[1][i] = splitmix(&seed) | 1u;
    }
}

static inline uint64_t next(uint64_t *a, uint64_t *b)
{
    uint64_t x = *a;
    uint64_t y = *b;
    x ^= x << 23;
    *a = y;
    *b = x ^ y ^ (x >> 17) ^ (y >> 26);
    return *b + y;
}

void noise_fill(struct noise *n, void *buf, size_t size)
{
    uint8_t *p = buf;
    /* Lanes in named locals: the optimiser keeps them in registers, which it does not for a
     * state array next to an output buffer that might alias it (three times slower). */
    uint64_t a0 = n->s[0][0], a1 = n->s[0][1], a2 = n->s[0][2], a3 = n->s[0][3];
    uint64_t b0 = n->s[1][0], b1 = n->s[1][1], b2 = n->s[1][2], b3 = n->s[1][3];
    uint64_t v[LANES];
    size_t whole = size - size % sizeof v;
    for (size_t done = 0; done <= size; done += sizeof v) {
        v[0] = next(&a0, &b0);
        v[1] = next(&a1, &b1);
        v[2] = next(&a2, &b2);
        v[3] = next(&a3, &b3);
        if (done < whole) {
            memcpy(p + done, v, sizeof v);
        } else {
            memcpy(p + done, v, size - whole); /* the tail, possibly empty */
            break;
        }
    }
    n->s[0][0] = a0, n->s[0][1] = a1, n->s[0][2] = a2, n->s[0][3] = a3;
    n->s[1][0] = b0, n->s[1][1] = b1, n->s[1][2] = b2, n->s[1][3] = b3;
}
