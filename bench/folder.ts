// Folder throughput: `gradcam explain --images DIR --out DIR` end to end (decoding, the GPU, writing the
// overlays and the manifest) in images per second at batch 1, 8 and 32, on the demo model and on
// resnet50 (the torchvision reference model that `npm test` generates), the same images for each batch.
// Then, at batch 8, the ways to spread a folder side by side: one process, worker processes on adapter 0
// (--adapters 0 and 0,0) and, where redis-server is installed, the BullMQ queue with one and two workers.
//   npm run bench:folder [-- --images 32 --batches 1,8,32 --arch demo,resnet50]
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, copyFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { main } from '../src/cli/main.js';
import { createGpuContext, describeAdapter } from '../src/gpu/context.js';
import { WEIGHTS_DIR } from '../src/io/paths.js';
import { ROOT, table, torchvisionModels } from './common.js';

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

// The ways to spread a folder, at batch 8, on the first model.
const launcher = join(ROOT, 'bin', 'gradcam.js');
const gradcam = (...args: string[]) => spawnSync(process.execPath, [launcher, ...args], { encoding: 'utf8' });
const model = models[0];
const common = ['--model', model.path, ...model.crop];
const rate = (seconds: number) => (count / seconds).toFixed(2);
const modes: [string, string][] = [];
for (const [name, extra] of [['one process', []], ['--adapters 0 (1 worker)', ['--adapters', '0']], ['--adapters 0,0 (2 workers)', ['--adapters', '0,0']]] as [string, string[]][]) {
  const start = performance.now();
  const r = gradcam('explain', ...common, '--images', images, '--out', join(work, 'spread'), '--batch', '8', ...extra);
  if (r.status !== 0) throw new Error(r.stderr);
  modes.push([name, rate((performance.now() - start) / 1000)]);
}
if (spawnSync('sh', ['-c', 'command -v redis-server']).status === 0) {
  const port = await new Promise<number>((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port: p } = server.address() as AddressInfo;
      server.close(() => resolve(p));
    });
  });
  const redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', work, '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const url = `redis://127.0.0.1:${port}`;
  const status = () => JSON.parse(gradcam('queue', 'status', '--redis', url, '--json').stdout || '{}') as { completed?: number };
  while (status().completed === undefined) await new Promise((r) => setTimeout(r, 100));
  for (const workers of [1, 2]) {
    const queueName = `bench-${workers}`;
    gradcam('queue', 'add', '--redis', url, '--queue', queueName, ...common, '--images', images, '--out', join(work, queueName), '--batch', '8');
    const jobs = Math.ceil(count / 8);
    const start = performance.now();
    const running: ChildProcess[] = Array.from({ length: workers }, () => spawn(process.execPath, [launcher, 'worker', '--redis', url, '--queue', queueName], { stdio: 'ignore' }));
    while ((JSON.parse(gradcam('queue', 'status', '--redis', url, '--queue', queueName, '--json').stdout) as { completed: number }).completed < jobs) await new Promise((r) => setTimeout(r, 200));
    modes.push([`queue, ${workers} worker${workers > 1 ? 's' : ''}`, rate((performance.now() - start) / 1000)]);
    for (const w of running) w.kill('SIGTERM');
  }
  redis.kill('SIGTERM');
} else {
  modes.push(['queue', 'no redis-server']);
}
console.log(`\n${model.name}, batch 8, images/s end to end (worker processes and queue workers include their start):`);
console.log(table(['mode', 'images/s'], modes));
rmSync(work, { recursive: true });
