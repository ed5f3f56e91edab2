"""What float32 can and cannot promise about a float64 reference, computed in float64.

Used by make_torchvision_refs.py; the tests derive their limits from what this writes.

Two things set how far any float32 implementation may land from float64:

1. Rounding (float32_model_runs): a float64 evaluation of the model in which every
   layer's output gets the rounding error that float32 arithmetic gives it, as
   random noise. Each float32 addition rounds with a relative error that is
   uniform in +-u/2 (u = 2^-24, standard deviation u/sqrt(12)); summed over a
   sequential reduction of n terms w_i x_i of random sign, whose partial sums
   grow like sqrt(j), that is an error of standard deviation
   u * sqrt(n / 24) * sqrt(sum_i (w_i x_i)^2). Conv2d and Linear outputs get
   that much Gaussian noise, and so does the gradient they pass back to their
   input (with the backward reduction's n and terms); every other layer that
   rounds (BatchNorm, pooling averages, smooth activations) gets
   N(0,1) * u / sqrt(12) * |y|, except average pools (a sum of terms of one
   sign, in blocks of 64 as the engine sums them) and Sigmoid and SiLU, whose
   exp() a WGSL implementation may compute to 3 + 2|x| ulp; ReLU, Clip, max-pool
   and copies are exact and get none. Blocked or pairwise summation (the engine's GEMMs, oneDNN) errs
   less than sequential summation, so the model's spread is an upper estimate
   of a float32 implementation's rounding error, away from kinks.

2. Decisions (decision_analysis): a ReLU, a max-pool window, a Clip/Hardtanh
   bound or a Hardswish/Hardsigmoid corner between the explained layer and the
   score whose float64 input lies within float32's reach of the kink takes the
   other branch in some float32 evaluations, and the gradient through that unit
   then changes by O(1): no summation order avoids it. The margin of a decision
   is its distance from the kink relative to the per-image max |x| of the
   tensor (for a max-pool window, the gap between its two largest inputs);
   only units that receive a non-zero gradient count, and exact ties (margin 0:
   a max-pool window of ReLU zeros, a ReLU of an exact zero) do not, since they
   come from the graph's structure and float32 breaks them the same way. A
   decision is within float32's reach when its margin is below REACH_FACTOR
   times the largest deviation (relative to the tensor's max) that the rounding
   model's runs show on that decision's input. The kink effect is what flipping
   the decisions within reach nearest to their kinks does to the map (see
   decision_analysis).
"""
import math

import numpy as np

U32 = 2.0 ** -24  # unit roundoff of float32 (round to nearest)
# A decision is within float32's reach when its margin is below this many times the rounding model's
# largest deviation on its input tensor: the model's runs are two samples of a random error, and a
# fixed summation order can sit a few standard deviations out.
REACH_FACTOR = 10
MODEL_RUNS = 2
# How many of the decisions nearest their kinks the kink effect adds up (see decision_analysis).
CLOSEST_DECISIONS = 8


def rel(a, b):
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    d = float(np.abs(a - b).max())
    m = float(np.abs(b).max())
    return d / m if m > 0 else (0.0 if d == 0 else float("inf"))


def max_abs(a, b):
    return float(np.abs(np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)).max())


# ----------------------------------------------------------------------------
# 1. Rounding
# ----------------------------------------------------------------------------

class RoundingNoise:
    """Context manager: float32-sized rounding noise (see the module docstring) in a float64 model.
    Conv2d and Linear go through F.conv2d / F.linear, replaced here by an autograd function that adds
    the noise to the output and, in the backward pass, to the gradient of the input (module backward
    hooks cannot be used: with them PyTorch 1.13's float64 depthwise backward returns NaN); other
    layers that round get it from a forward hook."""

    def __init__(self, torch, model, seed):
        self.torch, self.model = torch, model
        self.gen = torch.Generator().manual_seed(seed)
        self.handles = []
        self.saved = {}

    def noise(self, like):
        return self.torch.randn(like.shape, generator=self.gen, dtype=like.dtype)

    def __enter__(self):
        torch, nn, F = self.torch, self.torch.nn, self.torch.nn.functional
        conv2d, linear = F.conv2d, F.linear
        self.saved = {"conv2d": conv2d, "linear": linear}
        noise = self.noise
        # The noise's size needs no float64: its products run in float32 (several times faster).
        f32 = lambda t: t.float()

        def sized(sq, n, like):
            return U32 * math.sqrt(n / 24) * sq.double().clamp(min=0).sqrt() * noise(like)

        class NoisyConv(torch.autograd.Function):
            @staticmethod
            def forward(ctx, x, w, b, stride, padding, dilation, groups):
                y = conv2d(x, w, b, stride, padding, dilation, groups)
                ctx.save_for_backward(w)
                ctx.conf = (x.shape, stride, padding, dilation, groups)
                return y + sized(conv2d(f32(x * x), f32(w * w), None, stride, padding, dilation, groups), w[0].numel(), y)

            @staticmethod
            def backward(ctx, g):
                (w,) = ctx.saved_tensors
                shape, stride, padding, dilation, groups = ctx.conf
                gx = torch.nn.grad.conv2d_input(shape, w, g, stride, padding, dilation, groups)
                sq = torch.nn.grad.conv2d_input(shape, f32(w * w), f32(g * g), stride, padding, dilation, groups)
                n = w.shape[0] // groups * w[0, 0].numel()
                return (gx + sized(sq, n, gx),) + (None,) * 6

        class NoisyLinear(torch.autograd.Function):
            @staticmethod
            def forward(ctx, x, w, b):
                y = linear(x, w, b)
                ctx.save_for_backward(w)
                return y + sized(linear(f32(x * x), f32(w * w)), w.shape[1], y)

            @staticmethod
            def backward(ctx, g):
                (w,) = ctx.saved_tensors
                gx = g @ w
                return gx + sized(f32(g * g) @ f32(w * w), w.shape[0], gx), None, None

        def noisy_conv2d(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
            if isinstance(padding, str):
                raise RuntimeError("string padding is not modelled")
            return NoisyConv.apply(x, w, b, stride, padding, dilation, groups)

        F.conv2d = noisy_conv2d
        F.linear = lambda x, w, b=None: NoisyLinear.apply(x, w, b)

        exact = (nn.Conv2d, nn.Linear, nn.ReLU, nn.ReLU6, nn.Hardtanh, nn.MaxPool2d, nn.Dropout, nn.Identity,
                 nn.Flatten)

        def forward(m, inp, out):
            if isinstance(m, (nn.AdaptiveAvgPool2d, nn.AvgPool2d)):
                # The engine sums a window in blocks of 64 (average_pool.wgsl); summing n terms of one
                # sign rounds like u/6 * sqrt(n) relatively, so the blocked sum like
                # u/6 * (sqrt(min(n, 64)) + sqrt(n / 64)).
                n = inp[0][0, 0].numel() / out[0, 0].numel()
                return out + U32 / 6 * (math.sqrt(min(n, 64)) + math.sqrt(n / 64)) * out.abs() * noise(out)
            if isinstance(m, (nn.Sigmoid, nn.SiLU)):
                # exp() is a WGSL built-in allowed 3 + 2|x| ulp (WGSL spec, floating-point accuracy);
                # an error e in exp(-x) moves sigmoid(x) by e * (1 - sigmoid(x)) relatively.
                x = inp[0]
                s = torch.sigmoid(x)
                ulps = (3 + 2 * x.abs()) / math.sqrt(3)
                return out + U32 * ulps * (1 - s) * out.abs() * noise(out)
            return out + U32 / math.sqrt(12) * out.abs() * noise(out)

        for m in self.model.modules():
            if next(m.children(), None) is None and not isinstance(m, exact):
                self.handles.append(m.register_forward_hook(forward))
        return self

    def __exit__(self, *exc):
        F = self.torch.nn.functional
        for name, fn in self.saved.items():
            setattr(F, name, fn)
        for h in self.handles:
            h.remove()
        self.handles.clear()


def sum_rounding(torch, gen):
    """The rounding of a sequential float32 sum over dim 1 of terms [N, K, ...] (the map kernel's
    channel sum): N(0,1) * u * sqrt(K / 24) * sqrt(sum_k term_k^2), as for a Conv2d output. Where the
    terms cancel (HiResCAM on a middle layer), this is most of what float32 costs the map."""
    def rounding(terms):
        k = terms.shape[1]
        size = U32 * math.sqrt(k / 24) * (terms * terms).sum(dim=1).sqrt()
        return size * torch.randn(size.shape, generator=gen, dtype=size.dtype)
    return rounding


def float32_model_runs(torch, model64, run, seed, runs=MODEL_RUNS):
    """run(model) -> dict of named float64 results; returns, per name, the list of `runs` results of
    the model evaluated under RoundingNoise (different noise each run), and under "decisions" the
    inputs of every recorded decision (DecisionRecorder) of each run."""
    out = {}
    for r in range(runs):
        with RoundingNoise(torch, model64, seed * 100 + r), DecisionRecorder(torch) as rec:
            res = run(model64)
        res["decisions"] = [d["x"].detach() for d in rec.records]
        for k, v in res.items():
            out.setdefault(k, []).append(v)
    return out


def decision_reach(torch, records, noisy_inputs):
    """Per recorded float64 decision: REACH_FACTOR x the largest deviation of its input over the
    rounding model's runs, relative to the input's per-image max |x| (one value per image)."""
    if any(len(run) != len(records) for run in noisy_inputs):
        raise RuntimeError("the rounding model's runs met other decisions than the float64 run")
    reach = []
    for i, r in enumerate(records):
        x = r["x"].detach()
        scale = _image_scale(torch, x)
        dev = torch.stack([((run[i] - x).abs() / scale).flatten(1).amax(1) for run in noisy_inputs]).amax(0)
        reach.append(REACH_FACTOR * dev)
    return reach


# ----------------------------------------------------------------------------
# 2. Decisions
# ----------------------------------------------------------------------------

class DecisionRecorder:
    """Context manager: wraps the functional ReLU, Hardtanh (ReLU6, Clip), Hardswish, Hardsigmoid and
    max-pool that torchvision modules call, and records each call whose input requires grad (i.e.
    lies downstream of the captured layer) with its input and output, in execution order."""

    NAMES = ("relu", "hardtanh", "relu6", "hardswish", "hardsigmoid", "max_pool2d")

    def __init__(self, torch):
        self.torch = torch
        self.records = []
        self.saved = {}
        self.marks = {}

    def __enter__(self):
        F = self.torch.nn.functional
        for name in self.NAMES:
            self.saved[name] = getattr(F, name)
        rec = self.records

        def wrap(kind, fn, params):
            def call(x, *args, **kwargs):
                kwargs.pop("inplace", None)
                if kind in ("relu", "hardswish", "hardsigmoid", "relu6"):
                    args = ()
                elif kind == "hardtanh":
                    args = args[:2]
                out = fn(x, *args, **kwargs)
                if isinstance(x, self.torch.Tensor) and x.requires_grad:
                    rec.append(dict(kind=kind, x=x, out=out, **params(args, kwargs)))
                return out
            return call

        def ht_params(args, kwargs):
            lo = args[0] if len(args) > 0 else kwargs.get("min_val", -1.0)
            hi = args[1] if len(args) > 1 else kwargs.get("max_val", 1.0)
            return dict(lo=float(lo), hi=float(hi))

        def pool_params(args, kwargs):
            names = ("kernel_size", "stride", "padding", "dilation", "ceil_mode", "return_indices")
            p = dict(zip(names, args))
            p.update({k: v for k, v in kwargs.items() if k in names})
            if p.get("return_indices"):
                raise RuntimeError("max_pool2d with return_indices is not analysed")
            return dict(pool=p)

        none = lambda args, kwargs: {}
        F.relu = wrap("relu", self.saved["relu"], none)
        F.relu6 = wrap("relu6", self.saved["relu6"], lambda a, k: dict(lo=0.0, hi=6.0))
        F.hardtanh = wrap("hardtanh", self.saved["hardtanh"], ht_params)
        F.hardswish = wrap("hardswish", self.saved["hardswish"], none)
        F.hardsigmoid = wrap("hardsigmoid", self.saved["hardsigmoid"], none)
        F.max_pool2d = wrap("max_pool2d", self.saved["max_pool2d"], pool_params)
        return self

    def __exit__(self, *exc):
        F = self.torch.nn.functional
        for name, fn in self.saved.items():
            setattr(F, name, fn)


def _pair(v):
    return tuple(v) if isinstance(v, (tuple, list)) else (v, v)


def _image_scale(torch, x):
    """Per-image max |x|, broadcastable to x."""
    s = x.detach().abs().flatten(1).amax(1)
    return s.view(-1, *([1] * (x.dim() - 1)))


def _pool_windows(torch, x, p):
    """The max-pool windows of x as [N, C, k*k, L] (padding and the ceil-mode overhang at -inf),
    with what is needed to fold a [N, C, k*k, L] tensor back onto x."""
    F = torch.nn.functional
    k, d = _pair(p["kernel_size"]), _pair(p.get("dilation", 1))
    s = _pair(p.get("stride") or p["kernel_size"])
    pad = _pair(p.get("padding", 0))
    N, C, H, W = x.shape
    out = p["out_hw"]
    need = [(out[i] - 1) * s[i] + d[i] * (k[i] - 1) + 1 for i in range(2)]
    extra = [max(0, need[i] - ((H, W)[i] + 2 * pad[i])) for i in range(2)]
    xp = F.pad(x.detach(), (pad[1], pad[1] + extra[1], pad[0], pad[0] + extra[0]), value=-math.inf)
    size = xp.shape[2:]
    cols = F.unfold(xp, k, dilation=d, stride=s).view(N, C, k[0] * k[1], -1)
    if cols.shape[-1] != out[0] * out[1]:
        raise RuntimeError("max-pool window count %d != output %s" % (cols.shape[-1], out))

    def fold(t):
        full = F.fold(t.reshape(N, C * k[0] * k[1], -1), size, k, dilation=d, stride=s)
        return full[:, :, pad[0]:pad[0] + H, pad[1]:pad[1] + W]
    return cols, fold


def _decision(torch, r, g_out):
    """(margin per unit, mask of units that receive gradient, flip(selected) -> change of the
    gradient at the decision's input when the selected units take the other branch)."""
    x = r["x"].detach()
    scale = _image_scale(torch, x)
    kind = r["kind"]
    if kind == "relu":
        live = g_out != 0
        def flip(sel):
            return torch.where(sel, torch.where(x > 0, -g_out, g_out), torch.zeros_like(x))
        return x.abs() / scale, live, flip
    if kind in ("hardtanh", "relu6"):
        lo, hi = r["lo"], r["hi"]
        inside = (x > lo) & (x < hi)
        def flip(sel):
            return torch.where(sel, torch.where(inside, -g_out, g_out), torch.zeros_like(x))
        return torch.minimum((x - lo).abs(), (x - hi).abs()) / scale, g_out != 0, flip
    if kind in ("hardswish", "hardsigmoid"):
        near_low = (x + 3).abs() <= (x - 3).abs()
        if kind == "hardswish":
            inner = (2 * x + 3) / 6  # the derivative inside (-3, 3)
            outer = torch.where(near_low, torch.zeros_like(x), torch.ones_like(x))
        else:
            inner = torch.full_like(x, 1.0 / 6)
            outer = torch.zeros_like(x)
        inside = (x > -3) & (x < 3)
        def flip(sel):
            return torch.where(sel, torch.where(inside, outer - inner, inner - outer) * g_out, torch.zeros_like(x))
        return torch.minimum((x + 3).abs(), (x - 3).abs()) / scale, g_out != 0, flip
    if kind == "max_pool2d":
        p = dict(r["pool"], out_hw=tuple(r["out"].shape[2:]))
        cols, fold = _pool_windows(torch, x, p)
        top = cols.topk(2, dim=2)
        gap = (top.values[:, :, 0] - top.values[:, :, 1]) / scale.view(-1, 1, 1)
        g = g_out.flatten(2)
        def flip(sel):
            t = torch.zeros_like(cols)
            t.scatter_(2, top.indices[:, :, 0:1], torch.where(sel, -g, torch.zeros_like(g)).unsqueeze(2))
            t.scatter_add_(2, top.indices[:, :, 1:2], torch.where(sel, g, torch.zeros_like(g)).unsqueeze(2))
            return fold(t)
        return gap, g != 0, flip
    raise RuntimeError("unknown decision %s" % kind)


def decision_analysis(torch, records, reach, y, layer, after_seq, maps):
    """Decision margins and kink effect for one explained layer.

    records: DecisionRecorder.records of the float64 forward that computed the scalar score y from
    layer (a tensor in the graph); reach: decision_reach() of the records; after_seq: index of the
    first record downstream of the layer.
    maps(dA) -> {method: (raw, norm)} computes the maps from a gradient at the layer.
    The kink effect is the sum, over the CLOSEST_DECISIONS live decisions nearest their kinks among
    those within reach, of the map change when that one decision takes the other branch: by the
    triangle inequality it bounds the change when any subset of them flips, and the decisions a
    float32 evaluation flips are the ones closest to their kinks. Returns a JSON-able dict."""
    recs = records[after_seq:]
    outs = [r["out"] for r in recs]
    grads = torch.autograd.grad(y, [layer] + outs, retain_graph=True, allow_unused=True)
    dA = grads[0]
    base = maps(dA)
    margins = {}
    within = 0
    candidates = []  # (margin, record index, flat unit index)
    flips = {}
    for i, (r, g) in enumerate(zip(recs, grads[1:])):
        if g is None:
            continue
        margin, live, flip = _decision(torch, r, g)
        live = live & (margin > 0)
        flips[i] = (r, margin.shape, flip)
        tau = reach[after_seq + i].view(-1, *([1] * (margin.dim() - 1)))
        live_margin = torch.where(live, margin, torch.full_like(margin, math.inf)).flatten()
        if not bool(live.any()):
            continue
        key = {"max_pool2d": "maxpool", "hardtanh": "clip", "relu6": "clip", "relu": "relu"}.get(r["kind"], "hard_kink")
        margins[key] = min(margins.get(key, math.inf), float(live_margin.min()))
        in_reach = torch.where(live & (margin < tau), margin, torch.full_like(margin, math.inf)).flatten()
        within += int(torch.isfinite(in_reach).sum())
        vals, idx = in_reach.topk(min(CLOSEST_DECISIONS, in_reach.numel()), largest=False)
        candidates += [(float(v), i, int(j)) for v, j in zip(vals, idx) if math.isfinite(v)]
    candidates.sort()
    closest = candidates[:CLOSEST_DECISIONS]
    effect = {m: {"raw": 0.0, "norm": 0.0} for m in base}
    for _, i, j in closest:
        r, shape, flip = flips[i]
        sel = torch.zeros(shape, dtype=torch.bool)
        sel.view(-1)[j] = True
        delta = torch.autograd.grad(r["x"], layer, grad_outputs=flip(sel), retain_graph=True)[0]
        for m, (raw, norm) in maps(dA + delta).items():
            effect[m]["raw"] += rel(raw, base[m][0])
            effect[m]["norm"] += max_abs(norm, base[m][1])
    return {
        "decision_margins": margins,
        "smallest_margin": min(margins.values()) if margins else None,
        "largest_reach": max((float(t.max()) for t in reach[after_seq:]), default=None),
        "decisions_within_reach": within,
        "closest_decisions": [{"margin": v, "kind": recs[i]["kind"], "call": after_seq + i} for v, i, _ in closest],
        "kink_effect": effect,
    }
