// `explain --images DIR --adapters all|LIST`: one worker process per adapter over one folder. The
// parent plans the run (the files, --resume, the manifest) and hands out batches one at a time: a
// worker gets the next batch when it reports the last one, so a slow adapter does not hold the others
// back. The workers are this CLI again (the launcher with its IPC channel), on their own adapter; they
// load the model once, explain what they are sent and return the manifest lines, which the parent alone
// writes. The first batches go out once every worker has its model loaded (so that a quick starter does
// not take the whole folder), and a worker that dies gives its batch back to the others.
import { type ChildProcess, fork } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../errors.js';
import type { Explainer } from '../explain/explainer.js';
import { Progress } from '../io/progress.js';
import { PACKAGE_ROOT } from '../io/paths.js';
import { listAdapters } from '../platform/index.js';
import { type BatchOptions, decode, type FolderOptions, type FolderResult, planFolder, startBatch } from './folder.js';

/** Set in a worker's environment: explain what the parent sends instead of a folder. */
export const BATCH_WORKER = 'GRADCAM_BATCH_WORKER';

type ToWorker = { files: string[] } | { done: true };
type FromWorker = { ready: true } | { lines: string[] };

/** 'all', or names/indices separated by commas (an adapter named twice runs two workers there). */
export async function adapterList(value: string): Promise<string[]> {
  if (value === 'all') {
    const found = await listAdapters();
    if (found.length === 0) throw new UserError('--adapters all: Dawn sees no adapter');
    return found.map((_, i) => String(i));
  }
  const list = value.split(',').map((a) => a.trim());
  if (list.some((a) => a === '')) throw new UserError(`--adapters takes all or names/indices separated by commas, got "${value}"`);
  return list;
}

/**
 * The parent's side. `argv`: the explain command's arguments (after 'explain') without --adapters, which each worker
 * runs with its --adapter.
 */
export async function explainFolderOnAdapters(o: Pick<FolderOptions, 'dir' | 'out' | 'batch' | 'resume' | 'shard' | 'signal'>, argv: string[], adapters: string[]): Promise<FolderResult & { perAdapter: number[] }> {
  const { files, todo, batches, manifest } = planFolder(o);
  const progress = new Progress(todo.length, { rateUnit: 'images', enabled: todo.length > 0 });
  const perAdapter = adapters.map(() => 0);
  let explained = 0;
  let failed = 0;
  const waiting = [...batches];
  const launcher = join(PACKAGE_ROOT, 'bin', 'gradcam.js');
  const workers: ChildProcess[] = [];
  await new Promise<void>((resolve, reject) => {
    let alive = adapters.length;
    const starters: (() => void)[] = [];
    const startWhenAllReady = () => {
      if (starters.length === alive) for (const start of starters.splice(0)) start();
    };
    const finishWhenIdle = () => {
      if (alive === 0) {
        progress.stop();
        if (waiting.length && !o.signal?.aborted) reject(new UserError('every worker stopped before the folder was done (see their errors above); --resume goes on from here'));
        else resolve();
      }
    };
    adapters.forEach((adapter, w) => {
      const child = fork(launcher, ['explain', ...argv, '--adapter', adapter], { env: { ...process.env, GRADCAM_CLI_CHILD: '1', [BATCH_WORKER]: '1' }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      workers.push(child);
      let inHand: string[] | undefined;
      const next = () => {
        if (!child.connected) return;
        inHand = o.signal?.aborted ? undefined : waiting.shift();
        child.send((inHand ? { files: inHand } : { done: true }) satisfies ToWorker);
      };
      let started = false;
      child.on('message', (m: FromWorker) => {
        if ('ready' in m) {
          starters.push(() => {
            started = true;
            next();
          });
          return startWhenAllReady();
        }
        if ('lines' in m) {
          appendFileSync(manifest, m.lines.map((l) => `${l}\n`).join(''));
          const errors = m.lines.filter((l) => (JSON.parse(l) as { error?: string }).error !== undefined).length;
          failed += errors;
          explained += m.lines.length - errors;
          perAdapter[w] += m.lines.length;
          progress.update(explained + failed, inHand!.at(-1));
        }
        next();
      });
      child.on('exit', () => {
        // A batch the worker held goes back to the others; its images were not written to the manifest.
        if (inHand) waiting.unshift(inHand);
        inHand = undefined;
        alive--;
        if (!started) startWhenAllReady();
        finishWhenIdle();
      });
    });
  });
  return { explained, failed, skipped: files.length - todo.length, stopped: Boolean(o.signal?.aborted) && waiting.length > 0, manifest, perAdapter };
}

/**
 * The worker's side: explains each batch the parent sends with `explainer` and answers with its
 * manifest lines, until told it is done (or the parent is gone). Signals are the parent's to handle.
 */
export async function serveBatches(explainer: Explainer, o: BatchOptions & Pick<FolderOptions, 'dir' | 'preprocess'>): Promise<void> {
  const ignore = () => {};
  for (const name of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(name, ignore);
  await new Promise<void>((resolve) => {
    process.on('disconnect', resolve);
    process.on('message', async (m: ToWorker) => {
      if ('done' in m) return resolve();
      const lines = await startBatch(explainer, o, decode(o.dir, m.files, o.preprocess)).finish();
      process.send!({ lines } satisfies FromWorker);
    });
    process.send!({ ready: true } satisfies FromWorker);
  });
  process.disconnect?.();
}
