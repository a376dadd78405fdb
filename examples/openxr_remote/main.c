/* SPDX-License-Identifier: Apache-2.0 */
/*
 * openxr-remote-sample — an OpenXR remote app written against
 * <openxr/openxr_msft_holographic_remoting.h>, the way the Holographic Remoting samples are:
 * it connects to a player (or listens for one), securely with the four callbacks when asked,
 * renders a small scene with Vulkan (XR_KHR_vulkan_enable2) and exchanges a few messages on a
 * custom data channel. Run it with XR_RUNTIME_JSON pointing at OpenRR's runtime:
 *
 *   openrr-player -listen 0.0.0.0:8265 -secureconnection -certificatestore player.p12 \
 *       -keypassphrase pw -authenticationtoken s3cret
 *   OPENRR_CAFILE=player-ca.pem openxr-remote-sample player.lan:8265 -secureconnection \
 *       -authenticationtoken s3cret
 *
 * Flags (the reference samples' spelling): host[:port], -listen [host[:port]],
 * -transportport N, -secureconnection, -authenticationtoken T, -certificatestore F,
 * -keypassphrase P, -subjectname S, -authenticationrealm R, -allowcertificatenamemismatch,
 * -allowunverifiedcertificatechain, -frames N (stop cleanly after N frames; default: until the
 * player leaves). Exit status: 0 stopped cleanly, 1 an error, 2 the connection was lost or
 * never made, 64 a usage error.
 *
 * Threads: the main thread; the security callbacks run on the runtime's network thread.
 */
#define XR_USE_GRAPHICS_API_VULKAN 1
#include <vulkan/vulkan.h>
#include <openxr/openxr.h>
#include <openxr/openxr_platform.h>
#include <openxr/openxr_msft_holographic_remoting.h>

#include "draw.h"
#include "security.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define DEFAULT_PORT 8265
#define SAMPLE_CHANNEL 0 /* remote-side data channel ids are 0-63 */

struct options {
    bool listen;
    char host[256];
    uint16_t port;
    uint16_t transport_port;
    bool secure;
    const char *token;
    const char *store_path;
    const char *passphrase;
    const char *subject;
    const char *realm;
    bool allow_name_mismatch;
    bool allow_unverified;
    unsigned long frames;
};

/* The extension's functions, by name (an application cannot link them). */
struct remoting {
    PFN_xrRemotingSetContextPropertiesMSFT set_properties;
    PFN_xrRemotingConnectMSFT connect;
    PFN_xrRemotingListenMSFT listen;
    PFN_xrRemotingDisconnectMSFT disconnect;
    PFN_xrRemotingGetConnectionStateMSFT state;
    PFN_xrRemotingSetSecureConnectionClientCallbacksMSFT client_callbacks;
    PFN_xrRemotingSetSecureConnectionServerCallbacksMSFT server_callbacks;
    PFN_xrCreateRemotingDataChannelMSFT create_channel;
    PFN_xrDestroyRemotingDataChannelMSFT destroy_channel;
    PFN_xrSendRemotingDataMSFT send;
    PFN_xrRetrieveRemotingDataMSFT retrieve;
    PFN_xrConvertTimestampRemoteToPlayerMSFT remote_to_player;
    PFN_xrGetVulkanGraphicsRequirements2KHR vk_requirements;
    PFN_xrCreateVulkanInstanceKHR vk_instance;
    PFN_xrGetVulkanGraphicsDevice2KHR vk_physical;
    PFN_xrCreateVulkanDeviceKHR vk_device;
};

struct app {
    struct options opt;
    struct security sec;
    struct remoting rm;
    XrInstance instance;
    XrSystemId system;
    XrSession session;
    XrSpace local;
    XrSwapchain swapchain;
    XrSwapchainImageVulkan2KHR images[8];
    uint32_t width, height;
    VkInstance vk_instance;
    VkPhysicalDevice vk_physical;
    VkDevice vk_device;
    uint32_t vk_family;
    struct draw draw;
    XrRemotingDataChannelMSFT channel;
    bool running, exit_requested, done;
    int status;
    unsigned long frames;
    bool converted;
};

/* ---- command line ---------------------------------------------------------------------------- */

static int usage(const char *fmt, const char *arg)
{
    fprintf(stderr, "openxr-remote-sample: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\nusage: openxr-remote-sample [host[:port]] [-listen [host[:port]]] "
                    "[-secureconnection -authenticationtoken T [-certificatestore F "
                    "-keypassphrase P -subjectname S]] [-frames N]\n");
    return 64;
}

static bool parse_address(const char *s, struct options *o)
{
    const char *colon = strrchr(s, ':');
    size_t n = colon != NULL ? (size_t)(colon - s) : strlen(s);
    if (s[0] == '[') { /* [v6]:port */
        const char *close = strchr(s, ']');
        if (close == NULL) {
            return false;
        }
        s++;
        n = (size_t)(close - s);
        colon = close[1] == ':' ? close + 1 : NULL;
    }
    if (n >= sizeof o->host) {
        return false;
    }
    memcpy(o->host, s, n);
    o->host[n] = '\0';
    if (colon != NULL) {
        char *end;
        long p = strtol(colon + 1, &end, 10);
        if (*end != '\0' || p < 0 || p > 65535) {
            return false;
        }
        o->port = (uint16_t)p;
    }
    return true;
}

static int parse(int argc, char **argv, struct options *o)
{
    memset(o, 0, sizeof *o);
    o->port = DEFAULT_PORT;
    o->passphrase = "";
    o->subject = "";
    o->realm = "OpenXR Remoting";
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        while (*a == '-' && a[1] == '-') {
            a++;
        }
#define VALUE()                                                                                    \
    do {                                                                                           \
        if (v == NULL) {                                                                           \
            return usage("%s needs a value", argv[i]);                                             \
        }                                                                                          \
        i++;                                                                                       \
    } while (0)
        if (strcasecmp(a, "-listen") == 0) {
            o->listen = true;
            if (v != NULL && v[0] != '-') {
                if (!parse_address(v, o)) {
                    return usage("'%s' is not host[:port]", v);
                }
                i++;
            }
        } else if (strcasecmp(a, "-secureconnection") == 0) {
            o->secure = true;
        } else if (strcasecmp(a, "-authenticationtoken") == 0) {
            VALUE();
            o->token = v;
        } else if (strcasecmp(a, "-certificatestore") == 0) {
            VALUE();
            o->store_path = v;
        } else if (strcasecmp(a, "-keypassphrase") == 0) {
            VALUE();
            o->passphrase = v;
        } else if (strcasecmp(a, "-subjectname") == 0) {
            VALUE();
            o->subject = v;
        } else if (strcasecmp(a, "-authenticationrealm") == 0) {
            VALUE();
            o->realm = v;
        } else if (strcasecmp(a, "-transportport") == 0) {
            VALUE();
            o->transport_port = (uint16_t)strtoul(v, NULL, 10);
        } else if (strcasecmp(a, "-frames") == 0) {
            VALUE();
            o->frames = strtoul(v, NULL, 10);
        } else if (strcasecmp(a, "-allowcertificatenamemismatch") == 0) {
            o->allow_name_mismatch = true;
        } else if (strcasecmp(a, "-allowunverifiedcertificatechain") == 0) {
            o->allow_unverified = true;
        } else if (a[0] != '-') {
            if (!parse_address(a, o)) {
                return usage("'%s' is not host[:port]", a);
            }
        } else {
            return usage("unknown flag %s", argv[i]);
        }
#undef VALUE
    }
    if (!o->listen && o->host[0] == '\0') {
        snprintf(o->host, sizeof o->host, "127.0.0.1");
    }
    if (o->secure && o->token == NULL) {
        return usage("%s", "-secureconnection needs -authenticationtoken");
    }
    if (o->secure && o->listen && o->store_path == NULL) {
        return usage("%s", "a secure listener needs -certificatestore");
    }
    return 0;
}

static uint8_t *read_file(const char *path, size_t *out_size)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf = NULL;
    long n = -1;
    if (f != NULL && fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) > 0 && n < (16 << 20) &&
        fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)n)) != NULL &&
        fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    if (f != NULL) {
        fclose(f);
    }
    *out_size = buf != NULL ? (size_t)n : 0;
    return buf;
}

/* ---- helpers ------------------------------------------------------------------------------------
 */

#define XR_CHECK(call)                                                                             \
    do {                                                                                           \
        XrResult r_ = (call);                                                                      \
        if (XR_FAILED(r_)) {                                                                       \
            fprintf(stderr, "openxr-remote-sample: %s failed: %d\n", #call, (int)r_);              \
            return false;                                                                          \
        }                                                                                          \
    } while (0)

static bool load(struct app *a, const char *name, PFN_xrVoidFunction *fn)
{
    XR_CHECK(xrGetInstanceProcAddr(a->instance, name, fn));
    return true;
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {0, (long)ms * 1000000L};
    nanosleep(&ts, NULL);
}

/* Where a point (metres, in the eye's own frame: −z ahead) falls in the image; -1 behind. */
static void project(const XrVector3f *p, const XrFovf *fov, uint32_t w, uint32_t h, int32_t *x,
                    int32_t *y)
{
    *x = *y = -1;
    if (p->z >= -0.01f) {
        return;
    }
    float u = p->x / -p->z, v = p->y / -p->z;
    float l = tanf(fov->angleLeft), r = tanf(fov->angleRight);
    float up = tanf(fov->angleUp), down = tanf(fov->angleDown);
    *x = (int32_t)((u - l) / (r - l) * (float)w);
    *y = (int32_t)((up - v) / (up - down) * (float)h);
}

/* @p point (LOCAL) in the frame of @p pose: R⁻¹ (point − position). */
static XrVector3f to_eye(const XrPosef *pose, XrVector3f point)
{
    XrQuaternionf q = pose->orientation;
    XrVector3f v = {point.x - pose->position.x, point.y - pose->position.y,
                    point.z - pose->position.z};
    /* rotate by the conjugate: v' = v + 2w(u×v) + 2u×(u×v) with u = −q.xyz */
    XrVector3f u = {-q.x, -q.y, -q.z};
    XrVector3f t = {2 * (u.y * v.z - u.z * v.y), 2 * (u.z * v.x - u.x * v.z),
                    2 * (u.x * v.y - u.y * v.x)};
    XrVector3f out = {v.x + q.w * t.x + (u.y * t.z - u.z * t.y),
                      v.y + q.w * t.y + (u.z * t.x - u.x * t.z),
                      v.z + q.w * t.z + (u.x * t.y - u.y * t.x)};
    return out;
}

/* ---- set-up -------------------------------------------------------------------------------------
 */

static bool create_instance(struct app *a)
{
    const char *ext[] = {XR_KHR_VULKAN_ENABLE2_EXTENSION_NAME,
                         XR_MSFT_HOLOGRAPHIC_REMOTING_EXTENSION_NAME};
    XrInstanceCreateInfo ci = {.type = XR_TYPE_INSTANCE_CREATE_INFO,
                               .enabledExtensionCount = 2,
                               .enabledExtensionNames = ext};
    snprintf(ci.applicationInfo.applicationName, sizeof ci.applicationInfo.applicationName,
             "openxr-remote-sample");
    ci.applicationInfo.apiVersion = XR_CURRENT_API_VERSION;
    XR_CHECK(xrCreateInstance(&ci, &a->instance));
    XrSystemGetInfo gi = {.type = XR_TYPE_SYSTEM_GET_INFO,
                          .formFactor = XR_FORM_FACTOR_HEAD_MOUNTED_DISPLAY};
    XR_CHECK(xrGetSystem(a->instance, &gi, &a->system));
    struct {
        const char *name;
        PFN_xrVoidFunction *fn;
    } fns[] = {
        {"xrRemotingSetContextPropertiesMSFT", (PFN_xrVoidFunction *)&a->rm.set_properties},
        {"xrRemotingConnectMSFT", (PFN_xrVoidFunction *)&a->rm.connect},
        {"xrRemotingListenMSFT", (PFN_xrVoidFunction *)&a->rm.listen},
        {"xrRemotingDisconnectMSFT", (PFN_xrVoidFunction *)&a->rm.disconnect},
        {"xrRemotingGetConnectionStateMSFT", (PFN_xrVoidFunction *)&a->rm.state},
        {"xrRemotingSetSecureConnectionClientCallbacksMSFT",
         (PFN_xrVoidFunction *)&a->rm.client_callbacks},
        {"xrRemotingSetSecureConnectionServerCallbacksMSFT",
         (PFN_xrVoidFunction *)&a->rm.server_callbacks},
        {"xrCreateRemotingDataChannelMSFT", (PFN_xrVoidFunction *)&a->rm.create_channel},
        {"xrDestroyRemotingDataChannelMSFT", (PFN_xrVoidFunction *)&a->rm.destroy_channel},
        {"xrSendRemotingDataMSFT", (PFN_xrVoidFunction *)&a->rm.send},
        {"xrRetrieveRemotingDataMSFT", (PFN_xrVoidFunction *)&a->rm.retrieve},
        {"xrConvertTimestampRemoteToPlayerMSFT", (PFN_xrVoidFunction *)&a->rm.remote_to_player},
        {"xrGetVulkanGraphicsRequirements2KHR", (PFN_xrVoidFunction *)&a->rm.vk_requirements},
        {"xrCreateVulkanInstanceKHR", (PFN_xrVoidFunction *)&a->rm.vk_instance},
        {"xrGetVulkanGraphicsDevice2KHR", (PFN_xrVoidFunction *)&a->rm.vk_physical},
        {"xrCreateVulkanDeviceKHR", (PFN_xrVoidFunction *)&a->rm.vk_device},
    };
    for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++) {
        if (!load(a, fns[i].name, fns[i].fn)) {
            return false;
        }
    }
    return true;
}

/* Context properties, the callbacks of our network role, then connect or listen. */
static bool start_remoting(struct app *a)
{
    const struct options *o = &a->opt;
    XrRemotingConnectionStateMSFT state;
    XR_CHECK(a->rm.state(a->instance, a->system, &state, NULL));
    if (state != XR_REMOTING_CONNECTION_STATE_DISCONNECTED_MSFT) {
        return true;
    }
    XrRemotingRemoteContextPropertiesMSFT props = {
        .type = XR_TYPE_REMOTING_REMOTE_CONTEXT_PROPERTIES_MSFT,
        .maxBitrateKbps = 20000,
        .enableAudio = XR_FALSE,
        .videoCodec = XR_REMOTING_VIDEO_CODEC_H264_MSFT,
        .depthBufferStreamResolution = XR_REMOTING_DEPTH_BUFFER_STREAM_RESOLUTION_HALF_MSFT,
    };
    XR_CHECK(a->rm.set_properties(a->instance, a->system, &props));
    if (o->listen) {
        if (o->secure) {
            XrRemotingSecureConnectionServerCallbacksMSFT cb = {
                .type = XR_TYPE_REMOTING_SECURE_CONNECTION_SERVER_CALLBACKS_MSFT,
                .context = &a->sec,
                .requestServerCertificateCallback = security_request_certificate,
                .validateAuthenticationTokenCallback = security_validate_token,
                .authenticationRealm = o->realm,
            };
            XR_CHECK(a->rm.server_callbacks(a->instance, a->system, &cb));
        }
        XrRemotingListenInfoMSFT li = {.type = XR_TYPE_REMOTING_LISTEN_INFO_MSFT,
                                       .listenInterface = o->host,
                                       .handshakeListenPort = o->port,
                                       .transportListenPort = o->transport_port,
                                       .secureConnection = o->secure};
        XR_CHECK(a->rm.listen(a->instance, a->system, &li));
        printf("listening on %s port %u%s\n", o->host[0] ? o->host : "all addresses", o->port,
               o->secure ? " (secure)" : "");
    } else {
        if (o->secure) {
            XrRemotingSecureConnectionClientCallbacksMSFT cb = {
                .type = XR_TYPE_REMOTING_SECURE_CONNECTION_CLIENT_CALLBACKS_MSFT,
                .context = &a->sec,
                .requestAuthenticationTokenCallback = security_request_token,
                .validateServerCertificateCallback = security_validate_chain,
                .performSystemValidation = XR_TRUE,
            };
            XR_CHECK(a->rm.client_callbacks(a->instance, a->system, &cb));
        }
        XrRemotingConnectInfoMSFT ci = {.type = XR_TYPE_REMOTING_CONNECT_INFO_MSFT,
                                        .remoteHostName = o->host,
                                        .remotePort = o->port,
                                        .secureConnection = o->secure};
        XR_CHECK(a->rm.connect(a->instance, a->system, &ci));
        printf("connecting to %s port %u%s\n", o->host, o->port, o->secure ? " (secure)" : "");
    }
    fflush(stdout);
    return true;
}

static bool create_vulkan(struct app *a)
{
    XrGraphicsRequirementsVulkan2KHR req = {.type = XR_TYPE_GRAPHICS_REQUIREMENTS_VULKAN2_KHR};
    XR_CHECK(a->rm.vk_requirements(a->instance, a->system, &req));
    VkApplicationInfo app = {.sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
                             .pApplicationName = "openxr-remote-sample",
                             .apiVersion = VK_API_VERSION_1_0};
    VkInstanceCreateInfo ici = {.sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
                                .pApplicationInfo = &app};
    XrVulkanInstanceCreateInfoKHR xi = {.type = XR_TYPE_VULKAN_INSTANCE_CREATE_INFO_KHR,
                                        .systemId = a->system,
                                        .pfnGetInstanceProcAddr = vkGetInstanceProcAddr,
                                        .vulkanCreateInfo = &ici};
    VkResult vr;
    XR_CHECK(a->rm.vk_instance(a->instance, &xi, &a->vk_instance, &vr));
    XrVulkanGraphicsDeviceGetInfoKHR gi = {.type = XR_TYPE_VULKAN_GRAPHICS_DEVICE_GET_INFO_KHR,
                                           .systemId = a->system,
                                           .vulkanInstance = a->vk_instance};
    XR_CHECK(a->rm.vk_physical(a->instance, &gi, &a->vk_physical));
    uint32_t n = 16;
    VkQueueFamilyProperties fam[16];
    vkGetPhysicalDeviceQueueFamilyProperties(a->vk_physical, &n, fam);
    for (uint32_t i = 0; i < n; i++) {
        if (fam[i].queueFlags & VK_QUEUE_GRAPHICS_BIT) {
            a->vk_family = i;
            break;
        }
    }
    float prio = 1.0f;
    VkDeviceQueueCreateInfo qi = {.sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
                                  .queueFamilyIndex = a->vk_family,
                                  .queueCount = 1,
                                  .pQueuePriorities = &prio};
    VkDeviceCreateInfo dci = {.sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
                              .queueCreateInfoCount = 1,
                              .pQueueCreateInfos = &qi};
    XrVulkanDeviceCreateInfoKHR xd = {.type = XR_TYPE_VULKAN_DEVICE_CREATE_INFO_KHR,
                                      .systemId = a->system,
                                      .pfnGetInstanceProcAddr = vkGetInstanceProcAddr,
                                      .vulkanPhysicalDevice = a->vk_physical,
                                      .vulkanCreateInfo = &dci};
    XR_CHECK(a->rm.vk_device(a->instance, &xd, &a->vk_device, &vr));
    return draw_init(&a->draw, a->vk_physical, a->vk_device, a->vk_family);
}

static bool create_session(struct app *a)
{
    XrGraphicsBindingVulkan2KHR binding = {.type = XR_TYPE_GRAPHICS_BINDING_VULKAN2_KHR,
                                           .instance = a->vk_instance,
                                           .physicalDevice = a->vk_physical,
                                           .device = a->vk_device,
                                           .queueFamilyIndex = a->vk_family};
    XrSessionCreateInfo si = {
        .type = XR_TYPE_SESSION_CREATE_INFO, .next = &binding, .systemId = a->system};
    /* Waits (up to 10 s) for the connection started above. */
    XR_CHECK(xrCreateSession(a->instance, &si, &a->session));
    XrReferenceSpaceCreateInfo rs = {.type = XR_TYPE_REFERENCE_SPACE_CREATE_INFO,
                                     .referenceSpaceType = XR_REFERENCE_SPACE_TYPE_LOCAL,
                                     .poseInReferenceSpace = {.orientation = {0, 0, 0, 1}}};
    XR_CHECK(xrCreateReferenceSpace(a->session, &rs, &a->local));
    XrViewConfigurationView views[2] = {{.type = XR_TYPE_VIEW_CONFIGURATION_VIEW},
                                        {.type = XR_TYPE_VIEW_CONFIGURATION_VIEW}};
    uint32_t n = 0;
    XR_CHECK(xrEnumerateViewConfigurationViews(
        a->instance, a->system, XR_VIEW_CONFIGURATION_TYPE_PRIMARY_STEREO, 2, &n, views));
    a->width = views[0].recommendedImageRectWidth;
    a->height = views[0].recommendedImageRectHeight;
    /* One swapchain, one array layer per eye. */
    XrSwapchainCreateInfo sc = {.type = XR_TYPE_SWAPCHAIN_CREATE_INFO,
                                .usageFlags = XR_SWAPCHAIN_USAGE_COLOR_ATTACHMENT_BIT |
                                              XR_SWAPCHAIN_USAGE_TRANSFER_DST_BIT,
                                .format = VK_FORMAT_R8G8B8A8_SRGB,
                                .sampleCount = 1,
                                .width = a->width,
                                .height = a->height,
                                .faceCount = 1,
                                .arraySize = 2,
                                .mipCount = 1};
    XR_CHECK(xrCreateSwapchain(a->session, &sc, &a->swapchain));
    for (uint32_t i = 0; i < 8; i++) {
        a->images[i].type = XR_TYPE_SWAPCHAIN_IMAGE_VULKAN2_KHR;
    }
    XR_CHECK(
        xrEnumerateSwapchainImages(a->swapchain, 8, &n, (XrSwapchainImageBaseHeader *)a->images));
    printf("session created: %ux%u per eye\n", a->width, a->height);
    return true;
}

/* ---- events -----------------------------------------------------------------------------------
 */

static void on_state(struct app *a, XrSessionState state)
{
    XrSessionBeginInfo bi = {.type = XR_TYPE_SESSION_BEGIN_INFO,
                             .primaryViewConfigurationType =
                                 XR_VIEW_CONFIGURATION_TYPE_PRIMARY_STEREO};
    switch (state) {
    case XR_SESSION_STATE_READY:
        if (XR_SUCCEEDED(xrBeginSession(a->session, &bi))) {
            a->running = true;
        }
        break;
    case XR_SESSION_STATE_FOCUSED:
        printf("session focused\n");
        break;
    case XR_SESSION_STATE_STOPPING:
        xrEndSession(a->session);
        a->running = false;
        break;
    case XR_SESSION_STATE_EXITING:
        a->done = true;
        break;
    case XR_SESSION_STATE_LOSS_PENDING:
        printf("session lost (LOSS_PENDING)\n");
        a->running = false;
        a->done = true;
        if (!a->exit_requested) {
            a->status = 2;
        }
        break;
    default:
        break;
    }
}

static void on_remoting(struct app *a, const XrEventDataBuffer *ev)
{
    switch ((int)ev->type) {
    case XR_TYPE_REMOTING_EVENT_DATA_LISTENING_MSFT:
        printf("remoting: listening on port %u\n",
               ((const XrRemotingEventDataListeningMSFT *)ev)->listeningPort);
        break;
    case XR_TYPE_REMOTING_EVENT_DATA_CONNECTED_MSFT: {
        printf("remoting: connected\n");
        XrRemotingDataChannelCreateInfoMSFT ci = {
            .type = XR_TYPE_REMOTING_DATA_CHANNEL_CREATE_INFO_MSFT,
            .channelId = SAMPLE_CHANNEL,
            .channelPriority = XR_REMOTING_DATA_CHANNEL_PRIORITY_LOW_MSFT};
        XrResult r = a->rm.create_channel(a->instance, a->system, &ci, &a->channel);
        printf("remoting: data channel %u %s\n", SAMPLE_CHANNEL,
               XR_SUCCEEDED(r) ? "created" : "could not be created");
        break;
    }
    case XR_TYPE_REMOTING_EVENT_DATA_DISCONNECTED_MSFT:
        printf("remoting: disconnected, reason %d\n",
               (int)((const XrRemotingEventDataDisconnectedMSFT *)ev)->disconnectReason);
        break;
    case XR_TYPE_EVENT_DATA_REMOTING_DATA_CHANNEL_OPENED_MSFT: {
        static const char hello[] = "hello from the remote";
        XrRemotingDataChannelSendDataInfoMSFT si = {
            .type = XR_TYPE_REMOTING_DATA_CHANNEL_SEND_DATA_INFO_MSFT,
            .data = (const uint8_t *)hello,
            .size = sizeof hello,
            .guaranteedDelivery = XR_TRUE};
        XrResult r =
            a->rm.send(((const XrEventDataRemotingDataChannelOpenedMSFT *)ev)->channel, &si);
        printf("remoting: data channel opened; %s\n",
               XR_SUCCEEDED(r) ? "greeting sent" : "send failed");
        break;
    }
    case XR_TYPE_EVENT_DATA_REMOTING_DATA_CHANNEL_CREATED_MSFT:
        printf("remoting: the player opened data channel %u\n",
               ((const XrEventDataRemotingDataChannelCreatedMSFT *)ev)->channelId);
        break;
    case XR_TYPE_EVENT_DATA_REMOTING_DATA_CHANNEL_DATA_RECEIVED_MSFT: {
        const XrEventDataRemotingDataChannelDataReceivedMSFT *d = (const void *)ev;
        uint32_t size = 0;
        uint8_t buf[256];
        /* Two calls: the size, then the bytes (the sample keeps at most 256). */
        if (XR_SUCCEEDED(a->rm.retrieve(d->channel, d->packetId, 0, &size, NULL)) &&
            size <= sizeof buf &&
            XR_SUCCEEDED(a->rm.retrieve(d->channel, d->packetId, sizeof buf, &size, buf))) {
            printf("remoting: received %u bytes on a data channel\n", size);
        }
        break;
    }
    case XR_TYPE_EVENT_DATA_REMOTING_DATA_CHANNEL_CLOSED_MSFT:
        printf("remoting: data channel closed\n");
        break;
    case XR_TYPE_EVENT_DATA_REMOTING_TIMESTAMP_CONVERSION_READY_MSFT:
        printf("remoting: timestamp conversion ready\n");
        break;
    default:
        break;
    }
}

static void poll_events(struct app *a)
{
    XrEventDataBuffer ev = {.type = XR_TYPE_EVENT_DATA_BUFFER};
    while (xrPollEvent(a->instance, &ev) == XR_SUCCESS) {
        if (ev.type == XR_TYPE_EVENT_DATA_SESSION_STATE_CHANGED) {
            on_state(a, ((const XrEventDataSessionStateChanged *)&ev)->state);
        } else {
            on_remoting(a, &ev);
        }
        fflush(stdout);
        ev.type = XR_TYPE_EVENT_DATA_BUFFER;
    }
}

/* ---- frames
 * -------------------------------------------------------------------------------------- */

static bool frame(struct app *a)
{
    XrFrameState fs = {.type = XR_TYPE_FRAME_STATE};
    XR_CHECK(xrWaitFrame(a->session, NULL, &fs));
    XR_CHECK(xrBeginFrame(a->session, NULL));
    XrCompositionLayerProjectionView pv[2];
    const XrCompositionLayerBaseHeader *layers[1];
    uint32_t layer_count = 0;
    if (fs.shouldRender) {
        XrViewLocateInfo vi = {.type = XR_TYPE_VIEW_LOCATE_INFO,
                               .viewConfigurationType = XR_VIEW_CONFIGURATION_TYPE_PRIMARY_STEREO,
                               .displayTime = fs.predictedDisplayTime,
                               .space = a->local};
        XrViewState vs = {.type = XR_TYPE_VIEW_STATE};
        XrView views[2] = {{.type = XR_TYPE_VIEW}, {.type = XR_TYPE_VIEW}};
        uint32_t n = 0;
        XR_CHECK(xrLocateViews(a->session, &vi, &vs, 2, &n, views));
        int32_t sx[2], sy[2];
        const XrVector3f anchor = {0.0f, 0.0f, -2.0f}; /* 2 m ahead of LOCAL's origin */
        for (int i = 0; i < 2; i++) {
            XrVector3f p = to_eye(&views[i].pose, anchor);
            project(&p, &views[i].fov, a->width, a->height, &sx[i], &sy[i]);
        }
        uint32_t index;
        XrSwapchainImageWaitInfo wi = {.type = XR_TYPE_SWAPCHAIN_IMAGE_WAIT_INFO,
                                       .timeout = XR_INFINITE_DURATION};
        XR_CHECK(xrAcquireSwapchainImage(a->swapchain, NULL, &index));
        XR_CHECK(xrWaitSwapchainImage(a->swapchain, &wi));
        bool ok = draw_frame(&a->draw, a->images[index].image, a->width, a->height, sx, sy,
                             (float)a->frames / 30.0f);
        XR_CHECK(xrReleaseSwapchainImage(a->swapchain, NULL));
        if (!ok) {
            fprintf(stderr, "openxr-remote-sample: drawing failed\n");
            return false;
        }
        for (uint32_t i = 0; i < 2; i++) {
            pv[i] = (XrCompositionLayerProjectionView){
                .type = XR_TYPE_COMPOSITION_LAYER_PROJECTION_VIEW,
                .pose = views[i].pose,
                .fov = views[i].fov,
                .subImage = {.swapchain = a->swapchain,
                             .imageRect = {{0, 0}, {(int32_t)a->width, (int32_t)a->height}},
                             .imageArrayIndex = i}};
        }
        static XrCompositionLayerProjection proj;
        proj = (XrCompositionLayerProjection){.type = XR_TYPE_COMPOSITION_LAYER_PROJECTION,
                                              .space = a->local,
                                              .viewCount = 2,
                                              .views = pv};
        layers[0] = (const XrCompositionLayerBaseHeader *)&proj;
        layer_count = 1;
        a->frames++;
        if (!a->converted) {
            XrTime player;
            if (XR_SUCCEEDED(a->rm.remote_to_player(a->instance, a->system, fs.predictedDisplayTime,
                                                    &player))) {
                a->converted = true;
                printf("remoting: this frame is shown at player time %.3f s\n",
                       (double)player / 1e9);
            }
        }
    }
    XrFrameEndInfo ei = {.type = XR_TYPE_FRAME_END_INFO,
                         .displayTime = fs.predictedDisplayTime,
                         .environmentBlendMode = XR_ENVIRONMENT_BLEND_MODE_OPAQUE,
                         .layerCount = layer_count,
                         .layers = layers};
    XR_CHECK(xrEndFrame(a->session, &ei));
    return true;
}

/* ---- main
 * ----------------------------------------------------------------------------------------- */

static void cleanup(struct app *a)
{
    if (a->channel != XR_NULL_HANDLE) {
        a->rm.destroy_channel(a->channel);
    }
    if (a->session != XR_NULL_HANDLE) {
        xrDestroySession(a->session); /* its spaces and swapchains go with it */
    }
    draw_fini(&a->draw);
    if (a->vk_device != VK_NULL_HANDLE) {
        vkDestroyDevice(a->vk_device, NULL);
    }
    if (a->vk_instance != VK_NULL_HANDLE) {
        vkDestroyInstance(a->vk_instance, NULL);
    }
    if (a->instance != XR_NULL_HANDLE) {
        xrDestroyInstance(a->instance);
    }
}

int main(int argc, char **argv)
{
    static struct app a;
    int code = parse(argc, argv, &a.opt);
    if (code != 0) {
        return code;
    }
    a.sec.token = a.opt.token != NULL ? a.opt.token : "";
    a.sec.passphrase = a.opt.passphrase;
    a.sec.subject = a.opt.subject;
    a.sec.allow_name_mismatch = a.opt.allow_name_mismatch;
    a.sec.allow_unverified = a.opt.allow_unverified;
    uint8_t *store = NULL;
    if (a.opt.store_path != NULL) {
        store = read_file(a.opt.store_path, &a.sec.store_size);
        if (store == NULL) {
            fprintf(stderr, "openxr-remote-sample: cannot read %s\n", a.opt.store_path);
            return 1;
        }
        a.sec.store = store;
    }
    a.status = 1;
    if (create_instance(&a) && start_remoting(&a) && create_vulkan(&a) && create_session(&a)) {
        a.status = 0;
        while (!a.done) {
            poll_events(&a);
            if (a.running && !a.done) {
                if (!frame(&a)) {
                    a.status = 1;
                    break;
                }
                if (a.opt.frames != 0 && a.frames >= a.opt.frames && !a.exit_requested) {
                    a.exit_requested = true;
                    printf("%lu frames rendered: stopping\n", a.frames);
                    xrRequestExitSession(a.session);
                }
            } else {
                sleep_ms(10);
            }
        }
    }
    printf("callbacks: %u token request(s), %u chain validation(s), %u certificate request(s), "
           "%u token validation(s)\n",
           atomic_load(&a.sec.token_requests), atomic_load(&a.sec.chain_validations),
           atomic_load(&a.sec.certificate_requests), atomic_load(&a.sec.token_validations));
    cleanup(&a);
    free(store);
    return a.status;
}
