#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The stream under stress: a 10 s stall of the remote (SIGSTOP) that the player must ride out
# with its last frame and then resume, and the bitrate cap against incompressible video.
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"
rr_init
rr_stream_init

# 1. SIGSTOP of the remote for 10 s. Both sides allow 30 s of silence, so the connection
# survives; the player keeps returning its last frame, reports the gap, then resumes.
if rr_player s1 -listen 127.0.0.1:0 --headless -q -peertimeout 30000 --frames 240 \
    --stats "$RR_TMP/s1.json"; then
    rr_remote rs1 "127.0.0.1:$RR_PORT" --size 320x180 -q -peertimeout 30000
    rr_wait_log "$RR_TMP/s1.err" 'onnected' 10
    sleep 1.5
    kill -STOP "$RR_REMOTE_PID"
    sleep 10
    kill -CONT "$RR_REMOTE_PID"
    rr_wait_pid "$RR_PLAYER_PID" 60
    prc=$RR_RC
    rr_wait_pid "$RR_REMOTE_PID" 10
    rr_python "$RR_TMP/s1.json" <<'PY'
import json
s = json.load(open(sys.argv[1]))
assert s["framesPresented"] >= 240, s["framesPresented"]
assert s["stallMaxMs"] >= 9000, ("gap not reported", s["stallMaxMs"])
assert s["videoFrameMaxDelta"] >= 9000, s["videoFrameMaxDelta"]
# The last frame was shown again through the stall (about 600 blits at 60 fps).
assert s["videoFrameReusedCount"] >= 300, s["videoFrameReusedCount"]
assert s["videoFramesDiscarded"] == 0, s["videoFramesDiscarded"]
assert s["disconnectReason"] == "DisconnectRequest", s["disconnectReason"]
PY
    pyrc=$?
    [ "$prc" -eq 0 ] && [ "$pyrc" -eq 0 ]
    rr_result $? "10 s stall: the player keeps the last frame, reports the gap, resumes to 240 frames (exit $prc)" \
        "$RR_TMP/s1.json" "$RR_TMP/s1.err" "$RR_TMP/rs1.err"
else
    rr_not_ok "stall: the player did not listen" "$RR_TMP/s1.err"
fi

# 2. The bitrate cap against noise (every frame incompressible): within 10 % over 10 s.
if rr_player s2 -listen 127.0.0.1:0 --headless -q --duration 12 --stats "$RR_TMP/s2.json"; then
    rr_remote rs2 "127.0.0.1:$RR_PORT" --size 320x180 -q --scene noise --max-bitrate 2000
    rr_wait_pid "$RR_PLAYER_PID" 60
    prc=$RR_RC
    rr_wait_pid "$RR_REMOTE_PID" 10
    rr_python "$RR_TMP/s2.json" <<'PY'
import json
s = json.load(open(sys.argv[1]))
top, avg = s["bitrateKbpsMax10s"], s["bitrateKbps"]
print("# bitrate: average %.0f kbps, highest 10 s window %.0f kbps (cap 2000)" % (avg, top))
assert top <= 2200, ("cap exceeded", top)
assert avg >= 1000, ("noise should press against the cap", avg)
PY
    pyrc=$?
    [ "$prc" -eq 0 ] && [ "$pyrc" -eq 0 ]
    rr_result $? "bitrate cap 2000 kbps honoured within 10 % over 10 s on noise (player exit $prc)" \
        "$RR_TMP/s2.json" "$RR_TMP/s2.err" "$RR_TMP/rs2.err"
else
    rr_not_ok "bitrate: the player did not listen" "$RR_TMP/s2.err"
fi

rr_finish
