#!/usr/bin/python3
"""Generate small ONNX test fixtures with float64 references into test/fixtures/.

Run with /usr/bin/python3 (needs torch 1.13, onnx 1.12, numpy):

    /usr/bin/python3 scripts/make_op_fixtures.py            # everything
    /usr/bin/python3 scripts/make_op_fixtures.py --only conv # cases whose group/case contains "conv"

Groups: ops/ (one op per graph, with finite-difference gradients), nets/ (small synthetic CNNs at
opsets 9/11/13 with Grad-CAM references), legacy/ (old-style graphs), bad/ (files that must be rejected).
See test/fixtures/OP_FIXTURES.md (written by this script) for the exact format.

Every reference is computed outside any ONNX runtime: by the equivalent PyTorch module/function run in
float64 on the float32 inputs/weights cast to float64.  In addition, every written model.onnx is
cross-checked against its reference by a small float64 ONNX interpreter in this file (onnx_eval), which
reads the graph as ONNX defines it; this catches exporter/semantics mismatches.  The cross-check
difference is recorded as "onnx_eval_vs_ref" in meta.json.

Deterministic: every case is seeded from its own name (crc32), torch runs single-threaded, and the
output directories are rewritten from scratch, so re-running produces byte-identical files.
"""
import argparse
import copy
import io
import json
import math
import shutil
import sys
import warnings
import zlib
from pathlib import Path

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F
from onnx import TensorProto, helper, numpy_helper

from counter_random import unit_draw

warnings.filterwarnings("ignore")
torch.set_num_threads(1)
torch.use_deterministic_algorithms(True)

REPO = Path(__file__).resolve().parent.parent
FIX = REPO / "test" / "fixtures"
GROUPS = ("ops", "nets", "legacy", "models", "bad")
FD_H = 1e-6
IR_FOR_OPSET = {6: 3, 7: 3, 9: 4, 10: 5, 11: 6, 12: 7, 13: 7, 14: 7, 16: 8, 17: 8, 18: 8, 20: 9, 21: 10}
# onnx 1.12's checker knows opsets up to 17: newer cases are checked by the reference and the interpreter.
CHECKER_MAX_OPSET = 17
NET_H, NET_W = 32, 40
# onnx_eval reads float attributes/constants as stored (float32: HardSigmoid alpha=1/6, eps, GELU's sqrt(2), ...)
# while the torch float64 reference uses the exact values, so they agree to ~1e-8 relative, not 1e-15.
XCHECK_TOL = 1e-6

# ----------------------------------------------------------------------------------------------
# small helpers


def t64(a):
    return torch.from_numpy(np.array(a, dtype=np.float64))


def seed_of(key):
    return zlib.crc32(key.encode()) & 0x7FFFFFFF


def randn(rng, *shape, scale=1.0):
    return (rng.standard_normal(shape) * scale).astype(np.float32)


def unif(rng, lo, hi, *shape):
    return rng.uniform(lo, hi, shape).astype(np.float32)


def away(rng, x, kinks, margin=1e-3, lo=None, hi=None):
    """Resample entries of x lying within `margin` of any kink, so central FD is valid there."""
    x = x.copy()
    for _ in range(1000):
        bad = np.zeros(x.shape, bool)
        for k in kinks:
            bad |= np.abs(x.astype(np.float64) - k) < margin
        if not bad.any():
            return x
        n = int(bad.sum())
        x[bad] = (rng.uniform(lo, hi, n) if lo is not None else rng.standard_normal(n) * float(x.std())).astype(np.float32)
    raise RuntimeError("could not move inputs away from kinks")


def distinct(rng, shape, lo=-2.0, hi=2.0):
    """All values distinct, spaced (hi-lo)/n apart (>> FD step): no ties in any max window."""
    n = int(np.prod(shape))
    return rng.permutation(np.linspace(lo, hi, n)).reshape(shape).astype(np.float32)


def init_weights(module, gen):
    """He-normal conv/linear weights, small random biases, randomized BatchNorm/LayerNorm affine + stats."""
    with torch.no_grad():
        for m in module.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                fan_in = m.weight[0].numel()
                m.weight.copy_(torch.randn(m.weight.shape, generator=gen) * math.sqrt(2.0 / fan_in))
                if m.bias is not None:
                    m.bias.copy_(torch.rand(m.bias.shape, generator=gen) * 0.2 - 0.1)
            elif isinstance(m, nn.BatchNorm2d):
                c = m.num_features
                m.weight.copy_(torch.rand(c, generator=gen) * 0.8 + 0.6)
                m.bias.copy_(torch.rand(c, generator=gen) * 0.4 - 0.2)
                m.running_mean.copy_(torch.rand(c, generator=gen) * 0.4 - 0.2)
                m.running_var.copy_(torch.rand(c, generator=gen) * 1.0 + 0.5)
            elif isinstance(m, nn.LayerNorm):
                m.weight.copy_(torch.rand(m.weight.shape, generator=gen) * 0.8 + 0.6)
                m.bias.copy_(torch.rand(m.bias.shape, generator=gen) * 0.4 - 0.2)
    return module


class Fn(nn.Module):
    """Wrap a function of the inputs (and of this module's float buffers c0, c1, ...) as a module."""

    def __init__(self, fn, *consts):
        super().__init__()
        self.fn = fn
        for i, c in enumerate(consts):
            self.register_buffer(f"c{i}", torch.from_numpy(np.asarray(c)))

    def forward(self, *xs):
        consts = [getattr(self, f"c{i}") for i in range(len(self._buffers))]
        return self.fn(*xs, *consts)


class LRNFn(torch.autograd.Function):
    """F.local_response_norm, exported as a single ONNX LRN node (torch itself exports a
    Pad/AveragePool/If decomposition)."""

    @staticmethod
    def forward(ctx, x, size, alpha, beta, k):
        return F.local_response_norm(x, size, alpha, beta, k)

    @staticmethod
    def symbolic(g, x, size, alpha, beta, k):
        return g.op("LRN", x, size_i=size, alpha_f=alpha, beta_f=beta, bias_f=k)


class LRN(nn.Module):
    def __init__(self, size, alpha, beta, k):
        super().__init__()
        assert size % 2 == 1, "even LRN sizes differ between torch and ONNX"
        self.args = (size, alpha, beta, k)

    def forward(self, x):
        if torch.onnx.is_in_onnx_export():
            return LRNFn.apply(x, *self.args)
        return F.local_response_norm(x, *self.args)


# ----------------------------------------------------------------------------------------------
# model construction


def export_torch(module, inputs, opset=13, **kw):
    module.eval()
    buf = io.BytesIO()
    args = tuple(torch.from_numpy(x) for x in inputs)
    names = [f"x{i}" for i in range(len(inputs))]
    with torch.no_grad():
        torch.onnx.export(module, args, buf, opset_version=opset, input_names=names, output_names=["y"],
                          do_constant_folding=kw.pop("do_constant_folding", True), **kw)
    model = onnx.load_from_string(buf.getvalue())
    m64 = copy.deepcopy(module).double().eval()
    return model, m64


def make_model(nodes, inputs, inits, out_shape, opset, ir_version=None, inits_as_inputs=False,
               name="fixture"):
    g_in = [helper.make_tensor_value_info(f"x{i}", TensorProto.FLOAT, list(x.shape)) for i, x in enumerate(inputs)]
    tensors = []
    for k, v in inits.items():
        tensors.append(v if isinstance(v, TensorProto) else numpy_helper.from_array(np.asarray(v), k))
    if inits_as_inputs:
        g_in += [helper.make_tensor_value_info(t.name, t.data_type, list(t.dims)) for t in tensors]
    out = helper.make_tensor_value_info("y", TensorProto.FLOAT, list(out_shape))
    graph = helper.make_graph(nodes, name, g_in, [out], initializer=tensors)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)],
                              producer_name="make_op_fixtures.py")
    model.ir_version = ir_version or IR_FOR_OPSET[opset]
    return model


# ----------------------------------------------------------------------------------------------
# an independent float64 interpretation of the ONNX graph (for cross-checking only)


def _attrs(node):
    out = {}
    for a in node.attribute:
        v = helper.get_attribute_value(a)
        out[a.name] = v.decode() if isinstance(v, bytes) else v
    return out


def _to_torch(arr):
    arr = np.asarray(arr)
    if arr.dtype.kind == "f":
        return torch.from_numpy(arr.astype(np.float64))
    if arr.dtype.kind in "iu":
        return torch.from_numpy(arr.astype(np.int64))
    if arr.dtype.kind == "b":
        return torch.from_numpy(arr.copy())
    raise TypeError(arr.dtype)


def _pads_nd(a, x, k, s, d):
    """(begins, ends) per spatial axis, auto_pad resolved."""
    n_sp = x.dim() - 2
    auto = a.get("auto_pad", "NOTSET")
    if auto in ("NOTSET", ""):
        p = list(a.get("pads", [0] * (2 * n_sp)))
        return p[:n_sp], p[n_sp:]
    if auto == "VALID":
        return [0] * n_sp, [0] * n_sp
    begins, ends = [], []
    for i in range(n_sp):
        n = x.shape[2 + i]
        o = -(-n // s[i])
        total = max((o - 1) * s[i] + (k[i] - 1) * d[i] + 1 - n, 0)
        small = total // 2
        b = small if auto == "SAME_UPPER" else total - small
        begins.append(b)
        ends.append(total - b)
    return begins, ends


def _torch_pad(begins, ends):
    """F.pad's argument: the last axis first."""
    out = []
    for b, e in reversed(list(zip(begins, ends))):
        out += [b, e]
    return tuple(out)


def _pool(x, a, kind):
    n_sp = x.dim() - 2
    k = list(a["kernel_shape"])
    s = list(a.get("strides", [1] * n_sp))
    d = list(a.get("dilations", [1] * n_sp))
    begins, ends = _pads_nd(a, x, k, s, d)
    ceil = a.get("ceil_mode", 0)
    outs, extra = [], []
    for i in range(n_sp):
        n = x.shape[2 + i]
        eff = (k[i] - 1) * d[i] + 1
        num = n + begins[i] + ends[i] - eff
        o = (-(-num // s[i]) if ceil else num // s[i]) + 1
        if ceil and (o - 1) * s[i] >= n + begins[i]:  # last window must start inside input or begin-padding
            o -= 1
        outs.append(o)
        extra.append(max(0, (o - 1) * s[i] + eff - (n + begins[i] + ends[i])))
    fill = -math.inf if kind == "max" else 0.0
    grown = [e + x_ for e, x_ in zip(ends, extra)]
    xp = F.pad(x, _torch_pad(begins, grown), value=fill)
    real = F.pad(torch.ones_like(x), _torch_pad(begins, grown))
    padded = F.pad(F.pad(torch.ones_like(x), _torch_pad(begins, ends), value=1.0), _torch_pad([0] * n_sp, extra))

    def win(t):
        for i in range(n_sp):
            t = t.unfold(2 + i, (k[i] - 1) * d[i] + 1, s[i])
        t = t[(Ellipsis,) + tuple(slice(None, None, d[i]) for i in range(n_sp))]
        return t[(slice(None), slice(None)) + tuple(slice(0, o) for o in outs)]

    dims = tuple(range(-n_sp, 0))
    if kind == "max":
        return win(xp).amax(dim=dims)
    cnt = win(padded if a.get("count_include_pad", 0) else real).sum(dim=dims)
    return win(xp).sum(dim=dims) / cnt


def _slice_index(n, start, end, step):
    if start < 0:
        start += n
    if end < 0:
        end += n
    if step > 0:
        start, end = min(max(start, 0), n), min(max(end, 0), n)
    else:
        start, end = min(max(start, 0), n - 1), min(max(end, -1), n - 1)
    return list(range(start, end, step))


def _prod(v, dims, keep):
    for d in sorted(dims, reverse=True):
        v = v.prod(d, keepdim=keep)
    return v


def _resize_matrix(mode, transform, nearest, a_coef, exclude, n_in, n_out, scale):
    """ONNX Resize along one axis as an [n_out, n_in] float64 matrix (the interpreter's own reading of the spec)."""
    m = torch.zeros(n_out, n_in, dtype=torch.float64)
    resized = scale * n_in
    for o in range(n_out):
        if transform == "half_pixel":
            x = (o + 0.5) / scale - 0.5
        elif transform == "pytorch_half_pixel":
            x = (o + 0.5) / scale - 0.5 if resized > 1 else 0.0
        elif transform == "align_corners":
            x = 0.0 if resized == 1 else o * (n_in - 1) / (resized - 1)
        else:
            x = o / scale
        if mode == "nearest":
            i = {"floor": math.floor(x), "ceil": math.ceil(x), "round_prefer_ceil": math.floor(x + 0.5)}.get(nearest, math.ceil(x - 0.5))
            m[o, min(max(i, 0), n_in - 1)] += 1
        elif mode == "linear":
            c = min(max(x, 0.0), n_in - 1)
            lo = math.floor(c)
            m[o, lo] += 1 - (c - lo)
            m[o, min(lo + 1, n_in - 1)] += c - lo
        else:
            lo, t = math.floor(x), x - math.floor(x)
            A = a_coef
            ws = [((A * (t + 1) - 5 * A) * (t + 1) + 8 * A) * (t + 1) - 4 * A, ((A + 2) * t - (A + 3)) * t * t + 1,
                  ((A + 2) * (1 - t) - (A + 3)) * (1 - t) ** 2 + 1, ((A * (2 - t) - 5 * A) * (2 - t) + 8 * A) * (2 - t) - 4 * A]
            idx = [lo - 1 + k for k in range(4)]
            if exclude:
                ws = [w if 0 <= i < n_in else 0.0 for w, i in zip(ws, idx)]
                total = sum(ws)
                ws = [w / total for w in ws]
            for i, w in zip(idx, ws):
                m[o, min(max(i, 0), n_in - 1)] += w
    return m


def _run_node(node, ins, opset):
    a = _attrs(node)
    op = node.op_type
    x = ins[0] if ins else None
    if op == "Conv":
        w = ins[1]
        n_sp = x.dim() - 2
        k = list(w.shape[2:])
        s = list(a.get("strides", [1] * n_sp))
        d = list(a.get("dilations", [1] * n_sp))
        begins, ends = _pads_nd(a, x, k, s, d)
        b = ins[2] if len(ins) > 2 and ins[2] is not None else None
        conv = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}[n_sp]
        return [conv(F.pad(x, _torch_pad(begins, ends)), w, b, s, 0, d, a.get("group", 1))]
    if op == "ConvTranspose":
        w = ins[1]
        n_sp = x.dim() - 2
        s = list(a.get("strides", [1] * n_sp))
        d = list(a.get("dilations", [1] * n_sp))
        pads = list(a.get("pads", [0] * (2 * n_sp)))
        extra = list(a.get("output_padding", [0] * n_sp))
        full = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}[n_sp](x, w, None, s, 0, 0, a.get("group", 1), d)
        full = F.pad(full, _torch_pad([0] * n_sp, extra))
        y = full[(slice(None), slice(None)) + tuple(slice(pads[i], full.shape[2 + i] - pads[n_sp + i]) for i in range(n_sp))]
        if len(ins) > 2 and ins[2] is not None:
            y = y + ins[2].reshape(1, -1, *([1] * n_sp))
        return [y]
    if op in ("Resize", "Upsample"):
        legacy = op == "Upsample" or opset < 11
        if op == "Upsample":
            scales = ins[1].tolist() if opset >= 9 else a["scales"]
        elif opset < 11:
            scales = ins[1].tolist()
        else:
            scales = ins[2].tolist() if len(ins) > 2 and ins[2] is not None and ins[2].numel() else None
        sizes = ins[3].tolist() if not legacy and len(ins) > 3 and ins[3] is not None else None
        if sizes is not None:
            scales = [o / i for o, i in zip(sizes, x.shape)]
        else:
            sizes = [math.floor(i * sc) for i, sc in zip(x.shape, scales)]
        mode = {"bilinear": "linear"}.get(a.get("mode", "nearest"), a.get("mode", "nearest"))
        transform = "asymmetric" if legacy else a.get("coordinate_transformation_mode", "half_pixel")
        nearest = "floor" if legacy else a.get("nearest_mode", "round_prefer_floor")
        y = x
        for axis, (n_in, n_out, sc) in enumerate(zip(x.shape, sizes, scales)):
            if n_in == n_out and sc == 1:
                continue
            mat = _resize_matrix(mode, transform, nearest, a.get("cubic_coeff_a", -0.75), a.get("exclude_outside", 0),
                                 n_in, n_out, sc)
            y = torch.movedim(torch.tensordot(torch.movedim(y, axis, -1), mat.t(), dims=1), -1, axis)
        return [y]
    if op == "BatchNormalization":
        sc, b, mean, var = [t.reshape(1, -1, *([1] * (x.dim() - 2))) for t in ins[1:5]]
        return [(x - mean) / torch.sqrt(var + a.get("epsilon", 1e-5)) * sc + b]
    if op == "Relu":
        return [torch.clamp(x, min=0)]
    if op == "LeakyRelu":
        return [torch.where(x >= 0, x, x * a.get("alpha", 0.01))]
    if op == "Clip":
        if opset < 11:
            lo, hi = a.get("min", -math.inf), a.get("max", math.inf)
        else:
            lo = ins[1].item() if len(ins) > 1 and ins[1] is not None else -math.inf
            hi = ins[2].item() if len(ins) > 2 and ins[2] is not None else math.inf
        return [torch.clamp(x, lo, hi)]
    if op == "Sigmoid":
        return [1.0 / (1.0 + torch.exp(-x))]
    if op == "HardSigmoid":
        return [torch.clamp(x * a.get("alpha", 0.2) + a.get("beta", 0.5), 0, 1)]
    if op == "HardSwish":
        return [x * torch.clamp(x / 6.0 + 0.5, 0, 1)]
    if op == "Tanh":
        return [torch.tanh(x)]
    if op == "Erf":
        return [torch.erf(x)]
    if op == "Sqrt":
        return [torch.sqrt(x)]
    unary = {"Abs": torch.abs, "Neg": torch.neg, "Exp": torch.exp, "Log": torch.log, "Reciprocal": torch.reciprocal,
             "Ceil": torch.ceil, "Floor": torch.floor, "Softsign": lambda v: v / (1 + v.abs()),
             "Softplus": lambda v: torch.log(torch.exp(v) + 1), "Mish": lambda v: v * torch.tanh(torch.log1p(torch.exp(v)))}
    if op in unary:
        return [unary[op](x)]
    if op == "LayerNormalization":
        axis = a.get("axis", -1) % x.dim()
        dims = tuple(range(axis, x.dim()))
        mean = x.mean(dims, keepdim=True)
        var = ((x - mean) ** 2).mean(dims, keepdim=True)
        y = (x - mean) / torch.sqrt(var + a.get("epsilon", 1e-5)) * ins[1]
        return [y + ins[2] if len(ins) > 2 and ins[2] is not None else y]
    if op in ("InstanceNormalization", "GroupNormalization"):
        n, c = x.shape[:2]
        g = a["num_groups"] if op == "GroupNormalization" else c
        xg = x.reshape(n, g, -1)
        mean = xg.mean(2, keepdim=True)
        var = ((xg - mean) ** 2).mean(2, keepdim=True)
        y = ((xg - mean) / torch.sqrt(var + a.get("epsilon", 1e-5))).reshape(x.shape)
        sc, b = ins[1], ins[2]
        if op == "GroupNormalization" and opset < 21:
            sc, b = sc.repeat_interleave(c // g), b.repeat_interleave(c // g)
        view = (1, c) + (1,) * (x.dim() - 2)
        return [y * sc.reshape(view) + b.reshape(view)]
    if op == "MeanVarianceNormalization":
        dims = tuple(a.get("axes", [0, 2, 3]))
        mean = x.mean(dims, keepdim=True)
        std = ((x - mean) ** 2).mean(dims, keepdim=True).sqrt()
        return [(x - mean) / (std + 1e-9)]
    if op == "Gather" and x.is_floating_point():
        idx = ins[1].long()
        axis = a.get("axis", 0) % x.dim()
        idx = torch.where(idx < 0, idx + x.shape[axis], idx)
        out = x.index_select(axis, idx.reshape(-1))
        return [out.reshape(*x.shape[:axis], *idx.shape, *x.shape[axis + 1:])]
    if op == "Expand":
        return [x * torch.ones(tuple(ins[1].tolist()), dtype=x.dtype)]
    if op == "Tile":
        return [x.repeat(*ins[1].tolist())]
    if op in ("DepthToSpace", "SpaceToDepth"):
        bs = a["blocksize"]
        n, c, h, w = x.shape
        if op == "SpaceToDepth":
            return [x.reshape(n, c, h // bs, bs, w // bs, bs).permute(0, 3, 5, 1, 2, 4).reshape(n, c * bs * bs, h // bs, w // bs)]
        if a.get("mode", "DCR") == "CRD":
            return [x.reshape(n, c // bs ** 2, bs, bs, h, w).permute(0, 1, 4, 2, 5, 3).reshape(n, c // bs ** 2, h * bs, w * bs)]
        return [x.reshape(n, bs, bs, c // bs ** 2, h, w).permute(0, 3, 4, 1, 5, 2).reshape(n, c // bs ** 2, h * bs, w * bs)]
    if op == "Elu":
        al = a.get("alpha", 1.0)
        return [torch.where(x > 0, x, al * (torch.exp(x) - 1))]
    if op == "Celu":
        al = a.get("alpha", 1.0)
        return [torch.clamp(x, min=0) + torch.clamp(al * (torch.exp(x / al) - 1), max=0)]
    if op == "Selu":
        al, ga = a.get("alpha", 1.67326319217681884765625), a.get("gamma", 1.05070102214813232421875)
        return [ga * torch.where(x > 0, x, al * torch.exp(x) - al)]
    if op == "ThresholdedRelu":
        return [torch.where(x > a.get("alpha", 1.0), x, torch.zeros_like(x))]
    if op == "Gelu":
        if a.get("approximate", "none") == "tanh":
            return [0.5 * x * (1 + torch.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))]
        return [0.5 * x * (1 + torch.erf(x / math.sqrt(2)))]
    if op == "PRelu":
        slope = ins[1]
        if opset < 7 and slope.dim() == 1 and x.dim() > 2:
            slope = slope.reshape(1, -1, *([1] * (x.dim() - 2)))
        return [torch.where(x > 0, x, x * slope)]
    if op in ("Max", "Min", "Sum", "Mean"):
        acc = ins[0]
        for t in ins[1:]:
            acc = {"Max": torch.maximum, "Min": torch.minimum}.get(op, torch.add)(acc, t)
        return [acc / len(ins) if op == "Mean" else acc]
    if op.startswith("Reduce") and op != "ReduceMean":
        if (op == "ReduceSum" and opset >= 13) or opset >= 18:
            axes = ins[1].tolist() if len(ins) > 1 and ins[1] is not None else None
        else:
            axes = a.get("axes")
        dims = tuple(axes) if axes else tuple(range(x.dim()))
        keep = bool(a.get("keepdims", 1))
        f = {"ReduceSum": lambda v: v.sum(dims, keepdim=keep), "ReduceSumSquare": lambda v: (v * v).sum(dims, keepdim=keep),
             "ReduceL1": lambda v: v.abs().sum(dims, keepdim=keep), "ReduceL2": lambda v: (v * v).sum(dims, keepdim=keep).sqrt(),
             "ReduceLogSum": lambda v: v.sum(dims, keepdim=keep).log(),
             "ReduceLogSumExp": lambda v: torch.logsumexp(v, dims, keepdim=keep),
             "ReduceMax": lambda v: v.amax(dims, keepdim=keep), "ReduceMin": lambda v: v.amin(dims, keepdim=keep),
             "ReduceProd": lambda v: _prod(v, dims, keep)}[op]
        return [f(x)]
    if op in ("Add", "Sub", "Mul", "Div", "Pow", "Equal"):
        if opset < 7 and a.get("broadcast", 0) and ins[1].dim() < x.dim():
            axis = a.get("axis", x.dim() - ins[1].dim())
            ins = [x, ins[1].reshape(*ins[1].shape, *([1] * (x.dim() - axis - ins[1].dim())))]
        y = ins[1]
        if op == "Div" and not x.is_floating_point():
            return [torch.div(x, y, rounding_mode="trunc")]
        return [{"Add": torch.add, "Sub": torch.sub, "Mul": torch.mul, "Div": torch.div, "Pow": torch.pow,
                 "Equal": torch.eq}[op](x, y)]
    if op in ("MaxPool", "AveragePool"):
        return [_pool(x, a, "max" if op == "MaxPool" else "avg")]
    if op == "GlobalAveragePool":
        return [x.mean(dim=tuple(range(2, x.dim())), keepdim=True)]
    if op == "GlobalMaxPool":
        return [x.amax(dim=tuple(range(2, x.dim())), keepdim=True)]
    if op == "ReduceMean":
        axes = a.get("axes", list(range(x.dim())))
        return [x.mean(dim=tuple(axes), keepdim=bool(a.get("keepdims", 1)))]
    if op == "Gemm":
        A = ins[0].t() if a.get("transA", 0) else ins[0]
        B = ins[1].t() if a.get("transB", 0) else ins[1]
        y = a.get("alpha", 1.0) * (A @ B)
        if len(ins) > 2 and ins[2] is not None:
            y = y + a.get("beta", 1.0) * ins[2]
        return [y]
    if op == "MatMul":
        return [torch.matmul(x, ins[1])]
    if op == "Flatten":
        ax = a.get("axis", 1)
        ax = ax + x.dim() if ax < 0 else ax
        return [x.reshape(int(np.prod(x.shape[:ax])), -1)]
    if op == "Reshape":
        shape = [int(v) for v in (ins[1].tolist() if len(ins) > 1 else a["shape"])]
        shape = [x.shape[i] if v == 0 else v for i, v in enumerate(shape)]
        return [x.reshape(shape)]
    if op == "Transpose":
        return [x.permute(*a.get("perm", list(range(x.dim()))[::-1]))]
    if op == "Concat":
        return [torch.cat(ins, dim=a["axis"])]
    if op == "Split":
        ax = a.get("axis", 0)
        if opset >= 13:
            split = ins[1].tolist() if len(ins) > 1 and ins[1] is not None else None
        else:
            split = a.get("split")
        n = len(node.output)
        if split is None:
            split = [x.shape[ax] // n] * n
        return list(torch.split(x, split, dim=ax))
    if op == "Slice":
        if opset < 10:
            starts, ends = a["starts"], a["ends"]
            axes = a.get("axes", list(range(len(starts))))
            steps = [1] * len(starts)
        else:
            starts, ends = ins[1].reshape(-1).tolist(), ins[2].reshape(-1).tolist()
            axes = ins[3].reshape(-1).tolist() if len(ins) > 3 and ins[3] is not None else list(range(len(starts)))
            steps = ins[4].reshape(-1).tolist() if len(ins) > 4 and ins[4] is not None else [1] * len(starts)
        for st, en, ax, sp in zip(starts, ends, axes, steps):
            ax %= x.dim()
            x = torch.index_select(x, ax, torch.tensor(_slice_index(x.shape[ax], st, en, sp), dtype=torch.long))
        return [x]
    if op == "Pad":
        assert a.get("mode", "constant") == "constant"
        if opset < 11:
            pads, val = a["pads"], a.get("value", 0.0)
        else:
            pads = ins[1].tolist()
            val = ins[2].item() if len(ins) > 2 and ins[2] is not None else 0.0
        r = x.dim()
        tp = []
        for i in reversed(range(r)):
            tp += [pads[i], pads[i + r]]
        return [F.pad(x, tp, value=val)]
    if op in ("Softmax", "LogSoftmax"):
        f = torch.softmax if op == "Softmax" else torch.log_softmax
        if opset >= 13:
            return [f(x, dim=a.get("axis", -1))]
        ax = a.get("axis", 1) % x.dim()
        return [f(x.reshape(int(np.prod(x.shape[:ax])), -1), dim=1).reshape(x.shape)]
    if op == "LRN":
        size = a["size"]
        sq = F.pad((x * x).unsqueeze(1), (0, 0, 0, 0, (size - 1) // 2, size // 2)).squeeze(1)
        ssum = sq.unfold(1, size, 1).sum(-1)
        return [x / (a.get("bias", 1.0) + a.get("alpha", 1e-4) / size * ssum) ** a.get("beta", 0.75)]
    if op in ("Dropout", "Identity"):
        return [x, torch.ones_like(x, dtype=torch.bool)][: len(node.output)]
    if op == "Constant":
        if "value" in a:
            return [_to_torch(numpy_helper.to_array(a["value"]))]
        for key in ("value_float", "value_floats", "value_int", "value_ints"):
            if key in a:
                return [_to_torch(np.array(a[key]))]
        raise NotImplementedError(a)
    if op == "ConstantOfShape":
        val = numpy_helper.to_array(a["value"]) if "value" in a else np.zeros(1, np.float32)
        return [_to_torch(np.full([int(v) for v in x.tolist()], val.reshape(-1)[0], dtype=val.dtype))]
    if op == "Shape":
        return [torch.tensor(list(x.shape), dtype=torch.int64)]
    if op == "Gather":
        return [torch.from_numpy(np.asarray(np.take(x.numpy(), ins[1].numpy(), axis=a.get("axis", 0))))]
    if op in ("Unsqueeze", "Squeeze"):
        axes = ins[1].tolist() if opset >= 13 and len(ins) > 1 else a.get("axes")
        if op == "Squeeze":
            if axes is None:
                axes = [i for i, n in enumerate(x.shape) if n == 1]
            axes = sorted(ax % x.dim() for ax in axes)
            for ax in reversed(axes):
                x = x.squeeze(ax)
            return [x]
        r = x.dim() + len(axes)
        for ax in sorted(ax % r for ax in axes):
            x = x.unsqueeze(ax)
        return [x]
    if op == "Cast":
        to = a["to"]
        if to in (TensorProto.FLOAT, TensorProto.DOUBLE, TensorProto.FLOAT16):
            return [x.double()]
        if to in (TensorProto.INT64, TensorProto.INT32):
            return [x.long()]
        if to == TensorProto.BOOL:
            return [x.bool()]
    raise NotImplementedError(f"onnx_eval: {op}")


def onnx_eval(model, feeds, want):
    opset = next(o.version for o in model.opset_import if o.domain in ("", "ai.onnx"))
    env = {t.name: _to_torch(numpy_helper.to_array(t)) for t in model.graph.initializer}
    env.update(feeds)
    for node in model.graph.node:
        ins = [env[n] if n else None for n in node.input]
        outs = _run_node(node, ins, opset)
        for name, val in zip(node.output, outs):
            if name:
                env[name] = val
    return [env[n] for n in want]


# ----------------------------------------------------------------------------------------------
# writing a case


def graph_info(model):
    inits = {t.name for t in model.graph.initializer}
    real = [i for i in model.graph.input if i.name not in inits]
    ops = []
    for n in model.graph.node:
        if n.op_type not in ops:
            ops.append(n.op_type)
    opset = next(o.version for o in model.opset_import if o.domain in ("", "ai.onnx"))
    return real, ops, opset


def check_model(model, inputs):
    real, _, _ = graph_info(model)
    assert [i.name for i in real] == [f"x{i}" for i in range(len(inputs))], [i.name for i in real]
    for vi, x in zip(real, inputs):
        tt = vi.type.tensor_type
        assert tt.elem_type == TensorProto.FLOAT and x.dtype == np.float32
        assert [d.dim_value for d in tt.shape.dim] == list(x.shape), (vi.name, tt.shape, x.shape)
    assert len(model.graph.output) == 1
    onnx.checker.check_model(model, full_check=True)


def inferred_shapes(model):
    inf = onnx.shape_inference.infer_shapes(model)
    shapes = {}
    for vi in list(inf.graph.value_info) + list(inf.graph.output) + list(inf.graph.input):
        dims = vi.type.tensor_type.shape.dim
        shapes[vi.name] = [d.dim_value if d.HasField("dim_value") else None for d in dims]
    return shapes


def max_abs(a):
    return float(np.max(np.abs(a))) if a.size else 0.0


def fd_gradient(ref, xs, gy, i, h):
    x = xs[i]
    flat = x.reshape(-1)
    g = np.zeros(flat.numel())
    args = list(xs)
    with torch.no_grad():
        for j in range(flat.numel()):
            xp = x.clone()
            xm = x.clone()
            xp.view(-1)[j] += h
            xm.view(-1)[j] -= h
            step = float(xp.view(-1)[j] - xm.view(-1)[j])
            args[i] = xp
            yp = ref(*args)
            args[i] = xm
            ym = ref(*args)
            g[j] = float((gy * (yp - ym)).sum()) / step
    return g.reshape(x.shape)


def write_meta(d, meta):
    """One top-level key per line, each value compact."""
    body = ",\n".join(f" {json.dumps(k)}: {json.dumps(v)}" for k, v in meta.items())
    (d / "meta.json").write_text("{\n" + body + "\n}\n")


def write_case(group, name, model, inputs, ref, backward=True, notes="", extra=None, fd_h=FD_H, rng=None,
               skip_check=False, cross_check=True):
    d = FIX / group / name
    if d.exists():
        shutil.rmtree(d)
    d.mkdir(parents=True)
    if not skip_check:
        check_model(model, inputs)
    real, ops, opset = graph_info(model)
    xs = [t64(x) for x in inputs]
    with torch.no_grad():
        y = ref(*xs)
    assert y.dtype == torch.float64
    out_name = model.graph.output[0].name
    shp = inferred_shapes(model).get(out_name)
    assert shp is None or len(shp) == y.dim() and all(v in (None, n) for v, n in zip(shp, y.shape)), \
        (name, shp, list(y.shape))
    (d / "model.onnx").write_bytes(model.SerializeToString())
    for i, x in enumerate(inputs):
        np.save(d / f"x{i}.npy", x)
    y_np = y.numpy()
    np.save(d / "y.npy", y_np)
    # independent interpretation of the ONNX graph (whole architectures use ops it does not read: their
    # reference is the torch module itself)
    cross = None
    if cross_check:
        (ye,) = onnx_eval(model, {f"x{i}": x for i, x in enumerate(xs)}, [out_name])
        cross = float((ye - y).abs().max())
        assert list(ye.shape) == list(y.shape) and cross <= XCHECK_TOL * (1 + max_abs(y_np)), (group, name, cross)
    meta = {"case": name, "group": group, "ops": ops, "opset": opset, "inputs": [f"x{i}" for i in range(len(inputs))],
            "input_shapes": [list(x.shape) for x in inputs], "output": out_name, "output_shape": list(y.shape),
            "backward": bool(backward), "fd_vs_autograd": None, "onnx_eval_vs_ref": cross, "notes": notes}
    if backward:
        gy = randn(rng, *y.shape)
        np.save(d / "gy.npy", gy)
        gy64 = t64(gy)
        req = [x.clone().requires_grad_(True) for x in xs]
        (gy64 * ref(*req)).sum().backward()
        worst = 0.0
        for i in range(len(xs)):
            ga = req[i].grad.numpy() if req[i].grad is not None else np.zeros(inputs[i].shape)
            gf = fd_gradient(ref, xs, gy64, i, fd_h)
            diff = max_abs(ga - gf)
            tol = 1e-6 * max_abs(ga) + 1e-9
            if not diff <= tol:
                raise AssertionError(f"{group}/{name}: FD vs autograd for x{i}: {diff:.3e} > {tol:.3e}")
            worst = max(worst, diff)
            np.save(d / f"gx{i}.npy", gf)
            np.save(d / f"gx{i}_autograd.npy", ga)
        meta["fd_vs_autograd"] = worst
        meta["fd_h"] = fd_h
    if extra:
        meta.update(extra)
    write_meta(d, meta)
    print(f"{group}/{name}: ops={ops} opset={opset} y{list(y.shape)}"
          + (f" fd~ag {meta['fd_vs_autograd']:.1e}" if backward else ""), flush=True)
    return meta


# ----------------------------------------------------------------------------------------------
# case registry

CASES = []


def torch_case(group, name, make_module, make_inputs, opset=13, backward=True, notes="", export_kw=None,
               expect_ops=None, cross_check=True):
    """Register a case exported by torch.onnx.export; reference = the same module in float64."""

    def build(rng, gen):
        module = init_weights(make_module(), gen)
        inputs = make_inputs(rng)
        if isinstance(inputs, np.ndarray):
            inputs = [inputs]
        model, m64 = export_torch(module, inputs, opset, **(export_kw or {}))
        if expect_ops is not None:
            got = graph_info(model)[1]
            assert all(o in got for o in expect_ops), (name, got, expect_ops)
        write_case(group, name, model, inputs, m64, backward, notes, rng=rng, skip_check=opset > CHECKER_MAX_OPSET,
                   cross_check=cross_check)

    CASES.append((group, name, build))


def helper_case(group, name, build_fn, opset=13, backward=True, notes="", **mk):
    """Register a case built with onnx.helper. build_fn(rng) -> (nodes, inputs, inits, ref)."""

    def build(rng, gen):
        nodes, inputs, inits, ref = build_fn(rng)
        with torch.no_grad():
            y = ref(*[t64(x) for x in inputs])
        model = make_model(nodes, inputs, inits, y.shape, opset, name=name, **mk)
        write_case(group, name, model, inputs, ref, backward, notes, rng=rng, skip_check=opset > CHECKER_MAX_OPSET)

    CASES.append((group, name, build))


N = helper.make_node


def register_ops():
    G = "ops"

    # ---------------- Conv ----------------
    conv_variants = [
        # name, (cin, cout, k, stride, pad, dilation, groups, bias), input shape
        ("conv_3x3_pad1", (3, 4, 3, 1, 1, 1, 1, True), (2, 3, 7, 9)),
        ("conv_3x3_stride2_asym_out", (3, 4, 3, 2, 1, 1, 1, True), (2, 3, 8, 11)),
        ("conv_1x1", (4, 6, 1, 1, 0, 1, 1, True), (2, 4, 5, 7)),
        # A downsampling shortcut: odd sizes, so the last row and column are read.
        ("conv_stride2_1x1", (4, 6, 1, 2, 0, 1, 1, True), (2, 4, 7, 9)),
        ("conv_dilation2", (3, 4, 3, 1, 2, 2, 1, True), (2, 3, 9, 10)),
        ("conv_groups2", (4, 6, 3, 1, 1, 1, 2, True), (2, 4, 6, 7)),
        ("conv_depthwise", (4, 4, 3, 1, 1, 1, 4, True), (2, 4, 6, 7)),
        ("conv_depthwise_mult2", (4, 8, 3, 1, 1, 1, 4, True), (2, 4, 6, 7)),
        # Rows longer than the depthwise kernels' runs (8, 16), every stride phase, dilation, 5x5 taps.
        ("conv_depthwise_wide_dil2", (4, 4, 3, 1, 2, 2, 4, True), (1, 4, 7, 37)),
        ("conv_depthwise_stride2_mult2", (4, 8, 3, 2, 1, 1, 4, True), (2, 4, 9, 37)),
        ("conv_depthwise_5x5_stride2_pad2", (6, 6, 5, 2, 2, 1, 6, True), (1, 6, 11, 23)),
        ("conv_depthwise_stride3", (4, 4, 3, 3, 0, 1, 4, True), (1, 4, 8, 20)),
        ("conv_5x5_stride2_pad2", (3, 4, 5, 2, 2, 1, 1, True), (2, 3, 9, 12)),
        ("conv_no_bias", (3, 4, 3, 1, 1, 1, 1, False), (2, 3, 7, 9)),
        ("conv_7x7_stride2_pad3", (3, 4, 7, 2, 3, 1, 1, True), (2, 3, 12, 14)),
    ]
    for nm, (ci, co, k, s, p, dl, gr, b), shp in conv_variants:
        torch_case(G, nm, lambda ci=ci, co=co, k=k, s=s, p=p, dl=dl, gr=gr, b=b:
                   nn.Conv2d(ci, co, k, s, p, dl, gr, b), lambda rng, shp=shp: randn(rng, *shp),
                   notes=f"nn.Conv2d(in={ci}, out={co}, k={k}, stride={s}, pad={p}, dilation={dl}, groups={gr}, bias={b})",
                   expect_ops=["Conv"])

    def conv_asym(rng):
        x = randn(rng, 2, 3, 6, 7)
        w = (rng.standard_normal((4, 3, 3, 3)) * 0.3).astype(np.float32)
        b = (rng.standard_normal(4) * 0.1).astype(np.float32)
        node = N("Conv", ["x0", "W", "B"], ["y"], kernel_shape=[3, 3], pads=[0, 1, 1, 0], strides=[1, 1])
        return [node], [x], {"W": w, "B": b}, lambda x: F.conv2d(F.pad(x, (1, 0, 0, 1)), t64(w), t64(b))

    def conv_f16(rng):
        x = randn(rng, 2, 3, 6, 7)
        w = (rng.standard_normal((4, 3, 3, 3)) * 0.3).astype(np.float16)
        nodes = [N("Cast", ["W"], ["Wf"], to=TensorProto.FLOAT), N("Conv", ["x0", "Wf"], ["y"], kernel_shape=[3, 3], pads=[1, 1, 1, 1])]
        return nodes, [x], {"W": w}, lambda x: F.conv2d(x, torch.from_numpy(w.astype(np.float64)), padding=1)

    helper_case(G, "conv_float16_weights", conv_f16, notes="a float16 weight initializer cast to float (the usual form of half-precision exports)")

    helper_case(G, "conv_asym_pads", conv_asym,
                notes="onnx.helper: pads=[0,1,1,0] = [H_begin=0, W_begin=1, H_end=1, W_end=0]; output 5x6 from 6x7")

    # ---------------- BatchNorm ----------------
    torch_case(G, "batchnorm_standalone", lambda: nn.BatchNorm2d(4), lambda rng: randn(rng, 2, 4, 5, 6),
               notes="eval-mode BatchNorm2d with randomized running stats, not after a conv (cannot be folded)",
               expect_ops=["BatchNormalization"])
    torch_case(G, "conv_bn", lambda: nn.Sequential(nn.Conv2d(3, 5, 3, padding=1, bias=False), nn.BatchNorm2d(5)),
               lambda rng: randn(rng, 2, 3, 6, 7), export_kw={"training": torch.onnx.TrainingMode.PRESERVE},
               notes="Conv(no bias)->BatchNormalization kept as two nodes (exported with TrainingMode.PRESERVE on an "
                     "eval() module; default EVAL export would fold the BN into the conv). The engine may fold it.",
               expect_ops=["Conv", "BatchNormalization"])

    # ---------------- activations ----------------
    def act(name, module, gen_in, notes="", expect=None, opset=13):
        torch_case(G, name, module, gen_in, opset=opset, notes=notes, expect_ops=expect)

    act("relu", nn.ReLU, lambda rng: away(rng, randn(rng, 2, 3, 5, 7), [0.0]),
        "inputs >= 1e-3 away from the kink at 0", ["Relu"])
    act("leakyrelu_0.1", lambda: nn.LeakyReLU(0.1), lambda rng: away(rng, randn(rng, 2, 3, 5, 7), [0.0]),
        "alpha=0.1; inputs >= 1e-3 away from 0", ["LeakyRelu"])
    act("clip_relu6_opset13", nn.ReLU6, lambda rng: away(rng, unif(rng, -2, 8, 2, 3, 5, 7), [0.0, 6.0], lo=-2, hi=8),
        "nn.ReLU6 -> Clip(x, min, max) with min/max from Constant nodes (opset 11+ input form); inputs away from 0 and 6",
        ["Clip"])
    act("clip_min_only_opset11", lambda: Fn(lambda x: torch.clamp(x, min=-0.5)),
        lambda rng: away(rng, randn(rng, 2, 3, 5, 7), [-0.5]), opset=11, expect=["Clip"],
        notes="torch.clamp(x, min=-0.5) at opset 11 -> Clip(x, min, '') (max input is the empty name)")
    act("sigmoid", nn.Sigmoid, lambda rng: randn(rng, 2, 3, 5, 7, scale=2), "", ["Sigmoid"])
    act("hardsigmoid", nn.Hardsigmoid, lambda rng: away(rng, unif(rng, -5, 5, 2, 3, 5, 7), [-3.0, 3.0], lo=-5, hi=5),
        "nn.Hardsigmoid -> HardSigmoid(alpha=1/6 (float32), beta=0.5 default); inputs away from the kinks at +-3",
        ["HardSigmoid"])
    act("hardswish_opset14", nn.Hardswish,
        lambda rng: away(rng, unif(rng, -5, 5, 2, 3, 5, 7), [-3.0, 3.0], lo=-5, hi=5), opset=14, expect=["HardSwish"],
        notes="torch.onnx.export at opset 14 emits a single HardSwish node; inputs away from +-3")
    act("hardswish_opset13", nn.Hardswish,
        lambda rng: away(rng, unif(rng, -5, 5, 2, 3, 5, 7), [-3.0, 3.0], lo=-5, hi=5), opset=13,
        expect=["HardSigmoid", "Mul"],
        notes="torch's opset<=13 decomposition: HardSigmoid(alpha=1/6) then Mul(x, .); inputs away from +-3")
    act("tanh", nn.Tanh, lambda rng: randn(rng, 2, 3, 5, 7, scale=1.5), "", ["Tanh"])
    act("erf", lambda: Fn(torch.erf), lambda rng: randn(rng, 2, 3, 5, 7), "", ["Erf"])
    act("gelu_erf", nn.GELU, lambda rng: randn(rng, 2, 3, 5, 7, scale=1.5),
        "nn.GELU() (exact) at opset 13: Div(sqrt2), Erf, Add(1), Mul(x), Mul(0.5)", ["Erf"])

    # ---------------- binary elementwise with broadcasting ----------------
    ops = {"add": torch.add, "sub": torch.sub, "mul": torch.mul, "div": torch.div}
    for opn, f in ops.items():
        den = opn == "div"

        def rhs(rng, *shape, den=den):
            if den:
                return (unif(rng, 0.5, 2.0, *shape) * np.where(rng.random(shape) < 0.5, -1, 1)).astype(np.float32)
            return randn(rng, *shape)

        torch_case(G, f"{opn}_same_shape", lambda f=f: Fn(lambda a, b: f(a, b)),
                   lambda rng, rhs=rhs: [randn(rng, 2, 3, 4, 5), rhs(rng, 2, 3, 4, 5)],
                   notes="both operands are graph inputs, same shape")
        torch_case(G, f"{opn}_bcast_nc11", lambda f=f: Fn(lambda a, b: f(a, b)),
                   lambda rng, rhs=rhs: [randn(rng, 2, 4, 3, 5), rhs(rng, 2, 4, 1, 1)],
                   notes="[N,C,H,W] op [N,C,1,1] (SE-block gating), both graph inputs: gx1 is reduced over H,W")
        torch_case(G, f"{opn}_bcast_c11_initializer", lambda f=f, rhs=rhs: Fn(lambda a, c: f(a, c),
                                                                           rhs(np.random.default_rng(7), 4, 1, 1)),
                   lambda rng: [randn(rng, 2, 4, 3, 5)], notes="[N,C,H,W] op initializer [C,1,1]")
        torch_case(G, f"{opn}_bcast_nhwc_c", lambda f=f: Fn(lambda a, b: f(a, b)),
                   lambda rng, rhs=rhs: [randn(rng, 2, 3, 5, 4), rhs(rng, 4)],
                   notes="[N,H,W,C] op [C], both graph inputs (channels-last bias / layer scale)")
    torch_case(G, "add_scalar", lambda: Fn(lambda a: a + 0.7), lambda rng: [randn(rng, 2, 3, 4, 5)],
               notes="x + 0.7 (scalar Constant node)")
    torch_case(G, "sub_scalar_lhs", lambda: Fn(lambda a: 1.5 - a), lambda rng: [randn(rng, 2, 3, 4, 5)],
               notes="1.5 - x: Sub(Constant scalar, x), scalar on the LEFT")
    torch_case(G, "mul_scalar", lambda: Fn(lambda a: a * -1.3), lambda rng: [randn(rng, 2, 3, 4, 5)],
               notes="x * -1.3 (scalar Constant node)")
    torch_case(G, "div_scalar", lambda: Fn(lambda a: a / 2.5), lambda rng: [randn(rng, 2, 3, 4, 5)],
               notes="x / 2.5 (scalar Constant node)")
    torch_case(G, "sub_bcast_c11_initializer_lhs",
               lambda: Fn(lambda a, c: c - a, randn(np.random.default_rng(8), 4, 1, 1)),
               lambda rng: [randn(rng, 2, 4, 3, 5)], notes="initializer [C,1,1] - x: broadcast operand on the LEFT")
    torch_case(G, "div_bcast_c11_initializer_lhs",
               lambda: Fn(lambda a, c: c / a, randn(np.random.default_rng(9), 4, 1, 1)),
               lambda rng: [(unif(rng, 0.5, 2.0, 2, 4, 3, 5) * np.where(rng.random((2, 4, 3, 5)) < 0.5, -1, 1))
                            .astype(np.float32)],
               notes="initializer [C,1,1] / x: broadcast numerator; |x| in [0.5, 2]")
    torch_case(G, "pow_square", lambda: Fn(lambda a: a ** 2), lambda rng: [unif(rng, 0.5, 1.5, 2, 3, 4, 5)],
               notes="x ** 2 -> Pow(x, Constant 2.0); positive base", expect_ops=["Pow"])
    torch_case(G, "pow_cube", lambda: Fn(lambda a: a ** 3), lambda rng: [unif(rng, 0.5, 1.5, 2, 3, 4, 5)],
               notes="x ** 3 -> Pow(x, Constant 3.0); positive base", expect_ops=["Pow"])
    torch_case(G, "sqrt", lambda: Fn(torch.sqrt), lambda rng: [unif(rng, 0.5, 2.0, 2, 3, 4, 5)],
               notes="positive inputs in [0.5, 2]", expect_ops=["Sqrt"])

    # ---------------- pooling ----------------
    def pool(name, module, shape, notes, expect, opset=13):
        torch_case(G, name, module, lambda rng: [distinct(rng, shape)], notes=notes, expect_ops=expect, opset=opset)

    pool("maxpool_3x3_s2_p1", lambda: nn.MaxPool2d(3, 2, 1), (2, 3, 9, 11), "all input values distinct", ["MaxPool"])
    pool("maxpool_2x2_s2", lambda: nn.MaxPool2d(2, 2), (2, 3, 8, 11), "odd W: last column dropped", ["MaxPool"])
    pool("maxpool_3x3_s2_ceil", lambda: nn.MaxPool2d(3, 2, ceil_mode=True), (2, 3, 10, 9),
         "ceil_mode=1: H 10 -> 5 (floor would give 4), W 9 -> 4", ["MaxPool"])
    pool("maxpool_3x3_s1_p1", lambda: nn.MaxPool2d(3, 1, 1), (2, 3, 6, 7), "'same' max pool", ["MaxPool"])
    pool("avgpool_3x3_s2_p1_exclude_pad", lambda: nn.AvgPool2d(3, 2, 1, count_include_pad=False), (2, 3, 9, 11),
         "AveragePool pads=1 count_include_pad=0 (divide by number of real elements)", ["AveragePool"])
    pool("avgpool_3x3_s2_p1_include_pad_torch", lambda: nn.AvgPool2d(3, 2, 1, count_include_pad=True), (2, 3, 9, 11),
         "torch exports count_include_pad=True as an explicit zero Pad node followed by AveragePool without pads",
         ["Pad", "AveragePool"])
    pool("avgpool_3x3_s2_ceil", lambda: nn.AvgPool2d(3, 2, ceil_mode=True), (2, 3, 10, 9),
         "ceil_mode=1, no padding: the partial last window divides by its number of real elements (torch and "
         "onnxruntime agree); torch emits a no-op Pad (all zeros) before it", ["AveragePool"])
    pool("avgpool_2x2_s2", lambda: nn.AvgPool2d(2, 2), (2, 3, 8, 11),
         "odd W: last column dropped; torch (count_include_pad=True default) emits a no-op Pad (all zeros) before it",
         ["AveragePool"])
    pool("global_avgpool", lambda: nn.AdaptiveAvgPool2d(1), (2, 3, 5, 7), "nn.AdaptiveAvgPool2d(1)",
         ["GlobalAveragePool"])

    def avg_incl(rng):
        x = distinct(rng, (2, 3, 9, 11))
        node = N("AveragePool", ["x0"], ["y"], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1],
                 count_include_pad=1)
        return [node], [x], {}, lambda x: F.avg_pool2d(x, 3, 2, 1, count_include_pad=True)

    helper_case(G, "avgpool_3x3_s2_p1_include_pad_attr", avg_incl,
                notes="onnx.helper: AveragePool with pads=[1,1,1,1] and count_include_pad=1 (the attribute form "
                      "torch never emits); corner windows divide by 9")

    def gmp(rng):
        x = distinct(rng, (2, 3, 5, 7))
        return [N("GlobalMaxPool", ["x0"], ["y"])], [x], {}, lambda x: x.amax(dim=(2, 3), keepdim=True)

    helper_case(G, "global_maxpool", gmp,
                notes="onnx.helper (torch exports AdaptiveMaxPool2d(1) as MaxPool with kernel = full H,W); "
                      "all values distinct")

    # ---------------- reductions ----------------
    torch_case(G, "reducemean_last_keepdims", lambda: Fn(lambda x: x.mean(-1, keepdim=True)),
               lambda rng: [randn(rng, 2, 3, 4, 6)], notes="ReduceMean axes=[-1] keepdims=1 (as in LayerNorm)",
               expect_ops=["ReduceMean"])
    torch_case(G, "reducemean_hw_nokeepdims", lambda: Fn(lambda x: x.mean((2, 3))),
               lambda rng: [randn(rng, 2, 3, 4, 6)], notes="ReduceMean axes=[2,3] keepdims=0 (GAP as in shufflenet)",
               expect_ops=["ReduceMean"])

    # ---------------- Gemm / MatMul ----------------
    torch_case(G, "gemm_linear", lambda: nn.Linear(10, 5), lambda rng: [randn(rng, 3, 10)],
               notes="nn.Linear on a 2D input -> Gemm(transB=1) with bias", expect_ops=["Gemm"])

    def gemm_h(rng):
        a = randn(rng, 6, 3)  # [K, M] -> transA
        b = (rng.standard_normal((6, 4)) * 0.5).astype(np.float32)
        c = randn(rng, 4)
        node = N("Gemm", ["x0", "B", "C"], ["y"], transA=1, alpha=0.5, beta=2.0)
        return [node], [a], {"B": b, "C": c}, lambda a: 0.5 * (a.t() @ t64(b)) + 2.0 * t64(c)

    helper_case(G, "gemm_transA_alpha_beta", gemm_h,
                notes="onnx.helper: Gemm transA=1, alpha=0.5, beta=2, C of shape [N] broadcast over rows; "
                      "A=x0 is [K=6, M=3]")
    torch_case(G, "matmul_2d", lambda: Fn(lambda a, b: a @ b), lambda rng: [randn(rng, 3, 5), randn(rng, 5, 4)],
               notes="both operands are graph inputs", expect_ops=["MatMul"])
    torch_case(G, "matmul_nhwc_linear", lambda: nn.Linear(4, 6), lambda rng: [randn(rng, 2, 3, 5, 4)],
               notes="nn.Linear on [N,H,W,C] -> MatMul([N,H,W,C], W^T [C,D]) + Add(bias) (convnext pointwise)",
               expect_ops=["MatMul", "Add"])

    # ---------------- shape ops ----------------
    torch_case(G, "flatten_axis1", lambda: Fn(lambda x: torch.flatten(x, 1)), lambda rng: [randn(rng, 2, 3, 4, 5)],
               expect_ops=["Flatten"], notes="torch.flatten(x, 1)")
    torch_case(G, "reshape_minus1", lambda: Fn(lambda x: x.reshape(2, -1, 5)), lambda rng: [randn(rng, 2, 3, 4, 5)],
               expect_ops=["Reshape"], notes="shape [2,-1,5] from a Constant node")

    def reshape0(rng):
        x = randn(rng, 2, 3, 4, 6)
        node = N("Reshape", ["x0", "shape"], ["y"])
        return [node], [x], {"shape": np.array([0, -1, 6], np.int64)}, lambda x: x.reshape(2, -1, 6)

    helper_case(G, "reshape_zero_minus1", reshape0,
                notes="onnx.helper: shape initializer [0,-1,6]; 0 copies the input dim (2)")
    torch_case(G, "transpose_0231", lambda: Fn(lambda x: x.permute(0, 2, 3, 1)), lambda rng: [randn(rng, 2, 3, 4, 5)],
               expect_ops=["Transpose"], notes="perm [0,2,3,1] (NCHW -> NHWC)")
    torch_case(G, "concat_axis1_3inputs", lambda: Fn(lambda a, b, c: torch.cat([a, b, c], 1)),
               lambda rng: [randn(rng, 2, 2, 4, 5), randn(rng, 2, 3, 4, 5), randn(rng, 2, 1, 4, 5)],
               expect_ops=["Concat"], notes="3 graph inputs with 2, 3 and 1 channels")
    torch_case(G, "split_unequal_opset11", lambda: Fn(lambda x: (lambda a, b, c: torch.cat([c, a, b], 1))(
        *torch.split(x, [2, 1, 3], 1))), lambda rng: [randn(rng, 2, 6, 3, 4)], opset=11,
        expect_ops=["Split", "Concat"],
        notes="torch.split(x,[2,1,3],1) at opset 11 -> Split with split=[2,1,3] ATTRIBUTE; parts re-concatenated "
              "in order [c,a,b]")
    torch_case(G, "split_unequal_opset13", lambda: Fn(lambda x: (lambda a, b, c: torch.cat([c, a, b], 1))(
        *torch.split(x, [2, 1, 3], 1))), lambda rng: [randn(rng, 2, 6, 3, 4)], opset=13,
        expect_ops=["Split", "Concat"],
        notes="torch.split(x,[2,1,3],1) at opset 13 -> Split with split as 2nd INPUT (Constant node); parts "
              "re-concatenated in order [c,a,b]")

    def split_eq(opset):
        def b(rng):
            x = randn(rng, 2, 3, 4, 6)
            return ([N("Split", ["x0"], ["a", "b"], axis=3), N("Sub", ["b", "a"], ["y"])], [x], {},
                    lambda x: x[..., 3:] - x[..., :3])
        return b

    helper_case(G, "split_equal_opset11_noattr", split_eq(11), opset=11,
                notes="onnx.helper: Split axis=3 with no 'split' attribute (2 equal parts), then Sub(b, a)")
    helper_case(G, "split_equal_opset13_noinput", split_eq(13), opset=13,
                notes="onnx.helper: Split axis=3 with no 'split' input (2 equal parts), then Sub(b, a)")
    torch_case(G, "chunk_torch_opset13", lambda: Fn(lambda x: (lambda a, b: b - a)(*torch.chunk(x, 2, 1))),
               lambda rng: [randn(rng, 2, 6, 3, 4)], opset=13, expect_ops=["Shape", "Gather", "Slice"],
               notes="torch.chunk(x,2,1) at opset 11/13 is NOT a Split: torch 1.13 emits Shape->Gather->Add->Div->"
                     "Mul int64 arithmetic feeding two Slice nodes (at opset 9 it is a Split)")
    torch_case(G, "slice_steps_negative_indices", lambda: Fn(lambda x: x[:, 1:, -4:-1, ::2]),
               lambda rng: [randn(rng, 2, 5, 6, 7)], opset=13, expect_ops=["Slice"],
               notes="x[:, 1:, -4:-1, ::2]: three Slice nodes with starts/ends/axes/steps inputs; end=INT64_MAX, "
                     "negative starts/ends, step 2")

    def slice_neg(rng):
        x = randn(rng, 2, 3, 5, 7)
        nodes = [N("Slice", ["x0", "st", "en", "ax", "sp"], ["y"])]
        inits = {"st": np.array([-1, 3], np.int64), "en": np.array([-1000, 0], np.int64),
                 "ax": np.array([3, 2], np.int64), "sp": np.array([-2, -1], np.int64)}
        return nodes, [x], inits, lambda x: x.flip(3)[..., ::2].flip(2)[:, :, 1:4]

    helper_case(G, "slice_negative_steps", slice_neg,
                notes="onnx.helper: Slice axes=[3,2] starts=[-1,3] ends=[-1000,0] steps=[-2,-1]: W reversed taking "
                      "every 2nd (6,4,2,0), H rows 3,2,1 (end clamped / exclusive)")
    torch_case(G, "pad_torch_opset13", lambda: Fn(lambda x: F.pad(x, (1, 2, 0, 1))),
               lambda rng: [randn(rng, 2, 3, 4, 5)], opset=13, expect_ops=["Pad"],
               notes="F.pad(x,(1,2,0,1)) at opset 13: torch 1.13 builds the pads input with a ConstantOfShape/"
                     "Concat/Reshape/Slice/Transpose/Reshape/Cast int64 chain (not constant-folded)")

    def pad_h(rng):
        x = randn(rng, 2, 3, 4, 5)
        nodes = [N("Pad", ["x0", "pads", "val"], ["y"], mode="constant")]
        inits = {"pads": np.array([0, 0, 1, 2, 0, 0, 2, 1], np.int64), "val": np.array(0.25, np.float32)}
        return nodes, [x], inits, lambda x: F.pad(x, (2, 1, 1, 2), value=0.25)

    helper_case(G, "pad_constant_hw", pad_h,
                notes="onnx.helper: Pad pads=[0,0,1,2, 0,0,2,1] (H +1/+2, W +2/+1) from an int64 initializer, "
                      "constant_value 0.25 (nonzero on purpose)")
    torch_case(G, "softmax_axis1_4d", lambda: nn.Softmax(1), lambda rng: [randn(rng, 2, 4, 3, 5)],
               expect_ops=["Softmax"], notes="opset 13 Softmax axis=1 on a 4D tensor (per-axis semantics)")
    torch_case(G, "softmax_axis1_2d", lambda: nn.Softmax(1), lambda rng: [randn(rng, 3, 7, scale=2)],
               expect_ops=["Softmax"], notes="classifier-style softmax over [N, classes]")
    torch_case(G, "logsoftmax_axis1", lambda: nn.LogSoftmax(1), lambda rng: [randn(rng, 3, 7, scale=2)],
               expect_ops=["LogSoftmax"], notes="")
    torch_case(G, "lrn_size5_alexnet", lambda: LRN(5, 1e-4, 0.75, 2.0), lambda rng: [randn(rng, 2, 8, 3, 4, scale=3)],
               expect_ops=["LRN"], notes="LRN size=5 alpha=1e-4 beta=0.75 bias=2 (AlexNet); custom symbolic "
                                         "(torch's own export is a Pad/AveragePool/If decomposition)")
    torch_case(G, "lrn_size5_strong", lambda: LRN(5, 0.8, 0.75, 1.0), lambda rng: [randn(rng, 2, 8, 3, 4)],
               expect_ops=["LRN"], notes="LRN size=5 alpha=0.8 beta=0.75 bias=1: the window sum matters")

    def dropout(rng):
        x = randn(rng, 2, 3, 4, 5)
        nodes = [N("Dropout", ["x0", "ratio", "training_mode"], ["y", "mask"])]
        inits = {"ratio": np.array(0.5, np.float32), "training_mode": np.array(False)}
        return nodes, [x], inits, lambda x: x * 1.0

    helper_case(G, "dropout_eval", dropout,
                notes="onnx.helper: opset 13 Dropout(x, ratio=0.5, training_mode=false) with an unused 'mask' "
                      "output -> identity")

    def identity(rng):
        x = randn(rng, 2, 3, 4, 5)
        return [N("Identity", ["x0"], ["y"])], [x], {}, lambda x: x * 1.0

    helper_case(G, "identity", identity, notes="onnx.helper: Identity (torch never emits one)")

    torch_case(G, "layernorm_opset13", lambda: nn.LayerNorm(8), lambda rng: [randn(rng, 2, 3, 4, 8)],
               expect_ops=["ReduceMean", "Sub", "Pow", "Sqrt", "Div", "Mul", "Add"],
               notes="nn.LayerNorm(8) on the last dim at opset 13 -> ReduceMean(-1), Sub, Pow 2, ReduceMean, "
                     "Add eps, Sqrt, Div, Mul weight, Add bias")


# ----------------------------------------------------------------------------------------------
# nets


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.relu1 = nn.ReLU()
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.down = None
        if stride != 1 or cin != cout:
            self.down = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))
        self.relu2 = nn.ReLU()

    def forward(self, x):
        out = self.bn2(self.conv2(self.relu1(self.bn1(self.conv1(x)))))
        return self.relu2(out + (self.down(x) if self.down is not None else x))


class ResNetLike(nn.Module):
    cam = "layer2"

    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 8, 7, 2, 3, bias=False), nn.BatchNorm2d(8), nn.ReLU(),
                                  nn.MaxPool2d(3, 2, 1))
        self.layer1 = BasicBlock(8, 8, 1)
        self.layer2 = BasicBlock(8, 16, 2)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(16, 10)

    def forward(self, x):
        x = self.layer2(self.layer1(self.stem(x)))
        return self.fc(torch.flatten(self.avgpool(x), 1))


class SE(nn.Module):
    def __init__(self, c, r, gate):
        super().__init__()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Conv2d(c, r, 1)
        self.relu = nn.ReLU()
        self.fc2 = nn.Conv2d(r, c, 1)
        self.gate = gate

    def forward(self, x):
        return x * self.gate(self.fc2(self.relu(self.fc1(self.pool(x)))))


def cbn(cin, cout, k, s, groups=1, act=None):
    layers = [nn.Conv2d(cin, cout, k, s, k // 2, groups=groups, bias=False), nn.BatchNorm2d(cout)]
    return nn.Sequential(*layers, act) if act is not None else nn.Sequential(*layers)


class MBBlock(nn.Module):
    def __init__(self, layers, residual):
        super().__init__()
        self.body = nn.Sequential(*layers)
        self.residual = residual

    def forward(self, x):
        y = self.body(x)
        return x + y if self.residual else y


class MobileNetV3Like(nn.Module):
    cam = "last_act"

    def __init__(self):
        super().__init__()
        self.stem = cbn(3, 8, 3, 2, act=nn.Hardswish())
        # depthwise with channel multiplier 2 + ReLU6, projection, residual
        self.block1 = MBBlock([cbn(8, 16, 3, 1, groups=8, act=nn.ReLU6()), cbn(16, 8, 1, 1)], True)
        self.block2 = MBBlock([cbn(8, 24, 1, 1, act=nn.Hardswish()), cbn(24, 24, 3, 2, groups=24, act=nn.Hardswish()),
                               SE(24, 8, nn.Hardsigmoid()), cbn(24, 16, 1, 1)], False)
        # EfficientNet-style: SiLU (Sigmoid*x), 5x5 depthwise, sigmoid-gated SE, residual
        self.block3 = MBBlock([cbn(16, 32, 1, 1, act=nn.SiLU()), cbn(32, 32, 5, 1, groups=32, act=nn.SiLU()),
                               SE(32, 8, nn.Sigmoid()), cbn(32, 16, 1, 1)], True)
        self.block4 = MBBlock([cbn(16, 32, 1, 1, act=nn.Hardswish()), cbn(32, 32, 3, 2, groups=32, act=nn.ReLU()),
                               SE(32, 8, nn.Hardsigmoid()), cbn(32, 24, 1, 1)], False)
        self.last = cbn(24, 32, 1, 1)
        self.last_act = nn.Hardswish()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.head = nn.Sequential(nn.Linear(32, 32), nn.Hardswish(), nn.Dropout(0.2), nn.Linear(32, 10))

    def forward(self, x):
        x = self.block4(self.block3(self.block2(self.block1(self.stem(x)))))
        x = self.last_act(self.last(x))
        return self.head(torch.flatten(self.pool(x), 1))


class LayerNorm2d(nn.LayerNorm):
    def forward(self, x):
        return super().forward(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)


class CNBlock(nn.Module):
    def __init__(self, dim, gen):
        super().__init__()
        self.dw = nn.Conv2d(dim, dim, 7, padding=3, groups=dim)
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.pw1 = nn.Linear(dim, 4 * dim)
        self.act = nn.GELU()
        self.pw2 = nn.Linear(4 * dim, dim)
        self.gamma = nn.Parameter(torch.rand(dim, generator=gen) * 0.5 + 0.5)

    def forward(self, x):
        y = self.dw(x).permute(0, 2, 3, 1)
        y = self.pw2(self.act(self.pw1(self.norm(y))))
        return x + (self.gamma * y).permute(0, 3, 1, 2)


class ConvNeXtLike(nn.Module):
    cam = "stage2"

    def __init__(self, gen):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 12, 4, 4), LayerNorm2d(12, eps=1e-6))
        self.stage1 = CNBlock(12, gen)
        self.down = nn.Sequential(LayerNorm2d(12, eps=1e-6), nn.Conv2d(12, 24, 2, 2))
        self.stage2 = CNBlock(24, gen)
        self.norm = nn.LayerNorm(24, eps=1e-6)
        self.fc = nn.Linear(24, 10)

    def forward(self, x):
        x = self.stage2(self.down(self.stage1(self.stem(x))))
        return self.fc(self.norm(x.mean([-2, -1])))


class DenseLayer(nn.Module):
    def __init__(self, cin, growth):
        super().__init__()
        self.body = nn.Sequential(nn.BatchNorm2d(cin), nn.ReLU(), nn.Conv2d(cin, 16, 1, bias=False),
                                  nn.BatchNorm2d(16), nn.ReLU(), nn.Conv2d(16, growth, 3, padding=1, bias=False))

    def forward(self, x):
        return torch.cat([x, self.body(x)], 1)


class Inception(nn.Module):
    def __init__(self, cin):
        super().__init__()
        self.b1 = nn.Sequential(nn.Conv2d(cin, 8, 1), nn.ReLU())
        self.b2a = nn.Sequential(nn.Conv2d(cin, 8, 1), nn.ReLU())
        self.b2b = nn.Sequential(nn.Conv2d(8, 8, 3), nn.LeakyReLU(0.1))
        self.b3 = nn.Sequential(nn.Conv2d(cin, 4, 1), nn.ReLU(), nn.Conv2d(4, 8, 5, padding=2), nn.ReLU())
        self.b4 = nn.Sequential(nn.MaxPool2d(3, 1, 1), nn.Conv2d(cin, 8, 1), nn.ReLU())
        self.b5 = nn.Sequential(nn.AvgPool2d(3, 1, 1, count_include_pad=False), nn.Conv2d(cin, 4, 1))

    def forward(self, x):
        b2 = self.b2b(F.pad(self.b2a(x), (1, 1, 1, 1)))
        return torch.cat([self.b1(x), b2, self.b3(x), self.b4(x), self.b5(x)], 1)


class DenseInceptionLike(nn.Module):
    cam = "inception"

    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 12, 3, 2, 1, bias=False), nn.BatchNorm2d(12), nn.ReLU(),
                                  nn.MaxPool2d(3, 2, ceil_mode=True))
        self.dense = nn.Sequential(DenseLayer(12, 8), DenseLayer(20, 8))
        self.trans = nn.Sequential(nn.BatchNorm2d(28), nn.ReLU(), nn.Conv2d(28, 16, 1, bias=False), nn.AvgPool2d(2, 2))
        self.inception = Inception(16)
        self.fc = nn.Linear(72, 10)

    def forward(self, x):
        x = self.inception(self.trans(self.dense(self.stem(x))))
        x = torch.cat([F.adaptive_avg_pool2d(x, 1), F.adaptive_max_pool2d(x, 1)], 1)
        return self.fc(torch.flatten(x, 1))


def channel_shuffle(x, groups):
    b, c, h, w = x.size()
    x = x.view(b, groups, c // groups, h, w).transpose(1, 2).contiguous()
    return x.view(b, -1, h, w)


class ShuffleUnit(nn.Module):
    def __init__(self, cin, cout, stride, split="chunk"):
        super().__init__()
        bf = cout // 2
        self.stride, self.split = stride, split
        if stride > 1:
            self.branch1 = nn.Sequential(cbn(cin, cin, 3, stride, groups=cin), cbn(cin, bf, 1, 1, act=nn.ReLU()))
        c2 = cin if stride > 1 else bf
        self.branch2 = nn.Sequential(cbn(c2, bf, 1, 1, act=nn.ReLU()), cbn(bf, bf, 3, stride, groups=bf),
                                     cbn(bf, bf, 1, 1, act=nn.ReLU()))

    def forward(self, x):
        if self.stride == 1:
            if self.split == "chunk":
                x1, x2 = x.chunk(2, dim=1)
            else:
                h = x.shape[1] // 2
                x1, x2 = x[:, :h], x[:, h:]
            out = torch.cat([x1, self.branch2(x2)], 1)
        else:
            out = torch.cat([self.branch1(x), self.branch2(x)], 1)
        return channel_shuffle(out, 2)


class ShuffleNetLike(nn.Module):
    cam = "conv5_act"

    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(cbn(3, 12, 3, 2, act=nn.ReLU()), nn.MaxPool2d(3, 2, 1))
        self.stage2 = nn.Sequential(ShuffleUnit(12, 24, 2), ShuffleUnit(24, 24, 1, "chunk"),
                                    ShuffleUnit(24, 24, 1, "slice"))
        self.conv5 = cbn(24, 32, 1, 1)
        self.conv5_act = nn.ReLU()
        self.fc = nn.Linear(32, 10)
        self.logits_only = False

    def forward(self, x):
        x = self.conv5_act(self.conv5(self.stage2(self.stem(x))))
        logits = self.fc(x.mean([2, 3]))
        return logits if self.logits_only else F.log_softmax(logits, 1)


class AlexNetLike(nn.Module):
    cam = "conv3_act"

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Sequential(nn.Conv2d(3, 8, 11, 4, 2), nn.ReLU(), LRN(5, 1e-4, 0.75, 2.0), nn.MaxPool2d(3, 2))
        self.conv2 = nn.Sequential(nn.Conv2d(8, 12, 5, padding=2), nn.ReLU(), LRN(5, 1e-4, 0.75, 2.0))
        self.conv3 = nn.Conv2d(12, 16, 3, padding=1)
        self.conv3_act = nn.ReLU()
        self.pool = nn.MaxPool2d(3, 2)
        self.classifier = nn.Sequential(nn.Dropout(), nn.Linear(16 * 1 * 1, 32), nn.Tanh(), nn.Dropout(),
                                        nn.Linear(32, 10))
        self.logits_only = False

    def forward(self, x):
        x = self.pool(self.conv3_act(self.conv3(self.conv2(self.conv1(x)))))
        logits = self.classifier(torch.flatten(x, 1))
        return logits if self.logits_only else F.softmax(logits, 1)


NETS = {
    "resnet_like": (lambda gen: ResNetLike(), {"training": torch.onnx.TrainingMode.PRESERVE},
                    "ResNet-like: 7x7/2 stem (no-bias conv + BN + ReLU) + maxpool 3x3/2 p1, two BasicBlocks (the "
                    "second with stride 2 and a 1x1 conv+BN downsample), GAP (GlobalAveragePool), Flatten, Linear "
                    "(Gemm). Exported with TrainingMode.PRESERVE so the BatchNormalization nodes stay in the graph "
                    "(like ONNX-zoo ResNets); the engine must handle or fold them."),
    "mobilenetv3_like": (lambda gen: MobileNetV3Like(), {},
                         "MobileNetV3/EfficientNet-like: depthwise convs (multiplier 1 and 2, 3x3 and 5x5, stride 2), "
                         "Hardswish (HardSigmoid+Mul), ReLU6 (Clip), SiLU (Sigmoid+Mul), SE blocks (GAP, 1x1 convs, "
                         "HardSigmoid/Sigmoid gate, Mul [N,C,H,W]x[N,C,1,1]), residual Add, Linear head with "
                         "Hardswish; BN folded into convs by the exporter; Dropout removed (eval)."),
    "convnext_like": (lambda gen: ConvNeXtLike(gen), {},
                      "ConvNeXt-like: 4x4/4 patchify stem, LayerNorm over channels via Transpose (permute) + "
                      "ReduceMean/Sub/Pow/Sqrt/Div decomposition, depthwise 7x7, MatMul+Add on channels-last "
                      "(Linear), GELU (Erf form), layer-scale Mul [N,H,W,C]x[C], residual Add, 2x2/2 downsample, "
                      "ReduceMean over H,W (keepdims 0), LayerNorm + Gemm head."),
    "denseinception_like": (lambda gen: DenseInceptionLike(), {},
                            "DenseNet/Inception-like: stem conv+BN(folded)+ReLU, MaxPool 3x3/2 ceil_mode, dense layers "
                            "(standalone BN->ReLU->1x1 conv, BN folded, 3x3 conv, Concat), transition with AvgPool "
                            "2x2/2, inception module (1x1, explicit Pad + 3x3 valid conv + LeakyRelu, 5x5, "
                            "MaxPool 3x3/1 p1 branch, AvgPool 3x3/1 p1 count_include_pad=0 branch, Concat of 5 "
                            "branches), head concatenating GlobalAveragePool and a full-size MaxPool, Flatten, Gemm."),
    "shufflenet_like": (lambda gen: ShuffleNetLike(), {},
                        "ShuffleNetV2-like: stem conv+ReLU + maxpool, a stride-2 unit (two branches), a stride-1 "
                        "unit splitting channels with chunk (opset 9: Split; opset 11/13: Shape/Gather/Slice "
                        "arithmetic) and one splitting with slicing (Slice), channel shuffle (Reshape 5D, Transpose "
                        "[0,2,1,3,4], Reshape), 1x1 conv, ReduceMean over [2,3] keepdims 0, Gemm, LogSoftmax output "
                        "(Grad-CAM uses the logits before it)."),
    "alexnet_like": (lambda gen: AlexNetLike(), {},
                     "AlexNet-like: 11x11/4 conv, ReLU, LRN(size 5, AlexNet constants), MaxPool 3x3/2, 5x5 conv, "
                     "LRN, 3x3 conv, MaxPool, Flatten, Gemm, Tanh, Gemm, Softmax output (Grad-CAM uses the logits "
                     "before it). Dropout removed (eval)."),
}


def find_scope_output(model, attr):
    prefix = f"/{attr}/"
    nodes = [n for n in model.graph.node if n.name.startswith(prefix)]
    assert nodes, (attr, [n.name for n in model.graph.node][:20])
    return nodes[-1].output[0], nodes[-1].op_type


def logits_of(model, x, hooks=()):
    """The logits (pre-softmax) of x, with forward hooks [(module, fn)] in place for this call only."""
    handles = [module.register_forward_hook(fn) for module, fn in hooks]
    if hasattr(model, "logits_only"):
        model.logits_only = True
    try:
        return model(x)
    finally:
        for handle in handles:
            handle.remove()
        if hasattr(model, "logits_only"):
            model.logits_only = False


def gradcam(model, cam_attr, x, classes, target=None):
    """Logits (pre-softmax), activation A at module `cam_attr`, dA of sum_i logits[i, classes[i]] (or of
    target(logits, classes).sum()), and the raw Grad-CAM map (bilinear resize to the input size,
    align_corners=False). classes=None: forward only."""
    acts = {}
    logits = logits_of(model, x, [(getattr(model, cam_attr), lambda mod, inp, out: acts.__setitem__("a", out))])
    a = acts["a"]
    if classes is None:
        return logits.detach(), a.detach(), None, None
    a.retain_grad()
    score = target(logits, classes) if target else logits[torch.arange(len(classes)), torch.tensor(classes)]
    score.sum().backward()
    grad = a.grad
    w = grad.mean(dim=(2, 3), keepdim=True)
    cam = torch.relu((w * a).sum(1, keepdim=True))
    raw = F.interpolate(cam, size=tuple(x.shape[2:]), mode="bilinear", align_corners=False)[:, 0]
    return logits.detach(), a.detach(), grad.detach(), raw.detach()


def logits_with(model, cam_attr, x, replace=None):
    """The logits (pre-softmax) of x; replace(out) -> tensor substitutes the output of module cam_attr."""
    with torch.no_grad():
        return logits_of(model, x, [(getattr(model, cam_attr), lambda mod, inp, out: replace(out) if replace is not None else None)])


def resize_map(coarse, x):
    """ReLU'd coarse maps [N, h, w] -> the input's size, bilinear with half-pixel centres."""
    return F.interpolate(coarse[:, None], size=tuple(x.shape[2:]), mode="bilinear", align_corners=False)[:, 0]


def eigen_projection(v):
    """pytorch-grad-cam's 2-D projection: per image the positions x channels matrix, each channel centred,
    projected on its first right singular vector; the sign flipped where |min| > |max| (an SVD's sign is
    arbitrary), then ReLU. Also lambda_2 / lambda_1 of its Gram matrix per image (how well separated the
    component is)."""
    maps, ratios = [], []
    for a in v:
        X = a.reshape(a.shape[0], -1).T
        X = X - X.mean(0, keepdim=True)
        _, S, VT = torch.linalg.svd(X, full_matrices=False)
        p = X @ VT[0]
        if -p.min() > p.max():
            p = -p
        maps.append(torch.relu(p).reshape(a.shape[1:]))
        ratios.append(float((S[1] / S[0]) ** 2))
    return torch.stack(maps), ratios


def channel_weighted(A, w, x):
    return resize_map(torch.relu((w[:, :, None, None] * A).sum(1)), x)


def scorecam_weights(model, cam_attr, x, A, classes):
    """Score-CAM as pytorch-grad-cam computes it: each channel upsampled to the input (bilinear, aligned
    corners), min-max normalised with 1e-8 in the denominator, multiplied into the input; the weights are
    the softmax over channels of the class score of each masked input."""
    up = F.interpolate(A, size=tuple(x.shape[2:]), mode="bilinear", align_corners=True)
    flat = up.flatten(2)
    lo, hi = flat.min(-1)[0][..., None, None], flat.max(-1)[0][..., None, None]
    masks = (up - lo) / (hi - lo + 1e-8)
    rows = []
    for n, c in enumerate(classes):
        logits = logits_with(model, cam_attr, x[n:n + 1] * masks[n][:, None])
        rows.append(torch.softmax(logits[:, c], 0))
    return torch.stack(rows)


def ablationcam_weights(model, cam_attr, x, A, classes):
    """Ablation-CAM (Desai & Ramaswamy): (y - y_k) / y, y_k the class score with channel k of the layer
    set to zero."""
    K = A.shape[1]
    rows = []
    for n, c in enumerate(classes):
        y = logits_with(model, cam_attr, x[n:n + 1])[0, c]

        def ablate(out):
            out = out.clone()  # copy k of the image, channel k zeroed
            out[torch.arange(K), torch.arange(K)] = 0
            return out

        yk = logits_with(model, cam_attr, x[n:n + 1].repeat(K, 1, 1, 1), ablate)[:, c]
        rows.append((y - yk) / y)
    return torch.stack(rows)


def guided_backprop(model, x, classes):
    """d(sum_i logits[i, c_i]) / dx with every ReLU passing gradient only where its input and the incoming
    gradient are both positive (Springenberg et al.); every other op keeps its ordinary gradient."""

    class GuidedRelu(torch.autograd.Function):
        @staticmethod
        def forward(ctx, t):
            ctx.save_for_backward(t)
            return t.clamp(min=0)

        @staticmethod
        def backward(ctx, g):
            (t,) = ctx.saved_tensors
            return g * ((t > 0) & (g > 0)).to(g.dtype)

    relu = F.relu
    F.relu = lambda t, inplace=False: GuidedRelu.apply(t)
    if hasattr(model, "logits_only"):
        model.logits_only = True
    try:
        x = x.detach().clone().requires_grad_(True)
        logits = model(x)
        (g,) = torch.autograd.grad(sum(logits[i, c] for i, c in enumerate(classes)), x)
    finally:
        F.relu = relu
        if hasattr(model, "logits_only"):
            model.logits_only = False
    return g.detach()


def fem_threshold(A, k=2.0):
    """FEM's threshold per channel, mean + k population standard deviations over the positions, and where
    A's channel is not constant (a constant channel equals its threshold exactly in any precision: no
    position counts)."""
    axes = tuple(range(2, A.dim()))
    std = A.std(axes, unbiased=False, keepdim=True)
    return A.mean(axes, keepdim=True) + k * std, (std > 0).expand_as(A)


def fem_weights(A, k=2.0):
    """FEM (pytorch-grad-cam's fem.py): per channel, the share of positions above fem_threshold. Also how
    close any activation of a varying channel comes to its threshold, relative to the layer's largest |A|
    (a decision: a value within float32 rounding of it may count the other way)."""
    axes = tuple(range(2, A.dim()))
    threshold, varying = fem_threshold(A, k)
    margin = float((A - threshold).abs()[varying].min() / A.abs().max())
    return (A > threshold).double().mean(axes), margin


def finer_scores(logits, classes, compare=3, alpha=1.0):
    """FinerCAM's target (pytorch-grad-cam's FinerWeightedTarget with comparison_categories [1, 2, 3]):
    per image, the class c against its `compare` classes of smallest |z_j - z_c|, weighted by their
    softmax probabilities: sum_j p_j (z_c - alpha z_j) / (sum_j p_j + 1e-9). Also the choice's margin:
    the gap between the last chosen distance and the next, relative to the largest |z| (a near-tie may
    choose another class in float32)."""
    p = logits.softmax(-1)
    scores, margins = [], []
    for i, c in enumerate(classes):
        z = logits[i]
        distance = (z - z[c]).abs().detach()
        order = sorted((j for j in range(len(z)) if j != c), key=lambda j: (float(distance[j]), j))
        chosen = order[:compare]
        numerator = sum(p[i, j] * (z[c] - alpha * z[j]) for j in chosen)
        scores.append(numerator / (sum(p[i, j] for j in chosen) + 1e-9))
        margins.append(float((distance[order[compare]] - distance[order[compare - 1]]) / z.abs().max()))
    return torch.stack(scores), min(margins)


def kpca_projection(v, coef0=1.0):
    """KPCA-CAM (pytorch-grad-cam's get_2d_projection_kernel: scikit-learn's KernelPCA with one component,
    the sigmoid kernel tanh(gamma <x, y> + coef0), gamma = 1 / channels): per image the positions x
    channels matrix, each channel centred; the kernel matrix over positions, centred in feature space;
    its top eigenvector u scaled by sqrt(lambda_1), with the sign that makes its largest |entry| positive
    (scikit-learn's svd_flip); then ReLU. Also lambda_2 / lambda_1 per image."""
    maps, ratios = [], []
    for a in v:
        X = a.reshape(a.shape[0], -1).T
        X = X - X.mean(0, keepdim=True)
        K = torch.tanh(X @ X.T / X.shape[1] + coef0)
        K = K - K.mean(0, keepdim=True) - K.mean(1, keepdim=True) + K.mean()
        values, vectors = torch.linalg.eigh(K)
        u = vectors[:, -1]
        if u[u.abs().argmax()] < 0:
            u = -u
        p = u * values[-1].clamp(min=0).sqrt()
        maps.append(torch.relu(p).reshape(a.shape[1:]))
        ratios.append(float(values[-2].abs() / values[-1]))
    return torch.stack(maps), ratios


def fullgrad(model, x, classes):
    """FullGrad (pytorch-grad-cam's fullgrad_cam.py): |x * dy/dx| and, for every Conv2d with a bias and
    every BatchNorm2d, |b_k * dy/dz_k| (z the layer's output; BatchNorm's bias b - mean * gamma /
    sqrt(var + eps)), each channel min-max scaled as (v - min) / (1e-7 + max - min) at its own resolution,
    resized to the input (bilinear, half-pixel centres), and everything summed."""
    layers = [m for m in model.modules() if (isinstance(m, nn.Conv2d) and m.bias is not None) or isinstance(m, nn.BatchNorm2d)]
    outs = []
    x = x.detach().clone().requires_grad_(True)
    logits = logits_of(model, x, [(m, lambda mod, inp, out: outs.append(out)) for m in layers])
    assert len(outs) == len(layers), "a bias layer ran more than once"
    grads = torch.autograd.grad(sum(logits[i, c] for i, c in enumerate(classes)), [x] + outs)

    def scaled(v):
        flat = v.flatten(2)
        lo = flat.min(-1)[0][..., None, None]
        hi = flat.max(-1)[0][..., None, None]
        return (v - lo) / (1e-7 + (hi - lo))  # grouped: in float32, 1e-7 + hi would round away when hi == lo

    total = scaled((grads[0] * x).abs()).sum(1)
    for m, g in zip(layers, grads[1:]):
        if isinstance(m, nn.BatchNorm2d):
            bias = m.bias - m.running_mean * m.weight / torch.sqrt(m.running_var + m.eps)
        else:
            bias = m.bias
        total = total + resize_map(scaled((bias[None, :, None, None] * g).abs()).sum(1), x)
    return total.detach(), len(layers)


def aug_smooth_gradcam(model, cam_attr, x, classes):
    """--smooth-aug (pytorch-grad-cam's aug_smooth: ttach's HorizontalFlip x Multiply [0.9, 1, 1.1]) of
    Grad-CAM: the map of each of the six augmented inputs, flipped back where the input was flipped, and
    averaged; the raw maps and the per-image min-max normalized ones (pytorch-grad-cam averages the
    latter, normalized with 1e-7 added to the range: 1e-7 of a map's range at most)."""
    raws, normalized = [], []
    for flip in (False, True):
        for factor in (0.9, 1.0, 1.1):
            augmented = (x.flip(-1) if flip else x) * factor
            raw = gradcam(model, cam_attr, augmented, classes)[3]
            if flip:
                raw = raw.flip(-1)
            flat = raw.flatten(1)
            lo, hi = flat.min(1)[0][:, None, None], flat.max(1)[0][:, None, None]
            raws.append(raw)
            normalized.append((raw - lo) / (hi - lo))
    return torch.stack(raws).mean(0), torch.stack(normalized).mean(0)


# Deep Feature Factorization (src/explain/dff.ts): concepts per image, multiplicative-update steps,
# and the seed of the starting factors (shaders/dff_init.wgsl).
DFF_COMPONENTS = 5
DFF_ITERATIONS = 200
DFF_SEED = 7
DFF_EPSILON = np.float32(np.finfo(np.float32).eps)
# The nets whose layer feeds global average pooling -> one Linear `fc` that makes the logits: the head
# that scores the concepts (pytorch-grad-cam's computation_on_concepts=model.fc).
DFF_NETS = ("resnet_like", "shufflenet_like")


def dff_reference(A, fc, classes, dtype=np.float64):
    """DFF per image, as pytorch-grad-cam's dff() computes it with scikit-learn's NMF replaced by Lee and
    Seung's multiplicative updates (Frobenius norm, W then H, eps = float32's epsilon) from the engine's
    start: every entry sqrt(mean(X) / K) times a counter-based uniform draw (W: stream 0, counter
    c * K + k; H: stream 1, counter k * plane + p). X is the layer [C, positions] less each channel's
    minimum; the concepts W + minima go through fc. Returns per image: H [K, h, w], scores [K, classes],
    the chosen concept (fc's highest score for the class), the relative lead of its score over the
    runner-up's, and |X - W H| / |X|. In `dtype` throughout (float32: how far a float32 engine lands)."""
    K = DFF_COMPONENTS
    weight, bias = fc.weight.detach().double().numpy(), fc.bias.detach().double().numpy()
    out = []
    for a, c in zip(A.numpy(), classes):
        C, h, w = a.shape
        X = a.reshape(C, -1).astype(dtype)
        P = X.shape[1]
        offset = X.min(1)
        X = X - offset[:, None]
        scale = np.sqrt(X.mean() / K)
        W = np.array([[scale * unit_draw(DFF_SEED, 0, i * K + k) for k in range(K)] for i in range(C)], dtype)
        H = np.array([[scale * unit_draw(DFF_SEED, 1, k * P + p) for p in range(P)] for k in range(K)], dtype)
        eps = dtype(DFF_EPSILON)
        for _ in range(DFF_ITERATIONS):
            W = W * (X @ H.T) / (W @ (H @ H.T) + eps)
            H = H * (W.T @ X) / ((W.T @ W) @ H + eps)
        scores = (weight @ (W.astype(np.float64) + offset[:, None]) + bias[:, None]).T
        column = scores[:, c]
        chosen = int(column.argmax())
        runner_up = max((column[k] for k in range(K) if k != chosen), default=column[chosen])
        error = np.linalg.norm(X - W @ H) / np.linalg.norm(X)
        out.append({"H": torch.from_numpy(H.astype(np.float64).reshape(K, h, w)), "scores": scores, "chosen": chosen,
                    "lead": float((column[chosen] - runner_up) / np.abs(column).max()), "error": float(error)})
    return out


def write_dff(d, name, net, a, a32, classes, x):
    """DFF's float64 references for a net with a GAP -> fc head: the chosen concept's raw map, every
    concept's normalized map, their scores, and per image the choice, its lead and the relative error;
    also how far the same steps in float32 land (maps and error)."""
    if name not in DFF_NETS:
        return None
    ref, ref32 = dff_reference(a, net.fc, classes), dff_reference(a32, net.fc, classes, np.float32)
    concepts = torch.stack([resize_map(r["H"], x) for r in ref])
    flat = concepts.flatten(2)
    lo, hi = flat.min(-1)[0][..., None, None], flat.max(-1)[0][..., None, None]
    np.save(d / "dff_concepts.npy", ((concepts - lo) / (hi - lo)).numpy())
    np.save(d / "dff_raw.npy", torch.stack([concepts[n, r["chosen"]] for n, r in enumerate(ref)]).numpy())
    np.save(d / "dff_scores.npy", np.stack([r["scores"] for r in ref]))
    chosen_maps = lambda rs: torch.stack([resize_map(r["H"][r["chosen"]][None], x)[0] for r in rs])
    raw = chosen_maps(ref)
    meta = {"components": DFF_COMPONENTS, "iterations": DFF_ITERATIONS, "chosen": [r["chosen"] for r in ref],
            "lead": [r["lead"] for r in ref], "reconstruction_error": [r["error"] for r in ref],
            "float32_map_rel_err": float((chosen_maps(ref32) - raw).abs().max() / raw.abs().max()),
            "float32_reconstruction_error_diff": max(abs(r["error"] - q["error"]) for r, q in zip(ref, ref32))}
    assert [r["chosen"] for r in ref32] == meta["chosen"], (name, "float32 chooses another concept")
    print(f"   dff: chosen {meta['chosen']} lead {min(meta['lead']):.2g} error {meta['reconstruction_error']} "
          f"float32 map {meta['float32_map_rel_err']:.1e}")
    return meta


def family_maps(model, cam_attr, x, A, dA, classes):
    """The raw maps [N, H, W] of the methods beyond the gradient-weighted ones, by their definitions."""
    eig, eig_ratio = eigen_projection(A)
    eiggrad, eiggrad_ratio = eigen_projection(dA * A)
    segeig, segeig_ratio = eigen_projection(dA.abs() * A)
    kpca, kpca_ratio = kpca_projection(A)
    # --smooth-eigen: the projection of the terms whose channel sum is the map (channel-weighted
    # Grad-CAM's alpha_k A_k, LayerCAM's relu(g) A), instead of their sum.
    gradcam_eig, gradcam_eig_ratio = eigen_projection(dA.mean((2, 3), keepdim=True) * A)
    layercam_eig, layercam_eig_ratio = eigen_projection(dA.clamp(min=0) * A)
    full, full_layers = fullgrad(model, x, classes)
    aug, aug_normalized = aug_smooth_gradcam(model, cam_attr, x, classes)
    fem, fem_margin = fem_weights(A)
    # FinerCAM with its default base method, Grad-CAM, of the finer target.
    finer = gradcam(model, cam_attr, x, classes, target=lambda logits, c: finer_scores(logits, c)[0])[3]
    finer_margin = finer_scores(logits_with(model, cam_attr, x), classes)[1]
    maps = {"eigencam": resize_map(eig, x), "eigengradcam": resize_map(eiggrad, x),
            "segeigencam": resize_map(segeig, x), "kpcacam": resize_map(kpca, x),
            "gradcam_smootheigen": resize_map(gradcam_eig, x), "layercam_smootheigen": resize_map(layercam_eig, x),
            "fullgrad": full, "gradcam_smoothaug": aug, "gradcam_smoothaug_normalized": aug_normalized, "fem": channel_weighted(A, fem, x), "finercam": finer,
            "scorecam": channel_weighted(A, scorecam_weights(model, cam_attr, x, A, classes), x),
            "ablationcam": channel_weighted(A, ablationcam_weights(model, cam_attr, x, A, classes), x)}
    return maps, {"eigen_lambda2_over_lambda1": {"eigencam": eig_ratio, "eigengradcam": eiggrad_ratio, "segeigencam": segeig_ratio,
                                                 "kpcacam": kpca_ratio, "gradcam_smootheigen": gradcam_eig_ratio,
                                                 "layercam_smootheigen": layercam_eig_ratio},
                  "fullgrad_layers": full_layers,
                  "fem_threshold_margin": fem_margin, "finer_selection_margin": finer_margin}


def target_scores(logits, classes, target):
    """Per image the target's score y: the class logit, its softmax probability, or ReST (pytorch-grad-cam's
    ClassifierOutputReST, per image: the logit minus the cross-entropy of the class)."""
    rows = torch.arange(len(classes))
    c = torch.tensor(classes)
    if target == "softmax":
        return logits.softmax(-1)[rows, c]
    if target == "rest":
        return logits[rows, c] + logits.log_softmax(-1)[rows, c]
    return logits[rows, c]


class twice_differentiable:
    """PyTorch 1.13 has no double backward for hardsigmoid's and hardswish's kernels: within this block they
    are their formulas, x * clamp(x / 6 + 1/2, 0, 1) and clamp(x / 6 + 1/2, 0, 1), the same functions."""

    def __enter__(self):
        self.saved = F.hardswish, F.hardsigmoid
        F.hardsigmoid = lambda t, inplace=False: torch.clamp(t / 6 + 0.5, 0, 1)
        F.hardswish = lambda t, inplace=False: t * torch.clamp(t / 6 + 0.5, 0, 1)

    def __exit__(self, *exc):
        F.hardswish, F.hardsigmoid = self.saved


def hessian_vector_product(model, attr, x, classes, target, v=None):
    """dy/dA and (d^2 y / dA^2) v at module `attr`'s output A (v default A, ShapleyCAM's direction), by
    double back-propagation (pytorch-grad-cam's create_graph=True); y summed over the images."""
    acts = {}
    with twice_differentiable():
        logits = logits_of(model, x.detach().clone().requires_grad_(True), [(getattr(model, attr), lambda mod, inp, out: acts.__setitem__("a", out))])
        a = acts["a"]
        (g,) = torch.autograd.grad(target_scores(logits, classes, target).sum(), a, create_graph=True)
        (hv,) = torch.autograd.grad(g, a, grad_outputs=(a if v is None else v).detach())
    return g.detach(), hv.detach(), a.detach()


def hvp_central_difference(model, attr, x, classes, target, v, h):
    """(dy/dA (A + h v) - dy/dA (A - h v)) / 2h, A replaced at module `attr`: the second check."""
    grads = []
    for sign in (1, -1):
        held = {}

        def replace(mod, inp, out):
            held["a"] = (out.detach() + sign * h * v).requires_grad_(True)
            return held["a"]

        logits = logits_of(model, x, [(getattr(model, attr), replace)])
        grads.append(torch.autograd.grad(target_scores(logits, classes, target).sum(), held["a"])[0])
    return (grads[0] - grads[1]) / (2 * h)


# Hessian-vector products: the layers (modules) per net and the targets, where every op between the
# layer and the logits has the engine's tangent and second-order rules: linear and piecewise-linear ops
# (resnet, dense/inception, shufflenet), Tanh (alexnet's head), and MobileNetV3's products x * gate(x)
# (SiLU as x * Sigmoid(x), HardSwish as x * HardSigmoid(x), squeeze-excitation).
HVP_CASES = {
    "alexnet_like": [("conv2", "rest"), ("conv3_act", "rest")],
    "mobilenetv3_like": [("block1", "rest"), ("last_act", "rest")],
    "resnet_like": [("stem", "rest"), ("layer1", "rest"), ("layer2", "rest"), ("layer2", "softmax")],
    "denseinception_like": [("stem", "rest"), ("inception", "rest")],
    "shufflenet_like": [("stem", "rest"), ("conv5_act", "rest")],
}
# Central differences in float64: a step of 1e-5 of the direction leaves O(h^2) = 1e-10 of the curvature
# and crosses no kink of these nets' ReLUs and max-pools (checked: the difference is reported).
HVP_STEP = 1e-5


def shapleycam(A, g, hv, x):
    """ShapleyCAM (pytorch-grad-cam's shapley_cam.py): channel weights the spatial mean of g - H A / 2."""
    return channel_weighted(A, (g - 0.5 * hv).mean((2, 3)), x)


def write_hvp(d, name, cam, m64, m32, x, classes):
    cases = []
    for attr, target in HVP_CASES.get(name, []):
        g, hv, a = hessian_vector_product(m64, attr, t64(x), classes, target)
        fd = hvp_central_difference(m64, attr, t64(x), classes, target, a, HVP_STEP)
        g32, hv32, _ = hessian_vector_product(m32, attr, torch.from_numpy(x), classes, target)
        scale = float(hv.abs().max())
        assert scale > 0, (name, attr, target, "zero Hessian-vector product")
        np.save(d / f"hvp_{target}_{attr}.npy", hv.numpy())
        np.save(d / f"hvp_grad_{target}_{attr}.npy", g.numpy())
        cases.append({"module": attr, "target": target, "file": f"hvp_{target}_{attr}.npy", "gradient_file": f"hvp_grad_{target}_{attr}.npy",
                      "central_difference_vs_autograd": float((fd - hv).abs().max()) / scale,
                      "torch_float32_rel_err": float((hv32.double() - hv).abs().max()) / scale})
        if attr == cam:
            ref = shapleycam(a, g, hv, t64(x))
            a32 = hessian_vector_product(m32, attr, torch.from_numpy(x), classes, target)[2]
            ref32 = shapleycam(a32, g32, hv32, torch.from_numpy(x))
            assert all(float(r.max()) > 0 for r in ref), (name, "ShapleyCAM map is all zero for a sample")
            cases[-1]["shapleycam_file"] = f"shapleycam_{target}_raw.npy"
            cases[-1]["shapleycam_torch_float32_rel_err"] = float((ref32.double() - ref).abs().max() / ref.abs().max())
            np.save(d / cases[-1]["shapleycam_file"], ref.numpy())
        print(f"   hvp {attr} {target}: |Hv| {scale:.3g}, central difference {cases[-1]['central_difference_vs_autograd']:.1e}, "
              f"float32 {cases[-1]['torch_float32_rel_err']:.1e}")
    return cases


def build_net(name, opset):
    make, export_kw, notes = NETS[name]
    key = f"nets/{name}"  # same seed for every opset: identical weights, inputs and references
    rng = np.random.default_rng(seed_of(key))
    gen = torch.Generator().manual_seed(seed_of(key))
    net = init_weights(make(gen), gen).eval()
    x = randn(rng, 2, 3, NET_H, NET_W)
    model, m64 = export_torch(net, [x], opset, **dict(export_kw))
    nparams = sum(int(np.prod(t.dims)) for t in model.graph.initializer)
    # Grad-CAM reference, float64 autograd
    x64 = t64(x)
    logits, a, grad, raw = gradcam(m64, net.cam, x64, None)
    # class per sample: its top-1, except that sample 1 takes its runner-up when both top-1 coincide,
    # so that per-sample class selection is exercised
    order = logits.argsort(1, descending=True)
    top1 = [int(order[0, 0]), int(order[1, 0])]
    classes = [top1[0], top1[1] if top1[1] != top1[0] else int(order[1, 1])]
    logits, a, grad, raw = gradcam(m64, net.cam, x64, classes)
    assert all(float(r.max()) > 0 for r in raw), "Grad-CAM map is all zero for a sample"
    # the same in float32 torch: how far a float32 engine can be expected to land (tolerance hint)
    m32 = copy.deepcopy(net).float().eval()
    f32 = gradcam(m32, net.cam, torch.from_numpy(x), classes)
    f32_err = {k: float((u.double() - v).abs().max() / v.abs().max())
               for k, u, v in zip(("logits", "activation", "grad", "gradcam_raw"), f32, (logits, a, grad, raw))}
    family, decisions = family_maps(m64, net.cam, x64, a, grad, classes)
    family32, _ = family_maps(m32, net.cam, torch.from_numpy(x), f32[1], f32[2], classes)
    for method, ref in family.items():
        assert all(float(r.max()) > 0 for r in ref), (name, method, "map is all zero for a sample")
        f32_err[f"{method}_raw"] = float((family32[method].double() - ref).abs().max() / ref.abs().max())
    guided = guided_backprop(m64, x64, classes)
    guided32 = guided_backprop(m32, torch.from_numpy(x), classes)
    f32_err["guided_raw"] = float((guided32.double() - guided).abs().max() / guided.abs().max())
    # locate the layer in the ONNX graph and verify it (shape inference + independent evaluation)
    layer, layer_op = find_scope_output(model, net.cam)
    shapes = inferred_shapes(model)
    assert shapes.get(layer) == list(a.shape), (name, layer, shapes.get(layer), list(a.shape))
    last = model.graph.node[-1]
    logits_name = last.input[0] if last.op_type in ("Softmax", "LogSoftmax") else model.graph.output[0].name
    a_e, l_e = onnx_eval(model, {"x0": x64}, [layer, logits_name])
    d_act = float((a_e - a).abs().max())
    d_log = float((l_e - logits).abs().max())
    assert d_act <= XCHECK_TOL * (1 + float(a.abs().max())) and d_log <= XCHECK_TOL * (1 + float(logits.abs().max())), \
        (name, d_act, d_log)
    case_name = f"{name}_opset{opset}"
    extra = {"gradcam_layer": layer, "gradcam_layer_op": layer_op, "gradcam_module": net.cam, "classes": classes,
             "top1": top1,
             "logits": logits_name, "activation_shape": list(a.shape), "params": nparams,
             "onnx_eval_vs_ref_activation": d_act, "torch_float32_rel_err": f32_err,
             **decisions}
    meta = write_case("nets", case_name, model, [x], m64, backward=False, notes=notes, extra=extra)
    d = FIX / "nets" / case_name
    np.save(d / "activation.npy", a.numpy())
    np.save(d / "grad.npy", grad.numpy())
    np.save(d / "gradcam_raw.npy", raw.numpy())
    for method, ref in family.items():
        np.save(d / f"{method}_raw.npy", ref.numpy())
    np.save(d / "guided_raw.npy", guided.numpy())
    dff = write_dff(d, name, net, a, f32[1], classes, x64)
    if dff:
        meta["dff"] = dff
        write_meta(d, meta)
    hvp = write_hvp(d, name, net.cam, m64, m32, x, classes)
    if hvp:
        for case in hvp:
            case["layer"] = find_scope_output(model, case["module"])[0]
        meta["hvp"] = hvp
        write_meta(d, meta)
    size = (d / "model.onnx").stat().st_size
    assert size < 300_000, (case_name, size)
    print(f"   layer {layer} ({layer_op}) {list(a.shape)} classes {classes} params {nparams} model {size} B; "
          f"f32 rel err " + " ".join(f"{k}={v:.1e}" for k, v in f32_err.items()))
    return meta


def register_nets():
    for name in NETS:
        for opset in (9, 11, 13):
            CASES.append(("nets", f"{name}_opset{opset}", lambda rng, gen, name=name, opset=opset:
                          build_net(name, opset)))


# ----------------------------------------------------------------------------------------------
# legacy


def register_op_set():
    """Issue 21's CNN op set: the activations, broadcasting binary ops, variadic ops and reductions."""
    G = "ops"
    shape = (2, 3, 4, 5)

    def unary(name, node_kw, ref, gen, opset=13, notes=""):
        op = node_kw.pop("op")

        def build(rng):
            return [N(op, ["x0"], ["y"], **node_kw)], [gen(rng)], {}, ref

        helper_case(G, name, build, opset=opset, notes=notes)

    signed = lambda rng: (unif(rng, 0.5, 2.0, *shape) * np.where(rng.random(shape) < 0.5, -1, 1)).astype(np.float32)
    unary("abs", {"op": "Abs"}, torch.abs, lambda rng: away(rng, randn(rng, *shape), [0.0]), notes="inputs away from 0")
    unary("neg", {"op": "Neg"}, torch.neg, lambda rng: randn(rng, *shape))
    unary("exp", {"op": "Exp"}, torch.exp, lambda rng: randn(rng, *shape))
    unary("log", {"op": "Log"}, torch.log, lambda rng: unif(rng, 0.5, 2.0, *shape), notes="inputs in [0.5, 2]")
    unary("reciprocal", {"op": "Reciprocal"}, torch.reciprocal, signed, notes="|x| in [0.5, 2]")
    unary("ceil", {"op": "Ceil"}, torch.ceil, lambda rng: away(rng, randn(rng, *shape, scale=2), list(range(-8, 9))),
          notes="inputs away from integers: the gradient is 0")
    unary("floor", {"op": "Floor"}, torch.floor, lambda rng: away(rng, randn(rng, *shape, scale=2), list(range(-8, 9))),
          notes="inputs away from integers: the gradient is 0")
    unary("elu_0.7", {"op": "Elu", "alpha": 0.7}, lambda x: F.elu(x, 0.7), lambda rng: away(rng, randn(rng, *shape), [0.0]),
          notes="alpha 0.7 (a kink at 0); inputs away from it")
    unary("celu_1.3", {"op": "Celu", "alpha": 1.3}, lambda x: F.celu(x, 1.3), lambda rng: randn(rng, *shape), opset=12)
    unary("selu", {"op": "Selu"}, F.selu, lambda rng: away(rng, randn(rng, *shape), [0.0]), notes="default alpha, gamma")
    unary("softplus", {"op": "Softplus"}, F.softplus, lambda rng: randn(rng, *shape, scale=3))
    unary("softsign", {"op": "Softsign"}, F.softsign, lambda rng: randn(rng, *shape, scale=2))
    unary("thresholdedrelu_0.4", {"op": "ThresholdedRelu", "alpha": 0.4}, lambda x: torch.where(x > 0.4, x, 0 * x),
          lambda rng: away(rng, randn(rng, *shape), [0.4]), opset=10, notes="alpha 0.4; inputs away from it")
    unary("mish_opset18", {"op": "Mish"}, F.mish, lambda rng: randn(rng, *shape, scale=2), opset=18)
    unary("gelu_opset20", {"op": "Gelu"}, F.gelu, lambda rng: randn(rng, *shape, scale=2), opset=20)
    unary("gelu_tanh_opset20", {"op": "Gelu", "approximate": "tanh"}, lambda x: F.gelu(x, approximate="tanh"),
          lambda rng: randn(rng, *shape, scale=2), opset=20)

    def prelu(rng):
        x = away(rng, randn(rng, *shape), [0.0])
        slope = unif(rng, -0.5, 0.5, 3, 1, 1)
        return [N("PRelu", ["x0", "x1"], ["y"])], [x, slope], {}, lambda x, w: torch.where(x > 0, x, x * w)

    helper_case(G, "prelu_slope_c11", prelu, opset=16, notes="slope [C,1,1] as a graph input (its gradient too)")

    for op, f in (("max", torch.maximum), ("min", torch.minimum)):
        def pair(rng, op=op, f=f):
            v = distinct(rng, (2 * 3 * 4 * 5 + 3 * 5,))
            a, b = v[:120].reshape(shape), v[120:].reshape(3, 1, 5)
            return [N(op.capitalize(), ["x0", "x1"], ["y"])], [a, b], {}, f

        helper_case(G, f"{op}_bcast", pair, notes="[2,3,4,5] against [3,1,5], all values distinct (no ties)")

    def variadic(op, ref):
        def build(rng):
            xs = [randn(rng, *shape), randn(rng, 3, 1, 5), randn(rng, 5)]
            if op in ("Max", "Min"):
                v = distinct(rng, (120 + 15 + 5,))
                xs = [v[:120].reshape(shape), v[120:135].reshape(3, 1, 5), v[135:]]
            return [N(op, ["x0", "x1", "x2"], ["y"])], xs, {}, ref

        helper_case(G, f"{op.lower()}_3_inputs", build, notes="three inputs broadcast to [2,3,4,5]")

    variadic("Sum", lambda a, b, c: a + b + c)
    variadic("Mean", lambda a, b, c: (a + b + c) / 3)
    variadic("Max", lambda a, b, c: torch.maximum(torch.maximum(a, b), c))

    reductions = {
        "ReduceSum": (lambda x, d: x.sum(d, keepdim=True), lambda rng: randn(rng, *shape)),
        "ReduceSumSquare": (lambda x, d: (x * x).sum(d, keepdim=True), lambda rng: randn(rng, *shape)),
        "ReduceL1": (lambda x, d: x.abs().sum(d, keepdim=True), lambda rng: away(rng, randn(rng, *shape), [0.0])),
        "ReduceL2": (lambda x, d: (x * x).sum(d, keepdim=True).sqrt(), lambda rng: randn(rng, *shape)),
        "ReduceLogSum": (lambda x, d: x.sum(d, keepdim=True).log(), lambda rng: unif(rng, 0.2, 2.0, *shape)),
        "ReduceLogSumExp": (lambda x, d: torch.logsumexp(x, d, keepdim=True), lambda rng: randn(rng, *shape, scale=3)),
        "ReduceMax": (lambda x, d: x.amax(d, keepdim=True), lambda rng: distinct(rng, shape)),
        "ReduceMin": (lambda x, d: x.amin(d, keepdim=True), lambda rng: distinct(rng, shape)),
        "ReduceProd": (lambda x, d: _prod(x, d, True), signed),
    }
    for op, (ref, gen) in reductions.items():
        for opset in (13, 18):
            axes_input = opset >= 18 or op == "ReduceSum"

            def build(rng, op=op, ref=ref, gen=gen, axes_input=axes_input):
                if axes_input:
                    node = N(op, ["x0", "axes"], ["y"], keepdims=1)
                    return [node], [gen(rng)], {"axes": np.array([1, -1], np.int64)}, lambda x: ref(x, (1, 3))
                return [N(op, ["x0"], ["y"], axes=[1, -1], keepdims=1)], [gen(rng)], {}, lambda x: ref(x, (1, 3))

            if op == "ReduceSum" and opset == 18:
                continue
            name = f"{op.lower()}_axes_1_-1_opset{opset}"
            helper_case(G, name, build, opset=opset, notes=f"axes [1, -1] as {'an input' if axes_input else 'an attribute'}")

    def prod_zero(rng):
        x = signed(rng)
        x[0, 1, 2, 3] = 0.0
        return [N("ReduceProd", ["x0"], ["y"], axes=[3], keepdims=0)], [x], {}, lambda x: x.prod(3)

    helper_case(G, "reduceprod_with_zero", prod_zero, notes="one exact zero: its gradient is the product of the others")

    def add_legacy(rng):
        x, b = randn(rng, *shape), randn(rng, 3)
        return [N("Add", ["x0", "x1"], ["y"], broadcast=1, axis=1)], [x, b], {}, lambda x, b: x + b.reshape(3, 1, 1)

    helper_case("legacy", "add_opset6_broadcast_axis1", add_legacy, opset=6,
                notes="opset 6 Add with broadcast=1, axis=1: B [3] lined up with A's axis 1")

    def prelu_legacy(rng):
        x = away(rng, randn(rng, *shape), [0.0])
        w = unif(rng, -0.5, 0.5, 3)
        return [N("PRelu", ["x0", "x1"], ["y"])], [x, w], {}, lambda x, w: torch.where(x > 0, x, x * w.reshape(3, 1, 1))

    helper_case("legacy", "prelu_opset6_per_channel", prelu_legacy, opset=6, notes="opset 6 PRelu: a slope [C] per channel")


def register_compositions():
    """Ops the engine runs as compositions of others (src/ops/composite.ts)."""
    G = "ops"

    def layernorm(rng):
        x, sc, b = randn(rng, 2, 5, 6), unif(rng, 0.5, 1.5, 6), randn(rng, 6, scale=0.3)
        node = N("LayerNormalization", ["x0", "x1", "x2"], ["y"], axis=-1, epsilon=1e-5)
        return [node], [x, sc, b], {}, lambda x, s, b: F.layer_norm(x, (6,), s, b, 1e-5)

    helper_case(G, "layernormalization_opset17", layernorm, opset=17,
                notes="LayerNormalization over the last axis; scale and bias are graph inputs (their gradients too)")

    def layernorm2(rng):
        x, sc = randn(rng, 2, 3, 4, 5), unif(rng, 0.5, 1.5, 4, 5)
        node = N("LayerNormalization", ["x0", "scale"], ["y"], axis=2, epsilon=1e-3)
        return [node], [x], {"scale": sc}, lambda x: F.layer_norm(x, (4, 5), t64(sc), None, 1e-3)

    helper_case(G, "layernormalization_axis2_no_bias", layernorm2, opset=17, notes="axis 2 of a 4-D input, no bias")

    def instancenorm(rng):
        x, sc, b = randn(rng, 2, 3, 4, 5, scale=2), unif(rng, 0.5, 1.5, 3), randn(rng, 3, scale=0.3)
        node = N("InstanceNormalization", ["x0", "scale", "B"], ["y"], epsilon=1e-4)
        return [node], [x], {"scale": sc, "B": b}, lambda x: F.instance_norm(x, weight=t64(sc), bias=t64(b), eps=1e-4)

    helper_case(G, "instancenormalization", instancenorm, notes="epsilon 1e-4")

    for opset in (18, 21):
        def groupnorm(rng, opset=opset):
            x = randn(rng, 2, 6, 3, 4)
            width = 3 if opset < 21 else 6
            sc, b = unif(rng, 0.5, 1.5, width), randn(rng, width, scale=0.3)
            node = N("GroupNormalization", ["x0", "scale", "B"], ["y"], num_groups=3, epsilon=1e-5)
            scc, bc = (np.repeat(sc, 2), np.repeat(b, 2)) if opset < 21 else (sc, b)
            return [node], [x], {"scale": sc, "B": b}, lambda x: F.group_norm(x, 3, t64(scc), t64(bc), 1e-5)

        helper_case(G, f"groupnormalization_opset{opset}", groupnorm, opset=opset,
                    notes="3 groups of 2 channels; scale and bias per group (opset 18) or per channel (21)")

    def mvn(rng):
        x = randn(rng, 2, 3, 4, 5, scale=2)

        def ref(x):
            mean = x.mean((0, 2, 3), keepdim=True)
            return (x - mean) / (((x - mean) ** 2).mean((0, 2, 3), keepdim=True).sqrt() + 1e-9)

        return [N("MeanVarianceNormalization", ["x0"], ["y"])], [x], {}, ref

    helper_case(G, "meanvariancenormalization", mvn, notes="default axes [0, 2, 3]")

    def gather_token(rng):
        x = randn(rng, 2, 5, 4)
        return [N("Gather", ["x0", "i"], ["y"], axis=1)], [x], {"i": np.array(0, np.int64)}, lambda x: x[:, 0]

    helper_case(G, "gather_class_token", gather_token, notes="scalar index 0 on axis 1: a ViT's class token")

    def gather_2d(rng):
        x = randn(rng, 3, 6, 4)
        idx = np.array([[5, 0, 1], [-1, 2, 2]], np.int64)
        flat = [5, 0, 1, 5, 2, 2]
        return ([N("Gather", ["x0", "i"], ["y"], axis=1)], [x], {"i": idx},
                lambda x: x[:, flat].reshape(3, 2, 3, 4))

    helper_case(G, "gather_2d_indices_repeats", gather_2d, notes="indices [[5,0,1],[-1,2,2]] on axis 1: a negative and a repeated index")

    def expand(rng):
        x = randn(rng, 3, 1, 5)
        return [N("Expand", ["x0", "s"], ["y"])], [x], {"s": np.array([2, 1, 4, 1], np.int64)}, lambda x: x.expand(2, 3, 4, 5)

    helper_case(G, "expand_broadcast", expand, notes="[3,1,5] expanded by [2,1,4,1] to [2,3,4,5]: the gradient sums the copies")

    def tile(rng):
        x = randn(rng, 2, 3, 4)
        return [N("Tile", ["x0", "r"], ["y"])], [x], {"r": np.array([1, 2, 3], np.int64)}, lambda x: x.repeat(1, 2, 3)

    helper_case(G, "tile_1_2_3", tile)

    for mode in ("DCR", "CRD"):
        def d2s(rng, mode=mode):
            x = randn(rng, 2, 8, 3, 4)

            def ref(x):
                if mode == "CRD":
                    return x.reshape(2, 2, 2, 2, 3, 4).permute(0, 1, 4, 2, 5, 3).reshape(2, 2, 6, 8)
                return x.reshape(2, 2, 2, 2, 3, 4).permute(0, 3, 4, 1, 5, 2).reshape(2, 2, 6, 8)

            return [N("DepthToSpace", ["x0"], ["y"], blocksize=2, mode=mode)], [x], {}, ref

        helper_case(G, f"depthtospace_{mode.lower()}", d2s, notes=f"blocksize 2, mode {mode}")

    def s2d(rng):
        x = randn(rng, 2, 3, 4, 6)
        ref = lambda x: x.reshape(2, 3, 2, 2, 3, 2).permute(0, 3, 5, 1, 2, 4).reshape(2, 12, 2, 3)
        return [N("SpaceToDepth", ["x0"], ["y"], blocksize=2)], [x], {}, ref

    helper_case(G, "spacetodepth", s2d, notes="blocksize 2")


def register_ranks():
    """Conv and the pools over one and three spatial axes (compositions of the 2-D kernels)."""
    G = "ops"
    rank_cases = [
        ("conv1d_k5_s2_p2", lambda: nn.Conv1d(4, 6, 5, stride=2, padding=2), lambda rng: randn(rng, 2, 4, 17)),
        ("conv1d_groups2_dilation2", lambda: nn.Conv1d(4, 6, 3, padding=2, dilation=2, groups=2), lambda rng: randn(rng, 2, 4, 11)),
        ("conv3d_k3_s2_p1", lambda: nn.Conv3d(3, 4, 3, stride=2, padding=1), lambda rng: randn(rng, 2, 3, 5, 6, 7)),
        ("conv3d_depth_dilation2_no_bias", lambda: nn.Conv3d(3, 4, 3, padding=(2, 1, 1), dilation=(2, 1, 1), bias=False),
         lambda rng: randn(rng, 1, 3, 6, 5, 5)),
        ("conv3d_k133_r3d_stem", lambda: nn.Conv3d(3, 4, (1, 3, 3), stride=(1, 2, 2), padding=(0, 1, 1)),
         lambda rng: randn(rng, 2, 3, 4, 6, 6)),
        ("convtranspose_k4_s2_p1", lambda: nn.ConvTranspose2d(4, 3, 4, stride=2, padding=1), lambda rng: randn(rng, 2, 4, 5, 6)),
        ("convtranspose_k3_s2_p1_outpad1", lambda: nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1),
         lambda rng: randn(rng, 2, 4, 5, 4)),
        ("convtranspose_groups2_dilation2_no_bias", lambda: nn.ConvTranspose2d(4, 6, 3, padding=1, dilation=2, groups=2, bias=False),
         lambda rng: randn(rng, 1, 4, 5, 5)),
        ("convtranspose_k2_s2_unet", lambda: nn.ConvTranspose2d(6, 3, 2, stride=2), lambda rng: randn(rng, 2, 6, 4, 5)),
        ("convtranspose3d_k3_s2_p1_outpad1", lambda: nn.ConvTranspose3d(4, 3, 3, stride=2, padding=1, output_padding=1),
         lambda rng: randn(rng, 1, 4, 3, 4, 4)),
        ("convtranspose3d_k2_s2_groups2", lambda: nn.ConvTranspose3d(4, 6, 2, stride=2, groups=2, bias=False), lambda rng: randn(rng, 2, 4, 2, 3, 3)),
        ("convtranspose1d_k4_s2_p1", lambda: nn.ConvTranspose1d(4, 3, 4, stride=2, padding=1), lambda rng: randn(rng, 2, 4, 9)),
        ("maxpool1d_k3_s2_p1", lambda: nn.MaxPool1d(3, 2, 1), lambda rng: distinct(rng, (2, 3, 15))),
        ("avgpool1d_k3_s2_p1_exclude_pad", lambda: nn.AvgPool1d(3, 2, 1, count_include_pad=False), lambda rng: randn(rng, 2, 3, 15)),
        ("maxpool3d_k3_s2_p1_ceil", lambda: nn.MaxPool3d(3, 2, 1, ceil_mode=True), lambda rng: distinct(rng, (2, 3, 6, 7, 8))),
        ("avgpool3d_k3_s2_p1_exclude_pad", lambda: nn.AvgPool3d(3, 2, 1, count_include_pad=False), lambda rng: randn(rng, 2, 3, 6, 7, 8)),
        ("avgpool3d_k2_s2_p1_include_pad", lambda: nn.AvgPool3d(2, 2, 1, count_include_pad=True), lambda rng: randn(rng, 2, 3, 5, 6, 7)),
    ]
    for name, module, gen in rank_cases:
        torch_case(G, name, module, gen, notes="torch.onnx.export at opset 13")


def register_resize():
    """Resize and Upsample as torch exports them (bilinear, nearest, bicubic; upsampling and downsampling)."""
    G = "ops"
    interp = [
        ("resize_bilinear_x2", dict(scale_factor=2, mode="bilinear", align_corners=False), (2, 3, 4, 5), 13),
        ("resize_bilinear_align_corners_x2", dict(scale_factor=2, mode="bilinear", align_corners=True), (2, 3, 4, 5), 13),
        ("resize_bilinear_down_sizes", dict(size=(3, 4), mode="bilinear", align_corners=False), (2, 3, 7, 9), 13),
        ("resize_nearest_x2", dict(scale_factor=2, mode="nearest"), (2, 3, 4, 5), 13),
        ("resize_nearest_sizes_x1.5", dict(size=(6, 7), mode="nearest"), (2, 3, 4, 5), 13),
        ("resize_bicubic_x2", dict(scale_factor=2, mode="bicubic", align_corners=False), (2, 3, 4, 5), 13),
        ("resize_linear_1d_x2", dict(scale_factor=2, mode="linear", align_corners=False), (2, 3, 6), 13),
        ("upsample_nearest_opset9", dict(scale_factor=2, mode="nearest"), (2, 3, 4, 5), 9),
        ("resize_bilinear_opset11", dict(scale_factor=2, mode="bilinear", align_corners=False), (2, 3, 4, 5), 11),
    ]
    for name, kw, shape, opset in interp:
        torch_case(G, name, lambda kw=kw: Fn(lambda x: F.interpolate(x, **kw)), lambda rng, shape=shape: randn(rng, *shape),
                   opset=opset, notes=f"F.interpolate({kw}) exported at opset {opset}")


def register_models():
    """Small members of the architecture families the engine must run (issue 21)."""
    import torchvision
    from torchvision.models.convnext import CNBlockConfig, ConvNeXt
    from torchvision.models.swin_transformer import SwinTransformer

    G = "models"

    class SegNet(nn.Module):
        """An LR-ASPP-shaped head: a strided encoder, a gated context branch, bilinear upsampling to the input."""

        def __init__(self):
            super().__init__()
            self.enc = nn.Sequential(nn.Conv2d(3, 8, 3, 2, 1), nn.BatchNorm2d(8), nn.Hardswish(), nn.Conv2d(8, 16, 3, 2, 1), nn.ReLU())
            self.gate = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Conv2d(16, 16, 1), nn.Sigmoid())
            self.cls = nn.Conv2d(16, 4, 1)

        def forward(self, x):
            f = self.enc(x)
            return F.interpolate(self.cls(f * self.gate(f)), size=x.shape[-2:], mode="bilinear", align_corners=False)

    class UNet(nn.Module):
        def __init__(self):
            super().__init__()
            block = lambda i, o: nn.Sequential(nn.Conv2d(i, o, 3, padding=1), nn.BatchNorm2d(o), nn.ReLU())
            self.d1, self.d2, self.mid = block(3, 4), block(4, 8), block(8, 8)
            self.u2, self.c2 = nn.ConvTranspose2d(8, 8, 2, 2), block(16, 4)
            self.u1, self.c1 = nn.ConvTranspose2d(4, 4, 2, 2), block(8, 4)
            self.head = nn.Conv2d(4, 2, 1)

        def forward(self, x):
            a = self.d1(x)
            b = self.d2(F.max_pool2d(a, 2))
            m = self.mid(F.max_pool2d(b, 2))
            u = self.c2(torch.cat([self.u2(m), b], 1))
            return self.head(self.c1(torch.cat([self.u1(u), a], 1)))

    class Net1d(nn.Module):
        def __init__(self):
            super().__init__()
            self.f = nn.Sequential(nn.Conv1d(2, 6, 7, padding=3), nn.BatchNorm1d(6), nn.ReLU(), nn.MaxPool1d(2),
                                   nn.Conv1d(6, 8, 5, stride=2, padding=2), nn.ReLU(), nn.AdaptiveAvgPool1d(1), nn.Flatten(),
                                   nn.Linear(8, 5))

        def forward(self, x):
            return self.f(x)

    class Video(nn.Module):
        """r3d_18's shape at a few channels: a (3, 7, 7) stem, a residual block of 3x3x3 convs, a strided one."""

        def __init__(self):
            super().__init__()
            unit = lambda i, o, s: nn.Sequential(nn.Conv3d(i, o, 3, s, 1, bias=False), nn.BatchNorm3d(o))
            self.stem = nn.Sequential(nn.Conv3d(3, 4, (3, 7, 7), (1, 2, 2), (1, 3, 3), bias=False), nn.BatchNorm3d(4), nn.ReLU())
            self.a, self.b = unit(4, 4, 1), unit(4, 4, 1)
            self.down = nn.Sequential(unit(4, 8, 2), nn.ReLU())
            self.head = nn.Linear(8, 5)

        def forward(self, x):
            x = self.stem(x)
            x = F.relu(x + self.b(F.relu(self.a(x))))
            return self.head(F.adaptive_avg_pool3d(self.down(x), 1).flatten(1))

    models = [
        ("vit_tiny_opset13", lambda: torchvision.models.VisionTransformer(image_size=16, patch_size=8, num_layers=2, num_heads=2,
                                                                          hidden_dim=8, mlp_dim=16, num_classes=5),
         (1, 3, 16, 16), 13),
        ("swin_tiny_opset17", lambda: SwinTransformer(patch_size=[2, 2], embed_dim=4, depths=[2, 1], num_heads=[1, 2], window_size=[2, 2],
                                                      num_classes=5), (1, 3, 12, 12), 17),
        ("convnext_tiny_opset17", lambda: ConvNeXt([CNBlockConfig(4, 8, 1), CNBlockConfig(8, None, 1)], num_classes=5), (1, 3, 16, 16), 17),
        ("segmentation_bilinear", SegNet, (1, 3, 16, 20), 13),
        ("unet_convtranspose", UNet, (1, 3, 16, 16), 13),
        ("resnet3d_video", Video, (1, 3, 4, 16, 16), 13),
        ("cnn1d_signal", Net1d, (2, 2, 48), 13),
    ]
    class Traced(nn.Module):
        """Exports the model with autograd on, so that nn.MultiheadAttention takes its exportable path
        (its fused inference kernel has no ONNX form)."""

        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, x):
            if not torch.onnx.is_in_onnx_export():
                return self.inner(x)
            with torch.enable_grad():
                return self.inner(x)

    for name, make, shape, opset in models:
        torch_case(G, name, lambda make=make: Traced(make()), lambda rng, shape=shape: randn(rng, *shape), opset=opset,
                   notes=f"torch.onnx.export at opset {opset}; input {list(shape)}", cross_check=False)


def register_legacy():
    G = "legacy"

    def clip7(rng):
        x = away(rng, randn(rng, 2, 3, 4, 5), [-0.5, 0.8])
        return [N("Clip", ["x0"], ["y"], min=-0.5, max=0.8)], [x], {}, lambda x: torch.clamp(x, -0.5, 0.8)

    helper_case(G, "clip_opset7_attrs", clip7, opset=7,
                notes="opset 7 (IR 3) Clip with min=-0.5/max=0.8 ATTRIBUTES (what torch emits at opset <= 10); "
                      "inputs away from the bounds")

    def bn7(rng):
        x = randn(rng, 2, 4, 3, 5)
        sc, b = unif(rng, 0.5, 1.5, 4), randn(rng, 4, scale=0.2)
        mean, var = randn(rng, 4, scale=0.2), unif(rng, 0.5, 1.5, 4)
        node = N("BatchNormalization", ["x0", "scale", "B", "mean", "var"], ["y"], epsilon=1e-3, momentum=0.9,
                 spatial=1)
        ref = lambda x: F.batch_norm(x, t64(mean), t64(var), t64(sc), t64(b), False, 0.0, 1e-3)
        return [node], [x], {"scale": sc, "B": b, "mean": mean, "var": var}, ref

    helper_case(G, "batchnorm_opset7_spatial", bn7, opset=7, inits_as_inputs=True,
                notes="opset 7 (IR 3) BatchNormalization with spatial=1, epsilon=1e-3; the 4 initializers are ALSO "
                      "listed as graph inputs (old IR-3 style): only x0 is a real input")

    def reshape_init(rng):
        x = randn(rng, 2, 3, 4, 5)
        return ([N("Reshape", ["x0", "shape"], ["y"])], [x], {"shape": np.array([2, 12, 5], np.int64)},
                lambda x: x.reshape(2, 12, 5))

    helper_case(G, "reshape_int64_initializer", reshape_init, opset=9,
                notes="Reshape whose shape is an int64 initializer [2,12,5] (raw_data)")

    def const_mul(rng):
        x = randn(rng, 2, 3, 4, 5)
        c = randn(rng, 3, 1, 1)
        nodes = [N("Constant", [], ["c"], value=numpy_helper.from_array(c, "c")), N("Mul", ["x0", "c"], ["y"])]
        return nodes, [x], {}, lambda x: x * t64(c)

    helper_case(G, "constant_node_mul", const_mul, opset=9,
                notes="a Constant node (value tensor [3,1,1]) feeding Mul")

    def typed(rng):
        x = randn(rng, 2, 3, 5, 6)
        w = (rng.standard_normal((4, 3, 3, 3)) * 0.3).astype(np.float32)
        b = (rng.standard_normal(4) * 0.1).astype(np.float32)
        inits = {
            "W": helper.make_tensor("W", TensorProto.FLOAT, w.shape, w.reshape(-1).tolist()),
            "B": helper.make_tensor("B", TensorProto.FLOAT, b.shape, b.reshape(-1).tolist()),
            "shape": helper.make_tensor("shape", TensorProto.INT64, [2], [2, -1]),
        }
        for t in inits.values():
            assert not t.raw_data
        nodes = [N("Conv", ["x0", "W", "B"], ["c"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
                 N("Reshape", ["c", "shape"], ["y"])]
        return nodes, [x], inits, lambda x: F.conv2d(x, t64(w), t64(b), padding=1).reshape(2, -1)

    helper_case(G, "typed_field_initializers", typed, opset=11,
                notes="Conv weight/bias stored in TensorProto.float_data and the Reshape shape in int64_data "
                      "(no raw_data)")

    def same_upper(rng):
        x = randn(rng, 2, 3, 7, 8)
        w = (rng.standard_normal((4, 3, 3, 3)) * 0.3).astype(np.float32)
        node = N("Conv", ["x0", "W"], ["y"], kernel_shape=[3, 3], strides=[2, 2], auto_pad="SAME_UPPER")
        # H 7 -> 4: total pad 2 -> (1,1); W 8 -> 4: total pad 1 -> (0 before, 1 after)
        return [node], [x], {"W": w}, lambda x: F.conv2d(F.pad(x, (0, 1, 1, 1)), t64(w), stride=2)

    helper_case(G, "conv_auto_pad_same_upper", same_upper, opset=9,
                notes="Conv auto_pad=SAME_UPPER stride 2 (TF-converted models): H 7->4 pads (1,1), W 8->4 pads "
                      "(0 begin, 1 end)")

    def softmax11(rng):
        x = randn(rng, 2, 3, 2, 4)
        return ([N("Softmax", ["x0"], ["y"], axis=1)], [x], {},
                lambda x: torch.softmax(x.reshape(2, -1), 1).reshape(x.shape))

    helper_case(G, "softmax_opset11_axis1_4d", softmax11, opset=11,
                notes="opset < 13 Softmax semantics: axis=1 on [2,3,2,4] coerces to 2D [2,24] and normalizes over "
                      "all 24 values per sample (NOT per channel axis as at opset 13)")

    class ViewFlatten(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 4, 3)
            self.fc = nn.Linear(4 * 3 * 5, 6)

        def forward(self, x):
            x = F.relu(self.conv(x))
            return self.fc(x.view(x.size(0), -1))

    def shape_subgraph(rng, gen):
        net = init_weights(ViewFlatten(), gen)
        for _ in range(100):  # keep every ReLU pre-activation >= 1e-3 away from its kink (valid FD)
            x = randn(rng, 2, 3, 5, 7)
            with torch.no_grad():
                if float(net.conv(torch.from_numpy(x)).abs().min()) >= 1e-3:
                    break
        else:
            raise RuntimeError("no input with ReLU pre-activations away from 0")
        # dynamic batch axis makes the tracer record x.size(0) as Shape->Gather; then pin the input shape again
        model, m64 = export_torch(net, [x], 9, do_constant_folding=False, dynamic_axes={"x0": {0: "N"}})
        dim = model.graph.input[0].type.tensor_type.shape.dim[0]
        dim.Clear()
        dim.dim_value = 2
        for vi in list(model.graph.output):
            vi.type.tensor_type.shape.dim[0].Clear()
            vi.type.tensor_type.shape.dim[0].dim_value = 2
        del model.graph.value_info[:]
        ops = graph_info(model)[1]
        assert all(o in ops for o in ("Shape", "Gather", "Unsqueeze", "Concat", "Reshape")), ops
        write_case(G, "flatten_shape_subgraph_opset9", model, [x], m64, True, rng=rng,
                   notes="Conv -> ReLU (pre-activations >= 1e-3 from 0) -> x.view(x.size(0), -1) exported at opset 9 "
                         "with do_constant_folding=False: Shape -> Gather "
                         "-> Unsqueeze (+ Constant -1 -> Unsqueeze) -> Concat -> Reshape, then Gemm. Exported with a "
                         "dynamic batch axis (static shapes make torch 1.13 record x.size(0) as a constant) and the "
                         "input/output batch dim then pinned to 2.")

    CASES.append((G, "flatten_shape_subgraph_opset9", shape_subgraph))

    class SmallNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 4, 3, padding=1)
            self.fc = nn.Linear(4, 5)

        def forward(self, x):
            return self.fc(torch.flatten(F.adaptive_avg_pool2d(torch.sigmoid(self.conv(x)), 1), 1))

    def inits_as_inputs(rng, gen):
        net = init_weights(SmallNet(), gen)
        x = randn(rng, 2, 3, 5, 6)
        model, m64 = export_torch(net, [x], 9, keep_initializers_as_inputs=True)
        assert len(model.graph.input) > 1
        write_case(G, "initializers_as_inputs_opset9", model, [x], m64, True, rng=rng,
                   notes="exported with keep_initializers_as_inputs=True: every weight is also a graph input "
                         "(with an initializer as its default). Only x0 must be fed.")

    CASES.append((G, "initializers_as_inputs_opset9", inits_as_inputs))


# ----------------------------------------------------------------------------------------------
# bad


BAD_README = """# Malformed / unsupported models (error-handling fixtures)

Generated by `scripts/make_op_fixtures.py`. None of these may crash the engine or hang; each must be
rejected with a clear error (an exception / rejected promise, or a non-zero CLI exit with a message).

| file | what it is | expected result |
|---|---|---|
| `not-onnx.onnx` | a plain text file, not a protobuf | parse error ("not a valid ONNX model" / protobuf decode failure); no graph is loaded |
| `truncated.onnx` | `ops/conv_3x3_pad1/model.onnx` cut to its first half (ends inside the graph message) | parse error (protobuf decode failure: truncated message / index out of range) |
| `unsupported-op.onnx` | a valid opset-12 model: Conv -> `Einsum` ("nchw->nhwc") | load-time error naming the unsupported op type `Einsum` (and ideally the node name `einsum_node`) |
| `missing-initializer.onnx` | Conv whose weight input `conv.weight` is neither an initializer, a node output nor a graph input (`conv.bias` does exist) | load-time error naming the missing tensor `conv.weight` |

`unsupported-op.onnx` and `missing-initializer.onnx` take one input `x0` float32 [1,3,8,8].
`unsupported-op.onnx` passes `onnx.checker`; `missing-initializer.onnx` does not.
"""


def build_bad(rng, gen):
    d = FIX / "bad"
    if d.exists():
        shutil.rmtree(d)
    d.mkdir(parents=True)
    (d / "not-onnx.onnx").write_text("This is not an ONNX model.\nJust some text pretending to be one.\n")
    good = (FIX / "ops" / "conv_3x3_pad1" / "model.onnx").read_bytes()
    (d / "truncated.onnx").write_bytes(good[: len(good) // 2])
    for f in ("not-onnx.onnx", "truncated.onnx"):
        try:
            m = onnx.load(str(d / f))
            raise AssertionError(f"{f} parsed: {len(m.graph.node)} nodes")
        except AssertionError:
            raise
        except Exception:
            pass
    w = (rng.standard_normal((4, 3, 3, 3)) * 0.3).astype(np.float32)
    b = np.zeros(4, np.float32)
    x_vi = helper.make_tensor_value_info("x0", TensorProto.FLOAT, [1, 3, 8, 8])
    nodes = [N("Conv", ["x0", "conv.weight", "conv.bias"], ["c"], kernel_shape=[3, 3], pads=[1, 1, 1, 1],
               name="conv"),
             N("Einsum", ["c"], ["y"], equation="nchw->nhwc", name="einsum_node")]
    g = helper.make_graph(nodes, "unsupported", [x_vi], [helper.make_tensor_value_info("y", TensorProto.FLOAT,
                                                                                        [1, 8, 8, 4])],
                          initializer=[numpy_helper.from_array(w, "conv.weight"), numpy_helper.from_array(b, "conv.bias")])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 12)], producer_name="make_op_fixtures.py")
    m.ir_version = 7
    onnx.checker.check_model(m, full_check=True)
    (d / "unsupported-op.onnx").write_bytes(m.SerializeToString())
    g = helper.make_graph(nodes[:1], "missing", [x_vi], [helper.make_tensor_value_info("c", TensorProto.FLOAT,
                                                                                        [1, 4, 8, 8])],
                          initializer=[numpy_helper.from_array(b, "conv.bias")])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)], producer_name="make_op_fixtures.py")
    m.ir_version = 7
    try:
        onnx.checker.check_model(m, full_check=True)
        raise AssertionError("missing-initializer passed the checker")
    except onnx.checker.ValidationError:
        pass
    (d / "missing-initializer.onnx").write_bytes(m.SerializeToString())
    (d / "README.md").write_text(BAD_README)
    print("bad/: not-onnx.onnx truncated.onnx unsupported-op.onnx missing-initializer.onnx README.md")


FIXTURES_README = """# ONNX op / net / legacy / model fixtures (ops/, nets/, legacy/, models/, bad/)

models/ holds small members of the architecture families issue 21 names (a ViT, a Swin, a ConvNeXt, a
segmentation net with bilinear upsampling, a U-Net, a 3-D and a 1-D CNN), torchvision's own classes at
reduced sizes where torchvision has them, exported by torch with seeded weights; checked like ops/,
except that the interpreter below does not read all their ops (`onnx_eval_vs_ref` is null there).

These five folders and this file are generated by `/usr/bin/python3 scripts/make_op_fixtures.py`
(deterministic; re-running rewrites identical files). Do not edit by hand. Other folders under
test/fixtures/ come from other scripts.

Each case is a folder `<group>/<case>/`:

- `model.onnx`: graph inputs `x0`, `x1`, ... (float32, fixed shapes), exactly one graph output, weights as
  initializers (legacy cases may additionally list initializers as graph inputs; feed only `x0...`).
- `x0.npy`, `x1.npy`, ...: float32 inputs.
- `y.npy`: float64 reference output, computed by the equivalent PyTorch module/function in float64 on the
  float32 inputs and weights (no ONNX runtime), and cross-checked against an independent float64
  interpretation of the ONNX graph (`onnx_eval_vs_ref` in meta). Constants that ONNX stores as float32
  (HardSigmoid alpha 1/6, eps, scalar constants such as 1.3, GELU's sqrt(2)) are exact in the torch
  reference, so that cross-check differs by up to ~1e-7 relative; irrelevant at float32 tolerances.
- backward cases (`"backward": true`): `gy.npy` float32 upstream gradient (shape of y); `gx<i>.npy` float64
  gradient of L = sum(gy * f(x)) w.r.t. input i by central finite differences in float64
  (step `fd_h`); `gx<i>_autograd.npy` the same by torch float64 autograd. `fd_vs_autograd` is their max
  abs difference (asserted <= 1e-6 * max|g| + 1e-9). Inputs avoid kinks/ties by >= 1e-3.
- `meta.json`: case, group, ops (op types in graph order), opset, inputs, input_shapes, output (name),
  output_shape, backward, fd_vs_autograd, fd_h, onnx_eval_vs_ref, notes.
- nets only: `activation.npy` (float64, A at `gradcam_layer`, [N,C,h,w]), `grad.npy` (d sum_i
  logits[i, classes[i]] / dA, logits taken BEFORE any final Softmax/LogSoftmax: tensor `logits` in meta),
  `gradcam_raw.npy` ([N,H,W] = bilinear resize, align_corners=False, of relu(sum_k mean_hw(grad)_k A_k)),
  and the same-sized raw maps `eigencam_raw.npy`, `eigengradcam_raw.npy`, `scorecam_raw.npy` and
  `ablationcam_raw.npy` by their definitions (make_op_fixtures.py: eigen_projection, scorecam_weights,
  ablationcam_weights; meta.json has each one's PyTorch float32 error and the eigen-gap ratios), and
  `guided_raw.npy`, guided back-propagation to the input ([N,3,H,W], guided_backprop).
  meta adds gradcam_layer (ONNX tensor name), gradcam_layer_op, gradcam_module, classes (one per sample;
  top-1, except sample 1 takes its runner-up when both top-1 coincide), top1, logits, activation_shape,
  params, and torch_float32_rel_err (max abs error / max abs value of the same computation in float32
  torch: a tolerance hint for a float32 engine). The 3 opset variants of a net share weights, input and
  references.

Groups: `ops/` single ops and attribute variants, `nets/` small synthetic CNNs at opsets 9/11/13,
`legacy/` old-style graph forms, `bad/` files that must be rejected (see bad/README.md).
"""


# ----------------------------------------------------------------------------------------------


REQUIRED_META = ("case", "group", "ops", "opset", "inputs", "backward", "fd_vs_autograd", "notes")


def verify_all():
    """Re-read every case folder and check that it is complete and self-consistent."""
    n = 0
    for meta_path in sorted(p for g in ("ops", "nets", "legacy", "models") for p in (FIX / g).glob("*/meta.json")):
        d = meta_path.parent
        meta = json.loads(meta_path.read_text())
        assert all(k in meta for k in REQUIRED_META), (d, meta.keys())
        assert meta["case"] == d.name and meta["group"] == d.parent.name, d
        model = onnx.load(str(d / "model.onnx"))
        real, ops, opset = graph_info(model)
        assert ops == meta["ops"] and opset == meta["opset"] and len(model.graph.output) == 1, d
        assert [i.name for i in real] == meta["inputs"], d
        xs = [np.load(d / f"{nm}.npy") for nm in meta["inputs"]]
        assert all(x.dtype == np.float32 for x in xs), d
        y = np.load(d / "y.npy")
        assert y.dtype == np.float64 and list(y.shape) == meta["output_shape"], d
        expected = {"model.onnx", "meta.json", "y.npy"} | {f"{nm}.npy" for nm in meta["inputs"]}
        if meta["backward"]:
            gy = np.load(d / "gy.npy")
            assert gy.dtype == np.float32 and gy.shape == y.shape, d
            expected.add("gy.npy")
            for i, x in enumerate(xs):
                for f in (f"gx{i}.npy", f"gx{i}_autograd.npy"):
                    g = np.load(d / f)
                    assert g.dtype == np.float64 and g.shape == x.shape, (d, f)
                    expected.add(f)
            assert meta["fd_vs_autograd"] is not None, d
        if meta["group"] == "nets":
            for f in ("activation.npy", "grad.npy", "gradcam_raw.npy") + tuple(
                    f"{m}_raw.npy" for m in ("eigencam", "eigengradcam", "segeigencam", "kpcacam", "gradcam_smootheigen",
                                       "layercam_smootheigen", "fullgrad", "gradcam_smoothaug",
                                       "gradcam_smoothaug_normalized", "fem", "finercam", "scorecam",
                                       "ablationcam", "guided")):
                assert np.load(d / f).dtype == np.float64, (d, f)
                expected.add(f)
            a = np.load(d / "activation.npy")
            assert list(a.shape) == meta["activation_shape"] and np.load(d / "grad.npy").shape == a.shape, d
            raw = np.load(d / "gradcam_raw.npy")
            assert raw.shape == (xs[0].shape[0],) + xs[0].shape[2:], d
            assert len(meta["classes"]) == xs[0].shape[0], d
            for case in meta.get("hvp", []):
                for f in (case["file"], case["gradient_file"]) + ((case["shapleycam_file"],) if "shapleycam_file" in case else ()):
                    assert np.load(d / f).dtype == np.float64, (d, f)
                    expected.add(f)
            names = {o for nd in model.graph.node for o in nd.output}
            assert meta["gradcam_layer"] in names and meta["logits"] in names | {model.graph.output[0].name}, d
        present = {p.name for p in d.iterdir()}
        assert present == expected, (d, present ^ expected)
        n += 1
    assert {p.name for p in (FIX / "bad").iterdir()} == {"README.md", "not-onnx.onnx", "truncated.onnx",
                                                          "unsupported-op.onnx", "missing-initializer.onnx"}
    return n


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", help="only cases whose 'group/case' contains this substring")
    args = ap.parse_args()
    register_ops()
    register_nets()
    register_legacy()
    register_op_set()
    register_compositions()
    register_ranks()
    register_resize()
    register_models()
    CASES.append(("bad", "*", build_bad))
    names = [f"{g}/{n}" for g, n, _ in CASES]
    assert len(names) == len(set(names)), "duplicate case names"
    if not args.only:
        for g in GROUPS:
            if (FIX / g).exists():
                shutil.rmtree(FIX / g)
        FIX.mkdir(parents=True, exist_ok=True)
        (FIX / "OP_FIXTURES.md").write_text(FIXTURES_README)
    count = 0
    for g, n, build in CASES:
        if args.only and args.only not in f"{g}/{n}":
            continue
        s = seed_of(f"{g}/{n}")
        build(np.random.default_rng(s), torch.Generator().manual_seed(s))
        count += 1
    print(f"wrote {count} cases under {FIX}")
    if not args.only:
        print(f"verified {verify_all()} case folders")


if __name__ == "__main__":
    main()
