// Static shape inference for one input shape. Shape subgraphs (Shape -> Gather -> Unsqueeze -> Concat
// -> Reshape, as torch.onnx emits for a flatten) are evaluated here, at load time, and disappear.
import { opFor } from '../ops/registry.js';
import { foldNode } from './fold.js';
import { type Constant, type Graph, type Node, type Shape, shapeString } from './ir.js';
import { UserError } from '../errors.js';

export interface ShapedGraph {
  graph: Graph;
  /** The nodes left to run on the GPU, in graph order. */
  nodes: Node[];
  shapes: Map<string, Shape>;
  /** The graph's constants plus everything folded. */
  constants: Map<string, Constant>;
}

export function inferShapes(graph: Graph, inputShapes: Map<string, Shape>): ShapedGraph {
  const shapes = new Map<string, Shape>();
  const constants = new Map(graph.constants);
  for (const [name, c] of constants) shapes.set(name, c.shape);
  for (const input of graph.inputs) {
    const shape = inputShapes.get(input.name);
    if (!shape) throw new UserError(`no value given for graph input "${input.name}"`);
    checkInputShape(input.name, input.dims, shape);
    shapes.set(input.name, shape);
  }

  const nodes: Node[] = [];
  for (const node of graph.nodes) {
    const inputShapesOfNode = node.inputs.map((name) => (name === '' ? undefined : shapes.get(name)));
    const folded = foldNode(node, inputShapesOfNode, (name) => constants.get(name), graph.opset);
    if (folded) {
      node.outputs.forEach((out, i) => {
        constants.set(out, folded[i]);
        shapes.set(out, folded[i].shape);
      });
      continue;
    }
    const op = opFor(node, graph.opset);
    let outShapes: Shape[];
    try {
      outShapes = op.inferShapes({
        node,
        opset: graph.opset,
        inputShapes: inputShapesOfNode,
        constant: (i) => (node.inputs[i] ? constants.get(node.inputs[i]) : undefined),
      });
    } catch (e) {
      const message = (e as Error).message;
      const prefix = `${node.opType} node "${node.name}"`;
      throw new UserError(message.startsWith(prefix) ? message : `${prefix}: ${message}`);
    }
    node.outputs.forEach((out, i) => {
      const s = outShapes[i];
      if (out === '' || !s) return;
      if (s.some((d) => !Number.isInteger(d) || d <= 0)) {
        throw new UserError(`${node.opType} node "${node.name}" would produce an empty or invalid shape ${shapeString(s)} for this input`);
      }
      shapes.set(out, s);
    });
    nodes.push(node);
  }
  return { graph, nodes, shapes, constants };
}

function checkInputShape(name: string, declared: number[], given: Shape): void {
  if (declared.length > 0 && declared.length !== given.length) {
    throw new UserError(`input "${name}" has rank ${given.length} (${shapeString(given)}); the model expects rank ${declared.length}`);
  }
  if (declared.length === 4 && declared[1] > 0 && declared[1] !== given[1]) {
    throw new UserError(`input "${name}" has ${given[1]} channels; the model expects ${declared[1]}`);
  }
  if (given.some((d) => !Number.isInteger(d) || d <= 0)) throw new UserError(`input "${name}" has an invalid shape ${shapeString(given)}`);
}

/** Every tensor that `of` depends on (itself included), walking the nodes backwards. */
export function upstreamTensors(nodes: Node[], of: string): Set<string> {
  const up = new Set<string>([of]);
  for (let i = nodes.length - 1; i >= 0; i--) {
    if (nodes[i].outputs.some((o) => up.has(o))) for (const inp of nodes[i].inputs) if (inp) up.add(inp);
  }
  return up;
}
