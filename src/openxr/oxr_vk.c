/* SPDX-License-Identifier: Apache-2.0 */
/*
 * oxr_vk — the application's Vulkan device as the runtime uses it (see oxr_vk.h).
 *
 * Threads: application threads; queue use follows the specification's synchronisation rule.
 */
#include "oxr_vk.h"

#include "u_log.h"

#include <string.h>

#define LOG_MOD "openxr"
/* A one-shot submit (initial layouts) finishes in microseconds; seconds mean a lost device. */
#define FENCE_TIMEOUT_NS 5000000000ull

PFN_vkGetInstanceProcAddr oxr_vk_loader_gipa(void)
{
    return vkGetInstanceProcAddr;
}

bool oxr_vk_bind(struct oxr_vk *vk, PFN_vkGetInstanceProcAddr gipa, VkInstance instance,
                 VkPhysicalDevice physical, VkDevice device, uint32_t queue_family,
                 uint32_t queue_index)
{
    memset(vk, 0, sizeof *vk);
    vk->instance = instance;
    vk->physical = physical;
    vk->device = device;
    vk->queue_family = queue_family;
    vk->queue_index = queue_index;
    struct oxr_vk_fns *f = &vk->f;

#define INST(name)                                                                                 \
    do {                                                                                           \
        f->name = (PFN_vk##name)gipa(instance, "vk" #name);                                        \
        if (f->name == NULL) {                                                                     \
            U_LOG_E(LOG_MOD, "the Vulkan instance has no vk" #name);                               \
            return false;                                                                          \
        }                                                                                          \
    } while (0)
#define DEV(name)                                                                                  \
    do {                                                                                           \
        f->name = (PFN_vk##name)f->GetDeviceProcAddr(device, "vk" #name);                          \
        if (f->name == NULL) {                                                                     \
            U_LOG_E(LOG_MOD, "the Vulkan device has no vk" #name);                                 \
            return false;                                                                          \
        }                                                                                          \
    } while (0)

    INST(GetDeviceProcAddr);
    INST(GetPhysicalDeviceMemoryProperties);
    INST(GetPhysicalDeviceFormatProperties);
    INST(GetPhysicalDeviceImageFormatProperties);
    INST(GetPhysicalDeviceQueueFamilyProperties);
    DEV(GetDeviceQueue);
    DEV(CreateImage);
    DEV(DestroyImage);
    DEV(GetImageMemoryRequirements);
    DEV(AllocateMemory);
    DEV(FreeMemory);
    DEV(BindImageMemory);
    DEV(CreateBuffer);
    DEV(DestroyBuffer);
    DEV(GetBufferMemoryRequirements);
    DEV(BindBufferMemory);
    DEV(MapMemory);
    DEV(UnmapMemory);
    DEV(InvalidateMappedMemoryRanges);
    DEV(CreateCommandPool);
    DEV(DestroyCommandPool);
    DEV(AllocateCommandBuffers);
    DEV(FreeCommandBuffers);
    DEV(BeginCommandBuffer);
    DEV(EndCommandBuffer);
    DEV(ResetCommandBuffer);
    DEV(CmdPipelineBarrier);
    DEV(CmdCopyImageToBuffer);
    DEV(CmdBlitImage);
    DEV(QueueSubmit);
    DEV(CreateFence);
    DEV(DestroyFence);
    DEV(WaitForFences);
    DEV(ResetFences);
    DEV(DeviceWaitIdle);
#undef INST
#undef DEV

    uint32_t families = 0;
    f->GetPhysicalDeviceQueueFamilyProperties(physical, &families, NULL);
    if (queue_family >= families) {
        U_LOG_E(LOG_MOD, "queue family %u does not exist (the device has %u)", queue_family,
                families);
        return false;
    }
    f->GetPhysicalDeviceMemoryProperties(physical, &vk->memory);
    f->GetDeviceQueue(device, queue_family, queue_index, &vk->queue);
    if (vk->queue == VK_NULL_HANDLE) {
        U_LOG_E(LOG_MOD, "queue %u of family %u does not exist", queue_index, queue_family);
        return false;
    }
    VkCommandPoolCreateInfo pi = {
        .sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
        .flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT,
        .queueFamilyIndex = queue_family,
    };
    VkResult r = f->CreateCommandPool(device, &pi, NULL, &vk->pool);
    if (r != VK_SUCCESS) {
        U_LOG_E(LOG_MOD, "vkCreateCommandPool failed (%d)", (int)r);
        return false;
    }
    vk->bound = true;
    return true;
}

void oxr_vk_unbind(struct oxr_vk *vk)
{
    if (!vk->bound) {
        return;
    }
    if (vk->pool != VK_NULL_HANDLE) {
        vk->f.DestroyCommandPool(vk->device, vk->pool, NULL);
        vk->pool = VK_NULL_HANDLE;
    }
    vk->bound = false;
}

bool oxr_vk_memory_type(const struct oxr_vk *vk, uint32_t type_bits, VkMemoryPropertyFlags props,
                        uint32_t *out_index)
{
    for (uint32_t i = 0; i < vk->memory.memoryTypeCount; i++) {
        if ((type_bits & (1u << i)) != 0 &&
            (vk->memory.memoryTypes[i].propertyFlags & props) == props) {
            *out_index = i;
            return true;
        }
    }
    return false;
}

bool oxr_vk_format_has(const struct oxr_vk *vk, VkFormat format, VkFormatFeatureFlags features)
{
    VkFormatProperties p;
    memset(&p, 0, sizeof p);
    vk->f.GetPhysicalDeviceFormatProperties(vk->physical, format, &p);
    return (p.optimalTilingFeatures & features) == features;
}

VkResult oxr_vk_image_create(struct oxr_vk *vk, const VkImageCreateInfo *info, VkImage *out_image,
                             VkDeviceMemory *out_memory)
{
    VkImage image = VK_NULL_HANDLE;
    VkDeviceMemory memory = VK_NULL_HANDLE;
    VkResult r = vk->f.CreateImage(vk->device, info, NULL, &image);
    if (r != VK_SUCCESS) {
        return r;
    }
    VkMemoryRequirements req;
    vk->f.GetImageMemoryRequirements(vk->device, image, &req);
    uint32_t type = 0;
    if (!oxr_vk_memory_type(vk, req.memoryTypeBits, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT, &type) &&
        !oxr_vk_memory_type(vk, req.memoryTypeBits, 0, &type)) {
        vk->f.DestroyImage(vk->device, image, NULL);
        return VK_ERROR_OUT_OF_DEVICE_MEMORY;
    }
    VkMemoryAllocateInfo ai = {
        .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
        .allocationSize = req.size,
        .memoryTypeIndex = type,
    };
    r = vk->f.AllocateMemory(vk->device, &ai, NULL, &memory);
    if (r == VK_SUCCESS) {
        r = vk->f.BindImageMemory(vk->device, image, memory, 0);
    }
    if (r != VK_SUCCESS) {
        if (memory != VK_NULL_HANDLE) {
            vk->f.FreeMemory(vk->device, memory, NULL);
        }
        vk->f.DestroyImage(vk->device, image, NULL);
        return r;
    }
    *out_image = image;
    *out_memory = memory;
    return VK_SUCCESS;
}

void oxr_vk_image_destroy(struct oxr_vk *vk, VkImage *image, VkDeviceMemory *memory)
{
    if (*image != VK_NULL_HANDLE) {
        vk->f.DestroyImage(vk->device, *image, NULL);
        *image = VK_NULL_HANDLE;
    }
    if (*memory != VK_NULL_HANDLE) {
        vk->f.FreeMemory(vk->device, *memory, NULL);
        *memory = VK_NULL_HANDLE;
    }
}

VkResult oxr_vk_command_buffer(struct oxr_vk *vk, VkCommandBuffer *out_cmd, VkFence *out_fence)
{
    VkCommandBufferAllocateInfo ai = {
        .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
        .commandPool = vk->pool,
        .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
        .commandBufferCount = 1,
    };
    VkResult r = vk->f.AllocateCommandBuffers(vk->device, &ai, out_cmd);
    if (r != VK_SUCCESS) {
        return r;
    }
    VkFenceCreateInfo fi = {.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
    r = vk->f.CreateFence(vk->device, &fi, NULL, out_fence);
    if (r != VK_SUCCESS) {
        vk->f.FreeCommandBuffers(vk->device, vk->pool, 1, out_cmd);
        *out_cmd = VK_NULL_HANDLE;
    }
    return r;
}

VkResult oxr_vk_initial_layout(struct oxr_vk *vk, const VkImage *images, uint32_t count,
                               VkImageAspectFlags aspect, VkImageLayout layout)
{
    VkCommandBuffer cmd = VK_NULL_HANDLE;
    VkFence fence = VK_NULL_HANDLE;
    VkResult r = oxr_vk_command_buffer(vk, &cmd, &fence);
    if (r != VK_SUCCESS) {
        return r;
    }
    VkCommandBufferBeginInfo bi = {
        .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
        .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT,
    };
    r = vk->f.BeginCommandBuffer(cmd, &bi);
    if (r == VK_SUCCESS) {
        for (uint32_t i = 0; i < count; i++) {
            VkImageMemoryBarrier b = {
                .sType = VK_STRUCTURE_TYPE_IMAGE_MEMORY_BARRIER,
                .srcAccessMask = 0,
                .dstAccessMask = VK_ACCESS_MEMORY_READ_BIT | VK_ACCESS_MEMORY_WRITE_BIT,
                .oldLayout = VK_IMAGE_LAYOUT_UNDEFINED,
                .newLayout = layout,
                .srcQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
                .dstQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
                .image = images[i],
                .subresourceRange = {aspect, 0, VK_REMAINING_MIP_LEVELS, 0,
                                     VK_REMAINING_ARRAY_LAYERS},
            };
            vk->f.CmdPipelineBarrier(cmd, VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT,
                                     VK_PIPELINE_STAGE_ALL_COMMANDS_BIT, 0, 0, NULL, 0, NULL, 1,
                                     &b);
        }
        r = vk->f.EndCommandBuffer(cmd);
    }
    if (r == VK_SUCCESS) {
        VkSubmitInfo si = {
            .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
            .commandBufferCount = 1,
            .pCommandBuffers = &cmd,
        };
        r = vk->f.QueueSubmit(vk->queue, 1, &si, fence);
    }
    if (r == VK_SUCCESS) {
        r = vk->f.WaitForFences(vk->device, 1, &fence, VK_TRUE, FENCE_TIMEOUT_NS);
    }
    vk->f.DestroyFence(vk->device, fence, NULL);
    vk->f.FreeCommandBuffers(vk->device, vk->pool, 1, &cmd);
    return r;
}
