/* SPDX-License-Identifier: Apache-2.0 */
/*
 * asset_vertex — sizes and offsets of the interleaved vertex layout described by a mesh's
 * vertex_format. Writer, reader and host all derive the layout from here, so they cannot
 * disagree about where an attribute lives. Pure functions; any thread.
 */
#include "openrr/asset.h"

#include <stddef.h>
#include <stdint.h>

/* The interleaving order is the order of this table, not the numeric order of the shifts, so
 * a new slot can only ever be appended. */
static const enum rr_vertex_attribute slot_order[] = {
    RR_ATTR_POSITION,  RR_ATTR_NORMAL,    RR_ATTR_TANGENT,
    RR_ATTR_TEXCOORD0, RR_ATTR_TEXCOORD1, RR_ATTR_COLOR0,
};

uint32_t rr_vertex_encoding_size(enum rr_vertex_encoding encoding)
{
    switch (encoding) {
    case RR_VERTEX_FLOAT32x3:
        return 12;
    case RR_VERTEX_FLOAT16x4:
        return 8;
    case RR_VERTEX_SNORM8x4:
        return 4;
    case RR_VERTEX_FLOAT32x2:
        return 8;
    case RR_VERTEX_FLOAT16x2:
        return 4;
    case RR_VERTEX_UNORM8x4:
        return 4;
    case RR_VERTEX_NONE:
        break;
    }
    return 0;
}

uint32_t rr_vertex_format_stride(uint32_t format)
{
    uint32_t stride = 0;
    for (size_t i = 0; i < sizeof slot_order / sizeof slot_order[0]; i++) {
        stride += rr_vertex_encoding_size(RR_VERTEX_ENCODING(format, slot_order[i]));
    }
    /* Every encoding is a multiple of 4 today; the rounding keeps 32-bit attributes aligned
     * should a 2-byte encoding ever be added. */
    return (stride + 3u) & ~3u;
}

int32_t rr_vertex_attribute_offset(uint32_t format, enum rr_vertex_attribute attr)
{
    uint32_t offset = 0;
    for (size_t i = 0; i < sizeof slot_order / sizeof slot_order[0]; i++) {
        uint32_t size = rr_vertex_encoding_size(RR_VERTEX_ENCODING(format, slot_order[i]));
        if (slot_order[i] == attr) {
            return size == 0 ? -1 : (int32_t)offset;
        }
        offset += size;
    }
    return -1;
}
