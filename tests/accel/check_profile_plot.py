#!/usr/bin/python3
"""Checks the plot `kiln profile` writes: the SVG parses, has the size its PNG has, names every
accelerator layer of the package and draws a bar for each; the PNG is well-formed (signature,
chunk CRCs, IHDR, image data that inflates and unfilters to the declared size) and shows the
bars' colours.

Usage: check_profile_plot.py PROFILE.svg PROFILE.png PACKAGE/manifest.json
"""
import json
import struct
import sys
import xml.etree.ElementTree as ET
import zlib

GEMM = (47, 109, 181)
ALU = (46, 160, 140)


def fail(msg):
    sys.exit("check_profile_plot: " + msg)


def read_png(path):
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        fail(path + ": not a PNG (bad signature)")
    pos, idat, ihdr = 8, b"", None
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])
        if zlib.crc32(kind + body) != crc:
            fail(path + ": chunk %r has a bad CRC" % kind)
        if kind == b"IHDR":
            ihdr = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        elif kind == b"IEND":
            break
        pos += 12 + length
    if ihdr is None:
        fail(path + ": no IHDR")
    w, h, depth, colour = ihdr[:4]
    if depth != 8 or colour != 2:
        fail(path + ": expected 8-bit RGB, got depth %d colour type %d" % (depth, colour))
    raw = zlib.decompress(idat)
    stride = 3 * w
    if len(raw) != h * (stride + 1):
        fail(path + ": image data is %d bytes, %dx%d RGB needs %d" % (len(raw), w, h, h * (stride + 1)))
    rows, prev = [], bytearray(stride)
    for y in range(h):
        f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - 3] if i >= 3 else 0
            b = prev[i]
            c = prev[i - 3] if i >= 3 else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else b if pb <= pc else c
                line[i] = (line[i] + pred) & 255
            elif f != 0:
                fail(path + ": unknown filter %d in row %d" % (f, y))
        rows.append(bytes(line))
        prev = line
    return w, h, rows


def main(argv):
    if len(argv) != 4:
        sys.exit(__doc__)
    svg, png, manifest = argv[1:]
    layers = [s["node"] for s in json.load(open(manifest))["steps"] if s["kind"] == "accel"]
    root = ET.parse(svg).getroot()
    ns = "{http://www.w3.org/2000/svg}"
    if root.tag != ns + "svg":
        fail(svg + ": the root is not <svg>")
    texts = [t.text or "" for t in root.iter(ns + "text")]
    for name in layers:
        if not any(name in t for t in texts):
            fail(svg + ": no label for layer " + name)
    bars = [r for r in root.iter(ns + "rect") if r.get("fill") in ("#2f6db5", "#2ea08c")]
    if len(bars) < len(layers):
        fail(svg + ": %d GEMM/ALU bar segments for %d layers" % (len(bars), len(layers)))
    w, h, rows = read_png(png)
    if (str(w), str(h)) != (root.get("width"), root.get("height")):
        fail("the PNG is %dx%d, the SVG %sx%s" % (w, h, root.get("width"), root.get("height")))
    colours = set()
    for row in rows:
        for x in range(0, len(row), 3):
            colours.add(tuple(row[x:x + 3]))
    for name, c in (("GEMM", GEMM), ("ALU", ALU)):
        if c not in colours:
            fail(png + ": no pixel of the %s colour %s" % (name, c))
    print("profile plot: %d layers, SVG and PNG %dx%d well-formed" % (len(layers), w, h))


if __name__ == "__main__":
    main(sys.argv)
