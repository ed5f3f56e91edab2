// Kernels of the explanations: the target's score and gradient seed, the map kernel of every CAM method
// (fused, and its unfused composition for tests), and the guided-gradient products and pictures.
import { defineKernel } from './declare.js';
import { WORKGROUP_SIZE } from './program.js';

/** The targets the seed kernel forms on the GPU (TARGET_* in shaders/target_seed.wgsl). */
export const TARGET_MODE = { class: 0, softmax: 1, binary: 2, segmentation: 3, similarity: 4, yolov5: 5, yolov8: 6, finer: 7, rest: 8 } as const;
/** FinerCAM: the most similar classes a target compares with, at most (MAX_COMPARE in target_seed.wgsl). */
export const MAX_COMPARE = 8;

export const targetSeedKernel = defineKernel({
  name: 'target_seed',
  files: ['target_seed'],
  grid: 'elements',
  uniforms: {
    // values: the output's values per image; positions: segmentation's positions per class, a
    // detector's predictions (else 1).
    batch: 'u32', values: 'u32', positions: 'u32', mode: 'u32',
    // aux: the mask or the concept; aux_length 0 when there is none, aux_stride 0 when one serves every image.
    aux_length: 'u32', aux_stride: 'u32',
    // FINER: how many similar classes, and their weight.
    compare: 'u32', alpha: 'f32',
  },
  constants: {
    TARGET_CLASS: TARGET_MODE.class, TARGET_SOFTMAX: TARGET_MODE.softmax, TARGET_BINARY: TARGET_MODE.binary,
    TARGET_SEGMENTATION: TARGET_MODE.segmentation, TARGET_SIMILARITY: TARGET_MODE.similarity,
    TARGET_DETECTION_V5: TARGET_MODE.yolov5, TARGET_DETECTION_V8: TARGET_MODE.yolov8, TARGET_FINER: TARGET_MODE.finer, TARGET_REST: TARGET_MODE.rest,
    MAX_COMPARE,
  },
  // scores [batch, values]; requested [batch] (negative: top-1); seed [batch, values]; picked [batch, 2]: class, score.
  bindings: { scores: 'read', requested: { access: 'read', element: 'i32' }, aux: 'read', seed: 'write', picked: 'write' },
});

/**
 * Where value (image n, channel k, position p) of a layer lies, whatever its layout:
 * n * image_stride + layer_offset + k * channel_stride + p * position_stride (shaders/layer_layout.wgsl;
 * src/explain/layout.ts fills them in).
 */
export const LAYER_LAYOUT_UNIFORMS = { image_stride: 'u32', channel_stride: 'u32', position_stride: 'u32', layer_offset: 'u32' } as const;

/** The map kernels' methods: the one numbering (MODE_* in shaders/gradcam_alpha.wgsl). */
export const MAP_MODE = {
  gradcam: 0, // alpha = spatial mean of the gradient
  counterfactual: 1, // alpha = spatial mean of the negated gradient
  cam: 2, // alpha = classifier weight row of the picked class
  xgradcam: 3, // alpha = sum(g * A) / (sum(A) + 1e-7)
  'gradcam++': 4, // alpha = sum(relu(g) * a), a = g^2 / (2 g^2 + sum(A) g^3 + 1e-6), 0 where g = 0
  hirescam: 5, // term = g * A
  'gradcam-elementwise': 6, // term = relu(g * A)
  layercam: 7, // term = relu(g) * A
  scorecam: 8, // alpha = softmax over channels of the masked inputs' class scores
  ablationcam: 9, // alpha = (y - y_k) / y, y_k the class score with channel k zeroed
  fem: 10, // alpha = share of positions above mean + 2 std (no gradient)
} as const;
const MAP_MODE_CONSTANTS = {
  MODE_GRADCAM: MAP_MODE.gradcam, MODE_COUNTERFACTUAL: MAP_MODE.counterfactual, MODE_CAM: MAP_MODE.cam,
  MODE_XGRADCAM: MAP_MODE.xgradcam, MODE_GRADCAM_PP: MAP_MODE['gradcam++'], MODE_HIRESCAM: MAP_MODE.hirescam,
  MODE_ELEMENTWISE: MAP_MODE['gradcam-elementwise'], MODE_LAYERCAM: MAP_MODE.layercam,
  MODE_SCORECAM: MAP_MODE.scorecam, MODE_ABLATIONCAM: MAP_MODE.ablationcam, MODE_FEM: MAP_MODE.fem,
};

const MAP_UNIFORMS = {
  // The layer's activations A: [batch, channels] by a grid of in_d x in_h x in_w positions, laid out as
  // LAYER_LAYOUT_UNIFORMS say; the map's size: the model input's spatial axes, out_d x out_h x out_w
  // (1 for the axes a 1-D or 2-D input lacks).
  batch: 'u32', channels: 'u32', ...LAYER_LAYOUT_UNIFORMS,
  in_d: 'u32', in_h: 'u32', in_w: 'u32', out_d: 'u32', out_h: 'u32', out_w: 'u32',
  // The method: MAP_MODE.
  mode: 'u32',
  // CAM: where classifier weight (class, channel) lies in weight_source.
  weight_class_stride: 'u32', weight_channel_stride: 'u32',
  // The spread normalization: chunks of RANGE_CHUNK positions per image.
  chunks: 'u32',
} as const;

/** Positions per workgroup of the spread normalization's range step (16 per invocation). */
export const RANGE_CHUNK = 16 * WORKGROUP_SIZE;
export const mapKernel = defineKernel({
  name: 'gradcam',
  files: ['layer_layout', 'gradcam_common', 'gradcam_resize', 'workgroup_min_max', 'gradcam_alpha', 'gradcam'],
  grid: { workgroupSize: [WORKGROUP_SIZE, 1, 1] },
  uniforms: MAP_UNIFORMS,
  constants: MAP_MODE_CONSTANTS,
  // The length of the channel weights in workgroup memory (src/explain/map.ts chooses it by the limit).
  defines: { ALPHA: '256' },
  bindings: { activations: 'read', weight_source: 'read', picked: 'read', coarse: 'write', raw: 'write', normalized: 'write' },
});

export const mapStepKernels = {
  alpha: defineKernel({
    name: 'gradcam_step_alpha',
    files: ['layer_layout', 'gradcam_common', 'gradcam_alpha', 'gradcam_step_alpha'],
    grid: 'elements',
    uniforms: MAP_UNIFORMS,
    constants: MAP_MODE_CONSTANTS,
    bindings: { activations: 'read', weight_source: 'read', picked: 'read', alpha: 'write' },
  }),
  sum: defineKernel({
    name: 'gradcam_step_sum',
    files: ['layer_layout', 'gradcam_common', 'gradcam_alpha', 'gradcam_step_sum'],
    grid: 'elements',
    uniforms: MAP_UNIFORMS,
    constants: MAP_MODE_CONSTANTS,
    bindings: { activations: 'read', weight_source: 'read', alpha: 'read', coarse: 'write' },
  }),
  // --smooth-eigen: the channels' centred terms, which EigenCAM's projection replaces the sum with.
  terms: defineKernel({
    name: 'gradcam_step_terms',
    files: ['layer_layout', 'gradcam_common', 'gradcam_alpha', 'gradcam_step_terms'],
    grid: 'elements',
    uniforms: MAP_UNIFORMS,
    constants: MAP_MODE_CONSTANTS,
    bindings: { activations: 'read', weight_source: 'read', alpha: 'read', centred: 'write' },
  }),
  resize: defineKernel({
    name: 'gradcam_step_resize',
    files: ['gradcam_common', 'gradcam_resize', 'gradcam_step_resize'],
    grid: 'elements',
    uniforms: MAP_UNIFORMS,
    bindings: { coarse: 'read', raw: 'write' },
  }),
  range: defineKernel({
    name: 'gradcam_step_range',
    files: ['gradcam_common', 'workgroup_min_max', 'gradcam_step_range'],
    grid: { workgroupSize: [WORKGROUP_SIZE, 1, 1] },
    uniforms: MAP_UNIFORMS,
    constants: { RANGE_CHUNK },
    bindings: { raw: 'read', ranges: 'write' },
  }),
  scale: defineKernel({
    name: 'gradcam_step_scale',
    files: ['gradcam_common', 'gradcam_step_scale'],
    grid: 'elements',
    uniforms: MAP_UNIFORMS,
    bindings: { raw: 'read', ranges: 'read', normalized: 'write' },
  }),
  normalize: defineKernel({
    name: 'gradcam_step_normalize',
    files: ['gradcam_common', 'workgroup_min_max', 'gradcam_step_normalize'],
    grid: { workgroupSize: [WORKGROUP_SIZE, 1, 1] },
    uniforms: MAP_UNIFORMS,
    bindings: { raw: 'read', normalized: 'write' },
  }),
};

// FullGrad (shaders/fullgrad_*.wgsl): each bias term's per-channel range, its scaled channel sum, and the
// resize that adds a layer's sum to the map.
const FULLGRAD_UNIFORMS = {
  // The term's tensor [batch, channels, plane]; per_channel: the factor is a bias [channels] (1) or the
  // input itself (0).
  batch: 'u32', channels: 'u32', plane: 'u32', per_channel: 'u32',
} as const;

export const fullGradKernels = {
  range: defineKernel({
    name: 'fullgrad_range',
    files: ['fullgrad_common', 'fullgrad_range'],
    grid: 'elements',
    uniforms: FULLGRAD_UNIFORMS,
    bindings: { gradient: 'read', factor: 'read', ranges: 'write' },
  }),
  sum: defineKernel({
    name: 'fullgrad_sum',
    files: ['fullgrad_common', 'fullgrad_sum'],
    grid: 'elements',
    uniforms: FULLGRAD_UNIFORMS,
    bindings: { gradient: 'read', factor: 'read', ranges: 'read', coarse: 'write' },
  }),
  resizeAdd: defineKernel({
    name: 'fullgrad_resize_add',
    files: ['gradcam_common', 'gradcam_resize', 'fullgrad_resize_add'],
    grid: 'elements',
    uniforms: MAP_UNIFORMS,
    bindings: { coarse: 'read', raw: 'write' },
  }),
};

export const shapleyWeightsKernel = defineKernel({
  name: 'shapley_weights',
  files: ['shapley_weights'],
  grid: 'elements',
  uniforms: {},
  bindings: { gradient: 'read', hvp: 'read', weights: 'write' },
});

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
/** What EigenCAM's projection is of: A (EigenCAM), dy/dA * A (EigenGrad-CAM), |dy/dA| * A (Seg-Eigen-CAM). */
export const EIGEN_VALUES = { activations: 0, 'gradient x activations': 1, '|gradient| x activations': 2 } as const;
export type EigenValues = keyof typeof EIGEN_VALUES;

const EIGEN_UNIFORMS = {
  // The layer: [batch, channels, plane]; dim = min(plane, channels), the Gram matrix's size.
  batch: 'u32', channels: 'u32', plane: 'u32', dim: 'u32',
  // 1: the Gram matrix over positions (plane <= channels); 0: over channels.
  over_channels: 'u32',
} as const;

/** Entries of a row per invocation of EigenCAM's squaring (they share the trace and the row's loads). */
export const EIGEN_SQUARE_RUN = 4;

export const eigenKernels = {
  centre: defineKernel({
    name: 'eigen_centre',
    files: ['layer_layout', 'eigen_centre'],
    grid: 'elements',
    uniforms: { channels: 'u32', plane: 'u32', product: 'u32', ...LAYER_LAYOUT_UNIFORMS },
    constants: { PRODUCT_GRADIENT: EIGEN_VALUES['gradient x activations'], PRODUCT_ABSOLUTE_GRADIENT: EIGEN_VALUES['|gradient| x activations'] },
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
    constants: { RUN: EIGEN_SQUARE_RUN },
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

const KPCA_UNIFORMS = { ...EIGEN_UNIFORMS, gamma: 'f32', coef0: 'f32' } as const;

/** KPCA-CAM's kernel matrix over positions, centred and shifted (shaders/kpca_*.wgsl), between EigenCAM's Gram and squaring steps. */
export const kpcaKernels = {
  rows: defineKernel({
    name: 'kpca_rows',
    files: ['eigen_common', 'kpca_common', 'kpca_rows'],
    grid: 'elements',
    uniforms: KPCA_UNIFORMS,
    bindings: { gram: 'read', rows: 'write' },
  }),
  centre: defineKernel({
    name: 'kpca_centre',
    files: ['eigen_common', 'kpca_common', 'kpca_centre'],
    grid: 'elements',
    uniforms: KPCA_UNIFORMS,
    bindings: { gram: 'read', rows: 'read', centred_kernel: 'write' },
  }),
  bound: defineKernel({
    name: 'kpca_bound',
    files: ['eigen_common', 'kpca_bound'],
    grid: 'elements',
    uniforms: EIGEN_UNIFORMS,
    bindings: { centred_kernel: 'read', bounds: 'write' },
  }),
  shift: defineKernel({
    name: 'kpca_shift',
    files: ['eigen_common', 'kpca_shift'],
    grid: 'elements',
    uniforms: EIGEN_UNIFORMS,
    bindings: { centred_kernel: 'read', bounds: 'read', shifted: 'write' },
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
    files: ['layer_layout', 'perturb_common', 'score_mask_common', 'workgroup_min_max', 'score_mask_range'],
    grid: { workgroupSize: [WORKGROUP_SIZE, 1, 1] },
    uniforms: { images: 'u32', channels: 'u32', ...LAYER_LAYOUT_UNIFORMS, in_h: 'u32', in_w: 'u32', out_h: 'u32', out_w: 'u32' },
    bindings: { activations: 'read', first: FIRST_COPY, mask_range: 'write' },
  }),
  mask: defineKernel({
    name: 'score_mask',
    files: ['layer_layout', 'perturb_common', 'score_mask_common', 'score_mask'],
    grid: 'elements',
    uniforms: { images: 'u32', channels: 'u32', ...LAYER_LAYOUT_UNIFORMS, in_channels: 'u32', in_h: 'u32', in_w: 'u32', out_h: 'u32', out_w: 'u32' },
    bindings: { image: 'read', activations: 'read', first: FIRST_COPY, mask_range: 'read', masked: 'write' },
  }),
  ablate: defineKernel({
    name: 'ablate_channel',
    files: ['perturb_common', 'ablate_channel'],
    grid: 'elements',
    uniforms: { images: 'u32', channels: 'u32', image_stride: 'u32', channel_stride: 'u32' },
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
  augment: defineKernel({
    name: 'smooth_augment',
    files: ['smooth_common', 'smooth_augment'],
    grid: 'elements',
    // width: the input's last axis, which the flipped copies mirror.
    uniforms: { ...SMOOTH_COPIES, per_image: 'u32', width: 'u32' },
    bindings: { image: 'read', first: FIRST_COPY, augmented: 'write' },
  }),
  accumulate: defineKernel({
    name: 'smooth_accumulate',
    files: ['smooth_accumulate'],
    grid: 'elements',
    uniforms: { ...SMOOTH_COPIES, batch: 'u32', per_image: 'u32', mode: 'u32', mirror: 'u32' },
    bindings: { per_copy: 'read', first: FIRST_COPY, result: 'write' },
  }),
};
