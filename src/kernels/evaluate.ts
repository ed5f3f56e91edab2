// Kernels of the faithfulness metrics (shaders/evaluate_*.wgsl): the baselines that replace pixels, the
// perturbed copies of each image made from its map's order (ROAD's imputed), each copy's class
// probability, and the sanity checks' weights redrawn in place.
import { defineKernel } from './declare.js';
import { WORKGROUP_SIZE } from './program.js';

/** The baselines (BASELINE_* in shaders/evaluate_baseline.wgsl). */
export const BASELINE_MODE = { zeros: 0, mean: 1, blur: 2 } as const;
export type Baseline = keyof typeof BASELINE_MODE;

/** The kinds of copy (KIND_* in shaders/evaluate_common.wgsl). */
export const COPY_KIND = { delete: 0, insert: 1, multiply: 2, 'road-morf': 3, 'road-lerf': 4 } as const;

// table [rows, 4]: image, kind, pixels, class; first [1]: the run's first row.
const TABLE = { table: { access: 'read', element: 'i32' }, first: { access: 'read', element: 'i32' } } as const;

export const evaluateKernels = {
  channelMean: defineKernel({
    name: 'evaluate_channel_mean',
    files: ['workgroup_sum', 'evaluate_channel_mean'],
    grid: { workgroupSize: [WORKGROUP_SIZE, 1, 1] },
    uniforms: { plane: 'u32' },
    bindings: { images: 'read', channel_mean: 'write' },
  }),
  baseline: defineKernel({
    name: 'evaluate_baseline',
    files: ['evaluate_baseline'],
    grid: 'elements',
    uniforms: { height: 'u32', width: 'u32', mode: 'u32' },
    bindings: { images: 'read', channel_mean: 'read', baseline: 'write' },
  }),
  copies: defineKernel({
    name: 'evaluate_copies',
    files: ['evaluate_common', 'evaluate_road', 'evaluate_copies'],
    grid: 'elements',
    uniforms: { rows: 'u32', channels: 'u32', plane: 'u32' },
    bindings: {
      ...TABLE,
      images: 'read', maps: 'read', ranks: { access: 'read', element: 'i32' },
      deletion_baseline: 'read', insertion_baseline: 'read', perturbed: 'write',
    },
  }),
  impute: defineKernel({
    name: 'evaluate_impute',
    files: ['random', 'workgroup_sum', 'evaluate_common', 'evaluate_road', 'evaluate_impute'],
    grid: { workgroupSize: [WORKGROUP_SIZE, 1, 1] },
    // stage 0: set up, 1: `iterations` steps of the solve, 2: the noise (shaders/evaluate_impute.wgsl).
    uniforms: { rows: 'u32', channels: 'u32', plane: 'u32', height: 'u32', width: 'u32', stage: 'u32', iterations: 'u32', tolerance: 'f32', seed: 'u32', noise: 'f32' },
    bindings: { ...TABLE, ranks: { access: 'read', element: 'i32' }, perturbed: 'write', residual: 'write', direction: 'write', product: 'write', state: 'write' },
  }),
  randomize: defineKernel({
    name: 'randomize_weights',
    files: ['random', 'randomize_weights'],
    grid: 'elements',
    uniforms: { seed: 'u32', stream: 'u32', first_index: 'u32', scale: 'f32' },
    bindings: { values: 'write' },
  }),
  probability: defineKernel({
    name: 'evaluate_probability',
    files: ['evaluate_common', 'evaluate_probability'],
    grid: 'elements',
    uniforms: { rows: 'u32', classes: 'u32' },
    bindings: { ...TABLE, scores: 'read', probabilities: 'write' },
  }),
};
