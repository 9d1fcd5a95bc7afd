#!/usr/bin/python3
"""Models for the accelerator's end-to-end tests, built with gen_models.py's Net (seeded
weights, batch norms fitted to a calibration batch) so they behave like trained networks.

Usage: gen_accel_models.py OUTDIR

resblock.onnx  a ResNet stem (convolution, ReLU, 3x3/2 max pooling) and one basic block with
               a strided 1x1 downsample, residual add and ReLU, then global average pooling
               and a classifier: every device operator of ResNet-18 in a model that
               simulates in seconds.
Also writes OUTDIR/resblock_in{0,1,2}.npy, inputs (the first for calibration).
"""
import os
import sys

import numpy as np
import onnx

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts"))
import gen_models as gm  # noqa: E402


def resblock(seed):
    net = gm.Net("resblock", 13, seed)
    x = net.input("input", [1, 3, 32, 32], calib_batch=2)
    x = net.relu(gm.conv_bn(net, x, 32, 3, 1, 1, "", "conv1", "bn1"))
    x = net.maxpool(x, 3, 2, 1)
    p = "layer.0."
    y = net.relu(gm.conv_bn(net, x, 64, 3, 2, 1, p, "conv1", "bn1"))
    y = gm.conv_bn(net, y, 64, 3, 1, 1, p, "conv2", "bn2")
    s = gm.conv_bn(net, x, 64, 1, 2, 0, p, "downsample.0", "downsample.1")
    x = net.relu(net.add(y, s))
    x = net.gap(x)
    x = net.flatten(x, 1)
    net.fc(x, 10, out="output")
    net.output("output")
    return net


def main(argv):
    if len(argv) != 2:
        sys.exit("usage: gen_accel_models.py OUTDIR")
    out = argv[1]
    os.makedirs(out, exist_ok=True)
    net = resblock(7)
    model = net.model()
    onnx.checker.check_model(model)
    onnx.save(model, os.path.join(out, "resblock.onnx"))
    rng = np.random.default_rng(3)
    for i in range(3):
        np.save(os.path.join(out, f"resblock_in{i}.npy"),
                rng.standard_normal((1, 3, 32, 32)).astype(np.float32))


if __name__ == "__main__":
    main(sys.argv)
