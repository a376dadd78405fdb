#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# ctest fixture: make the test PKI in OUTDIR and start its CRL and OCSP services on loopback.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=$1 crl=$2 ocsp=$3
"$here/revocation-services.sh" stop "$out" "$crl" "$ocsp" >/dev/null 2>&1 || true
"$here/make-pki.sh" "$out" "$crl" "$ocsp"
"$here/revocation-services.sh" start "$out" "$crl" "$ocsp"
