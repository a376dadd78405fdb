/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Names of fe_store's results and of the records' enums (the REST API's words for statuses
 * and sizes). Shared by every store implementation.
 * Threads: pure functions.
 */
#include "fe_store.h"

const char *fe_store_result_str(enum fe_store_result r)
{
    switch (r) {
    case FE_STORE_OK:
        return "FE_STORE_OK";
    case FE_STORE_NOT_FOUND:
        return "FE_STORE_NOT_FOUND";
    case FE_STORE_EXISTS:
        return "FE_STORE_EXISTS";
    case FE_STORE_CHANGED:
        return "FE_STORE_CHANGED";
    case FE_STORE_FULL:
        return "FE_STORE_FULL";
    case FE_STORE_IO:
        return "FE_STORE_IO";
    case FE_STORE_CORRUPT:
        return "FE_STORE_CORRUPT";
    case FE_STORE_INVALID:
        return "FE_STORE_INVALID";
    case FE_STORE_NO_MEMORY:
        return "FE_STORE_NO_MEMORY";
    }
    return "FE_STORE_UNKNOWN_RESULT";
}

const char *fe_conversion_status_str(enum fe_conversion_status s)
{
    switch (s) {
    case FE_CONV_NOT_STARTED:
        return "NotStarted";
    case FE_CONV_RUNNING:
        return "Running";
    case FE_CONV_CANCELLED:
        return "Cancelled";
    case FE_CONV_FAILED:
        return "Failed";
    case FE_CONV_SUCCEEDED:
        return "Succeeded";
    }
    return "Unknown";
}

const char *fe_session_status_str(enum fe_session_status s)
{
    switch (s) {
    case FE_SESSION_STARTING:
        return "Starting";
    case FE_SESSION_READY:
        return "Ready";
    case FE_SESSION_STOPPED:
        return "Stopped";
    case FE_SESSION_EXPIRED:
        return "Expired";
    case FE_SESSION_ERROR:
        return "Error";
    }
    return "Unknown";
}

const char *fe_session_size_str(enum fe_session_size s)
{
    switch (s) {
    case FE_SIZE_STANDARD:
        return "Standard";
    case FE_SIZE_PREMIUM:
        return "Premium";
    }
    return "Unknown";
}
