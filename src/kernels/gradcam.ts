// Kernels of the explanations: the class choice and gradient seed, the map kernel of every CAM method
// (fused, and its unfused composition for tests), and the guided-gradient products and pictures.
import { defineKernel } from './declare.js';
import { WORKGROUP_SIZE } from './program.js';

export const classSeedKernel = defineKernel({
  name: 'class_seed',
  files: ['class_seed'],
  grid: 'elements',
  uniforms: { batch: 'u32', classes: 'u32' },
  // scores [batch, classes]; requested [batch] (negative: top-1); seed [batch, classes]; picked [batch, 2]: class, score.
  bindings: { scores: 'read', requested: { access: 'read', element: 'i32' }, seed: 'write', picked: 'write' },
});

const MAP_UNIFORMS = {
  // The layer's activations A: [batch, channels, in_h, in_w]; the map's size: the model input's.
  batch: 'u32', channels: 'u32', in_h: 'u32', in_w: 'u32', out_h: 'u32', out_w: 'u32',
  // The method: MODE_* in gradcam_alpha.wgsl.
  mode: 'u32',
  // CAM: where classifier weight (class, channel) lies in weight_source.
  weight_class_stride: 'u32', weight_channel_stride: 'u32',
} as const;
export const mapKernel = defineKernel({
  name: 'gradcam',
  files: ['gradcam_common', 'workgroup_min_max', 'gradcam_alpha', 'gradcam'],
  grid: { workgroupSize: [WORKGROUP_SIZE, 1, 1] },
  uniforms: MAP_UNIFORMS,
  // The length of the channel weights in workgroup memory (src/explain/map.ts chooses it by the limit).
  defines: { ALPHA: '256' },
  bindings: { activations: 'read', weight_source: 'read', picked: 'read', coarse: 'write', raw: 'write', normalized: 'write' },
});

export const mapStepKernels = {
  alpha: defineKernel({
    name: 'gradcam_step_alpha',
    files: ['gradcam_common', 'gradcam_alpha', 'gradcam_step_alpha'],
    grid: 'elements',
    uniforms: MAP_UNIFORMS,
    bindings: { activations: 'read', weight_source: 'read', picked: 'read', alpha: 'write' },
  }),
  sum: defineKernel({
    name: 'gradcam_step_sum',
    files: ['gradcam_common', 'gradcam_alpha', 'gradcam_step_sum'],
    grid: 'elements',
    uniforms: MAP_UNIFORMS,
    bindings: { activations: 'read', weight_source: 'read', alpha: 'read', coarse: 'write' },
  }),
  resize: defineKernel({
    name: 'gradcam_step_resize',
    files: ['gradcam_common', 'gradcam_step_resize'],
    grid: 'elements',
    uniforms: MAP_UNIFORMS,
    bindings: { coarse: 'read', raw: 'write' },
  }),
  normalize: defineKernel({
    name: 'gradcam_step_normalize',
    files: ['gradcam_common', 'workgroup_min_max', 'gradcam_step_normalize'],
    grid: { workgroupSize: [WORKGROUP_SIZE, 1, 1] },
    uniforms: MAP_UNIFORMS,
    bindings: { raw: 'read', normalized: 'write' },
  }),
};

export const guidedProductKernel = defineKernel({
  name: 'guided_product',
  files: ['guided_product'],
  grid: 'elements',
  uniforms: { channels: 'u32', pixels: 'u32' },
  bindings: { guided: 'read', map: 'read', product: 'write' },
});

export const guidedImageKernel = defineKernel({
  name: 'guided_image',
  files: ['workgroup_min_max', 'workgroup_sum', 'guided_image'],
  grid: { workgroupSize: [WORKGROUP_SIZE, 1, 1] },
  uniforms: { per_image: 'u32' },
  bindings: { values: 'read', image: 'write' },
});

// EigenCAM / EigenGrad-CAM (shaders/eigen_*.wgsl): centre, Gram matrix, repeated normalized squaring,
// projection. The resize and normalization are the unfused map's steps.
const EIGEN_UNIFORMS = {
  // The layer: [batch, channels, plane]; dim = min(plane, channels), the Gram matrix's size.
  batch: 'u32', channels: 'u32', plane: 'u32', dim: 'u32',
  // 1: the Gram matrix over positions (plane <= channels); 0: over channels.
  over_channels: 'u32',
} as const;

export const eigenKernels = {
  centre: defineKernel({
    name: 'eigen_centre',
    files: ['eigen_centre'],
    grid: 'elements',
    uniforms: { plane: 'u32', product: 'u32' },
    bindings: { activations: 'read', gradient: 'read', centred: 'write' },
  }),
  gram: defineKernel({
    name: 'eigen_gram',
    files: ['eigen_common', 'eigen_gram'],
    grid: 'elements',
    uniforms: EIGEN_UNIFORMS,
    bindings: { centred: 'read', gram: 'write' },
  }),
  square: defineKernel({
    name: 'eigen_square',
    files: ['eigen_common', 'eigen_square'],
    grid: 'elements',
    uniforms: EIGEN_UNIFORMS,
    bindings: { source: 'read', squared: 'write' },
  }),
  project: defineKernel({
    name: 'eigen_project',
    files: ['eigen_common', 'workgroup_min_max', 'workgroup_sum', 'eigen_project'],
    grid: { workgroupSize: [WORKGROUP_SIZE, 1, 1] },
    uniforms: EIGEN_UNIFORMS,
    bindings: { centred: 'read', gram: 'read', power: 'read', vector: 'write', coarse: 'write' },
  }),
};

/** Normalized squarings of the Gram matrix: the top eigenvalue's lead over the next, to the power 4096. */
export const EIGEN_SQUARINGS = 12;

// Score-CAM and Ablation-CAM's perturbed batches (shaders/perturb_common.wgsl): copy j of a run stands
// for the (image, channel) pair first[0] + j.
const FIRST_COPY = { access: 'read', element: 'i32' } as const;

export const perturbKernels = {
  maskRange: defineKernel({
    name: 'score_mask_range',
    files: ['perturb_common', 'score_mask_common', 'workgroup_min_max', 'score_mask_range'],
    grid: { workgroupSize: [WORKGROUP_SIZE, 1, 1] },
    uniforms: { images: 'u32', channels: 'u32', in_h: 'u32', in_w: 'u32', out_h: 'u32', out_w: 'u32' },
    bindings: { activations: 'read', first: FIRST_COPY, mask_range: 'write' },
  }),
  mask: defineKernel({
    name: 'score_mask',
    files: ['perturb_common', 'score_mask_common', 'score_mask'],
    grid: 'elements',
    uniforms: { images: 'u32', channels: 'u32', in_channels: 'u32', in_h: 'u32', in_w: 'u32', out_h: 'u32', out_w: 'u32' },
    bindings: { image: 'read', activations: 'read', first: FIRST_COPY, mask_range: 'read', masked: 'write' },
  }),
  ablate: defineKernel({
    name: 'ablate_channel',
    files: ['perturb_common', 'ablate_channel'],
    grid: 'elements',
    uniforms: { images: 'u32', channels: 'u32', plane: 'u32' },
    bindings: { activations: 'read', first: FIRST_COPY, ablated: 'write' },
  }),
  repeat: defineKernel({
    name: 'repeat_image',
    files: ['perturb_common', 'repeat_image'],
    grid: 'elements',
    uniforms: { images: 'u32', channels: 'u32', per_image: 'u32' },
    bindings: { source: 'read', first: FIRST_COPY, repeated: 'write' },
  }),
  score: defineKernel({
    name: 'channel_score',
    files: ['perturb_common', 'channel_score'],
    grid: 'elements',
    uniforms: { images: 'u32', channels: 'u32', classes: 'u32' },
    bindings: { scores: 'read', picked: 'read', first: FIRST_COPY, channel_scores: 'write' },
  }),
};

// SmoothGrad (shaders/smooth_*.wgsl): noisy copies of each image drawn on the GPU, and the per-image mean
// (or minimum) of what each copy gave.
const SMOOTH_COPIES = { images: 'u32', samples: 'u32' } as const;

export const smoothKernels = {
  range: defineKernel({
    name: 'smooth_range',
    files: ['workgroup_min_max', 'smooth_range'],
    grid: { workgroupSize: [WORKGROUP_SIZE, 1, 1] },
    uniforms: { per_image: 'u32' },
    bindings: { image: 'read', image_range: 'write' },
  }),
  noise: defineKernel({
    name: 'smooth_noise',
    files: ['random', 'smooth_common', 'smooth_noise'],
    grid: 'elements',
    uniforms: { ...SMOOTH_COPIES, per_image: 'u32' },
    bindings: { image: 'read', image_range: 'read', first: FIRST_COPY, noisy: 'write' },
  }),
  accumulate: defineKernel({
    name: 'smooth_accumulate',
    files: ['smooth_accumulate'],
    grid: 'elements',
    uniforms: { ...SMOOTH_COPIES, batch: 'u32', per_image: 'u32', mode: 'u32' },
    bindings: { per_copy: 'read', first: FIRST_COPY, result: 'write' },
  }),
};
