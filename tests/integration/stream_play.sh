#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# openrr-player against openrr-testremote: a secure stream with statistics and snapshots, the
# window path (SDL offscreen), the GPU colour-conversion path, and how each side reports the
# other ending: window closed, remote stopped, remote killed, an encoder that cannot open.
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"
rr_init
rr_stream_init

token=stream-token
secure_listen=(-secureconnection -certificatestore "$RR_STORE" -keypassphrase test-pass
    -authenticationtoken "$token")
secure_connect=(-secureconnection -authenticationtoken "$token" -cafile "$RR_CA")
small=(--size 320x180)

# 1. Secure stream: N frames decoded, statistics under the reference's names, snapshots.
if rr_player p1 -listen 127.0.0.1:0 "${secure_listen[@]}" --headless -q --frames 90 \
    --stats "$RR_TMP/p1.json" --snapshot "$RR_TMP/snap" --snapshot-every 30; then
    rr_remote r1 "localhost:$RR_PORT" "${secure_connect[@]}" "${small[@]}"
    rr_wait_pid "$RR_PLAYER_PID" 60
    prc=$RR_RC
    rr_wait_pid "$RR_REMOTE_PID" 10
    rrc=$RR_RC
    rr_result $((prc != 0)) "secure stream: the player exits 0 after 90 frames (got $prc)" \
        "$RR_TMP/p1.err" "$RR_TMP/r1.err"
    rr_result $((rrc != 0)) "secure stream: the remote exits 0 when the player disconnects (got $rrc)" \
        "$RR_TMP/r1.out" "$RR_TMP/r1.err"
    grep -q 'PeerDisconnectRequest' "$RR_TMP/r1.out" "$RR_TMP/r1.err"
    rr_result $? "secure stream: the remote reports PeerDisconnectRequest" "$RR_TMP/r1.out" "$RR_TMP/r1.err"
    rr_python "$RR_TMP/p1.json" <<'PY'
import json
s = json.load(open(sys.argv[1]))
need = ["videoFramesReceived", "videoFrameReusedCount", "videoFramesSkipped",
        "videoFramesDiscarded", "videoFrameMinDelta", "videoFrameMaxDelta", "fps",
        "bitrateKbps", "latency", "codec", "width", "height", "disconnectReason"]
missing = [k for k in need if k not in s]
assert not missing, "missing %s" % missing
assert s["videoFramesReceived"] >= 90 and s["framesPresented"] >= 90, s
assert s["videoFramesDiscarded"] == 0, s
assert s["codec"] == "h264" and s["width"] == 640 and s["height"] == 180, s
assert s["disconnectReason"] == "DisconnectRequest", s["disconnectReason"]
lat = s["latency"]
for stage in ["poseToPresent", "encode", "transport", "decode"]:
    assert lat[stage]["count"] > 0 and lat[stage]["median"] >= 0, (stage, lat[stage])
assert lat["poseToPresent"]["p99"] >= lat["poseToPresent"]["median"], lat["poseToPresent"]
PY
    rr_result $? "secure stream: statistics JSON has the reference's counters and stage latencies" \
        "$RR_TMP/p1.json"
    rr_python "$RR_TMP/snap" <<'PY'
import os, struct, zlib
files = sorted(f for f in os.listdir(sys.argv[1]) if f.endswith(".png"))
assert len(files) >= 3, files
for f in files:
    data = open(os.path.join(sys.argv[1], f), "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f
    w, h = struct.unpack(">II", data[16:24])
    assert (w, h) == (640, 180), (f, w, h)
PY
    rr_result $? "secure stream: PNG snapshots of decoded frames (640x180)" "$RR_TMP/p1.err"
else
    rr_not_ok "secure stream: the player did not listen" "$RR_TMP/p1.err"
fi

# 2. The window path with SDL's offscreen driver; SIGTERM is what SDL turns into a window close.
if SDL_VIDEODRIVER=offscreen rr_player p2 -listen 127.0.0.1:0 -q; then
    rr_remote r2 "127.0.0.1:$RR_PORT" "${small[@]}"
    sleep 2
    kill -TERM "$RR_PLAYER_PID"
    rr_wait_pid "$RR_PLAYER_PID" 10
    prc=$RR_RC
    rr_wait_pid "$RR_REMOTE_PID" 10
    rrc=$RR_RC
    [ "$prc" -eq 0 ] && [ "$rrc" -eq 0 ] && grep -q 'PeerDisconnectRequest' "$RR_TMP/r2.out" "$RR_TMP/r2.err"
    rr_result $? "window closed: player exits 0 ($prc), remote sees PeerDisconnectRequest and exits 0 ($rrc)" \
        "$RR_TMP/p2.err" "$RR_TMP/r2.out" "$RR_TMP/r2.err"
else
    rr_not_ok "window: the player did not listen" "$RR_TMP/p2.err"
fi

# 3. The remote stops mid-stream (its --frames ends first): both sides say who ended it.
if rr_player p3 -listen 127.0.0.1:0 --headless -q --frames 100000 --stats "$RR_TMP/p3.json"; then
    rr_remote r3 "127.0.0.1:$RR_PORT" "${small[@]}" --frames 40
    rr_wait_pid "$RR_REMOTE_PID" 30
    rrc=$RR_RC
    rr_wait_pid "$RR_PLAYER_PID" 10
    prc=$RR_RC
    [ "$rrc" -eq 0 ] && [ "$prc" -eq 2 ] &&
        grep -q '"disconnectReason": *"PeerDisconnectRequest"' "$RR_TMP/p3.json"
    rr_result $? "remote stopped: remote exits 0 ($rrc), player reports PeerDisconnectRequest and exits 2 for missing frames ($prc)" \
        "$RR_TMP/p3.json" "$RR_TMP/p3.err" "$RR_TMP/r3.err"
else
    rr_not_ok "remote stopped: the player did not listen" "$RR_TMP/p3.err"
fi

# 4. The remote is killed: ConnectionLost, not a clean end.
if rr_player p4 -listen 127.0.0.1:0 --headless -q --stats "$RR_TMP/p4.json"; then
    rr_remote r4 "127.0.0.1:$RR_PORT" "${small[@]}"
    rr_wait_log "$RR_TMP/p4.err" 'onnected' 10
    sleep 1
    rr_kill "$RR_REMOTE_PID"
    rr_wait_pid "$RR_PLAYER_PID" 15
    prc=$RR_RC
    [ "$prc" -eq 2 ] && grep -q '"disconnectReason": *"ConnectionLost"' "$RR_TMP/p4.json"
    rr_result $? "remote killed: player reports ConnectionLost and exits 2 ($prc)" \
        "$RR_TMP/p4.json" "$RR_TMP/p4.err"
else
    rr_not_ok "remote killed: the player did not listen" "$RR_TMP/p4.err"
fi

# 5. The GPU colour conversion path (llvmpipe here) streams like the CPU one.
if rr_player p5 -listen 127.0.0.1:0 --headless -q --frames 30 --stats "$RR_TMP/p5.json"; then
    rr_remote r5 "127.0.0.1:$RR_PORT" "${small[@]}" --gl
    rr_wait_pid "$RR_PLAYER_PID" 60
    prc=$RR_RC
    rr_wait_pid "$RR_REMOTE_PID" 10
    [ "$prc" -eq 0 ] && [ "$RR_RC" -eq 0 ] && grep -q '"videoFramesDiscarded": *0' "$RR_TMP/p5.json"
    rr_result $? "GL submit path: 30 frames decoded, none discarded (player $prc, remote $RR_RC)" \
        "$RR_TMP/p5.err" "$RR_TMP/r5.out" "$RR_TMP/r5.err"
else
    rr_not_ok "GL path: the player did not listen" "$RR_TMP/p5.err"
fi

# 6. Encoders that cannot open fail before connecting, with the reason and what to do.
timeout -k 2 30 "$RR_TESTREMOTE" --encoder h264_nvenc --size 320x180 127.0.0.1:1 \
    >"$RR_TMP/nv.out" 2>"$RR_TMP/nv.err"
rc=$?
if [ "$rc" -eq 1 ]; then
    grep -q 'h264_nvenc' "$RR_TMP/nv.err" && grep -qi 'libx264' "$RR_TMP/nv.err"
    rr_result $? "h264_nvenc without a GPU: exit 1 naming the encoder and the alternative" "$RR_TMP/nv.err"
else
    rr_skip "h264_nvenc opened here (exit $rc): a GPU machine"
fi
timeout -k 2 30 "$RR_TESTREMOTE" --encoder nosuch 127.0.0.1:1 >"$RR_TMP/ns.out" 2>"$RR_TMP/ns.err"
rc=$?
[ "$rc" -eq 1 ] || [ "$rc" -eq 64 ]
rr_result $? "an unknown encoder is refused before connecting (exit $rc)" "$RR_TMP/ns.err"
grep -q 'nosuch' "$RR_TMP/ns.err"
rr_result $? "the refusal names the unknown encoder" "$RR_TMP/ns.err"

rr_finish
