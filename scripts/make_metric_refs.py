#!/usr/bin/python3
"""Float64 references of the faithfulness and localization metrics (test/evaluate.test.ts).

Writes test/fixtures/metrics/: a small seeded CNN (model.onnx), images and maps, and per configuration
the exact perturbation sequence's class probabilities, the curves' areas, Average Drop / Increase in
Confidence, the pointing game and the Grad-CAM paper's box localization. Each metric is written here
from its paper's definition, independently of the engine:

- deletion / insertion (Petsiuk et al. 2018, RISE): pixels in decreasing order of the map (ties: lower
  index first), `step` = ceil(H*W / steps) pixels per step, point i has min(i*step, H*W) pixels
  replaced in every channel; deletion replaces the image's pixels by the baseline, insertion puts them
  into the baseline; the class probability (softmax) at every point; area = trapezoid over [0, 1].
- baselines on the model's input: zeros, each channel's mean, RISE's blur (gkern(11, 5): the normal
  density at -5..5, outer product, sum 1; conv2d with zero padding 5).
- Average Drop % = 100 mean(max(0, Y - O) / Y), Increase in Confidence % = 100 mean(O > Y) (Chattopadhay
  et al. 2018), O for the image times the map min-max normalized per image.
- pointing game (Zhang et al. 2016): the first maximum within the tolerance (Euclidean; the paper's
  15 pixels, 2 on these small images) of a box.
- localization (Selvaraju et al. 2017): pixels >= 15% of the map's max, largest 8-connected component
  (union-find here), its bounding box, IoU with the best ground-truth box.
- ROAD (Rong et al. 2022): for p = 10, 20, .., 90 percent, floor(H*W p / 100 + 0.5) pixels removed, the
  most relevant first (MoRF) or the least relevant first (LeRF); each removed pixel is the weighted mean
  of its 8 in-image neighbours (1/6 sides, 1/12 corners, normalized by the weights inside), solved as
  one dense linear system here (numpy), plus noise * N(0, 1) drawn by shaders/random.wgsl's generator
  (stream h(n ^ h(pixels ^ h(kind))), kind 3 MoRF / 4 LeRF, draw c * H * W + p).
- ARCC (pytorch-grad-cam's metrics/arcc.py) of Grad-CAM's maps, arcc/reference.json: see write_arcc.
- sanity checks (Adebayo et al. 2018), sanity.json: Spearman's rank correlation (average ranks for ties,
  Pearson's correlation of the ranks, 0 for a constant map) and SSIM (Wang et al. 2004: maps min-max
  normalized, an 11x11 Gaussian window of sigma 1.5 truncated to the map where it is smaller, K1 0.01,
  K2 0.03, the mean over the positions where the window fits, by 'valid' separable filtering here).
Maps shaped [N, C, H, W] (gradients at the input) become max over channels of |g|.

Deterministic: re-running rewrites identical files.  /usr/bin/python3 scripts/make_metric_refs.py
"""
import copy
import io
import json
import math
from pathlib import Path

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F

from counter_random import normal_draw, pcg_hash

OUT = Path(__file__).resolve().parent.parent / "test" / "fixtures" / "metrics"
N, C, H, W = 3, 3, 12, 10
CLASSES = 5
STEPS = 7
CONFIGS = {
    "rise": {"deletion": "zeros", "insertion": "blur"},
    "other": {"deletion": "blur", "insertion": "mean"},
}
BOXES = [[[2, 3, 7, 9]], [[0, 0, 4, 4], [6, 8, 10, 12]], [[5, 1, 6, 2]]]
# The pointing game's tolerance: the papers' 15 pixels would cover these 12x10 images.
TOLERANCE = 2


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(C, 8, 3, padding=1)
        self.c2 = nn.Conv2d(8, 8, 3, stride=2, padding=1)
        self.fc = nn.Linear(8, CLASSES)

    def forward(self, x):
        x = F.relu(self.c1(x))
        x = F.relu(self.c2(x))
        return self.fc(x.mean(dim=(2, 3)))


def make_net():
    torch.manual_seed(12)
    net = Net()
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(torch.randn(p.shape) * (0.6 if p.dim() > 1 else 0.3))
    return net.eval()


def blur(x):
    t = np.linspace(-5, 5, 11)
    g = np.exp(-t * t / 2) / math.sqrt(2 * math.pi)
    k = np.outer(g, g)
    k = torch.from_numpy(k / k.sum())
    weight = k.expand(x.shape[1], 1, 11, 11).contiguous()
    return F.conv2d(x, weight, padding=5, groups=x.shape[1])


def baseline(x, kind):
    if kind == "zeros":
        return torch.zeros_like(x)
    if kind == "mean":
        return x.mean(dim=(2, 3), keepdim=True).expand_as(x).clone()
    return blur(x)


def pixel_map(m):
    return np.abs(m).max(axis=1) if m.ndim == 4 else m


FLOAT32 = {"net": None, "error": 0.0}


def probability(net, x, c):
    """The float64 probability; the same in float32 torch is recorded as the float32 error to expect."""
    with torch.no_grad():
        p64 = torch.softmax(net(x), dim=1)[:, c]
        p32 = torch.softmax(FLOAT32["net"](x.float()), dim=1)[:, c]
    FLOAT32["error"] = max(FLOAT32["error"], float((p32.double() - p64).abs().max()))
    return p64


def curve(net, image, base, order, c, insertion):
    plane = H * W
    step = math.ceil(plane / STEPS)
    points = math.ceil(plane / step)
    start, finish = (base, image) if insertion else (image, base)
    pixels, copies = [], []
    for i in range(points + 1):
        k = min(i * step, plane)
        mask = torch.zeros(plane, dtype=torch.bool)
        mask[torch.from_numpy(order[:k].copy())] = True
        mask = mask.reshape(1, 1, H, W)
        copies.append(torch.where(mask, finish, start))
        pixels.append(k)
    probs = probability(net, torch.cat(copies), c).numpy()
    area = (probs.sum() - probs[0] / 2 - probs[-1] / 2) / (len(probs) - 1)
    return pixels, probs, area


def components(binary):
    """Union-find over 8-neighbours; returns the bounding box (exclusive ends) of the largest set."""
    parent = list(range(binary.size))

    def find(a):
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    h, w = binary.shape
    for y in range(h):
        for x in range(w):
            if not binary[y, x]:
                continue
            for dy, dx in ((0, -1), (-1, -1), (-1, 0), (-1, 1)):
                yy, xx = y + dy, x + dx
                if 0 <= yy < h and 0 <= xx < w and binary[yy, xx]:
                    parent[find(y * w + x)] = find(yy * w + xx)
    sizes = {}
    for p in np.flatnonzero(binary.reshape(-1)):
        r = find(int(p))
        sizes.setdefault(r, []).append(int(p))
    if not sizes:
        return None
    # The largest set; of equal sizes the one whose first pixel comes first.
    best = max(sizes.values(), key=lambda s: (len(s), -min(s)))
    ys, xs = np.array(best) // w, np.array(best) % w
    return [int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1]


def iou(a, b):
    iw = max(0, min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = iw * ih
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def localization(m, boxes, tolerance):
    flat = m.reshape(-1)
    best = int(np.argmax(flat))
    y, x = divmod(best, W)
    hit = any(math.hypot(max(b[0] - x, 0, x - (b[2] - 1)), max(b[1] - y, 0, y - (b[3] - 1))) <= tolerance for b in boxes)
    found = components(m >= 0.15 * m.max()) if m.max() > 0 else None
    overlap = max(iou(found, b) for b in boxes) if found else 0.0
    return hit, overlap


ROAD_PERCENTILES = [10, 20, 30, 40, 50, 60, 70, 80, 90]
ROAD_NOISE = 0.01
ROAD_SEED = 5


def impute(image, removed, n, pixels, kind):
    """image [C, H, W] float64, removed [H*W] bool: ROAD's noisy linear imputation, a dense solve."""
    c, h, w = image.shape
    unknown = np.flatnonzero(removed)
    index = {int(p): i for i, p in enumerate(unknown)}
    a = np.zeros((len(unknown), len(unknown)))
    b = np.zeros((len(unknown), c))
    flat = image.reshape(c, -1)
    for i, p in enumerate(unknown):
        y, x = divmod(int(p), w)
        for dy in (-1, 0, 1):
            for dx in (-1, 0, 1):
                yy, xx = y + dy, x + dx
                if (dy, dx) == (0, 0) or not (0 <= yy < h and 0 <= xx < w):
                    continue
                weight = 1 / 6 if dy == 0 or dx == 0 else 1 / 12
                a[i, i] += weight
                q = yy * w + xx
                if removed[q]:
                    a[i, index[q]] -= weight
                else:
                    b[i] += weight * flat[:, q]
    out = flat.copy()
    if len(unknown):
        out[:, unknown] = np.linalg.solve(a, b).T
    stream = pcg_hash(n ^ pcg_hash(pixels ^ pcg_hash(kind)))
    for ch in range(c):
        for p in unknown:
            out[ch, p] += ROAD_NOISE * normal_draw(ROAD_SEED, stream, ch * h * w + int(p))
    return out.reshape(c, h, w)


def road(net, images64, pm, classes, percentiles=ROAD_PERCENTILES):
    n_images, _, h, w = images64.shape
    plane = h * w
    pixels = [math.floor(plane * f / 100 + 0.5) for f in percentiles]
    result = {"pixels": pixels, "noise": ROAD_NOISE, "seed": ROAD_SEED, "morf": [], "lerf": []}
    for n in range(n_images):
        order = np.argsort(-pm[n].reshape(-1), kind="stable")
        rank = np.empty(plane, dtype=int)
        rank[order] = np.arange(plane)
        for name, kind in (("morf", 3), ("lerf", 4)):
            copies = []
            for k in pixels:
                removed = rank < k if kind == 3 else rank >= plane - k
                copies.append(torch.from_numpy(impute(images64[n], removed, n, k, kind)))
            result[name].append(probability(net, torch.stack(copies), classes[n]).tolist())
    return result


ARCC_ROAD_PERCENTILES = [20, 40, 60, 80]


def gradcam_raw(net, x, classes):
    """Grad-CAM of Net at its second ReLU (the engine's default layer), float64 autograd: the class logit's
    gradient averaged over positions weighs the channels, ReLU, bilinear resize (half-pixel centres)."""
    x = x.clone()
    a = F.relu(net.c2(F.relu(net.c1(x))))
    a.retain_grad()
    logits = net.fc(a.mean(dim=(2, 3)))
    logits[torch.arange(len(classes)), torch.tensor(classes)].sum().backward()
    cam = torch.relu((a.grad.mean(dim=(2, 3), keepdim=True) * a).sum(1))
    return F.interpolate(cam[:, None], size=tuple(x.shape[2:]), mode="bilinear", align_corners=False)[:, 0].detach()


def minmax(m):
    flat = m.flatten(1)
    lo, hi = flat.min(1)[0][:, None, None], flat.max(1)[0][:, None, None]
    return (m - lo) / (hi - lo)


def write_arcc(net, images, classes):
    """ARCC (pytorch-grad-cam's metrics/arcc.py) of Grad-CAM's maps, per image: Complexity = the mean of
    the min-max normalized map; Coherency = (rho + 1) / 2, rho Pearson's correlation (n - 1, 1e-8 added to
    the deviations' product) of that map and the normalized Grad-CAM map of the image times it, for the same
    class; ROAD = (mean LeRF - mean MoRF) / 2 over 20, 40, 60, 80%, ranked by the map; ARCC = 3 / (1 /
    (Coherency + 1e-8) + 1 / (1 - Complexity + 1e-8) + 1 / (clip(2 ROAD, 0, 1) + 1e-8))."""
    x = torch.from_numpy(images.astype(np.float64))
    raw = gradcam_raw(net, x, classes)
    normalized = minmax(raw)
    again = minmax(gradcam_raw(net, x * normalized[:, None], classes))
    result = {"classes": classes, "noise": ROAD_NOISE, "seed": ROAD_SEED, "coherency": [], "complexity": [], "road": [], "arcc": []}
    rows = road(net, images.astype(np.float64), raw.numpy(), classes, ARCC_ROAD_PERCENTILES)
    for n in range(len(classes)):
        a, b = again[n].flatten().numpy(), normalized[n].flatten().numpy()
        ac, bc = a - a.mean(), b - b.mean()
        dof = len(a) - 1
        rho = (ac * bc).sum() / dof / (math.sqrt((ac ** 2).sum() / dof) * math.sqrt((bc ** 2).sum() / dof) + 1e-8)
        coherency = (rho + 1) / 2
        complexity = float(normalized[n].mean())
        combined = (np.mean(rows["lerf"][n]) - np.mean(rows["morf"][n])) / 2
        scaled = min(max(2 * combined, 0.0), 1.0)
        arcc = 3 / (1 / (coherency + 1e-8) + 1 / (1 - complexity + 1e-8) + 1 / (scaled + 1e-8))
        for key, value in (("coherency", coherency), ("complexity", complexity), ("road", combined), ("arcc", arcc)):
            result[key].append(float(value))
    d = OUT / "arcc"
    d.mkdir(parents=True, exist_ok=True)
    (d / "reference.json").write_text(json.dumps(result, indent=1) + "\n")


def average_ranks(v):
    order = np.argsort(v, kind="stable")
    ranks = np.empty(len(v))
    sorted_v = v[order]
    i = 0
    while i < len(v):
        j = i
        while j + 1 < len(v) and sorted_v[j + 1] == sorted_v[i]:
            j += 1
        ranks[order[i : j + 1]] = (i + j) / 2 + 1
        i = j + 1
    return ranks


def spearman(a, b):
    ra, rb = average_ranks(a.reshape(-1)), average_ranks(b.reshape(-1))
    ra, rb = ra - ra.mean(), rb - rb.mean()
    den = math.sqrt((ra * ra).sum() * (rb * rb).sum())
    return float((ra * rb).sum() / den) if den > 0 else 0.0


def ssim(a, b):
    def norm(m):
        lo, hi = m.min(), m.max()
        return (m - lo) / (hi - lo) if hi > lo else np.zeros_like(m)

    x, y = norm(a.astype(np.float64)), norm(b.astype(np.float64))
    h, w = x.shape
    rh, rw = min(5, (h - 1) // 2), min(5, (w - 1) // 2)
    gy = np.exp(-np.arange(-rh, rh + 1) ** 2 / (2 * 1.5 ** 2))
    gx = np.exp(-np.arange(-rw, rw + 1) ** 2 / (2 * 1.5 ** 2))
    gy, gx = gy / gy.sum(), gx / gx.sum()

    def filt(m):
        rows = np.stack([np.convolve(r, gx[::-1], mode="valid") for r in m])
        return np.stack([np.convolve(c, gy[::-1], mode="valid") for c in rows.T]).T

    mx, my = filt(x), filt(y)
    vx, vy, cxy = filt(x * x) - mx * mx, filt(y * y) - my * my, filt(x * y) - mx * my
    c1, c2 = 0.01 ** 2, 0.03 ** 2
    return float((((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2))).mean())


def write_sanity(rng):
    cases = []
    small = rng.normal(0, 1, (12, 10))
    tied = np.maximum(0, np.round(rng.normal(0, 1, (12, 10)) * 2) / 2)
    large = rng.normal(0, 1, (48, 40))
    smooth = np.cumsum(np.cumsum(rng.normal(0, 1, (48, 40)), axis=0), axis=1)
    pairs = [
        ("small, unrelated", small, rng.normal(0, 1, (12, 10))),
        ("small, noisy copy", small, small + 0.3 * rng.normal(0, 1, (12, 10))),
        ("ties", tied, np.maximum(0, tied + np.round(rng.normal(0, 1, (12, 10))) / 2)),
        ("constant", np.zeros((12, 10)), small),
        ("large, smooth and noisy", smooth, smooth + 20 * rng.normal(0, 1, (48, 40))),
        ("large, reversed", large, -large),
        ("narrow", rng.normal(0, 1, (5, 30)), rng.normal(0, 1, (5, 30))),
    ]
    for name, a, b in pairs:
        a32, b32 = a.astype(np.float32), b.astype(np.float32)
        cases.append({"name": name, "shape": list(a.shape), "a": a32.reshape(-1).tolist(), "b": b32.reshape(-1).tolist(),
                      "spearman": spearman(a32.astype(np.float64), b32.astype(np.float64)), "ssim": ssim(a32, b32)})
    (OUT / "sanity.json").write_text(json.dumps(cases) + "\n")


def write_case(name, net, images, maps, classes):
    d = OUT / name
    d.mkdir(parents=True, exist_ok=True)
    np.save(d / "maps.npy", maps)
    pm = pixel_map(maps.astype(np.float64))
    x64 = torch.from_numpy(images.astype(np.float64))
    meta = {"classes": classes, "steps": STEPS, "configs": {}}
    for cname, cfg in CONFIGS.items():
        result = {"baselines": cfg, "images": []}
        for n in range(N):
            order = np.argsort(-pm[n].reshape(-1), kind="stable")
            image = x64[n : n + 1]
            entry = {}
            for kind in ("deletion", "insertion"):
                pixels, probs, area = curve(net, image, baseline(image, cfg[kind]), order, classes[n], kind == "insertion")
                entry[kind] = {"probabilities": probs.tolist(), "area": float(area)}
                result["pixels"] = pixels
            lo, hi = pm[n].min(), pm[n].max()
            normalized = torch.from_numpy((pm[n] - lo) / (hi - lo) if hi > lo else np.zeros_like(pm[n]))
            entry["original"] = float(probability(net, image, classes[n])[0])
            entry["explained"] = float(probability(net, image * normalized, classes[n])[0])
            result["images"].append(entry)
        y = np.array([e["original"] for e in result["images"]])
        o = np.array([e["explained"] for e in result["images"]])
        result["average_drop"] = float(100 * np.mean(np.maximum(0, y - o) / y))
        result["increase"] = float(100 * np.mean(o > y))
        meta["configs"][cname] = result
    loc = [localization(pm[n], BOXES[n], TOLERANCE) for n in range(N)]
    meta["road"] = road(net, images.astype(np.float64), pm, classes)
    meta["boxes"] = BOXES
    meta["tolerance"] = TOLERANCE
    meta["pointing"] = [bool(h) for h, _ in loc]
    meta["iou"] = [float(o) for _, o in loc]
    (d / "reference.json").write_text(json.dumps(meta, indent=1) + "\n")


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    net = make_net()
    rng = np.random.default_rng(7)
    images = rng.normal(0, 1, (N, C, H, W)).astype(np.float32)
    buf = io.BytesIO()
    with torch.no_grad():
        torch.onnx.export(net, torch.from_numpy(images), buf, opset_version=13, input_names=["x0"], output_names=["y"],
                          dynamic_axes={"x0": {0: "n", 2: "h", 3: "w"}})
    (OUT / "model.onnx").write_bytes(buf.getvalue())
    np.save(OUT / "images.npy", images)
    FLOAT32["net"] = net
    net64 = copy.deepcopy(net).double()
    with torch.no_grad():
        logits = net64(torch.from_numpy(images.astype(np.float64)))
    # Each image's own top-1 class, the way the engine picks it.
    classes = [int(c) for c in logits.argmax(dim=1)]
    # Distinct values; ties (a map with zeros and repeated levels, as ReLU maps have); a gradient image.
    distinct = ((rng.permutation(N * H * W).reshape(N, H, W) / (N * H * W)) ** 4).astype(np.float32)
    tied = np.maximum(0, np.round(rng.normal(0, 1, (N, H, W)) * 2) / 2).astype(np.float32)
    gradient = (rng.normal(0, 1, (N, C, H, W)) ** 3).astype(np.float32)
    for name, maps in (("distinct", distinct), ("ties", tied), ("gradient", gradient)):
        write_case(name, net64, images, maps, classes)
    # ROAD's solver on a larger image: a smooth map, so that the removed pixels form large regions.
    large = rng.normal(0, 1, (1, C, 48, 40)).astype(np.float32)
    yy, xx = np.mgrid[0:48, 0:40]
    smooth = (np.exp(-((yy - 30) ** 2 + (xx - 12) ** 2) / 200.0) + 0.01 * xx)[None].astype(np.float32)
    with torch.no_grad():
        large_class = [int(net64(torch.from_numpy(large.astype(np.float64))).argmax())]
    d = OUT / "large"
    d.mkdir(parents=True, exist_ok=True)
    np.save(d / "images.npy", large)
    np.save(d / "maps.npy", smooth)
    (d / "reference.json").write_text(json.dumps({"classes": large_class, "road": road(net64, large.astype(np.float64), smooth.astype(np.float64), large_class)}, indent=1) + "\n")
    write_sanity(rng)
    write_arcc(net64, images, classes)
    (OUT / "float32.json").write_text(json.dumps({"torch_float32_max_probability_error": FLOAT32["error"]}) + "\n")
    (OUT / "README.md").write_text(
        "Generated by `/usr/bin/python3 scripts/make_metric_refs.py` (deterministic); do not edit.\n"
        "model.onnx, images.npy [N, C, H, W]; per case maps.npy and reference.json (float64 metrics).\n"
    )


if __name__ == "__main__":
    main()
