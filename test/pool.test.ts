// Pooling, reduction and normalization cases the generated op fixtures do not show: PyTorch's tie rule
// for max pooling, ceil_mode edge windows, reductions over non-adjacent axes, and the attributes the
// engine rejects.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UserError } from '../src/errors.js';
import { loadOnnxFile } from '../src/onnx/load.js';
import { optimizeGraph } from '../src/ops/optimize.js';
import { Model, type Tensor } from '../src/runtime/model.js';
import { type AttributeSpec, floats, onnxOf } from './support/model-spec.js';
import { FIXTURES, readReference, readTensor, relativeError } from './support/fixtures.js';
import { useGpu } from './support/gpu.js';
import { runGraph } from './support/plan-runner.js';

const gpu = useGpu();

function singleNode(opType: string, shape: number[], attributes: Record<string, AttributeSpec>, opset = 13, outputs = ['y']): Model {
  return Model.fromBytes(gpu(), onnxOf({ nodes: [{ op: opType, inputs: ['x'], outputs, attributes, name: `${opType}_0` }], inputs: { x: shape }, outputs: ['y'], opset }));
}

/** y and the gradient of sum(gy * y) with respect to x. */
async function forwardBackward(model: Model, x: Tensor, gy?: (count: number) => number[]): Promise<{ y: Tensor; dx: Tensor }> {
  try {
    const y = (await model.run(x)).get('y')!;
    const seed = gy ? Float32Array.from(gy(y.data.length)) : new Float32Array(y.data.length).fill(1);
    const dx = (await model.gradients(x, 'y', { shape: y.shape, data: seed }, ['x'])).get('x')!;
    return { y, dx };
  } finally {
    model.dispose();
  }
}

const tensor = (shape: number[], values: (i: number) => number): Tensor => {
  const count = shape.reduce((a, b) => a * b, 1);
  return { shape, data: Float32Array.from({ length: count }, (_, i) => values(i)) };
};
const fractions = (list: string) =>
  list.split(' ').map((f) => {
    const [numerator, denominator = '1'] = f.split('/');
    return Number(numerator) / Number(denominator);
  });
const ramp = (count: number) => Array.from({ length: count }, (_, i) => i + 1);

describe('MaxPool', () => {
  it('sends the gradient of a tied window to its first maximum in scan order (PyTorch)', async () => {
    // All inputs equal: every 3x3 window (pad 1) is a tie, won by its top-left position inside the input.
    const { y, dx } = await forwardBackward(singleNode('MaxPool', [1, 1, 4, 4], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }), tensor([1, 1, 4, 4], () => 1), ramp);
    expect([...y.data]).toEqual(new Array(16).fill(1));
    const want = new Array(16).fill(0);
    for (let oh = 0; oh < 4; oh++) for (let ow = 0; ow < 4; ow++) want[Math.max(oh - 1, 0) * 4 + Math.max(ow - 1, 0)] += oh * 4 + ow + 1;
    expect([...dx.data]).toEqual(want);
  });

  it('breaks a tie between later positions by scan order too', async () => {
    const { dx } = await forwardBackward(singleNode('MaxPool', [1, 1, 2, 2], { kernel_shape: [2, 2] }), { shape: [1, 1, 2, 2], data: Float32Array.from([2, 5, 5, 1]) });
    expect([...dx.data]).toEqual([0, 1, 0, 0]);
  });

  it('GlobalMaxPool sends a tied plane gradient to its first element', async () => {
    const { dx } = await forwardBackward(singleNode('GlobalMaxPool', [1, 2, 3, 3], {}), tensor([1, 2, 3, 3], () => 3), () => [2, 5]);
    expect([...dx.data]).toEqual([2, 0, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0]);
  });

  it('with ceil_mode drops a last window that would start inside the end padding', async () => {
    // 3 + 2*1 padding, kernel 2, stride 2: ceil gives 3 windows, but the third would start at padded row 4.
    const { y, dx } = await forwardBackward(singleNode('MaxPool', [1, 1, 3, 3], { kernel_shape: [2, 2], strides: [2, 2], pads: [1, 1, 1, 1], ceil_mode: 1 }), tensor([1, 1, 3, 3], (i) => i));
    expect(y.shape).toEqual([1, 1, 2, 2]);
    expect([...y.data]).toEqual([0, 2, 6, 8]);
    expect([...dx.data]).toEqual([1, 0, 1, 0, 0, 0, 1, 0, 1]);
  });

  it('rejects the Indices output by name', async () => {
    const model = singleNode('MaxPool', [1, 1, 4, 4], { kernel_shape: [2, 2] }, 13, ['y', 'indices']);
    try {
      const run = model.run(tensor([1, 1, 4, 4], (i) => i));
      await expect(run).rejects.toThrow(UserError);
      await expect(run).rejects.toThrow(/MaxPool node "MaxPool_0": the Indices output \("indices"\) is not supported/);
    } finally {
      model.dispose();
    }
  });
});

describe('Pad', () => {
  it('of zeros (torch exports one before AveragePool) is a view: no dispatch, the float64 output and gradient', async () => {
    const dir = join(FIXTURES, 'ops', 'avgpool_2x2_s2');
    const graph = optimizeGraph(loadOnnxFile(join(dir, 'model.onnx')));
    expect(graph.nodes.map((n) => n.opType)).toContain('Pad');
    const x = readTensor(join(dir, 'x0.npy')).data;
    const gy = readTensor(join(dir, 'gy.npy')).data;
    const run = await runGraph(gpu(), graph, { x0: x }, { seed: gy, gradientsTo: ['x0'] });
    expect(run.dispatches.filter((d) => d.program.kernel.name === 'pad')).toHaveLength(0);
    // The fixture's float64 references: one average of 4 float32 values, and dy / 4.
    expect(relativeError(run.y, readReference(join(dir, 'y.npy')))).toBeLessThan(1e-6);
    expect(relativeError(run.grads.get('x0')!, readReference(join(dir, 'gx0.npy')))).toBeLessThan(1e-6);
  });
});

describe('AveragePool with ceil_mode (references from PyTorch 1.13, float64)', () => {
  const attributes = { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], ceil_mode: 1 };
  const x = tensor([1, 1, 6, 6], (i) => i);

  it('count_include_pad=1 clips the last window at the end padding when dividing', async () => {
    // The last row and column of windows cover padded rows 5..7 of a 6 + 1 + 1 input: 2 of their 3 taps count.
    const { y, dx } = await forwardBackward(singleNode('AveragePool', [1, 1, 6, 6], { ...attributes, count_include_pad: 1 }), x);
    expect(maxDiff(y.data, fractions('14/9 10/3 14/3 8/3 25/3 14 16 17/2 49/3 26 28 29/2 61/6 16 17 35/4'))).toBeLessThan(1e-5);
    const grad = fractions(
      '1/9 2/9 1/9 2/9 1/9 5/18 2/9 4/9 2/9 4/9 2/9 5/9 1/9 2/9 1/9 2/9 1/9 5/18 2/9 4/9 2/9 4/9 2/9 5/9 1/9 2/9 1/9 2/9 1/9 5/18 5/18 5/9 5/18 5/9 5/18 25/36',
    );
    expect(maxDiff(dx.data, grad)).toBeLessThan(1e-6);
  });

  it('count_include_pad=0 divides by the real elements of each window', async () => {
    const { y } = await forwardBackward(singleNode('AveragePool', [1, 1, 6, 6], attributes), x);
    expect(maxDiff(y.data, [3.5, 5, 7, 8, 12.5, 14, 16, 17, 24.5, 26, 28, 29, 30.5, 32, 34, 35])).toBeLessThan(1e-5);
  });
});

describe('ReduceMean', () => {
  it('reduces non-adjacent axes and broadcasts dy / count back', async () => {
    const shape = [2, 3, 2, 4, 3];
    const x = tensor(shape, (i) => Math.sin(i * 0.7) * 3);
    const { y, dx } = await forwardBackward(singleNode('ReduceMean', shape, { axes: [1, -2], keepdims: 0 }), x, ramp);
    expect(y.shape).toEqual([2, 2, 3]);
    const want = new Array(12).fill(0);
    const wantDx: number[] = [];
    x.data.forEach((v, i) => {
      const [n, , h, , w] = coordinates(i, shape);
      const out = (n * 2 + h) * 3 + w;
      want[out] += v / 12;
      wantDx.push((out + 1) / 12);
    });
    expect(maxDiff(y.data, want)).toBeLessThan(1e-5);
    expect(maxDiff(dx.data, wantDx)).toBeLessThan(1e-6);
  });
});

describe('BatchNormalization', () => {
  const params = { scale: [1.5, 0.5], B: [0.1, -0.2], mean: [0.3, -0.1], var: [2, 0.5] };
  const bnModel = (opset: number, attributes: Record<string, AttributeSpec>) =>
    Model.fromBytes(
      gpu(),
      onnxOf({
        nodes: [{ op: 'BatchNormalization', inputs: ['x', 'scale', 'B', 'mean', 'var'], outputs: ['y'], attributes }],
        inputs: { x: [1, 2, 2, 2] },
        outputs: ['y'],
        initializers: Object.fromEntries(Object.entries(params).map(([k, data]) => [k, floats([2], data)])),
        opset,
      }),
    );

  it.each([
    [7, { spatial: 0 }, /spatial=0/],
    [14, { training_mode: 1 }, /training_mode=1/],
  ])('opset %i rejects %o', async (opset, attributes, message) => {
    const model = bnModel(opset, attributes);
    try {
      await expect(model.run(tensor([1, 2, 2, 2], (i) => i))).rejects.toThrow(message);
    } finally {
      model.dispose();
    }
  });

  it('opset 7 spatial=1 scales dy by scale / sqrt(var + epsilon)', async () => {
    const { y, dx } = await forwardBackward(bnModel(7, { spatial: 1, epsilon: { float: 0.25 } }), tensor([1, 2, 2, 2], (i) => i), ramp);
    const gain = [1.5 / Math.sqrt(2.25), 0.5 / Math.sqrt(0.75)];
    const c = (i: number) => (i < 4 ? 0 : 1);
    expect(maxDiff(y.data, ramp(8).map((_, i) => (i - params.mean[c(i)]) * gain[c(i)] + params.B[c(i)]))).toBeLessThan(1e-6);
    expect(maxDiff(dx.data, ramp(8).map((g, i) => g * gain[c(i)]))).toBeLessThan(1e-6);
  });
});

function coordinates(index: number, shape: number[]): number[] {
  const coords: number[] = [];
  for (let d = shape.length - 1; d >= 0; d--) {
    coords[d] = index % shape[d];
    index = Math.floor(index / shape[d]);
  }
  return coords;
}

function maxDiff(actual: ArrayLike<number>, expected: number[]): number {
  expect(actual.length).toBe(expected.length);
  let diff = 0;
  for (let i = 0; i < expected.length; i++) diff = Math.max(diff, Math.abs(actual[i] - expected[i]));
  return diff;
}
