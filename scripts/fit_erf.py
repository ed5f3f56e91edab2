#!/usr/bin/python3
"""Derives the coefficients of the float32 erf in shaders/erf.wgsl.

Run with /usr/bin/python3 (needs numpy and mpmath).

Two weighted minimax fits, each by Lawson's algorithm (iteratively reweighted least squares) on 4000
Chebyshev nodes against mpmath at 40 digits:
  |x| < 1:      erf(x) = x + x * (P(x^2) - 1), P of degree 5 fitted to erf(x)/x with relative weights;
  1 <= |x| < 4: erf(x) = 1 - exp(-x^2) * R(|x| - 2.5), R of degree 7 fitted to erfc(x) exp(x^2) with
                weights exp(-x^2), i.e. for the absolute error of erf;
  |x| >= 4:     erf(x) rounds to +-1 in float32.
Prints the float32 coefficients and the error of the whole recipe evaluated in float32 over a dense grid.
"""
import math

import mpmath as mp
import numpy as np

mp.mp.dps = 40
f32 = np.float32


def lawson(nodes, target, basis, weight, iterations=300):
    a = basis(nodes) * weight[:, None]
    b = target * weight
    w = np.full(len(nodes), 1.0 / len(nodes))
    for _ in range(iterations):
        c, *_ = np.linalg.lstsq(a * np.sqrt(w)[:, None], b * np.sqrt(w), rcond=None)
        err = np.abs(a @ c - b)
        w = w * err / np.sum(w * err)
    return c, err.max()


def chebyshev_nodes(lo, hi, n=4000):
    return np.cos(np.linspace(0, np.pi, n)) * (hi - lo) / 2 + (hi + lo) / 2


s = chebyshev_nodes(0, 1)
erf_over_x = np.array([float(mp.erf(mp.sqrt(v)) / mp.sqrt(v)) if v > 0 else float(2 / mp.sqrt(mp.pi)) for v in s])
p, p_err = lawson(s, erf_over_x, lambda t: np.vander(t, 6, increasing=True), 1 / erf_over_x)
x = chebyshev_nodes(1, 4)
scaled_erfc = np.array([float(mp.erfc(v) * mp.exp(mp.mpf(v) ** 2)) for v in x])
r, r_err = lawson(x, scaled_erfc, lambda t: np.vander(t - 2.5, 8, increasing=True), np.exp(-x * x))
p, r = p.astype(f32), r.astype(f32)
p_minus_1 = p.copy()
p_minus_1[0] = f32(float(p[0]) - 1.0)
print(f"fit errors: P relative {p_err:.2e}, R (absolute in erf) {r_err:.2e}")
print("P - 1:", ", ".join(str(c) for c in p_minus_1))
print("R:    ", ", ".join(str(c) for c in r))


def horner(coefficients, v):
    acc = np.full_like(v, coefficients[-1])
    for c in coefficients[-2::-1]:
        acc = (acc * v + c).astype(f32)
    return acc


grid = np.linspace(0, 4.5, 400001).astype(f32)
squared = (grid * grid).astype(f32)
small = grid + (grid * horner(p_minus_1, squared)).astype(f32)
large = f32(1) - (np.exp(-squared) * horner(r, np.minimum(grid, f32(4)) - f32(2.5))).astype(f32)
erf32 = np.where(grid < 1, small, large).astype(np.float64)
exact = np.array([math.erf(float(v)) for v in grid])
print(f"float32 evaluation: max absolute error {np.abs(erf32 - exact).max():.2e}")
