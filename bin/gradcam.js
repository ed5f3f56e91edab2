#!/usr/bin/env node
// Launcher for the CLI (compiled from src/cli by npm install's prepare script). Dawn's Vulkan backend
// prints two lines on stderr whenever it enumerates lavapipe ("Warning: maxDynamic...BuffersPerPipeline-
// Layout artificially reduced ... to fit dynamic offset allocation limit"), from native code that no API
// or toggle silences. So the CLI runs as a child process whose stderr passes through here, as it comes
// (progress bars redraw in place), without exactly those lines.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const DAWN_NOISE = /^Warning: maxDynamic(Uniform|Storage)BuffersPerPipelineLayout artificially reduced from \d+ to \d+ to fit dynamic offset allocation limit\.$/;
const NOISE_PREFIX = 'Warning: maxDynamic';

if (process.env.GRADCAM_CLI_CHILD) {
  const cli = await import('../dist/src/cli/main.js');
  await cli.main(process.argv.slice(2));
} else {
  const terminal = process.stderr.isTTY ? String(process.stderr.columns ?? 80) : '';
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    stdio: ['inherit', 'inherit', 'pipe'],
    env: { ...process.env, GRADCAM_CLI_CHILD: '1', GRADCAM_STDERR_COLUMNS: terminal },
  });
  let pending = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk) => {
    const lines = (pending + chunk).split('\n');
    pending = lines.pop();
    const kept = lines.filter((line) => !DAWN_NOISE.test(line));
    let out = kept.length ? `${kept.join('\n')}\n` : '';
    // A partial line that may still become the warning waits for its end; anything else goes now.
    const couldBeNoise = NOISE_PREFIX.startsWith(pending) || pending.startsWith(NOISE_PREFIX);
    if (!couldBeNoise) {
      out += pending;
      pending = '';
    }
    if (out) process.stderr.write(out);
  });
  child.stderr.on('end', () => pending && !DAWN_NOISE.test(pending) && process.stderr.write(pending));
  // Ctrl-C reaches the child through the terminal; this process waits for it to finish.
  process.on('SIGINT', () => {});
  child.on('close', (code, signal) => process.exit(code ?? (signal ? 128 + 2 : 1)));
}
