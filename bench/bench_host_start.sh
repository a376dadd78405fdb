#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# openrr-host start to first frame with a preloaded >= 100 MB .rrasset, against the same start
# with a tiny asset and against reading the file once (the anchors): medians, a table, BENCH
# lines; exit 0 whenever it ran, whatever the figures.
#
# Usage: bench/bench_host_start.sh [--quick] [--runs N] [--cache DIR] [--no-cold] [--keep] [BUILD]
# BUILD defaults to the first of build-bench/, build/, build-ctest/ holding openrr-host,
# openrr-player and openrr-convert; $RR_HOST, $RR_PLAYER, $RR_CONVERT name them one by one.
# --runs N: timed runs of each kind (default 5, --quick 2). --cache DIR: where the generated
# assets are kept between runs (default BUILD/bench/host-start-cache). --no-cold: skip the run
# with the asset dropped from the page cache. --keep: keep the logs.
# Exit status: 0 = everything ran (whatever the figures), 1 = a tool failed, timed out or is
# missing, or the asset came out under 100 MB; 2 = bad usage. Progress goes to stderr; the
# table, the BENCH lines and the notes to stdout.
set -u

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
GEN="$ROOT/tests/data-gen/make-gltf.py"
# The cached assets are regenerated when this changes (or when the converter rejects them).
ASSET_VERSION="grid-2300000-floor-v1"
BIG_TRIANGLES=2300000
MIN_BYTES=100000000 # 100 MB, an MB being 10^6 bytes as everywhere in bench/README.md
# A 10 m x 10 m floor 1-11 m in front of the default head (1.6 m up, looking down -Z): the
# host's first frame and the player's static pose both have all of it in view.
PLACE=(--scale 10 1 10 --offset -5 0 -11)
RUNS=""
QUICK=0
COLD=1
KEEP=0
CACHE=""
BUILD=""

usage() {
    sed -n '7,15p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
}
while [ $# -gt 0 ]; do
    case $1 in
    --quick) QUICK=1; shift ;;
    --runs) RUNS=${2:-}; shift 2 || usage ;;
    --cache) CACHE=${2:-}; shift 2 || usage ;;
    --no-cold) COLD=0; shift ;;
    --keep) KEEP=1; shift ;;
    -h | --help) usage ;;
    -*) echo "bench_host_start.sh: unknown option $1" >&2; usage ;;
    *) BUILD=$1; shift ;;
    esac
done
[ -n "$RUNS" ] || RUNS=$([ "$QUICK" = 1 ] && echo 2 || echo 5)
[[ "$RUNS" =~ ^[1-9][0-9]*$ ]] || usage

if [ -z "$BUILD" ]; then
    for d in build-bench build build-ctest; do
        if [ -x "$ROOT/$d/src/tools/host/openrr-host" ]; then
            BUILD="$ROOT/$d"
            break
        fi
    done
fi
HOST=${RR_HOST:-${BUILD:+$BUILD/src/tools/host/openrr-host}}
PLAYER=${RR_PLAYER:-${BUILD:+$BUILD/src/tools/player/openrr-player}}
CONVERT=${RR_CONVERT:-${BUILD:+$BUILD/src/tools/openrr-convert}}
missing=""
for t in "openrr-host:$HOST" "openrr-player:$PLAYER" "openrr-convert:$CONVERT"; do
    p=${t#*:}
    [ -n "$p" ] && [ -x "$p" ] || missing="$missing ${t%%:*}(${p:-not found})"
done
command -v python3 >/dev/null || missing="$missing python3"
if [ -n "$missing" ]; then
    echo "bench_host_start.sh: missing:$missing" >&2
    exit 1
fi
if [ -z "$CACHE" ]; then
    if [ -n "$BUILD" ]; then
        CACHE="$BUILD/bench/host-start-cache"
    else
        CACHE="$(dirname "$HOST")/host-start-cache"
    fi
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/rr-bench-host-start.XXXXXX")
cleanup() { # shellcheck disable=SC2317 # called by the EXIT trap
    if [ "$KEEP" = 1 ]; then
        echo "# logs kept in $TMP" >&2
    else
        rm -rf -- "$TMP"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# ---- the assets, generated once per ASSET_VERSION and kept in $CACHE ---------------------------

# make_asset NAME TRIANGLES DIR: DIR/NAME.rrasset from a generated grid; the GLB is deleted.
make_asset() {
    local name=$1 tris=$2 dir=$3
    if ! python3 "$GEN" "$dir/$name.glb" "$tris" "${PLACE[@]}" -q; then
        echo "bench_host_start.sh: make-gltf.py failed for $tris triangles" >&2
        return 1
    fi
    if ! "$CONVERT" "$dir/$name.glb" "$dir/out" --name "$name" >"$dir/$name.convert.log" 2>&1; then
        echo "bench_host_start.sh: openrr-convert failed on $name.glb:" >&2
        tail -n 5 "$dir/$name.convert.log" >&2
        return 1
    fi
    mv "$dir/out/$name.rrasset" "$dir/$name.rrasset" &&
        rm -rf -- "$dir/$name.glb" "$dir/$name.convert.log" "$dir/out"
}

# usable DIR: both assets are there and the converter (this build's) still reads them.
usable() {
    [ -s "$1/big.rrasset" ] && [ -s "$1/tiny.rrasset" ] &&
        "$CONVERT" --inspect "$1/big.rrasset" >/dev/null 2>&1 &&
        "$CONVERT" --inspect "$1/tiny.rrasset" >/dev/null 2>&1
}

prepare_assets() {
    local dir="$CACHE/$ASSET_VERSION" t0 old
    mkdir -p "$CACHE" || return 1
    exec 9>"$CACHE/.lock"
    flock 9 # another run generating the same assets: wait for it
    if usable "$dir"; then
        CACHE_NOTE="reused from $dir"
        return 0
    fi
    for old in "$CACHE"/*; do # other versions: 100+ MB each
        [ -d "$old" ] && [ "$old" != "$dir" ] && rm -rf -- "$old"
    done
    rm -rf -- "$dir" "$dir.tmp"
    mkdir -p "$dir.tmp" || return 1
    echo "generating the assets in $dir (once per version; not part of any figure)" >&2
    t0=$(date +%s%N)
    make_asset big "$BIG_TRIANGLES" "$dir.tmp" && make_asset tiny 2 "$dir.tmp" || return 1
    mv "$dir.tmp" "$dir" || return 1
    CACHE_NOTE="generated in $dir in $((($(date +%s%N) - t0) / 1000000)) ms"
}

CACHE_NOTE=""
if ! prepare_assets; then
    echo "bench_host_start.sh: cannot prepare the assets in $CACHE" >&2
    exit 1
fi
exec 9>&-
BIG="$CACHE/$ASSET_VERSION/big.rrasset"
TINY="$CACHE/$ASSET_VERSION/tiny.rrasset"
size=$(stat -c %s "$BIG")
if [ "$size" -lt "$MIN_BYTES" ]; then
    echo "bench_host_start.sh: $BIG is $size bytes, under the 100 MB ($MIN_BYTES bytes) this" \
        "benchmark is about; raise BIG_TRIANGLES and ASSET_VERSION" >&2
    exit 1
fi

# ---- the measurement ---------------------------------------------------------------------------

export HOST PLAYER BIG TINY TMP RUNS COLD CACHE_NOTE BIG_TRIANGLES
python3 - <<'EOF'
import json, os, re, selectors, shutil, signal, statistics, subprocess, sys, time

E = os.environ
HOST, PLAYER, BIG, TINY, TMP = E["HOST"], E["PLAYER"], E["BIG"], E["TINY"], E["TMP"]
RUNS, COLD = int(E["RUNS"]), E["COLD"] == "1"
TARGET_MS = 1000.0
READY_TIMEOUT_S = 60  # a 100 MB asset loads in well under a second: 60 s means a hang
PLAYER_TIMEOUT_S = 60


class Failure(Exception):
    pass


def progress(msg):
    print(msg, file=sys.stderr, flush=True)


def now():
    return time.monotonic()  # CLOCK_MONOTONIC, the clock the player's stream times use


def tail(path, n=8):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-n:])
    except OSError:
        return ""


def stop(proc, timeout=10):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def read_lines(proc, stream, deadline, want):
    """Lines of @p stream with their arrival time, until want(line) is true or EOF."""
    sel = selectors.DefaultSelector()
    sel.register(stream, selectors.EVENT_READ)
    buf, got = b"", []
    try:
        while True:
            left = deadline - now()
            if left <= 0:
                return got, False
            if not sel.select(left):
                continue
            chunk = os.read(stream.fileno(), 65536)
            t = now()
            if not chunk:
                return got, False
            buf += chunk
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                line = line.decode(errors="replace")
                got.append((t, line))
                if want(line):
                    return got, True
    finally:
        sel.close()


def one_run(tag, asset):
    """Host exec -> readiness line -> player connected -> first frame decoded, in ms."""
    herr = os.path.join(TMP, tag + ".host.err")
    perr = os.path.join(TMP, tag + ".player.err")
    stats = os.path.join(TMP, tag + ".stats.json")
    host = None
    try:
        with open(herr, "w") as he:
            t0 = now()
            host = subprocess.Popen(
                [HOST, "--plain", "-listen", "127.0.0.1:0", "--asset", asset,
                 "--eye-size", "640x360"],
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=he)
        lines, ok = read_lines(host, host.stdout, t0 + READY_TIMEOUT_S,
                               lambda l: l.startswith("ready:"))
        if not ok:
            try:
                rc = host.wait(1)
                why = "openrr-host exited with %d before its readiness line" % rc
            except subprocess.TimeoutExpired:
                why = "no readiness line from openrr-host within %d s" % READY_TIMEOUT_S
            raise Failure("%s: %s:\n%s" % (tag, why, tail(herr)))
        t_ready = lines[-1][0]
        port = re.search(r"listening on port (\d+)", lines[-1][1]).group(1)

        with open(os.path.join(TMP, tag + ".player.out"), "w") as po:
            t_p0 = now()
            player = subprocess.Popen(
                [PLAYER, "--headless", "--frames", "1", "-q", "--stats", stats,
                 "127.0.0.1:" + port],
                stdin=subprocess.DEVNULL, stdout=po, stderr=subprocess.PIPE)
        lines, _ = read_lines(player, player.stderr, t_p0 + PLAYER_TIMEOUT_S, lambda l: False)
        try:
            rc = player.wait(max(1, t_p0 + PLAYER_TIMEOUT_S - now()))
        except subprocess.TimeoutExpired:
            player.kill()
            player.wait()
            rc = "killed after %d s" % PLAYER_TIMEOUT_S
        t_exit = now()
        with open(perr, "w") as f:
            f.write("".join("%.6f %s\n" % (t, l) for t, l in lines))
        if rc != 0:
            raise Failure("%s: openrr-player exit %s:\n%s%s" % (tag, rc, tail(perr), tail(herr)))
        t_connecting = next((t for t, l in lines if ": connecting to " in l), None)
        t_conn = next((t for t, l in lines if ": connected to " in l), None)
        with open(stats) as f:
            st = json.load(f)
        lat = {k: v["median"] for k, v in st["latency"].items()}
        if t_conn is None or t_connecting is None or lat.get("decodeToPresent") is None:
            raise Failure("%s: the player's output lacks what the figure needs:\n%s" % (
                tag, tail(perr)))
        # The player's stats say when, after Connected, it took the first frame (durationS
        # ends there, ms resolution) and how long before that it was decoded.
        t_decoded = t_conn + st["durationS"] - lat["decodeToPresent"] / 1000.0
        if not t_conn <= t_decoded <= t_exit:
            raise Failure("%s: inconsistent times (connected %.3f, decoded %.3f, exit %.3f)" % (
                tag, t_conn, t_decoded, t_exit))
        ms = lambda a, b: (b - a) * 1000.0
        after = sum(lat.get(k) or 0.0 for k in (
            "render", "renderToEncode", "encode", "encodeToSend", "transport", "decode"))
        r = {
            "start_first_frame": ms(t0, t_decoded),
            "start_ready": ms(t0, t_ready),
            "ready_first_frame": ms(t_ready, t_decoded),
            "player_start": ms(t_ready, t_connecting),
            "handshake": ms(t_connecting, t_conn),
            "before_render": ms(t_conn, t_decoded) - after,
            "render": lat.get("render") or 0.0,
            "encode": sum(lat.get(k) or 0.0 for k in ("renderToEncode", "encode", "encodeToSend")),
            "transport_decode": sum(lat.get(k) or 0.0 for k in ("transport", "decode")),
            "player_end": ms(t_decoded, t_exit),
        }
        with open(herr) as f:
            host_log = f.read()
        m = re.search(r"rendering with (.*)", host_log)
        r["renderer"] = m.group(1) if m else "?"
        m = re.search(r"encoder (\S+), codec (\S+)", host_log)
        r["encoder"] = "%s (%s)" % m.groups() if m else "?"
        return r
    finally:
        if host is not None:
            stop(host)


def read_file_ms(path):
    t = now()
    subprocess.run(["cat", path], stdout=subprocess.DEVNULL, check=True)
    return (now() - t) * 1000.0


def drop_from_page_cache(path):
    """Evict @p path's pages (only this file's: the tools and libraries stay cached).
    Returns the share still resident afterwards as a string, or why it is unknown."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)
    if shutil.which("fincore"):
        out = subprocess.run(["fincore", "--bytes", "--noheadings", "--output", "RES", path],
                             capture_output=True, text=True)
        try:
            return "%.1f %%" % (100.0 * int(out.stdout.split()[0]) / os.path.getsize(path))
        except (ValueError, IndexError):
            pass
    return "unknown (no fincore)"


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def main():
    size = os.path.getsize(BIG)
    notes = ["load average at start: %s" % loadavg()]
    progress("warm-up: one untimed tiny-asset run and one read of the big asset")
    one_run("warmup", TINY)
    read_file_ms(BIG)

    big, tiny, cat = [], [], []
    for i in range(RUNS):
        # Interleaved, so that the other load on a shared machine hits both sides alike.
        progress("run %d/%d" % (i + 1, RUNS))
        cat.append(read_file_ms(BIG))
        tiny.append(one_run("tiny-%d" % i, TINY))
        big.append(one_run("big-%d" % i, BIG))
        progress("  cat %.0f ms, tiny %.0f ms, big %.0f ms (ready %.0f + %.0f, render %.0f)" % (
            cat[-1], tiny[-1]["start_first_frame"], big[-1]["start_first_frame"],
            big[-1]["start_ready"], big[-1]["ready_first_frame"], big[-1]["render"]))

    cold = cold_cat = None
    if COLD:
        progress("cold-ish run: the asset dropped from the page cache")
        resident = drop_from_page_cache(BIG)
        cold_cat = read_file_ms(BIG)
        resident2 = drop_from_page_cache(BIG)
        cold = one_run("big-cold", BIG)
        notes.append("cold-ish run: posix_fadvise(DONTNEED) on the asset only (resident after "
                     "the drop: %s before the read, %s before the host run); the tools, the "
                     "libraries and Mesa stay cached. On a VM the host's own cache may still "
                     "serve the 'disk'" % (resident, resident2))

    def med(runs, k):
        return statistics.median(r[k] for r in runs)

    def mx(runs, k):
        return max(r[k] for r in runs)

    bff, tff = med(big, "start_first_frame"), med(tiny, "start_first_frame")
    cat_med = statistics.median(cat)
    # Paired by round (the two runs of a round saw the same machine), then the median.
    load = statistics.median(b["start_ready"] - t["start_ready"] for b, t in zip(big, tiny))
    verdict = "PASS" if bff <= TARGET_MS else "FAIL"
    # name, value, anchor, anchor's name, target, result
    rows = [
        ("host_start_first_frame_median_ms", bff, tff, "tiny asset", "<= %.0f ms" % TARGET_MS,
         verdict),
        ("host_start_first_frame_max_ms", mx(big, "start_first_frame"),
         mx(tiny, "start_first_frame"), "tiny asset", "reported", "-"),
        ("host_start_ready_median_ms", med(big, "start_ready"), med(tiny, "start_ready"),
         "tiny asset", "reported", "-"),
        ("host_ready_first_frame_median_ms", med(big, "ready_first_frame"),
         med(tiny, "ready_first_frame"), "tiny asset", "reported", "-"),
        ("host_first_frame_render_median_ms", med(big, "render"), med(tiny, "render"),
         "tiny asset", "reported", "-"),
        ("host_start_asset_load_ms", load, cat_med, "cat, warm", "reported", "-"),
    ]
    if cold is not None:
        rows.append(("host_start_first_frame_cold_ms", cold["start_first_frame"], bff,
                     "warm median", "reported", "-"))
        rows.append(("host_asset_read_cold_ms", cold_cat, cat_med, "cat, warm", "reported", "-"))

    print("\n%-34s %4s %10s %10s %-11s %8s  %-11s %s" % (
        "figure", "unit", "openrr", "anchor", "(anchor)", "ratio", "target", "result"))
    for name, v, a, an, target, res in rows:
        ratio = "%7.2fx" % (v / a) if a > 0 else "%8s" % "n/a"
        print("%-34s %4s %10.1f %10.1f %-11s %s  %-11s %s" % (name, "ms", v, a, an, ratio,
                                                               target, res))

    stages = [
        ("exec -> readiness line", "start_ready"),
        ("  readiness -> player connecting", "player_start"),
        ("  connecting -> connected", "handshake"),
        ("  connected -> render start", "before_render"),
        ("  render (first frame)", "render"),
        ("  render end -> encoded, sent", "encode"),
        ("  transport + decode", "transport_decode"),
        ("exec -> first frame decoded", "start_first_frame"),
        ("(player teardown, not counted)", "player_end"),
    ]
    print("\n%-34s %10s %10s %10s %10s" % ("stage, ms", "100MB med", "100MB max", "tiny med",
                                           "tiny max"))
    for label, k in stages:
        print("%-34s %10.1f %10.1f %10.1f %10.1f" % (label, med(big, k), mx(big, k), med(tiny, k),
                                                     mx(tiny, k)))
    if cold is not None:
        print("%-34s %10.1f  (start -> ready %.1f, render %.1f; one run)" % (
            "exec -> first frame, cold-ish", cold["start_first_frame"], cold["start_ready"],
            cold["render"]))
    print()
    for name, v, a, an, target, res in rows:
        ratio = "%.4f" % (v / a) if a > 0 else "null"
        print('BENCH {"name":"%s","value":%.3f,"anchor":%.3f,"ratio":%s,"unit":"ms"}' % (
            name, v, a, ratio))

    notes.append("load average at end: %s; %d CPUs" % (loadavg(), os.cpu_count() or 0))
    notes.append("asset: %s, %d bytes (%.1f MB), a %s-triangle floor grid in view of the first "
                 "frame; %s" % (BIG, size, size / 1e6, E["BIG_TRIANGLES"], E["CACHE_NOTE"]))
    notes.append("anchors: the same host start with %s (2 triangles, same placement), and "
                 "`cat` of the big asset (warm page cache)" % os.path.basename(TINY))
    notes.append("host: --plain -listen 127.0.0.1:0 --asset A --eye-size 640x360; renderer %s; "
                 "encoder %s" % (big[0]["renderer"], big[0]["encoder"]))
    notes.append("player: --headless --frames 1 -q --stats F, connecting to the readiness line's "
                 "port; first frame decoded = its 'connected' line + durationS - decodeToPresent")
    notes.append("%d timed runs of each kind, interleaved (cat, tiny, big), after one untimed "
                 "warm-up; warm page cache (a host restarting); ms from CLOCK_MONOTONIC" % RUNS)
    notes.append("connected -> render start = the rest of connected -> decoded after the "
                 "library's own stage times (render .. decode): the host's Connected handling "
                 "and its wait for the first pose")
    for n in notes:
        print("# " + n)


try:
    main()
except Failure as e:
    print("bench_host_start.sh: %s" % e, file=sys.stderr)
    sys.exit(1)
except (OSError, subprocess.SubprocessError, ValueError, KeyError) as e:
    print("bench_host_start.sh: %s: %s" % (type(e).__name__, e), file=sys.stderr)
    sys.exit(1)
EOF
