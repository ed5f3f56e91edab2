// The FMA probe: the adapter's arithmetic ceiling, measured in the same process as the kernels it rates.
import { defineKernel } from './declare.js';

/** Independent multiply-add chains per invocation (shaders/fma_probe.wgsl). */
export const PROBE_CHAINS = 16;

export const fmaProbeKernel = defineKernel({
  name: 'fma_probe',
  files: ['fma_probe'],
  grid: 'elements',
  constants: { CHAINS: PROBE_CHAINS },
  uniforms: { iterations: 'u32', scale: 'f32', shift: 'f32' },
  bindings: { out: 'write' },
});
