// The launcher (bin/gradcam.js, over the compiled CLI that npm install builds) as a process manager
// meets it: SIGTERM sent to `gradcam` reaches the CLI, which a server obeys at once and a folder run
// after the images in hand, with the manifest whole so that --resume finishes the rest.
import { type ChildProcess, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PACKAGE_ROOT } from '../src/platform/index.js';
import { freePort, until } from './support/net.js';

const LAUNCHER = join(PACKAGE_ROOT, 'bin', 'gradcam.js');
const DEMO = join(PACKAGE_ROOT, 'weights', 'demo.onnx');

function launch(...args: string[]) {
  const child = spawn(process.execPath, [LAUNCHER, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const output = { stdout: '', stderr: '' };
  child.stdout!.on('data', (c) => (output.stdout += c));
  child.stderr!.on('data', (c) => (output.stderr += c));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { child, output, exited };
}

const portOpen = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.on('connect', () => (socket.destroy(), resolve(true)));
    socket.on('error', () => resolve(false));
  });

const kill = (child: ChildProcess) => child.exitCode === null && child.kill('SIGKILL');

describe.skipIf(!existsSync(join(PACKAGE_ROOT, 'dist', 'src', 'cli', 'main.js')))('signals through the launcher', () => {
  it('SIGTERM to `gradcam serve` stops the server and frees its port; the status is 128 + 15', async () => {
    const { child, output, exited } = launch('serve', '--port', String(await freePort()));
    try {
      await until(() => /127\.0\.0\.1:\d+/.test(output.stdout), 60_000, 'the server to listen');
      const port = Number(/127\.0\.0\.1:(\d+)/.exec(output.stdout)![1]);
      expect(await portOpen(port)).toBe(true);
      child.kill('SIGTERM');
      expect(await exited).toBe(143);
      expect(await portOpen(port)).toBe(false);
    } finally {
      kill(child);
    }
  });

  it('SIGTERM to a folder run finishes the batch in hand, keeps the manifest whole, and --resume does the rest once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gradcam-signal-'));
    const images = join(dir, 'in');
    const out = join(dir, 'out');
    mkdirSync(images);
    const count = 40;
    for (let i = 0; i < count; i++) copyFileSync(join(PACKAGE_ROOT, 'test', 'fixtures', 'images', i % 2 ? 'rgb.png' : 'photo.jpg'), join(images, `${String(i).padStart(2, '0')}${i % 2 ? '.png' : '.jpg'}`));
    const args = ['explain', '--model', DEMO, '--resize', '128', '--crop', '128', '--images', images, '--out', out, '--batch', '2'];
    const manifest = () => (existsSync(join(out, 'manifest.jsonl')) ? readFileSync(join(out, 'manifest.jsonl'), 'utf8') : '');
    const first = launch(...args);
    try {
      await until(() => manifest().split('\n').length > 2, 120_000, 'the first batch');
      first.child.kill('SIGTERM');
      expect(await first.exited).toBe(143);
    } finally {
      kill(first.child);
    }
    expect(first.output.stderr).toContain('SIGTERM: stopping after the images in hand');
    expect(first.output.stderr).not.toContain('Warning: maxDynamic');
    const stopped = manifest();
    expect(stopped.endsWith('\n')).toBe(true);
    const done = stopped.trim().split('\n').map((l) => JSON.parse(l) as { file: string; class: number });
    expect(done.length % 2).toBe(0);
    expect(done.length).toBeLessThan(count);

    const rest = launch(...args, '--resume', '--json');
    expect(await rest.exited).toBe(0);
    expect(JSON.parse(rest.output.stdout)).toMatchObject({ explained: count - done.length, skipped: done.length, stopped: false });
    const files = manifest().trim().split('\n').map((l) => (JSON.parse(l) as { file: string }).file);
    expect(files).toHaveLength(count);
    expect(new Set(files).size).toBe(count);
  });
});
