// An explainer's plan, in steps: the forward pass (addForward), the target's score and gradient seed
// (addTarget), one backward pass down to the lowest layer and a guided one to the input where asked
// (addGradients), then each method's map per layer (addLayerMaps) and the guided images (addGuided);
// SmoothGrad's copies and their finish plan. What a call then runs is in explainer.ts.
import { elementCount, type Shape } from '../graph/ir.js';
import { UserError } from '../errors.js';
import type { ShapedGraph } from '../ops/infer.js';
import { PlanBuilder } from '../plan/builder.js';
import { Executable } from '../plan/executable.js';
import { guidedImageKernel, guidedProductKernel, shapleyWeightsKernel, targetSeedKernel } from '../kernels/gradcam.js';
import { HESSIAN_TARGET, hessianSeedKernel } from '../kernels/hessian.js';
import type { TensorRef } from '../kernels/program.js';
import type { Model } from '../runtime/model.js';
import { addFactorization, DEFAULT_CONCEPTS } from './dff.js';
import { addEigenProjection, addKernelProjection } from './eigen.js';
import { addFullGrad, type BiasLayer, biasLayers } from './fullgrad.js';
import type { ExplainLayersOptions } from './explainer.js';
import { type CamHead, camHead, candidateLayers, defaultLayer, findLayer, type LayerInfo } from './layers.js';
import { addMap, addNormalize, addResizeNormalize, type MapChoice, mapUniforms } from './map.js';
import { EIGEN_VALUES_OF, GUIDED, HESSIAN_METHODS, LAYER_FREE, MODE, type Method, NO_GRADIENT, NO_LAYER_GRADIENT, outputName, PERTURBATION_METHODS, REFINE_BASE } from './methods.js';
import { DEFAULT_PERTURBATION_BATCH, type Perturbation, shapedForCopies, shareName, sideTensors } from './perturb.js';
import { type Accumulated, addAccumulation, addCopiedInput, AUGMENTATIONS, finishPlan, type Smoothing } from './smooth.js';
import { MarginProbe } from './stability.js';
import { planTarget, type TargetPlan } from './targets.js';

export const CLASSES_INPUT = '<classes>';
/** The target's mask or concept (one zero where it has none). */
export const TARGET_AUX_INPUT = '<target aux>';

export interface ExplainerPlan {
  /** GPU bytes of its executables (the plan cache's budget), and how to free them. */
  readonly bytes: number;
  destroy(): void;
  exe: Executable;
  /** SmoothGrad: the plan that normalizes the means once every copy has run. */
  finish?: Executable;
  smoothing?: Smoothing;
  layers: LayerInfo[];
  shaped: ShapedGraph;
  score: string;
  target: TargetPlan;
  /** Score-CAM / Ablation-CAM per layer, made on first use. */
  perturbations: Map<string, Perturbation>;
  sides: string[][];
}

/** What the steps share: the builder, the graph shaped for this plan, the layers and methods, the outputs. */
interface Steps {
  b: PlanBuilder;
  model: Model;
  shaped: ShapedGraph;
  methods: Method[];
  layers: LayerInfo[];
  target: TargetPlan;
  /** The plan's input: the images, or SmoothGrad's batch of copies. */
  inputShape: Shape;
  /** FullGrad's biased layers, where it is asked for. */
  biases?: BiasLayer[];
  outputs: PlanOutputs;
}

/**
 * The maps and margins a plan gives: read back directly, or with SmoothGrad folded into per-image
 * means (maps) and minima (margins) over the copies, which the finish plan reads back.
 */
class PlanOutputs {
  readonly accumulated: Accumulated = { maps: new Map(), margins: new Map(), normalized: new Set() };

  constructor(
    private readonly b: PlanBuilder,
    private readonly smoothing?: Smoothing,
  ) {}

  map(name: string, map: TensorRef, normalized: TensorRef): void {
    if (!this.smoothing) {
      this.b.addOutput(`map:${name}`, map);
      this.b.addOutput(`normalized:${name}`, normalized);
      return;
    }
    addAccumulation(this.b, map, `map:${name}`, this.smoothing, 'mean');
    this.accumulated.maps.set(`map:${name}`, [this.smoothing.images, ...map.shape.slice(1)]);
    // --smooth-aug averages the normalized maps too, as pytorch-grad-cam does (its result).
    if (this.smoothing.augment) {
      addAccumulation(this.b, normalized, `normalized:${name}`, this.smoothing, 'mean');
      this.accumulated.normalized.add(`normalized:${name}`);
    }
  }

  margins(name: string, margins: TensorRef): void {
    if (!this.smoothing) return this.b.addOutput(name, margins);
    addAccumulation(this.b, margins, name, this.smoothing, 'min');
    this.accumulated.margins.set(name, [this.smoothing.images]);
  }
}

/** The plan of one (input shape, layers, methods, output), and with SmoothGrad its finish plan. */
export async function buildExplainerPlan(model: Model, imagesShape: Shape, methods: Method[], layerNames: string[], options: ExplainLayersOptions): Promise<ExplainerPlan> {
  if (imagesShape.length < 3 || imagesShape.length > 5) throw new UserError(`explanations need an [N, C, L], [N, C, H, W] or [N, C, D, H, W] input, got [${imagesShape}]`);
  // SmoothGrad: the plan runs batches of noisy copies, and folds their maps into per-image means.
  const smoothing: Smoothing | undefined = options.smooth
    ? { images: imagesShape[0], samples: options.smooth.samples }
    : options.smoothAug ? { images: imagesShape[0], samples: AUGMENTATIONS, augment: { width: imagesShape.at(-1)! } } : undefined;
  const shaped = smoothing
    ? shapedForCopies(model, imagesShape, Math.min(options.batch ?? DEFAULT_PERTURBATION_BATCH, smoothing.images * smoothing.samples))
    : model.shaped(new Map([[model.inputName, imagesShape]]));
  const inputShape = shaped.shapes.get(model.inputName)!;
  const [batch, , ...inputSpatial] = inputShape;
  const target = planTarget(shaped, options.target, batch, options.output);
  const candidates = candidateLayers(shaped, target.score, inputSpatial, options);
  const found = layerNames.length > 0 ? layerNames.map((name) => findLayer(shaped, candidates, name, options.layout)) : [defaultLayer(shaped, candidates, options.layout, target.kind === 'detection')];
  const layers = found.filter((l, i) => found.findIndex((o) => o.tensor === l.tensor) === i);
  const headed = methods.find((m) => m === 'cam' || m === 'dff');
  const heads = headed ? layers.map((layer) => camHead(shaped, layer, target.score, headed)) : undefined;

  const b = new PlanBuilder(shaped, model.deviceTraits);
  const biases = methods.includes('fullgrad') ? biasLayers(shaped, target.score, inputShape.length) : undefined;
  const steps: Steps = { b, model, shaped, methods, layers, target, inputShape, biases, outputs: new PlanOutputs(b, smoothing) };
  const { scores, activations, sides } = addForward(steps, smoothing);
  b.setPhase('backward');
  const { seed, picked } = addTarget(steps, scores);
  const { gradients, guided, biasGradients, first } = addGradients(steps, seed);
  const shapley = first ? addShapleyWeights(steps, activations, gradients, first, picked) : [];
  b.setPhase('cam');
  if (biasGradients) {
    const full = addFullGrad(b, { value: b.value(model.inputName), gradient: biasGradients.get(model.inputName)! }, biases!.map((layer) => ({ layer, gradient: biasGradients.get(layer.tensor)! })));
    steps.outputs.map(outputName('fullgrad', 0), full.map, full.normalized);
  }
  const bases: TensorRef[] = [];
  layers.forEach((_, i) => {
    const maps = addLayerMaps(steps, i, { activations: activations[i], gradient: gradients[i], shapley: shapley[i], picked, head: heads?.[i] }, { unfused: options.unfused, smoothEigen: options.smoothEigen, concepts: options.concepts });
    addGuided(steps, i, guided, maps);
    if (methods.includes('refinecam')) bases.push(maps.get(REFINE_BASE)!.normalized);
  });
  if (bases.length) addRefine(steps, bases);

  const exe = await Executable.create(model.gpu, b.build(), model.weights, { profile: options.profile });
  let finish: Executable | undefined;
  try {
    finish = smoothing && (await finishPlan(model, shaped, exe, steps.outputs.accumulated));
  } catch (e) {
    exe.destroy();
    throw e;
  }
  const perturbations = new Map<string, Perturbation>();
  return {
    exe, finish, smoothing, layers, shaped, score: target.score, target, perturbations, sides,
    get bytes() {
      return exe.bytes + (finish?.bytes ?? 0) + [...perturbations.values()].reduce((total, p) => total + p.bytes, 0);
    },
    destroy() {
      exe.destroy();
      finish?.destroy();
      for (const perturbation of perturbations.values()) perturbation.destroy();
    },
  } satisfies ExplainerPlan;
}

/**
 * The forward pass to the target's scores, keeping the layers (and, for Score-CAM and Ablation-CAM,
 * what their batch plans read: the input, the layers, the tensors that bypass each layer) as themselves.
 */
function addForward({ b, model, shaped, methods, layers, target, inputShape, biases }: Steps, smoothing?: Smoothing) {
  const { score } = target;
  const perturbing = methods.some((m) => PERTURBATION_METHODS.includes(m));
  const sides = layers.map((layer) => (methods.includes('ablationcam') ? sideTensors(shaped, layer.tensor, score, b.nodesBetween([layer.tensor], score)) : []));
  // Every tensor read below exists as itself: no activation is fused over it.
  b.keep([score, model.inputName, ...layers.map((l) => l.tensor), ...sides.flat()]);
  const { all } = backwardTargets({ model, methods, layers, biases });
  if (all.length) b.keepBackward(score, all);
  // ShapleyCAM: one more backward pass per layer, of the score's tangent along that layer's A.
  if (methods.some((m) => HESSIAN_METHODS.includes(m))) for (const layer of layers) b.keepBackward(score, [layer.tensor]);
  if (methods.some((m) => GUIDED.includes(m))) b.keepBackward(score, [model.inputName]);
  if (smoothing) addCopiedInput(b, model.inputName, inputShape, smoothing);
  const scores = b.value(score);
  const activations = layers.map((layer) => b.value(layer.tensor));
  b.addOutput('logits', scores);
  if (perturbing) {
    b.addShared(shareName.input, b.value(model.inputName));
    layers.forEach((_, i) => {
      b.addShared(shareName.activations(i), activations[i]);
      for (const tensor of sides[i]) b.addShared(shareName.side(i, tensor), b.value(tensor));
    });
  }
  return { scores, activations, sides };
}

/** The target's score per image and the seed of the backward pass, formed on the GPU (shaders/target_seed.wgsl). */
function addTarget({ b, shaped, methods, target, inputShape }: Steps, scores: TensorRef) {
  const [batch] = inputShape;
  const requested = b.addInput(CLASSES_INPUT, [batch], 'i32');
  const aux = b.addInput(TARGET_AUX_INPUT, [Math.max(target.auxLength, 1)]);
  const seed = b.scratch(shaped.shapes.get(target.score)!, 'gradient seed');
  const picked = b.scratch([batch, 2], 'picked classes');
  const { values, positions, mode, auxLength: aux_length, auxStride: aux_stride, compare, alpha } = target;
  b.dispatch(
    targetSeedKernel.program({ uniforms: { batch, values, positions, mode, aux_length, aux_stride, compare, alpha }, bindings: { scores, requested, aux, seed, picked }, count: batch * values }),
    'target and seed',
  );
  b.addOutput('picked', picked);
  if (methods.some((m) => PERTURBATION_METHODS.includes(m))) b.addShared(shareName.picked, picked);
  return { seed, picked };
}

/**
 * One backward pass down to the lowest layer (and, for FullGrad, to the input through every biased
 * layer), with a margin probe per layer (each layer's map depends only on the decisions between it and
 * the score) and one over the whole pass for FullGrad; and the guided pass to the input where asked.
 */
function addGradients({ b, model, methods, layers, target, inputShape, biases, outputs }: Steps, seed: TensorRef) {
  const [batch] = inputShape;
  const { score } = target;
  let gradients: (TensorRef | undefined)[] = layers.map(() => undefined);
  const { layerTensors, all } = backwardTargets({ model, methods, layers, biases });
  // ShapleyCAM's second passes read this pass's gradients at every node.
  const first = methods.some((m) => HESSIAN_METHODS.includes(m)) ? new Map<string, TensorRef>() : undefined;
  let biasGradients: Map<string, TensorRef> | undefined;
  if (all.length > 0) {
    const probes = layerTensors.map((tensor) => new MarginProbe(b, batch, b.nodesBetween([tensor], score)));
    const whole = biases && new MarginProbe(b, batch);
    const found = b.addBackward(score, seed, all, {
      afterNode: (node, ctx) => [...probes, ...(whole ? [whole] : [])].forEach((p) => p.visit(node, ctx)),
      keepGradients: first,
    });
    if (layerTensors.length) gradients = layers.map((l) => found.get(l.tensor)!);
    probes.forEach((p, i) => p.any && outputs.margins(`margins:${i}`, p.margins));
    if (whole) {
      biasGradients = found;
      if (whole.any) outputs.margins('fullgrad margins', whole.margins);
    }
  }
  let guided: TensorRef | undefined;
  if (methods.some((m) => GUIDED.includes(m))) {
    const input = model.inputName;
    const probe = new MarginProbe(b, batch);
    guided = b.addBackward(score, seed, [input], { guided: true, afterNode: probe.visit }).get(input)!;
    if (probe.any) outputs.margins('guided margins', probe.margins);
  }
  return { gradients, guided, biasGradients, first };
}

/**
 * ShapleyCAM's weight source per layer, dy/dA - (d^2 y / dA^2) A / 2: forward mode along A to the score,
 * the target's second derivative there (shaders/hessian_seed.wgsl), and the tangent backward pass
 * (PlanBuilder.addTangentBackward) over the plan's one ordinary backward pass (`first`, `gradients`),
 * as Model.hessianVectorProduct computes it.
 */
function addShapleyWeights(
  { b, layers, target, inputShape }: Steps,
  activations: TensorRef[],
  gradients: (TensorRef | undefined)[],
  first: Map<string, TensorRef>,
  picked: TensorRef,
): TensorRef[] {
  const [batch] = inputShape;
  const { score, values } = target;
  const mode = HESSIAN_TARGET_OF[target.kind];
  if (mode === undefined) throw new UserError(`ShapleyCAM's second derivatives are implemented for the targets ${Object.keys(HESSIAN_TARGET_OF).join(', ')}, not ${target.kind}`);
  return layers.map((layer, i) => {
    const label = `ShapleyCAM at ${layer.tensor}`;
    const tangents = b.addTangent(layer.tensor, activations[i], score);
    const tangent = tangents.get(score)!;
    // The kernel writes the seed too; the plan's target kernel made the one the first pass used.
    const seed = b.scratch(tangent.shape, `${label}: seed`);
    const seedTangent = b.scratch(tangent.shape, `${label}: seed tangent`);
    b.dispatch(
      hessianSeedKernel.program({ uniforms: { batch, values, mode }, bindings: { scores: b.value(score), tangent, picked, seed, seed_tangent: seedTangent }, count: batch * values }),
      `${label}: target's second derivative`,
    );
    const hvp = b.addTangentBackward(score, layer.tensor, seedTangent, tangents, first);
    const weights = b.scratch(hvp.shape, `${label}: weights`);
    b.dispatch(shapleyWeightsKernel.program({ uniforms: {}, bindings: { gradient: gradients[i]!, hvp, weights }, count: elementCount(hvp.shape) }), `${label}: weights`);
    return weights;
  });
}

/** The explainer's targets whose second derivative in the scores the Hessian's seed kernel knows. */
const HESSIAN_TARGET_OF: Partial<Record<string, number>> = { class: HESSIAN_TARGET.logit, softmax: HESSIAN_TARGET.softmax, rest: HESSIAN_TARGET.rest };

/** What the one backward pass reaches: the layers (for the methods that read their gradient) and FullGrad's tensors. */
function backwardTargets({ model, methods, layers, biases }: Pick<Steps, 'model' | 'methods' | 'layers' | 'biases'>) {
  const layerTensors = methods.some((m) => !NO_LAYER_GRADIENT.includes(m)) ? layers.map((l) => l.tensor) : [];
  const biasTensors = biases ? [model.inputName, ...biases.map((l) => l.tensor)] : [];
  return { layerTensors, all: [...new Set([...layerTensors, ...biasTensors])] };
}

/** Layer i's maps of the map-kernel and EigenCAM methods (Grad-CAM's too where Guided Grad-CAM needs it). */
function addLayerMaps(
  { b, methods, layers, inputShape, outputs, target }: Steps,
  i: number,
  sources: { activations: TensorRef; gradient?: TensorRef; shapley?: TensorRef; picked: TensorRef; head?: CamHead },
  choice: MapChoice & { concepts?: number },
): Map<Method, { map: TensorRef; normalized: TensorRef }> {
  const layer = layers[i];
  const uniforms = mapUniforms(layer.layout, inputShape.slice(2), 0, sources.head);
  const maps = new Map<Method, { map: TensorRef; normalized: TensorRef }>();
  // Guided Grad-CAM multiplies Grad-CAM's map, RefineCAM its base method's: made even when not asked for.
  const wanted = [...new Set([...methods, ...(methods.includes('guided-gradcam') ? ['gradcam' as const] : []), ...(methods.includes('refinecam') ? [REFINE_BASE] : [])])];
  for (const method of wanted) {
    const label = `${method} at ${layer.tensor}`;
    let result: { map: TensorRef; normalized: TensorRef };
    const eigen = EIGEN_VALUES_OF[method];
    if (eigen) {
      result = addResizeNormalize(b, uniforms, addEigenProjection(b, eigen, sources.activations, sources.gradient, layer.layout, label), label);
    } else if (method === 'kpcacam') {
      result = addResizeNormalize(b, uniforms, addKernelProjection(b, sources.activations, layer.layout, label), label);
    } else if (method === 'dff') {
      const classes = target.values;
      const f = addFactorization(b, sources.activations, layer.layout, { head: sources.head!, picked: sources.picked, classes }, uniforms, choice.concepts ?? DEFAULT_CONCEPTS, label);
      result = f;
      const name = outputName(method, i);
      b.addOutput(`concept maps:${name}`, f.conceptMaps);
      b.addOutput(`concept scores:${name}`, f.scores);
      b.addOutput(`concept summary:${name}`, f.summary);
    } else if (MODE[method] !== undefined) {
      // CAM reads the classifier's weights, FEM nothing but A, ShapleyCAM dy/dA - H A / 2, the others the gradient.
      const weightSource =
        method === 'cam' ? b.constantTensor(sources.head!.weight, 'classifier weight')
        : NO_GRADIENT.includes(method) ? sources.activations
        : HESSIAN_METHODS.includes(method) ? sources.shapley!
        : sources.gradient!;
      // RefineCAM's base maps stay plain: --smooth-eigen applies to the methods asked for.
      const own = methods.includes(method) ? choice : { unfused: choice.unfused };
      result = addMap(b, { ...uniforms, mode: MODE[method]! }, { activations: sources.activations, weightSource, picked: sources.picked }, label, own);
    } else continue;
    maps.set(method, result);
    if (methods.includes(method)) outputs.map(outputName(method, i), result.map, result.normalized);
  }
  return maps;
}

/** The guided images at layer i: guided back-propagation (once, with the first layer) and Guided Grad-CAM. */
function addGuided({ b, methods, layers, inputShape, outputs }: Steps, i: number, guided: TensorRef | undefined, maps: Map<Method, { map: TensorRef }>): void {
  const [batch, channels] = inputShape;
  const pixels = inputShape.slice(2).reduce((a, v) => a * v, 1);
  for (const method of methods.filter((m) => GUIDED.includes(m))) {
    if (LAYER_FREE.includes(method) && i > 0) continue;
    const count = batch * channels * pixels;
    let image = guided!;
    if (method === 'guided-gradcam') {
      const label = `guided Grad-CAM at ${layers[i].tensor}`;
      image = b.scratch(inputShape, label);
      b.dispatch(guidedProductKernel.program({ uniforms: { channels, pixels }, bindings: { guided: guided!, map: maps.get('gradcam')!.map, product: image }, count }), label);
    }
    const picture = b.scratch(inputShape, `${method}: picture`);
    b.dispatch(
      guidedImageKernel.program({ uniforms: { per_image: count / batch }, bindings: { values: image, image: picture }, workgroups: [batch, 1, 1] }),
      `${method}: picture`,
    );
    outputs.map(outputName(method, i), image, picture);
  }
}

/**
 * RefineCAM: the product of the base method's normalized maps at every layer (each in [0, 1], so a
 * position stays only where every layer agrees), normalized again. One output for the call's layers.
 */
function addRefine({ b, inputShape, outputs }: Steps, bases: TensorRef[]): void {
  const [batch] = inputShape;
  const pixels = inputShape.slice(2).reduce((a, v) => a * v, 1);
  let product = bases[0];
  for (const [i, next] of bases.slice(1).entries()) {
    const out = b.scratch([batch, pixels], `RefineCAM: product of ${i + 2} layers`);
    b.dispatch(guidedProductKernel.program({ uniforms: { channels: 1, pixels }, bindings: { guided: product, map: next, product: out }, count: batch * pixels }), `RefineCAM: product of ${i + 2} layers`);
    product = out;
  }
  const normalized = b.scratch([batch, pixels], 'RefineCAM: normalized');
  addNormalize(b, product, normalized, 'RefineCAM');
  outputs.map(outputName('refinecam', 0), product, normalized);
}
