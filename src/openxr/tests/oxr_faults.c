/* SPDX-License-Identifier: Apache-2.0 */
/*
 * oxr_faults — the runtime's error codes and its disconnect path, checked without the Khronos
 * loader in between (the loader answers for bad handles itself, so only a direct caller sees
 * what the runtime returns). The program plays the loader (dlopen, negotiation,
 * xrGetInstanceProcAddr) and the player (a player context and stream in this process that
 * sends poses and counts frames), renders nothing on a lavapipe device, and provokes one
 * error per check: invalid handles, wrong structure types, call order, swapchain and layer
 * rules, paths and actions, the player leaving between xrBeginFrame and xrEndFrame.
 * Output is TAP-like ("ok - …" / "not ok - …"); exit 0 when every check passed.
 *
 * Usage: oxr_faults LIBOPENRR_OPENXR.so   (run by tests/integration/openxr_hello.sh)
 *
 * Threads: main; one player thread sends poses and takes frames.
 */
#define XR_USE_GRAPHICS_API_VULKAN 1
#define XR_NO_PROTOTYPES 1 /* every xr function comes from the runtime, by name */
#include <vulkan/vulkan.h>
#include <openxr/openxr.h>
#include <openxr/openxr_platform.h>
#include <openxr/openxr_msft_holographic_remoting.h>

#include <openrr/stream.h>

#include <dlfcn.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int g_failed;
static int g_passed;

static void check(int cond, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void check(int cond, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("%s - ", cond ? "ok" : "not ok");
    vprintf(fmt, ap);
    printf("\n");
    fflush(stdout);
    va_end(ap);
    if (cond) {
        g_passed++;
    } else {
        g_failed++;
    }
}

/* Check that @p got is @p want and say so with the call's text. */
#define EXPECT(want, call)                                                                         \
    do {                                                                                           \
        XrResult got_ = (call);                                                                    \
        check(got_ == (want), "%s → %s (got %d)", #call, #want, (int)got_);                        \
    } while (0)

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* ---- the loader's side ---------------------------------------------------------------------- */

struct loader_info {
    int struct_type;
    uint32_t struct_version;
    size_t struct_size;
    uint32_t min_interface_version;
    uint32_t max_interface_version;
    XrVersion min_api_version;
    XrVersion max_api_version;
};

struct runtime_request {
    int struct_type;
    uint32_t struct_version;
    size_t struct_size;
    uint32_t runtime_interface_version;
    XrVersion runtime_api_version;
    PFN_xrGetInstanceProcAddr get_instance_proc_addr;
};

typedef XrResult(XRAPI_PTR *negotiate_fn)(const struct loader_info *, struct runtime_request *);

static PFN_xrGetInstanceProcAddr g_gipa;

static PFN_xrVoidFunction fn(XrInstance inst, const char *name)
{
    PFN_xrVoidFunction f = NULL;
    if (g_gipa(inst, name, &f) != XR_SUCCESS || f == NULL) {
        printf("not ok - xrGetInstanceProcAddr(%s)\n", name);
        g_failed++;
        exit(1);
    }
    return f;
}

/* The functions used below, by name through the runtime's xrGetInstanceProcAddr. */
#define XR_FUNCS(_)                                                                                \
    _(GetInstanceProperties)                                                                       \
    _(PollEvent)                                                                                   \
    _(StringToPath) _(PathToString) _(ResultToString) _(GetSystem) _(GetSystemProperties)          \
        _(EnumerateViewConfigurationViews) _(CreateSession) _(DestroySession) _(BeginSession)      \
            _(EndSession) _(RequestExitSession) _(WaitFrame) _(BeginFrame) _(EndFrame)             \
                _(LocateViews) _(CreateReferenceSpace) _(LocateSpace) _(DestroySpace)              \
                    _(EnumerateSwapchainFormats) _(CreateSwapchain) _(DestroySwapchain)            \
                        _(EnumerateSwapchainImages) _(AcquireSwapchainImage) _(WaitSwapchainImage) \
                            _(ReleaseSwapchainImage) _(CreateActionSet) _(CreateAction)            \
                                _(SuggestInteractionProfileBindings) _(AttachSessionActionSets)    \
                                    _(GetActionStateBoolean) _(SyncActions) _(DestroyInstance)     \
                                        _(GetVulkanGraphicsRequirements2KHR)                       \
                                            _(CreateVulkanInstanceKHR)                             \
                                                _(GetVulkanGraphicsDevice2KHR)                     \
                                                    _(CreateVulkanDeviceKHR)

#define DECLARE(name) static PFN_xr##name xr##name;
XR_FUNCS(DECLARE)
#undef DECLARE

static void load_functions(XrInstance inst)
{
#define LOAD(name) xr##name = (PFN_xr##name)fn(inst, "xr" #name);
    XR_FUNCS(LOAD)
#undef LOAD
}

/* ---- the player's side (a thread) -------------------------------------------------------------
 */

struct player {
    struct rr_context *ctx;
    struct rr_stream_player *stream;
    pthread_t thread;
    atomic_bool stop;
    atomic_bool connected;
    atomic_uint frames;
    atomic_uint echoed;
    _Atomic uint16_t port;
    float head[3]; /* the head position sent */
    /* secure listening (the test PKI's store) */
    uint8_t *store;
    size_t store_size;
    const char *token;
    struct rr_certificate_provider cert;
    struct rr_authentication_receiver receiver;
};

static void player_certificate(struct rr_certificate_provider *self,
                               struct rr_certificate_request *req)
{
    struct player *p = (struct player *)(void *)((char *)self - offsetof(struct player, cert));
    rr_certificate_request_complete(req, p->store, p->store_size, NULL, "test-pass");
}

static void player_token(struct rr_authentication_receiver *self, const char *token,
                         struct rr_token_validation *req)
{
    struct player *p = (struct player *)(void *)((char *)self - offsetof(struct player, receiver));
    rr_token_validation_complete(req, token != NULL && strcmp(token, p->token) == 0);
}

static void *player_thread(void *arg)
{
    struct player *p = arg;
    while (!atomic_load(&p->stop)) {
        struct rr_event ev;
        memset(&ev, 0, sizeof ev);
        while (rr_context_poll_event(p->ctx, &ev, 0) == RR_OK) {
            if (ev.type == RR_EVENT_LISTENING) {
                atomic_store(&p->port, ev.port);
            } else if (ev.type == RR_EVENT_CONNECTED) {
                atomic_store(&p->connected, true);
            } else if (ev.type == RR_EVENT_DISCONNECTED) {
                atomic_store(&p->connected, false);
            } else if (ev.type == RR_EVENT_DATA_RECEIVED) {
                /* Echo what the remote sends on its channels. */
                if (rr_data_channel_send(ev.channel, ev.data, ev.size, true) == RR_OK) {
                    atomic_fetch_add(&p->echoed, 1);
                }
            } else if (ev.type == RR_EVENT_DATA_CHANNEL_CLOSED) {
                struct rr_data_channel *ch = ev.channel;
                rr_data_channel_destroy(&ch);
            }
            rr_event_release(&ev);
            memset(&ev, 0, sizeof ev);
        }
        if (atomic_load(&p->connected)) {
            struct rr_stream_pose pose;
            memset(&pose, 0, sizeof pose);
            pose.predicted_display_us = rr_stream_now_us(0) + 16667;
            pose.head.orientation[3] = 1.0f;
            memcpy(pose.head.position, p->head, sizeof p->head);
            for (int i = 0; i < 2; i++) {
                pose.view[i] = pose.head;
                pose.view[i].position[0] += i == 0 ? -0.032f : 0.032f;
                pose.fov[i] = (struct rr_stream_fovf){-0.7854f, 0.7854f, 0.4636f, -0.4636f};
            }
            rr_stream_player_send_pose(p->stream, &pose);
            const struct rr_stream_frame *f = NULL;
            static uint64_t last_id;
            if (rr_stream_player_blit(p->stream, &f) == RR_BLIT_SUCCESS_COLOR && f != NULL &&
                f->frame_id != last_id) {
                last_id = f->frame_id;
                atomic_fetch_add(&p->frames, 1);
            }
        }
        sleep_ms(16);
    }
    return NULL;
}

static int player_start(struct player *p)
{
    memset(p, 0, sizeof *p);
    p->head[0] = 0.5f;
    p->head[1] = 1.7f;
    p->head[2] = -0.25f;
    struct rr_context_config cfg = {.role = RR_ROLE_PLAYER};
    if (rr_context_create(&cfg, &p->ctx) != RR_OK ||
        rr_stream_player_create(p->ctx, &(struct rr_stream_player_config){0}, &p->stream) !=
            RR_OK ||
        rr_context_listen(p->ctx, "127.0.0.1", 0, 0) != RR_OK) {
        return -1;
    }
    if (pthread_create(&p->thread, NULL, player_thread, p) != 0) {
        return -1;
    }
    for (int i = 0; i < 200 && atomic_load(&p->port) == 0; i++) {
        sleep_ms(10);
    }
    return atomic_load(&p->port) != 0 ? 0 : -1;
}

/* Listen again (plain, or secure with @p token); the new port. 0 on failure. */
static uint16_t player_listen(struct player *p, const char *token)
{
    atomic_store(&p->port, 0);
    p->token = token;
    p->cert.get_certificate = player_certificate;
    p->receiver.validate_token = player_token;
    enum rr_result r =
        token == NULL ? rr_context_listen(p->ctx, "127.0.0.1", 0, 0)
                      : rr_context_listen_secure(p->ctx, "127.0.0.1", 0, 0, &p->cert, &p->receiver);
    if (r != RR_OK) {
        return 0;
    }
    for (int i = 0; i < 300 && atomic_load(&p->port) == 0; i++) {
        sleep_ms(10);
    }
    return atomic_load(&p->port);
}

static void player_stop(struct player *p)
{
    atomic_store(&p->stop, true);
    pthread_join(p->thread, NULL);
    rr_stream_player_destroy(&p->stream);
    rr_context_destroy(&p->ctx);
    free(p->store);
}

/* ---- helpers ------------------------------------------------------------------------------------
 */

/* Poll events until a state change to @p want arrives (up to @p ms). */
static bool wait_state(XrInstance inst, XrSessionState want, unsigned ms)
{
    for (unsigned waited = 0; waited <= ms; waited += 10) {
        XrEventDataBuffer ev = {.type = XR_TYPE_EVENT_DATA_BUFFER};
        while (xrPollEvent(inst, &ev) == XR_SUCCESS) {
            if (ev.type == XR_TYPE_EVENT_DATA_SESSION_STATE_CHANGED &&
                ((XrEventDataSessionStateChanged *)&ev)->state == want) {
                return true;
            }
            ev.type = XR_TYPE_EVENT_DATA_BUFFER;
        }
        sleep_ms(10);
    }
    return false;
}

static XrInstance make_instance(const char *ext)
{
    XrInstanceCreateInfo ci = {.type = XR_TYPE_INSTANCE_CREATE_INFO};
    snprintf(ci.applicationInfo.applicationName, sizeof ci.applicationInfo.applicationName,
             "oxr_faults");
    ci.applicationInfo.apiVersion = XR_CURRENT_API_VERSION;
    ci.enabledExtensionCount = ext != NULL ? 1 : 0;
    ci.enabledExtensionNames = &ext;
    PFN_xrCreateInstance create = (PFN_xrCreateInstance)fn(XR_NULL_HANDLE, "xrCreateInstance");
    XrInstance inst = XR_NULL_HANDLE;
    XrResult r = create(&ci, &inst);
    return r == XR_SUCCESS ? inst : XR_NULL_HANDLE;
}

/* ---- the checks ---------------------------------------------------------------------------------
 */

static void negotiation(void *lib)
{
    negotiate_fn negotiate = (negotiate_fn)dlsym(lib, "xrNegotiateLoaderRuntimeInterface");
    check(negotiate != NULL, "the library exports xrNegotiateLoaderRuntimeInterface");
    check(dlsym(lib, "xrCreateInstance") == NULL && dlsym(lib, "rr_context_create") == NULL,
          "nothing else is exported (no xrCreateInstance, no rr_context_create)");
    if (negotiate == NULL) {
        exit(1);
    }
    struct loader_info info = {
        1, 1, sizeof info, 1, 1, XR_MAKE_VERSION(1, 0, 0), XR_MAKE_VERSION(1, 0, 0xffffffffu)};
    struct runtime_request req = {3, 1, sizeof req, 0, 0, NULL};
    struct loader_info bad = info;
    bad.struct_type = 2;
    EXPECT(XR_ERROR_INITIALIZATION_FAILED, negotiate(&bad, &req));
    bad = info;
    bad.min_interface_version = bad.max_interface_version = 2;
    EXPECT(XR_ERROR_INITIALIZATION_FAILED, negotiate(&bad, &req));
    EXPECT(XR_SUCCESS, negotiate(&info, &req));
    check(req.runtime_interface_version == 1 && req.get_instance_proc_addr != NULL,
          "negotiation gives interface 1 and xrGetInstanceProcAddr");
    g_gipa = req.get_instance_proc_addr;
    PFN_xrVoidFunction f = NULL;
    EXPECT(XR_ERROR_HANDLE_INVALID, g_gipa(XR_NULL_HANDLE, "xrCreateSession", &f));
    EXPECT(XR_SUCCESS, g_gipa(XR_NULL_HANDLE, "xrEnumerateInstanceExtensionProperties", &f));
    EXPECT(XR_ERROR_HANDLE_INVALID, g_gipa((XrInstance)(uintptr_t)0x1234, "xrPollEvent", &f));
}

static void instance_creation(void)
{
    PFN_xrCreateInstance create = (PFN_xrCreateInstance)fn(XR_NULL_HANDLE, "xrCreateInstance");
    XrInstance inst = XR_NULL_HANDLE;
    XrInstanceCreateInfo ci = {.type = XR_TYPE_INSTANCE_CREATE_INFO};
    snprintf(ci.applicationInfo.applicationName, sizeof ci.applicationInfo.applicationName, "x");
    ci.applicationInfo.apiVersion = XR_CURRENT_API_VERSION;
    XrInstanceCreateInfo c = ci;
    c.type = XR_TYPE_SESSION_CREATE_INFO;
    EXPECT(XR_ERROR_VALIDATION_FAILURE, create(&c, &inst));
    c = ci;
    c.applicationInfo.applicationName[0] = '\0';
    EXPECT(XR_ERROR_NAME_INVALID, create(&c, &inst));
    c = ci;
    c.applicationInfo.apiVersion = XR_MAKE_VERSION(2, 0, 0);
    EXPECT(XR_ERROR_API_VERSION_UNSUPPORTED, create(&c, &inst));
    const char *nope = "XR_NOPE_nothing";
    c = ci;
    c.enabledExtensionCount = 1;
    c.enabledExtensionNames = &nope;
    EXPECT(XR_ERROR_EXTENSION_NOT_PRESENT, create(&c, &inst));
}

/* A configuration file with @p text; its path in @p path (removed by the caller). */
static bool write_config(char *path, size_t size, const char *text)
{
    snprintf(path, size, "%s/oxr_faults.XXXXXX",
             getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp");
    int fd = mkstemp(path);
    if (fd < 0) {
        return false;
    }
    bool ok = write(fd, text, strlen(text)) == (ssize_t)strlen(text);
    close(fd);
    return ok;
}

/* Configuration mistakes fail xrCreateInstance; a good file sets what it says. */
static void configuration(void)
{
    static const struct {
        const char *var, *value, *what;
    } bad[] = {
        {"OPENRR_EYE_SIZE", "7x7", "an odd eye size"},
        {"OPENRR_CONNECT", "host:99999", "a port above 65535"},
        {"OPENRR_FPS", "0", "a frame rate of 0"},
        {"OPENRR_STATS", "maybe", "a flag that is neither 1 nor 0"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        setenv(bad[i].var, bad[i].value, 1);
        check(make_instance(NULL) == XR_NULL_HANDLE,
              "configuration: %s (%s=%s) fails xrCreateInstance", bad[i].what, bad[i].var,
              bad[i].value);
        unsetenv(bad[i].var);
    }
    setenv("OPENRR_CONNECT", "localhost:1", 1);
    setenv("OPENRR_LISTEN", ":1", 1);
    check(make_instance(NULL) == XR_NULL_HANDLE, "configuration: connect and listen together fail");
    unsetenv("OPENRR_CONNECT");
    unsetenv("OPENRR_LISTEN");
    setenv("OPENRR_LISTEN", ":1", 1);
    setenv("OPENRR_TOKEN", "t", 1);
    check(make_instance(NULL) == XR_NULL_HANDLE,
          "configuration: a secure listener without a certificate store fails");
    unsetenv("OPENRR_LISTEN");
    unsetenv("OPENRR_TOKEN");

    char path[4096];
    if (write_config(path, sizeof path, "# test\nbogus = 1\n")) {
        setenv("OPENRR_CONFIG", path, 1);
        check(make_instance(NULL) == XR_NULL_HANDLE, "configuration file: an unknown key fails");
        unlink(path);
    }
    if (write_config(path, sizeof path, "connect = 127.0.0.1:9  # a comment\neye_size=320x180\n")) {
        setenv("OPENRR_CONFIG", path, 1);
        XrInstance inst = make_instance(NULL);
        XrViewConfigurationView v[2] = {{.type = XR_TYPE_VIEW_CONFIGURATION_VIEW},
                                        {.type = XR_TYPE_VIEW_CONFIGURATION_VIEW}};
        uint32_t n = 0;
        PFN_xrEnumerateViewConfigurationViews views =
            inst != XR_NULL_HANDLE ? (PFN_xrEnumerateViewConfigurationViews)fn(
                                         inst, "xrEnumerateViewConfigurationViews")
                                   : NULL;
        check(views != NULL &&
                  views(inst, 1, XR_VIEW_CONFIGURATION_TYPE_PRIMARY_STEREO, 2, &n, v) ==
                      XR_SUCCESS &&
                  v[0].recommendedImageRectWidth == 320 && v[0].recommendedImageRectHeight == 180,
              "configuration file: eye_size sets the recommended size");
        if (inst != XR_NULL_HANDLE) {
            ((PFN_xrDestroyInstance)fn(inst, "xrDestroyInstance"))(inst);
        }
        unlink(path);
    }
    unsetenv("OPENRR_CONFIG");
}

static void instance_calls(XrInstance inst)
{
    PFN_xrVoidFunction f = NULL;
    EXPECT(XR_ERROR_FUNCTION_UNSUPPORTED, g_gipa(inst, "xrGetVulkanGraphicsDeviceKHR", &f));
    EXPECT(XR_ERROR_FUNCTION_UNSUPPORTED, g_gipa(inst, "xrNoSuchFunction", &f));
    XrInstanceProperties props = {.type = XR_TYPE_INSTANCE_PROPERTIES};
    EXPECT(XR_SUCCESS, xrGetInstanceProperties(inst, &props));
    EXPECT(XR_ERROR_HANDLE_INVALID, xrGetInstanceProperties((XrInstance)(uintptr_t)0x77, &props));
    props.type = XR_TYPE_SYSTEM_PROPERTIES;
    EXPECT(XR_ERROR_VALIDATION_FAILURE, xrGetInstanceProperties(inst, &props));
    XrEventDataBuffer ev = {.type = XR_TYPE_EVENT_DATA_BUFFER};
    EXPECT(XR_EVENT_UNAVAILABLE, xrPollEvent(inst, &ev));
    ev.type = XR_TYPE_EVENT_DATA_EVENTS_LOST;
    EXPECT(XR_ERROR_VALIDATION_FAILURE, xrPollEvent(inst, &ev));

    XrPath p = XR_NULL_PATH;
    EXPECT(XR_SUCCESS, xrStringToPath(inst, "/user/hand/left", &p));
    EXPECT(XR_ERROR_PATH_FORMAT_INVALID, xrStringToPath(inst, "/User/hand", &p));
    EXPECT(XR_ERROR_PATH_FORMAT_INVALID, xrStringToPath(inst, "/user//hand", &p));
    EXPECT(XR_ERROR_PATH_FORMAT_INVALID, xrStringToPath(inst, "/user/..", &p));
    EXPECT(XR_ERROR_PATH_FORMAT_INVALID, xrStringToPath(inst, "/user/", &p));
    EXPECT(XR_ERROR_PATH_INVALID, xrPathToString(inst, 99999, 0, &(uint32_t){0}, NULL));
    char small[4];
    uint32_t n = 0;
    XrPath left;
    xrStringToPath(inst, "/user/hand/left", &left);
    EXPECT(XR_ERROR_SIZE_INSUFFICIENT, xrPathToString(inst, left, sizeof small, &n, small));
    check(n == strlen("/user/hand/left") + 1, "the two-call idiom reports the size needed (%u)", n);

    char buf[XR_MAX_RESULT_STRING_SIZE];
    xrResultToString(inst, XR_ERROR_HANDLE_INVALID, buf);
    check(strcmp(buf, "XR_ERROR_HANDLE_INVALID") == 0, "xrResultToString names results (%s)", buf);
    xrResultToString(inst, (XrResult)-99, buf);
    check(strcmp(buf, "XR_UNKNOWN_FAILURE_-99") == 0, "and unknown ones as the spec says (%s)",
          buf);

    XrSystemGetInfo gi = {.type = XR_TYPE_SYSTEM_GET_INFO,
                          .formFactor = XR_FORM_FACTOR_HANDHELD_DISPLAY};
    XrSystemId sys = 0;
    EXPECT(XR_ERROR_FORM_FACTOR_UNSUPPORTED, xrGetSystem(inst, &gi, &sys));
    gi.type = XR_TYPE_SESSION_CREATE_INFO;
    EXPECT(XR_ERROR_VALIDATION_FAILURE, xrGetSystem(inst, &gi, &sys));
    XrSystemProperties sp = {.type = XR_TYPE_SYSTEM_PROPERTIES};
    EXPECT(XR_ERROR_SYSTEM_INVALID, xrGetSystemProperties(inst, 42, &sp));
    XrViewConfigurationView views[2] = {{.type = XR_TYPE_VIEW_CONFIGURATION_VIEW},
                                        {.type = XR_TYPE_VIEW_CONFIGURATION_VIEW}};
    EXPECT(XR_ERROR_SIZE_INSUFFICIENT,
           xrEnumerateViewConfigurationViews(inst, 1, XR_VIEW_CONFIGURATION_TYPE_PRIMARY_STEREO, 1,
                                             &n, views));
    EXPECT(XR_ERROR_VIEW_CONFIGURATION_TYPE_UNSUPPORTED,
           xrEnumerateViewConfigurationViews(inst, 1, XR_VIEW_CONFIGURATION_TYPE_PRIMARY_MONO, 2,
                                             &n, views));
    views[1].type = XR_TYPE_VIEW;
    EXPECT(XR_ERROR_VALIDATION_FAILURE,
           xrEnumerateViewConfigurationViews(inst, 1, XR_VIEW_CONFIGURATION_TYPE_PRIMARY_STEREO, 2,
                                             &n, views));
}

/* The Vulkan objects of the session (enable2: the runtime creates them through our calls). */
struct vk {
    VkInstance instance;
    VkPhysicalDevice physical;
    VkDevice device;
    uint32_t family;
};

static bool vulkan(XrInstance inst, struct vk *vk)
{
    VkApplicationInfo app = {.sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
                             .pApplicationName = "oxr_faults",
                             .apiVersion = VK_API_VERSION_1_0};
    VkInstanceCreateInfo vci = {.sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
                                .pApplicationInfo = &app};
    XrVulkanInstanceCreateInfoKHR ci = {.type = XR_TYPE_VULKAN_INSTANCE_CREATE_INFO_KHR,
                                        .systemId = 1,
                                        .pfnGetInstanceProcAddr = vkGetInstanceProcAddr,
                                        .vulkanCreateInfo = &vci};
    VkResult vr = VK_SUCCESS;
    EXPECT(XR_ERROR_GRAPHICS_REQUIREMENTS_CALL_MISSING,
           xrCreateVulkanInstanceKHR(inst, &ci, &vk->instance, &vr));
    XrGraphicsRequirementsVulkan2KHR req = {.type = XR_TYPE_GRAPHICS_REQUIREMENTS_VULKAN2_KHR};
    EXPECT(XR_SUCCESS, xrGetVulkanGraphicsRequirements2KHR(inst, 1, &req));
    EXPECT(XR_SUCCESS, xrCreateVulkanInstanceKHR(inst, &ci, &vk->instance, &vr));
    XrVulkanGraphicsDeviceGetInfoKHR gi = {.type = XR_TYPE_VULKAN_GRAPHICS_DEVICE_GET_INFO_KHR,
                                           .systemId = 1,
                                           .vulkanInstance = vk->instance};
    EXPECT(XR_SUCCESS, xrGetVulkanGraphicsDevice2KHR(inst, &gi, &vk->physical));
    uint32_t nf = 8;
    VkQueueFamilyProperties fam[8];
    vkGetPhysicalDeviceQueueFamilyProperties(vk->physical, &nf, fam);
    vk->family = 0;
    for (uint32_t i = 0; i < nf; i++) {
        if (fam[i].queueFlags & VK_QUEUE_GRAPHICS_BIT) {
            vk->family = i;
            break;
        }
    }
    float prio = 1.0f;
    VkDeviceQueueCreateInfo qci = {.sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
                                   .queueFamilyIndex = vk->family,
                                   .queueCount = 1,
                                   .pQueuePriorities = &prio};
    VkDeviceCreateInfo dci = {.sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
                              .queueCreateInfoCount = 1,
                              .pQueueCreateInfos = &qci};
    XrVulkanDeviceCreateInfoKHR dc = {.type = XR_TYPE_VULKAN_DEVICE_CREATE_INFO_KHR,
                                      .systemId = 1,
                                      .pfnGetInstanceProcAddr = vkGetInstanceProcAddr,
                                      .vulkanPhysicalDevice = vk->physical,
                                      .vulkanCreateInfo = &dci};
    EXPECT(XR_SUCCESS, xrCreateVulkanDeviceKHR(inst, &dc, &vk->device, &vr));
    return vk->device != VK_NULL_HANDLE;
}

static void session_order(XrInstance inst, XrSession s)
{
    XrFrameState fs = {.type = XR_TYPE_FRAME_STATE};
    EXPECT(XR_ERROR_SESSION_NOT_RUNNING, xrWaitFrame(s, NULL, &fs));
    XrSessionBeginInfo bi = {.type = XR_TYPE_SESSION_BEGIN_INFO,
                             .primaryViewConfigurationType =
                                 XR_VIEW_CONFIGURATION_TYPE_PRIMARY_MONO};
    EXPECT(XR_ERROR_VIEW_CONFIGURATION_TYPE_UNSUPPORTED, xrBeginSession(s, &bi));
    bi.primaryViewConfigurationType = XR_VIEW_CONFIGURATION_TYPE_PRIMARY_STEREO;
    EXPECT(XR_SUCCESS, xrBeginSession(s, &bi));
    EXPECT(XR_ERROR_SESSION_RUNNING, xrBeginSession(s, &bi));
    EXPECT(XR_ERROR_SESSION_NOT_STOPPING, xrEndSession(s));
    EXPECT(XR_ERROR_CALL_ORDER_INVALID, xrBeginFrame(s, NULL));
    XrFrameEndInfo ei = {.type = XR_TYPE_FRAME_END_INFO,
                         .displayTime = 1,
                         .environmentBlendMode = XR_ENVIRONMENT_BLEND_MODE_OPAQUE};
    EXPECT(XR_ERROR_CALL_ORDER_INVALID, xrEndFrame(s, &ei));
    fs.type = XR_TYPE_FRAME_WAIT_INFO;
    EXPECT(XR_ERROR_VALIDATION_FAILURE, xrWaitFrame(s, NULL, &fs));
    fs.type = XR_TYPE_FRAME_STATE;
    EXPECT(XR_SUCCESS, xrWaitFrame(s, NULL, &fs));
    check(fs.shouldRender && fs.predictedDisplayTime > 0 && fs.predictedDisplayPeriod > 0,
          "the first frame should render (period %lld ns)", (long long)fs.predictedDisplayPeriod);
    check(wait_state(inst, XR_SESSION_STATE_FOCUSED, 1000),
          "SYNCHRONIZED, VISIBLE, FOCUSED follow");
}

static XrSwapchain swapchains(XrSession s)
{
    int64_t formats[16];
    uint32_t n = 0;
    EXPECT(XR_SUCCESS, xrEnumerateSwapchainFormats(s, 16, &n, formats));
    check(n > 0 && formats[0] == VK_FORMAT_R8G8B8A8_SRGB, "R8G8B8A8_SRGB is offered first");
    XrSwapchainCreateInfo ci = {.type = XR_TYPE_SWAPCHAIN_CREATE_INFO,
                                .usageFlags = XR_SWAPCHAIN_USAGE_COLOR_ATTACHMENT_BIT,
                                .format = VK_FORMAT_R8G8B8A8_SRGB,
                                .sampleCount = 1,
                                .width = 640,
                                .height = 360,
                                .faceCount = 1,
                                .arraySize = 2,
                                .mipCount = 1};
    XrSwapchain sc = XR_NULL_HANDLE;
    XrSwapchainCreateInfo c = ci;
    c.format = VK_FORMAT_R32G32B32_SFLOAT;
    EXPECT(XR_ERROR_SWAPCHAIN_FORMAT_UNSUPPORTED, xrCreateSwapchain(s, &c, &sc));
    c = ci;
    c.sampleCount = 4;
    EXPECT(XR_ERROR_FEATURE_UNSUPPORTED, xrCreateSwapchain(s, &c, &sc));
    c = ci;
    c.width = 0;
    EXPECT(XR_ERROR_VALIDATION_FAILURE, xrCreateSwapchain(s, &c, &sc));
    EXPECT(XR_SUCCESS, xrCreateSwapchain(s, &ci, &sc));
    XrSwapchainImageVulkanKHR img[3] = {{.type = XR_TYPE_SWAPCHAIN_IMAGE_VULKAN_KHR},
                                        {.type = XR_TYPE_SWAPCHAIN_IMAGE_OPENGL_KHR},
                                        {.type = XR_TYPE_SWAPCHAIN_IMAGE_VULKAN_KHR}};
    EXPECT(XR_SUCCESS, xrEnumerateSwapchainImages(sc, 0, &n, NULL));
    check(n == 3, "three images (%u)", n);
    EXPECT(XR_ERROR_VALIDATION_FAILURE,
           xrEnumerateSwapchainImages(sc, 3, &n, (XrSwapchainImageBaseHeader *)img));
    XrSwapchainImageWaitInfo wi = {.type = XR_TYPE_SWAPCHAIN_IMAGE_WAIT_INFO,
                                   .timeout = XR_INFINITE_DURATION};
    EXPECT(XR_ERROR_CALL_ORDER_INVALID, xrReleaseSwapchainImage(sc, NULL));
    EXPECT(XR_ERROR_CALL_ORDER_INVALID, xrWaitSwapchainImage(sc, &wi));
    uint32_t index[4];
    for (int i = 0; i < 3; i++) {
        xrAcquireSwapchainImage(sc, NULL, &index[i]);
    }
    check(index[0] == 0 && index[1] == 1 && index[2] == 2, "images are handed out in order");
    EXPECT(XR_ERROR_CALL_ORDER_INVALID, xrAcquireSwapchainImage(sc, NULL, &index[3]));
    EXPECT(XR_SUCCESS, xrWaitSwapchainImage(sc, &wi));
    EXPECT(XR_ERROR_CALL_ORDER_INVALID, xrWaitSwapchainImage(sc, &wi));
    EXPECT(XR_SUCCESS, xrReleaseSwapchainImage(sc, NULL));
    for (int i = 0; i < 2; i++) {
        xrWaitSwapchainImage(sc, &wi);
        xrReleaseSwapchainImage(sc, NULL);
    }
    return sc;
}

static void acquire_release(XrSwapchain sc)
{
    uint32_t i;
    XrSwapchainImageWaitInfo wi = {.type = XR_TYPE_SWAPCHAIN_IMAGE_WAIT_INFO,
                                   .timeout = XR_INFINITE_DURATION};
    xrAcquireSwapchainImage(sc, NULL, &i);
    xrWaitSwapchainImage(sc, &wi);
    xrReleaseSwapchainImage(sc, NULL);
}

/* End the frame begun with @p layer; the result. */
static XrResult end_with(XrSession s, XrTime t, const XrCompositionLayerProjection *layer,
                         XrEnvironmentBlendMode blend)
{
    const XrCompositionLayerBaseHeader *layers[1] = {(const XrCompositionLayerBaseHeader *)layer};
    XrFrameEndInfo ei = {.type = XR_TYPE_FRAME_END_INFO,
                         .displayTime = t,
                         .environmentBlendMode = blend,
                         .layerCount = layer != NULL ? 1 : 0,
                         .layers = layer != NULL ? layers : NULL};
    return xrEndFrame(s, &ei);
}

static void frames(XrInstance inst, XrSession s, XrSpace local, XrSwapchain sc, XrSwapchain fresh,
                   struct player *p)
{
    XrFrameState fs = {.type = XR_TYPE_FRAME_STATE};
    XrCompositionLayerProjectionView pv[2];
    for (int i = 0; i < 2; i++) {
        pv[i] =
            (XrCompositionLayerProjectionView){.type = XR_TYPE_COMPOSITION_LAYER_PROJECTION_VIEW,
                                               .pose = {.orientation = {0, 0, 0, 1}},
                                               .subImage = {.swapchain = sc,
                                                            .imageRect = {{0, 0}, {640, 360}},
                                                            .imageArrayIndex = (uint32_t)i}};
    }
    XrCompositionLayerProjection layer = {
        .type = XR_TYPE_COMPOSITION_LAYER_PROJECTION, .space = local, .viewCount = 2, .views = pv};
    EXPECT(XR_SUCCESS, xrBeginFrame(s, NULL)); /* the frame waited in session_order() */
    EXPECT(XR_ERROR_TIME_INVALID, end_with(s, 0, &layer, XR_ENVIRONMENT_BLEND_MODE_OPAQUE));
    EXPECT(XR_ERROR_ENVIRONMENT_BLEND_MODE_UNSUPPORTED,
           end_with(s, fs.predictedDisplayTime + 1, &layer, XR_ENVIRONMENT_BLEND_MODE_ADDITIVE));
    XrTime t = 1000;
    layer.viewCount = 1;
    EXPECT(XR_ERROR_VALIDATION_FAILURE, end_with(s, t, &layer, XR_ENVIRONMENT_BLEND_MODE_OPAQUE));
    layer.viewCount = 2;
    pv[1].subImage.imageRect.extent.width = 641;
    EXPECT(XR_ERROR_SWAPCHAIN_RECT_INVALID,
           end_with(s, t, &layer, XR_ENVIRONMENT_BLEND_MODE_OPAQUE));
    pv[1].subImage.imageRect.extent.width = 640;
    pv[1].subImage.imageArrayIndex = 2;
    EXPECT(XR_ERROR_VALIDATION_FAILURE, end_with(s, t, &layer, XR_ENVIRONMENT_BLEND_MODE_OPAQUE));
    pv[1].subImage.imageArrayIndex = 1;
    pv[1].subImage.swapchain = fresh;
    EXPECT(XR_ERROR_LAYER_INVALID, end_with(s, t, &layer, XR_ENVIRONMENT_BLEND_MODE_OPAQUE));
    pv[1].subImage.swapchain = (XrSwapchain)(uintptr_t)0x5555;
    EXPECT(XR_ERROR_HANDLE_INVALID, end_with(s, t, &layer, XR_ENVIRONMENT_BLEND_MODE_OPAQUE));
    pv[1].subImage.swapchain = sc;
    pv[1].pose.orientation.w = 0.0f;
    EXPECT(XR_ERROR_POSE_INVALID, end_with(s, t, &layer, XR_ENVIRONMENT_BLEND_MODE_OPAQUE));
    pv[1].pose.orientation.w = 1.0f;
    const XrCompositionLayerBaseHeader *many[17];
    for (int i = 0; i < 17; i++) {
        many[i] = (const XrCompositionLayerBaseHeader *)&layer;
    }
    XrFrameEndInfo ei = {.type = XR_TYPE_FRAME_END_INFO,
                         .displayTime = t,
                         .environmentBlendMode = XR_ENVIRONMENT_BLEND_MODE_OPAQUE,
                         .layerCount = 17,
                         .layers = many};
    EXPECT(XR_ERROR_LAYER_LIMIT_EXCEEDED, xrEndFrame(s, &ei));
    EXPECT(XR_SUCCESS, end_with(s, t, &layer, XR_ENVIRONMENT_BLEND_MODE_OPAQUE));

    /* A stream of valid frames (one swapchain, the eyes in its two layers) reaches the player. */
    for (int i = 0; i < 20; i++) {
        xrWaitFrame(s, NULL, &fs);
        xrBeginFrame(s, NULL);
        acquire_release(sc);
        end_with(s, fs.predictedDisplayTime, &layer, XR_ENVIRONMENT_BLEND_MODE_OPAQUE);
    }
    for (int i = 0; i < 100 && atomic_load(&p->frames) < 10; i++) {
        sleep_ms(20);
    }
    check(atomic_load(&p->frames) >= 10, "the player decodes the frames (%u)",
          atomic_load(&p->frames));
    xrWaitFrame(s, NULL, &fs);
    EXPECT(XR_SUCCESS, xrBeginFrame(s, NULL));
    xrWaitFrame(s, NULL, &fs);
    EXPECT(XR_FRAME_DISCARDED, xrBeginFrame(s, NULL));
    EXPECT(XR_SUCCESS,
           end_with(s, fs.predictedDisplayTime, NULL, XR_ENVIRONMENT_BLEND_MODE_OPAQUE));
    (void)inst;
}

static void spaces(XrSession s, XrSpace *out_local, XrSpace *out_view)
{
    XrReferenceSpaceCreateInfo ci = {.type = XR_TYPE_REFERENCE_SPACE_CREATE_INFO,
                                     .referenceSpaceType = XR_REFERENCE_SPACE_TYPE_UNBOUNDED_MSFT,
                                     .poseInReferenceSpace = {.orientation = {0, 0, 0, 1}}};
    XrSpace sp = XR_NULL_HANDLE;
    EXPECT(XR_ERROR_REFERENCE_SPACE_UNSUPPORTED, xrCreateReferenceSpace(s, &ci, &sp));
    ci.referenceSpaceType = XR_REFERENCE_SPACE_TYPE_LOCAL;
    ci.poseInReferenceSpace.orientation.w = 0.0f;
    EXPECT(XR_ERROR_POSE_INVALID, xrCreateReferenceSpace(s, &ci, &sp));
    ci.poseInReferenceSpace.orientation.w = 1.0f;
    EXPECT(XR_SUCCESS, xrCreateReferenceSpace(s, &ci, out_local));
    ci.referenceSpaceType = XR_REFERENCE_SPACE_TYPE_VIEW;
    EXPECT(XR_SUCCESS, xrCreateReferenceSpace(s, &ci, out_view));
}

static void locate(XrSession s, XrSpace local, XrSpace view, XrTime t, const struct player *p)
{
    XrSpaceLocation loc = {.type = XR_TYPE_SPACE_LOCATION};
    EXPECT(XR_ERROR_TIME_INVALID, xrLocateSpace(view, local, 0, &loc));
    EXPECT(XR_SUCCESS, xrLocateSpace(view, local, t, &loc));
    /* LOCAL is the player's space raised 1.6 m. */
    float dx = loc.pose.position.x - p->head[0], dy = loc.pose.position.y - (p->head[1] - 1.6f),
          dz = loc.pose.position.z - p->head[2];
    check((loc.locationFlags & XR_SPACE_LOCATION_POSITION_VALID_BIT) &&
              sqrtf(dx * dx + dy * dy + dz * dz) < 0.01f,
          "VIEW in LOCAL is the player's head (%.3f %.3f %.3f)", loc.pose.position.x,
          loc.pose.position.y, loc.pose.position.z);
    XrViewLocateInfo vi = {.type = XR_TYPE_VIEW_LOCATE_INFO,
                           .viewConfigurationType = XR_VIEW_CONFIGURATION_TYPE_PRIMARY_STEREO,
                           .displayTime = t,
                           .space = view};
    XrViewState vs = {.type = XR_TYPE_VIEW_STATE};
    XrView v[2] = {{.type = XR_TYPE_VIEW}, {.type = XR_TYPE_VIEW}};
    uint32_t n = 0;
    EXPECT(XR_ERROR_SIZE_INSUFFICIENT, xrLocateViews(s, &vi, &vs, 1, &n, v));
    EXPECT(XR_SUCCESS, xrLocateViews(s, &vi, &vs, 2, &n, v));
    check(fabsf(v[0].pose.position.x + 0.032f) < 0.005f &&
              fabsf(v[1].pose.position.x - 0.032f) < 0.005f &&
              fabsf(v[0].fov.angleLeft + 0.7854f) < 0.001f,
          "the views are the player's eyes and fields of view");
    vi.space = (XrSpace)(uintptr_t)0x4242;
    EXPECT(XR_ERROR_HANDLE_INVALID, xrLocateViews(s, &vi, &vs, 2, &n, v));
}

static void actions(XrInstance inst, XrSession s)
{
    XrActionSetCreateInfo si = {.type = XR_TYPE_ACTION_SET_CREATE_INFO,
                                .actionSetName = "Bad Name",
                                .localizedActionSetName = "set"};
    XrActionSet set = XR_NULL_HANDLE, other = XR_NULL_HANDLE;
    EXPECT(XR_ERROR_NAME_INVALID, xrCreateActionSet(inst, &si, &set));
    snprintf(si.actionSetName, sizeof si.actionSetName, "gameplay");
    EXPECT(XR_SUCCESS, xrCreateActionSet(inst, &si, &set));
    EXPECT(XR_ERROR_NAME_DUPLICATED, xrCreateActionSet(inst, &si, &other));
    XrPath left, head, bogus, simple, select;
    xrStringToPath(inst, "/user/hand/left", &left);
    xrStringToPath(inst, "/user/head", &head);
    xrStringToPath(inst, "/user/hand/left/input", &bogus);
    xrStringToPath(inst, "/interaction_profiles/khr/simple_controller", &simple);
    xrStringToPath(inst, "/user/hand/left/input/select/click", &select);
    XrActionCreateInfo ai = {.type = XR_TYPE_ACTION_CREATE_INFO,
                             .actionName = "grab",
                             .actionType = XR_ACTION_TYPE_BOOLEAN_INPUT,
                             .countSubactionPaths = 1,
                             .subactionPaths = &bogus,
                             .localizedActionName = "Grab"};
    XrAction grab = XR_NULL_HANDLE;
    EXPECT(XR_ERROR_PATH_UNSUPPORTED, xrCreateAction(set, &ai, &grab));
    ai.subactionPaths = &left;
    EXPECT(XR_SUCCESS, xrCreateAction(set, &ai, &grab));
    XrActionSuggestedBinding b = {grab, select};
    XrInteractionProfileSuggestedBinding sb = {.type =
                                                   XR_TYPE_INTERACTION_PROFILE_SUGGESTED_BINDING,
                                               .interactionProfile = left,
                                               .countSuggestedBindings = 1,
                                               .suggestedBindings = &b};
    EXPECT(XR_ERROR_PATH_UNSUPPORTED, xrSuggestInteractionProfileBindings(inst, &sb));
    sb.interactionProfile = simple;
    EXPECT(XR_SUCCESS, xrSuggestInteractionProfileBindings(inst, &sb));
    XrActionStateGetInfo gi = {.type = XR_TYPE_ACTION_STATE_GET_INFO, .action = grab};
    XrActionStateBoolean st = {.type = XR_TYPE_ACTION_STATE_BOOLEAN};
    EXPECT(XR_ERROR_ACTIONSET_NOT_ATTACHED, xrGetActionStateBoolean(s, &gi, &st));
    XrSessionActionSetsAttachInfo at = {
        .type = XR_TYPE_SESSION_ACTION_SETS_ATTACH_INFO, .countActionSets = 1, .actionSets = &set};
    EXPECT(XR_SUCCESS, xrAttachSessionActionSets(s, &at));
    EXPECT(XR_ERROR_ACTIONSETS_ALREADY_ATTACHED, xrAttachSessionActionSets(s, &at));
    snprintf(ai.actionName, sizeof ai.actionName, "late");
    snprintf(ai.localizedActionName, sizeof ai.localizedActionName, "Late");
    XrAction late = XR_NULL_HANDLE;
    EXPECT(XR_ERROR_ACTIONSETS_ALREADY_ATTACHED, xrCreateAction(set, &ai, &late));
    EXPECT(XR_SUCCESS, xrGetActionStateBoolean(s, &gi, &st));
    check(!st.isActive, "without controllers an action is inactive");
    gi.subactionPath = head;
    EXPECT(XR_ERROR_PATH_UNSUPPORTED, xrGetActionStateBoolean(s, &gi, &st));
    XrActiveActionSet active = {set, XR_NULL_PATH};
    XrActionsSyncInfo sync = {
        .type = XR_TYPE_ACTIONS_SYNC_INFO, .countActiveActionSets = 1, .activeActionSets = &active};
    EXPECT(XR_SUCCESS, xrSyncActions(s, &sync));
}

/* ---- XR_MSFT_holographic_remoting -------------------------------------------------------------
 */

enum cb_mode { CB_GOOD, CB_FAIL, CB_ALWAYS_SMALL };

struct cb_test {
    enum cb_mode token_mode, validate_mode, cert_mode;
    const char *token;
    atomic_uint token_calls, validate_calls, cert_calls;
};

static XrResult XRAPI_CALL cb_token(XrRemotingAuthenticationTokenRequestMSFT *r)
{
    struct cb_test *t = r->context;
    atomic_fetch_add(&t->token_calls, 1);
    uint32_t need = (uint32_t)strlen(t->token) + 1;
    if (t->token_mode == CB_FAIL) {
        return XR_ERROR_RUNTIME_FAILURE;
    }
    if (t->token_mode == CB_ALWAYS_SMALL) {
        r->tokenSizeOut = r->tokenCapacityIn + 1;
        return XR_ERROR_SIZE_INSUFFICIENT;
    }
    r->tokenSizeOut = need;
    if (r->tokenCapacityIn < need) {
        return XR_ERROR_SIZE_INSUFFICIENT;
    }
    memcpy(r->tokenBuffer, t->token, need);
    return XR_SUCCESS;
}

static XrResult XRAPI_CALL cb_validate(XrRemotingServerCertificateValidationMSFT *v)
{
    struct cb_test *t = v->context;
    atomic_fetch_add(&t->validate_calls, 1);
    if (t->validate_mode == CB_FAIL || v->systemValidationResult == NULL) {
        return XR_ERROR_RUNTIME_FAILURE;
    }
    v->validationResultOut = *v->systemValidationResult;
    return XR_SUCCESS;
}

static XrResult XRAPI_CALL cb_certificate(XrRemotingServerCertificateRequestMSFT *r)
{
    struct cb_test *t = r->context;
    atomic_fetch_add(&t->cert_calls, 1);
    if (t->cert_mode == CB_FAIL) {
        return XR_ERROR_RUNTIME_FAILURE;
    }
    r->certStoreSizeOut = r->certStoreCapacityIn + 1;
    r->keyPassphraseSizeOut = 1;
    r->subjectNameSizeOut = 1;
    return XR_ERROR_SIZE_INSUFFICIENT;
}

static XrResult XRAPI_CALL cb_token_valid(XrRemotingAuthenticationTokenValidationMSFT *v)
{
    v->tokenValidOut = XR_TRUE;
    return XR_SUCCESS;
}

/* Whether a timestamp-conversion-ready event went by (it may come while waiting for another). */
static bool g_timestamps_ready;

/* Poll until an event of @p type (others dropped); false after @p ms. */
static bool wait_event(XrInstance inst, XrStructureType type, unsigned ms, XrEventDataBuffer *out)
{
    for (unsigned waited = 0; waited <= ms; waited += 10) {
        XrEventDataBuffer ev = {.type = XR_TYPE_EVENT_DATA_BUFFER};
        while (xrPollEvent(inst, &ev) == XR_SUCCESS) {
            g_timestamps_ready |=
                ev.type == XR_TYPE_EVENT_DATA_REMOTING_TIMESTAMP_CONVERSION_READY_MSFT;
            if (ev.type == type) {
                if (out != NULL) {
                    *out = ev;
                }
                return true;
            }
            ev.type = XR_TYPE_EVENT_DATA_BUFFER;
        }
        sleep_ms(10);
    }
    return false;
}

/* The reason of the next Disconnected event, or -1. */
static int next_disconnect(XrInstance inst)
{
    XrEventDataBuffer ev;
    if (!wait_event(inst, XR_TYPE_REMOTING_EVENT_DATA_DISCONNECTED_MSFT, 10000, &ev)) {
        return -1;
    }
    return (int)((XrRemotingEventDataDisconnectedMSFT *)&ev)->disconnectReason;
}

struct rm {
    PFN_xrRemotingSetContextPropertiesMSFT props;
    PFN_xrRemotingConnectMSFT connect;
    PFN_xrRemotingListenMSFT listen;
    PFN_xrRemotingDisconnectMSFT disconnect;
    PFN_xrRemotingGetConnectionStateMSFT state;
    PFN_xrRemotingSetSecureConnectionClientCallbacksMSFT client;
    PFN_xrRemotingSetSecureConnectionServerCallbacksMSFT server;
    PFN_xrCreateRemotingDataChannelMSFT create;
    PFN_xrDestroyRemotingDataChannelMSFT destroy;
    PFN_xrGetRemotingDataChannelStateMSFT channel_state;
    PFN_xrSendRemotingDataMSFT send;
    PFN_xrRetrieveRemotingDataMSFT retrieve;
    PFN_xrConvertTimestampPlayerToRemoteMSFT p2r;
    PFN_xrConvertTimestampRemoteToPlayerMSFT r2p;
};

static void load_remoting(XrInstance inst, struct rm *rm)
{
    rm->props =
        (PFN_xrRemotingSetContextPropertiesMSFT)fn(inst, "xrRemotingSetContextPropertiesMSFT");
    rm->connect = (PFN_xrRemotingConnectMSFT)fn(inst, "xrRemotingConnectMSFT");
    rm->listen = (PFN_xrRemotingListenMSFT)fn(inst, "xrRemotingListenMSFT");
    rm->disconnect = (PFN_xrRemotingDisconnectMSFT)fn(inst, "xrRemotingDisconnectMSFT");
    rm->state = (PFN_xrRemotingGetConnectionStateMSFT)fn(inst, "xrRemotingGetConnectionStateMSFT");
    rm->client = (PFN_xrRemotingSetSecureConnectionClientCallbacksMSFT)fn(
        inst, "xrRemotingSetSecureConnectionClientCallbacksMSFT");
    rm->server = (PFN_xrRemotingSetSecureConnectionServerCallbacksMSFT)fn(
        inst, "xrRemotingSetSecureConnectionServerCallbacksMSFT");
    rm->create = (PFN_xrCreateRemotingDataChannelMSFT)fn(inst, "xrCreateRemotingDataChannelMSFT");
    rm->destroy =
        (PFN_xrDestroyRemotingDataChannelMSFT)fn(inst, "xrDestroyRemotingDataChannelMSFT");
    rm->channel_state =
        (PFN_xrGetRemotingDataChannelStateMSFT)fn(inst, "xrGetRemotingDataChannelStateMSFT");
    rm->send = (PFN_xrSendRemotingDataMSFT)fn(inst, "xrSendRemotingDataMSFT");
    rm->retrieve = (PFN_xrRetrieveRemotingDataMSFT)fn(inst, "xrRetrieveRemotingDataMSFT");
    rm->p2r =
        (PFN_xrConvertTimestampPlayerToRemoteMSFT)fn(inst, "xrConvertTimestampPlayerToRemoteMSFT");
    rm->r2p =
        (PFN_xrConvertTimestampRemoteToPlayerMSFT)fn(inst, "xrConvertTimestampRemoteToPlayerMSFT");
}

static void remoting_plain(XrInstance inst, const struct rm *rm, struct player *p)
{
    XrRemotingConnectionStateMSFT st;
    XrRemotingDisconnectReasonMSFT why;
    XrTime t;
    EXPECT(XR_SUCCESS, rm->state(inst, 1, &st, NULL));
    check(st == XR_REMOTING_CONNECTION_STATE_DISCONNECTED_MSFT, "disconnected at first");
    EXPECT(XR_ERROR_SYSTEM_INVALID, rm->state(inst, 7, &st, &why));
    EXPECT(XR_ERROR_REMOTING_TIMESTAMP_CONVERSION_NOT_READY_MSFT, rm->r2p(inst, 1, 1000, &t));
    XrRemotingDataChannelCreateInfoMSFT ci = {
        .type = XR_TYPE_REMOTING_DATA_CHANNEL_CREATE_INFO_MSFT, .channelId = 5};
    XrRemotingDataChannelMSFT ch = XR_NULL_HANDLE, other = XR_NULL_HANDLE;
    EXPECT(XR_ERROR_REMOTING_NOT_CONNECTED_MSFT, rm->create(inst, 1, &ci, &ch));
    XrRemotingRemoteContextPropertiesMSFT props = {.type = XR_TYPE_REMOTING_CONNECT_INFO_MSFT};
    EXPECT(XR_ERROR_VALIDATION_FAILURE, rm->props(inst, 1, &props));
    props.type = XR_TYPE_REMOTING_REMOTE_CONTEXT_PROPERTIES_MSFT;
    props.enableAudio = XR_TRUE;
    EXPECT(XR_ERROR_FEATURE_UNSUPPORTED, rm->props(inst, 1, &props));
    props.enableAudio = XR_FALSE;
    props.videoCodec = XR_REMOTING_VIDEO_CODEC_H264_MSFT;
    props.maxBitrateKbps = 8000;
    EXPECT(XR_SUCCESS, rm->props(inst, 1, &props));
    XrRemotingConnectInfoMSFT conn = {.type = XR_TYPE_REMOTING_CONNECT_INFO_MSFT,
                                      .remoteHostName = "127.0.0.1",
                                      .secureConnection = XR_TRUE};
    EXPECT(XR_ERROR_REMOTING_CALLBACK_ERROR_MSFT, rm->connect(inst, 1, &conn));
    XrRemotingListenInfoMSFT li = {.type = XR_TYPE_REMOTING_LISTEN_INFO_MSFT,
                                   .listenInterface = "127.0.0.1",
                                   .secureConnection = XR_TRUE};
    EXPECT(XR_ERROR_REMOTING_CALLBACK_ERROR_MSFT, rm->listen(inst, 1, &li));

    conn.remotePort = player_listen(p, NULL);
    conn.secureConnection = XR_FALSE;
    EXPECT(XR_SUCCESS, rm->connect(inst, 1, &conn));
    EXPECT(XR_ERROR_REMOTING_NOT_DISCONNECTED_MSFT, rm->connect(inst, 1, &conn));
    li.secureConnection = XR_FALSE;
    EXPECT(XR_ERROR_REMOTING_NOT_DISCONNECTED_MSFT, rm->listen(inst, 1, &li));
    EXPECT(XR_ERROR_REMOTING_NOT_DISCONNECTED_MSFT, rm->props(inst, 1, &props));
    XrRemotingSecureConnectionClientCallbacksMSFT cc = {
        .type = XR_TYPE_REMOTING_SECURE_CONNECTION_CLIENT_CALLBACKS_MSFT,
        .requestAuthenticationTokenCallback = cb_token};
    EXPECT(XR_ERROR_REMOTING_NOT_DISCONNECTED_MSFT, rm->client(inst, 1, &cc));
    check(wait_event(inst, XR_TYPE_REMOTING_EVENT_DATA_CONNECTED_MSFT, 10000, NULL),
          "the Connected event arrives");
    rm->state(inst, 1, &st, NULL);
    check(st == XR_REMOTING_CONNECTION_STATE_CONNECTED_MSFT, "the state says connected");

    ci.channelId = 64;
    EXPECT(XR_ERROR_REMOTING_DATA_CHANNEL_INVALID_ID_MSFT, rm->create(inst, 1, &ci, &ch));
    ci.channelId = 5;
    EXPECT(XR_SUCCESS, rm->create(inst, 1, &ci, &ch));
    EXPECT(XR_ERROR_REMOTING_DATA_CHANNEL_ID_IN_USE_MSFT, rm->create(inst, 1, &ci, &other));
    XrEventDataBuffer ev;
    check(wait_event(inst, XR_TYPE_EVENT_DATA_REMOTING_DATA_CHANNEL_OPENED_MSFT, 5000, &ev) &&
              ((XrEventDataRemotingDataChannelOpenedMSFT *)&ev)->channel == ch,
          "the Opened event names the channel");
    XrRemotingDataChannelStateMSFT cs = {.type = XR_TYPE_REMOTING_DATA_CHANNEL_STATE_MSFT};
    EXPECT(XR_SUCCESS, rm->channel_state(ch, &cs));
    check(cs.connectionStatus == XR_REMOTING_DATA_CHANNEL_STATUS_OPENED_MSFT,
          "its state is OPENED");
    const uint8_t ping[] = "ping";
    XrRemotingDataChannelSendDataInfoMSFT si = {
        .type = XR_TYPE_REMOTING_DATA_CHANNEL_SEND_DATA_INFO_MSFT,
        .data = ping,
        .size = sizeof ping,
        .guaranteedDelivery = XR_TRUE};
    EXPECT(XR_SUCCESS, rm->send(ch, &si));
    bool got =
        wait_event(inst, XR_TYPE_EVENT_DATA_REMOTING_DATA_CHANNEL_DATA_RECEIVED_MSFT, 5000, &ev);
    XrEventDataRemotingDataChannelDataReceivedMSFT *dr = (void *)&ev;
    check(got && dr->channel == ch && dr->size == sizeof ping, "the player's echo arrives");
    uint32_t n = 0;
    uint8_t buf[16];
    EXPECT(XR_SUCCESS, rm->retrieve(ch, dr->packetId, 0, &n, NULL));
    check(n == sizeof ping, "retrieve: the first call gives the size (%u)", n);
    EXPECT(XR_ERROR_SIZE_INSUFFICIENT, rm->retrieve(ch, dr->packetId, 2, &n, buf));
    EXPECT(XR_SUCCESS, rm->retrieve(ch, dr->packetId, sizeof buf, &n, buf));
    check(memcmp(buf, ping, sizeof ping) == 0, "retrieve: the bytes sent come back");
    EXPECT(XR_ERROR_REMOTING_DATA_CHANNEL_PACKET_EXPIRED_MSFT,
           rm->retrieve(ch, dr->packetId, sizeof buf, &n, buf));

    check(g_timestamps_ready ||
              wait_event(inst, XR_TYPE_EVENT_DATA_REMOTING_TIMESTAMP_CONVERSION_READY_MSFT, 5000,
                         NULL),
          "timestamp conversion becomes ready");
    XrTime now = 5000000000000, player = 0, back = 0;
    EXPECT(XR_SUCCESS, rm->r2p(inst, 1, now, &player));
    EXPECT(XR_SUCCESS, rm->p2r(inst, 1, player, &back));
    check(llabs((long long)(back - now)) < 2000,
          "remote → player → remote is the identity (%lld ns)", (long long)(back - now));
    EXPECT(XR_ERROR_TIME_INVALID, rm->p2r(inst, 1, 0, &back));

    XrRemotingDisconnectInfoMSFT di = {.type = XR_TYPE_REMOTING_DISCONNECT_INFO_MSFT};
    EXPECT(XR_SUCCESS, rm->disconnect(inst, 1, &di));
    /* Disconnected and the channel's Closed event, in either order. */
    bool closed = false, disconnected = false;
    for (int i = 0; i < 500 && !(closed && disconnected); i++) {
        ev.type = XR_TYPE_EVENT_DATA_BUFFER;
        while (xrPollEvent(inst, &ev) == XR_SUCCESS) {
            closed |= ev.type == XR_TYPE_EVENT_DATA_REMOTING_DATA_CHANNEL_CLOSED_MSFT;
            disconnected |= ev.type == XR_TYPE_REMOTING_EVENT_DATA_DISCONNECTED_MSFT &&
                            ((XrRemotingEventDataDisconnectedMSFT *)&ev)->disconnectReason ==
                                XR_REMOTING_DISCONNECT_REASON_DISCONNECT_REQUEST_MSFT;
            ev.type = XR_TYPE_EVENT_DATA_BUFFER;
        }
        sleep_ms(10);
    }
    check(disconnected && closed, "disconnect: DisconnectRequest and the channel's Closed event");
    EXPECT(XR_ERROR_REMOTING_DATA_CHANNEL_CLOSED_MSFT, rm->send(ch, &si));
    rm->channel_state(ch, &cs);
    check(cs.connectionStatus == XR_REMOTING_DATA_CHANNEL_STATUS_CLOSED_MSFT,
          "a closed channel's handle stays valid and says CLOSED");
    EXPECT(XR_SUCCESS, rm->destroy(ch));
    EXPECT(XR_ERROR_HANDLE_INVALID, rm->destroy(ch));
    rm->state(inst, 1, &st, &why);
    check(st == XR_REMOTING_CONNECTION_STATE_DISCONNECTED_MSFT &&
              why == XR_REMOTING_DISCONNECT_REASON_DISCONNECT_REQUEST_MSFT,
          "the state keeps the last reason (%d)", (int)why);
}

static void remoting_secure(XrInstance inst, const struct rm *rm, struct player *p)
{
    static char long_token[301];
    memset(long_token, 'k', sizeof long_token - 1);
    struct cb_test t = {.token = long_token};
    XrRemotingSecureConnectionClientCallbacksMSFT cc = {
        .type = XR_TYPE_REMOTING_SECURE_CONNECTION_CLIENT_CALLBACKS_MSFT,
        .context = &t,
        .requestAuthenticationTokenCallback = cb_token,
        .validateServerCertificateCallback = cb_validate,
        .performSystemValidation = XR_TRUE};
    XrRemotingConnectInfoMSFT conn = {.type = XR_TYPE_REMOTING_CONNECT_INFO_MSFT,
                                      .remoteHostName = "localhost",
                                      .remotePort = player_listen(p, long_token),
                                      .secureConnection = XR_TRUE};
    /* Each failure cancels the attempt; the player goes on listening. */
    t.validate_mode = CB_FAIL;
    EXPECT(XR_SUCCESS, rm->client(inst, 1, &cc));
    EXPECT(XR_SUCCESS, rm->connect(inst, 1, &conn));
    int reason = next_disconnect(inst);
    check(reason == XR_REMOTING_DISCONNECT_REASON_CANCELED_MSFT,
          "a failing certificate callback cancels the attempt (reason %d)", reason);
    t.validate_mode = CB_GOOD;
    t.token_mode = CB_FAIL;
    EXPECT(XR_SUCCESS, rm->connect(inst, 1, &conn));
    reason = next_disconnect(inst);
    check(reason == XR_REMOTING_DISCONNECT_REASON_CANCELED_MSFT,
          "a failing token callback cancels the attempt (reason %d)", reason);
    t.token_mode = CB_ALWAYS_SMALL;
    atomic_store(&t.token_calls, 0);
    EXPECT(XR_SUCCESS, rm->connect(inst, 1, &conn));
    reason = next_disconnect(inst);
    check(reason == XR_REMOTING_DISCONNECT_REASON_CANCELED_MSFT && atomic_load(&t.token_calls) == 2,
          "a token callback still too small after one retry cancels (reason %d, %u calls)", reason,
          atomic_load(&t.token_calls));
    t.token_mode = CB_GOOD;
    atomic_store(&t.token_calls, 0);
    atomic_store(&t.validate_calls, 0);
    EXPECT(XR_SUCCESS, rm->connect(inst, 1, &conn));
    check(
        wait_event(inst, XR_TYPE_REMOTING_EVENT_DATA_CONNECTED_MSFT, 10000, NULL) &&
            atomic_load(&t.token_calls) == 2 && atomic_load(&t.validate_calls) == 1,
        "a 300-byte token after one XR_ERROR_SIZE_INSUFFICIENT connects (%u token, %u chain calls)",
        atomic_load(&t.token_calls), atomic_load(&t.validate_calls));
    XrRemotingDisconnectInfoMSFT di = {.type = XR_TYPE_REMOTING_DISCONNECT_INFO_MSFT};
    rm->disconnect(inst, 1, &di);
    next_disconnect(inst);

    XrRemotingSecureConnectionServerCallbacksMSFT sc = {
        .type = XR_TYPE_REMOTING_SECURE_CONNECTION_SERVER_CALLBACKS_MSFT,
        .context = &t,
        .requestServerCertificateCallback = cb_certificate,
        .validateAuthenticationTokenCallback = cb_token_valid};
    XrRemotingListenInfoMSFT li = {.type = XR_TYPE_REMOTING_LISTEN_INFO_MSFT,
                                   .listenInterface = "127.0.0.1",
                                   .secureConnection = XR_TRUE};
    t.cert_mode = CB_FAIL;
    EXPECT(XR_SUCCESS, rm->server(inst, 1, &sc));
    EXPECT(XR_SUCCESS, rm->listen(inst, 1, &li));
    reason = next_disconnect(inst);
    check(reason == XR_REMOTING_DISCONNECT_REASON_NO_SERVER_CERTIFICATE_MSFT,
          "a failing certificate request ends the listen with NoServerCertificate (%d)", reason);
    t.cert_mode = CB_ALWAYS_SMALL;
    atomic_store(&t.cert_calls, 0);
    EXPECT(XR_SUCCESS, rm->listen(inst, 1, &li));
    reason = next_disconnect(inst);
    check(reason == XR_REMOTING_DISCONNECT_REASON_NO_SERVER_CERTIFICATE_MSFT &&
              atomic_load(&t.cert_calls) == 2,
          "a certificate request too small after one retry: NoServerCertificate (%d, %u calls)",
          reason, atomic_load(&t.cert_calls));
}

static void remoting(struct player *p)
{
    const char *pki = getenv("RR_PKI_DIR");
    char path[4096];
    if (pki != NULL) {
        snprintf(path, sizeof path, "%s/ca.pem", pki);
        setenv("OPENRR_CAFILE", path, 1); /* the trust anchor of the player's certificate */
    }
    XrInstance inst = make_instance(XR_MSFT_HOLOGRAPHIC_REMOTING_EXTENSION_NAME);
    check(inst != XR_NULL_HANDLE, "an instance with XR_MSFT_holographic_remoting");
    if (inst == XR_NULL_HANDLE) {
        return;
    }
    struct rm rm;
    load_remoting(inst, &rm);
    remoting_plain(inst, &rm, p);
    snprintf(path, sizeof path, "%s/good.p12", pki != NULL ? pki : ".");
    FILE *f = pki != NULL ? fopen(path, "rb") : NULL;
    if (f != NULL) {
        p->store = malloc(65536);
        p->store_size = p->store != NULL ? fread(p->store, 1, 65536, f) : 0;
        fclose(f);
        remoting_secure(inst, &rm, p);
    } else {
        printf("# secure callbacks skipped: RR_PKI_DIR/good.p12 is not there\n");
    }
    EXPECT(XR_SUCCESS, xrDestroyInstance(inst));
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s LIBOPENRR_OPENXR.so\n", argv[0]);
        return 64;
    }
    void *lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (lib == NULL) {
        printf("not ok - dlopen %s: %s\n", argv[1], dlerror());
        return 1;
    }
    negotiation(lib);
    instance_creation();
    configuration();

    struct player p;
    if (player_start(&p) != 0) {
        printf("not ok - the in-process player does not listen\n");
        return 1;
    }
    char addr[64];
    snprintf(addr, sizeof addr, "127.0.0.1:%u", (unsigned)atomic_load(&p.port));
    setenv("OPENRR_CONNECT", addr, 1);
    setenv("OPENRR_EYE_SIZE", "640x360", 1);

    XrInstance inst = make_instance(XR_KHR_VULKAN_ENABLE2_EXTENSION_NAME);
    check(inst != XR_NULL_HANDLE, "an instance with XR_KHR_vulkan_enable2");
    if (inst == XR_NULL_HANDLE) {
        return 1;
    }
    load_functions(inst);
    instance_calls(inst);

    XrSessionCreateInfo sci = {.type = XR_TYPE_SESSION_CREATE_INFO, .systemId = 1};
    XrSession s = XR_NULL_HANDLE;
    EXPECT(XR_ERROR_GRAPHICS_DEVICE_INVALID, xrCreateSession(inst, &sci, &s));
    /* Static and never destroyed: destroying the instance unloads Mesa's driver, whose
     * one-time initialisation then shows as a leak (in an unnamed module, which no LeakSanitizer
     * suppression can match). Kept, its memory stays reachable until exit. */
    static struct vk vk;
    if (!vulkan(inst, &vk)) {
        printf("not ok - no Vulkan device (is lavapipe installed?)\n");
        return 1;
    }
    XrGraphicsBindingVulkan2KHR bind = {.type = XR_TYPE_GRAPHICS_BINDING_VULKAN2_KHR,
                                        .instance = vk.instance,
                                        .physicalDevice = vk.physical,
                                        .device = vk.device,
                                        .queueFamilyIndex = vk.family};
    sci.next = &bind;
    EXPECT(XR_SUCCESS, xrCreateSession(inst, &sci, &s));
    check(wait_state(inst, XR_SESSION_STATE_READY, 100), "the connected session is READY");
    XrSession second = XR_NULL_HANDLE;
    EXPECT(XR_ERROR_LIMIT_REACHED, xrCreateSession(inst, &sci, &second));
    EXPECT(XR_ERROR_HANDLE_INVALID, xrBeginSession((XrSession)(uintptr_t)0x99, NULL));

    XrSpace local, view;
    spaces(s, &local, &view);
    session_order(inst, s);
    XrSwapchain sc = swapchains(s);
    XrSwapchainCreateInfo fresh_ci = {.type = XR_TYPE_SWAPCHAIN_CREATE_INFO,
                                      .usageFlags = XR_SWAPCHAIN_USAGE_COLOR_ATTACHMENT_BIT,
                                      .format = VK_FORMAT_R8G8B8A8_UNORM,
                                      .sampleCount = 1,
                                      .width = 320,
                                      .height = 180,
                                      .faceCount = 1,
                                      .arraySize = 1,
                                      .mipCount = 1};
    XrSwapchain fresh = XR_NULL_HANDLE;
    xrCreateSwapchain(s, &fresh_ci, &fresh);
    frames(inst, s, local, sc, fresh, &p);
    XrFrameState fs = {.type = XR_TYPE_FRAME_STATE};
    xrWaitFrame(s, NULL, &fs);
    locate(s, local, view, fs.predictedDisplayTime, &p);
    actions(inst, s);

    /* The player leaves between xrBeginFrame and xrEndFrame. */
    EXPECT(XR_SUCCESS, xrBeginFrame(s, NULL));
    rr_context_disconnect(p.ctx);
    check(wait_state(inst, XR_SESSION_STATE_LOSS_PENDING, 5000),
          "the player leaving mid-frame: LOSS_PENDING");
    EXPECT(XR_SESSION_LOSS_PENDING,
           end_with(s, fs.predictedDisplayTime, NULL, XR_ENVIRONMENT_BLEND_MODE_OPAQUE));
    EXPECT(XR_SUCCESS, xrDestroySession(s));
    EXPECT(XR_ERROR_HANDLE_INVALID, xrBeginFrame(s, NULL));
    EXPECT(XR_ERROR_HANDLE_INVALID, xrAcquireSwapchainImage(sc, NULL, &(uint32_t){0}));
    EXPECT(XR_ERROR_HANDLE_INVALID, xrDestroySpace(local));

    EXPECT(XR_SUCCESS, xrDestroyInstance(inst));
    EXPECT(XR_ERROR_HANDLE_INVALID,
           xrPollEvent(inst, &(XrEventDataBuffer){.type = XR_TYPE_EVENT_DATA_BUFFER}));
    remoting(&p);
    player_stop(&p);
    printf("%d passed, %d failed\n", g_passed, g_failed);
    return g_failed == 0 ? 0 : 1;
}
