// Static shape inference for one input shape. Shape subgraphs (Shape -> Gather -> Unsqueeze -> Concat
// -> Reshape, as torch.onnx emits for a flatten) are evaluated here, at load time, and disappear. Each
// GPU node's geometry is computed here once (OpDef.geometry) and travels with the shaped graph to the
// planner, which hands it to the node's forward and backward programs.
import { UserError } from '../errors.js';
import { type Constant, type Graph, type Node, type Shape, shapeString } from '../graph/ir.js';
import { foldLoadTimeNode, foldOpNode } from './fold.js';
import { compositeFor, opFor } from './registry.js';
import { NodeMaker } from './composite.js';
import type { ShapeContext } from './types.js';

export interface ShapedGraph {
  graph: Graph;
  /** The nodes left to run on the GPU, in graph order. */
  nodes: Node[];
  shapes: Map<string, Shape>;
  /** The graph's constants plus everything folded. */
  constants: Map<string, Constant>;
  /** Per node left to run, its op's geometry for these shapes. */
  geometry: Map<Node, unknown>;
}

export function inferShapes(graph: Graph, inputShapes: Map<string, Shape>): ShapedGraph {
  const shapes = new Map<string, Shape>();
  const constants = new Map(graph.constants);
  const geometry = new Map<Node, unknown>();
  for (const [name, c] of constants) shapes.set(name, c.shape);
  for (const input of graph.inputs) {
    const shape = inputShapes.get(input.name);
    if (!shape) throw new UserError(`no value given for graph input "${input.name}"`);
    checkInputShape(input.name, input.dims, shape);
    shapes.set(input.name, shape);
  }

  const nodes: Node[] = [];
  const define = (node: Node, values: Constant[]) =>
    node.outputs.forEach((out, i) => {
      if (!values[i]) return;
      constants.set(out, values[i]);
      shapes.set(out, values[i].shape);
    });
  const visit = (node: Node): void => {
    const inputShapesOfNode = node.inputs.map((name) => (name === '' ? undefined : shapes.get(name)));
    const loadTime = foldLoadTimeNode(node, inputShapesOfNode, (name) => constants.get(name));
    if (loadTime) {
      define(node, loadTime);
      return;
    }
    const ctx: ShapeContext = {
      node,
      opset: graph.opset,
      inputShapes: inputShapesOfNode,
      constant: (i) => (node.inputs[i] ? constants.get(node.inputs[i]) : undefined),
    };
    // A composition runs as the nodes it expands to for these shapes, each shaped (and folded) in turn.
    const composite = compositeFor(ctx);
    if (composite) {
      const maker = new NodeMaker(node, graph.opset);
      composite.expand(ctx, maker);
      for (const [name, value] of maker.constants) {
        constants.set(name, value);
        shapes.set(name, value.shape);
      }
      maker.nodes.forEach(visit);
      return;
    }
    const op = opFor(node, graph.opset);
    const widened = widenIntegerData(node, op.dataInputs ?? [], constants);
    if (widened) {
      for (const [name, value] of widened.constants) {
        constants.set(name, value);
        shapes.set(name, value.shape);
      }
      return visit(widened.node);
    }
    const nodeGeometry = op.geometry?.(ctx);
    const outShapes = op.inferShapes(ctx, nodeGeometry);
    const folded = foldOpNode(op, ctx, outShapes, nodeGeometry);
    if (folded) {
      define(node, folded);
      return;
    }
    node.outputs.forEach((out, i) => {
      const s = outShapes[i];
      if (out === '' || !s) return;
      if (s.some((d) => !Number.isInteger(d) || d <= 0)) {
        throw new UserError(`${node.opType} node "${node.name}" would produce an empty or invalid shape ${shapeString(s)} for this input`);
      }
      shapes.set(out, s);
    });
    geometry.set(node, nodeGeometry);
    nodes.push(node);
  };
  graph.nodes.forEach(visit);
  return { graph, nodes, shapes, constants, geometry };
}

/**
 * A node with a known integer tensor as a data operand (Pow's exponent given as int64) reads it as
 * float32 instead, exactly for magnitudes below 2^24 (refused beyond); undefined when there is none.
 */
function widenIntegerData(node: Node, dataInputs: number[], constants: Map<string, Constant>): { node: Node; constants: Map<string, Constant> } | undefined {
  const added = new Map<string, Constant>();
  const inputs = node.inputs.map((name, i) => {
    const c = constants.get(name);
    if (!dataInputs.includes(i) || c?.dtype !== 'int64') return name;
    const values = Array.from(c.data as ArrayLike<number>, Number);
    if (values.some((v) => Math.abs(v) >= 2 ** 24)) throw new UserError(`integer tensor "${name}" is used as float data but holds values beyond float32's exact integers`);
    added.set(`${name}::float32`, { dtype: 'float32', shape: c.shape, data: Float32Array.from(values) });
    return `${name}::float32`;
  });
  return added.size ? { node: { ...node, inputs }, constants: added } : undefined;
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
