/* SPDX-License-Identifier: Apache-2.0 */
/*
 * oxr_system — the one system: a head-mounted display with a stereo view configuration whose
 * eyes are the player's. Its numbers (recommended eye size, opaque blending) are fixed by the
 * configuration, so they are the same before and after a player connects, as the reference
 * wants ("before connecting, system and view properties report defaults").
 *
 * Threads: any; reads constant configuration.
 */
#include "oxr_api.h"

#include <stdio.h>

static XrResult check_system(XrInstance instance, XrSystemId id, struct oxr_instance **out)
{
    struct oxr_instance *inst = oxr_get_instance(instance);
    if (inst == NULL) {
        return XR_ERROR_HANDLE_INVALID;
    }
    if (id != OXR_SYSTEM_ID) {
        return XR_ERROR_SYSTEM_INVALID;
    }
    if (out != NULL) {
        *out = inst;
    }
    return XR_SUCCESS;
}

void oxr_system_eye_size(const struct oxr_instance *inst, uint32_t *out_w, uint32_t *out_h)
{
    *out_w = inst->cfg.eye_width;
    *out_h = inst->cfg.eye_height;
}

OXR_API(GetSystem, (XrInstance instance, const XrSystemGetInfo *getInfo, XrSystemId *systemId))
{
    if (oxr_get_instance(instance) == NULL) {
        return XR_ERROR_HANDLE_INVALID;
    }
    if (getInfo == NULL || getInfo->type != XR_TYPE_SYSTEM_GET_INFO || systemId == NULL) {
        return XR_ERROR_VALIDATION_FAILURE;
    }
    switch (getInfo->formFactor) {
    case XR_FORM_FACTOR_HEAD_MOUNTED_DISPLAY:
        *systemId = OXR_SYSTEM_ID;
        return XR_SUCCESS;
    case XR_FORM_FACTOR_HANDHELD_DISPLAY:
        return XR_ERROR_FORM_FACTOR_UNSUPPORTED;
    default:
        return XR_ERROR_VALIDATION_FAILURE;
    }
}

OXR_API(GetSystemProperties,
        (XrInstance instance, XrSystemId systemId, XrSystemProperties *properties))
{
    XrResult xr = check_system(instance, systemId, NULL);
    if (xr != XR_SUCCESS) {
        return xr;
    }
    if (properties == NULL || properties->type != XR_TYPE_SYSTEM_PROPERTIES) {
        return XR_ERROR_VALIDATION_FAILURE;
    }
    properties->systemId = systemId;
    properties->vendorId = 0;
    snprintf(properties->systemName, sizeof properties->systemName, "%s", OXR_RUNTIME_NAME);
    properties->graphicsProperties.maxSwapchainImageWidth = OXR_MAX_SWAPCHAIN_SIZE;
    properties->graphicsProperties.maxSwapchainImageHeight = OXR_MAX_SWAPCHAIN_SIZE;
    properties->graphicsProperties.maxLayerCount = OXR_MAX_LAYERS;
    properties->trackingProperties.orientationTracking = XR_TRUE;
    properties->trackingProperties.positionTracking = XR_TRUE;
    return XR_SUCCESS;
}

static XrResult check_view_config(XrViewConfigurationType type)
{
    switch (type) {
    case XR_VIEW_CONFIGURATION_TYPE_PRIMARY_STEREO:
        return XR_SUCCESS;
    case XR_VIEW_CONFIGURATION_TYPE_PRIMARY_MONO:
    case XR_VIEW_CONFIGURATION_TYPE_PRIMARY_QUAD_VARJO:
    case XR_VIEW_CONFIGURATION_TYPE_SECONDARY_MONO_FIRST_PERSON_OBSERVER_MSFT:
        return XR_ERROR_VIEW_CONFIGURATION_TYPE_UNSUPPORTED;
    default:
        return XR_ERROR_VALIDATION_FAILURE;
    }
}

OXR_API(EnumerateEnvironmentBlendModes,
        (XrInstance instance, XrSystemId systemId, XrViewConfigurationType viewConfigurationType,
         uint32_t capacity, uint32_t *count, XrEnvironmentBlendMode *modes))
{
    XrResult xr = check_system(instance, systemId, NULL);
    if (xr == XR_SUCCESS) {
        xr = check_view_config(viewConfigurationType);
    }
    if (xr != XR_SUCCESS) {
        return xr;
    }
    if (count == NULL || (capacity > 0 && modes == NULL)) {
        return XR_ERROR_VALIDATION_FAILURE;
    }
    *count = 1;
    if (capacity == 0) {
        return XR_SUCCESS;
    }
    modes[0] = XR_ENVIRONMENT_BLEND_MODE_OPAQUE;
    return XR_SUCCESS;
}

OXR_API(EnumerateViewConfigurations, (XrInstance instance, XrSystemId systemId, uint32_t capacity,
                                      uint32_t *count, XrViewConfigurationType *types))
{
    XrResult xr = check_system(instance, systemId, NULL);
    if (xr != XR_SUCCESS) {
        return xr;
    }
    if (count == NULL || (capacity > 0 && types == NULL)) {
        return XR_ERROR_VALIDATION_FAILURE;
    }
    *count = 1;
    if (capacity > 0) {
        types[0] = XR_VIEW_CONFIGURATION_TYPE_PRIMARY_STEREO;
    }
    return XR_SUCCESS;
}

OXR_API(GetViewConfigurationProperties,
        (XrInstance instance, XrSystemId systemId, XrViewConfigurationType viewConfigurationType,
         XrViewConfigurationProperties *properties))
{
    XrResult xr = check_system(instance, systemId, NULL);
    if (xr == XR_SUCCESS) {
        xr = check_view_config(viewConfigurationType);
    }
    if (xr != XR_SUCCESS) {
        return xr;
    }
    if (properties == NULL || properties->type != XR_TYPE_VIEW_CONFIGURATION_PROPERTIES) {
        return XR_ERROR_VALIDATION_FAILURE;
    }
    properties->viewConfigurationType = viewConfigurationType;
    properties->fovMutable = XR_FALSE; /* the player's optics decide */
    return XR_SUCCESS;
}

OXR_API(EnumerateViewConfigurationViews,
        (XrInstance instance, XrSystemId systemId, XrViewConfigurationType viewConfigurationType,
         uint32_t capacity, uint32_t *count, XrViewConfigurationView *views))
{
    struct oxr_instance *inst = NULL;
    XrResult xr = check_system(instance, systemId, &inst);
    if (xr == XR_SUCCESS) {
        xr = check_view_config(viewConfigurationType);
    }
    if (xr != XR_SUCCESS) {
        return xr;
    }
    if (count == NULL || (capacity > 0 && views == NULL)) {
        return XR_ERROR_VALIDATION_FAILURE;
    }
    *count = OXR_VIEW_COUNT;
    if (capacity == 0) {
        return XR_SUCCESS;
    }
    if (capacity < OXR_VIEW_COUNT) {
        return XR_ERROR_SIZE_INSUFFICIENT;
    }
    for (uint32_t i = 0; i < OXR_VIEW_COUNT; i++) {
        if (views[i].type != XR_TYPE_VIEW_CONFIGURATION_VIEW) {
            return XR_ERROR_VALIDATION_FAILURE;
        }
    }
    uint32_t w, h;
    oxr_system_eye_size(inst, &w, &h);
    for (uint32_t i = 0; i < OXR_VIEW_COUNT; i++) {
        views[i].recommendedImageRectWidth = w;
        views[i].recommendedImageRectHeight = h;
        views[i].maxImageRectWidth = OXR_MAX_SWAPCHAIN_SIZE;
        views[i].maxImageRectHeight = OXR_MAX_SWAPCHAIN_SIZE;
        views[i].recommendedSwapchainSampleCount = 1;
        views[i].maxSwapchainSampleCount = 1;
    }
    return XR_SUCCESS;
}
