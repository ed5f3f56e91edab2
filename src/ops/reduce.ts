// ReduceMean over any axes (the 'axes' attribute of opsets < 18; all axes when absent), keepdims.
// torch exports LayerNorm's statistics as ReduceMean(axes=[-1], keepdims=1), and some nets their global
// average pool as ReduceMean(axes=[2,3]). Backward broadcasts dy / count back over the reduced axes.
import { attrInt, attrInts, elementCount, type Node, type Shape } from '../graph/ir.js';
import { MAX_GROUPS, reduceMeanBackwardKernel, reduceMeanKernel } from '../kernels/reduce.js';
import { nodeError, normalizeAxis } from './common.js';
import type { BackwardContext, OpDef } from './types.js';

function reducedAxes(node: Node, rank: number): Set<number> {
  if (node.inputs.length > 1 && node.inputs[1] !== '') {
    throw nodeError(node, 'axes given as an input (opset 18) are not supported');
  }
  const axes = attrInts(node, 'axes');
  if (!axes) return new Set(Array.from({ length: rank }, (_, i) => i));
  return new Set(axes.map((a) => normalizeAxis(node, a, rank)));
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

export const reduceMean: OpDef<ReduceGeometry> = {
  versions: { ReduceMean: [1, 11, 13] },
  dataInputs: [0],
  geometry({ node, inputShapes }) {
    const shape = inputShapes[0]!;
    const reduced = reducedAxes(node, shape.length);
    return { reduced, uniforms: reduceUniforms(node, shape, reduced) };
  },

  inferShapes({ node, inputShapes }, { reduced }) {
    const shape = inputShapes[0]!;
    const keepDims = attrInt(node, 'keepdims', 1) !== 0;
    return [keepDims ? shape.map((d, i) => (reduced.has(i) ? 1 : d)) : shape.filter((_, i) => !reduced.has(i))];
  },

  forward(ctx) {
    ctx.dispatch(
      reduceMeanKernel.program({
        uniforms: ctx.geometry.uniforms,
        bindings: { x: ctx.inputs[0]!.ref, y: ctx.outputs[0].ref },
        count: elementCount(ctx.outputs[0].shape),
      }),
    );
  },

  backward(ctx: BackwardContext<ReduceGeometry>) {
    const dy = ctx.gradOutput(0);
    const dx = ctx.gradInput(0);
    if (!dy || !dx) return;
    ctx.dispatch(
      reduceMeanBackwardKernel.program({
        uniforms: ctx.geometry.uniforms,
        bindings: { dy, dx: dx.ref },
        accumulate: dx.accumulate,
        count: elementCount(ctx.inputs[0]!.shape),
      }),
    );
  },
};
