/* SPDX-License-Identifier: Apache-2.0 */
/*
 * oxr_compose — turns the two views of a projection layer into the one side-by-side RGBA
 * image libopenrr_stream encodes: each view's swapchain image rectangle is copied
 * (vkCmdCopyImageToBuffer) into its half of a host-visible buffer, left eye on the left.
 * A view whose rectangle is not the stream's eye size, or whose format is BGRA, is first
 * blitted (scaled, swizzled) into a scratch image of the stream's size with the same sRGB-ness,
 * so the bytes sent are the bytes the application rendered.
 *
 * Threads: the thread calling xrEndFrame; it uses the application's queue (the specification
 * makes the application synchronise its queue use with xrEndFrame).
 */
#ifndef OXR_COMPOSE_H
#define OXR_COMPOSE_H

#include "oxr_vk.h"

#include <stddef.h>
#include <stdint.h>

/* One view's source. */
struct oxr_compose_view {
    VkImage image;
    VkFormat format;
    VkImageLayout layout; /* the layout the application left it in (and gets it back in) */
    uint32_t array_index;
    VkOffset2D offset;
    VkExtent2D extent;
};

struct oxr_compose {
    uint32_t eye_width;
    uint32_t eye_height;
    VkBuffer buffer;
    VkDeviceMemory memory;
    VkDeviceSize size;
    void *mapped;
    bool coherent;
    VkCommandBuffer cmd;
    VkFence fence;
    VkImage scratch[2];
    VkDeviceMemory scratch_memory[2];
    VkFormat scratch_format; /* VK_FORMAT_UNDEFINED until first needed */
    bool ready;
};

/* The buffer, command buffer and fence for @p eye_width × @p eye_height per eye.
 * VK_SUCCESS or the failing call's result. */
VkResult oxr_compose_init(struct oxr_compose *c, struct oxr_vk *vk, uint32_t eye_width,
                          uint32_t eye_height);
void oxr_compose_fini(struct oxr_compose *c, struct oxr_vk *vk);

/* Copy @p views[0] (left) and [1] (right) into the buffer and wait for the copy.
 * *out_rgba / *out_stride: the pixels (valid until the next call), top row first.
 * *out_wait_us: time spent waiting for the queue. */
VkResult oxr_compose_views(struct oxr_compose *c, struct oxr_vk *vk,
                           const struct oxr_compose_view views[2], const uint8_t **out_rgba,
                           size_t *out_stride, uint64_t *out_wait_us);

#endif
