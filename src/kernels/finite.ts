// The check that names the first node whose output is not finite (shaders/finite_check.wgsl).
import { defineKernel } from './declare.js';

/** What `flag` holds until some node's output is not finite. */
export const NO_NON_FINITE_NODE = 0xffffffff;

export const finiteCheckKernel = defineKernel({
  name: 'finite_check',
  files: ['finite_check'],
  grid: 'elements',
  uniforms: { node: 'u32' },
  // values: the node's output; flag [1]: the index of the first node with a non-finite output, or NONE.
  bindings: { values: 'read', flag: { access: 'write', element: 'u32' } },
});
