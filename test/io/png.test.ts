import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readImage } from '../../src/io/decode.js';
import { readNpy } from '../../src/io/npy.js';
import { encodePng, writePng } from '../../src/io/png.js';
import { fixture } from './fixtures.js';

describe('writePng', () => {
  it('writes an 8-bit RGB PNG that decodes to the same pixels', () => {
    // Pixels from Pillow's decode of the fixture, so the expectation does not come from the code under test.
    const ref = readNpy(fixture('rgb.png.rgb.npy'));
    const [height, width] = ref.shape;
    const path = join(mkdtempSync(join(tmpdir(), 'png-')), 'out.png');
    writePng(path, width, height, ref.data as Uint8Array);
    const bytes = readFileSync(path);
    expect([bytes[24], bytes[25]]).toEqual([8, 2]); // IHDR: bit depth 8, colour type 2 (RGB)
    const back = readImage(path);
    expect([back.width, back.height]).toEqual([width, height]);
    expect(back.data).toEqual(ref.data);
  });

  it('rejects a buffer of the wrong size', () => {
    expect(() => encodePng(2, 2, new Uint8Array(11))).toThrow(/not 2x2 RGB/);
  });
});
