// Deep Feature Factorization on the small nets against float64 references (scripts/make_op_fixtures.py,
// dff_reference): the same multiplicative updates from the same counter-based start, so the concepts
// are the reference's; the test still matches the concept maps up to a permutation (an NMF's concepts
// have no order), and checks the head's scores, the concept chosen for the class, its map and the
// reconstruction error; then the refusals.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Explainer } from '../src/explain/explainer.js';
import { Model } from '../src/runtime/model.js';
import { caseDirs, FIXTURES, maxAbsError, readInputs, readMeta, readReference, relativeError } from './support/fixtures.js';
import { useGpu } from './support/gpu.js';

// The suite's bound (raw maps relative to their max, normalized maps absolute). Measured on lavapipe:
// maps 2.8e-6 (resnet_like) and 2.0e-5 (shufflenet_like), scores 1.9e-6 / 1.8e-5, the reconstruction
// error 6e-8 / 1.4e-6 of itself; the same steps in float32 NumPy land 2.3e-6 / 4.0e-6 from float64. 200
// steps (scikit-learn's max_iter) keep float32 near float64: at 500 one image of resnet_like drifted to
// 6.7e-4 in NumPy's float32 (the slow directions of an NMF amplify rounding).
const MAP_TOLERANCE = 1e-4;

interface DffMeta {
  gradcam_layer: string;
  classes: number[];
  logits: string;
  dff?: { components: number; chosen: number[]; lead: number[]; reconstruction_error: number[]; float32_map_rel_err: number };
}

const gpu = useGpu();

/** For each engine concept of image n, the reference concept whose normalized map is closest, and how close. */
function matchConcepts(got: Float32Array, expected: Float64Array, n: number, components: number, pixels: number) {
  const map = (data: ArrayLike<number>, k: number) => Array.from({ length: pixels }, (_, p) => data[(n * components + k) * pixels + p]);
  return Array.from({ length: components }, (_, j) => {
    const mine = map(got, j);
    let best = { index: -1, error: Infinity };
    for (let k = 0; k < components; k++) {
      const theirs = map(expected, k);
      const error = Math.max(...mine.map((v, p) => Math.abs(v - theirs[p])));
      if (error < best.error) best = { index: k, error };
    }
    return best;
  });
}

describe('Deep Feature Factorization', () => {
  for (const dir of caseDirs(join(FIXTURES, 'nets')).filter((d) => readMeta<DffMeta>(d).dff)) {
    const meta = readMeta<DffMeta>(dir);
    const dff = meta.dff!;
    it(`${dir.split('/').at(-1)} against float64`, async () => {
      const explainer = new Explainer(Model.fromFile(gpu(), join(dir, 'model.onnx')));
      try {
        const x = readInputs(dir).get('x0')!;
        const result = await explainer.explain(x, { method: 'dff', layer: meta.gradcam_layer, classes: meta.classes });
        const concepts = result.concepts!;
        const [batch, , h, w] = x.shape;
        expect(concepts.maps.shape).toEqual([batch, dff.components, h, w]);
        // Every engine concept is one reference concept, each once.
        const reference = readReference(join(dir, 'dff_concepts.npy'));
        for (let n = 0; n < batch; n++) {
          const matches = matchConcepts(concepts.maps.data, reference.data, n, dff.components, h * w);
          expect(new Set(matches.map((m) => m.index)).size, `image ${n}: a permutation`).toBe(dff.components);
          for (const m of matches) expect(m.error, `image ${n} concept ${m.index}`).toBeLessThan(MAP_TOLERANCE);
        }
        // The head's scores of the concepts, the choice for the class (the generator records the
        // choice's lead: at least 0.022 of the largest score, far above float32's reach), its map.
        expect(relativeError(concepts.scores.data, readReference(join(dir, 'dff_scores.npy')))).toBeLessThan(MAP_TOLERANCE);
        expect(concepts.chosen).toEqual(dff.chosen);
        concepts.lead.forEach((lead, n) => expect(Math.abs(lead - dff.lead[n])).toBeLessThan(MAP_TOLERANCE));
        const raw = readReference(join(dir, 'dff_raw.npy'));
        expect(relativeError(result.map.data, raw)).toBeLessThan(MAP_TOLERANCE);
        // The reconstruction error, to the map's bound relative to itself.
        concepts.reconstructionError.forEach((e, n) => expect(Math.abs(e - dff.reconstruction_error[n]) / dff.reconstruction_error[n]).toBeLessThan(MAP_TOLERANCE));

        // Each image is factorized on its own, from the same start: with the images swapped (some nets
        // fix their batch size), every image gets the same concepts.
        const half = x.data.length / 2;
        const swapped = { shape: x.shape, data: Float32Array.from([...x.data.subarray(half), ...x.data.subarray(0, half)]) };
        const again = await explainer.explain(swapped, { method: 'dff', layer: meta.gradcam_layer, classes: [...meta.classes].reverse() });
        const perImage = dff.components * h * w;
        const maps = concepts.maps.data;
        const swappedBack = Float64Array.from([...maps.subarray(perImage), ...maps.subarray(0, perImage)]);
        expect(maxAbsError(again.concepts!.maps.data, { shape: [2 * perImage], data: swappedBack })).toBeLessThan(1e-6);

        // With more concepts the factorization reconstructs the layer better.
        const more = await explainer.explain(x, { method: 'dff', layer: meta.gradcam_layer, classes: meta.classes, concepts: 8 });
        expect(more.concepts!.maps.shape[1]).toBe(8);
        more.concepts!.reconstructionError.forEach((e, n) => expect(e).toBeLessThan(concepts.reconstructionError[n]));
      } finally {
        explainer.model.dispose();
      }
    });
  }

  it('refuses heads it cannot score concepts with, bad concept counts and the smoothings', async () => {
    const dir = join(FIXTURES, 'nets', 'alexnet_like_opset13');
    const explainer = new Explainer(Model.fromFile(gpu(), join(dir, 'model.onnx')));
    const resnet = new Explainer(Model.fromFile(gpu(), join(FIXTURES, 'nets', 'resnet_like_opset13', 'model.onnx')));
    try {
      const x = readInputs(dir).get('x0')!;
      await expect(explainer.explain(x, { method: 'dff' })).rejects.toThrow(/^dff needs the layer to feed global average pooling/);
      for (const concepts of [0, 2.5, -1]) await expect(resnet.explain(x, { method: 'dff', concepts })).rejects.toThrow(/--concepts must be a positive integer/);
      await expect(resnet.explain(x, { method: 'dff', concepts: 17 })).rejects.toThrow(/--concepts 17: the layer has 16 channels and 20 positions, so at most 16 concepts/);
      await expect(resnet.explain(x, { method: 'dff', smoothAug: true })).rejects.toThrow(/--smooth-aug is not implemented for dff/);
      await expect(resnet.explain(x, { method: 'dff', smooth: { samples: 2, noise: 0.1 } })).rejects.toThrow(/SmoothGrad averages gradients; dff uses none/);
      await expect(resnet.explain(x, { method: 'dff', target: { kind: 'softmax' } })).rejects.toThrow(/dff explains a class logit/);
    } finally {
      explainer.model.dispose();
      resnet.model.dispose();
    }
  });
});
