// The Reduce ops over any axes (the 'axes' attribute before opset 13 for ReduceSum and 18 for the others,
// a load-time constant input from then on; all axes when absent, none with noop_with_empty_axes),
// keepdims. One kernel template runs them all with the op's term, combination and finish as defines
// (REDUCTIONS); the backward of the sums takes one invocation per input element, that of Max, Min and
// Prod one per output element with its group's statistics (ties, zeros). torch exports LayerNorm's
// statistics as ReduceMean(axes=[-1]) and some nets their global average pool as ReduceMean(axes=[2,3]).
import { linearTangent } from './tangent.js';
import { attrInt, attrInts, elementCount, type Node, type Shape } from '../graph/ir.js';
import { MAX_GROUPS, reduceBackwardKernel, reduceGroupBackwardKernel, reduceKernel } from '../kernels/reduce.js';
import { constantInts, nodeError, normalizeAxis } from './common.js';
import type { BackwardContext, OpDef, ShapeContext } from './types.js';

interface Reduction {
  versions: number[];
  /** From this version on the axes are an input. */
  axesInputFrom: number;
  /** WGSL: the term of each value v, how two combine (a, b), the start, and y from the combined s, n and m. */
  term: string;
  combine: 'a + b' | 'a * b' | 'max(a, b)' | 'min(a, b)';
  finish: string;
  /** dx in v, y, g = dy and n; Max, Min and Prod (group) also in ties, zeros and others. */
  gradient: string;
  group?: boolean;
  /** Whether reducing no axis (noop_with_empty_axes) leaves each value as it is. */
  identityWhenEmpty: boolean;
}

const IDENTITY: Record<Reduction['combine'], string> = { 'a + b': '0.0', 'a * b': '1.0', 'max(a, b)': '-3.4028234e38', 'min(a, b)': '3.4028234e38' };
const V18 = [1, 11, 13, 18];

export const REDUCTIONS: Record<string, Reduction> = {
  ReduceSum: { versions: [1, 11, 13], axesInputFrom: 13, term: 'v', combine: 'a + b', finish: 's', gradient: 'g', identityWhenEmpty: true },
  ReduceMean: { versions: V18, axesInputFrom: 18, term: 'v', combine: 'a + b', finish: 's / n', gradient: 'g / n', identityWhenEmpty: true },
  ReduceSumSquare: { versions: V18, axesInputFrom: 18, term: 'v * v', combine: 'a + b', finish: 's', gradient: '2.0 * v * g', identityWhenEmpty: false },
  ReduceL1: { versions: V18, axesInputFrom: 18, term: 'abs(v)', combine: 'a + b', finish: 's', gradient: 'sign(v) * g', identityWhenEmpty: false },
  // d sqrt(sum v^2) = v / y; PyTorch's norm gives 0 where y is 0.
  ReduceL2: { versions: V18, axesInputFrom: 18, term: 'v * v', combine: 'a + b', finish: 'sqrt(s)', gradient: 'select(0.0, v / y, y > 0.0) * g', identityWhenEmpty: false },
  ReduceLogSum: { versions: V18, axesInputFrom: 18, term: 'v', combine: 'a + b', finish: 'log(s)', gradient: 'g * exp(-y)', identityWhenEmpty: false },
  // Shifted by the largest value m so that exp neither overflows nor underflows; d/dv = exp(v - y).
  ReduceLogSumExp: { versions: V18, axesInputFrom: 18, term: 'exp(v - m)', combine: 'a + b', finish: 'log(s) + m', gradient: 'g * exp(v - y)', identityWhenEmpty: false },
  ReduceMax: { versions: [1, 11, 12, 13, 18, 20], axesInputFrom: 18, term: 'v', combine: 'max(a, b)', finish: 's', gradient: 'select(0.0, g / ties, v == y)', group: true, identityWhenEmpty: true },
  ReduceMin: { versions: [1, 11, 12, 13, 18, 20], axesInputFrom: 18, term: 'v', combine: 'min(a, b)', finish: 's', gradient: 'select(0.0, g / ties, v == y)', group: true, identityWhenEmpty: true },
  // The product of the others: y / v, or at a lone zero the product of the rest, else 0.
  ReduceProd: {
    versions: V18, axesInputFrom: 18, term: 'v', combine: 'a * b', finish: 's',
    gradient: 'g * select(select(0.0, others, zeros == 1.0), y / v, v != 0.0)', group: true, identityWhenEmpty: true,
  },
};

function reducedAxes({ node, opset, constant }: ShapeContext, rank: number): Set<number> {
  const r = REDUCTIONS[node.opType];
  const axes = opset >= r.axesInputFrom ? (node.inputs[1] ? constantInts(node, constant(1), 'axes') : undefined) : attrInts(node, 'axes');
  if (axes && axes.length > 0) return new Set(axes.map((a) => normalizeAxis(node, a, rank)));
  if (attrInt(node, 'noop_with_empty_axes', 0) === 0) return new Set(Array.from({ length: rank }, (_, i) => i));
  if (!r.identityWhenEmpty) throw nodeError(node, 'noop_with_empty_axes with no axes is not supported for this op');
  return new Set();
}

interface AxisGroup {
  size: number;
  reduced: boolean;
}

/** Merges neighbouring axes of the same kind (dropping size-1 axes) into the shader's groups. */
function axisGroups(node: Node, shape: Shape, reduced: Set<number>): AxisGroup[] {
  const groups: AxisGroup[] = [];
  shape.forEach((size, axis) => {
    if (size === 1) return;
    const last = groups[groups.length - 1];
    if (last && last.reduced === reduced.has(axis)) last.size *= size;
    else groups.push({ size, reduced: reduced.has(axis) });
  });
  if (groups.length > MAX_GROUPS) {
    throw nodeError(node, `reducing axes [${[...reduced]}] of [${shape}] alternates too often (at most ${MAX_GROUPS} runs of axes)`);
  }
  return groups;
}

interface ReduceGeometry {
  reduced: Set<number>;
  uniforms: ReturnType<typeof reduceUniforms>;
}

function reduceUniforms(node: Node, shape: Shape, reduced: Set<number>) {
  const groups = axisGroups(node, shape, reduced);
  const inStrides: number[] = [];
  const outStrides: number[] = [];
  let inStride = 1;
  let outStride = 1;
  for (let g = groups.length - 1; g >= 0; g--) {
    inStrides[g] = inStride;
    inStride *= groups[g].size;
    outStrides[g] = groups[g].reduced ? 0 : outStride;
    if (!groups[g].reduced) outStride *= groups[g].size;
  }
  return {
    groups: groups.length,
    reduce_count: inStride / outStride,
    sizes: groups.map((g) => g.size),
    in_strides: inStrides,
    out_strides: outStrides,
    reduced: groups.map((g) => (g.reduced ? 1 : 0)),
  };
}

export const reduce: OpDef<ReduceGeometry> = {
  versions: Object.fromEntries(Object.entries(REDUCTIONS).map(([type, r]) => [type, r.versions])),
  dataInputs: [0],
  geometry(ctx) {
    const shape = ctx.inputShapes[0];
    if (!shape) throw nodeError(ctx.node, 'missing input');
    const reduced = reducedAxes(ctx, shape.length);
    return { reduced, uniforms: reduceUniforms(ctx.node, shape, reduced) };
  },

  inferShapes({ node, inputShapes }, { reduced }) {
    const shape = inputShapes[0]!;
    const keepDims = attrInt(node, 'keepdims', 1) !== 0;
    return [keepDims ? shape.map((d, i) => (reduced.has(i) ? 1 : d)) : shape.filter((_, i) => !reduced.has(i))];
  },

  forward(ctx) {
    const r = REDUCTIONS[ctx.node.opType];
    ctx.dispatch(
      reduceKernel.program({
        uniforms: ctx.geometry.uniforms,
        bindings: { x: ctx.inputs[0]!.ref, y: ctx.outputs[0].ref },
        defines: { TERM: r.term, COMBINE: r.combine, IDENTITY: IDENTITY[r.combine], FINISH: r.finish, SHIFT: String(ctx.node.opType === 'ReduceLogSumExp') },
        count: elementCount(ctx.outputs[0].shape),
      }),
    );
  },

  tangent(ctx) {
    if (ctx.node.opType !== 'ReduceSum' && ctx.node.opType !== 'ReduceMean') throw nodeError(ctx.node, `${ctx.node.opType} is not linear; Hessian-vector products through it are not implemented yet`);
    linearTangent(ctx, reduce.forward, { linear: [0] });
  },

  backward(ctx: BackwardContext<ReduceGeometry>) {
    const dy = ctx.gradOutput(0);
    const dx = ctx.gradInput(0);
    if (!dy || !dx) return;
    const r = REDUCTIONS[ctx.node.opType];
    const kernel = r.group ? reduceGroupBackwardKernel : reduceBackwardKernel;
    ctx.dispatch(
      kernel.program({
        uniforms: ctx.geometry.uniforms,
        bindings: { x: ctx.inputs[0]!.ref, y_values: ctx.outputs[0].ref, dy, dx: dx.ref },
        defines: { GRAD: r.gradient },
        accumulate: dx.accumulate,
        count: elementCount(r.group ? ctx.outputs[0].shape : ctx.inputs[0]!.shape),
      }),
    );
  },
};
