#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The scene API end to end: openrr-player --scene drives a running openrr-host. The host
# preloads the milk truck; the script picks a wheel with a ray and tints it red, loads the
# textured box by path and over HTTP and moves it beside the truck — the snapshots show both.
# Faults, each with the result code it must give while the host keeps running: a missing
# asset, a file that is not an .rrasset, a corrupted one, an HTTP 404, a refused download, an
# unsupported scheme, an entity destroyed twice, a NaN transform, a ninth cut plane. Then: a
# second client while one is connected is refused; the scene is dropped on disconnect; a
# script whose line gives another result makes the player exit 1; a script with a typo is
# refused before connecting (exit 64); a model over the primitive budget gives AssetTooLarge.
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"
rr_init

tools=$(dirname "$RR_TOOL")
HOST=$tools/host/openrr-host
PLAYER=$tools/player/openrr-player
CONVERT=$tools/openrr-convert
TRUCK=/usr/share/assimp/models/glTF/CesiumMilkTruck/CesiumMilkTruck.gltf
BOX=/usr/share/assimp/models/glTF2/BoxTextured-glTF/BoxTextured.gltf
if [ ! -x "$HOST" ] || [ ! -x "$PLAYER" ] || [ ! -x "$CONVERT" ]; then
    rr_skip "openrr-host, openrr-player or openrr-convert is not built"
    rr_finish
fi
if [ ! -f "$TRUCK" ] || [ ! -f "$BOX" ]; then
    rr_skip "the milk truck or the textured box is missing (Debian's assimp-testmodels)"
    rr_finish
fi
png() { python3 "$here/png_pixels.py" "$@"; }

assets=$RR_TMP/assets
"$CONVERT" "$TRUCK" "$assets" >"$RR_TMP/convert.log" 2>&1 &&
    "$CONVERT" "$BOX" "$assets" >>"$RR_TMP/convert.log" 2>&1
rr_result $? "the truck and the box convert" "$RR_TMP/convert.log"
truck=$assets/CesiumMilkTruck.rrasset
box=$assets/BoxTextured.rrasset
# Not an asset, and an asset with one byte flipped in its vertex data (the checksum catches it).
echo "not an asset" >"$assets/text.rrasset"
cp "$truck" "$assets/corrupt.rrasset"
python3 - "$assets/corrupt.rrasset" <<'PY'
import sys
f = open(sys.argv[1], "r+b")
f.seek(960000)
b = f.read(1)
f.seek(960000)
f.write(bytes([b[0] ^ 0xFF]))
PY

# The assets over HTTP, from a real server.
http_port=$(rr_free_port)
closed_port=$(rr_free_port)
rr_bg http python3 -u -m http.server --bind 127.0.0.1 --directory "$assets" "$http_port"
rr_wait_log "$RR_TMP/http.out" 'Serving HTTP' 10
rr_result $? "the HTTP server for the assets starts" "$RR_TMP/http.out" "$RR_TMP/http.err"

# Standing 6 m in front of the truck's side (the truck lies along X at the origin).
cat >"$RR_TMP/pose.txt" <<'EOF'
0 0 1.2 6 0 0 0 1
EOF
small=(--eye-size 320x180)

# rr_host NAME ARGS...: start the host; wait for its readiness line. Sets HOST_PID, HOST_PORT.
rr_host() {
    local name=$1
    shift
    rr_bg "$name" "$HOST" "$@"
    HOST_PID=$RR_LAST_PID
    rr_wait_log "$RR_TMP/$name.out" '^ready: listening on port [0-9]+' 30 || return 1
    HOST_PORT=$(sed -n 's/^ready: listening on port \([0-9]*\).*/\1/p' "$RR_TMP/$name.out")
    [ -n "$HOST_PORT" ]
}

# play NAME FRAMES [ARGS...]: a player for FRAMES frames (after the script, with --scene);
# RR_RC = its status; the last frame is NAME.snap/frame-*.png.
play() {
    local name=$1 frames=$2
    shift 2
    timeout -k 2 90 "$PLAYER" "127.0.0.1:$HOST_PORT" --headless -q --frames "$frames" \
        --pose "$RR_TMP/pose.txt" --snapshot "$RR_TMP/$name.snap" --snapshot-every 1000 "$@" \
        >"$RR_TMP/$name.out" 2>"$RR_TMP/$name.err"
    RR_RC=$?
}
last_snap() { find "$RR_TMP/$1.snap" -name 'frame-*.png' | sort -t- -k2 -n | tail -n 1; }

# Where the rear wheel and the box (once moved to x = 3.2) are in the left eye (320x180).
wheel=(110 98 130 114)
boxat=(255 100 275 125)

if ! rr_host h1 --plain -listen 127.0.0.1:0 --asset "$truck" "${small[@]}"; then
    rr_not_ok "the host starts with the truck" "$RR_TMP/h1.err"
    rr_finish
fi

# 1. The truck as the host shows it, before any scene call.
play base 10
rr_result "$RR_RC" "without a script: the player exits 0 (got $RR_RC)" "$RR_TMP/base.err"
base=$(last_snap base)

# 2. The script: a wheel picked and tinted red, the box loaded (path, then HTTP) and moved,
#    and every fault with the code it must give.
cat >"$RR_TMP/scene1.txt" <<EOF
# the truck as loaded by the host: its meshes
query -3 -1 -2 3 3 2
pick wheel -1.3 0.45 6 0 0 -1
tint wheel 1 0 0 1
load box $box
move box 3.2 0.5 1
load box2 http://127.0.0.1:$http_port/BoxTextured.rrasset
move box2 3.2 0.5 -40
raycast 3.2 0.5 6 0 0 -1 all
expect AssetNotFound load missing $assets/no-such.rrasset
expect AssetInvalid load text $assets/text.rrasset
expect AssetCorrupt load corrupt file://$assets/corrupt.rrasset
expect AssetNotFound load gone http://127.0.0.1:$http_port/no-such.rrasset
expect NetworkError load refused http://127.0.0.1:$closed_port/BoxTextured.rrasset
expect NotSupported load ftp ftp://127.0.0.1/BoxTextured.rrasset
entity temp
destroy temp
expect EntityNotFound destroy temp
expect EntityNotFound move temp 0 0 0
expect InvalidParam move box nan 0 0
expect InvalidParam parent box box
cut c1 1 0 0 9
cut c2 1 0 0 9
cut c3 1 0 0 9
cut c4 1 0 0 9
cut c5 1 0 0 9
cut c6 1 0 0 9
cut c7 1 0 0 9
cut c8 1 0 0 9
expect TooManyCutPlanes cut c9 1 0 0 9
uncut all
EOF
play s1 10 --scene "$RR_TMP/scene1.txt"
rr_result "$RR_RC" "the script gives every expected result; the player exits 0 (got $RR_RC)" \
    "$RR_TMP/s1.err" "$RR_TMP/h1.err"
grep -q "scene script done (30 line(s))" "$RR_TMP/s1.err"
rr_result $? "every line of the script ran" "$RR_TMP/s1.err"
grep -Eq "scene 3: pick → Success, 1 hit\(s\): entity [0-9]+ at \(-1\.300, 0\.450, 1\.0[0-9]+\)" \
    "$RR_TMP/s1.err"
rr_result $? "the ray picks the rear wheel where it is" "$RR_TMP/s1.err"
grep -Eq "scene 9: raycast → Success, [1-9][0-9]* hit\(s\): entity [0-9]+ at \(3\.200, 0\.500, 1\.[0-9]+\)" \
    "$RR_TMP/s1.err"
rr_result $? "a ray cast hits the moved box where it was moved to" "$RR_TMP/s1.err"
rr_alive "$HOST_PID"
rr_result $? "the host is still running after the faults" "$RR_TMP/h1.err"

after=$(last_snap s1)
read -r br bg _ < <(png mean "$base" "${wheel[@]}")
read -r ar ag _ < <(png mean "$after" "${wheel[@]}")
python3 -c "import sys; br,bg,ar,ag=map(float,sys.argv[1:]); sys.exit(not (abs(br-bg) < 10 and ar-ag > 20))" \
    "$br" "$bg" "$ar" "$ag"
rr_result $? "the tinted wheel is red in the snapshot (R-G before $br-$bg, after $ar-$ag)" \
    "$RR_TMP/s1.err"
read -r br bg bb < <(png mean "$base" "${boxat[@]}")
read -r ar ag ab < <(png mean "$after" "${boxat[@]}")
python3 -c "import sys; b,a=sys.argv[1:]; sys.exit(not (float(b) < 10 and float(a) > 60))" \
    "$(python3 -c "print(max($br,$bg,$bb))")" "$(python3 -c "print(max($ar,$ag,$ab))")"
rr_result $? "the moved box is in the snapshot (before $br $bg $bb, after $ar $ag $ab)" \
    "$RR_TMP/s1.err"

# 3. One client at a time: a second player while a first one is connected is refused.
cat >"$RR_TMP/hold.txt" <<'EOF'
sleep 4000
EOF
timeout -k 2 60 "$PLAYER" "127.0.0.1:$HOST_PORT" --headless -q --frames 5 \
    --pose "$RR_TMP/pose.txt" --scene "$RR_TMP/hold.txt" >"$RR_TMP/hold.out" 2>"$RR_TMP/hold.err" &
hold=$!
rr_wait_log "$RR_TMP/hold.err" 'connected to' 20
play second 5
rr_result $((RR_RC == 0)) "a second client while one is connected is refused (got $RR_RC)" \
    "$RR_TMP/second.err"
grep -Eiq "503|busy|refused" "$RR_TMP/second.err"
rr_result $? "the second client is told why" "$RR_TMP/second.err"
wait "$hold"
rr_result $? "the first client goes on undisturbed" "$RR_TMP/hold.err"

# 4. The scene is dropped on disconnect: the next client sees the truck alone again.
cat >"$RR_TMP/scene2.txt" <<'EOF'
query -50 -50 -50 50 50 50
expect EntityNotFound pick box 3.2 0.5 6 0 0 -1
EOF
play s2 10 --scene "$RR_TMP/scene2.txt"
rr_result "$RR_RC" "a new client starts from the host's scene (got $RR_RC)" "$RR_TMP/s2.err"
grep -q "scene 1: query → Success, 3 entities" "$RR_TMP/s2.err"
rr_result $? "only the truck's three meshes are left" "$RR_TMP/s2.err"
read -r wr wg _ < <(png mean "$(last_snap s2)" "${wheel[@]}")
read -r br bg _ < <(png mean "$base" "${wheel[@]}")
python3 -c "import sys; a,b=map(float,sys.argv[1:]); sys.exit(not abs(a-b) < 15)" \
    "$(python3 -c "print($wr-$wg)")" "$(python3 -c "print($br-$bg)")"
rr_result $? "the wheel is no longer tinted" "$RR_TMP/s2.err"

# 5. A line with another result than expected stops the script; the player exits 1.
cat >"$RR_TMP/scene3.txt" <<EOF
load missing $assets/no-such.rrasset
query -3 -1 -2 3 3 2
EOF
play s3 5 --scene "$RR_TMP/scene3.txt"
rr_result $((RR_RC != 1)) "an unexpected result: the player exits 1 (got $RR_RC)" "$RR_TMP/s3.err"
grep -q "scene script line 1: load gave AssetNotFound, expected Success; the script stops here" \
    "$RR_TMP/s3.err" && ! grep -q "scene 2:" "$RR_TMP/s3.err"
rr_result $? "the player names the line and the result, and runs no further line" "$RR_TMP/s3.err"
rr_alive "$HOST_PID"
rr_result $? "the host is still running" "$RR_TMP/h1.err"

# 6. A typo is refused before connecting.
printf 'query 0 0 0 1 1 1\ntint wheel 1 0 0 1\n' >"$RR_TMP/typo.txt"
play typo 5 --scene "$RR_TMP/typo.txt"
rr_result $((RR_RC != 64)) "a script naming an unbound entity: exit 64 (got $RR_RC)" "$RR_TMP/typo.err"
grep -q "typo.txt:2: 'wheel' is not bound by an earlier line" "$RR_TMP/typo.err" &&
    ! grep -q "connecting to" "$RR_TMP/typo.err"
rr_result $? "the message names the file and the line; nothing was connected" "$RR_TMP/typo.err"

kill -TERM "$HOST_PID"
rr_wait_pid "$HOST_PID" 15
rr_result $((RR_RC != 0)) "the host exits 0 on SIGTERM (got $RR_RC)" "$RR_TMP/h1.err"

# 7. A model over the size's primitive budget: AssetTooLarge, and a small one still loads.
#    (A 1000-primitive budget stands for Standard's 20 million: the truck has 2856 triangles.)
if rr_host h2 --plain -listen 127.0.0.1:0 --primitive-budget 1000 "${small[@]}"; then
    printf 'expect AssetTooLarge load truck %s\nload box %s\n' "$truck" "$box" >"$RR_TMP/budget.txt"
    play b1 5 --scene "$RR_TMP/budget.txt"
    rr_result "$RR_RC" "over the budget: AssetTooLarge; under it: Success (got $RR_RC)" \
        "$RR_TMP/b1.err" "$RR_TMP/h2.err"
    rr_alive "$HOST_PID"
    rr_result $? "the host keeps running" "$RR_TMP/h2.err"
    kill -TERM "$HOST_PID"
    rr_wait_pid "$HOST_PID" 15
else
    rr_not_ok "a host with --primitive-budget 1000 starts" "$RR_TMP/h2.err"
fi
rr_finish
