// `gradcam explain --images DIR --out DIR`: every PNG/JPEG under DIR (recursively), explained in batches.
// The next batch is decoded while the GPU works on the current one; each image gets its overlay and
// heatmap (and, with --save-npy, its raw map) under the output folder at the same relative path, and
// one line in OUT/manifest.jsonl. --resume skips the images the manifest already has, so an
// interrupted run loses nothing; a file that will not decode is reported and the rest go on.
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, extname, join, relative } from 'node:path';
import { UserError } from '../errors.js';
import type { ExplainLayersOptions, Explanation, Explainer } from '../explain/explainer.js';
import { readImage } from '../io/decode.js';
import { IMAGE_EXTENSIONS, preprocess, resizeAndCrop, type PreprocessOptions, type RgbImage } from '../io/image.js';
import { writeNpy } from '../io/npy.js';
import { Progress } from '../io/progress.js';
import type { ModelInput } from './inputs.js';
import { inShard, type Shard, shardManifest } from './shards.js';

export const MANIFEST = 'manifest.jsonl';
export const DEFAULT_FOLDER_BATCH = 8;

export interface FolderOptions {
  dir: string;
  out: string;
  batch: number;
  resume: boolean;
  saveNpy: boolean;
  preprocess: PreprocessOptions;
  labels?: string[];
  explain: ExplainLayersOptions;
  /** Writes one image's files for one explanation (the CLI's writer); returns their paths. */
  writeImages: (dir: string, input: ModelInput, result: Explanation, tag: string) => string[][];
  fileTag: (layer: string) => string;
  /** Stops the run after the batch in hand: its images are written and in the manifest, so --resume goes on from there. */
  signal?: AbortSignal;
  /** Only the images of this shard (src/cli/shards.ts), with a manifest of its own. */
  shard?: Shard;
}

/** Every PNG/JPEG under `dir`, as paths relative to it, sorted. */
export function imagesUnder(dir: string): string[] {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UserError(`--images ${dir}: not a folder`);
  const found: string[] = [];
  const walk = (at: string) => {
    for (const entry of readdirSync(at, { withFileTypes: true })) {
      const path = join(at, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile() && IMAGE_EXTENSIONS.has(extname(entry.name).toLowerCase())) found.push(relative(dir, path));
    }
  };
  walk(dir);
  return found.sort();
}

/**
 * The files a manifest already has (explained, or reported as undecodable), and the manifest rewritten
 * with its whole lines only: a line cut short by an interruption is dropped, and its image explained again.
 */
function resumeManifest(path: string): Set<string> {
  if (!existsSync(path)) return new Set();
  const done = new Set<string>();
  const kept: string[] = [];
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    try {
      done.add((JSON.parse(line) as { file: string }).file);
      kept.push(`${line}\n`);
    } catch {
      // empty, or cut short
    }
  }
  writeFileSync(path, kept.join(''));
  return done;
}

export interface Decoded {
  ok: { file: string; tensor: Float32Array; image: RgbImage }[];
  failed: { file: string; error: string }[];
}

/** What explaining one batch needs: where its files go and how they are made. */
export type BatchOptions = Pick<FolderOptions, 'out' | 'saveNpy' | 'labels' | 'explain' | 'writeImages' | 'fileTag'>;

/**
 * Starts the GPU work of one decoded batch at once; `finish` waits for it, writes each image's files
 * under `o.out` and returns the batch's manifest lines (an undecodable file's line holds its error,
 * also printed on stderr).
 */
export function startBatch(explainer: Explainer, o: BatchOptions, current: Decoded): { finish(): Promise<string[]> } {
  const start = performance.now();
  let pending: Promise<Explanation[]> | undefined;
  let input: ModelInput | undefined;
  if (current.ok.length) {
    const [{ image }] = current.ok;
    const per = current.ok[0].tensor.length;
    const data = new Float32Array(current.ok.length * per);
    current.ok.forEach((d, i) => data.set(d.tensor, i * per));
    input = {
      tensor: { shape: [current.ok.length, 3, image.height, image.width], data },
      names: current.ok.map((d) => d.file.slice(0, d.file.length - extname(d.file).length)),
      images: current.ok.map((d) => d.image),
    };
    pending = explainer.explainLayers(input.tensor, o.explain);
  }
  const finish = async () => {
    const lines: string[] = [];
    for (const f of current.failed) {
      console.error(`gradcam: ${f.error}`);
      lines.push(JSON.stringify({ file: f.file, error: f.error }));
    }
    if (!pending || !input) return lines;
    const results = await pending;
    const msPerImage = (performance.now() - start) / input.names.length;
    for (const name of input.names) mkdirSync(dirname(join(o.out, name)), { recursive: true });
    const perLayer = new Set(results.map((r) => r.layer.tensor)).size > 1;
    const written = results.map((result) => {
      const tag = perLayer ? `.${o.fileTag(result.layer.tensor)}` : '';
      const images = o.writeImages(o.out, input!, result, tag);
      if (o.saveNpy) {
        const per = result.map.data.length / input!.names.length;
        input!.names.forEach((name, n) => {
          const path = join(o.out, `${name}${tag}.npy`);
          writeNpy(path, result.map.shape.slice(1), result.map.data.subarray(n * per, (n + 1) * per));
          images[n].push(path);
        });
      }
      return { result, images };
    });
    current.ok.forEach((d, n) => {
      const first = written[0].result;
      lines.push(
        JSON.stringify({
          file: d.file,
          class: first.classes[n],
          label: o.labels?.[first.classes[n]] ?? null,
          score: first.scores[n],
          method: first.method,
          layers: written.map(({ result, images }) => ({
            layer: result.layer.tensor,
            files: images[n].map((p) => relative(o.out, p)),
            stable: result.stability.stable[n],
            smallest_margin: result.stability.smallestMargin[n],
            class_margin: result.stability.classMargin[n],
          })),
          ms: Number(msPerImage.toFixed(2)),
        }),
      );
    });
    return lines;
  };
  return { finish };
}

export function decode(dir: string, files: string[], options: PreprocessOptions): Decoded {
  const decoded: Decoded = { ok: [], failed: [] };
  for (const file of files) {
    try {
      const image = readImage(join(dir, file), options.decode);
      decoded.ok.push({ file, tensor: preprocess(image, options), image: resizeAndCrop(image, options) });
    } catch (e) {
      decoded.failed.push({ file, error: (e as Error).message.replace(join(dir, file), file) });
    }
  }
  return decoded;
}

export interface FolderResult {
  explained: number;
  failed: number;
  skipped: number;
  stopped: boolean;
  manifest: string;
}

/**
 * The work of a folder run: its files (this shard's), its manifest (emptied, or with --resume kept and
 * its files skipped) and the batches left to do.
 */
export function planFolder(o: Pick<FolderOptions, 'dir' | 'out' | 'batch' | 'resume' | 'shard'>): { files: string[]; todo: string[]; batches: string[][]; manifest: string } {
  const all = imagesUnder(o.dir);
  if (all.length === 0) throw new UserError(`no PNG or JPEG images under ${o.dir}`);
  const files = o.shard ? all.filter((f) => inShard(f, o.shard!)) : all;
  mkdirSync(o.out, { recursive: true });
  const manifest = join(o.out, shardManifest(o.shard, MANIFEST));
  const done = o.resume ? resumeManifest(manifest) : new Set<string>();
  if (!o.resume) writeFileSync(manifest, '');
  const todo = files.filter((f) => !done.has(f));
  const batches: string[][] = [];
  for (let i = 0; i < todo.length; i += o.batch) batches.push(todo.slice(i, i + o.batch));
  return { files, todo, batches, manifest };
}

export async function explainFolder(explainer: Explainer, o: FolderOptions): Promise<FolderResult> {
  const { files, todo, batches, manifest } = planFolder(o);
  const progress = new Progress(todo.length, { rateUnit: 'images', enabled: todo.length > 0 });
  let explained = 0;
  let failed = 0;
  let next = batches.length ? decode(o.dir, batches[0], o.preprocess) : undefined;
  let stopped = false;
  for (let b = 0; b < batches.length; b++) {
    if (o.signal?.aborted) {
      stopped = true;
      break;
    }
    const current = next!;
    const batch = startBatch(explainer, o, current);
    // Decoding the next batch overlaps the GPU's work on this one (none is decoded once a stop is asked).
    next = b + 1 < batches.length && !o.signal?.aborted ? decode(o.dir, batches[b + 1], o.preprocess) : undefined;
    if (current.failed.length) progress.stop();
    const lines = await batch.finish();
    explained += current.ok.length;
    failed += current.failed.length;
    appendFileSync(manifest, lines.map((l) => `${l}\n`).join(''));
    progress.update(explained + failed, batches[b].at(-1));
  }
  progress.stop();
  return { explained, failed, skipped: files.length - todo.length, stopped, manifest };
}
