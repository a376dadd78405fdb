#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Generates the throw-away test PKI (root, intermediate, OCSP responder, server leaves, PKCS#12
# stores, CRLs, OCSP index) used by the certificate-validation tests; nothing here is secret.
#
# Usage: make-pki.sh OUTDIR CRL_PORT OCSP_PORT
#
# OUTDIR is wiped and recreated, so running the script twice gives a fresh PKI each time.
# The ports are baked into the certificates' CRL distribution points and OCSP URLs; the
# matching services are started by revocation-services.sh. Only the openssl CLI is used.
set -euo pipefail

if [ "$#" -ne 3 ]; then
    echo "usage: $0 OUTDIR CRL_PORT OCSP_PORT" >&2
    exit 2
fi
out=$1
crl_port=$2
ocsp_port=$3
for p in "$crl_port" "$ocsp_port"; do
    if ! [[ "$p" =~ ^[0-9]+$ ]] || [ "$p" -lt 1 ] || [ "$p" -gt 65535 ]; then
        echo "make-pki.sh: bad port '$p'" >&2
        exit 2
    fi
done

# Refuse obviously dangerous targets before the rm -rf below.
case "$out" in
    "" | "/" | "." | "..") echo "make-pki.sh: refusing OUTDIR '$out'" >&2; exit 2 ;;
esac
rm -rf -- "$out"
mkdir -p -- "$out"
out=$(cd -- "$out" && pwd) # the openssl config needs an absolute path
db=$out/db                 # CA databases, CSRs and openssl's copies of issued certs
mkdir -p "$db/newcerts" "$out/crl"

crl_url="http://127.0.0.1:$crl_port"
ocsp_url="http://127.0.0.1:$ocsp_port"
# Port 9 (discard) is where nothing listens, so revocation status of "unknown" cannot be had.
dead_crl_url="http://127.0.0.1:9/none.crl"
dead_ocsp_url="http://127.0.0.1:9"

# Validity used for everything that should be currently valid. Starting a day in the past keeps
# the certificates valid even if a test clock is slightly behind. With -startdate given,
# openssl ca still counts -days from *now*, so "now-1day .. now+N days".
yesterday=$(date -u -d '1 day ago' +%Y%m%d%H%M%SZ)

cnf=$out/openssl.cnf

# One CA section per database. The intermediate has two: inter_ca (the CRL's view, where only
# revoked-crl gets revoked) and ocsp_db (the OCSP responder's view, where only revoked-ocsp
# gets revoked), so the tests can tell the two revocation mechanisms apart.
ca_section() { # NAME DATABASE STATE_PREFIX CERT KEY
    cat <<EOF
[ $1 ]
database         = $2
serial           = $3-serial
crlnumber        = $3-crlnumber
new_certs_dir    = $db/newcerts
certificate      = $4
private_key      = $5
default_md       = sha256
default_days     = 30
default_crl_days = 30
policy           = policy_any
# Many leaves share CN=localhost; openssl ca would refuse the second one otherwise.
unique_subject   = no
email_in_dn      = no
copy_extensions  = none
crl_extensions   = crl_ext

EOF
}

# A server leaf's extensions. SAN, EKU, CRL DP and AIA vary per test case; "" omits one.
leaf_section() { # NAME SAN EKU CRL_DP OCSP_URL
    echo "[ leaf_$1 ]"
    echo "basicConstraints       = critical, CA:false"
    echo "keyUsage               = critical, digitalSignature"
    echo "extendedKeyUsage       = $3"
    echo "subjectAltName         = $2"
    echo "subjectKeyIdentifier   = hash"
    echo "authorityKeyIdentifier = keyid:always"
    if [ -n "$4" ]; then echo "crlDistributionPoints  = URI:$4"; fi
    if [ -n "$5" ]; then echo "authorityInfoAccess    = OCSP;URI:$5"; fi
    echo
}

san_local="DNS:localhost, IP:127.0.0.1, IP:::1"
{
    cat <<EOF
# Written by make-pki.sh for the test PKI in this directory; regenerated on every run.
[ req ]
distinguished_name = req_dn
prompt             = no
[ req_dn ]
CN = unused

[ policy_any ]
organizationName = optional
commonName       = supplied

[ crl_ext ]
authorityKeyIdentifier = keyid:always

[ v3_root ]
basicConstraints     = critical, CA:true
keyUsage             = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash

[ v3_inter ]
basicConstraints       = critical, CA:true, pathlen:0
keyUsage               = critical, keyCertSign, cRLSign
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always
crlDistributionPoints  = URI:$crl_url/root.crl

# The responder certificate carries id-pkix-ocsp-nocheck so that a client forcing revocation
# checks does not try to check the responder's own certificate.
[ v3_ocsp ]
basicConstraints       = critical, CA:false
keyUsage               = critical, digitalSignature
extendedKeyUsage       = OCSPSigning
noCheck                = ignored
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always

# Not issued by our root: its own issuer, so keyCertSign lets OpenSSL treat it as self-signed
# ("self-signed certificate") rather than as a certificate with a missing issuer.
[ v3_selfsigned ]
basicConstraints       = critical, CA:false
keyUsage               = critical, digitalSignature, keyCertSign
extendedKeyUsage       = serverAuth
subjectAltName         = $san_local
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always

EOF
    ca_section root_ca "$db/root-index.txt" "$db/root" "$out/root.pem" "$out/root.key"
    ca_section inter_ca "$db/inter-index.txt" "$db/inter" "$out/inter.pem" "$out/inter.key"
    ca_section ocsp_db "$out/ocsp-index.txt" "$db/inter" "$out/inter.pem" "$out/inter.key"

    leaf_section good "$san_local" serverAuth "$crl_url/inter.crl" "$ocsp_url"
    leaf_section expired "$san_local" serverAuth "$crl_url/inter.crl" "$ocsp_url"
    leaf_section notyet "$san_local" serverAuth "$crl_url/inter.crl" "$ocsp_url"
    leaf_section wrongusage "$san_local" clientAuth "$crl_url/inter.crl" "$ocsp_url"
    leaf_section wrongname "DNS:other.example, IP:10.9.9.9" serverAuth "$crl_url/inter.crl" "$ocsp_url"
    leaf_section revoked-crl "$san_local" serverAuth "$crl_url/inter.crl" ""
    leaf_section revoked-ocsp "$san_local" serverAuth "" "$ocsp_url"
    leaf_section unknown "$san_local" serverAuth "$dead_crl_url" "$dead_ocsp_url"
    leaf_section norev "$san_local" serverAuth "" ""
} >"$cnf"

# Empty databases; distinct starting serials so root- and intermediate-issued serials never
# collide (root: 1000.., intermediate: 2000..).
: >"$db/root-index.txt"
: >"$db/inter-index.txt"
echo 1000 >"$db/root-serial"
echo 2000 >"$db/inter-serial"
echo 01 >"$db/root-crlnumber"
echo 01 >"$db/inter-crlnumber"

# Runs an openssl command, showing its chatter ("Using configuration from ...") only on failure.
quiet() {
    local log
    if ! log=$("$@" 2>&1); then
        echo "$log" >&2
        echo "make-pki.sh: failed: $*" >&2
        exit 1
    fi
}

newkey() { # FILE
    quiet openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1"
}

csr() { # NAME SUBJECT
    newkey "$out/$1.key"
    openssl req -new -config "$cnf" -key "$out/$1.key" -subj "$2" -out "$db/$1.csr"
}

# openssl ca is used (rather than x509 -req) because it can set arbitrary notBefore/notAfter in
# OpenSSL 3.0 and records every issued certificate in the database the CRL and OCSP use.
issue() { # CA_SECTION NAME EXTENSIONS [openssl ca date options...]
    local ca=$1 name=$2 ext=$3
    shift 3
    quiet openssl ca -batch -notext -config "$cnf" -name "$ca" -extensions "$ext" \
        -in "$db/$name.csr" -out "$out/$name.pem" "$@"
}

# Root: self-signed through openssl ca so that it, too, can start yesterday.
csr root "/O=OpenRR Test/CN=OpenRR Test Root CA"
issue root_ca root v3_root -selfsign -keyfile "$out/root.key" -startdate "$yesterday" -days 3650
cp "$out/root.pem" "$out/ca.pem"

csr inter "/O=OpenRR Test/CN=OpenRR Test Intermediate CA"
issue root_ca inter v3_inter -startdate "$yesterday" -days 3650

csr ocsp "/O=OpenRR Test/CN=OpenRR Test OCSP Responder"
issue inter_ca ocsp v3_ocsp -startdate "$yesterday" -days 365

leaves=(good expired notyet wrongusage wrongname revoked-crl revoked-ocsp unknown norev)
for name in "${leaves[@]}"; do
    cn=localhost
    if [ "$name" = wrongname ]; then cn=other.example; fi
    csr "$name" "/CN=$cn"
    case "$name" in
        expired) dates=(-startdate 20200101000000Z -enddate 20200201000000Z) ;;
        notyet) dates=(-startdate 20350101000000Z -enddate 20360101000000Z) ;;
        *) dates=(-startdate "$yesterday" -days 30) ;;
    esac
    issue inter_ca "$name" "leaf_$name" "${dates[@]}"
done

# Self-signed server certificate outside our PKI (random serial from openssl req).
newkey "$out/selfsigned.key"
openssl req -x509 -new -config "$cnf" -key "$out/selfsigned.key" -subj "/CN=localhost" \
    -extensions v3_selfsigned -days 30 -sha256 -out "$out/selfsigned.pem"

# Split the intermediate's database: the OCSP copy is taken now, before any revocation, and
# each view then gets exactly one revoked certificate.
cp "$db/inter-index.txt" "$out/ocsp-index.txt"
cp "$db/inter-index.txt.attr" "$out/ocsp-index.txt.attr"
quiet openssl ca -batch -config "$cnf" -name inter_ca -revoke "$out/revoked-crl.pem" \
    -crl_reason keyCompromise
quiet openssl ca -batch -config "$cnf" -name ocsp_db -revoke "$out/revoked-ocsp.pem" \
    -crl_reason keyCompromise

# CRLs: PEM for the crl_file option, DER under crl/ for the HTTP distribution points.
quiet openssl ca -batch -config "$cnf" -name inter_ca -gencrl -crldays 30 -out "$out/inter.crl.pem"
quiet openssl ca -batch -config "$cnf" -name root_ca -gencrl -crldays 30 -out "$out/root.crl.pem"
openssl crl -in "$out/inter.crl.pem" -outform DER -out "$out/crl/inter.crl"
openssl crl -in "$out/root.crl.pem" -outform DER -out "$out/crl/root.crl"
# Both CRLs in one file, for full-chain CRL checking from a single crl_file.
cat "$out/inter.crl.pem" "$out/root.crl.pem" >"$out/crls.pem"

# PKCS#12 stores. OpenSSL 3 defaults (PBES2/PBKDF2/AES-256-CBC, SHA-256 MAC) on purpose: the
# library must handle what current tools produce.
p12() { # OUT NAME PASSWORD [extra pkcs12 options...]
    local file=$1 name=$2 pass=$3
    shift 3
    openssl pkcs12 -export -in "$out/$name.pem" -name "openrr-test-$name" \
        -passout "pass:$pass" -out "$out/$file" "$@"
}
for name in "${leaves[@]}"; do
    p12 "$name.p12" "$name" test-pass -inkey "$out/$name.key" -certfile "$out/inter.pem"
done
# The self-signed certificate has no chain to include.
p12 selfsigned.p12 selfsigned test-pass -inkey "$out/selfsigned.key"
p12 good-noinch.p12 good test-pass -inkey "$out/good.key"
p12 good-nopass.p12 good "" -inkey "$out/good.key" -certfile "$out/inter.pem"
p12 nokey.p12 good test-pass -nokeys

# Undecodable inputs: random bytes as PKCS#12, and a PEM block whose body is random bytes.
openssl rand -out "$out/garbage.p12" 2048
{
    echo "-----BEGIN CERTIFICATE-----"
    openssl rand -base64 384
    echo "-----END CERTIFICATE-----"
} >"$out/garbage.pem"

# Certificate chain and key in one PEM file.
cat "$out/good.pem" "$out/inter.pem" "$out/good.key" >"$out/good-combined.pem"
