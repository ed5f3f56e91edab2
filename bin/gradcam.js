#!/usr/bin/env node
// Launcher for the CLI (compiled from src/cli by npm install's prepare script). Dawn's Vulkan backend
// prints two lines on stderr whenever it enumerates lavapipe ("Warning: maxDynamic...BuffersPerPipeline-
// Layout artificially reduced ... to fit dynamic offset allocation limit"), from native code that no API
// or toggle silences. So the CLI runs as a child process whose stderr passes through here, as it comes
// (progress bars redraw in place), without exactly those lines. SIGINT, SIGTERM and SIGHUP sent to this
// process are passed on to the child, and this process exits with the child's status, so that process
// managers (docker stop, systemd, Kubernetes) stop the CLI itself and a stopped folder run can resume.
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { fileURLToPath } from 'node:url';

const DAWN_NOISE = /^Warning: maxDynamic(Uniform|Storage)BuffersPerPipelineLayout artificially reduced from \d+ to \d+ to fit dynamic offset allocation limit\.$/;
const NOISE_PREFIX = 'Warning: maxDynamic';
const FORWARDED = ['SIGINT', 'SIGTERM', 'SIGHUP'];

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
  // A Ctrl-C reaches the child from the terminal too; the CLI treats a repeated signal as one.
  for (const name of FORWARDED) process.on(name, () => child.exitCode === null && child.kill(name));
  child.on('close', (code, signal) => process.exit(code ?? (signal ? 128 + (constants.signals[signal] ?? 0) : 1)));
}
