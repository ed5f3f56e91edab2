// The full-size models of the architecture families the engine must run (scripts/export_families.py:
// ViT-B/16 at opsets 13 and 18, Swin-T, ConvNeXt-T at 17 and 18, LR-ASPP, r3d_18, a U-Net, a 1-D CNN),
// each model's forward pass against its float64 PyTorch output, side by side: max |error| relative to
// the output's largest value, and the time of a warm run.
//   /usr/bin/python3 scripts/export_families.py && npm run bench:families
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createGpuContext, describeAdapter } from '../src/gpu/context.js';
import { readNpy } from '../src/io/npy.js';
import { Model } from '../src/runtime/model.js';
import { ROOT, table } from './common.js';

const DIR = join(ROOT, '.cache', 'families');
if (!existsSync(DIR)) {
  console.error(`no models in ${DIR}: run /usr/bin/python3 scripts/export_families.py first`);
  process.exit(1);
}
const names = readdirSync(DIR).filter((f) => f.endsWith('.onnx')).map((f) => f.slice(0, -5)).sort();
const gpu = await createGpuContext();
console.log(`adapter: ${describeAdapter(gpu.adapter)}`);
const rows: string[][] = [];
for (const name of names) {
  const x = readNpy(join(DIR, `${name}.x.npy`));
  const want = readNpy(join(DIR, `${name}.y.npy`));
  try {
    const model = Model.fromFile(gpu, join(DIR, `${name}.onnx`));
    const input = { shape: x.shape, data: x.data as Float32Array };
    await model.run(input);
    const start = performance.now();
    const y = (await model.run(input)).get(model.graph.outputs[0])!;
    const ms = performance.now() - start;
    let error = 0;
    let largest = 0;
    for (let i = 0; i < y.data.length; i++) {
      error = Math.max(error, Math.abs(y.data[i] - Number(want.data[i])));
      largest = Math.max(largest, Math.abs(Number(want.data[i])));
    }
    rows.push([name, `opset ${model.graph.opset}`, `[${x.shape}]`, `[${y.shape}]`, (error / largest).toExponential(1), ms.toFixed(0)]);
    model.dispose();
  } catch (e) {
    rows.push([name, '-', `[${x.shape}]`, '-', `refused: ${(e as Error).message.slice(0, 80)}`, '-']);
  }
}
console.log(table(['model', 'opset', 'input', 'output', 'error (rel. to max)', 'ms'], rows));
gpu.destroy();
