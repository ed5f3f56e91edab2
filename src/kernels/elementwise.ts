// Kernels of the elementwise ops: activations (a formula as a define), broadcasting binary ops, and the
// decision margins of activations with kinks.
import { array, defineKernel } from './declare.js';
import { FUSED_UNIFORMS } from './fused.js';
import { WORKGROUP_SIZE } from './program.js';
import { MAX_RANK, RANK_CONSTANTS } from './layout.js';

/** alpha, beta: the op's constants (LeakyRelu/HardSigmoid alpha and beta, Clip's min and max). */
const ACTIVATION_UNIFORMS = { alpha: 'f32', beta: 'f32' } as const;

export const unaryKernel = defineKernel({
  name: 'unary',
  files: ['erf', 'activation_functions', 'unary'],
  grid: 'elements',
  uniforms: ACTIVATION_UNIFORMS,
  bindings: { xs: 'read', ys: 'write' },
  defines: { OP: 'max(x, 0.0)' },
});

export const unaryBackwardKernel = defineKernel({
  name: 'unary_backward',
  files: ['erf', 'activation_functions', 'unary_backward'],
  grid: 'elements',
  uniforms: ACTIVATION_UNIFORMS,
  bindings: { saved: 'read', dy: 'read', dx: 'accumulate' },
  defines: { GRAD: 'select(0.0, 1.0, v > 0.0)', PASS: 'true' },
});

export const unarySecondOrderKernel = defineKernel({
  name: 'unary_second_order',
  files: ['erf', 'activation_functions', 'unary_second_order'],
  grid: 'elements',
  uniforms: ACTIVATION_UNIFORMS,
  bindings: { saved: 'read', tangent: 'read', dy: 'read', dx: 'accumulate' },
  defines: { SECOND: '0.0' },
});

const dims = array('u32', MAX_RANK);

/** Elements along the last dim per invocation of the binary kernel, when it broadcasts (rank 2 and up). */
export const BINARY_RUN = 8;

export const binaryKernel = defineKernel({
  name: 'binary',
  files: ['binary_common', 'fused_activation', 'binary'],
  grid: 'elements',
  constants: { ...RANK_CONSTANTS, RUN: BINARY_RUN },
  uniforms: { rank: 'u32', out_shape: dims, a_strides: dims, b_strides: dims, ...FUSED_UNIFORMS },
  bindings: { a_values: 'read', b_values: 'read', out: 'write' },
  defines: { OP: 'a + b' },
});

export const binaryBackwardKernel = defineKernel({
  name: 'binary_backward',
  files: ['binary_common', 'binary_backward'],
  grid: 'elements',
  // reduce_count: output elements that read each element of the input whose gradient is computed;
  // target_strides: that input's strides (a_strides or b_strides).
  uniforms: { rank: 'u32', reduce_count: 'u32', out_shape: dims, out_strides: dims, a_strides: dims, b_strides: dims, target_strides: dims },
  bindings: { a_values: 'read', b_values: 'read', dy: 'read', dx: 'accumulate' },
  defines: { GRAD: 'g' },
});

export const decisionMarginKernel = defineKernel({
  name: 'decision_margin',
  files: ['workgroup_min_max', 'decision_margin'],
  grid: { workgroupSize: [WORKGROUP_SIZE, 1, 1] },
  // Elements per image, and up to two kinks of the derivative (Clip, HardSigmoid have two).
  uniforms: { per_image: 'u32', kink_count: 'u32', kink0: 'f32', kink1: 'f32' },
  bindings: { x: 'read', dy: 'read', margin: 'accumulate-min' },
});
