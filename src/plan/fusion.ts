// Activations that run inside the write of the op producing their input (a Conv, a BatchNormalization
// that did not fold, a binary op: see fusesActivation): one pass over the output instead of two or
// three. A ReLU, Clip or HardSwish that alone reads the producer's output, and SiLU as PyTorch exports
// it, Mul(z, Sigmoid(z)) with those two nodes the only readers of z. The fused kernels use the unfused
// formulas (shaders/fused_activation.wgsl).
import type { Node } from '../graph/ir.js';
import type { FusedActivation } from '../kernels/fused.js';
import type { DeviceTraits } from '../kernels/program.js';
import type { ShapedGraph } from '../ops/infer.js';
import { opFor } from '../ops/registry.js';

export interface Fusion {
  /** The node whose dispatches compute it all, writing the last activation node's output. */
  producer: Node;
  activation: FusedActivation;
  /** The activation nodes it replaces, in graph order. */
  nodes: Node[];
  /** The tensors that are never computed (the producer's output, a Sigmoid's). */
  skipped: string[];
}

export interface FusionScope {
  shaped: ShapedGraph;
  device: DeviceTraits;
  producer: ReadonlyMap<string, Node>;
  consumers: ReadonlyMap<string, readonly Node[]>;
  /** Whether tensor `name` may go uncomputed: not kept by the caller, not computed already. */
  skippable(name: string): boolean;
}

/** The fusion whose result is `node`'s first output, if there is one. */
export function fusionEndingAt(node: Node, scope: FusionScope): Fusion | undefined {
  const opset = scope.shaped.graph.opset;
  const geometry = (n: Node) => scope.shaped.geometry.get(n);
  const readers = (name: string) => scope.consumers.get(name) ?? [];
  const fusingProducer = (z: string) => {
    const producer = scope.producer.get(z);
    return producer && opFor(producer, opset).fusesActivation?.(geometry(producer), scope.device) ? producer : undefined;
  };

  const single = opFor(node, opset).asFusedActivation?.(node, geometry(node));
  if (single) {
    const z = node.inputs[0];
    const producer = fusingProducer(z);
    if (!producer || readers(z).length !== 1 || !scope.skippable(z)) return undefined;
    return { producer, activation: single, nodes: [node], skipped: [z] };
  }

  if (node.opType === 'Mul' && node.inputs.length === 2) {
    for (const [z, s] of [node.inputs, [...node.inputs].reverse()]) {
      const sigmoid = scope.producer.get(s);
      if (sigmoid?.opType !== 'Sigmoid' || sigmoid.inputs[0] !== z || z === s) continue;
      const producer = fusingProducer(z);
      const zReaders = readers(z);
      if (!producer || zReaders.length !== 2 || !zReaders.includes(sigmoid) || readers(s).length !== 1) return undefined;
      if (!scope.skippable(z) || !scope.skippable(s)) return undefined;
      return { producer, activation: { kind: 'silu' }, nodes: [sigmoid, node], skipped: [z, s] };
    }
  }
  return undefined;
}
