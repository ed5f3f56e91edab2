// The faithfulness metrics against float64 PyTorch (scripts/make_metric_refs.py, test/fixtures/metrics):
// given the same maps, the engine's perturbed copies must give the reference's class probability at
// every point of every curve, and the same areas, Average Drop, Increase in Confidence, pointing game
// and box overlaps; and the parts that are exact (pixel counts, ranks, areas of known curves) by hand.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Evaluator } from '../src/evaluate/evaluator.js';
import { arccScore, curveArea, curvePixels, mapRanks, pearson } from '../src/evaluate/metrics.js';
import type { Box } from '../src/evaluate/localization.js';
import type { Baseline } from '../src/kernels/evaluate.js';
import { Model } from '../src/runtime/model.js';
import { FIXTURES, readTensor } from './support/fixtures.js';
import { useGpu } from './support/gpu.js';

const DIR = join(FIXTURES, 'metrics');

interface Reference {
  classes: number[];
  steps: number;
  boxes: Box[][];
  tolerance: number;
  pointing: boolean[];
  iou: number[];
  configs: Record<string, {
    baselines: { deletion: Baseline; insertion: Baseline };
    pixels: number[];
    images: { deletion: { probabilities: number[]; area: number }; insertion: { probabilities: number[]; area: number }; original: number; explained: number }[];
    average_drop: number;
    increase: number;
  }>;
}

/**
 * The probabilities' limit: three times PyTorch float32's largest error on the same copies (measured by
 * the generator), and never below 2e-6 (a few float32 roundings of a probability, ~6e-8 each, through
 * a softmax of logits of size ~10): the engine's float32 differs from PyTorch's in its sum orders and its
 * blur, by as much again.
 */
const { torch_float32_max_probability_error: TORCH_FLOAT32 } = JSON.parse(readFileSync(join(DIR, 'float32.json'), 'utf8'));
const LIMIT = Math.max(3 * TORCH_FLOAT32, 2e-6);

const gpu = useGpu();

describe('faithfulness metrics against float64 PyTorch', () => {
  const images = readTensor(join(DIR, 'images.npy'));
  for (const name of ['distinct', 'ties', 'gradient']) {
    const ref = JSON.parse(readFileSync(join(DIR, name, 'reference.json'), 'utf8')) as Reference;
    const maps = readTensor(join(DIR, name, 'maps.npy'));
    for (const [config, expected] of Object.entries(ref.configs)) {
      it(`${name} maps, ${expected.baselines.deletion} deletion / ${expected.baselines.insertion} insertion: every point of every curve`, async () => {
        const evaluator = new Evaluator(Model.fromFile(gpu(), join(DIR, 'model.onnx')));
        try {
          const truth = ref.boxes.map((boxes) => ({ boxes }));
          const got = await evaluator.measure(images, maps, ref.classes, {
            steps: ref.steps, deletionBaseline: expected.baselines.deletion, insertionBaseline: expected.baselines.insertion,
            batch: 4, truth, tolerance: ref.tolerance, metrics: ['deletion', 'insertion', 'drop', 'confidence', 'pointing', 'localization'],
          });
          expect(got.deletion!.pixels, config).toEqual(expected.pixels);
          let worst = 0;
          expected.images.forEach((e, n) => {
            for (const kind of ['deletion', 'insertion'] as const) {
              const p = got[kind]!.probabilities[n];
              expect(p).toHaveLength(e[kind].probabilities.length);
              p.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - e[kind].probabilities[i]))));
              expect(Math.abs(got[kind]!.areas[n] - e[kind].area)).toBeLessThanOrEqual(LIMIT);
            }
            worst = Math.max(worst, Math.abs(got.drop!.original[n] - e.original), Math.abs(got.drop!.explained[n] - e.explained));
          });
          expect(worst).toBeLessThanOrEqual(LIMIT);
          // Average Drop is 100 * mean(drop / Y): its error is at most 100 * (2 limits) / min Y.
          const smallest = Math.min(...expected.images.map((e) => e.original));
          expect(Math.abs(got.drop!.averageDrop - expected.average_drop)).toBeLessThanOrEqual((200 * LIMIT) / smallest);
          expect(got.drop!.increase).toBe(expected.increase);
          // CamMultImage's confidence change, from the same two probabilities: two limits at most.
          expected.images.forEach((e, n) => expect(Math.abs(got.confidence!.change[n] - (e.explained - e.original))).toBeLessThanOrEqual(2 * LIMIT));
          expect(got.pointing!.hits).toEqual(ref.pointing);
          // Ratios of pixel counts, in float64 on both sides: equal but for the last bit.
          got.localization!.iou.forEach((v, n) => expect(v).toBeCloseTo(ref.iou[n], 12));
        } finally {
          evaluator.model.dispose();
          evaluator.dispose();
        }
      });
    }
  }
});

describe('ROAD against float64 PyTorch and a dense solve', () => {
  for (const name of ['distinct', 'ties', 'gradient', 'large']) {
    it(`${name} maps: the probability at every percentage removed, most and least relevant first`, async () => {
      const ref = JSON.parse(readFileSync(join(DIR, name, 'reference.json'), 'utf8')) as { classes: number[]; road: { pixels: number[]; noise: number; seed: number; morf: number[][]; lerf: number[][] } };
      const images = readTensor(join(DIR, name === 'large' ? 'large' : '', 'images.npy'));
      const maps = readTensor(join(DIR, name, 'maps.npy'));
      const evaluator = new Evaluator(Model.fromFile(gpu(), join(DIR, 'model.onnx')));
      try {
        const got = await evaluator.measure(images, maps, ref.classes, { metrics: ['road'], roadNoise: ref.road.noise, seed: ref.road.seed, batch: 5 });
        expect(got.road!.pixels).toEqual(ref.road.pixels);
        let worst = 0;
        for (const order of ['morf', 'lerf'] as const) {
          ref.road[order].forEach((row, n) => row.forEach((p, i) => (worst = Math.max(worst, Math.abs(got.road![order][n][i] - p)))));
        }
        expect(worst).toBeLessThanOrEqual(LIMIT);
        const mean = (rows: number[][]) => rows.flat().reduce((a, b) => a + b, 0) / rows.flat().length;
        // Half a difference of two means of probabilities, each within LIMIT: within LIMIT itself.
        expect(Math.abs(got.road!.combined - (mean(ref.road.lerf) - mean(ref.road.morf)) / 2)).toBeLessThanOrEqual(LIMIT);
      } finally {
        evaluator.model.dispose();
        evaluator.dispose();
      }
    });
  }
});

describe('ARCC against float64 PyTorch', () => {
  it("Grad-CAM's maps: Coherency, Complexity, ROAD at 20..80% and their harmonic mean, per image", async () => {
    const ref = JSON.parse(readFileSync(join(DIR, 'arcc', 'reference.json'), 'utf8')) as { classes: number[]; noise: number; seed: number; coherency: number[]; complexity: number[]; road: number[]; arcc: number[] };
    const images = readTensor(join(DIR, 'images.npy'));
    const evaluator = new Evaluator(Model.fromFile(gpu(), join(DIR, 'model.onnx')));
    try {
      const [scores] = await evaluator.evaluate(images, { methods: ['gradcam'], metrics: ['arcc'], classes: ref.classes, roadNoise: ref.noise, seed: ref.seed, batch: 5 });
      const got = scores.arcc!;
      // ROAD's imputations ran, but only ARCC was asked for.
      expect(scores.road).toBeUndefined();
      // Complexity and Coherency read maps (within the map suite's 1e-4 of float64); ROAD probabilities (LIMIT).
      const MAP_LIMIT = 1e-4;
      ref.arcc.forEach((expected, n) => {
        expect(Math.abs(got.complexity[n] - ref.complexity[n]), `complexity ${n}`).toBeLessThanOrEqual(MAP_LIMIT);
        expect(Math.abs(got.coherency[n] - ref.coherency[n]), `coherency ${n}`).toBeLessThanOrEqual(MAP_LIMIT);
        expect(Math.abs(got.road[n] - ref.road[n]), `road ${n}`).toBeLessThanOrEqual(LIMIT);
        // The harmonic mean H of three parts moves by at most sum_i H^2 / (3 x_i^2) |dx_i| (x_i: coherency,
        // 1 - complexity, twice ROAD; all inside (0, 1) here).
        const parts = [ref.coherency[n], 1 - ref.complexity[n], 2 * ref.road[n]];
        const errors = [MAP_LIMIT, MAP_LIMIT, 2 * LIMIT];
        const bound = parts.reduce((sum, x, i) => sum + ((expected * expected) / (3 * x * x)) * errors[i], 0);
        expect(Math.abs(got.arcc[n] - expected), `arcc ${n}`).toBeLessThanOrEqual(bound);
      });
      await expect(evaluator.measure(images, { shape: [3, ...images.shape.slice(2)], data: new Float32Array(3 * images.shape[2] * images.shape[3]) }, ref.classes, { metrics: ['arcc'] })).rejects.toThrow(/arcc explains each image times its map again with the method: use evaluate\(\)/);
    } finally {
      evaluator.model.dispose();
      evaluator.dispose();
    }
  });
});

describe('metric arithmetic', () => {
  it("ARCC's parts: Pearson's correlation with n - 1, and the harmonic mean with ROAD doubled and clipped", () => {
    expect(pearson([9, 1, 2, 3], [9, 2, 4, 6], 1, 3)).toBeCloseTo(1, 7);
    expect(pearson([1, 2, 3], [3, 2, 1], 0, 3)).toBeCloseTo(-1, 7);
    // Two orthogonal centred vectors.
    expect(pearson([1, -1, 1, -1], [1, 1, -1, -1], 0, 4)).toBeCloseTo(0, 12);
    expect(arccScore(1, 0, 0.5)).toBeCloseTo(1, 7);
    expect(arccScore(0.5, 0.5, 0.25)).toBeCloseTo(0.5, 7);
    // ROAD's combined score is doubled and clipped to [0, 1]: 0.75 counts as 0.5 does, below 0 as 0.
    expect(arccScore(0.8, 0.3, 0.75)).toBe(arccScore(0.8, 0.3, 0.5));
    expect(arccScore(0.8, 0.3, -0.1)).toBeLessThan(1e-7);
  });

  it('RISE steps: ceil(H*W / steps) pixels a step, the last point every pixel', () => {
    expect(curvePixels(120, 7)).toEqual([0, 18, 36, 54, 72, 90, 108, 120]);
    expect(curvePixels(100, 10)).toEqual([0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100]);
    expect(curvePixels(5, 10)).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('areas by the trapezoid rule over [0, 1]', () => {
    expect(curveArea([1, 1, 1])).toBe(1);
    expect(curveArea([1, 0])).toBe(0.5);
    expect(curveArea([0, 1, 0, 1])).toBeCloseTo(0.5, 15);
  });

  it('ranks: most relevant first, equal values in index order', () => {
    expect([...mapRanks([0.5, 2, 0.5, 3, 0], 0, 5)]).toEqual([2, 1, 3, 0, 4]);
    expect([...mapRanks([9, 9, 1, 7], 2, 2)]).toEqual([1, 0]);
  });
});

describe('evaluate: bad input', () => {
  it('names the missing boxes, an unknown metric or baseline, bad steps and mismatched maps', async () => {
    const evaluator = new Evaluator(Model.fromFile(gpu(), join(DIR, 'model.onnx')));
    const images = readTensor(join(DIR, 'images.npy'));
    const maps = readTensor(join(DIR, 'distinct', 'maps.npy'));
    const classes = [0, 0, 0];
    try {
      await expect(evaluator.measure(images, maps, classes, { metrics: ['pointing'] })).rejects.toThrow('pointing needs ground-truth boxes (--boxes FILE)');
      await expect(evaluator.measure(images, maps, classes, { metrics: ['roundness' as never] })).rejects.toThrow('unknown metric "roundness"');
      await expect(evaluator.measure(images, maps, classes, { deletionBaseline: 'grey' as never })).rejects.toThrow('unknown baseline "grey"; choose one of zeros, mean, blur');
      await expect(evaluator.measure(images, maps, classes, { steps: 0 })).rejects.toThrow('--steps must be a positive integer');
      await expect(evaluator.measure(images, { shape: [3, 5, 5], data: new Float32Array(75) }, classes, {})).rejects.toThrow('do not match the images');
      await expect(evaluator.measure(images, maps, [0, 9, 0], { metrics: ['drop'] })).rejects.toThrow('class 9 is out of range: the model has 5 classes');
      await expect(evaluator.measure(images, maps, classes, { metrics: ['pointing'], truth: [{ boxes: [[0, 0, 1, 1]] }] })).rejects.toThrow('boxes are given for 1 images, the input has 3');
    } finally {
      evaluator.model.dispose();
      evaluator.dispose();
    }
  });
});
