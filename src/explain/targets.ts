// What an explanation explains: the score y whose gradient seeds the backward pass. The class logit by
// default; a softmax probability, a binary logit, a segmentation class summed over a mask, the cosine
// similarity with a concept vector, or any output element. The GPU forms y and its seed
// (shaders/target_seed.wgsl); this module checks a target against the model's output and the images, and
// says which output it reads and what the seed kernel is given.
import { elementCount } from '../graph/ir.js';
import { UserError } from '../errors.js';
import { MAX_COMPARE, TARGET_MODE } from '../kernels/gradcam.js';
import type { ShapedGraph } from '../ops/infer.js';
import type { Tensor } from '../runtime/model.js';
import { scoreTensor } from './layers.js';

export const TARGET_HELP = {
  class: "the class's logit (before any final softmax); default class: each image's top-1",
  softmax: "the class's softmax probability over the output's last axis (computed on the GPU)",
  rest: "ClassifierOutputReST (ShapleyCAM's): the class's logit minus its cross-entropy, 2 z_c - logsumexp(z)",
  binary: 'a single-logit output z: z for class 1, -z for class 0; default: the predicted class (1 where z >= 0)',
  segmentation: "an [N, K, spatial...] output: the class's scores summed over a mask (default: where the class wins); needs the class",
  similarity: 'the cosine similarity of each image\'s output vector with a concept vector',
  raw: 'the output element at an index (regression heads, any output)',
  finer: "FinerCAM's: the class's logit against its --compare K most similar classes' (default 3), weighted by their softmax probabilities and --alpha (default 1)",
  detection: "a single-stage detector's raw head (YOLOv5 [N, A, 5+K] or YOLOv8 [N, 4+K, A], before NMS): objectness x class score summed over the predictions overlapping a box",
} as const;
export type TargetKind = keyof typeof TARGET_HELP;
export const TARGETS = Object.keys(TARGET_HELP) as TargetKind[];

export interface Target {
  kind: TargetKind;
  /** segmentation: a weight per output position (1 inside, 0 outside), one [spatial] for every image or [N, spatial...]. */
  mask?: Tensor;
  /** similarity: the concept, [D] for every image or [N, D]. */
  concept?: Tensor;
  /** raw: the element of each image's output (flattened) to explain. */
  index?: number;
  /** detection: the box, x1, y1, x2, y2 in input pixels, [4] for every image or [N, 4]. */
  box?: Tensor;
  /** detection: the head's layout; default: YOLOv5's when its last axis is the shorter, else YOLOv8's. */
  format?: DetectorFormat;
  /** finer: how many of the most similar classes the class is compared with (default 3). */
  compare?: number;
  /** finer: the weight of the similar classes' logits (default 1). */
  alpha?: number;
}

/** FinerCAM's defaults (pytorch-grad-cam's comparison_categories [1, 2, 3] and alpha 1). */
export const FINER_DEFAULTS = { compare: 3, alpha: 1 } as const;

export const DETECTOR_FORMATS = ['yolov5', 'yolov8'] as const;
export type DetectorFormat = (typeof DETECTOR_FORMATS)[number];

/** How the seed kernel forms a target on a given output. */
export interface TargetPlan {
  kind: TargetKind;
  /** The tensor the target reads: the logits before a final (Log)Softmax for class, softmax, binary. */
  score: string;
  /** Values of the score tensor per image; the segmentation output's positions per class (else 1). */
  values: number;
  positions: number;
  mode: number;
  /** The mask's, concept's or box's values (0: none), and its stride per image (0: one for all). */
  auxLength: number;
  auxStride: number;
  /** The classes a request may name, where not the output's values per position (binary: 2; a detector's K). */
  classes?: number;
  /** finer: the similar classes compared with, and their weight (0 and 1 for the other targets). */
  compare: number;
  alpha: number;
}

export function checkTargetKind(kind: string): TargetKind {
  if (!(TARGETS as string[]).includes(kind)) throw new UserError(`unknown target "${kind}"; choose one of ${TARGETS.join(', ')}`);
  return kind as TargetKind;
}

/** Whether the target is the class logit as the engine has always explained it. */
export const isClassTarget = (t?: Target) => !t || t.kind === 'class';

/** The plan of `target` on the model's output (`output`, default the first graph output) for a batch of `batch`. */
export function planTarget(shaped: ShapedGraph, target: Target | undefined, batch: number, output?: string): TargetPlan {
  const kind = target?.kind ?? 'class';
  const logits = kind === 'class' || kind === 'softmax' || kind === 'rest' || kind === 'binary' || kind === 'finer';
  const score = logits ? scoreTensor(shaped, output) : outputOf(shaped, output);
  const shape = shaped.shapes.get(score)!;
  const count = elementCount(shape);
  if (count % batch !== 0 || shape[0] !== batch) throw new UserError(`output "${score}" [${shape}] does not split into ${batch} images`);
  const values = count / batch;
  const base = { kind, score, values, positions: 1, auxLength: 0, auxStride: 0, compare: 0, alpha: 1 };
  if (target?.mask && kind !== 'segmentation') throw new UserError('a mask applies to --target segmentation only');
  if (target?.concept && kind !== 'similarity') throw new UserError('a concept applies to --target similarity only');
  if (target?.index !== undefined && kind !== 'raw') throw new UserError('an index applies to --target raw only');
  if ((target?.box || target?.format) && kind !== 'detection') throw new UserError('a box and a detector format apply to --target detection only');
  if ((target?.compare !== undefined || target?.alpha !== undefined) && kind !== 'finer') throw new UserError('--compare and --alpha apply to --target finer (or --method finercam) only');
  switch (kind) {
    case 'binary':
      if (values !== 1) throw new UserError(`target binary needs one logit per image; output "${score}" has ${values}`);
      return { ...base, mode: TARGET_MODE.binary };
    case 'softmax':
    case 'rest':
      if (values < 2) throw new UserError(`target ${kind} needs two or more classes; output "${score}" has ${values} (use --target binary)`);
      return { ...base, mode: TARGET_MODE[kind] };
    case 'segmentation': {
      if (shape.length < 3) throw new UserError(`target segmentation needs an [N, K, spatial...] output; "${score}" is [${shape}]`);
      const positions = elementCount(shape.slice(2));
      const mask = target?.mask;
      if (mask) {
        const given = elementCount(mask.shape);
        const spatial = shape.slice(2).join('x');
        if (given !== positions && given !== batch * positions) throw new UserError(`the mask has ${mask.shape.join('x')} values; the output's positions are ${spatial} (one mask for all images, or one per image: ${batch}x${spatial})`);
        return { ...base, positions, mode: TARGET_MODE.segmentation, auxLength: given, auxStride: given === positions ? 0 : positions };
      }
      return { ...base, positions, mode: TARGET_MODE.segmentation };
    }
    case 'similarity': {
      const concept = target?.concept;
      if (!concept) throw new UserError('target similarity needs a concept vector (--concept FILE.npy)');
      const given = elementCount(concept.shape);
      if (given !== values && given !== batch * values) throw new UserError(`the concept has ${given} values; output "${score}" has ${values} per image (one concept for all images, or ${batch}x${values})`);
      return { ...base, mode: TARGET_MODE.similarity, auxLength: given, auxStride: given === values ? 0 : values };
    }
    case 'raw': {
      const index = target?.index;
      if (index === undefined || !Number.isInteger(index) || index < 0 || index >= values) throw new UserError(`target raw needs an index from 0 to ${values - 1} (--index I) into output "${score}" [${shape}]`);
      return { ...base, mode: TARGET_MODE.class };
    }
    case 'detection':
      return planDetection(target!, base, shape, batch);
    case 'finer': {
      const compare = target?.compare ?? FINER_DEFAULTS.compare;
      const alpha = target?.alpha ?? FINER_DEFAULTS.alpha;
      const most = Math.min(MAX_COMPARE, values - 1);
      if (!Number.isInteger(compare) || compare < 1 || compare > most) throw new UserError(`--compare takes 1 to ${most} similar classes (the output has ${values} classes), got ${compare}`);
      if (!Number.isFinite(alpha)) throw new UserError(`--alpha takes a number, got ${alpha}`);
      return { ...base, mode: TARGET_MODE.finer, compare, alpha };
    }
    default:
      return { ...base, mode: TARGET_MODE.class };
  }
}

/** YOLOv5's [N, A, 5 + K] (objectness) or YOLOv8's [N, 4 + K, A] head, and the box to overlap. */
function planDetection(target: Target, base: Omit<TargetPlan, 'mode'>, shape: number[], batch: number): TargetPlan {
  const { score } = base;
  if (shape.length !== 3) throw new UserError(`target detection reads a raw head [N, A, 5+K] (yolov5) or [N, 4+K, A] (yolov8); output "${score}" is [${shape}] (--output NAME picks another)`);
  const format = target.format ?? (shape[2] < shape[1] ? 'yolov5' : 'yolov8');
  const [predictions, fields] = format === 'yolov5' ? [shape[1], shape[2]] : [shape[2], shape[1]];
  const least = format === 'yolov5' ? 6 : 5;
  if (fields < least) throw new UserError(`a ${format} head has ${least - 1} box and score fields and at least one class per prediction; output "${score}" [${shape}] has ${fields}`);
  const box = target.box;
  if (!box) throw new UserError('target detection needs a box (--box X1,Y1,X2,Y2)');
  const given = elementCount(box.shape);
  if (given !== 4 && given !== 4 * batch) throw new UserError(`a box is 4 values (x1, y1, x2, y2), one for all images or one per image; got ${given}`);
  for (let i = 0; i < given; i += 4) {
    const [x1, y1, x2, y2] = box.data.subarray(i, i + 4);
    if (!(x2 > x1 && y2 > y1)) throw new UserError(`a box needs x1 < x2 and y1 < y2, got ${[x1, y1, x2, y2].join(',')}`);
  }
  return { ...base, positions: predictions, mode: TARGET_MODE[format], auxLength: given, auxStride: given === 4 ? 0 : 4, classes: fields - least + 1 };
}

function outputOf(shaped: ShapedGraph, output?: string): string {
  const name = output ?? shaped.graph.outputs[0];
  if (!shaped.shapes.has(name)) throw new UserError(`output "${name}" is not a tensor of the model`);
  return name;
}

/** The mask's or concept's values for the seed kernel (one zero where there are none). */
export function targetAux(target: Target | undefined): Float32Array {
  const aux = target?.mask ?? target?.concept ?? target?.box;
  return aux ? aux.data : new Float32Array(1);
}

/** The classes the seed kernel is asked for, per image; -1 asks for the top-1 (the predicted class). */
export function requestedClasses(plan: TargetPlan, target: Target | undefined, classes: number[] | undefined, batch: number): Int32Array {
  if (plan.kind === 'raw') {
    if (classes?.length) throw new UserError('target raw explains --index, not a class');
    return new Int32Array(batch).fill(target!.index!);
  }
  if (plan.kind === 'similarity') {
    if (classes?.length) throw new UserError('target similarity explains the concept, not a class');
    return new Int32Array(batch);
  }
  const count = plan.classes ?? (plan.kind === 'binary' ? 2 : plan.values / plan.positions);
  if (!classes || classes.length === 0) {
    if (plan.kind === 'segmentation') throw new UserError('target segmentation needs the class to explain (--class C)');
    return new Int32Array(batch).fill(-1);
  }
  if (classes.length !== 1 && classes.length !== batch) {
    throw new UserError(`give one class for all ${batch} images or one per image, not ${classes.length}`);
  }
  for (const c of classes) {
    if (!Number.isInteger(c) || c < 0 || c >= count) throw new UserError(`class ${c} is out of range: the ${plan.kind === 'class' ? 'model' : `${plan.kind} target`} has ${count} classes (0 to ${count - 1})`);
  }
  return Int32Array.from({ length: batch }, (_, n) => classes[classes.length === 1 ? 0 : n]);
}
