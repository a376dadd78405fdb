/* SPDX-License-Identifier: Apache-2.0 */
/*
 * oxr_session — XrSession life and states. Creating a session binds the application's Vulkan
 * device and waits (up to session_wait_ms, 10 s as in the reference) for the player: connected
 * → IDLE, READY; no player in time → IDLE, LOSS_PENDING. xrBeginSession leads through the
 * first xrWaitFrame to SYNCHRONIZED, VISIBLE, FOCUSED; a player that disconnects later moves the
 * session to LOSS_PENDING, after which the application destroys it (and may create another,
 * which waits for a player again).
 *
 * Threads: any application thread; the state is under s->lock, the connection's events are
 * taken by whichever thread calls oxr_instance_update().
 */
#include "oxr_api.h"

#include "oxr_log.h"
#include "u_log.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

/* How often the wait for a player looks at the connection, and how long a failed configured
 * connect waits before trying again. */
#define WAIT_POLL_MS 50
#define RETRY_MS 250

static const char *state_name(XrSessionState s)
{
    switch (s) {
    case XR_SESSION_STATE_IDLE:
        return "IDLE";
    case XR_SESSION_STATE_READY:
        return "READY";
    case XR_SESSION_STATE_SYNCHRONIZED:
        return "SYNCHRONIZED";
    case XR_SESSION_STATE_VISIBLE:
        return "VISIBLE";
    case XR_SESSION_STATE_FOCUSED:
        return "FOCUSED";
    case XR_SESSION_STATE_STOPPING:
        return "STOPPING";
    case XR_SESSION_STATE_LOSS_PENDING:
        return "LOSS_PENDING";
    case XR_SESSION_STATE_EXITING:
        return "EXITING";
    default:
        return "UNKNOWN";
    }
}

void oxr_session_set_state_locked(struct oxr_session *s, XrSessionState state)
{
    XrEventDataSessionStateChanged ev = {
        .type = XR_TYPE_EVENT_DATA_SESSION_STATE_CHANGED,
        .session = OXR_TO_XR(XrSession, &s->base),
        .state = state,
        .time = oxr_now(),
    };
    U_LOG_D(OXR_LOG, "session %s -> %s", state_name(s->state), state_name(state));
    s->state = state;
    oxr_events_push(&s->inst->events, &ev, sizeof ev, s->base.id);
}

bool oxr_session_lost(struct oxr_session *s)
{
    pthread_mutex_lock(&s->lock);
    bool lost = s->state == XR_SESSION_STATE_LOSS_PENDING;
    pthread_mutex_unlock(&s->lock);
    return lost;
}

/* ---- the connection's events --------------------------------------------------------------------
 */

static void on_disconnected(struct oxr_instance *inst, const struct rr_event *ev)
{
    pthread_mutex_lock(&inst->lock);
    bool was_connected = inst->player_connected;
    inst->player_connected = false;
    struct oxr_session *s = inst->session;
    if (s != NULL) {
        pthread_mutex_lock(&s->lock);
        if (!s->connecting && s->state != XR_SESSION_STATE_LOSS_PENDING &&
            s->state != XR_SESSION_STATE_EXITING) {
            oxr_session_set_state_locked(s, XR_SESSION_STATE_LOSS_PENDING);
        }
        pthread_mutex_unlock(&s->lock);
    }
    pthread_mutex_unlock(&inst->lock);
    /* Attempts that never connected (retried while xrCreateSession waits) are not news. */
    if (was_connected) {
        oxr_say("player disconnected: %s%s%s", rr_disconnect_reason_str(ev->reason),
                ev->detail[0] != '\0' ? ": " : "", ev->detail);
    } else {
        U_LOG_D(OXR_LOG, "attempt ended: %s%s%s", rr_disconnect_reason_str(ev->reason),
                ev->detail[0] != '\0' ? ": " : "", ev->detail);
    }
}

static void handle_event(struct oxr_instance *inst, struct rr_event *ev)
{
    struct rr_data_channel *ch = ev->channel;
    if (inst->ext.remoting) {
        oxr_remoting_on_event(inst, ev);
        if (oxr_channels_on_event(inst, ev)) {
            return;
        }
    }
    switch (ev->type) {
    case RR_EVENT_LISTENING:
        oxr_say("listening on port %u (transport %u)", ev->port, ev->transport_port);
        break;
    case RR_EVENT_CONNECTED: {
        struct rr_connection_info info;
        pthread_mutex_lock(&inst->lock);
        inst->player_connected = true;
        pthread_mutex_unlock(&inst->lock);
        if (rr_context_connection_info(oxr_conn_context(inst->conn), &info) == RR_OK) {
            oxr_say("player connected: %s (%s), codec %s", info.peer_address,
                    info.secure ? info.tls_version : "plain", info.codec);
        }
        break;
    }
    case RR_EVENT_DISCONNECTED:
        on_disconnected(inst, ev);
        break;
    case RR_EVENT_ATTEMPT_FAILED:
        U_LOG_W(OXR_LOG, "a connection attempt failed: %s%s%s",
                rr_disconnect_reason_str(ev->reason), ev->detail[0] != '\0' ? ": " : "",
                ev->detail);
        break;
    case RR_EVENT_DATA_CHANNEL_CLOSED:
        /* Without the extension the application cannot see the player's channels. */
        rr_data_channel_destroy(&ch);
        break;
    default:
        break;
    }
}

void oxr_instance_update(struct oxr_instance *inst)
{
    struct rr_event ev;
    memset(&ev, 0, sizeof ev);
    /* Serialised, so that a Connected and the Disconnected after it are seen in order. */
    pthread_mutex_lock(&inst->update_lock);
    while (oxr_conn_poll(inst->conn, &ev, 0) == RR_OK) {
        handle_event(inst, &ev);
        rr_event_release(&ev);
        memset(&ev, 0, sizeof ev);
    }
    if (inst->ext.remoting) {
        oxr_remoting_update(inst);
    }
    pthread_mutex_unlock(&inst->update_lock);
}

/* Wait up to the configured time for a player. A connection the application started (the
 * extension) is waited for as it is; otherwise the configuration's is started, and a failed
 * connect is tried again until the wait ends. */
static bool wait_for_player(struct oxr_instance *inst)
{
    struct oxr_conn *conn = inst->conn;
    uint64_t deadline = (uint64_t)oxr_now() + (uint64_t)inst->cfg.session_wait_ms * 1000000u;
    uint64_t retry_at = 0;
    bool announced = false;
    for (;;) {
        oxr_instance_update(inst);
        enum rr_connection_state st = oxr_conn_state(conn, NULL);
        if (st == RR_STATE_CONNECTED) {
            return true;
        }
        bool app = oxr_conn_app_started(conn);
        if (app && st == RR_STATE_DISCONNECTED) {
            return false; /* the application's attempt ended; nothing is under way */
        }
        uint64_t now = (uint64_t)oxr_now();
        if (!app && st == RR_STATE_DISCONNECTED && now >= retry_at) {
            enum rr_result r = oxr_conn_start_configured(conn);
            if (r != RR_OK && r != RR_ERROR_WRONG_STATE) {
                U_LOG_E(OXR_LOG, "cannot start the connection: %s", rr_result_str(r));
                return false;
            }
            retry_at = now + (uint64_t)RETRY_MS * 1000000u;
            if (!announced) {
                announced = true;
                oxr_say(
                    "waiting up to %u ms for a player (%s %s port %u)", inst->cfg.session_wait_ms,
                    inst->cfg.listen ? "listening on" : "connecting to",
                    inst->cfg.host[0] != '\0' ? inst->cfg.host : "all addresses", inst->cfg.port);
            }
        }
        if (now >= deadline) {
            /* A configured attempt still under way would connect a player to a lost session
             * (the next session starts it again); the application's own stays as it is. */
            if (!app) {
                oxr_conn_disconnect(conn);
            }
            return false;
        }
        struct timespec ts = {0, WAIT_POLL_MS * 1000000L};
        nanosleep(&ts, NULL);
    }
}

/* ---- life
 * ------------------------------------------------------------------------------------------ */

static void session_destroy(struct oxr_handle *h)
{
    struct oxr_session *s = (struct oxr_session *)(void *)h;
    struct oxr_instance *inst = s->inst;
    if (s->stats != NULL) {
        oxr_stats_print(s->stats, inst->app_name);
        free(s->stats);
    }
    if (s->vk.bound) {
        oxr_compose_fini(&s->compose, &s->vk);
        oxr_vk_unbind(&s->vk);
    }
    oxr_events_forget_session(&inst->events, h->id);
    pthread_mutex_lock(&inst->lock);
    if (inst->session == s) {
        inst->session = NULL;
    }
    pthread_mutex_unlock(&inst->lock);
    free(s->attached);
    pthread_cond_destroy(&s->frame.cond);
    pthread_mutex_destroy(&s->frame.lock);
    pthread_mutex_destroy(&s->lock);
    oxr_say("session destroyed");
    free(s);
}

static const XrGraphicsBindingVulkanKHR *find_binding(const void *next)
{
    for (const XrBaseInStructure *b = next; b != NULL; b = b->next) {
        if (b->type == XR_TYPE_GRAPHICS_BINDING_VULKAN_KHR) {
            return (const XrGraphicsBindingVulkanKHR *)(const void *)b;
        }
    }
    return NULL;
}

static XrResult bind_graphics(struct oxr_instance *inst, struct oxr_session *s,
                              const XrGraphicsBindingVulkanKHR *b)
{
    pthread_mutex_lock(&inst->lock);
    bool queried = inst->vulkan_requirements_queried;
    VkPhysicalDevice chosen = inst->app_vk_physical;
    PFN_vkGetInstanceProcAddr gipa = inst->app_gipa != NULL ? inst->app_gipa : oxr_vk_loader_gipa();
    pthread_mutex_unlock(&inst->lock);
    if (!queried) {
        return XR_ERROR_GRAPHICS_REQUIREMENTS_CALL_MISSING;
    }
    if (b->instance == VK_NULL_HANDLE || b->physicalDevice == VK_NULL_HANDLE ||
        b->device == VK_NULL_HANDLE) {
        return XR_ERROR_GRAPHICS_DEVICE_INVALID;
    }
    if (chosen != VK_NULL_HANDLE && chosen != b->physicalDevice) {
        U_LOG_E(OXR_LOG, "the session's Vulkan device is not the one xrGetVulkanGraphicsDevice "
                         "returned");
        return XR_ERROR_GRAPHICS_DEVICE_INVALID;
    }
    if (!oxr_vk_bind(&s->vk, gipa, b->instance, b->physicalDevice, b->device, b->queueFamilyIndex,
                     b->queueIndex)) {
        oxr_vk_unbind(&s->vk);
        return XR_ERROR_GRAPHICS_DEVICE_INVALID;
    }
    VkResult r = oxr_compose_init(&s->compose, &s->vk, inst->cfg.eye_width, inst->cfg.eye_height);
    if (r != VK_SUCCESS) {
        U_LOG_E(OXR_LOG, "cannot create the stream's read-back buffer (%d)", (int)r);
        oxr_vk_unbind(&s->vk);
        return r == VK_ERROR_OUT_OF_HOST_MEMORY ? XR_ERROR_OUT_OF_MEMORY : XR_ERROR_RUNTIME_FAILURE;
    }
    return XR_SUCCESS;
}

OXR_API(CreateSession,
        (XrInstance instance, const XrSessionCreateInfo *createInfo, XrSession *session))
{
    struct oxr_instance *inst = oxr_get_instance(instance);
    if (inst == NULL) {
        return XR_ERROR_HANDLE_INVALID;
    }
    if (createInfo == NULL || createInfo->type != XR_TYPE_SESSION_CREATE_INFO ||
        createInfo->createFlags != 0 || session == NULL) {
        return XR_ERROR_VALIDATION_FAILURE;
    }
    if (createInfo->systemId != OXR_SYSTEM_ID) {
        return XR_ERROR_SYSTEM_INVALID;
    }
    if (!inst->ext.vulkan && !inst->ext.vulkan2) {
        return XR_ERROR_VALIDATION_FAILURE; /* no graphics API enabled, and no headless */
    }
    const XrGraphicsBindingVulkanKHR *binding = find_binding(createInfo->next);
    if (binding == NULL) {
        return XR_ERROR_GRAPHICS_DEVICE_INVALID;
    }
    struct oxr_session *s = calloc(1, sizeof *s);
    if (s == NULL) {
        return XR_ERROR_OUT_OF_MEMORY;
    }
    s->inst = inst;
    s->state = XR_SESSION_STATE_UNKNOWN;
    s->view_config = XR_VIEW_CONFIGURATION_TYPE_PRIMARY_STEREO;
    pthread_mutex_init(&s->lock, NULL);
    pthread_mutex_init(&s->frame.lock, NULL);
    pthread_cond_init(&s->frame.cond, NULL);
    s->frame.period = 1000000000 / (XrDuration)inst->cfg.fps;
    if (inst->cfg.stats) {
        s->stats = calloc(1, sizeof *s->stats);
    }
    s->base.type = OXR_TYPE_SESSION;
    s->base.parent = &inst->base;
    s->base.destroy = session_destroy;

    pthread_mutex_lock(&inst->lock);
    bool busy = inst->session != NULL;
    if (!busy) {
        inst->session = s;
    }
    pthread_mutex_unlock(&inst->lock);
    if (busy) {
        s->inst = inst;
        s->base.id = 0;
        free(s->stats);
        pthread_cond_destroy(&s->frame.cond);
        pthread_mutex_destroy(&s->frame.lock);
        pthread_mutex_destroy(&s->lock);
        free(s);
        return XR_ERROR_LIMIT_REACHED;
    }
    XrResult xr = bind_graphics(inst, s, binding);
    if (xr == XR_SUCCESS && !oxr_handle_register(&s->base)) {
        xr = XR_ERROR_OUT_OF_MEMORY;
    }
    if (xr != XR_SUCCESS) {
        session_destroy(&s->base);
        return xr;
    }

    pthread_mutex_lock(&s->lock);
    s->connecting = true;
    oxr_session_set_state_locked(s, XR_SESSION_STATE_IDLE);
    pthread_mutex_unlock(&s->lock);

    bool connected = wait_for_player(inst);

    pthread_mutex_lock(&s->lock);
    s->connecting = false;
    if (connected) {
        oxr_session_set_state_locked(s, XR_SESSION_STATE_READY);
    } else {
        oxr_say("no player within %u ms: the session is lost (LOSS_PENDING)",
                inst->cfg.session_wait_ms);
        oxr_session_set_state_locked(s, XR_SESSION_STATE_LOSS_PENDING);
    }
    pthread_mutex_unlock(&s->lock);
    *session = OXR_TO_XR(XrSession, &s->base);
    return XR_SUCCESS;
}

OXR_API(DestroySession, (XrSession session))
{
    struct oxr_session *s = oxr_get_session(session);
    if (s == NULL) {
        return XR_ERROR_HANDLE_INVALID;
    }
    oxr_handle_destroy(&s->base);
    return XR_SUCCESS;
}

OXR_API(BeginSession, (XrSession session, const XrSessionBeginInfo *beginInfo))
{
    struct oxr_session *s = oxr_get_session(session);
    if (s == NULL) {
        return XR_ERROR_HANDLE_INVALID;
    }
    if (beginInfo == NULL || beginInfo->type != XR_TYPE_SESSION_BEGIN_INFO) {
        return XR_ERROR_VALIDATION_FAILURE;
    }
    switch (beginInfo->primaryViewConfigurationType) {
    case XR_VIEW_CONFIGURATION_TYPE_PRIMARY_STEREO:
        break;
    case XR_VIEW_CONFIGURATION_TYPE_PRIMARY_MONO:
    case XR_VIEW_CONFIGURATION_TYPE_PRIMARY_QUAD_VARJO:
    case XR_VIEW_CONFIGURATION_TYPE_SECONDARY_MONO_FIRST_PERSON_OBSERVER_MSFT:
        return XR_ERROR_VIEW_CONFIGURATION_TYPE_UNSUPPORTED;
    default:
        return XR_ERROR_VALIDATION_FAILURE;
    }
    XrResult xr = XR_SUCCESS;
    pthread_mutex_lock(&s->lock);
    if (s->running) {
        xr = XR_ERROR_SESSION_RUNNING;
    } else if (s->state == XR_SESSION_STATE_LOSS_PENDING) {
        xr = XR_SESSION_LOSS_PENDING;
    } else if (s->state != XR_SESSION_STATE_READY) {
        xr = XR_ERROR_SESSION_NOT_READY;
    } else {
        s->running = true;
        s->exit_requested = false;
        s->synchronized_once = false;
        s->view_config = beginInfo->primaryViewConfigurationType;
    }
    pthread_mutex_unlock(&s->lock);
    return xr;
}

OXR_API(EndSession, (XrSession session))
{
    struct oxr_session *s = oxr_get_session(session);
    if (s == NULL) {
        return XR_ERROR_HANDLE_INVALID;
    }
    XrResult xr = XR_SUCCESS;
    pthread_mutex_lock(&s->lock);
    if (!s->running) {
        xr = XR_ERROR_SESSION_NOT_RUNNING;
    } else if (s->state == XR_SESSION_STATE_LOSS_PENDING) {
        s->running = false;
        xr = XR_SESSION_LOSS_PENDING;
    } else if (s->state != XR_SESSION_STATE_STOPPING) {
        xr = XR_ERROR_SESSION_NOT_STOPPING;
    } else {
        s->running = false;
        oxr_session_set_state_locked(s, XR_SESSION_STATE_IDLE);
        /* Only an exit request stops a session here, so the application is told to go. */
        oxr_session_set_state_locked(s, XR_SESSION_STATE_EXITING);
    }
    pthread_mutex_unlock(&s->lock);
    return xr;
}

OXR_API(RequestExitSession, (XrSession session))
{
    struct oxr_session *s = oxr_get_session(session);
    if (s == NULL) {
        return XR_ERROR_HANDLE_INVALID;
    }
    XrResult xr = XR_SUCCESS;
    pthread_mutex_lock(&s->lock);
    if (s->state == XR_SESSION_STATE_LOSS_PENDING) {
        xr = XR_SESSION_LOSS_PENDING;
    } else if (!s->running) {
        xr = XR_ERROR_SESSION_NOT_RUNNING;
    } else if (!s->exit_requested) {
        s->exit_requested = true;
        /* Down the ladder one state at a time, as the specification's state diagram goes. */
        if (s->state == XR_SESSION_STATE_FOCUSED) {
            oxr_session_set_state_locked(s, XR_SESSION_STATE_VISIBLE);
        }
        if (s->state == XR_SESSION_STATE_VISIBLE) {
            oxr_session_set_state_locked(s, XR_SESSION_STATE_SYNCHRONIZED);
        }
        oxr_session_set_state_locked(s, XR_SESSION_STATE_STOPPING);
    }
    pthread_mutex_unlock(&s->lock);
    return xr;
}
