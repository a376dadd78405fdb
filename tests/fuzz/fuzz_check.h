/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_check — the assertion macro of the fuzz targets. A violated property aborts, which
 * libFuzzer reports as a crash with the input that caused it; the message names the property.
 */
#ifndef FUZZ_CHECK_H
#define FUZZ_CHECK_H

#include <stdio.h>
#include <stdlib.h>

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: fuzz invariant violated: %s\n", __FILE__, __LINE__, #cond);    \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

#endif
