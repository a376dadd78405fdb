# SPDX-License-Identifier: Apache-2.0
"""Pixels of the player's PNG snapshots for the shell tests, with nothing but the standard
library (8-bit RGB or RGBA, non-interlaced: what openrr-player writes).

    python3 png_pixels.py size FILE                 -> "W H"
    python3 png_pixels.py mean FILE X0 Y0 X1 Y1     -> "R G B" mean of the box [X0,X1)x[Y0,Y1)
"""
import struct
import sys
import zlib


def decode(path):
    """(width, height, bytes per pixel, rows as bytearrays)."""
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("%s is not a PNG" % path)
    pos, idat, w, h, ctype = 8, b"", 0, 0, 0
    while pos < len(data):
        n = struct.unpack(">I", data[pos:pos + 4])[0]
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", body[:13])
            if depth != 8 or ctype not in (2, 6) or interlace:
                raise ValueError("%s: only 8-bit RGB/RGBA, not interlaced" % path)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    bpp = 3 if ctype == 2 else 4
    raw, stride, rows, prev = zlib.decompress(idat), w * bpp, [], bytearray(w * bpp)
    for y in range(h):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for x in range(stride):
            a = line[x - bpp] if x >= bpp else 0
            b, c = prev[x], (prev[x - bpp] if x >= bpp else 0)
            if f == 1:
                line[x] = (line[x] + a) & 255
            elif f == 2:
                line[x] = (line[x] + b) & 255
            elif f == 3:
                line[x] = (line[x] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(line)
        prev = line
    return w, h, bpp, rows


def mean(path, x0, y0, x1, y1):
    w, h, bpp, rows = decode(path)
    if not (0 <= x0 < x1 <= w and 0 <= y0 < y1 <= h):
        raise ValueError("box outside the %dx%d image" % (w, h))
    sums, n = [0, 0, 0], (x1 - x0) * (y1 - y0)
    for y in range(y0, y1):
        for x in range(x0, x1):
            for i in range(3):
                sums[i] += rows[y][x * bpp + i]
    return [s / n for s in sums]


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "size":
        w, h, _, _ = decode(sys.argv[2])
        print(w, h)
    elif len(sys.argv) == 7 and sys.argv[1] == "mean":
        print(" ".join("%.1f" % v for v in mean(sys.argv[2], *map(int, sys.argv[3:]))))
    else:
        sys.exit(__doc__)
