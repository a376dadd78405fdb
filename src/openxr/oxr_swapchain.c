/* SPDX-License-Identifier: Apache-2.0 */
/*
 * oxr_swapchain — swapchains of Vulkan images the runtime creates on the application's device:
 * three images, handed out round robin; acquire → wait → release in the order the
 * specification sets (a wait or release out of order is XR_ERROR_CALL_ORDER_INVALID). The
 * compositor reads the last released image of each swapchain a projection view names. Images
 * are in COLOR_ATTACHMENT_OPTIMAL (colour) or DEPTH_STENCIL_ATTACHMENT_OPTIMAL (depth) whenever
 * the application holds them, as XR_KHR_vulkan_enable requires.
 *
 * Threads: application threads; a swapchain is externally synchronised by the application
 * (specification), so it has no lock.
 */
#include "oxr_api.h"

#include "u_log.h"

#include <stdlib.h>
#include <string.h>

/* In order of preference: hello_xr and most engines take the first they know. RGBA first
 * because the stream takes RGBA bytes as they are; BGRA costs a blit. */
static const VkFormat k_color_formats[] = {
    VK_FORMAT_R8G8B8A8_SRGB,
    VK_FORMAT_R8G8B8A8_UNORM,
    VK_FORMAT_B8G8R8A8_SRGB,
    VK_FORMAT_B8G8R8A8_UNORM,
};
static const VkFormat k_depth_formats[] = {
    VK_FORMAT_D32_SFLOAT,
    VK_FORMAT_D24_UNORM_S8_UINT,
    VK_FORMAT_D16_UNORM,
};
#define COLOR_COUNT (sizeof k_color_formats / sizeof k_color_formats[0])
#define DEPTH_COUNT (sizeof k_depth_formats / sizeof k_depth_formats[0])
#define MAX_FORMATS (COLOR_COUNT + DEPTH_COUNT)

static bool is_depth(VkFormat f)
{
    for (size_t i = 0; i < DEPTH_COUNT; i++) {
        if (k_depth_formats[i] == f) {
            return true;
        }
    }
    return false;
}

/* The formats this device can render to, colour first. */
static uint32_t supported_formats(const struct oxr_vk *vk, VkFormat out[MAX_FORMATS])
{
    uint32_t n = 0;
    for (size_t i = 0; i < COLOR_COUNT; i++) {
        if (oxr_vk_format_has(vk, k_color_formats[i],
                              VK_FORMAT_FEATURE_COLOR_ATTACHMENT_BIT |
                                  VK_FORMAT_FEATURE_BLIT_SRC_BIT)) {
            out[n++] = k_color_formats[i];
        }
    }
    for (size_t i = 0; i < DEPTH_COUNT; i++) {
        if (oxr_vk_format_has(vk, k_depth_formats[i],
                              VK_FORMAT_FEATURE_DEPTH_STENCIL_ATTACHMENT_BIT)) {
            out[n++] = k_depth_formats[i];
        }
    }
    return n;
}

OXR_API(EnumerateSwapchainFormats,
        (XrSession session, uint32_t capacity, uint32_t *count, int64_t *formats))
{
    struct oxr_session *s = oxr_get_session(session);
    if (s == NULL) {
        return XR_ERROR_HANDLE_INVALID;
    }
    if (count == NULL || (capacity > 0 && formats == NULL)) {
        return XR_ERROR_VALIDATION_FAILURE;
    }
    VkFormat list[MAX_FORMATS];
    uint32_t n = supported_formats(&s->vk, list);
    *count = n;
    if (capacity == 0) {
        return XR_SUCCESS;
    }
    if (capacity < n) {
        return XR_ERROR_SIZE_INSUFFICIENT;
    }
    for (uint32_t i = 0; i < n; i++) {
        formats[i] = (int64_t)list[i];
    }
    return XR_SUCCESS;
}

static void swapchain_destroy(struct oxr_handle *h)
{
    struct oxr_swapchain *sc = (struct oxr_swapchain *)(void *)h;
    for (uint32_t i = 0; i < sc->image_count; i++) {
        oxr_vk_image_destroy(&sc->sess->vk, &sc->images[i], &sc->memory[i]);
    }
    free(sc);
}

static XrResult check_create_info(struct oxr_session *s, const XrSwapchainCreateInfo *ci)
{
    const XrSwapchainUsageFlags known_usage =
        XR_SWAPCHAIN_USAGE_COLOR_ATTACHMENT_BIT | XR_SWAPCHAIN_USAGE_DEPTH_STENCIL_ATTACHMENT_BIT |
        XR_SWAPCHAIN_USAGE_UNORDERED_ACCESS_BIT | XR_SWAPCHAIN_USAGE_TRANSFER_SRC_BIT |
        XR_SWAPCHAIN_USAGE_TRANSFER_DST_BIT | XR_SWAPCHAIN_USAGE_SAMPLED_BIT |
        XR_SWAPCHAIN_USAGE_MUTABLE_FORMAT_BIT | XR_SWAPCHAIN_USAGE_INPUT_ATTACHMENT_BIT_MND;
    const XrSwapchainCreateFlags known_flags =
        XR_SWAPCHAIN_CREATE_PROTECTED_CONTENT_BIT | XR_SWAPCHAIN_CREATE_STATIC_IMAGE_BIT;
    if ((ci->createFlags & ~known_flags) != 0 || (ci->usageFlags & ~known_usage) != 0) {
        return XR_ERROR_VALIDATION_FAILURE;
    }
    if ((ci->createFlags & XR_SWAPCHAIN_CREATE_PROTECTED_CONTENT_BIT) != 0) {
        return XR_ERROR_FEATURE_UNSUPPORTED;
    }
    VkFormat list[MAX_FORMATS];
    uint32_t n = supported_formats(&s->vk, list);
    bool known = false;
    for (uint32_t i = 0; i < n && !known; i++) {
        known = (int64_t)list[i] == ci->format;
    }
    if (!known) {
        return XR_ERROR_SWAPCHAIN_FORMAT_UNSUPPORTED;
    }
    bool depth = is_depth((VkFormat)ci->format);
    if ((depth && (ci->usageFlags & XR_SWAPCHAIN_USAGE_COLOR_ATTACHMENT_BIT) != 0) ||
        (!depth && (ci->usageFlags & XR_SWAPCHAIN_USAGE_DEPTH_STENCIL_ATTACHMENT_BIT) != 0)) {
        return XR_ERROR_FEATURE_UNSUPPORTED;
    }
    if (ci->width == 0 || ci->height == 0 || ci->width > OXR_MAX_SWAPCHAIN_SIZE ||
        ci->height > OXR_MAX_SWAPCHAIN_SIZE || ci->arraySize == 0 || ci->mipCount == 0 ||
        (ci->faceCount != 1 && ci->faceCount != 6) ||
        (ci->faceCount == 6 && ci->width != ci->height) || ci->sampleCount == 0) {
        return XR_ERROR_VALIDATION_FAILURE;
    }
    if (ci->sampleCount != 1) {
        return XR_ERROR_FEATURE_UNSUPPORTED; /* maxSwapchainSampleCount is 1 */
    }
    return XR_SUCCESS;
}

static VkImageUsageFlags vk_usage(XrSwapchainUsageFlags u, bool depth)
{
    /* Every colour image is a transfer source (the compositor copies it) and every image can
     * be in the attachment layout the specification hands it out in. */
    VkImageUsageFlags v =
        depth ? VK_IMAGE_USAGE_DEPTH_STENCIL_ATTACHMENT_BIT
              : VK_IMAGE_USAGE_COLOR_ATTACHMENT_BIT | VK_IMAGE_USAGE_TRANSFER_SRC_BIT;
    if (u & XR_SWAPCHAIN_USAGE_UNORDERED_ACCESS_BIT) {
        v |= VK_IMAGE_USAGE_STORAGE_BIT;
    }
    if (u & XR_SWAPCHAIN_USAGE_TRANSFER_SRC_BIT) {
        v |= VK_IMAGE_USAGE_TRANSFER_SRC_BIT;
    }
    if (u & XR_SWAPCHAIN_USAGE_TRANSFER_DST_BIT) {
        v |= VK_IMAGE_USAGE_TRANSFER_DST_BIT;
    }
    if (u & XR_SWAPCHAIN_USAGE_SAMPLED_BIT) {
        v |= VK_IMAGE_USAGE_SAMPLED_BIT;
    }
    if (u & XR_SWAPCHAIN_USAGE_INPUT_ATTACHMENT_BIT_MND) {
        v |= VK_IMAGE_USAGE_INPUT_ATTACHMENT_BIT;
    }
    return v;
}

static XrResult create_images(struct oxr_session *s, struct oxr_swapchain *sc)
{
    bool depth = is_depth(sc->format);
    VkImageCreateInfo ii = {
        .sType = VK_STRUCTURE_TYPE_IMAGE_CREATE_INFO,
        .flags =
            (sc->usage & XR_SWAPCHAIN_USAGE_MUTABLE_FORMAT_BIT ? VK_IMAGE_CREATE_MUTABLE_FORMAT_BIT
                                                               : 0) |
            (sc->face_count == 6 ? VK_IMAGE_CREATE_CUBE_COMPATIBLE_BIT : 0),
        .imageType = VK_IMAGE_TYPE_2D,
        .format = sc->format,
        .extent = {sc->width, sc->height, 1},
        .mipLevels = sc->mip_count,
        .arrayLayers = sc->array_size * sc->face_count,
        .samples = VK_SAMPLE_COUNT_1_BIT,
        .tiling = VK_IMAGE_TILING_OPTIMAL,
        .usage = vk_usage(sc->usage, depth),
        .sharingMode = VK_SHARING_MODE_EXCLUSIVE,
        .initialLayout = VK_IMAGE_LAYOUT_UNDEFINED,
    };
    for (uint32_t i = 0; i < OXR_SWAPCHAIN_IMAGES; i++) {
        VkResult r = oxr_vk_image_create(&s->vk, &ii, &sc->images[i], &sc->memory[i]);
        if (r != VK_SUCCESS) {
            U_LOG_E(OXR_LOG, "cannot create a %ux%u swapchain image (format %d): %d", sc->width,
                    sc->height, (int)sc->format, (int)r);
            return r == VK_ERROR_OUT_OF_HOST_MEMORY ? XR_ERROR_OUT_OF_MEMORY
                                                    : XR_ERROR_RUNTIME_FAILURE;
        }
        sc->image_count++;
    }
    sc->layout = depth ? VK_IMAGE_LAYOUT_DEPTH_STENCIL_ATTACHMENT_OPTIMAL
                       : VK_IMAGE_LAYOUT_COLOR_ATTACHMENT_OPTIMAL;
    VkImageAspectFlags aspect = VK_IMAGE_ASPECT_COLOR_BIT;
    if (depth) {
        aspect = VK_IMAGE_ASPECT_DEPTH_BIT;
        if (sc->format == VK_FORMAT_D24_UNORM_S8_UINT) {
            aspect |= VK_IMAGE_ASPECT_STENCIL_BIT;
        }
    }
    VkResult r = oxr_vk_initial_layout(&s->vk, sc->images, sc->image_count, aspect, sc->layout);
    if (r != VK_SUCCESS) {
        U_LOG_E(OXR_LOG, "cannot prepare the swapchain images: %d", (int)r);
        return XR_ERROR_RUNTIME_FAILURE;
    }
    return XR_SUCCESS;
}

OXR_API(CreateSwapchain,
        (XrSession session, const XrSwapchainCreateInfo *createInfo, XrSwapchain *swapchain))
{
    struct oxr_session *s = oxr_get_session(session);
    if (s == NULL) {
        return XR_ERROR_HANDLE_INVALID;
    }
    if (createInfo == NULL || createInfo->type != XR_TYPE_SWAPCHAIN_CREATE_INFO ||
        swapchain == NULL) {
        return XR_ERROR_VALIDATION_FAILURE;
    }
    XrResult xr = check_create_info(s, createInfo);
    if (xr != XR_SUCCESS) {
        return xr;
    }
    struct oxr_swapchain *sc = calloc(1, sizeof *sc);
    if (sc == NULL) {
        return XR_ERROR_OUT_OF_MEMORY;
    }
    sc->sess = s;
    sc->create_flags = createInfo->createFlags;
    sc->usage = createInfo->usageFlags;
    sc->format = (VkFormat)createInfo->format;
    sc->samples = createInfo->sampleCount;
    sc->width = createInfo->width;
    sc->height = createInfo->height;
    sc->face_count = createInfo->faceCount;
    sc->array_size = createInfo->arraySize;
    sc->mip_count = createInfo->mipCount;
    sc->released = -1;
    xr = create_images(s, sc);
    if (xr != XR_SUCCESS) {
        swapchain_destroy(&sc->base);
        return xr;
    }
    sc->base.type = OXR_TYPE_SWAPCHAIN;
    sc->base.parent = &s->base;
    sc->base.destroy = swapchain_destroy;
    if (!oxr_handle_register(&sc->base)) {
        swapchain_destroy(&sc->base);
        return XR_ERROR_OUT_OF_MEMORY;
    }
    *swapchain = OXR_TO_XR(XrSwapchain, &sc->base);
    return oxr_session_lost(s) ? XR_SESSION_LOSS_PENDING : XR_SUCCESS;
}

OXR_API(DestroySwapchain, (XrSwapchain swapchain))
{
    struct oxr_swapchain *sc = oxr_get_swapchain(swapchain);
    if (sc == NULL) {
        return XR_ERROR_HANDLE_INVALID;
    }
    oxr_handle_destroy(&sc->base);
    return XR_SUCCESS;
}

OXR_API(EnumerateSwapchainImages, (XrSwapchain swapchain, uint32_t capacity, uint32_t *count,
                                   XrSwapchainImageBaseHeader *images))
{
    struct oxr_swapchain *sc = oxr_get_swapchain(swapchain);
    if (sc == NULL) {
        return XR_ERROR_HANDLE_INVALID;
    }
    if (count == NULL || (capacity > 0 && images == NULL)) {
        return XR_ERROR_VALIDATION_FAILURE;
    }
    *count = sc->image_count;
    if (capacity == 0) {
        return XR_SUCCESS;
    }
    if (capacity < sc->image_count) {
        return XR_ERROR_SIZE_INSUFFICIENT;
    }
    XrSwapchainImageVulkanKHR *vk = (XrSwapchainImageVulkanKHR *)(void *)images;
    for (uint32_t i = 0; i < sc->image_count; i++) {
        if (vk[i].type != XR_TYPE_SWAPCHAIN_IMAGE_VULKAN_KHR) {
            return XR_ERROR_VALIDATION_FAILURE;
        }
    }
    for (uint32_t i = 0; i < sc->image_count; i++) {
        vk[i].image = sc->images[i];
    }
    return XR_SUCCESS;
}

static XrResult done(struct oxr_swapchain *sc)
{
    return oxr_session_lost(sc->sess) ? XR_SESSION_LOSS_PENDING : XR_SUCCESS;
}

OXR_API(AcquireSwapchainImage,
        (XrSwapchain swapchain, const XrSwapchainImageAcquireInfo *acquireInfo, uint32_t *index))
{
    struct oxr_swapchain *sc = oxr_get_swapchain(swapchain);
    if (sc == NULL) {
        return XR_ERROR_HANDLE_INVALID;
    }
    if ((acquireInfo != NULL && acquireInfo->type != XR_TYPE_SWAPCHAIN_IMAGE_ACQUIRE_INFO) ||
        index == NULL) {
        return XR_ERROR_VALIDATION_FAILURE;
    }
    bool is_static = (sc->create_flags & XR_SWAPCHAIN_CREATE_STATIC_IMAGE_BIT) != 0;
    if (sc->acquired_count == sc->image_count || (is_static && sc->static_acquired)) {
        return XR_ERROR_CALL_ORDER_INVALID;
    }
    uint32_t i = sc->next_index;
    sc->next_index = (sc->next_index + 1) % sc->image_count;
    sc->acquired[sc->acquired_count++] = i;
    sc->static_acquired = true;
    *index = i;
    return done(sc);
}

OXR_API(WaitSwapchainImage, (XrSwapchain swapchain, const XrSwapchainImageWaitInfo *waitInfo))
{
    struct oxr_swapchain *sc = oxr_get_swapchain(swapchain);
    if (sc == NULL) {
        return XR_ERROR_HANDLE_INVALID;
    }
    if (waitInfo == NULL || waitInfo->type != XR_TYPE_SWAPCHAIN_IMAGE_WAIT_INFO) {
        return XR_ERROR_VALIDATION_FAILURE;
    }
    /* One image waited at a time, the oldest acquired one. The compositor finishes with an
     * image inside xrEndFrame, so it is ready at once. */
    if (sc->waited > 0 || sc->acquired_count == 0) {
        return XR_ERROR_CALL_ORDER_INVALID;
    }
    sc->waited = 1;
    return done(sc);
}

OXR_API(ReleaseSwapchainImage,
        (XrSwapchain swapchain, const XrSwapchainImageReleaseInfo *releaseInfo))
{
    struct oxr_swapchain *sc = oxr_get_swapchain(swapchain);
    if (sc == NULL) {
        return XR_ERROR_HANDLE_INVALID;
    }
    if (releaseInfo != NULL && releaseInfo->type != XR_TYPE_SWAPCHAIN_IMAGE_RELEASE_INFO) {
        return XR_ERROR_VALIDATION_FAILURE;
    }
    if (sc->waited == 0) {
        return XR_ERROR_CALL_ORDER_INVALID;
    }
    sc->released = (int32_t)sc->acquired[0];
    memmove(&sc->acquired[0], &sc->acquired[1], (sc->acquired_count - 1) * sizeof sc->acquired[0]);
    sc->acquired_count--;
    sc->waited = 0;
    return done(sc);
}
