// ONNX's own backend conformance tests (Debian's libonnx-testdata: node, pytorch-converted and
// pytorch-operator) through the engine's forward pass. Every test whose ops all belong to the CNN op set
// and whose outputs are float must pass, unless test/conformance-skips.txt names it with the reason the
// engine refuses it; a listed test must still be refused cleanly (a UserError), never give a wrong answer,
// and a listed test that now passes fails here until it is taken off the list. Tests outside the op set
// or with non-float outputs are listed there too, with that reason, so the file names every skipped test.
// GRADCAM_WRITE_CONFORMANCE=1 rewrites the file from what this run sees (then read the diff).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { conformanceAvailable, conformanceCases, type Outcome, runCase } from './support/conformance.js';
import { useGpu } from './support/gpu.js';

const SKIPS = join(import.meta.dirname, 'conformance-skips.txt');
const HEADER = `# ONNX conformance tests (libonnx-testdata) the engine does not pass, one per line: suite/test, a tab,
# the reason. Written by GRADCAM_WRITE_CONFORMANCE=1 npx vitest run test/conformance.test.ts; checked by that test.
`;

function readSkips(): Map<string, string> {
  if (!existsSync(SKIPS)) return new Map();
  const lines = readFileSync(SKIPS, 'utf8').split('\n').filter((l) => l && !l.startsWith('#'));
  return new Map(lines.map((l) => l.split('\t') as [string, string]));
}

/** A refusal's message without the long list of supported ops it may end with. */
function reasonOf(message: string): string {
  return message.replace(/; supported ops: .*/, '').replace(/\s+/g, ' ');
}

const gpu = useGpu();

describe.skipIf(!conformanceAvailable())('ONNX backend conformance tests', () => {
  it('pass, or are refused for the reason test/conformance-skips.txt gives', async () => {
    const skips = readSkips();
    const seen = new Map<string, string>();
    const failures: string[] = [];
    let inScope = 0;
    let passed = 0;
    for (const c of conformanceCases()) {
      if (c.outOfScope) {
        seen.set(c.id, c.outOfScope);
        if (!skips.has(c.id)) failures.push(`${c.id} is skipped (${c.outOfScope}) but not listed`);
        continue;
      }
      inScope++;
      const outcome: Outcome = await runCase(gpu(), c);
      if (outcome.status === 'pass') {
        passed++;
        if (skips.has(c.id)) failures.push(`${c.id} passes now: take it off the skip list`);
      } else if (outcome.status === 'wrong') {
        failures.push(`${c.id} gives a wrong answer: ${outcome.message}`);
      } else {
        seen.set(c.id, reasonOf(outcome.message));
        if (!skips.has(c.id)) failures.push(`${c.id} is refused: ${reasonOf(outcome.message)}`);
      }
    }
    for (const id of skips.keys()) if (!seen.has(id) && !failures.some((f) => f.startsWith(id))) failures.push(`${id} is listed but not skipped`);
    console.log(`conformance: ${passed} of ${inScope} tests in the CNN op set pass; ${seen.size - (inScope - passed)} more are outside it`);
    if (process.env.GRADCAM_WRITE_CONFORMANCE) {
      expect(failures.filter((f) => f.includes('wrong answer'))).toEqual([]);
      const lines = [...seen].sort(([a], [b]) => (a < b ? -1 : 1)).map(([id, reason]) => `${id}\t${reason}`);
      writeFileSync(SKIPS, HEADER + lines.join('\n') + '\n');
      return;
    }
    expect(failures).toEqual([]);
  });
});
