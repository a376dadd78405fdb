#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The openrr-remoting command line: --help, usage errors, both flag prefixes, both ways of
# giving the listen address (-listen HOST:PORT, and -listen followed later by HOST:PORT), and
# -peertimeout (shared with the other tools through tool_conn).
set -u
. "$(dirname "$0")/lib.sh"
rr_init

"$RR_TOOL" --help >"$RR_TMP/help.out" 2>&1
rc=$?
rr_result $(( rc == 0 && $(grep -c -- "-secureconnection" "$RR_TMP/help.out") > 0 ? 0 : 1 )) \
    "--help exits 0 and lists the flags"
grep -q -- "-peertimeout MS" "$RR_TMP/help.out" && grep -q -- "-timeout MS" "$RR_TMP/help.out"
rr_result $? "--help lists both the connection flags (-peertimeout) and the tool's own (-timeout)" \
    "$RR_TMP/help.out"

"$RR_TOOL" -nosuchflag >"$RR_TMP/bad.out" 2>&1
rc=$?
rr_result $(( rc == 64 ? 0 : 1 )) "an unknown flag is a usage error (64)" "exit $rc"

"$RR_TOOL" -listen 127.0.0.1:1 -secureconnection -authenticationtoken x >"$RR_TMP/nostore.out" 2>&1
rc=$?
rr_result $(( rc == 64 && $(grep -ci "certificatestore" "$RR_TMP/nostore.out") > 0 ? 0 : 1 )) \
    "a secure listener without a certificate store is refused with a clear message" "exit $rc"

# -listen HOST:PORT with double-dash flags.
port=$(rr_free_port)
if rr_listen dash --listen "127.0.0.1:$port" --echo --once; then
    rr_client dash-c "--send" "hi" "127.0.0.1:$port"
    rr_result $(( RR_RC == 0 && $(grep -c "echo: hi" "$RR_TMP/dash-c.out") > 0 ? 0 : 1 )) \
        "--listen HOST:PORT and --send work with double dashes" "exit $RR_RC"
else
    rr_not_ok "--listen HOST:PORT did not start"
fi

# -listen with the address given later as a positional argument.
port=$(rr_free_port)
if rr_listen sep -listen -echo -once "127.0.0.1:$port"; then
    rr_result $(( RR_PORT == port ? 0 : 1 )) "-listen with a separate address binds that port" \
        "bound $RR_PORT, wanted $port"
    rr_client sep-c -send "hey" "127.0.0.1:$port"
    rr_result $(( RR_RC == 0 ? 0 : 1 )) "a client reaches the separately given address" "exit $RR_RC"
else
    rr_not_ok "-listen followed by a separate address did not start"
fi

# -listen immediately followed by the address as its own argument.
port=$(rr_free_port)
if rr_listen next -listen "127.0.0.1:$port" -once; then
    rr_client next-c "127.0.0.1:$port"
    rr_result $(( RR_RC == 0 ? 0 : 1 )) "-listen ADDRESS as the next argument works" "exit $RR_RC"
else
    rr_not_ok "-listen ADDRESS did not start"
fi

# ---- -peertimeout ---------------------------------------------------------------------------

for bad in 50 3600001 abc; do
    "$RR_TOOL" -peertimeout "$bad" 127.0.0.1:1 >"$RR_TMP/pt-$bad.out" 2>&1
    rc=$?
    [ "$rc" -eq 64 ] && grep -q -- "-peertimeout needs milliseconds" "$RR_TMP/pt-$bad.out"
    rr_result $? "-peertimeout $bad is a usage error (exit $rc, 64) with a message" \
        "$RR_TMP/pt-$bad.out"
done

log=$RR_TMP/pt-l.log
if rr_listen pt-l -listen 127.0.0.1 -ephemeralport; then
    lpid=$RR_LAST_PID
    port=$RR_PORT
    # No -echo on the listener: the client waits 1.5 s for an echo on a quiet connection, which
    # a 300 ms peer timeout must survive (tool_conn makes the keepalives frequent enough).
    rr_client pt-quiet -peertimeout 300 -send hi -timeout 1500 "127.0.0.1:$port"
    [ "$RR_RC" -eq 0 ] && grep -q 'no echo within' "$RR_TMP/pt-quiet.out" &&
        ! grep -q 'PeerDisconnectTimeout' "$RR_TMP/pt-quiet.out"
    rr_result $? "-peertimeout 300: a live but quiet peer is not timed out (exit $RR_RC)" \
        "$RR_TMP/pt-quiet.out" "$RR_TMP/pt-quiet.err"
    rr_wait_log "$log" 'listening on port' 5 2

    # The same against a stopped listener: the client gives up after about 300 ms, not 5 s.
    rr_bg pt-stop "$RR_TOOL" -peertimeout 300 -send hi -timeout 30000 "127.0.0.1:$port"
    cpid=$RR_LAST_PID
    cout=$RR_TMP/pt-stop.out
    if rr_wait_log "$cout" 'sent 2 bytes' 5 && rr_wait_log "$log" 'data received' 5 2; then
        t0=$(rr_now_ms)
        kill -STOP "$lpid"
        rr_wait_log "$cout" 'disconnected: PeerDisconnectTimeout' 5
        found=$?
        took=$(($(rr_now_ms) - t0))
        kill -CONT "$lpid"
        rr_wait_pid "$cpid" 5
        [ "$found" -eq 0 ] && [ "$took" -le 2000 ] && [ "$RR_RC" -eq 2 ] &&
            grep -q 'PeerDisconnectTimeout' "$RR_TMP/pt-stop.err"
        rr_result $? "-peertimeout 300 against a stopped listener: PeerDisconnectTimeout after $took ms (at most 2000), exit $RR_RC (2)" \
            "$cout" "$RR_TMP/pt-stop.err"
    else
        rr_not_ok "-peertimeout 300: the client connects" "$cout" "$RR_TMP/pt-stop.err" "$log"
    fi
    rr_stop "$cpid"
    rr_stop "$lpid"
else
    rr_not_ok "listener for the -peertimeout tests starts" "$log"
fi
rr_finish
