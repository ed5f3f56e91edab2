// One GPU context per test file, opened before its tests and destroyed after them.
import { afterAll, beforeAll } from 'vitest';
import { createGpuContext, type GpuContext } from '../../src/gpu/context.js';

export function useGpu(): () => GpuContext {
  let gpu: GpuContext | undefined;
  beforeAll(async () => {
    gpu = await createGpuContext();
  });
  afterAll(() => gpu?.destroy());
  return () => {
    if (!gpu) throw new Error('GPU context not open yet');
    return gpu;
  };
}
