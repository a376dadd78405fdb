/* SPDX-License-Identifier: Apache-2.0 */
/*
 * XR_MSFT_holographic_remoting (extension 66, revision 6) as OpenRR's OpenXR runtime
 * (libopenrr_openxr.so) implements it: connect to or listen for a player, plain or secure
 * with the application's four security callbacks, custom data channels, and conversion
 * between the player's and this process's timestamps. Written from the public description of
 * the extension (names, structure layouts, structure-type values and result codes), so that an
 * application written against it builds here unchanged. docs/openxr.md says what the runtime
 * does with each call; where the public description gives no number (the data-channel and
 * timestamp result codes, the REMOTING_USER space) the values below are OpenRR's choice in the
 * extension's range.
 *
 * Include after <openxr/openxr.h>. Functions are reached through xrGetInstanceProcAddr once
 * the extension is enabled at xrCreateInstance; prototypes are declared only with
 * XR_EXTENSION_PROTOTYPES (and without XR_NO_PROTOTYPES), as the registry's headers do.
 *
 * Threads: the security callbacks run on the runtime's network thread, one at a time; they
 * must return promptly, must not call the Set*Callbacks function that installed them, and see
 * their structure only during the call.
 */
#ifndef OPENXR_MSFT_HOLOGRAPHIC_REMOTING_H_
#define OPENXR_MSFT_HOLOGRAPHIC_REMOTING_H_ 1

#include <openxr/openxr.h>

#ifdef __cplusplus
extern "C" {
#endif

#define XR_MSFT_holographic_remoting 1
#define XR_MSFT_holographic_remoting_SPEC_VERSION 6
#define XR_MSFT_HOLOGRAPHIC_REMOTING_EXTENSION_NAME "XR_MSFT_holographic_remoting"

XR_DEFINE_HANDLE(XrRemotingDataChannelMSFT)

/* ---- structure types (extend XrStructureType; base 1000065000) --------------------------- */

#define XR_TYPE_REMOTING_REMOTE_CONTEXT_PROPERTIES_MSFT ((XrStructureType)1000065000)
#define XR_TYPE_REMOTING_CONNECT_INFO_MSFT ((XrStructureType)1000065001)
#define XR_TYPE_REMOTING_LISTEN_INFO_MSFT ((XrStructureType)1000065002)
#define XR_TYPE_REMOTING_DISCONNECT_INFO_MSFT ((XrStructureType)1000065003)
#define XR_TYPE_REMOTING_EVENT_DATA_LISTENING_MSFT ((XrStructureType)1000065004)
#define XR_TYPE_REMOTING_EVENT_DATA_CONNECTED_MSFT ((XrStructureType)1000065005)
#define XR_TYPE_REMOTING_EVENT_DATA_DISCONNECTED_MSFT ((XrStructureType)1000065006)
#define XR_TYPE_REMOTING_AUTHENTICATION_TOKEN_REQUEST_MSFT ((XrStructureType)1000065007)
#define XR_TYPE_REMOTING_CERTIFICATE_DATA_MSFT ((XrStructureType)1000065008)
#define XR_TYPE_REMOTING_CERTIFICATE_VALIDATION_RESULT_MSFT ((XrStructureType)1000065009)
#define XR_TYPE_REMOTING_SERVER_CERTIFICATE_VALIDATION_MSFT ((XrStructureType)1000065010)
#define XR_TYPE_REMOTING_AUTHENTICATION_TOKEN_VALIDATION_MSFT ((XrStructureType)1000065011)
#define XR_TYPE_REMOTING_SERVER_CERTIFICATE_REQUEST_MSFT ((XrStructureType)1000065012)
#define XR_TYPE_REMOTING_SECURE_CONNECTION_CLIENT_CALLBACKS_MSFT ((XrStructureType)1000065013)
#define XR_TYPE_REMOTING_SECURE_CONNECTION_SERVER_CALLBACKS_MSFT ((XrStructureType)1000065014)
#define XR_TYPE_EVENT_DATA_REMOTING_DATA_CHANNEL_CREATED_MSFT ((XrStructureType)1000065015)
#define XR_TYPE_EVENT_DATA_REMOTING_DATA_CHANNEL_OPENED_MSFT ((XrStructureType)1000065016)
#define XR_TYPE_EVENT_DATA_REMOTING_DATA_CHANNEL_DATA_RECEIVED_MSFT ((XrStructureType)1000065017)
#define XR_TYPE_EVENT_DATA_REMOTING_DATA_CHANNEL_CLOSED_MSFT ((XrStructureType)1000065018)
#define XR_TYPE_REMOTING_DATA_CHANNEL_CREATE_INFO_MSFT ((XrStructureType)1000065019)
#define XR_TYPE_REMOTING_DATA_CHANNEL_STATE_MSFT ((XrStructureType)1000065020)
#define XR_TYPE_REMOTING_DATA_CHANNEL_SEND_DATA_INFO_MSFT ((XrStructureType)1000065021)
#define XR_TYPE_EVENT_DATA_REMOTING_TIMESTAMP_CONVERSION_READY_MSFT ((XrStructureType)1000065022)
/* Reserved: audio output capture is not offered by this runtime. */
#define XR_TYPE_REMOTING_AUDIO_OUTPUT_CAPTURE_SETTINGS_MSFT ((XrStructureType)1000065023)

/* ---- result codes (extend XrResult) --------------------------------------------------------- */

/* A call that needs the connection disconnected (context properties, callbacks, connect,
 * listen) came while connecting, listening or connected. */
#define XR_ERROR_REMOTING_NOT_DISCONNECTED_MSFT ((XrResult)-1000065000)
/* The video codec asked for cannot be encoded here. */
#define XR_ERROR_REMOTING_CODEC_NOT_FOUND_MSFT ((XrResult)-1000065001)
/* A secure connect or listen lacks the callbacks its role needs. */
#define XR_ERROR_REMOTING_CALLBACK_ERROR_MSFT ((XrResult)-1000065002)
/* OpenRR's numbers (the public description names these without values): */
/* The channel id is outside the remote's range (0-63). */
#define XR_ERROR_REMOTING_DATA_CHANNEL_INVALID_ID_MSFT ((XrResult)-1000065003)
/* A data channel with this id is open (or its close is still on its way). */
#define XR_ERROR_REMOTING_DATA_CHANNEL_ID_IN_USE_MSFT ((XrResult)-1000065004)
/* The channel is closed (by either side, or the connection ended). */
#define XR_ERROR_REMOTING_DATA_CHANNEL_CLOSED_MSFT ((XrResult)-1000065005)
/* The packet is larger than the connection carries in one message (16 MiB by default). */
#define XR_ERROR_REMOTING_DATA_CHANNEL_PACKET_TOO_LARGE_MSFT ((XrResult)-1000065006)
/* The packet id names no packet held for retrieval (already retrieved, or dropped because the
 * application did not retrieve packets fast enough). */
#define XR_ERROR_REMOTING_DATA_CHANNEL_PACKET_EXPIRED_MSFT ((XrResult)-1000065007)
/* Guaranteed data beyond the send queue's limit (64 MiB): retry when sendQueueSize drops. */
#define XR_ERROR_REMOTING_DATA_CHANNEL_QUEUE_FULL_MSFT ((XrResult)-1000065008)
/* No connection: a data channel needs one. */
#define XR_ERROR_REMOTING_NOT_CONNECTED_MSFT ((XrResult)-1000065009)
/* The clocks are not synchronised yet: wait for XrEventDataRemotingTimestampConversionReadyMSFT. */
#define XR_ERROR_REMOTING_TIMESTAMP_CONVERSION_NOT_READY_MSFT ((XrResult)-1000065010)

/* ---- reference space (extends XrReferenceSpaceType) ----------------------------------------- */

/* The space the player and the remote share: the player's tracking space. OpenRR's number. */
#define XR_REFERENCE_SPACE_TYPE_REMOTING_USER_MSFT ((XrReferenceSpaceType)1000065000)

/* ---- enums ---------------------------------------------------------------------------------- */

typedef enum XrRemotingConnectionStateMSFT {
    XR_REMOTING_CONNECTION_STATE_DISCONNECTED_MSFT = 0,
    XR_REMOTING_CONNECTION_STATE_CONNECTING_MSFT = 1, /* connecting, or listening */
    XR_REMOTING_CONNECTION_STATE_CONNECTED_MSFT = 2,
    XR_REMOTING_CONNECTION_STATE_MAX_ENUM_MSFT = 0x7FFFFFFF
} XrRemotingConnectionStateMSFT;

/* Why a connection ended or an attempt failed; the same values as the WinRT API. */
typedef enum XrRemotingDisconnectReasonMSFT {
    XR_REMOTING_DISCONNECT_REASON_NONE_MSFT = 0,
    XR_REMOTING_DISCONNECT_REASON_UNKNOWN_MSFT = 1,
    XR_REMOTING_DISCONNECT_REASON_NO_SERVER_CERTIFICATE_MSFT = 2,
    XR_REMOTING_DISCONNECT_REASON_HANDSHAKE_PORT_BUSY_MSFT = 3,
    XR_REMOTING_DISCONNECT_REASON_HANDSHAKE_UNREACHABLE_MSFT = 4,
    XR_REMOTING_DISCONNECT_REASON_HANDSHAKE_CONNECTION_FAILED_MSFT = 5,
    XR_REMOTING_DISCONNECT_REASON_AUTHENTICATION_FAILED_MSFT = 6,
    XR_REMOTING_DISCONNECT_REASON_REMOTING_VERSION_MISMATCH_MSFT = 7,
    XR_REMOTING_DISCONNECT_REASON_INCOMPATIBLE_TRANSPORT_PROTOCOLS_MSFT = 8,
    XR_REMOTING_DISCONNECT_REASON_HANDSHAKE_FAILED_MSFT = 9,
    XR_REMOTING_DISCONNECT_REASON_TRANSPORT_PORT_BUSY_MSFT = 10,
    XR_REMOTING_DISCONNECT_REASON_TRANSPORT_UNREACHABLE_MSFT = 11,
    XR_REMOTING_DISCONNECT_REASON_TRANSPORT_CONNECTION_FAILED_MSFT = 12,
    XR_REMOTING_DISCONNECT_REASON_PROTOCOL_VERSION_MISMATCH_MSFT = 13,
    XR_REMOTING_DISCONNECT_REASON_PROTOCOL_ERROR_MSFT = 14,
    XR_REMOTING_DISCONNECT_REASON_VIDEO_CODEC_NOT_AVAILABLE_MSFT = 15,
    XR_REMOTING_DISCONNECT_REASON_CANCELED_MSFT = 16,
    XR_REMOTING_DISCONNECT_REASON_CONNECTION_LOST_MSFT = 17,
    XR_REMOTING_DISCONNECT_REASON_DEVICE_LOST_MSFT = 18,
    XR_REMOTING_DISCONNECT_REASON_DISCONNECT_REQUEST_MSFT = 19,
    XR_REMOTING_DISCONNECT_REASON_HANDSHAKE_NETWORK_UNREACHABLE_MSFT = 20,
    XR_REMOTING_DISCONNECT_REASON_HANDSHAKE_CONNECTION_REFUSED_MSFT = 21,
    XR_REMOTING_DISCONNECT_REASON_VIDEO_FORMAT_NOT_AVAILABLE_MSFT = 22,
    XR_REMOTING_DISCONNECT_REASON_PEER_DISCONNECT_REQUEST_MSFT = 23,
    XR_REMOTING_DISCONNECT_REASON_PEER_DISCONNECT_TIMEOUT_MSFT = 24,
    XR_REMOTING_DISCONNECT_REASON_SESSION_OPEN_TIMEOUT_MSFT = 25,
    XR_REMOTING_DISCONNECT_REASON_REMOTING_HANDSHAKE_TIMEOUT_MSFT = 26,
    XR_REMOTING_DISCONNECT_REASON_INTERNAL_ERROR_MSFT = 27,
    XR_REMOTING_DISCONNECT_REASON_HANDSHAKE_PERMISSION_DENIED_MSFT = 28,
    XR_REMOTING_DISCONNECT_REASON_MAX_ENUM_MSFT = 0x7FFFFFFF
} XrRemotingDisconnectReasonMSFT;

typedef enum XrRemotingVideoCodecMSFT {
    XR_REMOTING_VIDEO_CODEC_ANY_MSFT = 0, /* H.265 when every side supports it, else H.264 */
    XR_REMOTING_VIDEO_CODEC_H264_MSFT = 1,
    XR_REMOTING_VIDEO_CODEC_H265_MSFT = 2,
    XR_REMOTING_VIDEO_CODEC_MAX_ENUM_MSFT = 0x7FFFFFFF
} XrRemotingVideoCodecMSFT;

typedef enum XrRemotingDepthBufferStreamResolutionMSFT {
    XR_REMOTING_DEPTH_BUFFER_STREAM_RESOLUTION_HALF_MSFT = 0,
    XR_REMOTING_DEPTH_BUFFER_STREAM_RESOLUTION_FULL_MSFT = 1,
    XR_REMOTING_DEPTH_BUFFER_STREAM_RESOLUTION_QUARTER_MSFT = 2,
    XR_REMOTING_DEPTH_BUFFER_STREAM_RESOLUTION_DISABLED_MSFT = 3,
    XR_REMOTING_DEPTH_BUFFER_STREAM_RESOLUTION_MAX_ENUM_MSFT = 0x7FFFFFFF
} XrRemotingDepthBufferStreamResolutionMSFT;

typedef enum XrRemotingCertificateNameValidationResultMSFT {
    XR_REMOTING_CERTIFICATE_NAME_VALIDATION_RESULT_NOT_CHECKED_MSFT = 0,
    XR_REMOTING_CERTIFICATE_NAME_VALIDATION_RESULT_MATCH_MSFT = 1,
    XR_REMOTING_CERTIFICATE_NAME_VALIDATION_RESULT_MISMATCH_MSFT = 2,
    XR_REMOTING_CERTIFICATE_NAME_VALIDATION_RESULT_MAX_ENUM_MSFT = 0x7FFFFFFF
} XrRemotingCertificateNameValidationResultMSFT;

typedef enum XrRemotingDataChannelPriorityMSFT {
    XR_REMOTING_DATA_CHANNEL_PRIORITY_LOW_MSFT = 0,
    XR_REMOTING_DATA_CHANNEL_PRIORITY_MEDIUM_MSFT = 1,
    XR_REMOTING_DATA_CHANNEL_PRIORITY_HIGH_MSFT = 2,
    XR_REMOTING_DATA_CHANNEL_PRIORITY_MAX_ENUM_MSFT = 0x7FFFFFFF
} XrRemotingDataChannelPriorityMSFT;

typedef enum XrRemotingDataChannelStatusMSFT {
    XR_REMOTING_DATA_CHANNEL_STATUS_OPEN_PENDING_MSFT = 0,
    XR_REMOTING_DATA_CHANNEL_STATUS_OPENED_MSFT = 1,
    XR_REMOTING_DATA_CHANNEL_STATUS_CLOSED_MSFT = 2,
    XR_REMOTING_DATA_CHANNEL_STATUS_MAX_ENUM_MSFT = 0x7FFFFFFF
} XrRemotingDataChannelStatusMSFT;

typedef enum XrRemotingDataChannelClosedReasonMSFT {
    XR_REMOTING_DATA_CHANNEL_CLOSED_REASON_PROTOCOL_MSFT = 0, /* closed by a side, or the end */
    XR_REMOTING_DATA_CHANNEL_CLOSED_REASON_ERROR_MSFT = 1,
    XR_REMOTING_DATA_CHANNEL_CLOSED_REASON_MAX_ENUM_MSFT = 0x7FFFFFFF
} XrRemotingDataChannelClosedReasonMSFT;

/* ---- connection --------------------------------------------------------------------------- */

/* Stream settings, only while disconnected. depthBufferStreamResolution is accepted and
 * ignored (OpenRR streams no depth yet); enableAudio must be XR_FALSE (no audio yet). */
typedef struct XrRemotingRemoteContextPropertiesMSFT {
    XrStructureType type;
    const void *next;
    uint32_t maxBitrateKbps; /* 0 = the configured default */
    XrBool32 enableAudio;
    XrRemotingVideoCodecMSFT videoCodec;
    XrRemotingDepthBufferStreamResolutionMSFT depthBufferStreamResolution;
} XrRemotingRemoteContextPropertiesMSFT;

typedef struct XrRemotingConnectInfoMSFT {
    XrStructureType type;
    const void *next;
    const char *remoteHostName; /* a name, an IPv4 or an IPv6 literal */
    uint16_t remotePort;        /* 0 = 8265 */
    XrBool32 secureConnection;  /* needs the client callbacks */
} XrRemotingConnectInfoMSFT;

typedef struct XrRemotingListenInfoMSFT {
    XrStructureType type;
    const void *next;
    const char *listenInterface;  /* NULL or "" = every address; "0.0.0.0" = every IPv4 one */
    uint16_t handshakeListenPort; /* 0 = any free port (reported by the Listening event) */
    uint16_t transportListenPort; /* 0 = any free port */
    XrBool32 secureConnection;    /* needs the server callbacks */
} XrRemotingListenInfoMSFT;

typedef struct XrRemotingDisconnectInfoMSFT {
    XrStructureType type;
    const void *next;
} XrRemotingDisconnectInfoMSFT;

typedef struct XrRemotingEventDataListeningMSFT {
    XrStructureType type;
    const void *next;
    uint16_t listeningPort;
} XrRemotingEventDataListeningMSFT;

typedef struct XrRemotingEventDataConnectedMSFT {
    XrStructureType type;
    const void *next;
} XrRemotingEventDataConnectedMSFT;

typedef struct XrRemotingEventDataDisconnectedMSFT {
    XrStructureType type;
    const void *next;
    XrRemotingDisconnectReasonMSFT disconnectReason;
} XrRemotingEventDataDisconnectedMSFT;

/* ---- secure connection ---------------------------------------------------------------------
 * Every callback gets its structure for the duration of the call and returns XR_SUCCESS when it
 * fulfilled the request; any other result cancels the attempt. A request whose buffer is too
 * small is answered with the size needed and XR_ERROR_SIZE_INSUFFICIENT; the runtime then calls
 * again once with buffers of that size. */

/* Client: supply the token (NUL-terminated; tokenSizeOut counts the NUL). */
typedef struct XrRemotingAuthenticationTokenRequestMSFT {
    XrStructureType type;
    const void *next;
    void *context;
    uint32_t tokenCapacityIn;
    uint32_t tokenSizeOut;
    char *tokenBuffer;
} XrRemotingAuthenticationTokenRequestMSFT;

/* One DER-encoded X.509 certificate. */
typedef struct XrRemotingCertificateDataMSFT {
    XrStructureType type;
    const void *next;
    uint32_t size;
    const uint8_t *data;
} XrRemotingCertificateDataMSFT;

/* A chain is accepted when trustedRoot is true, nameValidationResult is not MISMATCH and
 * every other flag is false. */
typedef struct XrRemotingCertificateValidationResultMSFT {
    XrStructureType type;
    const void *next;
    XrBool32 trustedRoot;
    XrBool32 revoked;
    XrBool32 expired; /* also: not yet valid */
    XrBool32 wrongUsage;
    XrRemotingCertificateNameValidationResultMSFT nameValidationResult;
    XrBool32 revocationCheckFailed;
    XrBool32 invalidCertOrChain;
} XrRemotingCertificateValidationResultMSFT;

/* Client: judge the server's chain (certificates[0] is the server's own). The runtime fills
 * validationResultOut with the system's verdict (or a rejecting one without system validation)
 * before the call; the callback sets the final verdict there. */
typedef struct XrRemotingServerCertificateValidationMSFT {
    XrStructureType type;
    const void *next;
    void *context;
    const char *hostName;
    XrBool32 forceRevocationCheck;
    uint32_t numCertificates;
    const XrRemotingCertificateDataMSFT *certificates;
    const XrRemotingCertificateValidationResultMSFT *systemValidationResult; /* NULL unless asked */
    XrRemotingCertificateValidationResultMSFT validationResultOut;
} XrRemotingServerCertificateValidationMSFT;

/* Server: judge a client's token. */
typedef struct XrRemotingAuthenticationTokenValidationMSFT {
    XrStructureType type;
    const void *next;
    void *context;
    const char *token;
    XrBool32 tokenValidOut;
} XrRemotingAuthenticationTokenValidationMSFT;

/* Server: supply the certificate store (PKCS#12 or PEM with the key and optionally the chain),
 * its passphrase (NUL-terminated, may be empty) and the subject name (CN or friendly name of
 * the certificate to use; empty = the key's). Sizes count the NULs of the strings. */
typedef struct XrRemotingServerCertificateRequestMSFT {
    XrStructureType type;
    const void *next;
    void *context;
    uint32_t certStoreCapacityIn;
    uint32_t certStoreSizeOut;
    uint8_t *certStoreBuffer;
    uint32_t keyPassphraseCapacityIn;
    uint32_t keyPassphraseSizeOut;
    char *keyPassphraseBuffer;
    uint32_t subjectNameCapacityIn;
    uint32_t subjectNameSizeOut;
    char *subjectNameBuffer;
} XrRemotingServerCertificateRequestMSFT;

typedef XrResult(XRAPI_PTR *PFN_xrRemotingRequestAuthenticationTokenCallbackMSFT)(
    XrRemotingAuthenticationTokenRequestMSFT *authenticationTokenRequest);
typedef XrResult(XRAPI_PTR *PFN_xrRemotingValidateServerCertificateCallbackMSFT)(
    XrRemotingServerCertificateValidationMSFT *serverCertificateValidation);
typedef XrResult(XRAPI_PTR *PFN_xrRemotingValidateAuthenticationTokenCallbackMSFT)(
    XrRemotingAuthenticationTokenValidationMSFT *authenticationTokenValidation);
typedef XrResult(XRAPI_PTR *PFN_xrRemotingRequestServerCertificateCallbackMSFT)(
    XrRemotingServerCertificateRequestMSFT *serverCertificateRequest);

/* The names the Mixed Reality documentation uses for the same callback types. */
typedef PFN_xrRemotingRequestAuthenticationTokenCallbackMSFT
    xrRemotingRequestAuthenticationTokenCallbackMSFT;
typedef PFN_xrRemotingValidateServerCertificateCallbackMSFT
    xrRemotingValidateServerCertificateCallbackMSFT;
typedef PFN_xrRemotingValidateAuthenticationTokenCallbackMSFT
    xrRemotingValidateAuthenticationTokenCallbackMSFT;
typedef PFN_xrRemotingRequestServerCertificateCallbackMSFT
    xrRemotingRequestServerCertificateCallbackMSFT;

/* Client side of a secure connect. validateServerCertificateCallback may be NULL: system
 * validation alone decides then. */
typedef struct XrRemotingSecureConnectionClientCallbacksMSFT {
    XrStructureType type;
    const void *next;
    void *context;
    PFN_xrRemotingRequestAuthenticationTokenCallbackMSFT requestAuthenticationTokenCallback;
    PFN_xrRemotingValidateServerCertificateCallbackMSFT validateServerCertificateCallback;
    XrBool32 performSystemValidation;
} XrRemotingSecureConnectionClientCallbacksMSFT;

/* Server side of a secure listen. authenticationRealm is copied (NULL = "OpenXR Remoting"). */
typedef struct XrRemotingSecureConnectionServerCallbacksMSFT {
    XrStructureType type;
    const void *next;
    void *context;
    PFN_xrRemotingRequestServerCertificateCallbackMSFT requestServerCertificateCallback;
    PFN_xrRemotingValidateAuthenticationTokenCallbackMSFT validateAuthenticationTokenCallback;
    const char *authenticationRealm;
} XrRemotingSecureConnectionServerCallbacksMSFT;

/* ---- data channels -------------------------------------------------------------------------- */

typedef struct XrRemotingDataChannelCreateInfoMSFT {
    XrStructureType type;
    const void *next;
    uint8_t channelId; /* 0-63 from a remote (64-127 belong to the player) */
    XrRemotingDataChannelPriorityMSFT channelPriority;
} XrRemotingDataChannelCreateInfoMSFT;

typedef struct XrRemotingDataChannelStateMSFT {
    XrStructureType type;
    void *next;
    uint32_t sendQueueSize; /* bytes queued, not yet sent */
    XrRemotingDataChannelStatusMSFT connectionStatus;
} XrRemotingDataChannelStateMSFT;

typedef struct XrRemotingDataChannelSendDataInfoMSFT {
    XrStructureType type;
    const void *next;
    const uint8_t *data;
    uint32_t size;
    XrBool32 guaranteedDelivery; /* else dropped under congestion */
} XrRemotingDataChannelSendDataInfoMSFT;

/* The player opened a channel; the handle is the application's to destroy. */
typedef struct XrEventDataRemotingDataChannelCreatedMSFT {
    XrStructureType type;
    const void *next;
    XrRemotingDataChannelMSFT channel;
    uint8_t channelId;
} XrEventDataRemotingDataChannelCreatedMSFT;

/* A channel this application created is open on both sides. */
typedef struct XrEventDataRemotingDataChannelOpenedMSFT {
    XrStructureType type;
    const void *next;
    XrRemotingDataChannelMSFT channel;
} XrEventDataRemotingDataChannelOpenedMSFT;

/* A packet arrived; take it with xrRetrieveRemotingDataMSFT(channel, packetId, …). */
typedef struct XrEventDataRemotingDataChannelDataReceivedMSFT {
    XrStructureType type;
    const void *next;
    XrRemotingDataChannelMSFT channel;
    uint64_t packetId;
    uint32_t size;
} XrEventDataRemotingDataChannelDataReceivedMSFT;

/* The channel closed; its handle stays valid until destroyed. */
typedef struct XrEventDataRemotingDataChannelClosedMSFT {
    XrStructureType type;
    const void *next;
    XrRemotingDataChannelMSFT channel;
    XrRemotingDataChannelClosedReasonMSFT closedReason;
} XrEventDataRemotingDataChannelClosedMSFT;

/* The clocks are synchronised: timestamps can be converted from now on (per connection). */
typedef struct XrEventDataRemotingTimestampConversionReadyMSFT {
    XrStructureType type;
    const void *next;
} XrEventDataRemotingTimestampConversionReadyMSFT;

/* ---- functions ------------------------------------------------------------------------------ */

typedef XrResult(XRAPI_PTR *PFN_xrRemotingSetContextPropertiesMSFT)(
    XrInstance instance, XrSystemId systemId,
    const XrRemotingRemoteContextPropertiesMSFT *contextProperties);
typedef XrResult(XRAPI_PTR *PFN_xrRemotingConnectMSFT)(
    XrInstance instance, XrSystemId systemId, const XrRemotingConnectInfoMSFT *connectInfo);
typedef XrResult(XRAPI_PTR *PFN_xrRemotingListenMSFT)(XrInstance instance, XrSystemId systemId,
                                                      const XrRemotingListenInfoMSFT *listenInfo);
typedef XrResult(XRAPI_PTR *PFN_xrRemotingDisconnectMSFT)(
    XrInstance instance, XrSystemId systemId, const XrRemotingDisconnectInfoMSFT *disconnectInfo);
typedef XrResult(XRAPI_PTR *PFN_xrRemotingGetConnectionStateMSFT)(
    XrInstance instance, XrSystemId systemId, XrRemotingConnectionStateMSFT *connectionState,
    XrRemotingDisconnectReasonMSFT *lastDisconnectReason);
typedef XrResult(XRAPI_PTR *PFN_xrRemotingSetSecureConnectionClientCallbacksMSFT)(
    XrInstance instance, XrSystemId systemId,
    const XrRemotingSecureConnectionClientCallbacksMSFT *secureConnectionClientCallbacks);
typedef XrResult(XRAPI_PTR *PFN_xrRemotingSetSecureConnectionServerCallbacksMSFT)(
    XrInstance instance, XrSystemId systemId,
    const XrRemotingSecureConnectionServerCallbacksMSFT *secureConnectionServerCallbacks);
typedef XrResult(XRAPI_PTR *PFN_xrCreateRemotingDataChannelMSFT)(
    XrInstance instance, XrSystemId systemId, const XrRemotingDataChannelCreateInfoMSFT *createInfo,
    XrRemotingDataChannelMSFT *channel);
typedef XrResult(XRAPI_PTR *PFN_xrDestroyRemotingDataChannelMSFT)(
    XrRemotingDataChannelMSFT channel);
typedef XrResult(XRAPI_PTR *PFN_xrGetRemotingDataChannelStateMSFT)(
    XrRemotingDataChannelMSFT channel, XrRemotingDataChannelStateMSFT *state);
typedef XrResult(XRAPI_PTR *PFN_xrSendRemotingDataMSFT)(
    XrRemotingDataChannelMSFT channel, const XrRemotingDataChannelSendDataInfoMSFT *sendInfo);
typedef XrResult(XRAPI_PTR *PFN_xrRetrieveRemotingDataMSFT)(XrRemotingDataChannelMSFT channel,
                                                            uint64_t packetId,
                                                            uint32_t dataBufferCapacityInput,
                                                            uint32_t *dataBufferCountOutput,
                                                            uint8_t *dataBuffer);
typedef XrResult(XRAPI_PTR *PFN_xrConvertTimestampPlayerToRemoteMSFT)(XrInstance instance,
                                                                      XrSystemId systemId,
                                                                      XrTime playerTime,
                                                                      XrTime *remoteTime);
typedef XrResult(XRAPI_PTR *PFN_xrConvertTimestampRemoteToPlayerMSFT)(XrInstance instance,
                                                                      XrSystemId systemId,
                                                                      XrTime remoteTime,
                                                                      XrTime *playerTime);

#if defined(XR_EXTENSION_PROTOTYPES) && !defined(XR_NO_PROTOTYPES)
XRAPI_ATTR XrResult XRAPI_CALL
xrRemotingSetContextPropertiesMSFT(XrInstance instance, XrSystemId systemId,
                                   const XrRemotingRemoteContextPropertiesMSFT *contextProperties);
XRAPI_ATTR XrResult XRAPI_CALL xrRemotingConnectMSFT(XrInstance instance, XrSystemId systemId,
                                                     const XrRemotingConnectInfoMSFT *connectInfo);
XRAPI_ATTR XrResult XRAPI_CALL xrRemotingListenMSFT(XrInstance instance, XrSystemId systemId,
                                                    const XrRemotingListenInfoMSFT *listenInfo);
XRAPI_ATTR XrResult XRAPI_CALL xrRemotingDisconnectMSFT(
    XrInstance instance, XrSystemId systemId, const XrRemotingDisconnectInfoMSFT *disconnectInfo);
XRAPI_ATTR XrResult XRAPI_CALL xrRemotingGetConnectionStateMSFT(
    XrInstance instance, XrSystemId systemId, XrRemotingConnectionStateMSFT *connectionState,
    XrRemotingDisconnectReasonMSFT *lastDisconnectReason);
XRAPI_ATTR XrResult XRAPI_CALL xrRemotingSetSecureConnectionClientCallbacksMSFT(
    XrInstance instance, XrSystemId systemId,
    const XrRemotingSecureConnectionClientCallbacksMSFT *secureConnectionClientCallbacks);
XRAPI_ATTR XrResult XRAPI_CALL xrRemotingSetSecureConnectionServerCallbacksMSFT(
    XrInstance instance, XrSystemId systemId,
    const XrRemotingSecureConnectionServerCallbacksMSFT *secureConnectionServerCallbacks);
XRAPI_ATTR XrResult XRAPI_CALL xrCreateRemotingDataChannelMSFT(
    XrInstance instance, XrSystemId systemId, const XrRemotingDataChannelCreateInfoMSFT *createInfo,
    XrRemotingDataChannelMSFT *channel);
XRAPI_ATTR XrResult XRAPI_CALL xrDestroyRemotingDataChannelMSFT(XrRemotingDataChannelMSFT channel);
XRAPI_ATTR XrResult XRAPI_CALL xrGetRemotingDataChannelStateMSFT(
    XrRemotingDataChannelMSFT channel, XrRemotingDataChannelStateMSFT *state);
XRAPI_ATTR XrResult XRAPI_CALL xrSendRemotingDataMSFT(
    XrRemotingDataChannelMSFT channel, const XrRemotingDataChannelSendDataInfoMSFT *sendInfo);
XRAPI_ATTR XrResult XRAPI_CALL xrRetrieveRemotingDataMSFT(XrRemotingDataChannelMSFT channel,
                                                          uint64_t packetId,
                                                          uint32_t dataBufferCapacityInput,
                                                          uint32_t *dataBufferCountOutput,
                                                          uint8_t *dataBuffer);
XRAPI_ATTR XrResult XRAPI_CALL xrConvertTimestampPlayerToRemoteMSFT(XrInstance instance,
                                                                    XrSystemId systemId,
                                                                    XrTime playerTime,
                                                                    XrTime *remoteTime);
XRAPI_ATTR XrResult XRAPI_CALL xrConvertTimestampRemoteToPlayerMSFT(XrInstance instance,
                                                                    XrSystemId systemId,
                                                                    XrTime remoteTime,
                                                                    XrTime *playerTime);
#endif

#ifdef __cplusplus
}
#endif
#endif /* OPENXR_MSFT_HOLOGRAPHIC_REMOTING_H_ */
