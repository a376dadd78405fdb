#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# rrctl against a real openrrd (docs/rrctl.md): help and usage errors; login (a refused key
# saves nothing; the settings file is 0600 in a 0700 directory; a 0644 one is refused with a
# chmod hint); tokens; the box converted from a local file outside the storage root (uploaded
# with its buffer and texture) and from an http URL whose query (a SAS) shows in no output or
# log; a session created, waited for, listed, renewed, inspected and stopped; certificate
# stores that openssl reads and openrr-remoting serves with; exit statuses 0/1/2/64.
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"
rr_init

tools=$(dirname "$RR_TOOL")
RRCTL=${RR_RRCTL:-$tools/rrctl/rrctl}
OPENRRD=${RR_OPENRRD:-$tools/../frontend/openrrd}
BOXDIR=/usr/share/assimp/models/glTF2/BoxTextured-glTF
if [ ! -x "$RRCTL" ] || [ ! -x "$OPENRRD" ]; then
    rr_skip "rrctl or openrrd is not built"
    rr_finish
fi
export XDG_CONFIG_HOME=$RR_TMP/xdg XDG_RUNTIME_DIR=$RR_TMP/run no_proxy='*' NO_PROXY='*'
mkdir -p "$XDG_RUNTIME_DIR"
chmod 700 "$XDG_RUNTIME_DIR"
ini=$XDG_CONFIG_HOME/openrr/rrctl.ini
data=$RR_TMP/data

# rrctl NAME ARGS...: run rrctl (bounded), stdout to NAME.out, stderr to NAME.err; RR_RC.
rrctl() {
    local name=$1
    shift
    timeout -k 2 120 "$RRCTL" "$@" >"$RR_TMP/$name.out" 2>"$RR_TMP/$name.err"
    RR_RC=$?
}

# ---- help and usage -------------------------------------------------------------------------

rrctl help --help
ok=$((RR_RC == 0))
for c in login token convert session inspect cert; do
    rrctl "help-$c" "$c" --help
    if [ "$RR_RC" -ne 0 ] || ! grep -q 'Example' "$RR_TMP/help-$c.out"; then
        ok=0
        rr_note "$c --help: status $RR_RC or no example"
    fi
done
rr_result $((ok ? 0 : 1)) "--help everywhere: status 0 and examples" "$RR_TMP/help.out"
ok=1
for args in "bogus" "session list --frobnicate" "session create --lease 0" "session show" \
    "convert" "cert create --out x.p12"; do
    # shellcheck disable=SC2086 # the words are meant to split
    rrctl usage $args
    if [ "$RR_RC" -ne 64 ] || ! grep -q "Try 'rrctl" "$RR_TMP/usage.err"; then
        ok=0
        rr_note "rrctl $args: status $RR_RC"
    fi
done
rr_result $((ok ? 0 : 1)) "usage errors exit 64 with a hint" "$RR_TMP/usage.err"

rrctl nologin token
[ "$RR_RC" -eq 2 ] && grep -q 'rrctl login' "$RR_TMP/nologin.err"
rr_result $? "not logged in: exit 2, says to run rrctl login" "$RR_TMP/nologin.err"

# ---- openrrd ----------------------------------------------------------------------------------

# No address-space limit for openrr-convert: a sanitizer build reserves terabytes of it.
rr_bg openrrd "$OPENRRD" serve --data "$data" --listen 127.0.0.1:0 \
    --host-args "--eye-size 320x180 --fps 30" --conversion-memory 18446744073709551615
OPENRRD_PID=$RR_LAST_PID
if ! rr_wait_log "$RR_TMP/openrrd.out" '^ready: listening on http' 20; then
    rr_not_ok "openrrd starts" "$RR_TMP/openrrd.err"
    rr_finish
fi
url=$(sed -n 's/^ready: listening on \(http[^ ]*\).*/\1/p' "$RR_TMP/openrrd.out")
"$OPENRRD" account create --json --data "$data" >"$RR_TMP/account.json" 2>"$RR_TMP/account.err"
read -r account key < <(python3 -c 'import json,sys; a=json.load(open(sys.argv[1]));
print(a["accountId"], a["primaryKey"])' "$RR_TMP/account.json")
[ -n "$account" ] && [ -n "$key" ]
rr_result $? "openrrd runs and makes an account" "$RR_TMP/openrrd.err" "$RR_TMP/account.err"
storage=$(cd "$data/storage" 2>/dev/null && pwd -P)
[ -n "$storage" ] || storage=$data/storage

# ---- login ------------------------------------------------------------------------------------

login_args=(login --endpoint "$url" --account-id "$account" --account-domain openrr.localhost
    --storage "$storage")
# (Here-strings, not pipes: a function in a pipeline runs in a subshell and loses RR_RC.)
rrctl badkey "${login_args[@]}" --key-stdin <<<"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
[ "$RR_RC" -eq 2 ] && [ ! -e "$ini" ] && grep -q AuthenticationFailed "$RR_TMP/badkey.err"
rr_result $? "login with a wrong key: exit 2, AuthenticationFailed, nothing saved" \
    "$RR_TMP/badkey.err"

rrctl login "${login_args[@]}" --key-stdin <<<"$key"
[ "$RR_RC" -eq 0 ] && [ "$(stat -c %a "$ini")" = 600 ] &&
    [ "$(stat -c %a "$(dirname "$ini")")" = 700 ]
rr_result $? "login: exit 0, settings 0600 in a 0700 directory" "$RR_TMP/login.err"
! grep -q -- "$key" "$RR_TMP/login.out" "$RR_TMP/login.err"
rr_result $? "login prints no key"

rrctl token token
tok=$(cat "$RR_TMP/token.out")
[ "$RR_RC" -eq 0 ] && [[ "$tok" =~ ^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$ ]]
rr_result $? "token prints a JWT" "$RR_TMP/token.err"
rrctl tokenjson --json token
python3 -c 'import json,sys; o=json.load(open(sys.argv[1])); assert o["accessToken"].count(".")==2 and o["expiresOn"].endswith("Z")' \
    "$RR_TMP/tokenjson.out" 2>/dev/null
rr_result $? "token --json: accessToken and expiresOn" "$RR_TMP/tokenjson.out"

chmod 644 "$ini"
rrctl perms token
[ "$RR_RC" -eq 1 ] && grep -q 'chmod 600' "$RR_TMP/perms.err" && [ ! -s "$RR_TMP/perms.out" ]
rr_result $? "a settings file others may read is refused with a chmod 600 hint" \
    "$RR_TMP/perms.err"
chmod 600 "$ini"

# ---- conversions -------------------------------------------------------------------------------

if [ -f "$BOXDIR/BoxTextured.gltf" ]; then
    cp -r "$BOXDIR" "$RR_TMP/box"
    rrctl conv --json convert "$RR_TMP/box/BoxTextured.gltf" --id box-1 --wait
    uri=$(python3 -c 'import json,sys; o=json.load(open(sys.argv[1]));
print(o["output"]["outputAssetUri"] if o["status"]=="Succeeded" else "")' "$RR_TMP/conv.out" 2>/dev/null)
    asset=${uri#file://}
    [ "$RR_RC" -eq 0 ] && [ -n "$uri" ] && [ -s "$asset" ] && [[ "$asset" == *.rrasset ]]
    rr_result $? "convert --json --wait: Succeeded, the asset exists" "$RR_TMP/conv.out" \
        "$RR_TMP/conv.err" "$RR_TMP/openrrd.err"
    [ -f "$storage/uploads/box-1/BoxTextured0.bin" ] &&
        [ -f "$storage/uploads/box-1/CesiumLogoFlat.png" ]
    rr_result $? "a file outside the storage root is uploaded with its buffer and texture"
    grep -q 'progress\|Succeeded' "$RR_TMP/conv.err" || grep -q 'Succeeded' "$RR_TMP/conv.out"
    rr_result $? "convert shows its progress"

    # Already below the root: converted where it lies, nothing uploaded.
    mkdir -p "$storage/in"
    cp "$BOXDIR"/* "$storage/in/"
    rrctl conv2 convert "$storage/in/BoxTextured.gltf" --id box-2 --wait
    [ "$RR_RC" -eq 0 ] && [ ! -e "$storage/uploads/box-2" ] &&
        grep -q '^file://.*\.rrasset$' "$RR_TMP/conv2.out"
    rr_result $? "a file under the storage root is not copied; the asset URI is printed" \
        "$RR_TMP/conv2.out" "$RR_TMP/conv2.err"

    # An http URL with a query: passed as the read SAS, shown nowhere.
    hport=$(rr_free_port)
    rr_bg http python3 -m http.server "$hport" --bind 127.0.0.1 --directory "$BOXDIR"
    sleep 0.5
    rrctl conv3 --json convert "http://127.0.0.1:$hport/BoxTextured.gltf?sig=sas-secret-123" \
        --id box-3 --wait
    python3 -c 'import json,sys; assert json.load(open(sys.argv[1]))["status"]=="Succeeded"' \
        "$RR_TMP/conv3.out" 2>/dev/null
    rr_result $? "convert an http URL" "$RR_TMP/conv3.out" "$RR_TMP/conv3.err" \
        "$RR_TMP/openrrd.err"
    ! grep -q 'sas-secret-123' "$RR_TMP/conv3.out" "$RR_TMP/conv3.err" "$RR_TMP/openrrd.err"
    rr_result $? "the URL's query (a SAS) is in no output or log"

    rrctl conv4 convert "$RR_TMP/missing.gltf"
    [ "$RR_RC" -eq 1 ]
    rr_result $? "a missing file: exit 1" "$RR_TMP/conv4.err"
else
    rr_skip "$BOXDIR is missing (Debian's assimp-testmodels)"
fi

# ---- sessions ----------------------------------------------------------------------------------

rrctl create --json session create --lease 10 --wait --timeout 60
sid=$(python3 -c 'import json,sys; o=json.load(open(sys.argv[1]));
print(o["id"] if o["status"]=="Ready" else "")' "$RR_TMP/create.out" 2>/dev/null)
[ "$RR_RC" -eq 0 ] && [ -n "$sid" ]
rr_result $? "session create --wait: Ready" "$RR_TMP/create.out" "$RR_TMP/create.err" \
    "$RR_TMP/openrrd.err"
if [ -n "$sid" ]; then
    rrctl list session list
    [ "$RR_RC" -eq 0 ] && grep -q "^$sid *Ready" "$RR_TMP/list.out"
    rr_result $? "session list shows it" "$RR_TMP/list.out"
    rrctl renew --json session renew "$sid" 30
    grep -q '"maxLeaseTimeMinutes":30' "$RR_TMP/renew.out"
    rr_result $? "session renew" "$RR_TMP/renew.out" "$RR_TMP/renew.err"
    rrctl shrink session renew "$sid" 5
    [ "$RR_RC" -eq 1 ] && grep -q 422 "$RR_TMP/shrink.err"
    rr_result $? "a shorter lease: exit 1 (HTTP 422)" "$RR_TMP/shrink.err"
    rrctl inspect inspect "$sid"
    page=$(cat "$RR_TMP/inspect.out")
    [ "$RR_RC" -eq 0 ] && [ "$(stat -c %a "$page")" = 600 ] && [[ "$page" == "$XDG_RUNTIME_DIR"/* ]]
    rr_result $? "inspect writes a 0600 page in \$XDG_RUNTIME_DIR" "$RR_TMP/inspect.err"
    link=$(sed -n 's/.*url=\([^"]*\)".*/\1/p' "$page" | head -n 1 | sed 's/&amp;/\&/g')
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$link")
    [ "$code" = 200 ]
    rr_result $? "the page's link opens the host's inspector (HTTP $code)"
    rrctl stop session stop "$sid"
    rrctl show --json session show "$sid"
    grep -q '"status":"Stopped"' "$RR_TMP/show.out"
    rr_result $? "session stop → Stopped" "$RR_TMP/stop.err" "$RR_TMP/show.out"
fi
rrctl nosuch session show no-such-session
[ "$RR_RC" -eq 1 ] && grep -q SessionNotFound "$RR_TMP/nosuch.err"
rr_result $? "an unknown session: exit 1, SessionNotFound" "$RR_TMP/nosuch.err"

# The service gone: exit 2.
rr_stop "$OPENRRD_PID"
rrctl gone session list
[ "$RR_RC" -eq 2 ] && grep -q NoConnection "$RR_TMP/gone.err"
rr_result $? "the service cannot be reached: exit 2" "$RR_TMP/gone.err"

# ---- certificates -----------------------------------------------------------------------------

rrctl cert cert create --name localhost,127.0.0.1 --out "$RR_TMP/srv.p12" \
    --cert-out "$RR_TMP/srv.pem" --days 30 --passphrase-stdin <<<"store-pass"
[ "$RR_RC" -eq 0 ] && [ "$(stat -c %a "$RR_TMP/srv.p12")" = 600 ] &&
    openssl pkcs12 -info -noout -in "$RR_TMP/srv.p12" -passin pass:store-pass >/dev/null 2>&1
rr_result $? "cert create: a 0600 store openssl pkcs12 -info reads" "$RR_TMP/cert.err"
openssl x509 -in "$RR_TMP/srv.pem" -noout -ext subjectAltName 2>/dev/null |
    grep -q 'DNS:localhost, IP Address:127.0.0.1'
rr_result $? "the certificate names localhost and 127.0.0.1"
rrctl cert-again cert create --name localhost --out "$RR_TMP/srv.p12"
[ "$RR_RC" -eq 1 ] && grep -q -- '--force' "$RR_TMP/cert-again.err"
rr_result $? "an existing store is not overwritten without --force" "$RR_TMP/cert-again.err"
rrctl cert-bad cert create --name 'bad name' --out "$RR_TMP/x.p12"
[ "$RR_RC" -eq 64 ]
rr_result $? "a bad --name: exit 64" "$RR_TMP/cert-bad.err"

token=cert-test-token
if rr_listen certl -listen 127.0.0.1 -ephemeralport -secureconnection -certificatestore \
    "$RR_TMP/srv.p12" -keypassphrase store-pass -authenticationtoken "$token" -echo; then
    rr_client certc -secureconnection -authenticationtoken "$token" -cafile "$RR_TMP/srv.pem" \
        -send hi "localhost:$RR_PORT"
    [ "$RR_RC" -eq 0 ] && grep -q 'echo: hi' "$RR_TMP/certc.out"
    rr_result $? "openrr-remoting serves with the store; a client trusting its PEM connects" \
        "$RR_TMP/certc.out" "$RR_TMP/certc.err" "$RR_TMP/certl.log"
else
    rr_not_ok "openrr-remoting listens with the store" "$RR_TMP/certl.log"
fi
# No passphrase: also usable.
rrctl cert-np cert create --name 127.0.0.1 --out "$RR_TMP/np.p12"
[ "$RR_RC" -eq 0 ] && openssl pkcs12 -info -noout -in "$RR_TMP/np.p12" -passin pass: >/dev/null 2>&1
rr_result $? "cert create without a passphrase" "$RR_TMP/cert-np.err"

rr_finish
