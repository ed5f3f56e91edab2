// `gradcam layers`: the feature maps that can be explained, with shapes, and the default.
import { Explainer } from '../explain/explainer.js';
import { UserError } from '../errors.js';
import { intList, parse, required } from './args.js';
import { withModel } from './session.js';

export const LAYERS_HELP = `gradcam layers --model M.onnx [--shape N,C,H,W] [--output NAME] [--json]
  Lists the 4-D feature maps upstream of the class scores and marks the default layer.
  --shape N,C,H,W      input shape to infer the layer shapes for (default: the model's, 224x224 where unset)

examples:
  gradcam layers --model resnet50.onnx
  gradcam layers --model resnet50.onnx --shape 1,3,320,256 --json`;

export async function layers(argv: string[]): Promise<void> {
  const { values } = parse(argv, { model: { type: 'string' }, shape: { type: 'string' }, output: { type: 'string' }, json: { type: 'boolean' } });
  const modelPath = required(values.model as string | undefined, '--model');
  const shape = intList(values.shape as string | undefined, '--shape');
  if (shape && (shape.length !== 4 || shape.some((d) => d <= 0))) throw new UserError('--shape takes four positive integers N,C,H,W');
  await withModel(modelPath, async (model) => {
    const declared = model.graph.inputs[0].dims;
    const inputShape = shape ?? [1, 3, 224, 224].map((fallback, i) => (declared[i] > 0 ? declared[i] : fallback));
    const { layers: list, default: chosen } = new Explainer(model).layers(inputShape, values.output as string | undefined);
    if (values.json) {
      console.log(JSON.stringify({ inputShape, default: chosen.tensor, layers: list }, null, 2));
      return;
    }
    console.log(`input [${inputShape}]; * marks the default layer`);
    for (const l of list) console.log(`${l === chosen ? '*' : ' '} ${l.tensor.padEnd(48)} [${l.shape.join(', ')}]  ${l.opType} node "${l.node}"`);
  });
}
