// Bounded memory: torchvision's resnet18 explained at 120 input shapes in one process. The plan cache
// stays within maxPlanBytes after every call. What the process holds is the device's: Dawn with
// lavapipe keeps the memory of destroyed buffers and reuses it for later ones (a plain loop of
// createBuffer/destroy shows the same), so RSS rises to the high-water mark of the first shapes and
// then stays; it goes back when the context is disposed.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Explainer } from '../src/explain/explainer.js';
import { createGpuContext } from '../src/gpu/context.js';
import { Model } from '../src/runtime/model.js';
import { REFERENCE_DIR } from './setup/references.js';

const RESNET18 = join(REFERENCE_DIR, 'resnet18-op13.onnx');
const BUDGET = 64 * 2 ** 20;
const MiB = 2 ** 20;
const rss = () => process.memoryUsage().rss;

describe.skipIf(!existsSync(RESNET18))('memory over many input shapes', () => {
  it('keeps the plans within maxPlanBytes, stops growing once its pool is warm, and returns it with the context', async () => {
    const gpu = await createGpuContext();
    const model = Model.fromFile(gpu, RESNET18, { maxPlanBytes: BUDGET });
    const start = rss();
    const explainer = new Explainer(model);
    const explainAt = async (h: number, w: number) => {
      await explainer.explain({ shape: [1, 3, h, w], data: new Float32Array(3 * h * w).fill(0.25) });
      // The one plan of a call may alone exceed the budget; then it is all that stays.
      expect(model.plans.bytes <= BUDGET || model.plans.values().length === 1).toBe(true);
    };
    await explainAt(64, 64);
    // What stays with a live Model after its first call is counted from here: the weights' CPU copies
    // (the graph's) and the Winograd filters made from them (one per weight, for every plan), and the
    // compiled pipelines.
    const warm = rss();
    // 60 shapes, then 60 others: the second pass runs on memory the first one left to the device.
    for (let i = 0; i < 60; i++) await explainAt(64 + 8 * (i % 8), 64 + 8 * Math.floor(i / 8));
    const afterFirst = rss();
    for (let i = 0; i < 60; i++) await explainAt(68 + 8 * (i % 8), 68 + 8 * Math.floor(i / 8));
    const afterSecond = rss();
    model.dispose();
    gpu.dispose();
    await new Promise((resolve) => setTimeout(resolve, 500));
    const end = rss();
    expect(model.graph.nodes.length).toBeGreaterThan(0);
    console.log(
      `resnet18, 120 shapes, maxPlanBytes ${BUDGET / MiB} MiB: RSS ${(start / MiB).toFixed(0)} MiB with the model loaded, ${(warm / MiB).toFixed(0)} after the first call, ` +
        `${(afterFirst / MiB).toFixed(0)} after 60 shapes, ${(afterSecond / MiB).toFixed(0)} after 60 more, ${(end / MiB).toFixed(0)} with the context disposed`,
    );
    // Measured on lavapipe: +200 MiB over the first 60 shapes (the pool's high-water mark: the
    // budget, the plan in hand and the sizes no freed block fits), +10 to +35 over the next 60.
    expect(afterFirst - warm).toBeLessThan(BUDGET + 200 * MiB);
    expect(afterSecond - afterFirst).toBeLessThan(64 * MiB);
    expect(end - warm).toBeLessThan(50 * MiB);
  });
});
