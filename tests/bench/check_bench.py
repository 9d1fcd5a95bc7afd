#!/usr/bin/python3
"""Checks what `kiln bench` wrote: the JSON record (every requested target ran or says why
not, latencies ordered and positive, float targets' answers within 1e-4 of the llvm
target's, the accelerator's cycles and utilization), the SVG (well-formed XML with one bar
per measured row and its labels) and the PNG (a valid image whose pixels show the bars).

The accelerator's row must carry its ideal (MACs at the array's peak), and VTA's published
ResNet-18 figure exactly when --vta is given (ResNet-18 on a 1x16x16 config at 100 MHz): as
the row's ratio, a reference in the record and a dashed line labelled on the chart.

Usage: check_bench.py RECORD.json CHART_BASE MUST_RUN [MAY_SKIP] [--vta]
  MUST_RUN / MAY_SKIP: comma-separated target or anchor names that must have run / that
  may be skipped with a reason (any other requested one must have run too).
"""
import json
import struct
import sys
import xml.etree.ElementTree as ET
import zlib


def fail(msg):
    sys.exit("FAIL: " + msg)


def read_png(path):
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        fail(f"{path} is not a PNG (signature {data[:8]!r})")
    pos, idat, ihdr = 8, b"", None
    while pos < len(data):
        if pos + 12 > len(data):
            fail(f"{path}: truncated at byte {pos}")
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        if pos + 12 + n > len(data):
            fail(f"{path}: chunk {kind!r} runs past the end of the file")
        body = data[pos + 8:pos + 8 + n]
        if zlib.crc32(kind + body) != struct.unpack(">I", data[pos + 8 + n:pos + 12 + n])[0]:
            fail(f"{path}: bad CRC in chunk {kind!r}")
        if kind == b"IHDR":
            ihdr = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    if not ihdr or ihdr[2] != 8 or ihdr[3] != 2:
        fail(f"{path}: expected an 8-bit RGB PNG, IHDR {ihdr}")
    w, h = ihdr[0], ihdr[1]
    raw = zlib.decompress(idat)
    stride = 3 * w
    if len(raw) != h * (stride + 1):
        fail(f"{path}: {len(raw)} bytes of pixels for {w}x{h}")
    # Undo the row filters (the chart's rows use whatever libpng picked).
    rows, prev = [], bytearray(stride)
    for y in range(h):
        f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - 3] if i >= 3 else 0
            b, c = prev[i], prev[i - 3] if i >= 3 else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    return w, h, rows


def main(argv):
    expect_vta = "--vta" in argv
    argv = [a for a in argv if a != "--vta"]
    if len(argv) not in (4, 5):
        sys.exit(__doc__)
    record = json.load(open(argv[1]))
    base = argv[2]
    must = set(filter(None, argv[3].split(",")))
    may_skip = set(filter(None, argv[4].split(","))) if len(argv) == 5 else set()
    rows = record["targets"] + record["anchors"]
    anchors = {r["name"] for r in record["anchors"]}
    names = {r["name"] for r in rows}
    for n in must:
        if n not in names:
            fail(f"{n} was not in the record: {sorted(names)}")
    measured = []
    for r in rows:
        n = r["name"]
        if r["status"] != "ok":
            if n in must or n not in may_skip:
                fail(f"{n} did not run: {r['status']}: {r.get('reason')}")
            if not r.get("reason"):
                fail(f"{n} was {r['status']} without a reason")
            print(f"{n}: {r['status']} ({r['reason']})")
            continue
        measured.append(r)
        lo, med, hi = r["min_ms"], r["median_ms"], r["max_ms"]
        if not (0 < lo <= med <= hi):
            fail(f"{n}: latencies not ordered: min {lo} median {med} max {hi}")
        if abs(r["throughput_per_s"] - 1000 * record["batch"] / med) > 1e-6 * r["throughput_per_s"]:
            fail(f"{n}: throughput {r['throughput_per_s']} is not batch / median")
        if n == "webgl":
            # first inference: the model's load in the page (fetch, compile, warm-up) plus the
            # first run; one program per distinct shader, at most one per pass
            if abs(r["first_inference_ms"] - r["model_load_ms"] - r["first_run_ms"]) > 1e-6 * r["first_inference_ms"] \
                    or not r["model_load_ms"] > 0 or not r["first_run_ms"] > 0:
                fail(f"webgl: first inference {r.get('first_inference_ms')} is not the model's load "
                     f"{r.get('model_load_ms')} plus its first run {r.get('first_run_ms')}")
            if not 0 < r["programs"] == r["shaders"] <= r["passes"]:
                fail(f"webgl: {r['programs']} programs for {r['shaders']} distinct shaders and {r['passes']} passes")
        if n == "accel":
            if not (r["cycles"] > 0 and 0 < r["gemm_utilization"] <= 1 and r["clock_mhz"] > 0):
                fail(f"accel: cycles {r['cycles']}, utilization {r['gemm_utilization']}")
            if abs(r["median_ms"] - r["cycles"] / r["clock_mhz"] / 1000) > 1e-9:
                fail("accel: the latency is not its cycles at the board clock")
            if not r["check"]["top1_agrees"]:
                fail(f"accel: the int8 answer's top class differs ({r['check']})")
            ideal = r["macs"] / (r["macs"] / r["cycles"] / r["fraction_of_peak"]) / r["clock_mhz"] / 1000
            if not (0 < r["ideal_ms"] <= r["median_ms"] and abs(r["ideal_ms"] - ideal) < 1e-6 * ideal):
                fail(f"accel: ideal {r['ideal_ms']} ms is not its MACs at the peak ({ideal} ms) "
                     f"or exceeds the prediction {r['median_ms']} ms")
            if abs(r["predicted_over_ideal"] * r["ideal_ms"] - r["median_ms"]) > 1e-6 * r["median_ms"]:
                fail(f"accel: predicted_over_ideal {r['predicted_over_ideal']} does not match")
            refs = [x for x in record["references"] if x["label"].startswith("VTA")]
            if expect_vta:
                if r.get("vta_published_ms") != 420 or not refs or refs[0]["ms"] != 420:
                    fail(f"accel: VTA's 420 ms is missing (row {r.get('vta_published_ms')}, "
                         f"references {record['references']})")
                if abs(r["vta_over_this"] - 420 / r["median_ms"]) > 1e-9:
                    fail(f"accel: vta_over_this {r['vta_over_this']} is not 420 / {r['median_ms']}")
            elif "vta_published_ms" in r or refs:
                fail("accel: VTA's ResNet-18 figure was cited for another model or config")
        elif "check" in r:
            if r["check"] is None or r["check"]["max_rel_diff"] > 1e-4:
                fail(f"{n}: answer differs from {record['checked_against']}: {r['check']}")
        elif n != "llvm" and n not in anchors:
            fail(f"{n}: its answer was not checked")
        print(f"{n}: median {med:.3f} ms (min {lo:.3f}, max {hi:.3f}) on {r['device']}")

    svg = ET.parse(base + ".svg").getroot()
    ns = "{http://www.w3.org/2000/svg}"
    if svg.tag != ns + "svg":
        fail(f"{base}.svg: root is {svg.tag}")
    texts = [t.text or "" for t in svg.iter(ns + "text")]
    for r in measured:
        if not any(t.startswith(r["name"]) for t in texts):
            fail(f"{base}.svg has no label for {r['name']}: {texts}")
    if expect_vta:
        dashed = [e for e in svg.iter(ns + "line") if e.get("stroke-dasharray")]
        if not dashed or not any(t.startswith("VTA on PYNQ-Z1") and "420 ms" in t for t in texts):
            fail(f"{base}.svg has no labelled VTA line ({len(dashed)} dashed lines)")
    bar_colours = {"#2f6db5", "#e07b1a", "#969696"}
    bars = [e for e in svg.iter(ns + "rect") if e.get("fill") in bar_colours and float(e.get("height")) > 20]
    if len(bars) != len(measured):
        fail(f"{base}.svg has {len(bars)} bars for {len(measured)} measured rows")

    w, h, pix = read_png(base + ".png")
    if w < 600 or h < 200:
        fail(f"{base}.png is only {w}x{h}")
    blue = bytes((47, 109, 181))
    # A bar is 28 px high; a short one (a fast target on a linear axis) may be only a few
    # pixels long.
    blue_rows = sum(1 for row in pix if blue * 3 in row)
    dark = sum(row.count(bytes((34, 34, 34))) for row in pix)
    if blue_rows < 20:
        fail(f"{base}.png shows no Kiln bar ({blue_rows} rows with one)")
    if dark < 200:
        fail(f"{base}.png has almost no text or axes ({dark} ink pixels)")
    print(f"chart: {len(bars)} bars in the SVG; PNG {w}x{h}, {blue_rows} rows with a Kiln bar")
    print("PASS")


main(sys.argv)
