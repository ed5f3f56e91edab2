// WGSL sources live in shaders/ as plain files. A program names the files it is made of (an op's hooks
// first, then a shared body such as the tiled GEMM) and textual {{DEFINES}}; common.wgsl comes first.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SHADER_DIR } from '../runtime/paths.js';

const sourceCache = new Map<string, string>();

function shaderFile(name: string): string {
  let text = sourceCache.get(name);
  if (text === undefined) {
    text = readFileSync(join(SHADER_DIR, `${name}.wgsl`), 'utf8');
    sourceCache.set(name, text);
  }
  return text;
}

export type Defines = Record<string, string | number>;

/** Concatenates common.wgsl and the named files, then replaces every {{NAME}} from defines. */
export function composeShader(files: string[], defines: Defines = {}): string {
  const text = ['common', ...files].map(shaderFile).join('\n');
  return text.replace(/\{\{(\w+)\}\}/g, (_, key: string) => {
    const value = defines[key];
    if (value === undefined) throw new Error(`shader ${files.join('+')}: no value for {{${key}}}`);
    return String(value);
  });
}

export function shaderKey(files: string[], defines: Defines = {}, entryPoint = 'main'): string {
  const defs = Object.keys(defines)
    .sort()
    .map((k) => `${k}=${defines[k]}`)
    .join(',');
  return `${files.join('+')}|${defs}|${entryPoint}`;
}
