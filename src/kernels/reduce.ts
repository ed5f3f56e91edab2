// Kernels of ReduceMean (axes merged into at most MAX_GROUPS runs) and Softmax / LogSoftmax (rows of
// an [outer, n, inner] view).
import { array, defineKernel } from './declare.js';

export const MAX_GROUPS = 8;
const groups = array('u32', MAX_GROUPS);
// Per group: size, stride in the input, stride in the output (0 for reduced groups), reduced (0 or 1).
const REDUCE_UNIFORMS = { groups: 'u32', reduce_count: 'u32', sizes: groups, in_strides: groups, out_strides: groups, reduced: groups } as const;

export const reduceMeanKernel = defineKernel({
  name: 'reduce_mean',
  files: ['reduce_common', 'reduce_mean'],
  grid: 'elements',
  constants: { MAX_GROUPS },
  uniforms: REDUCE_UNIFORMS,
  bindings: { x: 'read', y: 'write' },
});

export const reduceMeanBackwardKernel = defineKernel({
  name: 'reduce_mean_backward',
  files: ['reduce_common', 'reduce_mean_backward'],
  grid: 'elements',
  constants: { MAX_GROUPS },
  uniforms: REDUCE_UNIFORMS,
  bindings: { dy: 'read', dx: 'accumulate' },
});

const SOFTMAX_UNIFORMS = { n: 'u32', inner: 'u32', log_softmax: 'u32' } as const;

export const softmaxKernel = defineKernel({
  name: 'softmax',
  files: ['softmax_common', 'softmax'],
  grid: 'elements',
  uniforms: SOFTMAX_UNIFORMS,
  bindings: { x: 'read', y: 'write' },
});

export const softmaxBackwardKernel = defineKernel({
  name: 'softmax_backward',
  files: ['softmax_common', 'softmax_backward'],
  grid: 'elements',
  uniforms: SOFTMAX_UNIFORMS,
  bindings: { y: 'read', dy: 'read', dx: 'accumulate' },
});
