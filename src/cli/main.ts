// The `gradcam` command: a thin layer over the engine and the explanation API.
import { readFileSync } from 'node:fs';
import { UsageError, UserError } from '../errors.js';
import { loadImageCodecs } from '../io/decode.js';
import { DEMO_HELP, demo } from './demo.js';
import { EVALUATE_HELP, evaluate } from './evaluate.js';
import { EXPLAIN_HELP, explain } from './explain.js';
import { ADAPTERS_HELP, adapters } from './adapters.js';
import { INFER_HELP, infer } from './infer.js';
import { chooseAdapter } from './session.js';
import { INFO_HELP, info } from './info.js';
import { LAYERS_HELP, layers } from './layers.js';
import { MERGE_HELP, merge } from './merge.js';
import { QUEUE_HELP, queue, WORKER_HELP, worker } from './queue.js';
import { SERVE_HELP, serve } from './serve.js';
import { VERIFY_HELP, verify } from './verify.js';

const COMMANDS: Record<string, { run: (argv: string[]) => Promise<void>; help: string; summary: string }> = {
  info: { run: info, help: INFO_HELP, summary: 'the WebGPU adapter and its limits' },
  adapters: { run: adapters, help: ADAPTERS_HELP, summary: 'the adapters Dawn sees, for --adapter NAME|INDEX' },
  infer: { run: infer, help: INFER_HELP, summary: 'forward pass: output as .npy, or top-5 classes per image' },
  explain: { run: explain, help: EXPLAIN_HELP, summary: 'Grad-CAM / counterfactual / CAM heatmaps' },
  evaluate: { run: evaluate, help: EVALUATE_HELP, summary: 'faithfulness: deletion/insertion, Average Drop, pointing game, box localization' },
  layers: { run: layers, help: LAYERS_HELP, summary: 'the layers that can be explained, and the default' },
  merge: { run: merge, help: MERGE_HELP, summary: 'join the outputs of folder runs (shards of a job array) into one manifest' },
  queue: { run: queue, help: QUEUE_HELP, summary: 'a folder as jobs on a BullMQ/Redis queue (add, status) for gradcam worker' },
  worker: { run: worker, help: WORKER_HELP, summary: 'run the queue\'s jobs on this machine\'s adapter until stopped' },
  demo: { run: demo, help: DEMO_HELP, summary: 'explain the bundled sample images with the bundled demo model' },
  verify: { run: verify, help: VERIFY_HELP, summary: 'check this adapter against the bundled float64 reference cases' },
  serve: { run: serve, help: SERVE_HELP, summary: 'the web page: the same engine in your browser, on 127.0.0.1' },
};

const USAGE = `gradcam-webgpu: Grad-CAM on a WebGPU engine written from scratch

usage: gradcam <command> [options] [--adapter NAME|INDEX]   (gradcam <command> --help for its options)
       gradcam --version

commands:
${Object.entries(COMMANDS)
  .map(([name, c]) => `  ${name.padEnd(9)} ${c.summary}`)
  .join('\n')}

exit status: 0 done, 1 bad input (a model, image, layer or class the command cannot use), 2 usage
(an unknown command or option, a missing value)`;

/** The package's version, from the package.json two folders up (dist/src/cli or src/cli). */
function version(): string {
  for (const up of ['../../../package.json', '../../package.json']) {
    try {
      return (JSON.parse(readFileSync(new URL(up, import.meta.url), 'utf8')) as { name: string; version: string }).version;
    } catch {
      // not this folder depth
    }
  }
  return 'unknown';
}

export async function main(argv: string[]): Promise<void> {
  let adapter: string | undefined;
  try {
    [argv, adapter] = takeAdapter(argv);
  } catch (e) {
    return fail((e as Error).message, 2);
  }
  chooseAdapter(adapter);
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(USAGE);
    return;
  }
  if (name === '--version' || name === '-V') {
    console.log(`gradcam-webgpu ${version()}`);
    return;
  }
  const command = COMMANDS[name];
  if (!command) return fail(`unknown command "${name}"\n\n${USAGE}`, 2);
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(command.help);
    return;
  }
  try {
    await loadImageCodecs();
    await command.run(rest);
  } catch (e) {
    const error = e as Error;
    if (error instanceof UserError || process.env.GRADCAM_DEBUG === undefined) return fail(error.message, error instanceof UsageError ? 2 : 1);
    throw error;
  }
}

/** --adapter NAME|INDEX (or --adapter=...) anywhere on the line: every command that opens the GPU takes it. */
function takeAdapter(argv: string[]): [string[], string | undefined] {
  const rest: string[] = [];
  let adapter: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--adapter' || a.startsWith('--adapter=')) {
      adapter = a === '--adapter' ? argv[++i] : a.slice('--adapter='.length);
      if (!adapter) throw new UsageError('--adapter takes a name (or part of one) or an index from gradcam adapters');
    } else rest.push(a);
  }
  return [rest, adapter];
}

function fail(message: string, status: 1 | 2): void {
  console.error(`gradcam: ${message}`);
  process.exitCode = status;
}
