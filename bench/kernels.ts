// GFLOP/s of conv forward and backward-data (and a dense layer) on representative layers, for each GEMM
// variant, beside the adapter's FMA ceiling measured in the same run.
//   npm run bench:kernels [-- --runs N --variant registers|tiled --layer <substring>]
import { parseArgs } from 'node:util';
import { createGpuContext, describeAdapter } from '../src/gpu/context.js';
import { deviceTraits } from '../src/runtime/model.js';
import { fmaCeiling, type Layer, layerFlops, SQUARE_GEMM, table, timeLayer } from './common.js';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '5' }, variant: { type: 'string' }, layer: { type: 'string' } } });
const runs = Number(values.runs);

const LAYERS: Layer[] = [
  { name: 'conv 3x3 64->64 at 56x56', x: [1, 64, 56, 56], w: [64, 64, 3, 3], pad: 1 },
  { name: 'conv 3x3 256->256 at 14x14', x: [1, 256, 14, 14], w: [256, 256, 3, 3], pad: 1 },
  { name: 'conv 3x3/2 512->512 at 14x14', x: [1, 512, 14, 14], w: [512, 512, 3, 3], stride: 2, pad: 1 },
  { name: 'conv 1x1 1024->256 at 14x14', x: [1, 1024, 14, 14], w: [256, 1024, 1, 1] },
  { name: 'conv 7x7/2 3->64 stem at 224x224', x: [1, 3, 224, 224], w: [64, 3, 7, 7], stride: 2, pad: 3 },
  { name: 'depthwise 3x3 32 at 112x112', x: [1, 32, 112, 112], w: [32, 1, 3, 3], pad: 1, groups: 32 },
  { name: 'depthwise 3x3/2 96 at 112x112', x: [1, 96, 112, 112], w: [96, 1, 3, 3], stride: 2, pad: 1, groups: 96 },
  { name: 'depthwise 5x5/2 240 at 28x28', x: [1, 240, 28, 28], w: [240, 1, 5, 5], stride: 2, pad: 2, groups: 240 },
  { name: 'conv 1x1 2048->512 at 7x7', x: [1, 2048, 7, 7], w: [512, 2048, 1, 1] },
  { name: 'depthwise 3x3 960 at 7x7', x: [1, 960, 7, 7], w: [960, 1, 3, 3], pad: 1, groups: 960 },
  { name: 'conv3d 3x3x3 16->16 at 16x28x28', x: [1, 16, 16, 28, 28], w: [16, 16, 3, 3, 3], pad: 1 },
  { name: 'dense 25088->4096', x: [1, 25088], w: [4096, 25088] },
  { name: 'dense 4096->1000', x: [1, 4096], w: [1000, 4096] },
  SQUARE_GEMM,
];

const gpu = await createGpuContext();
if (!gpu.hasTimestamps) {
  console.error('this adapter has no timestamp queries; bench:kernels needs GPU times');
  process.exit(1);
}
const ceiling = await fmaCeiling(gpu);
console.log(`adapter: ${describeAdapter(gpu.adapter)}`);
console.log(`FMA probe ceiling: ${ceiling.toFixed(1)} GFLOP/s; median of ${runs} runs after one warm-up, batch 1`);
const variants = [
  { name: 'registers (CPU)', traits: deviceTraits(gpu, { isCpu: true }) },
  { name: 'tiled (GPU)', traits: deviceTraits(gpu, { isCpu: false }) },
].filter((v) => !values.variant || v.name.startsWith(values.variant));
const rows: string[][] = [];
const results: unknown[] = [];
for (const layer of LAYERS.filter((l) => !values.layer || l.name.includes(values.layer))) {
  for (const variant of layer.groups ? variants.slice(0, 1) : variants) {
    const r = await timeLayer(gpu, layer, variant.traits, runs);
    const work = layerFlops(layer, r.y) / 1e6;
    const rate = (ms: number) => work / ms;
    const name = layer.groups ? 'direct' : variant.name;
    rows.push([layer.name, name, `${(work / 1e3).toFixed(2)}`, r.forward.toFixed(2), rate(r.forward).toFixed(1), `${((100 * rate(r.forward)) / ceiling).toFixed(0)}%`, r.backward.toFixed(2), rate(r.backward).toFixed(1), `${((100 * rate(r.backward)) / ceiling).toFixed(0)}%`]);
    results.push({ layer: layer.name, variant: name, gflop: work / 1e3, forwardMs: r.forward, backwardMs: r.backward, forwardGflops: rate(r.forward), backwardGflops: rate(r.backward) });
  }
}
console.log(table(['layer', 'variant', 'GFLOP', 'fwd ms', 'fwd GFLOP/s', 'of ceiling', 'bwd-data ms', 'bwd GFLOP/s', 'of ceiling'], rows));
console.log(JSON.stringify({ adapter: describeAdapter(gpu.adapter), ceilingGflops: ceiling, results }));
gpu.destroy();
