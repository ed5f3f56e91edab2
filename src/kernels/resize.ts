// Kernels of Resize: one axis at a time, forward from a tap table per output position, backward from
// the transposed table per input position (src/ops/resize.ts builds both).
import { defineKernel } from './declare.js';

const AXIS_UNIFORMS = { in_len: 'u32', out_len: 'u32', inner: 'u32', taps: 'u32' } as const;

export const resizeKernel = defineKernel({
  name: 'resize',
  files: ['resize'],
  grid: 'elements',
  uniforms: AXIS_UNIFORMS,
  bindings: { x: 'read', index: 'read', weight: 'read', bias: 'read', y: 'write' },
});

export const resizeBackwardKernel = defineKernel({
  name: 'resize_backward',
  files: ['resize_backward'],
  grid: 'elements',
  uniforms: AXIS_UNIFORMS,
  bindings: { dy: 'read', offsets: 'read', entry_output: 'read', entry_weight: 'read', dx: 'accumulate' },
});
