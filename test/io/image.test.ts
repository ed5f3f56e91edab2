import { readFileSync } from 'node:fs';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { decodeImage, readImage } from '../../src/io/decode.js';
import { preprocess, resizeAndCrop, rgbToFloat01 } from '../../src/io/image.js';
import { readNpy, readNpyFloat32 } from '../../src/io/npy.js';
import { fixture, maxAbsDiff } from './fixtures.js';

const PNGS = ['rgb.png', 'rgba.png', 'palette.png', 'grey.png', 'grey1.png', 'greya.png', 'trns.png', 'rgb16.png'];
const JPEGS = ['photo.jpg', 'photo422.jpg', 'photo444.jpg', 'grey.jpg', 'cmyk.jpg'];

function pillowPixels(name: string): Uint8Array {
  const ref = readNpy(fixture(`${name}.rgb.npy`));
  return ref.data as Uint8Array;
}

describe('decodeImage', () => {
  for (const name of PNGS) {
    it(`decodes ${name} to Pillow's RGB exactly`, () => {
      const image = readImage(fixture(name));
      const ref = readNpy(fixture(`${name}.rgb.npy`));
      expect([image.height, image.width, 3]).toEqual(ref.shape);
      expect(maxAbsDiff(image.data, pillowPixels(name))).toBe(0);
    });
  }

  for (const name of JPEGS) {
    it(`decodes ${name} to Pillow's RGB exactly`, () => {
      const image = readImage(fixture(name));
      expect([image.width, image.height]).toEqual([37, 53]);
      expect(maxAbsDiff(image.data, pillowPixels(name))).toBe(0);
    });
  }

  it('sniffs the content, not the extension', () => {
    const image = decodeImage(readFileSync(fixture('photo444.jpg')), 'misnamed.png');
    expect(image.width).toBe(37);
  });

  it('keeps the high byte of 16-bit greyscale', () => {
    const png = new PNG({ width: 3, height: 1, colorType: 0, bitDepth: 16, inputColorType: 0, inputHasAlpha: false });
    const samples = [0x0000, 0x80ff, 0xffff];
    png.data = Buffer.from(new Uint16Array(samples).buffer);
    const image = decodeImage(PNG.sync.write(png, { colorType: 0, bitDepth: 16, inputColorType: 0, inputHasAlpha: false }));
    expect(Array.from(image.data)).toEqual(samples.flatMap((v) => [v >> 8, v >> 8, v >> 8]));
  });

  it('names the file when it cannot decode', () => {
    expect(() => decodeImage(Buffer.from('WEBM....'), 'cat.webm')).toThrow(/^cat\.webm: not a PNG, JPEG, WebP, GIF, BMP or TIFF image/);
    const broken = readFileSync(fixture('rgb.png')).subarray(0, 200);
    expect(() => decodeImage(broken, 'broken.png')).toThrow(/^broken\.png: cannot decode PNG: /);
    const brokenJpeg = readFileSync(fixture('photo.jpg')).subarray(0, 120);
    expect(() => decodeImage(brokenJpeg, 'broken.jpg')).toThrow(/^broken\.jpg: cannot decode JPEG: /);
  });
});

describe('preprocess matches torchvision Resize + CenterCrop + ToTensor + Normalize', () => {
  for (const name of PNGS) {
    it(`${name}: Resize(24), CenterCrop((20, 16))`, () => {
      const out = preprocess(readImage(fixture(name)), { resize: 24, crop: [20, 16] });
      const ref = readNpyFloat32(fixture(`${name}.pre.npy`));
      expect(ref.shape).toEqual([3, 20, 16]);
      const err = maxAbsDiff(out, ref.data);
      expect(err).toBe(0); // same pixels, same float32 steps as torchvision: bit-identical
    });
  }

  it('gives uint8 pixels identical to Pillow resize + torchvision CenterCrop', () => {
    const crop = resizeAndCrop(readImage(fixture('rgb.png')), { resize: 24, crop: [20, 16] });
    const ref = readNpy(fixture('rgb.crop.npy'));
    expect([crop.height, crop.width, 3]).toEqual(ref.shape);
    expect(maxAbsDiff(crop.data, ref.data as Uint8Array)).toBe(0);
  });

  const cases: [string, number, number | [number, number], number[]][] = [
    ['rgb.pre_21x15.npy', 24, [21, 15], [3, 21, 15]], // half-way crop offsets round to even
    ['rgb.pre_pad.npy', 24, [30, 28], [3, 30, 28]], // crop wider than the image: zero padding
    ['rgb.pre_up.npy', 64, 48, [3, 48, 48]], // upscaling
  ];
  for (const [ref, resize, crop, shape] of cases) {
    it(`rgb.png: Resize(${resize}), CenterCrop(${JSON.stringify(crop)})`, () => {
      const out = preprocess(readImage(fixture('rgb.png')), { resize, crop });
      const expected = readNpyFloat32(fixture(ref));
      expect(expected.shape).toEqual(shape);
      expect(maxAbsDiff(out, expected.data)).toBe(0);
    });
  }

  for (const name of JPEGS) {
    it(`${name}: Resize(24), CenterCrop((20, 16)) bit-identical to torchvision`, () => {
      const out = preprocess(readImage(fixture(name)), { resize: 24, crop: [20, 16] });
      expect(maxAbsDiff(out, readNpyFloat32(fixture(`${name}.pre.npy`)).data)).toBe(0);
    });
  }

  it('defaults to Resize(256), CenterCrop(224) and ImageNet statistics', () => {
    const image = readImage(fixture('rgba.png'));
    const out = preprocess(image);
    expect(out.length).toBe(3 * 224 * 224);
    const explicit = preprocess(image, {
      resize: 256,
      crop: [224, 224],
      mean: [0.485, 0.456, 0.406],
      std: [0.229, 0.224, 0.225],
    });
    expect(out).toEqual(explicit);
  });
});

describe('preprocess arguments', () => {
  it('rejects sizes that are not positive integers', () => {
    const image = readImage(fixture('rgb.png'));
    expect(() => preprocess(image, { resize: 0 })).toThrow(/positive integers/);
    expect(() => preprocess(image, { crop: [20, 15.5] })).toThrow(/positive integers/);
  });
});

describe('rgbToFloat01', () => {
  it('scales bytes to [0, 1] in HWC order', () => {
    const out = rgbToFloat01({ width: 1, height: 1, data: Uint8Array.from([0, 51, 255]) });
    expect(Array.from(out)).toEqual([0, Math.fround(0.2), 1]);
  });
});
