/* SPDX-License-Identifier: Apache-2.0 */
/*
 * oxr_handle — the runtime's handle table: every XrInstance, XrSession, XrSpace, XrSwapchain,
 * XrActionSet and XrAction the application holds is a slot number and a generation, never a
 * pointer, so a stale or made-up handle is detected (XR_ERROR_HANDLE_INVALID) instead of being
 * dereferenced. Destroying an object destroys its children first, as the specification wants
 * (xrDestroyInstance takes its sessions, xrDestroySession its spaces and swapchains).
 *
 * Threads: any application thread; the table has one lock. The objects themselves follow the
 * specification's external-synchronisation rules (the application never destroys a handle
 * while another thread uses it).
 */
#ifndef OXR_HANDLE_H
#define OXR_HANDLE_H

#include <stdbool.h>
#include <stdint.h>

enum oxr_type {
    OXR_TYPE_NONE = 0,
    OXR_TYPE_INSTANCE,
    OXR_TYPE_SESSION,
    OXR_TYPE_SPACE,
    OXR_TYPE_SWAPCHAIN,
    OXR_TYPE_ACTION_SET,
    OXR_TYPE_ACTION,
    OXR_TYPE_DATA_CHANNEL,
};

/* The first member of every object. */
struct oxr_handle {
    enum oxr_type type;
    uint64_t id;               /* the value the application sees; 0 until registered */
    struct oxr_handle *parent; /* destroyed with it; NULL for an instance */
    /* Frees the object's own resources and the object (children are gone already). */
    void (*destroy)(struct oxr_handle *self);
};

/* Give @p h (type, parent and destroy set by the caller) a handle value.
 * false when the table cannot grow (out of memory). */
bool oxr_handle_register(struct oxr_handle *h);

/* The live object of @p type behind handle value @p id, or NULL. */
struct oxr_handle *oxr_handle_lookup(uint64_t id, enum oxr_type type);

/* Destroy @p h's children (deepest first), then @p h; its handle value is dead afterwards. */
void oxr_handle_destroy(struct oxr_handle *h);

/* Handle values to and from the OpenXR handle types (pointers on 64-bit builds). */
#define OXR_TO_XR(xr_type, h) ((xr_type)(uintptr_t)(h)->id)
#define OXR_ID(xr_handle) ((uint64_t)(uintptr_t)(xr_handle))

#endif
