/* SPDX-License-Identifier: Apache-2.0 */
/*
 * record — the framing of the tcp transport (DESIGN §4.2, docs/protocol.md):
 *   u8 channel | u8 flags | u16 reserved (0) | u32 length (big endian) | payload
 * plus message reassembly from FIRST/LAST fragments and the control-channel messages.
 * Pure functions and a reader object with one owner (the network thread). Fuzzed.
 */
#ifndef RR_RECORD_H
#define RR_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RR_RECORD_HEADER_SIZE 8
#define RR_RECORD_FLAG_FIRST 0x01u /* first fragment of a message */
#define RR_RECORD_FLAG_LAST 0x02u  /* last fragment of a message */
#define RR_RECORD_FLAGS_KNOWN (RR_RECORD_FLAG_FIRST | RR_RECORD_FLAG_LAST)

/* Channel numbers: 0–63 remote data channels, 64–127 player data channels, 128+ built-in. */
#define RR_CHANNEL_DATA_MAX 127u
#define RR_CHANNEL_CONTROL 128u
#define RR_CHANNEL_POSE 129u
#define RR_CHANNEL_VIDEO 130u
#define RR_CHANNEL_AUDIO 131u
#define RR_CHANNEL_STATS 132u
#define RR_CHANNEL_SCENE 133u
#define RR_CHANNEL_BUILTIN_LAST RR_CHANNEL_SCENE

struct rr_record_header {
    uint8_t channel;
    uint8_t flags;
    uint32_t length;
};

enum rr_record_status {
    RR_RECORD_OK = 0,
    RR_RECORD_INCOMPLETE = 1,
    RR_RECORD_BAD = 2,
};

/* Parse a header from @p len bytes: INCOMPLETE below 8 bytes; BAD when reserved is not zero,
 * a flag is unknown, or length exceeds RR_MAX_RECORD_PAYLOAD. */
enum rr_record_status rr_record_parse_header(const uint8_t *p, size_t len,
                                             struct rr_record_header *out);
void rr_record_write_header(uint8_t out[RR_RECORD_HEADER_SIZE], uint8_t channel, uint8_t flags,
                            uint32_t length);

/* Reassembles messages per channel. */
struct rr_record_partial {
    uint8_t *data;
    size_t len;
    size_t cap;
    bool active;
};

struct rr_record_reader {
    size_t max_message;
    size_t max_total; /* all partial messages together: 4 × max_message */
    size_t total;
    struct rr_record_partial partial[256];
};

void rr_record_reader_init(struct rr_record_reader *r, size_t max_message);
void rr_record_reader_fini(struct rr_record_reader *r);

/* Add one record. On RR_RECORD_OK, *out_msg is NULL while the message is incomplete, or
 * points to the whole message (valid until the next push on that channel). RR_RECORD_BAD:
 * a fragment out of order, or the message would exceed max_message; @p why names it. */
enum rr_record_status rr_record_reader_push(struct rr_record_reader *r,
                                            const struct rr_record_header *h,
                                            const uint8_t *payload, const uint8_t **out_msg,
                                            size_t *out_len, const char **why);

/* ---- control channel messages (channel 128, one record each) ---------------------------- */
enum rr_ctrl_type {
    RR_CTRL_KEEPALIVE = 0x01,      /* u64 sender timestamp (µs) */
    RR_CTRL_KEEPALIVE_ACK = 0x02,  /* u64 echoed timestamp */
    RR_CTRL_DISCONNECT = 0x03,     /* u8 reason (the sender's view, e.g. DisconnectRequest) */
    RR_CTRL_CHANNEL_OPEN = 0x10,   /* u8 channel id, u8 priority */
    RR_CTRL_CHANNEL_OPENED = 0x11, /* u8 channel id */
    RR_CTRL_CHANNEL_CLOSE = 0x12,  /* u8 channel id, u8 close reason */
};

struct rr_ctrl_msg {
    uint8_t type;
    uint64_t timestamp;
    uint8_t reason;
    uint8_t channel_id;
    uint8_t priority;
};

#define RR_CTRL_MAX_SIZE 9

/* Parse exactly one control message; lengths must match the type exactly. */
bool rr_ctrl_parse(const uint8_t *p, size_t len, struct rr_ctrl_msg *out);
/* Encode into @p out; returns the size. */
size_t rr_ctrl_encode(const struct rr_ctrl_msg *m, uint8_t out[RR_CTRL_MAX_SIZE]);

#endif
