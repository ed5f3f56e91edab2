// The fused Grad-CAM kernel against its unfused composition (four dispatches), on the same model,
// layer and input, in one run: GPU time of the map phase, median of several runs.
//   npm run bench:cam [-- --runs N --arch resnet18,vgg16]
import { parseArgs } from 'node:util';
import { join } from 'node:path';
import { Explainer } from '../src/explain/explainer.js';
import { createGpuContext, describeAdapter } from '../src/gpu/context.js';
import { readNpyFloat32 } from '../src/io/npy.js';
import { Model } from '../src/runtime/model.js';
import { fmt, median, ROOT, table, torchvisionModels } from './common.js';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '10' }, arch: { type: 'string' } } });
const runs = Number(values.runs);

const gpu = await createGpuContext();
console.log(`adapter: ${describeAdapter(gpu.adapter)}`);
if (!gpu.hasTimestamps) console.log('(no timestamp queries on this adapter: the wall time of the whole explanation is shown instead)');

const cases = [
  { name: 'demo', model: join(ROOT, 'weights', 'demo.onnx'), input: undefined as string | undefined },
  ...torchvisionModels(values.arch?.split(',')).map((m) => ({ name: m.arch, model: m.model, input: join(m.dir, 'input.npy') })),
];
const rows: string[][] = [];
for (const c of cases) {
  const model = Model.fromFile(gpu, c.model);
  const explainer = new Explainer(model);
  const input = c.input ? readNpyFloat32(c.input) : demoInput(model);
  const time = async (unfused: boolean) => {
    await explainer.explain(input, { unfused }); // compiles the plan
    const samples: number[] = [];
    for (let i = 0; i < runs; i++) {
      const r = await explainer.explain(input, { unfused });
      samples.push(r.timings.camMs ?? r.timings.wallMs);
    }
    return median(samples);
  };
  const fused = await time(false);
  const unfused = await time(true);
  const layer = explainer.layers(input.shape).default;
  rows.push([c.name, `[${layer.shape}]`, `${input.shape[2]}x${input.shape[3]}`, fmt(fused), fmt(unfused), (unfused / fused).toFixed(2)]);
  explainer.dispose();
  model.dispose();
}
console.log(table(['model', 'layer', 'map', 'fused ms', 'unfused ms', 'speed-up'], rows));
gpu.destroy();

function demoInput(model: Model) {
  const [, c, h, w] = model.graph.inputs[0].dims.map((d) => (d > 0 ? d : 2));
  return { shape: [2, c, h, w], data: Float32Array.from({ length: 2 * c * h * w }, (_, i) => Math.sin(i * 0.37)) };
}
