// Layout ops beyond the op fixtures: a rank-6 transpose, Split with an output nothing uses (its slab of
// the gradient must be zero) and opset 18's num_outputs, Slice by attributes (opset 9) and with large
// negative steps, Pad in reflect and edge modes, cropping and by attributes, Squeeze/Unsqueeze in both
// opset forms, and gradients that several layout ops add into one tensor, in either order. References
// are float64, computed here; gradients by exact central differences of those references.
import { describe, expect, it } from 'vitest';
import type { Shape } from '../src/graph/ir.js';
import { relativeError } from './support/fixtures.js';
import { useGpu } from './support/gpu.js';
import { type AttributeSpec, floats, type GraphSpec, graphOf, int64s } from './support/model-spec.js';
import { coordsOf, exactGradient, randomData, reference, runGraph, stridesOf } from './support/plan-runner.js';

const gpu = useGpu();
const TOLERANCE = 1e-6;

const count = (s: Shape) => s.reduce((p, d) => p * d, 1);

/** y[c] = x[source(c)] over the coordinates of outShape, or `fill` where source gives null. */
function gather(x: Float64Array, xShape: Shape, outShape: Shape, source: (c: number[]) => number[] | null, fill = 0): Float64Array {
  const strides = stridesOf(xShape);
  return Float64Array.from({ length: count(outShape) }, (_, i) => {
    const from = source(coordsOf(i, outShape));
    return from ? x[from.reduce((s, c, d) => s + c * strides[d], 0)] : fill;
  });
}

/** Pad in numpy's terms: constant fills, reflect mirrors without the edge, edge repeats it. */
function padReference(x: Float64Array, shape: Shape, begins: number[], ends: number[], mode: string, value = 0): Float64Array {
  const outShape = shape.map((d, i) => d + begins[i] + ends[i]);
  return gather(x, shape, outShape, (c) => {
    const from = c.map((o, d) => o - begins[d]);
    for (let d = 0; d < shape.length; d++) {
      const n = shape[d];
      if (from[d] >= 0 && from[d] < n) continue;
      if (mode === 'constant') return null;
      from[d] = mode === 'edge' ? Math.min(Math.max(from[d], 0), n - 1) : from[d] < 0 ? -from[d] : 2 * (n - 1) - from[d];
    }
    return from;
  }, value);
}

/** Runs a one-input graph and checks y and dx against f in float64. */
async function check(spec: GraphSpec, f: (x: Float64Array) => Float64Array, yShape: Shape, seed = 1): Promise<void> {
  const [[name, shape]] = Object.entries(spec.inputs);
  const x = randomData(count(shape), seed);
  const gy = randomData(count(yShape), seed + 1);
  const run = await runGraph(gpu(), graphOf(spec), { [name]: x }, { seed: gy, gradientsTo: [name] });
  expect(run.shape).toEqual(yShape);
  expect(relativeError(run.y, reference(yShape, f(Float64Array.from(x)))), 'forward').toBeLessThan(TOLERANCE);
  const want = exactGradient(([xs]) => f(xs), [x], gy, 0);
  expect(relativeError(run.grads.get(name)!, reference(shape, want)), 'gradient').toBeLessThan(TOLERANCE);
}

describe('Transpose', () => {
  it('rank 6, forward and backward', async () => {
    const shape = [2, 3, 1, 4, 2, 3];
    const perm = [5, 0, 3, 1, 4, 2];
    const yShape = perm.map((p) => shape[p]);
    await check(
      { inputs: { x: shape }, nodes: [{ op: 'Transpose', inputs: ['x'], outputs: ['y'], attributes: { perm } }] },
      (x) => gather(x, shape, yShape, (c) => { const from = new Array<number>(6); perm.forEach((p, d) => (from[p] = c[d])); return from; }),
      yShape,
    );
  });
});

describe('Split', () => {
  it('an unused output gets a zero gradient (opset 11 split attribute)', async () => {
    // t = x transposed to [2, 7, 3] -> a [2,2,3], b [2,4,3] (unused), c [2,1,3]; y = concat(c, a) along
    // axis 1 (given as -2). The transpose makes t's dead buffer the one dt reuses, so b's slab of dt
    // holds stale data unless Split's backward clears it.
    await check(
      {
        inputs: { x: [2, 3, 7] },
        opset: 11,
        nodes: [
          { op: 'Transpose', inputs: ['x'], outputs: ['t'], attributes: { perm: [0, 2, 1] } },
          { op: 'Split', inputs: ['t'], outputs: ['a', 'b', 'c'], attributes: { axis: 1, split: [2, 4, 1] } },
          { op: 'Concat', inputs: ['c', 'a'], outputs: ['y'], attributes: { axis: -2 } },
        ],
      },
      (x) => gather(x, [2, 3, 7], [2, 3, 3], ([n, j, w]) => [n, w, j === 0 ? 6 : j - 1]),
      [2, 3, 3],
    );
  });

  it("opset 18's num_outputs: ceil-sized parts, the last one smaller", async () => {
    await check(
      {
        inputs: { x: [2, 7] },
        opset: 18,
        nodes: [
          { op: 'Split', inputs: ['x'], outputs: ['a', 'b', 'c'], attributes: { axis: 1, num_outputs: 3 } },
          { op: 'Concat', inputs: ['c', 'b', 'a'], outputs: ['y'], attributes: { axis: 1 } },
        ],
      },
      // parts [0..3), [3..6), [6]: reordered c, b, a
      (x) => gather(x, [2, 7], [2, 7], ([n, j]) => [n, [6, 3, 4, 5, 0, 1, 2][j]]),
      [2, 7],
    );
  });
});

describe('Slice', () => {
  it('opset 9 attributes with negative and out-of-range indices', async () => {
    // x[1:, :, -4:-1] of [4, 5, 6], ends clamped from 100.
    await check(
      { inputs: { x: [4, 5, 6] }, opset: 9, nodes: [{ op: 'Slice', inputs: ['x'], outputs: ['y'], attributes: { starts: [1, -4], ends: [100, -1], axes: [0, 2] } }] },
      (x) => gather(x, [4, 5, 6], [3, 5, 3], ([i, j, k]) => [i + 1, j, k + 2]),
      [3, 5, 3],
    );
  });

  it('steps of -3 and 2 on two axes, starts past the end', async () => {
    // Axis 1 (9 long) from 1e9 (clamped to 8) down to the start by -3: 8, 5, 2; axis 2 (5 long) 1::2: 1, 3.
    await check(
      {
        inputs: { x: [2, 9, 5] },
        nodes: [{ op: 'Slice', inputs: ['x', 'starts', 'ends', 'axes', 'steps'], outputs: ['y'] }],
        initializers: { starts: int64s([1e9, 1]), ends: int64s([-1e9, 5]), axes: int64s([1, -1]), steps: int64s([-3, 2]) },
      },
      (x) => gather(x, [2, 9, 5], [2, 3, 2], ([i, j, k]) => [i, 8 - 3 * j, 1 + 2 * k]),
      [2, 3, 2],
    );
  });
});

describe('Pad', () => {
  const shape = [2, 3, 4];
  for (const mode of ['reflect', 'edge', 'constant']) {
    it(`${mode} mode, forward and backward`, async () => {
      const [begins, ends] = [[0, 2, 1], [1, 1, 3]];
      await check(
        {
          inputs: { x: shape },
          nodes: [{ op: 'Pad', inputs: ['x', 'pads', 'value'], outputs: ['y'], attributes: { mode } }],
          initializers: { pads: int64s([...begins, ...ends]), value: floats([], [0.5]) },
        },
        (x) => padReference(x, shape, begins, ends, mode, 0.5),
        [3, 6, 8],
      );
    });
  }

  it('negative pads crop (constant mode, opset 2 attributes)', async () => {
    const [begins, ends] = [[0, -1, 2], [0, 1, -2]];
    await check(
      { inputs: { x: shape }, opset: 2, nodes: [{ op: 'Pad', inputs: ['x'], outputs: ['y'], attributes: { pads: [...begins, ...ends], value: -2 } }] },
      (x) => gather(x, shape, [2, 3, 4], ([n, h, w]) => (w < 2 || h === 2 ? null : [n, h + 1, w - 2]), -2),
      [2, 3, 4],
    );
  });

  it("opset 18's axes input pads only the axes named", async () => {
    await check(
      {
        inputs: { x: shape },
        opset: 18,
        nodes: [{ op: 'Pad', inputs: ['x', 'pads', '', 'axes'], outputs: ['y'], attributes: { mode: 'edge' } }],
        initializers: { pads: int64s([2, 1]), axes: int64s([-1]) },
      },
      (x) => padReference(x, shape, [0, 0, 2], [0, 0, 1], 'edge'),
      [2, 3, 7],
    );
  });

  it('rejects reflect padding as long as the axis', async () => {
    const graph = graphOf({
      inputs: { x: shape },
      nodes: [{ op: 'Pad', inputs: ['x', 'pads'], outputs: ['y'], attributes: { mode: 'reflect' } }],
      initializers: { pads: int64s([0, 0, 4, 0, 0, 0]) },
    });
    await expect(runGraph(gpu(), graph, { x: randomData(24, 1) })).rejects.toThrow(/Pad node "pad0": reflect/);
  });
});

describe('view ops', () => {
  for (const opset of [11, 13]) {
    it(`Squeeze, Unsqueeze (axes as ${opset < 13 ? 'attributes' : 'inputs'}), Flatten and Reshape`, async () => {
      // Before opset 13 the axes are an attribute, from then on a constant input.
      const axes = (input: string, values: number[]): { extraInputs: string[]; attributes: Record<string, AttributeSpec> } =>
        opset < 13 ? { extraInputs: [], attributes: { axes: values } } : { extraInputs: [input], attributes: {} };
      const squeeze = axes('sq', [1]);
      const unsqueeze = axes('unsq', [0, -1]);
      await check(
        {
          inputs: { x: [2, 1, 3] },
          opset,
          nodes: [
            { op: 'Squeeze', inputs: ['x', ...squeeze.extraInputs], outputs: ['s'], attributes: squeeze.attributes },
            { op: 'Unsqueeze', inputs: ['s', ...unsqueeze.extraInputs], outputs: ['u'], attributes: unsqueeze.attributes },
            { op: 'Flatten', inputs: ['u'], outputs: ['f'], attributes: { axis: 0 } },
            { op: 'Reshape', inputs: ['f', 'shape'], outputs: ['y'] },
          ],
          initializers: { sq: int64s([1]), unsq: int64s([0, -1]), shape: int64s([3, -1]) },
        },
        (x) => x,
        [3, 2],
      );
    });
  }
});

describe('Flatten', () => {
  // ONNX's Flatten: axis in [-r, r], a negative one counted from the back of the input's rank.
  const expected: [number, Shape][] = [[-1, [24, 5]], [-2, [6, 20]], [-3, [2, 60]], [-4, [1, 120]], [0, [1, 120]], [1, [2, 60]], [4, [120, 1]]];
  for (const [axis, shape] of expected) {
    it(`axis ${axis} of [2, 3, 4, 5] gives [${shape}]`, async () => {
      const graph = graphOf({ inputs: { x: [2, 3, 4, 5] }, nodes: [{ op: 'Flatten', inputs: ['x'], attributes: { axis } }] });
      const x = randomData(120, 3);
      const r = await runGraph(gpu(), graph, { x });
      expect(r.shape).toEqual(shape);
      expect(Array.from(r.y)).toEqual(Array.from(x));
    });
  }
  it('refuses an axis outside [-rank, rank]', async () => {
    for (const axis of [-5, 5]) {
      const graph = graphOf({ inputs: { x: [2, 3, 4, 5] }, nodes: [{ op: 'Flatten', inputs: ['x'], attributes: { axis } }] });
      await expect(runGraph(gpu(), graph, { x: randomData(120, 3) })).rejects.toThrow(`axis ${axis} is out of range for rank 4`);
    }
  });
});

describe('gradients several layout ops add into one tensor', () => {
  // x feeds Pad, Transpose, Reshape and Slice; their flattened outputs are concatenated. The gradient
  // of x has four contributions: the first backward kernel overwrites, the others add. Both orders
  // make every kernel run once in each mode.
  const shape = [2, 3, 4];
  const branches: { op: string; inputs: string[]; attributes: Record<string, AttributeSpec>; f: (x: Float64Array) => Float64Array }[] = [
    { op: 'Pad', inputs: ['x', 'pads'], attributes: { mode: 'reflect' }, f: (x: Float64Array) => padReference(x, shape, [0, 1, 2], [1, 1, 1], 'reflect') },
    { op: 'Transpose', inputs: ['x'], attributes: { perm: [2, 0, 1] }, f: (x: Float64Array) => gather(x, shape, [4, 2, 3], ([k, i, j]) => [i, j, k]) },
    { op: 'Reshape', inputs: ['x', 'shape'], attributes: {}, f: (x: Float64Array) => x },
    { op: 'Slice', inputs: ['x', 'starts', 'ends', 'axes', 'steps'], attributes: {}, f: (x: Float64Array) => gather(x, shape, [2, 2, 4], ([i, j, k]) => [i, 2 - j, k]) },
  ];
  for (const order of [[0, 1, 2, 3], [3, 2, 1, 0]]) {
    it(`in the order ${order.map((i) => branches[i].op).join(', ')}`, async () => {
      const nodes: GraphSpec['nodes'] = [];
      order.forEach((b, i) => {
        nodes.push({ op: branches[b].op, inputs: branches[b].inputs, outputs: [`b${i}`], attributes: branches[b].attributes });
        nodes.push({ op: 'Flatten', inputs: [`b${i}`], outputs: [`f${i}`], attributes: { axis: 0 } });
      });
      nodes.push({ op: 'Concat', inputs: order.map((_, i) => `f${i}`), outputs: ['y'], attributes: { axis: 1 } });
      const f = (x: Float64Array) => Float64Array.from(order.flatMap((b) => Array.from(branches[b].f(x))));
      const total = f(new Float64Array(count(shape))).length;
      await check(
        {
          inputs: { x: shape },
          nodes,
          initializers: {
            pads: int64s([0, 1, 2, 1, 1, 1]),
            shape: int64s([6, 4]),
            starts: int64s([2]),
            ends: int64s([0]),
            axes: int64s([1]),
            steps: int64s([-1]),
          },
        },
        f,
        [1, total],
      );
    });
  }
});
