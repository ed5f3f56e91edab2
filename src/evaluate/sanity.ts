// Sanity checks for saliency maps (Adebayo et al. 2018), cascading model-parameter randomization: the
// weight layers are redrawn one by one from the top (the classifier) down, in place on the GPU with a
// seeded generator, and after each the maps are explained again and compared with the trained model's
// by Spearman rank correlation and SSIM. A map that stays the same while the model it claims to explain
// is destroyed explains something else (the image).
import { elementCount, type Constant, type Shape, upstreamTensors } from '../graph/ir.js';
import { UserError } from '../errors.js';
import { evaluateKernels } from '../kernels/evaluate.js';
import type { Plan, TensorInfo } from '../plan/builder.js';
import { Executable } from '../plan/executable.js';
import type { Model, Tensor } from '../runtime/model.js';
import { type Explanation, Explainer, type Method } from '../explain/explainer.js';
import { checkSeed } from '../explain/smooth.js';
import { scoreTensor } from '../explain/layers.js';
import { pixelMap, spearman, ssim } from './metrics.js';

/** The ops whose weights the checks redraw: the layers that carry parameters (BatchNorm is folded into its convolution at load). */
const WEIGHT_OPS = new Set(['Conv', 'ConvTranspose', 'Gemm', 'MatMul']);

export interface WeightLayer {
  node: string;
  opType: string;
  /** The weight, and the bias where there is one. */
  tensors: string[];
}

export interface SanityOptions {
  methods: Method[];
  layer?: string;
  /** The classes explained throughout; default: each image's top-1 under the trained weights. */
  classes?: number[];
  output?: string;
  /** The generator's seed. */
  seed?: number;
  /** Perturbed copies per pass (Score-CAM, Ablation-CAM). */
  batch?: number;
  /** Called after each randomization step with that step's explanations (step 0: the trained model). */
  onStep?: (step: number, layer: WeightLayer | undefined, explanations: Map<Method, Explanation>) => void;
}

export interface SanityResult {
  /** Top first: step k has layers[0..k-1] redrawn. */
  layers: WeightLayer[];
  classes: number[];
  /** Per method and step (1..layers), the mean over images, and per image. */
  methods: Record<string, { spearman: number[]; ssim: number[]; perImage: { spearman: number[][]; ssim: number[][] } }>;
}

/** The weight layers upstream of the scores, top first. */
export function weightLayers(model: Model, inputShape: Shape, output?: string): WeightLayer[] {
  const shaped = model.shaped(new Map([[model.inputName, inputShape]]));
  const upstream = upstreamTensors(shaped.nodes, scoreTensor(shaped, output));
  const layers: WeightLayer[] = [];
  for (const node of shaped.nodes) {
    if (!WEIGHT_OPS.has(node.opType) || !node.outputs.some((o) => upstream.has(o))) continue;
    const tensors = node.inputs.slice(1, 3).filter((t) => t !== '' && shaped.constants.get(t)?.dtype === 'float32');
    if (tensors.length > 0) layers.push({ node: node.name, opType: node.opType, tensors });
  }
  return layers.reverse();
}

/**
 * Redraws one layer's tensors in `model`'s weight buffers: each value becomes s * N(0, 1) with s the
 * standard deviation of that tensor's trained values (the scale, so activations stay in range), draw i of
 * stream 2 * step (weight) or 2 * step + 1 (bias) of the seeded generator (shaders/random.wgsl).
 */
export async function redrawLayer(model: Model, constants: Map<string, Constant>, layer: WeightLayer, step: number, seed: number): Promise<void> {
  const tensors: TensorInfo[] = [];
  const dispatches: Plan['dispatches'] = [];
  layer.tensors.forEach((name, which) => {
    const constant = constants.get(name)!;
    const t: TensorInfo = { id: tensors.length, root: tensors.length, shape: constant.shape, label: name, byteLength: 4 * elementCount(constant.shape), kind: 'constant', constant };
    tensors.push(t);
    // Ranges that fit one binding, aligned as bindings must be.
    const count = elementCount(constant.shape);
    const chunk = Math.floor(Math.min(model.deviceTraits.maxBindingBytes, 2 ** 30) / model.deviceTraits.minOffsetAlignment) * model.deviceTraits.minOffsetAlignment / 4;
    for (let first = 0; first < count; first += chunk) {
      const n = Math.min(chunk, count - first);
      dispatches.push({
        program: evaluateKernels.randomize.program({
          uniforms: { seed, stream: 2 * step + which, first_index: first, scale: deviation(constant) },
          bindings: { values: { tensor: t, byteOffset: 4 * first, byteLength: 4 * n } },
          count: n,
        }),
        phase: 'forward',
        label: `redraw ${name}`,
      });
    }
  });
  const plan: Plan = { tensors, dispatches, inputs: new Map(), outputs: new Map(), shared: new Map(), externals: new Map() };
  await model.call(async () => {
    const exe = await Executable.create(model.gpu, plan, model.weights);
    try {
      await exe.run(new Map());
    } finally {
      exe.destroy();
    }
  });
}

function deviation(c: Constant): number {
  const data = c.data as Float32Array;
  let sum = 0;
  for (const v of data) sum += v;
  const mean = sum / data.length;
  let squares = 0;
  for (const v of data) squares += (v - mean) ** 2;
  return Math.sqrt(squares / data.length);
}

/**
 * Cascading randomization of a copy of `model` (its own weight buffers, so `model` is left alone, and no
 * Winograd filters, which are transformed on the CPU from the weights when a plan is made).
 */
export async function cascadingRandomization(model: Model, input: Tensor, options: SanityOptions): Promise<SanityResult> {
  const seed = options.seed ?? 0;
  checkSeed(seed);
  const copy = model.copy({ winograd: false });
  const explainer = new Explainer(copy);
  try {
    const layers = weightLayers(copy, input.shape, options.output);
    const { constants } = copy.shaped(new Map([[copy.inputName, input.shape]]));
    if (layers.length === 0) throw new UserError('the model has no weight layers (Conv, Gemm, MatMul with constant weights) to randomize');
    const explain = (classes?: number[]) => explainer.explainMany(input, { methods: options.methods, layer: options.layer, classes, output: options.output, batch: options.batch });
    const trained = await explain(options.classes);
    const classes = trained.get(options.methods[0])!.classes;
    options.onStep?.(0, undefined, trained);
    const [images, , height, width] = input.shape;
    const plane = height * width;
    const mapsOf = (e: Explanation) => pixelMap(e.map.data, e.map.shape);
    const reference = new Map(options.methods.map((m) => [m, mapsOf(trained.get(m)!)]));
    const methods: SanityResult['methods'] = Object.fromEntries(options.methods.map((m) => [m, { spearman: [], ssim: [], perImage: { spearman: [], ssim: [] } }]));
    for (const [step, layer] of layers.entries()) {
      await redrawLayer(copy, constants, layer, step, seed);
      const randomized = await explain(classes);
      options.onStep?.(step + 1, layer, randomized);
      for (const m of options.methods) {
        const before = reference.get(m)!;
        const after = mapsOf(randomized.get(m)!);
        const rho: number[] = [];
        const similarity: number[] = [];
        for (let n = 0; n < images; n++) {
          const a = before.subarray(n * plane, (n + 1) * plane);
          const b = after.subarray(n * plane, (n + 1) * plane);
          rho.push(spearman(a, b));
          similarity.push(ssim(a, b, width, height));
        }
        methods[m].perImage.spearman.push(rho);
        methods[m].perImage.ssim.push(similarity);
      }
    }
    return withMeans({ layers, classes, methods });
  } finally {
    explainer.dispose();
    copy.dispose();
  }
}

/** The checks of several groups of images as one: per step, each image's values and the means over all. */
export function mergeSanity(parts: SanityResult[]): SanityResult {
  const methods = Object.fromEntries(
    Object.keys(parts[0].methods).map((m) => {
      const perImage = (key: 'spearman' | 'ssim') => parts[0].layers.map((_, step) => parts.flatMap((p) => p.methods[m].perImage[key][step]));
      return [m, { spearman: [], ssim: [], perImage: { spearman: perImage('spearman'), ssim: perImage('ssim') } }];
    }),
  );
  return withMeans({ layers: parts[0].layers, classes: parts.flatMap((p) => p.classes), methods });
}

/** Fills each method's per-step means from its per-image values. */
function withMeans(result: SanityResult): SanityResult {
  const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
  for (const r of Object.values(result.methods)) {
    r.spearman = r.perImage.spearman.map(mean);
    r.ssim = r.perImage.ssim.map(mean);
  }
  return result;
}
