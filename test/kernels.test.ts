// The kernel declarations (src/kernels/declare.ts): every declared kernel's body matches its declaration
// and compiles on this adapter (the GPU variants too, which a CPU adapter never dispatches); a body that
// reads a field its declaration lacks fails at load time naming both; uniforms pack by name at the
// offsets WGSL's layout rules give the generated struct.
import { describe, expect, it } from 'vitest';
import { array, declaredKernels, Kernel } from '../src/kernels/declare.js';
import { maxPoolKernel, stridedCopyKernel } from '../src/kernels/index.js';
import { compile } from '../src/plan/executable.js';
import { useGpu } from './support/gpu.js';

const gpu = useGpu();
const tensor = (id: number) => ({ id, shape: [4], label: `t${id}` });

describe('kernel declarations', () => {
  it('every declared kernel composes against its body and compiles', async () => {
    const kernels = declaredKernels();
    // 6 pool (one MaxPool's tangent), 25 conv (seven GEMM variants each for forward, backward-data and phase-wise strided backward-data,
    // two depthwise, two Winograd), 7 matmul, 6 elementwise (one the activations' second-order term),
    // 4 layout, 4 normalization, 5 reduce/softmax, 2 resize, 46 explanation kernels (with the Hessian's seed and ShapleyCAM's weights) (among them 4 EigenCAM's, 4 KPCA-CAM's, 3 FullGrad's, 7 DFF's, 5 the perturbed batches of Score-CAM and Ablation-CAM, 4 SmoothGrad's and --smooth-aug's), the FMA probe, the non-finite check.
    expect(kernels.length).toBe(107);
    expect(new Set(kernels.map((k) => k.name)).size).toBe(kernels.length);
    for (const kernel of kernels) {
      const pipeline = await compile(gpu().device, kernel, kernel.spec.defines ?? {});
      expect(pipeline, kernel.name).toBeDefined();
    }
  });

  it('rejects, at load time, a body that reads a uniform the declaration lacks, naming both', () => {
    const { in_h: _, ...withoutInH } = maxPoolKernel.spec.uniforms;
    const broken = new Kernel({ ...maxPoolKernel.spec, name: 'max_pool_without_in_h', uniforms: withoutInH });
    expect(() => broken.source({})).toThrow(/kernel "max_pool_without_in_h".*pool_common\.wgsl reads P\.in_h/);
  });

  it('rejects a declared binding the body never uses, and a wrong entry point', () => {
    const extra = new Kernel({ ...stridedCopyKernel.spec, name: 'copy_with_extra', bindings: { ...stridedCopyKernel.spec.bindings, unused: 'read' } });
    expect(() => extra.source({})).toThrow(/copy_with_extra.*binding "unused" is not used/);
    const custom = new Kernel({ ...stridedCopyKernel.spec, name: 'copy_as_custom', grid: { workgroupSize: [64, 1, 1] } });
    expect(() => custom.source({})).toThrow(/copy_as_custom.*@workgroup_size\(WG\)/);
  });

  it('packs uniforms by name at the WGSL offsets of the generated struct', () => {
    const program = stridedCopyKernel.program({
      uniforms: { rank: 3, src_offset: 7, dst_offset: 9, shape: [2, 3, 4], src_strides: [-12, 4, 1], dst_strides: [12, 4, 1] },
      bindings: { src: tensor(0), dst: tensor(1) },
      accumulate: true,
      count: 24,
    });
    // struct { count, rank, src_offset, dst_offset: u32 (0..15); shape: array<vec4<u32>, 2> (16, 16-aligned);
    // src_strides: array<vec4<i32>, 2> (48); dst_strides (80); accumulate: u32 (112) }, size rounded to 16: 128.
    const view = new DataView(program.uniforms);
    expect(program.uniforms.byteLength).toBe(128);
    expect([0, 4, 8, 12].map((o) => view.getUint32(o, true))).toEqual([24, 3, 7, 9]);
    expect([16, 20, 24, 28].map((o) => view.getUint32(o, true))).toEqual([2, 3, 4, 0]);
    expect([48, 52, 56].map((o) => view.getInt32(o, true))).toEqual([-12, 4, 1]);
    expect([80, 84, 88].map((o) => view.getUint32(o, true))).toEqual([12, 4, 1]);
    expect(view.getUint32(112, true)).toBe(1);
    expect(program.workgroups).toEqual([1, 1, 1]);
    expect(program.bindings.map((b) => b.write)).toEqual([false, true]);
  });

  it('aligns an array after an odd number of scalars and puts f32 and i32 where WGSL does', () => {
    const kernel = new Kernel({
      name: 'layout_probe',
      files: ['strided_copy'],
      grid: { workgroupSize: [256, 1, 1] },
      uniforms: { a: 'f32', b: 'i32', c: 'u32', list: array('u32', 8), d: 'f32' },
      bindings: {},
    });
    const bytes = new DataView(kernel.program({ uniforms: { a: 1.5, b: -3, c: 5, list: [1, 2], d: 0.25 }, bindings: {}, workgroups: [1, 1, 1] }).uniforms);
    // a 0, b 4, c 8, list 16 (align 16), d 48; size 64.
    expect(bytes.byteLength).toBe(64);
    expect([bytes.getFloat32(0, true), bytes.getInt32(4, true), bytes.getUint32(8, true)]).toEqual([1.5, -3, 5]);
    expect([bytes.getUint32(16, true), bytes.getUint32(20, true), bytes.getFloat32(48, true)]).toEqual([1, 2, 0.25]);
  });

  it('refuses a missing, an undeclared or an out-of-range uniform with the kernel and field named', () => {
    const base = { src_offset: 0, dst_offset: 0, shape: [4], src_strides: [1], dst_strides: [1] };
    const bindings = { src: tensor(0), dst: tensor(1) };
    expect(() => stridedCopyKernel.program({ uniforms: base as never, bindings, count: 4 })).toThrow(/strided_copy.*uniform "rank" has no value/);
    expect(() => stridedCopyKernel.program({ uniforms: { ...base, rank: 1, stray: 2 } as never, bindings, count: 4 })).toThrow(/strided_copy.*"stray" is not declared/);
    expect(() => stridedCopyKernel.program({ uniforms: { ...base, rank: -1 }, bindings, count: 4 })).toThrow(/strided_copy.*"rank" \(u32\) cannot hold -1/);
    expect(() => stridedCopyKernel.program({ uniforms: { ...base, rank: 1, shape: new Array(9).fill(1) }, bindings, count: 4 })).toThrow(/"shape" takes at most 8/);
    expect(() => stridedCopyKernel.program({ uniforms: { ...base, rank: 1 }, bindings })).toThrow(/strided_copy.*needs a count/);
  });

  it("refuses a tensor whose element type is not the binding's (plan tensors carry a dtype)", () => {
    const uniforms = { rank: 1, src_offset: 0, dst_offset: 0, shape: [4], src_strides: [1], dst_strides: [1] };
    const indices = { ...tensor(2), dtype: 'u32' as const };
    expect(() => stridedCopyKernel.program({ uniforms, bindings: { src: indices, dst: tensor(1) }, count: 4 })).toThrow(/strided_copy.*binding "src" holds f32 but tensor "t2" is u32/);
    const pool = Object.fromEntries(Object.keys(maxPoolKernel.spec.uniforms).map((k) => [k, 1])) as never;
    expect(() => maxPoolKernel.program({ uniforms: pool, bindings: { x: tensor(0), y: tensor(1), argmax: tensor(2) }, count: 4 })).toThrow(/binding "argmax" holds u32 but tensor "t2" is f32/);
    expect(() => maxPoolKernel.program({ uniforms: pool, bindings: { x: tensor(0), y: tensor(1), argmax: indices }, count: 4 })).not.toThrow();
  });
});
