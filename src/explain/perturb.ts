// Score-CAM and Ablation-CAM: one forward pass per (image, channel) of the layer, run as batches on the
// GPU. Three executables share buffers: the explainer's plan (forward, class choice) shares the input,
// the layer's activations, the picked classes and, for Ablation-CAM, the tensors the rest of the network
// reads besides the layer; a batch plan makes each run's perturbed copies on the GPU (masked inputs, or
// the layer with one channel zeroed), runs the forward pass (Ablation-CAM: only the part after the
// layer) and writes each copy's class score into its (image, channel) slot; a map plan turns the slots
// into channel weights and the map.
import { elementCount, type Shape, upstreamTensors } from '../graph/ir.js';
import { UserError } from '../errors.js';
import type { ShapedGraph } from '../ops/infer.js';
import { PlanBuilder } from '../plan/builder.js';
import { Executable } from '../plan/executable.js';
import { MAP_MODE, perturbKernels } from '../kernels/gradcam.js';
import type { Model } from '../runtime/model.js';
import type { LayerInfo } from './layers.js';
import { grid3, layoutUniforms } from './layout.js';
import { addMap, mapUniforms } from './map.js';

export type PerturbationMethod = 'scorecam' | 'ablationcam';

/** Copies per batch when none is asked for (pytorch-grad-cam runs Score-CAM's masks 16 at a time). */
export const DEFAULT_PERTURBATION_BATCH = 16;

const FIRST_COPY = 'first copy';

/** Names under which the explainer's plan shares what the batch plans read. */
export const shareName = {
  input: 'input',
  picked: 'picked',
  activations: (layer: number) => `activations:${layer}`,
  side: (layer: number, tensor: string) => `side:${layer}:${tensor}`,
};

/**
 * The tensors that the part of the network after `layer` reads besides the layer and what it computes
 * itself (skip connections around the layer, earlier features a concatenation takes again). A tensor
 * computed from constants alone (an attention scale exported as Pow of two constants) is not one: the
 * batch plan computes it again, the same for any batch.
 */
export function sideTensors(shaped: ShapedGraph, layer: string, score: string, between: readonly { inputs: string[]; outputs: string[] }[]): string[] {
  const computed = new Set<string>([layer]);
  for (const node of between) for (const out of node.outputs) computed.add(out);
  const side = new Set<string>();
  const fromInputs = (tensor: string) => shaped.graph.inputs.some((input) => upstreamTensors(shaped.nodes, tensor).has(input.name));
  for (const node of between) {
    for (const input of node.inputs) {
      if (input !== '' && !computed.has(input) && !shaped.constants.has(input) && fromInputs(input)) side.add(input);
    }
  }
  if (!computed.has(score)) throw new UserError(`the score "${score}" does not depend on layer "${layer}"`);
  return [...side];
}

/** Copies per forward pass: a positive integer. */
export function checkBatchSize(copies: number): void {
  if (!Number.isInteger(copies) || copies < 1) throw new UserError(`the batch size must be a positive integer, got ${copies}`);
}

/**
 * The graph shaped for batches of `copies` copies of the images (Score-CAM, Ablation-CAM, SmoothGrad);
 * a graph exported with its batch size fixed (a Reshape to [2, ...]) runs only the images' own batch.
 */
export function shapedForCopies(model: Model, imagesShape: Shape, copies: number): ShapedGraph {
  try {
    return model.shaped(new Map([[model.inputName, [copies, ...imagesShape.slice(1)]]]));
  } catch (e) {
    if (!(e instanceof UserError) || copies === imagesShape[0]) throw e;
    return model.shaped(new Map([[model.inputName, imagesShape]]));
  }
}

export interface PerturbationResult {
  map: Float32Array;
  normalized: Float32Array;
  /** GPU milliseconds of all the batches and of the map. */
  gpuMs: number;
  wallMs: number;
}

/** The batch plan and the map plan of one method at one layer. */
export class Perturbation {
  private constructor(
    private readonly batches: Executable,
    private readonly finish: Executable,
    private readonly pairs: number,
    private readonly batch: number,
  ) {}

  static async create(
    model: Model,
    explainerPlan: Executable,
    method: PerturbationMethod,
    args: { layer: LayerInfo; index: number; inputShape: Shape; score: string; side: string[]; batch: number; smoothEigen?: boolean },
  ): Promise<Perturbation> {
    const { layer, index, inputShape, score } = args;
    const [images, inChannels, ...inputSpatial] = inputShape;
    const { channels } = layer.layout;
    const pairs = images * channels;
    const shaped = shapedForCopies(model, inputShape, Math.min(args.batch, pairs));
    const batch = shaped.shapes.get(model.inputName)![0];
    const external = (name: string) => explainerPlan.sharedBuffer(name);

    const b = new PlanBuilder(shaped, model.deviceTraits);
    const first = b.addInput(FIRST_COPY, [1], 'i32');
    const activations = b.addExternal(shareName.activations(index), layer.shape);
    const picked = b.addExternal(shareName.picked, [images, 2]);
    const externals = new Map([
      [shareName.activations(index), external(shareName.activations(index))],
      [shareName.picked, external(shareName.picked)],
    ]);
    const common = { images, channels };
    if (method === 'scorecam') {
      if (inputSpatial.length > 2) throw new UserError('scorecam: masks of 3-D volumes are not implemented; use a gradient method or ablationcam');
      const image = b.addExternal(shareName.input, inputShape);
      externals.set(shareName.input, external(shareName.input));
      const [, in_h, in_w] = grid3(layer.layout.spatial);
      const [, out_h, out_w] = grid3(inputSpatial);
      const sizes = { ...layoutUniforms(layer.layout), in_h, in_w, out_h, out_w };
      const maskRange = b.scratch([batch, 2], 'Score-CAM: mask ranges');
      b.dispatch(perturbKernels.maskRange.program({ uniforms: { ...common, ...sizes }, bindings: { activations, first, mask_range: maskRange }, workgroups: [batch, 1, 1] }), 'Score-CAM: mask ranges');
      const masked = b.scratch([batch, ...inputShape.slice(1)], 'Score-CAM: masked inputs');
      b.dispatch(
        perturbKernels.mask.program({
          uniforms: { ...common, in_channels: inChannels, ...sizes },
          bindings: { image, activations, first, mask_range: maskRange, masked },
          count: elementCount(masked.shape),
        }),
        'Score-CAM: masked inputs',
      );
      b.setValue(model.inputName, masked);
    } else {
      const ablated = b.scratch([batch, ...layer.shape.slice(1)], 'Ablation-CAM: ablated layer');
      const { imageStride: image_stride, channelStride: channel_stride } = layer.layout;
      b.dispatch(
        perturbKernels.ablate.program({ uniforms: { ...common, image_stride, channel_stride }, bindings: { activations, first, ablated }, count: elementCount(ablated.shape) }),
        'Ablation-CAM: ablated layer',
      );
      b.setValue(layer.tensor, ablated);
      for (const tensor of args.side) {
        const name = shareName.side(index, tensor);
        const wanted = shaped.shapes.get(tensor)!;
        const perImage = elementCount(wanted) / batch;
        const source = b.addExternal(name, [images, ...wanted.slice(1)]);
        if (!Number.isInteger(perImage) || wanted[0] !== batch) {
          throw new UserError(`ablationcam: tensor "${tensor}" [${wanted}], read after layer "${layer.tensor}", has no batch dimension to repeat`);
        }
        externals.set(name, external(name));
        const repeated = b.scratch(wanted, `Ablation-CAM: ${tensor} repeated`);
        b.dispatch(perturbKernels.repeat.program({ uniforms: { ...common, per_image: perImage }, bindings: { source, first, repeated }, count: elementCount(wanted) }), `Ablation-CAM: ${tensor} repeated`);
        b.setValue(tensor, repeated);
      }
    }
    const scores = b.value(score);
    const classes = elementCount(scores.shape) / batch;
    const channelScores = b.scratch([images, channels], 'channel scores');
    b.dispatch(perturbKernels.score.program({ uniforms: { ...common, classes }, bindings: { scores, picked, first, channel_scores: channelScores }, count: batch }), 'channel scores');
    b.addShared('channel scores', channelScores);
    const batches = await Executable.create(model.gpu, b.build(), model.weights, { externals });

    const c = new PlanBuilder(shaped, model.deviceTraits);
    c.setPhase('cam');
    const finishActivations = c.addExternal(shareName.activations(index), layer.shape);
    const finishPicked = c.addExternal(shareName.picked, [images, 2]);
    const weights = c.addExternal('channel scores', [images, channels]);
    const uniforms = mapUniforms(layer.layout, inputSpatial, MAP_MODE[method]);
    const { map, normalized } = addMap(c, uniforms, { activations: finishActivations, weightSource: weights, picked: finishPicked }, method, { smoothEigen: args.smoothEigen });
    c.addOutput('map', map);
    c.addOutput('normalized', normalized);
    try {
      const finish = await Executable.create(model.gpu, c.build(), model.weights, {
        externals: new Map([
          [shareName.activations(index), external(shareName.activations(index))],
          [shareName.picked, external(shareName.picked)],
          ['channel scores', batches.sharedBuffer('channel scores')],
        ]),
      });
      return new Perturbation(batches, finish, pairs, batch);
    } catch (e) {
      batches.destroy();
      throw e;
    }
  }

  /** Forward passes this method makes per explanation. */
  get passes(): number {
    return this.pairs;
  }

  /** Runs every batch, then the map; `onProgress(done, total)` after each batch; stops between batches once `signal` is aborted. */
  async run(onProgress?: (done: number, total: number) => void, signal?: AbortSignal): Promise<PerturbationResult> {
    const start = performance.now();
    let gpuMs = 0;
    const first = new Int32Array(1);
    for (let t = 0; t < this.pairs; t += this.batch) {
      signal?.throwIfAborted();
      first[0] = t;
      const r = await this.batches.run(new Map([[FIRST_COPY, first]]));
      gpuMs += r.gpuMs.forward ?? 0;
      onProgress?.(Math.min(t + this.batch, this.pairs), this.pairs);
    }
    const r = await this.finish.run(new Map());
    gpuMs += r.gpuMs.cam ?? 0;
    return { map: r.outputs.get('map')!, normalized: r.outputs.get('normalized')!, gpuMs, wallMs: performance.now() - start };
  }

  get bytes(): number {
    return this.batches.bytes + this.finish.bytes;
  }

  destroy(): void {
    this.batches.destroy();
    this.finish.destroy();
  }
}
