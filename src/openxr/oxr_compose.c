/* SPDX-License-Identifier: Apache-2.0 */
/*
 * oxr_compose — projection views into one side-by-side buffer (see oxr_compose.h).
 *
 * Threads: the xrEndFrame thread.
 */
#include "oxr_compose.h"

#include "u_time.h"

#include <string.h>

/* A copy of two eyes takes milliseconds; seconds mean a hung or lost device. */
#define FENCE_TIMEOUT_NS 5000000000ull

static bool is_rgba8(VkFormat f)
{
    return f == VK_FORMAT_R8G8B8A8_SRGB || f == VK_FORMAT_R8G8B8A8_UNORM;
}

static bool is_srgb(VkFormat f)
{
    return f == VK_FORMAT_R8G8B8A8_SRGB || f == VK_FORMAT_B8G8R8A8_SRGB;
}

VkResult oxr_compose_init(struct oxr_compose *c, struct oxr_vk *vk, uint32_t eye_width,
                          uint32_t eye_height)
{
    memset(c, 0, sizeof *c);
    c->eye_width = eye_width;
    c->eye_height = eye_height;
    c->size = (VkDeviceSize)eye_width * 2 * eye_height * 4;
    VkBufferCreateInfo bi = {
        .sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
        .size = c->size,
        .usage = VK_BUFFER_USAGE_TRANSFER_DST_BIT,
        .sharingMode = VK_SHARING_MODE_EXCLUSIVE,
    };
    VkResult r = vk->f.CreateBuffer(vk->device, &bi, NULL, &c->buffer);
    if (r != VK_SUCCESS) {
        return r;
    }
    VkMemoryRequirements req;
    vk->f.GetBufferMemoryRequirements(vk->device, c->buffer, &req);
    uint32_t type = 0;
    /* Cached memory reads back fast; coherent saves the invalidate. Take the best there is. */
    const VkMemoryPropertyFlags want[] = {
        VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_CACHED_BIT |
            VK_MEMORY_PROPERTY_HOST_COHERENT_BIT,
        VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_CACHED_BIT,
        VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT,
    };
    bool found = false;
    for (size_t i = 0; i < sizeof want / sizeof want[0] && !found; i++) {
        found = oxr_vk_memory_type(vk, req.memoryTypeBits, want[i], &type);
    }
    if (!found) {
        oxr_compose_fini(c, vk);
        return VK_ERROR_OUT_OF_DEVICE_MEMORY;
    }
    c->coherent =
        (vk->memory.memoryTypes[type].propertyFlags & VK_MEMORY_PROPERTY_HOST_COHERENT_BIT) != 0;
    VkMemoryAllocateInfo ai = {
        .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
        .allocationSize = req.size,
        .memoryTypeIndex = type,
    };
    r = vk->f.AllocateMemory(vk->device, &ai, NULL, &c->memory);
    if (r == VK_SUCCESS) {
        r = vk->f.BindBufferMemory(vk->device, c->buffer, c->memory, 0);
    }
    if (r == VK_SUCCESS) {
        r = vk->f.MapMemory(vk->device, c->memory, 0, VK_WHOLE_SIZE, 0, &c->mapped);
    }
    if (r == VK_SUCCESS) {
        r = oxr_vk_command_buffer(vk, &c->cmd, &c->fence);
    }
    if (r != VK_SUCCESS) {
        oxr_compose_fini(c, vk);
        return r;
    }
    c->ready = true;
    return VK_SUCCESS;
}

void oxr_compose_fini(struct oxr_compose *c, struct oxr_vk *vk)
{
    if (c->fence != VK_NULL_HANDLE) {
        vk->f.DestroyFence(vk->device, c->fence, NULL);
    }
    if (c->cmd != VK_NULL_HANDLE) {
        vk->f.FreeCommandBuffers(vk->device, vk->pool, 1, &c->cmd);
    }
    for (int i = 0; i < 2; i++) {
        oxr_vk_image_destroy(vk, &c->scratch[i], &c->scratch_memory[i]);
    }
    if (c->mapped != NULL) {
        vk->f.UnmapMemory(vk->device, c->memory);
    }
    if (c->buffer != VK_NULL_HANDLE) {
        vk->f.DestroyBuffer(vk->device, c->buffer, NULL);
    }
    if (c->memory != VK_NULL_HANDLE) {
        vk->f.FreeMemory(vk->device, c->memory, NULL);
    }
    memset(c, 0, sizeof *c);
}

/* Scratch images of the stream's eye size in @p format (recreated when the format changes). */
static VkResult ensure_scratch(struct oxr_compose *c, struct oxr_vk *vk, VkFormat format)
{
    if (c->scratch_format == format) {
        return VK_SUCCESS;
    }
    for (int i = 0; i < 2; i++) {
        oxr_vk_image_destroy(vk, &c->scratch[i], &c->scratch_memory[i]);
    }
    c->scratch_format = VK_FORMAT_UNDEFINED;
    VkImageCreateInfo ii = {
        .sType = VK_STRUCTURE_TYPE_IMAGE_CREATE_INFO,
        .imageType = VK_IMAGE_TYPE_2D,
        .format = format,
        .extent = {c->eye_width, c->eye_height, 1},
        .mipLevels = 1,
        .arrayLayers = 1,
        .samples = VK_SAMPLE_COUNT_1_BIT,
        .tiling = VK_IMAGE_TILING_OPTIMAL,
        .usage = VK_IMAGE_USAGE_TRANSFER_DST_BIT | VK_IMAGE_USAGE_TRANSFER_SRC_BIT,
        .sharingMode = VK_SHARING_MODE_EXCLUSIVE,
        .initialLayout = VK_IMAGE_LAYOUT_UNDEFINED,
    };
    for (int i = 0; i < 2; i++) {
        VkResult r = oxr_vk_image_create(vk, &ii, &c->scratch[i], &c->scratch_memory[i]);
        if (r != VK_SUCCESS) {
            return r;
        }
    }
    c->scratch_format = format;
    return VK_SUCCESS;
}

static void image_barrier(struct oxr_vk *vk, VkCommandBuffer cmd, VkImage image, uint32_t layer,
                          VkImageLayout from, VkImageLayout to, VkAccessFlags src_access,
                          VkAccessFlags dst_access, VkPipelineStageFlags src_stage,
                          VkPipelineStageFlags dst_stage)
{
    VkImageMemoryBarrier b = {
        .sType = VK_STRUCTURE_TYPE_IMAGE_MEMORY_BARRIER,
        .srcAccessMask = src_access,
        .dstAccessMask = dst_access,
        .oldLayout = from,
        .newLayout = to,
        .srcQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
        .dstQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
        .image = image,
        .subresourceRange = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, layer, 1},
    };
    vk->f.CmdPipelineBarrier(cmd, src_stage, dst_stage, 0, 0, NULL, 0, NULL, 1, &b);
}

/* Whether view @p i uses the same image layer as an earlier view (transition it once). */
static bool same_as_earlier(const struct oxr_compose_view views[2], int i)
{
    return i == 1 && views[1].image == views[0].image &&
           views[1].array_index == views[0].array_index;
}

static void record(struct oxr_compose *c, struct oxr_vk *vk, const struct oxr_compose_view views[2],
                   const bool blit[2])
{
    VkCommandBuffer cmd = c->cmd;
    /* The application's rendering into the images happened earlier on this queue: make its
     * writes visible to the transfer and move the images to TRANSFER_SRC. */
    for (int i = 0; i < 2; i++) {
        if (!same_as_earlier(views, i)) {
            image_barrier(vk, cmd, views[i].image, views[i].array_index, views[i].layout,
                          VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL,
                          VK_ACCESS_COLOR_ATTACHMENT_WRITE_BIT | VK_ACCESS_MEMORY_WRITE_BIT |
                              VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT,
                          VK_ACCESS_TRANSFER_READ_BIT, VK_PIPELINE_STAGE_ALL_COMMANDS_BIT,
                          VK_PIPELINE_STAGE_TRANSFER_BIT);
        }
        if (blit[i]) {
            image_barrier(vk, cmd, c->scratch[i], 0, VK_IMAGE_LAYOUT_UNDEFINED,
                          VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, 0, VK_ACCESS_TRANSFER_WRITE_BIT,
                          VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT);
        }
    }
    for (int i = 0; i < 2; i++) {
        VkImage src = views[i].image;
        uint32_t layer = views[i].array_index;
        VkOffset3D offset = {views[i].offset.x, views[i].offset.y, 0};
        if (blit[i]) {
            VkImageBlit region = {
                .srcSubresource = {VK_IMAGE_ASPECT_COLOR_BIT, 0, layer, 1},
                .srcOffsets = {offset,
                               {views[i].offset.x + (int32_t)views[i].extent.width,
                                views[i].offset.y + (int32_t)views[i].extent.height, 1}},
                .dstSubresource = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, 1},
                .dstOffsets = {{0, 0, 0}, {(int32_t)c->eye_width, (int32_t)c->eye_height, 1}},
            };
            vk->f.CmdBlitImage(cmd, src, VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL, c->scratch[i],
                               VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, 1, &region, VK_FILTER_LINEAR);
            image_barrier(vk, cmd, c->scratch[i], 0, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL,
                          VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL, VK_ACCESS_TRANSFER_WRITE_BIT,
                          VK_ACCESS_TRANSFER_READ_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT,
                          VK_PIPELINE_STAGE_TRANSFER_BIT);
            src = c->scratch[i];
            layer = 0;
            offset = (VkOffset3D){0, 0, 0};
        }
        /* Both halves share the buffer's rows: the row length is the whole image's width. */
        VkBufferImageCopy region = {
            .bufferOffset = (VkDeviceSize)i * c->eye_width * 4,
            .bufferRowLength = c->eye_width * 2,
            .bufferImageHeight = c->eye_height,
            .imageSubresource = {VK_IMAGE_ASPECT_COLOR_BIT, 0, layer, 1},
            .imageOffset = offset,
            .imageExtent = {c->eye_width, c->eye_height, 1},
        };
        vk->f.CmdCopyImageToBuffer(cmd, src, VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL, c->buffer, 1,
                                   &region);
    }
    /* Hand the images back in the layout the application expects. */
    for (int i = 0; i < 2; i++) {
        if (!same_as_earlier(views, i)) {
            image_barrier(vk, cmd, views[i].image, views[i].array_index,
                          VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL, views[i].layout, 0,
                          VK_ACCESS_MEMORY_READ_BIT | VK_ACCESS_MEMORY_WRITE_BIT,
                          VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_ALL_COMMANDS_BIT);
        }
    }
    VkBufferMemoryBarrier hb = {
        .sType = VK_STRUCTURE_TYPE_BUFFER_MEMORY_BARRIER,
        .srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT,
        .dstAccessMask = VK_ACCESS_HOST_READ_BIT,
        .srcQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
        .dstQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
        .buffer = c->buffer,
        .offset = 0,
        .size = VK_WHOLE_SIZE,
    };
    vk->f.CmdPipelineBarrier(cmd, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_HOST_BIT, 0, 0,
                             NULL, 1, &hb, 0, NULL);
}

VkResult oxr_compose_views(struct oxr_compose *c, struct oxr_vk *vk,
                           const struct oxr_compose_view views[2], const uint8_t **out_rgba,
                           size_t *out_stride, uint64_t *out_wait_us)
{
    bool blit[2];
    VkFormat scratch = VK_FORMAT_UNDEFINED;
    *out_wait_us = 0;
    for (int i = 0; i < 2; i++) {
        blit[i] = !is_rgba8(views[i].format) || views[i].extent.width != c->eye_width ||
                  views[i].extent.height != c->eye_height;
        if (blit[i]) {
            /* Same sRGB-ness: the blit then moves the stored bytes, not re-encoded ones. */
            scratch = is_srgb(views[i].format) ? VK_FORMAT_R8G8B8A8_SRGB : VK_FORMAT_R8G8B8A8_UNORM;
        }
    }
    VkResult r = VK_SUCCESS;
    if (scratch != VK_FORMAT_UNDEFINED) {
        r = ensure_scratch(c, vk, scratch);
        if (r != VK_SUCCESS) {
            return r;
        }
    }
    r = vk->f.ResetCommandBuffer(c->cmd, 0);
    VkCommandBufferBeginInfo bi = {
        .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
        .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT,
    };
    if (r == VK_SUCCESS) {
        r = vk->f.BeginCommandBuffer(c->cmd, &bi);
    }
    if (r != VK_SUCCESS) {
        return r;
    }
    record(c, vk, views, blit);
    r = vk->f.EndCommandBuffer(c->cmd);
    if (r != VK_SUCCESS) {
        return r;
    }
    VkSubmitInfo si = {
        .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
        .commandBufferCount = 1,
        .pCommandBuffers = &c->cmd,
    };
    uint64_t t0 = u_time_us();
    r = vk->f.QueueSubmit(vk->queue, 1, &si, c->fence);
    if (r == VK_SUCCESS) {
        r = vk->f.WaitForFences(vk->device, 1, &c->fence, VK_TRUE, FENCE_TIMEOUT_NS);
        if (r == VK_TIMEOUT) {
            r = VK_ERROR_DEVICE_LOST;
        }
    }
    *out_wait_us = u_time_us() - t0;
    if (r == VK_SUCCESS) {
        r = vk->f.ResetFences(vk->device, 1, &c->fence);
    }
    if (r == VK_SUCCESS && !c->coherent) {
        VkMappedMemoryRange range = {
            .sType = VK_STRUCTURE_TYPE_MAPPED_MEMORY_RANGE,
            .memory = c->memory,
            .offset = 0,
            .size = VK_WHOLE_SIZE,
        };
        r = vk->f.InvalidateMappedMemoryRanges(vk->device, 1, &range);
    }
    if (r == VK_SUCCESS) {
        *out_rgba = c->mapped;
        *out_stride = (size_t)c->eye_width * 2 * 4;
    }
    return r;
}
