/* SPDX-License-Identifier: Apache-2.0 */
/*
 * draw — clear and copy (see draw.h).
 *
 * Threads: the main thread.
 */
#include "draw.h"

#include <math.h>
#include <string.h>

bool draw_init(struct draw *d, VkPhysicalDevice physical, VkDevice device, uint32_t family)
{
    memset(d, 0, sizeof *d);
    d->device = device;
    vkGetDeviceQueue(device, family, 0, &d->queue);
    VkCommandPoolCreateInfo pi = {.sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
                                  .flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT,
                                  .queueFamilyIndex = family};
    VkCommandBufferAllocateInfo ai = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
                                      .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
                                      .commandBufferCount = 1};
    VkFenceCreateInfo fi = {.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
    VkBufferCreateInfo bi = {.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
                             .size = DRAW_SQUARE * DRAW_SQUARE * 4,
                             .usage = VK_BUFFER_USAGE_TRANSFER_SRC_BIT};
    if (vkCreateCommandPool(device, &pi, NULL, &d->pool) != VK_SUCCESS) {
        return false;
    }
    ai.commandPool = d->pool;
    if (vkAllocateCommandBuffers(device, &ai, &d->cmd) != VK_SUCCESS ||
        vkCreateFence(device, &fi, NULL, &d->fence) != VK_SUCCESS ||
        vkCreateBuffer(device, &bi, NULL, &d->square) != VK_SUCCESS) {
        return false;
    }
    VkMemoryRequirements req;
    VkPhysicalDeviceMemoryProperties mp;
    vkGetBufferMemoryRequirements(device, d->square, &req);
    vkGetPhysicalDeviceMemoryProperties(physical, &mp);
    VkMemoryPropertyFlags want =
        VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
    uint32_t type = UINT32_MAX;
    for (uint32_t i = 0; i < mp.memoryTypeCount && type == UINT32_MAX; i++) {
        if ((req.memoryTypeBits & (1u << i)) && (mp.memoryTypes[i].propertyFlags & want) == want) {
            type = i;
        }
    }
    VkMemoryAllocateInfo mi = {.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
                               .allocationSize = req.size,
                               .memoryTypeIndex = type};
    void *map = NULL;
    if (type == UINT32_MAX ||
        vkAllocateMemory(device, &mi, NULL, &d->square_memory) != VK_SUCCESS ||
        vkBindBufferMemory(device, d->square, d->square_memory, 0) != VK_SUCCESS ||
        vkMapMemory(device, d->square_memory, 0, VK_WHOLE_SIZE, 0, &map) != VK_SUCCESS) {
        return false;
    }
    uint8_t *px = map;
    for (int i = 0; i < DRAW_SQUARE * DRAW_SQUARE; i++) {
        px[4 * i + 0] = 255; /* orange, sRGB-encoded bytes */
        px[4 * i + 1] = 140;
        px[4 * i + 2] = 0;
        px[4 * i + 3] = 255;
    }
    vkUnmapMemory(device, d->square_memory);
    return true;
}

void draw_fini(struct draw *d)
{
    if (d->device == VK_NULL_HANDLE) {
        return;
    }
    vkDestroyBuffer(d->device, d->square, NULL);
    vkFreeMemory(d->device, d->square_memory, NULL);
    vkDestroyFence(d->device, d->fence, NULL);
    vkDestroyCommandPool(d->device, d->pool, NULL);
    memset(d, 0, sizeof *d);
}

static void barrier(VkCommandBuffer cmd, VkImage image, VkImageLayout from, VkImageLayout to)
{
    VkImageMemoryBarrier b = {
        .sType = VK_STRUCTURE_TYPE_IMAGE_MEMORY_BARRIER,
        .srcAccessMask = VK_ACCESS_MEMORY_READ_BIT | VK_ACCESS_MEMORY_WRITE_BIT,
        .dstAccessMask = VK_ACCESS_MEMORY_READ_BIT | VK_ACCESS_MEMORY_WRITE_BIT,
        .oldLayout = from,
        .newLayout = to,
        .srcQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
        .dstQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
        .image = image,
        .subresourceRange = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, 2},
    };
    vkCmdPipelineBarrier(cmd, VK_PIPELINE_STAGE_ALL_COMMANDS_BIT,
                         VK_PIPELINE_STAGE_ALL_COMMANDS_BIT, 0, 0, NULL, 0, NULL, 1, &b);
}

bool draw_frame(struct draw *d, VkImage image, uint32_t width, uint32_t height,
                const int32_t square_x[2], const int32_t square_y[2], float t)
{
    VkCommandBufferBeginInfo bi = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
                                   .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT};
    if (vkResetCommandBuffer(d->cmd, 0) != VK_SUCCESS ||
        vkBeginCommandBuffer(d->cmd, &bi) != VK_SUCCESS) {
        return false;
    }
    barrier(d->cmd, image, VK_IMAGE_LAYOUT_COLOR_ATTACHMENT_OPTIMAL,
            VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL);
    /* A dark blue that breathes over a few seconds: the picture is alive even at rest. */
    VkClearColorValue sky = {{0.02f, 0.05f + 0.03f * sinf(t), 0.20f, 1.0f}};
    VkImageSubresourceRange all = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, 2};
    vkCmdClearColorImage(d->cmd, image, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, &sky, 1, &all);
    for (uint32_t eye = 0; eye < 2; eye++) {
        int32_t x = square_x[eye] - DRAW_SQUARE / 2, y = square_y[eye] - DRAW_SQUARE / 2;
        if (square_x[eye] < 0 || x < 0 || y < 0 || x + DRAW_SQUARE > (int32_t)width ||
            y + DRAW_SQUARE > (int32_t)height) {
            continue; /* not (entirely) in view */
        }
        VkBufferImageCopy region = {
            .imageSubresource = {VK_IMAGE_ASPECT_COLOR_BIT, 0, eye, 1},
            .imageOffset = {x, y, 0},
            .imageExtent = {DRAW_SQUARE, DRAW_SQUARE, 1},
        };
        vkCmdCopyBufferToImage(d->cmd, d->square, image, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, 1,
                               &region);
    }
    barrier(d->cmd, image, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL,
            VK_IMAGE_LAYOUT_COLOR_ATTACHMENT_OPTIMAL);
    if (vkEndCommandBuffer(d->cmd) != VK_SUCCESS) {
        return false;
    }
    VkSubmitInfo si = {.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
                       .commandBufferCount = 1,
                       .pCommandBuffers = &d->cmd};
    if (vkQueueSubmit(d->queue, 1, &si, d->fence) != VK_SUCCESS ||
        vkWaitForFences(d->device, 1, &d->fence, VK_TRUE, UINT64_MAX) != VK_SUCCESS) {
        return false;
    }
    return vkResetFences(d->device, 1, &d->fence) == VK_SUCCESS;
}
