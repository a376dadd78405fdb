/* SPDX-License-Identifier: Apache-2.0 */
/*
 * asset_names — names of the asset result codes for logs and tool output. Any thread.
 */
#include "openrr/asset.h"

const char *rr_asset_result_str(enum rr_asset_result r)
{
    switch (r) {
    case RR_ASSET_OK:
        return "RR_ASSET_OK";
    case RR_ASSET_ERROR_INVALID_ARGUMENT:
        return "RR_ASSET_ERROR_INVALID_ARGUMENT";
    case RR_ASSET_ERROR_IO:
        return "RR_ASSET_ERROR_IO";
    case RR_ASSET_ERROR_NOT_AN_ASSET:
        return "RR_ASSET_ERROR_NOT_AN_ASSET";
    case RR_ASSET_ERROR_VERSION:
        return "RR_ASSET_ERROR_VERSION";
    case RR_ASSET_ERROR_TRUNCATED:
        return "RR_ASSET_ERROR_TRUNCATED";
    case RR_ASSET_ERROR_SECTION_TABLE:
        return "RR_ASSET_ERROR_SECTION_TABLE";
    case RR_ASSET_ERROR_CHECKSUM:
        return "RR_ASSET_ERROR_CHECKSUM";
    case RR_ASSET_ERROR_DECOMPRESS:
        return "RR_ASSET_ERROR_DECOMPRESS";
    case RR_ASSET_ERROR_BAD_RECORD:
        return "RR_ASSET_ERROR_BAD_RECORD";
    case RR_ASSET_ERROR_OUT_OF_MEMORY:
        return "RR_ASSET_ERROR_OUT_OF_MEMORY";
    }
    /* A value from a newer library or a corrupted variable: still printable. */
    return "RR_ASSET_ERROR_UNKNOWN";
}
