#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# openrrd survives `kill -9` with real children (docs/openrrd.md, "restart safety"):
# - during a conversion: openrr-convert is running; openrrd is killed; on restart the
#   conversion is requeued (the orphaned child is killed first), runs again and Succeeds, and
#   no second converter runs alongside;
# - during session start: the host is launching; openrrd is killed and restarted on the same
#   port; the host registers (it retries) and the session becomes Ready;
# - with a Ready session: openrrd is killed and restarted; the host is adopted (still Ready);
#   the host then crashes (kill -9) → Error ("gone": an adopted host's status is unknown);
# - a host this openrrd launched crashes → Error with a message naming the signal;
# - a stopped session's host is gone.
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"
rr_init

tools=$(dirname "$RR_TOOL")
OPENRRD=${RR_OPENRRD:-$(cd "$tools/.." && pwd)/frontend/openrrd}
HOST=$tools/host/openrr-host
CONVERT=$tools/openrr-convert
if [ ! -x "$OPENRRD" ] || [ ! -x "$HOST" ] || [ ! -x "$CONVERT" ]; then
    rr_skip "openrrd, openrr-host or openrr-convert is not built"
    rr_finish
fi
export no_proxy='*' NO_PROXY='*'
API=api-version=2021-01-01
DATA=$RR_TMP/data
PORT=$(rr_free_port)
URL=http://127.0.0.1:$PORT

# serve NAME: openrrd on the fixed port (hosts register to it across restarts). Sets PID.
serve() {
    rr_bg "$1" "$OPENRRD" serve --data "$DATA" --listen "127.0.0.1:$PORT" --rate-per-second 0 \
        --host-path "$HOST" --host-args "--eye-size 320x180" --session-start-timeout 60 \
        --conversion-memory 18446744073709551615
    PID=$RR_LAST_PID
    rr_wait_log "$RR_TMP/$1.out" '^ready: listening on http' 20
}
# jcurl NAME METHOD PATH [curl args]: STATUS and $RR_TMP/NAME.json.
jcurl() {
    local name=$1 method=$2 path=$3
    shift 3
    STATUS=$(curl -sS --max-time 20 -o "$RR_TMP/$name.json" -w '%{http_code}' -X "$method" \
        -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' "$@" \
        "$URL/accounts/$ACC/$path?$API" 2>"$RR_TMP/$name.curl")
}
jget() { python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' \
    "$RR_TMP/$1.json" "$2" 2>/dev/null; }
new_token() {
    TOKEN=$(curl -sS --max-time 20 -H "Authorization: Bearer $ACC:$KEY" \
        "$URL/Accounts/$ACC/token" | python3 -c 'import json,sys; print(json.load(sys.stdin)["AccessToken"])')
}
# wait_status NAME PATH WANT SECONDS: poll until .status is WANT.
wait_status() {
    local deadline=$(($(rr_now_ms) + $4 * 1000))
    while [ "$(rr_now_ms)" -lt "$deadline" ]; do
        jcurl "$1" GET "$2"
        [ "$(jget "$1" 'j["status"]')" = "$3" ] && return 0
        sleep 0.2
    done
    return 1
}
# convert_pids: openrr-convert processes whose command line names our data directory.
convert_pids() { pgrep -f -- "$CONVERT .*$DATA"; }
convert_children() { convert_pids | wc -l; }
cleanup_all() {
    pkill -KILL -f -- "$HOST .*$DATA" 2>/dev/null
    pkill -KILL -f -- "$CONVERT .*$DATA" 2>/dev/null
    rr_cleanup
}
trap cleanup_all EXIT

mkdir -p "$DATA"
"$OPENRRD" account create --json --data "$DATA" >"$RR_TMP/account.json" 2>"$RR_TMP/account.err"
ACC=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["accountId"])' "$RR_TMP/account.json")
KEY=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["primaryKey"])' "$RR_TMP/account.json")
[ -n "$ACC" ] && [ -n "$KEY" ]
rr_result $? "an account" "$RR_TMP/account.err"

# A model big enough that converting it takes a few seconds.
mkdir -p "$DATA/storage/in" "$DATA/storage/out"
python3 "$here/../data-gen/make-gltf.py" -q "$DATA/storage/in/big.glb" 3000000 --shape sphere
rr_result $? "a 3-million-triangle input"

serve s1
rr_result $? "openrrd starts" "$RR_TMP/s1.err"
new_token

# ---- kill -9 during a conversion ------------------------------------------------------------
body=$(printf '{"settings":{"inputLocation":{"storageContainerUri":"file://%s/storage/in","relativeInputAssetPath":"big.glb"},"outputLocation":{"storageContainerUri":"file://%s/storage/out"}}}' "$DATA" "$DATA")
jcurl c1 PUT conversions/big --data-binary "$body"
[ "$STATUS" = 201 ]
rr_result $? "the conversion is created ($STATUS)" "$RR_TMP/c1.json"
wait_status c2 conversions/big Running 60
rr_result $? "it runs" "$RR_TMP/c2.json" "$RR_TMP/s1.err"
sleep 1
before=$(convert_children)
old_pids=$(convert_pids | tr '\n' ' ')
kill -KILL "$PID"
rr_wait_pid "$PID" 5
serve s2
rr_result $? "openrrd restarts after kill -9 during the conversion (converters before: $before)" \
    "$RR_TMP/s2.err"
new_token
max_children=0
deadline=$(($(rr_now_ms) + 240000))
status=""
while [ "$(rr_now_ms)" -lt "$deadline" ]; do
    # The killed child may take a moment to be torn down (a sanitizer build's large address
    # space): count the converters of this run only, and check the old one goes below.
    n=$(convert_pids | grep -cvwF -e "${old_pids:-none}" || true)
    [ "$n" -gt "$max_children" ] && max_children=$n
    jcurl c3 GET conversions/big
    status=$(jget c3 'j["status"]')
    case "$status" in Succeeded | Failed | Cancelled) break ;; esac
    sleep 0.2
done
[ "$status" = Succeeded ] && [ -f "$DATA/storage/out/big.rrasset" ]
rr_result $? "the requeued conversion Succeeds and its asset is there (status $status)" \
    "$RR_TMP/c3.json" "$RR_TMP/s2.err"
[ "$max_children" -le 1 ]
rr_result $? "never two converters at once after the restart (saw $max_children)" "$RR_TMP/s2.err"
gone=0
for p in $old_pids; do
    kill -0 "$p" 2>/dev/null && [ "$(cut -d' ' -f3 "/proc/$p/stat" 2>/dev/null)" != Z ] && gone=1
done
rr_result $gone "the converter of the killed openrrd is gone (pids: ${old_pids:-none})" "$RR_TMP/s2.err"
"$CONVERT" --inspect "$DATA/storage/out/big.rrasset" >"$RR_TMP/inspect.log" 2>&1
rr_result $? "the asset verifies" "$RR_TMP/inspect.log"

# ---- kill -9 during session start -----------------------------------------------------------
jcurl p1 PUT sessions/s1 --data-binary '{"maxLeaseTimeMinutes":10,"size":"Standard"}'
[ "$STATUS" = 201 ]
rr_result $? "a session is created ($STATUS)" "$RR_TMP/p1.json"
# Kill as soon as the host process exists (it has not registered yet or only just).
deadline=$(($(rr_now_ms) + 20000))
until pgrep -f -- "$HOST .*$DATA" >/dev/null || [ "$(rr_now_ms)" -ge "$deadline" ]; do
    sleep 0.01
done
kill -KILL "$PID"
rr_wait_pid "$PID" 5
host_pid=$(pgrep -f -- "$HOST .*$DATA" | head -n 1)
[ -n "$host_pid" ]
rr_result $? "the host was launching when openrrd was killed" "$RR_TMP/s2.err"
serve s3
rr_result $? "openrrd restarts during session start" "$RR_TMP/s3.err"
new_token
wait_status p2 sessions/s1 Ready 60
rr_result $? "the session becomes Ready after the restart" "$RR_TMP/p2.json" "$RR_TMP/s3.err"
[ "$(pgrep -f -- "$HOST .*$DATA" | wc -l)" = 1 ]
rr_result $? "one host, not two" "$RR_TMP/s3.err"

# ---- kill -9 with a Ready session, then the host crashes ------------------------------------
kill -KILL "$PID"
rr_wait_pid "$PID" 5
serve s4
rr_result $? "openrrd restarts with a Ready session" "$RR_TMP/s4.err"
new_token
sleep 1
jcurl p3 GET sessions/s1
[ "$(jget p3 'j["status"]')" = Ready ] && [ "$(jget p3 'j["handshakePort"]')" -gt 0 ]
rr_result $? "the running host is adopted: still Ready" "$RR_TMP/p3.json" "$RR_TMP/s4.err"
host_pid=$(pgrep -f -- "$HOST .*$DATA" | head -n 1)
kill -KILL "$host_pid"
wait_status p4 sessions/s1 Error 15
rr_result $? "the host crashes → Error" "$RR_TMP/p4.json" "$RR_TMP/s4.err"
[ "$(jget p4 'j["error"]["code"]')" = HostExited ] && jget p4 'j["error"]["message"]' | grep -q "gone"
rr_result $? "an adopted host (not openrrd's child: no exit status) is reported gone" "$RR_TMP/p4.json"

# ---- a host openrrd launched itself crashes: the message names the signal --------------------
jcurl r1 PUT sessions/s3 --data-binary '{"maxLeaseTimeMinutes":10,"size":"Standard"}'
wait_status r2 sessions/s3 Ready 60
rr_result $? "a session launched by this openrrd is Ready" "$RR_TMP/r2.json" "$RR_TMP/s4.err"
kill -KILL "$(pgrep -f -- "$HOST .*$DATA" | head -n 1)"
wait_status r3 sessions/s3 Error 15
jget r3 'j["error"]["message"]' | grep -q "SIGKILL"
rr_result $? "its crash → Error naming SIGKILL ($(jget r3 'j["error"]'))" "$RR_TMP/r3.json"

# ---- stop ------------------------------------------------------------------------------------
jcurl q1 PUT sessions/s2 --data-binary '{"maxLeaseTimeMinutes":10,"size":"Standard"}'
wait_status q2 sessions/s2 Ready 60
rr_result $? "a second session is Ready" "$RR_TMP/q2.json" "$RR_TMP/s4.err"
jcurl q3 POST sessions/s2/:stop
wait_status q4 sessions/s2 Stopped 10
deadline=$(($(rr_now_ms) + 15000))
while pgrep -f -- "$HOST .*$DATA" >/dev/null && [ "$(rr_now_ms)" -lt "$deadline" ]; do
    sleep 0.1
done
! pgrep -f -- "$HOST .*$DATA" >/dev/null
rr_result $? "stop: Stopped and the host is gone" "$RR_TMP/q4.json" "$RR_TMP/s4.err"

kill -TERM "$PID"
rr_wait_pid "$PID" 20
rr_result $((RR_RC != 0)) "openrrd exits 0 on SIGTERM (got $RR_RC)" "$RR_TMP/s4.err"
rr_finish
