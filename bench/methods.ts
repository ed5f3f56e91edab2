// Time per image of every method against Grad-CAM's, on three torchvision reference models (generated
// by `npm test` into .cache/references), at the default layer and each image's top-1 class. Each method
// runs alone (its own plan: forward, the backward pass it needs, its map kernel), so the columns compare
// what a user asking for that one method waits for.
//   npm run bench:methods [-- --runs N --arch resnet18,mobilenet_v2,squeezenet1_1]
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Explainer, METHODS } from '../src/explain/explainer.js';
import { createGpuContext, describeAdapter } from '../src/gpu/context.js';
import { UserError } from '../src/errors.js';
import { readNpyFloat32 } from '../src/io/npy.js';
import { Model } from '../src/runtime/model.js';
import { fmt, median, table, torchvisionModels } from './common.js';

const { values } = parseArgs({
  options: { runs: { type: 'string', default: '3' }, arch: { type: 'string', default: 'resnet18,mobilenet_v2,squeezenet1_1' } },
});
const runs = Number(values.runs);
const models = torchvisionModels(values.arch.split(','));
if (models.length === 0) {
  console.error('no reference models in .cache/references/torchvision: run `npm test` (or scripts/make_torchvision_refs.py) first');
  process.exit(1);
}

const gpu = await createGpuContext();
console.log(`adapter: ${describeAdapter(gpu.adapter)}; wall ms per image, median of ${runs} runs after one warm-up; (x) = ratio to Grad-CAM`);
const rows: string[][] = [];
for (const { arch, dir } of models) {
  const model = Model.fromFile(gpu, join(dir, 'model.onnx'));
  const explainer = new Explainer(model);
  const input = readNpyFloat32(join(dir, 'input.npy'));
  const batch = input.shape[0];
  const perImage: Record<string, number> = {};
  for (const method of METHODS) {
    let usable = true;
    try {
      await explainer.explain(input, { method });
    } catch (e) {
      if (!(e instanceof UserError)) throw e;
      usable = false; // CAM needs a global-average-pooling head
    }
    if (!usable) continue;
    const wall: number[] = [];
    for (let i = 0; i < runs; i++) wall.push((await explainer.explain(input, { method })).timings.wallMs);
    perImage[method] = median(wall) / batch;
  }
  const base = perImage.gradcam;
  rows.push([arch, ...METHODS.map((m) => (m in perImage ? `${fmt(perImage[m])} (${(perImage[m] / base).toFixed(2)})` : '-'))]);
  console.log(`  ${arch} done`);
  explainer.dispose();
  model.dispose();
}
console.log(table(['arch', ...METHODS], rows));
gpu.destroy();
