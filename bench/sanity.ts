// The sanity checks (Adebayo et al. 2018) of every method on the demo model's held-out images: the
// weight layers redrawn from the top down on the GPU, Spearman rank correlation and SSIM of each map with
// the trained model's after each layer, as a table, JSON, and a plot (weights/sanity-checks.png, shown
// in the README).
//   npm run bench:sanity [-- --count 20 --seed 0 --plot gradcam,gradcam++,scorecam] [-- --replot]
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { cascadingRandomization, mergeSanity, type SanityResult } from '../src/evaluate/sanity.js';
import { METHODS, type Method } from '../src/explain/explainer.js';
import { createGpuContext, describeAdapter } from '../src/gpu/context.js';
import { drawText, fillRect, type RgbCanvas, textWidth } from '../src/io/font.js';
import { writePng } from '../src/io/png.js';
import { Model } from '../src/runtime/model.js';
import { WEIGHTS_DIR } from '../src/io/paths.js';
import { heldOut, HELD_OUT_SEED, ROOT, table } from './common.js';

const { values } = parseArgs({
  options: {
    count: { type: 'string', default: '20' },
    seed: { type: 'string', default: '0' },
    method: { type: 'string', default: METHODS.join(',') },
    // HiResCAM, CAM and XGrad-CAM equal Grad-CAM on the demo's head: one line stands for them.
    plot: { type: 'string', default: 'gradcam++,scorecam,eigencam,guided-backprop,guided-gradcam,gradcam' },
    replot: { type: 'boolean' },
  },
});
const count = Number(values.count);
const seed = Number(values.seed);
const methods = values.method.split(',') as Method[];
const GROUP = 10;
const reportPath = join(ROOT, '.cache', 'reports', 'sanity.json');
interface Report { adapter: string; count: number; seed: number; seconds: number; layers: SanityResult['layers']; methods: Record<string, { spearman: number[]; ssim: number[] }> }
// --replot: draw the plot again from the last run's report, without measuring.
const report: Report = values.replot ? (JSON.parse(readFileSync(reportPath, 'utf8')) as Report) : await measure();
const { adapter, seconds, layers, methods: curves } = report;

async function measure(): Promise<Report> {
  const data = heldOut(count, GROUP);
  const gpu = await createGpuContext();
  const model = Model.fromFile(gpu, data.modelPath);
  const started = performance.now();
  const parts: SanityResult[] = [];
  for (const { first, input } of data.batches) {
    parts.push(await cascadingRandomization(model, input, { methods, seed, layer: data.layer }));
    console.error(`${first + input.shape[0]}/${count} images`);
  }
  const seconds = (performance.now() - started) / 1000;
  model.dispose();
  const merged = mergeSanity(parts);
  const curves = Object.fromEntries(Object.entries(merged.methods).map(([m, r]) => [m, { spearman: r.spearman, ssim: r.ssim }]));
  const adapter = describeAdapter(gpu.adapter);
  gpu.destroy();
  return { adapter, count, seed, seconds, layers: merged.layers, methods: curves };
}

console.log(`adapter: ${adapter}`);
console.log(`${report.count} held-out demo images (seed ${HELD_OUT_SEED}); weights redrawn with seed ${report.seed}, top layer first; ${seconds.toFixed(0)} s`);
for (const key of ['spearman', 'ssim'] as const) {
  console.log(`\n${key === 'spearman' ? 'Spearman rank correlation' : 'SSIM'} with the trained model's map, after redrawing down to:`);
  console.log(table(['method', ...layers.map((l, k) => `${k + 1}. ${l.node.replace(/^\/features\//, '').replace(/\/(Conv|Gemm)$/, '')}`)], Object.keys(curves).map((m) => [m, ...curves[m][key].map((v) => v.toFixed(3))])));
}
mkdirSync(join(ROOT, '.cache', 'reports'), { recursive: true });
writeFileSync(reportPath, `${JSON.stringify(report, null, 2)}\n`);
const plotted = values.plot.split(',').filter((m) => m in curves) as Method[];
const png = join(WEIGHTS_DIR, 'sanity-checks.png');
const canvas = plot(plotted);
writePng(png, canvas.width, canvas.height, canvas.rgb);
console.log(`written: ${reportPath}, ${png}`);

/** Two panels (Spearman, SSIM) of each plotted method's curve: step 0 is the trained model (1 by definition). */
function plot(which: Method[]): RgbCanvas {
  const panel = { w: 420, h: 300, left: 50, top: 40 };
  const legend = 190;
  const width = 2 * (panel.left + panel.w) + legend + 20;
  const height = panel.top + panel.h + 70;
  const canvas: RgbCanvas = { width, height, rgb: new Uint8Array(width * height * 3).fill(255) };
  const colors: [number, number, number][] = [[31, 119, 180], [255, 127, 14], [44, 160, 44], [214, 39, 40], [148, 103, 189], [140, 86, 75], [227, 119, 194], [127, 127, 127], [188, 189, 34], [23, 190, 207]];
  const lo = -0.4;
  (['spearman', 'ssim'] as const).forEach((key, p) => {
    const x0 = panel.left + p * (panel.left + panel.w);
    const y0 = panel.top;
    const title = key === 'spearman' ? 'Spearman rank correlation' : 'SSIM';
    drawText(canvas, x0 + (panel.w - textWidth(title, 2)) / 2, 8, title, 2);
    const sx = (k: number) => x0 + Math.round((k / layers.length) * panel.w);
    const sy = (v: number) => y0 + Math.round(((1 - v) / (1 - lo)) * panel.h);
    for (const v of [1, 0.5, 0]) {
      fillRect(canvas, x0, sy(v), panel.w, 1, [200, 200, 200]);
      drawText(canvas, x0 - textWidth(v.toFixed(1)) - 6, sy(v) - 4, v.toFixed(1));
    }
    fillRect(canvas, x0, y0, 1, panel.h, [0, 0, 0]);
    fillRect(canvas, x0, y0 + panel.h, panel.w, 1, [0, 0, 0]);
    for (let k = 0; k <= layers.length; k++) drawText(canvas, sx(k) - 3, y0 + panel.h + 6, `${k}`);
    const axis = 'layers redrawn, top first';
    drawText(canvas, x0 + (panel.w - textWidth(axis)) / 2, y0 + panel.h + 22, axis);
    which.forEach((m, i) => {
      const points = [1, ...curves[m][key]];
      for (let k = 0; k < layers.length; k++) line(canvas, sx(k), sy(points[k]), sx(k + 1), sy(points[k + 1]), colors[i % colors.length]);
    });
  });
  which.forEach((m, i) => {
    const x = 2 * (panel.left + panel.w) + 10;
    const y = panel.top + 10 + 18 * i;
    fillRect(canvas, x, y + 3, 18, 3, colors[i % colors.length]);
    drawText(canvas, x + 24, y, m);
  });
  drawText(canvas, 10, height - 22, `demo model, ${report.count} held-out images, mean per step; ${adapter.split(':')[0]}`);
  return canvas;
}

function line(canvas: RgbCanvas, xa: number, ya: number, xb: number, yb: number, color: [number, number, number]): void {
  const steps = Math.max(Math.abs(xb - xa), Math.abs(yb - ya), 1);
  for (let s = 0; s <= steps; s++) {
    const x = Math.round(xa + ((xb - xa) * s) / steps);
    const y = Math.round(ya + ((yb - ya) * s) / steps);
    fillRect(canvas, x - 1, y - 1, 3, 3, color);
  }
}
