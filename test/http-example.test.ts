// The README's HTTP example, run as written (its package import pointed at this checkout, its model at
// the demo model, its port at a free one), answering 16 concurrent requests: each answer equals the
// same image explained alone, and a request that is not an image gets a 400 with one line.
import { readFileSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Explainer } from '../src/explain/explainer.js';
import { decodeImage } from '../src/io/decode.js';
import { preprocess } from '../src/io/image.js';
import { PACKAGE_ROOT } from '../src/platform/index.js';
import { Model } from '../src/runtime/model.js';
import { useGpu } from './support/gpu.js';
import { freePort } from './support/net.js';

const gpu = useGpu();
const DEMO = join(PACKAGE_ROOT, 'weights', 'demo.onnx');

function readmeExample(): string {
  const readme = readFileSync(join(PACKAGE_ROOT, 'README.md'), 'utf8');
  const block = /### As a library in a service[\s\S]*?```js\n([\s\S]*?)```/.exec(readme);
  if (!block) throw new Error('README: no js block under "As a library in a service"');
  return block[1];
}

describe('the README\'s HTTP example', () => {
  it('answers 16 concurrent requests, each as the image explained alone', async () => {
    const port = await freePort();
    const code = readmeExample()
      .replace("from 'gradcam-webgpu'", `from ${JSON.stringify(join(PACKAGE_ROOT, 'src', 'index.ts'))}`)
      .replace("'model.onnx'", JSON.stringify(DEMO))
      .replace('server.listen(8000,', `server.listen(${port},`);
    const file = join(PACKAGE_ROOT, 'test', `.http-example-${process.pid}.mjs`);
    writeFileSync(file, code);
    const { server } = (await import(/* @vite-ignore */ file)) as { server: Server };
    try {
      const images = ['photo.jpg', 'rgb.png', 'grey.png', 'cmyk.jpg'].map((f) => join(PACKAGE_ROOT, 'test', 'fixtures', 'images', f)).filter((f) => {
        try {
          decodeImage(readFileSync(f));
          return true;
        } catch {
          return false;
        }
      });
      const bodies = Array.from({ length: 16 }, (_, i) => readFileSync(images[i % images.length]));
      const answers = await Promise.all(bodies.map((body) => fetch(`http://127.0.0.1:${port}/`, { method: 'POST', body })));
      expect(answers.map((a) => a.status)).toEqual(new Array(16).fill(200));
      const results = (await Promise.all(answers.map((a) => a.json()))) as { class: number; score: number; map: number[] }[];
      const model = Model.fromFile(gpu(), DEMO);
      const explainer = new Explainer(model);
      for (const [i, body] of bodies.entries()) {
        const data = preprocess(decodeImage(body), { resize: 256, crop: 224 });
        const alone = await explainer.explain({ shape: [1, 3, 224, 224], data }, { method: 'gradcam' });
        expect(results[i].class).toBe(alone.classes[0]);
        expect(results[i].score).toBe(alone.scores[0]);
        expect(results[i].map).toEqual(Array.from(alone.normalized.data));
      }
      model.dispose();
      const bad = await fetch(`http://127.0.0.1:${port}/`, { method: 'POST', body: 'not an image' });
      expect(bad.status).toBe(400);
      expect((await bad.text()).split('\n')).toHaveLength(1);
    } finally {
      await new Promise((resolve) => server.close(resolve));
      (await import('node:fs')).rmSync(file);
    }
  });
});
