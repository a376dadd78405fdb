#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# testssl.sh scan of the secure listener (protocols, standard cipher lists, forward secrecy):
# only TLS 1.3 is offered, no weak cipher category, no MEDIUM/HIGH/CRITICAL finding.
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"
rr_init

testssl_bin=$(command -v testssl || command -v testssl.sh || true)
if [ -z "$testssl_bin" ]; then
    rr_skip "testssl.sh is not installed (looked for testssl and testssl.sh in PATH)"
    rr_finish
fi
openssl_bin=$(command -v openssl || true)

token=T
log=$RR_TMP/listener.log
if ! rr_listen listener -listen 127.0.0.1 -ephemeralport -secureconnection \
    -certificatestore "$RR_STORE" -keypassphrase test-pass -authenticationtoken "$token" -echo; then
    rr_not_ok "secure listener starts" "$log"
    rr_finish
fi
listener=$RR_LAST_PID
port=$RR_PORT
rr_note "secure listener on 127.0.0.1:$port; scanning with $testssl_bin"

# Every scan connection that does not finish the upgrade is one failed attempt for the listener;
# it keeps listening after each, so one listener serves the whole scan.
json=$RR_TMP/scan.json
t0=$(rr_now_ms)
timeout -k 5 240 "$testssl_bin" --quiet --color 0 --warnings off ${openssl_bin:+--openssl "$openssl_bin"} \
    --connect-timeout 5 --openssl-timeout 5 -p -s -f --ip one \
    --jsonfile "$json" "127.0.0.1:$port" >"$RR_TMP/scan.txt" 2>&1
rc=$?
took=$(($(rr_now_ms) - t0))
rr_note "testssl exit status $rc after $((took / 1000)) s"

listener_serves() {
    rr_client after -secureconnection -authenticationtoken "$token" -cafile "$RR_CA" -send hi \
        "localhost:$port"
    [ "$RR_RC" -eq 0 ] && grep -q 'echo: hi' "$RR_TMP/after.out"
}

if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
    # Too slow here; only a listener that stopped serving makes it a failure.
    if rr_alive "$listener" && listener_serves; then
        rr_skip "testssl did not finish within 240 s on this machine; the listener still serves"
        rr_finish
    fi
    rr_not_ok "testssl timed out and the listener no longer serves a good client" \
        "$RR_TMP/scan.txt" "$log" "$RR_TMP/after.out" "$RR_TMP/after.err"
    rr_finish
fi

if [ ! -s "$json" ]; then
    rr_not_ok "testssl wrote its JSON findings (exit $rc)" "$RR_TMP/scan.txt"
    rr_finish
fi
rr_ok "testssl finished in $((took / 1000)) s and wrote its JSON findings"

# Judge the findings; one "ok"/"not ok" line per assertion, "note" lines for what is ignored.
# Ignored (reported as notes, never failing):
#  - severity WARN (scanProblem, engine_problem, ...): testssl's own trouble, e.g. a cipher or
#    protocol its local OpenSSL cannot offer; it says nothing about the listener.
#  - severity LOW: none are expected; listed so that a reviewer sees them.
python3 - "$json" >"$RR_TMP/judge.txt" 2>&1 <<'EOF'
import json, sys

findings = json.load(open(sys.argv[1]))
by_id = {}
for f in findings:
    by_id.setdefault(f.get("id", ""), []).append(f)

def finding(i):
    fs = by_id.get(i)
    return fs[0].get("finding", "") if fs else None

def check(cond, text):
    print(("ok " if cond else "fail ") + text)

for proto in ("SSLv2", "SSLv3", "TLS1", "TLS1_1", "TLS1_2"):
    f = finding(proto)
    check(f is not None and f.startswith("not offered"), "%s is not offered (testssl: %s)" % (proto, f))
f = finding("TLS1_3")
check(f is not None and f.startswith("offered"), "TLS1_3 is offered (testssl: %s)" % f)

for cat in ("cipherlist_NULL", "cipherlist_aNULL", "cipherlist_EXPORT", "cipherlist_LOW",
            "cipherlist_3DES_IDEA", "cipherlist_AVERAGE"):
    f = finding(cat)
    check(f is not None and f.startswith("not offered"), "%s is not offered (testssl: %s)" % (cat, f))
f = finding("cipherlist_STRONG")
check(f is not None and f.startswith("offered"), "strong AEAD ciphers are offered (testssl: %s)" % f)
f = finding("PFS") or finding("FS")
check(f is not None and f.startswith("offered"), "forward secrecy is offered (testssl: %s)" % f)

bad = [f for f in findings if f.get("severity") in ("MEDIUM", "HIGH", "CRITICAL", "FATAL")]
check(not bad, "no finding has severity MEDIUM/HIGH/CRITICAL/FATAL%s" %
      "".join("; %s=%s: %s" % (f.get("id"), f.get("severity"), f.get("finding")) for f in bad))
for f in findings:
    if f.get("severity") in ("WARN", "LOW"):
        print("note ignored %s finding %s: %s" % (f.get("severity"), f.get("id"), f.get("finding")))
EOF
if [ "$(rr_count "$RR_TMP/judge.txt" '^(ok|fail) ')" -lt 14 ]; then
    rr_not_ok "the JSON findings can be judged" "$RR_TMP/judge.txt" "$json"
fi
while IFS= read -r line; do
    case $line in
        "ok "*) rr_ok "testssl: ${line#ok }" ;;
        "fail "*) rr_not_ok "testssl: ${line#fail }" ;;
        "note "*) rr_note "${line#note }" ;;
    esac
done <"$RR_TMP/judge.txt"
if grep -q '^fail ' "$RR_TMP/judge.txt"; then
    echo "#   --- testssl output"
    sed 's/^/#   /' "$RR_TMP/scan.txt"
fi

attempts=$(rr_count "$log" 'attempt failed')
[ "$attempts" -gt 0 ] && rr_alive "$listener"
rr_result $? "the listener survived the scan ($attempts failed attempts logged)" "$log"
listener_serves
rr_result $? "a good tool client succeeds after the scan" "$RR_TMP/after.out" "$RR_TMP/after.err" "$log"
rr_finish
