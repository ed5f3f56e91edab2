// A fuzzer over what a user can hand the engine: ONNX bytes with bytes flipped, cut short or repeated,
// and inputs of wrong shapes, sizes and values (NaN, infinities, huge and denormal numbers). 1,000
// seeded cases; each must end within its time limit with a result or an error the engine raised on
// purpose (a UserError, whose message is one line), never a crash, a hang or another kind of error.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UserError } from '../src/errors.js';
import { Explainer } from '../src/explain/explainer.js';
import { Model, type Tensor } from '../src/runtime/model.js';
import { FIXTURES } from './support/fixtures.js';
import { useGpu } from './support/gpu.js';

const gpu = useGpu();
const CASES = 1000;
/** Far above one case's time on lavapipe (tens of ms): a case that takes this long has hung. */
const CASE_LIMIT_MS = 20_000;

const SOURCES = ['nets/resnet_like_opset13', 'nets/mobilenetv3_like_opset11', 'ops/conv_dilation2', 'ops/maxpool_3x3_s2_p1', 'ops/add_bcast_nc11'].map((d) => readFileSync(join(FIXTURES, d, 'model.onnx')));

/** A small deterministic generator (mulberry32). */
function generator(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
  return { next, int: (n: number) => Math.floor(next() * n), pick: <T>(xs: readonly T[]) => xs[Math.floor(next() * xs.length)] };
}

function mutateBytes(bytes: Uint8Array, r: ReturnType<typeof generator>): Uint8Array {
  const out = Uint8Array.from(bytes);
  switch (r.int(6)) {
    case 0: // flip a few bytes
      for (let i = r.int(8) + 1; i > 0; i--) out[r.int(out.length)] = r.int(256);
      return out;
    case 1: // cut short
      return out.subarray(0, r.int(out.length));
    case 2: // a run repeated
    {
      const at = r.int(out.length);
      const run = out.subarray(at, at + r.int(64) + 1);
      return Uint8Array.from([...out.subarray(0, at), ...run, ...run, ...out.subarray(at + run.length)]);
    }
    default: // unchanged model (half the cases), mutated input
      return out;
  }
}

const SPECIAL = [Number.NaN, Infinity, -Infinity, 3e38, -3e38, 1e-40, 0, -0];

function mutateInput(shape: number[], r: ReturnType<typeof generator>): Tensor {
  let s = [...shape];
  switch (r.int(10)) {
    case 0: s = s.map((d) => (r.next() < 0.3 ? r.int(3 * d + 2) : d)); break; // other sizes, zeros too
    case 1: s = s.slice(0, r.int(s.length)); break; // fewer dimensions
    case 2: s = [...s, 1 + r.int(3)]; break; // more
    default: break;
  }
  const count = s.reduce((a, b) => a * b, 1);
  const length = r.next() < 0.1 ? Math.max(0, count + r.int(5) - 2) : count;
  const data = Float32Array.from({ length: Math.min(length, 1 << 22) }, () => r.next() * 2 - 1);
  if (r.next() < 0.3 && data.length > 0) for (let i = r.int(3) + 1; i > 0; i--) data[r.int(data.length)] = r.pick(SPECIAL);
  return { shape: s, data };
}

async function withLimit<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`hung: no answer in ${ms} ms`)), ms)));
  try {
    return await Promise.race([work, limit]);
  } finally {
    clearTimeout(timer);
  }
}

describe('fuzzing models and inputs', () => {
  it(`${CASES} mutated models and inputs end in a result or a one-line UserError`, async () => {
    const unexpected: string[] = [];
    const outcomes = { ran: 0, refused: 0 };
    for (let c = 0; c < CASES; c++) {
      const r = generator(c + 1);
      const source = r.pick(SOURCES);
      const bytes = mutateBytes(source, r);
      let model: Model | undefined;
      try {
        await withLimit(
          (async () => {
            model = Model.fromBytes(gpu(), bytes, `case ${c}`);
            const input = model.graph.inputs[0];
            const shape = input.dims.map((d) => (d > 0 ? d : 2));
            const x = mutateInput(shape, r);
            if (r.next() < 0.5 || x.shape.length !== 4) await model.run(model.graph.inputs.length === 1 ? x : new Map([[input.name, x]]));
            else await new Explainer(model).explain(x, { method: r.pick(['gradcam', 'layercam', 'guided-backprop'] as const) });
          })(),
          CASE_LIMIT_MS,
        );
        outcomes.ran++;
      } catch (e) {
        const error = e as Error;
        if (error instanceof UserError && !error.message.includes('\n') && error.message.length > 0) outcomes.refused++;
        else unexpected.push(`case ${c}: ${error?.constructor?.name}: ${error?.message}`);
      } finally {
        model?.dispose();
      }
    }
    console.log(`fuzz: ${outcomes.ran} ran, ${outcomes.refused} refused with a UserError, ${unexpected.length} other`);
    expect(unexpected).toEqual([]);
    // The mutations reach both ends: some cases run, some are refused.
    expect(outcomes.ran).toBeGreaterThan(CASES / 10);
    expect(outcomes.refused).toBeGreaterThan(CASES / 10);
  });
});
