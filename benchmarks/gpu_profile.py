#!/usr/bin/env python3
"""Each GPU launch of a package against its ideal: reads `kiln-run PKG --profile N` output
(each launch timed alone) and the package's manifest, and prints per launch its time, its
multiply-adds as FLOPs, the ideal time (the larger of FLOPs at the fp32 peak and the bytes its
step reads and writes at the memory bandwidth), and time / ideal, slowest first. This is
where the time of a network goes on the GPU, and how far each layer is from the hardware.
    gpu_profile.py PKG PROFILE_LOG [PEAK_TFLOPS [BANDWIDTH_TBS]]   (defaults: 67, 3.35, an H100)
Launches that share one function (a network's repeated layers) have the same shapes, so the
function's name identifies its work."""
import json
import signal
import re
import sys


def step_work(m, step):
    """(FLOPs, bytes) of a step: 2 x outputs x reduction for a convolution or dense layer
    (the weights' shape gives the reduction), and the bytes of every value it reads or writes."""
    vals = [m["values"][a] for a in step["args"]]
    nbytes = 0
    for v in vals:
        n = 4
        for d in v["shape"]:
            n *= d
        nbytes += n
    out = vals[-1]["shape"]
    outputs = 1
    for d in out:
        outputs *= d
    flops = 0
    for v in vals[:-1]:
        s = v["shape"]
        if v["storage"] == "const" and len(s) == 4:  # conv weights OIHW: C/group x KH x KW
            flops = 2 * outputs * s[1] * s[2] * s[3]
        elif v["storage"] == "const" and len(s) == 2 and len(out) == 2:  # dense [K, N] or [N, K]
            k = s[0] if s[1] == out[1] else s[1]
            flops = 2 * outputs * k
    return flops, nbytes


def main():
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # quiet under head
    pkg, log = sys.argv[1], sys.argv[2]
    peak = float(sys.argv[3]) * 1e12 if len(sys.argv) > 3 else 67e12
    bw = float(sys.argv[4]) * 1e12 if len(sys.argv) > 4 else 3.35e12
    m = json.load(open(f"{pkg}/manifest.json"))
    work = {}  # function -> (flops, bytes, node)
    for step in m["steps"]:
        flops, nbytes = step_work(m, step)
        launches = step.get("launches", [])
        for k, l in enumerate(launches):
            last = k == len(launches) - 1
            # a step's earlier launches write its workspaces (padded inputs): bytes only
            ws = step.get("workspace", [])
            wbytes = 2 * ws[k] if k < len(ws) else 0
            f, b = (flops, nbytes) if last else (0, wbytes)
            work[l["function"]] = (f, b, step["node"])
    rows = []
    for line in open(log):
        mt = re.match(r"\s+([0-9.]+) ms\s+[0-9.]+%\s+(\S+)", line)
        if mt and mt.group(2) in work:
            ms = float(mt.group(1))
            f, b, node = work[mt.group(2)]
            ideal = max(f / peak, b / bw) * 1e3
            rows.append((ms, mt.group(2), node, f, ideal))
    total = sum(r[0] for r in rows)
    total_ideal = sum(r[4] for r in rows)
    total_flops = sum(r[3] for r in rows)
    print(f"{'ms':>8} {'ideal':>7} {'x':>6} {'TFLOP/s':>7}  launch (node)")
    if rows:
        print(f"{total:8.4f} {total_ideal:7.4f} {total / total_ideal:6.1f} "
              f"{total_flops / total / 1e9:7.1f}  all {len(rows)} launches (each timed alone)")
    for ms, fn, node, f, ideal in sorted(rows, reverse=True):
        print(f"{ms:8.4f} {ideal:7.4f} {ms / ideal if ideal else 0:6.1f} "
              f"{f / ms / 1e9 if ms else 0:7.1f}  {fn} ({node})")

if __name__ == "__main__":
    main()
