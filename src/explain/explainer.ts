// Grad-CAM, counterfactual Grad-CAM and CAM on a loaded model. One plan per (input shape, layer,
// method, output): forward pass, class choice and gradient seed, backward pass to the layer only, then
// the fused map kernel; one submission, and only the maps and the scores are read back.
import { UserError, type Shape } from '../graph/ir.js';
import type { ShapedGraph } from '../graph/infer.js';
import { PlanBuilder } from '../plan/builder.js';
import { Executable } from '../plan/executable.js';
import { gridFor, Params, type TensorRef } from '../plan/program.js';
import type { Model, Tensor } from '../runtime/model.js';
import { camHead, candidateLayers, defaultLayer, findLayer, type LayerInfo, scoreTensor } from './layers.js';
import { MarginProbe, type Stability, stabilityOf } from './stability.js';

export const METHODS = ['gradcam', 'counterfactual', 'cam'] as const;
export type Method = (typeof METHODS)[number];

const MODE: Record<Method, number> = { gradcam: 0, counterfactual: 1, cam: 2 };
const MAX_CHANNELS = 4096; // gradcam_common.wgsl keeps one weight per channel in workgroup memory

export interface ExplainOptions {
  method?: Method;
  /** Tensor or node name; default: the last spatial feature map before the head. */
  layer?: string;
  /** One class for every image or one per image; default: each image's top-1 class. */
  classes?: number[];
  /** The class-score output when not the first graph output. */
  output?: string;
  /** Four dispatches instead of the fused kernel (for tests and benchmarks). */
  unfused?: boolean;
}

export interface Explanation {
  method: Method;
  layer: LayerInfo;
  /** Per image: the explained class and its score (before softmax). */
  classes: number[];
  scores: number[];
  /** All class scores, [N, classes]. */
  logits: Tensor;
  /** [N, H, W]: ReLU(sum_k alpha_k A^k) resized to the input, unnormalized. */
  map: Tensor;
  /** [N, H, W]: per-image (m - min) / (max - min), all zeros where the map is constant; independent of its magnitude. */
  normalized: Tensor;
  /**
   * Per image, the smallest margin of a ReLU/Clip/HardSigmoid/HardSwish decision on the backward path
   * (distance to its kink relative to the tensor's max |x|) and whether it is clear of float32
   * rounding; a map that is not stable can move by O(1e-2) under any float32 arithmetic. CAM has no
   * backward path: always stable.
   */
  stability: Stability;
  /** GPU milliseconds per phase (timestamp queries), where the adapter has them. */
  timings: { forwardMs?: number; backwardMs?: number; camMs?: number; wallMs: number };
}

const CLASSES_INPUT = '<classes>';

export class Explainer {
  private readonly plans = new Map<string, { exe: Executable; layer: LayerInfo; shaped: ShapedGraph; score: string }>();

  constructor(readonly model: Model) {}

  /** Candidate layers for this input shape, and the default one. */
  layers(inputShape: Shape, output?: string): { layers: LayerInfo[]; default: LayerInfo; score: string } {
    const shaped = this.model.shaped(new Map([[this.model.inputName, inputShape]]));
    const score = scoreTensor(shaped, output);
    const layers = candidateLayers(shaped, score);
    return { layers, default: defaultLayer(layers), score };
  }

  async explain(input: Tensor, options: ExplainOptions = {}): Promise<Explanation> {
    const method = options.method ?? 'gradcam';
    if (!METHODS.includes(method)) throw new UserError(`unknown method "${method}"; choose one of ${METHODS.join(', ')}`);
    const key = [input.shape.join('x'), options.layer ?? '', method, options.output ?? '', options.unfused ? 'unfused' : 'fused'].join('|');
    let plan = this.plans.get(key);
    if (!plan) {
      plan = await this.buildPlan(input.shape, method, options);
      this.plans.set(key, plan);
    }
    const batch = input.shape[0];
    const numClasses = plan.shaped.shapes.get(plan.score)!.reduce((a, b) => a * b, 1) / batch;
    const requested = requestedClasses(options.classes, batch, numClasses);
    const result = await plan.exe.run(
      new Map<string, ArrayBufferView>([
        [this.model.inputName, input.data],
        [CLASSES_INPUT, requested],
      ]),
    );
    const picked = result.outputs.get('picked')!;
    const [, , outH, outW] = input.shape;
    return {
      method,
      layer: plan.layer,
      classes: Array.from({ length: batch }, (_, n) => picked[2 * n]),
      scores: Array.from({ length: batch }, (_, n) => picked[2 * n + 1]),
      logits: { shape: [batch, numClasses], data: result.outputs.get('logits')! },
      map: { shape: [batch, outH, outW], data: result.outputs.get('map')! },
      normalized: { shape: [batch, outH, outW], data: result.outputs.get('normalized')! },
      stability: stabilityOf(result.outputs.get('margins'), batch),
      timings: { forwardMs: result.gpuMs.forward, backwardMs: result.gpuMs.backward, camMs: result.gpuMs.cam, wallMs: result.wallMs },
    };
  }

  private async buildPlan(inputShape: Shape, method: Method, options: ExplainOptions) {
    if (inputShape.length !== 4) throw new UserError(`explanations need a 4-D NCHW input, got [${inputShape}]`);
    const { layers, default: fallback, score } = this.layers(inputShape, options.output);
    const shaped = this.model.shaped(new Map([[this.model.inputName, inputShape]]));
    const layer = options.layer ? findLayer(shaped, layers, options.layer) : fallback;
    const [batch, channels, layerH, layerW] = layer.shape;
    if (channels > MAX_CHANNELS) throw new UserError(`layer "${layer.tensor}" has ${channels} channels; the map kernel handles at most ${MAX_CHANNELS}`);
    const scoreCount = shaped.shapes.get(score)!.reduce((a, b) => a * b, 1);
    if (scoreCount % batch !== 0) throw new UserError(`scores "${score}" [${shaped.shapes.get(score)}] do not split into ${batch} images`);
    const numClasses = scoreCount / batch;
    const head = method === 'cam' ? camHead(shaped, layer, score) : undefined;

    const b = new PlanBuilder(shaped, this.model.deviceTraits);
    const scores = b.value(score);
    const activations = b.value(layer.tensor);
    b.addOutput('logits', scores);

    b.setPhase('backward');
    const requested = b.addInput(CLASSES_INPUT, [batch]);
    const seed = b.scratch(shaped.shapes.get(score)!, 'gradient seed');
    const picked = b.scratch([batch, 2], 'picked classes');
    b.dispatch(
      {
        files: ['class_seed'],
        params: new Params().u32(batch, numClasses),
        bindings: [{ tensor: scores }, { tensor: requested }, { tensor: seed, write: true }, { tensor: picked, write: true }],
        workgroups: gridFor(batch * numClasses),
      },
      'class selection',
    );
    b.addOutput('picked', picked);
    const probe = new MarginProbe(b, batch);
    const weightSource: TensorRef = head
      ? b.constantTensor(head.weight, 'classifier weight')
      : b.addBackward(score, seed, [layer.tensor], probe.visit).get(layer.tensor)!;
    if (probe.any) b.addOutput('margins', probe.margins);

    b.setPhase('cam');
    const [, , outH, outW] = inputShape;
    const params = new Params().u32(batch, channels, layerH, layerW, outH, outW, MODE[method], head?.classStride ?? 0, head?.channelStride ?? 0);
    const coarse = b.scratch([batch, layerH * layerW], 'coarse map');
    const map = b.scratch([batch, outH, outW], 'map');
    const normalized = b.scratch([batch, outH, outW], 'normalized map');
    if (options.unfused) {
      const alpha = b.scratch([batch, channels], 'channel weights');
      const step = (file: string, bindings: { tensor: TensorRef; write?: boolean }[], workgroups: [number, number, number]) =>
        b.dispatch({ files: ['gradcam_common', 'workgroup_min_max', ...(file === 'gradcam_step_alpha' ? ['gradcam_alpha'] : []), file], params, bindings, workgroups }, file);
      step('gradcam_step_alpha', [{ tensor: weightSource }, { tensor: picked }, { tensor: alpha, write: true }], gridFor(batch * channels));
      step('gradcam_step_sum', [{ tensor: activations }, { tensor: alpha }, { tensor: coarse, write: true }], gridFor(batch * layerH * layerW));
      step('gradcam_step_resize', [{ tensor: coarse }, { tensor: map, write: true }], gridFor(batch * outH * outW));
      step('gradcam_step_normalize', [{ tensor: map }, { tensor: normalized, write: true }], [batch, 1, 1]);
    } else {
      b.dispatch(
        {
          files: ['gradcam_common', 'workgroup_min_max', 'gradcam_alpha', 'gradcam'],
          params,
          bindings: [
            { tensor: activations },
            { tensor: weightSource },
            { tensor: picked },
            { tensor: coarse, write: true },
            { tensor: map, write: true },
            { tensor: normalized, write: true },
          ],
          workgroups: [batch, 1, 1],
        },
        'gradcam map',
      );
    }
    b.addOutput('map', map);
    b.addOutput('normalized', normalized);
    const exe = await Executable.create(this.model.gpu, b.build(), this.model.weights);
    return { exe, layer, shaped, score };
  }

  dispose(): void {
    for (const p of this.plans.values()) p.exe.destroy();
    this.plans.clear();
  }
}

/** -1 asks the GPU for the top-1 class of that image. */
function requestedClasses(classes: number[] | undefined, batch: number, numClasses: number): Int32Array {
  if (!classes || classes.length === 0) return new Int32Array(batch).fill(-1);
  if (classes.length !== 1 && classes.length !== batch) {
    throw new UserError(`give one class for all ${batch} images or one per image, not ${classes.length}`);
  }
  for (const c of classes) {
    if (!Number.isInteger(c) || c < 0 || c >= numClasses) throw new UserError(`class ${c} is out of range: the model has ${numClasses} classes (0 to ${numClasses - 1})`);
  }
  return Int32Array.from({ length: batch }, (_, n) => classes[classes.length === 1 ? 0 : n]);
}
