/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cert — the server's certificate store (PKCS#12 or PEM) opened and picked by subject name
 * (DESIGN §4.4), DER/fingerprint helpers. Any thread; no shared state.
 */
#ifndef RR_CERT_H
#define RR_CERT_H

#include "openrr/remoting.h"

#include <openssl/x509.h>

struct rr_cert_store {
    EVP_PKEY *key;
    X509 *cert;
    STACK_OF(X509) * chain; /* intermediates, may be NULL */
    char fingerprint[96];
};

/* Open @p data (PKCS#12, or PEM certificates + key) and pick the certificate for
 * @p subject_name (friendly name first, then subject CN; NULL/"" = the one with the key).
 * On failure returns RR_ERROR_CERTIFICATE and writes the cause (never the password) to @p err. */
enum rr_result rr_cert_store_load(const void *data, size_t size, const char *password,
                                  const char *subject_name, struct rr_cert_store *out, char *err,
                                  size_t err_size);
void rr_cert_store_fini(struct rr_cert_store *store);

/* SHA-256 fingerprint of @p cert as colon-separated hex. */
void rr_cert_fingerprint_x509(X509 *cert, char out[96]);

#endif
