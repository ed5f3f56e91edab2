// Sum, Mean, Max and Min take any number of inputs (broadcasting from opset 8 on). At load time each
// becomes a chain of the two-operand ops (Add, Max, Min), Mean a Sum times 1/n, one input an Identity:
// the two-operand ops already have their kernels, gradients and shape folding.
import { type Constant, type Graph, type Node } from '../graph/ir.js';
import { versionInEffect } from '../onnx/versions.js';
import { freshNames, nodeError } from './common.js';

/** The variadic ops, each with the two-operand op its chain is made of. */
export const VARIADIC: Record<string, string> = { Sum: 'Add', Mean: 'Add', Max: 'Max', Min: 'Min' };

/** Sum and Mean always (they have no module); Max and Min unless they have two inputs. */
const rewritten = (n: Node) => n.opType === 'Sum' || n.opType === 'Mean' || (n.opType in VARIADIC && n.inputs.length !== 2);

export function expandVariadic(graph: Graph): Graph {
  if (!graph.nodes.some(rewritten)) return graph;
  const fresh = freshNames(graph);
  const constants = new Map(graph.constants);
  const nodes: Node[] = [];
  for (const node of graph.nodes) {
    if (!rewritten(node)) {
      nodes.push(node);
      continue;
    }
    const pairOp = VARIADIC[node.opType];
    if (versionInEffect(node.opType, graph.opset) === undefined) throw nodeError(node, `the op did not exist yet at opset ${graph.opset}`);
    const inputs = node.inputs.filter((i) => i !== '');
    if (inputs.length === 0) throw nodeError(node, 'has no inputs');
    const out = node.outputs[0];
    const mean = node.opType === 'Mean' && inputs.length > 1;
    const last = mean ? fresh(`${node.name}/sum`) : out;
    if (inputs.length === 1) {
      nodes.push({ ...node, opType: 'Identity', inputs, outputs: [out], attributes: new Map() });
      continue;
    }
    let acc = inputs[0];
    for (let i = 1; i < inputs.length; i++) {
      const target = i === inputs.length - 1 ? last : fresh(`${node.name}/partial${i}`);
      nodes.push({ name: `${node.name}/${i}`, opType: pairOp, inputs: [acc, inputs[i]], outputs: [target], attributes: new Map() });
      acc = target;
    }
    if (mean) {
      const scale = fresh(`${node.name}/1_over_n`);
      const value: Constant = { dtype: 'float32', shape: [], data: new Float32Array([1 / inputs.length]) };
      constants.set(scale, value);
      nodes.push({ name: `${node.name}/scale`, opType: 'Mul', inputs: [last, scale], outputs: [out], attributes: new Map() });
    }
  }
  return { ...graph, nodes, constants };
}
