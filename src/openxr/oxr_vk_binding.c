/* SPDX-License-Identifier: Apache-2.0 */
/*
 * oxr_vk_binding — XR_KHR_vulkan_enable and XR_KHR_vulkan_enable2: the requirements, the
 * (empty) extension lists, the choice of physical device, and with enable2 the creation of the
 * application's instance and device through the application's own vkGetInstanceProcAddr.
 * The runtime needs no Vulkan extension: it only copies the application's images on the
 * application's queue.
 *
 * Threads: any application thread; what it records on the instance is under inst->lock.
 */
#include "oxr_api.h"

#include "u_log.h"

#define VK_MIN_VERSION XR_MAKE_VERSION(1, 0, 0)
#define VK_MAX_VERSION XR_MAKE_VERSION(1, 3, 0)

static XrResult check(XrInstance instance, XrSystemId systemId, struct oxr_instance **out)
{
    struct oxr_instance *inst = oxr_get_instance(instance);
    if (inst == NULL) {
        return XR_ERROR_HANDLE_INVALID;
    }
    if (systemId != OXR_SYSTEM_ID) {
        return XR_ERROR_SYSTEM_INVALID;
    }
    *out = inst;
    return XR_SUCCESS;
}

static XrResult requirements(XrInstance instance, XrSystemId systemId,
                             XrGraphicsRequirementsVulkanKHR *req)
{
    struct oxr_instance *inst;
    XrResult xr = check(instance, systemId, &inst);
    if (xr != XR_SUCCESS) {
        return xr;
    }
    if (req == NULL || req->type != XR_TYPE_GRAPHICS_REQUIREMENTS_VULKAN_KHR) {
        return XR_ERROR_VALIDATION_FAILURE;
    }
    req->minApiVersionSupported = VK_MIN_VERSION;
    req->maxApiVersionSupported = VK_MAX_VERSION;
    pthread_mutex_lock(&inst->lock);
    inst->vulkan_requirements_queried = true;
    pthread_mutex_unlock(&inst->lock);
    return XR_SUCCESS;
}

OXR_API(GetVulkanGraphicsRequirementsKHR, (XrInstance instance, XrSystemId systemId,
                                           XrGraphicsRequirementsVulkanKHR *graphicsRequirements))
{
    return requirements(instance, systemId, graphicsRequirements);
}

OXR_API(GetVulkanGraphicsRequirements2KHR, (XrInstance instance, XrSystemId systemId,
                                            XrGraphicsRequirementsVulkanKHR *graphicsRequirements))
{
    return requirements(instance, systemId, graphicsRequirements);
}

OXR_API(GetVulkanInstanceExtensionsKHR, (XrInstance instance, XrSystemId systemId,
                                         uint32_t capacity, uint32_t *count, char *buffer))
{
    struct oxr_instance *inst;
    XrResult xr = check(instance, systemId, &inst);
    return xr != XR_SUCCESS ? xr : oxr_two_call_string("", capacity, count, buffer);
}

OXR_API(GetVulkanDeviceExtensionsKHR, (XrInstance instance, XrSystemId systemId, uint32_t capacity,
                                       uint32_t *count, char *buffer))
{
    struct oxr_instance *inst;
    XrResult xr = check(instance, systemId, &inst);
    return xr != XR_SUCCESS ? xr : oxr_two_call_string("", capacity, count, buffer);
}

/* The first discrete GPU of @p vk_instance, else the first device. */
static XrResult pick_device(struct oxr_instance *inst, PFN_vkGetInstanceProcAddr gipa,
                            VkInstance vk_instance, VkPhysicalDevice *out)
{
    PFN_vkEnumeratePhysicalDevices enumerate =
        (PFN_vkEnumeratePhysicalDevices)gipa(vk_instance, "vkEnumeratePhysicalDevices");
    PFN_vkGetPhysicalDeviceProperties props =
        (PFN_vkGetPhysicalDeviceProperties)gipa(vk_instance, "vkGetPhysicalDeviceProperties");
    if (enumerate == NULL || props == NULL) {
        U_LOG_E(OXR_LOG, "the Vulkan instance gives no vkEnumeratePhysicalDevices");
        return XR_ERROR_RUNTIME_FAILURE;
    }
    VkPhysicalDevice devices[16];
    uint32_t n = 16;
    VkResult r = enumerate(vk_instance, &n, devices);
    if ((r != VK_SUCCESS && r != VK_INCOMPLETE) || n == 0) {
        U_LOG_E(OXR_LOG, "no Vulkan device (vkEnumeratePhysicalDevices: %d, %u devices)", (int)r,
                n);
        return XR_ERROR_RUNTIME_FAILURE;
    }
    VkPhysicalDevice chosen = devices[0];
    for (uint32_t i = 0; i < n; i++) {
        VkPhysicalDeviceProperties p;
        props(devices[i], &p);
        if (p.deviceType == VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU) {
            chosen = devices[i];
            break;
        }
    }
    pthread_mutex_lock(&inst->lock);
    inst->app_vk_instance = vk_instance;
    inst->app_vk_physical = chosen;
    pthread_mutex_unlock(&inst->lock);
    *out = chosen;
    return XR_SUCCESS;
}

OXR_API(GetVulkanGraphicsDeviceKHR, (XrInstance instance, XrSystemId systemId,
                                     VkInstance vkInstance, VkPhysicalDevice *vkPhysicalDevice))
{
    struct oxr_instance *inst;
    XrResult xr = check(instance, systemId, &inst);
    if (xr != XR_SUCCESS) {
        return xr;
    }
    if (vkInstance == VK_NULL_HANDLE || vkPhysicalDevice == NULL) {
        return XR_ERROR_VALIDATION_FAILURE;
    }
    return pick_device(inst, oxr_vk_loader_gipa(), vkInstance, vkPhysicalDevice);
}

OXR_API(GetVulkanGraphicsDevice2KHR,
        (XrInstance instance, const XrVulkanGraphicsDeviceGetInfoKHR *getInfo,
         VkPhysicalDevice *vulkanPhysicalDevice))
{
    struct oxr_instance *inst = oxr_get_instance(instance);
    if (inst == NULL) {
        return XR_ERROR_HANDLE_INVALID;
    }
    if (getInfo == NULL || getInfo->type != XR_TYPE_VULKAN_GRAPHICS_DEVICE_GET_INFO_KHR ||
        getInfo->vulkanInstance == VK_NULL_HANDLE || vulkanPhysicalDevice == NULL) {
        return XR_ERROR_VALIDATION_FAILURE;
    }
    if (getInfo->systemId != OXR_SYSTEM_ID) {
        return XR_ERROR_SYSTEM_INVALID;
    }
    pthread_mutex_lock(&inst->lock);
    PFN_vkGetInstanceProcAddr gipa = inst->app_gipa != NULL ? inst->app_gipa : oxr_vk_loader_gipa();
    pthread_mutex_unlock(&inst->lock);
    return pick_device(inst, gipa, getInfo->vulkanInstance, vulkanPhysicalDevice);
}

OXR_API(CreateVulkanInstanceKHR,
        (XrInstance instance, const XrVulkanInstanceCreateInfoKHR *createInfo,
         VkInstance *vulkanInstance, VkResult *vulkanResult))
{
    struct oxr_instance *inst = oxr_get_instance(instance);
    if (inst == NULL) {
        return XR_ERROR_HANDLE_INVALID;
    }
    if (createInfo == NULL || createInfo->type != XR_TYPE_VULKAN_INSTANCE_CREATE_INFO_KHR ||
        createInfo->createFlags != 0 || createInfo->pfnGetInstanceProcAddr == NULL ||
        createInfo->vulkanCreateInfo == NULL || vulkanInstance == NULL || vulkanResult == NULL) {
        return XR_ERROR_VALIDATION_FAILURE;
    }
    if (createInfo->systemId != OXR_SYSTEM_ID) {
        return XR_ERROR_SYSTEM_INVALID;
    }
    pthread_mutex_lock(&inst->lock);
    bool queried = inst->vulkan_requirements_queried;
    pthread_mutex_unlock(&inst->lock);
    if (!queried) {
        return XR_ERROR_GRAPHICS_REQUIREMENTS_CALL_MISSING;
    }
    PFN_vkCreateInstance create = (PFN_vkCreateInstance)createInfo->pfnGetInstanceProcAddr(
        VK_NULL_HANDLE, "vkCreateInstance");
    if (create == NULL) {
        return XR_ERROR_RUNTIME_FAILURE;
    }
    /* No extensions of ours to add: the application's create info goes as it is. */
    *vulkanResult =
        create(createInfo->vulkanCreateInfo, createInfo->vulkanAllocator, vulkanInstance);
    if (*vulkanResult != VK_SUCCESS) {
        U_LOG_E(OXR_LOG, "vkCreateInstance failed (%d)", (int)*vulkanResult);
        return XR_ERROR_RUNTIME_FAILURE;
    }
    pthread_mutex_lock(&inst->lock);
    inst->app_gipa = createInfo->pfnGetInstanceProcAddr;
    inst->app_vk_instance = *vulkanInstance;
    pthread_mutex_unlock(&inst->lock);
    return XR_SUCCESS;
}

OXR_API(CreateVulkanDeviceKHR, (XrInstance instance, const XrVulkanDeviceCreateInfoKHR *createInfo,
                                VkDevice *vulkanDevice, VkResult *vulkanResult))
{
    struct oxr_instance *inst = oxr_get_instance(instance);
    if (inst == NULL) {
        return XR_ERROR_HANDLE_INVALID;
    }
    if (createInfo == NULL || createInfo->type != XR_TYPE_VULKAN_DEVICE_CREATE_INFO_KHR ||
        createInfo->createFlags != 0 || createInfo->pfnGetInstanceProcAddr == NULL ||
        createInfo->vulkanCreateInfo == NULL ||
        createInfo->vulkanPhysicalDevice == VK_NULL_HANDLE || vulkanDevice == NULL ||
        vulkanResult == NULL) {
        return XR_ERROR_VALIDATION_FAILURE;
    }
    if (createInfo->systemId != OXR_SYSTEM_ID) {
        return XR_ERROR_SYSTEM_INVALID;
    }
    pthread_mutex_lock(&inst->lock);
    bool queried = inst->vulkan_requirements_queried;
    VkInstance vk_instance = inst->app_vk_instance;
    VkPhysicalDevice chosen = inst->app_vk_physical;
    pthread_mutex_unlock(&inst->lock);
    if (!queried) {
        return XR_ERROR_GRAPHICS_REQUIREMENTS_CALL_MISSING;
    }
    if (chosen != VK_NULL_HANDLE && chosen != createInfo->vulkanPhysicalDevice) {
        U_LOG_E(OXR_LOG, "xrCreateVulkanDeviceKHR on another physical device than "
                         "xrGetVulkanGraphicsDevice2KHR returned");
        return XR_ERROR_VALIDATION_FAILURE;
    }
    PFN_vkCreateDevice create =
        (PFN_vkCreateDevice)createInfo->pfnGetInstanceProcAddr(vk_instance, "vkCreateDevice");
    if (create == NULL) {
        return XR_ERROR_RUNTIME_FAILURE;
    }
    *vulkanResult = create(createInfo->vulkanPhysicalDevice, createInfo->vulkanCreateInfo,
                           createInfo->vulkanAllocator, vulkanDevice);
    if (*vulkanResult != VK_SUCCESS) {
        U_LOG_E(OXR_LOG, "vkCreateDevice failed (%d)", (int)*vulkanResult);
        return XR_ERROR_RUNTIME_FAILURE;
    }
    return XR_SUCCESS;
}
