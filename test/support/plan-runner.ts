// Runs a hand-built graph (test/support/model-spec.ts) through the planner with chosen device traits (a tiny binding limit forces
// the weight-chunking path without a 392 MiB weight), and float64 helpers to check what comes back.
import type { GpuContext } from '../../src/gpu/context.js';
import { inferShapes } from '../../src/ops/infer.js';
import type { Graph, Shape } from '../../src/graph/ir.js';
import type { DeviceTraits } from '../../src/kernels/program.js';
import { type Dispatch, PlanBuilder } from '../../src/plan/builder.js';
import { Executable, WeightStore } from '../../src/plan/executable.js';
import { deviceTraits } from '../../src/runtime/model.js';
import type { Reference } from './fixtures.js';

export { deviceTraits };

export interface RunResult {
  y: Float32Array;
  shape: Shape;
  /** Gradients of sum(seed * y) with respect to the named tensors. */
  grads: Map<string, Float32Array>;
  dispatches: Dispatch[];
}

/** The forward value of the graph's output and, given a seed, the gradients of sum(seed * y). */
export async function runGraph(
  gpu: GpuContext,
  graph: Graph,
  inputs: Record<string, Float32Array>,
  options: { traits?: DeviceTraits; seed?: Float32Array; gradientsTo?: string[] } = {},
): Promise<RunResult> {
  const shapes = new Map(graph.inputs.map((i) => [i.name, i.dims]));
  const shaped = inferShapes(graph, shapes);
  const builder = new PlanBuilder(shaped, options.traits ?? deviceTraits(gpu));
  const output = graph.outputs[0];
  if (options.seed) builder.keepBackward(output, options.gradientsTo ?? []);
  builder.addOutput(output, builder.value(output));
  const data = new Map<string, ArrayBufferView>(Object.entries(inputs));
  if (options.seed) {
    builder.setPhase('backward');
    const seed = builder.addInput('seed', shaped.shapes.get(output)!);
    data.set('seed', options.seed);
    for (const [name, ref] of builder.addBackward(output, seed, options.gradientsTo ?? [])) builder.addOutput(`grad:${name}`, ref);
  }
  const plan = builder.build();
  const weights = new WeightStore(gpu);
  const exe = await Executable.create(gpu, plan, weights);
  try {
    const result = await exe.run(data);
    const grads = new Map((options.gradientsTo ?? []).map((name) => [name, result.outputs.get(`grad:${name}`)!]));
    return { y: result.outputs.get(output)!, shape: shaped.shapes.get(output)!, grads, dispatches: plan.dispatches };
  } finally {
    exe.destroy();
    weights.destroy();
  }
}

/** Deterministic values in [-1, 1) (a linear congruential generator), as float32. */
export function randomData(count: number, seed: number): Float32Array {
  let state = seed >>> 0;
  return Float32Array.from({ length: count }, () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 31 - 1;
  });
}

export const reference = (shape: Shape, data: ArrayLike<number>): Reference => ({ shape, data: Float64Array.from(data) });

/**
 * The gradient of sum(gy * f(inputs)) with respect to inputs[which], by central differences in float64.
 * Exact up to rounding for functions at most quadratic in that input (every op these tests check), so a
 * unit step is as good as any.
 */
export function exactGradient(f: (inputs: Float64Array[]) => Float64Array, inputs: ArrayLike<number>[], gy: ArrayLike<number>, which: number): Float64Array {
  const xs = inputs.map((x) => Float64Array.from(x));
  const grad = new Float64Array(xs[which].length);
  const dot = (y: Float64Array) => y.reduce((s, v, i) => s + v * gy[i], 0);
  for (let i = 0; i < grad.length; i++) {
    const keep = xs[which][i];
    xs[which][i] = keep + 1;
    const up = dot(f(xs));
    xs[which][i] = keep - 1;
    const down = dot(f(xs));
    xs[which][i] = keep;
    grad[i] = (up - down) / 2;
  }
  return grad;
}

/** Row-major strides of a shape. */
export function stridesOf(shape: Shape): number[] {
  const strides = new Array<number>(shape.length).fill(1);
  for (let d = shape.length - 2; d >= 0; d--) strides[d] = strides[d + 1] * shape[d + 1];
  return strides;
}

/** Coordinates of flat index i in shape. */
export function coordsOf(i: number, shape: Shape): number[] {
  const coords = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    coords[d] = i % shape[d];
    i = Math.floor(i / shape[d]);
  }
  return coords;
}
