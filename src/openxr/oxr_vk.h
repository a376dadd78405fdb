/* SPDX-License-Identifier: Apache-2.0 */
/*
 * oxr_vk — the session's hold on the application's Vulkan device (XR_KHR_vulkan_enable /
 * enable2 graphics binding): the device functions the runtime calls, loaded through the
 * application's vkGetInstanceProcAddr, a command pool on the application's queue, and the
 * swapchain images the runtime creates on that device.
 *
 * Threads: the application's threads, under the specification's rule that the application
 * synchronises its use of the queue with the xr calls that may use it (xrCreateSwapchain,
 * xrEndFrame).
 */
#ifndef OXR_VK_H
#define OXR_VK_H

#include <vulkan/vulkan.h>

#include <stdbool.h>
#include <stdint.h>

struct oxr_vk_fns {
    PFN_vkGetDeviceProcAddr GetDeviceProcAddr;
    PFN_vkGetPhysicalDeviceMemoryProperties GetPhysicalDeviceMemoryProperties;
    PFN_vkGetPhysicalDeviceFormatProperties GetPhysicalDeviceFormatProperties;
    PFN_vkGetPhysicalDeviceImageFormatProperties GetPhysicalDeviceImageFormatProperties;
    PFN_vkGetPhysicalDeviceQueueFamilyProperties GetPhysicalDeviceQueueFamilyProperties;
    PFN_vkGetDeviceQueue GetDeviceQueue;
    PFN_vkCreateImage CreateImage;
    PFN_vkDestroyImage DestroyImage;
    PFN_vkGetImageMemoryRequirements GetImageMemoryRequirements;
    PFN_vkAllocateMemory AllocateMemory;
    PFN_vkFreeMemory FreeMemory;
    PFN_vkBindImageMemory BindImageMemory;
    PFN_vkCreateBuffer CreateBuffer;
    PFN_vkDestroyBuffer DestroyBuffer;
    PFN_vkGetBufferMemoryRequirements GetBufferMemoryRequirements;
    PFN_vkBindBufferMemory BindBufferMemory;
    PFN_vkMapMemory MapMemory;
    PFN_vkUnmapMemory UnmapMemory;
    PFN_vkInvalidateMappedMemoryRanges InvalidateMappedMemoryRanges;
    PFN_vkCreateCommandPool CreateCommandPool;
    PFN_vkDestroyCommandPool DestroyCommandPool;
    PFN_vkAllocateCommandBuffers AllocateCommandBuffers;
    PFN_vkFreeCommandBuffers FreeCommandBuffers;
    PFN_vkBeginCommandBuffer BeginCommandBuffer;
    PFN_vkEndCommandBuffer EndCommandBuffer;
    PFN_vkResetCommandBuffer ResetCommandBuffer;
    PFN_vkCmdPipelineBarrier CmdPipelineBarrier;
    PFN_vkCmdCopyImageToBuffer CmdCopyImageToBuffer;
    PFN_vkCmdBlitImage CmdBlitImage;
    PFN_vkQueueSubmit QueueSubmit;
    PFN_vkCreateFence CreateFence;
    PFN_vkDestroyFence DestroyFence;
    PFN_vkWaitForFences WaitForFences;
    PFN_vkResetFences ResetFences;
    PFN_vkDeviceWaitIdle DeviceWaitIdle;
};

struct oxr_vk {
    VkInstance instance;
    VkPhysicalDevice physical;
    VkDevice device;
    uint32_t queue_family;
    uint32_t queue_index;
    VkQueue queue;
    struct oxr_vk_fns f;
    VkPhysicalDeviceMemoryProperties memory;
    VkCommandPool pool; /* resettable buffers, on queue_family */
    bool bound;
};

/* Load the functions through @p gipa (the application's, or the Vulkan loader's) for the
 * binding's instance and device, get the queue, create the command pool.
 * false with a reason logged: XR_ERROR_GRAPHICS_DEVICE_INVALID for the caller. */
bool oxr_vk_bind(struct oxr_vk *vk, PFN_vkGetInstanceProcAddr gipa, VkInstance instance,
                 VkPhysicalDevice physical, VkDevice device, uint32_t queue_family,
                 uint32_t queue_index);
/* Destroy what oxr_vk_bind created (after waiting for the queue to finish with it). */
void oxr_vk_unbind(struct oxr_vk *vk);

/* A memory type among @p type_bits with @p props; false when none. */
bool oxr_vk_memory_type(const struct oxr_vk *vk, uint32_t type_bits, VkMemoryPropertyFlags props,
                        uint32_t *out_index);
/* Whether @p format supports @p features with optimal tiling. */
bool oxr_vk_format_has(const struct oxr_vk *vk, VkFormat format, VkFormatFeatureFlags features);

/* An image with its own device-local memory. VK_SUCCESS or the failing call's result. */
VkResult oxr_vk_image_create(struct oxr_vk *vk, const VkImageCreateInfo *info, VkImage *out_image,
                             VkDeviceMemory *out_memory);
void oxr_vk_image_destroy(struct oxr_vk *vk, VkImage *image, VkDeviceMemory *memory);

/* Move @p count images (all layers and levels, @p aspect) from UNDEFINED to @p layout on the
 * queue and wait for it: swapchain images are handed out in the layout the specification
 * names. */
VkResult oxr_vk_initial_layout(struct oxr_vk *vk, const VkImage *images, uint32_t count,
                               VkImageAspectFlags aspect, VkImageLayout layout);

/* A resettable command buffer and a fence on the session's pool (for the compositor). */
VkResult oxr_vk_command_buffer(struct oxr_vk *vk, VkCommandBuffer *out_cmd, VkFence *out_fence);

/* The loader's vkGetInstanceProcAddr: for XR_KHR_vulkan_enable, where the application made
 * its instance itself. */
PFN_vkGetInstanceProcAddr oxr_vk_loader_gipa(void);

#endif
