// The engine beside PyTorch and onnxruntime, one run on one machine: 1x3x224x224, seeded weights,
// Grad-CAM of the top-1 class at the default layer (median of --runs after a warm-up).
//   npm run bench:compare [-- --runs N --arch resnet18,vgg16 --threads T --torch-device cpu|cuda --roofline GPU]
// --roofline h200|a100|rtx4090|m2 adds, per model, one profiled explain: its dispatches' measured GPU time
// beside the time that GPU's roofline allows them (src/plan/roofline.ts), and how many would not fill it.
// GRADCAM_PYTHON names the interpreter with PyTorch (default Debian's /usr/bin/python3).
// PyTorch (Debian's, CPU float32, `bench/compare.py`) exports the models once into .cache/bench and
// times its forward pass and two Grad-CAMs: parameters frozen with the backward pass stopping at the
// layer, and the way pytorch-grad-cam runs it (everything requiring grad, the full backward pass).
// onnxruntime-node (installed by the npm script, for this benchmark only) times the forward pass. The adapter's FMA
// ceiling and its GEMM rate (a 512^3 product on the variant it picks) are measured in the same process;
// each model's forward rate is given as a share of both.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Explainer } from '../src/explain/explainer.js';
import { createGpuContext, describeAdapter } from '../src/gpu/context.js';
import { Model } from '../src/runtime/model.js';
import { FILL_WORKGROUPS_PER_UNIT, gpuSpec, roofline } from '../src/plan/roofline.js';
import { fmaCeiling, fmt, gemmRate, median, ROOT, table } from './common.js';

const ARCHS = ['resnet18', 'resnet50', 'mobilenet_v2', 'densenet121', 'efficientnet_b0', 'vgg16'];
const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    arch: { type: 'string' },
    threads: { type: 'string', default: '2' },
    'torch-device': { type: 'string', default: 'cpu' },
    roofline: { type: 'string' },
  },
});
const rooflineGpu = values.roofline === undefined ? undefined : gpuSpec(values.roofline);
const runs = Number(values.runs);
const archs = values.arch?.split(',') ?? ARCHS;
const OUT = join(ROOT, '.cache', 'bench');
mkdirSync(OUT, { recursive: true });

interface TorchEntry {
  onnx: string;
  layer: string;
  flops: number;
  forward_ms: number;
  gradcam_frozen_ms: number;
  gradcam_full_ms: number;
}

const interpreter = process.env.GRADCAM_PYTHON ?? '/usr/bin/python3';
const torchArgs = ['--out', OUT, '--arch', archs.join(','), '--runs', String(runs), '--threads', values.threads!, '--device', values['torch-device']!];
const python = spawnSync(interpreter, [join(ROOT, 'bench', 'compare.py'), ...torchArgs], {
  stdio: ['ignore', 'pipe', 'inherit'],
  maxBuffer: 1 << 24,
});
if (python.status !== 0) {
  console.error(`bench/compare.py failed (exit ${python.status}); it needs PyTorch and torchvision for ${interpreter} (GRADCAM_PYTHON)`);
  process.exit(1);
}
const torch = JSON.parse(python.stdout.toString()) as { torch: string; threads: number; device: string; models: Record<string, TorchEntry> };

// onnxruntime-node is installed by the bench:compare script only (it is ~290 MB), so its types are not
// available to the build: the little of its API used here is declared instead.
interface OrtSession {
  inputNames: readonly string[];
  run(feeds: Record<string, unknown>): Promise<unknown>;
  release(): Promise<void>;
}
interface Ort {
  InferenceSession: { create(path: string, options: { intraOpNumThreads: number; interOpNumThreads: number }): Promise<OrtSession> };
  Tensor: new (type: 'float32', data: Float32Array, dims: number[]) => unknown;
}
const ORT_PACKAGE = 'onnxruntime-node';
const ort = (await import(ORT_PACKAGE).catch(() => undefined)) as Ort | undefined;

async function timeMs(fn: () => Promise<unknown>): Promise<number> {
  await fn();
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await fn();
    samples.push(performance.now() - t);
  }
  return median(samples);
}

function seeded(count: number): Float32Array {
  let s = 12345;
  return Float32Array.from({ length: count }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  });
}

const gpu = await createGpuContext();
const ceiling = await fmaCeiling(gpu);
const gemm = await gemmRate(gpu);
const shape = [1, 3, 224, 224];
const input = { shape, data: seeded(3 * 224 * 224) };
const rows: string[][] = [];
const rooflineRows: string[][] = [];
const results: Record<string, unknown>[] = [];
for (const arch of archs) {
  const t = torch.models[arch];
  console.error(`[engine] ${arch}`);
  const model = Model.fromFile(gpu, t.onnx);
  const explainer = new Explainer(model);
  const forwardWall = await timeMs(() => model.run(input));
  const phases: { forward: number[]; backward: number[]; cam: number[] } = { forward: [], backward: [], cam: [] };
  const explainWall = await timeMs(async () => {
    const e = await explainer.explain(input);
    phases.forward.push(e.timings.forwardMs ?? NaN);
    phases.backward.push(e.timings.backwardMs ?? NaN);
    phases.cam.push(e.timings.camMs ?? NaN);
  });
  const gpuForward = median(phases.forward.slice(1));
  let ortForward: number | undefined;
  if (ort) {
    const session = await ort.InferenceSession.create(t.onnx, { intraOpNumThreads: Number(values.threads), interOpNumThreads: 1 });
    const feed = { [session.inputNames[0]]: new ort.Tensor('float32', input.data, shape) };
    ortForward = await timeMs(() => session.run(feed));
    await session.release();
  }
  if (rooflineGpu) {
    // The dispatches that GPU would run: on a CPU adapter, planned with the GPU kernel variants.
    const planned = model.withGpuVariants();
    const gpuExplainer = new Explainer(planned);
    await gpuExplainer.explain(input, { profile: true });
    const profile = (await gpuExplainer.explain(input, { profile: true })).profile!;
    gpuExplainer.dispose();
    if (planned !== model) planned.dispose();
    const measured = profile.reduce((a, p) => a + p.ms, 0);
    const estimates = profile.map((p) => roofline(p, rooflineGpu));
    const allowed = estimates.reduce((a, e) => a + e.ms, 0);
    const unfilled = estimates.filter((e) => !e.fills).length;
    rooflineRows.push([arch, String(profile.length), fmt(measured), (1000 * allowed).toFixed(0), `${(measured / allowed).toFixed(0)}x`, `${unfilled} of ${profile.length}`]);
  }
  const rate = t.flops / (gpuForward * 1e6);
  rows.push([
    arch,
    (t.flops / 1e9).toFixed(2),
    fmt(forwardWall),
    fmt(explainWall),
    `${fmt(gpuForward)}/${fmt(median(phases.backward.slice(1)))}/${fmt(median(phases.cam.slice(1)))}`,
    fmt(t.forward_ms),
    fmt(t.gradcam_frozen_ms),
    fmt(t.gradcam_full_ms),
    fmt(ortForward),
    `${(explainWall / t.gradcam_frozen_ms).toFixed(1)}x`,
    `${(explainWall / t.gradcam_full_ms).toFixed(1)}x`,
    ortForward ? `${(forwardWall / ortForward).toFixed(1)}x` : '-',
    rate.toFixed(1),
    `${((100 * rate) / ceiling).toFixed(0)}%`,
    `${((100 * rate) / gemm).toFixed(0)}%`,
  ]);
  results.push({
    arch, gflop: t.flops / 1e9, layer: explainer.layers(shape).default.tensor,
    engine: { forwardWallMs: forwardWall, explainWallMs: explainWall, gpuForwardMs: gpuForward, gpuBackwardMs: median(phases.backward.slice(1)), gpuCamMs: median(phases.cam.slice(1)) },
    torch: { forwardMs: t.forward_ms, gradcamFrozenMs: t.gradcam_frozen_ms, gradcamFullMs: t.gradcam_full_ms, layer: t.layer },
    onnxruntime: { forwardMs: ortForward ?? null },
    forwardGflops: rate,
  });
  explainer.dispose();
  model.dispose();
}

console.log(`adapter: ${describeAdapter(gpu.adapter)}; FMA probe ceiling ${ceiling.toFixed(1)} GFLOP/s; GEMM 512^3 ${gemm.toFixed(1)} GFLOP/s (${((100 * gemm) / ceiling).toFixed(0)}% of the probe)`);
console.log(`PyTorch ${torch.torch} ${torch.device === 'cuda' ? 'CUDA eager' : `CPU, ${torch.threads} threads`} float32; onnxruntime-node ${ort ? 'CPU' : 'not installed'}; 1x3x224x224; median of ${runs} after a warm-up; ms`);
console.log(
  table(
    ['model', 'GFLOP', 'engine fwd', 'engine explain', 'GPU fwd/bwd/cam', 'torch fwd', 'torch Grad-CAM', 'torch (grad-cam way)', 'ort fwd', 'explain/torch', 'explain/grad-cam way', 'fwd/ort', 'fwd GFLOP/s', 'of ceiling', 'of GEMM rate'],
    rows,
  ),
);
if (rooflineGpu) {
  console.log(`\nroofline on ${rooflineGpu.name}, for the GPU kernel variants (measured here on this adapter); a dispatch fills it with ${FILL_WORKGROUPS_PER_UNIT} workgroups per SM`);
  console.log(table(['model', 'dispatches', 'measured GPU ms', 'roofline µs', 'measured / roofline', 'not filling'], rooflineRows));
}
const json = { adapter: describeAdapter(gpu.adapter), ceilingGflops: ceiling, gemmGflops: gemm, torch: torch.torch, threads: torch.threads, runs, results };
writeFileSync(join(OUT, 'compare.json'), `${JSON.stringify(json, null, 2)}\n`);
console.log(`JSON: ${join(OUT, 'compare.json')}`);
gpu.destroy();
