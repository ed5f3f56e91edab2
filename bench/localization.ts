// Localization benchmark with the Grad-CAM paper's protocol, on a held-out synthetic set the demo
// model never saw (scripts/demo_data.py, seed 2026, 500 images): pointing game and localization error
// (15% threshold, largest connected component, IoU >= 0.5 with the truth and the right class).
//   npm run bench:localization [-- --count 500 --batch 25]
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Explainer, METHODS, type Method } from '../src/explain/explainer.js';
import { createGpuContext, describeAdapter } from '../src/gpu/context.js';
import { preprocess } from '../src/io/image.js';
import { readNpy } from '../src/io/npy.js';
import { Progress } from '../src/io/progress.js';
import { Model } from '../src/runtime/model.js';
import { WEIGHTS_DIR } from '../src/io/paths.js';
import { ROOT, table } from './common.js';
import { type Box, boxFromMap, iou, pointingHit } from '../src/evaluate/localization.js';

const BENCHMARK_SEED = 2026;
const { values } = parseArgs({ options: { count: { type: 'string', default: '500' }, batch: { type: 'string', default: '25' } } });
const count = Number(values.count);
const batchSize = Number(values.batch);

const dataDir = join(ROOT, '.cache', 'localization', `seed${BENCHMARK_SEED}-n${count}`);
if (!existsSync(join(dataDir, 'labels.json'))) {
  console.error(`generating ${count} held-out images (seed ${BENCHMARK_SEED}) into ${dataDir}`);
  const run = spawnSync('/usr/bin/python3', [join(ROOT, 'scripts', 'demo_data.py'), '--seed', `${BENCHMARK_SEED}`, '--count', `${count}`, '--out', dataDir], { stdio: 'inherit' });
  if (run.status !== 0) throw new Error('dataset generation failed: run scripts/install-system-deps.sh first');
}
const images = readNpy(join(dataDir, 'images.npy'));
const truth = JSON.parse(readFileSync(join(dataDir, 'labels.json'), 'utf8')) as { classes: string[]; items: { label: number; box: Box }[] };
const [n, height, width] = images.shape;
const config = JSON.parse(readFileSync(join(WEIGHTS_DIR, 'demo.json'), 'utf8')) as { model: string; mean: [number, number, number]; std: [number, number, number]; layer: string };

const gpu = await createGpuContext();
const model = Model.fromFile(gpu, join(WEIGHTS_DIR, config.model));
const explainer = new Explainer(model);
const stats = Object.fromEntries(METHODS.map((m) => [m, { pointing: 0, localized: 0, iou: 0 }])) as Record<Method, { pointing: number; localized: number; iou: number }>;
let correct = 0;
let boxArea = 0;
const progress = new Progress(Math.ceil(n / batchSize));
for (let start = 0; start < n; start += batchSize) {
  const end = Math.min(n, start + batchSize);
  const plane = 3 * height * width;
  const data = new Float32Array((end - start) * plane);
  for (let i = start; i < end; i++) {
    const rgb = (images.data as Uint8Array).subarray(i * height * width * 3, (i + 1) * height * width * 3);
    data.set(preprocess({ width, height, data: rgb }, { resize: Math.min(height, width), crop: [height, width], mean: config.mean, std: config.std }), (i - start) * plane);
  }
  const input = { shape: [end - start, 3, height, width], data };
  for (const method of METHODS) {
    const result = await explainer.explain(input, { method, layer: config.layer });
    for (let i = start; i < end; i++) {
      const { label, box } = truth.items[i];
      const map = result.map.data.subarray((i - start) * height * width, (i - start + 1) * height * width);
      const right = result.classes[i - start] === label;
      if (method === 'gradcam') {
        correct += right ? 1 : 0;
        boxArea += ((box[2] - box[0]) * (box[3] - box[1])) / (height * width);
      }
      if (pointingHit(map, width, box)) stats[method].pointing++;
      const found = boxFromMap(map, width, height);
      const overlap = found ? iou(found, box) : 0;
      stats[method].iou += overlap;
      if (right && overlap >= 0.5) stats[method].localized++;
    }
  }
  progress.tick(`${end}/${n} images`);
}
explainer.dispose();
model.dispose();

const rows = METHODS.map((m) => [m, (stats[m].pointing / n).toFixed(3), (1 - stats[m].localized / n).toFixed(3), (stats[m].iou / n).toFixed(3)]);
const summary = {
  adapter: describeAdapter(gpu.adapter),
  images: n,
  seed: BENCHMARK_SEED,
  classificationAccuracy: correct / n,
  chancePointing: boxArea / n,
  methods: Object.fromEntries(
    METHODS.map((m) => [m, { pointingGame: stats[m].pointing / n, localizationError: 1 - stats[m].localized / n, meanIoU: stats[m].iou / n }]),
  ),
};
gpu.destroy();
console.log(`adapter: ${summary.adapter}`);
console.log(`${n} held-out images (seed ${BENCHMARK_SEED}); classification accuracy ${summary.classificationAccuracy.toFixed(3)}; chance pointing (mean box area) ${summary.chancePointing.toFixed(3)}`);
console.log(table(['method', 'pointing game', 'localization error', 'mean IoU'], rows));
const reportDir = join(ROOT, '.cache', 'reports');
mkdirSync(reportDir, { recursive: true });
writeFileSync(join(reportDir, 'localization.json'), JSON.stringify(summary, null, 2));
console.log(`written: ${join(reportDir, 'localization.json')}`);
