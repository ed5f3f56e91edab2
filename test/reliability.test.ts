// The engine used as a library by a service: concurrent calls, NaN and infinity, grids past the
// adapter's limits, a bounded plan cache, and failures that leave later calls alone. Every concurrent
// result is compared bit for bit with the same call made alone; grids past the limit against float64.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Evaluator } from '../src/evaluate/evaluator.js';
import { Explainer, type Explanation } from '../src/explain/explainer.js';
import { createGpuContext } from '../src/gpu/context.js';
import { gpuEntry, PACKAGE_ROOT } from '../src/platform/index.js';
import type { Executable } from '../src/plan/executable.js';
import { Model, type Tensor } from '../src/runtime/model.js';
import { useGpu } from './support/gpu.js';
import { floats, onnxOf } from './support/model-spec.js';
import { normalDraw } from './support/random.js';

const gpu = useGpu();
const DEMO = join(PACKAGE_ROOT, 'weights', 'demo.onnx');
const CALLS = 16;

/** A [1, 3, size, size] input, different for every `seed`. */
function image(seed: number, size = 128): Tensor {
  const data = Float32Array.from({ length: 3 * size * size }, (_, i) => normalDraw(seed, 0, i));
  return { shape: [1, 3, size, size], data };
}

const bits = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
const explanationBits = (e: Explanation) => [e.classes, e.scores, bits(e.map.data), bits(e.normalized.data), bits(e.logits.data)];

describe('concurrent calls', () => {
  it(`${CALLS} concurrent Model.run, explain and evaluate calls return what each returns alone`, async () => {
    const model = Model.fromFile(gpu(), DEMO);
    const explainer = new Explainer(model);
    const evaluator = new Evaluator(model);
    try {
      const inputs = Array.from({ length: CALLS }, (_, i) => image(i + 1));
      const metricOptions = { methods: ['gradcam' as const], metrics: ['deletion' as const, 'drop' as const], steps: 4, batch: 4 };
      const alone = { run: [] as string[], explain: [] as unknown[], evaluate: [] as unknown[] };
      for (const x of inputs) {
        alone.run.push(bits((await model.run(x)).get(model.graph.outputs[0])!.data));
        alone.explain.push(explanationBits(await explainer.explain(x, { method: 'gradcam++' })));
        alone.evaluate.push(await evaluator.evaluate(x, metricOptions));
      }
      // All three kinds at once, interleaved, on one model.
      const [runs, explained, evaluated] = await Promise.all([
        Promise.all(inputs.map((x) => model.run(x))),
        Promise.all(inputs.map((x) => explainer.explain(x, { method: 'gradcam++' }))),
        Promise.all(inputs.map((x) => evaluator.evaluate(x, metricOptions))),
      ]);
      expect(runs.map((r) => bits(r.get(model.graph.outputs[0])!.data))).toEqual(alone.run);
      expect(explained.map(explanationBits)).toEqual(alone.explain);
      expect(evaluated).toEqual(alone.evaluate);
      // The inputs differ, so equal results are not one answer repeated.
      expect(new Set(alone.run).size).toBe(CALLS);
    } finally {
      evaluator.dispose();
      explainer.dispose();
      model.dispose();
    }
  });

  it('concurrent calls that build the same plan build it once', async () => {
    const model = Model.fromFile(gpu(), DEMO);
    const explainer = new Explainer(model);
    try {
      await Promise.all(Array.from({ length: 4 }, (_, i) => explainer.explain(image(i + 40, 96))));
      // One explainer plan for the one shape (the model's own plans are not made by explain).
      expect(model.plans.values().length).toBe(1);
    } finally {
      model.dispose();
    }
  });

  it('a failed call does not change the calls after it, nor the ones queued beside it', async () => {
    const model = Model.fromFile(gpu(), DEMO);
    const explainer = new Explainer(model);
    try {
      const x = image(7);
      const before = explanationBits(await explainer.explain(x));
      const results = await Promise.allSettled([
        explainer.explain(x),
        explainer.explain(x, { classes: [999] }),
        explainer.explain(x, { layer: 'no such layer' }),
        explainer.explain(x),
      ]);
      expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'rejected', 'fulfilled']);
      for (const r of [results[0], results[3]]) expect(explanationBits((r as PromiseFulfilledResult<Explanation>).value)).toEqual(before);
      expect(explanationBits(await explainer.explain(x))).toEqual(before);
    } finally {
      model.dispose();
    }
  });
});

describe('AbortSignal', () => {
  it('stops Score-CAM and an evaluation between batches; the next call gives what a fresh one gives', async () => {
    const model = Model.fromFile(gpu(), DEMO);
    const explainer = new Explainer(model);
    const evaluator = new Evaluator(model);
    try {
      const x = image(11);
      const controller = new AbortController();
      let batches = 0;
      const stopped = explainer.explain(x, {
        method: 'scorecam',
        signal: controller.signal,
        onProgress: () => ++batches === 1 && controller.abort(new Error('enough')),
      });
      await expect(stopped).rejects.toThrow('enough');
      expect(batches).toBe(1);
      await expect(evaluator.evaluate(x, { methods: ['gradcam'], metrics: ['deletion'], signal: AbortSignal.abort(new Error('not now')) })).rejects.toThrow('not now');
      const after = await explainer.explain(x, { method: 'scorecam' });
      const fresh = Model.fromFile(gpu(), DEMO);
      expect(explanationBits(after)).toEqual(explanationBits(await new Explainer(fresh).explain(x, { method: 'scorecam' })));
      fresh.dispose();
    } finally {
      model.dispose();
    }
  });
});

describe('NaN and infinity', () => {
  const tiny = (scale: number) =>
    onnxOf({
      inputs: { x: [1, 2, 4, 4] },
      outputs: ['scores'],
      nodes: [
        { op: 'Conv', inputs: ['x', 'w'], outputs: ['features'], attributes: { kernel_shape: [1, 1] } },
        { op: 'Mul', inputs: ['features', 's'], outputs: ['scaled'], name: 'amplify' },
        { op: 'Mul', inputs: ['scaled', 's'], outputs: ['again'], name: 'amplify again' },
        { op: 'GlobalAveragePool', inputs: ['again'], outputs: ['pooled'] },
        { op: 'Flatten', inputs: ['pooled'], outputs: ['scores'] },
      ],
      initializers: { w: floats([3, 2, 1, 1], [1, 0.5, -1, 2, 0.25, 1]), s: floats([1], [scale]) },
    });
  const input = (): Tensor => ({ shape: [1, 2, 4, 4], data: Float32Array.from({ length: 32 }, (_, i) => 1 + (i % 5)) });

  it('an input with NaN or infinity is refused, naming the first index and its position', async () => {
    const model = Model.fromBytes(gpu(), tiny(1));
    const explainer = new Explainer(model);
    try {
      const x = input();
      x.data[21] = Number.NaN;
      x.data[30] = Number.POSITIVE_INFINITY;
      await expect(model.run(x)).rejects.toThrow('input "x" has NaN at index 21 (position [0, 1, 1, 1]); every value must be finite');
      await expect(explainer.explain(x)).rejects.toThrow('has NaN at index 21');
      x.data[21] = 0;
      await expect(explainer.explain(x)).rejects.toThrow('input "x" has +Infinity at index 30');
    } finally {
      model.dispose();
    }
  });

  it('a weight with NaN is refused at load, naming the initializer', () => {
    const bytes = onnxOf({
      inputs: { x: [1, 2, 4, 4] },
      nodes: [{ op: 'Conv', inputs: ['x', 'w'], attributes: { kernel_shape: [1, 1] } }],
      initializers: { w: floats([2, 2, 1, 1], [1, Number.NaN, 0, 1]) },
    });
    expect(() => Model.fromBytes(gpu(), bytes)).toThrow('initializer "w" holds NaN at index 1');
  });

  it('an overflow inside the network is an error naming the first node whose output is not finite', async () => {
    // 1e25 * 1e25 overflows float32 (max 3.4e38) in the second Mul: the first one's output is finite.
    const model = Model.fromBytes(gpu(), tiny(1e25));
    const explainer = new Explainer(model);
    try {
      const message = 'the first node whose output is not finite is Mul node "amplify again"';
      await expect(model.run(input())).rejects.toThrow(message);
      await expect(explainer.explain(input(), { layer: 'features' })).rejects.toThrow(message);
      // The same net without the overflow explains, and its scores are finite.
      const fine = Model.fromBytes(gpu(), tiny(10));
      const e = await new Explainer(fine).explain(input(), { layer: 'features' });
      expect(e.scores.every(Number.isFinite)).toBe(true);
      fine.dispose();
    } finally {
      model.dispose();
    }
  });
});

describe('the plan cache', () => {
  it('keeps the plans within maxPlanBytes, least recently used out first, and frees them all on dispose', async () => {
    const probe = Model.fromFile(gpu(), DEMO);
    const explainer = new Explainer(probe);
    await explainer.explain(image(1, 64));
    const onePlan = probe.plans.bytes;
    probe.dispose();

    // Room for about two plans of 64x64; the larger shapes need more each.
    const model = Model.fromFile(gpu(), DEMO, { maxPlanBytes: 2.5 * onePlan });
    const cached = new Explainer(model);
    const sizes = [64, 72, 80, 64, 88, 96];
    for (const size of sizes) {
      await cached.explain(image(size, size));
      expect(model.plans.bytes <= model.plans.maxBytes || model.plans.values().length === 1).toBe(true);
    }
    // The most recently used plan always stays; the first 64x64 one was used again, then evicted.
    expect(model.plans.values().length).toBeGreaterThan(0);
    expect(model.plans.values().length).toBeLessThan(sizes.length - 1);
    // An evicted plan is made again and gives the same map.
    const again = await cached.explain(image(64, 64));
    const fresh = Model.fromFile(gpu(), DEMO);
    expect(explanationBits(again)).toEqual(explanationBits(await new Explainer(fresh).explain(image(64, 64))));
    fresh.dispose();
    model.dispose();
    expect(model.plans.values().length).toBe(0);
  });
});

describe('grids past the adapter limit', () => {
  /**
   * A stride-1 convolution in float64, y[o, i, j] = sum w[o, c, a, b] x[c, i + a - pad, j + b - pad]
   * ('forward': `values` is x), or its backward-data, the same sum with the roles of x and y exchanged
   * ('backward': `values` is dy, the result dx).
   */
  function conv(values: Float32Array, w: Float32Array, [channels, height, width]: number[], [outC, k]: number[], pad: number, direction: 'forward' | 'backward' = 'forward') {
    const outH = height + 2 * pad - k + 1;
    const outW = width + 2 * pad - k + 1;
    const out = new Float64Array(direction === 'forward' ? outC * outH * outW : channels * height * width);
    for (let o = 0; o < outC; o++) {
      for (let c = 0; c < channels; c++) {
        for (let a = 0; a < k; a++) {
          for (let b = 0; b < k; b++) {
            const weight = w[((o * channels + c) * k + a) * k + b];
            for (let i = 0; i < outH; i++) {
              const row = i + a - pad;
              if (row < 0 || row >= height) continue;
              const xRow = (c * height + row) * width + b - pad;
              const yRow = (o * outH + i) * outW;
              for (let j = Math.max(0, pad - b); j < Math.min(outW, width + pad - b); j++) {
                if (direction === 'forward') out[yRow + j] += weight * values[xRow + j];
                else out[xRow + j] += weight * values[yRow + j];
              }
            }
          }
        }
      }
    }
    return out;
  }
  const convModel = (shape: number[], outC: number, k: number, pad: number, w: Float32Array) =>
    onnxOf({
      inputs: { x: shape },
      nodes: [{ op: 'Conv', inputs: ['x', 'w'], attributes: { kernel_shape: [k, k], pads: [pad, pad, pad, pad] } }],
      initializers: { w: floats([outC, shape[1], k, k], w) },
    });
  /** Largest |a - b| relative to the reference's largest magnitude. */
  const error = (a: ArrayLike<number>, b: Float64Array) => {
    let worst = 0;
    let scale = 0;
    for (let i = 0; i < b.length; i++) {
      worst = Math.max(worst, Math.abs(a[i] - b[i]));
      scale = Math.max(scale, Math.abs(b[i]));
    }
    return worst / scale;
  };
  // float32 sums of 75 (3 x 5 x 5) products, and the 5,000 of the backward, in two-level blocks: a few
  // units of 2^-24 relative to the largest value; 1e-5 leaves a margin of about ten.
  const LIMIT = 1e-5;

  it('a conv and its backward-data with grids folded under a small injected limit match float64 on both GEMM variants', async () => {
    const shape = [1, 3, 64, 64];
    const [outC, k, pad] = [5, 5, 2];
    const w = Float32Array.from({ length: outC * 3 * k * k }, (_, i) => normalDraw(3, 0, i));
    const x = Float32Array.from({ length: 3 * 64 * 64 }, (_, i) => normalDraw(4, 0, i));
    const gy = Float32Array.from({ length: outC * 64 * 64 }, (_, i) => normalDraw(5, 0, i));
    const y = conv(x, w, shape.slice(1), [outC, k], pad);
    const dx = conv(gy, w, shape.slice(1), [outC, k], pad, 'backward');
    for (const isCpu of [true, false]) {
      // 4,096 columns: 16 tiles of 256 (registers) or 64 of 64 (tiled); at most 8 per dimension folds both.
      const model = Model.fromBytes(gpu(), convModel(shape, outC, k, pad, w), 'conv', { traits: { isCpu, winograd: false, maxWorkgroupsPerDimension: 8 } });
      try {
        const out = await model.gradients({ shape, data: x }, 'y', { shape: [1, outC, 64, 64], data: gy }, ['x']);
        expect(error(out.get('y')!.data, y), `forward, isCpu ${isCpu}`).toBeLessThan(LIMIT);
        expect(error(out.get('x')!.data, dx), `backward-data, isCpu ${isCpu}`).toBeLessThan(LIMIT);
        const grids = (model.plans.values() as Executable[]).flatMap((exe) => exe.dispatches.map((d) => d.program.workgroups));
        expect(Math.max(...grids.flat())).toBeLessThanOrEqual(8);
      } finally {
        model.dispose();
      }
    }
  });

  it('a 5x5 conv over 3x2100x2100 runs on both GEMM variants (68,644 column tiles of 64 exceed 65,535)', async () => {
    const size = 2100;
    const shape = [1, 3, size, size];
    const [outC, k, pad] = [4, 5, 0];
    const w = Float32Array.from({ length: outC * 3 * k * k }, (_, i) => normalDraw(6, 0, i));
    const x = Float32Array.from({ length: 3 * size * size }, (_, i) => normalDraw(7, 0, i));
    const y = conv(x, w, shape.slice(1), [outC, k], pad);
    for (const isCpu of [true, false]) {
      const model = Model.fromBytes(gpu(), convModel(shape, outC, k, pad, w), 'conv', { traits: { isCpu } });
      try {
        const out = (await model.run({ shape, data: x })).get('y')!;
        expect(out.shape).toEqual([1, outC, size - 4, size - 4]);
        expect(error(out.data, y), `isCpu ${isCpu}`).toBeLessThan(LIMIT);
      } finally {
        model.dispose();
      }
    }
  });
});

describe('the adapter as given', () => {
  it('a device made by the caller with default limits explains as the engine\'s own device does, and outlives the context', async () => {
    const adapter = (await gpuEntry().requestAdapter())!;
    const device = await adapter.requestDevice();
    const own = createGpuContext({ adapter, device });
    const context = await own;
    const x = image(21);
    const model = Model.fromFile(context, DEMO);
    const mine = await new Explainer(model).explain(x, { method: 'layercam' });
    model.dispose();
    const engine = Model.fromFile(gpu(), DEMO);
    expect(explanationBits(mine)).toEqual(explanationBits(await new Explainer(engine).explain(x, { method: 'layercam' })));
    engine.dispose();
    context.dispose();
    // The context is closed; the caller's device is not.
    await expect(Model.fromFile(context, DEMO).run(x)).rejects.toThrow('the GPU context was disposed');
    device.createBuffer({ size: 16, usage: GPUBufferUsage.STORAGE }).destroy();
    device.destroy();
  });

  it('the map kernel takes its unfused form where its channel weights do not fit the workgroup storage', async () => {
    const x = image(22);
    // 96 channels: 1 KiB of weights and 2 KiB of reductions; 2 KiB of workgroup storage holds neither.
    const small = Model.fromFile(gpu(), DEMO, { traits: { maxWorkgroupStorageBytes: 2048 } });
    const reference = Model.fromFile(gpu(), DEMO);
    try {
      const fallback = await new Explainer(small).explain(x, { method: 'gradcam++' });
      const unfused = await new Explainer(reference).explain(x, { method: 'gradcam++', unfused: true });
      expect(explanationBits(fallback)).toEqual(explanationBits(unfused));
      const labels = (small.plans.values() as unknown as { exe: Executable }[]).flatMap((p) => p.exe.dispatches.map((d) => d.label));
      expect(labels.some((l) => l.endsWith(': channel weights'))).toBe(true);
      expect(labels.some((l) => l.endsWith(': map'))).toBe(false);
    } finally {
      small.dispose();
      reference.dispose();
    }
  });
});

describe('a lost device', () => {
  it('makes the next call fail with a clear error, and a new context works', async () => {
    const context = await createGpuContext();
    const model = Model.fromFile(context, DEMO);
    const x = image(31);
    const before = bits((await model.run(x)).get(model.graph.outputs[0])!.data);
    context.device.destroy();
    await context.device.lost;
    await expect(model.run(x)).rejects.toThrow(/create a new (one|context) with createGpuContext\(\)/);
    const again = await createGpuContext();
    const fresh = Model.fromFile(again, DEMO);
    expect(bits((await fresh.run(x)).get(fresh.graph.outputs[0])!.data)).toBe(before);
    fresh.dispose();
    again.dispose();
  });
});

describe('an injected failure', () => {
  it('out of memory while a plan\'s buffers are made is this call\'s error, with the plan\'s size and the mend', async () => {
    const context = await createGpuContext();
    const model = Model.fromFile(context, DEMO);
    const explainer = new Explainer(model);
    try {
      const x = image(53, 96);
      const before = explanationBits(await explainer.explain(x));
      // The device reports out-of-memory for the next out-of-memory scope, as a driver would.
      const { device } = context;
      const [push, pop] = [device.pushErrorScope.bind(device), device.popErrorScope.bind(device)];
      const scopes: GPUErrorFilter[] = [];
      let injected = false;
      device.pushErrorScope = (filter: GPUErrorFilter) => (scopes.push(filter), push(filter));
      device.popErrorScope = () => {
        const filter = scopes.pop();
        const popped = pop();
        if (filter !== 'out-of-memory' || injected) return popped;
        injected = true;
        return popped.then(() => ({ message: 'injected: out of memory' }) as GPUError);
      };
      await expect(explainer.explain(image(54, 80))).rejects.toThrow(/^the GPU ran out of memory for a plan of [\d.]+ MB of buffers \(injected: out of memory\); use a smaller batch or input, or a lower maxPlanBytes/);
      device.pushErrorScope = push;
      device.popErrorScope = pop;
      expect(explanationBits(await explainer.explain(x))).toEqual(before);
    } finally {
      model.dispose();
      context.dispose();
    }
  });

  it('a call whose plan fails half-way frees what it made, and the calls after it give what they gave before', async () => {
    const context = await createGpuContext();
    const model = Model.fromFile(context, DEMO);
    const explainer = new Explainer(model);
    try {
      const x = image(51, 96);
      const before = explanationBits(await explainer.explain(x));
      // The next plan's 12th buffer cannot be made (as when memory runs out).
      const { device } = context;
      const createBuffer = device.createBuffer.bind(device);
      let made = 0;
      const destroyed: GPUBuffer[] = [];
      const created: GPUBuffer[] = [];
      device.createBuffer = (descriptor: GPUBufferDescriptor) => {
        if (++made === 12) throw new Error('injected: no memory for this buffer');
        const buffer = createBuffer(descriptor);
        const destroy = buffer.destroy.bind(buffer);
        buffer.destroy = () => (destroyed.push(buffer), destroy());
        created.push(buffer);
        return buffer;
      };
      await expect(explainer.explain(image(52, 80))).rejects.toThrow('injected: no memory for this buffer');
      device.createBuffer = createBuffer;
      // Every buffer the failed plan made was destroyed (the weights it uploaded stay with the model).
      const leaked = created.filter((b) => !destroyed.includes(b) && !model.weights.holds(b));
      expect(leaked.map((b) => b.label)).toEqual([]);
      expect(explanationBits(await explainer.explain(x))).toEqual(before);
      const fresh = Model.fromFile(gpu(), DEMO);
      expect(explanationBits(await explainer.explain(image(52, 80)))).toEqual(explanationBits(await new Explainer(fresh).explain(image(52, 80))));
      fresh.dispose();
    } finally {
      model.dispose();
      context.dispose();
    }
  });
});
