import { it } from 'vitest';
import { readNpy } from '../src/io/npy.js';
import { Model } from '../src/runtime/model.js';
import { useGpu } from './support/gpu.js';
const gpu = useGpu();
const names = (process.env.MODELS ?? 'vit_b_16,vit_b_16_op18,swin_t,convnext_tiny,convnext_tiny_op18,lraspp,unet,r3d_18,net1d').split(',');
for (const name of names) {
  it(name, async () => {
    try {
      const model = Model.fromFile(gpu(), `/tmp/models/${name}.onnx`);
      const x = readNpy(`/tmp/models/${name}.x.npy`);
      const want = readNpy(`/tmp/models/${name}.y.npy`);
      const t0 = performance.now();
      const y = (await model.run({ shape: x.shape, data: x.data as Float32Array })).get(model.graph.outputs[0])!;
      let diff = 0, max = 0;
      for (let i = 0; i < y.data.length; i++) { diff = Math.max(diff, Math.abs(y.data[i] - Number(want.data[i]))); max = Math.max(max, Math.abs(Number(want.data[i]))); }
      console.log(`${name}: shape [${y.shape}] vs [${want.shape}], max abs err ${diff.toExponential(2)}, rel ${(diff / max).toExponential(2)} (${(performance.now() - t0).toFixed(0)} ms)`);
    } catch (e) { console.log(`${name}: ${(e as Error).message.slice(0, 400)}`); }
  });
}
