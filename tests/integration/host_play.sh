#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# openrr-host end to end: a secure host with a preloaded model and the inspector streams to
# openrr-player (the box is in the picture; the inspector's timing capture holds the frames'
# stages and the model's load), serves a second connection after the first, and ends with
# exit 0 on SIGTERM. An http --asset's SAS token and user info appear in no log or trace.
# --token-jwks with --token-issuer and --token-audience refuses tokens of another account,
# issuer or audience. Start-up faults (a missing or non-asset --asset, no EGL, a secure host
# without its store) end with a clear message and the documented status.
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"
rr_init

tools=$(dirname "$RR_TOOL")
HOST=$tools/host/openrr-host
PLAYER=$tools/player/openrr-player
CONVERT=$tools/openrr-convert
BOX=/usr/share/assimp/models/glTF2/BoxTextured-glTF/BoxTextured.gltf
if [ ! -x "$HOST" ] || [ ! -x "$PLAYER" ] || [ ! -x "$CONVERT" ]; then
    rr_skip "openrr-host, openrr-player or openrr-convert is not built"
    rr_finish
fi
if [ ! -f "$BOX" ]; then
    rr_skip "$BOX is missing (Debian's assimp-testmodels)"
    rr_finish
fi

token=host-token
itoken=inspector-token
secure_host=(-secureconnection -certificatestore "$RR_STORE" -keypassphrase test-pass
    -authenticationtoken "$token")
small=(--eye-size 320x180 --fps 30)
# Downloads of the hosts go to a cache of this test's own, never through a proxy.
export XDG_CACHE_HOME=$RR_TMP/cache no_proxy='*' NO_PROXY='*'

"$CONVERT" "$BOX" "$RR_TMP/box" >"$RR_TMP/convert.log" 2>&1
asset=$(find "$RR_TMP/box" -name "*.rrasset" 2>/dev/null | head -n 1)
[ -n "$asset" ]
rr_result $? "the box converts to an .rrasset" "$RR_TMP/convert.log"

# rr_host NAME ARGS...: start the host; wait for its readiness line. Sets HOST_PID, HOST_PORT
# and INSPECTOR_PORT (empty without the inspector).
rr_host() {
    local name=$1
    shift
    rr_bg "$name" "$HOST" "$@"
    HOST_PID=$RR_LAST_PID
    rr_wait_log "$RR_TMP/$name.out" '^ready: listening on port [0-9]+' 20 || return 1
    HOST_PORT=$(sed -n 's/^ready: listening on port \([0-9]*\).*/\1/p' "$RR_TMP/$name.out")
    INSPECTOR_PORT=$(sed -n 's/.*inspector on port \([0-9]*\).*/\1/p' "$RR_TMP/$name.out")
    [ -n "$HOST_PORT" ]
}

# play NAME: a secure player connecting to the host for 30 frames; RR_RC = its status. After a
# connection the host takes a moment to listen again: a refused connect is tried again (5 s).
play() {
    local tries=0
    while :; do
        timeout -k 2 60 "$PLAYER" "localhost:$HOST_PORT" -secureconnection \
            -authenticationtoken "$token" -cafile "$RR_CA" --headless --frames 30 --pose orbit \
            --snapshot "$RR_TMP/$1.snap" --snapshot-every 10 --stats "$RR_TMP/$1.json" \
            >"$RR_TMP/$1.out" 2>"$RR_TMP/$1.err"
        RR_RC=$?
        if [ "$RR_RC" -ne 2 ] || ! grep -q HandshakeConnectionRefused "$RR_TMP/$1.err" ||
            [ $((tries += 1)) -ge 20 ]; then
            return
        fi
        sleep 0.25
    done
}

# 1. The secure host with the box and the inspector.
if rr_host h1 -listen 127.0.0.1:0 "${secure_host[@]}" --asset "$asset" "${small[@]}" \
    --inspector-port 0 --inspector-token "$itoken"; then
    rr_ok "secure host: one readiness line on stdout"
    [ "$(wc -l <"$RR_TMP/h1.out")" -eq 1 ] && [ -n "$INSPECTOR_PORT" ]
    rr_result $? "secure host: the readiness line names the inspector's port" "$RR_TMP/h1.out"
    ! grep -q -e "$token" -e "$itoken" "$RR_TMP/h1.out" "$RR_TMP/h1.err"
    rr_result $? "secure host: no token in its output" "$RR_TMP/h1.err"

    play p1
    rr_result "$RR_RC" "first connection: the player exits 0 after 30 frames (got $RR_RC)" \
        "$RR_TMP/p1.err" "$RR_TMP/h1.err"
    rr_python "$RR_TMP/p1.snap" <<'PY'
import os, zlib
def decode(path):
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", path
    pos, idat, w, h, ctype = 8, b"", 0, 0, 0
    while pos < len(data):
        n = struct.unpack(">I", data[pos:pos + 4])[0]
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, ctype = struct.unpack(">IIBB", body[:10])
            assert depth == 8, depth
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    bpp = {2: 3, 6: 4}[ctype]
    raw, stride, rows, prev = zlib.decompress(idat), w * bpp, [], bytearray(w * bpp)
    for y in range(h):
        f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for x in range(stride):
            a = line[x - bpp] if x >= bpp else 0
            b, c = prev[x], (prev[x - bpp] if x >= bpp else 0)
            if f == 1: line[x] = (line[x] + a) & 255
            elif f == 2: line[x] = (line[x] + b) & 255
            elif f == 3: line[x] = (line[x] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(line)
        prev = line
    return w, h, bpp, rows
files = sorted(f for f in os.listdir(sys.argv[1]) if f.endswith(".png"))
assert files, "no snapshot"
w, h, bpp, rows = decode(os.path.join(sys.argv[1], files[-1]))
assert (w, h) == (640, 180), (w, h)
# The orbit looks at the origin, where the box is: the centre of each eye is not the black
# clear colour, and a corner is.
for cx in (w // 4, 3 * w // 4):
    lit = 0
    for y in range(h // 2 - 10, h // 2 + 10):
        for x in range(cx - 10, cx + 10):
            px = rows[y][x * bpp:x * bpp + 3]
            lit += max(px) > 40
    assert lit > 200, ("eye centre is background", cx, lit)
corner = rows[2][2 * bpp:2 * bpp + 3]
assert max(corner) < 40, ("corner is not background", list(corner))
PY
    rr_result $? "first connection: the snapshot shows the box in both eyes" "$RR_TMP/p1.err"

    # The timing capture: the frames the player received, stage by stage, and the --asset load.
    code=$(curl -s -o "$RR_TMP/trace.json" -w '%{http_code}' \
        -H "Authorization: Bearer $itoken" "http://127.0.0.1:$INSPECTOR_PORT/api/trace")
    [ "$code" = 200 ] && rr_python "$RR_TMP/trace.json" "$(basename "$asset")" <<'PY'
import collections, json
doc = json.load(open(sys.argv[1]))
ev = doc["traceEvents"]
x = [e for e in ev if e.get("ph") == "X"]
pid = x[0]["pid"] if x else None
def named(n):
    return [e for e in x if e["name"] == n]
print("# trace events:", dict(collections.Counter(e["name"] for e in x)))
# The player got 30 frames: the host rendered and encoded at least as many.
for n in ("render", "encode"):
    good = [e for e in named(n) if e["dur"] > 0]
    assert len(good) >= 25, (n, "events with a duration", len(good), "of", len(named(n)))
for n in ("pose wait", "scene view", "submit"):
    assert named(n), ("no event", n)
assert all(e["pid"] == pid and e["dur"] >= 0 for e in x)
# The frame's stages run on the render thread, the host's main thread: its id is the pid.
lanes = {e["tid"] for n in ("pose wait", "scene view", "render", "submit", "encode") for e in named(n)}
assert lanes == {pid}, ("render thread lanes", lanes, pid)
# Each encoding lies within the submit of its frame.
submits = {e["ts"] + e["dur"]: e for e in named("submit")}
for e in named("encode"):
    s = submits.get(e["ts"] + e["dur"])
    assert s is not None and s["ts"] <= e["ts"], ("encode outside its submit", e)
loads = [e for e in x if e["name"] == "load " + sys.argv[2] and e["cat"] == "asset"]
assert loads and max(e["dur"] for e in loads) > 0, "no load event of the --asset"
PY
    rr_result $? "inspector: /api/trace holds the frames' render and encode events and the asset's load (got $code)" \
        "$RR_TMP/trace.json" "$RR_TMP/h1.err"

    code=$(curl -s -o "$RR_TMP/stats.json" -w '%{http_code}' \
        -H "Authorization: Bearer $itoken" "http://127.0.0.1:$INSPECTOR_PORT/api/stats")
    [ "$code" = 200 ] && rr_python "$RR_TMP/stats.json" <<'PY'
import json
s = json.load(open(sys.argv[1]))
h = s["history"]
fps = [v for v in h["fps"] if v]
ft = [v for v in h["frame_time_ms"] if v]
assert fps and max(fps) > 0, "no frame rate in the history"
assert ft and max(ft) > 0, "no frame time in the history"
assert "latest" in s
PY
    rr_result $? "inspector: /api/stats with the token is 200 with the frames' rate and time (got $code)" \
        "$RR_TMP/stats.json" "$RR_TMP/h1.err"
    code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$INSPECTOR_PORT/api/stats")
    [ "$code" = 401 ]
    rr_result $? "inspector: /api/stats without the token is 401 (got $code)"

    play p2
    rr_result "$RR_RC" "second connection: the player exits 0 too (got $RR_RC)" \
        "$RR_TMP/p2.err" "$RR_TMP/h1.err"
    [ "$(rr_count "$RR_TMP/h1.err" 'connected to ')" -ge 2 ]
    rr_result $? "second connection: the host served both" "$RR_TMP/h1.err"

    kill -TERM "$HOST_PID"
    rr_wait_pid "$HOST_PID" 5
    rr_result $((RR_RC != 0)) "SIGTERM: the host exits 0 within 5 s (got $RR_RC)" "$RR_TMP/h1.err"
else
    rr_not_ok "secure host: no readiness line within 20 s" "$RR_TMP/h1.out" "$RR_TMP/h1.err"
fi

# 1b. An http --asset whose query holds a SAS token (and whose authority holds a password):
# the load is in the timing capture under the file's name; the secret is in no log and no
# trace, nor in the message when the download fails.
secret=SAS-SECRET-4f2a
mkdir -p "$RR_TMP/web" && cp "$asset" "$RR_TMP/web/served.rrasset"
http_port=$(rr_free_port 4)
closed_port=$(rr_free_port 4)
rr_bg http python3 -u -m http.server --bind 127.0.0.1 --directory "$RR_TMP/web" "$http_port"
HTTP_PID=$RR_LAST_PID
if rr_wait_log "$RR_TMP/http.out" 'Serving HTTP' 10 &&
    rr_host h4 --plain -listen 127.0.0.1:0 "${small[@]}" --inspector-port 0 \
        --inspector-token "$itoken" \
        --asset "http://user:pw-$secret@127.0.0.1:$http_port/served.rrasset?sv=1&sig=$secret"; then
    curl -s -o "$RR_TMP/trace4.json" -H "Authorization: Bearer $itoken" \
        "http://127.0.0.1:$INSPECTOR_PORT/api/trace"
    curl -s -o "$RR_TMP/log4.json" -H "Authorization: Bearer $itoken" \
        "http://127.0.0.1:$INSPECTOR_PORT/api/log"
    rr_python "$RR_TMP/trace4.json" <<'PY'
import json
x = [e for e in json.load(open(sys.argv[1]))["traceEvents"] if e.get("ph") == "X"]
assert [e for e in x if e["name"] == "load served.rrasset" and e["cat"] == "asset"], x
PY
    rr_result $? "http --asset: its load is in the timing capture by the file's name" \
        "$RR_TMP/trace4.json" "$RR_TMP/h4.err"
    ! grep -q -e "$secret" "$RR_TMP/trace4.json" "$RR_TMP/log4.json" "$RR_TMP/h4.out" "$RR_TMP/h4.err"
    rr_result $? "http --asset: the SAS token is in no trace, log or output" "$RR_TMP/h4.err"
    kill -TERM "$HOST_PID"
    rr_wait_pid "$HOST_PID" 5
else
    rr_not_ok "http --asset: no readiness line" "$RR_TMP/http.out" "$RR_TMP/http.err" "$RR_TMP/h4.err"
fi
rr_stop "$HTTP_PID"
timeout -k 2 30 "$HOST" --plain -listen 127.0.0.1:0 "${small[@]}" \
    --asset "https://user:pw-$secret@127.0.0.1:$closed_port/x/served.rrasset?sig=$secret#$secret" \
    >"$RR_TMP/f0.out" 2>"$RR_TMP/f0.err"
rc=$?
[ "$rc" -eq 1 ] && ! grep -q "$secret" "$RR_TMP/f0.err" &&
    grep -qF "cannot load the asset 'https://127.0.0.1:$closed_port/x/served.rrasset?…'" "$RR_TMP/f0.err"
rr_result $? "http --asset that fails: exit 1 naming the URI without its secrets (status $rc)" \
    "$RR_TMP/f0.err"

# 2. --plain without a token listens; SIGTERM while idle ends it with 0.
if rr_host h2 --plain -listen 127.0.0.1:0 "${small[@]}"; then
    kill -TERM "$HOST_PID"
    rr_wait_pid "$HOST_PID" 5
    rr_result $((RR_RC != 0)) "plain host without a token: listens, SIGTERM → exit 0 (got $RR_RC)" \
        "$RR_TMP/h2.err"
else
    rr_not_ok "plain host without a token: no readiness line" "$RR_TMP/h2.err"
fi

# 2b. --token-jwks with --token-issuer and --token-audience: the STS's tokens (ES256) for the
# session's account, issuer and audience are accepted; another account's, issuer's or
# audience's are refused (the player sees AuthenticationFailed, the host logs why).
if python3 -c 'import cryptography' 2>/dev/null; then
    rr_python "$RR_TMP" <<'PY'
import base64, json, time
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
def b64(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()
key = ec.generate_private_key(ec.SECP256R1())
nums = key.public_key().public_numbers()
jwk = {"kty": "EC", "crv": "P-256", "kid": "k1", "use": "sig", "alg": "ES256",
       "x": b64(nums.x.to_bytes(32, "big")), "y": b64(nums.y.to_bytes(32, "big"))}
open(sys.argv[1] + "/jwks.json", "w").write(json.dumps({"keys": [jwk]}))
def token(aid, iss="https://sts.example.org", aud="openrr-session"):
    head = b64(json.dumps({"alg": "ES256", "typ": "JWT", "kid": "k1"}).encode())
    now = int(time.time())
    body = b64(json.dumps({"iss": iss, "aud": aud, "aid": aid, "roles": ["Client"],
                           "iat": now, "exp": now + 600}).encode())
    r, s = decode_dss_signature(key.sign((head + "." + body).encode(), ec.ECDSA(hashes.SHA256())))
    return head + "." + body + "." + b64(r.to_bytes(32, "big") + s.to_bytes(32, "big"))
open(sys.argv[1] + "/good.jwt", "w").write(token("acct-1"))
open(sys.argv[1] + "/other.jwt", "w").write(token("acct-2"))
open(sys.argv[1] + "/wrong-iss.jwt", "w").write(token("acct-1", iss="https://sts.example.com"))
open(sys.argv[1] + "/wrong-aud.jwt", "w").write(token("acct-1", aud=["openrr", "other"]))
open(sys.argv[1] + "/many-aud.jwt", "w").write(token("acct-1", aud=["other", "openrr-session"]))
PY
    if rr_host h3 -listen 127.0.0.1:0 -certificatestore "$RR_STORE" -keypassphrase test-pass \
        --token-jwks "$RR_TMP/jwks.json" --account-id acct-1 --account-domain example.org \
        --token-issuer https://sts.example.org --token-audience openrr-session \
        --asset "$asset" "${small[@]}"; then
        token=$(cat "$RR_TMP/good.jwt")
        play p3
        rr_result "$RR_RC" "--token-jwks: a token for the account streams (got $RR_RC)" \
            "$RR_TMP/p3.err" "$RR_TMP/h3.err"
        token=$(cat "$RR_TMP/many-aud.jwt")
        play p3b
        rr_result "$RR_RC" "--token-audience: a token with it among others streams (got $RR_RC)" \
            "$RR_TMP/p3b.err" "$RR_TMP/h3.err"
        # refused NAME JWT REASON DESCRIPTION: the player fails to authenticate; the host says why.
        refused() {
            token=$(cat "$RR_TMP/$2")
            play "$1"
            [ "$RR_RC" -eq 2 ] && grep -q AuthenticationFailed "$RR_TMP/$1.err" &&
                rr_wait_log "$RR_TMP/h3.err" "token refused: $3" 5
            rr_result $? "$4 (player status $RR_RC)" "$RR_TMP/$1.err" "$RR_TMP/h3.err"
        }
        refused p4 other.jwt RR_JWT_WRONG_ACCOUNT "--token-jwks: another account's token is refused"
        refused p5 wrong-iss.jwt RR_JWT_WRONG_ISSUER "--token-issuer: another issuer's token is refused"
        refused p6 wrong-aud.jwt RR_JWT_WRONG_AUDIENCE \
            "--token-audience: a token for other audiences is refused"
        token=host-token
        kill -TERM "$HOST_PID"
        rr_wait_pid "$HOST_PID" 5
        rr_result $((RR_RC != 0)) "--token-jwks: SIGTERM → exit 0 (got $RR_RC)" "$RR_TMP/h3.err"
    else
        rr_not_ok "--token-jwks: no readiness line" "$RR_TMP/h3.err"
    fi
else
    rr_skip "--token-jwks: python3 cryptography is not installed"
fi

# 3. Faults at start: each ends with its status and a message that says what.
# fault NAME STATUS REGEX DESCRIPTION ARGS...: run the host (bounded); check status and message.
fault() {
    local name=$1 want=$2 re=$3 desc=$4
    shift 4
    timeout -k 2 30 "$@" >"$RR_TMP/$name.out" 2>"$RR_TMP/$name.err"
    local rc=$?
    [ "$rc" -eq "$want" ] && grep -qE -- "$re" "$RR_TMP/$name.err" && [ ! -s "$RR_TMP/$name.out" ]
    rr_result $? "$desc (status $rc, want $want)" "$RR_TMP/$name.err"
}
missing=$RR_TMP/no-such-model.rrasset
fault f1 1 "cannot load the asset '$missing'" "a missing --asset: exit 1 naming the URI" \
    "$HOST" --plain -listen 127.0.0.1:0 "${small[@]}" --asset "$missing"
fault f2 1 "cannot load the asset '$BOX': .+" "a non-asset --asset: exit 1 naming the URI and why" \
    "$HOST" --plain -listen 127.0.0.1:0 "${small[@]}" --asset "$BOX"
fault f3 1 'openrr-host: cannot start the renderer: .+' "no EGL vendor: exit 1 with the renderer's message" \
    env __EGL_VENDOR_LIBRARY_FILENAMES=/nonexistent.json "$HOST" --plain -listen 127.0.0.1:0 "${small[@]}"
fault f4 64 'certificatestore' "secure without a certificate store: exit 64" \
    "$HOST" -listen 127.0.0.1:0 -authenticationtoken "$token" "${small[@]}"
fault f5 64 'authenticationtoken|token-jwks' "secure without a token: exit 64" \
    "$HOST" -listen 127.0.0.1:0 -certificatestore "$RR_STORE" -keypassphrase test-pass "${small[@]}"
fault f6 64 'account-id' "--token-jwks without --account-id: exit 64" \
    "$HOST" -listen 127.0.0.1:0 -certificatestore "$RR_STORE" -keypassphrase test-pass \
    --token-jwks /dev/null "${small[@]}"
fault f7 64 'go with --token-jwks' "--token-issuer without --token-jwks: exit 64" \
    "$HOST" -listen 127.0.0.1:0 -authenticationtoken "$token" -certificatestore "$RR_STORE" \
    -keypassphrase test-pass --token-issuer https://sts.example.org "${small[@]}"
fault f8 64 'token-audience needs 1-255' "an empty --token-audience: exit 64" \
    "$HOST" --plain -listen 127.0.0.1:0 --token-audience "" "${small[@]}"

rr_finish
