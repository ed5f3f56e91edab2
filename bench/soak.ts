// A long run in one process, as a service lives: N explanations of the demo model (default 10,000),
// cycling through 16 images and three methods with `--concurrency` calls in flight at once, and other
// input sizes now and then under a small plan budget, so that plans are made, evicted and made again. It reports RSS at 1,000 calls
// (or a tenth of the calls, if fewer) and at the end side by side (the ratio should stay within 1.05), the calls that failed (none), and
// whether every repeated input gave, bit for bit, what it gave the first time.
//   npm run bench:soak [-- --calls N --concurrency K]
import { parseArgs } from 'node:util';
import { join } from 'node:path';
import { Explainer, type Explanation } from '../src/explain/explainer.js';
import { createGpuContext, describeAdapter } from '../src/gpu/context.js';
import { Model, type Tensor } from '../src/runtime/model.js';
import { ROOT, table } from './common.js';

const { values } = parseArgs({ options: { calls: { type: 'string', default: '10000' }, concurrency: { type: 'string', default: '4' } } });
const calls = Number(values.calls);
/** Where the first RSS reading is taken: after the plans and pools have warmed up. */
const checkpoint = Math.min(1000, Math.ceil(calls / 10));
const concurrency = Number(values.concurrency);

const gpu = await createGpuContext();
console.log(`adapter: ${describeAdapter(gpu.adapter)}`);
// A budget that holds a few plans, so that the sizes below are evicted and made again.
const model = Model.fromFile(gpu, join(ROOT, 'weights', 'demo.onnx'), { maxPlanBytes: 48 * 2 ** 20 });
const explainer = new Explainer(model);

const SIZES = [128, 128, 128, 96, 128, 160, 128, 112];
const IMAGES = 16;
function input(i: number): Tensor {
  const size = SIZES[i % SIZES.length];
  const seed = i % IMAGES;
  let state = (seed + 1) * 2654435761;
  const data = Float32Array.from({ length: 3 * size * size }, () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 31 - 1;
  });
  return { shape: [1, 3, size, size], data };
}
const key = (i: number) => `${SIZES[i % SIZES.length]}:${i % IMAGES}:${i % 3}`;
const bits = (e: Explanation) => Buffer.from(e.map.data.buffer, e.map.data.byteOffset, e.map.data.byteLength).toString('base64');

const first = new Map<string, string>();
let mismatches = 0;
let failures = 0;
let done = 0;
const rss: Record<string, number> = {};
const start = performance.now();
const mib = () => process.memoryUsage().rss / 2 ** 20;

async function one(i: number): Promise<void> {
  const methods = ['gradcam', 'layercam', 'gradcam++'] as const;
  try {
    const e = await explainer.explain(input(i), { method: methods[i % 3] });
    const seen = first.get(key(i));
    if (seen === undefined) first.set(key(i), bits(e));
    else if (seen !== bits(e)) mismatches++;
  } catch (error) {
    failures++;
    if (failures <= 3) console.error(`call ${i}: ${(error as Error).message}`);
  }
  done++;
  if (done === checkpoint) rss.early = mib();
  if (done % 1000 === 0) process.stderr.write(`\r${done} / ${calls} calls, RSS ${mib().toFixed(0)} MiB`);
}

let next = 0;
await Promise.all(
  Array.from({ length: concurrency }, async () => {
    while (next < calls) await one(next++);
  }),
);
process.stderr.write('\n');
rss.end = mib();
const seconds = (performance.now() - start) / 1000;
console.log(
  table(
    ['calls', 'concurrent', 'calls/s', `RSS at ${checkpoint.toLocaleString('en')} (MiB)`, `RSS at ${calls.toLocaleString('en')} (MiB)`, 'ratio', 'failed', 'repeats not bit-identical'],
    [[String(calls), String(concurrency), (calls / seconds).toFixed(1), rss.early.toFixed(0), rss.end.toFixed(0), (rss.end / rss.early).toFixed(3), String(failures), String(mismatches)]],
  ),
);
explainer.dispose();
model.dispose();
gpu.dispose();
if (failures > 0 || mismatches > 0 || rss.end / rss.early > 1.05) process.exitCode = 1;
