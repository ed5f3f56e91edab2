// Explanations beyond 2-D classifiers against float64 PyTorch (scripts/make_beyond_refs.py): token and
// channels-last layers, softmax, binary, segmentation, similarity and raw targets, 1-D signals and 3-D
// volumes. Each case checks the target's score, the layer's activations in their own layout, and the
// raw maps of Grad-CAM, LayerCAM and EigenCAM made the way pytorch-grad-cam makes them
// after its reshape_transform.
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Explainer, type Method } from '../src/explain/explainer.js';
import { Evaluator } from '../src/evaluate/evaluator.js';
import type { Target } from '../src/explain/targets.js';
import { describeLayer, type LayoutName, tokenGrid } from '../src/explain/layout.js';
import { Model } from '../src/runtime/model.js';
import { caseDirs, FIXTURES, readMeta, readReference, readTensor, relativeError } from './support/fixtures.js';
import { useGpu } from './support/gpu.js';
import { BEYOND_REFERENCE_DIR } from './setup/references.js';

interface BeyondMeta {
  layer: string;
  layout: LayoutName;
  target: Target['kind'];
  classes: number[];
  grid: number[] | null;
  mask: string | null;
  concept: string | null;
  index: number | null;
  box: string | null;
  format: 'yolov5' | 'yolov8' | null;
  /** The methods with a reference map, <method>_raw.npy. */
  methods: Method[];
  /** PyTorch's own float32 error per method (the torchvision cases). */
  torch_float32_rel_err: Record<string, number>;
}

// Float32 against float64 over nets of two to six layers: the engine's maps and scores land within
// 1.6e-6 of these references (relative to the largest value; EigenCAM's power iteration included,
// these nets' eigen-gaps being wide); 1e-4 leaves a margin of about 100x and is ten times tighter than
// the acceptance bound of 1e-3 on the maps.
const TOLERANCE = 1e-4;

const gpu = useGpu();
// The cases of one layer, layout and target; refine_two_layers is RefineCAM's (several layers).
const cases = caseDirs(join(FIXTURES, 'beyond')).filter((dir) => !readMeta<{ method?: string }>(dir).method);

interface OpenCase {
  dir: string;
  meta: BeyondMeta;
  model: Model;
  explainer: Explainer;
  input: ReturnType<typeof readTensor>;
}

/** A fixture folder's model, explainer and input for `body`; both freed after. */
async function withCase<T>(dir: string, body: (c: OpenCase) => Promise<T>): Promise<T> {
  const model = Model.fromFile(gpu(), join(dir, 'model.onnx'));
  const explainer = new Explainer(model);
  try {
    return await body({ dir, meta: readMeta<BeyondMeta>(dir), model, explainer, input: readTensor(join(dir, 'x0.npy')) });
  } finally {
    explainer.dispose();
    model.dispose();
  }
}

function targetOf(dir: string, meta: BeyondMeta): Target {
  return {
    kind: meta.target,
    mask: meta.mask ? readTensor(join(dir, meta.mask)) : undefined,
    concept: meta.concept ? readTensor(join(dir, meta.concept)) : undefined,
    index: meta.index ?? undefined,
    box: meta.box ? readTensor(join(dir, meta.box)) : undefined,
    format: meta.format ?? undefined,
  };
}

describe('explanations beyond 2-D classifiers match float64 PyTorch', () => {
  it('has its fixtures', () => expect(cases.length).toBeGreaterThanOrEqual(13));

  for (const dir of cases) {
    it(basename(dir), () =>
      withCase(dir, async ({ meta, model, explainer, input }) => {
        const target = targetOf(dir, meta);
        const classes = meta.target === 'raw' || meta.target === 'similarity' || meta.classes[0] < 0 ? undefined : meta.classes;
        const options = { layer: meta.layer, layout: meta.layout, target, classes };
        const results = await explainer.explainMany(input, { ...options, methods: meta.methods });
        const gradcam = results.get('gradcam')!;
        expect(relativeError(gradcam.scores, readReference(join(dir, 'scores.npy')))).toBeLessThan(TOLERANCE);
        expect(gradcam.map.shape).toEqual([input.shape[0], ...input.shape.slice(2)]);
        // The decision-margin analysis: no ReLU between the layer and the score, and no top-1 choice,
        // within float32 rounding of its kink, so a map may be held to float32 rounding at all.
        expect(gradcam.stability.stable, 'stable').toEqual(gradcam.stability.stable.map(() => true));
        for (const method of meta.methods) {
          expect(relativeError(results.get(method)!.map.data, readReference(join(dir, `${method}_raw.npy`))), method).toBeLessThan(TOLERANCE);
        }
        // The layer in its own layout (its gradient is checked through LayerCAM's map, which reads it at every position).
        const layer = (await model.run(input, [meta.layer])).get(meta.layer)!;
        expect(relativeError(layer.data, readReference(join(dir, 'activation.npy')))).toBeLessThan(TOLERANCE);
      }));
  }
});

describe('layer layouts', () => {
  it('reads a token grid from the token count and the input aspect, with or without a class token', () => {
    expect(tokenGrid(197, [224, 224])).toEqual([14, 14]);
    expect(tokenGrid(196, [224, 224])).toEqual([14, 14]);
    expect(tokenGrid(49, [32, 24])).toEqual([8, 6]);
    expect(tokenGrid(35, [20, 28])).toEqual([5, 7]);
    expect(() => tokenGrid(2, [224, 224])).toThrow(/give it with --grid HxW/);
    const tokens = describeLayer([2, 49, 16], 'tokens', [32, 24]);
    expect(tokens).toMatchObject({ channels: 16, spatial: [8, 6], channelStride: 1, positionStride: 16, offset: 16, classToken: true });
    expect(describeLayer([2, 5, 7, 12], 'channels-last', [20, 28])).toMatchObject({ channels: 12, spatial: [5, 7], channelStride: 1, positionStride: 12, offset: 0 });
    expect(describeLayer([2, 8, 4, 6, 5], 'nchw', [8, 12, 10])).toMatchObject({ channels: 8, spatial: [4, 6, 5], channelStride: 120, positionStride: 1 });
    expect(() => describeLayer([2, 49, 16], 'tokens', [32, 24], [7, 6])).toThrow(/grid 7x6 has 42 positions; the layer has 49 tokens/);
    expect(() => describeLayer([2, 16, 8, 8], 'tokens', [32, 32])).toThrow(/layout tokens needs a 3-D layer/);
  });

  it('finds the default layer of each layout: the last block\'s norm1 for tokens, the last spatial map otherwise', async () => {
    for (const [name, layout] of [['vit_tokens_class', 'tokens'], ['swin_channels_last', 'channels-last'], ['cnn1d_signal', 'nchw'], ['cnn3d_volume', 'nchw']] as const) {
      await withCase(join(FIXTURES, 'beyond', name), async ({ meta, explainer, input }) => {
        expect(explainer.layers(input.shape, undefined, { layout }).default.tensor, name).toBe(meta.layer);
      });
    }
  });

  it('explains a detector at its neck by default, and says so when no prediction overlaps the box', () =>
    withCase(join(FIXTURES, 'beyond', 'detector_yolov8'), async ({ dir, meta, explainer, input }) => {
      const target = targetOf(dir, meta);
      const result = await explainer.explain(input, { target });
      expect(result.layer.tensor).toBe(meta.layer);
      expect(relativeError(result.map.data, readReference(join(dir, 'gradcam_raw.npy')))).toBeLessThan(TOLERANCE);
      const far = { shape: [4], data: Float32Array.from([0, 0, 1, 1]) };
      await expect(explainer.explain(input, { target: { ...target, box: far } })).rejects.toThrow(/no prediction overlaps the box with IoU >= 0.5 in images 0, 1/);
      await expect(explainer.explain(input, { target: { kind: 'detection' } })).rejects.toThrow(/target detection needs a box/);
      await expect(explainer.explain(input, { target: { ...target, format: 'yolov5' } })).rejects.toThrow(/a yolov5 head has 5 box and score fields and at least one class per prediction; output "y" \[2, 7, 80\] has 80|overlaps/);
    }));

  it('gives the fused map kernel\'s map from its unfused steps, bit for bit, on a token layer with a class token', () =>
    withCase(join(FIXTURES, 'beyond', 'vit_tokens_class'), async ({ meta, explainer, input }) => {
      const options = { layer: meta.layer, layout: meta.layout, classes: meta.classes, methods: ['gradcam', 'gradcam++', 'layercam'] as Method[] };
      const fused = await explainer.explainMany(input, options);
      const unfused = await explainer.explainMany(input, { ...options, unfused: true });
      for (const [method, e] of fused) expect(Array.from(unfused.get(method)!.map.data), method).toEqual(Array.from(e.map.data));
      // Read as if it had no class token (a 7x7 grid of the 49 tokens), the map is another one.
      const wrong = await explainer.explain(input, { layer: meta.layer, layout: 'tokens', grid: [7, 7], classes: meta.classes });
      expect(relativeError(wrong.map.data.subarray(0, 32 * 24), { shape: [], data: Float64Array.from(fused.get('gradcam')!.map.data.subarray(0, 32 * 24)) })).toBeGreaterThan(0.05);
    }));

  it('refuses bad combinations with one-line errors', async () => {
    const refuse = (p: Promise<unknown>, pattern: RegExp) => expect(p).rejects.toThrow(pattern);
    const beyond = (name: string) => join(FIXTURES, 'beyond', name);
    await withCase(beyond('vit_tokens_class'), async ({ explainer, input }) => {
      await refuse(explainer.explain(input, { layer: '/patch/Conv_output_0', layout: 'tokens' }), /not a layer the tokens layout reads/);
      await refuse(explainer.explain(input, { target: { kind: 'binary' } }), /target binary needs one logit per image; output "y" has 5/);
      await refuse(explainer.explain(input, { layout: 'tokens', method: 'cam' }), /cam explains a class logit|CAM reads nchw layers/);
      await refuse(explainer.explain(input, { layout: 'tokens', method: 'scorecam', target: { kind: 'softmax' } }), /scorecam explains a class logit/);
    });
    await withCase(beyond('seg_argmax_mask'), async ({ explainer, input }) => {
      await refuse(explainer.explain(input, { target: { kind: 'segmentation' } }), /target segmentation needs the class to explain/);
      const mask = { shape: [5, 5], data: new Float32Array(25) };
      await refuse(explainer.explain(input, { target: { kind: 'segmentation', mask }, classes: [1] }), /the mask has 5x5 values; the output's positions are 24x20/);
    });
    await withCase(beyond('embed_similarity'), async ({ explainer, input }) => {
      await refuse(explainer.explain(input, { target: { kind: 'similarity', concept: { shape: [3], data: new Float32Array(3) } } }), /the concept has 3 values; output "y" has 8 per image/);
      await refuse(explainer.explain(input, { target: { kind: 'similarity' } }), /needs a concept vector/);
      await refuse(explainer.explain(input, { target: { kind: 'raw', index: 8 } }), /target raw needs an index from 0 to 7/);
      await refuse(explainer.explain(input, { target: { kind: 'softmax' }, smooth: { samples: 2, noise: 0.1, seed: 0 } }), /SmoothGrad explains the class logit/);
    });
  });
});

describe('RefineCAM', () => {
  it('multiplies the normalized Grad-CAM++ maps of several layers, as float64 PyTorch does', async () => {
    const dir = join(FIXTURES, 'beyond', 'refine_two_layers');
    const meta = readMeta<{ layers: string[]; classes: number[] }>(dir);
    const model = Model.fromFile(gpu(), join(dir, 'model.onnx'));
    const explainer = new Explainer(model);
    try {
      const input = readTensor(join(dir, 'x0.npy'));
      const results = await explainer.explainLayers(input, { methods: ['refinecam', 'gradcam++'], layers: meta.layers, classes: meta.classes });
      // One RefineCAM for the call's layers, beside Grad-CAM++ at each.
      expect(results.map((e) => `${e.method} ${e.layer.tensor}`)).toEqual([`refinecam ${meta.layers[0]}`, `gradcam++ ${meta.layers[0]}`, `gradcam++ ${meta.layers[1]}`]);
      const refine = results[0];
      expect(relativeError(refine.map.data, readReference(join(dir, 'refinecam_raw.npy')))).toBeLessThan(TOLERANCE);
      // Its product is of the normalized maps the call gave for Grad-CAM++.
      const [a, b] = [results[1].normalized.data, results[2].normalized.data];
      expect(Array.from(refine.map.data)).toEqual(Array.from(a, (v, i) => Math.fround(v * b[i])));
    } finally {
      explainer.dispose();
      model.dispose();
    }
  });
});

describe('faithfulness metrics on signals and volumes', () => {
  // The deletion and insertion curves' copies are made on the GPU along the map's order of positions
  // (every channel at a position); here they are made on the host in float64 order and run through
  // the model's forward pass: the class probabilities must agree to float32 rounding of a softmax of
  // a few values, a few 1e-7 (measured: 1e-8 at most); 1e-5 leaves a margin of 30x over that bound.
  for (const name of ['cnn1d_signal', 'cnn3d_volume']) {
    it(`${name}: deletion and insertion perturb positions across channels in map order`, async () => {
      const dir = join(FIXTURES, 'beyond', name);
      const model = Model.fromFile(gpu(), join(dir, 'model.onnx'));
      const evaluator = new Evaluator(model);
      try {
        const input = readTensor(join(dir, 'x0.npy'));
        const [images, channels, ...spatial] = input.shape;
        const plane = spatial.reduce((a, b) => a * b, 1);
        const map = { shape: [images, ...spatial], data: Float32Array.from(readReference(join(dir, 'gradcam_raw.npy')).data) };
        const classes = readMeta<BeyondMeta>(dir).classes;
        const steps = 4;
        const scores = await evaluator.measure(input, map, classes, { metrics: ['deletion', 'insertion'], steps, deletionBaseline: 'zeros', insertionBaseline: 'zeros' });
        for (const [curve, keepTop] of [['deletion', false], ['insertion', true]] as const) {
          const got = scores[curve]!;
          for (let n = 0; n < images; n++) {
            const order = Array.from({ length: plane }, (_, p) => p).sort((a, b) => map.data[n * plane + b] - map.data[n * plane + a] || a - b);
            for (const [i, k] of got.pixels.entries()) {
              const top = new Set(order.slice(0, k));
              const copy = new Float32Array(channels * plane);
              for (let c = 0; c < channels; c++) {
                for (let p = 0; p < plane; p++) copy[c * plane + p] = top.has(p) === keepTop ? input.data[(n * channels + c) * plane + p] : 0;
              }
              const logits = (await model.run({ shape: [1, channels, ...spatial], data: copy })).values().next().value!.data;
              const exps = Array.from(logits, (v) => Math.exp(v - Math.max(...logits)));
              const expected = exps[classes[n]] / exps.reduce((a, b) => a + b, 0);
              expect(Math.abs(got.probabilities[n][i] - expected), `${curve} image ${n} at ${k} positions`).toBeLessThan(1e-5);
            }
          }
        }
      } finally {
        evaluator.dispose();
        model.dispose();
      }
    });
  }
});

describe.skipIf(process.env.GRADCAM_SKIP_TORCHVISION)('torchvision\'s vit_b_16, swin_t and r3d_18 (seeded weights) match float64 PyTorch', () => {
  // Each map is held to 1e-4 or to three times PyTorch's own float32 error on the same case
  // (scripts/make_beyond_refs.py measures it: 3e-7 to 4e-6), whichever is larger: ViT-B's and Swin-T's
  // twelve blocks and r3d_18's 3-D convolutions add rounding that the small nets do not have (the
  // engine's measured error: 1.5e-6 at most).
  const PYTORCH_FLOAT32_FACTOR = 3;
  for (const name of ['vit_b_16', 'swin_t', 'r3d_18']) {
    it(name, () =>
      withCase(join(BEYOND_REFERENCE_DIR, name), async ({ dir, meta, explainer, input }) => {
        // pytorch-grad-cam's recipes' layers: ViT's last ln_1 (the tokens layout's default too), Swin's
        // last block's norm1 (the default is the final norm after it), r3d_18's layer4 (2x2x2 for a
        // 16x32x32 clip).
        const results = await explainer.explainMany(input, { layer: meta.layer, layout: meta.layout, target: { kind: meta.target }, classes: meta.classes, methods: meta.methods });
        if (name !== 'swin_t') expect(explainer.layers(input.shape, undefined, { layout: meta.layout }).default.tensor).toBe(meta.layer);
        expect(results.get('gradcam')!.stability.stable, 'stable').toEqual([true]);
        expect(relativeError(results.get('gradcam')!.scores, readReference(join(dir, 'scores.npy')))).toBeLessThan(1e-4);
        for (const method of meta.methods) {
          const limit = Math.max(TOLERANCE, PYTORCH_FLOAT32_FACTOR * meta.torch_float32_rel_err[method]);
          expect(relativeError(results.get(method)!.map.data, readReference(join(dir, `${method}_raw.npy`))), method).toBeLessThan(limit);
        }
      }), 300_000);
  }
});
