// Ops defined as compositions of others: at shape inference each node becomes, for its input shapes,
// the nodes that compute it (src/ops/infer.ts), which then run with their own kernels, gradients and
// decision margins. The normalizations become reductions and elementwise ops; Gather with known indices,
// Expand, Tile, DepthToSpace and SpaceToDepth become slices, concatenations, broadcasts, reshapes and
// transposes. Each composition states the ONNX versions it implements, as op modules do.
import { attrFloat, attrInt, attrString, type AttributeValue, type Constant, elementCount, type Node, type Shape } from '../graph/ir.js';
import { constantInts, nodeError, normalizeAxis } from './common.js';
import type { ShapeContext } from './types.js';

const LEGACY_BROADCAST = new Set(['Add', 'Sub', 'Mul', 'Div']);

export interface CompositeOp {
  versions: number[];
  /** Whether it computes this node (default: every node of its type); otherwise an op module does. */
  applies?(ctx: ShapeContext): boolean;
  expand(ctx: ShapeContext, b: NodeMaker): void;
}

/**
 * Writes the nodes of one expansion in the form the model's opset reads (an attribute before the
 * version that made it an input), with names derived from the expanded node's and never reused.
 */
export class NodeMaker {
  readonly nodes: Node[] = [];
  readonly constants = new Map<string, Constant>();
  private count = 0;

  constructor(
    private readonly node: Node,
    readonly opset: number,
  ) {}

  /** Names of the expansion's own tensors and nodes: they contain "::" (no layer list shows them). */
  private fresh(what: string): string {
    return `${this.node.outputs[0]}::${this.node.opType}/${what}${this.count++}`;
  }

  /**
   * A node of `opType`; its output is `output` (default: a fresh name), which is returned. Before opset 7
   * a binary op broadcasts only its second operand, and only with broadcast=1: every composition here
   * puts the larger operand first.
   */
  add(opType: string, inputs: string[], attributes: Record<string, AttributeValue> = {}, output?: string): string {
    if (this.opset < 7 && LEGACY_BROADCAST.has(opType)) attributes = { ...attributes, broadcast: 1 };
    const out = output ?? this.fresh(opType.toLowerCase());
    const origin = { name: this.node.name, opType: this.node.opType };
    this.nodes.push({ name: this.fresh(opType), opType, inputs, outputs: [out], attributes: new Map(Object.entries(attributes)), origin });
    return out;
  }

  floats(values: number[], shape: Shape = [values.length]): string {
    const name = this.fresh('constant');
    this.constants.set(name, { dtype: 'float32', shape, data: Float32Array.from(values) });
    return name;
  }

  ints(values: number[]): string {
    const name = this.fresh('constant');
    this.constants.set(name, { dtype: 'int64', shape: [values.length], data: values });
    return name;
  }

  reduceMean(x: string, axes: number[], output?: string): string {
    return this.opset >= 18
      ? this.add('ReduceMean', [x, this.ints(axes)], { keepdims: 1 }, output)
      : this.add('ReduceMean', [x], { axes, keepdims: 1 }, output);
  }

  reshape(x: string, shape: number[], output?: string): string {
    return this.opset >= 5 ? this.add('Reshape', [x, this.ints(shape)], {}, output) : this.add('Reshape', [x], { shape }, output);
  }

  slice(x: string, axis: number, start: number, end: number): string {
    return this.opset >= 10
      ? this.add('Slice', [x, this.ints([start]), this.ints([end]), this.ints([axis])])
      : this.add('Slice', [x], { starts: [start], ends: [end], axes: [axis] });
  }

  concat(inputs: string[], axis: number, output?: string): string {
    return inputs.length === 1 ? this.add('Identity', inputs, {}, output) : this.add('Concat', inputs, { axis }, output);
  }

  /** The positions `indices` of `axis`, in that order: one slice per run of consecutive indices, concatenated. */
  take(x: string, axis: number, indices: number[]): string {
    const runs: [number, number][] = [];
    for (const i of indices) {
      const last = runs[runs.length - 1];
      if (last && last[1] === i) last[1]++;
      else runs.push([i, i + 1]);
    }
    return this.concat(runs.map(([start, end]) => this.slice(x, axis, start, end)), axis);
  }

  /** Constant padding of one axis of a rank-`rank` tensor. */
  pad(x: string, rank: number, axis: number, begin: number, end: number, value: number): string {
    const pads = new Array<number>(2 * rank).fill(0);
    pads[axis] = begin;
    pads[rank + axis] = end;
    if (this.opset >= 11) return this.add('Pad', [x, this.ints(pads), this.floats([value], [])]);
    return this.add('Pad', [x], this.opset >= 2 ? { pads, value } : { paddings: pads, value });
  }
}

/** The inputs' shapes, each required. */
function shapeOf(ctx: ShapeContext, i: number, what: string): Shape {
  const s = ctx.inputShapes[i];
  if (!s) throw nodeError(ctx.node, `missing ${what}`);
  return s;
}

const optional = (node: Node, i: number) => (node.inputs[i] ? node.inputs[i] : undefined);

/**
 * (x - mean) / sqrt(var + epsilon) over `axes`, the statistics kept for LayerNormalization's optional
 * outputs: mean and 1 / sqrt(var + epsilon). The variance is the mean of squared deviations (biased), as
 * every normalization op defines it.
 */
function standardize(b: NodeMaker, x: string, axes: number[], epsilon: number, outputs: { mean?: string; invStd?: string } = {}): string {
  const mean = b.reduceMean(x, axes, outputs.mean);
  const centred = b.add('Sub', [x, mean]);
  const variance = b.reduceMean(b.add('Mul', [centred, centred]), axes);
  const invStd = b.add('Reciprocal', [b.add('Sqrt', [b.add('Add', [variance, b.floats([epsilon], [])])])], {}, outputs.invStd);
  return b.add('Mul', [centred, invStd]);
}

/** A per-channel [C] parameter as [C, 1, ...] against an [N, C, ...] tensor of `rank`. */
function perChannel(b: NodeMaker, name: string, channels: number, rank: number): string {
  return b.reshape(name, [channels, ...new Array<number>(rank - 2).fill(1)]);
}

/** y = x * scale (+ bias), into the node's output. */
function affine(b: NodeMaker, x: string, scale: string | undefined, bias: string | undefined, output: string): string {
  const scaled = scale ? b.add('Mul', [x, scale], {}, bias ? undefined : output) : x;
  return bias ? b.add('Add', [scaled, bias], {}, output) : scale ? scaled : b.add('Identity', [scaled], {}, output);
}

const layerNormalization: CompositeOp = {
  versions: [17],
  expand(ctx, b) {
    const { node } = ctx;
    const shape = shapeOf(ctx, 0, 'input');
    const axis = normalizeAxis(node, attrInt(node, 'axis', -1), shape.length);
    if (attrInt(node, 'stash_type', 1) !== 1) throw nodeError(node, 'stash_type other than 1 (float32) is not supported');
    const axes = shape.map((_, i) => i).filter((i) => i >= axis);
    const normalized = standardize(b, node.inputs[0], axes, attrFloat(node, 'epsilon', 1e-5), {
      mean: node.outputs[1] || undefined,
      invStd: node.outputs[2] || undefined,
    });
    affine(b, normalized, node.inputs[1], optional(node, 2), node.outputs[0]);
  },
};

const instanceNormalization: CompositeOp = {
  versions: [1, 6],
  expand(ctx, b) {
    const { node } = ctx;
    const shape = shapeOf(ctx, 0, 'input');
    if (shape.length < 3) throw nodeError(node, `input [${shape}] needs at least one spatial axis`);
    const normalized = standardize(b, node.inputs[0], shape.slice(2).map((_, i) => i + 2), attrFloat(node, 'epsilon', 1e-5));
    const [scale, bias] = [1, 2].map((i) => perChannel(b, node.inputs[i], shape[1], shape.length));
    affine(b, normalized, scale, bias, node.outputs[0]);
  },
};

// ONNX's function body: (X - E[X]) / (sqrt(E[(X - E[X])^2]) + 1e-9).
const meanVarianceNormalization: CompositeOp = {
  versions: [9, 13],
  expand(ctx, b) {
    const { node } = ctx;
    const shape = shapeOf(ctx, 0, 'input');
    const axes = (node.attributes.has('axes') ? (node.attributes.get('axes') as number[]) : [0, 2, 3]).map((a) => normalizeAxis(node, a, shape.length));
    const mean = b.reduceMean(node.inputs[0], axes);
    const centred = b.add('Sub', [node.inputs[0], mean]);
    const std = b.add('Sqrt', [b.reduceMean(b.add('Mul', [centred, centred]), axes)]);
    b.add('Div', [centred, b.add('Add', [std, b.floats([1e-9], [])])], {}, node.outputs[0]);
  },
};

// Statistics per group of channels; version 18 scales each group, 21 each channel.
const groupNormalization: CompositeOp = {
  versions: [18, 21],
  expand(ctx, b) {
    const { node, opset } = ctx;
    const shape = shapeOf(ctx, 0, 'input');
    const groups = attrInt(node, 'num_groups');
    const [n, c] = shape;
    if (shape.length < 3 || c % groups !== 0) throw nodeError(node, `${c} channels do not split into ${groups} groups`);
    const grouped = b.reshape(node.inputs[0], [n, groups, -1]);
    const normalized = b.reshape(standardize(b, grouped, [2], attrFloat(node, 'epsilon', 1e-5)), shape);
    const perGroupParameter = opset < 21;
    const parameter = (i: number) => {
      if (!perGroupParameter) return perChannel(b, node.inputs[i], c, shape.length);
      const value = ctx.constant(i);
      if (!value) throw nodeError(node, 'a per-group scale or bias (opset 18) must be a constant');
      const values = Array.from(value.data as ArrayLike<number>, Number);
      return b.floats(Array.from({ length: c }, (_, ch) => values[Math.floor(ch / (c / groups))]), [c, ...new Array<number>(shape.length - 2).fill(1)]);
    };
    affine(b, normalized, parameter(1), parameter(2), node.outputs[0]);
  },
};

// Gather with indices known at load time (the class token of a transformer, a fixed channel order):
// slices of the data along the axis for each run of consecutive indices, concatenated, then shaped as
// data[:axis] + indices + data[axis + 1:].
const gather: CompositeOp = {
  versions: [1, 11, 13],
  expand(ctx, b) {
    const { node } = ctx;
    const shape = shapeOf(ctx, 0, 'data');
    const indices = ctx.constant(1);
    if (!indices) throw nodeError(node, 'indices computed at run time are not supported (they must be known at load time)');
    const axis = normalizeAxis(node, attrInt(node, 'axis', 0), shape.length);
    const list = constantInts(node, indices, 'indices').map((i) => {
      if (i < -shape[axis] || i >= shape[axis]) throw nodeError(node, `index ${i} is out of range for an axis of ${shape[axis]}`);
      return i < 0 ? i + shape[axis] : i;
    });
    const gathered = b.take(node.inputs[0], axis, list);
    b.reshape(gathered, [...shape.slice(0, axis), ...indices.shape, ...shape.slice(axis + 1)], node.outputs[0]);
  },
};

// Expand: numpy broadcasting of the input against the shape, which adding zeros of that shape does (its
// gradient sums over the broadcast axes, as Expand's must).
const expand: CompositeOp = {
  versions: [8, 13],
  expand(ctx, b) {
    const target = constantInts(ctx.node, ctx.constant(1), 'the shape');
    b.add('Add', [ctx.node.inputs[0], b.floats(new Array<number>(elementCount(target)).fill(0), target)], {}, ctx.node.outputs[0]);
  },
};

const tile: CompositeOp = {
  versions: [6, 13],
  expand(ctx, b) {
    const { node } = ctx;
    const shape = shapeOf(ctx, 0, 'input');
    const repeats = constantInts(node, ctx.constant(1), 'repeats');
    if (repeats.length !== shape.length || repeats.some((r) => r < 1)) throw nodeError(node, `repeats [${repeats}] must give a count of at least 1 per axis`);
    let current = node.inputs[0];
    repeats.forEach((r, axis) => {
      if (r > 1) current = b.concat(new Array<string>(r).fill(current), axis);
    });
    b.add('Identity', [current], {}, node.outputs[0]);
  },
};

// DepthToSpace moves blocks of channels into b x b patches: DCR (default) orders the channels as
// (block row, block column, channel), CRD as (channel, block row, block column). SpaceToDepth is DCR's inverse.
const depthToSpace: CompositeOp = {
  versions: [1, 11, 13],
  expand(ctx, b) {
    const { node } = ctx;
    const [n, c, h, w] = requireFour(ctx);
    const s = attrInt(node, 'blocksize');
    if (c % (s * s) !== 0) throw nodeError(node, `${c} channels are not a multiple of blocksize^2 = ${s * s}`);
    const crd = attrString(node, 'mode', 'DCR') === 'CRD';
    const [split, perm] = crd ? [[n, c / (s * s), s, s, h, w], [0, 1, 4, 2, 5, 3]] : [[n, s, s, c / (s * s), h, w], [0, 3, 4, 1, 5, 2]];
    const moved = b.add('Transpose', [b.reshape(node.inputs[0], split)], { perm });
    b.reshape(moved, [n, c / (s * s), h * s, w * s], node.outputs[0]);
  },
};

const spaceToDepth: CompositeOp = {
  versions: [1, 13],
  expand(ctx, b) {
    const { node } = ctx;
    const [n, c, h, w] = requireFour(ctx);
    const s = attrInt(node, 'blocksize');
    if (h % s !== 0 || w % s !== 0) throw nodeError(node, `a ${h}x${w} input does not split into ${s}x${s} blocks`);
    const moved = b.add('Transpose', [b.reshape(node.inputs[0], [n, c, h / s, s, w / s, s])], { perm: [0, 3, 5, 1, 2, 4] });
    b.reshape(moved, [n, c * s * s, h / s, w / s], node.outputs[0]);
  },
};

function requireFour(ctx: ShapeContext): Shape {
  const shape = shapeOf(ctx, 0, 'input');
  if (shape.length !== 4) throw nodeError(ctx.node, `input must be 4-D, got [${shape}]`);
  return shape;
}

// The bias of a ConvTranspose, added to the unbiased ConvTranspose that conv-transpose.ts runs.
const convTransposeBias: CompositeOp = {
  versions: [1, 11],
  applies: (ctx) => Boolean(ctx.node.inputs[2]),
  expand(ctx, b) {
    const { node } = ctx;
    const shape = shapeOf(ctx, 0, 'input');
    const core = b.add('ConvTranspose', node.inputs.slice(0, 2), Object.fromEntries(node.attributes));
    b.add('Add', [core, perChannel(b, node.inputs[2], shapeOf(ctx, 2, 'bias')[0], shape.length)], {}, node.outputs[0]);
  },
};

export const COMPOSITES: Record<string, CompositeOp> = {
  ConvTranspose: convTransposeBias,
  LayerNormalization: layerNormalization,
  InstanceNormalization: instanceNormalization,
  MeanVarianceNormalization: meanVarianceNormalization,
  GroupNormalization: groupNormalization,
  Gather: gather,
  Expand: expand,
  Tile: tile,
  DepthToSpace: depthToSpace,
  SpaceToDepth: spaceToDepth,
};
