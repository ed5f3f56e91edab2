// `gradcam merge`: the outputs of several folder runs (the shards of a job array, or runs on several
// machines) joined into one folder with one manifest, and what is missing or was done twice named.
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { UsageError, UserError } from '../errors.js';
import { parse, required } from './args.js';
import { imagesUnder, MANIFEST } from './folder.js';
import { SHARD_MANIFEST } from './shards.js';

/** A queue job's manifest (src/cli/queue.ts). */
const JOB_MANIFEST = /^manifest\.job-[^/]+\.jsonl$/;

export const MERGE_HELP = `gradcam merge DIR... --out DIR [--images DIR] [--json]
  Joins the outputs of folder runs (explain --images ... --out DIR, with or without --shard K/N):
  every manifest in each DIR (${MANIFEST}, manifest.shard-K-of-N.jsonl, a queue's
  manifest.job-ID.jsonl) becomes one
  OUT/${MANIFEST}, sorted by file, and the files its lines name are copied into OUT (a DIR that is OUT
  itself is joined in place). It reports the shards of a job array that left no manifest, the images
  that more than one run explained (the first line is kept), and with --images the images of the
  folder that no run reached; any of these makes the exit status 1.
  --out DIR            the merged folder
  --images DIR         the folder the runs explained: name each image no manifest has
  --json               the report as JSON on stdout

examples:
  gradcam merge shards/*/ --out maps/ --images val/
  gradcam merge maps/ --out maps/            (shards that shared one output folder)`;

interface Entry {
  file: string;
  layers?: { files?: string[] }[];
}

export interface MergeReport {
  manifests: number;
  entries: number;
  shards: { count: number; missing: number[] } | null;
  duplicates: string[];
  missingImages: string[] | null;
  manifest: string;
}

export async function merge(argv: string[]): Promise<void> {
  const { values, positionals } = parse(argv, { out: { type: 'string' }, images: { type: 'string' }, json: { type: 'boolean' } }, true);
  const out = required(values.out as string | undefined, '--out');
  if (positionals.length === 0) throw new UsageError('name the folders to merge: gradcam merge DIR... --out DIR');
  const report = mergeFolders(positionals, out, values.images as string | undefined);
  if (values.json) console.log(JSON.stringify(report));
  else console.log(describe(report));
  if ((report.shards?.missing.length ?? 0) > 0 || report.duplicates.length > 0 || (report.missingImages?.length ?? 0) > 0) process.exitCode = 1;
}

export function mergeFolders(dirs: string[], out: string, imagesDir?: string): MergeReport {
  const found: { dir: string; path: string; shard?: { index: number; count: number } }[] = [];
  for (const dir of dirs) {
    if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UserError(`${dir}: not a folder`);
    const names = readdirSync(dir).sort();
    const parts = names.filter((name) => SHARD_MANIFEST.test(name) || JOB_MANIFEST.test(name));
    // Merged in place before: its manifest.jsonl is that merge's output, not a run's.
    const merged = resolve(dir) === resolve(out) && parts.length > 0;
    for (const name of [...(names.includes(MANIFEST) && !merged ? [MANIFEST] : []), ...parts]) {
      const m = SHARD_MANIFEST.exec(name);
      found.push({ dir, path: join(dir, name), shard: m ? { index: Number(m[1]), count: Number(m[2]) } : undefined });
    }
  }
  if (found.length === 0) throw new UserError(`no ${MANIFEST} or manifest.shard-K-of-N.jsonl in ${dirs.join(', ')}`);
  const counts = new Set(found.flatMap((f) => (f.shard ? [f.shard.count] : [])));
  if (counts.size > 1) throw new UserError(`the manifests come from job arrays of different sizes (${[...counts].join(', ')} shards); merge each array on its own`);

  const kept = new Map<string, { entry: Entry; line: string; dir: string }>();
  const duplicates = new Set<string>();
  for (const f of found) {
    for (const line of readFileSync(f.path, 'utf8').split('\n')) {
      let entry: Entry;
      try {
        entry = JSON.parse(line) as Entry;
      } catch {
        continue; // empty, or cut short by an interruption: that image was not finished
      }
      if (typeof entry.file !== 'string') continue;
      if (kept.has(entry.file)) duplicates.add(entry.file);
      else kept.set(entry.file, { entry, line, dir: f.dir });
    }
  }

  mkdirSync(out, { recursive: true });
  for (const { entry, dir } of kept.values()) {
    if (resolve(dir) === resolve(out)) continue;
    for (const file of (entry.layers ?? []).flatMap((l) => l.files ?? [])) {
      const from = join(dir, file);
      if (!existsSync(from)) throw new UserError(`${from}: named by a manifest in ${dir} but not there`);
      mkdirSync(dirname(join(out, file)), { recursive: true });
      copyFileSync(from, join(out, file));
    }
  }
  const manifest = join(out, MANIFEST);
  const sorted = [...kept.keys()].sort();
  writeFileSync(manifest, sorted.map((file) => `${kept.get(file)!.line}\n`).join(''));

  const count = [...counts][0];
  const present = new Set(found.flatMap((f) => (f.shard ? [f.shard.index] : [])));
  return {
    manifests: found.length,
    entries: kept.size,
    shards: count === undefined ? null : { count, missing: Array.from({ length: count }, (_, k) => k).filter((k) => !present.has(k)) },
    duplicates: [...duplicates].sort(),
    missingImages: imagesDir === undefined ? null : imagesUnder(imagesDir).filter((f) => !kept.has(f)),
    manifest,
  };
}

function describe(r: MergeReport): string {
  const lines = [`${r.entries} images from ${r.manifests} manifest${r.manifests === 1 ? '' : 's'}; manifest: ${r.manifest}`];
  if (r.shards) lines.push(r.shards.missing.length ? `missing shards of ${r.shards.count}: ${r.shards.missing.join(', ')}` : `all ${r.shards.count} shards present`);
  if (r.duplicates.length) lines.push(`explained more than once (first line kept): ${r.duplicates.join(', ')}`);
  if (r.missingImages) lines.push(r.missingImages.length ? `in the folder but in no manifest: ${r.missingImages.join(', ')}` : 'every image of the folder is in the manifest');
  return lines.join('\n');
}
