#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# openrr-host --register-url against a small python http.server standing in for openrrd's
# POST /internal/sessions/{id}/ready: the host registers once it listens, with the secret from
# OPENRR_REGISTER_TOKEN as the bearer and exactly the ports of its readiness line as JSON;
# secrets given in the environment (registration secret, key passphrase, inspector token) are
# blanked there and are never on the command line; the inspector binds --inspector-listen and
# takes the session's access tokens besides its fixed token. A wrong or missing secret, or no
# openrrd to answer, ends the host with a clear message (status 1, or 64 for bad usage); 503
# answers are retried.
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"
rr_init

tools=$(dirname "$RR_TOOL")
HOST=$tools/host/openrr-host
if [ ! -x "$HOST" ]; then
    rr_skip "openrr-host is not built"
    rr_finish
fi
small=(--eye-size 320x180 --fps 30)
export no_proxy='*' NO_PROXY='*'
unset OPENRR_REGISTER_TOKEN OPENRR_KEY_PASSPHRASE OPENRR_INSPECTOR_TOKEN

# The stand-in for openrrd. Expects "Bearer sekret-1"; session "flaky" answers 503 twice first.
# Each POST is appended to posts.log as one JSON line: path, auth, body, status.
RR_PY_TIMEOUT=300 rr_bg_python registrar "$RR_TMP" <<'PY'
import http.server, json, os, sys, threading
out = sys.argv[1]
flaky = {"n": 0}
lock = threading.Lock()
class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass
    def answer(self, status, message=None):
        body = b"" if message is None else json.dumps(
            {"error": {"code": "Unauthorized" if status == 401 else "Error",
                       "message": message}}).encode()
        self.send_response(status)
        if body:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        raw = self.rfile.read(n)
        auth = self.headers.get("Authorization")
        parts = self.path.split("/")
        status, message = 204, None
        try:
            body = json.loads(raw)
            ok = (isinstance(body, dict) and
                  set(body) <= {"handshakePort", "transportPort", "inspectorPort"} and
                  all(isinstance(body.get(k), int) for k in ("handshakePort", "transportPort")))
        except ValueError:
            body, ok = None, False
        if len(parts) != 5 or parts[1:3] != ["internal", "sessions"] or parts[4] != "ready":
            status, message = 404, "no such route"
        elif auth != "Bearer sekret-1":
            status, message = 401, "no such session or a wrong secret"
        elif not ok:
            status, message = 400, "bad registration body"
        elif parts[3] == "flaky":
            with lock:
                flaky["n"] += 1
                if flaky["n"] <= 2:
                    status, message = 503, "busy"
        with lock:
            with open(out + "/posts.log", "a") as f:
                f.write(json.dumps({"path": self.path, "auth": auth, "body": body,
                                    "status": status}) + "\n")
        self.answer(status, message)
srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
open(out + "/registrar.port.tmp", "w").write(str(srv.server_address[1]))
os.rename(out + "/registrar.port.tmp", out + "/registrar.port")
srv.serve_forever()
PY
for _ in $(seq 100); do
    [ -f "$RR_TMP/registrar.port" ] && break
    sleep 0.05
done
REG_PORT=$(cat "$RR_TMP/registrar.port" 2>/dev/null)
if [ -z "$REG_PORT" ]; then
    rr_not_ok "the python registrar did not start" "$RR_TMP/registrar.err"
    rr_finish
fi
url() {
    echo "http://127.0.0.1:$REG_PORT/internal/sessions/$1/ready"
}

# rr_host NAME ARGS...: start the host; wait for its readiness line. Sets HOST_PID, HOST_PORT,
# TRANSPORT_PORT, INSPECTOR_PORT.
rr_host() {
    local name=$1
    shift
    rr_bg "$name" "$HOST" "$@"
    HOST_PID=$RR_LAST_PID
    rr_wait_log "$RR_TMP/$name.out" '^ready: listening on port [0-9]+' 30 || return 1
    HOST_PORT=$(sed -n 's/^ready: listening on port \([0-9]*\).*/\1/p' "$RR_TMP/$name.out")
    TRANSPORT_PORT=$(sed -n 's/.*(transport \([0-9]*\)).*/\1/p' "$RR_TMP/$name.out")
    INSPECTOR_PORT=$(sed -n 's/.*inspector on port \([0-9]*\).*/\1/p' "$RR_TMP/$name.out")
    [ -n "$HOST_PORT" ]
}

# The last POST to session $1, as "status handshake transport inspector auth".
last_post() {
    python3 - "$RR_TMP/posts.log" "$1" <<'EOF'
import json, sys
last = None
for line in open(sys.argv[1]):
    p = json.loads(line)
    if p["path"].split("/")[3] == sys.argv[2]:
        last = p
if last:
    b = last["body"] or {}
    print(last["status"], b.get("handshakePort"), b.get("transportPort"),
          b.get("inspectorPort"), last["auth"])
EOF
}
posts_of() {
    if [ -f "$RR_TMP/posts.log" ]; then
        grep -c "/sessions/$1/ready" "$RR_TMP/posts.log"
    else
        echo 0
    fi
}

# An inspector request: prints the HTTP status.
inspector_status() {
    local path=$1 token=${2:-}
    python3 - "$INSPECTOR_PORT" "$path" "$token" <<'EOF'
import http.client, sys
c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=5)
h = {"Authorization": "Bearer " + sys.argv[3]} if sys.argv[3] else {}
c.request("GET", sys.argv[2], headers=h)
print(c.getresponse().status)
EOF
}

# Access tokens and their JWK Set (as host_play.sh makes them).
have_jwt=0
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
def token(aid, iss="https://sts.example.org", aud="openrr-session", exp=600):
    head = b64(json.dumps({"alg": "ES256", "typ": "JWT", "kid": "k1"}).encode())
    now = int(time.time())
    body = b64(json.dumps({"iss": iss, "aud": aud, "aid": aid, "roles": ["Client"],
                           "iat": now - 10, "exp": now + exp}).encode())
    r, s = decode_dss_signature(key.sign((head + "." + body).encode(), ec.ECDSA(hashes.SHA256())))
    return head + "." + body + "." + b64(r.to_bytes(32, "big") + s.to_bytes(32, "big"))
open(sys.argv[1] + "/good.jwt", "w").write(token("acct-1"))
open(sys.argv[1] + "/other.jwt", "w").write(token("acct-2"))
open(sys.argv[1] + "/wrong-aud.jwt", "w").write(token("acct-1", aud="other"))
open(sys.argv[1] + "/expired.jwt", "w").write(token("acct-1", exp=-3600))
PY
    have_jwt=1
fi

# 1. A secure session host as openrrd starts it: every secret in the environment.
if [ "$have_jwt" = 1 ]; then
    jwt_args=(--token-jwks "$RR_TMP/jwks.json" --account-id acct-1 --account-domain example.org
        --token-issuer https://sts.example.org --token-audience openrr-session)
    if OPENRR_REGISTER_TOKEN=sekret-1 OPENRR_KEY_PASSPHRASE=test-pass \
        OPENRR_INSPECTOR_TOKEN=itok-1 rr_host h1 -listen 127.0.0.1:0 -certificatestore "$RR_STORE" \
        "${jwt_args[@]}" --inspector-port 0 --inspector-listen 127.0.0.1 \
        --register-url "$(url s1)" "${small[@]}"; then
        read -r st hp tp ip auth <<<"$(last_post s1)"
        [ "$st" = 204 ] && [ "$hp" = "$HOST_PORT" ] && [ "$tp" = "$TRANSPORT_PORT" ] &&
            [ "$ip" = "$INSPECTOR_PORT" ] && [ "$auth" = "Bearer sekret-1" ] &&
            [ "$(posts_of s1)" = 1 ]
        rr_result $? "registers once with its ports and the secret as bearer (got: $st $hp $tp $ip)" \
            "$RR_TMP/posts.log" "$RR_TMP/h1.out"
        grep -q "openrr-host: registered with openrrd at $(url s1)" "$RR_TMP/h1.err"
        rr_result $? "says it registered, on stderr" "$RR_TMP/h1.err"
        # Secrets: not on the command line, blanked in the environment.
        ! grep -a -q -e sekret-1 -e test-pass -e itok-1 "/proc/$HOST_PID/cmdline" \
            "/proc/$HOST_PID/environ" && grep -a -q OPENRR_REGISTER_TOKEN= "/proc/$HOST_PID/environ"
        rr_result $? "the secrets are in neither /proc/PID/cmdline nor /proc/PID/environ"
        ! grep -q -e sekret-1 -e test-pass -e itok-1 "$RR_TMP/h1.out" "$RR_TMP/h1.err"
        rr_result $? "the secrets are in no output" "$RR_TMP/h1.err"
        # The inspector: its fixed token, the session's access tokens, nothing else.
        got="$(inspector_status /api/stats itok-1) $(inspector_status /api/stats "$(cat "$RR_TMP/good.jwt")")"
        got="$got $(inspector_status "/api/scene?token=$(cat "$RR_TMP/good.jwt")")"
        [ "$got" = "200 200 200" ]
        rr_result $? "inspector: the fixed token and an access token are accepted (got $got)"
        got="$(inspector_status /api/stats) $(inspector_status /api/stats "$(cat "$RR_TMP/other.jwt")")"
        got="$got $(inspector_status /api/stats "$(cat "$RR_TMP/wrong-aud.jwt")")"
        got="$got $(inspector_status /api/stats "$(cat "$RR_TMP/expired.jwt")") $(inspector_status /api/stats wrong)"
        [ "$got" = "401 401 401 401 401" ]
        rr_result $? "inspector: no token, another account's, audience's, an expired one, a wrong one: 401 (got $got)"
        kill -TERM "$HOST_PID"
        rr_wait_pid "$HOST_PID" 10
        rr_result "$RR_RC" "SIGTERM → exit 0 (got $RR_RC)" "$RR_TMP/h1.err"
    else
        rr_not_ok "a secure host with --register-url: no readiness line" "$RR_TMP/h1.err" \
            "$RR_TMP/posts.log"
    fi
else
    rr_skip "secure host with access tokens: python3 cryptography is not installed"
fi

# 2. 503 answers are retried; --inspector-listen binds the address given.
if OPENRR_REGISTER_TOKEN=sekret-1 OPENRR_INSPECTOR_TOKEN=itok-2 rr_host h2 --plain \
    -listen 127.0.0.1:0 --inspector-port 0 --inspector-listen 0.0.0.0 \
    --register-url "$(url flaky)" "${small[@]}"; then
    [ "$(posts_of flaky)" = 3 ] && [ "$(last_post flaky | cut -d' ' -f1)" = 204 ]
    rr_result $? "two 503 answers, then 204: registered at the third try ($(posts_of flaky) POSTs)" \
        "$RR_TMP/posts.log"
    # /proc/net/tcp: local address 00000000:PORT in state 0A (listening).
    printf -v hex '%04X' "$INSPECTOR_PORT"
    grep -q -E "^ *[0-9]+: 00000000:$hex 00000000:0000 0A" /proc/net/tcp
    rr_result $? "--inspector-listen 0.0.0.0: the inspector listens on every IPv4 address"
    [ "$(inspector_status /api/stats itok-2)" = 200 ]
    rr_result $? "the inspector token from OPENRR_INSPECTOR_TOKEN works"
    kill -TERM "$HOST_PID"
    rr_wait_pid "$HOST_PID" 10
else
    rr_not_ok "retried registration: no readiness line" "$RR_TMP/h2.err" "$RR_TMP/posts.log"
fi

# 3. Failures: each ends the host with its status and a message that says what.
# fails NAME STATUS REGEX SECONDS DESCRIPTION ENV... -- ARGS...: run the host (bounded).
fails() {
    local name=$1 want=$2 re=$3 max_s=$4 desc=$5
    shift 5
    local envs=()
    while [ "$1" != -- ]; do
        envs+=("$1")
        shift
    done
    shift
    local t0 t1
    t0=$(rr_now_ms)
    env "${envs[@]}" timeout -k 2 40 "$HOST" "$@" >"$RR_TMP/$name.out" 2>"$RR_TMP/$name.err"
    local rc=$?
    t1=$(rr_now_ms)
    [ "$rc" -eq "$want" ] && grep -qE -- "$re" "$RR_TMP/$name.err" && [ ! -s "$RR_TMP/$name.out" ] &&
        [ $((t1 - t0)) -le $((max_s * 1000)) ]
    rr_result $? "$desc (status $rc, want $want; $((t1 - t0)) ms)" "$RR_TMP/$name.err"
}
fails f1 1 "openrr-host: openrrd at $(url s2) refused the registration: HTTP 401: no such session or a wrong secret" 20 \
    "a wrong secret: exit 1 at once, with openrrd's answer, no readiness line" \
    OPENRR_REGISTER_TOKEN=not-the-secret -- --plain -listen 127.0.0.1:0 --register-url "$(url s2)" \
    "${small[@]}"
[ "$(posts_of s2)" = 1 ]
rr_result $? "a refused registration is not retried ($(posts_of s2) POSTs)"
! grep -q not-the-secret "$RR_TMP/f1.err"
rr_result $? "the wrong secret is not printed" "$RR_TMP/f1.err"
fails f2 64 "register-url needs the registration secret in the environment variable OPENRR_REGISTER_TOKEN" 10 \
    "--register-url without OPENRR_REGISTER_TOKEN: exit 64" \
    -- --plain -listen 127.0.0.1:0 --register-url "$(url s3)" "${small[@]}"
dead=$(rr_free_port)
fails f3 1 "cannot register at http://127.0.0.1:$dead/internal/sessions/s4/ready \\([0-9]+ attempts in 10 s\\): .+" 25 \
    "nobody answers: exit 1 after about 10 s of retries" \
    OPENRR_REGISTER_TOKEN=sekret-1 -- --plain -listen 127.0.0.1:0 \
    --register-url "http://127.0.0.1:$dead/internal/sessions/s4/ready" "${small[@]}"
fails f4 64 "register-url needs an http:// or https:// URL" 10 "--register-url ftp://…: exit 64" \
    OPENRR_REGISTER_TOKEN=sekret-1 -- --plain -listen 127.0.0.1:0 --register-url ftp://x/y \
    "${small[@]}"
fails f5 64 "inspector-listen needs a numeric IPv4 or IPv6 address, not 'localhost'" 10 \
    "--inspector-listen localhost: exit 64" \
    OPENRR_INSPECTOR_TOKEN=x -- --plain -listen 127.0.0.1:0 --inspector-port 0 \
    --inspector-listen localhost "${small[@]}"
fails f6 64 "inspector-listen goes with --inspector-port" 10 \
    "--inspector-listen without --inspector-port: exit 64" \
    -- --plain -listen 127.0.0.1:0 --inspector-listen 127.0.0.1 "${small[@]}"
fails f7 64 "inspector-port needs --inspector-token \\(or OPENRR_INSPECTOR_TOKEN\\)" 10 \
    "--inspector-port without a token: exit 64" \
    -- --plain -listen 127.0.0.1:0 --inspector-port 0 "${small[@]}"

rr_finish
