// Folder throughput: `gradcam explain --images DIR --out DIR` end to end (decoding, the GPU, writing the
// overlays and the manifest) in images per second at batch 1, 8 and 32, on the demo model and on
// resnet50 (the torchvision reference model that `npm test` generates), the same images for each batch.
//   npm run bench:folder [-- --images 32 --batches 1,8,32 --arch demo,resnet50]
import { mkdirSync, mkdtempSync, readdirSync, rmSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { main } from '../src/cli/main.js';
import { createGpuContext, describeAdapter } from '../src/gpu/context.js';
import { WEIGHTS_DIR } from '../src/io/paths.js';
import { table, torchvisionModels } from './common.js';

const { values } = parseArgs({
  options: {
    images: { type: 'string', default: '32' },
    batches: { type: 'string', default: '1,8,32' },
    arch: { type: 'string', default: 'demo,resnet50' },
  },
});
const count = Number(values.images);
const batches = values.batches.split(',').map(Number);

const gpu = await createGpuContext();
const adapter = describeAdapter(gpu.adapter);
gpu.destroy();

// The demo's samples, repeated to `count` files.
const work = mkdtempSync(join(tmpdir(), 'gradcam-bench-folder-'));
const images = join(work, 'images');
mkdirSync(images);
const samples = readdirSync(join(WEIGHTS_DIR, 'samples')).filter((f) => /\.(png|jpe?g)$/.test(f));
for (let i = 0; i < count; i++) {
  const sample = samples[i % samples.length];
  copyFileSync(join(WEIGHTS_DIR, 'samples', sample), join(images, `${String(i).padStart(4, '0')}-${sample}`));
}

const models: { name: string; path: string; crop: string[] }[] = [];
for (const arch of values.arch.split(',')) {
  if (arch === 'demo') models.push({ name: 'demo (128x128)', path: join(WEIGHTS_DIR, 'demo.onnx'), crop: ['--resize', '128', '--crop', '128'] });
  else {
    const found = torchvisionModels([arch]).find((m) => m.dir.endsWith('-op13'));
    if (!found) {
      console.error(`no reference model for ${arch} in .cache/references/torchvision: run \`npm test\` first`);
      process.exit(1);
    }
    models.push({ name: `${arch} (176x144)`, path: found.model, crop: ['--resize', '176', '--crop', '176,144'] });
  }
}

console.log(`adapter: ${adapter}; ${count} images, explain --images end to end (decode, Grad-CAM, PNGs, manifest); images/s (x) = ratio to batch 1`);
const rows: string[][] = [];
const log = console.log;
for (const model of models) {
  const rates: number[] = [];
  for (const batch of batches) {
    const out = join(work, `out-${batch}`);
    console.log = () => {};
    const start = performance.now();
    await main(['explain', '--model', model.path, '--images', images, '--out', out, '--batch', String(batch), ...model.crop]);
    const seconds = (performance.now() - start) / 1000;
    console.log = log;
    if (process.exitCode) process.exit(1);
    rates.push(count / seconds);
    rmSync(out, { recursive: true });
  }
  rows.push([model.name, ...rates.map((r) => `${r.toFixed(2)} (${(r / rates[0]).toFixed(2)})`)]);
}
console.log(table(['model', ...batches.map((b) => `batch ${b}`)], rows));
rmSync(work, { recursive: true });
