// A job queue for elastic fleets, on BullMQ and Redis: `gradcam queue add` puts one job per batch of a
// folder's images (the explanation's options travel with each job), `gradcam worker` runs jobs on this
// machine's adapter until stopped, `gradcam queue status` counts them. Workers share the output folder
// (a shared file system). Each job writes its images' files and then its manifest lines as one file
// (manifest.job-<id>.jsonl, written whole through a rename), so a job done twice (a retry, a worker
// killed after writing) leaves the same files and one line per image; `gradcam merge` joins the lines.
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join, resolve } from 'node:path';
import { type Job, Queue, Worker } from 'bullmq';
import { UsageError, UserError } from '../errors.js';
import { Explainer, type Method, METHODS } from '../explain/explainer.js';
import type { PreprocessOptions } from '../io/image.js';
import { Model } from '../runtime/model.js';
import { intList, parse, positiveInt, required } from './args.js';
import { decode, imagesUnder, startBatch } from './folder.js';
import { fileSafe, writeImages } from './pictures.js';
import { imageOptions, INPUT_OPTIONS, type InputValues } from './inputs.js';
import { openGpu } from './session.js';
import { fnv1a } from './shards.js';
import { stopOnSignals } from './signals.js';

export const QUEUE_HELP = `gradcam queue add --redis URL --model M.onnx --images DIR --out DIR [--batch N] [--method M]
                  [--layer NAME[,NAME...]] [--class C] [--save-npy] [--resize N --crop H,W ...]
gradcam queue status --redis URL [--json]
  add: one job per --batch (default 8) of the images under DIR, with the options given; the same
  folder added again adds nothing twice (a job's id is its files). Jobs that fail are retried 3 times
  with exponential back-off, then kept as failed with their error.
  status: waiting, active, completed and failed jobs, and the images/s of the completed ones.
  --redis URL          redis://host:port (the workers' and this command's Redis)
  --queue NAME         the queue's name (default gradcam)

examples:
  gradcam queue add --redis redis://127.0.0.1:6379 --model /shared/resnet50.onnx --images /shared/val --out /shared/maps
  gradcam queue status --redis redis://127.0.0.1:6379 --json`;

export const WORKER_HELP = `gradcam worker --redis URL [--concurrency 1] [--queue NAME] [--lock-ms MS] [--adapter NAME|INDEX]
  Runs the queue's jobs on this machine's adapter until stopped: SIGINT or SIGTERM finishes the jobs
  in hand, then exits. A worker that dies (SIGKILL, a lost machine) has its job picked up again by
  another once its lock runs out (--lock-ms, default 30000). Models, images and the output folder are
  read and written at the paths the job names: a file system the workers share.

examples:
  gradcam worker --redis redis://10.0.0.5:6379
  gradcam worker --redis redis://127.0.0.1:6379 --adapter 1 --concurrency 2`;

const DEFAULT_QUEUE = 'gradcam';
const DEFAULT_BATCH = 8;
const ATTEMPTS = 3;

/** What one job asks: explain these files of that folder with that model, into that folder. */
export interface ExplainJob {
  model: string;
  dir: string;
  out: string;
  files: string[];
  method: Method;
  layers?: string[];
  classes?: number[];
  saveNpy: boolean;
  preprocess: PreprocessOptions;
}

/**
 * Redis's address, checked by connecting once (3 s at most): the queue's client retries for ever, which
 * would make a wrong address a hang rather than an error.
 */
async function connection(url: string | undefined) {
  const options = redisOptions(url);
  await new Promise<void>((resolve, reject) => {
    const socket = connect({ host: options.host, port: options.port, timeout: 3000 });
    socket.on('connect', () => (socket.destroy(), resolve()));
    socket.on('timeout', () => (socket.destroy(), reject(new UserError(`cannot reach Redis at ${url}: no answer in 3 s`))));
    socket.on('error', (e) => reject(new UserError(`cannot reach Redis at ${url}: ${e.message}`)));
  });
  return options;
}

function redisOptions(url: string | undefined) {
  const given = required(url, '--redis');
  let parsed: URL;
  try {
    parsed = new URL(given);
  } catch {
    throw new UsageError(`--redis takes a URL such as redis://127.0.0.1:6379, got "${given}"`);
  }
  if (parsed.protocol !== 'redis:') throw new UsageError(`--redis takes a redis:// URL, got "${given}"`);
  // BullMQ's workers block on Redis; null retries is what it asks of their connection.
  return { host: parsed.hostname, port: Number(parsed.port || 6379), maxRetriesPerRequest: null };
}

export async function queue(argv: string[]): Promise<void> {
  const [action, ...rest] = argv;
  if (action === 'add') return add(rest);
  if (action === 'status') return status(rest);
  throw new UsageError(`gradcam queue takes add or status, got ${action === undefined ? 'nothing' : `"${action}"`}`);
}

async function add(argv: string[]): Promise<void> {
  const { values } = parse(argv, {
    redis: { type: 'string' }, queue: { type: 'string' }, model: { type: 'string' }, images: { type: 'string' }, out: { type: 'string' },
    batch: { type: 'string' }, method: { type: 'string' }, layer: { type: 'string' }, class: { type: 'string' }, 'save-npy': { type: 'boolean' },
    ...INPUT_OPTIONS,
  });
  const model = resolve(required(values.model as string | undefined, '--model'));
  const dir = resolve(required(values.images as string | undefined, '--images'));
  const out = resolve(required(values.out as string | undefined, '--out'));
  if (!existsSync(model)) throw new UserError(`--model ${model}: no such file`);
  const method = (values.method ?? 'gradcam') as Method;
  if (!METHODS.includes(method)) throw new UserError(`--method must be one of ${METHODS.join(', ')}, got "${method}"`);
  const classes = intList(values.class as string | undefined, '--class');
  if (classes && classes.length > 1) throw new UserError('with a queue, --class takes one class for every image');
  const batch = positiveInt(values.batch as string | undefined, '--batch') ?? DEFAULT_BATCH;
  const layers = (values.layer as string | undefined)?.split(',');
  const files = imagesUnder(dir);
  if (files.length === 0) throw new UserError(`no PNG or JPEG images under ${dir}`);
  const preprocess = imageOptions(values as InputValues);
  const jobs: { name: string; data: ExplainJob; opts: { jobId: string; attempts: number; backoff: { type: 'exponential'; delay: number } } }[] = [];
  for (let i = 0; i < files.length; i += batch) {
    const chunk = files.slice(i, i + batch);
    const data: ExplainJob = { model, dir, out, files: chunk, method, layers, classes, saveNpy: Boolean(values['save-npy']), preprocess };
    jobs.push({ name: 'explain', data, opts: { jobId: jobId(data), attempts: ATTEMPTS, backoff: { type: 'exponential', delay: 1000 } } });
  }
  const q = new Queue(values.queue as string | undefined ?? DEFAULT_QUEUE, { connection: await connection(values.redis as string | undefined) });
  try {
    await q.addBulk(jobs);
    console.log(`${jobs.length} jobs of ${files.length} images added to queue "${q.name}"`);
  } finally {
    await q.close();
  }
}

/** A job's id: its files and options, so that adding the same folder again adds nothing twice. */
function jobId(data: ExplainJob): string {
  return `${fnv1a(JSON.stringify(data)).toString(16).padStart(8, '0')}-${data.files.length}`;
}

async function status(argv: string[]): Promise<void> {
  const { values } = parse(argv, { redis: { type: 'string' }, queue: { type: 'string' }, json: { type: 'boolean' } });
  const q = new Queue(values.queue as string | undefined ?? DEFAULT_QUEUE, { connection: await connection(values.redis as string | undefined) });
  try {
    const counts = await q.getJobCounts('waiting', 'delayed', 'prioritized', 'active', 'completed', 'failed');
    const done = await q.getJobs(['completed']);
    const images = done.reduce((n, j) => n + (j.data as ExplainJob).files.length, 0);
    const first = Math.min(...done.map((j) => j.processedOn ?? Infinity));
    const last = Math.max(...done.map((j) => j.finishedOn ?? 0));
    const report = {
      waiting: counts.waiting + counts.delayed + counts.prioritized,
      active: counts.active,
      completed: counts.completed,
      failed: counts.failed,
      images: images,
      imagesPerSecond: done.length && last > first ? Number(((1000 * images) / (last - first)).toFixed(2)) : null,
    };
    if (values.json) console.log(JSON.stringify(report));
    else console.log(`waiting ${report.waiting}, active ${report.active}, completed ${report.completed} (${images} images${report.imagesPerSecond ? `, ${report.imagesPerSecond} images/s` : ''}), failed ${report.failed}`);
  } finally {
    await q.close();
  }
}

export async function worker(argv: string[]): Promise<void> {
  const { values } = parse(argv, { redis: { type: 'string' }, queue: { type: 'string' }, concurrency: { type: 'string' }, 'lock-ms': { type: 'string' } });
  const options = { connection: await connection(values.redis as string | undefined) };
  const concurrency = positiveInt(values.concurrency as string | undefined, '--concurrency') ?? 1;
  const lockDuration = positiveInt(values['lock-ms'] as string | undefined, '--lock-ms') ?? 30_000;
  const gpu = await openGpu();
  const models = new Map<string, { model: Model; explainer: Explainer }>();
  const run = async (job: Job<ExplainJob>) => {
    const d = job.data;
    console.error(`gradcam: job ${job.id}: ${d.files.length} images (attempt ${job.attemptsMade + 1}), RSS ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB`);
    let loaded = models.get(d.model);
    if (!loaded) {
      const model = Model.fromFile(gpu, d.model);
      loaded = { model, explainer: new Explainer(model) };
      models.set(d.model, loaded);
    }
    mkdirSync(d.out, { recursive: true });
    const explain = { methods: [d.method], layers: d.layers, classes: d.classes };
    const lines = await startBatch(loaded.explainer, { out: d.out, saveNpy: d.saveNpy, explain, writeImages, fileTag: fileSafe }, decode(d.dir, d.files, d.preprocess)).finish();
    // Written whole, then renamed: a reader sees all of a job's lines or none, and a retry replaces them.
    const manifest = join(d.out, `manifest.job-${job.id}.jsonl`);
    writeFileSync(`${manifest}.tmp-${process.pid}`, lines.map((l) => `${l}\n`).join(''));
    renameSync(`${manifest}.tmp-${process.pid}`, manifest);
    return { images: d.files.length };
  };
  const w = new Worker<ExplainJob>(values.queue as string | undefined ?? DEFAULT_QUEUE, run, { ...options, concurrency, lockDuration, stalledInterval: lockDuration });
  w.on('failed', (job, error) => console.error(`gradcam: job ${job?.id} failed (attempt ${job?.attemptsMade} of ${ATTEMPTS}): ${error.message}`));
  console.error(`gradcam: worker on queue "${w.name}", adapter ${gpu.adapter.description || gpu.adapter.vendor}`);
  await new Promise<void>((resolveStop) => {
    const stop = stopOnSignals((name) => {
      console.error(`gradcam: ${name}: finishing the jobs in hand`);
      void w.close().then(() => {
        stop.release();
        process.exitCode = stop.status;
        resolveStop();
      });
    });
  });
  for (const { model, explainer } of models.values()) {
    explainer.dispose();
    model.dispose();
  }
  gpu.dispose();
}
