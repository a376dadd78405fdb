#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# Writes test inputs for openrr-convert: a binary glTF (.glb) or a .gltf + external .bin of a
# tessellated surface with exactly N triangles, crafted bad glTFs, and truncated copies.
"""make-gltf.py — glTF 2.0 test inputs, Python 3 standard library only.

  make-gltf.py OUT TRIANGLES [--shape grid|sphere|torus] [--offset X Y Z] [--scale X Y Z]
                             [--bad buffer-outside|accessor-outside|buffer-short|huge-count]
  make-gltf.py --truncate SRC DST [--keep BYTES|FRACTION]

OUT ending in .glb gives a binary glTF; .gltf gives JSON plus OUT-without-suffix.bin beside it.
The mesh is one primitive with POSITION (float3), NORMAL (float3), TEXCOORD_0 (float2), uint32
indices and one PBR material; exactly TRIANGLES triangles, none degenerate, vertices unique.

  grid   a flat (nx+1)×(nz+1) grid in the XZ plane (y = 0), size 1×1 from the origin; fastest.
  sphere a UV sphere of radius 1 without its polar caps (latitudes −80°..80°, no degenerate
         triangles at the poles); the seam column is duplicated (own UVs).
  torus  major radius 1, minor radius 0.25, both seams duplicated.
--scale multiplies, then --offset adds, to every position (the accessor min/max follow).

Bad inputs (--bad; all still parse as JSON and as a GLB container):
  buffer-outside    the index bufferView starts inside the buffer and ends 1 MiB past its end
  accessor-outside  the POSITION accessor reads more elements than its bufferView holds
  buffer-short      buffers[0].byteLength is larger than the bytes actually present
  huge-count        the POSITION accessor count is 2^40
--truncate copies SRC to DST keeping only the first BYTES (an integer) or FRACTION (0..1,
default 0.5) of it, so the GLB header's length field promises more than the file has.

Speed: rows of the surface are built with array slice assignments and map() over precomputed
columns, never a per-vertex Python loop: 5 M triangles take a few seconds.
"""

import argparse
import json
import math
import os
import struct
import sys
from array import array

GLB_MAGIC = 0x46546C67  # "glTF"
CHUNK_JSON = 0x4E4F534A
CHUNK_BIN = 0x004E4942
FLOAT = 5126
UINT32 = 5125
ARRAY_BUFFER = 34962
ELEMENT_ARRAY_BUFFER = 34963


def grid_dims(triangles, min_nx=1):
    """nx, nz quads with 2·nx·nz >= triangles, roughly square (nx >= min_nx)."""
    quads = (triangles + 1) // 2
    nx = max(1, math.isqrt(quads))
    if nx * nx < quads:
        nx += 1
    nx = max(nx, min_nx)
    nz = max(1, -(-quads // nx))
    return nx, nz


def build_indices(nx, nz, triangles):
    """uint32 indices of a (nx+1)-wide vertex lattice, row by row, cut to `triangles`."""
    w = nx + 1
    idx = array("I")
    row = array("I", bytes(4 * 6 * nx))
    for j in range(nz):
        a = j * w
        c = a + w
        row[0::6] = array("I", range(a, a + nx))          # a  (i, j)
        row[1::6] = array("I", range(c, c + nx))          # c  (i, j+1)
        row[2::6] = array("I", range(a + 1, a + 1 + nx))  # b  (i+1, j)
        row[3::6] = row[2::6]                              # b
        row[4::6] = row[1::6]                              # c
        row[5::6] = array("I", range(c + 1, c + 1 + nx))  # d  (i+1, j+1)
        idx.extend(row)
        if len(idx) >= 3 * triangles:
            break
    del idx[3 * triangles:]
    return idx


def build_vertices(shape, nx, nz):
    """positions, normals (float3) and uvs (float2) of a (nx+1)×(nz+1) lattice."""
    w = nx + 1
    us = [i / nx for i in range(w)]
    pos, nrm, uv = array("f"), array("f"), array("f")
    prow = array("f", bytes(4 * 3 * w))
    nrow = array("f", bytes(4 * 3 * w))
    trow = array("f", bytes(4 * 2 * w))
    trow[0::2] = array("f", us)
    if shape == "grid":
        prow[0::3] = array("f", us)
        nrow[1::3] = array("f", [1.0]) * w
        for j in range(nz + 1):
            v = j / nz
            prow[2::3] = array("f", [v]) * w
            trow[1::2] = array("f", [v]) * w
            pos.extend(prow)
            nrm.extend(nrow)
            uv.extend(trow)
        return pos, nrm, uv
    th = [2.0 * math.pi * u for u in us]
    cos_th = [math.cos(t) for t in th]
    sin_th = [math.sin(t) for t in th]
    cos_th[-1], sin_th[-1] = cos_th[0], sin_th[0]  # an exact seam
    for j in range(nz + 1):
        v = j / nz
        if shape == "sphere":
            # Latitude from +80° (row 0) down to −80°: keeps the winding outward (+normal).
            lat = math.radians(80.0 - 160.0 * v)
            cl, sl = math.cos(lat), math.sin(lat)
            nx_row = array("f", map(cl.__mul__, cos_th))
            nz_row = array("f", map(cl.__mul__, sin_th))
            nrow[0::3] = nx_row
            nrow[1::3] = array("f", [sl]) * w
            nrow[2::3] = nz_row
            prow[:] = nrow
        else:  # torus
            phi = 2.0 * math.pi * v
            cp, sp = math.cos(phi), math.sin(phi)
            if j == nz:
                cp, sp = 1.0, 0.0
            k = 1.0 + 0.25 * cp
            nrow[0::3] = array("f", map(cp.__mul__, cos_th))
            nrow[1::3] = array("f", [sp]) * w
            nrow[2::3] = array("f", map(cp.__mul__, sin_th))
            prow[0::3] = array("f", map(k.__mul__, cos_th))
            prow[1::3] = array("f", [0.25 * sp]) * w
            prow[2::3] = array("f", map(k.__mul__, sin_th))
        trow[1::2] = array("f", [v]) * w
        pos.extend(prow)
        nrm.extend(nrow)
        uv.extend(trow)
    return pos, nrm, uv


def transform(pos, scale, offset):
    if scale == (1.0, 1.0, 1.0) and offset == (0.0, 0.0, 0.0):
        return pos
    out = array("f", bytes(4 * len(pos)))
    for c in range(3):
        s, o = scale[c], offset[c]
        out[c::3] = array("f", (x * s + o for x in pos[c::3]))
    return out


def le_bytes(a):
    if sys.byteorder != "little":
        a = array(a.typecode, a)
        a.byteswap()
    return a.tobytes()


def pad4(b, fill=b"\0"):
    return b + fill * (-len(b) % 4)


def build(args):
    tris = args.triangles
    if tris < 1:
        sys.exit("make-gltf.py: TRIANGLES must be >= 1")
    if args.shape != "grid" and tris < 18:
        sys.exit("make-gltf.py: a sphere or torus needs TRIANGLES >= 18 (3×3 quads)")
    # A closed shape needs 3 columns around its axis or the seam makes triangles degenerate.
    nx, nz = grid_dims(tris, 1 if args.shape == "grid" else 3)
    pos, nrm, uv = build_vertices(args.shape, nx, nz)
    pos = transform(pos, tuple(args.scale), tuple(args.offset))
    idx = build_indices(nx, nz, tris)
    # The last row of quads may be partial: drop the lattice vertices no triangle uses (they are
    # all at the end), so importers that remove unreferenced vertices count the same.
    nverts = max(idx) + 1
    del pos[3 * nverts:], nrm[3 * nverts:], uv[2 * nverts:]
    pmin = [min(pos[c::3]) for c in range(3)]
    pmax = [max(pos[c::3]) for c in range(3)]

    blobs = [le_bytes(pos), le_bytes(nrm), le_bytes(uv), le_bytes(idx)]
    views, offset = [], 0
    targets = [ARRAY_BUFFER, ARRAY_BUFFER, ARRAY_BUFFER, ELEMENT_ARRAY_BUFFER]
    for blob, target in zip(blobs, targets):
        views.append({"buffer": 0, "byteOffset": offset, "byteLength": len(blob),
                      "target": target})
        offset += len(blob)  # every blob is a multiple of 4 bytes
    total = offset
    accessors = [
        {"bufferView": 0, "componentType": FLOAT, "count": nverts, "type": "VEC3",
         "min": pmin, "max": pmax},
        {"bufferView": 1, "componentType": FLOAT, "count": nverts, "type": "VEC3"},
        {"bufferView": 2, "componentType": FLOAT, "count": nverts, "type": "VEC2"},
        {"bufferView": 3, "componentType": UINT32, "count": len(idx), "type": "SCALAR"},
    ]
    buffer = {"byteLength": total}

    if args.bad == "buffer-outside":
        views[3]["byteLength"] += 1 << 20
        accessors[3]["count"] += (1 << 20) // 4
    elif args.bad == "accessor-outside":
        accessors[0]["count"] = nverts * 4 + 1000
        accessors[1]["count"] = accessors[2]["count"] = accessors[0]["count"]
    elif args.bad == "buffer-short":
        buffer["byteLength"] = total + (1 << 20)
    elif args.bad == "huge-count":
        accessors[0]["count"] = 1 << 40

    name = os.path.splitext(os.path.basename(args.out))[0]
    gltf = {
        "asset": {"version": "2.0", "generator": "openrr tests/data-gen/make-gltf.py"},
        "scene": 0,
        "scenes": [{"nodes": [0]}],
        "nodes": [{"name": name, "mesh": 0}],
        "meshes": [{"name": "%s-%s" % (args.shape, tris), "primitives": [{
            "attributes": {"POSITION": 0, "NORMAL": 1, "TEXCOORD_0": 2},
            "indices": 3, "material": 0, "mode": 4}]}],
        "materials": [{"name": "surface", "pbrMetallicRoughness": {
            "baseColorFactor": [0.8, 0.5, 0.2, 1.0], "metallicFactor": 0.0,
            "roughnessFactor": 0.6}}],
        "buffers": [buffer],
        "bufferViews": views,
        "accessors": accessors,
    }

    if args.out.lower().endswith(".gltf"):
        bin_name = name + ".bin"
        buffer["uri"] = bin_name
        bin_path = os.path.join(os.path.dirname(args.out) or ".", bin_name)
        with open(bin_path, "wb") as f:
            for blob in blobs:
                f.write(blob)
        with open(args.out, "w") as f:
            json.dump(gltf, f, indent=1)
            f.write("\n")
    else:
        js = pad4(json.dumps(gltf, separators=(",", ":")).encode(), b" ")
        length = 12 + 8 + len(js) + 8 + total
        with open(args.out, "wb") as f:
            f.write(struct.pack("<III", GLB_MAGIC, 2, length))
            f.write(struct.pack("<II", len(js), CHUNK_JSON))
            f.write(js)
            f.write(struct.pack("<II", total, CHUNK_BIN))
            for blob in blobs:
                f.write(blob)
    if not args.quiet:
        print("%s: %s, %d triangles, %d vertices, bounds %s..%s%s" % (
            args.out, args.shape, tris, nverts, pmin, pmax,
            ", bad: " + args.bad if args.bad else ""))


def truncate(src, dst, keep):
    with open(src, "rb") as f:
        data = f.read()
    k = float(keep)
    n = int(k) if k >= 1 else int(len(data) * k)
    n = max(0, min(n, len(data) - 1))
    with open(dst, "wb") as f:
        f.write(data[:n])


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog=__doc__.split("\n", 1)[1])
    p.add_argument("out", nargs="?", help="output .glb or .gltf")
    p.add_argument("triangles", nargs="?", type=int, help="number of triangles")
    p.add_argument("--shape", choices=("grid", "sphere", "torus"), default="grid")
    p.add_argument("--offset", type=float, nargs=3, default=[0.0, 0.0, 0.0])
    p.add_argument("--scale", type=float, nargs=3, default=[1.0, 1.0, 1.0])
    p.add_argument("--bad", choices=("buffer-outside", "accessor-outside", "buffer-short",
                                     "huge-count"))
    p.add_argument("--truncate", nargs=2, metavar=("SRC", "DST"))
    p.add_argument("--keep", default="0.5", help="bytes (>= 1) or fraction kept by --truncate")
    p.add_argument("-q", "--quiet", action="store_true")
    args = p.parse_args()
    if args.truncate:
        truncate(args.truncate[0], args.truncate[1], args.keep)
        return
    if args.out is None or args.triangles is None:
        p.error("OUT and TRIANGLES are required (or --truncate SRC DST)")
    build(args)


if __name__ == "__main__":
    main()
