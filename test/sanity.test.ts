// The sanity checks (src/evaluate/sanity.ts): Spearman and SSIM against float64 numpy
// (scripts/make_metric_refs.py), and the cascading randomization against a model whose top layers were
// redrawn on the CPU with the documented generator: same maps at every step, the trained model untouched.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Explanation, Method } from '../src/explain/explainer.js';
import { Explainer } from '../src/explain/explainer.js';
import { spearman, ssim } from '../src/evaluate/metrics.js';
import { cascadingRandomization, weightLayers } from '../src/evaluate/sanity.js';
import { Model } from '../src/runtime/model.js';
import { FIXTURES, readTensor } from './support/fixtures.js';
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
