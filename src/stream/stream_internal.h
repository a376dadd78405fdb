/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What remote.c, remote_video.c, player.c, player_decode.c and clock.c share: the clock
 * filter, the pose ring and the two objects' private state.
 */
#ifndef RR_STREAM_INTERNAL_H
#define RR_STREAM_INTERNAL_H

#include "openrr/stream.h"

#include "decoder.h"
#include "encoder.h"
#include "gl_convert.h"
#include "wire.h"

#include <pthread.h>

#define RR_STREAM_LOG "stream"

/* ---- clock.c: NTP-style offset from request/response exchanges ---------------------------- */
#define RR_CLOCK_SAMPLES 8
struct rr_clock_sync {
    bool valid;
    int64_t offset_us; /* remote − player, from the sample with the smallest round trip */
    uint32_t rtt_us;
    unsigned count;
    unsigned next;
    struct {
        int64_t offset_us;
        uint32_t rtt_us;
    } samples[RR_CLOCK_SAMPLES];
};
void rr_clock_sync_reset(struct rr_clock_sync *c);
/* t0 request sent (player), t1 received (remote), t2 answered (remote), t3 answer received
 * (player). false (sample ignored) when the times are inconsistent. */
bool rr_clock_sync_add(struct rr_clock_sync *c, uint64_t t0, uint64_t t1, uint64_t t2, uint64_t t3);
/* Convert with an offset (remote − player); 0 stays 0 ("unknown"). */
uint64_t rr_clock_to_player(uint64_t remote_us, int64_t offset_us);
uint64_t rr_clock_to_remote(uint64_t player_us, int64_t offset_us);

/* ---- remote --------------------------------------------------------------------------------- */
#define RR_POSE_HISTORY 32

struct rr_pose_entry {
    struct rr_stream_pose pose;
    uint64_t received_us; /* remote clock */
};

struct rr_stream_remote {
    struct rr_builtin_receiver receiver; /* first: the callbacks get the remote back from it */
    struct rr_context *ctx;
    struct rr_stream_remote_config cfg;
    char *cfg_encoder;

    /* ---- lock: network thread and application threads ---- */
    pthread_mutex_t lock;
    pthread_cond_t pose_cond;
    bool connected;
    uint64_t generation; /* +1 per connection */
    char codec[16];
    bool have_pose;
    struct rr_pose_entry history[RR_POSE_HISTORY]; /* ring, newest at history_next - 1 */
    unsigned history_count;
    unsigned history_next;
    bool keyframe_wanted;
    struct rr_stream_remote_stats stats;

    /* ---- submit_lock: the submitting thread's encoder state ---- */
    pthread_mutex_t submit_lock;
    struct rr_encoder *enc;
    uint64_t enc_generation;
    uint64_t next_frame_id;
    uint64_t frames_since_key;
    struct rr_gl_convert *glc;
    uint8_t *msg;
    size_t msg_cap;
    uint32_t target_kbps;
    /* throughput measurement window */
    uint64_t window_start_us;
    uint64_t window_sent_bytes;
    size_t window_start_queued;
    uint64_t window_skipped;
    uint64_t calm_since_us;
};

/* remote.c */
uint64_t rr_stream_remote_now(const struct rr_stream_remote *r);
/* The pose with @p id from the history (lock held); NULL when unknown. */
const struct rr_pose_entry *rr_stream_remote_find_pose_locked(const struct rr_stream_remote *r,
                                                              uint64_t id);

/* ---- player --------------------------------------------------------------------------------- */
#define RR_SENT_POSES 1024
#define RR_DECODE_QUEUE_FRAMES 16
#define RR_DECODE_QUEUE_BYTES (64u * 1024u * 1024u)

struct rr_video_node {
    struct rr_video_node *next;
    uint64_t received_us;
    uint64_t generation;
    size_t size;
    uint8_t data[];
};

struct rr_decoded {
    struct AVFrame *frame;
    struct rr_stream_frame info;
};

struct rr_stream_player {
    struct rr_builtin_receiver receiver; /* first */
    struct rr_context *ctx;
    struct rr_stream_player_config cfg;

    /* ---- lock ---- */
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool stop;
    bool connected;
    uint64_t generation;
    char codec[16];
    uint64_t next_pose_id;
    struct {
        uint64_t id;
        uint64_t sample_us;
        uint64_t predicted_us;
    } sent[RR_SENT_POSES]; /* by id % RR_SENT_POSES */
    struct rr_clock_sync clock;
    uint64_t sync_sent_us; /* last SYNC_REQUEST */
    unsigned syncs_done;   /* responses this connection */
    struct rr_video_node *queue_head;
    struct rr_video_node *queue_tail;
    size_t queue_count;
    size_t queue_bytes;
    bool flush_decoder;       /* the queue overflowed: start again at a keyframe */
    struct rr_decoded newest; /* decoded, not yet blitted */
    struct rr_decoded shown;  /* the last frame blit returned */
    bool ever_shown;
    uint64_t last_receive_us;
    struct rr_stream_player_totals totals;
    /* since the previous blit */
    uint32_t since_received;
    uint32_t since_skipped;
    uint32_t since_discarded;
    float since_min_delta;
    float since_max_delta;
    uint64_t last_present_us;
    struct rr_frame_statistics last_stats;

    /* ---- decode thread only ---- */
    pthread_t thread;
    struct rr_decoder *dec;
    char dec_codec[16];
    uint64_t dec_generation;
    bool wait_keyframe;
    uint64_t last_frame_id;
    uint64_t keyframe_request_us;
};

/* player.c */
uint64_t rr_stream_player_now(const struct rr_stream_player *p);
/* player_decode.c: the decode thread, and the network thread's side of its queue. */
void *rr_player_decode_main(void *arg);
void rr_player_queue_video_locked(struct rr_stream_player *p, const uint8_t *data, size_t size);
void rr_player_clear_queue_locked(struct rr_stream_player *p);
void rr_player_send_sync_locked(struct rr_stream_player *p);

#endif
