#!/usr/bin/env python3
"""Generate Kiln's ONNX test models with seeded random weights.

Usage: gen_models.py OUTDIR

Writes torchvision-architecture classifiers (ResNet-18/50, MobileNetV2,
SqueezeNet 1.1, 1000 classes, 1x3x224x224) in the graph style PyTorch exports,
a few storage variants of ResNet-18 (opset 21, external data), and small models
that exercise unusual shapes, attributes and opset semantics. OUTDIR/MANIFEST.txt
lists every model with its inputs: `name.onnx input:1x3x224x224`.

Every graph is built together with a numpy forward pass over a fixed
calibration batch. Conv weights are He-initialised; each BatchNormalization
gets the per-channel mean/variance its input really has on that batch
(gamma ~ U(0.5, 1.5), beta ~ N(0, 0.1)), and convolutions with no batch norm
after them are rescaled to unit output variance, so activations stay O(1)
through the whole depth, as in a trained network. The forward pass runs in
float64 so the measured statistics do not depend on the BLAS in use. All
randomness comes from fixed seeds: the output is byte-identical run to run.
"""

import os
import sys

import numpy as np
import onnx
from numpy.lib.stride_tricks import sliding_window_view
from onnx import TensorProto, helper, numpy_helper

F32 = np.float32
PRODUCER = "kiln-gen-models"


# ---------------------------------------------------------------------------
# numpy reference kernels (NCHW, float64)
# ---------------------------------------------------------------------------

def _pair(v):
    return list(v) if isinstance(v, (list, tuple)) else [v, v]


def _pads4(p):
    """int -> symmetric; [h, w] -> symmetric per axis; 4 values -> ONNX order."""
    if isinstance(p, int):
        return [p, p, p, p]
    if len(p) == 2:
        return [p[0], p[1], p[0], p[1]]
    return list(p)


def auto_pads(auto_pad, in_hw, kernel, strides, dilations):
    """Explicit ONNX pads [t, l, b, r] for an auto_pad mode."""
    if auto_pad == "VALID":
        return [0, 0, 0, 0]
    begin, end = [], []
    for n, k, s, d in zip(in_hw, kernel, strides, dilations):
        out = -(-n // s)
        total = max((out - 1) * s + (k - 1) * d + 1 - n, 0)
        small, large = total // 2, total - total // 2
        if auto_pad == "SAME_UPPER":
            begin.append(small), end.append(large)
        else:  # SAME_LOWER
            begin.append(large), end.append(small)
    return begin + end


def np_conv(x, w, b, strides, pads, dilations, group):
    n, c, _, _ = x.shape
    o, cg, kh, kw = w.shape
    (sh, sw), (dh, dw) = strides, dilations
    pt, pl, pb, pr = pads
    xp = np.pad(x, ((0, 0), (0, 0), (pt, pb), (pl, pr)))
    win = sliding_window_view(xp, (dh * (kh - 1) + 1, dw * (kw - 1) + 1), axis=(2, 3))
    win = win[:, :, ::sh, ::sw, ::dh, ::dw]          # N, C, OH, OW, kh, kw
    oh, ow = win.shape[2:4]
    if group == c and o == c:                         # depthwise
        y = np.zeros((n, c, oh, ow))
        for i in range(kh):
            for j in range(kw):
                y += win[..., i, j] * w[:, 0, i, j][None, :, None, None]
    else:
        og = o // group
        parts = []
        for g in range(group):
            cols = win[:, g * cg:(g + 1) * cg].transpose(0, 2, 3, 1, 4, 5)
            cols = cols.reshape(n * oh * ow, cg * kh * kw)
            wg = w[g * og:(g + 1) * og].reshape(og, -1).astype(np.float64)
            parts.append((cols @ wg.T).reshape(n, oh, ow, og).transpose(0, 3, 1, 2))
        y = np.concatenate(parts, axis=1)
    if b is not None:
        y = y + b[None, :, None, None]
    return np.ascontiguousarray(y)


def pool_out(n, k, s, pb, pe, ceil):
    span = n + pb + pe - k
    out = (-(-span // s) if ceil else span // s) + 1
    if ceil and (out - 1) * s >= n + pb:              # last window must start inside
        out -= 1
    return out


def np_pool(x, kind, kernel, strides, pads, ceil=0, count_include_pad=0):
    _, _, h, w = x.shape
    pt, pl, pb, pr = pads
    oh = pool_out(h, kernel[0], strides[0], pt, pb, ceil)
    ow = pool_out(w, kernel[1], strides[1], pl, pr, ceil)
    # extra bottom/right padding that ceil mode needs; never counted as data
    xb = (oh - 1) * strides[0] + kernel[0] - (h + pt + pb)
    xr = (ow - 1) * strides[1] + kernel[1] - (w + pl + pr)
    xb, xr = max(xb, 0), max(xr, 0)
    widths = ((0, 0), (0, 0), (pt, pb + xb), (pl, pr + xr))

    def windows(a):
        v = sliding_window_view(a, tuple(kernel), axis=(2, 3))
        return v[:, :, ::strides[0], ::strides[1]][:, :, :oh, :ow]

    if kind == "max":
        return windows(np.pad(x, widths, constant_values=-np.inf)).max(axis=(4, 5))
    total = windows(np.pad(x, widths)).sum(axis=(4, 5))
    mask = np.ones((1, 1, h, w))
    if count_include_pad:
        mask = np.pad(mask, ((0, 0), (0, 0), (pt, pb), (pl, pr)), constant_values=1)
        mask = np.pad(mask, ((0, 0), (0, 0), (0, xb), (0, xr)))
    else:
        mask = np.pad(mask, widths)
    return total / windows(mask).sum(axis=(4, 5))


def np_softmax(x, axis, legacy):
    shape = x.shape
    if legacy:                                        # opset < 13: coerce to 2-D
        x = x.reshape(int(np.prod(shape[:axis])), -1)
        axis = 1
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return (e / e.sum(axis=axis, keepdims=True)).reshape(shape)


# ---------------------------------------------------------------------------
# graph builder with a running numpy forward pass
# ---------------------------------------------------------------------------

class Net:
    """Builds an ONNX graph and evaluates it on calibration data as it goes."""

    def __init__(self, name, opset, seed):
        self.name, self.opset = name, opset
        self.rng = np.random.default_rng(seed)
        self.nodes, self.inits, self.inputs, self.outputs = [], [], [], []
        self.val = {}        # tensor name -> numpy value on the calibration data
        self.count = {}
        self.batch = None    # declared batch size where calibration uses another

    # -- plumbing ----------------------------------------------------------
    def _name(self, base):
        k = self.count.get(base, 0)
        self.count[base] = k + 1
        return f"{base}_{k}"

    def input(self, name, shape, calib_batch=None):
        """Declare a graph input; calibration data is N(0, 1), optionally
        with a different batch size than the declared shape."""
        self.inputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, shape))
        cshape = list(shape)
        if calib_batch is not None:
            cshape[0], self.batch = calib_batch, shape[0]
        self.val[name] = self.rng.standard_normal(cshape, dtype=F32).astype(np.float64)
        return name

    def output(self, name):
        shape = list(self.val[name].shape)
        if self.batch is not None:
            shape[0] = self.batch
        self.outputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, shape))

    def init(self, name, array):
        self.inits.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
        self.val[name] = array.astype(np.float64) if array.dtype == F32 else array
        return name

    def emit(self, op, inputs, result, name=None, **attrs):
        """Append a node with one output; `result` is its numpy value."""
        out = name or self._name(op)
        self.nodes.append(helper.make_node(op, inputs, [out], name=out, **attrs))
        self.val[out] = result
        return out

    def shape_of(self, x):
        return self.val[x].shape

    # -- weights -----------------------------------------------------------
    def he(self, shape, fan):
        return (self.rng.standard_normal(shape, dtype=F32) * F32(np.sqrt(2.0 / fan))).astype(F32)

    def uniform(self, shape, bound):
        return self.rng.uniform(-bound, bound, shape).astype(F32)

    # -- layers ------------------------------------------------------------
    def conv(self, x, cout, k, stride=1, pads=0, dilation=1, group=1, bias=False,
             auto_pad=None, unit_var=False, name=None):
        """Conv with He-normal weights (fan_out, as torchvision). unit_var
        rescales weights so the output has unit variance on the calibration
        data (for convolutions that no batch norm follows)."""
        cin = self.shape_of(x)[1]
        kk, ss, dd = _pair(k), _pair(stride), _pair(dilation)
        name = name or self._name("conv")
        w = self.he((cout, cin // group) + tuple(kk), cout * kk[0] * kk[1] // group)
        b = (self.rng.standard_normal(cout, dtype=F32) * F32(0.01)).astype(F32) if bias else None
        if auto_pad:
            pp = auto_pads(auto_pad, self.shape_of(x)[2:], kk, ss, dd)
        else:
            pp = _pads4(pads)
        y = np_conv(self.val[x], w, None, ss, pp, dd, group)
        if unit_var:
            w = (w * F32(1.0 / y.std())).astype(F32)
            y = np_conv(self.val[x], w, None, ss, pp, dd, group)
        if b is not None:
            y = y + b.astype(np.float64)[None, :, None, None]
        ins = [x, self.init(f"{name}.weight", w)]
        if b is not None:
            ins.append(self.init(f"{name}.bias", b))
        attrs = dict(kernel_shape=kk, strides=ss, dilations=dd, group=group)
        if auto_pad:
            attrs["auto_pad"] = auto_pad
        else:
            attrs["pads"] = pp
        return self.emit("Conv", ins, y, name=name, **attrs)

    def bn(self, x, name=None, eps=1e-5):
        """BatchNormalization whose running statistics are those of its input."""
        name = name or self._name("bn")
        v = self.val[x]
        c = v.shape[1]
        mean = v.mean(axis=(0, 2, 3)).astype(F32)
        var = v.var(axis=(0, 2, 3)).astype(F32)
        gamma = self.rng.uniform(0.5, 1.5, c).astype(F32)
        beta = (self.rng.standard_normal(c, dtype=F32) * F32(0.1)).astype(F32)
        sh = (1, c, 1, 1)
        y = ((v - mean.astype(np.float64).reshape(sh))
             / np.sqrt(var.astype(np.float64).reshape(sh) + float(F32(eps)))
             * gamma.astype(np.float64).reshape(sh) + beta.astype(np.float64).reshape(sh))
        ins = [x] + [self.init(f"{name}.{p}", a) for p, a in
                     (("weight", gamma), ("bias", beta), ("running_mean", mean),
                      ("running_var", var))]
        return self.emit("BatchNormalization", ins, y, name=name, epsilon=eps, momentum=0.9)

    def relu(self, x, name=None):
        return self.emit("Relu", [x], np.maximum(self.val[x], 0), name=name)

    def clip(self, x, lo_name, hi_name):
        """Clip with min/max as inputs (opset >= 11)."""
        lo, hi = float(self.val[lo_name]), float(self.val[hi_name])
        return self.emit("Clip", [x, lo_name, hi_name], np.clip(self.val[x], lo, hi))

    def maxpool(self, x, k, stride, pads=0, ceil=None, auto_pad=None, name=None):
        kk, ss = _pair(k), _pair(stride)
        pp = auto_pads(auto_pad, self.shape_of(x)[2:], kk, ss, [1, 1]) if auto_pad else _pads4(pads)
        y = np_pool(self.val[x], "max", kk, ss, pp, ceil or 0)
        attrs = dict(kernel_shape=kk, strides=ss)
        if auto_pad:
            attrs["auto_pad"] = auto_pad
        else:
            attrs["pads"] = pp
        if ceil is not None:
            attrs["ceil_mode"] = ceil
        return self.emit("MaxPool", [x], y, name=name, **attrs)

    def avgpool(self, x, k, stride, pads, count_include_pad):
        kk, ss, pp = _pair(k), _pair(stride), _pads4(pads)
        y = np_pool(self.val[x], "avg", kk, ss, pp, 0, count_include_pad)
        return self.emit("AveragePool", [x], y, kernel_shape=kk, strides=ss, pads=pp,
                         count_include_pad=count_include_pad)

    def gap(self, x):
        return self.emit("GlobalAveragePool", [x], self.val[x].mean(axis=(2, 3), keepdims=True))

    def add(self, a, b, name=None):
        return self.emit("Add", [a, b], self.val[a] + self.val[b], name=name)

    def mul(self, a, b, name=None):
        return self.emit("Mul", [a, b], self.val[a] * self.val[b], name=name)

    def flatten(self, x, axis=1, name=None):
        v = self.val[x]
        y = v.reshape(int(np.prod(v.shape[:axis])), -1)
        return self.emit("Flatten", [x], y, name=name, axis=axis)

    def concat(self, xs, axis, name=None):
        return self.emit("Concat", xs, np.concatenate([self.val[x] for x in xs], axis=axis),
                         name=name, axis=axis)

    def transpose(self, x, perm, name=None):
        return self.emit("Transpose", [x], self.val[x].transpose(perm), name=name, perm=perm)

    def reshape(self, x, shape, name=None):
        """Reshape to a constant shape; 0 copies the input dimension."""
        sname = self.init(self._name("shape"), np.array(shape, dtype=np.int64))
        v = self.val[x]
        target = [v.shape[i] if d == 0 else d for i, d in enumerate(shape)]
        return self.emit("Reshape", [x, sname], v.reshape(target), name=name)

    def softmax(self, x, axis, name=None):
        y = np_softmax(self.val[x], axis, legacy=self.opset < 13)
        return self.emit("Softmax", [x], y, name=name, axis=axis)

    def gemm(self, a, b, c, alpha=1.0, beta=1.0, trans_a=0, trans_b=0, name=None):
        av, bv = self.val[a], self.val[b]
        av = av.T if trans_a else av
        bv = bv.T if trans_b else bv
        y = float(F32(alpha)) * (av @ bv) + float(F32(beta)) * self.val[c]
        attrs = {}
        if alpha != 1.0:
            attrs["alpha"] = alpha
        if beta != 1.0:
            attrs["beta"] = beta
        if trans_a:
            attrs["transA"] = 1
        if trans_b:
            attrs["transB"] = 1
        return self.emit("Gemm", [a, b, c], y, name=name, **attrs)

    def fc(self, x, nout, name="fc", out=None):
        """Linear layer as PyTorch exports it: Gemm(transB=1), default init."""
        nin = self.shape_of(x)[1]
        bound = 1.0 / np.sqrt(nin)
        w = self.init(f"{name}.weight", self.uniform((nout, nin), bound))
        b = self.init(f"{name}.bias", self.uniform((nout,), bound))
        return self.gemm(x, w, b, trans_b=1, name=out)

    def matmul(self, a, b, name=None):
        return self.emit("MatMul", [a, b], np.matmul(self.val[a], self.val[b]), name=name)

    # -- finish ------------------------------------------------------------
    def model(self, opset=None, ir_version=None):
        graph = helper.make_graph(self.nodes, self.name, self.inputs, self.outputs, self.inits)
        m = helper.make_model(graph, producer_name=PRODUCER,
                              opset_imports=[helper.make_opsetid("", opset or self.opset)])
        if ir_version is not None:
            m.ir_version = ir_version
        return m


# ---------------------------------------------------------------------------
# torchvision architectures
# ---------------------------------------------------------------------------

def conv_bn(net, x, cout, k, stride, pad, prefix, conv="conv", bn="bn", group=1):
    x = net.conv(x, cout, k, stride, pad, group=group, name=f"{prefix}{conv}")
    return net.bn(x, name=f"{prefix}{bn}")


def resnet(name, opset, seed, bottleneck, layers, head):
    net = Net(name, opset, seed)
    x = net.input("input", [1, 3, 224, 224], calib_batch=2)
    x = net.relu(conv_bn(net, x, 64, 7, 2, 3, "", "conv1", "bn1"))
    x = net.maxpool(x, 3, 2, 1, ceil=0)
    inplanes = 64
    expansion = 4 if bottleneck else 1
    for li, (planes, blocks) in enumerate(zip([64, 128, 256, 512], layers)):
        for bi in range(blocks):
            stride = 2 if (li > 0 and bi == 0) else 1
            p = f"layer{li + 1}.{bi}."
            if bottleneck:
                y = net.relu(conv_bn(net, x, planes, 1, 1, 0, p, "conv1", "bn1"))
                y = net.relu(conv_bn(net, y, planes, 3, stride, 1, p, "conv2", "bn2"))
                y = conv_bn(net, y, planes * 4, 1, 1, 0, p, "conv3", "bn3")
            else:
                y = net.relu(conv_bn(net, x, planes, 3, stride, 1, p, "conv1", "bn1"))
                y = conv_bn(net, y, planes, 3, 1, 1, p, "conv2", "bn2")
            if stride != 1 or inplanes != planes * expansion:
                x = conv_bn(net, x, planes * expansion, 1, stride, 0, p,
                            "downsample.0", "downsample.1")
            x = net.relu(net.add(y, x))
            inplanes = planes * expansion
    x = net.gap(x)
    if head == "shape_chain":
        # x.view(x.size(0), -1): Shape -> Gather -> Unsqueeze -> Concat -> Reshape
        shp = net.emit("Shape", [x], np.array(net.shape_of(x), dtype=np.int64))
        idx = net.emit("Constant", [], np.array(0, dtype=np.int64),
                       value=numpy_helper.from_array(np.array(0, dtype=np.int64)))
        n0 = net.emit("Gather", [shp, idx], net.val[shp][0], axis=0)
        axes = net.emit("Constant", [], np.array([0], dtype=np.int64),
                        value=numpy_helper.from_array(np.array([0], dtype=np.int64)))
        n1 = net.emit("Unsqueeze", [n0, axes], net.val[n0].reshape(1))
        minus1 = net.emit("Constant", [], np.array([-1], dtype=np.int64),
                          value=numpy_helper.from_array(np.array([-1], dtype=np.int64)))
        tgt = net.emit("Concat", [n1, minus1],
                       np.concatenate([net.val[n1], net.val[minus1]]), axis=0)
        x = net.emit("Reshape", [x, tgt], net.val[x].reshape(net.shape_of(x)[0], -1))
    else:
        x = net.flatten(x, 1)
    net.fc(x, 1000, out="output")
    net.output("output")
    return net


def mobilenet_v2(seed):
    net = Net("mobilenetv2", 11, seed)
    lo = net.init("clip_min", np.array(0.0, dtype=F32))
    hi = net.init("clip_max", np.array(6.0, dtype=F32))
    x = net.input("input", [1, 3, 224, 224], calib_batch=2)
    x = net.clip(conv_bn(net, x, 32, 3, 2, 1, "features.0.", "0", "1"), lo, hi)
    cin, idx = 32, 1
    for t, c, n, s in [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2),
                       (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]:
        for i in range(n):
            stride = s if i == 0 else 1
            hidden = cin * t
            p = f"features.{idx}.conv."
            y, j = x, 0
            if t != 1:
                y = net.clip(conv_bn(net, y, hidden, 1, 1, 0, f"{p}0.", "0", "1"), lo, hi)
                j = 1
            y = net.clip(conv_bn(net, y, hidden, 3, stride, 1, f"{p}{j}.", "0", "1",
                                 group=hidden), lo, hi)
            y = conv_bn(net, y, c, 1, 1, 0, p, f"{j + 1}", f"{j + 2}")
            x = net.add(x, y) if (stride == 1 and cin == c) else y
            cin, idx = c, idx + 1
    x = net.clip(conv_bn(net, x, 1280, 1, 1, 0, f"features.{idx}.", "0", "1"), lo, hi)
    x = net.flatten(net.gap(x), 1)
    net.fc(x, 1000, name="classifier.1", out="output")
    net.output("output")
    return net


def squeezenet1_1(seed):
    # opset 9 has no MaxPool ceil_mode; as PyTorch does at opset 9, ceil mode
    # becomes extra end padding, which is zero for these (exact) sizes.
    net = Net("squeezenet1_1", 9, seed)
    x = net.input("input", [1, 3, 224, 224], calib_batch=2)

    def fire(x, idx, squeeze, e1, e3):
        p = f"features.{idx}."
        s = net.relu(net.conv(x, squeeze, 1, bias=True, unit_var=True, name=p + "squeeze"))
        a = net.relu(net.conv(s, e1, 1, bias=True, unit_var=True, name=p + "expand1x1"))
        b = net.relu(net.conv(s, e3, 3, 1, 1, bias=True, unit_var=True, name=p + "expand3x3"))
        return net.concat([a, b], axis=1)

    x = net.relu(net.conv(x, 64, 3, 2, bias=True, unit_var=True, name="features.0"))
    x = net.maxpool(x, 3, 2)
    x = fire(x, 3, 16, 64, 64)
    x = fire(x, 4, 16, 64, 64)
    x = net.maxpool(x, 3, 2)
    x = fire(x, 6, 32, 128, 128)
    x = fire(x, 7, 32, 128, 128)
    x = net.maxpool(x, 3, 2)
    x = fire(x, 9, 48, 192, 192)
    x = fire(x, 10, 48, 192, 192)
    x = fire(x, 11, 64, 256, 256)
    x = fire(x, 12, 64, 256, 256)
    x = net.emit("Dropout", [x], net.val[x], ratio=0.5)
    x = net.relu(net.conv(x, 1000, 1, bias=True, unit_var=True, name="classifier.1"))
    net.flatten(net.gap(x), 1, name="output")
    net.output("output")
    return net


# ---------------------------------------------------------------------------
# small models with unusual shapes and attributes
# ---------------------------------------------------------------------------

def odd_input(seed):
    net = Net("odd_input", 13, seed)
    x = net.input("input", [1, 3, 37, 53])
    x = net.relu(net.bn(net.conv(x, 16, 3, 2, 1)))
    x = net.relu(net.conv(x, 24, 3, 1, 0, bias=True, unit_var=True))
    x = net.maxpool(x, 2, 2, ceil=0)
    x = net.flatten(net.gap(x), 1)
    net.fc(x, 10, out="output")
    net.output("output")
    return net


def nhwc_transpose(seed):
    net = Net("nhwc_transpose", 13, seed)
    x = net.input("input", [1, 32, 32, 3])
    x = net.transpose(x, [0, 3, 1, 2])
    x = net.relu(net.conv(x, 16, 3, 1, 1, bias=True, unit_var=True))
    x = net.relu(net.conv(x, 32, 3, 2, 1, bias=True, unit_var=True))
    net.transpose(x, [0, 2, 3, 1], name="output")
    net.output("output")
    return net


def batch3(seed):
    net = Net("batch3", 13, seed)
    x = net.input("input", [3, 3, 32, 32])
    x = net.relu(net.bn(net.conv(x, 16, 3, 1, 1)))
    x = net.maxpool(x, 2, 2)
    x = net.flatten(x, 1)
    net.fc(x, 10, out="output")
    net.output("output")
    return net


def asym_pads(seed):
    net = Net("asym_pads", 13, seed)
    # sizes chosen so ceil_mode changes the output size (floor would give
    # 15x14 and 3x7), without a last window that starts in the padding
    x = net.input("input", [1, 3, 31, 29])
    x = net.relu(net.conv(x, 8, 3, 1, [0, 1, 2, 1], bias=True, unit_var=True))  # 31x29
    x = net.maxpool(x, 3, 2, [1, 0, 0, 1], ceil=1)                               # 16x15
    x = net.conv(x, 8, [3, 2], [2, 1], [1, 0, 0, 1], bias=True, unit_var=True)  # 8x15
    net.maxpool(x, 3, 2, [0, 1, 0, 0], ceil=1, name="output")                    # 4x8
    net.output("output")
    return net


def grouped_dilated(seed):
    net = Net("grouped_dilated", 13, seed)
    x = net.input("input", [1, 8, 33, 33])
    x = net.relu(net.conv(x, 16, 3, 2, 2, dilation=2, group=4, bias=True, unit_var=True))
    x = net.relu(net.conv(x, 16, 3, 1, 1, group=16, bias=True, unit_var=True))
    x = net.conv(x, 12, [3, 5], [1, 2], [2, 1, 1, 3], dilation=[1, 2], group=4,
                 bias=True, unit_var=True)
    net.relu(x, name="output")
    net.output("output")
    return net


def auto_pad(seed):
    net = Net("auto_pad", 11, seed)
    x = net.input("input", [1, 4, 32, 32])
    x = net.relu(net.conv(x, 8, 3, 2, auto_pad="SAME_UPPER", bias=True, unit_var=True))
    x = net.relu(net.conv(x, 8, 3, 2, auto_pad="SAME_LOWER", bias=True, unit_var=True))
    a = net.maxpool(x, 3, 2, auto_pad="VALID")
    b = net.maxpool(x, 3, 2, auto_pad="SAME_UPPER")
    c = net.maxpool(x, 3, 2, auto_pad="SAME_LOWER")
    d = net.conv(x, 4, [2, 4], 2, auto_pad="VALID", bias=True, unit_var=True)
    for name, t in (("valid_pool", a), ("same_upper_pool", b), ("same_lower_pool", c),
                    ("valid_conv", d)):
        net.emit("Identity", [t], net.val[t], name=name)
        net.output(name)
    return net


def avgpool_pad(seed):
    net = Net("avgpool_pad", 13, seed)
    x = net.input("input", [1, 8, 15, 15])
    outs = [net.avgpool(x, 3, 2, 1, 0), net.avgpool(x, 3, 2, 1, 1),
            net.avgpool(x, [3, 2], [2, 1], [0, 1, 2, 0], 0),
            net.avgpool(x, [3, 2], [2, 1], [0, 1, 2, 0], 1)]
    for i, t in enumerate(outs):
        net.emit("Identity", [t], net.val[t], name=f"output{i}")
        net.output(f"output{i}")
    return net


def gemm_variants(seed):
    net = Net("gemm_variants", 13, seed)
    a = net.input("a", [8, 4])
    b = net.input("b", [2, 1, 4, 5])
    w1 = net.init("w1", net.uniform((8, 16), 0.35))
    row = net.init("bias_row", net.uniform((16,), 0.5))
    y = net.gemm(a, w1, row, alpha=0.5, beta=2.0, trans_a=1)          # [4, 16]
    w2 = net.init("w2", net.uniform((10, 16), 0.25))
    scalar = net.init("bias_scalar", np.array(0.75, dtype=F32))
    net.gemm(y, w2, scalar, trans_b=1, beta=0.5, name="gemm_out")    # [4, 10]
    w3 = net.init("w3", net.uniform((3, 5, 6), 0.45))
    net.matmul(b, w3, name="matmul_out")                              # [2, 3, 4, 6]
    net.output("gemm_out")
    net.output("matmul_out")
    return net


def broadcast_ops(seed):
    net = Net("broadcast_ops", 13, seed)
    x = net.input("x", [2, 3, 4, 5])
    y = net.input("y", [4, 1])
    t = net.add(x, net.init("c_w", net.uniform((5,), 1.0)))           # rank 1
    t = net.mul(t, net.init("c_c11", net.uniform((3, 1, 1), 1.0)))    # rank 3
    t = net.add(t, y)                                                  # rank 2 input
    t = net.mul(t, net.init("c_scalar", np.array(0.5, dtype=F32)))    # rank 0
    t = net.add(net.init("c_n1h1", net.uniform((2, 1, 4, 1), 1.0)), t)
    t = net.mul(t, net.init("c_1c1w", net.uniform((1, 3, 1, 5), 1.0)))
    net.softmax(t, axis=1, name="output")
    net.output("output")
    return net


def softmax_opset11(seed):
    net = Net("softmax_opset11", 11, seed)
    x = net.input("input", [2, 3, 4, 5])
    x = net.mul(x, net.init("scale", np.array(2.0, dtype=F32)))
    net.softmax(x, axis=1, name="output")      # legacy: softmax over 3*4*5 values
    net.output("output")
    return net


def concat_reshape(seed):
    net = Net("concat_reshape", 13, seed)
    x = net.input("input", [1, 4, 6, 6])
    c = net.relu(net.conv(x, 8, 3, 1, 1, bias=True, unit_var=True))
    t = net.concat([x, c], axis=1)                  # 1x12x6x6
    t = net.reshape(t, [0, 3, -1, 6])               # 1x3x24x6
    t = net.transpose(t, [0, 2, 1, 3])              # 1x24x3x6
    net.flatten(t, 2, name="output")                # 24x18
    net.output("output")
    return net


# ---------------------------------------------------------------------------
# driver
# ---------------------------------------------------------------------------

def check(model, path=None):
    onnx.checker.check_model(path if path else model, full_check=True)
    onnx.shape_inference.infer_shapes(model, check_type=True, strict_mode=True)


def input_desc(model):
    parts = []
    for vi in model.graph.input:
        dims = "x".join(str(d.dim_value) for d in vi.type.tensor_type.shape.dim)
        parts.append(f"{vi.name}:{dims}")
    return " ".join(parts)


# file name -> builder of its Net, in manifest order (each with its own seed)
MODELS = {
    "resnet18.onnx": lambda: resnet("resnet18", 13, 18, False, [2, 2, 2, 2], "shape_chain"),
    "resnet50.onnx": lambda: resnet("resnet50", 17, 50, True, [3, 4, 6, 3], "flatten"),
    "mobilenetv2.onnx": lambda: mobilenet_v2(2),
    "squeezenet1_1.onnx": lambda: squeezenet1_1(11),
    "odd_input.onnx": lambda: odd_input(101),
    "nhwc_transpose.onnx": lambda: nhwc_transpose(102),
    "batch3.onnx": lambda: batch3(103),
    "asym_pads.onnx": lambda: asym_pads(104),
    "grouped_dilated.onnx": lambda: grouped_dilated(105),
    "auto_pad.onnx": lambda: auto_pad(106),
    "avgpool_pad.onnx": lambda: avgpool_pad(107),
    "gemm_variants.onnx": lambda: gemm_variants(108),
    "broadcast_ops.onnx": lambda: broadcast_ops(109),
    "softmax_opset11.onnx": lambda: softmax_opset11(110),
    "concat_reshape.onnx": lambda: concat_reshape(111),
}


def main(argv):
    if len(argv) != 2:
        sys.exit("usage: gen_models.py OUTDIR")
    outdir = argv[1]
    os.makedirs(outdir, exist_ok=True)
    manifest = []

    def save(fname, model, checked=True):
        if checked:
            check(model)
        onnx.save(model, os.path.join(outdir, fname))
        manifest.append(f"{fname} {input_desc(model)}")

    for fname, build in MODELS.items():
        net = build()
        model = net.model()
        save(fname, model)
        if fname == "resnet18.onnx":
            # opset 21 (IR 10, as current exporters write it): every op used has
            # the same semantics there; onnx 1.12's checker predates opset 21.
            save("resnet18_opset21.onnx", net.model(opset=21, ir_version=10),
                 checked=onnx.defs.onnx_opset_version() >= 21)
            # initializers (>= 1 KiB) in resnet18_extdata.bin beside the model
            ext = net.model()
            for stale in ("resnet18_extdata.onnx", "resnet18_extdata.bin"):
                if os.path.exists(os.path.join(outdir, stale)):
                    os.remove(os.path.join(outdir, stale))
            onnx.save(ext, os.path.join(outdir, "resnet18_extdata.onnx"),
                      save_as_external_data=True, all_tensors_to_one_file=True,
                      location="resnet18_extdata.bin", size_threshold=1024)
            check(model, os.path.join(outdir, "resnet18_extdata.onnx"))
            manifest.append(f"resnet18_extdata.onnx {input_desc(model)}")

    with open(os.path.join(outdir, "MANIFEST.txt"), "w") as f:
        f.write("\n".join(manifest) + "\n")


if __name__ == "__main__":
    main(sys.argv)
