// The job queue with the real parts: a Redis server of its own on a free port of 127.0.0.1, the
// launcher's `gradcam queue add`, `gradcam worker` and `gradcam queue status` as processes. Two workers
// run; one is killed with SIGKILL during its first job, and the other finishes everything, that job
// included once its lock has run out. Every image ends in the merged manifest exactly once with the
// maps of a single-process run, and the undecodable file as one entry with its error.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readNpy } from '../src/io/npy.js';
import { PACKAGE_ROOT } from '../src/platform/index.js';
import { FIXTURES } from './support/fixtures.js';
import { freePort, until } from './support/net.js';

const LAUNCHER = join(PACKAGE_ROOT, 'bin', 'gradcam.js');
const hasRedis = spawnSync('sh', ['-c', 'command -v redis-server']).status === 0;
const built = existsSync(join(PACKAGE_ROOT, 'dist', 'src', 'cli', 'main.js'));

function gradcam(...args: string[]) {
  const r = spawnSync(process.execPath, [LAUNCHER, ...args], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/**
 * A worker: through the launcher, or (`direct`) as the CLI process itself, which SIGKILL kills for
 * certain (a killed launcher would leave its CLI child running).
 */
function startWorker(redis: string, direct = false) {
  const env = direct ? { ...process.env, GRADCAM_CLI_CHILD: '1' } : process.env;
  const child = spawn(process.execPath, [LAUNCHER, 'worker', '--redis', redis, '--lock-ms', '2000'], { stdio: ['ignore', 'ignore', 'pipe'], env });
  let stderr = '';
  child.stderr!.on('data', (c) => (stderr += c));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { child, exited, stderr: () => stderr };
}

const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
});

describe.skipIf(!hasRedis || !built)('the job queue on BullMQ and Redis', () => {
  it('of two workers one is killed mid-job and the other finishes: every image once, the maps of one process', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gradcam-queue-'));
    const port = await freePort();
    const redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    children.push(redis);
    const url = `redis://127.0.0.1:${port}`;
    await until(() => gradcam('queue', 'status', '--redis', url, '--json').status === 0, 20_000, 'Redis to answer');

    const images = join(dir, 'in');
    mkdirSync(join(images, 'sub'), { recursive: true });
    const names = Array.from({ length: 24 }, (_, i) => (i % 4 === 0 ? `sub/${i}.jpg` : `${i}.png`));
    for (const name of names) copyFileSync(join(FIXTURES, 'images', name.endsWith('.png') ? 'rgb.png' : 'photo.jpg'), join(images, name));
    writeFileSync(join(images, 'broken.png'), 'not an image');
    // The demo model at 320x320: a job of two images takes long enough (about a second on lavapipe) to
    // be killed in the middle of.
    const model = join(PACKAGE_ROOT, 'weights', 'demo.onnx');
    const common = ['--model', model, '--resize', '320', '--crop', '320', '--save-npy'];
    const out = join(dir, 'out');
    const added = gradcam('queue', 'add', '--redis', url, ...common, '--images', images, '--out', out, '--batch', '2');
    expect(added.status).toBe(0);
    expect(added.stdout).toContain('13 jobs of 25 images added');
    // Adding the same folder again adds nothing twice.
    expect(gradcam('queue', 'add', '--redis', url, ...common, '--images', images, '--out', out, '--batch', '2').status).toBe(0);
    const status = () => JSON.parse(gradcam('queue', 'status', '--redis', url, '--json').stdout) as Record<string, number>;
    expect(status()).toMatchObject({ waiting: 13, active: 0, completed: 0, failed: 0 });

    const doomed = startWorker(url, true);
    const survivor = startWorker(url);
    children.push(doomed.child, survivor.child);
    await until(() => doomed.stderr().includes(': 2 images (attempt 1)'), 60_000, 'the first job to start');
    doomed.child.kill('SIGKILL');
    expect(await doomed.exited).toBe(null);
    const killedJob = /job (\S+): 2 images/.exec(doomed.stderr())![1];
    // The killed worker's job comes back once its lock (2 s) has run out.
    await until(() => status().completed === 13, 120_000, 'every job to complete');
    expect(status()).toMatchObject({ waiting: 0, active: 0, completed: 13, failed: 0, images: 25 });
    expect(survivor.stderr()).toContain(`job ${killedJob}: `);
    survivor.child.kill('SIGTERM');
    expect(await survivor.exited).toBe(143);

    const merged = gradcam('merge', out, '--out', out, '--images', images, '--json');
    expect(merged.status).toBe(0);
    expect(JSON.parse(merged.stdout)).toMatchObject({ entries: 25, duplicates: [], missingImages: [] });
    const manifest = readFileSync(join(out, 'manifest.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { file: string; error?: string });
    expect(manifest.map((e) => e.file)).toEqual([...names, 'broken.png'].sort());
    expect(manifest.filter((e) => e.error).map((e) => [e.file, e.error])).toEqual([['broken.png', 'broken.png: not a PNG, JPEG, WebP, GIF, BMP or TIFF image (unrecognised file signature)']]);

    const single = join(dir, 'single');
    expect(gradcam('explain', ...common, '--images', images, '--out', single, '--batch', '2').status).toBe(0);
    for (const name of names) {
      const stem = name.replace(/\.(png|jpg)$/, '');
      expect(Array.from(readNpy(join(out, `${stem}.npy`)).data as Float32Array)).toEqual(Array.from(readNpy(join(single, `${stem}.npy`)).data as Float32Array));
    }
    redis.kill('SIGTERM');
  });
});
