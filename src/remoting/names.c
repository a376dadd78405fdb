/* SPDX-License-Identifier: Apache-2.0 */
/* Names of the public enums (reference spellings) and the validation-result rule. Any thread. */
#include "openrr/remoting.h"

#include <stdio.h>
#include <string.h>

static const char *const g_reasons[RR_REASON_COUNT] = {
    "None",
    "Unknown",
    "NoServerCertificate",
    "HandshakePortBusy",
    "HandshakeUnreachable",
    "HandshakeConnectionFailed",
    "AuthenticationFailed",
    "RemotingVersionMismatch",
    "IncompatibleTransportProtocols",
    "HandshakeFailed",
    "TransportPortBusy",
    "TransportUnreachable",
    "TransportConnectionFailed",
    "ProtocolVersionMismatch",
    "ProtocolError",
    "VideoCodecNotAvailable",
    "Canceled",
    "ConnectionLost",
    "DeviceLost",
    "DisconnectRequest",
    "HandshakeNetworkUnreachable",
    "HandshakeConnectionRefused",
    "VideoFormatNotAvailable",
    "PeerDisconnectRequest",
    "PeerDisconnectTimeout",
    "SessionOpenTimeout",
    "RemotingHandshakeTimeout",
    "InternalError",
    "HandshakePermissionDenied",
};

const char *rr_disconnect_reason_str(enum rr_disconnect_reason reason)
{
    if ((unsigned)reason >= RR_REASON_COUNT) {
        return "Unknown";
    }
    return g_reasons[reason];
}

bool rr_disconnect_reason_from_str(const char *name, enum rr_disconnect_reason *out_reason)
{
    if (name == NULL) {
        return false;
    }
    for (unsigned i = 0; i < RR_REASON_COUNT; i++) {
        if (strcmp(name, g_reasons[i]) == 0) {
            if (out_reason != NULL) {
                *out_reason = (enum rr_disconnect_reason)i;
            }
            return true;
        }
    }
    return false;
}

const char *rr_result_str(enum rr_result result)
{
    switch (result) {
    case RR_OK:
        return "RR_OK";
    case RR_ERROR_INVALID_ARGUMENT:
        return "RR_ERROR_INVALID_ARGUMENT";
    case RR_ERROR_OUT_OF_MEMORY:
        return "RR_ERROR_OUT_OF_MEMORY";
    case RR_ERROR_WRONG_STATE:
        return "RR_ERROR_WRONG_STATE";
    case RR_ERROR_NOT_CONNECTED:
        return "RR_ERROR_NOT_CONNECTED";
    case RR_ERROR_CHANNEL_EXISTS:
        return "RR_ERROR_CHANNEL_EXISTS";
    case RR_ERROR_CHANNEL_CLOSED:
        return "RR_ERROR_CHANNEL_CLOSED";
    case RR_ERROR_QUEUE_FULL:
        return "RR_ERROR_QUEUE_FULL";
    case RR_ERROR_MESSAGE_TOO_LARGE:
        return "RR_ERROR_MESSAGE_TOO_LARGE";
    case RR_ERROR_NO_EVENT:
        return "RR_ERROR_NO_EVENT";
    case RR_ERROR_SYSTEM:
        return "RR_ERROR_SYSTEM";
    case RR_ERROR_TLS:
        return "RR_ERROR_TLS";
    case RR_ERROR_CERTIFICATE:
        return "RR_ERROR_CERTIFICATE";
    case RR_ERROR_IO:
        return "RR_ERROR_IO";
    }
    return "RR_ERROR_UNKNOWN";
}

const char *rr_event_type_str(enum rr_event_type type)
{
    switch (type) {
    case RR_EVENT_NONE:
        return "None";
    case RR_EVENT_LISTENING:
        return "Listening";
    case RR_EVENT_CONNECTED:
        return "Connected";
    case RR_EVENT_DISCONNECTED:
        return "Disconnected";
    case RR_EVENT_ATTEMPT_FAILED:
        return "AttemptFailed";
    case RR_EVENT_DATA_CHANNEL_CREATED:
        return "DataChannelCreated";
    case RR_EVENT_DATA_CHANNEL_OPENED:
        return "DataChannelOpened";
    case RR_EVENT_DATA_RECEIVED:
        return "DataReceived";
    case RR_EVENT_DATA_CHANNEL_CLOSED:
        return "DataChannelClosed";
    }
    return "Unknown";
}

bool rr_certificate_validation_result_ok(const struct rr_certificate_validation_result *r)
{
    return r != NULL && r->trusted_root && !r->revoked && !r->expired && !r->wrong_usage &&
           r->name_validation_result != RR_NAME_MISMATCH && !r->revocation_check_failed &&
           !r->invalid_cert_or_chain;
}

char *rr_certificate_validation_result_format(const struct rr_certificate_validation_result *r,
                                              char *buf, size_t size)
{
    if (buf == NULL || size == 0) {
        return buf;
    }
    buf[0] = '\0';
    if (r == NULL) {
        return buf;
    }
    static const char *const names[] = {"nameNotChecked", "nameMatch", "nameMismatch"};
    unsigned nv = (unsigned)r->name_validation_result;
    snprintf(buf, size, "%s %s%s%s%s%s%s", r->trusted_root ? "trustedRoot" : "untrustedRoot",
             nv < 3 ? names[nv] : "nameInvalid", r->expired ? " expired" : "",
             r->wrong_usage ? " wrongUsage" : "", r->revoked ? " revoked" : "",
             r->revocation_check_failed ? " revocationCheckFailed" : "",
             r->invalid_cert_or_chain ? " invalidCertOrChain" : "");
    return buf;
}
