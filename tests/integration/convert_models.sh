#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# openrr-convert on real models (Debian's assimp-testmodels: glTF, GLB, binary/ASCII FBX, PLY mesh
# and point cloud), a generated 5M-triangle GLB, and the ConversionSettings.json options.
#
# Finds the converter through RR_CONVERT (set by tests/integration/CMakeLists.txt when the
# openrr-convert target exists), else next to RR_TOOL; without either it skips. Statistics are
# compared with what `assimp info FILE` (assimp-utils) prints for the same file. Environment:
# RR_CONVERT_BIG_TRIANGLES (default 5000000) and RR_CONVERT_BIG_TIMEOUT (seconds, default 240:
# ctest gives each shell test 300 s in all).
set -u
. "$(dirname "$0")/lib.sh"
rr_init
rr_convert_init
if [ ! -d "$MODELS" ] || ! command -v assimp >/dev/null; then
    rr_not_ok "environment: assimp-testmodels ($MODELS) and assimp-utils (assimp) are needed"
    rr_finish
fi

# conv NAME ARGS...: run the converter (bounded by $CONV_TIMEOUT s, default 120), stdout to
# $RR_TMP/NAME.out, stderr to NAME.err; RR_RC = exit status, RR_MS = run time in ms.
conv() {
    local name=$1 t0
    shift
    t0=$(rr_now_ms)
    timeout -k 5 "${CONV_TIMEOUT:-120}" "$CONVERT" "$@" >"$RR_TMP/$name.out" 2>"$RR_TMP/$name.err"
    RR_RC=$?
    RR_MS=$(($(rr_now_ms) - t0))
}

# jval FILE PATH: the JSON value at a dotted PATH (a.b.0.c) of FILE, JSON-encoded; "MISSING".
jval() {
    python3 - "$1" "$2" <<'EOF' 2>/dev/null || echo MISSING
import json, sys
v = json.load(open(sys.argv[1]))
for k in sys.argv[2].split("."):
    v = v[int(k)] if isinstance(v, list) else v[k]
print(json.dumps(v))
EOF
}

# check_result DIR NAME: result.json reports Succeeded with no errors.
check_result() {
    local st errs
    st=$(jval "$1/$2.result.json" status)
    errs=$(jval "$1/$2.result.json" errors)
    [ "$st" = '"Succeeded"' ] && [ "$errs" = '[]' ]
}

# assimp_stats FILE: "meshes faces vertices materials nodes" from `assimp info FILE`, or from
# `assimp info -r FILE` when the post-processed import fails (a point cloud has no faces and
# assimp's validation refuses it) — then the 6th word is "raw".
assimp_stats() {
    local out raw=""
    out=$(timeout -k 2 60 assimp info "$1" 2>&1)
    if ! grep -q '^Faces:' <<<"$out"; then
        out=$(timeout -k 2 60 assimp info "$1" -r 2>&1)
        raw=raw
    fi
    python3 -c '
import re, sys
t = sys.stdin.read()
def g(k):
    m = re.search(r"^" + k + r":\s+(\d+)", t, re.M)
    return m.group(1) if m else "?"
print(g("Meshes"), g("Faces"), g("Vertices"), g("Materials"), g("Nodes"), sys.argv[1])
' "$raw" <<<"$out"
}

# info_stats INFO_JSON: the same five numbers from info.json's inputStatistics.
info_stats() {
    python3 - "$1" <<'EOF' 2>/dev/null || echo "unreadable"
import json, sys
s = json.load(open(sys.argv[1]))["inputStatistics"]
print(*(s.get(k, "?") for k in ("numMeshes", "numFaces", "numVertices", "numMaterial", "numNodes")))
EOF
}

# sections RRASSET: "TYPE:COUNT:FLAGS ..." of the section table (parsed from include/openrr/asset.h's
# records: header 80 bytes, 48-byte section entries).
sections() {
    python3 - "$1" <<'EOF' 2>/dev/null || echo "unreadable"
import struct, sys
d = open(sys.argv[1], "rb").read()
magic, vmaj, vmin, hsize, fsize, toff, n = struct.unpack_from("<8sHHIQQI", d, 0)
assert magic == b"RRASSET\0" and fsize == len(d)
out = []
for i in range(n):
    typ, flags, off, stored, size, count, h = struct.unpack_from("<IIQQQQQ", d, toff + 48 * i)
    out.append("%d:%d:%d" % (typ, count, flags))
print(" ".join(out))
EOF
}

# section_count RRASSET TYPE: the record count of a section type (0 when absent).
section_count() {
    local s
    for s in $(sections "$1"); do
        if [ "${s%%:*}" = "$2" ]; then
            s=${s#*:}
            echo "${s%%:*}"
            return
        fi
    done
    echo 0
}

# progress_ok FILE: every stdout line is a JSON object with a stage and a progress in 0..1, and
# the last one is {"stage":"done","progress":1.0,"status":"Succeeded"}. Prints what is wrong.
progress_ok() {
    python3 - "$1" <<'EOF'
import json, sys
lines = [l for l in open(sys.argv[1]).read().splitlines() if l.strip()]
if not lines:
    sys.exit("no progress lines")
for i, l in enumerate(lines):
    try:
        o = json.loads(l)
    except ValueError as e:
        sys.exit("line %d is not JSON (%s): %r" % (i + 1, e, l[:120]))
    if not isinstance(o, dict) or not isinstance(o.get("stage"), str):
        sys.exit("line %d has no stage: %r" % (i + 1, l[:120]))
    p = o.get("progress")
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 <= p <= 1:
        sys.exit("line %d progress is not in 0..1: %r" % (i + 1, l[:120]))
last = json.loads(lines[-1])
if last.get("stage") != "done" or last.get("progress") != 1 or last.get("status") != "Succeeded":
    sys.exit("last line is not done/1.0/Succeeded: %r" % lines[-1][:200])
print("%d lines" % len(lines))
EOF
}

# bbox INFO_JSON: "minx miny minz maxx maxy maxz" of outputStatistics.boundingBox.
bbox() {
    python3 - "$1" <<'EOF' 2>/dev/null || echo "unreadable"
import json, sys
b = json.load(open(sys.argv[1]))["outputStatistics"]["boundingBox"]
print(*("%.9g" % float(x) for x in list(b["min"]) + list(b["max"])))
EOF
}

# bbox_match GOT WANT: both are six numbers; equal within 1e-3 of the larger extent.
bbox_match() {
    python3 - "$1" "$2" <<'EOF'
import sys
try:
    a = [float(x) for x in sys.argv[1].split()]
    b = [float(x) for x in sys.argv[2].split()]
except ValueError:
    sys.exit(1)
if len(a) != 6 or len(b) != 6:
    sys.exit(1)
ext = max(max(b[i + 3] - b[i] for i in range(3)), 1e-6)
sys.exit(0 if all(abs(x - y) <= 1e-3 * ext + 1e-5 for x, y in zip(a, b)) else 1)
EOF
}

# bbox_map BOX EXPR: apply a python expression over (x0 y0 z0 x1 y1 z1) = v giving six numbers.
bbox_map() {
    python3 -c '
import sys
v = [float(x) for x in sys.argv[1].split()]
print(*("%.9g" % x for x in eval(sys.argv[2])))
' "$1" "$2" 2>/dev/null || echo "unreadable"
}

# ---- real models ---------------------------------------------------------------------------
# path | label | expects a texture section (1/0) | point cloud (1/0)
MODEL_LIST="
glTF2/BoxTextured-glTF/BoxTextured.gltf|glTF + external .bin + PNG|1|0
glTF2/2CylinderEngine-glTF-Binary/2CylinderEngine.glb|GLB, 34 primitives|0|0
FBX/box.fbx|binary FBX|0|0
FBX/embedded_ascii/box.FBX|ASCII FBX, embedded PNG|1|0
FBX/box_orphant_embedded_texture.fbx|ASCII FBX, embedded TGA|1|0
FBX/cubes_with_mirroring_and_pivot.fbx|FBX, pivots and mirroring, 12 nodes|0|0
FBX/huesitos.fbx|binary FBX, skinned, 9 bones|0|0
PLY/cube.ply|PLY quad mesh|0|0
PLY/points.ply|PLY point cloud (no faces)|0|1
"

i=0
while IFS='|' read -r rel label want_tex want_points; do
    [ -n "$rel" ] || continue
    i=$((i + 1))
    src="$MODELS/$rel"
    if [ ! -f "$src" ]; then
        rr_not_ok "$rel: missing from assimp-testmodels"
        continue
    fi
    base=$(basename "$rel")
    stem=${base%.*}
    out="$RR_TMP/m$i"
    conv "m$i" "$src" "$out"
    if [ "$RR_RC" -ne 0 ]; then
        rr_not_ok "$rel ($label): converts (exit $RR_RC, ${RR_MS} ms)" "$RR_TMP/m$i.err" \
            "$out/$stem.result.json"
        continue
    fi
    have=1
    for f in "$stem.rrasset" "$stem.info.json" "$stem.result.json"; do
        [ -s "$out/$f" ] || have=0
    done
    rr_result $((have ? 0 : 1)) "$rel ($label): exit 0 in ${RR_MS} ms, writes $stem.rrasset/.info.json/.result.json"
    [ "$have" = 1 ] || continue

    check_result "$out" "$stem"
    rr_result $? "$rel: result.json status Succeeded, no errors" "$out/$stem.result.json"

    want=$(assimp_stats "$src")
    got=$(info_stats "$out/$stem.info.json")
    # want has a 6th word ("raw" or nothing); compare the five numbers.
    read -r wm wf wv wmat wn wraw <<<"$want"
    [ "$got" = "$wm $wf $wv $wmat $wn" ]
    rr_result $? \
        "$rel: inputStatistics meshes/faces/vertices/materials/nodes = assimp info${wraw:+ -r} ($wm $wf $wv $wmat $wn)" \
        "$out/$stem.info.json"
    if [ "$got" != "$wm $wf $wv $wmat $wn" ]; then
        rr_note "  info.json: $got; assimp info${wraw:+ -r}: $wm $wf $wv $wmat $wn; assimp info -r: $(timeout 60 assimp info "$src" -r 2>&1 | grep -E '^(Meshes|Faces|Vertices|Materials|Nodes):' | tr -s ' ' | tr '\n' ' ')"
    fi

    conv "m$i-inspect" --inspect "$out/$stem.rrasset"
    rr_result $((RR_RC == 0 && $(rr_count "$RR_TMP/m$i-inspect.out" 'checksums: ok') > 0 ? 0 : 1)) \
        "$rel: --inspect exits 0 with 'checksums: ok' (exit $RR_RC)" "$RR_TMP/m$i-inspect.out" \
        "$RR_TMP/m$i-inspect.err"

    secs=$(sections "$out/$stem.rrasset")
    ntex=$(section_count "$out/$stem.rrasset" 8)
    if [ "$want_tex" = 1 ]; then
        rr_result $((ntex >= 1 ? 0 : 1)) "$rel: the asset has a TEXTURES section ($ntex textures)"
    else
        rr_result $((ntex == 0 ? 0 : 1)) "$rel: no TEXTURES section for an untextured model ($ntex)"
    fi
    if [ "$want_points" = 1 ]; then
        npc=$(section_count "$out/$stem.rrasset" 12)
        nmesh=$(section_count "$out/$stem.rrasset" 5)
        rr_result $((npc >= 1 && nmesh == 0 ? 0 : 1)) \
            "$rel: stored as a point cloud (POINT_CLOUDS $npc, MESHES $nmesh)"
    fi
    [ "$secs" != unreadable ] || rr_note "  section table of $out/$stem.rrasset unreadable"

    conv "m$i-prog" "$src" "$out-prog" --json-progress
    why=$(progress_ok "$RR_TMP/m$i-prog.out" 2>&1)
    prc=$?
    rr_result $((RR_RC == 0 && prc == 0 ? 0 : 1)) \
        "$rel: --json-progress prints JSON lines ending done/1.0/Succeeded ($why; exit $RR_RC)" \
        "$RR_TMP/m$i-prog.out" "$RR_TMP/m$i-prog.err"
done <<<"$MODEL_LIST"

# --name picks the output names.
conv name "$MODELS/PLY/cube.ply" "$RR_TMP/named" --name renamed
named=0
for f in renamed.rrasset renamed.info.json renamed.result.json; do
    [ -s "$RR_TMP/named/$f" ] && named=$((named + 1))
done
rr_result $((RR_RC == 0 && named == 3 ? 0 : 1)) \
    "--name NAME writes NAME.rrasset, NAME.info.json and NAME.result.json (exit $RR_RC)" \
    "$RR_TMP/name.err"

# --compress: a valid, checksummed asset with zstd sections, smaller for a large regular mesh.
python3 "$GEN" "$RR_TMP/grid.glb" 200000 -q
conv plain "$RR_TMP/grid.glb" "$RR_TMP/plain"
conv zstd "$RR_TMP/grid.glb" "$RR_TMP/zstd" --compress
conv zstd-inspect --inspect "$RR_TMP/zstd/grid.rrasset"
psize=$(stat -c %s "$RR_TMP/plain/grid.rrasset" 2>/dev/null || echo 0)
zsize=$(stat -c %s "$RR_TMP/zstd/grid.rrasset" 2>/dev/null || echo 0)
nz=$(sections "$RR_TMP/zstd/grid.rrasset" | tr ' ' '\n' | grep -c ':1$')
rr_result $((RR_RC == 0 && zsize > 0 && zsize < psize && nz > 0 && $(rr_count "$RR_TMP/zstd-inspect.out" 'checksums: ok') > 0 ? 0 : 1)) \
    "--compress: $nz zstd sections, $zsize < $psize bytes, --inspect checksums ok" \
    "$RR_TMP/zstd.err" "$RR_TMP/zstd-inspect.out" "$RR_TMP/zstd-inspect.err"

# ---- a large generated model ---------------------------------------------------------------
big_n=${RR_CONVERT_BIG_TRIANGLES:-5000000}
big_t=${RR_CONVERT_BIG_TIMEOUT:-240}
t0=$(rr_now_ms)
python3 "$GEN" "$RR_TMP/big.glb" "$big_n" -q
gen_ms=$(($(rr_now_ms) - t0))
rr_note "generated $big_n triangles ($(($(stat -c %s "$RR_TMP/big.glb") / 1048576)) MiB .glb) in ${gen_ms} ms"
TIMEF=()
if [ -x /usr/bin/time ]; then
    TIMEF=(/usr/bin/time -o "$RR_TMP/big.time" -f '%e %M')
fi
t0=$(rr_now_ms)
timeout -k 5 "$big_t" "${TIMEF[@]}" "$CONVERT" "$RR_TMP/big.glb" "$RR_TMP/big" \
    >"$RR_TMP/big.out" 2>"$RR_TMP/big.err"
RR_RC=$?
big_ms=$(($(rr_now_ms) - t0))
rss="?"
[ -s "$RR_TMP/big.time" ] && rss=$(($(awk '{print $2}' "$RR_TMP/big.time") / 1024))
rr_note "converted $big_n triangles in $((big_ms / 1000)).$(printf %03d $((big_ms % 1000))) s, peak RSS ${rss} MiB (exit $RR_RC, limit ${big_t} s)"
faces=$(jval "$RR_TMP/big/big.info.json" inputStatistics.numFaces)
[[ "$faces" =~ ^[0-9]+$ ]] || faces=-1
rr_result $((RR_RC == 0 && faces == big_n ? 0 : 1)) \
    "a generated $big_n-triangle GLB converts within ${big_t} s (${big_ms} ms, numFaces $faces)" \
    "$RR_TMP/big.err" "$RR_TMP/big/big.result.json"
check_result "$RR_TMP/big" big
rr_result $? "the $big_n-triangle result.json says Succeeded" "$RR_TMP/big/big.result.json"
conv big-inspect --inspect "$RR_TMP/big/big.rrasset"
rr_result $((RR_RC == 0 && $(rr_count "$RR_TMP/big-inspect.out" 'checksums: ok') > 0 ? 0 : 1)) \
    "--inspect of the $big_n-triangle asset: checksums ok in ${RR_MS} ms" "$RR_TMP/big-inspect.err"
rm -rf -- "$RR_TMP/big"

# Killed while writing: the .rrasset appears by rename only, so none may be left (a
# <name>.rrasset.tmp.<pid> may stay behind after SIGKILL). The progress lines must be streamed
# (flushed per line) for the "write" stage to be seen while the process still runs.
# (Bounded: rr_wait_log gives up after $big_t s and the EXIT trap kills what rr_bg started.)
rr_bg big-kill "$CONVERT" "$RR_TMP/big.glb" "$RR_TMP/big-kill" --json-progress
kpid=$RR_LAST_PID
if rr_wait_log "$RR_TMP/big-kill.out" '"stage" *: *"write"' "$big_t" && rr_alive "$kpid"; then
    rr_kill "$kpid"
    rr_ok "--json-progress lines are streamed: the write stage is seen while converting"
    if [ "$RR_RC" = 0 ]; then
        rr_skip "the conversion finished before SIGKILL arrived: no partial-file check"
    else
        left=$(find "$RR_TMP/big-kill" -maxdepth 1 -name '*.rrasset' 2>/dev/null | wc -l)
        tmps=$(find "$RR_TMP/big-kill" -maxdepth 1 -name '*.tmp.*' 2>/dev/null | wc -l)
        rr_result $((left == 0 ? 0 : 1)) \
            "SIGKILL during the write stage leaves no .rrasset ($tmps temporary file(s) left)"
    fi
else
    rr_wait_pid "$kpid" 5 || rr_kill "$kpid"
    rr_not_ok "--json-progress: no write stage seen while the $big_n-triangle conversion ran (exit $RR_RC)" \
        "$RR_TMP/big-kill.out" "$RR_TMP/big-kill.err"
fi
rm -rf -- "$RR_TMP/big.glb" "$RR_TMP/big-kill"

# ---- ConversionSettings.json ---------------------------------------------------------------
# An asymmetric torus away from the origin: x 8.75..11.25, y 19.5..20.5, z 26.25..33.75.
python3 "$GEN" "$RR_TMP/torus.glb" 20000 --shape torus --scale 1 2 3 --offset 10 20 30 -q

# with_settings CASE JSON [ARGS...]: convert a copy of torus.glb in its own directory with JSON
# as torus.ConversionSettings.json beside it (none when JSON is empty); output in CASE.dir/.
with_settings() {
    local c=$1 json=$2
    shift 2
    mkdir -p "$RR_TMP/$c"
    cp "$RR_TMP/torus.glb" "$RR_TMP/$c/torus.glb"
    [ -z "$json" ] || printf '%s\n' "$json" >"$RR_TMP/$c/torus.ConversionSettings.json"
    conv "$c" "$RR_TMP/$c/torus.glb" "$RR_TMP/$c.dir" "$@"
}

with_settings s-default ""
base_rc=$RR_RC
base=$(bbox "$RR_TMP/s-default.dir/torus.info.json")
rr_result $((base_rc == 0 ? 0 : 1)) "settings: default conversion of the torus (bounds $base)" \
    "$RR_TMP/s-default.err"
bbox_match "$base" "8.75 19.5 26.25 11.25 20.5 33.75"
rr_result $? \
    "settings: default bounds are the input's (8.75 19.5 26.25 .. 11.25 20.5 33.75)"
base_size=$(stat -c %s "$RR_TMP/s-default.dir/torus.rrasset" 2>/dev/null || echo 0)

with_settings s-scale '{"scaling": 2}'
got=$(bbox "$RR_TMP/s-scale.dir/torus.info.json")
want=$(bbox_map "$base" '[2 * x for x in v]')
rr_result $((RR_RC == 0 ? 0 : 1)) "settings: scaling 2 beside the input converts" "$RR_TMP/s-scale.err"
bbox_match "$got" "$want"
rr_result $? \
    "settings: scaling 2 doubles the bounding box (got $got, want $want)"
sc=$(jval "$RR_TMP/s-scale.dir/torus.info.json" conversionSettings.scaling)
python3 -c "import sys; sys.exit(0 if float('$sc') == 2 else 1)" 2>/dev/null
rr_result $? \
    "settings: info.json conversionSettings records scaling 2 (got $sc)"

with_settings s-center '{"recenterToOrigin": true}'
got=$(bbox "$RR_TMP/s-center.dir/torus.info.json")
want=$(bbox_map "$base" '[v[i] - (v[i % 3] + v[i % 3 + 3]) / 2 for i in range(6)]')
rr_result $((RR_RC == 0 ? 0 : 1)) "settings: recenterToOrigin converts" "$RR_TMP/s-center.err"
bbox_match "$got" "$want"
rr_result $? \
    "settings: recenterToOrigin centres the bounding box on 0 (got $got, want $want)"
off=$(jval "$RR_TMP/s-center.dir/torus.info.json" outputStatistics.recenteringOffset)
rr_note "recenteringOffset: $off"

with_settings s-axis '{"axis": ["+x", "+z", "-y"]}'
got=$(bbox "$RR_TMP/s-axis.dir/torus.info.json")
# Output right = input +x, up = input +z, forward = input -y: (x, y, z) -> (x, z, -y).
want=$(bbox_map "$base" '[v[0], v[2], -v[4], v[3], v[5], -v[1]]')
rr_result $((RR_RC == 0 ? 0 : 1)) "settings: axis [+x,+z,-y] converts" "$RR_TMP/s-axis.err"
bbox_match "$got" "$want"
rr_result $? \
    "settings: axis [+x,+z,-y] maps the bounds (x,y,z)->(x,z,-y) (got $got, want $want)"

with_settings s-f16 '{"vertex": {"position": "16_16_16_16_FLOAT"}}'
size=$(stat -c %s "$RR_TMP/s-f16.dir/torus.rrasset" 2>/dev/null || echo 0)
rr_result $((RR_RC == 0 && size > 0 && size < base_size ? 0 : 1)) \
    "settings: vertex.position 16_16_16_16_FLOAT gives a smaller .rrasset ($size < $base_size bytes)" \
    "$RR_TMP/s-f16.err"
enc=$(python3 - "$RR_TMP/s-f16.dir/torus.rrasset" <<'EOF' 2>/dev/null || echo "?"
import struct, sys
d = open(sys.argv[1], "rb").read()
toff, n = struct.unpack_from("<QI", d, 24)
for i in range(n):
    typ, flags, off, stored, size, count, h = struct.unpack_from("<IIQQQQQ", d, toff + 48 * i)
    if typ == 5 and not flags & 1:
        print(" ".join(str(struct.unpack_from("<I", d, off + 96 * m + 4)[0] & 0xf)
                       for m in range(count)))
EOF
)
[ -n "$enc" ] && [ -z "$(tr -d ' 2' <<<"$enc")" ]
rr_result $? \
    "settings: every mesh's position stream is FLOAT16x4 (encodings: ${enc:-none})"

mkdir -p "$RR_TMP/s-over"
printf '{"scaling": 3}\n' >"$RR_TMP/s-over/explicit.json"
with_settings s-over2 '{"scaling": 2}' --settings "$RR_TMP/s-over/explicit.json"
got=$(bbox "$RR_TMP/s-over2.dir/torus.info.json")
want=$(bbox_map "$base" '[3 * x for x in v]')
rr_result $((RR_RC == 0 ? 0 : 1)) "settings: --settings FILE with a file beside the input converts" \
    "$RR_TMP/s-over2.err"
bbox_match "$got" "$want"
rr_result $? \
    "settings: --settings (scaling 3) overrides the file beside the input (scaling 2) (got $got)"

# On a terminal the converter draws a progress bar on stderr; script(1) gives it a pseudo-terminal.
if command -v script >/dev/null; then
    timeout 120 script -qec "'$CONVERT' '$MODELS/glTF2/2CylinderEngine-glTF-Binary/2CylinderEngine.glb' '$RR_TMP/tty-out'" \
        "$RR_TMP/tty.typescript" >/dev/null 2>&1
    bars=$(tr '\r' '\n' <"$RR_TMP/tty.typescript" | grep -c '^\[[#.]*\] *[0-9]*% ')
    rr_result $(( bars > 2 && $(grep -c '100% done' "$RR_TMP/tty.typescript") > 0 ? 0 : 1 )) \
        "a terminal gets a progress bar on stderr ($bars updates, ending at 100% done)" \
        "$RR_TMP/tty.typescript"
else
    rr_skip "script(1) is missing: the terminal progress bar is not checked"
fi

rr_finish
