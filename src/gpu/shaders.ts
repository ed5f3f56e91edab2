// WGSL sources live in shaders/ as plain files; kernels (src/kernels/) name the files their bodies are
// made of and may take textual {{DEFINES}}.
import { shaderSource } from '../platform/index.js';

const sourceCache = new Map<string, string>();

export function shaderFile(name: string): string {
  let text = sourceCache.get(name);
  if (text === undefined) {
    text = shaderSource(name);
    sourceCache.set(name, text);
  }
  return text;
}

export type Defines = Record<string, string | number>;

/** Replaces every {{NAME}} from defines; `what` names the source in the error. */
export function substituteDefines(text: string, defines: Defines, what: string): string {
  return text.replace(/\{\{(\w+)\}\}/g, (_, key: string) => {
    const value = defines[key];
    if (value === undefined) throw new Error(`${what}: no value for {{${key}}}`);
    return String(value);
  });
}
