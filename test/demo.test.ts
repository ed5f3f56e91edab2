// The bundled demo: `gradcam demo` classifies every bundled sample as the class in its file name and
// writes the contact sheet; and on its global-average-pooling head, Grad-CAM equals CAM up to the
// 1/(h*w) of the pooling, which checks the backward pass against the classifier weights directly.
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { main } from '../src/cli/main.js';
import { Explainer } from '../src/explain/explainer.js';
import { readImage } from '../src/io/decode.js';
import { preprocess } from '../src/io/image.js';
import { Model } from '../src/runtime/model.js';
import { WEIGHTS_DIR } from '../src/io/paths.js';
import { useGpu } from './support/gpu.js';

const gpu = useGpu();

describe('demo', () => {
  it('gradcam demo labels every sample correctly and writes the contact sheet', async () => {
    const out = mkdtempSync(join(tmpdir(), 'gradcam-demo-'));
    const lines: string[] = [];
    const log = vi.spyOn(console, 'log').mockImplementation((...a) => void lines.push(a.join(' ')));
    try {
      await main(['demo', '--out', out]);
    } finally {
      log.mockRestore();
    }
    expect(process.exitCode ?? 0).toBe(0);
    const predictions = lines.filter((l) => l.includes(' -> '));
    expect(predictions.length).toBeGreaterThanOrEqual(6);
    for (const line of predictions) {
      const [, truth, predicted] = /^(\w+): (\w+) /.exec(line)!;
      expect(predicted).toBe(truth);
    }
    expect(existsSync(join(out, 'contact-sheet.png'))).toBe(true);
    expect(readFileSync(join(out, 'contact-sheet.png')).subarray(1, 4).toString()).toBe('PNG');
  });

  it('Grad-CAM equals CAM on the global-average-pooling head', async () => {
    const config = JSON.parse(readFileSync(join(WEIGHTS_DIR, 'demo.json'), 'utf8')) as { layer: string; input_size: [number, number] };
    const model = Model.fromFile(gpu(), join(WEIGHTS_DIR, 'demo.onnx'));
    const explainer = new Explainer(model);
    try {
      const [h, w] = config.input_size;
      const data = preprocess(readImage(join(WEIGHTS_DIR, 'samples', 'star.jpg')), { resize: h, crop: [h, w] });
      const input = { shape: [1, 3, h, w], data };
      const gradcam = await explainer.explain(input, { method: 'gradcam', layer: config.layer, classes: [3] });
      const cam = await explainer.explain(input, { method: 'cam', layer: config.layer, classes: [3] });
      const [, , lh, lw] = gradcam.layer.shape;
      let diff = 0;
      let scale = 0;
      cam.map.data.forEach((v, i) => {
        diff = Math.max(diff, Math.abs(gradcam.map.data[i] * lh * lw - v));
        scale = Math.max(scale, Math.abs(v));
      });
      expect(scale).toBeGreaterThan(0);
      expect(diff / scale).toBeLessThan(1e-5);
    } finally {
      explainer.dispose();
      model.dispose();
    }
  });
});
