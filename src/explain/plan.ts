// An explainer's plan: the forward pass, the class choice and gradient seed, one backward pass down to
// the lowest layer (and a guided one to the input where asked), then each method's map per layer;
// SmoothGrad's copies and their finish plan. What a call then runs is in explainer.ts.
import { type Shape } from '../graph/ir.js';
import { UserError } from '../errors.js';
import type { ShapedGraph } from '../ops/infer.js';
import { PlanBuilder } from '../plan/builder.js';
import { Executable } from '../plan/executable.js';
import { guidedImageKernel, guidedProductKernel, targetSeedKernel } from '../kernels/gradcam.js';
import type { TensorRef } from '../kernels/program.js';
import type { Model } from '../runtime/model.js';
import { addEigenProjection } from './eigen.js';
import type { ExplainLayersOptions } from './explainer.js';
import { camHead, candidateLayers, defaultLayer, findLayer, type LayerInfo } from './layers.js';
import { addMap, addResizeNormalize, mapUniforms } from './map.js';
import { EIGEN_METHODS, GUIDED, LAYER_FREE, MODE, type Method, NO_GRADIENT, NO_LAYER_GRADIENT, outputName, PERTURBATION_METHODS } from './methods.js';
import { DEFAULT_PERTURBATION_BATCH, type Perturbation, shapedForCopies, shareName, sideTensors } from './perturb.js';
import { type Accumulated, addAccumulation, addNoisyInput, finishPlan, type Smoothing } from './smooth.js';
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

/** The plan of one (input shape, layers, methods, output), and with SmoothGrad its finish plan. */
export async function buildExplainerPlan(model: Model, imagesShape: Shape, methods: Method[], layerNames: string[], options: ExplainLayersOptions): Promise<ExplainerPlan> {
  if (imagesShape.length < 3 || imagesShape.length > 5) throw new UserError(`explanations need an [N, C, L], [N, C, H, W] or [N, C, D, H, W] input, got [${imagesShape}]`);
  // SmoothGrad: the plan runs batches of noisy copies, and folds their maps into per-image means.
  const smoothing: Smoothing | undefined = options.smooth && {
    images: imagesShape[0], samples: options.smooth.samples,
  };
  const shaped = smoothing
    ? shapedForCopies(model, imagesShape, Math.min(options.batch ?? DEFAULT_PERTURBATION_BATCH, smoothing.images * smoothing.samples))
    : model.shaped(new Map([[model.inputName, imagesShape]]));
  const inputShape = shaped.shapes.get(model.inputName)!;
  const accumulated: Accumulated = { maps: new Map(), margins: new Map() };
  const emitMap = (name: string, map: TensorRef, normalized: TensorRef) => {
    if (!smoothing) {
      b.addOutput(`map:${name}`, map);
      b.addOutput(`normalized:${name}`, normalized);
      return;
    }
    addAccumulation(b, map, `map:${name}`, smoothing, 'mean');
    accumulated.maps.set(`map:${name}`, [smoothing.images, ...map.shape.slice(1)]);
  };
  const emitMargins = (name: string, margins: TensorRef) => {
    if (!smoothing) return b.addOutput(name, margins);
    addAccumulation(b, margins, name, smoothing, 'min');
    accumulated.margins.set(name, [smoothing.images]);
  };
  const [batch, inChannels, ...inputSpatial] = inputShape;
  const target = planTarget(shaped, options.target, batch, options.output);
  const { score } = target;
  const candidates = candidateLayers(shaped, score, inputSpatial, options);
  const found = layerNames.length > 0 ? layerNames.map((name) => findLayer(shaped, candidates, name, options.layout)) : [defaultLayer(shaped, candidates, options.layout, target.kind === 'detection')];
  const layers = found.filter((l, i) => found.findIndex((o) => o.tensor === l.tensor) === i);
  const heads = methods.includes('cam') ? layers.map((layer) => camHead(shaped, layer, score)) : undefined;

  const b = new PlanBuilder(shaped, model.deviceTraits);
  const layerGradients = methods.some((m) => !NO_LAYER_GRADIENT.includes(m));
  const guiding = methods.some((m) => GUIDED.includes(m));
  // What Score-CAM's and Ablation-CAM's batch plans read (src/explain/perturb.ts).
  const perturbing = methods.some((m) => PERTURBATION_METHODS.includes(m));
  const sides = layers.map((layer) => (methods.includes('ablationcam') ? sideTensors(shaped, layer.tensor, score, b.nodesBetween([layer.tensor], score)) : []));
  // Every tensor read below exists as itself: no activation is fused over it.
  b.keep([score, model.inputName, ...layers.map((l) => l.tensor), ...sides.flat()]);
  if (layerGradients) b.keepBackward(score, layers.map((l) => l.tensor));
  if (guiding) b.keepBackward(score, [model.inputName]);
  if (smoothing) addNoisyInput(b, model.inputName, inputShape, smoothing);
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

  b.setPhase('backward');
  const requested = b.addInput(CLASSES_INPUT, [batch], 'i32');
  const aux = b.addInput(TARGET_AUX_INPUT, [Math.max(target.auxLength, 1)]);
  const seed = b.scratch(shaped.shapes.get(score)!, 'gradient seed');
  const picked = b.scratch([batch, 2], 'picked classes');
  const { values, positions, mode, auxLength: aux_length, auxStride: aux_stride } = target;
  b.dispatch(
    targetSeedKernel.program({ uniforms: { batch, values, positions, mode, aux_length, aux_stride }, bindings: { scores, requested, aux, seed, picked }, count: batch * values }),
    'target and seed',
  );
  b.addOutput('picked', picked);
  if (perturbing) b.addShared(shareName.picked, picked);
  let gradients: TensorRef[] = [];
  if (layerGradients) {
    // One probe per layer: each layer's map depends only on the decisions between it and the score.
    const probes = layers.map((layer) => new MarginProbe(b, batch, b.nodesBetween([layer.tensor], score)));
    const found = b.addBackward(score, seed, layers.map((l) => l.tensor), { afterNode: (node, ctx) => probes.forEach((p) => p.visit(node, ctx)) });
    gradients = layers.map((l) => found.get(l.tensor)!);
    probes.forEach((p, i) => p.any && emitMargins(`margins:${i}`, p.margins));
  }
  const input = model.inputName;
  let guided: TensorRef | undefined;
  if (guiding) {
    const probe = new MarginProbe(b, batch);
    guided = b.addBackward(score, seed, [input], { guided: true, afterNode: probe.visit }).get(input)!;
    if (probe.any) emitMargins('guided margins', probe.margins);
  }

  b.setPhase('cam');
  const pixels = inputSpatial.reduce((a, v) => a * v, 1);
  layers.forEach((layer, i) => {
    const uniforms = mapUniforms(layer.layout, inputSpatial, 0, heads?.[i]);
    const maps = new Map<Method, TensorRef>();
    // Guided Grad-CAM needs the Grad-CAM map even when Grad-CAM is not asked for.
    const wanted = methods.includes('guided-gradcam') && !methods.includes('gradcam') ? [...methods, 'gradcam' as const] : methods;
    for (const method of wanted) {
      const label = `${method} at ${layer.tensor}`;
      let result: { map: TensorRef; normalized: TensorRef };
      if (EIGEN_METHODS.includes(method)) {
        const gradient = NO_GRADIENT.includes(method) ? undefined : gradients[i];
        result = addResizeNormalize(b, uniforms, addEigenProjection(b, activations[i], gradient, layer.layout, label), label);
      } else if (MODE[method] !== undefined) {
        const weightSource = method === 'cam' ? b.constantTensor(heads![i].weight, 'classifier weight') : gradients[i];
        result = addMap(b, { ...uniforms, mode: MODE[method]! }, { activations: activations[i], weightSource, picked }, label, options.unfused);
      } else continue;
      maps.set(method, result.map);
      if (!methods.includes(method)) continue;
      emitMap(outputName(method, i), result.map, result.normalized);
    }
    for (const method of methods.filter((m) => GUIDED.includes(m))) {
      if (LAYER_FREE.includes(method) && i > 0) continue;
      const count = batch * inChannels * pixels;
      let image = guided!;
      if (method === 'guided-gradcam') {
        image = b.scratch(inputShape, `guided Grad-CAM at ${layer.tensor}`);
        b.dispatch(
          guidedProductKernel.program({
            uniforms: { channels: inChannels, pixels },
            bindings: { guided: guided!, map: maps.get('gradcam')!, product: image },
            count,
          }),
          `guided Grad-CAM at ${layer.tensor}`,
        );
      }
      const picture = b.scratch(inputShape, `${method}: picture`);
      b.dispatch(
        guidedImageKernel.program({ uniforms: { per_image: count / batch }, bindings: { values: image, image: picture }, workgroups: [batch, 1, 1] }),
        `${method}: picture`,
      );
      emitMap(outputName(method, i), image, picture);
    }
  });
  const exe = await Executable.create(model.gpu, b.build(), model.weights, { profile: options.profile });
  let finish: Executable | undefined;
  try {
    finish = smoothing && (await finishPlan(model, shaped, exe, accumulated));
  } catch (e) {
    exe.destroy();
    throw e;
  }
  const perturbations = new Map<string, Perturbation>();
  return {
    exe, finish, smoothing, layers, shaped, score, target, perturbations, sides,
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
