#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Starts/stops the loopback HTTP services behind the test PKI's revocation URLs: the CRL
# distribution point (serves OUTDIR/crl) and the OCSP responder (answers from ocsp-index.txt).
#
# Usage: revocation-services.sh start|stop OUTDIR CRL_PORT OCSP_PORT
#
# OUTDIR must come from make-pki.sh with the same ports. Logs go to OUTDIR/{crl,ocsp}.log and
# pids to OUTDIR/{crl,ocsp}.pid. Both commands are idempotent: "start" on running services
# leaves them alone, "stop" on stopped ones does nothing.
set -euo pipefail

if [ "$#" -ne 4 ] || { [ "$1" != start ] && [ "$1" != stop ]; }; then
    echo "usage: $0 start|stop OUTDIR CRL_PORT OCSP_PORT" >&2
    exit 2
fi
action=$1
if [ ! -d "$2" ]; then
    if [ "$action" = stop ]; then exit 0; fi # nothing can be running from a missing OUTDIR
    echo "revocation-services.sh: OUTDIR '$2' does not exist; run make-pki.sh first" >&2
    exit 1
fi
out=$(cd -- "$2" && pwd)
crl_port=$3
ocsp_port=$4
here=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
wait_s=5 # upper bound for a service to come up or go away

# Does something accept TCP connections on 127.0.0.1:PORT?
port_open() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# Is PID still executing? A killed service is reparented to init and can stay a zombie for a
# while (init in some containers reaps lazily); kill -0 succeeds on zombies, so look at the state.
running() { # PID
    local state
    state=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1) || return 1
    [ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ]
}

# The pid recorded for service NAME, if that process is still ours. The command line must
# mention OUTDIR, so a recycled pid of an unrelated process is never reported (or killed).
live_pid() { # NAME
    local pidfile=$out/$1.pid pid cmdline
    [ -f "$pidfile" ] || return 1
    pid=$(cat "$pidfile")
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    running "$pid" || return 1
    cmdline=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
    [[ "$cmdline" == *"$out"* ]] || return 1
    echo "$pid"
}

stop_one() { # NAME
    local pid i
    if pid=$(live_pid "$1"); then
        kill "$pid" 2>/dev/null || true
        for ((i = 0; i < wait_s * 20; i++)); do
            running "$pid" || break
            sleep 0.05
        done
        if running "$pid"; then
            kill -KILL "$pid" 2>/dev/null || true
        fi
    fi
    rm -f -- "$out/$1.pid"
}

# Start service NAME in the background; its pid goes to OUTDIR/NAME.pid and to $spawned.
spawn() { # NAME COMMAND...
    local name=$1
    shift
    # All three standard streams are redirected so that the background process never holds
    # the caller's pipes open (ctest and CI runners wait for them to close).
    "$@" </dev/null >"$out/$name.log" 2>&1 &
    spawned=$!
    echo "$spawned" >"$out/$name.pid"
}

# Wait until PID (service NAME) accepts connections on PORT, or fail showing its log. PID is our
# own child here, so it is checked directly rather than through the pid file.
wait_up() { # NAME PID PORT
    local name=$1 pid=$2 port=$3 i
    for ((i = 0; i < wait_s * 20; i++)); do
        if ! running "$pid"; then
            echo "revocation-services.sh: $name service exited during startup; log follows:" >&2
            cat "$out/$name.log" >&2 || true
            return 1
        fi
        if port_open "$port"; then
            return 0
        fi
        sleep 0.05
    done
    echo "revocation-services.sh: $name service not listening on 127.0.0.1:$port after ${wait_s}s" >&2
    cat "$out/$name.log" >&2 || true
    return 1
}

case "$action" in
start)
    for f in crl/inter.crl ocsp-index.txt ocsp.pem ocsp.key inter.pem; do
        if [ ! -f "$out/$f" ]; then
            echo "revocation-services.sh: $out/$f missing; run make-pki.sh first" >&2
            exit 1
        fi
    done
    if [ "$crl_port" = "$ocsp_port" ]; then
        echo "revocation-services.sh: CRL and OCSP ports must differ" >&2
        exit 2
    fi
    # A second "start" finds both running and leaves them alone; a half-running pair (one of
    # them died) is restarted as a whole.
    if live_pid crl >/dev/null && live_pid ocsp >/dev/null; then
        exit 0
    fi
    stop_one crl
    stop_one ocsp
    # Checked before starting anything, because a foreign listener on one of the ports would
    # make the readiness wait below succeed for the wrong process.
    for port in "$crl_port" "$ocsp_port"; do
        if port_open "$port"; then
            echo "revocation-services.sh: port 127.0.0.1:$port is already in use" >&2
            exit 1
        fi
    done
    # -u: unbuffered, so the logs are complete even when the service is killed.
    spawn crl python3 -u -m http.server "$crl_port" --bind 127.0.0.1 --directory "$out/crl"
    crl_pid=$spawned
    spawn ocsp python3 -u "$here/ocsp-responder.py" "$ocsp_port" \
        "$out/ocsp-index.txt" "$out/ocsp.pem" "$out/ocsp.key" "$out/inter.pem" 5
    ocsp_pid=$spawned
    if ! wait_up crl "$crl_pid" "$crl_port" || ! wait_up ocsp "$ocsp_pid" "$ocsp_port"; then
        # Leave nothing half-started behind. Both are our children: kill and reap them directly.
        kill "$crl_pid" "$ocsp_pid" 2>/dev/null || true
        wait "$crl_pid" "$ocsp_pid" 2>/dev/null || true
        rm -f -- "$out/crl.pid" "$out/ocsp.pid"
        exit 1
    fi
    ;;
stop)
    stop_one crl
    stop_one ocsp
    ;;
esac
