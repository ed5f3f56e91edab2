// Where the package's bundled files are (Node), whether running from src/ (tests) or dist/src/ (the CLI).
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../platform/index.js';

export { PACKAGE_ROOT };
export const SHADER_DIR = join(PACKAGE_ROOT, 'shaders');
export const WEIGHTS_DIR = join(PACKAGE_ROOT, 'weights');
