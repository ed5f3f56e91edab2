// Splitting a folder: shards for job arrays (shard K of N by a hash of each relative path covers the
// folder once, adding files moves none of the others, and `gradcam merge` joins the shards' outputs,
// naming a missing shard, the images no run reached and the ones explained twice), and worker
// processes on the adapters of one machine (--adapters), two of them on the same adapter here.
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { inShard, parseShard } from '../src/cli/shards.js';
import { readNpy } from '../src/io/npy.js';
import { run } from './support/cli.js';
import { FIXTURES } from './support/fixtures.js';
import { PACKAGE_ROOT } from '../src/platform/index.js';

describe('shards', () => {
  const paths = Array.from({ length: 2000 }, (_, i) => `class${i % 37}/image_${i}.jpg`);

  it('N shards cover every path exactly once, about evenly, and new files move no old one', () => {
    for (const count of [1, 2, 7, 16]) {
      const owners = paths.map((p) => Array.from({ length: count }, (_, k) => k).filter((k) => inShard(p, { index: k, count })));
      expect(owners.every((o) => o.length === 1)).toBe(true);
      const sizes = Array.from({ length: count }, (_, k) => owners.filter((o) => o[0] === k).length);
      // A hash spreads 2,000 paths within a few standard deviations (sqrt(2000 / N)) of 2000 / N.
      for (const size of sizes) expect(Math.abs(size - paths.length / count)).toBeLessThan(5 * Math.sqrt(paths.length / count) + 1);
    }
    const before = paths.map((p) => inShard(p, { index: 3, count: 7 }));
    const more = [...paths, ...Array.from({ length: 500 }, (_, i) => `new/${i}.png`)];
    expect(more.slice(0, paths.length).map((p) => inShard(p, { index: 3, count: 7 }))).toEqual(before);
  });

  it('parses K/N and refuses anything else in one line', () => {
    expect(parseShard('3/16')).toEqual({ index: 3, count: 16 });
    for (const bad of ['16/16', '1/0', '-1/4', '2', 'a/b', '1/2/3']) expect(() => parseShard(bad)).toThrow(/^--shard takes K\/N with 0 <= K < N/);
  });

  it('explain --images --shard K/N, then merge: a missing shard and the images it held are named, and the whole set merges once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gradcam-shards-'));
    const images = join(dir, 'in');
    mkdirSync(join(images, 'sub'), { recursive: true });
    const names = Array.from({ length: 12 }, (_, i) => (i % 3 === 0 ? `sub/${i}.png` : `${i}.${i % 2 ? 'png' : 'jpg'}`));
    for (const name of names) copyFileSync(join(FIXTURES, 'images', name.endsWith('.png') ? 'rgb.png' : 'photo.jpg'), join(images, name));
    const args = ['explain', '--model', join(FIXTURES, 'nets', 'resnet_like_opset13', 'model.onnx'), '--resize', '40', '--crop', '32,40', '--images', images, '--batch', '2', '--save-npy'];
    const shardOut = (k: number) => join(dir, `shard${k}`);
    for (const k of [0, 1]) expect((await run(...args, '--out', shardOut(k), '--shard', `${k}/3`)).status).toBe(0);

    const partial = await run('merge', shardOut(0), shardOut(1), '--out', join(dir, 'merged'), '--images', images, '--json');
    expect(partial.status).toBe(1);
    const report = JSON.parse(partial.stdout);
    expect(report.shards).toEqual({ count: 3, missing: [2] });
    expect(report.missingImages).toEqual(names.filter((n) => inShard(n, { index: 2, count: 3 })).sort());
    expect(report.missingImages.length).toBeGreaterThan(0);

    expect((await run(...args, '--out', shardOut(2), '--shard', '2/3')).status).toBe(0);
    const whole = await run('merge', shardOut(0), shardOut(1), shardOut(2), '--out', join(dir, 'merged'), '--images', images);
    expect(whole.status).toBe(0);
    expect(whole.stdout).toContain('all 3 shards present');
    const merged = readFileSync(join(dir, 'merged', 'manifest.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { file: string; layers: { files: string[] }[] });
    expect(merged.map((e) => e.file)).toEqual([...names].sort());
    for (const e of merged) for (const f of e.layers[0].files) expect(existsSync(join(dir, 'merged', f))).toBe(true);

    // The same maps as one run over the whole folder.
    expect((await run(...args, '--out', join(dir, 'single'))).status).toBe(0);
    for (const name of names) {
      const stem = name.replace(/\.(png|jpg)$/, '');
      expect(Array.from(readNpy(join(dir, 'merged', `${stem}.npy`)).data as Float32Array)).toEqual(Array.from(readNpy(join(dir, 'single', `${stem}.npy`)).data as Float32Array));
    }

    const twice = await run('merge', shardOut(0), shardOut(0), '--out', join(dir, 'twice'));
    expect(twice.status).toBe(1);
    expect(twice.stdout).toMatch(/explained more than once \(first line kept\): /);
  });
});

describe.skipIf(!existsSync(join(PACKAGE_ROOT, 'dist', 'src', 'cli', 'main.js')))('worker processes per adapter', () => {
  it('explain --images --adapters 0,0: two workers share the folder batch by batch into one manifest, with the maps of one process', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gradcam-adapters-'));
    const images = join(dir, 'in');
    mkdirSync(images);
    const names = Array.from({ length: 14 }, (_, i) => `${String(i).padStart(2, '0')}.${i % 3 ? 'png' : 'jpg'}`);
    for (const name of names) copyFileSync(join(FIXTURES, 'images', name.endsWith('.png') ? 'rgb.png' : 'photo.jpg'), join(images, name));
    const args = ['explain', '--model', join(FIXTURES, 'nets', 'resnet_like_opset13', 'model.onnx'), '--resize', '40', '--crop', '32,40', '--images', images, '--batch', '2', '--save-npy'];
    const pooled = await run(...args, '--out', join(dir, 'pooled'), '--adapters', '0,0', '--json');
    expect(pooled.status).toBe(0);
    const report = JSON.parse(pooled.stdout) as { explained: number; perAdapter: number[] };
    expect(report.explained).toBe(names.length);
    // Both workers start with a batch (the first ones go out once both have loaded the model).
    expect(report.perAdapter).toHaveLength(2);
    for (const n of report.perAdapter) expect(n).toBeGreaterThan(0);
    expect(report.perAdapter[0] + report.perAdapter[1]).toBe(names.length);
    const manifest = readFileSync(join(dir, 'pooled', 'manifest.jsonl'), 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { file: string }).file);
    expect([...manifest].sort()).toEqual(names);
    expect((await run(...args, '--out', join(dir, 'single'))).status).toBe(0);
    for (const name of names) {
      const stem = name.replace(/\.(png|jpg)$/, '');
      expect(Array.from(readNpy(join(dir, 'pooled', `${stem}.npy`)).data as Float32Array)).toEqual(Array.from(readNpy(join(dir, 'single', `${stem}.npy`)).data as Float32Array));
    }
    const refused = await run(...args, '--out', join(dir, 'x'), '--adapters', '0,,1');
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/--adapters takes all or names\/indices separated by commas/);
  });
});
