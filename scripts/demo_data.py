#!/usr/bin/python3
"""Synthetic shape dataset for the gradcam-webgpu demo model.

Every image is 128x128 RGB and holds exactly ONE target object (one of the
CLASSES below: random colour, size, position, rotation, aspect jitter, optional
shading/two-tone texture, anti-aliased edges) on a textured, cluttered
background (two-colour gradient + low-frequency colour noise, optional stripes
or checkerboard) with distractors that are none of the classes (line segments,
small elongated ellipses, arcs, scribbles; a few thin lines may also cross the
object), plus pixel noise.

The ground-truth box is the tight box of the object's pixels (coverage >= 0.5)
as [x0, y0, x1, y1] in pixels with x1/y1 EXCLUSIVE: pixel (x, y) (column x,
row y) lies in the box iff x0 <= x < x1 and y0 <= y < y1.

Generation is deterministic given the seed (numpy PCG64 via
np.random.default_rng(seed); one generator is consumed sequentially, so
make_dataset(seed, n) yields the first n images of that seed's stream).

Seeds used by the project (keep them disjoint):
    1     training split        (scripts/train_demo.py)
    2     held-out split        (scripts/train_demo.py: accuracy + pointing game)
    3     weights/samples/      (scripts/train_demo.py --samples)
    2026  RESERVED for the TypeScript localization benchmark (500 images);
          never used for training or model selection.

CLI:
    /usr/bin/python3 scripts/demo_data.py --seed 2026 --count 500 --out DIR
writes DIR/images.npy (uint8 [N,128,128,3]) and DIR/labels.json:
    {"classes": [names...], "box_format": "...", "seed": S,
     "items": [{"label": int, "box": [x0, y0, x1, y1]}, ...]}
"""
import argparse
import json
import math
import os
import sys
import time

import numpy as np

H = W = 128
SIZE = (H, W)
CLASSES = ["circle", "square", "triangle", "star", "cross",
           "ring", "diamond", "crescent", "heart", "arrow"]

TRAIN_SEED = 1
HELDOUT_SEED = 2
SAMPLES_SEED = 3
BENCHMARK_SEED = 2026  # reserved for the TypeScript localization benchmark

_SS = 2  # supersampling factor for the target object's anti-aliasing


# ----------------------------------------------------------------------------
# shape membership tests in the object's local frame (unit radius, v points down)
# ----------------------------------------------------------------------------
def _poly_inside(u, v, verts):
    """Crossing-number point-in-polygon, vectorized over the points (u, v)."""
    inside = np.zeros(u.shape, dtype=bool)
    n = len(verts)
    for i in range(n):
        xi, yi = verts[i]
        xj, yj = verts[(i + 1) % n]
        if yi == yj:
            continue
        cond = ((yi > v) != (yj > v)) & (u < (xj - xi) * (v - yi) / (yj - yi) + xi)
        inside ^= cond
    return inside


def _regular(n, r, start_deg):
    a = np.deg2rad(start_deg) + 2 * np.pi * np.arange(n) / n
    return list(zip(r * np.cos(a), r * np.sin(a)))


_TRIANGLE = _regular(3, 1.0, -90.0)
_STAR = [(float(x), float(y)) for x, y in
         zip(*[np.cos(np.deg2rad(-90 + 36 * np.arange(10))) * np.where(np.arange(10) % 2 == 0, 1.0, 0.45),
               np.sin(np.deg2rad(-90 + 36 * np.arange(10))) * np.where(np.arange(10) % 2 == 0, 1.0, 0.45)])]
_ARROW = [(-1.0, -0.2), (0.15, -0.2), (0.15, -0.6), (1.0, 0.0),
          (0.15, 0.6), (0.15, 0.2), (-1.0, 0.2)]


def _shape_mask(cls, u, v, p):
    if cls == "circle":
        return u * u + v * v <= 1.0
    if cls == "ring":
        d = u * u + v * v
        return (d <= 1.0) & (d >= p["inner"] ** 2)
    if cls == "square":
        return np.maximum(np.abs(u), np.abs(v)) <= 0.8
    if cls == "diamond":
        return np.abs(u) / 0.68 + np.abs(v) <= 1.0
    if cls == "triangle":
        return _poly_inside(u, v, _TRIANGLE)
    if cls == "star":
        return _poly_inside(u, v, _STAR)
    if cls == "cross":
        t = p["arm"]
        au, av = np.abs(u), np.abs(v)
        return ((au <= t) & (av <= 1.0)) | ((av <= t) & (au <= 1.0))
    if cls == "crescent":
        return (u * u + v * v <= 1.0) & ((u - p["shift"]) ** 2 + v * v > p["bite"] ** 2)
    if cls == "heart":
        x = u * 1.12
        y = -v * 1.12 + 0.12
        q = x * x + y * y - 1.0
        return q * q * q - x * x * y * y * y <= 0.0
    if cls == "arrow":
        return _poly_inside(u, v, _ARROW)
    raise ValueError(cls)


def _shape_params(cls, rng):
    p = {}
    if cls == "ring":
        p["inner"] = rng.uniform(0.5, 0.68)
    elif cls == "cross":
        p["arm"] = rng.uniform(0.24, 0.34)
    elif cls == "crescent":
        p["shift"] = rng.uniform(0.4, 0.55)
        p["bite"] = rng.uniform(0.78, 0.9)
    return p


# ----------------------------------------------------------------------------
# drawing helpers (numpy-vectorized, restricted to a window around each primitive)
# ----------------------------------------------------------------------------
def _window(cx, cy, rad):
    x0 = max(int(math.floor(cx - rad)) - 1, 0)
    y0 = max(int(math.floor(cy - rad)) - 1, 0)
    x1 = min(int(math.ceil(cx + rad)) + 2, W)
    y1 = min(int(math.ceil(cy + rad)) + 2, H)
    return x0, y0, x1, y1


def _blend(img, x0, y0, alpha, colour):
    h, w = alpha.shape
    if h == 0 or w == 0:
        return
    reg = img[y0:y0 + h, x0:x0 + w]
    a = alpha[..., None]
    reg *= (1.0 - a)
    reg += a * colour


def _rand_colour(rng):
    return rng.uniform(0.0, 1.0, size=3).astype(np.float32)


def _draw_segment(img, rng, p0, p1, thick, colour):
    (ax, ay), (bx, by) = p0, p1
    x0 = max(int(min(ax, bx) - thick) - 1, 0)
    y0 = max(int(min(ay, by) - thick) - 1, 0)
    x1 = min(int(max(ax, bx) + thick) + 2, W)
    y1 = min(int(max(ay, by) + thick) + 2, H)
    if x1 <= x0 or y1 <= y0:
        return
    ys, xs = np.mgrid[y0:y1, x0:x1].astype(np.float32) + 0.5
    dx, dy = bx - ax, by - ay
    ll = dx * dx + dy * dy + 1e-6
    t = np.clip(((xs - ax) * dx + (ys - ay) * dy) / ll, 0.0, 1.0)
    d = np.hypot(xs - (ax + t * dx), ys - (ay + t * dy))
    alpha = np.clip(thick * 0.5 - d + 0.5, 0.0, 1.0)
    _blend(img, x0, y0, alpha, colour)


def _draw_ellipse(img, rng, cx, cy, a, b, ang, colour):
    rad = max(a, b) + 1
    x0, y0, x1, y1 = _window(cx, cy, rad)
    if x1 <= x0 or y1 <= y0:
        return
    ys, xs = np.mgrid[y0:y1, x0:x1].astype(np.float32) + 0.5
    c, s = math.cos(ang), math.sin(ang)
    u = ((xs - cx) * c + (ys - cy) * s) / a
    v = (-(xs - cx) * s + (ys - cy) * c) / b
    r = np.sqrt(u * u + v * v)
    alpha = np.clip((1.0 - r) * min(a, b) + 0.5, 0.0, 1.0)
    _blend(img, x0, y0, alpha, colour)


def _draw_arc(img, rng, cx, cy, rad, thick, a0, span, colour):
    x0, y0, x1, y1 = _window(cx, cy, rad + thick)
    if x1 <= x0 or y1 <= y0:
        return
    ys, xs = np.mgrid[y0:y1, x0:x1].astype(np.float32) + 0.5
    dx, dy = xs - cx, ys - cy
    r = np.hypot(dx, dy)
    ang = np.mod(np.arctan2(dy, dx) - a0, 2 * np.pi)
    alpha = np.clip(thick * 0.5 - np.abs(r - rad) + 0.5, 0.0, 1.0) * (ang <= span)
    _blend(img, x0, y0, alpha.astype(np.float32), colour)


def _interp_matrix(n_out, n_in):
    """[n_out, n_in] linear interpolation weights (align_corners style)."""
    pos = np.linspace(0, n_in - 1, n_out)
    i0 = np.minimum(pos.astype(np.int64), n_in - 2)
    f = pos - i0
    m = np.zeros((n_out, n_in), dtype=np.float32)
    m[np.arange(n_out), i0] = 1.0 - f
    m[np.arange(n_out), i0 + 1] += f
    return m


_INTERP = {}


def _upsample(grid, h, w):
    """Bilinear upsampling (align_corners style) of a [gh, gw, C] grid to [h, w, C]."""
    gh, gw = grid.shape[:2]
    key = (h, w, gh, gw)
    if key not in _INTERP:
        _INTERP[key] = (_interp_matrix(h, gh), _interp_matrix(w, gw))
    ry, rx = _INTERP[key]
    tmp = np.tensordot(ry, grid, axes=(1, 0))          # [h, gw, C]
    return np.einsum("wg,hgc->hwc", rx, tmp, optimize=True)


_YY, _XX = np.mgrid[0:H, 0:W].astype(np.float32) + 0.5


def _background(rng, level):
    c0, c1 = _rand_colour(rng), _rand_colour(rng)
    th = rng.uniform(0, 2 * np.pi)
    t = (_XX * math.cos(th) + _YY * math.sin(th))
    t = (t - t.min()) / (t.max() - t.min() + 1e-6)
    img = c0 + level * (c1 - c0) * t[..., None]
    k = int(rng.integers(3, 10))
    img += level * rng.uniform(0.1, 0.5) * (_upsample(rng.uniform(-0.5, 0.5, (k, k, 3)).astype(np.float32), H, W))
    kind = rng.random()
    if kind < 0.35:  # stripes
        ph = rng.uniform(0, 2 * np.pi)
        f = rng.uniform(1 / 24, 1 / 5)
        st = np.sin(2 * np.pi * f * (_XX * math.cos(ph) + _YY * math.sin(ph)) + rng.uniform(0, 6.3))
        img += level * rng.uniform(0.05, 0.25) * st[..., None] * (rng.uniform(-1, 1, 3).astype(np.float32))
    elif kind < 0.5:  # checkerboard
        cell = int(rng.integers(6, 20))
        cb = (((_XX // cell) + (_YY // cell)) % 2) * 2 - 1
        img += level * rng.uniform(0.04, 0.15) * cb[..., None] * (rng.uniform(-1, 1, 3).astype(np.float32))
    elif kind < 0.7:  # fine colour noise texture
        k2 = int(rng.integers(12, 33))
        img += level * rng.uniform(0.1, 0.3) * _upsample(rng.uniform(-0.5, 0.5, (k2, k2, 3)).astype(np.float32), H, W)
    return img.astype(np.float32)


def _distractors(img, rng, n_lines, n_blobs, n_arcs, n_scribbles):
    for _ in range(n_lines):
        cx, cy = rng.uniform(0, W), rng.uniform(0, H)
        L = rng.uniform(10, 60)
        a = rng.uniform(0, np.pi)
        dx, dy = 0.5 * L * math.cos(a), 0.5 * L * math.sin(a)
        _draw_segment(img, rng, (cx - dx, cy - dy), (cx + dx, cy + dy),
                      rng.uniform(1.0, 3.0), _rand_colour(rng))
    for _ in range(n_blobs):
        a = rng.uniform(3, 9)
        b = a / rng.uniform(1.6, 3.5)
        _draw_ellipse(img, rng, rng.uniform(0, W), rng.uniform(0, H), a, b,
                      rng.uniform(0, np.pi), _rand_colour(rng))
    for _ in range(n_arcs):
        _draw_arc(img, rng, rng.uniform(0, W), rng.uniform(0, H), rng.uniform(5, 16),
                  rng.uniform(1.5, 3.5), rng.uniform(0, 2 * np.pi), rng.uniform(0.6, 2.6),
                  _rand_colour(rng))
    for _ in range(n_scribbles):
        x, y = rng.uniform(0, W), rng.uniform(0, H)
        col = _rand_colour(rng)
        th = rng.uniform(1.0, 2.5)
        for _ in range(int(rng.integers(2, 5))):
            nx, ny = x + rng.uniform(-12, 12), y + rng.uniform(-12, 12)
            _draw_segment(img, rng, (x, y), (nx, ny), th, col)
            x, y = nx, ny


def _draw_object(img, rng, label):
    cls = CLASSES[label]
    r = rng.uniform(14.0, 29.0)
    sx = rng.uniform(0.85, 1.15)
    sy = rng.uniform(0.85, 1.15)
    if cls in ("square", "diamond"):
        ang = np.deg2rad(rng.uniform(-20, 20))
    else:
        ang = rng.uniform(0, 2 * np.pi)
    flip = rng.random() < 0.5
    p = _shape_params(cls, rng)
    ext = r * 1.2 + 2  # conservative half extent of the (scaled, rotated) shape
    cx = rng.uniform(ext, W - ext)
    cy = rng.uniform(ext, H - ext)
    x0, y0, x1, y1 = _window(cx, cy, ext)
    hh, ww = y1 - y0, x1 - x0
    # supersampled local grid
    ys, xs = np.mgrid[0:hh * _SS, 0:ww * _SS].astype(np.float32)
    xs = x0 + (xs + 0.5) / _SS
    ys = y0 + (ys + 0.5) / _SS
    dx, dy = xs - cx, ys - cy
    c, s = math.cos(ang), math.sin(ang)
    u = (dx * c + dy * s) / (r * sx)
    v = (-dx * s + dy * c) / (r * sy)
    if flip:
        u = -u
    m = _shape_mask(cls, u, v, p).astype(np.float32)
    alpha = m.reshape(hh, _SS, ww, _SS).mean(axis=(1, 3))
    if alpha.max() < 0.5:  # cannot happen with the ranges above, but be safe
        alpha[hh // 2, ww // 2] = 1.0
    # colour with enough contrast against the local background
    bgmean = (img[y0:y1, x0:x1] * alpha[..., None]).sum(axis=(0, 1)) / (alpha.sum() + 1e-6)
    col = _rand_colour(rng)
    for _ in range(30):
        if np.linalg.norm(col - bgmean) > 0.45:
            break
        col = _rand_colour(rng)
    else:
        col = np.where(bgmean > 0.5, 0.05, 0.95).astype(np.float32)
    ly, lx = np.mgrid[0:hh, 0:ww].astype(np.float32)
    tex = rng.random()
    colour = np.broadcast_to(col, (hh, ww, 3)).copy()
    if tex < 0.35:  # linear shading
        g = rng.uniform(-1, 1, 2)
        sh = ((lx - ww / 2) * g[0] + (ly - hh / 2) * g[1]) / (r + 1e-6)
        colour *= (1.0 + 0.18 * sh)[..., None]
    elif tex < 0.5:  # two-tone stripes inside the object
        col2 = np.clip(col + rng.uniform(-0.25, 0.25, 3), 0, 1).astype(np.float32)
        a2 = rng.uniform(0, np.pi)
        f = rng.uniform(1 / 10, 1 / 4)
        st = np.sin(2 * np.pi * f * (lx * math.cos(a2) + ly * math.sin(a2))) > 0
        colour[st] = col2
    _blend(img, x0, y0, alpha, np.clip(colour, 0, 1))
    on = alpha >= 0.5
    rows = np.nonzero(on.any(axis=1))[0]
    cols = np.nonzero(on.any(axis=0))[0]
    box = [int(x0 + cols[0]), int(y0 + rows[0]), int(x0 + cols[-1] + 1), int(y0 + rows[-1] + 1)]
    return box


def make_sample(rng, label=None, level=None):
    """One image: (uint8 [H, W, 3], label int, box [x0, y0, x1, y1] with x1/y1 exclusive).

    level in [0, 1] scales the clutter (background texture amplitude, number of distractors,
    pixel noise); by default it is drawn uniformly per image, so a dataset mixes easy and
    hard images (about half of them have 5+ distractors)."""
    if label is None:
        label = int(rng.integers(0, len(CLASSES)))
    if level is None:
        level = rng.uniform(0.0, 1.0)
    img = _background(rng, level)
    _distractors(img, rng, int(rng.integers(0, 1 + round(8 * level))), int(rng.integers(0, 1 + round(5 * level))),
                 int(rng.integers(0, 1 + round(3 * level))), int(rng.integers(0, 1 + round(2 * level))))
    box = _draw_object(img, rng, label)
    if rng.random() < 0.5 * level:  # a few thin lines crossing over everything (partial occlusion)
        _distractors(img, rng, int(rng.integers(1, 3)), 0, 0, 0)
    sigma = level * rng.uniform(0.0, 0.05)
    if sigma > 0.005:
        img += np.float32(sigma) * rng.standard_normal(img.shape, dtype=np.float32)
    out = np.clip(img * 255.0 + 0.5, 0, 255).astype(np.uint8)
    return out, label, box


def make_dataset(seed, count, balanced=True):
    """Deterministic dataset: (images uint8 [N,H,W,3], labels int64 [N], boxes int32 [N,4]).

    balanced=True cycles the labels through a per-block random permutation so every
    class appears count/len(CLASSES) times (+-1)."""
    rng = np.random.default_rng(seed)
    n = len(CLASSES)
    images = np.empty((count, H, W, 3), dtype=np.uint8)
    labels = np.empty(count, dtype=np.int64)
    boxes = np.empty((count, 4), dtype=np.int32)
    perm = None
    for i in range(count):
        lab = None
        if balanced:
            if i % n == 0:
                perm = rng.permutation(n)
            lab = int(perm[i % n])
        img, lab, box = make_sample(rng, lab)
        images[i], labels[i], boxes[i] = img, lab, box
    return images, labels, boxes


def write_dataset(out_dir, seed, count):
    images, labels, boxes = make_dataset(seed, count)
    os.makedirs(out_dir, exist_ok=True)
    np.save(os.path.join(out_dir, "images.npy"), images)
    meta = {
        "classes": CLASSES,
        "seed": seed,
        "size": [H, W],
        "box_format": "[x0, y0, x1, y1] pixels, x1/y1 exclusive: pixel (x,y) inside iff x0<=x<x1 and y0<=y<y1",
        "items": [{"label": int(l), "box": [int(v) for v in b]} for l, b in zip(labels, boxes)],
    }
    with open(os.path.join(out_dir, "labels.json"), "w") as f:
        json.dump(meta, f)
    return images, labels, boxes


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--count", type=int, required=True)
    ap.add_argument("--out", required=True)
    a = ap.parse_args(argv)
    t0 = time.time()
    write_dataset(a.out, a.seed, a.count)
    print(f"wrote {a.count} images (seed {a.seed}) to {a.out} in {time.time() - t0:.1f}s", file=sys.stderr)


if __name__ == "__main__":
    main()
