// The engine's folders form layers, and a folder imports only folders below it (README, Architecture):
// an upward import fails here with the file and the import named.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

/** Top to bottom. src/index.ts (the public API) sits above them all. */
const LAYERS = ['cli', 'evaluate', 'explain', 'runtime', 'plan', 'ops', 'onnx', 'kernels', 'graph', 'gpu', 'io', 'platform', 'errors'];
const SRC = join(import.meta.dirname, '..', 'src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}

/** The layer of a path under src/: its folder, or for a file at the top its name (errors.ts). */
function layerOf(path: string): string {
  const [first] = relative(SRC, path).split(/[\\/]/);
  return first.replace(/\.(ts|js)$/, '');
}

/** The imports of `file` (text `text`) that point to its own layer's rank or above. */
function upwardImports(file: string, text: string): string[] {
  const from = layerOf(file);
  if (from === 'index') return [];
  const found: string[] = [];
  for (const m of text.matchAll(/(?:from\s+|import\s*\(\s*)'(\.[^']+)'/g)) {
    const to = layerOf(join(file, '..', m[1]));
    if (to !== from && LAYERS.indexOf(to) <= LAYERS.indexOf(from)) found.push(`${relative(SRC, file)} imports ${m[1]} (${from} -> ${to})`);
  }
  return found;
}

describe('layers', () => {
  it('every folder under src is a known layer', () => {
    const layers = new Set(sourceFiles(SRC).map(layerOf).filter((l) => l !== 'index'));
    expect([...layers].sort()).toEqual([...LAYERS].sort());
  });

  it('no file imports a folder of its own rank or above', () => {
    expect(sourceFiles(SRC).flatMap((file) => upwardImports(file, readFileSync(file, 'utf8')))).toEqual([]);
  });

  it('catches an upward import, static or dynamic, and allows downward ones', () => {
    const file = join(SRC, 'ops', 'example.ts');
    expect(upwardImports(file, "import { PlanBuilder } from '../plan/builder.js';")).toEqual(['ops/example.ts imports ../plan/builder.js (ops -> plan)']);
    expect(upwardImports(file, "const m = await import('../runtime/model.js');")).toHaveLength(1);
    expect(upwardImports(file, "import { UserError } from '../errors.js';\nimport type { Shape } from '../graph/ir.js';\nimport { x } from './common.js';")).toEqual([]);
  });
});
