import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseLabels, readLabels } from '../../src/io/labels.js';

describe('parseLabels', () => {
  it('reads one name per line, ignoring trailing blank lines, CRLF and a BOM', () => {
    expect(parseLabels('\uFEFFtench\r\ngoldfish\r\ngreat white shark\r\n\r\n\n')).toEqual(['tench', 'goldfish', 'great white shark']);
  });

  it('reads a JSON array', () => {
    expect(parseLabels('["cat", "dog"]\n')).toEqual(['cat', 'dog']);
  });

  it('reads a JSON object keyed by index, in any key order', () => {
    expect(parseLabels('{"1": "dog", "0": "cat", "2": "bird"}')).toEqual(['cat', 'dog', 'bird']);
  });

  it('gives a clear error when malformed', () => {
    expect(() => parseLabels('a\n\nb\n', 'names.txt')).toThrow('names.txt: line 2 is empty');
    expect(() => parseLabels('\n\n', 'names.txt')).toThrow('names.txt: no class names');
    expect(() => parseLabels('["a", ', 'l.json')).toThrow(/^l\.json: invalid JSON/);
    expect(() => parseLabels('["a", 3]', 'l.json')).toThrow('l.json: class 1 is 3, not a string');
    expect(() => parseLabels('{"0": "a", "2": "b"}', 'l.json')).toThrow(/class index 2 is out of range for 2 classes/);
    expect(() => parseLabels('{"0": "a", "x": "b"}', 'l.json')).toThrow('l.json: key "x" is not a class index');
    expect(() => parseLabels('{"0": "a", "01": "b"}', 'l.json')).toThrow(/key "01" is not a class index/);
    expect(() => parseLabels('{}', 'l.json')).toThrow('l.json: no class names');
  });
});

describe('readLabels', () => {
  it('names the file in errors', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'labels-')), 'classes.txt');
    writeFileSync(path, 'a\n\nb\n');
    expect(() => readLabels(path)).toThrow(`${path}: line 2 is empty`);
    writeFileSync(path, 'a\nb\n');
    expect(readLabels(path)).toEqual(['a', 'b']);
  });
});
