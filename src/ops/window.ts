// Sliding-window geometry shared by Conv, MaxPool and AveragePool: kernel, strides, dilations, pads
// (explicit or auto_pad) and the output size, with ceil_mode for pooling.
import { attrInts, attrString, type Node } from '../graph/ir.js';
import { UserError } from '../errors.js';

export interface Window2d {
  kH: number;
  kW: number;
  strideH: number;
  strideW: number;
  dilH: number;
  dilW: number;
  padT: number;
  padL: number;
  padB: number;
  padR: number;
  outH: number;
  outW: number;
}

export function window2d(node: Node, inH: number, inW: number, kernel: [number, number], ceilMode = false): Window2d {
  const [kH, kW] = kernel;
  const [strideH, strideW] = attrInts(node, 'strides', [1, 1])!;
  const [dilH, dilW] = attrInts(node, 'dilations', [1, 1])!;
  let [padT, padL, padB, padR] = attrInts(node, 'pads', [0, 0, 0, 0])!;
  const autoPad = attrString(node, 'auto_pad', 'NOTSET');
  const effH = (kH - 1) * dilH + 1;
  const effW = (kW - 1) * dilW + 1;
  if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
    const outH = Math.ceil(inH / strideH);
    const outW = Math.ceil(inW / strideW);
    const totalH = Math.max(0, (outH - 1) * strideH + effH - inH);
    const totalW = Math.max(0, (outW - 1) * strideW + effW - inW);
    const upper = autoPad === 'SAME_UPPER';
    padT = upper ? Math.floor(totalH / 2) : Math.ceil(totalH / 2);
    padB = totalH - padT;
    padL = upper ? Math.floor(totalW / 2) : Math.ceil(totalW / 2);
    padR = totalW - padL;
  } else if (autoPad === 'VALID') {
    padT = padL = padB = padR = 0;
  } else if (autoPad !== 'NOTSET') {
    throw new UserError(`${node.opType} node "${node.name}": unknown auto_pad "${autoPad}"`);
  }
  const round = ceilMode ? Math.ceil : Math.floor;
  let outH = round((inH + padT + padB - effH) / strideH) + 1;
  let outW = round((inW + padL + padR - effW) / strideW) + 1;
  // With ceil_mode, a window that would start inside the bottom/right padding is dropped (as PyTorch does).
  if (ceilMode) {
    if ((outH - 1) * strideH >= inH + padT) outH--;
    if ((outW - 1) * strideW >= inW + padL) outW--;
  }
  if (outH <= 0 || outW <= 0) {
    throw new UserError(`${node.opType} node "${node.name}": a ${kH}x${kW} window does not fit the ${inH}x${inW} input`);
  }
  return { kH, kW, strideH, strideW, dilH, dilW, padT, padL, padB, padR, outH, outW };
}

export function kernelShape(node: Node): [number, number] {
  const k = attrInts(node, 'kernel_shape');
  if (!k || k.length !== 2) throw new UserError(`${node.opType} node "${node.name}": only 2-D kernels are supported (kernel_shape ${k ? `[${k}]` : 'missing'})`);
  return [k[0], k[1]];
}

export function requireRank4(node: Node, shape: number[] | undefined, what = 'input'): number[] {
  if (!shape || shape.length !== 4) {
    throw new UserError(`${node.opType} node "${node.name}": ${what} must be 4-D NCHW, got ${shape ? `[${shape}]` : 'nothing'}`);
  }
  return shape;
}

