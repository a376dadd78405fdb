/* SPDX-License-Identifier: Apache-2.0 */
/*
 * security — the four callbacks (see security.h).
 *
 * Threads: the runtime's network thread.
 */
#include "security.h"

#include <stdio.h>
#include <string.h>

/* Callbacks print from the network thread: one line, flushed. */
#define SAY(...)                                                                                   \
    do {                                                                                           \
        printf(__VA_ARGS__);                                                                       \
        fflush(stdout);                                                                            \
    } while (0)

XrResult XRAPI_CALL security_request_token(XrRemotingAuthenticationTokenRequestMSFT *request)
{
    struct security *s = request->context;
    if (s == NULL) {
        return XR_ERROR_RUNTIME_FAILURE;
    }
    atomic_fetch_add(&s->token_requests, 1);
    uint32_t size = (uint32_t)strlen(s->token) + 1; /* with the NUL */
    request->tokenSizeOut = size;
    if (request->tokenCapacityIn < size) {
        SAY("callback: token requested; %u bytes offered, %u needed\n", request->tokenCapacityIn,
            size);
        return XR_ERROR_SIZE_INSUFFICIENT;
    }
    memcpy(request->tokenBuffer, s->token, size);
    SAY("callback: token supplied (%u bytes)\n", size);
    return XR_SUCCESS;
}

XrResult XRAPI_CALL security_validate_chain(XrRemotingServerCertificateValidationMSFT *validation)
{
    struct security *s = validation->context;
    if (s == NULL || validation->systemValidationResult == NULL) {
        return XR_ERROR_RUNTIME_FAILURE; /* system validation was asked for */
    }
    atomic_fetch_add(&s->chain_validations, 1);
    XrRemotingCertificateValidationResultMSFT r = *validation->systemValidationResult;
    if (s->allow_name_mismatch &&
        r.nameValidationResult == XR_REMOTING_CERTIFICATE_NAME_VALIDATION_RESULT_MISMATCH_MSFT) {
        r.nameValidationResult = XR_REMOTING_CERTIFICATE_NAME_VALIDATION_RESULT_NOT_CHECKED_MSFT;
    }
    if (s->allow_unverified) {
        r.trustedRoot = XR_TRUE;
    }
    validation->validationResultOut = r;
    SAY("callback: server certificate chain of %u for \"%s\" judged: root %s, name %s\n",
        validation->numCertificates, validation->hostName != NULL ? validation->hostName : "",
        r.trustedRoot ? "trusted" : "untrusted",
        r.nameValidationResult == XR_REMOTING_CERTIFICATE_NAME_VALIDATION_RESULT_MISMATCH_MSFT
            ? "mismatch"
            : "ok");
    return XR_SUCCESS;
}

XrResult XRAPI_CALL security_request_certificate(XrRemotingServerCertificateRequestMSFT *request)
{
    struct security *s = request->context;
    if (s == NULL) {
        return XR_ERROR_RUNTIME_FAILURE;
    }
    atomic_fetch_add(&s->certificate_requests, 1);
    uint32_t store = (uint32_t)s->store_size;
    uint32_t pass = (uint32_t)strlen(s->passphrase) + 1;
    uint32_t subject = (uint32_t)strlen(s->subject) + 1;
    request->certStoreSizeOut = store;
    request->keyPassphraseSizeOut = pass;
    request->subjectNameSizeOut = subject;
    if (request->certStoreCapacityIn < store || request->keyPassphraseCapacityIn < pass ||
        request->subjectNameCapacityIn < subject) {
        SAY("callback: certificate requested; buffers too small\n");
        return XR_ERROR_SIZE_INSUFFICIENT;
    }
    memcpy(request->certStoreBuffer, s->store, store);
    memcpy(request->keyPassphraseBuffer, s->passphrase, pass);
    memcpy(request->subjectNameBuffer, s->subject, subject);
    SAY("callback: certificate supplied (%u-byte store)\n", store);
    return XR_SUCCESS;
}

XrResult XRAPI_CALL security_validate_token(XrRemotingAuthenticationTokenValidationMSFT *validation)
{
    struct security *s = validation->context;
    if (s == NULL) {
        return XR_ERROR_RUNTIME_FAILURE;
    }
    atomic_fetch_add(&s->token_validations, 1);
    /* Compared in constant time: a timing difference would tell how much of a guess matched. */
    const char *got = validation->token != NULL ? validation->token : "";
    size_t n = strlen(s->token);
    unsigned char diff = (unsigned char)(strlen(got) != n);
    for (size_t i = 0; i < n && got[i] != '\0'; i++) {
        diff |= (unsigned char)(got[i] ^ s->token[i]);
    }
    validation->tokenValidOut = diff == 0 ? XR_TRUE : XR_FALSE;
    SAY("callback: client token %s\n", validation->tokenValidOut ? "valid" : "rejected");
    return XR_SUCCESS;
}
