#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# openrrd's speed against anchors measured in the same run: session create -> Ready with the local
# backend (anchor: openrr-host started directly), authenticated GET session and token issuance
# under wrk (anchors: nginx serving the same JSON as a static file; one core's ECDSA P-256 signs);
# a table, BENCH lines; exit 0 whenever it ran, whatever the figures.
#
# Usage: bench/bench_openrrd.sh [--quick] [--runs N] [--duration S] [--keep] [BUILD]
# BUILD defaults to the first of build-bench/, build/, build-ctest/ holding openrrd and
# openrr-host; $RR_OPENRRD and $RR_HOST name them one by one. Needs python3 and wrk; nginx and
# openssl (the anchors) are used when installed. --runs N: timed session starts (default 5,
# --quick 2). --duration S: seconds of each wrk run (default 10, --quick 3). --keep: keep the logs.
# Exit status: 0 = everything ran (whatever the figures), 1 = something did not work (openrrd or
# a host did not start, an unexpected HTTP status, a tool missing), 2 = bad usage, 77 = wrk is
# not installed (ctest: skipped). Progress goes to stderr; the table, BENCH lines, notes to stdout.
set -u

RUNS=""
DURATION=""
QUICK=0
KEEP=0
BUILD=""
ROOT="$(cd "$(dirname "$0")/.." && pwd)"

usage() {
    sed -n '8,15p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
}
while [ $# -gt 0 ]; do
    case $1 in
    --quick) QUICK=1; shift ;;
    --runs) RUNS=${2:-}; shift 2 || usage ;;
    --duration) DURATION=${2:-}; shift 2 || usage ;;
    --keep) KEEP=1; shift ;;
    -h | --help) usage ;;
    -*) echo "bench_openrrd.sh: unknown option $1" >&2; usage ;;
    *) BUILD=$1; shift ;;
    esac
done
[ -n "$RUNS" ] || RUNS=$([ "$QUICK" = 1 ] && echo 2 || echo 5)
[ -n "$DURATION" ] || DURATION=$([ "$QUICK" = 1 ] && echo 3 || echo 10)
[[ "$RUNS" =~ ^[1-9][0-9]*$ ]] || usage
[[ "$DURATION" =~ ^[1-9][0-9]*$ ]] || usage

if [ -z "$BUILD" ]; then
    for d in build-bench build build-ctest; do
        if [ -x "$ROOT/$d/src/frontend/openrrd" ] &&
            [ -x "$ROOT/$d/src/tools/host/openrr-host" ]; then
            BUILD="$ROOT/$d"
            break
        fi
    done
fi
OPENRRD=${RR_OPENRRD:-${BUILD:+$BUILD/src/frontend/openrrd}}
HOST=${RR_HOST:-${BUILD:+$BUILD/src/tools/host/openrr-host}}
if ! command -v wrk >/dev/null; then
    echo "bench_openrrd.sh: wrk is not installed (package wrk): skipped" >&2
    exit 77
fi
missing=""
for t in "openrrd:$OPENRRD" "openrr-host:$HOST"; do
    p=${t#*:}
    [ -n "$p" ] && [ -x "$p" ] || missing="$missing ${t%%:*}(${p:-not found})"
done
command -v python3 >/dev/null || missing="$missing python3"
if [ -n "$missing" ]; then
    echo "bench_openrrd.sh: missing:$missing" >&2
    exit 1
fi
NGINX=$(command -v nginx || { [ -x /usr/sbin/nginx ] && echo /usr/sbin/nginx; } || true)
OPENSSL=$(command -v openssl || true)

TMP=$(mktemp -d "${TMPDIR:-/tmp}/rr-bench-openrrd.XXXXXX")
cleanup() { # shellcheck disable=SC2317 # called by the EXIT trap
    if [ "$KEEP" = 1 ]; then
        echo "# logs kept in $TMP" >&2
    else
        rm -rf -- "$TMP"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# nginx reads $NGINX (inherited sockets): the names passed on carry a prefix.
export RR_B_OPENRRD="$OPENRRD" RR_B_HOST="$HOST" RR_B_NGINX="$NGINX" RR_B_OPENSSL="$OPENSSL"
export RR_B_TMP="$TMP" RR_B_RUNS="$RUNS" RR_B_DURATION="$DURATION"
python3 - <<'EOF'
import http.client, json, os, re, selectors, signal, socket, statistics, subprocess, sys, time
from datetime import datetime, timezone

E = os.environ
OPENRRD, HOST, TMP = E["RR_B_OPENRRD"], E["RR_B_HOST"], E["RR_B_TMP"]
NGINX, OPENSSL = E["RR_B_NGINX"], E["RR_B_OPENSSL"]
RUNS, DURATION = int(E["RR_B_RUNS"]), int(E["RR_B_DURATION"])
CPUS = os.cpu_count() or 2
API = "api-version=2021-01-01"
EYE = "320x180"
CONNECTIONS, WRK_THREADS = 64, 2
POLL_S = 0.05
READY_TIMEOUT_S = 60  # the service's own session_start_timeout; a start is far quicker
TARGET_READY_MS = 2000.0
TARGET_GET_RATIO = 0.25
TARGET_TOKENS = 5000.0


class Failure(Exception):
    pass


def progress(msg):
    print(msg, file=sys.stderr, flush=True)


def now():
    return time.monotonic()


def tail(path, n=8):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-n:])
    except OSError:
        return ""


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def stop_proc(proc, timeout=10):
    if proc is not None and proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def wait_line(proc, want, timeout):
    """(time, line) of the first stdout line of @p proc for which want(line) is true."""
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    buf = b""
    deadline = now() + timeout
    try:
        while now() < deadline:
            if not sel.select(max(0.0, deadline - now())):
                continue
            chunk = os.read(proc.stdout.fileno(), 65536)
            t = now()
            if not chunk:
                return None
            buf += chunk
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                line = line.decode(errors="replace")
                if want(line):
                    return t, line
        return None
    finally:
        sel.close()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def log_time(stamp):
    """Wall-clock seconds of an openrrd log time, 2026-11-22T05:59:23.412Z."""
    return datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=timezone.utc).timestamp()


class Client:
    """One keep-alive HTTP connection to openrrd."""

    def __init__(self, port):
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def call(self, method, path, auth, body=None, want=(200,)):
        headers = {"Authorization": "Bearer " + auth}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        for attempt in (0, 1):
            try:
                self.conn.request(method, path, body=data, headers=headers)
                r = self.conn.getresponse()
                text = r.read()
                break
            except (http.client.HTTPException, ConnectionError):
                # A keep-alive connection the server closed meanwhile: once more on a new one.
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                if attempt == 1:
                    raise
        if r.status not in want:
            raise Failure("%s %s: HTTP %d (wanted %s): %s" % (
                method, path.split("?")[0], r.status, "/".join(map(str, want)),
                text[:300].decode(errors="replace")))
        return r.status, text


class Openrrd:
    def __init__(self):
        self.proc = None
        self.data = os.path.join(TMP, "data")
        self.log = os.path.join(TMP, "openrrd.log")
        self.port = None

    def start(self):
        with open(self.log, "w") as err:
            self.proc = subprocess.Popen(
                [OPENRRD, "serve", "--data", self.data, "--listen", "127.0.0.1:0",
                 "--host-path", HOST, "--host-args", "--eye-size " + EYE,
                 "--rate-per-second", "0", "--http-threads", str(CPUS)],
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=err)
        got = wait_line(self.proc, lambda l: l.startswith("ready: listening on "), 30)
        if got is None:
            try:
                rc = self.proc.wait(2)  # output closed: it is exiting, or it has
            except subprocess.TimeoutExpired:
                rc = None
            why = "exited with %d" % rc if rc is not None else "no readiness line within 30 s"
            raise Failure("openrrd did not start (%s):\n%s" % (why, tail(self.log)))
        self.port = int(re.search(r":(\d+)$", got[1]).group(1))

    def host_pids(self):
        pids = []
        for line in open(self.log, errors="replace"):
            m = re.search(r"event=session what=launched .* pid=(\d+)", line)
            if m:
                pids.append(int(m.group(1)))
        return pids

    def events(self, session):
        """Wall-clock times of the session's log events: {"launched": t, "ready": t}."""
        out = {}
        for line in open(self.log, errors="replace"):
            m = re.match(r"time=(\S+) .*event=session what=(\w+) .*session=(\S+) ", line)
            if m and m.group(3) == session:
                out.setdefault(m.group(2), log_time(m.group(1)))
        return out

    def stop(self):
        stop_proc(self.proc)
        rc = self.proc.returncode if self.proc is not None else 0
        # Hosts outlive openrrd by design; those it launched for this run must not.
        for pid in self.host_pids():
            try:
                with open("/proc/%d/cmdline" % pid, "rb") as f:
                    ours = self.data.encode() in f.read()
                if ours:
                    os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        return rc


def host_anchor(tag):
    """openrr-host exec -> its readiness line, ms (--plain: no TLS, no token, no openrrd)."""
    err = os.path.join(TMP, "anchor-%s.log" % tag)
    with open(err, "w") as e:
        t0 = now()
        p = subprocess.Popen([HOST, "--plain", "-listen", "127.0.0.1:0", "--eye-size", EYE],
                             stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=e)
    try:
        got = wait_line(p, lambda l: l.startswith("ready:"), READY_TIMEOUT_S)
        if got is None:
            raise Failure("openrr-host --plain did not print its readiness line:\n" + tail(err))
        return (got[0] - t0) * 1000.0
    finally:
        stop_proc(p)


def session_start(d, cl, account, token, sid):
    """PUT -> GET says Ready (polled every POLL_S) in ms, then :stop and wait for the host to go.
    Also the stages from openrrd's log."""
    path = "/accounts/%s/sessions/%s?%s" % (account, sid, API)
    w0 = time.time()
    t0 = now()
    cl.call("PUT", path, token, {"maxLeaseTimeMinutes": 10, "size": "Standard"}, want=(201,))
    t_put = now()
    while True:
        _, text = cl.call("GET", path, token)
        status = json.loads(text)["status"]
        if status == "Ready":
            t_ready = now()
            break
        if status != "Starting":
            host_log = os.path.join(d.data, "sessions", account, sid, "host.log")
            raise Failure("session %s went %s: %s\nhost.log:\n%s" % (
                sid, status, json.loads(text).get("error"), tail(host_log)))
        if now() - t0 > READY_TIMEOUT_S:
            raise Failure("session %s not Ready after %d s" % (sid, READY_TIMEOUT_S))
        time.sleep(POLL_S)
    ev = d.events(sid)
    total = (t_ready - t0) * 1000.0
    stages = {"total": total, "put": (t_put - t0) * 1000.0}
    if "launched" in ev and "ready" in ev:
        stages["launch"] = (ev["launched"] - w0) * 1000.0
        stages["register"] = (ev["ready"] - ev["launched"]) * 1000.0
        stages["seen"] = total - (ev["ready"] - w0) * 1000.0
    session_stop(d, cl, account, token, sid)
    return stages


def session_stop(d, cl, account, token, sid, wait=True):
    cl.call("POST", "/accounts/%s/sessions/%s/:stop?%s" % (account, sid, API), token,
            want=(204,))
    # The host is stopped by a thread of openrrd; host.p12 is deleted once it is gone. Waiting
    # keeps one run's teardown out of the next run's start.
    p12 = os.path.join(d.data, "sessions", account, sid, "host.p12")
    deadline = now() + 15
    while wait and os.path.exists(p12) and now() < deadline:
        time.sleep(0.02)


def parse_ms(v):
    m = re.match(r"([\d.]+)(us|ms|s|m)$", v)
    f = float(m.group(1))
    return f * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[m.group(2)]


def cpu_s(pids):
    """User + system CPU seconds of @p pids and of their children (nginx's workers)."""
    total, seen = 0, set()
    todo = list(pids)
    while todo:
        pid = todo.pop()
        if pid in seen:
            continue
        seen.add(pid)
        try:
            with open("/proc/%d/stat" % pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14, 15)
            with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
                todo.extend(int(c) for c in f.read().split())
        except OSError:
            pass
    return total / os.sysconf("SC_CLK_TCK")


def wrk(tag, url, auth, server_pid):
    """Requests/s, p99 (ms) and the server's CPU µs per request of wrk -c 64 -t 2 --latency
    against @p url."""
    out = os.path.join(TMP, "wrk-%s.txt" % tag)
    progress("  wrk %s: %d s, %d connections" % (tag, DURATION, CONNECTIONS))
    cmd = ["wrk", "-c", str(CONNECTIONS), "-t", str(WRK_THREADS), "-d", "%ds" % DURATION,
           "--latency", "-H", "Authorization: Bearer " + auth, url]
    cpu0 = cpu_s([server_pid])
    with open(out, "w") as f:
        rc = subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT,
                            timeout=DURATION + 60).returncode
    cpu1 = cpu_s([server_pid])
    text = open(out).read()
    rps = re.search(r"Requests/sec:\s+([\d.]+)", text)
    p99 = re.search(r"^\s+99%\s+(\S+)", text, re.M)
    total = re.search(r"(\d+) requests in", text)
    if rc != 0 or rps is None or p99 is None or total is None:
        raise Failure("wrk %s failed (exit %d):\n%s" % (tag, rc, text[-1500:]))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    if bad is not None:
        raise Failure("wrk %s: %s of %s answers were not 2xx" % (tag, bad.group(1),
                                                                total.group(1)))
    errors = re.search(r"Socket errors: (.*)", text)
    r = {"rps": float(rps.group(1)), "p99": parse_ms(p99.group(1)),
         "p50": parse_ms(re.search(r"^\s+50%\s+(\S+)", text, re.M).group(1)),
         "requests": int(total.group(1)), "errors": errors.group(1) if errors else None}
    r["cpu_us"] = (cpu1 - cpu0) * 1e6 / max(1, r["requests"])
    progress("    %.0f/s, p50 %.2f ms, p99 %.2f ms, %.1f us of server CPU per request" % (
        r["rps"], r["p50"], r["p99"], r["cpu_us"]))
    return r


def nginx_start(body_file):
    """nginx (2 workers, no access log) serving @p body_file for every path; (proc, port)."""
    d = os.path.join(TMP, "nginx")
    # Started as root, nginx's workers run as nobody: they must reach www/ (openrrd's data
    # directory is 0700 on its own).
    os.chmod(TMP, 0o711)
    os.makedirs(os.path.join(d, "www"), exist_ok=True)
    os.makedirs(os.path.join(d, "tmp"), exist_ok=True)
    os.replace(body_file, os.path.join(d, "www", "session.json"))
    for attempt in range(3):
        port = free_port()
        tmpdirs = " ".join("%s_temp_path tmp;" % k for k in (
            "client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        with open(os.path.join(d, "nginx.conf"), "w") as f:
            f.write("worker_processes 2;\npid nginx.pid;\nerror_log error.log;\n"
                    "events { worker_connections 1024; }\n"
                    "http {\n  access_log off;\n  %s\n  default_type application/json;\n"
                    "  server {\n    listen 127.0.0.1:%d;\n    root www;\n"
                    "    location / { try_files /session.json =404; }\n  }\n}\n" % (
                        tmpdirs, port))
        err = open(os.path.join(d, "stderr.log"), "w")
        p = subprocess.Popen([NGINX, "-p", d, "-e", "error.log", "-c", "nginx.conf", "-g",
                              "daemon off;"], stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL, stderr=err)
        deadline = now() + 10
        while now() < deadline and p.poll() is None:
            try:
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                c.request("GET", "/")
                r = c.getresponse()
                r.read()
                c.close()
                if r.status == 200:
                    return p, port
                stop_proc(p)
                raise Failure("nginx answered HTTP %d" % r.status)
            except (ConnectionError, OSError):
                time.sleep(0.05)
        stop_proc(p)
        if attempt == 2:
            raise Failure("nginx did not start:\n" + tail(os.path.join(d, "stderr.log")) +
                          tail(os.path.join(d, "error.log")))
    raise Failure("nginx did not start")


def openssl_sign_per_s():
    """One core's ECDSA P-256 signatures per second (openssl speed), or None."""
    if not OPENSSL:
        return None
    progress("  openssl speed ecdsap256: %d s" % min(DURATION, 3))
    r = subprocess.run([OPENSSL, "speed", "-seconds", str(min(DURATION, 3)), "ecdsap256"],
                       capture_output=True, text=True, timeout=120)
    m = re.search(r"ecdsa \(nistp256\)\s+\S+\s+\S+\s+([\d.]+)\s+([\d.]+)", r.stdout)
    return float(m.group(1)) if m else None


def tool_version(cmd):
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=10)
        return (r.stdout + r.stderr).strip().splitlines()[0]
    except (OSError, IndexError, subprocess.SubprocessError):
        return "?"


def metric(port, name):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    c.request("GET", "/metrics")
    text = c.getresponse().read().decode()
    c.close()
    m = re.search(r"^%s(?:\{[^}]*\})? (\S+)$" % re.escape(name), text, re.M)
    return float(m.group(1)) if m else None


def main():
    notes = ["load average at start: %s; %d CPUs" % (loadavg(), CPUS)]
    d = Openrrd()
    nginx = None
    live = []  # sessions to stop on the way out
    cl = None
    try:
        progress("starting openrrd")
        d.start()
        base = "http://127.0.0.1:%d" % d.port
        r = subprocess.run([OPENRRD, "account", "create", "--json", "--data", d.data],
                           capture_output=True, text=True, timeout=30)
        if r.returncode != 0:
            raise Failure("openrrd account create: exit %d: %s" % (r.returncode, r.stderr))
        acc = json.loads(r.stdout)
        account, key = acc["accountId"], acc["primaryKey"]
        cl = Client(d.port)
        _, text = cl.call("GET", "/accounts/%s/token" % account, "%s:%s" % (account, key))
        token = json.loads(text)["AccessToken"]

        # ---- 1. session create -> Ready, interleaved with the host's own start -----------
        progress("warm-up: one untimed session and one untimed host start")
        live.append("warmup")
        session_start(d, cl, account, token, "warmup")
        live.remove("warmup")
        host_anchor("warmup")
        starts, anchors = [], []
        for i in range(RUNS):
            anchors.append(host_anchor(str(i)))
            sid = "bench-%d" % i
            live.append(sid)
            starts.append(session_start(d, cl, account, token, sid))
            live.remove(sid)
            progress("run %d/%d: session Ready after %.0f ms, host alone %.0f ms" % (
                i + 1, RUNS, starts[-1]["total"], anchors[-1]))

        # ---- 2. GET session under wrk, and the same JSON from nginx ----------------------
        progress("a session for the throughput runs")
        sid = "wrk"
        path = "/accounts/%s/sessions/%s?%s" % (account, sid, API)
        live.append(sid)
        cl.call("PUT", path, token, {"maxLeaseTimeMinutes": 10, "size": "Standard"}, want=(201,))
        deadline = now() + READY_TIMEOUT_S
        while True:
            _, body = cl.call("GET", path, token)
            if json.loads(body)["status"] == "Ready":
                break
            if now() > deadline or json.loads(body)["status"] != "Starting":
                raise Failure("the throughput session did not get Ready: %s" % body[:300])
            time.sleep(POLL_S)
        body_file = os.path.join(TMP, "session.json")
        with open(body_file, "wb") as f:
            f.write(body)
        anchor_get = None
        if NGINX:
            nginx, nport = nginx_start(body_file)
            anchor_get = wrk("nginx", "http://127.0.0.1:%d%s" % (nport, path), token, nginx.pid)
            stop_proc(nginx)
            nginx = None
        else:
            notes.append("nginx is not installed: no anchor for the GET figures")
        hits0 = metric(d.port, "openrrd_token_cache_hits_total")
        get = wrk("openrrd-get", base + path, token, d.proc.pid)
        hits1 = metric(d.port, "openrrd_token_cache_hits_total")

        # ---- 3. token issuance --------------------------------------------------------------
        issued0 = metric(d.port, "openrrd_tokens_issued_total")
        tok = wrk("openrrd-token", "%s/accounts/%s/token" % (base, account),
                  "%s:%s" % (account, key), d.proc.pid)
        issued1 = metric(d.port, "openrrd_tokens_issued_total")
        signs = openssl_sign_per_s()

        session_stop(d, cl, account, token, sid)
        live.remove(sid)
    finally:
        stop_proc(nginx)
        for sid in list(live):
            try:
                session_stop(d, cl, account, token, sid)
            except Exception:  # noqa: BLE001 - best effort on the way out
                pass
        rc = d.stop()
    if rc != 0:
        raise Failure("openrrd exited with %d after SIGTERM:\n%s" % (rc, tail(d.log)))

    # ---- the report -------------------------------------------------------------------------
    med = statistics.median
    tot = [s["total"] for s in starts]
    verdict = lambda ok: "PASS" if ok else "MISS"
    ga = anchor_get["rps"] if anchor_get else None
    # name, unit, value, anchor, anchor's name, target, result
    rows = [
        ("openrrd_session_ready_median_ms", "ms", med(tot), med(anchors), "host alone",
         "<= %.0f ms" % TARGET_READY_MS, verdict(med(tot) <= TARGET_READY_MS)),
        ("openrrd_session_ready_max_ms", "ms", max(tot), max(anchors), "host alone",
         "reported", "-"),
        ("openrrd_get_session_per_s", "1/s", get["rps"], ga, "nginx static",
         ">= %.2fx" % TARGET_GET_RATIO,
         verdict(get["rps"] >= TARGET_GET_RATIO * ga) if ga else "-"),
        ("openrrd_get_session_p99_ms", "ms", get["p99"],
         anchor_get["p99"] if anchor_get else None, "nginx static", "reported", "-"),
        ("openrrd_token_per_s", "1/s", tok["rps"], signs, "ecdsa signs",
         ">= %.0f/s" % TARGET_TOKENS, verdict(tok["rps"] >= TARGET_TOKENS)),
        ("openrrd_token_p99_ms", "ms", tok["p99"], None, "-", "reported", "-"),
        # CPU per request depends much less on how much of the machine the server got.
        ("openrrd_get_session_cpu_us", "us", get["cpu_us"],
         anchor_get["cpu_us"] if anchor_get else None, "nginx static", "reported", "-"),
        ("openrrd_token_cpu_us", "us", tok["cpu_us"], 1e6 / signs if signs else None,
         "one sign", "reported", "-"),
    ]
    print("\n%-32s %4s %10s %10s %-13s %8s  %-11s %s" % (
        "figure", "unit", "openrrd", "anchor", "(anchor)", "ratio", "target", "result"))
    for name, unit, v, a, an, target, res in rows:
        ratio = "%7.2fx" % (v / a) if a else "%8s" % "n/a"
        print("%-32s %4s %10.1f %10s %-13s %s  %-11s %s" % (
            name, unit, v, "%.1f" % a if a is not None else "n/a", an, ratio, target, res))

    stages = [("PUT answered (201)", "put"),
              ("PUT sent -> host launched (log)", "launch"),
              ("launched -> host registered (log)", "register"),
              ("registered -> a GET sees Ready", "seen"),
              ("PUT sent -> a GET sees Ready", "total")]
    print("\n%-36s %10s %10s" % ("session start, ms", "median", "max"))
    for label, k in stages:
        vals = [s[k] for s in starts if k in s]
        if vals:
            print("%-36s %10.1f %10.1f" % (label, med(vals), max(vals)))
    print("%-36s %10.1f %10.1f" % ("anchor: openrr-host exec -> ready:", med(anchors),
                                   max(anchors)))
    print()
    for name, unit, v, a, an, target, res in rows:
        print('BENCH {"name":"%s","value":%.3f,"anchor":%s,"ratio":%s,"unit":"%s"}' % (
            name, v, "%.3f" % a if a is not None else "null",
            "%.4f" % (v / a) if a else "null", unit))

    notes.append("load average at end: %s" % loadavg())
    notes.append("openrrd: %s serve --listen 127.0.0.1:0 --host-args '--eye-size %s' "
                 "--rate-per-second 0 --http-threads %d (log level info: one line per request "
                 "to a file)" % (OPENRRD, EYE, CPUS))
    notes.append("session start: %d timed runs after an untimed one, each PUT -> GET every "
                 "%d ms until Ready -> :stop -> the host gone; interleaved with the anchor, "
                 "`openrr-host --plain -listen 127.0.0.1:0 --eye-size %s` from exec to its "
                 "readiness line (no TLS store, no JWKS, no registration)" % (
                     RUNS, POLL_S * 1000, EYE))
    notes.append("wrk %s: -c %d -t %d -d %ds --latency, the same Authorization header to "
                 "both; GET /accounts/{a}/sessions/{id}?%s of a Ready session" % (
                     tool_version(["wrk", "-v"]).split(" [")[0], CONNECTIONS, WRK_THREADS,
                     DURATION, API))
    if anchor_get:
        notes.append("nginx anchor: %s, worker_processes 2, access_log off, the same %d-byte "
                     "JSON as a static file; %.0f/s, p50 %.2f ms" % (
                         tool_version([NGINX, "-v"]).replace("nginx version: ", ""),
                         len(body), anchor_get["rps"], anchor_get["p50"]))
        notes.append("token issuance / nginx static: %.2fx" % (tok["rps"] / anchor_get["rps"]))
    notes.append("GET session: %d requests, p50 %.2f ms; token cache hits %s during the run" % (
        get["requests"], get["p50"],
        "%.0f" % (hits1 - hits0) if hits0 is not None and hits1 is not None else "?"))
    notes.append("tokens: %d requests, p50 %.2f ms, tokens_issued_total +%s; anchor: %s "
                 "ECDSA P-256 signs/s of one core (`openssl speed ecdsap256`): the one thing "
                 "every token must cost (ES256)" % (
                     tok["requests"], tok["p50"],
                     "%.0f" % (issued1 - issued0) if issued0 is not None else "?",
                     tool_version([OPENSSL, "version"]) if OPENSSL else "no openssl"))
    notes.append("*_cpu_us: the server's user + system CPU time during its wrk run (nginx: master "
                 "and workers) per request answered; wrk's own is not counted. Token anchor: "
                 "1 s / openssl's signs per second, one signature's CPU time")
    for tag, r in (("GET", get), ("token", tok), ("nginx", anchor_get)):
        if r and r["errors"]:
            notes.append("wrk %s socket errors: %s" % (tag, r["errors"]))
    notes.append("wrk, openrrd and nginx share this machine's CPUs: rates follow its other load")
    for n in notes:
        print("# " + n)


try:
    main()
except Failure as e:
    print("bench_openrrd.sh: %s" % e, file=sys.stderr)
    sys.exit(1)
except (OSError, subprocess.SubprocessError, ValueError, KeyError, AttributeError) as e:
    print("bench_openrrd.sh: %s: %s" % (type(e).__name__, e), file=sys.stderr)
    sys.exit(1)
EOF
