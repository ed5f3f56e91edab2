// Kernels of the Reduce ops (axes merged into at most MAX_GROUPS runs) and Softmax / LogSoftmax (rows of
// an [outer, n, inner] view).
import { array, defineKernel } from './declare.js';

export const MAX_GROUPS = 8;
const groups = array('u32', MAX_GROUPS);
// Per group: size, stride in the input, stride in the output (0 for reduced groups), reduced (0 or 1).
const REDUCE_UNIFORMS = { groups: 'u32', reduce_count: 'u32', sizes: groups, in_strides: groups, out_strides: groups, reduced: groups } as const;

export const reduceKernel = defineKernel({
  name: 'reduce',
  files: ['reduce_common', 'reduce'],
  grid: 'elements',
  constants: { MAX_GROUPS },
  uniforms: REDUCE_UNIFORMS,
  bindings: { x: 'read', y: 'write' },
  defines: { TERM: 'v', COMBINE: 'a + b', IDENTITY: '0.0', FINISH: 's / n', SHIFT: 'false' },
});

/** One invocation per input element, its gradient from its value and its output's. */
export const reduceBackwardKernel = defineKernel({
  name: 'reduce_backward',
  files: ['reduce_common', 'reduce_backward'],
  grid: 'elements',
  constants: { MAX_GROUPS },
  uniforms: REDUCE_UNIFORMS,
  bindings: { x: 'read', y_values: 'read', dy: 'read', dx: 'accumulate' },
  defines: { GRAD: 'g / n' },
});

/** One invocation per output element: its group's statistics, then the gradient of each of its elements. */
export const reduceGroupBackwardKernel = defineKernel({
  name: 'reduce_backward_group',
  files: ['reduce_common', 'reduce_backward_group'],
  grid: 'elements',
  constants: { MAX_GROUPS },
  uniforms: REDUCE_UNIFORMS,
  bindings: { x: 'read', y_values: 'read', dy: 'read', dx: 'accumulate' },
  defines: { GRAD: 'select(0.0, g / ties, v == y)' },
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
