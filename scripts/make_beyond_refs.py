#!/usr/bin/env python3
"""Float64 references for explanations beyond 2-D classifiers (test/fixtures/beyond/<case>/).

Each case is a small net with seeded weights, exported by torch.onnx, and one explanation: a layer in a
layout (nchw over 1, 2 or 3 spatial axes, tokens with or without a class token, channels-last), a target
(class logit, softmax probability, binary logit, segmentation mask sum, cosine similarity, raw output
element) and the float64 autograd references: the target score per image, the layer's activations and
gradient in the layer's own layout, and the raw maps of Grad-CAM, LayerCAM and EigenCAM computed the way
pytorch-grad-cam does after its reshape_transform (tokens -> [N, C, h, w], class token dropped), resized
to the input with torch's interpolate (linear / bilinear / trilinear, align_corners=False).

Usage: /usr/bin/python3 scripts/make_beyond_refs.py   (writes every case; seconds)
       /usr/bin/python3 scripts/make_beyond_refs.py --torchvision DIR
           torchvision's vit_b_16, swin_t and r3d_18 with seeded weights (the missing ones; about two
           minutes and 600 MB), written to DIR (the tests' .cache/references/beyond): too large for git
"""
import argparse
import copy
import io
import sys
import warnings
import json
import math
import shutil
import zlib
from pathlib import Path

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_op_fixtures import eigen_projection  # noqa: E402  (pytorch-grad-cam's projection, any rank)

OUT = Path(__file__).resolve().parent.parent / "test" / "fixtures" / "beyond"
OPSET = 17  # LayerNormalization is exported as itself from opset 17


def seed_of(key):
    return zlib.crc32(key.encode()) & 0x7FFFFFFF


def init_weights(module, gen):
    """He-normal weights, small random biases, random LayerNorm affine: every seeded, nothing pretrained."""
    with torch.no_grad():
        for m in module.modules():
            if isinstance(m, (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.ConvTranspose2d, nn.Linear)):
                fan_in = m.weight[0].numel()
                m.weight.copy_(torch.randn(m.weight.shape, generator=gen) * math.sqrt(2.0 / fan_in))
                if m.bias is not None:
                    m.bias.copy_(torch.rand(m.bias.shape, generator=gen) * 0.2 - 0.1)
            elif isinstance(m, nn.LayerNorm):
                m.weight.copy_(torch.rand(m.weight.shape, generator=gen) * 0.8 + 0.6)
                m.bias.copy_(torch.rand(m.bias.shape, generator=gen) * 0.4 - 0.2)
        for name, p in module.named_parameters():
            if name.endswith(("cls", "pos")):
                p.copy_(torch.randn(p.shape, generator=gen) * 0.5)
    return module


# ------------------------------------------------------------------------------------------------
# the nets


class Attention(nn.Module):
    """Multi-head self-attention over [N, T, C] (real softmax attention, as ViT's)."""

    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        n, t, c = x.shape
        qkv = self.qkv(x).reshape(n, t, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        attention = (q @ k.transpose(-2, -1) * (c // self.heads) ** -0.5).softmax(-1)
        return self.proj((attention @ v).transpose(1, 2).reshape(n, t, c))


class Block(nn.Module):
    """A pre-norm transformer block: LayerNorm, attention, residual; LayerNorm, GELU MLP, residual."""

    def __init__(self, dim, heads):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attn = Attention(dim, heads)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, 2 * dim), nn.GELU(), nn.Linear(2 * dim, dim))

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class ViTLike(nn.Module):
    """ViT: 4x4 patches, a class token, learned positions, two blocks, the head on the class token.
    The layer is blocks[-1].norm1, as pytorch-grad-cam's ViT example takes (the last block's output
    reaches the head only through the class token)."""

    def __init__(self, grid, dim=16, classes=5):
        super().__init__()
        self.patch = nn.Conv2d(3, dim, 4, 4)
        self.cls = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos = nn.Parameter(torch.zeros(1, 1 + grid[0] * grid[1], dim))
        self.blocks = nn.Sequential(Block(dim, 2), Block(dim, 2))
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, classes)

    def forward(self, x):
        tokens = self.patch(x).flatten(2).transpose(1, 2)
        tokens = torch.cat([self.cls.expand(x.shape[0], -1, -1), tokens], 1) + self.pos
        return self.head(self.norm(self.blocks(tokens))[:, 0])


class SwinLike(nn.Module):
    """Swin's layout: patches kept as [N, H, W, C] (channels last), a block of attention over all tokens
    and a GELU MLP on that layout, a LayerNorm'd stage output, the head on the mean over positions."""

    def __init__(self, dim=12, classes=4):
        super().__init__()
        self.patch = nn.Conv2d(3, dim, 4, 4)
        self.block = Block(dim, 3)
        self.stage = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, classes)

    def forward(self, x):
        f = self.patch(x).permute(0, 2, 3, 1)
        n, h, w, c = f.shape
        f = self.block(f.reshape(n, h * w, c)).reshape(n, h, w, c)
        return self.head(self.stage(f).mean((1, 2)))


class SegNet(nn.Module):
    """Encoder (two stride-2 convs), a ConvTranspose decoder to half size, bilinear Resize to the input."""

    def __init__(self, classes=3):
        super().__init__()
        self.enc1 = nn.Sequential(nn.Conv2d(3, 8, 3, 2, 1), nn.ReLU())
        self.enc2 = nn.Sequential(nn.Conv2d(8, 12, 3, 2, 1), nn.ReLU())
        self.dec = nn.Sequential(nn.ConvTranspose2d(12, 8, 2, 2), nn.ReLU())
        self.cls = nn.Conv2d(8, classes, 1)

    def forward(self, x):
        y = self.cls(self.dec(self.enc2(self.enc1(x))))
        return F.interpolate(y, size=x.shape[-2:], mode="bilinear", align_corners=False)


class SmallCnn(nn.Module):
    """Two convs and a global-average-pooled dense head of `outputs` values (1: a binary logit; an
    embedding otherwise)."""

    def __init__(self, outputs):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(3, 8, 3, 2, 1), nn.ReLU(), nn.Conv2d(8, 10, 3, 1, 1), nn.ReLU())
        self.head = nn.Linear(10, outputs)

    def forward(self, x):
        return self.head(self.features(x).mean((2, 3)))


class CnnNd(nn.Module):
    """A 1-D CNN over a 2-channel signal or a 3-D CNN over a one-channel volume: two convs, global
    average pooling, a dense head."""

    def __init__(self, dims, classes):
        super().__init__()
        conv = {1: nn.Conv1d, 3: nn.Conv3d}[dims]
        first, mid, last = (2, 8, 12) if dims == 1 else (1, 6, 8)
        kernel = 5 if dims == 1 else 3
        second_stride = 2 if dims == 1 else 1
        self.features = nn.Sequential(conv(first, mid, kernel, 2, kernel // 2), nn.ReLU(), conv(mid, last, 3, second_stride, 1), nn.ReLU())
        self.head = nn.Linear(last, classes)

    def forward(self, x):
        return self.head(self.features(x).mean(tuple(range(2, x.dim()))))


# ------------------------------------------------------------------------------------------------
# targets: the score per image whose gradient seeds the backward pass


def target_scores(kind, y, classes, extra):
    n = y.shape[0]
    rows = torch.arange(n)
    index = torch.tensor(classes)
    if kind == "class":
        return y[rows, index]
    if kind == "softmax":
        return y.softmax(-1)[rows, index]
    if kind == "binary":
        sign = torch.tensor([1.0 if c == 1 else -1.0 for c in classes], dtype=y.dtype)
        return sign * y[:, 0]
    if kind == "segmentation":
        mask = extra["mask"]  # [N, H, W] 0/1
        return (y[rows, index] * mask).flatten(1).sum(1)
    if kind == "similarity":
        v = extra["concept"]
        return F.cosine_similarity(y, v[None].expand_as(y), dim=1, eps=0.0)
    if kind == "raw":
        return y.flatten(1)[:, extra["index"]]
    if kind == "detection":
        version = 5 if extra["format"] == "yolov5" else 8
        with torch.no_grad():
            selected, _, _, _ = detection_selection(y, version, extra["box"], classes)
        _, obj, cls, _ = detection_selection(y, version, extra["box"], classes)
        return (selected * obj * cls).sum(1)
    raise ValueError(kind)


def to_channels_first(a, layout, grid):
    """pytorch-grad-cam's reshape_transform: the layer as [N, C, spatial...]."""
    if layout == "nchw":
        return a
    if layout == "channels-last":
        return a.permute(0, a.dim() - 1, *range(1, a.dim() - 1))
    h, w = grid
    tokens = a[:, a.shape[1] - h * w:, :]  # a leading class token dropped
    return tokens.reshape(a.shape[0], h, w, a.shape[2]).permute(0, 3, 1, 2)


def resize(coarse, size):
    mode = {1: "linear", 2: "bilinear", 3: "trilinear"}[len(size)]
    return F.interpolate(coarse[:, None], size=tuple(size), mode=mode, align_corners=False)[:, 0]


def maps_of(a, g, layout, grid, size):
    A = to_channels_first(a, layout, grid)
    G = to_channels_first(g, layout, grid)
    axes = tuple(range(2, A.dim()))
    alpha = G.mean(axes, keepdim=True)
    return {
        "gradcam": resize(torch.relu((alpha * A).sum(1)), size),
        "layercam": resize(torch.relu(G).mul(A).sum(1).relu(), size),
        "eigencam": resize(eigen_projection(A)[0], size),
    }


def perturbation_maps(m64, module, x64, a, layout, grid, classes, size, score_cam):
    """Ablation-CAM (channel k zeroed in the layer's own layout, class tokens included, as pytorch-grad-cam's
    ViT ablation does; weights (y - y_k) / y) and, for 1-D and 2-D inputs, Score-CAM (each channel of the
    reshaped layer upsampled with aligned corners, min-max normalised with 1e-8, multiplied into the input;
    weights: the softmax over channels of the masked inputs' class scores)."""
    rows = torch.arange(x64.shape[0])
    index = torch.tensor(classes)

    def scores_with(x, replace=None):
        hook = module.register_forward_hook(lambda mod, inp, out: replace(out) if replace else None)
        try:
            with torch.no_grad():
                return m64(x)[rows, index]
        finally:
            hook.remove()

    A = to_channels_first(a, layout, grid)
    channels = A.shape[1]
    y = scores_with(x64)
    ablated = []
    for k in range(channels):
        def zero(out, k=k):
            out = out.clone()
            if layout == "nchw":
                out[:, k] = 0
            else:
                out[..., k] = 0
            return out
        ablated.append(scores_with(x64, zero))
    weights = (y[:, None] - torch.stack(ablated, 1)) / y[:, None]
    shape = (-1, channels) + (1,) * (A.dim() - 2)
    maps = {"ablationcam": resize(torch.relu((weights.reshape(shape) * A).sum(1)), size)}
    if score_cam:
        mode = {1: "linear", 2: "bilinear"}[len(size)]
        up = F.interpolate(A, size=tuple(size), mode=mode, align_corners=True)
        flat = up.flatten(2)
        lo = flat.min(-1)[0].reshape(shape[:2] + (1,) * len(size))
        hi = flat.max(-1)[0].reshape(shape[:2] + (1,) * len(size))
        masks = (up - lo) / (hi - lo + 1e-8)
        scores = torch.stack([scores_with(x64 * masks[:, k:k + 1]) for k in range(channels)], 1)
        maps["scorecam"] = resize(torch.relu((scores.softmax(1).reshape(shape) * A).sum(1)), size)
    return maps


def export(net, x, path):
    buf = io.BytesIO()
    # A dynamic batch, as exports meant for serving have: the page and the perturbed batches run other
    # batch sizes than the fixture's two images. Not under no_grad: there torch's fused attention
    # (aten::_native_multi_head_attention) takes over, which has no ONNX export.
    torch.onnx.export(net, (torch.from_numpy(x),), buf, opset_version=OPSET, input_names=["x0"], output_names=["y"],
                      dynamic_axes={"x0": {0: "batch"}, "y": {0: "batch"}})
    model = onnx.load_from_string(buf.getvalue())
    onnx.checker.check_model(model)
    path.write_bytes(model.SerializeToString())
    return model


def scope_output(model, scope):
    """The output of the last ONNX node exported from module `scope` (torch names nodes /scope/...)."""
    nodes = [n for n in model.graph.node if n.name.startswith(f"/{scope}/")]
    assert nodes, (scope, [n.name for n in model.graph.node][:30])
    return nodes[-1].output[0]


def torch_scope(path):
    """torch.onnx's node prefix of a module path: blocks.1.norm1 -> blocks/blocks.1/norm1."""
    parts = path.split(".")
    out = []
    for i, p in enumerate(parts):
        if p.isdigit():
            out[-1] = f"{out[-1]}/{'.'.join(parts[:i + 1])}"
            continue
        out.append(p)
    return "/".join(out)


def new_folder(d, net, x):
    """A fresh fixture folder with the net's export and its input; returns the ONNX model and the net in float64."""
    if d.exists():
        shutil.rmtree(d)
    d.mkdir(parents=True)
    model = export(net, x, d / "model.onnx")
    np.save(d / "x0.npy", x)
    return model, copy.deepcopy(net).double().eval()


def case(name, net, x, scope, layout, target, classes, grid=None, extra=None, files=None, perturbations=False, guided=False,
         out=None, float32_error=False):
    """One fixture folder. guided: the net has no Relu, so guided back-propagation is the plain gradient
    at the input, written as guided-backprop_raw.npy."""
    d = (out or OUT) / name
    model, m64 = new_folder(d, net, x)
    acts = {}
    module = m64.get_submodule(scope)
    hook = module.register_forward_hook(lambda mod, inp, out: acts.__setitem__("a", out))
    x64 = torch.from_numpy(x).double().requires_grad_(guided)
    y = m64(x64)
    hook.remove()
    a = acts["a"]
    a.retain_grad()
    extra64 = {k: (torch.from_numpy(v).double() if isinstance(v, np.ndarray) and k != "box" else v) for k, v in (extra or {}).items()}
    scores = target_scores(target, y, classes, extra64)
    scores.sum().backward()
    g = a.grad
    size = x.shape[2:]
    maps = maps_of(a.detach(), g, layout, grid, size)
    if guided:
        maps["guided-backprop"] = x64.grad.detach()
        x64 = x64.detach()
    if perturbations:
        maps.update(perturbation_maps(m64, module, x64, a.detach(), layout, grid, classes, size, len(size) < 3))
    for method, m in maps.items():
        assert all(float(r.max()) > 0 for r in m), (name, method, "map all zero for an image")
        np.save(d / f"{method}_raw.npy", m.detach().numpy())
    np.save(d / "activation.npy", a.detach().numpy())
    np.save(d / "grad.npy", g.numpy())
    np.save(d / "scores.npy", scores.detach().numpy())
    for file, value in (files or {}).items():
        np.save(d / file, value)
    errors = {}
    if float32_error:
        # How far PyTorch's own float32 lands from these references: the scale of a float32 engine's error.
        m32 = copy.deepcopy(net).float().eval()
        held = {}
        hook = m32.get_submodule(scope).register_forward_hook(lambda mod, inp, out: held.__setitem__("a", out))
        y32 = m32(torch.from_numpy(x))
        hook.remove()
        held["a"].retain_grad()
        target_scores(target, y32, classes, {k: (v.float() if torch.is_tensor(v) else v) for k, v in extra64.items()}).sum().backward()
        maps32 = maps_of(held["a"].detach().double(), held["a"].grad.double(), layout, grid, size)
        errors = {m: float((maps32[m] - maps[m]).abs().max() / maps[m].abs().max()) for m in maps32}
    meta = {
        "case": name, "layer": scope_output(model, torch_scope(scope)), "module": scope, "layout": layout,
        "target": target, "classes": classes, "grid": grid, "input_shape": list(x.shape),
        "output_shape": list(y.shape), "activation_shape": list(a.shape),
        # what the engine is given besides the layer, layout and classes: the target's mask, concept or index
        "mask": "mask.npy" if "mask.npy" in (files or {}) else None,
        "concept": "concept.npy" if "concept.npy" in (files or {}) else None,
        "index": (extra or {}).get("index"),
        "box": "box.npy" if "box.npy" in (files or {}) else None,
        "format": (extra or {}).get("format"),
        "methods": sorted(maps),
        "torch_float32_rel_err": errors,
    }
    (d / "meta.json").write_text(json.dumps(meta, indent=1) + "\n")
    print(f"{name}: layer {meta['layer']} {list(a.shape)} {layout} target {target} scores {scores.detach().numpy()}")


def randomize(module, gen):
    """torchvision's initialisation leaves heads at zero and norms at the identity: draw every norm's
    affine and statistics, every bias and every zero-initialised weight from the seeded generator, so
    that scores and gradients are not degenerate."""
    with torch.no_grad():
        for name, p in module.named_parameters():
            if p.dim() == 1 or float(p.abs().max()) == 0:
                if "norm" in name or name.split(".")[-2:-1] in (["ln"], ["ln_1"], ["ln_2"], ["bn1"], ["bn2"]):
                    p.copy_(torch.rand(p.shape, generator=gen) * 0.8 + 0.6 if name.endswith("weight") else torch.rand(p.shape, generator=gen) * 0.4 - 0.2)
                elif p.dim() == 1:
                    p.copy_(torch.rand(p.shape, generator=gen) * 0.2 - 0.1)
                else:
                    p.copy_(torch.randn(p.shape, generator=gen) * math.sqrt(2.0 / p[0].numel()))
        for m in module.modules():
            if isinstance(m, (nn.BatchNorm2d, nn.BatchNorm3d)):
                m.weight.copy_(torch.rand(m.num_features, generator=gen) * 0.8 + 0.6)
                m.running_mean.copy_(torch.rand(m.num_features, generator=gen) * 0.4 - 0.2)
                m.running_var.copy_(torch.rand(m.num_features, generator=gen) * 1.0 + 0.5)
    return module


def refine_case(name, net, x, scopes, classes):
    """RefineCAM (pytorch-grad-cam's refine_cam.py with its default base, Grad-CAM++): each layer's map
    normalized per image, multiplied across the layers; the engine's normalization, (m - min) / (max -
    min) without pytorch-grad-cam's 1e-7, on both sides. refinecam_raw.npy is the product."""
    d = OUT / name
    model, m64 = new_folder(d, net, x)
    acts = {}
    hooks = [m64.get_submodule(s).register_forward_hook(lambda mod, inp, out, s=s: acts.__setitem__(s, out)) for s in scopes]
    x64 = torch.from_numpy(x).double()
    y = m64(x64)
    for h in hooks:
        h.remove()
    for a in acts.values():
        a.retain_grad()
    y[torch.arange(len(classes)), torch.tensor(classes)].sum().backward()
    product = None
    for s in scopes:
        a, g = acts[s].detach(), acts[s].grad
        axes = tuple(range(2, a.dim()))
        sum_a = a.sum(axes, keepdim=True)
        ratio = torch.where(g != 0, g ** 2 / (2 * g ** 2 + sum_a * g ** 3 + 1e-6), torch.zeros_like(g))
        alpha = (torch.relu(g) * ratio).sum(axes, keepdim=True)
        m = resize(torch.relu((alpha * a).sum(1)), x.shape[2:])
        flat = m.flatten(1)
        lo, hi = flat.min(1)[0], flat.max(1)[0]
        m = (m - lo[:, None, None]) / (hi - lo)[:, None, None]
        product = m if product is None else product * m
    np.save(d / "refinecam_raw.npy", product.numpy())
    meta = {"case": name, "layers": [scope_output(model, torch_scope(s)) for s in scopes], "classes": classes,
            "input_shape": list(x.shape), "method": "refinecam"}
    (d / "meta.json").write_text(json.dumps(meta, indent=1) + "\n")
    print(f"{name}: RefineCAM over {meta['layers']}")


def torchvision_cases(out):
    """vit_b_16 (tokens, class token, 14x14), swin_t (channels-last), r3d_18 (3-D): the default layers of
    each layout, pytorch-grad-cam's recipes' layers."""
    import torchvision
    specs = {
        "vit_b_16": (lambda: torchvision.models.vit_b_16(), (1, 3, 224, 224), "encoder.layers.encoder_layer_11.ln_1", "tokens", "class", [14, 14]),
        "swin_t": (lambda: torchvision.models.swin_t(), (1, 3, 224, 224), "features.7.1.norm1", "channels-last", "softmax", None),
        # layer4 of a 16x32x32 clip, [512, 2, 2, 2]: nothing but pooling and the head lies between it and
        # the score, so no ReLU decision can move its map (layer3's rest on layer4's ReLUs).
        "r3d_18": (lambda: torchvision.models.video.r3d_18(), (1, 3, 16, 32, 32), "layer4", "nchw", "class", None),
    }
    for name, (make, shape, scope, layout, target, grid) in specs.items():
        meta = out / name / "meta.json"
        # A case is made again when its input shape or layer changed since it was cached.
        if meta.exists() and json.loads(meta.read_text()).get("input_shape") == list(shape) and scope in json.loads(meta.read_text()).get("module", ""):
            continue
        s = seed_of(f"torchvision/{name}")
        gen = torch.Generator().manual_seed(s)
        torch.manual_seed(s)
        net = randomize(make().eval(), gen)
        x = np.random.default_rng(s).standard_normal(shape).astype(np.float32)
        with torch.no_grad():
            logits = copy.deepcopy(net).double()(torch.from_numpy(x).double())
        classes = [int(logits.argmax(1)[0])]
        case(name, net, x, scope, layout, target, classes, grid=grid, out=out, float32_error=True)


def main():
    warnings.filterwarnings("ignore")  # torch.onnx's notes on shape inference
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--torchvision", metavar="DIR", help="write torchvision's cases (the missing ones) to DIR")
    args = parser.parse_args()
    if args.torchvision:
        torchvision_cases(Path(args.torchvision))
        return
    def rng_gen(key):
        s = seed_of(key)
        return np.random.default_rng(s), torch.Generator().manual_seed(s)

    def image(rng, *shape):
        return rng.standard_normal(shape).astype(np.float32)

    rng, gen = rng_gen("vit")
    vit = init_weights(ViTLike((8, 6)), gen).eval()
    x = image(rng, 2, 3, 32, 24)
    case("vit_tokens_class", vit, x, "blocks.1.norm1", "tokens", "class", [1, 3], grid=[8, 6], perturbations=True, guided=True)
    case("vit_tokens_softmax", vit, x, "blocks.1.norm1", "tokens", "softmax", [2, 2], grid=[8, 6])

    rng, gen = rng_gen("swin")
    swin = init_weights(SwinLike(), gen).eval()
    x = image(rng, 2, 3, 20, 28)
    case("swin_channels_last", swin, x, "stage", "channels-last", "class", [0, 3], perturbations=True)
    case("swin_tokens_no_class_token", swin, x, "block", "tokens", "class", [2, 1], grid=[5, 7])

    rng, gen = rng_gen("seg")
    seg = init_weights(SegNet(), gen).eval()
    x = image(rng, 2, 3, 24, 20)
    with torch.no_grad():
        y = copy.deepcopy(seg).double()(torch.from_numpy(x).double())
    classes = [1, 2]
    argmax = (y.argmax(1) == torch.tensor(classes)[:, None, None]).double().numpy()
    case("seg_argmax_mask", seg, x, "enc2", "nchw", "segmentation", classes, extra={"mask": argmax})
    given = np.zeros((2, 24, 20), np.float64)
    given[:, 4:14, 6:17] = 1
    case("seg_given_mask", seg, x, "enc2", "nchw", "segmentation", classes, extra={"mask": given},
         files={"mask.npy": given.astype(np.float32)})

    rng, gen = rng_gen("embed")
    embed = init_weights(SmallCnn(8), gen).eval()
    x = image(rng, 2, 3, 16, 18)
    concept = rng.standard_normal(8).astype(np.float32)
    case("embed_similarity", embed, x, "features", "nchw", "similarity", [0, 0], extra={"concept": concept},
         files={"concept.npy": concept})
    case("embed_raw_index", embed, x, "features", "nchw", "raw", [5, 5], extra={"index": 5})

    rng, gen = rng_gen("binary")
    binary = init_weights(SmallCnn(1), gen).eval()
    x = image(rng, 2, 3, 16, 18)
    case("binary_head", binary, x, "features", "nchw", "binary", [1, 0])

    for version, classes in ((5, [1, 1]), (8, [-1, -1])):
        rng, gen = rng_gen(f"yolov{version}")
        size = (32, 40)
        net = init_weights(YoloLike(version, size), gen).eval()
        x = image(rng, 2, 3, *size)
        with torch.no_grad():
            y = copy.deepcopy(net).double()(torch.from_numpy(x).double())
        d = detections(y, version)
        # The box: each image's strongest prediction's box, a little shifted, so that a few overlap it.
        strength = d[..., 4] * d[..., 5:].max(-1)[0] if version == 5 else d[..., 4:].max(-1)[0]
        top = strength.argmax(1)
        boxes = []
        for i in range(2):
            cx, cy, w, h = (float(v) for v in d[i, top[i], :4])
            boxes.append([cx - w / 2 + 0.6, cy - h / 2 - 0.4, cx + w / 2 + 0.3, cy + h / 2 + 0.5])
        boxes = np.array(boxes, np.float32)
        if version == 5:
            first = 5
            classes = [int(d[i, top[i], first:].argmax()) for i in range(2)]
        selected, _, _, margin = detection_selection(y, version, boxes, classes)
        assert margin > 1e-3, ("an IoU or a class choice within 1e-3 of its threshold", margin)
        print(f"yolov{version}: predictions selected per image {[int(s.sum()) for s in selected]}, decision margin {margin:.3g}")
        assert all(int(s.sum()) >= 1 for s in selected), "a box that selects no prediction"
        fmt = f"yolov{version}"
        case(f"detector_{fmt}", net, x, "neck", "nchw", "detection", classes,
             extra={"box": boxes, "format": fmt}, files={"box.npy": boxes}, guided=True)

    rng, gen = rng_gen("refine")
    refine_case("refine_two_layers", init_weights(SmallCnn(4), gen).eval(), image(rng, 2, 3, 16, 18), ["features.1", "features.3"], [2, 0])

    rng, gen = rng_gen("cnn1d")
    x = image(rng, 2, 2, 64)
    case("cnn1d_signal", init_weights(CnnNd(1, 4), gen).eval(), x, "features", "nchw", "class", [3, 0], perturbations=True)

    rng, gen = rng_gen("cnn3d")
    x = image(rng, 2, 1, 8, 12, 10)
    case("cnn3d_volume", init_weights(CnnNd(3, 3), gen).eval(), x, "features", "nchw", "class", [2, 1], perturbations=True)


if __name__ == "__main__":
    main()
