// Load-time graph rewrites that do not depend on the input shape.
import { attrFloat, type Constant, type Graph, type Node } from '../graph/ir.js';
import { freshNames } from './common.js';
import { unsupportedBatchNorm } from './normalization.js';
import { expandVariadic } from './variadic.js';

export function optimizeGraph(graph: Graph): Graph {
  return foldBatchNorms(expandVariadic(graph));
}

/**
 * Folds every inference-mode BatchNormalization that alone consumes a Conv's output into that conv:
 * with a = scale / sqrt(var + epsilon), W' = W * a (per output channel) and b' = (b - mean) * a + B,
 * computed in float64 and stored as float32. The conv takes over the BN's output name.
 *
 * The conv's own output (before the BN) no longer exists afterwards, so it cannot be named as a
 * Grad-CAM layer or a gradient target; the BN's output, which has the value the next layers see, can.
 * The graph's Constant objects are left as they are (they may be shared); folding makes new ones.
 */
function foldBatchNorms(graph: Graph): Graph {
  const consumers = new Map<string, number>();
  for (const node of graph.nodes) for (const input of node.inputs) consumers.set(input, (consumers.get(input) ?? 0) + 1);
  const producers = new Map<string, number>();
  graph.nodes.forEach((node, i) => node.outputs.forEach((out) => producers.set(out, i)));
  const uniqueName = freshNames(graph);

  const constants = new Map(graph.constants);
  const nodes: (Node | undefined)[] = [...graph.nodes];
  const replaced = new Set<string>();
  graph.nodes.forEach((bn, bnIndex) => {
    if (bn.opType !== 'BatchNormalization' || unsupportedBatchNorm(bn, graph.opset)) return;
    const convIndex = producers.get(bn.inputs[0]);
    if (convIndex === undefined) return;
    const conv = nodes[convIndex];
    if (!conv || conv.opType !== 'Conv' || consumers.get(conv.outputs[0]) !== 1 || graph.outputs.includes(conv.outputs[0])) return;
    const folded = foldedConvParameters(conv, bn, (name) => constants.get(name));
    if (!folded) return;
    const weight = uniqueName(`${conv.name}/bn_folded_weight`);
    const bias = uniqueName(`${conv.name}/bn_folded_bias`);
    constants.set(weight, folded.weight);
    constants.set(bias, folded.bias);
    for (const name of [...conv.inputs.slice(1), ...bn.inputs.slice(1)]) replaced.add(name);
    nodes[convIndex] = { ...conv, inputs: [conv.inputs[0], weight, bias], outputs: [bn.outputs[0]] };
    nodes[bnIndex] = undefined;
  });

  const kept = nodes.filter((n): n is Node => n !== undefined);
  const stillUsed = new Set([...graph.outputs, ...kept.flatMap((n) => n.inputs)]);
  for (const name of replaced) if (!stillUsed.has(name)) constants.delete(name);
  return { ...graph, nodes: kept, constants };
}

function foldedConvParameters(conv: Node, bn: Node, constant: (name: string) => Constant | undefined): { weight: Constant; bias: Constant } | undefined {
  const floats = (name: string | undefined) => {
    const c = name ? constant(name) : undefined;
    return c?.dtype === 'float32' ? (c.data as Float32Array) : undefined;
  };
  const weightConstant = constant(conv.inputs[1]);
  const weight = floats(conv.inputs[1]);
  const [scale, shift, mean, variance] = bn.inputs.slice(1, 5).map(floats);
  const hasBias = conv.inputs.length > 2 && conv.inputs[2] !== '';
  const bias = hasBias ? floats(conv.inputs[2]) : undefined;
  if (!weightConstant || !weight || !scale || !shift || !mean || !variance || (hasBias && !bias)) return undefined;
  const outC = weightConstant.shape[0];
  if ([scale, shift, mean, variance].some((p) => p.length !== outC) || (bias && bias.length !== outC)) return undefined;

  const epsilon = attrFloat(bn, 'epsilon', 1e-5);
  const perChannel = weight.length / outC;
  const foldedWeight = new Float32Array(weight.length);
  const foldedBias = new Float32Array(outC);
  for (let o = 0; o < outC; o++) {
    const a = scale[o] / Math.sqrt(variance[o] + epsilon);
    for (let k = o * perChannel; k < (o + 1) * perChannel; k++) foldedWeight[k] = weight[k] * a;
    foldedBias[o] = ((bias ? bias[o] : 0) - mean[o]) * a + shift[o];
  }
  return {
    weight: { dtype: 'float32', shape: [...weightConstant.shape], data: foldedWeight },
    bias: { dtype: 'float32', shape: [outC], data: foldedBias },
  };
}
