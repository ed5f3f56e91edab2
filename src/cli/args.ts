// Command-line parsing on node:util's parseArgs, with one-line errors for every malformed value.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UserError } from '../errors.js';

export type Options = ParseArgsConfig['options'];

export type Values = Record<string, string | boolean | string[] | undefined>;

export function parse(argv: string[], options: Options, allowPositionals = false): { values: Values; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({ args: argv, options, allowPositionals, strict: true });
    return { values: values as Values, positionals };
  } catch (e) {
    throw new UserError((e as Error).message.split('\n')[0]);
  }
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
  if (!value) throw new UserError(`${flag} is required`);
  return value;
}
