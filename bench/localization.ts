// The demo model's held-out benchmark on `Evaluator` (src/evaluate/), every method in one table: the
// pointing game (15-pixel tolerance, Zhang et al.; and without tolerance), the Grad-CAM paper's box
// localization (15% threshold, largest connected component, IoU >= 0.5 with the truth and the right
// class), Average Drop and Increase in Confidence (Grad-CAM++) on all --count images, deletion and
// insertion AUC (RISE) on the first --curves of them. Held-out set: scripts/demo_data.py, seed 2026,
// images the model never saw in training.
//   npm run bench:localization [-- --count 500 --curves 100 --steps 32 --batch 32 --method gradcam,cam]
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Evaluator, mergeScores, type MethodScores, type Metric } from '../src/evaluate/evaluator.js';
import { METHODS, type Method } from '../src/explain/explainer.js';
import { createGpuContext, describeAdapter } from '../src/gpu/context.js';
import { Progress } from '../src/io/progress.js';
import { Model } from '../src/runtime/model.js';
import { heldOut, HELD_OUT_SEED, ROOT, table } from './common.js';

const { values } = parseArgs({
  options: {
    count: { type: 'string', default: '500' },
    curves: { type: 'string', default: '100' },
    steps: { type: 'string', default: '32' },
    batch: { type: 'string', default: '32' },
    method: { type: 'string', default: METHODS.join(',') },
  },
});
const count = Number(values.count);
const curves = Math.min(count, Number(values.curves));
const steps = Number(values.steps);
const batch = Number(values.batch);
const methods = values.method.split(',') as Method[];
const GROUP = 20;
const data = heldOut(count, GROUP);

const gpu = await createGpuContext();
const model = Model.fromFile(gpu, data.modelPath);
const evaluator = new Evaluator(model);
const [, , height, width] = data.batches[0].input.shape;
const plane = height * width;

const parts = new Map<Method, MethodScores[]>(methods.map((m) => [m, []]));
const exactParts = new Map<Method, MethodScores[]>(methods.map((m) => [m, []]));
const started = performance.now();
const progress = new Progress(data.batches.length * methods.length, { rateUnit: 'batches' });
for (const { first, input } of data.batches) {
  const n = input.shape[0];
  const truth = data.truth.slice(first, first + n).map((t) => ({ boxes: [t.box], label: t.label }));
  const withCurves = first + n <= curves;
  if (first < curves && !withCurves) throw new Error(`--curves must be a multiple of ${GROUP}`);
  const metrics: Metric[] = ['pointing', 'localization', 'drop', ...(withCurves ? (['deletion', 'insertion'] as const) : [])];
  for (const method of methods) {
    const e = await evaluator.explainer.explain(input, { method, layer: data.layer, batch });
    parts.get(method)!.push({ ...(await evaluator.measure(input, e.map, e.classes, { metrics, truth, steps, batch }, method)), method });
    // The pointing game without tolerance, on the same maps (no forward pass).
    exactParts.get(method)!.push({ ...(await evaluator.measure(input, e.map, e.classes, { metrics: ['pointing'], truth, tolerance: 0 }, method)), method });
    progress.tick(`${method}, ${first + n}/${count}`);
  }
}
const seconds = (performance.now() - started) / 1000;
evaluator.dispose();
model.dispose();

const classes = mergeScores(parts.get(methods[0])!).classes;
const summary = {
  adapter: describeAdapter(gpu.adapter),
  images: count, curveImages: curves, seed: HELD_OUT_SEED, steps, seconds,
  classificationAccuracy: classes.filter((c, i) => c === data.truth[i].label).length / count,
  chancePointing: data.truth.reduce((a, { box: [x0, y0, x1, y1] }) => a + ((x1 - x0) * (y1 - y0)) / plane, 0) / count,
  methods: Object.fromEntries(
    methods.map((m) => {
      const s = mergeScores(parts.get(m)!);
      return [m, {
        pointingGame: s.pointing!.accuracy, pointingGameExact: mergeScores(exactParts.get(m)!).pointing!.accuracy,
        localizationError: s.localization!.error, meanIoU: s.localization!.meanIou,
        averageDrop: s.drop!.averageDrop, increaseInConfidence: s.drop!.increase,
        deletionAUC: s.deletion?.meanArea, insertionAUC: s.insertion?.meanArea,
      }];
    }),
  ),
};
gpu.destroy();
console.log(`adapter: ${summary.adapter}`);
console.log(`${count} held-out images (seed ${HELD_OUT_SEED}); classification accuracy ${summary.classificationAccuracy.toFixed(3)}; chance pointing (mean box area) ${summary.chancePointing.toFixed(3)}; deletion/insertion on the first ${curves}, ${steps} steps; ${seconds.toFixed(0)} s`);
const f = (v: number | undefined, digits: number) => (v === undefined ? '-' : v.toFixed(digits));
console.log(
  table(
    ['method', 'pointing (15 px)', 'pointing (0 px)', 'loc. error', 'mean IoU', 'Average Drop %', 'Increase %', 'deletion AUC', 'insertion AUC'],
    Object.entries(summary.methods).map(([m, s]) => [m, f(s.pointingGame, 3), f(s.pointingGameExact, 3), f(s.localizationError, 3), f(s.meanIoU, 3), f(s.averageDrop, 1), f(s.increaseInConfidence, 1), f(s.deletionAUC, 4), f(s.insertionAUC, 4)]),
  ),
);
const reportDir = join(ROOT, '.cache', 'reports');
mkdirSync(reportDir, { recursive: true });
writeFileSync(join(reportDir, 'localization.json'), JSON.stringify(summary, null, 2));
console.log(`written: ${join(reportDir, 'localization.json')}`);
