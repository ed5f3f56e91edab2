// Every file scripts/make_format_fixtures.py writes decodes to exactly the pixels Pillow 9.4 gives for
// Image.open(f).convert("RGB") (JPEG through Debian's libjpeg-turbo 2.1.5): no tolerance, a decoder that
// differs in one sample fails.
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeImage } from '../../src/io/decode.js';
import { readNpy } from '../../src/io/npy.js';
import { fixture, maxAbsDiff } from './fixtures.js';

const FILES = readdirSync(fixture('formats')).filter((f) => f.endsWith('.jpg') && readdirSync(fixture('formats')).includes(`${f}.rgb.npy`));

function pillow(name: string, suffix = 'rgb'): { shape: number[]; data: Uint8Array } {
  const ref = readNpy(fixture(`formats/${name}.${suffix}.npy`));
  return { shape: ref.shape, data: ref.data as Uint8Array };
}

describe("image files decode to Pillow's pixels", () => {
  it('covers every kind the generator writes', () => {
    expect(FILES.filter((f) => f.endsWith('.jpg')).length).toBeGreaterThanOrEqual(26);
  });

  for (const name of FILES) {
    it(name, () => {
      const image = decodeImage(readFileSync(fixture(`formats/${name}`)), name);
      const ref = pillow(name);
      expect([image.height, image.width, 3]).toEqual(ref.shape);
      expect(maxAbsDiff(image.data, ref.data)).toBe(0);
    });
  }

  it('refuses arithmetic-coded JPEG by name', () => {
    expect(() => decodeImage(readFileSync(fixture('formats/arithmetic.jpg')), 'a.jpg')).toThrow(/^a\.jpg: cannot decode JPEG: arithmetic-coded sequential JPEG is not supported/);
  });

  it('refuses a JPEG cut inside its scan', () => {
    const bytes = readFileSync(fixture('formats/progressive420.jpg'));
    expect(() => decodeImage(bytes.subarray(0, bytes.length - 400), 'cut.jpg')).toThrow(/^cut\.jpg: cannot decode JPEG: premature end of data/);
  });
});
