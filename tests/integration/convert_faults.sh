#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# openrr-convert on bad input, bad settings and an unwritable output: the stable exit code and
# error code, result.json, no (partial) .rrasset left behind; --inspect on damaged assets.
#
# Every failure must give: the exit code of the contract, stderr "error: <Code>", result.json
# with status Failed and that code in errors[0].code (when OUT_DIR is writable), and no
# *.rrasset and no *.tmp.* file in OUT_DIR. Unreadable input as root: chmod 000 does not stop
# root, so as root the "unreadable" cases are a directory named model.glb (read() gives EISDIR)
# and a path through a regular file (open() gives ENOTDIR); chmod 000 is checked as non-root.
set -u
. "$(dirname "$0")/lib.sh"
rr_init
rr_convert_init
if [ ! -d "$MODELS" ]; then
    rr_not_ok "environment: assimp-testmodels ($MODELS) is needed"
    rr_finish
fi

# conv NAME ARGS...: run the converter (bounded by 120 s), stdout to $RR_TMP/NAME.out, stderr
# to NAME.err; RR_RC = exit status.
conv() {
    local name=$1
    shift
    timeout -k 5 120 "$CONVERT" "$@" >"$RR_TMP/$name.out" 2>"$RR_TMP/$name.err"
    RR_RC=$?
}

# result_code FILE: "STATUS CODE" from a result.json (errors[0].code), "none" when unreadable.
result_code() {
    python3 - "$1" <<'EOF' 2>/dev/null || echo none
import json, sys
r = json.load(open(sys.argv[1]))
e = r.get("errors") or [{}]
print(r.get("status"), e[0].get("code"))
EOF
}

# expect_fail NAME DESC EXITS CODES OUT_DIR RESULT_EXPECTED IN [ARGS...]: convert IN into
# OUT_DIR and check the failure. EXITS and CODES are "|"-separated alternatives (e.g. "5|9",
# "InvalidInput|InputTooLarge"); RESULT_EXPECTED=1 when OUT_DIR is writable. The result name is
# IN's stem unless ARGS give --name.
expect_fail() {
    local name=$1 desc=$2 exits=$3 codes=$4 out=$5 want_result=$6 in=$7
    shift 7
    local stem base code got left detail=""
    base=$(basename "$in")
    stem=${base%.*}
    conv "$name" "$in" "$out" "$@"
    local ok=1
    [[ "|$exits|" == *"|$RR_RC|"* ]] || ok=0
    # stderr names the code: "error: <Code>" for one of the accepted codes.
    code=""
    for c in ${codes//|/ }; do
        if grep -q "error: $c\b" "$RR_TMP/$name.err"; then
            code=$c
        fi
    done
    [ -n "$code" ] || { ok=0; detail="no 'error: <$codes>' on stderr"; }
    if [ "$want_result" = 1 ]; then
        got=$(result_code "$out/$stem.result.json")
        if [ "${got%% *}" != Failed ] || [[ "|$codes|" != *"|${got#* }|"* ]]; then
            ok=0
            detail="$detail; result.json: $got"
        fi
    fi
    left=$(find "$out" -maxdepth 1 \( -name '*.rrasset' -o -name '*.tmp.*' \) 2>/dev/null |
        sed 's|.*/||' | tr '\n' ' ')
    if [ -n "$left" ]; then
        ok=0
        detail="$detail; left in OUT_DIR: $left"
    fi
    local rj=""
    [ "$want_result" = 1 ] && rj=", result.json Failed"
    if [ "$ok" = 1 ]; then
        rr_ok "$desc: exit $RR_RC, error: $code on stderr$rj, nothing left in OUT_DIR"
    else
        rr_not_ok "$desc: want exit $exits, error: <$codes> on stderr$rj, nothing left in OUT_DIR; got exit $RR_RC${detail:+; ${detail#; }}" \
            "$RR_TMP/$name.err" "$out/$stem.result.json"
    fi
}

G="$RR_TMP/gen"
mkdir -p "$G"
python3 "$GEN" "$G/good.glb" 2000 --shape sphere -q

# ---- usage -------------------------------------------------------------------------------
conv usage
rr_result $((RR_RC == 64 ? 0 : 1)) "no arguments: usage error 64 (exit $RR_RC)" "$RR_TMP/usage.err"
conv usage2 --no-such-flag "$G/good.glb" "$RR_TMP/o-usage"
rr_result $((RR_RC == 64 ? 0 : 1)) "an unknown flag: usage error 64 (exit $RR_RC)" \
    "$RR_TMP/usage2.err"

# ---- input not found / unreadable ----------------------------------------------------------
expect_fail missing "missing input file" 3 InputNotFound "$RR_TMP/o-missing" 1 \
    "$RR_TMP/no-such-model.glb"

if [ "$(id -u)" != 0 ]; then
    cp "$G/good.glb" "$G/noperm.glb"
    chmod 000 "$G/noperm.glb"
    expect_fail noperm "input file with mode 000" 3 InputUnreadable "$RR_TMP/o-noperm" 1 \
        "$G/noperm.glb"
    chmod 600 "$G/noperm.glb"
else
    rr_note "running as root: mode 000 does not stop root, using a directory and ENOTDIR instead"
fi
mkdir -p "$G/dir/model.glb"
expect_fail isdir "input is a directory named model.glb (unreadable even for root)" 3 \
    "InputUnreadable|InputNotFound" "$RR_TMP/o-isdir" 1 "$G/dir/model.glb"
printf 'plain file\n' >"$G/afile"
expect_fail notdir "input path through a regular file (afile/model.glb, ENOTDIR)" 3 \
    "InputNotFound|InputUnreadable" "$RR_TMP/o-notdir" 1 "$G/afile/model.glb"

# ---- unsupported / invalid input -----------------------------------------------------------
cp "$MODELS/PLY/cube.ply" "$G/cube.xyz123"
expect_fail ext "unsupported extension .xyz123" 4 UnsupportedFormat "$RR_TMP/o-ext" 1 \
    "$G/cube.xyz123"

python3 "$GEN" --truncate "$G/good.glb" "$G/truncated.glb" --keep 0.5
expect_fail trunc "GLB truncated to half its length" 5 InvalidInput "$RR_TMP/o-trunc" 1 \
    "$G/truncated.glb"

python3 "$GEN" --truncate "$G/good.glb" "$G/header-only.glb" --keep 20
expect_fail trunc20 "GLB truncated inside its JSON chunk (20 bytes)" 5 InvalidInput \
    "$RR_TMP/o-trunc20" 1 "$G/header-only.glb"

: >"$G/empty.glb"
expect_fail empty "empty .glb" 5 InvalidInput "$RR_TMP/o-empty" 1 "$G/empty.glb"

python3 "$GEN" "$G/outside.glb" 2000 --bad buffer-outside -q
expect_fail outside "GLB whose bufferView ends 1 MiB past its buffer" 5 InvalidInput \
    "$RR_TMP/o-outside" 1 "$G/outside.glb"
python3 "$GEN" "$G/outside-ext.gltf" 2000 --bad buffer-outside -q
expect_fail outside-ext ".gltf + .bin whose bufferView ends past the .bin" 5 InvalidInput \
    "$RR_TMP/o-outside-ext" 1 "$G/outside-ext.gltf"
python3 "$GEN" "$G/accessor.glb" 2000 --bad accessor-outside -q
expect_fail accessor "GLB whose POSITION accessor reads past its bufferView" 5 InvalidInput \
    "$RR_TMP/o-accessor" 1 "$G/accessor.glb"
python3 "$GEN" "$G/short.gltf" 2000 --bad buffer-short -q
expect_fail short ".gltf whose buffer byteLength exceeds the .bin file" 5 InvalidInput \
    "$RR_TMP/o-short" 1 "$G/short.gltf"

python3 "$GEN" "$G/huge.glb" 2000 --bad huge-count -q
expect_fail huge "GLB with an accessor count of 2^40" "5|9" "InvalidInput|InputTooLarge" \
    "$RR_TMP/o-huge" 1 "$G/huge.glb"

for rel in glTF2/RecursiveNodes/RecursiveNodes.gltf \
    glTF2/IndexOutOfRange/AllIndicesOutOfRange.gltf; do
    n=$(basename "$rel")
    expect_fail "tm-${n%.*}" "assimp-testmodels $rel" 5 InvalidInput "$RR_TMP/o-tm-${n%.*}" 1 \
        "$MODELS/$rel"
done
# Infinite positions (glTF forbids non-finite accessor values; assimp's own validation drops
# the mesh): refused with 5 InvalidInput, or converted with a warning and a finite bounding
# box that still covers the finite coordinates (y and z are -0.5..0.5 in this file).
rel=glTF2/BoxWithInfinites-glTF-Binary/BoxWithInfinites.glb
conv inf "$MODELS/$rel" "$RR_TMP/o-inf"
if [ "$RR_RC" = 0 ]; then
    why=$(python3 - "$RR_TMP/o-inf/BoxWithInfinites.result.json" \
        "$RR_TMP/o-inf/BoxWithInfinites.info.json" <<'EOF' 2>&1
import json, math, sys
r = json.load(open(sys.argv[1]))
b = json.load(open(sys.argv[2]))["outputStatistics"]["boundingBox"]
bad = []
if not r.get("warnings"):
    bad.append("no warning in result.json")
v = list(b["min"]) + list(b["max"])
if not all(math.isfinite(x) for x in v):
    bad.append("bounds not finite")
elif not (v[1] <= -0.49 and v[2] <= -0.49 and v[4] >= 0.49 and v[5] >= 0.49):
    bad.append("bounds %s..%s miss the finite y/z range -0.5..0.5" % (b["min"], b["max"]))
print("; ".join(bad) or "warning: %s" % r["warnings"][0].get("code"))
sys.exit(1 if bad else 0)
EOF
)
    rr_result $? "assimp-testmodels $rel converted (exit 0): must warn and keep finite bounds ($why)" \
        "$RR_TMP/o-inf/BoxWithInfinites.result.json"
else
    expect_fail tm-inf "assimp-testmodels $rel" 5 InvalidInput "$RR_TMP/o-tm-inf" 1 "$MODELS/$rel"
fi

# ---- a texture that does not decode -------------------------------------------------------
mkdir -p "$G/badtex"
cp "$MODELS/glTF2/BoxTextured-glTF/BoxTextured.gltf" "$MODELS/glTF2/BoxTextured-glTF/BoxTextured0.bin" \
    "$G/badtex/"
python3 -c '
import os, sys
n = os.path.getsize(sys.argv[1])
open(sys.argv[2], "wb").write(bytes((i * 131 + 7) & 0xff for i in range(n)))
' "$MODELS/glTF2/BoxTextured-glTF/CesiumLogoFlat.png" "$G/badtex/CesiumLogoFlat.png"
expect_fail badtex "BoxTextured.gltf with its PNG replaced by garbage" 7 TextureDecodeFailed \
    "$RR_TMP/o-badtex" 1 "$G/badtex/BoxTextured.gltf"
# The same garbage behind a valid PNG signature and IHDR length: decoders must still refuse it.
python3 -c '
import sys
d = bytearray(open(sys.argv[1], "rb").read())
d[:16] = b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR"
open(sys.argv[1], "wb").write(bytes(d))
' "$G/badtex/CesiumLogoFlat.png"
expect_fail badtex-sig "BoxTextured.gltf with a PNG signature followed by garbage" 7 \
    TextureDecodeFailed "$RR_TMP/o-badtex-sig" 1 "$G/badtex/BoxTextured.gltf"

# ---- settings with wrong types --------------------------------------------------------------
# bad_settings NAME FIELD JSON: beside-the-input settings -> 6 InvalidSettings naming FIELD.
bad_settings() {
    local name=$1 field=$2 json=$3
    mkdir -p "$G/$name"
    cp "$G/good.glb" "$G/$name/good.glb"
    printf '%s\n' "$json" >"$G/$name/good.ConversionSettings.json"
    expect_fail "$name" "settings $json" 6 InvalidSettings "$RR_TMP/o-$name" 1 "$G/$name/good.glb"
    local named
    named=$(cat "$RR_TMP/$name.err" "$RR_TMP/o-$name/good.result.json" 2>/dev/null |
        grep -c -- "$field")
    rr_result $((named > 0 ? 0 : 1)) "settings $json: the error names '$field'" \
        "$RR_TMP/$name.err" "$RR_TMP/o-$name/good.result.json"
}
bad_settings set-scaling scaling '{"scaling": "big"}'
bad_settings set-axis axis '{"axis": 3}'
bad_settings set-position position '{"vertex": {"position": "64_BIT"}}'
bad_settings set-mode sceneGraphMode '{"sceneGraphMode": "sometimes"}'

mkdir -p "$G/set-json"
cp "$G/good.glb" "$G/set-json/good.glb"
printf '{"scaling": 2,' >"$G/set-json/good.ConversionSettings.json"
expect_fail set-json "settings file that is not JSON" 6 InvalidSettings "$RR_TMP/o-set-json" 1 \
    "$G/set-json/good.glb"
printf '{"scaling": true}\n' >"$G/explicit-bad.json"
expect_fail set-explicit "--settings FILE with scaling true" 6 InvalidSettings \
    "$RR_TMP/o-set-explicit" 1 "$G/good.glb" --settings "$G/explicit-bad.json"
expect_fail set-missing "--settings naming a missing file" "3|6" "InputNotFound|InvalidSettings" \
    "$RR_TMP/o-set-missing" 1 "$G/good.glb" --settings "$G/no-such-settings.json"

# ---- output not writable ---------------------------------------------------------------------
printf 'plain file\n' >"$G/outfile"
expect_fail outdir "OUT_DIR under a regular file" 8 OutputError "$G/outfile/sub" 0 "$G/good.glb"

if [ "$(id -u)" != 0 ]; then
    mkdir -p "$G/readonly"
    chmod 555 "$G/readonly"
    expect_fail rodir "OUT_DIR in a mode 555 directory" 8 OutputError "$G/readonly/out" 0 \
        "$G/good.glb"
    expect_fail rodir2 "OUT_DIR itself mode 555" 8 OutputError "$G/readonly" 0 "$G/good.glb"
    chmod 755 "$G/readonly"
fi

# ---- --inspect on damaged assets -------------------------------------------------------------
conv good "$G/good.glb" "$RR_TMP/o-good"
rr_result $((RR_RC == 0 ? 0 : 1)) "a good sphere converts (the base of the --inspect checks)" \
    "$RR_TMP/good.err"
asset="$RR_TMP/o-good/good.rrasset"
if [ -s "$asset" ]; then
    # Flip 16 bytes in the middle of the largest section (so the change is in hashed bytes).
    python3 - "$asset" "$G/flipped.rrasset" <<'EOF'
import struct, sys
d = bytearray(open(sys.argv[1], "rb").read())
toff, n = struct.unpack_from("<QI", d, 24)
best = max((struct.unpack_from("<IIQQQQQ", d, toff + 48 * i) for i in range(n)),
           key=lambda s: s[3])
mid = best[2] + best[3] // 2
for i in range(mid - 8, mid + 8):
    d[i] ^= 0x5A
open(sys.argv[2], "wb").write(bytes(d))
EOF
    conv i-flip --inspect "$G/flipped.rrasset"
    rr_result $((RR_RC == 5 && $(cat "$RR_TMP/i-flip.out" "$RR_TMP/i-flip.err" | grep -c .) > 0 ? 0 : 1)) \
        "--inspect on an asset with flipped bytes mid-section: exit 5 with a message (exit $RR_RC)" \
        "$RR_TMP/i-flip.err" "$RR_TMP/i-flip.out"
    rr_note "  $(head -n 2 "$RR_TMP/i-flip.err" | tr '\n' ' ')"

    python3 "$GEN" --truncate "$asset" "$G/truncated.rrasset" --keep 0.5
    conv i-trunc --inspect "$G/truncated.rrasset"
    rr_result $((RR_RC == 5 && $(grep -c . "$RR_TMP/i-trunc.err") > 0 ? 0 : 1)) \
        "--inspect on an asset truncated to half: exit 5 with a message (exit $RR_RC)" \
        "$RR_TMP/i-trunc.err" "$RR_TMP/i-trunc.out"

    # Section table damaged: the first entry's offset moved past the end of the file.
    python3 - "$asset" "$G/table.rrasset" <<'EOF'
import struct, sys
d = bytearray(open(sys.argv[1], "rb").read())
toff = struct.unpack_from("<Q", d, 24)[0]
struct.pack_into("<Q", d, toff + 8, len(d) + 4096)
open(sys.argv[2], "wb").write(bytes(d))
EOF
    conv i-table --inspect "$G/table.rrasset"
    rr_result $((RR_RC == 5 && $(grep -c . "$RR_TMP/i-table.err") > 0 ? 0 : 1)) \
        "--inspect on an asset whose section offset points past the file: exit 5 (exit $RR_RC)" \
        "$RR_TMP/i-table.err"
else
    rr_not_ok "--inspect checks: no good asset to damage"
fi
conv i-glb --inspect "$G/good.glb"
rr_result $((RR_RC == 5 && $(grep -c . "$RR_TMP/i-glb.err") > 0 ? 0 : 1)) \
    "--inspect on a .glb (not an asset): exit 5 with a message (exit $RR_RC)" "$RR_TMP/i-glb.err"
printf 'RRASSET' >"$G/short.rrasset"
conv i-short --inspect "$G/short.rrasset"
rr_result $((RR_RC == 5 ? 0 : 1)) "--inspect on a 7-byte file: exit 5 (exit $RR_RC)" \
    "$RR_TMP/i-short.err"

rr_finish
