// Hessian-vector products' kernel of the target (shaders/hessian_seed.wgsl): the backward pass's seed
// and its tangent, for the targets whose second derivative in the scores is known.
import { defineKernel } from './declare.js';

/** The targets with second derivatives (TARGET_* in shaders/hessian_seed.wgsl). */
export const HESSIAN_TARGET = { logit: 0, softmax: 1, rest: 2 } as const;
export type HessianTarget = keyof typeof HESSIAN_TARGET;

export const hessianSeedKernel = defineKernel({
  name: 'hessian_seed',
  files: ['hessian_seed'],
  grid: 'elements',
  uniforms: { batch: 'u32', values: 'u32', mode: 'u32' },
  constants: { TARGET_LOGIT: HESSIAN_TARGET.logit, TARGET_SOFTMAX: HESSIAN_TARGET.softmax, TARGET_REST: HESSIAN_TARGET.rest },
  // scores, tangent, seed, seed_tangent [batch, values]; picked [batch, 2]: class (as a float), score.
  bindings: { scores: 'read', tangent: 'read', picked: 'read', seed: 'write', seed_tangent: 'write' },
});
