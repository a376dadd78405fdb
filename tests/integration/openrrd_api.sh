#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# openrrd end to end (docs/openrrd.md): the real daemon on 127.0.0.1:0 with a temporary data
# directory, driven with curl and python3.
# - CLI: usage errors exit 64, runtime errors 1, --help everywhere, the readiness line, the data
#   directory 0700, keys printed once and never logged, a second serve refused by the lock,
#   SIGTERM → 0;
# - STS: account key → token, api-version, MS-CV/X-MRC-CV, 401s with WWW-Authenticate; the
#   JWK Set and the CA certificate served;
# - REST auth: no / malformed / expired / foreign-account / wrong-signature tokens → 401 with
#   WWW-Authenticate; Client tokens on conversions → 403; api-version missing or wrong → 400;
# - bodies: malformed JSON, duplicate keys, wrong types, missing fields (target named), bad
#   and 257-character ids, lease 1441, a body over the limit → 400/413 error objects;
# - conversions: create → NotStarted with Retry-After, identical retry 200, other settings
#   409, SAS never echoed nor logged, a missing input ends Failed; paging over 100+ with
#   @nextLink and $skipToken;
# - sessions: 100 concurrent PUTs of one id → one 201 and 99 200; a (fake) host registers →
#   Ready; PATCH 422/400/200/409; :stop 204 twice; the list holds active sessions only;
# - rate limit → 429 with Retry-After; MS-CV on every response;
# - kill -9 right after creates → restart → everything there;
# - disk full under the data directory (a small tmpfs; needs root) → 500 InternalError, and
#   after freeing space the database passes PRAGMA integrity_check and takes writes again;
# - HTTPS with an openssl-made certificate, checked with curl --cacert.
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"
rr_init

tools=$(dirname "$RR_TOOL")
OPENRRD=${RR_OPENRRD:-$(cd "$tools/.." && pwd)/frontend/openrrd}
if [ ! -x "$OPENRRD" ]; then
    rr_skip "openrrd is not built ($OPENRRD)"
    rr_finish
fi
for tool in curl sqlite3; do
    if ! command -v "$tool" >/dev/null; then
        rr_skip "$tool is not installed"
        rr_finish
    fi
done
HAVE_CRYPTO=0
if python3 -c 'import cryptography' 2>/dev/null; then
    HAVE_CRYPTO=1
fi
export no_proxy='*' NO_PROXY='*'
API=api-version=2021-01-01

# ---- helpers -----------------------------------------------------------------------------

# stop_serve NAME: SIGTERM the openrrd in PID; a check that it ends with 0 (under the
# sanitizers a leak or error at exit would change that).
stop_serve() {
    kill -TERM "$PID"
    rr_wait_pid "$PID" 20
    rr_result $((RR_RC != 0)) "$1: SIGTERM → exit 0" "$RR_TMP/$1.err"
}

CV_MISSING=0
REQS=0
# req NAME METHOD URL [curl args...]: STATUS, $RR_TMP/NAME.body, $RR_TMP/NAME.head. Counts
# responses without MS-CV.
req() {
    local name=$1 method=$2 url=$3
    shift 3
    STATUS=$(curl -sS --max-time 20 -o "$RR_TMP/$name.body" -D "$RR_TMP/$name.head" \
        -w '%{http_code}' -X "$method" "$@" "$url" 2>"$RR_TMP/$name.curl")
    REQS=$((REQS + 1))
    if ! grep -qi '^MS-CV: [A-Za-z0-9+/._=-]' "$RR_TMP/$name.head"; then
        CV_MISSING=$((CV_MISSING + 1))
        rr_note "no MS-CV on $method $url ($STATUS)"
    fi
}
# header NAME HEADER: the value of a response header.
header() {
    grep -i "^$2:" "$RR_TMP/$1.head" | head -n 1 | cut -d' ' -f2- | tr -d '\r'
}
# jget NAME EXPR: python expression over j (the body's JSON); prints the result.
jget() {
    python3 -c 'import json,sys
j=json.load(open(sys.argv[1]))
v=eval(sys.argv[2])
print(v if not isinstance(v,(dict,list)) else json.dumps(v))' "$RR_TMP/$1.body" "$2" 2>/dev/null
}
# expect NAME STATUS CODE [TARGET] DESCRIPTION: a check of an error answer.
expect_error() {
    local name=$1 status=$2 code=$3 target=$4 desc=$5
    local got_code got_target
    got_code=$(jget "$name" 'j["error"]["code"]')
    got_target=$(jget "$name" 'j["error"].get("target","")')
    [ "$STATUS" = "$status" ] && [ "$got_code" = "$code" ] &&
        { [ -z "$target" ] || [ "$got_target" = "$target" ]; } &&
        [ "$(jget "$name" 'type(j["error"]["details"]).__name__')" = list ]
    rr_result $? "$desc → $status $code${target:+ (target $target)}" "$RR_TMP/$name.body" \
        "$RR_TMP/$name.head"
}

# start NAME DATA ARGS...: openrrd serve in the background; URL and PID once ready.
start() {
    local name=$1 data=$2
    shift 2
    rr_bg "$name" "$OPENRRD" serve --data "$data" --listen 127.0.0.1:0 "$@"
    PID=$RR_LAST_PID
    URL=""
    if rr_wait_log "$RR_TMP/$name.out" '^ready: listening on https?://127\.0\.0\.1:[0-9]+$' 20; then
        URL=$(sed -n 's/^ready: listening on //p' "$RR_TMP/$name.out")
    fi
    [ -n "$URL" ]
}

# token NAME ACCOUNT KEY: an access token into TOKEN.
token() {
    req "$1" GET "$URL/Accounts/$2/token" -H "Authorization: Bearer $2:$3"
    TOKEN=$(jget "$1" 'j["AccessToken"]')
}

# ---- command line ------------------------------------------------------------------------

"$OPENRRD" >/dev/null 2>&1
rr_result $(($? != 64)) "no command → exit 64"
"$OPENRRD" frobnicate >/dev/null 2>&1
rr_result $(($? != 64)) "unknown command → exit 64"
"$OPENRRD" serve --no-such-flag 1 >/dev/null 2>"$RR_TMP/flag.err"
rr_result $(($? != 64)) "unknown flag → exit 64" "$RR_TMP/flag.err"
"$OPENRRD" serve --max-sessions lots >/dev/null 2>"$RR_TMP/flag.err"
rr_result $(($? != 64)) "a bad value → exit 64" "$RR_TMP/flag.err"
"$OPENRRD" account keys >/dev/null 2>&1
rr_result $(($? != 64)) "account keys without an id → exit 64"
helps=0
for cmd in "serve" "account create" "account list" "account keys" "account regenerate-key"; do
    # shellcheck disable=SC2086 # the command's words
    out=$("$OPENRRD" $cmd --help 2>&1) && grep -q 'Example' <<<"$out" && grep -q 'usage: openrrd' <<<"$out" ||
        helps=$((helps + 1))
done
rr_result "$helps" "--help of every command prints its usage and examples (exit 0)"

DATA=$RR_TMP/data
"$OPENRRD" account create --data "$DATA" --json >"$RR_TMP/acc.json" 2>"$RR_TMP/acc.err"
rc=$?
ACC=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["accountId"])' "$RR_TMP/acc.json" 2>/dev/null)
KEY=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["primaryKey"])' "$RR_TMP/acc.json" 2>/dev/null)
KEY2=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["secondaryKey"])' "$RR_TMP/acc.json" 2>/dev/null)
python3 - "$RR_TMP/acc.json" <<'EOF' && [ "$rc" -eq 0 ]
import json, re, sys
j = json.load(open(sys.argv[1]))
assert list(j) == ["accountId", "accountDomain", "primaryKey", "secondaryKey"], j
assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", j["accountId"])
assert j["accountDomain"] == "openrr.localhost"
for k in ("primaryKey", "secondaryKey"):
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", j[k]), j[k]
assert j["primaryKey"] != j["secondaryKey"]
EOF
rr_result $? "account create --json prints exactly the id, domain and two 43-character keys" "$RR_TMP/acc.err"
[ "$(stat -c %a "$DATA")" = 700 ]
rr_result $? "the data directory is made 0700"
"$OPENRRD" account create --data "$DATA" --json >"$RR_TMP/acc2.json" 2>/dev/null
ACC2=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["accountId"])' "$RR_TMP/acc2.json")
KEY_B=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["primaryKey"])' "$RR_TMP/acc2.json")
"$OPENRRD" account list --data "$DATA" --json >"$RR_TMP/list.json"
[ "$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["accounts"]))' "$RR_TMP/list.json")" = 2 ]
rr_result $? "account list shows both accounts"
"$OPENRRD" account regenerate-key "$ACC" devices --role Client --data "$DATA" --json >"$RR_TMP/client.json"
CLIENT_KEY=$(python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); assert j["role"]=="Client"; print(j["key"])' "$RR_TMP/client.json")
"$OPENRRD" account keys "$ACC" --data "$DATA" >"$RR_TMP/keys.txt"
grep -q '^devices  *Client' "$RR_TMP/keys.txt" && grep -q '^primary  *Administrator' "$RR_TMP/keys.txt" &&
    ! grep -qF "$KEY" "$RR_TMP/keys.txt" && ! grep -qF "$CLIENT_KEY" "$RR_TMP/keys.txt"
rr_result $? "a Client key is made; keys lists names and roles, never keys" "$RR_TMP/keys.txt"
"$OPENRRD" account keys 00000000-0000-4000-8000-000000000000 --data "$DATA" >/dev/null 2>&1
rr_result $(($? != 1)) "keys of an unknown account → exit 1"
"$OPENRRD" account regenerate-key "$ACC" 'bad name' --data "$DATA" >/dev/null 2>&1
rr_result $(($? != 64)) "a bad key name → exit 64"

# The fake host: registers with openrrd like openr-host does, then waits for SIGTERM.
cat >"$RR_TMP/fake-host" <<'EOF'
#!/usr/bin/env python3
import json, os, signal, sys, time, urllib.error, urllib.request
args = sys.argv[1:]
# Hosts outlive openrrd by design: the test kills what it started, by these pids.
with open(os.path.join(os.path.dirname(os.path.abspath(sys.argv[0])), "fake-host.pids"), "a") as f:
    f.write("%d\n" % os.getpid())
def val(flag):
    return args[args.index(flag) + 1] if flag in args else None
port = int(val("-listen").rsplit(":", 1)[1])
body = {"handshakePort": port, "transportPort": port + 1}
if val("--inspector-port"):
    body["inspectorPort"] = int(val("--inspector-port"))
def register(b):
    req = urllib.request.Request(val("--register-url"), data=json.dumps(b).encode(), method="POST",
        headers={"Authorization": "Bearer " + os.environ["OPENRR_REGISTER_TOKEN"]})
    try:
        return urllib.request.urlopen(req, timeout=10).status
    except urllib.error.HTTPError as e:
        return e.code
# First with ports it was not given (refused), then as a host does.
wrong = register(dict(body, handshakePort=port + 7, transportPort=port + 8))
with open(os.path.join(os.path.dirname(os.path.abspath(sys.argv[0])), "fake-host.wrong"), "a") as f:
    f.write("%d\n" % wrong)
register(body)
signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
while True:
    time.sleep(1)
EOF
chmod +x "$RR_TMP/fake-host"
# shellcheck disable=SC2317 # called by the EXIT trap
kill_hosts() {
    local pid
    while read -r pid; do
        kill -KILL "$pid" 2>/dev/null
    done <"$RR_TMP/fake-host.pids"
}
: >"$RR_TMP/fake-host.pids"
trap 'kill_hosts; rr_cleanup' EXIT
mkdir -p "$DATA/storage/in" "$DATA/storage/out"

start serve "$DATA" --rate-per-second 0 --max-queued-conversions 1000 --host-path "$RR_TMP/fake-host"
rr_result $? "serve prints 'ready: listening on http://127.0.0.1:PORT'" "$RR_TMP/serve.err"
if [ -z "$URL" ]; then
    rr_finish
fi
rr_bg serve2 "$OPENRRD" serve --data "$DATA" --listen 127.0.0.1:0
rr_wait_pid "$RR_LAST_PID" 10
[ "$RR_RC" = 1 ] && grep -q 'openrrd.lock' "$RR_TMP/serve2.err"
rr_result $? "a second serve of the data directory exits 1 naming the lock" "$RR_TMP/serve2.err"

# ---- token service -----------------------------------------------------------------------

token sts "$ACC" "$KEY"
[ "$STATUS" = 200 ] && [ -n "$TOKEN" ] && [ "$(tr -cd . <<<"$TOKEN" | wc -c)" = 2 ]
rr_result $? "GET /Accounts/{id}/token with the primary key → 200 AccessToken" "$RR_TMP/sts.body"
ADMIN=$TOKEN
req sts2 GET "$URL/accounts/$ACC/token?api-version=2019-02-28-preview" -H "Authorization: Bearer $ACC:$KEY2" \
    -H 'X-MRC-CV: sdkCv.1'
[ "$STATUS" = 200 ] && [ "$(header sts2 MS-CV)" = sdkCv.1 ]
rr_result $? "lower-case path, the secondary key, api-version 2019-02-28-preview; X-MRC-CV echoed in MS-CV"
req sts3 GET "$URL/Accounts/$ACC/token?api-version=2021-01-01" -H "Authorization: Bearer $ACC:$KEY"
expect_error sts3 400 InvalidApiVersionParameter api-version "the STS with another api-version"
req sts4 GET "$URL/Accounts/$ACC/token"
[ "$STATUS" = 401 ] && [ "$(header sts4 WWW-Authenticate)" = 'Bearer realm="openrr:openrr.localhost"' ]
rr_result $? "the STS without credentials → 401 with WWW-Authenticate (no error)" "$RR_TMP/sts4.head"
req sts5 GET "$URL/Accounts/$ACC/token" -H "Authorization: Bearer $ACC:${KEY2}x"
[ "$STATUS" = 401 ] && header sts5 WWW-Authenticate | grep -q 'error="invalid_token"'
rr_result $? "a wrong key → 401 invalid_token" "$RR_TMP/sts5.head"
req sts6 GET "$URL/Accounts/$ACC/token" -H "Authorization: Bearer $ACC2:$KEY"
[ "$STATUS" = 401 ]
rr_result $? "another account's id with this key → 401"
req sts7 GET "$URL/Accounts/$ACC2/token" -H "Authorization: Bearer $ACC:$KEY"
[ "$STATUS" = 401 ]
rr_result $? "a path account other than the credential's → 401"
token stsb "$ACC2" "$KEY_B"
TOKEN_B=$TOKEN
token stsc "$ACC" "$CLIENT_KEY"
CLIENT=$TOKEN

req jwks GET "$URL/.well-known/jwks.json"
[ "$STATUS" = 200 ] && cmp -s "$RR_TMP/jwks.body" "$DATA/jwks.json"
rr_result $? "/.well-known/jwks.json is <data>/jwks.json"
KID=$(jget jwks 'j["keys"][0]["kid"]')
req ca GET "$URL/.well-known/openrr/ca.pem"
[ "$STATUS" = 200 ] && grep -q 'BEGIN CERTIFICATE' "$RR_TMP/ca.body"
rr_result $? "/.well-known/openrr/ca.pem serves the CA certificate"

# ---- REST authentication -----------------------------------------------------------------

CONVS="$URL/accounts/$ACC/conversions"
SESS="$URL/accounts/$ACC/sessions"
req a0 GET "$CONVS?$API" -H "Authorization: Bearer $ADMIN"
[ "$STATUS" = 200 ] && [ "$(jget a0 'j["conversions"]')" = "[]" ]
rr_result $? "an Administrator token lists conversions (none yet)" "$RR_TMP/a0.body"
req a1 GET "$CONVS?$API"
[ "$STATUS" = 401 ] && [ "$(header a1 WWW-Authenticate)" = 'Bearer realm="openrr:openrr.localhost"' ]
rr_result $? "no token → 401, WWW-Authenticate without an error" "$RR_TMP/a1.head"
check_401() {
    local name=$1 desc=$2 why=$3
    [ "$STATUS" = 401 ] && header "$name" WWW-Authenticate | grep -q "error=\"invalid_token\", error_description=\".*$why" &&
        [ "$(jget "$name" 'j["error"]["code"]')" = Unauthorized ]
    rr_result $? "$desc → 401 invalid_token ($why)" "$RR_TMP/$name.head" "$RR_TMP/$name.body"
}
req a2 GET "$CONVS?$API" -H "Authorization: Bearer not.a.token"
check_401 a2 "a malformed token" malformed
req a2b GET "$CONVS?$API" -H "Authorization: Basic $ADMIN"
check_401 a2b "a Basic credential" "Bearer"
req a3 GET "$CONVS?$API" -H "Authorization: Bearer $TOKEN_B"
check_401 a3 "another account's token" "another account"
if [ "$HAVE_CRYPTO" = 1 ]; then
    # Tokens made here: one signed with openrrd's own key but expired beyond the leeway, one
    # signed by a stranger's key under openrrd's kid.
    python3 - "$DATA/sts/signing-key.pem" "$KID" "$ACC" >"$RR_TMP/forged.txt" <<'EOF'
import base64, json, sys, time
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, utils
def b64(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()
def sign(key, kid, claims):
    h = b64(json.dumps({"alg": "ES256", "kid": kid, "typ": "JWT"}).encode())
    p = b64(json.dumps(claims).encode())
    r, s = utils.decode_dss_signature(key.sign((h + "." + p).encode(), ec.ECDSA(hashes.SHA256())))
    return h + "." + p + "." + b64(r.to_bytes(32, "big") + s.to_bytes(32, "big"))
key = serialization.load_pem_private_key(open(sys.argv[1], "rb").read(), None)
kid, acc, now = sys.argv[2], sys.argv[3], int(time.time())
base = {"iss": "https://sts.openrr.localhost", "aud": "https://remoterendering.openrr.localhost",
        "aid": acc, "roles": ["Administrator"], "jti": "0" * 32}
print(sign(key, kid, dict(base, iat=now - 7200, nbf=now - 7200, exp=now - 3600)))
print(sign(ec.generate_private_key(ec.SECP256R1()), kid, dict(base, iat=now, nbf=now, exp=now + 3600)))
print(sign(key, kid, dict(base, iat=now, nbf=now, exp=now + 3600)))
EOF
    EXPIRED=$(sed -n 1p "$RR_TMP/forged.txt")
    FORGED=$(sed -n 2p "$RR_TMP/forged.txt")
    OWN=$(sed -n 3p "$RR_TMP/forged.txt")
    req a4 GET "$CONVS?$API" -H "Authorization: Bearer $EXPIRED"
    check_401 a4 "an expired token" expired
    req a5 GET "$CONVS?$API" -H "Authorization: Bearer $FORGED"
    check_401 a5 "a token signed by another key under openrrd's kid" "signature does not verify"
    req a6 GET "$CONVS?$API" -H "Authorization: Bearer $OWN"
    [ "$STATUS" = 200 ]
    rr_result $? "the same claims signed with openrrd's key pass (the refusals were for cause)"
else
    rr_skip "expired and forged tokens: python3-cryptography is not installed"
fi
req a7 GET "$CONVS?$API" -H "Authorization: Bearer $CLIENT"
expect_error a7 403 Forbidden "" "a Client token on conversions"
req a8 GET "$SESS?$API" -H "Authorization: Bearer $CLIENT"
[ "$STATUS" = 200 ]
rr_result $? "a Client token lists sessions"
req a9 GET "$CONVS" -H "Authorization: Bearer $ADMIN"
expect_error a9 400 MissingApiVersionParameter api-version "no api-version"
req a10 GET "$CONVS?api-version=2020-01-01" -H "Authorization: Bearer $ADMIN"
expect_error a10 400 InvalidApiVersionParameter api-version "api-version 2020-01-01"
req a11 GET "$URL/accounts/$ACC/nothing?$API" -H "Authorization: Bearer $ADMIN"
expect_error a11 404 NotFound "" "an unknown route"
req a12 DELETE "$SESS/s1?$API" -H "Authorization: Bearer $ADMIN"
[ "$STATUS" = 405 ] && header a12 Allow | grep -q PATCH
rr_result $? "DELETE of a session → 405 with Allow" "$RR_TMP/a12.head"

# ---- conversions -------------------------------------------------------------------------

AUTH=(-H "Authorization: Bearer $ADMIN" -H 'Content-Type: application/json')
SAS=sv=2024-secret-sas-$$
conv_body() { # conv_body INPUT_NAME: a create body
    printf '{"settings":{"inputLocation":{"storageContainerUri":"file://%s/storage/in","relativeInputAssetPath":"%s","storageContainerReadListSas":"%s","unknownField":1},"outputLocation":{"storageContainerUri":"file://%s/storage/out","storageContainerWriteSas":"%s"}},"ignored":true}' \
        "$DATA" "$1" "$SAS" "$DATA" "$SAS"
}
req c1 PUT "$CONVS/conv-1?$API" "${AUTH[@]}" --data-binary "$(conv_body missing.gltf)"
[ "$STATUS" = 201 ] && [ "$(jget c1 'j["status"]')" = NotStarted ] && [ "$(jget c1 'j["id"]')" = conv-1 ] &&
    [ "$(jget c1 'j["settings"]["inputLocation"]["relativeInputAssetPath"]')" = missing.gltf ] &&
    [ "$(jget c1 'j["error"]')" = None ] && jget c1 'j["creationTime"]' | grep -qE '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$' &&
    ! grep -q "$SAS" "$RR_TMP/c1.body"
rr_result $? "PUT conversion → 201 NotStarted, settings without SAS" "$RR_TMP/c1.body"
req c2 PUT "$CONVS/conv-1?$API" "${AUTH[@]}" --data-binary "$(conv_body missing.gltf)"
[ "$STATUS" = 200 ] && ! grep -q "$SAS" "$RR_TMP/c2.body"
rr_result $? "the identical create again → 200 (unknown fields ignored)" "$RR_TMP/c2.body"
req c3 PUT "$CONVS/conv-1?$API" "${AUTH[@]}" --data-binary "$(conv_body other.gltf)"
expect_error c3 409 Conflict "" "the same id with other settings"
# Polling: Retry-After while waiting or running; a missing input ends Failed.
final=""
for _ in $(seq 1 100); do
    req c4 GET "$CONVS/conv-1?$API" "${AUTH[@]}"
    st=$(jget c4 'j["status"]')
    if [ "$st" = NotStarted ] || [ "$st" = Running ]; then
        [ "$(header c4 Retry-After)" = 5 ] || {
            final="no Retry-After"
            break
        }
        sleep 0.2
        continue
    fi
    final=$st
    break
done
[ "$final" = Failed ] && [ -n "$(jget c4 'j["error"]["code"]')" ] && [ -z "$(header c4 Retry-After)" ] &&
    ! grep -q "$SAS" "$RR_TMP/c4.body"
rr_result $? "a conversion of a missing input ends Failed with an error code (Retry-After while pending)" \
    "$RR_TMP/c4.body" "$RR_TMP/serve.err"

req v1 PUT "$CONVS/bad-json?$API" "${AUTH[@]}" --data-binary '{"settings":'
expect_error v1 400 InvalidRequest "" "malformed JSON"
req v2 PUT "$CONVS/bad-json?$API" "${AUTH[@]}" --data-binary '[1,2]'
expect_error v2 400 InvalidRequest "" "a JSON array body"
req v3 PUT "$CONVS/bad-json?$API" "${AUTH[@]}" --data-binary '{"settings":{},"settings":{}}'
expect_error v3 400 InvalidRequest "" "duplicate keys"
req v4 PUT "$CONVS/bad-json?$API" "${AUTH[@]}" --data-binary '{"settings":"file:///x"}'
expect_error v4 400 InvalidArgument settings "settings of the wrong type"
req v5 PUT "$CONVS/bad-json?$API" "${AUTH[@]}" --data-binary \
    '{"settings":{"inputLocation":{"storageContainerUri":7,"relativeInputAssetPath":"a.gltf"},"outputLocation":{"storageContainerUri":"file:///x"}}}'
expect_error v5 400 InvalidArgument settings.inputLocation.storageContainerUri "a container URI that is a number"
req v6 PUT "$CONVS/bad-json?$API" "${AUTH[@]}" --data-binary \
    "{\"settings\":{\"inputLocation\":{\"storageContainerUri\":\"file://$DATA/storage/in\"},\"outputLocation\":{\"storageContainerUri\":\"file://$DATA/storage/out\"}}}"
expect_error v6 400 InvalidArgument settings.inputLocation.relativeInputAssetPath "a missing relativeInputAssetPath"
req v7 PUT "$CONVS/bad-json?$API" "${AUTH[@]}" --data-binary '{"settings":{"inputLocation":{}}}'
expect_error v7 400 InvalidArgument settings.outputLocation "a missing outputLocation"
req v8 PUT "$CONVS/bad.id?$API" "${AUTH[@]}" --data-binary "$(conv_body a.gltf)"
expect_error v8 400 InvalidId conversionId "an id with '.'"
long256=$(printf 'a%.0s' $(seq 1 256))
req v9 PUT "$CONVS/${long256}b?$API" "${AUTH[@]}" --data-binary "$(conv_body a.gltf)"
expect_error v9 400 InvalidId conversionId "an id of 257 characters"
req v10 PUT "$CONVS/$long256?$API" "${AUTH[@]}" --data-binary "$(conv_body a.gltf)"
[ "$STATUS" = 201 ]
rr_result $? "an id of 256 characters → 201"
req v11 PUT "$CONVS/out-of-root?$API" "${AUTH[@]}" --data-binary \
    '{"settings":{"inputLocation":{"storageContainerUri":"file:///etc","relativeInputAssetPath":"passwd"},"outputLocation":{"storageContainerUri":"file:///tmp"}}}'
expect_error v11 400 InvalidArgument settings.inputLocation.storageContainerUri "a file:// container outside the storage root"
req v12 GET "$CONVS/no-such?$API" "${AUTH[@]}"
expect_error v12 404 NotFound "" "GET of an unknown conversion"

# ---- sessions ----------------------------------------------------------------------------

req s1 PUT "$SESS/s1?$API" "${AUTH[@]}" --data-binary '{"maxLeaseTimeMinutes":1441,"size":"Standard"}'
expect_error s1 400 InvalidArgument maxLeaseTimeMinutes "lease 1441"
req s2 PUT "$SESS/s1?$API" "${AUTH[@]}" --data-binary '{"maxLeaseTimeMinutes":"10","size":"Standard"}'
expect_error s2 400 InvalidArgument maxLeaseTimeMinutes "a lease as a string"
req s3 PUT "$SESS/s1?$API" "${AUTH[@]}" --data-binary '{"maxLeaseTimeMinutes":10,"size":"Huge"}'
expect_error s3 400 InvalidArgument size "size Huge"
req s4 PUT "$SESS/s1?$API" "${AUTH[@]}" --data-binary '{"maxLeaseTimeMinutes":10}'
expect_error s4 400 InvalidArgument size "a missing size"
req s5 PUT "$SESS/s1?$API" "${AUTH[@]}" --data-binary '{"maxLeaseTimeMinutes":10.5,"size":"Standard"}'
expect_error s5 400 InvalidArgument maxLeaseTimeMinutes "a fractional lease"
python3 -c 'import sys; sys.stdout.write("{\"maxLeaseTimeMinutes\":10,\"size\":\"Standard\",\"pad\":\"" + "x"*70000 + "\"}")' >"$RR_TMP/big.json"
req s6 PUT "$SESS/s1?$API" "${AUTH[@]}" -H 'Expect:' --data-binary "@$RR_TMP/big.json"
expect_error s6 413 RequestEntityTooLarge "" "a body over max_body_bytes"

# 100 creates of one id at once: exactly one makes it.
python3 - "$SESS/race?$API" "$ADMIN" >"$RR_TMP/race.txt" 2>&1 <<'EOF'
import collections, concurrent.futures, sys, urllib.error, urllib.request
url, token = sys.argv[1], sys.argv[2]
def put(_):
    r = urllib.request.Request(url, data=b'{"maxLeaseTimeMinutes":10,"size":"standard"}', method="PUT",
                               headers={"Authorization": "Bearer " + token})
    try:
        with urllib.request.urlopen(r, timeout=30) as resp:
            return resp.status
    except urllib.error.HTTPError as e:
        return e.code
with concurrent.futures.ThreadPoolExecutor(100) as pool:
    counts = collections.Counter(pool.map(put, range(100)))
print(dict(counts))
sys.exit(0 if counts == {201: 1, 200: 99} else 1)
EOF
rr_result $? "100 concurrent PUTs of one session id → one 201, 99 200 ($(cat "$RR_TMP/race.txt"))" "$RR_TMP/race.txt"
req s7 PUT "$SESS/race?$API" "${AUTH[@]}" --data-binary '{"maxLeaseTimeMinutes":11,"size":"Standard"}'
expect_error s7 409 Conflict "" "the same session id with another lease"

# The fake host registers: Ready with hostname and ports.
ready=""
for _ in $(seq 1 100); do
    req s8 GET "$SESS/race?$API" -H "Authorization: Bearer $CLIENT"
    ready=$(jget s8 'j["status"]')
    [ "$ready" = Starting ] || break
    sleep 0.1
done
[ "$ready" = Ready ] && [ -n "$(jget s8 'j["hostname"]')" ] && [ "$(jget s8 'j["handshakePort"]')" -gt 0 ] &&
    [ "$(jget s8 'j["maxLeaseTimeMinutes"]')" = 10 ] && [ "$(jget s8 'j["size"]')" = Standard ]
rr_result $? "the host registers (POST /internal/sessions/{id}/ready) → Ready with hostname and port" \
    "$RR_TMP/s8.body" "$RR_TMP/serve.err"
[ "$(head -n 1 "$RR_TMP/fake-host.wrong" 2>/dev/null)" = 400 ]
rr_result $? "a registration with the right secret but other ports → 400"
req s9 POST "$URL/internal/sessions/race/ready" -H 'Authorization: Bearer wrong-secret' \
    --data-binary '{"handshakePort":50000,"transportPort":50001}'
[ "$STATUS" = 401 ]
rr_result $? "a registration with a wrong secret → 401"
req s10 PATCH "$SESS/race?$API" "${AUTH[@]}" --data-binary '{"maxLeaseTimeMinutes":10}'
expect_error s10 422 LeaseNotExtended maxLeaseTimeMinutes "PATCH to the same lease"
req s11 PATCH "$SESS/race?$API" "${AUTH[@]}" --data-binary '{"maxLeaseTimeMinutes":1441}'
expect_error s11 400 InvalidArgument maxLeaseTimeMinutes "PATCH to 1441"
req s12 PATCH "$SESS/race?$API" "${AUTH[@]}" --data-binary '{"maxLeaseTimeMinutes":30}'
[ "$STATUS" = 200 ] && [ "$(jget s12 'j["maxLeaseTimeMinutes"]')" = 30 ]
rr_result $? "PATCH to a longer lease → 200 with the session" "$RR_TMP/s12.body"
req s13 GET "$SESS?$API" "${AUTH[@]}"
[ "$(jget s13 '[s["id"] for s in j["sessions"]]')" = '["race"]' ]
rr_result $? "the session list holds the active session" "$RR_TMP/s13.body"
req s14 POST "$SESS/race/:stop?$API" "${AUTH[@]}"
st1=$STATUS
req s15 POST "$SESS/race/:stop?$API" "${AUTH[@]}"
[ "$st1" = 204 ] && [ "$STATUS" = 204 ]
rr_result $? ":stop → 204, and 204 again for the ended session"
req s16 GET "$SESS/race?$API" "${AUTH[@]}"
[ "$(jget s16 'j["status"]')" = Stopped ]
rr_result $? "the stopped session reads Stopped" "$RR_TMP/s16.body"
req s17 PATCH "$SESS/race?$API" "${AUTH[@]}" --data-binary '{"maxLeaseTimeMinutes":60}'
expect_error s17 409 Conflict "" "PATCH of an ended session"
req s18 GET "$SESS?$API" "${AUTH[@]}"
[ "$(jget s18 'len(j["sessions"])')" = 0 ]
rr_result $? "the list leaves ended sessions out" "$RR_TMP/s18.body"
req s19 POST "$SESS/nothing/:stop?$API" "${AUTH[@]}"
expect_error s19 404 NotFound "" ":stop of an unknown session"

# ---- paging --------------------------------------------------------------------------------

python3 - "$CONVS" "$ADMIN" "$DATA" >"$RR_TMP/paging.txt" 2>&1 <<'EOF'
import json, sys, urllib.request
base, token, data = sys.argv[1:4]
hdr = {"Authorization": "Bearer " + token}
body = json.dumps({"settings": {"inputLocation": {"storageContainerUri": "file://%s/storage/in" % data,
    "relativeInputAssetPath": "none.gltf"}, "outputLocation": {"storageContainerUri": "file://%s/storage/out" % data}}}).encode()
for i in range(105):
    r = urllib.request.Request("%s/page-%03d?api-version=2021-01-01" % (base, i), data=body, method="PUT", headers=hdr)
    assert urllib.request.urlopen(r, timeout=30).status == 201
url, pages, ids = base + "?api-version=2021-01-01", 0, []
while url:
    j = json.load(urllib.request.urlopen(urllib.request.Request(url, headers=hdr), timeout=30))
    pages += 1
    assert len(j["conversions"]) <= 100
    ids += [c["id"] for c in j["conversions"]]
    url = j.get("@nextLink")
    if url:
        assert len(j["conversions"]) == 100, len(j["conversions"])
        assert url.startswith("http://127.0.0.1:") and "api-version=2021-01-01" in url and "$skipToken=" in url, url
want = sorted(["conv-1", "a" * 256] + ["page-%03d" % i for i in range(105)])
print("pages", pages, "ids", len(ids))
assert pages == 2 and ids == want, (pages, len(ids))
EOF
rr_result $? "107 conversions list in two pages through @nextLink and \$skipToken ($(tail -n 1 "$RR_TMP/paging.txt"))" "$RR_TMP/paging.txt"
req p1 GET "$CONVS?$API&\$skipToken=%25%25" "${AUTH[@]}"
expect_error p1 400 InvalidArgument "\$skipToken" "a \$skipToken that is not ours"

# ---- health, metrics, logs ----------------------------------------------------------------

req h1 GET "$URL/healthz"
[ "$STATUS" = 200 ] && [ "$(jget h1 'j["status"]')" = ok ]
rr_result $? "/healthz → ok"
req m1 GET "$URL/metrics"
[ "$STATUS" = 200 ] && grep -q '^openrrd_http_requests_total{route="PUT /accounts/{a}/sessions/{id}",status="201"} [1-9]' "$RR_TMP/m1.body" &&
    grep -q '^openrrd_tokens_issued_total [1-9]' "$RR_TMP/m1.body" &&
    grep -q '^openrrd_http_request_duration_seconds_count [1-9]' "$RR_TMP/m1.body" &&
    grep -q '^openrrd_token_cache_hits_total [1-9]' "$RR_TMP/m1.body"
rr_result $? "/metrics: requests by route and status, latency, tokens, the token cache" "$RR_TMP/m1.body"
leaks=0
for secret in "$KEY" "$KEY2" "$KEY_B" "$CLIENT_KEY" "$ADMIN" "$SAS"; do
    if grep -qF -- "$secret" "$RR_TMP/serve.err" "$RR_TMP/serve.out"; then
        leaks=$((leaks + 1))
    fi
done
grep -q 'event=request .*status=201' "$RR_TMP/serve.err"
rr_result $((leaks + $?)) "request lines are logged; no key, token or SAS is ($leaks leaked)" "$RR_TMP/serve.err"

# ---- kill -9 and restart -------------------------------------------------------------------

req k1 PUT "$CONVS/after-crash?$API" "${AUTH[@]}" --data-binary "$(conv_body k.gltf)"
k1=$STATUS
req k2 PUT "$SESS/after-crash?$API" "${AUTH[@]}" --data-binary '{"maxLeaseTimeMinutes":5,"size":"Premium"}'
k2=$STATUS
rr_kill "$PID"
start serve-b "$DATA" --rate-per-second 0 --host-path "$RR_TMP/fake-host"
rr_result $? "openrrd restarts on the data directory after kill -9" "$RR_TMP/serve-b.err"
CONVS="$URL/accounts/$ACC/conversions"
SESS="$URL/accounts/$ACC/sessions"
token sts-b "$ACC" "$KEY"
ADMIN=$TOKEN
AUTH=(-H "Authorization: Bearer $ADMIN" -H 'Content-Type: application/json')
req k3 GET "$CONVS/after-crash?$API" "${AUTH[@]}"
k3=$STATUS
req k4 GET "$SESS/after-crash?$API" "${AUTH[@]}"
[ "$k1" = 201 ] && [ "$k2" = 201 ] && [ "$k3" = 200 ] && [ "$STATUS" = 200 ] &&
    [ "$(jget k4 'j["size"]')" = Premium ]
rr_result $? "the conversion and session created right before kill -9 are there" "$RR_TMP/k4.body"
req k5 GET "$CONVS?$API" "${AUTH[@]}"
[ "$(jget k5 'len(j["conversions"])')" = 100 ] && [ -n "$(jget k5 'j["@nextLink"]')" ]
rr_result $? "the earlier conversions are there too"
req k6 POST "$SESS/after-crash/:stop?$API" "${AUTH[@]}"
stop_serve serve-b

# ---- rate limit ----------------------------------------------------------------------------

DATA_R=$RR_TMP/data-rate
"$OPENRRD" account create --data "$DATA_R" --json >"$RR_TMP/accr.json"
ACC_R=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["accountId"])' "$RR_TMP/accr.json")
KEY_R=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["primaryKey"])' "$RR_TMP/accr.json")
# The limit comes from three layers: the file says 1000/1000, the environment the burst (2),
# the flag the rate (2): each overrides the one before.
printf '; openrrd test\n[service]\nrate_per_second = 1000\nrate_burst = 1000\n' >"$RR_TMP/rate.ini"
if OPENRRD_RATE_BURST=2 start serve-r "$DATA_R" --config "$RR_TMP/rate.ini" --rate-per-second 2 \
    --host-path "$RR_TMP/fake-host"; then
    token r0 "$ACC_R" "$KEY_R"
    limited=""
    for i in 1 2 3 4 5; do
        req "r$i" GET "$URL/accounts/$ACC_R/sessions?$API" -H "Authorization: Bearer $TOKEN"
        if [ "$STATUS" = 429 ]; then
            limited=r$i
            break
        fi
    done
    [ -n "$limited" ] && [ "$(header "$limited" Retry-After)" -ge 1 ] &&
        [ "$(jget "$limited" 'j["error"]["code"]')" = TooManyRequests ]
    rr_result $? "over 2/s with a burst of 2 (file, then environment, then flag) → 429 TooManyRequests with Retry-After" \
        "$RR_TMP/${limited:-r5}.head"
    sleep 1.1
    req r9 GET "$URL/accounts/$ACC_R/sessions?$API" -H "Authorization: Bearer $TOKEN"
    [ "$STATUS" = 200 ]
    rr_result $? "after Retry-After the account is served again"
    stop_serve serve-r
else
    rr_not_ok "openrrd with a rate limit starts" "$RR_TMP/serve-r.err"
fi

# ---- HTTPS ---------------------------------------------------------------------------------

DATA_T=$RR_TMP/data-tls
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=127.0.0.1 \
    -addext subjectAltName=IP:127.0.0.1 -keyout "$RR_TMP/tls-key.pem" -out "$RR_TMP/tls-cert.pem" \
    >"$RR_TMP/openssl.log" 2>&1
if start serve-t "$DATA_T" --tls-cert "$RR_TMP/tls-cert.pem" --tls-key="$RR_TMP/tls-key.pem" \
    --host-path "$RR_TMP/fake-host" --log-json; then
    case $URL in https://*) https=0 ;; *) https=1 ;; esac
    req t1 GET "$URL/healthz" --cacert "$RR_TMP/tls-cert.pem"
    [ "$https" = 0 ] && [ "$STATUS" = 200 ]
    rr_result $? "HTTPS: the ready line says https and curl --cacert verifies the server" "$RR_TMP/t1.curl"
    curl -sS --max-time 10 -o /dev/null "$URL/healthz" 2>/dev/null
    rr_result $(($? == 0)) "HTTPS: without the certificate as trust anchor curl refuses"
    curl -sS --max-time 10 -o /dev/null "http://${URL#https://}/healthz" 2>/dev/null
    rr_result $(($? == 0)) "HTTPS: plain HTTP on the TLS port gets no answer"
    stop_serve serve-t
    python3 - "$RR_TMP/serve-t.err" <<'EOF'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
req = [l for l in lines if l.get("event") == "request"]
assert req and req[0]["status"] == 200 and req[0]["path"] == "/healthz", req
assert all({"time", "level", "event"} <= set(l) for l in lines)
EOF
    rr_result $? "--log-json: the log lines are JSON objects with time, level, event" "$RR_TMP/serve-t.err"
else
    rr_not_ok "openrrd serves HTTPS" "$RR_TMP/serve-t.err" "$RR_TMP/openssl.log"
fi

# ---- disk full -----------------------------------------------------------------------------

FULL=$RR_TMP/full
mkdir -p "$FULL"
if [ "$(id -u)" != 0 ]; then
    rr_skip "disk full: mounting a tmpfs needs root"
elif ! mount -t tmpfs -o size=6m tmpfs "$FULL" 2>"$RR_TMP/mount.err"; then
    rr_skip "disk full: cannot mount a tmpfs ($(head -n 1 "$RR_TMP/mount.err"))"
else
    # The tmpfs goes away even when the script stops early.
    trap 'umount -l "$FULL" 2>/dev/null; kill_hosts; rr_cleanup' EXIT
    DATA_F=$FULL/data
    "$OPENRRD" account create --data "$DATA_F" --json >"$RR_TMP/accf.json"
    ACC_F=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["accountId"])' "$RR_TMP/accf.json")
    KEY_F=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["primaryKey"])' "$RR_TMP/accf.json")
    mkdir -p "$DATA_F/storage/in" "$DATA_F/storage/out"
    if start serve-f "$DATA_F" --rate-per-second 0 --max-queued-conversions 100000 \
        --convert-path /bin/false --host-path "$RR_TMP/fake-host"; then
        token f0 "$ACC_F" "$KEY_F"
        FAUTH=(-H "Authorization: Bearer $TOKEN")
        sas=$(python3 -c 'print("s=" + "x"*7000)')
        body="{\"settings\":{\"inputLocation\":{\"storageContainerUri\":\"file://$DATA_F/storage/in\",\"relativeInputAssetPath\":\"a.gltf\",\"storageContainerReadListSas\":\"$sas\"},\"outputLocation\":{\"storageContainerUri\":\"file://$DATA_F/storage/out\"}}}"
        req f0 PUT "$URL/accounts/$ACC_F/conversions/before-full?$API" "${FAUTH[@]}" --data-binary "$body"
        # Fill the file system, then create until the database cannot grow.
        dd if=/dev/zero of="$FULL/filler" bs=64k >/dev/null 2>&1
        full=""
        for i in $(seq 1 400); do
            req f1 PUT "$URL/accounts/$ACC_F/conversions/fill-$i?$API" "${FAUTH[@]}" --data-binary "$body"
            if [ "$STATUS" = 500 ]; then
                full=$i
                break
            fi
        done
        [ -n "$full" ] && [ "$(jget f1 'j["error"]["code"]')" = InternalError ] &&
            grep -q "storage is full" "$RR_TMP/f1.body"
        rr_result $? "a create on a full disk → 500 InternalError 'the server's storage is full' (after ${full:-no} creates)" \
            "$RR_TMP/f1.body" "$RR_TMP/serve-f.err"
        req f2 GET "$URL/accounts/$ACC_F/conversions/before-full?$API" "${FAUTH[@]}"
        [ "$STATUS" = 200 ]
        rr_result $? "reads still work while the disk is full"
        rm -f "$FULL/filler"
        check=$(sqlite3 "$DATA_F/openrr.db" 'PRAGMA integrity_check;' 2>&1)
        [ "$check" = ok ]
        rr_result $? "after freeing space the database passes PRAGMA integrity_check ($check)"
        req f3 PUT "$URL/accounts/$ACC_F/conversions/after-full?$API" "${FAUTH[@]}" --data-binary "$body"
        [ "$STATUS" = 201 ]
        rr_result $? "after freeing space creates succeed again" "$RR_TMP/f3.body"
        if [ -n "$full" ]; then
            req f4 GET "$URL/accounts/$ACC_F/conversions/fill-$full?$API" "${FAUTH[@]}"
            [ "$STATUS" = 404 ]
            rr_result $? "the create that failed on the full disk left nothing behind"
        fi
        stop_serve serve-f
    else
        rr_not_ok "openrrd starts on the tmpfs" "$RR_TMP/serve-f.err"
    fi
    umount -l "$FULL" 2>/dev/null
    trap 'kill_hosts; rr_cleanup' EXIT
fi

[ "$CV_MISSING" = 0 ]
rr_result $? "MS-CV on every one of $REQS responses"
! grep -lE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$RR_TMP"/*.err >"$RR_TMP/sanitizer.txt" 2>/dev/null
rr_result $? "no sanitizer report in any openrrd log ($(tr '\n' ' ' <"$RR_TMP/sanitizer.txt"))"
rr_finish
