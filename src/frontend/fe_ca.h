/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fe_ca — openrrd's own certificate authority (DESIGN §7 "Trust for hosts"). Created at the
 * first start in <data>/ca/ (an EC P-256 key, 0600, that never leaves the data directory,
 * and a self-signed CA certificate valid 10 years, pathlen 0); each session host gets a
 * short-lived server certificate for the public hostname or IP, signed by it, as a PKCS#12
 * file protected by a random passphrase. Clients add the CA certificate — served at
 * /.well-known/openrr/ca.pem — as an extra trust anchor.
 *
 * Threads: fe_ca_open on the main thread; the rest from any thread (the CA is immutable).
 */
#ifndef OPENRR_FE_CA_H
#define OPENRR_FE_CA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct fe_ca;

/* Load the CA from @p dir, creating it when missing (a half-written CA — key without
 * certificate — is an error that names the file to remove). Returns false with the reason. */
bool fe_ca_open(const char *dir, struct fe_ca **out_ca, char *err, size_t err_size);
void fe_ca_destroy(struct fe_ca **ca_ptr);

/* The CA certificate as PEM (owned by the CA; valid until fe_ca_destroy). */
const char *fe_ca_pem(const struct fe_ca *ca);

/* Issue a server certificate for @p host (a DNS name or an IP address: it goes into the
 * subjectAltName as such, and the CN), valid from 5 minutes ago for @p valid_s seconds,
 * extendedKeyUsage serverAuth, with a fresh P-256 key; write it with the CA certificate as a
 * PKCS#12 file at @p p12_path (0600) under @p passphrase. Returns false with the reason. */
bool fe_ca_issue_host(const struct fe_ca *ca, const char *host, int64_t valid_s,
                      const char *p12_path, const char *passphrase, char *err, size_t err_size);

#endif /* OPENRR_FE_CA_H */
