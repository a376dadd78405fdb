/* SPDX-License-Identifier: Apache-2.0 */
/*
 * oxr_remoting — XR_MSFT_holographic_remoting's connection calls: context properties,
 * connect, listen, disconnect, the connection state with the last reason, the client and
 * server security callbacks, the extension's connection events, and timestamp conversion
 * between the player's clock and this process's. Everything that configures a connection is
 * refused with XR_ERROR_REMOTING_NOT_DISCONNECTED_MSFT unless the connection is disconnected
 * (that also keeps a callback from replacing itself while it runs). Once the application
 * connects or listens itself, the configuration (OPENRR_CONNECT, …) is never used again on
 * this instance.
 *
 * Threads: any application thread; the connection object serialises nothing itself, so the
 * instance lock guards the calls that change it.
 */
#include "oxr_api.h"

#include "oxr_log.h"
#include "u_log.h"

#include <stdio.h>
#include <string.h>

static XrResult check(XrInstance instance, XrSystemId systemId, struct oxr_instance **out)
{
    struct oxr_instance *inst = oxr_get_instance(instance);
    if (inst == NULL) {
        return XR_ERROR_HANDLE_INVALID;
    }
    if (systemId != OXR_SYSTEM_ID) {
        return XR_ERROR_SYSTEM_INVALID;
    }
    *out = inst;
    return XR_SUCCESS;
}

static bool disconnected(struct oxr_instance *inst)
{
    oxr_instance_update(inst); /* a Disconnected event just in may change the answer */
    return oxr_conn_state(inst->conn, NULL) == RR_STATE_DISCONNECTED;
}

static XrResult start_result(enum rr_result r)
{
    switch (r) {
    case RR_OK:
        return XR_SUCCESS;
    case RR_ERROR_WRONG_STATE:
        return XR_ERROR_REMOTING_NOT_DISCONNECTED_MSFT;
    case RR_ERROR_OUT_OF_MEMORY:
        return XR_ERROR_OUT_OF_MEMORY;
    default:
        return XR_ERROR_RUNTIME_FAILURE;
    }
}

/* ---- events ------------------------------------------------------------------------------------
 */

void oxr_remoting_on_event(struct oxr_instance *inst, const struct rr_event *ev)
{
    switch (ev->type) {
    case RR_EVENT_LISTENING: {
        XrRemotingEventDataListeningMSFT out = {.type = XR_TYPE_REMOTING_EVENT_DATA_LISTENING_MSFT,
                                                .listeningPort = ev->port};
        oxr_events_push(&inst->events, &out, sizeof out, 0);
        break;
    }
    case RR_EVENT_CONNECTED: {
        XrRemotingEventDataConnectedMSFT out = {.type = XR_TYPE_REMOTING_EVENT_DATA_CONNECTED_MSFT};
        oxr_events_push(&inst->events, &out, sizeof out, 0);
        break;
    }
    case RR_EVENT_DISCONNECTED: {
        XrRemotingEventDataDisconnectedMSFT out = {
            .type = XR_TYPE_REMOTING_EVENT_DATA_DISCONNECTED_MSFT,
            .disconnectReason = (XrRemotingDisconnectReasonMSFT)ev->reason,
        };
        pthread_mutex_lock(&inst->lock);
        inst->timestamps_ready = false;
        pthread_mutex_unlock(&inst->lock);
        oxr_events_push(&inst->events, &out, sizeof out, 0);
        break;
    }
    default:
        break;
    }
}

/* The player reports its clock offset once its synchronisation has run (a burst at connect). */
static bool clocks_synchronised(struct oxr_instance *inst)
{
    struct rr_stream_remote_stats st;
    rr_stream_remote_stats(oxr_conn_stream(inst->conn), &st);
    return st.rtt_us != 0 || st.clock_offset_us != 0;
}

void oxr_remoting_update(struct oxr_instance *inst)
{
    pthread_mutex_lock(&inst->lock);
    bool pending = inst->player_connected && !inst->timestamps_ready;
    pthread_mutex_unlock(&inst->lock);
    if (!pending || !clocks_synchronised(inst)) {
        return;
    }
    pthread_mutex_lock(&inst->lock);
    bool push = inst->player_connected && !inst->timestamps_ready;
    inst->timestamps_ready = true;
    pthread_mutex_unlock(&inst->lock);
    if (push) {
        XrEventDataRemotingTimestampConversionReadyMSFT out = {
            .type = XR_TYPE_EVENT_DATA_REMOTING_TIMESTAMP_CONVERSION_READY_MSFT};
        oxr_events_push(&inst->events, &out, sizeof out, 0);
    }
}

/* ---- context properties
 * -------------------------------------------------------------------------- */

/* The codec list for the context, or NULL with XR_ERROR_REMOTING_CODEC_NOT_FOUND_MSFT. */
static XrResult codecs_for(const struct oxr_instance *inst, XrRemotingVideoCodecMSFT codec,
                           const char **out)
{
    const char *encoder = inst->cfg.encoder[0] != '\0' ? inst->cfg.encoder : NULL;
    char err[256];
    switch (codec) {
    case XR_REMOTING_VIDEO_CODEC_ANY_MSFT:
        *out = NULL; /* HEVC when a real-time HEVC encoder exists, else H.264 */
        return XR_SUCCESS;
    case XR_REMOTING_VIDEO_CODEC_H264_MSFT:
        *out = "h264";
        return rr_stream_probe_encoder(encoder, "h264", 640, 360, err, sizeof err) == RR_OK
                   ? XR_SUCCESS
                   : XR_ERROR_REMOTING_CODEC_NOT_FOUND_MSFT;
    case XR_REMOTING_VIDEO_CODEC_H265_MSFT:
        *out = "hevc";
        if (rr_stream_probe_encoder(encoder, "hevc", 640, 360, err, sizeof err) != RR_OK) {
            U_LOG_W(OXR_LOG, "no H.265 encoder: %s", err);
            return XR_ERROR_REMOTING_CODEC_NOT_FOUND_MSFT;
        }
        if (strstr(rr_stream_remote_codecs(encoder), "hevc") == NULL) {
            oxr_say("H.265 asked for: only libx265 encodes it here, far from real time on a CPU "
                    "(XR_REMOTING_VIDEO_CODEC_ANY picks H.264 then)");
        }
        return XR_SUCCESS;
    default:
        return XR_ERROR_VALIDATION_FAILURE;
    }
}

OXR_API(RemotingSetContextPropertiesMSFT,
        (XrInstance instance, XrSystemId systemId,
         const XrRemotingRemoteContextPropertiesMSFT *contextProperties))
{
    struct oxr_instance *inst;
    XrResult xr = check(instance, systemId, &inst);
    if (xr != XR_SUCCESS) {
        return xr;
    }
    const XrRemotingRemoteContextPropertiesMSFT *p = contextProperties;
    if (p == NULL || p->type != XR_TYPE_REMOTING_REMOTE_CONTEXT_PROPERTIES_MSFT ||
        p->depthBufferStreamResolution > XR_REMOTING_DEPTH_BUFFER_STREAM_RESOLUTION_DISABLED_MSFT ||
        (p->maxBitrateKbps != 0 && p->maxBitrateKbps < 100)) {
        return XR_ERROR_VALIDATION_FAILURE;
    }
    if (p->enableAudio) {
        return XR_ERROR_FEATURE_UNSUPPORTED; /* no audio stream yet */
    }
    const char *codecs = NULL;
    xr = codecs_for(inst, p->videoCodec, &codecs);
    if (xr != XR_SUCCESS) {
        return xr;
    }
    pthread_mutex_lock(&inst->lock);
    if (inst->session != NULL) {
        /* The session's frames are being submitted to the stream the change replaces. */
        pthread_mutex_unlock(&inst->lock);
        return XR_ERROR_REMOTING_NOT_DISCONNECTED_MSFT;
    }
    pthread_mutex_unlock(&inst->lock);
    if (!disconnected(inst)) {
        return XR_ERROR_REMOTING_NOT_DISCONNECTED_MSFT;
    }
    /* No thread may poll the old context's events while it is replaced. */
    pthread_mutex_lock(&inst->update_lock);
    oxr_channels_detach(inst);
    enum rr_result r = oxr_conn_reconfigure(inst->conn, p->maxBitrateKbps, codecs);
    pthread_mutex_unlock(&inst->update_lock);
    return start_result(r);
}

/* ---- connect, listen, disconnect
 * ------------------------------------------------------------------ */

OXR_API(RemotingConnectMSFT,
        (XrInstance instance, XrSystemId systemId, const XrRemotingConnectInfoMSFT *connectInfo))
{
    struct oxr_instance *inst;
    XrResult xr = check(instance, systemId, &inst);
    if (xr != XR_SUCCESS) {
        return xr;
    }
    if (connectInfo == NULL || connectInfo->type != XR_TYPE_REMOTING_CONNECT_INFO_MSFT ||
        connectInfo->remoteHostName == NULL || connectInfo->remoteHostName[0] == '\0') {
        return XR_ERROR_VALIDATION_FAILURE;
    }
    if (!disconnected(inst)) {
        return XR_ERROR_REMOTING_NOT_DISCONNECTED_MSFT;
    }
    enum rr_result r =
        oxr_conn_connect(inst->conn, connectInfo->remoteHostName, connectInfo->remotePort,
                         connectInfo->secureConnection != XR_FALSE);
    if (r == RR_ERROR_INVALID_ARGUMENT) {
        return connectInfo->secureConnection ? XR_ERROR_REMOTING_CALLBACK_ERROR_MSFT
                                             : XR_ERROR_VALIDATION_FAILURE;
    }
    return start_result(r);
}

OXR_API(RemotingListenMSFT,
        (XrInstance instance, XrSystemId systemId, const XrRemotingListenInfoMSFT *listenInfo))
{
    struct oxr_instance *inst;
    XrResult xr = check(instance, systemId, &inst);
    if (xr != XR_SUCCESS) {
        return xr;
    }
    if (listenInfo == NULL || listenInfo->type != XR_TYPE_REMOTING_LISTEN_INFO_MSFT) {
        return XR_ERROR_VALIDATION_FAILURE;
    }
    if (!disconnected(inst)) {
        return XR_ERROR_REMOTING_NOT_DISCONNECTED_MSFT;
    }
    enum rr_result r =
        oxr_conn_listen(inst->conn, listenInfo->listenInterface, listenInfo->handshakeListenPort,
                        listenInfo->transportListenPort, listenInfo->secureConnection != XR_FALSE);
    if (r == RR_ERROR_INVALID_ARGUMENT) {
        return listenInfo->secureConnection ? XR_ERROR_REMOTING_CALLBACK_ERROR_MSFT
                                            : XR_ERROR_VALIDATION_FAILURE;
    }
    return start_result(r);
}

OXR_API(RemotingDisconnectMSFT, (XrInstance instance, XrSystemId systemId,
                                 const XrRemotingDisconnectInfoMSFT *disconnectInfo))
{
    struct oxr_instance *inst;
    XrResult xr = check(instance, systemId, &inst);
    if (xr != XR_SUCCESS) {
        return xr;
    }
    if (disconnectInfo == NULL || disconnectInfo->type != XR_TYPE_REMOTING_DISCONNECT_INFO_MSFT) {
        return XR_ERROR_VALIDATION_FAILURE;
    }
    return oxr_conn_disconnect(inst->conn) == RR_OK ? XR_SUCCESS : XR_ERROR_RUNTIME_FAILURE;
}

OXR_API(RemotingGetConnectionStateMSFT,
        (XrInstance instance, XrSystemId systemId, XrRemotingConnectionStateMSFT *connectionState,
         XrRemotingDisconnectReasonMSFT *lastDisconnectReason))
{
    struct oxr_instance *inst;
    XrResult xr = check(instance, systemId, &inst);
    if (xr != XR_SUCCESS) {
        return xr;
    }
    if (connectionState == NULL) {
        return XR_ERROR_VALIDATION_FAILURE;
    }
    enum rr_disconnect_reason reason = RR_REASON_NONE;
    *connectionState = (XrRemotingConnectionStateMSFT)oxr_conn_state(inst->conn, &reason);
    if (lastDisconnectReason != NULL) {
        *lastDisconnectReason = (XrRemotingDisconnectReasonMSFT)reason;
    }
    return XR_SUCCESS;
}

/* ---- security callbacks
 * ---------------------------------------------------------------------------- */

OXR_API(RemotingSetSecureConnectionClientCallbacksMSFT,
        (XrInstance instance, XrSystemId systemId,
         const XrRemotingSecureConnectionClientCallbacksMSFT *secureConnectionClientCallbacks))
{
    struct oxr_instance *inst;
    XrResult xr = check(instance, systemId, &inst);
    if (xr != XR_SUCCESS) {
        return xr;
    }
    const XrRemotingSecureConnectionClientCallbacksMSFT *cb = secureConnectionClientCallbacks;
    if (cb == NULL || cb->type != XR_TYPE_REMOTING_SECURE_CONNECTION_CLIENT_CALLBACKS_MSFT ||
        cb->requestAuthenticationTokenCallback == NULL) {
        return XR_ERROR_VALIDATION_FAILURE;
    }
    if (!disconnected(inst)) {
        return XR_ERROR_REMOTING_NOT_DISCONNECTED_MSFT;
    }
    struct oxr_client_callbacks c = {
        .set = true,
        .context = cb->context,
        .request_token = cb->requestAuthenticationTokenCallback,
        .validate_certificate = cb->validateServerCertificateCallback,
        .perform_system_validation = cb->performSystemValidation != XR_FALSE,
    };
    oxr_conn_set_client_callbacks(inst->conn, &c);
    return XR_SUCCESS;
}

OXR_API(RemotingSetSecureConnectionServerCallbacksMSFT,
        (XrInstance instance, XrSystemId systemId,
         const XrRemotingSecureConnectionServerCallbacksMSFT *secureConnectionServerCallbacks))
{
    struct oxr_instance *inst;
    XrResult xr = check(instance, systemId, &inst);
    if (xr != XR_SUCCESS) {
        return xr;
    }
    const XrRemotingSecureConnectionServerCallbacksMSFT *cb = secureConnectionServerCallbacks;
    if (cb == NULL || cb->type != XR_TYPE_REMOTING_SECURE_CONNECTION_SERVER_CALLBACKS_MSFT ||
        cb->requestServerCertificateCallback == NULL ||
        cb->validateAuthenticationTokenCallback == NULL ||
        (cb->authenticationRealm != NULL && strlen(cb->authenticationRealm) > 256)) {
        return XR_ERROR_VALIDATION_FAILURE;
    }
    if (!disconnected(inst)) {
        return XR_ERROR_REMOTING_NOT_DISCONNECTED_MSFT;
    }
    struct oxr_server_callbacks c = {
        .set = true,
        .context = cb->context,
        .request_certificate = cb->requestServerCertificateCallback,
        .validate_token = cb->validateAuthenticationTokenCallback,
    };
    snprintf(c.realm, sizeof c.realm, "%s",
             cb->authenticationRealm != NULL ? cb->authenticationRealm : "OpenXR Remoting");
    oxr_conn_set_server_callbacks(inst->conn, &c);
    return XR_SUCCESS;
}

/* ---- timestamps
 * ------------------------------------------------------------------------------------ */

static XrResult convert(XrInstance instance, XrSystemId systemId, XrTime in, XrTime *out,
                        bool player_to_remote)
{
    struct oxr_instance *inst;
    XrResult xr = check(instance, systemId, &inst);
    if (xr != XR_SUCCESS) {
        return xr;
    }
    if (out == NULL) {
        return XR_ERROR_VALIDATION_FAILURE;
    }
    if (in <= 0) {
        return XR_ERROR_TIME_INVALID;
    }
    oxr_instance_update(inst);
    pthread_mutex_lock(&inst->lock);
    bool ready = inst->timestamps_ready;
    pthread_mutex_unlock(&inst->lock);
    if (!ready) {
        return XR_ERROR_REMOTING_TIMESTAMP_CONVERSION_NOT_READY_MSFT;
    }
    struct rr_stream_remote *remote = oxr_conn_stream(inst->conn);
    uint64_t us = (uint64_t)in / 1000u;
    uint64_t conv = player_to_remote ? rr_stream_remote_player_to_local(remote, us)
                                     : rr_stream_remote_local_to_player(remote, us);
    *out = (XrTime)conv * 1000 + in % 1000; /* keep the sub-microsecond part */
    return XR_SUCCESS;
}

OXR_API(ConvertTimestampPlayerToRemoteMSFT,
        (XrInstance instance, XrSystemId systemId, XrTime playerTime, XrTime *remoteTime))
{
    return convert(instance, systemId, playerTime, remoteTime, true);
}

OXR_API(ConvertTimestampRemoteToPlayerMSFT,
        (XrInstance instance, XrSystemId systemId, XrTime remoteTime, XrTime *playerTime))
{
    return convert(instance, systemId, remoteTime, playerTime, false);
}
