/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libopenrr_remoting — the OpenRR remoting connection.
 *
 * One rr_context is one endpoint (a player or a remote). Either side may listen or connect,
 * plain or secure. The server proves itself with a PKCS#12 (or PEM) certificate, the client
 * proves itself with a token under an HTTP realm; the application makes every security
 * decision through four interfaces whose request objects it completes later, from any thread.
 * After the handshake the connection carries framed records: data channels and built-in
 * channels. The wire format is described in docs/protocol.md, the security model in
 * docs/security.md.
 *
 * Threads: each context runs one network thread. Every function here may be called from any
 * thread unless its comment says otherwise. Interface callbacks and the event callback run on
 * the network thread and must not block: keep the request object and complete it later.
 *
 * Errors: functions return enum rr_result (RR_OK = 0); rr_result_str() names each value.
 * Connection outcomes (failures included) arrive as events carrying an rr_disconnect_reason.
 */
#ifndef OPENRR_REMOTING_H
#define OPENRR_REMOTING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Default handshake port of the stock player (the samples reserve this + 1 for transport). */
#define RR_DEFAULT_HANDSHAKE_PORT 8265
/* Longest token the library sends or accepts, in bytes. */
#define RR_MAX_TOKEN_SIZE 8192
/* Longest HTTP handshake message (request line or status line plus headers), in bytes. */
#define RR_MAX_HANDSHAKE_SIZE 16384
/* Largest payload of one record on the wire; longer messages are split into records. With its
 * 8-byte header a full record is 16384 bytes: exactly one TLS record. */
#define RR_MAX_RECORD_PAYLOAD 16376
/* Default limit of one data-channel message, in bytes (configurable up to 256 MiB). */
#define RR_DEFAULT_MAX_MESSAGE_SIZE (16u * 1024u * 1024u)

/* Results of library calls. */
enum rr_result {
    RR_OK = 0,
    RR_ERROR_INVALID_ARGUMENT = 1, /* a NULL, out-of-range or malformed argument */
    RR_ERROR_OUT_OF_MEMORY = 2,
    RR_ERROR_WRONG_STATE = 3,    /* e.g. connect while not disconnected */
    RR_ERROR_NOT_CONNECTED = 4,  /* the call needs an established connection */
    RR_ERROR_CHANNEL_EXISTS = 5, /* a data channel with that id is already open */
    RR_ERROR_CHANNEL_CLOSED = 6, /* the data channel is closed */
    RR_ERROR_QUEUE_FULL = 7,     /* the send queue limit would be exceeded */
    RR_ERROR_MESSAGE_TOO_LARGE = 8,
    RR_ERROR_NO_EVENT = 9,     /* rr_context_poll_event: nothing pending */
    RR_ERROR_SYSTEM = 10,      /* an OS call failed (errno is kept) */
    RR_ERROR_TLS = 11,         /* OpenSSL failed; the log says why */
    RR_ERROR_CERTIFICATE = 12, /* certificate or key could not be read or used */
    RR_ERROR_IO = 13,          /* a file could not be read or written */
};

/* Name of a result, e.g. "RR_ERROR_WRONG_STATE". Never NULL; static storage. */
const char *rr_result_str(enum rr_result result);

/* The application role of a context (not the network role). */
enum rr_role {
    RR_ROLE_PLAYER = 0, /* display device: sends poses, receives video */
    RR_ROLE_REMOTE = 1, /* renderer: receives poses, sends video */
};

/* Connection state, values as in the reference (ConnectionState). */
enum rr_connection_state {
    RR_STATE_DISCONNECTED = 0,
    RR_STATE_CONNECTING = 1, /* connecting, or listening for a client */
    RR_STATE_CONNECTED = 2,
};

/* Disconnect / failure reasons, values as in the reference (ConnectionFailureReason). */
enum rr_disconnect_reason {
    RR_REASON_NONE = 0,
    RR_REASON_UNKNOWN = 1,
    RR_REASON_NO_SERVER_CERTIFICATE = 2,
    RR_REASON_HANDSHAKE_PORT_BUSY = 3,
    RR_REASON_HANDSHAKE_UNREACHABLE = 4,
    RR_REASON_HANDSHAKE_CONNECTION_FAILED = 5,
    RR_REASON_AUTHENTICATION_FAILED = 6,
    RR_REASON_REMOTING_VERSION_MISMATCH = 7,
    RR_REASON_INCOMPATIBLE_TRANSPORT_PROTOCOLS = 8,
    RR_REASON_HANDSHAKE_FAILED = 9,
    RR_REASON_TRANSPORT_PORT_BUSY = 10,
    RR_REASON_TRANSPORT_UNREACHABLE = 11,
    RR_REASON_TRANSPORT_CONNECTION_FAILED = 12,
    RR_REASON_PROTOCOL_VERSION_MISMATCH = 13,
    RR_REASON_PROTOCOL_ERROR = 14,
    RR_REASON_VIDEO_CODEC_NOT_AVAILABLE = 15,
    RR_REASON_CANCELED = 16,
    RR_REASON_CONNECTION_LOST = 17,
    RR_REASON_DEVICE_LOST = 18,
    RR_REASON_DISCONNECT_REQUEST = 19,
    RR_REASON_HANDSHAKE_NETWORK_UNREACHABLE = 20,
    RR_REASON_HANDSHAKE_CONNECTION_REFUSED = 21,
    RR_REASON_VIDEO_FORMAT_NOT_AVAILABLE = 22,
    RR_REASON_PEER_DISCONNECT_REQUEST = 23,
    RR_REASON_PEER_DISCONNECT_TIMEOUT = 24,
    RR_REASON_SESSION_OPEN_TIMEOUT = 25,
    RR_REASON_REMOTING_HANDSHAKE_TIMEOUT = 26,
    RR_REASON_INTERNAL_ERROR = 27,
    RR_REASON_HANDSHAKE_PERMISSION_DENIED = 28,
};
#define RR_REASON_COUNT 29

/* Reference name of a reason, e.g. "AuthenticationFailed"; "Unknown" for out-of-range. */
const char *rr_disconnect_reason_str(enum rr_disconnect_reason reason);
/* Parse a reference name back (exact match). Returns false when the name is unknown. */
bool rr_disconnect_reason_from_str(const char *name, enum rr_disconnect_reason *out_reason);

/* Data channel priority (reference: LOW/MEDIUM/HIGH). */
enum rr_priority {
    RR_PRIORITY_LOW = 0,
    RR_PRIORITY_MEDIUM = 1,
    RR_PRIORITY_HIGH = 2,
};

/* Data channel status (reference: OPEN_PENDING 0 / OPENED 1 / CLOSED 2). */
enum rr_channel_status {
    RR_CHANNEL_OPEN_PENDING = 0,
    RR_CHANNEL_OPENED = 1,
    RR_CHANNEL_CLOSED = 2,
};

/* Why a data channel closed (reference: PROTOCOL 0 / ERROR 1). */
enum rr_channel_close_reason {
    RR_CHANNEL_CLOSED_PROTOCOL = 0, /* closed by either side, or the connection ended */
    RR_CHANNEL_CLOSED_ERROR = 1,    /* closed because of an error */
};

/* Result of a server name check (reference: NOT_CHECKED 0 / MATCH 1 / MISMATCH 2). */
enum rr_name_validation {
    RR_NAME_NOT_CHECKED = 0,
    RR_NAME_MATCH = 1,
    RR_NAME_MISMATCH = 2,
};

/*
 * Certificate validation result (reference: CertificateValidationResult). A connection is
 * accepted only when trusted_root is true, name_validation_result is not MISMATCH and every
 * other flag is false.
 */
struct rr_certificate_validation_result {
    bool trusted_root; /* the chain ends at a trusted root */
    bool revoked;      /* a certificate of the chain is revoked */
    bool expired;      /* outside its validity window (also: not yet valid) */
    bool wrong_usage;  /* not issued for TLS server authentication */
    enum rr_name_validation name_validation_result;
    bool revocation_check_failed; /* status unknown while a check was forced */
    bool invalid_cert_or_chain;   /* undecodable or inconsistent input */
};

/* True when @p result lets a connection proceed (see the rule above). */
bool rr_certificate_validation_result_ok(const struct rr_certificate_validation_result *result);

/*
 * Write the set flags of @p result as a space-separated list of reference names
 * ("trustedRoot nameMismatch revoked …"; "trustedRoot" is written when the root is trusted,
 * "untrustedRoot" when not; "nameMatch"/"nameMismatch"/"nameNotChecked"). Always
 * NUL-terminates within @p size. Returns @p buf.
 */
char *rr_certificate_validation_result_format(const struct rr_certificate_validation_result *result,
                                              char *buf, size_t size);

/* One DER-encoded X.509 certificate. */
struct rr_der_certificate {
    const uint8_t *data;
    size_t size;
};

/* A certificate chain as the server sent it: index 0 is the server (subject) certificate. */
struct rr_certificate_chain {
    size_t count;
    const struct rr_der_certificate *certificates;
};

/* ---- request objects ------------------------------------------------------------------
 * The library hands a request object to an interface method; the application keeps it and
 * later calls exactly one completion function (…_complete or …_cancel) from any thread.
 * That call releases the application's reference: do not touch the pointer afterwards.
 * If the attempt already ended (disconnect, deadline, context destroyed) the completion is a
 * harmless no-op. A request never completed ends its attempt when the handshake deadline
 * (rr_context_config.handshake_timeout_ms) passes. */
struct rr_certificate_request;    /* server: supply the certificate */
struct rr_token_validation;       /* server: judge a client token */
struct rr_token_request;          /* client: supply a token for a realm */
struct rr_certificate_validation; /* client: judge the server's chain */

/* Server side: the certificate store to present.
 * @p pfx: PKCS#12 bytes, or PEM text holding a certificate (chain) and its private key; copied.
 * @p subject_name: must name the store's certificate (the one that belongs to its private
 *     key): its PKCS#12 friendly name or its subject CN. NULL or "" accepts that certificate.
 * @p password: the store's password; NULL or "" for none. Wiped from library memory after use.
 * No match, wrong password or no private key → the listen attempt ends with
 * RR_REASON_NO_SERVER_CERTIFICATE and the cause is logged. */
void rr_certificate_request_complete(struct rr_certificate_request *req, const void *pfx,
                                     size_t pfx_size, const char *subject_name,
                                     const char *password);
void rr_certificate_request_cancel(struct rr_certificate_request *req);

/* Server side: the verdict on a client token. */
void rr_token_validation_complete(struct rr_token_validation *req, bool valid);
void rr_token_validation_cancel(struct rr_token_validation *req);

/* Client side: the token to send (copied; NUL-terminated; at most RR_MAX_TOKEN_SIZE bytes of
 * visible ASCII). NULL, "" or an unusable token → RR_REASON_AUTHENTICATION_FAILED. */
void rr_token_request_complete(struct rr_token_request *req, const char *token);
/* Cancelling a client request ends the attempt with RR_REASON_CANCELED. */
void rr_token_request_cancel(struct rr_token_request *req);

/* Client side: the final verdict on the server's chain (copied). */
void rr_certificate_validation_complete(struct rr_certificate_validation *req,
                                        const struct rr_certificate_validation_result *result);
void rr_certificate_validation_cancel(struct rr_certificate_validation *req);

/* ---- the four interfaces (structs of function pointers, `self` first) --------------------
 * The application owns these objects; they must stay valid until the context reports the
 * end of the listen/connect they were passed to (a disconnected event) or is destroyed. */

struct rr_certificate_provider {
    /* Called once per rr_context_listen_secure(), on the network thread. TLS handshakes that
     * arrive before @p req completes wait (up to the handshake deadline) for it. */
    void (*get_certificate)(struct rr_certificate_provider *self,
                            struct rr_certificate_request *req);
};

struct rr_authentication_receiver {
    /* The HTTP authentication realm sent in the 401 challenge. Called on the network thread;
     * the string is copied at listen time. NULL means "OpenRR Remoting". */
    const char *(*get_realm)(struct rr_authentication_receiver *self);
    /* Judge @p token (valid only during this call: copy it if needed). */
    void (*validate_token)(struct rr_authentication_receiver *self, const char *token,
                           struct rr_token_validation *req);
};

struct rr_authentication_provider {
    /* Supply a token for @p realm (valid only during this call). Called after the server's
     * certificate chain was accepted, so a token never reaches an unverified server. */
    void (*get_token)(struct rr_authentication_provider *self, const char *realm,
                      struct rr_token_request *req);
};

struct rr_certificate_validator {
    /* When true, the library runs system validation first and passes its result. */
    bool perform_system_validation;
    /* @p chain and @p system_result (NULL unless perform_system_validation) stay valid until
     * @p req is completed or cancelled. @p server_name is the host given to connect. */
    void (*validate_certificate)(struct rr_certificate_validator *self,
                                 const struct rr_certificate_chain *chain, const char *server_name,
                                 bool force_revocation_check,
                                 const struct rr_certificate_validation_result *system_result,
                                 struct rr_certificate_validation *req);
};

/* ---- events --------------------------------------------------------------------------- */

struct rr_data_channel;

enum rr_event_type {
    RR_EVENT_NONE = 0,
    RR_EVENT_LISTENING = 1, /* port, transport_port */
    RR_EVENT_CONNECTED = 2,
    RR_EVENT_DISCONNECTED = 3,         /* reason, detail; the context is disconnected */
    RR_EVENT_ATTEMPT_FAILED = 4,       /* listener only: one incoming attempt failed (reason,
                                          detail); the context keeps listening */
    RR_EVENT_DATA_CHANNEL_CREATED = 5, /* the peer opened a channel: channel, channel_id */
    RR_EVENT_DATA_CHANNEL_OPENED = 6,  /* a channel we created is open: channel, channel_id */
    RR_EVENT_DATA_RECEIVED = 7,        /* channel, channel_id, packet_id, data, size */
    RR_EVENT_DATA_CHANNEL_CLOSED = 8,  /* channel, channel_id, close_reason */
};

/* Name of an event type, e.g. "Connected". */
const char *rr_event_type_str(enum rr_event_type type);

struct rr_event {
    enum rr_event_type type;
    enum rr_disconnect_reason reason;
    uint16_t port;                   /* LISTENING: bound handshake port */
    uint16_t transport_port;         /* LISTENING: bound transport port */
    struct rr_data_channel *channel; /* owned by the context, see rr_data_channel_destroy() */
    uint8_t channel_id;
    enum rr_channel_close_reason close_reason;
    uint64_t packet_id; /* DATA_RECEIVED: per-channel sequence number from 0 */
    uint8_t *data;      /* DATA_RECEIVED: the message; freed by rr_event_release() */
    size_t size;
    char detail[192]; /* human-readable cause for failures; "" otherwise; no secrets */
};

/* Free what a polled event owns (its data). Safe on a zeroed or already-released event. */
void rr_event_release(struct rr_event *event);

/* Event callback: runs on the network thread; @p event and its data are valid only during
 * the call (do not call rr_event_release on it). Must not block or destroy the context. */
typedef void (*rr_event_callback)(void *user, const struct rr_event *event);

/* ---- context ---------------------------------------------------------------------------- */

struct rr_context_config {
    enum rr_role role;
    /* Deadline for a whole handshake attempt, including every request object. 0 = 10000. */
    uint32_t handshake_timeout_ms;
    /* Interval of keepalive messages (sent whatever the traffic; they also measure the round
     * trip, see rr_connection_stats.rtt_us). 0 = 1000. */
    uint32_t keepalive_interval_ms;
    /* No traffic from the peer for this long → RR_REASON_PEER_DISCONNECT_TIMEOUT. 0 = 5000. */
    uint32_t peer_timeout_ms;
    /* Client: extra trust anchors (PEM file), added to the system store. May be NULL. The
     * trust files (ca_file, crl_file, system store) are read once, at the first secure connect
     * of the context. */
    const char *ca_file;
    /* Client: do not load the system trust store (only ca_file is trusted). */
    bool no_system_trust;
    /* Client: PEM file of CRLs consulted during system validation. May be NULL. */
    const char *crl_file;
    /* Client: an unknown revocation status fails validation (revocation_check_failed). */
    bool force_revocation_check;
    /* Client: fetch CRLs from distribution points and query OCSP responders (http only).
     * Default false = on; set true to only use crl_file. */
    bool no_revocation_fetch;
    /* Video codecs this endpoint supports, most preferred first, comma separated
     * ("hevc,h264" when NULL). The remote's preference order wins. */
    const char *codecs;
    /* Largest data-channel message accepted or sent. 0 = RR_DEFAULT_MAX_MESSAGE_SIZE. */
    size_t max_message_size;
    /* Guaranteed messages queued beyond this many bytes → RR_ERROR_QUEUE_FULL. 0 = 64 MiB. */
    size_t max_send_queue;
    /* Best-effort messages are dropped while their priority queue holds more. 0 = 256 KiB. */
    size_t best_effort_queue_limit;
    /* When set, events go to this callback on the network thread instead of the poll queue. */
    rr_event_callback event_callback;
    void *event_user;
};

struct rr_context;

/* Create a context and start its network thread. @p cfg is copied (strings too).
 * Errors: RR_ERROR_INVALID_ARGUMENT, RR_ERROR_OUT_OF_MEMORY, RR_ERROR_SYSTEM, RR_ERROR_TLS. */
enum rr_result rr_context_create(const struct rr_context_config *cfg, struct rr_context **out_ctx);

/* Disconnect (best effort, bounded), stop the thread, cancel pending requests, free everything
 * including data channels, and set *ctx_ptr to NULL. Not from a library callback. NULL ok. */
void rr_context_destroy(struct rr_context **ctx_ptr);

/* Connect in plain text to @p host (name, IPv4 or IPv6 literal) on @p port (0 = 8265).
 * Asynchronous: RR_OK means the attempt started; RR_EVENT_CONNECTED or RR_EVENT_DISCONNECTED
 * follows. Errors: RR_ERROR_INVALID_ARGUMENT, RR_ERROR_WRONG_STATE (not disconnected). */
enum rr_result rr_context_connect(struct rr_context *ctx, const char *host, uint16_t port);

/* As rr_context_connect, over TLS 1.3. @p auth supplies the token (required);
 * @p validator judges the server's chain (NULL = system validation alone decides). */
enum rr_result rr_context_connect_secure(struct rr_context *ctx, const char *host, uint16_t port,
                                         struct rr_authentication_provider *auth,
                                         struct rr_certificate_validator *validator);

/* Listen on @p local_host (NULL or "" = all IPv6 and IPv4 addresses; a literal address or a
 * name) on @p handshake_port (0 = ephemeral) with @p transport_port (0 = ephemeral) reserved
 * for the transport. RR_EVENT_LISTENING reports the bound ports; a failure ends with
 * RR_EVENT_DISCONNECTED: HandshakePortBusy, TransportPortBusy, HandshakePermissionDenied,
 * HandshakeUnreachable / TransportUnreachable (address not on this machine); when secure also
 * NoServerCertificate (the provider failed, cancelled or did not answer within the handshake
 * timeout) and InternalError (an invalid realm: printable ASCII, at most 256 characters).
 * One client is served; after its disconnect the context is disconnected and may listen
 * again. Errors: RR_ERROR_INVALID_ARGUMENT, RR_ERROR_WRONG_STATE. */
enum rr_result rr_context_listen(struct rr_context *ctx, const char *local_host,
                                 uint16_t handshake_port, uint16_t transport_port);

/* As rr_context_listen, over TLS 1.3 with @p cert_provider and @p auth_receiver (both
 * required). */
enum rr_result rr_context_listen_secure(struct rr_context *ctx, const char *local_host,
                                        uint16_t handshake_port, uint16_t transport_port,
                                        struct rr_certificate_provider *cert_provider,
                                        struct rr_authentication_receiver *auth_receiver);

/* End the connection or the listening (also an attempt in progress). The local side reports
 * RR_REASON_DISCONNECT_REQUEST, the peer RR_REASON_PEER_DISCONNECT_REQUEST. Queued guaranteed
 * data is flushed first (bounded by one second). Asynchronous; RR_OK when already idle. */
enum rr_result rr_context_disconnect(struct rr_context *ctx);

/* The application role the context was created with (fixed for its life). */
enum rr_role rr_context_role(const struct rr_context *ctx);

/* Current state; *out_last_reason (may be NULL) gets the reason of the last disconnect. */
enum rr_connection_state rr_context_state(struct rr_context *ctx,
                                          enum rr_disconnect_reason *out_last_reason);

/* Take the oldest pending event into @p out_event (release it with rr_event_release()).
 * @p timeout_ms: 0 = do not wait, -1 = wait forever. Errors: RR_ERROR_NO_EVENT. */
enum rr_result rr_context_poll_event(struct rr_context *ctx, struct rr_event *out_event,
                                     int timeout_ms);

/* What the established (or last) connection negotiated. */
struct rr_connection_info {
    bool secure;
    enum rr_role peer_role;
    char peer_address[64]; /* "[addr]:port" or "addr:port" */
    char tls_version[16];  /* "TLSv1.3" or "" */
    char tls_cipher[64];
    char peer_certificate_sha256[96];  /* client: server cert fingerprint "AB:CD:…"; or "" */
    char local_certificate_sha256[96]; /* server: our certificate's fingerprint; or "" */
    char codec[16];                    /* "hevc" or "h264" */
    char transport[8];                 /* "tcp" */
    uint16_t transport_port;
    char connection_id[33]; /* 32 hex digits */
    bool token_from_cache;  /* client: the first request carried a cached token */
    bool has_validation;    /* client, secure: the fields below are set */
    struct rr_certificate_validation_result system_validation; /* system validation result */
    struct rr_certificate_validation_result final_validation;  /* the decision applied */
    uint64_t handshake_us;                                     /* connect/accept → Connected */
};

/* Copy the info of the current or last connection. Errors: RR_ERROR_NOT_CONNECTED if there
 * never was one. Also useful after a failed secure connect: has_validation tells whether the
 * chain was judged. */
enum rr_result rr_context_connection_info(struct rr_context *ctx, struct rr_connection_info *out);

struct rr_connection_stats {
    uint64_t bytes_sent; /* record bytes written (before TLS) */
    uint64_t bytes_received;
    uint64_t records_sent;
    uint64_t records_received;
    uint64_t messages_sent; /* data-channel messages */
    uint64_t messages_received;
    uint64_t messages_dropped; /* best-effort messages dropped under congestion */
    uint32_t rtt_us;           /* last keepalive round trip */
};
enum rr_result rr_context_stats(struct rr_context *ctx, struct rr_connection_stats *out);

/* ---- data channels ------------------------------------------------------------------------ */

/* Open data channel @p id: 0–63 from a remote, 64–127 from a player. The channel is
 * OPEN_PENDING until the peer confirms (RR_EVENT_DATA_CHANNEL_OPENED). The context owns the
 * channel; rr_data_channel_destroy() closes and releases it.
 * Errors: RR_ERROR_INVALID_ARGUMENT (id out of this role's range), RR_ERROR_NOT_CONNECTED,
 * RR_ERROR_CHANNEL_EXISTS (open, or the close of an earlier channel with that id is still
 * queued: retry after RR_EVENT_DATA_CHANNEL_CLOSED or shortly after). */
enum rr_result rr_data_channel_create(struct rr_context *ctx, uint8_t id, enum rr_priority priority,
                                      struct rr_data_channel **out_channel);

/* Queue @p size bytes (copied) on @p ch. Guaranteed messages are always delivered while the
 * connection lives; best-effort ones are dropped when their priority's queue is congested.
 * Allowed while OPEN_PENDING: the message follows the open request on the wire. A dropped
 * best-effort message still returns RR_OK (counted in rr_connection_stats.messages_dropped).
 * max_send_queue bounds all queued bytes. Errors: RR_ERROR_CHANNEL_CLOSED,
 * RR_ERROR_MESSAGE_TOO_LARGE, RR_ERROR_QUEUE_FULL, RR_ERROR_INVALID_ARGUMENT. */
enum rr_result rr_data_channel_send(struct rr_data_channel *ch, const void *data, size_t size,
                                    bool guaranteed_delivery);

/* Status and bytes queued but not yet written. */
enum rr_channel_status rr_data_channel_status(struct rr_data_channel *ch,
                                              size_t *out_send_queue_size);
uint8_t rr_data_channel_id(const struct rr_data_channel *ch);

/* Close @p *ch_ptr (the peer gets RR_EVENT_DATA_CHANNEL_CLOSED), free it, set it to NULL.
 * Events already polled that name it must not be used afterwards. NULL ok. */
void rr_data_channel_destroy(struct rr_data_channel **ch_ptr);

/* ---- built-in channels ---------------------------------------------------------------------
 * Channels 129–133 carry the platform's own traffic (poses, video, audio, statistics, scene
 * calls): libopenrr_stream and the host use them; applications use data channels. A record on
 * a built-in channel that never had a receiver on this context is a protocol error
 * (ProtocolError); after a receiver was detached, its channels' messages are dropped. */
#define RR_BUILTIN_POSE 129u
#define RR_BUILTIN_VIDEO 130u
#define RR_BUILTIN_AUDIO 131u
#define RR_BUILTIN_STATS 132u
#define RR_BUILTIN_SCENE 133u
/* Largest message on a built-in channel (a keyframe fits easily), whatever max_message_size. */
#define RR_MAX_BUILTIN_MESSAGE (8u * 1024u * 1024u)
/* Bit of a built-in channel in an attach mask. */
#define RR_BUILTIN_BIT(channel) (1u << ((channel)-RR_BUILTIN_POSE))

/* Receives what arrives on built-in channels. Every function runs on the network thread, is
 * never called concurrently with another of the same receiver, and must not block or call
 * rr_context_attach_builtin(); rr_context_send_builtin() is allowed. */
struct rr_builtin_receiver {
    /* A connection was established, before RR_EVENT_CONNECTED is reported. @p info is the
     * connection's (codec, peer role…), valid during the call. May be NULL. */
    void (*on_connected)(struct rr_builtin_receiver *self, const struct rr_connection_info *info);
    /* One whole message; @p data is valid during the call only. */
    void (*on_message)(struct rr_builtin_receiver *self, uint8_t channel, const uint8_t *data,
                       size_t size);
    /* The connection ended, before RR_EVENT_DISCONNECTED is reported. May be NULL. */
    void (*on_disconnected)(struct rr_builtin_receiver *self);
};

/* Attach @p receiver to the built-in channels in @p channel_mask (RR_BUILTIN_BIT(...) ored);
 * NULL detaches whatever receives those channels. Attach while disconnected; detaching is
 * allowed any time and returns once no callback of the receiver runs any more (so it must not
 * be called from one). Errors: RR_ERROR_INVALID_ARGUMENT (empty or unknown bits),
 * RR_ERROR_WRONG_STATE (attaching while not disconnected, or a channel already taken). */
enum rr_result rr_context_attach_builtin(struct rr_context *ctx, uint32_t channel_mask,
                                         struct rr_builtin_receiver *receiver);

/* Queue @p size bytes (copied) on built-in @p channel with @p priority; the same rules as
 * rr_data_channel_send() otherwise (best effort dropped under congestion; max_send_queue),
 * with RR_MAX_BUILTIN_MESSAGE as the size limit. Any thread, also a receiver callback.
 * Errors: RR_ERROR_NOT_CONNECTED, RR_ERROR_MESSAGE_TOO_LARGE, RR_ERROR_QUEUE_FULL,
 * RR_ERROR_INVALID_ARGUMENT. */
enum rr_result rr_context_send_builtin(struct rr_context *ctx, uint8_t channel, const void *data,
                                       size_t size, enum rr_priority priority, bool guaranteed);

/* Bytes queued for sending at @p priority (all channels of it), not yet written to the
 * socket: how far the transport is behind. */
size_t rr_context_queued_bytes(struct rr_context *ctx, enum rr_priority priority);

/* ---- certificate helpers ------------------------------------------------------------------- */

/* SHA-256 fingerprint of DER bytes as "AB:CD:…" (95 chars + NUL) into @p out (≥ 96 bytes).
 * Errors: RR_ERROR_INVALID_ARGUMENT. */
enum rr_result rr_cert_fingerprint_sha256(const void *der, size_t size, char out[96]);

/* Read a whole file (at most 16 MiB) into a new buffer (*out_data, free()).
 * Errors: RR_ERROR_IO (missing, unreadable, too large), RR_ERROR_OUT_OF_MEMORY. */
enum rr_result rr_file_read(const char *path, uint8_t **out_data, size_t *out_size);

/* What a certificate store holds, for diagnostics: opens @p store (PKCS#12 or PEM) with
 * @p password and picks @p subject_name as the server would.
 * On success *out_fingerprint gets the chosen certificate's SHA-256 fingerprint.
 * Errors: RR_ERROR_CERTIFICATE with a reason in @p err (wrong password, no key, no match). */
enum rr_result rr_cert_store_check(const void *store, size_t size, const char *password,
                                   const char *subject_name, char out_fingerprint[96], char *err,
                                   size_t err_size);

/* Create a self-signed ECDSA P-256 certificate for @p host (DNS name or IP literal, in the
 * subject CN, the SAN and the PKCS#12 friendly name) with serverAuth usage, valid for
 * @p days, as a PKCS#12 store protected by @p password ("" allowed). *out_pfx: free().
 * Errors: RR_ERROR_INVALID_ARGUMENT, RR_ERROR_TLS, RR_ERROR_OUT_OF_MEMORY. */
enum rr_result rr_cert_create_self_signed_pkcs12(const char *host, const char *password,
                                                 unsigned days, uint8_t **out_pfx,
                                                 size_t *out_size);

#ifdef __cplusplus
}
#endif
#endif /* OPENRR_REMOTING_H */
