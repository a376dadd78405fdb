#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The OpenXR runtime (libopenrr_openxr.so) with the real Khronos peer: Debian's unmodified
# hello_xr, loaded through the Khronos loader with XR_RUNTIME_JSON and rendering on Mesa's
# lavapipe, streams to openrr-player. Checked: it reaches XR_SESSION_STATE_FOCUSED with both
# Vulkan plugins (XR_KHR_vulkan_enable2 and _enable); the player decodes 30 frames whose last
# snapshot shows hello_xr's cubes (not the clear colour) in both eyes; secure connect and
# secure listen from the OPENRR_* environment; the player leaving → LOSS_PENDING and hello_xr
# restarts without crashing; no player within 10 s → the session is created, then
# LOSS_PENDING; a player killed mid-stream → LOSS_PENDING, no crash. First, oxr_faults checks
# the runtime's error codes, its disconnect path and XR_MSFT_holographic_remoting's calls without
# the loader in between; last, the sample app of examples/ streams securely as a client and as
# a server with its four callbacks.
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"
rr_init
rr_stream_init

MANIFEST=${RR_OPENXR_JSON:-$(dirname "$(dirname "$RR_TOOL")")/openxr/openrr_openxr.json}
LIB=$(dirname "$MANIFEST")/libopenrr_openxr.so
LVP=/usr/share/vulkan/icd.d/lvp_icd.x86_64.json
HELLO=$(command -v hello_xr || true)
if [ ! -f "$MANIFEST" ] || [ ! -f "$LIB" ]; then
    rr_skip "the OpenXR runtime is not built ($MANIFEST)"
    rr_finish
fi
if [ ! -f "$LVP" ]; then
    rr_skip "lavapipe (mesa-vulkan-drivers) is not installed"
    rr_finish
fi
# 0. The runtime's own error codes, called directly (the loader would answer for bad handles
# itself): oxr_faults plays the loader and an in-process player.
FAULTS=$(dirname "$MANIFEST")/oxr_faults
sanitized=0
if nm -D --undefined-only "$LIB" 2>/dev/null | grep -qE '__(asan|tsan|msan|ubsan)_'; then
    sanitized=1
fi
if [ -x "$FAULTS" ]; then
    VK_ICD_FILENAMES=$LVP timeout -k 2 120 "$FAULTS" "$LIB" >"$RR_TMP/faults.out" 2>"$RR_TMP/faults.err"
    rc=$?
    grep '^not ok' "$RR_TMP/faults.out" | sed 's/^/#   /'
    [ "$rc" -eq 0 ]
    rr_result $? "runtime error codes: $(tail -n 1 "$RR_TMP/faults.out") (invalid handles, structure types, call order, swapchains, layers, paths, actions, the player leaving mid-frame, XR_MSFT_holographic_remoting's calls, callbacks and data channels)" \
        "$RR_TMP/faults.out" "$RR_TMP/faults.err"
else
    rr_skip "oxr_faults is not built (OPENRR_TESTS off)"
fi

if [ -z "$HELLO" ]; then
    rr_skip "hello_xr (libopenxr-utils) is not installed"
    rr_finish
fi
# A sanitized shared library needs its runtime in the executable, and hello_xr has none.
if [ "$sanitized" -eq 1 ]; then
    rr_skip "libopenrr_openxr.so is built with sanitizers: an uninstrumented hello_xr cannot load it"
    rr_finish
fi

token=xr-token
secure_listen=(-secureconnection -certificatestore "$RR_STORE" -keypassphrase test-pass
    -authenticationtoken "$token")
secure_connect=(-secureconnection -authenticationtoken "$token" -cafile "$RR_CA")
export XR_RUNTIME_JSON=$MANIFEST VK_ICD_FILENAMES=$LVP OPENRR_EYE_SIZE=640x360
# hello_xr quits when a read of its stdin returns: give it one that never does. Its log is
# line-buffered (stdbuf) so that the states can be watched while it runs.
mkfifo "$RR_TMP/stdin"
exec 3<>"$RR_TMP/stdin"

# xr_start NAME PLUGIN [VAR=VALUE...]: hello_xr in the background with the variables set,
# stdout and stderr (hello_xr's log and the runtime's lines) to NAME.log. Sets XR_PID.
xr_start() {
    local name=$1 plugin=$2
    shift 2
    env "$@" stdbuf -oL -eL "$HELLO" -g "$plugin" -v <&3 >"$RR_TMP/$name.log" 2>&1 &
    XR_PID=$!
    RR_PIDS+=("$XR_PID")
}

# The session state changes hello_xr logged, e.g. "IDLE READY ... FOCUSED".
states() {
    sed -n 's/.*->XR_SESSION_STATE_\([A-Z_]*\) session.*/\1/p' "$1" | tr '\n' ' '
}

# A killed or crashed hello_xr reports a signal (>= 128); a live one is what we want here.
no_crash() {
    if rr_alive "$1"; then
        return 0
    fi
    rr_wait_pid "$1" 1
    [ "$RR_RC" -lt 128 ] || [ "$RR_RC" -eq 255 ]
}

# Cubes in the middle of both eyes: each centre box differs from the clear colour in a corner.
# hello_xr draws a cube 2 m in front of the view, so it is there whatever the head pose.
cubes_in() {
    local png=$1 w h corner box
    read -r w h < <(python3 "$here/png_pixels.py" size "$png") || return 1
    corner=$(python3 "$here/png_pixels.py" mean "$png" 0 0 16 16) || return 1
    for cx in $((w / 4)) $((w * 3 / 4)); do
        box=$(python3 "$here/png_pixels.py" mean "$png" $((cx - 40)) $((h / 2 - 40)) \
            $((cx + 40)) $((h / 2 + 40))) || return 1
        rr_note "$(basename "$png") eye centre at x=$cx: mean $box, clear colour $corner"
        python3 - "$corner" "$box" <<'PY' || return 1
import sys
a = [float(v) for v in sys.argv[1].split()]
b = [float(v) for v in sys.argv[2].split()]
sys.exit(0 if max(abs(x - y) for x, y in zip(a, b)) >= 15 else 1)
PY
    done
}

# 1. Plain: the player listens, the runtime connects (OPENRR_CONNECT), Vulkan2.
if rr_player p1 -listen 127.0.0.1:0 --headless -q --frames 30 --snapshot "$RR_TMP/snap1" \
    --snapshot-every 10 --stats "$RR_TMP/p1.json"; then
    xr_start x1 Vulkan2 OPENRR_CONNECT="127.0.0.1:$RR_PORT" OPENRR_STATS=1
    rr_wait_pid "$RR_PLAYER_PID" 60
    prc=$RR_RC
    rr_wait_log "$RR_TMP/x1.log" 'XR_SESSION_STATE_LOSS_PENDING' 15
    st=$(states "$RR_TMP/x1.log")
    rr_note "hello_xr states: $st"
    case "$st" in
    *"IDLE READY SYNCHRONIZED VISIBLE FOCUSED"*) rr_ok "Vulkan2: hello_xr goes IDLE, READY, SYNCHRONIZED, VISIBLE, FOCUSED" ;;
    *) rr_not_ok "Vulkan2: hello_xr reaches FOCUSED (states: $st)" "$RR_TMP/x1.log" ;;
    esac
    [ "$prc" -eq 0 ]
    rr_result $? "Vulkan2: the player decodes 30 frames and exits 0 (got $prc)" "$RR_TMP/p1.err"
    rr_python "$RR_TMP/p1.json" <<'PY'
import json
s = json.load(open(sys.argv[1]))
assert s["videoFramesReceived"] >= 30 and s["videoFramesDiscarded"] == 0, s
assert s["width"] == 1280 and s["height"] == 360, (s["width"], s["height"])
assert s["latency"]["poseToPresent"]["count"] > 0, s["latency"]
PY
    rr_result $? "Vulkan2: 1280x360 side by side, none discarded, frames tagged with the player's poses" \
        "$RR_TMP/p1.json"
    last=$(find "$RR_TMP/snap1" -name 'frame-*.png' 2>/dev/null | sort -t- -k2 -n | tail -n 1)
    if [ -n "$last" ] && cubes_in "$last"; then
        rr_ok "Vulkan2: the last snapshot shows hello_xr's cubes in both eyes"
    else
        rr_not_ok "Vulkan2: the last snapshot shows hello_xr's cubes (got '${last:-none}')" "$RR_TMP/p1.err"
    fi
    case "$st" in
    *"FOCUSED LOSS_PENDING"*) rr_ok "the player leaving: FOCUSED → LOSS_PENDING" ;;
    *) rr_not_ok "the player leaving gives LOSS_PENDING (states: $st)" "$RR_TMP/x1.log" ;;
    esac
    grep -q 'openrr_openxr: session destroyed' "$RR_TMP/x1.log" && no_crash "$XR_PID"
    rr_result $? "after LOSS_PENDING hello_xr destroys the session and restarts without crashing" \
        "$RR_TMP/x1.log"
    grep -E 'openrr_openxr: stats' "$RR_TMP/x1.log" | sed 's/^/# /'
    grep -qE 'openrr_openxr: stats +overhead' "$RR_TMP/x1.log"
    rr_result $? "OPENRR_STATS=1 prints the per-frame overhead at session end" "$RR_TMP/x1.log"
    rr_kill "$XR_PID"
else
    rr_not_ok "plain: the player did not listen" "$RR_TMP/p1.err"
fi

# 2. The XR_KHR_vulkan_enable plugin (the application makes its Vulkan instance itself).
if rr_player p2 -listen 127.0.0.1:0 --headless -q --frames 30; then
    xr_start x2 Vulkan OPENRR_CONNECT="127.0.0.1:$RR_PORT"
    rr_wait_pid "$RR_PLAYER_PID" 60
    prc=$RR_RC
    st=$(states "$RR_TMP/x2.log")
    [ "$prc" -eq 0 ] && [[ "$st" == *FOCUSED* ]]
    rr_result $? "Vulkan: FOCUSED and 30 frames decoded (player $prc; states: $st)" \
        "$RR_TMP/x2.log" "$RR_TMP/p2.err"
    rr_kill "$XR_PID"
else
    rr_not_ok "Vulkan: the player did not listen" "$RR_TMP/p2.err"
fi

# 3. Secure connect: OPENRR_TOKEN makes it TLS with the token; OPENRR_CAFILE trusts the test CA.
if rr_player p3 -listen 127.0.0.1:0 "${secure_listen[@]}" --headless -q --frames 30 \
    --snapshot "$RR_TMP/snap3" --snapshot-every 100; then
    xr_start x3 Vulkan2 OPENRR_CONNECT="localhost:$RR_PORT" OPENRR_TOKEN="$token" \
        OPENRR_CAFILE="$RR_CA"
    rr_wait_pid "$RR_PLAYER_PID" 60
    prc=$RR_RC
    last=$(find "$RR_TMP/snap3" -name 'frame-*.png' 2>/dev/null | sort -t- -k2 -n | tail -n 1)
    [ "$prc" -eq 0 ] && grep -q 'TLSv1.3' "$RR_TMP/p3.err" &&
        grep -q 'client token accepted' "$RR_TMP/p3.err" && [ -n "$last" ] && cubes_in "$last"
    rr_result $? "secure connect: TLS 1.3, token accepted, 30 frames with the cubes (player $prc)" \
        "$RR_TMP/p3.err" "$RR_TMP/p3.out" "$RR_TMP/x3.log"
    ! grep -q "$token" "$RR_TMP/x3.log"
    rr_result $? "secure connect: the token appears in no log line" "$RR_TMP/x3.log"
    rr_kill "$XR_PID"
else
    rr_not_ok "secure connect: the player did not listen" "$RR_TMP/p3.err"
fi

# 4. Secure listen: the runtime listens (OPENRR_LISTEN, OPENRR_CERTSTORE), the player connects.
port=$(rr_free_port)
xr_start x4 Vulkan2 OPENRR_LISTEN="127.0.0.1:$port" OPENRR_TOKEN="$token" \
    OPENRR_CERTSTORE="$RR_STORE" OPENRR_KEYPASSPHRASE=test-pass
if rr_wait_log "$RR_TMP/x4.log" "openrr_openxr: listening on port $port" 10; then
    rr_bg p4 "$RR_PLAYER_BIN" "localhost:$port" "${secure_connect[@]}" --headless -q --frames 30
    rr_wait_pid "$RR_LAST_PID" 60
    prc=$RR_RC
    st=$(states "$RR_TMP/x4.log")
    [ "$prc" -eq 0 ] && [[ "$st" == *FOCUSED* ]] && grep -q 'TLSv1.3' "$RR_TMP/p4.err"
    rr_result $? "secure listen: the player connects over TLS 1.3 and decodes 30 frames (player $prc; states: $st)" \
        "$RR_TMP/x4.log" "$RR_TMP/p4.err"
else
    rr_not_ok "secure listen: the runtime did not listen on port $port" "$RR_TMP/x4.log"
fi
rr_kill "$XR_PID"

# 5. No player within 10 s: xrCreateSession returns after the wait, the session is lost.
port=$(rr_free_port)
t0=$(rr_now_ms)
xr_start x5 Vulkan2 OPENRR_CONNECT="127.0.0.1:$port"
rr_wait_log "$RR_TMP/x5.log" 'XR_SESSION_STATE_LOSS_PENDING' 20
ms=$(($(rr_now_ms) - t0))
st=$(states "$RR_TMP/x5.log")
[[ "$st" == "IDLE LOSS_PENDING"* ]] && [ "$ms" -ge 9500 ] &&
    grep -q 'no player within 10000 ms' "$RR_TMP/x5.log"
rr_result $? "no player: IDLE then LOSS_PENDING after the 10 s wait (${ms} ms; states: $st)" \
    "$RR_TMP/x5.log"
no_crash "$XR_PID"
rr_result $? "no player: hello_xr restarts without crashing" "$RR_TMP/x5.log"
rr_kill "$XR_PID"

# 6. The player is killed mid-stream: LOSS_PENDING, no crash.
if rr_player p6 -listen 127.0.0.1:0 --headless -q; then
    xr_start x6 Vulkan2 OPENRR_CONNECT="127.0.0.1:$RR_PORT"
    if rr_wait_log "$RR_TMP/x6.log" 'XR_SESSION_STATE_FOCUSED' 30; then
        sleep 2
        rr_kill "$RR_PLAYER_PID"
        rr_wait_log "$RR_TMP/x6.log" 'FOCUSED->XR_SESSION_STATE_LOSS_PENDING' 15
        rr_result $? "player killed: FOCUSED → LOSS_PENDING" "$RR_TMP/x6.log"
        sleep 1
        grep -q 'openrr_openxr: session destroyed' "$RR_TMP/x6.log" && no_crash "$XR_PID"
        rr_result $? "player killed: the session is destroyed cleanly, hello_xr does not crash" \
            "$RR_TMP/x6.log"
    else
        rr_not_ok "player killed: hello_xr did not stream" "$RR_TMP/x6.log" "$RR_TMP/p6.err"
    fi
    rr_kill "$XR_PID"
else
    rr_not_ok "player killed: the player did not listen" "$RR_TMP/p6.err"
fi

# 7-9. The sample app of examples/ (XR_MSFT_holographic_remoting, written against the public
# header): secure connect with the client callbacks (a 300-byte token makes the token callback
# answer XR_ERROR_SIZE_INSUFFICIENT first), secure listen with the server callbacks, and a
# wrong token.
SAMPLE=$(dirname "$MANIFEST")/example/openxr-remote-sample
if [ -x "$SAMPLE" ]; then
    long=$(printf 'k%.0s' $(seq 300))
    if rr_player p7 -listen 127.0.0.1:0 -secureconnection -certificatestore "$RR_STORE" \
        -keypassphrase test-pass -authenticationtoken "$long" --headless -q --stats "$RR_TMP/p7.json"; then
        OPENRR_CAFILE=$RR_CA timeout -k 2 60 "$SAMPLE" "localhost:$RR_PORT" -secureconnection \
            -authenticationtoken "$long" -frames 60 >"$RR_TMP/e7.out" 2>&1
        erc=$?
        rr_wait_pid "$RR_PLAYER_PID" 10
        out=$RR_TMP/e7.out
        [ "$erc" -eq 0 ] && grep -q 'token requested; 256 bytes offered, 301 needed' "$out" &&
            grep -q 'callback: token supplied (301 bytes)' "$out" &&
            grep -q 'server certificate chain of 2 for "localhost" judged: root trusted, name ok' "$out"
        rr_result $? "sample, secure connect: both client callbacks run (the token after one size retry), exit 0 ($erc)" "$out"
        grep -q 'remoting: data channel opened; greeting sent' "$out" &&
            grep -q 'remoting: timestamp conversion ready' "$out" &&
            grep -q 'remoting: this frame is shown at player time' "$out"
        rr_result $? "sample, secure connect: data channel opened and used, timestamps converted" "$out"
        rr_python "$RR_TMP/p7.json" <<'PY'
import json
s = json.load(open(sys.argv[1]))
assert s["videoFramesReceived"] >= 30 and s["videoFramesDiscarded"] == 0, s
PY
        rr_result $? "sample, secure connect: the player decodes its frames" "$RR_TMP/p7.json" "$RR_TMP/p7.err"
    else
        rr_not_ok "sample, secure connect: the player did not listen" "$RR_TMP/p7.err"
    fi

    port=$(rr_free_port)
    rr_bg e8 "$SAMPLE" -listen "127.0.0.1:$port" -secureconnection -authenticationtoken "$token" \
        -certificatestore "$RR_STORE" -keypassphrase test-pass -frames 60
    epid=$RR_LAST_PID
    if rr_wait_log "$RR_TMP/e8.err" "openrr_openxr: listening on port $port" 10; then
        rr_bg p8 "$RR_PLAYER_BIN" "localhost:$port" "${secure_connect[@]}" --headless -q
        ppid=$RR_LAST_PID
        rr_wait_pid "$epid" 60
        erc=$RR_RC
        rr_wait_pid "$ppid" 10
        [ "$erc" -eq 0 ] && grep -q 'callback: certificate supplied' "$RR_TMP/e8.out" &&
            grep -q 'callback: client token valid' "$RR_TMP/e8.out" &&
            grep -q 'TLSv1.3' "$RR_TMP/p8.err"
        rr_result $? "sample, secure listen: both server callbacks run, the player connects over TLS 1.3, exit 0 ($erc)" \
            "$RR_TMP/e8.out" "$RR_TMP/e8.err" "$RR_TMP/p8.err"
    else
        rr_not_ok "sample, secure listen: it did not listen on port $port" "$RR_TMP/e8.out" "$RR_TMP/e8.err"
    fi
    rr_kill "$epid"

    if rr_player p9 -listen 127.0.0.1:0 "${secure_listen[@]}" --headless -q; then
        OPENRR_CAFILE=$RR_CA timeout -k 2 60 "$SAMPLE" "localhost:$RR_PORT" -secureconnection \
            -authenticationtoken wrong-token -frames 60 >"$RR_TMP/e9.out" 2>&1
        erc=$?
        [ "$erc" -eq 2 ] && grep -q 'remoting: disconnected, reason 6' "$RR_TMP/e9.out" &&
            grep -q 'session lost (LOSS_PENDING)' "$RR_TMP/e9.out"
        rr_result $? "sample, wrong token: AuthenticationFailed (6), the session is lost, exit 2 ($erc)" \
            "$RR_TMP/e9.out"
        rr_kill "$RR_PLAYER_PID"
    else
        rr_not_ok "sample, wrong token: the player did not listen" "$RR_TMP/p9.err"
    fi
else
    rr_skip "the sample app is not built (the OpenXR loader's development files are missing)"
fi

rr_finish
