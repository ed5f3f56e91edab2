// Deep Feature Factorization's kernels (shaders/dff_*.wgsl): the shifted layer, the starting factors,
// the multiplicative updates with their Gram matrices, the head's scores of the concepts, and the
// reconstruction error with the concept chosen for the class.
import { defineKernel } from './declare.js';
import { LAYER_LAYOUT_UNIFORMS } from './gradcam.js';
import { WORKGROUP_SIZE } from './program.js';

/** Per image: channels x plane values factorized into `components` concepts. */
const DFF_UNIFORMS = { batch: 'u32', channels: 'u32', plane: 'u32', components: 'u32' } as const;

export const dffKernels = {
  shift: defineKernel({
    name: 'dff_shift',
    files: ['layer_layout', 'dff_shift'],
    grid: 'elements',
    uniforms: { ...DFF_UNIFORMS, ...LAYER_LAYOUT_UNIFORMS },
    // shifted [batch, channels, plane]; offsets [batch, channels]: each channel's minimum.
    bindings: { activations: 'read', shifted: 'write', offsets: 'write' },
  }),
  init: defineKernel({
    name: 'dff_init',
    files: ['random', 'workgroup_sum', 'dff_init'],
    grid: { workgroupSize: [WORKGROUP_SIZE, 1, 1] },
    uniforms: DFF_UNIFORMS,
    bindings: { shifted: 'read', w: 'write', h: 'write' },
  }),
  gram: defineKernel({
    name: 'dff_gram',
    files: ['dff_gram'],
    grid: 'elements',
    // The factor's entry (component k, i) at n * components * length + k * component_stride + i * position_stride.
    uniforms: { components: 'u32', length: 'u32', component_stride: 'u32', position_stride: 'u32' },
    bindings: { factor: 'read', gram: 'write' },
  }),
  updateW: defineKernel({
    name: 'dff_update_w',
    files: ['dff_common', 'dff_update_common', 'dff_update_w'],
    grid: 'elements',
    uniforms: DFF_UNIFORMS,
    bindings: { shifted: 'read', w: 'read', h: 'read', gram: 'read', updated: 'write' },
  }),
  updateH: defineKernel({
    name: 'dff_update_h',
    files: ['dff_common', 'dff_update_common', 'dff_update_h'],
    grid: 'elements',
    uniforms: DFF_UNIFORMS,
    bindings: { shifted: 'read', w: 'read', h: 'read', gram: 'read', updated: 'write' },
  }),
  scores: defineKernel({
    name: 'dff_scores',
    files: ['dff_scores'],
    grid: 'elements',
    // The head's weight [classes, channels] (or transposed: the strides say) and bias [classes].
    uniforms: { ...DFF_UNIFORMS, classes: 'u32', weight_class_stride: 'u32', weight_channel_stride: 'u32' },
    bindings: { w: 'read', offsets: 'read', weight: 'read', bias: 'read', scores: 'write' },
  }),
  choose: defineKernel({
    name: 'dff_choose',
    files: ['workgroup_sum', 'dff_common', 'dff_choose'],
    grid: { workgroupSize: [WORKGROUP_SIZE, 1, 1] },
    uniforms: { ...DFF_UNIFORMS, classes: 'u32' },
    // picked [batch, 2]: class, score; summary [batch, 3]: chosen concept, relative error, its lead.
    bindings: { shifted: 'read', w: 'read', h: 'read', scores: 'read', picked: 'read', summary: 'write', coarse: 'write' },
  }),
};
