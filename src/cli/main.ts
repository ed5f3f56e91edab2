// The `gradcam` command: a thin layer over the engine and the explanation API.
import { UserError } from '../errors.js';
import { DEMO_HELP, demo } from './demo.js';
import { EXPLAIN_HELP, explain } from './explain.js';
import { INFER_HELP, infer } from './infer.js';
import { INFO_HELP, info } from './info.js';
import { LAYERS_HELP, layers } from './layers.js';

const COMMANDS: Record<string, { run: (argv: string[]) => Promise<void>; help: string; summary: string }> = {
  info: { run: info, help: INFO_HELP, summary: 'the WebGPU adapter and its limits' },
  infer: { run: infer, help: INFER_HELP, summary: 'forward pass: output as .npy, or top-5 classes per image' },
  explain: { run: explain, help: EXPLAIN_HELP, summary: 'Grad-CAM / counterfactual / CAM heatmaps' },
  layers: { run: layers, help: LAYERS_HELP, summary: 'the layers that can be explained, and the default' },
  demo: { run: demo, help: DEMO_HELP, summary: 'explain the bundled sample images with the bundled demo model' },
};

const USAGE = `gradcam-webgpu: Grad-CAM on a WebGPU engine written from scratch

usage: gradcam <command> [options]     (gradcam <command> --help for its options)

commands:
${Object.entries(COMMANDS)
  .map(([name, c]) => `  ${name.padEnd(9)} ${c.summary}`)
  .join('\n')}`;

export async function main(argv: string[]): Promise<void> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(USAGE);
    return;
  }
  const command = COMMANDS[name];
  if (!command) return fail(`unknown command "${name}"\n\n${USAGE}`);
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(command.help);
    return;
  }
  try {
    await command.run(rest);
  } catch (e) {
    const error = e as Error;
    if (error instanceof UserError || process.env.GRADCAM_DEBUG === undefined) return fail(error.message);
    throw error;
  }
}

function fail(message: string): void {
  console.error(`gradcam: ${message}`);
  process.exitCode = 1;
}
