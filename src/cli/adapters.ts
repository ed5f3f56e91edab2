// `gradcam adapters`: the adapters Dawn sees, for --adapter NAME|INDEX.
import { listAdapters } from '../platform/index.js';
import { parse } from './args.js';
import { textTable } from './table.js';

export const ADAPTERS_HELP = `gradcam adapters [--json]
  Lists the WebGPU adapters Dawn sees on this machine (index, backend, name). Every command that uses
  the GPU takes --adapter NAME (any part of a name) or --adapter INDEX (from this list) to run there
  instead of on the default high-performance adapter.

examples:
  gradcam adapters
  gradcam info --adapter 1
  gradcam explain --adapter llvmpipe --model m.onnx --image cat.jpg --out maps/`;

export async function adapters(argv: string[]): Promise<void> {
  const { values } = parse(argv, { json: { type: 'boolean' } });
  const found = await listAdapters();
  if (values.json) {
    console.log(JSON.stringify(found.map((a, index) => ({ index, ...a }))));
    return;
  }
  if (found.length === 0) {
    console.log('no adapters: install a GPU driver, or Mesa\'s lavapipe (scripts/install-system-deps.sh)');
    return;
  }
  console.log(textTable(['index', 'backend', 'name'], found.map((a, i) => [String(i), a.backend, a.name]), (c) => c > 0));
}
