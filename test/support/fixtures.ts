// Reads the fixture folders written by scripts/make_op_fixtures.py and scripts/make_torchvision_refs.py:
// a model.onnx, float32 inputs x0.npy, x1.npy, ..., float64 references, and a meta.json.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readNpy } from '../../src/io/npy.js';
import type { Tensor } from '../../src/runtime/model.js';
import { caseInputs, relativeError as sharedRelativeError } from '../../src/evaluate/verify.js';

export const FIXTURES = join(import.meta.dirname, '..', 'fixtures');

export interface Reference {
  shape: number[];
  data: Float64Array;
}

export function caseDirs(root: string): string[] {
  if (!existsSync(root)) return [];
  return readdirSync(root, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(root, d.name, 'meta.json')))
    .map((d) => join(root, d.name))
    .sort();
}

export function readMeta<T = Record<string, unknown>>(dir: string): T {
  return JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')) as T;
}

export function readTensor(path: string): Tensor {
  const a = readNpy(path);
  if (a.dtype !== 'float32') throw new Error(`${path}: expected float32, got ${a.dtype}`);
  return { shape: a.shape, data: a.data as Float32Array };
}

export function readReference(path: string): Reference {
  const a = readNpy(path);
  const data = a.data instanceof Float64Array ? a.data : Float64Array.from(a.data as Float32Array);
  return { shape: a.shape, data };
}

/** The graph inputs x0, x1, ... of a fixture folder (as `gradcam verify` reads them). */
export const readInputs = caseInputs;

/** max |actual - expected| / max |expected|: the error measure of every acceptance criterion, and of `gradcam verify`. */
export function relativeError(actual: ArrayLike<number>, expected: Reference): number {
  if (actual.length !== expected.data.length) throw new Error(`length ${actual.length} != reference ${expected.data.length}`);
  return sharedRelativeError(actual, expected.data);
}

export function maxAbsError(actual: ArrayLike<number>, expected: Reference): number {
  if (actual.length !== expected.data.length) throw new Error(`length ${actual.length} != reference ${expected.data.length}`);
  let diff = 0;
  for (let i = 0; i < actual.length; i++) {
    if (!Number.isFinite(actual[i])) return Infinity;
    diff = Math.max(diff, Math.abs(actual[i] - expected.data[i]));
  }
  return diff;
}
