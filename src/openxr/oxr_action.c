/* SPDX-License-Identifier: Apache-2.0 */
/*
 * oxr_action — action sets, actions, suggested bindings and action states. The player sends a
 * head pose and no controller input yet, so every action is inactive (isActive false, no
 * current interaction profile) — but the calls validate as the specification requires, so an
 * application's input code runs unchanged and gets its real errors (names, paths, types,
 * attachment rules).
 *
 * Threads: any application thread; the instance's lists are under inst->lock.
 */
#include "oxr_api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The core specification's interaction profiles: bindings for others are
 * XR_ERROR_PATH_UNSUPPORTED (their extensions are not offered). */
static const char *const k_profiles[] = {
    "/interaction_profiles/khr/simple_controller",
    "/interaction_profiles/google/daydream_controller",
    "/interaction_profiles/htc/vive_controller",
    "/interaction_profiles/htc/vive_pro",
    "/interaction_profiles/microsoft/motion_controller",
    "/interaction_profiles/microsoft/xbox_controller",
    "/interaction_profiles/oculus/go_controller",
    "/interaction_profiles/oculus/touch_controller",
    "/interaction_profiles/valve/index_controller",
};

static const char *const k_top_level[] = {
    "/user/hand/left", "/user/hand/right", "/user/head", "/user/gamepad", "/user/treadmill",
};

static bool in_list(const char *s, const char *const *list, size_t n)
{
    for (size_t i = 0; s != NULL && i < n; i++) {
        if (strcmp(s, list[i]) == 0) {
            return true;
        }
    }
    return false;
}

/* XR_SUCCESS for a top-level user path; PATH_INVALID for a non-atom, PATH_UNSUPPORTED else. */
static XrResult check_top_level(struct oxr_instance *inst, XrPath p)
{
    const char *s = oxr_path_string(&inst->paths, p);
    if (s == NULL) {
        return XR_ERROR_PATH_INVALID;
    }
    return in_list(s, k_top_level, sizeof k_top_level / sizeof k_top_level[0])
               ? XR_SUCCESS
               : XR_ERROR_PATH_UNSUPPORTED;
}

/* Action and action set names: lower-case letters, digits, '-', '_', '.'; not empty. */
static bool name_ok(const char *s, size_t size)
{
    size_t n = strnlen(s, size);
    if (n == 0 || n >= size) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
              c == '.')) {
            return false;
        }
    }
    return true;
}

static bool localized_ok(const char *s, size_t size)
{
    size_t n = strnlen(s, size);
    return n > 0 && n < size;
}

/* ---- action sets --------------------------------------------------------------------------------
 */

static void set_destroy(struct oxr_handle *h)
{
    struct oxr_action_set *set = (struct oxr_action_set *)(void *)h;
    struct oxr_instance *inst = set->inst;
    pthread_mutex_lock(&inst->lock);
    for (uint32_t i = 0; i < inst->set_count; i++) {
        if (inst->sets[i] == set) {
            inst->sets[i] = inst->sets[--inst->set_count];
            break;
        }
    }
    pthread_mutex_unlock(&inst->lock);
    free(set->actions);
    free(set);
}

OXR_API(CreateActionSet,
        (XrInstance instance, const XrActionSetCreateInfo *createInfo, XrActionSet *actionSet))
{
    struct oxr_instance *inst = oxr_get_instance(instance);
    if (inst == NULL) {
        return XR_ERROR_HANDLE_INVALID;
    }
    if (createInfo == NULL || createInfo->type != XR_TYPE_ACTION_SET_CREATE_INFO ||
        actionSet == NULL) {
        return XR_ERROR_VALIDATION_FAILURE;
    }
    if (!name_ok(createInfo->actionSetName, XR_MAX_ACTION_SET_NAME_SIZE)) {
        return XR_ERROR_NAME_INVALID;
    }
    if (!localized_ok(createInfo->localizedActionSetName, XR_MAX_LOCALIZED_ACTION_SET_NAME_SIZE)) {
        return XR_ERROR_LOCALIZED_NAME_INVALID;
    }
    struct oxr_action_set *set = calloc(1, sizeof *set);
    if (set == NULL) {
        return XR_ERROR_OUT_OF_MEMORY;
    }
    set->inst = inst;
    snprintf(set->name, sizeof set->name, "%s", createInfo->actionSetName);
    snprintf(set->localized, sizeof set->localized, "%s", createInfo->localizedActionSetName);
    set->priority = createInfo->priority;
    XrResult xr = XR_SUCCESS;
    pthread_mutex_lock(&inst->lock);
    for (uint32_t i = 0; i < inst->set_count && xr == XR_SUCCESS; i++) {
        if (strcmp(inst->sets[i]->name, set->name) == 0) {
            xr = XR_ERROR_NAME_DUPLICATED;
        } else if (strcmp(inst->sets[i]->localized, set->localized) == 0) {
            xr = XR_ERROR_LOCALIZED_NAME_DUPLICATED;
        }
    }
    if (xr == XR_SUCCESS) {
        struct oxr_action_set **grown =
            realloc(inst->sets, (inst->set_count + 1) * sizeof *inst->sets);
        if (grown == NULL) {
            xr = XR_ERROR_OUT_OF_MEMORY;
        } else {
            inst->sets = grown;
            inst->sets[inst->set_count++] = set;
        }
    }
    pthread_mutex_unlock(&inst->lock);
    if (xr != XR_SUCCESS) {
        free(set);
        return xr;
    }
    set->base.type = OXR_TYPE_ACTION_SET;
    set->base.parent = &inst->base;
    set->base.destroy = set_destroy;
    if (!oxr_handle_register(&set->base)) {
        set_destroy(&set->base);
        return XR_ERROR_OUT_OF_MEMORY;
    }
    *actionSet = OXR_TO_XR(XrActionSet, &set->base);
    return XR_SUCCESS;
}

OXR_API(DestroyActionSet, (XrActionSet actionSet))
{
    struct oxr_action_set *set = oxr_get_action_set(actionSet);
    if (set == NULL) {
        return XR_ERROR_HANDLE_INVALID;
    }
    oxr_handle_destroy(&set->base);
    return XR_SUCCESS;
}

void oxr_actions_fini(struct oxr_instance *inst)
{
    free(inst->sets);
    inst->sets = NULL;
    inst->set_count = 0;
    free(inst->profiles);
    inst->profiles = NULL;
    inst->profile_count = 0;
}

/* ---- actions ------------------------------------------------------------------------------------
 */

static void action_destroy(struct oxr_handle *h)
{
    struct oxr_action *a = (struct oxr_action *)(void *)h;
    struct oxr_instance *inst = a->set->inst;
    pthread_mutex_lock(&inst->lock);
    for (uint32_t i = 0; i < a->set->action_count; i++) {
        if (a->set->actions[i] == a) {
            a->set->actions[i] = a->set->actions[--a->set->action_count];
            break;
        }
    }
    pthread_mutex_unlock(&inst->lock);
    free(a);
}

static XrResult check_action_info(struct oxr_instance *inst, const XrActionCreateInfo *ci)
{
    switch (ci->actionType) {
    case XR_ACTION_TYPE_BOOLEAN_INPUT:
    case XR_ACTION_TYPE_FLOAT_INPUT:
    case XR_ACTION_TYPE_VECTOR2F_INPUT:
    case XR_ACTION_TYPE_POSE_INPUT:
    case XR_ACTION_TYPE_VIBRATION_OUTPUT:
        break;
    default:
        return XR_ERROR_VALIDATION_FAILURE;
    }
    if (!name_ok(ci->actionName, XR_MAX_ACTION_NAME_SIZE)) {
        return XR_ERROR_NAME_INVALID;
    }
    if (!localized_ok(ci->localizedActionName, XR_MAX_LOCALIZED_ACTION_NAME_SIZE)) {
        return XR_ERROR_LOCALIZED_NAME_INVALID;
    }
    if (ci->countSubactionPaths > 0 && ci->subactionPaths == NULL) {
        return XR_ERROR_VALIDATION_FAILURE;
    }
    if (ci->countSubactionPaths > OXR_MAX_SUBACTIONS) {
        return XR_ERROR_PATH_UNSUPPORTED;
    }
    for (uint32_t i = 0; i < ci->countSubactionPaths; i++) {
        XrResult xr = check_top_level(inst, ci->subactionPaths[i]);
        if (xr != XR_SUCCESS) {
            return xr;
        }
        for (uint32_t j = 0; j < i; j++) {
            if (ci->subactionPaths[j] == ci->subactionPaths[i]) {
                return XR_ERROR_PATH_UNSUPPORTED;
            }
        }
    }
    return XR_SUCCESS;
}

OXR_API(CreateAction,
        (XrActionSet actionSet, const XrActionCreateInfo *createInfo, XrAction *action))
{
    struct oxr_action_set *set = oxr_get_action_set(actionSet);
    if (set == NULL) {
        return XR_ERROR_HANDLE_INVALID;
    }
    if (createInfo == NULL || createInfo->type != XR_TYPE_ACTION_CREATE_INFO || action == NULL) {
        return XR_ERROR_VALIDATION_FAILURE;
    }
    struct oxr_instance *inst = set->inst;
    XrResult xr = check_action_info(inst, createInfo);
    if (xr != XR_SUCCESS) {
        return xr;
    }
    struct oxr_action *a = calloc(1, sizeof *a);
    if (a == NULL) {
        return XR_ERROR_OUT_OF_MEMORY;
    }
    a->set = set;
    a->type = createInfo->actionType;
    snprintf(a->name, sizeof a->name, "%s", createInfo->actionName);
    snprintf(a->localized, sizeof a->localized, "%s", createInfo->localizedActionName);
    a->subaction_count = createInfo->countSubactionPaths;
    for (uint32_t i = 0; i < a->subaction_count; i++) {
        a->subactions[i] = createInfo->subactionPaths[i];
    }
    pthread_mutex_lock(&inst->lock);
    if (set->attached) {
        xr = XR_ERROR_ACTIONSETS_ALREADY_ATTACHED;
    }
    for (uint32_t i = 0; i < set->action_count && xr == XR_SUCCESS; i++) {
        if (strcmp(set->actions[i]->name, a->name) == 0) {
            xr = XR_ERROR_NAME_DUPLICATED;
        } else if (strcmp(set->actions[i]->localized, a->localized) == 0) {
            xr = XR_ERROR_LOCALIZED_NAME_DUPLICATED;
        }
    }
    if (xr == XR_SUCCESS) {
        struct oxr_action **grown = realloc(set->actions, (set->action_count + 1) * sizeof *grown);
        if (grown == NULL) {
            xr = XR_ERROR_OUT_OF_MEMORY;
        } else {
            set->actions = grown;
            set->actions[set->action_count++] = a;
        }
    }
    pthread_mutex_unlock(&inst->lock);
    if (xr != XR_SUCCESS) {
        free(a);
        return xr;
    }
    a->base.type = OXR_TYPE_ACTION;
    a->base.parent = &set->base;
    a->base.destroy = action_destroy;
    if (!oxr_handle_register(&a->base)) {
        action_destroy(&a->base);
        return XR_ERROR_OUT_OF_MEMORY;
    }
    *action = OXR_TO_XR(XrAction, &a->base);
    return XR_SUCCESS;
}

OXR_API(DestroyAction, (XrAction action))
{
    struct oxr_action *a = oxr_get_action(action);
    if (a == NULL) {
        return XR_ERROR_HANDLE_INVALID;
    }
    oxr_handle_destroy(&a->base);
    return XR_SUCCESS;
}

/* ---- bindings and attachment
 * ---------------------------------------------------------------------- */

OXR_API(SuggestInteractionProfileBindings,
        (XrInstance instance, const XrInteractionProfileSuggestedBinding *suggestedBindings))
{
    struct oxr_instance *inst = oxr_get_instance(instance);
    if (inst == NULL) {
        return XR_ERROR_HANDLE_INVALID;
    }
    const XrInteractionProfileSuggestedBinding *sb = suggestedBindings;
    if (sb == NULL || sb->type != XR_TYPE_INTERACTION_PROFILE_SUGGESTED_BINDING ||
        sb->countSuggestedBindings == 0 || sb->suggestedBindings == NULL) {
        return XR_ERROR_VALIDATION_FAILURE;
    }
    const char *profile = oxr_path_string(&inst->paths, sb->interactionProfile);
    if (profile == NULL) {
        return XR_ERROR_PATH_INVALID;
    }
    if (!in_list(profile, k_profiles, sizeof k_profiles / sizeof k_profiles[0])) {
        return XR_ERROR_PATH_UNSUPPORTED;
    }
    for (uint32_t i = 0; i < sb->countSuggestedBindings; i++) {
        struct oxr_action *a = oxr_get_action(sb->suggestedBindings[i].action);
        if (a == NULL) {
            return XR_ERROR_HANDLE_INVALID;
        }
        const char *binding = oxr_path_string(&inst->paths, sb->suggestedBindings[i].binding);
        if (binding == NULL) {
            return XR_ERROR_PATH_INVALID;
        }
        /* Any input or output under a top-level user path: the player has no controllers
         * whose component lists could narrow this down. */
        if (strncmp(binding, "/user/", 6) != 0) {
            return XR_ERROR_PATH_UNSUPPORTED;
        }
        pthread_mutex_lock(&inst->lock);
        bool attached = a->set->attached;
        pthread_mutex_unlock(&inst->lock);
        if (attached) {
            return XR_ERROR_ACTIONSETS_ALREADY_ATTACHED;
        }
    }
    XrResult xr = XR_SUCCESS;
    pthread_mutex_lock(&inst->lock);
    bool known = false;
    for (uint32_t i = 0; i < inst->profile_count && !known; i++) {
        known = inst->profiles[i] == sb->interactionProfile;
    }
    if (!known) {
        XrPath *grown = realloc(inst->profiles, (inst->profile_count + 1) * sizeof *grown);
        if (grown == NULL) {
            xr = XR_ERROR_OUT_OF_MEMORY;
        } else {
            inst->profiles = grown;
            inst->profiles[inst->profile_count++] = sb->interactionProfile;
        }
    }
    pthread_mutex_unlock(&inst->lock);
    return xr;
}

OXR_API(AttachSessionActionSets,
        (XrSession session, const XrSessionActionSetsAttachInfo *attachInfo))
{
    struct oxr_session *s = oxr_get_session(session);
    if (s == NULL) {
        return XR_ERROR_HANDLE_INVALID;
    }
    if (attachInfo == NULL || attachInfo->type != XR_TYPE_SESSION_ACTION_SETS_ATTACH_INFO ||
        attachInfo->countActionSets == 0 || attachInfo->actionSets == NULL) {
        return XR_ERROR_VALIDATION_FAILURE;
    }
    for (uint32_t i = 0; i < attachInfo->countActionSets; i++) {
        if (oxr_get_action_set(attachInfo->actionSets[i]) == NULL) {
            return XR_ERROR_HANDLE_INVALID;
        }
    }
    struct oxr_instance *inst = s->inst;
    XrResult xr = XR_SUCCESS;
    pthread_mutex_lock(&inst->lock);
    if (s->actions_attached) {
        xr = XR_ERROR_ACTIONSETS_ALREADY_ATTACHED;
    } else {
        s->attached = calloc(attachInfo->countActionSets, sizeof *s->attached);
        if (s->attached == NULL) {
            xr = XR_ERROR_OUT_OF_MEMORY;
        }
    }
    if (xr == XR_SUCCESS) {
        for (uint32_t i = 0; i < attachInfo->countActionSets; i++) {
            oxr_get_action_set(attachInfo->actionSets[i])->attached = true;
            s->attached[i] = attachInfo->actionSets[i];
        }
        s->attached_count = attachInfo->countActionSets;
        s->actions_attached = true;
    }
    pthread_mutex_unlock(&inst->lock);
    if (xr == XR_SUCCESS && oxr_session_lost(s)) {
        xr = XR_SESSION_LOSS_PENDING;
    }
    return xr;
}

bool oxr_action_attached(struct oxr_session *s, struct oxr_action *a)
{
    bool found = false;
    XrActionSet set = OXR_TO_XR(XrActionSet, &a->set->base);
    pthread_mutex_lock(&s->inst->lock);
    for (uint32_t i = 0; i < s->attached_count && !found; i++) {
        found = s->attached[i] == set;
    }
    pthread_mutex_unlock(&s->inst->lock);
    return found;
}

OXR_API(GetCurrentInteractionProfile,
        (XrSession session, XrPath topLevelUserPath, XrInteractionProfileState *interactionProfile))
{
    struct oxr_session *s = oxr_get_session(session);
    if (s == NULL) {
        return XR_ERROR_HANDLE_INVALID;
    }
    if (interactionProfile == NULL ||
        interactionProfile->type != XR_TYPE_INTERACTION_PROFILE_STATE) {
        return XR_ERROR_VALIDATION_FAILURE;
    }
    if (!s->actions_attached) {
        return XR_ERROR_ACTIONSET_NOT_ATTACHED;
    }
    XrResult xr = check_top_level(s->inst, topLevelUserPath);
    if (xr != XR_SUCCESS) {
        return xr;
    }
    interactionProfile->interactionProfile = XR_NULL_PATH; /* no controller */
    return XR_SUCCESS;
}

/* ---- states
 * ---------------------------------------------------------------------------------------- */

static XrResult check_get_info(struct oxr_session *s, const XrActionStateGetInfo *gi,
                               XrActionType want, struct oxr_action **out)
{
    if (gi == NULL || gi->type != XR_TYPE_ACTION_STATE_GET_INFO) {
        return XR_ERROR_VALIDATION_FAILURE;
    }
    struct oxr_action *a = oxr_get_action(gi->action);
    if (a == NULL) {
        return XR_ERROR_HANDLE_INVALID;
    }
    if (!oxr_action_attached(s, a)) {
        return XR_ERROR_ACTIONSET_NOT_ATTACHED;
    }
    if (a->type != want) {
        return XR_ERROR_ACTION_TYPE_MISMATCH;
    }
    if (gi->subactionPath != XR_NULL_PATH) {
        bool listed = false;
        for (uint32_t i = 0; i < a->subaction_count && !listed; i++) {
            listed = a->subactions[i] == gi->subactionPath;
        }
        if (!listed) {
            return XR_ERROR_PATH_UNSUPPORTED;
        }
    }
    *out = a;
    return XR_SUCCESS;
}

static XrResult state_result(struct oxr_session *s)
{
    return oxr_session_lost(s) ? XR_SESSION_LOSS_PENDING : XR_SUCCESS;
}

#define GET_STATE(Name, StateType, type_tag, action_type, fill)                                    \
    OXR_API(GetActionState##Name,                                                                  \
            (XrSession session, const XrActionStateGetInfo *getInfo, StateType *state))            \
    {                                                                                              \
        struct oxr_session *s = oxr_get_session(session);                                          \
        struct oxr_action *a;                                                                      \
        if (s == NULL) {                                                                           \
            return XR_ERROR_HANDLE_INVALID;                                                        \
        }                                                                                          \
        if (state == NULL || state->type != type_tag) {                                            \
            return XR_ERROR_VALIDATION_FAILURE;                                                    \
        }                                                                                          \
        XrResult xr = check_get_info(s, getInfo, action_type, &a);                                 \
        if (xr != XR_SUCCESS) {                                                                    \
            return xr;                                                                             \
        }                                                                                          \
        fill;                                                                                      \
        return state_result(s);                                                                    \
    }

GET_STATE(Boolean, XrActionStateBoolean, XR_TYPE_ACTION_STATE_BOOLEAN, XR_ACTION_TYPE_BOOLEAN_INPUT,
          (state->currentState = XR_FALSE, state->changedSinceLastSync = XR_FALSE,
           state->lastChangeTime = 0, state->isActive = XR_FALSE))
GET_STATE(Float, XrActionStateFloat, XR_TYPE_ACTION_STATE_FLOAT, XR_ACTION_TYPE_FLOAT_INPUT,
          (state->currentState = 0.0f, state->changedSinceLastSync = XR_FALSE,
           state->lastChangeTime = 0, state->isActive = XR_FALSE))
GET_STATE(Vector2f, XrActionStateVector2f, XR_TYPE_ACTION_STATE_VECTOR2F,
          XR_ACTION_TYPE_VECTOR2F_INPUT,
          (state->currentState = (XrVector2f){0.0f, 0.0f}, state->changedSinceLastSync = XR_FALSE,
           state->lastChangeTime = 0, state->isActive = XR_FALSE))
GET_STATE(Pose, XrActionStatePose, XR_TYPE_ACTION_STATE_POSE, XR_ACTION_TYPE_POSE_INPUT,
          (state->isActive = XR_FALSE))

OXR_API(SyncActions, (XrSession session, const XrActionsSyncInfo *syncInfo))
{
    struct oxr_session *s = oxr_get_session(session);
    if (s == NULL) {
        return XR_ERROR_HANDLE_INVALID;
    }
    if (syncInfo == NULL || syncInfo->type != XR_TYPE_ACTIONS_SYNC_INFO ||
        (syncInfo->countActiveActionSets > 0 && syncInfo->activeActionSets == NULL)) {
        return XR_ERROR_VALIDATION_FAILURE;
    }
    for (uint32_t i = 0; i < syncInfo->countActiveActionSets; i++) {
        const XrActiveActionSet *as = &syncInfo->activeActionSets[i];
        struct oxr_action_set *set = oxr_get_action_set(as->actionSet);
        if (set == NULL) {
            return XR_ERROR_HANDLE_INVALID;
        }
        bool attached = false;
        pthread_mutex_lock(&s->inst->lock);
        for (uint32_t k = 0; k < s->attached_count && !attached; k++) {
            attached = s->attached[k] == as->actionSet;
        }
        pthread_mutex_unlock(&s->inst->lock);
        if (!attached) {
            return XR_ERROR_ACTIONSET_NOT_ATTACHED;
        }
        if (as->subactionPath != XR_NULL_PATH) {
            XrResult xr = check_top_level(s->inst, as->subactionPath);
            if (xr != XR_SUCCESS) {
                return xr;
            }
        }
    }
    pthread_mutex_lock(&s->lock);
    XrSessionState state = s->state;
    pthread_mutex_unlock(&s->lock);
    if (state == XR_SESSION_STATE_LOSS_PENDING) {
        return XR_SESSION_LOSS_PENDING;
    }
    return state == XR_SESSION_STATE_FOCUSED ? XR_SUCCESS : XR_SESSION_NOT_FOCUSED;
}

OXR_API(EnumerateBoundSourcesForAction,
        (XrSession session, const XrBoundSourcesForActionEnumerateInfo *enumerateInfo,
         uint32_t capacity, uint32_t *count, XrPath *sources))
{
    struct oxr_session *s = oxr_get_session(session);
    if (s == NULL) {
        return XR_ERROR_HANDLE_INVALID;
    }
    if (enumerateInfo == NULL ||
        enumerateInfo->type != XR_TYPE_BOUND_SOURCES_FOR_ACTION_ENUMERATE_INFO || count == NULL ||
        (capacity > 0 && sources == NULL)) {
        return XR_ERROR_VALIDATION_FAILURE;
    }
    struct oxr_action *a = oxr_get_action(enumerateInfo->action);
    if (a == NULL) {
        return XR_ERROR_HANDLE_INVALID;
    }
    if (!oxr_action_attached(s, a)) {
        return XR_ERROR_ACTIONSET_NOT_ATTACHED;
    }
    *count = 0; /* nothing is bound without a controller */
    return state_result(s);
}

OXR_API(GetInputSourceLocalizedName,
        (XrSession session, const XrInputSourceLocalizedNameGetInfo *getInfo, uint32_t capacity,
         uint32_t *count, char *buffer))
{
    struct oxr_session *s = oxr_get_session(session);
    if (s == NULL) {
        return XR_ERROR_HANDLE_INVALID;
    }
    if (getInfo == NULL || getInfo->type != XR_TYPE_INPUT_SOURCE_LOCALIZED_NAME_GET_INFO ||
        getInfo->whichComponents == 0 || count == NULL || (capacity > 0 && buffer == NULL)) {
        return XR_ERROR_VALIDATION_FAILURE;
    }
    if (!s->actions_attached) {
        return XR_ERROR_ACTIONSET_NOT_ATTACHED;
    }
    if (oxr_path_string(&s->inst->paths, getInfo->sourcePath) == NULL) {
        return XR_ERROR_PATH_INVALID;
    }
    return XR_ERROR_PATH_UNSUPPORTED; /* no bound source exists to name */
}

static XrResult check_haptic(struct oxr_session *s, const XrHapticActionInfo *hi)
{
    if (hi == NULL || hi->type != XR_TYPE_HAPTIC_ACTION_INFO) {
        return XR_ERROR_VALIDATION_FAILURE;
    }
    struct oxr_action *a = oxr_get_action(hi->action);
    if (a == NULL) {
        return XR_ERROR_HANDLE_INVALID;
    }
    if (!oxr_action_attached(s, a)) {
        return XR_ERROR_ACTIONSET_NOT_ATTACHED;
    }
    if (a->type != XR_ACTION_TYPE_VIBRATION_OUTPUT) {
        return XR_ERROR_ACTION_TYPE_MISMATCH;
    }
    if (hi->subactionPath != XR_NULL_PATH) {
        bool listed = false;
        for (uint32_t i = 0; i < a->subaction_count && !listed; i++) {
            listed = a->subactions[i] == hi->subactionPath;
        }
        if (!listed) {
            return XR_ERROR_PATH_UNSUPPORTED;
        }
    }
    return XR_SUCCESS;
}

OXR_API(ApplyHapticFeedback, (XrSession session, const XrHapticActionInfo *hapticActionInfo,
                              const XrHapticBaseHeader *hapticFeedback))
{
    struct oxr_session *s = oxr_get_session(session);
    if (s == NULL) {
        return XR_ERROR_HANDLE_INVALID;
    }
    if (hapticFeedback == NULL || hapticFeedback->type != XR_TYPE_HAPTIC_VIBRATION) {
        return XR_ERROR_VALIDATION_FAILURE;
    }
    XrResult xr = check_haptic(s, hapticActionInfo);
    return xr != XR_SUCCESS ? xr : state_result(s); /* nothing to vibrate */
}

OXR_API(StopHapticFeedback, (XrSession session, const XrHapticActionInfo *hapticActionInfo))
{
    struct oxr_session *s = oxr_get_session(session);
    if (s == NULL) {
        return XR_ERROR_HANDLE_INVALID;
    }
    XrResult xr = check_haptic(s, hapticActionInfo);
    return xr != XR_SUCCESS ? xr : state_result(s);
}
