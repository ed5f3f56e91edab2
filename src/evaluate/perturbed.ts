// The faithfulness metrics' forward passes on the GPU: every perturbed copy of every image (pixels
// deleted or inserted in the order of its map, or the image times its map) is made by a kernel from the
// images, the maps' orders and the baselines, which a prepare plan uploads and computes once; a batch
// plan makes `batch` copies at a time, runs the model on them and reads back only each copy's class
// probability.
import { elementCount, type Shape } from '../graph/ir.js';
import { UserError } from '../errors.js';
import { PlanBuilder } from '../plan/builder.js';
import { Executable } from '../plan/executable.js';
import { BASELINE_MODE, type Baseline, COPY_KIND, evaluateKernels } from '../kernels/evaluate.js';
import type { Model } from '../runtime/model.js';
import { scoreTensor } from '../explain/layers.js';
import { shapedForCopies } from '../explain/perturb.js';

export const BASELINES = Object.keys(BASELINE_MODE) as Baseline[];

/** One perturbed copy: its image, what is done to it, and whose probability is read. */
export interface CopyRow {
  image: number;
  kind: keyof typeof COPY_KIND;
  /** delete / insert: how many of the most relevant pixels. */
  pixels: number;
  class: number;
}

export interface PerturbedInputs {
  /** The model's input, [N, C, H, W]. */
  images: Float32Array;
  imagesShape: Shape;
  /** Per image and pixel, its place in the map's order (0: the most relevant), [N, H * W]. */
  ranks: Int32Array;
  /** Per image and pixel, the map normalized to [0, 1] (the multiply copies), [N, H * W]. */
  maps: Float32Array;
  rows: CopyRow[];
}

/** ROAD's noisy linear imputation: the noise's standard deviation, its seed, and the solver's stopping rule. */
export interface RoadImputation {
  noise: number;
  seed: number;
  /** Stop when the residual is this fraction of the first one... */
  tolerance: number;
  /** ...or after this many conjugate-gradient steps. */
  maxIterations: number;
}

export interface PerturbedOptions {
  deletionBaseline: Baseline;
  insertionBaseline: Baseline;
  /** With ROAD rows: how their removed pixels are imputed. */
  road?: RoadImputation;
  /** Copies per forward pass. */
  batch: number;
  /** The class-score output when not the first graph output. */
  output?: string;
}

const FIRST_ROW = 'first row';
/**
 * Conjugate-gradient steps of ROAD's imputation per dispatch: a step reads each pixel of its plane
 * about ten times, so 64 of them on a 224x224 plane are some 30 million loads, far below what a
 * driver's 2 s watchdog allows; the 3,584 steps the solve may take at 224x224 become 56 dispatches.
 */
const ITERATIONS_PER_DISPATCH = 64;
const INPUT = { images: 'images', maps: 'maps', ranks: 'ranks', table: 'table' } as const;
const SHARED = { ...INPUT, deletion: 'deletion baseline', insertion: 'insertion baseline' } as const;

/** Runs the copies; returns each row's class probability (softmax of the scores), in row order. */
export class PerturbedRuns {
  private constructor(
    private readonly prepare: Executable,
    private readonly batches: Executable,
    private readonly rows: number,
    private readonly batch: number,
    /** The model's number of classes. */
    readonly classes: number,
  ) {}

  static async create(model: Model, imagesShape: Shape, rows: number, options: PerturbedOptions): Promise<PerturbedRuns> {
    if (imagesShape.length < 3 || imagesShape.length > 5) throw new UserError(`faithfulness metrics need an [N, C, L], [N, C, H, W] or [N, C, D, H, W] input, got [${imagesShape}]`);
    const [images, channels, ...spatial] = imagesShape;
    const plane = elementCount(spatial);
    const flat = spatial.length !== 2;
    // The blur and ROAD's imputation work on 2-D planes; zeros and means on any positions.
    if (flat && (options.road || options.deletionBaseline === 'blur' || options.insertionBaseline === 'blur')) {
      throw new UserError(`ROAD and the blur baseline work on 2-D images; this input is [${imagesShape}] (use the zeros or mean baseline, and deletion, insertion or drop)`);
    }
    const [height, width] = flat ? [1, plane] : spatial;

    const p = new PlanBuilder(model.shaped(new Map([[model.inputName, imagesShape]])), model.deviceTraits);
    const image = p.addInput(INPUT.images, imagesShape);
    p.addShared(SHARED.images, image);
    p.addShared(SHARED.maps, p.addInput(INPUT.maps, [images, plane]));
    p.addShared(SHARED.ranks, p.addInput(INPUT.ranks, [images, plane], 'i32'));
    p.addShared(SHARED.table, p.addInput(INPUT.table, [rows, 4], 'i32'));
    const means = p.scratch([images, channels], 'channel means');
    p.dispatch(evaluateKernels.channelMean.program({ uniforms: { plane }, bindings: { images: image, channel_mean: means }, workgroups: [images * channels, 1, 1] }), 'channel means');
    for (const [name, baseline] of [[SHARED.deletion, options.deletionBaseline], [SHARED.insertion, options.insertionBaseline]] as const) {
      const out = p.scratch(imagesShape, name);
      p.dispatch(
        evaluateKernels.baseline.program({ uniforms: { height, width, mode: BASELINE_MODE[baseline] }, bindings: { images: image, channel_mean: means, baseline: out }, count: elementCount(imagesShape) }),
        name,
      );
      p.addShared(name, out);
    }
    const prepare = await Executable.create(model.gpu, p.build(), model.weights);

    const shaped = shapedForCopies(model, imagesShape, Math.min(options.batch, rows));
    const copiesShape = shaped.shapes.get(model.inputName)!;
    if (copiesShape.slice(1).join('x') !== imagesShape.slice(1).join('x')) throw new UserError(`the model's input is [${copiesShape}], the images [${imagesShape}]`);
    const batch = copiesShape[0];
    const b = new PlanBuilder(shaped, model.deviceTraits);
    const first = b.addInput(FIRST_ROW, [1], 'i32');
    const ext = Object.fromEntries(
      Object.entries({ images: imagesShape, maps: [images, plane], ranks: [images, plane], table: [rows, 4], deletion: imagesShape, insertion: imagesShape }).map(([k, shape]) => [
        k,
        b.addExternal(SHARED[k as keyof typeof SHARED], shape, k === 'ranks' || k === 'table' ? 'i32' : 'f32'),
      ]),
    ) as Record<keyof typeof SHARED, ReturnType<PlanBuilder['addExternal']>>;
    const perturbed = b.scratch(copiesShape, 'perturbed copies');
    b.dispatch(
      evaluateKernels.copies.program({
        uniforms: { rows, channels, plane },
        bindings: { table: ext.table, first, images: ext.images, maps: ext.maps, ranks: ext.ranks, deletion_baseline: ext.deletion, insertion_baseline: ext.insertion, perturbed },
        count: elementCount(copiesShape),
      }),
      'perturbed copies',
    );
    if (options.road) {
      const [residual, direction, product] = ['residual', 'direction', 'product'].map((what) => b.scratch(copiesShape, `ROAD imputation: ${what}`));
      const { noise, seed, tolerance, maxIterations } = options.road;
      const state = b.scratch([batch * channels, 2], 'ROAD imputation: state');
      const bindings = { table: ext.table, first, ranks: ext.ranks, perturbed, residual, direction, product, state };
      const stage = (stage: number, iterations: number, label: string) =>
        b.dispatch(
          evaluateKernels.impute.program({ uniforms: { rows, channels, plane, height, width, stage, iterations, tolerance, seed, noise }, bindings, workgroups: [batch * channels, 1, 1] }),
          `ROAD imputation: ${label}`,
        );
      stage(0, 0, 'set-up');
      // A dispatch past convergence ends at once; none runs more than ITERATIONS_PER_DISPATCH steps.
      for (let done = 0; done < maxIterations; done += ITERATIONS_PER_DISPATCH) stage(1, Math.min(ITERATIONS_PER_DISPATCH, maxIterations - done), `steps ${done + 1}..`);
      stage(2, 0, 'noise');
    }
    b.setValue(model.inputName, perturbed);
    const scores = b.value(scoreTensor(shaped, options.output));
    const classes = elementCount(scores.shape) / batch;
    if (!Number.isInteger(classes)) throw new UserError(`the scores [${scores.shape}] do not split into ${batch} copies`);
    const probabilities = b.scratch([batch], 'class probabilities');
    b.dispatch(evaluateKernels.probability.program({ uniforms: { rows, classes }, bindings: { table: ext.table, first, scores, probabilities }, count: batch }), 'class probabilities');
    b.addOutput('probabilities', probabilities);
    const externals = new Map(Object.values(SHARED).map((name) => [name, prepare.sharedBuffer(name)]));
    try {
      const batches = await Executable.create(model.gpu, b.build(), model.weights, { externals });
      return new PerturbedRuns(prepare, batches, rows, batch, classes);
    } catch (e) {
      prepare.destroy();
      throw e;
    }
  }

  /** Copies per forward pass (a graph with a fixed batch size runs its own). */
  get copiesPerPass(): number {
    return this.batch;
  }

  async run(inputs: PerturbedInputs, onProgress?: (done: number, total: number) => void, signal?: AbortSignal): Promise<Float32Array> {
    if (inputs.rows.length !== this.rows) throw new Error(`the plan has ${this.rows} rows, the run ${inputs.rows.length}`);
    for (const r of inputs.rows) {
      if (!Number.isInteger(r.class) || r.class < 0 || r.class >= this.classes) throw new UserError(`class ${r.class} is out of range: the model has ${this.classes} classes (0 to ${this.classes - 1})`);
    }
    const table = new Int32Array(4 * this.rows);
    inputs.rows.forEach((r, t) => table.set([r.image, COPY_KIND[r.kind], r.pixels, r.class], 4 * t));
    await this.prepare.run(
      new Map<string, ArrayBufferView>([
        [INPUT.images, inputs.images],
        [INPUT.maps, inputs.maps],
        [INPUT.ranks, inputs.ranks],
        [INPUT.table, table],
      ]),
    );
    const out = new Float32Array(this.rows);
    const first = new Int32Array(1);
    for (let t = 0; t < this.rows; t += this.batch) {
      signal?.throwIfAborted();
      first[0] = t;
      const r = await this.batches.run(new Map([[FIRST_ROW, first]]));
      out.set(r.outputs.get('probabilities')!.subarray(0, Math.min(this.batch, this.rows - t)), t);
      onProgress?.(Math.min(t + this.batch, this.rows), this.rows);
    }
    return out;
  }

  get bytes(): number {
    return this.prepare.bytes + this.batches.bytes;
  }

  destroy(): void {
    this.prepare.destroy();
    this.batches.destroy();
  }
}
