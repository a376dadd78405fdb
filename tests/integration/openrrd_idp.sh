#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# openrrd's token service with an identity provider (docs/openrrd.md "Identity-provider
# tokens"): the real daemon with --idp-jwks/--idp-issuer/--idp-audience and an IdP key set made
# here with python3-cryptography (an ES256 and an RS256 key).
# - good IdP tokens → 200: Client → an access token with roles ["Client"] (sessions 200,
#   conversions 403), Administrator (or both roles) → ["Administrator"] (conversions 200); the
#   RS256 key works too;
# - refused with 401 and WWW-Authenticate error="invalid_token": wrong issuer, wrong audience,
#   expired, another account's aid, no aid, no OpenRR role, a stranger's key under the IdP's
#   kid, an unknown kid, alg none, HS256, openrrd's own access token, a JWT for an account that
#   does not exist, garbage without ':';
# - openrrd without an identity provider: a JWT credential → 401 "not configured"; keys work;
# - --idp-account-claim: the account comes from that claim (aid alone is refused); the rate
#   limit is taken after verification (refused tokens do not spend it; good ones do → 429);
# - start-up: a garbage or missing --idp-jwks → exit 1 naming the file; --idp-jwks without
#   --idp-issuer/--idp-audience (or those without it) → exit 64; the STS's own issuer → exit 1;
# - no IdP token (nor access token) in any log.
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
if ! command -v curl >/dev/null; then
    rr_skip "curl is not installed"
    rr_finish
fi
if ! python3 -c 'import cryptography' 2>/dev/null; then
    rr_skip "python3-cryptography is not installed (IdP tokens are made with it)"
    rr_finish
fi
export no_proxy='*' NO_PROXY='*'
API=api-version=2021-01-01
ISS=https://idp.example.test/tenant-1
AUD=https://sts.openrr.localhost

# ---- helpers -----------------------------------------------------------------------------

# req NAME METHOD URL [curl args...]: STATUS, $RR_TMP/NAME.body, $RR_TMP/NAME.head.
req() {
    local name=$1 method=$2 url=$3
    shift 3
    STATUS=$(curl -sS --max-time 20 -o "$RR_TMP/$name.body" -D "$RR_TMP/$name.head" \
        -w '%{http_code}' -X "$method" "$@" "$url" 2>"$RR_TMP/$name.curl")
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
# claims TOKEN EXPR: python expression over c (the token's payload); prints the result.
claims() {
    python3 -c 'import base64,json,sys
p=sys.argv[1].split(".")[1]
c=json.loads(base64.urlsafe_b64decode(p+"="*(-len(p)%4)))
v=eval(sys.argv[2])
print(v if not isinstance(v,(dict,list)) else json.dumps(v))' "$1" "$2" 2>/dev/null
}
# start NAME ARGS...: openrrd serve on $DATA in the background; URL and PID once ready.
start() {
    local name=$1
    shift
    rr_bg "$name" "$OPENRRD" serve --data "$DATA" --listen 127.0.0.1:0 "$@"
    PID=$RR_LAST_PID
    URL=""
    if rr_wait_log "$RR_TMP/$name.out" '^ready: listening on http://127\.0\.0\.1:[0-9]+$' 20; then
        URL=$(sed -n 's/^ready: listening on //p' "$RR_TMP/$name.out")
    fi
    [ -n "$URL" ]
}
# stop_serve NAME: SIGTERM openrrd; a check that it ends with 0.
stop_serve() {
    kill -TERM "$PID"
    rr_wait_pid "$PID" 20
    rr_result $((RR_RC != 0)) "$1: SIGTERM → exit 0" "$RR_TMP/$1.err"
}
# exchange NAME TOKEN [ACCOUNT]: the STS call with an IdP token (default account ACC).
exchange() {
    req "$1" GET "$URL/Accounts/${3:-$ACC}/token?api-version=2019-02-28-preview" \
        -H "Authorization: Bearer $2"
    TOKEN=$(jget "$1" 'j["AccessToken"]')
}
# refused NAME TOKEN WHY DESC [ACCOUNT]: the exchange → 401 invalid_token, error_description
# containing WHY.
refused() {
    local name=$1 tok=$2 why=$3 desc=$4
    exchange "$name" "$tok" "${5:-}"
    [ "$STATUS" = 401 ] &&
        header "$name" WWW-Authenticate | grep -q "error=\"invalid_token\", error_description=\"$why" &&
        [ "$(jget "$name" 'j["error"]["code"]')" = Unauthorized ]
    rr_result $? "$desc → 401 invalid_token ($why)" "$RR_TMP/$name.head" "$RR_TMP/$name.body"
}
# tok NAME: the IdP token NAME made by the python below.
tok() {
    cat "$RR_TMP/idp/$1.jwt"
}

# ---- accounts, the IdP's keys and tokens ---------------------------------------------------

DATA=$RR_TMP/data
"$OPENRRD" account create --data "$DATA" --json >"$RR_TMP/acc.json" 2>"$RR_TMP/acc.err"
rc=$?
"$OPENRRD" account create --data "$DATA" --json >"$RR_TMP/acc2.json" 2>>"$RR_TMP/acc.err"
ACC=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["accountId"])' "$RR_TMP/acc.json" 2>/dev/null)
KEY=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["primaryKey"])' "$RR_TMP/acc.json" 2>/dev/null)
ACC2=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["accountId"])' "$RR_TMP/acc2.json" 2>/dev/null)
[ "$rc" -eq 0 ] && [ -n "$ACC" ] && [ -n "$ACC2" ]
rr_result $? "two accounts made" "$RR_TMP/acc.err"
NOBODY=00000000-1111-4222-8333-444444444444

mkdir -p "$RR_TMP/idp"
rr_python "$RR_TMP/idp" "$ISS" "$AUD" "$ACC" "$ACC2" "$NOBODY" <<'PY'
import base64, hashlib, hmac, json, time
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
out, iss, aud, acc, acc2, nobody = sys.argv[1:7]
def b64(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()
def part(obj):
    return b64(json.dumps(obj).encode())
ec_key = ec.generate_private_key(ec.SECP256R1())
rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
stranger = ec.generate_private_key(ec.SECP256R1())
n = ec_key.public_key().public_numbers()
rn = rsa_key.public_key().public_numbers()
jwks = {"keys": [
    {"kty": "EC", "crv": "P-256", "kid": "idp-ec", "use": "sig", "alg": "ES256",
     "x": b64(n.x.to_bytes(32, "big")), "y": b64(n.y.to_bytes(32, "big"))},
    {"kty": "RSA", "kid": "idp-rsa", "use": "sig", "alg": "RS256",
     "n": b64(rn.n.to_bytes(256, "big")), "e": b64(rn.e.to_bytes(3, "big"))},
]}
open(out + "/jwks.json", "w").write(json.dumps(jwks))
now = int(time.time())
def sign(claims, key=ec_key, kid="idp-ec", alg="ES256"):
    head = part({"alg": alg, "typ": "JWT", "kid": kid})
    body = part(claims)
    msg = (head + "." + body).encode()
    if alg == "ES256":
        r, s = decode_dss_signature(key.sign(msg, ec.ECDSA(hashes.SHA256())))
        sig = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    elif alg == "RS256":
        sig = key.sign(msg, padding.PKCS1v15(), hashes.SHA256())
    elif alg == "HS256":
        sig = hmac.new(key, msg, hashlib.sha256).digest()
    else:
        sig = b""
    return head + "." + body + "." + b64(sig)
def claims(**over):
    c = {"iss": iss, "aud": aud, "aid": acc, "sub": "user-1", "roles": ["Client"],
         "iat": now, "nbf": now, "exp": now + 600, "jti": "idp-jti-1"}
    for k, v in over.items():
        if v is None:
            c.pop(k, None)
        else:
            c[k] = v
    return c
tokens = {
    "client": sign(claims()),
    "admin": sign(claims(roles=["Administrator"])),
    "both": sign(claims(roles=["Client", "Administrator", "Reader"])),
    "rsa": sign(claims(roles=["Administrator"]), rsa_key, "idp-rsa", "RS256"),
    "many-aud": sign(claims(aud=["api://other", aud])),
    "wrong-iss": sign(claims(iss="https://idp.example.test/tenant-2")),
    "wrong-aud": sign(claims(aud="https://remoterendering.openrr.localhost")),
    "expired": sign(claims(iat=now - 7200, nbf=now - 7200, exp=now - 3600)),
    "not-yet": sign(claims(nbf=now + 3600, exp=now + 7200)),
    "other-acc": sign(claims(aid=acc2)),
    "no-aid": sign(claims(aid=None)),
    "no-roles": sign(claims(roles=None)),
    "other-roles": sign(claims(roles=["Reader", "Owner"])),
    "stranger": sign(claims(), stranger),
    "unknown-kid": sign(claims(), stranger, "idp-other"),
    "alg-none": sign(claims(), alg="none"),
    "hs256": sign(claims(), json.dumps(jwks).encode(), "idp-ec", "HS256"),
    "nobody": sign(claims(aid=nobody)),
    # --idp-account-claim openrr_account: the account in that claim, aid of another one.
    "claim": sign(claims(aid=acc2, openrr_account=acc)),
    "claim-num": sign(claims(aid=acc, openrr_account=12)),
}
for name, t in tokens.items():
    open(out + "/" + name + ".jwt", "w").write(t)
PY
rr_result $? "an IdP key set (ES256 and RS256) and its tokens made with python3-cryptography"

# ---- openrrd with the identity provider ------------------------------------------------------

start serve --idp-jwks "$RR_TMP/idp/jwks.json" --idp-issuer "$ISS" --idp-audience "$AUD"
rr_result $? "serve with --idp-jwks, --idp-issuer, --idp-audience is ready" "$RR_TMP/serve.err"
if [ -z "$URL" ]; then
    rr_finish
fi
grep -q "idp_issuer=$ISS" "$RR_TMP/serve.err"
rr_result $? "the start line names the identity provider's issuer" "$RR_TMP/serve.err"
CONVS="$URL/accounts/$ACC/conversions?$API"
SESS="$URL/accounts/$ACC/sessions?$API"

exchange i1 "$(tok client)"
[ "$STATUS" = 200 ] && [ "$(claims "$TOKEN" 'c["roles"]')" = '["Client"]' ] &&
    [ "$(claims "$TOKEN" 'c["aid"]')" = "$ACC" ] &&
    [ "$(claims "$TOKEN" 'c["iss"]')" = https://sts.openrr.localhost ] &&
    [ "$(claims "$TOKEN" 'c["aud"]')" = https://remoterendering.openrr.localhost ]
rr_result $? "a Client IdP token → 200, an access token of this STS for the account, roles [\"Client\"]" \
    "$RR_TMP/i1.body" "$RR_TMP/serve.err"
CLIENT=$TOKEN
req r1 GET "$SESS" -H "Authorization: Bearer $CLIENT"
[ "$STATUS" = 200 ]
rr_result $? "its access token lists sessions (200)" "$RR_TMP/r1.body"
req r2 GET "$CONVS" -H "Authorization: Bearer $CLIENT"
[ "$STATUS" = 403 ] && [ "$(jget r2 'j["error"]["code"]')" = Forbidden ]
rr_result $? "its access token on conversions → 403 Forbidden" "$RR_TMP/r2.body"

exchange i2 "$(tok admin)"
[ "$STATUS" = 200 ] && [ "$(claims "$TOKEN" 'c["roles"]')" = '["Administrator"]' ]
rr_result $? "an Administrator IdP token → roles [\"Administrator\"]" "$RR_TMP/i2.body"
ADMIN=$TOKEN
req r3 GET "$CONVS" -H "Authorization: Bearer $ADMIN"
[ "$STATUS" = 200 ]
rr_result $? "its access token lists conversions (200)" "$RR_TMP/r3.body"
exchange i3 "$(tok both)"
[ "$STATUS" = 200 ] && [ "$(claims "$TOKEN" 'c["roles"]')" = '["Administrator"]' ]
rr_result $? "Client and Administrator (and an unknown role) → Administrator wins" "$RR_TMP/i3.body"
exchange i4 "$(tok rsa)"
[ "$STATUS" = 200 ] && [ "$(claims "$TOKEN" 'c["roles"]')" = '["Administrator"]' ]
rr_result $? "an RS256 IdP token (the set's RSA key) → 200" "$RR_TMP/i4.body"
exchange i5 "$(tok many-aud)"
[ "$STATUS" = 200 ]
rr_result $? "an audience list holding idp_audience → 200" "$RR_TMP/i5.body"
req i6 GET "$URL/accounts/$ACC/token" -H "Authorization: Bearer   $(tok client)" \
    -H 'X-MRC-CV: idpCv.1'
[ "$STATUS" = 200 ] && [ "$(header i6 MS-CV)" = idpCv.1 ]
rr_result $? "lower-case path, spaces after Bearer, X-MRC-CV echoed" "$RR_TMP/i6.head"
req i7 GET "$URL/Accounts/$ACC/token" -H "Authorization: Bearer $ACC:$KEY"
[ "$STATUS" = 200 ]
rr_result $? "account keys still work beside the identity provider" "$RR_TMP/i7.body"
KEYTOKEN=$(jget i7 'j["AccessToken"]')

refused f1 "$(tok wrong-iss)" "the token is not from the configured identity provider" "another issuer"
refused f2 "$(tok wrong-aud)" "the token is not meant for this token service" \
    "another audience (openrrd's own REST audience)"
refused f3 "$(tok expired)" "the token expired" "an expired IdP token"
refused f4 "$(tok not-yet)" "the token is not valid yet" "an IdP token not valid yet"
refused f5 "$(tok other-acc)" "the token is for another account" "another account's aid"
refused f6 "$(tok no-aid)" "the token is for another account" "no aid claim"
refused f8 "$(tok no-roles)" "the token carries no OpenRR role" "no roles claim"
refused f9 "$(tok other-roles)" "the token carries no OpenRR role" "roles without Administrator or Client"
refused f10 "$(tok stranger)" "the token signature does not verify" "a stranger's key under the IdP's kid"
refused f11 "$(tok unknown-kid)" "the token is signed by a key the identity provider does not publish" \
    "an unknown kid"
refused f12 "$(tok alg-none)" "the token algorithm is not allowed" "alg none"
refused f13 "$(tok hs256)" "the token algorithm is not allowed" "HS256 keyed with the public key set"
refused f14 "$KEYTOKEN" "the token is signed by a key the identity provider does not publish" \
    "openrrd's own access token (no renewal through the IdP path)"
refused f15 "$(tok nobody)" "unknown account" "a good IdP token for an account that does not exist" "$NOBODY"
refused f16 "not-a-jwt" "the token is malformed" "garbage without ':'"
refused f17 "$(tok client)x" "the token" "a changed signature"
bad=$(tok client)
refused f18 "${bad%.*}" "the token is malformed" "a token without its signature part"

# The token refused as another account's (f5) is good at its own account's path.
exchange f7 "$(tok other-acc)" "$ACC2"
[ "$STATUS" = 200 ] && [ "$(claims "$TOKEN" 'c["aid"]')" = "$ACC2" ]
rr_result $? "the other account's token at its own account's path → 200 for that account" \
    "$RR_TMP/f7.body"

stop_serve serve
grep -q 'status=200 note="idp jti=idp-jti-1"' "$RR_TMP/serve.err" &&
    grep -q "status=401 code=Unauthorized note=\"idp: issuer is not '$ISS' jti=idp-jti-1\"" "$RR_TMP/serve.err"
rr_result $? "the log notes an exchange by its IdP jti, and a refusal with its reason" "$RR_TMP/serve.err"

# ---- without an identity provider -----------------------------------------------------------

start plain
rr_result $? "serve without an identity provider is ready" "$RR_TMP/plain.err"
refused n1 "$(tok client)" "identity-provider tokens are not configured on this server" \
    "without IdP configuration: a JWT credential"
grep -q "not configured on this server" "$RR_TMP/n1.body"
rr_result $? "… and the error message says so" "$RR_TMP/n1.body"
refused n2 "not-a-jwt" "malformed credential" "without IdP configuration: other text without ':'"
req n3 GET "$URL/Accounts/$ACC/token" -H "Authorization: Bearer $ACC:$KEY"
[ "$STATUS" = 200 ]
rr_result $? "without IdP configuration: keys work" "$RR_TMP/n3.body"
stop_serve plain

# ---- another account claim; the rate limit -------------------------------------------------

start claim --idp-jwks "$RR_TMP/idp/jwks.json" --idp-issuer "$ISS" --idp-audience "$AUD" \
    --idp-account-claim openrr_account --rate-per-second 1 --rate-burst 2
rr_result $? "serve with --idp-account-claim openrr_account is ready" "$RR_TMP/claim.err"
for i in 1 2 3 4 5; do
    refused "c$i" "$(tok wrong-iss)" "the token is not from" "rate limit: refused token $i (no 429)"
done
refused c6 "$(tok client)" "the token is for another account" "--idp-account-claim: aid alone"
refused c7 "$(tok claim-num)" "the token is for another account" "--idp-account-claim: a number in the claim"
exchange c8 "$(tok claim)"
[ "$STATUS" = 200 ] && [ "$(claims "$TOKEN" 'c["aid"]')" = "$ACC" ]
rr_result $? "--idp-account-claim: the account of openrr_account (aid names another) → 200" \
    "$RR_TMP/c8.body"
exchange c9 "$(tok claim)"
ok9=$STATUS
# One token a second refills the bucket: a slow machine may need a few more calls.
for i in 10 11 12 13 14; do
    exchange "c$i" "$(tok claim)"
    [ "$STATUS" = 429 ] && break
done
[ "$ok9" = 200 ] && [ "$STATUS" = 429 ] && [ -n "$(header "c$i" Retry-After)" ]
rr_result $? "rate limit: good IdP tokens spend the burst (2), then → 429 with Retry-After" \
    "$RR_TMP/c$i.head"
stop_serve claim

# ---- start-up faults --------------------------------------------------------------------------

# fault NAME STATUS REGEX DESC ARGS...: openrrd serve ARGS exits STATUS, stderr matching REGEX.
fault() {
    local name=$1 want=$2 re=$3 desc=$4
    shift 4
    timeout -k 2 20 "$OPENRRD" serve --data "$DATA" --listen 127.0.0.1:0 "$@" \
        >"$RR_TMP/$name.out" 2>"$RR_TMP/$name.err"
    local got=$?
    [ "$got" = "$want" ] && grep -qE -- "$re" "$RR_TMP/$name.err" && ! grep -q ready "$RR_TMP/$name.out"
    rr_result $? "$desc → exit $want (got $got)" "$RR_TMP/$name.err"
}
printf 'this is not a key set\n' >"$RR_TMP/garbage.json"
fault s1 1 "idp_jwks '$RR_TMP/garbage.json'" "--idp-jwks of garbage" \
    --idp-jwks "$RR_TMP/garbage.json" --idp-issuer "$ISS" --idp-audience "$AUD"
fault s2 1 "idp_jwks '$RR_TMP/missing.json'" "--idp-jwks of a missing file" \
    --idp-jwks "$RR_TMP/missing.json" --idp-issuer "$ISS" --idp-audience "$AUD"
printf '{"keys":[]}' >"$RR_TMP/empty.json"
fault s3 1 "idp_jwks '$RR_TMP/empty.json'" "--idp-jwks of a set without keys" \
    --idp-jwks "$RR_TMP/empty.json" --idp-issuer "$ISS" --idp-audience "$AUD"
fault s4 64 "'idp_jwks' needs 'idp_issuer'" "--idp-jwks without --idp-issuer" \
    --idp-jwks "$RR_TMP/idp/jwks.json" --idp-audience "$AUD"
fault s5 64 "'idp_jwks' needs" "--idp-jwks without --idp-audience" \
    --idp-jwks "$RR_TMP/idp/jwks.json" --idp-issuer "$ISS"
fault s6 64 "need 'idp_jwks'" "--idp-issuer and --idp-audience without --idp-jwks" \
    --idp-issuer "$ISS" --idp-audience "$AUD"
fault s7 1 "own issuer" "--idp-issuer of the STS itself" \
    --idp-jwks "$RR_TMP/idp/jwks.json" --idp-issuer https://sts.openrr.localhost --idp-audience "$AUD"
OPENRRD_IDP_JWKS=$RR_TMP/garbage.json OPENRRD_IDP_ISSUER=$ISS OPENRRD_IDP_AUDIENCE=$AUD \
    fault s8 1 "idp_jwks" "OPENRRD_IDP_JWKS of garbage (the environment)"
"$OPENRRD" serve --help 2>&1 | grep -q -- '--idp-account-claim'
rr_result $? "serve --help lists the idp keys"

# ---- secrets ------------------------------------------------------------------------------

leaks=0
for f in "$RR_TMP"/idp/*.jwt; do
    t=$(cat "$f")
    # The signature part is the secret-looking bit; the payload alone is no credential, but
    # neither should appear.
    sig=${t##*.}
    if grep -qF -e "$t" "$RR_TMP"/*.err "$RR_TMP"/*.out ||
        { [ -n "$sig" ] && grep -qF -e "$sig" "$RR_TMP"/*.err "$RR_TMP"/*.out; }; then
        leaks=$((leaks + 1))
        rr_note "$(basename "$f") appears in a log"
    fi
done
for t in "$CLIENT" "$ADMIN" "$KEYTOKEN" "$KEY"; do
    if [ -n "$t" ] && grep -qF -e "$t" "$RR_TMP"/*.err "$RR_TMP"/*.out; then
        leaks=$((leaks + 1))
    fi
done
rr_result "$leaks" "no IdP token, access token or key in openrrd's logs"

rr_finish
