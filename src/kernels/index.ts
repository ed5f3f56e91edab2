// Every kernel the engine declares, for tests that compile them all (src/kernels/declare.ts).
export * from './conv.js';
export * from './dff.js';
export * from './elementwise.js';
export * from './evaluate.js';
export * from './finite.js';
export * from './gemm.js';
export * from './gradcam.js';
export * from './hessian.js';
export * from './layout.js';
export * from './normalization.js';
export * from './pool.js';
export * from './reduce.js';
export * from './resize.js';
export { declaredKernels } from './declare.js';
export * from './probe.js';
