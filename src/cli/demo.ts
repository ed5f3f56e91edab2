// `gradcam demo`: the bundled demo model (trained by scripts/train_demo.py on synthetic shapes) explains
// the bundled sample images with every method; writes heatmaps, overlays and one contact sheet.
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { Explainer, METHODS } from '../explain/explainer.js';
import { METHOD_TITLES } from '../explain/methods.js';
import { UserError } from '../errors.js';
import { applyJet, overlay, planarToRgb } from '../io/colormap.js';
import { readImage } from '../io/decode.js';
import { IMAGE_EXTENSIONS, preprocess, resizeAndCrop, rgbToFloat01, type RgbImage } from '../io/image.js';
import { writePng } from '../io/png.js';
import { Progress } from '../io/progress.js';
import { makeContactSheet, type SheetTile } from '../io/sheet.js';
import { WEIGHTS_DIR } from '../io/paths.js';
import { parse } from './args.js';
import { loadLabels, withModel } from './session.js';
import { softmax } from './infer.js';
import type { DemoConfig } from '../io/demo-config.js';

export const DEMO_HELP = `gradcam demo [--out DIR] [--images DIR]
  Explains the bundled sample images with the bundled demo model (every map method, and Guided
  Grad-CAM) and writes per image and method an overlay, plus contact-sheet.png, into DIR.
  --out DIR            where to write (default ./gradcam-demo)
  --images DIR         PNG/JPEG images to explain instead of the bundled samples

examples:
  gradcam demo
  gradcam demo --out /tmp/demo --images my-shapes/`;


// Guided back-propagation alone is Guided Grad-CAM's other factor; the sheet shows their product.
const DEMO_METHODS = METHODS.filter((m) => m !== 'guided-backprop');

export async function demo(argv: string[]): Promise<void> {
  const { values } = parse(argv, { out: { type: 'string' }, images: { type: 'string' } });
  const config = JSON.parse(readFileSync(join(WEIGHTS_DIR, 'demo.json'), 'utf8')) as DemoConfig;
  const outDir = (values.out as string | undefined) ?? 'gradcam-demo';
  const imageDir = (values.images as string | undefined) ?? join(WEIGHTS_DIR, 'samples');
  const paths = imageFiles(imageDir);
  const labels = loadLabels(join(WEIGHTS_DIR, config.labels))!;
  const [height, width] = config.input_size;
  const preprocessing = { resize: Math.min(height, width), crop: [height, width] as [number, number], mean: config.mean, std: config.std };
  mkdirSync(outDir, { recursive: true });

  await withModel(join(WEIGHTS_DIR, config.model), async (model) => {
    const explainer = new Explainer(model);
    const progress = new Progress(paths.length, { enabled: paths.length > 1 });
    const rows: { tiles: SheetTile[] }[] = [];
    const lines: string[] = [];
    try {
      for (const path of paths) {
        const name = basename(path, extname(path));
        let image: RgbImage;
        try {
          image = readImage(path);
        } catch (e) {
          throw new UserError((e as Error).message);
        }
        const cropped = resizeAndCrop(image, preprocessing);
        const input = { shape: [1, 3, height, width], data: preprocess(image, preprocessing) };
        const tiles: SheetTile[] = [{ rgb: cropped.data, width, height, title: name }];
        const explained = await explainer.explainMany(input, { methods: DEMO_METHODS, layer: config.layer });
        const written: string[] = [];
        for (const [method, explanation] of explained) {
          if (explanation.map.shape.length === 4) {
            const file = join(outDir, `${name}.${method}.png`);
            const picture = planarToRgb(explanation.normalized.data, explanation.map.shape[1], width, height);
            writePng(file, width, height, picture);
            written.push(file);
            tiles.push({ rgb: picture, width, height, title: METHOD_TITLES[method] });
            continue;
          }
          const map01 = explanation.normalized.data;
          const blended = overlay(rgbToFloat01(cropped), map01, width, height);
          for (const [kind, rgb] of [['heatmap', applyJet(map01, width, height)], ['overlay', blended]] as const) {
            const file = join(outDir, `${name}.${method}.${kind}.png`);
            writePng(file, width, height, rgb);
            written.push(file);
          }
          tiles.push({ rgb: blended, width, height, title: METHOD_TITLES[method] });
        }
        const { classes, logits } = explained.get('gradcam')!;
        const predicted = classes[0];
        const probability = softmax(logits.data)[predicted];
        tiles[0].caption = `${labels[predicted] ?? predicted} ${(100 * probability).toFixed(1)}%`;
        rows.push({ tiles });
        lines.push(`${name}: ${labels[predicted] ?? predicted} (${(100 * probability).toFixed(1)}%) -> ${written.filter((f) => !f.includes('heatmap')).join(', ')}`);
        progress.tick(name);
      }
    } finally {
      explainer.dispose();
    }
    const sheet = makeContactSheet({
      header: [`gradcam-webgpu demo: input (predicted class), ${DEMO_METHODS.map((m) => METHOD_TITLES[m]).join(', ')}`, `layer "${config.layer}", ${width}x${height} inputs`],
      rows,
      textScale: 1,
    });
    const sheetPath = join(outDir, 'contact-sheet.png');
    writePng(sheetPath, sheet.width, sheet.height, sheet.rgb);
    for (const line of lines) console.log(line);
    console.log(`contact sheet: ${sheetPath}`);
  });
}

function imageFiles(dir: string): string[] {
  if (!existsSync(dir)) throw new UserError(`image folder "${dir}" does not exist`);
  const files = readdirSync(dir)
    .filter((f) => IMAGE_EXTENSIONS.has(extname(f).toLowerCase()))
    .sort()
    .map((f) => join(dir, f));
  if (files.length === 0) throw new UserError(`no images (${[...IMAGE_EXTENSIONS].join(' ')}) in "${dir}"`);
  return files;
}

