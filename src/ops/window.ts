// Sliding-window geometry shared by Conv, MaxPool and AveragePool, per spatial axis for any number of
// them: kernel, stride, dilation, pads (explicit or auto_pad) and the output size, with ceil_mode for
// pooling. The 2-D kernels read it as a Window2d; 1-D and 3-D windows run as compositions of 2-D ones
// (src/ops/ranks.ts).
import { attrInts, attrString, type Node } from '../graph/ir.js';
import { UserError } from '../errors.js';

/** One spatial axis of a window. */
export interface WindowAxis {
  k: number;
  stride: number;
  dilation: number;
  padBegin: number;
  padEnd: number;
  out: number;
}

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

/** The window over spatial sizes `inSizes` (one per axis) with kernel sizes `kernel`. */
export function windowNd(node: Node, inSizes: number[], kernel: number[], ceilMode = false): WindowAxis[] {
  const n = inSizes.length;
  const ones = new Array<number>(n).fill(1);
  const strides = attrInts(node, 'strides', ones)!;
  const dilations = attrInts(node, 'dilations', ones)!;
  const pads = attrInts(node, 'pads', new Array<number>(2 * n).fill(0))!;
  if (kernel.length !== n || strides.length !== n || dilations.length !== n || pads.length !== 2 * n) {
    throw new UserError(`${node.opType} node "${node.name}": kernel, strides, dilations and pads must describe ${n} spatial axes`);
  }
  const autoPad = attrString(node, 'auto_pad', 'NOTSET');
  if (!['NOTSET', 'SAME_UPPER', 'SAME_LOWER', 'VALID'].includes(autoPad)) {
    throw new UserError(`${node.opType} node "${node.name}": unknown auto_pad "${autoPad}"`);
  }
  return inSizes.map((size, i) => {
    const [k, stride, dilation] = [kernel[i], strides[i], dilations[i]];
    const effective = (k - 1) * dilation + 1;
    let [padBegin, padEnd] = [pads[i], pads[i + n]];
    if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
      const total = Math.max(0, (Math.ceil(size / stride) - 1) * stride + effective - size);
      padBegin = autoPad === 'SAME_UPPER' ? Math.floor(total / 2) : Math.ceil(total / 2);
      padEnd = total - padBegin;
    } else if (autoPad === 'VALID') {
      padBegin = padEnd = 0;
    }
    const round = ceilMode ? Math.ceil : Math.floor;
    let out = round((size + padBegin + padEnd - effective) / stride) + 1;
    // With ceil_mode, a window that would start inside the end padding is dropped (as PyTorch does).
    if (ceilMode && (out - 1) * stride >= size + padBegin) out--;
    if (out <= 0) {
      throw new UserError(`${node.opType} node "${node.name}": a ${kernel.join('x')} window does not fit the ${inSizes.join('x')} input`);
    }
    return { k, stride, dilation, padBegin, padEnd, out };
  });
}

export function window2d(node: Node, inH: number, inW: number, kernel: [number, number], ceilMode = false): Window2d {
  const [h, w] = windowNd(node, [inH, inW], kernel, ceilMode);
  return {
    kH: h.k, kW: w.k, strideH: h.stride, strideW: w.stride, dilH: h.dilation, dilW: w.dilation,
    padT: h.padBegin, padL: w.padBegin, padB: h.padEnd, padR: w.padEnd, outH: h.out, outW: w.out,
  };
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
