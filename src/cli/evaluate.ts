// `gradcam evaluate`: how faithful each method's maps are on a set of images (src/evaluate/).
import { readFileSync, writeFileSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { UsageError, UserError } from '../errors.js';
import { DEFAULT_BASELINES, DEFAULT_ROAD_NOISE, DEFAULT_STEPS, type EvaluateOptions, Evaluator, type ImageTruth, mergeScores, METRIC_HELP, METRICS, type MethodScores } from '../evaluate/evaluator.js';
import { type Box, POINTING_TOLERANCE } from '../evaluate/localization.js';
import { BASELINES } from '../evaluate/perturbed.js';
import { cascadingRandomization, mergeSanity, type SanityResult } from '../evaluate/sanity.js';
import { METHODS, type Method } from '../explain/explainer.js';
import { DEFAULT_PERTURBATION_BATCH } from '../explain/perturb.js';
import { describeAdapter } from '../gpu/context.js';
import { Progress } from '../io/progress.js';
import type { Baseline } from '../kernels/evaluate.js';
import type { Tensor } from '../runtime/model.js';
import { intList, parse, positiveInt, required } from './args.js';
import { imagesUnder } from './folder.js';
import { imageOptions, INPUT_HELP, INPUT_OPTIONS, type InputValues, readModelInput } from './inputs.js';
import { withModel } from './session.js';
import { layoutOptions } from './targets.js';
import { textTable } from './table.js';

/** Images explained and measured together (bounds memory for a folder of any size). */
const DEFAULT_GROUP = 8;

export const EVALUATE_HELP = `gradcam evaluate --model M.onnx (--input X.npy | --image FILE... | --images DIR) [--method M[,M...]|all]
                 [--metric M[,M...]] [--steps N] [--deletion-baseline B] [--insertion-baseline B]
                 [--boxes FILE [--tolerance PX]] [--sanity] [--layer NAME] [--layout L [--grid HxW]] [--class C[,C...]]
                 [--batch N] [--json] [--out FILE]
  Measures how faithful each method's maps are: the perturbed inputs are made on the GPU from the
  maps and run as batches; per method, the mean over the images.
${INPUT_HELP}
  --images DIR         every PNG/JPEG under DIR (recursively), ${DEFAULT_GROUP} images at a time
  --method M[,M...]    methods to compare, or 'all' (default gradcam); see 'gradcam explain --help'
  --metric M[,M...]    (default: deletion, insertion and drop; with --boxes also pointing and
                       localization; road, arcc and confidence only when asked for: road takes about 3 s an
                       image at 128x128 on lavapipe)
${Object.entries(METRIC_HELP).map(([name, what]) => `                         ${name.padEnd(13)} ${what}`).join('\n')}
  --steps N            deletion/insertion: ceil(H*W / N) pixels a step (default ${DEFAULT_STEPS}); N + 1 forward
                       passes a curve
  --deletion-baseline B, --insertion-baseline B
                       what replaces pixels: ${BASELINES.join(', ')} (on the model's input: zeros are the
                       normalization's mean colour; blur is RISE's 11x11 Gaussian of sigma 1 pixel);
                       default ${DEFAULT_BASELINES.deletion} for deletion, ${DEFAULT_BASELINES.insertion} for insertion, as RISE (mean for
                       signals and volumes)
  --road-noise S       ROAD's imputation noise, standard deviation on the model's input (default ${DEFAULT_ROAD_NOISE})
  --seed K             the generator's seed for ROAD's noise and the sanity checks' weights (default 0)
  --boxes FILE         ground truth, JSON: {"NAME": BOX | [BOX, ...] | {"boxes": [BOX, ...], "label": C}},
                       NAME the file's name (with or without extension; with --images its path
                       under DIR) or input-<n>; or an array in input order; or the demo's form
                       {"items": {NAME: {"box": BOX, "label": C}}}. BOX = [x0, y0, x1, y1] in
                       pixels of the model's input (after resize and crop), x1 and y1 exclusive;
                       with a label, localization also needs the explained class to be right
  --tolerance PX       the pointing game's tolerance (default ${POINTING_TOLERANCE}, as Zhang et al.)
  --layer NAME         the layer of the CAM methods (default: the last spatial feature map)
  --layout L, --grid HxW
                       how the layer is read: nchw, tokens, channels-last (see 'gradcam explain
                       --help'); signals [N, C, L] and volumes [N, C, D, H, W] take deletion,
                       insertion and drop with the zeros or mean baseline
  --class C[,C...]     the class to explain and measure (default: each image's top-1)
  --batch N            perturbed copies per forward pass (default ${DEFAULT_PERTURBATION_BATCH})
  --output NAME        the class-score output when it is not the first graph output
  --sanity             also the sanity checks (Adebayo et al.): the weight layers redrawn one by one
                       from the top on the GPU (seeded by --seed), each method explained again and
                       compared with the trained model's map: Spearman rank correlation and SSIM per
                       layer (a faithful method's map falls apart; one that stays explains the image)
  --metric none        with --sanity: the sanity checks only
  --json               the whole result (per image curves too) as JSON on stdout
  --out FILE           the same JSON written to FILE

examples:
  gradcam evaluate --model resnet50.onnx --image cat.jpg --method gradcam,gradcam++,scorecam
  gradcam evaluate --model demo.onnx --images held-out/ --method all --boxes boxes.json --resize 128 --crop 128
  gradcam evaluate --model resnet50.onnx --input batch.npy --metric deletion --steps 100 --deletion-baseline blur --json
  gradcam evaluate --model resnet50.onnx --image cat.jpg --method gradcam,guided-backprop --sanity --metric none`;

export async function evaluate(argv: string[]): Promise<void> {
  const { values, positionals } = parse(
    argv,
    {
      model: { type: 'string' },
      method: { type: 'string' },
      metric: { type: 'string' },
      steps: { type: 'string' },
      'deletion-baseline': { type: 'string' },
      'insertion-baseline': { type: 'string' },
      'road-noise': { type: 'string' },
      seed: { type: 'string' },
      boxes: { type: 'string' },
      tolerance: { type: 'string' },
      layer: { type: 'string' },
      layout: { type: 'string' },
      grid: { type: 'string' },
      class: { type: 'string' },
      batch: { type: 'string' },
      output: { type: 'string' },
      images: { type: 'string' },
      sanity: { type: 'boolean' },
      json: { type: 'boolean' },
      out: { type: 'string' },
      ...INPUT_OPTIONS,
    },
    true,
  );
  const modelPath = required(values.model as string | undefined, '--model');
  const methods = methodList(values.method as string | undefined);
  const noMetrics = values.metric === 'none';
  if (noMetrics && !values.sanity) throw new UsageError('--metric none leaves nothing to do without --sanity');
  const metrics = values.metric === undefined || noMetrics ? undefined : list(values.metric as string, METRICS, '--metric');
  const baseline = (flag: string) => {
    const b = values[flag] as string | undefined;
    if (b !== undefined && !BASELINES.includes(b as Baseline)) throw new UserError(`--${flag} must be one of ${BASELINES.join(', ')}, got "${b}"`);
    return b as Baseline | undefined;
  };
  const options: Omit<EvaluateOptions, 'truth' | 'classes'> = {
    methods, metrics,
    steps: positiveInt(values.steps as string | undefined, '--steps'),
    deletionBaseline: baseline('deletion-baseline'), insertionBaseline: baseline('insertion-baseline'),
    roadNoise: numberFlag(values['road-noise'] as string | undefined, '--road-noise'),
    seed: numberFlag(values.seed as string | undefined, '--seed'),
    tolerance: numberFlag(values.tolerance as string | undefined, '--tolerance'), layer: values.layer as string | undefined, output: values.output as string | undefined,
    ...layoutOptions(values),
    batch: positiveInt(values.batch as string | undefined, '--batch'),
  };
  const classes = intList(values.class as string | undefined, '--class');
  const groups = inputGroups(values as InputValues & { images?: string }, positionals);
  const names = groups.flatMap((g) => g.names);
  const truth = values.boxes === undefined ? undefined : readTruth(values.boxes as string, names);
  if (classes && classes.length !== 1 && classes.length !== names.length) throw new UserError(`give one class for all ${names.length} images or one per image, not ${classes.length}`);

  await withModel(modelPath, async (model) => {
    const evaluator = new Evaluator(model);
    const started = performance.now();
    const steps = noMetrics ? 0 : names.length * methods.length;
    const progress = new Progress(steps, { rateUnit: 'maps', enabled: steps > 1 });
    const perMethod = new Map<Method, MethodScores[]>(methods.map((m) => [m, []]));
    const sanity: SanityResult[] = [];
    try {
      let first = 0;
      let measured = 0;
      for (const group of groups) {
        const input = group.load();
        const n = input.shape[0];
        const groupClasses = classes && (classes.length === 1 ? classes : classes.slice(first, first + n));
        const groupTruth = truth?.slice(first, first + n);
        if (values.sanity) {
          sanity.push(await cascadingRandomization(model, input, { methods, layer: options.layer, classes: groupClasses, output: options.output, seed: options.seed, batch: options.batch }));
        }
        // One method at a time, so the bar moves and a slow method (Score-CAM) does not hold the rest.
        for (const method of noMetrics ? [] : methods) {
          const [scores] = await evaluator.evaluate(input, { ...options, methods: [method], classes: groupClasses, truth: groupTruth });
          perMethod.get(method)!.push(scores);
          measured += n;
          progress.update(measured, `${method}, ${group.label}`);
        }
        first += n;
      }
    } finally {
      evaluator.dispose();
    }
    const merged = noMetrics ? [] : methods.map((m) => mergeScores(perMethod.get(m)!));
    const sanityMerged = sanity.length > 0 ? mergeSanity(sanity) : undefined;
    const result = {
      adapter: describeAdapter(model.gpu.adapter),
      model: modelPath,
      images: names,
      steps: options.steps ?? DEFAULT_STEPS,
      baselines: { deletion: options.deletionBaseline ?? DEFAULT_BASELINES.deletion, insertion: options.insertionBaseline ?? DEFAULT_BASELINES.insertion },
      seconds: (performance.now() - started) / 1000,
      methods: merged,
      sanity: sanityMerged,
    };
    const json = `${JSON.stringify(result, null, 1)}\n`;
    if (values.out) writeFileSync(values.out as string, json);
    if (values.json) process.stdout.write(json);
    else {
      if (merged.length > 0) console.log(summaryTable(merged, names.length));
      if (sanityMerged) console.log(sanityTable(sanityMerged, methods));
    }
  });
}

function numberFlag(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) throw new UserError(`${flag} takes a number, got "${value}"`);
  return n;
}

function methodList(value: string | undefined): Method[] {
  if (value === undefined) return ['gradcam'];
  if (value === 'all') return [...METHODS];
  return list(value, METHODS, '--method');
}

function list<T extends string>(value: string, allowed: readonly T[], flag: string): T[] {
  const items = value.split(',').map((s) => s.trim());
  for (const item of items) if (!allowed.includes(item as T)) throw new UserError(`${flag}: unknown "${item}"; choose from ${allowed.join(', ')}`);
  return [...new Set(items)] as T[];
}

interface Group {
  names: string[];
  label: string;
  load: () => Tensor;
}

/** The input in groups: one for --input / --image, groups of DEFAULT_GROUP files for --images DIR. */
function inputGroups(values: InputValues & { images?: string }, positionals: string[]): Group[] {
  if (values.images === undefined) {
    const input = readModelInput(values, positionals);
    return [{ names: input.names, label: `${input.names.length} images`, load: () => input.tensor }];
  }
  if (values.input !== undefined || values.image !== undefined) throw new UsageError('give --images DIR, or --input / --image, not both');
  const files = imagesUnder(values.images);
  if (files.length === 0) throw new UserError(`--images ${values.images}: no PNG or JPEG files in it`);
  imageOptions(values); // the preprocessing flags checked before any image is read
  const groups: Group[] = [];
  for (let i = 0; i < files.length; i += DEFAULT_GROUP) {
    const part = files.slice(i, i + DEFAULT_GROUP);
    groups.push({
      names: part.map((f) => f.slice(0, f.length - extname(f).length)),
      label: `${Math.min(i + DEFAULT_GROUP, files.length)}/${files.length} images`,
      load: () => readModelInput({ ...values, image: part.map((f) => join(values.images!, f)) }).tensor,
    });
  }
  return groups;
}

/**
 * --boxes FILE: per image name (or an array in input order), a box, a list of boxes, or { boxes, label }
 * ({ box, label } too); the demo's boxes.json form, { "items": { "circle.png": { "label", "box" } } }, as well.
 * Names match with or without their file extension.
 */
export function readTruth(path: string, names: string[]): ImageTruth[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new UserError(`--boxes ${path}: ${(e as Error).message.replace(/^ENOENT.*/, 'no such file')}`);
  }
  if (parsed && typeof parsed === 'object' && !Array.isArray(parsed) && 'items' in parsed) parsed = (parsed as { items: unknown }).items;
  if (!parsed || typeof parsed !== 'object') throw new UserError(`--boxes ${path}: expected a JSON object keyed by image name, or an array`);
  const byName = new Map<string, unknown>();
  if (!Array.isArray(parsed)) {
    for (const [key, value] of Object.entries(parsed)) {
      byName.set(key, value);
      byName.set(key.slice(0, key.length - extname(key).length), value);
    }
  }
  const isBox = (b: unknown): b is Box => Array.isArray(b) && b.length === 4 && b.every((v) => typeof v === 'number' && Number.isFinite(v));
  return names.map((name, n) => {
    const entry = Array.isArray(parsed) ? parsed[n] : (byName.get(name) ?? byName.get(basename(name)));
    if (entry === undefined) throw new UserError(`--boxes ${path}: no box for image "${name}"`);
    let boxes: unknown;
    let label: unknown;
    if (isBox(entry)) boxes = [entry];
    else if (Array.isArray(entry)) boxes = entry;
    else if (entry && typeof entry === 'object') {
      const e = entry as { boxes?: unknown; box?: unknown; label?: unknown };
      boxes = e.boxes ?? (e.box === undefined ? undefined : [e.box]);
      label = e.label;
    }
    if (!Array.isArray(boxes) || boxes.length === 0 || !boxes.every(isBox)) throw new UserError(`--boxes ${path}: image "${name}": expected [x0, y0, x1, y1], a list of them, or {"boxes": [...], "label": C}`);
    for (const b of boxes as Box[]) if (!(b[2] > b[0] && b[3] > b[1])) throw new UserError(`--boxes ${path}: image "${name}": box [${b}] is empty (x1 <= x0 or y1 <= y0)`);
    if (label !== undefined && !Number.isInteger(label)) throw new UserError(`--boxes ${path}: image "${name}": the label must be a class index`);
    return { boxes: boxes as Box[], label: label as number | undefined };
  });
}

function sanityTable(s: SanityResult, methods: Method[]): string {
  const header = ['randomized down to', ...methods.flatMap((m) => [`${m} Spearman`, `${m} SSIM`])];
  const rows = s.layers.map((l, k) => [`${k + 1}. ${l.node} (${l.opType})`, ...methods.flatMap((m) => [s.methods[m].spearman[k].toFixed(3), s.methods[m].ssim[k].toFixed(3)])]);
  return ['sanity checks (cascading randomization, top layer first; 1 = the map did not change):', textTable(header, rows)].join('\n');
}

function summaryTable(rows: MethodScores[], images: number): string {
  const columns: [string, (r: MethodScores) => string | undefined][] = [
    ['method', (r) => r.method],
    ['deletion AUC (lower better)', (r) => r.deletion?.meanArea.toFixed(4)],
    ['insertion AUC (higher better)', (r) => r.insertion?.meanArea.toFixed(4)],
    ['Average Drop %', (r) => r.drop?.averageDrop.toFixed(2)],
    ['Increase in Conf. %', (r) => r.drop?.increase.toFixed(2)],
    ['conf. change', (r) => r.confidence?.mean.toFixed(4)],
    ['ROAD MoRF (lower)', (r) => r.road?.morfMean.toFixed(4)],
    ['ROAD LeRF (higher)', (r) => r.road?.lerfMean.toFixed(4)],
    ['ROAD combined', (r) => r.road?.combined.toFixed(4)],
    ['ARCC (higher)', (r) => r.arcc?.mean.toFixed(4)],
    ['pointing', (r) => r.pointing?.accuracy.toFixed(3)],
    ['loc. error', (r) => r.localization?.error.toFixed(3)],
    ['mean IoU', (r) => r.localization?.meanIou.toFixed(3)],
  ];
  const used = columns.filter(([, get]) => rows.some((r) => get(r) !== undefined));
  const table = textTable(used.map(([h]) => h), rows.map((r) => used.map(([, get]) => get(r) ?? '')));
  return [`${images} image${images === 1 ? '' : 's'}`, table].join('\n');
}
