// Every op the engine runs, by ONNX op type. Adding an op = writing its module and listing it here.
import { type Node } from '../graph/ir.js';
import { UserError } from '../errors.js';
import { conv } from './conv.js';
import { activations, binary, identity } from './elementwise.js';
import { batchNormalization, lrn } from './normalization.js';
import { averagePool, maxPool } from './pool.js';
import { reduceMean } from './reduce.js';
import { softmax } from './softmax.js';
import { concat } from './concat.js';
import { gemm, matmul } from './matmul.js';
import { pad } from './pad.js';
import { slice } from './slice.js';
import { split } from './split.js';
import { transpose } from './transpose.js';
import { flatten, reshape, squeeze, unsqueeze } from './views.js';
import type { OpDef } from './types.js';

const OPS: OpDef[] = [conv, activations, binary, identity, maxPool, averagePool, reduceMean, softmax, lrn, batchNormalization,
  gemm, matmul, flatten, reshape, squeeze, unsqueeze, transpose, concat, split, slice, pad];

const byType = new Map<string, OpDef>();
for (const op of OPS) for (const type of op.types) byType.set(type, op);

export function supportedOps(): string[] {
  return [...byType.keys()].sort();
}

export function opFor(node: Node, opset: number): OpDef {
  const op = byType.get(node.opType);
  if (!op) {
    throw new UserError(
      `unsupported op ${node.opType} (node "${node.name}", opset ${opset}); supported ops: ${supportedOps().join(', ')}`,
    );
  }
  return op;
}
