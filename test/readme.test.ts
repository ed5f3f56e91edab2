// The README's op table is the registry's (src/ops/registry.ts opTable): this test renders it and
// compares, so the two cannot drift. GRADCAM_WRITE_README=1 rewrites the README's table from the registry.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { MAX_OPSET, MIN_OPSET } from '../src/onnx/versions.js';
import { opTable } from '../src/ops/registry.js';

const README = join(import.meta.dirname, '..', 'README.md');
const BEGIN = '<!-- op table: written from src/ops/registry.ts by GRADCAM_WRITE_README=1 npx vitest run test/readme.test.ts -->';
const END = '<!-- end of op table -->';

function rendered(): string {
  const rows = opTable().map((r) => `| ${r.op} | ${r.versions.join(', ') || '-'} | ${r.runs} | ${r.backward ? 'yes' : '-'} |`);
  return [
    BEGIN,
    `Opsets ${MIN_OPSET} to ${MAX_OPSET} of the default domain; ONNX versions are the op's since-versions the engine implements.`,
    '',
    '| op | ONNX versions | runs as | gradient |',
    '|---|---|---|---|',
    ...rows,
    END,
  ].join('\n');
}

it("the README's op table is the registry's", () => {
  const text = readFileSync(README, 'utf8');
  const start = text.indexOf(BEGIN);
  const end = text.indexOf(END);
  expect(start, 'the README has the op table markers').toBeGreaterThan(0);
  const current = text.slice(start, end + END.length);
  if (process.env.GRADCAM_WRITE_README) writeFileSync(README, text.replace(current, rendered()));
  else expect(current).toBe(rendered());
});
