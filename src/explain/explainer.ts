// Grad-CAM and its family (counterfactual, CAM, XGrad-CAM, Grad-CAM++, HiResCAM, element-wise Grad-CAM,
// LayerCAM, EigenCAM, EigenGrad-CAM, guided back-propagation, Guided Grad-CAM) on a loaded model: the
// calls, their checks and their results. One plan per (input shape, layers, methods, output), built in
// plan.ts: one submission, and only the maps and the scores are read back.
import { elementCount, type Shape } from '../graph/ir.js';
import { UserError } from '../errors.js';
import { type DispatchProfile, profileOf } from '../plan/profile.js';
import { dataOf, type Model, shapesOf, type Tensor } from '../runtime/model.js';
import { nonFiniteOutputError } from '../runtime/finite.js';
import { DISPOSE } from '../gpu/context.js';
import { candidateLayers, defaultLayer, type LayerInfo, scoreTensor } from './layers.js';
import type { LayoutName } from './layout.js';
import { GUIDED, LAYER_FREE, type Method, METHODS, MODE, NO_GRADIENT, outputName, OWN_TARGET, PERTURBATION_METHODS } from './methods.js';
import { buildExplainerPlan, CLASSES_INPUT, type ExplainerPlan, TARGET_AUX_INPUT } from './plan.js';
import { isClassTarget, requestedClasses, type Target, targetAux } from './targets.js';
import { classMargins, type Stability, stabilityOf } from './stability.js';
import { checkConcepts } from './dff.js';
import { checkSmoothOptions, SMOOTH_IMAGES, SMOOTH_RUN, smoothRun, type SmoothOptions } from './smooth.js';
import { checkBatchSize, DEFAULT_PERTURBATION_BATCH, type PerturbationMethod, Perturbation, type PerturbationResult } from './perturb.js';

export { METHOD_HELP, METHODS, type Method } from './methods.js';

export interface ExplainOptions {
  method?: Method;
  /** Tensor or node name; default: the last spatial feature map before the head. */
  layer?: string;
  /** One class for every image or one per image; default: each image's top-1 class. */
  classes?: number[];
  /** The class-score output when not the first graph output. */
  output?: string;
  /** What is explained: the class logit (default), its softmax probability, a binary logit, a segmentation mask's sum, a similarity, an output element. */
  target?: Target;
  /** How the layer is read: nchw (default; [N, C, L] and [N, C, D, H, W] too), tokens [N, T, C], channels-last. */
  layout?: LayoutName;
  /** The tokens layout's grid [h, w]; default: found from the token count and the input's aspect. */
  grid?: number[];
  /** Four dispatches instead of the fused kernel (for tests and benchmarks). */
  unfused?: boolean;
  /** Time every dispatch (Explanation.profile); such plans run a little slower. */
  profile?: boolean;
  /** Score-CAM and Ablation-CAM: perturbed copies per forward pass (bounds memory); default 16. */
  batch?: number;
  /** Score-CAM and Ablation-CAM: called after each batch of forward passes (SmoothGrad: of copies). */
  onProgress?: (done: number, total: number, method: Method) => void;
  /**
   * pytorch-grad-cam's eigen_smooth: the first principal component of the channels' terms (alpha_k A_k,
   * or an elementwise method's f(dy/dA_k, A_k)) instead of their sum; for the map-kernel methods.
   */
  smoothEigen?: boolean;
  /** SmoothGrad for the gradient methods: the map averaged over noisy copies of each image. */
  smooth?: SmoothOptions;
  /**
   * pytorch-grad-cam's aug_smooth: the map averaged over six copies of each image (flipped along its last
   * axis or not, x 0.9, 1, 1.1), each map mirrored back; `normalized` is the mean of the copies'
   * normalized maps, as pytorch-grad-cam returns it. The class is the clean image's.
   */
  smoothAug?: boolean;
  /** DFF: concepts per image (default 5). */
  concepts?: number;
  /**
   * Stops a long call (Score-CAM's and Ablation-CAM's batches, SmoothGrad's copies) between two
   * submissions: the call rejects with the signal's reason and the next call runs as usual.
   */
  signal?: AbortSignal;
}

export interface ExplainManyOptions extends Omit<ExplainOptions, 'method'> {
  methods: Method[];
}

export interface ExplainLayersOptions extends Omit<ExplainOptions, 'method' | 'layer'> {
  methods: Method[];
  /** Tensor or node names, explained from one backward pass; default: the last spatial feature map. */
  layers?: string[];
}

export interface Explanation {
  method: Method;
  layer: LayerInfo;
  /** Per image: the explained class (0 for a similarity) and the target's score y (the class logit before softmax by default). */
  classes: number[];
  scores: number[];
  /** The output the target reads, per image flattened: [N, values] (the class scores of a classifier). */
  logits: Tensor;
  /**
   * [N, spatial...] of the input ([N, H, W] for images, [N, L] for signals, [N, D, H, W] for volumes):
   * the method's map, ReLU(sum over channels) resized to the input, unnormalized; for the guided
   * methods the input's shape, the gradient image at the input.
   */
  map: Tensor;
  /**
   * Per image (m - min) / (max - min), all zeros where the map is constant; for the guided methods the
   * papers' picture: standardized, x0.1, +0.5, clipped to [0, 1] (shaders/guided_image.wgsl). Neither
   * depends on the map's magnitude.
   */
  normalized: Tensor;
  /**
   * Per image, the smallest margin of a ReLU/Clip/HardSigmoid/HardSwish decision on the backward path
   * (distance to its kink relative to the tensor's max |x|) and whether it is clear of float32
   * rounding; a map that is not stable can move by O(1e-2) under any float32 arithmetic. CAM has no
   * backward path: always stable, and so are EigenCAM, Score-CAM and Ablation-CAM, which take no
   * gradient. The guided methods report the decisions of their backward pass to the input (ReLU
   * inputs, max-pool windows) and the guided rule's tests of the gradient's sign (how close dy came
   * to 0 at an open ReLU, relative to the image's max |dy|).
   */
  stability: Stability;
  /**
   * GPU milliseconds per phase (timestamp queries), where the adapter has them; Score-CAM and
   * Ablation-CAM add their batches of forward passes and their map as perturbationMs.
   */
  timings: { forwardMs?: number; backwardMs?: number; camMs?: number; perturbationMs?: number; wallMs: number };
  /** With `profile`: every dispatch of the run, slowest first. */
  profile?: DispatchProfile[];
  /** DFF: every concept of every image. */
  concepts?: Concepts;
}

/** DFF's factorization of each image's layer into K concepts. */
export interface Concepts {
  /** [N, K, spatial...]: each concept's map, resized to the input and normalized per map. */
  maps: Tensor;
  /** [N, K, classes]: the classifier head on each concept (W's column plus the channels' minima). */
  scores: Tensor;
  /** Per image: the concept whose map is the explanation's (the head's highest score for the class). */
  chosen: number[];
  /** Per image: the chosen score's lead over the next concept's, relative to the largest |score|. */
  lead: number[];
  /** Per image: |X - W H| / |X| of the shifted layer X (Frobenius norms). */
  reconstructionError: number[];
}


let explainers = 0;

export class Explainer {
  /** This explainer's plans live in the model's plan cache under keys with this prefix. */
  private readonly prefix = `explainer ${++explainers}|`;

  constructor(readonly model: Model) {}

  /** Candidate layers for this input shape in a layout (default nchw), and the default one. */
  layers(inputShape: Shape, output?: string, choice: { layout?: LayoutName; grid?: number[] } = {}): { layers: LayerInfo[]; default: LayerInfo; score: string } {
    const shaped = this.model.shaped(new Map([[this.model.inputName, inputShape]]));
    const score = scoreTensor(shaped, output);
    const layers = candidateLayers(shaped, score, inputShape.slice(2), choice);
    return { layers, default: defaultLayer(shaped, layers, choice.layout), score };
  }

  async explain(input: Tensor, options: ExplainOptions = {}): Promise<Explanation> {
    const method = options.method ?? 'gradcam';
    return (await this.explainMany(input, { ...options, methods: [method] })).get(method)!;
  }

  /**
   * Several methods from one plan: one forward and (where a method needs it) one backward pass,
   * then each method's map kernel. The result has one explanation per method.
   */
  explainMany(input: Tensor, options: ExplainManyOptions): Promise<Map<Method, Explanation>> {
    return this.model.call(() => this.explainManyHeld(input, options));
  }

  /** explainMany() inside a call that already holds the device (Model.call). */
  async explainManyHeld(input: Tensor, options: ExplainManyOptions): Promise<Map<Method, Explanation>> {
    const { layer, ...rest } = options;
    const all = await this.explainLayersHeld(input, { ...rest, layers: layer === undefined ? undefined : [layer] });
    return new Map(all.map((e) => [e.method, e]));
  }

  /**
   * Several methods at several layers from one plan: the backward pass runs once, down to the lowest
   * layer. One explanation per (layer, method), layer by layer in the order given; a method that does
   * not depend on the layer (guided back-propagation) comes once, with the first layer.
   */
  explainLayers(input: Tensor, options: ExplainLayersOptions): Promise<Explanation[]> {
    return this.model.call(() => this.explainLayersHeld(input, options));
  }

  /** explainLayers() inside a call that already holds the device (Model.call). */
  async explainLayersHeld(input: Tensor, options: ExplainLayersOptions): Promise<Explanation[]> {
    options.signal?.throwIfAborted();
    const inputs = new Map([[this.model.inputName, input]]);
    const data = dataOf(inputs);
    const methods = [...new Set(options.methods)];
    for (const m of methods) {
      if (!METHODS.includes(m)) throw new UserError(`unknown method "${m}"; choose one of ${METHODS.join(', ')}`);
    }
    if (methods.length === 0) throw new UserError('no method to explain with');
    // A method with a target of its own (FinerCAM) runs as a plan of its own beside the others.
    const own = methods.filter((m) => OWN_TARGET[m]);
    if (own.length > 0 && own.length < methods.length) {
      const parts = [
        ...(await this.explainLayersHeld(input, { ...options, methods: methods.filter((m) => !OWN_TARGET[m]) })),
        ...(await this.explainLayersHeld(input, { ...options, methods: own })),
      ];
      const layerOrder = [...new Set(parts.map((e) => e.layer.tensor))];
      const rank = (e: Explanation) => layerOrder.indexOf(e.layer.tensor) * methods.length + methods.indexOf(e.method);
      return parts.sort((a, b) => rank(a) - rank(b));
    }
    const layerNames = options.layers ?? [];
    const target = targetOf(methods, options.target);
    const targetShape = [target?.kind ?? 'class', ...[target?.mask, target?.concept, target?.box].map((t) => t?.shape.join('x') ?? ''), target?.format ?? '', target?.compare ?? '', target?.alpha ?? ''].join(' ');
    const key = [input.shape.join('x'), layerNames.join(','), methods.join(','), options.output ?? '', options.unfused ? 'unfused' : 'fused', options.profile ? 'profile' : '', options.batch ?? '', options.smooth ? `smooth ${options.smooth.samples}` : '', options.smoothAug ? 'smooth aug' : '', targetShape, options.layout ?? 'nchw', options.grid?.join('x') ?? '', options.smoothEigen ? 'smooth eigen' : '', options.concepts ?? ''].join('|');
    const copies = options.batch ?? DEFAULT_PERTURBATION_BATCH;
    checkBatchSize(copies);
    if (options.smoothEigen) {
      const unprojected = methods.filter((m) => MODE[m] === undefined && !PERTURBATION_METHODS.includes(m));
      if (unprojected.length) throw new UserError(`--smooth-eigen projects the channels' terms of a channel-weighted method; ${unprojected.join(', ')} ${unprojected.length === 1 ? 'has' : 'have'} none`);
    }
    if (options.smooth && options.smoothAug) throw new UserError('--smooth and --smooth-aug are two smoothings: choose one');
    if (options.concepts !== undefined) checkConcepts(options.concepts);
    if (options.smoothAug) {
      const perturbing = methods.filter((m) => PERTURBATION_METHODS.includes(m) || m === 'dff');
      if (perturbing.length) throw new UserError(`--smooth-aug is not implemented for ${perturbing.join(', ')}`);
    }
    if (options.smooth) {
      checkSmoothOptions(options.smooth);
      const unsmoothable = methods.filter((m) => NO_GRADIENT.includes(m));
      if (unsmoothable.length) throw new UserError(`SmoothGrad averages gradients; ${unsmoothable.join(', ')} ${unsmoothable.length === 1 ? 'uses' : 'use'} none`);
    }
    // Both smoothings run batches of copies of the clean images, for their class.
    const smoothing = options.smooth ? 'SmoothGrad' : options.smoothAug ? '--smooth-aug' : undefined;
    if (smoothing) {
      if (options.profile) throw new UserError(`profiling times one plain pass; leave out ${smoothing}`);
      if (!isClassTarget(target)) throw new UserError(`${smoothing} explains the class logit; --target ${target!.kind} is not implemented with it`);
    }
    if (!isClassTarget(target) && target!.kind !== 'raw') {
      const classOnly = methods.filter((m) => m === 'cam' || m === 'dff' || PERTURBATION_METHODS.includes(m));
      if (classOnly.length) throw new UserError(`${classOnly.join(', ')} ${classOnly.length === 1 ? 'explains' : 'explain'} a class logit (or --target raw); --target ${target!.kind} needs a gradient method or eigencam`);
    }
    const plan = await this.model.plans.get(this.prefix + key, () => buildExplainerPlan(this.model, input.shape, methods, layerNames, { ...options, target }));
    const batch = input.shape[0];
    const numClasses = plan.target.values;
    const requested = requestedClasses(plan.target, target, options.classes, batch);
    const result = plan.smoothing ? await this.runSmoothed(plan, input, requested, options) : await plan.exe.run(
      new Map<string, ArrayBufferView>([
        [this.model.inputName, input.data],
        [CLASSES_INPUT, requested],
        [TARGET_AUX_INPUT, targetAux(target)],
      ]),
    );
    const picked = result.outputs.get('picked')!;
    const missed = Array.from({ length: batch }, (_, n) => n).filter((n) => picked[2 * n] === -2);
    if (missed.length) {
      const which = options.classes?.length ? ` of the class asked for` : '';
      throw new UserError(`no prediction${which} overlaps the box with IoU >= 0.5 in image${missed.length > 1 ? 's' : ''} ${missed.join(', ')}: nothing to explain`);
    }
    if (Array.from({ length: batch }, (_, n) => picked[2 * n]).some((c) => c < 0)) {
      throw await nonFiniteOutputError(this.model, this.model.shaped(shapesOf(inputs)), data, plan.score);
    }
    const perturbed = new Map<string, PerturbationResult>();
    for (const [i, layer] of plan.layers.entries()) {
      for (const method of methods.filter((m): m is PerturbationMethod => PERTURBATION_METHODS.includes(m))) {
        const name = outputName(method, i);
        let perturbation = plan.perturbations.get(name);
        if (!perturbation) {
          perturbation = await Perturbation.create(this.model, plan.exe, method, { layer, index: i, inputShape: input.shape, score: plan.score, side: plan.sides[i], batch: copies, smoothEigen: options.smoothEigen });
          plan.perturbations.set(name, perturbation);
        }
        perturbed.set(name, await perturbation.run((done, total) => options.onProgress?.(done, total, method), options.signal));
      }
    }
    const perturbationMs = perturbed.size ? [...perturbed.values()].reduce((a, r) => a + r.gpuMs, 0) : undefined;
    const perturbationWall = [...perturbed.values()].reduce((a, r) => a + r.wallMs, 0);
    const mapShape = (m: Method) => (GUIDED.includes(m) ? input.shape : [batch, ...input.shape.slice(2)]);
    const common = {
      classes: Array.from({ length: batch }, (_, n) => picked[2 * n]),
      scores: Array.from({ length: batch }, (_, n) => picked[2 * n + 1]),
      logits: { shape: [batch, numClasses], data: result.outputs.get('logits')! },
      timings: { forwardMs: result.gpuMs.forward, backwardMs: result.gpuMs.backward, camMs: result.gpuMs.cam, perturbationMs, wallMs: result.wallMs + perturbationWall },
      profile: result.dispatchMs ? profileOf(plan.exe.dispatches, result.dispatchMs) : undefined,
    };
    const guidedMargins = result.outputs.get('guided margins');
    const topChoice = classMargins(common.logits.data, batch, requested);
    const stability = (method: Method, i: number) => {
      const margins = result.outputs.get(`margins:${i}`);
      if (NO_GRADIENT.includes(method)) return stabilityOf(undefined, batch, topChoice);
      if (method === 'guided-backprop') return stabilityOf(guidedMargins, batch, topChoice);
      if (method === 'fullgrad') return stabilityOf(result.outputs.get('fullgrad margins'), batch, topChoice);
      if (method === 'guided-gradcam') {
        const both = margins && guidedMargins ? margins.map((m, n) => Math.min(m, guidedMargins[n])) : (margins ?? guidedMargins);
        return stabilityOf(both, batch, topChoice);
      }
      return stabilityOf(margins, batch, topChoice);
    };
    const explanations: Explanation[] = [];
    plan.layers.forEach((layer, i) => {
      for (const method of methods) {
        if (LAYER_FREE.includes(method) && i > 0) continue;
        const name = outputName(method, i);
        const p = perturbed.get(name);
        explanations.push({
          ...common,
          method,
          // SmoothGrad's plan runs on batches of copies; the layer's shape is the images'.
          layer: plan.smoothing ? { ...layer, shape: [batch, ...layer.shape.slice(1)] } : layer,
          map: { shape: mapShape(method), data: p?.map ?? result.outputs.get(`map:${name}`)! },
          normalized: { shape: mapShape(method), data: p?.normalized ?? result.outputs.get(`normalized:${name}`)! },
          stability: stability(method, i),
          concepts: method === 'dff' ? conceptsOf(result.outputs, name, batch, input.shape.slice(2)) : undefined,
        });
      }
    });
    return explanations;
  }

  /**
   * SmoothGrad's (or --smooth-aug's) runs: the clean images' classes (the requested ones, or each clean image's top-1),
   * every batch of noisy copies, then the finish plan. Returns what a plain run returns: the clean
   * logits and classes, the mean maps and the smallest margins over the copies.
   */
  private async runSmoothed(plan: ExplainerPlan, input: Tensor, requested: Int32Array, options: ExplainLayersOptions) {
    const start = performance.now();
    const s = plan.smoothing!;
    const logits = (await this.model.runHeld(input, [plan.score])).get(plan.score)!.data;
    const numClasses = logits.length / s.images;
    const picked = new Float32Array(2 * s.images);
    for (let n = 0; n < s.images; n++) {
      const row = logits.subarray(n * numClasses, (n + 1) * numClasses);
      const c = requested[n] >= 0 ? requested[n] : row.indexOf(Math.max(...row));
      picked.set([c, row[c]], 2 * n);
    }
    const copies = plan.shaped.shapes.get(this.model.inputName)![0];
    const total = s.images * s.samples;
    const gpuMs: Partial<Record<'forward' | 'backward' | 'cam', number>> = {};
    for (let t = 0; t < total; t += copies) {
      options.signal?.throwIfAborted();
      const classes = Int32Array.from({ length: copies }, (_, j) => picked[2 * Math.min(Math.floor((t + j) / s.samples), s.images - 1)]);
      const r = await plan.exe.run(
        new Map<string, ArrayBufferView>([
          [SMOOTH_IMAGES, input.data],
          [SMOOTH_RUN, smoothRun(t, options.smooth ?? { samples: s.samples, noise: 0 })],
          [CLASSES_INPUT, classes],
          [TARGET_AUX_INPUT, targetAux(undefined)],
        ]),
      );
      for (const [phase, ms] of Object.entries(r.gpuMs)) gpuMs[phase as keyof typeof gpuMs] = (gpuMs[phase as keyof typeof gpuMs] ?? 0) + ms;
      options.onProgress?.(Math.min(t + copies, total), total, options.methods[0]);
    }
    const finished = await plan.finish!.run(new Map());
    const outputs = new Map(finished.outputs);
    outputs.set('logits', logits);
    outputs.set('picked', picked);
    return { outputs, gpuMs, dispatchMs: undefined, wallMs: performance.now() - start };
  }

  /** The kernels that this explainer's plans dispatch (besides the model's own plans). */
  kernelNames(): string[] {
    const plans = this.model.plans.values(this.prefix) as ExplainerPlan[];
    return [...new Set(plans.flatMap((p) => p.exe.dispatches.map((d) => d.program.kernel.name)))];
  }

  /** Frees this explainer's plans (the model's own stay). */
  dispose(): void {
    this.model.plans.clear(this.prefix);
  }

  [DISPOSE](): void {
    this.dispose();
  }
}

/** DFF's outputs of one plan output name, as the explanation's concepts. */
function conceptsOf(outputs: Map<string, Float32Array>, name: string, batch: number, spatial: Shape): Concepts {
  const summary = outputs.get(`concept summary:${name}`)!;
  const maps = outputs.get(`concept maps:${name}`)!;
  const scores = outputs.get(`concept scores:${name}`)!;
  const components = maps.length / batch / elementCount(spatial);
  const column = (j: number) => Array.from({ length: batch }, (_, n) => summary[3 * n + j]);
  return {
    maps: { shape: [batch, components, ...spatial], data: maps },
    scores: { shape: [batch, components, scores.length / batch / components], data: scores },
    chosen: column(0),
    reconstructionError: column(1),
    lead: column(2),
  };
}

/** The call's target: its methods' own (FinerCAM's: they come in calls of their own), or the one given. */
function targetOf(methods: Method[], given: Target | undefined): Target | undefined {
  const own = methods.find((m) => OWN_TARGET[m]);
  if (!own) return given;
  const kind = OWN_TARGET[own]!;
  if (given && given.kind !== kind && given.kind !== 'class') throw new UserError(`${own} explains the ${kind} target, not ${given.kind}`);
  return { ...given, kind };
}
