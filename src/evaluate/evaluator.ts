// Is an explanation faithful? The metrics of one set of images, per method: deletion and insertion
// curves (RISE), ROAD, Average Drop and Increase in Confidence (Grad-CAM++), the pointing game and the
// Grad-CAM paper's box localization where boxes are given. The perturbed forward passes run as batches
// on the GPU (src/evaluate/perturbed.ts); the maps come from the explainer, or from the caller.
import type { Shape } from '../graph/ir.js';
import { UserError } from '../errors.js';
import type { Baseline } from '../kernels/evaluate.js';
import { dataOf, type Model, type Tensor } from '../runtime/model.js';
import { DISPOSE } from '../gpu/context.js';
import { Explainer, type Method } from '../explain/explainer.js';
import type { LayoutName } from '../explain/layout.js';
import { checkBatchSize, DEFAULT_PERTURBATION_BATCH } from '../explain/perturb.js';
import { checkSeed } from '../explain/smooth.js';
import { type Box, boxFromMap, iou, POINTING_TOLERANCE, pointingHit } from './localization.js';
import { arccScore, averageDrop, curveArea, curvePixels, mapRanks, minMaxNormalized, pearson, pixelMap } from './metrics.js';
import { BASELINES, type CopyRow, PerturbedRuns } from './perturbed.js';

export const METRIC_HELP = {
  deletion: 'RISE deletion: the class probability as the most relevant pixels are replaced by a baseline; area under the curve (lower is better)',
  insertion: 'RISE insertion: the probability as the most relevant pixels are put into the baseline; area under the curve (higher is better)',
  road: 'ROAD: the probability with the most (MoRF, lower is better) or least (LeRF, higher) relevant 10..90% of pixels imputed from their neighbours plus noise; combined (LeRF - MoRF) / 2, higher is better',
  drop: 'Average Drop % (lower is better) and Increase in Confidence % (higher is better) of the image times its map',
  arcc: "ARCC: the harmonic mean of Coherency (the Pearson correlation, mapped to [0, 1], of the map and the method's map of the image times it), 1 - Complexity (the normalized map's mean) and ROAD at 20..80% scaled to [0, 1]; higher is better",
  confidence: "CamMultImage confidence change: the class probability of the image times its map minus the image's (pytorch-grad-cam's CamMultImageConfidenceChange, softmax target; higher is better)",
  pointing: "pointing game: the map's maximum within the tolerance of a box (needs boxes)",
  localization: "Grad-CAM paper's box: map > 15% of its max, largest component, IoU >= 0.5 and the right class (needs boxes)",
} as const;
export type Metric = keyof typeof METRIC_HELP;
export const METRICS = Object.keys(METRIC_HELP) as Metric[];
const NEEDS_BOXES: readonly Metric[] = ['pointing', 'localization'];
/** Asked for by name only: ROAD solves 18 imputations an image before its forward passes (ARCC reads them and explains again); the confidence change repeats drop's passes. */
const ON_REQUEST: readonly Metric[] = ['road', 'confidence', 'arcc'];

/** RISE's deletion replaces pixels with zeros (the model input's zeros: the normalization's mean), insertion starts from a blur. */
export const DEFAULT_BASELINES = { deletion: 'zeros', insertion: 'blur' } as const satisfies Record<string, Baseline>;
/** Signals and volumes: the blur is a 2-D one, so insertion starts from each channel's mean instead. */
const FLAT_INSERTION_BASELINE: Baseline = 'mean';
export const DEFAULT_STEPS = 32;

/** ROAD's removal percentages (Rong et al., and pytorch-grad-cam's averages) and its imputation noise (absolute, on the model's input). */
export const ROAD_PERCENTILES = [10, 20, 30, 40, 50, 60, 70, 80, 90];
/** ARCC's ROAD percentages (pytorch-grad-cam's default), a subset of ROAD's: the same imputations serve both. */
export const ARCC_ROAD_PERCENTILES = [20, 40, 60, 80];
export const DEFAULT_ROAD_NOISE = 0.01;
/**
 * The imputation's solver stops at a residual of 1e-6 of the first (at 1e-5 the test's probabilities
 * moved by 3e-6; float32 still reaches 1e-6), or after 8 (H + W) steps: conjugate gradients need of the
 * order of the removed region's diameter in pixels on this stencil (on the demo's 128x128 images the
 * results were identical with a cap of 2 (H + W), so the cap is not what stops them).
 */
const ROAD_TOLERANCE = 1e-6;
const roadIterations = (height: number, width: number) => 8 * (height + width);

/** Ground truth of one image: its boxes and, for localization, its class. */
export interface ImageTruth {
  boxes: Box[];
  label?: number;
}

export interface MetricOptions {
  metrics?: Metric[];
  /** Curve steps: ceil(H*W / steps) pixels per step. */
  steps?: number;
  deletionBaseline?: Baseline;
  insertionBaseline?: Baseline;
  /** Perturbed copies per forward pass. */
  batch?: number;
  /** One per image, for the pointing game and localization. */
  truth?: ImageTruth[];
  /** The pointing game's tolerance in pixels. */
  tolerance?: number;
  /** ROAD's imputation noise (standard deviation on the model's input) and the generator's seed. */
  roadNoise?: number;
  seed?: number;
  /** The class-score output when not the first graph output. */
  output?: string;
  onProgress?: (done: number, total: number, method: Method) => void;
  /** Stops the call between two batches of perturbed copies: it rejects with the signal's reason. */
  signal?: AbortSignal;
}

export interface EvaluateOptions extends MetricOptions {
  methods: Method[];
  layer?: string;
  /** How the layer is read (ExplainOptions.layout, .grid). */
  layout?: LayoutName;
  grid?: number[];
  /** One class for every image or one per image; default: each image's top-1 class. */
  classes?: number[];
}

export interface Curve {
  /** Pixels deleted (inserted) at each point. */
  pixels: number[];
  /** Per image, the class probability at each point. */
  probabilities: number[][];
  /** Per image, the area under its curve; and their mean. */
  areas: number[];
  meanArea: number;
}

export interface MethodScores {
  method: Method;
  classes: number[];
  deletion?: Curve;
  insertion?: Curve;
  /** Per image the probability of the image (original) and of the image times its map (explained). */
  drop?: { original: number[]; explained: number[]; averageDrop: number; increase: number };
  /** Per image the probability of the image times its map minus the image's, and their mean. */
  confidence?: { change: number[]; mean: number };
  /** Per image ARCC and its three parts (ROAD as (LeRF - MoRF) / 2 at ARCC_ROAD_PERCENTILES, unscaled); the mean ARCC. */
  arcc?: { coherency: number[]; complexity: number[]; road: number[]; arcc: number[]; mean: number };
  /** Per image the probability at each percentage removed, most and least relevant first; their means over images and percentages. */
  road?: { percentiles: number[]; pixels: number[]; morf: number[][]; lerf: number[][]; morfMean: number; lerfMean: number; combined: number };
  pointing?: { hits: boolean[]; accuracy: number; tolerance: number };
  localization?: { iou: number[]; localized: boolean[]; error: number; meanIou: number };
}

let evaluators = 0;

export class Evaluator {
  readonly explainer: Explainer;
  /** This evaluator's perturbed runs live in the model's plan cache under keys with this prefix. */
  private readonly prefix = `evaluator ${++evaluators}|`;

  constructor(readonly model: Model) {
    this.explainer = new Explainer(model);
  }

  /** Explains the images with each method, then measures each method's maps. */
  evaluate(input: Tensor, options: EvaluateOptions): Promise<MethodScores[]> {
    return this.model.call(async () => {
      const metrics = checkMetrics(options, input.shape);
      const methods = [...new Set(options.methods)];
      const { layer, layout, grid, classes, output, batch, onProgress, signal } = options;
      const explain = { layer, layout, grid, output, batch, onProgress, signal };
      const explained = await this.explainer.explainManyHeld(input, { methods, classes, ...explain });
      // ARCC reads ROAD's imputations: they run when ARCC is asked for, reported only when ROAD is.
      const measured = metrics.includes('arcc') && !metrics.includes('road') ? [...metrics, 'road' as const] : metrics;
      const scores: MethodScores[] = [];
      for (const method of methods) {
        const e = explained.get(method)!;
        const s: MethodScores = { ...(await this.measureHeld(input, e.map, e.classes, { ...options, metrics: measured }, method)), method };
        if (metrics.includes('arcc')) {
          s.arcc = await this.arccHeld(input, e.map, s.road!, (masked) => this.explainer.explainManyHeld(masked, { methods: [method], classes: e.classes, ...explain }).then((m) => m.get(method)!.map));
          if (!metrics.includes('road')) delete s.road;
        }
        scores.push(s);
      }
      return scores;
    });
  }

  /**
   * The metrics of given maps ([N, H, W], or [N, C, H, W] gradients at the input) for the given classes.
   * `method` only labels progress.
   */
  measure(input: Tensor, map: Tensor, classes: number[], options: MetricOptions, method: Method = 'gradcam'): Promise<Omit<MethodScores, 'method'>> {
    return this.model.call(async () => {
      if (options.metrics?.includes('arcc')) throw new UserError('arcc explains each image times its map again with the method: use evaluate(), not given maps');
      // The perturbed copies are made from these images on the GPU: they are checked as any input is.
      dataOf(new Map([[this.model.inputName, input]]));
      return this.measureHeld(input, map, classes, options, method);
    });
  }

  /** measure() inside a call, for images already checked (evaluate() explains them first). */
  private async measureHeld(input: Tensor, map: Tensor, classes: number[], options: MetricOptions, method: Method): Promise<Omit<MethodScores, 'method'>> {
    const metrics = checkMetrics(options, input.shape);
    const [images, , ...spatial] = input.shape;
    const plane = spatial.reduce((a, b) => a * b, 1);
    const [height, width] = spatial;
    const mapSpatial = map.shape.slice(map.shape.length === input.shape.length ? 2 : 1);
    if (map.shape[0] !== images || mapSpatial.join('x') !== spatial.join('x')) throw new UserError(`the maps [${map.shape}] do not match the images [${input.shape}]`);
    if (classes.length !== images) throw new UserError(`give one class per image: ${images} images, ${classes.length} classes`);
    const pixels = pixelMap(map.data, map.shape, input.shape.length);
    const result: Omit<MethodScores, 'method'> = { classes };

    const steps = options.steps ?? DEFAULT_STEPS;
    const counts = curvePixels(plane, steps);
    const rows: CopyRow[] = [];
    const roadPixels = ROAD_PERCENTILES.map((f) => Math.floor((plane * f) / 100 + 0.5));
    const curves = (['deletion', 'insertion'] as const).filter((m) => metrics.includes(m));
    // Average Drop and the confidence change read the same two passes: the image, and it times its map.
    const multiplies = metrics.includes('drop') || metrics.includes('confidence');
    for (let n = 0; n < images; n++) {
      for (const curve of curves) for (const k of counts) rows.push({ image: n, kind: curve === 'deletion' ? 'delete' : 'insert', pixels: k, class: classes[n] });
      if (multiplies) rows.push({ image: n, kind: 'delete', pixels: 0, class: classes[n] }, { image: n, kind: 'multiply', pixels: 0, class: classes[n] });
      if (metrics.includes('road')) {
        for (const kind of ['road-morf', 'road-lerf'] as const) for (const k of roadPixels) rows.push({ image: n, kind, pixels: k, class: classes[n] });
      }
    }
    if (rows.length > 0) {
      const ranks = new Int32Array(images * plane);
      for (let n = 0; n < images; n++) ranks.set(mapRanks(pixels, n * plane, plane), n * plane);
      const runs = await this.runsFor(input.shape, rows.length, metrics.includes('road'), options);
      const probabilities = await runs.run({ images: input.data, imagesShape: input.shape, ranks, maps: minMaxNormalized(pixels, plane), rows }, (done, total) => options.onProgress?.(done, total, method), options.signal);
      const perImage = rows.length / images;
      const at = (n: number, j: number) => probabilities[n * perImage + j];
      curves.forEach((curve, c) => {
        result[curve] = curveOf(counts, Array.from({ length: images }, (_, n) => counts.map((_, i) => at(n, c * counts.length + i))));
      });
      if (multiplies) {
        const base = curves.length * counts.length;
        const original = Array.from({ length: images }, (_, n) => at(n, base));
        const explained = Array.from({ length: images }, (_, n) => at(n, base + 1));
        if (metrics.includes('drop')) result.drop = dropOf(original, explained);
        if (metrics.includes('confidence')) result.confidence = confidenceOf(explained.map((e, n) => e - original[n]));
      }
      if (metrics.includes('road')) {
        const base = curves.length * counts.length + (multiplies ? 2 : 0);
        const per = (order: number) => Array.from({ length: images }, (_, n) => roadPixels.map((_, i) => at(n, base + order * roadPixels.length + i)));
        result.road = roadOf(roadPixels, per(0), per(1));
      }
    }
    if (metrics.includes('pointing')) {
      const tolerance = options.tolerance ?? POINTING_TOLERANCE;
      result.pointing = pointingOf(options.truth!.map((t, n) => pointingHit(pixels.subarray(n * plane, (n + 1) * plane), width, t.boxes, tolerance)), tolerance);
    }
    if (metrics.includes('localization')) {
      const overlaps = options.truth!.map((t, n) => {
        const found = boxFromMap(pixels.subarray(n * plane, (n + 1) * plane), width, height);
        return found ? Math.max(0, ...t.boxes.map((b) => iou(found, b))) : 0;
      });
      const localized = overlaps.map((o, n) => o >= 0.5 && (options.truth![n].label === undefined || options.truth![n].label === classes[n]));
      result.localization = localizationOf(overlaps, localized);
    }
    return result;
  }

  /**
   * ARCC per image: Complexity, the mean of the min-max normalized map; Coherency, (rho + 1) / 2 of
   * Pearson's rho between it and the method's normalized map of the image times it (`explain`, with the
   * same classes); ROAD combined at ARCC_ROAD_PERCENTILES from the ROAD run's probabilities.
   */
  private async arccHeld(input: Tensor, map: Tensor, road: NonNullable<MethodScores['road']>, explain: (masked: Tensor) => Promise<Tensor>) {
    const [images, channels, ...spatial] = input.shape;
    const plane = spatial.reduce((a, b) => a * b, 1);
    const normalized = minMaxNormalized(pixelMap(map.data, map.shape, input.shape.length), plane);
    const masked = Float32Array.from(input.data, (v, i) => v * normalized[Math.floor(i / (channels * plane)) * plane + (i % plane)]);
    const again = await explain({ shape: input.shape, data: masked });
    const remapped = minMaxNormalized(pixelMap(again.data, again.shape, input.shape.length), plane);
    const at = ARCC_ROAD_PERCENTILES.map((p) => ROAD_PERCENTILES.indexOf(p));
    const meanAt = (values: number[]) => mean(at.map((i) => values[i]));
    const each = <T>(f: (n: number) => T) => Array.from({ length: images }, (_, n) => f(n));
    return arccOf(
      each((n) => (pearson(remapped, normalized, n * plane, plane) + 1) / 2),
      each((n) => mean(Array.from(normalized.subarray(n * plane, (n + 1) * plane)))),
      each((n) => (meanAt(road.lerf[n]) - meanAt(road.morf[n])) / 2),
    );
  }

  private async runsFor(shape: Shape, rows: number, withRoad: boolean, options: MetricOptions): Promise<PerturbedRuns> {
    const deletionBaseline = options.deletionBaseline ?? DEFAULT_BASELINES.deletion;
    const insertionBaseline = options.insertionBaseline ?? (shape.length === 4 ? DEFAULT_BASELINES.insertion : FLAT_INSERTION_BASELINE);
    const batch = options.batch ?? DEFAULT_PERTURBATION_BATCH;
    const road = withRoad
      ? { noise: options.roadNoise ?? DEFAULT_ROAD_NOISE, seed: options.seed ?? 0, tolerance: ROAD_TOLERANCE, maxIterations: roadIterations(shape.at(-2)!, shape.at(-1)!) }
      : undefined;
    const key = [shape.join('x'), rows, deletionBaseline, insertionBaseline, batch, options.output ?? '', JSON.stringify(road ?? null)].join('|');
    return this.model.plans.get(this.prefix + key, () => PerturbedRuns.create(this.model, shape, rows, { deletionBaseline, insertionBaseline, batch, output: options.output, road }));
  }

  /** Frees this evaluator's plans and its explainer's. */
  dispose(): void {
    this.model.plans.clear(this.prefix);
    this.explainer.dispose();
  }

  [DISPOSE](): void {
    this.dispose();
  }
}

/**
 * One method's scores over several groups of images: each metric over the groups that measured it
 * (a benchmark may draw curves on a part of its images only), its summaries over all their images.
 */
export function mergeScores(parts: MethodScores[]): MethodScores {
  const measured = <K extends keyof MethodScores>(key: K) => parts.map((s) => s[key]).filter((v): v is NonNullable<MethodScores[K]> => v !== undefined);
  const merged: MethodScores = { method: parts[0].method, classes: parts.flatMap((s) => s.classes) };
  for (const curve of ['deletion', 'insertion'] as const) {
    const curves = measured(curve);
    if (curves.length > 0) merged[curve] = curveOf(curves[0].pixels, curves.flatMap((c) => c.probabilities));
  }
  const drop = measured('drop');
  if (drop.length > 0) merged.drop = dropOf(drop.flatMap((d) => d.original), drop.flatMap((d) => d.explained));
  const confidence = measured('confidence');
  if (confidence.length > 0) merged.confidence = confidenceOf(confidence.flatMap((c) => c.change));
  const arcc = measured('arcc');
  if (arcc.length > 0) merged.arcc = arccOf(arcc.flatMap((a) => a.coherency), arcc.flatMap((a) => a.complexity), arcc.flatMap((a) => a.road));
  const road = measured('road');
  if (road.length > 0) merged.road = roadOf(road[0].pixels, road.flatMap((r) => r.morf), road.flatMap((r) => r.lerf));
  const pointing = measured('pointing');
  if (pointing.length > 0) merged.pointing = pointingOf(pointing.flatMap((p) => p.hits), pointing[0].tolerance);
  const localization = measured('localization');
  if (localization.length > 0) merged.localization = localizationOf(localization.flatMap((l) => l.iou), localization.flatMap((l) => l.localized));
  return merged;
}

// Each metric's summary from its per-image values (measure and mergeScores build them alike).
const curveOf = (pixels: number[], probabilities: number[][]): Curve => {
  const areas = probabilities.map(curveArea);
  return { pixels, probabilities, areas, meanArea: mean(areas) };
};
const dropOf = (original: number[], explained: number[]) => ({ original, explained, ...averageDrop(original, explained) });
const roadOf = (pixels: number[], morf: number[][], lerf: number[][]) => {
  const morfMean = mean(morf.flat());
  const lerfMean = mean(lerf.flat());
  return { percentiles: ROAD_PERCENTILES, pixels, morf, lerf, morfMean, lerfMean, combined: (lerfMean - morfMean) / 2 };
};
const confidenceOf = (change: number[]) => ({ change, mean: mean(change) });
const arccOf = (coherency: number[], complexity: number[], road: number[]) => {
  const arcc = coherency.map((c, n) => arccScore(c, complexity[n], road[n]));
  return { coherency, complexity, road, arcc, mean: mean(arcc) };
};
const pointingOf = (hits: boolean[], tolerance: number) => ({ hits, accuracy: mean(hits.map(Number)), tolerance });
const localizationOf = (iou: number[], localized: boolean[]) => ({ iou, localized, error: 1 - mean(localized.map(Number)), meanIou: mean(iou) });

function checkMetrics(options: MetricOptions, shape: Shape): Metric[] {
  const metrics = [...new Set(options.metrics ?? METRICS.filter((m) => !ON_REQUEST.includes(m) && (options.truth !== undefined || !NEEDS_BOXES.includes(m))))];
  for (const m of metrics) if (!METRICS.includes(m)) throw new UserError(`unknown metric "${m}"; choose from ${METRICS.join(', ')}`);
  if (metrics.length === 0) throw new UserError('no metric to compute');
  const steps = options.steps ?? DEFAULT_STEPS;
  if (!Number.isInteger(steps) || steps < 1) throw new UserError(`--steps must be a positive integer, got ${steps}`);
  checkBatchSize(options.batch ?? DEFAULT_PERTURBATION_BATCH);
  for (const b of [options.deletionBaseline, options.insertionBaseline]) {
    if (b !== undefined && !BASELINES.includes(b)) throw new UserError(`unknown baseline "${b}"; choose one of ${BASELINES.join(', ')}`);
  }
  const noise = options.roadNoise ?? DEFAULT_ROAD_NOISE;
  if (!Number.isFinite(noise) || noise < 0) throw new UserError(`ROAD's noise must be a number >= 0, got ${noise}`);
  checkSeed(options.seed ?? 0);
  const tolerance = options.tolerance ?? POINTING_TOLERANCE;
  if (!Number.isFinite(tolerance) || tolerance < 0) throw new UserError(`the pointing tolerance must be a number >= 0, got ${tolerance}`);
  const boxed = metrics.filter((m) => NEEDS_BOXES.includes(m));
  if (boxed.length > 0) {
    if (!options.truth) throw new UserError(`${boxed.join(' and ')} ${boxed.length === 1 ? 'needs' : 'need'} ground-truth boxes (--boxes FILE)`);
    if (options.truth.length !== shape[0]) throw new UserError(`boxes are given for ${options.truth.length} images, the input has ${shape[0]}`);
    if (shape.length !== 4) throw new UserError(`${boxed.join(' and ')} ${boxed.length === 1 ? 'compares' : 'compare'} maps with boxes on 2-D images; this input is [${shape}]`);
    options.truth.forEach((t, n) => {
      if (t.boxes.length === 0) throw new UserError(`image ${n} has no box`);
    });
  }
  return metrics;
}

function mean(values: number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}
