// `gradcam info`: the adapter and the limits that matter for large CNNs, or with --model a model's
// summary (opset, inputs, outputs, ops, weights and the float16/bfloat16 ones widened at load).
import { describeAdapter } from '../gpu/context.js';
import { elementCount, type Graph } from '../graph/ir.js';
import { loadOnnxFile } from '../onnx/load.js';
import { openGpu } from './session.js';
import { parse } from './args.js';

export const INFO_HELP = `gradcam info [--model M.onnx] [--json]
  Prints the WebGPU adapter (vendor, architecture, description, backend) and its limits; with --model,
  the model instead: its opset, inputs, outputs, ops and weights (those stored as float16 or bfloat16
  are widened to float32 at load: the engine computes in float32).

examples:
  gradcam info
  gradcam info --json
  gradcam info --model weights/demo.onnx`;

const LIMITS = [
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupsPerDimension',
  'maxStorageBuffersPerShaderStage',
  'minStorageBufferOffsetAlignment',
] as const;

/** What `info --model` reports, as JSON. */
export function modelSummary(graph: Graph) {
  const ops: Record<string, number> = {};
  for (const node of graph.nodes) ops[node.opType] = (ops[node.opType] ?? 0) + 1;
  let parameters = 0;
  for (const c of graph.constants.values()) if (c.dtype === 'float32') parameters += elementCount(c.shape);
  return {
    opset: graph.opset,
    inputs: graph.inputs.map((i) => ({ name: i.name, dims: i.dims })),
    outputs: graph.outputs,
    nodes: graph.nodes.length,
    ops,
    parameters,
    widened: graph.widened ?? {},
  };
}

export async function info(argv: string[]): Promise<void> {
  const { values } = parse(argv, { json: { type: 'boolean' }, model: { type: 'string' } });
  if (values.model) {
    const summary = modelSummary(loadOnnxFile(values.model as string));
    if (values.json) {
      console.log(JSON.stringify(summary, null, 2));
      return;
    }
    const dims = (d: number[]) => `[${d.map((v) => (v < 0 ? '?' : v)).join(', ')}]`;
    console.log(`opset:       ${summary.opset}`);
    console.log(`inputs:      ${summary.inputs.map((i) => `${i.name} ${dims(i.dims)}`).join(', ')}`);
    console.log(`outputs:     ${summary.outputs.join(', ')}`);
    console.log(`nodes:       ${summary.nodes} (${Object.entries(summary.ops).map(([op, n]) => `${op} ${n}`).join(', ')})`);
    console.log(`parameters:  ${summary.parameters}`);
    const widened = Object.entries(summary.widened);
    console.log(`widened:     ${widened.length ? `${widened.map(([type, n]) => `${n} ${type} initializer${n > 1 ? 's' : ''}`).join(', ')} read as float32` : 'none (every weight is float32)'}`);
    return;
  }
  const gpu = await openGpu();
  try {
    const limits = Object.fromEntries(LIMITS.map((k) => [k, gpu.limits[k]]));
    if (values.json) {
      console.log(JSON.stringify({ adapter: gpu.adapter, timestampQuery: gpu.hasTimestamps, limits }, null, 2));
      return;
    }
    const a = gpu.adapter;
    console.log(`adapter:       ${describeAdapter(a)}`);
    console.log(`vendor:        ${a.vendor}`);
    console.log(`architecture:  ${a.architecture}`);
    console.log(`device:        ${a.device || '-'}`);
    console.log(`description:   ${a.description || '-'}`);
    console.log(`backend:       ${a.backend}`);
    console.log(`timestamps:    ${gpu.hasTimestamps ? 'yes' : 'no'}`);
    for (const [k, v] of Object.entries(limits)) console.log(`${k.padEnd(34)} ${v}${v >= 2 ** 20 ? ` (${(v / 2 ** 20).toFixed(0)} MiB)` : ''}`);
  } finally {
    gpu.destroy();
  }
}
