#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# openrr-player --session: the player reaches a rendering session of a real openrrd through the
# SDK (access token from the account key in the environment, the service's CA as trust
# anchor) and receives frames from the openrr-host the service launched; a Starting session is
# waited for; a wrong key, an unknown or stopped session end with exit 2 and a clear reason;
# the flag combinations are usage errors (64); the key never shows in the output.
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"
rr_init

tools=$(dirname "$RR_TOOL")
OPENRRD=$(cd "$tools/.." && pwd)/frontend/openrrd
HOST=$tools/host/openrr-host
PLAYER=$tools/player/openrr-player
if [ ! -x "$OPENRRD" ] || [ ! -x "$HOST" ] || [ ! -x "$PLAYER" ]; then
    rr_skip "openrrd, openrr-host or openrr-player is not built"
    rr_finish
fi
export no_proxy='*' NO_PROXY='*'
DATA=$RR_TMP/data
cleanup_all() {
    pkill -KILL -f -- "$HOST .*$DATA" 2>/dev/null
    rr_cleanup
}
trap cleanup_all EXIT

"$OPENRRD" account create --json --data "$DATA" >"$RR_TMP/account.json" 2>"$RR_TMP/account.err"
ACC=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["accountId"])' "$RR_TMP/account.json")
KEY=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["primaryKey"])' "$RR_TMP/account.json")
rr_bg serve "$OPENRRD" serve --data "$DATA" --listen 127.0.0.1:0 --host-path "$HOST" \
    --host-args "--eye-size 320x180"
SERVE=$RR_LAST_PID
rr_wait_log "$RR_TMP/serve.out" '^ready: listening on http' 20
rr_result $? "openrrd starts" "$RR_TMP/serve.err"
URL=$(sed -n 's/^ready: listening on //p' "$RR_TMP/serve.out")
TOKEN=$(curl -sS -H "Authorization: Bearer $ACC:$KEY" "$URL/Accounts/$ACC/token" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["AccessToken"])')
session() { # METHOD ID [BODY]
    curl -sS -o "$RR_TMP/last.json" -w '%{http_code}' -X "$1" -H "Authorization: Bearer $TOKEN" \
        -H 'Content-Type: application/json' ${3:+--data-binary "$3"} \
        "$URL/accounts/$ACC/sessions/$2?api-version=2021-01-01"
}
# play NAME ID [KEY]: the player for 10 frames; RR_RC its status.
play() {
    OPENRR_ACCOUNT_KEY=${3:-$KEY} timeout -k 2 120 "$PLAYER" --session "$2" --service "$URL" \
        --account-id "$ACC" --account-domain openrr.localhost --headless -q --frames 10 \
        >"$RR_TMP/$1.out" 2>"$RR_TMP/$1.err"
    RR_RC=$?
}

# Created and connected at once: the player waits for Ready.
[ "$(session PUT s1 '{"maxLeaseTimeMinutes":10,"size":"Standard"}')" = 201 ]
rr_result $? "a session is created" "$RR_TMP/last.json"
play p1 s1
rr_result "$RR_RC" "the player connects through the SDK and gets 10 frames (got $RR_RC)" \
    "$RR_TMP/p1.err" "$RR_TMP/serve.err"
grep -q "connected to 127.0.0.1:[0-9]* (TLSv1.3" "$RR_TMP/p1.err"
rr_result $? "over TLS 1.3, the host's certificate from openrrd's CA" "$RR_TMP/p1.err"
! grep -qF "$KEY" "$RR_TMP/p1.out" "$RR_TMP/p1.err" "$RR_TMP/serve.err"
rr_result $? "the key shows nowhere"

play p2 s1 "${KEY%?}x"
rr_result $((RR_RC != 2)) "a wrong key: exit 2 (got $RR_RC)" "$RR_TMP/p2.err"
grep -q "AuthenticationFailed" "$RR_TMP/p2.err"
rr_result $? "… saying AuthenticationFailed" "$RR_TMP/p2.err"

play p3 nope
rr_result $((RR_RC != 2)) "an unknown session: exit 2 (got $RR_RC)" "$RR_TMP/p3.err"
grep -q "SessionNotFound" "$RR_TMP/p3.err"
rr_result $? "… saying SessionNotFound" "$RR_TMP/p3.err"

session POST s1/:stop >/dev/null
play p4 s1
rr_result $((RR_RC != 2)) "a stopped session: exit 2 (got $RR_RC)" "$RR_TMP/p4.err"
grep -q "is Stopped" "$RR_TMP/p4.err"
rr_result $? "… saying it is Stopped" "$RR_TMP/p4.err"

"$PLAYER" --session s1 --headless >"$RR_TMP/u1.out" 2>"$RR_TMP/u1.err"
rr_result $(($? != 64)) "--session without --service: exit 64" "$RR_TMP/u1.err"
"$PLAYER" --service "$URL" --headless >"$RR_TMP/u2.out" 2>"$RR_TMP/u2.err"
rr_result $(($? != 64)) "--service without --session: exit 64" "$RR_TMP/u2.err"
"$PLAYER" 127.0.0.1:1 --session s1 --service "$URL" --account-id "$ACC" \
    --account-domain openrr.localhost >"$RR_TMP/u3.out" 2>"$RR_TMP/u3.err"
rr_result $(($? != 64)) "--session with an address: exit 64" "$RR_TMP/u3.err"

kill -TERM "$SERVE"
rr_wait_pid "$SERVE" 20
rr_result $((RR_RC != 0)) "openrrd exits 0 (got $RR_RC)" "$RR_TMP/serve.err"
rr_finish
