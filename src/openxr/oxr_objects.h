/* SPDX-License-Identifier: Apache-2.0 */
/*
 * oxr_objects — the runtime's objects behind the OpenXR handles and the helpers the API files
 * share. OpenRR's OpenXR runtime is the *remote* end of a stream: it offers a head-mounted
 * stereo system whose head is the player's (poses from libopenrr_stream), whose frame clock is
 * the player's display rate, and whose display is the player's screen (projection layers
 * encoded and streamed). DESIGN §11, docs/openxr.md.
 *
 * Threads: OpenXR calls arrive on any application thread; each object says what guards it.
 * Objects are reached only through the handle table (oxr_handle.h).
 */
#ifndef OXR_OBJECTS_H
#define OXR_OBJECTS_H

#define XR_USE_GRAPHICS_API_VULKAN 1
#define XR_USE_TIMESPEC 1
#include <time.h>
#include <vulkan/vulkan.h>
#include <openxr/openxr.h>
#include <openxr/openxr_platform.h>
#include <openxr/openxr_msft_holographic_remoting.h>

#include "oxr_compose.h"
#include "oxr_config.h"
#include "oxr_conn.h"
#include "oxr_event.h"
#include "oxr_handle.h"
#include "oxr_path.h"
#include "oxr_stats.h"
#include "oxr_vk.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#define OXR_LOG "openxr"
#define OXR_RUNTIME_NAME "OpenRR Remoting"
#define OXR_SYSTEM_ID ((XrSystemId)1)
#define OXR_VIEW_COUNT 2
#define OXR_MAX_LAYERS 16
#define OXR_SWAPCHAIN_IMAGES 3
#define OXR_MAX_SWAPCHAIN_SIZE 4096
#define OXR_MAX_SUBACTIONS 8
#define OXR_FRAME_SLOTS 8
/* Eye separation and field of view until the player's first pose says otherwise (the player
 * uses the same numbers). */
#define OXR_DEFAULT_IPD 0.063f
#define OXR_DEFAULT_HALF_FOV_X 0.785398163f /* 45° */
/* Where LOCAL's origin sits in STAGE (the player's space): the player's standing eye height. */
#define OXR_LOCAL_HEIGHT 1.6f

/* ---- instance -------------------------------------------------------------------------------- */

struct oxr_action_set;

struct oxr_instance {
    struct oxr_handle base;
    pthread_mutex_t update_lock; /* one thread at a time takes the connection's events */
    pthread_mutex_t lock;        /* the fields below that change after creation */
    struct oxr_config cfg;
    struct oxr_conn *conn; /* created with the instance */
    struct oxr_paths paths;
    struct oxr_event_queue events;
    struct {
        bool vulkan;
        bool vulkan2;
        bool timespec;
        bool remoting; /* XR_MSFT_holographic_remoting */
    } ext;
    char app_name[XR_MAX_APPLICATION_NAME_SIZE];
    bool vulkan_requirements_queried;
    /* From xrCreateVulkanInstanceKHR: the application's vkGetInstanceProcAddr and instance. */
    PFN_vkGetInstanceProcAddr app_gipa;
    VkInstance app_vk_instance;
    VkPhysicalDevice app_vk_physical; /* the one xrGetVulkanGraphicsDevice(2)KHR chose */
    struct oxr_session *session;      /* the one session; a second is XR_ERROR_LIMIT_REACHED */
    bool player_connected;            /* between the connection's Connected and Disconnected */
    bool timestamps_ready; /* the conversion-ready event was queued for this connection */
    /* XR_MSFT_holographic_remoting: the data channels the application holds */
    struct oxr_data_channel **channels;
    uint32_t channel_count;
    /* actions: the sets (their actions hang off them) and the suggested profiles */
    struct oxr_action_set **sets;
    uint32_t set_count;
    XrPath *profiles; /* interaction profiles with suggested bindings */
    uint32_t profile_count;
};

/* ---- session ----------------------------------------------------------------------------------
 */

struct oxr_frame_slot {
    XrTime display_time;
    uint64_t pose_id;
};

/* xrWaitFrame / xrBeginFrame / xrEndFrame bookkeeping; guarded by its own lock. */
struct oxr_frame {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool waited;       /* xrWaitFrame returned a frame that xrBeginFrame has not begun */
    bool begun;        /* xrBeginFrame ran, xrEndFrame not yet */
    XrDuration period; /* ns */
    XrTime last_display;
    uint64_t next_tick_ns; /* own pacing when no poses arrive */
    uint64_t last_pose_id;
    uint64_t last_pose_sample_us; /* player clock, to measure the player's frame period */
    uint64_t begin_us;            /* xrBeginFrame of the current frame (render start) */
    struct oxr_frame_slot slots[OXR_FRAME_SLOTS];
    uint32_t slot_next;
};

struct oxr_session {
    struct oxr_handle base;
    struct oxr_instance *inst;
    pthread_mutex_t lock; /* state, running, flags */
    XrSessionState state;
    bool running;        /* between xrBeginSession and xrEndSession */
    bool exit_requested; /* xrRequestExitSession */
    bool synchronized_once;
    bool connecting; /* xrCreateSession is waiting for the player: a failed attempt is retried */
    XrViewConfigurationType view_config;
    struct oxr_vk vk;
    struct oxr_compose compose;
    struct oxr_frame frame;
    struct oxr_stats *stats; /* NULL unless OPENRR_STATS */
    bool warned_compose;
    /* actions */
    bool actions_attached;
    XrActionSet *attached; /* handles of the attached sets */
    uint32_t attached_count;
};

/* ---- space, swapchain, actions -----------------------------------------------------------------
 */

struct oxr_space {
    struct oxr_handle base;
    struct oxr_session *sess;
    bool is_action;
    XrReferenceSpaceType ref_type;
    uint64_t action_id; /* action spaces: the action's handle value (it may go first) */
    XrPath subaction;
    XrPosef offset;
};

struct oxr_swapchain {
    struct oxr_handle base;
    struct oxr_session *sess;
    XrSwapchainCreateFlags create_flags;
    XrSwapchainUsageFlags usage;
    VkFormat format;
    uint32_t samples, width, height, face_count, array_size, mip_count;
    uint32_t image_count;
    VkImage images[OXR_SWAPCHAIN_IMAGES];
    VkDeviceMemory memory[OXR_SWAPCHAIN_IMAGES];
    VkImageLayout layout; /* the layout of an image the application holds */
    /* acquired (in order), the first `waited` of them waited on */
    uint32_t acquired[OXR_SWAPCHAIN_IMAGES];
    uint32_t acquired_count;
    uint32_t waited;
    uint32_t next_index;
    int32_t released; /* last released image, -1 before the first release */
    bool static_acquired;
};

struct oxr_action {
    struct oxr_handle base;
    struct oxr_action_set *set;
    char name[XR_MAX_ACTION_NAME_SIZE];
    char localized[XR_MAX_LOCALIZED_ACTION_NAME_SIZE];
    XrActionType type;
    XrPath subactions[OXR_MAX_SUBACTIONS];
    uint32_t subaction_count;
};

/* A packet received on a data channel, held until xrRetrieveRemotingDataMSFT takes it. */
struct oxr_packet {
    uint64_t id;
    uint8_t *data;
    size_t size;
};

struct oxr_data_channel {
    struct oxr_handle base;
    struct oxr_instance *inst;
    struct rr_data_channel *ch; /* NULL once its context is gone (reconfigured) */
    uint8_t id;
    bool closed;
    /* received, not yet retrieved (oldest first); under inst->lock */
    struct oxr_packet *packets;
    uint32_t packet_count;
    size_t packet_bytes;
};

struct oxr_action_set {
    struct oxr_handle base;
    struct oxr_instance *inst;
    char name[XR_MAX_ACTION_SET_NAME_SIZE];
    char localized[XR_MAX_LOCALIZED_ACTION_SET_NAME_SIZE];
    uint32_t priority;
    bool attached;
    struct oxr_action **actions;
    uint32_t action_count;
};

/* ---- shared helpers
 * ------------------------------------------------------------------------------ */

/* Handle → object, or NULL (the caller returns XR_ERROR_HANDLE_INVALID). */
struct oxr_instance *oxr_get_instance(XrInstance h);
struct oxr_session *oxr_get_session(XrSession h);
struct oxr_space *oxr_get_space(XrSpace h);
struct oxr_swapchain *oxr_get_swapchain(XrSwapchain h);
struct oxr_action_set *oxr_get_action_set(XrActionSet h);
struct oxr_action *oxr_get_action(XrAction h);

/* XrTime of this process: CLOCK_MONOTONIC in ns. */
XrTime oxr_now(void);

/* Move the session to @p state and queue the XrEventDataSessionStateChanged (session lock
 * held by the caller). */
void oxr_session_set_state_locked(struct oxr_session *s, XrSessionState state);
/* Take the connection's pending events into session states (a disconnect → LOSS_PENDING).
 * Any thread; called from xrPollEvent and the frame functions. */
void oxr_instance_update(struct oxr_instance *inst);
/* Whether the session is in LOSS_PENDING (frame calls then answer XR_SESSION_LOSS_PENDING). */
bool oxr_session_lost(struct oxr_session *s);

/* The head pose and views the player reported, predicted for @p time, in STAGE (the player's
 * space). false with defaults filled in when no pose arrived yet. */
bool oxr_views_at(struct oxr_session *s, XrTime time, XrPosef *out_head,
                  XrPosef out_eyes[OXR_VIEW_COUNT], XrFovf out_fov[OXR_VIEW_COUNT],
                  uint64_t *out_pose_id);
/* A space's origin in STAGE at @p time; false when it cannot be located (an inactive action
 * space). */
bool oxr_space_in_stage(struct oxr_space *sp, XrTime time, XrPosef *out_pose);

/* The recommended eye size (the stream's). */
void oxr_system_eye_size(const struct oxr_instance *inst, uint32_t *out_w, uint32_t *out_h);

/* Copy a string into a two-call-idiom buffer (NUL included in the counts). */
XrResult oxr_two_call_string(const char *s, uint32_t capacity, uint32_t *count_out, char *buffer);

/* The action of a session's attached sets, or NULL; XR_ERROR_ACTIONSET_NOT_ATTACHED
 * otherwise decided by the caller. */
bool oxr_action_attached(struct oxr_session *s, struct oxr_action *a);

/* Release the action sets and profiles of an instance (instance destroy). */
void oxr_actions_fini(struct oxr_instance *inst);

/* XR_MSFT_holographic_remoting, oxr_channel.c: a connection event about a data channel, turned
 * into the extension's events (the event's data is taken over). false when not about one. */
bool oxr_channels_on_event(struct oxr_instance *inst, struct rr_event *ev);
/* Let go of every channel's library object (the context is about to be replaced). */
void oxr_channels_detach(struct oxr_instance *inst);
/* oxr_remoting.c: the connection's events as the extension's (Listening, Connected,
 * Disconnected, timestamp conversion ready). */
void oxr_remoting_on_event(struct oxr_instance *inst, const struct rr_event *ev);
void oxr_remoting_update(struct oxr_instance *inst);

#endif
