// The CLI as a user meets it: results on stdout, and bad input answered with one line on stderr and a
// non-zero exit status, never a stack trace. Runs the command in-process (same code as bin/gradcam.js).
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { run } from './support/cli.js';
import { PNG } from 'pngjs';
import { applyJet } from '../src/io/colormap.js';
import { readNpy, writeNpy } from '../src/io/npy.js';
import { FIXTURES, readReference, relativeError } from './support/fixtures.js';
import { poolingHeadModel, shiftedReluModel } from './support/model-spec.js';

afterEach(() => {
  process.exitCode = undefined;
});

const net = join(FIXTURES, 'nets', 'resnet_like_opset13');
const metrics = join(FIXTURES, 'metrics');
const fourChannels = join(mkdtempSync(join(tmpdir(), 'gradcam-')), 'four-channels.npy');
writeNpy(fourChannels, [1, 4, 32, 40], new Float32Array(4 * 32 * 40));
const image = join(FIXTURES, 'images', 'rgb.png');

describe('gradcam CLI', () => {
  it('queue and worker answer an unreachable Redis or a wrong URL with one line, not a hang', async () => {
    // Port 1 on the loopback: nothing listens there.
    for (const argv of [['queue', 'status', '--redis', 'redis://127.0.0.1:1'], ['worker', '--redis', 'redis://127.0.0.1:1']]) {
      const r = await run(...argv);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/^gradcam: cannot reach Redis at redis:\/\/127\.0\.0\.1:1: /);
    }
    const wrong = await run('queue', 'status', '--redis', 'http://127.0.0.1:6379');
    expect(wrong.status).toBe(2);
    expect(wrong.stderr).toBe('gradcam: --redis takes a redis:// URL, got "http://127.0.0.1:6379"');
    expect((await run('queue', 'list')).status).toBe(2);
  });

  it('adapters lists what Dawn sees, and --adapter NAME|INDEX chooses one for any command', async () => {
    const listed = await run('adapters', '--json');
    expect(listed.status).toBe(0);
    const adapters = JSON.parse(listed.stdout) as { index: number; backend: string; name: string }[];
    expect(adapters.length).toBeGreaterThan(0);
    for (const a of adapters) expect(a.backend.length > 0 && a.name.length > 0).toBe(true);
    const byIndex = await run('info', '--json', '--adapter', '0');
    expect(byIndex.status).toBe(0);
    const byName = await run('info', '--adapter', adapters[0].name.slice(0, 6), '--json');
    expect(JSON.parse(byName.stdout).adapter).toEqual(JSON.parse(byIndex.stdout).adapter);
    const unknown = await run('info', '--adapter', 'no such gpu');
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toMatch(/^gradcam: no adapter is named like "no such gpu" \(Available adapters: \* backend: /);
    expect(unknown.stderr.split('\n')).toHaveLength(1);
    const past = await run('info', `--adapter=${adapters.length}`);
    expect(past.status).toBe(1);
    expect(past.stderr).toContain('gradcam adapters lists them');
    expect((await run('info', '--adapter')).status).toBe(2);
  });

  it('info --model summarizes a model and says which weights were widened from float16', async () => {
    const r = await run('info', '--model', join(FIXTURES, 'ops', 'conv_float16_weights', 'model.onnx'), '--json');
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ opset: 13, outputs: ['y'], ops: { Cast: 1, Conv: 1 }, parameters: 108, widened: { float16: 1 } });
    const text = await run('info', '--model', join(FIXTURES, 'ops', 'conv_float16_weights', 'model.onnx'));
    expect(text.stdout).toContain('widened:     1 float16 initializer read as float32');
    const missing = await run('info', '--model', 'no-such-model.onnx');
    expect(missing.status).toBe(1);
    expect(missing.stderr.split('\n').filter(Boolean)).toHaveLength(1);
  });

  it('infer writes the first output as .npy, equal to the float64 reference', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'gradcam-')), 'y.npy');
    const r = await run('infer', '--model', join(net, 'model.onnx'), '--input', join(net, 'x0.npy'), '--npy', out);
    expect(r.status).toBe(0);
    expect(relativeError(readNpy(out).data as Float32Array, readReference(join(net, 'y.npy')))).toBeLessThan(1e-5);
  });

  it('the decoding flags reach the decoder: --exif-rotate and --background change what the model sees', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gradcam-'));
    const images = join(FIXTURES, 'images', 'formats');
    const infer = async (image: string, ...flags: string[]) => {
      const out = join(dir, `${flags.join('') || 'plain'}.npy`);
      const r = await run('infer', '--model', join(net, 'model.onnx'), '--image', join(images, image), '--resize', '40', '--crop', '32,40', '--npy', out, ...flags);
      expect(r.status, r.stderr).toBe(0);
      return Array.from(readNpy(out).data as Float32Array);
    };
    expect(await infer('exif_rotate6.jpg', '--exif-rotate')).not.toEqual(await infer('exif_rotate6.jpg'));
    expect(await infer('rgba.png', '--background', '30,60,90')).not.toEqual(await infer('rgba.png'));
  });

  it('explain writes maps, PNGs and a JSON summary for images', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gradcam-'));
    const r = await run('explain', '--model', join(net, 'model.onnx'), '--image', image, '--resize', '40', '--crop', '32,40', '--out', dir, '--npy', join(dir, 'maps.npy'), '--json', '--class', '3');
    expect(r.status).toBe(0);
    const summary = JSON.parse(r.stdout);
    expect(summary.images[0].class).toBe(3);
    expect(summary.layer.shape).toHaveLength(4);
    expect(readNpy(join(dir, 'maps.npy')).shape).toEqual([1, 32, 40]);
    expect(existsSync(join(dir, 'rgb.heatmap.png')) && existsSync(join(dir, 'rgb.overlay.png'))).toBe(true);
    expect(readFileSync(join(dir, 'rgb.overlay.png')).subarray(1, 4).toString()).toBe('PNG');
  });

  it('explain --method dff lists each concept\'s top classes and the reconstruction error', async () => {
    const r = await run('explain', '--model', join(net, 'model.onnx'), '--input', join(net, 'x0.npy'), '--method', 'dff', '--concepts', '3', '--json');
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
    const concepts = JSON.parse(r.stdout).images.map((i: { concepts: { chosen: number; reconstruction_error: number; top_classes: { probability: number }[][] } }) => i.concepts);
    for (const c of concepts) {
      expect(c.top_classes).toHaveLength(3);
      expect(c.chosen).toBeLessThan(3);
      expect(c.reconstruction_error).toBeGreaterThan(0);
      for (const top of c.top_classes) expect(top[0].probability).toBeGreaterThanOrEqual(top[1].probability);
    }
  });

  it('explain --profile times every dispatch and writes them as JSON, the same map as without', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gradcam-'));
    const args = ['explain', '--model', join(net, 'model.onnx'), '--input', join(net, 'x0.npy'), '--class', '3'];
    const plain = await run(...args, '--npy', join(dir, 'plain.npy'));
    const profiled = await run(...args, '--npy', join(dir, 'profiled.npy'), '--profile', join(dir, 'adapter.json'));
    const r = await run(...args, '--npy', join(dir, 'gpu.npy'), '--profile', join(dir, 'profile.json'), '--profile-device', 'h200');
    expect([plain.status, profiled.status, r.status]).toEqual([0, 0, 0]);
    const map = readNpy(join(dir, 'plain.npy')).data as Float32Array;
    expect(readNpy(join(dir, 'profiled.npy')).data).toEqual(map);
    // With a GPU named, the plan takes the GPU variants (another summation order): the same map within
    // float32 rounding (the GEMM variants' measured error against float64 is 2.5e-7 and below).
    const gpuMap = readNpy(join(dir, 'gpu.npy')).data as Float32Array;
    const peak = map.reduce((a, v) => Math.max(a, Math.abs(v)), 0);
    expect(gpuMap.reduce((a, v, i) => Math.max(a, Math.abs(v - map[i])), 0)).toBeLessThan(1e-5 * peak);
    const adapterKernels = new Set((JSON.parse(readFileSync(join(dir, 'adapter.json'), 'utf8')).dispatches as { kernel: string }[]).map((d) => d.kernel));
    expect([...adapterKernels].some((k) => k.includes('gemm_registers'))).toBe(true);
    const profile = JSON.parse(readFileSync(join(dir, 'profile.json'), 'utf8'));
    expect(profile.variants).toBe('gpu');
    const gpuKernels = (profile.dispatches as { kernel: string }[]).map((d) => d.kernel);
    expect(gpuKernels.some((k) => k.includes('gemm_registers'))).toBe(false);
    expect(gpuKernels.some((k) => k.includes('gemm_tiled') || k.includes('gemm_rows'))).toBe(true);
    expect(r.stdout).toMatch(/planned with the GPU kernel variants/);
    const dispatches = profile.dispatches as { ms: number; share: number; phase: string; kernel: string; op?: string; gflops?: number }[];
    expect(dispatches.length).toBeGreaterThan(10);
    expect(dispatches.every((d) => d.ms >= 0)).toBe(true);
    expect(dispatches.map((d) => d.ms)).toEqual([...dispatches.map((d) => d.ms)].sort((a, b) => b - a));
    expect(dispatches.reduce((s, d) => s + d.share, 0)).toBeCloseTo(1, 6);
    expect(new Set(dispatches.map((d) => d.phase))).toEqual(new Set(['forward', 'backward', 'cam']));
    const gemms = dispatches.filter((d) => d.kernel.includes('gemm'));
    expect(gemms.length).toBeGreaterThan(0);
    expect(gemms.every((d) => d.gflops !== undefined)).toBe(true);
    expect(r.stdout).toMatch(/GPU ms +share +GFLOP\/s +MB +workgroups +roofline µs +bound +fills/);
    expect(r.stdout).toMatch(new RegExp(`${dispatches.length} dispatches, [0-9.]+ GPU ms`));
    // The roofline columns follow from each dispatch's FLOPs, bytes and workgroups and the H200's specification.
    expect(profile.device).toMatch(/H200/);
    type Estimated = { flops?: number; bytes: number; workgroups: number; roofline: { ms: number; bound: string; fills: boolean } };
    for (const d of profile.dispatches as Estimated[]) {
      expect(d.bytes).toBeGreaterThan(0);
      expect(d.workgroups).toBeGreaterThanOrEqual(1);
      const compute = (d.flops ?? 0) / 67e12;
      const memory = d.bytes / 4.8e12;
      expect(d.roofline.ms).toBeCloseTo(1000 * Math.max(compute, memory), 12);
      expect(d.roofline.fills).toBe(d.workgroups >= 4 * 132);
    }
    // A batch of 2 at 16x20 cannot fill 132 SMs: every dispatch is reported.
    expect(r.stdout).toMatch(new RegExp(`${dispatches.length} of ${dispatches.length} dispatches launch fewer than 4 workgroups per SM`));
  });

  it('explain --out draws a map of magnitude 1e-8 across the whole colormap', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gradcam-'));
    writeFileSync(join(dir, 'tiny.onnx'), poolingHeadModel([1, 1, 8, 8], [[1e-8]]));
    writeNpy(join(dir, 'x.npy'), [1, 1, 8, 8], Float32Array.from({ length: 64 }, (_, i) => i / 63));
    const r = await run('explain', '--model', join(dir, 'tiny.onnx'), '--input', join(dir, 'x.npy'), '--method', 'cam', '--out', dir, '--npy', join(dir, 'map.npy'));
    expect(r.status).toBe(0);
    expect(Math.max(...(readNpy(join(dir, 'map.npy')).data as Float32Array))).toBeLessThan(1e-7);
    const png = PNG.sync.read(readFileSync(readdirSync(dir).map((f) => join(dir, f)).find((f) => f.endsWith('.heatmap.png'))!));
    const [coldest, hottest] = [applyJet(Float32Array.of(0), 1, 1), applyJet(Float32Array.of(1), 1, 1)];
    const pixel = (i: number) => Array.from(png.data.subarray(4 * i, 4 * i + 3));
    expect(pixel(0)).toEqual(Array.from(coldest));
    expect(pixel(63)).toEqual(Array.from(hottest));
  });

  it('explain warns once, and says in --json, when a map rests on a decision within float32 rounding', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gradcam-'));
    // A feature of 0.5 + 2e-7 puts the second ReLU's input 2e-7 from its kink.
    const model = shiftedReluModel([1, 1, 4, 4], -0.5, [[1]]);
    writeFileSync(join(dir, 'kink.onnx'), model);
    const x = Float32Array.from({ length: 16 }, (_, i) => 1 + i / 16);
    x[5] = 0.5 + 2e-7;
    writeNpy(join(dir, 'x.npy'), [1, 1, 4, 4], x);
    const r = await run('explain', '--model', join(dir, 'kink.onnx'), '--input', join(dir, 'x.npy'), '--layer', 'features', '--json');
    expect(r.status).toBe(0);
    expect(r.stderr.split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^warning: .* within float32 rounding of its kink \(smallest margin 1\.[0-9]e-7 < 0\.00001\)/);
    const image = JSON.parse(r.stdout).images[0];
    expect(image.stable).toBe(false);
    expect(image.smallest_margin).toBeGreaterThan(5e-8);
    expect(image.smallest_margin).toBeLessThan(2e-7);
  });

  it('explain --method guided-gradcam writes the gradient image as .npy [N, 3, H, W] and as a picture', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gradcam-'));
    const r = await run('explain', '--model', join(net, 'model.onnx'), '--image', image, '--resize', '40', '--crop', '32,40', '--method', 'guided-gradcam', '--out', dir, '--npy', join(dir, 'g.npy'));
    expect(r.status).toBe(0);
    expect(readNpy(join(dir, 'g.npy')).shape).toEqual([1, 3, 32, 40]);
    const png = PNG.sync.read(readFileSync(join(dir, 'rgb.guided-gradcam.png')));
    expect([png.width, png.height]).toEqual([40, 32]);
  });

  it('explain --help lists every method', async () => {
    const r = await run('explain', '--help');
    for (const m of ['gradcam', 'gradcam++', 'layercam', 'guided-backprop', 'guided-gradcam']) expect(r.stdout + r.stderr).toContain(m);
  });

  it('explain --images explains a folder in batches, reports what does not decode, and resumes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gradcam-folder-'));
    const out = join(dir, 'out');
    const images = join(dir, 'in');
    mkdirSync(join(images, 'sub'), { recursive: true });
    copyFileSync(join(FIXTURES, 'images', 'rgb.png'), join(images, 'a.png'));
    copyFileSync(join(FIXTURES, 'images', 'photo.jpg'), join(images, 'sub', 'b.jpg'));
    copyFileSync(join(FIXTURES, 'images', 'grey.png'), join(images, 'sub', 'c.PNG'));
    writeFileSync(join(images, 'sub', 'broken.png'), 'not an image');
    writeFileSync(join(images, 'notes.txt'), 'ignored');
    const args = ['explain', '--model', join(net, 'model.onnx'), '--resize', '40', '--crop', '32,40', '--class', '2'];
    const r = await run(...args, '--images', images, '--out', out, '--batch', '2', '--save-npy');
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/sub\/broken\.png: not a PNG, JPEG, WebP, GIF, BMP or TIFF/);
    const manifest = () => readFileSync(join(out, 'manifest.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const entries = manifest();
    expect(entries.map((e) => e.file).sort()).toEqual(['a.png', 'sub/b.jpg', 'sub/broken.png', 'sub/c.PNG']);
    expect(entries.find((e) => e.file === 'sub/broken.png').error).toMatch(/not a PNG, JPEG, WebP, GIF, BMP or TIFF/);
    // The same maps as explaining the files as one batch (batches of 2 and 3 give the same values on
    // lavapipe; 1e-6 leaves room for batch-dependent GEMM variants on other adapters).
    const batch = join(dir, 'batch.npy');
    await run(...args, '--image', join(images, 'a.png'), join(images, 'sub', 'b.jpg'), join(images, 'sub', 'c.PNG'), '--npy', batch);
    const all = readNpy(batch);
    ['a', 'sub/b', 'sub/c'].forEach((name, n) => {
      const one = readNpy(join(out, `${name}.npy`));
      expect(one.shape).toEqual([32, 40]);
      const expected = (all.data as Float32Array).subarray(n * 32 * 40, (n + 1) * 32 * 40);
      expect(relativeError(one.data as Float32Array, { shape: [32, 40], data: Float64Array.from(expected) })).toBeLessThan(1e-6);
      expect(existsSync(join(out, `${name}.overlay.png`))).toBe(true);
    });
    expect(entries.find((e) => e.file === 'a.png')).toMatchObject({ class: 2, method: 'gradcam' });
    // An interrupted run: the manifest kept its first line (and half of the next); --resume finishes it.
    const lines = readFileSync(join(out, 'manifest.jsonl'), 'utf8').split('\n');
    writeFileSync(join(out, 'manifest.jsonl'), `${lines[0]}\n${lines[1].slice(0, 10)}`);
    const resumed = await run(...args, '--images', images, '--out', out, '--resume', '--json');
    expect(resumed.status).toBe(0);
    expect(JSON.parse(resumed.stdout)).toMatchObject({ explained: 2, failed: 1, skipped: 1 });
    expect(manifest().filter((e) => e.file).map((e) => e.file).sort()).toEqual(['a.png', 'sub/b.jpg', 'sub/broken.png', 'sub/c.PNG']);
    const refused = await run(...args, '--images', images);
    expect(refused.status).toBe(2);
    expect(refused.stderr).toMatch(/--images DIR needs --out DIR/);
  });

  it('evaluate measures each method on the GPU: a table, and with --out the whole result as JSON', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gradcam-'));
    const boxes = join(dir, 'boxes.json');
    writeFileSync(boxes, JSON.stringify([[2, 3, 7, 9], [[0, 0, 4, 4], [6, 8, 10, 12]], { boxes: [[5, 1, 6, 2]], label: 2 }]));
    const model = join(metrics, 'model.onnx');
    const r = await run('evaluate', '--model', model, '--input', join(metrics, 'images.npy'), '--method', 'gradcam,cam', '--boxes', boxes, '--steps', '5', '--batch', '3', '--out', join(dir, 'scores.json'));
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^3 images\nmethod\s+deletion AUC.*Average Drop %.*pointing\s+loc\. error/);
    const json = JSON.parse(readFileSync(join(dir, 'scores.json'), 'utf8'));
    expect(json.images).toEqual(['images-0', 'images-1', 'images-2']);
    expect(json.methods.map((m: { method: string }) => m.method)).toEqual(['gradcam', 'cam']);
    for (const m of json.methods) {
      // 120 pixels, 5 steps: 24 pixels a step, 6 points; the clean image is the first deletion point,
      // the last insertion point and Average Drop's original, three separate copies on the GPU.
      expect(m.deletion.pixels).toEqual([0, 24, 48, 72, 96, 120]);
      m.drop.original.forEach((y: number, n: number) => {
        expect(m.deletion.probabilities[n][0]).toBe(y);
        expect(m.insertion.probabilities[n][5]).toBe(y);
      });
      expect(m.pointing.hits).toHaveLength(3);
      expect(m.localization.localized).toHaveLength(3);
    }
  });

  it('evaluate --images reads a folder and matches the demo boxes.json by file name', async () => {
    const samples = join(import.meta.dirname, '..', 'weights', 'samples');
    const dir = mkdtempSync(join(tmpdir(), 'gradcam-'));
    const r = await run('evaluate', '--model', join(import.meta.dirname, '..', 'weights', 'demo.onnx'), '--images', samples, '--resize', '128', '--crop', '128', '--boxes', join(samples, 'boxes.json'), '--metric', 'pointing,localization', '--out', join(dir, 'scores.json'));
    expect(r.status, r.stderr).toBe(0);
    const json = JSON.parse(readFileSync(join(dir, 'scores.json'), 'utf8'));
    expect(json.images).toEqual(['circle', 'crescent', 'cross', 'diamond', 'ring', 'square', 'star', 'triangle']);
    expect(json.methods[0].pointing.hits).toHaveLength(8);
  });

  it('evaluate --metric road prints ROAD only when asked for', async () => {
    const r = await run('evaluate', '--model', join(metrics, 'model.onnx'), '--input', join(metrics, 'images.npy'), '--metric', 'road', '--seed', '3');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/ROAD MoRF \(lower\)\s+ROAD LeRF \(higher\)\s+ROAD combined\ngradcam\s+0\.\d{4}\s+0\.\d{4}\s+-?0\.\d{4}$/);
    expect(r.stdout).not.toMatch(/deletion/);
  });

  it('layers lists the candidates and marks the default', async () => {
    const r = await run('layers', '--model', join(net, 'model.onnx'), '--shape', '2,3,32,40');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^\* /m);
  });

  it('explain reads token layers, forms targets from files, and draws signals and volumes', async () => {
    const beyond = join(FIXTURES, 'beyond');
    const out = mkdtempSync(join(tmpdir(), 'gradcam-beyond-'));
    const vit = join(beyond, 'vit_tokens_class');
    const tokens = await run('explain', '--model', join(vit, 'model.onnx'), '--input', join(vit, 'x0.npy'), '--layout', 'tokens', '--class', '1,3', '--npy', join(out, 'vit.npy'), '--json');
    expect(tokens.status).toBe(0);
    expect(JSON.parse(tokens.stdout).layer).toMatchObject({ layout: 'tokens', grid: [8, 6] });
    const map = readNpy(join(out, 'vit.npy'));
    expect(map.shape).toEqual([2, 32, 24]);
    expect(relativeError(map.data as Float32Array, readReference(join(vit, 'gradcam_raw.npy')))).toBeLessThan(1e-4);

    const embed = join(beyond, 'embed_similarity');
    const similar = await run('explain', '--model', join(embed, 'model.onnx'), '--input', join(embed, 'x0.npy'), '--target', 'similarity', '--concept', join(embed, 'concept.npy'), '--json');
    expect(similar.status).toBe(0);
    const scores = JSON.parse(similar.stdout).images.map((i: { score: number }) => i.score);
    expect(relativeError(scores, readReference(join(embed, 'scores.npy')))).toBeLessThan(1e-5);

    const seg = join(beyond, 'seg_given_mask');
    const png = join(out, 'mask.png');
    const mask = new PNG({ width: 20, height: 24 });
    for (let y = 0; y < 24; y++) for (let x = 0; x < 20; x++) mask.data.set(y >= 4 && y < 14 && x >= 6 && x < 17 ? [255, 255, 255, 255] : [0, 0, 0, 255], (y * 20 + x) * 4);
    writeFileSync(png, PNG.sync.write(mask));
    const segmented = await run('explain', '--model', join(seg, 'model.onnx'), '--input', join(seg, 'x0.npy'), '--target', 'segmentation', '--class', '1,2', '--mask', png, '--json');
    expect(segmented.status).toBe(0);
    const segScores = JSON.parse(segmented.stdout).images.map((i: { score: number }) => i.score);
    expect(relativeError(segScores, readReference(join(seg, 'scores.npy')))).toBeLessThan(1e-5);

    for (const [name, file] of [['cnn1d_signal', 'signal'], ['cnn3d_volume', 'slices']]) {
      const r = await run('explain', '--model', join(beyond, name, 'model.onnx'), '--input', join(beyond, name, 'x0.npy'), '--out', out);
      expect(r.status).toBe(0);
      expect(existsSync(join(out, `x0-1.${file}.png`)), name).toBe(true);
    }
    const listed = await run('layers', '--model', join(vit, 'model.onnx'), '--shape', '2,3,32,24', '--layout', 'tokens');
    expect(listed.stdout).toMatch(/^\* \/blocks\/blocks\.1\/norm1\/LayerNormalization_output_0 +\[2, 49, 16\] +grid 8x6 \+ class token/m);
  });

  const beyond = join(FIXTURES, 'beyond');
  const vitModel = join(beyond, 'vit_tokens_class', 'model.onnx');
  const vitInput = join(beyond, 'vit_tokens_class', 'x0.npy');
  const bad: [string, string[], RegExp][] = [
    ['an unknown layout', ['explain', '--model', vitModel, '--input', vitInput, '--layout', 'nhwc'], /unknown layout "nhwc"; choose one of nchw, tokens, channels-last/],
    ['a grid without the tokens layout', ['explain', '--model', vitModel, '--input', vitInput, '--grid', '8x6'], /--grid goes with --layout tokens/],
    ['a grid that does not fit', ['explain', '--model', vitModel, '--input', vitInput, '--layout', 'tokens', '--layer', '/blocks/blocks.1/norm1/LayerNormalization_output_0', '--grid', '5x5'], /not a layer the tokens layout reads/],
    ['an unknown target', ['explain', '--model', vitModel, '--input', vitInput, '--target', 'logit'], /unknown target "logit"; choose one of class, softmax/],
    ['a concept without its target', ['explain', '--model', vitModel, '--input', vitInput, '--concept', vitInput], /--concept goes with --target similarity/],
    ['an inverted box', ['explain', '--model', vitModel, '--input', vitInput, '--target', 'detection', '--box', '20,3,10,30'], /a box needs x1 < x2 and y1 < y2, got 20,3,10,30|target detection reads a raw head/],
    ['an unknown detector format', ['explain', '--model', vitModel, '--input', vitInput, '--target', 'detection', '--box', '0,0,9,9', '--format', 'yolov7'], /--format takes yolov5 or yolov8, got "yolov7"/],
    ['too many classes to compare', ['explain', '--model', join(net, 'model.onnx'), '--input', join(net, 'x0.npy'), '--method', 'finercam', '--compare', '9'], /--compare takes 1 to 8 similar classes \(the output has 10 classes\), got 9/],
    ['FinerCAM with another target', ['explain', '--model', join(net, 'model.onnx'), '--input', join(net, 'x0.npy'), '--method', 'finercam', '--target', 'softmax'], /finercam explains the finer target, not softmax/],
    ['two smoothings at once', ['explain', '--model', join(net, 'model.onnx'), '--input', join(net, 'x0.npy'), '--smooth', '4', '--smooth-aug'], /--smooth and --smooth-aug are two smoothings: choose one/],
    ['--smooth-aug with Score-CAM', ['explain', '--model', join(net, 'model.onnx'), '--input', join(net, 'x0.npy'), '--method', 'scorecam', '--smooth-aug'], /--smooth-aug is not implemented for scorecam/],
    ['--smooth-eigen with a projection method', ['explain', '--model', join(net, 'model.onnx'), '--input', join(net, 'x0.npy'), '--method', 'eigencam', '--smooth-eigen'], /--smooth-eigen projects the channels' terms of a channel-weighted method; eigencam has none/],
    ['ShapleyCAM through a LayerNorm', ['explain', '--model', join(FIXTURES, 'nets', 'convnext_like_opset13', 'model.onnx'), '--input', join(FIXTURES, 'nets', 'convnext_like_opset13', 'x0.npy'), '--method', 'shapleycam', '--target', 'rest'], /(Pow|Div) node .*Hessian-vector products through it are not implemented yet/],
    ['binary on a 5-class output', ['explain', '--model', vitModel, '--input', vitInput, '--target', 'binary'], /target binary needs one logit per image; output "y" has 5/],
    ['not an ONNX file', ['infer', '--model', join(FIXTURES, 'bad', 'not-onnx.onnx'), '--input', join(net, 'x0.npy')], /not an ONNX model/],
    ['a truncated file', ['infer', '--model', join(FIXTURES, 'bad', 'truncated.onnx'), '--input', join(net, 'x0.npy')], /truncated/],
    ['an unsupported op', ['infer', '--model', join(FIXTURES, 'bad', 'unsupported-op.onnx'), '--input', join(net, 'x0.npy')], /unsupported op Einsum \(node "einsum_node", opset 12\); supported ops: .*Conv/],
    ['a missing initializer', ['infer', '--model', join(FIXTURES, 'bad', 'missing-initializer.onnx'), '--input', join(net, 'x0.npy')], /input "conv.weight" is missing/],
    ['a wrong channel count', ['infer', '--model', join(net, 'model.onnx'), '--input', fourChannels], /has 4 channels; the model expects 3/],
    ['an unknown layer', ['explain', '--model', join(net, 'model.onnx'), '--input', join(net, 'x0.npy'), '--layer', 'nope'], /unknown layer "nope"; candidates: /],
    ['a class out of range', ['explain', '--model', join(net, 'model.onnx'), '--input', join(net, 'x0.npy'), '--class', '999'], /class 999 is out of range/],
    ['an image that will not decode', ['explain', '--model', join(net, 'model.onnx'), '--image', join(FIXTURES, 'bad', 'not-onnx.onnx')], /not a PNG, JPEG, WebP, GIF, BMP or TIFF/],
    ['a bad --png16', ['infer', '--model', join(net, 'model.onnx'), '--image', join(FIXTURES, 'images', 'rgb.png'), '--png16', 'round'], /--png16 takes scale or clip, not "round"/],
    ['a bad --background', ['infer', '--model', join(net, 'model.onnx'), '--image', join(FIXTURES, 'images', 'rgb.png'), '--background', '1,2'], /--background takes three integers 0-255/],
    ['--profile-device without --profile', ['explain', '--model', join(net, 'model.onnx'), '--input', join(net, 'x0.npy'), '--profile-device', 'h200'], /--profile-device goes with --profile FILE/],
    ['an unknown GPU', ['explain', '--model', join(net, 'model.onnx'), '--input', join(net, 'x0.npy'), '--profile', '/tmp/p.json', '--profile-device', 'gtx'], /--profile-device: unknown GPU "gtx"; choose from h200, a100, rtx4090, m2/],
    ['a missing file', ['explain', '--model', join(net, 'model.onnx'), '--image', '/nonexistent.png'], /no such file/],
    ['a negative class', ['explain', '--model', join(net, 'model.onnx'), '--input', join(net, 'x0.npy'), '--class', '-1'], /class -1 is out of range/],
    ['a bad batch size', ['explain', '--model', join(net, 'model.onnx'), '--input', join(net, 'x0.npy'), '--method', 'scorecam', '--batch', '0'], /--batch takes a positive integer, got "0"/],
    ['a noise level without --smooth', ['explain', '--model', join(net, 'model.onnx'), '--input', join(net, 'x0.npy'), '--noise', '0.2'], /--noise and --seed go with --smooth N/],
    ['SmoothGrad of a method without gradients', ['explain', '--model', join(net, 'model.onnx'), '--input', join(net, 'x0.npy'), '--method', 'eigencam', '--smooth', '4'], /eigencam uses none/],
    ['an unknown method', ['explain', '--model', join(net, 'model.onnx'), '--input', join(net, 'x0.npy'), '--method', 'magic'], /--method must be one of/],
    ['an unknown metric', ['evaluate', '--model', join(net, 'model.onnx'), '--input', join(net, 'x0.npy'), '--metric', 'deletion,fidelity'], /--metric: unknown "fidelity"; choose from deletion, insertion/],
    ['an unknown baseline', ['evaluate', '--model', join(net, 'model.onnx'), '--input', join(net, 'x0.npy'), '--deletion-baseline', 'grey'], /--deletion-baseline must be one of zeros, mean, blur, got "grey"/],
    ['pointing without boxes', ['evaluate', '--model', join(net, 'model.onnx'), '--input', join(net, 'x0.npy'), '--metric', 'pointing'], /pointing needs ground-truth boxes \(--boxes FILE\)/],
    ['a boxes file without the image', ['evaluate', '--model', join(net, 'model.onnx'), '--input', join(net, 'x0.npy'), '--boxes', join(FIXTURES, 'metrics', 'float32.json')], /no box for image "x0-0"/],
    ['a missing boxes file', ['evaluate', '--model', join(net, 'model.onnx'), '--input', join(net, 'x0.npy'), '--boxes', '/nonexistent.json'], /--boxes \/nonexistent.json: no such file/],
    ['a negative ROAD noise', ['evaluate', '--model', join(net, 'model.onnx'), '--input', join(net, 'x0.npy'), '--metric', 'road', '--road-noise', '-1'], /ROAD's noise must be a number >= 0, got -1/],
    ['--concepts without dff', ['explain', '--model', join(net, 'model.onnx'), '--input', join(net, 'x0.npy'), '--concepts', '3'], /--concepts goes with --method dff/],
    ['a head CAM cannot use', ['explain', '--model', join(FIXTURES, 'nets', 'alexnet_like_opset13', 'model.onnx'), '--input', join(net, 'x0.npy'), '--method', 'cam'], /cam needs/],
  ];
  for (const [what, argv, message] of bad) {
    it(`answers ${what} with one line and exit status 1`, async () => {
      const r = await run(...argv);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(message);
      expect(r.stderr.split('\n')).toHaveLength(1);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    });
  }

  const usage: [string, string[], RegExp][] = [
    ['an unknown flag', ['explain', '--model', join(net, 'model.onnx'), '--bogus'], /bogus/],
    ['a missing --model', ['explain', '--input', join(net, 'x0.npy')], /--model is required/],
    ['an unknown command', ['explian'], /unknown command "explian"/],
  ];
  for (const [what, argv, message] of usage) {
    it(`answers ${what} with exit status 2 (usage)`, async () => {
      const r = await run(...argv);
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    });
  }

  it('prints its version, and every command its help', async () => {
    const { version } = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'package.json'), 'utf8')) as { version: string };
    expect((await run('--version')).stdout).toBe(`gradcam-webgpu ${version}`);
    for (const command of ['info', 'infer', 'explain', 'evaluate', 'verify', 'layers', 'demo']) {
      const r = await run(command, '--help');
      expect(r.status, command).toBe(0);
      expect(r.stdout, command).toMatch(new RegExp(`gradcam ${command}`));
    }
    expect((await run('--help')).stdout).toMatch(/exit status: 0 done, 1 bad input/);
  });
});
