// The web page in a real browser: Debian's chromium-headless-shell driven by playwright-core, WebGPU on
// its bundled SwiftShader adapter (the only one headless Chromium exposes). On the preloaded demo model
// and sample (128x128) the page's input equals the Node engine's preprocessing and its raw map equals
// the Node engine's on that input; a bad image and a bad model get the CLI's one-line messages; the
// page's screenshot is not blank. SwiftShader is slow, so nothing here is timed.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer } from '../src/cli/serve.js';
import { Explainer, type Method } from '../src/explain/explainer.js';
import { loadImageCodecs, readImage } from '../src/io/decode.js';
import { preprocess } from '../src/io/image.js';
import { WEIGHTS_DIR } from '../src/io/paths.js';
import { Model } from '../src/runtime/model.js';
import { relativeError } from './support/fixtures.js';
import { useGpu } from './support/gpu.js';

const CHROMIUM = '/usr/bin/chromium-headless-shell';
const REPORTS = join(import.meta.dirname, '..', '.cache', 'reports');

interface PageState {
  done: number;
  error?: string;
  adapter?: string;
  last?: {
    method: Method; layer: string; layout: string; target: string; classes: number[];
    inputShape: number[]; input: number[]; mapShape: number[]; map: number[]; mask?: number[];
  };
}

const gpu = useGpu();

describe.skipIf(process.env.GRADCAM_SKIP_BROWSER)('web page in headless Chromium', () => {
  let browser: Browser;
  let server: Server;
  let page: Page;
  const state = () => page.evaluate(() => (globalThis as unknown as { gradcamPage: PageState }).gradcamPage);
  const settled = async (count: number) => {
    await page.waitForFunction((n) => (globalThis as unknown as { gradcamPage?: PageState }).gradcamPage!.done >= n, count, { timeout: 240_000 });
    return state();
  };

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run scripts/install-system-deps.sh (Debian's chromium-headless-shell)`);
    const started = await startServer(0);
    server = started.server;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--enable-unsafe-webgpu'] });
    page = await browser.newPage({ viewport: { width: 1100, height: 760 } });
    await page.goto(started.url);
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    server?.close();
  });

  it('explains the preloaded sample as the Node engine does', async () => {
    const s = await settled(1);
    expect(s.error, 'the page reported an error').toBeUndefined();
    expect(s.adapter).toMatch(/swiftshader/i);
    const last = s.last!;
    expect(last.inputShape).toEqual([1, 3, 128, 128]);

    // The browser's PNG decoder and the engine's preprocessing give the Node CLI's input.
    const config = JSON.parse(readFileSync(join(WEIGHTS_DIR, 'demo.json'), 'utf8')) as { mean: [number, number, number]; std: [number, number, number] };
    const node = preprocess(readImage(join(WEIGHTS_DIR, 'samples', 'circle.png')), { resize: 128, crop: [128, 128], mean: config.mean, std: config.std });
    expect(Math.max(...node.map((v, i) => Math.abs(v - last.input[i])))).toBeLessThan(1e-6);

    // The page's map, from SwiftShader, against the Node engine's on lavapipe for the same input:
    // two float32 evaluations of the same kernels, within the 1e-5.
    const model = Model.fromFile(gpu(), join(WEIGHTS_DIR, 'demo.onnx'));
    const explainer = new Explainer(model);
    try {
      const input = { shape: last.inputShape, data: Float32Array.from(last.input) };
      const result = await explainer.explain(input, { method: last.method, layer: last.layer, classes: last.classes });
      expect(last.mapShape).toEqual(result.map.shape);
      const reference = { shape: result.map.shape, data: Float64Array.from(result.map.data) };
      const difference = relativeError(Float32Array.from(last.map), reference);
      mkdirSync(REPORTS, { recursive: true });
      writeFileSync(join(REPORTS, 'browser.json'), `${JSON.stringify({ adapter: s.adapter, method: last.method, layer: last.layer, mapDifference: difference }, null, 2)}\n`);
      expect(difference).toBeLessThan(1e-5);
    } finally {
      explainer.dispose();
      model.dispose();
    }
  });

  it('shows a page that is not blank', async () => {
    const shot = PNG.sync.read(await page.screenshot({ path: join(REPORTS, 'web-page.png'), fullPage: true }));
    const colours = new Set<number>();
    for (let i = 0; i < shot.data.length; i += 4) colours.add((shot.data[i] << 16) | (shot.data[i + 1] << 8) | shot.data[i + 2]);
    expect(colours.size).toBeGreaterThan(200);
  });

  it("gives the Node engine's input for a JPEG (its own decoder), WebP, GIF and BMP (the browser's)", async () => {
    const config = JSON.parse(readFileSync(join(WEIGHTS_DIR, 'demo.json'), 'utf8')) as { mean: [number, number, number]; std: [number, number, number] };
    for (const name of ['progressive420.jpg', 'lossy.webp', 'lossless.webp', 'palette.gif', 'rgb.bmp']) {
      const file = join(import.meta.dirname, 'fixtures', 'images', 'formats', name);
      const before = (await state()).done;
      await page.setInputFiles('#image-file', { name, mimeType: 'application/octet-stream', buffer: readFileSync(file) });
      const s = await settled(before + 1);
      expect(s.error, name).toBeUndefined();
      await loadImageCodecs();
      const node = preprocess(readImage(file), { resize: 128, crop: [128, 128], mean: config.mean, std: config.std });
      expect(Math.max(...node.map((v, i) => Math.abs(v - s.last!.input[i]))), name).toBe(0);
    }
  });

  it('explains a segmentation class and draws where it wins, and reads token layers, as the Node engine does', async () => {
    const check = async (name: string, options: { layout: string; target: string; classIndex: string }) => {
      const file = join(import.meta.dirname, 'fixtures', 'beyond', name, 'model.onnx');
      let before = (await state()).done;
      await page.setInputFiles('#model-file', { name: `${name}.onnx`, mimeType: 'application/octet-stream', buffer: readFileSync(file) });
      await settled(before + 1);
      before = (await state()).done;
      await page.selectOption('#layout', options.layout);
      await settled(before + 1);
      await page.selectOption('#target', options.target);
      await page.fill('#class-index', options.classIndex);
      before = (await state()).done;
      await page.dispatchEvent('#class-index', 'change');
      const s = await settled(before + 1);
      expect(s.error, name).toBeUndefined();
      const last = s.last!;
      expect([last.layout, last.target]).toEqual([options.layout, options.target]);
      const model = Model.fromFile(gpu(), file);
      const explainer = new Explainer(model);
      try {
        const input = { shape: last.inputShape, data: Float32Array.from(last.input) };
        const result = await explainer.explain(input, { method: last.method, layer: last.layer, layout: last.layout as 'nchw', target: { kind: last.target as 'class' }, classes: last.classes });
        expect(relativeError(Float32Array.from(last.map), { shape: result.map.shape, data: Float64Array.from(result.map.data) }), name).toBeLessThan(1e-5);
        return { last, result };
      } finally {
        explainer.dispose();
        model.dispose();
      }
    };
    const seg = await check('seg_argmax_mask', { layout: 'nchw', target: 'segmentation', classIndex: '1' });
    // The mask drawn is where class 1 has the largest of the output's scores.
    const scores = seg.result.logits.data;
    const positions = scores.length / 3;
    const wins = Array.from({ length: positions }, (_, p) => Number(scores[positions + p] > scores[p] && scores[positions + p] > scores[2 * positions + p]));
    expect(seg.last.mask).toEqual(wins);
    expect(wins.some(Boolean)).toBe(true);
    const vit = await check('swin_tokens_no_class_token', { layout: 'tokens', target: 'softmax', classIndex: '2' });
    expect(vit.last.layer).toBe('/block/norm1/LayerNormalization_output_0');
  });

  it('answers a bad image and a bad model with the CLI\'s one-line messages', async () => {
    const before = (await state()).done;
    await page.setInputFiles('#image-file', { name: 'notes.png', mimeType: 'image/png', buffer: Buffer.from('not an image') });
    let s = await settled(before + 1);
    expect(s.error).toBe('notes.png: not a PNG, JPEG, WebP, GIF, BMP or TIFF image (unrecognised file signature)');
    expect(await page.textContent('#message')).toBe(`gradcam: ${s.error}`);
    await page.setInputFiles('#model-file', { name: 'model.onnx', mimeType: 'application/octet-stream', buffer: Buffer.from('not a model') });
    s = await settled(before + 2);
    expect(s.error).toMatch(/^model\.onnx is not an ONNX model/);
  });
});
