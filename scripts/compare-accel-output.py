#!/usr/bin/env python3
"""Board stand-in checks: an accelerator package's output produced elsewhere (a board's CPU
under qemu, over RPC) must be bit-identical to this machine's sim-func and sim-cycle runs.

  compare-accel-output.py GOT.npy DIR WHAT
DIR holds sim-func.npy and sim-cycle.npy; WHAT names GOT's origin in the messages."""
import sys

import numpy as np

got_file, work, what = sys.argv[1], sys.argv[2], sys.argv[3]
got = np.load(got_file)
if np.ptp(got) == 0:
    sys.exit(f"{what}: the output is constant ({got.ravel()[:4]}...): nothing was computed")
for dev in ("sim-func", "sim-cycle"):
    ref = np.load(f"{work}/{dev}.npy")
    same = got.shape == ref.shape and got.tobytes() == ref.tobytes()
    diff = np.abs(got - ref).max() if got.shape == ref.shape else "shapes differ"
    print(f"{what} vs this machine's {dev}: "
          f"{'bit-identical' if same else 'DIFFERENT'} ({got.size} values, max |diff| {diff})")
    if not same:
        sys.exit(f"{what}: the output differs from {dev} on this machine")
