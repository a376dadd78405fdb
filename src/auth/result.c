/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Result names and the error-message helper of openrr_auth.
 * Threads: pure functions.
 */
#include "auth_internal.h"

#include <stdio.h>

const char *rr_jwt_result_str(enum rr_jwt_result result)
{
    switch (result) {
    case RR_JWT_OK:
        return "RR_JWT_OK";
    case RR_JWT_MALFORMED:
        return "RR_JWT_MALFORMED";
    case RR_JWT_UNKNOWN_KEY:
        return "RR_JWT_UNKNOWN_KEY";
    case RR_JWT_BAD_SIGNATURE:
        return "RR_JWT_BAD_SIGNATURE";
    case RR_JWT_ALG_NOT_ALLOWED:
        return "RR_JWT_ALG_NOT_ALLOWED";
    case RR_JWT_EXPIRED:
        return "RR_JWT_EXPIRED";
    case RR_JWT_NOT_YET_VALID:
        return "RR_JWT_NOT_YET_VALID";
    case RR_JWT_WRONG_ISSUER:
        return "RR_JWT_WRONG_ISSUER";
    case RR_JWT_WRONG_AUDIENCE:
        return "RR_JWT_WRONG_AUDIENCE";
    case RR_JWT_WRONG_ACCOUNT:
        return "RR_JWT_WRONG_ACCOUNT";
    case RR_JWT_WRONG_ROLE:
        return "RR_JWT_WRONG_ROLE";
    case RR_JWT_INVALID_ARGUMENT:
        return "RR_JWT_INVALID_ARGUMENT";
    case RR_JWT_OUT_OF_MEMORY:
        return "RR_JWT_OUT_OF_MEMORY";
    case RR_JWT_IO:
        return "RR_JWT_IO";
    case RR_JWT_TOO_LARGE:
        return "RR_JWT_TOO_LARGE";
    case RR_JWT_BAD_KEY:
        return "RR_JWT_BAD_KEY";
    case RR_JWT_CRYPTO:
        return "RR_JWT_CRYPTO";
    }
    return "RR_JWT_UNKNOWN_RESULT";
}

enum rr_jwt_result rr_auth_fail(enum rr_jwt_result result, char *err, size_t err_size,
                                const char *fmt, ...)
{
    if (err && err_size > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, err_size, fmt, ap);
        va_end(ap);
    }
    return result;
}
