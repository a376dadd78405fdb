#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Real OpenSSL peers against the secure listener: TLS 1.3 only, the Bearer challenge and the
# upgrade as seen by openssl s_client, and plain/secure mismatches failing fast on both sides.
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"
rr_init

token=T
realm="Test Realm"

# The upgrade request of a remote; $1 = extra header lines (each ending in \r\n).
upgrade_request() {
    printf 'GET /openrr/remoting HTTP/1.1\r\nHost: localhost:%s\r\nConnection: Upgrade\r\n' "$port"
    printf 'Upgrade: openrr-remoting/1\r\nOpenRR-Role: remote\r\nOpenRR-Transports: tcp\r\n'
    printf 'OpenRR-Codecs: hevc,h264\r\n%s\r\n' "${1:-}"
}

# s_client NAME STDIN_FILE [ARGS...]: openssl s_client to the listener; stdin is held open for a
# second after the request so that the answer arrives before s_client quits on EOF.
s_client() {
    local name=$1 input=$2
    shift 2
    { cat -- "$input"; sleep 1; } |
        timeout -k 2 10 openssl s_client -connect "127.0.0.1:$port" -CAfile "$RR_CA" \
            -servername localhost "$@" >"$RR_TMP/$name.txt" 2>&1
    RR_RC=${PIPESTATUS[1]}
}

# The listener listens again after every connection it served: wait until it is back.
wait_idle() {
    rr_wait_log "$log" 'listening on port' 5 $(($(rr_count "$log" 'state: Connected') + 1))
}

log=$RR_TMP/listener.log
if ! rr_listen listener -listen 127.0.0.1 -ephemeralport -secureconnection \
    -certificatestore "$RR_STORE" -keypassphrase test-pass -authenticationtoken "$token" \
    -authenticationrealm "$realm" -echo; then
    rr_not_ok "secure listener starts" "$log"
    rr_finish
fi
listener=$RR_LAST_PID
port=$RR_PORT
rr_note "secure listener on 127.0.0.1:$port"

# ---- TLS 1.3 and the Bearer challenge --------------------------------------------------------

upgrade_request >"$RR_TMP/req-none"
s_client notoken "$RR_TMP/req-none"
out=$RR_TMP/notoken.txt
grep -qE 'Protocol  *: TLSv1\.3|New, TLSv1\.3' "$out" &&
    grep -qE 'Verification: OK|Verify return code: 0 \(ok\)' "$out"
rr_result $? "s_client negotiates TLSv1.3 and verifies the chain against ca.pem" "$out" "$log"

grep -q $'^HTTP/1.1 401' "$out" &&
    grep -qF "WWW-Authenticate: Bearer realm=\"$realm\"" "$out" &&
    ! grep -q 'error="invalid_token"' "$out"
rr_result $? "upgrade without a token gets 401 with WWW-Authenticate: Bearer realm=\"$realm\"" \
    "$out" "$log"
wait_idle

upgrade_request "Authorization: Bearer $token"$'\r\n' >"$RR_TMP/req-good"
s_client goodtoken "$RR_TMP/req-good"
out=$RR_TMP/goodtoken.txt
grep -q $'^HTTP/1.1 101' "$out" && grep -qiE $'^Upgrade: openrr-remoting/1\r?$' "$out" &&
    grep -qiE $'^OpenRR-Role: player\r?$' "$out"
rr_result $? "upgrade with Authorization: Bearer $token gets 101 Switching Protocols" "$out" "$log"
rr_wait_log "$log" 'connected: TLSv1\.3 .*peer role remote' 3
rr_result $? "the listener reports the s_client connection as TLSv1.3 from a remote" "$log"
# s_client left without a DISCONNECT: the listener ends that connection and listens again.
wait_idle
rr_result $? "the listener listens again after the s_client connection ends" "$log"

upgrade_request "Authorization: Bearer wrong-token"$'\r\n' >"$RR_TMP/req-bad"
s_client badtoken "$RR_TMP/req-bad"
out=$RR_TMP/badtoken.txt
grep -q $'^HTTP/1.1 401' "$out" &&
    grep -qF "WWW-Authenticate: Bearer realm=\"$realm\", error=\"invalid_token\"" "$out" &&
    ! grep -q $'^HTTP/1.1 101' "$out"
rr_result $? "upgrade with a wrong token gets 401 with error=\"invalid_token\"" "$out" "$log"
grep -q 'client token rejected' "$log"
rr_result $? "the listener rejected the wrong token" "$log"
wait_idle

# ---- older protocol versions are refused -------------------------------------------------------

for v in tls1_2 tls1_1 tls1; do
    fails=$(rr_count "$log" 'attempt failed: HandshakeConnectionFailed')
    s_client "old-$v" "$RR_TMP/req-good" "-$v"
    out=$RR_TMP/old-$v.txt
    # A local OpenSSL that cannot offer the version at all fails before sending anything.
    if [ "$v" != tls1_2 ] && grep -qE 'no protocols available|written 0 bytes' "$out" &&
        ! grep -q 'alert protocol version' "$out"; then
        rr_skip "s_client -$v: the local OpenSSL refuses to offer it as a client"
        continue
    fi
    [ "$RR_RC" -ne 0 ] && grep -qE 'alert protocol version|no protocols available|handshake failure' "$out" &&
        ! grep -qE 'New, TLSv1(\.[0-2])?, Cipher is [A-Z]|HTTP/1\.1' "$out"
    rr_result $? "s_client -$v fails to connect (rc $RR_RC)" "$out"
    rr_wait_log "$log" 'attempt failed: HandshakeConnectionFailed' 3 $((fails + 1)) &&
        rr_alive "$listener"
    rr_result $? "the listener logs 'attempt failed' for the -$v client and keeps running" "$log"
done

rr_client good -secureconnection -authenticationtoken "$token" -cafile "$RR_CA" -send hi \
    "localhost:$port"
[ "$RR_RC" -eq 0 ] && grep -q 'echo: hi' "$RR_TMP/good.out"
rr_result $? "a good tool client still succeeds after the refused handshakes (exit $RR_RC, ${RR_MS} ms)" \
    "$RR_TMP/good.out" "$RR_TMP/good.err" "$log"

# ---- plain and secure mismatches fail fast, on both sides ---------------------------------------

wait_idle
fails=$(rr_count "$log" 'attempt failed: HandshakeConnectionFailed')
rr_client plain-to-secure -send hi "127.0.0.1:$port"
[ "$RR_RC" -ne 0 ] && [ "$RR_RC" -ne 124 ] && grep -q 'HandshakeConnectionFailed' "$RR_TMP/plain-to-secure.err" &&
    [ "$RR_MS" -le 1000 ]
rr_result $? "plain client against the secure listener: exit $RR_RC, HandshakeConnectionFailed in ${RR_MS} ms (<= 1000)" \
    "$RR_TMP/plain-to-secure.out" "$RR_TMP/plain-to-secure.err"
rr_wait_log "$log" 'attempt failed: HandshakeConnectionFailed' 1 $((fails + 1))
rr_result $? "the secure listener logs 'attempt failed: HandshakeConnectionFailed' for the plain client" "$log"

plog=$RR_TMP/plain.log
if rr_listen plain -listen 127.0.0.1 -ephemeralport -echo; then
    pport=$RR_PORT
    rr_client secure-to-plain -secureconnection -authenticationtoken "$token" -cafile "$RR_CA" \
        -send hi "localhost:$pport"
    [ "$RR_RC" -ne 0 ] && [ "$RR_RC" -ne 124 ] && grep -q 'HandshakeConnectionFailed' "$RR_TMP/secure-to-plain.err" &&
        [ "$RR_MS" -le 1000 ]
    rr_result $? "secure client against a plain listener: exit $RR_RC, HandshakeConnectionFailed in ${RR_MS} ms (<= 1000)" \
        "$RR_TMP/secure-to-plain.out" "$RR_TMP/secure-to-plain.err"
    rr_wait_log "$plog" 'attempt failed: HandshakeConnectionFailed' 1
    rr_result $? "the plain listener logs 'attempt failed: HandshakeConnectionFailed' for the TLS client" "$plog"
else
    rr_not_ok "plain listener starts" "$plog"
fi

rr_alive "$listener"
rr_result $? "the secure listener is still running at the end" "$log"
rr_finish
