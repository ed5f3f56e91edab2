// The CLI run in-process (the same code as bin/gradcam.js) with its stdout, stderr and exit status.
import { vi } from 'vitest';
import { main } from '../../src/cli/main.js';

export async function run(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...a) => void out.push(a.join(' ')));
  const error = vi.spyOn(console, 'error').mockImplementation((...a) => void err.push(a.join(' ')));
  process.exitCode = undefined;
  try {
    await main(argv);
  } finally {
    log.mockRestore();
    error.mockRestore();
  }
  const status = process.exitCode ?? 0;
  process.exitCode = undefined;
  return { status, stdout: out.join('\n'), stderr: err.join('\n') };
}
