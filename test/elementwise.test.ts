// The elementwise ops where the op fixtures cannot show enough: erf against float64 over a dense
// range, broadcasting between every pair of ranks 0..6, gradients that several consumers add into one
// tensor, saturating inputs, whole powers of negative bases, and the errors for bad models. Every
// reference is computed here in float64, independently of the engine.
import { describe, expect, it } from 'vitest';
import { Model, type Tensor } from '../src/runtime/model.js';
import { useGpu } from './support/gpu.js';
import { type GraphSpec, onnxOf } from './support/model-spec.js';

const gpu = useGpu();

// ---------------------------------------------------------------------------------------------------
// Small ONNX graphs

/** A model whose output is the last node's (first) output, "y". */
function model(spec: GraphSpec): Model {
  return Model.fromBytes(gpu(), onnxOf(spec), 'elementwise test model');
}

async function withModel<T>(spec: GraphSpec, use: (m: Model) => Promise<T>): Promise<T> {
  const m = model(spec);
  try {
    return await use(m);
  } finally {
    m.dispose();
  }
}

function tensor(shape: number[], values: ArrayLike<number>): Tensor {
  return { shape, data: Float32Array.from(values) };
}

/** Deterministic values in [lo, hi). */
function uniform(count: number, seed: number, lo = -2, hi = 2): number[] {
  let s = seed >>> 0 || 1;
  return Array.from({ length: count }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return lo + ((s >>> 8) / 2 ** 24) * (hi - lo);
  });
}

function maxAbsDiff(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  expect(actual.length).toBe(expected.length);
  let worst = 0;
  for (let i = 0; i < actual.length; i++) worst = Math.max(worst, Number.isNaN(actual[i]) ? Infinity : Math.abs(actual[i] - expected[i]));
  return worst;
}

function relativeDiff(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  const scale = Math.max(...Array.from(expected, Math.abs));
  return maxAbsDiff(actual, expected) / (scale || 1);
}

// ---------------------------------------------------------------------------------------------------
// erf

/** erf in float64 by its everywhere-positive series (A&S 7.1.6): no cancellation, exact to ~1e-15. */
function erf64(x: number): number {
  if (Math.abs(x) > 6) return Math.sign(x); // erfc(6) = 2e-17
  let term = x;
  let sum = x;
  for (let n = 1; Math.abs(term) > 1e-17 * Math.abs(sum); n++) {
    term *= (2 * x * x) / (2 * n + 1);
    sum += term;
  }
  return (2 / Math.sqrt(Math.PI)) * Math.exp(-x * x) * sum;
}

describe('Erf', () => {
  it('has a float64 reference that matches published values', () => {
    // A&S Table 7.1 and Wolfram: erf(0.5), erf(1), erf(2), erf(3.5).
    expect(erf64(0.5)).toBeCloseTo(0.5204998778130465, 14);
    expect(erf64(1)).toBeCloseTo(0.8427007929497149, 14);
    expect(erf64(2)).toBeCloseTo(0.9953222650189527, 14);
    expect(erf64(-3.5)).toBeCloseTo(-0.9999992569016276, 14);
  });

  it('is within 2e-7 of float64 erf on [-7, 7], and relatively accurate near 0', async () => {
    const dense = Array.from({ length: 1 << 17 }, (_, i) => -7 + (14 * i) / ((1 << 17) - 1));
    const tiny = Array.from({ length: 60 }, (_, i) => 10 ** (-30 + i / 2)).flatMap((v) => [v, -v]);
    const edges = [0, 1, -1, Math.fround(1 - 2 ** -24), 4, -4, 3.9999, 10, -10, 1e30, -1e30];
    const x = Float32Array.from([...dense, ...tiny, ...edges]);
    const y = await withModel({ inputs: { x: [x.length] }, nodes: [{ op: 'Erf', inputs: ['x'] }] }, async (m) => (await m.run(tensor([x.length], x))).get('y')!);
    const exact = Array.from(x, erf64);
    const absolute = maxAbsDiff(y.data, exact);
    let relativeNearZero = 0;
    x.forEach((v, i) => {
      if (v !== 0 && Math.abs(v) < 1) relativeNearZero = Math.max(relativeNearZero, Math.abs(y.data[i] - exact[i]) / Math.abs(exact[i]));
    });
    console.log(`erf: max absolute error ${absolute.toExponential(2)}, max relative error on |x| < 1 ${relativeNearZero.toExponential(2)}`);
    expect(absolute).toBeLessThan(2e-7);
    expect(relativeNearZero).toBeLessThan(3e-7);
  });
});

// ---------------------------------------------------------------------------------------------------
// Broadcasting

/** numpy's broadcast of two shapes. */
function broadcast(a: number[], b: number[]): number[] {
  const rank = Math.max(a.length, b.length);
  return Array.from({ length: rank }, (_, d) => {
    const da = a[a.length - rank + d] ?? 1;
    const db = b[b.length - rank + d] ?? 1;
    return da === 1 ? db : da;
  });
}

/** For each output element, the flat index it reads in an operand of shape `s`. */
function sourceIndex(out: number[], s: number[]): number[] {
  const count = out.reduce((p, d) => p * d, 1);
  const padded = [...new Array<number>(out.length - s.length).fill(1), ...s];
  return Array.from({ length: count }, (_, flat) => {
    let rest = flat;
    let index = 0;
    let stride = 1;
    for (let d = out.length - 1; d >= 0; d--) {
      const coord = rest % out[d];
      rest = Math.floor(rest / out[d]);
      if (padded[d] !== 1) index += coord * stride;
      stride *= padded[d];
    }
    return index;
  });
}

const BINARY64: Record<string, { f: (a: number, b: number) => number; da: (a: number, b: number) => number; db: (a: number, b: number) => number }> = {
  Add: { f: (a, b) => a + b, da: () => 1, db: () => 1 },
  Sub: { f: (a, b) => a - b, da: () => 1, db: () => -1 },
  Mul: { f: (a, b) => a * b, da: (_, b) => b, db: (a) => a },
  Div: { f: (a, b) => a / b, da: (_, b) => 1 / b, db: (a, b) => -a / (b * b) },
};

/** A shape of rank `rank`, its dims drawn from 2..3 with some set to 1 (broadcast). */
function randomShape(rank: number, seed: number, out: number[]): number[] {
  const coin = uniform(rank, seed, 0, 1);
  return out.slice(out.length - rank).map((d, i) => (coin[i] < 0.4 ? 1 : d));
}

describe('binary ops broadcast between every pair of ranks 0..6', () => {
  const ops = Object.keys(BINARY64);
  for (let ra = 0; ra <= 6; ra++) {
    for (let rb = 0; rb <= 6; rb++) {
      const op = ops[(ra * 7 + rb) % ops.length];
      it(`${op}: rank ${ra} with rank ${rb}`, async () => {
        const full = uniform(Math.max(ra, rb), ra * 31 + rb, 2, 4).map(Math.floor);
        const aShape = randomShape(ra, 100 + ra * 7 + rb, full);
        const bShape = randomShape(rb, 200 + ra * 7 + rb, full);
        const out = broadcast(aShape, bShape);
        const count = (s: number[]) => s.reduce((p, d) => p * d, 1);
        const a = Float32Array.from(uniform(count(aShape), 1 + ra));
        // Divisors away from 0: |b| in [0.5, 2].
        const b = Float32Array.from(uniform(count(bShape), 2 + rb).map((v) => (op === 'Div' ? Math.sign(v) * (0.5 + Math.abs(v) * 0.75) : v)));
        const gy = Float32Array.from(uniform(count(out), 3 + ra + rb));

        const ia = sourceIndex(out, aShape);
        const ib = sourceIndex(out, bShape);
        const ref = BINARY64[op];
        const y64 = ia.map((_, k) => ref.f(a[ia[k]], b[ib[k]]));
        const da64 = new Float64Array(a.length);
        const db64 = new Float64Array(b.length);
        ia.forEach((_, k) => {
          da64[ia[k]] += gy[k] * ref.da(a[ia[k]], b[ib[k]]);
          db64[ib[k]] += gy[k] * ref.db(a[ia[k]], b[ib[k]]);
        });

        await withModel({ inputs: { a: aShape, b: bShape }, nodes: [{ op, inputs: ['a', 'b'] }] }, async (m) => {
          const inputs = new Map([
            ['a', tensor(aShape, a)],
            ['b', tensor(bShape, b)],
          ]);
          const y = (await m.run(inputs)).get('y')!;
          expect(y.shape).toEqual(out);
          expect(relativeDiff(y.data, y64)).toBeLessThan(1e-6);
          const grads = await m.gradients(inputs, 'y', tensor(out, gy), ['a', 'b']);
          expect(relativeDiff(grads.get('a')!.data, da64), 'gradient of a').toBeLessThan(1e-5);
          expect(relativeDiff(grads.get('b')!.data, db64), 'gradient of b').toBeLessThan(1e-5);
        });
      });
    }
  }

  // Broadcasting kernels compute runs of 8 along the last merged dim: rows of 35 (four runs and a
  // partial one), 9, 16 (whole runs) and 3 (one partial run), each operand broadcast somewhere.
  const RUN_CASES: [string, number[], number[]][] = [
    ['Mul', [2, 3, 5, 7], [1, 3, 1, 1]],
    ['Add', [2, 3, 5, 7], [2, 1, 5, 7]],
    ['Div', [4, 9], [9]],
    ['Sub', [3, 16], [3, 1]],
    ['Mul', [2, 1, 3], [2, 5, 1]],
  ];
  for (const [op, aShape, bShape] of RUN_CASES) {
    it(`${op}: [${aShape}] with [${bShape}], runs along the last dim`, async () => {
      const out = broadcast(aShape, bShape);
      const count = (s: number[]) => s.reduce((p, d) => p * d, 1);
      const a = Float32Array.from(uniform(count(aShape), 7));
      const b = Float32Array.from(uniform(count(bShape), 8).map((v) => Math.sign(v) * (0.5 + Math.abs(v) * 0.75)));
      const ia = sourceIndex(out, aShape);
      const ib = sourceIndex(out, bShape);
      const y64 = ia.map((_, k) => BINARY64[op].f(a[ia[k]], b[ib[k]]));
      await withModel({ inputs: { a: aShape, b: bShape }, nodes: [{ op, inputs: ['a', 'b'] }] }, async (m) => {
        const y = (await m.run(new Map([['a', tensor(aShape, a)], ['b', tensor(bShape, b)]]))).get('y')!;
        expect(y.shape).toEqual(out);
        expect(relativeDiff(y.data, y64)).toBeLessThan(1e-6);
      });
    });
  }

  it('keeps infinities: with nothing fused no clamp hides them from the finite check', async () => {
    await withModel({ inputs: { a: [2, 3], b: [3] }, nodes: [{ op: 'Div', inputs: ['a', 'b'] }] }, async (m) => {
      const inputs = new Map([
        ['a', tensor([2, 3], [1, -1, 2, 2, -2, 3])],
        ['b', tensor([3], [0, 0, 1])],
      ]);
      await expect(m.run(inputs)).rejects.toThrow(/the first node whose output is not finite is Div node "div0"/);
    });
  });

  it('rejects shapes that do not broadcast, naming the node', async () => {
    await withModel({ inputs: { a: [2, 3], b: [4] }, nodes: [{ op: 'Add', inputs: ['a', 'b'] }] }, async (m) => {
      const inputs = new Map([
        ['a', tensor([2, 3], new Float32Array(6))],
        ['b', tensor([4], new Float32Array(4))],
      ]);
      await expect(m.run(inputs)).rejects.toThrow(/Add node "add0": cannot broadcast \[2, 3\] with \[4\]/);
    });
  });
});

// ---------------------------------------------------------------------------------------------------
// Gradients with several contributions

describe('gradients that several consumers add into', () => {
  it('sums the contributions of activations, a view, x * x and a broadcast operand', async () => {
    // y = (sigmoid(x) + tanh(x)) + (identity(x) + x * x) + (x * z + (z - x)), x [2,3,4], z [2,3,1]
    const spec: GraphSpec = {
      inputs: { x: [2, 3, 4], z: [2, 3, 1] },
      nodes: [
        { op: 'Sigmoid', inputs: ['x'], outputs: ['s'] },
        { op: 'Tanh', inputs: ['x'], outputs: ['t'] },
        { op: 'Identity', inputs: ['x'], outputs: ['i'] },
        { op: 'Mul', inputs: ['x', 'x'], outputs: ['sq'] },
        { op: 'Mul', inputs: ['x', 'z'], outputs: ['xz'] },
        { op: 'Sub', inputs: ['z', 'x'], outputs: ['zx'] },
        { op: 'Add', inputs: ['s', 't'], outputs: ['st'] },
        { op: 'Add', inputs: ['i', 'sq'], outputs: ['isq'] },
        { op: 'Add', inputs: ['xz', 'zx'], outputs: ['p'] },
        { op: 'Add', inputs: ['st', 'isq'], outputs: ['q'] },
        { op: 'Add', inputs: ['q', 'p'] },
      ],
    };
    const x = Float32Array.from(uniform(24, 11));
    const z = Float32Array.from(uniform(6, 12));
    const gy = Float32Array.from(uniform(24, 13));
    const dx64 = Array.from(x, (v, k) => {
      const s = 1 / (1 + Math.exp(-v));
      const zk = z[Math.floor(k / 4)];
      return gy[k] * (s * (1 - s) + (1 - Math.tanh(v) ** 2) + 1 + 2 * v + zk - 1);
    });
    const dz64 = Array.from(z, (_, j) => [0, 1, 2, 3].reduce((sum, w) => sum + gy[j * 4 + w] * (x[j * 4 + w] + 1), 0));

    await withModel(spec, async (m) => {
      const inputs = new Map([
        ['x', tensor([2, 3, 4], x)],
        ['z', tensor([2, 3, 1], z)],
      ]);
      const grads = await m.gradients(inputs, 'y', tensor([2, 3, 4], gy), ['x', 'z']);
      expect(relativeDiff(grads.get('x')!.data, dx64)).toBeLessThan(1e-5);
      expect(relativeDiff(grads.get('z')!.data, dz64)).toBeLessThan(1e-5);
    });
  });
});

// ---------------------------------------------------------------------------------------------------
// Activations at the edges

describe('activations', () => {
  const x = [-1e30, -100, -20, -9, -3, -0.5, 0, 0.5, 3, 9, 20, 100, 1e30];
  const cases: [string, (v: number) => number, Record<string, number>?][] = [
    ['Sigmoid', (v) => 1 / (1 + Math.exp(-v))],
    ['Tanh', Math.tanh],
    ['Relu', (v) => Math.max(v, 0)],
    ['LeakyRelu', (v) => (v >= 0 ? v : 0.25 * v), { alpha: 0.25 }],
    ['HardSigmoid', (v) => Math.min(Math.max(0.1 * v + 0.6, 0), 1), { alpha: 0.1, beta: 0.6 }],
    ['HardSwish', (v) => v * Math.min(Math.max(v / 6 + 0.5, 0), 1)],
  ];
  for (const [op, f, attributes] of cases) {
    it(`${op} stays finite and exact for saturating inputs`, async () => {
      const y = await withModel({ inputs: { x: [x.length] }, nodes: [{ op, inputs: ['x'], attributes }], opset: 14 }, async (m) =>
        (await m.run(tensor([x.length], x))).get('y')!,
      );
      x.forEach((v, i) => expect(y.data[i], `${op}(${v})`).toBeCloseTo(Math.fround(f(v)) || 0, 6));
    });
  }

  it('Clip without bounds passes everything; with min > max it gives max (ONNX)', async () => {
    const values = [-1e30, -2, 0.25, 2, 1e30];
    const unbounded = await withModel({ inputs: { x: [5] }, nodes: [{ op: 'Clip', inputs: ['x'] }] }, async (m) => (await m.run(tensor([5], values))).get('y')!);
    expect(Array.from(unbounded.data)).toEqual(values.map(Math.fround));
    const crossed = await withModel(
      {
        inputs: { x: [5] },
        nodes: [{ op: 'Clip', inputs: ['x', 'lo', 'hi'] }],
        initializers: { lo: { shape: [], data: [1] }, hi: { shape: [], data: [-1] } },
      },
      async (m) => (await m.run(tensor([5], values))).get('y')!,
    );
    expect(Array.from(crossed.data)).toEqual([-1, -1, -1, -1, -1]);
  });

  it('Clip rejects a bound computed at run time, naming the node', async () => {
    await withModel({ inputs: { x: [4], lo: [] }, nodes: [{ op: 'Clip', inputs: ['x', 'lo'] }] }, async (m) => {
      const inputs = new Map([
        ['x', tensor([4], [1, 2, 3, 4])],
        ['lo', tensor([], [0])],
      ]);
      await expect(m.run(inputs)).rejects.toThrow(/Clip node "clip0": the min bound "lo" must be a constant/);
    });
  });

  it('Dropout in training mode is rejected', async () => {
    const spec: GraphSpec = {
      inputs: { x: [4] },
      nodes: [{ op: 'Dropout', inputs: ['x', 'ratio', 'training'] }],
      initializers: { ratio: { shape: [], data: [0.5] }, training: { shape: [], data: [1], type: 'bool' } },
    };
    await withModel(spec, async (m) => {
      await expect(m.run(tensor([4], [1, 2, 3, 4]))).rejects.toThrow(/Dropout node "dropout0": training_mode is true/);
    });
  });
});

// ---------------------------------------------------------------------------------------------------
// Pow

describe('Pow', () => {
  const x = uniform(40, 21, -2, 2).map((v) => (Math.abs(v) < 0.2 ? v + 0.5 : v));
  // Whole exponents take any base (LayerNorm squares x - mean); fractional ones positive bases.
  for (const exponent of [2, 3, -2, 0, 0.5, -1.5]) {
    it(`x ^ ${exponent} and its gradient`, async () => {
      const base = Number.isInteger(exponent) ? x : x.map(Math.abs);
      const gy = uniform(40, 22);
      const spec: GraphSpec = { inputs: { x: [40] }, nodes: [{ op: 'Pow', inputs: ['x', 'e'] }], initializers: { e: { shape: [], data: [exponent] } } };
      await withModel(spec, async (m) => {
        const input = tensor([40], base);
        const y = (await m.run(input)).get('y')!;
        const xs = Array.from(input.data);
        expect(relativeDiff(y.data, xs.map((v) => v ** exponent))).toBeLessThan(1e-6);
        const dx = (await m.gradients(input, 'y', tensor([40], gy), ['x'])).get('x')!;
        expect(relativeDiff(dx.data, xs.map((v, i) => gy[i] * exponent * v ** (exponent - 1)))).toBeLessThan(1e-6);
      });
    });
  }

  it('refuses to back-propagate into the exponent', async () => {
    await withModel({ inputs: { x: [3], e: [3] }, nodes: [{ op: 'Pow', inputs: ['x', 'e'] }] }, async (m) => {
      const inputs = new Map([
        ['x', tensor([3], [1, 2, 3])],
        ['e', tensor([3], [2, 2, 2])],
      ]);
      await expect(m.gradients(inputs, 'y', tensor([3], [1, 1, 1]), ['e'])).rejects.toThrow(/Pow node "pow0": the gradient would flow into the exponent "e"/);
    });
  });
});
