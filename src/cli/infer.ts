// `gradcam infer`: the forward pass; writes the first output as .npy, or prints the top-5 per image.
import { writeNpy } from '../io/npy.js';
import { parse, required } from './args.js';
import { INPUT_HELP, INPUT_OPTIONS, type InputValues, readModelInput } from './inputs.js';
import { loadLabels, withModel } from './session.js';

export const INFER_HELP = `gradcam infer --model M.onnx (--input X.npy | --image FILE...) [--npy OUT.npy] [--json] [--labels FILE]
  Runs the forward pass. Writes the first graph output as a float32 NumPy array with --npy; prints
  the top-5 classes of each image (names from --labels) otherwise.
${INPUT_HELP}
  --labels FILE        class names, one per line (or a JSON array)
  --json               machine-readable output on stdout

examples:
  gradcam infer --model resnet50.onnx --image cat.jpg --labels imagenet.txt
  gradcam infer --model resnet50.onnx --input batch.npy --npy logits.npy`;

export async function infer(argv: string[]): Promise<void> {
  const { values, positionals } = parse(argv, { model: { type: 'string' }, npy: { type: 'string' }, json: { type: 'boolean' }, labels: { type: 'string' }, ...INPUT_OPTIONS }, true);
  const modelPath = required(values.model as string | undefined, '--model');
  const input = readModelInput(values as InputValues, positionals);
  const labels = loadLabels(values.labels as string | undefined);
  await withModel(modelPath, async (model) => {
    const start = performance.now();
    const output = model.graph.outputs[0];
    const y = (await model.run(input.tensor)).get(output)!;
    const ms = performance.now() - start;
    if (values.npy) writeNpy(values.npy as string, y.shape, y.data);
    const batch = y.shape[0];
    const perImage = y.data.length / batch;
    const results = input.names.map((name, n) => ({ name, top5: topK(y.data.subarray(n * perImage, (n + 1) * perImage), 5, labels) }));
    if (values.json) {
      console.log(JSON.stringify({ output, shape: y.shape, npy: values.npy ?? null, ms, images: results }, null, 2));
      return;
    }
    if (values.npy) console.log(`wrote ${values.npy} ${JSON.stringify(y.shape)} (${ms.toFixed(1)} ms)`);
    else for (const r of results) console.log(`${r.name}: ${r.top5.map((t) => `${t.label ?? t.class} ${t.score.toFixed(3)}`).join(', ')}`);
  });
}

/** The softmax of a row of scores, in float64 (captions and summaries: probabilities read by people). */
export function softmax(scores: ArrayLike<number>): Float64Array {
  const max = Math.max(...Array.from(scores));
  const exps = Float64Array.from(scores, (v) => Math.exp(v - max));
  const sum = exps.reduce((s, v) => s + v, 0);
  return exps.map((v) => v / sum);
}

export function topK(scores: Float32Array, k: number, labels?: string[]) {
  return [...scores.keys()]
    .sort((a, b) => scores[b] - scores[a])
    .slice(0, k)
    .map((c) => ({ class: c, label: labels?.[c], score: scores[c] }));
}
