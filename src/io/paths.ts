// Where the package's bundled files are, whether running from src/ (tests) or dist/src/ (the CLI).
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'shaders'))) return dir;
    dir = dirname(dir);
  }
  throw new Error('cannot find the gradcam-webgpu package root');
}

export const PACKAGE_ROOT = packageRoot();
export const SHADER_DIR = join(PACKAGE_ROOT, 'shaders');
export const WEIGHTS_DIR = join(PACKAGE_ROOT, 'weights');
