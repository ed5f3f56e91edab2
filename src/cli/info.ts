// `gradcam info`: the adapter and the limits that matter for large CNNs.
import { describeAdapter } from '../gpu/context.js';
import { openGpu } from './session.js';
import { parse } from './args.js';

export const INFO_HELP = `gradcam info [--json]
  Prints the WebGPU adapter (vendor, architecture, description, backend) and its limits.

examples:
  gradcam info
  gradcam info --json`;

const LIMITS = [
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupsPerDimension',
  'maxStorageBuffersPerShaderStage',
  'minStorageBufferOffsetAlignment',
] as const;

export async function info(argv: string[]): Promise<void> {
  const { values } = parse(argv, { json: { type: 'boolean' } });
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
