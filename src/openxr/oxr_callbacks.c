/* SPDX-License-Identifier: Apache-2.0 */
/*
 * oxr_callbacks — the application's security callbacks as libopenrr_remoting interfaces (see
 * oxr_callbacks.h).
 *
 * Threads: the network thread.
 */
#include "oxr_callbacks.h"

#include "u_log.h"

#include <openssl/crypto.h>

#include <stdlib.h>
#include <string.h>

#define LOG_MOD "openxr"
/* First buffers offered; a callback that needs more says so and gets one retry. */
#define FIRST_TOKEN 256u
#define FIRST_STORE (64u * 1024u)
#define FIRST_STRING 256u
/* What a second call may ask for at most. */
#define MAX_STORE (16u * 1024u * 1024u)
#define MAX_STRING 4096u

static void wipe_free(void *p, size_t n)
{
    if (p != NULL) {
        OPENSSL_cleanse(p, n);
        free(p);
    }
}

/* A NUL-terminated string of @p size bytes (NUL included) in @p buf. */
static bool terminated(const char *buf, uint32_t size, uint32_t capacity)
{
    return size >= 1 && size <= capacity && buf[size - 1] == '\0' && strlen(buf) == size - 1;
}

/* ---- client: token --------------------------------------------------------------------------- */

void oxr_cb_request_token(const struct oxr_client_callbacks *cb, struct rr_token_request *req)
{
    uint32_t cap = FIRST_TOKEN;
    char *buf = calloc(1, cap);
    XrResult r = XR_ERROR_OUT_OF_MEMORY;
    XrRemotingAuthenticationTokenRequestMSFT q;
    for (int attempt = 0; buf != NULL && attempt < 2; attempt++) {
        memset(&q, 0, sizeof q);
        q.type = XR_TYPE_REMOTING_AUTHENTICATION_TOKEN_REQUEST_MSFT;
        q.context = cb->context;
        q.tokenCapacityIn = cap;
        q.tokenBuffer = buf;
        r = cb->request_token(&q);
        if (r != XR_ERROR_SIZE_INSUFFICIENT || attempt > 0) {
            break;
        }
        if (q.tokenSizeOut <= cap || q.tokenSizeOut > RR_MAX_TOKEN_SIZE + 1) {
            U_LOG_E(LOG_MOD, "the token callback asked for %u bytes (offered %u, at most %u)",
                    q.tokenSizeOut, cap, RR_MAX_TOKEN_SIZE + 1);
            break;
        }
        wipe_free(buf, cap);
        cap = q.tokenSizeOut;
        buf = calloc(1, cap);
        r = XR_ERROR_OUT_OF_MEMORY;
    }
    if (r == XR_SUCCESS && buf != NULL && terminated(buf, q.tokenSizeOut, cap)) {
        rr_token_request_complete(req, buf);
    } else {
        if (r == XR_SUCCESS) {
            U_LOG_E(LOG_MOD,
                    "the token callback returned no NUL-terminated token of tokenSizeOut bytes");
        } else {
            U_LOG_W(LOG_MOD, "the token callback returned %d: the connection attempt is cancelled",
                    (int)r);
        }
        rr_token_request_cancel(req);
    }
    wipe_free(buf, cap);
}

/* ---- client: the server's chain ----------------------------------------------------------------
 */

static void to_xr_result(const struct rr_certificate_validation_result *in,
                         XrRemotingCertificateValidationResultMSFT *out)
{
    memset(out, 0, sizeof *out);
    out->type = XR_TYPE_REMOTING_CERTIFICATE_VALIDATION_RESULT_MSFT;
    out->trustedRoot = in->trusted_root;
    out->revoked = in->revoked;
    out->expired = in->expired;
    out->wrongUsage = in->wrong_usage;
    out->nameValidationResult =
        (XrRemotingCertificateNameValidationResultMSFT)in->name_validation_result;
    out->revocationCheckFailed = in->revocation_check_failed;
    out->invalidCertOrChain = in->invalid_cert_or_chain;
}

static bool from_xr_result(const XrRemotingCertificateValidationResultMSFT *in,
                           struct rr_certificate_validation_result *out)
{
    if (in->nameValidationResult > XR_REMOTING_CERTIFICATE_NAME_VALIDATION_RESULT_MISMATCH_MSFT) {
        return false;
    }
    out->trusted_root = in->trustedRoot != XR_FALSE;
    out->revoked = in->revoked != XR_FALSE;
    out->expired = in->expired != XR_FALSE;
    out->wrong_usage = in->wrongUsage != XR_FALSE;
    out->name_validation_result = (enum rr_name_validation)in->nameValidationResult;
    out->revocation_check_failed = in->revocationCheckFailed != XR_FALSE;
    out->invalid_cert_or_chain = in->invalidCertOrChain != XR_FALSE;
    return true;
}

void oxr_cb_validate_certificate(const struct oxr_client_callbacks *cb,
                                 const struct rr_certificate_chain *chain, const char *server_name,
                                 bool force_revocation_check,
                                 const struct rr_certificate_validation_result *system_result,
                                 struct rr_certificate_validation *req)
{
    size_t n = chain != NULL ? chain->count : 0;
    XrRemotingCertificateDataMSFT *certs = calloc(n > 0 ? n : 1, sizeof *certs);
    if (certs == NULL) {
        rr_certificate_validation_cancel(req);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        certs[i].type = XR_TYPE_REMOTING_CERTIFICATE_DATA_MSFT;
        certs[i].size = (uint32_t)chain->certificates[i].size;
        certs[i].data = chain->certificates[i].data;
    }
    XrRemotingCertificateValidationResultMSFT system;
    struct rr_certificate_validation_result reject = {.invalid_cert_or_chain = true};
    XrRemotingServerCertificateValidationMSFT q;
    memset(&q, 0, sizeof q);
    q.type = XR_TYPE_REMOTING_SERVER_CERTIFICATE_VALIDATION_MSFT;
    q.context = cb->context;
    q.hostName = server_name;
    q.forceRevocationCheck = force_revocation_check;
    q.numCertificates = (uint32_t)n;
    q.certificates = certs;
    if (system_result != NULL) {
        to_xr_result(system_result, &system);
        q.systemValidationResult = &system;
    }
    /* Until the callback decides, the verdict is the system's, or a rejection. */
    to_xr_result(system_result != NULL ? system_result : &reject, &q.validationResultOut);
    XrResult r = cb->validate_certificate(&q);
    struct rr_certificate_validation_result verdict;
    if (r == XR_SUCCESS && from_xr_result(&q.validationResultOut, &verdict)) {
        rr_certificate_validation_complete(req, &verdict);
    } else {
        U_LOG_W(LOG_MOD,
                "the certificate validation callback returned %d: the connection attempt "
                "is cancelled",
                (int)r);
        rr_certificate_validation_cancel(req);
    }
    free(certs);
}

/* ---- server: certificate ------------------------------------------------------------------------
 */

struct cert_buffers {
    uint32_t store_cap, pass_cap, subject_cap;
    uint8_t *store;
    char *pass;
    char *subject;
};

static void free_buffers(struct cert_buffers *b)
{
    wipe_free(b->store, b->store_cap);
    wipe_free(b->pass, b->pass_cap);
    wipe_free(b->subject, b->subject_cap);
    memset(b, 0, sizeof *b);
}

static bool alloc_buffers(struct cert_buffers *b, uint32_t store, uint32_t pass, uint32_t subject)
{
    b->store_cap = store;
    b->pass_cap = pass;
    b->subject_cap = subject;
    b->store = calloc(1, store);
    b->pass = calloc(1, pass);
    b->subject = calloc(1, subject);
    return b->store != NULL && b->pass != NULL && b->subject != NULL;
}

void oxr_cb_request_certificate(const struct oxr_server_callbacks *cb,
                                struct rr_certificate_request *req)
{
    struct cert_buffers b;
    memset(&b, 0, sizeof b);
    XrRemotingServerCertificateRequestMSFT q;
    XrResult r = XR_ERROR_OUT_OF_MEMORY;
    bool ok = alloc_buffers(&b, FIRST_STORE, FIRST_STRING, FIRST_STRING);
    for (int attempt = 0; ok && attempt < 2; attempt++) {
        memset(&q, 0, sizeof q);
        q.type = XR_TYPE_REMOTING_SERVER_CERTIFICATE_REQUEST_MSFT;
        q.context = cb->context;
        q.certStoreCapacityIn = b.store_cap;
        q.certStoreBuffer = b.store;
        q.keyPassphraseCapacityIn = b.pass_cap;
        q.keyPassphraseBuffer = b.pass;
        q.subjectNameCapacityIn = b.subject_cap;
        q.subjectNameBuffer = b.subject;
        r = cb->request_certificate(&q);
        if (r != XR_ERROR_SIZE_INSUFFICIENT || attempt > 0) {
            break;
        }
        if (q.certStoreSizeOut > MAX_STORE || q.keyPassphraseSizeOut > MAX_STRING ||
            q.subjectNameSizeOut > MAX_STRING) {
            U_LOG_E(LOG_MOD, "the certificate callback asked for too much (%u, %u, %u bytes)",
                    q.certStoreSizeOut, q.keyPassphraseSizeOut, q.subjectNameSizeOut);
            break;
        }
        uint32_t store = q.certStoreSizeOut > b.store_cap ? q.certStoreSizeOut : b.store_cap;
        uint32_t pass = q.keyPassphraseSizeOut > b.pass_cap ? q.keyPassphraseSizeOut : b.pass_cap;
        uint32_t subject =
            q.subjectNameSizeOut > b.subject_cap ? q.subjectNameSizeOut : b.subject_cap;
        free_buffers(&b);
        ok = alloc_buffers(&b, store, pass, subject);
        r = XR_ERROR_OUT_OF_MEMORY;
    }
    bool valid = r == XR_SUCCESS && q.certStoreSizeOut > 0 && q.certStoreSizeOut <= b.store_cap &&
                 terminated(b.pass, q.keyPassphraseSizeOut, b.pass_cap) &&
                 terminated(b.subject, q.subjectNameSizeOut, b.subject_cap);
    if (valid) {
        rr_certificate_request_complete(req, b.store, q.certStoreSizeOut,
                                        b.subject[0] != '\0' ? b.subject : NULL, b.pass);
    } else {
        if (r == XR_SUCCESS) {
            U_LOG_E(LOG_MOD, "the certificate callback's sizes do not match what it wrote");
        } else {
            U_LOG_W(LOG_MOD, "the certificate callback returned %d: no certificate to present",
                    (int)r);
        }
        rr_certificate_request_cancel(req);
    }
    free_buffers(&b);
}

/* ---- server: a client's token -------------------------------------------------------------------
 */

void oxr_cb_validate_token(const struct oxr_server_callbacks *cb, const char *token,
                           struct rr_token_validation *req)
{
    XrRemotingAuthenticationTokenValidationMSFT q;
    memset(&q, 0, sizeof q);
    q.type = XR_TYPE_REMOTING_AUTHENTICATION_TOKEN_VALIDATION_MSFT;
    q.context = cb->context;
    q.token = token;
    q.tokenValidOut = XR_FALSE;
    XrResult r = cb->validate_token(&q);
    if (r == XR_SUCCESS) {
        rr_token_validation_complete(req, q.tokenValidOut != XR_FALSE);
    } else {
        U_LOG_W(LOG_MOD, "the token validation callback returned %d: the client is refused",
                (int)r);
        rr_token_validation_cancel(req);
    }
}
