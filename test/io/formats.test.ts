// Every file scripts/make_format_fixtures.py writes decodes to exactly the pixels Pillow 9.4 gives for
// Image.open(f).convert("RGB") (JPEG through Debian's libjpeg-turbo 2.1.5), and preprocesses to torchvision's
// tensor bit for bit: no tolerance, a decoder that differs in one sample fails.
import { readdirSync, readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeImage, loadImageCodecs } from '../../src/io/decode.js';
import { preprocess } from '../../src/io/image.js';
import { readNpy, readNpyFloat32 } from '../../src/io/npy.js';
import { fixture, maxAbsDiff } from './fixtures.js';

const FILES = readdirSync(fixture('formats')).filter((f) => !f.endsWith('.npy') && readdirSync(fixture('formats')).includes(`${f}.rgb.npy`));

function pillow(name: string, suffix = 'rgb'): { shape: number[]; data: Uint8Array } {
  const ref = readNpy(fixture(`formats/${name}.${suffix}.npy`));
  return { shape: ref.shape, data: ref.data as Uint8Array };
}

describe("image files decode to Pillow's pixels", () => {
  beforeAll(loadImageCodecs);

  it('covers every kind the generator writes', () => {
    const count = (ext: string) => FILES.filter((f) => f.endsWith(ext)).length;
    expect([count('.jpg'), count('.webp'), count('.bmp'), count('.gif'), count('.tif'), count('.png')]).toEqual([27, 4, 4, 4, 10, 2]);
  });

  for (const name of FILES) {
    it(name, () => {
      // Pillow clips 16-bit greyscale where the engine's default keeps the high byte.
      const options = name === 'grey16.png' ? ({ png16: 'clip' } as const) : {};
      const image = decodeImage(readFileSync(fixture(`formats/${name}`)), name, options);
      const ref = pillow(name);
      expect([image.height, image.width, 3]).toEqual(ref.shape);
      expect(maxAbsDiff(image.data, ref.data)).toBe(0);
    });
  }

  for (const name of FILES) {
    it(`${name}: Resize(24), CenterCrop((20, 16)), ToTensor, Normalize bit-identical to torchvision`, () => {
      const options = name === 'grey16.png' ? ({ png16: 'clip' } as const) : {};
      const tensor = preprocess(decodeImage(readFileSync(fixture(`formats/${name}`)), name, options), { resize: 24, crop: [20, 16] });
      const ref = readNpyFloat32(fixture(`formats/${name}.pre.npy`));
      expect(ref.shape).toEqual([3, 20, 16]);
      expect(maxAbsDiff(tensor, ref.data)).toBe(0);
    });
  }

  it("keeps 16-bit greyscale's high byte by default", () => {
    const scaled = decodeImage(readFileSync(fixture('formats/grey16.png')), 'g.png');
    const grey8 = decodeImage(readFileSync(fixture('formats/grey.bmp')), 'g.bmp'); // the same picture, 8-bit
    expect(maxAbsDiff(scaled.data, grey8.data)).toBe(0); // its samples are v·256 + (0..255): high byte = v
  });

  it("--exif-rotate applies the orientation as PIL's exif_transpose", () => {
    const plain = decodeImage(readFileSync(fixture('formats/exif_rotate6.jpg')), 'r.jpg');
    const rotated = decodeImage(readFileSync(fixture('formats/exif_rotate6.jpg')), 'r.jpg', { exifRotate: true });
    const ref = pillow('exif_rotate6.jpg', 'rotated');
    expect([plain.height, plain.width]).toEqual([57, 83]);
    expect([rotated.height, rotated.width, 3]).toEqual(ref.shape);
    expect(maxAbsDiff(rotated.data, ref.data)).toBe(0);
  });

  it('--background composites alpha as Image.alpha_composite', () => {
    const image = decodeImage(readFileSync(fixture('formats/rgba.png')), 'a.png', { background: [30, 60, 90] });
    expect(maxAbsDiff(image.data, pillow('rgba.png', 'background').data)).toBe(0);
  });

  it('refuses arithmetic-coded JPEG by name', () => {
    expect(() => decodeImage(readFileSync(fixture('formats/arithmetic.jpg')), 'a.jpg')).toThrow(/^a\.jpg: cannot decode JPEG: arithmetic-coded sequential JPEG is not supported/);
  });

  it('refuses a JPEG cut inside its scan', () => {
    const bytes = readFileSync(fixture('formats/progressive420.jpg'));
    expect(() => decodeImage(bytes.subarray(0, bytes.length - 400), 'cut.jpg')).toThrow(/^cut\.jpg: cannot decode JPEG: premature end of data/);
  });
});
