/* SPDX-License-Identifier: Apache-2.0 */
/* Error codes, their titles and exit statuses, and the error/warning list of a conversion. */
#include "status.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct code_info {
    const char *name;
    const char *title;
    int exit_code;
};

/* Exit statuses: 3–9 one per failure class so that a caller can react without parsing JSON;
 * 64 and 70 are sysexits.h's EX_USAGE and EX_SOFTWARE. */
static const struct code_info g_codes[RR_CONVERT_CODE_COUNT] = {
    [RR_CONVERT_OK] = {"Succeeded", "Conversion succeeded", 0},
    [RR_CONVERT_INPUT_NOT_FOUND] = {"InputNotFound", "Input file not found", 3},
    [RR_CONVERT_INPUT_UNREADABLE] = {"InputUnreadable", "Input file cannot be read", 3},
    [RR_CONVERT_UNSUPPORTED_FORMAT] = {"UnsupportedFormat", "Unsupported input format", 4},
    [RR_CONVERT_INVALID_INPUT] = {"InvalidInput", "Invalid input file", 5},
    [RR_CONVERT_INVALID_SETTINGS] = {"InvalidSettings", "Invalid conversion settings", 6},
    [RR_CONVERT_TEXTURE_DECODE_FAILED] = {"TextureDecodeFailed", "Texture cannot be decoded", 7},
    [RR_CONVERT_OUTPUT_ERROR] = {"OutputError", "Output cannot be written", 8},
    [RR_CONVERT_INPUT_TOO_LARGE] = {"InputTooLarge", "Input too large", 9},
    [RR_CONVERT_USAGE] = {"UsageError", "Invalid command line", 64},
    [RR_CONVERT_INTERNAL_ERROR] = {"InternalError", "Internal error", 70},
};

static const struct code_info *info_of(enum rr_convert_code code)
{
    if ((unsigned)code >= RR_CONVERT_CODE_COUNT) {
        code = RR_CONVERT_INTERNAL_ERROR;
    }
    return &g_codes[code];
}

const char *rr_convert_code_name(enum rr_convert_code code)
{
    return info_of(code)->name;
}

const char *rr_convert_code_title(enum rr_convert_code code)
{
    return info_of(code)->title;
}

int rr_convert_exit_code(enum rr_convert_code code)
{
    return info_of(code)->exit_code;
}

static char *vformat(const char *fmt, va_list ap)
{
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) < 0) {
        return NULL;
    }
    return s;
}

enum rr_convert_code rr_convert_fail(struct rr_convert_status *st, enum rr_convert_code code,
                                     const char *fmt, ...)
{
    if (st->code != RR_CONVERT_OK || code == RR_CONVERT_OK) {
        return st->code != RR_CONVERT_OK ? st->code : code;
    }
    va_list ap;
    va_start(ap, fmt);
    st->error.details = vformat(fmt, ap);
    va_end(ap);
    st->error.code = strdup(rr_convert_code_name(code));
    st->error.title = strdup(rr_convert_code_title(code));
    st->code = code;
    return code;
}

void rr_convert_warn(struct rr_convert_status *st, const char *code, const char *title,
                     const char *fmt, ...)
{
    if (st->warning_count >= RR_CONVERT_MAX_WARNINGS) {
        st->warnings_dropped++;
        return;
    }
    if (st->warning_count == 0) {
        st->warnings = calloc(RR_CONVERT_MAX_WARNINGS, sizeof(*st->warnings));
        if (st->warnings == NULL) {
            st->warnings_dropped++;
            return;
        }
    }
    struct rr_convert_message *m = &st->warnings[st->warning_count];
    va_list ap;
    va_start(ap, fmt);
    m->details = vformat(fmt, ap);
    va_end(ap);
    m->code = strdup(code);
    m->title = strdup(title);
    if (m->details == NULL || m->code == NULL || m->title == NULL) {
        free(m->details);
        free(m->code);
        free(m->title);
        memset(m, 0, sizeof(*m));
        st->warnings_dropped++;
        return;
    }
    st->warning_count++;
}

static void message_free(struct rr_convert_message *m)
{
    free(m->code);
    free(m->title);
    free(m->details);
    memset(m, 0, sizeof(*m));
}

void rr_convert_status_fini(struct rr_convert_status *st)
{
    message_free(&st->error);
    for (size_t i = 0; i < st->warning_count; i++) {
        message_free(&st->warnings[i]);
    }
    free(st->warnings);
    memset(st, 0, sizeof(*st));
}
