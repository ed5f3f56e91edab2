// Command-line parsing on node:util's parseArgs, with one-line errors for every malformed value.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError, UserError } from '../errors.js';

export type Options = ParseArgsConfig['options'];

export type Values = Record<string, string | boolean | string[] | undefined>;

export function parse(argv: string[], options: Options, allowPositionals = false): { values: Values; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({ args: joinNegativeValues(argv, options), allowPositionals, options, strict: true });
    return { values: values as Values, positionals };
  } catch (e) {
    throw new UsageError((e as Error).message.split('\n')[0]);
  }
}

/**
 * `--class -1` as `--class=-1`: parseArgs reads a value that starts with a dash as an option, so a
 * negative number would get a message about option parsing instead of one about the value.
 */
function joinNegativeValues(argv: string[], options: Options): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i].startsWith('--') ? argv[i].slice(2) : undefined;
    const next = argv[i + 1];
    if (name && options?.[name]?.type === 'string' && next !== undefined && /^-\d/.test(next)) {
      out.push(`${argv[i]}=${next}`);
      i++;
    } else out.push(argv[i]);
  }
  return out;
}

export function intList(value: string | undefined, flag: string): number[] | undefined {
  if (value === undefined) return undefined;
  const parts = value.split(',').map((s) => s.trim());
  const numbers = parts.map(Number);
  if (parts.some((p) => p === '') || numbers.some((n) => !Number.isInteger(n))) throw new UserError(`${flag} takes integers separated by commas, got "${value}"`);
  return numbers;
}

export function floatTriple(value: string | undefined, flag: string): [number, number, number] | undefined {
  if (value === undefined) return undefined;
  const numbers = value.split(',').map(Number);
  if (numbers.length !== 3 || numbers.some((n) => !Number.isFinite(n))) throw new UserError(`${flag} takes three numbers separated by commas, got "${value}"`);
  return numbers as [number, number, number];
}

export function positiveInt(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new UserError(`${flag} takes a positive integer, got "${value}"`);
  return n;
}

export function required(value: string | undefined, flag: string): string {
  if (!value) throw new UsageError(`${flag} is required`);
  return value;
}
