// Opens the GPU and the model for one command and always releases them, so the process exits by itself.
import { createGpuContext, type GpuContext } from '../gpu/context.js';
import { UserError } from '../errors.js';
import { readLabels } from '../io/labels.js';
import { Model } from '../runtime/model.js';

export async function withModel<T>(modelPath: string, work: (model: Model, gpu: GpuContext) => Promise<T>): Promise<T> {
  const gpu = await createGpuContext();
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
