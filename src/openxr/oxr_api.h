/* SPDX-License-Identifier: Apache-2.0 */
/*
 * oxr_api — the entry points the runtime hands the loader through xrGetInstanceProcAddr, one
 * per OpenXR function it implements, named oxr_xr<Name>. None is exported: the loader's own
 * xr* symbols live in the same process, and only xrNegotiateLoaderRuntimeInterface leaves the
 * library (openrr_openxr.map).
 *
 * Threads: as the OpenXR specification allows (any thread, with its external-synchronisation
 * rules).
 */
#ifndef OXR_API_H
#define OXR_API_H

#include "oxr_objects.h"

#define OXR_API(name, params) XRAPI_ATTR XrResult XRAPI_CALL oxr_xr##name params

/* oxr_negotiate.c */
OXR_API(GetInstanceProcAddr, (XrInstance instance, const char *name, PFN_xrVoidFunction *function));

/* oxr_instance.c */
OXR_API(EnumerateApiLayerProperties,
        (uint32_t capacity, uint32_t *count, XrApiLayerProperties *properties));
OXR_API(EnumerateInstanceExtensionProperties, (const char *layerName, uint32_t capacity,
                                               uint32_t *count, XrExtensionProperties *properties));
OXR_API(CreateInstance, (const XrInstanceCreateInfo *createInfo, XrInstance *instance));
OXR_API(DestroyInstance, (XrInstance instance));
OXR_API(GetInstanceProperties, (XrInstance instance, XrInstanceProperties *instanceProperties));
OXR_API(PollEvent, (XrInstance instance, XrEventDataBuffer *eventData));
OXR_API(StringToPath, (XrInstance instance, const char *pathString, XrPath *path));
OXR_API(PathToString,
        (XrInstance instance, XrPath path, uint32_t capacity, uint32_t *count, char *buffer));
OXR_API(ConvertTimespecTimeToTimeKHR,
        (XrInstance instance, const struct timespec *timespecTime, XrTime *time));
OXR_API(ConvertTimeToTimespecTimeKHR,
        (XrInstance instance, XrTime time, struct timespec *timespecTime));

/* oxr_strings.c */
OXR_API(ResultToString,
        (XrInstance instance, XrResult value, char buffer[XR_MAX_RESULT_STRING_SIZE]));
OXR_API(StructureTypeToString,
        (XrInstance instance, XrStructureType value, char buffer[XR_MAX_STRUCTURE_NAME_SIZE]));

/* oxr_system.c */
OXR_API(GetSystem, (XrInstance instance, const XrSystemGetInfo *getInfo, XrSystemId *systemId));
OXR_API(GetSystemProperties,
        (XrInstance instance, XrSystemId systemId, XrSystemProperties *properties));
OXR_API(EnumerateEnvironmentBlendModes,
        (XrInstance instance, XrSystemId systemId, XrViewConfigurationType viewConfigurationType,
         uint32_t capacity, uint32_t *count, XrEnvironmentBlendMode *modes));
OXR_API(EnumerateViewConfigurations, (XrInstance instance, XrSystemId systemId, uint32_t capacity,
                                      uint32_t *count, XrViewConfigurationType *types));
OXR_API(GetViewConfigurationProperties,
        (XrInstance instance, XrSystemId systemId, XrViewConfigurationType viewConfigurationType,
         XrViewConfigurationProperties *properties));
OXR_API(EnumerateViewConfigurationViews,
        (XrInstance instance, XrSystemId systemId, XrViewConfigurationType viewConfigurationType,
         uint32_t capacity, uint32_t *count, XrViewConfigurationView *views));

/* oxr_session.c */
OXR_API(CreateSession,
        (XrInstance instance, const XrSessionCreateInfo *createInfo, XrSession *session));
OXR_API(DestroySession, (XrSession session));
OXR_API(BeginSession, (XrSession session, const XrSessionBeginInfo *beginInfo));
OXR_API(EndSession, (XrSession session));
OXR_API(RequestExitSession, (XrSession session));

/* oxr_space.c */
OXR_API(EnumerateReferenceSpaces,
        (XrSession session, uint32_t capacity, uint32_t *count, XrReferenceSpaceType *spaces));
OXR_API(CreateReferenceSpace,
        (XrSession session, const XrReferenceSpaceCreateInfo *createInfo, XrSpace *space));
OXR_API(GetReferenceSpaceBoundsRect,
        (XrSession session, XrReferenceSpaceType referenceSpaceType, XrExtent2Df *bounds));
OXR_API(CreateActionSpace,
        (XrSession session, const XrActionSpaceCreateInfo *createInfo, XrSpace *space));
OXR_API(LocateSpace, (XrSpace space, XrSpace baseSpace, XrTime time, XrSpaceLocation *location));
OXR_API(DestroySpace, (XrSpace space));

/* oxr_views.c */
OXR_API(LocateViews, (XrSession session, const XrViewLocateInfo *viewLocateInfo,
                      XrViewState *viewState, uint32_t capacity, uint32_t *count, XrView *views));

/* oxr_swapchain.c */
OXR_API(EnumerateSwapchainFormats,
        (XrSession session, uint32_t capacity, uint32_t *count, int64_t *formats));
OXR_API(CreateSwapchain,
        (XrSession session, const XrSwapchainCreateInfo *createInfo, XrSwapchain *swapchain));
OXR_API(DestroySwapchain, (XrSwapchain swapchain));
OXR_API(EnumerateSwapchainImages, (XrSwapchain swapchain, uint32_t capacity, uint32_t *count,
                                   XrSwapchainImageBaseHeader *images));
OXR_API(AcquireSwapchainImage,
        (XrSwapchain swapchain, const XrSwapchainImageAcquireInfo *acquireInfo, uint32_t *index));
OXR_API(WaitSwapchainImage, (XrSwapchain swapchain, const XrSwapchainImageWaitInfo *waitInfo));
OXR_API(ReleaseSwapchainImage,
        (XrSwapchain swapchain, const XrSwapchainImageReleaseInfo *releaseInfo));

/* oxr_frame.c */
OXR_API(WaitFrame,
        (XrSession session, const XrFrameWaitInfo *frameWaitInfo, XrFrameState *frameState));
OXR_API(BeginFrame, (XrSession session, const XrFrameBeginInfo *frameBeginInfo));
OXR_API(EndFrame, (XrSession session, const XrFrameEndInfo *frameEndInfo));

/* oxr_action.c */
OXR_API(CreateActionSet,
        (XrInstance instance, const XrActionSetCreateInfo *createInfo, XrActionSet *actionSet));
OXR_API(DestroyActionSet, (XrActionSet actionSet));
OXR_API(CreateAction,
        (XrActionSet actionSet, const XrActionCreateInfo *createInfo, XrAction *action));
OXR_API(DestroyAction, (XrAction action));
OXR_API(SuggestInteractionProfileBindings,
        (XrInstance instance, const XrInteractionProfileSuggestedBinding *suggestedBindings));
OXR_API(AttachSessionActionSets,
        (XrSession session, const XrSessionActionSetsAttachInfo *attachInfo));
OXR_API(GetCurrentInteractionProfile, (XrSession session, XrPath topLevelUserPath,
                                       XrInteractionProfileState *interactionProfile));
OXR_API(GetActionStateBoolean,
        (XrSession session, const XrActionStateGetInfo *getInfo, XrActionStateBoolean *state));
OXR_API(GetActionStateFloat,
        (XrSession session, const XrActionStateGetInfo *getInfo, XrActionStateFloat *state));
OXR_API(GetActionStateVector2f,
        (XrSession session, const XrActionStateGetInfo *getInfo, XrActionStateVector2f *state));
OXR_API(GetActionStatePose,
        (XrSession session, const XrActionStateGetInfo *getInfo, XrActionStatePose *state));
OXR_API(SyncActions, (XrSession session, const XrActionsSyncInfo *syncInfo));
OXR_API(EnumerateBoundSourcesForAction,
        (XrSession session, const XrBoundSourcesForActionEnumerateInfo *enumerateInfo,
         uint32_t capacity, uint32_t *count, XrPath *sources));
OXR_API(GetInputSourceLocalizedName,
        (XrSession session, const XrInputSourceLocalizedNameGetInfo *getInfo, uint32_t capacity,
         uint32_t *count, char *buffer));
OXR_API(ApplyHapticFeedback, (XrSession session, const XrHapticActionInfo *hapticActionInfo,
                              const XrHapticBaseHeader *hapticFeedback));
OXR_API(StopHapticFeedback, (XrSession session, const XrHapticActionInfo *hapticActionInfo));

/* oxr_vk_binding.c: XR_KHR_vulkan_enable */
OXR_API(GetVulkanInstanceExtensionsKHR, (XrInstance instance, XrSystemId systemId,
                                         uint32_t capacity, uint32_t *count, char *buffer));
OXR_API(GetVulkanDeviceExtensionsKHR, (XrInstance instance, XrSystemId systemId, uint32_t capacity,
                                       uint32_t *count, char *buffer));
OXR_API(GetVulkanGraphicsDeviceKHR, (XrInstance instance, XrSystemId systemId,
                                     VkInstance vkInstance, VkPhysicalDevice *vkPhysicalDevice));
OXR_API(GetVulkanGraphicsRequirementsKHR, (XrInstance instance, XrSystemId systemId,
                                           XrGraphicsRequirementsVulkanKHR *graphicsRequirements));
/* XR_KHR_vulkan_enable2 */
OXR_API(CreateVulkanInstanceKHR,
        (XrInstance instance, const XrVulkanInstanceCreateInfoKHR *createInfo,
         VkInstance *vulkanInstance, VkResult *vulkanResult));
OXR_API(CreateVulkanDeviceKHR, (XrInstance instance, const XrVulkanDeviceCreateInfoKHR *createInfo,
                                VkDevice *vulkanDevice, VkResult *vulkanResult));
OXR_API(GetVulkanGraphicsDevice2KHR,
        (XrInstance instance, const XrVulkanGraphicsDeviceGetInfoKHR *getInfo,
         VkPhysicalDevice *vulkanPhysicalDevice));
OXR_API(GetVulkanGraphicsRequirements2KHR, (XrInstance instance, XrSystemId systemId,
                                            XrGraphicsRequirementsVulkanKHR *graphicsRequirements));

/* oxr_remoting.c: XR_MSFT_holographic_remoting */
OXR_API(RemotingSetContextPropertiesMSFT,
        (XrInstance instance, XrSystemId systemId,
         const XrRemotingRemoteContextPropertiesMSFT *contextProperties));
OXR_API(RemotingConnectMSFT,
        (XrInstance instance, XrSystemId systemId, const XrRemotingConnectInfoMSFT *connectInfo));
OXR_API(RemotingListenMSFT,
        (XrInstance instance, XrSystemId systemId, const XrRemotingListenInfoMSFT *listenInfo));
OXR_API(RemotingDisconnectMSFT, (XrInstance instance, XrSystemId systemId,
                                 const XrRemotingDisconnectInfoMSFT *disconnectInfo));
OXR_API(RemotingGetConnectionStateMSFT,
        (XrInstance instance, XrSystemId systemId, XrRemotingConnectionStateMSFT *connectionState,
         XrRemotingDisconnectReasonMSFT *lastDisconnectReason));
OXR_API(RemotingSetSecureConnectionClientCallbacksMSFT,
        (XrInstance instance, XrSystemId systemId,
         const XrRemotingSecureConnectionClientCallbacksMSFT *secureConnectionClientCallbacks));
OXR_API(RemotingSetSecureConnectionServerCallbacksMSFT,
        (XrInstance instance, XrSystemId systemId,
         const XrRemotingSecureConnectionServerCallbacksMSFT *secureConnectionServerCallbacks));
OXR_API(ConvertTimestampPlayerToRemoteMSFT,
        (XrInstance instance, XrSystemId systemId, XrTime playerTime, XrTime *remoteTime));
OXR_API(ConvertTimestampRemoteToPlayerMSFT,
        (XrInstance instance, XrSystemId systemId, XrTime remoteTime, XrTime *playerTime));
/* oxr_channel.c */
OXR_API(CreateRemotingDataChannelMSFT, (XrInstance instance, XrSystemId systemId,
                                        const XrRemotingDataChannelCreateInfoMSFT *createInfo,
                                        XrRemotingDataChannelMSFT *channel));
OXR_API(DestroyRemotingDataChannelMSFT, (XrRemotingDataChannelMSFT channel));
OXR_API(GetRemotingDataChannelStateMSFT,
        (XrRemotingDataChannelMSFT channel, XrRemotingDataChannelStateMSFT *state));
OXR_API(SendRemotingDataMSFT,
        (XrRemotingDataChannelMSFT channel, const XrRemotingDataChannelSendDataInfoMSFT *sendInfo));
OXR_API(RetrieveRemotingDataMSFT,
        (XrRemotingDataChannelMSFT channel, uint64_t packetId, uint32_t dataBufferCapacityInput,
         uint32_t *dataBufferCountOutput, uint8_t *dataBuffer));

#endif
