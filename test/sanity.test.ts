// The sanity checks (src/evaluate/sanity.ts): Spearman and SSIM against float64 numpy
// (scripts/make_metric_refs.py), and the cascading randomization against a model whose top layers were
// redrawn on the CPU with the documented generator: same maps at every step, the trained model untouched.
// And `verify` (src/evaluate/verify.ts), which must pass the bundled cases and fail a wrong one.
import { cpSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Explanation, Method } from '../src/explain/explainer.js';
import { Explainer } from '../src/explain/explainer.js';
import { spearman, ssim } from '../src/evaluate/metrics.js';
import { cascadingRandomization, weightLayers } from '../src/evaluate/sanity.js';
import { Model } from '../src/runtime/model.js';
import { FIXTURES, readTensor } from './support/fixtures.js';
import { readNpy, writeNpy } from '../src/io/npy.js';
import { useGpu } from './support/gpu.js';
import { normalDraw } from './support/random.js';

const DIR = join(FIXTURES, 'metrics');
const gpu = useGpu();

/** The maps' bound, as for every map of the suite: max |engine - reference| / max |reference|. */
const MAP_TOLERANCE = 1e-4;

function relative(actual: Float32Array, expected: Float32Array): number {
  let worst = 0;
  let scale = 0;
  expected.forEach((v, i) => {
    worst = Math.max(worst, Math.abs(actual[i] - v));
    scale = Math.max(scale, Math.abs(v));
  });
  return worst / scale;
}

describe('sanity metrics against float64 numpy', () => {
  const cases = JSON.parse(readFileSync(join(DIR, 'sanity.json'), 'utf8')) as { name: string; shape: [number, number]; a: number[]; b: number[]; spearman: number; ssim: number }[];
  for (const c of cases) {
    it(`${c.name}: Spearman and SSIM`, () => {
      // Both are sums of O(H*W) float64 terms in different orders: 1e-9 is far above their rounding.
      expect(Math.abs(spearman(c.a, c.b) - c.spearman)).toBeLessThan(1e-9);
      expect(Math.abs(ssim(c.a, c.b, c.shape[1], c.shape[0]) - c.ssim)).toBeLessThan(1e-9);
    });
  }
});

describe('cascading randomization', () => {
  const images = readTensor(join(DIR, 'images.npy'));
  const methods: Method[] = ['gradcam', 'guided-backprop', 'cam'];
  const seed = 11;

  it('redraws the layers top first, each as documented, and leaves the trained model alone', async () => {
    const model = Model.fromFile(gpu(), join(DIR, 'model.onnx'));
    const explainer = new Explainer(model);
    try {
      const layers = weightLayers(model, images.shape);
      expect(layers.map((l) => l.opType)).toEqual(['Gemm', 'Conv', 'Conv']);
      const before = await explainer.explainMany(images, { methods });
      const steps: Map<Method, Explanation>[] = [];
      const result = await cascadingRandomization(model, images, { methods, seed, onStep: (_, __, e) => steps.push(e) });
      expect(steps).toHaveLength(layers.length + 1);
      expect(result.classes).toEqual(before.get('gradcam')!.classes);

      // The trained model's maps are unchanged after the checks ran on its copy.
      const after = await explainer.explainMany(images, { methods });
      for (const m of methods) expect([...after.get(m)!.map.data]).toEqual([...before.get(m)!.map.data]);

      // Step k: the top k layers redrawn on the CPU, std(trained) * N(0, 1), stream 2 * layer (+1 for the bias).
      for (let k = 1; k <= layers.length; k++) {
        const cpu = Model.fromFile(gpu(), join(DIR, 'model.onnx'));
        const cpuExplainer = new Explainer(cpu);
        try {
          const { constants } = cpu.shaped(new Map([[cpu.inputName, images.shape]]));
          layers.slice(0, k).forEach((layer, step) =>
            layer.tensors.forEach((name, which) => {
              const c = constants.get(name)!;
              const data = c.data as Float32Array;
              const mean = data.reduce((a, v) => a + v, 0) / data.length;
              const std = Math.sqrt(data.reduce((a, v) => a + (v - mean) ** 2, 0) / data.length);
              c.data = Float32Array.from(data, (_, i) => std * normalDraw(seed, 2 * step + which, i));
            }),
          );
          const expected = await cpuExplainer.explainMany(images, { methods, classes: result.classes });
          for (const m of methods) {
            expect(relative(steps[k].get(m)!.map.data, expected.get(m)!.map.data), `${m} after ${k} layers`).toBeLessThan(MAP_TOLERANCE);
          }
        } finally {
          cpuExplainer.dispose();
          cpu.dispose();
        }
      }
      // What it reports is the comparison of those maps with the trained ones.
      for (const m of methods) {
        expect(result.methods[m].spearman).toHaveLength(layers.length);
        const plane = images.shape[2] * images.shape[3];
        const trained = steps[0].get(m)!;
        if (trained.map.shape.length === 3) {
          const last = steps[layers.length].get(m)!.map.data;
          expect(result.methods[m].perImage.spearman[layers.length - 1][0]).toBe(spearman(trained.map.data.subarray(0, plane), last.subarray(0, plane)));
        }
      }
    } finally {
      explainer.dispose();
      model.dispose();
    }
  });
});

describe('verify', () => {
  it('passes the bundled cases on this adapter, and fails a case whose reference is off', async () => {
    const { verify } = await import('../src/evaluate/verify.js');
    const good = await verify(gpu(), { filter: 'conv_1x1' });
    expect(good.pass).toBe(true);
    expect(good.checks.map((c) => c.what)).toEqual(['forward', 'gradient of x0']);
    expect(good.kernels.length).toBeGreaterThan(0);
    for (const k of good.kernels) expect(k).toMatchObject({ cases: 1, pass: true, worstCase: expect.stringMatching(/^conv_1x1: /) });

    // The same case with its reference moved by 1e-3 of its scale: the forward check must fail.
    const root = mkdtempSync(join(tmpdir(), 'gradcam-verify-'));
    const dir = join(root, 'ops', 'conv_1x1');
    cpSync(join(FIXTURES, 'ops', 'conv_1x1'), dir, { recursive: true });
    const y = readNpy(join(dir, 'y.npy'));
    const data = Float64Array.from(y.data as Float64Array);
    const scale = data.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    data[0] += 1e-3 * scale;
    writeNpy(join(dir, 'y.npy'), y.shape, Float32Array.from(data));
    const bad = await verify(gpu(), { root });
    expect(bad.pass).toBe(false);
    expect(bad.checks.find((c) => c.what === 'forward')).toMatchObject({ pass: false });
    expect(bad.kernels.every((k) => !k.pass)).toBe(true);
  });
});
