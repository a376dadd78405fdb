#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Killed, stopped and misbehaving peers against the openrr-remoting tool: lost connections, peer
# timeouts, slow and oversized handshakes, bad records, bad tokens, busy ports, secrets, IPv6.
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"
rr_init

token=T
secure_listen=(-secureconnection -certificatestore "$RR_STORE" -keypassphrase test-pass
    -authenticationtoken "$token")
secure_connect=(-secureconnection -authenticationtoken "$token" -cafile "$RR_CA")

# side_args plain|secure: the listener's and the client's extra arguments and the host name.
side_args() {
    if [ "$1" = secure ]; then
        largs=("${secure_listen[@]}")
        cargs=("${secure_connect[@]}")
        chost=localhost
    else
        largs=()
        cargs=()
        chost=127.0.0.1
    fi
}

# wait_idle LOG: the listener listens again after every connection it served.
wait_idle() {
    rr_wait_log "$1" 'listening on port' 5 $(($(rr_count "$1" 'state: Connected') + 1))
}

# good_client NAME HOST PORT [ARGS...]: a tool client that sends "hi" to an -echo listener.
good_client() {
    local name=$1 host=$2 p=$3
    shift 3
    rr_client "$name" -send hi "$@" "$host:$p"
    [ "$RR_RC" -eq 0 ] && grep -q 'echo: hi' "$RR_TMP/$name.out"
}

# ms_since T0: milliseconds since rr_now_ms returned T0.
ms_since() { echo $(($(rr_now_ms) - $1)); }

# ---- a killed peer: the survivor sees ConnectionLost ------------------------------------------

for mode in plain secure; do
    side_args "$mode"
    for victim in listener client; do
        name=kill-$mode-$victim
        log=$RR_TMP/$name-l.log
        if ! rr_listen "$name-l" -listen 127.0.0.1 -ephemeralport "${largs[@]}"; then
            rr_not_ok "$mode listener starts ($name)" "$log"
            continue
        fi
        lpid=$RR_LAST_PID
        # No -echo on the listener: the client waits 30 s for an echo and keeps the connection.
        rr_bg "$name-c" "$RR_TOOL" "${cargs[@]}" -send hi -timeout 30000 "$chost:$RR_PORT"
        cpid=$RR_LAST_PID
        cout=$RR_TMP/$name-c.out
        if ! rr_wait_log "$cout" 'sent 2 bytes' 5 || ! rr_wait_log "$log" 'data received' 5; then
            rr_not_ok "$mode client connects ($name)" "$cout" "$RR_TMP/$name-c.err" "$log"
            rr_stop "$cpid"
            rr_stop "$lpid"
            continue
        fi
        t0=$(rr_now_ms)
        if [ "$victim" = listener ]; then
            rr_kill "$lpid"
            rr_wait_log "$cout" 'disconnected: ConnectionLost' 3 && rr_wait_pid "$cpid" 5 &&
                [ "$RR_RC" -eq 2 ] && grep -q 'ConnectionLost' "$RR_TMP/$name-c.err"
            res=$?
            rr_result $res "$mode: kill -9 of the listener → the client reports ConnectionLost and exits 2 (exit $RR_RC, $(ms_since "$t0") ms)" \
                "$cout" "$RR_TMP/$name-c.err"
        else
            rr_kill "$cpid"
            rr_wait_log "$log" 'disconnected: ConnectionLost' 3 && wait_idle "$log" &&
                rr_alive "$lpid"
            res=$?
            rr_result $res "$mode: kill -9 of the client → the listener reports ConnectionLost and listens again ($(ms_since "$t0") ms)" \
                "$log"
        fi
        rr_stop "$cpid"
        rr_stop "$lpid"
    done
done

# ---- a stopped peer: the survivor sees PeerDisconnectTimeout after ~5 s ------------------------

for mode in plain secure; do
    side_args "$mode"
    # plain: the client is stopped; secure: the listener is stopped.
    name=stop-$mode
    log=$RR_TMP/$name-l.log
    if ! rr_listen "$name-l" -listen 127.0.0.1 -ephemeralport "${largs[@]}"; then
        rr_not_ok "$mode listener starts ($name)" "$log"
        continue
    fi
    lpid=$RR_LAST_PID
    rr_bg "$name-c" "$RR_TOOL" "${cargs[@]}" -send hi -timeout 30000 "$chost:$RR_PORT"
    cpid=$RR_LAST_PID
    cout=$RR_TMP/$name-c.out
    if ! rr_wait_log "$cout" 'sent 2 bytes' 5 || ! rr_wait_log "$log" 'data received' 5; then
        rr_not_ok "$mode client connects ($name)" "$cout" "$RR_TMP/$name-c.err" "$log"
        rr_stop "$cpid"
        rr_stop "$lpid"
        continue
    fi
    if [ "$mode" = plain ]; then
        stopped=$cpid victim=client survivor=listener slog=$log
    else
        stopped=$lpid victim=listener survivor=client slog=$cout
    fi
    t0=$(rr_now_ms)
    kill -STOP "$stopped"
    rr_wait_log "$slog" 'disconnected: PeerDisconnectTimeout' 10
    found=$?
    took=$(ms_since "$t0")
    kill -CONT "$stopped"
    # Keepalive 1 s, peer timeout 5 s: the timeout runs from the last record received, which
    # came at most one keepalive interval before the stop.
    [ "$found" -eq 0 ] && [ "$took" -ge 3500 ] && [ "$took" -le 7500 ]
    rr_result $? "$mode: kill -STOP of the $victim → the $survivor reports PeerDisconnectTimeout after $took ms (3500–7500)" \
        "$slog"
    rr_stop "$cpid"
    rr_stop "$lpid"
done

# ---- slowloris: one header byte per second ------------------------------------------------------

log=$RR_TMP/slow-l.log
if rr_listen slow-l -listen 127.0.0.1 -ephemeralport; then
    lpid=$RR_LAST_PID
    port=$RR_PORT
    # The tool has no flag for the handshake deadline: the library default of 10 s applies.
    t0=$(rr_now_ms)
    RR_PY_TIMEOUT=20 rr_bg_python slowloris "$port" <<'EOF'
port = int(sys.argv[1])
s = socket.create_connection(("127.0.0.1", port), timeout=5)
t0 = time.monotonic()
data = b"GET /openrr/remoting HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 100
s.settimeout(1.0)
got = b""
for i in range(len(data)):
    try:
        s.send(data[i:i + 1])
        chunk = s.recv(4096)
        if not chunk:
            break
        got += chunk
    except socket.timeout:
        continue
    except OSError:
        break
print("closed_after=%.2f bytes_sent=%d answer=%r" % (time.monotonic() - t0, i, got[:60]))
EOF
    slow_pid=$RR_LAST_PID
    sleep 1.5
    # Meanwhile a good client connects and stays (no echo: it waits 12 s, then ends cleanly).
    rr_bg slow-good "$RR_TOOL" -send hi -timeout 12000 "127.0.0.1:$port"
    gpid=$RR_LAST_PID
    rr_wait_log "$RR_TMP/slow-good.out" 'state: Connected' 2
    rr_result $? "a good client connects while the slow handshake is pending" \
        "$RR_TMP/slow-good.out" "$RR_TMP/slow-good.err" "$log"
    rr_wait_log "$log" 'attempt failed: RemotingHandshakeTimeout' 12
    found=$?
    took=$(ms_since "$t0")
    [ "$found" -eq 0 ] && [ "$took" -le 11500 ] && [ "$took" -ge 9000 ]
    rr_result $? "the listener ends the slow handshake with 'attempt failed: RemotingHandshakeTimeout' after $took ms (10 s deadline)" \
        "$log"
    rr_wait_pid "$slow_pid" 5
    closed=$(sed -n 's/^closed_after=\([0-9.]*\).*/\1/p' "$RR_TMP/slowloris.out")
    python3 -c 'import sys; sys.exit(0 if 9.0 <= float(sys.argv[1]) <= 11.0 else 1)' "${closed:-99}"
    rr_result $? "the slow client sees the connection closed after ${closed:-?} s (9–11)" \
        "$RR_TMP/slowloris.out" "$RR_TMP/slowloris.err"
    rr_wait_pid "$gpid" 20
    [ "$RR_RC" -eq 0 ] && grep -q 'no echo within' "$RR_TMP/slow-good.out"
    rr_result $? "the good client's connection was not disturbed and ends cleanly (exit $RR_RC)" \
        "$RR_TMP/slow-good.out" "$RR_TMP/slow-good.err"
    rr_stop "$lpid"
else
    rr_not_ok "listener for the slowloris test starts" "$log"
fi

# ---- oversized handshake, same roles, busy and closed ports ---------------------------------------

log=$RR_TMP/big-l.log
if rr_listen big-l -listen 127.0.0.1 -ephemeralport -echo; then
    lpid=$RR_LAST_PID
    port=$RR_PORT
    rr_python "$port" >"$RR_TMP/big.out" 2>&1 <<'EOF'
port = int(sys.argv[1])
s = socket.create_connection(("127.0.0.1", port), timeout=5)
pad = b"X-Pad: " + b"a" * 1016 + b"\r\n"
data = b"GET /openrr/remoting HTTP/1.1\r\nHost: x\r\n" + pad * 1024
assert len(data) >= 1 << 20
try:
    s.sendall(data)
except OSError as e:
    print("send failed: %s" % e)
try:
    head, _ = read_head(s)
    print("answer: %s" % (head.splitlines()[0] if head else "closed"))
except OSError as e:
    print("answer: closed (%s)" % e)
EOF
    answer=$(grep -m1 '^answer' "$RR_TMP/big.out")
    [[ "$answer" =~ ^answer:\ (HTTP/1\.1\ 431\ |closed) ]]
    rr_result $? "1 MiB of header bytes: the listener answers 431 or closes ($answer)" \
        "$RR_TMP/big.out"
    rr_wait_log "$log" 'attempt failed: ProtocolError' 3 && rr_alive "$lpid"
    rr_result $? "the listener logs 'attempt failed: ProtocolError' and keeps running" "$log"
    good_client big-good 127.0.0.1 "$port"
    rr_result $? "a good client succeeds after the oversized handshake" \
        "$RR_TMP/big-good.out" "$RR_TMP/big-good.err" "$log"
    wait_idle "$log"

    # Same roles.
    rr_client players -role player -send hi "127.0.0.1:$port"
    [ "$RR_RC" -eq 2 ] && grep -q 'HandshakeFailed' "$RR_TMP/players.err"
    rr_result $? "player client to a player listener: the client fails with HandshakeFailed (exit $RR_RC)" \
        "$RR_TMP/players.out" "$RR_TMP/players.err"
    rr_wait_log "$log" 'attempt failed: HandshakeFailed' 2
    rr_result $? "player client to a player listener: the listener logs 'attempt failed: HandshakeFailed'" "$log"

    # A second listener on the same handshake port (ephemeral transport port).
    rr_client busy -listen "127.0.0.1:$port" -transportport 0
    [ "$RR_RC" -ne 0 ] && [ "$RR_RC" -ne 124 ] && grep -q 'HandshakePortBusy' "$RR_TMP/busy.err"
    rr_result $? "a second listener on the same port exits $RR_RC with HandshakePortBusy" \
        "$RR_TMP/busy.out" "$RR_TMP/busy.err"
    rr_alive "$lpid"
    rr_result $? "the first listener keeps running" "$log"
    rr_stop "$lpid"
else
    rr_not_ok "listener for the oversized-handshake test starts" "$log"
fi

log=$RR_TMP/remotes-l.log
if rr_listen remotes-l -listen 127.0.0.1 -ephemeralport -role remote; then
    rr_client remotes -send hi "127.0.0.1:$RR_PORT"
    [ "$RR_RC" -eq 2 ] && grep -q 'HandshakeFailed' "$RR_TMP/remotes.err" &&
        rr_wait_log "$log" 'attempt failed: HandshakeFailed' 2
    rr_result $? "remote client to a remote listener: HandshakeFailed on both sides" \
        "$RR_TMP/remotes.err" "$log"
    rr_stop "$RR_LAST_PID"
else
    rr_not_ok "remote listener starts" "$log"
fi

port=$(rr_free_port 4)
rr_client refused -send hi "127.0.0.1:$port"
[ "$RR_RC" -eq 2 ] && grep -q 'HandshakeConnectionRefused' "$RR_TMP/refused.err"
rr_result $? "nothing listening on 127.0.0.1:$port: the client fails with HandshakeConnectionRefused (exit $RR_RC, $RR_MS ms)" \
    "$RR_TMP/refused.out" "$RR_TMP/refused.err"

# ---- tokens ----------------------------------------------------------------------------------------

log=$RR_TMP/tok-l.log
if rr_listen tok-l -listen 127.0.0.1 -ephemeralport "${secure_listen[@]}" -echo; then
    lpid=$RR_LAST_PID
    port=$RR_PORT
    big=$(head -c 65536 /dev/zero | tr '\0' 'a')
    rr_client tok-big -secureconnection -cafile "$RR_CA" -authenticationtoken "$big" -send hi \
        "localhost:$port"
    [ "$RR_RC" -eq 2 ] && grep -q 'AuthenticationFailed' "$RR_TMP/tok-big.err"
    rr_result $? "a 64 KiB token: the client fails with AuthenticationFailed (exit $RR_RC)" \
        "$RR_TMP/tok-big.out" "$RR_TMP/tok-big.err"

    rr_client tok-none -secureconnection -cafile "$RR_CA" -send hi "localhost:$port"
    [ "$RR_RC" -eq 64 ] && grep -q -- '-secureconnection needs -authenticationtoken' "$RR_TMP/tok-none.err"
    rr_result $? "a secure client without a token: usage error, exit $RR_RC (64), with a clear message" \
        "$RR_TMP/tok-none.err"

    rejected=$(rr_count "$log" 'attempt failed: AuthenticationFailed')
    rr_client tok-wrong -secureconnection -cafile "$RR_CA" -authenticationtoken wrong -send hi \
        "localhost:$port"
    [ "$RR_RC" -eq 2 ] && grep -q 'AuthenticationFailed' "$RR_TMP/tok-wrong.err"
    rr_result $? "a wrong token: the client fails with AuthenticationFailed (exit $RR_RC)" \
        "$RR_TMP/tok-wrong.out" "$RR_TMP/tok-wrong.err"
    rr_wait_log "$log" 'attempt failed: AuthenticationFailed' 2 $((rejected + 1))
    rr_result $? "a wrong token: the listener logs 'attempt failed: AuthenticationFailed'" "$log"

    good_client tok-good localhost "$port" "${secure_connect[@]}"
    rr_result $? "the right token still gets in after the failures" \
        "$RR_TMP/tok-good.out" "$RR_TMP/tok-good.err" "$log"
    rr_stop "$lpid"
else
    rr_not_ok "secure listener for the token tests starts" "$log"
fi

# The largest token allowed (RR_MAX_TOKEN_SIZE = 8192 bytes) works end to end.
max=$(head -c 8192 /dev/zero | tr '\0' 'b')
log=$RR_TMP/tokmax-l.log
if rr_listen tokmax-l -listen 127.0.0.1 -ephemeralport -secureconnection \
    -certificatestore "$RR_STORE" -keypassphrase test-pass -authenticationtoken "$max" -echo; then
    good_client tok-max localhost "$RR_PORT" -secureconnection -cafile "$RR_CA" \
        -authenticationtoken "$max"
    rr_result $? "a token of exactly 8192 bytes is accepted" \
        "$RR_TMP/tok-max.out" "$RR_TMP/tok-max.err" "$log"
    rr_stop "$RR_LAST_PID"
else
    rr_not_ok "secure listener with an 8192-byte token starts" "$log"
fi

# ---- bad records after a good plain handshake -------------------------------------------------------

log=$RR_TMP/rec-l.log
if rr_listen rec-l -listen 127.0.0.1 -ephemeralport -echo; then
    lpid=$RR_LAST_PID
    port=$RR_PORT
    for variant in length channel reserved; do
        wait_idle "$log"
        errors=$(rr_count "$log" 'disconnected: ProtocolError')
        rr_python "$port" "$variant" >"$RR_TMP/rec-$variant.out" 2>&1 <<'EOF'
port, variant = int(sys.argv[1]), sys.argv[2]
s, rest = plain_handshake(port)
if variant == "length":    # a data record announcing 1 MiB, over the 16376-byte limit
    s.sendall(record(0, 3, b"", length=0x00100000))
elif variant == "channel": # a whole record on channel 200, which does not exist
    s.sendall(record(200, 3, b"x"))
else:                      # a keepalive with reserved bytes != 0
    s.sendall(record(128, 3, b"\x01" + bytes(8), reserved=0x0100))
# Collect what comes back until the close: it must end with DISCONNECT(ProtocolError).
data, t0 = rest, time.monotonic()
s.settimeout(0.2)
closed = False
while time.monotonic() - t0 < 5:
    try:
        chunk = s.recv(65536)
    except socket.timeout:
        continue
    except OSError:
        closed = True
        break
    if not chunk:
        closed = True
        break
    data += chunk
reasons = []
while len(data) >= 8:
    ch, fl, res, n = struct.unpack(">BBHI", data[:8])
    body, data = data[8:8 + n], data[8 + n:]
    if ch == 128 and body[:1] == b"\x03" and len(body) == 2:
        reasons.append(body[1])
print("closed=%s disconnect_reasons=%s" % (closed, reasons))
EOF
        grep -q 'closed=True' "$RR_TMP/rec-$variant.out"
        rr_result $? "record with bad $variant: the listener closes the connection" "$RR_TMP/rec-$variant.out"
        grep -qE 'disconnect_reasons=\[.*\b14\]' "$RR_TMP/rec-$variant.out"
        rr_result $? "record with bad $variant: a DISCONNECT(ProtocolError=14) precedes the close" \
            "$RR_TMP/rec-$variant.out"
        rr_wait_log "$log" 'disconnected: ProtocolError' 3 $((errors + 1)) && wait_idle "$log" &&
            rr_alive "$lpid"
        rr_result $? "record with bad $variant: the listener logs 'disconnected: ProtocolError' and listens again" \
            "$log"
    done
    good_client rec-good 127.0.0.1 "$port"
    rr_result $? "a good client succeeds after the bad records" \
        "$RR_TMP/rec-good.out" "$RR_TMP/rec-good.err" "$log"
    rr_stop "$lpid"
else
    rr_not_ok "listener for the record tests starts" "$log"
fi

# With -once the listener ends with the connection, and a protocol error is an abnormal end.
log=$RR_TMP/once-l.log
if rr_listen once-l -listen 127.0.0.1 -ephemeralport -once; then
    lpid=$RR_LAST_PID
    rr_python "$RR_PORT" >"$RR_TMP/once.out" 2>&1 <<'EOF'
s, rest = plain_handshake(int(sys.argv[1]))
s.sendall(record(200, 3, b"x"))
print("closed after %s s" % wait_closed(s, 5))
EOF
    rr_wait_pid "$lpid" 5
    [ "$RR_RC" -eq 2 ] && grep -q 'disconnected: ProtocolError' "$log" &&
        grep -q '^error: ProtocolError' "$log"
    rr_result $? "a -once listener exits 2 with ProtocolError after a bad record (exit $RR_RC)" \
        "$log" "$RR_TMP/once.out"
else
    rr_not_ok "-once listener starts" "$log"
fi

# ---- secrets never in logs -----------------------------------------------------------------------

secret=SuperSecretToken123
log=$RR_TMP/sec-l.log
export OPENRR_LOG=trace
if rr_listen sec-l -listen 127.0.0.1 -ephemeralport -secureconnection -certificatestore "$RR_STORE" \
    -keypassphrase test-pass -authenticationtoken "$secret" -echo; then
    lpid=$RR_LAST_PID
    tr '\0' ' ' <"/proc/$lpid/cmdline" >"$RR_TMP/sec-cmdline.txt"
    good_client sec-good localhost "$RR_PORT" -secureconnection -cafile "$RR_CA" \
        -authenticationtoken "$secret"
    rr_result $? "a secure client with the secret token connects (OPENRR_LOG=trace)" \
        "$RR_TMP/sec-good.out" "$RR_TMP/sec-good.err" "$log"
    rr_client sec-bad -secureconnection -cafile "$RR_CA" -authenticationtoken "${secret}-wrong" \
        -send hi "localhost:$RR_PORT"
    wait_idle "$log"
    # An orderly stop, so that whatever the tool logs while shutting down is searched too.
    kill -TERM "$lpid"
    rr_wait_pid "$lpid" 5 || rr_stop "$lpid"
    unset OPENRR_LOG
    grep -q 'openrr ' "$log" "$RR_TMP/sec-good.err"
    rr_result $? "OPENRR_LOG=trace produces library log lines (so the next check means something)" \
        "$log" "$RR_TMP/sec-good.err"
    mapfile -t leaks < <(grep -lE "SuperSecretToken|test-pass" "$log" "$RR_TMP"/sec-good.* \
        "$RR_TMP"/sec-bad.* 2>/dev/null)
    [ "${#leaks[@]}" -eq 0 ]
    rr_result $? "neither the token nor the passphrase appears in any output of listener or clients" \
        "${leaks[@]}"
    ! grep -qE "SuperSecretToken|test-pass" "$RR_TMP/sec-cmdline.txt"
    rr_result $? "the running listener's command line (/proc/PID/cmdline) shows neither secret" \
        "$RR_TMP/sec-cmdline.txt"
else
    unset OPENRR_LOG
    rr_not_ok "secure listener for the secrets test starts" "$log"
fi

# ---- one client after another -----------------------------------------------------------------------

log=$RR_TMP/again-l.log
if rr_listen again-l -listen 127.0.0.1 -ephemeralport -echo; then
    lpid=$RR_LAST_PID
    good_client again-1 127.0.0.1 "$RR_PORT"
    r1=$?
    wait_idle "$log"
    good_client again-2 127.0.0.1 "$RR_PORT"
    r2=$?
    [ "$r1" -eq 0 ] && [ "$r2" -eq 0 ] && [ "$(rr_count "$log" 'state: Connected')" -eq 2 ]
    rr_result $? "a listener without -once serves two clients one after the other (both exit 0)" \
        "$RR_TMP/again-1.err" "$RR_TMP/again-2.err" "$log"
    rr_stop "$lpid"
else
    rr_not_ok "listener for the listen-again test starts" "$log"
fi

# ---- IPv6 loopback ----------------------------------------------------------------------------------

if ! python3 -c 'import socket; s = socket.socket(socket.AF_INET6); s.bind(("::1", 0))' 2>/dev/null; then
    rr_skip "IPv6: ::1 is not available on this machine"
else
    for mode in plain secure; do
        side_args "$mode"
        log=$RR_TMP/v6-$mode-l.log
        if rr_listen "v6-$mode-l" -listen '[::1]' -ephemeralport "${largs[@]}" -echo; then
            good_client "v6-$mode" '[::1]' "$RR_PORT" "${cargs[@]}" &&
                grep -q 'connected: ' "$RR_TMP/v6-$mode.out"
            rr_result $? "IPv6: $mode client to [::1]:$RR_PORT succeeds" \
                "$RR_TMP/v6-$mode.out" "$RR_TMP/v6-$mode.err" "$log"
            rr_stop "$RR_LAST_PID"
        else
            rr_not_ok "IPv6: $mode listener on [::1] starts" "$log"
        fi
    done
fi

rr_finish
