#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Self-check of the test PKI: generates it in a temporary directory, starts the revocation
# services and checks every certificate's intended property with the openssl CLI.
#
# Usage: check-pki.sh [CRL_PORT OCSP_PORT]
#
# Without ports, random free ones are picked (and re-picked if taken). The last line printed is
# "N passed, M failed"; the exit status is non-zero on any failure.
set -euo pipefail

here=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/openrr-pki-check.XXXXXX")
pki=$work/pki
passed=0
failed=0
crl_port=
ocsp_port=

cleanup() {
    if [ -n "$crl_port" ] && [ -d "$pki" ]; then
        "$here/revocation-services.sh" stop "$pki" "$crl_port" "$ocsp_port" || true
    fi
    rm -rf -- "$work"
}
trap cleanup EXIT

pass() { passed=$((passed + 1)); echo "PASS: $1"; }
fail() { failed=$((failed + 1)); echo "FAIL: $1"; }
indent() { sed 's/^/    /'; } # shows the output of a failed check under its FAIL line

# expect_ok DESCRIPTION COMMAND...: the command must succeed.
expect_ok() {
    local what=$1 log
    shift
    if log=$("$@" 2>&1); then
        pass "$what"
    else
        fail "$what"
        indent <<<"$log"
    fi
}

# expect_fail DESCRIPTION COMMAND...: the command must fail.
expect_fail() {
    local what=$1 log
    shift
    if log=$("$@" 2>&1); then
        fail "$what (unexpectedly succeeded)"
        indent <<<"$log"
    else
        pass "$what"
    fi
}

# expect_output DESCRIPTION REGEX COMMAND...: the combined output must match REGEX. The exit
# status is ignored: openssl verify and ocsp report the interesting part as text.
expect_output() {
    local what=$1 re=$2 log
    shift 2
    log=$("$@" 2>&1) || true
    if grep -qE -- "$re" <<<"$log"; then
        pass "$what"
    else
        fail "$what (wanted /$re/)"
        indent <<<"$log"
    fi
}

# expect_no_output DESCRIPTION REGEX COMMAND...: the output must NOT match REGEX.
expect_no_output() {
    local what=$1 re=$2 log
    shift 2
    log=$("$@" 2>&1) || true
    if grep -qE -- "$re" <<<"$log"; then
        fail "$what (matched /$re/)"
        indent <<<"$log"
    else
        pass "$what"
    fi
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# --- generate and start ------------------------------------------------------------------------
# Ports are baked into the certificates, so a port clash means regenerating with new ones.
started=false
for _ in 1 2 3 4 5; do
    if [ "$#" -eq 2 ]; then
        crl_port=$1 ocsp_port=$2
    else
        crl_port=$((20000 + RANDOM % 20000))
        ocsp_port=$((20000 + RANDOM % 20000))
        if [ "$crl_port" = "$ocsp_port" ] || port_open "$crl_port" || port_open "$ocsp_port"; then
            continue
        fi
    fi
    t0=$(date +%s%N)
    "$here/make-pki.sh" "$pki" "$crl_port" "$ocsp_port"
    gen_ms=$((($(date +%s%N) - t0) / 1000000))
    if "$here/revocation-services.sh" start "$pki" "$crl_port" "$ocsp_port"; then
        started=true
        break
    fi
    if [ "$#" -eq 2 ]; then break; fi
done
if ! $started; then
    crl_port= # nothing to stop
    fail "revocation services start"
    echo "$passed passed, $failed failed"
    exit 1
fi
echo "PKI in $pki (generated in ${gen_ms} ms), CRL port $crl_port, OCSP port $ocsp_port"
cd "$pki"

if [ "$gen_ms" -lt 5000 ]; then pass "make-pki.sh under 5 s"; else fail "make-pki.sh took ${gen_ms} ms"; fi
expect_ok "services: second start is harmless" \
    "$here/revocation-services.sh" start "$pki" "$crl_port" "$ocsp_port"
# Every listening socket on our ports must be bound to 127.0.0.1 (nothing on other interfaces).
loopback_only() {
    python3 - "$crl_port" "$ocsp_port" <<'EOF'
import sys
ports = {int(p) for p in sys.argv[1:]}
found = {}
for table in ("/proc/net/tcp", "/proc/net/tcp6"):
    try:
        lines = open(table).read().splitlines()[1:]
    except OSError:
        continue
    for line in lines:
        fields = line.split()
        addr, port = fields[1].split(":")
        if fields[3] == "0A" and int(port, 16) in ports:  # 0A = LISTEN
            found.setdefault(int(port, 16), []).append(addr)
print(found)
ok = set(found) == ports and all(a == ["0100007F"] for a in found.values())
sys.exit(0 if ok else 1)
EOF
}
expect_ok "services listen on 127.0.0.1 only" loopback_only

# --- files -------------------------------------------------------------------------------------
leaves=(good expired notyet wrongusage wrongname revoked-crl revoked-ocsp unknown norev selfsigned)
missing=
for f in root.pem root.key ca.pem inter.pem inter.key ocsp.pem ocsp.key \
    good-noinch.p12 good-nopass.p12 nokey.p12 garbage.p12 garbage.pem good-combined.pem \
    crl/inter.crl crl/root.crl inter.crl.pem ocsp-index.txt; do
    [ -s "$f" ] || missing="$missing $f"
done
for n in "${leaves[@]}"; do
    for ext in pem key p12; do [ -s "$n.$ext" ] || missing="$missing $n.$ext"; done
done
if [ -z "$missing" ]; then pass "all files present"; else fail "missing:$missing"; fi
expect_ok "ca.pem is root.pem" cmp ca.pem root.pem

# --- chain validation --------------------------------------------------------------------------
verify() { openssl verify -CAfile ca.pem -untrusted inter.pem "$@"; }
expect_output "good verifies" "^good.pem: OK" verify good.pem
expect_output "inter verifies against root" "^inter.pem: OK" openssl verify -CAfile ca.pem inter.pem
expect_output "ocsp responder cert verifies" "^ocsp.pem: OK" verify -purpose ocsphelper ocsp.pem
expect_output "good as TLS server for localhost" "^good.pem: OK" \
    verify -purpose sslserver -verify_hostname localhost good.pem
expect_output "good as TLS server for 127.0.0.1" "^good.pem: OK" \
    verify -purpose sslserver -verify_ip 127.0.0.1 good.pem
expect_output "good as TLS server for ::1" "^good.pem: OK" verify -purpose sslserver -verify_ip ::1 good.pem
expect_output "expired is expired" "certificate has expired" verify expired.pem
expect_output "notyet is not yet valid" "certificate is not yet valid" verify notyet.pem
expect_output "wrongusage verifies as a chain" "^wrongusage.pem: OK" verify wrongusage.pem
expect_output "wrongusage is not a TLS server cert" "error 26 at 0" \
    verify -purpose sslserver wrongusage.pem
expect_output "wrongname does not match localhost" "hostname mismatch" \
    verify -verify_hostname localhost wrongname.pem
expect_output "wrongname does not match 127.0.0.1" "IP address mismatch" \
    verify -verify_ip 127.0.0.1 wrongname.pem
expect_output "wrongname matches other.example" "^wrongname.pem: OK" \
    verify -verify_hostname other.example wrongname.pem
expect_output "selfsigned is untrusted" "self-signed certificate" verify selfsigned.pem
for n in revoked-crl revoked-ocsp unknown norev; do
    expect_output "$n verifies without revocation checks" "^$n.pem: OK" verify -purpose sslserver "$n.pem"
done
expect_output "good-combined.pem holds leaf, intermediate and key" "3" \
    bash -c 'grep -cE "^-----BEGIN (CERTIFICATE|PRIVATE KEY)-----" good-combined.pem'
expect_ok "good-combined.pem key matches its certificate" bash -c \
    'cmp <(openssl x509 -in good-combined.pem -noout -pubkey) <(openssl pkey -in good-combined.pem -pubout)'
expect_fail "garbage.pem is not a certificate" openssl x509 -in garbage.pem -noout

# --- revocation URLs in the certificates -------------------------------------------------------
exts() { openssl x509 -in "$1" -noout -ext crlDistributionPoints,authorityInfoAccess; }
expect_output "good has CRL DP" "URI:http://127.0.0.1:$crl_port/inter.crl" exts good.pem
expect_output "good has OCSP AIA" "OCSP - URI:http://127.0.0.1:$ocsp_port\$" exts good.pem
expect_output "inter has root CRL DP" "URI:http://127.0.0.1:$crl_port/root.crl" exts inter.pem
expect_no_output "revoked-crl has no OCSP AIA" "OCSP" exts revoked-crl.pem
expect_no_output "revoked-ocsp has no CRL DP" "CRL Distribution" exts revoked-ocsp.pem
expect_output "unknown points at port 9" "127.0.0.1:9/none.crl" exts unknown.pem
expect_output "unknown OCSP points at port 9" "OCSP - URI:http://127.0.0.1:9\$" exts unknown.pem
expect_no_output "norev has no CRL DP or AIA" "URI" exts norev.pem
serials=$(for n in "${leaves[@]}" ocsp inter root; do openssl x509 -in "$n.pem" -noout -serial; done | sort | uniq -d)
if [ -z "$serials" ]; then pass "serial numbers distinct"; else fail "duplicate serials: $serials"; fi

# --- CRL ---------------------------------------------------------------------------------------
crlverify() { verify -crl_check -CRLfile inter.crl.pem "$@"; }
expect_output "CRL: revoked-crl is revoked" "certificate revoked" crlverify revoked-crl.pem
expect_output "CRL: good is OK" "^good.pem: OK" crlverify good.pem
expect_output "CRL: revoked-ocsp is NOT in the CRL" "^revoked-ocsp.pem: OK" crlverify revoked-ocsp.pem
expect_output "CRL (whole chain): good is OK" "^good.pem: OK" verify -crl_check_all -CRLfile crls.pem good.pem
expect_output "inter.crl.pem and crl/inter.crl are the same CRL" "same" bash -c \
    'cmp <(openssl crl -in inter.crl.pem -outform DER) crl/inter.crl && echo same'
expect_output "root CRL is empty" "No Revoked Certificates" openssl crl -inform DER -in crl/root.crl -noout -text

# The HTTP distribution point serves exactly the files from crl/.
fetch() { # URL FILE
    python3 - "$1" "$2" <<'EOF'
import sys, urllib.request
body = urllib.request.urlopen(sys.argv[1], timeout=5).read()
sys.exit(0 if body == open(sys.argv[2], "rb").read() else 1)
EOF
}
expect_ok "HTTP: inter.crl served" fetch "http://127.0.0.1:$crl_port/inter.crl" crl/inter.crl
expect_ok "HTTP: root.crl served" fetch "http://127.0.0.1:$crl_port/root.crl" crl/root.crl

# --- OCSP --------------------------------------------------------------------------------------
ocsp() { # CERT
    openssl ocsp -issuer inter.pem -cert "$1" -url "http://127.0.0.1:$ocsp_port" -CAfile ca.pem -timeout 5
}
expect_output "OCSP: revoked-ocsp is revoked" "^revoked-ocsp.pem: revoked" ocsp revoked-ocsp.pem
expect_output "OCSP: good is good" "^good.pem: good" ocsp good.pem
expect_output "OCSP: revoked-crl is good (only in the CRL)" "^revoked-crl.pem: good" ocsp revoked-crl.pem
expect_output "OCSP: response signature verifies" "Response verify OK" ocsp good.pem
expect_output "OCSP: unissued serial is unknown" ": unknown" \
    openssl ocsp -issuer inter.pem -serial 0xDEAD -url "http://127.0.0.1:$ocsp_port" -CAfile ca.pem -timeout 5
expect_output "OCSP: GET (RFC 6960 A.1) works" "good" bash -c "
    openssl ocsp -issuer inter.pem -cert good.pem -no_nonce -reqout $work/req.der &&
    python3 -c '
import base64, sys, urllib.parse, urllib.request
req = base64.b64encode(open(\"$work/req.der\", \"rb\").read()).decode()
body = urllib.request.urlopen(\"http://127.0.0.1:$ocsp_port/\" + urllib.parse.quote(req, safe=\"\"), timeout=5).read()
open(\"$work/resp.der\", \"wb\").write(body)' &&
    openssl ocsp -respin $work/resp.der -issuer inter.pem -cert good.pem -CAfile ca.pem"
expect_output "OCSP: garbage request gets malformedRequest" "malformedrequest" bash -c "
    python3 -c '
import urllib.request
r = urllib.request.Request(\"http://127.0.0.1:$ocsp_port/\", data=b\"junk\",
                           headers={\"Content-Type\": \"application/ocsp-request\"})
open(\"$work/bad.der\", \"wb\").write(urllib.request.urlopen(r, timeout=5).read())' &&
    openssl ocsp -respin $work/bad.der -resp_text -noverify"

# --- PKCS#12 -----------------------------------------------------------------------------------
p12info() { openssl pkcs12 -in "$1" -info -noout -passin "pass:$2"; }
p12certs() { openssl pkcs12 -in "$1" -nokeys -passin "pass:$2" | grep -c "BEGIN CERTIFICATE"; }
for n in "${leaves[@]}"; do
    expect_ok "$n.p12 opens with test-pass" p12info "$n.p12" test-pass
    expect_output "$n.p12 friendly name" "friendlyName: openrr-test-$n\$" \
        openssl pkcs12 -in "$n.p12" -nokeys -passin pass:test-pass
    expect_output "$n.p12 has a key matching its certificate" "match" bash -c \
        "cmp <(openssl pkcs12 -in $n.p12 -nocerts -nodes -passin pass:test-pass | openssl pkey -pubout) \
             <(openssl x509 -in $n.pem -noout -pubkey) && echo match"
done
expect_output "good.p12 holds leaf + intermediate" "^2\$" p12certs good.p12 test-pass
expect_output "good.p12 uses PBES2/AES-256 (not legacy)" "PBES2, PBKDF2, AES-256-CBC" p12info good.p12 test-pass
expect_no_output "good.p12 has no RC2/3DES" "RC2|3DES|pbeWithSHA1" p12info good.p12 test-pass
expect_fail "good.p12 rejects a wrong password" p12info good.p12 wrong-pass
expect_ok "good-noinch.p12 opens" p12info good-noinch.p12 test-pass
expect_output "good-noinch.p12 holds only the leaf" "^1\$" p12certs good-noinch.p12 test-pass
expect_output "good-noinch.p12 friendly name" "friendlyName: openrr-test-good\$" \
    openssl pkcs12 -in good-noinch.p12 -nokeys -passin pass:test-pass
expect_ok "good-nopass.p12 opens with empty password" p12info good-nopass.p12 ""
expect_fail "good-nopass.p12 rejects test-pass" p12info good-nopass.p12 test-pass
expect_ok "nokey.p12 opens" p12info nokey.p12 test-pass
expect_no_output "nokey.p12 has no key" "PRIVATE KEY" \
    openssl pkcs12 -in nokey.p12 -nocerts -nodes -passin pass:test-pass
expect_output "nokey.p12 holds the good certificate" "^1\$" p12certs nokey.p12 test-pass
expect_fail "garbage.p12 does not open" p12info garbage.p12 test-pass

# --- services stop -----------------------------------------------------------------------------
expect_ok "services stop" "$here/revocation-services.sh" stop "$pki" "$crl_port" "$ocsp_port"
expect_ok "services second stop is harmless" "$here/revocation-services.sh" stop "$pki" "$crl_port" "$ocsp_port"
if port_open "$crl_port" || port_open "$ocsp_port"; then fail "ports closed after stop"; else pass "ports closed after stop"; fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
