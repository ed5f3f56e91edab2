// Kernels of MaxPool and AveragePool (and the global pools, one 1 x H*W window per plane).
import { defineKernel } from './declare.js';
import { WORKGROUP_SIZE } from './program.js';

const POOL_UNIFORMS = {
  planes: 'u32', in_h: 'u32', in_w: 'u32', out_h: 'u32', out_w: 'u32', k_h: 'u32', k_w: 'u32',
  stride_h: 'u32', stride_w: 'u32', dil_h: 'u32', dil_w: 'u32',
  pad_t: 'i32', pad_l: 'i32', pad_b: 'i32', pad_r: 'i32',
  // AveragePool: 1 when padded positions count in the divisor.
  count_include_pad: 'u32',
} as const;

export const maxPoolKernel = defineKernel({
  name: 'max_pool',
  files: ['pool_common', 'max_pool'],
  grid: 'elements',
  uniforms: POOL_UNIFORMS,
  bindings: { x: 'read', y: 'write', argmax: { access: 'write', element: 'u32' } },
});

export const maxPoolBackwardKernel = defineKernel({
  name: 'max_pool_backward',
  files: ['pool_common', 'max_pool_backward'],
  grid: 'elements',
  uniforms: POOL_UNIFORMS,
  bindings: { dy: 'read', argmax: { access: 'read', element: 'u32' }, dx: 'accumulate' },
});

export const maxPoolTangentKernel = defineKernel({
  name: 'max_pool_tangent',
  files: ['pool_common', 'max_pool_tangent'],
  grid: 'elements',
  uniforms: POOL_UNIFORMS,
  bindings: { tangent_in: 'read', argmax: { access: 'read', element: 'u32' }, tangent_out: 'write' },
});

export const maxPoolMarginKernel = defineKernel({
  name: 'max_pool_margin',
  files: ['pool_common', 'workgroup_min_max', 'max_pool_margin'],
  grid: { workgroupSize: [WORKGROUP_SIZE, 1, 1] },
  uniforms: POOL_UNIFORMS,
  bindings: { x: 'read', dy: 'read', margin: 'accumulate-min' },
});

export const averagePoolKernel = defineKernel({
  name: 'average_pool',
  files: ['pool_common', 'average_pool'],
  grid: 'elements',
  uniforms: POOL_UNIFORMS,
  bindings: { x: 'read', y: 'write' },
});

export const averagePoolBackwardKernel = defineKernel({
  name: 'average_pool_backward',
  files: ['pool_common', 'average_pool_backward'],
  grid: 'elements',
  uniforms: POOL_UNIFORMS,
  bindings: { dy: 'read', dx: 'accumulate' },
});
