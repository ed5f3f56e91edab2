// `gradcam verify`: the committed float64 reference cases run on this adapter, so that a user learns
// whether their GPU and driver compute what the engine claims. Every op's forward pass and gradient
// (test/fixtures/ops: float64 PyTorch, gradients by central differences) and three small nets (a plain
// conv net, a residual net, a depthwise net: the output, the layer's activations and gradient, the Grad-CAM
// map), each held to the test suite's limits; per kernel, the worst of the cases it ran in.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../errors.js';
import type { GpuContext } from '../gpu/context.js';
import { readNpy } from '../io/npy.js';
import { PACKAGE_ROOT } from '../io/paths.js';
import { Model, type Tensor } from '../runtime/model.js';
import { Explainer } from '../explain/explainer.js';

export const VERIFY_DIR = join(PACKAGE_ROOT, 'test', 'fixtures');
/** The nets `verify` runs: a plain conv net, a residual net, a depthwise (inverted-residual) net. */
export const VERIFY_NETS = ['alexnet_like_opset13', 'resnet_like_opset13', 'mobilenetv3_like_opset13'];

/**
 * The suite's limits (test/ops.test.ts, test/gradcam.test.ts), max |engine - float64| / max |float64|:
 * float32 forward passes over these short reductions round near 1e-6, hence 1e-5; gradients pass more
 * float32 operations (and the references' finite differences add ~1e-8), hence 1e-4, as for maps.
 */
export const LIMITS = { forward: 1e-5, backward: 1e-4, map: 1e-4 } as const;

export interface Check {
  case: string;
  what: string;
  error: number;
  limit: number;
  pass: boolean;
}

export interface KernelSummary {
  kernel: string;
  cases: number;
  /** The largest error / limit of the checks of the cases it ran in. */
  worstRatio: number;
  worstCase: string;
  pass: boolean;
}

export interface VerifyResult {
  checks: Check[];
  kernels: KernelSummary[];
  pass: boolean;
}

/**
 * max |actual - expected| / max |expected| (the difference itself where expected is all zeros); Infinity
 * for a length mismatch or a value that is not finite. The measure of every limit of the suite
 * (test/support/fixtures.ts) and of verify.
 */
export function relativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  if (actual.length !== expected.length) return Infinity;
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < actual.length; i++) {
    if (!Number.isFinite(actual[i])) return Infinity;
    diff = Math.max(diff, Math.abs(actual[i] - expected[i]));
    scale = Math.max(scale, Math.abs(expected[i]));
  }
  return scale === 0 ? diff : diff / scale;
}

function read(path: string): Tensor & { data: ArrayLike<number> } {
  const a = readNpy(path);
  return { shape: a.shape, data: a.data as Float32Array };
}

/** The graph inputs x0, x1, ... of a reference case's folder (float32). */
export function caseInputs(dir: string): Map<string, Tensor> {
  const inputs = new Map<string, Tensor>();
  for (let i = 0; existsSync(join(dir, `x${i}.npy`)); i++) {
    const path = join(dir, `x${i}.npy`);
    const a = readNpy(path);
    if (a.dtype !== 'float32') throw new UserError(`${path}: expected float32, got ${a.dtype}`);
    inputs.set(`x${i}`, { shape: a.shape, data: a.data as Float32Array });
  }
  return inputs;
}

/** The op cases (every folder of ops/ with a meta.json), then the nets; `filter` keeps those whose name contains it. */
export function verifyCases(filter?: string, root = VERIFY_DIR): { name: string; dir: string; kind: 'op' | 'net' }[] {
  if (!existsSync(join(root, 'ops'))) throw new UserError(`the reference cases are missing (${join(root, 'ops')}); reinstall the package`);
  const ops = readdirSync(join(root, 'ops'))
    .filter((d) => existsSync(join(root, 'ops', d, 'meta.json')))
    .sort()
    .map((d) => ({ name: d, dir: join(root, 'ops', d), kind: 'op' as const }));
  const nets = VERIFY_NETS.map((d) => ({ name: d, dir: join(root, 'nets', d), kind: 'net' as const })).filter((n) => existsSync(join(n.dir, 'meta.json')));
  const cases = [...ops, ...nets].filter((c) => !filter || c.name.includes(filter));
  if (cases.length === 0) throw new UserError(`no reference case matches "${filter}"`);
  return cases;
}

/** Runs one case; returns its checks and the kernels its plans dispatched. */
async function runCase(gpu: GpuContext, c: { name: string; dir: string; kind: 'op' | 'net' }): Promise<{ checks: Check[]; kernels: string[] }> {
  const meta = JSON.parse(readFileSync(join(c.dir, 'meta.json'), 'utf8')) as { backward?: boolean; tolerance?: number; gradcam_layer: string; logits: string; classes: number[] };
  const model = Model.fromFile(gpu, join(c.dir, 'model.onnx'));
  const explainer = new Explainer(model);
  const checks: Check[] = [];
  const check = (what: string, actual: ArrayLike<number>, expected: ArrayLike<number>, limit: number) => {
    const error = relativeError(actual, expected);
    checks.push({ case: c.name, what, error, limit, pass: error <= limit });
  };
  try {
    const inputs = caseInputs(c.dir);
    if (c.kind === 'op') {
      const output = model.graph.outputs[0];
      const y = (await model.run(inputs)).get(output)!;
      check('forward', y.data, read(join(c.dir, 'y.npy')).data, meta.tolerance ?? LIMITS.forward);
      if (meta.backward) {
        const names = [...inputs.keys()].filter((name) => existsSync(join(c.dir, `g${name}.npy`)));
        const grads = await model.gradients(inputs, output, read(join(c.dir, 'gy.npy')) as Tensor, names);
        for (const name of names) check(`gradient of ${name}`, grads.get(name)!.data, read(join(c.dir, `g${name}.npy`)).data, LIMITS.backward);
      }
    } else {
      const x = inputs.get('x0')!;
      const layer = meta.gradcam_layer;
      const output = model.graph.outputs[0];
      const forward = await model.run(x, [output, meta.logits, layer]);
      check('output', forward.get(output)!.data, read(join(c.dir, 'y.npy')).data, LIMITS.forward);
      check(`activations at ${layer}`, forward.get(layer)!.data, read(join(c.dir, 'activation.npy')).data, LIMITS.forward);
      const classes = forward.get(meta.logits)!.shape.at(-1)!;
      const seed = new Float32Array(x.shape[0] * classes);
      meta.classes.forEach((k, n) => (seed[n * classes + k] = 1));
      const grads = await model.gradients(x, meta.logits, { shape: [x.shape[0], classes], data: seed }, [layer]);
      check(`gradient at ${layer}`, grads.get(layer)!.data, read(join(c.dir, 'grad.npy')).data, LIMITS.map);
      const e = await explainer.explain(x, { layer, classes: meta.classes });
      check('Grad-CAM map', e.map.data, read(join(c.dir, 'gradcam_raw.npy')).data, LIMITS.map);
    }
    return { checks, kernels: [...new Set([...model.kernelNames(), ...explainer.kernelNames()])] };
  } finally {
    explainer.dispose();
    model.dispose();
  }
}

export async function verify(gpu: GpuContext, options: { filter?: string; root?: string; onCase?: (done: number, total: number, name: string) => void } = {}): Promise<VerifyResult> {
  const cases = verifyCases(options.filter, options.root);
  const checks: Check[] = [];
  const perKernel = new Map<string, KernelSummary>();
  for (const [i, c] of cases.entries()) {
    const r = await runCase(gpu, c);
    checks.push(...r.checks);
    const worst = r.checks.reduce((w, k) => (k.error / k.limit > w.error / w.limit ? k : w), r.checks[0]);
    for (const kernel of r.kernels) {
      const s = perKernel.get(kernel) ?? { kernel, cases: 0, worstRatio: 0, worstCase: '', pass: true };
      s.cases++;
      if (worst.error / worst.limit > s.worstRatio) {
        s.worstRatio = worst.error / worst.limit;
        s.worstCase = `${c.name}: ${worst.what}`;
      }
      s.pass &&= r.checks.every((k) => k.pass);
      perKernel.set(kernel, s);
    }
    options.onCase?.(i + 1, cases.length, c.name);
  }
  const kernels = [...perKernel.values()].sort((a, b) => a.kernel.localeCompare(b.kernel));
  return { checks, kernels, pass: checks.every((k) => k.pass) };
}
