// Kernels of the layout ops: the strided copy every layout op moves data with, Slice's backward gather
// and Pad. Shapes and strides travel as uniform arrays of MAX_RANK entries.
import { array, defineKernel } from './declare.js';

/** The largest rank the layout and broadcasting kernels take. */
export const MAX_RANK = 8;
export const RANK_CONSTANTS = { MAX_RANK };

const shape = array('u32', MAX_RANK);
const signed = array('i32', MAX_RANK);

export const stridedCopyKernel = defineKernel({
  name: 'strided_copy',
  files: ['layout_common', 'strided_copy'],
  grid: 'elements',
  constants: RANK_CONSTANTS,
  uniforms: { rank: 'u32', src_offset: 'u32', dst_offset: 'u32', shape, src_strides: signed, dst_strides: shape },
  bindings: { src: 'read', dst: 'accumulate' },
});

export const sliceBackwardKernel = defineKernel({
  name: 'slice_backward',
  files: ['layout_common', 'slice_backward'],
  grid: 'elements',
  constants: RANK_CONSTANTS,
  uniforms: { rank: 'u32', in_shape: shape, starts: signed, steps: signed, out_shape: shape },
  bindings: { dy: 'read', dx: 'accumulate' },
});

/** mode: 0 constant, 1 reflect, 2 edge (MODE_* in pad_common.wgsl). */
const PAD_UNIFORMS = { rank: 'u32', mode: 'u32', value: 'f32', in_shape: shape, out_shape: shape, pads_begin: signed } as const;

export const padKernel = defineKernel({
  name: 'pad',
  files: ['layout_common', 'pad_common', 'pad'],
  grid: 'elements',
  constants: RANK_CONSTANTS,
  uniforms: PAD_UNIFORMS,
  bindings: { x: 'read', y: 'write' },
});

export const padBackwardKernel = defineKernel({
  name: 'pad_backward',
  files: ['layout_common', 'pad_common', 'pad_backward'],
  grid: 'elements',
  constants: RANK_CONSTANTS,
  uniforms: PAD_UNIFORMS,
  bindings: { dy: 'read', dx: 'accumulate' },
});
