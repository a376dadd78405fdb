/* SPDX-License-Identifier: Apache-2.0 */
/*
 * security — the sample's four XR_MSFT_holographic_remoting secure-connection callbacks, as the
 * Mixed Reality documentation shows them: static functions that find their object through the
 * request's context. A client supplies the token and judges the server's certificate chain; a
 * server supplies its certificate store and judges the client's token. Each callback answers
 * XR_ERROR_SIZE_INSUFFICIENT with the size it needs when the runtime's buffer is too small.
 *
 * Threads: the runtime's network thread calls them; they only read what main() fixed before
 * connecting, and count their calls atomically.
 */
#ifndef SAMPLE_SECURITY_H
#define SAMPLE_SECURITY_H

#include <openxr/openxr.h>
#include <openxr/openxr_msft_holographic_remoting.h>

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct security {
    const char *token;    /* sent (client) or expected (server) */
    const uint8_t *store; /* server: PKCS#12 or PEM bytes */
    size_t store_size;
    const char *passphrase;   /* server: the store's password, "" for none */
    const char *subject;      /* server: which certificate, "" = the key's */
    bool allow_name_mismatch; /* client: accept a certificate for another name */
    bool allow_unverified;    /* client: accept a chain without a trusted root */
    atomic_uint token_requests, chain_validations, certificate_requests, token_validations;
};

XrResult XRAPI_CALL security_request_token(XrRemotingAuthenticationTokenRequestMSFT *request);
XrResult XRAPI_CALL security_validate_chain(XrRemotingServerCertificateValidationMSFT *validation);
XrResult XRAPI_CALL security_request_certificate(XrRemotingServerCertificateRequestMSFT *request);
XrResult XRAPI_CALL
security_validate_token(XrRemotingAuthenticationTokenValidationMSFT *validation);

#endif
