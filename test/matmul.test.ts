// Gemm and MatMul beyond the op fixtures: weights larger than one storage binding (forced with a tiny
// binding limit, so every chunking direction runs: output rows, output columns and the reduction),
// batched and broadcast MatMul, 1-D operands, a product of a tensor with itself, and the bias gradient
// for every broadcast of C. References are float64, computed here.
import { describe, expect, it } from 'vitest';
import type { Shape } from '../src/graph/ir.js';
import { relativeError } from './support/fixtures.js';
import { useGpu } from './support/gpu.js';
import { floats, type GraphSpec, graphOf } from './support/model-spec.js';
import { deviceTraits, exactGradient, randomData, reference, runGraph } from './support/plan-runner.js';

const gpu = useGpu();
const TOLERANCE = 1e-5;

interface GemmAttrs {
  m: number;
  n: number;
  k: number;
  transA?: boolean;
  transB?: boolean;
  alpha?: number;
  beta?: number;
  /** C as [rows, cols], rows in {1, m}, cols in {1, n}. */
  c?: [number, number];
}

/** alpha * op(A) op(B) + beta * C in float64. */
function gemmReference([a, b, c]: Float64Array[], g: GemmAttrs): Float64Array {
  const { m, n, k } = g;
  const y = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let sum = 0;
      for (let p = 0; p < k; p++) sum += (g.transA ? a[p * m + i] : a[i * k + p]) * (g.transB ? b[j * k + p] : b[p * n + j]);
      y[i * n + j] = (g.alpha ?? 1) * sum;
      if (g.c) y[i * n + j] += (g.beta ?? 1) * c[(g.c[0] === 1 ? 0 : i) * g.c[1] + (g.c[1] === 1 ? 0 : j)];
    }
  }
  return y;
}

/** numpy matmul in float64 (1-D operands promoted, batch dims broadcast). */
function matmulReference(a: Float64Array, aShape: Shape, b: Float64Array, bShape: Shape): Float64Array {
  const a2 = aShape.length === 1 ? [1, aShape[0]] : aShape;
  const b2 = bShape.length === 1 ? [bShape[0], 1] : bShape;
  const [m, k] = a2.slice(-2);
  const n = b2[b2.length - 1];
  const rank = Math.max(a2.length, b2.length) - 2;
  const pad = (s: Shape) => [...new Array<number>(rank - (s.length - 2)).fill(1), ...s.slice(0, -2)];
  const [aBatch, bBatch] = [pad(a2), pad(b2)];
  const outBatch = aBatch.map((d, i) => Math.max(d, bBatch[i]));
  const batches = outBatch.reduce((p, d) => p * d, 1);
  const y = new Float64Array(batches * m * n);
  const offsetIn = (batchShape: Shape, index: number) => {
    let offset = 0;
    let rest = index;
    let stride = 1;
    for (let d = rank - 1; d >= 0; d--) {
      const c = rest % outBatch[d];
      rest = Math.floor(rest / outBatch[d]);
      offset += (batchShape[d] === 1 ? 0 : c) * stride;
      stride *= batchShape[d];
    }
    return offset;
  };
  for (let t = 0; t < batches; t++) {
    const ao = offsetIn(aBatch, t) * m * k;
    const bo = offsetIn(bBatch, t) * k * n;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let sum = 0;
        for (let p = 0; p < k; p++) sum += a[ao + i * k + p] * b[bo + p * n + j];
        y[(t * m + i) * n + j] = sum;
      }
    }
  }
  return y;
}

/** Dispatches of a phase that bind only a byte range of some tensor (the chunks of a large weight). */
const chunkCount = (dispatches: { phase: string; program: { bindings: { byteLength?: number }[] } }[], phase: string) =>
  dispatches.filter((d) => d.phase === phase && d.program.bindings.some((b) => b.byteLength !== undefined)).length;

describe('weights larger than one binding', () => {
  // minOffsetAlignment 256 is stricter than lavapipe's 16, so chunk starts must round to it.
  const tiny = (maxBindingBytes: number) => deviceTraits(gpu(), { maxBindingBytes, minOffsetAlignment: 256 });

  it('Linear (transB=1): output-column chunks forward, reduction chunks for dX', async () => {
    const g: GemmAttrs = { m: 3, n: 200, k: 60, transB: true, c: [1, 200] };
    const w = randomData(g.n * g.k, 1);
    const bias = randomData(g.n, 2);
    const x = randomData(g.m * g.k, 3);
    const gy = randomData(g.m * g.n, 4);
    const graph = graphOf({
      inputs: { x: [g.m, g.k] },
      nodes: [{ op: 'Gemm', inputs: ['x', 'w', 'bias'], outputs: ['y'], attributes: { transB: 1 } }],
      initializers: { w: floats([g.n, g.k], w), bias: floats([g.n], bias) },
    });
    // 48000 bytes of weight in bindings of 16 KiB: rows of 240 bytes, 16 to an aligned group -> 64 rows.
    const run = await runGraph(gpu(), graph, { x }, { traits: tiny(16384), seed: gy, gradientsTo: ['x'] });
    const f = ([xs]: Float64Array[]) => gemmReference([xs, Float64Array.from(w), Float64Array.from(bias)], g);
    expect(chunkCount(run.dispatches, 'forward')).toBe(4);
    expect(chunkCount(run.dispatches, 'backward')).toBe(4);
    expect(relativeError(run.y, reference([g.m, g.n], f([Float64Array.from(x)])))).toBeLessThan(TOLERANCE);
    expect(relativeError(run.grads.get('x')!, reference([g.m, g.k], exactGradient(f, [x], gy, 0)))).toBeLessThan(TOLERANCE);
  });

  for (const withBias of [false, true]) {
    it(`${withBias ? 'Gemm (transB=0, C)' : 'MatMul'} by a [K, N] weight: reduction chunks forward, output-column chunks for dX`, async () => {
      const g: GemmAttrs = { m: 5, n: 48, k: 100, beta: 1.5, c: withBias ? [1, 48] : undefined };
      const w = randomData(g.k * g.n, 5);
      const bias = randomData(g.n, 13);
      const x = randomData(g.m * g.k, 6);
      const gy = randomData(g.m * g.n, 7);
      const node = withBias
        ? { op: 'Gemm', inputs: ['x', 'w', 'bias'], outputs: ['y'], attributes: { beta: 1.5 } }
        : { op: 'MatMul', inputs: ['x', 'w'], outputs: ['y'] };
      const graph = graphOf({
        inputs: { x: [g.m, g.k] },
        nodes: [node],
        initializers: { w: floats([g.k, g.n], w), bias: floats([g.n], bias) },
      });
      // Rows of 192 bytes, 4 to an aligned group, 20 in 4 KiB: 5 chunks each way; C is added once.
      const run = await runGraph(gpu(), graph, { x }, { traits: tiny(4096), seed: gy, gradientsTo: ['x'] });
      const f = ([xs]: Float64Array[]) => gemmReference([xs, Float64Array.from(w), Float64Array.from(bias)], g);
      expect(chunkCount(run.dispatches, 'forward')).toBe(5);
      expect(chunkCount(run.dispatches, 'backward')).toBe(5);
      expect(relativeError(run.y, reference([g.m, g.n], f([Float64Array.from(x)])))).toBeLessThan(TOLERANCE);
      expect(relativeError(run.grads.get('x')!, reference([g.m, g.k], exactGradient(f, [x], gy, 0)))).toBeLessThan(TOLERANCE);
    });
  }

  it('a weight as A: output-row chunks (with C per row) forward, reduction chunks for dB', async () => {
    const g: GemmAttrs = { m: 150, n: 3, k: 64, alpha: 0.5, beta: 2, c: [150, 1] };
    const w = randomData(g.m * g.k, 8);
    const c = randomData(g.m, 9);
    const x = randomData(g.k * g.n, 10);
    const gy = randomData(g.m * g.n, 11);
    const graph = graphOf({
      inputs: { x: [g.k, g.n] },
      nodes: [{ op: 'Gemm', inputs: ['w', 'x', 'c'], outputs: ['y'], attributes: { alpha: 0.5, beta: 2 } }],
      initializers: { w: floats([g.m, g.k], w), c: floats([g.m, 1], c) },
    });
    // Rows of 256 bytes, 32 in 8 KiB: 5 chunks of the 150 rows.
    const run = await runGraph(gpu(), graph, { x }, { traits: tiny(8192), seed: gy, gradientsTo: ['x'] });
    const f = ([xs]: Float64Array[]) => gemmReference([Float64Array.from(w), xs, Float64Array.from(c)], g);
    expect(chunkCount(run.dispatches, 'forward')).toBe(5);
    expect(chunkCount(run.dispatches, 'backward')).toBe(5);
    expect(relativeError(run.y, reference([g.m, g.n], f([Float64Array.from(x)])))).toBeLessThan(TOLERANCE);
    expect(relativeError(run.grads.get('x')!, reference([g.k, g.n], exactGradient(f, [x], gy, 0)))).toBeLessThan(TOLERANCE);
  });

  it('still refuses what cannot be split', async () => {
    const spec = (xShape: Shape): GraphSpec => ({
      inputs: { x: xShape },
      nodes: [{ op: 'Gemm', inputs: ['x', 'w'], outputs: ['y'], attributes: { transB: 1 } }],
      initializers: { w: floats([200, 60], randomData(200 * 60, 12)) },
    });
    // One 240-byte row of the weight does not fit a 200-byte binding.
    await expect(runGraph(gpu(), graphOf(spec([3, 60])), { x: randomData(180, 1) }, { traits: tiny(200) })).rejects.toThrow(/cannot be split/);
    // An activation over the limit is never split.
    await expect(runGraph(gpu(), graphOf(spec([40, 60])), { x: randomData(2400, 1) }, { traits: tiny(8192) })).rejects.toThrow(/binding/);
  });
});

describe('MatMul', () => {
  const cases: { name: string; a: Shape; b: Shape; y: Shape }[] = [
    { name: 'equal batches', a: [2, 3, 4, 5], b: [2, 3, 5, 6], y: [2, 3, 4, 6] },
    { name: 'A shared by every batch of B', a: [4, 5], b: [2, 3, 5, 6], y: [2, 3, 4, 6] },
    { name: 'A with unit batch dims', a: [1, 1, 4, 5], b: [2, 3, 5, 6], y: [2, 3, 4, 6] },
    { name: 'B shared by every batch of A', a: [2, 3, 4, 5], b: [1, 5, 6], y: [2, 3, 4, 6] },
    { name: '1-D B', a: [2, 3, 5], b: [5], y: [2, 3] },
    { name: '1-D A', a: [5], b: [2, 5, 3], y: [2, 3] },
    { name: 'both 1-D', a: [5], b: [5], y: [] },
  ];
  for (const c of cases) {
    it(`${c.name}: [${c.a}] x [${c.b}], forward and both gradients`, async () => {
      const count = (s: Shape) => s.reduce((p, d) => p * d, 1);
      const a = randomData(count(c.a), 20);
      const b = randomData(count(c.b), 21);
      const gy = randomData(count(c.y), 22);
      const graph = graphOf({ inputs: { a: c.a, b: c.b }, nodes: [{ op: 'MatMul', inputs: ['a', 'b'], outputs: ['y'] }] });
      const run = await runGraph(gpu(), graph, { a, b }, { seed: gy, gradientsTo: ['a', 'b'] });
      const f = ([as, bs]: Float64Array[]) => matmulReference(as, c.a, bs, c.b);
      expect(run.shape).toEqual(c.y);
      expect(relativeError(run.y, reference(c.y, f([Float64Array.from(a), Float64Array.from(b)])))).toBeLessThan(TOLERANCE);
      expect(relativeError(run.grads.get('a')!, reference(c.a, exactGradient(f, [a, b], gy, 0))), 'dA').toBeLessThan(TOLERANCE);
      expect(relativeError(run.grads.get('b')!, reference(c.b, exactGradient(f, [a, b], gy, 1))), 'dB').toBeLessThan(TOLERANCE);
    });
  }

  it('x . x adds both gradients into dX', async () => {
    const x = randomData(16, 23);
    const gy = randomData(16, 24);
    const graph = graphOf({ inputs: { x: [4, 4] }, nodes: [{ op: 'MatMul', inputs: ['x', 'x'], outputs: ['y'] }] });
    const run = await runGraph(gpu(), graph, { x }, { seed: gy, gradientsTo: ['x'] });
    const f = ([xs]: Float64Array[]) => matmulReference(xs, [4, 4], xs, [4, 4]);
    expect(relativeError(run.grads.get('x')!, reference([4, 4], exactGradient(f, [x], gy, 0)))).toBeLessThan(TOLERANCE);
  });

  it('rejects batch dims that broadcast only partly', async () => {
    const graph = graphOf({ inputs: { a: [2, 1, 4, 5], b: [1, 3, 5, 6] }, nodes: [{ op: 'MatMul', inputs: ['a', 'b'], outputs: ['y'] }] });
    await expect(runGraph(gpu(), graph, { a: randomData(40, 1), b: randomData(90, 2) })).rejects.toThrow(/MatMul node "matmul0".*batch/);
  });
});

describe('Gemm with every operand an activation', () => {
  const [m, n, k] = [3, 5, 4];
  for (const c of [[1, 1], [1, n], [m, 1], [m, n]] as [number, number][]) {
    it(`transA, transB, alpha, beta and C broadcast from [${c}]: all three gradients`, async () => {
      const g: GemmAttrs = { m, n, k, transA: true, transB: true, alpha: 0.7, beta: -1.5, c };
      const a = randomData(k * m, 30);
      const b = randomData(n * k, 31);
      const cData = randomData(c[0] * c[1], 32);
      const gy = randomData(m * n, 33);
      const graph = graphOf({
        inputs: { a: [k, m], b: [n, k], c },
        nodes: [{ op: 'Gemm', inputs: ['a', 'b', 'c'], outputs: ['y'], attributes: { transA: 1, transB: 1, alpha: 0.7, beta: -1.5 } }],
      });
      const run = await runGraph(gpu(), graph, { a, b, c: cData }, { seed: gy, gradientsTo: ['a', 'b', 'c'] });
      const f = (xs: Float64Array[]) => gemmReference(xs, g);
      const inputs = [a, b, cData];
      expect(relativeError(run.y, reference([m, n], f(inputs.map((x) => Float64Array.from(x)))))).toBeLessThan(TOLERANCE);
      ['a', 'b', 'c'].forEach((name, i) => {
        const want = reference([inputs[i].length], exactGradient(f, inputs, gy, i));
        expect(relativeError(run.grads.get(name)!, want), `gradient of ${name}`).toBeLessThan(TOLERANCE);
      });
    });
  }
});

/** One Gemm of M x K by K x N (plus C [1, N] where asked) on the variant the adapter kind picks: its kernel and values against float64. */
function checkVariant({ m, n, k, bias, isCpu, kernel, seed }: { m: number; n: number; k: number; bias: boolean; isCpu: boolean; kernel: string; seed: number }) {
  it(`${m} x ${n} runs ${kernel} and matches float64`, async () => {
    const g: GemmAttrs = { m, n, k, c: bias ? [1, n] : undefined };
    const a = randomData(m * k, seed);
    const b = randomData(k * n, seed + 1);
    const c = randomData(n, seed + 2);
    const graph = graphOf({ inputs: { a: [m, k], b: [k, n], ...(bias ? { c: [1, n] } : {}) }, nodes: [{ op: 'Gemm', inputs: bias ? ['a', 'b', 'c'] : ['a', 'b'], outputs: ['y'] }] });
    const run = await runGraph(gpu(), graph, bias ? { a, b, c } : { a, b }, { traits: deviceTraits(gpu(), { isCpu }) });
    expect(run.dispatches.map((d) => d.program.kernel.name)).toEqual([kernel]);
    const want = gemmReference([Float64Array.from(a), Float64Array.from(b), bias ? Float64Array.from(c) : new Float64Array()], g);
    expect(relativeError(run.y, reference([m, n], want))).toBeLessThan(TOLERANCE);
  });
}

describe('the CPU GEMM variants', () => {
  // Each shape makes the register body run in one of its four tilings: the one-row variant for M <= 2,
  // the four-row one for 3 or 4 rows, the 64-column one where a 256-column tile would be mostly empty
  // (49 columns, a 7x7 map), the 256-column one where both fill equally (512 columns).
  const cases = [
    { m: 2, n: 100, kernel: 'matmul+gemm_registers_row' },
    { m: 3, n: 100, kernel: 'matmul+gemm_registers_few' },
    { m: 16, n: 49, kernel: 'matmul+gemm_registers_narrow' },
    { m: 16, n: 512, kernel: 'matmul+gemm_registers' },
  ];
  for (const c of cases) checkVariant({ ...c, k: 40, bias: false, isCpu: true, seed: 40 });
});

describe('the GPU GEMM variants', () => {
  // Up to 4 rows run the few-row body (split-K inside the workgroup: K = 1001 leaves the last of the four
  // slices shorter and a block of 8 partial); 5 to 32 rows the shared-memory body on 16 x 64 tiles (21
  // rows: a second, partial row tile), more the 64 x 64 one. Here on whatever adapter runs the suite,
  // with the GPU's choice injected.
  const cases = [
    { m: 1, n: 130, kernel: 'matmul+gemm_rows' },
    { m: 3, n: 64, kernel: 'matmul+gemm_rows' },
    { m: 4, n: 70, kernel: 'matmul+gemm_rows' },
    { m: 5, n: 70, kernel: 'matmul+gemm_tiled_short' },
    { m: 21, n: 130, kernel: 'matmul+gemm_tiled_short' },
    { m: 33, n: 70, kernel: 'matmul+gemm_tiled' },
  ];
  for (const c of cases) checkVariant({ ...c, k: 1001, bias: true, isCpu: false, seed: 50 });
});
