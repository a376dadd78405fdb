#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# openrr-convert against gltfpack (the anchor) on generated 1M- and 5M-triangle GLBs: median wall
# time and peak RSS of 3 alternating runs each, a table, BENCH lines; exit 0 whenever it ran.
#
# Usage: bench/bench_convert.sh [--runs N] [--sizes "1000000 5000000"] [--keep] [CONVERTER]
# CONVERTER defaults to $RR_CONVERT, else the first of build-bench/, build/ and build-ctest/
# (…/src/tools/openrr-convert) that exists. Needs python3, gltfpack and GNU time (/usr/bin/time).
# Exit status: 0 = everything ran (whatever the figures), 1 = a tool failed or is missing,
# 2 = bad usage. Progress goes to stderr; the table, BENCH lines and notes to stdout.
set -u

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
GEN="$ROOT/tests/data-gen/make-gltf.py"
RUNS=3
SIZES="1000000 5000000"
KEEP=0
CONVERT=${RR_CONVERT:-}

usage() {
    sed -n '5,10p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
}
while [ $# -gt 0 ]; do
    case $1 in
    --runs) RUNS=${2:-}; shift 2 || usage ;;
    --sizes) SIZES=${2:-}; shift 2 || usage ;;
    --keep) KEEP=1; shift ;;
    -h | --help) usage ;;
    -*) echo "bench_convert.sh: unknown option $1" >&2; usage ;;
    *) CONVERT=$1; shift ;;
    esac
done
[[ "$RUNS" =~ ^[1-9][0-9]*$ ]] || usage
if [ -z "$CONVERT" ]; then
    for d in build-bench build build-ctest; do
        if [ -x "$ROOT/$d/src/tools/openrr-convert" ]; then
            CONVERT="$ROOT/$d/src/tools/openrr-convert"
            break
        fi
    done
fi
missing=""
[ -n "$CONVERT" ] && [ -x "$CONVERT" ] || missing="$missing openrr-convert(${CONVERT:-not found})"
command -v gltfpack >/dev/null || missing="$missing gltfpack"
[ -x /usr/bin/time ] || missing="$missing /usr/bin/time(package time)"
command -v python3 >/dev/null || missing="$missing python3"
if [ -n "$missing" ]; then
    echo "bench_convert.sh: missing:$missing" >&2
    exit 1
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/rr-bench-convert.XXXXXX")
cleanup() { # shellcheck disable=SC2317 # called by the EXIT trap
    if [ "$KEEP" = 1 ]; then
        echo "# files kept in $TMP" >&2
    else
        rm -rf -- "$TMP"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

LIMIT=900 # seconds per run; a run over it counts as a failure
failed=0

# measure TAG CMD...: one bounded run under GNU time; appends "SECONDS KIB" to $TMP/TAG.samples.
measure() {
    local tag=$1 rc t0 t1
    shift
    t0=$(date +%s%N)
    timeout -k 5 "$LIMIT" /usr/bin/time -o "$TMP/$tag.time" -f '%e %M' "$@" \
        >"$TMP/$tag.log" 2>&1
    rc=$?
    t1=$(date +%s%N)
    if [ "$rc" -ne 0 ]; then
        echo "bench_convert.sh: $tag failed (exit $rc): $*" >&2
        tail -n 5 "$TMP/$tag.log" >&2
        failed=1
        return 1
    fi
    # GNU time's %e has 10 ms steps: the wall time is taken here (ns), the peak RSS from %M.
    echo "$(((t1 - t0) / 1000000)) $(awk '{print $2}' "$TMP/$tag.time" | tail -n 1)" |
        awk '{printf "%.3f %s\n", $1 / 1000, $2}' >>"$TMP/$tag.samples"
    echo "  $tag: $(tail -n 1 "$TMP/$tag.samples" | awk '{printf "%.3f s, %.0f MB", $1, $2 / 1024}')" >&2
}

# median TAG: "SECONDS MB" medians of the samples (each column on its own), or "n/a n/a".
median() {
    python3 - "$TMP/$1.samples" <<'EOF' 2>/dev/null || echo "n/a n/a"
import statistics, sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
t = statistics.median(float(r[0]) for r in rows)
m = statistics.median(float(r[1]) / 1024 for r in rows)
print("%.3f %.1f" % (t, m))
EOF
}

label() { # 1000000 -> 1m, 2500000 -> 2.5m, 20000 -> 20k
    python3 -c '
import sys
n = int(sys.argv[1])
if n >= 1000000:
    print(("%g" % (n / 1e6)) + "m")
else:
    print(("%g" % (n / 1e3)) + "k")
' "$1"
}

ROWS=()
BENCH=()
NOTES=()

# row INPUT TOOL TIME MB RT RM TARGET RESULT
row() { ROWS+=("$(printf '%-16s %-15s %9s %9s %8s %8s  %-17s %s' "$@")"); }

for n in $SIZES; do
    l=$(label "$n")
    in="$TMP/in-$l.glb"
    echo "generating $n triangles" >&2
    t0=$(date +%s%N)
    if ! python3 "$GEN" "$in" "$n" -q; then
        echo "bench_convert.sh: make-gltf.py failed for $n" >&2
        failed=1
        continue
    fi
    NOTES+=("in-$l.glb: $n triangles, $(($(stat -c %s "$in") / 1048576)) MiB, generated in $((($(date +%s%N) - t0) / 1000000)) ms")
    for r in $(seq 1 "$RUNS"); do
        echo "run $r/$RUNS, $l" >&2
        rm -f "$TMP/gltfpack-$l.glb"
        measure "gltfpack-$l" gltfpack -i "$in" -o "$TMP/gltfpack-$l.glb"
        rm -rf "$TMP/out-$l"
        measure "convert-$l" "$CONVERT" "$in" "$TMP/out-$l"
    done
    read -r at am <<<"$(median "gltfpack-$l")"
    read -r ct cm <<<"$(median "convert-$l")"
    ratios=$(python3 -c '
import sys
def r(a, b):
    try:
        return "%.2f" % (float(a) / float(b))
    except (ValueError, ZeroDivisionError):
        return "n/a"
print(r(sys.argv[1], sys.argv[2]), r(sys.argv[3], sys.argv[4]))
' "$ct" "$at" "$cm" "$am")
    read -r rt rm_ <<<"$ratios"
    verdict() { # RATIO LIMIT
        python3 -c 'import sys; print("PASS" if float(sys.argv[1]) <= float(sys.argv[2]) else "MISS")' \
            "$1" "$2" 2>/dev/null || echo "-"
    }
    row "in-$l.glb" gltfpack "$at" "$am" "1.00" "1.00" "anchor" "-"
    row "in-$l.glb" openrr-convert "$ct" "$cm" "${rt}x" "${rm_}x" "<=1.5x,<=2x" \
        "time $(verdict "$rt" 1.5), memory $(verdict "$rm_" 2)"
    js() { [[ "$1" =~ ^[0-9.]+$ ]] && echo "$1" || echo null; }
    BENCH+=("BENCH {\"name\":\"convert_${l}_time_s\",\"value\":$(js "$ct"),\"anchor\":$(js "$at"),\"ratio\":$(js "$rt"),\"unit\":\"s\"}")
    BENCH+=("BENCH {\"name\":\"convert_${l}_peak_mb\",\"value\":$(js "$cm"),\"anchor\":$(js "$am"),\"ratio\":$(js "$rm_"),\"unit\":\"MB\"}")
    if [ -s "$TMP/out-$l/in-$l.rrasset" ]; then
        asset="$TMP/out-$l/in-$l.rrasset"
        NOTES+=("in-$l.rrasset: $(($(stat -c %s "$asset") / 1048576)) MiB; gltfpack output $(($(stat -c %s "$TMP/gltfpack-$l.glb" 2>/dev/null || echo 0) / 1048576)) MiB")
        # Host-side load: no loader program here; --inspect (map, validate every record, hash
        # every section, print) is an upper bound of what rr_asset_open costs a host.
        for r in $(seq 1 "$RUNS"); do
            measure "inspect-$l" "$CONVERT" --inspect "$asset"
        done
        read -r it im <<<"$(median "inspect-$l")"
        row "in-$l.rrasset" "--inspect" "$it" "$im" "-" "-" "load, upper bound" "-"
        BENCH+=("BENCH {\"name\":\"inspect_${l}_time_s\",\"value\":$(js "$it"),\"anchor\":null,\"ratio\":null,\"unit\":\"s\"}")
        # The host's own load: rr_asset_open (mmap + validation, no checksum pass).
        loader="$(dirname "$CONVERT")/../../bench/bench_asset_load"
        if [ -x "$loader" ]; then
            while IFS= read -r line; do
                case "$line" in
                BENCH*) BENCH+=("${line/asset_load_ms_per_100mb/asset_load_${l}_ms_per_100mb}") ;;
                *) NOTES+=("in-$l.rrasset: $line") ;;
                esac
            done < <("$loader" "$asset")
        fi
    fi
    rm -f "$in" "$TMP/gltfpack-$l.glb"
    rm -rf "$TMP/out-$l"
done

printf '%-16s %-15s %9s %9s %8s %8s  %-17s %s\n' input tool "median s" "peak MB" "time x" "mem x" \
    target result
printf '%s\n' "${ROWS[@]}"
printf '%s\n' "${BENCH[@]}"
printf '# %s\n' "${NOTES[@]}"
echo "# $RUNS runs per tool, alternating gltfpack / openrr-convert; medians of wall time and of peak RSS (GNU time %M)."
echo "# gltfpack $(gltfpack -v 2>&1 | head -n 1 | sed 's/^gltfpack //') with its defaults (-i in.glb -o out.glb); converter: $CONVERT"
echo "# --inspect rows: map + validate + hash every section + print (an upper bound); the host's"
echo "#   own load (rr_asset_open: mmap + validate) is measured by bench_asset_load, in the notes."
echo "# $(nproc) CPUs, $(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo) RAM"
exit "$failed"
