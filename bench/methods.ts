// Time per image of every method against Grad-CAM's, on three torchvision reference models (generated
// by `npm test` into .cache/references), at the default layer and each image's top-1 class. Each method
// runs alone (its own plan: forward, the backward pass it needs, its map kernel), so the columns compare
// what a user asking for that one method waits for. Score-CAM and Ablation-CAM (one forward pass per
// channel) are timed once, their first run (compiling is a small part of it); `smooth` is Grad-CAM with
// SmoothGrad over --smooth noisy copies, `smooth-aug` and `smooth-eigen` Grad-CAM with those options.
//   npm run bench:methods [-- --runs N --arch resnet18,mobilenet_v2,squeezenet1_1 --smooth 8]
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Explainer, METHODS } from '../src/explain/explainer.js';
import { createGpuContext, describeAdapter } from '../src/gpu/context.js';
import { UserError } from '../src/errors.js';
import { readNpyFloat32 } from '../src/io/npy.js';
import { Model } from '../src/runtime/model.js';
import { fmt, median, table, torchvisionModels } from './common.js';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    arch: { type: 'string', default: 'resnet18,mobilenet_v2,squeezenet1_1' },
    smooth: { type: 'string', default: '8' },
  },
});
const runs = Number(values.runs);
const samples = Number(values.smooth);
const ONCE: readonly string[] = ['scorecam', 'ablationcam'];
// The smoothings of Grad-CAM, as columns beside the methods.
const SMOOTHINGS: Record<string, object> = {
  smooth: { smooth: { samples, noise: 0.15 } },
  'smooth-aug': { smoothAug: true },
  'smooth-eigen': { smoothEigen: true },
};
const COLUMNS = [...METHODS, ...Object.keys(SMOOTHINGS)];
const models = torchvisionModels(values.arch.split(','));
if (models.length === 0) {
  console.error('no reference models in .cache/references/torchvision: run `npm test` (or scripts/make_torchvision_refs.py) first');
  process.exit(1);
}

const gpu = await createGpuContext();
console.log(`adapter: ${describeAdapter(gpu.adapter)}; wall ms per image, median of ${runs} runs after one warm-up; (x) = ratio to Grad-CAM`);
const rows: string[][] = [];
for (const { arch, dir, model: path } of models) {
  const model = Model.fromFile(gpu, path);
  const explainer = new Explainer(model);
  const input = readNpyFloat32(join(dir, 'input.npy'));
  const batch = input.shape[0];
  const perImage: Record<string, number> = {};
  for (const column of COLUMNS) {
    const options = column in SMOOTHINGS ? { method: 'gradcam' as const, ...SMOOTHINGS[column] } : { method: column as (typeof METHODS)[number] };
    let first: number;
    try {
      first = (await explainer.explain(input, options)).timings.wallMs;
    } catch (e) {
      if (!(e instanceof UserError)) throw e;
      continue; // CAM needs a global-average-pooling head
    }
    if (ONCE.includes(column)) {
      perImage[column] = first / batch;
      continue;
    }
    const wall: number[] = [];
    for (let i = 0; i < runs; i++) wall.push((await explainer.explain(input, options)).timings.wallMs);
    perImage[column] = median(wall) / batch;
  }
  const base = perImage.gradcam;
  rows.push([arch, ...COLUMNS.map((m) => (m in perImage ? `${fmt(perImage[m])} (${(perImage[m] / base).toFixed(2)})` : '-'))]);
  console.log(`  ${arch} done`);
  explainer.dispose();
  model.dispose();
}
console.log(table(['arch', ...COLUMNS.map((c) => (c in SMOOTHINGS ? `gradcam --${c === 'smooth' ? `smooth ${samples}` : c}` : c))], rows));
gpu.destroy();
