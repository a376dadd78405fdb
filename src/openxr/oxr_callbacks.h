/* SPDX-License-Identifier: Apache-2.0 */
/*
 * oxr_callbacks — the application's four XR_MSFT_holographic_remoting security callbacks behind
 * libopenrr_remoting's four interfaces. Each bridge builds the extension's structure, calls
 * the application (again once, with buffers of the size it asked for, when it answers
 * XR_ERROR_SIZE_INSUFFICIENT), and completes the library's request; any other answer cancels
 * the attempt. Secrets that pass through (token, store, passphrase) are wiped after use.
 *
 * Threads: the remoting context's network thread, one callback at a time.
 */
#ifndef OXR_CALLBACKS_H
#define OXR_CALLBACKS_H

#define XR_USE_GRAPHICS_API_VULKAN 1
#include <vulkan/vulkan.h>
#include <openxr/openxr.h>
#include <openxr/openxr_msft_holographic_remoting.h>

#include <openrr/remoting.h>

#include <stdbool.h>

/* Copies of what xrRemotingSetSecureConnection{Client,Server}CallbacksMSFT was given. */
struct oxr_client_callbacks {
    bool set;
    void *context;
    PFN_xrRemotingRequestAuthenticationTokenCallbackMSFT request_token;
    PFN_xrRemotingValidateServerCertificateCallbackMSFT validate_certificate;
    bool perform_system_validation;
};

struct oxr_server_callbacks {
    bool set;
    void *context;
    PFN_xrRemotingRequestServerCertificateCallbackMSFT request_certificate;
    PFN_xrRemotingValidateAuthenticationTokenCallbackMSFT validate_token;
    char realm[257];
};

void oxr_cb_request_token(const struct oxr_client_callbacks *cb, struct rr_token_request *req);
void oxr_cb_validate_certificate(const struct oxr_client_callbacks *cb,
                                 const struct rr_certificate_chain *chain, const char *server_name,
                                 bool force_revocation_check,
                                 const struct rr_certificate_validation_result *system_result,
                                 struct rr_certificate_validation *req);
void oxr_cb_request_certificate(const struct oxr_server_callbacks *cb,
                                struct rr_certificate_request *req);
void oxr_cb_validate_token(const struct oxr_server_callbacks *cb, const char *token,
                           struct rr_token_validation *req);

#endif
