// Activations fused into the write of the Conv that produces their input (src/plan/fusion.ts): on every
// conv path (depthwise, Winograd, pointwise GEMM, implicit-GEMM im2col) and both GEMM variants, ReLU,
// Clip, HardSwish and SiLU (Sigmoid and Mul) run in the conv's dispatch and match a float64 conv
// followed by the activation; the activation runs on its own where a backward pass or the caller needs
// the conv's output; the builder refuses a backward pass it was not told of before the forward pass.
// BatchNormalization that cannot fold into a conv (densenet's BN -> ReLU -> Conv) and the broadcasting
// binary ops (resnet's residual Add -> ReLU) fuse the same way.
import { describe, expect, it } from 'vitest';
import type { Shape } from '../src/graph/ir.js';
import { inferShapes } from '../src/ops/infer.js';
import { PlanBuilder } from '../src/plan/builder.js';
import { relativeError } from './support/fixtures.js';
import { useGpu } from './support/gpu.js';
import { floats, type GraphSpec, graphOf, type InitializerSpec } from './support/model-spec.js';
import { deviceTraits, exactGradient, randomData, reference, runGraph } from './support/plan-runner.js';

const gpu = useGpu();
// A float32 sum of at most 72 products (3x3 over 8 channels) rounds by at most 72 * 2^-24 = 4.3e-6 of
// the largest |product| sum; Winograd's transforms and the activations (exp) add a few roundings more.
const TOLERANCE = 1e-5;

interface ConvCase {
  path: string;
  x: Shape;
  w: Shape;
  stride: number;
  pad: number;
  groups: number;
  /** The dispatch that writes the output, on a CPU adapter and on a GPU (the tiled GEMM). */
  kernel: { cpu: string; gpu: string };
}

const CASES: ConvCase[] = [
  { path: 'depthwise', x: [1, 4, 9, 7], w: [4, 1, 3, 3], stride: 1, pad: 1, groups: 4, kernel: { cpu: 'depthwise_conv2d', gpu: 'depthwise_conv2d' } },
  { path: 'Winograd', x: [1, 8, 9, 7], w: [6, 8, 3, 3], stride: 1, pad: 1, groups: 1, kernel: { cpu: 'winograd_output', gpu: 'winograd_output' } },
  { path: 'pointwise GEMM', x: [2, 8, 5, 6], w: [6, 8, 1, 1], stride: 1, pad: 0, groups: 1, kernel: { cpu: 'matmul+gemm_registers_narrow', gpu: 'matmul+gemm_tiled_short' } },
  { path: 'implicit GEMM (3x3/2)', x: [1, 8, 9, 7], w: [6, 8, 3, 3], stride: 2, pad: 1, groups: 1, kernel: { cpu: 'conv2d+gemm_registers_narrow', gpu: 'conv2d+gemm_tiled_short' } },
];

/** Conv with bias in float64. */
function convReference(x: Float64Array, w: Float64Array, bias: Float64Array, c: ConvCase): { y: Float64Array; shape: Shape } {
  const [n, inC, inH, inW] = c.x;
  const [outC, perGroup, kH, kW] = c.w;
  const outH = Math.floor((inH + 2 * c.pad - kH) / c.stride) + 1;
  const outW = Math.floor((inW + 2 * c.pad - kW) / c.stride) + 1;
  const y = new Float64Array(n * outC * outH * outW);
  for (let b = 0; b < n; b++) {
    for (let o = 0; o < outC; o++) {
      const group = Math.floor(o / (outC / c.groups));
      for (let oh = 0; oh < outH; oh++) {
        for (let ow = 0; ow < outW; ow++) {
          let sum = bias[o];
          for (let i = 0; i < perGroup; i++) {
            const ic = group * perGroup + i;
            for (let kh = 0; kh < kH; kh++) {
              for (let kw = 0; kw < kW; kw++) {
                const ih = oh * c.stride + kh - c.pad;
                const iw = ow * c.stride + kw - c.pad;
                if (ih < 0 || iw < 0 || ih >= inH || iw >= inW) continue;
                sum += w[((o * perGroup + i) * kH + kh) * kW + kw] * x[((b * inC + ic) * inH + ih) * inW + iw];
              }
            }
          }
          y[((b * outC + o) * outH + oh) * outW + ow] = sum;
        }
      }
    }
  }
  return { y, shape: [n, outC, outH, outW] };
}

type Activation = { op: 'Relu' } | { op: 'Clip'; min: number; max: number } | { op: 'HardSwish' } | { op: 'SiLU' };

/** The activation in float64. */
function activate(a: Activation, v: number): number {
  switch (a.op) {
    case 'Relu':
      return Math.max(v, 0);
    case 'Clip':
      return Math.min(Math.max(v, a.min), a.max);
    case 'HardSwish':
      return v * Math.min(Math.max(v / 6 + 0.5, 0), 1);
    case 'SiLU':
      return v / (1 + Math.exp(-v));
  }
}

/** The activation's nodes as PyTorch exports them, reading z and writing y. */
function activationNodes(a: Activation): GraphSpec['nodes'] {
  if (a.op === 'SiLU') return [{ op: 'Sigmoid', inputs: ['z'], outputs: ['s'] }, { op: 'Mul', inputs: ['z', 's'], outputs: ['y'] }];
  return [{ op: a.op, inputs: a.op === 'Clip' ? ['z', 'lo', 'hi'] : ['z'], outputs: ['y'] }];
}

function specOf(c: ConvCase, activation: Activation, extra: Partial<GraphSpec> = {}): { spec: GraphSpec; w: Float32Array; bias: Float32Array } {
  const w = randomData(c.w.reduce((p, d) => p * d, 1), 11);
  const bias = randomData(c.w[0], 12);
  const clip: Record<string, InitializerSpec> = activation.op === 'Clip' ? { lo: floats([], [activation.min]), hi: floats([], [activation.max]) } : {};
  const spec: GraphSpec = {
    inputs: { x: c.x },
    nodes: [
      { op: 'Conv', inputs: ['x', 'w', 'bias'], outputs: ['z'], attributes: { strides: [c.stride, c.stride], pads: [c.pad, c.pad, c.pad, c.pad], group: c.groups } },
      ...activationNodes(activation),
    ],
    initializers: { w: floats(c.w, w), bias: floats([c.w[0]], bias), ...clip },
    opset: 14,
    ...extra,
  };
  return { spec, w, bias };
}

const ACTIVATIONS: Activation[] = [{ op: 'Relu' }, { op: 'Clip', min: -0.2, max: 0.3 }, { op: 'HardSwish' }, { op: 'SiLU' }];
/** The fused dispatch's label: the conv and the activation's nodes (model-spec names them op + index). */
const fusedLabel = (a: Activation) =>
  ['Conv node "conv0"', ...activationNodes(a).map((n, i) => `${n.op} node "${n.op.toLowerCase()}${i + 1}"`)].join(' with ');
const cpu = () => deviceTraits(gpu(), { isCpu: true });
const ADAPTERS = { cpu: true, gpu: false } as const;

describe('activations fused into the conv that produces their input', () => {
  for (const c of CASES) {
    for (const [adapter, isCpu] of Object.entries(ADAPTERS) as [keyof typeof ADAPTERS, boolean][]) {
      for (const activation of ACTIVATIONS) {
        it(`${c.path} + ${activation.op}, ${adapter} variant: one dispatch of ${c.kernel[adapter]} writes the clamped conv`, async () => {
          const { spec, w, bias } = specOf(c, activation);
          const x = randomData(c.x.reduce((p, d) => p * d, 1), 13);
          const run = await runGraph(gpu(), graphOf(spec), { x }, { traits: deviceTraits(gpu(), { isCpu }) });
          expect(run.dispatches.some((d) => ['unary', 'binary'].includes(d.program.kernel.name))).toBe(false);
          const fused = run.dispatches.find((d) => d.program.kernel.name === c.kernel[adapter]);
          expect(fused?.label).toBe(fusedLabel(activation));
          const z = convReference(Float64Array.from(x), Float64Array.from(w), Float64Array.from(bias), c);
          expect(relativeError(run.y, reference(z.shape, z.y.map((v) => activate(activation, v))))).toBeLessThan(TOLERANCE);
        });
      }
    }
  }

  it('Clip with min above max stores max everywhere, as the unfused Clip does', async () => {
    const c = CASES[1];
    const { spec } = specOf(c, { op: 'Clip', min: 0.5, max: -0.25 });
    const run = await runGraph(gpu(), graphOf(spec), { x: randomData(c.x.reduce((p, d) => p * d, 1), 14) }, { traits: cpu() });
    expect(run.dispatches.some((d) => d.program.kernel.name === 'unary')).toBe(false);
    expect(new Set(run.y)).toEqual(new Set([-0.25]));
  });

  for (const c of [CASES[0], CASES[3]]) {
    it(`${c.path}: a backward pass through the ReLU keeps it apart, and its gradient is exact`, async () => {
      const { spec, w, bias } = specOf(c, { op: 'Relu' });
      const x = randomData(c.x.reduce((p, d) => p * d, 1), 15);
      const z = convReference(Float64Array.from(x), Float64Array.from(w), Float64Array.from(bias), c);
      const gy = randomData(z.y.length, 16);
      const run = await runGraph(gpu(), graphOf(spec), { x }, { traits: cpu(), seed: gy, gradientsTo: ['x'] });
      expect(run.dispatches.filter((d) => d.program.kernel.name === 'unary')).toHaveLength(1);
      // Linear in x with the ReLU's decisions of the float64 forward pass: central differences are exact.
      const open = z.y.map((v) => (v > 0 ? 1 : 0));
      const linear = ([xs]: Float64Array[]) => convReference(xs, Float64Array.from(w), Float64Array.from(bias), c).y.map((v, i) => v * open[i]);
      expect(relativeError(run.grads.get('x')!, reference(c.x, exactGradient(linear, [x], gy, 0)))).toBeLessThan(TOLERANCE);
    });
  }

  for (const activation of [{ op: 'Relu' }, { op: 'SiLU' }] as Activation[]) {
    it(`${activation.op}: does not fuse over a conv output that is kept or read once more`, async () => {
      const c = CASES[2];
      const kept = specOf(c, activation, { outputs: ['y', 'z'] }).spec;
      const twice = specOf(c, activation).spec;
      twice.nodes.push({ op: 'Add', inputs: ['y', 'z'], outputs: ['sum'] });
      twice.outputs = ['sum'];
      const x = randomData(c.x.reduce((p, d) => p * d, 1), 17);
      for (const spec of [kept, twice]) {
        const run = await runGraph(gpu(), graphOf(spec), { x }, { traits: cpu() });
        expect(run.dispatches.filter((d) => d.program.kernel.name === 'unary')).toHaveLength(1);
      }
    });
  }

  it('the builder refuses an unannounced backward pass and a fused-away tensor', () => {
    const graph = graphOf(specOf(CASES[2], { op: 'Relu' }).spec);
    const shaped = inferShapes(graph, new Map([['x', CASES[2].x]]));
    const b = new PlanBuilder(shaped, cpu());
    const y = b.value('y');
    expect(() => b.value('z')).toThrow(/"z" was fused into Relu node "relu1"; keep\(\) it/);
    expect(() => b.addBackward('y', y, ['x'])).toThrow(/addBackward from "y" was not announced with keepBackward\(\)/);
  });
});

/** BatchNormalization in float64 over [N, C, inner...]. */
function batchNormReference(x: ArrayLike<number>, shape: Shape, p: Record<'scale' | 'bias' | 'mean' | 'variance', Float32Array>, epsilon: number): Float64Array {
  const inner = shape.slice(2).reduce((a, d) => a * d, 1);
  return Float64Array.from(x as ArrayLike<number>, (v: number, i: number) => {
    const c = Math.floor(i / inner) % shape[1];
    return ((v - p.mean[c]) * p.scale[c]) / Math.sqrt(p.variance[c] + epsilon) + p.bias[c];
  });
}

describe('activations fused into a BatchNormalization that does not fold', () => {
  // Runs of 8 elements per channel plane: 63 positions end in a partial run; [3, 5] has one element per plane.
  const SHAPES: Shape[] = [[2, 5, 9, 7], [3, 5]];
  const EPSILON = 1e-3;
  const params = {
    scale: randomData(5, 21),
    bias: randomData(5, 22),
    mean: randomData(5, 23),
    variance: randomData(5, 24).map((v) => v + 1.5),
  };
  const specOf = (shape: Shape, activation?: Activation): GraphSpec => ({
    inputs: { x: shape },
    nodes: [
      { op: 'BatchNormalization', inputs: ['x', 'scale', 'bias', 'mean', 'variance'], outputs: [activation ? 'z' : 'y'], attributes: { epsilon: EPSILON } },
      ...(activation ? activationNodes(activation) : []),
    ],
    initializers: {
      ...Object.fromEntries(Object.entries(params).map(([k, v]) => [k, floats([5], v)])),
      ...(activation?.op === 'Clip' ? { lo: floats([], [activation.min]), hi: floats([], [activation.max]) } : {}),
    },
    opset: 14,
  });

  for (const shape of SHAPES) {
    for (const activation of ACTIVATIONS) {
      it(`[${shape}] + ${activation.op}: one batch_norm dispatch writes the activated normalization`, async () => {
        const x = randomData(shape.reduce((p, d) => p * d, 1), 25);
        const run = await runGraph(gpu(), graphOf(specOf(shape, activation)), { x }, { traits: cpu() });
        expect(run.dispatches.map((d) => d.program.kernel.name)).toEqual(['batch_norm']);
        const z = batchNormReference(x, shape, params, EPSILON);
        expect(relativeError(run.y, reference(shape, z.map((v) => activate(activation, v))))).toBeLessThan(TOLERANCE);
      });
    }

    it(`[${shape}]: the backward pass is dy times each channel's gain`, async () => {
      const x = randomData(shape.reduce((p, d) => p * d, 1), 26);
      const gy = randomData(x.length, 27);
      const run = await runGraph(gpu(), graphOf(specOf(shape)), { x }, { traits: cpu(), seed: gy, gradientsTo: ['x'] });
      expect(relativeError(run.y, reference(shape, batchNormReference(x, shape, params, EPSILON)))).toBeLessThan(TOLERANCE);
      const linear = ([xs]: Float64Array[]) => batchNormReference(xs, shape, params, EPSILON);
      expect(relativeError(run.grads.get('x')!, reference(shape, exactGradient(linear, [x], gy, 0)))).toBeLessThan(TOLERANCE);
    });
  }
});

describe('activations fused into a binary op', () => {
  // [2, 3, 5, 7] + [2, 3, 5, 7] runs unbroadcast (one dim after merging); + [1, 3, 1, 1] in runs of 8.
  for (const bShape of [[2, 3, 5, 7], [1, 3, 1, 1]] as Shape[]) {
    for (const activation of ACTIVATIONS) {
      it(`Add of [2,3,5,7] and [${bShape}] + ${activation.op}: one binary dispatch writes the activated sum`, async () => {
        const aShape: Shape = [2, 3, 5, 7];
        const spec: GraphSpec = {
          inputs: { a: aShape, b: bShape },
          nodes: [{ op: 'Add', inputs: ['a', 'b'], outputs: ['z'] }, ...activationNodes(activation)],
          initializers: activation.op === 'Clip' ? { lo: floats([], [activation.min]), hi: floats([], [activation.max]) } : {},
          opset: 14,
        };
        const a = randomData(210, 31);
        const b = randomData(bShape.reduce((p, d) => p * d, 1), 32);
        const run = await runGraph(gpu(), graphOf(spec), { a, b }, { traits: cpu() });
        expect(run.dispatches.map((d) => d.program.kernel.name)).toEqual(['binary']);
        const z = Array.from(a, (v, i) => v + (b.length === a.length ? b[i] : b[Math.floor(i / 35) % 3]));
        expect(relativeError(run.y, reference(aShape, z.map((v) => activate(activation, v))))).toBeLessThan(TOLERANCE);
      });
    }
  }
});
