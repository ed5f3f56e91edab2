// NaN and infinity: refused in inputs and weights before anything runs, and named where they arise
// inside a network. A NaN pixel otherwise flows into every score; the top-1 choice and the map's ReLU
// then decide by what the hardware does with NaN, and a clean-looking map comes out.
import { type Graph, type Shape, elementCount, upstreamTensors } from '../graph/ir.js';
import { UserError } from '../errors.js';
import type { ShapedGraph } from '../ops/infer.js';
import { PlanBuilder } from '../plan/builder.js';
import { Executable } from '../plan/executable.js';
import { finiteCheckKernel, NO_NON_FINITE_NODE } from '../kernels/finite.js';
import type { Model } from './model.js';

/** The index of the first NaN or infinity in `values`, or -1. */
export function firstNonFinite(values: ArrayLike<number>): number {
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i])) return i;
  return -1;
}

/** Refuses `values` if any is NaN or infinite, naming the first (its flat index and, given a shape, its position). */
export function checkFinite(values: ArrayLike<number>, what: string, shape?: Shape): void {
  const i = firstNonFinite(values);
  if (i < 0) return;
  const v = values[i];
  const at = shape && elementCount(shape) === values.length ? ` (position [${position(i, shape).join(', ')}])` : '';
  throw new UserError(`${what} has ${Number.isNaN(v) ? 'NaN' : v > 0 ? '+Infinity' : '-Infinity'} at index ${i}${at}; every value must be finite`);
}

/**
 * Refuses NaN in any float initializer, and infinity in any with more than one value. A lone infinity
 * is an ordinary bound (Clip's max, a fill value); a weight tensor holding one is a broken export.
 */
export function checkFiniteWeights(graph: Graph): void {
  for (const [name, c] of graph.constants) {
    if (c.dtype !== 'float32') continue;
    const data = c.data as Float32Array;
    for (let i = 0; i < data.length; i++) {
      const v = data[i];
      if (Number.isNaN(v) || (!Number.isFinite(v) && data.length > 1)) {
        throw new UserError(`initializer "${name}" holds ${Number.isNaN(v) ? 'NaN' : 'an infinity'} at index ${i}; the model's weights must be finite`);
      }
    }
  }
}

/**
 * The error for an output `output` that came out non-finite from finite inputs: a run of the forward
 * pass with a check after every node finds the first node whose output is not finite.
 */
export async function nonFiniteOutputError(model: Model, shaped: ShapedGraph, inputs: Map<string, ArrayBufferView>, output: string): Promise<UserError> {
  const general = `"${output}" is not finite: a value overflowed float32 inside the network`;
  try {
    const node = await firstNonFiniteNode(model, shaped, inputs, output);
    if (node) return new UserError(`${general}; the first node whose output is not finite is ${node.opType} node "${node.name}"`);
  } catch {
    // The diagnosis is a courtesy: the error stands without it.
  }
  return new UserError(general);
}

const FLAG = '<non-finite flag>';

async function firstNonFiniteNode(model: Model, shaped: ShapedGraph, inputs: Map<string, ArrayBufferView>, output: string) {
  const b = new PlanBuilder(shaped, model.deviceTraits);
  // No activation is fused over a tensor: each node's own output is what is checked.
  const upstream = upstreamTensors(shaped.nodes, output);
  const nodes = shaped.nodes.filter((node) => node.outputs.some((o) => upstream.has(o)));
  b.keep(nodes.flatMap((n) => n.outputs));
  const flag = b.addInput(FLAG, [1], 'u32');
  nodes.forEach((node, index) => {
    for (const name of node.outputs) {
      if (name === '' || shaped.constants.has(name)) continue;
      const values = b.value(name);
      b.dispatch(finiteCheckKernel.program({ uniforms: { node: index }, bindings: { values, flag }, count: elementCount(values.shape) }), `finite check of ${name}`);
    }
  });
  b.addOutput(FLAG, flag);
  const exe = await Executable.create(model.gpu, b.build(), model.weights);
  try {
    const result = await exe.run(new Map([...inputs, [FLAG, Uint32Array.of(NO_NON_FINITE_NODE)]]));
    const found = new Uint32Array(result.outputs.get(FLAG)!.buffer)[0];
    return found === NO_NON_FINITE_NODE ? undefined : nodes[found];
  } finally {
    exe.destroy();
  }
}

function position(index: number, shape: Shape): number[] {
  const at: number[] = [];
  for (let d = shape.length - 1; d >= 0; d--) {
    at.unshift(index % shape[d]);
    index = Math.floor(index / shape[d]);
  }
  return at;
}
