/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libopenrr_stream — video, poses, clock synchronisation and frame statistics over an
 * established libopenrr_remoting connection (DESIGN §6, docs/stream.md).
 *
 * A remote (renderer) creates an rr_stream_remote on its rr_context, reads the newest head pose,
 * renders both eyes side by side into one image (left eye in the left half) and submits it
 * tagged with the pose id; the library converts it to YUV (on the GPU when a GL texture is
 * given), encodes it with libavcodec (libx264, NVENC or libx265) and sends it on the built-in
 * video channel. A player creates an rr_stream_player on its context, sends poses at its display
 * rate, and calls rr_stream_player_blit() once per displayed frame to take the newest decoded
 * frame.
 *
 * Both objects must be created while their context is disconnected (they install the handlers
 * of the built-in channels) and destroyed before the context. One stream object per context,
 * of the context's role (RR_ERROR_INVALID_ARGUMENT otherwise). Destroying one while connected
 * detaches it: the connection stays up and the peer's stream messages are dropped from then on.
 *
 * Times: microseconds of the local CLOCK_MONOTONIC (rr_stream_now_us()) unless a name says
 * otherwise; the player converts the remote's timestamps into its own clock with the offset
 * measured by clock synchronisation (NTP-style exchanges on the statistics channel).
 *
 * Threads: every function may be called from any thread; each object has its own lock.
 * Submit and blit are meant for one render thread each. Errors are enum rr_result values
 * (remoting.h); a function that fails for a reason worth reading also logs it (OPENRR_LOG).
 */
#ifndef OPENRR_STREAM_H
#define OPENRR_STREAM_H

#include "openrr/remoting.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- poses -------------------------------------------------------------------------------- */

/* Position in metres and orientation as a unit quaternion (x, y, z, w), OpenXR conventions. */
struct rr_stream_posef {
    float position[3];
    float orientation[4];
};

/* Half-angles of a view's field of view in radians (OpenXR XrFovf: left and down negative). */
struct rr_stream_fovf {
    float angle_left;
    float angle_right;
    float angle_up;
    float angle_down;
};

/* One head pose sample of the player. */
struct rr_stream_pose {
    uint64_t pose_id;              /* set by rr_stream_player_send_pose(); increasing from 1 */
    uint64_t sample_time_us;       /* player clock: when the pose was sampled (0 = now) */
    uint64_t predicted_display_us; /* player clock: when a frame rendered for it is shown */
    struct rr_stream_posef head;
    struct rr_stream_posef view[2]; /* left, right eye */
    struct rr_stream_fovf fov[2];
};

/* ---- per-stage timestamps --------------------------------------------------------------------
 * Every frame carries these; the player reports them in its own clock (remote stages converted
 * with the measured offset). 0 = not known (e.g. render times the remote did not give, or a
 * frame for a pose this player never sent). */
struct rr_stream_frame_timing {
    uint64_t pose_sampled_us;  /* player: pose sampled */
    uint64_t pose_received_us; /* remote: the pose arrived */
    uint64_t render_start_us;  /* remote: given with the submit */
    uint64_t render_end_us;
    uint64_t encode_start_us; /* remote: colour conversion + encoding */
    uint64_t encode_end_us;
    uint64_t send_us;       /* remote: the frame was handed to the transport */
    uint64_t receive_us;    /* player: the whole frame arrived */
    uint64_t decode_end_us; /* player: decoded */
    uint64_t present_us;    /* player: taken by blit */
    uint64_t predicted_display_us;
};

/* ---- remote ------------------------------------------------------------------------------- */

struct rr_stream_remote_config {
    uint32_t eye_width;        /* per eye; 0 = 1280. The encoded image is 2 × eye_width wide */
    uint32_t eye_height;       /* 0 = 720 */
    uint32_t fps;              /* target frame rate; 0 = 60 */
    uint32_t max_bitrate_kbps; /* cap of the video bitrate; 0 = 20000 (the samples' value) */
    /* libavcodec encoder name: "libx264", "h264_nvenc", "hevc_nvenc", "libx265", or NULL /
     * "auto" = the first that opens for the negotiated codec: NVENC, then libx264 / libx265. */
    const char *encoder;
    bool fixed_bitrate;         /* do not adapt the bitrate to the measured throughput */
    uint32_t keyframe_interval; /* frames between periodic keyframes; 0 = 5 × fps */
    int64_t clock_skew_us;      /* tests only: added to this side's clock; 0 in real use */
};

/* What the remote has measured. Counters since creation. */
struct rr_stream_remote_stats {
    uint64_t frames_submitted;
    uint64_t frames_encoded;
    uint64_t frames_skipped;    /* not encoded: the transport was congested */
    uint64_t keyframes;         /* periodic, first and requested */
    uint64_t keyframe_requests; /* received from the player */
    uint64_t video_bytes;       /* encoded bytes sent */
    uint32_t bitrate_kbps;      /* current encoder target (≤ max_bitrate_kbps) */
    uint32_t throughput_kbps;   /* what the transport carried over the last 0.5 s window */
    uint64_t poses_received;
    uint64_t poses_out_of_order; /* older than the newest: ignored */
    uint64_t poses_duplicate;    /* same id as one already received: ignored */
    uint64_t poses_invalid;      /* malformed or non-finite: ignored */
    uint64_t last_encode_us;     /* colour conversion + encode of the last frame */
    char encoder[32];            /* the encoder in use, "" before the first frame */
    char codec[16];              /* "h264" or "hevc", "" before connected */
    /* the player's view, from its reports (player clock offset applied) */
    int64_t clock_offset_us; /* remote clock − player clock, as the player measured it */
    uint32_t rtt_us;
    struct rr_stream_frame_timing last_reported; /* last frame the player presented, remote clock */
};

struct rr_stream_remote;

/* Create a remote stream on @p ctx (role RR_ROLE_REMOTE, disconnected). The encoder opens at
 * the first submit after the connection is established, for the codec the handshake chose.
 * Create the context with codecs = rr_stream_remote_codecs(encoder): the remoting default
 * ("hevc,h264") picks HEVC, which without a hardware encoder means libx265 — correct but far
 * from real time on a CPU (a warning is logged when that happens).
 * Errors: RR_ERROR_INVALID_ARGUMENT (a player context; odd dimensions, below 16 or above 4096,
 * fps > 240, bitrate < 100 kbps), RR_ERROR_WRONG_STATE (context not disconnected, or a stream
 * already attached), RR_ERROR_OUT_OF_MEMORY. */
enum rr_result rr_stream_remote_create(struct rr_context *ctx,
                                       const struct rr_stream_remote_config *cfg,
                                       struct rr_stream_remote **out_remote);
/* Detach from the context and free. Not from a library callback. NULL ok. */
void rr_stream_remote_destroy(struct rr_stream_remote **remote_ptr);

/* Check that encoder @p encoder (NULL = auto) opens for @p codec ("h264" / "hevc") at the
 * given size here, before listening or connecting. On failure @p err says why in words for
 * a user (e.g. "h264_nvenc could not open: no NVIDIA GPU or driver"). */
enum rr_result rr_stream_probe_encoder(const char *encoder, const char *codec, uint32_t width,
                                       uint32_t height, char *err, size_t err_size);
/* The codec list ("hevc,h264" or "h264") this machine can encode with @p encoder (NULL = auto),
 * for rr_context_config.codecs: HEVC only when a hardware HEVC encoder opens (libx265 is too
 * slow for real time on a CPU), unless @p encoder names an HEVC encoder. Static storage. */
const char *rr_stream_remote_codecs(const char *encoder);

/* The newest pose received (by id). false while none has arrived on this connection. */
bool rr_stream_remote_latest_pose(struct rr_stream_remote *remote, struct rr_stream_pose *out);
/* Wait up to @p timeout_ms (-1 forever) for a pose newer than @p after_id. false on timeout
 * or when the connection ended. */
bool rr_stream_remote_wait_pose(struct rr_stream_remote *remote, uint64_t after_id, int timeout_ms,
                                struct rr_stream_pose *out);
/* The head pose extrapolated to @p display_time_us (player clock) from the pose history
 * (linear position, spherical orientation, at most 50 ms ahead). false with no pose yet. */
bool rr_stream_remote_predict_pose(struct rr_stream_remote *remote, uint64_t display_time_us,
                                   struct rr_stream_pose *out);

/* What a submitted frame was rendered for, and when (local clock; 0 = unknown). */
struct rr_stream_submit_info {
    uint64_t pose_id;
    uint64_t render_start_us;
    uint64_t render_end_us;
};

/* Submit a side-by-side stereo image: (2 × eye_width) × eye_height RGBA8 pixels, rows
 * @p stride bytes apart, top row first. Converts, encodes and queues the frame before
 * returning (the pixels are not kept). When the transport is congested the frame is skipped
 * (counted; RR_OK). Errors: RR_ERROR_NOT_CONNECTED, RR_ERROR_INVALID_ARGUMENT,
 * RR_ERROR_SYSTEM (the encoder failed or could not open: logged with the reason; the stream
 * stays usable with the next connection). */
enum rr_result rr_stream_remote_submit_rgba(struct rr_stream_remote *remote,
                                            const struct rr_stream_submit_info *info,
                                            const uint8_t *rgba, size_t stride);

/* As rr_stream_remote_submit_rgba, from GL_TEXTURE_2D @p texture (RGBA, 2 × eye_width ×
 * eye_height, row 0 = bottom as GL renders) of the OpenGL 4.5 core context current on the
 * calling thread. RGB → YUV runs on the GPU; only the YUV planes are read back. The first call
 * creates GL objects in that context; use one context per remote. */
enum rr_result rr_stream_remote_submit_gl(struct rr_stream_remote *remote,
                                          const struct rr_stream_submit_info *info,
                                          unsigned int texture);

/* Ask for the next frame to be a keyframe. */
void rr_stream_remote_request_keyframe(struct rr_stream_remote *remote);
void rr_stream_remote_stats(struct rr_stream_remote *remote, struct rr_stream_remote_stats *out);

/* ---- player ------------------------------------------------------------------------------- */

/* BlitResult of the reference, in its order. */
enum rr_blit_result {
    RR_BLIT_SUCCESS_COLOR = 0,
    RR_BLIT_SUCCESS_COLOR_DEPTH = 1, /* reserved: depth is not streamed yet */
    RR_BLIT_FAILED_NO_REMOTE_FRAME_AVAILABLE = 2,
    RR_BLIT_FAILED_NO_CAMERA = 3, /* reserved: never returned */
    RR_BLIT_FAILED_REMOTE_FRAME_TOO_OLD = 4,
};
const char *rr_blit_result_str(enum rr_blit_result r); /* e.g. "Success_Color" */

struct rr_stream_player_config {
    /* The newest frame arrived longer ago than this → FAILED_REMOTE_FRAME_TOO_OLD.
     * 0 = off; otherwise at least 100 (as the reference). */
    uint32_t blit_timeout_ms;
    /* Expected time from present to photons, reported as latency_present_to_display. */
    uint32_t present_to_display_us;
    int64_t clock_skew_us; /* tests only: added to this side's clock; 0 in real use */
};

/* A decoded frame: planar YUV 4:2:0 (BT.601, limited range), side-by-side stereo. Owned by the
 * player; valid until the next blit or destroy. */
struct rr_stream_frame {
    uint64_t frame_id;
    uint64_t pose_id;
    bool keyframe;
    bool unknown_pose; /* the remote named a pose this player never sent (no latency taken) */
    uint32_t width;    /* both eyes */
    uint32_t height;
    const uint8_t *plane[3]; /* Y, U, V */
    int stride[3];
    struct rr_stream_frame_timing timing; /* player clock */
};

/* The reference's LastFrameStatistics, for the frame the last blit returned. Times in
 * milliseconds. The counters cover what happened between the previous new frame and this one;
 * video_frame_reused_count counts the blits that returned this frame again since. */
struct rr_frame_statistics {
    float latency; /* pose sampled → display */
    float latency_pose_to_receive;
    float latency_receive_to_present;
    float latency_present_to_display;
    float time_since_last_present;
    uint32_t video_frames_received;
    uint32_t video_frame_reused_count; /* blits that returned this same frame again */
    uint32_t video_frames_skipped;     /* decoded but replaced by a newer one before a blit */
    uint32_t video_frames_discarded;   /* not shown: corrupt, truncated or undecodable */
    float video_frame_min_delta;       /* smallest / largest gap between received frames */
    float video_frame_max_delta;
};

/* The same counters since creation, with the rest of what the player knows. */
struct rr_stream_player_totals {
    uint64_t video_frames_received;
    uint64_t video_frames_decoded;
    uint64_t video_frame_reused_count;
    uint64_t video_frames_skipped;
    uint64_t video_frames_discarded;
    uint64_t video_frames_unknown_pose;
    uint64_t video_bytes_received;
    uint64_t keyframes_received;
    uint64_t keyframe_requests_sent;
    uint64_t decoder_errors;
    uint64_t poses_sent;
    uint64_t blits;
    float video_frame_max_delta_ms; /* largest gap between received frames (a stall shows here) */
    int64_t clock_offset_us;        /* remote clock − player clock */
    uint32_t clock_rtt_us;
    uint32_t width, height;
    char codec[16];
};

struct rr_stream_player;

/* Create a player stream on @p ctx (role RR_ROLE_PLAYER, disconnected). Errors as for
 * rr_stream_remote_create (blit_timeout_ms between 1 and 99 is invalid). */
enum rr_result rr_stream_player_create(struct rr_context *ctx,
                                       const struct rr_stream_player_config *cfg,
                                       struct rr_stream_player **out_player);
void rr_stream_player_destroy(struct rr_stream_player **player_ptr);

/* Send @p pose (best effort, high priority). Sets pose->pose_id and, when 0,
 * pose->sample_time_us. Errors: RR_ERROR_NOT_CONNECTED, RR_ERROR_INVALID_ARGUMENT
 * (non-finite numbers). */
enum rr_result rr_stream_player_send_pose(struct rr_stream_player *player,
                                          struct rr_stream_pose *pose);

/* Take the newest decoded frame into *out_frame (NULL on failure) and account it as presented
 * now. Returns the same frame again (reused) when nothing newer arrived. */
enum rr_blit_result rr_stream_player_blit(struct rr_stream_player *player,
                                          const struct rr_stream_frame **out_frame);
/* Convert @p frame to RGBA8 (width × height, @p stride bytes per row, top row first).
 * Errors: RR_ERROR_INVALID_ARGUMENT, RR_ERROR_OUT_OF_MEMORY. */
enum rr_result rr_stream_frame_to_rgba(const struct rr_stream_frame *frame, uint8_t *rgba,
                                       size_t stride);

void rr_stream_player_last_frame_statistics(struct rr_stream_player *player,
                                            struct rr_frame_statistics *out);
void rr_stream_player_totals(struct rr_stream_player *player, struct rr_stream_player_totals *out);
/* Ask the remote for a keyframe now. */
enum rr_result rr_stream_player_request_keyframe(struct rr_stream_player *player);

/* Timestamp conversion with the measured offset: a time of the remote's clock into the
 * player's, and back. Identity until the first measurement. */
uint64_t rr_stream_player_remote_to_local(struct rr_stream_player *player, uint64_t remote_us);
uint64_t rr_stream_player_local_to_remote(struct rr_stream_player *player, uint64_t local_us);
/* And on the remote: a player time into the remote's clock, and back. */
uint64_t rr_stream_remote_player_to_local(struct rr_stream_remote *remote, uint64_t player_us);
uint64_t rr_stream_remote_local_to_player(struct rr_stream_remote *remote, uint64_t local_us);

/* This process's stream clock (CLOCK_MONOTONIC in µs, plus a configured test skew when
 * @p skew_us is not 0). */
uint64_t rr_stream_now_us(int64_t skew_us);

#ifdef __cplusplus
}
#endif
#endif /* OPENRR_STREAM_H */
