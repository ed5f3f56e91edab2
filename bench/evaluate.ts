// Deletion and insertion (RISE) on the demo's held-out images, every method, in one run: images/s of
// `Evaluator.evaluate` (the map, then the perturbed copies made on the GPU and run as batches) beside the
// same number of forward passes run one image at a time, each copy made on the CPU and uploaded (what a
// loop over a framework's model call does).
//   npm run bench:evaluate [-- --count 100 --steps 32 --batch 32 --method gradcam,cam]
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Evaluator } from '../src/evaluate/evaluator.js';
import { curvePixels, mapRanks } from '../src/evaluate/metrics.js';
import { METHODS, type Method } from '../src/explain/explainer.js';
import { createGpuContext, describeAdapter } from '../src/gpu/context.js';
import { Progress } from '../src/io/progress.js';
import { Model } from '../src/runtime/model.js';
import { heldOut, HELD_OUT_SEED, ROOT, table } from './common.js';

const { values } = parseArgs({
  options: {
    count: { type: 'string', default: '100' },
    steps: { type: 'string', default: '32' },
    batch: { type: 'string', default: '32' },
    method: { type: 'string', default: METHODS.join(',') },
  },
});
const count = Number(values.count);
const steps = Number(values.steps);
const batch = Number(values.batch);
const methods = values.method.split(',') as Method[];
const data = heldOut(count, 20);

const gpu = await createGpuContext();
const model = Model.fromFile(gpu, data.modelPath);
const evaluator = new Evaluator(model);
const [, , height, width] = data.batches[0].input.shape;
const points = curvePixels(height * width, steps);
const passesPerImage = 2 * points.length;
console.log(`adapter: ${describeAdapter(gpu.adapter)}`);
console.log(`${count} held-out demo images (seed ${HELD_OUT_SEED}), ${height}x${width}; deletion (zeros) and insertion (blur), ${steps} steps: ${passesPerImage} forward passes an image, ${batch} copies a pass`);

// Warm-up: compile every plan once on the first batch.
await evaluator.evaluate(data.batches[0].input, { methods: ['gradcam'], metrics: ['deletion', 'insertion'], steps, batch });

const results: { method: Method; seconds: number; deletion: number; insertion: number }[] = [];
const progress = new Progress(methods.length * data.batches.length, { rateUnit: 'batches' });
for (const method of methods) {
  const start = performance.now();
  const areas = { deletion: 0, insertion: 0 };
  for (const { input } of data.batches) {
    const [scores] = await evaluator.evaluate(input, { methods: [method], metrics: ['deletion', 'insertion'], steps, batch, layer: data.layer });
    areas.deletion += scores.deletion!.areas.reduce((a, b) => a + b, 0);
    areas.insertion += scores.insertion!.areas.reduce((a, b) => a + b, 0);
    progress.tick(method);
  }
  results.push({ method, seconds: (performance.now() - start) / 1000, deletion: areas.deletion / count, insertion: areas.insertion / count });
}

// The same number of forward passes, one image at a time: deletion copies of Grad-CAM's order, made on the CPU.
const single = await oneAtATime();
evaluator.dispose();
model.dispose();
gpu.destroy();

const rows = results.map((r) => [
  r.method, r.deletion.toFixed(4), r.insertion.toFixed(4), r.seconds.toFixed(1), (count / r.seconds).toFixed(2),
  ((count * passesPerImage) / r.seconds).toFixed(0), `${(single.seconds / r.seconds).toFixed(1)}x`,
]);
console.log(table(['method', 'deletion AUC', 'insertion AUC', 'seconds', 'images/s', 'passes/s', 'vs one at a time'], rows));
console.log(`one image at a time: ${count * passesPerImage} passes in ${single.seconds.toFixed(1)} s (${single.passesPerSecond.toFixed(0)} passes/s, measured on ${single.measured} passes)`);
const reportDir = join(ROOT, '.cache', 'reports');
mkdirSync(reportDir, { recursive: true });
writeFileSync(join(reportDir, 'evaluate.json'), `${JSON.stringify({ adapter: describeAdapter(gpu.adapter), count, steps, batch, passesPerImage, results, oneAtATime: single }, null, 2)}\n`);
console.log(`written: ${join(reportDir, 'evaluate.json')}`);

/**
 * Every pass of the first images' deletion curves at batch 1 (a quarter of the images, at least one),
 * timed, and the time for all `count * passesPerImage` passes at that rate.
 */
async function oneAtATime(): Promise<{ seconds: number; passesPerSecond: number; measured: number }> {
  const { input } = data.batches[0];
  const plane = height * width;
  const images = Math.max(1, Math.min(input.shape[0], Math.ceil(count / 4)));
  const ex = await evaluator.explainer.explain(input, { method: 'gradcam', layer: data.layer });
  const copy = new Float32Array(3 * plane);
  const one = { shape: [1, 3, height, width], data: copy };
  await model.run(one);
  const probabilities: number[] = [];
  const start = performance.now();
  for (let n = 0; n < images; n++) {
    const ranks = mapRanks(ex.map.data, n * plane, plane);
    const image = input.data.subarray(n * 3 * plane, (n + 1) * 3 * plane);
    for (let pass = 0; pass < passesPerImage; pass++) {
      const k = points[pass % points.length];
      for (let c = 0; c < 3; c++) for (let p = 0; p < plane; p++) copy[c * plane + p] = ranks[p] < k ? 0 : image[c * plane + p];
      const logits = [...(await model.run(one)).values()][0].data;
      const top = Math.max(...logits);
      const sum = logits.reduce((a, v) => a + Math.exp(v - top), 0);
      probabilities.push(Math.exp(logits[ex.classes[n]] - top) / sum);
    }
  }
  const seconds = (performance.now() - start) / 1000;
  const passesPerSecond = probabilities.length / seconds;
  return { seconds: (count * passesPerImage) / passesPerSecond, passesPerSecond, measured: probabilities.length };
}
