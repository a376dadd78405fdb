/* SPDX-License-Identifier: Apache-2.0 */
/*
 * oxr_strings — xrResultToString and xrStructureTypeToString from the registry's reflection
 * lists, with the specification's names for values it does not know
 * (XR_UNKNOWN_SUCCESS_n / XR_UNKNOWN_FAILURE_n / XR_UNKNOWN_STRUCTURE_TYPE_n).
 *
 * Threads: any; constant data.
 */
#include "oxr_api.h"

#include <openxr/openxr_reflection.h>

#include <stdio.h>

static const char *result_name(XrResult r)
{
    switch (r) {
#define RESULT_CASE(name, value)                                                                   \
    case name:                                                                                     \
        return #name;
        XR_LIST_ENUM_XrResult(RESULT_CASE)
#undef RESULT_CASE
            default : return NULL;
    }
}

static const char *structure_name(XrStructureType t)
{
    switch (t) {
#define TYPE_CASE(name, value)                                                                     \
    case name:                                                                                     \
        return #name;
        XR_LIST_ENUM_XrStructureType(TYPE_CASE)
#undef TYPE_CASE
            default : return NULL;
    }
}

OXR_API(ResultToString,
        (XrInstance instance, XrResult value, char buffer[XR_MAX_RESULT_STRING_SIZE]))
{
    if (oxr_get_instance(instance) == NULL) {
        return XR_ERROR_HANDLE_INVALID;
    }
    if (buffer == NULL) {
        return XR_ERROR_VALIDATION_FAILURE;
    }
    const char *name = result_name(value);
    if (name != NULL) {
        snprintf(buffer, XR_MAX_RESULT_STRING_SIZE, "%s", name);
    } else if (value >= 0) {
        snprintf(buffer, XR_MAX_RESULT_STRING_SIZE, "XR_UNKNOWN_SUCCESS_%d", (int)value);
    } else {
        snprintf(buffer, XR_MAX_RESULT_STRING_SIZE, "XR_UNKNOWN_FAILURE_%d", (int)value);
    }
    return XR_SUCCESS;
}

OXR_API(StructureTypeToString,
        (XrInstance instance, XrStructureType value, char buffer[XR_MAX_STRUCTURE_NAME_SIZE]))
{
    if (oxr_get_instance(instance) == NULL) {
        return XR_ERROR_HANDLE_INVALID;
    }
    if (buffer == NULL) {
        return XR_ERROR_VALIDATION_FAILURE;
    }
    const char *name = structure_name(value);
    if (name != NULL) {
        snprintf(buffer, XR_MAX_STRUCTURE_NAME_SIZE, "%s", name);
    } else {
        snprintf(buffer, XR_MAX_STRUCTURE_NAME_SIZE, "XR_UNKNOWN_STRUCTURE_TYPE_%d", (int)value);
    }
    return XR_SUCCESS;
}
