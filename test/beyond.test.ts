// Explanations beyond 2-D classifiers against float64 PyTorch (scripts/make_beyond_refs.py): token and
// channels-last layers, softmax, binary, segmentation, similarity and raw targets, 1-D signals and 3-D
// volumes. Each case checks the target's score, the layer's activations in their own layout, and the
// raw maps of Grad-CAM, LayerCAM and EigenCAM made the way pytorch-grad-cam makes them
// after its reshape_transform.
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Explainer, type Method } from '../src/explain/explainer.js';
import type { Target } from '../src/explain/targets.js';
import type { LayoutName } from '../src/explain/layout.js';
import { Model } from '../src/runtime/model.js';
import { caseDirs, FIXTURES, readMeta, readReference, readTensor, relativeError } from './support/fixtures.js';
import { useGpu } from './support/gpu.js';

interface BeyondMeta {
  layer: string;
  layout: LayoutName;
  target: Target['kind'];
  classes: number[];
  grid: number[] | null;
  mask: string | null;
  concept: string | null;
  index: number | null;
  /** The methods with a reference map, <method>_raw.npy. */
  methods: Method[];
}

// Float32 against float64 over nets of two to six layers: the engine's maps and scores land within
// 1.6e-6 of these references (relative to the largest value; EigenCAM's power iteration included,
// these nets' eigen-gaps being wide); 1e-4 leaves a margin of about 100x and is ten times tighter than
// the acceptance bound of 1e-3 on the maps.
const TOLERANCE = 1e-4;

const gpu = useGpu();
const cases = caseDirs(join(FIXTURES, 'beyond'));

function targetOf(dir: string, meta: BeyondMeta): Target {
  return {
    kind: meta.target,
    mask: meta.mask ? readTensor(join(dir, meta.mask)) : undefined,
    concept: meta.concept ? readTensor(join(dir, meta.concept)) : undefined,
    index: meta.index ?? undefined,
  };
}

describe('explanations beyond 2-D classifiers match float64 PyTorch', () => {
  it('has its fixtures', () => expect(cases.length).toBeGreaterThanOrEqual(11));

  for (const dir of cases) {
    it(basename(dir), async () => {
      const meta = readMeta<BeyondMeta>(dir);
      const model = Model.fromFile(gpu(), join(dir, 'model.onnx'));
      const explainer = new Explainer(model);
      try {
        const input = readTensor(join(dir, 'x0.npy'));
        const target = targetOf(dir, meta);
        const classes = meta.target === 'raw' || meta.target === 'similarity' ? undefined : meta.classes;
        const options = { layer: meta.layer, layout: meta.layout, target, classes };
        const results = await explainer.explainMany(input, { ...options, methods: meta.methods });
        const gradcam = results.get('gradcam')!;
        expect(relativeError(gradcam.scores, readReference(join(dir, 'scores.npy')))).toBeLessThan(TOLERANCE);
        expect(gradcam.map.shape).toEqual([input.shape[0], ...input.shape.slice(2)]);
        for (const method of meta.methods) {
          expect(relativeError(results.get(method)!.map.data, readReference(join(dir, `${method}_raw.npy`))), method).toBeLessThan(TOLERANCE);
        }
        // The layer in its own layout (its gradient is checked through LayerCAM's map, which reads it at every position).
        const layer = (await model.run(input, [meta.layer])).get(meta.layer)!;
        expect(relativeError(layer.data, readReference(join(dir, 'activation.npy')))).toBeLessThan(TOLERANCE);
      } finally {
        explainer.dispose();
        model.dispose();
      }
    });
  }
});
