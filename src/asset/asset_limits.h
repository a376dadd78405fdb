/* SPDX-License-Identifier: Apache-2.0 */
/*
 * asset_limits — bounds the reader enforces on sizes it would otherwise have to trust, shared
 * with the writer so that it never produces a file the reader refuses. Private to src/asset.
 */
#ifndef RR_ASSET_LIMITS_H
#define RR_ASSET_LIMITS_H

/* At most this many section table entries. */
#define RR_ASSET_MAX_SECTIONS 64u
/* Far above any real scene, far below what a u64 size could make the reader allocate. */
#define RR_ASSET_MAX_SECTION_SIZE (64ull << 30)
/* zstd rarely beats ~20:1 on vertex data; 256:1 is generous and stops a small file from
 * claiming gigabytes (a zip bomb). The writer stores a section plain rather than exceed it. */
#define RR_ASSET_MAX_COMPRESSION_RATIO 256u

#endif
