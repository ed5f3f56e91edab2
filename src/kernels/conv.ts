// Kernels of Conv: implicit GEMMs (forward, backward-data) on both GEMM bodies, and direct depthwise
// kernels that compute a run of neighbouring outputs (inputs, for backward-data) of a row per invocation.
import { FUSED_UNIFORMS } from './fused.js';
import { defineKernel } from './declare.js';
import { defineGemm } from './gemm.js';

const CONV_UNIFORMS = {
  batch: 'u32', in_c: 'u32', in_h: 'u32', in_w: 'u32', out_c: 'u32', out_h: 'u32', out_w: 'u32', groups: 'u32',
  k_h: 'u32', k_w: 'u32', stride_h: 'u32', stride_w: 'u32', pad_t: 'i32', pad_l: 'i32', dil_h: 'u32', dil_w: 'u32',
} as const;

/**
 * Outputs per invocation of the depthwise forward kernel, along a row (scalar accumulators): 16 where
 * rows are long enough to fill them (3x3 at 112x112 on lavapipe: 4.2 ms with 4, 3.0 with 8, 2.4 with 16).
 */
export const depthwiseRun = (outW: number) => (outW >= 16 ? 16 : 8);
/**
 * The depthwise backward-data kernel's defines: its run of inputs along a row (the forward's, rounded up
 * to a multiple of the stride so that every run starts on the same phase), the filter width, stride and
 * dilation, pad_l mod stride, and the dy columns a run reaches relative to its first (D_MIN, SPAN).
 */
export function depthwiseBackwardDefines(g: { inW: number; kW: number; strideW: number; dilW: number; padL: number }) {
  const run = Math.ceil(depthwiseRun(g.inW) / g.strideW) * g.strideW;
  const phase = ((g.padL % g.strideW) + g.strideW) % g.strideW;
  // Lane j meets column d through tap kw where j = d * stride - phase + kw * dilation.
  const dMin = Math.ceil((phase - (g.kW - 1) * g.dilW) / g.strideW);
  const dMax = Math.floor((run - 1 + phase) / g.strideW);
  const defines = { RUN: run, KW: g.kW, SW: g.strideW, DW: g.dilW, PW: phase, D_MIN: dMin, SPAN: dMax - dMin + 1 };
  return { run, defines: Object.fromEntries(Object.entries(defines).map(([k, v]) => [k, String(v)])) };
}

export const conv2dKernels = defineGemm({
  name: 'conv2d',
  files: ['conv2d_common', 'fused_activation', 'conv2d'],
  uniforms: { ...CONV_UNIFORMS, ...FUSED_UNIFORMS },
  bindings: { x: 'read', weight: 'read', bias: 'read', y: 'write' },
});

export const conv2dBackwardDataKernels = defineGemm({
  name: 'conv2d_backward_data',
  files: ['conv2d_common', 'conv2d_backward_data'],
  uniforms: CONV_UNIFORMS,
  bindings: { dy: 'read', weight: 'read', dx: 'accumulate' },
});

/**
 * Strided backward-data, one output phase per dispatch: the input positions of phase (phase_h, phase_w),
 * rows_h x rows_w of them per image, and the taps that reach them (taps_h x taps_w from tap0).
 */
export const conv2dBackwardDataPhaseKernels = defineGemm({
  name: 'conv2d_backward_data_phase',
  files: ['conv2d_common', 'conv2d_backward_data_phase'],
  uniforms: {
    ...CONV_UNIFORMS,
    phase_h: 'u32', phase_w: 'u32', rows_h: 'u32', rows_w: 'u32', tap0_h: 'u32', tap0_w: 'u32', taps_h: 'u32', taps_w: 'u32',
    shift_h: 'i32', shift_w: 'i32',
  },
  bindings: { dy: 'read', weight: 'read', dx: 'accumulate' },
});

export const depthwiseConv2dKernel = defineKernel({
  name: 'depthwise_conv2d',
  files: ['conv2d_common', 'fused_activation', 'depthwise_conv2d'],
  grid: 'elements',
  uniforms: { ...CONV_UNIFORMS, ...FUSED_UNIFORMS },
  // The run, and the filter width, stride and dilation along a row: one pipeline each, so its loops unroll.
  defines: { RUN: '8', KW: '3', SW: '1', DW: '1' },
  bindings: { x: 'read', weight: 'read', bias: 'read', y: 'write' },
});

export const depthwiseConv2dBackwardDataKernel = defineKernel({
  name: 'depthwise_conv2d_backward_data',
  files: ['conv2d_common', 'depthwise_conv2d_backward_data'],
  grid: 'elements',
  // One pipeline per run, filter width, stride, dilation and phase (depthwiseBackwardDefines).
  defines: { RUN: '16', KW: '3', SW: '1', DW: '1', PW: '0', D_MIN: '-2', SPAN: '18' },
  uniforms: CONV_UNIFORMS,
  bindings: { dy: 'read', weight: 'read', dx: 'accumulate' },
});

// Winograd F(2x2, 3x3) for stride-1 3x3 convolutions: tiles of 2x2 outputs, 16 products per tile.
const WINOGRAD_UNIFORMS = {
  // Input channels (step 1) or output channels (step 3); tiles over the batch, and per image tiles_h x tiles_w.
  channels: 'u32', tiles: 'u32', tiles_h: 'u32', tiles_w: 'u32',
} as const;

export const winogradInputKernel = defineKernel({
  name: 'winograd_input',
  files: ['winograd_common', 'winograd_input'],
  grid: 'elements',
  uniforms: { ...WINOGRAD_UNIFORMS, in_h: 'u32', in_w: 'u32', pad_t: 'i32', pad_l: 'i32' },
  bindings: { x: 'read', v: 'write' },
});

export const winogradOutputKernel = defineKernel({
  name: 'winograd_output',
  files: ['winograd_common', 'fused_activation', 'winograd_output'],
  grid: 'elements',
  uniforms: { ...WINOGRAD_UNIFORMS, out_h: 'u32', out_w: 'u32', ...FUSED_UNIFORMS },
  bindings: { m: 'read', bias: 'read', y: 'accumulate' },
});
