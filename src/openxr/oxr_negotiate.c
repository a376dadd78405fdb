/* SPDX-License-Identifier: Apache-2.0 */
/*
 * oxr_negotiate — how the Khronos loader finds the runtime: the manifest names this library,
 * the loader calls xrNegotiateLoaderRuntimeInterface (the one exported symbol), and from then
 * on asks xrGetInstanceProcAddr for every function by name. The loader's interface structures
 * are declared here because the OpenXR 1.0.20 headers do not ship
 * openxr_loader_negotiation.h (they came with 1.0.21); the layout is the loader's
 * (src/common/loader_interfaces.h, interface version 1).
 *
 * Threads: any; the tables are constant.
 */
#include "oxr_api.h"

#include "u_log.h"

#include <string.h>

/* ---- the loader interface, version 1 ----------------------------------------------------------
 */

#define OXR_LOADER_INTERFACE_VERSION 1
#define OXR_LOADER_STRUCT_LOADER_INFO 1
#define OXR_LOADER_STRUCT_RUNTIME_REQUEST 3
#define OXR_LOADER_INFO_STRUCT_VERSION 1
#define OXR_RUNTIME_INFO_STRUCT_VERSION 1

struct oxr_negotiate_loader_info {
    int struct_type; /* XR_LOADER_INTERFACE_STRUCT_LOADER_INFO */
    uint32_t struct_version;
    size_t struct_size;
    uint32_t min_interface_version;
    uint32_t max_interface_version;
    XrVersion min_api_version;
    XrVersion max_api_version;
};

struct oxr_negotiate_runtime_request {
    int struct_type; /* XR_LOADER_INTERFACE_STRUCT_RUNTIME_REQUEST */
    uint32_t struct_version;
    size_t struct_size;
    uint32_t runtime_interface_version;
    XrVersion runtime_api_version;
    PFN_xrGetInstanceProcAddr get_instance_proc_addr;
};

XRAPI_ATTR XrResult XRAPI_CALL xrNegotiateLoaderRuntimeInterface(
    const struct oxr_negotiate_loader_info *info, struct oxr_negotiate_runtime_request *request);

__attribute__((visibility("default"))) XRAPI_ATTR XrResult XRAPI_CALL
xrNegotiateLoaderRuntimeInterface(const struct oxr_negotiate_loader_info *info,
                                  struct oxr_negotiate_runtime_request *request)
{
    if (info == NULL || request == NULL || info->struct_type != OXR_LOADER_STRUCT_LOADER_INFO ||
        info->struct_version != OXR_LOADER_INFO_STRUCT_VERSION ||
        info->struct_size != sizeof *info ||
        request->struct_type != OXR_LOADER_STRUCT_RUNTIME_REQUEST ||
        request->struct_version != OXR_RUNTIME_INFO_STRUCT_VERSION ||
        request->struct_size != sizeof *request) {
        U_LOG_E(OXR_LOG, "the loader's negotiation structures are not interface version 1");
        return XR_ERROR_INITIALIZATION_FAILED;
    }
    if (info->min_interface_version > OXR_LOADER_INTERFACE_VERSION ||
        info->max_interface_version < OXR_LOADER_INTERFACE_VERSION) {
        U_LOG_E(OXR_LOG, "the loader wants interface versions %u-%u; this runtime speaks 1",
                info->min_interface_version, info->max_interface_version);
        return XR_ERROR_INITIALIZATION_FAILED;
    }
    /* Any 1.0.x the loader accepts: the runtime implements 1.0. */
    if (XR_VERSION_MAJOR(info->min_api_version) > 1 ||
        XR_VERSION_MAJOR(info->max_api_version) < 1) {
        U_LOG_E(OXR_LOG, "the loader wants an OpenXR API version this runtime does not offer");
        return XR_ERROR_INITIALIZATION_FAILED;
    }
    request->runtime_interface_version = OXR_LOADER_INTERFACE_VERSION;
    request->runtime_api_version = XR_CURRENT_API_VERSION;
    request->get_instance_proc_addr = oxr_xrGetInstanceProcAddr;
    return XR_SUCCESS;
}

/* ---- dispatch -----------------------------------------------------------------------------------
 */

enum oxr_ext {
    EXT_CORE = 0,
    EXT_VULKAN,
    EXT_VULKAN2,
    EXT_TIMESPEC,
    EXT_REMOTING,
};

struct oxr_entry {
    const char *name;
    PFN_xrVoidFunction fn;
    enum oxr_ext ext;
};

/* Type-checked against the header's PFN_xr<Name>: a wrong signature does not compile. */
#define ENTRY(name, ext)                                                                           \
    {                                                                                              \
        "xr" #name, _Generic(oxr_xr##name, PFN_xr##name : (PFN_xrVoidFunction)oxr_xr##name), ext   \
    }

static const struct oxr_entry k_entries[] = {
    ENTRY(GetInstanceProcAddr, EXT_CORE),
    ENTRY(EnumerateApiLayerProperties, EXT_CORE),
    ENTRY(EnumerateInstanceExtensionProperties, EXT_CORE),
    ENTRY(CreateInstance, EXT_CORE),
    ENTRY(DestroyInstance, EXT_CORE),
    ENTRY(GetInstanceProperties, EXT_CORE),
    ENTRY(PollEvent, EXT_CORE),
    ENTRY(ResultToString, EXT_CORE),
    ENTRY(StructureTypeToString, EXT_CORE),
    ENTRY(GetSystem, EXT_CORE),
    ENTRY(GetSystemProperties, EXT_CORE),
    ENTRY(EnumerateEnvironmentBlendModes, EXT_CORE),
    ENTRY(CreateSession, EXT_CORE),
    ENTRY(DestroySession, EXT_CORE),
    ENTRY(EnumerateReferenceSpaces, EXT_CORE),
    ENTRY(CreateReferenceSpace, EXT_CORE),
    ENTRY(GetReferenceSpaceBoundsRect, EXT_CORE),
    ENTRY(CreateActionSpace, EXT_CORE),
    ENTRY(LocateSpace, EXT_CORE),
    ENTRY(DestroySpace, EXT_CORE),
    ENTRY(EnumerateViewConfigurations, EXT_CORE),
    ENTRY(GetViewConfigurationProperties, EXT_CORE),
    ENTRY(EnumerateViewConfigurationViews, EXT_CORE),
    ENTRY(EnumerateSwapchainFormats, EXT_CORE),
    ENTRY(CreateSwapchain, EXT_CORE),
    ENTRY(DestroySwapchain, EXT_CORE),
    ENTRY(EnumerateSwapchainImages, EXT_CORE),
    ENTRY(AcquireSwapchainImage, EXT_CORE),
    ENTRY(WaitSwapchainImage, EXT_CORE),
    ENTRY(ReleaseSwapchainImage, EXT_CORE),
    ENTRY(BeginSession, EXT_CORE),
    ENTRY(EndSession, EXT_CORE),
    ENTRY(RequestExitSession, EXT_CORE),
    ENTRY(WaitFrame, EXT_CORE),
    ENTRY(BeginFrame, EXT_CORE),
    ENTRY(EndFrame, EXT_CORE),
    ENTRY(LocateViews, EXT_CORE),
    ENTRY(StringToPath, EXT_CORE),
    ENTRY(PathToString, EXT_CORE),
    ENTRY(CreateActionSet, EXT_CORE),
    ENTRY(DestroyActionSet, EXT_CORE),
    ENTRY(CreateAction, EXT_CORE),
    ENTRY(DestroyAction, EXT_CORE),
    ENTRY(SuggestInteractionProfileBindings, EXT_CORE),
    ENTRY(AttachSessionActionSets, EXT_CORE),
    ENTRY(GetCurrentInteractionProfile, EXT_CORE),
    ENTRY(GetActionStateBoolean, EXT_CORE),
    ENTRY(GetActionStateFloat, EXT_CORE),
    ENTRY(GetActionStateVector2f, EXT_CORE),
    ENTRY(GetActionStatePose, EXT_CORE),
    ENTRY(SyncActions, EXT_CORE),
    ENTRY(EnumerateBoundSourcesForAction, EXT_CORE),
    ENTRY(GetInputSourceLocalizedName, EXT_CORE),
    ENTRY(ApplyHapticFeedback, EXT_CORE),
    ENTRY(StopHapticFeedback, EXT_CORE),
    ENTRY(GetVulkanInstanceExtensionsKHR, EXT_VULKAN),
    ENTRY(GetVulkanDeviceExtensionsKHR, EXT_VULKAN),
    ENTRY(GetVulkanGraphicsDeviceKHR, EXT_VULKAN),
    ENTRY(GetVulkanGraphicsRequirementsKHR, EXT_VULKAN),
    ENTRY(CreateVulkanInstanceKHR, EXT_VULKAN2),
    ENTRY(CreateVulkanDeviceKHR, EXT_VULKAN2),
    ENTRY(GetVulkanGraphicsDevice2KHR, EXT_VULKAN2),
    ENTRY(GetVulkanGraphicsRequirements2KHR, EXT_VULKAN2),
    ENTRY(ConvertTimespecTimeToTimeKHR, EXT_TIMESPEC),
    ENTRY(ConvertTimeToTimespecTimeKHR, EXT_TIMESPEC),
    ENTRY(RemotingSetContextPropertiesMSFT, EXT_REMOTING),
    ENTRY(RemotingConnectMSFT, EXT_REMOTING),
    ENTRY(RemotingListenMSFT, EXT_REMOTING),
    ENTRY(RemotingDisconnectMSFT, EXT_REMOTING),
    ENTRY(RemotingGetConnectionStateMSFT, EXT_REMOTING),
    ENTRY(RemotingSetSecureConnectionClientCallbacksMSFT, EXT_REMOTING),
    ENTRY(RemotingSetSecureConnectionServerCallbacksMSFT, EXT_REMOTING),
    ENTRY(CreateRemotingDataChannelMSFT, EXT_REMOTING),
    ENTRY(DestroyRemotingDataChannelMSFT, EXT_REMOTING),
    ENTRY(GetRemotingDataChannelStateMSFT, EXT_REMOTING),
    ENTRY(SendRemotingDataMSFT, EXT_REMOTING),
    ENTRY(RetrieveRemotingDataMSFT, EXT_REMOTING),
    ENTRY(ConvertTimestampPlayerToRemoteMSFT, EXT_REMOTING),
    ENTRY(ConvertTimestampRemoteToPlayerMSFT, EXT_REMOTING),
};

static bool ext_enabled(const struct oxr_instance *inst, enum oxr_ext ext)
{
    switch (ext) {
    case EXT_CORE:
        return true;
    case EXT_VULKAN:
        return inst->ext.vulkan;
    case EXT_VULKAN2:
        return inst->ext.vulkan2;
    case EXT_TIMESPEC:
        return inst->ext.timespec;
    case EXT_REMOTING:
        return inst->ext.remoting;
    }
    return false;
}

static const struct oxr_entry *find_entry(const char *name)
{
    for (size_t i = 0; i < sizeof k_entries / sizeof k_entries[0]; i++) {
        if (strcmp(name, k_entries[i].name) == 0) {
            return &k_entries[i];
        }
    }
    return NULL;
}

/* The functions that may be asked for before an instance exists. */
static bool global_function(const char *name)
{
    return strcmp(name, "xrEnumerateInstanceExtensionProperties") == 0 ||
           strcmp(name, "xrEnumerateApiLayerProperties") == 0 ||
           strcmp(name, "xrCreateInstance") == 0;
}

OXR_API(GetInstanceProcAddr, (XrInstance instance, const char *name, PFN_xrVoidFunction *function))
{
    if (function == NULL || name == NULL) {
        return XR_ERROR_VALIDATION_FAILURE;
    }
    *function = NULL;
    if (instance == XR_NULL_HANDLE) {
        if (!global_function(name)) {
            return XR_ERROR_HANDLE_INVALID;
        }
        *function = find_entry(name)->fn;
        return XR_SUCCESS;
    }
    struct oxr_instance *inst = oxr_get_instance(instance);
    if (inst == NULL) {
        return XR_ERROR_HANDLE_INVALID;
    }
    const struct oxr_entry *e = find_entry(name);
    if (e == NULL || !ext_enabled(inst, e->ext)) {
        return XR_ERROR_FUNCTION_UNSUPPORTED;
    }
    *function = e->fn;
    return XR_SUCCESS;
}
