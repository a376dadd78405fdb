/* SPDX-License-Identifier: Apache-2.0 */
/*
 * oxr_instance — XrInstance: extensions, creation (the configuration is read and the
 * connection object made here, so a bad OPENRR_* value fails xrCreateInstance with a reason),
 * properties, the event queue behind xrPollEvent, path atoms, XrTime conversions.
 *
 * Threads: any application thread; the instance's mutable parts are locked (inst->lock, the
 * event queue's and the path table's own locks).
 */
#include "oxr_api.h"

#include "u_log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RUNTIME_VERSION XR_MAKE_VERSION(0, 1, 0)

struct oxr_extension {
    const char *name;
    uint32_t version;
};

static const struct oxr_extension k_extensions[] = {
    {XR_KHR_VULKAN_ENABLE_EXTENSION_NAME, XR_KHR_vulkan_enable_SPEC_VERSION},
    {XR_KHR_VULKAN_ENABLE2_EXTENSION_NAME, XR_KHR_vulkan_enable2_SPEC_VERSION},
    {XR_KHR_CONVERT_TIMESPEC_TIME_EXTENSION_NAME, XR_KHR_convert_timespec_time_SPEC_VERSION},
    {XR_MSFT_HOLOGRAPHIC_REMOTING_EXTENSION_NAME, XR_MSFT_holographic_remoting_SPEC_VERSION},
};
#define EXTENSION_COUNT (sizeof k_extensions / sizeof k_extensions[0])

/* ---- helpers shared by the API files ------------------------------------------------------------
 */

#define GETTER(fn, ctype, xtype, tag)                                                              \
    ctype *fn(xtype h)                                                                             \
    {                                                                                              \
        return (ctype *)(void *)oxr_handle_lookup(OXR_ID(h), tag);                                 \
    }
GETTER(oxr_get_instance, struct oxr_instance, XrInstance, OXR_TYPE_INSTANCE)
GETTER(oxr_get_session, struct oxr_session, XrSession, OXR_TYPE_SESSION)
GETTER(oxr_get_space, struct oxr_space, XrSpace, OXR_TYPE_SPACE)
GETTER(oxr_get_swapchain, struct oxr_swapchain, XrSwapchain, OXR_TYPE_SWAPCHAIN)
GETTER(oxr_get_action_set, struct oxr_action_set, XrActionSet, OXR_TYPE_ACTION_SET)
GETTER(oxr_get_action, struct oxr_action, XrAction, OXR_TYPE_ACTION)
#undef GETTER

XrTime oxr_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (XrTime)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

XrResult oxr_two_call_string(const char *s, uint32_t capacity, uint32_t *count_out, char *buffer)
{
    size_t need = strlen(s) + 1;
    if (count_out == NULL || (capacity > 0 && buffer == NULL)) {
        return XR_ERROR_VALIDATION_FAILURE;
    }
    *count_out = (uint32_t)need;
    if (capacity == 0) {
        return XR_SUCCESS;
    }
    if (capacity < need) {
        return XR_ERROR_SIZE_INSUFFICIENT;
    }
    memcpy(buffer, s, need);
    return XR_SUCCESS;
}

/* ---- extensions and layers ----------------------------------------------------------------------
 */

OXR_API(EnumerateApiLayerProperties,
        (uint32_t capacity, uint32_t *count, XrApiLayerProperties *properties))
{
    (void)capacity;
    (void)properties;
    if (count == NULL) {
        return XR_ERROR_VALIDATION_FAILURE;
    }
    *count = 0; /* layers belong to the loader */
    return XR_SUCCESS;
}

OXR_API(EnumerateInstanceExtensionProperties, (const char *layerName, uint32_t capacity,
                                               uint32_t *count, XrExtensionProperties *properties))
{
    if (layerName != NULL && layerName[0] != '\0') {
        return XR_ERROR_API_LAYER_NOT_PRESENT;
    }
    if (count == NULL || (capacity > 0 && properties == NULL)) {
        return XR_ERROR_VALIDATION_FAILURE;
    }
    *count = EXTENSION_COUNT;
    if (capacity == 0) {
        return XR_SUCCESS;
    }
    if (capacity < EXTENSION_COUNT) {
        return XR_ERROR_SIZE_INSUFFICIENT;
    }
    for (size_t i = 0; i < EXTENSION_COUNT; i++) {
        if (properties[i].type != XR_TYPE_EXTENSION_PROPERTIES) {
            return XR_ERROR_VALIDATION_FAILURE;
        }
    }
    for (size_t i = 0; i < EXTENSION_COUNT; i++) {
        snprintf(properties[i].extensionName, sizeof properties[i].extensionName, "%s",
                 k_extensions[i].name);
        properties[i].extensionVersion = k_extensions[i].version;
    }
    return XR_SUCCESS;
}

/* ---- life
 * ----------------------------------------------------------------------------------------- */

static void instance_destroy(struct oxr_handle *h)
{
    struct oxr_instance *inst = (struct oxr_instance *)(void *)h;
    oxr_conn_destroy(&inst->conn);
    free(inst->channels);
    oxr_actions_fini(inst);
    oxr_config_fini(&inst->cfg);
    oxr_paths_fini(&inst->paths);
    oxr_events_fini(&inst->events);
    pthread_mutex_destroy(&inst->lock);
    pthread_mutex_destroy(&inst->update_lock);
    free(inst);
}

/* A NUL within @p size and not empty. */
static bool name_ok(const char *s, size_t size)
{
    size_t n = strnlen(s, size);
    return n > 0 && n < size;
}

static XrResult check_create_info(const XrInstanceCreateInfo *ci)
{
    if (ci == NULL || ci->type != XR_TYPE_INSTANCE_CREATE_INFO || ci->createFlags != 0) {
        return XR_ERROR_VALIDATION_FAILURE;
    }
    if (!name_ok(ci->applicationInfo.applicationName, XR_MAX_APPLICATION_NAME_SIZE)) {
        return XR_ERROR_NAME_INVALID;
    }
    if (strnlen(ci->applicationInfo.engineName, XR_MAX_ENGINE_NAME_SIZE) >=
        XR_MAX_ENGINE_NAME_SIZE) {
        return XR_ERROR_VALIDATION_FAILURE;
    }
    XrVersion v = ci->applicationInfo.apiVersion;
    if (XR_VERSION_MAJOR(v) != 1 || XR_VERSION_MINOR(v) != 0) {
        return XR_ERROR_API_VERSION_UNSUPPORTED;
    }
    if (ci->enabledApiLayerCount > 0) {
        return XR_ERROR_API_LAYER_NOT_PRESENT; /* the loader strips the ones it serves */
    }
    if (ci->enabledExtensionCount > 0 && ci->enabledExtensionNames == NULL) {
        return XR_ERROR_VALIDATION_FAILURE;
    }
    for (uint32_t i = 0; i < ci->enabledExtensionCount; i++) {
        const char *want = ci->enabledExtensionNames[i];
        bool known = false;
        for (size_t k = 0; want != NULL && k < EXTENSION_COUNT && !known; k++) {
            known = strcmp(want, k_extensions[k].name) == 0;
        }
        if (!known) {
            return XR_ERROR_EXTENSION_NOT_PRESENT;
        }
    }
    return XR_SUCCESS;
}

OXR_API(CreateInstance, (const XrInstanceCreateInfo *createInfo, XrInstance *instance))
{
    XrResult xr = check_create_info(createInfo);
    if (xr != XR_SUCCESS) {
        return xr;
    }
    if (instance == NULL) {
        return XR_ERROR_VALIDATION_FAILURE;
    }
    struct oxr_instance *inst = calloc(1, sizeof *inst);
    if (inst == NULL) {
        return XR_ERROR_OUT_OF_MEMORY;
    }
    char err[512];
    if (!oxr_config_load(&inst->cfg, err, sizeof err)) {
        U_LOG_E(OXR_LOG, "configuration: %s", err);
        free(inst);
        return XR_ERROR_INITIALIZATION_FAILED;
    }
    enum rr_result r = oxr_conn_create(&inst->cfg, &inst->conn);
    if (r != RR_OK) {
        U_LOG_E(OXR_LOG, "cannot create the remoting context: %s", rr_result_str(r));
        oxr_config_fini(&inst->cfg);
        free(inst);
        return r == RR_ERROR_OUT_OF_MEMORY ? XR_ERROR_OUT_OF_MEMORY : XR_ERROR_RUNTIME_FAILURE;
    }
    pthread_mutex_init(&inst->lock, NULL);
    pthread_mutex_init(&inst->update_lock, NULL);
    oxr_paths_init(&inst->paths);
    oxr_events_init(&inst->events);
    for (uint32_t i = 0; i < createInfo->enabledExtensionCount; i++) {
        const char *e = createInfo->enabledExtensionNames[i];
        inst->ext.vulkan |= strcmp(e, XR_KHR_VULKAN_ENABLE_EXTENSION_NAME) == 0;
        inst->ext.vulkan2 |= strcmp(e, XR_KHR_VULKAN_ENABLE2_EXTENSION_NAME) == 0;
        inst->ext.timespec |= strcmp(e, XR_KHR_CONVERT_TIMESPEC_TIME_EXTENSION_NAME) == 0;
        inst->ext.remoting |= strcmp(e, XR_MSFT_HOLOGRAPHIC_REMOTING_EXTENSION_NAME) == 0;
    }
    snprintf(inst->app_name, sizeof inst->app_name, "%s",
             createInfo->applicationInfo.applicationName);
    inst->base.type = OXR_TYPE_INSTANCE;
    inst->base.destroy = instance_destroy;
    if (!oxr_handle_register(&inst->base)) {
        instance_destroy(&inst->base);
        return XR_ERROR_OUT_OF_MEMORY;
    }
    U_LOG_I(OXR_LOG, "instance for \"%s\": %ux%u per eye, %s", inst->app_name, inst->cfg.eye_width,
            inst->cfg.eye_height, inst->cfg.listen ? "listening" : "connecting");
    *instance = OXR_TO_XR(XrInstance, &inst->base);
    return XR_SUCCESS;
}

OXR_API(DestroyInstance, (XrInstance instance))
{
    struct oxr_instance *inst = oxr_get_instance(instance);
    if (inst == NULL) {
        return XR_ERROR_HANDLE_INVALID;
    }
    oxr_handle_destroy(&inst->base);
    return XR_SUCCESS;
}

OXR_API(GetInstanceProperties, (XrInstance instance, XrInstanceProperties *instanceProperties))
{
    if (oxr_get_instance(instance) == NULL) {
        return XR_ERROR_HANDLE_INVALID;
    }
    if (instanceProperties == NULL || instanceProperties->type != XR_TYPE_INSTANCE_PROPERTIES) {
        return XR_ERROR_VALIDATION_FAILURE;
    }
    instanceProperties->runtimeVersion = RUNTIME_VERSION;
    snprintf(instanceProperties->runtimeName, sizeof instanceProperties->runtimeName, "%s",
             OXR_RUNTIME_NAME);
    return XR_SUCCESS;
}

OXR_API(PollEvent, (XrInstance instance, XrEventDataBuffer *eventData))
{
    struct oxr_instance *inst = oxr_get_instance(instance);
    if (inst == NULL) {
        return XR_ERROR_HANDLE_INVALID;
    }
    if (eventData == NULL || eventData->type != XR_TYPE_EVENT_DATA_BUFFER) {
        return XR_ERROR_VALIDATION_FAILURE;
    }
    oxr_instance_update(inst);
    return oxr_events_pop(&inst->events, eventData) ? XR_SUCCESS : XR_EVENT_UNAVAILABLE;
}

/* ---- paths
 * ------------------------------------------------------------------------------------------ */

OXR_API(StringToPath, (XrInstance instance, const char *pathString, XrPath *path))
{
    struct oxr_instance *inst = oxr_get_instance(instance);
    if (inst == NULL) {
        return XR_ERROR_HANDLE_INVALID;
    }
    if (pathString == NULL || path == NULL) {
        return XR_ERROR_VALIDATION_FAILURE;
    }
    return oxr_path_intern(&inst->paths, pathString, path);
}

OXR_API(PathToString,
        (XrInstance instance, XrPath path, uint32_t capacity, uint32_t *count, char *buffer))
{
    struct oxr_instance *inst = oxr_get_instance(instance);
    if (inst == NULL) {
        return XR_ERROR_HANDLE_INVALID;
    }
    const char *s = oxr_path_string(&inst->paths, path);
    if (s == NULL) {
        return XR_ERROR_PATH_INVALID;
    }
    return oxr_two_call_string(s, capacity, count, buffer);
}

/* ---- XR_KHR_convert_timespec_time: XrTime is CLOCK_MONOTONIC in ns ------------------------------
 */

OXR_API(ConvertTimespecTimeToTimeKHR,
        (XrInstance instance, const struct timespec *timespecTime, XrTime *time))
{
    if (oxr_get_instance(instance) == NULL) {
        return XR_ERROR_HANDLE_INVALID;
    }
    if (timespecTime == NULL || time == NULL) {
        return XR_ERROR_VALIDATION_FAILURE;
    }
    if (timespecTime->tv_sec < 0 || timespecTime->tv_nsec < 0 ||
        timespecTime->tv_nsec >= 1000000000L || timespecTime->tv_sec > INT64_MAX / 1000000000 - 1) {
        return XR_ERROR_TIME_INVALID;
    }
    XrTime t = (XrTime)timespecTime->tv_sec * 1000000000 + timespecTime->tv_nsec;
    if (t <= 0) {
        return XR_ERROR_TIME_INVALID;
    }
    *time = t;
    return XR_SUCCESS;
}

OXR_API(ConvertTimeToTimespecTimeKHR,
        (XrInstance instance, XrTime time, struct timespec *timespecTime))
{
    if (oxr_get_instance(instance) == NULL) {
        return XR_ERROR_HANDLE_INVALID;
    }
    if (timespecTime == NULL) {
        return XR_ERROR_VALIDATION_FAILURE;
    }
    if (time <= 0) {
        return XR_ERROR_TIME_INVALID;
    }
    timespecTime->tv_sec = (time_t)(time / 1000000000);
    timespecTime->tv_nsec = (long)(time % 1000000000);
    return XR_SUCCESS;
}
