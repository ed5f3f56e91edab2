// `gradcam explain`: Grad-CAM (or another method of its family) maps for each input image.
import { writeFileSync } from 'node:fs';
import { type Concepts, type Explanation, Explainer, METHOD_HELP, METHODS, type Method } from '../explain/explainer.js';
import { LAYOUT_HELP } from '../explain/layout.js';
import { TARGET_HELP } from '../explain/targets.js';
import { layoutOptions, TARGET_FLAGS, targetOptions } from './targets.js';
import { fileSafe, writeImages } from './pictures.js';
import { STABLE_MARGIN } from '../explain/stability.js';
import { describeAdapter } from '../gpu/context.js';
import type { DispatchProfile } from '../plan/profile.js';
import { FILL_WORKGROUPS_PER_UNIT, GPUS, gpuSpec, roofline, type GpuSpec } from '../plan/roofline.js';
import { UsageError, UserError } from '../errors.js';
import { writeNpy } from '../io/npy.js';
import { intList, parse, positiveInt, required } from './args.js';
import { Progress } from '../io/progress.js';
import type { SmoothOptions } from '../explain/smooth.js';
import { textTable } from './table.js';
import { cropSize, imageOptions, INPUT_HELP, INPUT_OPTIONS, type InputValues, type ModelInput, readModelInput } from './inputs.js';
import { DEFAULT_FOLDER_BATCH, explainFolder, type FolderResult, MANIFEST } from './folder.js';
import { stopOnSignals } from './signals.js';
import { parseShard } from './shards.js';
import { adapterList, BATCH_WORKER, explainFolderOnAdapters, serveBatches } from './pool.js';
import { loadLabels, withModel } from './session.js';
import { softmax, topK } from './infer.js';

export const EXPLAIN_HELP = `gradcam explain --model M.onnx (--input X.npy | --image FILE...) [--layer NAME[,NAME...]|all] [--class C[,C...]]
                [--method M] [--layout L [--grid HxW]]
                [--target T [--mask F | --concept V.npy | --index I | --box X1,Y1,X2,Y2 [--format F]]]
                [--smooth N [--noise S] [--seed K] | --smooth-aug] [--smooth-eigen] [--concepts K] [--batch N] [--out DIR] [--npy FILE] [--json]
gradcam explain --model M.onnx --images DIR --out DIR [--batch N] [--resume] [--save-npy] [...]
  Explains each image's class score with a heatmap over the input.
${INPUT_HELP}
  --images DIR         every PNG/JPEG under DIR (recursively), in batches of --batch (default
                       ${DEFAULT_FOLDER_BATCH}), decoded ahead while the GPU works; per image the overlay and heatmap
                       under --out at the same relative path, and one line in OUT/${MANIFEST}
                       (file, class, label, score, layer, files, ms; or the file's error)
  --resume             with --images: skip the images the manifest already has
  --save-npy           with --images: each image's raw map as NAME.npy beside its PNGs
  --adapters all|LIST  with --images: one worker process per adapter (an index or name from
                       'gradcam adapters', comma-separated; one named twice runs two workers
                       there), each taking the next batch when it is free; one manifest
  --shard K/N          with --images: only shard K of N (0 <= K < N; by a hash of each relative
                       path, so adding files moves no other), with its own manifest
                       (manifest.shard-K-of-N.jsonl); 'gradcam merge' joins the shards
  --layer NAME[,NAME...]
                       ONNX tensor or node names, or 'all' for every candidate (default: the last
                       spatial feature map; see 'gradcam layers'); several layers come from one
                       backward pass, and each output file then carries its layer's name
  --class C[,C...]     one class for every image or one per image (default: each image's top-1)
  --layout L           how the layer is read (default nchw):
${Object.entries(LAYOUT_HELP).map(([name, what]) => `                         ${name.padEnd(14)} ${what}`).join('\n')}
  --grid HxW           tokens: the grid of the tokens (default: from their count and the input's aspect)
  --target T           what is explained (default class):
${Object.entries(TARGET_HELP).map(([name, what]) => `                         ${name.padEnd(13)} ${what}`).join('\n')}
  --mask FILE          segmentation: the positions to sum (.npy of the output's spatial size, one or
                       one per image, or a PNG: non-zero pixels); default: where the class wins
  --concept V.npy      similarity: the concept vector (one, or one per image)
  --index I            raw: the element of each image's output (flattened) to explain
  --box X1,Y1,X2,Y2    detection: the box in input pixels (the predictions overlapping it with IoU
                       >= 0.5, of --class C if given, are explained)
  --format F           detection: yolov5 ([N, A, 5+K]) or yolov8 ([N, 4+K, A]); default: by the
                       head's shape
  --compare K, --alpha A
                       finer (and --method finercam): compare with the K most similar classes
                       (default 3, at most 8), their logits weighted by A (default 1)
  --method M           the method (default gradcam):
${Object.entries(METHOD_HELP).map(([name, what]) => `                         ${name.padEnd(20)} ${what}`).join('\n')}
  --smooth N           SmoothGrad (the gradient methods): the map averaged over N noisy copies of
                       each image, drawn on the GPU
  --noise S            SmoothGrad's noise: standard deviation as a fraction of each image's value
                       range (default 0.15)
  --seed K             SmoothGrad's generator seed (default 0)
  --smooth-aug         pytorch-grad-cam's aug_smooth: the mean of the maps of six copies of each image
                       (mirrored or not, x 0.9, 1, 1.1), each mirrored back; the heatmap is the mean
                       of the copies' normalized maps
  --concepts K         dff: concepts per image (default 5); the summary lists each concept's two
                       top classes (softmax of the head's scores) and the reconstruction error
  --smooth-eigen       pytorch-grad-cam's eigen_smooth: the first principal component of the
                       channels' terms (alpha_k A_k, or LayerCAM's relu(g) A ...) instead of their sum
  --batch N            scorecam, ablationcam, --smooth, --smooth-aug: copies per forward pass
                       (default 16; bounds GPU memory); a progress bar shows when the passes take
                       over a second
  --output NAME        the class-score output when it is not the first graph output
  --out DIR            per image: NAME.heatmap.png and NAME.overlay.png (the guided methods:
                       NAME.METHOD.png, standardized, x0.1, +0.5, clipped as the papers show it);
                       a signal [N, C, L]: NAME.signal.png, its channels with the map as a colour
                       band under them; a volume [N, C, D, H, W]: NAME.slices.png, the depth slices
                       with the map over each
  --npy FILE           the maps after ReLU and resize, before normalization: float32 [N, H, W]
                       ([N, L] for signals, [N, D, H, W] for volumes; the guided methods: the
                       gradient at the input, the input's shape)
  --labels FILE        class names, one per line (or a JSON array)
  --profile FILE       time every dispatch (GPU timestamps): a table slowest first, and FILE as JSON,
                       each with its FLOPs (GEMMs), bytes bound and workgroups
  --profile-device GPU with --profile: each dispatch's roofline time on that GPU and whether it
                       launches enough workgroups to fill it (${Object.keys(GPUS).join(', ')})
  --json               a JSON summary on stdout (with --profile, the table goes to stderr)

examples:
  gradcam explain --model resnet50.onnx --image cat.jpg --out maps/
  gradcam explain --model resnet50.onnx --image cat.jpg --method guided-gradcam --class 281 --out maps/
  gradcam explain --model resnet50.onnx --image cat.jpg --profile p.json --profile-device h200
  gradcam explain --model resnet50.onnx --image cat.jpg --layer all --json
  gradcam explain --model resnet50.onnx --image cat.jpg --method scorecam --batch 32 --npy map.npy
  gradcam explain --model resnet50.onnx --image cat.jpg --smooth 25 --noise 0.15 --out maps/
  gradcam explain --model resnet50.onnx --image cat.jpg --method layercam --smooth-eigen --out maps/
  gradcam explain --model resnet50.onnx --image cat.jpg --smooth-aug --out maps/
  gradcam explain --model resnet50.onnx --image cat.jpg --method dff --concepts 8 --labels imagenet.txt
  gradcam explain --model resnet50.onnx --images val/ --out maps/ --shard 3/16 --resume
  gradcam explain --model vit.onnx --image cat.jpg --layout tokens --target softmax --out maps/
  gradcam explain --model swin.onnx --image cat.jpg --layout channels-last --out maps/
  gradcam explain --model unet.onnx --image street.png --target segmentation --class 7 --out maps/
  gradcam explain --model encoder.onnx --image dog.jpg --target similarity --concept dog.npy --npy m.npy
  gradcam explain --model ecg.onnx --input beats.npy --class 2 --out maps/
  gradcam explain --model yolov5s.onnx --image street.jpg --target detection --box 120,40,260,300 --class 0 --out maps/`;

export async function explain(argv: string[]): Promise<void> {
  const { values, positionals } = parse(
    argv,
    {
      model: { type: 'string' },
      layer: { type: 'string' },
      class: { type: 'string' },
      method: { type: 'string' },
      batch: { type: 'string' },
      smooth: { type: 'string' },
      noise: { type: 'string' },
      seed: { type: 'string' },
      'smooth-eigen': { type: 'boolean' },
      'smooth-aug': { type: 'boolean' },
      concepts: { type: 'string' },
      images: { type: 'string' },
      resume: { type: 'boolean' },
      'save-npy': { type: 'boolean' },
      shard: { type: 'string' },
      adapters: { type: 'string' },
      output: { type: 'string' },
      out: { type: 'string' },
      npy: { type: 'string' },
      labels: { type: 'string' },
      profile: { type: 'string' },
      'profile-device': { type: 'string' },
      json: { type: 'boolean' },
      layout: { type: 'string' },
      grid: { type: 'string' },
      target: { type: 'string' },
      mask: { type: 'string' },
      concept: { type: 'string' },
      index: { type: 'string' },
      box: { type: 'string' },
      format: { type: 'string' },
      compare: { type: 'string' },
      alpha: { type: 'string' },
      ...INPUT_OPTIONS,
    },
    true,
  );
  const modelPath = required(values.model as string | undefined, '--model');
  const method = (values.method ?? 'gradcam') as Method;
  if (!METHODS.includes(method)) throw new UserError(`--method must be one of ${METHODS.join(', ')}, got "${method}"`);
  const classes = intList(values.class as string | undefined, '--class');
  const labels = loadLabels(values.labels as string | undefined);
  if (values.images !== undefined) return explainImages(modelPath, method, classes, labels, values, argv);
  if (values.resume || values['save-npy'] || values.shard || values.adapters) throw new UsageError('--resume, --save-npy, --shard and --adapters go with --images DIR');
  const input = readModelInput(values as InputValues, positionals);

  const profilePath = values.profile as string | undefined;
  const device = profileDevice(values['profile-device'] as string | undefined, profilePath);
  await withModel(modelPath, async (loaded) => {
    // A roofline is of the dispatches that GPU would run: on a CPU adapter the plan takes the GPU
    // variants (tiled GEMMs, the map spread over workgroups), timed here as they run on this adapter.
    const model = device ? loaded.withGpuVariants() : loaded;
    const explainer = new Explainer(model);
    try {
      const output = values.output as string | undefined;
      const reading = layoutOptions(values);
      const layers = layerList(values.layer as string | undefined, () => explainer.layers(input.tensor.shape, output, reading).layers.map((l) => l.tensor));
      const options = {
        methods: [method], layers, classes, output, smooth: smoothOptions(values), smoothEigen: Boolean(values['smooth-eigen']), smoothAug: Boolean(values['smooth-aug']), concepts: conceptCount(values, method), ...reading, target: targetOptions(values, method),
        batch: positiveInt(values.batch as string | undefined, '--batch'), onProgress: lateProgress(),
      };
      // A profiling plan is compiled and run once first, so that the times are of a warm run.
      if (profilePath) await explainer.explainLayers(input.tensor, { ...options, profile: true });
      const results = await explainer.explainLayers(input.tensor, { ...options, profile: Boolean(profilePath) });
      const perLayer = results.length > 1;
      const written = results.map((result) => {
        const tag = perLayer ? `.${fileSafe(result.layer.tensor)}` : '';
        const files = values.out ? writeImages(values.out as string, input, result, tag) : [];
        if (values.npy) {
          const npy = perLayer ? (values.npy as string).replace(/(\.npy)?$/, `${tag}.npy`) : (values.npy as string);
          writeNpy(npy, result.map.shape, result.map.data);
        }
        return { result, files };
      });
      report(input, written, labels, Boolean(values.json), options.target?.kind ?? 'class');
      const measured = results[0].profile;
      if (profilePath && measured) {
        const profile = device ? measured.map((p) => ({ ...p, roofline: roofline(p, device) })) : measured;
        const estimate = device && { device: device.name, fillWorkgroupsPerUnit: FILL_WORKGROUPS_PER_UNIT, variants: model === loaded ? 'adapter' : 'gpu' };
        writeFileSync(profilePath, `${JSON.stringify({ adapter: describeAdapter(model.gpu.adapter), ...estimate, dispatches: profile }, null, 2)}\n`);
        (values.json ? console.error : console.log)(profileTable(profile, device, model !== loaded));
      }
    } finally {
      explainer.dispose();
      if (model !== loaded) model.dispose();
    }
  });
}

/** The folder mode (--images DIR): see folder.ts. */
async function explainImages(modelPath: string, method: Method, classes: number[] | undefined, labels: string[] | undefined, values: Record<string, unknown>, argv: string[]): Promise<void> {
  const dir = values.images as string;
  const out = values.out as string | undefined;
  if (!out) throw new UsageError('--images DIR needs --out DIR');
  if (values.input !== undefined || values.image !== undefined) throw new UsageError('give --images DIR, or --input / --image, not both');
  if (values.npy !== undefined) throw new UsageError('with --images, --save-npy writes each image\'s map; --npy FILE is for one batch');
  if (classes && classes.length > 1) throw new UserError('with --images, --class takes one class for every image');
  const preprocess = imageOptions(values as InputValues);
  if (TARGET_FLAGS.some((k) => values[k] !== undefined)) throw new UsageError('--target and its --mask, --concept, --index, --box, --format, --compare, --alpha explain one batch (--input or --image), not --images');
  const batch = positiveInt(values.batch as string | undefined, '--batch') ?? DEFAULT_FOLDER_BATCH;
  const shard = values.shard === undefined ? undefined : parseShard(values.shard as string);
  if (values.adapters !== undefined) return explainOnAdapters({ dir, out, batch, resume: Boolean(values.resume), shard }, argv, values);
  await withModel(modelPath, async (model) => {
    const explainer = new Explainer(model);
    try {
      const output = values.output as string | undefined;
      const shape = [1, 3, ...cropSize(preprocess)];
      const reading = layoutOptions(values);
      const layers = layerList(values.layer as string | undefined, () => explainer.layers(shape, output, reading).layers.map((l) => l.tensor));
      const explain = { methods: [method], layers, classes, output, smooth: smoothOptions(values), smoothEigen: Boolean(values['smooth-eigen']), smoothAug: Boolean(values['smooth-aug']), concepts: conceptCount(values, method), ...reading };
      if (process.env[BATCH_WORKER] && process.send) {
        await serveBatches(explainer, { dir, out, preprocess, saveNpy: Boolean(values['save-npy']), labels, explain, writeImages, fileTag: fileSafe });
        return;
      }
      await runFolder(values, 'images', (signal) =>
        explainFolder(explainer, {
          dir, out, batch, resume: Boolean(values.resume), saveNpy: Boolean(values['save-npy']), preprocess, labels, explain,
          writeImages, fileTag: fileSafe, signal, shard,
        }),
      );
    } finally {
      explainer.dispose();
    }
  });
}

/** The folder mode on several adapters (src/cli/pool.ts): the parent plans and writes, the workers explain. */
async function explainOnAdapters(o: Parameters<typeof explainFolderOnAdapters>[0], argv: string[], values: Record<string, unknown>): Promise<void> {
  const adapters = await adapterList(values.adapters as string);
  const workerArgv = withoutOption(argv, '--adapters');
  await runFolder(values, 'batches', (signal) => explainFolderOnAdapters({ ...o, signal }, workerArgv, adapters), (r) => ` on ${adapters.length} workers (${r.perAdapter.join(', ')} images)`);
}

/**
 * A folder run that a signal stops after the work in hand (exit status 128 + the signal's number),
 * with its one-line summary (on stderr with --json, whose JSON goes to stdout).
 */
async function runFolder<R extends FolderResult>(values: Record<string, unknown>, inHand: string, run: (signal: AbortSignal) => Promise<R>, where: (r: R) => string = () => ''): Promise<void> {
  const stop = stopOnSignals((name) => console.error(`gradcam: ${name}: stopping after the ${inHand} in hand; --resume goes on from there`));
  let r: R;
  try {
    r = await run(stop.signal);
  } finally {
    stop.release();
  }
  const summary = `${r.explained} explained, ${r.failed} could not be read${r.skipped ? `, ${r.skipped} already in the manifest` : ''}${r.stopped ? ', stopped before the rest' : ''}${where(r)}; manifest: ${r.manifest}`;
  (values.json ? console.error : console.log)(summary);
  if (values.json) console.log(JSON.stringify(r));
  if (r.stopped) process.exitCode = stop.status;
}

/** argv without `--name VALUE` / `--name=VALUE`. */
function withoutOption(argv: string[], name: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === name) i++;
    else if (!argv[i].startsWith(`${name}=`)) out.push(argv[i]);
  }
  return out;
}

/** --smooth N [--noise S] [--seed K]; --noise or --seed alone is a mistake worth saying. */
function smoothOptions(values: Record<string, unknown>): SmoothOptions | undefined {
  const samples = positiveInt(values.smooth as string | undefined, '--smooth');
  if (samples === undefined) {
    if (values.noise !== undefined || values.seed !== undefined) throw new UserError('--noise and --seed go with --smooth N');
    return undefined;
  }
  const noise = values.noise === undefined ? DEFAULT_NOISE : Number(values.noise);
  if (!Number.isFinite(noise) || noise < 0) throw new UserError(`--noise takes a number >= 0, got "${values.noise}"`);
  const seed = values.seed === undefined ? 0 : Number(values.seed);
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new UserError(`--seed takes an integer from 0 to 4294967295, got "${values.seed}"`);
  return { samples, noise, seed };
}

/** --concepts K: DFF's only. */
function conceptCount(values: Record<string, unknown>, method: Method): number | undefined {
  const concepts = positiveInt(values.concepts as string | undefined, '--concepts');
  if (concepts !== undefined && method !== 'dff') throw new UserError('--concepts goes with --method dff');
  return concepts;
}

/** Smilkov et al. found 10-20% of the input range best for SmoothGrad. */
const DEFAULT_NOISE = 0.15;

/** A progress bar that appears only once the work has taken more than a second. */
function lateProgress(): (done: number, total: number, method: Method) => void {
  const start = performance.now();
  let bar: Progress | undefined;
  let of = '';
  return (done, total, method) => {
    if (`${method}/${total}` !== of) {
      of = `${method}/${total}`;
      bar = undefined;
    }
    if (!bar && performance.now() - start < 1000) return;
    bar ??= new Progress(total);
    bar.update(done, `${method} forward passes`);
  };
}

/** --layer: a comma-separated list, or 'all' for every candidate; none: the default layer. */
function layerList(value: string | undefined, candidates: () => string[]): string[] | undefined {
  if (value === undefined) return undefined;
  if (value === 'all') return candidates();
  const names = value.split(',').map((s) => s.trim());
  if (names.some((n) => n === '')) throw new UserError(`--layer takes names separated by commas, got "${value}"`);
  return names;
}

function report(input: ModelInput, written: { result: Explanation; files: string[][] }[], labels: string[] | undefined, json: boolean, target: string) {
  const first = written[0].result;
  const t = first.timings;
  const imagesOf = ({ result, files }: (typeof written)[number]) =>
    input.names.map((name, n) => ({
      image: name,
      class: result.classes[n],
      label: labels?.[result.classes[n]] ?? null,
      score: result.scores[n],
      smallest_margin: result.stability.smallestMargin[n],
      class_margin: result.stability.classMargin[n],
      stable: result.stability.stable[n],
      files: files[n] ?? [],
      ...(result.concepts && { concepts: conceptsOf(result.concepts, n, labels) }),
    }));
  const reports = written.map((w) => ({ layer: w.result.layer, images: imagesOf(w) }));
  for (const { layer, images } of reports) {
    const unsure = images.filter((i) => i.class_margin !== null && i.class_margin < STABLE_MARGIN);
    if (unsure.length && layer === reports[0].layer) {
      console.error(
        `warning: the top-1 class of ${unsure.map((i) => i.image).join(', ')} is within float32 rounding of the runner-up ` +
          `(gap ${Math.min(...unsure.map((i) => i.class_margin!)).toExponential(1)} of the largest score < ${STABLE_MARGIN}); another adapter may explain the other class (give --class to fix it)`,
      );
    }
    const unstable = images.filter((i) => i.smallest_margin !== null && i.smallest_margin < STABLE_MARGIN);
    if (unstable.length) {
      console.error(
        `warning: the map of ${unstable.map((i) => i.image).join(', ')}${reports.length > 1 ? ` at layer "${layer.tensor}"` : ''} depends on a ReLU/Clip decision within float32 rounding of its kink ` +
          `(smallest margin ${Math.min(...unstable.map((i) => i.smallest_margin!)).toExponential(1)} < ${STABLE_MARGIN}); any float32 evaluation may move it by O(1e-2)`,
      );
    }
  }
  const timingsMs = { forward: t.forwardMs ?? null, backward: t.backwardMs ?? null, cam: t.camMs ?? null, perturbation: t.perturbationMs ?? null, total: t.wallMs };
  const layerOf = (l: Explanation['layer']) => ({ tensor: l.tensor, node: l.node, shape: l.shape, layout: l.layout.name, grid: l.layout.spatial });
  if (json) {
    const summary =
      reports.length === 1
        ? { method: first.method, target, layer: layerOf(first.layer), timingsMs, images: reports[0].images }
        : { method: first.method, target, timingsMs, layers: reports.map((r) => ({ layer: layerOf(r.layer), images: r.images })) };
    console.log(JSON.stringify(summary, null, 2));
    return;
  }
  for (const { layer, images } of reports) {
    const reading = layer.layout.name === 'nchw' ? '' : ` read as ${layer.layout.name} (grid ${layer.layout.spatial.join('x')})`;
    console.log(`${first.method} at layer "${layer.tensor}" [${layer.shape}]${reading}${target === 'class' ? '' : `, target ${target}`}`);
    for (const i of images) {
      const what = i.label ? `${i.class} (${i.label})` : `${i.class}`;
      console.log(`${i.image}: class ${what}, score ${i.score.toFixed(4)}${i.files.length ? ` -> ${i.files.join(', ')}` : ''}`);
      if (i.concepts) {
        const c = i.concepts;
        console.log(`  concepts (reconstruction error ${c.reconstruction_error.toFixed(4)}; the map is concept ${c.chosen}'s):`);
        c.top_classes.forEach((top, k) => console.log(`    ${k}: ${top.map((t) => `${t.label ?? t.class} ${t.probability.toFixed(3)}`).join(', ')}`));
      }
    }
  }
  const phases = [['forward', t.forwardMs], ['backward', t.backwardMs], ['cam', t.camMs], ['perturbed passes', t.perturbationMs]].filter(([, v]) => v !== undefined);
  console.log(`time: ${phases.map(([k, v]) => `${k} ${(v as number).toFixed(2)} ms`).join(', ')}${phases.length ? ', ' : ''}total ${t.wallMs.toFixed(1)} ms`);
}

/** The classes each concept votes for: per concept the top ones by softmax of the head's scores, as pytorch-grad-cam labels them. */
const CONCEPT_TOP_CLASSES = 2;

function conceptsOf(concepts: Concepts, n: number, labels: string[] | undefined) {
  const [, components, classes] = concepts.scores.shape;
  const top_classes = Array.from({ length: components }, (_, k) => {
    const row = concepts.scores.data.subarray((n * components + k) * classes, (n * components + k + 1) * classes);
    const probabilities = softmax(row);
    return topK(row, CONCEPT_TOP_CLASSES, labels).map((t) => ({ class: t.class, label: t.label ?? null, probability: probabilities[t.class] }));
  });
  return { chosen: concepts.chosen[n], reconstruction_error: concepts.reconstructionError[n], top_classes };
}

/** --profile-device: a GPU of the roofline table, and only with --profile. */
function profileDevice(name: string | undefined, profilePath: string | undefined): GpuSpec | undefined {
  if (name === undefined) return undefined;
  if (!profilePath) throw new UserError('--profile-device goes with --profile FILE');
  try {
    return gpuSpec(name);
  } catch (e) {
    throw new UserError(`--profile-device: ${(e as Error).message}`);
  }
}

/** Every dispatch, slowest first, with a total line; with a GPU, its roofline columns and totals. */
function profileTable(profile: DispatchProfile[], device?: GpuSpec, gpuVariants = false): string {
  const total = profile.reduce((a, p) => a + p.ms, 0);
  const rows = profile.map((p) => [
    p.ms.toFixed(3),
    `${(100 * p.share).toFixed(1)}%`,
    p.gflops === undefined ? '-' : p.gflops.toFixed(1),
    (p.bytes / 1e6).toFixed(2),
    String(p.workgroups),
    ...(p.roofline ? [(1000 * p.roofline.ms).toPrecision(3), p.roofline.bound, p.roofline.fills ? 'yes' : 'NO'] : []),
    p.phase,
    p.op ?? '-',
    p.node ?? p.label,
    p.kernel,
    p.shape ? `[${p.shape}]` : '-',
  ]);
  const estimate = device ? ['roofline µs', 'bound', 'fills'] : [];
  const header = ['GPU ms', 'share', 'GFLOP/s', 'MB', 'workgroups', ...estimate, 'phase', 'op', 'node', 'kernel', 'output'];
  const lines = [textTable(header, rows, (c) => c >= 5 + estimate.length), `${profile.length} dispatches, ${total.toFixed(2)} GPU ms`];
  if (device) {
    const rooflineMs = profile.reduce((a, p) => a + (p.roofline?.ms ?? 0), 0);
    const unfilled = profile.filter((p) => !p.roofline?.fills).length;
    lines.push(`on ${device.name}: ${(1000 * rooflineMs).toPrecision(3)} µs at the roofline; ${unfilled} of ${profile.length} dispatches launch fewer than ${FILL_WORKGROUPS_PER_UNIT} workgroups per SM`);
    if (gpuVariants) lines.push(`planned with the GPU kernel variants; the GPU ms are theirs on this CPU adapter`);
  }
  return lines.join('\n');
}
