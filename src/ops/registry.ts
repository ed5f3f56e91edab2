// Every op the engine runs, by ONNX op type. Adding an op = writing its module and listing it here.
import { type Node } from '../graph/ir.js';
import { UserError } from '../errors.js';
import { conv } from './conv.js';
import { convTranspose } from './conv-transpose.js';
import { activations } from './activations.js';
import { binary, identity } from './elementwise.js';
import { batchNormalization, lrn } from './normalization.js';
import { averagePool, maxPool } from './pool.js';
import { reduce } from './reduce.js';
import { softmax } from './softmax.js';
import { concat } from './concat.js';
import { gemm, matmul } from './matmul.js';
import { pad } from './pad.js';
import { resize } from './resize.js';
import { slice } from './slice.js';
import { split } from './split.js';
import { transpose } from './transpose.js';
import { flatten, reshape, squeeze, unsqueeze } from './views.js';
import type { OpDef, ShapeContext } from './types.js';
import { RANK_COMPOSITES } from './ranks.js';
import { VARIADIC } from './variadic.js';
import { COMPOSITES, type CompositeOp } from './composite.js';
import { ONNX_VERSIONS, versionInEffect } from '../onnx/versions.js';
import { LOAD_TIME_OPS } from './fold.js';

export const OPS: OpDef[] = [conv, convTranspose, activations, binary, identity, maxPool, averagePool, reduce, softmax, lrn, batchNormalization,
  gemm, matmul, resize, flatten, reshape, squeeze, unsqueeze, transpose, concat, split, slice, pad];

const byType = new Map<string, OpDef>();
for (const op of OPS) for (const type of Object.keys(op.versions)) byType.set(type, op);

/** The op types a model may use: those run by a module, the variadic ones rewritten at load (variadic.ts), the compositions (composite.ts). */
export function supportedOps(): string[] {
  return [...new Set([...byType.keys(), ...Object.keys(VARIADIC), ...Object.keys(COMPOSITES)])].sort();
}

export interface OpRow {
  op: string;
  /** ONNX versions implemented (a model of opset N uses the newest version <= N). */
  versions: number[];
  /** How the engine computes it. */
  runs: string;
  /** Whether gradients flow through it (to its data inputs). */
  backward: boolean;
}

/** Every op type with how it runs: the README's op table is this (test/readme.test.ts keeps them equal). */
export function opTable(): OpRow[] {
  const rows = new Map<string, OpRow>();
  const kernelRuns = (op: OpDef) => (op.view ? 'view (no kernel)' : 'kernels');
  for (const op of OPS) {
    for (const [type, versions] of Object.entries(op.versions)) {
      const ranks = RANK_COMPOSITES[type] ? `${kernelRuns(op)}; 1-D and 3-D as compositions of 2-D` : kernelRuns(op);
      rows.set(type, { op: type, versions, runs: ranks, backward: Boolean(op.backward) });
    }
  }
  for (const [type, composite] of Object.entries(COMPOSITES)) {
    if (rows.has(type)) rows.get(type)!.runs += '; the bias by composition';
    else rows.set(type, { op: type, versions: composite.versions, runs: 'composition of other ops', backward: true });
  }
  for (const [type, pairOp] of Object.entries(VARIADIC)) {
    const row = rows.get(type);
    const runs = `any number of inputs as a chain of ${pairOp}${type === 'Mean' ? ', times 1/n' : ''}`;
    if (row) row.runs += `; ${runs}`;
    else rows.set(type, { op: type, versions: ONNX_VERSIONS[type], runs, backward: true });
  }
  for (const type of LOAD_TIME_OPS) {
    if (!rows.has(type)) rows.set(type, { op: type, versions: ONNX_VERSIONS[type] ?? [], runs: 'load time, on known inputs', backward: false });
  }
  return [...rows.values()].sort((a, b) => (a.op < b.op ? -1 : 1));
}

export function opFor(node: Node, opset: number): OpDef {
  const op = byType.get(node.opType);
  if (!op) {
    throw new UserError(
      `unsupported op ${node.opType} (node "${node.name}", opset ${opset}); supported ops: ${supportedOps().join(', ')}`,
    );
  }
  checkVersion(node, opset, op.versions[node.opType]);
  return op;
}

/** The composition that computes this node (composite.ts, ranks.ts), or undefined when an op module runs it. */
export function compositeFor(ctx: ShapeContext): CompositeOp | undefined {
  const { node, opset } = ctx;
  for (const composite of [COMPOSITES[node.opType], RANK_COMPOSITES[node.opType]]) {
    if (!composite || (composite.applies && !composite.applies(ctx))) continue;
    checkVersion(node, opset, composite.versions);
    return composite;
  }
  return undefined;
}

function checkVersion(node: Node, opset: number, implemented: number[]): void {
  const version = versionInEffect(node.opType, opset);
  if (version === undefined || !implemented.includes(version)) {
    const what = version === undefined ? `did not exist yet at opset ${opset}` : `is version ${version} at opset ${opset}`;
    throw new UserError(`${node.opType} node "${node.name}": the op ${what}; the engine implements ${node.opType} versions ${implemented.join(', ')}`);
  }
}
