// `gradcam layers`: the layers that can be explained in a layout, with shapes and grids, and the default.
import { Explainer } from '../explain/explainer.js';
import { UserError } from '../errors.js';
import { intList, parse, required } from './args.js';
import { layoutOptions } from './targets.js';
import { withModel } from './session.js';

export const LAYERS_HELP = `gradcam layers --model M.onnx [--shape N,C,...] [--layout nchw|tokens|channels-last [--grid HxW]] [--output NAME] [--json]
  Lists the layers upstream of the class scores that the layout reads (default nchw: [N, C, spatial...]
  with the input's spatial axes), each with its grid of positions, and marks the default layer.
  --shape N,C,...      input shape to infer the layer shapes for (default: the model's, 224 where a
                       spatial size is unset); [N, C, L] for signals, [N, C, D, H, W] for volumes
  --layout L           tokens: [N, T, C] layers on a grid (vision transformers); channels-last:
                       [N, H, W, C] layers (Swin)

examples:
  gradcam layers --model resnet50.onnx
  gradcam layers --model resnet50.onnx --shape 1,3,320,256 --json
  gradcam layers --model vit_b_16.onnx --layout tokens`;

export async function layers(argv: string[]): Promise<void> {
  const { values } = parse(argv, {
    model: { type: 'string' }, shape: { type: 'string' }, output: { type: 'string' }, json: { type: 'boolean' },
    layout: { type: 'string' }, grid: { type: 'string' },
  });
  const modelPath = required(values.model as string | undefined, '--model');
  const shape = intList(values.shape as string | undefined, '--shape');
  if (shape && (shape.length < 3 || shape.length > 5 || shape.some((d) => d <= 0))) throw new UserError('--shape takes three to five positive integers: N,C,L or N,C,H,W or N,C,D,H,W');
  const reading = layoutOptions(values);
  await withModel(modelPath, async (model) => {
    const declared = model.graph.inputs[0].dims;
    const rank = declared.length >= 3 && declared.length <= 5 ? declared.length : 4;
    const fallback = [1, 3, ...Array(rank - 2).fill(224)];
    const inputShape = shape ?? fallback.map((v, i) => (declared[i] > 0 ? declared[i] : v));
    const { layers: list, default: chosen } = new Explainer(model).layers(inputShape, values.output as string | undefined, reading);
    if (values.json) {
      const rows = list.map(({ layout, ...l }) => ({ ...l, layout: layout.name, grid: layout.spatial, channels: layout.channels, classToken: layout.classToken }));
      console.log(JSON.stringify({ inputShape, layout: reading.layout ?? 'nchw', default: chosen.tensor, layers: rows }, null, 2));
      return;
    }
    console.log(`input [${inputShape}], layout ${reading.layout ?? 'nchw'}; * marks the default layer`);
    for (const l of list) {
      const grid = `grid ${l.layout.spatial.join('x')}${l.layout.classToken ? ' + class token' : ''}, ${l.layout.channels} channels`;
      console.log(`${l === chosen ? '*' : ' '} ${l.tensor.padEnd(48)} [${l.shape.join(', ')}]  ${grid}  ${l.opType} node "${l.node}"`);
    }
  });
}
