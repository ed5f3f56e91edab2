// Class-name files: one name per line, a JSON array of names, or a JSON object {"0": "name", ...}.
import { readFile } from '../platform/index.js';

export function readLabels(path: string): string[] {
  return parseLabels(new TextDecoder().decode(readFile(path)), path);
}

export function parseLabels(text: string, name = 'labels'): string[] {
  const body = text.replace(/^\uFEFF/, '');
  const trimmed = body.trim();
  if (trimmed.startsWith('[') || trimmed.startsWith('{')) return parseJsonLabels(trimmed, name);

  const lines = body.split(/\r?\n/).map((line) => line.trim());
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  if (lines.length === 0) throw new Error(`${name}: no class names`);
  // A blank line in the middle would shift every later index, so it is an error rather than skipped.
  const blank = lines.indexOf('');
  if (blank >= 0) throw new Error(`${name}: line ${blank + 1} is empty`);
  return lines;
}

function parseJsonLabels(text: string, name: string): string[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new Error(`${name}: invalid JSON: ${(err as Error).message}`);
  }
  const entries: [string, unknown][] = Array.isArray(value)
    ? value.map((v, i) => [String(i), v])
    : Object.entries(value as Record<string, unknown>);
  if (entries.length === 0) throw new Error(`${name}: no class names`);

  const labels: string[] = new Array(entries.length);
  for (const [key, label] of entries) {
    if (!/^(0|[1-9]\d*)$/.test(key)) throw new Error(`${name}: key ${JSON.stringify(key)} is not a class index`);
    const index = Number(key);
    if (index >= entries.length) {
      throw new Error(`${name}: class index ${index} is out of range for ${entries.length} classes (indices must be 0..${entries.length - 1})`);
    }
    if (typeof label !== 'string') throw new Error(`${name}: class ${index} is ${JSON.stringify(label)}, not a string`);
    labels[index] = label;
  }
  return labels;
}
