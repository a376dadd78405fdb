/* SPDX-License-Identifier: Apache-2.0 */
/* Names of enum rr_scene_result, the reference's spelling where it has one. Any thread. */
#include "openrr/scene.h"

static const char *const k_names[RR_SCENE_RESULT_COUNT] = {
    [RR_SCENE_SUCCESS] = "Success",
    [RR_SCENE_INVALID_PARAM] = "InvalidParam",
    [RR_SCENE_NO_CONNECTION] = "NoConnection",
    [RR_SCENE_CONNECTION_LOST] = "ConnectionLost",
    [RR_SCENE_TOO_MANY_REQUESTS] = "TooManyRequests",
    [RR_SCENE_OUT_OF_MEMORY] = "OutOfMemory",
    [RR_SCENE_ENTITY_NOT_FOUND] = "EntityNotFound",
    [RR_SCENE_NOT_FOUND] = "NotFound",
    [RR_SCENE_ASSET_NOT_FOUND] = "AssetNotFound",
    [RR_SCENE_ASSET_INVALID] = "AssetInvalid",
    [RR_SCENE_ASSET_CORRUPT] = "AssetCorrupt",
    [RR_SCENE_ASSET_TOO_LARGE] = "AssetTooLarge",
    [RR_SCENE_NETWORK_ERROR] = "NetworkError",
    [RR_SCENE_TOO_MANY_CUT_PLANES] = "TooManyCutPlanes",
    [RR_SCENE_NOT_SUPPORTED] = "NotSupported",
    [RR_SCENE_CANCELLED] = "Cancelled",
    [RR_SCENE_INTERNAL_ERROR] = "InternalError",
};

const char *rr_scene_result_str(enum rr_scene_result result)
{
    if ((unsigned)result >= RR_SCENE_RESULT_COUNT || k_names[result] == 0) {
        return "Unknown";
    }
    return k_names[result];
}
