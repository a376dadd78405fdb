#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Shared helpers of the shell integration tests: check counting, background processes that are
# always killed on exit, bounded waits on logs and exits, free loopback ports, a python3 prelude.
#
# Source it, then call rr_init. Every helper that waits is bounded; every process started with
# rr_bg/rr_listen is killed (by its pid) when the script exits. Set RR_KEEP_TMP=1 to keep logs.
# shellcheck disable=SC2034 # RR_CA, RR_STORE, RR_RC, RR_MS, MODELS, GEN are read by the sourcing scripts

RR_PASSED=0
RR_FAILED=0
RR_PIDS=()
RR_TMP=""
RR_LAST_PID=""
RR_PORT=""
RR_RC=""

rr_init() {
    if [ -z "${RR_TOOL:-}" ] || [ -z "${RR_PKI_DIR:-}" ]; then
        echo "not ok - environment: RR_TOOL and RR_PKI_DIR must be set (run through ctest)"
        echo "0 passed, 1 failed"
        exit 1
    fi
    if [ ! -x "$RR_TOOL" ] || [ ! -f "$RR_PKI_DIR/good.p12" ] || [ ! -f "$RR_PKI_DIR/ca.pem" ]; then
        echo "not ok - environment: '$RR_TOOL' or the test PKI in '$RR_PKI_DIR' is missing"
        echo "0 passed, 1 failed"
        exit 1
    fi
    RR_CA="$RR_PKI_DIR/ca.pem"
    RR_STORE="$RR_PKI_DIR/good.p12"
    RR_TMP=$(mktemp -d "${TMPDIR:-/tmp}/rr-sh.XXXXXX")
    trap rr_cleanup EXIT
    trap 'exit 130' INT TERM HUP
}

# Kill every process we started (stopped ones are continued first so the kill is delivered).
rr_cleanup() {
    local pid
    for pid in "${RR_PIDS[@]}"; do
        kill -CONT "$pid" 2>/dev/null
        kill -KILL "$pid" 2>/dev/null
    done
    for pid in "${RR_PIDS[@]}"; do
        rr_wait_pid "$pid" 2 >/dev/null 2>&1
    done
    if [ -n "$RR_TMP" ] && [ -d "$RR_TMP" ]; then
        if [ "${RR_KEEP_TMP:-0}" = 1 ]; then
            echo "# logs kept in $RR_TMP"
        else
            rm -rf -- "$RR_TMP"
        fi
    fi
}

# Set MODELS (Debian's assimp-testmodels), GEN (the glTF generator) and CONVERT (the
# converter: RR_CONVERT, else next to RR_TOOL); skip the script when it is not built.
rr_convert_init() {
    MODELS=/usr/share/assimp/models
    GEN="$(cd "$(dirname "$0")/../data-gen" && pwd)/make-gltf.py"
    CONVERT=${RR_CONVERT:-}
    if [ -z "$CONVERT" ] && [ -x "$(dirname "$RR_TOOL")/openrr-convert" ]; then
        CONVERT="$(dirname "$RR_TOOL")/openrr-convert"
    fi
    if [ -z "$CONVERT" ]; then
        rr_skip "openrr-convert is not built (RR_CONVERT unset, none next to $RR_TOOL)"
        rr_finish
    fi
    if [ ! -x "$CONVERT" ]; then
        rr_not_ok "environment: RR_CONVERT '$CONVERT' is not an executable"
        rr_finish
    fi
}

# Set PLAYER and TESTREMOTE (RR_PLAYER / RR_TESTREMOTE, else below RR_TOOL's directory); skip
# the script when they are not built.
rr_stream_init() {
    local tools
    tools=$(dirname "$RR_TOOL")
    RR_PLAYER_BIN=${RR_PLAYER:-$tools/player/openrr-player}
    RR_TESTREMOTE=${RR_TESTREMOTE:-$tools/testremote/openrr-testremote}
    if [ ! -x "$RR_PLAYER_BIN" ] || [ ! -x "$RR_TESTREMOTE" ]; then
        rr_skip "openrr-player or openrr-testremote is not built"
        rr_finish
    fi
}

# rr_player NAME ARGS...: start openrr-player (listening) in the background, stdout to
# NAME.out, stderr to NAME.err; wait for its port. Sets RR_PLAYER_PID and RR_PORT.
rr_player() {
    local name=$1
    shift
    rr_bg "$name" "$RR_PLAYER_BIN" "$@"
    RR_PLAYER_PID=$RR_LAST_PID
    RR_PORT=""
    rr_wait_log "$RR_TMP/$name.err" 'listening on port [0-9]+' 10 || return 1
    RR_PORT=$(sed -n 's/.*listening on port \([0-9]*\).*/\1/p' "$RR_TMP/$name.err" | head -n 1)
    [ -n "$RR_PORT" ]
}

# rr_remote NAME ARGS...: start openrr-testremote in the background. Sets RR_REMOTE_PID.
rr_remote() {
    local name=$1
    shift
    rr_bg "$name" "$RR_TESTREMOTE" "$@"
    RR_REMOTE_PID=$RR_LAST_PID
}

# ---- results --------------------------------------------------------------------------------

rr_ok() {
    RR_PASSED=$((RR_PASSED + 1))
    echo "ok - $*"
}

# rr_not_ok DESCRIPTION [LOGFILE...]: a failed check, with the tails of the logs as comments.
rr_not_ok() {
    local desc=$1 f
    shift
    RR_FAILED=$((RR_FAILED + 1))
    echo "not ok - $desc"
    for f in "$@"; do
        [ -f "$f" ] || continue
        echo "#   --- ${f#"$RR_TMP"/} (last 15 lines)"
        # A file without a final newline must not swallow the next result line.
        tail -n 15 -- "$f" | sed -e 's/^/#   /' -e '$a\'
    done
}

# rr_result COND DESCRIPTION [LOGFILE...]: COND is an exit status (0 = pass).
rr_result() {
    local cond=$1
    shift
    if [ "$cond" -eq 0 ]; then
        rr_ok "$1"
    else
        rr_not_ok "$@"
    fi
}

rr_skip() {
    echo "skip - $*"
}

rr_note() {
    echo "# $*"
}

rr_finish() {
    echo "$RR_PASSED passed, $RR_FAILED failed"
    if [ "$RR_FAILED" -ne 0 ]; then
        exit 1
    fi
    exit 0
}

# ---- time, ports ------------------------------------------------------------------------------

rr_now_ms() {
    echo $(($(date +%s%N) / 1000000))
}

# A port that was free on 127.0.0.1 (or ::1 with "6") a moment ago.
rr_free_port() {
    python3 - "${1:-4}" <<'EOF'
import socket, sys
fam = socket.AF_INET6 if sys.argv[1] == "6" else socket.AF_INET
s = socket.socket(fam, socket.SOCK_STREAM)
s.bind(("::1" if fam == socket.AF_INET6 else "127.0.0.1", 0))
print(s.getsockname()[1])
s.close()
EOF
}

# ---- processes --------------------------------------------------------------------------------

# rr_bg NAME CMD...: run CMD in the background, stdout to $RR_TMP/NAME.out, stderr to NAME.err.
# Sets RR_LAST_PID. Do not call inside $(...): the pid must be recorded in this shell.
rr_bg() {
    local name=$1
    shift
    "$@" >"$RR_TMP/$name.out" 2>"$RR_TMP/$name.err" &
    RR_LAST_PID=$!
    RR_PIDS+=("$RR_LAST_PID")
}

# rr_alive PID: still executing (zombies do not count).
rr_alive() {
    local state
    state=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1) || return 1
    [ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ]
}

# rr_wait_pid PID SECONDS: wait for a child to exit; RR_RC = its status, or 255 when it is
# still running after SECONDS (return 1 then).
rr_wait_pid() {
    # stderr off: bash reports "Killed" for a killed job whenever it reaps it on the way.
    {
        local pid=$1 deadline
        deadline=$(($(rr_now_ms) + ${2:-10} * 1000))
        RR_RC=255
        while rr_alive "$pid"; do
            if [ "$(rr_now_ms)" -ge "$deadline" ]; then
                return 1
            fi
            sleep 0.05
        done
        wait "$pid"
        RR_RC=$?
    } 2>/dev/null
    return 0
}

# rr_kill PID: SIGKILL a process we started and reap it at once (bounded).
rr_kill() {
    {
        kill -KILL "$1"
        rr_wait_pid "$1" 3
    } 2>/dev/null
}

# rr_stop PID: kill a process we started and reap it.
rr_stop() {
    kill -CONT "$1" 2>/dev/null
    rr_kill "$1"
}

# rr_count FILE REGEX: number of lines of FILE matching the extended REGEX.
rr_count() {
    local n
    n=$(grep -cE -- "$2" "$1" 2>/dev/null) || true
    echo "${n:-0}"
}

# rr_wait_log FILE REGEX SECONDS [COUNT]: wait until COUNT (default 1) lines match.
rr_wait_log() {
    local file=$1 re=$2 want=${4:-1}
    local deadline=$(($(rr_now_ms) + ${3:-10} * 1000))
    {
        while [ "$(rr_count "$file" "$re")" -lt "$want" ]; do
            if [ "$(rr_now_ms)" -ge "$deadline" ]; then
                return 1
            fi
            sleep 0.02
        done
    } 2>/dev/null
    return 0
}

# rr_listen NAME TOOL_ARGS...: start the tool as a listener (the arguments include -listen),
# stdout+stderr to $RR_TMP/NAME.log; wait for "listening on port N". Sets RR_LAST_PID and
# RR_PORT. Returns 1 when it does not listen within 10 s.
rr_listen() {
    local name=$1
    shift
    "$RR_TOOL" "$@" >"$RR_TMP/$name.log" 2>&1 &
    RR_LAST_PID=$!
    RR_PIDS+=("$RR_LAST_PID")
    RR_PORT=""
    if ! rr_wait_log "$RR_TMP/$name.log" 'listening on port [0-9]+' 10; then
        return 1
    fi
    RR_PORT=$(sed -n 's/.*listening on port \([0-9]*\).*/\1/p' "$RR_TMP/$name.log" | head -n 1)
    [ -n "$RR_PORT" ]
}

# rr_client NAME TOOL_ARGS...: run the tool as a client in the foreground (bounded by 30 s),
# stdout to NAME.out, stderr to NAME.err; RR_RC = exit status, RR_MS = its run time in ms.
rr_client() {
    local name=$1 t0
    shift
    t0=$(rr_now_ms)
    timeout -k 2 30 "$RR_TOOL" "$@" >"$RR_TMP/$name.out" 2>"$RR_TMP/$name.err"
    RR_RC=$?
    RR_MS=$(($(rr_now_ms) - t0))
}

# ---- python3 -----------------------------------------------------------------------------------

# Helpers for raw peers: plain_handshake() returns a socket just after the 101 head.
RR_PY_PRELUDE='
import socket, struct, sys, time

def request(host, role="remote", extra=""):
    return ("GET /openrr/remoting HTTP/1.1\r\nHost: %s\r\nConnection: Upgrade\r\n"
            "Upgrade: openrr-remoting/1\r\nOpenRR-Role: %s\r\nOpenRR-Transports: tcp\r\n"
            "OpenRR-Codecs: hevc,h264\r\n%s\r\n" % (host, role, extra)).encode()

def read_head(s, limit=65536):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
        if len(data) > limit:
            break
    head, _, rest = data.partition(b"\r\n\r\n")
    return head.decode("latin-1"), rest

def plain_handshake(port, host="127.0.0.1", timeout=5.0):
    s = socket.create_connection((host, port), timeout=timeout)
    s.sendall(request("%s:%d" % (host, port)))
    head, rest = read_head(s)
    if not head.startswith("HTTP/1.1 101"):
        print("handshake failed: %r" % head)
        sys.exit(3)
    return s, rest

def record(channel, flags, payload, length=None, reserved=0):
    n = len(payload) if length is None else length
    return struct.pack(">BBHI", channel, flags, reserved, n) + payload

def wait_closed(s, seconds):
    """Read until the peer closes; returns the seconds it took or None."""
    t0 = time.monotonic()
    s.settimeout(0.2)
    while time.monotonic() - t0 < seconds:
        try:
            if not s.recv(65536):
                return time.monotonic() - t0
        except socket.timeout:
            continue
        except OSError:
            return time.monotonic() - t0
    return None
'

# rr_python [ARGS...] <<'EOF' ... EOF: run python3 code (after the prelude), bounded by
# RR_PY_TIMEOUT seconds (default 30).
rr_python() {
    local code
    code=$(cat)
    timeout -k 2 "${RR_PY_TIMEOUT:-30}" python3 -c "$RR_PY_PRELUDE
$code" "$@"
}

# rr_bg_python NAME [ARGS...] <<'EOF' ... EOF: as rr_python, in the background like rr_bg
# (the code is read here: a background job's stdin would be /dev/null).
rr_bg_python() {
    local name=$1 code
    shift
    code=$(cat)
    rr_bg "$name" timeout -k 2 "${RR_PY_TIMEOUT:-30}" python3 -c "$RR_PY_PRELUDE
$code" "$@"
}
