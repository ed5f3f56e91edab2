// Opens the GPU and the model for one command and always releases them, so the process exits by itself.
import { createGpuContext, type GpuContext } from '../gpu/context.js';
import { listAdapters } from '../platform/index.js';
import { UserError } from '../errors.js';
import { readLabels } from '../io/labels.js';
import { Model } from '../runtime/model.js';

/** The adapter --adapter asked for (a name, or an index into `gradcam adapters`), for every command. */
let adapterChoice: string | undefined;

export function chooseAdapter(choice: string | undefined): void {
  adapterChoice = choice;
}

/** The GPU context on the adapter --adapter chose, or the default one. */
export async function openGpu(): Promise<GpuContext> {
  if (adapterChoice === undefined) return createGpuContext();
  if (/^\d+$/.test(adapterChoice)) {
    const adapters = await listAdapters();
    const chosen = adapters[Number(adapterChoice)];
    if (!chosen) throw new UserError(`--adapter ${adapterChoice}: there ${adapters.length === 1 ? 'is 1 adapter' : `are ${adapters.length} adapters`} (gradcam adapters lists them)`);
    return createGpuContext({ adapterName: chosen.name });
  }
  return createGpuContext({ adapterName: adapterChoice });
}

export async function withModel<T>(modelPath: string, work: (model: Model, gpu: GpuContext) => Promise<T>): Promise<T> {
  const gpu = await openGpu();
  let model: Model | undefined;
  try {
    model = Model.fromFile(gpu, modelPath);
    return await work(model, gpu);
  } finally {
    model?.dispose();
    gpu.destroy();
  }
}

export function loadLabels(path: string | undefined): string[] | undefined {
  if (!path) return undefined;
  try {
    return readLabels(path);
  } catch (e) {
    throw new UserError((e as Error).message);
  }
}
