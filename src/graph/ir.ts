// The engine's graph representation: what the ONNX loader produces and the planner consumes.
// Every activation is float32 in NCHW (row-major) layout; constants keep their ONNX element type
// because shape subgraphs compute in int64.
import { UserError } from '../errors.js';

export type Shape = number[];

export type ConstantData = Float32Array | number[];

/** A tensor whose value is known at load time: a weight, or an int64 shape/axes list. */
export interface Constant {
  dtype: 'float32' | 'int64';
  shape: Shape;
  /** float32 weights as Float32Array; int64 (and other integer) tensors as plain numbers. */
  data: ConstantData;
}

export type AttributeValue = number | string | number[] | string[] | Constant;

export interface Node {
  name: string;
  opType: string;
  /** Input tensor names; '' marks an omitted optional input. */
  inputs: string[];
  outputs: string[];
  attributes: Map<string, AttributeValue>;
  /** A node made by expanding a composite op at load: the model's own node it came from. */
  origin?: { name: string; opType: string };
}

export interface GraphInput {
  name: string;
  /** Declared dims; symbolic or unknown dims are -1. */
  dims: number[];
}

export interface Graph {
  nodes: Node[];
  inputs: GraphInput[];
  outputs: string[];
  constants: Map<string, Constant>;
  opset: number;
  /** Initializers stored as float16 or bfloat16, widened to float32 at load: how many of each. */
  widened?: Record<string, number>;
}

export function elementCount(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Row-major (C-order) strides of a shape, in elements. */
export function contiguousStrides(shape: Shape): number[] {
  const strides = new Array<number>(shape.length).fill(1);
  for (let d = shape.length - 2; d >= 0; d--) strides[d] = strides[d + 1] * shape[d + 1];
  return strides;
}

export function shapeString(shape: Shape): string {
  return `[${shape.join(', ')}]`;
}

/** Accessors that give a clear error naming the node when an attribute has the wrong kind. */
export function attrInt(node: Node, name: string, fallback?: number): number {
  const v = node.attributes.get(name);
  if (v === undefined) {
    if (fallback === undefined) throw new UserError(`${node.opType} node "${node.name}": missing attribute "${name}"`);
    return fallback;
  }
  if (typeof v !== 'number') throw new UserError(`${node.opType} node "${node.name}": attribute "${name}" must be a number`);
  return v;
}

export function attrFloat(node: Node, name: string, fallback: number): number {
  const v = node.attributes.get(name);
  if (v === undefined) return fallback;
  if (typeof v !== 'number') throw new UserError(`${node.opType} node "${node.name}": attribute "${name}" must be a number`);
  return v;
}

export function attrInts(node: Node, name: string, fallback?: number[]): number[] | undefined {
  const v = node.attributes.get(name);
  if (v === undefined) return fallback;
  if (typeof v === 'number') return [v];
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'number')) {
    throw new UserError(`${node.opType} node "${node.name}": attribute "${name}" must be a list of integers`);
  }
  return v as number[];
}

export function attrString(node: Node, name: string, fallback: string): string {
  const v = node.attributes.get(name);
  if (v === undefined) return fallback;
  if (typeof v !== 'string') throw new UserError(`${node.opType} node "${node.name}": attribute "${name}" must be a string`);
  return v;
}

/** Every tensor that `of` depends on (itself included), walking the nodes backwards. */
export function upstreamTensors(nodes: Node[], of: string): Set<string> {
  const up = new Set<string>([of]);
  for (let i = nodes.length - 1; i >= 0; i--) {
    if (nodes[i].outputs.some((o) => up.has(o))) for (const inp of nodes[i].inputs) if (inp) up.add(inp);
  }
  return up;
}
