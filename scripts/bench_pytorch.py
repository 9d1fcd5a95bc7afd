#!/usr/bin/env python3
"""The PyTorch anchor of `kiln bench`: the same ONNX model run by PyTorch on a CUDA GPU.

  bench_pytorch.py MODEL.onnx --runs N --warmup N [--input X.npy]

The ONNX graph is executed node by node with torch.nn.functional (the operators of the CNNs
Kiln benchmarks; anything else is refused with its name), its weights on the GPU. Timed, on
the same input: eager execution and one captured CUDA graph replayed, each in strict fp32
(cuDNN and matmul TF32 off: what Kiln computes) and with PyTorch's defaults (cuDNN may use
TF32 tensor cores). Each run is synchronized. Prints one JSON line: times_ms (the strict
fp32 CUDA graph's runs, the anchor row), the medians of the other modes, versions, device.
"""
import argparse
import json
import statistics
import sys
import time

import numpy as np
import onnx
from onnx import numpy_helper
import torch
import torch.nn.functional as F


def tensor(a):
    """Float data on the GPU; integer tensors (shapes, indices) on the CPU."""
    t = torch.from_numpy(np.array(a, copy=True))
    return t.cuda() if t.is_floating_point() else t


def attrs(node):
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def pads2d(a):
    p = list(a.get("pads", [0, 0, 0, 0]))
    return p[0], p[1], p[2], p[3]  # top, left, bottom, right


def conv(x, w, b, a):
    if a.get("auto_pad", b"NOTSET") not in (b"NOTSET", "NOTSET"):
        raise SystemExit("bench_pytorch: Conv auto_pad is not supported")
    t, l, bo, r = pads2d(a)
    if t != bo or l != r:
        x = F.pad(x, (l, r, t, bo))
        pad = 0
    else:
        pad = (t, l)
    return F.conv2d(x, w, b, tuple(a.get("strides", [1, 1])), pad, tuple(a.get("dilations", [1, 1])),
                    a.get("group", 1))


def pool(x, a, kind):
    t, l, bo, r = pads2d(a)
    k, s = tuple(a["kernel_shape"]), tuple(a.get("strides", [1, 1]))
    ceil = bool(a.get("ceil_mode", 0))
    if kind == "max":
        if t != bo or l != r:
            x = F.pad(x, (l, r, t, bo), value=float("-inf"))
            t = l = 0
        return F.max_pool2d(x, k, s, (t, l), ceil_mode=ceil)
    return F.avg_pool2d(x, k, s, (t, l), ceil_mode=ceil,
                        count_include_pad=bool(a.get("count_include_pad", 0)))


def run_graph(graph, consts, feeds):
    env = dict(consts)
    env.update(feeds)
    for n in graph.node:
        a = attrs(n)
        i = [env[v] if v else None for v in n.input]
        op = n.op_type
        if op == "Conv":
            y = conv(i[0], i[1], i[2] if len(i) > 2 else None, a)
        elif op == "Relu":
            y = F.relu(i[0])
        elif op == "Clip":
            lo = i[1] if len(i) > 1 and i[1] is not None else a.get("min", float("-inf"))
            hi = i[2] if len(i) > 2 and i[2] is not None else a.get("max", float("inf"))
            y = torch.clamp(i[0], float(lo), float(hi))
        elif op == "Add":
            y = i[0] + i[1]
        elif op == "Mul":
            y = i[0] * i[1]
        elif op == "Sigmoid":
            y = torch.sigmoid(i[0])
        elif op == "MaxPool":
            y = pool(i[0], a, "max")
        elif op == "AveragePool":
            y = pool(i[0], a, "avg")
        elif op == "GlobalAveragePool":
            y = torch.mean(i[0], dim=(2, 3), keepdim=True)
        elif op == "Flatten":
            y = torch.flatten(i[0], a.get("axis", 1))
        elif op == "Reshape":
            y = torch.reshape(i[0], [int(d) for d in i[1].tolist()])
        elif op == "Gemm":
            aa = i[0].t() if a.get("transA", 0) else i[0]
            bb = i[1].t() if a.get("transB", 0) else i[1]
            y = a.get("alpha", 1.0) * (aa @ bb)
            if len(i) > 2 and i[2] is not None:
                y = y + a.get("beta", 1.0) * i[2]
        elif op == "MatMul":
            y = i[0] @ i[1]
        elif op == "BatchNormalization":
            y = F.batch_norm(i[0], i[3], i[4], i[1], i[2], False, 0.0, a.get("epsilon", 1e-5))
        elif op == "Concat":
            y = torch.cat(i, a["axis"])
        elif op == "Softmax":
            y = torch.softmax(i[0], a.get("axis", -1))
        elif op in ("Dropout", "Identity"):
            y = i[0]
        elif op == "Constant":
            y = tensor(numpy_helper.to_array(a["value"]))
        elif op == "Shape":  # shape arithmetic stays on the CPU (a Flatten written out)
            y = torch.tensor(list(i[0].shape), dtype=torch.int64)
        elif op == "Gather":
            idx = i[1].to(i[0].device)
            y = torch.index_select(i[0], a.get("axis", 0), idx.reshape(-1)).reshape(
                list(i[0].shape[:a.get("axis", 0)]) + list(idx.shape) +
                list(i[0].shape[a.get("axis", 0) + 1:]))
        elif op in ("Unsqueeze", "Squeeze"):
            axes = a["axes"] if "axes" in a else [int(v) for v in i[1].tolist()]
            y = i[0]
            if op == "Unsqueeze":
                for ax in sorted(axes):
                    y = torch.unsqueeze(y, ax)
            else:
                y = torch.squeeze(y, tuple(axes))
        else:
            raise SystemExit(f"bench_pytorch: ONNX operator {op} (node {n.name}) is not supported")
        env[n.output[0]] = y
    return [env[o.name] for o in graph.output]


def times(fn, runs, warmup):
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        torch.cuda.synchronize()
        out.append((time.perf_counter() - t) * 1e3)
    return out


def graph_replay(fn):
    s = torch.cuda.Stream()
    s.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(s):
        for _ in range(3):
            fn()
    torch.cuda.current_stream().wait_stream(s)
    g = torch.cuda.CUDAGraph()
    with torch.cuda.graph(g):
        fn()
    return g.replay


def set_tf32(on):
    torch.backends.cudnn.allow_tf32 = on
    torch.backends.cuda.matmul.allow_tf32 = on


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("--runs", type=int, default=50)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--input")
    o = ap.parse_args()
    if not torch.cuda.is_available():
        raise SystemExit("bench_pytorch: PyTorch sees no CUDA GPU")
    m = onnx.load(o.model)
    g = m.graph
    consts = {t.name: tensor(numpy_helper.to_array(t)) for t in g.initializer}
    inputs = [v for v in g.input if v.name not in consts]
    if len(inputs) != 1:
        raise SystemExit("bench_pytorch: models with one input only")
    shape = [d.dim_value for d in inputs[0].type.tensor_type.shape.dim]
    if o.input:
        x = np.load(o.input).astype(np.float32)
    else:
        x = np.random.default_rng(1).uniform(-1, 1, shape).astype(np.float32)
    feeds = {inputs[0].name: torch.from_numpy(x).cuda()}
    result = {"torch_version": torch.__version__, "device": torch.cuda.get_device_name()}
    with torch.inference_mode():
        step = lambda: run_graph(g, consts, feeds)
        set_tf32(False)
        result["eager_fp32_ms"] = statistics.median(times(step, o.runs, o.warmup))
        anchor = times(graph_replay(step), o.runs, o.warmup)
        set_tf32(True)
        result["eager_tf32_ms"] = statistics.median(times(step, o.runs, o.warmup))
        result["graph_tf32_ms"] = statistics.median(times(graph_replay(step), o.runs, o.warmup))
        set_tf32(False)
    result["times_ms"] = anchor
    print(json.dumps(result))


if __name__ == "__main__":
    main()
