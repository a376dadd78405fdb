/* SPDX-License-Identifier: Apache-2.0 */
/*
 * validation — system validation of a server's certificate chain (DESIGN §4.3): trust, validity,
 * usage, name, revocation (CRL files, CRLs fetched from distribution points, OCSP queried from
 * the responder in the AIA). It may block on the network, so the network thread runs it on a
 * worker thread and learns the outcome through a request object of kind SYSTEM_VALIDATION.
 */
#ifndef RR_VALIDATION_H
#define RR_VALIDATION_H

#include "openrr/remoting.h"
#include "request.h"

#include <openssl/x509.h>
#include <pthread.h>

/* Longest server chain accepted (TLS layer and system validation alike). */
#define RR_MAX_CHAIN_LENGTH 10

struct rr_validation_params {
    char ca_file[512];
    char crl_file[512];
    char server_name[256];
    bool no_system_trust;
    bool force_revocation_check;
    bool fetch;        /* fetch CRLs / query OCSP over http */
    int timeout_s;     /* per fetch */
    X509_STORE *store; /* trust anchors and configured CRLs, shared (see rr_validation_store) */
};

/* Build the trust store for @p p: system store unless no_system_trust, ca_file, crl_file.
 * Built once per context and shared by its validations (X509_STORE is thread-safe for
 * verification); NULL with @p detail on failure. */
X509_STORE *rr_validation_store(const struct rr_validation_params *p, char *detail, size_t n);

/* Blocking system validation; any thread. @p detail gets a one-line explanation. */
void rr_validation_system(const struct rr_validation_params *p,
                          const struct rr_certificate_chain *chain,
                          struct rr_certificate_validation_result *out, char *detail,
                          size_t detail_size);

/* The same on certificates already decoded (index 0 = server certificate); borrows @p chain.
 * Decoding a certificate checks a self-signature, which costs as much as a TLS signature:
 * the handshake passes the certificates OpenSSL already decoded. */
void rr_validation_system_x509(const struct rr_validation_params *p, STACK_OF(X509) * chain,
                               struct rr_certificate_validation_result *out, char *detail,
                               size_t detail_size);
bool rr_validation_may_fetch_x509(STACK_OF(X509) * chain);

/* Run rr_validation_system on a new thread that completes @p req (which holds the chain).
 * The thread holds its own reference to @p req. Returns false if no thread could start. */
bool rr_validation_start(const struct rr_validation_params *p, struct rr_request *req,
                         pthread_t *out_thread);

/* ---- revocation.c ---- */
enum rr_revocation_status {
    RR_REVOCATION_UNKNOWN = 0,
    RR_REVOCATION_GOOD = 1,
    RR_REVOCATION_REVOKED = 2,
};

/* Fetch the CRLs named by @p cert's http distribution points onto @p crls. Returns how many
 * were added. */
int rr_revocation_fetch_crls(X509 *cert, STACK_OF(X509_CRL) * crls, int timeout_s);

/* Ask @p cert's OCSP responder (AIA, http) about @p cert issued by @p issuer; the response
 * signature is checked against @p store / @p untrusted. */
enum rr_revocation_status rr_revocation_ocsp(X509 *cert, X509 *issuer, X509_STORE *store,
                                             STACK_OF(X509) * untrusted, int timeout_s, char *why,
                                             size_t why_size);

#endif
