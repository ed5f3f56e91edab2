// Kernels of LRN and inference-mode BatchNormalization, over [batch, channels, inner].
import { defineKernel } from './declare.js';
import { FUSED_UNIFORMS } from './fused.js';

// lo, hi: the channels before and after each one in the window; alpha_over_size = alpha / size.
const LRN_UNIFORMS = { channels: 'u32', inner: 'u32', lo: 'u32', hi: 'u32', alpha_over_size: 'f32', beta: 'f32', bias: 'f32' } as const;

export const lrnKernel = defineKernel({
  name: 'lrn',
  files: ['lrn_common', 'lrn'],
  grid: 'elements',
  uniforms: LRN_UNIFORMS,
  bindings: { x: 'read', y: 'write' },
});

export const lrnBackwardKernel = defineKernel({
  name: 'lrn_backward',
  files: ['lrn_common', 'lrn_backward'],
  grid: 'elements',
  uniforms: LRN_UNIFORMS,
  bindings: { x: 'read', dy: 'read', dx: 'accumulate' },
});

const BATCH_NORM_UNIFORMS = { channels: 'u32', inner: 'u32', epsilon: 'f32' } as const;
/** Elements of one channel plane per invocation of the BatchNormalization kernels. */
export const BATCH_NORM_RUN = 8;

export const batchNormKernel = defineKernel({
  name: 'batch_norm',
  files: ['batch_norm_common', 'fused_activation', 'batch_norm'],
  grid: 'elements',
  constants: { RUN: BATCH_NORM_RUN },
  uniforms: { ...BATCH_NORM_UNIFORMS, ...FUSED_UNIFORMS },
  bindings: { x: 'read', scale: 'read', bias: 'read', mean: 'read', variance: 'read', y: 'write' },
});

export const batchNormBackwardKernel = defineKernel({
  name: 'batch_norm_backward',
  files: ['batch_norm_common', 'batch_norm_backward'],
  grid: 'elements',
  constants: { RUN: BATCH_NORM_RUN },
  uniforms: BATCH_NORM_UNIFORMS,
  bindings: { dy: 'read', scale: 'read', variance: 'read', dx: 'accumulate' },
});
