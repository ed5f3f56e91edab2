// Shards of a folder for job arrays (Slurm arrays, Kubernetes Indexed Jobs, GNU parallel): shard K of N
// takes the images whose relative path hashes to K modulo N. A file's shard depends on its path alone,
// so adding files to the folder moves none of the others. Each shard writes its own manifest beside the
// images' outputs; `gradcam merge` joins them and names what is missing or done twice.
import { UsageError } from '../errors.js';

export interface Shard {
  index: number;
  count: number;
}

/** "K/N" with 0 <= K < N. */
export function parseShard(value: string): Shard {
  const m = /^(\d+)\/(\d+)$/.exec(value.trim());
  const [index, count] = m ? [Number(m[1]), Number(m[2])] : [NaN, NaN];
  if (!m || count < 1 || index >= count) throw new UsageError(`--shard takes K/N with 0 <= K < N (as JOB_COMPLETION_INDEX/COMPLETIONS), got "${value}"`);
  return { index, count };
}

/** FNV-1a, 32 bits, of the text's UTF-8 bytes: the same on every platform and in every process. */
export function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(text)) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

/** A relative path's hash, with '/' separators whatever the platform's. */
export function pathHash(path: string): number {
  return fnv1a(path.replaceAll('\\', '/'));
}

export function inShard(path: string, shard: Shard): boolean {
  return pathHash(path) % shard.count === shard.index;
}

/** The manifest of a shard: manifest.shard-K-of-N.jsonl, so that shards may share one output folder. */
export function shardManifest(shard: Shard | undefined, plain: string): string {
  return shard ? plain.replace(/\.jsonl$/, `.shard-${shard.index}-of-${shard.count}.jsonl`) : plain;
}

export const SHARD_MANIFEST = /^manifest\.shard-(\d+)-of-(\d+)\.jsonl$/;
