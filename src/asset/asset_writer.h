/* SPDX-License-Identifier: Apache-2.0 */
/*
 * asset_writer — builds a .rrasset file from section contents. The converter fills records
 * (the on-disk structs of include/openrr/asset.h) and blobs section by section; the writer
 * lays them out 16-byte aligned, hashes (xxHash64) and optionally compresses (zstd) each
 * section, and writes the file under a temporary name that is renamed only when complete, so
 * a failed conversion never leaves a partial .rrasset behind.
 * One owner, one thread.
 */
#ifndef RR_ASSET_WRITER_H
#define RR_ASSET_WRITER_H

#include "openrr/asset.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rr_asset_writer;

enum rr_asset_result rr_asset_writer_create(struct rr_asset_writer **out_writer);
void rr_asset_writer_destroy(struct rr_asset_writer **writer_ptr);

/* Append @p size bytes to section @p type, first padding the section to a multiple of
 * @p align (1, 4, 8 or 16). Returns the byte offset of the data within the section, or
 * UINT64_MAX when out of memory. Record sections take whole records. */
uint64_t rr_asset_writer_append(struct rr_asset_writer *w, uint32_t type, const void *data,
                                size_t size, size_t align);

/* Reserve @p size zeroed bytes in section @p type (aligned like append) and return a pointer to
 * fill them (valid until the next append/reserve on that section) and their offset. */
void *rr_asset_writer_reserve(struct rr_asset_writer *w, uint32_t type, size_t size, size_t align,
                              uint64_t *out_offset);

/* Bytes (or records × record size) in section @p type so far. */
uint64_t rr_asset_writer_section_size(const struct rr_asset_writer *w, uint32_t type);

/* Add @p s to the string table (identical strings share one copy). Returns its offset, or
 * RR_ASSET_NONE when out of memory. NULL and "" give offset 0, the empty string. */
uint32_t rr_asset_writer_string(struct rr_asset_writer *w, const char *s);

void rr_asset_writer_set_bounds(struct rr_asset_writer *w, const float min[3], const float max[3]);

/* Compress sections of at least @p min_size bytes with zstd at @p level (default: off).
 * Level 0 turns compression off (it is not zstd's "default level" here); negative levels are
 * zstd's fast modes. A section whose compressed form is not smaller is stored plain. */
void rr_asset_writer_set_compression(struct rr_asset_writer *w, int level, size_t min_size);

/* Write the file: "<path>.tmp.<pid>" first, fsync, then rename to @p path. On failure nothing
 * is left at @p path or the temporary name; @p err says why. */
enum rr_asset_result rr_asset_writer_finish(struct rr_asset_writer *w, const char *path, char *err,
                                            size_t err_size);

/* Size in bytes of one record of section @p type (1 for blob sections, 0 for unknown types).
 * The reader uses it too: a section's count is its size divided by this. */
size_t rr_asset_record_size(uint32_t type);

#endif
