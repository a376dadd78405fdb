/* SPDX-License-Identifier: Apache-2.0 */
/*
 * draw — the sample's scene with nothing but transfer commands (no shaders to build): each
 * eye's layer of the swapchain image is cleared to a slowly changing colour, and an orange
 * square is copied to where a point 2 m in front of the LOCAL origin falls in that eye, so it
 * stays put in the world while the head moves.
 *
 * Threads: the sample's main thread.
 */
#ifndef SAMPLE_DRAW_H
#define SAMPLE_DRAW_H

#include <vulkan/vulkan.h>

#include <stdbool.h>
#include <stdint.h>

#define DRAW_SQUARE 64 /* pixels */

struct draw {
    VkDevice device;
    VkQueue queue;
    VkCommandPool pool;
    VkCommandBuffer cmd;
    VkFence fence;
    VkBuffer square;
    VkDeviceMemory square_memory;
};

bool draw_init(struct draw *d, VkPhysicalDevice physical, VkDevice device, uint32_t family);
void draw_fini(struct draw *d);

/* Draw into layers 0 (left) and 1 (right) of @p image (width × height, in
 * COLOR_ATTACHMENT_OPTIMAL, left there). A square whose @p square_x is negative is not drawn. */
bool draw_frame(struct draw *d, VkImage image, uint32_t width, uint32_t height,
                const int32_t square_x[2], const int32_t square_y[2], float t);

#endif
